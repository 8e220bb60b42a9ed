/* node/consensus.c: the Tendermint state machine.
 *
 * Two parts. First, one instance driven by hand ("rec" records everything
 * it outputs): each upon rule of Algorithm 1, the lock, timeouts, round
 * skipping, buffering, equivocation, bad input, block-sync commits, the
 * proposer rotation.
 *
 * Second, a deterministic network simulator ("sim") that runs several
 * instances over a simulated clock (ms) and event queue. Everything about a
 * schedule is drawn from its seed by our own xorshift64* generator:
 *   - delays: uniform 1..dmax ms (dmax 5..150), plus occasional long
 *     delays; reordering follows. Drops (0-30% before the heal, 0 or 10%
 *     after), duplicates (0 or 10%). One message kind (proposals, prevotes
 *     or precommits) may be slowed by up to 1.5 s, and one instance may be
 *     deaf to one kind for a while;
 *   - partitions until `heal` (0-6 s), in one of four styles: a few
 *     regroupings at random times; regrouping every ~80-500 ms (a round's
 *     scale); cutting off every node the moment it decides; or a split
 *     brain -- {one twin half, half the honest nodes} then {other twin
 *     half, the other honest nodes and one node of the first group}, the
 *     shared node often deaf to precommits in phase one. A cut link drops
 *     what is in flight on it. After the heal everyone is connected;
 *   - crashes (0-2 per schedule): an instance stops, losing its timers,
 *     inbound messages and memory, and restarts later from its disk: the
 *     blocks it decided, its signer state (last signed height/round/step
 *     and hash, with the FilePV rule refusing conflicting signatures, and
 *     its lock), and the write-ahead log of what it signed at its height,
 *     which is fed back to the new instance;
 *   - Byzantine validators are Twins: two instances with the same key, each
 *     with its own disk, never in the same partition before the heal, each
 *     proposing its own values (a quarter of them invalid);
 *   - gossip: every 200-400 ms each instance re-sends what it signed at its
 *     height and announces its height; a peer that has decided that height
 *     answers with the block and its commit (block sync, fed to
 *     esg_cons_on_commit).
 * Properties checked on every schedule: agreement among honest instances,
 * validity (a decided value was proposed, is valid and is named by its
 * hash; its commit holds > 2/3 of the power, distinct validators),
 * termination (every honest instance decides every target height within
 * 60 s of simulated time after the heal). The self-checks run the same
 * adversary with Byzantine power >= 1/3, and with the lock broken by the
 * test-only switch, and fail unless they find an agreement violation.
 *
 * ESG_SIM_SEED=n reruns schedule n alone and prints it event by event;
 * ESG_SIM_SCHEDULES=n changes how many schedules each test runs (a soak). */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "node/consensus.h"

/* ================================================================ rec */

#define REC_MAXV 8
#define REC_MAXMSG 256

typedef struct rec {
    esg_cons *c;
    esg_cons_validator vals[REC_MAXV];
    size_t n;
    esg_cons_validator vals2[REC_MAXV]; /* the set from height 2, if n2 */
    size_t n2;
    esg_cons_config cfg;
    /* outputs */
    esg_cons_msg msgs[REC_MAXMSG];
    size_t nmsgs;
    struct {
        esg_cons_timeout kind;
        uint64_t h;
        uint32_t r, ms;
    } timers[REC_MAXMSG];
    size_t ntimers;
    uint64_t decided_h[64];
    esg_hash decided[64];
    size_t commit_n[64];
    size_t ndecided;
    esg_cons_vote ev_a, ev_b;
    size_t nevidence;
    /* behaviour */
    bool sink; /* count outputs without keeping them */
    size_t nout;
    bool refuse_sign;
    esg_hash invalid; /* valid() rejects this hash */
    uint32_t next_value;
    uint8_t value_buf[16];
} rec;

static esg_pubkey key_of(uint32_t i) {
    esg_pubkey k;
    memset(&k, 0, sizeof k);
    k.b[0] = (uint8_t)(i + 1);
    return k;
}

static esg_hash hash_of(uint32_t x) {
    uint8_t b[4] = {(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), (uint8_t)(x >> 24)};
    return esg_sha256(b, sizeof b);
}

static size_t rec_validators(void *ctx, uint64_t h, const esg_cons_validator **out) {
    rec *r = ctx;
    if (h >= 2 && r->n2) {
        *out = r->vals2;
        return r->n2;
    }
    *out = r->vals;
    return r->n;
}

/* Values are 16 bytes: "v" + a counter; their hash is hash_of(counter). */
static bool rec_get_value(void *ctx, uint64_t h, esg_cons_value *out) {
    (void)h;
    rec *r = ctx;
    uint32_t x = 1000 + r->next_value++;
    memset(r->value_buf, 0, sizeof r->value_buf);
    r->value_buf[0] = 'v';
    memcpy(r->value_buf + 1, &x, sizeof x);
    out->hash = hash_of(x);
    out->data = r->value_buf;
    out->len = sizeof r->value_buf;
    return true;
}

static bool rec_valid(void *ctx, uint64_t h, const esg_cons_value *v) {
    (void)h;
    rec *r = ctx;
    return !esg_hash_eq(&v->hash, &r->invalid);
}

static bool rec_sign_proposal(void *ctx, const esg_cons_proposal *p, const esg_cons_lock *l,
                              esg_sig *sig) {
    (void)p, (void)l;
    rec *r = ctx;
    memset(sig, 0xAA, sizeof *sig);
    return !r->refuse_sign;
}

static bool rec_sign_vote(void *ctx, const esg_cons_vote *v, const esg_cons_lock *l,
                          esg_sig *sig) {
    (void)v, (void)l;
    rec *r = ctx;
    memset(sig, 0xBB, sizeof *sig);
    return !r->refuse_sign;
}

static void rec_broadcast(void *ctx, const esg_cons_msg *m) {
    rec *r = ctx;
    if (r->sink) {
        r->nout++;
        return;
    }
    ck_assert_uint_lt(r->nmsgs, REC_MAXMSG);
    r->msgs[r->nmsgs] = *m;
    if (m->kind == ESG_CONS_MSG_PROPOSAL)
        r->msgs[r->nmsgs].u.proposal.value.data = NULL; /* not kept */
    r->nmsgs++;
}

static void rec_schedule(void *ctx, esg_cons_timeout kind, uint64_t h, uint32_t round,
                         uint32_t ms) {
    rec *r = ctx;
    if (r->sink) {
        r->nout++;
        return;
    }
    ck_assert_uint_lt(r->ntimers, REC_MAXMSG);
    r->timers[r->ntimers].kind = kind;
    r->timers[r->ntimers].h = h;
    r->timers[r->ntimers].r = round;
    r->timers[r->ntimers].ms = ms;
    r->ntimers++;
}

static void rec_decide(void *ctx, uint64_t h, uint32_t round, const esg_cons_value *v,
                       const esg_cons_vote *commit, size_t n) {
    (void)round, (void)commit;
    rec *r = ctx;
    if (r->sink) {
        r->nout++;
        return;
    }
    ck_assert_uint_lt(r->ndecided, 64);
    r->decided_h[r->ndecided] = h;
    r->decided[r->ndecided] = v->hash;
    r->commit_n[r->ndecided] = n;
    r->ndecided++;
}

static void rec_evidence(void *ctx, const esg_cons_vote *a, const esg_cons_vote *b) {
    rec *r = ctx;
    r->ev_a = *a;
    r->ev_b = *b;
    r->nevidence++;
}

static esg_cons_callbacks rec_callbacks(rec *r) {
    esg_cons_callbacks cb = {
        .ctx = r,
        .validators = rec_validators,
        .get_value = rec_get_value,
        .valid = rec_valid,
        .sign_proposal = rec_sign_proposal,
        .sign_vote = rec_sign_vote,
        .broadcast = rec_broadcast,
        .schedule_timeout = rec_schedule,
        .decide = rec_decide,
        .evidence = rec_evidence,
    };
    return cb;
}

/* A recorder for validator `self` of n equal-power validators (self may be
 * >= n: an observer), started at `st` (NULL: height 1, round 0). */
static rec *rec_new(size_t n, uint32_t self, const esg_cons_start_state *st, bool ignore_lock) {
    rec *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        r->vals[i].key = key_of((uint32_t)i);
        r->vals[i].power = 10;
    }
    esg_cons_config_default(&r->cfg);
    r->cfg.test_ignore_lock = ignore_lock;
    esg_cons_start_state s0 = {.height = 1, .round = 0, .locked_round = -1};
    esg_cons_callbacks cb = rec_callbacks(r);
    esg_pubkey me = key_of(self);
    ck_assert_int_eq(esg_cons_new(&r->c, &r->cfg, &cb, &me, st ? st : &s0), 0);
    return r;
}

static void rec_free(rec *r) {
    esg_cons_free(r->c);
    free(r);
}

static uint32_t rec_proposer(rec *r, uint64_t h, uint32_t round) {
    return esg_cons_proposer(r->vals, r->n, h, round);
}

/* A proposal of (h, round) by its proposer for value x (data: 4 bytes). */
static int feed_proposal(rec *r, uint64_t h, uint32_t round, uint32_t x, int32_t vr) {
    static uint8_t data[4];
    memcpy(data, &x, 4);
    esg_cons_proposal p = {.height = h, .round = round, .valid_round = vr,
                           .proposer = rec_proposer(r, h, round)};
    p.value.hash = hash_of(x);
    p.value.data = data;
    p.value.len = sizeof data;
    return esg_cons_on_proposal(r->c, &p);
}

/* A vote of validator `who` for value x (0: nil). */
static int feed_vote(rec *r, esg_cons_vote_type t, uint64_t h, uint32_t round, uint32_t who,
                     uint32_t x) {
    esg_cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = t;
    v.height = h;
    v.round = round;
    v.validator = who;
    if (x)
        v.block = hash_of(x);
    memset(&v.sig, (int)who, sizeof v.sig);
    return esg_cons_on_vote(r->c, &v);
}

/* The last vote this node broadcast, or NULL. */
static const esg_cons_vote *last_vote(const rec *r) {
    for (size_t i = r->nmsgs; i-- > 0;)
        if (r->msgs[i].kind == ESG_CONS_MSG_VOTE)
            return &r->msgs[i].u.vote;
    return NULL;
}

static void ck_last_vote(const rec *r, esg_cons_vote_type t, uint32_t round, uint32_t x) {
    const esg_cons_vote *v = last_vote(r);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v->type, t);
    ck_assert_uint_eq(v->round, round);
    esg_hash want;
    memset(&want, 0, sizeof want);
    if (x)
        want = hash_of(x);
    ck_assert(esg_hash_eq(&v->block, &want));
}

static bool timer_scheduled(const rec *r, esg_cons_timeout kind, uint64_t h, uint32_t round,
                            uint32_t *ms) {
    for (size_t i = 0; i < r->ntimers; i++)
        if (r->timers[i].kind == kind && r->timers[i].h == h && r->timers[i].r == round) {
            if (ms)
                *ms = r->timers[i].ms;
            return true;
        }
    return false;
}

/* Validators of a 4-set other than `self` and the proposer of (1, 0). */
static uint32_t others(rec *r, uint32_t self, int k) {
    for (uint32_t i = 0; i < r->n; i++)
        if (i != self && k-- == 0)
            return i;
    ck_abort();
    return 0;
}

/* A non-proposer of (1, 0) and (1, 1) in the equal 4-set. */
static uint32_t pick_follower(void) {
    esg_cons_validator v[4];
    for (uint32_t i = 0; i < 4; i++)
        v[i].key = key_of(i), v[i].power = 10;
    for (uint32_t i = 0; i < 4; i++)
        if (esg_cons_proposer(v, 4, 1, 0) != i && esg_cons_proposer(v, 4, 1, 1) != i &&
            esg_cons_proposer(v, 4, 1, 2) != i)
            return i;
    ck_abort();
    return 0;
}

START_TEST(t_proposer_weighted_round_robin) {
    esg_cons_validator v[4];
    for (uint32_t i = 0; i < 4; i++)
        v[i].key = key_of(i), v[i].power = i + 1; /* 1, 2, 3, 4: cycle of 10 */
    for (uint64_t start = 0; start < 25; start++) {
        unsigned count[4] = {0};
        for (uint32_t k = 0; k < 10; k++)
            count[esg_cons_proposer(v, 4, start + k, 0)]++;
        for (uint32_t i = 0; i < 4; i++)
            ck_assert_uint_eq(count[i], i + 1);
    }
    /* Only height + round matters, so a round's proposer is the next
     * height's, and the rotation never depends on history. */
    for (uint32_t r = 1; r < 30; r++)
        ck_assert_uint_eq(esg_cons_proposer(v, 4, 7, r), esg_cons_proposer(v, 4, 8, r - 1));
    /* Smooth: the heaviest never proposes more than twice in a row. */
    for (uint64_t h = 0; h < 20; h++)
        ck_assert(!(esg_cons_proposer(v, 4, h, 0) == 3 && esg_cons_proposer(v, 4, h + 1, 0) == 3 &&
                    esg_cons_proposer(v, 4, h + 2, 0) == 3));
    /* Huge powers are scaled; everyone still gets a turn. */
    v[0].power = UINT64_C(1) << 59;
    v[1].power = 1;
    v[2].power = UINT64_C(1) << 58;
    v[3].power = 12345;
    bool seen[4] = {false};
    for (uint64_t h = 0; h < ESG_CONS_SCHEDULE_MAX + 8; h++)
        seen[esg_cons_proposer(v, 4, h, 0)] = true;
    ck_assert(seen[0] && seen[1] && seen[2] && seen[3]);
}
END_TEST

