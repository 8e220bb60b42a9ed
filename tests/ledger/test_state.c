/* suite_state: ledger/state.c -- typed tables over LMDB, savepoints and the
 * state root -- on real stores in temporary directories. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/smt.h"
#include "ledger/state.h"
#include "ledger/store.h"
#include "testutil.h"

/* ------------------------------------------------------------- helpers */

typedef struct tstore {
    char dir[256];
    esg_store *s;
} tstore;

static void ts_open(tstore *t) {
    tu_tmpdir(t->dir, sizeof t->dir);
    ck_assert_int_eq(esg_store_open(&t->s, t->dir, true), 0);
}

static void ts_close(tstore *t) {
    esg_store_close(t->s);
    tu_rmtree(t->dir);
}

/* Runs fn on a write view inside one store write; the view's root is
 * computed (and stored in *root when not NULL) before the commit. */
typedef int (*view_fn)(esg_state *st, void *arg);
typedef struct wjob {
    esg_store *s;
    view_fn fn;
    void *arg;
    esg_hash root;
} wjob;

static int wjob_txn(MDB_txn *txn, void *arg) {
    wjob *j = arg;
    esg_state *st;
    int rc = esg_state_open(&st, j->s, txn, true);
    if (rc)
        return rc;
    rc = j->fn(st, j->arg);
    if (rc == 0)
        rc = esg_state_root(st, &j->root);
    esg_state_free(st);
    return rc;
}

static esg_hash ts_write(tstore *t, view_fn fn, void *arg) {
    wjob j = {t->s, fn, arg, {{0}}};
    int rc = esg_store_write(t->s, wjob_txn, &j);
    ck_assert_msg(rc == 0, "write: %s", esg_err_name(rc));
    return j.root;
}

/* A read view for the duration of a test step. */
typedef struct rview {
    MDB_txn *txn;
    esg_state *st;
} rview;

static rview rv_begin(tstore *t) {
    rview r;
    ck_assert_int_eq(esg_store_read_begin(t->s, &r.txn), 0);
    ck_assert_int_eq(esg_state_open(&r.st, t->s, r.txn, false), 0);
    return r;
}

static void rv_end(rview *r) {
    esg_state_free(r->st);
    esg_store_read_end(r->txn);
}

static esg_hash ts_root(tstore *t) {
    rview r = rv_begin(t);
    esg_hash h;
    ck_assert_int_eq(esg_state_root(r.st, &h), 0);
    rv_end(&r);
    return h;
}

/* The value of T/key as a string ("" for an empty value), or NULL when
 * absent; static buffer. */
static const char *ts_get(tstore *t, esg_table tb, const char *key) {
    static char buf[512];
    rview r = rv_begin(t);
    MDB_val v;
    int rc = esg_state_get(r.st, tb, key, strlen(key), &v);
    const char *out = NULL;
    if (rc == 0) {
        ck_assert_uint_lt(v.mv_size, sizeof buf);
        memcpy(buf, v.mv_data, v.mv_size);
        buf[v.mv_size] = '\0';
        out = buf;
    } else {
        ck_assert_int_eq(rc, ESG_ERR_NOT_FOUND);
    }
    rv_end(&r);
    return out;
}

static int put_s(esg_state *st, esg_table t, const char *k, const char *v) {
    return esg_state_put(st, t, k, strlen(k), v, strlen(v));
}

static int del_s(esg_state *st, esg_table t, const char *k) {
    return esg_state_del(st, t, k, strlen(k));
}

/* A list of rows "key=value" applied with put (value "-" deletes). */
typedef struct rows {
    const char *const *kv;
    size_t n;
} rows;

static int apply_rows(esg_state *st, void *arg) {
    const rows *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        char k[64];
        const char *eq = strchr(r->kv[i], '=');
        ck_assert_ptr_nonnull(eq);
        snprintf(k, sizeof k, "%.*s", (int)(eq - r->kv[i]), r->kv[i]);
        int rc = strcmp(eq + 1, "-") == 0 ? del_s(st, ESG_T_REPORTS, k)
                                          : put_s(st, ESG_T_REPORTS, k, eq + 1);
        if (rc)
            return rc;
    }
    return 0;
}

#define ROWS(...) (&(rows){(const char *const[]){__VA_ARGS__}, \
    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)})

