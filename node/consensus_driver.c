/* The consensus driver: the Tendermint machine on the node's loop. */
#include "node/consensus_driver.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/evidence.h"
#include "ledger/failpoint.h"
#include "ledger/executor.h"
#include "node/blocktime.h"
#include "node/gossip.h"
#include "node/privval.h"
#include "node/clock.h"

#define BUILD_BATCH 5000
#define MAX_PEERS 64
#define SYNC_BATCH 64
#define SYNC_RESPONSE_BYTES ((size_t)4 << 20)
#define TICK_MS 1000
#define SYNC_RETRY_MS 5000
#define BEHIND_GRACE_MS 3000
#define WAL_FILE "cons_wal"
#define VERIFY_THREADS 8
#define VERIFY_MIN_PER_THREAD 64
#define WAL_MAX_RECORD ((size_t)16 << 20)
#define IDLE_POLL_MS 50
#define EV_POOL_MAX 64
/* Catch-up gossip (ConsensusState): rounds described per state, bytes
 * of a vote bitmap (ESG_CONS_MAX_VALIDATORS bits), and how long a
 * proposal sent to a peer that lacked it waits before it is sent again
 * (a block may take a while on a slow link; the peer's next state shows
 * whether it arrived). */
#define STATE_ROUNDS 16
#define BITMAP_BYTES (ESG_CONS_MAX_VALIDATORS / 8)
#define PROPOSAL_RESEND_MS 3000
/* Proposals of other validators remembered for their arrival time. */
#define RX_MAX 64

/* The idle gate (see the header): what is held back. */
enum { HOLD_NONE, HOLD_START, HOLD_COMMIT };

typedef struct dtimer {
    uv_timer_t t;
    struct esg_driver *d;
    esg_cons_timeout kind;
    uint64_t height;
    uint32_t round;
    struct dtimer *prev, *next;
} dtimer;

/* Evidence waiting for a block: verified, not recorded when it came in. */
typedef struct pooled_ev {
    esg_hash id;
    uint8_t *buf;
    size_t len;
} pooled_ev;

/* A proposal of another validator: its block time and when it arrived
 * (local clock, uncorrected), for the timeliness rule and the offset
 * estimate (node/blocktime.h). */
typedef struct prop_rx {
    uint64_t height;
    uint32_t round;
    esg_hash hash;
    uint64_t time_ms, recv_ms;
} prop_rx;

/* What a peer holds of one round, as its last ConsensusState said, plus
 * what this node sent it since. */
typedef struct peer_round {
    uint32_t round;
    bool proposal;
    uint8_t votes[2][BITMAP_BYTES]; /* [0] prevotes, [1] precommits */
} peer_round;

/* A connected peer: its last final height (Hello) and its consensus
 * state (cs_*: known once it sent one). */
typedef struct peer_height {
    bool used;
    esg_pubkey key;
    uint64_t height;
    bool cs_known, cs_idle;
    uint64_t cs_height;
    uint32_t cs_round, cs_step;
    size_t n_rounds;
    peer_round rounds[STATE_ROUNDS];
    /* the last proposal sent to it because it lacked it */
    uint64_t prop_sent_height, prop_sent_ms;
    uint32_t prop_sent_round;
} peer_height;

struct esg_driver {
    esg_driver_config cfg;
    esg_seckey key;
    esg_pubkey pub;
    char chain_id[65];
    esg_hash genesis_hash;
    uint64_t tip;
    esg_privval *pv;
    esg_gossip *g;
    esg_cons *cons;
    esg_exec_item *items;
    uint8_t *last_value; /* what get_value returned last: lives until the next */

    /* validator set cache (one height), invalidated on every new block */
    uint64_t vs_height;
    esg_cons_validator *vs;
    size_t vs_n;

    esg_pubkey *observers;
    size_t n_observers;
    /* The last proposal cb_valid accepted: SHA-256 of its bytes, height,
     * and its all-true sigs_verified flags (NULL for an empty block). */
    esg_hash checked_digest;
    uint64_t checked_height;
    bool *checked_flags;
    pooled_ev ev[EV_POOL_MAX];
    size_t n_ev;
    esg_exec_evidence ev_items[EV_POOL_MAX];
    /* Write-ahead log of this node's signed messages of the current height
     * (u32 big-endian length, then the P2pMessage bytes), replayed into
     * the machine after a restart (node/consensus.h explains why). Not
     * fsync'ed: the signer's file already prevents equivocation; losing
     * the tail costs liveness at worst, which the other validators cover. */
    FILE *wal;
    uv_timer_t *tick;
    dtimer *timers;
    peer_height *peers; /* MAX_PEERS */
    esg_bt_rule bt;
    esg_bt_offset bt_offset;
    prop_rx rx[RX_MAX]; /* ring */
    size_t rx_next;
    /* The consensus state last sent to every peer (to send on change). */
    uint64_t sent_height;
    uint32_t sent_round, sent_step;
    bool sent_idle, sent_any;
    bool req_pending;
    esg_pubkey req_peer; /* whom the pending request went to */
    uint64_t req_ms, behind_since_ms;

    /* Idle gate: HOLD_START (the instance is created but not started) or
     * HOLD_COMMIT (the COMMIT timer of hold_height/hold_round fired and was
     * kept from the machine), since hold_since_ms. */
    int hold;
    uint64_t hold_height, hold_since_ms;
    uint64_t peer_msg_height; /* highest height of a verified peer message */
    /* The sync under way, for its progress lines: when its first block
     * arrived (0: none under way) and the tip then. */
    uint64_t sync_t0_us, sync_h0;
    uint32_t hold_round;
    uv_timer_t *idle;

    pthread_mutex_t mu; /* guards the five below */
    size_t n_peers;
    bool syncing;
    uint64_t behind;
    esg_driver_metrics m;
    uint64_t phase_since_us; /* when m.step was entered (accounted) */
};

static void wal_append(esg_driver *d, const uint8_t *buf, size_t len);
static void wal_reset(esg_driver *d);
static void note_state(esg_driver *d);
static void send_state(esg_driver *d, const esg_pubkey *to);
static void drop_disallowed(esg_driver *d);
static int verify_block_bytes(esg_driver *d, const uint8_t *blk, size_t len, bool **flags);

static int read_tip(esg_driver *d) {
    MDB_txn *txn;
    int rc = esg_store_read_begin(d->cfg.store, &txn);
    if (rc)
        return rc;
    esg_store_meta meta;
    rc = esg_store_meta_get(txn, d->cfg.store, &meta);
    esg_store_read_end(txn);
    if (rc)
        return rc;
    d->tip = meta.height;
    snprintf(d->chain_id, sizeof d->chain_id, "%s", meta.chain_id);
    d->genesis_hash = meta.genesis_hash;
    return ESG_OK;
}

/* The validator set of `height`, cached for one height. Heights above
 * tip + 2 are not known yet. */
static int load_valset(esg_driver *d, uint64_t height, const esg_cons_validator **vals,
                       size_t *n) {
    if (d->vs && d->vs_height == height) {
        *vals = d->vs;
        *n = d->vs_n;
        return ESG_OK;
    }
    if (height == 0 || height > d->tip + 2)
        return ESG_ERR_NOT_FOUND;
    MDB_txn *txn;
    int rc = esg_store_read_begin(d->cfg.store, &txn);
    if (rc)
        return rc;
    esg_pb_validator_set *vs = NULL;
    rc = esg_exec_valset_at(txn, d->cfg.store, height, &vs);
    esg_store_read_end(txn);
    if (rc)
        return rc;
    esg_cons_validator *arr = calloc(vs->n_validators ? vs->n_validators : 1, sizeof *arr);
    if (!arr) {
        esg_pb_free(vs);
        return ESG_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < vs->n_validators; i++) {
        if (esg_pb_pubkey32(&vs->validators[i]->pubkey, &arr[k].key) != 0 ||
            vs->validators[i]->power == 0)
            continue;
        arr[k++].power = vs->validators[i]->power;
    }
    esg_pb_free(vs);
    if (k == 0) {
        free(arr);
        return ESG_ERR_NOT_FOUND;
    }
    free(d->vs);
    d->vs = arr;
    d->vs_n = k;
    d->vs_height = height;
    *vals = arr;
    *n = k;
    return ESG_OK;
}

static int find_validator(const esg_cons_validator *vals, size_t n, const esg_pubkey *pk) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(vals[i].key.b, pk->b, 32) == 0)
            return (int)i;
    return -1;
}

static void set_sync(esg_driver *d, bool syncing, uint64_t behind) {
    pthread_mutex_lock(&d->mu);
    d->syncing = syncing;
    d->behind = behind;
    d->n_peers = esg_gossip_peer_count(d->g);
    pthread_mutex_unlock(&d->mu);
}

/* --------------------------------------------------------- evidence pool */

static void ev_pool_drop(esg_driver *d, const esg_hash *id) {
    for (size_t i = 0; i < d->n_ev; i++) {
        if (memcmp(d->ev[i].id.b, id->b, 32) != 0)
            continue;
        free(d->ev[i].buf);
        d->ev[i] = d->ev[--d->n_ev];
        return;
    }
}

/* Adds verified evidence bytes (copied). Returns true if it is new. When
 * the pool is full the evidence is refused: the equivocator's offence is
 * proved by what is already pooled, and gossip brings it again later. */
