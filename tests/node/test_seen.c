/* node/seen.c: the gossip seen cache. Dedupe, eviction in insertion order,
 * the capacity bound, and long random runs checked against a plain model
 * (a ring searched linearly), with hashes that collide in the bytes a
 * naive table would address by. Under ASan the long runs also show that
 * nothing is read or written out of bounds and nothing leaks. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "node/seen.h"

static esg_hash hash_of(uint64_t i) {
    esg_hash h;
    memset(&h, 0, sizeof h);
    memcpy(h.b + 24, &i, sizeof i); /* first 24 bytes equal for all */
    h.b[0] = 0x5e;
    return h;
}

static esg_seen *seen_new(size_t cap) {
    esg_seen *s = NULL;
    ck_assert_int_eq(esg_seen_new(&s, cap), ESG_OK);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(esg_seen_capacity(s), cap);
    ck_assert_uint_eq(esg_seen_count(s), 0);
    return s;
}

START_TEST(test_bad_capacity) {
    esg_seen *s = (esg_seen *)1;
    ck_assert_int_eq(esg_seen_new(&s, 0), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(s);
    s = (esg_seen *)1;
    ck_assert_int_eq(esg_seen_new(&s, ESG_SEEN_MAX_CAPACITY + 1), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(s);
    esg_seen_free(NULL); /* a no-op */
}
END_TEST

START_TEST(test_dedupe) {
    esg_seen *s = seen_new(16);
    esg_hash a = hash_of(1), b = hash_of(2), zero;
    memset(&zero, 0, sizeof zero);
    ck_assert(!esg_seen_has(s, &a));
    ck_assert(esg_seen_add(s, &a));
    ck_assert(esg_seen_has(s, &a));
    ck_assert(!esg_seen_add(s, &a));
    ck_assert(!esg_seen_add(s, &a));
    ck_assert_uint_eq(esg_seen_count(s), 1);
    ck_assert(!esg_seen_has(s, &b));
    ck_assert(esg_seen_add(s, &b));
    ck_assert(!esg_seen_add(s, &b));
    /* The all-zero hash is a hash like any other. */
    ck_assert(!esg_seen_has(s, &zero));
    ck_assert(esg_seen_add(s, &zero));
    ck_assert(!esg_seen_add(s, &zero));
    ck_assert_uint_eq(esg_seen_count(s), 3);
    esg_seen_free(s);
}
END_TEST

START_TEST(test_eviction_order) {
    esg_seen *s = seen_new(3);
    esg_hash h[6];
    for (int i = 0; i < 6; i++)
        h[i] = hash_of((uint64_t)i + 100);
    ck_assert(esg_seen_add(s, &h[0]));
    ck_assert(esg_seen_add(s, &h[1]));
    ck_assert(esg_seen_add(s, &h[2]));
    ck_assert_uint_eq(esg_seen_count(s), 3);

    /* Seeing h0 again does not make it younger: it is still first out. */
    ck_assert(!esg_seen_add(s, &h[0]));
    ck_assert(esg_seen_add(s, &h[3]));
    ck_assert_uint_eq(esg_seen_count(s), 3);
    ck_assert(!esg_seen_has(s, &h[0]));
    ck_assert(esg_seen_has(s, &h[1]) && esg_seen_has(s, &h[2]) && esg_seen_has(s, &h[3]));

    ck_assert(esg_seen_add(s, &h[4]));
    ck_assert(!esg_seen_has(s, &h[1]));
    ck_assert(esg_seen_has(s, &h[2]) && esg_seen_has(s, &h[3]) && esg_seen_has(s, &h[4]));

    /* A forgotten hash is new again, and pushes out the oldest. */
    ck_assert(esg_seen_add(s, &h[0]));
    ck_assert(!esg_seen_has(s, &h[2]));
    ck_assert(esg_seen_has(s, &h[3]) && esg_seen_has(s, &h[4]) && esg_seen_has(s, &h[0]));
    ck_assert_uint_eq(esg_seen_count(s), 3);
    esg_seen_free(s);
}
END_TEST

START_TEST(test_capacity_one) {
    esg_seen *s = seen_new(1);
    esg_hash a = hash_of(7), b = hash_of(8);
    ck_assert(esg_seen_add(s, &a));
    ck_assert(!esg_seen_add(s, &a));
    ck_assert(esg_seen_add(s, &b));
    ck_assert(!esg_seen_has(s, &a));
    ck_assert(esg_seen_has(s, &b));
    ck_assert(esg_seen_add(s, &a));
    ck_assert(!esg_seen_has(s, &b));
    ck_assert_uint_eq(esg_seen_count(s), 1);
    esg_seen_free(s);
}
END_TEST

/* A long stream of distinct hashes through a small cache: the count stops
 * at the capacity, exactly the last `cap` hashes are held, and (the cache
 * allocates only in esg_seen_new, and add has no failure to report) the
 * run neither grows nor leaks -- ASan checks every access of it. */
START_TEST(test_many_insertions_bounded) {
    enum { CAP = 1000, N = 300000 };
    esg_seen *s = seen_new(CAP);
    /* check's assertions are slow in a hot loop: count failures instead. */
    size_t bad = 0;
    for (uint64_t i = 0; i < N; i++) {
        esg_hash h = hash_of(i);
        bad += !esg_seen_add(s, &h);
        bad += esg_seen_count(s) != (i + 1 < CAP ? i + 1 : CAP);
    }
    for (uint64_t i = N - 3 * CAP; i < N; i++) {
        esg_hash h = hash_of(i);
        bad += esg_seen_has(s, &h) != (i >= N - CAP);
    }
    ck_assert_uint_eq(bad, 0);
    esg_seen_free(s);
}
END_TEST

/* xorshift64*: a fixed seed makes every run the same. */
static uint64_t rng_next(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(2685821657736338717);
}

/* Random adds and lookups from a small key space, so that duplicates,
 * evictions and re-additions interleave, checked step by step against a
 * model ring. */
START_TEST(test_random_against_model) {
    static const size_t caps[] = {1, 2, 3, 7, 64, 100};
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        size_t cap = caps[c];
        esg_seen *s = seen_new(cap);
        uint64_t *model = calloc(cap, sizeof *model);
        ck_assert_ptr_nonnull(model);
        size_t head = 0, n = 0, bad = 0;
        uint64_t space = 3 * cap + 2;
        for (int step = 0; step < 40000; step++) {
            uint64_t k = rng_next(&rng) % space;
            esg_hash h = hash_of(k);
            bool in_model = false;
            for (size_t i = 0; i < n; i++)
                if (model[(head + i) % cap] == k)
                    in_model = true;
            if (rng_next(&rng) % 4 == 0) {
                bad += esg_seen_has(s, &h) != in_model;
                continue;
            }
            bad += esg_seen_add(s, &h) != !in_model;
            if (!in_model) {
                if (n == cap) {
                    model[head] = k;
                    head = (head + 1) % cap;
                } else {
                    model[(head + n) % cap] = k;
                    n++;
                }
            }
            bad += esg_seen_count(s) != n;
        }
        ck_assert_msg(bad == 0, "capacity %zu: %zu mismatches", cap, bad);
        /* Everything the model holds is there, nothing else of the space. */
        for (uint64_t k = 0; k < space; k++) {
            bool in_model = false;
            for (size_t i = 0; i < n; i++)
                if (model[(head + i) % cap] == k)
                    in_model = true;
            esg_hash h = hash_of(k);
            ck_assert(esg_seen_has(s, &h) == in_model);
        }
        free(model);
        esg_seen_free(s);
    }
}
END_TEST

Suite *suite_seen(void) {
    Suite *s = suite_create("seen");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bad_capacity);
    tcase_add_test(tc, test_dedupe);
    tcase_add_test(tc, test_eviction_order);
    tcase_add_test(tc, test_capacity_one);
    tcase_add_test(tc, test_many_insertions_bounded);
    tcase_add_test(tc, test_random_against_model);
    suite_add_tcase(s, tc);
    return s;
}
