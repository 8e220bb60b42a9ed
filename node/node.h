/* esgnode: one node of an esgledger network.
 *
 * A node owns its datadir's store, its validator key, a mempool, the HTTP
 * API (node/api.h) and a libuv loop that produces blocks. With a single
 * validator (this node), a block is produced as soon as transactions are
 * waiting (and, if heartbeat_ms > 0, an empty one after that long without
 * a block), committed with this validator's signed precommit, and stored
 * in one write transaction.
 *
 * With more than one validator in the set of the next height, or peers or
 * observers configured, the node runs in multi-node mode instead (decided
 * at open):
 * the p2p transport listens on p2p_addr and dials `peers`, and the
 * consensus driver (node/consensus_driver.h) runs Tendermint with the other
 * validators, gossips transactions and blocks, and syncs blocks from peers
 * when behind; a height starts only once transactions wait or another
 * validator started it, or heartbeat_ms (> 0) after the last one (see
 * node/consensus_driver.h), so an idle network makes no empty blocks.
 *
 * Thread rules: esg_node_run() runs the loop on the calling thread. The
 * accessors below are safe from the API's threads.
 *
 * Datadir layout (made by esg_node_init):
 *   DIR/data.mdb, DIR/lock.mdb   the LMDB store
 *   DIR/genesis.json             the genesis file, byte for byte
 *   DIR/node_key.json            the node's key (mode 0600)
 *   DIR/esgnode.conf             config defaults (inih), edited by the operator
 */
#ifndef ESG_NODE_NODE_H
#define ESG_NODE_NODE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"
#include "ledger/store.h"
#include "node/consensus.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/p2p.h"

#define ESG_NODE_MAX_PEERS 64
#define ESG_NODE_MAX_OBSERVERS 64

typedef struct esg_node_config {
    char datadir[PATH_MAX];
    char api_addr[128];        /* "127.0.0.1:8600" */
    char p2p_addr[128];        /* "127.0.0.1:26600" (multi-node networks) */
    char *peers[ESG_NODE_MAX_PEERS];
    size_t n_peers;
    /* Node keys of non-validators (auditors' and investors' read nodes)
     * this node lets connect; validators of the chain always may. */
    esg_pubkey observers[ESG_NODE_MAX_OBSERVERS];
    size_t n_observers;
    esg_log_level log_level;
    uint64_t heartbeat_ms;     /* 0: no empty blocks */
    esg_cons_config cons;      /* round timeouts (multi-node mode) */
    uint64_t max_clock_drift_ms;
    size_t mempool_max_txs;
    size_t mempool_max_bytes;
    unsigned api_threads;      /* 0: one per core */
    unsigned api_max_conns_per_addr; /* [api] max_connections_per_address */
    uint64_t wait_timeout_ms;  /* POST /v1/txs?wait=commit */
    char api_token[128];       /* bearer token for remote readers; "" = none */
    bool api_explorer;         /* [api] explorer: serve the web explorer at / */
} esg_node_config;

/* Fills cfg with defaults for `datadir`. */
void esg_node_config_defaults(esg_node_config *cfg, const char *datadir);

/* Reads an inih file into cfg (keys: [api] listen, threads, wait_timeout_ms,
 * token, max_connections_per_address, explorer (true or false); [p2p] listen, peer (repeatable),
 * observer (repeatable, a node's 64-hex public key); [consensus] timeout_propose_ms,
 * timeout_propose_delta_ms, timeout_prevote_ms, timeout_prevote_delta_ms,
 * timeout_precommit_ms, timeout_precommit_delta_ms, timeout_commit_ms
 * (round r waits base + r * delta; commit is the pause after a decision,
 * 1..3600000 ms each, deltas 0..); [node] log_level, heartbeat_ms,
 * max_clock_drift_ms; [mempool] max_txs, max_bytes). A missing file is
 * not an error when `optional`. Returns 0 or ESG_ERR_INVALID_ARGUMENT with
 * "FILE:LINE: why" in err. */
int esg_node_config_load(esg_node_config *cfg, const char *path, bool optional,
                         char *err, size_t errlen);
void esg_node_config_release(esg_node_config *cfg);

/* Parses a node public key (64 hex characters, either case, a valid
 * x-only key). Returns 0 or ESG_ERR_INVALID_ARGUMENT. */
int esg_node_parse_pubkey(const char *hex, esg_pubkey *out);

/* esgnode init: creates the datadir, copies genesis and key (refusing a key
 * file readable by group or others), writes the initial state. */
int esg_node_init(const char *datadir, const char *genesis_path, const char *key_path,
                  char *err, size_t errlen);

typedef struct esg_node esg_node;

/* Opens an initialized datadir and starts the API. The logger is borrowed. */
int esg_node_open(esg_node **out, const esg_node_config *cfg, esg_logger *log,
                  char *err, size_t errlen);

/* Runs until SIGINT/SIGTERM or esg_node_stop(). Returns 0 or an error. */
int esg_node_run(esg_node *n);

/* Asks a running node to stop (thread-safe, async-signal-unsafe). */
void esg_node_stop(esg_node *n);

void esg_node_close(esg_node *n);

typedef struct esg_node_status {
    char chain_id[65];
    uint64_t height;
    esg_hash block_hash, app_hash, genesis_hash;
    uint64_t time_ms;          /* time of the latest block */
    esg_pubkey node_key;
    bool is_validator;
    size_t peers;
    bool syncing;
    uint64_t behind;           /* blocks behind the best known peer */
} esg_node_status;

typedef struct esg_node_metrics {
    uint64_t blocks_produced;
    uint64_t txs_committed;
    uint64_t block_apply_us_total; /* time spent producing blocks */
    uint64_t last_block_us;
    uint64_t started_ms;
    /* Multi-node mode only (zero otherwise); see esg_driver_metrics in
     * node/consensus_driver.h. */
    uint64_t cons_height, cons_round, cons_step; /* step 4: idle */
    uint64_t cons_heights_decided, cons_rounds_total;
    uint64_t cons_step_us[5]; /* propose, prevote, precommit, commit, idle */
    uint64_t p2p_bytes_in, p2p_bytes_out;
    esg_p2p_stats p2p; /* the transport's counters (node/p2p.h) */
    uint64_t evidence_total;
    int64_t clock_offset_ms; /* added to the local clock (node/blocktime.h) */
} esg_node_metrics;

/* Thread-safe accessors for the API. */
esg_store *esg_node_store(esg_node *n);
esg_mempool *esg_node_mempool(esg_node *n);
const esg_logger *esg_node_logger(esg_node *n);
const esg_node_config *esg_node_cfg(esg_node *n);
void esg_node_status_get(esg_node *n, esg_node_status *out);
void esg_node_metrics_get(esg_node *n, esg_node_metrics *out);

#endif