static bool ev_pool_add(esg_driver *d, const uint8_t *buf, size_t len) {
    esg_hash id = esg_evidence_id(buf, len);
    for (size_t i = 0; i < d->n_ev; i++)
        if (memcmp(d->ev[i].id.b, id.b, 32) == 0)
            return false;
    if (d->n_ev == EV_POOL_MAX)
        return false;
    uint8_t *copy = malloc(len);
    if (!copy)
        return false;
    memcpy(copy, buf, len);
    d->ev[d->n_ev++] = (pooled_ev){id, copy, len};
    pthread_mutex_lock(&d->mu);
    d->m.evidence_total++;
    pthread_mutex_unlock(&d->mu);
    /* Pooled in memory only, not yet gossiped by our caller: the pool is
     * not persisted, and a crash here loses it (docs/FAILPOINTS.md). */
    ESG_FAILPOINT("ev-pool-add");
    return true;
}

/* Whether `e` could be recorded by the next block: valid against the set
 * of its height and not on chain yet. 0 or the error (reason in why). */
static int ev_check(esg_driver *d, const Esg__Evidence *e, char *why, size_t whylen) {
    MDB_txn *txn;
    int rc = esg_store_read_begin(d->cfg.store, &txn);
    if (rc)
        return rc;
    esg_state *st = NULL;
    rc = esg_state_open_scratch(&st, d->cfg.store, txn);
    if (rc == 0)
        rc = esg_evidence_check(st, d->cfg.store, d->chain_id, d->tip + 1, e, why, whylen);
    esg_state_free(st);
    esg_store_read_end(txn);
    return rc;
}

/* ------------------------------------------------------------ a new block */

/* Bookkeeping after block `height` (bytes `block`) was stored. */
static void after_commit(esg_driver *d, const uint8_t *block, size_t len, uint64_t height,
                         uint64_t apply_us) {
    d->tip = height;
    free(d->vs);
    d->vs = NULL;
    esg_pb_block *b = NULL;
    size_t n = 0;
    if (esg_pb_block_decode(&b, block, len, len) == 0) {
        esg_exec_item *items = calloc(b->n_txs ? b->n_txs : 1, sizeof *items);
        if (items) {
            for (size_t i = 0; i < b->n_txs; i++)
                if (esg_tx_decode(&items[n].tx, b->txs[i].data, b->txs[i].len) == 0)
                    n++;
            esg_mempool_update(d->cfg.mp, items, n, height);
            for (size_t i = 0; i < n; i++)
                esg_tx_free(items[i].tx);
            free(items);
        }
        for (size_t i = 0; i < b->n_evidence; i++) {
            uint8_t *eb;
            size_t el;
            if (esg_pb_encode(&b->evidence[i]->base, &eb, &el) != 0)
                continue;
            esg_hash id = esg_evidence_id(eb, el);
            free(eb);
            ev_pool_drop(d, &id);
        }
        esg_pb_free(b);
    }
    wal_reset(d);
    drop_disallowed(d);
    esg_gossip_set_height(d->g, height);
    if (d->cfg.on_committed)
        d->cfg.on_committed(d->cfg.ctx, height, n, apply_us);
}

/* ------------------------------------------------------------ block time */

/* The local clock corrected by the offset estimate (node/blocktime.h). */
static uint64_t net_now(esg_driver *d) {
    return esg_bt_apply(esg_wall_ms(), esg_bt_offset_get(&d->bt_offset));
}

static void rx_note(esg_driver *d, uint64_t height, uint32_t round, const esg_hash *hash,
                    uint64_t time_ms) {
    for (size_t i = 0; i < RX_MAX; i++)
        if (d->rx[i].height == height && d->rx[i].round == round &&
            esg_hash_eq(&d->rx[i].hash, hash))
            return; /* the first arrival counts */
    d->rx[d->rx_next] = (prop_rx){height, round, *hash, time_ms, esg_wall_ms()};
    d->rx_next = (d->rx_next + 1) % RX_MAX;
}

/* The arrival record of a proposal of (height, round or any round when
 * round is UINT32_MAX) with block `hash`, or NULL. */
static const prop_rx *rx_find(const esg_driver *d, uint64_t height, uint32_t round,
                              const esg_hash *hash) {
    for (size_t i = 0; i < RX_MAX; i++)
        if (d->rx[i].height == height && (round == UINT32_MAX || d->rx[i].round == round) &&
            esg_hash_eq(&d->rx[i].hash, hash) && d->rx[i].recv_ms)
            return &d->rx[i];
    return NULL;
}

static bool cb_timely(void *ctx, uint64_t height, uint32_t round, const esg_cons_value *v) {
    esg_driver *d = ctx;
    const prop_rx *rx = rx_find(d, height, round, &v->hash);
    if (!rx)
        return false;
    uint64_t recv = esg_bt_apply(rx->recv_ms, esg_bt_offset_get(&d->bt_offset));
    if (esg_bt_timely(&d->bt, rx->time_ms, recv, round))
        return true;
    esg_log(d->cfg.log, ESG_LOG_WARN,
            "proposal for block %llu round %u is not timely: its time is %lld ms from its "
            "arrival (allowed: %llu ms ahead, %llu ms behind); prevoting nil",
            (unsigned long long)height, round, (long long)rx->time_ms - (long long)recv,
            (unsigned long long)d->bt.precision_ms,
            (unsigned long long)(d->bt.precision_ms + d->bt.message_delay_ms +
                                 d->bt.message_delay_ms / 10 * round));
    return false;
}

/* A decided block proposed by another validator: one more sample of how
 * far this node's clock is from the network's. */
static void offset_learn(esg_driver *d, uint64_t height, const esg_hash *hash) {
    const prop_rx *rx = rx_find(d, height, UINT32_MAX, hash);
    if (!rx)
        return;
    int64_t before = esg_bt_offset_get(&d->bt_offset);
    if (!esg_bt_offset_add(&d->bt_offset, rx->time_ms, rx->recv_ms, d->bt.precision_ms))
        return;
    int64_t now = esg_bt_offset_get(&d->bt_offset);
    pthread_mutex_lock(&d->mu);
    d->m.clock_offset_ms = now;
    pthread_mutex_unlock(&d->mu);
    /* Log when correcting starts or stops, or moves by more than the
     * precision: not at every sample. */
    int64_t diff = now - before;
    if (before == 0 || now == 0 || (uint64_t)(diff < 0 ? -diff : diff) > d->bt.precision_ms) {
        if (now)
            esg_log(d->cfg.log, ESG_LOG_WARN,
                    "this node's clock is %lld ms %s the network's (median of the last %u "
                    "decided proposals of other validators): block times and proposal checks "
                    "now use the corrected time; fix the clock (NTP)",
                    (long long)(now < 0 ? -now : now), now > 0 ? "behind" : "ahead of",
                    ESG_BT_SAMPLES);
        else
            esg_log(d->cfg.log, ESG_LOG_INFO,
                    "this node's clock agrees with the network's again; no correction");
    }
}

/* ------------------------------------------------------ machine callbacks */

static size_t cb_validators(void *ctx, uint64_t height, const esg_cons_validator **vals) {
    esg_driver *d = ctx;
    size_t n = 0;
    int rc = load_valset(d, height, vals, &n);
    assert(rc == 0 && "validator set of the consensus height must be known");
    (void)rc;
    return n;
}

static bool cb_get_value(void *ctx, uint64_t height, esg_cons_value *out) {
    esg_driver *d = ctx;
    if (height != d->tip + 1)
        return false;
    free(d->last_value);
    d->last_value = NULL;
    size_t n = esg_mempool_reap(d->cfg.mp, d->items, BUILD_BATCH);
    for (size_t i = 0; i < d->n_ev; i++)
        d->ev_items[i] = (esg_exec_evidence){.data = d->ev[i].buf, .len = d->ev[i].len};
    size_t n_ev = d->n_ev;
    uint8_t *blk = NULL;
    size_t blen = 0;
    esg_hash bh;
    esg_produced pr;
    int rc = esg_exec_build_block(d->cfg.store, d->cfg.ct, d->items, n, d->ev_items, n_ev,
                                  net_now(d), &d->pub, true, &blk, &blen, &bh, &pr);
    /* Evidence that cannot be recorded (already on chain) leaves the pool. */
    for (size_t i = n_ev; rc == 0 && i-- > 0;)
        if (d->ev_items[i].result == ESG_ERR_BAD_EVIDENCE ||
            d->ev_items[i].result == ESG_ERR_EVIDENCE_RECORDED) {
            esg_hash id = d->ev[i].id;
            ev_pool_drop(d, &id);
        }
    if (rc || !pr.made) {
        esg_log(d->cfg.log, ESG_LOG_ERROR, "cannot build block %llu: %s",
                (unsigned long long)height, esg_err_message(rc));
        return false;
    }
    /* Transactions that cannot apply on the tip leave the pool now. */
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (d->items[i].result && d->items[i].result != ESG_ERR_MEMPOOL_FULL)
            d->items[k++] = d->items[i];
    if (k)
        esg_mempool_update(d->cfg.mp, d->items, k, 0);
    d->last_value = blk;
    out->hash = bh;
    out->data = blk;
    out->len = blen;
    return true;
}

