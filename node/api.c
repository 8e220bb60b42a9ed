/* The HTTP server around the routes: libmicrohttpd setup, per-connection
 * state, bodies, bearer tokens, routing, responses, and the waiter
 * threads of ?wait=commit. What each route answers is in api_routes.c. */
#include "node/api.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ledger/error.h"
#include "node/api_routes.h"
#include "node/assets.h"
#include "node/clock.h"
#include "node/ratelimit.h"

/* A waiter thread's slot. `done` is set (under api->mu) by the waiter as
 * its last act; a done slot is joined before it is reused. */
typedef struct waiter_slot {
    pthread_t thread;
    bool used, done;
    struct conn_ctx *cx;
    esg_api *api;
} waiter_slot;

/* Where a connection is in the life of its current request, for the
 * sweeper (node/api.h: ESG_API_HEAD_DEADLINE_MS). */
typedef enum track_phase {
    TRACK_HEAD = 0, /* waiting for a request's line and headers */
    TRACK_BODY,     /* headers in, receiving the body */
    TRACK_BUSY,     /* the request is in: routing, waiting, answering */
    TRACK_CUT,      /* shut down by the sweeper; MHD closes it */
} track_phase;

/* One per connection, from MHD's NOTIFY_STARTED to NOTIFY_CLOSED (its
 * socket_context); on esg_api.conns. Fields under conn_mu. */
typedef struct conn_track {
    struct conn_track *prev, *next;
    int fd;            /* MHD's socket: only ever shut down here */
    track_phase phase;
    uint64_t since_ms; /* when the phase began (now_ms) */
} conn_track;

struct esg_api {
    esg_api_deps deps;
    char *token;
    size_t token_len;
    struct MHD_Daemon *daemon;
    uint16_t port;
    atomic_bool stopping;
    pthread_mutex_t mu;
    waiter_slot waiters[ESG_API_MAX_WAITERS];
    /* Every connection, and the sweeper thread that enforces deadlines;
     * conns and sweep_stop under conn_mu, which sweep_cv (on
     * CLOCK_MONOTONIC) waits with. */
    pthread_mutex_t conn_mu;
    pthread_cond_t sweep_cv;
    conn_track *conns;
    bool sweep_stop;
    pthread_t sweeper;
    /* Bytes of body buffers held, over all requests. */
    atomic_size_t body_bytes;
    /* The HTTP layer's log lines (on_mhd_log, the sweeper). */
    pthread_mutex_t log_mu;
    esg_ratelimit log_rl;
};

typedef enum conn_state {
    CONN_BODY = 0,  /* routed; receiving the body (if any) */
    CONN_WAITING,   /* suspended while a waiter thread waits */
    CONN_RESUMED,   /* the waiter is done: send call.* */
    CONN_ANSWERED,  /* a response is queued */
} conn_state;

/* Per-request state, from on_uri (or the first call of on_request)
 * until on_completed. */
typedef struct conn_ctx {
    esg_api *api;
    const esg_api__route *route;
    esg_api__call call;
    conn_state state;
    char *params[ESG_API__MAX_PARAMS];
    conn_track *track;   /* the connection's; NULL when untracked */
    bool started;        /* on_request has seen the headers */
    bool close;          /* answer with "Connection: close" */
    size_t query_params; /* counted by on_uri when over the limit */
    uint8_t *buf;        /* body: malloc'd, or mapped (see body_append) */
    size_t len, cap;
    bool mapped;
    int refused;         /* the error the body is refused with, or 0 */
    size_t discarded;
} conn_ctx;

/* Past this many discarded bytes of a refused body (oversized but not
 * announced as such, or past the body budget), the connection is cut
 * instead of drained. */
#define MAX_DISCARD ((size_t)16 << 20)

bool esg_api__stopping(const esg_api *api) {
    return atomic_load(&api->stopping);
}

/* ------------------------------------------------------------ responses */

void esg_api__reply_json(esg_api__call *c, unsigned status, json_t *body) {
    json_decref(c->json);
    free(c->raw);
    c->raw = NULL;
    c->json = NULL;
    c->asset = NULL;
    if (!body) {
        esg_api__fail(c, ESG_ERR_NOMEM, NULL);
        return;
    }
    c->status = status;
    c->json = body;
}

void esg_api__reply_raw(esg_api__call *c, unsigned status, const char *ctype,
                        uint8_t *buf, size_t len) {
    json_decref(c->json);
    free(c->raw);
    c->json = NULL;
    c->asset = NULL;
    c->status = status;
    c->raw = buf;
    c->raw_len = len;
    c->ctype = ctype;
}

void esg_api__reply_asset(esg_api__call *c, const esg_asset *a) {
    json_decref(c->json);
    free(c->raw);
    c->json = NULL;
    c->raw = NULL;
    c->status = 200;
    c->asset = a;
}

bool esg_api__add_header(esg_api__call *c, const char *name, const char *value) {
    assert(!strpbrk(value, "\r\n"));
    if (c->n_headers == ESG_API__MAX_HEADERS)
        return false;
    char *v = strdup(value);
    if (!v)
        return false;
    c->headers[c->n_headers].name = name;
    c->headers[c->n_headers++].value = v;
    return true;
}

