/* The mempool: transactions admitted and waiting for a block.
 *
 * Admission (esg_mempool_add) decodes the transaction canonically, rejects
 * duplicates (pending or already committed), verifies every signature --
 * on the calling thread, so the HTTP server's thread pool spreads
 * verification over all cores -- and checks the transaction against the
 * committed state as if the signer's earlier pending transactions had been
 * applied (its nonce must be the next after those). An admitted
 * transaction is marked verified and is not verified again in a block.
 *
 * Order: admission order, which is nonce order per signer. Bounds: at most
 * max_txs transactions and max_bytes bytes (ESG_ERR_MEMPOOL_FULL past them).
 *
 * After each block the producer reports the outcome of every candidate
 * (esg_mempool_update): included and dropped transactions leave the pool;
 * the pending transactions of the signers the block touched are re-checked
 * against the new state (the next block drops, with its reason, any other
 * that can no longer apply). Outcomes of dropped
 * transactions are remembered (a bounded ring) so a client waiting for
 * commit learns why its transaction was dropped.
 *
 * Thread rules: add, wait, shutdown and stats may be called from any thread.
 * reap and update are called only by the block producer, one at a time;
 * entries returned by reap stay valid until the next update.
 */
#ifndef ESG_NODE_MEMPOOL_H
#define ESG_NODE_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/contract.h"
#include "ledger/executor.h"
#include "ledger/store.h"

typedef struct esg_mempool esg_mempool;

typedef struct esg_mempool_limits {
    size_t max_txs;   /* default 20000 */
    size_t max_bytes; /* default 64 MiB */
} esg_mempool_limits;

/* Creates a mempool over `store` (borrowed; must outlive it). `notify`, if
 * not NULL, is called (from the admitting thread) after each admission so
 * the producer can wake up. */
int esg_mempool_new(esg_mempool **out, esg_store *store, const esg_contract_table *ct,
                    const esg_mempool_limits *limits, void (*notify)(void *),
                    void *notify_arg);
void esg_mempool_free(esg_mempool *mp);

/* Admits a serialized Tx. Returns 0 and the id, or an error code with a
 * message (msg may be NULL); ESG_ERR_STORAGE_FULL while the store cannot
 * write (esg_store_health_get), whatever the transaction. Never keeps a
 * reference to `raw`. */
int esg_mempool_add(esg_mempool *mp, const uint8_t *raw, size_t len, esg_hash *id,
                    char *msg, size_t msglen);

/* esg_mempool_add for a transaction already decoded (esg_tx_decode), so
 * a caller that needed its signer first decodes it once. Takes ownership
 * of `tx` (kept or freed, whatever the outcome). Any thread. */
int esg_mempool_add_tx(esg_mempool *mp, esg_tx *tx, esg_hash *id, char *msg, size_t msglen);

/* Copies up to `max` pending entries, in order, into items (tx, verified
 * flag). Returns the count. Producer thread only. */
size_t esg_mempool_reap(esg_mempool *mp, esg_exec_item *items, size_t max);

/* Like reap, but only entries admitted since the last call (the oldest
 * first, up to `max`; the rest come with the next call): what a node has
 * not yet told its peers about. Producer thread only; the entries stay
 * valid until the next update. */
size_t esg_mempool_take_fresh(esg_mempool *mp, esg_exec_item *items, size_t max);

/* Reports the outcome of the items last reaped (items[i].result: 0 included
 * at `height`, ESG_ERR_MEMPOOL_FULL "try again in a later block", other
 * errors: dropped), removes included and dropped entries, re-checks the
 * pending transactions of the signers the block touched, and wakes
 * waiters. Producer thread only. */
void esg_mempool_update(esg_mempool *mp, const esg_exec_item *items, size_t n,
                        uint64_t height);

/* Whether a serialized Tx of a received block is one this pool admitted
 * -- the same bytes, so the same signatures, which admission verified --
 * and needs no second verification. Any thread. */
bool esg_mempool_verified(esg_mempool *mp, const esg_hash *id, const uint8_t *raw, size_t len);

/* Waits until `id` is committed (returns 0 and its height) or dropped
 * (returns the drop error and message), or timeout_ms passes
 * (ESG_ERR_TIMEOUT). Safe from any thread. */
int esg_mempool_wait(esg_mempool *mp, const esg_hash *id, uint64_t timeout_ms,
                     uint64_t *height, char *msg, size_t msglen);

/* Wakes every waiter so it can notice shutdown; later waits return
 * ESG_ERR_TIMEOUT at once. */
void esg_mempool_shutdown(esg_mempool *mp);

typedef struct esg_mempool_stats {
    size_t txs, bytes;
    uint64_t admitted, rejected, dropped, committed;
} esg_mempool_stats;
void esg_mempool_stats_get(esg_mempool *mp, esg_mempool_stats *out);

#endif
