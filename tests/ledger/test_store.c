/* suite_store: ledger/store.c on real LMDB files in temporary directories. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/store.h"
#include "testutil.h"

/* ------------------------------------------------------------- helpers */

static esg_store *open_store(const char *dir, size_t initial_mapsize) {
    esg_store *s = NULL;
    char err[256];
    esg_store_options o = {.initial_mapsize = initial_mapsize};
    int rc = esg_store_open_ex(&s, err, sizeof err, dir, true, &o);
    ck_assert_msg(rc == ESG_OK, "open '%s': %s (%s)", dir, esg_err_name(rc), err);
    ck_assert_ptr_nonnull(s);
    return s;
}

static size_t mapsize_of(esg_store *s) {
    MDB_envinfo info;
    ck_assert_int_eq(mdb_env_info(esg_store_env(s), &info), 0);
    return info.me_mapsize;
}

static void be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Deterministic contents of test block h, so that a reader can tell a
 * block from one written at another height. */
#define BLK_LEN 300
#define CMT_LEN 96
#define ROW_LEN 600
#define ROWS 4
#define MAX_TXS 5

static void fill(uint8_t *buf, size_t len, uint64_t h, uint8_t salt) {
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(h * 31 + i * 7 + salt);
}

static size_t gen_txs(uint64_t h, esg_hash *ids) {
    size_t n = (size_t)(h % MAX_TXS);
    for (size_t i = 0; i < n; i++) {
        uint8_t m[16];
        be64(m, h);
        be64(m + 8, i);
        ids[i] = esg_hash_tagged(ESG_TAG_TX, m, sizeof m);
    }
    return n;
}

static esg_hash block_hash_of(uint64_t h) {
    uint8_t blk[BLK_LEN];
    fill(blk, sizeof blk, h, 1);
    return esg_sha256(blk, sizeof blk);
}

static int row_key(char *key, size_t len, uint64_t h, int j) {
    return snprintf(key, len, "row/%llu/%d", (unsigned long long)h, j);
}

/* One block as the executor would apply it: block, commit, indexes, state
 * rows ("h" = height, per-block rows, a rewritten "hot" row) and meta. */
struct chain_arg {
    esg_store *s;
    uint64_t h;
};

static int apply_block(MDB_txn *txn, void *arg) {
    struct chain_arg *a = arg;
    uint8_t blk[BLK_LEN], cmt[CMT_LEN], row[ROW_LEN], hb[8];
    esg_hash ids[MAX_TXS];
    fill(blk, sizeof blk, a->h, 1);
    fill(cmt, sizeof cmt, a->h, 2);
    esg_hash bh = esg_sha256(blk, sizeof blk);
    size_t n = gen_txs(a->h, ids);
    int rc = esg_store_block_put(txn, a->s, a->h, &bh, blk, sizeof blk, cmt,
                                 sizeof cmt, ids, n);
    if (rc)
        return rc;
    MDB_dbi state = esg_store_dbi(a->s, ESG_DB_STATE);
    for (int j = 0; j < ROWS; j++) {
        char key[64];
        int klen = row_key(key, sizeof key, a->h, j);
        fill(row, sizeof row, a->h, (uint8_t)(3 + j));
        if ((rc = esg_store_put(txn, state, key, (size_t)klen, row, sizeof row)))
            return rc;
    }
    char hot[16];
    int hlen = snprintf(hot, sizeof hot, "hot/%d", (int)(a->h % 7));
    fill(row, sizeof row, a->h, 9);
    if ((rc = esg_store_put(txn, state, hot, (size_t)hlen, row, sizeof row)))
        return rc;
    be64(hb, a->h);
    if ((rc = esg_store_put(txn, state, "h", 1, hb, sizeof hb)))
        return rc;
    esg_store_meta m = {.height = a->h, .block_hash = bh, .time_ms = a->h * 1000};
    m.app_hash = esg_sha256(hb, sizeof hb);
    strcpy(m.chain_id, "kill-test");
    return esg_store_meta_put(txn, a->s, &m);
}

static void write_blocks(esg_store *s, uint64_t from, uint64_t to) {
    for (uint64_t h = from; h <= to; h++) {
        struct chain_arg a = {s, h};
        ck_assert_int_eq(esg_store_write(s, apply_block, &a), ESG_OK);
    }
}

/* Checks that the store is exactly a chain of blocks 1..meta.height written
 * by apply_block, and returns that height. */
