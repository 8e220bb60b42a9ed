/* Gossip over the transport: decode, dispatch, relay once. */
#include "node/gossip.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "node/clock.h"
#include "node/seen.h"

#define SEEN_CAPACITY 65536
#define ANNOUNCE_BATCH 4096
/* Gossiped transactions are admitted off the loop (see admit_enqueue). */
#define ADMIT_LANES 4
#define ADMIT_MAX_TXS 20000
#define ADMIT_MAX_BYTES ((size_t)32 << 20)
/* Liveness of links (see link_tick). */
#define LINK_TICK_MS 1000
#define LINK_PING_MS 3000
#define LINK_IDLE_MS 10000
#define LINK_MAX_PEERS 256

/* One gossiped transaction waiting for admission, and the outcome. */
typedef struct admit_tx {
    esg_tx *tx;     /* decoded once, on the loop; the mempool takes it */
    uint8_t *frame; /* the P2pMessage as received, to relay as it is */
    size_t len;     /* of frame */
    esg_pubkey from;
    int rc;
} admit_tx;

typedef struct admit_list {
    admit_tx *v;
    size_t n, cap;
} admit_list;

/* A lane admits one signer's transactions in arrival order (a signer's
 * nonces must be admitted in order); lanes run in parallel on libuv's
 * thread pool, so the signature checks of gossiped transactions use every
 * core, as the API's do, and not the loop thread. */
typedef struct admit_lane {
    uv_work_t work;
    struct esg_gossip *g;
    admit_list waiting, running;
    bool busy;
} admit_lane;

/* When a connected peer last sent a frame, and when we last pinged it. */
typedef struct link_seen {
    bool used;
    esg_pubkey key;
    uint64_t last_rx_ms, last_ping_ms;
} link_seen;

struct esg_gossip {
    esg_p2p *p2p;
    esg_seen *seen;
    esg_mempool *mp;
    esg_gossip_handlers h;
    char chain_id[65];
    esg_hash genesis_hash;
    uint64_t height;
    esg_exec_item *items; /* ANNOUNCE_BATCH, for esg_gossip_announce_txs */
    const esg_logger *log;
    uv_loop_t *loop;
    admit_lane lanes[ADMIT_LANES];
    size_t admit_txs, admit_bytes; /* waiting or running, all lanes */
    size_t inflight;               /* lanes in the thread pool */
    bool closing;                  /* closed: freed when inflight drops to 0 */
    link_seen *links;              /* LINK_MAX_PEERS */
    uv_timer_t *link_timer;        /* own allocation: outlives g until closed */
    uint64_t link_tick_ms;         /* when link_tick last ran */
};

static uint64_t mono_ms(void) { return esg_mono_us() / 1000; }

static link_seen *link_find(esg_gossip *g, const esg_pubkey *key, bool add) {
    link_seen *free_slot = NULL;
    for (size_t i = 0; i < LINK_MAX_PEERS; i++) {
        link_seen *l = &g->links[i];
        if (l->used && memcmp(l->key.b, key->b, 32) == 0)
            return l;
        if (!l->used && !free_slot)
            free_slot = l;
    }
    if (!add || !free_slot)
        return NULL;
    uint64_t now = mono_ms();
    *free_slot = (link_seen){true, *key, now, now};
    return free_slot;
}

/* A link can die without a word: a middlebox that dropped its state, a
 * host that vanished, a silent partition that never heals on the same
 * sockets. TCP notices only after its retransmission timeout (many
 * minutes), and its keepalive never fires while this side keeps writing.
 * So every peer must be heard from: a consensus driver sends its state
 * every second; a peer not heard from for LINK_PING_MS is pinged (it
 * answers with a pong); one not heard from for LINK_IDLE_MS is
 * disconnected, and the transport redials it over a fresh connection.
 * When the loop itself was held up (a tick came late: a long block on
 * this node), the clocks restart instead: the peers' frames may be
 * waiting unread in the socket. */
static void link_tick(uv_timer_t *t) {
    esg_gossip *g = t->data;
    if (!g || g->closing)
        return;
    uint64_t now = mono_ms();
    bool late = now - g->link_tick_ms > 3 * LINK_TICK_MS;
    g->link_tick_ms = now;
    for (size_t i = 0; i < LINK_MAX_PEERS; i++) {
        link_seen *l = &g->links[i];
        if (!l->used)
            continue;
        if (late) {
            l->last_rx_ms = now;
            continue;
        }
        if (now - l->last_rx_ms > LINK_IDLE_MS) {
            char why[96];
            snprintf(why, sizeof why, "nothing received for %llu s: the link is dead",
                     (unsigned long long)((now - l->last_rx_ms) / 1000));
            esg_pubkey key = l->key;
            l->used = false;
            esg_p2p_disconnect(g->p2p, &key, why);
        } else if (now - l->last_rx_ms > LINK_PING_MS && now - l->last_ping_ms > LINK_PING_MS) {
            l->last_ping_ms = now;
            Esg__Ping ping = ESG__PING__INIT;
            ping.nonce = now;
            Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
            m.msg_case = ESG_P2P_MSG_PING;
            m.ping = &ping;
            esg_gossip_send(g, &l->key, &m);
        }
    }
}

