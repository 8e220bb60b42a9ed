/* The peer transport: see p2p.h, and docs/P2P.md for the wire format.
 *
 * Lifetimes. A connection (conn) owns two handles, its socket and its
 * handshake timer; it is freed when both have closed, never earlier, so a
 * conn stays valid for the rest of any callback that closes it
 * (conn_close only marks it and starts uv_close). Write and connect
 * requests live inside the conn or in their own allocation and are
 * completed by libuv (with UV_ECANCELED on close) before the socket's close
 * callback. The p2p itself counts what is still open (`pending`: the
 * listener, target timers, connections, name lookups) and is freed when
 * that reaches 0 after esg_p2p_close.
 *
 * Reading. Each connection reads the 37-byte HELLO, then frames: a 4-byte
 * prefix, then a body of the checked length. The body's buffer starts at
 * 16 KiB (or the length, if smaller) and doubles whenever it is full, up
 * to the length: a peer can announce 8 MiB for the price of 4 bytes, so
 * what it costs us must follow what it actually sends. While a body is
 * incomplete the alloc callback hands libuv the body's free space, so a
 * large frame is read with no copy but the doublings; otherwise reads land
 * in a small scratch buffer that may hold the end of one frame and several
 * more.
 *
 * Deadlines. The handshake has a timer per connection. After it, one
 * sweep timer per p2p checks every peer for a frame begun too long ago
 * and for unsent bytes that have not moved: a timer restarted per frame
 * would cost a heap operation per frame, the sweep costs a walk of the
 * connections per tick (a tenth of the shorter deadline, 10 ms to 1 s).
 *
 * Budgets. Inbound connections in the handshake are counted apart
 * (conn.unauth, p2p.n_unauth): they are what anyone can open, so they get
 * a budget of their own, and the established peers' limit is checked only
 * once a key has been verified and allowed.
 */
#include "node/p2p.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/socket.h>

#include "ledger/error.h"
#include "ledger/genesis.h"
#include "node/keymap.h"
#include "node/p2p_handshake.h"

#define SCRATCH_LEN 16384
#define KEY_SCORES_MAX 1024
#define ADDR_SCORES_MAX 256
#define LISTEN_BACKLOG 128
#define KEEPALIVE_S 30
#define BODY_INITIAL 16384 /* first allocation for a frame's body */
#define ACCEPT_BATCH 32    /* accepts in a row before the loop does the rest */
#define ACCEPT_RETRY_MS 100 /* after running out of memory accepting */

typedef struct conn conn;
typedef struct target target;

typedef enum conn_state {
    CONN_CONNECTING, /* outbound, TCP connect in flight */
    CONN_HELLO,      /* waiting for the peer's HELLO */
    CONN_AUTH,       /* waiting for the peer's AUTH frame */
    CONN_VERDICT,    /* we accepted the peer; waiting for its verdict */
    CONN_UP,
} conn_state;

struct conn {
    esg_p2p *p2p;
    conn *prev, *next;
    uint64_t id;
    uv_tcp_t tcp;
    uv_timer_t timer;          /* handshake deadline */
    uv_connect_t connect_req;
    int handles;               /* open handles; freed at 0 */
    bool closing;
    bool active;               /* the key's connection in p2p->peers */
    bool key_known;            /* `key` is verified */
    bool unauth;               /* counted in the budget for handshakes */
    esg_p2p_direction dir;
    conn_state state;
    target *target;            /* outbound: the configured peer */
    char addr[64], ip[48];
    esg_p2p_hs hs;
    esg_pubkey key;
    uint64_t up_ms;
    /* reader */
    uint8_t hello[ESG_P2P_HELLO_LEN];
    size_t hello_fill;
    uint8_t prefix[ESG_P2P_PREFIX_LEN];
    size_t prefix_fill;
    uint8_t *body;             /* NULL, or a frame of body_len bytes being read */
    size_t body_len, body_fill;
    size_t body_cap;           /* allocated: body_fill <= body_cap <= body_len */
    bool in_frame;             /* a frame's first byte is in, not its last */
    uint64_t frame_start_ms;   /* uv_now() at its latest byte */
    /* writer progress, for the write deadline */
    uint64_t flushed;          /* bytes_out less the queue, at the last look */
    uint64_t write_progress_ms; /* when the queue was last empty or moved */
    /* accounting */
    uint64_t bytes_in, bytes_out, frames_in, frames_out;
    size_t queued_peak;
    uint8_t scratch[SCRATCH_LEN];
};

struct target {
    esg_p2p *p2p;
    char spec[300];            /* as configured, for the log */
    char host[256];
    uint16_t port;
    bool numeric;
    struct sockaddr_storage sa; /* when numeric */
    uv_timer_t timer;          /* next dial */
    uv_getaddrinfo_t gai;
    bool resolving;
    conn *conn;                /* the dial in progress or established */
    unsigned attempt;          /* failures since the last success */
    bool key_known;            /* learnt at the first handshake */
    bool self;                 /* it is this node: never dialed again */
    esg_pubkey key;
};

/* A token bucket for log lines, and what its lines are about. */
typedef struct log_bucket {
    esg_ratelimit rl;
    const char *what;
} log_bucket;

typedef struct addr_score {
    char ip[48];
    uint32_t score;
    uint64_t seq; /* for eviction of the oldest */
} addr_score;

struct esg_p2p {
    uv_loop_t *loop;
    esg_seckey sk;
    esg_pubkey pk;
    char chain_id[ESG_P2P_CHAIN_ID_MAX + 1];
    bool (*allow)(void *, const esg_pubkey *, char *, size_t);
    void (*on_message)(void *, const esg_pubkey *, const uint8_t *, size_t);
    void (*on_peer_up)(void *, const esg_p2p_peer_info *);
    void (*on_peer_down)(void *, const esg_p2p_peer_info *, const char *);
    void *ctx;
    const esg_logger *log;
    size_t max_frame, queue_cap, max_conns, max_unauth, max_unauth_per_ip;
    uint64_t hs_timeout_ms, backoff_initial_ms, backoff_max_ms, nonce_limit;
    uint64_t frame_timeout_ms, write_timeout_ms;
    /* Log lines a remote party can cause: about inbound connections in the
     * handshake (anyone's), and about the rest (peers we allowed, dials). */
    log_bucket log_anon, log_known;
    uv_timer_t sweep;          /* deadlines after the handshake; log reports */
    uint64_t rng;

    char listen_spec[300];
    bool has_listen;
    struct sockaddr_storage listen_sa;
    uv_tcp_t listener;
    uint16_t port;
    uv_timer_t accept_timer;   /* takes a connection left with libuv */
    uint64_t accept_ms;        /* uv_now() of the current run of accepts */
    unsigned accept_burst;     /* accepts in that run */

    target **targets;
    size_t n_targets;
    conn *conns;               /* every conn until freed, closing ones too */
    size_t n_conns;            /* not closing */
    size_t n_unauth;           /* of those, inbound in the handshake */
    esg_keymap peers;          /* key -> active conn */
    esg_keymap key_scores;     /* key -> uint32_t * */
    addr_score addr_scores[ADDR_SCORES_MAX];
    size_t n_addr_scores;
    uint64_t addr_seq;
    uint64_t next_conn_id;
    esg_p2p_stats stats;

    bool started, closing;
    size_t pending;            /* handles and requests still open */
    void (*on_closed)(void *);
    void *closed_arg;
};

/* ------------------------------------------------------------- helpers */