static uint64_t verify_chain(esg_store *s) {
    MDB_txn *txn;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    esg_store_meta m;
    ck_assert_int_eq(esg_store_meta_get(txn, s, &m), ESG_OK);
    ck_assert_str_eq(m.chain_id, "kill-test");
    ck_assert_uint_eq(m.time_ms, m.height * 1000);
    esg_hash want = block_hash_of(m.height);
    ck_assert(esg_hash_eq(&m.block_hash, &want));

    MDB_dbi state = esg_store_dbi(s, ESG_DB_STATE);
    MDB_val v, b, c;
    uint8_t hb[8];
    be64(hb, m.height);
    ck_assert_int_eq(esg_store_get(txn, state, "h", 1, &v), ESG_OK);
    ck_assert_uint_eq(v.mv_size, 8);
    ck_assert_mem_eq(v.mv_data, hb, 8);
    esg_hash app = esg_sha256(hb, sizeof hb);
    ck_assert(esg_hash_eq(&m.app_hash, &app));

    /* Nothing of the block after the head. */
    ck_assert_int_eq(esg_store_block_get(txn, s, m.height + 1, &b, &c), ESG_ERR_NOT_FOUND);
    be64(hb, m.height + 1);
    ck_assert_int_eq(esg_store_get(txn, esg_store_dbi(s, ESG_DB_COMMITS), hb, 8, &v),
                     ESG_ERR_NOT_FOUND);
    char key[64];
    int klen = row_key(key, sizeof key, m.height + 1, 0);
    ck_assert_int_eq(esg_store_get(txn, state, key, (size_t)klen, &v), ESG_ERR_NOT_FOUND);

    for (uint64_t h = 1; h <= m.height; h++) {
        uint8_t blk[BLK_LEN], cmt[CMT_LEN], row[ROW_LEN];
        fill(blk, sizeof blk, h, 1);
        fill(cmt, sizeof cmt, h, 2);
        ck_assert_int_eq(esg_store_block_get(txn, s, h, &b, &c), ESG_OK);
        ck_assert_uint_eq(b.mv_size, BLK_LEN);
        ck_assert_mem_eq(b.mv_data, blk, BLK_LEN);
        ck_assert_uint_eq(c.mv_size, CMT_LEN);
        ck_assert_mem_eq(c.mv_data, cmt, CMT_LEN);
        esg_hash bh = esg_sha256(blk, sizeof blk);
        uint64_t got;
        ck_assert_int_eq(esg_store_height_by_hash(txn, s, &bh, &got), ESG_OK);
        ck_assert_uint_eq(got, h);
        esg_hash ids[MAX_TXS];
        size_t n = gen_txs(h, ids);
        for (size_t i = 0; i < n; i++) {
            uint32_t idx;
            ck_assert_int_eq(esg_store_tx_locate(txn, s, &ids[i], &got, &idx), ESG_OK);
            ck_assert_uint_eq(got, h);
            ck_assert_uint_eq(idx, i);
        }
        for (int j = 0; j < ROWS; j++) {
            klen = row_key(key, sizeof key, h, j);
            fill(row, sizeof row, h, (uint8_t)(3 + j));
            ck_assert_int_eq(esg_store_get(txn, state, key, (size_t)klen, &v), ESG_OK);
            ck_assert_uint_eq(v.mv_size, ROW_LEN);
            ck_assert_mem_eq(v.mv_data, row, ROW_LEN);
        }
    }
    esg_store_read_end(txn);
    return m.height;
}

/* ------------------------------------------------------ open and meta */

START_TEST(open_requires_init_then_reopens) {
    char dir[256], sub[300], err[256] = "x";
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = (esg_store *)1;
    ck_assert_int_eq(esg_store_open(&s, dir, false), ESG_ERR_NOT_INITIALIZED);
    ck_assert_ptr_null(s);
    snprintf(sub, sizeof sub, "%s/node", dir);
    ck_assert_int_eq(esg_store_open_ex(&s, err, sizeof err, sub, false, NULL),
                     ESG_ERR_NOT_INITIALIZED);
    ck_assert_ptr_nonnull(strstr(err, sub));
    ck_assert_ptr_nonnull(strstr(err, "not initialized"));

    /* create makes the missing datadir and data.mdb */
    ck_assert_int_eq(esg_store_open(&s, sub, true), ESG_OK);
    ck_assert_int_eq(mapsize_of(s) >= ESG_STORE_DEFAULT_MAPSIZE, 1);
    MDB_txn *txn;
    esg_store_meta m;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_meta_get(txn, s, &m), ESG_ERR_NOT_INITIALIZED);
    esg_store_read_end(txn);
    esg_store_close(s);

    ck_assert_int_eq(esg_store_open(&s, sub, false), ESG_OK);
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

static int put_meta(MDB_txn *txn, void *arg) {
    void **a = arg;
    return esg_store_meta_put(txn, a[0], a[1]);
}

START_TEST(meta_round_trip) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 0);
    esg_store_meta m = {.height = 0x0102030405060708ull, .time_ms = 1767225600123ull};
    m.block_hash = esg_sha256("b", 1);
    m.app_hash = esg_sha256("a", 1);
    m.genesis_hash = esg_sha256("g", 1);
    memset(m.chain_id, 'c', 64); /* the longest id */
    void *args[2] = {s, &m};
    ck_assert_int_eq(esg_store_write(s, put_meta, args), ESG_OK);
    esg_store_close(s);

    s = open_store(dir, 0);
    MDB_txn *txn;
    esg_store_meta got;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_meta_get(txn, s, &got), ESG_OK);
    esg_store_read_end(txn);
    ck_assert_uint_eq(got.height, m.height);
    ck_assert_uint_eq(got.time_ms, m.time_ms);
    ck_assert(esg_hash_eq(&got.block_hash, &m.block_hash));
    ck_assert(esg_hash_eq(&got.app_hash, &m.app_hash));
    ck_assert(esg_hash_eq(&got.genesis_hash, &m.genesis_hash));
    ck_assert_str_eq(got.chain_id, m.chain_id);

    /* an empty chain id survives too */
    m.chain_id[0] = '\0';
    args[0] = s;
    ck_assert_int_eq(esg_store_write(s, put_meta, args), ESG_OK);
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_meta_get(txn, s, &got), ESG_OK);
    esg_store_read_end(txn);
    ck_assert_str_eq(got.chain_id, "");
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

static int put_raw_meta(MDB_txn *txn, void *arg) {
    void **a = arg;
    return esg_store_put(txn, esg_store_dbi(a[0], ESG_DB_META), "chain", 5, a[1],
                         *(size_t *)a[2]);
}

