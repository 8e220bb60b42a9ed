/* The state tree against a from-scratch reference of its definition (smt.h),
 * on real LMDB environments. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/smt.h"
#include "testutil.h"

/* ------------------------------------------------------------ fixtures */

typedef struct tenv {
    char dir[256];
    MDB_env *env;
    MDB_dbi leaves, nodes;
} tenv;

static void tenv_open_size(tenv *t, size_t mapsize) {
    ck_assert_int_eq(mdb_env_create(&t->env), 0);
    ck_assert_int_eq(mdb_env_set_maxdbs(t->env, 2), 0);
    ck_assert_int_eq(mdb_env_set_mapsize(t->env, mapsize), 0);
    ck_assert_int_eq(mdb_env_open(t->env, t->dir, MDB_NOSYNC, 0600), 0);
    MDB_txn *txn;
    ck_assert_int_eq(mdb_txn_begin(t->env, NULL, 0, &txn), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "smt_leaves", MDB_CREATE, &t->leaves), 0);
    ck_assert_int_eq(mdb_dbi_open(txn, "smt_nodes", MDB_CREATE, &t->nodes), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
}

static void tenv_init(tenv *t) {
    tu_tmpdir(t->dir, sizeof t->dir);
    tenv_open_size(t, (size_t)256 << 20);
}

static void tenv_close(tenv *t) {
    mdb_env_close(t->env);
    t->env = NULL;
}

static void tenv_release(tenv *t) {
    tenv_close(t);
    tu_rmtree(t->dir);
}

static MDB_txn *wtxn(tenv *t) {
    MDB_txn *txn;
    ck_assert_int_eq(mdb_txn_begin(t->env, NULL, 0, &txn), 0);
    return txn;
}

static MDB_txn *rtxn(tenv *t) {
    MDB_txn *txn;
    ck_assert_int_eq(mdb_txn_begin(t->env, NULL, MDB_RDONLY, &txn), 0);
    return txn;
}

static size_t db_entries(tenv *t, MDB_dbi dbi) {
    MDB_txn *txn = rtxn(t);
    MDB_stat st;
    ck_assert_int_eq(mdb_stat(txn, dbi, &st), 0);
    mdb_txn_abort(txn);
    return st.ms_entries;
}

