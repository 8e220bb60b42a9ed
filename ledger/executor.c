/* Block execution. Every path that changes state runs inside one
 * esg_store_write() callback, which may run more than once (the store grows
 * its map and retries on MDB_MAP_FULL): callbacks below keep all their
 * effects inside the transaction and reset their outputs at the start. */
#include "ledger/executor.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/evidence.h"
#include "ledger/failpoint.h"
#include "ledger/error.h"
#include "ledger/keys.h"
#include "ledger/merkle.h"

/* esg_store_write() callbacks return this to abort without an error: a
 * produce with nothing to include, a block built for a proposal, a block
 * that passed esg_exec_check_block. */
#define ABORT_OK 1

/* ---------------------------------------------------------------- helpers */

int esg_tx_fail(esg_tx_ctx *ctx, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->msg, sizeof ctx->msg, fmt, ap);
    va_end(ap);
    return err;
}

bool esg_tx_ctx_claim_sig(esg_tx_ctx *ctx, const esg_pubkey *pk) {
    size_t n = esg_tx_n_sigs(ctx->tx);
    for (size_t i = 0; i < n; i++) {
        esg_pubkey spk;
        esg_sig sig;
        esg_tx_sig_at(ctx->tx, i, &spk, &sig);
        if (memcmp(spk.b, pk->b, 32) == 0) {
            ctx->sig_claimed[i] = true;
            return true;
        }
    }
    return false;
}

int esg_tx_verify_sigs(const esg_tx *tx, char *msg, size_t msglen) {
    size_t n = esg_tx_n_sigs(tx);
    for (size_t i = 0; i < n; i++) {
        esg_pubkey pk;
        esg_sig sig;
        esg_tx_sig_at(tx, i, &pk, &sig);
        if (!esg_verify(&sig, &tx->id, &pk)) {
            if (msg)
                snprintf(msg, msglen, "signature of '%s' does not verify",
                         esg_pubkey_hex(&pk).s);
            return ESG_ERR_BAD_SIGNATURE;
        }
    }
    return ESG_OK;
}

int esg_exec_account_get(esg_state *st, const esg_pubkey *pk, esg_pb_account **out) {
    return esg_state_get_msg(st, ESG_T_ACCOUNTS, pk->b, 32,
                             ESG_PB_ACCOUNT_DESC,
                             (ProtobufCMessage **)out);
}

static int params_get(esg_state *st, esg_pb_params **out) {
    return esg_state_get_msg(st, ESG_T_PARAMS, NULL, 0, ESG_PB_PARAMS_DESC,
                             (ProtobufCMessage **)out);
}

static uint8_t *be64(uint8_t out[8], uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
    return out;
}

int esg_exec_valset_at(MDB_txn *txn, esg_store *store, uint64_t height,
                       esg_pb_validator_set **out) {
    *out = NULL;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, esg_store_dbi(store, ESG_DB_VALSETS), &cur))
        return ESG_ERR_STORE;
    uint8_t key[8];
    MDB_val k = {8, be64(key, height)}, v;
    /* The newest entry at or below `height`: seek to the first key >= height
     * and step back unless it is an exact match. */
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && memcmp(k.mv_data, key, 8) != 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    int err = ESG_OK;
    if (rc == MDB_NOTFOUND)
        err = ESG_ERR_NOT_FOUND;
    else if (rc)
        err = ESG_ERR_STORE;
    else if (esg_pb_decode(ESG_PB_VALIDATOR_SET_DESC, v.mv_data, v.mv_size,
                           SIZE_MAX, (ProtobufCMessage **)out))
        err = ESG_ERR_STORE_CORRUPT;
    mdb_cursor_close(cur);
    return err;
}

/* Collects the decided validator set (ESG_T_VALIDATORS, in pubkey order). */
typedef struct valset_acc {
    esg_pb_validator_set set;
    size_t cap;
    int err;
} valset_acc;

static int valset_collect(const uint8_t *key, size_t klen, const uint8_t *val,
                          size_t vlen, void *arg) {
    (void)key; (void)klen;
    valset_acc *acc = arg;
    if (acc->set.n_validators == acc->cap) {
        size_t cap = acc->cap ? 2 * acc->cap : 8;
        void *p = realloc(acc->set.validators, cap * sizeof *acc->set.validators);
        if (!p)
            return acc->err = ESG_ERR_NOMEM;
        acc->set.validators = p;
        acc->cap = cap;
    }
    esg_pb_validator *v;
    if (esg_pb_decode(ESG_PB_VALIDATOR_DESC, val, vlen, SIZE_MAX,
                      (ProtobufCMessage **)&v))
        return acc->err = ESG_ERR_STORE_CORRUPT;
    acc->set.validators[acc->set.n_validators++] = v;
    return 0;
}

static void valset_acc_release(valset_acc *acc) {
    for (size_t i = 0; i < acc->set.n_validators; i++)
        esg_pb_free(&acc->set.validators[i]->base);
    free(acc->set.validators);
}