START_TEST(t_single_validator_decides_each_height) {
    rec *r = rec_new(1, 0, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    for (uint64_t h = 1; h <= 5; h++) {
        ck_assert_uint_eq(r->ndecided, h);
        ck_assert_uint_eq(r->decided_h[h - 1], h);
        ck_assert_uint_eq(r->commit_n[h - 1], 1);
        ck_assert_int_eq(esg_cons_get_step(r->c), ESG_CONS_STEP_COMMIT);
        ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_COMMIT, h, 0, NULL));
        ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_COMMIT, h, 0), 0);
    }
    /* Each height: proposal, prevote, precommit. */
    ck_assert_uint_eq(r->nmsgs, 5 * 3 + 3);
    ck_assert_int_eq(r->msgs[0].kind, ESG_CONS_MSG_PROPOSAL);
    ck_assert_int_eq(r->msgs[0].u.proposal.valid_round, -1);
    rec_free(r);
}
END_TEST

START_TEST(t_follower_prevotes_locks_and_decides) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    ck_assert_int_eq(esg_cons_self_index(r->c), me);
    uint32_t ms = 0;
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PROPOSE, 1, 0, &ms));
    ck_assert_uint_eq(ms, 3000);
    ck_assert_uint_eq(r->nmsgs, 0);

    ck_assert_int_eq(feed_proposal(r, 1, 0, 7, -1), 0);
    ck_last_vote(r, ESG_CONS_PREVOTE, 0, 7);
    ck_assert_int_eq(esg_cons_get_step(r->c), ESG_CONS_STEP_PREVOTE);

    /* Own prevote + one more: 20 of 40 is not > 2/3. */
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 0), 7), 0);
    ck_assert_int_eq(esg_cons_get_step(r->c), ESG_CONS_STEP_PREVOTE);
    ck_assert(!timer_scheduled(r, ESG_CONS_TIMEOUT_PREVOTE, 1, 0, NULL));
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 1), 7), 0);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 0, 7);
    esg_cons_lock l;
    esg_cons_get_lock(r->c, &l);
    ck_assert_int_eq(l.locked_round, 0);
    esg_hash h7 = hash_of(7);
    ck_assert(esg_hash_eq(&l.locked, &h7));

    ck_assert_int_eq(feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 0), 7), 0);
    ck_assert_uint_eq(r->ndecided, 0);
    /* A nil precommit makes 2f+1 of "any" (timer) but not for the value. */
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 2), 0), 0);
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 0, NULL));
    ck_assert_uint_eq(r->ndecided, 0);
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 1), 7), 0);
    ck_assert_uint_eq(r->ndecided, 1);
    ck_assert(esg_hash_eq(&r->decided[0], &h7));
    ck_assert_uint_eq(r->commit_n[0], 3);
    ck_assert_int_eq(esg_cons_get_step(r->c), ESG_CONS_STEP_COMMIT);
    /* Late messages of the decided height change nothing. */
    size_t nm = r->nmsgs;
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 2), 7), 0);
    ck_assert_uint_eq(r->nmsgs, nm);
    ck_assert_uint_eq(r->ndecided, 1);
    rec_free(r);
}
END_TEST

START_TEST(t_timeouts_nil_votes_and_growth) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    /* Stale timers are ignored. */
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PROPOSE, 1, 3), 0);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PROPOSE, 2, 0), 0);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PREVOTE, 1, 0), 0);
    ck_assert_uint_eq(r->nmsgs, 0);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PROPOSE, 1, 0), 0);
    ck_last_vote(r, ESG_CONS_PREVOTE, 0, 0);
    /* 2f+1 prevotes, mixed: the prevote timer; on it, precommit nil. */
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 0), 5);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 1), 6);
    uint32_t ms;
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PREVOTE, 1, 0, &ms));
    ck_assert_uint_eq(ms, 1000);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PREVOTE, 1, 0), 0);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 0, 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 0), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 1), 5);
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 0, &ms));
    ck_assert_uint_eq(ms, 1000);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 0), 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 1);
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PROPOSE, 1, 1, &ms));
    ck_assert_uint_eq(ms, 3500);
    /* 2f+1 nil prevotes: precommit nil without waiting. */
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PROPOSE, 1, 1), 0);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 1, others(r, me, 0), 0);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 1, others(r, me, 2), 0);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 1, 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 1, others(r, me, 0), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 1, others(r, me, 2), 0);
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 1, &ms));
    ck_assert_uint_eq(ms, 1500);
    /* The old round's precommit timer is stale now... */
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 0), 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 1);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 1), 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 2);
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PROPOSE, 1, 2, &ms));
    ck_assert_uint_eq(ms, 4000);
    rec_free(r);
}
END_TEST

/* Locked on 7 in round 0, the node prevotes nil for a fresh proposal of 8
 * in round 1 -- unless the test-only switch breaks the rule. A polka for 8
 * in round 1 then moves its lock to 8 (the paper's relock). */
static void lock_scenario(bool ignore_lock) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, ignore_lock);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    feed_proposal(r, 1, 0, 7, -1);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 0), 7);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 1), 7);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 0, 7);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 0), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 1), 0);
    esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 1);

    ck_assert_int_eq(feed_proposal(r, 1, 1, 8, -1), 0);
    ck_last_vote(r, ESG_CONS_PREVOTE, 1, ignore_lock ? 8 : 0);
    /* A polka for 8 in round 1 (the others) moves the lock to 8: a
     * correct node precommits it even though it prevoted nil. */
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PREVOTE, 1, 1, others(r, me, k), 8);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 1, 8);
    esg_cons_lock l;
    esg_cons_get_lock(r->c, &l);
    esg_hash h8 = hash_of(8);
    ck_assert_int_eq(l.locked_round, 1);
    ck_assert(esg_hash_eq(&l.locked, &h8));
    rec_free(r);
}

START_TEST(t_lock_blocks_other_values) {
    lock_scenario(false);
}
END_TEST

START_TEST(t_broken_lock_switch_prevotes_anyway) {
    lock_scenario(true);
}
END_TEST

START_TEST(t_proposal_with_valid_round_unlocks) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    /* Round 0: lock on 7. */
    feed_proposal(r, 1, 0, 7, -1);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 0), 7);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 1), 7);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 0, 7);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 0), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 1), 0);
    esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 0);
    /* Round 1: the others prevote 8 (we missed the proposal). */
    esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PROPOSE, 1, 1);
    ck_last_vote(r, ESG_CONS_PREVOTE, 1, 0);
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PREVOTE, 1, 1, others(r, me, k), 8);
    ck_last_vote(r, ESG_CONS_PREVOTE, 1, 0); /* no proposal: no polka for us */
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PREVOTE, 1, 1, NULL));
    esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PREVOTE, 1, 1);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 1, 0);
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PRECOMMIT, 1, 1, others(r, me, k), 0);
    esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 1);
    ck_assert_uint_eq(esg_cons_round(r->c), 2);
    /* Round 2: a proposal of 8 citing round 1, where 3 of 4 prevoted 8:
     * lockedRound 0 <= 1, so the node prevotes 8. */
    ck_assert_int_eq(feed_proposal(r, 1, 2, 8, 1), 0);
    ck_last_vote(r, ESG_CONS_PREVOTE, 2, 8);
    rec_free(r);
}
END_TEST

START_TEST(t_proposal_with_valid_round_needs_polka) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 0), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 1), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, 2), 0);
    esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PRECOMMIT, 1, 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 1);
    size_t nm = r->nmsgs;
    /* valid_round 0 with no polka in round 0: wait. */
    ck_assert_int_eq(feed_proposal(r, 1, 1, 9, 0), 0);
    ck_assert_uint_eq(r->nmsgs, nm);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 0), 9);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 1), 9);
    ck_assert_uint_eq(r->nmsgs, nm);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, 2), 9);
    ck_last_vote(r, ESG_CONS_PREVOTE, 1, 9);
    rec_free(r);
}
END_TEST

START_TEST(t_invalid_value_gets_nil_and_is_never_decided) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    r->invalid = hash_of(7);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    feed_proposal(r, 1, 0, 7, -1);
    ck_last_vote(r, ESG_CONS_PREVOTE, 0, 0);
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, k), 7);
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, k), 7);
    ck_assert_uint_eq(r->ndecided, 0);
    rec_free(r);
}
END_TEST

START_TEST(t_round_skip_needs_more_than_a_third) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 5, others(r, me, 0), 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 5, others(r, me, 0), 0); /* same sender */
    ck_assert_uint_eq(esg_cons_round(r->c), 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 5, others(r, me, 1), 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 5);
    ck_assert(timer_scheduled(r, ESG_CONS_TIMEOUT_PROPOSE, 1, 5, NULL));
    rec_free(r);
}
END_TEST

START_TEST(t_future_rounds_bounded_per_validator) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    uint32_t a = others(r, me, 0), b = others(r, me, 1);
    /* Validator a fills its two future rounds (10, 11); its messages for
     * round 12 are dropped, so b's round-12 vote makes no skip set... */
    feed_vote(r, ESG_CONS_PREVOTE, 1, 10, a, 0);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 11, a, 0);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 12, a, 0);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 12, b, 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 0);
    /* ...while in round 11 both have spoken. */
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 11, b, 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 11);
    rec_free(r);
}
END_TEST

START_TEST(t_equivocation_is_evidence_and_counted_per_value) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    feed_proposal(r, 1, 0, 7, -1);
    ck_last_vote(r, ESG_CONS_PREVOTE, 0, 7);
    uint32_t a = others(r, me, 0), b = others(r, me, 1);
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 1, 0, a, 8), 0);
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 1, 0, a, 8), 0); /* duplicate */
    ck_assert_uint_eq(r->nevidence, 0);
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 1, 0, a, 7), 0);
    ck_assert_uint_eq(r->nevidence, 1);
    ck_assert_uint_eq(r->ev_a.validator, a);
    ck_assert_uint_eq(r->ev_b.validator, a);
    esg_hash h7 = hash_of(7), h8 = hash_of(8);
    ck_assert(esg_hash_eq(&r->ev_a.block, &h8));
    ck_assert(esg_hash_eq(&r->ev_b.block, &h7));
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 1, 0, a, 0), 0);
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 1, 0, a, 7), 0); /* duplicate alternate */
    ck_assert_uint_eq(r->nevidence, 1); /* once per (validator, round, type) */
    /* In "any value" tallies a counts once: 20 of 40, no prevote timer;
     * 7 has our vote and a's second one, 20 of 40: no polka yet. */
    ck_assert(!timer_scheduled(r, ESG_CONS_TIMEOUT_PREVOTE, 1, 0, NULL));
    ck_assert_int_eq(esg_cons_get_step(r->c), ESG_CONS_STEP_PREVOTE);
    /* With b, 7 has 30 of 40 -- a's vote for 7 counts for 7. */
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, b, 7);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 0, 7);
    /* A different type in the same round is not equivocation. */
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, a, 0);
    ck_assert_uint_eq(r->nevidence, 1);
    /* Equivocating precommits count per value too, and the commit lists
     * each validator once. */
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, a, 7);
    ck_assert_uint_eq(r->nevidence, 2);
    ck_assert_uint_eq(r->ndecided, 0);
    feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, b, 7);
    ck_assert_uint_eq(r->ndecided, 1);
    ck_assert_uint_eq(r->commit_n[0], 3);
    rec_free(r);
}
END_TEST

/* Beyond ESG_CONS_MAX_EQUIVOCATIONS further values, an equivocator's votes
 * no longer count. */
START_TEST(t_equivocations_are_bounded) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    feed_proposal(r, 1, 0, 50, -1);
    ck_last_vote(r, ESG_CONS_PREVOTE, 0, 50);
    uint32_t a = others(r, me, 0), b = others(r, me, 1);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, a, 1);
    for (uint32_t x = 2; x < 2 + ESG_CONS_MAX_EQUIVOCATIONS; x++)
        feed_vote(r, ESG_CONS_PREVOTE, 1, 0, a, x);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, a, 50); /* one too many: dropped */
    ck_assert_uint_eq(r->nevidence, 1);
    feed_vote(r, ESG_CONS_PREVOTE, 1, 0, b, 50);
    /* 50 has our vote and b's: 20 of 40, no polka. */
    ck_last_vote(r, ESG_CONS_PREVOTE, 0, 50);
    ck_assert_int_eq(esg_cons_get_step(r->c), ESG_CONS_STEP_PREVOTE);
    rec_free(r);
}
END_TEST

START_TEST(t_bad_input_is_rejected_not_fatal) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    uint8_t data[3] = {1, 2, 3};
    esg_cons_proposal p = {.height = 1, .round = 0, .valid_round = -1,
                           .proposer = rec_proposer(r, 1, 0)};
    p.value.hash = hash_of(1);
    p.value.data = data;
    p.value.len = sizeof data;

    esg_cons_proposal q = p;
    q.proposer = 99;
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &q), ESG_ERR_BAD_CONSENSUS_MSG);
    q = p;
    q.proposer = me; /* not the proposer of (1, 0) */
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &q), ESG_ERR_BAD_CONSENSUS_MSG);
    q = p;
    memset(&q.value.hash, 0, sizeof q.value.hash);
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &q), ESG_ERR_BAD_CONSENSUS_MSG);
    q = p;
    q.valid_round = 0; /* must be < round */
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &q), ESG_ERR_BAD_CONSENSUS_MSG);
    q = p;
    q.valid_round = -2;
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &q), ESG_ERR_BAD_CONSENSUS_MSG);
    q = p;
    q.round = ESG_CONS_MAX_ROUND + 1u;
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &q), ESG_ERR_BAD_CONSENSUS_MSG);
    q = p;
    q.height = 0; /* an old height: ignored */
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &q), 0);
    q.height = UINT64_MAX;
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &q), 0);
    ck_assert_uint_eq(r->nmsgs, 0);

    esg_cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = ESG_CONS_PREVOTE;
    v.height = 1;
    v.validator = 4;
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v), ESG_ERR_BAD_CONSENSUS_MSG);
    v.validator = UINT32_MAX;
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v), ESG_ERR_BAD_CONSENSUS_MSG);
    v.validator = 0;
    v.type = (esg_cons_vote_type)3;
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v), ESG_ERR_BAD_CONSENSUS_MSG);
    v.type = (esg_cons_vote_type)0;
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v), ESG_ERR_BAD_CONSENSUS_MSG);
    v.type = ESG_CONS_PRECOMMIT;
    v.round = UINT32_MAX;
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v), ESG_ERR_BAD_CONSENSUS_MSG);
    ck_assert_uint_eq(esg_cons_round(r->c), 0);
    ck_assert_uint_eq(r->nmsgs, 0);

    /* The good proposal still works afterwards. */
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &p), 0);
    ck_last_vote(r, ESG_CONS_PREVOTE, 0, 1);
    rec_free(r);
}
END_TEST

