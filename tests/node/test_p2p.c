/* node/p2p.c and node/p2p_handshake.c: the peer transport.
 *
 * The handshake and cipher are checked in memory first. Then real nodes
 * run on 127.0.0.1 (port 0) on one libuv loop in the test's thread, and a
 * raw TCP client (uv_tcp) written here speaks the wire format of
 * docs/P2P.md straight from libsodium and the node key -- not through
 * p2p_handshake.h -- so it checks the documented format, and can send what
 * a real node never would: garbage, oversized prefixes, corrupted frames,
 * a stream one byte per read, a socket that stops reading.
 *
 * Waiting is always "run the loop until a condition holds", bounded by a
 * generous deadline timer; there are no sleeps. Every test ends with every
 * p2p closed and uv_loop_close() == 0.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keys.h"
#include "node/p2p.h"
#include "node/p2p_handshake.h"
#include "uvwait.h"

#define CHAIN "esg-test"
#define DEADLINE_MS 30000

/* ------------------------------------------------------------ the loop */

static uv_loop_t loop;
static tu_deadline deadline;

/* Runs the loop until `cond` holds; fails the test after DEADLINE_MS. */
#define RUN_UNTIL(cond) TU_RUN_UNTIL(&loop, &deadline, DEADLINE_MS, cond)

/* ---------------------------------------------------------- test nodes */

typedef struct msg {
    esg_pubkey from;
    uint8_t *data;
    size_t len;
} msg;

typedef struct tnode {
    esg_p2p *p2p;
    esg_p2p_config cfg;
    esg_seckey sk;
    esg_pubkey pk;
    char listen[64];
    char peer_spec[4][64];
    const char *peers[4];
    esg_pubkey refuse[4];
    size_t n_refuse;
    msg *msgs;
    size_t n_msgs, cap_msgs;
    int ups, downs;
    char last_down[400];
    bool closing, closed;
    bool echo;           /* send every message starting with 'E' back, as 'R' */
    bool close_on_msg;   /* close the p2p from inside on_message */
    char *logbuf;
    size_t loglen;
    FILE *logf;
    esg_logger lg;
} tnode;

#define MAX_NODES 8
static tnode *nodes[MAX_NODES];
static size_t n_nodes;

static bool t_allow(void *ctx, const esg_pubkey *key, char *why, size_t whylen) {
    tnode *n = ctx;
    for (size_t i = 0; i < n->n_refuse; i++)
        if (memcmp(n->refuse[i].b, key->b, 32) == 0) {
            snprintf(why, whylen, "not a validator or allowed observer of chain '%s'", CHAIN);
            return false;
        }
    return true;
}

static void on_node_closed(void *arg);

static void t_on_message(void *ctx, const esg_pubkey *peer, const uint8_t *data, size_t len) {
    tnode *n = ctx;
    if (n->n_msgs == n->cap_msgs) {
        n->cap_msgs = n->cap_msgs ? 2 * n->cap_msgs : 64;
        n->msgs = realloc(n->msgs, n->cap_msgs * sizeof *n->msgs);
        ck_assert_ptr_nonnull(n->msgs);
    }
    msg *m = &n->msgs[n->n_msgs++];
    m->from = *peer;
    m->len = len;
    m->data = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(m->data);
    if (len)
        memcpy(m->data, data, len);
    if (n->echo && len > 0 && data[0] == 'E') {
        m->data[0] = 'R';
        ck_assert_int_eq(esg_p2p_send(n->p2p, peer, m->data, len), ESG_OK);
        m->data[0] = 'E';
    }
    if (n->close_on_msg && !n->closing) {
        n->closing = true;
        esg_p2p_close(n->p2p, on_node_closed, n);
    }
}

static void t_on_up(void *ctx, const esg_p2p_peer_info *peer) {
    tnode *n = ctx;
    ck_assert_int_eq(esg_pubkey_check(&peer->key), ESG_OK);
    n->ups++;
}

static void t_on_down(void *ctx, const esg_p2p_peer_info *peer, const char *why) {
    tnode *n = ctx;
    (void)peer;
    n->downs++;
    snprintf(n->last_down, sizeof n->last_down, "%s", why);
}

/* A node with a fresh key, listening on 127.0.0.1:0, fast backoff. Change
 * n->cfg before tnode_start. */
static void tnode_setup(tnode *n, const char *chain) {
    memset(n, 0, sizeof *n);
    ck_assert_int_eq(esg_key_generate(&n->sk, &n->pk), ESG_OK);
    n->logf = open_memstream(&n->logbuf, &n->loglen);
    ck_assert_ptr_nonnull(n->logf);
    n->lg.level = ESG_LOG_DEBUG;
    n->lg.out = n->logf;
    snprintf(n->listen, sizeof n->listen, "127.0.0.1:0");
    n->cfg.chain_id = chain;
    n->cfg.node_key = n->sk;
    n->cfg.listen_addr = n->listen;
    n->cfg.peers = n->peers;
    n->cfg.allow = t_allow;
    n->cfg.on_message = t_on_message;
    n->cfg.on_peer_up = t_on_up;
    n->cfg.on_peer_down = t_on_down;
    n->cfg.ctx = n;
    n->cfg.log = &n->lg;
    n->cfg.handshake_timeout_ms = 5000;
    n->cfg.backoff_initial_ms = 10;
    n->cfg.backoff_max_ms = 40;
    n->cfg.jitter_seed = 42;
    ck_assert_uint_lt(n_nodes, MAX_NODES);
    nodes[n_nodes++] = n;
}

static void tnode_dial(tnode *n, uint16_t port) {
    ck_assert_uint_lt(n->cfg.n_peers, 4);
    size_t i = n->cfg.n_peers++;
    snprintf(n->peer_spec[i], sizeof n->peer_spec[i], "127.0.0.1:%u", (unsigned)port);
    n->peers[i] = n->peer_spec[i];
}

static void on_node_closed(void *arg) {
    tnode *n = arg;
    n->closed = true;
    n->p2p = NULL;
}

static void tnode_start(tnode *n) {
    char err[256] = "";
    n->closing = n->closed = false;
    int rc = esg_p2p_new(&n->p2p, &loop, &n->cfg, err, sizeof err);
    ck_assert_msg(rc == ESG_OK, "esg_p2p_new: %s", err);
    rc = esg_p2p_start(n->p2p, err, sizeof err);
    ck_assert_msg(rc == ESG_OK, "esg_p2p_start: %s", err);
}

static void tnode_close(tnode *n) {
    if (n->p2p && !n->closing) {
        n->closing = true;
        esg_p2p_close(n->p2p, on_node_closed, n);
    }
}

static uint16_t port_of(const tnode *n) {
    uint16_t p = esg_p2p_port(n->p2p);
    ck_assert_uint_ne(p, 0);
    return p;
}

static esg_p2p_stats stats_of(const tnode *n) {
    esg_p2p_stats s;
    esg_p2p_stats_get(n->p2p, &s);
    return s;
}

static size_t npeers(const tnode *n) {
    return n->p2p ? esg_p2p_peers(n->p2p, NULL, 0) : 0;
}

static bool has_peer(const tnode *n, const esg_pubkey *k) {
    esg_p2p_peer_info info;
    return n->p2p && esg_p2p_peer_get(n->p2p, k, &info);
}

static bool log_has(tnode *n, const char *s) {
    fflush(n->logf);
    return n->logbuf && strstr(n->logbuf, s) != NULL;
}

static size_t msgs_from(const tnode *n, const esg_pubkey *k) {
    size_t c = 0;
    for (size_t i = 0; i < n->n_msgs; i++)
        c += memcmp(n->msgs[i].from.b, k->b, 32) == 0;
    return c;
}

/* ------------------------------------------------------ the raw client */

typedef struct raw {
    uv_tcp_t tcp;
    uv_connect_t creq;
    bool connected, eof, closed, used;
    int connect_status;
    uint8_t *rx;
    size_t rxlen, rxcap, rxoff;
    uint8_t eph_pk[32], eph_sk[32], peer_eph[32];
    uint8_t krx[32], ktx[32];
    uint64_t ctr_tx, ctr_rx;
} raw;

#define MAX_RAWS 8
static raw *raws[MAX_RAWS];
static size_t n_raws;

static void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    (void)h;
    b->base = malloc(suggested);
    b->len = b->base ? suggested : 0;
}

static void raw_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    raw *r = s->data;
    if (n > 0) {
        if (r->rxlen + (size_t)n > r->rxcap) {
            r->rxcap = (r->rxlen + (size_t)n) * 2;
            r->rx = realloc(r->rx, r->rxcap);
            ck_assert_ptr_nonnull(r->rx);
        }
        memcpy(r->rx + r->rxlen, b->base, (size_t)n);
        r->rxlen += (size_t)n;
    } else if (n < 0) {
        r->eof = true;
        uv_read_stop(s);
    }
    free(b->base);
}

static void raw_on_connect(uv_connect_t *req, int status) {
    raw *r = req->data;
    r->connect_status = status;
    r->connected = true;
}

static void raw_connect(raw *r, uint16_t port) {
    memset(r, 0, sizeof *r);
    ck_assert_uint_lt(n_raws, MAX_RAWS);
    raws[n_raws++] = r;
    r->used = true;
    ck_assert_int_eq(uv_tcp_init(&loop, &r->tcp), 0);
    r->tcp.data = r;
    r->creq.data = r;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    ck_assert_int_eq(uv_tcp_connect(&r->creq, &r->tcp, (struct sockaddr *)&sa, raw_on_connect), 0);
    RUN_UNTIL(r->connected);
    ck_assert_int_eq(r->connect_status, 0);
    uv_tcp_nodelay(&r->tcp, 1);
    ck_assert_int_eq(uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_on_read), 0);
}

static void raw_on_write(uv_write_t *req, int status) {
    (void)status; /* the node may have hung up: that is what some tests want */
    free(req);
}

static void raw_write(raw *r, const void *data, size_t len) {
    uv_write_t *req = malloc(sizeof *req + len);
    ck_assert_ptr_nonnull(req);
    memcpy(req + 1, data, len);
    uv_buf_t b = uv_buf_init((char *)(req + 1), (unsigned)len);
    ck_assert_int_eq(uv_write(req, (uv_stream_t *)&r->tcp, &b, 1, raw_on_write), 0);
}

/* Writes one byte at a time, each only after `obs` has read the previous
 * one, so every read on the node carries exactly one byte. */
static void raw_write_bytewise(raw *r, const uint8_t *data, size_t len, tnode *obs) {
    for (size_t i = 0; i < len; i++) {
        uint64_t before = stats_of(obs).bytes_in;
        raw_write(r, data + i, 1);
        RUN_UNTIL(stats_of(obs).bytes_in > before);
    }
}

static void raw_send(raw *r, const void *data, size_t len, tnode *bytewise_obs) {
    if (bytewise_obs)
        raw_write_bytewise(r, data, len, bytewise_obs);
    else
        raw_write(r, data, len);
}

