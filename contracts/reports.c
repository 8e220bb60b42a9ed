/* The instrument list, instrument, holders, payments, allocation, impact
 * and attributed-impact documents (contracts/reports.h), built from a
 * state view. Moved here from the node's API so that the wallet's audit
 * builds them from its own replayed state with the very same code. */
#include "contracts/reports.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/impact.h"
#include "contracts/instrument.h"
#include "contracts/payments.h"
#include "contracts/proceeds.h"
#include "contracts/projects.h"
#include "contracts/records.h"
#include "contracts/reports_internal.h"
#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/pbjson.h"

#define MAX_INSTRUMENT_ID 40

/* ------------------------------------------------------------- helpers */

/* The message of a failure while reading `what`, as the API words it. */
int esg_rj_store_err(char *err, size_t errlen, int rc, const char *what) {
    return esg_errf(err, errlen, rc, "reading %s: %s", what, esg_err_message(rc));
}

/* Sets obj[key] = v, taking v; records ESG_ERR_NOMEM in *rc when v or obj
 * is NULL (jansson returns NULL only when out of memory). */
void esg_rj_set(json_t *obj, const char *key, json_t *v, int *rc) {
    if (json_object_set_new(obj, key, v) != 0 && *rc == 0)
        *rc = ESG_ERR_NOMEM;
}

/* Appends v to arr, taking v; records ESG_ERR_NOMEM as jset does. */
void esg_rj_push(json_t *arr, json_t *v, int *rc) {
    if (json_array_append_new(arr, v) != 0 && *rc == 0)
        *rc = ESG_ERR_NOMEM;
}

/* Lowercase hex of `len` bytes; NULL when out of memory. */
json_t *esg_rj_hex(const void *data, size_t len) {
    char *s = malloc(2 * len + 1);
    if (!s)
        return NULL;
    esg_hex_encode(s, data, len);
    json_t *j = json_stringn(s, 2 * len);
    free(s);
    return j;
}

/* Heights, counts, basis points: numbers (they stay far below 2^63). */
json_t *esg_rj_num(uint64_t v) {
    return json_integer((json_int_t)v);
}

/* Money and units: a decimal string. */
json_t *esg_rj_money(uint64_t v) {
    char s[21];
    esg_u64_format(v, s);
    return json_string(s);
}

/* An impact value in thousandths: "1234.567". */
json_t *esg_rj_milli(int64_t v) {
    char s[32];
    esg_milli_format(v, s);
    return json_string(s);
}

/* A bytes field as hex, or null when empty (an optional reference). */
json_t *esg_rj_hex_or_null(const esg_pb_bytes *b) {
    return b->len ? esg_rj_hex(b->data, b->len) : json_null();
}

/* Enum value `v` of field `field` of message `md`, by its short name. */
json_t *esg_rj_enum(const ProtobufCMessageDescriptor *md, const char *field, int v) {
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(md, field);
    return esg_pb_enum_to_json(f->descriptor, v);
}

/* floor(part x 10000 / whole) in basis points; 0 when whole is 0. */
json_t *esg_rj_bps(uint64_t part, uint64_t whole) {
    if (whole == 0)
        return esg_rj_num(0);
    return esg_rj_num((uint64_t)((unsigned __int128)part * 10000 / whole));
}

/* Sets "time" (RFC 3339, null past year 9999) and "time_ms" on obj. */
void esg_rj_set_time(json_t *obj, uint64_t ms, int *rc) {
    char t[32];
    esg_rj_set(obj, "time", esg_time_format_rfc3339(ms, t) == 0 ? json_string(t) : json_null(), rc);
    esg_rj_set(obj, "time_ms", esg_rj_num(ms), rc);
}