static void plog(const esg_p2p *p, esg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void plog(const esg_p2p *p, esg_log_level lvl, const char *fmt, ...) {
    if (!p->log || lvl > p->log->level)
        return;
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    esg_log(p->log, lvl, "p2p: %s", buf);
}

/* As plog, through the token bucket `b`: a line that would not be printed
 * at its level takes no token, and a line that passes after others were
 * left out says how many. */
static void plog_limited(esg_p2p *p, log_bucket *b, esg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void plog_limited(esg_p2p *p, log_bucket *b, esg_log_level lvl, const char *fmt, ...) {
    if (!p->log || lvl > p->log->level)
        return;
    uint64_t suppressed = 0;
    if (!esg_ratelimit_allow(&b->rl, uv_now(p->loop), &suppressed)) {
        p->stats.log_suppressed++;
        return;
    }
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (suppressed)
        esg_log(p->log, lvl, "p2p: %s [%" PRIu64 " earlier log lines about %s suppressed]", buf,
                suppressed, b->what);
    else
        esg_log(p->log, lvl, "p2p: %s", buf);
}

/* splitmix64: only spreads retry times, so it need not be unpredictable. */
static uint64_t rng_next(esg_p2p *p) {
    uint64_t z = (p->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Splits "host:port" or "[v6]:port". Returns 0 or -1. */
static int parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port,
                          bool allow_zero) {
    if (!s || !*s)
        return -1;
    const char *colon;
    size_t hl;
    const char *h;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return -1;
        h = s;
        hl = (size_t)(colon - s);
        if (memchr(h, ':', hl)) /* unbracketed IPv6 is ambiguous */
            return -1;
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    const char *d = colon + 1;
    size_t nd = strlen(d);
    if (nd == 0 || nd > 5)
        return -1;
    unsigned long v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (d[i] < '0' || d[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(d[i] - '0');
    }
    if (v > 65535 || (v == 0 && !allow_zero))
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)v;
    return 0;
}

static int numeric_addr(const char *host, uint16_t port, struct sockaddr_storage *sa) {
    memset(sa, 0, sizeof *sa);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) == 0)
        return 0;
    return -1;
}

/* "ip:port" / "[ip]:port" of `sa`; the bare ip into `ip` when not NULL. */
static void format_addr(const struct sockaddr *sa, char *out, size_t outlen, char *ip,
                        size_t iplen) {
    char buf[48] = "?";
    int port = 0;
    bool v6 = false;
    if (sa->sa_family == AF_INET) {
        uv_ip4_name((const struct sockaddr_in *)sa, buf, sizeof buf);
        port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)sa, buf, sizeof buf);
        port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
        v6 = true;
    }
    snprintf(out, outlen, v6 ? "[%s]:%d" : "%s:%d", buf, port);
    if (ip)
        snprintf(ip, iplen, "%s", buf);
}

static void key_short(char out[17], const esg_pubkey *k) {
    esg_hex_encode(out, k->b, 8);
}

/* -------------------------------------------------------------- scores */

static uint32_t sat_add(uint32_t a, uint32_t b) {
    return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

static uint32_t key_score_add(esg_p2p *p, const esg_pubkey *k, uint32_t points) {
    uint32_t *s = esg_keymap_get(&p->key_scores, k->b);
    if (!s) {
        if (p->key_scores.n >= KEY_SCORES_MAX || !(s = calloc(1, sizeof *s)))
            return points;
        if (esg_keymap_put(&p->key_scores, k->b, s) != ESG_OK) {
            free(s);
            return points;
        }
    }
    *s = sat_add(*s, points);
    return *s;
}

static uint32_t addr_score_add(esg_p2p *p, const char *ip, uint32_t points) {
    addr_score *e = NULL;
    for (size_t i = 0; i < p->n_addr_scores; i++)
        if (strcmp(p->addr_scores[i].ip, ip) == 0)
            e = &p->addr_scores[i];
    if (!e) {
        if (p->n_addr_scores < ADDR_SCORES_MAX) {
            e = &p->addr_scores[p->n_addr_scores++];
        } else { /* forget the address seen least recently */
            e = &p->addr_scores[0];
            for (size_t i = 1; i < ADDR_SCORES_MAX; i++)
                if (p->addr_scores[i].seq < e->seq)
                    e = &p->addr_scores[i];
        }
        memset(e, 0, sizeof *e);
        snprintf(e->ip, sizeof e->ip, "%s", ip);
    }
    e->seq = ++p->addr_seq;
    e->score = sat_add(e->score, points);
    return e->score;
}

uint32_t esg_p2p_score(const esg_p2p *p, const esg_pubkey *key) {
    assert(p && key);
    const uint32_t *s = esg_keymap_get(&p->key_scores, key->b);
    return s ? *s : 0;
}

uint32_t esg_p2p_addr_score(const esg_p2p *p, const char *ip) {
    assert(p && ip);
    for (size_t i = 0; i < p->n_addr_scores; i++)
        if (strcmp(p->addr_scores[i].ip, ip) == 0)
            return p->addr_scores[i].score;
    return 0;
}

/* ------------------------------------------------------- finishing close */

static void p2p_finish(esg_p2p *p) {
    assert(p->closing && p->pending == 0);
    void (*cb)(void *) = p->on_closed;
    void *arg = p->closed_arg;
    for (size_t i = 0; i < p->n_targets; i++)
        free(p->targets[i]);
    free(p->targets);
    esg_keymap_release(&p->peers);
    for (size_t i = 0; i < p->key_scores.cap; i++)
        free(p->key_scores.slots[i].val);
    esg_keymap_release(&p->key_scores);
    sodium_memzero(p, sizeof *p);
    free(p);
    if (cb)
        cb(arg);
}

/* Something counted in `pending` has finished. May free `p`: the caller
 * must not touch it afterwards. */
static void p2p_unref(esg_p2p *p) {
    assert(p->pending > 0);
    if (--p->pending == 0 && p->closing)
        p2p_finish(p);
}

static void on_p2p_handle_closed(uv_handle_t *h) {
    p2p_unref(h->data);
}

/* ------------------------------------------------------------- targets */

static void target_dial(target *t);

static void on_target_timer(uv_timer_t *timer) {
    target *t = timer->data;
    esg_p2p *p = t->p2p;
    if (p->closing || t->conn || t->resolving || t->self)
        return;
    /* Already connected to this key, in whichever direction: stay idle
     * until it goes down (conn_close wakes us). */
    if (t->key_known && esg_keymap_get(&p->peers, t->key.b))
        return;
    target_dial(t);
}

/* Arms the next dial after a failure, with backoff and jitter. */
static void target_schedule(target *t) {
    esg_p2p *p = t->p2p;
    if (p->closing || t->self || t->conn || t->resolving || uv_is_active((uv_handle_t *)&t->timer))
        return;
    uint64_t d = p->backoff_initial_ms;
    for (unsigned i = 0; i < t->attempt && d < p->backoff_max_ms; i++)
        d = d > p->backoff_max_ms / 2 ? p->backoff_max_ms : d * 2;
    /* Equal jitter: half the delay fixed, half random, so nodes that lost
     * a peer together do not redial it in step. */
    uint64_t half = d / 2;
    d = d - half + rng_next(p) % (half + 1);
    if (t->attempt < 64)
        t->attempt++;
    plog(p, ESG_LOG_DEBUG, "redialing %s in %" PRIu64 " ms", t->spec, d);
    uv_timer_start(&t->timer, on_target_timer, d, 0);
}

/* A connection of `t` has gone (failed or closed). */
static void target_conn_gone(target *t) {
    esg_p2p *p = t->p2p;
    if (p->closing)
        return;
    if (t->key_known && esg_keymap_get(&p->peers, t->key.b))
        return; /* connected the other way round: idle */
    target_schedule(t);
}

/* The key `k` went down: redial the targets that waited on it. */
static void targets_wake(esg_p2p *p, const esg_pubkey *k) {
    for (size_t i = 0; i < p->n_targets; i++) {
        target *t = p->targets[i];
        if (t->key_known && memcmp(t->key.b, k->b, 32) == 0) {
            t->attempt = 0;
            target_schedule(t);
        }
    }
}

/* ---------------------------------------------------------- connections */

static void on_conn_handle_closed(uv_handle_t *h) {
    conn *c = h->data;
    if (--c->handles > 0)
        return;
    esg_p2p *p = c->p2p;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->body) {
        p->stats.rx_buffered -= c->body_cap;
        free(c->body);
    }
    esg_p2p_hs_wipe(&c->hs);
    free(c);
    p2p_unref(p);
}

static void conn_info(const conn *c, esg_p2p_peer_info *out) {
    memset(out, 0, sizeof *out);
    out->key = c->key;
    snprintf(out->addr, sizeof out->addr, "%s", c->addr);
    out->dir = c->dir;
    out->conn_id = c->id;
    out->up_ms = c->up_ms;
    out->bytes_in = c->bytes_in;
    out->bytes_out = c->bytes_out;
    out->frames_in = c->frames_in;
    out->frames_out = c->frames_out;
    out->queued_bytes = c->handles == 2 && !c->closing
                            ? uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp)
                            : 0;
    out->queued_peak = c->queued_peak;
    out->score = esg_p2p_score(c->p2p, &c->key);
}

/* "0123456789abcdef@127.0.0.1:4000", or the address alone before the key
 * is verified. */
static const char *conn_name(const conn *c, char *buf, size_t len) {
    if (c->key_known) {
        char k[17];
        key_short(k, &c->key);
        snprintf(buf, len, "%s@%s", k, c->addr);
    } else {
        snprintf(buf, len, "%s", c->addr);
    }
    return buf;
}