static bool cb_valid(void *ctx, uint64_t height, const esg_cons_value *v) {
    esg_driver *d = ctx;
    char err[256] = "";
    bool *flags = NULL;
    int rc = verify_block_bytes(d, v->data, v->len, &flags);
    if (rc)
        snprintf(err, sizeof err, "transaction signatures: %s", esg_err_message(rc));
    else
        /* No clock here: a decided block must be taken whatever this
         * node's clock says; clocks judge only the prevote (cb_timely). */
        rc = esg_exec_check_block(d->cfg.store, d->cfg.ct, v->data, v->len, flags, net_now(d),
                                  UINT64_MAX, err, sizeof err);
    if (rc) {
        free(flags);
        esg_log(d->cfg.log, ESG_LOG_WARN, "proposal for block %llu rejected: %s",
                (unsigned long long)height, err[0] ? err : esg_err_message(rc));
        return false;
    }
    /* These bytes are now known good: deciding them needs no new check of
     * their signatures (the block hash does not cover them: keep a digest
     * of the bytes, and the flags to store them with). */
    free(d->checked_flags);
    d->checked_flags = flags;
    d->checked_digest = esg_sha256(v->data, v->len);
    d->checked_height = height;
    return true;
}

static bool cb_sign_proposal(void *ctx, const esg_cons_proposal *p, const esg_cons_lock *lock,
                             esg_sig *sig) {
    esg_driver *d = ctx;
    int rc = esg_privval_sign_proposal(d->pv, sig, d->chain_id, p->height, p->round,
                                       p->valid_round, &p->value.hash, lock);
    if (rc)
        esg_log(d->cfg.log, ESG_LOG_WARN, "signer refused a proposal at %llu/%u: %s",
                (unsigned long long)p->height, p->round, esg_err_message(rc));
    return rc == 0;
}

static bool cb_sign_vote(void *ctx, const esg_cons_vote *v, const esg_cons_lock *lock,
                         esg_sig *sig) {
    esg_driver *d = ctx;
    int rc = esg_privval_sign_vote(d->pv, sig, d->chain_id, v->type, v->height, v->round,
                                   &v->block, lock);
    if (rc)
        esg_log(d->cfg.log, ESG_LOG_WARN, "signer refused a vote at %llu/%u: %s",
                (unsigned long long)v->height, v->round, esg_err_message(rc));
    return rc == 0;
}

static bool is_zero(const esg_hash *h) {
    static const uint8_t z[32];
    return memcmp(h->b, z, 32) == 0;
}

/* The P2pMessage of a machine message, in *m, pointing into msg, cp and
 * cv (which the caller provides). False when the signer is not in the
 * set of the message's height. */
static bool cons_msg_encode(esg_driver *d, const esg_cons_msg *msg, Esg__P2pMessage *m,
                            Esg__ConsensusProposal *cp, Esg__ConsensusVote *cv) {
    const esg_cons_validator *vals;
    size_t n;
    esg__p2p_message__init(m);
    if (msg->kind == ESG_CONS_MSG_PROPOSAL) {
        const esg_cons_proposal *p = &msg->u.proposal;
        if (load_valset(d, p->height, &vals, &n) || p->proposer >= n)
            return false;
        esg__consensus_proposal__init(cp);
        cp->height = p->height;
        cp->round = p->round;
        cp->valid_round = p->valid_round;
        cp->block = esg_pb_bin(p->value.data, p->value.len);
        cp->proposer = esg_pb_bin(vals[p->proposer].key.b, 32);
        cp->sig = esg_pb_bin(p->sig.b, 64);
        m->msg_case = ESG_P2P_MSG_PROPOSAL;
        m->proposal = cp;
        return true;
    }
    const esg_cons_vote *v = &msg->u.vote;
    if (load_valset(d, v->height, &vals, &n) || v->validator >= n)
        return false;
    esg__consensus_vote__init(cv);
    cv->type = (Esg__VoteType)v->type;
    cv->height = v->height;
    cv->round = v->round;
    if (!is_zero(&v->block))
        cv->block_hash = esg_pb_bin(v->block.b, 32);
    cv->validator = esg_pb_bin(vals[v->validator].key.b, 32);
    cv->sig = esg_pb_bin(v->sig.b, 64);
    m->msg_case = ESG_P2P_MSG_VOTE;
    m->vote = cv;
    return true;
}

/* The machine's own message: to every peer, and to the write-ahead log. */
static void cb_broadcast(void *ctx, const esg_cons_msg *msg) {
    esg_driver *d = ctx;
    Esg__P2pMessage m;
    Esg__ConsensusProposal cp;
    Esg__ConsensusVote cv;
    if (!cons_msg_encode(d, msg, &m, &cp, &cv))
        return;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (esg_gossip_broadcast(d->g, &m, &buf, &len) != 0 || !buf)
        return;
    wal_append(d, buf, len);
    free(buf);
}

static void wal_append(esg_driver *d, const uint8_t *buf, size_t len) {
    if (!d->wal)
        return;
    /* The message went to the peers (cb_broadcast) but is not logged. */
    ESG_FAILPOINT("wal-append-before");
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len};
    if (fwrite(hdr, 1, 4, d->wal) != 4 || fwrite(buf, 1, len, d->wal) != len ||
        fflush(d->wal) != 0)
        esg_log(d->cfg.log, ESG_LOG_WARN, "cannot append to the consensus log");
    else
        ESG_FAILPOINT("wal-append-after");
}

static void wal_reset(esg_driver *d) {
    if (d->wal && (fflush(d->wal) != 0 || ftruncate(fileno(d->wal), 0) != 0))
        esg_log(d->cfg.log, ESG_LOG_WARN, "cannot truncate the consensus log");
}

static int on_proposal(void *ctx, const esg_pubkey *from, const Esg__ConsensusProposal *p);
static int on_vote(void *ctx, const esg_pubkey *from, const Esg__ConsensusVote *v);

int esg_driver__wal_read(FILE *f, esg_pb_p2p_message **out) {
    *out = NULL;
    uint8_t hdr[4];
    if (fread(hdr, 1, 4, f) != 4)
        return 0;
    size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
    if (len == 0 || len > WAL_MAX_RECORD)
        return 0;
    uint8_t *buf = malloc(len);
    if (!buf || fread(buf, 1, len, f) != len) {
        free(buf);
        return 0;
    }
    if (esg_pb_decode(&esg__p2p_message__descriptor, buf, len, len,
                      (ProtobufCMessage **)out) != 0)
        *out = NULL;
    free(buf);
    return 1;
}

/* Hands the messages this node signed at the start height back to the
 * machine (and to the re-send list). Records of other heights, and a torn
 * last record, are skipped. */
static void wal_replay(esg_driver *d) {
    if (!d->wal)
        return;
    rewind(d->wal);
    size_t n = 0;
    Esg__P2pMessage *m;
    while (esg_driver__wal_read(d->wal, &m)) {
        int rc = -1;
        if (m) {
            if (m->msg_case == ESG_P2P_MSG_PROPOSAL && m->proposal->height == d->tip + 1)
                rc = on_proposal(d, &d->pub, m->proposal);
            else if (m->msg_case == ESG_P2P_MSG_VOTE && m->vote->height == d->tip + 1)
                rc = on_vote(d, &d->pub, m->vote);
            esg_pb_free(m);
        }
        if (rc == 0)
            n++;
    }
    fseek(d->wal, 0, SEEK_END);
    if (n)
        esg_log(d->cfg.log, ESG_LOG_INFO, "consensus log: replayed %zu own message(s) of height %llu",
                n, (unsigned long long)(d->tip + 1));
}

static void timer_closed(uv_handle_t *h) { free(h->data); }

/* ------------------------------------------------------------- idle gate */

/* True when a new height may start now: transactions wait, or the
 * heartbeat interval passed since the gate closed. */
static bool gate_may_open(esg_driver *d) {
    /* Another validator already sent a verified message of the next height
     * (perhaps during this node's commit pause, before the gate held): it
     * has started, so follow it -- its re-sends would be dropped as seen. */
    if (d->peer_msg_height > d->tip)
        return true;
    esg_mempool_stats st;
    esg_mempool_stats_get(d->cfg.mp, &st);
    if (st.txs > 0)
        return true;
    return d->cfg.heartbeat_ms && d->hold && esg_wall_ms() - d->hold_since_ms >= d->cfg.heartbeat_ms;
}

/* Lets the held start or COMMIT timer reach the machine. */
static void gate_open(esg_driver *d, const char *why) {
    int hold = d->hold;
    if (hold == HOLD_NONE || !d->cons)
        return;
    d->hold = HOLD_NONE;
    esg_log(d->cfg.log, ESG_LOG_DEBUG, "height %llu starts: %s",
            (unsigned long long)(hold == HOLD_START ? esg_cons_height(d->cons)
                                                    : esg_cons_height(d->cons) + 1),
            why);
    int rc = hold == HOLD_START
                 ? esg_cons_start(d->cons)
                 : esg_cons_on_timeout(d->cons, ESG_CONS_TIMEOUT_COMMIT, d->hold_height,
                                       d->hold_round);
    if (rc) {
        /* Out of memory and nothing changed in the machine: hold again; the
         * next poll or message retries. */
        esg_log(d->cfg.log, ESG_LOG_ERROR, "cannot start the next height: %s",
                esg_err_message(rc));
        d->hold = hold;
    }
    note_state(d);
}

/* A verified message of `height` arrived: if it belongs to the height the
 * gate holds back, another validator has started it, so this node starts
 * too. */