START_TEST(meta_corrupt_is_reported) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 0);
    uint8_t rec[114 + 65];
    memset(rec, 'a', sizeof rec);
    struct { uint8_t version; size_t len; uint8_t idlen; } cases[] = {
        {2, 114 + 3, 3},  /* unknown version */
        {1, 100, 3},      /* truncated */
        {1, 114 + 4, 3},  /* length disagrees with the id length */
        {1, 114 + 65, 65}, /* id too long */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec[0] = cases[i].version;
        rec[113] = cases[i].idlen;
        void *args[3] = {s, rec, &cases[i].len};
        ck_assert_int_eq(esg_store_write(s, put_raw_meta, args), ESG_OK);
        MDB_txn *txn;
        esg_store_meta m;
        ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
        ck_assert_msg(esg_store_meta_get(txn, s, &m) == ESG_ERR_STORE_CORRUPT, "case %zu", i);
        esg_store_read_end(txn);
    }
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

START_TEST(open_errors_name_the_path) {
    char dir[256], path[300], err[512];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = (esg_store *)1;

    /* the datadir is a regular file */
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_eq(esg_store_open_ex(&s, err, sizeof err, path, true, NULL), ESG_ERR_STORE);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, path));

    /* data.mdb is not an LMDB file */
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 16384; i++)
        fputc('x', f);
    fclose(f);
    int rc = esg_store_open_ex(&s, err, sizeof err, dir, false, NULL);
    ck_assert_msg(rc == ESG_ERR_STORE_CORRUPT, "got %s: %s", esg_err_name(rc), err);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, dir));
    tu_rmtree(dir);
}
END_TEST

/* ----------------------------------------------------------- records */

struct kv_arg {
    esg_store *s;
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
    bool del;
};

static int kv_fn(MDB_txn *txn, void *arg) {
    struct kv_arg *a = arg;
    MDB_dbi dbi = esg_store_dbi(a->s, ESG_DB_STATE);
    if (a->del)
        return esg_store_del(txn, dbi, a->key, a->klen);
    return esg_store_put(txn, dbi, a->key, a->klen, a->val, a->vlen);
}

static int kv_write(esg_store *s, const char *key, size_t klen, const char *val,
                    size_t vlen, bool del) {
    struct kv_arg a = {s, key, klen, val, vlen, del};
    return esg_store_write(s, kv_fn, &a);
}

START_TEST(get_put_del_and_snapshots) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 0);
    MDB_dbi state = esg_store_dbi(s, ESG_DB_STATE);
    MDB_txn *old, *txn;
    MDB_val v;

    ck_assert_int_eq(kv_write(s, "k", 1, "one", 3, false), ESG_OK);
    ck_assert_int_eq(esg_store_read_begin(s, &old), ESG_OK);
    ck_assert_int_eq(kv_write(s, "k", 1, "two!", 4, false), ESG_OK);
    ck_assert_int_eq(kv_write(s, "empty", 5, NULL, 0, false), ESG_OK);

    /* a read transaction keeps the snapshot it began on */
    ck_assert_int_eq(esg_store_get(old, state, "k", 1, &v), ESG_OK);
    ck_assert_uint_eq(v.mv_size, 3);
    ck_assert_mem_eq(v.mv_data, "one", 3);
    ck_assert_int_eq(esg_store_get(old, state, "empty", 5, &v), ESG_ERR_NOT_FOUND);
    esg_store_read_end(old);

    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_get(txn, state, "k", 1, &v), ESG_OK);
    ck_assert_uint_eq(v.mv_size, 4);
    ck_assert_mem_eq(v.mv_data, "two!", 4);
    ck_assert_int_eq(esg_store_get(txn, state, "empty", 5, &v), ESG_OK);
    ck_assert_uint_eq(v.mv_size, 0);
    ck_assert_int_eq(esg_store_get(txn, state, "absent", 6, &v), ESG_ERR_NOT_FOUND);
    esg_store_read_end(txn);

    ck_assert_int_eq(kv_write(s, "k", 1, NULL, 0, true), ESG_OK);
    ck_assert_int_eq(kv_write(s, "k", 1, NULL, 0, true), ESG_OK); /* absent: fine */
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_get(txn, state, "k", 1, &v), ESG_ERR_NOT_FOUND);
    esg_store_read_end(txn);

    /* keys LMDB cannot hold */
    char big[ESG_STORE_MAX_KEY + 1];
    memset(big, 'k', sizeof big);
    ck_assert_int_eq(kv_write(s, big, sizeof big, "v", 1, false), ESG_ERR_STORE);
    ck_assert_int_eq(kv_write(s, big, ESG_STORE_MAX_KEY, "v", 1, false), ESG_OK);
    ck_assert_int_eq(kv_write(s, "", 0, "v", 1, false), ESG_ERR_STORE);

    esg_store_read_end(NULL);
    esg_store_close(s);
    esg_store_close(NULL);
    tu_rmtree(dir);
}
END_TEST

/* Writes rows, a block and meta, then fails as a contract rule would. */
static int write_then_fail(MDB_txn *txn, void *arg) {
    struct chain_arg a = {arg, 1};
    int rc = apply_block(txn, &a);
    return rc ? rc : ESG_ERR_NONCE;
}

START_TEST(failed_write_leaves_nothing) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 0);
    ck_assert_int_eq(esg_store_write(s, write_then_fail, s), ESG_ERR_NONCE);
    char why[128] = "x";
    esg_store_last_error(s, why, sizeof why);
    ck_assert_str_eq(why, ""); /* fn's own errors are not LMDB failures */

    MDB_txn *txn;
    MDB_val v;
    esg_store_meta m;
    uint64_t h;
    esg_hash bh = block_hash_of(1);
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_meta_get(txn, s, &m), ESG_ERR_NOT_INITIALIZED);
    ck_assert_int_eq(esg_store_block_get(txn, s, 1, NULL, NULL), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_height_by_hash(txn, s, &bh, &h), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_get(txn, esg_store_dbi(s, ESG_DB_STATE), "h", 1, &v),
                     ESG_ERR_NOT_FOUND);
    esg_store_read_end(txn);

    /* and the same block can then be written for real */
    write_blocks(s, 1, 1);
    ck_assert_uint_eq(verify_chain(s), 1);
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

