/* The HTTP API (node/api.h) and the protobuf->JSON renderer
 * (ledger/pbjson.h), through a real HTTP client.
 *
 * Each test runs a real chain (tests/contracts/fixture.h: an LMDB store in
 * a temporary directory, a genesis built in code, the real contracts), a
 * real mempool over it, and the API on 127.0.0.1 with a port the kernel
 * picks, and talks to it with libcurl. There is no block producer: a test
 * that needs a block reaps the mempool and produces one itself, as the
 * node's producer does. Every test ends with the API stopped, the mempool
 * freed and the store closed (ASan's leak check runs in each forked test).
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "contracts/fixture.h"
#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/merkle.h"
#include "ledger/pbjson.h"
#include "ledger/smt.h"
#include "ledger/txbuild.h"
#include "node/api.h"
#include "node/assets.h"
#include "node/mempool.h"

/* ------------------------------------------------------------ the setup */

static fx *F;
static esg_mempool *MP;
static esg_api *API;
static const fx_key *ADMIN;    /* city-a's admin (ADMIN, OFFICER) */
static const fx_key *INVESTOR; /* investor-b's admin */

static void fake_status(void *arg, esg_node_status *out) {
    (void)arg;
    memset(out, 0, sizeof *out);
    out->node_key = F->validator.pk;
    out->is_validator = true;
    out->peers = 3;
    out->behind = 0;
}

static void fake_metrics(void *arg, esg_node_metrics *out) {
    (void)arg;
    memset(out, 0, sizeof *out);
    out->blocks_produced = 7;
    out->txs_committed = 9;
    out->block_apply_us_total = 1500000;
}

/* [api] explorer = false for the next api_start (explorer_routes). */
static bool NO_EXPLORER;

static void api_start(uint64_t wait_ms, const char *token) {
    esg_api_deps deps = {
        .store = F->store, .mempool = MP, .log = NULL,
        .status = fake_status, .metrics = fake_metrics, .arg = NULL,
        .threads = 2, .wait_timeout_ms = wait_ms, .bearer_token = token,
        .no_explorer = NO_EXPLORER,
    };
    char err[256] = "";
    int rc = esg_api_start(&API, &deps, "127.0.0.1:0", err, sizeof err);
    ck_assert_msg(rc == 0, "esg_api_start: %s", err);
    ck_assert_uint_gt(esg_api_port(API), 0);
}

static void setup(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    F = fx_new();
    ADMIN = fx_add_member(F, "city-a", ESG_MEMBER_CITY, "City of A");
    INVESTOR = fx_add_member(F, "investor-b", ESG_MEMBER_INVESTOR, "Fund B");
    fx_start(F);
    esg_mempool_limits lim = {100, 1 << 20};
    ck_assert_int_eq(esg_mempool_new(&MP, F->store, F->ct, &lim, NULL, NULL), 0);
    api_start(300, NULL);
}

static void teardown(void) {
    esg_api_stop(API);
    API = NULL;
    esg_mempool_free(MP);
    MP = NULL;
    fx_free(F);
    F = NULL;
    curl_global_cleanup();
}

/* ---------------------------------------------------------- HTTP client */

typedef struct http_resp {
    long status;
    char *body;
    size_t len;
    char ctype[128];
    char csp[512]; /* Content-Security-Policy, "" when absent */
} http_resp;

/* Copies the value of header line p[0..len) into out when it is `name`. */
static void header_value(const char *p, size_t len, const char *name, char *out,
                         size_t outlen) {
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(p, name, nl) != 0)
        return;
    size_t i = nl;
    while (i < len && p[i] == ' ')
        i++;
    size_t m = len - i;
    while (m > 0 && (p[i + m - 1] == '\r' || p[i + m - 1] == '\n'))
        m--;
    if (m >= outlen)
        m = outlen - 1;
    memcpy(out, p + i, m);
    out[m] = '\0';
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg) {
    http_resp *r = arg;
    char *q = realloc(r->body, r->len + sz * n + 1);
    ck_assert_ptr_nonnull(q);
    memcpy(q + r->len, p, sz * n);
    r->body = q;
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg) {
    http_resp *r = arg;
    size_t len = sz * n;
    header_value(p, len, "Content-Type:", r->ctype, sizeof r->ctype);
    header_value(p, len, "Content-Security-Policy:", r->csp, sizeof r->csp);
    return len;
}

/* Sends one request to the API; body NULL means none (GET). Returns
 * curl's result (the transfer may fail when the server goes away). */
static CURLcode http_try(http_resp *r, const char *method, const char *path,
                         const char *ctype, const void *body, size_t len,
                         const char *auth) {
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    ck_assert_ptr_nonnull(h);
    char url[2048];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)esg_api_port(API), path);
    struct curl_slist *hdrs = NULL;
    char line[512];
    if (ctype) {
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, line);
    } else if (body) {
        hdrs = curl_slist_append(hdrs, "Content-Type:"); /* none at all */
    }
    if (auth && strncmp(auth, "chunked", 7) == 0) {
        /* (a test hook: send the body without Content-Length) */
        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
    } else if (auth) {
        snprintf(line, sizeof line, "Authorization: %s", auth);
        hdrs = curl_slist_append(hdrs, line);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return cc;
}

/* http_try that must succeed at the HTTP level. */
static void http(http_resp *r, const char *method, const char *path, const char *ctype,
                 const void *body, size_t len, const char *auth) {
    CURLcode cc = http_try(r, method, path, ctype, body, len, auth);
    ck_assert_msg(cc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(cc));
}

/* A request whose response must be JSON; returns the parsed document
 * (caller decrefs) and the status. */
static json_t *http_json(long *status, const char *method, const char *path,
                         const char *ctype, const void *body, size_t len,
                         const char *auth) {
    http_resp r;
    http(&r, method, path, ctype, body, len, auth);
    ck_assert_msg(strncmp(r.ctype, "application/json", 16) == 0,
                  "%s %s: Content-Type '%s'", method, path, r.ctype);
    json_error_t je;
    json_t *doc = json_loadb(r.body ? r.body : "", r.len, 0, &je);
    ck_assert_msg(doc != NULL, "%s %s: not JSON: %s", method, path, je.text);
    *status = r.status;
    free(r.body);
    return doc;
}

static json_t *get_json(long *status, const char *path) {
    return http_json(status, "GET", path, NULL, NULL, 0, NULL);
}

/* Asserts that doc is {"error": {"code": code, "message": non-empty}}
 * with the status, and returns the message. */
