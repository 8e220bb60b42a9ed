/* suite_replay: ledger/replay.c rebuilds a chain from genesis and a block
 * source, checking every block, and names the first bad one. The chain is
 * made by the real executor with a small contract table of the test's own:
 *   Transfer   writes HOLDINGS[instrument] = to_member; units 0 fails
 *   end_block  writes REPORTS["h"] = height */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/contract.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/replay.h"
#include "ledger/state.h"
#include "ledger/store.h"
#include "ledger/txbuild.h"
#include "testutil.h"

#define CHAIN "esg-replay-test"
#define T0 UINT64_C(1767225600000)
#define N_BLOCKS 70 /* more than one replay batch (64 blocks) */

/* ------------------------------------------------------ test contracts */

static int c_transfer(esg_tx_ctx *ctx) {
    const esg_pb_transfer *t = ctx->body->transfer;
    int rc = esg_state_put(ctx->st, ESG_T_HOLDINGS, t->instrument, strlen(t->instrument),
                           t->to_member, strlen(t->to_member));
    if (rc == 0 && t->units == 0)
        return esg_tx_fail(ctx, ESG_ERR_UNAUTHORIZED, "no transfer of '%s'", t->instrument);
    return rc;
}

static int c_end_block(esg_block_ctx *b) {
    uint8_t h[8];
    uint64_t v = b->height;
    for (int i = 7; i >= 0; i--, v >>= 8)
        h[i] = (uint8_t)v;
    return esg_state_put(b->st, ESG_T_REPORTS, "h", 1, h, 8);
}

static const esg_contract_table *contracts(void) {
    static esg_contract_table ct;
    memset(&ct, 0, sizeof ct);
    ct.apply[ESG_ACTION_TRANSFER] = c_transfer;
    ct.end_block = c_end_block;
    return &ct;
}

/* ---------------------------------------------------------- the chain */

typedef struct kp {
    esg_seckey sk;
    esg_pubkey pk;
} kp;

typedef struct chain {
    char dir[256];
    esg_store *store;
    esg_genesis *g;
    kp val, a, b;
    uint64_t nonce_a, nonce_b;
    uint64_t n_txs; /* included so far */
} chain;

static kp kp_new(void) {
    kp k;
    ck_assert_int_eq(esg_key_generate(&k.sk, &k.pk), 0);
    return k;
}

static esg_genesis *make_genesis(const kp *val, const kp *a, const kp *b) {
    esg_genesis *g = esg_genesis_new(CHAIN, T0);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "City A", NULL, &a->pk), 0);
    ck_assert_int_eq(esg_genesis_add_member(g, "inv-b", ESG_KIND_INVESTOR, "Investor B", NULL, &b->pk), 0);
    ck_assert_int_eq(esg_genesis_add_validator(g, &val->pk, 5, "city-a"), 0);
    char err[256];
    ck_assert_msg(esg_genesis_validate(g, err, sizeof err) == 0, "%s", err);
    char *json;
    size_t len;
    ck_assert_int_eq(esg_genesis_to_json(g, &json, &len), 0);
    esg_genesis_free(g);
    ck_assert_int_eq(esg_genesis_parse(&g, (const uint8_t *)json, len, err, sizeof err), 0);
    free(json);
    return g;
}

static int sign_commit(void *arg, const char *chain_id, uint64_t height, const esg_hash *bh,
                       uint8_t **out, size_t *len) {
    chain *c = arg;
    esg_commit_storage cs;
    int rc = esg_commit_sign_single(&cs, &c->val.sk, chain_id, height, 0, bh);
    return rc ? rc : esg_pb_encode(&cs.commit.base, out, len);
}

