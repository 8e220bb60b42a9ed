/* The block executor: turns genesis into the initial state, builds and
 * applies blocks, and checks single transactions -- calling the domain only
 * through the contract table (ledger/contract.h).
 *
 * Invariants:
 * - Applying a block is one store write transaction: state writes, state
 *   root, block, commit, indexes and meta commit together or not at all.
 * - Every transaction in a stored block applied successfully. A block builder
 *   drops transactions that fail (reporting why); a received block holding a
 *   failing transaction is invalid as a whole.
 * - A transaction's signatures are verified once: callers that verified
 *   them (the mempool, on admission) say so and they are not verified again.
 *
 * Thread rules: the functions that write take the store's writer through
 * esg_store_write(); call them from one thread at a time per store (the
 * node's loop). esg_tx_verify_sigs() and esg_exec_check_tx() are
 * thread-safe: a check reads through a read transaction with a scratch view
 * and never waits for the writer.
 */
#ifndef ESG_EXECUTOR_H
#define ESG_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/contract.h"
#include "ledger/genesis.h"
#include "ledger/store.h"

/* Verifies every signature of tx over its id. Returns 0 or
 * ESG_ERR_BAD_SIGNATURE (writing which key in msg, if msg is not NULL). */
int esg_tx_verify_sigs(const esg_tx *tx, char *msg, size_t msglen);

/* Writes the initial state of `g` into a freshly created store: params,
 * members, accounts, validators (in force from height 1), KPIs,
 * accreditations; meta at height 0 with block_hash = app-independent genesis
 * hash. ESG_ERR_ALREADY_INITIALIZED if the store has meta. */
int esg_exec_genesis(esg_store *store, const esg_genesis *g);

/* One candidate transaction for a block, with its outcome. */
typedef struct esg_exec_item {
    esg_tx *tx;            /* borrowed */
    bool sigs_verified;    /* true: signatures were verified on admission */
    int result;            /* out: 0 included, else why it was dropped */
    char msg[ESG_ERRMSG_MAX];
} esg_exec_item;

/* Signs a commit for a block just built. Returns 0 and a malloc'd serialized
 * Commit in *commit and *len (the executor frees it), or an error that aborts the
 * block. */
typedef int (*esg_commit_fn)(void *arg, const char *chain_id, uint64_t height,
                             const esg_hash *block_hash, uint8_t **commit,
                             size_t *len);

typedef struct esg_produced {
    bool made;             /* false: no transaction could be included */
    uint64_t height;
    esg_hash block_hash;
    esg_hash app_hash;
    size_t n_included;
} esg_produced;

/* Builds the next block from `items` in order (dropping those that fail),
 * at time max(time_ms, previous block time + 1), has it committed by
 * `sign`, and stores it -- all in one write transaction. With no
 * includable item and !allow_empty, nothing is written and out->made is
 * false. Honours the max_block_txs and max_block_bytes params: items past
 * the limit get result ESG_ERR_MEMPOOL_FULL ("not included: block full")
 * and should be retried. */
int esg_exec_produce(esg_store *store, const esg_contract_table *contracts,
                     esg_exec_item *items, size_t n, uint64_t time_ms,
                     const esg_pubkey *proposer, bool allow_empty,
                     esg_commit_fn sign, void *sign_arg, esg_produced *out);

/* Validates and stores a block received from elsewhere (replay, sync):
 * header links to the stored tip, time increases, validators_hash and the
 * commit verify against the validator set in force at that height, every
 * transaction applies (signatures verified here unless sigs_verified[i]),
 * tx_root and app_hash match. Returns 0 or ESG_ERR_BAD_BLOCK /
 * ESG_ERR_BAD_COMMIT / ESG_ERR_APP_HASH with the reason in errbuf; nothing
 * is written on error. */
int esg_exec_apply_block(esg_store *store, const esg_contract_table *contracts,
                         const uint8_t *block, size_t block_len,
                         const uint8_t *commit, size_t commit_len,
                         const bool *sigs_verified, char *errbuf, size_t errlen);

/* Checks whether `tx` would apply on top of the current state if the
 * signer's nonce were expected_nonce - 1 (so the mempool can queue a
 * signer's consecutive transactions), then discards every write. Returns 0
 * or the error the block would give, with the message in msg. time_ms is
 * the block time to assume (clamped above the tip's). */
int esg_exec_check_tx(esg_store *store, const esg_contract_table *contracts,
                      const esg_tx *tx, uint64_t expected_nonce, bool sigs_verified,
                      uint64_t time_ms,
                      char *msg, size_t msglen);

/* The validator set in force at `height` (the newest entry at or below it).
 * *out is owned by the caller (esg_pb_free). */
int esg_exec_valset_at(MDB_txn *txn, esg_store *store, uint64_t height,
                       esg_pb_validator_set **out);

/* Reads the account record of pk (caller frees with esg_pb_free).
 * ESG_ERR_NOT_FOUND when there is none. */
int esg_exec_account_get(esg_state *st, const esg_pubkey *pk, esg_pb_account **out);

/* Adds (or, with add false, removes) the index row linking `member` to the
 * account pk (ESG_T_MEMBER_ACCOUNTS), so a member's accounts can be listed. */
int esg_exec_member_account_link(esg_state *st, const char *member,
                                 const esg_pubkey *pk, bool add);

#endif
