/* suite_executor: ledger/executor.c driven through a contract table of the
 * test's own (the executor knows no domain), on real LMDB stores.
 *
 * The test contracts:
 *   AddAccount        adds an account to the signer's member
 *   Transfer          writes HOLDINGS[instrument] = to_member; with units 0
 *                     it then fails (ERR_UNAUTHORIZED) -- a rejection after
 *                     a write, which the executor must roll back
 *   RevokeAccount     "co-sign": claims the signature of `pubkey` (if set)
 *   AllocateProceeds  validator change for key evidence_sha256, power
 *                     amount (0 removes): project "direct" writes it and
 *                     sets valset_changed itself, "pending" leaves it to
 *                     end_block
 *   end_block         writes REPORTS["end_block"] = height, applies the
 *                     pending validator changes and sets valset_changed
 *   Vote              no handler (ERR_NO_ACTION) */
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
#include "ledger/smt.h"
#include "ledger/state.h"
#include "ledger/store.h"
#include "ledger/txbuild.h"
#include "exec_fixture.h"
#include "testutil.h"

#define CHAIN "esg-exec-test"
#define T0 UINT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define MAX_H 64

/* ---------------------------------------------------- test contracts */

static void be64(uint8_t out[8], uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static uint64_t rd64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int c_add_account(esg_tx_ctx *ctx) {
    const esg_pb_add_account *a = ctx->body->add_account;
    esg_pubkey pk;
    if (esg_pb_pubkey32(&a->pubkey, &pk))
        return esg_tx_fail(ctx, ESG_ERR_BAD_PUBKEY, "pubkey is not 32 bytes");
    esg_pb_account *old = NULL;
    if (esg_exec_account_get(ctx->st, &pk, &old) == 0) {
        esg_pb_free(old);
        return esg_tx_fail(ctx, ESG_ERR_ACCOUNT_EXISTS, "account '%s' exists",
                           esg_pubkey_hex(&pk).s);
    }
    esg_pb_account rec = ESG_PB_ACCOUNT_INIT;
    rec.pubkey = esg_pb_bin(pk.b, 32);
    rec.member = ctx->signer->member;
    rec.n_roles = a->n_roles;
    rec.roles = a->roles;
    int rc = esg_state_put_msg(ctx->st, ESG_T_ACCOUNTS, pk.b, 32, &rec.base);
    if (rc == 0)
        rc = esg_exec_member_account_link(ctx->st, ctx->signer->member, &pk, true);
    return rc;
}

static int c_transfer(esg_tx_ctx *ctx) {
    const esg_pb_transfer *t = ctx->body->transfer;
    int rc = esg_state_put(ctx->st, ESG_T_HOLDINGS, t->instrument, strlen(t->instrument),
                           t->to_member, strlen(t->to_member));
    if (rc)
        return rc;
    if (t->units == 0)
        return esg_tx_fail(ctx, ESG_ERR_UNAUTHORIZED,
                           "no transfer of '%s' at height %llu time %llu", t->instrument,
                           (unsigned long long)ctx->height, (unsigned long long)ctx->time_ms);
    return 0;
}

static int c_cosign(esg_tx_ctx *ctx) {
    const esg_pb_revoke_account *r = ctx->body->revoke_account;
    if (r->pubkey.len == 0)
        return 0;
    esg_pubkey pk;
    if (esg_pb_pubkey32(&r->pubkey, &pk))
        return esg_tx_fail(ctx, ESG_ERR_BAD_PUBKEY, "pubkey is not 32 bytes");
    if (!esg_tx_ctx_claim_sig(ctx, &pk))
        return esg_tx_fail(ctx, ESG_ERR_MISSING_SIGNATURE, "co-signer '%s' did not sign",
                           esg_pubkey_hex(&pk).s);
    return esg_state_put(ctx->st, ESG_T_DISPUTES, pk.b, 32, "cosigned", 8);
}

static int put_validator(esg_state *st, const uint8_t pk[32], uint64_t power) {
    if (power == 0)
        return esg_state_del(st, ESG_T_VALIDATORS, pk, 32);
    esg_pb_validator v = ESG_PB_VALIDATOR_INIT;
    v.pubkey = esg_pb_bin(pk, 32);
    v.power = power;
    v.operator_ = "city-a";
    return esg_state_put_msg(st, ESG_T_VALIDATORS, pk, 32, &v.base);
}

static int c_validator(esg_tx_ctx *ctx) {
    const esg_pb_allocate_proceeds *a = ctx->body->allocate_proceeds;
    if (a->evidence_sha256.len != 32)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PUBKEY, "validator key is not 32 bytes");
    if (strcmp(a->project_id, "direct") == 0) {
        int rc = put_validator(ctx->st, a->evidence_sha256.data, a->amount);
        if (rc == 0)
            ctx->block->valset_changed = true;
        return rc;
    }
    uint8_t p[8];
    be64(p, a->amount);
    return esg_state_put(ctx->st, ESG_T_ALLOCATIONS, a->evidence_sha256.data, 32, p, 8);
}

typedef struct pending {
    uint8_t pk[8][32];
    uint64_t power[8];
    size_t n;
} pending;

static int collect_pending(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                           void *arg) {
    pending *p = arg;
    if (klen != 32 || vlen != 8 || p->n == 8)
        return ESG_ERR_STORE_CORRUPT;
    memcpy(p->pk[p->n], key, 32);
    p->power[p->n++] = rd64(val);
    return 0;
}

static int c_end_block(esg_block_ctx *b) {
    uint8_t h[8];
    be64(h, b->height);
    int rc = esg_state_put(b->st, ESG_T_REPORTS, "end_block", 9, h, 8);
    if (rc)
        return rc;
    pending p = {.n = 0};
    if ((rc = esg_state_iter(b->st, ESG_T_ALLOCATIONS, NULL, 0, collect_pending, &p)) != 0)
        return rc;
    for (size_t i = 0; i < p.n; i++) {
        if ((rc = put_validator(b->st, p.pk[i], p.power[i])) != 0)
            return rc;
        if ((rc = esg_state_del(b->st, ESG_T_ALLOCATIONS, p.pk[i], 32)) != 0)
            return rc;
        b->valset_changed = true;
    }
    return 0;
}

static const esg_contract_table *test_contracts(void) {
    static esg_contract_table ct;
    memset(&ct, 0, sizeof ct);
    ct.apply[ESG_ACTION_ADD_ACCOUNT] = c_add_account;
    ct.apply[ESG_ACTION_TRANSFER] = c_transfer;
    ct.apply[ESG_ACTION_REVOKE_ACCOUNT] = c_cosign;
    ct.apply[ESG_ACTION_ALLOCATE_PROCEEDS] = c_validator;
    ct.end_block = c_end_block;
    return &ct;
}

/* ------------------------------------------------------------- world */

/* Keys and genesis shared by the nodes of one test. */
typedef struct world {
    kp val, w, a, a2, b, c, d, outsider;
    esg_genesis *g;
    bool w_signs[MAX_H];   /* commit of height h also signed by w */
    bool val_skips[MAX_H]; /* commit of height h not signed by val */
} world;

static void world_init(world *wd, uint64_t max_txs, uint64_t max_bytes) {
    memset(wd, 0, sizeof *wd);
    wd->val = ef_key_new();
    wd->w = ef_key_new();
    wd->a = ef_key_new();
    wd->a2 = ef_key_new();
    wd->b = ef_key_new();
    wd->c = ef_key_new();
    wd->d = ef_key_new();
    wd->outsider = ef_key_new();
    esg_genesis *g = esg_genesis_new(CHAIN, T0);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "City A", "DE", &wd->a.pk), 0);
    ck_assert_int_eq(esg_genesis_add_account(g, "city-a", &wd->a2.pk, ESG_ROLE_BIT_OFFICER), 0);
    ck_assert_int_eq(esg_genesis_set_lei(g, "city-a", "5493001KJTIIGC8Y1R12"), 0);
    ck_assert_int_eq(esg_genesis_set_population(g, "city-a", 211370), 0);
    ck_assert_int_eq(esg_genesis_add_member(g, "inv-b", ESG_KIND_INVESTOR, "Investor B", NULL, &wd->b.pk), 0);
    ck_assert_int_eq(esg_genesis_add_member(g, "aud-c", ESG_KIND_AUDITOR, "Auditor C", NULL, &wd->c.pk), 0);
    ck_assert_int_eq(esg_genesis_add_member(g, "ver-d", ESG_KIND_VERIFIER, "Verifier D", NULL, &wd->d.pk), 0);
    ck_assert_int_eq(esg_genesis_add_accreditation(g, "ver-d", "water,climate"), 0);
    ck_assert_int_eq(esg_genesis_add_kpi(g, "water_saved_m3", "Water saved", "m3", "water",
                                         ESG_KPI_HIGHER), 0);
    ck_assert_int_eq(esg_genesis_add_validator(g, &wd->val.pk, 10, "city-a"), 0);
    if (max_txs)
        g->params.max_block_txs = max_txs;
    if (max_bytes)
        g->params.max_block_bytes = max_bytes;
    /* Through the file format, so the genesis has its real hash. */
    ef_genesis_reload(g, &wd->g);
    ck_assert(!esg_hash_is_zero(&wd->g->hash));
}

static void world_free(world *wd) {
    esg_genesis_free(wd->g);
    kp *ks[] = {&wd->val, &wd->w, &wd->a, &wd->a2, &wd->b, &wd->c, &wd->d, &wd->outsider};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        esg_seckey_wipe(&ks[i]->sk);
}

/* The esg_commit_fn of the test network. */
static int sign_commit(void *arg, const char *chain_id, uint64_t height,
                       const esg_hash *bh, uint8_t **out, size_t *len) {
    world *wd = arg;
    const kp *keys[2];
    size_t n = 0;
    ck_assert_uint_lt(height, MAX_H);
    if (!wd->val_skips[height])
        keys[n++] = &wd->val;
    if (wd->w_signs[height])
        keys[n++] = &wd->w;
    return ef_encode_commit(keys, n, chain_id, height, 0, bh, out, len);
}