/* Which bucket lines about `c` go through: anyone can open an inbound
 * connection, so until one is up its lines must not crowd out those about
 * peers and our own dials. */
static log_bucket *conn_bucket(conn *c) {
    return c->dir == ESG_P2P_INBOUND && c->state != CONN_UP ? &c->p2p->log_anon
                                                            : &c->p2p->log_known;
}

/* `c` leaves the budget for handshakes (it is up, or closing). */
static void conn_unauth_leave(conn *c) {
    if (c->unauth) {
        c->unauth = false;
        c->p2p->n_unauth--;
    }
}

/* Closes `c` (once; later calls do nothing), logging the reason at `lvl`.
 * If it was the key's connection the key goes down. `c` stays valid until
 * its handles have closed, which is never before this callback returns. */
static void conn_close(conn *c, esg_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void conn_close(conn *c, esg_log_level lvl, const char *fmt, ...) {
    if (c->closing)
        return;
    esg_p2p *p = c->p2p;
    c->closing = true;
    p->n_conns--;
    conn_unauth_leave(c);
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (!p->closing) {
        char name[96];
        plog_limited(p, conn_bucket(c), lvl, "closed connection %s %s: %s",
                     c->dir == ESG_P2P_OUTBOUND ? "to" : "from", conn_name(c, name, sizeof name),
                     why);
    }
    target *t = c->target;
    if (t) {
        t->conn = NULL;
        c->target = NULL;
    }
    if (c->active) {
        esg_keymap_del(&p->peers, c->key.b);
        c->active = false;
        if (!p->closing) {
            if (p->on_peer_down) {
                esg_p2p_peer_info info;
                conn_info(c, &info);
                p->on_peer_down(p->ctx, &info, why);
            }
            /* The callback may have closed the p2p; targets check. */
            targets_wake(p, &c->key);
        }
    }
    if (t)
        target_conn_gone(t);
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

/* A protocol violation: score the key if verified, else the IP; close. */
static void conn_misbehave(conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_misbehave(conn *c, const char *fmt, ...) {
    if (c->closing)
        return;
    esg_p2p *p = c->p2p;
    char why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    uint32_t score = c->key_known ? key_score_add(p, &c->key, ESG_P2P_PENALTY)
                                  : addr_score_add(p, c->ip, ESG_P2P_PENALTY);
    p->stats.misbehaviour++;
    conn_close(c, ESG_LOG_WARN, "%s (misbehaviour score of %s now %" PRIu32 ")", why,
               c->key_known ? "its key" : "its address", score);
}

static conn *conn_new(esg_p2p *p, esg_p2p_direction dir) {
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->p2p = p;
    c->dir = dir;
    c->id = ++p->next_conn_id;
    c->state = dir == ESG_P2P_OUTBOUND ? CONN_CONNECTING : CONN_HELLO;
    snprintf(c->addr, sizeof c->addr, "?");
    snprintf(c->ip, sizeof c->ip, "?");
    /* Neither init can fail on Unix once the loop exists. */
    uv_tcp_init(p->loop, &c->tcp);
    uv_timer_init(p->loop, &c->timer);
    c->tcp.data = c->timer.data = c->connect_req.data = c;
    c->handles = 2;
    c->next = p->conns;
    if (p->conns)
        p->conns->prev = c;
    p->conns = c;
    p->n_conns++;
    p->pending++;
    return c;
}

typedef struct wreq {
    uv_write_t req;
    conn *c;
    uint8_t buf[];
} wreq;

static void on_write(uv_write_t *req, int status) {
    wreq *w = (wreq *)req;
    conn *c = w->c;
    free(w);
    if (status == 0 && !c->closing)
        c->write_progress_ms = uv_now(c->p2p->loop); /* the peer took a whole write */
    if (status < 0 && status != UV_ECANCELED && !c->closing)
        conn_close(c, ESG_LOG_INFO, "write failed: %s", uv_strerror(status));
}

/* Queues `w` (len bytes) on the socket and accounts for it. */
static int conn_write(conn *c, wreq *w, size_t len) {
    esg_p2p *p = c->p2p;
    w->c = c;
    /* An empty queue is progress: the write deadline counts from now. */
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0)
        c->write_progress_ms = uv_now(p->loop);
    uv_buf_t b = uv_buf_init((char *)w->buf, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc != 0) {
        free(w);
        conn_close(c, ESG_LOG_INFO, "write failed: %s", uv_strerror(rc));
        return ESG_ERR_PEER_DROPPED;
    }
    c->bytes_out += len;
    p->stats.bytes_out += len;
    size_t q = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    if (q > c->queued_peak)
        c->queued_peak = q;
    if (q > p->stats.queued_peak)
        p->stats.queued_peak = q;
    return ESG_OK;
}

/* Seals `len` bytes as the next frame and queues it, or drops the peer if
 * that would pass the write queue cap or the frame counter is spent. */
static int conn_send_frame(conn *c, const uint8_t *data, size_t len) {
    esg_p2p *p = c->p2p;
    assert(!c->closing && len <= p->max_frame + ESG_P2P_AUTH_LEN);
    size_t total = ESG_P2P_FRAME_OVERHEAD + len;
    size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    if (queued + total > p->queue_cap) {
        p->stats.slow_drops++;
        conn_close(c, ESG_LOG_WARN,
                   "peer stopped reading: %zu bytes unsent, a frame of %zu more would pass "
                   "the write queue cap of %zu",
                   queued, total, p->queue_cap);
        return ESG_ERR_PEER_DROPPED;
    }
    wreq *w = malloc(sizeof *w + total);
    if (!w)
        return ESG_ERR_NOMEM;
    int rc = esg_p2p_cipher_seal(&c->hs.tx, w->buf, data, len);
    if (rc != ESG_OK) {
        free(w);
        if (rc == ESG_ERR_OVERFLOW) {
            p->stats.counter_exhausted++;
            conn_close(c, ESG_LOG_INFO, "frame counter exhausted after %" PRIu64 " frames sent",
                       c->hs.tx.next);
            return ESG_ERR_PEER_DROPPED;
        }
        conn_close(c, ESG_LOG_ERROR, "cannot seal a frame: %s", esg_err_name(rc));
        return rc;
    }
    return conn_write(c, w, total);
}

/* -------------------------------------------------------- the handshake */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void on_hs_timeout(uv_timer_t *timer) {
    conn *c = timer->data;
    esg_p2p *p = c->p2p;
    if (c->closing || c->state == CONN_UP)
        return;
    p->stats.handshake_timeouts++;
    if (c->state == CONN_CONNECTING)
        p->stats.dial_failures++;
    conn_close(c, ESG_LOG_INFO, "%s did not finish within %" PRIu64 " ms",
               c->state == CONN_CONNECTING ? "dial" : "handshake", p->hs_timeout_ms);
}

/* TCP is connected (either way): send our HELLO and read. */
static void conn_start(conn *c) {
    esg_p2p *p = c->p2p;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, KEEPALIVE_S);
    wreq *w = malloc(sizeof *w + ESG_P2P_HELLO_LEN);
    if (!w) {
        conn_close(c, ESG_LOG_ERROR, "out of memory");
        return;
    }
    esg_p2p_role role = c->dir == ESG_P2P_OUTBOUND ? ESG_P2P_INITIATOR : ESG_P2P_RESPONDER;
    int rc = esg_p2p_hs_init(&c->hs, w->buf, role, p->chain_id, p->nonce_limit);
    if (rc != ESG_OK) {
        free(w);
        conn_close(c, ESG_LOG_ERROR, "cannot start the handshake: %s", esg_err_name(rc));
        return;
    }
    c->state = CONN_HELLO;
    if (conn_write(c, w, ESG_P2P_HELLO_LEN) != ESG_OK)
        return;
    rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0)
        conn_close(c, ESG_LOG_INFO, "cannot read: %s", uv_strerror(rc));
}

static void conn_on_hello(conn *c) {
    esg_p2p *p = c->p2p;
    int rc = esg_p2p_hs_read_hello(&c->hs, c->hello);
    if (rc != ESG_OK) {
        p->stats.bad_handshakes++;
        conn_misbehave(c, rc == ESG_ERR_DECODE
                              ? "not an esgledger peer, or another protocol version (bad hello)"
                              : "hello carries an unusable ephemeral key");
        return;
    }
    uint8_t auth[ESG_P2P_AUTH_LEN];
    rc = esg_p2p_hs_auth(&c->hs, auth, &p->sk, &p->pk);
    if (rc != ESG_OK) {
        conn_close(c, ESG_LOG_ERROR, "cannot sign the handshake: %s", esg_err_name(rc));
        return;
    }
    c->state = CONN_AUTH;
    conn_send_frame(c, auth, sizeof auth);
}

