#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/merkle.h"

/* Distinct, reproducible stand-ins for tx ids. */
static void make_items(esg_hash *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint64_t v = i;
        items[i] = esg_sha256(&v, sizeof v);
    }
}

/* The definition, written out. */
static esg_hash L(const esg_hash *items, size_t i) {
    return esg_hash_tagged(ESG_TAG_MERKLE_LEAF, items[i].b, 32);
}

static esg_hash N(esg_hash l, esg_hash r) {
    return esg_hash_tagged2(ESG_TAG_MERKLE_NODE, l.b, 32, r.b, 32);
}

static void assert_root(const esg_hash *items, size_t n, esg_hash want) {
    esg_hash got = esg_merkle_root(items, n);
    ck_assert_msg(esg_hash_eq(&got, &want), "root of %zu items", n);
}

START_TEST(roots_match_definition) {
    esg_hash d[8];
    make_items(d, 8);
    esg_hash zero;
    memset(&zero, 0, sizeof zero);
    assert_root(NULL, 0, zero);
    assert_root(d, 0, zero);
    assert_root(d, 1, L(d, 0));
    assert_root(d, 2, N(L(d, 0), L(d, 1)));
    assert_root(d, 3, N(N(L(d, 0), L(d, 1)), L(d, 2)));
    assert_root(d, 5, N(N(N(L(d, 0), L(d, 1)), N(L(d, 2), L(d, 3))), L(d, 4)));
    assert_root(d, 8, N(N(N(L(d, 0), L(d, 1)), N(L(d, 2), L(d, 3))),
                        N(N(L(d, 4), L(d, 5)), N(L(d, 6), L(d, 7)))));
    /* The leaf hash is tagged: the root of one item is not the item. */
    esg_hash one = esg_merkle_root(d, 1);
    ck_assert(!esg_hash_eq(&one, &d[0]));
}
END_TEST

/* A second, independent construction: hash level by level, pairing
 * neighbours and carrying an odd last node up unchanged. For RFC 6962
 * trees this gives the same root for every n. */
static esg_hash levelwise_root(const esg_hash *items, size_t n) {
    esg_hash *lv = malloc(n * sizeof *lv);
    ck_assert_ptr_nonnull(lv);
    for (size_t i = 0; i < n; i++)
        lv[i] = L(items, i);
    while (n > 1) {
        size_t m = 0;
        for (size_t i = 0; i + 1 < n; i += 2)
            lv[m++] = N(lv[i], lv[i + 1]);
        if (n % 2)
            lv[m++] = lv[n - 1];
        n = m;
    }
    esg_hash r = lv[0];
    free(lv);
    return r;
}

START_TEST(roots_match_levelwise_construction) {
    esg_hash d[70];
    make_items(d, 70);
    for (size_t n = 1; n <= 70; n++)
        assert_root(d, n, levelwise_root(d, n));
}
END_TEST

/* The path shape RFC 6962 gives leaf `index` of a `total`-leaf tree:
 * for each sibling, leaf to root, whether it lies on the left. Returns the
 * path length. */
static size_t path_shape(uint64_t index, uint64_t total, bool left[64]) {
    bool top_down[64];
    size_t depth = 0;
    uint64_t lo = 0, len = total;
    while (len > 1) {
        uint64_t k = 1;
        while (k < len - k)
            k <<= 1;
        if (index - lo < k) {
            top_down[depth++] = false;
            len = k;
        } else {
            top_down[depth++] = true;
            lo += k;
            len -= k;
        }
    }
    for (size_t i = 0; i < depth; i++)
        left[i] = top_down[depth - 1 - i];
    return depth;
}

static bool same_shape(uint64_t index, uint64_t t1, uint64_t t2) {
    bool a[64], b[64];
    if (index >= t1 || index >= t2)
        return false;
    size_t la = path_shape(index, t1, a), lb = path_shape(index, t2, b);
    return la == lb && memcmp(a, b, la * sizeof a[0]) == 0;
}