/* ------------------------------------------------------------- nodes */

/* Copies of block h and its commit (caller frees). */
static void block_copy(node *n, uint64_t h, uint8_t **blk, size_t *blen, uint8_t **cmt,
                       size_t *clen) {
    MDB_txn *txn;
    MDB_val b, c;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_store_block_get(txn, n->store, h, &b, &c), 0);
    *blk = malloc(b.mv_size + 1);
    *cmt = malloc(c.mv_size + 1);
    ck_assert(*blk && *cmt);
    memcpy(*blk, b.mv_data, b.mv_size);
    memcpy(*cmt, c.mv_data, c.mv_size);
    *blen = b.mv_size;
    *clen = c.mv_size;
    esg_store_read_end(txn);
}

static esg_pb_block *block_decoded(node *n, uint64_t h) {
    uint8_t *b, *c;
    size_t bl, cl;
    block_copy(n, h, &b, &bl, &c, &cl);
    esg_pb_block *blk;
    ck_assert_int_eq(esg_pb_block_decode(&blk, b, bl, SIZE_MAX), 0);
    free(b);
    free(c);
    return blk;
}

static esg_pb_validator_set *valset_at(node *n, uint64_t h) {
    MDB_txn *txn;
    esg_pb_validator_set *vs = NULL;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    int rc = esg_exec_valset_at(txn, n->store, h, &vs);
    esg_store_read_end(txn);
    ck_assert_msg(rc == 0, "valset_at(%llu): %s", (unsigned long long)h, esg_err_name(rc));
    return vs;
}

static esg_hash valset_hash_at(node *n, uint64_t h) {
    esg_pb_validator_set *vs = valset_at(n, h);
    esg_hash out;
    ck_assert_int_eq(esg_valset_hash(vs, &out), 0);
    esg_pb_free(vs);
    return out;
}

/* Number of entries in ESG_DB_VALSETS. */
static size_t valset_entries(node *n) {
    MDB_txn *txn;
    MDB_stat stat;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(mdb_stat(txn, esg_store_dbi(n->store, ESG_DB_VALSETS), &stat), 0);
    esg_store_read_end(txn);
    return stat.ms_entries;
}

/* ------------------------------------------------------- transactions */

typedef struct txo {
    const char *chain;      /* NULL: CHAIN */
    const kp *signer;      /* the body's signer */
    uint64_t nonce;
    const kp *sigs[4];     /* who signs; none listed: the signer alone */
    size_t n_sigs;
} txo;

/* Signs `b` as `o` says and returns the serialized Tx (caller frees). */
static uint8_t *finish_raw(const txo *o, esg_pb_tx_body *b, size_t *len) {
    return ef_sign_raw(b, o->chain ? o->chain : CHAIN, o->signer, o->nonce, o->sigs, o->n_sigs,
                       len);
}

static esg_tx *finish(const txo *o, esg_pb_tx_body *b) {
    size_t len;
    uint8_t *raw = finish_raw(o, b, &len);
    return ef_decode_raw(raw, len);
}

static uint8_t *transfer_raw(const txo *o, const char *instr, uint64_t units, size_t *len) {
    esg_pb_transfer t;
    esg_pb_tx_body b;
    ef_transfer_body(&t, &b, instr, units);
    return finish_raw(o, &b, len);
}

static esg_tx *tx_transfer(const txo *o, const char *instr, uint64_t units) {
    size_t len;
    uint8_t *raw = transfer_raw(o, instr, units, &len);
    return ef_decode_raw(raw, len);
}

static esg_tx *tx_add_account(const txo *o, const esg_pubkey *pk) {
    esg_pb_add_account a = ESG_PB_ADD_ACCOUNT_INIT;
    esg_pb_role roles[1] = {ESG_ROLE_OFFICER};
    a.pubkey = esg_pb_bin(pk->b, 32);
    a.roles = roles;
    a.n_roles = 1;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ADD_ACCOUNT;
    b.add_account = &a;
    return finish(o, &b);
}

static esg_tx *tx_cosign(const txo *o, const esg_pubkey *pk) {
    esg_pb_revoke_account r = ESG_PB_REVOKE_ACCOUNT_INIT;
    if (pk)
        r.pubkey = esg_pb_bin(pk->b, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVOKE_ACCOUNT;
    b.revoke_account = &r;
    return finish(o, &b);
}

static esg_tx *tx_validator(const txo *o, const char *mode, const esg_pubkey *pk,
                            uint64_t power) {
    esg_pb_allocate_proceeds a = ESG_PB_ALLOCATE_PROCEEDS_INIT;
    a.instrument = "valset";
    a.project_id = (char *)mode;
    a.amount = power;
    a.evidence_sha256 = esg_pb_bin(pk->b, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
    b.allocate_proceeds = &a;
    return finish(o, &b);
}

static esg_tx *tx_vote(const txo *o) {
    esg_pb_vote v = ESG_PB_VOTE_INIT;
    uint8_t id[32] = {1};
    v.proposal_id = esg_pb_bin(id, 32);
    v.approve = 1;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_VOTE;
    b.vote = &v;
    return finish(o, &b);
}

/* Produces one block of txs[0..n) (signatures not pre-verified). */
static esg_produced produce_at(node *nd, world *wd, esg_exec_item *items, size_t n,
                               uint64_t time_ms, bool allow_empty) {
    esg_produced out;
    memset(&out, 0xAA, sizeof out);
    int rc = esg_exec_produce(nd->store, test_contracts(), items, n, time_ms, &wd->val.pk,
                              allow_empty, sign_commit, wd, &out);
    ck_assert_msg(rc == 0, "produce: %s", esg_err_name(rc));
    return out;
}

static esg_produced produce(node *nd, world *wd, esg_tx *const *txs, size_t n, int *results) {
    esg_exec_item items[16];
    ck_assert_uint_le(n, 16);
    ef_items_of(items, txs, n);
    esg_store_meta m = ef_meta_of(nd);
    esg_produced out = produce_at(nd, wd, items, n, m.time_ms + 1000, false);
    for (size_t i = 0; i < n; i++) {
        if (results)
            results[i] = items[i].result;
        ck_assert_msg(items[i].result == 0 || items[i].msg[0], "item %zu: no message", i);
    }
    return out;
}

static void free_txs(esg_tx **txs, size_t n) {
    for (size_t i = 0; i < n; i++)
        esg_tx_free(txs[i]);
}

static int check(node *nd, const esg_tx *tx, uint64_t expected, bool verified, char *msg) {
    return esg_exec_check_tx(nd->store, test_contracts(), tx, expected, verified, 0, msg,
                             ESG_ERRMSG_MAX);
}

static int apply(node *nd, const uint8_t *b, size_t bl, const uint8_t *c, size_t cl,
                 const bool *verified, char *err) {
    return esg_exec_apply_block(nd->store, test_contracts(), b, bl, c, cl, verified, err, 256);
}

/* Copies node `from`'s block h to node `to`, which must accept it. */
static void replicate(node *from, node *to, uint64_t h) {
    uint8_t *b, *c;
    size_t bl, cl;
    block_copy(from, h, &b, &bl, &c, &cl);
    char err[256];
    int rc = apply(to, b, bl, c, cl, NULL, err);
    ck_assert_msg(rc == 0, "apply block %llu: %s: %s", (unsigned long long)h, esg_err_name(rc), err);
    free(b);
    free(c);
    esg_store_meta x = ef_meta_of(from), y = ef_meta_of(to);
    if (x.height == h)
        ck_assert(ef_meta_eq(&x, &y));
}

/* ------------------------------------------------------------ genesis */

START_TEST(test_genesis) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);

    esg_store_meta m = ef_meta_of(&n);
    ck_assert_uint_eq(m.height, 0);
    ck_assert(esg_hash_eq(&m.block_hash, &wd.g->hash));
    ck_assert(esg_hash_eq(&m.genesis_hash, &wd.g->hash));
    ck_assert_uint_eq(m.time_ms, T0);
    ck_assert_str_eq(m.chain_id, CHAIN);
    esg_hash root = ef_state_root_of(&n);
    ck_assert(esg_hash_eq(&m.app_hash, &root));
    ck_assert(!esg_hash_is_zero(&root));

    /* Accounts start at nonce 0, with their roles. */
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(n.store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, n.store, txn, false), 0);
    esg_pb_account *acct;
    ck_assert_int_eq(esg_exec_account_get(st, &wd.a.pk, &acct), 0);
    ck_assert_str_eq(acct->member, "city-a");
    ck_assert_uint_eq(acct->nonce, 0);
    ck_assert_uint_eq(acct->n_roles, 2);
    ck_assert_int_eq(acct->roles[0], ESG_ROLE_ADMIN);
    ck_assert_int_eq(acct->roles[1], ESG_ROLE_OFFICER);
    esg_pb_free(acct);
    ck_assert_int_eq(esg_exec_account_get(st, &wd.a2.pk, &acct), 0);
    ck_assert_uint_eq(acct->n_roles, 1);
    ck_assert_int_eq(acct->roles[0], ESG_ROLE_OFFICER);
    esg_pb_free(acct);
    ck_assert_int_eq(esg_exec_account_get(st, &wd.outsider.pk, &acct), ESG_ERR_NOT_FOUND);

    /* Members, with sorted accreditations. */
    ProtobufCMessage *msg;
    ck_assert_int_eq(esg_state_get_msg(st, ESG_T_MEMBERS, "ver-d", 5, ESG_PB_MEMBER_DESC, &msg), 0);
    esg_pb_member *mem = (esg_pb_member *)msg;
    ck_assert_int_eq(mem->kind, ESG_MEMBER_VERIFIER);
    ck_assert_uint_eq(mem->n_accredited_categories, 2);
    ck_assert_str_eq(mem->accredited_categories[0], "climate");
    ck_assert_str_eq(mem->accredited_categories[1], "water");
    esg_pb_free(msg);
    ck_assert_int_eq(esg_state_get_msg(st, ESG_T_MEMBERS, "city-a", 6, ESG_PB_MEMBER_DESC, &msg), 0);
    ck_assert_str_eq(((esg_pb_member *)msg)->country, "DE");
    ck_assert_str_eq(((esg_pb_member *)msg)->lei, "5493001KJTIIGC8Y1R12");
    ck_assert_uint_eq(((esg_pb_member *)msg)->population, 211370);
    esg_pb_free(msg);
    /* Not given: "" and 0, as the proto3 defaults read. */
    ck_assert_int_eq(esg_state_get_msg(st, ESG_T_MEMBERS, "inv-b", 5, ESG_PB_MEMBER_DESC, &msg), 0);
    ck_assert_str_eq(((esg_pb_member *)msg)->lei, "");
    ck_assert_uint_eq(((esg_pb_member *)msg)->population, 0);
    esg_pb_free(msg);
    ck_assert_int_eq(esg_state_get_msg(st, ESG_T_PARAMS, NULL, 0, ESG_PB_PARAMS_DESC, &msg), 0);
    ck_assert_uint_eq(((esg_pb_params *)msg)->max_block_txs, ESG_DEFAULT_MAX_BLOCK_TXS);
    esg_pb_free(msg);
    ck_assert_int_eq(esg_state_get_msg(st, ESG_T_KPIS, "water_saved_m3", 14, ESG_PB_KPI_DESC, &msg), 0);
    esg_pb_free(msg);
    ck_assert_int_eq(esg_state_get_msg(st, ESG_T_VALIDATORS, wd.val.pk.b, 32, ESG_PB_VALIDATOR_DESC, &msg), 0);
    ck_assert_uint_eq(((esg_pb_validator *)msg)->power, 10);
    esg_pb_free(msg);

    /* The member -> accounts index lists both accounts of city-a. */
    uint8_t lk[7 + 32];
    memcpy(lk, "city-a", 7);
    memcpy(lk + 7, wd.a2.pk.b, 32);
    MDB_val v;
    ck_assert_int_eq(esg_state_get(st, ESG_T_MEMBER_ACCOUNTS, lk, sizeof lk, &v), 0);

    /* An account is provable against the genesis app hash. */
    static esg_smt_proof proof;
    ck_assert_int_eq(esg_state_prove(st, ESG_T_ACCOUNTS, wd.a.pk.b, 32, &v, &proof), 0);
    esg_hash k = esg_state_key(ESG_T_ACCOUNTS, wd.a.pk.b, 32);
    esg_hash vh = esg_sha256(v.mv_data, v.mv_size);
    ck_assert_int_eq(esg_smt_verify(&m.app_hash, &k, &vh, &proof), 0);
    esg_state_free(st);
    esg_store_read_end(txn);

    /* The genesis set is in force from height 1 on, and not before. */
    esg_pb_validator_set *vs = valset_at(&n, 1);
    ck_assert_uint_eq(vs->n_validators, 1);
    ck_assert_mem_eq(vs->validators[0]->pubkey.data, wd.val.pk.b, 32);
    esg_pb_free(vs);
    vs = valset_at(&n, 1000);
    ck_assert_uint_eq(vs->n_validators, 1);
    esg_pb_free(vs);
    ck_assert_int_eq(esg_store_read_begin(n.store, &txn), 0);
    vs = (esg_pb_validator_set *)1;
    ck_assert_int_eq(esg_exec_valset_at(txn, n.store, 0, &vs), ESG_ERR_NOT_FOUND);
    ck_assert_ptr_null(vs);
    esg_store_read_end(txn);

    /* Twice: refused, nothing changed. */
    ck_assert_int_eq(esg_exec_genesis(n.store, wd.g), ESG_ERR_ALREADY_INITIALIZED);
    esg_store_meta m2 = ef_meta_of(&n);
    ck_assert(ef_meta_eq(&m, &m2));
    /* Another genesis on the same store: refused too. */
    world other;
    world_init(&other, 0, 0);
    ck_assert_int_eq(esg_exec_genesis(n.store, other.g), ESG_ERR_ALREADY_INITIALIZED);
    m2 = ef_meta_of(&n);
    ck_assert(ef_meta_eq(&m, &m2));
    ck_assert_uint_eq(ef_nonce_of(&n, &other.a.pk), UINT64_MAX);

    /* The same genesis on another store gives the same state root. */
    node n2;
    ef_node_open(&n2, wd.g);
    esg_store_meta m3 = ef_meta_of(&n2);
    ck_assert(ef_meta_eq(&m, &m3));
    ef_node_close(&n2);
    ef_node_close(&n);
    world_free(&other);
    world_free(&wd);
}
END_TEST