START_TEST(t_next_height_messages_buffered_and_replayed) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    /* Height 2 arrives first and is buffered; height 3 is dropped. */
    uint32_t p2 = rec_proposer(r, 2, 0);
    ck_assert_int_eq(feed_proposal(r, 2, 0, 20, -1), 0);
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 2, 0, p2, 20), 0);
    ck_assert_int_eq(feed_proposal(r, 3, 0, 30, -1), 0);
    ck_assert_uint_eq(r->nmsgs, 0);
    /* Decide height 1. */
    feed_proposal(r, 1, 0, 7, -1);
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, k), 7);
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, k), 7);
    ck_assert_uint_eq(r->ndecided, 1);
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 2, 0, others(r, me, 2), 20), 0);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_COMMIT, 1, 0), 0);
    ck_assert_uint_eq(esg_cons_height(r->c), 2);
    /* The buffered proposal was replayed: a prevote for 20 at once. */
    bool prevoted = false;
    for (size_t i = 0; i < r->nmsgs; i++) {
        const esg_cons_msg *m = &r->msgs[i];
        esg_hash h20 = hash_of(20);
        if (m->kind == ESG_CONS_MSG_VOTE && m->u.vote.height == 2 &&
            m->u.vote.type == ESG_CONS_PREVOTE && esg_hash_eq(&m->u.vote.block, &h20))
            prevoted = true;
    }
    ck_assert(prevoted);
    rec_free(r);
}
END_TEST

START_TEST(t_future_buffer_is_bounded) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    esg_cons_free(r->c);
    r->cfg.max_future_msgs = 1;
    esg_cons_callbacks cb = rec_callbacks(r);
    esg_pubkey k = key_of(me);
    esg_cons_start_state st = {.height = 1, .locked_round = -1};
    ck_assert_int_eq(esg_cons_new(&r->c, &r->cfg, &cb, &k, &st), 0);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    ck_assert_int_eq(feed_vote(r, ESG_CONS_PREVOTE, 2, 0, others(r, me, 0), 20), 0);
    ck_assert_int_eq(feed_proposal(r, 2, 0, 20, -1), 0); /* dropped: full */
    feed_proposal(r, 1, 0, 7, -1);
    for (int k2 = 0; k2 < 3; k2++)
        feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, k2), 7);
    for (int k2 = 0; k2 < 3; k2++)
        feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, k2), 7);
    size_t nm = r->nmsgs;
    esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_COMMIT, 1, 0);
    /* No proposal was kept, so no prevote for 20 yet (unless this node is
     * the proposer of (2, 0), which pick_follower excludes). */
    for (size_t i = nm; i < r->nmsgs; i++)
        ck_assert_int_ne(r->msgs[i].kind, ESG_CONS_MSG_VOTE);
    rec_free(r);
}
END_TEST

START_TEST(t_restart_keeps_lock) {
    uint32_t me = pick_follower();
    esg_cons_start_state st = {.height = 1, .round = 1, .locked_round = 0};
    st.locked = hash_of(7);
    rec *r = rec_new(4, me, &st, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 1);
    esg_cons_lock l;
    esg_cons_get_lock(r->c, &l);
    ck_assert_int_eq(l.locked_round, 0);
    feed_proposal(r, 1, 1, 8, -1);
    ck_last_vote(r, ESG_CONS_PREVOTE, 1, 0);
    rec_free(r);

    r = rec_new(4, me, &st, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    feed_proposal(r, 1, 1, 7, -1);
    ck_last_vote(r, ESG_CONS_PREVOTE, 1, 7);
    rec_free(r);

    /* Bad start states. */
    rec *r2 = rec_new(4, me, NULL, false);
    esg_cons_callbacks cb = rec_callbacks(r2);
    esg_pubkey k = key_of(me);
    esg_cons *c = NULL;
    esg_cons_start_state bad = {.height = 0, .locked_round = -1};
    ck_assert_int_eq(esg_cons_new(&c, &r2->cfg, &cb, &k, &bad), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(c);
    bad.height = 1;
    bad.locked_round = 2;
    bad.round = 1;
    ck_assert_int_eq(esg_cons_new(&c, &r2->cfg, &cb, &k, &bad), ESG_ERR_INVALID_ARGUMENT);
    bad.locked_round = -3;
    ck_assert_int_eq(esg_cons_new(&c, &r2->cfg, &cb, &k, &bad), ESG_ERR_INVALID_ARGUMENT);
    bad.locked_round = -1;
    bad.round = ESG_CONS_MAX_ROUND + 1u;
    ck_assert_int_eq(esg_cons_new(&c, &r2->cfg, &cb, &k, &bad), ESG_ERR_INVALID_ARGUMENT);
    rec_free(r2);
}
END_TEST

static esg_cons_vote commit_vote(uint32_t who, uint64_t h, uint32_t round, uint32_t x) {
    esg_cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = ESG_CONS_PRECOMMIT;
    v.height = h;
    v.round = round;
    v.validator = who;
    v.block = hash_of(x);
    return v;
}

START_TEST(t_commit_from_block_sync) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    uint8_t data[4] = {9, 9, 9, 9};
    esg_cons_value v = {hash_of(9), data, sizeof data};
    esg_cons_vote cv[4];
    for (uint32_t i = 0; i < 4; i++)
        cv[i] = commit_vote(i, 1, 2, 9);

    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, cv, 2), ESG_ERR_BAD_COMMIT);
    esg_cons_vote dup[3] = {cv[0], cv[1], cv[1]};
    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, dup, 3), ESG_ERR_BAD_COMMIT);
    esg_cons_vote wrong[3] = {cv[0], cv[1], commit_vote(2, 1, 2, 8)};
    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, wrong, 3), ESG_ERR_BAD_COMMIT);
    wrong[2] = commit_vote(2, 1, 1, 9);
    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, wrong, 3), ESG_ERR_BAD_COMMIT);
    wrong[2] = commit_vote(7, 1, 2, 9);
    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, wrong, 3), ESG_ERR_BAD_COMMIT);
    wrong[2] = cv[2];
    wrong[2].type = ESG_CONS_PREVOTE;
    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, wrong, 3), ESG_ERR_BAD_COMMIT);
    r->invalid = hash_of(9);
    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, cv, 3), ESG_ERR_BAD_COMMIT);
    memset(&r->invalid, 0, sizeof r->invalid);
    ck_assert_int_eq(esg_cons_on_commit(r->c, 2, 2, &v, cv, 3), 0); /* not our height */
    ck_assert_uint_eq(r->ndecided, 0);

    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, cv, 3), 0);
    ck_assert_uint_eq(r->ndecided, 1);
    ck_assert(esg_hash_eq(&r->decided[0], &v.hash));
    ck_assert_int_eq(esg_cons_on_commit(r->c, 1, 2, &v, cv, 3), 0); /* already decided */
    ck_assert_uint_eq(r->ndecided, 1);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_COMMIT, 1, 0), 0);
    ck_assert_uint_eq(esg_cons_height(r->c), 2);
    rec_free(r);
}
END_TEST

/* Each height has its own set: at height 2 this node has another index
 * and the powers change, so tallies and proposers follow the new set. */
START_TEST(t_validator_set_per_height) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    r->n2 = 2;
    r->vals2[0].key = key_of(me), r->vals2[0].power = 1;
    r->vals2[1].key = key_of(7), r->vals2[1].power = 5;
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    ck_assert_int_eq(esg_cons_self_index(r->c), me);
    ck_assert_uint_eq(r->ndecided, 0);
    feed_proposal(r, 1, 0, 7, -1);
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PREVOTE, 1, 0, others(r, me, k), 7);
    for (int k = 0; k < 3; k++)
        feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, others(r, me, k), 7);
    ck_assert_uint_eq(r->ndecided, 1);
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_COMMIT, 1, 0), 0);
    ck_assert_int_eq(esg_cons_self_index(r->c), 0);
    /* Index 2 no longer exists; validator 1 alone (5 of 6) is a quorum. */
    esg_cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = ESG_CONS_PREVOTE;
    v.height = 2;
    v.validator = 2;
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v), ESG_ERR_BAD_CONSENSUS_MSG);
    /* Weights 1 and 5: slot (2 + 0) mod 6 of the cycle 1,1,0,1,1,1 is ours. */
    ck_assert_uint_eq(esg_cons_proposer(r->vals2, 2, 2, 0), 0);
    const esg_cons_msg *m = NULL;
    for (size_t i = 0; i < r->nmsgs; i++)
        if (r->msgs[i].kind == ESG_CONS_MSG_PROPOSAL)
            m = &r->msgs[i];
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->u.proposal.height, 2);
    ck_assert_uint_eq(m->u.proposal.proposer, 0);
    /* Our own precommit (1 of 6) is not enough; validator 1's decides. */
    esg_cons_vote pc;
    memset(&pc, 0, sizeof pc);
    pc.type = ESG_CONS_PRECOMMIT;
    pc.height = 2;
    pc.validator = 1;
    pc.block = m->u.proposal.value.hash;
    ck_assert_uint_eq(r->ndecided, 1);
    ck_assert_int_eq(esg_cons_on_vote(r->c, &pc), 0);
    ck_assert_uint_eq(r->ndecided, 2);
    ck_assert_uint_eq(r->commit_n[1], 1);
    rec_free(r);
}
END_TEST

START_TEST(t_observer_follows_without_voting) {
    rec *r = rec_new(4, 9, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    ck_assert_int_eq(esg_cons_self_index(r->c), -1);
    feed_proposal(r, 1, 0, 7, -1);
    for (uint32_t i = 0; i < 3; i++)
        feed_vote(r, ESG_CONS_PREVOTE, 1, 0, i, 7);
    for (uint32_t i = 0; i < 3; i++)
        feed_vote(r, ESG_CONS_PRECOMMIT, 1, 0, i, 7);
    ck_assert_uint_eq(r->nmsgs, 0);
    ck_assert_uint_eq(r->ndecided, 1);
    rec_free(r);
}
END_TEST

START_TEST(t_refused_signature_sends_nothing) {
    rec *r = rec_new(4, 0, NULL, false);
    r->refuse_sign = true;
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_PROPOSE, 1, 0);
    ck_assert_uint_eq(r->nmsgs, 0);
    ck_assert_int_eq(esg_cons_get_step(r->c), ESG_CONS_STEP_PREVOTE);
    rec_free(r);
}
END_TEST

/* ------------------------------------------------ what the instance holds */

/* A vote as feed_vote makes it, with a signature that differs per
 * validator, round and value (so a test sees which one it got back). */
static esg_cons_vote mk_vote(esg_cons_vote_type t, uint64_t h, uint32_t round, uint32_t who,
                             uint32_t x) {
    esg_cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = t;
    v.height = h;
    v.round = round;
    v.validator = who;
    if (x)
        v.block = hash_of(x);
    for (size_t i = 0; i < sizeof v.sig.b; i++)
        v.sig.b[i] = (uint8_t)(i + 31 * who + 7 * round + x + (uint32_t)t);
    return v;
}

static void ck_vote_eq(const esg_cons_vote *got, const esg_cons_vote *want) {
    ck_assert_int_eq(got->type, want->type);
    ck_assert_uint_eq(got->height, want->height);
    ck_assert_uint_eq(got->round, want->round);
    ck_assert_uint_eq(got->validator, want->validator);
    ck_assert(esg_hash_eq(&got->block, &want->block));
    ck_assert_mem_eq(got->sig.b, want->sig.b, sizeof got->sig.b);
}

/* rec_new with config.max_future_msgs = max_future. */
static rec *rec_new_future(size_t n, uint32_t self, const esg_cons_start_state *st,
                           size_t max_future) {
    rec *r = rec_new(n, self, st, false);
    esg_cons_free(r->c);
    r->c = NULL;
    r->cfg.max_future_msgs = max_future;
    esg_cons_callbacks cb = rec_callbacks(r);
    esg_pubkey me = key_of(self);
    esg_cons_start_state s0 = {.height = 1, .round = 0, .locked_round = -1};
    ck_assert_int_eq(esg_cons_new(&r->c, &r->cfg, &cb, &me, st ? st : &s0), 0);
    return r;
}

/* A validator of the equal 4-set that proposes none of rounds 0..2 of
 * height h (pick_follower is follower_at(1)). */
static uint32_t follower_at(uint64_t h) {
    esg_cons_validator v[4];
    for (uint32_t i = 0; i < 4; i++)
        v[i].key = key_of(i), v[i].power = 10;
    for (uint32_t i = 0; i < 4; i++)
        if (esg_cons_proposer(v, 4, h, 0) != i && esg_cons_proposer(v, 4, h, 1) != i &&
            esg_cons_proposer(v, 4, h, 2) != i)
            return i;
    ck_abort();
    return 0;
}

/* Before esg_cons_start the instance holds nothing and knows no set, and
 * wants only messages of its start height (the driver may ask while the
 * machine waits to start: a message for another height would be dropped
 * when it does). Started, it holds its own entry into the start round. */