/* Sends a refusal verdict if the socket takes it now, then closes: the
 * verdict only spares the peer a guess. */
static void conn_refuse(conn *c) {
    uint8_t frame[ESG_P2P_FRAME_OVERHEAD + ESG_P2P_VERDICT_LEN];
    uint8_t v = ESG_P2P_VERDICT_REFUSE;
    if (esg_p2p_cipher_seal(&c->hs.tx, frame, &v, 1) == ESG_OK &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
        uv_buf_t b = uv_buf_init((char *)frame, sizeof frame);
        uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    }
}

static void conn_up(conn *c);

/* An inbound connection whose key is not up yet may not bring the peers
 * past max_conns: closes it and returns true. Checked when its key is
 * allowed and again when it comes up, as handshakes run side by side. */
static bool conn_over_max(conn *c) {
    esg_p2p *p = c->p2p;
    if (c->dir != ESG_P2P_INBOUND || esg_keymap_get(&p->peers, c->key.b) ||
        p->peers.n < p->max_conns)
        return false;
    p->stats.too_many++;
    conn_close(c, ESG_LOG_WARN, "too many peers (limit %zu)", p->max_conns);
    return true;
}

static void conn_on_auth(conn *c, const uint8_t *plain) {
    esg_p2p *p = c->p2p;
    char chain[ESG_P2P_CHAIN_ID_MAX + 1];
    esg_pubkey key;
    int rc = esg_p2p_hs_check_auth(&c->hs, &key, chain, plain);
    if (rc == ESG_ERR_CHAIN_ID) {
        /* Another chain is a configuration error, not an attack: no score. */
        p->stats.chain_mismatches++;
        char k[17];
        key_short(k, &key);
        conn_close(c, ESG_LOG_WARN,
                   "chain id mismatch: peer key %s says it is on chain '%s', this node is on "
                   "'%s' (its handshake signature does not verify for our chain)",
                   k, esg_chain_id_valid(chain) ? chain : "(invalid chain id)", p->chain_id);
        return;
    }
    if (rc != ESG_OK) {
        p->stats.bad_handshakes++;
        conn_misbehave(c, "%s", rc == ESG_ERR_BAD_SIGNATURE
                                    ? "handshake signature does not verify"
                                    : "malformed handshake authentication");
        return;
    }
    c->key = key;
    c->key_known = true;
    if (memcmp(key.b, p->pk.b, 32) == 0) {
        p->stats.self_connections++;
        if (c->target) {
            c->target->self = true;
            plog(p, ESG_LOG_WARN, "peer '%s' is this node: not dialing it again", c->target->spec);
        }
        conn_close(c, ESG_LOG_INFO, "connected to ourselves");
        return;
    }
    char why[256] = "";
    if (!p->allow(p->ctx, &key, why, sizeof why)) {
        p->stats.refused++;
        char hex[65];
        esg_hex_encode(hex, key.b, 32);
        conn_refuse(c);
        conn_close(c, ESG_LOG_WARN, "refused key %s: %s", hex,
                   why[0] ? why : "not a validator or an allowed observer of this chain");
        return;
    }
    if (c->closing || p->closing) /* the callback closed the p2p */
        return;
    if (conn_over_max(c))
        return;
    uint8_t v = ESG_P2P_VERDICT_ACCEPT;
    c->state = CONN_VERDICT;
    conn_send_frame(c, &v, 1);
}

static void conn_on_verdict(conn *c, const uint8_t *plain) {
    esg_p2p *p = c->p2p;
    if (plain[0] == ESG_P2P_VERDICT_REFUSE) {
        p->stats.refused_by_peer++;
        conn_close(c, ESG_LOG_WARN, "the peer refused our key (are we a validator or an "
                                    "allowed observer in its view of chain '%s'?)",
                   p->chain_id);
        return;
    }
    if (plain[0] != ESG_P2P_VERDICT_ACCEPT) {
        p->stats.bad_frames++;
        conn_misbehave(c, "malformed handshake verdict");
        return;
    }
    conn_up(c);
}

/* Which connection is kept when a key has two: the one dialed by the
 * smaller key; if the same node dialed both, the newer. Both ends compute
 * the same answer. */
static const uint8_t *conn_initiator(const conn *c) {
    return c->dir == ESG_P2P_OUTBOUND ? c->p2p->pk.b : c->key.b;
}

static void conn_up(conn *c) {
    esg_p2p *p = c->p2p;
    if (conn_over_max(c))
        return;
    uv_timer_stop(&c->timer);
    conn_unauth_leave(c);
    p->stats.handshakes++;
    c->state = CONN_UP;
    c->up_ms = uv_now(p->loop);
    c->write_progress_ms = c->up_ms;
    target *t = c->target;
    if (t) {
        t->attempt = 0;
        t->key = c->key;
        t->key_known = true;
    }
    conn *old = esg_keymap_get(&p->peers, c->key.b);
    char name[96];
    if (old) {
        int cmp = memcmp(conn_initiator(old), conn_initiator(c), 32);
        p->stats.duplicates++;
        if (cmp < 0) {
            conn_close(c, ESG_LOG_DEBUG, "duplicate of connection %" PRIu64 ", which is kept",
                       old->id);
            return;
        }
        /* The new connection replaces the old one; the key stays up. */
        old->active = false;
        /* Delete, then put: the map's load check passes as it did when old
         * went in, so this put never allocates and cannot fail. */
        esg_keymap_del(&p->peers, c->key.b);
        int rc = esg_keymap_put(&p->peers, c->key.b, c);
        assert(rc == ESG_OK);
        (void)rc;
        c->active = true;
        conn_close(old, ESG_LOG_DEBUG, "replaced by duplicate connection %" PRIu64, c->id);
        plog(p, ESG_LOG_DEBUG, "peer %s now on connection %" PRIu64,
             conn_name(c, name, sizeof name), c->id);
        return;
    }
    if (esg_keymap_put(&p->peers, c->key.b, c) != ESG_OK) {
        conn_close(c, ESG_LOG_ERROR, "out of memory");
        return;
    }
    c->active = true;
    plog_limited(p, &p->log_known, ESG_LOG_INFO, "peer %s up (%s)",
                 conn_name(c, name, sizeof name),
                 c->dir == ESG_P2P_OUTBOUND ? "outbound" : "inbound");
    if (p->on_peer_up) {
        esg_p2p_peer_info info;
        conn_info(c, &info);
        p->on_peer_up(p->ctx, &info);
    }
}

/* ------------------------------------------------------------- reading */

/* Doubles the body's buffer, up to its length. Precondition: it is full
 * and the frame is not. Returns false when out of memory (nothing
 * changed). */
