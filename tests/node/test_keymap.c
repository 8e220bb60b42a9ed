/* node/keymap.c: the open-addressing map from 32-byte keys to pointers.
 * Randomized operations are checked against a plain array, with keys made
 * to collide (same first 8 bytes, the part the map hashes on) so probe runs
 * are long and backward-shift deletion has to move entries across them and
 * across the end of the table. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "node/keymap.h"

/* xorshift64*: a fixed seed makes every run the same. */
static uint64_t rng_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void key_fill(uint8_t key[32], uint64_t *rng) {
    for (size_t i = 0; i < 32; i += 8) {
        uint64_t v = rng_next(rng);
        memcpy(key + i, &v, 8);
    }
}

/* Values are distinct non-NULL pointers: addresses inside this array. */
static char vals[1 << 16];

START_TEST(test_empty_map) {
    esg_keymap m;
    esg_keymap_init(&m);
    uint8_t k[32] = {1};
    ck_assert_ptr_null(esg_keymap_get(&m, k));
    ck_assert_ptr_null(esg_keymap_del(&m, k));
    ck_assert_uint_eq(m.n, 0);
    esg_keymap_release(&m);
    esg_keymap_release(&m); /* releasing twice is harmless */
}
END_TEST

START_TEST(test_put_get_replace_del) {
    esg_keymap m;
    esg_keymap_init(&m);
    uint8_t a[32], b[32];
    memset(a, 0xaa, 32);
    memset(b, 0xaa, 32);
    b[31] = 0xab; /* same slot as a, different key */
    ck_assert_int_eq(esg_keymap_put(&m, a, &vals[1]), ESG_OK);
    ck_assert_int_eq(esg_keymap_put(&m, b, &vals[2]), ESG_OK);
    ck_assert_uint_eq(m.n, 2);
    ck_assert_ptr_eq(esg_keymap_get(&m, a), &vals[1]);
    ck_assert_ptr_eq(esg_keymap_get(&m, b), &vals[2]);

    /* Replace keeps one entry and returns the new value. */
    ck_assert_int_eq(esg_keymap_put(&m, a, &vals[3]), ESG_OK);
    ck_assert_uint_eq(m.n, 2);
    ck_assert_ptr_eq(esg_keymap_get(&m, a), &vals[3]);

    /* Deleting the head of the probe run keeps the rest reachable. */
    ck_assert_ptr_eq(esg_keymap_del(&m, a), &vals[3]);
    ck_assert_uint_eq(m.n, 1);
    ck_assert_ptr_null(esg_keymap_get(&m, a));
    ck_assert_ptr_eq(esg_keymap_get(&m, b), &vals[2]);
    ck_assert_ptr_null(esg_keymap_del(&m, a));
    ck_assert_uint_eq(m.n, 1);
    ck_assert_ptr_eq(esg_keymap_del(&m, b), &vals[2]);
    ck_assert_uint_eq(m.n, 0);
    ck_assert_ptr_null(esg_keymap_get(&m, b));
    esg_keymap_release(&m);
}
END_TEST

START_TEST(test_growth) {
    enum { N = 20000 }; /* 64 -> 65536 slots: ten resizes */
    esg_keymap m;
    esg_keymap_init(&m);
    uint8_t(*keys)[32] = malloc(N * sizeof *keys);
    ck_assert_ptr_nonnull(keys);
    uint64_t rng = 42;
    for (size_t i = 0; i < N; i++) {
        key_fill(keys[i], &rng);
        /* (plain ifs: a ck_assert per key would dominate the run time) */
        if (esg_keymap_put(&m, keys[i], &vals[i]) != ESG_OK || m.n != i + 1)
            ck_abort_msg("put %zu failed", i);
        /* The load factor stays at most 1/2. */
        if (m.n * 2 > m.cap)
            ck_abort_msg("%zu entries in %zu slots", m.n, m.cap);
    }
    ck_assert_uint_eq(m.cap, 65536);
    for (size_t i = 0; i < N; i++)
        if (esg_keymap_get(&m, keys[i]) != &vals[i])
            ck_abort_msg("key %zu lost", i);
    /* Delete every other key: the rest stay reachable. */
    for (size_t i = 0; i < N; i += 2)
        if (esg_keymap_del(&m, keys[i]) != &vals[i])
            ck_abort_msg("del %zu returned the wrong value", i);
    ck_assert_uint_eq(m.n, N / 2);
    for (size_t i = 0; i < N; i++)
        if (esg_keymap_get(&m, keys[i]) != (i % 2 ? &vals[i] : NULL))
            ck_abort_msg("key %zu answers wrong after deletions", i);
    free(keys);
    esg_keymap_release(&m);
    ck_assert_uint_eq(m.n, 0);
    ck_assert_ptr_null(m.slots);
}
END_TEST