static void gate_on_msg(esg_driver *d, uint64_t height) {
    if (height > d->peer_msg_height)
        d->peer_msg_height = height;
    if (d->hold == HOLD_START ||
        (d->hold == HOLD_COMMIT && height == esg_cons_height(d->cons) + 1))
        gate_open(d, "a validator started it");
}

/* Records the machine's height, round and step for the metrics, adding
 * the time since the last call to the step it was in. Call after each
 * input to the machine. */
static void note_state(esg_driver *d) {
    if (!d->cons)
        return;
    uint32_t step = d->hold ? 4u : (uint32_t)esg_cons_get_step(d->cons);
    uint64_t now = esg_mono_us();
    pthread_mutex_lock(&d->mu);
    if (d->phase_since_us && d->m.step < ESG_DRIVER_N_PHASES)
        d->m.phase_us[d->m.step] += now - d->phase_since_us;
    d->phase_since_us = now;
    /* While the gate holds a COMMIT timer the next height is the one
     * waiting to be decided. */
    d->m.height = esg_cons_height(d->cons) + (d->hold == HOLD_COMMIT ? 1 : 0);
    d->m.round = d->hold ? 0 : esg_cons_round(d->cons);
    d->m.step = step;
    pthread_mutex_unlock(&d->mu);
    /* Peers learn each change of height, round or step at once (and the
     * rest every second, on_tick). */
    if (!d->sent_any || d->sent_height != esg_cons_height(d->cons) ||
        d->sent_round != esg_cons_round(d->cons) ||
        d->sent_step != (uint32_t)esg_cons_get_step(d->cons) ||
        d->sent_idle != (d->hold != HOLD_NONE))
        send_state(d, NULL);
}

static void on_idle_poll(uv_timer_t *t) {
    esg_driver *d = t->data;
    if (d->hold && gate_may_open(d))
        gate_open(d, "transactions or heartbeat");
}

static void timer_fired(uv_timer_t *t) {
    dtimer *dt = t->data;
    esg_driver *d = dt->d;
    if (dt->prev)
        dt->prev->next = dt->next;
    else
        d->timers = dt->next;
    if (dt->next)
        dt->next->prev = dt->prev;
    esg_cons_timeout kind = dt->kind;
    uint64_t height = dt->height;
    uint32_t round = dt->round;
    uv_close((uv_handle_t *)&dt->t, timer_closed);
    if (d->hold == HOLD_START)
        return; /* a timer of an instance replaced by block sync */
    if (d->cons && kind == ESG_CONS_TIMEOUT_COMMIT && d->hold == HOLD_NONE &&
        height == esg_cons_height(d->cons) && esg_cons_get_step(d->cons) == ESG_CONS_STEP_COMMIT &&
        !gate_may_open(d)) {
        d->hold = HOLD_COMMIT;
        d->hold_height = height;
        d->hold_round = round;
        d->hold_since_ms = esg_wall_ms();
        note_state(d);
        return;
    }
    if (d->cons && esg_cons_on_timeout(d->cons, kind, height, round) == ESG_ERR_NOMEM) {
        esg_log(d->cfg.log, ESG_LOG_ERROR, "out of memory starting the next height");
    }
    note_state(d);
}

static void cb_schedule_timeout(void *ctx, esg_cons_timeout kind, uint64_t height,
                                uint32_t round, uint32_t ms) {
    esg_driver *d = ctx;
    dtimer *dt = calloc(1, sizeof *dt);
    if (!dt) {
        esg_log(d->cfg.log, ESG_LOG_ERROR, "out of memory scheduling a timeout");
        return;
    }
    dt->d = d;
    dt->kind = kind;
    dt->height = height;
    dt->round = round;
    uv_timer_init(d->cfg.loop, &dt->t);
    dt->t.data = dt;
    dt->next = d->timers;
    if (d->timers)
        d->timers->prev = dt;
    d->timers = dt;
    uv_timer_start(&dt->t, timer_fired, ms, 0);
}

static void cb_decide(void *ctx, uint64_t height, uint32_t round, const esg_cons_value *value,
                      const esg_cons_vote *commit, size_t n) {
    esg_driver *d = ctx;
    if (height <= d->tip)
        return; /* block sync stored it first */
    pthread_mutex_lock(&d->mu);
    d->m.heights_decided++;
    d->m.rounds_total += (uint64_t)round + 1;
    pthread_mutex_unlock(&d->mu);
    const esg_cons_validator *vals;
    size_t nv;
    if (load_valset(d, height, &vals, &nv) != 0)
        return;
    Esg__CommitSig *sigs = calloc(n ? n : 1, sizeof *sigs);
    Esg__CommitSig **ps = calloc(n ? n : 1, sizeof *ps);
    if (!sigs || !ps) {
        free(sigs);
        free(ps);
        esg_log(d->cfg.log, ESG_LOG_ERROR, "out of memory storing block %llu",
                (unsigned long long)height);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (commit[i].validator >= nv)
            continue;
        Esg__CommitSig init = ESG__COMMIT_SIG__INIT;
        sigs[k] = init;
        sigs[k].validator = esg_pb_bin(vals[commit[i].validator].key.b, 32);
        sigs[k].sig = esg_pb_bin(commit[i].sig.b, 64);
        ps[k] = &sigs[k];
        k++;
    }
    Esg__Commit c = ESG__COMMIT__INIT;
    c.height = height;
    c.round = round;
    c.block_hash = esg_pb_bin(value->hash.b, 32);
    c.n_sigs = k;
    c.sigs = ps;
    uint8_t *cbuf = NULL;
    size_t clen = 0;
    int rc = esg_pb_encode(&c.base, &cbuf, &clen);
    free(sigs);
    free(ps);
    if (rc)
        return;
    char err[256] = "";
    uint64_t t0 = esg_mono_us();
    bool *flags = NULL;
    esg_hash digest = esg_sha256(value->data, value->len);
    bool checked = d->checked_height == height && esg_hash_eq(&digest, &d->checked_digest);
    if (!checked)
        rc = verify_block_bytes(d, value->data, value->len, &flags);
    if (rc == 0)
        rc = esg_exec_apply_block(d->cfg.store, d->cfg.ct, value->data, value->len, cbuf, clen,
                                  checked ? d->checked_flags : flags, err, sizeof err);
    free(flags);
    free(cbuf);
    if (rc) {
        esg_log(d->cfg.log, ESG_LOG_ERROR, "cannot store decided block %llu: %s",
                (unsigned long long)height, err[0] ? err : esg_err_message(rc));
        return;
    }
    offset_learn(d, height, &value->hash);
    after_commit(d, value->data, value->len, height, esg_mono_us() - t0);
}

/* Consensus saw two votes of one validator for different values: encode
 * the evidence, pool it for a block and gossip it. */
static void cb_evidence(void *ctx, const esg_cons_vote *a, const esg_cons_vote *b) {
    esg_driver *d = ctx;
    const esg_cons_validator *vals;
    size_t nv;
    if (load_valset(d, a->height, &vals, &nv) != 0 || a->validator >= nv)
        return;
    const esg_pubkey *who = &vals[a->validator].key;
    esg_evidence_vote va = {is_zero(&a->block) ? NULL : &a->block, a->sig};
    esg_evidence_vote vb = {is_zero(&b->block) ? NULL : &b->block, b->sig};
    uint8_t *buf = NULL;
    size_t len = 0;
    if (esg_evidence_encode((int)a->type, a->height, a->round, who, &va, &vb, &buf, &len) != 0)
        return;
    esg_hash id = esg_evidence_id(buf, len);
    esg_log(d->cfg.log, ESG_LOG_WARN, "validator %s equivocated at %llu/%u: evidence %s",
            esg_pubkey_hex(who).s, (unsigned long long)a->height, a->round, esg_hash_hex(&id).s);
    if (ev_pool_add(d, buf, len)) {
        Esg__Evidence *e = NULL;
        if (esg_pb_decode(ESG_PB_EVIDENCE_DESC, buf, len, len, (ProtobufCMessage **)&e) == 0) {
            Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
            m.msg_case = ESG_P2P_MSG_EVIDENCE;
            m.evidence = e;
            esg_gossip_broadcast(d->g, &m, NULL, NULL);
            esg_pb_free(e);
        }
    }
    free(buf);
}

static int start_cons(esg_driver *d) {
    esg_cons_free(d->cons);
    d->cons = NULL;
    esg_cons_callbacks cb = {
        .ctx = d, .validators = cb_validators, .get_value = cb_get_value, .valid = cb_valid,
        .timely = cb_timely,
        .sign_proposal = cb_sign_proposal, .sign_vote = cb_sign_vote,
        .broadcast = cb_broadcast, .schedule_timeout = cb_schedule_timeout,
        .decide = cb_decide, .evidence = cb_evidence,
    };
    esg_cons_start_state st;
    esg_privval_start_state(d->pv, d->tip + 1, &st);
    d->hold = HOLD_NONE;
    int rc = esg_cons_new(&d->cons, &d->cfg.cons, &cb, &d->pub, &st);
    if (rc == 0 && !gate_may_open(d)) {
        d->hold = HOLD_START;
        d->hold_since_ms = esg_wall_ms();
        note_state(d);
        return ESG_OK;
    }
    if (rc == 0)
        rc = esg_cons_start(d->cons);
    if (rc == 0)
        note_state(d);
    if (rc)
        esg_log(d->cfg.log, ESG_LOG_ERROR, "cannot start consensus at height %llu: %s",
                (unsigned long long)(d->tip + 1), esg_err_message(rc));
    return rc;
}

