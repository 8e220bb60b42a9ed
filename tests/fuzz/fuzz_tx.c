/* Fuzz target: transaction bytes as a peer or client would send them.
 * Decoding must never crash, leak or accept a non-canonical encoding: a
 * transaction that decodes re-encodes to exactly its input, and renders
 * as JSON. */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/pbjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    esg_tx *tx;
    if (esg_tx_decode(&tx, data, size) != 0)
        return 0;
    uint8_t *out;
    size_t len;
    if (esg_pb_encode(&tx->env->base, &out, &len) == 0) {
        if (len != size || memcmp(out, data, size) != 0)
            abort(); /* a decoded tx must be canonical */
        free(out);
    }
    json_t *j = esg_pb_to_json(&tx->body->base);
    json_decref(j);
    esg_tx_free(tx);
    return 0;
}
