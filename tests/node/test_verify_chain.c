/* node/verify_chain.c: `esgnode verify-chain` on a real datadir made by
 * esg_node_init (genesis and key files on disk) and grown with the block
 * executor, then tampered with in the ways an attacker or a disk could. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "contracts/contracts.h"
#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/txbuild.h"
#include "node/node.h"
#include "node/verify_chain.h"
#include "testutil.h"

#define CHAIN_ID "esg-verify-1"
#define GENESIS_MS UINT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

/* One chain per test (check forks each test). */
static struct {
    char base[256];
    char datadir[300], genesis[300], key[300];
    esg_seckey node_sk, admin_sk;
    esg_pubkey node_pk, admin_pk;
    uint64_t nonce, time_ms, height, n_txs;
} C;

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* The genesis file text for a chain with one city (admin_pk) whose node key
 * is the only validator. `time_ms` picks another chain. */
static char *genesis_json(uint64_t time_ms, size_t *len) {
    esg_genesis *g = esg_genesis_new(CHAIN_ID, time_ms);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "City A", "GR",
                                            &C.admin_pk), 0);
    ck_assert_int_eq(esg_genesis_add_validator(g, &C.node_pk, 10, "city-a"), 0);
    char err[256] = "";
    ck_assert_msg(esg_genesis_validate(g, err, sizeof err) == 0, "%s", err);
    char *json;
    ck_assert_int_eq(esg_genesis_to_json(g, &json, len), 0);
    esg_genesis_free(g);
    return json;
}

static void setup(void) {
    memset(&C, 0, sizeof C);
    tu_tmpdir(C.base, sizeof C.base);
    snprintf(C.datadir, sizeof C.datadir, "%s/data", C.base);
    snprintf(C.genesis, sizeof C.genesis, "%s/genesis.json", C.base);
    snprintf(C.key, sizeof C.key, "%s/node_key.json", C.base);
    ck_assert_int_eq(esg_key_generate(&C.node_sk, &C.node_pk), 0);
    ck_assert_int_eq(esg_key_generate(&C.admin_sk, &C.admin_pk), 0);
    size_t len;
    char *json = genesis_json(GENESIS_MS, &len);
    write_file(C.genesis, json, len);
    free(json);
    ck_assert_int_eq(esg_keyfile_write(C.key, &C.node_sk), 0);
    C.time_ms = GENESIS_MS;
}

static void teardown(void) {
    tu_rmtree(C.base);
    esg_seckey_wipe(&C.node_sk);
    esg_seckey_wipe(&C.admin_sk);
}

static void init_datadir(void) {
    char err[512] = "";
    int rc = esg_node_init(C.datadir, C.genesis, C.key, err, sizeof err);
    ck_assert_msg(rc == 0, "init: %s: %s", esg_err_name(rc), err);
}

static int commit_cb(void *arg, const char *chain_id, uint64_t height,
                     const esg_hash *block_hash, uint8_t **commit, size_t *len) {
    (void)arg;
    esg_commit_storage cs;
    int rc = esg_commit_sign_single(&cs, &C.node_sk, chain_id, height, 0, block_hash);
    if (rc)
        return rc;
    return esg_pb_encode(&cs.commit.base, commit, len);
}

/* Appends `n_blocks` blocks to the datadir: block i of them holds i
 * AddAccount transactions of the admin, and, if `empty_last`, one more
 * empty block. */