/* Root of a fresh store holding exactly the given rows. */
static esg_hash root_of_rows(rows *r) {
    tstore t;
    ts_open(&t);
    esg_hash h = ts_write(&t, apply_rows, r);
    ts_close(&t);
    return h;
}

/* ------------------------------------------------------ put, get, del */

static int step_basic(esg_state *st, void *arg) {
    (void)arg;
    ck_assert_int_eq(put_s(st, ESG_T_MEMBERS, "city-a", "A"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_MEMBERS, "city-b", "B"), 0);
    /* The same key in another table is another record. */
    ck_assert_int_eq(put_s(st, ESG_T_KPIS, "city-a", "kpi"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_MEMBERS, "gone", "x"), 0);
    /* Reads see the view's own writes. */
    MDB_val v;
    ck_assert_int_eq(esg_state_get(st, ESG_T_MEMBERS, "gone", 4, &v), 0);
    ck_assert_int_eq(del_s(st, ESG_T_MEMBERS, "gone"), 0);
    ck_assert_int_eq(esg_state_get(st, ESG_T_MEMBERS, "gone", 4, &v), ESG_ERR_NOT_FOUND);
    /* Deleting an absent key is not an error. */
    ck_assert_int_eq(del_s(st, ESG_T_MEMBERS, "never"), 0);
    /* Overwrite. */
    ck_assert_int_eq(put_s(st, ESG_T_MEMBERS, "city-b", "B2"), 0);
    /* The empty key (params) and an empty value. */
    ck_assert_int_eq(esg_state_put(st, ESG_T_PARAMS, NULL, 0, "p", 1), 0);
    ck_assert_int_eq(esg_state_put(st, ESG_T_PROPOSAL_EXPIRY, "e", 1, "", 0), 0);
    return 0;
}

START_TEST(test_put_get_del) {
    tstore t;
    ts_open(&t);
    ts_write(&t, step_basic, NULL);
    ck_assert_str_eq(ts_get(&t, ESG_T_MEMBERS, "city-a"), "A");
    ck_assert_str_eq(ts_get(&t, ESG_T_MEMBERS, "city-b"), "B2");
    ck_assert_str_eq(ts_get(&t, ESG_T_KPIS, "city-a"), "kpi");
    ck_assert_ptr_null(ts_get(&t, ESG_T_MEMBERS, "gone"));
    ck_assert_ptr_null(ts_get(&t, ESG_T_MEMBERS, "never"));
    ck_assert_ptr_null(ts_get(&t, ESG_T_ACCOUNTS, "city-a"));
    ck_assert_str_eq(ts_get(&t, ESG_T_PARAMS, ""), "p");
    ck_assert_str_eq(ts_get(&t, ESG_T_PROPOSAL_EXPIRY, "e"), "");
    /* Rows are stored as T || key in ESG_DB_STATE. */
    MDB_txn *txn;
    ck_assert_int_eq(esg_store_read_begin(t.s, &txn), 0);
    MDB_val v;
    ck_assert_int_eq(esg_store_get(txn, esg_store_dbi(t.s, ESG_DB_STATE), "\x02" "city-a", 7, &v), 0);
    ck_assert_uint_eq(v.mv_size, 1);
    ck_assert_int_eq(((const char *)v.mv_data)[0], 'A');
    esg_store_read_end(txn);
    ts_close(&t);
}
END_TEST

static uint8_t long_key[ESG_STATE_MAX_KEY + 1];

static int step_max_key_only(esg_state *st, void *arg) {
    (void)arg;
    return esg_state_put(st, ESG_T_REPORTS, long_key, ESG_STATE_MAX_KEY, "v", 1);
}

static int step_long_keys(esg_state *st, void *arg) {
    (void)arg;
    uint8_t *key = long_key;
    const size_t keysize = sizeof long_key;
    MDB_val v;
    ck_assert_int_eq(esg_state_put(st, ESG_T_REPORTS, key, ESG_STATE_MAX_KEY, "v", 1), 0);
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, key, ESG_STATE_MAX_KEY, &v), 0);
    ck_assert_int_eq(esg_state_put(st, ESG_T_REPORTS, key, keysize, "v", 1),
                     ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, key, keysize, &v),
                     ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_state_del(st, ESG_T_REPORTS, key, keysize),
                     ESG_ERR_INVALID_ARGUMENT);
    return 0;
}

