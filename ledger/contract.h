/* The contract interface: how the block executor calls the domain rules.
 *
 * ledger/ knows nothing of governance or bonds. It decodes a transaction,
 * checks what every transaction must satisfy (chain id, a live signer
 * account of an active member, the signer's next nonce, signatures), bumps
 * the signer's nonce, and then calls the contract registered for the
 * action's kind with an esg_tx_ctx. The contract validates the action
 * against state and writes its effects through ctx->st. If it returns an
 * error, the executor rolls back every write of the transaction (nonce
 * included): a rejected transaction changes nothing.
 *
 * Contracts are pure: no I/O, no clock but ctx->time_ms (the block time), no
 * randomness, no floats, and nothing they allocate outlives the call.
 *
 * Co-signatures: the signer's signature is always required. Any other
 * signature on the transaction must be claimed by the contract through
 * esg_tx_ctx_claim_sig() (e.g. "an OFFICER of every co-issuer"); an
 * unclaimed signature makes the transaction invalid
 * (ESG_ERR_UNEXPECTED_SIGNATURE), so a transaction's signature set means
 * exactly what the action needs.
 */
#ifndef ESG_CONTRACT_H
#define ESG_CONTRACT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/hash.h"
#include "ledger/state.h"

#define ESG_ACTION_SLOTS 64 /* action oneof field numbers are < 64 */
#define ESG_ERRMSG_MAX 256

/* Per-block context shared by the transactions of one block. */
typedef struct esg_block_ctx {
    esg_state *st;
    const char *chain_id;
    uint64_t height;
    uint64_t time_ms;
    bool valset_changed; /* set by a contract that changed ESG_T_VALIDATORS */
    char msg[ESG_ERRMSG_MAX];
} esg_block_ctx;

/* Per-transaction context. All pointers are owned by the executor and valid
 * for the duration of the contract call. */
typedef struct esg_tx_ctx {
    esg_block_ctx *block;
    esg_state *st;             /* == block->st */
    const esg_tx *tx;
    const esg_pb_tx_body *body; /* == tx->body */
    const esg_pb_account *signer; /* the signer's account, nonce already bumped */
    esg_pubkey signer_pk;
    uint64_t height, time_ms;
    bool sig_claimed[ESG_TX_MAX_SIGS];
    char msg[ESG_ERRMSG_MAX]; /* the contract's message for a rejection */
} esg_tx_ctx;

typedef int (*esg_contract_fn)(esg_tx_ctx *ctx);

typedef struct esg_contract_table {
    /* apply[action case] handles that action; NULL means "unsupported"
     * (ESG_ERR_NO_ACTION). */
    esg_contract_fn apply[ESG_ACTION_SLOTS];
    /* Called once after the block's transactions (e.g. proposal expiry).
     * May be NULL. An error makes the block invalid. */
    int (*end_block)(esg_block_ctx *ctx);
} esg_contract_table;

/* Records a rejection message (printf format) in ctx->msg and returns err,
 * so a contract can write `return esg_tx_fail(ctx, ESG_ERR_X, "...", ...)`.
 * Messages: lower case, no trailing period, quote the subject. */
int esg_tx_fail(esg_tx_ctx *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Finds the signature of `pk` on the transaction, marks it claimed and
 * returns true; false when `pk` did not sign. */
bool esg_tx_ctx_claim_sig(esg_tx_ctx *ctx, const esg_pubkey *pk);

#endif