static int corrupt_meta_txn(MDB_txn *txn, void *arg) {
    esg_store *s = arg;
    return esg_store_put(txn, esg_store_dbi(s, ESG_DB_META), "chain", 5, "\x09garbage", 8);
}

START_TEST(test_genesis_over_corrupt_meta) {
    /* A head that does not decode is not "no head": genesis refuses to
     * write over it. */
    world wd;
    world_init(&wd, 0, 0);
    node n;
    tu_tmpdir(n.dir, sizeof n.dir);
    ck_assert_int_eq(esg_store_open(&n.store, n.dir, true), 0);
    ck_assert_int_eq(esg_store_write(n.store, corrupt_meta_txn, n.store), 0);
    ck_assert_int_eq(esg_exec_genesis(n.store, wd.g), ESG_ERR_STORE_CORRUPT);
    MDB_txn *txn;
    esg_store_meta m;
    ck_assert_int_eq(esg_store_read_begin(n.store, &txn), 0);
    ck_assert_int_eq(esg_store_meta_get(txn, n.store, &m), ESG_ERR_STORE_CORRUPT);
    MDB_stat stat;
    ck_assert_int_eq(mdb_stat(txn, esg_store_dbi(n.store, ESG_DB_STATE), &stat), 0);
    ck_assert_uint_eq(stat.ms_entries, 0);
    esg_store_read_end(txn);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

START_TEST(test_not_initialized) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    tu_tmpdir(n.dir, sizeof n.dir);
    ck_assert_int_eq(esg_store_open(&n.store, n.dir, true), 0);
    esg_tx *tx = tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 5);
    esg_exec_item it = {.tx = tx};
    esg_produced out;
    ck_assert_int_eq(esg_exec_produce(n.store, test_contracts(), &it, 1, T0, &wd.val.pk, true,
                                      sign_commit, &wd, &out),
                     ESG_ERR_NOT_INITIALIZED);
    char msg[ESG_ERRMSG_MAX];
    ck_assert_int_eq(check(&n, tx, 0, false, msg), ESG_ERR_NOT_INITIALIZED);
    ck_assert_int_eq(apply(&n, (const uint8_t *)"x", 1, (const uint8_t *)"y", 1, NULL, msg),
                     ESG_ERR_NOT_INITIALIZED);
    esg_tx_free(tx);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------------------ produce */

START_TEST(test_produce_nothing) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    esg_store_meta m0 = ef_meta_of(&n);

    /* No items. */
    esg_produced out = produce_at(&n, &wd, NULL, 0, T0 + 5000, false);
    ck_assert(!out.made);
    esg_store_meta m1 = ef_meta_of(&n);
    ck_assert(ef_meta_eq(&m0, &m1));
    ck_assert(!ef_block_exists(&n, 1));
    ck_assert(!ef_has_row(&n, ESG_T_REPORTS, "end_block", 9)); /* end_block did not run */

    /* Only failing items: nothing is written either. */
    esg_tx *txs[2] = {
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 0),
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 7}, "GB-2", 5),
    };
    int res[2];
    out = produce(&n, &wd, txs, 2, res);
    ck_assert(!out.made);
    ck_assert_int_eq(res[0], ESG_ERR_UNAUTHORIZED);
    ck_assert_int_eq(res[1], ESG_ERR_NONCE);
    m1 = ef_meta_of(&n);
    ck_assert(ef_meta_eq(&m0, &m1));
    ck_assert(!ef_has_row(&n, ESG_T_HOLDINGS, "GB-1", 4));
    ck_assert_uint_eq(ef_nonce_of(&n, &wd.a.pk), 0);
    esg_hash root = ef_state_root_of(&n);
    ck_assert(esg_hash_eq(&root, &m0.app_hash));

    /* allow_empty: an empty block (end_block runs, so the state moves). */
    out = produce_at(&n, &wd, NULL, 0, T0 + 5000, true);
    ck_assert(out.made);
    ck_assert_uint_eq(out.height, 1);
    ck_assert_uint_eq(out.n_included, 0);
    esg_pb_block *blk = block_decoded(&n, 1);
    ck_assert_uint_eq(blk->n_txs, 0);
    esg_hash zero = {{0}};
    ck_assert_mem_eq(blk->header->tx_root.data, zero.b, 32);
    esg_pb_free(blk);
    ck_assert(ef_has_row(&n, ESG_T_REPORTS, "end_block", 9));
    free_txs(txs, 2);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