START_TEST(test_key_limit) {
    memset(long_key, 'k', sizeof long_key);
    tstore t, u;
    ts_open(&t);
    ts_open(&u);
    /* The refused writes record no tree change: the root is that of the
     * one accepted row. */
    esg_hash a = ts_write(&t, step_long_keys, NULL);
    esg_hash b = ts_write(&u, step_max_key_only, NULL);
    ck_assert(!esg_hash_is_zero(&a));
    ck_assert(esg_hash_eq(&a, &b));
    ts_close(&t);
    ts_close(&u);
}
END_TEST

START_TEST(test_state_key_definition) {
    /* k = H("esg/state/key", T || K): what a client in another language
     * computes to verify a proof. */
    uint8_t buf[1 + 6] = {ESG_T_MEMBERS, 'c', 'i', 't', 'y', '-', 'a'};
    esg_hash want = esg_hash_tagged(ESG_TAG_STATE_KEY, buf, sizeof buf);
    esg_hash got = esg_state_key(ESG_T_MEMBERS, "city-a", 6);
    ck_assert(esg_hash_eq(&want, &got));
    esg_hash other = esg_state_key(ESG_T_KPIS, "city-a", 6);
    ck_assert(!esg_hash_eq(&want, &other));
}
END_TEST

/* ------------------------------------------------------------ messages */

static int step_msgs(esg_state *st, void *arg) {
    (void)arg;
    esg_pb_params p = ESG_PB_PARAMS_INIT;
    p.governance_threshold_bps = 6667;
    p.max_block_txs = 12;
    ck_assert_int_eq(esg_state_put_msg(st, ESG_T_PARAMS, NULL, 0, &p.base), 0);
    /* Not protobuf at all (a truncated varint). */
    ck_assert_int_eq(esg_state_put(st, ESG_T_MEMBERS, "bad", 3, "\x08\xff", 2), 0);
    /* Valid protobuf but not canonical: an explicit default (field 1 = 0). */
    ck_assert_int_eq(esg_state_put(st, ESG_T_MEMBERS, "noncanon", 8, "\x08\x00", 2), 0);
    /* An unknown field. */
    ck_assert_int_eq(esg_state_put(st, ESG_T_MEMBERS, "unknown", 7, "\xf8\x01\x01", 3), 0);
    return 0;
}

START_TEST(test_get_msg) {
    tstore t;
    ts_open(&t);
    ts_write(&t, step_msgs, NULL);
    rview r = rv_begin(&t);
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    ck_assert_int_eq(esg_state_get_msg(r.st, ESG_T_PARAMS, NULL, 0, ESG_PB_PARAMS_DESC, &m), 0);
    esg_pb_params *p = (esg_pb_params *)m;
    ck_assert_uint_eq(p->governance_threshold_bps, 6667);
    ck_assert_uint_eq(p->max_block_txs, 12);
    esg_pb_free(m);

    m = (ProtobufCMessage *)1;
    ck_assert_int_eq(esg_state_get_msg(r.st, ESG_T_MEMBERS, "absent", 6, ESG_PB_MEMBER_DESC, &m),
                     ESG_ERR_NOT_FOUND);
    ck_assert_ptr_null(m);
    const char *bad[] = {"bad", "noncanon", "unknown"};
    for (size_t i = 0; i < 3; i++) {
        m = (ProtobufCMessage *)1;
        int rc = esg_state_get_msg(r.st, ESG_T_MEMBERS, bad[i], strlen(bad[i]),
                                   ESG_PB_MEMBER_DESC, &m);
        ck_assert_msg(rc == ESG_ERR_STORE_CORRUPT, "'%s': %s", bad[i], esg_err_name(rc));
        ck_assert_ptr_null(m);
    }
    rv_end(&r);
    ts_close(&t);
}
END_TEST

/* ----------------------------------------------------------- iteration */

typedef struct seen {
    char keys[16][32];
    char vals[16][32];
    size_t n;
    size_t stop_after; /* 0: never */
} seen;

static int collect(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                   void *arg) {
    seen *s = arg;
    ck_assert_uint_lt(s->n, 16);
    snprintf(s->keys[s->n], 32, "%.*s", (int)klen, (const char *)key);
    snprintf(s->vals[s->n], 32, "%.*s", (int)vlen, (const char *)val);
    s->n++;
    if (s->stop_after && s->n == s->stop_after)
        return 42;
    return 0;
}

