/* Fuzz target: genesis files. Parsing must never crash or leak; a genesis
 * that parses writes back out as JSON that parses to the same hash-free
 * content. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/genesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    esg_genesis *g;
    char err[256];
    if (esg_genesis_parse(&g, data, size, err, sizeof err) != 0)
        return 0;
    char *json;
    size_t len;
    if (esg_genesis_to_json(g, &json, &len) == 0) {
        esg_genesis *again;
        if (esg_genesis_parse(&again, (const uint8_t *)json, len, err, sizeof err) != 0)
            abort(); /* what we write, we must read */
        esg_genesis_free(again);
        free(json);
    }
    esg_genesis_free(g);
    return 0;
}