/* The next n received bytes (waits for them). */
static const uint8_t *raw_take(raw *r, size_t n) {
    RUN_UNTIL(r->rxlen - r->rxoff >= n || r->eof);
    ck_assert_msg(r->rxlen - r->rxoff >= n, "connection closed after %zu bytes", r->rxlen);
    const uint8_t *p = r->rx + r->rxoff;
    r->rxoff += n;
    return p;
}

static void raw_close_cb(uv_handle_t *h) {
    raw *r = h->data;
    r->closed = true;
}

static void raw_close(raw *r) {
    if (r->used && !uv_is_closing((uv_handle_t *)&r->tcp))
        uv_close((uv_handle_t *)&r->tcp, raw_close_cb);
}

/* docs/P2P.md, written again from libsodium: nonce = 16 zero bytes || u64
 * big-endian counter, AD = the 4-byte big-endian length prefix. */
static void nonce_for(uint8_t n[24], uint64_t ctr) {
    memset(n, 0, 24);
    for (int i = 0; i < 8; i++)
        n[23 - i] = (uint8_t)(ctr >> (8 * i));
}

/* Seals `len` bytes into `out` (4 + len + 16 bytes); returns the size. */
static size_t raw_seal(raw *r, uint8_t *out, const void *plain, size_t len) {
    uint32_t L = (uint32_t)(len + 16);
    out[0] = (uint8_t)(L >> 24);
    out[1] = (uint8_t)(L >> 16);
    out[2] = (uint8_t)(L >> 8);
    out[3] = (uint8_t)L;
    uint8_t nonce[24];
    nonce_for(nonce, r->ctr_tx++);
    unsigned long long clen;
    ck_assert_int_eq(crypto_aead_xchacha20poly1305_ietf_encrypt(out + 4, &clen, plain, len, out,
                                                                4, NULL, nonce, r->ktx),
                     0);
    ck_assert_uint_eq(clen, L);
    return 4 + (size_t)L;
}

static void raw_send_frame(raw *r, const void *plain, size_t len, tnode *bytewise_obs) {
    uint8_t *f = malloc(len + 20);
    ck_assert_ptr_nonnull(f);
    size_t n = raw_seal(r, f, plain, len);
    raw_send(r, f, n, bytewise_obs);
    free(f);
}

/* Reads and opens the next frame; returns its plaintext length in *len
 * (the buffer is malloc'ed: free it). */
static uint8_t *raw_recv_frame(raw *r, size_t *len) {
    const uint8_t *pre = raw_take(r, 4);
    uint8_t prefix[4];
    memcpy(prefix, pre, 4);
    uint32_t L = (uint32_t)prefix[0] << 24 | (uint32_t)prefix[1] << 16 |
                 (uint32_t)prefix[2] << 8 | prefix[3];
    ck_assert_uint_ge(L, 16);
    const uint8_t *c = raw_take(r, L);
    uint8_t *m = malloc(L);
    ck_assert_ptr_nonnull(m);
    uint8_t nonce[24];
    nonce_for(nonce, r->ctr_rx++);
    unsigned long long mlen;
    ck_assert_int_eq(crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, NULL, c, L, prefix, 4,
                                                                nonce, r->krx),
                     0);
    *len = (size_t)mlen;
    return m;
}

static esg_hash raw_transcript(const char *chain, const uint8_t ei[32], const uint8_t er[32],
                               uint8_t role) {
    uint8_t buf[2 + 64 + 32 + 32 + 1];
    size_t n = strlen(chain), o = 0;
    buf[o++] = 1;
    buf[o++] = (uint8_t)n;
    memcpy(buf + o, chain, n);
    o += n;
    memcpy(buf + o, ei, 32);
    o += 32;
    memcpy(buf + o, er, 32);
    o += 32;
    buf[o++] = role;
    return esg_hash_tagged(ESG_TAG_P2P, buf, o);
}

static void raw_hello(raw *r, tnode *bytewise_obs) {
    uint8_t hello[37] = {'E', 'S', 'G', 'P', 1};
    crypto_kx_keypair(r->eph_pk, r->eph_sk);
    memcpy(hello + 5, r->eph_pk, 32);
    raw_send(r, hello, sizeof hello, bytewise_obs);
}

/* Reads the node's HELLO and derives the keys (we are the initiator). */
static void raw_read_hello(raw *r) {
    const uint8_t *h = raw_take(r, 37);
    ck_assert_mem_eq(h, "ESGP\x01", 5);
    memcpy(r->peer_eph, h + 5, 32);
    ck_assert_int_eq(crypto_kx_client_session_keys(r->krx, r->ktx, r->eph_pk, r->eph_sk,
                                                   r->peer_eph),
                     0);
}

static void raw_send_auth(raw *r, const char *chain, const esg_seckey *sk, const esg_pubkey *pk,
                          tnode *bytewise_obs) {
    esg_hash t = raw_transcript(chain, r->eph_pk, r->peer_eph, 1);
    esg_sig sig;
    ck_assert_int_eq(esg_sign(&sig, sk, &t), ESG_OK);
    uint8_t auth[161] = {0};
    memcpy(auth, pk->b, 32);
    memcpy(auth + 32, sig.b, 64);
    auth[96] = (uint8_t)strlen(chain);
    memcpy(auth + 97, chain, strlen(chain));
    raw_send_frame(r, auth, sizeof auth, bytewise_obs);
}

/* A whole handshake as initiator with node `srv`: the node must accept. */
static void raw_handshake(raw *r, tnode *srv, const esg_seckey *sk, const esg_pubkey *pk,
                          tnode *bytewise_obs) {
    raw_hello(r, bytewise_obs);
    raw_read_hello(r);
    raw_send_auth(r, CHAIN, sk, pk, bytewise_obs);
    size_t len;
    uint8_t *a = raw_recv_frame(r, &len);
    ck_assert_uint_eq(len, 161);
    ck_assert_mem_eq(a, srv->pk.b, 32);
    esg_sig sig;
    memcpy(sig.b, a + 32, 64);
    esg_hash t = raw_transcript(CHAIN, r->eph_pk, r->peer_eph, 2);
    ck_assert(esg_verify(&sig, &t, &srv->pk));
    ck_assert_uint_eq(a[96], strlen(CHAIN));
    free(a);
    uint8_t v = 1;
    raw_send_frame(r, &v, 1, bytewise_obs);
    uint8_t *vv = raw_recv_frame(r, &len);
    ck_assert_uint_eq(len, 1);
    ck_assert_uint_eq(vv[0], 1);
    free(vv);
}

/* -------------------------------------------------------- begin and end */

static void loop_begin(void) {
    signal(SIGPIPE, SIG_IGN); /* as esgnode must (p2p.h) */
    n_nodes = n_raws = 0;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tu_deadline_init(&deadline, &loop), 0);
}

static bool all_closed(void) {
    for (size_t i = 0; i < n_nodes; i++)
        if (nodes[i]->closing && !nodes[i]->closed)
            return false;
    for (size_t i = 0; i < n_raws; i++)
        if (raws[i]->used && !raws[i]->closed)
            return false;
    return true;
}

/* Closes every node and raw client, runs the loop until all are gone and
 * checks the loop closes: nothing was left running. */
