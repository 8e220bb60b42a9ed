/* Sparse Merkle state tree over LMDB (see smt.h for the definition and the
 * storage layout). The invariant everything here leans on: the nodes
 * database holds an entry for a subtree exactly when that subtree holds
 * >= 2 leaves, so a cache miss means "0 or 1 leaf", which one cursor seek
 * in the leaves database settles. */
#include "ledger/smt.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"

#define NODE_KEY_MAX 33
#define SORT_SMALL 16

/* A subtree's hash and how many leaves it holds, saturated at 2. */
typedef struct subtree {
    esg_hash h;
    int count;
} subtree;

typedef struct apply_ctx {
    MDB_txn *txn;
    MDB_dbi nodes;
    MDB_cursor *leaves;
    const esg_smt_change *ch;
} apply_ctx;

static int map_err(int rc) {
    return rc == MDB_MAP_FULL ? ESG_ERR_MAP_FULL : ESG_ERR_STORE;
}

static unsigned key_bit(const esg_hash *k, unsigned i) {
    assert(i < 256);
    return (k->b[i >> 3] >> (7 - (i & 7))) & 1u;
}

static void key_set_bit(esg_hash *k, unsigned i, unsigned v) {
    uint8_t m = (uint8_t)(0x80u >> (i & 7));
    if (v)
        k->b[i >> 3] |= m;
    else
        k->b[i >> 3] &= (uint8_t)~m;
}

/* Number of leading bits a and b share (256 when equal). */
static unsigned common_prefix(const uint8_t *a, const uint8_t *b) {
    for (unsigned i = 0; i < 32; i++) {
        unsigned x = (unsigned)(a[i] ^ b[i]);
        if (x)
            return 8 * i + (unsigned)__builtin_clz(x) - (8 * sizeof(unsigned) - 8);
    }
    return 256;
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned d) {
    return common_prefix(a, b) >= d;
}

static esg_hash leaf_hash(const uint8_t *k, const uint8_t *vh) {
    return esg_hash_tagged2(ESG_TAG_MERKLE_LEAF, k, 32, vh, 32);
}

static esg_hash node_hash(const esg_hash *l, const esg_hash *r) {
    return esg_hash_tagged2(ESG_TAG_MERKLE_NODE, l->b, 32, r->b, 32);
}

/* Key of the node at depth d < 256 on `path`: [c][c path bytes][heap index
 * of the node inside its 8-level chunk]. Bits of path beyond d are ignored. */
static size_t node_key(uint8_t out[NODE_KEY_MAX], const esg_hash *path, unsigned d) {
    assert(d < 256);
    unsigned c = d >> 3, r = d & 7;
    out[0] = (uint8_t)c;
    memcpy(out + 1, path->b, c);
    out[1 + c] = (uint8_t)((1u << r) | (r ? (unsigned)path->b[c] >> (8 - r) : 0u));
    return c + 2;
}

/* Looks up the cached hash of the node (d, path). Returns 1 when cached, 0
 * when not, or an error. */
