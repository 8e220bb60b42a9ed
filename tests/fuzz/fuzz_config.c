/* Fuzz target: the node's config file, esgnode.conf (node/config.c,
 * parsed by inih). The input is written to a file and loaded over the
 * defaults. Asserts: nothing crashes or leaks; a load that fails says why
 * in err; one that succeeds leaves every setting inside the range the
 * documentation gives (node/node.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "ledger/error.h"
#include "node/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[128];
    if (!path[0])
        snprintf(path, sizeof path, "%s/esgnode.conf", fuzz_dir());
    fuzz_write_file(path, data, size, 0600);

    esg_node_config cfg;
    esg_node_config_defaults(&cfg, "/nonexistent");
    char err[512] = "";
    int rc = esg_node_config_load(&cfg, path, false, err, sizeof err);
    if (rc != ESG_OK) {
        if (rc != ESG_ERR_INVALID_ARGUMENT || !err[0])
            abort();
    } else {
        const esg_cons_config *c = &cfg.cons;
        if (cfg.api_threads > 256 || cfg.mempool_max_txs == 0 ||
            cfg.mempool_max_bytes < 1024 || cfg.n_peers > ESG_NODE_MAX_PEERS ||
            cfg.n_observers > ESG_NODE_MAX_OBSERVERS || c->propose_ms == 0 ||
            c->prevote_ms == 0 || c->precommit_ms == 0 || c->commit_ms == 0 ||
            c->propose_ms > 3600000 || c->propose_delta_ms > 3600000 ||
            c->commit_ms > 3600000 || !memchr(cfg.api_token, 0, sizeof cfg.api_token))
            abort();
    }
    esg_node_config_release(&cfg);
    return 0;
}