/* Applies a batch in its own committed write transaction. */
static esg_hash apply_commit(tenv *t, esg_smt_change *ch, size_t n) {
    MDB_txn *txn = wtxn(t);
    esg_hash root;
    ck_assert_int_eq(esg_smt_apply(txn, t->leaves, t->nodes, ch, n, &root), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    return root;
}

static esg_hash current_root(tenv *t) {
    MDB_txn *txn = rtxn(t);
    esg_hash root;
    ck_assert_int_eq(esg_smt_root(txn, t->leaves, t->nodes, &root), 0);
    mdb_txn_abort(txn);
    return root;
}

/* Deterministic pseudo-random bytes (splitmix64). */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static esg_hash rnd_hash(uint64_t *s) {
    esg_hash h;
    for (int i = 0; i < 4; i++) {
        uint64_t x = rng_next(s);
        memcpy(h.b + 8 * i, &x, 8);
    }
    return h;
}

/* ------------------------------------------------- reference definition */

/* The model: a sorted set of (key, value hash). */
typedef struct entry {
    esg_hash k, vh;
} entry;

typedef struct model {
    entry *e;
    size_t n;
} model;

static size_t model_find(const model *m, const esg_hash *k, bool *found) {
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(m->e[mid].k.b, k->b, 32);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* A change tagged with its position, so that qsort can order equal keys
 * by arrival (a different way to "last wins" than smt.c's stable sort). */
typedef struct tagged_change {
    esg_smt_change c;
    size_t idx;
} tagged_change;

static int tagged_cmp(const void *a, const void *b) {
    const tagged_change *x = a, *y = b;
    int c = memcmp(x->c.key.b, y->c.key.b, 32);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Applies a batch to the model by the definition: the last change of each
 * key wins; merged in one pass. */
static void model_apply_batch(model *m, const esg_smt_change *ch, size_t n) {
    tagged_change *tc = malloc((n ? n : 1) * sizeof *tc);
    ck_assert_ptr_nonnull(tc);
    for (size_t i = 0; i < n; i++) {
        tc[i].c = ch[i];
        tc[i].idx = i;
    }
    qsort(tc, n, sizeof *tc, tagged_cmp);
    entry *out = malloc((m->n + n + 1) * sizeof *out);
    ck_assert_ptr_nonnull(out);
    size_t i = 0, j = 0, o = 0;
    while (i < m->n || j < n) {
        if (j < n && j + 1 < n && memcmp(tc[j].c.key.b, tc[j + 1].c.key.b, 32) == 0) {
            j++; /* an earlier change of the same key: overridden */
            continue;
        }
        int c = i == m->n ? 1 : j == n ? -1 : memcmp(m->e[i].k.b, tc[j].c.key.b, 32);
        if (c < 0) {
            out[o++] = m->e[i++];
            continue;
        }
        if (c == 0)
            i++;
        if (!tc[j].c.del) {
            out[o].k = tc[j].c.key;
            out[o].vh = tc[j].c.value_hash;
            o++;
        }
        j++;
    }
    free(m->e);
    m->e = out;
    m->n = o;
    free(tc);
}

static void model_apply(model *m, const esg_smt_change *c) {
    model_apply_batch(m, c, 1);
}

static bool model_get(const model *m, const esg_hash *k, esg_hash *vh) {
    bool found;
    size_t i = model_find(m, k, &found);
    if (found && vh)
        *vh = m->e[i].vh;
    return found;
}

static unsigned bit_of(const esg_hash *k, unsigned i) {
    return (k->b[i / 8] >> (7 - i % 8)) & 1u;
}

/* Root of the sorted entries [lo, hi), all sharing their first d bits, by
 * the definition; *internal counts the subtrees holding >= 2 leaves. */
static esg_hash ref_root_rec(const entry *e, size_t lo, size_t hi, unsigned d,
                             size_t *internal) {
    esg_hash zero = {{0}};
    if (hi == lo)
        return zero;
    if (hi - lo == 1)
        return esg_hash_tagged2(ESG_TAG_MERKLE_LEAF, e[lo].k.b, 32, e[lo].vh.b, 32);
    ck_assert_uint_lt(d, 256);
    (*internal)++;
    size_t mid = lo;
    while (mid < hi && !bit_of(&e[mid].k, d))
        mid++;
    esg_hash l = ref_root_rec(e, lo, mid, d + 1, internal);
    esg_hash r = ref_root_rec(e, mid, hi, d + 1, internal);
    return esg_hash_tagged2(ESG_TAG_MERKLE_NODE, l.b, 32, r.b, 32);
}

static esg_hash ref_root(const model *m, size_t *internal) {
    size_t dummy = 0;
    return ref_root_rec(m->e, 0, m->n, 0, internal ? internal : &dummy);
}

/* The tree in `t` matches the model: root, leaves and exactly one cached
 * node per subtree holding >= 2 leaves (none stale). */
static void check_matches(tenv *t, const model *m, const esg_hash *root) {
    size_t internal = 0;
    esg_hash want = ref_root(m, &internal);
    ck_assert(esg_hash_eq(root, &want));
    esg_hash cur = current_root(t);
    ck_assert(esg_hash_eq(&cur, &want));
    ck_assert_uint_eq(db_entries(t, t->leaves), m->n);
    ck_assert_uint_eq(db_entries(t, t->nodes), internal);
}

static esg_smt_change put(const esg_hash *k, const esg_hash *vh) {
    esg_smt_change c;
    memset(&c, 0, sizeof c);
    c.key = *k;
    c.value_hash = *vh;
    return c;
}

static esg_smt_change del(const esg_hash *k) {
    esg_smt_change c;
    memset(&c, 0, sizeof c);
    c.key = *k;
    c.del = true;
    return c;
}

/* Applies a batch to the store (committed) and to the model, and compares. */
static void apply_both(tenv *t, model *m, esg_smt_change *ch, size_t n) {
    model_apply_batch(m, ch, n);
    esg_hash root = apply_commit(t, ch, n);
    check_matches(t, m, &root);
}

static esg_hash hash_of(const char *s) {
    return esg_sha256(s, strlen(s));
}

/* ---------------------------------------------------------- the root */

START_TEST(empty_tree_root_is_zero) {
    tenv t;
    tenv_init(&t);
    esg_hash zero = {{0}}, root = current_root(&t);
    ck_assert(esg_hash_eq(&root, &zero));
    root = apply_commit(&t, NULL, 0);
    ck_assert(esg_hash_eq(&root, &zero));
    /* Deleting an absent key is a no-op. */
    esg_hash k = hash_of("absent");
    esg_smt_change c = del(&k);
    root = apply_commit(&t, &c, 1);
    ck_assert(esg_hash_eq(&root, &zero));
    ck_assert_uint_eq(db_entries(&t, t.leaves), 0);
    tenv_release(&t);
}
END_TEST

START_TEST(single_insert_is_the_leaf_hash) {
    tenv t;
    tenv_init(&t);
    esg_hash k = hash_of("key"), vh = hash_of("value");
    esg_smt_change c = put(&k, &vh);
    esg_hash root = apply_commit(&t, &c, 1);
    esg_hash leaf = esg_hash_tagged2(ESG_TAG_MERKLE_LEAF, k.b, 32, vh.b, 32);
    ck_assert(esg_hash_eq(&root, &leaf));
    ck_assert_uint_eq(db_entries(&t, t.nodes), 0);
    tenv_release(&t);
}
END_TEST

/* Two leaves under the root: the root is their node, left by bit 0. */
START_TEST(two_leaves_known_shape) {
    tenv t;
    tenv_init(&t);
    esg_hash a = {{0}}, b = {{0}}, va = hash_of("a"), vb = hash_of("b");
    a.b[0] = 0x7f; /* bit 0 = 0: left */
    b.b[0] = 0x80; /* bit 0 = 1: right */
    esg_smt_change ch[2] = {put(&b, &vb), put(&a, &va)};
    esg_hash root = apply_commit(&t, ch, 2);
    esg_hash la = esg_hash_tagged2(ESG_TAG_MERKLE_LEAF, a.b, 32, va.b, 32);
    esg_hash lb = esg_hash_tagged2(ESG_TAG_MERKLE_LEAF, b.b, 32, vb.b, 32);
    esg_hash want = esg_hash_tagged2(ESG_TAG_MERKLE_NODE, la.b, 32, lb.b, 32);
    ck_assert(esg_hash_eq(&root, &want));
    /* The batch came back sorted. */
    ck_assert(esg_hash_eq(&ch[0].key, &a));
    tenv_release(&t);
}
END_TEST

START_TEST(many_inserts_in_one_batch) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    uint64_t s = 1;
    size_t n = 2000;
    esg_smt_change *ch = malloc(n * sizeof *ch);
    for (size_t i = 0; i < n; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = put(&k, &vh);
    }
    apply_both(&t, &m, ch, n);
    for (size_t i = 1; i < n; i++)
        ck_assert_int_lt(memcmp(ch[i - 1].key.b, ch[i].key.b, 32), 0);
    free(ch);
    free(m.e);
    tenv_release(&t);
}
END_TEST

/* The same final set reached by different batchings and orders gives the
 * same root. */
START_TEST(batch_order_does_not_matter) {
    size_t n = 400;
    esg_hash *k = malloc(n * sizeof *k), *v = malloc(n * sizeof *v);
    uint64_t s = 2;
    for (size_t i = 0; i < n; i++) {
        k[i] = rnd_hash(&s);
        v[i] = rnd_hash(&s);
    }
    esg_hash roots[4];
    size_t batch_sizes[4] = {n, 1, 7, 64};
    for (int run = 0; run < 4; run++) {
        tenv t;
        tenv_init(&t);
        model m = {0};
        /* A different permutation per run (Fisher-Yates). */
        size_t *perm = malloc(n * sizeof *perm);
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        uint64_t ps = 100 + (uint64_t)run;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rng_next(&ps) % (i + 1), x = perm[i];
            perm[i] = perm[j];
            perm[j] = x;
        }
        esg_smt_change *ch = malloc(n * sizeof *ch);
        for (size_t off = 0; off < n; off += batch_sizes[run]) {
            size_t bn = n - off < batch_sizes[run] ? n - off : batch_sizes[run];
            for (size_t i = 0; i < bn; i++)
                ch[i] = put(&k[perm[off + i]], &v[perm[off + i]]);
            if (batch_sizes[run] == 1 && off % 50 != 0) {
                model_apply(&m, &ch[0]);
                apply_commit(&t, ch, 1);
            } else {
                apply_both(&t, &m, ch, bn);
            }
        }
        roots[run] = current_root(&t);
        check_matches(&t, &m, &roots[run]);
        free(ch);
        free(perm);
        free(m.e);
        tenv_release(&t);
    }
    for (int run = 1; run < 4; run++)
        ck_assert(esg_hash_eq(&roots[0], &roots[run]));
    free(k);
    free(v);
}
END_TEST

START_TEST(updates_of_existing_keys) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    uint64_t s = 3;
    size_t n = 300;
    esg_hash *k = malloc(n * sizeof *k);
    esg_smt_change *ch = malloc(n * sizeof *ch);
    for (size_t i = 0; i < n; i++) {
        k[i] = rnd_hash(&s);
        esg_hash vh = rnd_hash(&s);
        ch[i] = put(&k[i], &vh);
    }
    apply_both(&t, &m, ch, n);
    esg_hash before = current_root(&t);
    for (size_t i = 0; i < 60; i++) {
        esg_hash vh = rnd_hash(&s);
        ch[i] = put(&k[i * 5], &vh);
    }
    apply_both(&t, &m, ch, 60);
    esg_hash after = current_root(&t);
    ck_assert(!esg_hash_eq(&before, &after));
    /* Rewriting a key with its current value changes nothing. */
    esg_hash vh;
    ck_assert(model_get(&m, &k[1], &vh));
    ch[0] = put(&k[1], &vh);
    apply_both(&t, &m, ch, 1);
    esg_hash again = current_root(&t);
    ck_assert(esg_hash_eq(&after, &again));
    free(k);
    free(ch);
    free(m.e);
    tenv_release(&t);
}
END_TEST

START_TEST(deletes_down_to_empty) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    uint64_t s = 4;
    size_t n = 500;
    esg_hash *k = malloc(n * sizeof *k);
    esg_smt_change *ch = malloc(n * sizeof *ch);
    for (size_t i = 0; i < n; i++) {
        k[i] = rnd_hash(&s);
        esg_hash vh = rnd_hash(&s);
        ch[i] = put(&k[i], &vh);
    }
    apply_both(&t, &m, ch, n);
    /* Batches of growing size, each also deleting an absent key. */
    size_t off = 0, bn = 1;
    while (off < n) {
        size_t cnt = n - off < bn ? n - off : bn;
        for (size_t i = 0; i < cnt; i++)
            ch[i] = del(&k[off + i]);
        esg_hash absent = rnd_hash(&s);
        ch[cnt] = del(&absent);
        apply_both(&t, &m, ch, cnt + 1);
        off += cnt;
        bn = bn * 2 + 1;
    }
    esg_hash zero = {{0}}, root = current_root(&t);
    ck_assert(esg_hash_eq(&root, &zero));
    ck_assert_uint_eq(db_entries(&t, t.leaves), 0);
    ck_assert_uint_eq(db_entries(&t, t.nodes), 0);
    free(k);
    free(ch);
    free(m.e);
    tenv_release(&t);
}
END_TEST