static const char *assert_error(json_t *doc, long status, long want_status,
                                const char *code) {
    json_t *e = json_object_get(doc, "error");
    const char *got = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    ck_assert_msg(got && strcmp(got, code) == 0, "want %s, got %s (%s)", code,
                  got ? got : "(none)", msg ? msg : "");
    ck_assert_int_eq(status, want_status);
    ck_assert_ptr_nonnull(msg);
    ck_assert_uint_gt(strlen(msg), 0);
    return msg;
}

static const char *jstr(json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    ck_assert_msg(s != NULL, "no string '%s'", key);
    return s;
}

static long long jint(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_integer(v), "no integer '%s'", key);
    return json_integer_value(v);
}

/* ------------------------------------------------------- transactions */

/* A signed AddAccount for a fresh key, by city-a's admin, with `nonce`.
 * *raw is malloc'd; *id is the tx id. */
static void make_add_account(uint8_t **raw, size_t *len, esg_hash *id, uint64_t nonce) {
    fx_key k = fx_key_new();
    esg_seckey_wipe(&k.sk);
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    int roles[1] = {ESG_ROLE_OFFICER};
    aa.pubkey = esg_pb_bin(k.pk.b, 32);
    aa.roles = (void *)roles;
    aa.n_roles = 1;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.chain_id = FX_CHAIN_ID;
    body.nonce = nonce;
    body.signer = esg_pb_bin(ADMIN->pk.b, 32);
    body.action_case = ESG_ACTION_ADD_ACCOUNT;
    body.add_account = &aa;
    ck_assert_int_eq(esg_txb_sign_body(raw, len, &body, &ADMIN->sk, 1), 0);
    esg_tx *tx;
    ck_assert_int_eq(esg_tx_decode(&tx, *raw, *len), 0);
    *id = tx->id;
    esg_tx_free(tx);
}

static int commit_fn(void *arg, const char *chain_id, uint64_t height,
                     const esg_hash *block_hash, uint8_t **commit, size_t *len) {
    (void)arg;
    esg_commit_storage cs;
    int rc = esg_commit_sign_single(&cs, &F->validator.sk, chain_id, height, 0, block_hash);
    return rc ? rc : esg_pb_encode(&cs.commit.base, commit, len);
}

/* Does what the node's producer does: reaps the mempool into a block,
 * commits it, reports the outcome. Returns the number of txs included. */
static size_t produce_from_mempool(void) {
    esg_exec_item items[16];
    size_t n = esg_mempool_reap(MP, items, 16);
    esg_produced out;
    F->time_ms += 1000;
    ck_assert_int_eq(esg_exec_produce(F->store, F->ct, items, n, F->time_ms,
                                      &F->validator.pk, false, commit_fn, NULL, &out),
                     0);
    esg_mempool_update(MP, items, n, out.height);
    return out.made ? out.n_included : 0;
}

/* =========================================================== the tests */

START_TEST(status_fields) {
    long st;
    json_t *d = get_json(&st, "/v1/status");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(jstr(d, "chain_id"), FX_CHAIN_ID);
    ck_assert_int_eq(jint(d, "height"), 0);
    ck_assert_str_eq(jstr(d, "genesis_hash"), esg_hash_hex(&F->g->hash).s);
    ck_assert_uint_eq(strlen(jstr(d, "block_hash")), 64);
    esg_hash app = fx_app_hash(F);
    ck_assert_str_eq(jstr(d, "app_hash"), esg_hash_hex(&app).s);
    ck_assert_str_eq(jstr(d, "time"), "2026-01-01T00:00:00Z");
    ck_assert_int_eq(jint(d, "time_ms"), (long long)FX_GENESIS_TIME_MS);
    ck_assert_str_eq(jstr(d, "node_key"), esg_pubkey_hex(&F->validator.pk).s);
    ck_assert(json_is_true(json_object_get(d, "validator")));
    json_t *vals = json_object_get(d, "validators");
    ck_assert_uint_eq(json_array_size(vals), 1);
    json_t *v0 = json_array_get(vals, 0);
    ck_assert_str_eq(jstr(v0, "pubkey"), esg_pubkey_hex(&F->validator.pk).s);
    ck_assert_int_eq(jint(v0, "power"), 10);
    ck_assert_str_eq(jstr(v0, "operator"), "city-a");
    ck_assert_int_eq(jint(d, "total_power"), 10);
    ck_assert_int_eq(jint(d, "peers"), 3);
    json_t *mp = json_object_get(d, "mempool");
    ck_assert_int_eq(jint(mp, "txs"), 0);
    ck_assert_int_eq(jint(mp, "bytes"), 0);
    ck_assert(json_is_false(json_object_get(d, "syncing")));
    ck_assert_int_eq(jint(d, "behind"), 0);
    json_decref(d);
}
END_TEST

START_TEST(post_malformed_body) {
    long st;
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    json_t *d = http_json(&st, "POST", "/v1/txs", "application/octet-stream", junk,
                          sizeof junk, NULL);
    assert_error(d, st, 400, "ERR_DECODE");
    json_decref(d);
    /* No Content-Type at all is taken as raw bytes too. */
    d = http_json(&st, "POST", "/v1/txs", NULL, junk, sizeof junk, NULL);
    assert_error(d, st, 400, "ERR_DECODE");
    json_decref(d);
    /* So is curl's default for --data-binary. */
    d = http_json(&st, "POST", "/v1/txs", "application/x-www-form-urlencoded", junk,
                  sizeof junk, NULL);
    assert_error(d, st, 400, "ERR_DECODE");
    json_decref(d);
    /* Other content types are refused by name. */
    d = http_json(&st, "POST", "/v1/txs", "text/plain", junk, sizeof junk, NULL);
    ck_assert_ptr_nonnull(strstr(assert_error(d, st, 400, "ERR_INVALID_ARGUMENT"),
                                 "text/plain"));
    json_decref(d);
}
END_TEST

