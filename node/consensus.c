/* Tendermint consensus state machine: see consensus.h.
 *
 * Layout: one record per round of the current height (sorted by round)
 * holds the round's proposal and every validator's prevote and precommit.
 * Inputs only store messages; run() then fires the upon rules of Algorithm
 * 1 until none applies. Tallies are recomputed by scanning the n votes of a
 * round, which keeps the code obviously equal to the paper's "X messages
 * whose senders hold power p" at a cost of O(n) per rule check. */
#include "node/consensus.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"

typedef struct vote_slot {
    bool present;
    bool evidence_sent;
    esg_hash block;
    esg_sig sig;
} vote_slot;

/* A further, conflicting vote of a validator (equivocation). */
typedef struct alt_vote {
    uint32_t validator;
    int t;
    esg_hash block;
    esg_sig sig;
} alt_vote;

typedef struct round_rec {
    uint32_t round;
    bool has_proposal;
    int8_t valid_cache; /* -1 unknown, 0 invalid, 1 valid */
    int8_t timely_cache; /* same, for cb.timely */
    int32_t prop_valid_round;
    esg_hash prop_hash;
    uint8_t *prop_data;
    size_t prop_len;
    esg_sig prop_sig;
    vote_slot *votes[2]; /* [0] prevotes, [1] precommits; n each */
    uint8_t *sender;     /* n flags: some message of this validator */
    alt_vote *alts;      /* conflicting votes, each a distinct value */
    size_t nalts, capalts;
    uint64_t power_any[2];
    uint64_t sender_power;
    bool prevote_timer, precommit_timer, polka_done, valid_seen;
} round_rec;

struct esg_cons {
    esg_cons_config cfg;
    esg_cons_callbacks cb;
    esg_pubkey self;
    esg_cons_start_state start;
    bool started;

    uint64_t height;
    uint32_t round;
    esg_cons_step step;

    /* The validator set of `height`. */
    esg_cons_validator *vals;
    size_t n;
    uint64_t total;
    int64_t self_idx;
    uint32_t *schedule;
    size_t sched_len;
    esg_cons_vote *scratch; /* n votes: a commit being assembled */
    uint8_t *mark;          /* n flags for on_commit */

    round_rec **rounds;
    size_t nrounds, caprounds;

    int32_t locked_round;
    esg_hash locked;
    int32_t valid_round; /* validValue is the proposal of this round */

    esg_cons_msg *future; /* messages for height+1; proposal bytes owned */
    size_t nfuture, capfuture;
};

static const esg_hash nil_hash;

void esg_cons_config_default(esg_cons_config *cfg) {
    assert(cfg);
    memset(cfg, 0, sizeof *cfg);
    cfg->propose_ms = 3000;
    cfg->propose_delta_ms = 500;
    cfg->prevote_ms = 1000;
    cfg->prevote_delta_ms = 500;
    cfg->precommit_ms = 1000;
    cfg->precommit_delta_ms = 500;
    cfg->commit_ms = 1000;
}

/* ------------------------------------------------------------- proposer */

/* The weight of a validator in the proposer cycle: its power, scaled down
 * when the total exceeds the cycle limit (never below 1). */
static uint64_t sched_weight(uint64_t power, uint64_t total) {
    if (total <= ESG_CONS_SCHEDULE_MAX)
        return power;
    uint64_t w = (uint64_t)(((unsigned __int128)power * ESG_CONS_SCHEDULE_MAX) / total);
    return w ? w : 1;
}

static uint64_t set_total(const esg_cons_validator *vals, size_t n) {
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++) {
        assert(vals[i].power >= 1 && vals[i].power <= ESG_CONS_MAX_TOTAL_POWER);
        t += vals[i].power;
        assert(t <= ESG_CONS_MAX_TOTAL_POWER);
    }
    return t;
}

/* Runs the smooth weighted round-robin for `steps` slots from zero
 * priorities; writes each slot's pick to out[] when out is not NULL and
 * returns the last pick. prio must hold n entries. */
static uint32_t swrr(const esg_cons_validator *vals, size_t n, int64_t *prio, size_t steps,
                     uint32_t *out) {
    uint64_t total = set_total(vals, n), cycle = 0;
    for (size_t i = 0; i < n; i++) {
        prio[i] = 0;
        cycle += sched_weight(vals[i].power, total);
    }
    uint32_t pick = 0;
    for (size_t s = 0; s < steps; s++) {
        pick = 0;
        for (size_t i = 0; i < n; i++) {
            prio[i] += (int64_t)sched_weight(vals[i].power, total);
            if (prio[i] > prio[pick])
                pick = (uint32_t)i;
        }
        prio[pick] -= (int64_t)cycle;
        if (out)
            out[s] = pick;
    }
    return pick;
}

static size_t cycle_len(const esg_cons_validator *vals, size_t n) {
    uint64_t total = set_total(vals, n), cycle = 0;
    for (size_t i = 0; i < n; i++)
        cycle += sched_weight(vals[i].power, total);
    return (size_t)cycle;
}

static size_t slot_of(uint64_t height, uint32_t round, size_t len) {
    return (size_t)((height % len + round % len) % len);
}

uint32_t esg_cons_proposer(const esg_cons_validator *vals, size_t n, uint64_t height,
                           uint32_t round) {
    assert(vals && n >= 1 && n <= ESG_CONS_MAX_VALIDATORS);
    int64_t prio[ESG_CONS_MAX_VALIDATORS];
    size_t len = cycle_len(vals, n);
    return swrr(vals, n, prio, slot_of(height, round, len) + 1, NULL);
}

