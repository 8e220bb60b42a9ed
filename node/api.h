/* The node's HTTP API (a contract: docs/API.md lists every route with an
 * example response).
 *
 * JSON over HTTP/1.1, served by libmicrohttpd from its own threads: one
 * listening thread per pool worker (MHD_OPTION_THREAD_POOL_SIZE), so that
 * transaction admission -- whose signature verification runs on the thread
 * that calls esg_mempool_add -- uses every core. The API owns no chain
 * data: it reads the store through short read transactions (one per
 * request, never held across a wait, so it never blocks the block producer
 * or the growth of LMDB's map) and submits to the mempool. Node-only facts
 * (peers, syncing, the node key, counters) come from callbacks, so the API
 * runs and is tested without the libuv node.
 *
 * Requests and responses
 *   - Every response is JSON (Content-Type: application/json) except
 *     GET /v1/blocks/{h}?format=raw (application/octet-stream),
 *     GET /metrics (text/plain; version=0.0.4, Prometheus) and the web
 *     explorer's files built into the binary (GET /, GET /explorer/FILE:
 *     docs/EXPLORER.md), which need no token.
 *   - Errors: the HTTP status of esg_err_http_status(code) and
 *     {"error": {"code": "ERR_...", "message": "..."}}, the message being
 *     the specific one (the mempool's, the contract's) when there is one.
 *     Unknown route: 404 ERR_NOT_FOUND; known route, other method: 405
 *     ERR_INVALID_ARGUMENT; a malformed query parameter: 400
 *     ERR_INVALID_ARGUMENT naming the parameter.
 *   - POST bodies are accumulated per request as they arrive (never
 *     reserved from Content-Length) up to the size a 1 MiB transaction
 *     needs (raw, or base64 in JSON plus 4 KiB); a larger one is answered
 *     413 ERR_TOO_LARGE without being buffered (at once when
 *     Content-Length announces it). Their memory is returned to the
 *     system when the request ends.
 *   - POST /v1/txs?wait=commit does not hold a server thread while it
 *     waits: the connection is suspended and a waiter thread (at most
 *     ESG_API_MAX_WAITERS at once; past that the request waits on its
 *     server thread) resumes it when the mempool reports the outcome or
 *     wait_timeout_ms passes (504 ERR_TIMEOUT).
 *   - Framing that two parsers could read differently is refused before
 *     any body is read, with 400 ERR_BAD_FRAMING and "Connection: close":
 *     two Content-Length headers, Transfer-Encoding other than one
 *     "chunked", Transfer-Encoding together with Content-Length, a header
 *     name with whitespace, a framing header continued on a folded line.
 *     Over-long headers (431 ERR_HEADERS_TOO_LARGE), too many query
 *     parameters (400 ERR_TOO_MANY_PARAMS) and a full body budget (503
 *     ERR_BUSY) close the connection too. A few malformed requests are refused by
 *     libmicrohttpd before this code sees them, with its own HTML body:
 *     node/api.c lists them.
 *   - With a bearer token configured, every route except /v1/status,
 *     /metrics and the explorer's files requires "Authorization: Bearer
 *     <token>" (compared in constant time); otherwise 401 ERR_UNAUTHORIZED.
 *
 * Thread rules: esg_api_start and esg_api_stop are called from one thread
 * (the node's main thread); besides MHD's threads the API runs one sweeper
 * thread (deadlines, the log's suppressed-line count); the callbacks in esg_api_deps are called from
 * the API's threads, concurrently, and must be thread-safe.
 */
#ifndef ESG_NODE_API_H
#define ESG_NODE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/store.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/node.h"

/* Most concurrent ?wait=commit requests served by waiter threads. */
#define ESG_API_MAX_WAITERS 256

/* What one client can hold (docs/API.md "Server limits"). A connection
 * past either limit is closed at accept, without an answer: MHD refuses it
 * before any request exists. One address may hold an eighth of the slots,
 * so a single client never takes them all. */
#define ESG_API_MAX_CONNECTIONS 512
#define ESG_API_MAX_CONNECTIONS_PER_IP 64
/* The most [api] max_connections_per_address may raise it to: 64 slots
 * always stay for other addresses. */
#define ESG_API_MAX_CONNECTIONS_PER_IP_LIMIT (ESG_API_MAX_CONNECTIONS - 64)
/* Seconds without any progress (no byte read or written) before MHD
 * closes a connection: covers a client that stops reading its response. */
