/* The node's HTTP API (DESIGN.md §9, a contract; docs/API.md lists every
 * route with an example response).
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
 *     GET /v1/blocks/{h}?format=raw (application/octet-stream) and
 *     GET /metrics (text/plain; version=0.0.4, Prometheus).
 *   - Errors: the HTTP status of esg_err_http_status(code) and
 *     {"error": {"code": "ERR_...", "message": "..."}}, the message being
 *     the specific one (the mempool's, the contract's) when there is one.
 *     Unknown route: 404 ERR_NOT_FOUND; known route, other method: 405
 *     ERR_INVALID_ARGUMENT; a malformed query parameter: 400
 *     ERR_INVALID_ARGUMENT naming the parameter.
 *   - POST bodies are accumulated per connection up to the size a 1 MiB
 *     transaction needs (raw, or base64 in JSON plus 4 KiB); a larger one
 *     is answered 413 ERR_TOO_LARGE without being buffered (at once when
 *     Content-Length announces it).
 *   - POST /v1/txs?wait=commit does not hold a server thread while it
 *     waits: the connection is suspended and a waiter thread (at most
 *     ESG_API_MAX_WAITERS at once; past that the request waits on its
 *     server thread) resumes it when the mempool reports the outcome or
 *     wait_timeout_ms passes (504 ERR_TIMEOUT).
 *   - With a bearer token configured, every route except /v1/status and
 *     /metrics requires "Authorization: Bearer <token>" (compared in
 *     constant time); otherwise 401 ERR_UNAUTHORIZED.
 *
 * Thread rules: esg_api_start and esg_api_stop are called from one thread
 * (the node's main thread); the callbacks in esg_api_deps are called from
 * the API's threads, concurrently, and must be thread-safe.
 */
#ifndef ESG_NODE_API_H
#define ESG_NODE_API_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/store.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/node.h"

/* Most concurrent ?wait=commit requests served by waiter threads. */
#define ESG_API_MAX_WAITERS 256
/* Most concurrent connections, and seconds of inactivity before one is
 * closed. */
#define ESG_API_MAX_CONNECTIONS 1024
#define ESG_API_CONNECTION_TIMEOUT_S 60
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
    /* NULL: no authorization. Else every route but /v1/status and /metrics
     * needs "Authorization: Bearer <token>". Copied by esg_api_start. */
    const char *bearer_token;
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
