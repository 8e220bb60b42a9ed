/* The API's routes over the ESG domain (DESIGN.md §9, issue 3):
 * instruments, their holders, payments, proceeds allocations and impact
 * reports, and a member's attributed impact.
 *
 * These routes only read. Every figure is either a stored record's field
 * (a payment's amounts are shown exactly as the contract recorded them) or
 * the answer of a contract query function (contracts/instrument.h,
 * payments.h, proceeds.h, impact.h: the schedule, the split by shares,
 * counted values, confirmed sums, step-ups, attribution), so the API can
 * never state a rule differently from the ledger. What is
 * computed here is presentation only: sums of figures already shown, and
 * shares in basis points.
 *
 * JSON: money and units (uint64) are decimal strings, impact values
 * (thousandths of the KPI unit) are "1234.567" strings, hashes and ids are
 * hex, heights and counts numbers, dates "YYYY-MM-DD" (docs/API.md). Each
 * route answers from one read transaction, so its parts agree. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/impact.h"
#include "contracts/instrument.h"
#include "contracts/payments.h"
#include "contracts/proceeds.h"
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

/* An impact value in thousandths: "1234.567". */
static json_t *jmilli(int64_t v) {
    char s[32];
    esg_milli_format(v, s);
    return json_string(s);
}

/* A bytes field as hex, or null when empty (an optional reference). */
static json_t *jhex_or_null(const esg_pb_bytes *b) {
    return b->len ? esg_api__hex(b->data, b->len) : json_null();
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

static bool instrument_id_valid(const char *s) {
    size_t n = strlen(s);
    if (n < 3 || n > MAX_INSTRUMENT_ID)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* instrument ‖ 0 (‖ tail): the key prefix of an instrument's rows in the
 * holdings, payments, allocations and instrument-reports tables, written
 * to out (MAX_INSTRUMENT_ID + 1 + tlen bytes). Returns its length. `id`
 * has been checked with instrument_id_valid (a stored record's too). */
static size_t row_prefix(uint8_t *out, const char *id, const void *tail, size_t tlen) {
    size_t n = strlen(id);
    assert(n <= MAX_INSTRUMENT_ID && tlen <= 1);
    memcpy(out, id, n);
    out[n] = 0;
    if (tlen)
        memcpy(out + n + 1, tail, tlen);
    return n + 1 + tlen;
}

/* A growable array of decoded records (freed with esg_pb_free). */
typedef struct msg_vec {
    void **v;
    size_t n, cap;
} msg_vec;

static int vec_push(msg_vec *a, void *m) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        void **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            esg_pb_free(m);
            return ESG_ERR_NOMEM;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = m;
    return 0;
}

static void vec_free(msg_vec *a) {
    for (size_t i = 0; i < a->n; i++)
        esg_pb_free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

/* Reads a record that another record names: its absence is corruption. */
static int get_linked(esg_state *st, esg_table t, const esg_pb_bytes *id,
                      const ProtobufCMessageDescriptor *desc, void **out) {
    *out = NULL;
    if (id->len != 32)
        return ESG_ERR_STORE_CORRUPT;
    int rc = esg_state_get_msg(st, t, id->data, 32, desc, (ProtobufCMessage **)out);
    return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
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

/* Checks the {id} of an instrument route, opens the view and loads the
 * instrument: 400 ERR_BAD_INSTRUMENT_ID, 404 ERR_UNKNOWN_INSTRUMENT. */
static bool instrument_begin(esg_api__call *c, view *v) {
    const char *id = c->params[0];
    if (!instrument_id_valid(id)) {
        char q[80];
        esg_api__quote(q, sizeof q, id);
        esg_api__fail(c, ESG_ERR_BAD_INSTRUMENT_ID,
                      "instrument id '%s' does not match [A-Z0-9-]{3,40}", q);
        return false;
    }
    if (!view_begin(c, v))
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
        !instrument_id_valid(ins->spec->id)) {
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

/* ------------------------------------------------- /v1/instruments/{id} */

/* The instrument's coupon payments by due date: seq of the payment
 * recorded for each date of the schedule, 0 when none. */
typedef struct paid_acc {
    const int32_t *days;
    size_t n;
    uint32_t *seq;
} paid_acc;

static int mark_paid(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                     void *arg) {
    (void)key;
    (void)klen;
    paid_acc *acc = arg;
    esg_pb_payment *p = NULL;
    int32_t day;
    if (esg_pb_payment_decode(&p, val, vlen, SIZE_MAX) ||
        esg_date_parse(p->due_date, &day) != 0) {
        esg_pb_free(p);
        return ESG_ERR_STORE_CORRUPT;
    }
    for (size_t i = 0; i < acc->n; i++)
        if (acc->days[i] == day)
            acc->seq[i] = p->seq;
    esg_pb_free(p);
    return 0;
}

/* "schedule": [{date, paid, payment_seq}] from esg_schedule and the
 * recorded coupons; *next is the index of the first unpaid date (n when
 * all are paid). days/n are the schedule. */
static json_t *schedule_json(view *v, const int32_t *days, size_t n, size_t *next, int *rc) {
    uint32_t *seq = calloc(n ? n : 1, sizeof *seq);
    if (!seq) {
        *rc = ESG_ERR_NOMEM;
        return NULL;
    }
    uint8_t prefix[MAX_INSTRUMENT_ID + 2];
    uint8_t kind = ESG_PAYMENT_COUPON;
    size_t plen = row_prefix(prefix, v->ins->spec->id, &kind, 1);
    paid_acc acc = {days, n, seq};
    int r = esg_state_iter(v->st, ESG_T_PAYMENTS, prefix, plen, mark_paid, &acc);
    if (r) {
        free(seq);
        *rc = r;
        return NULL;
    }
    json_t *arr = json_array();
    *next = n;
    for (size_t i = 0; i < n; i++) {
        char d[11];
        esg_date_format(days[i], d);
        if (seq[i] == 0 && *next == n)
            *next = i;
        jpush(arr,
              json_pack("{s:s,s:b,s:o}", "date", d, "paid", seq[i] != 0, "payment_seq",
                        seq[i] ? esg_api__num(seq[i]) : json_null()),
              rc);
    }
    free(seq);
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

/* "step_ups": each KPI target evaluated from the state now by the
 * contract's own rule (esg_covenant_evaluate). */
static json_t *step_ups_json(view *v, int *rc) {
    const esg_pb_instrument_spec *s = v->ins->spec;
    json_t *arr = json_array();
    if (!arr)
        *rc = ESG_ERR_NOMEM;
    for (size_t i = 0; *rc == 0 && i < s->n_kpi_targets; i++) {
        const esg_pb_kpi_target *t = s->kpi_targets[i];
        esg_covenant_eval ev;
        esg_pb_kpi *k = NULL;
        int r = esg_covenant_evaluate(v->st, s, t, &ev);
        if (r == 0)
            r = esg_state_get_msg(v->st, ESG_T_KPIS, t->kpi, strlen(t->kpi), ESG_PB_KPI_DESC,
                                  (ProtobufCMessage **)&k);
        if (r) {
            *rc = r == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : r;
            break;
        }
        int64_t sum = ev.observed;
        size_t counted = ev.counted;
        bool missed = ev.missed;
        json_t *o = json_object();
        jset(o, "kpi", json_string(t->kpi), rc);
        jset(o, "unit", json_string(k->unit), rc);
        jset(o, "direction", jenum(ESG_PB_KPI_DESC, "direction", k->direction), rc);
        jset(o, "observation_date", json_string(t->observation_date), rc);
        jset(o, "baseline", jmilli(t->baseline), rc);
        jset(o, "target", jmilli(t->target), rc);
        jset(o, "observed", jmilli(sum), rc);
        jset(o, "reports_counted", esg_api__num(counted), rc);
        jset(o, "missed", json_boolean(missed), rc);
        jset(o, "step_up_bps", esg_api__num(t->step_up_bps), rc);
        jset(o, "applies_to_coupons_after", json_string(t->observation_date), rc);
        jpush(arr, o, rc);
        esg_pb_free(k);
    }
    return arr;
}

/* The spec as the generic renderer shows it, with the KPI targets' values
 * as decimal thousandths ("1234.567") rather than raw integers. */
static json_t *spec_json(const esg_pb_instrument_spec *s, int *rc) {
    json_t *o = esg_pb_to_json(&s->base);
    json_t *targets = json_object_get(o, "kpi_targets");
    for (size_t i = 0; o && i < s->n_kpi_targets; i++) {
        json_t *t = json_array_get(targets, i);
        jset(t, "baseline", jmilli(s->kpi_targets[i]->baseline), rc);
        jset(t, "target", jmilli(s->kpi_targets[i]->target), rc);
    }
    if (!o && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return o;
}

void esg_api__r_instrument(esg_api__call *c) {
    view v;
    if (!instrument_begin(c, &v))
        return;
    const esg_pb_instrument_record *ins = v.ins;
    int rc = 0;
    json_t *o = spec_json(ins->spec, &rc);
    jset(o, "status", jenum(ESG_PB_INSTRUMENT_RECORD_DESC, "status", ins->status), &rc);
    jset(o, "units_sold", jmoney(ins->units_sold), &rc);
    jset(o, "units_outstanding", jmoney(ins->units_outstanding), &rc);
    jset(o, "amount_raised", jmoney(ins->amount_raised), &rc);
    jset(o, "issue_tx", esg_api__hex(ins->issue_tx.data, ins->issue_tx.len), &rc);
    jset(o, "issued_height", esg_api__num(ins->issued_height), &rc);
    jset(o, "closed_height", esg_api__num(ins->closed_height), &rc);
    jset(o, "matured_height", esg_api__num(ins->matured_height), &rc);
    jset(o, "coupons_recorded", esg_api__num(ins->coupons_recorded), &rc);

    int32_t *days = malloc(ESG_MAX_SCHEDULE * sizeof *days);
    size_t n = 0, next = 0;
    if (!days && rc == 0)
        rc = ESG_ERR_NOMEM;
    /* A stored spec passed esg_schedule when it was issued. */
    if (rc == 0 && esg_schedule(ins->spec, days, ESG_MAX_SCHEDULE, &n) != 0)
        rc = ESG_ERR_STORE_CORRUPT;
    if (rc == 0)
        jset(o, "schedule", schedule_json(&v, days, n, &next, &rc), &rc);
    if (rc == 0) {
        json_t *date = json_null(), *bps = json_null();
        if (next < n) {
            char d[11];
            uint32_t up = 0;
            esg_date_format(days[next], d);
            rc = esg_covenant_step_ups(v.st, ins, days[next], &up);
            date = json_string(d);
            bps = esg_api__num(up);
        }
        jset(o, "next_coupon_date", date, &rc);
        jset(o, "step_up_bps_in_force_next_coupon", bps, &rc);
    }
    free(days);
    if (rc == 0)
        jset(o, "step_ups", step_ups_json(&v, &rc), &rc);
    finish(c, &v, rc, o, "an instrument");
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

/* ------------------------------------- /v1/instruments/{id}/allocations */

static int collect_msg(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                       const ProtobufCMessageDescriptor *desc, msg_vec *out) {
    (void)key;
    (void)klen;
    ProtobufCMessage *m = NULL;
    if (esg_pb_decode(desc, val, vlen, SIZE_MAX, &m))
        return ESG_ERR_STORE_CORRUPT;
    return vec_push(out, m);
}

static int collect_allocation(const uint8_t *key, size_t klen, const uint8_t *val,
                              size_t vlen, void *arg) {
    return collect_msg(key, klen, val, vlen, ESG_PB_ALLOCATION_DESC, arg);
}

/* Allocations in the order they were made: by height, then id (the rows
 * are keyed by tx id, which is no order a reader wants). */
static int allocation_cmp(const void *a, const void *b) {
    const esg_pb_allocation *x = *(esg_pb_allocation *const *)a;
    const esg_pb_allocation *y = *(esg_pb_allocation *const *)b;
    if (x->height != y->height)
        return x->height < y->height ? -1 : 1;
    size_t n = x->id.len < y->id.len ? x->id.len : y->id.len;
    return memcmp(x->id.data, y->id.data, n);
}

static json_t *per_city_json(view *v, uint64_t *allocated_total, int *rc) {
    const esg_pb_instrument_spec *s = v->ins->spec;
    json_t *arr = json_array();
    if (!arr)
        *rc = ESG_ERR_NOMEM;
    for (size_t i = 0; *rc == 0 && i < s->n_co_issuers; i++) {
        const char *city = s->co_issuers[i]->member;
        uint64_t part = 0, allocated = 0;
        int r = esg_proceeds_city_part(v->ins, city, &part);
        if (r == 0)
            r = esg_proceeds_allocated(v->st, s->id, city, NULL, &allocated, NULL);
        if (r == 0 && (allocated > part || allocated > UINT64_MAX - *allocated_total))
            r = ESG_ERR_STORE_CORRUPT; /* the contract never lets this happen */
        if (r) {
            *rc = r;
            break;
        }
        *allocated_total += allocated;
        jpush(arr,
              json_pack("{s:s,s:o,s:o,s:o,s:o}", "city", city, "share_bps",
                        esg_api__num(s->co_issuers[i]->share_bps), "part_of_raised",
                        jmoney(part), "allocated", jmoney(allocated), "remaining",
                        jmoney(part - allocated)),
              rc);
    }
    return arr;
}

static json_t *per_project_json(view *v, int *rc) {
    const esg_pb_instrument_spec *s = v->ins->spec;
    json_t *arr = json_array();
    if (!arr)
        *rc = ESG_ERR_NOMEM;
    for (size_t i = 0; *rc == 0 && i < s->n_projects; i++) {
        const esg_pb_project *p = s->projects[i];
        uint64_t city_total = 0, allocated = 0;
        int r = esg_proceeds_allocated(v->st, s->id, p->city, p->id, &city_total, &allocated);
        if (r) {
            *rc = r;
            break;
        }
        json_t *o = json_object();
        jset(o, "project_id", json_string(p->id), rc);
        jset(o, "city", json_string(p->city), rc);
        jset(o, "name", json_string(p->name), rc);
        jset(o, "eu_objective", jenum(ESG_PB_PROJECT_DESC, "eu_objective", p->eu_objective),
             rc);
        jset(o, "budget", jmoney(p->budget), rc);
        jset(o, "allocated", jmoney(allocated), rc);
        jset(o, "share_of_proceeds_bps", jbps(allocated, v->ins->amount_raised), rc);
        jset(o, "over_budget", json_boolean(allocated > p->budget), rc);
        jpush(arr, o, rc);
    }
    return arr;
}

void esg_api__r_instrument_allocations(esg_api__call *c) {
    view v;
    if (!instrument_begin(c, &v))
        return;
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    size_t plen = row_prefix(prefix, v.ins->spec->id, NULL, 0);
    msg_vec allocs = {0};
    int rc = esg_state_iter(v.st, ESG_T_ALLOCATIONS, prefix, plen, collect_allocation, &allocs);
    uint64_t total = 0;
    json_t *o = rc ? NULL : json_object();
    if (rc == 0) {
        json_t *cities = per_city_json(&v, &total, &rc);
        json_t *projects = rc ? NULL : per_project_json(&v, &rc);
        jset(o, "instrument", json_string(v.ins->spec->id), &rc);
        jset(o, "amount_raised", jmoney(v.ins->amount_raised), &rc);
        jset(o, "allocated_total", jmoney(total), &rc);
        jset(o, "unallocated",
             jmoney(total <= v.ins->amount_raised ? v.ins->amount_raised - total : 0), &rc);
        jset(o, "per_city", cities, &rc);
        jset(o, "per_project", projects, &rc);
    }
    if (rc == 0) {
        if (allocs.n > 1)
            qsort(allocs.v, allocs.n, sizeof allocs.v[0], allocation_cmp);
        json_t *arr = json_array();
        for (size_t i = 0; i < allocs.n; i++) {
            const esg_pb_allocation *a = allocs.v[i];
            json_t *x = json_object();
            jset(x, "id", esg_api__hex(a->id.data, a->id.len), &rc);
            jset(x, "project_id", json_string(a->project_id), &rc);
            jset(x, "city", json_string(a->city), &rc);
            jset(x, "amount", jmoney(a->amount), &rc);
            jset(x, "date", json_string(a->date), &rc);
            jset(x, "evidence_sha256",
                 esg_api__hex(a->evidence_sha256.data, a->evidence_sha256.len), &rc);
            jset(x, "height", esg_api__num(a->height), &rc);
            jpush(arr, x, &rc);
        }
        jset(o, "allocations", arr, &rc);
    }
    vec_free(&allocs);
    finish(c, &v, rc, o, "allocations");
}

/* ------------------------------------------ /v1/instruments/{id}/impact */

typedef struct reports_acc {
    esg_state *st;
    msg_vec reports;
} reports_acc;

/* ESG_T_INSTRUMENT_REPORTS rows: instrument ‖ 0 ‖ report id (32). */
static int collect_report(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                          void *arg) {
    (void)val;
    (void)vlen;
    reports_acc *acc = arg;
    if (klen < 33)
        return ESG_ERR_STORE_CORRUPT;
    esg_pb_bytes id = esg_pb_bin(key + klen - 32, 32);
    void *r = NULL;
    int rc = get_linked(acc->st, ESG_T_REPORTS, &id, ESG_PB_REPORT_DESC, &r);
    if (rc == 0 && !((esg_pb_report *)r)->report) {
        esg_pb_free(r);
        rc = ESG_ERR_STORE_CORRUPT;
    }
    return rc ? rc : vec_push(&acc->reports, r);
}

/* By height, then id: the order in which the reports were made. */
static int report_cmp(const void *a, const void *b) {
    const esg_pb_report *x = *(esg_pb_report *const *)a;
    const esg_pb_report *y = *(esg_pb_report *const *)b;
    if (x->height != y->height)
        return x->height < y->height ? -1 : 1;
    size_t n = x->id.len < y->id.len ? x->id.len : y->id.len;
    return memcmp(x->id.data, y->id.data, n);
}

/* Every report of the instrument (superseded ones included), in order. */
static int load_reports(esg_state *st, const char *instrument, msg_vec *out) {
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    size_t plen = row_prefix(prefix, instrument, NULL, 0);
    reports_acc acc = {st, {0}};
    int rc = esg_state_iter(st, ESG_T_INSTRUMENT_REPORTS, prefix, plen, collect_report, &acc);
    if (rc) {
        vec_free(&acc.reports);
        return rc;
    }
    if (acc.reports.n > 1)
        qsort(acc.reports.v, acc.reports.n, sizeof acc.reports.v[0], report_cmp);
    *out = acc.reports;
    return 0;
}

/* The KPIs an instrument has figures for: those of its reports and of its
 * KPI targets, sorted, each once. kpis[] borrows the strings. */
static int instrument_kpis(const esg_pb_instrument_spec *s, const msg_vec *reports,
                           const char ***kpis, size_t *n) {
    size_t cap = reports->n + s->n_kpi_targets;
    const char **v = malloc((cap ? cap : 1) * sizeof *v);
    if (!v)
        return ESG_ERR_NOMEM;
    size_t m = 0;
    for (size_t i = 0; i < reports->n; i++)
        v[m++] = ((const esg_pb_report *)reports->v[i])->report->kpi;
    for (size_t i = 0; i < s->n_kpi_targets; i++)
        v[m++] = s->kpi_targets[i]->kpi;
    /* Insertion sort with duplicates dropped: a handful of KPIs. */
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        const char *x = v[i];
        size_t j = 0;
        while (j < k && strcmp(v[j], x) < 0)
            j++;
        if (j < k && strcmp(v[j], x) == 0)
            continue;
        memmove(v + j + 1, v + j, (k - j) * sizeof *v);
        v[j] = x;
        k++;
    }
    *kpis = v;
    *n = k;
    return 0;
}

static json_t *attestation_json(const esg_pb_attestation *a, int *rc) {
    json_t *o = json_object();
    jset(o, "id", esg_api__hex(a->id.data, a->id.len), rc);
    jset(o, "verifier", json_string(a->verifier), rc);
    jset(o, "opinion", jenum(ESG_PB_ATTESTATION_DESC, "opinion", a->opinion), rc);
    jset(o, "verified_value", jmilli(a->verified_value), rc);
    jset(o, "statement_sha256", esg_api__hex(a->statement_sha256.data, a->statement_sha256.len),
         rc);
    jset(o, "height", esg_api__num(a->height), rc);
    jset(o, "revoked", json_boolean(a->revoked), rc);
    jset(o, "revoke_reason", json_string(a->revoke_reason), rc);
    jset(o, "revoked_height", esg_api__num(a->revoked_height), rc);
    return o;
}

static json_t *report_json(esg_state *st, const esg_pb_report *r, int *rc) {
    const esg_pb_report_impact *ri = r->report;
    esg_pb_kpi *k = NULL;
    bool counts = false;
    int64_t counted = 0;
    int e = esg_state_get_msg(st, ESG_T_KPIS, ri->kpi, strlen(ri->kpi), ESG_PB_KPI_DESC,
                              (ProtobufCMessage **)&k);
    if (e == 0)
        e = esg_impact_report_counted(st, r, &counts, &counted);
    if (e) {
        esg_pb_free(k);
        *rc = e == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : e;
        return NULL;
    }
    json_t *o = json_object();
    jset(o, "id", esg_api__hex(r->id.data, r->id.len), rc);
    jset(o, "project_id", json_string(ri->project_id), rc);
    jset(o, "city", json_string(r->city), rc);
    jset(o, "kpi", json_string(ri->kpi), rc);
    jset(o, "unit", json_string(k->unit), rc);
    jset(o, "category", json_string(k->category), rc);
    jset(o, "value", jmilli(ri->value), rc);
    jset(o, "period_start", json_string(ri->period_start), rc);
    jset(o, "period_end", json_string(ri->period_end), rc);
    jset(o, "methodology", json_string(ri->methodology), rc);
    jset(o, "evidence_sha256", esg_api__hex(ri->evidence_sha256.data, ri->evidence_sha256.len),
         rc);
    jset(o, "evidence_uri", json_string(ri->evidence_uri), rc);
    jset(o, "height", esg_api__num(r->height), rc);
    if (o)
        esg_api__set_time(o, r->time_ms);
    jset(o, "supersedes", jhex_or_null(&ri->supersedes), rc);
    jset(o, "reason", json_string(ri->reason), rc);
    jset(o, "superseded_by", jhex_or_null(&r->superseded_by), rc);
    jset(o, "counted", json_boolean(counts), rc);
    jset(o, "counted_value", counts ? jmilli(counted) : json_null(), rc);
    esg_pb_free(k);

    json_t *atts = json_array();
    for (size_t i = 0; *rc == 0 && i < r->n_attestations; i++) {
        void *a = NULL;
        int g = get_linked(st, ESG_T_ATTESTATIONS, &r->attestations[i], ESG_PB_ATTESTATION_DESC,
                           &a);
        if (g) {
            *rc = g;
            break;
        }
        jpush(atts, attestation_json(a, rc), rc);
        esg_pb_free(a);
    }
    jset(o, "attestations", atts, rc);
    json_t *disputes = json_array();
    for (size_t i = 0; *rc == 0 && i < r->n_disputes; i++) {
        void *dv = NULL;
        int g = get_linked(st, ESG_T_DISPUTES, &r->disputes[i], ESG_PB_DISPUTE_DESC, &dv);
        if (g) {
            *rc = g;
            break;
        }
        const esg_pb_dispute *d = dv;
        jpush(disputes,
              json_pack("{s:o,s:s,s:s,s:o}", "id", esg_api__hex(d->id.data, d->id.len),
                        "member", d->member, "reason", d->reason, "height",
                        esg_api__num(d->height)),
              rc);
        esg_pb_free(dv);
    }
    jset(o, "disputes", disputes, rc);
    return o;
}

/* [{kpi, unit, total, reports_counted}] for each KPI of the instrument. */
static json_t *confirmed_totals_json(esg_state *st, const esg_pb_instrument_spec *s,
                                     const msg_vec *reports, int *rc) {
    const char **kpis = NULL;
    size_t n = 0;
    int e = instrument_kpis(s, reports, &kpis, &n);
    if (e) {
        *rc = e;
        return NULL;
    }
    json_t *arr = json_array();
    for (size_t i = 0; *rc == 0 && i < n; i++) {
        esg_pb_kpi *k = NULL;
        int64_t sum = 0;
        size_t counted = 0;
        e = esg_state_get_msg(st, ESG_T_KPIS, kpis[i], strlen(kpis[i]), ESG_PB_KPI_DESC,
                              (ProtobufCMessage **)&k);
        if (e == 0)
            e = esg_impact_sum(st, s->id, kpis[i], INT32_MIN, INT32_MAX, &sum, &counted);
        if (e) {
            esg_pb_free(k);
            *rc = e == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : e;
            break;
        }
        jpush(arr,
              json_pack("{s:s,s:s,s:o,s:o}", "kpi", kpis[i], "unit", k->unit, "total",
                        jmilli(sum), "reports_counted", esg_api__num(counted)),
              rc);
        esg_pb_free(k);
    }
    free(kpis);
    return arr;
}

void esg_api__r_instrument_impact(esg_api__call *c) {
    view v;
    if (!instrument_begin(c, &v))
        return;
    msg_vec reports = {0};
    int rc = load_reports(v.st, v.ins->spec->id, &reports);
    json_t *o = rc ? NULL : json_object();
    if (rc == 0) {
        jset(o, "instrument", json_string(v.ins->spec->id), &rc);
        json_t *arr = json_array();
        for (size_t i = 0; rc == 0 && i < reports.n; i++)
            jpush(arr, report_json(v.st, reports.v[i], &rc), &rc);
        jset(o, "reports", arr, &rc);
    }
    if (rc == 0)
        jset(o, "confirmed_totals", confirmed_totals_json(v.st, v.ins->spec, &reports, &rc),
             &rc);
    vec_free(&reports);
    finish(c, &v, rc, o, "impact reports");
}

/* ---------------------------------------------- /v1/members/{id}/impact */

typedef struct member_acc {
    esg_state *st;
    const char *member;
    json_t *arr;
    int rc;
} member_acc;

/* One instrument of the member's attribution, or nothing when the member
 * holds none of it on the attribution basis. The basis (units now, or at
 * the last coupon once redeemed; none during the offering) and every
 * attributed figure come from esg_impact_attributed. */
static int attribute_instrument(member_acc *acc, const esg_pb_instrument_record *ins) {
    const char *id = ins->spec->id;
    uint64_t units = 0, outstanding = 0;
    int64_t unused;
    /* The basis does not depend on the KPI: ask with one no report has. */
    int rc = esg_impact_attributed(acc->st, id, "", acc->member, &unused, &units, &outstanding);
    if (rc || units == 0)
        return rc;
    msg_vec reports = {0};
    const char **kpis = NULL;
    size_t n = 0;
    rc = load_reports(acc->st, id, &reports);
    if (rc == 0)
        rc = instrument_kpis(ins->spec, &reports, &kpis, &n);
    json_t *rows = json_array();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        esg_pb_kpi *k = NULL;
        int64_t total = 0, attributed = 0;
        rc = esg_state_get_msg(acc->st, ESG_T_KPIS, kpis[i], strlen(kpis[i]), ESG_PB_KPI_DESC,
                               (ProtobufCMessage **)&k);
        if (rc == 0)
            rc = esg_impact_sum(acc->st, id, kpis[i], INT32_MIN, INT32_MAX, &total, NULL);
        if (rc == 0)
            rc = esg_impact_attributed(acc->st, id, kpis[i], acc->member, &attributed, NULL,
                                       NULL);
        if (rc) {
            esg_pb_free(k);
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            break;
        }
        jpush(rows,
              json_pack("{s:s,s:s,s:o,s:o}", "kpi", kpis[i], "unit", k->unit,
                        "confirmed_total", jmilli(total), "attributed", jmilli(attributed)),
              &rc);
        esg_pb_free(k);
    }
    free(kpis);
    vec_free(&reports);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    jpush(acc->arr,
          json_pack("{s:s,s:o,s:o,s:o,s:o}", "instrument", id, "status",
                    jenum(ESG_PB_INSTRUMENT_RECORD_DESC, "status", ins->status), "units",
                    jmoney(units), "units_outstanding", jmoney(outstanding), "kpis", rows),
          &rc);
    return rc;
}

static int collect_member_instrument(const uint8_t *key, size_t klen, const uint8_t *val,
                                     size_t vlen, void *arg) {
    (void)key;
    (void)klen;
    member_acc *acc = arg;
    esg_pb_instrument_record *ins = NULL;
    if (esg_pb_instrument_record_decode(&ins, val, vlen, SIZE_MAX) || !ins->spec ||
        !instrument_id_valid(ins->spec->id)) {
        esg_pb_free(ins);
        return acc->rc = ESG_ERR_STORE_CORRUPT;
    }
    acc->rc = attribute_instrument(acc, ins);
    esg_pb_free(ins);
    return acc->rc;
}

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
    esg_pb_member *m = NULL;
    int rc = esg_state_get_msg(v.st, ESG_T_MEMBERS, id, strlen(id), ESG_PB_MEMBER_DESC,
                               (ProtobufCMessage **)&m);
    esg_pb_free(m);
    if (rc == ESG_ERR_NOT_FOUND) {
        view_end(&v);
        esg_api__fail(c, ESG_ERR_UNKNOWN_MEMBER, "unknown member '%s'", id);
        return;
    }
    member_acc acc = {v.st, id, json_array(), 0};
    if (rc == 0)
        rc = acc.arr ? esg_state_iter(v.st, ESG_T_INSTRUMENTS, NULL, 0,
                                      collect_member_instrument, &acc)
                     : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc.rc;
    json_t *o = NULL;
    if (rc == 0) {
        o = json_pack("{s:s,s:o}", "member", id, "instruments", acc.arr);
        acc.arr = NULL;
        if (!o)
            rc = ESG_ERR_NOMEM;
    }
    json_decref(acc.arr);
    finish(c, &v, rc, o, "attributed impact");
}
