/* The wallet's HTTP client: talks to one node's API (docs/API.md) over
 * libcurl.
 *
 * The node answers JSON; an error is an HTTP status >= 400 with
 * {"error": {"code": "ERR_...", "message": "..."}}. This module turns every
 * outcome into either a parsed JSON document or an esgw_error, which keeps
 * the node's code name and message exactly as sent (so an error code this
 * wallet version does not know still reaches the user by name). Failures
 * of the transport itself are ESG_ERR_IO ("cannot reach node at URL: ..."),
 * or ESG_ERR_TIMEOUT when the node accepted the connection but did not
 * answer in time.
 *
 * One client holds one curl handle, so consecutive requests reuse the
 * connection. A client must not be used by two threads at once.
 *
 * Transport hook. A test or fuzz target that plays the node in-process
 * (tests/fuzz/fuzz_light.c) gives the client an esgw_transport, which then
 * carries every request instead of libcurl: it returns the status and the
 * body bytes, and everything after that -- the size limit, error
 * documents, JSON parsing, the errors above -- is the same code as for an
 * answer over HTTP. Without one (the default, and always in esgwallet:
 * wallet/main.c runs esgw_cli_run, which never sets one) nothing changes:
 * libcurl sends the request.
 *
 * Limits: a response body over ESGW_CLIENT_MAX_BODY bytes is refused
 * (ESG_ERR_TOO_LARGE) rather than buffered.
 */
#ifndef ESGW_CLIENT_H
#define ESGW_CLIENT_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

#define ESGW_CLIENT_MAX_BODY (64u << 20)
#define ESGW_CLIENT_CONNECT_TIMEOUT_S 10
/* Whole-request limits: a plain request, and POST ?wait=commit, which the
 * node itself ends after its wait timeout (30 s by default). */
#define ESGW_CLIENT_TIMEOUT_S 60
#define ESGW_CLIENT_WAIT_TIMEOUT_S 300

/* An error as the user will see it: "esgwallet: <name>: <message>". `code`
 * is the ESG_ERR_* value (ESG_ERR_INTERNAL for a name this build does not
 * know); `name` is what the node or the wallet said ("ERR_NONCE"). */
typedef struct esgw_error {
    int code;
    char name[64];
    char message[1024];
} esgw_error;

/* Sets `e` to `code` (its esg_err_name) and the printf-formatted message,
 * or the code's default message when fmt is NULL. Returns code, so that
 * `return esgw_error_set(e, ESG_ERR_X, "...")` reads as one statement. */
int esgw_error_set(esgw_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int esgw_error_setv(esgw_error *e, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

typedef struct esgw_client esgw_client;

/* A replacement for libcurl (see "Transport hook" above). */
typedef struct esgw_transport {
    /* Performs one request for the client: `method` "GET" or "POST",
     * `path` as the client appends it to its base URL ("/v1/status"),
     * body[0..body_len) (NULL for GET). Returns 0 with *status, the HTTP
     * status, and *resp[0..*resp_len), the response body, malloc'd, which
     * the client frees (NULL when empty); or ESG_ERR_IO (the node cannot
     * be reached) or ESG_ERR_TIMEOUT (no answer in time), which the client
     * reports as it reports libcurl's failures. Called on the client's
     * thread, with `arg`. */
    int (*request)(void *arg, const char *method, const char *path, const uint8_t *body,
                   size_t body_len, long *status, uint8_t **resp, size_t *resp_len);
    void *arg;
} esgw_transport;

/* Creates a client for the node at `base_url` ("http://127.0.0.1:8600";
 * a trailing "/" is ignored). Nothing is sent yet.
 * Returns 0 and *out (free with esgw_client_free), or
 * ESG_ERR_INVALID_ARGUMENT (not an http:// or https:// URL) or
 * ESG_ERR_NOMEM, with `err` set. */
int esgw_client_new(esgw_client **out, const char *base_url, esgw_error *err);

/* Frees a client (NULL is allowed). */
void esgw_client_free(esgw_client *c);

/* Sends c's requests through *t (copied; t->arg is borrowed and must
 * outlive c) instead of libcurl; NULL goes back to libcurl. For tests and
 * fuzz targets only. */
void esgw_client_set_transport(esgw_client *c, const esgw_transport *t);

/* The base URL, without a trailing "/". Owned by the client. */
const char *esgw_client_url(const esgw_client *c);

/* GET base_url + `path` (which starts with "/" and is already escaped: see
 * esgw_client_escape). On a 2xx answer whose body is JSON, returns 0 and
 * *out, a new reference the caller releases with json_decref. Otherwise
 * *out is NULL and `err` is set:
 *   the node's {"error": {code, message}}, verbatim, for a >= 400 answer
 *     that carries one (the return value is its esg code);
 *   ESG_ERR_IO        connection failed ("cannot reach node at URL: ...")
 *                     or an error status without an error document;
 *   ESG_ERR_TIMEOUT   no complete answer in time;
 *   ESG_ERR_JSON      the body is not a JSON object;
 *   ESG_ERR_TOO_LARGE, ESG_ERR_NOMEM. */
int esgw_client_get(esgw_client *c, json_t **out, const char *path,
                    esgw_error *err);

/* POST /v1/txs with the serialized Tx `tx` (application/octet-stream),
 * with ?wait=commit when `wait`. Returns as esgw_client_get: on success
 * *out is the node's answer ({"tx_id", "status": "committed", "height",
 * "index"} or {"tx_id", "status": "pending"}). */
int esgw_client_submit(esgw_client *c, json_t **out, const uint8_t *tx,
                       size_t tx_len, bool wait, esgw_error *err);

/* A path segment escaped for a URL ("a b" -> "a%20b"), malloc'd (free()),
 * or NULL when out of memory. */
char *esgw_client_escape(const char *segment);

/* GET /v1/status and copy its chain_id into out[0..outlen). Errors as
 * esgw_client_get, plus ESG_ERR_JSON when chain_id is missing or does not
 * fit. */
int esgw_client_chain_id(esgw_client *c, char *out, size_t outlen,
                         esgw_error *err);

/* What the wallet needs of GET /v1/accounts/{pubkey}. */
typedef struct esgw_account_info {
    char member[64];
    bool admin, officer, revoked;
    uint64_t nonce, next_nonce;
} esgw_account_info;

/* GET /v1/accounts/{pk} into *out. Errors as esgw_client_get (a key that
 * is no account is the node's 404 error), plus ESG_ERR_JSON when a field
 * is missing or malformed. */
int esgw_client_account(esgw_client *c, esgw_account_info *out,
                        const esg_pubkey *pk, esgw_error *err);

/* Reads a uint64 that the node shows as a decimal string (the proto3 JSON
 * mapping) or as a JSON integer. Returns 0, or -1 when `v` is neither. */
int esgw_json_u64(const json_t *v, uint64_t *out);

#endif
