/* esgnode verify-chain: replays a datadir's chain from its genesis file
 * (ledger/replay.h) into a scratch store and compares the result with what
 * the datadir holds. */
#ifndef ESG_NODE_VERIFY_CHAIN_H
#define ESG_NODE_VERIFY_CHAIN_H

#include <stdio.h>

#include "ledger/replay.h"

/* Verifies the chain in `datadir`, printing what it replays and the
 * verdict to `out`, and a progress line (ledger/progress.h) on `progress`
 * unless it is NULL -- a terminal's stream, esg_progress_wanted. Returns 0 when every block from 1 to the stored tip replays and the
 * final app hash matches the stored one; otherwise an error code, with the
 * first bad height named on `out`. */
int esg_verify_chain(const char *datadir, unsigned threads, FILE *out, FILE *progress,
                     esg_replay_result *res);

#endif