void esg_api__quote(char *out, size_t outlen, const char *s) {
    assert(outlen > 0);
    size_t n = 0;
    for (; s && *s && n + 1 < outlen && n < 64; s++)
        out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    out[n] = '\0';
}

/* A JSON string of `s`, which may be invalid UTF-8 (a message built from
 * client bytes): replaced by its ASCII-quoted form then. */
static json_t *safe_string(const char *s) {
    json_t *j = json_string(s);
    if (!j) {
        char q[1024];
        size_t n = 0;
        for (; *s && n + 1 < sizeof q; s++)
            q[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
        q[n] = '\0';
        j = json_string(q);
    }
    return j;
}

void esg_api__fail(esg_api__call *c, int code, const char *fmt, ...) {
    char msg[512];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    } else {
        snprintf(msg, sizeof msg, "%s", esg_err_message(code));
    }
    json_decref(c->json);
    free(c->raw);
    c->raw = NULL;
    c->asset = NULL;
    c->status = (unsigned)esg_err_http_status(code);
    c->json = json_pack("{s:{s:s,s:o}}", "error", "code", esg_err_name(code),
                        "message", safe_string(msg));
    if (c->status == 500 && c->deps)
        esg_log(c->deps->log, ESG_LOG_WARN, "api: %s %s: %s %s", c->method,
                c->url, esg_err_name(code), msg);
}

