/* Fuzz target: a block with its commit as block sync receives it and GET
 * /v1/blocks serves it (a BlockWithCommit). Decoding must never crash,
 * leak or accept a non-canonical encoding; the header is hashed, the
 * commit verified against a one-validator set (the test key's: the seeds
 * hold blocks it really committed), every transaction decoded and the tx
 * root recomputed, and every piece of evidence verified, as a syncing node
 * does. Asserts: a decoded block re-encodes to its input; a commit that
 * verifies names the header's hash and height. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/evidence.h"
#include "ledger/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHAIN "esg-fuzz-1"

static void check_txs(const esg_pb_block *b) {
    if (b->n_txs > 4096)
        return;
    esg_hash *ids = calloc(b->n_txs ? b->n_txs : 1, sizeof *ids);
    if (!ids)
        abort();
    for (size_t i = 0; i < b->n_txs; i++) {
        esg_tx *tx;
        if (esg_tx_decode(&tx, b->txs[i].data, b->txs[i].len) != 0)
            continue;
        ids[i] = tx->id;
        esg_tx_free(tx);
    }
    esg_hash root = esg_merkle_root(ids, b->n_txs);
    esg_hash claimed;
    if (b->header && esg_pb_bytes32(&b->header->tx_root, &claimed) == 0)
        (void)esg_hash_eq(&root, &claimed);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static esg_pubkey pk;
    static bool init;
    if (!init) {
        esg_seckey sk;
        memset(sk.b, 0x44, sizeof sk.b);
        if (esg_key_pubkey(&pk, &sk) != 0)
            abort();
        init = true;
    }
    esg_pb_block_with_commit *bc = NULL;
    if (esg_pb_decode(&esg__block_with_commit__descriptor, data, size, size,
                      (ProtobufCMessage **)&bc) != 0)
        return 0;
    uint8_t *out;
    size_t len;
    if (esg_pb_encode(&bc->base, &out, &len) == 0) {
        if (len != size || memcmp(out, data, size) != 0)
            abort(); /* a decoded block must be canonical */
        free(out);
    }
    esg_pb_validator v = ESG_PB_VALIDATOR_INIT;
    esg_pb_validator *pv = &v;
    esg_pb_validator_set vs = ESG_PB_VALIDATOR_SET_INIT;
    v.pubkey = esg_pb_bin(pk.b, 32);
    v.power = 10;
    vs.validators = &pv;
    vs.n_validators = 1;
    const esg_pb_block *b = bc->block;
    esg_hash bh;
    if (b && b->header && esg_block_header_hash(b->header, &bh) == 0 && bc->commit) {
        char why[256];
        if (esg_commit_verify(bc->commit, &vs, CHAIN, b->header->height, &bh, why,
                              sizeof why) == 0) {
            esg_hash named;
            if (bc->commit->height != b->header->height ||
                esg_pb_bytes32(&bc->commit->block_hash, &named) != 0 || !esg_hash_eq(&named, &bh))
                abort();
        }
    }
    if (b) {
        check_txs(b);
        for (size_t i = 0; i < b->n_evidence; i++) {
            char why[256];
            (void)esg_evidence_verify(b->evidence[i], CHAIN, &vs, why, sizeof why);
        }
    }
    esg_pb_free(bc);
    return 0;
}