bool esg_report_instrument_id_valid(const char *s) {
    assert(s);
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
 * has been checked with esg_report_instrument_id_valid. */
static size_t row_prefix(uint8_t *out, const char *id, const void *tail, size_t tlen) {
    size_t n = strlen(id);
    assert(n <= MAX_INSTRUMENT_ID && tlen <= 1);
    memcpy(out, id, n);
    out[n] = 0;
    if (tlen)
        memcpy(out + n + 1, tail, tlen);
    return n + 1 + tlen;
}

/* The records of `instrument`'s rows in table t (keyed instrument ‖ 0 ‖
 * ...), decoded as `desc`, in key order, into *out (vec_free it). On an
 * error *out is left empty. */
static int load_rows(esg_state *st, esg_table t, const char *instrument,
                     const ProtobufCMessageDescriptor *desc, esg_rec_msgs *out) {
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    size_t plen = row_prefix(prefix, instrument, NULL, 0);
    return esg_rec_load_rows(st, t, prefix, plen, desc, out);
}

/* Reads a record that another record names: its absence is corruption. */
int esg_rj_get_linked(esg_state *st, esg_table t, const esg_pb_bytes *id,
                      const ProtobufCMessageDescriptor *desc, void **out) {
    *out = NULL;
    if (id->len != 32)
        return ESG_ERR_STORE_CORRUPT;
    int rc = esg_state_get_msg(st, t, id->data, 32, desc, (ProtobufCMessage **)out);
    return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
}

/* Checks `id` and loads the instrument: the errors of every instrument
 * document (reports.h). */
int esg_rj_instrument_load(esg_state *st, const char *id, esg_pb_instrument_record **ins,
                           char *err, size_t errlen) {
    *ins = NULL;
    if (!esg_report_instrument_id_valid(id))
        return esg_errf(err, errlen, ESG_ERR_BAD_INSTRUMENT_ID,
                        "instrument id '%s' does not match [A-Z0-9-]{3,40}", esg_rec_quote(id).s);
    int rc = esg_instrument_get(st, id, ins);
    if (rc == 0 && (!(*ins)->spec || strcmp((*ins)->spec->id, id) != 0))
        rc = ESG_ERR_STORE_CORRUPT;
    if (rc == ESG_ERR_UNKNOWN_INSTRUMENT || rc == ESG_ERR_NOT_FOUND)
        return esg_errf(err, errlen, ESG_ERR_UNKNOWN_INSTRUMENT, "unknown instrument '%s'", id);
    if (rc) {
        esg_pb_free(*ins);
        *ins = NULL;
        return esg_rj_store_err(err, errlen, rc, "an instrument");
    }
    return 0;
}

/* An ESG_T_INSTRUMENTS row's value, decoded into *ins (esg_pb_free it);
 * ESG_ERR_STORE_CORRUPT when it is no instrument record with a valid id. */
static int instrument_row(const uint8_t *val, size_t vlen, esg_pb_instrument_record **ins) {
    *ins = NULL;
    if (esg_pb_instrument_record_decode(ins, val, vlen, SIZE_MAX) || !(*ins)->spec ||
        !esg_report_instrument_id_valid((*ins)->spec->id)) {
        esg_pb_free(*ins);
        *ins = NULL;
        return ESG_ERR_STORE_CORRUPT;
    }
    return 0;
}

/* Hands `o` out, or drops it and reports rc (reading `what`). */
int esg_rj_finish(int rc, json_t *o, json_t **out, char *err, size_t errlen,
                  const char *what) {
    if (rc == 0 && !o)
        rc = ESG_ERR_NOMEM;
    if (rc) {
        json_decref(o);
        return esg_rj_store_err(err, errlen, rc, what);
    }
    *out = o;
    return 0;
}

/* Builds the document of one instrument from it, adding to *rc the first
 * error met; may return a partial document along with an error. */
typedef json_t *(*instrument_body_fn)(esg_state *st, const esg_pb_instrument_record *ins,
                                      int *rc);

/* Adds a period's EU GBS sections to an instrument's document. */
typedef void (*period_part_fn)(esg_state *st, const esg_pb_instrument_record *ins,
                               const esg_report_period *period, json_t *o, int *rc);

/* Every instrument document: checks `id` and loads the instrument (the
 * errors of instrument_load), then body builds the document and gbs (when
 * not NULL) adds its sections for `period`; an error after that is
 * reported as reading `what`. */
static int instrument_period_doc(esg_state *st, const char *id,
                                 const esg_report_period *period, json_t **out, char *err,
                                 size_t errlen, const char *what, instrument_body_fn body,
                                 period_part_fn gbs) {
    assert(st && id && out);
    *out = NULL;
    esg_pb_instrument_record *ins;
    int rc = esg_rj_instrument_load(st, id, &ins, err, errlen);
    if (rc)
        return rc;
    json_t *o = body(st, ins, &rc);
    if (rc == 0 && gbs)
        gbs(st, ins, period, o, &rc);
    esg_pb_free(ins);
    return esg_rj_finish(rc, o, out, err, errlen, what);
}

static int instrument_doc(esg_state *st, const char *id, json_t **out, char *err,
                          size_t errlen, const char *what, instrument_body_fn body) {
    return instrument_period_doc(st, id, NULL, out, err, errlen, what, body, NULL);
}

/* ------------------------------------------------- instrument detail */

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
static json_t *schedule_json(esg_state *st, const esg_pb_instrument_record *ins,
                             const int32_t *days, size_t n, size_t *next, int *rc) {
    uint32_t *seq = calloc(n ? n : 1, sizeof *seq);
    if (!seq) {
        *rc = ESG_ERR_NOMEM;
        return NULL;
    }
    uint8_t prefix[MAX_INSTRUMENT_ID + 2];
    uint8_t kind = ESG_PAYMENT_COUPON;
    size_t plen = row_prefix(prefix, ins->spec->id, &kind, 1);
    paid_acc acc = {days, n, seq};
    int r = esg_state_iter(st, ESG_T_PAYMENTS, prefix, plen, mark_paid, &acc);
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
        esg_rj_push(arr,
              json_pack("{s:s,s:b,s:o}", "date", d, "paid", seq[i] != 0, "payment_seq",
                        seq[i] ? esg_rj_num(seq[i]) : json_null()),
              rc);
    }
    free(seq);
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

/* "step_ups": each KPI target evaluated from the state now by the
 * contract's own rule (esg_covenant_evaluate). */
static json_t *step_ups_json(esg_state *st, const esg_pb_instrument_record *ins, int *rc) {
    const esg_pb_instrument_spec *s = ins->spec;
    json_t *arr = json_array();
    if (!arr)
        *rc = ESG_ERR_NOMEM;
    for (size_t i = 0; *rc == 0 && i < s->n_kpi_targets; i++) {
        const esg_pb_kpi_target *t = s->kpi_targets[i];
        esg_covenant_eval ev;
        esg_pb_kpi *k = NULL;
        int r = esg_covenant_evaluate(st, s, t, &ev);
        if (r == 0)
            r = esg_state_get_msg(st, ESG_T_KPIS, t->kpi, strlen(t->kpi), ESG_PB_KPI_DESC,
                                  (ProtobufCMessage **)&k);
        if (r) {
            *rc = r == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : r;
            break;
        }
        json_t *o = json_object();
        esg_rj_set(o, "kpi", json_string(t->kpi), rc);
        esg_rj_set(o, "unit", json_string(k->unit), rc);
        esg_rj_set(o, "direction", esg_rj_enum(ESG_PB_KPI_DESC, "direction", k->direction), rc);
        esg_rj_set(o, "observation_date", json_string(t->observation_date), rc);
        esg_rj_set(o, "baseline", esg_rj_milli(t->baseline), rc);
        esg_rj_set(o, "target", esg_rj_milli(t->target), rc);
        esg_rj_set(o, "observed", esg_rj_milli(ev.observed), rc);
        esg_rj_set(o, "reports_counted", esg_rj_num(ev.counted), rc);
        esg_rj_set(o, "missed", json_boolean(ev.missed), rc);
        esg_rj_set(o, "step_up_bps", esg_rj_num(t->step_up_bps), rc);
        esg_rj_set(o, "applies_to_coupons_after", json_string(t->observation_date), rc);
        esg_rj_push(arr, o, rc);
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
        esg_rj_set(t, "baseline", esg_rj_milli(s->kpi_targets[i]->baseline), rc);
        esg_rj_set(t, "target", esg_rj_milli(s->kpi_targets[i]->target), rc);
    }
    if (!o && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return o;
}

static json_t *instrument_json(esg_state *st, const esg_pb_instrument_record *ins, int *rc) {
    json_t *o = spec_json(ins->spec, rc);
    esg_rj_set(o, "status", esg_rj_enum(ESG_PB_INSTRUMENT_RECORD_DESC, "status", ins->status), rc);
    esg_rj_set(o, "units_sold", esg_rj_money(ins->units_sold), rc);
    esg_rj_set(o, "units_outstanding", esg_rj_money(ins->units_outstanding), rc);
    esg_rj_set(o, "amount_raised", esg_rj_money(ins->amount_raised), rc);
    esg_rj_set(o, "issue_tx", esg_rj_hex(ins->issue_tx.data, ins->issue_tx.len), rc);
    esg_rj_set(o, "issued_height", esg_rj_num(ins->issued_height), rc);
    esg_rj_set(o, "closed_height", esg_rj_num(ins->closed_height), rc);
    esg_rj_set(o, "matured_height", esg_rj_num(ins->matured_height), rc);
    esg_rj_set(o, "coupons_recorded", esg_rj_num(ins->coupons_recorded), rc);

    int32_t *days = malloc(ESG_MAX_SCHEDULE * sizeof *days);
    size_t n = 0, next = 0;
    if (!days && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    /* A stored spec passed esg_schedule when it was issued. */
    if (*rc == 0 && esg_schedule(ins->spec, days, ESG_MAX_SCHEDULE, &n) != 0)
        *rc = ESG_ERR_STORE_CORRUPT;
    if (*rc == 0)
        esg_rj_set(o, "schedule", schedule_json(st, ins, days, n, &next, rc), rc);
    if (*rc == 0) {
        json_t *date = json_null(), *bps = json_null();
        if (next < n) {
            char d[11];
            uint32_t up = 0;
            esg_date_format(days[next], d);
            *rc = esg_covenant_step_ups(st, ins, days[next], &up);
            date = json_string(d);
            bps = esg_rj_num(up);
        }
        esg_rj_set(o, "next_coupon_date", date, rc);
        esg_rj_set(o, "step_up_bps_in_force_next_coupon", bps, rc);
    }
    free(days);
    if (*rc == 0)
        esg_rj_set(o, "step_ups", step_ups_json(st, ins, rc), rc);
    return o;
}

int esg_report_instrument(esg_state *st, const char *instrument, json_t **out, char *err,
                          size_t errlen) {
    return instrument_doc(st, instrument, out, err, errlen, "an instrument", instrument_json);
}

/* ---------------------------------------------------- instrument list */

static json_t *co_issuers_json(const esg_pb_instrument_spec *spec, int *rc) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < spec->n_co_issuers; i++)
        esg_rj_push(arr,
              json_pack("{s:s,s:o}", "member", spec->co_issuers[i]->member, "share_bps",
                        esg_rj_num(spec->co_issuers[i]->share_bps)),
              rc);
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

/* The list's summary of an instrument. */
static json_t *instrument_summary(const esg_pb_instrument_record *ins, int *rc) {
    const esg_pb_instrument_spec *s = ins->spec;
    json_t *o = json_object();
    esg_rj_set(o, "id", json_string(s->id), rc);
    esg_rj_set(o, "kind", esg_rj_enum(ESG_PB_INSTRUMENT_SPEC_DESC, "kind", s->kind), rc);
    esg_rj_set(o, "name", json_string(s->name), rc);
    esg_rj_set(o, "currency", json_string(s->currency), rc);
    esg_rj_set(o, "status", esg_rj_enum(ESG_PB_INSTRUMENT_RECORD_DESC, "status", ins->status), rc);
    esg_rj_set(o, "face_value", esg_rj_money(s->face_value), rc);
    esg_rj_set(o, "units", esg_rj_money(s->units), rc);
    esg_rj_set(o, "units_sold", esg_rj_money(ins->units_sold), rc);
    esg_rj_set(o, "units_outstanding", esg_rj_money(ins->units_outstanding), rc);
    esg_rj_set(o, "amount_raised", esg_rj_money(ins->amount_raised), rc);
    esg_rj_set(o, "coupon_bps", esg_rj_num(s->coupon_bps), rc);
    esg_rj_set(o, "coupon_frequency_months", esg_rj_num(s->coupon_frequency_months), rc);
    esg_rj_set(o, "issue_date", json_string(s->issue_date), rc);
    esg_rj_set(o, "maturity_date", json_string(s->maturity_date), rc);
    esg_rj_set(o, "co_issuers", co_issuers_json(s, rc), rc);
    esg_rj_set(o, "paying_agent", json_string(s->paying_agent), rc);
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
    esg_pb_instrument_record *ins;
    if ((acc->rc = instrument_row(val, vlen, &ins)) != 0)
        return acc->rc;
    esg_rj_push(acc->arr, instrument_summary(ins, &acc->rc), &acc->rc);
    esg_pb_free(ins);
    return acc->rc;
}

int esg_report_instruments(esg_state *st, json_t **out, char *err, size_t errlen) {
    assert(st && out);
    *out = NULL;
    list_acc acc = {json_array(), 0};
    int rc = acc.arr ? esg_state_iter(st, ESG_T_INSTRUMENTS, NULL, 0, collect_instrument, &acc)
                     : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc.rc;
    json_t *o = NULL;
    if (rc == 0) {
        o = json_pack("{s:o}", "instruments", acc.arr);
        acc.arr = NULL;
    }
    json_decref(acc.arr);
    return esg_rj_finish(rc, o, out, err, errlen, "instruments");
}

/* -------------------------------------------------------------- holders */

static json_t *holders_json(esg_state *st, const esg_pb_instrument_record *ins, int *rc) {
    esg_holding_list hl = ESG_HOLDING_LIST_INIT;
    *rc = esg_holdings_load(st, ins->spec->id, &hl);
    json_t *arr = *rc ? NULL : json_array();
    for (size_t i = 0; arr && i < hl.n; i++) {
        const esg_pb_holding *h = hl.v[i];
        /* A row with 0 units is a past holder's coupon snapshot
         * (contracts/instrument.h): not a holder now. */
        if (h->units > 0)
            esg_rj_push(arr,
                  json_pack("{s:s,s:o,s:o}", "member", h->member, "units", esg_rj_money(h->units),
                            "share_of_outstanding_bps", esg_rj_bps(h->units, ins->units_outstanding)),
                  rc);
    }
    esg_holdings_release(&hl);
    if (*rc || !arr) {
        json_decref(arr);
        return NULL;
    }
    return json_pack("{s:s,s:o,s:o}", "instrument", ins->spec->id, "units_outstanding",
                     esg_rj_money(ins->units_outstanding), "holders", arr);
}

int esg_report_holders(esg_state *st, const char *instrument, json_t **out, char *err,
                       size_t errlen) {
    return instrument_doc(st, instrument, out, err, errlen, "holdings", holders_json);
}

/* ------------------------------------------------------------- payments */

static json_t *payment_lines_json(esg_pb_payment_line *const *lines, size_t n,
                                  bool co_issuers, int *rc) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const esg_pb_payment_line *l = lines[i];
        esg_rj_push(arr,
              co_issuers ? json_pack("{s:s,s:o,s:o}", "member", l->member, "share_bps",
                                     esg_rj_num(l->share_bps), "amount", esg_rj_money(l->amount))
                         : json_pack("{s:s,s:o,s:o}", "member", l->member, "units",
                                     esg_rj_money(l->units), "amount", esg_rj_money(l->amount)),
              rc);
    }
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

/* A payment exactly as recorded. */
static json_t *payment_json(const esg_pb_payment *p, int *rc) {
    json_t *o = json_object();
    esg_rj_set(o, "kind", esg_rj_enum(ESG_PB_PAYMENT_DESC, "kind", p->kind), rc);
    esg_rj_set(o, "due_date", json_string(p->due_date), rc);
    esg_rj_set(o, "seq", esg_rj_num(p->seq), rc);
    esg_rj_set(o, "height", esg_rj_num(p->height), rc);
    esg_rj_set_time(o, p->time_ms, rc);
    esg_rj_set(o, "coupon_bps", esg_rj_num(p->coupon_bps), rc);
    esg_rj_set(o, "step_up_bps", esg_rj_num(p->step_up_bps), rc);
    esg_rj_set(o, "months", esg_rj_num(p->months), rc);
    esg_rj_set(o, "per_unit", esg_rj_money(p->per_unit), rc);
    esg_rj_set(o, "total", esg_rj_money(p->total), rc);
    esg_rj_set(o, "holders", payment_lines_json(p->holders, p->n_holders, false, rc), rc);
    esg_rj_set(o, "co_issuers", payment_lines_json(p->co_issuers, p->n_co_issuers, true, rc), rc);
    esg_rj_set(o, "tx_id", esg_rj_hex(p->tx_id.data, p->tx_id.len), rc);
    return o;
}

static json_t *payments_json(esg_state *st, const esg_pb_instrument_record *ins, int *rc) {
    /* Key order (kind ‖ seq): the coupons by seq, then the redemption --
     * the order in which they were recorded. */
    esg_rec_msgs pays = {0};
    *rc = load_rows(st, ESG_T_PAYMENTS, ins->spec->id, ESG_PB_PAYMENT_DESC, &pays);
    json_t *arr = *rc ? NULL : json_array();
    for (size_t i = 0; arr && i < pays.n; i++)
        esg_rj_push(arr, payment_json(pays.v[i], rc), rc);
    esg_rec_msgs_free(&pays);
    if (*rc || !arr) {
        json_decref(arr);
        return NULL;
    }
    return json_pack("{s:s,s:o}", "instrument", ins->spec->id, "payments", arr);
}

int esg_report_payments(esg_state *st, const char *instrument, json_t **out, char *err,
                        size_t errlen) {
    return instrument_doc(st, instrument, out, err, errlen, "payments", payments_json);
}

/* ---------------------------------------------------------- allocations */

/* Allocations in the order they were made: by height, then id (the rows
 * are keyed by tx id, which is no order a reader wants). */
int esg_rj_allocation_cmp(const void *a, const void *b) {
    const esg_pb_allocation *x = *(esg_pb_allocation *const *)a;
    const esg_pb_allocation *y = *(esg_pb_allocation *const *)b;
    if (x->height != y->height)
        return x->height < y->height ? -1 : 1;
    size_t n = x->id.len < y->id.len ? x->id.len : y->id.len;
    return memcmp(x->id.data, y->id.data, n);
}

static json_t *per_city_json(esg_state *st, const esg_pb_instrument_record *ins,
                             uint64_t *allocated_total, int *rc) {
    const esg_pb_instrument_spec *s = ins->spec;
    json_t *arr = json_array();
    if (!arr)
        *rc = ESG_ERR_NOMEM;
    for (size_t i = 0; *rc == 0 && i < s->n_co_issuers; i++) {
        const char *city = s->co_issuers[i]->member;
        uint64_t part = 0, allocated = 0;
        int r = esg_proceeds_city_part(ins, city, &part);
        if (r == 0)
            r = esg_proceeds_allocated(st, s->id, city, NULL, &allocated, NULL);
        if (r == 0 && (allocated > part || allocated > UINT64_MAX - *allocated_total))
            r = ESG_ERR_STORE_CORRUPT; /* the contract never lets this happen */
        if (r) {
            *rc = r;
            break;
        }
        *allocated_total += allocated;
        esg_rj_push(arr,
              json_pack("{s:s,s:o,s:o,s:o,s:o}", "city", city, "share_bps",
                        esg_rj_num(s->co_issuers[i]->share_bps), "part_of_raised", esg_rj_money(part),
                        "allocated", esg_rj_money(allocated), "remaining", esg_rj_money(part - allocated)),
              rc);
    }
    return arr;
}

static json_t *per_project_json(esg_state *st, const esg_pb_instrument_record *ins, int *rc) {
    const esg_pb_instrument_spec *s = ins->spec;
    json_t *arr = json_array();
    if (!arr)
        *rc = ESG_ERR_NOMEM;
    for (size_t i = 0; *rc == 0 && i < s->n_projects; i++) {
        const esg_pb_project *p = s->projects[i];
        esg_pb_project_record *reg = NULL;
        uint64_t city_total = 0, allocated = 0;
        /* Every spec project is registered by the issuance. */
        int r = esg_project_get(st, p->id, &reg);
        if (r == 0)
            r = esg_proceeds_allocated(st, s->id, reg->city, p->id, &city_total, &allocated);
        if (r) {
            esg_pb_free(reg);
            *rc = r == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : r;
            break;
        }
        json_t *o = json_object();
        esg_rj_set(o, "project_id", json_string(p->id), rc);
        esg_rj_set(o, "city", json_string(reg->city), rc);
        esg_rj_set(o, "name", json_string(reg->name), rc);
        esg_rj_set(o, "eu_objective",
                   esg_rj_enum(ESG_PB_PROJECT_DESC, "eu_objective",
                               reg->n_eu_objectives ? reg->eu_objectives[0] : 0), rc);
        esg_rj_set(o, "eu_objectives", esg_rj_objectives(reg, rc), rc);
        esg_rj_set(o, "budget", esg_rj_money(p->budget), rc);
        esg_rj_set(o, "allocated", esg_rj_money(allocated), rc);
        esg_rj_set(o, "share_of_proceeds_bps", esg_rj_bps(allocated, ins->amount_raised), rc);
        esg_rj_set(o, "over_budget", json_boolean(allocated > p->budget), rc);
        esg_rj_push(arr, o, rc);
        esg_pb_free(reg);
    }
    return arr;
}

static json_t *allocations_json(esg_state *st, const esg_pb_instrument_record *ins, int *rc) {
    esg_rec_msgs allocs = {0};
    *rc = load_rows(st, ESG_T_ALLOCATIONS, ins->spec->id, ESG_PB_ALLOCATION_DESC, &allocs);
    uint64_t total = 0;
    json_t *o = *rc ? NULL : json_object();
    if (*rc == 0) {
        json_t *cities = per_city_json(st, ins, &total, rc);
        json_t *projects = *rc ? NULL : per_project_json(st, ins, rc);
        esg_rj_set(o, "instrument", json_string(ins->spec->id), rc);
        esg_rj_set(o, "amount_raised", esg_rj_money(ins->amount_raised), rc);
        esg_rj_set(o, "allocated_total", esg_rj_money(total), rc);
        esg_rj_set(o, "unallocated",
             esg_rj_money(total <= ins->amount_raised ? ins->amount_raised - total : 0), rc);
        esg_rj_set(o, "per_city", cities, rc);
        esg_rj_set(o, "per_project", projects, rc);
    }
    if (*rc == 0) {
        if (allocs.n > 1)
            qsort(allocs.v, allocs.n, sizeof allocs.v[0], esg_rj_allocation_cmp);
        json_t *arr = json_array();
        for (size_t i = 0; i < allocs.n; i++) {
            const esg_pb_allocation *a = allocs.v[i];
            json_t *x = json_object();
            esg_rj_set(x, "id", esg_rj_hex(a->id.data, a->id.len), rc);
            esg_rj_set(x, "project_id", json_string(a->project_id), rc);
            esg_rj_set(x, "city", json_string(a->city), rc);
            esg_rj_set(x, "amount", esg_rj_money(a->amount), rc);
            esg_rj_set(x, "date", json_string(a->date), rc);
            esg_rj_set(x, "evidence_sha256", esg_rj_hex(a->evidence_sha256.data, a->evidence_sha256.len),
                 rc);
            esg_rj_set(x, "height", esg_rj_num(a->height), rc);
            esg_rj_allocation_status(x, a, rc);
            esg_rj_push(arr, x, rc);
        }
        esg_rj_set(o, "allocations", arr, rc);
    }
    esg_rec_msgs_free(&allocs);
    return o;
}

int esg_report_allocations_in(esg_state *st, const char *instrument,
                              const esg_report_period *period, json_t **out, char *err,
                              size_t errlen) {
    return instrument_period_doc(st, instrument, period, out, err, errlen, "allocations",
                                 allocations_json, esg_rj_allocation_gbs);
}

int esg_report_allocations(esg_state *st, const char *instrument, json_t **out, char *err,
                           size_t errlen) {
    return esg_report_allocations_in(st, instrument, NULL, out, err, errlen);
}

/* --------------------------------------------------------------- impact */

bool esg_report_attestation_supports(const esg_pb_attestation *a) {
    assert(a);
    return !a->revoked &&
           (a->opinion == ESG_OPINION_CONFIRMED || a->opinion == ESG_OPINION_QUALIFIED);
}

int esg_report_count(const esg_pb_report *r, esg_pb_attestation *const *atts, size_t n,
                     bool *counts, int64_t *value) {
    assert(r && counts && value && (atts || n == 0));
    *counts = false;
    *value = 0;
    if (n != r->n_attestations)
        return ESG_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        const esg_pb_attestation *a = atts[i];
        if (!a || a->id.len != 32 || r->attestations[i].len != 32 ||
            memcmp(a->id.data, r->attestations[i].data, 32) != 0 || a->report_id.len != 32 ||
            r->id.len != 32 || memcmp(a->report_id.data, r->id.data, 32) != 0)
            return ESG_ERR_INVALID_ARGUMENT;
    }
    esg_impact_count_rule(r->superseded_by.len != 0, atts, n, counts, value);
    return ESG_OK;
}

