/* Internal to the HTTP API (node/api.c, node/api_routes*.c): the contract
 * between the server, which speaks HTTP (connections, bodies, auth,
 * suspension), and the routes, which turn one request into one response.
 * Not for use outside node/api*.c.
 *
 * A route handler gets an esg_api__call with the request (path parameters,
 * body) and fills in the response through esg_api__reply_* / esg_api__fail.
 * Handlers run on server threads, several at once; they share nothing but
 * the deps (thread-safe by contract) and must not block for long -- the
 * one exception, waiting for a commit, is esg_api__tx_wait, which the
 * server runs off its threads.
 */
#ifndef ESG_NODE_API_ROUTES_H
#define ESG_NODE_API_ROUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>
#include <microhttpd.h>

#include "ledger/codec.h"
#include "ledger/hash.h"
#include "node/api.h"

#define ESG_API__MAX_PARAMS 2
/* Extra response headers a handler may set (esg_api__add_header). */
#define ESG_API__MAX_HEADERS 2

typedef struct esg_api__call {
    /* Request (all read-only for the handler). */
    const esg_api_deps *deps;
    const esg_api *api;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *params[ESG_API__MAX_PARAMS]; /* {} segments of the route */
    const uint8_t *body;                     /* POST routes; NULL if empty */
    size_t body_len;

    /* Response, set through the helpers below. Exactly one of json or raw
     * is set once the handler returns. */
    unsigned status;
    json_t *json;          /* owned */
    uint8_t *raw;          /* owned (malloc) */
    size_t raw_len;
    const char *ctype;     /* static string; for raw */
    bool www_authenticate; /* add WWW-Authenticate: Bearer */
    const struct esg_asset *asset; /* a built-in file (esg_api__reply_asset) */
    /* Extra headers (Link, NGSILD-Results-Count): the server adds them to
     * whatever response the call ends with. name static, value owned. */
    struct {
        const char *name;
        char *value;
    } headers[ESG_API__MAX_HEADERS];
    size_t n_headers;

    /* Set by a handler that wants the server to wait for a commit
     * (POST /v1/txs?wait=commit) before answering: the server then calls
     * esg_api__tx_wait off its threads. */
    bool wait;
    esg_hash wait_id;
} esg_api__call;

typedef struct esg_api__route {
    const char *method;    /* "GET", "POST" */
    const char *pattern;   /* "/v1/txs/{}/proof": {} matches one segment */
    void (*fn)(esg_api__call *c);
    bool open;             /* served without the bearer token */
    size_t max_body;       /* bytes accepted in the body; 0: none read */
} esg_api__route;

/* The route table, in api_routes.c. */
extern const esg_api__route esg_api__routes[];
extern const size_t esg_api__n_routes;

/* Most bytes POST /v1/txs accepts: a 1 MiB tx as base64 in JSON + 4 KiB. */
#define ESG_API__MAX_TX_BODY (4 * ((ESG_TX_MAX_BYTES + 2) / 3) + 4096)

/* Sets a JSON response (takes ownership of `body`; NULL means out of
 * memory and becomes 503 ERR_NOMEM). */
void esg_api__reply_json(esg_api__call *c, unsigned status, json_t *body);

/* Sets a raw response of `ctype`, taking ownership of the malloc'd buf. */
void esg_api__reply_raw(esg_api__call *c, unsigned status, const char *ctype,
                        uint8_t *buf, size_t len);

/* Sets a 200 response with the built-in file `a` (node/assets.h), served
 * from the binary without a copy, with its content type and headers that
 * keep a browser from guessing (nosniff), from framing it and from sending
 * referrers elsewhere. An HTML file also gets ESG_API__HTML_CSP as its
 * Content-Security-Policy. */
void esg_api__reply_asset(esg_api__call *c, const struct esg_asset *a);

/* The Content-Security-Policy of built-in HTML (the explorer,
 * docs/EXPLORER.md): scripts, styles, fetches and images from the node's
 * own origin only -- no inline script or style element, no framing, no
 * plugins, no form posts. Chart.js sets styles through the CSSOM
 * (element.style), which style-src does not restrict, and draws on a
 * canvas, so it needs nothing more. 'unsafe-eval' is there for one
 * reason: protobufjs, which the in-browser light client decodes with,
 * compiles its decoders from the bundled schema with Function() (and
 * probes for optional modules with eval) -- code made from our own
 * schema, never from what a node sends. Decoding with code generated at
 * build time instead would let it go. */
#define ESG_API__HTML_CSP                                                        \
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; img-src 'self' data:; " \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "    \
    "form-action 'none'; frame-ancestors 'none'"


/* Sets an error response: the status of esg_err_http_status(code) and
 * {"error": {"code", "message"}}; the message is printf-formatted, or the
 * code's default message when fmt is NULL. Replaces any response set. */