/* Queues cx's response on the connection. */
static enum MHD_Result send_call(struct MHD_Connection *conn, conn_ctx *cx) {
    esg_api__call *c = &cx->call;
    struct MHD_Response *resp;
    const char *ctype;
    if (c->asset) {
        /* Immutable bytes of the binary: MHD may point at them. */
        resp = MHD_create_response_from_buffer(c->asset->len, (void *)c->asset->data,
                                               MHD_RESPMEM_PERSISTENT);
        ctype = c->asset->ctype;
    } else if (c->raw) {
        resp = MHD_create_response_from_buffer(c->raw_len, c->raw,
                                               MHD_RESPMEM_MUST_FREE);
        if (resp)
            c->raw = NULL; /* MHD frees it now */
        ctype = c->ctype;
    } else {
        char *text = NULL;
        if (c->json)
            text = json_dumps(c->json, JSON_COMPACT);
        if (!text) {
            /* Out of memory: a fixed answer needs no allocation of ours. */
            static const char nomem[] =
                "{\"error\":{\"code\":\"ERR_NOMEM\",\"message\":\"out of memory\"}}";
            c->status = 503;
            resp = MHD_create_response_from_buffer(sizeof nomem - 1, (void *)nomem,
                                                   MHD_RESPMEM_PERSISTENT);
        } else {
            size_t len = strlen(text);
            resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
            if (!resp)
                free(text);
        }
        ctype = "application/json";
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (c->www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (c->asset) {
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        if (strncmp(c->asset->ctype, "text/html", 9) == 0)
            MHD_add_response_header(resp, "Content-Security-Policy", ESG_API__HTML_CSP);
    }
    for (size_t i = 0; i < c->n_headers; i++)
        MHD_add_response_header(resp, c->headers[i].name, c->headers[i].value);
    if (cx->close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result r = MHD_queue_response(conn, c->status ? c->status : 500, resp);
    MHD_destroy_response(resp);
    return r;
}

/* -------------------------------------------------------------- routing */

int esg_api__route_match(const char *pattern, const char *url,
                         char *out[ESG_API__MAX_PARAMS]) {
    const char *seg[ESG_API__MAX_PARAMS];
    size_t seglen[ESG_API__MAX_PARAMS];
    size_t n = 0;
    const char *p = pattern, *u = url;
    while (*p && *u) {
        if (p[0] == '{' && p[1] == '}') {
            size_t len = strcspn(u, "/");
            if (len == 0 || n == ESG_API__MAX_PARAMS)
                return 0;
            seg[n] = u;
            seglen[n++] = len;
            u += len;
            p += 2;
        } else if (*p == *u) {
            p++;
            u++;
        } else {
            return 0;
        }
    }
    if (*p || *u)
        return 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = strndup(seg[i], seglen[i]);
        if (!out[i]) {
            for (size_t k = 0; k < i; k++) {
                free(out[k]);
                out[k] = NULL;
            }
            return -1;
        }
    }
    return 1;
}

/* True when the request carries the configured bearer token (or none is
 * configured). Constant time in the token's content. */
static bool authorized(const esg_api *api, struct MHD_Connection *conn) {
    if (!api->token)
        return true;
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    size_t len = strlen(h);
    while (len > 0 && h[len - 1] == ' ')
        len--;
    if (len != api->token_len)
        return false;
    return sodium_memcmp(h, api->token, len) == 0;
}

/* Finds the route of (method, url) and fills cx, or sets an error
 * response in cx->call. Returns true when routed. */
static bool route_request(conn_ctx *cx, struct MHD_Connection *conn,
                          const char *method, const char *url) {
    esg_api__call *c = &cx->call;
    bool path_known = false;
    for (size_t i = 0; i < esg_api__n_routes; i++) {
        const esg_api__route *r = &esg_api__routes[i];
        if (cx->api->deps.no_explorer && esg_api__route_is_explorer(r))
            continue; /* turned off: not a route at all */
        char *params[ESG_API__MAX_PARAMS] = {NULL, NULL};
        int m = esg_api__route_match(r->pattern, url, params);
        if (m < 0) {
            esg_api__fail(c, ESG_ERR_NOMEM, NULL);
            return false;
        }
        if (m == 0)
            continue;
        if (strcmp(r->method, method) != 0) {
            path_known = true;
            for (size_t k = 0; k < ESG_API__MAX_PARAMS; k++)
                free(params[k]);
            continue;
        }
        cx->route = r;
        for (size_t k = 0; k < ESG_API__MAX_PARAMS; k++) {
            cx->params[k] = params[k];
            c->params[k] = params[k];
        }
        if (!r->open && !authorized(cx->api, conn)) {
            esg_api__fail(c, ESG_ERR_UNAUTHORIZED,
                          "this route needs \"Authorization: Bearer <token>\"");
            c->status = 401;
            c->www_authenticate = true;
            return false;
        }
        return true;
    }
    char qm[16], qu[80];
    esg_api__quote(qm, sizeof qm, method);
    esg_api__quote(qu, sizeof qu, url);
    if (path_known)
        esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT, "method %s not allowed on '%s'",
                      qm, qu);
    else
        esg_api__fail(c, ESG_ERR_NOT_FOUND, "no route '%s %s'", qm, qu);
    if (path_known)
        c->status = 405;
    return false;
}

/* ------------------------------------------------------- waiter threads */

static void *waiter_main(void *arg) {
    waiter_slot *slot = arg;
    esg_api *api = slot->api;
    conn_ctx *cx = slot->cx;
    esg_api__tx_wait(&cx->call);
    cx->state = CONN_RESUMED;
    /* After the resume, MHD may complete the request and free cx at once:
     * cx is not touched past this call. */
    MHD_resume_connection(cx->call.conn);
    pthread_mutex_lock(&api->mu);
    slot->done = true;
    slot->cx = NULL;
    pthread_mutex_unlock(&api->mu);
    return NULL;
}

/* A free waiter slot, joining finished waiters to free theirs; NULL when
 * all are busy. api->mu held. */
static waiter_slot *waiter_slot_take(esg_api *api) {
    waiter_slot *free_slot = NULL;
    for (size_t i = 0; i < ESG_API_MAX_WAITERS; i++) {
        waiter_slot *s = &api->waiters[i];
        if (s->used && s->done) {
            pthread_join(s->thread, NULL); /* it is past its last act */
            s->used = s->done = false;
        }
        if (!s->used && !free_slot)
            free_slot = s;
    }
    return free_slot;
}

/* Starts waiting for cx's transaction. Returns true when the request was
 * suspended (a waiter resumes it); false when the wait ran here and the
 * response is ready.
 *
 * api->mu is held from the check of `stopping` until the waiter exists,
 * so esg_api_stop either sees no trace of this request (and it waits
 * here, noticing `stopping` at once) or finds a thread to join: no
 * connection is left suspended when MHD stops, which MHD treats as a
 * fatal error. */
static bool start_wait(conn_ctx *cx, struct MHD_Connection *conn) {
    esg_api *api = cx->api;
    pthread_mutex_lock(&api->mu);
    waiter_slot *slot = atomic_load(&api->stopping) ? NULL : waiter_slot_take(api);
    if (!slot) {
        pthread_mutex_unlock(&api->mu);
        esg_api__tx_wait(&cx->call);
        return false;
    }
    slot->used = true;
    slot->done = false;
    slot->cx = cx;
    slot->api = api;
    cx->state = CONN_WAITING;
    /* Suspend before the waiter exists, so that its resume always comes
     * after the suspension. */
    MHD_suspend_connection(conn);
    if (pthread_create(&slot->thread, NULL, waiter_main, slot) != 0) {
        slot->used = false;
        slot->cx = NULL;
        esg_api__fail(&cx->call, ESG_ERR_NOMEM,
                      "transaction %s was admitted, but no thread is left to wait for "
                      "its commit",
                      esg_hash_hex(&cx->call.wait_id).s);
        cx->call.wait = false;
        cx->state = CONN_RESUMED;
        MHD_resume_connection(conn);
    }
    pthread_mutex_unlock(&api->mu);
    return true;
}

/* -------------------------------------------------------- MHD callbacks */

/* What libmicrohttpd 0.9.75 (Debian 12) answers itself, before any code
 * of ours runs, so that neither a check here nor an option changes it
 * (each seen with raw requests against esgnode; tests/integration/
 * test_http_abuse.sh pins the current behaviour):
 *
 *   - "Content-Length: -1" (or any non-digit) and a Content-Length past
 *     2^64: MHD parses the header in parse_connection_headers(), before
 *     the access handler, and answers 400 / 413 with a fixed HTML body
 *     (REQUEST_CONTENTLENGTH_MALFORMED / _TOOLARGE, compile-time strings
 *     of connection.c; no option replaces them). Its state machine then
 *     overwrites the error state with HEADERS_PROCESSED, so the status
 *     line and headers are built a second time and sent twice (the same
 *     code is in 0.9.76). The connection is closed after it, so nothing
 *     of the request is served: the answer is ugly, not smuggled.
 *   - An HTTP version other than 1.0 / 1.1 ("HTTP/2.0"): 505 with an HTML
 *     body, from the request line's parser, before any callback.
 *   - A request line or header block larger than the connection's arena
 *     (ESG_API_CONNECTION_MEMORY): 414 / 431 with an HTML body. Headers
 *     between ESG_API_MAX_HEADER_BYTES and the arena get our JSON 431.
 *   - A header line without a colon and a malformed chunk size line: 400
 *     with an HTML body, from MHD's parsers.
 *
 * Where MHD 0.9.75 does not answer at all, it is handled here: a query of
 * so many parameters that MHD's arena runs out while it stores them gets
 * an error queued that is never sent (the connection hangs), so on_uri
 * cuts such a query before MHD parses it; an unknown Transfer-Encoding
 * makes MHD read the body until the connection closes, so it is refused
 * from the headers. MHD_USE_PEDANTIC_CHECKS / MHD_OPTION_STRICT_FOR_CLIENT
 * are not used: they add more of MHD's HTML answers (a missing Host) and
 * change none of the above.
 *
 * The replacement, if every byte on the wire must be ours: a front that
 * owns the framing (a reverse proxy configured to normalize and refuse,
 * or libmicrohttpd >= 1.0, whose error responses and header checks are
 * reworked), not a hand-written HTTP server. */

static uint64_t now_ms(void) {
    return esg_mono_us() / 1000;
}

/* Logs one line of the HTTP layer through the rate limiter, preceded by
 * the count of lines it left out since the last one it let through. */
static void log_limited(esg_api *api, esg_log_level level, const char *line) {
    uint64_t sup = 0;
    pthread_mutex_lock(&api->log_mu);
    bool pass = esg_ratelimit_allow(&api->log_rl, now_ms(), &sup);
    pthread_mutex_unlock(&api->log_mu);
    if (!pass)
        return;
    if (sup)
        esg_log(api->deps.log, ESG_LOG_WARN,
                "api: suppressed %" PRIu64 " messages of the HTTP layer", sup);
    esg_log(api->deps.log, level, "api: %s", line);
}

/* The sweeper's half of the limiter: a flood that stopped is still
 * counted in the log. */
static void log_flush(esg_api *api) {
    uint64_t sup = 0;
    pthread_mutex_lock(&api->log_mu);
    bool pass = esg_ratelimit_flush(&api->log_rl, now_ms(), &sup);
    pthread_mutex_unlock(&api->log_mu);
    if (pass)
        esg_log(api->deps.log, ESG_LOG_WARN,
                "api: suppressed %" PRIu64 " messages of the HTTP layer", sup);
}

/* Moves a connection to phase `ph` as of now; a cut one stays cut. */
static void track_enter(esg_api *api, conn_track *t, track_phase ph) {
    if (!t)
        return;
    pthread_mutex_lock(&api->conn_mu);
    if (t->phase != TRACK_CUT) {
        t->phase = ph;
        t->since_ms = now_ms();
    }
    pthread_mutex_unlock(&api->conn_mu);
}

/* MHD_OPTION_NOTIFY_CONNECTION: every connection is on api->conns from
 * accept to close, for the sweeper. A connection whose record cannot be
 * allocated is served all the same, with MHD's idle timeout only. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
    esg_api *api = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = NULL;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_track *t = ci ? calloc(1, sizeof *t) : NULL;
        if (!t)
            return;
        t->fd = ci->connect_fd;
        t->phase = TRACK_HEAD;
        t->since_ms = now_ms();
        pthread_mutex_lock(&api->conn_mu);
        t->next = api->conns;
        if (api->conns)
            api->conns->prev = t;
        api->conns = t;
        pthread_mutex_unlock(&api->conn_mu);
        *socket_context = t;
        return;
    }
    conn_track *t = *socket_context;
    if (!t)
        return;
    pthread_mutex_lock(&api->conn_mu);
    if (t->prev)
        t->prev->next = t->next;
    else
        api->conns = t->next;
    if (t->next)
        t->next->prev = t->prev;
    pthread_mutex_unlock(&api->conn_mu);
    free(t);
    *socket_context = NULL;
}

/* Every ESG_API_SWEEP_MS: cuts the connections past their deadline and
 * flushes the log limiter. A cut is a shutdown(2) of the socket, never a
 * close: the descriptor stays MHD's, which sees end of file on its own
 * thread and closes and frees the connection (answering nothing). The
 * descriptor is still open while its record is on the list, as MHD
 * closes it only after NOTIFY_CLOSED, which takes conn_mu. */
static void *sweeper_main(void *arg) {
    esg_api *api = arg;
    pthread_mutex_lock(&api->conn_mu);
    while (!api->sweep_stop) {
        uint64_t now = now_ms();
        unsigned cut = 0;
        for (conn_track *t = api->conns; t; t = t->next) {
            uint64_t limit = t->phase == TRACK_HEAD   ? ESG_API_HEAD_DEADLINE_MS
                             : t->phase == TRACK_BODY ? ESG_API_BODY_DEADLINE_MS
                                                      : 0;
            if (limit && now - t->since_ms > limit) {
                shutdown(t->fd, SHUT_RDWR);
                t->phase = TRACK_CUT;
                cut++;
            }
        }
        pthread_mutex_unlock(&api->conn_mu);
        if (cut) {
            char line[128];
            snprintf(line, sizeof line,
                     "cut %u connection%s past the request deadline", cut,
                     cut == 1 ? "" : "s");
            log_limited(api, ESG_LOG_INFO, line);
        }
        log_flush(api);
        pthread_mutex_lock(&api->conn_mu);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)ESG_API_SWEEP_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!api->sweep_stop)
            pthread_cond_timedwait(&api->sweep_cv, &api->conn_mu, &ts);
    }
    pthread_mutex_unlock(&api->conn_mu);
    return NULL;
}