static bool conn_body_grow(conn *c) {
    esg_p2p *p = c->p2p;
    assert(c->body && c->body_fill == c->body_cap && c->body_cap < c->body_len);
    size_t cap = c->body_cap > c->body_len / 2 ? c->body_len : c->body_cap * 2;
    uint8_t *b = realloc(c->body, cap);
    if (!b)
        return false;
    p->stats.rx_buffered += cap - c->body_cap;
    if (p->stats.rx_buffered > p->stats.rx_buffered_peak)
        p->stats.rx_buffered_peak = p->stats.rx_buffered;
    c->body = b;
    c->body_cap = cap;
    return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    conn *c = h->data;
    if (c->body && c->body_fill < c->body_len) {
        /* An empty buffer makes libuv call on_read with UV_ENOBUFS. */
        if (c->body_fill == c->body_cap && !conn_body_grow(c)) {
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        size_t want = c->body_cap - c->body_fill;
        if (want > UINT32_MAX)
            want = UINT32_MAX;
        *buf = uv_buf_init((char *)c->body + c->body_fill, (unsigned)want);
    } else {
        *buf = uv_buf_init((char *)c->scratch, sizeof c->scratch);
    }
}

/* The 4-byte prefix is in: check the length against what this state
 * allows, and only then allocate. Returns false if `c` was closed. */
static bool conn_begin_frame(conn *c) {
    esg_p2p *p = c->p2p;
    uint32_t L = esg_p2p_be32(c->prefix);
    uint64_t want_min = ESG_P2P_TAG_LEN, want_max;
    switch (c->state) {
    case CONN_AUTH:
        want_min = want_max = ESG_P2P_AUTH_LEN + ESG_P2P_TAG_LEN;
        break;
    case CONN_VERDICT:
        want_min = want_max = ESG_P2P_VERDICT_LEN + ESG_P2P_TAG_LEN;
        break;
    default:
        want_max = (uint64_t)p->max_frame + ESG_P2P_TAG_LEN;
        break;
    }
    if (L < want_min || L > want_max) {
        if (L > want_max)
            p->stats.oversize_frames++;
        else
            p->stats.bad_frames++;
        if (c->state != CONN_UP)
            p->stats.bad_handshakes++;
        conn_misbehave(c, "frame length %" PRIu32 " outside %" PRIu64 "..%" PRIu64 " %s", L,
                       want_min, want_max,
                       c->state == CONN_UP ? "(the frame limit)" : "during the handshake");
        return false;
    }
    /* The length is only a claim: allocate for what arrives (on_alloc). */
    size_t cap = L < BODY_INITIAL ? L : BODY_INITIAL;
    c->body = malloc(cap);
    if (!c->body) {
        conn_close(c, ESG_LOG_ERROR, "out of memory for a frame of %" PRIu32 " bytes", L);
        return false;
    }
    c->body_len = L;
    c->body_cap = cap;
    c->body_fill = 0;
    p->stats.rx_buffered += cap;
    if (p->stats.rx_buffered > p->stats.rx_buffered_peak)
        p->stats.rx_buffered_peak = p->stats.rx_buffered;
    return true;
}

/* A whole frame is in c->body: authenticate and decrypt it, then act. */
static void conn_end_frame(conn *c) {
    esg_p2p *p = c->p2p;
    uint8_t *buf = c->body;
    size_t len = c->body_len;
    assert(c->body_cap == len);
    c->body = NULL;
    c->body_len = c->body_fill = c->body_cap = 0;
    c->prefix_fill = 0;
    c->in_frame = false;
    p->stats.rx_buffered -= len;
    int rc = esg_p2p_cipher_open(&c->hs.rx, buf, len, c->prefix);
    if (rc != ESG_OK) {
        free(buf);
        if (rc == ESG_ERR_OVERFLOW) {
            p->stats.counter_exhausted++;
            conn_close(c, ESG_LOG_INFO, "frame counter exhausted after %" PRIu64
                       " frames received", c->hs.rx.next);
        } else {
            p->stats.bad_frames++;
            if (c->state != CONN_UP)
                p->stats.bad_handshakes++;
            conn_misbehave(c, "frame %" PRIu64 " failed authentication", c->hs.rx.next);
        }
        return;
    }
    size_t plen = len - ESG_P2P_TAG_LEN;
    switch (c->state) {
    case CONN_AUTH:
        conn_on_auth(c, buf);
        break;
    case CONN_VERDICT:
        conn_on_verdict(c, buf);
        break;
    case CONN_UP:
        c->frames_in++;
        p->stats.frames_in++;
        if (p->on_message && !p->closing)
            p->on_message(p->ctx, &c->key, buf, plen);
        break;
    default:
        assert(!"frame in a state without frames");
    }
    free(buf);
}

/* Feeds `n` bytes read into the scratch buffer through the reader. */
static void conn_consume(conn *c, const uint8_t *d, size_t n) {
    esg_p2p *p = c->p2p;
    while (n > 0 && !c->closing && !p->closing) {
        size_t k;
        if (c->state == CONN_HELLO) {
            k = ESG_P2P_HELLO_LEN - c->hello_fill;
            k = k < n ? k : n;
            memcpy(c->hello + c->hello_fill, d, k);
            c->hello_fill += k;
            if (c->hello_fill == ESG_P2P_HELLO_LEN)
                conn_on_hello(c);
        } else if (!c->body) {
            if (c->prefix_fill == 0) {
                c->in_frame = true;
                c->frame_start_ms = uv_now(p->loop);
            }
            k = ESG_P2P_PREFIX_LEN - c->prefix_fill;
            k = k < n ? k : n;
            memcpy(c->prefix + c->prefix_fill, d, k);
            c->prefix_fill += k;
            if (c->prefix_fill == ESG_P2P_PREFIX_LEN && !conn_begin_frame(c))
                return;
        } else {
            if (c->body_fill == c->body_cap && !conn_body_grow(c)) {
                conn_close(c, ESG_LOG_ERROR, "out of memory for a frame of %zu bytes",
                           c->body_len);
                return;
            }
            k = c->body_cap - c->body_fill;
            k = k < n ? k : n;
            memcpy(c->body + c->body_fill, d, k);
            c->body_fill += k;
            /* The deadline counts from the last progress: a 4 MiB sync
             * answer over a slow link may take minutes, but its bytes
             * keep coming (and memory follows what came). */
            c->frame_start_ms = uv_now(p->loop);
            if (c->body_fill == c->body_len)
                conn_end_frame(c);
        }
        d += k;
        n -= k;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    conn *c = s->data;
    esg_p2p *p = c->p2p;
    if (c->closing || p->closing)
        return;
    if (nread == UV_ENOBUFS) { /* on_alloc could not grow the body */
        conn_close(c, ESG_LOG_ERROR, "out of memory for a frame of %zu bytes", c->body_len);
        return;
    }
    if (nread < 0) {
        if (c->state == CONN_UP)
            conn_close(c, ESG_LOG_INFO, "%s", nread == UV_EOF ? "the peer closed the connection"
                                                              : uv_strerror((int)nread));
        else
            conn_close(c, ESG_LOG_INFO, "%s during the handshake (does the peer allow our key?)",
                       nread == UV_EOF ? "the peer closed the connection"
                                       : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    c->bytes_in += (uint64_t)nread;
    p->stats.bytes_in += (uint64_t)nread;
    p->stats.reads++;
    if (buf->base == (char *)c->scratch) {
        conn_consume(c, c->scratch, (size_t)nread);
    } else {
        /* Read straight into the frame's body (see on_alloc). */
        assert(c->body && buf->base == (char *)c->body + c->body_fill);
        c->body_fill += (size_t)nread;
        if (c->body_fill == c->body_len)
            conn_end_frame(c);
    }
}

/* ------------------------------------------------------------ deadlines */

/* The deadlines of an established peer, at `now`: a frame begun too long
 * ago, unsent bytes that have not moved. Neither is scored: a slow or
 * stalled link looks the same. */
static void conn_check_deadlines(conn *c, uint64_t now) {
    esg_p2p *p = c->p2p;
    assert(c->state == CONN_UP && !c->closing);
    if (c->in_frame && now - c->frame_start_ms >= p->frame_timeout_ms) {
        p->stats.frame_timeouts++;
        conn_close(c, ESG_LOG_WARN,
                   "frame not complete: no byte of it for %" PRIu64 " ms (%zu of %zu "
                   "bytes received)",
                   p->frame_timeout_ms, c->body_fill, c->body_len);
        return;
    }
    size_t q = uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
    /* bytes_out counts what was queued, so this is what left the queue. */
    uint64_t flushed = c->bytes_out - q;
    if (q == 0 || flushed != c->flushed) {
        c->flushed = flushed;
        c->write_progress_ms = now;
    } else if (now - c->write_progress_ms >= p->write_timeout_ms) {
        p->stats.write_timeouts++;
        conn_close(c, ESG_LOG_WARN,
                   "peer stopped reading: %zu bytes unsent, none taken for %" PRIu64 " ms", q,
                   now - c->write_progress_ms);
    }
}

/* Reports lines a bucket left out, when no later line has said so: a
 * flood followed by silence is still in the log. */
static void log_bucket_flush(esg_p2p *p, log_bucket *b, uint64_t now) {
    uint64_t n;
    if (p->log && ESG_LOG_WARN <= p->log->level && esg_ratelimit_flush(&b->rl, now, &n))
        esg_log(p->log, ESG_LOG_WARN, "p2p: %" PRIu64 " log lines about %s suppressed", n,
                b->what);
}

static void on_sweep(uv_timer_t *timer) {
    esg_p2p *p = timer->data;
    if (p->closing)
        return;
    uint64_t now = uv_now(p->loop);
    /* Conns are unlinked only in close callbacks, so the walk survives
     * the closes it makes; a callback may close the p2p. */
    for (conn *c = p->conns; c && !p->closing; c = c->next)
        if (c->state == CONN_UP && !c->closing)
            conn_check_deadlines(c, now);
    if (!p->closing) {
        log_bucket_flush(p, &p->log_anon, now);
        log_bucket_flush(p, &p->log_known, now);
    }
}

/* ------------------------------------------------------ dialing, accept */

/* The first failure of a run of dial failures is worth an operator's
 * attention; the retries that follow are not. */
static esg_log_level dial_log_level(const conn *c) {
    return c->target && c->target->attempt == 0 ? ESG_LOG_INFO : ESG_LOG_DEBUG;
}

static void on_connect(uv_connect_t *req, int status) {
    conn *c = req->data;
    if (status == UV_ECANCELED || c->closing)
        return;
    if (status < 0) {
        c->p2p->stats.dial_failures++;
        conn_close(c, dial_log_level(c), "dial failed: %s", uv_strerror(status));
        return;
    }
    conn_start(c);
}

static void target_connect(target *t, const struct sockaddr *sa) {
    esg_p2p *p = t->p2p;
    /* No connection count holds a dial back: what fills the counts can be
     * anyone's, the configured peers are the operator's. */
    conn *c = conn_new(p, ESG_P2P_OUTBOUND);
    if (!c) {
        target_schedule(t);
        return;
    }
    c->target = t;
    t->conn = c;
    format_addr(sa, c->addr, sizeof c->addr, c->ip, sizeof c->ip);
    p->stats.dials++;
    uv_timer_start(&c->timer, on_hs_timeout, p->hs_timeout_ms, 0);
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, sa, on_connect);
    if (rc != 0) {
        p->stats.dial_failures++;
        conn_close(c, dial_log_level(c), "dial failed: %s", uv_strerror(rc));
    }
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    target *t = req->data;
    esg_p2p *p = t->p2p;
    t->resolving = false;
    if (p->closing || status < 0) {
        if (!p->closing && status != UV_EAI_CANCELED) {
            p->stats.dial_failures++;
            plog(p, ESG_LOG_DEBUG, "cannot resolve '%s': %s", t->spec, uv_strerror(status));
            target_schedule(t);
        }
        uv_freeaddrinfo(res);
        p2p_unref(p); /* may free p */
        return;
    }
    /* Several addresses ("localhost" may be ::1 and 127.0.0.1): try the
     * next one at each attempt. */
    size_t n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next)
        n++;
    struct addrinfo *a = res;
    for (size_t i = 0; n > 0 && i < t->attempt % n; i++)
        a = a->ai_next;
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    memcpy(&sa, a->ai_addr, a->ai_addrlen < sizeof sa ? a->ai_addrlen : sizeof sa);
    uv_freeaddrinfo(res);
    p2p_unref(p); /* not closing: the listener keeps it above 0 */
    target_connect(t, (const struct sockaddr *)&sa);
}

static void target_dial(target *t) {
    esg_p2p *p = t->p2p;
    if (t->numeric) {
        target_connect(t, (const struct sockaddr *)&t->sa);
        return;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)t->port);
    t->gai.data = t;
    int rc = uv_getaddrinfo(p->loop, &t->gai, on_resolved, t->host, port, &hints);
    if (rc != 0) {
        p->stats.dial_failures++;
        plog(p, ESG_LOG_DEBUG, "cannot resolve '%s': %s", t->spec, uv_strerror(rc));
        target_schedule(t);
        return;
    }
    t->resolving = true;
    p->pending++;
}

/* Inbound connections in the handshake from the IP address `ip`. */
static size_t unauth_count(const esg_p2p *p, const char *ip) {
    size_t n = 0;
    for (const conn *o = p->conns; o; o = o->next)
        n += o->unauth && strcmp(o->ip, ip) == 0;
    return n;
}

/* Whether `o`, in the handshake, has sent nothing: no byte read, and none
 * waiting in the socket (a connection accepted in the same batch as a
 * flood has not been read yet, though its HELLO may be in). */
static bool conn_mute(const conn *o) {
    if (o->state != CONN_HELLO || o->hello_fill > 0)
        return false;
    uv_os_fd_t fd;
    char b;
    if (uv_fileno((const uv_handle_t *)&o->tcp, &fd) != 0)
        return true;
    return recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

/* Whether `o`, in the handshake, is a better one to close than `v` (NULL:
 * none yet) when room must be made: one that has sent nothing first (a
 * peer that means to connect sends its HELLO at once), then the oldest. */
static bool unauth_worse(const conn *o, const conn *v) {
    if (!v)
        return true;
    bool o_mute = conn_mute(o), v_mute = conn_mute(v);
    return o_mute != v_mute ? o_mute : o->id < v->id;
}

/* Finds room in the budget for handshakes for the new inbound `c` (not
 * counted yet), or closes it. Returns whether `c` may go on.
 *   - Its address may hold max_unauth_per_ip. When that share is spent,
 *     the address's oldest connection that has sent no HELLO gives way
 *     (so a peer behind the same address as a silent flood still gets in;
 *     the flood only churns), else `c` is closed.
 *   - When the whole budget is spent, the address holding the most gives
 *     up one (preferring one that has sent no HELLO) if it holds more
 *     than c's address, so a flood from a few addresses cannot keep out
 *     one it does not control; else `c` is closed. */
static bool unauth_admit(esg_p2p *p, conn *c) {
    assert(!c->unauth && c->dir == ESG_P2P_INBOUND);
    size_t mine = unauth_count(p, c->ip);
    conn *victim = NULL;
    if (mine >= p->max_unauth_per_ip) {
        for (conn *o = p->conns; o; o = o->next)
            if (o->unauth && strcmp(o->ip, c->ip) == 0 && conn_mute(o) &&
                unauth_worse(o, victim))
                victim = o;
        if (!victim) {
            p->stats.unauth_full++;
            conn_close(c, ESG_LOG_WARN,
                       "too many connections in the handshake from %s (limit %zu)", c->ip,
                       p->max_unauth_per_ip);
            return false;
        }
        p->stats.unauth_evicted++;
        conn_close(victim, ESG_LOG_WARN,
                   "evicted to make room: its address has %zu connections in the handshake "
                   "(limit %zu) and this one sent no hello",
                   mine, p->max_unauth_per_ip);
    } else if (p->n_unauth >= p->max_unauth) {
        size_t most = 0;
        for (conn *o = p->conns; o; o = o->next) {
            if (!o->unauth)
                continue;
            size_t n = unauth_count(p, o->ip);
            if (n > most || (n == most && unauth_worse(o, victim))) {
                most = n;
                victim = o;
            }
        }
        if (!victim || most <= mine) {
            p->stats.unauth_full++;
            conn_close(c, ESG_LOG_WARN, "too many connections in the handshake (limit %zu)",
                       p->max_unauth);
            return false;
        }
        p->stats.unauth_evicted++;
        conn_close(victim, ESG_LOG_WARN,
                   "evicted to make room in the handshake budget: its address holds %zu, "
                   "the most of any",
                   most);
    }
    c->unauth = true;
    p->n_unauth++;
    return true;
}

static void on_accept_timer(uv_timer_t *timer);

/* Takes the connection libuv holds for the listener (there is one). If
 * none can be allocated it is left there (libuv stops watching the
 * listener meanwhile) and taken again after ACCEPT_RETRY_MS. */
static void accept_pending(esg_p2p *p) {
    conn *c = conn_new(p, ESG_P2P_INBOUND);
    if (!c) {
        plog_limited(p, &p->log_anon, ESG_LOG_ERROR, "out of memory accepting a connection");
        uv_timer_start(&p->accept_timer, on_accept_timer, ACCEPT_RETRY_MS, 0);
        return;
    }
    int rc = uv_accept((uv_stream_t *)&p->listener, (uv_stream_t *)&c->tcp);
    if (rc != 0) {
        conn_close(c, ESG_LOG_WARN, "accept failed: %s", uv_strerror(rc));
        return;
    }
    struct sockaddr_storage sa;
    int salen = sizeof sa;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &salen) == 0)
        format_addr((const struct sockaddr *)&sa, c->addr, sizeof c->addr, c->ip, sizeof c->ip);
    p->stats.accepted++;
    if (!unauth_admit(p, c))
        return;
    uv_timer_start(&c->timer, on_hs_timeout, p->hs_timeout_ms, 0);
    conn_start(c);
}

