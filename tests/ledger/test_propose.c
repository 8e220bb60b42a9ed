/* suite_propose: the executor's side of multi-validator consensus --
 * esg_exec_build_block (the proposer), esg_exec_check_block (a validator
 * before it prevotes) and esg_exec_apply_block with a commit of > 2/3 of
 * the validators (every node once the block is decided) -- on real LMDB
 * stores, with a contract table of the test's own:
 *   Transfer   writes HOLDINGS[instrument] = to_member; with units 0 it then
 *              fails (ERR_UNAUTHORIZED), a rejection after a write
 *   end_block  writes REPORTS["end_block"] = height, so every block, even
 *              an empty one, changes the state
 * The chain has four validators of power 10: a commit needs three. */
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
#include "ledger/merkle.h"
#include "ledger/state.h"
#include "ledger/store.h"
#include "ledger/txbuild.h"
#include "exec_fixture.h"
#include "testutil.h"

#define CHAIN "esg-propose-test"
#define T0 UINT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define DRIFT UINT64_C(5000)
#define NV 4

/* ---------------------------------------------------- test contracts */

static int c_transfer(esg_tx_ctx *ctx) {
    const esg_pb_transfer *t = ctx->body->transfer;
    int rc = esg_state_put(ctx->st, ESG_T_HOLDINGS, t->instrument, strlen(t->instrument),
                           t->to_member, strlen(t->to_member));
    if (rc)
        return rc;
    if (t->units == 0)
        return esg_tx_fail(ctx, ESG_ERR_UNAUTHORIZED, "no transfer of '%s'", t->instrument);
    return 0;
}

static int c_end_block(esg_block_ctx *b) {
    uint8_t h[8];
    uint64_t v = b->height;
    for (int i = 7; i >= 0; i--, v >>= 8)
        h[i] = (uint8_t)v;
    return esg_state_put(b->st, ESG_T_REPORTS, "end_block", 9, h, 8);
}

static const esg_contract_table *ct(void) {
    static esg_contract_table t;
    memset(&t, 0, sizeof t);
    t.apply[ESG_ACTION_TRANSFER] = c_transfer;
    t.end_block = c_end_block;
    return &t;
}

/* ------------------------------------------------------------- world */

typedef struct world {
    kp v[NV], a, b, outsider;
    esg_genesis *g;
} world;

static void world_init(world *wd) {
    memset(wd, 0, sizeof *wd);
    for (size_t i = 0; i < NV; i++)
        wd->v[i] = ef_key_new();
    wd->a = ef_key_new();
    wd->b = ef_key_new();
    wd->outsider = ef_key_new();
    esg_genesis *g = esg_genesis_new(CHAIN, T0);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "City A", "DE", &wd->a.pk), 0);
    ck_assert_int_eq(esg_genesis_add_member(g, "inv-b", ESG_KIND_INVESTOR, "Investor B", NULL, &wd->b.pk), 0);
    for (size_t i = 0; i < NV; i++)
        ck_assert_int_eq(esg_genesis_add_validator(g, &wd->v[i].pk, 10, "city-a"), 0);
    /* Through the file format, so the genesis has its real hash. */
    ef_genesis_reload(g, &wd->g);
}

static void world_free(world *wd) {
    esg_genesis_free(wd->g);
    for (size_t i = 0; i < NV; i++)
        esg_seckey_wipe(&wd->v[i].sk);
    esg_seckey_wipe(&wd->a.sk);
    esg_seckey_wipe(&wd->b.sk);
    esg_seckey_wipe(&wd->outsider.sk);
}

/* A Commit of `bh` at (height, round): PRECOMMIT signatures of keys[0..n),
 * assembled by hand as the consensus driver will from the votes it got. */
static void encode_commit(const kp *const *keys, size_t n, uint64_t height, uint32_t round,
                          const esg_hash *bh, uint8_t **out, size_t *len) {
    ck_assert_int_eq(ef_encode_commit(keys, n, CHAIN, height, round, bh, out, len), 0);
}

/* The esg_commit_fn of a node that produces alone but with the others'
 * signatures at hand: validators 0..2 sign. */
