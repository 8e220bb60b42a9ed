/* Tendermint BFT consensus as a pure state machine, for one validator.
 *
 * The algorithm is Algorithm 1 of Buchman, Kwon and Milosevic, "The latest
 * gossip on BFT consensus" (2018): heights, rounds, the steps propose /
 * prevote / precommit, lockedValue/lockedRound and validValue/validRound,
 * timeouts that grow linearly with the round, and the f+1 rule that makes a
 * lagging node jump to a round that more than 1/3 of the power has reached.
 * It is safe while the Byzantine voting power is below 1/3 of the total,
 * and decides once the network delivers messages within the timeouts.
 * Liveness assumes the paper's gossip: a message one correct node has
 * eventually reaches every correct node. The driver provides it by
 * telling each peer which messages of the current height this node holds
 * (every round: a proposal may cite the prevotes of an old round) and
 * sending each peer those it lacks (see "What the instance holds" below),
 * and by block sync (esg_cons_on_commit) for a node left behind.
 *
 * Pure means: no I/O, no clock, no libuv, no threads, no global state. The
 * instance is driven by four kinds of input -- a proposal, a vote, a timer
 * that fired, a commit learnt from block sync -- and answers through the
 * callbacks it was created with: messages to broadcast, timers to schedule,
 * decisions, evidence. Given the same inputs in the same order an instance
 * makes the same outputs, so a test can run many of them in one process on
 * a simulated network (tests/node/test_consensus.c does).
 *
 * Values are opaque. A value (a block) is a byte string named by a 32-byte
 * hash; the machine never looks inside, it asks the application: get_value()
 * for something to propose, valid() before it prevotes, precommits or
 * decides a value. The driver guarantees that a proposal's hash names its
 * bytes (it decodes the block and hashes it) and that every message handed
 * in carries a verified signature of the validator whose index it names.
 * The all-zero hash is nil: a vote for it is a nil vote, and a proposal of
 * it is malformed.
 *
 * Validator sets: the set of each height comes from the validators()
 * callback (a change decided in block h takes effect at h+2, so
 * the application knows the set of h+1 when h is decided). Validators are
 * named by their index in that set; this node finds itself by public key
 * and, if its key is not in the set of a height, follows that height as an
 * observer (it decides but never proposes or votes).
 *
 * Proposer selection (deterministic weighted round-robin): the powers of
 * the set are scaled so that they sum to at most ESG_CONS_SCHEDULE_MAX
 * (each kept at least 1), giving a cycle of P slots. The cycle is the
 * "smooth weighted round-robin" sequence: start every priority at 0; for
 * each slot add each validator's power to its priority, pick the highest
 * priority (lowest index on a tie) and subtract P from it. The proposer of
 * (height, round) is slot (height + round) mod P. Over any P consecutive
 * slots each validator proposes exactly its scaled power times, spread
 * evenly; the result depends only on the set, the height and the round, so
 * a restarted or syncing node computes the same proposer with no history.
 *
 * Thresholds, by voting power with total power T: a quorum is > 2T/3 (the
 * paper's 2f+1), a skip set is > T/3 (f+1).
 *
 * Heights and rounds: messages for the current height are used whatever
 * their round (past rounds matter: a proposal may cite prevotes of an
 * earlier round, and a late quorum of precommits of an earlier round still
 * decides). Messages for a future round are kept only for at most
 * ESG_CONS_MAX_ROUNDS_AHEAD distinct future rounds per validator, so a
 * Byzantine validator cannot make the instance allocate without bound.
 * Messages for height+1 are buffered (at most config.max_future_msgs, first
 * come; a full buffer drops, gossip brings them again) and replayed when
 * that height starts; messages for other heights are dropped.
 * Duplicates are ignored. A second, different vote of one validator for the
 * same (height, round, type) is equivocation: the evidence callback gets
 * the first and the second vote (once per validator, round and type). In
 * the "any value" tallies (the timers, the f+1 round skip) an equivocator
 * counts once, for its first vote. In the tally of a given value it counts
 * for every value it signed -- the paper's message log, and CometBFT's
 * vote sets once a peer claims a majority -- because counting only the
 * first vote lets the equivocator show different honest nodes different
 * polkas for ever: a node that locked on a polka it saw could then never
 * convince the others, and the height would stall (the simulator finds
 * such schedules). Safety does not depend on it. To bound memory, at most
 * ESG_CONS_MAX_EQUIVOCATIONS further values per (validator, round, type)
 * are kept; later ones only count as evidence.
 *
 * One more departure from the paper, for liveness too: a polka (> 2/3
 * prevotes for a proposal) seen late, for an earlier round above
 * validRound, also makes that proposal the valid value. The paper updates
 * validValue only in the current round, so a node that skipped the round,
 * or restarted and forgot, could never re-propose the value the others are
 * locked on. Safety is untouched (acceptors check the cited polka).
 *
 * After a decision the instance sits in step ESG_CONS_STEP_COMMIT and asks
 * for a COMMIT timer (config.commit_ms); the next height starts when it
 * fires. The pause gives the driver time to apply the block before the
 * validators() and get_value() calls of the next height, and gathers late
 * precommits on the wire.
 *
 * Signing goes through sign_proposal()/sign_vote(), which receive the lock
 * this node holds at that moment: the driver persists (fsync) height, round,
 * step and lock before it signs, and refuses to sign anything that conflicts
 * with what it signed before (node/privval.h, CometBFT's FilePV rule). When a
 * signer refuses, the message is simply not sent; the machine moves on as
 * if it had been lost. After a restart, pass the persisted height, round
 * and lock in esg_cons_start_state so the node never contradicts itself,
 * then hand back, through esg_cons_on_proposal/on_vote, the messages this
 * node signed at that height (the driver's write-ahead log): they count
 * again and are gossiped again. Without them a height can stall for ever
 * -- the signer rightly refuses to sign those steps again, and the lost
 * votes may be needed for a quorum (the simulator finds such schedules).
 *
 * Thread rules: an instance is used by one thread at a time. Callbacks run
 * on the calling thread, inside the esg_cons_* call that caused them; they
 * must not call the input functions of the same instance (the getters are
 * fine). Distinct instances are independent.
 */
