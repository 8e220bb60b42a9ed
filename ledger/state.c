/* State views. Tree changes are collected per block and applied once in
 * esg_state_root(): hashing a path once per block instead of once per write
 * is what keeps the state tree cheap. */
#include "ledger/state.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/smt.h"

#define MAX_SAVEPOINTS 8

/* One write of a scratch view: T || key -> value, or a deletion. A check
 * writes a handful of rows, so lookups scan. */
typedef struct overlay_row {
    uint8_t *key; /* T || key */
    size_t klen;
    uint8_t *val; /* NULL: deleted */
    size_t vlen;
} overlay_row;

struct esg_state {
    esg_store *store;
    MDB_txn *txn;                     /* the caller's */
    size_t mark[MAX_SAVEPOINTS + 1];  /* n_rows when each savepoint began */
    int depth;
    bool writable;
    bool scratch;            /* writes go to the overlay below */
    struct overlay_row *rows; /* scratch writes, newest last */
    size_t n_rows, cap_rows;
    esg_smt_change *changes;
    size_t n_changes, cap_changes;
};

static int map_lmdb(int rc) {
    if (rc == 0) return ESG_OK;
    if (rc == MDB_NOTFOUND) return ESG_ERR_NOT_FOUND;
    if (rc == MDB_MAP_FULL) return ESG_ERR_MAP_FULL;
    return ESG_ERR_STORE;
}

int esg_state_open(esg_state **out, esg_store *store, MDB_txn *txn, bool writable) {
    assert(out && store && txn);
    esg_state *st = calloc(1, sizeof *st);
    if (!st)
        return ESG_ERR_NOMEM;
    st->store = store;
    st->txn = txn;
    st->writable = writable;
    *out = st;
    return ESG_OK;
}

int esg_state_open_scratch(esg_state **out, esg_store *store, MDB_txn *read_txn) {
    int rc = esg_state_open(out, store, read_txn, true);
    if (rc == 0)
        (*out)->scratch = true;
    return rc;
}

void esg_state_free(esg_state *st) {
    if (!st)
        return;
    while (st->depth > 0)
        esg_state_rollback(st);
    for (size_t i = 0; i < st->n_rows; i++) {
        free(st->rows[i].key);
        free(st->rows[i].val);
    }
    free(st->rows);
    free(st->changes);
    free(st);
}

MDB_txn *esg_state_txn(esg_state *st) {
    return st->txn;
}

/* Builds T || key into buf (at least 1 + ESG_STATE_MAX_KEY bytes). */
static int full_key(uint8_t *buf, esg_table t, const void *key, size_t klen) {
    if (klen > ESG_STATE_MAX_KEY)
        return ESG_ERR_INVALID_ARGUMENT;
    buf[0] = (uint8_t)t;
    if (klen)
        memcpy(buf + 1, key, klen);
    return ESG_OK;
}

esg_hash esg_state_key(esg_table t, const void *key, size_t klen) {
    uint8_t tb = (uint8_t)t;
    return esg_hash_tagged2(ESG_TAG_STATE_KEY, &tb, 1, key, klen);
}

/* The newest overlay row for a full key, or NULL. */
static const overlay_row *overlay_find(const esg_state *st, const uint8_t *k, size_t klen) {
    for (size_t i = st->n_rows; i-- > 0;)
        if (st->rows[i].klen == klen && memcmp(st->rows[i].key, k, klen) == 0)
            return &st->rows[i];
    return NULL;
}

static int overlay_put(esg_state *st, const uint8_t *k, size_t klen, const void *val,
                       size_t vlen, bool del) {
    if (st->n_rows == st->cap_rows) {
        size_t cap = st->cap_rows ? 2 * st->cap_rows : 8;
        overlay_row *r = realloc(st->rows, cap * sizeof *r);
        if (!r)
            return ESG_ERR_NOMEM;
        st->rows = r;
        st->cap_rows = cap;
    }
    overlay_row r = {malloc(klen), klen, del ? NULL : malloc(vlen ? vlen : 1), vlen};
    if (!r.key || (!del && !r.val)) {
        free(r.key);
        free(r.val);
        return ESG_ERR_NOMEM;
    }
    memcpy(r.key, k, klen);
    if (!del && vlen)
        memcpy(r.val, val, vlen);
    st->rows[st->n_rows++] = r;
    return ESG_OK;
}