START_TEST(post_oversized) {
    long st;
    /* Announced by Content-Length: refused before the body is read. */
    size_t big = (size_t)3 << 20;
    uint8_t *buf = calloc(1, big);
    ck_assert_ptr_nonnull(buf);
    json_t *d = http_json(&st, "POST", "/v1/txs", "application/octet-stream", buf, big,
                          NULL);
    assert_error(d, st, 413, "ERR_TOO_LARGE");
    json_decref(d);
    /* Just over 1 MiB of raw bytes: read (it fits the JSON form's limit)
     * and refused as a transaction. */
    d = http_json(&st, "POST", "/v1/txs", "application/octet-stream", buf,
                  ESG_TX_MAX_BYTES + 1, NULL);
    assert_error(d, st, 413, "ERR_TOO_LARGE");
    json_decref(d);
    /* Not announced (chunked): counted, not buffered, then refused. */
    d = http_json(&st, "POST", "/v1/txs", "application/octet-stream", buf, big,
                  "chunked");
    assert_error(d, st, 413, "ERR_TOO_LARGE");
    json_decref(d);
    free(buf);
    /* The server still answers. */
    d = get_json(&st, "/v1/status");
    ck_assert_int_eq(st, 200);
    json_decref(d);
}
END_TEST

START_TEST(post_non_canonical) {
    uint8_t *raw;
    size_t len;
    esg_hash id;
    make_add_account(&raw, &len, &id, 1);
    /* Re-encode the envelope's first field length (the body's) as a
     * two-byte varint: same message, not protobuf-c's bytes. */
    ck_assert_uint_eq(raw[0], 0x0a);
    ck_assert_uint_lt(raw[1], 0x80);
    uint8_t *nc = malloc(len + 1);
    ck_assert_ptr_nonnull(nc);
    nc[0] = 0x0a;
    nc[1] = (uint8_t)(raw[1] | 0x80);
    nc[2] = 0x00;
    memcpy(nc + 3, raw + 2, len - 2);
    long st;
    json_t *d = http_json(&st, "POST", "/v1/txs", "application/octet-stream", nc,
                          len + 1, NULL);
    assert_error(d, st, 400, "ERR_NON_CANONICAL");
    json_decref(d);
    free(nc);
    free(raw);
    esg_mempool_stats ms;
    esg_mempool_stats_get(MP, &ms);
    ck_assert_uint_eq(ms.txs, 0);
}
END_TEST

START_TEST(post_json_errors) {
    long st;
    const char *bad64 = "{\"tx\": \"***not base64***\"}";
    json_t *d = http_json(&st, "POST", "/v1/txs", "application/json", bad64,
                          strlen(bad64), NULL);
    assert_error(d, st, 400, "ERR_DECODE");
    json_decref(d);
    const char *notjson = "{\"tx\": ";
    d = http_json(&st, "POST", "/v1/txs", "application/json", notjson, strlen(notjson),
                  NULL);
    assert_error(d, st, 400, "ERR_JSON");
    json_decref(d);
    const char *notx = "{\"body\": \"AAAA\"}";
    d = http_json(&st, "POST", "/v1/txs", "application/json", notx, strlen(notx), NULL);
    assert_error(d, st, 400, "ERR_INVALID_ARGUMENT");
    json_decref(d);
    d = http_json(&st, "POST", "/v1/txs?wait=soon", "application/json", notx,
                  strlen(notx), NULL);
    ck_assert_ptr_nonnull(strstr(assert_error(d, st, 400, "ERR_INVALID_ARGUMENT"), "wait"));
    json_decref(d);
}
END_TEST

START_TEST(unknown_route_and_method) {
    long st;
    json_t *d = get_json(&st, "/v1/x");
    ck_assert_str_eq(assert_error(d, st, 404, "ERR_NOT_FOUND"), "no route 'GET /v1/x'");
    json_decref(d);
    d = get_json(&st, "/v1/instruments/GB-1/unknown");
    assert_error(d, st, 404, "ERR_NOT_FOUND");
    json_decref(d);
    d = http_json(&st, "DELETE", "/v1/status", NULL, NULL, 0, NULL);
    assert_error(d, st, 405, "ERR_INVALID_ARGUMENT");
    json_decref(d);
    d = get_json(&st, "/v1/txs");
    assert_error(d, st, 405, "ERR_INVALID_ARGUMENT");
    json_decref(d);
}
END_TEST

/* GET / and /explorer/FILE: the built-in files with their headers, no
 * token needed; a build without the explorer says so; [api] explorer =
 * false makes them unknown routes. */
START_TEST(explorer_routes) {
    http_resp r;
    long st;
    if (esg_assets_have_explorer()) {
        http(&r, "GET", "/", NULL, NULL, 0, NULL);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.ctype, "text/html; charset=utf-8");
        ck_assert_ptr_nonnull(strstr(r.csp, "default-src 'self'"));
        ck_assert_ptr_nonnull(strstr(r.csp, "script-src 'self'"));
        /* No inline script or style; eval only for protobufjs's decoders
         * (ESG_API__HTML_CSP says why). */
        ck_assert_ptr_null(strstr(r.csp, "unsafe-inline"));
        ck_assert_ptr_nonnull(strstr(r.csp, "script-src 'self' 'unsafe-eval';"));
        ck_assert_ptr_nonnull(strstr(r.body, "<html"));
        free(r.body);
        http(&r, "GET", "/explorer/app.js", NULL, NULL, 0, NULL);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.ctype, "text/javascript; charset=utf-8");
        ck_assert_str_eq(r.csp, ""); /* only HTML carries the policy */
        free(r.body);
        json_t *d = get_json(&st, "/explorer/nope.js");
        ck_assert_str_eq(assert_error(d, st, 404, "ERR_NOT_FOUND"),
                         "the explorer has no file 'nope.js'");
        json_decref(d);
        d = get_json(&st, "/explorer/..%2fapi.c");
        assert_error(d, st, 404, "ERR_NOT_FOUND");
        json_decref(d);
    } else {
        json_t *d = get_json(&st, "/");
        ck_assert_ptr_nonnull(strstr(assert_error(d, st, 404, "ERR_NOT_FOUND"),
                                     "built without the web explorer"));
        json_decref(d);
    }
    /* Open even with a token: the page itself asks for nothing secret. */
    esg_api_stop(API);
    api_start(300, "s3cret-token");
    http(&r, "GET", "/", NULL, NULL, 0, NULL);
    ck_assert_int_eq(r.status, esg_assets_have_explorer() ? 200 : 404);
    free(r.body);
    /* Turned off: exactly the answer of a route that does not exist. */
    esg_api_stop(API);
    NO_EXPLORER = true;
    api_start(300, NULL);
    NO_EXPLORER = false;
    json_t *d = get_json(&st, "/");
    ck_assert_str_eq(assert_error(d, st, 404, "ERR_NOT_FOUND"), "no route 'GET /'");
    json_decref(d);
    d = get_json(&st, "/explorer/app.js");
    ck_assert_str_eq(assert_error(d, st, 404, "ERR_NOT_FOUND"),
                     "no route 'GET /explorer/app.js'");
    json_decref(d);
    d = http_json(&st, "POST", "/", "application/json", "{}", 2, NULL);
    assert_error(d, st, 404, "ERR_NOT_FOUND");
    json_decref(d);
}
END_TEST