static void loop_end(void) {
    for (size_t i = 0; i < n_nodes; i++)
        tnode_close(nodes[i]);
    for (size_t i = 0; i < n_raws; i++)
        raw_close(raws[i]);
    RUN_UNTIL(all_closed());
    uv_close((uv_handle_t *)&deadline.timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    for (size_t i = 0; i < n_nodes; i++) {
        tnode *n = nodes[i];
        fflush(n->logf);
        if (getenv("ESG_P2P_TEST_LOGS")) /* for debugging: every node's log */
            fprintf(stderr, "--- node %zu\n%s", i, n->logbuf ? n->logbuf : "");
        for (size_t j = 0; j < n->n_msgs; j++)
            free(n->msgs[j].data);
        free(n->msgs);
        fclose(n->logf);
        free(n->logbuf);
        esg_seckey_wipe(&n->sk);
    }
    for (size_t i = 0; i < n_raws; i++)
        free(raws[i]->rx);
}

/* A port that was free a moment ago (for a listener that starts later). */
static uint16_t free_port(void) {
    uv_tcp_t t;
    uv_tcp_init(&loop, &t);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    ck_assert_int_eq(uv_tcp_bind(&t, (struct sockaddr *)&sa, 0), 0);
    ck_assert_int_eq(uv_listen((uv_stream_t *)&t, 1, NULL), 0);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    ck_assert_int_eq(uv_tcp_getsockname(&t, (struct sockaddr *)&ss, &len), 0);
    uint16_t port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return port;
}

/* Two nodes, b dialing a, both up. */
static void pair_up(tnode *a, tnode *b) {
    tnode_setup(a, CHAIN);
    tnode_start(a);
    tnode_setup(b, CHAIN);
    tnode_dial(b, port_of(a));
    tnode_start(b);
    RUN_UNTIL(has_peer(a, &b->pk) && has_peer(b, &a->pk));
}

/* Sends one message each way and waits for both. */
static void check_alive(tnode *a, tnode *b) {
    size_t na = msgs_from(a, &b->pk), nb = msgs_from(b, &a->pk);
    const uint8_t m[] = "still here";
    ck_assert_int_eq(esg_p2p_send(a->p2p, &b->pk, m, sizeof m), ESG_OK);
    ck_assert_int_eq(esg_p2p_send(b->p2p, &a->pk, m, sizeof m), ESG_OK);
    RUN_UNTIL(msgs_from(a, &b->pk) == na + 1 && msgs_from(b, &a->pk) == nb + 1);
    ck_assert_mem_eq(a->msgs[a->n_msgs - 1].data, m, sizeof m);
    ck_assert_mem_eq(b->msgs[b->n_msgs - 1].data, m, sizeof m);
}

/* Payload i of a sequence: 4-byte big-endian i, then i % 50 pattern bytes. */
static size_t seq_msg(uint8_t *out, uint32_t i, uint8_t salt) {
    out[0] = (uint8_t)(i >> 24);
    out[1] = (uint8_t)(i >> 16);
    out[2] = (uint8_t)(i >> 8);
    out[3] = (uint8_t)i;
    size_t n = i % 50;
    for (size_t j = 0; j < n; j++)
        out[4 + j] = (uint8_t)(i * 7 + j * 13 + salt);
    return 4 + n;
}

static uint8_t *big_msg(size_t len, uint8_t salt) {
    uint8_t *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    for (size_t j = 0; j < len; j++)
        b[j] = (uint8_t)((j * 2654435761u) >> 13) ^ salt;
    return b;
}

/* ============================================== handshake, in memory */

static void hs_pair(esg_p2p_hs *i, esg_p2p_hs *r, const char *ci, const char *cr) {
    uint8_t hi[ESG_P2P_HELLO_LEN], hr[ESG_P2P_HELLO_LEN];
    ck_assert_int_eq(esg_p2p_hs_init(i, hi, ESG_P2P_INITIATOR, ci, 0), ESG_OK);
    ck_assert_int_eq(esg_p2p_hs_init(r, hr, ESG_P2P_RESPONDER, cr, 0), ESG_OK);
    ck_assert_int_eq(esg_p2p_hs_read_hello(i, hr), ESG_OK);
    ck_assert_int_eq(esg_p2p_hs_read_hello(r, hi), ESG_OK);
}

START_TEST(test_hs_roundtrip) {
    esg_seckey ski, skr;
    esg_pubkey pki, pkr, got;
    ck_assert_int_eq(esg_key_generate(&ski, &pki), ESG_OK);
    ck_assert_int_eq(esg_key_generate(&skr, &pkr), ESG_OK);
    esg_p2p_hs i, r;
    hs_pair(&i, &r, CHAIN, CHAIN);
    /* One key per direction, agreed by both. */
    ck_assert_mem_eq(i.tx.key, r.rx.key, 32);
    ck_assert_mem_eq(i.rx.key, r.tx.key, 32);
    ck_assert(memcmp(i.tx.key, i.rx.key, 32) != 0);
    /* The ephemeral secrets are gone once the keys exist. */
    static const uint8_t zero[32];
    ck_assert_mem_eq(i.eph_sk, zero, 32);
    /* The transcripts are the documented ones. */
    esg_hash ti = raw_transcript(CHAIN, i.eph_pk, r.eph_pk, 1);
    esg_hash tr = raw_transcript(CHAIN, i.eph_pk, r.eph_pk, 2);
    ck_assert(esg_hash_eq(&i.own_transcript, &ti) && esg_hash_eq(&r.peer_transcript, &ti));
    ck_assert(esg_hash_eq(&r.own_transcript, &tr) && esg_hash_eq(&i.peer_transcript, &tr));
    esg_hash t2 = esg_p2p_transcript(CHAIN, strlen(CHAIN), i.eph_pk, r.eph_pk, ESG_P2P_INITIATOR);
    ck_assert(esg_hash_eq(&t2, &ti));

    uint8_t ai[ESG_P2P_AUTH_LEN], ar[ESG_P2P_AUTH_LEN];
    char chain[ESG_P2P_CHAIN_ID_MAX + 1];
    ck_assert_int_eq(esg_p2p_hs_auth(&i, ai, &ski, &pki), ESG_OK);
    ck_assert_int_eq(esg_p2p_hs_auth(&r, ar, &skr, &pkr), ESG_OK);
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, ai), ESG_OK);
    ck_assert_mem_eq(got.b, pki.b, 32);
    ck_assert_str_eq(chain, CHAIN);
    ck_assert_int_eq(esg_p2p_hs_check_auth(&i, &got, chain, ar), ESG_OK);
    ck_assert_mem_eq(got.b, pkr.b, 32);

    /* Frames of several sizes, both ways. */
    size_t sizes[] = {0, 1, 15, 16, 17, 1000, 70000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *p = big_msg(n + 1, (uint8_t)k), *f = malloc(n + 20);
        ck_assert_int_eq(esg_p2p_cipher_seal(&i.tx, f, p, n), ESG_OK);
        ck_assert_uint_eq(esg_p2p_be32(f), n + 16);
        ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, f + 4, n + 16, f), ESG_OK);
        ck_assert(n == 0 || memcmp(f + 4, p, n) == 0);
        ck_assert_int_eq(esg_p2p_cipher_seal(&r.tx, f, p, n), ESG_OK);
        ck_assert_int_eq(esg_p2p_cipher_open(&i.rx, f + 4, n + 16, f), ESG_OK);
        ck_assert(n == 0 || memcmp(f + 4, p, n) == 0);
        free(p);
        free(f);
    }
    ck_assert_uint_eq(i.tx.next, 7);
    ck_assert_uint_eq(r.rx.next, 7);
    esg_p2p_hs_wipe(&i);
    esg_p2p_hs_wipe(&r);
    ck_assert_mem_eq(i.tx.key, zero, 32);
    esg_seckey_wipe(&ski);
    esg_seckey_wipe(&skr);
}
END_TEST

START_TEST(test_hs_failures) {
    esg_seckey ski, skr;
    esg_pubkey pki, pkr, got;
    ck_assert_int_eq(esg_key_generate(&ski, &pki), ESG_OK);
    ck_assert_int_eq(esg_key_generate(&skr, &pkr), ESG_OK);
    esg_p2p_hs i, r;
    uint8_t hi[ESG_P2P_HELLO_LEN], h[ESG_P2P_HELLO_LEN];
    char chain[ESG_P2P_CHAIN_ID_MAX + 1];

    /* Chain ids: 1..64 bytes. */
    char long_chain[66];
    memset(long_chain, 'a', 65);
    long_chain[65] = '\0';
    ck_assert_int_eq(esg_p2p_hs_init(&i, hi, ESG_P2P_INITIATOR, "", 0), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_p2p_hs_init(&i, hi, ESG_P2P_INITIATOR, long_chain, 0),
                     ESG_ERR_INVALID_ARGUMENT);

    /* Hello: magic, version, reflection, a low-order key. */
    ck_assert_int_eq(esg_p2p_hs_init(&i, hi, ESG_P2P_INITIATOR, CHAIN, 0), ESG_OK);
    memcpy(h, hi, sizeof h);
    h[0] = 'X';
    ck_assert_int_eq(esg_p2p_hs_read_hello(&i, h), ESG_ERR_DECODE);
    memcpy(h, hi, sizeof h);
    h[4] = 2;
    ck_assert_int_eq(esg_p2p_hs_read_hello(&i, h), ESG_ERR_DECODE);
    ck_assert_int_eq(esg_p2p_hs_read_hello(&i, hi), ESG_ERR_BAD_PUBKEY);
    memset(h + 5, 0, 32);
    h[4] = 1;
    ck_assert_int_eq(esg_p2p_hs_read_hello(&i, h), ESG_ERR_BAD_PUBKEY);

    /* A peer on another chain: its signature covers its chain, not ours. */
    hs_pair(&i, &r, CHAIN, "other-chain");
    uint8_t ai[ESG_P2P_AUTH_LEN], ar[ESG_P2P_AUTH_LEN], bad[ESG_P2P_AUTH_LEN];
    ck_assert_int_eq(esg_p2p_hs_auth(&i, ai, &ski, &pki), ESG_OK);
    ck_assert_int_eq(esg_p2p_hs_auth(&r, ar, &skr, &pkr), ESG_OK);
    ck_assert_int_eq(esg_p2p_hs_check_auth(&i, &got, chain, ar), ESG_ERR_CHAIN_ID);
    ck_assert_str_eq(chain, "other-chain");
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, ai), ESG_ERR_CHAIN_ID);
    ck_assert_str_eq(chain, CHAIN);
    /* ... and lying about the chain in AUTH does not help. */
    memcpy(bad, ar, sizeof bad);
    memset(bad + 96, 0, 65);
    bad[96] = (uint8_t)strlen(CHAIN);
    memcpy(bad + 97, CHAIN, strlen(CHAIN));
    ck_assert_int_eq(esg_p2p_hs_check_auth(&i, &got, chain, bad), ESG_ERR_BAD_SIGNATURE);

    /* Same chain: tampered signature, our own AUTH reflected back (signed
     * for the other role), a key that is not on the curve, bad padding,
     * bad chain id lengths. */
    hs_pair(&i, &r, CHAIN, CHAIN);
    ck_assert_int_eq(esg_p2p_hs_auth(&i, ai, &ski, &pki), ESG_OK);
    memcpy(bad, ai, sizeof bad);
    bad[40] ^= 1;
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, bad), ESG_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(esg_p2p_hs_check_auth(&i, &got, chain, ai), ESG_ERR_BAD_SIGNATURE);
    memcpy(bad, ai, sizeof bad);
    memcpy(bad, pkr.b, 32); /* someone else's key */
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, bad), ESG_ERR_BAD_SIGNATURE);
    memcpy(bad, ai, sizeof bad);
    memset(bad, 0xff, 32);
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, bad), ESG_ERR_BAD_PUBKEY);
    memcpy(bad, ai, sizeof bad);
    bad[ESG_P2P_AUTH_LEN - 1] = 1;
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, bad), ESG_ERR_DECODE);
    memcpy(bad, ai, sizeof bad);
    bad[96] = 0;
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, bad), ESG_ERR_DECODE);
    bad[96] = 65;
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, bad), ESG_ERR_DECODE);
    ck_assert_int_eq(esg_p2p_hs_check_auth(&r, &got, chain, ai), ESG_OK);
    esg_p2p_hs_wipe(&i);
    esg_p2p_hs_wipe(&r);
    esg_seckey_wipe(&ski);
    esg_seckey_wipe(&skr);
}
END_TEST

START_TEST(test_cipher) {
    esg_p2p_hs i, r;
    hs_pair(&i, &r, CHAIN, CHAIN);
    uint8_t f1[20 + 5], f2[20 + 5], copy[sizeof f1];
    ck_assert_int_eq(esg_p2p_cipher_seal(&i.tx, f1, (const uint8_t *)"first", 5), ESG_OK);
    ck_assert_int_eq(esg_p2p_cipher_seal(&i.tx, f2, (const uint8_t *)"secnd", 5), ESG_OK);
    /* Out of order: frame 1 where 0 is expected fails; nothing advances. */
    memcpy(copy, f2, sizeof copy);
    ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, copy + 4, 21, copy), ESG_ERR_BAD_SIGNATURE);
    ck_assert_uint_eq(r.rx.next, 0);
    /* The length prefix is authenticated. */
    memcpy(copy, f1, sizeof copy);
    copy[3] ^= 1;
    ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, copy + 4, 21, copy), ESG_ERR_BAD_SIGNATURE);
    /* A flipped ciphertext or tag bit fails. */
    for (size_t k = 4; k < sizeof f1; k++) {
        memcpy(copy, f1, sizeof copy);
        copy[k] ^= 0x80;
        ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, copy + 4, 21, copy), ESG_ERR_BAD_SIGNATURE);
    }
    memcpy(copy, f1, sizeof copy);
    ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, copy + 4, 21, copy), ESG_OK);
    ck_assert_mem_eq(copy + 4, "first", 5);
    /* Replaying frame 0 fails: the counter moved on. */
    memcpy(copy, f1, sizeof copy);
    ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, copy + 4, 21, copy), ESG_ERR_BAD_SIGNATURE);
    ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, f2 + 4, 21, f2), ESG_OK);
    ck_assert_mem_eq(f2 + 4, "secnd", 5);
    ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, f2 + 4, 15, f2), ESG_ERR_DECODE);
    /* The limit: a counter is never used twice, and never past it. */
    i.tx.limit = 3;
    r.rx.limit = 2;
    ck_assert_int_eq(esg_p2p_cipher_seal(&i.tx, f1, (const uint8_t *)"third", 5), ESG_OK);
    ck_assert_int_eq(esg_p2p_cipher_seal(&i.tx, f1, (const uint8_t *)"fourth", 5),
                     ESG_ERR_OVERFLOW);
    ck_assert_uint_eq(i.tx.next, 3);
    ck_assert_int_eq(esg_p2p_cipher_open(&r.rx, f1 + 4, 21, f1), ESG_ERR_OVERFLOW);
    /* Without a limit, the last counter is UINT64_MAX - 1. */
    i.tx.limit = UINT64_MAX;
    i.tx.next = UINT64_MAX - 1;
    ck_assert_int_eq(esg_p2p_cipher_seal(&i.tx, f1, NULL, 0), ESG_OK);
    ck_assert_int_eq(esg_p2p_cipher_seal(&i.tx, f1, NULL, 0), ESG_ERR_OVERFLOW);
    esg_p2p_hs_wipe(&i);
    esg_p2p_hs_wipe(&r);
}
END_TEST