/* The machine's form of a wire vote (signature not copied nor checked):
 * 0, with the signer's key in *pk, or ESG_ERR_BAD_CONSENSUS_MSG for an
 * unknown type, a signer outside the set of its height, or a block hash
 * that is neither empty (nil) nor 32 bytes other than zero. */
static int vote_from_wire(esg_driver *d, const Esg__ConsensusVote *v, esg_cons_vote *cv,
                          esg_pubkey *pk) {
    const esg_cons_validator *vals;
    size_t n;
    if (((int)v->type != ESG_CONS_PREVOTE && (int)v->type != ESG_CONS_PRECOMMIT) ||
        (v->block_hash.len != 0 && v->block_hash.len != 32) ||
        load_valset(d, v->height, &vals, &n) || esg_pb_pubkey32(&v->validator, pk))
        return ESG_ERR_BAD_CONSENSUS_MSG;
    int idx = find_validator(vals, n, pk);
    if (idx < 0)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    memset(cv, 0, sizeof *cv);
    cv->type = (esg_cons_vote_type)v->type;
    cv->height = v->height;
    cv->round = v->round;
    cv->validator = (uint32_t)idx;
    if (v->block_hash.len == 32) {
        memcpy(cv->block.b, v->block_hash.data, 32);
        if (is_zero(&cv->block))
            return ESG_ERR_BAD_CONSENSUS_MSG;
    }
    return ESG_OK;
}

/* ------------------------------------------------------- catch-up gossip */

/* Every validator tells its peers which messages of its height it holds
 * (ConsensusState: on each change of height, round or step, and every
 * second), and sends each peer the proposals and votes it holds that the
 * peer's last state lacks -- CometBFT's consensus reactor, pulled by
 * state instead of pushed per vote. Flooding (gossip.c) stays the fast
 * path; this is what makes delivery certain once links are up: a message
 * lost in any way (a dropped frame, a buffer the machine discarded when
 * block sync restarted it, a vote that arrived before the node was
 * ready) is in the receiver's state as missing, and is sent again. The
 * receiver takes it although its gossip saw its bytes (`wanted`). A peer
 * that decided the height before and waits out its commit pause holds
 * nothing of ours; one further behind gets blocks by sync. */

static void bit_set(uint8_t *bm, uint32_t i) { bm[i / 8] |= (uint8_t)(1u << (i % 8)); }

static bool bit_get(const uint8_t *bm, uint32_t i) { return (bm[i / 8] >> (i % 8)) & 1u; }

static peer_height *find_peer(esg_driver *d, const esg_pubkey *key) {
    for (int i = 0; i < MAX_PEERS; i++)
        if (d->peers[i].used && memcmp(d->peers[i].key.b, key->b, 32) == 0)
            return &d->peers[i];
    return NULL;
}

/* The record of round r in p's state, created empty if there is room. */
static peer_round *peer_round_get(peer_height *p, uint32_t r) {
    for (size_t i = 0; i < p->n_rounds; i++)
        if (p->rounds[i].round == r)
            return &p->rounds[i];
    if (p->n_rounds == STATE_ROUNDS)
        return NULL;
    peer_round *pr = &p->rounds[p->n_rounds++];
    memset(pr, 0, sizeof *pr);
    pr->round = r;
    return pr;
}

/* Peer `from` has shown it holds a message of (height, round): the
 * proposal (t < 0) or validator idx's vote (t 0 prevote, 1 precommit). */
static void peer_holds(esg_driver *d, const esg_pubkey *from, uint64_t height, uint32_t round,
                       int t, uint32_t idx) {
    peer_height *p = find_peer(d, from);
    if (!p || !p->cs_known || p->cs_height != height || idx >= ESG_CONS_MAX_VALIDATORS)
        return;
    peer_round *pr = peer_round_get(p, round);
    if (!pr)
        return;
    if (t < 0)
        pr->proposal = true;
    else
        bit_set(pr->votes[t], idx);
}

/* Tells `to` (NULL: every peer) what this node holds of its height. */
static void send_state(esg_driver *d, const esg_pubkey *to) {
    if (!d->cons || !d->g)
        return;
    uint32_t rounds[STATE_ROUNDS];
    size_t held = esg_cons_held_rounds(d->cons, rounds, STATE_ROUNDS);
    size_t nr = held < STATE_ROUNDS ? held : STATE_ROUNDS;
    size_t nv = esg_cons_validator_count(d->cons);
    size_t blen = (nv + 7) / 8;
    static const esg_cons_vote_type types[2] = {ESG_CONS_PREVOTE, ESG_CONS_PRECOMMIT};
    uint8_t bits[STATE_ROUNDS][2][BITMAP_BYTES];
    Esg__RoundVotes rv[STATE_ROUNDS], *prv[STATE_ROUNDS];
    for (size_t k = 0; k < nr; k++) {
        esg__round_votes__init(&rv[k]);
        prv[k] = &rv[k];
        rv[k].round = rounds[k];
        esg_cons_proposal prop;
        rv[k].proposal = esg_cons_held_proposal(d->cons, rounds[k], &prop);
        for (int t = 0; t < 2; t++) {
            memset(bits[k][t], 0, blen);
            for (uint32_t i = 0; i < nv; i++) {
                esg_cons_vote v;
                if (esg_cons_held_vote(d->cons, rounds[k], types[t], i, &v))
                    bit_set(bits[k][t], i);
            }
        }
        rv[k].prevotes = esg_pb_bin(bits[k][0], blen);
        rv[k].precommits = esg_pb_bin(bits[k][1], blen);
    }
    Esg__ConsensusState cs = ESG__CONSENSUS_STATE__INIT;
    cs.height = esg_cons_height(d->cons);
    cs.round = esg_cons_round(d->cons);
    cs.step = (uint32_t)esg_cons_get_step(d->cons);
    cs.idle = d->hold != HOLD_NONE;
    cs.n_rounds = nr;
    cs.rounds = prv;
    Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
    m.msg_case = ESG_P2P_MSG_CONSENSUS_STATE;
    m.consensus_state = &cs;
    if (to) {
        esg_gossip_send(d->g, to, &m);
        return;
    }
    uint8_t *buf;
    size_t len;
    if (esg_pb_encode(&m.base, &buf, &len) != 0)
        return;
    esg_p2p_broadcast(esg_gossip_transport(d->g), buf, len, NULL, NULL);
    free(buf);
    d->sent_any = true;
    d->sent_height = cs.height;
    d->sent_round = cs.round;
    d->sent_step = cs.step;
    d->sent_idle = cs.idle;
}

/* Sends one machine message to peer p. False when p's queue refused it. */
static bool send_cons_msg(esg_driver *d, const peer_height *p, const esg_cons_msg *msg) {
    Esg__P2pMessage m;
    Esg__ConsensusProposal cp;
    Esg__ConsensusVote cv;
    if (!cons_msg_encode(d, msg, &m, &cp, &cv))
        return true;
    return esg_gossip_send(d->g, &p->key, &m) == 0;
}

/* Sends p what this node holds of the height and p's state lacks. */
static void serve_peer(esg_driver *d, peer_height *p) {
    if (!d->cons || !p->cs_known || d->hold == HOLD_START)
        return;
    uint64_t h = esg_cons_height(d->cons);
    if (p->cs_height + 1 == h && p->cs_step == ESG_CONS_STEP_COMMIT) {
        /* It decided h - 1 and waits to start h: it holds nothing of h. */
        p->cs_height = h;
        p->cs_round = 0;
        p->cs_step = ESG_CONS_STEP_PROPOSE;
        p->n_rounds = 0;
    }
    if (p->cs_height != h || p->cs_step == ESG_CONS_STEP_COMMIT)
        return;
    uint32_t rounds[STATE_ROUNDS];
    size_t held = esg_cons_held_rounds(d->cons, rounds, STATE_ROUNDS);
    size_t nr = held < STATE_ROUNDS ? held : STATE_ROUNDS;
    size_t nv = esg_cons_validator_count(d->cons);
    uint64_t now = esg_wall_ms();
    static const esg_cons_vote_type types[2] = {ESG_CONS_PREVOTE, ESG_CONS_PRECOMMIT};
    for (size_t k = 0; k < nr; k++) {
        uint32_t r = rounds[k];
        peer_round *pr = peer_round_get(p, r);
        esg_cons_msg msg;
        if ((!pr || !pr->proposal) &&
            esg_cons_held_proposal(d->cons, r, &msg.u.proposal)) {
            bool recent = p->prop_sent_height == h && p->prop_sent_round == r &&
                          now - p->prop_sent_ms < PROPOSAL_RESEND_MS;
            if (!recent) {
                msg.kind = ESG_CONS_MSG_PROPOSAL;
                if (!send_cons_msg(d, p, &msg))
                    return;
                p->prop_sent_height = h;
                p->prop_sent_round = r;
                p->prop_sent_ms = now;
            }
            if (pr)
                pr->proposal = true;
        }
        for (int t = 0; t < 2; t++)
            for (uint32_t i = 0; i < nv; i++) {
                if (pr && bit_get(pr->votes[t], i))
                    continue;
                if (!esg_cons_held_vote(d->cons, r, types[t], i, &msg.u.vote))
                    continue;
                msg.kind = ESG_CONS_MSG_VOTE;
                if (!send_cons_msg(d, p, &msg))
                    return;
                if (pr)
                    bit_set(pr->votes[t], i);
            }
    }
}