START_TEST(duplicate_keys_last_wins) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    esg_hash k1 = hash_of("k1"), k2 = hash_of("k2"), k3 = hash_of("k3");
    esg_hash v1 = hash_of("v1"), v2 = hash_of("v2"), v3 = hash_of("v3"), v4 = hash_of("v4");
    /* k1 ends at v4; k2 is put then deleted; k3 deleted then put. */
    esg_smt_change ch[] = {put(&k1, &v1), put(&k2, &v2), put(&k1, &v3), del(&k1),
                           del(&k3),      put(&k1, &v4), del(&k2),      put(&k3, &v3)};
    size_t n = sizeof ch / sizeof ch[0];
    apply_both(&t, &m, ch, n);
    esg_hash vh;
    ck_assert(model_get(&m, &k1, &vh) && esg_hash_eq(&vh, &v4));
    ck_assert(!model_get(&m, &k2, NULL));
    ck_assert_uint_eq(db_entries(&t, t.leaves), 2);
    /* A bigger batch (merge-sorted) with many repeats of a few keys. */
    uint64_t s = 5;
    esg_hash keys[10];
    for (int i = 0; i < 10; i++)
        keys[i] = rnd_hash(&s);
    esg_smt_change big[300];
    for (int i = 0; i < 300; i++) {
        esg_hash *k = &keys[rng_next(&s) % 10];
        if (rng_next(&s) % 4 == 0) {
            big[i] = del(k);
        } else {
            esg_hash v = rnd_hash(&s);
            big[i] = put(k, &v);
        }
    }
    apply_both(&t, &m, big, 300);
    tenv_release(&t);
    free(m.e);
}
END_TEST