START_TEST(unknown_tx) {
    long st;
    char path[128];
    snprintf(path, sizeof path, "/v1/txs/%064d", 0);
    json_t *d = get_json(&st, path);
    ck_assert_ptr_nonnull(strstr(assert_error(d, st, 404, "ERR_NOT_FOUND"),
                                 "no committed transaction"));
    json_decref(d);
    snprintf(path, sizeof path, "/v1/txs/%064d/proof", 0);
    d = get_json(&st, path);
    assert_error(d, st, 404, "ERR_NOT_FOUND");
    json_decref(d);
    d = get_json(&st, "/v1/txs/xyz");
    assert_error(d, st, 400, "ERR_HEX");
    json_decref(d);
}
END_TEST

START_TEST(members_and_accounts) {
    long st;
    json_t *d = get_json(&st, "/v1/members");
    ck_assert_int_eq(st, 200);
    json_t *ms = json_object_get(d, "members");
    ck_assert_uint_eq(json_array_size(ms), 2);
    json_t *a = json_array_get(ms, 0); /* key order: city-a < investor-b */
    ck_assert_str_eq(jstr(a, "id"), "city-a");
    ck_assert_str_eq(jstr(a, "kind"), "CITY");
    ck_assert_str_eq(jstr(a, "name"), "City of A");
    ck_assert_str_eq(jstr(a, "country"), "");
    ck_assert(json_is_false(json_object_get(a, "suspended")));
    ck_assert(json_is_array(json_object_get(a, "accredited_categories")));
    ck_assert_int_eq(jint(a, "admitted_height"), 0);
    json_t *accts = json_object_get(a, "accounts");
    ck_assert_uint_eq(json_array_size(accts), 1);
    json_t *acct = json_array_get(accts, 0);
    ck_assert_str_eq(jstr(acct, "pubkey"), esg_pubkey_hex(&ADMIN->pk).s);
    json_t *roles = json_object_get(acct, "roles");
    ck_assert_uint_eq(json_array_size(roles), 2);
    ck_assert_str_eq(json_string_value(json_array_get(roles, 0)), "ADMIN");
    ck_assert_str_eq(json_string_value(json_array_get(roles, 1)), "OFFICER");
    ck_assert_int_eq(jint(acct, "nonce"), 0);
    ck_assert(json_is_false(json_object_get(acct, "revoked")));
    ck_assert_str_eq(jstr(json_array_get(ms, 1), "kind"), "INVESTOR");
    json_decref(d);

    d = get_json(&st, "/v1/members/investor-b");
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(jstr(d, "id"), "investor-b");
    ck_assert_str_eq(jstr(json_array_get(json_object_get(d, "accounts"), 0), "pubkey"),
                     esg_pubkey_hex(&INVESTOR->pk).s);
    json_decref(d);
    d = get_json(&st, "/v1/members/city-z");
    assert_error(d, st, 404, "ERR_NOT_FOUND");
    json_decref(d);
    d = get_json(&st, "/v1/members/Not_An_Id");
    assert_error(d, st, 400, "ERR_BAD_MEMBER_ID");
    json_decref(d);

    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s", esg_pubkey_hex(&ADMIN->pk).s);
    d = get_json(&st, path);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(jstr(d, "pubkey"), esg_pubkey_hex(&ADMIN->pk).s);
    ck_assert_str_eq(jstr(d, "member"), "city-a");
    ck_assert_uint_eq(json_array_size(json_object_get(d, "roles")), 2);
    ck_assert_int_eq(jint(d, "nonce"), 0);
    ck_assert_int_eq(jint(d, "next_nonce"), 1);
    ck_assert(json_is_false(json_object_get(d, "revoked")));
    json_decref(d);
    snprintf(path, sizeof path, "/v1/accounts/%064d", 7);
    d = get_json(&st, path);
    assert_error(d, st, 404, "ERR_NOT_FOUND");
    json_decref(d);
    d = get_json(&st, "/v1/accounts/abc");
    assert_error(d, st, 400, "ERR_HEX");
    json_decref(d);
}
END_TEST

START_TEST(validators_kpis_proposals) {
    long st;
    json_t *d = get_json(&st, "/v1/validators");
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(jint(d, "height"), 1);
    ck_assert_int_eq(jint(d, "total_power"), 10);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "validators")), 1);
    esg_pb_validator_set *vs = fx_valset_at(F, 1);
    esg_hash h;
    ck_assert_int_eq(esg_valset_hash(vs, &h), 0);
    esg_pb_free(vs);
    ck_assert_str_eq(jstr(d, "hash"), esg_hash_hex(&h).s);
    json_decref(d);
    d = get_json(&st, "/v1/validators?height=1");
    ck_assert_int_eq(st, 200);
    json_decref(d);
    d = get_json(&st, "/v1/validators?height=abc");
    ck_assert_ptr_nonnull(strstr(assert_error(d, st, 400, "ERR_INVALID_ARGUMENT"), "'height'"));
    json_decref(d);
    d = get_json(&st, "/v1/validators?height=0");
    assert_error(d, st, 400, "ERR_INVALID_ARGUMENT");
    json_decref(d);

    d = get_json(&st, "/v1/kpis");
    ck_assert_int_eq(st, 200);
    json_t *kpis = json_object_get(d, "kpis");
    ck_assert_uint_ge(json_array_size(kpis), 9);
    bool found = false;
    for (size_t i = 0; i < json_array_size(kpis); i++) {
        json_t *k = json_array_get(kpis, i);
        if (strcmp(jstr(k, "id"), "ghg_avoided_tco2e") == 0) {
            found = true;
            ck_assert_str_eq(jstr(k, "category"), "climate");
            ck_assert_str_eq(jstr(k, "direction"), "HIGHER");
        }
    }
    ck_assert(found);
    json_decref(d);

    d = get_json(&st, "/v1/proposals");
    ck_assert_int_eq(st, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "proposals")), 0);
    json_decref(d);
    d = get_json(&st, "/v1/proposals?status=open");
    ck_assert_int_eq(st, 200);
    json_decref(d);
    d = get_json(&st, "/v1/proposals?status=bogus");
    assert_error(d, st, 400, "ERR_INVALID_ARGUMENT");
    json_decref(d);
    char path[128];
    snprintf(path, sizeof path, "/v1/proposals/%064d", 1);
    d = get_json(&st, path);
    assert_error(d, st, 404, "ERR_NOT_FOUND");
    json_decref(d);
}
END_TEST