static conn_ctx *ctx_new(esg_api *api) {
    conn_ctx *cx = calloc(1, sizeof *cx);
    if (cx)
        cx->api = api;
    return cx;
}

/* MHD_OPTION_URI_LOG_CALLBACK: called once the request line is in, before
 * MHD parses the query and the headers; what it returns becomes the
 * request's *con_cls (on_completed frees it, whether or not on_request
 * ever runs). A query of more parameters than the limit is remembered and
 * cut here: MHD stores each parameter in the connection's arena, and when
 * the arena runs out its error answer is never sent (see above). The URI
 * is MHD's own writable copy of the request line, which MHD itself cuts
 * at the '?' after this call and parses from the byte after it, so ending
 * the string there leaves MHD an empty query. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
    (void)conn;
    conn_ctx *cx = ctx_new(cls);
    char *q = uri ? strchr(uri, '?') : NULL;
    if (!cx || !q)
        return cx;
    size_t n = 1;
    for (const char *p = q + 1; *p; p++)
        n += *p == '&';
    if (n > ESG_API_MAX_QUERY_PARAMS) {
        cx->query_params = n;
        q[1] = '\0';
    }
    return cx;
}

/* Headers that decide where a request ends, for request_head_ok. */
typedef struct framing {
    unsigned content_length, transfer_encoding;
    const char *te;     /* the last Transfer-Encoding value */
    const char *spaced; /* a header name holding whitespace */
    const char *cl_odd; /* a Content-Length that is not all digits */
    const char *folded; /* a framing header's name with a fold appended */
} framing;

