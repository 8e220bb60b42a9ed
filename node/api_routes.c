/* The API's routes over the chain: status, transactions, blocks, metrics,
 * the route table, and the helpers every route shares. Routes over the
 * state tables are in api_routes_state.c. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/merkle.h"
#include "ledger/pbjson.h"
#include "node/api_routes.h"
#include "node/clock.h"

/* /v1/blocks?from&limit stops adding blocks past this much base64. */
#define RANGE_MAX_BYTES ((size_t)16 << 20)
/* Granularity of a wait for commit: how soon a stopping API notices. */
#define WAIT_SLICE_MS 100

/* -------------------------------------------------------------- helpers */

json_t *esg_api__hex(const void *data, size_t len) {
    char *s = malloc(2 * len + 1);
    if (!s)
        return NULL;
    esg_hex_encode(s, data, len);
    json_t *j = json_stringn(s, 2 * len);
    free(s);
    return j;
}

json_t *esg_api__num(uint64_t v) {
    /* Heights and counts stay far below 2^63. */
    return json_integer((json_int_t)v);
}

void esg_api__set_time(json_t *obj, uint64_t ms) {
    char t[32];
    if (esg_time_format_rfc3339(ms, t) == 0)
        json_object_set_new(obj, "time", json_string(t));
    else
        json_object_set_new(obj, "time", json_null());
    json_object_set_new(obj, "time_ms", esg_api__num(ms));
}

const char *esg_api__query(const esg_api__call *c, const char *name) {
    return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool esg_api__query_u64(esg_api__call *c, const char *name, uint64_t def,
                        uint64_t min, uint64_t max, uint64_t *out) {
    const char *s = esg_api__query(c, name);
    if (!s) {
        *out = def;
        return true;
    }
    return esg_api__parse_u64(c, name, s, min, max, out);
}

bool esg_api__parse_u64(esg_api__call *c, const char *name, const char *s,
                        uint64_t min, uint64_t max, uint64_t *out) {
    char q[80];
    esg_api__quote(q, sizeof q, s);
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 20) {
        esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                      "query parameter '%s' must be a decimal integer, got '%s'",
                      name, q);
        return false;
    }
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v < min || v > max) {
        esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                      "query parameter '%s' must be in %" PRIu64 "..%" PRIu64
                      ", got '%s'", name, min, max, q);
        return false;
    }
    *out = v;
    return true;
}

bool esg_api__parse_hash(esg_api__call *c, const char *what, const char *hex,
                         esg_hash *out) {
    if (strlen(hex) != 64 || esg_hex_decode(out->b, 32, hex) != 0) {
        char q[80];
        esg_api__quote(q, sizeof q, hex);
        esg_api__fail(c, ESG_ERR_HEX, "%s must be 64 hex characters, got '%s'",
                      what, q);
        return false;
    }
    return true;
}

bool esg_api__read_begin(esg_api__call *c, MDB_txn **txn) {
    int rc = esg_store_read_begin(c->deps->store, txn);
    if (rc) {
        esg_api__fail(c, rc, "cannot read the store: %s", esg_err_message(rc));
        return false;
    }
    return true;
}

void esg_api__fail_store(esg_api__call *c, int rc, const char *what) {
    esg_api__fail(c, rc, "reading %s: %s", what, esg_err_message(rc));
}