/* By height, then id: the order in which the reports were made. */
int esg_rj_report_cmp(const void *a, const void *b) {
    const esg_pb_report *x = *(esg_pb_report *const *)a;
    const esg_pb_report *y = *(esg_pb_report *const *)b;
    if (x->height != y->height)
        return x->height < y->height ? -1 : 1;
    size_t n = x->id.len < y->id.len ? x->id.len : y->id.len;
    return memcmp(x->id.data, y->id.data, n);
}

/* Every report of the instrument's projects (superseded ones included;
 * each project once), in the order made. */
static int load_reports(esg_state *st, const esg_pb_instrument_spec *s, esg_rec_msgs *out) {
    esg_rec_msgs all = {0};
    int rc = ESG_OK;
    for (size_t i = 0; rc == 0 && i < s->n_projects; i++) {
        esg_rec_msgs some;
        if ((rc = esg_impact_project_reports(st, s->projects[i]->id, NULL, &some)) != 0)
            break;
        for (size_t k = 0; rc == 0 && k < some.n; k++) {
            rc = esg_rec_msgs_push(&all, some.v[k]);
            some.v[k] = NULL;
        }
        esg_rec_msgs_free(&some);
    }
    if (rc) {
        esg_rec_msgs_free(&all);
        return rc;
    }
    if (all.n > 1)
        qsort(all.v, all.n, sizeof all.v[0], esg_rj_report_cmp);
    *out = all;
    return 0;
}