static enum MHD_Result framing_count(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value) {
    (void)kind;
    framing *f = cls;
    if (!key)
        return MHD_YES;
    if (strpbrk(key, " \t"))
        f->spaced = key;
    /* MHD 0.9.75 appends a folded continuation line ("Content-Length:
     * 5\r\n 7") to the header's name, not its value: the request then has
     * no Content-Length for MHD ("Content-Length7") and one for a proxy
     * that joins the value. Refuse names a fold made of ours. */
    size_t cl_n = strlen(MHD_HTTP_HEADER_CONTENT_LENGTH);
    size_t te_n = strlen(MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if ((strncasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH, cl_n) == 0 && key[cl_n]) ||
        (strncasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING, te_n) == 0 && key[te_n]))
        f->folded = key;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        f->content_length++;
        if (!value || !*value || strspn(value, "0123456789") != strlen(value))
            f->cl_odd = value ? value : "";
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encoding++;
        f->te = value ? value : "";
    }
    return MHD_YES;
}

/* Checks what the headers alone decide: framing no two parsers could read
 * differently (MHD reads the first Content-Length and ignores the rest;
 * a proxy in front may read the last), the header size and the number of
 * query parameters. Sets the error response and returns false when the
 * request is refused. */
static bool request_head_ok(conn_ctx *cx, struct MHD_Connection *conn) {
    esg_api__call *c = &cx->call;
    framing f = {0, 0, NULL, NULL, NULL, NULL};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_count, &f);
    char q[80];
    if (f.spaced) {
        /* RFC 9112 5.1: "Content-Length : 5" is to be refused, not read as
         * another header (MHD) or as the length (some proxies). */
        esg_api__quote(q, sizeof q, f.spaced);
        esg_api__fail(c, ESG_ERR_BAD_FRAMING, "header name '%s' holds whitespace", q);
        return false;
    }
    if (f.folded) {
        esg_api__quote(q, sizeof q, f.folded);
        esg_api__fail(c, ESG_ERR_BAD_FRAMING,
                      "header '%s' is a framing header with a folded line", q);
        return false;
    }
    if (f.cl_odd) {
        /* MHD refuses these itself as far as 0.9.75 goes (HTML 400);
         * checked here so that no later parse can let one through. */
        esg_api__quote(q, sizeof q, f.cl_odd);
        esg_api__fail(c, ESG_ERR_BAD_FRAMING, "Content-Length '%s' is not a number", q);
        return false;
    }
    if (f.content_length > 1) {
        esg_api__fail(c, ESG_ERR_BAD_FRAMING, "request has %u Content-Length headers",
                      f.content_length);
        return false;
    }
    if (f.transfer_encoding > 1) {
        esg_api__fail(c, ESG_ERR_BAD_FRAMING, "request has %u Transfer-Encoding headers",
                      f.transfer_encoding);
        return false;
    }
    if (f.transfer_encoding && strcasecmp(f.te, "chunked") != 0) {
        esg_api__quote(q, sizeof q, f.te);
        esg_api__fail(c, ESG_ERR_BAD_FRAMING,
                      "Transfer-Encoding '%s' is not supported (only 'chunked')", q);
        return false;
    }
    if (f.transfer_encoding && f.content_length) {
        esg_api__fail(c, ESG_ERR_BAD_FRAMING,
                      "request has both Transfer-Encoding and Content-Length");
        return false;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci && ci->header_size > ESG_API_MAX_HEADER_BYTES) {
        esg_api__fail(c, ESG_ERR_HEADERS_TOO_LARGE,
                      "request headers of %zu bytes exceed the limit of %d",
                      ci->header_size, ESG_API_MAX_HEADER_BYTES);
        return false;
    }
    size_t n = cx->query_params;
    if (n == 0) {
        int k = MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
        n = k > 0 ? (size_t)k : 0;
    }
    if (n > ESG_API_MAX_QUERY_PARAMS) {
        esg_api__fail(c, ESG_ERR_TOO_MANY_PARAMS,
                      "query has %zu parameters, more than the limit of %d", n,
                      ESG_API_MAX_QUERY_PARAMS);
        return false;
    }
    return true;
}