static int step_iter_rows(esg_state *st, void *arg) {
    (void)arg;
    /* Written out of order; keys sharing prefixes. */
    const char *keys[] = {"b", "abc", "a", "ba", "ab", "\xff\xff"};
    for (size_t i = 0; i < 6; i++)
        ck_assert_int_eq(put_s(st, ESG_T_MEMBERS, keys[i], keys[i]), 0);
    /* Neighbouring tables must not leak into the listing. */
    ck_assert_int_eq(put_s(st, ESG_T_PARAMS, "a", "params"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_ACCOUNTS, "", "acct-empty-key"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_ACCOUNTS, "a", "acct"), 0);
    return 0;
}

START_TEST(test_iter) {
    tstore t;
    ts_open(&t);
    ts_write(&t, step_iter_rows, NULL);
    rview r = rv_begin(&t);

    seen s = {0};
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_MEMBERS, NULL, 0, collect, &s), 0);
    ck_assert_uint_eq(s.n, 6);
    const char *order[] = {"a", "ab", "abc", "b", "ba", "\xff\xff"};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_str_eq(s.keys[i], order[i]);
        ck_assert_str_eq(s.vals[i], order[i]);
    }

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_MEMBERS, "a", 1, collect, &s), 0);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_str_eq(s.keys[0], "a");
    ck_assert_str_eq(s.keys[1], "ab");
    ck_assert_str_eq(s.keys[2], "abc");

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_MEMBERS, "ab", 2, collect, &s), 0);
    ck_assert_uint_eq(s.n, 2);

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_MEMBERS, "\xff", 1, collect, &s), 0);
    ck_assert_uint_eq(s.n, 1);

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_MEMBERS, "c", 1, collect, &s), 0);
    ck_assert_uint_eq(s.n, 0);

    /* Early stop: fn's value comes back and no further record is visited. */
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_MEMBERS, NULL, 0, collect, &s), 42);
    ck_assert_uint_eq(s.n, 2);

    /* A table with an empty key lists it first. */
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_ACCOUNTS, NULL, 0, collect, &s), 0);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.vals[0], "acct-empty-key");

    /* An empty table and a table past every row. */
    memset(&s, 0, sizeof s);
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_KPIS, NULL, 0, collect, &s), 0);
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_DISPUTES, NULL, 0, collect, &s), 0);
    ck_assert_uint_eq(s.n, 0);

    static uint8_t longp[ESG_STATE_MAX_KEY + 1];
    ck_assert_int_eq(esg_state_iter(r.st, ESG_T_MEMBERS, longp, sizeof longp, collect, &s),
                     ESG_ERR_INVALID_ARGUMENT);
    rv_end(&r);
    ts_close(&t);
}
END_TEST

/* ---------------------------------------------------------- savepoints */

static int step_rollback(esg_state *st, void *arg) {
    (void)arg;
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "a", "1"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "c", "3"), 0);
    ck_assert_int_eq(esg_state_savepoint(st), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "b", "2"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "a", "changed"), 0);
    ck_assert_int_eq(del_s(st, ESG_T_REPORTS, "c"), 0);
    MDB_val v;
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "b", 1, &v), 0);
    /* Inside the savepoint, listing sees its writes and deletions. */
    seen sn = {0};
    ck_assert_int_eq(esg_state_iter(st, ESG_T_REPORTS, NULL, 0, collect, &sn), 0);
    ck_assert_uint_eq(sn.n, 2);
    ck_assert_str_eq(sn.keys[0], "a");
    ck_assert_str_eq(sn.vals[0], "changed");
    ck_assert_str_eq(sn.keys[1], "b");
    esg_state_rollback(st);
    memset(&sn, 0, sizeof sn);
    ck_assert_int_eq(esg_state_iter(st, ESG_T_REPORTS, NULL, 0, collect, &sn), 0);
    ck_assert_uint_eq(sn.n, 2);
    ck_assert_str_eq(sn.vals[0], "1");
    ck_assert_str_eq(sn.keys[1], "c");
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "b", 1, &v), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "a", 1, &v), 0);
    ck_assert_uint_eq(v.mv_size, 1);
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "c", 1, &v), 0);
    return 0;
}