/* =================================================== on real sockets */

START_TEST(test_config_errors) {
    loop_begin();
    tnode a;
    tnode_setup(&a, CHAIN);
    esg_p2p *p = NULL;
    char err[256];
    struct {
        const char *field, *value, *want;
    } cases[] = {
        {"chain", "", "chain id"},
        {"chain", "has space", "chain id"},
        {"listen", "127.0.0.1", "listen address"},
        {"listen", "127.0.0.1:65536", "listen address"},
        {"listen", "localhost:0", "listen address"},
        {"listen", "::1:80", "listen address"},
        {"peer", "127.0.0.1:0", "is not HOST:PORT"},
        {"peer", "nocolon", "is not HOST:PORT"},
        {"peer", "[::1]80", "is not HOST:PORT"},
        {"peer", "host:12a", "is not HOST:PORT"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        esg_p2p_config c = a.cfg;
        const char *peer[1] = {cases[k].value};
        if (strcmp(cases[k].field, "chain") == 0)
            c.chain_id = cases[k].value;
        else if (strcmp(cases[k].field, "listen") == 0)
            c.listen_addr = cases[k].value;
        else {
            c.peers = peer;
            c.n_peers = 1;
        }
        err[0] = '\0';
        ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
        ck_assert_ptr_null(p);
        ck_assert_msg(strstr(err, cases[k].want), "'%s': %s", cases[k].value, err);
    }
    esg_p2p_config c = a.cfg;
    c.max_frame = 1000;
    c.write_queue_cap = 1019;
    ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "write_queue_cap"));
    c = a.cfg;
    c.max_frame = ESG_P2P_MAX_FRAME_LIMIT + 1;
    c.write_queue_cap = ESG_P2P_MAX_FRAME_LIMIT * 2;
    ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    c = a.cfg;
    c.backoff_initial_ms = 100;
    c.backoff_max_ms = 50;
    ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    c = a.cfg;
    c.nonce_limit = 2;
    ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    c = a.cfg;
    c.max_unauth = 3;
    c.max_unauth_per_ip = 4;
    ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "max_unauth_per_ip 4 is above max_unauth 3"), "%s", err);
    c = a.cfg;
    c.log_burst = ESG_RATELIMIT_MAX_BURST + 1;
    ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "log_burst"));
    c = a.cfg;
    c.log_interval_ms = ESG_RATELIMIT_MAX_INTERVAL_MS + 1;
    ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(p);
    c = a.cfg;
    memset(&c.node_key, 0, sizeof c.node_key);
    ck_assert_int_eq(esg_p2p_new(&p, &loop, &c, err, sizeof err), ESG_ERR_BAD_SECRET);
    ck_assert_ptr_null(p);

    /* A port in use: start fails with the reason; the p2p still closes. */
    tnode_start(&a);
    tnode b;
    tnode_setup(&b, CHAIN);
    snprintf(b.listen, sizeof b.listen, "127.0.0.1:%u", (unsigned)port_of(&a));
    ck_assert_int_eq(esg_p2p_new(&b.p2p, &loop, &b.cfg, err, sizeof err), ESG_OK);
    ck_assert_int_eq(esg_p2p_start(b.p2p, err, sizeof err), ESG_ERR_IO);
    ck_assert_msg(strstr(err, "cannot listen on 127.0.0.1:") &&
                      strstr(err, "address already in use"),
                  "%s", err);
    ck_assert_uint_eq(esg_p2p_port(b.p2p), 0);

    /* A node that only dials has no port; a p2p never started closes too. */
    tnode d;
    tnode_setup(&d, CHAIN);
    d.cfg.listen_addr = NULL;
    ck_assert_int_eq(esg_p2p_new(&d.p2p, &loop, &d.cfg, err, sizeof err), ESG_OK);
    ck_assert_int_eq(esg_p2p_add_peer(d.p2p, "bad"), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_p2p_add_peer(d.p2p, "127.0.0.1:9"), ESG_OK);
    ck_assert_int_eq(esg_p2p_add_peer(d.p2p, "127.0.0.1:9"), ESG_OK); /* once */
    ck_assert_uint_eq(esg_p2p_port(d.p2p), 0);
    ck_assert_mem_eq(esg_p2p_pubkey(d.p2p)->b, d.pk.b, 32);
    loop_end();
}
END_TEST

START_TEST(test_exchange) {
    loop_begin();
    tnode a, b;
    pair_up(&a, &b);
    ck_assert_int_eq(a.ups, 1);
    ck_assert_int_eq(b.ups, 1);

    /* What each side knows of the other. */
    esg_p2p_peer_info pa, pb;
    ck_assert_uint_eq(esg_p2p_peers(a.p2p, &pa, 1), 1);
    ck_assert_mem_eq(pa.key.b, b.pk.b, 32);
    ck_assert_int_eq(pa.dir, ESG_P2P_INBOUND);
    ck_assert_int_eq(strncmp(pa.addr, "127.0.0.1:", 10), 0);
    ck_assert(esg_p2p_peer_get(b.p2p, &a.pk, &pb));
    ck_assert_int_eq(pb.dir, ESG_P2P_OUTBOUND);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%u", (unsigned)port_of(&a));
    ck_assert_str_eq(pb.addr, want);
    ck_assert_uint_eq(pb.score, 0);
    ck_assert(log_has(&a, "up (inbound)") && log_has(&b, "up (outbound)"));

    /* 1000 small frames each way, sent in one go: they arrive in order and
     * intact, many per read. */
    uint64_t reads0 = stats_of(&a).reads;
    uint8_t buf[64];
    for (uint32_t k = 0; k < 1000; k++) {
        size_t n = seq_msg(buf, k, 1);
        ck_assert_int_eq(esg_p2p_send(b.p2p, &a.pk, buf, n), ESG_OK);
        n = seq_msg(buf, k, 2);
        ck_assert_int_eq(esg_p2p_send(a.p2p, &b.pk, buf, n), ESG_OK);
    }
    RUN_UNTIL(a.n_msgs == 1000 && b.n_msgs == 1000);
    for (uint32_t k = 0; k < 1000; k++) {
        size_t n = seq_msg(buf, k, 1);
        ck_assert_uint_eq(a.msgs[k].len, n);
        ck_assert_mem_eq(a.msgs[k].data, buf, n);
        ck_assert_mem_eq(a.msgs[k].from.b, b.pk.b, 32);
        n = seq_msg(buf, k, 2);
        ck_assert_uint_eq(b.msgs[k].len, n);
        ck_assert_mem_eq(b.msgs[k].data, buf, n);
    }
    ck_assert_uint_lt(stats_of(&a).reads - reads0, 100);

    /* A 7 MiB frame each way, an empty frame, then a small one after. */
    size_t big = (size_t)7 << 20;
    uint8_t *ba = big_msg(big, 0x11), *bb = big_msg(big, 0x22);
    ck_assert_int_eq(esg_p2p_send(a.p2p, &b.pk, ba, big), ESG_OK);
    ck_assert_int_eq(esg_p2p_send(b.p2p, &a.pk, bb, big), ESG_OK);
    ck_assert_int_eq(esg_p2p_send(a.p2p, &b.pk, NULL, 0), ESG_OK);
    ck_assert_int_eq(esg_p2p_send(b.p2p, &a.pk, (const uint8_t *)"after", 5), ESG_OK);
    RUN_UNTIL(a.n_msgs == 1002 && b.n_msgs == 1002);
    ck_assert_uint_eq(a.msgs[1000].len, big);
    ck_assert_mem_eq(a.msgs[1000].data, bb, big);
    ck_assert_uint_eq(b.msgs[1000].len, big);
    ck_assert_mem_eq(b.msgs[1000].data, ba, big);
    ck_assert_uint_eq(b.msgs[1001].len, 0);
    ck_assert_uint_eq(a.msgs[1001].len, 5);
    ck_assert_mem_eq(a.msgs[1001].data, "after", 5);
    free(ba);
    free(bb);

    /* Sending from inside on_message (b echoes). */
    b.echo = true;
    ck_assert_int_eq(esg_p2p_send(a.p2p, &b.pk, (const uint8_t *)"Eping", 5), ESG_OK);
    RUN_UNTIL(a.n_msgs == 1003);
    ck_assert_mem_eq(a.msgs[1002].data, "Rping", 5);

    /* Accounting. */
    ck_assert(esg_p2p_peer_get(a.p2p, &b.pk, &pa));
    ck_assert_uint_eq(pa.frames_in, 1003);
    ck_assert_uint_eq(pa.frames_out, 1003);
    ck_assert_uint_gt(pa.bytes_in, big);
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_eq(s.peers, 1);
    ck_assert_uint_eq(s.connections, 1);
    ck_assert_uint_eq(s.frames_in, 1003);
    ck_assert_uint_eq(s.rx_buffered, 0);
    ck_assert_uint_eq(s.misbehaviour, 0);
    ck_assert_uint_eq(s.handshakes, 1);
    loop_end();
}
END_TEST

