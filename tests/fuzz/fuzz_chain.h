/* Shared by the fuzz targets that build a base chain with the real
 * executor at start-up (fuzz_exec, fuzz_light). Header-only, as
 * fuzz_util.h, so that every target stays one .c file. */
#ifndef ESG_TESTS_FUZZ_CHAIN_H
#define ESG_TESTS_FUZZ_CHAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/executor.h"

/* Produces and commits one block of txs[0..n) (n <= 32; n == 0 makes an
 * empty block) at time_ms, proposed by `proposer` and signed by `sign`.
 * Every transaction must apply: the base chain is the target's fixed
 * ground, so any refusal or a block not made aborts the process, naming
 * `who` and the refused transaction. Frees the transactions. */
static inline void fuzz_chain_block(esg_store *store, const esg_contract_table *ct, esg_tx **txs,
                                    size_t n, uint64_t time_ms, const esg_pubkey *proposer,
                                    esg_commit_fn sign, void *sign_arg, const char *who) {
    esg_exec_item items[32];
    if (n > sizeof items / sizeof items[0])
        abort();
    memset(items, 0, sizeof items);
    for (size_t i = 0; i < n; i++)
        items[i].tx = txs[i];
    esg_produced out;
    int rc = esg_exec_produce(store, ct, items, n, time_ms, proposer, n == 0, sign, sign_arg,
                              &out);
    for (size_t i = 0; i < n; i++)
        if (items[i].result) {
            fprintf(stderr, "%s setup: tx %zu: %s: %s\n", who, i, esg_err_name(items[i].result),
                    items[i].msg);
            abort();
        }
    if (rc || !out.made || out.n_included != n) {
        fprintf(stderr, "%s setup: block not made: %s\n", who, esg_err_name(rc));
        abort();
    }
    for (size_t i = 0; i < n; i++)
        esg_tx_free(txs[i]);
}

#endif
