/* The block executor: turns genesis into the initial state, builds and
 * applies blocks, and checks single transactions -- calling the domain only
 * through the contract table (ledger/contract.h).
 *
 * Two ways a block comes to be:
 * - One validator (the single-node default): esg_exec_produce builds the
 *   next block, has it committed by a callback and stores it, in one go.
 * - Several validators (Tendermint, node/consensus.h): the proposer builds
 *   a block with esg_exec_build_block (its get_value), every validator
 *   checks the proposal with esg_exec_check_block before it prevotes (its
 *   valid), and once > 2/3 precommitted, each node stores the decided block
 *   with the commit through esg_exec_apply_block (its decide) -- the same
 *   call that stores a block fetched by sync or replay.
 * Building and producing run the same code on the same items, and checking
 * runs the same code as applying, so a proposal every validator accepts is
 * one that every replica will store.
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
 * node's loop). So do esg_exec_build_block() and esg_exec_check_block(),
 * which write nothing but run in a write transaction they abort (the state
 * root is computed by writing the tree); like every writer, never call them
 * from a thread holding a read transaction of the store.
 * esg_tx_verify_sigs() and esg_exec_check_tx() are thread-safe: a check
 * reads through a read transaction with a scratch view and never waits for
 * the writer.
 */
#ifndef ESG_EXECUTOR_H
#define ESG_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/contract.h"
#include "ledger/error.h"
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

/* One candidate evidence of equivocation for a block (ledger/evidence.h),
 * with its outcome. */
typedef struct esg_exec_evidence {
    const uint8_t *data;   /* a serialized Evidence; borrowed */
    size_t len;
    int result;            /* out: 0 included, else why it was left out */
    char msg[ESG_ERRMSG_MAX];
} esg_exec_evidence;

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
 * is written on error.
 *
 * This is also how a validator of a multi-validator network stores the
 * block consensus decided (there is no separate commit function): the
 * block's bytes as proposed and a Commit assembled from the > 2/3
 * precommits. The time is not held to the local clock here -- a decided
 * block is final -- only in esg_exec_check_block. A node that checked these
 * very bytes with esg_exec_check_block may pass every sigs_verified[i]
 * true: the block hash does not cover the signatures, so compare the bytes,
 * not the hash. */
int esg_exec_apply_block(esg_store *store, const esg_contract_table *contracts,
                         const uint8_t *block, size_t block_len,
                         const uint8_t *commit, size_t commit_len,
                         const bool *sigs_verified, char *errbuf, size_t errlen);

/* What a proposer does (node/consensus.h get_value): builds the next block
 * exactly as esg_exec_produce would -- the items applied in order on top of
 * the stored tip, failures dropped with their reasons in items[i].result and
 * .msg, the same max_block_txs / max_block_bytes limits, time max(time_ms,
 * previous block time + 1) -- with `proposer` in the header, and returns it
 * WITHOUT storing anything: the write transaction is aborted, the tip and
 * the state are unchanged.
 *
 * Evidence ev[0..n_ev) goes into the block first, in order, each recorded
 * in the state as the block applies it (ledger/evidence.h); one that is
 * malformed, does not verify or is already recorded is left out with its
 * reason in ev[i].result and .msg, and so is any past
 * ESG_MAX_BLOCK_EVIDENCE (ESG_ERR_MEMPOOL_FULL, "not included: block
 * full"). A block with evidence is made even when no transaction is
 * includable and !allow_empty: the evidence is its content.
 *
 * On success *block is a malloc'd serialized Block of *block_len bytes
 * (the caller frees it), *block_hash its hash, and out describes it
 * (made, height, block_hash, app_hash, n_included). With no includable item
 * and !allow_empty, out->made is false, *block NULL and *block_len 0.
 * The proposer is not checked against the validator set (the caller knows
 * whose turn it is; esg_exec_check_block rejects a stranger).
 *
 * Returns 0, or a store error (ESG_ERR_STORE, ESG_ERR_STORE_CORRUPT,
 * ESG_ERR_MAP_FULL, ESG_ERR_NOT_INITIALIZED, ESG_ERR_NOMEM): then *block is
 * NULL and out->made false. */
int esg_exec_build_block(esg_store *store, const esg_contract_table *contracts,
                         esg_exec_item *items, size_t n, esg_exec_evidence *ev, size_t n_ev,
                         uint64_t time_ms, const esg_pubkey *proposer, bool allow_empty,
                         uint8_t **block, size_t *block_len, esg_hash *block_hash,
                         esg_produced *out);

/* What a validator does before it prevotes a proposal (node/consensus.h
 * valid): every check of esg_exec_apply_block except the commit, which does
 * not exist yet -- the block decodes canonically within the size limits,
 * is for this chain, has the height after the stored tip and links to it,
 * its time is after the tip's and at most max_drift_ms ahead of now_ms
 * (this node's clock: docs/RELIABILITY.md, "Block time"), its proposer is
 * in the validator set in force at that height, validators_hash matches
 * that set, every evidence verifies and is new (ledger/evidence.h) and
 * evidence_hash matches it, every
 * transaction applies (signatures verified unless sigs_verified[i]; the
 * array, if not NULL, has one entry per transaction), and tx_root and
 * app_hash match. Whether the proposer is the one whose turn it is is
 * consensus's business, not the block's: a block proposed again in a later
 * round keeps its first proposer.
 *
 * Writes nothing whatever the outcome (the write transaction is always
 * aborted). Returns 0 when the block is valid, ESG_ERR_BAD_BLOCK or
 * ESG_ERR_APP_HASH with the reason in errbuf (errlen > 0; "" on success),
 * or a store error. */
int esg_exec_check_block(esg_store *store, const esg_contract_table *contracts,
                         const uint8_t *block, size_t block_len,
                         const bool *sigs_verified, uint64_t now_ms, uint64_t max_drift_ms,
                         char *errbuf, size_t errlen);

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