/* Records the decided validator set as the one in force from `height`. */
static int valset_record(esg_state *st, esg_store *store, uint64_t height) {
    valset_acc acc = {.set = ESG_PB_VALIDATOR_SET_INIT};
    int rc = esg_state_iter(st, ESG_T_VALIDATORS, NULL, 0, valset_collect, &acc);
    if (rc == 0)
        rc = acc.err;
    uint8_t *buf = NULL;
    size_t len;
    if (rc == 0)
        rc = esg_pb_encode(&acc.set.base, &buf, &len);
    if (rc == 0) {
        uint8_t key[8];
        rc = esg_store_put(esg_state_txn(st), esg_store_dbi(store, ESG_DB_VALSETS),
                           be64(key, height), 8, buf, len);
    }
    free(buf);
    valset_acc_release(&acc);
    return rc;
}

/* --------------------------------------------------------------- genesis */

typedef struct genesis_job {
    esg_store *store;
    const esg_genesis *g;
} genesis_job;

static int genesis_txn(MDB_txn *txn, void *arg) {
    genesis_job *job = arg;
    const esg_genesis *g = job->g;
    esg_store_meta meta;
    int mrc = esg_store_meta_get(txn, job->store, &meta);
    if (mrc == 0)
        return ESG_ERR_ALREADY_INITIALIZED;
    /* A head that cannot be read is not "no head": never write a genesis
     * over a store that may hold a chain. */
    if (mrc != ESG_ERR_NOT_INITIALIZED)
        return mrc;

    esg_state *st;
    int rc = esg_state_open(&st, job->store, txn, true);
    if (rc)
        return rc;

    esg_pb_params params = ESG_PB_PARAMS_INIT;
    params.governance_threshold_bps = g->params.governance_threshold_bps;
    params.proposal_ttl_blocks = g->params.proposal_ttl_blocks;
    params.max_block_txs = g->params.max_block_txs;
    params.max_block_bytes = g->params.max_block_bytes;
    rc = esg_state_put_msg(st, ESG_T_PARAMS, NULL, 0, &params.base);

    for (size_t i = 0; rc == 0 && i < g->n_members; i++) {
        const esg_genesis_member *m = &g->members[i];
        esg_pb_member rec = ESG_PB_MEMBER_INIT;
        rec.id = m->id;
        rec.kind = m->kind;
        rec.name = m->name;
        rec.country = m->country;
        rec.lei = m->lei;
        rec.population = m->population;
        /* Accreditations are part of the member record, sorted. */
        char *cats[16];
        size_t n_cats = 0;
        for (size_t a = 0; a < g->n_accreditations; a++) {
            const esg_genesis_accreditation *acc = &g->accreditations[a];
            if (strcmp(acc->member, m->id) != 0)
                continue;
            for (size_t c = 0; c < acc->n_categories && n_cats < 16; c++) {
                size_t pos = 0;
                while (pos < n_cats && strcmp(cats[pos], acc->categories[c]) < 0)
                    pos++;
                if (pos < n_cats && strcmp(cats[pos], acc->categories[c]) == 0)
                    continue;
                memmove(&cats[pos + 1], &cats[pos], (n_cats - pos) * sizeof cats[0]);
                cats[pos] = acc->categories[c];
                n_cats++;
            }
        }
        rec.accredited_categories = cats;
        rec.n_accredited_categories = n_cats;
        rc = esg_state_put_msg(st, ESG_T_MEMBERS, m->id, strlen(m->id), &rec.base);
        for (size_t a = 0; rc == 0 && a < m->n_accounts; a++) {
            const esg_genesis_account *ga = &m->accounts[a];
            esg_pb_account acct = ESG_PB_ACCOUNT_INIT;
            int roles[2];
            size_t n_roles = 0;
            if (ga->roles & ESG_ROLE_BIT_ADMIN)
                roles[n_roles++] = ESG_ROLE_ADMIN;
            if (ga->roles & ESG_ROLE_BIT_OFFICER)
                roles[n_roles++] = ESG_ROLE_OFFICER;
            acct.pubkey.data = (uint8_t *)ga->pubkey.b;
            acct.pubkey.len = 32;
            acct.member = m->id;
            acct.roles = (void *)roles;
            acct.n_roles = n_roles;
            rc = esg_state_put_msg(st, ESG_T_ACCOUNTS, ga->pubkey.b, 32, &acct.base);
            if (rc == 0)
                rc = esg_exec_member_account_link(st, m->id, &ga->pubkey, true);
        }
    }
    for (size_t i = 0; rc == 0 && i < g->n_validators; i++) {
        const esg_genesis_validator *gv = &g->validators[i];
        esg_pb_validator v = ESG_PB_VALIDATOR_INIT;
        v.pubkey.data = (uint8_t *)gv->pubkey.b;
        v.pubkey.len = 32;
        v.power = gv->power;
        v.operator_ = gv->operator_id;
        rc = esg_state_put_msg(st, ESG_T_VALIDATORS, gv->pubkey.b, 32, &v.base);
    }
    for (size_t i = 0; rc == 0 && i < g->n_kpis; i++) {
        const esg_genesis_kpi *gk = &g->kpis[i];
        esg_pb_kpi k = ESG_PB_KPI_INIT;
        k.id = gk->id;
        k.name = gk->name;
        k.unit = gk->unit;
        k.category = gk->category;
        k.direction = gk->direction;
        rc = esg_state_put_msg(st, ESG_T_KPIS, gk->id, strlen(gk->id), &k.base);
    }
    if (rc == 0)
        rc = valset_record(st, job->store, 1);
    esg_hash root;
    if (rc == 0)
        rc = esg_state_root(st, &root);
    esg_state_free(st);
    if (rc)
        return rc;

    memset(&meta, 0, sizeof meta);
    meta.height = 0;
    meta.block_hash = g->hash;
    meta.app_hash = root;
    meta.genesis_hash = g->hash;
    meta.time_ms = g->genesis_time_ms;
    snprintf(meta.chain_id, sizeof meta.chain_id, "%s", g->chain_id);
    return esg_store_meta_put(txn, job->store, &meta);
}