#define ESG_API_CONNECTION_TIMEOUT_S 15
/* A request's line and headers must be complete within this long of the
 * connection being ready for it (accepted, or the previous response sent):
 * this also bounds how long a keep-alive connection may sit idle, and cuts
 * a client trickling its headers a byte at a time. The body must be
 * complete within ESG_API_BODY_DEADLINE_MS of the headers. A connection
 * past either deadline is cut without an answer (libmicrohttpd 0.9.75
 * cannot queue a response before the headers are in, nor while a body is
 * arriving); the sweeper checks every ESG_API_SWEEP_MS. */
#define ESG_API_HEAD_DEADLINE_MS 10000
#define ESG_API_BODY_DEADLINE_MS 20000
#define ESG_API_SWEEP_MS 250
/* Request headers: at most this many bytes in all (431
 * ERR_HEADERS_TOO_LARGE), in a per-connection arena of
 * ESG_API_CONNECTION_MEMORY bytes (past which libmicrohttpd refuses the
 * request itself: see node/api.c). */
#define ESG_API_MAX_HEADER_BYTES 8192
#define ESG_API_CONNECTION_MEMORY (32 * 1024)
/* Query parameters of one request (400 ERR_TOO_MANY_PARAMS). */
#define ESG_API_MAX_QUERY_PARAMS 32
/* Bytes of request bodies buffered at once, over all connections; a body
 * that would pass it is refused with 503 ERR_BUSY. Bodies are buffered as
 * they arrive, never reserved from Content-Length. */
#define ESG_API_MAX_BODY_BYTES_TOTAL ((size_t)32 << 20)
/* The HTTP library's warnings: at most BURST lines per INTERVAL in the
 * log, then one line counting those left out. */
#define ESG_API_LOG_BURST 20
#define ESG_API_LOG_INTERVAL_MS 10000
#define ESG_API_DEFAULT_WAIT_MS 30000

typedef struct esg_api esg_api;

/* What the API serves from. Everything is borrowed and must outlive the
 * API (until esg_api_stop returns). */
typedef struct esg_api_deps {
    esg_store *store;          /* required */
    esg_mempool *mempool;      /* required */
    const esg_logger *log;     /* may be NULL: no logging */
    /* Node status and counters; either may be NULL. Without `status`, the
     * node-only fields of /v1/status are zero (no node key, not a
     * validator, no peers, not syncing); without `metrics` the counters
     * of /metrics are 0. Chain fields (height, hashes, time) always come
     * from the store. Called from API threads with `arg`. */
    void (*status)(void *arg, esg_node_status *out);
    void (*metrics)(void *arg, esg_node_metrics *out);
    void *arg;
    unsigned threads;          /* server threads; 0 = number of cores */
    uint64_t wait_timeout_ms;  /* ?wait=commit; 0 = ESG_API_DEFAULT_WAIT_MS */
    /* Connections one client address may hold; 0 = the default
     * ESG_API_MAX_CONNECTIONS_PER_IP, at most ESG_API_MAX_CONNECTIONS_PER_IP_LIMIT. */
    unsigned max_conns_per_addr;
    /* NULL: no authorization. Else every route but /v1/status, /metrics
     * and the explorer's files needs "Authorization: Bearer <token>".
     * Copied by esg_api_start. */
    const char *bearer_token;
    /* true: the web explorer's routes (GET / and /explorer/FILE) are not
     * served, answered 404 like any unknown route ([api] explorer = false).
     * false (the zero default): served when the build has the explorer. */
    bool no_explorer;
} esg_api_deps;

/* Starts serving on `addr`, "HOST:PORT" ("127.0.0.1:8600", "[::1]:8600",
 * "localhost:8600"); port 0 picks a free port (see esg_api_port). `deps`
 * is copied (the objects it points to are borrowed).
 * Returns 0 and *out, which the caller stops with esg_api_stop; or
 * ESG_ERR_INVALID_ARGUMENT (addr is not HOST:PORT, a host that does not
 * resolve), ESG_ERR_IO (cannot bind or listen: "address in use" ...) or
 * ESG_ERR_NOMEM, with a one-line reason in err[0..errlen) (err may be
 * NULL). *out is NULL on error. */
int esg_api_start(esg_api **out, const esg_api_deps *deps, const char *addr,
                  char *err, size_t errlen);

/* The TCP port the API listens on (the one picked, for port 0). */
uint16_t esg_api_port(const esg_api *api);

/* Stops serving: ends waits in progress (answered 504 ERR_TIMEOUT, "node
 * is shutting down"), closes every connection, joins every thread and
 * frees `api`. Returns after the last callback into deps has returned.
 * NULL is a no-op. */
void esg_api_stop(esg_api *api);

#endif