static int replace_commit(MDB_txn *txn, void *arg) {
    void **a = arg;
    return esg_store_commit_replace(txn, a[0], *(uint64_t *)a[1], "better", 6);
}

START_TEST(blocks_round_trip_across_reopen) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 0);
    write_blocks(s, 1, 9);
    esg_store_close(s);

    s = open_store(dir, 0);
    ck_assert_uint_eq(verify_chain(s), 9);
    MDB_txn *txn;
    MDB_val b, c;
    uint64_t h;
    uint32_t idx;
    esg_hash unknown = esg_sha256("unknown", 7);
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    /* either output may be omitted */
    ck_assert_int_eq(esg_store_block_get(txn, s, 4, &b, NULL), ESG_OK);
    ck_assert_uint_eq(b.mv_size, BLK_LEN);
    ck_assert_int_eq(esg_store_block_get(txn, s, 4, NULL, &c), ESG_OK);
    ck_assert_uint_eq(c.mv_size, CMT_LEN);
    ck_assert_int_eq(esg_store_block_get(txn, s, 4, NULL, NULL), ESG_OK);
    ck_assert_int_eq(esg_store_block_get(txn, s, 0, &b, &c), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_block_get(txn, s, 10, NULL, &c), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_height_by_hash(txn, s, &unknown, &h), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_tx_locate(txn, s, &unknown, &h, &idx), ESG_ERR_NOT_FOUND);
    esg_store_read_end(txn);

    /* a better commit replaces the stored one; a missing block has none */
    uint64_t at = 4;
    void *args[2] = {s, &at};
    ck_assert_int_eq(esg_store_write(s, replace_commit, args), ESG_OK);
    at = 10;
    ck_assert_int_eq(esg_store_write(s, replace_commit, args), ESG_ERR_NOT_FOUND);
    esg_store_close(s);

    s = open_store(dir, 0);
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_block_get(txn, s, 4, &b, &c), ESG_OK);
    ck_assert_uint_eq(c.mv_size, 6);
    ck_assert_mem_eq(c.mv_data, "better", 6);
    ck_assert_uint_eq(b.mv_size, BLK_LEN);
    ck_assert_int_eq(esg_store_block_get(txn, s, 10, &b, &c), ESG_ERR_NOT_FOUND);
    esg_store_read_end(txn);
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

struct bad_block {
    esg_store *s;
    uint64_t height;
    esg_hash hash;
    esg_hash ids[2];
    size_t n;
};

static int put_bad_block(MDB_txn *txn, void *arg) {
    struct bad_block *a = arg;
    return esg_store_block_put(txn, a->s, a->height, &a->hash, "blk", 3, "cmt", 3,
                               a->ids, a->n);
}

START_TEST(block_put_refuses_rewrites_and_duplicates) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 0);
    write_blocks(s, 1, 3); /* block 3 holds 3 txs */
    esg_hash ids3[MAX_TXS];
    gen_txs(3, ids3);

    struct bad_block cases[] = {
        {s, 3, esg_sha256("x", 1), {{{0}}}, 0},               /* same height */
        {s, 2, esg_sha256("y", 1), {{{0}}}, 0},               /* lower height */
        {s, 4, block_hash_of(2), {{{0}}}, 0},                 /* known hash */
        {s, 4, esg_sha256("z", 1), {ids3[1]}, 1},             /* known tx */
        {s, 4, esg_sha256("w", 1), {esg_sha256("t", 1), esg_sha256("t", 1)}, 2},
    };
    int want[] = {ESG_ERR_BAD_BLOCK, ESG_ERR_BAD_BLOCK, ESG_ERR_BAD_BLOCK,
                  ESG_ERR_DUPLICATE_TX, ESG_ERR_DUPLICATE_TX};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = esg_store_write(s, put_bad_block, &cases[i]);
        ck_assert_msg(rc == want[i], "case %zu: %s", i, esg_err_name(rc));
    }
    /* every refused write was aborted whole */
    ck_assert_uint_eq(verify_chain(s), 3);
    MDB_txn *txn;
    uint64_t h;
    uint32_t idx;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_block_get(txn, s, 4, NULL, NULL), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_height_by_hash(txn, s, &cases[3].hash, &h), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_tx_locate(txn, s, &cases[4].ids[0], &h, &idx),
                     ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_tx_locate(txn, s, &ids3[1], &h, &idx), ESG_OK);
    ck_assert_uint_eq(h, 3);
    ck_assert_uint_eq(idx, 1);
    esg_store_read_end(txn);
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

/* ---------------------------------------------------------- map growth */

#define BULK_ROWS 4500
#define BULK_LEN 1000

struct bulk_arg {
    esg_store *s;
    int calls;
    uint32_t first;
};

static void bulk_value(uint8_t *v, uint32_t i) {
    for (size_t j = 0; j < BULK_LEN; j++)
        v[j] = (uint8_t)(i + j * 13);
}

static int bulk_fn(MDB_txn *txn, void *arg) {
    struct bulk_arg *a = arg;
    a->calls++;
    MDB_dbi state = esg_store_dbi(a->s, ESG_DB_STATE);
    uint8_t key[4], val[BULK_LEN];
    for (uint32_t i = a->first; i < a->first + BULK_ROWS; i++) {
        key[0] = (uint8_t)(i >> 24), key[1] = (uint8_t)(i >> 16);
        key[2] = (uint8_t)(i >> 8), key[3] = (uint8_t)i;
        bulk_value(val, i);
        int rc = esg_store_put(txn, state, key, sizeof key, val, sizeof val);
        if (rc)
            return rc;
    }
    return ESG_OK;
}