static void link_timer_closed(uv_handle_t *h) { free(h); }

static esg_hash bytes_hash(const uint8_t *data, size_t len) {
    return esg_sha256(data, len);
}

static void send_hello(esg_gossip *g, const esg_pubkey *peer) {
    Esg__Hello hello = ESG__HELLO__INIT;
    hello.chain_id = g->chain_id;
    hello.height = g->height;
    hello.genesis_hash = esg_pb_bin(g->genesis_hash.b, 32);
    Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
    m.msg_case = ESG_P2P_MSG_HELLO;
    m.hello = &hello;
    if (peer) {
        esg_gossip_send(g, peer, &m);
        return;
    }
    uint8_t *buf;
    size_t len;
    if (esg_pb_encode(&m.base, &buf, &len) != 0)
        return;
    esg_p2p_broadcast(g->p2p, buf, len, NULL, NULL);
    free(buf);
}

static bool allow_cb(void *ctx, const esg_pubkey *key, char *why, size_t whylen) {
    esg_gossip *g = ctx;
    return g->h.allow ? g->h.allow(g->h.ctx, key, why, whylen) : true;
}

static void send_pending(esg_gossip *g, const esg_pubkey *peer);

/* A new peer learns our height and the oldest pending transactions: it
 * may have missed their announcement (it was down, or not yet dialed). */
static void peer_up_cb(void *ctx, const esg_p2p_peer_info *peer) {
    link_find(ctx, &peer->key, true);
    send_hello(ctx, &peer->key);
    send_pending(ctx, &peer->key);
}

static void peer_down_cb(void *ctx, const esg_p2p_peer_info *peer, const char *why) {
    (void)why;
    esg_gossip *g = ctx;
    link_seen *l = link_find(g, &peer->key, false);
    if (l)
        l->used = false;
    if (g->h.on_peer_down)
        g->h.on_peer_down(g->h.ctx, &peer->key);
}

static void relay(esg_gossip *g, const esg_pubkey *from, const uint8_t *data, size_t len) {
    esg_p2p_broadcast(g->p2p, data, len, from, NULL);
}

/* A gossiped consensus message its handler took: seen from now on, and
 * passed on to every other peer. */
static void accept_msg(esg_gossip *g, const esg_hash *h, const esg_pubkey *from,
                       const uint8_t *data, size_t len) {
    esg_seen_add(g->seen, h);
    relay(g, from, data, len);
}

/* ------------------------------------------------- transaction admission */

static void admit_tx_free(admit_tx *t) {
    esg_tx_free(t->tx); /* NULL once the mempool took it */
    free(t->frame);
}