/* The KPIs an instrument has figures for: those of its reports and of its
 * KPI targets, sorted, each once. kpis[] borrows the strings. */
static int instrument_kpis(const esg_pb_instrument_spec *s, const esg_rec_msgs *reports,
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

json_t *esg_rj_attestation_json(const esg_pb_attestation *a, int *rc) {
    json_t *o = json_object();
    esg_rj_set(o, "id", esg_rj_hex(a->id.data, a->id.len), rc);
    esg_rj_set(o, "verifier", json_string(a->verifier), rc);
    esg_rj_set(o, "opinion", esg_rj_enum(ESG_PB_ATTESTATION_DESC, "opinion", a->opinion), rc);
    esg_rj_set(o, "verified_value", esg_rj_milli(a->verified_value), rc);
    esg_rj_set(o, "statement_sha256", esg_rj_hex(a->statement_sha256.data, a->statement_sha256.len), rc);
    esg_rj_set(o, "height", esg_rj_num(a->height), rc);
    esg_rj_set(o, "revoked", json_boolean(a->revoked), rc);
    esg_rj_set(o, "revoke_reason", json_string(a->revoke_reason), rc);
    esg_rj_set(o, "revoked_height", esg_rj_num(a->revoked_height), rc);
    return o;
}

/* ------------------------------------------------- reports by id prefix */

typedef struct prefix_acc {
    esg_state *st;
    json_t *arr;
    char hex[65]; /* the prefix, lower case */
    size_t nhex;
    size_t n;
    bool more;
    int rc;
} prefix_acc;

/* Rows come in key order, each sharing the prefix (an odd last digit is
 * looked up as its 16 possible bytes). Stops at the first match past the
 * limit (returns 1, which is no error). */
static int collect_prefixed(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                            void *arg) {
    (void)key;
    prefix_acc *acc = arg;
    if (klen != 32)
        return acc->rc = ESG_ERR_STORE_CORRUPT;
    if (acc->n == ESG_REPORT_PREFIX_LIMIT) {
        acc->more = true;
        return 1;
    }
    esg_pb_report *r = NULL;
    if (esg_pb_report_decode(&r, val, vlen, vlen) != 0 || !r->report)
        return acc->rc = ESG_ERR_STORE_CORRUPT;
    json_t *o = esg_rj_report_json(acc->st, r, &acc->rc);
    esg_rj_set(o, "instrument", json_string(r->report->instrument), &acc->rc);
    esg_pb_free(r);
    esg_rj_push(acc->arr, o, &acc->rc);
    acc->n++;
    return acc->rc;
}

int esg_report_reports_prefixed(esg_state *st, const char *prefix, json_t **out, char *err,
                                size_t errlen) {
    assert(st && out);
    *out = NULL;
    prefix_acc acc = {.st = st};
    size_t n = prefix ? strlen(prefix) : 0;
    bool ok = n >= 1 && n <= 64;
    for (size_t i = 0; ok && i < n; i++) {
        char ch = prefix[i];
        ch = ch >= 'A' && ch <= 'F' ? (char)(ch - 'A' + 'a') : ch;
        ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
        acc.hex[i] = ch;
    }
    if (!ok)
        return esg_errf(err, errlen, ESG_ERR_HEX,
                        "query parameter 'prefix' must be 1 to 64 hex digits of a report id");
    acc.nhex = n;
    /* The whole bytes of the prefix; an odd last digit d is each of the
     * bytes d0..df in turn, so only matching rows are ever read. */
    uint8_t bytes[32];
    size_t nbytes = (n + 1) / 2;
    char even[66];
    snprintf(even, sizeof even, "%s%s", acc.hex, n % 2 ? "0" : "");
    if (esg_hex_decode(bytes, nbytes, even) != 0)
        return esg_errf(err, errlen, ESG_ERR_INTERNAL, "prefix: hex checked above");
    acc.arr = json_array();
    int rc = acc.arr ? 0 : ESG_ERR_NOMEM;
    for (unsigned low = 0; rc == 0 && low < (n % 2 ? 16u : 1u); low++) {
        if (n % 2)
            bytes[nbytes - 1] = (uint8_t)((bytes[nbytes - 1] & 0xf0) | low);
        rc = esg_state_iter(st, ESG_T_REPORTS, bytes, nbytes, collect_prefixed, &acc);
    }
    if (rc == 1)
        rc = 0;
    if (rc == 0)
        rc = acc.rc;
    json_t *o = NULL;
    if (rc == 0) {
        o = json_pack("{s:s,s:o,s:b}", "prefix", acc.hex, "reports", acc.arr, "more", acc.more);
        acc.arr = NULL;
    }
    json_decref(acc.arr);
    return esg_rj_finish(rc, o, out, err, errlen, "reports");
}

json_t *esg_rj_report_json(esg_state *st, const esg_pb_report *r, int *rc) {
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
    esg_rj_set(o, "id", esg_rj_hex(r->id.data, r->id.len), rc);
    esg_rj_set(o, "project_id", json_string(ri->project_id), rc);
    esg_rj_set(o, "city", json_string(r->city), rc);
    esg_rj_set(o, "kpi", json_string(ri->kpi), rc);
    esg_rj_set(o, "unit", json_string(k->unit), rc);
    esg_rj_set(o, "category", json_string(k->category), rc);
    esg_rj_set(o, "value", esg_rj_milli(ri->value), rc);
    esg_rj_set(o, "period_start", json_string(ri->period_start), rc);
    esg_rj_set(o, "period_end", json_string(ri->period_end), rc);
    esg_rj_set(o, "methodology", json_string(ri->methodology), rc);
    esg_rj_set(o, "evidence_sha256", esg_rj_hex(ri->evidence_sha256.data, ri->evidence_sha256.len), rc);
    esg_rj_set(o, "evidence_uri", json_string(ri->evidence_uri), rc);
    esg_rj_set(o, "height", esg_rj_num(r->height), rc);
    esg_rj_set_time(o, r->time_ms, rc);
    esg_rj_set(o, "supersedes", esg_rj_hex_or_null(&ri->supersedes), rc);
    esg_rj_set(o, "reason", json_string(ri->reason), rc);
    esg_rj_set(o, "superseded_by", esg_rj_hex_or_null(&r->superseded_by), rc);
    esg_rj_set(o, "counted", json_boolean(counts), rc);
    esg_rj_set(o, "counted_value", counts ? esg_rj_milli(counted) : json_null(), rc);
    esg_pb_free(k);

    json_t *atts = json_array();
    for (size_t i = 0; *rc == 0 && i < r->n_attestations; i++) {
        void *a = NULL;
        int g = esg_rj_get_linked(st, ESG_T_ATTESTATIONS, &r->attestations[i], ESG_PB_ATTESTATION_DESC,
                           &a);
        if (g) {
            *rc = g;
            break;
        }
        esg_rj_push(atts, esg_rj_attestation_json(a, rc), rc);
        esg_pb_free(a);
    }
    esg_rj_set(o, "attestations", atts, rc);
    json_t *disputes = json_array();
    for (size_t i = 0; *rc == 0 && i < r->n_disputes; i++) {
        void *dv = NULL;
        int g = esg_rj_get_linked(st, ESG_T_DISPUTES, &r->disputes[i], ESG_PB_DISPUTE_DESC, &dv);
        if (g) {
            *rc = g;
            break;
        }
        const esg_pb_dispute *d = dv;
        esg_rj_push(disputes,
              json_pack("{s:o,s:s,s:s,s:o}", "id", esg_rj_hex(d->id.data, d->id.len), "member",
                        d->member, "reason", d->reason, "height", esg_rj_num(d->height)),
              rc);
        esg_pb_free(dv);
    }
    esg_rj_set(o, "disputes", disputes, rc);
    return o;
}

/* [{kpi, unit, total, reports_counted}] for each KPI of the instrument. */
static json_t *confirmed_totals_json(esg_state *st, const esg_pb_instrument_spec *s,
                                     const esg_rec_msgs *reports, int *rc) {
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
        esg_rj_push(arr,
              json_pack("{s:s,s:s,s:o,s:o}", "kpi", kpis[i], "unit", k->unit, "total",
                        esg_rj_milli(sum), "reports_counted", esg_rj_num(counted)),
              rc);
        esg_pb_free(k);
    }
    free(kpis);
    return arr;
}