json_t *esg_api__valset_json(const esg_pb_validator_set *vs, uint64_t *total) {
    json_t *arr = json_array();
    uint64_t sum = 0;
    for (size_t i = 0; arr && i < vs->n_validators; i++) {
        const esg_pb_validator *v = vs->validators[i];
        sum += v->power;
        json_t *o = json_pack("{s:o,s:o,s:s}", "pubkey",
                              esg_api__hex(v->pubkey.data, v->pubkey.len), "power",
                              esg_api__num(v->power), "operator", v->operator_);
        if (json_array_append_new(arr, o)) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (total)
        *total = sum;
    return arr;
}

/* The header as JSON, with the raw bytes it hashes to. */
static json_t *header_json(const esg_pb_block_header *h, esg_hash *hash) {
    uint8_t *raw = NULL;
    size_t len = 0;
    if (esg_pb_block_header_encode(h, &raw, &len))
        return NULL;
    *hash = esg_hash_tagged(ESG_TAG_BLOCK, raw, len);
    json_t *o = json_pack(
        "{s:s,s:o}", "chain_id", h->chain_id, "height", esg_api__num(h->height));
    if (o) {
        esg_api__set_time(o, h->time_ms);
        json_object_set_new(o, "prev_hash", esg_api__hex(h->prev_hash.data, h->prev_hash.len));
        json_object_set_new(o, "tx_root", esg_api__hex(h->tx_root.data, h->tx_root.len));
        json_object_set_new(o, "app_hash", esg_api__hex(h->app_hash.data, h->app_hash.len));
        json_object_set_new(o, "validators_hash",
                            esg_api__hex(h->validators_hash.data, h->validators_hash.len));
        json_object_set_new(o, "proposer", esg_api__hex(h->proposer.data, h->proposer.len));
        if (h->next_validators_hash.len)
            json_object_set_new(o, "next_validators_hash",
                                esg_api__hex(h->next_validators_hash.data,
                                             h->next_validators_hash.len));
        if (h->evidence_hash.len)
            json_object_set_new(o, "evidence_hash",
                                esg_api__hex(h->evidence_hash.data, h->evidence_hash.len));
        if (json_object_set_new(o, "raw", esg_api__hex(raw, len))) {
            json_decref(o);
            o = NULL;
        }
    }
    free(raw);
    return o;
}

static json_t *commit_json(const esg_pb_commit *cm, const uint8_t *raw, size_t len) {
    json_t *sigs = json_array();
    for (size_t i = 0; sigs && i < cm->n_sigs; i++) {
        const esg_pb_commit_sig *s = cm->sigs[i];
        if (json_array_append_new(
                sigs, json_pack("{s:o,s:o}", "validator",
                                esg_api__hex(s->validator.data, s->validator.len),
                                "sig", esg_api__hex(s->sig.data, s->sig.len)))) {
            json_decref(sigs);
            sigs = NULL;
        }
    }
    return json_pack("{s:o,s:I,s:o,s:o,s:o}", "height", esg_api__num(cm->height),
                     "round", (json_int_t)cm->round, "block_hash",
                     esg_api__hex(cm->block_hash.data, cm->block_hash.len), "sigs",
                     sigs, "raw", esg_api__hex(raw, len));
}

bool esg_api__load_block(esg_api__call *c, MDB_txn *txn, uint64_t height,
                         esg_pb_block **block, json_t **header, json_t **commit,
                         esg_hash *block_hash) {
    MDB_val bv, cv;
    int rc = esg_store_block_get(txn, c->deps->store, height, &bv, &cv);
    if (rc == ESG_ERR_NOT_FOUND) {
        esg_api__fail(c, ESG_ERR_NOT_FOUND, "no block at height %" PRIu64, height);
        return false;
    }
    if (rc) {
        esg_api__fail_store(c, rc, "a block");
        return false;
    }
    esg_pb_block *b = NULL;
    esg_pb_commit *cm = NULL;
    if (esg_pb_block_decode(&b, bv.mv_data, bv.mv_size, SIZE_MAX) || !b->header ||
        esg_pb_commit_decode(&cm, cv.mv_data, cv.mv_size, SIZE_MAX)) {
        esg_pb_free(b);
        esg_api__fail(c, ESG_ERR_STORE_CORRUPT,
                      "stored block %" PRIu64 " does not decode", height);
        return false;
    }
    esg_hash hash;
    json_t *hj = header_json(b->header, &hash);
    json_t *cj = commit ? commit_json(cm, cv.mv_data, cv.mv_size) : NULL;
    esg_pb_free(cm);
    if (!hj || (commit && !cj)) {
        json_decref(hj);
        json_decref(cj);
        esg_pb_free(b);
        esg_api__fail(c, ESG_ERR_NOMEM, NULL);
        return false;
    }
    if (header)
        *header = hj;
    else
        json_decref(hj);
    if (commit)
        *commit = cj;
    if (block_hash)
        *block_hash = hash;
    if (block)
        *block = b;
    else
        esg_pb_free(b);
    return true;
}

/* The message set in oneof case `which` of m, or NULL. */
static const ProtobufCMessage *oneof_msg(const ProtobufCMessage *m, unsigned which) {
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(m->descriptor, which);
    if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(ProtobufCMessage *const *)((const uint8_t *)m + f->offset);
}

/* {"type": "AddAccount", ...the action's fields} */
static json_t *action_json(const esg_pb_tx_body *body) {
    const ProtobufCMessage *a = oneof_msg(&body->base, body->action_case);
    json_t *o = json_pack("{s:s}", "type", esg_action_name(body->action_case));
    json_t *fields = a ? esg_pb_to_json(a) : json_object();
    if (!o || !fields || json_object_update(o, fields)) {
        json_decref(o);
        o = NULL;
    }
    json_decref(fields);
    return o;
}

/* ------------------------------------------------------------- /v1/status */

/* {"writable": true, "error": null, "reason": null, "since": null} or, while
 * the disk is full, the code, the store's reason and since when (RFC 3339
 * and unix ms, as the other times). */
static json_t *storage_json(esg_store *store) {
    esg_store_health h;
    esg_store_health_get(store, &h);
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "writable", json_boolean(h.writable));
    if (h.writable) {
        json_object_set_new(o, "error", json_null());
        json_object_set_new(o, "reason", json_null());
        json_object_set_new(o, "since", json_null());
        json_object_set_new(o, "since_ms", json_null());
        return o;
    }
    json_object_set_new(o, "error", json_string(esg_err_name(h.error)));
    json_object_set_new(o, "reason", json_string(h.reason));
    json_t *t = json_object();
    if (t) {
        esg_api__set_time(t, h.since_ms);
        json_object_set(o, "since", json_object_get(t, "time"));
        json_object_set(o, "since_ms", json_object_get(t, "time_ms"));
        json_decref(t);
    }
    return o;
}

