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
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "ledger/error.h"
#include "node/api_routes.h"

/* A waiter thread's slot. `done` is set (under api->mu) by the waiter as
 * its last act; a done slot is joined before it is reused. */
typedef struct waiter_slot {
    pthread_t thread;
    bool used, done;
    struct conn_ctx *cx;
    esg_api *api;
} waiter_slot;

struct esg_api {
    esg_api_deps deps;
    char *token;
    size_t token_len;
    struct MHD_Daemon *daemon;
    uint16_t port;
    atomic_bool stopping;
    pthread_mutex_t mu;
    waiter_slot waiters[ESG_API_MAX_WAITERS];
};

typedef enum conn_state {
    CONN_BODY = 0,  /* routed; receiving the body (if any) */
    CONN_WAITING,   /* suspended while a waiter thread waits */
    CONN_RESUMED,   /* the waiter is done: send call.* */
    CONN_ANSWERED,  /* a response is queued */
} conn_state;

/* Per-request state, from the first call of on_request until
 * on_completed. */
typedef struct conn_ctx {
    esg_api *api;
    const esg_api__route *route;
    esg_api__call call;
    conn_state state;
    char *params[ESG_API__MAX_PARAMS];
    uint8_t *buf;
    size_t len, cap;
    bool too_large;
    size_t discarded;
} conn_ctx;

/* Past this many discarded bytes of an oversized body whose size was not
 * announced (chunked), the connection is cut instead of drained. */
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
    c->status = status;
    c->raw = buf;
    c->raw_len = len;
    c->ctype = ctype;
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
    c->status = (unsigned)esg_err_http_status(code);
    c->json = json_pack("{s:{s:s,s:o}}", "error", "code", esg_err_name(code),
                        "message", safe_string(msg));
    if (c->status == 500 && c->deps)
        esg_log(c->deps->log, ESG_LOG_WARN, "api: %s %s: %s %s", c->method,
                c->url, esg_err_name(code), msg);
}

/* Queues c's response on the connection. */
static enum MHD_Result send_call(struct MHD_Connection *conn, esg_api__call *c) {
    struct MHD_Response *resp;
    const char *ctype;
    if (c->raw) {
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
    enum MHD_Result r = MHD_queue_response(conn, c->status ? c->status : 500, resp);
    MHD_destroy_response(resp);
    return r;
}

/* -------------------------------------------------------------- routing */

/* Matches `url` against `pattern`; on a match copies the {} segments
 * into out[] (strndup'd; the caller frees them) and returns 1; 0 when it
 * does not match; -1 when out of memory. */
static int route_match(const char *pattern, const char *url,
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
        char *params[ESG_API__MAX_PARAMS] = {NULL, NULL};
        int m = route_match(r->pattern, url, params);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    esg_api *api = cls;
    conn_ctx *cx = *con_cls;
    if (!cx) {
        cx = calloc(1, sizeof *cx);
        if (!cx)
            return MHD_NO;
        *con_cls = cx;
        cx->api = api;
        cx->call.deps = &api->deps;
        cx->call.api = api;
        cx->call.conn = conn;
        cx->call.method = method;
        cx->call.url = url;
        /* Errors found from the headers alone are answered before any
         * body is read (MHD then reads no more of it). */
        cx->state = CONN_ANSWERED;
        if (!route_request(cx, conn, method, url))
            return send_call(conn, &cx->call);
        long long cl = content_length(conn);
        if (cl > (long long)cx->route->max_body) {
            esg_api__fail(&cx->call, ESG_ERR_TOO_LARGE,
                          "request body of %lld bytes exceeds the limit of %zu", cl,
                          cx->route->max_body);
            return send_call(conn, &cx->call);
        }
        if (cl > 0) {
            /* Announced: one allocation of the right size. */
            cx->buf = malloc((size_t)cl);
            if (!cx->buf)
                return MHD_NO;
            cx->cap = (size_t)cl;
        }
        cx->state = CONN_BODY;
        return MHD_YES;
    }

    if (cx->state == CONN_RESUMED) {
        cx->state = CONN_ANSWERED;
        return send_call(conn, &cx->call);
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
        if (cx->too_large || cx->len + n > cx->route->max_body) {
            /* Drop what we had and everything after: only the size is
             * reported. */
            cx->too_large = true;
            free(cx->buf);
            cx->buf = NULL;
            cx->discarded += n + cx->len;
            cx->len = cx->cap = 0;
            return cx->discarded > MAX_DISCARD ? MHD_NO : MHD_YES;
        }
        if (cx->len + n > cx->cap) {
            size_t cap = cx->cap ? cx->cap : 4096;
            while (cap < cx->len + n)
                cap *= 2;
            if (cap > cx->route->max_body)
                cap = cx->route->max_body;
            uint8_t *p = realloc(cx->buf, cap);
            if (!p)
                return MHD_NO;
            cx->buf = p;
            cx->cap = cap;
        }
        memcpy(cx->buf + cx->len, upload_data, n);
        cx->len += n;
        return MHD_YES;
    }

    /* The whole request is in: run the route. */
    cx->state = CONN_ANSWERED;
    if (cx->too_large) {
        esg_api__fail(&cx->call, ESG_ERR_TOO_LARGE,
                      "request body exceeds the limit of %zu bytes",
                      cx->route->max_body);
        return send_call(conn, &cx->call);
    }
    cx->call.body = cx->buf;
    cx->call.body_len = cx->len;
    cx->route->fn(&cx->call);
    if (cx->call.wait && start_wait(cx, conn))
        return MHD_YES;
    return send_call(conn, &cx->call);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)conn;
    (void)toe;
    conn_ctx *cx = *con_cls;
    if (!cx)
        return;
    json_decref(cx->call.json);
    free(cx->call.raw);
    free(cx->buf);
    for (size_t i = 0; i < ESG_API__MAX_PARAMS; i++)
        free(cx->params[i]);
    free(cx);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0)))
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
    const esg_api *api = cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    esg_log(api->deps.log, ESG_LOG_WARN, "api: microhttpd: %s", line);
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
    pthread_mutex_init(&api->mu, NULL);

    unsigned threads = deps->threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* One thread is MHD's plain internal polling thread (pool size 0). */
    api->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, api,
        /* The logger first, so that MHD logs nothing past it. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(threads > 1 ? threads : 0),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)ESG_API_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)ESG_API_CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
        MHD_OPTION_END);
    if (!api->daemon) {
        diagnose_bind(&ss, sslen, addr, err, errlen);
        pthread_mutex_destroy(&api->mu);
        free(api->token);
        free(api);
        return ESG_ERR_IO;
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
    MHD_stop_daemon(api->daemon);
    pthread_mutex_destroy(&api->mu);
    if (api->token) {
        sodium_memzero(api->token, api->token_len);
        free(api->token);
    }
    free(api);
}