#ifndef ESG_NODE_CONSENSUS_H
#define ESG_NODE_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

/* Largest validator set the machine accepts. */
#define ESG_CONS_MAX_VALIDATORS 1024u
/* Largest total voting power (so sums times 3 fit in 64 bits). */
#define ESG_CONS_MAX_TOTAL_POWER (UINT64_C(1) << 60)
/* Longest proposer cycle (see "Proposer selection" above). */
#define ESG_CONS_SCHEDULE_MAX 4096u
/* Distinct rounds above the current one for which one validator's
 * messages are kept. */
#define ESG_CONS_MAX_ROUNDS_AHEAD 2u
/* Conflicting votes kept per (validator, round, type) beyond the first. */
#define ESG_CONS_MAX_EQUIVOCATIONS 3u
/* Largest round number accepted (rounds travel as uint32, valid_round as a
 * signed -1..round-1). */
#define ESG_CONS_MAX_ROUND 0x7fffffffu

typedef struct esg_cons esg_cons;

typedef enum esg_cons_step {
    ESG_CONS_STEP_PROPOSE = 0,
    ESG_CONS_STEP_PREVOTE,
    ESG_CONS_STEP_PRECOMMIT,
    ESG_CONS_STEP_COMMIT /* decided; waiting for the COMMIT timer */
} esg_cons_step;

/* Same numbers as VoteType in proto/esg.proto. */
typedef enum esg_cons_vote_type {
    ESG_CONS_PREVOTE = 1,
    ESG_CONS_PRECOMMIT = 2
} esg_cons_vote_type;

typedef enum esg_cons_timeout {
    ESG_CONS_TIMEOUT_PROPOSE = 0,
    ESG_CONS_TIMEOUT_PREVOTE,
    ESG_CONS_TIMEOUT_PRECOMMIT,
    ESG_CONS_TIMEOUT_COMMIT
} esg_cons_timeout;

