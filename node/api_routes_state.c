/* The API's routes over the state tables: validators, members, accounts,
 * proposals, KPIs and state proofs. Records are rendered by the generic
 * protobuf renderer (ledger/pbjson.h), with heights and nonces turned into
 * JSON numbers as every route shows them. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/evidence.h"
#include "ledger/pbjson.h"
#include "ledger/smt.h"
#include "ledger/state.h"
#include "node/api_routes.h"

/* Replaces obj[key] (a decimal string from the renderer) by a number. */
static void as_number(json_t *obj, const char *key, uint64_t v) {
    if (obj)
        json_object_set_new(obj, key, esg_api__num(v));
}

/* Opens a read view over a new read transaction. */
static bool view_begin(esg_api__call *c, MDB_txn **txn, esg_state **st) {
    if (!esg_api__read_begin(c, txn))
        return false;
    int rc = esg_state_open(st, c->deps->store, *txn, false);
    if (rc) {
        esg_store_read_end(*txn);
        esg_api__fail(c, rc, NULL);
        return false;
    }
    return true;
}

static void view_end(MDB_txn *txn, esg_state *st) {
    esg_state_free(st);
    esg_store_read_end(txn);
}

/* --------------------------------------------------------- /v1/validators */

/* GET /v1/validators/changes: every height from which a new validator
 * set is in force (1 = genesis), with that set's hash. A light client
 * takes it as a hint only: it checks each change against the headers
 * (next_validators_hash of the block before). */
void esg_api__r_valset_changes(esg_api__call *c) {
    MDB_txn *txn;
    if (!esg_api__read_begin(c, &txn))
        return;
    MDB_cursor *cur;
    json_t *arr = json_array();
    int rc = arr ? ESG_OK : ESG_ERR_NOMEM;
    if (rc == 0 && mdb_cursor_open(txn, esg_store_dbi(c->deps->store, ESG_DB_VALSETS), &cur))
        rc = ESG_ERR_STORE;
    if (rc == 0) {
        MDB_val k, v;
        int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        for (; mrc == 0 && rc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            esg_pb_validator_set *vs = NULL;
            esg_hash h;
            if (k.mv_size != 8 ||
                esg_pb_decode(ESG_PB_VALIDATOR_SET_DESC, v.mv_data, v.mv_size, SIZE_MAX,
                              (ProtobufCMessage **)&vs) != 0) {
                rc = ESG_ERR_STORE_CORRUPT;
                break;
            }
            uint64_t height = 0;
            for (int i = 0; i < 8; i++)
                height = height << 8 | ((const uint8_t *)k.mv_data)[i];
            rc = esg_valset_hash(vs, &h);
            esg_pb_free(vs);
            if (rc == 0 && json_array_append_new(arr, json_pack("{s:o,s:o}", "height",
                                                                esg_api__num(height), "hash",
                                                                esg_api__hex(h.b, 32))))
                rc = ESG_ERR_NOMEM;
        }
        if (rc == 0 && mrc != MDB_NOTFOUND)
            rc = ESG_ERR_STORE;
        mdb_cursor_close(cur);
    }
    esg_store_read_end(txn);
    if (rc) {
        json_decref(arr);
        esg_api__fail_store(c, rc, "the validator set history");
        return;
    }
    esg_api__reply_json(c, 200, json_pack("{s:o}", "changes", arr));
}

void esg_api__r_validators(esg_api__call *c) {
    uint64_t height;
    MDB_txn *txn;
    if (!esg_api__read_begin(c, &txn))
        return;
    esg_store_meta meta;
    esg_pb_validator_set *vs = NULL;
    int rc = esg_store_meta_get(txn, c->deps->store, &meta);
    if (rc) {
        esg_store_read_end(txn);
        esg_api__fail_store(c, rc, "the chain head");
        return;
    }
    if (!esg_api__query_u64(c, "height", meta.height + 1, 1, meta.height + 1, &height)) {
        esg_store_read_end(txn);
        return;
    }
    rc = esg_exec_valset_at(txn, c->deps->store, height, &vs);
    esg_store_read_end(txn);
    if (rc) {
        esg_api__fail_store(c, rc, "the validator set");
        return;
    }
    uint64_t total;
    esg_hash hash;
    json_t *vals = esg_api__valset_json(vs, &total);
    rc = esg_valset_hash(vs, &hash);
    esg_pb_free(vs);
    if (rc) {
        json_decref(vals);
        esg_api__fail(c, rc, NULL);
        return;
    }
    esg_api__reply_json(c, 200,
                        json_pack("{s:o,s:o,s:o,s:o}", "height", esg_api__num(height),
                                  "validators", vals, "total_power", esg_api__num(total),
                                  "hash", esg_api__hex(hash.b, 32)));
}