START_TEST(t_holds_nothing_before_start) {
    uint32_t me = follower_at(5);
    esg_cons_start_state st = {.height = 5, .round = 2, .locked_round = -1};
    rec *r = rec_new(4, me, &st, false);
    uint32_t rounds[4] = {77, 77, 77, 77};
    ck_assert_uint_eq(esg_cons_held_rounds(r->c, rounds, 4), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(rounds[i], 77); /* nothing written */
    ck_assert_uint_eq(esg_cons_validator_count(r->c), 0);
    esg_cons_vote got;
    esg_cons_proposal gp;
    ck_assert(!esg_cons_held_vote(r->c, 2, ESG_CONS_PREVOTE, 0, &got));
    ck_assert(!esg_cons_held_proposal(r->c, 2, &gp));
    for (uint64_t h = 3; h <= 7; h++) {
        esg_cons_vote v = mk_vote(ESG_CONS_PREVOTE, h, 2, others(r, me, 0), 7);
        ck_assert_msg(esg_cons_wants_vote(r->c, &v) == (h == 5), "vote of height %llu",
                      (unsigned long long)h);
        ck_assert_msg(esg_cons_wants_proposal(r->c, h, 2) == (h == 5),
                      "proposal of height %llu", (unsigned long long)h);
    }
    ck_assert_uint_eq(r->nmsgs + r->ntimers, 0); /* the getters call nothing */

    ck_assert_int_eq(esg_cons_start(r->c), 0);
    ck_assert_uint_eq(esg_cons_validator_count(r->c), 4);
    ck_assert_uint_eq(esg_cons_held_rounds(r->c, rounds, 4), 1);
    ck_assert_uint_eq(rounds[0], 2);
    ck_assert_uint_eq(rounds[1], 77);
    rec_free(r);
}
END_TEST

/* A vote is wanted until it is stored; then held_vote gives it back as
 * it came (the driver sends exactly that, signature included, to a peer
 * that lacks it). A second value of the same validator, round and type
 * (equivocation) is wanted once -- it is evidence -- and then not, and
 * held_vote keeps returning the first. The driver's own votes are held
 * too: they are what it serves its peers. */
START_TEST(t_wants_vote_until_held) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    uint32_t a = others(r, me, 0), b = others(r, me, 1);
    esg_cons_vote v = mk_vote(ESG_CONS_PREVOTE, 1, 0, a, 7), got;
    ck_assert(esg_cons_wants_vote(r->c, &v));
    ck_assert(!esg_cons_held_vote(r->c, 0, ESG_CONS_PREVOTE, a, &got));
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v), 0);
    ck_assert(!esg_cons_wants_vote(r->c, &v));
    memset(&got, 0xEE, sizeof got);
    ck_assert(esg_cons_held_vote(r->c, 0, ESG_CONS_PREVOTE, a, &got));
    ck_vote_eq(&got, &v);

    /* Only that vote is held: the same validator's other type or round,
     * and another validator's vote, are still wanted and not held. */
    esg_cons_vote pc = mk_vote(ESG_CONS_PRECOMMIT, 1, 0, a, 7);
    esg_cons_vote r1 = mk_vote(ESG_CONS_PREVOTE, 1, 1, a, 7);
    esg_cons_vote vb = mk_vote(ESG_CONS_PREVOTE, 1, 0, b, 7);
    ck_assert(esg_cons_wants_vote(r->c, &pc));
    ck_assert(esg_cons_wants_vote(r->c, &r1));
    ck_assert(esg_cons_wants_vote(r->c, &vb));
    ck_assert(!esg_cons_held_vote(r->c, 0, ESG_CONS_PRECOMMIT, a, &got));
    ck_assert(!esg_cons_held_vote(r->c, 1, ESG_CONS_PREVOTE, a, &got));
    ck_assert(!esg_cons_held_vote(r->c, 0, ESG_CONS_PREVOTE, b, &got));
    /* An index outside the set names no validator: never wanted or held. */
    esg_cons_vote vx = mk_vote(ESG_CONS_PREVOTE, 1, 0, 4, 7);
    ck_assert(!esg_cons_wants_vote(r->c, &vx));
    ck_assert(!esg_cons_held_vote(r->c, 0, ESG_CONS_PREVOTE, 4, &got));

    /* Equivocation: a's prevote for 8 in the same round. */
    esg_cons_vote e = mk_vote(ESG_CONS_PREVOTE, 1, 0, a, 8);
    ck_assert(esg_cons_wants_vote(r->c, &e));
    ck_assert_int_eq(esg_cons_on_vote(r->c, &e), 0);
    ck_assert_uint_eq(r->nevidence, 1);
    ck_assert(!esg_cons_wants_vote(r->c, &e));
    ck_assert(!esg_cons_wants_vote(r->c, &v));
    memset(&got, 0xEE, sizeof got);
    ck_assert(esg_cons_held_vote(r->c, 0, ESG_CONS_PREVOTE, a, &got));
    ck_vote_eq(&got, &v); /* the first, not the second */

    /* Our own prevote (after the proposal of 7) is held as signed. */
    ck_assert(!esg_cons_held_vote(r->c, 0, ESG_CONS_PREVOTE, me, &got));
    ck_assert_int_eq(feed_proposal(r, 1, 0, 7, -1), 0);
    ck_last_vote(r, ESG_CONS_PREVOTE, 0, 7);
    ck_assert(esg_cons_held_vote(r->c, 0, ESG_CONS_PREVOTE, me, &got));
    ck_vote_eq(&got, last_vote(r));
    ck_assert(!esg_cons_wants_vote(r->c, last_vote(r)));
    rec_free(r);
}
END_TEST

/* Only the current height and the next are wanted. A next-height message
 * is wanted until it is buffered; once the buffer is full no new one is
 * (the machine would drop it: re-handling it would only cost a signature
 * check per re-send), while the current height is not affected. */
START_TEST(t_wants_current_and_next_height_only) {
    uint32_t me = follower_at(5);
    esg_cons_start_state st = {.height = 5, .round = 0, .locked_round = -1};
    rec *r = rec_new_future(4, me, &st, 3);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    uint32_t a = others(r, me, 0), b = others(r, me, 1);
    static const uint64_t other[] = {0, 1, 4, 7, 8, UINT64_MAX};
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        esg_cons_vote v = mk_vote(ESG_CONS_PREVOTE, other[i], 0, a, 7);
        ck_assert_msg(!esg_cons_wants_vote(r->c, &v), "vote of height %llu",
                      (unsigned long long)other[i]);
        ck_assert_msg(!esg_cons_wants_proposal(r->c, other[i], 0), "proposal of height %llu",
                      (unsigned long long)other[i]);
    }
    esg_cons_vote cur = mk_vote(ESG_CONS_PREVOTE, 5, 0, a, 50);
    ck_assert(esg_cons_wants_vote(r->c, &cur));
    ck_assert(esg_cons_wants_proposal(r->c, 5, 0));

    /* Next height: wanted until buffered (1 of 3); the same validator's
     * vote for another value is another message, still wanted. */
    esg_cons_vote n1 = mk_vote(ESG_CONS_PREVOTE, 6, 0, a, 60);
    esg_cons_vote n1x = mk_vote(ESG_CONS_PREVOTE, 6, 0, a, 61);
    ck_assert(esg_cons_wants_vote(r->c, &n1));
    ck_assert_int_eq(esg_cons_on_vote(r->c, &n1), 0);
    ck_assert(!esg_cons_wants_vote(r->c, &n1));
    ck_assert(esg_cons_wants_vote(r->c, &n1x));
    /* A next-height proposal (2 of 3): its round is no longer wanted,
     * the next round is. */
    ck_assert(esg_cons_wants_proposal(r->c, 6, 0));
    ck_assert_int_eq(feed_proposal(r, 6, 0, 60, -1), 0);
    ck_assert(!esg_cons_wants_proposal(r->c, 6, 0));
    ck_assert(esg_cons_wants_proposal(r->c, 6, 1));
    /* The third fills the buffer: nothing new of height 6 is wanted. */
    esg_cons_vote n2 = mk_vote(ESG_CONS_PREVOTE, 6, 0, b, 60);
    ck_assert(esg_cons_wants_vote(r->c, &n2));
    ck_assert_int_eq(esg_cons_on_vote(r->c, &n2), 0);
    ck_assert(!esg_cons_wants_vote(r->c, &n2));
    esg_cons_vote n3 = mk_vote(ESG_CONS_PRECOMMIT, 6, 0, a, 60);
    ck_assert(!esg_cons_wants_vote(r->c, &n3));
    ck_assert(!esg_cons_wants_vote(r->c, &n1x));
    ck_assert(!esg_cons_wants_proposal(r->c, 6, 1));
    /* The buffer bounds the next height only. */
    ck_assert(esg_cons_wants_vote(r->c, &cur));
    ck_assert(esg_cons_wants_proposal(r->c, 5, 0));
    /* None of that is held at the current height. */
    uint32_t rounds[4];
    ck_assert_uint_eq(esg_cons_held_rounds(r->c, rounds, 4), 1);
    ck_assert_uint_eq(rounds[0], 0);
    esg_cons_vote got;
    ck_assert(!esg_cons_held_vote(r->c, 0, ESG_CONS_PREVOTE, a, &got));
    rec_free(r);
}
END_TEST

/* Once the height is decided (step COMMIT, waiting for the commit timer)
 * no vote or proposal of it is wanted any more -- the driver must not
 * verify late messages of a height that is over -- but what decided it
 * is still held, for the peers still deciding it. The next height is
 * wanted meanwhile; after the commit timer the old height is past. */
START_TEST(t_decided_height_not_wanted) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    uint32_t a = others(r, me, 0), b = others(r, me, 1), c = others(r, me, 2);
    ck_assert_int_eq(feed_proposal(r, 1, 0, 7, -1), 0);
    esg_cons_vote pa = mk_vote(ESG_CONS_PREVOTE, 1, 0, a, 7);
    esg_cons_vote pb = mk_vote(ESG_CONS_PREVOTE, 1, 0, b, 7);
    ck_assert_int_eq(esg_cons_on_vote(r->c, &pa), 0);
    ck_assert_int_eq(esg_cons_on_vote(r->c, &pb), 0);
    ck_last_vote(r, ESG_CONS_PRECOMMIT, 0, 7);
    esg_cons_vote late_pv = mk_vote(ESG_CONS_PREVOTE, 1, 0, c, 7);
    esg_cons_vote late_pc = mk_vote(ESG_CONS_PRECOMMIT, 1, 0, c, 7);
    esg_cons_vote late_r1 = mk_vote(ESG_CONS_PREVOTE, 1, 1, c, 0);
    ck_assert(esg_cons_wants_vote(r->c, &late_pv));
    ck_assert(esg_cons_wants_vote(r->c, &late_pc));
    ck_assert(esg_cons_wants_vote(r->c, &late_r1));
    ck_assert(esg_cons_wants_proposal(r->c, 1, 1));

    esg_cons_vote ca = mk_vote(ESG_CONS_PRECOMMIT, 1, 0, a, 7);
    esg_cons_vote cb = mk_vote(ESG_CONS_PRECOMMIT, 1, 0, b, 7);
    ck_assert_int_eq(esg_cons_on_vote(r->c, &ca), 0);
    ck_assert_uint_eq(r->ndecided, 0);
    ck_assert_int_eq(esg_cons_on_vote(r->c, &cb), 0);
    ck_assert_uint_eq(r->ndecided, 1);
    ck_assert_int_eq(esg_cons_get_step(r->c), ESG_CONS_STEP_COMMIT);
    ck_assert_uint_eq(esg_cons_height(r->c), 1);

    ck_assert(!esg_cons_wants_vote(r->c, &late_pv));
    ck_assert(!esg_cons_wants_vote(r->c, &late_pc));
    ck_assert(!esg_cons_wants_vote(r->c, &late_r1));
    ck_assert(!esg_cons_wants_proposal(r->c, 1, 0));
    ck_assert(!esg_cons_wants_proposal(r->c, 1, 1));
    /* Still held: the proposal and the precommits that decided it. */
    esg_cons_vote got;
    esg_cons_proposal gp;
    ck_assert(esg_cons_held_proposal(r->c, 0, &gp));
    esg_hash h7 = hash_of(7);
    ck_assert(esg_hash_eq(&gp.value.hash, &h7));
    ck_assert(esg_cons_held_vote(r->c, 0, ESG_CONS_PRECOMMIT, a, &got));
    ck_vote_eq(&got, &ca);
    ck_assert(esg_cons_held_vote(r->c, 0, ESG_CONS_PRECOMMIT, b, &got));
    ck_vote_eq(&got, &cb);
    ck_assert(esg_cons_held_vote(r->c, 0, ESG_CONS_PRECOMMIT, me, &got));
    ck_assert(esg_hash_eq(&got.block, &h7));
    ck_assert_uint_eq(esg_cons_validator_count(r->c), 4);
    /* The next height is wanted during the pause. */
    esg_cons_vote next = mk_vote(ESG_CONS_PREVOTE, 2, 0, a, 20);
    ck_assert(esg_cons_wants_vote(r->c, &next));
    ck_assert(esg_cons_wants_proposal(r->c, 2, 0));

    /* After the pause height 2 is current and height 1 is past. */
    ck_assert_int_eq(esg_cons_on_timeout(r->c, ESG_CONS_TIMEOUT_COMMIT, 1, 0), 0);
    ck_assert_uint_eq(esg_cons_height(r->c), 2);
    ck_assert(!esg_cons_wants_vote(r->c, &late_pv));
    ck_assert(!esg_cons_wants_proposal(r->c, 1, 1));
    ck_assert(esg_cons_wants_vote(r->c, &next));
    ck_assert(!esg_cons_held_vote(r->c, 0, ESG_CONS_PRECOMMIT, a, &got));
    rec_free(r);
}
END_TEST