int esg_exec_genesis(esg_store *store, const esg_genesis *g) {
    genesis_job job = {store, g};
    return esg_store_write(store, genesis_txn, &job);
}

int esg_exec_member_account_link(esg_state *st, const char *member,
                                 const esg_pubkey *pk, bool add) {
    uint8_t key[64 + 32];
    size_t mlen = strlen(member);
    if (mlen > 62)
        return ESG_ERR_INVALID_ARGUMENT;
    memcpy(key, member, mlen);
    key[mlen] = 0;
    memcpy(key + mlen + 1, pk->b, 32);
    if (add)
        return esg_state_put(st, ESG_T_MEMBER_ACCOUNTS, key, mlen + 33, "", 0);
    return esg_state_del(st, ESG_T_MEMBER_ACCOUNTS, key, mlen + 33);
}

/* ---------------------------------------------------------- transactions */

/* Applies one transaction: the checks every transaction must pass, the nonce,
 * then the action's contract. expected_nonce 0 means "the account's next".
 * On error the caller discards the writes (savepoint or aborted txn). */
static int apply_tx(esg_block_ctx *b, const esg_contract_table *ct, const esg_tx *tx,
                    bool verified, uint64_t expected_nonce, char *msg, size_t msglen) {
    const esg_pb_tx_body *body = tx->body;
    esg_tx_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    msg[0] = '\0';
    if (strcmp(body->chain_id, b->chain_id) != 0) {
        snprintf(msg, msglen, "transaction is for chain '%.64s', this is '%s'",
                 body->chain_id, b->chain_id);
        return ESG_ERR_CHAIN_ID;
    }
    memcpy(ctx.signer_pk.b, body->signer.data, 32);
    esg_pb_account *acct = NULL;
    esg_pb_member *member = NULL;
    int rc = esg_exec_account_get(b->st, &ctx.signer_pk, &acct);
    if (rc == ESG_ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no account '%s' on this chain", esg_pubkey_hex(&ctx.signer_pk).s);
        return ESG_ERR_UNKNOWN_SIGNER;
    }
    if (rc)
        return rc;
    if (acct->revoked) {
        snprintf(msg, msglen, "account '%s' of '%s' was revoked",
                 esg_pubkey_hex(&ctx.signer_pk).s, acct->member);
        rc = ESG_ERR_ACCOUNT_REVOKED;
        goto out;
    }
    rc = esg_state_get_msg(b->st, ESG_T_MEMBERS, acct->member, strlen(acct->member),
                           ESG_PB_MEMBER_DESC, (ProtobufCMessage **)&member);
    if (rc)
        goto out;
    if (member->suspended) {
        snprintf(msg, msglen, "member '%s' is suspended", member->id);
        rc = ESG_ERR_MEMBER_SUSPENDED;
        goto out;
    }
    uint64_t want = expected_nonce ? expected_nonce : acct->nonce + 1;
    if (body->nonce != want) {
        snprintf(msg, msglen, "nonce %llu, expected %llu for '%s'",
                 (unsigned long long)body->nonce, (unsigned long long)want,
                 esg_pubkey_hex(&ctx.signer_pk).s);
        rc = ESG_ERR_NONCE;
        goto out;
    }
    ctx.block = b;
    ctx.st = b->st;
    ctx.tx = tx;
    ctx.body = body;
    ctx.height = b->height;
    ctx.time_ms = b->time_ms;
    if (!esg_tx_ctx_claim_sig(&ctx, &ctx.signer_pk)) {
        snprintf(msg, msglen, "the signer '%s' did not sign", esg_pubkey_hex(&ctx.signer_pk).s);
        rc = ESG_ERR_MISSING_SIGNATURE;
        goto out;
    }
    if (!verified && (rc = esg_tx_verify_sigs(tx, msg, msglen)) != 0)
        goto out;
    int action = (int)body->action_case;
    esg_contract_fn fn = action > 0 && action < ESG_ACTION_SLOTS ? ct->apply[action] : NULL;
    if (!fn) {
        snprintf(msg, msglen, "action '%s' is not supported by this node",
                 esg_action_name(action));
        rc = ESG_ERR_NO_ACTION;
        goto out;
    }
    acct->nonce = body->nonce;
    rc = esg_state_put_msg(b->st, ESG_T_ACCOUNTS, ctx.signer_pk.b, 32, &acct->base);
    if (rc)
        goto out;
    ctx.signer = acct;
    rc = fn(&ctx);
    if (rc) {
        snprintf(msg, msglen, "%s", ctx.msg[0] ? ctx.msg : esg_err_message(rc));
        goto out;
    }
    for (size_t i = 0; i < esg_tx_n_sigs(tx); i++) {
        if (!ctx.sig_claimed[i]) {
            esg_pubkey pk;
            esg_sig sig;
            esg_tx_sig_at(tx, i, &pk, &sig);
            snprintf(msg, msglen, "signature of '%s' is not needed by '%s'",
                     esg_pubkey_hex(&pk).s, esg_action_name(action));
            rc = ESG_ERR_UNEXPECTED_SIGNATURE;
            goto out;
        }
    }
out:
    if (acct)
        esg_pb_free(&acct->base);
    if (member)
        esg_pb_free(&member->base);
    return rc;
}