static uint32_t proposer_of(const esg_cons *c, uint32_t round) {
    return c->schedule[slot_of(c->height, round, c->sched_len)];
}

/* ---------------------------------------------------------- thresholds */

static bool quorum(const esg_cons *c, uint64_t power) {
    return power * 3 > c->total * 2;
}

static bool skip_set(const esg_cons *c, uint64_t power) {
    return power * 3 > c->total;
}

static uint32_t timeout_ms(uint32_t base, uint32_t delta, uint32_t round) {
    uint64_t ms = (uint64_t)base + (uint64_t)delta * round;
    return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* --------------------------------------------------------------- rounds */

static void round_free(round_rec *rr) {
    if (!rr)
        return;
    free(rr->prop_data);
    free(rr->alts);
    free(rr);
}

static void rounds_clear(esg_cons *c) {
    for (size_t i = 0; i < c->nrounds; i++)
        round_free(c->rounds[i]);
    c->nrounds = 0;
}

/* Index of the first record whose round is >= r. */
static size_t round_pos(const esg_cons *c, uint32_t r) {
    size_t lo = 0, hi = c->nrounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->rounds[mid]->round < r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static round_rec *round_find(const esg_cons *c, uint32_t r) {
    size_t i = round_pos(c, r);
    return i < c->nrounds && c->rounds[i]->round == r ? c->rounds[i] : NULL;
}

/* Finds or creates the record of round r; NULL when out of memory. One
 * allocation holds the record, its 2n vote slots and n sender flags. */
static round_rec *round_get(esg_cons *c, uint32_t r) {
    size_t i = round_pos(c, r);
    if (i < c->nrounds && c->rounds[i]->round == r)
        return c->rounds[i];
    if (c->nrounds == c->caprounds) {
        size_t cap = c->caprounds ? c->caprounds * 2 : 8;
        round_rec **nr = realloc(c->rounds, cap * sizeof *nr);
        if (!nr)
            return NULL;
        c->rounds = nr;
        c->caprounds = cap;
    }
    size_t sz = sizeof(round_rec) + 2 * c->n * sizeof(vote_slot) + c->n;
    round_rec *rr = calloc(1, sz);
    if (!rr)
        return NULL;
    rr->round = r;
    rr->valid_cache = -1;
    rr->timely_cache = -1;
    rr->votes[0] = (vote_slot *)(rr + 1);
    rr->votes[1] = rr->votes[0] + c->n;
    rr->sender = (uint8_t *)(rr->votes[1] + c->n);
    memmove(c->rounds + i + 1, c->rounds + i, (c->nrounds - i) * sizeof *c->rounds);
    c->rounds[i] = rr;
    c->nrounds++;
    return rr;
}

/* True when validator idx may store a message for round r: rounds up to
 * the current one always; a future round only if the validator already
 * has a message there or has fewer than ESG_CONS_MAX_ROUNDS_AHEAD future
 * rounds. */
static bool round_admits(const esg_cons *c, uint32_t r, uint32_t idx) {
    if (r <= c->round)
        return true;
    unsigned ahead = 0;
    for (size_t i = round_pos(c, c->round + 1); i < c->nrounds; i++) {
        const round_rec *rr = c->rounds[i];
        if (rr->sender[idx]) {
            if (rr->round == r)
                return true;
            ahead++;
        }
    }
    return ahead < ESG_CONS_MAX_ROUNDS_AHEAD;
}

/* Power of the validators that voted `h` (type t) in the round. An
 * equivocator counts for each value it signed, once per value, as in the
 * paper's message log: counting only its first vote would let it show
 * different honest nodes different polkas for ever (a locked node could
 * then never convince the others). */
static uint64_t power_for(const esg_cons *c, const round_rec *rr, int t, const esg_hash *h) {
    uint64_t p = 0;
    for (size_t i = 0; i < c->n; i++)
        if (rr->votes[t][i].present && esg_hash_eq(&rr->votes[t][i].block, h))
            p += c->vals[i].power;
    for (size_t i = 0; i < rr->nalts; i++)
        if (rr->alts[i].t == t && esg_hash_eq(&rr->alts[i].block, h))
            p += c->vals[rr->alts[i].validator].power;
    return p;
}

static bool proposal_valid(esg_cons *c, round_rec *rr) {
    assert(rr->has_proposal);
    if (rr->valid_cache < 0) {
        esg_cons_value v = {rr->prop_hash, rr->prop_data, rr->prop_len};
        rr->valid_cache = c->cb.valid(c->cb.ctx, c->height, &v) ? 1 : 0;
    }
    return rr->valid_cache == 1;
}

/* Proposer-based time: a fresh proposal (valid_round -1) of another
 * validator must be timely for this node to prevote it. Its own are
 * (its clock made them). */
static bool proposal_timely(esg_cons *c, round_rec *rr) {
    assert(rr->has_proposal);
    if (!c->cb.timely || (c->self_idx >= 0 && proposer_of(c, rr->round) == (uint32_t)c->self_idx))
        return true;
    if (rr->timely_cache < 0) {
        esg_cons_value v = {rr->prop_hash, rr->prop_data, rr->prop_len};
        rr->timely_cache = c->cb.timely(c->cb.ctx, c->height, rr->round, &v) ? 1 : 0;
    }
    return rr->timely_cache == 1;
}

static void mark_sender(esg_cons *c, round_rec *rr, uint32_t idx) {
    if (!rr->sender[idx]) {
        rr->sender[idx] = 1;
        rr->sender_power += c->vals[idx].power;
    }
}

/* Stores a vote of the current height whose fields are in range. */
static int vote_store(esg_cons *c, const esg_cons_vote *v) {
    assert(v->height == c->height && v->validator < c->n);
    assert(v->type == ESG_CONS_PREVOTE || v->type == ESG_CONS_PRECOMMIT);
    if (!round_admits(c, v->round, v->validator))
        return 0;
    round_rec *rr = round_get(c, v->round);
    if (!rr)
        return ESG_ERR_NOMEM;
    int t = v->type == ESG_CONS_PREVOTE ? 0 : 1;
    vote_slot *s = &rr->votes[t][v->validator];
    if (s->present) {
        if (esg_hash_eq(&s->block, &v->block))
            return 0;
        unsigned seen = 0;
        for (size_t i = 0; i < rr->nalts; i++) {
            const alt_vote *a = &rr->alts[i];
            if (a->validator == v->validator && a->t == t) {
                if (esg_hash_eq(&a->block, &v->block))
                    return 0;
                seen++;
            }
        }
        if (!s->evidence_sent) {
            s->evidence_sent = true;
            esg_cons_vote first = *v;
            first.block = s->block;
            first.sig = s->sig;
            c->cb.evidence(c->cb.ctx, &first, v);
        }
        if (seen >= ESG_CONS_MAX_EQUIVOCATIONS)
            return 0;
        if (rr->nalts == rr->capalts) {
            size_t cap = rr->capalts ? rr->capalts * 2 : 4;
            alt_vote *na = realloc(rr->alts, cap * sizeof *na);
            if (!na)
                return ESG_ERR_NOMEM;
            rr->alts = na;
            rr->capalts = cap;
        }
        alt_vote *a = &rr->alts[rr->nalts++];
        a->validator = v->validator;
        a->t = t;
        a->block = v->block;
        a->sig = v->sig;
        return 0;
    }
    s->present = true;
    s->block = v->block;
    s->sig = v->sig;
    rr->power_any[t] += c->vals[v->validator].power;
    mark_sender(c, rr, v->validator);
    return 0;
}

/* Stores a proposal of the current height that passed the range checks;
 * takes ownership of `data` (malloc'd, or NULL when len is 0) on success
 * and when the proposal is ignored. */
static int proposal_store(esg_cons *c, const esg_cons_proposal *p, uint8_t *data) {
    if (!round_admits(c, p->round, p->proposer)) {
        free(data);
        return 0;
    }
    round_rec *rr = round_get(c, p->round);
    if (!rr) {
        free(data);
        return ESG_ERR_NOMEM;
    }
    /* Only the first proposal of a round counts; a second one from the
     * same proposer is equivocation, left to block sync to resolve. */
    if (rr->has_proposal) {
        free(data);
        return 0;
    }
    rr->has_proposal = true;
    rr->prop_hash = p->value.hash;
    rr->prop_data = data;
    rr->prop_len = p->value.len;
    rr->prop_valid_round = p->valid_round;
    rr->prop_sig = p->sig;
    mark_sender(c, rr, p->proposer);
    return 0;
}

static uint8_t *dup_bytes(const uint8_t *data, size_t len, bool *ok) {
    *ok = true;
    if (len == 0)
        return NULL;
    uint8_t *d = malloc(len);
    if (!d)
        *ok = false;
    else
        memcpy(d, data, len);
    return d;
}

/* ------------------------------------------------------------- outputs */

static void lock_now(const esg_cons *c, esg_cons_lock *l) {
    l->height = c->height;
    l->round = c->round;
    l->locked_round = c->locked_round;
    l->locked = c->locked;
}

/* Signs, counts and broadcasts this node's vote for the current round.
 * A refused signature or missing memory means the vote is not sent. */
static void send_vote(esg_cons *c, esg_cons_vote_type type, const esg_hash *block) {
    if (c->self_idx < 0)
        return;
    esg_cons_vote v;
    memset(&v, 0, sizeof v);
    v.type = type;
    v.height = c->height;
    v.round = c->round;
    v.block = *block;
    v.validator = (uint32_t)c->self_idx;
    esg_cons_lock l;
    lock_now(c, &l);
    if (!c->cb.sign_vote(c->cb.ctx, &v, &l, &v.sig))
        return;
    if (vote_store(c, &v) != 0)
        return;
    esg_cons_msg m = {.kind = ESG_CONS_MSG_VOTE};
    m.u.vote = v;
    c->cb.broadcast(c->cb.ctx, &m);
}

static void schedule(esg_cons *c, esg_cons_timeout kind) {
    uint32_t ms = 0;
    switch (kind) {
    case ESG_CONS_TIMEOUT_PROPOSE:
        ms = timeout_ms(c->cfg.propose_ms, c->cfg.propose_delta_ms, c->round);
        break;
    case ESG_CONS_TIMEOUT_PREVOTE:
        ms = timeout_ms(c->cfg.prevote_ms, c->cfg.prevote_delta_ms, c->round);
        break;
    case ESG_CONS_TIMEOUT_PRECOMMIT:
        ms = timeout_ms(c->cfg.precommit_ms, c->cfg.precommit_delta_ms, c->round);
        break;
    case ESG_CONS_TIMEOUT_COMMIT:
        ms = c->cfg.commit_ms;
        break;
    }
    c->cb.schedule_timeout(c->cb.ctx, kind, c->height, c->round, ms);
}

/* The proposer's part of StartRound: propose validValue if there is one
 * (citing its round), else a fresh value from the application. */
static void propose(esg_cons *c) {
    esg_cons_proposal p;
    memset(&p, 0, sizeof p);
    p.height = c->height;
    p.round = c->round;
    p.proposer = (uint32_t)c->self_idx;
    const round_rec *vr = c->valid_round >= 0 ? round_find(c, (uint32_t)c->valid_round) : NULL;
    bool ok;
    uint8_t *data;
    if (vr && vr->has_proposal) {
        p.valid_round = c->valid_round;
        p.value.hash = vr->prop_hash;
        p.value.len = vr->prop_len;
        data = dup_bytes(vr->prop_data, vr->prop_len, &ok);
    } else {
        esg_cons_value v;
        memset(&v, 0, sizeof v);
        if (!c->cb.get_value(c->cb.ctx, c->height, &v) || esg_hash_is_zero(&v.hash))
            return;
        assert(v.data || v.len == 0);
        p.valid_round = -1;
        p.value.hash = v.hash;
        p.value.len = v.len;
        data = dup_bytes(v.data, v.len, &ok);
    }
    if (!ok)
        return;
    p.value.data = data;
    esg_cons_lock l;
    lock_now(c, &l);
    if (!c->cb.sign_proposal(c->cb.ctx, &p, &l, &p.sig)) {
        free(data);
        return;
    }
    if (proposal_store(c, &p, data) != 0)
        return;
    const round_rec *rr = round_find(c, c->round);
    if (!rr || !rr->has_proposal || !esg_hash_eq(&rr->prop_hash, &p.value.hash))
        return;
    p.value.data = rr->prop_data;
    esg_cons_msg m = {.kind = ESG_CONS_MSG_PROPOSAL};
    m.u.proposal = p;
    c->cb.broadcast(c->cb.ctx, &m);
}

static void start_round(esg_cons *c, uint32_t r) {
    c->round = r;
    c->step = ESG_CONS_STEP_PROPOSE;
    (void)round_get(c, r); /* own messages need a home; NULL is survivable */
    if (c->self_idx >= 0 && proposer_of(c, r) == (uint32_t)c->self_idx)
        propose(c);
    /* Scheduled by the proposer too: if its proposal could not be made or
     * signed, it still prevotes nil and follows the round. */
    schedule(c, ESG_CONS_TIMEOUT_PROPOSE);
}

static void decide(esg_cons *c, uint32_t round, const esg_cons_value *v, const esg_cons_vote *commit,
                   size_t n) {
    c->cb.decide(c->cb.ctx, c->height, round, v, commit, n);
    c->step = ESG_CONS_STEP_COMMIT;
    schedule(c, ESG_CONS_TIMEOUT_COMMIT);
}

/* ---------------------------------------------------------------- rules */

/* upon PROPOSAL(h, r, v, *) from proposer(h, r) AND 2f+1 PRECOMMIT(h, r,
 * id(v)) while decision[h] = nil: decide v if valid. */
static bool try_decide(esg_cons *c) {
    for (size_t i = 0; i < c->nrounds; i++) {
        round_rec *rr = c->rounds[i];
        if (!rr->has_proposal || !quorum(c, rr->power_any[1]))
            continue;
        if (!quorum(c, power_for(c, rr, 1, &rr->prop_hash)) || !proposal_valid(c, rr))
            continue;
        /* Each validator precommitted the value at most once, as its
         * first vote or as one alternate, so at most n votes. */
        size_t k = 0;
        for (size_t j = 0; j < c->n + rr->nalts; j++) {
            uint32_t who;
            const esg_sig *sig;
            if (j < c->n) {
                const vote_slot *s = &rr->votes[1][j];
                if (!s->present || !esg_hash_eq(&s->block, &rr->prop_hash))
                    continue;
                who = (uint32_t)j, sig = &s->sig;
            } else {
                const alt_vote *a = &rr->alts[j - c->n];
                if (a->t != 1 || !esg_hash_eq(&a->block, &rr->prop_hash))
                    continue;
                who = a->validator, sig = &a->sig;
            }
            assert(k < c->n);
            esg_cons_vote *v = &c->scratch[k++];
            memset(v, 0, sizeof *v);
            v->type = ESG_CONS_PRECOMMIT;
            v->height = c->height;
            v->round = rr->round;
            v->block = rr->prop_hash;
            v->validator = who;
            v->sig = *sig;
        }
        esg_cons_value val = {rr->prop_hash, rr->prop_data, rr->prop_len};
        decide(c, rr->round, &val, c->scratch, k);
        return true;
    }
    return false;
}

/* upon f+1 messages of any kind for (h, round) with round > round_p:
 * StartRound(round). The highest such round is taken. */
static bool try_skip(esg_cons *c) {
    for (size_t i = c->nrounds; i-- > 0;) {
        const round_rec *rr = c->rounds[i];
        if (rr->round <= c->round)
            break;
        if (skip_set(c, rr->sender_power)) {
            start_round(c, rr->round);
            return true;
        }
    }
    return false;
}

/* The rules of the current round; returns true when one fired. */
static bool try_round_rules(esg_cons *c) {
    round_rec *rr = round_find(c, c->round);
    if (!rr)
        return false;
    bool ignore_lock = c->cfg.test_ignore_lock;

    if (c->step == ESG_CONS_STEP_PROPOSE && rr->has_proposal) {
        int32_t vr = rr->prop_valid_round;
        const esg_hash *v = &rr->prop_hash;
        bool fire = false, accept = false;
        if (vr < 0) {
            /* PROPOSAL(h, r, v, -1) */
            fire = true;
            accept = proposal_valid(c, rr) && proposal_timely(c, rr) &&
                     (c->locked_round < 0 || esg_hash_eq(&c->locked, v) || ignore_lock);
        } else if ((uint32_t)vr < c->round) {
            /* PROPOSAL(h, r, v, vr) AND 2f+1 PREVOTE(h, vr, id(v)) */
            const round_rec *vrr = round_find(c, (uint32_t)vr);
            if (vrr && quorum(c, power_for(c, vrr, 0, v))) {
                fire = true;
                accept = proposal_valid(c, rr) &&
                         (c->locked_round <= vr || esg_hash_eq(&c->locked, v) || ignore_lock);
            }
        }
        if (fire) {
            c->step = ESG_CONS_STEP_PREVOTE;
            send_vote(c, ESG_CONS_PREVOTE, accept ? v : &nil_hash);
            return true;
        }
    }

    /* 2f+1 PREVOTE(h, r, *) while step = prevote, first time. */
    if (c->step == ESG_CONS_STEP_PREVOTE && !rr->prevote_timer && quorum(c, rr->power_any[0])) {
        rr->prevote_timer = true;
        schedule(c, ESG_CONS_TIMEOUT_PREVOTE);
        return true;
    }

    /* PROPOSAL(h, r, v, *) AND 2f+1 PREVOTE(h, r, id(v)) while valid(v)
     * and step >= prevote, first time: lock (if still prevoting) and
     * remember v as the valid value. */
    if ((c->step == ESG_CONS_STEP_PREVOTE || c->step == ESG_CONS_STEP_PRECOMMIT) &&
        !rr->polka_done && rr->has_proposal && quorum(c, power_for(c, rr, 0, &rr->prop_hash)) &&
        proposal_valid(c, rr)) {
        rr->polka_done = true;
        if (c->step == ESG_CONS_STEP_PREVOTE) {
            c->locked = rr->prop_hash;
            c->locked_round = (int32_t)c->round;
            c->step = ESG_CONS_STEP_PRECOMMIT;
            send_vote(c, ESG_CONS_PRECOMMIT, &rr->prop_hash);
        }
        c->valid_round = (int32_t)c->round;
        return true;
    }

    /* 2f+1 PREVOTE(h, r, nil) while step = prevote. */
    if (c->step == ESG_CONS_STEP_PREVOTE && quorum(c, power_for(c, rr, 0, &nil_hash))) {
        c->step = ESG_CONS_STEP_PRECOMMIT;
        send_vote(c, ESG_CONS_PRECOMMIT, &nil_hash);
        return true;
    }

    /* 2f+1 PRECOMMIT(h, r, *), first time. */
    if (!rr->precommit_timer && quorum(c, rr->power_any[1])) {
        rr->precommit_timer = true;
        schedule(c, ESG_CONS_TIMEOUT_PRECOMMIT);
        return true;
    }
    return false;
}

/* Beyond the paper: a polka seen late, for a past round above validRound,
 * still makes its value the valid value (without touching the lock). The
 * paper updates validValue only in the current round, so a node that
 * skipped a round -- or restarted and forgot -- could never re-propose the
 * value others are locked on, and the height could stall (the simulator
 * finds such schedules). Proposing it is safe: acceptors check the polka
 * at valid_round themselves. */
static bool try_late_polka(esg_cons *c) {
    for (size_t i = 0; i < c->nrounds; i++) {
        round_rec *rr = c->rounds[i];
        if (rr->round >= c->round)
            break;
        if ((int64_t)rr->round <= (int64_t)c->valid_round || rr->valid_seen || !rr->has_proposal)
            continue;
        if (quorum(c, power_for(c, rr, 0, &rr->prop_hash)) && proposal_valid(c, rr)) {
            rr->valid_seen = true;
            c->valid_round = (int32_t)rr->round;
            return true;
        }
    }
    return false;
}

/* Fires rules until none applies or the height is decided. Each rule
 * either changes the step or round, or sets a once-only flag, so the loop
 * ends. */
static void run(esg_cons *c) {
    while (c->step != ESG_CONS_STEP_COMMIT) {
        if (try_decide(c))
            return;
        if (try_skip(c))
            continue;
        if (try_late_polka(c))
            continue;
        if (!try_round_rules(c))
            return;
    }
}

/* --------------------------------------------------------------- heights */

static void future_free_msg(esg_cons_msg *m) {
    if (m->kind == ESG_CONS_MSG_PROPOSAL)
        free((void *)m->u.proposal.value.data);
}

/* Buffers a message of height+1; drops it when the buffer is full. */
static int future_push(esg_cons *c, const esg_cons_msg *m) {
    size_t limit = c->cfg.max_future_msgs ? c->cfg.max_future_msgs : 16 * c->n;
    if (c->nfuture >= limit)
        return 0;
    if (c->nfuture == c->capfuture) {
        size_t cap = c->capfuture ? c->capfuture * 2 : 16;
        if (cap > limit)
            cap = limit;
        esg_cons_msg *nf = realloc(c->future, cap * sizeof *nf);
        if (!nf)
            return ESG_ERR_NOMEM;
        c->future = nf;
        c->capfuture = cap;
    }
    esg_cons_msg copy = *m;
    if (m->kind == ESG_CONS_MSG_PROPOSAL) {
        bool ok;
        copy.u.proposal.value.data =
            dup_bytes(m->u.proposal.value.data, m->u.proposal.value.len, &ok);
        if (!ok)
            return ESG_ERR_NOMEM;
    }
    c->future[c->nfuture++] = copy;
    return 0;
}

static int proposal_in(esg_cons *c, const esg_cons_proposal *p, bool replay);
static int vote_in(esg_cons *c, const esg_cons_vote *v, bool replay);

/* Enters `height` at `round`: loads its validator set and proposer cycle,
 * resets the per-height state (the lock comes from the start state when
 * this is the start height), starts the round and replays buffered
 * messages. On ESG_ERR_NOMEM nothing has changed. */
static int start_height(esg_cons *c, uint64_t height, uint32_t round) {
    const esg_cons_validator *src = NULL;
    size_t n = c->cb.validators(c->cb.ctx, height, &src);
    assert(src && n >= 1 && n <= ESG_CONS_MAX_VALIDATORS);
    size_t len = cycle_len(src, n);
    esg_cons_validator *vals = malloc(n * sizeof *vals);
    uint32_t *sched = malloc(len * sizeof *sched);
    int64_t *prio = malloc(n * sizeof *prio);
    esg_cons_vote *scratch = malloc(n * sizeof *scratch);
    uint8_t *mark = malloc(n);
    if (!vals || !sched || !prio || !scratch || !mark) {
        free(vals), free(sched), free(prio), free(scratch), free(mark);
        return ESG_ERR_NOMEM;
    }
    memcpy(vals, src, n * sizeof *vals);
    swrr(vals, n, prio, len, sched);
    free(prio);

    rounds_clear(c);
    free(c->vals), free(c->schedule), free(c->scratch), free(c->mark);
    c->vals = vals;
    c->n = n;
    c->total = set_total(vals, n);
    c->schedule = sched;
    c->sched_len = len;
    c->scratch = scratch;
    c->mark = mark;
    c->self_idx = -1;
    for (size_t i = 0; i < n; i++)
        if (memcmp(vals[i].key.b, c->self.b, sizeof c->self.b) == 0) {
            c->self_idx = (int64_t)i;
            break;
        }

    c->height = height;
    c->valid_round = -1;
    if (height == c->start.height) {
        c->locked_round = c->start.locked_round;
        c->locked = c->start.locked_round >= 0 ? c->start.locked : nil_hash;
    } else {
        c->locked_round = -1;
        c->locked = nil_hash;
    }
    start_round(c, round);

    /* Replay what arrived early; anything else in the buffer is stale. */
    esg_cons_msg *buf = c->future;
    size_t nbuf = c->nfuture;
    c->future = NULL;
    c->nfuture = c->capfuture = 0;
    for (size_t i = 0; i < nbuf; i++) {
        esg_cons_msg *m = &buf[i];
        if (m->kind == ESG_CONS_MSG_PROPOSAL) {
            if (m->u.proposal.height == height)
                (void)proposal_in(c, &m->u.proposal, true);
        } else if (m->u.vote.height == height) {
            (void)vote_in(c, &m->u.vote, true);
        }
        future_free_msg(m);
    }
    free(buf);
    run(c);
    return 0;
}

/* ---------------------------------------------------------------- inputs */

int esg_cons_new(esg_cons **out, const esg_cons_config *cfg, const esg_cons_callbacks *cb,
                 const esg_pubkey *self, const esg_cons_start_state *st) {
    assert(out && cfg && cb && self && st);
    assert(cb->validators && cb->get_value && cb->valid && cb->sign_proposal &&
           cb->sign_vote && cb->broadcast && cb->schedule_timeout && cb->decide &&
           cb->evidence);
    *out = NULL;
    if (st->height == 0 || st->round > ESG_CONS_MAX_ROUND || st->locked_round < -1 ||
        (st->locked_round >= 0 && (uint32_t)st->locked_round > st->round))
        return ESG_ERR_INVALID_ARGUMENT;
    esg_cons *c = calloc(1, sizeof *c);
    if (!c)
        return ESG_ERR_NOMEM;
    c->cfg = *cfg;
    c->cb = *cb;
    c->self = *self;
    c->start = *st;
    c->height = st->height;
    c->round = st->round;
    c->locked_round = -1;
    c->valid_round = -1;
    c->self_idx = -1;
    *out = c;
    return 0;
}

void esg_cons_free(esg_cons *c) {
    if (!c)
        return;
    rounds_clear(c);
    free(c->rounds);
    for (size_t i = 0; i < c->nfuture; i++)
        future_free_msg(&c->future[i]);
    free(c->future);
    free(c->vals);
    free(c->schedule);
    free(c->scratch);
    free(c->mark);
    free(c);
}

int esg_cons_start(esg_cons *c) {
    assert(c && !c->started);
    int err = start_height(c, c->start.height, c->start.round);
    if (err == 0)
        c->started = true;
    return err;
}

/* Checks that do not depend on the validator set. */
static bool proposal_well_formed(const esg_cons_proposal *p) {
    return p->round <= ESG_CONS_MAX_ROUND && p->valid_round >= -1 &&
           (int64_t)p->valid_round < (int64_t)p->round && !esg_hash_is_zero(&p->value.hash);
}

static bool vote_well_formed(const esg_cons_vote *v) {
    return (v->type == ESG_CONS_PREVOTE || v->type == ESG_CONS_PRECOMMIT) &&
           v->round <= ESG_CONS_MAX_ROUND;
}

/* `replay`: the message comes from the height+1 buffer; rules run later. */
static int proposal_in(esg_cons *c, const esg_cons_proposal *p, bool replay) {
    assert(p->value.data || p->value.len == 0);
    if (!proposal_well_formed(p))
        return ESG_ERR_BAD_CONSENSUS_MSG;
    if (p->height == c->height + 1) {
        esg_cons_msg m = {.kind = ESG_CONS_MSG_PROPOSAL};
        m.u.proposal = *p;
        return future_push(c, &m);
    }
    if (p->height != c->height)
        return 0;
    if (p->proposer >= c->n || p->proposer != proposer_of(c, p->round))
        return ESG_ERR_BAD_CONSENSUS_MSG;
    if (c->step == ESG_CONS_STEP_COMMIT)
        return 0;
    bool ok;
    uint8_t *data = dup_bytes(p->value.data, p->value.len, &ok);
    if (!ok)
        return ESG_ERR_NOMEM;
    int err = proposal_store(c, p, data);
    if (err == 0 && !replay)
        run(c);
    return err;
}

static int vote_in(esg_cons *c, const esg_cons_vote *v, bool replay) {
    if (!vote_well_formed(v))
        return ESG_ERR_BAD_CONSENSUS_MSG;
    if (v->height == c->height + 1) {
        esg_cons_msg m = {.kind = ESG_CONS_MSG_VOTE};
        m.u.vote = *v;
        return future_push(c, &m);
    }
    if (v->height != c->height)
        return 0;
    if (v->validator >= c->n)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    if (c->step == ESG_CONS_STEP_COMMIT)
        return 0;
    int err = vote_store(c, v);
    if (err == 0 && !replay)
        run(c);
    return err;
}

int esg_cons_on_proposal(esg_cons *c, const esg_cons_proposal *p) {
    assert(c && p && c->started);
    return proposal_in(c, p, false);
}

int esg_cons_on_vote(esg_cons *c, const esg_cons_vote *v) {
    assert(c && v && c->started);
    return vote_in(c, v, false);
}

int esg_cons_on_timeout(esg_cons *c, esg_cons_timeout kind, uint64_t height, uint32_t round) {
    assert(c && c->started);
    if (height != c->height)
        return 0;
    switch (kind) {
    case ESG_CONS_TIMEOUT_PROPOSE:
        if (round == c->round && c->step == ESG_CONS_STEP_PROPOSE) {
            c->step = ESG_CONS_STEP_PREVOTE;
            send_vote(c, ESG_CONS_PREVOTE, &nil_hash);
            run(c);
        }
        return 0;
    case ESG_CONS_TIMEOUT_PREVOTE:
        if (round == c->round && c->step == ESG_CONS_STEP_PREVOTE) {
            c->step = ESG_CONS_STEP_PRECOMMIT;
            send_vote(c, ESG_CONS_PRECOMMIT, &nil_hash);
            run(c);
        }
        return 0;
    case ESG_CONS_TIMEOUT_PRECOMMIT:
        if (round == c->round && c->step != ESG_CONS_STEP_COMMIT && round < ESG_CONS_MAX_ROUND) {
            start_round(c, round + 1);
            run(c);
        }
        return 0;
    case ESG_CONS_TIMEOUT_COMMIT:
        if (c->step == ESG_CONS_STEP_COMMIT)
            return start_height(c, c->height + 1, 0);
        return 0;
    }
    return 0;
}

int esg_cons_on_commit(esg_cons *c, uint64_t height, uint32_t round, const esg_cons_value *value,
                       const esg_cons_vote *commit, size_t n) {
    assert(c && c->started && value && (commit || n == 0));
    if (height != c->height || c->step == ESG_CONS_STEP_COMMIT)
        return 0;
    if (round > ESG_CONS_MAX_ROUND || esg_hash_is_zero(&value->hash) || n > c->n)
        return ESG_ERR_BAD_COMMIT;
    memset(c->mark, 0, c->n);
    uint64_t power = 0;
    for (size_t i = 0; i < n; i++) {
        const esg_cons_vote *v = &commit[i];
        if (v->type != ESG_CONS_PRECOMMIT || v->height != height || v->round != round ||
            !esg_hash_eq(&v->block, &value->hash) || v->validator >= c->n || c->mark[v->validator])
            return ESG_ERR_BAD_COMMIT;
        c->mark[v->validator] = 1;
        power += c->vals[v->validator].power;
    }
    if (!quorum(c, power) || !c->cb.valid(c->cb.ctx, height, value))
        return ESG_ERR_BAD_COMMIT;
    decide(c, round, value, commit, n);
    return 0;
}

/* ------------------------------------------------- what the instance holds */

/* Whether an equal message of height+1 is buffered. */
static bool future_has(const esg_cons *c, const esg_cons_msg *m) {
    for (size_t i = 0; i < c->nfuture; i++) {
        const esg_cons_msg *f = &c->future[i];
        if (f->kind != m->kind)
            continue;
        if (m->kind == ESG_CONS_MSG_PROPOSAL) {
            if (f->u.proposal.height == m->u.proposal.height &&
                f->u.proposal.round == m->u.proposal.round)
                return true;
        } else if (f->u.vote.height == m->u.vote.height && f->u.vote.round == m->u.vote.round &&
                   f->u.vote.type == m->u.vote.type &&
                   f->u.vote.validator == m->u.vote.validator &&
                   esg_hash_eq(&f->u.vote.block, &m->u.vote.block)) {
            return true;
        }
    }
    return false;
}

static bool future_full(const esg_cons *c) {
    size_t limit = c->cfg.max_future_msgs ? c->cfg.max_future_msgs : 16 * c->n;
    return c->nfuture >= limit;
}

bool esg_cons_wants_vote(const esg_cons *c, const esg_cons_vote *v) {
    assert(c && v);
    if (!c->started)
        return v->height == c->start.height;
    if (!vote_well_formed(v))
        return false;
    if (v->height == c->height + 1) {
        esg_cons_msg m = {.kind = ESG_CONS_MSG_VOTE};
        m.u.vote = *v;
        return !future_full(c) && !future_has(c, &m);
    }
    if (v->height != c->height || c->step == ESG_CONS_STEP_COMMIT || v->validator >= c->n)
        return false;
    const round_rec *rr = round_find(c, v->round);
    if (!rr)
        return true;
    int t = v->type == ESG_CONS_PREVOTE ? 0 : 1;
    const vote_slot *s = &rr->votes[t][v->validator];
    if (!s->present)
        return true;
    if (esg_hash_eq(&s->block, &v->block))
        return false;
    for (size_t i = 0; i < rr->nalts; i++)
        if (rr->alts[i].validator == v->validator && rr->alts[i].t == t &&
            esg_hash_eq(&rr->alts[i].block, &v->block))
            return false;
    return true; /* a further value of an equivocator: evidence */
}

bool esg_cons_wants_proposal(const esg_cons *c, uint64_t height, uint32_t round) {
    assert(c);
    if (!c->started)
        return height == c->start.height;
    if (height == c->height + 1) {
        esg_cons_msg m = {.kind = ESG_CONS_MSG_PROPOSAL};
        m.u.proposal.height = height;
        m.u.proposal.round = round;
        return !future_full(c) && !future_has(c, &m);
    }
    if (height != c->height || c->step == ESG_CONS_STEP_COMMIT)
        return false;
    const round_rec *rr = round_find(c, round);
    return !rr || !rr->has_proposal;
}

size_t esg_cons_held_rounds(const esg_cons *c, uint32_t *rounds, size_t max) {
    assert(c && (rounds || max == 0));
    if (!c->started)
        return 0;
    size_t from = c->nrounds > max ? c->nrounds - max : 0;
    for (size_t i = from; i < c->nrounds; i++)
        rounds[i - from] = c->rounds[i]->round;
    return c->nrounds;
}

bool esg_cons_held_vote(const esg_cons *c, uint32_t round, esg_cons_vote_type type,
                        uint32_t validator, esg_cons_vote *out) {
    assert(c && out);
    if (!c->started || validator >= c->n ||
        (type != ESG_CONS_PREVOTE && type != ESG_CONS_PRECOMMIT))
        return false;
    const round_rec *rr = round_find(c, round);
    if (!rr)
        return false;
    const vote_slot *s = &rr->votes[type == ESG_CONS_PREVOTE ? 0 : 1][validator];
    if (!s->present)
        return false;
    memset(out, 0, sizeof *out);
    out->type = type;
    out->height = c->height;
    out->round = round;
    out->block = s->block;
    out->validator = validator;
    out->sig = s->sig;
    return true;
}

bool esg_cons_held_proposal(const esg_cons *c, uint32_t round, esg_cons_proposal *out) {
    assert(c && out);
    if (!c->started)
        return false;
    const round_rec *rr = round_find(c, round);
    if (!rr || !rr->has_proposal)
        return false;
    memset(out, 0, sizeof *out);
    out->height = c->height;
    out->round = round;
    out->valid_round = rr->prop_valid_round;
    out->proposer = proposer_of(c, round);
    out->value.hash = rr->prop_hash;
    out->value.data = rr->prop_data;
    out->value.len = rr->prop_len;
    out->sig = rr->prop_sig;
    return true;
}

size_t esg_cons_validator_count(const esg_cons *c) {
    assert(c);
    return c->started ? c->n : 0;
}

/* --------------------------------------------------------------- getters */

uint64_t esg_cons_height(const esg_cons *c) {
    assert(c);
    return c->height;
}

uint32_t esg_cons_round(const esg_cons *c) {
    assert(c);
    return c->round;
}

esg_cons_step esg_cons_get_step(const esg_cons *c) {
    assert(c);
    return c->step;
}

void esg_cons_get_lock(const esg_cons *c, esg_cons_lock *out) {
    assert(c && out);
    lock_now(c, out);
}

int64_t esg_cons_self_index(const esg_cons *c) {
    assert(c);
    return c->self_idx;
}