/* Keys sharing long prefixes make deep chains of internal nodes; deleting
 * one side must drop the whole cached chain. */
START_TEST(keys_sharing_long_prefixes) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    esg_hash base = hash_of("base"), v = hash_of("v");
    esg_hash last = base, mid = base, near = base;
    last.b[31] ^= 0x01; /* differs only in bit 255 */
    mid.b[16] ^= 0x80;  /* differs at bit 128 */
    near.b[31] ^= 0x02; /* differs at bit 254 */
    esg_smt_change c[3];
    c[0] = put(&base, &v);
    c[1] = put(&last, &v);
    apply_both(&t, &m, c, 2);
    ck_assert_uint_eq(db_entries(&t, t.nodes), 256);
    c[0] = put(&mid, &v);
    apply_both(&t, &m, c, 1);
    c[0] = put(&near, &v);
    apply_both(&t, &m, c, 1);
    c[0] = del(&base);
    apply_both(&t, &m, c, 1);
    c[0] = del(&near);
    c[1] = del(&mid);
    apply_both(&t, &m, c, 2);
    ck_assert_uint_eq(db_entries(&t, t.nodes), 0);
    /* Both of a deep pair deleted in one batch. */
    c[0] = put(&base, &v);
    c[1] = put(&mid, &v);
    c[2] = put(&near, &v);
    apply_both(&t, &m, c, 3);
    c[0] = del(&base);
    c[1] = del(&near);
    apply_both(&t, &m, c, 2);
    /* Left: `last` and `mid`, which share bits 0..127. */
    ck_assert_uint_eq(db_entries(&t, t.nodes), 129);
    free(m.e);
    tenv_release(&t);
}
END_TEST

/* Random mixed batches (inserts, updates, deletes of present and absent
 * keys, repeats) on a tree of a few thousand leaves. */