START_TEST(test_produce_block) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    esg_store_meta m0 = ef_meta_of(&n);
    kp newk = ef_key_new();
    esg_tx *txs[3] = {
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 5),
        tx_add_account(&(txo){.signer = &wd.a, .nonce = 2}, &newk.pk),
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 1}, "GB-2", 5),
    };
    esg_exec_item items[3];
    ef_items_of(items, txs, 3);
    esg_produced out = produce_at(&n, &wd, items, 3, T0 + 60000, false);
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(items[i].result == 0, "item %d: %s", i, items[i].msg);
        ck_assert_str_eq(items[i].msg, "");
    }
    ck_assert(out.made);
    ck_assert_uint_eq(out.height, 1);
    ck_assert_uint_eq(out.n_included, 3);

    /* Meta. */
    esg_store_meta m = ef_meta_of(&n);
    ck_assert_uint_eq(m.height, 1);
    ck_assert(esg_hash_eq(&m.block_hash, &out.block_hash));
    ck_assert(esg_hash_eq(&m.app_hash, &out.app_hash));
    ck_assert(!esg_hash_eq(&m.app_hash, &m0.app_hash));
    ck_assert(esg_hash_eq(&m.genesis_hash, &wd.g->hash));
    ck_assert_uint_eq(m.time_ms, T0 + 60000);
    esg_hash root = ef_state_root_of(&n);
    ck_assert(esg_hash_eq(&root, &out.app_hash));

    /* The header. */
    uint8_t *raw, *craw;
    size_t rlen, clen;
    block_copy(&n, 1, &raw, &rlen, &craw, &clen);
    esg_pb_block *blk;
    ck_assert_int_eq(esg_pb_block_decode(&blk, raw, rlen, SIZE_MAX), 0);
    const esg_pb_block_header *h = blk->header;
    ck_assert_str_eq(h->chain_id, CHAIN);
    ck_assert_uint_eq(h->height, 1);
    ck_assert_uint_eq(h->time_ms, T0 + 60000);
    ck_assert_mem_eq(h->prev_hash.data, wd.g->hash.b, 32);
    esg_hash ids[3] = {txs[0]->id, txs[1]->id, txs[2]->id};
    esg_hash txr = esg_merkle_root(ids, 3);
    ck_assert_mem_eq(h->tx_root.data, txr.b, 32);
    ck_assert_mem_eq(h->app_hash.data, out.app_hash.b, 32);
    esg_hash vh = valset_hash_at(&n, 1);
    ck_assert_mem_eq(h->validators_hash.data, vh.b, 32);
    ck_assert_mem_eq(h->proposer.data, wd.val.pk.b, 32);
    esg_hash bh;
    ck_assert_int_eq(esg_block_header_hash(h, &bh), 0);
    ck_assert(esg_hash_eq(&bh, &out.block_hash));
    /* The transactions, byte for byte, in order. */
    ck_assert_uint_eq(blk->n_txs, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(blk->txs[i].len, txs[i]->raw_len);
        ck_assert_mem_eq(blk->txs[i].data, txs[i]->raw, txs[i]->raw_len);
    }

    /* The commit verifies against the set in force. */
    esg_pb_commit *commit;
    ck_assert_int_eq(esg_pb_commit_decode(&commit, craw, clen, 1 << 20), 0);
    esg_pb_validator_set *vs = valset_at(&n, 1);
    char err[256];
    ck_assert_int_eq(esg_commit_verify(commit, vs, CHAIN, 1, &bh, err, sizeof err), 0);
    esg_pb_free(vs);
    esg_pb_free(commit);
    esg_pb_free(blk);
    free(raw);
    free(craw);

    /* Indexes. */
    MDB_txn *txn;
    ck_assert_int_eq(esg_store_read_begin(n.store, &txn), 0);
    for (uint32_t i = 0; i < 3; i++) {
        uint64_t hh;
        uint32_t idx;
        ck_assert_int_eq(esg_store_tx_locate(txn, n.store, &txs[i]->id, &hh, &idx), 0);
        ck_assert_uint_eq(hh, 1);
        ck_assert_uint_eq(idx, i);
    }
    uint64_t hh;
    ck_assert_int_eq(esg_store_height_by_hash(txn, n.store, &bh, &hh), 0);
    ck_assert_uint_eq(hh, 1);
    esg_store_read_end(txn);

    /* Effects: nonces bumped, contract writes, end_block ran. */
    ck_assert_uint_eq(ef_nonce_of(&n, &wd.a.pk), 2);
    ck_assert_uint_eq(ef_nonce_of(&n, &wd.b.pk), 1);
    ck_assert_uint_eq(ef_nonce_of(&n, &newk.pk), 0);
    ck_assert(ef_has_row(&n, ESG_T_HOLDINGS, "GB-1", 4));
    ck_assert(ef_has_row(&n, ESG_T_HOLDINGS, "GB-2", 4));
    ck_assert(ef_has_row(&n, ESG_T_REPORTS, "end_block", 9));

    /* The next block links to this one; the new account can sign. */
    esg_tx *t2 = tx_transfer(&(txo){.signer = &newk, .nonce = 1}, "GB-3", 1);
    esg_produced out2 = produce(&n, &wd, &t2, 1, NULL);
    ck_assert(out2.made);
    ck_assert_uint_eq(out2.height, 2);
    blk = block_decoded(&n, 2);
    ck_assert_mem_eq(blk->header->prev_hash.data, out.block_hash.b, 32);
    esg_pb_free(blk);

    /* A tx already in a block is a replay (nonce). */
    esg_exec_item again = {.tx = txs[0]};
    esg_produced out3 = produce_at(&n, &wd, &again, 1, 0, false);
    ck_assert(!out3.made);
    ck_assert_int_eq(again.result, ESG_ERR_NONCE);
    esg_tx_free(t2);
    free_txs(txs, 3);
    esg_seckey_wipe(&newk.sk);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

START_TEST(test_produce_drops_failing) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    esg_tx *txs[4] = {
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 5),
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 2}, "GB-BAD", 0), /* writes, then fails */
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 1}, "GB-2", 5),
        /* Same nonce as the failed one: its nonce bump was rolled back. */
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 2}, "GB-3", 5),
    };
    esg_exec_item items[4];
    ef_items_of(items, txs, 4);
    esg_produced out = produce_at(&n, &wd, items, 4, T0 + 1000, false);
    ck_assert(out.made);
    ck_assert_uint_eq(out.n_included, 3);
    ck_assert_int_eq(items[0].result, 0);
    ck_assert_int_eq(items[1].result, ESG_ERR_UNAUTHORIZED);
    char want[ESG_ERRMSG_MAX];
    snprintf(want, sizeof want, "no transfer of 'GB-BAD' at height 1 time %llu",
             (unsigned long long)(T0 + 1000));
    ck_assert_str_eq(items[1].msg, want);
    ck_assert_int_eq(items[2].result, 0);
    ck_assert_int_eq(items[3].result, 0);

    ck_assert(!ef_has_row(&n, ESG_T_HOLDINGS, "GB-BAD", 6));
    ck_assert(ef_has_row(&n, ESG_T_HOLDINGS, "GB-3", 4));
    ck_assert_uint_eq(ef_nonce_of(&n, &wd.a.pk), 2);

    esg_pb_block *blk = block_decoded(&n, 1);
    ck_assert_uint_eq(blk->n_txs, 3);
    ck_assert_mem_eq(blk->txs[0].data, txs[0]->raw, txs[0]->raw_len);
    ck_assert_mem_eq(blk->txs[1].data, txs[2]->raw, txs[2]->raw_len);
    ck_assert_mem_eq(blk->txs[2].data, txs[3]->raw, txs[3]->raw_len);
    esg_hash ids[3] = {txs[0]->id, txs[2]->id, txs[3]->id};
    esg_hash txr = esg_merkle_root(ids, 3);
    ck_assert_mem_eq(blk->header->tx_root.data, txr.b, 32);
    esg_pb_free(blk);
    MDB_txn *txn;
    uint64_t hh;
    uint32_t idx;
    ck_assert_int_eq(esg_store_read_begin(n.store, &txn), 0);
    ck_assert_int_eq(esg_store_tx_locate(txn, n.store, &txs[1]->id, &hh, &idx), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_store_tx_locate(txn, n.store, &txs[3]->id, &hh, &idx), 0);
    ck_assert_uint_eq(idx, 2);
    esg_store_read_end(txn);

    /* The block's app hash is that of the included txs only: a second node
     * applying the block (which holds no trace of the failed one) agrees. */
    node n2;
    ef_node_open(&n2, wd.g);
    replicate(&n, &n2, 1);
    ef_node_close(&n2);
    free_txs(txs, 4);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

/* Marks an account revoked or a member suspended by writing state directly
 * (test setup: the test contracts have no such action). */
typedef struct tamper_job {
    node *n;
    const esg_pubkey *revoke;
    const char *suspend;
    uint64_t max_block_bytes; /* 0: unchanged */
} tamper_job;

static int tamper_txn(MDB_txn *txn, void *arg) {
    tamper_job *j = arg;
    esg_state *st;
    ck_assert_int_eq(esg_state_open(&st, j->n->store, txn, true), 0);
    if (j->revoke) {
        esg_pb_account *a;
        ck_assert_int_eq(esg_exec_account_get(st, j->revoke, &a), 0);
        a->revoked = 1;
        ck_assert_int_eq(esg_state_put_msg(st, ESG_T_ACCOUNTS, j->revoke->b, 32, &a->base), 0);
        esg_pb_free(a);
    }
    if (j->suspend) {
        ProtobufCMessage *m;
        ck_assert_int_eq(esg_state_get_msg(st, ESG_T_MEMBERS, j->suspend, strlen(j->suspend),
                                           ESG_PB_MEMBER_DESC, &m), 0);
        ((esg_pb_member *)m)->suspended = 1;
        ck_assert_int_eq(esg_state_put_msg(st, ESG_T_MEMBERS, j->suspend, strlen(j->suspend), m), 0);
        esg_pb_free(m);
    }
    if (j->max_block_bytes) {
        ProtobufCMessage *m;
        ck_assert_int_eq(esg_state_get_msg(st, ESG_T_PARAMS, NULL, 0, ESG_PB_PARAMS_DESC, &m), 0);
        ((esg_pb_params *)m)->max_block_bytes = j->max_block_bytes;
        ck_assert_int_eq(esg_state_put_msg(st, ESG_T_PARAMS, NULL, 0, m), 0);
        esg_pb_free(m);
    }
    esg_hash root;
    ck_assert_int_eq(esg_state_root(st, &root), 0);
    esg_state_free(st);
    return 0;
}