/* Randomized put / replace / del / get against a reference array. Keys
 * share their first 8 bytes in a few groups (so they collide however large
 * the table is) and the groups' home slots sit at the end of the table, so
 * probe runs wrap around slot 0. */
static void random_ops(uint64_t seed, size_t universe, size_t groups, size_t ops,
                       size_t check_every) {
    esg_keymap m;
    esg_keymap_init(&m);
    uint8_t(*keys)[32] = malloc(universe * sizeof *keys);
    void **ref = calloc(universe, sizeof *ref);
    ck_assert_ptr_nonnull(keys);
    ck_assert_ptr_nonnull(ref);
    uint64_t rng = seed;
    for (size_t i = 0; i < universe; i++) {
        key_fill(keys[i], &rng);
        /* 0xff..ff - g: the last slots of any power-of-two table. groups
         * 0: keep the random prefix. */
        if (groups) {
            uint64_t prefix = UINT64_MAX - (uint64_t)(i % groups);
            memcpy(keys[i], &prefix, 8);
        }
    }
    size_t live = 0;
    for (size_t op = 0; op < ops; op++) {
        size_t i = (size_t)(rng_next(&rng) % universe);
        unsigned what = (unsigned)(rng_next(&rng) % 3);
        if (what == 0 || what == 1) {
            void *v = &vals[rng_next(&rng) % sizeof vals];
            if (esg_keymap_put(&m, keys[i], v) != ESG_OK)
                ck_abort_msg("op %zu: put failed", op);
            if (!ref[i])
                live++;
            ref[i] = v;
        } else {
            if (esg_keymap_del(&m, keys[i]) != ref[i])
                ck_abort_msg("op %zu: del of key %zu returned the wrong value", op, i);
            if (ref[i])
                live--;
            ref[i] = NULL;
        }
        if (m.n != live)
            ck_abort_msg("op %zu: %zu entries, expected %zu", op, m.n, live);
        /* Every key, present or not, answers as the reference says. */
        if (op % check_every == 0)
            for (size_t k = 0; k < universe; k++)
                if (esg_keymap_get(&m, keys[k]) != ref[k]) /* (ck_assert is slow) */
                    ck_abort_msg("op %zu: key %zu answers wrong", op, k);
    }
    for (size_t k = 0; k < universe; k++)
        if (esg_keymap_get(&m, keys[k]) != ref[k])
            ck_abort_msg("key %zu answers wrong at the end", k);
    /* Empty it completely: nothing is left behind. */
    for (size_t k = 0; k < universe; k++)
        if (esg_keymap_del(&m, keys[k]) != ref[k])
            ck_abort_msg("final del of key %zu returned the wrong value", k);
    ck_assert_uint_eq(m.n, 0);
    for (size_t s = 0; s < m.cap; s++)
        if (m.slots[s].val)
            ck_abort_msg("slot %zu still holds a value", s);
    free(keys);
    free(ref);
    esg_keymap_release(&m);
}

START_TEST(test_random_colliding_small) {
    /* Table stays at 64 slots: runs of up to 31 entries wrap slot 63 -> 0. */
    random_ops(7, 31, 3, 20000, 1);
}
END_TEST

START_TEST(test_random_colliding_large) {
    /* Grows through several sizes while deleting. */
    random_ops(99, 1000, 8, 20000, 500);
}
END_TEST

START_TEST(test_random_uniform) {
    random_ops(12345, 5000, 0, 40000, 1000);
}
END_TEST

Suite *suite_keymap(void) {
    Suite *s = suite_create("keymap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_empty_map);
    tcase_add_test(tc, test_put_get_replace_del);
    tcase_add_test(tc, test_growth);
    tcase_add_test(tc, test_random_colliding_small);
    tcase_add_test(tc, test_random_colliding_large);
    tcase_add_test(tc, test_random_uniform);
    suite_add_tcase(s, tc);
    return s;
}