/* held_rounds is what a peer is told about, ascending whatever order the
 * rounds came in; when they do not all fit it writes the highest `max`
 * (those around the current round matter most) and returns the total,
 * so the driver knows it cut the list. */
START_TEST(t_held_rounds_ascending_highest_kept) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    uint32_t a = others(r, me, 0), b = others(r, me, 1);
    /* One validator per future round (10 of 40, no skip set): the node
     * stays in round 0, and a stays within its two future rounds. */
    esg_cons_vote v3 = mk_vote(ESG_CONS_PREVOTE, 1, 3, a, 0);
    esg_cons_vote v2 = mk_vote(ESG_CONS_PREVOTE, 1, 2, b, 0);
    esg_cons_vote v1 = mk_vote(ESG_CONS_PRECOMMIT, 1, 1, a, 0);
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v3), 0);
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v2), 0);
    ck_assert_int_eq(esg_cons_on_vote(r->c, &v1), 0);
    ck_assert_uint_eq(esg_cons_round(r->c), 0);

    uint32_t got[8];
    for (int i = 0; i < 8; i++)
        got[i] = 0xEEEEu;
    ck_assert_uint_eq(esg_cons_held_rounds(r->c, got, 8), 4);
    for (uint32_t i = 0; i < 4; i++)
        ck_assert_uint_eq(got[i], i);
    ck_assert_uint_eq(got[4], 0xEEEEu);

    for (int i = 0; i < 8; i++)
        got[i] = 0xEEEEu;
    ck_assert_uint_eq(esg_cons_held_rounds(r->c, got, 2), 4);
    ck_assert_uint_eq(got[0], 2);
    ck_assert_uint_eq(got[1], 3);
    ck_assert_uint_eq(got[2], 0xEEEEu);
    ck_assert_uint_eq(esg_cons_held_rounds(r->c, got, 1), 4);
    ck_assert_uint_eq(got[0], 3);
    ck_assert_uint_eq(got[1], 3); /* from the call before; untouched */
    ck_assert_uint_eq(esg_cons_held_rounds(r->c, NULL, 0), 4);
    ck_assert_uint_eq(esg_cons_held_rounds(r->c, got, 4), 4);
    for (uint32_t i = 0; i < 4; i++)
        ck_assert_uint_eq(got[i], i);
    /* And each listed round holds what was given in it. */
    esg_cons_vote hv;
    ck_assert(esg_cons_held_vote(r->c, 3, ESG_CONS_PREVOTE, a, &hv));
    ck_vote_eq(&hv, &v3);
    ck_assert(esg_cons_held_vote(r->c, 1, ESG_CONS_PRECOMMIT, a, &hv));
    ck_vote_eq(&hv, &v1);
    ck_assert(!esg_cons_held_vote(r->c, 1, ESG_CONS_PREVOTE, a, &hv));
    rec_free(r);
}
END_TEST

/* held_proposal is what the driver sends a peer that lacks a round's
 * proposal, so it must be the proposal as given: round, valid_round,
 * proposer index, hash, the bytes (the instance's own copy: the caller's
 * buffer may be gone) and the signature. */
START_TEST(t_held_proposal_as_given) {
    uint32_t me = pick_follower();
    rec *r = rec_new(4, me, NULL, false);
    ck_assert_int_eq(esg_cons_start(r->c), 0);
    static const uint8_t want0[10] = "block zero";
    static const uint8_t want1[13] = "block one, vr";
    uint8_t buf0[sizeof want0], buf1[sizeof want1];
    memcpy(buf0, want0, sizeof buf0);
    memcpy(buf1, want1, sizeof buf1);
    esg_cons_proposal p0 = {.height = 1, .round = 0, .valid_round = -1,
                            .proposer = rec_proposer(r, 1, 0)};
    p0.value.hash = hash_of(70);
    p0.value.data = buf0;
    p0.value.len = sizeof buf0;
    esg_cons_proposal p1 = {.height = 1, .round = 1, .valid_round = 0,
                            .proposer = rec_proposer(r, 1, 1)};
    p1.value.hash = hash_of(71);
    p1.value.data = buf1;
    p1.value.len = sizeof buf1;
    for (size_t i = 0; i < sizeof p0.sig.b; i++) {
        p0.sig.b[i] = (uint8_t)(0xC1 ^ i);
        p1.sig.b[i] = (uint8_t)(0x1C + 3 * i);
    }
    ck_assert_uint_ne(p0.proposer, p1.proposer); /* so a mix-up shows */
    esg_cons_proposal got;
    ck_assert(!esg_cons_held_proposal(r->c, 0, &got));
    ck_assert(!esg_cons_held_proposal(r->c, 1, &got));
    ck_assert(esg_cons_wants_proposal(r->c, 1, 0));
    ck_assert(esg_cons_wants_proposal(r->c, 1, 1));
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &p1), 0); /* a future round, first */
    ck_assert_int_eq(esg_cons_on_proposal(r->c, &p0), 0);
    memset(buf0, 0, sizeof buf0);
    memset(buf1, 0, sizeof buf1);

    const esg_cons_proposal *want[2] = {&p0, &p1};
    const uint8_t *bytes[2] = {want0, want1};
    for (uint32_t k = 0; k < 2; k++) {
        memset(&got, 0xEE, sizeof got);
        ck_assert(esg_cons_held_proposal(r->c, k, &got));
        ck_assert_uint_eq(got.height, 1);
        ck_assert_uint_eq(got.round, k);
        ck_assert_int_eq(got.valid_round, want[k]->valid_round);
        ck_assert_uint_eq(got.proposer, want[k]->proposer);
        ck_assert(esg_hash_eq(&got.value.hash, &want[k]->value.hash));
        ck_assert_uint_eq(got.value.len, want[k]->value.len);
        ck_assert_ptr_nonnull(got.value.data);
        ck_assert_mem_eq(got.value.data, bytes[k], got.value.len);
        ck_assert_mem_eq(got.sig.b, want[k]->sig.b, sizeof got.sig.b);
        ck_assert(!esg_cons_wants_proposal(r->c, 1, k));
    }
    ck_assert(!esg_cons_held_proposal(r->c, 2, &got));
    ck_assert(esg_cons_wants_proposal(r->c, 1, 2));
    rec_free(r);
}
END_TEST

/* Random fields everywhere -- heights, rounds, indices, types, valid
 * rounds, hashes, lengths, timers, commits -- in any order: the machine
 * rejects or ignores what is bad and never crashes (ASan watches). */
static uint64_t fz_next(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * UINT64_C(0x2545F4914F6CDD1D);
}

START_TEST(t_random_input_never_crashes) {
    uint64_t x = 0x243F6A8885A308D3u;
#define RND() fz_next(&x)
    for (int inst = 0; inst < 20; inst++) {
        rec *r = rec_new(4, (uint32_t)(RND() % 5), NULL, inst % 2 == 1);
        r->sink = true;
        ck_assert_int_eq(esg_cons_start(r->c), 0);
        uint8_t data[16] = {0};
        esg_cons_vote cv[6];
        for (int i = 0; i < 5000; i++) {
            uint64_t h = esg_cons_height(r->c) + RND() % 3 - 1;
            if (RND() % 50 == 0)
                h = RND();
            uint32_t round = (uint32_t)(RND() % 4);
            if (RND() % 50 == 0)
                round = (uint32_t)RND();
            esg_hash hash = hash_of((uint32_t)(RND() % 4));
            if (RND() % 8 == 0)
                memset(&hash, 0, sizeof hash);
            int rc = 0;
            switch (RND() % 6) {
            case 0: {
                esg_cons_proposal p = {.height = h, .round = round,
                                       .valid_round = (int32_t)(RND() % 5) - 2,
                                       .proposer = (uint32_t)(RND() % 6)};
                if (RND() % 2)
                    p.proposer = rec_proposer(r, h, round);
                p.value.hash = hash;
                p.value.data = data;
                p.value.len = RND() % sizeof data;
                rc = esg_cons_on_proposal(r->c, &p);
                break;
            }
            case 1:
            case 2:
            case 3: {
                esg_cons_vote v;
                memset(&v, 0, sizeof v);
                v.type = (esg_cons_vote_type)(RND() % 4);
                v.height = h;
                v.round = round;
                v.validator = (uint32_t)(RND() % 6);
                v.block = hash;
                rc = esg_cons_on_vote(r->c, &v);
                break;
            }
            case 4:
                rc = esg_cons_on_timeout(r->c, (esg_cons_timeout)(RND() % 4), h, round);
                break;
            default: {
                size_t n = RND() % 6;
                for (size_t k = 0; k < n; k++) {
                    cv[k] = commit_vote((uint32_t)(RND() % 6), h, round, (uint32_t)(RND() % 4));
                    if (RND() % 4 == 0)
                        cv[k].type = ESG_CONS_PREVOTE;
                }
                esg_cons_value v = {hash, data, sizeof data};
                rc = esg_cons_on_commit(r->c, h, round, &v, cv, n);
                break;
            }
            }
            ck_assert(rc == 0 || rc == ESG_ERR_BAD_CONSENSUS_MSG || rc == ESG_ERR_BAD_COMMIT);
        }
        ck_assert_uint_gt(r->nout, 0);
        rec_free(r);
    }
#undef RND
}
END_TEST

/* ================================================================ sim */

/* check's ck_assert costs a system call even when it passes (it records
 * the location); the simulator's hot path checks with these instead. */
#define SIM_CHECK(x) \
    do { \
        if (!(x)) \
            ck_abort_msg("simulator check failed: %s", #x); \
    } while (0)
#define SIM_CHECK_EQ(a, b) SIM_CHECK((a) == (b))
#define SIM_CHECK_LT(a, b) SIM_CHECK((a) < (b))
#define SIM_CHECK_LE(a, b) SIM_CHECK((a) <= (b))

#define SIM_MAXV 7      /* validators */
#define SIM_MAXI 10     /* instances (twins add one each) */
#define SIM_MAXH 4      /* target heights at most */
#define SIM_VAL_LEN 24  /* value bytes: [0] valid flag, [1] instance, [2..9]
                           height, [10..13] counter */
#define SIM_MAXPROPOSED 4096

typedef enum sim_ev_kind {
    EV_MSG,
    EV_TIMER,
    EV_TICK,
    EV_STATUS,
    EV_COMMIT,
    EV_PARTITION,
    EV_CRASH,
    EV_RESTART,
    EV_ISOLATE,
    EV_PLAN
} sim_ev_kind;

typedef struct sim_block {
    uint8_t val[SIM_VAL_LEN];
    esg_hash hash;
    uint32_t round;
    esg_cons_vote votes[SIM_MAXV];
    size_t n;
} sim_block;

typedef struct sim_event {
    uint64_t time, seq;
    sim_ev_kind kind;
    int to, from;
    uint32_t epoch;
    union {
        struct {
            esg_cons_msg m;
            uint8_t val[SIM_VAL_LEN];
        } msg;
        struct {
            esg_cons_timeout kind;
            uint64_t h;
            uint32_t r;
        } timer;
        uint64_t status_height;
        struct {
            uint64_t h;
            sim_block b;
        } commit;
    } u;
} sim_event;

/* What survives a crash. */
typedef struct sim_disk {
    bool signed_any;
    uint64_t h;
    uint32_t r;
    int step; /* 1 proposal, 2 prevote, 3 precommit */
    esg_hash signed_hash;
    esg_cons_lock lock;
    uint64_t decided; /* heights 1..decided are in block[] */
    sim_block block[SIM_MAXH + 1];
} sim_disk;

typedef struct sim_sent {
    esg_cons_msg m;
    uint8_t val[SIM_VAL_LEN];
} sim_sent;

typedef struct sim sim;

typedef struct sim_node {
    sim *s;
    int id;
    uint32_t val;
    bool byz;
    bool up;
    uint32_t epoch;
    int group;
    esg_cons *cons;
    sim_disk disk;
    sim_sent *sent; /* own messages of sent_height: gossip, and the WAL
                       that survives a crash */
    size_t nsent, capsent;
    uint64_t sent_height;
    uint32_t counter;
} sim_node;

typedef struct sim_params {
    size_t nval;
    uint64_t powers[SIM_MAXV];
    bool twin[SIM_MAXV];
    bool ignore_lock;
    uint64_t heights;
    bool check_liveness;
} sim_params;

typedef struct sim_stats {
    uint64_t schedules, decisions, agreement_violations, validity_violations,
        liveness_failures, schedules_with_violation, crashes, commits_synced, evidence;
    uint64_t max_after_heal_ms;
    uint64_t first_bad_seed;
} sim_stats;

struct sim {
    uint64_t rng;
    uint64_t now, seq;
    sim_params p;
    esg_cons_validator vals[SIM_MAXV];
    uint64_t total;
    esg_cons_config cfg;
    sim_node node[SIM_MAXI];
    int ninst;
    /* the schedule's faults */
    unsigned drop_pct, drop_after_pct, dup_pct, long_pct;
    uint32_t dmax, long_max;
    bool isolate_deciders; /* the adversary cuts off a node that decides */
    int deaf;              /* -1, or an instance that misses every message */
    int deaf_kind;         /* of this kind (as slow_kind) until deaf_until */
    uint64_t deaf_until;
    int style;                  /* partition style, see sim_run */
    int plan[2][SIM_MAXI];      /* split brain: the groups of each phase */
    int slow_kind;     /* -1, or a message kind the adversary slows down: */
    uint32_t slow_max; /* 0 proposal, 1 prevote, 2 precommit */
    uint64_t heal, gossip_ms, deadline;
    /* results */
    bool have_first[SIM_MAXH + 1];
    esg_hash first[SIM_MAXH + 1];
    esg_hash proposed[SIM_MAXPROPOSED];
    size_t nproposed;
    bool violation;
    bool trace; /* ESG_SIM_SEED=n: run schedule n alone, printing it */
    sim_stats *st;
    uint8_t valbuf[SIM_VAL_LEN];
    /* events: a pool and an index heap */
    sim_event *pool;
    uint32_t *freel, *heap;
    size_t cap, nfree, nheap, used;
};

static uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static uint32_t rng_below(uint64_t *s, uint32_t n) {
    return (uint32_t)(rng_next(s) % n);
}

static bool rng_pct(uint64_t *s, unsigned pct) {
    return rng_below(s, 100) < pct;
}

/* ---- event queue */

static bool ev_less(const sim *s, uint32_t a, uint32_t b) {
    const sim_event *x = &s->pool[a], *y = &s->pool[b];
    return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

static sim_event *ev_new(sim *s, sim_ev_kind kind, int to, uint64_t at) {
    uint32_t i;
    if (s->nfree) {
        i = s->freel[--s->nfree];
    } else {
        if (s->used == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 1024;
            s->pool = realloc(s->pool, cap * sizeof *s->pool);
            s->freel = realloc(s->freel, cap * sizeof *s->freel);
            s->heap = realloc(s->heap, cap * sizeof *s->heap);
            SIM_CHECK(s->pool && s->freel && s->heap);
            s->cap = cap;
        }
        i = (uint32_t)s->used++;
    }
    sim_event *e = &s->pool[i];
    memset(e, 0, offsetof(sim_event, u));
    e->time = at;
    e->seq = s->seq++;
    e->kind = kind;
    e->to = to;
    e->from = -1;
    /* sift up */
    size_t k = s->nheap++;
    s->heap[k] = i;
    while (k > 0) {
        size_t parent = (k - 1) / 2;
        if (!ev_less(s, s->heap[k], s->heap[parent]))
            break;
        uint32_t t = s->heap[k];
        s->heap[k] = s->heap[parent];
        s->heap[parent] = t;
        k = parent;
    }
    return e;
}

/* Pops the earliest event; its slot is reused after the next ev_new, so
 * the caller copies what it needs first (ev_pop returns a copy). */
static void ev_pop(sim *s, sim_event *out) {
    uint32_t top = s->heap[0];
    *out = s->pool[top];
    s->freel[s->nfree++] = top;
    s->heap[0] = s->heap[--s->nheap];
    size_t k = 0;
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < s->nheap && ev_less(s, s->heap[l], s->heap[m]))
            m = l;
        if (r < s->nheap && ev_less(s, s->heap[r], s->heap[m]))
            m = r;
        if (m == k)
            break;
        uint32_t t = s->heap[k];
        s->heap[k] = s->heap[m];
        s->heap[m] = t;
        k = m;
    }
}