static json_t *impact_json(esg_state *st, const esg_pb_instrument_record *ins, int *rc) {
    esg_rec_msgs reports = {0};
    *rc = load_reports(st, ins->spec, &reports);
    json_t *o = *rc ? NULL : json_object();
    if (*rc == 0) {
        esg_rj_set(o, "instrument", json_string(ins->spec->id), rc);
        json_t *arr = json_array();
        for (size_t i = 0; *rc == 0 && i < reports.n; i++)
            esg_rj_push(arr, esg_rj_report_json(st, reports.v[i], rc), rc);
        esg_rj_set(o, "reports", arr, rc);
    }
    if (*rc == 0)
        esg_rj_set(o, "confirmed_totals", confirmed_totals_json(st, ins->spec, &reports, rc), rc);
    esg_rec_msgs_free(&reports);
    return o;
}

int esg_report_impact_in(esg_state *st, const char *instrument,
                         const esg_report_period *period, json_t **out, char *err,
                         size_t errlen) {
    return instrument_period_doc(st, instrument, period, out, err, errlen, "impact reports",
                                 impact_json, esg_rj_impact_gbs);
}

int esg_report_impact(esg_state *st, const char *instrument, json_t **out, char *err,
                      size_t errlen) {
    return esg_report_impact_in(st, instrument, NULL, out, err, errlen);
}