static void grow_chain(size_t n_blocks, bool empty_last) {
    esg_store *store;
    char err[512] = "";
    ck_assert_msg(esg_store_open_ex(&store, err, sizeof err, C.datadir, false, NULL) == 0, "%s",
                  err);
    const esg_contract_table *ct = esg_contracts();
    for (size_t b = 1; b <= n_blocks + (empty_last ? 1 : 0); b++) {
        size_t n = b <= n_blocks ? b : 0;
        esg_tx *txs[16];
        esg_exec_item items[16];
        memset(items, 0, sizeof items);
        ck_assert_uint_le(n, 16);
        for (size_t i = 0; i < n; i++) {
            esg_seckey sk;
            esg_pubkey pk;
            ck_assert_int_eq(esg_key_generate(&sk, &pk), 0);
            esg_seckey_wipe(&sk);
            static const esg_pb_role officer[] = {ESG_ROLE_OFFICER};
            esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
            aa.pubkey = esg_pb_bin(pk.b, 32);
            aa.roles = (esg_pb_role *)officer;
            aa.n_roles = 1;
            esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
            body.chain_id = CHAIN_ID;
            body.nonce = ++C.nonce;
            body.signer = esg_pb_bin(C.admin_pk.b, 32);
            body.action_case = ESG_ACTION_ADD_ACCOUNT;
            body.add_account = &aa;
            uint8_t *raw;
            size_t len;
            ck_assert_int_eq(esg_txb_sign_body(&raw, &len, &body, &C.admin_sk, 1), 0);
            ck_assert_int_eq(esg_tx_decode(&txs[i], raw, len), 0);
            free(raw);
            items[i].tx = txs[i];
        }
        esg_produced out;
        C.time_ms += 1000;
        int rc = esg_exec_produce(store, ct, items, n, C.time_ms, &C.node_pk, n == 0, commit_cb,
                                  NULL, &out);
        ck_assert_msg(rc == 0, "produce: %s", esg_err_name(rc));
        for (size_t i = 0; i < n; i++) {
            ck_assert_msg(items[i].result == 0, "block %zu tx %zu: %s", b, i, items[i].msg);
            esg_tx_free(txs[i]);
        }
        ck_assert(out.made);
        ck_assert_uint_eq(out.height, ++C.height);
        C.n_txs += n;
    }
    esg_store_close(store);
}

/* ----------------------------------------------------------- tampering */

typedef struct tamper {
    uint64_t height;
    enum { FLIP_BLOCK_BYTE, FLIP_HEADER_BYTE, GARBLE_COMMIT, DELETE_BLOCK } what;
} tamper;