/* ---------------------------------------------------------------- blocks */

/* Finishes a block whose transactions were applied: end-of-block rules,
 * validator set bookkeeping, state root; fills the header fields that
 * depend on state. */
static int block_finish(esg_block_ctx *b, esg_store *store, const esg_contract_table *ct,
                        esg_hash *app_hash, esg_hash *validators_hash, bool *next_differs,
                        esg_hash *next_hash) {
    int rc = ct->end_block ? ct->end_block(b) : ESG_OK;
    if (rc)
        return rc;
    /* A set decided in block h takes effect at h+2 (docs/P2P.md §5). */
    if (b->valset_changed && (rc = valset_record(b->st, store, b->height + 2)) != 0)
        return rc;
    if ((rc = esg_state_root(b->st, app_hash)) != 0)
        return rc;
    esg_pb_validator_set *vs;
    if ((rc = esg_exec_valset_at(esg_state_txn(b->st), store, b->height, &vs)) != 0)
        return rc;
    rc = esg_valset_hash(vs, validators_hash);
    esg_pb_free(&vs->base);
    if (rc)
        return rc;
    /* The set of the next height (decided in the previous block or
     * earlier, so already recorded): announced when it changes. */
    if ((rc = esg_exec_valset_at(esg_state_txn(b->st), store, b->height + 1, &vs)) != 0)
        return rc;
    rc = esg_valset_hash(vs, next_hash);
    esg_pb_free(&vs->base);
    *next_differs = rc == 0 && memcmp(next_hash->b, validators_hash->b, 32) != 0;
    return rc;
}

/* Stores an assembled block and advances meta. */
static int block_store(MDB_txn *txn, esg_store *store, const esg_pb_block *block,
                       const esg_hash *block_hash, const uint8_t *commit, size_t clen,
                       const esg_hash *ids, size_t n_ids, const esg_store_meta *prev) {
    uint8_t *buf;
    size_t len;
    int rc = esg_pb_encode(&block->base, &buf, &len);
    if (rc)
        return rc;
    rc = esg_store_block_put(txn, store, block->header->height, block_hash, buf, len,
                             commit, clen, ids, n_ids);
    free(buf);
    if (rc)
        return rc;
    esg_store_meta m = *prev;
    m.height = block->header->height;
    m.block_hash = *block_hash;
    memcpy(m.app_hash.b, block->header->app_hash.data, 32);
    m.time_ms = block->header->time_ms;
    return esg_store_meta_put(txn, store, &m);
}

/* Verifies a serialized commit for block_hash at height against the set in
 * force there. ESG_ERR_BAD_COMMIT when it does not finalize the block. */
static int commit_check(MDB_txn *txn, esg_store *store, const uint8_t *commit, size_t clen,
                        const char *chain_id, uint64_t height, const esg_hash *block_hash) {
    esg_pb_commit *c = NULL;
    esg_pb_validator_set *vs = NULL;
    char why[256];
    int rc = esg_exec_valset_at(txn, store, height, &vs);
    if (rc == 0 && esg_pb_decode(ESG_PB_COMMIT_DESC, commit, clen, 1u << 20,
                                 (ProtobufCMessage **)&c) != 0)
        rc = ESG_ERR_BAD_COMMIT;
    if (rc == 0)
        rc = esg_commit_verify(c, vs, chain_id, height, block_hash, why, sizeof why);
    esg_pb_free(c);
    esg_pb_free(vs);
    return rc;
}

/* One job serves both a single validator, which signs and stores the block
 * it builds (sign set), and a proposer of a multi-validator network, which
 * only wants the block's bytes (sign NULL, block/block_len/block_hash set):
 * the two must build exactly the same block from the same items. */
typedef struct produce_job {
    esg_store *store;
    const esg_contract_table *ct;
    esg_exec_item *items;
    size_t n;
    esg_exec_evidence *ev;
    size_t n_ev;
    uint64_t time_ms;
    const esg_pubkey *proposer;
    bool allow_empty;
    esg_commit_fn sign;
    void *sign_arg;
    esg_produced *out;
    uint8_t **block;
    size_t *block_len;
    esg_hash *block_hash;
} produce_job;

/* Puts the job's evidence into the block being built: each one is
 * recorded in the state (as applying the block will) or left out with its
 * reason. Fills evs (decoded, owned by the caller), their ids and count,
 * and adds their bytes to *bytes. Returns 0 or a store error. */