int esg_state_get(esg_state *st, esg_table t, const void *key, size_t klen,
                  MDB_val *val) {
    uint8_t buf[1 + ESG_STATE_MAX_KEY];
    int rc = full_key(buf, t, key, klen);
    if (rc)
        return rc;
    const overlay_row *r = overlay_find(st, buf, 1 + klen);
    if (r) {
        if (!r->val)
            return ESG_ERR_NOT_FOUND;
        val->mv_data = r->val;
        val->mv_size = r->vlen;
        return ESG_OK;
    }
    return esg_store_get(esg_state_txn(st), esg_store_dbi(st->store, ESG_DB_STATE),
                         buf, 1 + klen, val);
}

static int record_change(esg_state *st, esg_table t, const void *key, size_t klen,
                         bool del, const void *val, size_t vlen) {
    if (st->n_changes == st->cap_changes) {
        size_t cap = st->cap_changes ? 2 * st->cap_changes : 64;
        esg_smt_change *c = realloc(st->changes, cap * sizeof *c);
        if (!c)
            return ESG_ERR_NOMEM;
        st->changes = c;
        st->cap_changes = cap;
    }
    esg_smt_change *c = &st->changes[st->n_changes++];
    memset(c, 0, sizeof *c);
    c->key = esg_state_key(t, key, klen);
    c->del = del;
    if (!del)
        c->value_hash = esg_sha256(val, vlen);
    return ESG_OK;
}

int esg_state_put(esg_state *st, esg_table t, const void *key, size_t klen,
                  const void *val, size_t vlen) {
    assert(st->writable);
    uint8_t buf[1 + ESG_STATE_MAX_KEY];
    int rc = full_key(buf, t, key, klen);
    if (rc)
        return rc;
    if (st->scratch || st->depth > 0)
        return overlay_put(st, buf, 1 + klen, val, vlen, false);
    rc = esg_store_put(esg_state_txn(st), esg_store_dbi(st->store, ESG_DB_STATE),
                       buf, 1 + klen, val, vlen);
    if (rc)
        return rc;
    return record_change(st, t, key, klen, false, val, vlen);
}

int esg_state_del(esg_state *st, esg_table t, const void *key, size_t klen) {
    assert(st->writable);
    uint8_t buf[1 + ESG_STATE_MAX_KEY];
    int rc = full_key(buf, t, key, klen);
    if (rc)
        return rc;
    if (st->scratch || st->depth > 0)
        return overlay_put(st, buf, 1 + klen, NULL, 0, true);
    rc = esg_store_del(esg_state_txn(st), esg_store_dbi(st->store, ESG_DB_STATE),
                       buf, 1 + klen);
    if (rc)
        return rc;
    return record_change(st, t, key, klen, true, NULL, 0);
}

int esg_state_get_msg(esg_state *st, esg_table t, const void *key, size_t klen,
                      const ProtobufCMessageDescriptor *desc,
                      ProtobufCMessage **out) {
    MDB_val v;
    *out = NULL;
    int rc = esg_state_get(st, t, key, klen, &v);
    if (rc)
        return rc;
    rc = esg_pb_decode(desc, v.mv_data, v.mv_size, SIZE_MAX, out);
    return rc ? ESG_ERR_STORE_CORRUPT : ESG_OK;
}

int esg_state_put_msg(esg_state *st, esg_table t, const void *key, size_t klen,
                      const ProtobufCMessage *msg) {
    uint8_t *buf;
    size_t len;
    int rc = esg_pb_encode(msg, &buf, &len);
    if (rc)
        return rc;
    rc = esg_state_put(st, t, key, klen, buf, len);
    free(buf);
    return rc;
}

/* LMDB's default key order: bytewise, a prefix before its extensions. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

static int row_cmp(const void *x, const void *y) {
    const overlay_row *a = *(overlay_row *const *)x, *b = *(overlay_row *const *)y;
    return key_cmp(a->key, a->klen, b->key, b->klen);
}

/* Iterates the stored rows merged with the overlay's (the overlay wins on
 * equal keys; its deletions hide stored rows). */