/* Content-Length of the request, or -1 when absent or malformed. */
static long long content_length(struct MHD_Connection *conn) {
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!h || !*h)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(h, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    return v;
}

/* Body buffers of at least this many bytes are mapped pages of their own,
 * so that ending the request gives the memory back to the system: glibc
 * would keep a freed 1 MiB chunk in its arena (its mmap threshold grows
 * to the size of the largest block freed), and RSS would stay at its peak
 * after a flood of large bodies. */
#define BODY_MAP_MIN ((size_t)64 << 10)
#define BODY_FIRST_CAP ((size_t)4 << 10)

static void body_free(conn_ctx *cx) {
    if (cx->mapped)
        munmap(cx->buf, cx->cap);
    else
        free(cx->buf);
    if (cx->cap)
        atomic_fetch_sub(&cx->api->body_bytes, cx->cap);
    cx->buf = NULL;
    cx->len = cx->cap = 0;
    cx->mapped = false;
}

/* Appends n bytes to cx's body, growing its buffer geometrically up to the
 * route's limit (cx->len + n <= max_body). Returns 0, ESG_ERR_BUSY when
 * the growth would pass ESG_API_MAX_BODY_BYTES_TOTAL over all requests,
 * or ESG_ERR_NOMEM. */
static int body_append(conn_ctx *cx, const char *data, size_t n) {
    size_t need = cx->len + n, max = cx->route->max_body;
    assert(need <= max);
    if (need > cx->cap) {
        size_t cap = cx->cap ? cx->cap : BODY_FIRST_CAP;
        while (cap < need)
            cap *= 2;
        if (cap > max)
            cap = max;
        size_t grow = cap - cx->cap;
        size_t before = atomic_fetch_add(&cx->api->body_bytes, grow);
        if (before + grow > ESG_API_MAX_BODY_BYTES_TOTAL) {
            atomic_fetch_sub(&cx->api->body_bytes, grow);
            return ESG_ERR_BUSY;
        }
        uint8_t *p;
        if (cap < BODY_MAP_MIN) {
            p = realloc(cx->buf, cap);
        } else if (cx->mapped) {
            p = mremap(cx->buf, cx->cap, cap, MREMAP_MAYMOVE);
            p = p == MAP_FAILED ? NULL : p;
        } else {
            p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                p = NULL;
            } else {
                if (cx->len)
                    memcpy(p, cx->buf, cx->len);
                free(cx->buf);
                cx->mapped = true;
            }
        }
        if (!p) {
            atomic_fetch_sub(&cx->api->body_bytes, grow);
            return ESG_ERR_NOMEM;
        }
        cx->buf = p;
        cx->cap = cap;
    }
    memcpy(cx->buf + cx->len, data, n);
    cx->len = need;
    return 0;
}

/* The first call for a request: its headers are in, no body is read yet.
 * Errors found from the headers alone are answered now; MHD then reads
 * no more of the body and closes the connection after the answer. */