START_TEST(test_savepoint_rollback) {
    tstore t;
    ts_open(&t);
    esg_hash r = ts_write(&t, step_rollback, NULL);
    /* The rolled-back writes left no row and no tree change. */
    ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "a"), "1");
    ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "c"), "3");
    ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "b"));
    esg_hash want = root_of_rows(ROWS("a=1", "c=3"));
    ck_assert(esg_hash_eq(&r, &want));
    esg_hash stored = ts_root(&t);
    ck_assert(esg_hash_eq(&stored, &want));
    ts_close(&t);
}
END_TEST

static int step_nested(esg_state *st, void *arg) {
    int mode = *(int *)arg;
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "a", "1"), 0);
    ck_assert_int_eq(esg_state_savepoint(st), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "b", "2"), 0);
    ck_assert_int_eq(esg_state_savepoint(st), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "c", "3"), 0);
    ck_assert_int_eq(del_s(st, ESG_T_REPORTS, "a"), 0);
    switch (mode) {
    case 0: /* inner rolled back, outer kept */
        esg_state_rollback(st);
        ck_assert_int_eq(esg_state_release(st), 0);
        break;
    case 1: /* inner kept, outer rolled back: the inner goes with it */
        ck_assert_int_eq(esg_state_release(st), 0);
        esg_state_rollback(st);
        break;
    case 2: /* both kept */
        ck_assert_int_eq(esg_state_release(st), 0);
        ck_assert_int_eq(esg_state_release(st), 0);
        break;
    }
    /* A later savepoint still works after the others closed. */
    ck_assert_int_eq(esg_state_savepoint(st), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "z", "26"), 0);
    esg_state_rollback(st);
    return 0;
}

START_TEST(test_savepoint_nested) {
    const struct {
        int mode;
        rows *want;
    } cases[] = {
        {0, ROWS("a=1", "b=2")},
        {1, ROWS("a=1")},
        {2, ROWS("b=2", "c=3")},
    };
    for (size_t i = 0; i < 3; i++) {
        tstore t;
        ts_open(&t);
        int mode = cases[i].mode;
        esg_hash r = ts_write(&t, step_nested, &mode);
        esg_hash want = root_of_rows(cases[i].want);
        ck_assert_msg(esg_hash_eq(&r, &want), "mode %d: root differs", mode);
        ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "z"));
        if (mode == 0) {
            ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "b"), "2");
            ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "c"));
            ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "a"), "1");
        } else if (mode == 1) {
            ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "b"));
            ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "c"));
        } else {
            ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "a"));
            ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "c"), "3");
        }
        ts_close(&t);
    }
}
END_TEST

static int step_free_open_savepoint(MDB_txn *txn, void *arg) {
    esg_store *s = arg;
    esg_state *st;
    ck_assert_int_eq(esg_state_open(&st, s, txn, true), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "kept", "1"), 0);
    ck_assert_int_eq(esg_state_savepoint(st), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "dropped", "1"), 0);
    esg_state_free(st); /* rolls the open savepoint back */
    /* The caller's transaction is usable again. */
    MDB_val v;
    ck_assert_int_eq(esg_store_get(txn, esg_store_dbi(s, ESG_DB_STATE), "\x14" "kept", 5, &v), 0);
    ck_assert_int_eq(esg_store_get(txn, esg_store_dbi(s, ESG_DB_STATE), "\x14" "dropped", 8, &v),
                     ESG_ERR_NOT_FOUND);
    return 0;
}

START_TEST(test_free_rolls_back) {
    tstore t;
    ts_open(&t);
    ck_assert_int_eq(esg_store_write(t.s, step_free_open_savepoint, t.s), 0);
    ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "kept"), "1");
    ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "dropped"));
    ts_close(&t);
}
END_TEST

static int step_deep(esg_state *st, void *arg) {
    (void)arg;
    /* Savepoints nest 8 deep; one more is refused (and changes nothing). */
    for (int i = 0; i < 8; i++) {
        char k[8];
        snprintf(k, sizeof k, "d%d", i);
        ck_assert_int_eq(esg_state_savepoint(st), 0);
        ck_assert_int_eq(put_s(st, ESG_T_REPORTS, k, "x"), 0);
    }
    ck_assert_int_ne(esg_state_savepoint(st), 0);
    MDB_val v;
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "d7", 2, &v), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(esg_state_release(st), 0);
    for (int i = 0; i < 4; i++)
        esg_state_rollback(st);
    return 0;
}

