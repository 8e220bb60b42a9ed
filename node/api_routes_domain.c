/* The API's routes over the ESG domain (DESIGN.md §9, issue 3):
 * instruments, their holders, payments, proceeds allocations and impact
 * reports, and a member's attributed impact.
 *
 * These routes only read. The instrument detail, allocation, impact and
 * attributed-impact documents are built by contracts/reports.h -- the same
 * code the wallet's audit runs on a state it replayed itself -- so the API
 * and an auditor can never word a figure differently. The list, holders
 * and payments routes render stored records (a payment's amounts exactly
 * as the contract recorded them); what they compute is presentation only:
 * shares in basis points.
 *
 * JSON: money and units (uint64) are decimal strings, hashes and ids are
 * hex, heights and counts numbers, dates "YYYY-MM-DD" (docs/API.md). Each
 * route answers from one read transaction, so its parts agree. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/instrument.h"
#include "contracts/reports.h"
#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/pbjson.h"
#include "ledger/state.h"
#include "node/api_routes.h"

#define MAX_INSTRUMENT_ID 40

/* ------------------------------------------------------------- helpers */

/* Sets obj[key] = v, taking v; records ESG_ERR_NOMEM in *rc when v or obj
 * is NULL (jansson returns NULL only when out of memory). */
static void jset(json_t *obj, const char *key, json_t *v, int *rc) {
    if (json_object_set_new(obj, key, v) != 0 && *rc == 0)
        *rc = ESG_ERR_NOMEM;
}

/* Appends v to arr, taking v; records ESG_ERR_NOMEM as jset does. */
static void jpush(json_t *arr, json_t *v, int *rc) {
    if (json_array_append_new(arr, v) != 0 && *rc == 0)
        *rc = ESG_ERR_NOMEM;
}

/* Money and units: a decimal string. */
static json_t *jmoney(uint64_t v) {
    char s[21];
    esg_u64_format(v, s);
    return json_string(s);
}

/* Enum value `v` of field `field` of message `md`, by its short name. */
static json_t *jenum(const ProtobufCMessageDescriptor *md, const char *field, int v) {
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(md, field);
    return esg_pb_enum_to_json(f->descriptor, v);
}

/* floor(part x 10000 / whole) in basis points; 0 when whole is 0. */
static json_t *jbps(uint64_t part, uint64_t whole) {
    if (whole == 0)
        return esg_api__num(0);
    return esg_api__num((uint64_t)((unsigned __int128)part * 10000 / whole));
}

/* instrument ‖ 0 (‖ tail): the key prefix of an instrument's rows in the
 * holdings, payments, allocations and instrument-reports tables, written
 * to out (MAX_INSTRUMENT_ID + 1 + tlen bytes). Returns its length. `id`
 * has been checked with esg_report_instrument_id_valid (a stored record's
 * too). */
static size_t row_prefix(uint8_t *out, const char *id, const void *tail, size_t tlen) {
    size_t n = strlen(id);
    assert(n <= MAX_INSTRUMENT_ID && tlen <= 1);
    memcpy(out, id, n);
    out[n] = 0;
    if (tlen)
        memcpy(out + n + 1, tail, tlen);
    return n + 1 + tlen;
}

/* ------------------------------------------------- one request's state */

/* The read view of a domain route and the instrument it names. */
typedef struct view {
    MDB_txn *txn;
    esg_state *st;
    esg_pb_instrument_record *ins; /* NULL for routes not about one */
} view;

static bool view_begin(esg_api__call *c, view *v) {
    memset(v, 0, sizeof *v);
    if (!esg_api__read_begin(c, &v->txn))
        return false;
    int rc = esg_state_open(&v->st, c->deps->store, v->txn, false);
    if (rc) {
        esg_store_read_end(v->txn);
        esg_api__fail(c, rc, NULL);
        return false;
    }
    return true;
}

static void view_end(view *v) {
    esg_pb_free(v->ins);
    esg_state_free(v->st);
    esg_store_read_end(v->txn);
    memset(v, 0, sizeof *v);
}