static void on_accept_timer(uv_timer_t *timer) {
    esg_p2p *p = timer->data;
    if (p->closing)
        return;
    p->accept_burst = 0;
    accept_pending(p);
}

static void on_connection(uv_stream_t *server, int status) {
    esg_p2p *p = server->data;
    if (p->closing)
        return;
    if (status < 0) {
        plog_limited(p, &p->log_anon, ESG_LOG_WARN, "accept failed: %s", uv_strerror(status));
        return;
    }
    /* libuv calls this in a loop for as long as accept(2) succeeds, and a
     * flood that reconnects as fast as we close (a closed socket's peer
     * sees it at once) keeps the backlog from ever emptying: the loop
     * would never read a peer's socket again. So after ACCEPT_BATCH in one
     * turn of the loop the connection is left with libuv, which stops
     * watching the listener, and taken by a zero timer after the loop has
     * polled everything else. */
    uint64_t now = uv_now(p->loop);
    if (now != p->accept_ms) {
        p->accept_ms = now;
        p->accept_burst = 0;
    }
    if (++p->accept_burst > ACCEPT_BATCH) {
        p->stats.accept_pauses++;
        uv_timer_start(&p->accept_timer, on_accept_timer, 0, 0);
        return;
    }
    accept_pending(p);
}