START_TEST(proofs_verify_and_tampering_fails) {
    esg_hash d[33];
    make_items(d, 33);
    for (size_t n = 1; n <= 33; n++) {
        esg_hash root = esg_merkle_root(d, n);
        for (size_t i = 0; i < n; i++) {
            esg_merkle_proof p;
            ck_assert_int_eq(esg_merkle_prove(&p, d, n, i), ESG_OK);
            ck_assert_uint_eq(p.index, i);
            ck_assert_uint_eq(p.total, n);
            bool shape[64];
            ck_assert_uint_eq(p.n_path, path_shape(i, n, shape));
            ck_assert_msg(esg_merkle_verify(&root, &d[i], &p), "n=%zu i=%zu", n, i);

            /* Any byte of the item, the root or a path element. */
            for (size_t b = 0; b < 32; b++) {
                esg_hash x = d[i];
                x.b[b] ^= 0x01;
                ck_assert(!esg_merkle_verify(&root, &x, &p));
                esg_hash r = root;
                r.b[b] ^= 0x80;
                ck_assert(!esg_merkle_verify(&r, &d[i], &p));
            }
            for (size_t k = 0; k < p.n_path; k++)
                for (size_t b = 0; b < 32; b++) {
                    esg_merkle_proof q = p;
                    q.path[k].b[b] ^= 0x10;
                    ck_assert_msg(!esg_merkle_verify(&root, &d[i], &q),
                                  "n=%zu i=%zu path[%zu][%zu]", n, i, k, b);
                }
            /* Another item of the same tree, with this item's proof. */
            if (n > 1)
                ck_assert(!esg_merkle_verify(&root, &d[(i + 1) % n], &p));

            /* Any other index. */
            for (uint64_t j = 0; j < n + 3; j++) {
                if (j == i)
                    continue;
                esg_merkle_proof q = p;
                q.index = j;
                ck_assert_msg(!esg_merkle_verify(&root, &d[i], &q),
                              "n=%zu i=%zu as index %llu", n, i, (unsigned long long)j);
            }
            esg_merkle_proof q = p;
            q.index = UINT64_MAX;
            ck_assert(!esg_merkle_verify(&root, &d[i], &q));

            /* Any other total fails unless it gives this index the very
             * same path shape (the documented limit of what a proof binds;
             * see merkle.h). */
            for (uint64_t t = 0; t < 70; t++) {
                if (t == n)
                    continue;
                q = p;
                q.total = t;
                ck_assert_msg(esg_merkle_verify(&root, &d[i], &q) == same_shape(i, n, t),
                              "n=%zu i=%zu as total %llu", n, i, (unsigned long long)t);
            }
            q = p;
            q.total = UINT64_MAX;
            ck_assert(!esg_merkle_verify(&root, &d[i], &q));

            /* Paths one too long, one too short, or over the maximum. */
            q = p;
            q.path[q.n_path] = root;
            q.n_path++;
            ck_assert(!esg_merkle_verify(&root, &d[i], &q));
            if (p.n_path > 0) {
                q = p;
                q.n_path--;
                ck_assert(!esg_merkle_verify(&root, &d[i], &q));
            }
            q = p;
            q.n_path = ESG_MERKLE_MAX_DEPTH + 1;
            ck_assert(!esg_merkle_verify(&root, &d[i], &q));
            q.n_path = SIZE_MAX;
            ck_assert(!esg_merkle_verify(&root, &d[i], &q));
        }
    }
}
END_TEST

/* What a proof does not bind, pinned down: index 0 has three right
 * siblings in trees of 5 to 8 leaves. */
START_TEST(total_bound_only_by_path_shape) {
    esg_hash d[8];
    make_items(d, 8);
    esg_hash root = esg_merkle_root(d, 5);
    esg_merkle_proof p;
    ck_assert_int_eq(esg_merkle_prove(&p, d, 5, 0), ESG_OK);
    ck_assert_uint_eq(p.n_path, 3);
    for (uint64_t t = 5; t <= 8; t++) {
        p.total = t;
        ck_assert(esg_merkle_verify(&root, &d[0], &p));
    }
    p.total = 4; /* a path of two */
    ck_assert(!esg_merkle_verify(&root, &d[0], &p));
    p.total = 9; /* a path of four */
    ck_assert(!esg_merkle_verify(&root, &d[0], &p));
    /* The last leaf is a different story: its shape names the total. */
    ck_assert_int_eq(esg_merkle_prove(&p, d, 5, 4), ESG_OK);
    ck_assert_uint_eq(p.n_path, 1);
    p.total = 6;
    ck_assert(!esg_merkle_verify(&root, &d[4], &p));
}
END_TEST

START_TEST(prove_rejects_out_of_range_index) {
    esg_hash d[5];
    make_items(d, 5);
    esg_merkle_proof p;
    ck_assert_int_eq(esg_merkle_prove(&p, d, 5, 5), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_merkle_prove(&p, d, 5, SIZE_MAX), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_merkle_prove(&p, NULL, 0, 0), ESG_ERR_INVALID_ARGUMENT);
    /* A proof claiming an empty tree or an index past the end. */
    ck_assert_int_eq(esg_merkle_prove(&p, d, 1, 0), ESG_OK);
    esg_hash root = esg_merkle_root(d, 1);
    ck_assert_uint_eq(p.n_path, 0);
    ck_assert(esg_merkle_verify(&root, &d[0], &p));
    p.total = 0;
    ck_assert(!esg_merkle_verify(&root, &d[0], &p));
    p.total = 1;
    p.index = 1;
    ck_assert(!esg_merkle_verify(&root, &d[0], &p));
}
END_TEST

/* A block-sized tree: no deep recursion, proofs at the edges and middle. */
START_TEST(large_tree) {
    const size_t n = 100003;
    esg_hash *d = malloc(n * sizeof *d);
    ck_assert_ptr_nonnull(d);
    make_items(d, n);
    esg_hash root = esg_merkle_root(d, n);
    ck_assert(esg_hash_eq(&root, &(esg_hash){0}) == false);
    const size_t idx[] = {0, 1, 65535, 65536, n / 2, n - 2, n - 1};
    for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
        esg_merkle_proof p;
        ck_assert_int_eq(esg_merkle_prove(&p, d, n, idx[k]), ESG_OK);
        ck_assert_uint_le(p.n_path, 17);
        ck_assert(esg_merkle_verify(&root, &d[idx[k]], &p));
    }
    free(d);
}
END_TEST

Suite *suite_merkle(void) {
    Suite *s = suite_create("merkle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, roots_match_definition);
    tcase_add_test(tc, roots_match_levelwise_construction);
    tcase_add_test(tc, proofs_verify_and_tampering_fails);
    tcase_add_test(tc, total_bound_only_by_path_shape);
    tcase_add_test(tc, prove_rejects_out_of_range_index);
    tcase_add_test(tc, large_tree);
    suite_add_tcase(s, tc);
    return s;
}