typedef struct esg_cons_validator {
    esg_pubkey key;
    uint64_t power; /* 1..ESG_CONS_MAX_TOTAL_POWER */
} esg_cons_validator;

/* A value: `len` opaque bytes at `data`, named by `hash`. Whoever fills one
 * in says how long `data` lives (see each use). */
typedef struct esg_cons_value {
    esg_hash hash;
    const uint8_t *data;
    size_t len;
} esg_cons_value;

typedef struct esg_cons_proposal {
    uint64_t height;
    uint32_t round;
    int32_t valid_round; /* -1, or the earlier round the value was valid in */
    uint32_t proposer;   /* index in the height's validator set */
    esg_cons_value value;
    esg_sig sig;
} esg_cons_proposal;

typedef struct esg_cons_vote {
    esg_cons_vote_type type;
    uint64_t height;
    uint32_t round;
    esg_hash block; /* all zero: nil */
    uint32_t validator; /* index in the height's validator set */
    esg_sig sig;
} esg_cons_vote;

typedef enum esg_cons_msg_kind {
    ESG_CONS_MSG_PROPOSAL = 0,
    ESG_CONS_MSG_VOTE
} esg_cons_msg_kind;

typedef struct esg_cons_msg {
    esg_cons_msg_kind kind;
    union {
        esg_cons_proposal proposal;
        esg_cons_vote vote;
    } u;
} esg_cons_msg;

/* What this node is locked on, handed to the signer to persist. */
typedef struct esg_cons_lock {
    uint64_t height;
    uint32_t round;      /* the round being signed for */
    int32_t locked_round; /* -1: not locked */
    esg_hash locked;     /* zero when not locked */
} esg_cons_lock;

/* Timeouts: a timer of kind k for round r lasts base_k + r * delta_k ms
 * (the paper's timeoutX(r) = initTimeoutX + r * timeoutDelta). */
typedef struct esg_cons_config {
    uint32_t propose_ms, propose_delta_ms;
    uint32_t prevote_ms, prevote_delta_ms;
    uint32_t precommit_ms, precommit_delta_ms;
    uint32_t commit_ms;      /* pause between a decision and the next height */
    size_t max_future_msgs;  /* messages buffered for height+1; 0: 16 * n */
    /* FOR TESTS ONLY. When true the node ignores its lock when it prevotes
     * (it prevotes any valid proposal), which breaks safety. It exists so
     * the simulator can prove it finds the violations this causes; never
     * set it anywhere else. */
    bool test_ignore_lock;
} esg_cons_config;

/* Fills `cfg` with defaults: propose 3000+500r, prevote 1000+500r,
 * precommit 1000+500r, commit 1000 ms, max_future_msgs 0. */
void esg_cons_config_default(esg_cons_config *cfg);

/* The application and the driver, as seen from the machine. `ctx` is
 * passed back to every callback. All callbacks are required but timely. */
