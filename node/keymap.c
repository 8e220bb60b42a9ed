#include "node/keymap.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"

static size_t slot_of(const esg_keymap *m, const uint8_t key[32]) {
    uint64_t h;
    memcpy(&h, key, 8);
    return (size_t)h & (m->cap - 1);
}

void esg_keymap_init(esg_keymap *m) {
    memset(m, 0, sizeof *m);
}

void esg_keymap_release(esg_keymap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

void *esg_keymap_get(const esg_keymap *m, const uint8_t key[32]) {
    if (!m->cap)
        return NULL;
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].val)
            return NULL;
        if (memcmp(m->slots[i].key, key, 32) == 0)
            return m->slots[i].val;
    }
}

static int grow(esg_keymap *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    esg_keymap_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) {
        m->slots = old;
        return ESG_ERR_NOMEM;
    }
    m->cap = cap;
    m->n = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].val)
            esg_keymap_put(m, old[i].key, old[i].val);
    free(old);
    return ESG_OK;
}

int esg_keymap_put(esg_keymap *m, const uint8_t key[32], void *val) {
    /* Keep the load factor under 1/2 so probes stay short. */
    if ((m->n + 1) * 2 > m->cap && grow(m))
        return ESG_ERR_NOMEM;
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].val) {
            memcpy(m->slots[i].key, key, 32);
            m->slots[i].val = val;
            m->n++;
            return ESG_OK;
        }
        if (memcmp(m->slots[i].key, key, 32) == 0) {
            m->slots[i].val = val;
            return ESG_OK;
        }
    }
}

void *esg_keymap_del(esg_keymap *m, const uint8_t key[32]) {
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1, i = slot_of(m, key);
    while (m->slots[i].val && memcmp(m->slots[i].key, key, 32) != 0)
        i = (i + 1) & mask;
    if (!m->slots[i].val)
        return NULL;
    void *val = m->slots[i].val;
    /* Backward-shift: move later members of the probe run into the hole
     * when their home slot is not between the hole and their position. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->slots[j].val; j = (j + 1) & mask) {
        size_t home = slot_of(m, m->slots[j].key);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].val = NULL;
    m->n--;
    return val;
}