int esg_state_iter(esg_state *st, esg_table t, const void *prefix, size_t plen,
                   esg_state_iter_fn fn, void *arg) {
    uint8_t start[1 + ESG_STATE_MAX_KEY];
    int rc = full_key(start, t, prefix, plen);
    if (rc)
        return rc;
    /* The newest overlay row of each key under the prefix, in key order. */
    overlay_row **ov = NULL;
    size_t n_ov = 0;
    if (st->n_rows) {
        if (!(ov = malloc(st->n_rows * sizeof *ov)))
            return ESG_ERR_NOMEM;
        for (size_t i = 0; i < st->n_rows; i++) {
            overlay_row *r = &st->rows[i];
            if (r->klen >= 1 + plen && memcmp(r->key, start, 1 + plen) == 0 &&
                overlay_find(st, r->key, r->klen) == r)
                ov[n_ov++] = r;
        }
        qsort(ov, n_ov, sizeof *ov, row_cmp);
    }
    MDB_cursor *cur;
    rc = mdb_cursor_open(esg_state_txn(st), esg_store_dbi(st->store, ESG_DB_STATE), &cur);
    if (rc) {
        free(ov);
        return map_lmdb(rc);
    }
    MDB_val k = {1 + plen, start}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    bool more = rc == 0 && k.mv_size >= 1 + plen && memcmp(k.mv_data, start, 1 + plen) == 0;
    size_t oi = 0;
    int result = ESG_OK;
    while (result == 0 && (more || oi < n_ov)) {
        int c = !more ? 1 : oi == n_ov ? -1
                          : key_cmp(k.mv_data, k.mv_size, ov[oi]->key, ov[oi]->klen);
        if (c < 0) {
            result = fn((const uint8_t *)k.mv_data + 1, k.mv_size - 1, v.mv_data, v.mv_size, arg);
        } else if (ov[oi]->val) {
            result = fn(ov[oi]->key + 1, ov[oi]->klen - 1, ov[oi]->val, ov[oi]->vlen, arg);
        }
        if (c >= 0)
            oi++;
        if (c <= 0 && result == 0) {
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            more = rc == 0 && k.mv_size >= 1 + plen && memcmp(k.mv_data, start, 1 + plen) == 0;
        }
    }
    mdb_cursor_close(cur);
    free(ov);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return map_lmdb(rc);
    return result;
}

/* Savepoints keep a transaction's writes in the overlay and write them
 * through on release. LMDB's nested transactions would do the same job,
 * but each one allocates a 2 MiB dirty-page list: ~100 us per transaction
 * in a block, more than everything else a block does but fsync. */
int esg_state_savepoint(esg_state *st) {
    assert(st->writable);
    if (st->depth == MAX_SAVEPOINTS)
        return ESG_ERR_INTERNAL;
    st->depth++;
    st->mark[st->depth] = st->n_rows;
    return ESG_OK;
}

static void rows_truncate(esg_state *st, size_t n) {
    while (st->n_rows > n) {
        st->n_rows--;
        free(st->rows[st->n_rows].key);
        free(st->rows[st->n_rows].val);
    }
}

int esg_state_release(esg_state *st) {
    assert(st->depth > 0);
    st->depth--;
    if (st->depth > 0 || st->scratch)
        return ESG_OK; /* the rows now belong to the enclosing level */
    /* Write through in order: a later row for the same key wins. */
    MDB_dbi dbi = esg_store_dbi(st->store, ESG_DB_STATE);
    int rc = ESG_OK;
    for (size_t i = 0; rc == 0 && i < st->n_rows; i++) {
        const overlay_row *r = &st->rows[i];
        esg_table t = (esg_table)r->key[0];
        if (r->val)
            rc = esg_store_put(st->txn, dbi, r->key, r->klen, r->val, r->vlen);
        else
            rc = esg_store_del(st->txn, dbi, r->key, r->klen);
        if (rc == 0)
            rc = record_change(st, t, r->key + 1, r->klen - 1, !r->val, r->val, r->vlen);
    }
    rows_truncate(st, 0);
    return rc;
}

void esg_state_rollback(esg_state *st) {
    assert(st->depth > 0);
    rows_truncate(st, st->mark[st->depth]);
    st->depth--;
}

int esg_state_root(esg_state *st, esg_hash *root) {
    assert(st->depth == 0 && !st->scratch);
    MDB_dbi leaves = esg_store_dbi(st->store, ESG_DB_SMT_LEAVES);
    MDB_dbi nodes = esg_store_dbi(st->store, ESG_DB_SMT_NODES);
    if (!st->writable || st->n_changes == 0)
        return esg_smt_root(st->txn, leaves, nodes, root);
    int rc = esg_smt_apply(st->txn, leaves, nodes, st->changes, st->n_changes, root);
    if (rc == 0)
        st->n_changes = 0;
    return rc;
}

int esg_state_prove(esg_state *st, esg_table t, const void *key, size_t klen,
                    MDB_val *value, struct esg_smt_proof *proof) {
    int rc = esg_state_get(st, t, key, klen, value);
    if (rc == ESG_ERR_NOT_FOUND) {
        value->mv_data = NULL;
        value->mv_size = 0;
    } else if (rc) {
        return rc;
    }
    esg_hash k = esg_state_key(t, key, klen);
    return esg_smt_prove(esg_state_txn(st), esg_store_dbi(st->store, ESG_DB_SMT_LEAVES),
                         esg_store_dbi(st->store, ESG_DB_SMT_NODES), &k, proof);
}