/* Checks the {id} of an instrument route: 400 ERR_BAD_INSTRUMENT_ID. */
static bool instrument_id_ok(esg_api__call *c) {
    const char *id = c->params[0];
    if (esg_report_instrument_id_valid(id))
        return true;
    char q[80];
    esg_api__quote(q, sizeof q, id);
    esg_api__fail(c, ESG_ERR_BAD_INSTRUMENT_ID, "instrument id '%s' does not match [A-Z0-9-]{3,40}",
                  q);
    return false;
}

/* Checks the {id} of an instrument route, opens the view and loads the
 * instrument: 400 ERR_BAD_INSTRUMENT_ID, 404 ERR_UNKNOWN_INSTRUMENT. */
static bool instrument_begin(esg_api__call *c, view *v) {
    const char *id = c->params[0];
    if (!instrument_id_ok(c) || !view_begin(c, v))
        return false;
    int rc = esg_instrument_get(v->st, id, &v->ins);
    if (rc == 0 && (!v->ins->spec || strcmp(v->ins->spec->id, id) != 0))
        rc = ESG_ERR_STORE_CORRUPT;
    if (rc) {
        view_end(v);
        if (rc == ESG_ERR_UNKNOWN_INSTRUMENT || rc == ESG_ERR_NOT_FOUND)
            esg_api__fail(c, ESG_ERR_UNKNOWN_INSTRUMENT, "unknown instrument '%s'", id);
        else
            esg_api__fail_store(c, rc, "an instrument");
        return false;
    }
    return true;
}

/* Ends the view and sends `o`, or the error rc (naming `what`). */
static void finish(esg_api__call *c, view *v, int rc, json_t *o, const char *what) {
    view_end(v);
    if (rc) {
        json_decref(o);
        esg_api__fail_store(c, rc, what);
        return;
    }
    esg_api__reply_json(c, 200, o);
}

/* ------------------------------------------------------ /v1/instruments */

static json_t *co_issuers_json(const esg_pb_instrument_spec *spec, int *rc) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < spec->n_co_issuers; i++)
        jpush(arr,
              json_pack("{s:s,s:o}", "member", spec->co_issuers[i]->member, "share_bps",
                        esg_api__num(spec->co_issuers[i]->share_bps)),
              rc);
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