START_TEST(test_savepoint_depth) {
    tstore t;
    ts_open(&t);
    esg_hash r = ts_write(&t, step_deep, NULL);
    /* Levels 5..8 were released into level 4, which was rolled back with
     * levels 1..3: nothing is left. */
    ck_assert(esg_hash_is_zero(&r));
    ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "d0"));
    ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "d7"));
    ts_close(&t);
}
END_TEST

/* ----------------------------------------------------------- the root */

START_TEST(test_root_order_independent) {
    /* The same final rows reached by different write orders, overwrites
     * and deletes give the same root. */
    esg_hash a = root_of_rows(ROWS("k1=v1", "k2=old", "tmp=x", "k3=v3", "k2=v2", "tmp=-",
                                   "k4=v4", "k4=-", "k4=v4b"));
    esg_hash b = root_of_rows(ROWS("k4=v4b", "k3=v3", "k2=v2", "k1=v1"));
    esg_hash c = root_of_rows(ROWS("k3=v3", "k1=v1", "k4=v4b", "k2=v2", "never=-"));
    ck_assert(esg_hash_eq(&a, &b));
    ck_assert(esg_hash_eq(&a, &c));
    /* And over several blocks: the root commits to the rows, not to the
     * history. */
    tstore t;
    ts_open(&t);
    ts_write(&t, apply_rows, ROWS("k2=zzz", "k4=v4b", "gone=1"));
    esg_hash d = ts_write(&t, apply_rows, ROWS("gone=-", "k3=v3", "k1=v1", "k2=v2"));
    ck_assert(esg_hash_eq(&a, &d));
    /* A different value gives a different root. */
    esg_hash e = root_of_rows(ROWS("k1=v1", "k2=v2", "k3=v3", "k4=v4c"));
    ck_assert(!esg_hash_eq(&a, &e));
    /* No rows at all: the empty tree's root is zero. */
    esg_hash z = root_of_rows(ROWS("x=1", "x=-"));
    ck_assert(esg_hash_is_zero(&z));
    ts_close(&t);
}
END_TEST

static int step_root_twice(esg_state *st, void *arg) {
    esg_hash *out = arg;
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "a", "1"), 0);
    ck_assert_int_eq(esg_state_root(st, &out[0]), 0);
    /* Another root call without changes returns the same root; writes after
     * a root call are applied by the next one. */
    ck_assert_int_eq(esg_state_root(st, &out[1]), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "b", "2"), 0);
    return 0;
}

START_TEST(test_root_incremental) {
    tstore t;
    ts_open(&t);
    esg_hash mid[2];
    esg_hash end = ts_write(&t, step_root_twice, mid);
    ck_assert(esg_hash_eq(&mid[0], &mid[1]));
    esg_hash want_mid = root_of_rows(ROWS("a=1"));
    esg_hash want_end = root_of_rows(ROWS("a=1", "b=2"));
    ck_assert(esg_hash_eq(&mid[0], &want_mid));
    ck_assert(esg_hash_eq(&end, &want_end));
    esg_hash stored = ts_root(&t);
    ck_assert(esg_hash_eq(&stored, &want_end));
    ts_close(&t);
}
END_TEST

/* -------------------------------------------------------------- proofs */