START_TEST(test_common_checks) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    /* A block so that A's nonce is 1. */
    esg_tx *first = tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-0", 1);
    ck_assert(produce(&n, &wd, &first, 1, NULL).made);
    esg_tx_free(first);
    tamper_job tj = {&n, &wd.a2.pk, "aud-c", 0};
    ck_assert_int_eq(esg_store_write(n.store, tamper_txn, &tj), 0);

    /* A bad signature that still decodes: flip the last byte (the last
     * signature's last byte). */
    size_t blen;
    uint8_t *braw = transfer_raw(&(txo){.signer = &wd.a, .nonce = 2}, "GB-S", 1, &blen);
    braw[blen - 1] ^= 0x01;
    esg_tx *badsig = ef_decode_raw(braw, blen);
    char emsg[ESG_ERRMSG_MAX];
    ck_assert_int_eq(esg_tx_verify_sigs(badsig, emsg, sizeof emsg), ESG_ERR_BAD_SIGNATURE);
    char want_sig[160];
    snprintf(want_sig, sizeof want_sig, "signature of '%s' does not verify",
             esg_pubkey_hex(&wd.a.pk).s);
    ck_assert_str_eq(emsg, want_sig);

    struct {
        const char *what;
        esg_tx *tx;
        int want;
        const char *msg_part;
    } cases[] = {
        {"chain id", tx_transfer(&(txo){.chain = "other-chain", .signer = &wd.a, .nonce = 2}, "GB-1", 1),
         ESG_ERR_CHAIN_ID, "transaction is for chain 'other-chain', this is 'esg-exec-test'"},
        {"unknown signer", tx_transfer(&(txo){.signer = &wd.outsider, .nonce = 1}, "GB-1", 1),
         ESG_ERR_UNKNOWN_SIGNER, "no account '"},
        {"nonce replay", tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 1),
         ESG_ERR_NONCE, "nonce 1, expected 2 for '"},
        {"nonce skip", tx_transfer(&(txo){.signer = &wd.a, .nonce = 3}, "GB-1", 1),
         ESG_ERR_NONCE, "nonce 3, expected 2"},
        {"nonce zero", tx_transfer(&(txo){.signer = &wd.b, .nonce = 0}, "GB-1", 1),
         ESG_ERR_NONCE, "nonce 0, expected 1"},
        {"signer did not sign",
         tx_transfer(&(txo){.signer = &wd.a, .nonce = 2, .sigs = {&wd.b}, .n_sigs = 1}, "GB-1", 1),
         ESG_ERR_MISSING_SIGNATURE, "did not sign"},
        {"bad signature", badsig, ESG_ERR_BAD_SIGNATURE, want_sig},
        {"unclaimed co-signature",
         tx_transfer(&(txo){.signer = &wd.a, .nonce = 2, .sigs = {&wd.a, &wd.b}, .n_sigs = 2}, "GB-1", 1),
         ESG_ERR_UNEXPECTED_SIGNATURE, "is not needed by 'Transfer'"},
        {"co-signer missing (contract rule)", tx_cosign(&(txo){.signer = &wd.a, .nonce = 2}, &wd.b.pk),
         ESG_ERR_MISSING_SIGNATURE, "co-signer '"},
        {"no handler", tx_vote(&(txo){.signer = &wd.a, .nonce = 2}),
         ESG_ERR_NO_ACTION, "action 'Vote' is not supported by this node"},
        {"revoked account", tx_transfer(&(txo){.signer = &wd.a2, .nonce = 1}, "GB-1", 1),
         ESG_ERR_ACCOUNT_REVOKED, "of 'city-a' was revoked"},
        {"suspended member", tx_transfer(&(txo){.signer = &wd.c, .nonce = 1}, "GB-1", 1),
         ESG_ERR_MEMBER_SUSPENDED, "member 'aud-c' is suspended"},
        {"contract rule", tx_transfer(&(txo){.signer = &wd.a, .nonce = 2}, "GB-1", 0),
         ESG_ERR_UNAUTHORIZED, "no transfer of 'GB-1' at height 2"},
    };
    size_t nc = sizeof cases / sizeof cases[0];
    esg_store_meta m0 = ef_meta_of(&n);
    esg_hash r0 = ef_state_root_of(&n);

    /* check_tx gives each error with its message... */
    for (size_t i = 0; i < nc; i++) {
        char msg[ESG_ERRMSG_MAX];
        int rc = check(&n, cases[i].tx, 0, false, msg);
        ck_assert_msg(rc == cases[i].want, "%s: got %s (%s)", cases[i].what, esg_err_name(rc), msg);
        ck_assert_msg(strstr(msg, cases[i].msg_part) != NULL, "%s: message '%s'", cases[i].what, msg);
    }
    /* ...and so does a block builder, which then makes no block. */
    esg_exec_item items[16];
    ck_assert_uint_le(nc, 16);
    memset(items, 0, sizeof items);
    for (size_t i = 0; i < nc; i++)
        items[i].tx = cases[i].tx;
    esg_produced out = produce_at(&n, &wd, items, nc, T0 + 99999, false);
    ck_assert(!out.made);
    for (size_t i = 0; i < nc; i++) {
        ck_assert_msg(items[i].result == cases[i].want, "%s: got %s (%s)", cases[i].what,
                      esg_err_name(items[i].result), items[i].msg);
        ck_assert_msg(strstr(items[i].msg, cases[i].msg_part) != NULL, "%s: message '%s'",
                      cases[i].what, items[i].msg);
    }
    esg_store_meta m1 = ef_meta_of(&n);
    ck_assert(ef_meta_eq(&m0, &m1));
    esg_hash r1 = ef_state_root_of(&n);
    ck_assert(esg_hash_eq(&r0, &r1));
    ck_assert_uint_eq(ef_nonce_of(&n, &wd.a.pk), 1);

    /* The trust contract: sigs_verified=true means "already verified";
     * the executor does not look again. */
    char msg[ESG_ERRMSG_MAX];
    ck_assert_int_eq(check(&n, badsig, 0, true, msg), 0);

    /* A claimed co-signature is accepted. */
    esg_tx *co = tx_cosign(&(txo){.signer = &wd.a, .nonce = 2, .sigs = {&wd.a, &wd.b}, .n_sigs = 2},
                           &wd.b.pk);
    ck_assert_int_eq(check(&n, co, 0, false, msg), 0);
    /* Signatures in any order: the signer's need not come first. */
    esg_tx *co2 = tx_cosign(&(txo){.signer = &wd.a, .nonce = 2, .sigs = {&wd.b, &wd.a}, .n_sigs = 2},
                            &wd.b.pk);
    ck_assert_int_eq(check(&n, co2, 0, false, msg), 0);
    ck_assert(produce(&n, &wd, &co2, 1, NULL).made);
    ck_assert(ef_has_row(&n, ESG_T_DISPUTES, wd.b.pk.b, 32));
    esg_tx_free(co);
    esg_tx_free(co2);
    for (size_t i = 0; i < nc; i++)
        esg_tx_free(cases[i].tx);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

START_TEST(test_max_block_txs) {
    world wd;
    world_init(&wd, 2, 0);
    node n;
    ef_node_open(&n, wd.g);
    esg_tx *txs[4] = {
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 1),
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 2}, "GB-2", 0), /* dropped: not counted */
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 1}, "GB-3", 1),
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 2}, "GB-4", 1),
    };
    int res[4];
    esg_produced out = produce(&n, &wd, txs, 4, res);
    ck_assert(out.made);
    ck_assert_uint_eq(out.n_included, 2);
    ck_assert_int_eq(res[0], 0);
    ck_assert_int_eq(res[1], ESG_ERR_UNAUTHORIZED);
    ck_assert_int_eq(res[2], 0);
    ck_assert_int_eq(res[3], ESG_ERR_MEMPOOL_FULL);
    esg_exec_item it[4];
    ef_items_of(it, txs, 4);
    produce_at(&n, &wd, it, 4, 0, false);
    /* The overflow item is retried in the next block. */
    ck_assert_int_eq(it[3].result, 0);
    ck_assert_int_eq(it[0].result, ESG_ERR_NONCE);

    /* A full block: everything past the limit is "block full". */
    esg_tx *more[3] = {
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 2}, "GB-5", 1),
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 3}, "GB-6", 1),
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 4}, "GB-7", 1),
    };
    ef_items_of(it, more, 3);
    out = produce_at(&n, &wd, it, 3, 0, false);
    ck_assert_uint_eq(out.n_included, 2);
    ck_assert_int_eq(it[2].result, ESG_ERR_MEMPOOL_FULL);
    ck_assert_str_eq(it[2].msg, "not included: block full");
    ck_assert(!ef_has_row(&n, ESG_T_HOLDINGS, "GB-7", 4));

    /* A received block with more transactions than the limit is invalid
     * (checked before anything else). */
    node n2;
    ef_node_open(&n2, wd.g);
    esg_pb_block_header h = ESG_PB_BLOCK_HEADER_INIT;
    esg_hash z = {{0}};
    h.chain_id = CHAIN;
    h.height = 1;
    h.time_ms = T0 + 1;
    h.prev_hash = esg_pb_bin(wd.g->hash.b, 32);
    h.tx_root = h.app_hash = h.validators_hash = esg_pb_bin(z.b, 32);
    h.proposer = esg_pb_bin(wd.val.pk.b, 32);
    esg_pb_bytes raws[3];
    for (int i = 0; i < 3; i++)
        raws[i] = esg_pb_bin(more[i]->raw, more[i]->raw_len);
    esg_pb_block b = ESG_PB_BLOCK_INIT;
    b.header = &h;
    b.n_txs = 3;
    b.txs = raws;
    uint8_t *enc;
    size_t elen;
    ck_assert_int_eq(esg_pb_encode(&b.base, &enc, &elen), 0);
    char err[256];
    ck_assert_int_eq(apply(&n2, enc, elen, (const uint8_t *)"", 0, NULL, err), ESG_ERR_BAD_BLOCK);
    ck_assert_str_eq(err, "block 1 has too many transactions");
    free(enc);
    ef_node_close(&n2);
    free_txs(txs, 4);
    free_txs(more, 3);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