static int evidence_take(esg_block_ctx *b, produce_job *job, esg_pb_evidence **evs,
                         esg_hash *ids, size_t *n_evs, size_t *bytes) {
    for (size_t i = 0; i < job->n_ev; i++) {
        esg_exec_evidence *e = &job->ev[i];
        e->msg[0] = '\0';
        if (*n_evs == ESG_MAX_BLOCK_EVIDENCE) {
            e->result = ESG_ERR_MEMPOOL_FULL;
            snprintf(e->msg, sizeof e->msg, "not included: block full");
            continue;
        }
        esg_pb_evidence *ev = NULL;
        if (esg_pb_decode(ESG_PB_EVIDENCE_DESC, e->data, e->len, 4096,
                          (ProtobufCMessage **)&ev) != 0) {
            e->result = ESG_ERR_BAD_EVIDENCE;
            snprintf(e->msg, sizeof e->msg, "evidence does not decode canonically");
            continue;
        }
        int rc = esg_state_savepoint(b->st);
        if (rc == 0)
            rc = esg_evidence_record(b->st, job->store, b->chain_id, b->height, ev, e->msg,
                                     sizeof e->msg);
        e->result = rc;
        if (rc) {
            esg_state_rollback(b->st);
            esg_pb_free(ev);
            if (rc != ESG_ERR_BAD_EVIDENCE && rc != ESG_ERR_EVIDENCE_RECORDED)
                return rc;
            continue;
        }
        if ((rc = esg_state_release(b->st)) != 0) {
            esg_pb_free(ev);
            return rc;
        }
        ids[*n_evs] = esg_evidence_id(e->data, e->len);
        evs[(*n_evs)++] = ev;
        *bytes += e->len + 16;
    }
    return ESG_OK;
}

static int produce_txn(MDB_txn *txn, void *arg) {
    produce_job *job = arg;
    assert(job->sign || (job->block && job->block_len && job->block_hash));
    esg_store_meta meta;
    int rc = esg_store_meta_get(txn, job->store, &meta);
    if (rc)
        return rc;
    memset(job->out, 0, sizeof *job->out);
    if (!job->sign) {
        *job->block = NULL;
        *job->block_len = 0;
    }
    esg_state *st;
    if ((rc = esg_state_open(&st, job->store, txn, true)) != 0)
        return rc;
    esg_pb_params *params = NULL;
    esg_hash *ids = calloc(job->n ? job->n : 1, sizeof *ids);
    ProtobufCBinaryData *txs = calloc(job->n ? job->n : 1, sizeof *txs);
    esg_pb_evidence *evs[ESG_MAX_BLOCK_EVIDENCE];
    esg_hash ev_ids[ESG_MAX_BLOCK_EVIDENCE];
    size_t n_evs = 0;
    uint8_t *commit = NULL;
    size_t clen = 0;
    if (!ids || !txs) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    if ((rc = params_get(st, &params)) != 0)
        goto out;

    esg_block_ctx b = {.st = st, .chain_id = meta.chain_id, .height = meta.height + 1};
    b.time_ms = job->time_ms > meta.time_ms ? job->time_ms : meta.time_ms + 1;
    size_t n_in = 0, bytes = 0;
    if ((rc = evidence_take(&b, job, evs, ev_ids, &n_evs, &bytes)) != 0)
        goto out;
    bool full = false;
    for (size_t i = 0; i < job->n; i++) {
        esg_exec_item *it = &job->items[i];
        it->msg[0] = '\0';
        /* Once one item does not fit, none after it is tried: a later tx
         * of the same signer would fail on its nonce and be dropped. */
        if (full || n_in >= params->max_block_txs ||
            bytes + it->tx->raw_len + 16 > params->max_block_bytes - 1024) {
            full = true;
            it->result = ESG_ERR_MEMPOOL_FULL;
            snprintf(it->msg, sizeof it->msg, "not included: block full");
            continue;
        }
        if ((rc = esg_state_savepoint(st)) != 0)
            goto out;
        bool valset_changed = b.valset_changed;
        it->result = apply_tx(&b, job->ct, it->tx, it->sigs_verified, 0, it->msg,
                              sizeof it->msg);
        if (it->result == ESG_ERR_MAP_FULL || it->result == ESG_ERR_STORE ||
            it->result == ESG_ERR_NOMEM) {
            esg_state_rollback(st);
            rc = it->result;
            goto out;
        }
        if (it->result) {
            /* A rejected tx changes nothing, not even the set-change flag
             * its contract raised before the tx failed. */
            esg_state_rollback(st);
            b.valset_changed = valset_changed;
            continue;
        }
        if ((rc = esg_state_release(st)) != 0)
            goto out;
        ids[n_in] = it->tx->id;
        txs[n_in].data = it->tx->raw;
        txs[n_in].len = it->tx->raw_len;
        bytes += it->tx->raw_len + 16;
        n_in++;
    }
    if (n_in == 0 && n_evs == 0 && !job->allow_empty) {
        rc = ABORT_OK;
        goto out;
    }

    esg_hash app_hash, vhash, next_vhash, prev = meta.block_hash, block_hash;
    bool next_differs;
    if ((rc = block_finish(&b, job->store, job->ct, &app_hash, &vhash, &next_differs,
                           &next_vhash)) != 0)
        goto out;
    esg_hash tx_root = esg_merkle_root(ids, n_in);
    esg_pb_block_header hdr = ESG_PB_BLOCK_HEADER_INIT;
    hdr.chain_id = meta.chain_id;
    hdr.height = b.height;
    hdr.time_ms = b.time_ms;
    hdr.prev_hash = (ProtobufCBinaryData){32, prev.b};
    hdr.tx_root = (ProtobufCBinaryData){32, tx_root.b};
    hdr.app_hash = (ProtobufCBinaryData){32, app_hash.b};
    hdr.validators_hash = (ProtobufCBinaryData){32, vhash.b};
    hdr.proposer = (ProtobufCBinaryData){32, (uint8_t *)job->proposer->b};
    esg_hash ev_root;
    if (esg_evidence_root(ev_ids, n_evs, &ev_root))
        hdr.evidence_hash = (ProtobufCBinaryData){32, ev_root.b};
    if (next_differs)
        hdr.next_validators_hash = (ProtobufCBinaryData){32, next_vhash.b};
    if ((rc = esg_block_header_hash(&hdr, &block_hash)) != 0)
        goto out;
    esg_pb_block block = ESG_PB_BLOCK_INIT;
    block.header = &hdr;
    block.n_txs = n_in;
    block.txs = txs;
    block.n_evidence = n_evs;
    block.evidence = evs;
    if (job->sign) {
        if ((rc = job->sign(job->sign_arg, meta.chain_id, b.height, &block_hash, &commit,
                            &clen)) != 0)
            goto out;
        /* A block is final only with a commit every replica accepts: check it
         * as they will (one signature per validator, once per block). */
        if ((rc = commit_check(txn, job->store, commit, clen, meta.chain_id, b.height,
                               &block_hash)) != 0)
            goto out;
        if ((rc = block_store(txn, job->store, &block, &block_hash, commit, clen, ids, n_in,
                              &meta)) != 0)
            goto out;
        /* Everything of the block is written; LMDB commits when we return. */
        ESG_FAILPOINT("block-commit-before");
    } else {
        /* A proposal: the block leaves as bytes and the transaction is
         * aborted, so the store stays at its tip until the block is decided
         * and comes back through esg_exec_apply_block. */
        if ((rc = esg_pb_encode(&block.base, job->block, job->block_len)) != 0)
            goto out;
        *job->block_hash = block_hash;
        rc = ABORT_OK;
    }
    job->out->made = true;
    job->out->height = b.height;
    job->out->block_hash = block_hash;
    job->out->app_hash = app_hash;
    job->out->n_included = n_in;
out:
    for (size_t i = 0; i < n_evs; i++)
        esg_pb_free(evs[i]);
    free(commit);
    free(ids);
    free(txs);
    if (params)
        esg_pb_free(&params->base);
    esg_state_free(st);
    return rc;
}

