/* The consensus driver: runs the Tendermint machine (node/consensus.h) of a
 * multi-validator network on the node's libuv loop, with the gossip
 * (node/gossip.h) as its network and the executor as its application.
 *
 *   get_value  -> esg_exec_build_block from the mempool (reap)
 *   valid      -> esg_exec_check_block (no clock: see timely)
 *   timely     -> node/blocktime.h's rule (precision: max_clock_drift_ms),
 *                 with this node's clock corrected by its offset estimate
 *   decide     -> a Commit (one CommitSig per precommit), esg_exec_apply_block,
 *                 esg_mempool_update, on_committed
 *   sign_*     -> esg_privval (DATADIR/priv_validator_state)
 *   timers     -> one uv_timer per request, never cancelled
 * Incoming proposals and votes are verified (signature against the
 * height's validator set, block hash against the bytes) before the machine
 * sees them. Catch-up gossip (node/consensus.h explains why it is needed):
 * the driver sends every peer a ConsensusState -- its height, round, step
 * and which proposals and votes of the height it holds -- on each change
 * and every second, and answers a peer's state with the proposals and
 * votes it holds that the peer lacks; a re-sent message whose bytes the
 * gossip saw is still taken when the machine lacks it. Block sync: when a
 * peer's Hello height is ahead by more than one (or ahead for a while),
 * blocks are requested from it, applied with esg_exec_apply_block (which
 * verifies each commit against the set in force), then consensus restarts
 * at the new height.
 *
 *
 * Empty blocks: a height does not start while the network is
 * idle. When a height is decided the machine asks for its COMMIT timer;
 * when it fires (or at start-up, before round 0 of the first height) the
 * driver holds the next height back while the mempool is empty. It lets
 * the height start as soon as (a) a transaction is in the mempool (on
 * esg_driver_txs_admitted, which the node calls after every admission,
 * through the API or by gossip -- and polled every 50 ms as a fallback;
 * transactions are gossiped, so every validator sees them),
 * (b) a verified proposal or vote of that height arrives (or arrived,
 * during the commit pause) from another validator (it has started: follow
 * it, so nobody times out rounds alone),
 * or (c) heartbeat_ms (> 0) passed since the hold began -- then the
 * proposer builds an empty block. With heartbeat_ms 0 an idle network
 * makes no blocks and no round timeouts: every validator waits at the
 * start of the same height, and since (a) and (b) reach every validator,
 * one transaction anywhere starts the height everywhere. Safety is
 * untouched: the machine only sees its start, or its COMMIT timer, later.
 *
 * Thread rules: loop thread only, except esg_driver_sync_info.
 */
#ifndef ESG_NODE_CONSENSUS_DRIVER_H
#define ESG_NODE_CONSENSUS_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "ledger/codec.h"
#include "ledger/contract.h"
#include "ledger/keys.h"
#include "ledger/store.h"
#include "node/consensus.h"
#include "node/log.h"
#include "node/p2p.h"
#include "node/mempool.h"

typedef struct esg_driver esg_driver;

typedef struct esg_driver_config {
    uv_loop_t *loop;            /* borrowed */
    esg_store *store;           /* borrowed */
    const esg_contract_table *ct;
    esg_mempool *mp;            /* borrowed */
    const esg_logger *log;      /* borrowed */
    const char *datadir;        /* priv_validator_state lives here */
    const esg_seckey *key;      /* copied */
    const char *p2p_addr;       /* listen address */
    const char *const *peers;
    size_t n_peers;
    /* Non-validator keys allowed to connect (copied); validators of the
     * chain always may (see esg_driver_new). */
    const esg_pubkey *observers;
    size_t n_observers;
    uint64_t max_clock_drift_ms; /* the precision of node/blocktime.h */
    uint64_t heartbeat_ms;      /* idle gate: 0 = no empty blocks (see above) */
    esg_cons_config cons;
    /* Called on the loop after each stored block (decided or synced). */
    void (*on_committed)(void *ctx, uint64_t height, size_t n_txs, uint64_t apply_us);
    void *ctx;
} esg_driver_config;

/* Creates the driver, its signer and its gossip/transport (nothing runs
 * yet). Returns 0 or an error with the reason in err. */
int esg_driver_new(esg_driver **out, const esg_driver_config *cfg, char *err, size_t errlen);

/* Starts the transport and consensus at the height after the stored tip. */
int esg_driver_start(esg_driver *d, char *err, size_t errlen);

/* The port the transport listens on (0 before start or when not
 * listening): with p2p_addr "127.0.0.1:0" the kernel picks a free one. */
uint16_t esg_driver_p2p_port(esg_driver *d);

/* Adds a peer ("host:port") to dial and keep dialing. Returns 0 or
 * ESG_ERR_INVALID_ARGUMENT / ESG_ERR_NOMEM (esg_p2p_add_peer). */
int esg_driver_add_peer(esg_driver *d, const char *hostport);

/* Transactions were admitted (through the API or by gossip): announce
 * the new ones to peers and start a held height. Loop thread. */
void esg_driver_txs_admitted(esg_driver *d);

/* Thread-safe: peers, whether syncing, and blocks behind the best peer. */
void esg_driver_sync_info(esg_driver *d, size_t *peers, bool *syncing, uint64_t *behind);

/* Consensus and network counters, for /metrics. */
#define ESG_DRIVER_N_PHASES 5u /* propose, prevote, precommit, commit, idle */
typedef struct esg_driver_metrics {
    uint64_t height;          /* the height being decided (the one just
                               * decided during its commit pause) */
    uint32_t round;
    uint32_t step;            /* an esg_cons_step, or 4: idle (the gate holds) */
    uint64_t heights_decided; /* heights this node decided by consensus */
    uint64_t rounds_total;    /* rounds they took (round + 1 each) */
    uint64_t phase_us[ESG_DRIVER_N_PHASES]; /* time spent in each step */
    uint64_t p2p_bytes_in, p2p_bytes_out;   /* updated every second */
    esg_p2p_stats p2p;        /* the transport's counters, updated every second */
    uint64_t evidence_total;  /* equivocations seen */
    int64_t clock_offset_ms;  /* added to this node's clock (blocktime.h) */
} esg_driver_metrics;

/* Thread-safe: a snapshot of the counters above. */
void esg_driver_metrics_get(esg_driver *d, esg_driver_metrics *out);

/* Stops timers and the transport; frees everything once the loop has
 * closed the handles (run the loop after this call). */
void esg_driver_close(esg_driver *d);

/* Internal (the driver's write-ahead log, exposed for tests/fuzz): reads
 * the next record of the log open at `f` -- a 4-byte big-endian length,
 * 1..16 MiB, then that many bytes of a P2pMessage. Returns 1 with *out the
 * decoded message (freed by the caller with esg_pb_free), or NULL when the
 * bytes do not decode (the record is skipped); or 0, *out NULL, at the end
 * of the log: end of file, a zero or over-long length, a torn record. */
int esg_driver__wal_read(FILE *f, esg_pb_p2p_message **out);

#endif
