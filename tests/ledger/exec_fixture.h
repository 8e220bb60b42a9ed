/* Node helpers shared by the executor and propose suites.
 *
 * Both suites run real LMDB stores (one per node, in a fresh temporary
 * directory) through ledger/executor.h with a contract table of their
 * own; this module holds what does not depend on that table or on the
 * suite's cast of keys: key pairs, genesis through its file format,
 * commits signed by hand, node stores and readers of their committed
 * state, Transfer bodies signed into transactions, and block variants
 * re-encoded from their parts.
 *
 * Every function asserts (check's ck_assert) on setup or storage failure,
 * so tests read straight. One node per directory; check forks each test.
 */
#ifndef ESG_TEST_EXEC_FIXTURE_H
#define ESG_TEST_EXEC_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/store.h"

/* A key pair; the test wipes sk (esg_seckey_wipe) when done. */
typedef struct kp {
    esg_seckey sk;
    esg_pubkey pk;
} kp;

kp ef_key_new(void);

/* Validates `g` (asserting, with its message), frees it and parses its
 * JSON into *out, so the genesis has its real hash. The caller frees
 * *out with esg_genesis_free(). */
void ef_genesis_reload(esg_genesis *g, esg_genesis **out);

/* Encodes into *out (caller frees) a Commit of `bh` at (height, round) on
 * `chain`: PRECOMMIT signatures of keys[0..n), n <= 4, assembled by hand
 * as the consensus driver does from the votes it got. Returns 0 or the
 * signing or encoding error. */
int ef_encode_commit(const kp *const *keys, size_t n, const char *chain, uint64_t height,
                     uint32_t round, const esg_hash *bh, uint8_t **out, size_t *len);

/* ------------------------------------------------------------- nodes */

/* A node: its store in its own temporary directory. */
typedef struct node {
    char dir[256];
    esg_store *store;
} node;

/* Opens a fresh store for `n` and applies genesis `g` to it. */
void ef_node_open(node *n, const esg_genesis *g);
/* Closes the store and removes its directory. */
void ef_node_close(node *n);

esg_store_meta ef_meta_of(node *n);
/* Every field of the two metas equal. */
bool ef_meta_eq(const esg_store_meta *x, const esg_store_meta *y);
/* The root of the state tree as stored (not meta's copy of it). */
esg_hash ef_state_root_of(node *n);
/* The nonce of account `pk`, UINT64_MAX when there is no such account. */
uint64_t ef_nonce_of(node *n, const esg_pubkey *pk);
/* True when T/key exists in the committed state. */
bool ef_has_row(node *n, esg_table t, const void *k, size_t klen);
bool ef_block_exists(node *n, uint64_t h);

/* ------------------------------------------------------- transactions */

/* Makes *b a Transfer of `units` of `instr` to "inv-b", through *t (both
 * must outlive the use of *b). */
void ef_transfer_body(esg_pb_transfer *t, esg_pb_tx_body *b, const char *instr,
                      uint64_t units);
/* Sets b's chain, signer and nonce and returns the serialized Tx (caller
 * frees), signed by sigs[0..n_sigs) or, with n_sigs 0, by the signer
 * alone (n_sigs <= 4). The copies of the secret keys are wiped. */
uint8_t *ef_sign_raw(esg_pb_tx_body *b, const char *chain, const kp *signer, uint64_t nonce,
                     const kp *const *sigs, size_t n_sigs, size_t *len);
/* Decodes `raw` (asserting) and frees it; the caller frees the Tx with
 * esg_tx_free(). */
esg_tx *ef_decode_raw(uint8_t *raw, size_t len);
/* Fills items[0..n) with txs[0..n), results preset to a value the
 * executor must overwrite. */
void ef_items_of(esg_exec_item *items, esg_tx *const *txs, size_t n);

/* ------------------------------------------------------ block variants */

#define EF_BSPEC_MAX_TXS 8

/* The parts of a block, to re-encode variants of it. */
typedef struct bspec {
    char chain[65];
    uint64_t height, time;
    esg_hash prev, tx_root, app, vals;
    esg_pubkey proposer;
    uint8_t *txs[EF_BSPEC_MAX_TXS];
    size_t tx_len[EF_BSPEC_MAX_TXS];
    size_t n_txs;
} bspec;

/* Decodes block `raw` into *s (asserting); free with ef_bspec_release. */
void ef_bspec_from(bspec *s, const uint8_t *raw, size_t len);
void ef_bspec_release(bspec *s);
/* Encodes *s into *out (caller frees); *bh gets the header's hash unless
 * bh is NULL. */
void ef_bspec_encode(const bspec *s, uint8_t **out, size_t *len, esg_hash *bh);
/* Offset of the first `needle` in hay[0..n) (asserted to be there). */
size_t ef_find_bytes(const uint8_t *hay, size_t n, const void *needle, size_t m);

#endif
