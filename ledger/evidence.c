/* Evidence of equivocation: form, signatures, and its record in the state. */
#include "ledger/evidence.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/merkle.h"

esg_hash esg_evidence_id(const uint8_t *bytes, size_t len) {
    return esg_hash_tagged(ESG_TAG_EVIDENCE, bytes, len);
}

/* Bytewise order of two vote values, nil (NULL) first. */
static int value_cmp(const esg_hash *a, const esg_hash *b) {
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return memcmp(a->b, b->b, 32);
}

int esg_evidence_encode(int type, uint64_t height, uint32_t round, const esg_pubkey *validator,
                        const esg_evidence_vote *a, const esg_evidence_vote *b,
                        uint8_t **out, size_t *out_len) {
    assert(validator && a && b && out && out_len);
    *out = NULL;
    *out_len = 0;
    int c = value_cmp(a->block, b->block);
    if (c == 0)
        return ESG_ERR_BAD_EVIDENCE;
    if (c > 0) {
        const esg_evidence_vote *t = a;
        a = b;
        b = t;
    }
    Esg__ConsensusVote va = ESG__CONSENSUS_VOTE__INIT, vb = ESG__CONSENSUS_VOTE__INIT;
    const esg_evidence_vote *src[2] = {a, b};
    Esg__ConsensusVote *dst[2] = {&va, &vb};
    for (int i = 0; i < 2; i++) {
        dst[i]->type = (Esg__VoteType)type;
        dst[i]->height = height;
        dst[i]->round = round;
        if (src[i]->block)
            dst[i]->block_hash = esg_pb_bin(src[i]->block->b, 32);
        dst[i]->validator = esg_pb_bin(validator->b, 32);
        dst[i]->sig = esg_pb_bin(src[i]->sig.b, 64);
    }
    Esg__Evidence ev = ESG__EVIDENCE__INIT;
    ev.vote_a = &va;
    ev.vote_b = &vb;
    return esg_pb_encode(&ev.base, out, out_len);
}

/* A vote's value: NULL for nil, else the 32-byte hash (never all zeros). */
static int vote_value(const Esg__ConsensusVote *v, esg_hash *buf, const esg_hash **out) {
    static const uint8_t zero[32];
    *out = NULL;
    if (v->block_hash.len == 0)
        return ESG_OK;
    if (v->block_hash.len != 32 || memcmp(v->block_hash.data, zero, 32) == 0)
        return ESG_ERR_BAD_EVIDENCE;
    memcpy(buf->b, v->block_hash.data, 32);
    *out = buf;
    return ESG_OK;
}

int esg_evidence_verify(const esg_pb_evidence *ev, const char *chain_id,
                        const esg_pb_validator_set *vs, char *why, size_t whylen) {
#define BAD(...) do { snprintf(why, whylen, __VA_ARGS__); return ESG_ERR_BAD_EVIDENCE; } while (0)
    assert(ev && chain_id && vs && why && whylen > 0);
    why[0] = '\0';
    const Esg__ConsensusVote *a = ev->vote_a, *b = ev->vote_b;
    if (!a || !b)
        BAD("evidence needs two votes");
    if (a->type != b->type || a->height != b->height || a->round != b->round)
        BAD("the two votes are not for the same type, height and round");
    if (a->type != ESG__VOTE_TYPE__VOTE_TYPE_PREVOTE &&
        a->type != ESG__VOTE_TYPE__VOTE_TYPE_PRECOMMIT)
        BAD("vote type must be prevote or precommit");
    if (a->height == 0)
        BAD("evidence height must be at least 1");
    esg_pubkey pk, pkb;
    if (esg_pb_pubkey32(&a->validator, &pk) != 0 || esg_pb_pubkey32(&b->validator, &pkb) != 0 ||
        memcmp(pk.b, pkb.b, 32) != 0)
        BAD("the two votes are not by the same validator");
    esg_hash ha, hb;
    const esg_hash *va, *vb;
    if (vote_value(a, &ha, &va) != 0 || vote_value(b, &hb, &vb) != 0)
        BAD("a vote's block hash must be empty (nil) or 32 bytes, not all zero");
    int c = value_cmp(va, vb);
    if (c == 0)
        BAD("the two votes are for the same value: no equivocation");
    if (c > 0)
        BAD("vote_a's block hash must sort before vote_b's (nil first)");
    int idx = esg_valset_find(vs, &pk);
    if (idx < 0 || vs->validators[idx]->power == 0)
        BAD("%s is not a validator at height %llu", esg_pubkey_hex(&pk).s,
            (unsigned long long)a->height);
    const Esg__ConsensusVote *votes[2] = {a, b};
    const esg_hash *vals[2] = {va, vb};
    for (int i = 0; i < 2; i++) {
        esg_sig sig;
        if (votes[i]->sig.len != 64)
            BAD("a vote signature must be 64 bytes");
        memcpy(sig.b, votes[i]->sig.data, 64);
        esg_hash h = esg_vote_hash(chain_id, (int)a->type, a->height, a->round, vals[i]);
        if (!esg_verify(&sig, &h, &pk))
            BAD("vote_%c signature does not verify", i == 0 ? 'a' : 'b');
    }
    return ESG_OK;
#undef BAD
}

