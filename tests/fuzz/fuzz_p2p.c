/* Fuzz target: a transport frame's plaintext as a peer would send it.
 * Decoding a P2pMessage must never crash, leak or accept a non-canonical
 * encoding; evidence is checked against a validator set as a node checks
 * it (node/gossip.c, node/consensus_driver.c), and a block response's
 * headers are hashed as block sync does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esg.pb-c.h"
#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Esg__P2pMessage *m = NULL;
    if (esg_pb_decode(&esg__p2p_message__descriptor, data, size, size,
                      (ProtobufCMessage **)&m) != 0)
        return 0;
    uint8_t *out;
    size_t len;
    if (esg_pb_encode(&m->base, &out, &len) == 0) {
        if (len != size || memcmp(out, data, size) != 0)
            abort(); /* a decoded message must be canonical */
        free(out);
    }
    if (m->msg_case == ESG__P2P_MESSAGE__MSG_EVIDENCE) {
        /* A one-validator set whose key is the evidence's own (when it is
         * 32 bytes): the signatures, not the membership, are what fail. */
        esg_pb_validator v = ESG_PB_VALIDATOR_INIT;
        esg_pb_validator *pv = &v;
        esg_pb_validator_set vs = ESG_PB_VALIDATOR_SET_INIT;
        uint8_t key[32] = {0};
        if (m->evidence->vote_a && m->evidence->vote_a->validator.len == 32)
            memcpy(key, m->evidence->vote_a->validator.data, 32);
        v.pubkey = esg_pb_bin(key, 32);
        v.power = 10;
        vs.validators = &pv;
        vs.n_validators = 1;
        char why[256];
        (void)esg_evidence_verify(m->evidence, "esg-fuzz-1", &vs, why, sizeof why);
    }
    if (m->msg_case == ESG__P2P_MESSAGE__MSG_BLOCK_RESPONSE) {
        for (size_t i = 0; i < m->block_response->n_blocks; i++) {
            const Esg__BlockWithCommit *b = m->block_response->blocks[i];
            esg_hash h;
            if (b->block && b->block->header)
                (void)esg_block_header_hash(b->block->header, &h);
        }
    }
    esg_pb_free(m);
    return 0;
}