START_TEST(test_max_block_bytes) {
    world wd;
    world_init(&wd, 0, 0);
    /* Measure a tx first (all test transfers below have one size). */
    size_t len;
    uint8_t *raw = transfer_raw(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 1, &len);
    free(raw);

    /* Room for exactly two: the executor keeps 1024 bytes for the header
     * and counts 16 bytes of framing per tx. Genesis does not allow so
     * small a limit, so the test sets it in the state (as a governance
     * SetParam would). */
    node n, n2;
    ef_node_open(&n, wd.g);
    ef_node_open(&n2, wd.g);
    tamper_job tj = {&n, NULL, NULL, 1024 + 2 * (len + 16)};
    ck_assert_int_eq(esg_store_write(n.store, tamper_txn, &tj), 0);
    tj.n = &n2;
    ck_assert_int_eq(esg_store_write(n2.store, tamper_txn, &tj), 0);
    esg_tx *txs[3] = {
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 1),
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 1}, "GB-2", 1),
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 2}, "GB-3", 1),
    };
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(txs[i]->raw_len, len);
    int res[3];
    esg_produced out = produce(&n, &wd, txs, 3, res);
    ck_assert_uint_eq(out.n_included, 2);
    ck_assert_int_eq(res[0], 0);
    ck_assert_int_eq(res[1], 0);
    ck_assert_int_eq(res[2], ESG_ERR_MEMPOOL_FULL);
    /* And a second node accepts the block (its size is within the limit
     * the receiver applies). */
    replicate(&n, &n2, 1);
    ef_node_close(&n2);
    free_txs(txs, 3);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

START_TEST(test_time_clamp) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    uint64_t times[4] = {T0 - 5000, T0, T0 + 100000, T0 + 100000};
    uint64_t want[4] = {T0 + 1, T0 + 2, T0 + 100000, T0 + 100001};
    for (int i = 0; i < 4; i++) {
        esg_produced out = produce_at(&n, &wd, NULL, 0, times[i], true);
        ck_assert(out.made);
        esg_pb_block *blk = block_decoded(&n, out.height);
        ck_assert_uint_eq(blk->header->time_ms, want[i]);
        esg_pb_free(blk);
        esg_store_meta m = ef_meta_of(&n);
        ck_assert_uint_eq(m.time_ms, want[i]);
    }
    /* Contracts see the block time. */
    esg_tx *t = tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-T", 0);
    esg_exec_item it = {.tx = t};
    produce_at(&n, &wd, &it, 1, 7, false);
    char expect[ESG_ERRMSG_MAX];
    snprintf(expect, sizeof expect, "no transfer of 'GB-T' at height 5 time %llu",
             (unsigned long long)(T0 + 100002));
    ck_assert_str_eq(it.msg, expect);
    esg_tx_free(t);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------------------ check_tx */

START_TEST(test_check_tx) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    esg_tx *first = tx_transfer(&(txo){.signer = &wd.b, .nonce = 1}, "GB-0", 1);
    ck_assert(produce(&n, &wd, &first, 1, NULL).made);
    esg_tx_free(first);
    esg_store_meta m0 = ef_meta_of(&n);
    esg_hash r0 = ef_state_root_of(&n);
    char msg[ESG_ERRMSG_MAX];

    /* A valid tx passes and leaves no trace. */
    esg_tx *t1 = tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 1);
    ck_assert_int_eq(check(&n, t1, 0, false, msg), 0);
    ck_assert_str_eq(msg, "");
    /* And again: nothing was consumed. */
    ck_assert_int_eq(check(&n, t1, 0, false, msg), 0);
    esg_store_meta m1 = ef_meta_of(&n);
    ck_assert(ef_meta_eq(&m0, &m1));
    esg_hash r1 = ef_state_root_of(&n);
    ck_assert(esg_hash_eq(&r0, &r1));
    ck_assert_uint_eq(ef_nonce_of(&n, &wd.a.pk), 0);
    ck_assert(!ef_has_row(&n, ESG_T_HOLDINGS, "GB-1", 4));
    ck_assert(!ef_block_exists(&n, 2));

    /* expected_nonce: queue a signer's consecutive txs. */
    esg_tx *t3 = tx_transfer(&(txo){.signer = &wd.a, .nonce = 3}, "GB-3", 1);
    ck_assert_int_eq(check(&n, t3, 3, false, msg), 0);
    ck_assert_int_eq(check(&n, t3, 0, false, msg), ESG_ERR_NONCE);
    ck_assert_int_eq(check(&n, t1, 3, false, msg), ESG_ERR_NONCE);
    ck_assert_ptr_nonnull(strstr(msg, "nonce 1, expected 3"));
    ck_assert_int_eq(check(&n, t1, 1, false, msg), 0);

    /* The assumed block: height tip + 1, time clamped above the tip's. */
    esg_tx *bad = tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-X", 0);
    ck_assert_int_eq(esg_exec_check_tx(n.store, test_contracts(), bad, 0, false, 3, msg, sizeof msg),
                     ESG_ERR_UNAUTHORIZED);
    char want[ESG_ERRMSG_MAX];
    snprintf(want, sizeof want, "no transfer of 'GB-X' at height 2 time %llu",
             (unsigned long long)(m0.time_ms + 1));
    ck_assert_str_eq(msg, want);
    ck_assert_int_eq(esg_exec_check_tx(n.store, test_contracts(), bad, 0, false, m0.time_ms + 777,
                                       msg, sizeof msg),
                     ESG_ERR_UNAUTHORIZED);
    snprintf(want, sizeof want, "no transfer of 'GB-X' at height 2 time %llu",
             (unsigned long long)(m0.time_ms + 777));
    ck_assert_str_eq(msg, want);
    /* The failing check wrote nothing either (its write came before the
     * failure). */
    ck_assert(!ef_has_row(&n, ESG_T_HOLDINGS, "GB-X", 4));
    m1 = ef_meta_of(&n);
    ck_assert(ef_meta_eq(&m0, &m1));
    r1 = ef_state_root_of(&n);
    ck_assert(esg_hash_eq(&r0, &r1));
    esg_tx_free(t1);
    esg_tx_free(t3);
    esg_tx_free(bad);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

/* --------------------------------------------------------- apply_block */

START_TEST(test_apply_replicates) {
    world wd;
    world_init(&wd, 0, 0);
    node n1, n2;
    ef_node_open(&n1, wd.g);
    ef_node_open(&n2, wd.g);
    kp k1 = ef_key_new();
    esg_tx *b1[3] = {
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 1),
        tx_add_account(&(txo){.signer = &wd.a, .nonce = 2}, &k1.pk),
        tx_cosign(&(txo){.signer = &wd.b, .nonce = 1, .sigs = {&wd.c, &wd.b}, .n_sigs = 2}, &wd.c.pk),
    };
    esg_tx *b2[2] = {
        tx_transfer(&(txo){.signer = &k1, .nonce = 1}, "GB-2", 0), /* dropped */
        tx_transfer(&(txo){.signer = &k1, .nonce = 1}, "GB-2", 2),
    };
    ck_assert(produce(&n1, &wd, b1, 3, NULL).made);
    ck_assert(produce(&n1, &wd, b2, 2, NULL).made);
    ck_assert(produce_at(&n1, &wd, NULL, 0, 0, true).made); /* empty block 3 */
    for (uint64_t h = 1; h <= 3; h++)
        replicate(&n1, &n2, h);
    esg_hash ra = ef_state_root_of(&n1), rb = ef_state_root_of(&n2);
    ck_assert(esg_hash_eq(&ra, &rb));
    esg_store_meta x = ef_meta_of(&n1), y = ef_meta_of(&n2);
    ck_assert_uint_eq(y.height, 3);
    ck_assert(ef_meta_eq(&x, &y));
    ck_assert_uint_eq(ef_nonce_of(&n2, &k1.pk), 1);
    ck_assert(ef_has_row(&n2, ESG_T_HOLDINGS, "GB-2", 4));
    /* Tx index on the replica. */
    MDB_txn *txn;
    uint64_t hh;
    uint32_t idx;
    ck_assert_int_eq(esg_store_read_begin(n2.store, &txn), 0);
    ck_assert_int_eq(esg_store_tx_locate(txn, n2.store, &b2[1]->id, &hh, &idx), 0);
    ck_assert_uint_eq(hh, 2);
    ck_assert_uint_eq(idx, 0);
    esg_store_read_end(txn);

    /* Applying a block twice: the second time it does not link. */
    uint8_t *b, *c;
    size_t bl, cl;
    block_copy(&n1, 3, &b, &bl, &c, &cl);
    char err[256];
    ck_assert_int_eq(apply(&n2, b, bl, c, cl, NULL, err), ESG_ERR_BAD_BLOCK);
    free(b);
    free(c);

    /* Both nodes go on from the same tip. */
    esg_tx *t4 = tx_transfer(&(txo){.signer = &wd.a, .nonce = 3}, "GB-4", 1);
    ck_assert(produce(&n2, &wd, &t4, 1, NULL).made);
    replicate(&n2, &n1, 4);
    esg_tx_free(t4);
    free_txs(b1, 3);
    free_txs(b2, 2);
    esg_seckey_wipe(&k1.sk);
    ef_node_close(&n1);
    ef_node_close(&n2);
    world_free(&wd);
}
END_TEST