static enum MHD_Result request_begin(conn_ctx *cx, struct MHD_Connection *conn,
                                     const char *method, const char *url) {
    esg_api *api = cx->api;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    cx->track = ci ? ci->socket_context : NULL;
    cx->started = true;
    cx->call.deps = &api->deps;
    cx->call.api = api;
    cx->call.conn = conn;
    cx->call.method = method;
    cx->call.url = url;
    cx->state = CONN_ANSWERED;
    track_enter(api, cx->track, TRACK_BUSY);
    if (!request_head_ok(cx, conn)) {
        cx->close = true;
        return send_call(conn, cx);
    }
    if (!route_request(cx, conn, method, url))
        return send_call(conn, cx);
    long long cl = content_length(conn);
    if (cl > (long long)cx->route->max_body) {
        esg_api__fail(&cx->call, ESG_ERR_TOO_LARGE,
                      "request body of %lld bytes exceeds the limit of %zu", cl,
                      cx->route->max_body);
        return send_call(conn, cx);
    }
    /* Nothing is reserved from Content-Length: a client that announces a
     * megabyte and sends a byte holds a byte. */
    cx->state = CONN_BODY;
    track_enter(api, cx->track, TRACK_BODY);
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    esg_api *api = cls;
    conn_ctx *cx = *con_cls;
    if (!cx) {
        cx = ctx_new(api);
        if (!cx)
            return MHD_NO;
        *con_cls = cx;
    }
    if (!cx->started)
        return request_begin(cx, conn, method, url);

    if (cx->state == CONN_RESUMED) {
        cx->state = CONN_ANSWERED;
        return send_call(conn, cx);
    }
    if (cx->state != CONN_BODY) {
        /* Answered already (or, not expected, suspended): nothing to do
         * but drop what arrives. */
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!cx->refused && cx->len + n > cx->route->max_body)
            cx->refused = ESG_ERR_TOO_LARGE;
        if (!cx->refused) {
            int rc = body_append(cx, upload_data, n);
            if (rc == 0)
                return MHD_YES;
            cx->refused = rc;
        }
        /* Refused: drop what we had and everything after (MHD 0.9.75
         * queues no response while a body arrives); the answer goes out
         * when the body ends, and the deadline cuts a body that does not. */
        cx->discarded += n + cx->len;
        body_free(cx);
        return cx->discarded > MAX_DISCARD ? MHD_NO : MHD_YES;
    }

    /* The whole request is in: run the route. */
    cx->state = CONN_ANSWERED;
    track_enter(api, cx->track, TRACK_BUSY);
    if (cx->refused == ESG_ERR_TOO_LARGE) {
        esg_api__fail(&cx->call, ESG_ERR_TOO_LARGE,
                      "request body exceeds the limit of %zu bytes",
                      cx->route->max_body);
        return send_call(conn, cx);
    }
    if (cx->refused) {
        esg_api__fail(&cx->call, cx->refused, NULL);
        cx->close = true;
        return send_call(conn, cx);
    }
    cx->call.body = cx->buf;
    cx->call.body_len = cx->len;
    cx->route->fn(&cx->call);
    if (cx->call.wait && start_wait(cx, conn))
        return MHD_YES;
    return send_call(conn, cx);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)conn;
    (void)toe;
    esg_api *api = cls;
    conn_ctx *cx = *con_cls;
    if (!cx)
        return;
    /* The connection waits for its next request from now (a cut one
     * stays cut). */
    track_enter(api, cx->track, TRACK_HEAD);
    json_decref(cx->call.json);
    free(cx->call.raw);
    for (size_t i = 0; i < cx->call.n_headers; i++)
        free(cx->call.headers[i].value);
    body_free(cx);
    for (size_t i = 0; i < ESG_API__MAX_PARAMS; i++)
        free(cx->params[i]);
    free(cx);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    esg_api *api = cls;
    char line[512] = "microhttpd: ";
    size_t n = strlen(line);
    vsnprintf(line + n, sizeof line - n, fmt, ap);
    n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_limited(api, ESG_LOG_WARN, line);
}

/* --------------------------------------------------------------- start */

/* Splits "HOST:PORT" / "[V6]:PORT" and resolves it. */
static int resolve_addr(const char *addr, struct sockaddr_storage *ss,
                        socklen_t *sslen, char *err, size_t errlen) {
    char host[256], port[16];
    const char *colon;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof host)
            goto bad;
        memcpy(host, addr + 1, (size_t)(close - addr - 1));
        host[close - addr - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof host)
            goto bad;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
    }
    if (strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof port ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        goto bad;
    snprintf(port, sizeof port, "%s", colon + 1);
    if (atol(port) > 65535)
        goto bad;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0 || !res)
        return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                        "cannot resolve '%s': %s", host, gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sslen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
bad:
    return esg_errf(err, errlen, ESG_ERR_INVALID_ARGUMENT,
                    "api address '%s' is not HOST:PORT", addr);
}

