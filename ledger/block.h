/* Blocks, votes and commits.
 *
 *   block hash      = H("esg/block", serialized BlockHeader)
 *   vote sign hash  = H("esg/vote", serialized VoteSignDoc{chain_id, type,
 *                                    height, round, block_hash})
 *   validators_hash = Merkle root (ledger/merkle.h) over the leaves
 *                     SHA256(serialized ValidatorRecord), in pubkey order
 *
 * A Commit holds PRECOMMIT signatures for one block hash from validators
 * holding more than 2/3 of the voting power of the set in force at that
 * height. A block is final when it is stored with such a commit.
 *
 * Every function here is pure and thread-safe.
 */
#ifndef ESG_BLOCK_H
#define ESG_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/hash.h"
#include "ledger/keys.h"

#define ESG_MAX_VALIDATORS 256

/* Hash of a header (encodes it canonically). ESG_ERR_NOMEM on failure. */
int esg_block_header_hash(const esg_pb_block_header *h, esg_hash *out);

/* The hash a validator signs for a vote. block_hash NULL means a nil vote. */
esg_hash esg_vote_hash(const char *chain_id, int type, uint64_t height,
                       uint32_t round, const esg_hash *block_hash);

/* validators_hash of a set (sorted by pubkey, as stored). */
int esg_valset_hash(const esg_pb_validator_set *vs, esg_hash *out);

/* Sum of the powers of the set; ESG_ERR_OVERFLOW if it overflows. */
int esg_valset_total_power(const esg_pb_validator_set *vs, uint64_t *total);

/* Index of pk in the set, or -1. */
int esg_valset_find(const esg_pb_validator_set *vs, const esg_pubkey *pk);

/* Verifies that `commit` finalizes `block_hash` at `height` on `chain_id`
 * for the validator set `vs`: every signature is a valid PRECOMMIT of a
 * distinct member of the set, and their power exceeds 2/3 of the total.
 * Returns 0 or ESG_ERR_BAD_COMMIT with the reason in errbuf. */
int esg_commit_verify(const esg_pb_commit *commit, const esg_pb_validator_set *vs,
                      const char *chain_id, uint64_t height,
                      const esg_hash *block_hash, char *errbuf, size_t errlen);

/* Builds a Commit for `block_hash` signed by one validator (the single
 * validator network). The commit's fields point into `storage`, which the
 * caller keeps alive while the commit is used. */
typedef struct esg_commit_storage {
    esg_pb_commit commit;
    esg_pb_commit_sig sig;
    esg_pb_commit_sig *sigs[1];
    esg_hash block_hash;
    esg_pubkey validator;
    esg_sig signature;
} esg_commit_storage;
int esg_commit_sign_single(esg_commit_storage *storage, const esg_seckey *sk,
                           const char *chain_id, uint64_t height, uint32_t round,
                           const esg_hash *block_hash);

#endif