/* ---- network */

static bool connected(const sim *s, int a, int b) {
    return s->now >= s->heal || s->node[a].group == s->node[b].group;
}

static int msg_class(const sim_event *e) {
    if (e->kind != EV_MSG)
        return -1;
    if (e->u.msg.m.kind == ESG_CONS_MSG_PROPOSAL)
        return 0;
    return e->u.msg.m.u.vote.type == ESG_CONS_PREVOTE ? 1 : 2;
}

static uint64_t net_delay(sim *s, const sim_event *tmpl) {
    uint64_t d = 1 + rng_below(&s->rng, s->dmax);
    if (s->long_pct && rng_pct(&s->rng, s->long_pct))
        d += rng_below(&s->rng, s->long_max);
    if (s->slow_kind >= 0 && msg_class(tmpl) == s->slow_kind && s->now < s->heal)
        d += rng_below(&s->rng, s->slow_max);
    return d;
}

/* Sends a copy of `tmpl` (kind, payload) from `from` to `to` through the
 * faulty network: maybe dropped, delayed, duplicated. */
static void net_send(sim *s, int from, int to, const sim_event *tmpl) {
    if (!connected(s, from, to))
        return;
    unsigned drop = s->now >= s->heal ? s->drop_after_pct : s->drop_pct;
    int copies = rng_pct(&s->rng, s->dup_pct) ? 2 : 1;
    for (int c = 0; c < copies; c++) {
        if (drop && rng_pct(&s->rng, drop))
            continue;
        sim_event *e = ev_new(s, tmpl->kind, to, s->now + net_delay(s, tmpl));
        e->from = from;
        e->u = tmpl->u;
        if (e->kind == EV_MSG && e->u.msg.m.kind == ESG_CONS_MSG_PROPOSAL)
            e->u.msg.m.u.proposal.value.data = NULL; /* re-pointed on delivery */
    }
}

static void net_broadcast(sim *s, int from, const sim_event *tmpl) {
    for (int j = 0; j < s->ninst; j++)
        if (j != from)
            net_send(s, from, j, tmpl);
}

static void msg_event(sim_event *t, const esg_cons_msg *m, const uint8_t *val) {
    memset(t, 0, sizeof *t);
    t->kind = EV_MSG;
    t->u.msg.m = *m;
    if (m->kind == ESG_CONS_MSG_PROPOSAL) {
        SIM_CHECK_EQ(m->u.proposal.value.len, SIM_VAL_LEN);
        memcpy(t->u.msg.val, val, SIM_VAL_LEN);
    }
}

/* ---- callbacks */

static esg_hash val_hash(const uint8_t *v) {
    return esg_sha256(v, SIM_VAL_LEN);
}

static size_t sim_validators(void *ctx, uint64_t h, const esg_cons_validator **out) {
    (void)h;
    sim_node *nd = ctx;
    *out = nd->s->vals;
    return nd->s->p.nval;
}

static bool sim_get_value(void *ctx, uint64_t h, esg_cons_value *out) {
    sim_node *nd = ctx;
    sim *s = nd->s;
    uint8_t *buf = s->valbuf;
    memset(buf, 0, SIM_VAL_LEN);
    /* Byzantine instances propose garbage a quarter of the time. */
    buf[0] = nd->byz && rng_pct(&s->rng, 25) ? 0 : 1;
    buf[1] = (uint8_t)nd->id;
    memcpy(buf + 2, &h, 8);
    uint32_t ctr = nd->counter++;
    memcpy(buf + 10, &ctr, 4);
    out->hash = val_hash(buf);
    out->data = buf;
    out->len = SIM_VAL_LEN;
    SIM_CHECK_LT(s->nproposed, SIM_MAXPROPOSED);
    s->proposed[s->nproposed++] = out->hash;
    return true;
}

static bool sim_valid(void *ctx, uint64_t h, const esg_cons_value *v) {
    (void)ctx;
    uint64_t vh;
    if (v->len != SIM_VAL_LEN || v->data[0] != 1)
        return false;
    memcpy(&vh, v->data + 2, 8);
    return vh == h;
}

/* The FilePV rule: never sign below the last (height, round, step), and at
 * the same one only the same hash again. Persists the lock with it. */
static bool sim_sign(sim_node *nd, uint64_t h, uint32_t r, int step, const esg_hash *hash,
                     const esg_cons_lock *lock, esg_sig *sig) {
    sim_disk *d = &nd->disk;
    if (d->signed_any) {
        int cmp = h != d->h ? (h < d->h ? -1 : 1)
                  : r != d->r ? (r < d->r ? -1 : 1)
                  : step != d->step ? (step < d->step ? -1 : 1)
                                    : 0;
        if (cmp < 0 || (cmp == 0 && !esg_hash_eq(hash, &d->signed_hash)))
            return false;
    }
    d->signed_any = true;
    d->h = h;
    d->r = r;
    d->step = step;
    d->signed_hash = *hash;
    d->lock = *lock;
    memset(sig, 0, sizeof *sig);
    sig->b[0] = (uint8_t)nd->val;
    sig->b[1] = (uint8_t)step;
    return true;
}

static bool sim_sign_proposal(void *ctx, const esg_cons_proposal *p, const esg_cons_lock *l,
                              esg_sig *sig) {
    return sim_sign(ctx, p->height, p->round, 1, &p->value.hash, l, sig);
}

static bool sim_sign_vote(void *ctx, const esg_cons_vote *v, const esg_cons_lock *l,
                          esg_sig *sig) {
    return sim_sign(ctx, v->height, v->round, v->type == ESG_CONS_PREVOTE ? 2 : 3, &v->block, l,
                    sig);
}

static void sim_broadcast(void *ctx, const esg_cons_msg *m) {
    sim_node *nd = ctx;
    sim *s = nd->s;
    uint64_t h = m->kind == ESG_CONS_MSG_PROPOSAL ? m->u.proposal.height : m->u.vote.height;
    if (h != nd->sent_height) {
        nd->sent_height = h;
        nd->nsent = 0;
    }
    if (nd->nsent == nd->capsent) {
        nd->capsent = nd->capsent ? 2 * nd->capsent : 32;
        nd->sent = realloc(nd->sent, nd->capsent * sizeof *nd->sent);
        SIM_CHECK(nd->sent);
    }
    sim_sent *slot = &nd->sent[nd->nsent++];
    slot->m = *m;
    if (m->kind == ESG_CONS_MSG_PROPOSAL)
        memcpy(slot->val, m->u.proposal.value.data, SIM_VAL_LEN);
    if (s->trace) {
        if (m->kind == ESG_CONS_MSG_PROPOSAL)
            printf("%6llu n%d SENDS PROPOSAL h%llu r%u vr%d %02x%02x\n", (unsigned long long)s->now,
                   nd->id, (unsigned long long)h, m->u.proposal.round, m->u.proposal.valid_round,
                   m->u.proposal.value.hash.b[0], m->u.proposal.value.hash.b[1]);
        else
            printf("%6llu n%d SENDS %s h%llu r%u %02x%02x\n", (unsigned long long)s->now, nd->id,
                   m->u.vote.type == ESG_CONS_PREVOTE ? "PREVOTE" : "PRECOMMIT",
                   (unsigned long long)h, m->u.vote.round, m->u.vote.block.b[0],
                   m->u.vote.block.b[1]);
    }
    sim_event t;
    msg_event(&t, m, slot->val);
    net_broadcast(s, nd->id, &t);
}

static void sim_schedule(void *ctx, esg_cons_timeout kind, uint64_t h, uint32_t r, uint32_t ms) {
    sim_node *nd = ctx;
    sim_event *e = ev_new(nd->s, EV_TIMER, nd->id, nd->s->now + ms);
    e->epoch = nd->epoch;
    e->u.timer.kind = kind;
    e->u.timer.h = h;
    e->u.timer.r = r;
}

static void sim_violation(sim *s) {
    s->violation = true;
}

static void sim_decide(void *ctx, uint64_t h, uint32_t round, const esg_cons_value *v,
                       const esg_cons_vote *commit, size_t n) {
    sim_node *nd = ctx;
    sim *s = nd->s;
    SIM_CHECK_EQ(h, nd->disk.decided + 1);
    SIM_CHECK_LE(n, SIM_MAXV);
    if (h <= SIM_MAXH) {
        sim_block *b = &nd->disk.block[h];
        memcpy(b->val, v->data, SIM_VAL_LEN);
        b->hash = v->hash;
        b->round = round;
        memcpy(b->votes, commit, n * sizeof *commit);
        b->n = n;
    }
    nd->disk.decided = h;
    if (s->isolate_deciders && s->now < s->heal && rng_pct(&s->rng, 100))
        ev_new(s, EV_ISOLATE, nd->id, s->now);
    if (s->trace)
        printf("%6llu n%d DECIDES h%llu r%u %02x%02x\n", (unsigned long long)s->now, nd->id,
               (unsigned long long)h, round, v->hash.b[0], v->hash.b[1]);
    if (nd->byz || h > s->p.heights)
        return; /* (a node restarted after its last height goes on) */
    s->st->decisions++;
    /* Validity: proposed by someone, valid, named by its hash, committed
     * by > 2/3 of the power of distinct validators. */
    bool proposed = false;
    for (size_t i = 0; i < s->nproposed && !proposed; i++)
        proposed = esg_hash_eq(&s->proposed[i], &v->hash);
    esg_hash vh = val_hash(v->data);
    uint64_t power = 0;
    bool seen[SIM_MAXV] = {false}, commit_ok = true;
    for (size_t i = 0; i < n; i++) {
        if (commit[i].validator >= s->p.nval || seen[commit[i].validator] ||
            !esg_hash_eq(&commit[i].block, &v->hash) || commit[i].height != h ||
            commit[i].type != ESG_CONS_PRECOMMIT)
            commit_ok = false;
        else
            seen[commit[i].validator] = true, power += s->vals[commit[i].validator].power;
    }
    if (!proposed || !sim_valid(ctx, h, v) || !esg_hash_eq(&vh, &v->hash) || !commit_ok ||
        power * 3 <= s->total * 2) {
        s->st->validity_violations++;
        sim_violation(s);
    }
    if (h > SIM_MAXH)
        return;
    if (!s->have_first[h]) {
        s->have_first[h] = true;
        s->first[h] = v->hash;
    } else if (!esg_hash_eq(&s->first[h], &v->hash)) {
        s->st->agreement_violations++;
        sim_violation(s);
    }
}

static void sim_evidence(void *ctx, const esg_cons_vote *a, const esg_cons_vote *b) {
    sim_node *nd = ctx;
    /* Only twins equivocate. */
    SIM_CHECK(nd->s->p.twin[a->validator]);
    SIM_CHECK_EQ(a->validator, b->validator);
    nd->s->st->evidence++;
}

/* ---- nodes */