void esg_api__fail(esg_api__call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds the response header `name` (a static string) with a copy of
 * `value`, which must hold no CR or LF. Returns false, adding nothing,
 * when ESG_API__MAX_HEADERS are set already or out of memory. */
bool esg_api__add_header(esg_api__call *c, const char *name, const char *value);

/* Copies `s` for use in a message: at most 64 printable ASCII characters,
 * others replaced by '?', so any client input can be quoted in JSON. */
void esg_api__quote(char *out, size_t outlen, const char *s);

/* Waits (sliced, giving up early when the API stops) for c->wait_id to be
 * committed or dropped, and sets the response. Blocking: run off the
 * server's threads when possible. */
void esg_api__tx_wait(esg_api__call *c);

/* True once esg_api_stop has begun. */
bool esg_api__stopping(const esg_api *api);

/* ------------------------------------------------ helpers for the routes
 * Those returning bool set an error response and return false when they
 * fail; the handler then just returns. */

/* A JSON string of lowercase hex; NULL when out of memory. */
json_t *esg_api__hex(const void *data, size_t len);

/* A JSON number (heights, nonces, counts). */
json_t *esg_api__num(uint64_t v);

/* Sets "time" (RFC 3339) and "time_ms" on obj. */
void esg_api__set_time(json_t *obj, uint64_t ms);

/* Query parameter `name` (NULL when absent). */
const char *esg_api__query(const esg_api__call *c, const char *name);

/* Parses query parameter `name` as a decimal integer in [min, max]; def
 * when absent. Fails with 400 ERR_INVALID_ARGUMENT naming the parameter. */
bool esg_api__query_u64(esg_api__call *c, const char *name, uint64_t def,
                        uint64_t min, uint64_t max, uint64_t *out);

/* esg_api__query_u64 once the parameter is found: parses `s`, the value
 * of query parameter `name`, the same way. */
bool esg_api__parse_u64(esg_api__call *c, const char *name, const char *s,
                        uint64_t min, uint64_t max, uint64_t *out);

/* Matches `url` against a route's `pattern` (the dispatcher in api.c,
 * over esg_api__routes); on a match copies the {} segments into out[]
 * (strndup'd; the caller frees them) and returns 1; 0 when it does not
 * match; -1 when out of memory. Pure: exposed for tests/fuzz. */
int esg_api__route_match(const char *pattern, const char *url,
                         char *out[ESG_API__MAX_PARAMS]);

/* The transaction in the body of POST /v1/txs, whose Content-Type header
 * is `ct` (NULL when absent): the body itself (octet-stream, the form
 * type, no type), or the base64 of {"tx": "..."} (application/json),
 * decoded into *decoded (malloc'd, freed by the caller; NULL when the
 * body is used as is). *raw, *len are the transaction's bytes, valid
 * while c->body and *decoded are. Does not check the size. Fails with
 * 400 (ERR_JSON, ERR_INVALID_ARGUMENT, ERR_DECODE) or 503 ERR_NOMEM;
 * *decoded is then NULL. Uses no connection: callable with a fake call. */
bool esg_api__tx_body(esg_api__call *c, const char *ct, const uint8_t **raw,
                      size_t *len, uint8_t **decoded);

/* Parses a path segment that must be 32 bytes of hex (a tx id, a pubkey,
 * a proposal id). Fails with 400 ERR_HEX naming `what`. */
bool esg_api__parse_hash(esg_api__call *c, const char *what, const char *hex,
                         esg_hash *out);

/* Begins a read transaction (500 on failure). End it with
 * esg_store_read_end before replying to a wait or blocking. */
bool esg_api__read_begin(esg_api__call *c, MDB_txn **txn);

/* Fails with the store error `rc` (ERR_STORE_CORRUPT, ERR_STORE, ...),
 * naming what was being read. */
void esg_api__fail_store(esg_api__call *c, int rc, const char *what);

/* Renders a validator set as [{"pubkey","power","operator"}] and its total
 * power (*total may be NULL). */
json_t *esg_api__valset_json(const esg_pb_validator_set *vs, uint64_t *total);

/* Loads block `height` in txn and renders its header (decoded fields,
 * "time", and "raw": hex of the serialized BlockHeader) and commit
 * (height, round, block_hash, sigs [{validator, sig}], "raw"). Any output
 * may be NULL when not wanted; *block (if wanted) is the decoded block,
 * freed by the caller with esg_pb_free. Fails 404 when there is no such
 * block, 500 on corrupt data. */
bool esg_api__load_block(esg_api__call *c, MDB_txn *txn, uint64_t height,
                         esg_pb_block **block, json_t **header, json_t **commit,
                         esg_hash *block_hash);

/* Routes living in api_routes_state.c. */
void esg_api__r_validators(esg_api__call *c);
void esg_api__r_members(esg_api__call *c);
void esg_api__r_member(esg_api__call *c);
void esg_api__r_account(esg_api__call *c);
void esg_api__r_proposals(esg_api__call *c);
void esg_api__r_proposal(esg_api__call *c);
void esg_api__r_kpis(esg_api__call *c);
void esg_api__r_evidence(esg_api__call *c);
void esg_api__r_valset_changes(esg_api__call *c);
void esg_api__r_state_proof(esg_api__call *c);

/* Routes living in api_routes_explorer.c (the web explorer's files). */
void esg_api__r_explorer_index(esg_api__call *c);
void esg_api__r_explorer_file(esg_api__call *c);
/* Whether `r` is one of the two routes above: the dispatcher leaves them
 * out, as if they were not in the table, when deps->no_explorer. */
bool esg_api__route_is_explorer(const esg_api__route *r);

/* Routes living in api_routes_domain.c (instruments, proceeds, impact). */
void esg_api__r_instruments(esg_api__call *c);
void esg_api__r_instrument(esg_api__call *c);
void esg_api__r_instrument_holders(esg_api__call *c);
void esg_api__r_instrument_payments(esg_api__call *c);
void esg_api__r_instrument_allocations(esg_api__call *c);
void esg_api__r_instrument_impact(esg_api__call *c);
void esg_api__r_projects(esg_api__call *c);
void esg_api__r_project(esg_api__call *c);
void esg_api__r_kpi_cities(esg_api__call *c);
void esg_api__r_member_impact(esg_api__call *c);
void esg_api__r_reports(esg_api__call *c);

/* Routes living in api_routes_ngsi.c (NGSI-LD, docs/NGSI-LD.md). */
void esg_api__r_ngsi_entities(esg_api__call *c);
void esg_api__r_ngsi_entity(esg_api__call *c);
void esg_api__r_ngsi_context(esg_api__call *c);

#endif