START_TEST(random_mixed_batches) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    uint64_t s = 6;
    size_t cap = 4000;
    esg_smt_change *ch = malloc(cap * sizeof *ch);
    for (size_t i = 0; i < cap; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = put(&k, &vh);
    }
    apply_both(&t, &m, ch, cap);
    for (int round = 0; round < 25; round++) {
        size_t n = 1 + rng_next(&s) % 300;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng_next(&s) % 10;
            esg_hash k;
            if (r < 5 && m.n)
                k = m.e[rng_next(&s) % m.n].k; /* existing */
            else if (r < 6 && i)
                k = ch[rng_next(&s) % i].key; /* repeat within the batch */
            else
                k = rnd_hash(&s);
            if (rng_next(&s) % 2) {
                ch[i] = del(&k);
            } else {
                esg_hash vh = rnd_hash(&s);
                ch[i] = put(&k, &vh);
            }
        }
        apply_both(&t, &m, ch, n);
    }
    free(ch);
    free(m.e);
    tenv_release(&t);
}
END_TEST

/* A tree of 20k leaves and a block of 1000 random writes. */
START_TEST(large_tree_block) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    uint64_t s = 7;
    size_t n = 20000;
    esg_smt_change *ch = malloc(n * sizeof *ch);
    for (size_t i = 0; i < n; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = put(&k, &vh);
    }
    apply_both(&t, &m, ch, n);
    for (size_t i = 0; i < 1000; i++) {
        esg_hash k = i % 3 ? rnd_hash(&s) : m.e[rng_next(&s) % m.n].k;
        esg_hash vh = rnd_hash(&s);
        ch[i] = i % 7 == 0 ? del(&k) : put(&k, &vh);
    }
    apply_both(&t, &m, ch, 1000);
    free(ch);
    free(m.e);
    tenv_release(&t);
}
END_TEST

START_TEST(root_persists_across_reopen) {
    tenv t;
    tenv_init(&t);
    uint64_t s = 8;
    esg_smt_change ch[100];
    for (int i = 0; i < 100; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = put(&k, &vh);
    }
    esg_hash root = apply_commit(&t, ch, 100);
    tenv_close(&t);
    tenv_open_size(&t, (size_t)256 << 20);
    esg_hash again = current_root(&t);
    ck_assert(esg_hash_eq(&root, &again));
    /* And the reopened tree keeps working. */
    ch[0] = del(&ch[0].key);
    esg_hash next = apply_commit(&t, ch, 1);
    ck_assert(!esg_hash_eq(&root, &next));
    tenv_release(&t);
}
END_TEST

START_TEST(aborted_txn_leaves_tree_unchanged) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    uint64_t s = 9;
    esg_smt_change ch[200];
    for (int i = 0; i < 200; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = put(&k, &vh);
    }
    apply_both(&t, &m, ch, 200);
    esg_hash before = current_root(&t);

    MDB_txn *txn = wtxn(&t);
    for (int i = 0; i < 50; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = i % 2 ? put(&k, &vh) : del(&m.e[i].k);
    }
    esg_hash during;
    ck_assert_int_eq(esg_smt_apply(txn, t.leaves, t.nodes, ch, 50, &during), 0);
    ck_assert(!esg_hash_eq(&before, &during));
    mdb_txn_abort(txn);

    esg_hash after = current_root(&t);
    ck_assert(esg_hash_eq(&before, &after));
    check_matches(&t, &m, &after);
    free(m.e);
    tenv_release(&t);
}
END_TEST

/* --------------------------------------------------------------- errors */

START_TEST(map_full_is_its_own_error) {
    tenv t;
    tu_tmpdir(t.dir, sizeof t.dir);
    tenv_open_size(&t, 64 * 4096);
    uint64_t s = 10;
    size_t n = 5000;
    esg_smt_change *ch = malloc(n * sizeof *ch);
    for (size_t i = 0; i < n; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = put(&k, &vh);
    }
    MDB_txn *txn = wtxn(&t);
    esg_hash root;
    ck_assert_int_eq(esg_smt_apply(txn, t.leaves, t.nodes, ch, n, &root), ESG_ERR_MAP_FULL);
    mdb_txn_abort(txn);
    free(ch);
    tenv_release(&t);
}
END_TEST