START_TEST(test_apply_rejects) {
    world wd;
    world_init(&wd, 0, 0);
    node n1, n2;
    ef_node_open(&n1, wd.g);
    ef_node_open(&n2, wd.g);
    esg_tx *t1 = tx_transfer(&(txo){.signer = &wd.a, .nonce = 1}, "GB-1", 1);
    esg_tx *t2[2] = {
        tx_transfer(&(txo){.signer = &wd.a, .nonce = 2}, "GB-2", 1),
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 1}, "GB-3", 1),
    };
    ck_assert(produce(&n1, &wd, &t1, 1, NULL).made);
    ck_assert(produce(&n1, &wd, t2, 2, NULL).made);
    replicate(&n1, &n2, 1);
    esg_store_meta m1 = ef_meta_of(&n2);
    esg_hash r1 = ef_state_root_of(&n2);

    uint8_t *good, *gcommit;
    size_t glen, gclen;
    block_copy(&n1, 2, &good, &glen, &gcommit, &gclen);
    const kp *vonly[] = {&wd.val};
    const kp *outsider[] = {&wd.outsider};

    /* A failing transaction for block 2 (A's next nonce is 2). */
    esg_tx *failing = tx_transfer(&(txo){.signer = &wd.a, .nonce = 2}, "GB-F", 0);

    enum { V_PREV, V_HEIGHT, V_TIME_EQ, V_TIME_LT, V_CHAIN, V_APP, V_VALS, V_TXROOT, V_PROPOSER,
           V_NONVALIDATOR_COMMIT, V_STALE_COMMIT, V_FAILING_TX, V_TX_SIG_BYTE, V_TX_BODY_BYTE,
           V_GARBAGE, V_GARBAGE_COMMIT, V_COUNT };
    static const struct {
        int code;
        const char *err_part;
    } want[V_COUNT] = {
        [V_PREV] = {ESG_ERR_BAD_BLOCK, "block 2 does not link to block 1"},
        [V_HEIGHT] = {ESG_ERR_BAD_BLOCK, "block has height 3, expected 2"},
        [V_TIME_EQ] = {ESG_ERR_BAD_BLOCK, "block 2 time does not increase"},
        [V_TIME_LT] = {ESG_ERR_BAD_BLOCK, "block 2 time does not increase"},
        [V_CHAIN] = {ESG_ERR_BAD_BLOCK, "block 2 is for chain 'other-chain'"},
        [V_APP] = {ESG_ERR_APP_HASH, "block 2 app_hash "},
        [V_VALS] = {ESG_ERR_BAD_BLOCK, "validators_hash does not match"},
        [V_TXROOT] = {ESG_ERR_BAD_BLOCK, "block 2 tx_root does not match its transactions"},
        [V_PROPOSER] = {ESG_ERR_BAD_BLOCK, "block 2 proposer is not a validator"},
        [V_NONVALIDATOR_COMMIT] = {ESG_ERR_BAD_COMMIT, "is not a validator at height 2"},
        [V_STALE_COMMIT] = {ESG_ERR_BAD_COMMIT, "commit at height 2 is for another block"},
        [V_FAILING_TX] = {ESG_ERR_BAD_BLOCK, "block 2 tx 0: ERR_UNAUTHORIZED: no transfer of 'GB-F'"},
        [V_TX_SIG_BYTE] = {ESG_ERR_BAD_BLOCK, "block 2 tx 1: ERR_BAD_SIGNATURE: signature of '"},
        [V_TX_BODY_BYTE] = {ESG_ERR_BAD_BLOCK, "block 2 tx_root does not match"},
        [V_GARBAGE] = {ESG_ERR_BAD_BLOCK, "block 2 does not decode canonically"},
        [V_GARBAGE_COMMIT] = {ESG_ERR_BAD_COMMIT, "commit of block 2 does not decode canonically"},
    };
    for (int v = 0; v < V_COUNT; v++) {
        bspec s;
        ef_bspec_from(&s, good, glen);
        const kp *const *signers = vonly;
        bool resign = true;
        bool *verified = NULL;
        bool all_verified[8] = {true, true, true, true, true, true, true, true};
        switch (v) {
        case V_PREV: s.prev.b[0] ^= 1; break;
        case V_HEIGHT: s.height = 3; break;
        case V_TIME_EQ: s.time = m1.time_ms; break;
        case V_TIME_LT: s.time = m1.time_ms - 1; break;
        case V_CHAIN: snprintf(s.chain, sizeof s.chain, "other-chain"); break;
        case V_APP: s.app.b[31] ^= 1; break;
        case V_VALS: s.vals.b[0] ^= 1; break;
        case V_TXROOT: s.tx_root.b[5] ^= 1; break;
        case V_PROPOSER: s.proposer = wd.outsider.pk; break;
        case V_NONVALIDATOR_COMMIT: signers = outsider; break;
        case V_STALE_COMMIT: s.time += 1; resign = false; break;
        case V_FAILING_TX:
            ef_bspec_release(&s);
            s.n_txs = 1;
            s.txs[0] = malloc(failing->raw_len);
            memcpy(s.txs[0], failing->raw, failing->raw_len);
            s.tx_len[0] = failing->raw_len;
            s.tx_root = esg_merkle_root(&failing->id, 1);
            break;
        case V_TX_SIG_BYTE:
            /* The header and its commit are genuine: only the tx is. */
            s.txs[1][s.tx_len[1] - 1] ^= 1;
            break;
        case V_TX_BODY_BYTE: {
            /* Still decodes and applies (signatures trusted as verified),
             * but it is another tx than the header committed to. */
            size_t at = ef_find_bytes(s.txs[0], s.tx_len[0], "GB-2", 4);
            s.txs[0][at + 3] = '9';
            verified = all_verified;
            break;
        }
        default: break;
        }
        uint8_t *blk, *cmt;
        size_t bl, cl;
        esg_hash bh;
        ef_bspec_encode(&s, &blk, &bl, &bh);
        if (resign) {
            ck_assert_int_eq(ef_encode_commit(signers, 1, CHAIN, s.height, 0, &bh, &cmt, &cl), 0);
        } else {
            cmt = malloc(gclen);
            memcpy(cmt, gcommit, gclen);
            cl = gclen;
        }
        if (v == V_GARBAGE) {
            free(blk);
            blk = (uint8_t *)strdup("\x0a\xff\xff garbage");
            bl = strlen((char *)blk);
        }
        if (v == V_GARBAGE_COMMIT) {
            free(cmt);
            cmt = (uint8_t *)strdup("\x08\x02\x08\x02");
            cl = 4;
        }
        char err[256];
        int rc = apply(&n2, blk, bl, cmt, cl, verified, err);
        ck_assert_msg(rc == want[v].code, "variant %d: %s (%s)", v, esg_err_name(rc), err);
        ck_assert_msg(strstr(err, want[v].err_part) != NULL, "variant %d: message '%s'", v, err);
        /* Nothing was written. */
        esg_store_meta m = ef_meta_of(&n2);
        ck_assert_msg(ef_meta_eq(&m, &m1), "variant %d moved meta", v);
        esg_hash r = ef_state_root_of(&n2);
        ck_assert_msg(esg_hash_eq(&r, &r1), "variant %d changed the state", v);
        ck_assert(!ef_block_exists(&n2, 2));
        ck_assert_uint_eq(ef_nonce_of(&n2, &wd.a.pk), 1);
        ck_assert(!ef_has_row(&n2, ESG_T_HOLDINGS, "GB-F", 4));
        free(blk);
        free(cmt);
        ef_bspec_release(&s);
    }
    /* The genuine block still applies afterwards. */
    char err[256];
    ck_assert_int_eq(apply(&n2, good, glen, gcommit, gclen, NULL, err), 0);
    esg_store_meta x = ef_meta_of(&n1), y = ef_meta_of(&n2);
    ck_assert(ef_meta_eq(&x, &y));

    free(good);
    free(gcommit);
    esg_tx_free(failing);
    esg_tx_free(t1);
    free_txs(t2, 2);
    ef_node_close(&n1);
    ef_node_close(&n2);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------------ validator sets */

START_TEST(test_valset_change) {
    world wd;
    world_init(&wd, 0, 0);
    node n1, n2;
    ef_node_open(&n1, wd.g);
    ef_node_open(&n2, wd.g);
    esg_hash old_h = valset_hash_at(&n1, 1);

    /* Block 1 decides: add w (power 10). In force from block 3. */
    esg_tx *t1 = tx_validator(&(txo){.signer = &wd.a, .nonce = 1}, "direct", &wd.w.pk, 10);
    ck_assert(produce(&n1, &wd, &t1, 1, NULL).made);
    esg_pb_validator_set *vs = valset_at(&n1, 2);
    ck_assert_uint_eq(vs->n_validators, 1);
    esg_pb_free(vs);
    vs = valset_at(&n1, 3);
    ck_assert_uint_eq(vs->n_validators, 2);
    /* Stored in pubkey order. */
    ck_assert_int_lt(memcmp(vs->validators[0]->pubkey.data, vs->validators[1]->pubkey.data, 32), 0);
    esg_pb_free(vs);
    esg_hash new_h = valset_hash_at(&n1, 3);
    ck_assert(!esg_hash_eq(&old_h, &new_h));

    /* Block 2 is still committed by the old set. */
    ck_assert(produce_at(&n1, &wd, NULL, 0, 0, true).made);
    esg_pb_block *b = block_decoded(&n1, 2);
    ck_assert_mem_eq(b->header->validators_hash.data, old_h.b, 32);
    esg_pb_free(b);

    /* Block 3 needs both (10 of 20 is not > 2/3). Block 3 also schedules
     * w's removal through end_block: in force from block 5. */
    wd.w_signs[3] = wd.w_signs[4] = true;
    esg_tx *t3 = tx_validator(&(txo){.signer = &wd.a, .nonce = 2}, "pending", &wd.w.pk, 0);
    ck_assert(produce(&n1, &wd, &t3, 1, NULL).made);
    b = block_decoded(&n1, 3);
    ck_assert_mem_eq(b->header->validators_hash.data, new_h.b, 32);
    esg_pb_free(b);
    ck_assert(produce_at(&n1, &wd, NULL, 0, 0, true).made); /* block 4, still both */
    esg_hash h4 = valset_hash_at(&n1, 4), h5 = valset_hash_at(&n1, 5);
    ck_assert(esg_hash_eq(&h4, &new_h));
    ck_assert(esg_hash_eq(&h5, &old_h));
    ck_assert(produce_at(&n1, &wd, NULL, 0, 0, true).made); /* block 5: val alone again */

    /* The block before a change takes effect announces the next set
     * (next_validators_hash): block 2 the set of block 3, block 4 that of
     * block 5; the other headers leave the field out. */
    for (uint64_t h = 1; h <= 5; h++) {
        esg_pb_block *bh_ = block_decoded(&n1, h);
        if (h == 2 || h == 4) {
            ck_assert_uint_eq(bh_->header->next_validators_hash.len, 32);
            ck_assert_mem_eq(bh_->header->next_validators_hash.data, (h == 2 ? new_h : old_h).b,
                             32);
        } else {
            ck_assert_uint_eq(bh_->header->next_validators_hash.len, 0);
        }
        esg_pb_free(bh_);
    }

    /* A replica follows, verifying each commit against the set in force. */
    replicate(&n1, &n2, 1);
    {
        /* Block 2 without its announcement (re-encoded from the spec, which
         * has no such field), committed by val: refused. */
        uint8_t *b2, *c2, *e2, *k2;
        size_t b2l, c2l, e2l, k2l;
        block_copy(&n1, 2, &b2, &b2l, &c2, &c2l);
        bspec s2;
        ef_bspec_from(&s2, b2, b2l);
        esg_hash h2;
        ef_bspec_encode(&s2, &e2, &e2l, &h2);
        ck_assert_int_eq(ef_encode_commit((const kp *[]){&wd.val}, 1, CHAIN, 2, 0, &h2, &k2, &k2l),
                         0);
        char err2[256];
        ck_assert_int_eq(apply(&n2, e2, e2l, k2, k2l, NULL, err2), ESG_ERR_BAD_BLOCK);
        ck_assert_str_eq(err2, "block 2 next_validators_hash does not match the next height's "
                               "validator set");
        ef_bspec_release(&s2);
        free(b2);
        free(c2);
        free(e2);
        free(k2);
    }
    replicate(&n1, &n2, 2);
    /* Block 3 with a commit by val alone: not enough power any more. */
    uint8_t *blk, *cmt;
    size_t bl, cl;
    block_copy(&n1, 3, &blk, &bl, &cmt, &cl);
    bspec s;
    ef_bspec_from(&s, blk, bl);
    esg_hash bh;
    uint8_t *enc, *weak;
    size_t el, wl;
    ef_bspec_encode(&s, &enc, &el, &bh);
    ck_assert_int_eq(ef_encode_commit((const kp *[]){&wd.val}, 1, CHAIN, 3, 0, &bh, &weak, &wl), 0);
    char err[256];
    ck_assert_int_eq(apply(&n2, blk, bl, weak, wl, NULL, err), ESG_ERR_BAD_COMMIT);
    ck_assert_str_eq(err, "commit holds 10 of 20 voting power, not more than 2/3");
    free(enc);
    free(weak);
    ef_bspec_release(&s);
    free(blk);
    free(cmt);
    for (uint64_t h = 3; h <= 5; h++)
        replicate(&n1, &n2, h);
    esg_pb_validator_set *a = valset_at(&n2, 4);
    ck_assert_uint_eq(a->n_validators, 2);
    esg_pb_free(a);
    a = valset_at(&n2, 5);
    ck_assert_uint_eq(a->n_validators, 1);
    esg_pb_free(a);

    esg_tx_free(t1);
    esg_tx_free(t3);
    ef_node_close(&n1);
    ef_node_close(&n2);
    world_free(&wd);
}
END_TEST