START_TEST(test_refused_key) {
    loop_begin();
    tnode a, b, c;
    pair_up(&a, &b);
    tnode_setup(&c, CHAIN);
    a.refuse[a.n_refuse++] = c.pk;
    tnode_dial(&c, port_of(&a));
    tnode_start(&c);
    /* c keeps redialing (with backoff) and is refused every time. */
    RUN_UNTIL(stats_of(&a).refused >= 3);
    ck_assert_int_eq(a.ups, 1);
    ck_assert_int_eq(c.ups, 0);
    ck_assert(!has_peer(&a, &c.pk) && !has_peer(&c, &a.pk));
    esg_hex32 hc = esg_pubkey_hex(&c.pk);
    char want[200];
    snprintf(want, sizeof want, "refused key %s: not a validator or allowed observer of chain '%s'",
             hc.s, CHAIN);
    ck_assert_msg(log_has(&a, want), "%s", a.logbuf);
    ck_assert_uint_eq(stats_of(&c).peers, 0);
    ck_assert(log_has(&c, "refused our key") || log_has(&c, "during the handshake"));
    ck_assert_int_eq(esg_p2p_send(c.p2p, &a.pk, (const uint8_t *)"x", 1), ESG_ERR_NOT_FOUND);
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &c.pk), 0); /* refusal is policy, not misbehaviour */

    /* A refused client that ignores the verdict and sends a frame at once
     * right behind its AUTH: nothing is delivered. */
    esg_seckey skr;
    esg_pubkey pkr;
    ck_assert_int_eq(esg_key_generate(&skr, &pkr), ESG_OK);
    a.refuse[a.n_refuse++] = pkr;
    raw r;
    raw_connect(&r, port_of(&a));
    raw_hello(&r, NULL);
    raw_read_hello(&r);
    uint64_t refused = stats_of(&a).refused;
    raw_send_auth(&r, CHAIN, &skr, &pkr, NULL);
    uint8_t v = 1;
    raw_send_frame(&r, &v, 1, NULL);
    raw_send_frame(&r, "sneaky", 6, NULL);
    RUN_UNTIL(r.eof);
    ck_assert_uint_eq(stats_of(&a).refused, refused + 1);
    ck_assert_uint_eq(msgs_from(&a, &pkr), 0);
    ck_assert_uint_eq(msgs_from(&a, &c.pk), 0);
    esg_seckey_wipe(&skr);

    check_alive(&a, &b);
    loop_end();
}
END_TEST

START_TEST(test_wrong_chain) {
    loop_begin();
    tnode a, d;
    tnode_setup(&a, CHAIN);
    tnode_start(&a);
    tnode_setup(&d, "other-chain");
    tnode_dial(&d, port_of(&a));
    tnode_start(&d);
    RUN_UNTIL(stats_of(&a).chain_mismatches >= 1 && stats_of(&d).chain_mismatches >= 1);
    ck_assert_msg(log_has(&a, "chain id mismatch: peer key") &&
                      log_has(&a, "is on chain 'other-chain', this node is on 'esg-test'"),
                  "%s", a.logbuf);
    ck_assert(log_has(&d, "is on chain 'esg-test', this node is on 'other-chain'"));
    ck_assert_int_eq(a.ups + d.ups, 0);
    ck_assert_uint_eq(esg_p2p_addr_score(a.p2p, "127.0.0.1"), 0);
    ck_assert_uint_eq(stats_of(&a).misbehaviour, 0);
    loop_end();
}
END_TEST

START_TEST(test_garbage_and_oversize_before_auth) {
    loop_begin();
    tnode a, b;
    pair_up(&a, &b);

    /* Not our protocol at all. */
    raw g;
    raw_connect(&g, port_of(&a));
    const char http[] = "GET / HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n";
    raw_write(&g, http, sizeof http - 1);
    RUN_UNTIL(g.eof);
    ck_assert_uint_eq(esg_p2p_addr_score(a.p2p, "127.0.0.1"), ESG_P2P_PENALTY);
    ck_assert(log_has(&a, "bad hello"));

    /* A valid hello, then a 4 GiB length prefix: dropped before any
     * allocation (only the prefix is sent). */
    raw o;
    raw_connect(&o, port_of(&a));
    raw_hello(&o, NULL);
    raw_read_hello(&o);
    const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    raw_write(&o, huge, 4);
    RUN_UNTIL(o.eof);
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_eq(s.oversize_frames, 1);
    ck_assert_uint_eq(s.rx_buffered, 0);
    ck_assert_uint_eq(esg_p2p_addr_score(a.p2p, "127.0.0.1"), 2 * ESG_P2P_PENALTY);
    ck_assert(log_has(&a, "frame length 4294967295 outside 177..177 during the handshake"));

    /* A hello, then an AUTH frame whose tag does not verify. */
    raw t;
    raw_connect(&t, port_of(&a));
    raw_hello(&t, NULL);
    raw_read_hello(&t);
    uint8_t frame[4 + 161 + 16];
    uint8_t zeros[161] = {0};
    raw_seal(&t, frame, zeros, sizeof zeros);
    frame[50] ^= 1;
    raw_write(&t, frame, sizeof frame);
    RUN_UNTIL(t.eof);
    ck_assert_uint_eq(stats_of(&a).bad_frames, 1);
    ck_assert_uint_eq(esg_p2p_addr_score(a.p2p, "127.0.0.1"), 3 * ESG_P2P_PENALTY);

    /* The real peer carries on. */
    ck_assert_int_eq(a.downs, 0);
    ck_assert_uint_eq(stats_of(&a).misbehaviour, 3);
    check_alive(&a, &b);
    loop_end();
}
END_TEST

START_TEST(test_bad_frames_after_auth) {
    loop_begin();
    tnode a, b;
    tnode_setup(&a, CHAIN);
    a.cfg.max_frame = 1000;
    a.cfg.write_queue_cap = 1 << 20;
    tnode_start(&a);
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk));

    /* An allowed client: a frame at the limit passes, a corrupted one
     * closes the connection and scores its key. */
    esg_seckey sk1, sk2;
    esg_pubkey pk1, pk2;
    ck_assert_int_eq(esg_key_generate(&sk1, &pk1), ESG_OK);
    ck_assert_int_eq(esg_key_generate(&sk2, &pk2), ESG_OK);
    raw r;
    raw_connect(&r, port_of(&a));
    raw_handshake(&r, &a, &sk1, &pk1, NULL);
    RUN_UNTIL(has_peer(&a, &pk1));
    uint8_t *m = big_msg(1000, 3);
    raw_send_frame(&r, m, 1000, NULL);
    RUN_UNTIL(msgs_from(&a, &pk1) == 1);
    ck_assert_mem_eq(a.msgs[a.n_msgs - 1].data, m, 1000);
    uint8_t frame[4 + 10 + 16];
    raw_seal(&r, frame, "corrupted!", 10);
    frame[4 + 3] ^= 0x40;
    raw_write(&r, frame, sizeof frame);
    RUN_UNTIL(r.eof);
    ck_assert(!has_peer(&a, &pk1));
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &pk1), ESG_P2P_PENALTY);
    ck_assert_uint_eq(msgs_from(&a, &pk1), 1);
    ck_assert_uint_eq(stats_of(&a).bad_frames, 1);
    ck_assert(log_has(&a, "failed authentication (misbehaviour score of its key now 100)"));
    ck_assert_int_eq(a.downs, 1);
    ck_assert_ptr_nonnull(strstr(a.last_down, "failed authentication"));

    /* Another: one byte over the limit, then the 4 GiB prefix on a third
     * connection of the same key. */
    raw o;
    raw_connect(&o, port_of(&a));
    raw_handshake(&o, &a, &sk2, &pk2, NULL);
    RUN_UNTIL(has_peer(&a, &pk2));
    uint8_t pre[4] = {0, 0, (1000 + 17) >> 8, (1000 + 17) & 0xff};
    raw_write(&o, pre, 4);
    RUN_UNTIL(o.eof);
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &pk2), ESG_P2P_PENALTY);
    raw o2;
    raw_connect(&o2, port_of(&a));
    raw_handshake(&o2, &a, &sk2, &pk2, NULL);
    RUN_UNTIL(has_peer(&a, &pk2));
    const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
    raw_write(&o2, huge, 4);
    RUN_UNTIL(o2.eof);
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &pk2), 2 * ESG_P2P_PENALTY);
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_eq(s.oversize_frames, 2);
    ck_assert_uint_eq(s.rx_buffered, 0);
    ck_assert_uint_eq(s.misbehaviour, 3);
    ck_assert(log_has(&a, "frame length 4294967295 outside 16..1016 (the frame limit)"));
    ck_assert_uint_eq(esg_p2p_addr_score(a.p2p, "127.0.0.1"), 0);

    /* And b never noticed. */
    check_alive(&a, &b);
    free(m);
    esg_seckey_wipe(&sk1);
    esg_seckey_wipe(&sk2);
    loop_end();
}
END_TEST

START_TEST(test_bytewise) {
    loop_begin();
    tnode a;
    tnode_setup(&a, CHAIN);
    tnode_start(&a);
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    raw r;
    raw_connect(&r, port_of(&a));
    uint64_t reads0 = stats_of(&a).reads, bytes0 = stats_of(&a).bytes_in;
    /* Hello, AUTH and verdict one byte per read, then three frames. */
    raw_handshake(&r, &a, &sk, &pk, &a);
    RUN_UNTIL(has_peer(&a, &pk));
    uint8_t *m = big_msg(300, 9);
    raw_send_frame(&r, NULL, 0, &a);
    raw_send_frame(&r, "x", 1, &a);
    raw_send_frame(&r, m, 300, &a);
    RUN_UNTIL(a.n_msgs == 3);
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_eq(s.bytes_in - bytes0, 37 + 181 + 21 + 20 + 21 + 320);
    ck_assert_uint_eq(s.reads - reads0, s.bytes_in - bytes0); /* one byte per read */
    ck_assert_uint_eq(a.msgs[0].len, 0);
    ck_assert_uint_eq(a.msgs[1].len, 1);
    ck_assert_mem_eq(a.msgs[1].data, "x", 1);
    ck_assert_uint_eq(a.msgs[2].len, 300);
    ck_assert_mem_eq(a.msgs[2].data, m, 300);
    /* And the node's frames reach the raw client intact. */
    ck_assert_int_eq(esg_p2p_send(a.p2p, &pk, m, 300), ESG_OK);
    size_t len;
    uint8_t *got = raw_recv_frame(&r, &len);
    ck_assert_uint_eq(len, 300);
    ck_assert_mem_eq(got, m, 300);
    free(got);
    free(m);
    esg_seckey_wipe(&sk);
    loop_end();
}
END_TEST

START_TEST(test_slow_reader) {
    loop_begin();
    tnode a, b;
    tnode_setup(&a, CHAIN);
    size_t cap = 256 << 10;
    a.cfg.max_frame = 64 << 10;
    a.cfg.write_queue_cap = cap;
    tnode_start(&a);
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk));

    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    raw r;
    raw_connect(&r, port_of(&a));
    raw_handshake(&r, &a, &sk, &pk, NULL);
    RUN_UNTIL(has_peer(&a, &pk));
    uv_read_stop((uv_stream_t *)&r.tcp); /* stops reading for good */

    /* The kernel's buffers fill, then libuv's queue grows to the cap, and
     * the next frame drops the peer instead of growing memory. */
    uint8_t *m = big_msg(64 << 10, 5);
    int rc = ESG_OK;
    size_t sent = 0;
    for (; sent < 20000 && rc == ESG_OK; sent++) {
        rc = esg_p2p_send(a.p2p, &pk, m, 64 << 10);
        esg_p2p_peer_info info;
        if (rc == ESG_OK) {
            ck_assert(esg_p2p_peer_get(a.p2p, &pk, &info));
            ck_assert_uint_le(info.queued_bytes, cap);
        }
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    ck_assert_int_eq(rc, ESG_ERR_PEER_DROPPED);
    ck_assert(!has_peer(&a, &pk));
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_eq(s.slow_drops, 1);
    ck_assert_uint_le(s.queued_peak, cap);
    ck_assert_uint_gt(s.queued_peak, 0);
    ck_assert(log_has(&a, "peer stopped reading"));
    ck_assert_int_eq(esg_p2p_send(a.p2p, &pk, m, 10), ESG_ERR_NOT_FOUND);
    /* Not misbehaviour: a slow peer is dropped, not scored. */
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &pk), 0);
    check_alive(&a, &b);
    free(m);
    esg_seckey_wipe(&sk);
    loop_end();
}
END_TEST