static esg_tx *transfer(chain *c, const kp *signer, uint64_t nonce, const char *instr,
                        uint64_t units) {
    esg_pb_transfer t = ESG_PB_TRANSFER_INIT;
    t.instrument = (char *)instr;
    t.to_member = "inv-b";
    t.units = units;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.chain_id = CHAIN;
    body.signer = esg_pb_bin(signer->pk.b, 32);
    body.nonce = nonce;
    body.action_case = ESG_ACTION_TRANSFER;
    body.transfer = &t;
    uint8_t *raw;
    size_t len;
    ck_assert_int_eq(esg_txb_sign_body(&raw, &len, &body, &signer->sk, 1), 0);
    esg_tx *tx;
    ck_assert_int_eq(esg_tx_decode(&tx, raw, len), 0);
    free(raw);
    (void)c;
    return tx;
}

/* A chain of n blocks: block h holds h % 3 + 1 transfers and, every fifth
 * block, a failing one that the producer drops. */
static void chain_make(chain *c, uint64_t n) {
    memset(c, 0, sizeof *c);
    c->val = kp_new();
    c->a = kp_new();
    c->b = kp_new();
    c->g = make_genesis(&c->val, &c->a, &c->b);
    tu_tmpdir(c->dir, sizeof c->dir);
    /* The source chain is rebuilt by every test: no fsync needed. */
    esg_store_options o = {.no_sync = true};
    char err[256];
    ck_assert_int_eq(esg_store_open_ex(&c->store, err, sizeof err, c->dir, true, &o), 0);
    ck_assert_int_eq(esg_exec_genesis(c->store, c->g), 0);
    for (uint64_t h = 1; h <= n; h++) {
        esg_tx *txs[4];
        size_t k = 0;
        char name[32];
        for (uint64_t i = 0; i <= h % 3; i++) {
            snprintf(name, sizeof name, "GB-%llu-%llu", (unsigned long long)h, (unsigned long long)i);
            txs[k++] = i % 2 ? transfer(c, &c->b, ++c->nonce_b, name, 1)
                             : transfer(c, &c->a, ++c->nonce_a, name, 1);
        }
        if (h % 5 == 0)
            txs[k++] = transfer(c, &c->a, c->nonce_a + 1, "GB-FAIL", 0);
        esg_exec_item items[4];
        memset(items, 0, sizeof items);
        for (size_t i = 0; i < k; i++)
            items[i].tx = txs[i];
        esg_produced out;
        ck_assert_int_eq(esg_exec_produce(c->store, contracts(), items, k, T0 + h * 1000,
                                          &c->val.pk, false, sign_commit, c, &out), 0);
        ck_assert(out.made);
        ck_assert_uint_eq(out.n_included, h % 3 + 1);
        c->n_txs += out.n_included;
        for (size_t i = 0; i < k; i++)
            esg_tx_free(txs[i]);
    }
}

static void chain_free(chain *c) {
    esg_store_close(c->store);
    tu_rmtree(c->dir);
    esg_genesis_free(c->g);
    esg_seckey_wipe(&c->val.sk);
    esg_seckey_wipe(&c->a.sk);
    esg_seckey_wipe(&c->b.sk);
}

static esg_store_meta chain_meta(esg_store *s) {
    MDB_txn *txn;
    esg_store_meta m;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), 0);
    ck_assert_int_eq(esg_store_meta_get(txn, s, &m), 0);
    esg_store_read_end(txn);
    return m;
}

static esg_hash block_hash_at(esg_store *s, uint64_t h) {
    MDB_txn *txn;
    MDB_val b;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), 0);
    ck_assert_int_eq(esg_store_block_get(txn, s, h, &b, NULL), 0);
    esg_pb_block *blk;
    ck_assert_int_eq(esg_pb_block_decode(&blk, b.mv_data, b.mv_size, SIZE_MAX), 0);
    esg_hash bh;
    ck_assert_int_eq(esg_block_header_hash(blk->header, &bh), 0);
    esg_pb_free(blk);
    esg_store_read_end(txn);
    return bh;
}

/* --------------------------------------------------------- the source */

typedef struct src {
    esg_store *store;
    uint64_t fail_at; /* 0: never */
    int fail_rc;
    uint64_t max_asked;
} src;