static void admit_list_free(admit_list *l) {
    for (size_t i = 0; i < l->n; i++)
        admit_tx_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void gossip_free(esg_gossip *g) {
    for (size_t i = 0; i < ADMIT_LANES; i++) {
        admit_list_free(&g->lanes[i].waiting);
        admit_list_free(&g->lanes[i].running);
    }
    esg_seen_free(g->seen);
    free(g->items);
    free(g->links);
    free(g);
}

/* Thread pool: admits the lane's batch in order. */
static void admit_work(uv_work_t *w) {
    admit_lane *lane = w->data;
    for (size_t i = 0; i < lane->running.n; i++) {
        admit_tx *t = &lane->running.v[i];
        esg_hash id;
        t->rc = esg_mempool_add_tx(lane->g->mp, t->tx, &id, NULL, 0);
        t->tx = NULL;
    }
}

static void admit_start(admit_lane *lane);

/* Loop: relays what was admitted to every peer but its sender. */
static void admit_done(uv_work_t *w, int status) {
    (void)status;
    admit_lane *lane = w->data;
    esg_gossip *g = lane->g;
    g->inflight--;
    lane->busy = false;
    for (size_t i = 0; !g->closing && i < lane->running.n; i++) {
        admit_tx *t = &lane->running.v[i];
        if (status == 0 && t->rc == 0)
            relay(g, &t->from, t->frame, t->len);
    }
    for (size_t i = 0; i < lane->running.n; i++) {
        g->admit_txs--;
        g->admit_bytes -= lane->running.v[i].len;
        admit_tx_free(&lane->running.v[i]);
    }
    lane->running.n = 0;
    if (g->closing) {
        if (g->inflight == 0)
            gossip_free(g);
        return;
    }
    if (lane->waiting.n)
        admit_start(lane);
}

static void admit_start(admit_lane *lane) {
    admit_list t = lane->running;
    lane->running = lane->waiting;
    lane->waiting = t; /* empty, keeps its buffer */
    lane->waiting.n = 0;
    lane->work.data = lane;
    if (uv_queue_work(lane->g->loop, &lane->work, admit_work, admit_done) != 0) {
        /* Cannot happen with a live loop; drop rather than block it. */
        for (size_t i = 0; i < lane->running.n; i++) {
            lane->g->admit_txs--;
            lane->g->admit_bytes -= lane->running.v[i].len;
            admit_tx_free(&lane->running.v[i]);
        }
        lane->running.n = 0;
        return;
    }
    lane->busy = true;
    lane->g->inflight++;
}

/* A transaction from a peer (`raw`, inside the received P2pMessage
 * `frame`): decoded here, once, to find its signer's lane, then admitted
 * off the loop and relayed if admitted. What waits is bounded
 * (ADMIT_MAX_TXS, ADMIT_MAX_BYTES of frames): past that a transaction is
 * dropped -- the mempool behind would be as full -- and the peer is not
 * blamed. */
static void admit_enqueue(esg_gossip *g, const esg_pubkey *from, const uint8_t *raw,
                          size_t rawlen, const uint8_t *frame, size_t len) {
    if (g->admit_txs >= ADMIT_MAX_TXS || g->admit_bytes + len > ADMIT_MAX_BYTES) {
        esg_log(g->log, ESG_LOG_DEBUG, "gossip: admission queue full, a transaction dropped");
        return;
    }
    esg_tx *tx;
    if (esg_tx_decode(&tx, raw, rawlen) != 0)
        return; /* the mempool would refuse it too; nothing to relay */
    esg_pubkey signer = esg_tx_signer(tx);
    admit_lane *lane = &g->lanes[signer.b[0] % ADMIT_LANES];
    admit_list *l = &lane->waiting;
    uint8_t *copy = NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        admit_tx *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            goto drop;
        l->v = v;
        l->cap = cap;
    }
    if (!(copy = malloc(len)))
        goto drop;
    memcpy(copy, frame, len);
    l->v[l->n++] = (admit_tx){tx, copy, len, *from, 0};
    g->admit_txs++;
    g->admit_bytes += len;
    if (!lane->busy)
        admit_start(lane);
    return;
drop:
    esg_tx_free(tx);
}