typedef struct esg_cons_callbacks {
    void *ctx;
    /* The validator set of `height`: sets *vals to an array of n entries
     * and returns n (1..ESG_CONS_MAX_VALIDATORS, every power >= 1, total
     * <= ESG_CONS_MAX_TOTAL_POWER; anything else is a bug and asserts).
     * The array needs to live only until the callback returns: it is
     * copied. */
    size_t (*validators)(void *ctx, uint64_t height, const esg_cons_validator **vals);
    /* A value to propose at `height`. Returns true and fills *out (data
     * only needs to live until the callback returns: it is copied), or
     * false -- or a zero hash -- to propose nothing this round (the others
     * will time out). */
    bool (*get_value)(void *ctx, uint64_t height, esg_cons_value *out);
    /* The application's check of a proposed value at `height`. Called at
     * most once per stored proposal. */
    bool (*valid)(void *ctx, uint64_t height, const esg_cons_value *value);
    /* Optional (NULL: every proposal is timely). Whether a proposal of
     * (height, round) that cites no earlier round is timely: its time
     * close enough to when it arrived (proposer-based timestamps: the
     * driver's rule). An untimely proposal is prevoted nil, but it is
     * still locked on, precommitted and decided when more than 2/3 of the
     * power prevote it: their clocks found it timely. Not asked for this
     * node's own proposals nor for re-proposals (valid_round >= 0, whose
     * value a polka already accepted). Called at most once per stored
     * proposal. */
    bool (*timely)(void *ctx, uint64_t height, uint32_t round, const esg_cons_value *value);
    /* Sign a proposal (sig field unset) and write *sig; `lock` is the
     * state to persist first. Returns false to refuse: nothing is sent. */
    bool (*sign_proposal)(void *ctx, const esg_cons_proposal *p,
                          const esg_cons_lock *lock, esg_sig *sig);
    /* Same for a vote. */
    bool (*sign_vote)(void *ctx, const esg_cons_vote *v, const esg_cons_lock *lock,
                      esg_sig *sig);
    /* Send a signed message to every peer. `msg` (and a proposal's value
     * bytes) live until the callback returns. The machine has already
     * counted its own message: do not hand it back. */
    void (*broadcast)(void *ctx, const esg_cons_msg *msg);
    /* Call esg_cons_on_timeout(kind, height, round) in `ms` milliseconds.
     * Timers are never cancelled: a stale one is ignored when it fires. */
    void (*schedule_timeout)(void *ctx, esg_cons_timeout kind, uint64_t height,
                             uint32_t round, uint32_t ms);
    /* `value` is decided at `height` in `round`; `commit` holds n signed
     * precommits for it whose power is > 2/3 of the height's total. All
     * pointers live until the callback returns. */
    void (*decide)(void *ctx, uint64_t height, uint32_t round, const esg_cons_value *value,
                   const esg_cons_vote *commit, size_t n);
    /* Validator `a->validator` signed both `a` and `b`: same height, round
     * and type, different blocks. Reported once per (validator, round,
     * type). Pointers live until the callback returns. */
    void (*evidence)(void *ctx, const esg_cons_vote *a, const esg_cons_vote *b);
} esg_cons_callbacks;

/* Where to start: a fresh node starts at the height after its last block,
 * round 0, unlocked. A restarted node passes what its signer persisted for
 * that height (round and lock) so it never prevotes against its lock. */
typedef struct esg_cons_start_state {
    uint64_t height;      /* >= 1 */
    uint32_t round;
    int32_t locked_round; /* -1: not locked */
    esg_hash locked;
} esg_cons_start_state;

/* Creates an instance for the validator whose public key is `self` (it may
 * be absent from some validator sets: see above). Copies cfg, cb and st;
 * calls no callback. Returns 0, ESG_ERR_INVALID_ARGUMENT (height 0, round
 * above ESG_CONS_MAX_ROUND, locked_round not -1..round) or ESG_ERR_NOMEM.
 * Free with esg_cons_free. */
int esg_cons_new(esg_cons **out, const esg_cons_config *cfg, const esg_cons_callbacks *cb,
                 const esg_pubkey *self, const esg_cons_start_state *st);

/* Frees the instance and every buffered message. NULL is a no-op. */
void esg_cons_free(esg_cons *c);

/* Starts the start height: asks for its validator set and enters the start
 * round (proposing if this node is the proposer, else scheduling the
 * propose timer). Call once, before any input. Returns 0 or ESG_ERR_NOMEM. */
int esg_cons_start(esg_cons *c);

/* Inputs. Each returns 0 when the message was used or harmlessly ignored
 * (a duplicate, an old height, a height too far ahead, a full buffer, an
 * equivocation after the first vote); ESG_ERR_BAD_CONSENSUS_MSG when it is
 * malformed or out of range for its height (validator index outside the
 * set, a proposer who is not the round's proposer, a zero proposal hash,
 * valid_round not in -1..round-1, round above ESG_CONS_MAX_ROUND, unknown
 * vote type) -- the driver may score the peer that relayed it; or
 * ESG_ERR_NOMEM (the message is dropped; the state is unchanged). The
 * message is copied: the caller keeps ownership. */
