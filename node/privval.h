/* The validator's signer: a secret key that never signs two conflicting
 * consensus messages, even across a crash (CometBFT's FilePV rule).
 *
 * Every proposal and vote a validator signs is for a (height, round, step),
 * with the steps ordered PROPOSE < PREVOTE < PRECOMMIT. The signer keeps,
 * in a state file, the last (height, round, step) it signed for, the hash
 * it signed there and the signature, and the consensus lock handed to it
 * with that request. A request is
 *   - refused (ESG_ERR_DOUBLE_SIGN) when its (height, round, step) is below
 *     the last one, or equal to it with a different sign hash (another
 *     block, nil instead of a block, another valid_round, another chain);
 *   - answered with the stored signature when it is the last request again,
 *     identical (BIP340 signing is randomized: signing again would give a
 *     second, different signature of the same message);
 *   - otherwise signed: the new state is written to PATH.tmp, fsync'ed,
 *     renamed over PATH, and the directory fsync'ed; only then does the
 *     signature leave the signer. The signature is computed before the
 *     write because it is part of the record (for the identical repeat),
 *     but no caller sees it until the record is durable.
 * So after a crash at any point the file holds the last signed message or
 * a later one, never an earlier one, and the rule above holds across
 * restarts: a validator that crashed and restarted does not equivocate.
 *
 * Sign documents. A vote signs esg_vote_hash() (ledger/block.h:
 * H("esg/vote", VoteSignDoc)), nil when the block hash is NULL or all
 * zero. A proposal signs esg_privval_proposal_hash() below:
 * H("esg/proposal", ProposalSignDoc{chain_id, height, round, valid_round,
 * block_hash}) (proto/esg.proto); peers verify proposals with the same
 * function.
 *
 * The state file (version 1) is 222 bytes, integers little-endian:
 *     0  8  magic "ESGPRVAL"         62 32  locked value (zero if none)
 *     8  4  version (1)              94 32  hash last signed
 *    12 32  validator public key    126 64  its signature
 *    44  8  height                  190 32  SHA-256 of bytes 0..189
 *    52  4  round
 *    56  1  step (0 none, 1 propose, 2 prevote, 3 precommit)
 *    57  1  zero
 *    58  4  locked round (int32, -1: not locked)
 * It is created with mode 0600. A file of another size, with a wrong magic,
 * version or checksum, or with fields out of range, is reported as corrupt
 * and left as it is: the signer never silently starts again from nothing
 * (an operator who knows the validator never signed at the heights ahead
 * may delete it). A leftover PATH.tmp is the trace of a write that a crash
 * interrupted before the rename: the signature it was for never left, so
 * it is ignored and replaced by the next write.
 *
 * Restarts: esg_privval_start_state() turns the record into the
 * esg_cons_start_state of node/consensus.h, so the state machine resumes
 * in the round it last signed in, with its lock.
 *
 * One process at a time: the signer does not lock the file; the node's
 * datadir lock must keep a second process away.
 *
 * Thread rules: a signer is used by one thread at a time. Distinct signers
 * are independent (for distinct files).
 */
#ifndef ESG_NODE_PRIVVAL_H
#define ESG_NODE_PRIVVAL_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"
#include "ledger/keys.h"
#include "node/consensus.h"

#define ESG_PRIVVAL_FILE "priv_validator_state" /* name in the datadir */
#define ESG_PRIVVAL_RECORD_LEN 222u

typedef struct esg_privval esg_privval;

typedef enum esg_privval_step {
    ESG_PRIVVAL_STEP_NONE = 0, /* nothing signed yet */
    ESG_PRIVVAL_STEP_PROPOSE = 1,
    ESG_PRIVVAL_STEP_PREVOTE = 2,
    ESG_PRIVVAL_STEP_PRECOMMIT = 3
} esg_privval_step;

/* What the state file holds (but the key). With step NONE every other
 * field is zero and locked_round is -1. */
typedef struct esg_privval_record {
    uint64_t height;
    uint32_t round;
    esg_privval_step step;
    int32_t locked_round; /* -1: not locked */
    esg_hash locked;      /* zero when not locked */
    esg_hash sign_hash;   /* what the last signature signed */
    esg_sig sig;
} esg_privval_record;