static void message_cb(void *ctx, const esg_pubkey *from, const uint8_t *data, size_t len) {
    esg_gossip *g = ctx;
    link_seen *l = link_find(g, from, false);
    if (l)
        l->last_rx_ms = mono_ms(); /* any frame: the link is alive */
    Esg__P2pMessage *m = NULL;
    if (esg_pb_decode(&esg__p2p_message__descriptor, data, len, len, (ProtobufCMessage **)&m) !=
        0) {
        esg_p2p_punish(g->p2p, from, ESG_P2P_PENALTY, "undecodable p2p message");
        return;
    }
    bool gossiped = m->msg_case == ESG_P2P_MSG_TX || m->msg_case == ESG_P2P_MSG_PROPOSAL ||
                    m->msg_case == ESG_P2P_MSG_VOTE || m->msg_case == ESG_P2P_MSG_COMMIT ||
                    m->msg_case == ESG_P2P_MSG_EVIDENCE;
    /* Consensus messages are marked seen only once accepted: one refused
     * now (a vote for a height this node has not reached) must be taken
     * when its sender re-sends it. Transactions are marked at once: the
     * mempool remembers its own verdicts. */
    esg_hash h;
    bool again = false; /* seen, but the handler still wants it */
    if (gossiped) {
        h = bytes_hash(data, len);
        if (esg_seen_has(g->seen, &h)) {
            /* The cache only saves work: a proposal or vote taken earlier
             * may have been dropped since (a buffer discarded by a
             * restart of the machine), and its re-send must get through. */
            bool cons = m->msg_case == ESG_P2P_MSG_PROPOSAL || m->msg_case == ESG_P2P_MSG_VOTE;
            if (!cons || !g->h.wanted || !g->h.wanted(g->h.ctx, m))
                goto out;
            again = true;
        }
        if (m->msg_case == ESG_P2P_MSG_TX || m->msg_case == ESG_P2P_MSG_COMMIT)
            esg_seen_add(g->seen, &h);
    }
    switch (m->msg_case) {
    case ESG_P2P_MSG_HELLO: {
        esg_hash gh;
        if (strcmp(m->hello->chain_id, g->chain_id) != 0 ||
            esg_pb_bytes32(&m->hello->genesis_hash, &gh) != 0 ||
            memcmp(gh.b, g->genesis_hash.b, 32) != 0) {
            esg_p2p_disconnect(g->p2p, from, "peer follows another chain or genesis");
            goto out;
        }
        if (g->h.on_hello)
            g->h.on_hello(g->h.ctx, from, m->hello->height);
        break;
    }
    case ESG_P2P_MSG_TX:
        admit_enqueue(g, from, m->tx.data, m->tx.len, data, len);
        break;
    case ESG_P2P_MSG_PROPOSAL:
        if (g->h.on_proposal && g->h.on_proposal(g->h.ctx, from, m->proposal) == 0 && !again)
            accept_msg(g, &h, from, data, len);
        break;
    case ESG_P2P_MSG_VOTE:
        if (g->h.on_vote && g->h.on_vote(g->h.ctx, from, m->vote) == 0 && !again)
            accept_msg(g, &h, from, data, len);
        break;
    case ESG_P2P_MSG_CONSENSUS_STATE:
        if (g->h.on_consensus_state)
            g->h.on_consensus_state(g->h.ctx, from, m->consensus_state);
        break;
    case ESG_P2P_MSG_EVIDENCE:
        if (g->h.on_evidence && g->h.on_evidence(g->h.ctx, from, m->evidence) == 0)
            accept_msg(g, &h, from, data, len);
        break;
    case ESG_P2P_MSG_COMMIT:
        /* Not acted on (block sync and the vote gossip carry decisions);
         * relayed so a node reached only through us gets it. */
        relay(g, from, data, len);
        break;
    case ESG_P2P_MSG_BLOCK_REQUEST:
        if (g->h.on_block_request)
            g->h.on_block_request(g->h.ctx, from, m->block_request);
        break;
    case ESG_P2P_MSG_BLOCK_RESPONSE:
        if (g->h.on_block_response)
            g->h.on_block_response(g->h.ctx, from, m->block_response);
        break;
    case ESG_P2P_MSG_PING: {
        Esg__P2pMessage r = ESG__P2P_MESSAGE__INIT;
        r.msg_case = ESG_P2P_MSG_PONG;
        r.pong = m->ping;
        esg_gossip_send(g, from, &r);
        break;
    }
    default:
        break;
    }
out:
    esg_pb_free(m);
}

int esg_gossip_new(esg_gossip **out, uv_loop_t *loop, const esg_p2p_config *pcfg,
                   esg_mempool *mp, const esg_gossip_handlers *h, const esg_hash *genesis_hash,
                   uint64_t height, char *err, size_t errlen) {
    assert(out && loop && pcfg && mp && h && genesis_hash);
    *out = NULL;
    esg_gossip *g = calloc(1, sizeof *g);
    if (!g)
        return ESG_ERR_NOMEM;
    g->mp = mp;
    g->loop = loop;
    for (size_t i = 0; i < ADMIT_LANES; i++)
        g->lanes[i].g = g;
    g->h = *h;
    g->genesis_hash = *genesis_hash;
    g->height = height;
    g->log = pcfg->log;
    snprintf(g->chain_id, sizeof g->chain_id, "%s", pcfg->chain_id);
    int rc = esg_seen_new(&g->seen, SEEN_CAPACITY);
    if (rc == 0 && (!(g->items = calloc(ANNOUNCE_BATCH, sizeof *g->items)) ||
                    !(g->links = calloc(LINK_MAX_PEERS, sizeof *g->links))))
        rc = ESG_ERR_NOMEM;
    if (rc) {
        esg_seen_free(g->seen);
        free(g->items);
        free(g->links);
        free(g);
        return rc;
    }
    esg_p2p_config c = *pcfg;
    c.allow = allow_cb;
    c.on_message = message_cb;
    c.on_peer_up = peer_up_cb;
    c.on_peer_down = peer_down_cb;
    c.ctx = g;
    if ((rc = esg_p2p_new(&g->p2p, loop, &c, err, errlen)) != 0) {
        esg_seen_free(g->seen);
        free(g->items);
        free(g->links);
        free(g);
        return rc;
    }
    *out = g;
    return ESG_OK;
}