/* ---------------------------------------------------- attributed impact */

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
    esg_rec_msgs reports = {0};
    const char **kpis = NULL;
    size_t n = 0;
    rc = load_reports(acc->st, ins->spec, &reports);
    if (rc == 0)
        rc = instrument_kpis(ins->spec, &reports, &kpis, &n);
    json_t *rows = json_array();
    for (size_t i = 0; rc == 0 && i < n; i++) {
        esg_pb_kpi *k = NULL;
        int64_t total = 0, attributed = 0, to_instrument = 0;
        rc = esg_state_get_msg(acc->st, ESG_T_KPIS, kpis[i], strlen(kpis[i]), ESG_PB_KPI_DESC,
                               (ProtobufCMessage **)&k);
        if (rc == 0)
            rc = esg_impact_sum(acc->st, id, kpis[i], INT32_MIN, INT32_MAX, &total, NULL);
        if (rc == 0)
            rc = esg_impact_instrument_attributed(acc->st, id, kpis[i], INT32_MIN, INT32_MAX,
                                                  &to_instrument);
        if (rc == 0)
            rc = esg_impact_attributed(acc->st, id, kpis[i], acc->member, &attributed, NULL,
                                       NULL);
        if (rc) {
            esg_pb_free(k);
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            break;
        }
        esg_rj_push(rows,
              json_pack("{s:s,s:s,s:o,s:o,s:o}", "kpi", kpis[i], "unit", k->unit,
                        "confirmed_total", esg_rj_milli(total), "attributed_to_instrument",
                        esg_rj_milli(to_instrument), "attributed", esg_rj_milli(attributed)),
              &rc);
        esg_pb_free(k);
    }
    free(kpis);
    esg_rec_msgs_free(&reports);
    if (rc) {
        json_decref(rows);
        return rc;
    }
    esg_rj_push(acc->arr,
          json_pack("{s:s,s:o,s:o,s:o,s:o}", "instrument", id, "status",
                    esg_rj_enum(ESG_PB_INSTRUMENT_RECORD_DESC, "status", ins->status), "units",
                    esg_rj_money(units), "units_outstanding", esg_rj_money(outstanding), "kpis", rows),
          &rc);
    return rc;
}