int esg_exec_produce(esg_store *store, const esg_contract_table *contracts,
                     esg_exec_item *items, size_t n, uint64_t time_ms,
                     const esg_pubkey *proposer, bool allow_empty,
                     esg_commit_fn sign, void *sign_arg, esg_produced *out) {
    assert(sign);
    produce_job job = {store, contracts, items, n, NULL, 0, time_ms, proposer, allow_empty,
                       sign, sign_arg, out, NULL, NULL, NULL};
    int rc = esg_store_write(store, produce_txn, &job);
    if (rc == ABORT_OK) {
        out->made = false;
        return ESG_OK;
    }
    if (rc == ESG_OK)
        ESG_FAILPOINT("block-commit-after");
    return rc;
}

int esg_exec_build_block(esg_store *store, const esg_contract_table *contracts,
                         esg_exec_item *items, size_t n, esg_exec_evidence *ev, size_t n_ev,
                         uint64_t time_ms, const esg_pubkey *proposer, bool allow_empty,
                         uint8_t **block, size_t *block_len, esg_hash *block_hash,
                         esg_produced *out) {
    assert(store && contracts && (items || n == 0) && (ev || n_ev == 0) && proposer);
    assert(block && block_len && block_hash && out);
    produce_job job = {store, contracts, items, n, ev, n_ev, time_ms, proposer, allow_empty,
                       NULL, NULL, out, block, block_len, block_hash};
    *block = NULL;
    *block_len = 0;
    int rc = esg_store_write(store, produce_txn, &job);
    /* The transaction is always aborted: ABORT_OK with out->made telling
     * whether a block came out. */
    if (rc == ABORT_OK)
        return ESG_OK;
    free(*block);
    *block = NULL;
    *block_len = 0;
    memset(out, 0, sizeof *out);
    return rc;
}

/* One job serves a block to store with its commit (apply) and a proposed
 * block to vote on (check_only: no commit yet, a bound on how far ahead of
 * the local clock its time may be, and the transaction is always aborted),
 * so a validator checks exactly what every replica will check. */
typedef struct apply_job {
    esg_store *store;
    const esg_contract_table *ct;
    const uint8_t *block;
    size_t block_len;
    const uint8_t *commit;
    size_t commit_len;
    const bool *verified;
    char *err;
    size_t errlen;
    bool check_only;
    uint64_t now_ms, max_drift_ms;
} apply_job;