START_TEST(lmdb_errors_and_corruption) {
    tenv t;
    tenv_init(&t);
    esg_hash k = hash_of("k"), k2 = hash_of("k2"), v = hash_of("v"), root;
    esg_smt_change c = put(&k, &v);

    /* Writing through a read-only transaction. */
    MDB_txn *txn = rtxn(&t);
    ck_assert_int_eq(esg_smt_apply(txn, t.leaves, t.nodes, &c, 1, &root), ESG_ERR_STORE);
    mdb_txn_abort(txn);

    /* A leaf value of the wrong size. */
    txn = wtxn(&t);
    MDB_val mk = {32, k.b}, mv = {5, "short"};
    ck_assert_int_eq(mdb_put(txn, t.leaves, &mk, &mv, 0), 0);
    ck_assert_int_eq(esg_smt_root(txn, t.leaves, t.nodes, &root), ESG_ERR_STORE_CORRUPT);
    mdb_txn_abort(txn);

    /* Two leaves but no cached root: the databases disagree. */
    txn = wtxn(&t);
    mv.mv_size = 32;
    mv.mv_data = v.b;
    ck_assert_int_eq(mdb_put(txn, t.leaves, &mk, &mv, 0), 0);
    mk.mv_data = k2.b;
    ck_assert_int_eq(mdb_put(txn, t.leaves, &mk, &mv, 0), 0);
    ck_assert_int_eq(esg_smt_root(txn, t.leaves, t.nodes, &root), ESG_ERR_STORE_CORRUPT);
    esg_smt_proof p;
    ck_assert_int_eq(esg_smt_prove(txn, t.leaves, t.nodes, &k, &p), ESG_ERR_STORE_CORRUPT);
    mdb_txn_abort(txn);
    tenv_release(&t);
}
END_TEST

/* --------------------------------------------------------------- proofs */

static esg_smt_proof prove(tenv *t, const esg_hash *k) {
    MDB_txn *txn = rtxn(t);
    esg_smt_proof p;
    ck_assert_int_eq(esg_smt_prove(txn, t->leaves, t->nodes, k, &p), 0);
    mdb_txn_abort(txn);
    return p;
}

/* Every single-byte change of a valid proof, root or value fails. */
static void check_tamper(const esg_hash *root, const esg_hash *k, const esg_hash *vh,
                         const esg_smt_proof *good) {
    esg_smt_proof p = *good;
    ck_assert_int_eq(esg_smt_verify(root, k, vh, &p), 0);
    for (unsigned i = 0; i < p.n_siblings; i++) {
        for (int j = 0; j < 32; j++) {
            p.siblings[i].b[j] ^= 0x01;
            ck_assert_int_eq(esg_smt_verify(root, k, vh, &p), ESG_ERR_PROOF);
            p.siblings[i].b[j] ^= 0x01;
        }
    }
    if (p.has_leaf) {
        for (int j = 0; j < 32; j++) {
            p.leaf_key.b[j] ^= 0x01;
            ck_assert_int_eq(esg_smt_verify(root, k, vh, &p), ESG_ERR_PROOF);
            p.leaf_key.b[j] ^= 0x01;
            p.leaf_value_hash.b[j] ^= 0x01;
            ck_assert_int_eq(esg_smt_verify(root, k, vh, &p), ESG_ERR_PROOF);
            p.leaf_value_hash.b[j] ^= 0x01;
        }
    }
    p.has_leaf = !p.has_leaf;
    ck_assert_int_eq(esg_smt_verify(root, k, vh, &p), ESG_ERR_PROOF);
    p.has_leaf = !p.has_leaf;
    esg_hash r = *root;
    for (int j = 0; j < 32; j++) {
        r.b[j] ^= 0x01;
        ck_assert_int_eq(esg_smt_verify(&r, k, vh, &p), ESG_ERR_PROOF);
        r.b[j] ^= 0x01;
    }
    if (vh) {
        esg_hash v = *vh;
        for (int j = 0; j < 32; j++) {
            v.b[j] ^= 0x01;
            ck_assert_int_eq(esg_smt_verify(root, k, &v, &p), ESG_ERR_PROOF);
            v.b[j] ^= 0x01;
        }
    }
    /* Dropping or adding a level breaks it too. */
    if (p.n_siblings > 0) {
        p.n_siblings--;
        ck_assert_int_eq(esg_smt_verify(root, k, vh, &p), ESG_ERR_PROOF);
        p.n_siblings++;
    }
    if (p.n_siblings < 256) {
        p.siblings[p.n_siblings] = *root;
        p.n_siblings++;
        ck_assert_int_eq(esg_smt_verify(root, k, vh, &p), ESG_ERR_PROOF);
    }
}