static int collect_member_instrument(const uint8_t *key, size_t klen, const uint8_t *val,
                                     size_t vlen, void *arg) {
    (void)key;
    (void)klen;
    member_acc *acc = arg;
    esg_pb_instrument_record *ins;
    if ((acc->rc = instrument_row(val, vlen, &ins)) != 0)
        return acc->rc;
    acc->rc = attribute_instrument(acc, ins);
    esg_pb_free(ins);
    return acc->rc;
}

int esg_report_member_impact(esg_state *st, const char *member, json_t **out, char *err,
                             size_t errlen) {
    assert(st && member && out);
    *out = NULL;
    if (!esg_member_id_valid(member))
        return esg_errf(err, errlen, ESG_ERR_BAD_MEMBER_ID,
                        "member id '%s' does not match [a-z0-9-]{2,40}", esg_rec_quote(member).s);
    esg_pb_member *m = NULL;
    int rc = esg_state_get_msg(st, ESG_T_MEMBERS, member, strlen(member), ESG_PB_MEMBER_DESC,
                               (ProtobufCMessage **)&m);
    esg_pb_free(m);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_errf(err, errlen, ESG_ERR_UNKNOWN_MEMBER, "unknown member '%s'", member);
    member_acc acc = {st, member, json_array(), 0};
    if (rc == 0)
        rc = acc.arr ? esg_state_iter(st, ESG_T_INSTRUMENTS, NULL, 0, collect_member_instrument,
                                      &acc)
                     : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc.rc;
    json_t *o = NULL;
    if (rc == 0) {
        o = json_pack("{s:s,s:o}", "member", member, "instruments", acc.arr);
        acc.arr = NULL;
    }
    json_decref(acc.arr);
    return esg_rj_finish(rc, o, out, err, errlen, "attributed impact");
}