/* ------------------------------------------------------------ accounts */

/* The account record as JSON; with_member false leaves "member" out (it
 * is listed under its member). */
static json_t *account_json(const esg_pb_account *a, bool with_member) {
    json_t *o = esg_pb_to_json(&a->base);
    as_number(o, "nonce", a->nonce);
    if (o && !with_member)
        json_object_del(o, "member");
    return o;
}

void esg_api__r_account(esg_api__call *c) {
    esg_hash h;
    if (!esg_api__parse_hash(c, "pubkey", c->params[0], &h))
        return;
    esg_pubkey pk;
    memcpy(pk.b, h.b, 32);
    MDB_txn *txn;
    esg_state *st;
    if (!view_begin(c, &txn, &st))
        return;
    esg_pb_account *a = NULL;
    int rc = esg_exec_account_get(st, &pk, &a);
    view_end(txn, st);
    if (rc == ESG_ERR_NOT_FOUND) {
        esg_api__fail(c, ESG_ERR_NOT_FOUND, "no account '%s'", esg_pubkey_hex(&pk).s);
        return;
    }
    if (rc) {
        esg_api__fail_store(c, rc, "an account");
        return;
    }
    json_t *o = account_json(a, true);
    as_number(o, "next_nonce", a->nonce + 1);
    esg_pb_free(a);
    esg_api__reply_json(c, 200, o);
}

/* ------------------------------------------------------------- members */

typedef struct accounts_acc {
    esg_state *st;
    size_t prefix_len;
    json_t *arr;
    int err;
} accounts_acc;

static int collect_account(const uint8_t *key, size_t klen, const uint8_t *val,
                           size_t vlen, void *arg) {
    (void)val;
    (void)vlen;
    accounts_acc *acc = arg;
    if (klen != acc->prefix_len + 32)
        return acc->err = ESG_ERR_STORE_CORRUPT;
    esg_pubkey pk;
    memcpy(pk.b, key + acc->prefix_len, 32);
    esg_pb_account *a = NULL;
    int rc = esg_exec_account_get(acc->st, &pk, &a);
    if (rc)
        return acc->err = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
    rc = json_array_append_new(acc->arr, account_json(a, false));
    esg_pb_free(a);
    return rc ? (acc->err = ESG_ERR_NOMEM) : 0;
}

/* A member record with its accounts (ESG_T_MEMBER_ACCOUNTS rows
 * "id" 0x00 pubkey32). On error returns NULL and *err. */
static json_t *member_json(esg_state *st, const esg_pb_member *m, int *err) {
    size_t idlen = strlen(m->id);
    uint8_t prefix[ESG_STATE_MAX_KEY];
    if (idlen + 1 + 32 > sizeof prefix) {
        *err = ESG_ERR_STORE_CORRUPT;
        return NULL;
    }
    memcpy(prefix, m->id, idlen);
    prefix[idlen] = 0;
    accounts_acc acc = {st, idlen + 1, json_array(), 0};
    json_t *o = esg_pb_to_json(&m->base);
    if (!o || !acc.arr) {
        json_decref(o);
        json_decref(acc.arr);
        *err = ESG_ERR_NOMEM;
        return NULL;
    }
    as_number(o, "admitted_height", m->admitted_height);
    int rc = esg_state_iter(st, ESG_T_MEMBER_ACCOUNTS, prefix, idlen + 1,
                            collect_account, &acc);
    if (rc == 0)
        rc = acc.err;
    if (rc || json_object_set_new(o, "accounts", acc.arr)) {
        if (rc)
            json_decref(acc.arr);
        json_decref(o);
        *err = rc ? rc : ESG_ERR_NOMEM;
        return NULL;
    }
    return o;
}