START_TEST(test_prove) {
    tstore t;
    ts_open(&t);
    esg_hash root = ts_write(&t, apply_rows, ROWS("alpha=1", "beta=22", "gamma=333",
                                                  "delta=4444", "gone=x", "gone=-"));
    rview r = rv_begin(&t);
    esg_hash sroot;
    ck_assert_int_eq(esg_state_root(r.st, &sroot), 0);
    ck_assert(esg_hash_eq(&root, &sroot));

    static esg_smt_proof proof;
    const char *present[] = {"alpha", "beta", "gamma", "delta"};
    for (size_t i = 0; i < 4; i++) {
        MDB_val v;
        ck_assert_int_eq(esg_state_prove(r.st, ESG_T_REPORTS, present[i], strlen(present[i]),
                                         &v, &proof), 0);
        ck_assert_uint_eq(v.mv_size, i + 1);
        esg_hash k = esg_state_key(ESG_T_REPORTS, present[i], strlen(present[i]));
        esg_hash vh = esg_sha256(v.mv_data, v.mv_size);
        ck_assert_int_eq(esg_smt_verify(&root, &k, &vh, &proof), 0);
        /* The proof shows this value only, and not absence. */
        esg_hash wrong = esg_sha256("nope", 4);
        ck_assert_int_eq(esg_smt_verify(&root, &k, &wrong, &proof), ESG_ERR_PROOF);
        ck_assert_int_eq(esg_smt_verify(&root, &k, NULL, &proof), ESG_ERR_PROOF);
        /* Against another root it fails. */
        esg_hash other = root;
        other.b[0] ^= 1;
        ck_assert_int_eq(esg_smt_verify(&other, &k, &vh, &proof), ESG_ERR_PROOF);
    }
    const char *absent[] = {"gone", "never", "alph"};
    for (size_t i = 0; i < 3; i++) {
        MDB_val v = {7, (void *)"garbage"};
        ck_assert_int_eq(esg_state_prove(r.st, ESG_T_REPORTS, absent[i], strlen(absent[i]),
                                         &v, &proof), 0);
        ck_assert_ptr_null(v.mv_data);
        ck_assert_uint_eq(v.mv_size, 0);
        esg_hash k = esg_state_key(ESG_T_REPORTS, absent[i], strlen(absent[i]));
        ck_assert_int_eq(esg_smt_verify(&root, &k, NULL, &proof), 0);
        esg_hash vh = esg_sha256("x", 1);
        ck_assert_int_eq(esg_smt_verify(&root, &k, &vh, &proof), ESG_ERR_PROOF);
    }
    /* A key of another table is absent even if the bytes match. */
    MDB_val v;
    ck_assert_int_eq(esg_state_prove(r.st, ESG_T_MEMBERS, "alpha", 5, &v, &proof), 0);
    ck_assert_ptr_null(v.mv_data);
    esg_hash k = esg_state_key(ESG_T_MEMBERS, "alpha", 5);
    ck_assert_int_eq(esg_smt_verify(&root, &k, NULL, &proof), 0);
    rv_end(&r);
    ts_close(&t);
}
END_TEST

START_TEST(test_empty_store_root) {
    tstore t;
    ts_open(&t);
    esg_hash h = ts_root(&t);
    ck_assert(esg_hash_is_zero(&h));
    static esg_smt_proof proof;
    rview r = rv_begin(&t);
    MDB_val v;
    ck_assert_int_eq(esg_state_prove(r.st, ESG_T_MEMBERS, "x", 1, &v, &proof), 0);
    esg_hash k = esg_state_key(ESG_T_MEMBERS, "x", 1);
    ck_assert_int_eq(esg_smt_verify(&h, &k, NULL, &proof), 0);
    rv_end(&r);
    ts_close(&t);
}
END_TEST

/* ------------------------------------------------------- scratch views */