static void r_status(esg_api__call *c) {
    esg_node_status ns;
    memset(&ns, 0, sizeof ns);
    if (c->deps->status)
        c->deps->status(c->deps->arg, &ns);
    esg_mempool_stats ms;
    esg_mempool_stats_get(c->deps->mempool, &ms);

    MDB_txn *txn;
    if (!esg_api__read_begin(c, &txn))
        return;
    esg_store_meta meta;
    esg_pb_validator_set *vs = NULL;
    int rc = esg_store_meta_get(txn, c->deps->store, &meta);
    if (rc == 0)
        rc = esg_exec_valset_at(txn, c->deps->store, meta.height + 1, &vs);
    esg_store_read_end(txn);
    if (rc) {
        esg_api__fail_store(c, rc, "the chain head");
        return;
    }
    uint64_t total = 0;
    json_t *vals = esg_api__valset_json(vs, &total);
    esg_pb_free(vs);

    json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:o}", "chain_id", meta.chain_id,
                          "height", esg_api__num(meta.height), "block_hash",
                          esg_api__hex(meta.block_hash.b, 32), "app_hash",
                          esg_api__hex(meta.app_hash.b, 32), "genesis_hash",
                          esg_api__hex(meta.genesis_hash.b, 32));
    if (o) {
        esg_api__set_time(o, meta.time_ms);
        json_object_set_new(o, "node_key", esg_api__hex(ns.node_key.b, 32));
        json_object_set_new(o, "validator", json_boolean(ns.is_validator));
        json_object_set_new(o, "validators", vals);
        vals = NULL;
        json_object_set_new(o, "total_power", esg_api__num(total));
        json_object_set_new(o, "peers", esg_api__num(ns.peers));
        json_object_set_new(o, "mempool",
                            json_pack("{s:o,s:o}", "txs", esg_api__num(ms.txs),
                                      "bytes", esg_api__num(ms.bytes)));
        json_object_set_new(o, "syncing", json_boolean(ns.syncing));
        json_object_set_new(o, "behind", esg_api__num(ns.behind));
        json_object_set_new(o, "storage", storage_json(c->deps->store));
    }
    json_decref(vals);
    esg_api__reply_json(c, 200, o);
}

/* ---------------------------------------------------------------- /v1/txs */

/* Content-Type without parameters is `type` (case-insensitive)? */
static bool ctype_is(const char *h, const char *type) {
    size_t n = strlen(type);
    return strncasecmp(h, type, n) == 0 && (h[n] == '\0' || h[n] == ';' || h[n] == ' ');
}

bool esg_api__tx_body(esg_api__call *c, const char *ct, const uint8_t **raw,
                      size_t *len, uint8_t **decoded) {
    *raw = c->body;
    *len = c->body_len;
    *decoded = NULL;
    if (ct && ctype_is(ct, "application/json")) {
        json_error_t jerr;
        json_t *doc = json_loadb((const char *)c->body, c->body_len,
                                 JSON_REJECT_DUPLICATES, &jerr);
        if (!doc) {
            esg_api__fail(c, ESG_ERR_JSON, "malformed JSON body: %s", jerr.text);
            return false;
        }
        json_t *tx = json_is_object(doc) ? json_object_get(doc, "tx") : NULL;
        if (!json_is_string(tx)) {
            json_decref(doc);
            esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                          "body must be {\"tx\": \"<base64 of the serialized Tx>\"}");
            return false;
        }
        const char *b64 = json_string_value(tx);
        size_t b64len = json_string_length(tx);
        size_t cap = b64len / 4 * 3 + 3;
        *decoded = malloc(cap);
        const char *end = NULL;
        int brc = *decoded ? sodium_base642bin(*decoded, cap, b64, b64len, NULL, len,
                                               &end, sodium_base64_VARIANT_ORIGINAL)
                           : -1;
        bool complete = end == b64 + b64len;
        json_decref(doc);
        if (!*decoded) {
            esg_api__fail(c, ESG_ERR_NOMEM, NULL);
            return false;
        }
        if (brc != 0 || !complete) {
            free(*decoded);
            *decoded = NULL;
            esg_api__fail(c, ESG_ERR_DECODE,
                          "field 'tx' is not valid base64 (standard alphabet, padded)");
            return false;
        }
        *raw = *decoded;
    } else if (ct && !ctype_is(ct, "application/octet-stream") &&
               !ctype_is(ct, "application/x-www-form-urlencoded")) {
        /* (curl --data-binary sends the form type unless told otherwise:
         * those bytes are taken as the raw transaction too.) */
        char q[80];
        esg_api__quote(q, sizeof q, ct);
        esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                      "unsupported Content-Type '%s': send application/octet-stream "
                      "or application/json",
                      q);
        return false;
    }
    return true;
}

static void r_tx_submit(esg_api__call *c) {
    const char *wait = esg_api__query(c, "wait");
    if (wait && strcmp(wait, "commit") != 0) {
        char q[80];
        esg_api__quote(q, sizeof q, wait);
        esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                      "query parameter 'wait' must be 'commit', got '%s'", q);
        return;
    }
    const char *ct = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    const uint8_t *raw;
    size_t len;
    uint8_t *decoded;
    if (!esg_api__tx_body(c, ct, &raw, &len, &decoded))
        return;
    if (len > ESG_TX_MAX_BYTES) {
        free(decoded);
        esg_api__fail(c, ESG_ERR_TOO_LARGE,
                      "transaction of %zu bytes exceeds the limit of %u", len,
                      (unsigned)ESG_TX_MAX_BYTES);
        return;
    }
    esg_hash id;
    char msg[ESG_ERRMSG_MAX] = "";
    int rc = esg_mempool_add(c->deps->mempool, raw, len, &id, msg, sizeof msg);
    free(decoded);
    if (rc) {
        esg_api__fail(c, rc, "%s", msg[0] ? msg : esg_err_message(rc));
        return;
    }
    if (wait) {
        c->wait = true;
        c->wait_id = id;
        return;
    }
    esg_api__reply_json(c, 202, json_pack("{s:o,s:s}", "tx_id", esg_api__hex(id.b, 32),
                                          "status", "pending"));
}

