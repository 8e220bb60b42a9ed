/* The wallet's HTTP client on libcurl (wallet/client.h). */
#include "wallet/client.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"

struct esgw_client {
    CURL *h;
    char *url; /* without a trailing "/" */
    esgw_transport transport; /* request NULL: libcurl */
};

/* ------------------------------------------------------------- errors */

int esgw_error_setv(esgw_error *e, int code, const char *fmt, va_list ap) {
    assert(e);
    e->code = code;
    snprintf(e->name, sizeof e->name, "%s", esg_err_name(code));
    if (fmt)
        vsnprintf(e->message, sizeof e->message, fmt, ap);
    else
        snprintf(e->message, sizeof e->message, "%s", esg_err_message(code));
    return code;
}

int esgw_error_set(esgw_error *e, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    esgw_error_setv(e, code, fmt, ap);
    va_end(ap);
    return code;
}

/* ------------------------------------------------------------- client */

int esgw_client_new(esgw_client **out, const char *base_url, esgw_error *err) {
    assert(out && base_url && err);
    *out = NULL;
    if (strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
        return esgw_error_set(err, ESG_ERR_INVALID_ARGUMENT,
                              "node URL '%s' must start with http:// or https://", base_url);
    /* Thread-safe since curl 7.84 and reference counted: paired with the
     * cleanup in esgw_client_free. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return esgw_error_set(err, ESG_ERR_INTERNAL, "cannot initialize libcurl");
    esgw_client *c = calloc(1, sizeof *c);
    if (c)
        c->url = strdup(base_url);
    if (c && c->url)
        c->h = curl_easy_init();
    if (!c || !c->url || !c->h) {
        if (c) {
            free(c->url);
            free(c);
        }
        curl_global_cleanup();
        return esgw_error_set(err, ESG_ERR_NOMEM, NULL);
    }
    size_t n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    *out = c;
    return 0;
}

void esgw_client_free(esgw_client *c) {
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    free(c->url);
    free(c);
    curl_global_cleanup();
}

void esgw_client_set_transport(esgw_client *c, const esgw_transport *t) {
    assert(c && (!t || t->request));
    if (t)
        c->transport = *t;
    else
        memset(&c->transport, 0, sizeof c->transport);
}

const char *esgw_client_url(const esgw_client *c) {
    assert(c);
    return c->url;
}

char *esgw_client_escape(const char *segment) {
    assert(segment);
    /* curl_easy_escape accepts a NULL handle (curl >= 7.82). */
    char *e = curl_easy_escape(NULL, segment, 0);
    if (!e)
        return NULL;
    char *copy = strdup(e); /* so the caller frees with free(), not curl_free */
    curl_free(e);
    return copy;
}

/* ------------------------------------------------------------ requests */

typedef struct rbuf {
    char *p;
    size_t len, cap;
    bool too_large, nomem;
} rbuf;

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg) {
    rbuf *b = arg;
    size_t n = size * nmemb;
    if (n > ESGW_CLIENT_MAX_BODY - b->len) {
        b->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = true;
            return 0;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* Turns an HTTP error answer into `err`: the node's error document when it
 * sent one, else a description of the status. */
static int http_error(esgw_client *c, long status, const rbuf *b, esgw_error *err) {
    json_t *doc = b->len ? json_loadb(b->p, b->len, 0, NULL) : NULL;
    json_t *e = json_is_object(doc) ? json_object_get(doc, "error") : NULL;
    const char *name = json_string_value(json_object_get(e, "code"));
    if (name && *name) {
        const char *msg = json_string_value(json_object_get(e, "message"));
        err->code = esg_err_from_name(name);
        if (err->code == 0)
            err->code = ESG_ERR_INTERNAL;
        snprintf(err->name, sizeof err->name, "%s", name);
        snprintf(err->message, sizeof err->message, "%s", msg ? msg : "");
        json_decref(doc);
        return err->code;
    }
    json_decref(doc);
    return esgw_error_set(err, ESG_ERR_IO, "node at %s answered HTTP %ld without an error document",
                          c->url, status);
}

/* Sets `err` for a request that got no usable answer: `code` is
 * ESG_ERR_NOMEM, ESG_ERR_TOO_LARGE (the body passed the limit),
 * ESG_ERR_TIMEOUT or ESG_ERR_IO (with `why`). One wording for libcurl and
 * a transport hook. Returns `code`. */
static int no_answer(const esgw_client *c, esgw_error *err, int code, long timeout_s,
                     const char *why) {
    switch (code) {
    case ESG_ERR_NOMEM: return esgw_error_set(err, code, NULL);
    case ESG_ERR_TOO_LARGE:
        return esgw_error_set(err, code, "answer of node at %s exceeds %u bytes", c->url,
                              ESGW_CLIENT_MAX_BODY);
    case ESG_ERR_TIMEOUT:
        return esgw_error_set(err, code, "node at %s did not answer within %ld s", c->url,
                              timeout_s);
    default: return esgw_error_set(err, ESG_ERR_IO, "cannot reach node at %s: %s", c->url, why);
    }
}

/* Sends one request to c->url + path through libcurl; `body` NULL for
 * GET. Returns 0 with *status and the body in *b, or the transport's
 * error (ESG_ERR_NOMEM, ESG_ERR_TOO_LARGE, ESG_ERR_TIMEOUT, ESG_ERR_IO)
 * with `err` set. */
static int perform_curl(esgw_client *c, rbuf *b, long *status, const char *path,
                        const uint8_t *body, size_t body_len, long timeout_s, esgw_error *err) {
    size_t ulen = strlen(c->url) + strlen(path) + 1;
    char *url = malloc(ulen);
    if (!url)
        return esgw_error_set(err, ESG_ERR_NOMEM, NULL);
    snprintf(url, ulen, "%s%s", c->url, path);

    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL, *h2;
    CURL *h = c->h;
    curl_easy_reset(h); /* keeps the connection cache */
    curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)ESGW_CLIENT_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "esgwallet");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    hdrs = curl_slist_append(NULL, "Accept: application/json");
    if (hdrs && body) {
        /* "Expect:" turns off 100-continue: one round trip, not two. */
        if ((h2 = curl_slist_append(hdrs, "Content-Type: application/octet-stream")))
            hdrs = h2;
        if ((h2 = curl_slist_append(hdrs, "Expect:")))
            hdrs = h2;
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_off_t connect_us = 0;
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    free(url);

    if (b->nomem)
        return no_answer(c, err, ESG_ERR_NOMEM, timeout_s, NULL);
    if (b->too_large)
        return no_answer(c, err, ESG_ERR_TOO_LARGE, timeout_s, NULL);
    if (cc == CURLE_OPERATION_TIMEDOUT && connect_us > 0)
        return no_answer(c, err, ESG_ERR_TIMEOUT, timeout_s, NULL);
    if (cc != CURLE_OK)
        return no_answer(c, err, ESG_ERR_IO, timeout_s, cerr[0] ? cerr : curl_easy_strerror(cc));
    return 0;
}

/* The same through c->transport: its answer goes through on_data, so the
 * size limit and the errors are libcurl's. */
static int perform_transport(esgw_client *c, rbuf *b, long *status, const char *path,
                             const uint8_t *body, size_t body_len, long timeout_s,
                             esgw_error *err) {
    uint8_t *resp = NULL;
    size_t resp_len = 0;
    int rc = c->transport.request(c->transport.arg, body ? "POST" : "GET", path, body, body_len,
                                  status, &resp, &resp_len);
    if (rc)
        return no_answer(c, err, rc == ESG_ERR_TIMEOUT ? rc : ESG_ERR_IO, timeout_s,
                         esg_err_message(rc));
    if (resp_len && on_data((char *)resp, 1, resp_len, b) != resp_len)
        rc = no_answer(c, err, b->nomem ? ESG_ERR_NOMEM : ESG_ERR_TOO_LARGE, timeout_s, NULL);
    free(resp);
    return rc;
}

/* Performs one request to c->url + path; `body` NULL for GET. */
static int request(esgw_client *c, json_t **out, const char *path, const uint8_t *body,
                   size_t body_len, long timeout_s, esgw_error *err) {
    assert(c && out && path && path[0] == '/' && err);
    *out = NULL;
    rbuf b = {0};
    long status = 0;
    int rc = c->transport.request
                 ? perform_transport(c, &b, &status, path, body, body_len, timeout_s, err)
                 : perform_curl(c, &b, &status, path, body, body_len, timeout_s, err);
    if (rc == 0 && (status >= 400 || status < 200)) {
        rc = http_error(c, status, &b, err);
    } else if (rc == 0) {
        json_error_t je;
        json_t *doc = json_loadb(b.p ? b.p : "", b.len, 0, &je);
        if (!json_is_object(doc)) {
            json_decref(doc);
            rc = esgw_error_set(err, ESG_ERR_JSON, "node at %s sent a malformed answer: %s",
                                c->url, doc ? "not a JSON object" : je.text);
        } else {
            *out = doc;
        }
    }
    free(b.p);
    return rc;
}

int esgw_client_get(esgw_client *c, json_t **out, const char *path, esgw_error *err) {
    return request(c, out, path, NULL, 0, ESGW_CLIENT_TIMEOUT_S, err);
}

int esgw_client_submit(esgw_client *c, json_t **out, const uint8_t *tx, size_t tx_len,
                       bool wait, esgw_error *err) {
    assert(tx);
    return request(c, out, wait ? "/v1/txs?wait=commit" : "/v1/txs", tx, tx_len,
                   wait ? ESGW_CLIENT_WAIT_TIMEOUT_S : ESGW_CLIENT_TIMEOUT_S, err);
}

/* --------------------------------------------------------- typed reads */

int esgw_json_u64(const json_t *v, uint64_t *out) {
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return -1;
        *out = (uint64_t)i;
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 20)
        return -1;
    uint64_t x = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

int esgw_client_chain_id(esgw_client *c, char *out, size_t outlen, esgw_error *err) {
    json_t *doc;
    int rc = esgw_client_get(c, &doc, "/v1/status", err);
    if (rc)
        return rc;
    const char *id = json_string_value(json_object_get(doc, "chain_id"));
    if (!id || !*id || strlen(id) >= outlen)
        rc = esgw_error_set(err, ESG_ERR_JSON, "node at %s sent a status without a valid chain_id",
                            c->url);
    else
        snprintf(out, outlen, "%s", id);
    json_decref(doc);
    return rc;
}

int esgw_client_account(esgw_client *c, esgw_account_info *out, const esg_pubkey *pk,
                        esgw_error *err) {
    assert(out && pk);
    memset(out, 0, sizeof *out);
    char path[128];
    snprintf(path, sizeof path, "/v1/accounts/%s", esg_pubkey_hex(pk).s);
    json_t *doc;
    int rc = esgw_client_get(c, &doc, path, err);
    if (rc)
        return rc;
    const char *member = json_string_value(json_object_get(doc, "member"));
    json_t *roles = json_object_get(doc, "roles");
    if (!member || strlen(member) >= sizeof out->member || !json_is_array(roles) ||
        esgw_json_u64(json_object_get(doc, "nonce"), &out->nonce) != 0 ||
        esgw_json_u64(json_object_get(doc, "next_nonce"), &out->next_nonce) != 0) {
        json_decref(doc);
        return esgw_error_set(err, ESG_ERR_JSON, "node at %s sent a malformed account for %s",
                              c->url, esg_pubkey_hex(pk).s);
    }
    snprintf(out->member, sizeof out->member, "%s", member);
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r) {
        const char *s = json_string_value(r);
        if (s && strcmp(s, "ADMIN") == 0)
            out->admin = true;
        else if (s && strcmp(s, "OFFICER") == 0)
            out->officer = true;
    }
    out->revoked = json_is_true(json_object_get(doc, "revoked"));
    json_decref(doc);
    return 0;
}