/* The list's summary of an instrument. */
static json_t *instrument_summary(const esg_pb_instrument_record *ins, int *rc) {
    const esg_pb_instrument_spec *s = ins->spec;
    const ProtobufCMessageDescriptor *sd = ESG_PB_INSTRUMENT_SPEC_DESC;
    json_t *o = json_object();
    jset(o, "id", json_string(s->id), rc);
    jset(o, "kind", jenum(sd, "kind", s->kind), rc);
    jset(o, "name", json_string(s->name), rc);
    jset(o, "currency", json_string(s->currency), rc);
    jset(o, "status", jenum(ESG_PB_INSTRUMENT_RECORD_DESC, "status", ins->status), rc);
    jset(o, "face_value", jmoney(s->face_value), rc);
    jset(o, "units", jmoney(s->units), rc);
    jset(o, "units_sold", jmoney(ins->units_sold), rc);
    jset(o, "units_outstanding", jmoney(ins->units_outstanding), rc);
    jset(o, "amount_raised", jmoney(ins->amount_raised), rc);
    jset(o, "coupon_bps", esg_api__num(s->coupon_bps), rc);
    jset(o, "coupon_frequency_months", esg_api__num(s->coupon_frequency_months), rc);
    jset(o, "issue_date", json_string(s->issue_date), rc);
    jset(o, "maturity_date", json_string(s->maturity_date), rc);
    jset(o, "co_issuers", co_issuers_json(s, rc), rc);
    jset(o, "paying_agent", json_string(s->paying_agent), rc);
    if (*rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

typedef struct list_acc {
    json_t *arr;
    int rc;
} list_acc;

static int collect_instrument(const uint8_t *key, size_t klen, const uint8_t *val,
                              size_t vlen, void *arg) {
    (void)key;
    (void)klen;
    list_acc *acc = arg;
    esg_pb_instrument_record *ins = NULL;
    if (esg_pb_instrument_record_decode(&ins, val, vlen, SIZE_MAX) || !ins->spec ||
        !esg_report_instrument_id_valid(ins->spec->id)) {
        esg_pb_free(ins);
        return acc->rc = ESG_ERR_STORE_CORRUPT;
    }
    jpush(acc->arr, instrument_summary(ins, &acc->rc), &acc->rc);
    esg_pb_free(ins);
    return acc->rc;
}

void esg_api__r_instruments(esg_api__call *c) {
    view v;
    if (!view_begin(c, &v))
        return;
    list_acc acc = {json_array(), 0};
    int rc = acc.arr ? esg_state_iter(v.st, ESG_T_INSTRUMENTS, NULL, 0, collect_instrument,
                                      &acc)
                     : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc.rc;
    json_t *o = rc ? NULL : json_pack("{s:o}", "instruments", acc.arr);
    if (rc)
        json_decref(acc.arr);
    finish(c, &v, rc, o, "instruments");
}

/* ------------------------------ /v1/instruments/{id}, /allocations, /impact */

typedef int (*instrument_doc_fn)(esg_state *st, const char *instrument, json_t **out,
                                 char *err, size_t errlen);

/* A document of contracts/reports.h about the instrument {id}: 400
 * ERR_BAD_INSTRUMENT_ID, 404 ERR_UNKNOWN_INSTRUMENT, or the store error
 * the builder met. */
static void instrument_doc(esg_api__call *c, instrument_doc_fn fn) {
    view v;
    if (!instrument_id_ok(c) || !view_begin(c, &v))
        return;
    json_t *o = NULL;
    char err[256] = "";
    int rc = fn(v.st, c->params[0], &o, err, sizeof err);
    view_end(&v);
    if (rc) {
        esg_api__fail(c, rc, "%s", err);
        return;
    }
    esg_api__reply_json(c, 200, o);
}

void esg_api__r_instrument(esg_api__call *c) {
    instrument_doc(c, esg_report_instrument);
}

void esg_api__r_instrument_allocations(esg_api__call *c) {
    instrument_doc(c, esg_report_allocations);
}

void esg_api__r_instrument_impact(esg_api__call *c) {
    instrument_doc(c, esg_report_impact);
}

/* ----------------------------------------- /v1/instruments/{id}/holders */

typedef struct holders_acc {
    json_t *arr;
    uint64_t outstanding;
    int rc;
} holders_acc;

static int collect_holder(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                          void *arg) {
    (void)key;
    (void)klen;
    holders_acc *acc = arg;
    esg_pb_holding *h = NULL;
    if (esg_pb_holding_decode(&h, val, vlen, SIZE_MAX))
        return acc->rc = ESG_ERR_STORE_CORRUPT;
    /* A row with 0 units is a past holder's coupon snapshot
     * (contracts/instrument.h): not a holder now. */
    if (h->units > 0)
        jpush(acc->arr,
              json_pack("{s:s,s:o,s:o}", "member", h->member, "units", jmoney(h->units),
                        "share_of_outstanding_bps", jbps(h->units, acc->outstanding)),
              &acc->rc);
    esg_pb_free(h);
    return acc->rc;
}

void esg_api__r_instrument_holders(esg_api__call *c) {
    view v;
    if (!instrument_begin(c, &v))
        return;
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    size_t plen = row_prefix(prefix, v.ins->spec->id, NULL, 0);
    holders_acc acc = {json_array(), v.ins->units_outstanding, 0};
    int rc = acc.arr ? esg_state_iter(v.st, ESG_T_HOLDINGS, prefix, plen, collect_holder, &acc)
                     : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc.rc;
    json_t *o = NULL;
    if (rc == 0) {
        o = json_pack("{s:s,s:o,s:o}", "instrument", v.ins->spec->id, "units_outstanding",
                      jmoney(v.ins->units_outstanding), "holders", acc.arr);
        acc.arr = NULL;
    }
    json_decref(acc.arr);
    finish(c, &v, rc ? rc : (o ? 0 : ESG_ERR_NOMEM), o, "holdings");
}

/* ---------------------------------------- /v1/instruments/{id}/payments */

static json_t *payment_lines_json(esg_pb_payment_line *const *lines, size_t n,
                                  bool co_issuers, int *rc) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const esg_pb_payment_line *l = lines[i];
        jpush(arr,
              co_issuers ? json_pack("{s:s,s:o,s:o}", "member", l->member, "share_bps",
                                     esg_api__num(l->share_bps), "amount", jmoney(l->amount))
                         : json_pack("{s:s,s:o,s:o}", "member", l->member, "units",
                                     jmoney(l->units), "amount", jmoney(l->amount)),
              rc);
    }
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

/* A payment exactly as recorded. */
static json_t *payment_json(const esg_pb_payment *p, int *rc) {
    json_t *o = json_object();
    jset(o, "kind", jenum(ESG_PB_PAYMENT_DESC, "kind", p->kind), rc);
    jset(o, "due_date", json_string(p->due_date), rc);
    jset(o, "seq", esg_api__num(p->seq), rc);
    jset(o, "height", esg_api__num(p->height), rc);
    if (o)
        esg_api__set_time(o, p->time_ms);
    jset(o, "coupon_bps", esg_api__num(p->coupon_bps), rc);
    jset(o, "step_up_bps", esg_api__num(p->step_up_bps), rc);
    jset(o, "months", esg_api__num(p->months), rc);
    jset(o, "per_unit", jmoney(p->per_unit), rc);
    jset(o, "total", jmoney(p->total), rc);
    jset(o, "holders", payment_lines_json(p->holders, p->n_holders, false, rc), rc);
    jset(o, "co_issuers", payment_lines_json(p->co_issuers, p->n_co_issuers, true, rc), rc);
    jset(o, "tx_id", esg_api__hex(p->tx_id.data, p->tx_id.len), rc);
    return o;
}

static int collect_payment(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                           void *arg) {
    (void)key;
    (void)klen;
    list_acc *acc = arg;
    esg_pb_payment *p = NULL;
    if (esg_pb_payment_decode(&p, val, vlen, SIZE_MAX))
        return acc->rc = ESG_ERR_STORE_CORRUPT;
    jpush(acc->arr, payment_json(p, &acc->rc), &acc->rc);
    esg_pb_free(p);
    return acc->rc;
}

void esg_api__r_instrument_payments(esg_api__call *c) {
    view v;
    if (!instrument_begin(c, &v))
        return;
    /* Key order: the coupons by seq, then the redemption -- the order in
     * which they were recorded. */
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    size_t plen = row_prefix(prefix, v.ins->spec->id, NULL, 0);
    list_acc acc = {json_array(), 0};
    int rc = acc.arr ? esg_state_iter(v.st, ESG_T_PAYMENTS, prefix, plen, collect_payment,
                                      &acc)
                     : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc.rc;
    json_t *o = NULL;
    if (rc == 0) {
        o = json_pack("{s:s,s:o}", "instrument", v.ins->spec->id, "payments", acc.arr);
        acc.arr = NULL;
        if (!o)
            rc = ESG_ERR_NOMEM;
    }
    json_decref(acc.arr);
    finish(c, &v, rc, o, "payments");
}

/* ---------------------------------------------- /v1/members/{id}/impact */

void esg_api__r_member_impact(esg_api__call *c) {
    const char *id = c->params[0];
    if (!esg_member_id_valid(id)) {
        char q[80];
        esg_api__quote(q, sizeof q, id);
        esg_api__fail(c, ESG_ERR_BAD_MEMBER_ID, "member id '%s' does not match [a-z0-9-]{2,40}",
                      q);
        return;
    }
    view v;
    if (!view_begin(c, &v))
        return;
    json_t *o = NULL;
    char err[256] = "";
    int rc = esg_report_member_impact(v.st, id, &o, err, sizeof err);
    view_end(&v);
    if (rc) {
        esg_api__fail(c, rc, "%s", err);
        return;
    }
    esg_api__reply_json(c, 200, o);
}
