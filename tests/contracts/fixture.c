#include "fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/contracts.h"
#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/replay.h"
#include "ledger/txbuild.h"
#include "testutil.h"

fx_key fx_key_new(void) {
    fx_key k;
    ck_assert_int_eq(esg_key_generate(&k.sk, &k.pk), 0);
    return k;
}

fx *fx_new(void) {
    fx *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    tu_tmpdir(f->dir, sizeof f->dir);
    f->g = esg_genesis_new(FX_CHAIN_ID, FX_GENESIS_TIME_MS);
    ck_assert_ptr_nonnull(f->g);
    ck_assert_int_eq(esg_genesis_add_default_kpis(f->g), 0);
    f->validator = fx_key_new();
    f->ct = esg_contracts();
    f->time_ms = FX_GENESIS_TIME_MS;
    return f;
}

const fx_key *fx_add_member(fx *f, const char *id, int kind, const char *name) {
    ck_assert_ptr_null(f->store);
    ck_assert_uint_lt(f->n_members, FX_MAX_MEMBERS);
    ck_assert_uint_lt(strlen(id), sizeof f->members[0].id);
    size_t i = f->n_members++;
    snprintf(f->members[i].id, sizeof f->members[i].id, "%s", id);
    f->members[i].admin = fx_key_new();
    ck_assert_int_eq(esg_genesis_add_member(f->g, id, kind, name, NULL,
                                            &f->members[i].admin.pk), 0);
    return &f->members[i].admin;
}

const fx_key *fx_admin(fx *f, const char *id) {
    for (size_t i = 0; i < f->n_members; i++)
        if (strcmp(f->members[i].id, id) == 0)
            return &f->members[i].admin;
    ck_abort_msg("no fixture member '%s'", id);
    return NULL;
}

void fx_start(fx *f) {
    ck_assert_ptr_null(f->store);
    ck_assert_uint_gt(f->n_members, 0);
    if (f->g->n_validators == 0)
        ck_assert_int_eq(esg_genesis_add_validator(f->g, &f->validator.pk, 10,
                                                   f->members[0].id), 0);
    char err[256] = "";
    int rc = esg_genesis_validate(f->g, err, sizeof err);
    ck_assert_msg(rc == 0, "fixture genesis: %s", err);
    ck_assert_int_eq(esg_store_open(&f->store, f->dir, true), 0);
    ck_assert_int_eq(esg_exec_genesis(f->store, f->g), 0);
}

void fx_free(fx *f) {
    if (!f)
        return;
    if (f->store)
        esg_store_close(f->store);
    tu_rmtree(f->dir);
    esg_genesis_free(f->g);
    esg_seckey_wipe(&f->validator.sk);
    for (size_t i = 0; i < f->n_members; i++)
        esg_seckey_wipe(&f->members[i].admin.sk);
    free(f);
}

/* ------------------------------------------------------------- blocks */

/* The single validator's commit of each block produced. */
static int fx_commit(void *arg, const char *chain_id, uint64_t height,
                     const esg_hash *block_hash, uint8_t **commit, size_t *len) {
    fx *f = arg;
    esg_commit_storage cs;
    int rc = esg_commit_sign_single(&cs, &f->validator.sk, chain_id, height, 0, block_hash);
    if (rc)
        return rc;
    return esg_pb_encode(&cs.commit.base, commit, len);
}

esg_tx *fx_sign(fx *f, esg_pb_tx_body *body, uint64_t nonce,
                const fx_key *const *keys, size_t n) {
    ck_assert_uint_gt(n, 0);
    body->chain_id = FX_CHAIN_ID;
    body->signer = esg_pb_bin(keys[0]->pk.b, 32);
    body->nonce = nonce ? nonce : fx_nonce(f, &keys[0]->pk) + 1;
    esg_seckey *sks = calloc(n, sizeof *sks);
    ck_assert_ptr_nonnull(sks);
    for (size_t i = 0; i < n; i++)
        sks[i] = keys[i]->sk;
    uint8_t *raw;
    size_t len;
    int rc = esg_txb_sign_body(&raw, &len, body, sks, n);
    for (size_t i = 0; i < n; i++)
        esg_seckey_wipe(&sks[i]);
    free(sks);
    ck_assert_int_eq(rc, 0);
    esg_tx *tx;
    rc = esg_tx_decode(&tx, raw, len);
    free(raw);
    ck_assert_msg(rc == 0, "fixture tx does not decode: %s", esg_err_name(rc));
    return tx;
}

size_t fx_produce(fx *f, esg_tx *const *txs, size_t n, int *results) {
    esg_exec_item *items = calloc(n ? n : 1, sizeof *items);
    ck_assert_ptr_nonnull(items);
    for (size_t i = 0; i < n; i++)
        items[i].tx = txs[i];
    esg_produced out;
    f->time_ms += 1000;
    int rc = esg_exec_produce(f->store, f->ct, items, n, f->time_ms, &f->validator.pk,
                              n == 0, fx_commit, f, &out);
    ck_assert_msg(rc == 0, "produce: %s", esg_err_name(rc));
    f->msg[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (results)
            results[i] = items[i].result;
        if (n == 1)
            snprintf(f->msg, sizeof f->msg, "%s", items[i].msg);
    }
    free(items);
    return out.n_included;
}