START_TEST(proofs_of_membership_and_absence) {
    tenv t;
    tenv_init(&t);
    model m = {0};
    uint64_t s = 11;
    esg_smt_change ch[200];
    for (int i = 0; i < 200; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = put(&k, &vh);
    }
    apply_both(&t, &m, ch, 200);
    esg_hash root = current_root(&t);

    for (size_t i = 0; i < m.n; i++) {
        esg_smt_proof p = prove(&t, &m.e[i].k);
        ck_assert(p.has_leaf && esg_hash_eq(&p.leaf_key, &m.e[i].k));
        ck_assert_int_eq(esg_smt_verify(&root, &m.e[i].k, &m.e[i].vh, &p), 0);
        /* Not absent. */
        ck_assert_int_eq(esg_smt_verify(&root, &m.e[i].k, NULL, &p), ESG_ERR_PROOF);
        /* Not another key's value. */
        ck_assert_int_eq(esg_smt_verify(&root, &m.e[(i + 1) % m.n].k, &m.e[i].vh, &p),
                         ESG_ERR_PROOF);
        if (i % 10 == 0)
            check_tamper(&root, &m.e[i].k, &m.e[i].vh, &p);
    }

    int ended_empty = 0, ended_other_leaf = 0;
    for (int i = 0; i < 200; i++) {
        esg_hash k = rnd_hash(&s);
        /* Half of them near a present key, so they end at its leaf. */
        if (i % 2) {
            k = m.e[rng_next(&s) % m.n].k;
            k.b[31] ^= 0x10;
        }
        esg_smt_proof p = prove(&t, &k);
        ck_assert_int_eq(esg_smt_verify(&root, &k, NULL, &p), 0);
        if (p.has_leaf) {
            ended_other_leaf++;
            ck_assert(!esg_hash_eq(&p.leaf_key, &k));
            /* Claiming the found leaf's value (or any value) fails. */
            ck_assert_int_eq(esg_smt_verify(&root, &k, &p.leaf_value_hash, &p), ESG_ERR_PROOF);
        } else {
            ended_empty++;
        }
        esg_hash any = rnd_hash(&s);
        ck_assert_int_eq(esg_smt_verify(&root, &k, &any, &p), ESG_ERR_PROOF);
        if (i % 10 == 0 || i % 10 == 1)
            check_tamper(&root, &k, NULL, &p);
    }
    ck_assert_int_gt(ended_empty, 0);
    ck_assert_int_gt(ended_other_leaf, 0);
    free(m.e);
    tenv_release(&t);
}
END_TEST

START_TEST(proofs_in_tiny_trees) {
    tenv t;
    tenv_init(&t);
    esg_hash zero = {{0}}, k = hash_of("k"), other = hash_of("other"), v = hash_of("v");

    /* Empty tree. */
    esg_smt_proof p = prove(&t, &k);
    ck_assert_uint_eq(p.n_siblings, 0);
    ck_assert(!p.has_leaf);
    ck_assert_int_eq(esg_smt_verify(&zero, &k, NULL, &p), 0);
    ck_assert_int_eq(esg_smt_verify(&zero, &k, &v, &p), ESG_ERR_PROOF);
    ck_assert_int_eq(esg_smt_verify(&v, &k, NULL, &p), ESG_ERR_PROOF);

    /* One leaf: the root is the leaf, and any other key ends at it. */
    esg_smt_change c = put(&k, &v);
    esg_hash root = apply_commit(&t, &c, 1);
    p = prove(&t, &k);
    ck_assert_uint_eq(p.n_siblings, 0);
    ck_assert_int_eq(esg_smt_verify(&root, &k, &v, &p), 0);
    check_tamper(&root, &k, &v, &p);
    p = prove(&t, &other);
    ck_assert_uint_eq(p.n_siblings, 0);
    ck_assert(p.has_leaf && esg_hash_eq(&p.leaf_key, &k));
    ck_assert_int_eq(esg_smt_verify(&root, &other, NULL, &p), 0);
    ck_assert_int_eq(esg_smt_verify(&root, &other, &v, &p), ESG_ERR_PROOF);
    check_tamper(&root, &other, NULL, &p);

    /* Keys differing in the last bit: 256 siblings. */
    esg_hash k2 = k;
    k2.b[31] ^= 0x01;
    c = put(&k2, &v);
    root = apply_commit(&t, &c, 1);
    p = prove(&t, &k2);
    ck_assert_uint_eq(p.n_siblings, 256);
    ck_assert_int_eq(esg_smt_verify(&root, &k2, &v, &p), 0);
    check_tamper(&root, &k2, &v, &p);
    tenv_release(&t);
}
END_TEST