static void on_consensus_state(void *ctx, const esg_pubkey *from, const Esg__ConsensusState *s) {
    esg_driver *d = ctx;
    peer_height *p = find_peer(d, from);
    if (!p)
        return;
    bool ok = s->n_rounds <= STATE_ROUNDS && s->step <= ESG_CONS_STEP_COMMIT;
    for (size_t i = 0; ok && i < s->n_rounds; i++)
        ok = s->rounds[i]->prevotes.len <= BITMAP_BYTES &&
             s->rounds[i]->precommits.len <= BITMAP_BYTES;
    if (!ok) {
        esg_gossip_punish(d->g, from, "malformed consensus state");
        return;
    }
    p->cs_known = true;
    p->cs_height = s->height;
    p->cs_round = s->round;
    p->cs_step = s->step;
    p->cs_idle = s->idle;
    p->n_rounds = 0;
    for (size_t i = 0; i < s->n_rounds; i++) {
        const Esg__RoundVotes *rv = s->rounds[i];
        peer_round *pr = peer_round_get(p, rv->round);
        if (!pr)
            break;
        pr->proposal = rv->proposal;
        memcpy(pr->votes[0], rv->prevotes.data, rv->prevotes.len);
        memcpy(pr->votes[1], rv->precommits.data, rv->precommits.len);
    }
    /* No gate opening here: a peer that started the height sends its
     * proposal or votes, which open it (gate_on_msg); a state alone may
     * overtake the transaction that started the peer, still being
     * admitted here, and this node would propose an empty block. */
    serve_peer(d, p);
}

/* A proposal or vote whose bytes the gossip saw: does the machine still
 * lack it? No signature check here: on_proposal/on_vote do that. */
static bool wanted(void *ctx, const Esg__P2pMessage *m) {
    esg_driver *d = ctx;
    if (!d->cons)
        return false;
    if (m->msg_case == ESG_P2P_MSG_PROPOSAL)
        return esg_cons_wants_proposal(d->cons, m->proposal->height, m->proposal->round);
    if (m->msg_case != ESG_P2P_MSG_VOTE)
        return false;
    esg_cons_vote cv;
    esg_pubkey pk;
    if (vote_from_wire(d, m->vote, &cv, &pk) != 0)
        return false;
    return esg_cons_wants_vote(d->cons, &cv);
}

/* ------------------------------------------------------ incoming messages */

static int on_proposal(void *ctx, const esg_pubkey *from, const Esg__ConsensusProposal *p) {
    esg_driver *d = ctx;
    if (!d->cons)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    uint64_t cur = esg_cons_height(d->cons);
    if (p->height < cur || p->height > cur + 1)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    const esg_cons_validator *vals;
    size_t n;
    esg_pubkey pk;
    if (load_valset(d, p->height, &vals, &n) || esg_pb_pubkey32(&p->proposer, &pk) ||
        p->sig.len != 64)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    int idx = find_validator(vals, n, &pk);
    if (idx < 0)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    esg_pb_block *b = NULL;
    esg_hash bh;
    if (esg_pb_block_decode(&b, p->block.data, p->block.len, p->block.len) != 0)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    int rc = b->header ? esg_block_header_hash(b->header, &bh) : ESG_ERR_BAD_BLOCK;
    uint64_t block_time = b->header ? b->header->time_ms : 0;
    esg_pb_free(b);
    if (rc)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    esg_cons_proposal cp;
    memset(&cp, 0, sizeof cp);
    cp.height = p->height;
    cp.round = p->round;
    cp.valid_round = p->valid_round;
    cp.proposer = (uint32_t)idx;
    cp.value.hash = bh;
    cp.value.data = p->block.data;
    cp.value.len = p->block.len;
    memcpy(cp.sig.b, p->sig.data, 64);
    esg_hash sh = esg_privval_proposal_hash(d->chain_id, p->height, p->round, p->valid_round, &bh);
    if (!esg_verify(&cp.sig, &sh, &pk))
        return ESG_ERR_BAD_CONSENSUS_MSG;
    peer_holds(d, from, p->height, p->round, -1, 0);
    if (memcmp(pk.b, d->pub.b, 32) != 0)
        rx_note(d, p->height, p->round, &bh, block_time);
    gate_on_msg(d, p->height);
    if (d->hold == HOLD_START)
        return ESG_OK; /* could not start: gossip brings it again */
    int rc2 = esg_cons_on_proposal(d->cons, &cp);
    note_state(d);
    return rc2;
}

static int on_vote(void *ctx, const esg_pubkey *from, const Esg__ConsensusVote *v) {
    esg_driver *d = ctx;
    if (!d->cons)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    uint64_t cur = esg_cons_height(d->cons);
    if (v->height < cur || v->height > cur + 1)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    esg_cons_vote cv;
    esg_pubkey pk;
    if (v->sig.len != 64 || vote_from_wire(d, v, &cv, &pk) != 0)
        return ESG_ERR_BAD_CONSENSUS_MSG;
    memcpy(cv.sig.b, v->sig.data, 64);
    esg_hash sh = esg_vote_hash(d->chain_id, (int)v->type, v->height, v->round,
                                v->block_hash.len ? &cv.block : NULL);
    if (!esg_verify(&cv.sig, &sh, &pk))
        return ESG_ERR_BAD_CONSENSUS_MSG;
    peer_holds(d, from, v->height, v->round, cv.type == ESG_CONS_PREVOTE ? 0 : 1, cv.validator);
    gate_on_msg(d, v->height);
    if (d->hold == HOLD_START)
        return ESG_OK; /* could not start: gossip brings it again */
    int rc = esg_cons_on_vote(d->cons, &cv);
    note_state(d);
    return rc;
}

static int on_evidence(void *ctx, const esg_pubkey *from, const Esg__Evidence *e) {
    (void)from;
    esg_driver *d = ctx;
    char why[ESG_ERRMSG_MAX];
    int rc = ev_check(d, e, why, sizeof why);
    if (rc) {
        if (rc != ESG_ERR_EVIDENCE_RECORDED)
            esg_log(d->cfg.log, ESG_LOG_WARN, "evidence from a peer refused: %s",
                    why[0] ? why : esg_err_message(rc));
        return rc;
    }
    uint8_t *buf;
    size_t len;
    if ((rc = esg_pb_encode(&e->base, &buf, &len)) != 0)
        return rc;
    bool added = ev_pool_add(d, buf, len);
    if (added)
        esg_log(d->cfg.log, ESG_LOG_WARN,
                "evidence received: validator %s equivocated at %llu/%u",
                esg_hex32_of(e->vote_a->validator.data).s,
                (unsigned long long)e->vote_a->height, e->vote_a->round);
    free(buf);
    return added ? ESG_OK : ESG_ERR_EVIDENCE_RECORDED;
}

/* ------------------------------------------------------------ block sync */

/* Logs a batch of synced blocks with the sync's rate so far and what
 * remains to the best peer's height, so an operator can tell a sync of a
 * long chain from a stuck one. */
static void sync_progress(esg_driver *d, size_t applied, uint64_t best) {
    uint64_t remaining = best > d->tip ? best - d->tip : 0;
    uint64_t us = esg_mono_us() - d->sync_t0_us, done = d->tip - d->sync_h0;
    uint64_t rate = done * 1000000u / (us ? us : 1); /* blocks/s so far */
    esg_log(d->cfg.log, ESG_LOG_INFO,
            "synced %zu block(s), now at %llu of %llu: %llu blocks/s, %llu remaining "
            "(about %llu s)",
            applied, (unsigned long long)d->tip, (unsigned long long)best,
            (unsigned long long)rate, (unsigned long long)remaining,
            (unsigned long long)(rate ? (remaining + rate - 1) / rate : 0));
}

/* Ends the sync under way, if any, once the node no longer needs it
 * (consensus carries it from here): one line with the sync's totals. */
static void sync_done(esg_driver *d) {
    if (d->sync_t0_us == 0)
        return;
    uint64_t us = esg_mono_us() - d->sync_t0_us, done = d->tip - d->sync_h0;
    esg_log(d->cfg.log, ESG_LOG_INFO,
            "sync caught up at %llu: %llu blocks in %llu.%03llu s (%llu blocks/s)",
            (unsigned long long)d->tip, (unsigned long long)done,
            (unsigned long long)(us / 1000000u), (unsigned long long)(us / 1000u % 1000u),
            (unsigned long long)(done * 1000000u / (us ? us : 1)));
    d->sync_t0_us = 0;
}

/* The highest height a peer has told of (0 if none), and in *bi that
 * peer's slot (-1 if none). */
static uint64_t best_peer(const esg_driver *d, int *bi) {
    uint64_t best = 0;
    *bi = -1;
    for (int i = 0; i < MAX_PEERS; i++)
        if (d->peers[i].used && d->peers[i].height > best) {
            best = d->peers[i].height;
            *bi = i;
        }
    return best;
}

