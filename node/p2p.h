/* The peer transport: authenticated, encrypted TCP connections between the
 * nodes of one chain, on a libuv loop (the wire format is docs/P2P.md).
 *
 * What it gives the layers above (gossip, consensus, block sync):
 *   - a set of established peers, each named by its verified node key
 *     (the 32-byte BIP340 key it signed the handshake with), at most one
 *     connection per key;
 *   - esg_p2p_send / esg_p2p_broadcast of opaque byte strings (the next
 *     layer puts a P2pMessage protobuf in them), delivered to the peer's
 *     on_message callback in order, exactly once, intact -- within one
 *     connection. Across a reconnect nothing is retransmitted: frames
 *     queued on a connection that drops are lost, and the layer above
 *     must tolerate that (gossip re-announces, consensus has round
 *     timeouts, sync re-requests);
 *   - on_peer_up / on_peer_down per key, and counters for metrics.
 *
 * What it does on its own:
 *   - listens on one address (port 0 picks a free port) and dials the
 *     configured peers ("host:port"; IPv4, [IPv6] or a host name), redialing
 *     a peer that is down with exponential backoff (initial, doubled per
 *     failure, capped, with "equal jitter": half the delay fixed, half
 *     random from a caller-given seed or libsodium's randombytes). A peer
 *     already connected (in either direction) is not dialed.
 *   - the handshake (docs/P2P.md): X25519 ephemeral keys (crypto_kx),
 *     per-direction session keys, the transcript hash signed with the node
 *     key and sent encrypted; the peer's signature is checked, then the
 *     `allow` callback decides whether the key may connect (a validator or
 *     an allowed observer of this chain). Each side sends a verdict, and a
 *     peer is up only when both sides accepted. Refusals, chain id
 *     mismatches and failures are logged with the reason. A handshake that
 *     does not finish in handshake_timeout_ms is dropped.
 *   - budgets: inbound connections still in the handshake (anyone can open
 *     them) have their own small budget, max_unauth at once and
 *     max_unauth_per_ip from one IP address, apart from the max_conns
 *     established peers, so a flood of silent connections cannot take the
 *     slots of validators. A connection over its address's share takes
 *     the place of that address's oldest one that has sent nothing yet
 *     (a peer sends its HELLO at once), or is closed at once; when the
 *     whole budget is spent, the address holding the most gives up one
 *     (preferring those that have sent nothing, then the oldest) to an
 *     address holding fewer, else the new one is closed. Dials to
 *     configured peers are never held back by any of these counts (their
 *     number is the configuration's). An inbound handshake that would bring the peers
 *     past max_conns is closed (a key already up may replace its
 *     connection). Accepting pauses for one turn of the loop after 32
 *     connections in a row, so a flood that reconnects as fast as it is
 *     closed cannot keep the loop from the peers' sockets.
 *   - frames: the length prefix is checked against max_frame before any
 *     allocation; partial and coalesced reads are handled; a frame that is
 *     oversized or fails authentication closes the connection and adds
 *     ESG_P2P_PENALTY to the misbehaviour score of the peer's key (or of
 *     its IP address before the key is verified). Scores are kept after a
 *     peer disconnects, for metrics and for a future ban rule. A frame's
 *     buffer grows as its bytes arrive (doubling from 16 KiB, up to the
 *     announced length), so memory held for an incomplete frame stays
 *     within twice what was received; an incomplete frame of which no
 *     byte arrived for frame_timeout_ms drops the peer (not scored).
 *   - backpressure: each peer's unsent bytes (what libuv still holds for
 *     the socket) may not pass write_queue_cap; a send that would pass it
 *     drops the peer instead, so a peer that stops reading costs at most
 *     the cap. A peer whose unsent bytes have not moved for
 *     write_timeout_ms is dropped too (not scored), so it cannot hold the
 *     cap for long.
 *   - the log: lines a remote party can cause (connection closes,
 *     warnings, peers up) pass through two token buckets
 *     (node/ratelimit.h), one for inbound connections still in the
 *     handshake (anyone can make those) and one for the rest, at most
 *     log_burst lines each per log_interval_ms. A line that passes after
 *     others were left out says how many; a flood followed by silence is
 *     reported by a periodic line ("... log lines suppressed").
 *   - two nodes that dial each other at once get two connections; when
 *     both are up, both nodes keep the one dialed by the node with the
 *     smaller key (bytewise) and close the other, with no on_peer_down
 *     (the key stays up).
 *
 * Thread rules: everything runs on the loop's thread; no function may be
 * called from another thread. Callbacks are made from the loop and may
 * call any function here, including esg_p2p_close (then no further
 * callback is made, not even for the rest of a batch of frames read at
 * once). esg_p2p_send, _broadcast, _punish and _disconnect may call
 * on_peer_down before they return, when they drop a peer.
 *
 * No global state: each esg_p2p is a struct of its own, so a test runs
 * several on one loop. The process must ignore SIGPIPE (a write to a peer
 * that has gone away raises it; libuv writes with write(2)).
 *
 * Misuse (NULL where a pointer is required, a call after esg_p2p_close)
 * asserts; bytes from peers never do.
 */