void esg_api__tx_wait(esg_api__call *c) {
    uint64_t remaining = c->deps->wait_timeout_ms, height = 0;
    char msg[ESG_ERRMSG_MAX] = "";
    int rc = ESG_ERR_TIMEOUT;
    bool stopped = false;
    c->wait = false;
    /* Sliced so that a stopping API is noticed; each slice is a real wait
     * (or returns at once with the outcome), so the loop runs at most
     * timeout / slice times. */
    while (remaining > 0) {
        if (esg_api__stopping(c->api)) {
            stopped = true;
            break;
        }
        uint64_t slice = remaining < WAIT_SLICE_MS ? remaining : WAIT_SLICE_MS;
        msg[0] = '\0';
        uint64_t t0 = esg_mono_us() / 1000;
        rc = esg_mempool_wait(c->deps->mempool, &c->wait_id, slice, &height, msg,
                              sizeof msg);
        if (rc != ESG_ERR_TIMEOUT)
            break;
        /* A shut-down mempool answers every wait at once with a timeout. */
        if (slice >= 20 && (esg_mono_us() / 1000) - t0 < slice / 2) {
            stopped = true;
            break;
        }
        remaining -= slice;
    }
    esg_hex32 idhex = esg_hash_hex(&c->wait_id);
    if (rc == 0) {
        json_t *o = json_pack("{s:s,s:s,s:o}", "tx_id", idhex.s, "status",
                              "committed", "height", esg_api__num(height));
        MDB_txn *txn;
        uint64_t h;
        uint32_t index;
        if (o && esg_store_read_begin(c->deps->store, &txn) == 0) {
            if (esg_store_tx_locate(txn, c->deps->store, &c->wait_id, &h, &index) == 0)
                json_object_set_new(o, "index", esg_api__num(index));
            esg_store_read_end(txn);
        }
        esg_api__reply_json(c, 200, o);
        return;
    }
    if (rc == ESG_ERR_TIMEOUT) {
        if (stopped)
            esg_api__fail(c, ESG_ERR_TIMEOUT,
                          "node is shutting down; transaction %s may still be committed",
                          idhex.s);
        else
            esg_api__fail(c, ESG_ERR_TIMEOUT,
                          "transaction %s was not committed within %" PRIu64
                          " ms; it is still pending and may be committed later",
                          idhex.s, c->deps->wait_timeout_ms);
    } else {
        esg_api__fail(c, rc, "%s", msg[0] ? msg : esg_err_message(rc));
    }
    if (c->json)
        json_object_set_new(c->json, "tx_id", json_string(idhex.s));
}

/* Decodes tx `index` of block b (stored data: failure is corruption). */
static esg_tx *block_tx(const esg_pb_block *b, size_t index) {
    esg_tx *tx = NULL;
    if (index >= b->n_txs ||
        esg_tx_decode(&tx, b->txs[index].data, b->txs[index].len) != 0)
        return NULL;
    return tx;
}

static void r_tx_get(esg_api__call *c) {
    esg_hash id;
    if (!esg_api__parse_hash(c, "tx id", c->params[0], &id))
        return;
    MDB_txn *txn;
    if (!esg_api__read_begin(c, &txn))
        return;
    uint64_t height;
    uint32_t index;
    esg_pb_block *b = NULL;
    int rc = esg_store_tx_locate(txn, c->deps->store, &id, &height, &index);
    if (rc == ESG_ERR_NOT_FOUND)
        esg_api__fail(c, ESG_ERR_NOT_FOUND, "no committed transaction '%s'",
                      esg_hash_hex(&id).s);
    else if (rc)
        esg_api__fail_store(c, rc, "the transaction index");
    bool ok = rc == 0 && esg_api__load_block(c, txn, height, &b, NULL, NULL, NULL);
    esg_store_read_end(txn);
    if (!ok)
        return;
    esg_tx *tx = block_tx(b, index);
    if (!tx) {
        esg_pb_free(b);
        esg_api__fail(c, ESG_ERR_STORE_CORRUPT,
                      "transaction %u of stored block %" PRIu64 " does not decode",
                      index, height);
        return;
    }
    json_t *sigs = json_array();
    for (size_t i = 0; sigs && i < esg_tx_n_sigs(tx); i++) {
        esg_pubkey pk;
        esg_sig sig;
        esg_tx_sig_at(tx, i, &pk, &sig);
        if (json_array_append_new(sigs, json_pack("{s:o,s:o}", "pubkey",
                                                  esg_api__hex(pk.b, 32), "sig",
                                                  esg_api__hex(sig.b, 64)))) {
            json_decref(sigs);
            sigs = NULL;
        }
    }
    esg_pubkey signer = esg_tx_signer(tx);
    json_t *o = json_pack("{s:o,s:o,s:o,s:s}", "tx_id", esg_api__hex(id.b, 32),
                          "height", esg_api__num(height), "index",
                          esg_api__num(index), "result", "OK");
    if (o) {
        esg_api__set_time(o, b->header->time_ms);
        json_object_set_new(o, "chain_id", json_string(tx->body->chain_id));
        json_object_set_new(o, "nonce", esg_api__num(tx->body->nonce));
        json_object_set_new(o, "signer", esg_api__hex(signer.b, 32));
        json_object_set_new(o, "action", action_json(tx->body));
        json_object_set_new(o, "signatures", sigs);
        sigs = NULL;
        json_object_set_new(o, "size", esg_api__num(tx->raw_len));
    }
    json_decref(sigs);
    esg_tx_free(tx);
    esg_pb_free(b);
    esg_api__reply_json(c, 200, o);
}