START_TEST(metrics_text) {
    http_resp r;
    http(&r, "GET", "/metrics", NULL, NULL, 0, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.ctype, "text/plain; version=0.0.4");
    static const char *names[] = {
        "esg_height 0\n", "esg_blocks_produced_total 7\n", "esg_txs_committed_total 9\n",
        "esg_mempool_txs 0\n", "esg_mempool_bytes 0\n", "esg_mempool_admitted_total 0\n",
        "esg_mempool_rejected_total 0\n", "esg_block_apply_seconds_total 1.500000\n",
        "esg_peers 3\n", "esg_syncing 0\n", "# TYPE esg_height gauge\n",
        "# TYPE esg_txs_committed_total counter\n", "# HELP esg_peers ",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ck_assert_msg(strstr(r.body, names[i]) != NULL, "metrics lack '%s':\n%s", names[i],
                      r.body);
    free(r.body);
}
END_TEST

START_TEST(bearer_token) {
    esg_api_stop(API);
    api_start(300, "s3cret-token");
    long st;
    json_t *d = get_json(&st, "/v1/members");
    assert_error(d, st, 401, "ERR_UNAUTHORIZED");
    json_decref(d);
    d = http_json(&st, "GET", "/v1/members", NULL, NULL, 0, "Bearer wrong-token!");
    assert_error(d, st, 401, "ERR_UNAUTHORIZED");
    json_decref(d);
    d = http_json(&st, "GET", "/v1/members", NULL, NULL, 0, "Basic s3cret-token");
    assert_error(d, st, 401, "ERR_UNAUTHORIZED");
    json_decref(d);
    d = http_json(&st, "GET", "/v1/members", NULL, NULL, 0, "Bearer s3cret-token");
    ck_assert_int_eq(st, 200);
    json_decref(d);
    /* A POST without the token is refused before its body is looked at. */
    d = http_json(&st, "POST", "/v1/txs", "application/octet-stream", "x", 1, NULL);
    assert_error(d, st, 401, "ERR_UNAUTHORIZED");
    json_decref(d);
    /* Status and metrics stay open. */
    d = get_json(&st, "/v1/status");
    ck_assert_int_eq(st, 200);
    json_decref(d);
    http_resp r;
    http(&r, "GET", "/metrics", NULL, NULL, 0, NULL);
    ck_assert_int_eq(r.status, 200);
    free(r.body);
}
END_TEST

START_TEST(post_valid_tx_pending) {
    uint8_t *raw;
    size_t len;
    esg_hash id;
    make_add_account(&raw, &len, &id, 1);
    long st;
    json_t *d = http_json(&st, "POST", "/v1/txs", "application/octet-stream", raw, len,
                          NULL);
    ck_assert_int_eq(st, 202);
    ck_assert_str_eq(jstr(d, "tx_id"), esg_hash_hex(&id).s);
    ck_assert_str_eq(jstr(d, "status"), "pending");
    json_decref(d);
    /* The same tx again is a duplicate, with the mempool's message. */
    d = http_json(&st, "POST", "/v1/txs", "application/octet-stream", raw, len, NULL);
    assert_error(d, st, 409, "ERR_DUPLICATE_TX");
    json_decref(d);
    free(raw);

    /* The JSON form, for the signer's next nonce. */
    make_add_account(&raw, &len, &id, 2);
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(cap);
    ck_assert_ptr_nonnull(b64);
    sodium_bin2base64(b64, cap, raw, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *req = json_pack("{s:s}", "tx", b64);
    char *text = json_dumps(req, 0);
    d = http_json(&st, "POST", "/v1/txs", "application/json; charset=utf-8", text,
                  strlen(text), NULL);
    ck_assert_int_eq(st, 202);
    ck_assert_str_eq(jstr(d, "tx_id"), esg_hash_hex(&id).s);
    json_decref(d);
    free(text);
    json_decref(req);
    free(b64);
    free(raw);

    d = get_json(&st, "/v1/status");
    ck_assert_int_eq(jint(json_object_get(d, "mempool"), "txs"), 2);
    json_decref(d);
    /* Pending is not committed. */
    char path[128];
    snprintf(path, sizeof path, "/v1/txs/%s", esg_hash_hex(&id).s);
    d = get_json(&st, path);
    assert_error(d, st, 404, "ERR_NOT_FOUND");
    json_decref(d);
}
END_TEST

START_TEST(wait_commit_times_out) {
    uint8_t *raw;
    size_t len;
    esg_hash id;
    make_add_account(&raw, &len, &id, 1);
    long st;
    json_t *d = http_json(&st, "POST", "/v1/txs?wait=commit", "application/octet-stream",
                          raw, len, NULL);
    assert_error(d, st, 504, "ERR_TIMEOUT");
    ck_assert_str_eq(jstr(d, "tx_id"), esg_hash_hex(&id).s);
    json_decref(d);
    free(raw);
}
END_TEST

/* Waits, on the mempool (no clock), until it holds n transactions. */
static void await_admitted(size_t n) {
    esg_mempool_stats ms;
    do
        esg_mempool_stats_get(MP, &ms);
    while (ms.txs < n);
}

/* A client thread that POSTs with ?wait=commit. */
typedef struct waiter {
    uint8_t *raw;
    size_t len;
    long status;
    json_t *doc;
} waiter;

static void *waiter_main(void *arg) {
    waiter *w = arg;
    w->doc = http_json(&w->status, "POST", "/v1/txs?wait=commit",
                       "application/octet-stream", w->raw, w->len, NULL);
    return NULL;
}

START_TEST(commit_then_read_back) {
    esg_api_stop(API);
    api_start(20000, NULL);
    waiter w = {0};
    esg_hash id;
    make_add_account(&w.raw, &w.len, &id, 1);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, waiter_main, &w), 0);
    /* Wait (on the mempool, not a clock) until the tx is admitted, then
     * produce the block its waiter is waiting for. */
    await_admitted(1);
    ck_assert_uint_eq(produce_from_mempool(), 1);
    pthread_join(th, NULL);
    ck_assert_int_eq(w.status, 200);
    ck_assert_str_eq(jstr(w.doc, "status"), "committed");
    ck_assert_str_eq(jstr(w.doc, "tx_id"), esg_hash_hex(&id).s);
    ck_assert_int_eq(jint(w.doc, "height"), 1);
    ck_assert_int_eq(jint(w.doc, "index"), 0);
    json_decref(w.doc);
    free(w.raw);

    long st;
    char path[256];
    snprintf(path, sizeof path, "/v1/txs/%s", esg_hash_hex(&id).s);
    json_t *d = get_json(&st, path);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(jint(d, "height"), 1);
    ck_assert_int_eq(jint(d, "index"), 0);
    ck_assert_str_eq(jstr(d, "result"), "OK");
    ck_assert_str_eq(jstr(d, "chain_id"), FX_CHAIN_ID);
    ck_assert_int_eq(jint(d, "nonce"), 1);
    ck_assert_str_eq(jstr(d, "signer"), esg_pubkey_hex(&ADMIN->pk).s);
    json_t *action = json_object_get(d, "action");
    ck_assert_str_eq(jstr(action, "type"), "AddAccount");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(action, "roles"), 0)),
                     "OFFICER");
    json_t *sig0 = json_array_get(json_object_get(d, "signatures"), 0);
    ck_assert_str_eq(jstr(sig0, "pubkey"), esg_pubkey_hex(&ADMIN->pk).s);
    ck_assert_uint_eq(strlen(jstr(sig0, "sig")), 128);
    ck_assert_int_eq(jint(d, "size"), (long long)w.len);
    json_decref(d);

    /* The inclusion proof checks out against the header it carries, and
     * the header hashes to the block hash the commit signs. */
    snprintf(path, sizeof path, "/v1/txs/%s/proof", esg_hash_hex(&id).s);
    d = get_json(&st, path);
    ck_assert_int_eq(st, 200);
    esg_merkle_proof mp;
    memset(&mp, 0, sizeof mp);
    mp.index = (uint64_t)jint(d, "index");
    mp.total = (uint64_t)jint(d, "total");
    json_t *path_arr = json_object_get(d, "path");
    mp.n_path = json_array_size(path_arr);
    for (size_t i = 0; i < mp.n_path; i++)
        ck_assert_int_eq(esg_hex_decode(mp.path[i].b, 32,
                                        json_string_value(json_array_get(path_arr, i))), 0);
    esg_hash root;
    ck_assert_int_eq(esg_hex_decode(root.b, 32, jstr(d, "tx_root")), 0);
    ck_assert(esg_merkle_verify(&root, &id, &mp));
    json_t *header = json_object_get(d, "header");
    ck_assert_str_eq(jstr(header, "tx_root"), jstr(d, "tx_root"));
    const char *hraw = jstr(header, "raw");
    size_t hlen = strlen(hraw) / 2;
    uint8_t *hb = malloc(hlen);
    ck_assert_int_eq(esg_hex_decode(hb, hlen, hraw), 0);
    esg_hash bh = esg_hash_tagged(ESG_TAG_BLOCK, hb, hlen);
    free(hb);
    ck_assert_str_eq(jstr(d, "block_hash"), esg_hash_hex(&bh).s);
    json_t *commit = json_object_get(d, "commit");
    ck_assert_str_eq(jstr(commit, "block_hash"), esg_hash_hex(&bh).s);
    ck_assert_int_eq(jint(commit, "height"), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(commit, "sigs")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "validators")), 1);
    json_decref(d);

    /* The block, decoded and raw. */
    d = get_json(&st, "/v1/blocks/latest");
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(jint(d, "height"), 1);
    ck_assert_str_eq(jstr(d, "hash"), esg_hash_hex(&bh).s);
    json_t *tx0 = json_array_get(json_object_get(d, "txs"), 0);
    ck_assert_str_eq(jstr(tx0, "tx_id"), esg_hash_hex(&id).s);
    ck_assert_str_eq(jstr(tx0, "action_type"), "AddAccount");
    ck_assert_int_eq(jint(tx0, "nonce"), 1);
    ck_assert_str_eq(jstr(json_object_get(d, "header"), "time"), "2026-01-01T00:00:01Z");
    json_decref(d);
    http_resp r;
    http(&r, "GET", "/v1/blocks/1?format=raw", NULL, NULL, 0, NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.ctype, "application/octet-stream");
    esg_pb_block *blk;
    ck_assert_int_eq(esg_pb_block_decode(&blk, (uint8_t *)r.body, r.len, SIZE_MAX), 0);
    ck_assert_uint_eq(blk->n_txs, 1);
    ck_assert_uint_eq(blk->header->height, 1);
    esg_pb_free(blk);
    free(r.body);
    d = get_json(&st, "/v1/blocks/0");
    ck_assert_ptr_nonnull(strstr(assert_error(d, st, 404, "ERR_NOT_FOUND"), "start at"));
    json_decref(d);
    d = get_json(&st, "/v1/blocks/2");
    assert_error(d, st, 404, "ERR_NOT_FOUND");
    json_decref(d);
    d = get_json(&st, "/v1/blocks/one");
    assert_error(d, st, 400, "ERR_INVALID_ARGUMENT");
    json_decref(d);
    d = get_json(&st, "/v1/blocks/1?format=xml");
    assert_error(d, st, 400, "ERR_INVALID_ARGUMENT");
    json_decref(d);

    /* Blocks for replay. */
    d = get_json(&st, "/v1/blocks?from=1&limit=5");
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(jint(d, "tip"), 1);
    json_t *blocks = json_object_get(d, "blocks");
    ck_assert_uint_eq(json_array_size(blocks), 1);
    ck_assert_int_eq(jint(json_array_get(blocks, 0), "height"), 1);
    const char *b64 = jstr(json_array_get(blocks, 0), "block");
    uint8_t *bin = malloc(strlen(b64));
    size_t blen;
    ck_assert_int_eq(sodium_base642bin(bin, strlen(b64), b64, strlen(b64), NULL, &blen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL), 0);
    ck_assert_int_eq(esg_pb_block_decode(&blk, bin, blen, SIZE_MAX), 0);
    esg_pb_free(blk);
    free(bin);
    json_decref(d);
    d = get_json(&st, "/v1/blocks?from=0");
    ck_assert_ptr_nonnull(strstr(assert_error(d, st, 400, "ERR_INVALID_ARGUMENT"), "'from'"));
    json_decref(d);
    d = get_json(&st, "/v1/blocks?from=1&limit=101");
    ck_assert_ptr_nonnull(strstr(assert_error(d, st, 400, "ERR_INVALID_ARGUMENT"), "'limit'"));
    json_decref(d);
    d = get_json(&st, "/v1/blocks?from=9");
    ck_assert_int_eq(st, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(d, "blocks")), 0);
    json_decref(d);

    /* The signer's nonce moved. */
    snprintf(path, sizeof path, "/v1/accounts/%s", esg_pubkey_hex(&ADMIN->pk).s);
    d = get_json(&st, path);
    ck_assert_int_eq(jint(d, "nonce"), 1);
    ck_assert_int_eq(jint(d, "next_nonce"), 2);
    json_decref(d);
}
END_TEST