static int apply_txn(MDB_txn *txn, void *arg) {
    apply_job *job = arg;
#define BAD(code, ...) do { snprintf(job->err, job->errlen, __VA_ARGS__); rc = (code); goto out; } while (0)
    esg_pb_block *block = NULL;
    esg_pb_commit *commit = NULL;
    esg_pb_validator_set *vs = NULL;
    esg_pb_params *params = NULL;
    esg_hash *ids = NULL;
    esg_state *st = NULL;
    esg_store_meta meta;
    int rc = esg_store_meta_get(txn, job->store, &meta);
    if (rc)
        return rc;
    uint64_t height = meta.height + 1;
    if ((rc = esg_state_open(&st, job->store, txn, true)) != 0)
        return rc;
    if ((rc = params_get(st, &params)) != 0)
        goto out;
    if (esg_pb_decode(ESG_PB_BLOCK_DESC, job->block, job->block_len,
                      params->max_block_bytes + 4096, (ProtobufCMessage **)&block))
        BAD(ESG_ERR_BAD_BLOCK, "block %llu does not decode canonically", (unsigned long long)height);
    const esg_pb_block_header *h = block->header;
    if (!h)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu has no header", (unsigned long long)height);
    if (strcmp(h->chain_id, meta.chain_id) != 0)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu is for chain '%.64s'", (unsigned long long)height, h->chain_id);
    if (h->height != height)
        BAD(ESG_ERR_BAD_BLOCK, "block has height %llu, expected %llu",
            (unsigned long long)h->height, (unsigned long long)height);
    if (h->prev_hash.len != 32 || memcmp(h->prev_hash.data, meta.block_hash.b, 32) != 0)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu does not link to block %llu",
            (unsigned long long)height, (unsigned long long)meta.height);
    if (h->time_ms <= meta.time_ms)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu time does not increase", (unsigned long long)height);
    /* Only a live proposal is held to the local clock (docs/RELIABILITY.md,
     * "Block time"): a decided block is final whatever this node's clock
     * says. */
    if (job->check_only) {
        uint64_t limit = job->now_ms > UINT64_MAX - job->max_drift_ms
                             ? UINT64_MAX : job->now_ms + job->max_drift_ms;
        if (h->time_ms > limit)
            BAD(ESG_ERR_BAD_BLOCK,
                "block %llu time is %llu ms ahead of this node's clock, at most %llu allowed",
                (unsigned long long)height, (unsigned long long)(h->time_ms - job->now_ms),
                (unsigned long long)job->max_drift_ms);
    }
    if (h->tx_root.len != 32 || h->app_hash.len != 32 || h->validators_hash.len != 32 ||
        h->proposer.len != 32)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu header has a malformed hash", (unsigned long long)height);
    if (job->block_len > params->max_block_bytes)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu has %zu bytes, more than max_block_bytes %llu",
            (unsigned long long)height, job->block_len,
            (unsigned long long)params->max_block_bytes);
    if (block->n_txs > params->max_block_txs)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu has too many transactions", (unsigned long long)height);
    esg_hash block_hash;
    if ((rc = esg_block_header_hash(h, &block_hash)) != 0)
        goto out;
    if ((rc = esg_exec_valset_at(txn, job->store, height, &vs)) != 0)
        goto out;
    esg_pubkey proposer;
    memcpy(proposer.b, h->proposer.data, 32);
    if (esg_valset_find(vs, &proposer) < 0)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu proposer is not a validator", (unsigned long long)height);
    if (!job->check_only) {
        if (esg_pb_decode(ESG_PB_COMMIT_DESC, job->commit, job->commit_len,
                          1u << 20, (ProtobufCMessage **)&commit))
            BAD(ESG_ERR_BAD_COMMIT, "commit of block %llu does not decode canonically",
                (unsigned long long)height);
        if ((rc = esg_commit_verify(commit, vs, meta.chain_id, height, &block_hash,
                                    job->err, job->errlen)) != 0)
            goto out;
    }

    esg_block_ctx b = {.st = st, .chain_id = meta.chain_id, .height = height,
                       .time_ms = h->time_ms};
    if (block->n_evidence > ESG_MAX_BLOCK_EVIDENCE)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu has %zu evidences, at most %d allowed",
            (unsigned long long)height, block->n_evidence, ESG_MAX_BLOCK_EVIDENCE);
    esg_hash ev_ids[ESG_MAX_BLOCK_EVIDENCE], ev_root;
    for (size_t i = 0; i < block->n_evidence; i++) {
        char why[ESG_ERRMSG_MAX];
        rc = esg_evidence_record(st, job->store, meta.chain_id, height, block->evidence[i], why,
                                 sizeof why);
        if (rc == ESG_ERR_BAD_EVIDENCE || rc == ESG_ERR_EVIDENCE_RECORDED)
            BAD(ESG_ERR_BAD_BLOCK, "block %llu evidence %zu: %s", (unsigned long long)height, i,
                why);
        if (rc)
            goto out;
        uint8_t *eb;
        size_t el;
        if ((rc = esg_pb_encode(&block->evidence[i]->base, &eb, &el)) != 0)
            goto out;
        ev_ids[i] = esg_evidence_id(eb, el);
        free(eb);
    }
    bool has_ev = esg_evidence_root(ev_ids, block->n_evidence, &ev_root);
    if (has_ev ? (h->evidence_hash.len != 32 || memcmp(h->evidence_hash.data, ev_root.b, 32))
               : h->evidence_hash.len != 0)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu evidence_hash does not match its evidence",
            (unsigned long long)height);
    ids = calloc(block->n_txs ? block->n_txs : 1, sizeof *ids);
    if (!ids) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < block->n_txs; i++) {
        esg_tx *tx;
        char msg[ESG_ERRMSG_MAX];
        rc = esg_tx_decode(&tx, block->txs[i].data, block->txs[i].len);
        if (rc)
            BAD(ESG_ERR_BAD_BLOCK, "block %llu tx %zu: %s", (unsigned long long)height, i,
                esg_err_name(rc));
        ids[i] = tx->id;
        rc = apply_tx(&b, job->ct, tx, job->verified && job->verified[i], 0, msg, sizeof msg);
        esg_tx_free(tx);
        if (rc == ESG_ERR_MAP_FULL || rc == ESG_ERR_STORE || rc == ESG_ERR_NOMEM)
            goto out;
        if (rc)
            BAD(ESG_ERR_BAD_BLOCK, "block %llu tx %zu: %s: %s", (unsigned long long)height, i,
                esg_err_name(rc), msg);
    }
    esg_hash app_hash, vhash, next_vhash;
    bool next_differs;
    if ((rc = block_finish(&b, job->store, job->ct, &app_hash, &vhash, &next_differs,
                           &next_vhash)) != 0)
        goto out;
    esg_hash tx_root = esg_merkle_root(ids, block->n_txs);
    if (memcmp(tx_root.b, h->tx_root.data, 32) != 0)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu tx_root does not match its transactions",
            (unsigned long long)height);
    if (memcmp(vhash.b, h->validators_hash.data, 32) != 0)
        BAD(ESG_ERR_BAD_BLOCK, "block %llu validators_hash does not match the validator set",
            (unsigned long long)height);
    if (next_differs ? (h->next_validators_hash.len != 32 ||
                        memcmp(h->next_validators_hash.data, next_vhash.b, 32) != 0)
                     : h->next_validators_hash.len != 0)
        BAD(ESG_ERR_BAD_BLOCK,
            "block %llu next_validators_hash does not match the next height's validator set",
            (unsigned long long)height);
    if (memcmp(app_hash.b, h->app_hash.data, 32) != 0)
        BAD(ESG_ERR_APP_HASH, "block %llu app_hash %s, replay gives %s", (unsigned long long)height,
            esg_hex32_of(h->app_hash.data).s, esg_hash_hex(&app_hash).s);
    if (job->check_only) {
        rc = ABORT_OK;
        goto out;
    }
    rc = esg_store_block_put(txn, job->store, height, &block_hash, job->block, job->block_len,
                             job->commit, job->commit_len, ids, block->n_txs);
    if (rc == 0) {
        esg_store_meta m = meta;
        m.height = height;
        m.block_hash = block_hash;
        m.app_hash = app_hash;
        m.time_ms = h->time_ms;
        rc = esg_store_meta_put(txn, job->store, &m);
    }
    if (rc == 0)
        ESG_FAILPOINT("block-commit-before");