static void node_boot(sim *s, sim_node *nd) {
    esg_cons_callbacks cb = {
        .ctx = nd,
        .validators = sim_validators,
        .get_value = sim_get_value,
        .valid = sim_valid,
        .sign_proposal = sim_sign_proposal,
        .sign_vote = sim_sign_vote,
        .broadcast = sim_broadcast,
        .schedule_timeout = sim_schedule,
        .decide = sim_decide,
        .evidence = sim_evidence,
    };
    esg_cons_start_state st = {.height = nd->disk.decided + 1, .round = 0, .locked_round = -1};
    if (nd->disk.signed_any && nd->disk.h == st.height) {
        st.round = nd->disk.r;
        st.locked_round = nd->disk.lock.locked_round;
        st.locked = nd->disk.lock.locked;
    }
    esg_pubkey key = s->vals[nd->val].key;
    nd->up = true;
    SIM_CHECK_EQ(esg_cons_new(&nd->cons, &s->cfg, &cb, &key, &st), 0);
    SIM_CHECK_EQ(esg_cons_start(nd->cons), 0);
    /* The write-ahead log: what this node signed at its height counts
     * again (and is gossiped again), as after a real restart. */
    size_t nlog = nd->sent_height == st.height ? nd->nsent : 0;
    for (size_t i = 0; i < nlog && nd->cons; i++) {
        esg_cons_msg m = nd->sent[i].m;
        if (m.kind == ESG_CONS_MSG_PROPOSAL) {
            m.u.proposal.value.data = nd->sent[i].val;
            SIM_CHECK_EQ(esg_cons_on_proposal(nd->cons, &m.u.proposal), 0);
        } else {
            SIM_CHECK_EQ(esg_cons_on_vote(nd->cons, &m.u.vote), 0);
        }
    }
    sim_event *e = ev_new(s, EV_TICK, nd->id, s->now + 1 + rng_below(&s->rng, (uint32_t)s->gossip_ms));
    e->epoch = nd->epoch;
}

static void node_crash(sim *s, sim_node *nd) {
    (void)s;
    if (!nd->up)
        return;
    esg_cons_free(nd->cons);
    nd->cons = NULL;
    nd->up = false;
    nd->epoch++;
    s->st->crashes++;
}

/* Gossip: every instance re-sends what it signed at its height (all
 * rounds: a proposal may cite an old round's prevotes) and announces its
 * height, so a peer that decided it can send the block and commit. */
static void node_tick(sim *s, sim_node *nd) {
    uint64_t h = esg_cons_height(nd->cons);
    if (nd->sent_height == h) {
        for (size_t i = 0; i < nd->nsent; i++) {
            const sim_sent *m = &nd->sent[i];
            sim_event t;
            msg_event(&t, &m->m, m->val);
            net_broadcast(s, nd->id, &t);
        }
    }
    sim_event t;
    memset(&t, 0, sizeof t);
    t.kind = EV_STATUS;
    t.u.status_height = h;
    net_broadcast(s, nd->id, &t);
    sim_event *e = ev_new(s, EV_TICK, nd->id, s->now + s->gossip_ms);
    e->epoch = nd->epoch;
}

static void regroup(sim *s) {
    uint32_t ng = 1 + rng_below(&s->rng, 2);
    for (int i = 0; i < s->ninst; i++)
        s->node[i].group = (int)rng_below(&s->rng, ng);
    /* The two halves of a twin never share a partition. */
    for (int i = 0; i < s->ninst; i++)
        for (int j = i + 1; j < s->ninst; j++)
            if (s->node[i].val == s->node[j].val && s->node[i].group == s->node[j].group)
                s->node[j].group = (s->node[i].group + 1) % (int)(ng < 2 ? 2 : ng);
    if (s->trace) {
        printf("%6llu groups:", (unsigned long long)s->now);
        for (int i = 0; i < s->ninst; i++)
            printf(" n%d(v%u%s)=%d", i, s->node[i].val, s->node[i].byz ? "*" : "", s->node[i].group);
        printf("\n");
    }
}

static void trace_event(const sim *s, const sim_event *e) {
    const sim_node *nd = &s->node[e->to];
    printf("%6llu ", (unsigned long long)s->now);
    if (nd->cons)
        printf("n%d[v%u h%llu r%u s%d] ", e->to, nd->val,
               (unsigned long long)esg_cons_height(nd->cons), esg_cons_round(nd->cons),
               (int)esg_cons_get_step(nd->cons));
    else
        printf("n%d[down] ", e->to);
    switch (e->kind) {
    case EV_MSG:
        if (e->u.msg.m.kind == ESG_CONS_MSG_PROPOSAL)
            printf("<- n%d PROPOSAL h%llu r%u vr%d %02x%02x\n", e->from,
                   (unsigned long long)e->u.msg.m.u.proposal.height, e->u.msg.m.u.proposal.round,
                   e->u.msg.m.u.proposal.valid_round, e->u.msg.m.u.proposal.value.hash.b[0],
                   e->u.msg.m.u.proposal.value.hash.b[1]);
        else
            printf("<- n%d %s h%llu r%u v%u %02x%02x\n", e->from,
                   e->u.msg.m.u.vote.type == ESG_CONS_PREVOTE ? "PREVOTE" : "PRECOMMIT",
                   (unsigned long long)e->u.msg.m.u.vote.height, e->u.msg.m.u.vote.round,
                   e->u.msg.m.u.vote.validator, e->u.msg.m.u.vote.block.b[0],
                   e->u.msg.m.u.vote.block.b[1]);
        break;
    case EV_TIMER:
        printf("timer %d h%llu r%u%s\n", (int)e->u.timer.kind,
               (unsigned long long)e->u.timer.h, e->u.timer.r,
               e->epoch == nd->epoch ? "" : " (stale epoch)");
        break;
    case EV_TICK: printf("tick\n"); break;
    case EV_STATUS: printf("<- n%d status h%llu\n", e->from, (unsigned long long)e->u.status_height); break;
    case EV_COMMIT: printf("<- n%d commit h%llu\n", e->from, (unsigned long long)e->u.commit.h); break;
    case EV_PARTITION: printf("partition\n"); break;
    case EV_CRASH: printf("crash\n"); break;
    case EV_RESTART: printf("restart\n"); break;
    case EV_ISOLATE: printf("isolate\n"); break;
    case EV_PLAN: printf("plan phase %llu\n", (unsigned long long)e->u.status_height); break;
    }
}

/* The split-brain strategy. Honest instances in a random order H; one
 * half of each twin pair "a", the other "b". Until t1: {a halves, first
 * half of H} against the rest; from t1 to the heal: {b halves, second
 * half of H, plus the last node L of the first half} against the rest. L,
 * in both quorums, is often deaf to precommits until t1, so it locks in
 * phase one without deciding -- the setting in which a broken lock rule
 * forks and a correct one does not. */
static void plan_split(sim *s, uint64_t t1) {
    int h[SIM_MAXI], nh = 0;
    for (int i = 0; i < s->ninst; i++)
        if (!s->node[i].byz)
            h[nh++] = i;
    for (int i = nh - 1; i > 0; i--) {
        int j = (int)rng_below(&s->rng, (uint32_t)i + 1), t = h[i];
        h[i] = h[j], h[j] = t;
    }
    /* The proposer rotation is public: put the first proposer in phase
     * one's group (a twin proposer is there through its "a" half). */
    uint32_t first = esg_cons_proposer(s->vals, s->p.nval, 1, 0);
    for (int i = 1; i < nh; i++)
        if (s->node[h[i]].val == first) {
            int t = h[0];
            h[0] = h[i], h[i] = t;
        }
    int k = (nh + 1) / 2;
    for (int i = 0; i < s->ninst; i++)
        s->plan[0][i] = s->plan[1][i] = 1;
    for (int i = 0; i < k; i++)
        s->plan[0][h[i]] = 0;
    for (int i = k - 1; i < nh; i++)
        s->plan[1][h[i]] = 0;
    for (int i = 0; i < s->ninst; i++)
        for (int j = i + 1; j < s->ninst; j++)
            if (s->node[i].val == s->node[j].val) {
                int a = rng_below(&s->rng, 2) ? i : j, b = a == i ? j : i;
                /* and the a half is the one whose proposal phase one sees */
                s->plan[0][a] = 0, s->plan[1][b] = 0;
            }
    if (nh > 0 && rng_below(&s->rng, 4)) {
        s->deaf = h[k - 1];
        s->deaf_kind = 2;
        s->deaf_until = t1;
    }
    for (int i = 0; i < s->ninst; i++)
        s->node[i].group = s->plan[0][i];
    if (s->trace) {
        for (int ph = 0; ph < 2; ph++) {
            printf("plan %d:", ph);
            for (int i = 0; i < s->ninst; i++)
                printf(" n%d=%d", i, s->plan[ph][i]);
            printf("\n");
        }
    }
    sim_event *e = ev_new(s, EV_PLAN, 0, t1);
    e->u.status_height = 1; /* the phase to apply */
}

static void deliver(sim *s, const sim_event *e) {
    sim_node *nd = &s->node[e->to];
    if (s->trace)
        trace_event(s, e);
    if (e->kind == EV_PARTITION) {
        regroup(s);
        return;
    }
    if (e->kind == EV_PLAN) {
        for (int i = 0; i < s->ninst; i++)
            s->node[i].group = s->plan[e->u.status_height][i];
        return;
    }
    if (e->kind == EV_ISOLATE) {
        /* The decider (with one half of each twin pair it is not part
         * of) against everyone else. */
        if (s->now < s->heal) {
            for (int i = 0; i < s->ninst; i++)
                s->node[i].group = i == e->to ? 1 : 0;
            for (int i = 0; i < s->ninst; i++)
                for (int j = i + 1; j < s->ninst; j++)
                    if (s->node[i].val == s->node[j].val && s->node[i].group == s->node[j].group)
                        s->node[rng_below(&s->rng, 2) ? i : j].group = 1;
        }
        return;
    }
    /* A cut link also loses what was in flight on it. */
    if (e->from >= 0 && !connected(s, e->from, e->to))
        return;
    if (e->to == s->deaf && s->now < s->deaf_until && msg_class(e) == s->deaf_kind)
        return;
    if (e->kind == EV_RESTART) {
        if (!nd->up)
            node_boot(s, nd);
        return;
    }
    if (!nd->up)
        return;
    switch (e->kind) {
    case EV_MSG: {
        esg_cons_msg m = e->u.msg.m;
        int rc;
        if (m.kind == ESG_CONS_MSG_PROPOSAL) {
            m.u.proposal.value.data = e->u.msg.val;
            rc = esg_cons_on_proposal(nd->cons, &m.u.proposal);
        } else {
            rc = esg_cons_on_vote(nd->cons, &m.u.vote);
        }
        SIM_CHECK_EQ(rc, 0); /* peers are well-formed, even twins */
        break;
    }
    case EV_TIMER:
        /* A node stops after the last target height (it still answers
         * block sync). */
        if (e->u.timer.kind == ESG_CONS_TIMEOUT_COMMIT && e->u.timer.h >= s->p.heights)
            break;
        if (e->epoch == nd->epoch)
            SIM_CHECK_EQ(
                esg_cons_on_timeout(nd->cons, e->u.timer.kind, e->u.timer.h, e->u.timer.r), 0);
        break;
    case EV_TICK:
        if (e->epoch == nd->epoch)
            node_tick(s, nd);
        break;
    case EV_STATUS: {
        uint64_t h = e->u.status_height;
        if (h >= 1 && h <= SIM_MAXH && nd->disk.decided >= h) {
            sim_event t;
            memset(&t, 0, sizeof t);
            t.kind = EV_COMMIT;
            t.u.commit.h = h;
            t.u.commit.b = nd->disk.block[h];
            net_send(s, nd->id, e->from, &t);
        }
        break;
    }
    case EV_COMMIT: {
        const sim_block *b = &e->u.commit.b;
        esg_cons_value v = {b->hash, b->val, SIM_VAL_LEN};
        uint64_t before = nd->disk.decided;
        SIM_CHECK_EQ(esg_cons_on_commit(nd->cons, e->u.commit.h, b->round, &v, b->votes, b->n),
                         0);
        if (nd->disk.decided > before)
            s->st->commits_synced++;
        break;
    }
    case EV_CRASH:
        node_crash(s, nd);
        break;
    default:
        break;
    }
}

static bool all_honest_done(const sim *s) {
    for (int i = 0; i < s->ninst; i++)
        if (!s->node[i].byz && (!s->node[i].up || s->node[i].disk.decided < s->p.heights))
            return false;
    return true;
}

static void sim_reset(sim *s) {
    for (int i = 0; i < s->ninst; i++) {
        esg_cons_free(s->node[i].cons);
        free(s->node[i].sent);
    }
    memset(s->node, 0, sizeof s->node);
    s->nheap = s->nfree = s->used = 0;
    s->now = s->seq = 0;
    s->nproposed = 0;
    memset(s->have_first, 0, sizeof s->have_first);
    s->violation = false;
}

static void sim_free(sim *s) {
    sim_reset(s);
    free(s->pool);
    free(s->freel);
    free(s->heap);
}

/* Runs one schedule drawn from `seed`; returns true if it violated a
 * property (the stats say which). */