int fx_submit_keys(fx *f, esg_pb_tx_body *body, uint64_t nonce,
                   const fx_key *const *keys, size_t n) {
    esg_tx *tx = fx_sign(f, body, nonce, keys, n);
    f->last_id = tx->id;
    int result;
    fx_produce(f, &tx, 1, &result);
    esg_tx_free(tx);
    return result;
}

void fx_empty_block(fx *f) {
    uint64_t h = fx_height(f);
    fx_produce(f, NULL, 0, NULL);
    ck_assert_uint_eq(fx_height(f), h + 1);
}

/* esg_block_source over the fixture's own store. */
static int fx_block_source(void *arg, uint64_t height, uint8_t **block, size_t *block_len,
                           uint8_t **commit, size_t *commit_len) {
    fx *f = arg;
    MDB_txn *txn;
    int rc = esg_store_read_begin(f->store, &txn);
    if (rc)
        return rc;
    MDB_val b, c;
    rc = esg_store_block_get(txn, f->store, height, &b, &c);
    if (rc == 0) {
        *block = malloc(b.mv_size ? b.mv_size : 1);
        *commit = malloc(c.mv_size ? c.mv_size : 1);
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

void fx_replay_check(fx *f) {
    char work[256], err[256] = "";
    tu_tmpdir(work, sizeof work);
    esg_replay_result res;
    int rc = esg_replay(f->g, f->ct, work, fx_block_source, f, 0, 1, &res, NULL, err,
                        sizeof err);
    tu_rmtree(work);
    ck_assert_msg(rc == 0, "replay: %s at height %llu: %s", esg_err_name(rc),
                  (unsigned long long)res.bad_height, err);
    ck_assert_uint_eq(res.height, fx_height(f));
    esg_hash app = fx_app_hash(f);
    ck_assert(esg_hash_eq(&res.app_hash, &app));
}

/* ------------------------------------------------------------- readers */

static esg_store_meta fx_meta(fx *f) {
    MDB_txn *txn;
    esg_store_meta m;
    ck_assert_int_eq(esg_store_read_begin(f->store, &txn), 0);
    ck_assert_int_eq(esg_store_meta_get(txn, f->store, &m), 0);
    esg_store_read_end(txn);
    return m;
}

uint64_t fx_height(fx *f) {
    return fx_meta(f).height;
}

esg_hash fx_app_hash(fx *f) {
    return fx_meta(f).app_hash;
}

void *fx_get(fx *f, esg_table t, const void *key, size_t klen,
             const ProtobufCMessageDescriptor *desc) {
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(f->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, f->store, txn, false), 0);
    ProtobufCMessage *m = NULL;
    int rc = esg_state_get_msg(st, t, key, klen, desc, &m);
    esg_state_free(st);
    esg_store_read_end(txn);
    ck_assert_msg(rc == 0 || rc == ESG_ERR_NOT_FOUND, "read: %s", esg_err_name(rc));
    return m;
}

bool fx_has(fx *f, esg_table t, const void *key, size_t klen) {
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(f->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, f->store, txn, false), 0);
    MDB_val v;
    int rc = esg_state_get(st, t, key, klen, &v);
    esg_state_free(st);
    esg_store_read_end(txn);
    ck_assert_msg(rc == 0 || rc == ESG_ERR_NOT_FOUND, "read: %s", esg_err_name(rc));
    return rc == 0;
}

esg_pb_member *fx_member(fx *f, const char *id) {
    return fx_get(f, ESG_T_MEMBERS, id, strlen(id), ESG_PB_MEMBER_DESC);
}

esg_pb_account *fx_account(fx *f, const esg_pubkey *pk) {
    return fx_get(f, ESG_T_ACCOUNTS, pk->b, 32, ESG_PB_ACCOUNT_DESC);
}

esg_pb_proposal_record *fx_proposal(fx *f, const esg_hash *id) {
    return fx_get(f, ESG_T_PROPOSALS, id->b, 32, ESG_PB_PROPOSAL_RECORD_DESC);
}

esg_pb_params *fx_params(fx *f) {
    esg_pb_params *p = fx_get(f, ESG_T_PARAMS, NULL, 0, ESG_PB_PARAMS_DESC);
    ck_assert_ptr_nonnull(p);
    return p;
}

uint64_t fx_nonce(fx *f, const esg_pubkey *pk) {
    esg_pb_account *a = fx_account(f, pk);
    uint64_t n = a ? a->nonce : 0;
    esg_pb_free(a);
    return n;
}

esg_pb_validator_set *fx_valset_at(fx *f, uint64_t height) {
    MDB_txn *txn;
    esg_pb_validator_set *vs;
    ck_assert_int_eq(esg_store_read_begin(f->store, &txn), 0);
    int rc = esg_exec_valset_at(txn, f->store, height, &vs);
    esg_store_read_end(txn);
    ck_assert_msg(rc == 0, "valset_at: %s", esg_err_name(rc));
    return vs;
}