out:
    free(ids);
    if (block) esg_pb_free(&block->base);
    if (commit) esg_pb_free(&commit->base);
    if (vs) esg_pb_free(&vs->base);
    if (params) esg_pb_free(&params->base);
    esg_state_free(st);
    return rc;
#undef BAD
}

int esg_exec_apply_block(esg_store *store, const esg_contract_table *contracts,
                         const uint8_t *block, size_t block_len,
                         const uint8_t *commit, size_t commit_len,
                         const bool *sigs_verified, char *errbuf, size_t errlen) {
    errbuf[0] = '\0';
    apply_job job = {store, contracts, block, block_len, commit, commit_len,
                     sigs_verified, errbuf, errlen, false, 0, 0};
    int rc = esg_store_write(store, apply_txn, &job);
    /* The block is durable; nothing after it (the driver's bookkeeping,
     * the consensus log's reset) has happened yet. */
    if (rc == ESG_OK)
        ESG_FAILPOINT("block-commit-after");
    return rc;
}

int esg_exec_check_block(esg_store *store, const esg_contract_table *contracts,
                         const uint8_t *block, size_t block_len,
                         const bool *sigs_verified, uint64_t now_ms, uint64_t max_drift_ms,
                         char *errbuf, size_t errlen) {
    assert(store && contracts && block && errbuf && errlen > 0);
    errbuf[0] = '\0';
    apply_job job = {store, contracts, block, block_len, NULL, 0,
                     sigs_verified, errbuf, errlen, true, now_ms, max_drift_ms};
    /* Every check runs in a write transaction (computing the state root
     * writes the tree) that is always aborted. */
    int rc = esg_store_write(store, apply_txn, &job);
    return rc == ABORT_OK ? ESG_OK : rc;
}

int esg_exec_check_tx(esg_store *store, const esg_contract_table *contracts,
                      const esg_tx *tx, uint64_t expected_nonce, bool sigs_verified,
                      uint64_t time_ms, char *msg, size_t msglen) {
    /* A read transaction and a scratch view: the check never takes the
     * store's writer, so admissions run in parallel with each other and
     * with block production, and it cannot leave a trace. */
    msg[0] = '\0';
    MDB_txn *txn;
    int rc = esg_store_read_begin(store, &txn);
    if (rc)
        return rc;
    esg_store_meta meta;
    esg_state *st = NULL;
    if ((rc = esg_store_meta_get(txn, store, &meta)) == 0 &&
        (rc = esg_state_open_scratch(&st, store, txn)) == 0) {
        esg_block_ctx b = {.st = st, .chain_id = meta.chain_id, .height = meta.height + 1};
        b.time_ms = time_ms > meta.time_ms ? time_ms : meta.time_ms + 1;
        rc = apply_tx(&b, contracts, tx, sigs_verified, expected_nonce, msg, msglen);
    }
    esg_state_free(st);
    esg_store_read_end(txn);
    return rc;
}