static int read_block(void *arg, uint64_t height, uint8_t **block, size_t *block_len,
                      uint8_t **commit, size_t *commit_len) {
    src *s = arg;
    if (height > s->max_asked)
        s->max_asked = height;
    if (s->fail_at && height == s->fail_at)
        return s->fail_rc;
    MDB_txn *txn;
    MDB_val b, c;
    int rc = esg_store_read_begin(s->store, &txn);
    if (rc)
        return rc;
    rc = esg_store_block_get(txn, s->store, height, &b, &c);
    if (rc == 0) {
        *block = malloc(b.mv_size + 1);
        *commit = malloc(c.mv_size + 1);
        if (!*block || !*commit) {
            free(*block);
            free(*commit);
            rc = ESG_ERR_NOMEM;
        } else {
            memcpy(*block, b.mv_data, b.mv_size);
            memcpy(*commit, c.mv_data, c.mv_size);
            *block_len = b.mv_size;
            *commit_len = c.mv_size;
        }
    }
    esg_store_read_end(txn);
    return rc;
}

/* Replays chain c from the source s into a fresh directory. */
static int replay(chain *c, const esg_genesis *g, src *s, uint64_t max_height, unsigned threads,
                  esg_replay_result *res, esg_store **out, char *err) {
    char work[300];
    snprintf(work, sizeof work, "%s/replay-%u-%llu", c->dir, threads,
             (unsigned long long)max_height);
    return esg_replay(g, contracts(), work, read_block, s, max_height, threads, res, out, err,
                      256);
}

/* Flips one byte of stored block h of `store`: at `offset`, or, when
 * offset is SIZE_MAX, the last byte (the last tx's last signature byte). */
typedef struct flip_job {
    esg_store *store;
    uint64_t height;
    size_t offset;
} flip_job;

static int flip_txn(MDB_txn *txn, void *arg) {
    flip_job *j = arg;
    MDB_val b;
    int rc = esg_store_block_get(txn, j->store, j->height, &b, NULL);
    if (rc)
        return rc;
    uint8_t *copy = malloc(b.mv_size);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, b.mv_data, b.mv_size);
    size_t at = j->offset == SIZE_MAX ? b.mv_size - 1 : j->offset;
    ck_assert_uint_lt(at, b.mv_size);
    copy[at] ^= 0x01;
    uint8_t key[8];
    uint64_t v = j->height;
    for (int i = 7; i >= 0; i--, v >>= 8)
        key[i] = (uint8_t)v;
    rc = esg_store_put(txn, esg_store_dbi(j->store, ESG_DB_BLOCKS), key, 8, copy, b.mv_size);
    free(copy);
    return rc;
}

static void flip_block_byte(esg_store *store, uint64_t height, size_t offset) {
    flip_job j = {store, height, offset};
    ck_assert_int_eq(esg_store_write(store, flip_txn, &j), 0);
}

/* Offset of the header's app_hash in stored block h. */
static size_t app_hash_offset(esg_store *s, uint64_t h) {
    MDB_txn *txn;
    MDB_val b;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), 0);
    ck_assert_int_eq(esg_store_block_get(txn, s, h, &b, NULL), 0);
    esg_pb_block *blk;
    ck_assert_int_eq(esg_pb_block_decode(&blk, b.mv_data, b.mv_size, SIZE_MAX), 0);
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + 32 <= b.mv_size; i++)
        if (memcmp((const uint8_t *)b.mv_data + i, blk->header->app_hash.data, 32) == 0) {
            at = i + 7;
            break;
        }
    ck_assert_uint_ne(at, SIZE_MAX);
    esg_pb_free(blk);
    esg_store_read_end(txn);
    return at;
}

/* --------------------------------------------------------------- tests */