#ifndef ESG_NODE_P2P_H
#define ESG_NODE_P2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ledger/hash.h"
#include "ledger/keys.h"
#include "node/log.h"
#include "node/ratelimit.h"

#define ESG_P2P_DEFAULT_MAX_FRAME ((size_t)8 << 20)       /* payload bytes */
#define ESG_P2P_DEFAULT_QUEUE_CAP ((size_t)32 << 20)
#define ESG_P2P_DEFAULT_MAX_CONNS 64
#define ESG_P2P_DEFAULT_MAX_UNAUTH 16
#define ESG_P2P_DEFAULT_MAX_UNAUTH_PER_IP 4
#define ESG_P2P_DEFAULT_HANDSHAKE_MS 5000
#define ESG_P2P_DEFAULT_FRAME_MS 30000
#define ESG_P2P_DEFAULT_WRITE_MS 30000
#define ESG_P2P_DEFAULT_LOG_BURST 20
#define ESG_P2P_DEFAULT_LOG_INTERVAL_MS 10000
#define ESG_P2P_DEFAULT_BACKOFF_INITIAL_MS 500
#define ESG_P2P_DEFAULT_BACKOFF_MAX_MS 30000
#define ESG_P2P_MAX_FRAME_LIMIT ((size_t)1 << 30)         /* largest max_frame */
#define ESG_P2P_MAX_TARGETS 256                           /* configured peers */
#define ESG_P2P_PENALTY 100 /* score added for one protocol violation */

typedef struct esg_p2p esg_p2p;

typedef enum esg_p2p_direction {
    ESG_P2P_INBOUND = 0,  /* the peer dialed us */
    ESG_P2P_OUTBOUND = 1, /* we dialed it */
} esg_p2p_direction;

/* A snapshot of one established peer: a plain value, owned by the caller. */
typedef struct esg_p2p_peer_info {
    esg_pubkey key;          /* verified node key */
    char addr[64];           /* "127.0.0.1:40312", "[::1]:26600" */
    esg_p2p_direction dir;
    uint64_t conn_id;        /* connection number, never reused */
    uint64_t up_ms;          /* uv_now() when it came up */
    uint64_t bytes_in, bytes_out;   /* on the wire, handshake included */
    uint64_t frames_in, frames_out; /* payload frames */
    size_t queued_bytes;     /* unsent bytes libuv holds for the socket */
    size_t queued_peak;      /* largest queued_bytes seen after a send */
    uint32_t score;          /* misbehaviour score of the key */
} esg_p2p_peer_info;

/* Counters since esg_p2p_new: plain value. */
typedef struct esg_p2p_stats {
    size_t peers;               /* established */
    size_t connections;         /* open, established or not */
    uint64_t bytes_in, bytes_out;
    uint64_t frames_in, frames_out;
    uint64_t reads;             /* read callbacks that carried bytes */
    uint64_t dials, dial_failures;
    uint64_t accepted;          /* inbound connections accepted */
    uint64_t accept_pauses;     /* accepting paused for a turn of the loop
                                 * after a long run of connections */
    size_t unauth;              /* inbound connections in the handshake now */
    uint64_t unauth_full;       /* inbound closed at once: the budget for
                                 * handshakes (or its address's share) spent */
    uint64_t unauth_evicted;    /* in the handshake, closed to make room for
                                 * an address holding fewer */
    uint64_t too_many;          /* inbound closed after its handshake: max_conns
                                 * peers were up */
    uint64_t handshakes;        /* completed (peer up or duplicate) */
    uint64_t handshake_timeouts;
    uint64_t bad_handshakes;    /* malformed hello/auth, bad signature */
    uint64_t chain_mismatches;  /* the peer is on another chain */
    uint64_t refused;           /* our allow callback said no */
    uint64_t refused_by_peer;   /* the peer's verdict said no */
    uint64_t self_connections;
    uint64_t duplicates;        /* connections closed as duplicates */
    uint64_t oversize_frames;   /* length prefix over the limit */
    uint64_t bad_frames;        /* failed authentication, bad verdict */
    uint64_t slow_drops;        /* write queue would pass the cap */
    uint64_t write_timeouts;    /* unsent bytes did not move for write_timeout_ms */
    uint64_t frame_timeouts;    /* a frame not complete within frame_timeout_ms */
    uint64_t counter_exhausted; /* frame counter reached its limit */
    uint64_t misbehaviour;      /* events that added to a score */
    size_t rx_buffered;         /* bytes allocated now for incomplete frames:
                                 * per frame, twice its bytes received or
                                 * 16 KiB, whichever is more */
    size_t rx_buffered_peak;    /* largest rx_buffered seen */
    size_t queued_peak;         /* largest queued_bytes of any peer */
    uint64_t log_suppressed;    /* log lines left out by the rate limit */
} esg_p2p_stats;