static void check_sync(esg_driver *d) {
    int bi;
    uint64_t best = best_peer(d, &bi);
    uint64_t now = esg_wall_ms();
    uint64_t behind = best > d->tip ? best - d->tip : 0;
    if (behind == 0)
        d->behind_since_ms = 0;
    else if (d->behind_since_ms == 0)
        d->behind_since_ms = now;
    bool want = bi >= 0 && (behind > 1 || (behind == 1 && now - d->behind_since_ms >
                                                               BEHIND_GRACE_MS));
    set_sync(d, want || d->req_pending, behind);
    if (!want && !d->req_pending)
        sync_done(d);
    if (!want || (d->req_pending && now - d->req_ms < SYNC_RETRY_MS))
        return;
    Esg__BlockRequest r = ESG__BLOCK_REQUEST__INIT;
    r.from_height = d->tip + 1;
    r.count = (uint32_t)(behind < SYNC_BATCH ? behind : SYNC_BATCH);
    Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
    m.msg_case = ESG_P2P_MSG_BLOCK_REQUEST;
    m.block_request = &r;
    if (esg_gossip_send(d->g, &d->peers[bi].key, &m) == 0) {
        d->req_pending = true;
        d->req_peer = d->peers[bi].key;
        d->req_ms = now;
        esg_log(d->cfg.log, ESG_LOG_INFO, "syncing: asked for blocks %llu.. (peer at %llu)",
                (unsigned long long)(d->tip + 1), (unsigned long long)best);
    }
}

static void on_hello(void *ctx, const esg_pubkey *from, uint64_t height) {
    esg_driver *d = ctx;
    int free_i = -1;
    for (int i = 0; i < MAX_PEERS; i++) {
        if (d->peers[i].used && memcmp(d->peers[i].key.b, from->b, 32) == 0) {
            d->peers[i].height = height;
            check_sync(d);
            return;
        }
        if (!d->peers[i].used && free_i < 0)
            free_i = i;
    }
    if (free_i >= 0) {
        memset(&d->peers[free_i], 0, sizeof d->peers[free_i]);
        d->peers[free_i].used = true;
        d->peers[free_i].key = *from;
        d->peers[free_i].height = height;
        send_state(d, from);
    }
    check_sync(d);
}

static void on_peer_down(void *ctx, const esg_pubkey *peer) {
    esg_driver *d = ctx;
    for (int i = 0; i < MAX_PEERS; i++)
        if (d->peers[i].used && memcmp(d->peers[i].key.b, peer->b, 32) == 0)
            d->peers[i].used = false;
    /* A request to it will not be answered: ask another peer now. */
    if (d->req_pending && memcmp(d->req_peer.b, peer->b, 32) == 0)
        d->req_pending = false;
    check_sync(d);
}

static void on_block_request(void *ctx, const esg_pubkey *from, const Esg__BlockRequest *r) {
    esg_driver *d = ctx;
    if (r->from_height == 0 || r->count == 0)
        return;
    size_t max = r->count < SYNC_BATCH ? r->count : SYNC_BATCH;
    Esg__BlockWithCommit *bwc = calloc(max, sizeof *bwc);
    Esg__BlockWithCommit **pb = calloc(max, sizeof *pb);
    MDB_txn *txn = NULL;
    size_t k = 0, bytes = 0;
    if (!bwc || !pb || esg_store_read_begin(d->cfg.store, &txn) != 0)
        goto out;
    for (size_t i = 0; i < max && bytes < SYNC_RESPONSE_BYTES; i++) {
        MDB_val bv, cv;
        if (esg_store_block_get(txn, d->cfg.store, r->from_height + i, &bv, &cv) != 0)
            break;
        esg_pb_block *b = NULL;
        esg_pb_commit *c = NULL;
        if (esg_pb_block_decode(&b, bv.mv_data, bv.mv_size, bv.mv_size) != 0)
            break;
        if (esg_pb_commit_decode(&c, cv.mv_data, cv.mv_size, cv.mv_size) != 0) {
            esg_pb_free(b);
            break;
        }
        Esg__BlockWithCommit init = ESG__BLOCK_WITH_COMMIT__INIT;
        bwc[k] = init;
        bwc[k].block = b;
        bwc[k].commit = c;
        pb[k] = &bwc[k];
        k++;
        bytes += bv.mv_size + cv.mv_size;
    }
    esg_store_read_end(txn);
    {
        Esg__BlockResponse resp = ESG__BLOCK_RESPONSE__INIT;
        resp.n_blocks = k;
        resp.blocks = pb;
        resp.tip = d->tip;
        Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
        m.msg_case = ESG_P2P_MSG_BLOCK_RESPONSE;
        m.block_response = &resp;
        esg_gossip_send(d->g, from, &m);
    }
out:
    for (size_t i = 0; i < k; i++) {
        esg_pb_free(bwc[i].block);
        esg_pb_free(bwc[i].commit);
    }
    free(bwc);
    free(pb);
}

/* Parallel verification of a block's transaction signatures, for the
 * blocks this node did not build: synced blocks, and proposals and
 * decisions of other validators. The block is then checked or applied with
 * every sigs_verified[i] true, so no signature is verified twice and none
 * on the loop thread alone. */
typedef struct verify_job {
    esg_tx **txs; /* NULL entries were verified before (the mempool's) */
    size_t from, to;
    bool ok;
} verify_job;

static void *verify_range(void *arg) {
    verify_job *j = arg;
    for (size_t i = j->from; i < j->to && j->ok; i++)
        if (j->txs[i] && esg_tx_verify_sigs(j->txs[i], NULL, 0) != 0)
            j->ok = false;
    return NULL;
}

/* Decodes the block's transactions and verifies their signatures on up to
 * VERIFY_THREADS threads, skipping those `mp` (may be NULL) admitted with
 * the same bytes. Returns 0 and a malloc'd array of n true flags in *flags
 * (NULL for an empty block), ESG_ERR_BAD_SIGNATURE, ESG_ERR_BAD_BLOCK (a tx
 * does not decode) or ESG_ERR_NOMEM. */
static int verify_block_sigs(const Esg__Block *b, esg_mempool *mp, bool **flags) {
    *flags = NULL;
    size_t n = b->n_txs;
    if (n == 0)
        return ESG_OK;
    esg_tx **txs = calloc(n, sizeof *txs);
    bool *f = calloc(n, sizeof *f);
    int rc = (!txs || !f) ? ESG_ERR_NOMEM : ESG_OK;
    size_t to_verify = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (esg_tx_decode(&txs[i], b->txs[i].data, b->txs[i].len) != 0) {
            rc = ESG_ERR_BAD_BLOCK;
        } else if (mp && esg_mempool_verified(mp, &txs[i]->id, b->txs[i].data, b->txs[i].len)) {
            esg_tx_free(txs[i]);
            txs[i] = NULL;
        } else {
            to_verify++;
        }
    }
    if (rc == 0 && to_verify > 0) {
        size_t nt = to_verify / VERIFY_MIN_PER_THREAD;
        nt = nt < 1 ? 1 : nt > VERIFY_THREADS ? VERIFY_THREADS : nt;
        verify_job jobs[VERIFY_THREADS];
        pthread_t th[VERIFY_THREADS];
        bool started[VERIFY_THREADS] = {false};
        for (size_t t = 0; t < nt; t++) {
            jobs[t] = (verify_job){txs, n * t / nt, n * (t + 1) / nt, true};
            if (t > 0)
                started[t] = pthread_create(&th[t], NULL, verify_range, &jobs[t]) == 0;
        }
        verify_range(&jobs[0]);
        for (size_t t = 1; t < nt; t++) {
            if (started[t])
                pthread_join(th[t], NULL);
            else
                verify_range(&jobs[t]); /* no thread: do it here */
        }
        for (size_t t = 0; t < nt; t++)
            if (!jobs[t].ok)
                rc = ESG_ERR_BAD_SIGNATURE;
    }
    for (size_t i = 0; txs && i < n; i++)
        esg_tx_free(txs[i]);
    free(txs);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            f[i] = true;
        *flags = f;
    } else {
        free(f);
    }
    return rc;
}

/* verify_block_sigs for serialized block bytes. */
static int verify_block_bytes(esg_driver *d, const uint8_t *blk, size_t len, bool **flags) {
    *flags = NULL;
    esg_pb_block *b = NULL;
    if (esg_pb_block_decode(&b, blk, len, len) != 0)
        return ESG_ERR_BAD_BLOCK;
    int rc = verify_block_sigs(b, d->cfg.mp, flags);
    esg_pb_free(b);
    return rc;
}

static void on_block_response(void *ctx, const esg_pubkey *from, const Esg__BlockResponse *r) {
    esg_driver *d = ctx;
    d->req_pending = false;
    size_t applied = 0;
    if (d->sync_t0_us == 0) {
        d->sync_t0_us = esg_mono_us();
        d->sync_h0 = d->tip;
    }
    for (size_t i = 0; i < r->n_blocks; i++) {
        const Esg__BlockWithCommit *bwc = r->blocks[i];
        if (!bwc->block || !bwc->commit || !bwc->block->header)
            break;
        if (bwc->block->header->height <= d->tip)
            continue;
        if (bwc->block->header->height != d->tip + 1)
            break;
        uint8_t *bb = NULL, *cb = NULL;
        size_t bl = 0, cl = 0;
        if (esg_pb_encode(&bwc->block->base, &bb, &bl) ||
            esg_pb_encode(&bwc->commit->base, &cb, &cl)) {
            free(bb);
            free(cb);
            break;
        }
        char err[256] = "";
        uint64_t t0 = esg_mono_us();
        bool *flags = NULL;
        int rc = verify_block_sigs(bwc->block, NULL, &flags);
        if (rc)
            snprintf(err, sizeof err, "transaction signatures: %s", esg_err_message(rc));
        else
            rc = esg_exec_apply_block(d->cfg.store, d->cfg.ct, bb, bl, cb, cl, flags, err,
                                      sizeof err);
        free(flags);
        free(cb);
        if (rc) {
            free(bb);
            esg_log(d->cfg.log, ESG_LOG_WARN, "sync: block %llu from peer rejected: %s",
                    (unsigned long long)(d->tip + 1), err[0] ? err : esg_err_message(rc));
            esg_gossip_punish(d->g, from, "invalid block in sync response");
            break;
        }
        after_commit(d, bb, bl, d->tip + 1, esg_mono_us() - t0);
        free(bb);
        applied++;
    }
    if (applied) {
        int bi;
        sync_progress(d, applied, best_peer(d, &bi));
        start_cons(d);
    }
    check_sync(d);
}