START_TEST(test_reconnect) {
    loop_begin();
    tnode a, b;
    uint16_t port = free_port();
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port);
    tnode_start(&b);
    /* Nothing listens yet: b keeps trying. */
    RUN_UNTIL(stats_of(&b).dial_failures >= 4);
    ck_assert_int_eq(b.ups, 0);

    tnode_setup(&a, CHAIN);
    snprintf(a.listen, sizeof a.listen, "127.0.0.1:%u", (unsigned)port);
    tnode_start(&a);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    check_alive(&a, &b);

    /* a restarts (same key, same port): b notices, redials, reconnects. */
    tnode_close(&a);
    RUN_UNTIL(a.closed && b.downs == 1);
    for (size_t j = 0; j < a.n_msgs; j++)
        free(a.msgs[j].data);
    a.n_msgs = 0;
    tnode_start(&a);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    ck_assert_int_eq(b.ups, 2);
    check_alive(&a, &b);
    ck_assert_uint_gt(stats_of(&b).dials, stats_of(&b).dial_failures);
    loop_end();
}
END_TEST

START_TEST(test_simultaneous_dial) {
    loop_begin();
    tnode a, b;
    uint16_t pa = free_port(), pb = free_port();
    tnode_setup(&a, CHAIN);
    tnode_setup(&b, CHAIN);
    snprintf(a.listen, sizeof a.listen, "127.0.0.1:%u", (unsigned)pa);
    snprintf(b.listen, sizeof b.listen, "127.0.0.1:%u", (unsigned)pb);
    tnode_dial(&a, pb);
    tnode_dial(&b, pa);
    tnode_start(&a);
    tnode_start(&b);
    /* Two connections at first; both nodes keep the same one. */
    RUN_UNTIL(npeers(&a) == 1 && npeers(&b) == 1 && stats_of(&a).connections == 1 &&
              stats_of(&b).connections == 1);
    ck_assert_uint_ge(stats_of(&a).duplicates + stats_of(&b).duplicates, 1);
    ck_assert_int_eq(a.ups - a.downs, 1);
    ck_assert_int_eq(b.ups - b.downs, 1);
    esg_p2p_peer_info ia, ib;
    ck_assert(esg_p2p_peer_get(a.p2p, &b.pk, &ia));
    ck_assert(esg_p2p_peer_get(b.p2p, &a.pk, &ib));
    ck_assert_int_ne(ia.dir, ib.dir);
    /* The kept one was dialed by the smaller key. */
    bool a_smaller = memcmp(a.pk.b, b.pk.b, 32) < 0;
    ck_assert_int_eq(ia.dir, a_smaller ? ESG_P2P_OUTBOUND : ESG_P2P_INBOUND);
    check_alive(&a, &b);
    loop_end();
}
END_TEST

START_TEST(test_handshake_timeout_and_budget) {
    loop_begin();
    tnode a;
    tnode_setup(&a, CHAIN);
    a.cfg.handshake_timeout_ms = 300;
    a.cfg.max_unauth = 2; /* and so 2 per address */
    tnode_start(&a);
    uint64_t t0 = uv_hrtime();
    raw silent, hello1, hello2, extra;
    raw_connect(&silent, port_of(&a));
    raw_connect(&hello1, port_of(&a));
    raw_hello(&hello1, NULL);
    RUN_UNTIL(stats_of(&a).unauth == 2 && stats_of(&a).bytes_in == 37);
    /* The address's share is spent: a newcomer takes the place of the
     * connection that has sent nothing, not of the one in the handshake. */
    raw_connect(&hello2, port_of(&a));
    raw_hello(&hello2, NULL);
    RUN_UNTIL(silent.eof);
    ck_assert_uint_eq(stats_of(&a).unauth_evicted, 1);
    ck_assert(log_has(&a, "evicted to make room: its address has 2 connections in the "
                          "handshake (limit 2) and this one sent no hello"));
    RUN_UNTIL(stats_of(&a).bytes_in == 2 * 37);
    /* Both have sent a HELLO: one more is closed at once. */
    raw_connect(&extra, port_of(&a));
    RUN_UNTIL(extra.eof);
    ck_assert_uint_eq(stats_of(&a).unauth_full, 1);
    ck_assert_uint_eq(stats_of(&a).unauth_evicted, 1);
    ck_assert(log_has(&a, "too many connections in the handshake from 127.0.0.1 (limit 2)"));
    ck_assert(!hello1.eof && !hello2.eof);
    ck_assert_uint_eq(stats_of(&a).unauth, 2);
    /* The two in the handshake are closed at its deadline, not before. */
    RUN_UNTIL(hello1.eof);
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    printf("p2p: silent connection closed after %.0f ms (handshake deadline 300 ms)\n", ms);
    fflush(stdout);
    ck_assert_msg(ms >= 290 && ms < 5000, "closed after %.0f ms", ms);
    RUN_UNTIL(hello2.eof);
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_eq(s.handshake_timeouts, 2);
    ck_assert_uint_eq(s.connections, 0);
    ck_assert_uint_eq(s.unauth, 0);
    ck_assert(log_has(&a, "handshake did not finish within 300 ms"));
    ck_assert_uint_eq(s.misbehaviour, 0);
    /* The budget is free again: a real peer comes up. */
    tnode b;
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    ck_assert_uint_eq(stats_of(&a).unauth, 0);
    loop_end();
}
END_TEST

START_TEST(test_max_conns_established) {
    loop_begin();
    tnode a, b;
    tnode_setup(&a, CHAIN);
    a.cfg.max_conns = 1;
    tnode_start(&a);
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk));
    /* A second allowed key: its handshake would pass max_conns, closed. */
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    raw r;
    raw_connect(&r, port_of(&a));
    raw_hello(&r, NULL);
    raw_read_hello(&r);
    raw_send_auth(&r, CHAIN, &sk, &pk, NULL);
    RUN_UNTIL(r.eof);
    ck_assert_uint_eq(stats_of(&a).too_many, 1);
    ck_assert(log_has(&a, "too many peers (limit 1)"));
    ck_assert(!has_peer(&a, &pk));
    ck_assert_uint_eq(stats_of(&a).unauth, 0);
    /* The peer up is untouched, and a's own dials are not limited by it. */
    tnode c;
    tnode_setup(&c, CHAIN);
    tnode_start(&c);
    char spec[64];
    snprintf(spec, sizeof spec, "127.0.0.1:%u", (unsigned)port_of(&c));
    ck_assert_int_eq(esg_p2p_add_peer(a.p2p, spec), ESG_OK);
    RUN_UNTIL(has_peer(&a, &c.pk) && has_peer(&c, &a.pk));
    ck_assert(has_peer(&a, &b.pk));
    check_alive(&a, &b);
    esg_seckey_wipe(&sk);
    loop_end();
}
END_TEST

START_TEST(test_nonce_limit) {
    loop_begin();
    tnode a, b;
    tnode_setup(&a, CHAIN);
    a.cfg.nonce_limit = 6; /* frames 0, 1: handshake; 2..5: payload */
    tnode_start(&a);
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(esg_p2p_send(a.p2p, &b.pk, (const uint8_t *)"n", 1), ESG_OK);
    ck_assert_int_eq(esg_p2p_send(a.p2p, &b.pk, (const uint8_t *)"n", 1), ESG_ERR_PEER_DROPPED);
    ck_assert_uint_eq(stats_of(&a).counter_exhausted, 1);
    ck_assert(log_has(&a, "frame counter exhausted after 6 frames sent"));
    /* b got the four, lost the connection, and redials. */
    RUN_UNTIL(b.n_msgs == 4 && b.downs == 1);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    /* The receiving side enforces it too. */
    for (int k = 0; k < 5; k++)
        ck_assert_int_eq(esg_p2p_send(b.p2p, &a.pk, (const uint8_t *)"m", 1), ESG_OK);
    RUN_UNTIL(stats_of(&a).counter_exhausted == 2);
    ck_assert_uint_eq(a.n_msgs, 4);
    ck_assert(log_has(&a, "frame counter exhausted after 6 frames received"));
    ck_assert_uint_eq(stats_of(&a).misbehaviour, 0);
    loop_end();
}
END_TEST

START_TEST(test_close_from_callbacks) {
    loop_begin();
    tnode a, b;
    pair_up(&a, &b);
    /* a closes itself on the first of ten frames read together: no second
     * delivery, nothing leaks. */
    a.close_on_msg = true;
    for (int k = 0; k < 10; k++)
        ck_assert_int_eq(esg_p2p_send(b.p2p, &a.pk, (const uint8_t *)"k", 1), ESG_OK);
    RUN_UNTIL(a.closing && b.downs == 1);
    ck_assert_uint_eq(a.n_msgs, 1);

    /* Close in the middle of a 7 MiB frame (a raw client sends 1 MiB of
     * it and stops), with dials and a name lookup pending. */
    tnode c;
    tnode_setup(&c, CHAIN);
    tnode_start(&c);
    ck_assert_int_eq(esg_p2p_add_peer(c.p2p, "127.0.0.1:9"), ESG_OK);
    ck_assert_int_eq(esg_p2p_add_peer(c.p2p, "localhost:9"), ESG_OK);
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    raw r;
    raw_connect(&r, port_of(&c));
    raw_handshake(&r, &c, &sk, &pk, NULL);
    RUN_UNTIL(has_peer(&c, &pk));
    size_t big = (size_t)7 << 20, part = (size_t)1 << 20;
    uint8_t pre[4] = {(uint8_t)((big + 16) >> 24), (uint8_t)((big + 16) >> 16),
                      (uint8_t)((big + 16) >> 8), (uint8_t)(big + 16)};
    raw_write(&r, pre, 4);
    uint8_t *m = big_msg(part, 1);
    uint64_t in0 = stats_of(&c).bytes_in;
    raw_write(&r, m, part);
    RUN_UNTIL(stats_of(&c).bytes_in == in0 + 4 + part);
    /* The body grew with what arrived, not to the announced 7 MiB. */
    ck_assert_uint_ge(stats_of(&c).rx_buffered, part);
    ck_assert_uint_le(stats_of(&c).rx_buffered, 2 * part);
    free(m);
    esg_seckey_wipe(&sk);
    loop_end();
}
END_TEST