START_TEST(test_valset_flag_of_dropped_tx) {
    /* A contract sets valset_changed and succeeds, but the executor then
     * rejects the tx (an unclaimed signature): the rejected tx must change
     * nothing, the validator-set bookkeeping included. */
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    ck_assert_uint_eq(valset_entries(&n), 1);
    esg_tx *txs[2] = {
        tx_validator(&(txo){.signer = &wd.a, .nonce = 1, .sigs = {&wd.a, &wd.b}, .n_sigs = 2},
                     "direct", &wd.w.pk, 10),
        tx_transfer(&(txo){.signer = &wd.b, .nonce = 1}, "GB-1", 1),
    };
    int res[2];
    ck_assert(produce(&n, &wd, txs, 2, res).made);
    ck_assert_int_eq(res[0], ESG_ERR_UNEXPECTED_SIGNATURE);
    ck_assert_int_eq(res[1], 0);
    ck_assert(!ef_has_row(&n, ESG_T_VALIDATORS, wd.w.pk.b, 32));
    ck_assert_uint_eq(valset_entries(&n), 1);
    esg_pb_validator_set *vs = valset_at(&n, 3);
    ck_assert_uint_eq(vs->n_validators, 1);
    esg_pb_free(vs);

    /* A replica (which never saw the dropped tx) agrees on everything. */
    node n2;
    ef_node_open(&n2, wd.g);
    replicate(&n, &n2, 1);
    ck_assert_uint_eq(valset_entries(&n2), 1);
    ef_node_close(&n2);
    free_txs(txs, 2);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

static int counter(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                   void *arg) {
    (void)key; (void)val;
    ck_assert_uint_eq(klen, 7 + 32);
    ck_assert_uint_eq(vlen, 0);
    (*(size_t *)arg)++;
    return 0;
}

START_TEST(test_member_account_link) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    kp k = ef_key_new();
    esg_tx *t = tx_add_account(&(txo){.signer = &wd.a, .nonce = 1}, &k.pk);
    ck_assert(produce(&n, &wd, &t, 1, NULL).made);
    /* city-a now lists three accounts under its prefix "city-a\0". */
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(n.store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, n.store, txn, false), 0);
    size_t count = 0;
    ck_assert_int_eq(esg_state_iter(st, ESG_T_MEMBER_ACCOUNTS, "city-a", 7, counter, &count), 0);
    ck_assert_uint_eq(count, 3);
    esg_state_free(st);
    esg_store_read_end(txn);
    esg_tx_free(t);
    esg_seckey_wipe(&k.sk);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------------------ txbuild */

START_TEST(test_txbuild) {
    world wd;
    world_init(&wd, 0, 0);
    node n;
    ef_node_open(&n, wd.g);
    /* A co-signed tx built in two steps, as two wallets would. */
    esg_pb_revoke_account r = ESG_PB_REVOKE_ACCOUNT_INIT;
    r.pubkey = esg_pb_bin(wd.b.pk.b, 32);
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_REVOKE_ACCOUNT;
    body.revoke_account = &r;
    size_t l1, l2, l3;
    uint8_t *one = finish_raw(&(txo){.signer = &wd.a, .nonce = 1}, &body, &l1);
    uint8_t *two, *three;
    esg_hash id;
    ck_assert_int_eq(esg_txb_add_sig(&two, &l2, one, l1, &wd.b.sk, &id), 0);
    ck_assert_int_eq(esg_txb_add_sig(&three, &l3, two, l2, &wd.b.sk, NULL),
                     ESG_ERR_DUPLICATE_SIGNATURE);
    ck_assert_int_eq(esg_txb_add_sig(&three, &l3, two, l2, &wd.a.sk, NULL),
                     ESG_ERR_DUPLICATE_SIGNATURE);
    ck_assert_int_eq(esg_txb_add_sig(&three, &l3, (const uint8_t *)"\xff", 1, &wd.a.sk, NULL),
                     ESG_ERR_DECODE);
    esg_tx *t1, *t2;
    ck_assert_int_eq(esg_tx_decode(&t1, one, l1), 0);
    ck_assert_int_eq(esg_tx_decode(&t2, two, l2), 0);
    /* The id is that of the body, which the second signature left alone. */
    ck_assert(esg_hash_eq(&id, &t1->id));
    ck_assert(esg_hash_eq(&id, &t2->id));
    ck_assert_uint_eq(esg_tx_n_sigs(t2), 2);
    ck_assert_int_eq(esg_tx_verify_sigs(t2, NULL, 0), 0);
    char msg[ESG_ERRMSG_MAX];
    ck_assert_int_eq(check(&n, t1, 0, false, msg), ESG_ERR_MISSING_SIGNATURE);
    ck_assert_int_eq(check(&n, t2, 0, false, msg), 0);
    /* The id is H("esg/tx", body bytes). */
    esg_hash want = esg_hash_tagged(ESG_TAG_TX, t2->env->body.data, t2->env->body.len);
    ck_assert(esg_hash_eq(&want, &t2->id));
    esg_tx_free(t1);
    esg_tx_free(t2);
    free(one);
    free(two);

    /* ESG_TX_MAX_SIGS signatures at most. */
    esg_seckey *sks = calloc(ESG_TX_MAX_SIGS, sizeof *sks);
    ck_assert_ptr_nonnull(sks);
    esg_pubkey pk;
    for (size_t i = 0; i < ESG_TX_MAX_SIGS; i++)
        ck_assert_int_eq(esg_key_generate(&sks[i], &pk), 0);
    body.chain_id = CHAIN;
    uint8_t *full;
    size_t lf;
    ck_assert_int_eq(esg_txb_sign_body(&full, &lf, &body, sks, ESG_TX_MAX_SIGS), 0);
    ck_assert_int_eq(esg_txb_add_sig(&three, &l3, full, lf, &wd.c.sk, NULL), ESG_ERR_TOO_LARGE);
    for (size_t i = 0; i < ESG_TX_MAX_SIGS; i++)
        esg_seckey_wipe(&sks[i]);
    free(sks);
    free(full);
    ef_node_close(&n);
    world_free(&wd);
}
END_TEST

Suite *suite_executor(void) {
    Suite *s = suite_create("executor");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_genesis);
    tcase_add_test(tc, test_genesis_over_corrupt_meta);
    tcase_add_test(tc, test_not_initialized);
    tcase_add_test(tc, test_produce_nothing);
    tcase_add_test(tc, test_produce_block);
    tcase_add_test(tc, test_produce_drops_failing);
    tcase_add_test(tc, test_common_checks);
    tcase_add_test(tc, test_max_block_txs);
    tcase_add_test(tc, test_max_block_bytes);
    tcase_add_test(tc, test_time_clamp);
    tcase_add_test(tc, test_check_tx);
    tcase_add_test(tc, test_apply_replicates);
    tcase_add_test(tc, test_apply_rejects);
    tcase_add_test(tc, test_valset_change);
    tcase_add_test(tc, test_valset_flag_of_dropped_tx);
    tcase_add_test(tc, test_member_account_link);
    tcase_add_test(tc, test_txbuild);
    suite_add_tcase(s, tc);
    return s;
}
