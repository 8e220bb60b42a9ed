/* A hash map from 32-byte keys (tx ids, public keys: already uniformly
 * distributed) to pointers: open addressing with linear probing and
 * backward-shift deletion, so there are no tombstones to grow without
 * bound. Not thread-safe: the owner locks. */
#ifndef ESG_NODE_KEYMAP_H
#define ESG_NODE_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct esg_keymap_slot {
    uint8_t key[32];
    void *val; /* NULL marks an empty slot: values must not be NULL */
} esg_keymap_slot;

typedef struct esg_keymap {
    esg_keymap_slot *slots;
    size_t cap; /* power of two */
    size_t n;
} esg_keymap;

void esg_keymap_init(esg_keymap *m);
void esg_keymap_release(esg_keymap *m);
/* Returns the value for key, or NULL. */
void *esg_keymap_get(const esg_keymap *m, const uint8_t key[32]);
/* Inserts or replaces. val must not be NULL. Returns 0 or ESG_ERR_NOMEM. */
int esg_keymap_put(esg_keymap *m, const uint8_t key[32], void *val);
/* Removes key if present; returns its value or NULL. */
void *esg_keymap_del(esg_keymap *m, const uint8_t key[32]);

#endif