START_TEST(test_scratch_view) {
    tstore t;
    ts_open(&t);
    esg_hash root = ts_write(&t, apply_rows, ROWS("a=1", "b=2", "c=3", "d=4", "f=6"));
    ts_write(&t, step_iter_rows, NULL); /* rows in MEMBERS, PARAMS, ACCOUNTS */
    root = ts_root(&t);

    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(t.s, &txn), 0);
    ck_assert_int_eq(esg_state_open_scratch(&st, t.s, txn), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "b", "20"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "b", "21"), 0); /* newest wins */
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "c", "33"), 0);
    ck_assert_int_eq(del_s(st, ESG_T_REPORTS, "c"), 0);       /* hides the stored row */
    ck_assert_int_eq(del_s(st, ESG_T_REPORTS, "d"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "d", "44"), 0); /* back, with a new value */
    ck_assert_int_eq(del_s(st, ESG_T_REPORTS, "f"), 0);       /* the last stored row */
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "e", "5"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "aa", "x"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "0", "zero"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_REPORTS, "zz", ""), 0);
    ck_assert_int_eq(del_s(st, ESG_T_REPORTS, "never"), 0);

    MDB_val v;
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "a", 1, &v), 0);
    ck_assert_mem_eq(v.mv_data, "1", 1);
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "b", 1, &v), 0);
    ck_assert_uint_eq(v.mv_size, 2);
    ck_assert_mem_eq(v.mv_data, "21", 2);
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "c", 1, &v), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "f", 1, &v), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_state_get(st, ESG_T_REPORTS, "zz", 2, &v), 0);
    ck_assert_uint_eq(v.mv_size, 0);

    /* Iteration merges the overlay into the stored rows, in key order. */
    seen sn = {0};
    ck_assert_int_eq(esg_state_iter(st, ESG_T_REPORTS, NULL, 0, collect, &sn), 0);
    const char *keys[] = {"0", "a", "aa", "b", "d", "e", "zz"};
    const char *vals[] = {"zero", "1", "x", "21", "44", "5", ""};
    ck_assert_uint_eq(sn.n, 7);
    for (size_t i = 0; i < 7; i++) {
        ck_assert_str_eq(sn.keys[i], keys[i]);
        ck_assert_str_eq(sn.vals[i], vals[i]);
    }
    memset(&sn, 0, sizeof sn);
    ck_assert_int_eq(esg_state_iter(st, ESG_T_REPORTS, "a", 1, collect, &sn), 0);
    ck_assert_uint_eq(sn.n, 2);
    ck_assert_str_eq(sn.keys[1], "aa");
    memset(&sn, 0, sizeof sn);
    sn.stop_after = 3;
    ck_assert_int_eq(esg_state_iter(st, ESG_T_REPORTS, NULL, 0, collect, &sn), 42);
    ck_assert_uint_eq(sn.n, 3);
    /* A table the overlay did not touch lists as stored. */
    memset(&sn, 0, sizeof sn);
    ck_assert_int_eq(esg_state_iter(st, ESG_T_MEMBERS, NULL, 0, collect, &sn), 0);
    ck_assert_uint_eq(sn.n, 6);
    /* Overlay rows in a table with no stored row. */
    ck_assert_int_eq(put_s(st, ESG_T_DISPUTES, "q", "1"), 0);
    ck_assert_int_eq(put_s(st, ESG_T_DISPUTES, "p", "2"), 0);
    memset(&sn, 0, sizeof sn);
    ck_assert_int_eq(esg_state_iter(st, ESG_T_DISPUTES, NULL, 0, collect, &sn), 0);
    ck_assert_uint_eq(sn.n, 2);
    ck_assert_str_eq(sn.keys[0], "p");

    /* Messages go through the overlay too. */
    esg_pb_params p = ESG_PB_PARAMS_INIT;
    p.max_block_txs = 99;
    ck_assert_int_eq(esg_state_put_msg(st, ESG_T_PARAMS, NULL, 0, &p.base), 0);
    ProtobufCMessage *m;
    ck_assert_int_eq(esg_state_get_msg(st, ESG_T_PARAMS, NULL, 0, ESG_PB_PARAMS_DESC, &m), 0);
    ck_assert_uint_eq(((esg_pb_params *)m)->max_block_txs, 99);
    esg_pb_free(m);
    esg_state_free(st);
    esg_store_read_end(txn);

    /* Nothing of it reached the store. */
    ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "b"), "2");
    ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "c"), "3");
    ck_assert_str_eq(ts_get(&t, ESG_T_REPORTS, "f"), "6");
    ck_assert_ptr_null(ts_get(&t, ESG_T_REPORTS, "e"));
    ck_assert_ptr_null(ts_get(&t, ESG_T_DISPUTES, "q"));
    esg_hash after = ts_root(&t);
    ck_assert(esg_hash_eq(&root, &after));
    ts_close(&t);
}
END_TEST

Suite *suite_state(void) {
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_put_get_del);
    tcase_add_test(tc, test_key_limit);
    tcase_add_test(tc, test_state_key_definition);
    tcase_add_test(tc, test_get_msg);
    tcase_add_test(tc, test_iter);
    tcase_add_test(tc, test_savepoint_rollback);
    tcase_add_test(tc, test_savepoint_nested);
    tcase_add_test(tc, test_free_rolls_back);
    tcase_add_test(tc, test_savepoint_depth);
    tcase_add_test(tc, test_root_order_independent);
    tcase_add_test(tc, test_root_incremental);
    tcase_add_test(tc, test_prove);
    tcase_add_test(tc, test_empty_store_root);
    tcase_add_test(tc, test_scratch_view);
    suite_add_tcase(s, tc);
    return s;
}