/* ------------------------------------------------------------ public API */

static void on_target_timer_closed(uv_handle_t *h) {
    target *t = h->data;
    p2p_unref(t->p2p);
}

/* Allocates and parses a target; no handle yet, so it can be freed. */
static int target_create(target **out, esg_p2p *p, const char *spec, char *err, size_t errlen) {
    *out = NULL;
    target *t = calloc(1, sizeof *t);
    if (!t)
        return ESG_ERR_NOMEM;
    if (!spec || strlen(spec) >= sizeof t->spec ||
        parse_hostport(spec, t->host, sizeof t->host, &t->port, false) != 0) {
        free(t);
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "peer '%.100s' is not HOST:PORT", spec ? spec : "");
    }
    snprintf(t->spec, sizeof t->spec, "%s", spec);
    t->p2p = p;
    t->numeric = numeric_addr(t->host, t->port, &t->sa) == 0;
    *out = t;
    return ESG_OK;
}

/* Gives a created target (already in p->targets) its timer. */
static void target_attach(esg_p2p *p, target *t) {
    uv_timer_init(p->loop, &t->timer);
    t->timer.data = t;
    p->pending++;
    if (p->started)
        uv_timer_start(&t->timer, on_target_timer, 0, 0);
}

int esg_p2p_new(esg_p2p **out, uv_loop_t *loop, const esg_p2p_config *cfg, char *err,
                size_t errlen) {
    assert(out && loop && cfg && cfg->allow);
    *out = NULL;
    if (!cfg->chain_id || !esg_chain_id_valid(cfg->chain_id))
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "chain id '%.80s' is not 1..64 of [A-Za-z0-9._-]",
                        cfg->chain_id ? cfg->chain_id : "");
    size_t max_frame = cfg->max_frame ? cfg->max_frame : ESG_P2P_DEFAULT_MAX_FRAME;
    size_t cap = cfg->write_queue_cap ? cfg->write_queue_cap : ESG_P2P_DEFAULT_QUEUE_CAP;
    uint64_t b0 = cfg->backoff_initial_ms ? cfg->backoff_initial_ms
                                          : ESG_P2P_DEFAULT_BACKOFF_INITIAL_MS;
    uint64_t b1 = cfg->backoff_max_ms ? cfg->backoff_max_ms : ESG_P2P_DEFAULT_BACKOFF_MAX_MS;
    if (max_frame > ESG_P2P_MAX_FRAME_LIMIT)
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "max_frame %zu is over %zu", max_frame, ESG_P2P_MAX_FRAME_LIMIT);
    if (cap < max_frame + ESG_P2P_FRAME_OVERHEAD)
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "write_queue_cap %zu cannot hold one frame of max_frame %zu", cap,
                        max_frame);
    if (b1 < b0)
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "backoff_max_ms %" PRIu64 " is below backoff_initial_ms %" PRIu64, b1, b0);
    if (cfg->nonce_limit != 0 && cfg->nonce_limit < 3)
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "nonce_limit %" PRIu64 " leaves no frame after the handshake",
                        cfg->nonce_limit);
    if (cfg->n_peers > ESG_P2P_MAX_TARGETS)
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "more than %d peers", ESG_P2P_MAX_TARGETS);
    size_t max_unauth = cfg->max_unauth ? cfg->max_unauth : ESG_P2P_DEFAULT_MAX_UNAUTH;
    size_t per_ip = cfg->max_unauth_per_ip ? cfg->max_unauth_per_ip
                    : max_unauth < ESG_P2P_DEFAULT_MAX_UNAUTH_PER_IP
                        ? max_unauth
                        : ESG_P2P_DEFAULT_MAX_UNAUTH_PER_IP;
    if (per_ip > max_unauth)
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "max_unauth_per_ip %zu is above max_unauth %zu", per_ip, max_unauth);
    uint32_t log_burst = cfg->log_burst ? cfg->log_burst : ESG_P2P_DEFAULT_LOG_BURST;
    uint64_t log_interval = cfg->log_interval_ms ? cfg->log_interval_ms
                                                 : ESG_P2P_DEFAULT_LOG_INTERVAL_MS;
    esg_ratelimit probe;
    if (esg_ratelimit_init(&probe, log_burst, log_interval, 0) != ESG_OK)
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "log_burst %" PRIu32 " or log_interval_ms %" PRIu64 " out of range",
                        log_burst, log_interval);
    esg_pubkey pk;
    int rc = esg_key_pubkey(&pk, &cfg->node_key);
    if (rc != ESG_OK)
        return esg_errf(err, errlen, rc, "the node key is not a valid secret key");
    if (sodium_init() < 0)
        return esg_errf(err, errlen, ESG_ERR_INTERNAL, "libsodium cannot start");
    esg_p2p *p = calloc(1, sizeof *p);
    if (!p)
        return ESG_ERR_NOMEM;
    p->loop = loop;
    p->sk = cfg->node_key;
    p->pk = pk;
    snprintf(p->chain_id, sizeof p->chain_id, "%s", cfg->chain_id);
    p->allow = cfg->allow;
    p->on_message = cfg->on_message;
    p->on_peer_up = cfg->on_peer_up;
    p->on_peer_down = cfg->on_peer_down;
    p->ctx = cfg->ctx;
    p->log = cfg->log;
    p->max_frame = max_frame;
    p->queue_cap = cap;
    p->max_conns = cfg->max_conns ? cfg->max_conns : ESG_P2P_DEFAULT_MAX_CONNS;
    p->max_unauth = max_unauth;
    p->max_unauth_per_ip = per_ip;
    p->frame_timeout_ms = cfg->frame_timeout_ms ? cfg->frame_timeout_ms
                                                : ESG_P2P_DEFAULT_FRAME_MS;
    p->write_timeout_ms = cfg->write_timeout_ms ? cfg->write_timeout_ms
                                                : ESG_P2P_DEFAULT_WRITE_MS;
    uint64_t now = uv_now(loop);
    esg_ratelimit_init(&p->log_anon.rl, log_burst, log_interval, now);
    esg_ratelimit_init(&p->log_known.rl, log_burst, log_interval, now);
    p->log_anon.what = "connections in the handshake";
    p->log_known.what = "peers and dials";
    p->hs_timeout_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
                                                 : ESG_P2P_DEFAULT_HANDSHAKE_MS;
    p->backoff_initial_ms = b0;
    p->backoff_max_ms = b1;
    p->nonce_limit = cfg->nonce_limit ? cfg->nonce_limit : UINT64_MAX;
    if (cfg->jitter_seed)
        p->rng = cfg->jitter_seed;
    else
        randombytes_buf(&p->rng, sizeof p->rng);
    esg_keymap_init(&p->peers);
    esg_keymap_init(&p->key_scores);

    if (cfg->listen_addr && cfg->listen_addr[0]) {
        char host[256];
        uint16_t port;
        if (strlen(cfg->listen_addr) >= sizeof p->listen_spec ||
            parse_hostport(cfg->listen_addr, host, sizeof host, &port, true) != 0 ||
            numeric_addr(host, port, &p->listen_sa) != 0) {
            esg_errf(err, errlen, ESG_OK, "listen address '%.100s' is not a numeric IP:PORT",
                                          cfg->listen_addr);
            sodium_memzero(p, sizeof *p);
            free(p);
            return ESG_ERR_INVALID_ARGUMENT;
        }
        snprintf(p->listen_spec, sizeof p->listen_spec, "%s", cfg->listen_addr);
        p->has_listen = true;
    }
    /* Every allocation that can fail comes before the first handle, so a
     * failure frees synchronously and leaves nothing in the loop. */
    if (cfg->n_peers > 0 && !(p->targets = calloc(cfg->n_peers, sizeof *p->targets)))
        rc = ESG_ERR_NOMEM;
    for (size_t i = 0; rc == ESG_OK && i < cfg->n_peers; i++) {
        bool dup = false;
        for (size_t j = 0; j < p->n_targets; j++)
            dup = dup || (cfg->peers[i] && strcmp(p->targets[j]->spec, cfg->peers[i]) == 0);
        if (dup)
            continue;
        rc = target_create(&p->targets[p->n_targets], p, cfg->peers[i], err, errlen);
        if (rc == ESG_OK)
            p->n_targets++;
    }
    if (rc != ESG_OK) {
        for (size_t i = 0; i < p->n_targets; i++)
            free(p->targets[i]);
        free(p->targets);
        sodium_memzero(p, sizeof *p);
        free(p);
        return rc;
    }
    uv_tcp_init(loop, &p->listener);
    p->listener.data = p;
    uv_timer_init(loop, &p->sweep);
    p->sweep.data = p;
    uv_timer_init(loop, &p->accept_timer);
    p->accept_timer.data = p;
    p->pending = 3;
    for (size_t i = 0; i < p->n_targets; i++)
        target_attach(p, p->targets[i]);
    *out = p;
    return ESG_OK;
}