static int sign_three(void *arg, const char *chain_id, uint64_t height, const esg_hash *bh,
                      uint8_t **out, size_t *len) {
    world *wd = arg;
    ck_assert_str_eq(chain_id, CHAIN);
    const kp *keys[] = {&wd->v[0], &wd->v[1], &wd->v[2]};
    encode_commit(keys, 3, height, 0, bh, out, len);
    return 0;
}

/* ------------------------------------------------------------- nodes */

static bool has_row(node *n, esg_table t, const char *key) {
    return ef_has_row(n, t, key, strlen(key));
}

static esg_hash valset_hash_at(node *n, uint64_t h) {
    MDB_txn *txn;
    esg_pb_validator_set *vs = NULL;
    esg_hash out;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_exec_valset_at(txn, n->store, h, &vs), 0);
    esg_store_read_end(txn);
    ck_assert_int_eq(esg_valset_hash(vs, &out), 0);
    esg_pb_free(vs);
    return out;
}

/* Everything a check or a refused commit must leave untouched. */
typedef struct snapshot {
    esg_store_meta meta;
    esg_hash root;
} snapshot;

static snapshot snap(node *n) {
    return (snapshot){ef_meta_of(n), ef_state_root_of(n)};
}

static bool unchanged(node *n, const snapshot *s) {
    esg_store_meta m = ef_meta_of(n);
    esg_hash r = ef_state_root_of(n);
    return ef_meta_eq(&m, &s->meta) && esg_hash_eq(&r, &s->root) &&
           !ef_block_exists(n, s->meta.height + 1);
}

/* ------------------------------------------------------- transactions */

/* A signed Transfer of `instr` by `signer` with `nonce` (caller frees). */
static esg_tx *tx_transfer(const kp *signer, uint64_t nonce, const char *instr, uint64_t units) {
    esg_pb_transfer t;
    esg_pb_tx_body b;
    ef_transfer_body(&t, &b, instr, units);
    size_t len;
    uint8_t *raw = ef_sign_raw(&b, CHAIN, signer, nonce, NULL, 0, &len);
    return ef_decode_raw(raw, len);
}

/* The same transaction with the last byte of its signature flipped. */
static esg_tx *tx_bad_sig(const esg_tx *good) {
    uint8_t *raw = malloc(good->raw_len);
    ck_assert_ptr_nonnull(raw);
    memcpy(raw, good->raw, good->raw_len);
    raw[good->raw_len - 1] ^= 1;
    esg_tx *tx;
    ck_assert_int_eq(esg_tx_decode(&tx, raw, good->raw_len), 0);
    free(raw);
    return tx;
}

static int check(node *n, const uint8_t *blk, size_t len, const bool *verified, uint64_t now,
                 char *err) {
    return esg_exec_check_block(n->store, ct(), blk, len, verified, now, DRIFT, err, 256);
}

static int commit(node *n, const uint8_t *blk, size_t len, const uint8_t *c, size_t clen,
                  char *err) {
    return esg_exec_apply_block(n->store, ct(), blk, len, c, clen, NULL, err, 256);
}

/* ---------------------------------------------------- the happy path */