START_TEST(wait_ends_on_mempool_shutdown) {
    esg_api_stop(API);
    api_start(60000, NULL);
    waiter w = {0};
    esg_hash id;
    make_add_account(&w.raw, &w.len, &id, 1);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, waiter_main, &w), 0);
    await_admitted(1);
    /* What a stopping node does first: the waiter answers at once. */
    esg_mempool_shutdown(MP);
    pthread_join(th, NULL);
    const char *msg = assert_error(w.doc, w.status, 504, "ERR_TIMEOUT");
    ck_assert_msg(strstr(msg, "shutting down") != NULL, "%s", msg);
    ck_assert_str_eq(jstr(w.doc, "tx_id"), esg_hash_hex(&id).s);
    json_decref(w.doc);
    free(w.raw);
}
END_TEST

/* A client whose request may fail when the server goes away. */
typedef struct loose_client {
    uint8_t *raw;
    size_t len;
    CURLcode cc;
    http_resp r;
} loose_client;

static void *loose_main(void *arg) {
    loose_client *lc = arg;
    lc->cc = http_try(&lc->r, "POST", "/v1/txs?wait=commit", "application/octet-stream",
                      lc->raw, lc->len, NULL);
    return NULL;
}

START_TEST(stop_while_waiting) {
    esg_api_stop(API);
    api_start(60000, NULL);
    loose_client lc = {0};
    esg_hash id;
    make_add_account(&lc.raw, &lc.len, &id, 1);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, loose_main, &lc), 0);
    await_admitted(1);
    /* The API stops with a request suspended in a wait: the waiter ends,
     * the connection is closed, nothing leaks, nothing hangs. */
    esg_api_stop(API);
    API = NULL;
    pthread_join(th, NULL);
    if (lc.cc == CURLE_OK && lc.r.len > 0)
        ck_assert_int_eq(lc.r.status, 504);
    free(lc.r.body);
    free(lc.raw);
}
END_TEST

