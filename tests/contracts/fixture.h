/* A test chain for the contract suites.
 *
 * An fx is a real chain: an LMDB store in a fresh temporary directory, a
 * genesis built in code (members with freshly generated admin keys, the
 * ICMA default KPI catalogue, one validator), and the real block executor
 * with the real contract table (esg_contracts()). fx_submit() signs a
 * transaction, puts it alone in a block through esg_exec_produce() -- a
 * single validator commits it -- and returns the transaction's result
 * code; a rejected transaction makes no block, so it changes nothing.
 *
 * Use:
 *     fx *f = fx_new();
 *     const fx_key *a = fx_add_member(f, "city-a", ESG_MEMBER_CITY, "A");
 *     f->g->params.proposal_ttl_blocks = 5;        (optional, before start)
 *     fx_start(f);
 *     esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;  b.action_case = ...;
 *     ck_assert_int_eq(fx_submit(f, &b, a), 0);    (f->msg on rejection)
 *     esg_pb_member *m = fx_member(f, "city-a");  ...  esg_pb_free(m);
 *     fx_free(f);
 *
 * Every function asserts (check's ck_assert) on setup or storage failure,
 * so tests read straight. Records returned by the readers are decoded
 * copies the test frees with esg_pb_free(); NULL means "absent". Keys are
 * wiped by fx_free(). One fx per test (check forks each test).
 */
#ifndef ESG_TEST_FIXTURE_H
#define ESG_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/contract.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/state.h"
#include "ledger/store.h"

#define FX_CHAIN_ID "esg-test-1"
#define FX_GENESIS_TIME_MS UINT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define FX_MAX_MEMBERS 32

typedef struct fx_key {
    esg_seckey sk;
    esg_pubkey pk;
} fx_key;

typedef struct fx {
    char dir[256];
    esg_genesis *g;                 /* the genesis; edit before fx_start */
    esg_store *store;               /* open after fx_start */
    const esg_contract_table *ct;   /* esg_contracts() */
    fx_key validator;               /* the single validator (commits blocks) */
    struct {
        char id[48];
        fx_key admin;
    } members[FX_MAX_MEMBERS];
    size_t n_members;
    uint64_t time_ms;               /* time of the last block made */
    /* Outcome of the last fx_submit: */
    esg_hash last_id;               /* its tx id (a proposal's id) */
    char msg[ESG_ERRMSG_MAX];       /* its rejection message, "" when included */
} fx;

/* A new fixture with an empty genesis (chain FX_CHAIN_ID, default params,
 * the default KPI catalogue) and a fresh validator key. */
fx *fx_new(void);

/* Adds a genesis member with a fresh admin key (roles ADMIN, OFFICER) and
 * returns that key (owned by f). Before fx_start only. */
const fx_key *fx_add_member(fx *f, const char *id, int kind, const char *name);

/* The admin key fx_add_member made for `id` (asserts it exists). */
const fx_key *fx_admin(fx *f, const char *id);

/* Validates the genesis (adding the validator, operated by the first
 * member, unless a validator was added to f->g), creates the store and
 * writes the genesis state. */
void fx_start(fx *f);

/* Closes the store, removes the directory, wipes the keys, frees f. */
void fx_free(fx *f);

/* A fresh key pair. */
fx_key fx_key_new(void);

/* Signs `body` -- after setting its chain_id, its signer (keys[0]) and its
 * nonce (`nonce`, or the signer's next when 0) -- with the n keys in
 * order, and returns the decoded tx (caller frees with esg_tx_free). */
esg_tx *fx_sign(fx *f, esg_pb_tx_body *body, uint64_t nonce,
                const fx_key *const *keys, size_t n);

/* Builds one block from the n transactions in order with the real
 * executor, stores it (if any transaction applied) and writes each one's
 * result into results[i] (may be NULL). Returns how many were included. */
size_t fx_produce(fx *f, esg_tx *const *txs, size_t n, int *results);

/* fx_sign + fx_produce of that one transaction. Returns its result code
 * (0: included); the message is in f->msg and the tx id in f->last_id. */
int fx_submit_keys(fx *f, esg_pb_tx_body *body, uint64_t nonce,
                   const fx_key *const *keys, size_t n);

/* fx_submit(f, &body, signer[, co-signer...]): the signer's next nonce. */
#define fx_submit(f, body, ...)                                              \
    fx_submit_keys((f), (body), 0, (const fx_key *const[]){__VA_ARGS__},     \
                   sizeof((const fx_key *const[]){__VA_ARGS__}) / sizeof(const fx_key *))

/* The same with an explicit nonce. */
#define fx_submit_nonce(f, body, nonce, ...)                                 \
    fx_submit_keys((f), (body), (nonce), (const fx_key *const[]){__VA_ARGS__}, \
                   sizeof((const fx_key *const[]){__VA_ARGS__}) / sizeof(const fx_key *))

/* Makes an empty block (end-of-block rules run). */
void fx_empty_block(fx *f);

/* Replays the whole chain from the genesis into a fresh store, as an
 * auditor does (esg_replay: every commit, signature and rule checked
 * again), and asserts that it ends at the same height and app hash. The
 * blocks' commits are the single validator's, so its power must stay
 * above 2/3 of the set for the replay to accept them. */
void fx_replay_check(fx *f);

/* ------------------------------------------------------------- readers */

/* The committed chain head. */
uint64_t fx_height(fx *f);
esg_hash fx_app_hash(fx *f);

/* Decodes the record T/key as `desc`; NULL when absent. */
void *fx_get(fx *f, esg_table t, const void *key, size_t klen,
             const ProtobufCMessageDescriptor *desc);

/* True when the row T/key exists (any value). */
bool fx_has(fx *f, esg_table t, const void *key, size_t klen);

esg_pb_member *fx_member(fx *f, const char *id);
esg_pb_account *fx_account(fx *f, const esg_pubkey *pk);
esg_pb_proposal_record *fx_proposal(fx *f, const esg_hash *id);
esg_pb_params *fx_params(fx *f);

/* The account's nonce (0 when there is no account). */
uint64_t fx_nonce(fx *f, const esg_pubkey *pk);

/* The validator set in force at `height` (caller frees). */
esg_pb_validator_set *fx_valset_at(fx *f, uint64_t height);

#endif