/* Why MHD could not listen on ss: tries the same bind to get errno. */
static void diagnose_bind(const struct sockaddr_storage *ss, socklen_t sslen,
                          const char *addr, char *err, size_t errlen) {
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int e = 0;
    if (fd < 0) {
        e = errno;
    } else {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (const struct sockaddr *)ss, sslen) != 0 || listen(fd, 1) != 0)
            e = errno;
        close(fd);
    }
    if (e)
        esg_errf(err, errlen, ESG_OK, "cannot listen on %s: %s", addr, strerror(e));
    else
        esg_errf(err, errlen, ESG_OK, "cannot start the HTTP server on %s", addr);
}

/* Frees what esg_api_start set up, once no thread uses it. */
static void api_free(esg_api *api) {
    pthread_cond_destroy(&api->sweep_cv);
    pthread_mutex_destroy(&api->log_mu);
    pthread_mutex_destroy(&api->conn_mu);
    pthread_mutex_destroy(&api->mu);
    if (api->token) {
        sodium_memzero(api->token, api->token_len);
        free(api->token);
    }
    free(api);
}

int esg_api_start(esg_api **out, const esg_api_deps *deps, const char *addr,
                  char *err, size_t errlen) {
    assert(out && deps && deps->store && deps->mempool && addr);
    *out = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int rc = resolve_addr(addr, &ss, &sslen, err, errlen);
    if (rc)
        return rc;

    esg_api *api = calloc(1, sizeof *api);
    if (!api)
        return esg_errf(err, errlen, ESG_ERR_NOMEM, "out of memory");
    api->deps = *deps;
    if (api->deps.wait_timeout_ms == 0)
        api->deps.wait_timeout_ms = ESG_API_DEFAULT_WAIT_MS;
    if (deps->bearer_token) {
        api->token = strdup(deps->bearer_token);
        if (!api->token) {
            free(api);
            return esg_errf(err, errlen, ESG_ERR_NOMEM, "out of memory");
        }
        api->token_len = strlen(api->token);
    }
    api->deps.bearer_token = api->token;
    atomic_init(&api->stopping, false);
    atomic_init(&api->body_bytes, 0);
    pthread_mutex_init(&api->mu, NULL);
    pthread_mutex_init(&api->conn_mu, NULL);
    pthread_mutex_init(&api->log_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&api->sweep_cv, &ca);
    pthread_condattr_destroy(&ca);
    rc = esg_ratelimit_init(&api->log_rl, ESG_API_LOG_BURST, ESG_API_LOG_INTERVAL_MS,
                            now_ms());
    assert(rc == 0); /* constant, valid parameters */

    unsigned threads = deps->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned int per_ip = deps->max_conns_per_addr ? deps->max_conns_per_addr
                                                   : ESG_API_MAX_CONNECTIONS_PER_IP;
    if (per_ip > ESG_API_MAX_CONNECTIONS_PER_IP_LIMIT)
        per_ip = ESG_API_MAX_CONNECTIONS_PER_IP_LIMIT;
    /* One thread is MHD's plain internal polling thread (pool size 0). */
    api->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, api,
        /* The logger first, so that MHD logs nothing past it. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(threads > 1 ? threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)ESG_API_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)ESG_API_CONNECTION_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ESG_API_CONNECTION_MEMORY,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, api,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, api,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
        MHD_OPTION_END);
    if (!api->daemon) {
        diagnose_bind(&ss, sslen, addr, err, errlen);
        api_free(api);
        return ESG_ERR_IO;
    }
    if (pthread_create(&api->sweeper, NULL, sweeper_main, api) != 0) {
        MHD_stop_daemon(api->daemon);
        api_free(api);
        return esg_errf(err, errlen, ESG_ERR_NOMEM, "cannot start the API's sweeper thread");
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
    api->port = info ? info->port : 0;
    esg_log(deps->log, ESG_LOG_INFO, "api: listening on %s (port %u, %u threads)",
            addr, (unsigned)api->port, threads);
    *out = api;
    return 0;
}

uint16_t esg_api_port(const esg_api *api) {
    assert(api);
    return api->port;
}

void esg_api_stop(esg_api *api) {
    if (!api)
        return;
    pthread_mutex_lock(&api->mu);
    atomic_store(&api->stopping, true);
    pthread_mutex_unlock(&api->mu);
    /* No waiter starts after `stopping` (checked under mu); the running
     * ones notice it within one wait slice, answer and resume their
     * connections. They must be gone before MHD stops: a suspended
     * connection at MHD_stop_daemon is a fatal error in MHD. */
    for (size_t i = 0; i < ESG_API_MAX_WAITERS; i++)
        if (api->waiters[i].used)
            pthread_join(api->waiters[i].thread, NULL);
    pthread_mutex_lock(&api->conn_mu);
    api->sweep_stop = true;
    pthread_cond_signal(&api->sweep_cv);
    pthread_mutex_unlock(&api->conn_mu);
    pthread_join(api->sweeper, NULL);
    MHD_stop_daemon(api->daemon);
    assert(!api->conns); /* MHD reported every connection closed */
    api_free(api);
}