typedef struct members_acc {
    esg_state *st;
    json_t *arr;
    int err;
} members_acc;

static int collect_member(const uint8_t *key, size_t klen, const uint8_t *val,
                          size_t vlen, void *arg) {
    (void)key;
    (void)klen;
    members_acc *acc = arg;
    esg_pb_member *m = NULL;
    if (esg_pb_member_decode(&m, val, vlen, SIZE_MAX))
        return acc->err = ESG_ERR_STORE_CORRUPT;
    int err = 0;
    json_t *o = member_json(acc->st, m, &err);
    esg_pb_free(m);
    if (!o)
        return acc->err = err;
    return json_array_append_new(acc->arr, o) ? (acc->err = ESG_ERR_NOMEM) : 0;
}

void esg_api__r_members(esg_api__call *c) {
    MDB_txn *txn;
    esg_state *st;
    if (!view_begin(c, &txn, &st))
        return;
    members_acc acc = {st, json_array(), 0};
    int rc = acc.arr ? esg_state_iter(st, ESG_T_MEMBERS, NULL, 0, collect_member, &acc)
                     : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc.err;
    view_end(txn, st);
    if (rc) {
        json_decref(acc.arr);
        esg_api__fail_store(c, rc, "members");
        return;
    }
    esg_api__reply_json(c, 200, json_pack("{s:o}", "members", acc.arr));
}

void esg_api__r_member(esg_api__call *c) {
    const char *id = c->params[0];
    if (!esg_member_id_valid(id)) {
        char q[80];
        esg_api__quote(q, sizeof q, id);
        esg_api__fail(c, ESG_ERR_BAD_MEMBER_ID,
                      "member id '%s' does not match [a-z0-9-]{2,40}", q);
        return;
    }
    MDB_txn *txn;
    esg_state *st;
    if (!view_begin(c, &txn, &st))
        return;
    esg_pb_member *m = NULL;
    int rc = esg_state_get_msg(st, ESG_T_MEMBERS, id, strlen(id), ESG_PB_MEMBER_DESC,
                               (ProtobufCMessage **)&m);
    json_t *o = rc == 0 ? member_json(st, m, &rc) : NULL;
    esg_pb_free(m);
    view_end(txn, st);
    if (rc == ESG_ERR_NOT_FOUND)
        esg_api__fail(c, ESG_ERR_NOT_FOUND, "no member '%s'", id);
    else if (rc)
        esg_api__fail_store(c, rc, "a member");
    else
        esg_api__reply_json(c, 200, o);
}

/* ----------------------------------------------------------- proposals */

static const ProtobufCEnumDescriptor *status_enum(void) {
    return protobuf_c_message_descriptor_get_field_by_name(ESG_PB_PROPOSAL_RECORD_DESC,
                                                           "status")
        ->descriptor;
}

static json_t *proposal_json(const esg_pb_proposal_record *p) {
    json_t *o = esg_pb_to_json(&p->base);
    as_number(o, "created_height", p->created_height);
    as_number(o, "expires_height", p->expires_height);
    as_number(o, "decided_height", p->decided_height);
    return o;
}

typedef struct list_acc {
    json_t *arr;
    bool filter;
    int status;
    int err;
} list_acc;

/* Replies {name: [...]} with what `fn` collects (into acc, whose filter is
 * set by the caller) from the rows of table t that start with `prefix`,
 * on one read view; `what` names the records in a store error. */
static void reply_list(esg_api__call *c, list_acc *acc, esg_table t, const void *prefix,
                       size_t plen, esg_state_iter_fn fn, const char *name, const char *what) {
    MDB_txn *txn;
    esg_state *st;
    if (!view_begin(c, &txn, &st))
        return;
    acc->arr = json_array();
    int rc = acc->arr ? esg_state_iter(st, t, prefix, plen, fn, acc) : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc->err;
    view_end(txn, st);
    if (rc) {
        json_decref(acc->arr);
        esg_api__fail_store(c, rc, what);
        return;
    }
    esg_api__reply_json(c, 200, json_pack("{s:o}", name, acc->arr));
}