START_TEST(test_replay_chain) {
    chain c;
    chain_make(&c, N_BLOCKS);
    esg_store_meta tip = chain_meta(c.store);
    ck_assert_uint_eq(tip.height, N_BLOCKS);

    src s = {.store = c.store};
    esg_replay_result res;
    esg_store *rs = NULL;
    char err[256];
    int rc = replay(&c, c.g, &s, 0, 2, &res, &rs, err);
    ck_assert_msg(rc == 0, "%s: %s", esg_err_name(rc), err);
    ck_assert_str_eq(err, "");
    ck_assert_uint_eq(res.height, N_BLOCKS);
    ck_assert_uint_eq(res.bad_height, 0);
    ck_assert_uint_eq(res.n_txs, c.n_txs);
    ck_assert(esg_hash_eq(&res.block_hash, &tip.block_hash));
    ck_assert(esg_hash_eq(&res.app_hash, &tip.app_hash));
    ck_assert(res.seconds >= 0);
    ck_assert_uint_eq(s.max_asked, N_BLOCKS + 1); /* it asked past the end */

    /* The replayed store is a full copy, kept for queries. */
    ck_assert_ptr_nonnull(rs);
    esg_store_meta rm = chain_meta(rs);
    ck_assert_uint_eq(rm.height, N_BLOCKS);
    ck_assert(esg_hash_eq(&rm.app_hash, &tip.app_hash));
    ck_assert(esg_hash_eq(&rm.genesis_hash, &c.g->hash));
    esg_store_close(rs);

    /* One thread gives the same result. */
    rc = replay(&c, c.g, &s, 0, 1, &res, NULL, err);
    ck_assert_int_eq(rc, 0);
    ck_assert(esg_hash_eq(&res.app_hash, &tip.app_hash));

    /* A height limit stops there (and asks for nothing past it). */
    s.max_asked = 0;
    rc = replay(&c, c.g, &s, 20, 2, &res, NULL, err);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(res.height, 20);
    ck_assert_uint_eq(s.max_asked, 20);
    esg_hash bh20 = block_hash_at(c.store, 20);
    ck_assert(esg_hash_eq(&res.block_hash, &bh20));
    ck_assert(!esg_hash_eq(&res.app_hash, &tip.app_hash));

    /* The same workdir cannot be used twice. */
    rc = replay(&c, c.g, &s, 20, 2, &res, NULL, err);
    ck_assert_int_eq(rc, ESG_ERR_ALREADY_INITIALIZED);
    ck_assert_ptr_nonnull(strstr(err, "genesis"));
    chain_free(&c);
}
END_TEST

START_TEST(test_replay_empty_chain) {
    chain c;
    chain_make(&c, 0);
    src s = {.store = c.store};
    esg_replay_result res;
    char err[256];
    ck_assert_int_eq(replay(&c, c.g, &s, 0, 2, &res, NULL, err), 0);
    ck_assert_uint_eq(res.height, 0);
    ck_assert_uint_eq(res.n_txs, 0);
    ck_assert(esg_hash_eq(&res.block_hash, &c.g->hash));
    esg_store_meta m = chain_meta(c.store);
    ck_assert(esg_hash_eq(&res.app_hash, &m.app_hash));
    chain_free(&c);
}
END_TEST

START_TEST(test_replay_tampered_tx) {
    chain c;
    chain_make(&c, N_BLOCKS);
    const uint64_t k = 37;
    flip_block_byte(c.store, k, SIZE_MAX);
    src s = {.store = c.store};
    esg_replay_result res;
    char err[256];
    int rc = replay(&c, c.g, &s, 0, 2, &res, NULL, err);
    ck_assert_int_eq(rc, ESG_ERR_BAD_BLOCK);
    ck_assert_uint_eq(res.bad_height, k);
    ck_assert_uint_eq(res.height, k - 1);
    /* Block 37 holds 2 txs: the last one's signature was hit. */
    const char *want = "block 37 tx 1: ERR_BAD_SIGNATURE: signature of '";
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "message '%s'", err);
    chain_free(&c);
}
END_TEST