/* Who may connect: a validator of the next two heights (the sets this
 * node will take votes from: a set decided in block h is in force at h+2)
 * or a configured observer. A node behind knows only the sets up to its
 * own tip + 2, so until it has synced it refuses validators added later;
 * it syncs from the others. */
static bool allow(void *ctx, const esg_pubkey *key, char *why, size_t whylen) {
    esg_driver *d = ctx;
    for (size_t i = 0; i < d->n_observers; i++)
        if (memcmp(d->observers[i].b, key->b, 32) == 0)
            return true;
    for (uint64_t h = d->tip + 1; h <= d->tip + 2; h++) {
        const esg_cons_validator *vals;
        size_t n;
        if (load_valset(d, h, &vals, &n) == 0 && find_validator(vals, n, key) >= 0)
            return true;
    }
    snprintf(why, whylen, "not a validator of this chain at heights %llu-%llu, nor an observer",
             (unsigned long long)(d->tip + 1), (unsigned long long)(d->tip + 2));
    return false;
}

/* After a block: a peer that is no longer allowed (its validator was
 * removed and the change is in force) is disconnected; allow() refuses
 * its redials. */
static void drop_disallowed(esg_driver *d) {
    esg_p2p *p = esg_gossip_transport(d->g);
    esg_p2p_peer_info info[MAX_PEERS];
    size_t n = esg_p2p_peers(p, info, MAX_PEERS);
    if (n > MAX_PEERS)
        n = MAX_PEERS;
    for (size_t i = 0; i < n; i++) {
        char why[160];
        if (!allow(d, &info[i].key, why, sizeof why))
            esg_p2p_disconnect(p, &info[i].key, why);
    }
}

/* ------------------------------------------------------------------ tick */

static void on_tick(uv_timer_t *t) {
    esg_driver *d = t->data;
    send_state(d, NULL);
    check_sync(d);
    esg_p2p_stats ps;
    esg_gossip_stats(d->g, &ps);
    pthread_mutex_lock(&d->mu);
    d->m.p2p_bytes_in = ps.bytes_in;
    d->m.p2p_bytes_out = ps.bytes_out;
    d->m.p2p = ps;
    pthread_mutex_unlock(&d->mu);
    note_state(d);
}

/* ------------------------------------------------------------- lifecycle */

int esg_driver_new(esg_driver **out, const esg_driver_config *cfg, char *err, size_t errlen) {
    *out = NULL;
    esg_driver *d = calloc(1, sizeof *d);
    if (!d)
        return ESG_ERR_NOMEM;
    d->cfg = *cfg;
    d->key = *cfg->key;
    d->bt.precision_ms = cfg->max_clock_drift_ms;
    d->bt.message_delay_ms = ESG_BT_DEFAULT_MESSAGE_DELAY_MS;
    esg_bt_offset_init(&d->bt_offset);
    pthread_mutex_init(&d->mu, NULL);
    int rc = esg_key_pubkey(&d->pub, &d->key);
    if (rc == 0)
        rc = read_tip(d);
    if (rc) {
        snprintf(err, errlen, "cannot read the chain head: %s", esg_err_message(rc));
        goto fail;
    }
    if (cfg->n_observers) {
        if (!(d->observers = calloc(cfg->n_observers, sizeof *d->observers))) {
            rc = ESG_ERR_NOMEM;
            goto fail;
        }
        memcpy(d->observers, cfg->observers, cfg->n_observers * sizeof *d->observers);
        d->n_observers = cfg->n_observers;
    }
    d->cfg.observers = NULL; /* the copy above is the driver's */
    if (!(d->items = calloc(BUILD_BATCH, sizeof *d->items)) ||
        !(d->peers = calloc(MAX_PEERS, sizeof *d->peers)) ||
        !(d->tick = calloc(1, sizeof *d->tick)) || !(d->idle = calloc(1, sizeof *d->idle))) {
        rc = ESG_ERR_NOMEM;
        goto fail;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", cfg->datadir, ESG_PRIVVAL_FILE);
    if ((rc = esg_privval_open(&d->pv, path, &d->key, err, errlen)) != 0)
        goto fail;
    esg_p2p_config pc;
    memset(&pc, 0, sizeof pc);
    pc.chain_id = d->chain_id;
    pc.node_key = d->key;
    pc.listen_addr = cfg->p2p_addr;
    pc.peers = cfg->peers;
    pc.n_peers = cfg->n_peers;
    pc.log = cfg->log;
    pc.backoff_max_ms = 2000;
    snprintf(path, sizeof path, "%s/%s", cfg->datadir, WAL_FILE);
    if (!(d->wal = fopen(path, "a+b")))
        esg_log(cfg->log, ESG_LOG_WARN, "cannot open the consensus log '%s'", path);
    esg_gossip_handlers h = {
        .ctx = d, .allow = allow, .on_proposal = on_proposal, .on_vote = on_vote,
        .on_evidence = on_evidence,
        .on_hello = on_hello, .on_block_request = on_block_request,
        .on_block_response = on_block_response, .on_peer_down = on_peer_down,
        .wanted = wanted, .on_consensus_state = on_consensus_state,
    };
    if ((rc = esg_gossip_new(&d->g, cfg->loop, &pc, cfg->mp, &h, &d->genesis_hash, d->tip, err,
                             errlen)) != 0)
        goto fail;
    uv_timer_init(cfg->loop, d->tick);
    d->tick->data = d;
    uv_timer_init(cfg->loop, d->idle);
    d->idle->data = d;
    *out = d;
    return ESG_OK;
fail:
    esg_privval_close(d->pv);
    if (d->wal)
        fclose(d->wal);
    free(d->items);
    free(d->peers);
    free(d->tick);
    free(d->idle);
    free(d->observers);
    esg_seckey_wipe(&d->key);
    pthread_mutex_destroy(&d->mu);
    free(d);
    return rc;
}

int esg_driver_start(esg_driver *d, char *err, size_t errlen) {
    int rc = esg_gossip_start(d->g, err, errlen);
    if (rc)
        return rc;
    uv_timer_start(d->tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(d->idle, on_idle_poll, IDLE_POLL_MS, IDLE_POLL_MS);
    rc = start_cons(d);
    if (rc == 0)
        wal_replay(d);
    return rc;
}

uint16_t esg_driver_p2p_port(esg_driver *d) { return esg_p2p_port(esg_gossip_transport(d->g)); }

int esg_driver_add_peer(esg_driver *d, const char *hostport) {
    return esg_p2p_add_peer(esg_gossip_transport(d->g), hostport);
}

void esg_driver_txs_admitted(esg_driver *d) {
    esg_gossip_announce_txs(d->g);
    /* Do not wait for the idle poll: a transaction starts the height now. */
    if (d->hold && gate_may_open(d))
        gate_open(d, "transactions");
}

void esg_driver_sync_info(esg_driver *d, size_t *peers, bool *syncing, uint64_t *behind) {
    pthread_mutex_lock(&d->mu);
    *peers = d->n_peers;
    *syncing = d->syncing;
    *behind = d->behind;
    pthread_mutex_unlock(&d->mu);
}

void esg_driver_metrics_get(esg_driver *d, esg_driver_metrics *out) {
    pthread_mutex_lock(&d->mu);
    *out = d->m;
    pthread_mutex_unlock(&d->mu);
}

static void tick_closed(uv_handle_t *h) { free(h); }

void esg_driver_close(esg_driver *d) {
    if (!d)
        return;
    for (dtimer *t = d->timers, *next; t; t = next) {
        next = t->next;
        uv_close((uv_handle_t *)&t->t, timer_closed);
    }
    d->timers = NULL;
    if (d->tick->loop)
        uv_close((uv_handle_t *)d->tick, tick_closed);
    else
        free(d->tick);
    if (d->idle->loop)
        uv_close((uv_handle_t *)d->idle, tick_closed);
    else
        free(d->idle);
    esg_gossip_close(d->g, NULL, NULL);
    esg_cons_free(d->cons);
    esg_privval_close(d->pv);
    if (d->wal)
        fclose(d->wal);
    free(d->peers);
    for (size_t i = 0; i < d->n_ev; i++)
        free(d->ev[i].buf);
    free(d->vs);
    free(d->items);
    free(d->observers);
    free(d->checked_flags);
    free(d->last_value);
    esg_seckey_wipe(&d->key);
    pthread_mutex_destroy(&d->mu);
    free(d);
}