typedef struct esg_p2p_config {
    /* Required. The chain's id (1..64 of [A-Za-z0-9._-]); copied. */
    const char *chain_id;
    /* Required. The node key; copied by esg_p2p_new and wiped by close.
     * The caller still owns (and wipes) its own copy. */
    esg_seckey node_key;
    /* "ADDR:PORT" to listen on, a numeric IPv4 or [IPv6] address; port 0
     * picks a free one (esg_p2p_port). NULL or "" does not listen. Copied. */
    const char *listen_addr;
    /* Peers to dial and keep dialing: "host:port" each; copied. */
    const char *const *peers;
    size_t n_peers;              /* at most ESG_P2P_MAX_TARGETS */

    /* Required. Whether the verified key `key` may connect (a validator or
     * an allowed observer of this chain). On refusal it may write a reason
     * into `why` (whylen bytes, NUL-terminated) for the log. */
    bool (*allow)(void *ctx, const esg_pubkey *key, char *why, size_t whylen);
    /* A payload frame from `peer`: `data` is valid only during the call
     * (the transport frees it after). May be NULL (frames dropped). */
    void (*on_message)(void *ctx, const esg_pubkey *peer, const uint8_t *data, size_t len);
    /* A key came up / went down (one connection per key). `peer` is valid
     * only during the call; `why` is the reason, for the log. May be NULL. */
    void (*on_peer_up)(void *ctx, const esg_p2p_peer_info *peer);
    void (*on_peer_down)(void *ctx, const esg_p2p_peer_info *peer, const char *why);
    void *ctx;                   /* passed to every callback */
    const esg_logger *log;       /* borrowed, must outlive the p2p; NULL: silent */

    /* Limits; 0 means the default in brackets. */
    size_t max_frame;            /* payload bytes per frame [8 MiB], <= 1 GiB */
    size_t write_queue_cap;      /* per peer [32 MiB], >= max_frame + 20 */
    size_t max_conns;            /* established peers an inbound handshake may
                                  * add to [64]; dials are not counted against it */
    size_t max_unauth;           /* inbound connections in the handshake at once [16] */
    size_t max_unauth_per_ip;    /* of those, from one IP address
                                  * [min(4, max_unauth)], <= max_unauth */
    uint64_t handshake_timeout_ms;  /* [5000]; also bounds a dial */
    uint64_t frame_timeout_ms;   /* longest pause inside a frame [30000] */
    uint64_t write_timeout_ms;   /* unsent bytes that do not move [30000] */
    uint32_t log_burst;          /* log lines per bucket and interval [20],
                                  * <= ESG_RATELIMIT_MAX_BURST */
    uint64_t log_interval_ms;    /* [10000], <= ESG_RATELIMIT_MAX_INTERVAL_MS */
    uint64_t backoff_initial_ms;    /* [500] */
    uint64_t backoff_max_ms;        /* [30000], >= backoff_initial_ms */
    uint64_t jitter_seed;        /* [randombytes]; fixed: same delays each run */
    /* Frames per direction on one connection, the two handshake frames
     * included; reaching it closes the connection, so a nonce is never
     * reused [UINT64_MAX]. Lowered only by tests; at least 3. */
    uint64_t nonce_limit;
} esg_p2p_config;

/* Creates a transport on `loop` (borrowed: it must outlive the p2p, and
 * the p2p must be closed with esg_p2p_close and the loop run until
 * on_closed before uv_loop_close). Validates and copies `cfg`; nothing is
 * listened on or dialed until esg_p2p_start.
 * Returns 0 and *out, or (with a message in err, errlen bytes, when err is
 * not NULL; nothing to close):
 *   ESG_ERR_INVALID_ARGUMENT  a bad chain id, address, peer or limit,
 *   ESG_ERR_BAD_SECRET        node_key is not a valid secret key,
 *   ESG_ERR_NOMEM, ESG_ERR_INTERNAL. */