START_TEST(test_send_errors_punish_disconnect) {
    loop_begin();
    tnode a, b;
    tnode_setup(&a, CHAIN);
    a.cfg.max_frame = 100;
    a.cfg.write_queue_cap = 1 << 20;
    tnode_start(&a);
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));

    uint8_t m[101] = {0};
    esg_pubkey nobody;
    memset(nobody.b, 7, 32);
    ck_assert_int_eq(esg_p2p_send(a.p2p, &nobody, m, 1), ESG_ERR_NOT_FOUND);
    ck_assert_int_eq(esg_p2p_send(a.p2p, &b.pk, m, 101), ESG_ERR_TOO_LARGE);
    size_t sent = 99;
    ck_assert_int_eq(esg_p2p_broadcast(a.p2p, m, 101, NULL, &sent), ESG_ERR_TOO_LARGE);
    ck_assert_uint_eq(sent, 0);
    ck_assert_int_eq(esg_p2p_broadcast(a.p2p, m, 100, &b.pk, &sent), ESG_OK);
    ck_assert_uint_eq(sent, 0);
    ck_assert_int_eq(esg_p2p_broadcast(a.p2p, (const uint8_t *)"all", 3, NULL, &sent), ESG_OK);
    ck_assert_uint_eq(sent, 1);
    RUN_UNTIL(b.n_msgs == 1);
    ck_assert_mem_eq(b.msgs[0].data, "all", 3);

    /* The layer above punishes: scored, dropped; b (the dialer) comes back. */
    ck_assert_int_eq(esg_p2p_punish(a.p2p, &b.pk, 7, "undecodable P2pMessage"), ESG_OK);
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &b.pk), 7);
    ck_assert(!has_peer(&a, &b.pk));
    ck_assert(log_has(&a, "undecodable P2pMessage (misbehaviour score of its key now 7)"));
    ck_assert_int_eq(esg_p2p_punish(a.p2p, &nobody, 5, "x"), ESG_ERR_NOT_FOUND);
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &nobody), 5);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    esg_p2p_peer_info info;
    ck_assert(esg_p2p_peer_get(a.p2p, &b.pk, &info));
    ck_assert_uint_eq(info.score, 7); /* the score outlived the connection */

    ck_assert_int_eq(esg_p2p_disconnect(a.p2p, &b.pk, "operator asked"), ESG_OK);
    ck_assert_int_eq(esg_p2p_disconnect(a.p2p, &nobody, "x"), ESG_ERR_NOT_FOUND);
    ck_assert(log_has(&a, "operator asked"));
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    ck_assert_int_eq(a.ups, 3);
    ck_assert_int_eq(a.downs, 2);
    loop_end();
}
END_TEST

START_TEST(test_hostname_and_self) {
    loop_begin();
    tnode a, b;
    /* a dials itself: both ends see the same key, and it stops dialing. */
    uint16_t pa = free_port();
    tnode_setup(&a, CHAIN);
    snprintf(a.listen, sizeof a.listen, "127.0.0.1:%u", (unsigned)pa);
    tnode_dial(&a, pa);
    tnode_start(&a);
    RUN_UNTIL(stats_of(&a).self_connections == 2 && stats_of(&a).connections == 0);
    ck_assert(log_has(&a, "is this node: not dialing it again"));
    ck_assert_uint_eq(stats_of(&a).dials, 1);
    ck_assert_int_eq(a.ups, 0);

    /* A host name, resolved on every dial. */
    tnode_setup(&b, CHAIN);
    b.cfg.peers = b.peers;
    snprintf(b.peer_spec[0], sizeof b.peer_spec[0], "localhost:%u", (unsigned)pa);
    b.peers[0] = b.peer_spec[0];
    b.cfg.n_peers = 1;
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    check_alive(&a, &b);
    loop_end();
}
END_TEST

/* ===================================================== hostile peers */

/* A flood of silent connections from 127.0.0.2 .. 127.0.0.(1 + FLOOD_ADDRS)
 * (all loopback on Linux), or all from 127.0.0.1, each reopened as soon as
 * it is closed, until flood_stop. They never send a byte. */
#define FLOOD_MAX 64
#define FLOOD_ADDRS 8

typedef struct flood flood;
typedef struct fconn {
    uv_tcp_t tcp;
    uv_connect_t req;
    flood *f;
    size_t idx;
    bool open;
} fconn;

struct flood {
    uv_loop_t *loop;  /* the test's, or `own` in a thread of its own */
    uv_loop_t own;
    uv_thread_t thread;
    uv_async_t stop;
    fconn c[FLOOD_MAX];
    size_t n;
    uint16_t port;
    bool stopping;
    bool one_addr;    /* all from 127.0.0.1, as the peers */
    size_t open;      /* handles not yet closed */
    uint64_t opened;  /* connections made, reopenings included */
};

static void flood_open(fconn *fc);

static void flood_closed(uv_handle_t *h) {
    fconn *fc = h->data;
    fc->open = false;
    fc->f->open--;
    if (!fc->f->stopping)
        flood_open(fc);
}

static void flood_close(fconn *fc) {
    if (fc->open && !uv_is_closing((uv_handle_t *)&fc->tcp))
        uv_close((uv_handle_t *)&fc->tcp, flood_closed);
}

static void flood_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    static char sink[4096];
    (void)h;
    (void)suggested;
    *b = uv_buf_init(sink, sizeof sink);
}

static void flood_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    (void)b;
    if (n < 0) /* the node closed it: reopen (flood_closed) */
        flood_close(s->data);
}

static void flood_connected(uv_connect_t *req, int status) {
    fconn *fc = req->data;
    if (status < 0 || fc->f->stopping || uv_read_start((uv_stream_t *)&fc->tcp, flood_alloc,
                                                       flood_read) != 0)
        flood_close(fc);
}

static void flood_open(fconn *fc) {
    flood *f = fc->f;
    ck_assert_int_eq(uv_tcp_init(f->loop, &fc->tcp), 0);
    fc->tcp.data = fc->req.data = fc;
    fc->open = true;
    f->open++;
    char ip[32];
    snprintf(ip, sizeof ip, "127.0.0.%zu", f->one_addr ? 1 : 2 + fc->idx % FLOOD_ADDRS);
    struct sockaddr_in src, dst;
    uv_ip4_addr(ip, 0, &src);
    uv_ip4_addr("127.0.0.1", f->port, &dst);
    if (uv_tcp_bind(&fc->tcp, (struct sockaddr *)&src, 0) != 0 ||
        uv_tcp_connect(&fc->req, &fc->tcp, (struct sockaddr *)&dst, flood_connected) != 0) {
        flood_close(fc);
        return;
    }
    f->opened++;
}

static void flood_start(flood *f, uint16_t port, size_t n, bool one_addr) {
    memset(f, 0, sizeof *f);
    ck_assert_uint_le(n, FLOOD_MAX);
    f->n = n;
    f->port = port;
    f->one_addr = one_addr;
    f->loop = &loop;
    for (size_t i = 0; i < n; i++) {
        f->c[i].f = f;
        f->c[i].idx = i;
        flood_open(&f->c[i]);
    }
}

static void flood_stop(flood *f) {
    f->stopping = true;
    for (size_t i = 0; i < f->n; i++)
        flood_close(&f->c[i]);
    RUN_UNTIL(f->open == 0);
}

/* The same flood from a thread with its own loop: it reconnects while the
 * node's loop is still busy, as a flood from another host does. */
static void flood_on_stop(uv_async_t *a) {
    flood *f = a->data;
    f->stopping = true;
    for (size_t i = 0; i < f->n; i++)
        flood_close(&f->c[i]);
    uv_close((uv_handle_t *)a, NULL);
}

static void flood_thread_main(void *arg) {
    flood *f = arg;
    for (size_t i = 0; i < f->n; i++)
        flood_open(&f->c[i]);
    uv_run(f->loop, UV_RUN_DEFAULT);
}

static void flood_thread_start(flood *f, uint16_t port, size_t n) {
    memset(f, 0, sizeof *f);
    f->n = n;
    f->port = port;
    f->loop = &f->own;
    ck_assert_int_eq(uv_loop_init(&f->own), 0);
    ck_assert_int_eq(uv_async_init(&f->own, &f->stop, flood_on_stop), 0);
    f->stop.data = f;
    for (size_t i = 0; i < n; i++) {
        f->c[i].f = f;
        f->c[i].idx = i;
    }
    ck_assert_int_eq(uv_thread_create(&f->thread, flood_thread_main, f), 0);
}

/* Asks the thread to close its connections and end. */
static void flood_thread_stop(flood *f) {
    ck_assert_int_eq(uv_async_send(&f->stop), 0);
}

/* After flood_thread_stop: waits for the thread and closes its loop. */
static void flood_thread_join(flood *f) {
    ck_assert_int_eq(uv_thread_join(&f->thread), 0);
    ck_assert_int_eq(uv_loop_close(&f->own), 0);
}

static size_t log_lines(tnode *n) {
    fflush(n->logf);
    size_t k = 0;
    for (size_t i = 0; n->logbuf && i < n->loglen; i++)
        k += n->logbuf[i] == '\n';
    return k;
}

/* When each of two keys came up on `n`, in ms since t0 (-1: not yet). */
typedef struct uptimes {
    tnode *n;
    const esg_pubkey *k[2];
    double ms[2];
    uint64_t t0;
} uptimes;

static bool both_up(uptimes *u) {
    for (int i = 0; i < 2; i++)
        if (u->ms[i] < 0 && has_peer(u->n, u->k[i]))
            u->ms[i] = (double)(uv_hrtime() - u->t0) / 1e6;
    return u->ms[0] >= 0 && u->ms[1] >= 0;
}

