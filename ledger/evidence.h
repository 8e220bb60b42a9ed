/* Evidence of equivocation (docs/P2P.md §5): two signed votes of one
 * validator with the same type, height and round for different values.
 *
 * Consensus notices an equivocation (node/consensus.h, evidence callback);
 * the node encodes it with esg_evidence_encode, gossips it, and a proposer
 * puts it in a block (Block.evidence, committed to by the header's
 * evidence_hash). Every replica checks it as it applies the block and
 * records it in the state (ESG_T_EVIDENCE), one record per offence
 * (validator, height, round, type), so the record is provable like any
 * other and an offence is recorded once whichever pair of votes proves it.
 *
 * Form of an Evidence (proto/esg.proto): vote_a and vote_b present, both
 * PREVOTE or both PRECOMMIT, same height (>= 1), round and validator (32
 * bytes), block hashes empty (nil) or 32 bytes not all zero, vote_a's hash
 * bytewise smaller than vote_b's (nil first) -- so one pair has one
 * encoding and one id -- and both signatures valid BIP340 signatures of the
 * validator over esg_vote_hash(chain_id, ...).
 *
 * Recording is not punishment: the ledger keeps the proof, the consortium
 * decides (a RemoveValidator proposal). Thread rules: pure functions are
 * thread-safe; the state functions follow ledger/state.h.
 */
#ifndef ESG_EVIDENCE_H
#define ESG_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/hash.h"
#include "ledger/keys.h"
#include "ledger/state.h"
#include "ledger/store.h"

/* At most this many evidences in one block. */
#define ESG_MAX_BLOCK_EVIDENCE 32
/* Bytes of an ESG_T_EVIDENCE key: validator ‖ height BE64 ‖ round BE32 ‖ type. */
#define ESG_EVIDENCE_KEY_LEN 45

/* One vote of an equivocation, as consensus saw it. block NULL: nil. */
typedef struct esg_evidence_vote {
    const esg_hash *block;
    esg_sig sig;
} esg_evidence_vote;

/* The id of a serialized Evidence: H("esg/evidence", bytes). */
esg_hash esg_evidence_id(const uint8_t *bytes, size_t len);

/* Encodes the canonical Evidence of `validator` voting `type` (1 prevote,
 * 2 precommit) at height/round for both a and b (in either order; they are
 * put in canonical order). Returns 0 and a malloc'd encoding (caller
 * frees), ESG_ERR_BAD_EVIDENCE if a and b vote for the same value, or
 * ESG_ERR_NOMEM. Signatures are not checked here. */
int esg_evidence_encode(int type, uint64_t height, uint32_t round, const esg_pubkey *validator,
                        const esg_evidence_vote *a, const esg_evidence_vote *b,
                        uint8_t **out, size_t *out_len);

/* Checks the form of `ev` (header comment) and both signatures against the
 * validator set `vs` in force at its height, for chain_id. Returns 0, or
 * ESG_ERR_BAD_EVIDENCE with the reason in why (whylen > 0). Pure. */
int esg_evidence_verify(const esg_pb_evidence *ev, const char *chain_id,
                        const esg_pb_validator_set *vs, char *why, size_t whylen);

/* The state key of the offence `ev` proves (its form must be checked). */
void esg_evidence_key(const esg_pb_evidence *ev, uint8_t out[ESG_EVIDENCE_KEY_LEN]);

/* Whether `ev` may be recorded by a block at `block_height` on top of the
 * state `st` (read through `st`'s transaction): its height is 1..
 * block_height, it verifies against the set in force at its height
 * (esg_exec_valset_at) and its offence is not recorded yet. Returns 0,
 * ESG_ERR_BAD_EVIDENCE or ESG_ERR_EVIDENCE_RECORDED (reason in why), or a
 * store error. Writes nothing. */
int esg_evidence_check(esg_state *st, esg_store *store, const char *chain_id,
                       uint64_t block_height, const esg_pb_evidence *ev, char *why,
                       size_t whylen);

/* esg_evidence_check, then writes the EvidenceRecord (write views only). */
int esg_evidence_record(esg_state *st, esg_store *store, const char *chain_id,
                        uint64_t block_height, const esg_pb_evidence *ev, char *why,
                        size_t whylen);

/* The header's evidence_hash for the ids[0..n) of a block's evidence, in
 * block order: false when n == 0 (the field stays empty), else true and
 * their Merkle root (ledger/merkle.h, as tx_root) in *out. */
bool esg_evidence_root(const esg_hash *ids, size_t n, esg_hash *out);

#endif