int esg_p2p_start(esg_p2p *p, char *err, size_t errlen) {
    assert(p && !p->started && !p->closing);
    p->started = true;
    /* A tenth of the shorter deadline, 10 ms to 1 s: a deadline is met
     * within that much. Housekeeping only: it never keeps the loop alive. */
    uint64_t tick = (p->frame_timeout_ms < p->write_timeout_ms ? p->frame_timeout_ms
                                                                 : p->write_timeout_ms) /
                    10;
    tick = tick < 10 ? 10 : tick > 1000 ? 1000 : tick;
    uv_timer_start(&p->sweep, on_sweep, tick, tick);
    uv_unref((uv_handle_t *)&p->sweep);
    if (p->has_listen) {
        int rc = uv_tcp_bind(&p->listener, (const struct sockaddr *)&p->listen_sa, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&p->listener, LISTEN_BACKLOG, on_connection);
        if (rc != 0)
            return esg_errf(err, errlen, ESG_ERR_IO,
                            "cannot listen on %s: %s", p->listen_spec, uv_strerror(rc));
        struct sockaddr_storage sa;
        int salen = sizeof sa;
        if (uv_tcp_getsockname(&p->listener, (struct sockaddr *)&sa, &salen) == 0) {
            char name[64];
            format_addr((const struct sockaddr *)&sa, name, sizeof name, NULL, 0);
            p->port = sa.ss_family == AF_INET6
                          ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
                          : ntohs(((struct sockaddr_in *)&sa)->sin_port);
            char k[65];
            esg_hex_encode(k, p->pk.b, 32);
            plog(p, ESG_LOG_INFO, "listening on %s as %s (chain '%s')", name, k, p->chain_id);
        }
    }
    for (size_t i = 0; i < p->n_targets; i++)
        uv_timer_start(&p->targets[i]->timer, on_target_timer, 0, 0);
    return ESG_OK;
}

int esg_p2p_add_peer(esg_p2p *p, const char *hostport) {
    assert(p && hostport && !p->closing);
    for (size_t i = 0; i < p->n_targets; i++)
        if (strcmp(p->targets[i]->spec, hostport) == 0)
            return ESG_OK;
    if (p->n_targets >= ESG_P2P_MAX_TARGETS)
        return ESG_ERR_INVALID_ARGUMENT;
    target *t;
    int rc = target_create(&t, p, hostport, NULL, 0);
    if (rc != ESG_OK)
        return rc;
    target **v = realloc(p->targets, (p->n_targets + 1) * sizeof *v);
    if (!v) {
        free(t);
        return ESG_ERR_NOMEM;
    }
    p->targets = v;
    p->targets[p->n_targets++] = t;
    target_attach(p, t);
    return ESG_OK;
}

uint16_t esg_p2p_port(const esg_p2p *p) {
    assert(p);
    return p->port;
}

const esg_pubkey *esg_p2p_pubkey(const esg_p2p *p) {
    assert(p);
    return &p->pk;
}

int esg_p2p_send(esg_p2p *p, const esg_pubkey *peer, const uint8_t *data, size_t len) {
    assert(p && peer && (data || len == 0) && !p->closing);
    if (len > p->max_frame)
        return ESG_ERR_TOO_LARGE;
    conn *c = esg_keymap_get(&p->peers, peer->b);
    if (!c)
        return ESG_ERR_NOT_FOUND;
    int rc = conn_send_frame(c, data, len);
    if (rc == ESG_OK) {
        c->frames_out++;
        p->stats.frames_out++;
    }
    return rc;
}

int esg_p2p_broadcast(esg_p2p *p, const uint8_t *data, size_t len, const esg_pubkey *except,
                      size_t *sent) {
    assert(p && (data || len == 0) && !p->closing);
    if (sent)
        *sent = 0;
    if (len > p->max_frame)
        return ESG_ERR_TOO_LARGE;
    /* Conns are unlinked only in close callbacks, never during this loop,
     * so walking the list survives peers dropped on the way. */
    for (conn *c = p->conns; c && !p->closing; c = c->next) {
        if (!c->active || c->closing || (except && memcmp(except->b, c->key.b, 32) == 0))
            continue;
        if (conn_send_frame(c, data, len) == ESG_OK) {
            c->frames_out++;
            p->stats.frames_out++;
            if (sent)
                (*sent)++;
        }
    }
    return ESG_OK;
}

size_t esg_p2p_peers(const esg_p2p *p, esg_p2p_peer_info *out, size_t max) {
    assert(p && (out || max == 0));
    size_t n = 0;
    for (const conn *c = p->conns; c; c = c->next) {
        if (!c->active)
            continue;
        if (n < max)
            conn_info(c, &out[n]);
        n++;
    }
    return n;
}

bool esg_p2p_peer_get(const esg_p2p *p, const esg_pubkey *key, esg_p2p_peer_info *out) {
    assert(p && key && out);
    const conn *c = esg_keymap_get(&p->peers, key->b);
    if (!c)
        return false;
    conn_info(c, out);
    return true;
}

void esg_p2p_stats_get(const esg_p2p *p, esg_p2p_stats *out) {
    assert(p && out);
    *out = p->stats;
    out->peers = p->peers.n;
    out->connections = p->n_conns;
    out->unauth = p->n_unauth;
}

int esg_p2p_punish(esg_p2p *p, const esg_pubkey *key, uint32_t points, const char *why) {
    assert(p && key && why && !p->closing);
    uint32_t score = key_score_add(p, key, points);
    p->stats.misbehaviour++;
    conn *c = esg_keymap_get(&p->peers, key->b);
    if (!c)
        return ESG_ERR_NOT_FOUND;
    conn_close(c, ESG_LOG_WARN, "%s (misbehaviour score of its key now %" PRIu32 ")", why, score);
    return ESG_OK;
}

int esg_p2p_disconnect(esg_p2p *p, const esg_pubkey *key, const char *why) {
    assert(p && key && why && !p->closing);
    conn *c = esg_keymap_get(&p->peers, key->b);
    if (!c)
        return ESG_ERR_NOT_FOUND;
    conn_close(c, ESG_LOG_INFO, "%s", why);
    return ESG_OK;
}

void esg_p2p_close(esg_p2p *p, void (*on_closed)(void *), void *arg) {
    assert(p && !p->closing);
    p->closing = true;
    p->on_closed = on_closed;
    p->closed_arg = arg;
    for (conn *c = p->conns; c; c = c->next)
        conn_close(c, ESG_LOG_DEBUG, "shutting down");
    for (size_t i = 0; i < p->n_targets; i++) {
        target *t = p->targets[i];
        if (t->resolving)
            uv_cancel((uv_req_t *)&t->gai);
        uv_close((uv_handle_t *)&t->timer, on_target_timer_closed);
    }
    uv_close((uv_handle_t *)&p->sweep, on_p2p_handle_closed);
    uv_close((uv_handle_t *)&p->accept_timer, on_p2p_handle_closed);
    uv_close((uv_handle_t *)&p->listener, on_p2p_handle_closed);
}