static void check_bulk(esg_store *s, uint32_t first) {
    MDB_txn *txn;
    MDB_val v;
    uint8_t key[4], val[BULK_LEN];
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    for (uint32_t i = first; i < first + BULK_ROWS; i++) {
        key[0] = (uint8_t)(i >> 24), key[1] = (uint8_t)(i >> 16);
        key[2] = (uint8_t)(i >> 8), key[3] = (uint8_t)i;
        bulk_value(val, i);
        ck_assert_int_eq(esg_store_get(txn, esg_store_dbi(s, ESG_DB_STATE), key, 4, &v),
                         ESG_OK);
        ck_assert_uint_eq(v.mv_size, BULK_LEN);
        ck_assert_mem_eq(v.mv_data, val, BULK_LEN);
    }
    esg_store_read_end(txn);
}

START_TEST(map_grows_on_full_and_stays_grown) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 1 << 20);
    ck_assert_uint_eq(mapsize_of(s), 1 << 20);

    /* 4.5 MB of rows in one transaction into a 1 MiB map */
    struct bulk_arg a = {s, 0, 0};
    ck_assert_int_eq(esg_store_write(s, bulk_fn, &a), ESG_OK);
    ck_assert_int_ge(a.calls, 2); /* fn ran again from scratch after growth */
    size_t grown = mapsize_of(s);
    ck_assert_uint_ge(grown, (size_t)BULK_ROWS * BULK_LEN);
    check_bulk(s, 0);
    esg_store_close(s);

    /* reopened with the same small initial size, the store keeps the map
     * it grew to instead of running into a full map again */
    s = open_store(dir, 1 << 20);
    ck_assert_uint_ge(mapsize_of(s), grown);
    check_bulk(s, 0);
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

static int always_full(MDB_txn *txn, void *arg) {
    (void)txn;
    ++*(int *)arg;
    return ESG_ERR_MAP_FULL;
}

/* A fn that reports a full map however large the map gets does not grow
 * it forever: the store gives up at its limit and stays usable. */
START_TEST(map_growth_is_bounded) {
    char dir[256], why[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 1 << 20);
    int calls = 0;
    ck_assert_int_eq(esg_store_write(s, always_full, &calls), ESG_ERR_MAP_FULL);
    ck_assert_int_gt(calls, 10);
    ck_assert_int_lt(calls, 64);
    esg_store_last_error(s, why, sizeof why);
    ck_assert_ptr_nonnull(strstr(why, "limit"));
    ck_assert_uint_eq(mapsize_of(s), 1 << 20); /* given back */
    write_blocks(s, 1, 2);
    ck_assert_uint_eq(verify_chain(s), 2);
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

/* A read transaction begun on one thread and ended on another (MDB_NOTLS):
 * its share of the growth gate is released, so a later growth proceeds. */
static void *begin_read(void *arg) {
    MDB_txn *txn = NULL;
    if (esg_store_read_begin(arg, &txn) != ESG_OK)
        return NULL;
    return txn;
}

struct reader_arg {
    esg_store *s;
    atomic_bool stop;
    long reads;
    int failures;
};

static void *reader_loop(void *arg) {
    struct reader_arg *r = arg;
    uint8_t want[BULK_LEN];
    bulk_value(want, 7);
    uint8_t key[4] = {0, 0, 0, 7};
    while (!atomic_load(&r->stop)) {
        MDB_txn *txn;
        MDB_val v;
        if (esg_store_read_begin(r->s, &txn) != ESG_OK) {
            r->failures++;
            continue;
        }
        int rc = esg_store_get(txn, esg_store_dbi(r->s, ESG_DB_STATE), key, 4, &v);
        if (rc != ESG_OK || v.mv_size != BULK_LEN || memcmp(v.mv_data, want, BULK_LEN))
            r->failures++;
        esg_store_read_end(txn);
        r->reads++;
    }
    return NULL;
}

START_TEST(growth_waits_for_readers) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    esg_store *s = open_store(dir, 1 << 20);
    uint8_t key[4] = {0, 0, 0, 7}, val[BULK_LEN];
    bulk_value(val, 7);
    ck_assert_int_eq(kv_write(s, (char *)key, 4, (char *)val, BULK_LEN, false), ESG_OK);

    pthread_t t;
    void *ret;
    ck_assert_int_eq(pthread_create(&t, NULL, begin_read, s), 0);
    ck_assert_int_eq(pthread_join(t, &ret), 0);
    ck_assert_ptr_nonnull(ret);
    esg_store_read_end(ret);

    /* Readers run all along while each bulk write grows the map: a reader
     * that used the map across a remap would read freed memory. */
    struct reader_arg r = {.s = s};
    atomic_init(&r.stop, false);
    ck_assert_int_eq(pthread_create(&t, NULL, reader_loop, &r), 0);
    size_t before = mapsize_of(s);
    for (uint32_t round = 0; round < 3; round++) {
        struct bulk_arg a = {s, 0, 1000 + round * BULK_ROWS};
        ck_assert_int_eq(esg_store_write(s, bulk_fn, &a), ESG_OK);
    }
    atomic_store(&r.stop, true);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(r.failures, 0);
    ck_assert_uint_gt(mapsize_of(s), before);
    check_bulk(s, 1000 + 2 * BULK_ROWS);
    esg_store_close(s);
    tu_rmtree(dir);
}
END_TEST

/* ------------------------------------------------------- damaged files */