static void r_tx_proof(esg_api__call *c) {
    esg_hash id;
    if (!esg_api__parse_hash(c, "tx id", c->params[0], &id))
        return;
    MDB_txn *txn;
    if (!esg_api__read_begin(c, &txn))
        return;
    uint64_t height;
    uint32_t index;
    esg_pb_block *b = NULL;
    json_t *header = NULL, *commit = NULL, *vals = NULL;
    esg_hash block_hash;
    esg_pb_validator_set *vs = NULL;
    int rc = esg_store_tx_locate(txn, c->deps->store, &id, &height, &index);
    if (rc == ESG_ERR_NOT_FOUND)
        esg_api__fail(c, ESG_ERR_NOT_FOUND, "no committed transaction '%s'",
                      esg_hash_hex(&id).s);
    else if (rc)
        esg_api__fail_store(c, rc, "the transaction index");
    bool ok = rc == 0 &&
              esg_api__load_block(c, txn, height, &b, &header, &commit, &block_hash);
    if (ok) {
        rc = esg_exec_valset_at(txn, c->deps->store, height, &vs);
        if (rc) {
            esg_api__fail_store(c, rc, "the validator set");
            ok = false;
        }
    }
    esg_store_read_end(txn);
    esg_hash *ids = NULL;
    esg_merkle_proof *proof = NULL;
    if (ok) {
        vals = esg_api__valset_json(vs, NULL);
        ids = malloc((b->n_txs ? b->n_txs : 1) * sizeof *ids);
        proof = malloc(sizeof *proof);
        if (!ids || !proof) {
            esg_api__fail(c, ESG_ERR_NOMEM, NULL);
            ok = false;
        }
    }
    /* The path is recomputed from the block's tx ids and checked against
     * the header's tx_root before it is served. */
    for (size_t i = 0; ok && i < b->n_txs; i++) {
        esg_pb_tx *env = NULL;
        if (esg_pb_tx_decode(&env, b->txs[i].data, b->txs[i].len, SIZE_MAX)) {
            esg_api__fail(c, ESG_ERR_STORE_CORRUPT,
                          "transaction %zu of stored block %" PRIu64 " does not decode",
                          i, height);
            ok = false;
            break;
        }
        ids[i] = esg_hash_tagged(ESG_TAG_TX, env->body.data, env->body.len);
        esg_pb_free(env);
    }
    esg_hash root;
    if (ok && (esg_merkle_prove(proof, ids, b->n_txs, index) != 0 ||
               !esg_hash_eq(&ids[index], &id) || esg_pb_bytes32(&b->header->tx_root, &root) ||
               !esg_merkle_verify(&root, &id, proof))) {
        esg_api__fail(c, ESG_ERR_STORE_CORRUPT,
                      "stored block %" PRIu64 " does not match its tx_root", height);
        ok = false;
    }
    json_t *o = NULL;
    if (ok) {
        json_t *path = json_array();
        for (size_t i = 0; path && i < proof->n_path; i++)
            if (json_array_append_new(path, esg_api__hex(proof->path[i].b, 32))) {
                json_decref(path);
                path = NULL;
            }
        o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "tx_id",
                      esg_api__hex(id.b, 32), "height", esg_api__num(height), "index",
                      esg_api__num(index), "total", esg_api__num(b->n_txs), "path", path,
                      "tx_root", esg_api__hex(root.b, 32), "header", header,
                      "block_hash", esg_api__hex(block_hash.b, 32), "commit", commit,
                      "validators", vals);
        header = commit = vals = NULL; /* json_pack stole them */
        esg_api__reply_json(c, 200, o);
    }
    json_decref(header);
    json_decref(commit);
    json_decref(vals);
    free(ids);
    free(proof);
    esg_pb_free(vs);
    esg_pb_free(b);
}

/* ------------------------------------------------------------- /v1/blocks */