static bool sim_run(sim *s, const sim_params *p, uint64_t seed, sim_stats *st) {
    sim_reset(s);
    s->p = *p;
    s->st = st;
    s->rng = seed * UINT64_C(0x9E3779B97F4A7C15) + 0x1234567;
    if (!s->rng)
        s->rng = 1;
    s->total = 0;
    for (size_t v = 0; v < p->nval; v++) {
        memset(&s->vals[v], 0, sizeof s->vals[v]);
        s->vals[v].key.b[0] = (uint8_t)(v + 1);
        s->vals[v].power = p->powers[v];
        s->total += p->powers[v];
    }
    esg_cons_config_default(&s->cfg);
    s->cfg.propose_ms = 100, s->cfg.propose_delta_ms = 50;
    s->cfg.prevote_ms = 50, s->cfg.prevote_delta_ms = 25;
    s->cfg.precommit_ms = 50, s->cfg.precommit_delta_ms = 25;
    s->cfg.commit_ms = rng_below(&s->rng, 2) ? 0 : 20;
    s->cfg.test_ignore_lock = p->ignore_lock;

    s->ninst = 0;
    for (size_t v = 0; v < p->nval; v++)
        for (int copy = 0; copy < (p->twin[v] ? 2 : 1); copy++) {
            SIM_CHECK_LT(s->ninst, SIM_MAXI);
            sim_node *nd = &s->node[s->ninst];
            nd->s = s;
            nd->id = s->ninst++;
            nd->val = (uint32_t)v;
            nd->byz = p->twin[v];
        }

    /* The schedule's faults. */
    static const unsigned drops[] = {0, 5, 15, 30};
    static const uint32_t dmaxes[] = {5, 20, 60, 150};
    s->drop_pct = drops[rng_below(&s->rng, 4)];
    s->drop_after_pct = rng_below(&s->rng, 3) ? 0 : 10;
    s->dup_pct = rng_below(&s->rng, 2) ? 0 : 10;
    s->dmax = dmaxes[rng_below(&s->rng, 4)];
    s->long_pct = rng_below(&s->rng, 3) ? 0 : 10;
    s->long_max = 400;
    s->slow_kind = (int)rng_below(&s->rng, 5) - 2; /* 3 in 5: one kind is slow */
    if (s->slow_kind < 0)
        s->slow_kind = -1;
    s->slow_max = rng_below(&s->rng, 2) ? 400 : 1500;
    s->heal = rng_below(&s->rng, 6000);
    s->gossip_ms = 200 + rng_below(&s->rng, 200);
    s->deaf = -1;
    if (rng_below(&s->rng, 2)) {
        s->deaf = (int)rng_below(&s->rng, (uint32_t)s->ninst);
        s->deaf_kind = (int)rng_below(&s->rng, 3);
        s->deaf_until = rng_below(&s->rng, (uint32_t)s->heal + 1);
    }
    s->isolate_deciders = false;
    s->style = (int)rng_below(&s->rng, 5);
    if (s->style == 4)
        s->style = 3; /* the split brain twice as often */
    regroup(s);
    switch (s->style) {
    case 0: { /* a few regroupings at random times */
        unsigned phases = rng_below(&s->rng, 6);
        for (unsigned i = 0; i < phases; i++)
            ev_new(s, EV_PARTITION, 0, rng_below(&s->rng, (uint32_t)s->heal + 1));
        break;
    }
    case 1: { /* regroup every ~period ms: on the scale of a round */
        static const uint32_t periods[] = {80, 200, 500};
        uint32_t period = periods[rng_below(&s->rng, 3)];
        for (uint64_t t = period; t < s->heal; t += period / 2 + rng_below(&s->rng, period))
            ev_new(s, EV_PARTITION, 0, t);
        break;
    }
    case 2: /* cut off every node that decides, and regroup now and then */
        s->isolate_deciders = true;
        for (unsigned i = rng_below(&s->rng, 4); i > 0; i--)
            ev_new(s, EV_PARTITION, 0, rng_below(&s->rng, (uint32_t)s->heal + 1));
        break;
    default: { /* split brain: see plan_split(); no other trick */
        uint64_t t1 = 100 + rng_below(&s->rng, 1400);
        s->slow_kind = -1;
        s->deaf = -1;
        s->long_pct = 0;
        s->drop_pct = s->drop_pct > 5 ? 5 : s->drop_pct;
        s->dmax = s->dmax > 20 ? 20 : s->dmax;
        s->heal = t1 + 1000 + rng_below(&s->rng, 4000);
        plan_split(s, t1);
        break;
    }
    }
    s->deadline = s->heal + 60000;
    unsigned crashes = rng_below(&s->rng, 3);
    for (unsigned i = 0; i < crashes; i++) {
        int who = (int)rng_below(&s->rng, (uint32_t)s->ninst);
        uint64_t at = rng_below(&s->rng, (uint32_t)s->heal + 500);
        ev_new(s, EV_CRASH, who, at);
        ev_new(s, EV_RESTART, who, at + 1 + rng_below(&s->rng, 1500));
    }
    if (s->trace)
        printf("style %d deaf n%d/%d until %llu drop %u%% (after heal %u%%) dup %u%% dmax %u long %u%% heal %llu gossip %llu\n", s->style, s->deaf, s->deaf_kind, (unsigned long long)s->deaf_until,
               s->drop_pct, s->drop_after_pct, s->dup_pct, s->dmax, s->long_pct,
               (unsigned long long)s->heal, (unsigned long long)s->gossip_ms);
    for (int i = 0; i < s->ninst; i++)
        node_boot(s, &s->node[i]);

    while (s->nheap) {
        sim_event e;
        ev_pop(s, &e);
        if (e.time > s->deadline)
            break;
        s->now = e.time;
        deliver(s, &e);
        if (all_honest_done(s))
            break;
    }
    st->schedules++;
    if (p->check_liveness) {
        if (!all_honest_done(s)) {
            st->liveness_failures++;
            s->violation = true;
        } else if (s->now > s->heal && s->now - s->heal > st->max_after_heal_ms) {
            st->max_after_heal_ms = s->now - s->heal;
        }
    }
    if (s->violation && getenv("ESG_SIM_VERBOSE"))
        printf("violation seed %llu: drop %u dup %u dmax %u long %u slow %d/%u style %d heal %llu\n",
               (unsigned long long)seed, s->drop_pct, s->dup_pct, s->dmax, s->long_pct,
               s->slow_kind, s->slow_max, s->style, (unsigned long long)s->heal);
    if (s->violation) {
        if (!st->schedules_with_violation)
            st->first_bad_seed = seed;
        st->schedules_with_violation++;
    }
    return s->violation;
}

static void print_stats(const char *name, const sim_stats *st) {
    printf("consensus sim %-24s schedules %6llu  honest decisions %7llu  violations: "
           "schedules %llu (agreement %llu, validity %llu, liveness %llu)  crashes %llu  "
           "synced %llu  evidence %llu  max decide-after-heal %llu ms\n",
           name, (unsigned long long)st->schedules, (unsigned long long)st->decisions,
           (unsigned long long)st->schedules_with_violation,
           (unsigned long long)st->agreement_violations,
           (unsigned long long)st->validity_violations,
           (unsigned long long)st->liveness_failures, (unsigned long long)st->crashes,
           (unsigned long long)st->commits_synced, (unsigned long long)st->evidence,
           (unsigned long long)st->max_after_heal_ms);
    fflush(stdout);
}

#define SCHEDULES_SAFE 2000   /* per power layout */
#define SCHEDULES_SELFCHECK 1000

/* ESG_SIM_SCHEDULES=n runs n schedules instead (a longer soak). */
static uint64_t schedules(uint64_t dflt) {
    const char *env = getenv("ESG_SIM_SCHEDULES");
    return env ? strtoull(env, NULL, 10) : dflt;
}

/* Honest majority: the validators in `twins` are Byzantine (Twins) in
 * half the schedules -- their power below 1/3 -- and honest in the other
 * half. */
static void run_honest(const char *name, const uint64_t *powers, size_t nval, unsigned twins,
                       uint64_t n, uint64_t seed0) {
    sim s;
    memset(&s, 0, sizeof s);
    sim_stats st;
    memset(&st, 0, sizeof st);
    uint64_t total = 0, byz = 0;
    for (size_t v = 0; v < nval; v++) {
        total += powers[v];
        if (twins & (1u << v))
            byz += powers[v];
    }
    ck_assert_uint_lt(byz * 3, total);
    uint64_t only = 0;
    const char *env = getenv("ESG_SIM_SEED");
    if (env)
        only = strtoull(env, NULL, 10), s.trace = true;
    uint64_t count = schedules(n);
    for (uint64_t i = 0; i < count; i++) {
        if (only && seed0 + i != only)
            continue;
        sim_params p;
        memset(&p, 0, sizeof p);
        p.nval = nval;
        memcpy(p.powers, powers, nval * sizeof *powers);
        for (size_t v = 0; v < nval; v++)
            p.twin[v] = i % 2 == 0 && (twins & (1u << v));
        p.heights = 3;
        p.check_liveness = true;
        if (sim_run(&s, &p, seed0 + i, &st)) {
            print_stats(name, &st);
            ck_abort_msg("%s: schedule with seed %llu violates a property (rerun it alone "
                         "with ESG_SIM_SEED=%llu to print it)",
                         name, (unsigned long long)(seed0 + i), (unsigned long long)(seed0 + i));
        }
    }
    print_stats(name, &st);
    if (!only) {
        ck_assert_uint_eq(st.schedules, count);
        ck_assert_uint_ge(st.decisions, count * 3 * (nval - 1));
    }
    sim_free(&s);
}

START_TEST(t_sim_equal_powers_safe_and_live) {
    const uint64_t powers[4] = {1, 1, 1, 1};
    run_honest("4 equal, 1 twin", powers, 4, 1u << 0, SCHEDULES_SAFE, 1);
}
END_TEST

START_TEST(t_sim_unequal_powers_safe_and_live) {
    /* Total 10; the twinned validator holds 3 (< 1/3). */
    const uint64_t powers[4] = {3, 4, 1, 2};
    run_honest("4 unequal, 1 twin", powers, 4, 1u << 0, SCHEDULES_SAFE, 100001);
}
END_TEST

START_TEST(t_sim_seven_two_twins_safe_and_live) {
    const uint64_t powers[7] = {1, 1, 1, 1, 1, 1, 1};
    run_honest("7 equal, 2 twins", powers, 7, 3u, SCHEDULES_SAFE / 2, 400001);
}
END_TEST

/* The harness must catch what it claims to guard against. */
static void run_selfcheck(const char *name, bool two_twins, bool ignore_lock, uint64_t seed0) {
    sim s;
    memset(&s, 0, sizeof s);
    sim_stats st;
    memset(&st, 0, sizeof st);
    uint64_t only = 0;
    const char *env = getenv("ESG_SIM_SEED");
    if (env)
        only = strtoull(env, NULL, 10), s.trace = true;
    uint64_t count = schedules(SCHEDULES_SELFCHECK);
    for (uint64_t i = 0; i < count; i++) {
        if (only && seed0 + i != only)
            continue;
        sim_params p;
        memset(&p, 0, sizeof p);
        p.nval = 4;
        for (size_t v = 0; v < 4; v++)
            p.powers[v] = 1;
        p.twin[0] = true;
        p.twin[1] = two_twins;
        p.ignore_lock = ignore_lock;
        p.heights = 3;
        p.check_liveness = false;
        sim_run(&s, &p, seed0 + i, &st);
    }
    print_stats(name, &st);
    ck_assert_msg(only || st.agreement_violations > 0,
                  "%s: no safety violation found in %llu schedules: the simulator is blind",
                  name, (unsigned long long)st.schedules);
    sim_free(&s);
}

START_TEST(t_sim_finds_violation_with_third_byzantine) {
    run_selfcheck("4 equal, 2 twins (1/2)", true, false, 200001);
}
END_TEST

START_TEST(t_sim_finds_violation_with_broken_lock) {
    run_selfcheck("broken lock, 1 twin", false, true, 300001);
}
END_TEST

Suite *suite_consensus(void) {
    Suite *s = suite_create("consensus");
    TCase *tc = tcase_create("machine");
    tcase_add_test(tc, t_proposer_weighted_round_robin);
    tcase_add_test(tc, t_single_validator_decides_each_height);
    tcase_add_test(tc, t_follower_prevotes_locks_and_decides);
    tcase_add_test(tc, t_timeouts_nil_votes_and_growth);
    tcase_add_test(tc, t_lock_blocks_other_values);
    tcase_add_test(tc, t_broken_lock_switch_prevotes_anyway);
    tcase_add_test(tc, t_proposal_with_valid_round_unlocks);
    tcase_add_test(tc, t_proposal_with_valid_round_needs_polka);
    tcase_add_test(tc, t_invalid_value_gets_nil_and_is_never_decided);
    tcase_add_test(tc, t_round_skip_needs_more_than_a_third);
    tcase_add_test(tc, t_future_rounds_bounded_per_validator);
    tcase_add_test(tc, t_equivocation_is_evidence_and_counted_per_value);
    tcase_add_test(tc, t_equivocations_are_bounded);
    tcase_add_test(tc, t_bad_input_is_rejected_not_fatal);
    tcase_add_test(tc, t_next_height_messages_buffered_and_replayed);
    tcase_add_test(tc, t_future_buffer_is_bounded);
    tcase_add_test(tc, t_restart_keeps_lock);
    tcase_add_test(tc, t_commit_from_block_sync);
    tcase_add_test(tc, t_validator_set_per_height);
    tcase_add_test(tc, t_observer_follows_without_voting);
    tcase_add_test(tc, t_refused_signature_sends_nothing);
    tcase_add_test(tc, t_holds_nothing_before_start);
    tcase_add_test(tc, t_wants_vote_until_held);
    tcase_add_test(tc, t_wants_current_and_next_height_only);
    tcase_add_test(tc, t_decided_height_not_wanted);
    tcase_add_test(tc, t_held_rounds_ascending_highest_kept);
    tcase_add_test(tc, t_held_proposal_as_given);
    tcase_add_test(tc, t_random_input_never_crashes);
    suite_add_tcase(s, tc);

    TCase *tsim = tcase_create("simulator");
    tcase_set_timeout(tsim, 120);
    tcase_add_test(tsim, t_sim_equal_powers_safe_and_live);
    tcase_add_test(tsim, t_sim_unequal_powers_safe_and_live);
    tcase_add_test(tsim, t_sim_seven_two_twins_safe_and_live);
    tcase_add_test(tsim, t_sim_finds_violation_with_third_byzantine);
    tcase_add_test(tsim, t_sim_finds_violation_with_broken_lock);
    suite_add_tcase(s, tsim);
    return s;
}