static int cache_get(MDB_txn *txn, MDB_dbi nodes, const esg_hash *path,
                     unsigned d, esg_hash *out) {
    uint8_t kb[NODE_KEY_MAX];
    MDB_val k = {node_key(kb, path, d), kb}, v;
    int rc = mdb_get(txn, nodes, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return map_err(rc);
    if (v.mv_size != 32)
        return ESG_ERR_STORE_CORRUPT;
    memcpy(out->b, v.mv_data, 32);
    return 1;
}

/* Stores or removes the cache entry of (d, path) so that the invariant
 * holds for the subtree's new content. */
static int cache_set(apply_ctx *cx, const esg_hash *path, unsigned d, const subtree *s) {
    uint8_t kb[NODE_KEY_MAX];
    MDB_val k = {node_key(kb, path, d), kb};
    int rc;
    if (s->count >= 2) {
        MDB_val v = {32, (void *)s->h.b};
        rc = mdb_put(cx->txn, cx->nodes, &k, &v, 0);
    } else {
        rc = mdb_del(cx->txn, cx->nodes, &k, NULL);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return rc ? map_err(rc) : 0;
}

/* A leaf entry must be 32 bytes -> 32 bytes. */
static int leaf_read(const MDB_val *k, const MDB_val *v) {
    return k->mv_size == 32 && v->mv_size == 32 ? 0 : ESG_ERR_STORE_CORRUPT;
}

/* Counts the leaves under the first d bits of `path`, saturating at 2; when
 * there is exactly one, *s gets its leaf hash (zero when none) and, if
 * given, *lk and *lvh its key and value hash. */
static int leaves_scan(MDB_cursor *cur, const esg_hash *path, unsigned d, subtree *s,
                       esg_hash *lk, esg_hash *lvh) {
    esg_hash lb = {{0}};
    memcpy(lb.b, path->b, (d + 7) / 8);
    if (d & 7)
        lb.b[d >> 3] &= (uint8_t)(0xff00u >> (d & 7));
    MDB_val k = {32, lb.b}, v;
    memset(s, 0, sizeof *s);
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return map_err(rc);
    if ((rc = leaf_read(&k, &v)))
        return rc;
    if (!prefix_eq(k.mv_data, lb.b, d))
        return 0;
    s->count = 1;
    s->h = leaf_hash(k.mv_data, v.mv_data);
    if (lk)
        memcpy(lk->b, k.mv_data, 32);
    if (lvh)
        memcpy(lvh->b, v.mv_data, 32);
    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return map_err(rc);
    if ((rc = leaf_read(&k, &v)))
        return rc;
    if (prefix_eq(k.mv_data, lb.b, d))
        s->count = 2;
    return 0;
}

/* The current hash of the subtree (d, path), which no change touches: the
 * cache when it holds >= 2 leaves, else the leaves database. */
static int subtree_lookup(MDB_txn *txn, MDB_dbi nodes, MDB_cursor *cur,
                          const esg_hash *path, unsigned d, subtree *s) {
    assert(d <= 256);
    if (d < 256) {
        int rc = cache_get(txn, nodes, path, d, &s->h);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            s->count = 2;
            return 0;
        }
    }
    int rc = leaves_scan(cur, path, d, s, NULL, NULL);
    if (rc)
        return rc;
    /* Two leaves but no cache entry: the databases disagree. */
    return s->count >= 2 ? ESG_ERR_STORE_CORRUPT : 0;
}

/* The parent of children l and r: a subtree with one leaf is that leaf. */
static void combine(const subtree *l, const subtree *r, subtree *out) {
    int n = l->count + r->count;
    if (n >= 2) {
        out->h = node_hash(&l->h, &r->h);
        out->count = 2;
    } else {
        out->h = l->count ? l->h : r->h;
        out->count = n;
    }
}

/* One cursor step over the leaves: 1 with the leaf in k (and vh), 0 when
 * there is none, or an error. `k` is also the key SET_RANGE seeks. */
static int leaves_step(MDB_cursor *cur, MDB_cursor_op op, esg_hash *k, esg_hash *vh) {
    MDB_val mk = {32, k->b}, mv;
    int rc = mdb_cursor_get(cur, &mk, &mv, op);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return map_err(rc);
    if ((rc = leaf_read(&mk, &mv)))
        return rc;
    memcpy(k->b, mk.mv_data, 32);
    memcpy(vh->b, mv.mv_data, 32);
    return 1;
}

/* Recomputes the subtree at depth d on `key` (the only changed key under
 * it), whose leaves are already written. The leaves under any prefix of key
 * are a contiguous run of the sorted leaves around key's position, and the
 * further a leaf is from key in that order the fewer leading bits it shares
 * with key. So key itself and its two nearest leaves on each side decide
 * every depth at which the subtree still holds >= 2 leaves; the path below
 * d is then one seek away, not one seek per level. */
static int update_single(apply_ctx *cx, unsigned d, const esg_hash *key, subtree *out) {
    /* nb[0], nb[1]: the nearest and second nearest leaf below key;
     * nb[2], nb[3]: above key. lcp[i] = -1 when there is no such leaf. */
    esg_hash nb[4], nvh[4], k_vh;
    int lcp[4] = {-1, -1, -1, -1};
    bool present = false;
    int r, rc;

    nb[2] = *key;
    if ((r = leaves_step(cx->leaves, MDB_SET_RANGE, &nb[2], &nvh[2])) < 0)
        return r;
    bool any_above = r == 1;
    if (r == 1 && esg_hash_eq(&nb[2], key)) {
        present = true;
        k_vh = nvh[2];
        r = leaves_step(cx->leaves, MDB_NEXT, &nb[2], &nvh[2]);
    }
    if (r == 1) {
        lcp[2] = (int)common_prefix(nb[2].b, key->b);
        if (!present) {
            if ((r = leaves_step(cx->leaves, MDB_NEXT, &nb[3], &nvh[3])) == 1)
                lcp[3] = (int)common_prefix(nb[3].b, key->b);
        }
    }
    if (r < 0)
        return r;
    if (any_above) {
        nb[0] = *key;
        if ((r = leaves_step(cx->leaves, MDB_SET_RANGE, &nb[0], &nvh[0])) <= 0)
            return r < 0 ? r : ESG_ERR_STORE_CORRUPT;
        r = leaves_step(cx->leaves, MDB_PREV, &nb[0], &nvh[0]);
    } else {
        r = leaves_step(cx->leaves, MDB_LAST, &nb[0], &nvh[0]);
    }
    if (r == 1) {
        lcp[0] = (int)common_prefix(nb[0].b, key->b);
        if (!present) {
            if ((r = leaves_step(cx->leaves, MDB_PREV, &nb[1], &nvh[1])) == 1)
                lcp[1] = (int)common_prefix(nb[1].b, key->b);
        }
    }
    if (r < 0)
        return r;

    /* The subtree at depth j holds the leaves x with lcp(x) >= j (and key
     * when present); it holds >= 2 while j <= `deep`. */
    int deep;
    if (present) {
        deep = lcp[0] > lcp[2] ? lcp[0] : lcp[2];
    } else {
        /* Second largest of the four (lcp[1] <= lcp[0], lcp[3] <= lcp[2]). */
        int hi = lcp[0] >= lcp[2] ? 0 : 2;
        int other = lcp[2 - hi], next = lcp[hi + 1];
        deep = other > next ? other : next;
    }
    unsigned bottom = deep + 1 > (int)d ? (unsigned)(deep + 1) : d;
    assert(bottom <= 256);

    /* The bottom subtree's one leaf, if any, is key or a nearest leaf. */
    subtree cur = {{{0}}, 0};
    if (present) {
        cur.h = leaf_hash(key->b, k_vh.b);
        cur.count = 1;
    } else if (lcp[0] >= (int)bottom) {
        cur.h = leaf_hash(nb[0].b, nvh[0].b);
        cur.count = 1;
    } else if (lcp[2] >= (int)bottom) {
        cur.h = leaf_hash(nb[2].b, nvh[2].b);
        cur.count = 1;
    }

    /* A deleted key may leave cached nodes below `bottom` that held it and
     * one other leaf; they form a chain from `bottom` down. An inserted or
     * updated key cannot: no subtree holding it lost leaves. */
    if (!present) {
        for (unsigned j = bottom; j < 256; j++) {
            uint8_t kb[NODE_KEY_MAX];
            MDB_val nk = {node_key(kb, key, j), kb};
            rc = mdb_del(cx->txn, cx->nodes, &nk, NULL);
            if (rc == MDB_NOTFOUND)
                break;
            if (rc)
                return map_err(rc);
        }
    }

    for (unsigned j = bottom; j-- > d;) {
        esg_hash sp = *key;
        unsigned bit = key_bit(key, j);
        key_set_bit(&sp, j, !bit);
        subtree sib, parent;
        if ((rc = subtree_lookup(cx->txn, cx->nodes, cx->leaves, &sp, j + 1, &sib)))
            return rc;
        if (bit)
            combine(&sib, &cur, &parent);
        else
            combine(&cur, &sib, &parent);
        if ((rc = cache_set(cx, key, j, &parent)))
            return rc;
        cur = parent;
    }
    *out = cur;
    return 0;
}

/* Recomputes the subtree at depth d holding changes [lo, hi) (sorted, all
 * sharing their first d bits) and rewrites its cache entries. */
static int update_range(apply_ctx *cx, unsigned d, size_t lo, size_t hi, subtree *out) {
    const esg_smt_change *ch = cx->ch;
    assert(lo < hi && d <= 256);
    if (memcmp(ch[lo].key.b, ch[hi - 1].key.b, 32) == 0)
        return update_single(cx, d, &ch[lo].key, out);
    assert(d < 256);

    /* First change whose bit d is 1; bit d is sorted within the range. */
    size_t a = lo, b = hi;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (key_bit(&ch[m].key, d))
            b = m;
        else
            a = m + 1;
    }
    size_t mid = a;

    subtree child[2];
    int rc;
    for (unsigned side = 0; side < 2; side++) {
        size_t clo = side ? mid : lo, chi = side ? hi : mid;
        if (clo < chi) {
            rc = update_range(cx, d + 1, clo, chi, &child[side]);
        } else {
            esg_hash sp = ch[lo].key;
            key_set_bit(&sp, d, side);
            rc = subtree_lookup(cx->txn, cx->nodes, cx->leaves, &sp, d + 1, &child[side]);
        }
        if (rc)
            return rc;
    }
    combine(&child[0], &child[1], out);
    return cache_set(cx, &ch[lo].key, d, out);
}