START_TEST(state_proof_verifies) {
    /* Make a block so that the proof comes with a header and commit. */
    uint8_t *raw;
    size_t len;
    esg_hash id;
    make_add_account(&raw, &len, &id, 1);
    char msg[256];
    ck_assert_int_eq(esg_mempool_add(MP, raw, len, &id, msg, sizeof msg), 0);
    free(raw);
    ck_assert_uint_eq(produce_from_mempool(), 1);

    long st;
    char path[256];
    snprintf(path, sizeof path, "/v1/state/proof?table=%d&key=%s", (int)ESG_T_ACCOUNTS,
             esg_pubkey_hex(&ADMIN->pk).s);
    json_t *d = get_json(&st, path);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(jint(d, "height"), 1);
    esg_hash app, key;
    ck_assert_int_eq(esg_hex_decode(app.b, 32, jstr(d, "app_hash")), 0);
    ck_assert_str_eq(jstr(json_object_get(d, "header"), "app_hash"), jstr(d, "app_hash"));
    ck_assert_int_eq(esg_hex_decode(key.b, 32, jstr(d, "key")), 0);
    esg_hash want = esg_state_key(ESG_T_ACCOUNTS, ADMIN->pk.b, 32);
    ck_assert(esg_hash_eq(&key, &want));
    const char *vhex = jstr(d, "value");
    size_t vlen = strlen(vhex) / 2;
    uint8_t *val = malloc(vlen);
    ck_assert_int_eq(esg_hex_decode(val, vlen, vhex), 0);
    esg_pb_account *acct;
    ck_assert_int_eq(esg_pb_account_decode(&acct, val, vlen, SIZE_MAX), 0);
    ck_assert_uint_eq(acct->nonce, 1);
    esg_pb_free(acct);
    esg_hash vh = esg_sha256(val, vlen);
    free(val);
    esg_smt_proof *proof = calloc(1, sizeof *proof);
    json_t *proof_j = json_object_get(d, "proof");
    json_t *sibs = json_object_get(proof_j, "siblings");
    proof->n_siblings = (uint16_t)json_array_size(sibs);
    for (size_t i = 0; i < proof->n_siblings; i++)
        ck_assert_int_eq(esg_hex_decode(proof->siblings[i].b, 32,
                                        json_string_value(json_array_get(sibs, i))), 0);
    json_t *leaf = json_object_get(proof_j, "leaf");
    proof->has_leaf = true;
    ck_assert_int_eq(esg_hex_decode(proof->leaf_key.b, 32, jstr(leaf, "key")), 0);
    ck_assert_int_eq(esg_hex_decode(proof->leaf_value_hash.b, 32, jstr(leaf, "value_hash")), 0);
    ck_assert_int_eq(esg_smt_verify(&app, &key, &vh, proof), 0);
    free(proof);
    json_decref(d);

    /* An absent record: value null, the proof shows absence. */
    snprintf(path, sizeof path, "/v1/state/proof?table=%d&key=%064d", (int)ESG_T_ACCOUNTS, 5);
    d = get_json(&st, path);
    ck_assert_int_eq(st, 200);
    ck_assert(json_is_null(json_object_get(d, "value")));
    json_decref(d);
    d = get_json(&st, "/v1/state/proof?table=3&key=zz");
    assert_error(d, st, 400, "ERR_INVALID_ARGUMENT");
    json_decref(d);
    d = get_json(&st, "/v1/state/proof?key=00");
    assert_error(d, st, 400, "ERR_INVALID_ARGUMENT");
    json_decref(d);
    d = get_json(&st, "/v1/state/proof?table=256&key=00");
    assert_error(d, st, 400, "ERR_INVALID_ARGUMENT");
    json_decref(d);
}
END_TEST

/* ----------------------------------------------------- the renderer */