static int collect_proposal(const uint8_t *key, size_t klen, const uint8_t *val,
                            size_t vlen, void *arg) {
    (void)key;
    (void)klen;
    list_acc *acc = arg;
    esg_pb_proposal_record *p = NULL;
    if (esg_pb_proposal_record_decode(&p, val, vlen, SIZE_MAX))
        return acc->err = ESG_ERR_STORE_CORRUPT;
    int rc = 0;
    if (!acc->filter || (int)p->status == acc->status)
        rc = json_array_append_new(acc->arr, proposal_json(p));
    esg_pb_free(p);
    return rc ? (acc->err = ESG_ERR_NOMEM) : 0;
}

void esg_api__r_proposals(esg_api__call *c) {
    list_acc acc = {NULL, false, 0, 0};
    const char *s = esg_api__query(c, "status");
    if (s) {
        if (esg_pb_enum_parse(status_enum(), s, &acc.status) != 0 || acc.status == 0) {
            char q[80];
            esg_api__quote(q, sizeof q, s);
            esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                          "query parameter 'status' must be OPEN, EXECUTED, REJECTED, "
                          "EXPIRED or FAILED, got '%s'",
                          q);
            return;
        }
        acc.filter = true;
    }
    reply_list(c, &acc, ESG_T_PROPOSALS, NULL, 0, collect_proposal, "proposals", "proposals");
}

void esg_api__r_proposal(esg_api__call *c) {
    esg_hash id;
    if (!esg_api__parse_hash(c, "proposal id", c->params[0], &id))
        return;
    MDB_txn *txn;
    esg_state *st;
    if (!view_begin(c, &txn, &st))
        return;
    esg_pb_proposal_record *p = NULL;
    int rc = esg_state_get_msg(st, ESG_T_PROPOSALS, id.b, 32, ESG_PB_PROPOSAL_RECORD_DESC,
                               (ProtobufCMessage **)&p);
    view_end(txn, st);
    if (rc == ESG_ERR_NOT_FOUND) {
        esg_api__fail(c, ESG_ERR_NOT_FOUND, "no proposal '%s'", esg_hash_hex(&id).s);
        return;
    }
    if (rc) {
        esg_api__fail_store(c, rc, "a proposal");
        return;
    }
    esg_api__reply_json(c, 200, proposal_json(p));
    esg_pb_free(p);
}

/* ----------------------------------------------------------------- KPIs */

static int collect_kpi(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                       void *arg) {
    (void)key;
    (void)klen;
    list_acc *acc = arg;
    esg_pb_kpi *k = NULL;
    if (esg_pb_kpi_decode(&k, val, vlen, SIZE_MAX))
        return acc->err = ESG_ERR_STORE_CORRUPT;
    int rc = json_array_append_new(acc->arr, esg_pb_to_json(&k->base));
    esg_pb_free(k);
    return rc ? (acc->err = ESG_ERR_NOMEM) : 0;
}

void esg_api__r_kpis(esg_api__call *c) {
    list_acc acc = {NULL, false, 0, 0};
    reply_list(c, &acc, ESG_T_KPIS, NULL, 0, collect_kpi, "kpis", "KPIs");
}

/* ------------------------------------------------------------- evidence */

static int collect_evidence(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                            void *arg) {
    list_acc *acc = arg;
    esg_pb_evidence_record *r = NULL;
    if (esg_pb_evidence_record_decode(&r, val, vlen, SIZE_MAX))
        return acc->err = ESG_ERR_STORE_CORRUPT;
    json_t *j = esg_pb_to_json(&r->base);
    esg_pb_free(r);
    /* The record key, so a client can ask /v1/state/proof for it. */
    char hex[2 * ESG_EVIDENCE_KEY_LEN + 1];
    if (j && klen == ESG_EVIDENCE_KEY_LEN) {
        esg_hex_encode(hex, key, klen);
        json_object_set_new(j, "key", json_string(hex));
    }
    int rc = j ? json_array_append_new(acc->arr, j) : -1;
    return rc ? (acc->err = ESG_ERR_NOMEM) : 0;
}