void esg_evidence_key(const esg_pb_evidence *ev, uint8_t out[ESG_EVIDENCE_KEY_LEN]) {
    const Esg__ConsensusVote *v = ev->vote_a;
    memcpy(out, v->validator.data, 32);
    for (int i = 0; i < 8; i++)
        out[32 + i] = (uint8_t)(v->height >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        out[40 + i] = (uint8_t)(v->round >> (24 - 8 * i));
    out[44] = (uint8_t)v->type;
}

int esg_evidence_check(esg_state *st, esg_store *store, const char *chain_id,
                       uint64_t block_height, const esg_pb_evidence *ev, char *why,
                       size_t whylen) {
    assert(st && store && chain_id && ev && why && whylen > 0);
    why[0] = '\0';
    if (!ev->vote_a || !ev->vote_b) {
        snprintf(why, whylen, "evidence needs two votes");
        return ESG_ERR_BAD_EVIDENCE;
    }
    uint64_t h = ev->vote_a->height;
    if (h == 0 || h > block_height) {
        snprintf(why, whylen, "evidence height %llu is not in 1..%llu", (unsigned long long)h,
                 (unsigned long long)block_height);
        return ESG_ERR_BAD_EVIDENCE;
    }
    esg_pb_validator_set *vs = NULL;
    int rc = esg_exec_valset_at(esg_state_txn(st), store, h, &vs);
    if (rc == ESG_ERR_NOT_FOUND) {
        snprintf(why, whylen, "no validator set is known for height %llu", (unsigned long long)h);
        return ESG_ERR_BAD_EVIDENCE;
    }
    if (rc)
        return rc;
    rc = esg_evidence_verify(ev, chain_id, vs, why, whylen);
    esg_pb_free(vs);
    if (rc)
        return rc;
    uint8_t key[ESG_EVIDENCE_KEY_LEN];
    esg_evidence_key(ev, key);
    MDB_val v;
    rc = esg_state_get(st, ESG_T_EVIDENCE, key, sizeof key, &v);
    if (rc == 0) {
        snprintf(why, whylen, "the equivocation of %s at %llu/%u is already recorded",
                 esg_hex32_of(ev->vote_a->validator.data).s, (unsigned long long)h,
                 ev->vote_a->round);
        return ESG_ERR_EVIDENCE_RECORDED;
    }
    return rc == ESG_ERR_NOT_FOUND ? ESG_OK : rc;
}

int esg_evidence_record(esg_state *st, esg_store *store, const char *chain_id,
                        uint64_t block_height, const esg_pb_evidence *ev, char *why,
                        size_t whylen) {
    int rc = esg_evidence_check(st, store, chain_id, block_height, ev, why, whylen);
    if (rc)
        return rc;
    esg_pb_validator_set *vs = NULL;
    if ((rc = esg_exec_valset_at(esg_state_txn(st), store, ev->vote_a->height, &vs)) != 0)
        return rc;
    esg_pubkey pk;
    memcpy(pk.b, ev->vote_a->validator.data, 32);
    const esg_pb_validator *val = vs->validators[esg_valset_find(vs, &pk)];
    esg_pb_evidence_record r = ESG__EVIDENCE_RECORD__INIT;
    r.evidence = (esg_pb_evidence *)ev;
    r.validator = esg_pb_bin(pk.b, 32);
    r.power = val->power;
    r.operator_ = val->operator_;
    r.included_height = block_height;
    uint8_t key[ESG_EVIDENCE_KEY_LEN];
    esg_evidence_key(ev, key);
    rc = esg_state_put_msg(st, ESG_T_EVIDENCE, key, sizeof key, &r.base);
    esg_pb_free(vs);
    return rc;
}

bool esg_evidence_root(const esg_hash *ids, size_t n, esg_hash *out) {
    if (n == 0)
        return false;
    *out = esg_merkle_root(ids, n);
    return true;
}
