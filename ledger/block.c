/* Block and commit hashing and verification. */
#include "ledger/block.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/merkle.h"

int esg_block_header_hash(const esg_pb_block_header *h, esg_hash *out) {
    uint8_t *buf;
    size_t len;
    int rc = esg_pb_encode(&h->base, &buf, &len);
    if (rc)
        return rc;
    *out = esg_hash_tagged(ESG_TAG_BLOCK, buf, len);
    free(buf);
    return ESG_OK;
}

esg_hash esg_vote_hash(const char *chain_id, int type, uint64_t height,
                       uint32_t round, const esg_hash *block_hash) {
    esg_pb_vote_sign_doc doc = ESG_PB_VOTE_SIGN_DOC_INIT;
    doc.chain_id = (char *)chain_id;
    doc.type = type;
    doc.height = height;
    doc.round = round;
    if (block_hash) {
        doc.block_hash.data = (uint8_t *)block_hash->b;
        doc.block_hash.len = 32;
    }
    /* A VoteSignDoc is a few dozen bytes plus the chain id (<= 64). */
    uint8_t buf[256];
    size_t len = protobuf_c_message_get_packed_size(&doc.base);
    assert(len <= sizeof buf);
    protobuf_c_message_pack(&doc.base, buf);
    return esg_hash_tagged(ESG_TAG_VOTE, buf, len);
}

int esg_valset_hash(const esg_pb_validator_set *vs, esg_hash *out) {
    esg_hash *leaves = calloc(vs->n_validators ? vs->n_validators : 1, sizeof *leaves);
    if (!leaves)
        return ESG_ERR_NOMEM;
    for (size_t i = 0; i < vs->n_validators; i++) {
        uint8_t *buf;
        size_t len;
        int rc = esg_pb_encode(&vs->validators[i]->base, &buf, &len);
        if (rc) {
            free(leaves);
            return rc;
        }
        leaves[i] = esg_sha256(buf, len);
        free(buf);
    }
    *out = esg_merkle_root(leaves, vs->n_validators);
    free(leaves);
    return ESG_OK;
}

int esg_valset_total_power(const esg_pb_validator_set *vs, uint64_t *total) {
    uint64_t sum = 0;
    for (size_t i = 0; i < vs->n_validators; i++) {
        if (__builtin_add_overflow(sum, vs->validators[i]->power, &sum))
            return ESG_ERR_OVERFLOW;
    }
    *total = sum;
    return ESG_OK;
}

int esg_valset_find(const esg_pb_validator_set *vs, const esg_pubkey *pk) {
    for (size_t i = 0; i < vs->n_validators; i++) {
        const ProtobufCBinaryData *b = &vs->validators[i]->pubkey;
        if (b->len == 32 && memcmp(b->data, pk->b, 32) == 0)
            return (int)i;
    }
    return -1;
}

int esg_commit_verify(const esg_pb_commit *commit, const esg_pb_validator_set *vs,
                      const char *chain_id, uint64_t height,
                      const esg_hash *block_hash, char *errbuf, size_t errlen) {
#define FAIL(...) do { snprintf(errbuf, errlen, __VA_ARGS__); return ESG_ERR_BAD_COMMIT; } while (0)
    if (commit->height != height)
        FAIL("commit is for height %llu, not %llu",
             (unsigned long long)commit->height, (unsigned long long)height);
    if (commit->block_hash.len != 32 || memcmp(commit->block_hash.data, block_hash->b, 32) != 0)
        FAIL("commit at height %llu is for another block", (unsigned long long)height);
    if (vs->n_validators > ESG_MAX_VALIDATORS)
        FAIL("validator set too large");
    uint64_t total, signed_power = 0;
    if (esg_valset_total_power(vs, &total))
        FAIL("validator set power overflows");
    bool seen[ESG_MAX_VALIDATORS] = {false};
    esg_hash vh = esg_vote_hash(chain_id, ESG_VOTE_TYPE_PRECOMMIT, height, commit->round, block_hash);
    for (size_t i = 0; i < commit->n_sigs; i++) {
        const esg_pb_commit_sig *cs = commit->sigs[i];
        esg_pubkey pk;
        esg_sig sig;
        if (cs->validator.len != 32 || cs->sig.len != 64)
            FAIL("commit signature %zu is malformed", i);
        memcpy(pk.b, cs->validator.data, 32);
        memcpy(sig.b, cs->sig.data, 64);
        int idx = esg_valset_find(vs, &pk);
        if (idx < 0)
            FAIL("commit signer '%s' is not a validator at height %llu",
                 esg_pubkey_hex(&pk).s, (unsigned long long)height);
        if (seen[idx])
            FAIL("validator '%s' signed the commit twice", esg_pubkey_hex(&pk).s);
        seen[idx] = true;
        if (!esg_verify(&sig, &vh, &pk))
            FAIL("precommit of validator '%s' does not verify", esg_pubkey_hex(&pk).s);
        signed_power += vs->validators[idx]->power; /* <= total: no overflow */
    }
    /* signed > 2/3 total, without overflow: 3*signed > 2*total in 128 bits. */
    if ((unsigned __int128)signed_power * 3 <= (unsigned __int128)total * 2)
        FAIL("commit holds %llu of %llu voting power, not more than 2/3",
             (unsigned long long)signed_power, (unsigned long long)total);
    return ESG_OK;
#undef FAIL
}

int esg_commit_sign_single(esg_commit_storage *s, const esg_seckey *sk,
                           const char *chain_id, uint64_t height, uint32_t round,
                           const esg_hash *block_hash) {
    memset(s, 0, sizeof *s);
    esg_pb_commit c = ESG_PB_COMMIT_INIT;
    esg_pb_commit_sig cs = ESG_PB_COMMIT_SIG_INIT;
    s->commit = c;
    s->sig = cs;
    s->block_hash = *block_hash;
    int rc = esg_key_pubkey(&s->validator, sk);
    if (rc)
        return rc;
    esg_hash vh = esg_vote_hash(chain_id, ESG_VOTE_TYPE_PRECOMMIT, height, round, block_hash);
    rc = esg_sign(&s->signature, sk, &vh);
    if (rc)
        return rc;
    s->sig.validator.data = s->validator.b;
    s->sig.validator.len = 32;
    s->sig.sig.data = s->signature.b;
    s->sig.sig.len = 64;
    s->sigs[0] = &s->sig;
    s->commit.height = height;
    s->commit.round = round;
    s->commit.block_hash.data = s->block_hash.b;
    s->commit.block_hash.len = 32;
    s->commit.n_sigs = 1;
    s->commit.sigs = s->sigs;
    return ESG_OK;
}