void esg_api__r_evidence(esg_api__call *c) {
    const char *vhex = esg_api__query(c, "validator");
    esg_hash pk;
    if (vhex && !esg_api__parse_hash(c, "validator", vhex, &pk))
        return;
    list_acc acc = {NULL, false, 0, 0};
    reply_list(c, &acc, ESG_T_EVIDENCE, vhex ? pk.b : NULL, vhex ? 32 : 0, collect_evidence,
               "evidence", "evidence");
}

/* ---------------------------------------------------------- state proofs */

void esg_api__r_state_proof(esg_api__call *c) {
    uint64_t table;
    if (!esg_api__query_u64(c, "table", 0, 1, 255, &table))
        return;
    if (!esg_api__query(c, "table")) {
        esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT, "query parameter 'table' is required");
        return;
    }
    const char *khex = esg_api__query(c, "key");
    if (!khex)
        khex = "";
    size_t hexlen = strlen(khex);
    uint8_t key[ESG_STATE_MAX_KEY];
    if (hexlen % 2 != 0 || hexlen / 2 > sizeof key ||
        (hexlen > 0 && esg_hex_decode(key, hexlen / 2, khex) != 0)) {
        esg_api__fail(c, ESG_ERR_INVALID_ARGUMENT,
                      "query parameter 'key' must be the record key in hex (at most %d "
                      "bytes)",
                      ESG_STATE_MAX_KEY);
        return;
    }
    size_t klen = hexlen / 2;
    esg_smt_proof *proof = malloc(sizeof *proof);
    if (!proof) {
        esg_api__fail(c, ESG_ERR_NOMEM, NULL);
        return;
    }
    MDB_txn *txn;
    esg_state *st;
    if (!view_begin(c, &txn, &st)) {
        free(proof);
        return;
    }
    esg_store_meta meta;
    MDB_val val = {0, NULL};
    esg_hash root;
    json_t *header = NULL, *commit = NULL, *value = NULL;
    int rc = esg_store_meta_get(txn, c->deps->store, &meta);
    if (rc == 0)
        rc = esg_state_prove(st, (esg_table)table, key, klen, &val, proof);
    if (rc == 0)
        rc = esg_state_root(st, &root);
    if (rc == 0)
        value = val.mv_data ? esg_api__hex(val.mv_data, val.mv_size) : json_null();
    bool ok = rc == 0;
    if (rc)
        esg_api__fail_store(c, rc, "the state tree");
    /* At height 0 (genesis) there is no header: the state root is the
     * genesis state's, known from the genesis file. */
    if (ok && meta.height > 0)
        ok = esg_api__load_block(c, txn, meta.height, NULL, &header, &commit, NULL);
    view_end(txn, st);
    if (!ok) {
        json_decref(value);
        free(proof);
        return;
    }
    json_t *sibs = json_array();
    for (size_t i = 0; sibs && i < proof->n_siblings; i++)
        if (json_array_append_new(sibs, esg_api__hex(proof->siblings[i].b, 32))) {
            json_decref(sibs);
            sibs = NULL;
        }
    json_t *leaf = proof->has_leaf
                       ? json_pack("{s:o,s:o}", "key", esg_api__hex(proof->leaf_key.b, 32),
                                   "value_hash",
                                   esg_api__hex(proof->leaf_value_hash.b, 32))
                       : json_null();
    esg_hash tree_key = esg_state_key((esg_table)table, key, klen);
    free(proof);
    esg_api__reply_json(
        c, 200,
        json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:{s:o,s:o},s:o,s:o}", "height",
                  esg_api__num(meta.height), "app_hash", esg_api__hex(root.b, 32), "table",
                  esg_api__num(table), "record_key", esg_api__hex(key, klen), "key",
                  esg_api__hex(tree_key.b, 32), "value", value, "proof", "siblings", sibs,
                  "leaf", leaf, "header", header ? header : json_null(), "commit",
                  commit ? commit : json_null()));
}