static int change_cmp(const esg_smt_change *a, const esg_smt_change *b) {
    return memcmp(a->key.b, b->key.b, 32);
}

/* Stable merge sort; tmp holds n/2 entries (unused for n <= SORT_SMALL). */
static void sort_changes(esg_smt_change *a, esg_smt_change *tmp, size_t n) {
    if (n <= SORT_SMALL) {
        for (size_t i = 1; i < n; i++) {
            esg_smt_change x = a[i];
            size_t j = i;
            for (; j > 0 && change_cmp(&a[j - 1], &x) > 0; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
        return;
    }
    size_t h = n / 2;
    sort_changes(a, tmp, h);
    sort_changes(a + h, tmp, n - h);
    if (change_cmp(&a[h - 1], &a[h]) <= 0)
        return;
    memcpy(tmp, a, h * sizeof *a);
    /* Merging into a from the front never overwrites an unread right entry:
     * the write index i = li + (ri - h) <= ri. */
    size_t li = 0, ri = h, i = 0;
    while (li < h && ri < n)
        a[i++] = change_cmp(&a[ri], &tmp[li]) < 0 ? a[ri++] : tmp[li++];
    while (li < h)
        a[i++] = tmp[li++];
}

static int write_leaves(MDB_txn *txn, MDB_dbi leaves, const esg_smt_change *ch, size_t n) {
    for (size_t i = 0; i < n; i++) {
        /* Of equal keys the stable sort keeps the original order: the last
         * of a run wins. */
        if (i + 1 < n && change_cmp(&ch[i], &ch[i + 1]) == 0)
            continue;
        MDB_val k = {32, (void *)ch[i].key.b};
        int rc;
        if (ch[i].del) {
            rc = mdb_del(txn, leaves, &k, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        } else {
            MDB_val v = {32, (void *)ch[i].value_hash.b};
            rc = mdb_put(txn, leaves, &k, &v, 0);
        }
        if (rc)
            return map_err(rc);
    }
    return 0;
}

int esg_smt_apply(MDB_txn *txn, MDB_dbi leaves, MDB_dbi nodes,
                  esg_smt_change *changes, size_t n, esg_hash *root_out) {
    assert(txn && root_out && (changes || n == 0));
    if (n == 0)
        return esg_smt_root(txn, leaves, nodes, root_out);

    esg_smt_change *tmp = NULL;
    if (n > SORT_SMALL && !(tmp = malloc(n / 2 * sizeof *tmp)))
        return ESG_ERR_NOMEM;
    sort_changes(changes, tmp, n);
    free(tmp);

    int rc = write_leaves(txn, leaves, changes, n);
    if (rc)
        return rc;

    apply_ctx cx = {txn, nodes, NULL, changes};
    if ((rc = mdb_cursor_open(txn, leaves, &cx.leaves)))
        return map_err(rc);
    subtree root;
    rc = update_range(&cx, 0, 0, n, &root);
    mdb_cursor_close(cx.leaves);
    if (rc == 0)
        *root_out = root.h;
    return rc;
}

int esg_smt_root(MDB_txn *txn, MDB_dbi leaves, MDB_dbi nodes, esg_hash *root_out) {
    assert(txn && root_out);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, leaves, &cur);
    if (rc)
        return map_err(rc);
    esg_hash zero = {{0}};
    subtree s;
    rc = subtree_lookup(txn, nodes, cur, &zero, 0, &s);
    mdb_cursor_close(cur);
    if (rc == 0)
        *root_out = s.h;
    return rc;
}

int esg_smt_prove(MDB_txn *txn, MDB_dbi leaves, MDB_dbi nodes,
                  const esg_hash *key, esg_smt_proof *proof) {
    assert(txn && key && proof);
    memset(proof, 0, sizeof *proof);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, leaves, &cur);
    if (rc)
        return map_err(rc);
    unsigned d = 0;
    for (;;) {
        esg_hash h;
        rc = d < 256 ? cache_get(txn, nodes, key, d, &h) : 0;
        if (rc < 0)
            break;
        if (rc == 0) {
            /* The path ends here: at most one leaf below. */
            subtree end;
            rc = leaves_scan(cur, key, d, &end, &proof->leaf_key, &proof->leaf_value_hash);
            if (rc == 0 && end.count >= 2)
                rc = ESG_ERR_STORE_CORRUPT;
            proof->has_leaf = end.count == 1;
            break;
        }
        esg_hash sp = *key;
        key_set_bit(&sp, d, !key_bit(key, d));
        subtree sib;
        if ((rc = subtree_lookup(txn, nodes, cur, &sp, d + 1, &sib)))
            break;
        proof->siblings[d] = sib.h;
        d++;
    }
    mdb_cursor_close(cur);
    proof->n_siblings = (uint16_t)d;
    return rc;
}

int esg_smt_verify(const esg_hash *root, const esg_hash *key,
                   const esg_hash *value_hash, const esg_smt_proof *proof) {
    assert(root && key && proof);
    unsigned n = proof->n_siblings;
    if (n > 256)
        return ESG_ERR_PROOF;
    /* The tree never ends a path beside an empty sibling: the parent would
     * hold <= 1 leaf and be compressed away. */
    if (n > 0 && esg_hash_is_zero(&proof->siblings[n - 1]))
        return ESG_ERR_PROOF;

    esg_hash cur = {{0}};
    if (value_hash) {
        if (!proof->has_leaf || !esg_hash_eq(&proof->leaf_key, key) ||
            !esg_hash_eq(&proof->leaf_value_hash, value_hash))
            return ESG_ERR_PROOF;
        cur = leaf_hash(key->b, value_hash->b);
    } else if (proof->has_leaf) {
        if (esg_hash_eq(&proof->leaf_key, key) ||
            !prefix_eq(proof->leaf_key.b, key->b, n))
            return ESG_ERR_PROOF;
        cur = leaf_hash(proof->leaf_key.b, proof->leaf_value_hash.b);
    }
    for (unsigned i = n; i-- > 0;) {
        if (key_bit(key, i))
            cur = node_hash(&proof->siblings[i], &cur);
        else
            cur = node_hash(&cur, &proof->siblings[i]);
    }
    return esg_hash_eq(&cur, root) ? 0 : ESG_ERR_PROOF;
}