int esg_p2p_new(esg_p2p **out, uv_loop_t *loop, const esg_p2p_config *cfg, char *err,
                size_t errlen);

/* Starts listening (if listen_addr was given) and dialing the peers (the
 * first dial at once). Call once. Returns 0, or ESG_ERR_IO with the reason
 * in err ("cannot listen on 127.0.0.1:26600: address already in use");
 * the p2p must still be closed. */
int esg_p2p_start(esg_p2p *p2p, char *err, size_t errlen);

/* Adds a peer to dial and keep dialing ("host:port"), at once if started.
 * Adding one already configured does nothing. Returns 0,
 * ESG_ERR_INVALID_ARGUMENT (malformed, or ESG_P2P_MAX_TARGETS reached) or
 * ESG_ERR_NOMEM. */
int esg_p2p_add_peer(esg_p2p *p2p, const char *hostport);

/* The port listened on, 0 when not listening (before start, or no
 * listen_addr). */
uint16_t esg_p2p_port(const esg_p2p *p2p);

/* This node's public key. The pointer is valid until close. */
const esg_pubkey *esg_p2p_pubkey(const esg_p2p *p2p);

/* Queues `len` bytes at `data` (copied: the caller keeps ownership; NULL
 * allowed when len is 0) as one frame to the established peer `peer`.
 * Returns 0, or:
 *   ESG_ERR_NOT_FOUND     no established peer has that key,
 *   ESG_ERR_TOO_LARGE     len > max_frame,
 *   ESG_ERR_PEER_DROPPED  the frame would pass write_queue_cap, or the
 *                         connection's frame counter is exhausted: the
 *                         peer was dropped (and redialed if configured),
 *   ESG_ERR_NOMEM. */
int esg_p2p_send(esg_p2p *p2p, const esg_pubkey *peer, const uint8_t *data, size_t len);

/* Sends the frame to every established peer but `except` (NULL: none);
 * a peer that fails is dropped as in esg_p2p_send. `*sent` (may be NULL)
 * receives the number of peers it was queued to. Returns 0 or
 * ESG_ERR_TOO_LARGE (nothing sent). */
int esg_p2p_broadcast(esg_p2p *p2p, const uint8_t *data, size_t len,
                      const esg_pubkey *except, size_t *sent);

/* Fills up to `max` snapshots of established peers into `out` (may be NULL
 * when max is 0) and returns how many peers there are. */
size_t esg_p2p_peers(const esg_p2p *p2p, esg_p2p_peer_info *out, size_t max);

/* The snapshot of the peer `key`: true, or false if it is not up. */
bool esg_p2p_peer_get(const esg_p2p *p2p, const esg_pubkey *key, esg_p2p_peer_info *out);

void esg_p2p_stats_get(const esg_p2p *p2p, esg_p2p_stats *out);

/* Misbehaviour score of a key / of an IP address ("127.0.0.1") for what
 * it did before authenticating; 0 when unknown. Scores outlive
 * connections (up to 1024 keys and 256 addresses are remembered). */
uint32_t esg_p2p_score(const esg_p2p *p2p, const esg_pubkey *key);
uint32_t esg_p2p_addr_score(const esg_p2p *p2p, const char *ip);

/* For the layer above: the peer `key` sent something it should not have
 * (an undecodable P2pMessage, an invalid block): adds `points` to its
 * score and disconnects it, logging `why`. Returns 0, or
 * ESG_ERR_NOT_FOUND if it is not up (the score is added all the same). */
int esg_p2p_punish(esg_p2p *p2p, const esg_pubkey *key, uint32_t points, const char *why);

/* Disconnects the peer `key` (it is redialed if configured), logging
 * `why`. Returns 0 or ESG_ERR_NOT_FOUND. */
int esg_p2p_disconnect(esg_p2p *p2p, const esg_pubkey *key, const char *why);

/* Stops listening and dialing and closes every connection and handle.
 * Queued frames are discarded. When the last handle has closed (from a
 * later loop iteration), the p2p is wiped and freed and then `on_closed`
 * (may be NULL) is called with `arg`. After this call no function may be
 * called on `p2p` and no callback is made but on_closed. */
void esg_p2p_close(esg_p2p *p2p, void (*on_closed)(void *arg), void *arg);

#endif
