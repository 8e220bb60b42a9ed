/* Fuzz target: an HTTP request as the API's routes see it, below the
 * socket (node/api.c, node/api_routes.c). The input is
 *     PATH[?QUERY] "\n" CONTENT-TYPE "\n" BODY
 * (an empty content-type line: no header). The path is matched against
 * every route as the dispatcher does, each {} segment parsed as a hash as
 * the handlers do; every query value is parsed as a bounded integer; the
 * body is decoded as POST /v1/txs decodes it (raw, or base64 in JSON) and
 * the transaction decoded. Asserts: nothing crashes or leaks; a match
 * yields non-empty segments without '/', a failure always sets an error
 * response, a parsed integer lies in its bounds, a decoded body is never
 * longer than the request's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "node/api_routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed helper leaves exactly one JSON error response behind. */
static void check_failed(esg_api__call *c) {
    if (!c->json || c->status < 400 || c->raw)
        abort();
    json_decref(c->json);
    c->json = NULL;
    c->status = 0;
}

static void fuzz_path(esg_api__call *c, const char *path) {
    for (size_t i = 0; i < esg_api__n_routes; i++) {
        char *params[ESG_API__MAX_PARAMS] = {NULL, NULL};
        int m = esg_api__route_match(esg_api__routes[i].pattern, path, params);
        if (m < 0)
            abort(); /* no allocation fails here */
        for (size_t k = 0; k < ESG_API__MAX_PARAMS; k++) {
            if (!params[k])
                continue;
            if (m != 1 || !params[k][0] || strchr(params[k], '/'))
                abort();
            esg_hash h;
            if (!esg_api__parse_hash(c, "id", params[k], &h))
                check_failed(c);
            free(params[k]);
        }
    }
}

static void fuzz_query(esg_api__call *c, char *query) {
    static const uint64_t bounds[][2] = {{0, UINT64_MAX}, {1, 100}, {0, 0}};
    size_t n = 0;
    for (char *kv = strtok(query, "&"); kv; kv = strtok(NULL, "&"), n++) {
        char *v = strchr(kv, '=');
        v = v ? v + 1 : kv + strlen(kv);
        const uint64_t *b = bounds[n % 3];
        uint64_t out;
        if (!esg_api__parse_u64(c, kv, v, b[0], b[1], &out))
            check_failed(c);
        else if (out < b[0] || out > b[1])
            abort();
        char q[80];
        esg_api__quote(q, sizeof q, v);
        if (strlen(q) > 64)
            abort();
    }
}

static void fuzz_body(esg_api__call *c, const char *ct) {
    const uint8_t *raw;
    size_t len;
    uint8_t *decoded;
    if (!esg_api__tx_body(c, ct[0] ? ct : NULL, &raw, &len, &decoded)) {
        check_failed(c);
        return;
    }
    if (len > c->body_len || (!decoded && raw != c->body))
        abort();
    esg_tx *tx;
    if (esg_tx_decode(&tx, raw, len) == 0)
        esg_tx_free(tx);
    free(decoded);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl1 = memchr(data, '\n', size);
    if (!nl1)
        return 0;
    const uint8_t *nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - data));
    if (!nl2)
        return 0;
    /* NUL-terminated copies, as libmicrohttpd hands the strings over. */
    char *url = strndup((const char *)data, (size_t)(nl1 - data));
    char *ct = strndup((const char *)nl1 + 1, (size_t)(nl2 - nl1 - 1));
    size_t body_len = size - (size_t)(nl2 + 1 - data);
    uint8_t *body = malloc(body_len ? body_len : 1);
    if (!url || !ct || !body)
        abort();
    memcpy(body, nl2 + 1, body_len);

    esg_api__call c = {.method = "GET", .url = url, .body = body_len ? body : NULL,
                       .body_len = body_len};
    char *q = strchr(url, '?');
    if (q)
        *q++ = '\0';
    fuzz_path(&c, url);
    if (q)
        fuzz_query(&c, q);
    c.method = "POST";
    fuzz_body(&c, ct);
    if (c.json || c.raw)
        abort(); /* every response was checked and released */
    free(body);
    free(ct);
    free(url);
    return 0;
}