/* xorshift64: the damage is pseudo-random but the same on every run. */
static uint64_t rnd_next(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void data_path(char *out, size_t len, const char *dir) {
    snprintf(out, len, "%s/data.mdb", dir);
}

/* Reads the whole of data.mdb into a malloc'ed buffer (*len bytes). */
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_gt(n, 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spill(const char *path, const uint8_t *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* A datadir holding a chain of `blocks` test blocks, closed. */
static void make_chain(const char *dir, uint64_t blocks) {
    esg_store *s = open_store(dir, 0);
    write_blocks(s, 1, blocks);
    esg_store_close(s);
}

/* The reason a damaged store is refused with names the file, says it is
 * damaged and says how to recover. */
static void assert_damaged_reason(const char *err, const char *path) {
    ck_assert_msg(strstr(err, path), "reason does not name '%s': %s", path, err);
    ck_assert_msg(strstr(err, "damaged"), "reason: %s", err);
    ck_assert_msg(strstr(err, "will not start"), "reason: %s", err);
    ck_assert_msg(strstr(err, "re-sync from peers into a fresh datadir"), "reason: %s", err);
}

START_TEST(file_check_reads_lmdb_layout) {
    /* What esg_store_file_check decodes from the meta pages must be what
     * LMDB itself reports: if the assumed layout of MDB_meta were wrong
     * (another LMDB version, another ABI), these would disagree. Checked
     * after every commit, so the file's length is also checked against
     * the pages in use on many real files, not one. */
    char dir[256], path[300], err[256];
    tu_tmpdir(dir, sizeof dir);
    data_path(path, sizeof path, dir);
    esg_store *s = open_store(dir, 256 << 10); /* small: growth happens too */
    for (uint64_t h = 1; h <= 120; h++) {
        write_blocks(s, h, h);
        esg_store_file_info fi;
        int rc = esg_store_file_check(path, &fi, err, sizeof err);
        ck_assert_msg(rc == ESG_OK, "height %llu: %s: %s", (unsigned long long)h,
                      esg_err_name(rc), err);
        MDB_envinfo info;
        MDB_stat st;
        ck_assert_int_eq(mdb_env_info(esg_store_env(s), &info), 0);
        ck_assert_int_eq(mdb_env_stat(esg_store_env(s), &st), 0);
        ck_assert_uint_eq(fi.page_size, st.ms_psize);
        ck_assert_uint_eq(fi.txnid, info.me_last_txnid);
        ck_assert_uint_eq(fi.last_page, info.me_last_pgno);
        ck_assert_uint_eq(fi.map_size, info.me_mapsize);
        /* LMDB writes transaction t to meta page t % 2. */
        ck_assert_uint_eq(fi.meta, fi.txnid % 2);
        ck_assert_uint_ge(fi.file_size, (fi.last_page + 1) * fi.page_size);
    }
    esg_store_close(s);
    ck_assert_int_eq(esg_store_file_check(path, NULL, err, sizeof err), ESG_OK);
    ck_assert_int_eq(esg_store_open(&s, dir, false), ESG_OK);
    ck_assert_uint_eq(verify_chain(s), 120);
    esg_store_close(s);

    /* No file, an empty file. */
    snprintf(path, sizeof path, "%s/none.mdb", dir);
    ck_assert_int_eq(esg_store_file_check(path, NULL, err, sizeof err), ESG_ERR_NOT_INITIALIZED);
    spill(path, (const uint8_t *)"", 0);
    ck_assert_int_eq(esg_store_file_check(path, NULL, err, sizeof err), ESG_ERR_STORE_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "empty"));
    tu_rmtree(dir);
}
END_TEST

START_TEST(truncated_store_is_refused) {
    char dir[256], path[300], err[2048];
    tu_tmpdir(dir, sizeof dir);
    data_path(path, sizeof path, dir);
    make_chain(dir, 200);
    size_t full;
    uint8_t *orig = slurp(path, &full);
    ck_assert_uint_gt(full, 16 * 4096);

    /* Half, then 8 lengths in (0, full). Each one: refused before LMDB
     * maps the file (a signal would end this test), with the reason. */
    size_t lens[9] = {full / 2};
    uint64_t x = 0x5eed5eed5eedULL;
    for (int i = 1; i < 9; i++)
        lens[i] = 1 + (size_t)(rnd_next(&x) % (full - 1));
    for (int i = 0; i < 9; i++) {
        spill(path, orig, lens[i]);
        esg_store *s = (esg_store *)1;
        int rc = esg_store_open_ex(&s, err, sizeof err, dir, false, NULL);
        ck_assert_msg(rc == ESG_ERR_STORE_CORRUPT, "length %zu: %s: %s", lens[i],
                      esg_err_name(rc), err);
        ck_assert_ptr_null(s);
        assert_damaged_reason(err, path);
        /* The file itself is left alone for the operator. */
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq((size_t)st.st_size, lens[i]);
    }
    /* The half case says what is wrong in words. */
    spill(path, orig, full / 2);
    ck_assert_int_eq(esg_store_open_ex(&(esg_store *){NULL}, err, sizeof err, dir, true, NULL),
                     ESG_ERR_STORE_CORRUPT);
    ck_assert_msg(strstr(err, "truncated"), "reason: %s", err);

    /* Restored, it opens and holds the whole chain. */
    spill(path, orig, full);
    esg_store *s = open_store(dir, 0);
    ck_assert_uint_eq(verify_chain(s), 200);
    esg_store_close(s);
    free(orig);
    tu_rmtree(dir);
}
END_TEST

/* Runs in a forked child on a damaged store: opens it and reads it the way
 * a node and verify-chain do -- the head, then every block and commit, its
 * hash index and its state rows -- touching every byte returned. Exits 0
 * when all reads succeed, 2 when the open was refused, 3 when a read
 * returned an error (the reason on stderr in both cases), or
 * ESG_STORE_DAMAGED_EXIT from the store's LMDB assertion handler. */
static int touch(const MDB_val *v) {
    unsigned sum = 0;
    for (size_t i = 0; i < v->mv_size; i++)
        sum += ((const uint8_t *)v->mv_data)[i];
    return sum == 0xFFFFFFFFu; /* never: keeps the loop */
}

static void read_everything(const char *dir) {
    esg_store *s;
    char err[2048];
    int rc = esg_store_open_ex(&s, err, sizeof err, dir, false, NULL);
    if (rc) {
        fprintf(stderr, "open: %s: %s\n", esg_err_name(rc), err);
        _exit(2);
    }
    MDB_txn *txn;
    esg_store_meta m;
    if ((rc = esg_store_read_begin(s, &txn)) == 0)
        rc = esg_store_meta_get(txn, s, &m);
    for (uint64_t h = 1; rc == 0 && h <= m.height; h++) {
        MDB_val b, c, v;
        uint64_t got;
        if ((rc = esg_store_block_get(txn, s, h, &b, &c)) != 0)
            break;
        rc = touch(&b) + touch(&c);
        esg_hash bh = esg_sha256(b.mv_data, b.mv_size);
        if (rc == 0)
            rc = esg_store_height_by_hash(txn, s, &bh, &got);
        for (int j = 0; rc == 0 && j < ROWS; j++) {
            char key[64];
            int klen = row_key(key, sizeof key, h, j);
            rc = esg_store_get(txn, esg_store_dbi(s, ESG_DB_STATE), key, (size_t)klen, &v);
            if (rc == 0)
                rc = touch(&v);
        }
    }
    if (rc) {
        /* Wrong bytes that LMDB does not notice (a garbled value) come back
         * as data: only LMDB's own errors count here. */
        fprintf(stderr, "read: %s\n", esg_err_name(rc));
        _exit(rc == ESG_ERR_STORE_CORRUPT ? 3 : 4);
    }
    esg_store_read_end(txn);
    esg_store_close(s);
    _exit(0);
}

START_TEST(damaged_page_fails_cleanly) {
    /* One 4 KiB page overwritten with garbage: LMDB either returns an
     * error on the read that reaches it, or trips an internal assertion,
     * which the store's handler turns into a message and a clean exit.
     * Never a signal. Each case runs in a child, so an exit does not end
     * the suite. */
    char dir[256], path[300];
    tu_tmpdir(dir, sizeof dir);
    data_path(path, sizeof path, dir);
    make_chain(dir, 200);
    size_t full;
    uint8_t *orig = slurp(path, &full);
    size_t pages = full / 4096;
    uint64_t x = 0xda3a9edULL;
    int detected = 0;
    for (int round = 0; round < 8; round++) {
        uint8_t *bad = malloc(full);
        ck_assert_ptr_nonnull(bad);
        memcpy(bad, orig, full);
        size_t page = 2 + (size_t)(rnd_next(&x) % (pages - 2));
        for (size_t i = 0; i < 4096; i++)
            bad[page * 4096 + i] = (uint8_t)rnd_next(&x);
        spill(path, bad, full);
        free(bad);

        int ep[2];
        ck_assert_int_eq(pipe(ep), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(ep[0]);
            dup2(ep[1], STDERR_FILENO);
            read_everything(dir);
        }
        close(ep[1]);
        char out[4096];
        size_t have = 0;
        ssize_t n;
        while (have < sizeof out - 1 &&
               (n = read(ep[0], out + have, sizeof out - 1 - have)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            ck_assert_int_gt(n, 0);
            have += (size_t)n;
        }
        out[have] = '\0';
        close(ep[0]);
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert_msg(WIFEXITED(st), "page %zu: the reader died of signal %d: %s", page,
                      WIFSIGNALED(st) ? WTERMSIG(st) : 0, out);
        int code = WEXITSTATUS(st);
        /* 4: a key the garbage hid reads as absent, an error too. */
        ck_assert_msg(code == 0 || code == 2 || code == 3 || code == 4 ||
                          code == ESG_STORE_DAMAGED_EXIT,
                      "page %zu: exit %d: %s", page, code, out);
        if (code == ESG_STORE_DAMAGED_EXIT) {
            assert_damaged_reason(out, path);
            ck_assert_ptr_nonnull(strstr(out, "Assertion"));
        }
        if (code == 2)
            assert_damaged_reason(out, path);
        if (code == 3)
            ck_assert_msg(strstr(out, "ERR_STORE_CORRUPT"), "page %zu: %s", page, out);
        detected += code != 0;
    }
    /* Most pages of this file are in use: garbage in them is noticed. */
    ck_assert_int_ge(detected, 6);
    free(orig);
    tu_rmtree(dir);
}
END_TEST

/* Runs in a forked child: walks the blocks database with a cursor. */
static void walk_blocks(const char *dir) {
    esg_store *s;
    if (esg_store_open_ex(&s, NULL, 0, dir, false, NULL) != 0)
        _exit(2);
    MDB_txn *txn;
    MDB_cursor *c;
    if (esg_store_read_begin(s, &txn) || mdb_cursor_open(txn, esg_store_dbi(s, ESG_DB_BLOCKS), &c))
        _exit(3);
    MDB_val k, v;
    int rc;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        ;
    _exit(rc == MDB_NOTFOUND ? 0 : 3);
}

START_TEST(lmdb_assertion_exits_with_message) {
    /* A leaf page of the blocks tree relabelled as a branch page: moving
     * onto it, LMDB's cursor asserts that it is a leaf. The store's
     * handler must turn that abort into a message and a clean exit. */
    char dir[256], path[300];
    tu_tmpdir(dir, sizeof dir);
    data_path(path, sizeof path, dir);
    make_chain(dir, 200);
    /* The live leaf holding block 150 (not the tree's first leaf): LMDB
     * hands out values as pointers into its page-aligned map, and a page
     * starts with its number. */
    esg_store *s = open_store(dir, 0);
    MDB_txn *txn;
    MDB_val b;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), ESG_OK);
    ck_assert_int_eq(esg_store_block_get(txn, s, 150, &b, NULL), ESG_OK);
    size_t best;
    memcpy(&best, (const void *)((uintptr_t)b.mv_data & ~(uintptr_t)4095), sizeof best);
    esg_store_read_end(txn);
    esg_store_close(s);
    size_t full;
    uint8_t *buf = slurp(path, &full);
    ck_assert_uint_lt(best, full / 4096);
    uint16_t flags;
    memcpy(&flags, buf + best * 4096 + 10, 2);
    ck_assert_uint_eq(flags, 0x02); /* P_LEAF, at offset 10 of the page header */
    uint16_t branch = 0x01;
    memcpy(buf + best * 4096 + 10, &branch, 2);
    spill(path, buf, full);
    free(buf);

    int ep[2];
    ck_assert_int_eq(pipe(ep), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(ep[0]);
        dup2(ep[1], STDERR_FILENO);
        walk_blocks(dir);
    }
    close(ep[1]);
    char out[4096];
    size_t have = 0;
    ssize_t n;
    while (have < sizeof out - 1 && (n = read(ep[0], out + have, sizeof out - 1 - have)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        ck_assert_int_gt(n, 0);
        have += (size_t)n;
    }
    out[have] = '\0';
    close(ep[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "died of signal %d: %s", WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                  out);
    ck_assert_msg(WEXITSTATUS(st) == ESG_STORE_DAMAGED_EXIT, "exit %d: %s", WEXITSTATUS(st),
                  out);
    assert_damaged_reason(out, path);
    ck_assert_ptr_nonnull(strstr(out, "Assertion"));
    tu_rmtree(dir);
}
END_TEST

/* ------------------------------------------------------ kill -9 durability */

/* Runs in the forked child: continues the chain block by block and reports
 * each committed height on `fd`, until killed. Never returns. */
static void chain_writer(const char *dir, int fd) {
    esg_store *s;
    esg_store_options o = {.initial_mapsize = 512 << 10}; /* growth happens too */
    if (esg_store_open_ex(&s, NULL, 0, dir, true, &o) != ESG_OK)
        _exit(10);
    MDB_txn *txn;
    esg_store_meta m;
    if (esg_store_read_begin(s, &txn) != ESG_OK)
        _exit(11);
    int rc = esg_store_meta_get(txn, s, &m);
    esg_store_read_end(txn);
    if (rc == ESG_ERR_NOT_INITIALIZED)
        m.height = 0;
    else if (rc != ESG_OK)
        _exit(12);
    /* Bounded: the parent kills us long before. */
    for (uint64_t h = m.height + 1; h <= m.height + 100000; h++) {
        struct chain_arg a = {s, h};
        if (esg_store_write(s, apply_block, &a) != ESG_OK)
            _exit(13);
        if (write(fd, &h, sizeof h) != (ssize_t)sizeof h)
            _exit(14);
    }
    _exit(15);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Reads heights from the child until one reaches `target`; returns it. */
static uint64_t wait_for_height(int fd, uint64_t target) {
    double deadline = now_s() + 30;
    uint8_t buf[8];
    size_t have = 0;
    for (;;) {
        double left = deadline - now_s();
        ck_assert_msg(left > 0, "writer did not reach height %llu in 30 s",
                      (unsigned long long)target);
        struct pollfd p = {fd, POLLIN, 0};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        ck_assert_int_ge(n, 0);
        if (n == 0)
            continue;
        ssize_t got = read(fd, buf + have, sizeof buf - have);
        if (got < 0 && errno == EINTR)
            continue;
        ck_assert_msg(got > 0, "writer exited before height %llu",
                      (unsigned long long)target);
        have += (size_t)got;
        if (have < sizeof buf)
            continue;
        have = 0;
        uint64_t h;
        memcpy(&h, buf, sizeof h);
        if (h >= target)
            return h;
    }
}

START_TEST(kill9_loses_no_committed_block) {
    char dir[256];
    tu_tmpdir(dir, sizeof dir);
    uint64_t head = 0;
    for (int round = 0; round < 5; round++) {
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(p[0]);
            chain_writer(dir, p[1]);
        }
        close(p[1]);
        /* Vary the target so the kills land at different points. */
        uint64_t h0 = wait_for_height(p[0], head + 20 + (uint64_t)round * 3);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        close(p[0]);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "writer ended by itself (status %d)", status);

        esg_store *s = open_store(dir, 512 << 10);
        uint64_t h = verify_chain(s);
        ck_assert_uint_ge(h, h0);
        esg_store_close(s);
        head = h;
    }
    tu_rmtree(dir);
}
END_TEST

Suite *suite_store(void) {
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, open_requires_init_then_reopens);
    tcase_add_test(tc, meta_round_trip);
    tcase_add_test(tc, meta_corrupt_is_reported);
    tcase_add_test(tc, open_errors_name_the_path);
    tcase_add_test(tc, get_put_del_and_snapshots);
    tcase_add_test(tc, failed_write_leaves_nothing);
    tcase_add_test(tc, blocks_round_trip_across_reopen);
    tcase_add_test(tc, block_put_refuses_rewrites_and_duplicates);
    tcase_add_test(tc, map_grows_on_full_and_stays_grown);
    tcase_add_test(tc, map_growth_is_bounded);
    tcase_add_test(tc, growth_waits_for_readers);
    tcase_add_test(tc, kill9_loses_no_committed_block);
    tcase_add_test(tc, file_check_reads_lmdb_layout);
    tcase_add_test(tc, truncated_store_is_refused);
    tcase_add_test(tc, damaged_page_fails_cleanly);
    tcase_add_test(tc, lmdb_assertion_exits_with_message);
    suite_add_tcase(s, tc);
    return s;
}