START_TEST(test_build_check_commit) {
    world wd;
    world_init(&wd);
    node A, B, C;
    ef_node_open(&A, wd.g);
    ef_node_open(&B, wd.g);
    ef_node_open(&C, wd.g);
    snapshot a0 = snap(&A), b0 = snap(&B);

    esg_tx *good = tx_transfer(&wd.b, 1, "GB-S", 1);
    esg_tx *txs[4] = {
        tx_transfer(&wd.a, 1, "GB-1", 1),
        tx_transfer(&wd.b, 1, "GB-X", 0), /* fails after a write */
        tx_transfer(&wd.a, 2, "GB-2", 1),
        tx_bad_sig(good),                 /* b's nonce is still 0: only the sig is wrong */
    };
    esg_exec_item items[4];
    ef_items_of(items, txs, 4);
    uint8_t *blk;
    size_t bl;
    esg_hash bh;
    esg_produced out;
    memset(&out, 0xAA, sizeof out);
    int rc = esg_exec_build_block(A.store, ct(), items, 4, NULL, 0, T0 + 1000, &wd.v[0].pk, false, &blk,
                                  &bl, &bh, &out);
    ck_assert_msg(rc == 0, "build: %s", esg_err_name(rc));
    ck_assert(out.made);
    ck_assert_uint_eq(out.height, 1);
    ck_assert_uint_eq(out.n_included, 2);
    ck_assert(esg_hash_eq(&out.block_hash, &bh));
    ck_assert_ptr_nonnull(blk);
    /* The failures are dropped, each with its reason. */
    ck_assert_int_eq(items[0].result, 0);
    ck_assert_int_eq(items[2].result, 0);
    ck_assert_int_eq(items[1].result, ESG_ERR_UNAUTHORIZED);
    ck_assert_str_eq(items[1].msg, "no transfer of 'GB-X'");
    ck_assert_int_eq(items[3].result, ESG_ERR_BAD_SIGNATURE);
    ck_assert_msg(strstr(items[3].msg, "does not verify") != NULL, "msg '%s'", items[3].msg);

    /* The proposer's store is still at its tip. */
    ck_assert(unchanged(&A, &a0));
    ck_assert_uint_eq(ef_nonce_of(&A, &wd.a.pk), 0);
    ck_assert(!has_row(&A, ESG_T_HOLDINGS, "GB-1"));

    /* The block is what its header says. */
    esg_pb_block *pb;
    ck_assert_int_eq(esg_pb_block_decode(&pb, blk, bl, SIZE_MAX), 0);
    const esg_pb_block_header *h = pb->header;
    esg_hash hh, ids[2] = {txs[0]->id, txs[2]->id};
    ck_assert_int_eq(esg_block_header_hash(h, &hh), 0);
    ck_assert(esg_hash_eq(&hh, &bh));
    ck_assert_str_eq(h->chain_id, CHAIN);
    ck_assert_uint_eq(h->height, 1);
    ck_assert_uint_eq(h->time_ms, T0 + 1000);
    ck_assert_mem_eq(h->prev_hash.data, wd.g->hash.b, 32);
    ck_assert_mem_eq(h->proposer.data, wd.v[0].pk.b, 32);
    ck_assert_mem_eq(h->app_hash.data, out.app_hash.b, 32);
    esg_hash root = esg_merkle_root(ids, 2), vh = valset_hash_at(&A, 1);
    ck_assert_mem_eq(h->tx_root.data, root.b, 32);
    ck_assert_mem_eq(h->validators_hash.data, vh.b, 32);
    ck_assert_uint_eq(pb->n_txs, 2);
    ck_assert_uint_eq(pb->txs[1].len, txs[2]->raw_len);
    ck_assert_mem_eq(pb->txs[1].data, txs[2]->raw, txs[2]->raw_len);
    esg_pb_free(pb);

    /* Built and produced from the same items, the block is the same. */
    esg_produced pout;
    ef_items_of(items, txs, 4);
    ck_assert_int_eq(esg_exec_produce(C.store, ct(), items, 4, T0 + 1000, &wd.v[0].pk, false,
                                      sign_three, &wd, &pout), 0);
    ck_assert(pout.made);
    ck_assert(esg_hash_eq(&pout.block_hash, &bh));
    ck_assert(esg_hash_eq(&pout.app_hash, &out.app_hash));

    /* Every validator checks the proposal: a replica and the proposer. */
    char err[256];
    rc = check(&B, blk, bl, NULL, T0 + 1000, err);
    ck_assert_msg(rc == 0, "check on B: %s: %s", esg_err_name(rc), err);
    ck_assert_str_eq(err, "");
    ck_assert(unchanged(&B, &b0));
    ck_assert_uint_eq(ef_nonce_of(&B, &wd.a.pk), 0);
    rc = check(&A, blk, bl, NULL, T0 + 1000, err);
    ck_assert_msg(rc == 0, "check on A: %s: %s", esg_err_name(rc), err);
    ck_assert(unchanged(&A, &a0));

    /* Two precommits of four (20 of 40) do not finalize it. */
    uint8_t *cm;
    size_t cl;
    const kp *two[] = {&wd.v[0], &wd.v[1]};
    encode_commit(two, 2, 1, 0, &bh, &cm, &cl);
    ck_assert_int_eq(commit(&B, blk, bl, cm, cl, err), ESG_ERR_BAD_COMMIT);
    ck_assert(unchanged(&B, &b0));
    free(cm);

    /* Three do: both stores take the block and end identical. */
    const kp *three[] = {&wd.v[0], &wd.v[2], &wd.v[3]};
    encode_commit(three, 3, 1, 0, &bh, &cm, &cl);
    rc = commit(&A, blk, bl, cm, cl, err);
    ck_assert_msg(rc == 0, "commit on A: %s: %s", esg_err_name(rc), err);
    rc = commit(&B, blk, bl, cm, cl, err);
    ck_assert_msg(rc == 0, "commit on B: %s: %s", esg_err_name(rc), err);
    esg_store_meta ma = ef_meta_of(&A), mb = ef_meta_of(&B), mc = ef_meta_of(&C);
    ck_assert(ef_meta_eq(&ma, &mb));
    ck_assert(ef_meta_eq(&ma, &mc));
    ck_assert_uint_eq(ma.height, 1);
    ck_assert(esg_hash_eq(&ma.block_hash, &bh));
    ck_assert(esg_hash_eq(&ma.app_hash, &out.app_hash));
    esg_hash ra = ef_state_root_of(&A), rb = ef_state_root_of(&B);
    ck_assert(esg_hash_eq(&ra, &out.app_hash));
    ck_assert(esg_hash_eq(&rb, &out.app_hash));
    ck_assert_uint_eq(ef_nonce_of(&B, &wd.a.pk), 2);
    ck_assert_uint_eq(ef_nonce_of(&B, &wd.b.pk), 0);
    ck_assert(has_row(&B, ESG_T_HOLDINGS, "GB-1"));
    ck_assert(has_row(&B, ESG_T_HOLDINGS, "GB-2"));
    ck_assert(!has_row(&B, ESG_T_HOLDINGS, "GB-X"));
    /* A proposal for the height just decided is stale. */
    ck_assert_int_eq(check(&B, blk, bl, NULL, T0 + 1000, err), ESG_ERR_BAD_BLOCK);
    ck_assert_str_eq(err, "block has height 1, expected 2");
    free(cm);
    free(blk);

    /* Height 2: nothing to include and no empty block wanted. */
    snapshot a1 = snap(&A);
    blk = (uint8_t *)"not touched";
    bl = 99;
    ck_assert_int_eq(esg_exec_build_block(A.store, ct(), NULL, 0, NULL, 0, T0 + 2000, &wd.v[1].pk, false,
                                          &blk, &bl, &bh, &out), 0);
    ck_assert(!out.made);
    ck_assert_ptr_null(blk);
    ck_assert_uint_eq(bl, 0);
    ck_assert(unchanged(&A, &a1));

    /* An empty block when asked for one; a clock behind the tip's gives the
     * tip's time + 1. Decided in round 1 by another three. */
    ck_assert_int_eq(esg_exec_build_block(A.store, ct(), NULL, 0, NULL, 0, T0, &wd.v[1].pk, true, &blk,
                                          &bl, &bh, &out), 0);
    ck_assert(out.made);
    ck_assert_uint_eq(out.height, 2);
    ck_assert_uint_eq(out.n_included, 0);
    ck_assert(unchanged(&A, &a1));
    ck_assert_int_eq(esg_pb_block_decode(&pb, blk, bl, SIZE_MAX), 0);
    ck_assert_uint_eq(pb->header->time_ms, T0 + 1001);
    ck_assert_mem_eq(pb->header->proposer.data, wd.v[1].pk.b, 32);
    ck_assert_mem_eq(pb->header->prev_hash.data, ma.block_hash.b, 32);
    ck_assert_uint_eq(pb->n_txs, 0);
    esg_pb_free(pb);
    rc = check(&B, blk, bl, NULL, T0 + 1001, err);
    ck_assert_msg(rc == 0, "check empty on B: %s: %s", esg_err_name(rc), err);
    const kp *other[] = {&wd.v[1], &wd.v[2], &wd.v[3]};
    encode_commit(other, 3, 2, 1, &bh, &cm, &cl);
    ck_assert_int_eq(commit(&A, blk, bl, cm, cl, err), 0);
    ck_assert_int_eq(commit(&B, blk, bl, cm, cl, err), 0);
    ma = ef_meta_of(&A);
    mb = ef_meta_of(&B);
    ck_assert(ef_meta_eq(&ma, &mb));
    ck_assert_uint_eq(ma.height, 2);
    ck_assert(esg_hash_eq(&ma.block_hash, &bh));
    ck_assert(esg_hash_eq(&mb.app_hash, &out.app_hash));
    free(cm);
    free(blk);

    for (size_t i = 0; i < 4; i++)
        esg_tx_free(txs[i]);
    esg_tx_free(good);
    ef_node_close(&A);
    ef_node_close(&B);
    ef_node_close(&C);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------------- rejections */

START_TEST(test_check_rejects) {
    world wd;
    world_init(&wd);
    node A, B;
    ef_node_open(&A, wd.g);
    ef_node_open(&B, wd.g);
    const uint64_t now = T0 + 1000;
    esg_tx *txs[2] = {
        tx_transfer(&wd.a, 1, "GB-1", 1),
        tx_transfer(&wd.b, 1, "GB-3", 1),
    };
    esg_exec_item items[2];
    ef_items_of(items, txs, 2);
    uint8_t *good;
    size_t glen;
    esg_hash gh;
    esg_produced out;
    ck_assert_int_eq(esg_exec_build_block(A.store, ct(), items, 2, NULL, 0, now, &wd.v[0].pk, false,
                                          &good, &glen, &gh, &out), 0);
    ck_assert_uint_eq(out.n_included, 2);
    snapshot b0 = snap(&B);
    /* A failing transaction for block 1. */
    esg_tx *failing = tx_transfer(&wd.a, 1, "GB-F", 0);

    enum { V_PREV, V_HEIGHT, V_TIME_EQ, V_TIME_AHEAD, V_CHAIN, V_PROPOSER, V_VALS, V_TX_SIG,
           V_TX_BODY, V_TXROOT, V_APP, V_FAILING_TX, V_GARBAGE, V_COUNT };
    static const struct {
        int code;
        const char *err_part;
    } want[V_COUNT] = {
        [V_PREV] = {ESG_ERR_BAD_BLOCK, "block 1 does not link to block 0"},
        [V_HEIGHT] = {ESG_ERR_BAD_BLOCK, "block has height 2, expected 1"},
        [V_TIME_EQ] = {ESG_ERR_BAD_BLOCK, "block 1 time does not increase"},
        [V_TIME_AHEAD] = {ESG_ERR_BAD_BLOCK,
                          "block 1 time is 5001 ms ahead of this node's clock, at most 5000 allowed"},
        [V_CHAIN] = {ESG_ERR_BAD_BLOCK, "block 1 is for chain 'other-chain'"},
        [V_PROPOSER] = {ESG_ERR_BAD_BLOCK, "block 1 proposer is not a validator"},
        [V_VALS] = {ESG_ERR_BAD_BLOCK, "block 1 validators_hash does not match the validator set"},
        [V_TX_SIG] = {ESG_ERR_BAD_BLOCK, "block 1 tx 1: ERR_BAD_SIGNATURE: signature of '"},
        [V_TX_BODY] = {ESG_ERR_BAD_BLOCK, "block 1 tx_root does not match its transactions"},
        [V_TXROOT] = {ESG_ERR_BAD_BLOCK, "block 1 tx_root does not match its transactions"},
        [V_APP] = {ESG_ERR_APP_HASH, "block 1 app_hash "},
        [V_FAILING_TX] = {ESG_ERR_BAD_BLOCK, "block 1 tx 0: ERR_UNAUTHORIZED: no transfer of 'GB-F'"},
        [V_GARBAGE] = {ESG_ERR_BAD_BLOCK, "block 1 does not decode canonically"},
    };
    for (int v = 0; v < V_COUNT; v++) {
        bspec s;
        ef_bspec_from(&s, good, glen);
        bool all_verified[4] = {true, true, true, true};
        const bool *verified = NULL;
        switch (v) {
        case V_PREV: s.prev.b[0] ^= 1; break;
        case V_HEIGHT: s.height = 2; break;
        case V_TIME_EQ: s.time = T0; break;
        case V_TIME_AHEAD: s.time = now + DRIFT + 1; break;
        case V_CHAIN: snprintf(s.chain, sizeof s.chain, "other-chain"); break;
        case V_PROPOSER: s.proposer = wd.outsider.pk; break;
        case V_VALS: s.vals.b[0] ^= 1; break;
        case V_TX_SIG: s.txs[1][s.tx_len[1] - 1] ^= 1; break;
        case V_TX_BODY: {
            /* Still decodes and applies (signatures trusted as verified),
             * but it is another tx than the header committed to. */
            size_t at = ef_find_bytes(s.txs[0], s.tx_len[0], "GB-1", 4);
            s.txs[0][at + 3] = '9';
            verified = all_verified;
            break;
        }
        case V_TXROOT: s.tx_root.b[5] ^= 1; break;
        case V_APP: s.app.b[31] ^= 1; break;
        case V_FAILING_TX:
            ef_bspec_release(&s);
            s.n_txs = 1;
            s.txs[0] = malloc(failing->raw_len);
            ck_assert_ptr_nonnull(s.txs[0]);
            memcpy(s.txs[0], failing->raw, failing->raw_len);
            s.tx_len[0] = failing->raw_len;
            s.tx_root = esg_merkle_root(&failing->id, 1);
            break;
        default: break;
        }
        uint8_t *blk;
        size_t bl;
        ef_bspec_encode(&s, &blk, &bl, NULL);
        if (v == V_GARBAGE) {
            free(blk);
            blk = (uint8_t *)strdup("\x0a\xff\xff garbage");
            bl = strlen((char *)blk);
        }
        char err[256];
        int rc = check(&B, blk, bl, verified, now, err);
        ck_assert_msg(rc == want[v].code, "variant %d: %s (%s)", v, esg_err_name(rc), err);
        ck_assert_msg(strstr(err, want[v].err_part) != NULL, "variant %d: message '%s'", v, err);
        /* Nothing was written, not even the writes of the txs that applied. */
        ck_assert_msg(unchanged(&B, &b0), "variant %d changed the store", v);
        ck_assert_uint_eq(ef_nonce_of(&B, &wd.a.pk), 0);
        ck_assert(!has_row(&B, ESG_T_HOLDINGS, "GB-1"));
        ck_assert(!has_row(&B, ESG_T_HOLDINGS, "GB-F"));
        free(blk);
        ef_bspec_release(&s);
    }

    /* The drift bound is inclusive: a block exactly max_drift ahead of the
     * clock passes, one millisecond more does not. */
    char err[256];
    ck_assert_int_eq(check(&B, good, glen, NULL, now - DRIFT, err), 0);
    ck_assert_int_eq(check(&B, good, glen, NULL, now - DRIFT - 1, err), ESG_ERR_BAD_BLOCK);
    ck_assert_str_eq(err, "block 1 time is 5001 ms ahead of this node's clock, at most 5000 allowed");
    ck_assert(unchanged(&B, &b0));

    /* The genuine block passes and, decided, is stored by both. */
    ck_assert_int_eq(check(&B, good, glen, NULL, now, err), 0);
    uint8_t *cm;
    size_t cl;
    const kp *three[] = {&wd.v[1], &wd.v[2], &wd.v[3]};
    encode_commit(three, 3, 1, 0, &gh, &cm, &cl);
    ck_assert_int_eq(commit(&A, good, glen, cm, cl, err), 0);
    ck_assert_int_eq(commit(&B, good, glen, cm, cl, err), 0);
    esg_store_meta ma = ef_meta_of(&A), mb = ef_meta_of(&B);
    ck_assert(ef_meta_eq(&ma, &mb));
    ck_assert(esg_hash_eq(&mb.block_hash, &gh));

    free(cm);
    free(good);
    esg_tx_free(failing);
    esg_tx_free(txs[0]);
    esg_tx_free(txs[1]);
    ef_node_close(&A);
    ef_node_close(&B);
    world_free(&wd);
}
END_TEST

Suite *suite_propose(void) {
    Suite *s = suite_create("propose");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_build_check_commit);
    tcase_add_test(tc, test_check_rejects);
    suite_add_tcase(s, tc);
    return s;
}