static void r_block_get(esg_api__call *c) {
    const char *fmt = esg_api__query(c, "format");
    bool raw = false;
    if (fmt && strcmp(fmt, "raw") == 0) {
        raw = true;
    } else if (fmt && strcmp(fmt, "json") != 0) {
        char q[80];
        esg_api__quote(q, sizeof q, fmt);
        esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                      "query parameter 'format' must be 'json' or 'raw', got '%s'", q);
        return;
    }
    const char *p = c->params[0];
    uint64_t height = 0;
    bool latest = strcmp(p, "latest") == 0;
    if (!latest) {
        char q[80];
        esg_api__quote(q, sizeof q, p);
        errno = 0;
        if (strspn(p, "0123456789") != strlen(p) || strlen(p) > 20 ||
            (height = strtoull(p, NULL, 10), errno)) {
            esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                          "block height must be a number or 'latest', got '%s'", q);
            return;
        }
        if (height == 0) {
            esg_api__fail(c, ESG_ERR_NOT_FOUND,
                          "blocks start at height 1 (height 0 is the genesis state)");
            return;
        }
    }
    MDB_txn *txn;
    if (!esg_api__read_begin(c, &txn))
        return;
    esg_store_meta meta;
    int rc = esg_store_meta_get(txn, c->deps->store, &meta);
    if (rc) {
        esg_store_read_end(txn);
        esg_api__fail_store(c, rc, "the chain head");
        return;
    }
    if (latest)
        height = meta.height;
    if (height == 0 || height > meta.height) {
        esg_store_read_end(txn);
        if (height == 0)
            esg_api__fail(c, ESG_ERR_NOT_FOUND, "no block has been committed yet");
        else
            esg_api__fail(c, ESG_ERR_NOT_FOUND,
                          "no block at height %" PRIu64 " (the tip is %" PRIu64 ")",
                          height, meta.height);
        return;
    }
    if (raw) {
        MDB_val bv;
        rc = esg_store_block_get(txn, c->deps->store, height, &bv, NULL);
        uint8_t *copy = rc == 0 ? malloc(bv.mv_size ? bv.mv_size : 1) : NULL;
        if (copy)
            memcpy(copy, bv.mv_data, bv.mv_size);
        esg_store_read_end(txn);
        if (rc)
            esg_api__fail_store(c, rc, "a block");
        else if (!copy)
            esg_api__fail(c, ESG_ERR_NOMEM, NULL);
        else
            esg_api__reply_raw(c, 200, "application/octet-stream", copy, bv.mv_size);
        return;
    }
    esg_pb_block *b = NULL;
    json_t *header = NULL, *commit = NULL;
    esg_hash hash;
    bool ok = esg_api__load_block(c, txn, height, &b, &header, &commit, &hash);
    esg_store_read_end(txn);
    if (!ok)
        return;
    json_t *txs = json_array();
    for (size_t i = 0; txs && i < b->n_txs; i++) {
        esg_tx *tx = block_tx(b, i);
        if (!tx) {
            json_decref(txs);
            json_decref(header);
            json_decref(commit);
            esg_pb_free(b);
            esg_api__fail(c, ESG_ERR_STORE_CORRUPT,
                          "transaction %zu of stored block %" PRIu64 " does not decode",
                          i, height);
            return;
        }
        esg_pubkey signer = esg_tx_signer(tx);
        if (json_array_append_new(
                txs, json_pack("{s:o,s:o,s:o,s:s}", "tx_id", esg_api__hex(tx->id.b, 32),
                               "signer", esg_api__hex(signer.b, 32), "nonce",
                               esg_api__num(tx->body->nonce), "action_type",
                               esg_action_name(tx->body->action_case)))) {
            json_decref(txs);
            txs = NULL;
        }
        esg_tx_free(tx);
    }
    /* Evidence of equivocation the block recorded (ledger/evidence.h). */
    json_t *evidence = json_array();
    for (size_t i = 0; evidence && i < b->n_evidence; i++)
        if (json_array_append_new(evidence, esg_pb_to_json(&b->evidence[i]->base))) {
            json_decref(evidence);
            evidence = NULL;
        }
    esg_pb_free(b);
    esg_api__reply_json(c, 200,
                        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "height", esg_api__num(height),
                                  "hash", esg_api__hex(hash.b, 32), "header", header,
                                  "txs", txs, "evidence", evidence, "commit", commit));
}

