/* Replay: rebuild a chain's state from genesis, trusting nothing but the
 * genesis file. Used by `esgnode verify-chain` (blocks from the local store)
 * and by the wallet's audit (blocks from any node over HTTP).
 *
 * Every block is checked as a node checks a block it did not make
 * (esg_exec_apply_block: links, time, validator set, commit signatures,
 * every transaction's signatures and rules, tx_root, app_hash), into a
 * fresh store in `workdir`. Signatures of a batch of blocks are verified in
 * parallel on `threads` threads before the blocks are applied in order.
 *
 * The first bad block stops the replay: its height and the reason are
 * reported, and nothing after it is trusted.
 */
#ifndef ESG_REPLAY_H
#define ESG_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/contract.h"
#include "ledger/genesis.h"
#include "ledger/store.h"

/* Supplies block `height` and its commit as malloc'd buffers the replay
 * frees. Returns 0, ESG_ERR_NOT_FOUND past the last block, or an error. */
typedef int (*esg_block_source)(void *arg, uint64_t height, uint8_t **block,
                                size_t *block_len, uint8_t **commit, size_t *commit_len);

typedef struct esg_replay_result {
    uint64_t height;     /* last block replayed successfully */
    uint64_t n_txs;      /* transactions replayed */
    uint64_t bad_height; /* first bad block, 0 if none */
    esg_hash block_hash; /* of `height` */
    esg_hash app_hash;   /* state root after `height` */
    double seconds;      /* wall time of the replay */
} esg_replay_result;

/* Replays blocks 1, 2, ... from `src` until it reports ESG_ERR_NOT_FOUND or
 * `max_height` (0 = no limit) is reached. `workdir` must be an empty or
 * missing directory; the replayed store is left there (the caller removes
 * it, or keeps it for queries). The store is returned in *store_out if not
 * NULL (caller closes), else closed.
 * Returns 0, or the first error (ESG_ERR_BAD_BLOCK, ESG_ERR_BAD_COMMIT,
 * ESG_ERR_APP_HASH, ESG_ERR_BAD_SIGNATURE, a source error) with res->bad_height
 * and a one-line reason in err. */
int esg_replay(const esg_genesis *g, const esg_contract_table *ct, const char *workdir,
               esg_block_source src, void *src_arg, uint64_t max_height,
               unsigned threads, esg_replay_result *res, esg_store **store_out,
               char *err, size_t errlen);

/* Called after each block is applied, with the height reached and the
 * transactions replayed so far (e.g. to draw ledger/progress.h's line).
 * Runs on the replaying thread; must be quick. */
typedef void (*esg_replay_progress)(void *arg, uint64_t height, uint64_t n_txs);

/* esg_replay, telling `progress` (NULL: nobody) how far it got. */
int esg_replay_ex(const esg_genesis *g, const esg_contract_table *ct, const char *workdir,
                  esg_block_source src, void *src_arg, uint64_t max_height,
                  unsigned threads, esg_replay_progress progress, void *progress_arg,
                  esg_replay_result *res, esg_store **store_out, char *err, size_t errlen);

#endif
