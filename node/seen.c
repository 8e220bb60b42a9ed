#include "node/seen.h"

#include <assert.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"

/* The hashes live in a ring in insertion order: ring[(head + i) % cap] is
 * the i-th oldest. The index maps a hash to its ring position: slot values
 * are position + 1, 0 marking an empty slot; linear probing, and deletion
 * by backward shift so that no tombstones build up. */
struct esg_seen {
    esg_hash *ring;
    size_t cap, head, n;
    uint32_t *index;
    size_t mask; /* index size - 1; the size is a power of two >= 2 * cap */
    uint8_t key[crypto_shorthash_KEYBYTES];
};

_Static_assert(ESG_SEEN_MAX_CAPACITY < UINT32_MAX, "ring positions fit the index");

static size_t home_of(const esg_seen *s, const esg_hash *h) {
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, h->b, sizeof h->b, s->key);
    uint64_t v;
    memcpy(&v, out, sizeof v);
    return (size_t)v & s->mask;
}

/* The index slot holding `h`, or the empty slot where it would go. */
static size_t find_slot(const esg_seen *s, const esg_hash *h) {
    size_t i = home_of(s, h);
    while (s->index[i] && !esg_hash_eq(&s->ring[s->index[i] - 1], h))
        i = (i + 1) & s->mask;
    return i;
}

/* Removes `h`, which must be in the index. */
static void index_del(esg_seen *s, const esg_hash *h) {
    size_t hole = find_slot(s, h);
    assert(s->index[hole]);
    for (size_t j = (hole + 1) & s->mask; s->index[j]; j = (j + 1) & s->mask) {
        size_t home = home_of(s, &s->ring[s->index[j] - 1]);
        /* Move j into the hole unless its home lies cyclically in
         * (hole, j]: then the hole is not on its probe path. */
        if (((j - home) & s->mask) >= ((j - hole) & s->mask)) {
            s->index[hole] = s->index[j];
            hole = j;
        }
    }
    s->index[hole] = 0;
}

int esg_seen_new(esg_seen **out, size_t capacity) {
    assert(out);
    *out = NULL;
    if (capacity == 0 || capacity > ESG_SEEN_MAX_CAPACITY)
        return ESG_ERR_INVALID_ARGUMENT;
    if (sodium_init() < 0)
        return ESG_ERR_INTERNAL;
    esg_seen *s = calloc(1, sizeof *s);
    if (!s)
        return ESG_ERR_NOMEM;
    size_t size = 2;
    while (size < 2 * capacity)
        size *= 2;
    s->cap = capacity;
    s->mask = size - 1;
    s->ring = malloc(capacity * sizeof *s->ring);
    s->index = calloc(size, sizeof *s->index);
    if (!s->ring || !s->index) {
        esg_seen_free(s);
        return ESG_ERR_NOMEM;
    }
    crypto_shorthash_keygen(s->key);
    *out = s;
    return ESG_OK;
}

void esg_seen_free(esg_seen *s) {
    if (!s)
        return;
    free(s->ring);
    free(s->index);
    free(s);
}

bool esg_seen_has(const esg_seen *s, const esg_hash *h) {
    assert(s && h);
    return s->index[find_slot(s, h)] != 0;
}

bool esg_seen_add(esg_seen *s, const esg_hash *h) {
    assert(s && h);
    if (esg_seen_has(s, h))
        return false;
    size_t pos;
    if (s->n == s->cap) {
        /* Full: the oldest entry's ring position takes the new hash. */
        pos = s->head;
        index_del(s, &s->ring[pos]);
        s->head = (s->head + 1) % s->cap;
    } else {
        pos = (s->head + s->n) % s->cap;
        s->n++;
    }
    s->ring[pos] = *h;
    /* Looked up after the deletion: backward shift may have moved slots. */
    size_t slot = find_slot(s, h);
    assert(!s->index[slot]);
    s->index[slot] = (uint32_t)pos + 1;
    return true;
}

size_t esg_seen_count(const esg_seen *s) {
    assert(s);
    return s->n;
}

size_t esg_seen_capacity(const esg_seen *s) {
    assert(s);
    return s->cap;
}