/* Opens the signer for `key` (copied; the copy is wiped by
 * esg_privval_close) with its state in the file `path` (normally
 * DATADIR/ESG_PRIVVAL_FILE). When `path` does not exist it is created,
 * durably, with an empty record: the validator has signed nothing. `errbuf`
 * (errlen bytes, may be NULL when errlen is 0) receives a message naming
 * the file on error. Returns 0 and a signer in *out (free with
 * esg_privval_close), or (*out NULL):
 *   ESG_ERR_BAD_SECRET        `key` is not a valid secret key
 *   ESG_ERR_IO                the file (or the directory) cannot be read,
 *                             written or synced, or is not a regular file,
 *                             or another signer holds it (a lock on
 *                             PATH.lock, held until esg_privval_close)
 *   ESG_ERR_STORE_CORRUPT     the file is truncated, too long, or fails
 *                             its magic, version, checksum or range checks
 *                             (the file is left untouched)
 *   ESG_ERR_INVALID_ARGUMENT  the file is another validator key's state
 *   ESG_ERR_NOMEM */
int esg_privval_open(esg_privval **out, const char *path, const esg_seckey *key, char *errbuf,
                     size_t errlen);

/* Wipes the key copy and frees the signer. NULL is a no-op. Nothing is
 * written: every signature's record is already on disk. */
void esg_privval_close(esg_privval *pv);

/* The public key of the signer's key. Valid until esg_privval_close. */
const esg_pubkey *esg_privval_pubkey(const esg_privval *pv);

/* Signs a vote of `type` for (height >= 1, round <= ESG_CONS_MAX_ROUND) on
 * `chain_id`: for `block`, or nil when `block` is NULL or all zero. `lock`
 * is what consensus is locked on at this moment (lock->height must equal
 * height and lock->locked_round lie in -1..lock->round); it is persisted
 * with the vote. Writes the signature of esg_vote_hash(...) to *sig.
 * Returns 0, or (*sig zeroed):
 *   ESG_ERR_DOUBLE_SIGN  refused by the rule above; nothing changed
 *   ESG_ERR_IO           the new record could not be made durable; no
 *                        signature left. If the rename had already
 *                        happened the file may hold either record, so the
 *                        signer then refuses every request with ESG_ERR_IO
 *                        until it is reopened (which reads what is there)
 *   ESG_ERR_INTERNAL     signing failed (libsecp256k1/libsodium); nothing
 *                        changed */
int esg_privval_sign_vote(esg_privval *pv, esg_sig *sig, const char *chain_id,
                          esg_cons_vote_type type, uint64_t height, uint32_t round,
                          const esg_hash *block, const esg_cons_lock *lock);

/* Signs a proposal of the block named `block` (not zero) for (height,
 * round) citing valid_round (-1, or 0..round-1), at step PROPOSE. Rules,
 * `lock` and errors as for esg_privval_sign_vote; the signed hash is
 * esg_privval_proposal_hash(chain_id, height, round, valid_round, block). */
int esg_privval_sign_proposal(esg_privval *pv, esg_sig *sig, const char *chain_id,
                              uint64_t height, uint32_t round, int32_t valid_round,
                              const esg_hash *block, const esg_cons_lock *lock);

/* Copies the current record (what the state file holds) to *out. */
void esg_privval_state(const esg_privval *pv, esg_privval_record *out);

/* Where consensus resumes at `next_height` (the height after the last
 * stored block): the persisted round and lock when the record is for that
 * height, else round 0 and unlocked. A record for a later height (a store
 * restored from an old backup) also gives round 0 and unlocked: the signer
 * then refuses every request until consensus passes that height. */
void esg_privval_start_state(const esg_privval *pv, uint64_t next_height,
                             esg_cons_start_state *out);

/* The hash a proposer signs: H("esg/proposal", serialized
 * ProposalSignDoc{chain_id, height, round, valid_round, block_hash}).
 * Any valid_round is hashed as given (a peer's proposal is hashed before
 * consensus checks its range); `block` is not NULL. Pure, thread-safe. */
esg_hash esg_privval_proposal_hash(const char *chain_id, uint64_t height, uint32_t round,
                                   int32_t valid_round, const esg_hash *block);

#endif