int esg_gossip_start(esg_gossip *g, char *err, size_t errlen) {
    int rc = esg_p2p_start(g->p2p, err, errlen);
    if (rc || g->link_timer)
        return rc;
    if (!(g->link_timer = malloc(sizeof *g->link_timer)))
        return ESG_ERR_NOMEM;
    uv_timer_init(g->loop, g->link_timer);
    g->link_timer->data = g;
    g->link_tick_ms = mono_ms();
    uv_timer_start(g->link_timer, link_tick, LINK_TICK_MS, LINK_TICK_MS);
    return ESG_OK;
}

void esg_gossip_set_height(esg_gossip *g, uint64_t height) {
    if (height == g->height)
        return;
    g->height = height;
    send_hello(g, NULL);
}

int esg_gossip_broadcast(esg_gossip *g, const Esg__P2pMessage *m, uint8_t **bytes_out,
                         size_t *len_out) {
    uint8_t *buf;
    size_t len;
    int rc = esg_pb_encode(&m->base, &buf, &len);
    if (rc)
        return rc;
    esg_hash h = bytes_hash(buf, len);
    esg_seen_add(g->seen, &h);
    rc = esg_p2p_broadcast(g->p2p, buf, len, NULL, NULL);
    if (bytes_out && rc == 0) {
        *bytes_out = buf;
        *len_out = len;
    } else {
        free(buf);
    }
    return rc;
}

void esg_gossip_rebroadcast(esg_gossip *g, const uint8_t *bytes, size_t len) {
    esg_p2p_broadcast(g->p2p, bytes, len, NULL, NULL);
}

int esg_gossip_send(esg_gossip *g, const esg_pubkey *peer, const Esg__P2pMessage *m) {
    uint8_t *buf;
    size_t len;
    int rc = esg_pb_encode(&m->base, &buf, &len);
    if (rc)
        return rc;
    rc = esg_p2p_send(g->p2p, peer, buf, len);
    free(buf);
    return rc;
}

/* Broadcasts the first n of g->items as tx messages (those already seen,
 * e.g. received from a peer, are not sent again). */
static void announce(esg_gossip *g, size_t n) {
    for (size_t i = 0; i < n; i++) {
        Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
        m.msg_case = ESG_P2P_MSG_TX;
        m.tx = esg_pb_bin(g->items[i].tx->raw, g->items[i].tx->raw_len);
        uint8_t *buf;
        size_t len;
        if (esg_pb_encode(&m.base, &buf, &len) != 0)
            return;
        esg_hash h = bytes_hash(buf, len);
        if (esg_seen_add(g->seen, &h))
            esg_p2p_broadcast(g->p2p, buf, len, NULL, NULL);
        free(buf);
    }
}

static void send_pending(esg_gossip *g, const esg_pubkey *peer) {
    size_t n = esg_mempool_reap(g->mp, g->items, ANNOUNCE_BATCH);
    for (size_t i = 0; i < n; i++) {
        Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
        m.msg_case = ESG_P2P_MSG_TX;
        m.tx = esg_pb_bin(g->items[i].tx->raw, g->items[i].tx->raw_len);
        if (esg_gossip_send(g, peer, &m) != 0)
            return; /* the peer went away or its queue is full */
    }
}

void esg_gossip_announce_txs(esg_gossip *g) {
    size_t n;
    while ((n = esg_mempool_take_fresh(g->mp, g->items, ANNOUNCE_BATCH)) > 0)
        announce(g, n);
}

void esg_gossip_punish(esg_gossip *g, const esg_pubkey *peer, const char *why) {
    esg_p2p_punish(g->p2p, peer, ESG_P2P_PENALTY, why);
}

size_t esg_gossip_peer_count(const esg_gossip *g) { return esg_p2p_peers(g->p2p, NULL, 0); }

esg_p2p *esg_gossip_transport(esg_gossip *g) { return g->p2p; }

void esg_gossip_stats(const esg_gossip *g, esg_p2p_stats *out) { esg_p2p_stats_get(g->p2p, out); }

void esg_gossip_close(esg_gossip *g, void (*on_closed)(void *arg), void *arg) {
    if (!g)
        return;
    if (g->link_timer) {
        g->link_timer->data = NULL;
        uv_close((uv_handle_t *)g->link_timer, link_timer_closed);
        g->link_timer = NULL;
    }
    esg_p2p_close(g->p2p, on_closed, arg);
    g->p2p = NULL;
    /* Batches in the thread pool finish; the last one frees the gossip. */
    g->closing = true;
    if (g->inflight == 0)
        gossip_free(g);
}