START_TEST(test_replay_tampered_header) {
    chain c;
    chain_make(&c, N_BLOCKS);
    const uint64_t k = 66; /* in the second batch */
    flip_block_byte(c.store, k, app_hash_offset(c.store, k));
    src s = {.store = c.store};
    esg_replay_result res;
    char err[256];
    int rc = replay(&c, c.g, &s, 0, 2, &res, NULL, err);
    ck_assert_int_eq(rc, ESG_ERR_BAD_COMMIT);
    ck_assert_uint_eq(res.bad_height, k);
    ck_assert_uint_eq(res.height, k - 1);
    ck_assert_str_eq(err, "commit at height 66 is for another block");
    chain_free(&c);
}
END_TEST

START_TEST(test_replay_source_error) {
    chain c;
    chain_make(&c, 12);
    src s = {.store = c.store, .fail_at = 7, .fail_rc = ESG_ERR_IO};
    esg_replay_result res;
    char err[256];
    int rc = replay(&c, c.g, &s, 0, 2, &res, NULL, err);
    ck_assert_int_eq(rc, ESG_ERR_IO);
    ck_assert_uint_eq(res.bad_height, 7);
    ck_assert_str_eq(err, "block 7: cannot read it: input/output error");
    /* The blocks before it were replayed. */
    ck_assert_uint_eq(res.height, 6);

    /* A bad block before the source failure is the one reported: it is
     * the first bad block. */
    flip_block_byte(c.store, 3, SIZE_MAX);
    rc = replay(&c, c.g, &s, 12, 2, &res, NULL, err);
    ck_assert_int_eq(rc, ESG_ERR_BAD_BLOCK);
    ck_assert_uint_eq(res.bad_height, 3);
    ck_assert_uint_eq(res.height, 2);
    ck_assert_ptr_nonnull(strstr(err, "block 3 tx "));
    chain_free(&c);
}
END_TEST

START_TEST(test_replay_wrong_genesis) {
    chain c;
    chain_make(&c, 3);
    /* Same chain id and keys, another genesis time: another chain. */
    esg_genesis *g2 = esg_genesis_new(CHAIN, T0 + 1000);
    ck_assert_int_eq(esg_genesis_add_member(g2, "city-a", ESG_KIND_CITY, "City A", NULL, &c.a.pk), 0);
    ck_assert_int_eq(esg_genesis_add_member(g2, "inv-b", ESG_KIND_INVESTOR, "Investor B", NULL, &c.b.pk), 0);
    ck_assert_int_eq(esg_genesis_add_validator(g2, &c.val.pk, 5, "city-a"), 0);
    char *json;
    size_t len;
    char err[256];
    ck_assert_int_eq(esg_genesis_to_json(g2, &json, &len), 0);
    esg_genesis_free(g2);
    ck_assert_int_eq(esg_genesis_parse(&g2, (const uint8_t *)json, len, err, sizeof err), 0);
    free(json);
    src s = {.store = c.store};
    esg_replay_result res;
    int rc = replay(&c, g2, &s, 0, 2, &res, NULL, err);
    ck_assert_int_eq(rc, ESG_ERR_BAD_BLOCK);
    ck_assert_uint_eq(res.bad_height, 1);
    ck_assert_uint_eq(res.height, 0);
    ck_assert_str_eq(err, "block 1 does not link to block 0");
    esg_genesis_free(g2);
    chain_free(&c);
}
END_TEST

Suite *suite_replay(void) {
    Suite *s = suite_create("replay");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_replay_chain);
    tcase_add_test(tc, test_replay_empty_chain);
    tcase_add_test(tc, test_replay_tampered_tx);
    tcase_add_test(tc, test_replay_tampered_header);
    tcase_add_test(tc, test_replay_source_error);
    tcase_add_test(tc, test_replay_wrong_genesis);
    suite_add_tcase(s, tc);
    return s;
}
