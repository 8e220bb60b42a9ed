/* Shared node helpers: see exec_fixture.h. */
#include "exec_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/state.h"
#include "ledger/txbuild.h"
#include "testutil.h"

kp ef_key_new(void) {
    kp k;
    ck_assert_int_eq(esg_key_generate(&k.sk, &k.pk), 0);
    return k;
}

void ef_genesis_reload(esg_genesis *g, esg_genesis **out) {
    char err[256] = "";
    ck_assert_msg(esg_genesis_validate(g, err, sizeof err) == 0, "genesis: %s", err);
    char *json;
    size_t len;
    ck_assert_int_eq(esg_genesis_to_json(g, &json, &len), 0);
    esg_genesis_free(g);
    ck_assert_int_eq(esg_genesis_parse(out, (const uint8_t *)json, len, err, sizeof err), 0);
    free(json);
}

int ef_encode_commit(const kp *const *keys, size_t n, const char *chain, uint64_t height,
                     uint32_t round, const esg_hash *bh, uint8_t **out, size_t *len) {
    esg_pb_commit c = ESG_PB_COMMIT_INIT;
    esg_pb_commit_sig sigs[4];
    esg_pb_commit_sig *ptrs[4];
    esg_sig raw[4];
    ck_assert_uint_le(n, 4);
    esg_hash vh = esg_vote_hash(chain, ESG_VOTE_TYPE_PRECOMMIT, height, round, bh);
    for (size_t i = 0; i < n; i++) {
        esg_pb_commit_sig cs = ESG_PB_COMMIT_SIG_INIT;
        sigs[i] = cs;
        int rc = esg_sign(&raw[i], &keys[i]->sk, &vh);
        if (rc)
            return rc;
        sigs[i].validator = esg_pb_bin(keys[i]->pk.b, 32);
        sigs[i].sig = esg_pb_bin(raw[i].b, 64);
        ptrs[i] = &sigs[i];
    }
    c.height = height;
    c.round = round;
    c.block_hash = esg_pb_bin(bh->b, 32);
    c.n_sigs = n;
    c.sigs = ptrs;
    return esg_pb_encode(&c.base, out, len);
}

/* ------------------------------------------------------------- nodes */

void ef_node_open(node *n, const esg_genesis *g) {
    tu_tmpdir(n->dir, sizeof n->dir);
    ck_assert_int_eq(esg_store_open(&n->store, n->dir, true), 0);
    ck_assert_int_eq(esg_exec_genesis(n->store, g), 0);
}

void ef_node_close(node *n) {
    esg_store_close(n->store);
    tu_rmtree(n->dir);
}

esg_store_meta ef_meta_of(node *n) {
    MDB_txn *txn;
    esg_store_meta m;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_store_meta_get(txn, n->store, &m), 0);
    esg_store_read_end(txn);
    return m;
}

bool ef_meta_eq(const esg_store_meta *x, const esg_store_meta *y) {
    return x->height == y->height && esg_hash_eq(&x->block_hash, &y->block_hash) &&
           esg_hash_eq(&x->app_hash, &y->app_hash) &&
           esg_hash_eq(&x->genesis_hash, &y->genesis_hash) && x->time_ms == y->time_ms &&
           strcmp(x->chain_id, y->chain_id) == 0;
}

esg_hash ef_state_root_of(node *n) {
    MDB_txn *txn;
    esg_state *st;
    esg_hash h;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, n->store, txn, false), 0);
    ck_assert_int_eq(esg_state_root(st, &h), 0);
    esg_state_free(st);
    esg_store_read_end(txn);
    return h;
}

uint64_t ef_nonce_of(node *n, const esg_pubkey *pk) {
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, n->store, txn, false), 0);
    esg_pb_account *a = NULL;
    uint64_t nonce = UINT64_MAX;
    if (esg_exec_account_get(st, pk, &a) == 0) {
        nonce = a->nonce;
        esg_pb_free(a);
    }
    esg_state_free(st);
    esg_store_read_end(txn);
    return nonce;
}

bool ef_has_row(node *n, esg_table t, const void *k, size_t klen) {
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, n->store, txn, false), 0);
    MDB_val v;
    int rc = esg_state_get(st, t, k, klen, &v);
    ck_assert(rc == 0 || rc == ESG_ERR_NOT_FOUND);
    esg_state_free(st);
    esg_store_read_end(txn);
    return rc == 0;
}

bool ef_block_exists(node *n, uint64_t h) {
    MDB_txn *txn;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    int rc = esg_store_block_get(txn, n->store, h, NULL, NULL);
    esg_store_read_end(txn);
    ck_assert(rc == 0 || rc == ESG_ERR_NOT_FOUND);
    return rc == 0;
}

/* ------------------------------------------------------- transactions */