/* Proofs are input: malformed ones are rejected, never trusted. */
START_TEST(malformed_proofs_rejected) {
    tenv t;
    tenv_init(&t);
    uint64_t s = 12;
    esg_smt_change ch[50];
    for (int i = 0; i < 50; i++) {
        esg_hash k = rnd_hash(&s), vh = rnd_hash(&s);
        ch[i] = put(&k, &vh);
    }
    apply_commit(&t, ch, 50);
    esg_hash root = current_root(&t), k = ch[0].key, v = ch[0].value_hash;
    esg_smt_proof good = prove(&t, &k), p;
    ck_assert_int_eq(esg_smt_verify(&root, &k, &v, &good), 0);

    p = good;
    p.n_siblings = 257;
    ck_assert_int_eq(esg_smt_verify(&root, &k, &v, &p), ESG_ERR_PROOF);
    p.n_siblings = 65535;
    ck_assert_int_eq(esg_smt_verify(&root, &k, &v, &p), ESG_ERR_PROOF);
    ck_assert_int_eq(esg_smt_verify(&root, &k, NULL, &p), ESG_ERR_PROOF);

    /* An absence proof whose leaf is the key itself. */
    p = good;
    ck_assert_int_eq(esg_smt_verify(&root, &k, NULL, &p), ESG_ERR_PROOF);

    /* An absence proof whose leaf is off the key's path. */
    esg_hash absent = k;
    absent.b[31] ^= 0x01;
    p = prove(&t, &absent);
    ck_assert_int_eq(esg_smt_verify(&root, &absent, NULL, &p), 0);
    ck_assert(p.has_leaf);
    esg_hash far = absent;
    far.b[0] ^= 0x80;
    ck_assert_int_eq(esg_smt_verify(&root, &far, NULL, &p), ESG_ERR_PROOF);

    /* A path that ends beside an empty sibling is never produced. */
    p = good;
    memset(&p.siblings[p.n_siblings - 1], 0, 32);
    ck_assert_int_eq(esg_smt_verify(&root, &k, &v, &p), ESG_ERR_PROOF);

    /* Extra empty levels under a real leaf. */
    p = good;
    for (int i = 0; i < 3; i++)
        memset(&p.siblings[p.n_siblings++], 0, 32);
    ck_assert_int_eq(esg_smt_verify(&root, &k, &v, &p), ESG_ERR_PROOF);

    /* Roots the tree never produces cannot be proven into, even when the
     * hashes fold up: a leaf beside an empty sibling (it would have been
     * compressed), and a leaf on the wrong side of its parent. */
    esg_hash zero = {{0}}, x = k;
    x.b[0] &= 0x7f; /* bit 0 = 0 */
    esg_hash lx = esg_hash_tagged2(ESG_TAG_MERKLE_LEAF, x.b, 32, v.b, 32);
    esg_hash crafted = esg_hash_tagged2(ESG_TAG_MERKLE_NODE, lx.b, 32, zero.b, 32);
    memset(&p, 0, sizeof p);
    p.n_siblings = 1;
    p.has_leaf = true;
    p.leaf_key = x;
    p.leaf_value_hash = v;
    ck_assert_int_eq(esg_smt_verify(&crafted, &x, &v, &p), ESG_ERR_PROOF);
    esg_hash y = x;
    y.b[0] |= 0x80; /* bit 0 = 1, yet folded in as the left child */
    esg_hash ly = esg_hash_tagged2(ESG_TAG_MERKLE_LEAF, y.b, 32, v.b, 32);
    crafted = esg_hash_tagged2(ESG_TAG_MERKLE_NODE, ly.b, 32, root.b, 32);
    p.siblings[0] = root;
    p.leaf_key = y;
    ck_assert_int_eq(esg_smt_verify(&crafted, &x, NULL, &p), ESG_ERR_PROOF);
    /* The same shapes with a consistent leaf do verify (the checks above
     * fail for the reason named, not by accident). */
    crafted = esg_hash_tagged2(ESG_TAG_MERKLE_NODE, lx.b, 32, root.b, 32);
    p.leaf_key = x;
    ck_assert_int_eq(esg_smt_verify(&crafted, &x, &v, &p), 0);

    /* Garbage everywhere: no crash, no acceptance. */
    for (int round = 0; round < 100; round++) {
        uint8_t *raw = (uint8_t *)&p;
        for (size_t i = 0; i < sizeof p; i++)
            raw[i] = (uint8_t)rng_next(&s);
        p.has_leaf = raw[0] & 1;
        p.n_siblings = (uint16_t)(rng_next(&s) % 300);
        ck_assert_int_eq(esg_smt_verify(&root, &k, &v, &p), ESG_ERR_PROOF);
        ck_assert_int_eq(esg_smt_verify(&root, &k, NULL, &p), ESG_ERR_PROOF);
    }
    tenv_release(&t);
}
END_TEST

Suite *suite_smt(void) {
    Suite *s = suite_create("smt");
    TCase *tc = tcase_create("root");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, empty_tree_root_is_zero);
    tcase_add_test(tc, single_insert_is_the_leaf_hash);
    tcase_add_test(tc, two_leaves_known_shape);
    tcase_add_test(tc, many_inserts_in_one_batch);
    tcase_add_test(tc, batch_order_does_not_matter);
    tcase_add_test(tc, updates_of_existing_keys);
    tcase_add_test(tc, deletes_down_to_empty);
    tcase_add_test(tc, duplicate_keys_last_wins);
    tcase_add_test(tc, keys_sharing_long_prefixes);
    tcase_add_test(tc, random_mixed_batches);
    tcase_add_test(tc, large_tree_block);
    tcase_add_test(tc, root_persists_across_reopen);
    tcase_add_test(tc, aborted_txn_leaves_tree_unchanged);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, map_full_is_its_own_error);
    tcase_add_test(tc, lmdb_errors_and_corruption);
    suite_add_tcase(s, tc);

    tc = tcase_create("proofs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, proofs_of_membership_and_absence);
    tcase_add_test(tc, proofs_in_tiny_trees);
    tcase_add_test(tc, malformed_proofs_rejected);
    suite_add_tcase(s, tc);
    return s;
}