int esg_cons_on_proposal(esg_cons *c, const esg_cons_proposal *p);
int esg_cons_on_vote(esg_cons *c, const esg_cons_vote *v);

/* A timer scheduled earlier fired. Stale timers (another height, round or
 * step) are ignored. Returns 0, or ESG_ERR_NOMEM when the COMMIT timer
 * could not start the next height: nothing changed, call again later. */
int esg_cons_on_timeout(esg_cons *c, esg_cons_timeout kind, uint64_t height, uint32_t round);

/* A decision learnt from a peer (block sync): `value` is decided at
 * `height` in `round` with the n precommits of `commit` (signatures
 * verified by the driver). Used only when `height` is the current height
 * and this node has not decided it; the commit must hold precommits of
 * distinct validators of the set for exactly (height, round, value hash)
 * whose power is > 2/3, and valid() must accept the value. Then it decides
 * as if it had gathered the votes itself. Returns 0 (used, or not the
 * current height), ESG_ERR_BAD_COMMIT, or ESG_ERR_NOMEM. */
int esg_cons_on_commit(esg_cons *c, uint64_t height, uint32_t round, const esg_cons_value *value,
                       const esg_cons_vote *commit, size_t n);

/* What the instance holds, for the driver's catch-up gossip: each peer
 * is told which messages of the current height this node holds, and is
 * sent those it lacks (node/consensus_driver.c), so a message this node
 * dropped -- for whatever reason -- comes again. All are getters, safe
 * inside callbacks; before esg_cons_start the instance holds nothing.
 *
 * esg_cons_wants_vote / esg_cons_wants_proposal: whether the instance
 * would store the message if it came now: false for a message it holds
 * (a vote of the same validator, type, round and value; a proposal of the
 * round), one of a decided height or of a height other than the current
 * one and the next, and one of the next height when the buffer holds it
 * or is full. A vote's validator index must be its index in the set of
 * the vote's height. The driver asks before verifying a message whose
 * bytes its gossip has seen: the seen cache is only an optimisation. */
bool esg_cons_wants_vote(const esg_cons *c, const esg_cons_vote *v);
bool esg_cons_wants_proposal(const esg_cons *c, uint64_t height, uint32_t round);

/* The rounds of the current height the instance holds a record of (a
 * proposal, a vote, or its own entry into the round), ascending: writes
 * the highest min(max, held) of them to rounds[] and returns how many it
 * holds in all. */
size_t esg_cons_held_rounds(const esg_cons *c, uint32_t *rounds, size_t max);

/* The first vote of `validator` (index in the current set) of `type` in
 * `round` of the current height: true and *out filled, or false when not
 * held. An equivocator's further votes are not returned. */
bool esg_cons_held_vote(const esg_cons *c, uint32_t round, esg_cons_vote_type type,
                        uint32_t validator, esg_cons_vote *out);

/* The proposal of `round` of the current height: true and *out filled
 * (out->value.data points into the instance and lives until its next
 * input call), or false when not held. */
bool esg_cons_held_proposal(const esg_cons *c, uint32_t round, esg_cons_proposal *out);

/* The size of the current height's validator set (0 before start). */
size_t esg_cons_validator_count(const esg_cons *c);

/* Getters; safe inside callbacks. */
uint64_t esg_cons_height(const esg_cons *c);
uint32_t esg_cons_round(const esg_cons *c);
esg_cons_step esg_cons_get_step(const esg_cons *c);
/* This node's lock, as handed to the signer. */
void esg_cons_get_lock(const esg_cons *c, esg_cons_lock *out);
/* This node's index in the current height's set, or -1 (observer). */
int64_t esg_cons_self_index(const esg_cons *c);

/* The proposer of (height, round) for the validator set `vals` (n entries,
 * constraints as for validators()). Pure; costs O(P * n), P <=
 * ESG_CONS_SCHEDULE_MAX + n. */
uint32_t esg_cons_proposer(const esg_cons_validator *vals, size_t n, uint64_t height,
                           uint32_t round);

#endif