void ef_transfer_body(esg_pb_transfer *t, esg_pb_tx_body *b, const char *instr,
                      uint64_t units) {
    esg_pb_transfer ti = ESG_PB_TRANSFER_INIT;
    *t = ti;
    t->instrument = (char *)instr;
    t->to_member = "inv-b";
    t->units = units;
    esg_pb_tx_body bi = ESG_PB_TX_BODY_INIT;
    *b = bi;
    b->action_case = ESG_ACTION_TRANSFER;
    b->transfer = t;
}

uint8_t *ef_sign_raw(esg_pb_tx_body *b, const char *chain, const kp *signer, uint64_t nonce,
                     const kp *const *sigs, size_t n_sigs, size_t *len) {
    b->chain_id = (char *)chain;
    b->signer = esg_pb_bin(signer->pk.b, 32);
    b->nonce = nonce;
    esg_seckey sks[4];
    size_t n = n_sigs ? n_sigs : 1;
    ck_assert_uint_le(n, 4);
    for (size_t i = 0; i < n; i++)
        sks[i] = n_sigs ? sigs[i]->sk : signer->sk;
    uint8_t *raw;
    ck_assert_int_eq(esg_txb_sign_body(&raw, len, b, sks, n), 0);
    for (size_t i = 0; i < n; i++)
        esg_seckey_wipe(&sks[i]);
    return raw;
}

esg_tx *ef_decode_raw(uint8_t *raw, size_t len) {
    esg_tx *tx;
    int rc = esg_tx_decode(&tx, raw, len);
    ck_assert_msg(rc == 0, "tx decode: %s", esg_err_name(rc));
    free(raw);
    return tx;
}

void ef_items_of(esg_exec_item *items, esg_tx *const *txs, size_t n) {
    memset(items, 0, n * sizeof *items);
    for (size_t i = 0; i < n; i++) {
        items[i].tx = txs[i];
        items[i].result = 12345; /* must be overwritten */
    }
}

/* ------------------------------------------------------ block variants */

void ef_bspec_from(bspec *s, const uint8_t *raw, size_t len) {
    esg_pb_block *b;
    ck_assert_int_eq(esg_pb_block_decode(&b, raw, len, SIZE_MAX), 0);
    memset(s, 0, sizeof *s);
    snprintf(s->chain, sizeof s->chain, "%s", b->header->chain_id);
    s->height = b->header->height;
    s->time = b->header->time_ms;
    memcpy(s->prev.b, b->header->prev_hash.data, 32);
    memcpy(s->tx_root.b, b->header->tx_root.data, 32);
    memcpy(s->app.b, b->header->app_hash.data, 32);
    memcpy(s->vals.b, b->header->validators_hash.data, 32);
    memcpy(s->proposer.b, b->header->proposer.data, 32);
    ck_assert_uint_le(b->n_txs, EF_BSPEC_MAX_TXS);
    s->n_txs = b->n_txs;
    for (size_t i = 0; i < b->n_txs; i++) {
        s->txs[i] = malloc(b->txs[i].len);
        ck_assert_ptr_nonnull(s->txs[i]);
        memcpy(s->txs[i], b->txs[i].data, b->txs[i].len);
        s->tx_len[i] = b->txs[i].len;
    }
    esg_pb_free(b);
}

void ef_bspec_release(bspec *s) {
    for (size_t i = 0; i < s->n_txs; i++)
        free(s->txs[i]);
    s->n_txs = 0;
}

void ef_bspec_encode(const bspec *s, uint8_t **out, size_t *len, esg_hash *bh) {
    esg_pb_block_header h = ESG_PB_BLOCK_HEADER_INIT;
    h.chain_id = (char *)s->chain;
    h.height = s->height;
    h.time_ms = s->time;
    h.prev_hash = esg_pb_bin(s->prev.b, 32);
    h.tx_root = esg_pb_bin(s->tx_root.b, 32);
    h.app_hash = esg_pb_bin(s->app.b, 32);
    h.validators_hash = esg_pb_bin(s->vals.b, 32);
    h.proposer = esg_pb_bin(s->proposer.b, 32);
    esg_pb_bytes txs[EF_BSPEC_MAX_TXS];
    for (size_t i = 0; i < s->n_txs; i++)
        txs[i] = esg_pb_bin(s->txs[i], s->tx_len[i]);
    esg_pb_block b = ESG_PB_BLOCK_INIT;
    b.header = &h;
    b.n_txs = s->n_txs;
    b.txs = txs;
    if (bh)
        ck_assert_int_eq(esg_block_header_hash(&h, bh), 0);
    ck_assert_int_eq(esg_pb_encode(&b.base, out, len), 0);
}

size_t ef_find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m) {
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return i;
    ck_abort_msg("needle not found");
    return 0;
}