static json_t *base64_json(const void *data, size_t len) {
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    if (!s)
        return NULL;
    sodium_bin2base64(s, cap, data, len, sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static void r_blocks_range(esg_api__call *c) {
    uint64_t from, limit;
    if (!esg_api__query_u64(c, "from", 1, 1, UINT64_MAX, &from) ||
        !esg_api__query_u64(c, "limit", 20, 1, 100, &limit))
        return;
    MDB_txn *txn;
    if (!esg_api__read_begin(c, &txn))
        return;
    esg_store_meta meta;
    int rc = esg_store_meta_get(txn, c->deps->store, &meta);
    json_t *blocks = rc == 0 ? json_array() : NULL;
    size_t bytes = 0;
    for (uint64_t h = from; blocks && h <= meta.height && h - from < limit; h++) {
        MDB_val bv, cv;
        rc = esg_store_block_get(txn, c->deps->store, h, &bv, &cv);
        if (rc)
            break;
        if (bytes > 0 && bytes + (bv.mv_size + cv.mv_size) * 4 / 3 > RANGE_MAX_BYTES)
            break; /* the client continues from the last height + 1 */
        bytes += (bv.mv_size + cv.mv_size) * 4 / 3;
        if (json_array_append_new(
                blocks, json_pack("{s:o,s:o,s:o}", "height", esg_api__num(h), "block",
                                  base64_json(bv.mv_data, bv.mv_size), "commit",
                                  base64_json(cv.mv_data, cv.mv_size)))) {
            json_decref(blocks);
            blocks = NULL;
        }
    }
    esg_store_read_end(txn);
    if (rc) {
        json_decref(blocks);
        esg_api__fail_store(c, rc, "blocks");
        return;
    }
    esg_api__reply_json(c, 200, json_pack("{s:o,s:o}", "blocks", blocks, "tip",
                                          esg_api__num(meta.height)));
}

/* ---------------------------------------------------------------- /metrics */

/* Appends to a fixed buffer; the metrics text is a few kilobytes. */
typedef struct textbuf {
    char s[16384];
    size_t n;
} textbuf;

static void tb_printf(textbuf *tb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(textbuf *tb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(tb->s + tb->n, sizeof tb->s - tb->n, fmt, ap);
    va_end(ap);
    if (m > 0)
        tb->n += (size_t)m < sizeof tb->s - tb->n ? (size_t)m : sizeof tb->s - tb->n - 1;
}

static void metric(textbuf *tb, const char *name, const char *type, const char *help,
                   uint64_t v) {
    tb_printf(tb, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name,
              type, name, v);
}

static void r_metrics(esg_api__call *c) {
    esg_node_status ns;
    esg_node_metrics nm;
    esg_mempool_stats ms;
    memset(&ns, 0, sizeof ns);
    memset(&nm, 0, sizeof nm);
    if (c->deps->status)
        c->deps->status(c->deps->arg, &ns);
    if (c->deps->metrics)
        c->deps->metrics(c->deps->arg, &nm);
    esg_mempool_stats_get(c->deps->mempool, &ms);
    uint64_t height = ns.height;
    MDB_txn *txn;
    if (esg_store_read_begin(c->deps->store, &txn) == 0) {
        esg_store_meta meta;
        if (esg_store_meta_get(txn, c->deps->store, &meta) == 0)
            height = meta.height;
        esg_store_read_end(txn);
    }
    textbuf *tb = calloc(1, sizeof *tb);
    if (!tb) {
        esg_api__fail(c, ESG_ERR_NOMEM, NULL);
        return;
    }
    metric(tb, "esg_height", "gauge", "Height of the last committed block.", height);
    metric(tb, "esg_blocks_produced_total", "counter",
           "Blocks this node produced since it started.", nm.blocks_produced);
    metric(tb, "esg_txs_committed_total", "counter",
           "Transactions committed since the node started.", nm.txs_committed);
    metric(tb, "esg_mempool_txs", "gauge", "Transactions waiting in the mempool.", ms.txs);
    metric(tb, "esg_mempool_bytes", "gauge", "Bytes of transactions in the mempool.",
           ms.bytes);
    metric(tb, "esg_mempool_admitted_total", "counter",
           "Transactions admitted to the mempool.", ms.admitted);
    metric(tb, "esg_mempool_rejected_total", "counter",
           "Transactions refused on admission.", ms.rejected);
    metric(tb, "esg_mempool_dropped_total", "counter",
           "Admitted transactions later dropped from a block.", ms.dropped);
    tb_printf(tb,
              "# HELP esg_block_apply_seconds_total Time spent producing and applying "
              "blocks.\n# TYPE esg_block_apply_seconds_total counter\n"
              "esg_block_apply_seconds_total %" PRIu64 ".%06" PRIu64 "\n",
              nm.block_apply_us_total / 1000000, nm.block_apply_us_total % 1000000);
    esg_store_health health;
    esg_store_health_get(c->deps->store, &health);
    metric(tb, "esg_storage_writable", "gauge",
           "1 while the store can commit blocks, 0 while its disk is full (new transactions "
           "are refused with ERR_STORAGE_FULL).",
           health.writable ? 1 : 0);
    metric(tb, "esg_peers", "gauge", "Connected peers.", ns.peers);
    metric(tb, "esg_syncing", "gauge", "1 while the node is catching up with peers.",
           ns.syncing ? 1 : 0);
    metric(tb, "esg_sync_syncing", "gauge", "1 while the node is catching up with peers.",
           ns.syncing ? 1 : 0);
    metric(tb, "esg_sync_behind", "gauge", "Blocks behind the best known peer.", ns.behind);
    metric(tb, "esg_consensus_height", "gauge",
           "Height consensus is deciding (multi-node mode; 0 otherwise).", nm.cons_height);
    metric(tb, "esg_consensus_round", "gauge", "Round of the height being decided.",
           nm.cons_round);
    metric(tb, "esg_consensus_step", "gauge",
           "Consensus step: 0 propose, 1 prevote, 2 precommit, 3 commit, 4 idle.",
           nm.cons_step);
    metric(tb, "esg_consensus_heights_total", "counter",
           "Heights this node decided by consensus.", nm.cons_heights_decided);
    metric(tb, "esg_consensus_rounds_total", "counter",
           "Rounds those heights took (rounds per height = this / heights_total).",
           nm.cons_rounds_total);
    static const char *const steps[] = {"propose", "prevote", "precommit", "commit", "idle"};
    tb_printf(tb, "# HELP esg_consensus_step_seconds_total Time spent in each consensus "
                  "step.\n# TYPE esg_consensus_step_seconds_total counter\n");
    for (size_t i = 0; i < 5; i++)
        tb_printf(tb, "esg_consensus_step_seconds_total{step=\"%s\"} %" PRIu64 ".%06" PRIu64 "\n",
                  steps[i], nm.cons_step_us[i] / 1000000, nm.cons_step_us[i] % 1000000);
    metric(tb, "esg_p2p_bytes_in_total", "counter", "Bytes received from peers.",
           nm.p2p_bytes_in);
    metric(tb, "esg_p2p_bytes_out_total", "counter", "Bytes sent to peers.", nm.p2p_bytes_out);
    /* The transport's defences at work: what a hostile or broken peer
     * made this node close or drop, by reason. */
    const esg_p2p_stats *ps = &nm.p2p;
    metric(tb, "esg_p2p_connections", "gauge", "Open p2p connections, established or not.",
           ps->connections);
    metric(tb, "esg_p2p_handshakes_pending", "gauge",
           "Inbound connections still in the handshake (their own small budget).", ps->unauth);
    metric(tb, "esg_p2p_rx_buffered_bytes", "gauge",
           "Bytes held now for frames still arriving.", ps->rx_buffered);
    const struct { const char *reason; uint64_t n; } closes[] = {
        {"handshake_budget_full", ps->unauth_full},
        {"handshake_evicted", ps->unauth_evicted},
        {"handshake_timeout", ps->handshake_timeouts},
        {"bad_handshake", ps->bad_handshakes},
        {"chain_mismatch", ps->chain_mismatches},
        {"not_allowed", ps->refused},
        {"too_many_peers", ps->too_many},
        {"duplicate", ps->duplicates},
        {"oversize_frame", ps->oversize_frames},
        {"bad_frame", ps->bad_frames},
        {"frame_timeout", ps->frame_timeouts},
        {"write_timeout", ps->write_timeouts},
        {"slow_reader", ps->slow_drops},
    };
    tb_printf(tb, "# HELP esg_p2p_closed_total P2P connections this node closed, by reason.\n"
                  "# TYPE esg_p2p_closed_total counter\n");
    for (size_t i = 0; i < sizeof closes / sizeof closes[0]; i++)
        tb_printf(tb, "esg_p2p_closed_total{reason=\"%s\"} %" PRIu64 "\n", closes[i].reason,
                  closes[i].n);
    metric(tb, "esg_p2p_misbehaviour_total", "counter",
           "Peer events that added to a misbehaviour score.", ps->misbehaviour);
    metric(tb, "esg_p2p_log_suppressed_total", "counter",
           "P2P log lines left out by the rate limit.", ps->log_suppressed);
    metric(tb, "esg_evidence_total", "counter", "Equivocating votes detected.",
           nm.evidence_total);
    tb_printf(tb, "# HELP esg_clock_offset_milliseconds Correction added to this node's clock, "
                  "estimated from the times of decided proposals of other validators (0 while "
                  "the clock agrees with the network's within the precision).\n"
                  "# TYPE esg_clock_offset_milliseconds gauge\nesg_clock_offset_milliseconds "
                  "%" PRId64 "\n",
              nm.clock_offset_ms);
    size_t n = tb->n;
    uint8_t *out = malloc(n ? n : 1);
    if (out)
        memcpy(out, tb->s, n);
    free(tb);
    if (!out) {
        esg_api__fail(c, ESG_ERR_NOMEM, NULL);
        return;
    }
    esg_api__reply_raw(c, 200, "text/plain; version=0.0.4", out, n);
}

/* ---------------------------------------------------------- the route table */

const esg_api__route esg_api__routes[] = {
    {"GET", "/v1/status", r_status, true, 0},
    {"POST", "/v1/txs", r_tx_submit, false, ESG_API__MAX_TX_BODY},
    {"GET", "/v1/txs/{}", r_tx_get, false, 0},
    {"GET", "/v1/txs/{}/proof", r_tx_proof, false, 0},
    {"GET", "/v1/blocks", r_blocks_range, false, 0},
    {"GET", "/v1/blocks/{}", r_block_get, false, 0},
    {"GET", "/v1/validators", esg_api__r_validators, false, 0},
    {"GET", "/v1/validators/changes", esg_api__r_valset_changes, false, 0},
    {"GET", "/v1/members", esg_api__r_members, false, 0},
    {"GET", "/v1/members/{}", esg_api__r_member, false, 0},
    {"GET", "/v1/accounts/{}", esg_api__r_account, false, 0},
    {"GET", "/v1/proposals", esg_api__r_proposals, false, 0},
    {"GET", "/v1/proposals/{}", esg_api__r_proposal, false, 0},
    {"GET", "/v1/kpis", esg_api__r_kpis, false, 0},
    {"GET", "/v1/kpis/{}/cities", esg_api__r_kpi_cities, false, 0},
    {"GET", "/v1/projects", esg_api__r_projects, false, 0},
    {"GET", "/v1/projects/{}", esg_api__r_project, false, 0},
    {"GET", "/v1/evidence", esg_api__r_evidence, false, 0},
    {"GET", "/v1/state/proof", esg_api__r_state_proof, false, 0},
    {"GET", "/v1/members/{}/impact", esg_api__r_member_impact, false, 0},
    {"GET", "/v1/reports", esg_api__r_reports, false, 0},
    {"GET", "/v1/instruments", esg_api__r_instruments, false, 0},
    {"GET", "/v1/instruments/{}", esg_api__r_instrument, false, 0},
    {"GET", "/v1/instruments/{}/holders", esg_api__r_instrument_holders, false, 0},
    {"GET", "/v1/instruments/{}/payments", esg_api__r_instrument_payments, false, 0},
    {"GET", "/v1/instruments/{}/allocations", esg_api__r_instrument_allocations, false, 0},
    {"GET", "/v1/instruments/{}/impact", esg_api__r_instrument_impact, false, 0},
    {"GET", "/ngsi-ld/v1/entities", esg_api__r_ngsi_entities, false, 0},
    {"GET", "/ngsi-ld/v1/entities/{}", esg_api__r_ngsi_entity, false, 0},
    {"GET", "/ngsi-ld/v1/contexts/{}", esg_api__r_ngsi_context, true, 0},
    {"GET", "/metrics", r_metrics, true, 0},
    /* The web explorer (api_routes_explorer.c, docs/EXPLORER.md). */
    {"GET", "/", esg_api__r_explorer_index, true, 0},
    {"GET", "/explorer/{}", esg_api__r_explorer_file, true, 0},
};
const size_t esg_api__n_routes = sizeof esg_api__routes / sizeof esg_api__routes[0];