START_TEST(test_flood_validator_reconnects) {
    loop_begin();
    /* a is flooded; b dials a (a validator reconnecting inbound, from
     * 127.0.0.1), a dials c (a configured peer: outbound). Deadlines at
     * their defaults: silent connections would hold slots for 5 s. */
    tnode a, b, c;
    uint16_t pc = free_port();
    tnode_setup(&a, CHAIN);
    a.cfg.handshake_timeout_ms = 0;
    tnode_dial(&a, pc);
    tnode_start(&a);
    tnode_setup(&c, CHAIN);
    snprintf(c.listen, sizeof c.listen, "127.0.0.1:%u", (unsigned)pc);
    tnode_start(&c);
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&a, &c.pk));

    /* 64 silent connections from 8 addresses, 4 times the budget of 16
     * and twice 4 per address, reopened as they are closed. */
    size_t lines0 = log_lines(&a);
    uint64_t t_flood = uv_hrtime();
    flood f;
    flood_start(&f, port_of(&a), FLOOD_MAX, false);
    RUN_UNTIL(stats_of(&a).unauth == 16 && stats_of(&a).unauth_full > 200);

    /* Both validators restart (same keys, same ports). */
    tnode_close(&b);
    tnode_close(&c);
    RUN_UNTIL(b.closed && c.closed && !has_peer(&a, &b.pk) && !has_peer(&a, &c.pk));
    uptimes u = {.n = &a, .k = {&b.pk, &c.pk}, .ms = {-1, -1}, .t0 = uv_hrtime()};
    uint64_t opened0 = f.opened;
    tnode_start(&b);
    tnode_start(&c);
    RUN_UNTIL(both_up(&u));
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_gt(f.opened, opened0); /* the flood went on meanwhile */
    ck_assert_uint_le(s.unauth, 16);
    printf("p2p: under a flood of %d silent connections (%" PRIu64 " opened so far), "
           "inbound validator up in %.1f ms, outbound in %.1f ms\n",
           FLOOD_MAX, f.opened, u.ms[0], u.ms[1]);
    fflush(stdout);
    ck_assert_msg(u.ms[0] < 3000 && u.ms[1] < 3000, "up after %.0f and %.0f ms", u.ms[0],
                  u.ms[1]);
    check_alive(&a, &b);
    check_alive(&a, &c);

    /* Thousands of closes, a bounded log: two buckets of 20 lines per
     * 10 s, refilled as time passes, and the lines that say how many were
     * left out. */
    RUN_UNTIL(stats_of(&a).unauth_full + stats_of(&a).unauth_evicted >= 5000);
    flood_stop(&f);
    double secs = (double)(uv_hrtime() - t_flood) / 1e9;
    s = stats_of(&a);
    uint64_t closes = s.unauth_full + s.unauth_evicted + s.handshake_timeouts;
    size_t lines = log_lines(&a) - lines0;
    printf("p2p: %" PRIu64 " connections closed in %.1f s: %zu log lines, %" PRIu64
           " suppressed\n", closes, secs, lines, s.log_suppressed);
    fflush(stdout);
    ck_assert_uint_le(lines, 2 * 20 + (size_t)(4 * secs) + 4);
    ck_assert_uint_gt(s.log_suppressed, closes - lines);
    /* A flood followed by silence is still reported, by the sweep. */
    RUN_UNTIL(log_has(&a, " log lines about connections in the handshake suppressed"));
    ck_assert_uint_le(log_lines(&a) - lines0, lines + 2);
    /* The flood left nothing behind. */
    RUN_UNTIL(stats_of(&a).unauth == 0 && stats_of(&a).connections == 2);
    ck_assert_uint_eq(s.misbehaviour, 0);
    loop_end();
}
END_TEST

START_TEST(test_flood_same_address) {
    loop_begin();
    /* The flood comes from the validator's own address (a NAT, a shared
     * host): its share is spent, but silent connections give way to one
     * that sends a HELLO. */
    tnode a, b;
    pair_up(&a, &b);
    flood f;
    flood_start(&f, port_of(&a), 32, true);
    RUN_UNTIL(stats_of(&a).unauth == 4 && stats_of(&a).unauth_evicted > 200);
    tnode_close(&b);
    RUN_UNTIL(b.closed && !has_peer(&a, &b.pk));
    uint64_t t0 = uv_hrtime(), opened0 = f.opened;
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_gt(f.opened, opened0); /* the flood went on meanwhile */
    printf("p2p: under a flood of 32 silent connections from its own address (%" PRIu64
           " opened), validator up in %.1f ms\n", f.opened, ms);
    fflush(stdout);
    ck_assert_msg(ms < 3000, "up after %.0f ms", ms);
    ck_assert_uint_le(s.unauth, 4);
    check_alive(&a, &b);
    flood_stop(&f);
    RUN_UNTIL(stats_of(&a).unauth == 0);
    loop_end();
}
END_TEST

START_TEST(test_flood_from_another_thread) {
    loop_begin();
    /* A flood that reconnects while the node is still accepting could
     * keep its backlog from ever emptying: the node accepts in runs of a
     * bounded length and serves its other sockets in between. */
    tnode a, b;
    pair_up(&a, &b);
    flood f;
    flood_thread_start(&f, port_of(&a), FLOOD_MAX);
    RUN_UNTIL(stats_of(&a).unauth_full + stats_of(&a).unauth_evicted > 2000);
    check_alive(&a, &b);
    tnode_close(&b);
    RUN_UNTIL(b.closed && !has_peer(&a, &b.pk));
    uint64_t t0 = uv_hrtime();
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk) && has_peer(&b, &a.pk));
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    check_alive(&a, &b);
    esg_p2p_stats s = stats_of(&a);
    printf("p2p: under a flood from another thread (%" PRIu64 " accepted, %" PRIu64
           " accept pauses), validator up in %.1f ms\n", s.accepted, s.accept_pauses, ms);
    fflush(stdout);
    ck_assert_msg(ms < 3000, "up after %.0f ms", ms);
    ck_assert_uint_le(s.unauth, 16);
    flood_thread_stop(&f);
    RUN_UNTIL(stats_of(&a).connections == 1);
    flood_thread_join(&f);
    loop_end();
}
END_TEST

START_TEST(test_partial_frame_deadline) {
    loop_begin();
    tnode a, b;
    tnode_setup(&a, CHAIN);
    a.cfg.frame_timeout_ms = 300;
    tnode_start(&a);
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk));
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    raw r;
    raw_connect(&r, port_of(&a));
    raw_handshake(&r, &a, &sk, &pk, NULL);
    RUN_UNTIL(has_peer(&a, &pk));

    /* Announce the largest frame (8 MiB) and send 100 KiB of it. */
    size_t L = ESG_P2P_DEFAULT_MAX_FRAME + 16, part = 100 << 10;
    uint8_t pre[4] = {(uint8_t)(L >> 24), (uint8_t)(L >> 16), (uint8_t)(L >> 8), (uint8_t)L};
    uint8_t *m = big_msg(part, 3);
    uint64_t in0 = stats_of(&a).bytes_in;
    uint64_t t0 = uv_hrtime();
    raw_write(&r, pre, 4);
    raw_write(&r, m, part);
    RUN_UNTIL(stats_of(&a).bytes_in == in0 + 4 + part);
    esg_p2p_stats s = stats_of(&a);
    printf("p2p: %zu of %zu bytes of a frame received, %zu bytes buffered\n", part, L,
           s.rx_buffered);
    fflush(stdout);
    ck_assert_uint_ge(s.rx_buffered, part);
    ck_assert_uint_le(s.rx_buffered, 2 * part);
    ck_assert_uint_le(s.rx_buffered_peak, 2 * part);

    /* Nothing more: dropped at the frame deadline, its buffer freed. */
    RUN_UNTIL(r.eof && !has_peer(&a, &pk));
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    printf("p2p: incomplete frame dropped after %.0f ms (deadline 300 ms)\n", ms);
    fflush(stdout);
    ck_assert_msg(ms >= 290 && ms < 5000, "dropped after %.0f ms", ms);
    s = stats_of(&a);
    ck_assert_uint_eq(s.frame_timeouts, 1);
    ck_assert_uint_eq(s.rx_buffered, 0);
    ck_assert(log_has(&a, "frame not complete: no byte of it for 300 ms (102400 of "));
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &pk), 0); /* slow, not misbehaving */
    /* b sent nothing all along: an idle peer has no frame deadline. */
    ck_assert(has_peer(&a, &b.pk));
    check_alive(&a, &b);
    free(m);
    esg_seckey_wipe(&sk);
    loop_end();
}
END_TEST

START_TEST(test_write_deadline) {
    loop_begin();
    tnode a, b;
    tnode_setup(&a, CHAIN);
    a.cfg.write_timeout_ms = 300;
    a.cfg.max_frame = 64 << 10;
    tnode_start(&a);
    tnode_setup(&b, CHAIN);
    tnode_dial(&b, port_of(&a));
    tnode_start(&b);
    RUN_UNTIL(has_peer(&a, &b.pk));
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    raw r;
    raw_connect(&r, port_of(&a));
    raw_handshake(&r, &a, &sk, &pk, NULL);
    RUN_UNTIL(has_peer(&a, &pk));
    uv_read_stop((uv_stream_t *)&r.tcp); /* stops reading for good */

    /* Send until the kernel's buffers are full and libuv holds the rest,
     * far below the 32 MiB cap; then stop. */
    uint8_t *m = big_msg(64 << 10, 9);
    esg_p2p_peer_info info = {0};
    for (size_t k = 0; k < 20000 && info.queued_bytes == 0; k++) {
        ck_assert_int_eq(esg_p2p_send(a.p2p, &pk, m, 64 << 10), ESG_OK);
        uv_run(&loop, UV_RUN_NOWAIT);
        ck_assert(esg_p2p_peer_get(a.p2p, &pk, &info));
    }
    ck_assert_uint_gt(info.queued_bytes, 0);
    uint64_t t0 = uv_hrtime();
    RUN_UNTIL(!has_peer(&a, &pk));
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    printf("p2p: peer that stopped reading dropped %.0f ms after the last send "
           "(deadline 300 ms, %zu bytes unsent)\n", ms, info.queued_bytes);
    fflush(stdout);
    ck_assert_msg(ms >= 250 && ms < 5000, "dropped after %.0f ms", ms);
    esg_p2p_stats s = stats_of(&a);
    ck_assert_uint_eq(s.write_timeouts, 1);
    ck_assert_uint_eq(s.slow_drops, 0);
    ck_assert(log_has(&a, "peer stopped reading: "));
    ck_assert(log_has(&a, "none taken for "));
    ck_assert_uint_eq(esg_p2p_score(a.p2p, &pk), 0);
    /* A peer that reads is not touched. */
    check_alive(&a, &b);
    free(m);
    esg_seckey_wipe(&sk);
    loop_end();
}
END_TEST

Suite *suite_p2p(void) {
    Suite *s = suite_create("p2p");
    TCase *tc = tcase_create("handshake");
    tcase_add_test(tc, test_hs_roundtrip);
    tcase_add_test(tc, test_hs_failures);
    tcase_add_test(tc, test_cipher);
    suite_add_tcase(s, tc);
    tc = tcase_create("transport");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_exchange);
    tcase_add_test(tc, test_refused_key);
    tcase_add_test(tc, test_wrong_chain);
    tcase_add_test(tc, test_garbage_and_oversize_before_auth);
    tcase_add_test(tc, test_bad_frames_after_auth);
    tcase_add_test(tc, test_bytewise);
    tcase_add_test(tc, test_slow_reader);
    tcase_add_test(tc, test_reconnect);
    tcase_add_test(tc, test_simultaneous_dial);
    tcase_add_test(tc, test_handshake_timeout_and_budget);
    tcase_add_test(tc, test_max_conns_established);
    tcase_add_test(tc, test_nonce_limit);
    tcase_add_test(tc, test_close_from_callbacks);
    tcase_add_test(tc, test_send_errors_punish_disconnect);
    tcase_add_test(tc, test_hostname_and_self);
    tcase_add_test(tc, test_flood_validator_reconnects);
    tcase_add_test(tc, test_flood_same_address);
    tcase_add_test(tc, test_flood_from_another_thread);
    tcase_add_test(tc, test_partial_frame_deadline);
    tcase_add_test(tc, test_write_deadline);
    suite_add_tcase(s, tc);
    return s;
}