static void be64(uint8_t out[8], uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static esg_store *tamper_store;

static int tamper_txn(MDB_txn *txn, void *arg) {
    const tamper *t = arg;
    uint8_t key[8];
    be64(key, t->height);
    MDB_dbi blocks = esg_store_dbi(tamper_store, ESG_DB_BLOCKS);
    MDB_dbi commits = esg_store_dbi(tamper_store, ESG_DB_COMMITS);
    int rc;
    switch (t->what) {
    case FLIP_BLOCK_BYTE:
    case FLIP_HEADER_BYTE: {
        MDB_val v;
        if ((rc = esg_store_get(txn, blocks, key, 8, &v)) != 0)
            return rc;
        uint8_t *copy = malloc(v.mv_size);
        if (!copy)
            return ESG_ERR_NOMEM;
        memcpy(copy, v.mv_data, v.mv_size);
        /* The last byte of the block is the last byte of its last tx's
         * signature; byte 8 is inside the header's chain id (tag, 2-byte
         * header length, tag, length, "esg-verify-1"). */
        if (t->what == FLIP_BLOCK_BYTE)
            copy[v.mv_size - 1] ^= 0x01;
        else
            copy[8] ^= 0x01;
        rc = esg_store_put(txn, blocks, key, 8, copy, v.mv_size);
        free(copy);
        return rc;
    }
    case GARBLE_COMMIT:
        return esg_store_commit_replace(txn, tamper_store, t->height, "\x0a\x01", 2);
    case DELETE_BLOCK:
        if ((rc = esg_store_del(txn, blocks, key, 8)) != 0)
            return rc;
        return esg_store_del(txn, commits, key, 8);
    }
    return ESG_ERR_INTERNAL;
}

static void tamper_with(uint64_t height, int what) {
    char err[512] = "";
    ck_assert_msg(esg_store_open_ex(&tamper_store, err, sizeof err, C.datadir, false, NULL) == 0,
                  "%s", err);
    tamper t = {height, what};
    ck_assert_int_eq(esg_store_write(tamper_store, tamper_txn, &t), 0);
    esg_store_close(tamper_store);
    tamper_store = NULL;
}

/* Runs verify-chain on `dir`; the printed text goes to *text (caller
 * frees). */
static int verify(const char *dir, esg_replay_result *res, char **text) {
    size_t len;
    FILE *out = open_memstream(text, &len);
    ck_assert_ptr_nonnull(out);
    memset(res, 0x5a, sizeof *res);
    int rc = esg_verify_chain(dir, 2, out, NULL, res);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_ptr_nonnull(*text);
    return rc;
}

/* --------------------------------------------------------------- tests */

START_TEST(test_good_chain) {
    init_datadir();
    grow_chain(4, true); /* blocks 1..4 with 1..4 txs, block 5 empty */
    esg_replay_result res;
    char *text;
    int rc = verify(C.datadir, &res, &text);
    ck_assert_msg(rc == 0, "%s: %s", esg_err_name(rc), text);
    ck_assert_uint_eq(res.height, 5);
    ck_assert_uint_eq(res.n_txs, 10);
    ck_assert_uint_eq(res.bad_height, 0);
    ck_assert_ptr_nonnull(strstr(text, "OK"));
    ck_assert_ptr_nonnull(strstr(text, "5 blocks, 10 transactions"));

    /* The hashes are the datadir's. */
    esg_store *store;
    ck_assert_int_eq(esg_store_open_ex(&store, NULL, 0, C.datadir, false, NULL), 0);
    MDB_txn *txn;
    esg_store_meta meta;
    ck_assert_int_eq(esg_store_read_begin(store, &txn), 0);
    ck_assert_int_eq(esg_store_meta_get(txn, store, &meta), 0);
    esg_store_read_end(txn);
    esg_store_close(store);
    ck_assert(esg_hash_eq(&res.app_hash, &meta.app_hash));
    ck_assert(esg_hash_eq(&res.block_hash, &meta.block_hash));
    ck_assert_ptr_nonnull(strstr(text, esg_hash_hex(&meta.app_hash).s));
    free(text);

    /* Verifying does not change the datadir: again, same answer. */
    rc = verify(C.datadir, &res, &text);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(res.height, 5);
    free(text);
}
END_TEST

START_TEST(test_genesis_only) {
    init_datadir();
    esg_replay_result res;
    char *text;
    int rc = verify(C.datadir, &res, &text);
    ck_assert_msg(rc == 0, "%s: %s", esg_err_name(rc), text);
    ck_assert_uint_eq(res.height, 0);
    ck_assert_uint_eq(res.n_txs, 0);
    ck_assert_uint_eq(res.bad_height, 0);
    free(text);
}
END_TEST

/* One flipped byte in stored block k: found, at k. */
START_TEST(test_flipped_byte) {
    init_datadir();
    grow_chain(4, false);
    uint64_t k = (uint64_t)_i;
    tamper_with(k, FLIP_BLOCK_BYTE);
    esg_replay_result res;
    char *text, want[32];
    int rc = verify(C.datadir, &res, &text);
    ck_assert_int_ne(rc, 0);
    ck_assert_uint_eq(res.bad_height, k);
    ck_assert_uint_eq(res.height, k - 1);
    snprintf(want, sizeof want, "height %llu", (unsigned long long)k);
    ck_assert_msg(strstr(text, "FAILED") && strstr(text, want), "output: %s", text);
    free(text);
}
END_TEST

START_TEST(test_flipped_header_byte) {
    init_datadir();
    grow_chain(3, false);
    tamper_with(3, FLIP_HEADER_BYTE);
    esg_replay_result res;
    char *text;
    int rc = verify(C.datadir, &res, &text);
    ck_assert_msg(rc != 0, "%s", text);
    ck_assert_uint_eq(res.height, 2);
    ck_assert_uint_eq(res.bad_height, 3);
    ck_assert_msg(strstr(text, "height 3") != NULL, "output: %s", text);
    free(text);
}
END_TEST

START_TEST(test_garbled_commit) {
    init_datadir();
    grow_chain(3, false);
    tamper_with(2, GARBLE_COMMIT);
    esg_replay_result res;
    char *text;
    int rc = verify(C.datadir, &res, &text);
    ck_assert_msg(rc == ESG_ERR_BAD_COMMIT || rc == ESG_ERR_BAD_BLOCK, "%s: %s",
                  esg_err_name(rc), text);
    ck_assert_uint_eq(res.bad_height, 2);
    ck_assert_ptr_nonnull(strstr(text, "height 2"));
    free(text);
}
END_TEST

/* A block removed from the middle or the tip: the missing height is the
 * bad one. */
START_TEST(test_missing_block) {
    init_datadir();
    grow_chain(4, false);
    uint64_t k = _i ? 4 : 2;
    tamper_with(k, DELETE_BLOCK);
    esg_replay_result res;
    char *text, want[32];
    int rc = verify(C.datadir, &res, &text);
    ck_assert_msg(rc != 0, "%s", text);
    ck_assert_uint_eq(res.height, k - 1);
    ck_assert_uint_eq(res.bad_height, k);
    snprintf(want, sizeof want, "height %llu", (unsigned long long)k);
    ck_assert_msg(strstr(text, "FAILED") && strstr(text, want), "output: %s", text);
    free(text);
}
END_TEST

START_TEST(test_wrong_genesis) {
    init_datadir();
    grow_chain(2, false);
    char path[400];
    snprintf(path, sizeof path, "%s/genesis.json", C.datadir);
    /* Another chain's genesis. */
    size_t len;
    char *json = genesis_json(GENESIS_MS + 1000, &len);
    write_file(path, json, len);
    esg_replay_result res;
    char *text;
    ck_assert_int_eq(verify(C.datadir, &res, &text), ESG_ERR_GENESIS);
    ck_assert_ptr_nonnull(strstr(text, "genesis"));
    ck_assert_uint_eq(res.height, 0);
    free(text);
    free(json);

    /* The same genesis reformatted is another chain too (hash of the
     * bytes). */
    json = genesis_json(GENESIS_MS, &len);
    char *spaced = malloc(len + 2);
    ck_assert_ptr_nonnull(spaced);
    memcpy(spaced, json, len);
    spaced[len] = '\n';
    write_file(path, spaced, len + 1);
    ck_assert_int_eq(verify(C.datadir, &res, &text), ESG_ERR_GENESIS);
    free(text);

    /* The original bytes verify again. */
    write_file(path, json, len);
    ck_assert_int_eq(verify(C.datadir, &res, &text), 0);
    ck_assert_uint_eq(res.height, 2);
    free(text);
    free(json);
    free(spaced);

    /* Not JSON at all. */
    write_file(path, "{nope", 5);
    ck_assert_int_eq(verify(C.datadir, &res, &text), ESG_ERR_JSON);
    ck_assert_ptr_nonnull(strstr(text, "verify-chain"));
    free(text);
}
END_TEST

START_TEST(test_not_a_datadir) {
    esg_replay_result res;
    char *text;
    /* An empty directory. */
    char empty[400];
    snprintf(empty, sizeof empty, "%s/empty", C.base);
    ck_assert_int_eq(mkdir(empty, 0700), 0);
    ck_assert_int_eq(verify(empty, &res, &text), ESG_ERR_IO);
    ck_assert_ptr_nonnull(strstr(text, "verify-chain"));
    ck_assert_uint_eq(res.height, 0);
    ck_assert_uint_eq(res.bad_height, 0);
    free(text);

    /* A directory that does not exist. */
    char missing[400];
    snprintf(missing, sizeof missing, "%s/missing", C.base);
    ck_assert_int_eq(verify(missing, &res, &text), ESG_ERR_IO);
    free(text);

    /* A genesis file but no store. */
    size_t len;
    char *json = genesis_json(GENESIS_MS, &len);
    char path[500];
    snprintf(path, sizeof path, "%s/genesis.json", empty);
    write_file(path, json, len);
    free(json);
    ck_assert_int_eq(verify(empty, &res, &text), ESG_ERR_NOT_INITIALIZED);
    ck_assert_ptr_nonnull(strstr(text, "verify-chain"));
    free(text);
}
END_TEST

Suite *suite_verify_chain(void) {
    Suite *s = suite_create("verify_chain");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_good_chain);
    tcase_add_test(tc, test_genesis_only);
    tcase_add_loop_test(tc, test_flipped_byte, 1, 5);
    tcase_add_test(tc, test_flipped_header_byte);
    tcase_add_test(tc, test_garbled_commit);
    tcase_add_loop_test(tc, test_missing_block, 0, 2);
    tcase_add_test(tc, test_wrong_genesis);
    tcase_add_test(tc, test_not_a_datadir);
    suite_add_tcase(s, tc);
    return s;
}