START_TEST(pbjson_mapping) {
    /* A proposal record exercises enums, a oneof with "type", bytes,
     * uint64 strings, repeated strings and defaults. */
    uint8_t pid[32];
    memset(pid, 0xab, sizeof pid);
    esg_pb_add_member am = ESG_PB_ADD_MEMBER_INIT;
    am.id = "city-c";
    am.kind = ESG_MEMBER_CITY;
    am.name = "C";
    am.country = "";
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_ADD_MEMBER;
    p.add_member = &am;
    p.description = "admit C";
    esg_pb_proposal_record rec = ESG_PB_PROPOSAL_RECORD_INIT;
    rec.id = esg_pb_bin(pid, 32);
    rec.proposal = &p;
    rec.proposer = "city-a";
    rec.created_height = UINT64_C(18446744073709551615);
    char *approvals[] = {"city-a", "city-b"};
    rec.approvals = approvals;
    rec.n_approvals = 2;
    rec.status = ESG_PROPOSAL_STATUS_OPEN;
    json_t *j = esg_pb_to_json(&rec.base);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(jstr(j, "id"), "abababababababababababababababababababababababababababababababab");
    ck_assert_str_eq(jstr(j, "created_height"), "18446744073709551615");
    ck_assert_str_eq(jstr(j, "decided_height"), "0"); /* defaults are shown */
    ck_assert_str_eq(jstr(j, "failure"), "");
    ck_assert_str_eq(jstr(j, "status"), "OPEN");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "approvals")), 2);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "rejections")), 0);
    json_t *pj = json_object_get(j, "proposal");
    ck_assert_str_eq(jstr(pj, "type"), "AddMember");
    ck_assert_str_eq(jstr(pj, "description"), "admit C");
    json_t *amj = json_object_get(pj, "add_member");
    ck_assert_str_eq(jstr(amj, "kind"), "CITY");
    ck_assert_str_eq(jstr(amj, "admin_pubkey"), "");
    /* Only the set member of the oneof appears. */
    ck_assert_ptr_null(json_object_get(pj, "suspend_member"));
    json_decref(j);

    /* An unset sub-message is null; an enum value the schema lacks is its
     * number; 32-bit integers are numbers. */
    esg_pb_block blk = ESG_PB_BLOCK_INIT;
    j = esg_pb_to_json(&blk.base);
    ck_assert(json_is_null(json_object_get(j, "header")));
    json_decref(j);
    esg_pb_kpi k = ESG_PB_KPI_INIT;
    k.direction = 77;
    j = esg_pb_to_json(&k.base);
    ck_assert_int_eq(jint(j, "direction"), 77);
    ck_assert_str_eq(jstr(j, "id"), "");
    json_decref(j);
    esg_pb_commit cm = ESG_PB_COMMIT_INIT;
    cm.round = 3;
    j = esg_pb_to_json(&cm.base);
    ck_assert_int_eq(jint(j, "round"), 3);
    ck_assert_str_eq(jstr(j, "height"), "0");
    json_decref(j);

    /* Enum names: prefix stripping and parsing. */
    const ProtobufCEnumDescriptor *ed =
        protobuf_c_message_descriptor_get_field_by_name(ESG_PB_PROJECT_DESC, "eu_objective")
            ->descriptor;
    char name[32];
    ck_assert_int_eq(esg_pb_enum_short_name(ed, ESG_EU_OBJECTIVE_CCM, name, sizeof name), 0);
    ck_assert_str_eq(name, "CCM");
    ck_assert_int_eq(esg_pb_enum_short_name(ed, 99, name, sizeof name), -1);
    int v;
    ck_assert_int_eq(esg_pb_enum_parse(ed, "wtr", &v), 0);
    ck_assert_int_eq(v, ESG_EU_OBJECTIVE_WTR);
    ck_assert_int_eq(esg_pb_enum_parse(ed, "EU_OBJECTIVE_BIO", &v), 0);
    ck_assert_int_eq(v, ESG_EU_OBJECTIVE_BIO);
    ck_assert_int_eq(esg_pb_enum_parse(ed, "nope", &v), -1);
    /* The action of a tx body: "type" and the oneof member. */
    esg_pb_subscribe sub = ESG_PB_SUBSCRIBE_INIT;
    sub.instrument = "GB-1";
    sub.units = 5;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_SUBSCRIBE;
    body.subscribe = &sub;
    j = esg_pb_to_json(&body.base);
    ck_assert_str_eq(jstr(j, "type"), "Subscribe");
    ck_assert_str_eq(jstr(json_object_get(j, "subscribe"), "units"), "5");
    ck_assert_str_eq(jstr(j, "nonce"), "0");
    json_decref(j);
}
END_TEST

START_TEST(start_errors) {
    esg_api_deps deps = {.store = F->store, .mempool = MP};
    esg_api *api = NULL;
    char err[256] = "";
    ck_assert_int_eq(esg_api_start(&api, &deps, "no-port", err, sizeof err),
                     ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(api);
    ck_assert_uint_gt(strlen(err), 0);
    ck_assert_int_eq(esg_api_start(&api, &deps, "127.0.0.1:99999", err, sizeof err),
                     ESG_ERR_INVALID_ARGUMENT);
    /* The port the fixture's API holds is in use. */
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)esg_api_port(API));
    ck_assert_int_eq(esg_api_start(&api, &deps, addr, err, sizeof err), ESG_ERR_IO);
    ck_assert_ptr_null(api);
    ck_assert_msg(strstr(err, addr) != NULL, "%s", err);
    esg_api_stop(NULL);
}
END_TEST

Suite *suite_api(void) {
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, status_fields);
    tcase_add_test(tc, post_malformed_body);
    tcase_add_test(tc, post_oversized);
    tcase_add_test(tc, post_non_canonical);
    tcase_add_test(tc, post_json_errors);
    tcase_add_test(tc, unknown_route_and_method);
    tcase_add_test(tc, explorer_routes);
    tcase_add_test(tc, unknown_tx);
    tcase_add_test(tc, members_and_accounts);
    tcase_add_test(tc, validators_kpis_proposals);
    tcase_add_test(tc, metrics_text);
    tcase_add_test(tc, bearer_token);
    tcase_add_test(tc, post_valid_tx_pending);
    tcase_add_test(tc, wait_commit_times_out);
    tcase_add_test(tc, commit_then_read_back);
    tcase_add_test(tc, wait_ends_on_mempool_shutdown);
    tcase_add_test(tc, stop_while_waiting);
    tcase_add_test(tc, state_proof_verifies);
    tcase_add_test(tc, start_errors);
    suite_add_tcase(s, tc);
    TCase *pb = tcase_create("pbjson");
    tcase_add_test(pb, pbjson_mapping);
    suite_add_tcase(s, pb);
    return s;
}
