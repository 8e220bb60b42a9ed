/* The documents of blended funding and EU Green Bond reporting
 * (contracts/reports.h): a project and its funders, the allocation and
 * impact reports for a reporting period, the KPI compared across cities.
 *
 * Every figure is a stored record's field or an answer of the contract
 * queries (contracts/projects.h cost basis and financing, impact.h counted
 * values and attribution), with financing cut off at the period's end, so
 * a document never states a rule differently from the ledger. What is
 * computed here is presentation: sums over the records shown, and shares
 * in basis points rounded half up. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/impact.h"
#include "contracts/instrument.h"
#include "contracts/projects.h"
#include "contracts/records.h"
#include "contracts/reports.h"
#include "contracts/reports_internal.h"
#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"

#define OBJECTIVES 7 /* EuObjective values 1..6 */

static const char *const objective_names[OBJECTIVES] = {"", "CCM", "CCA", "WTR",
                                                         "CE", "PPC", "BIO"};
static const char *const source_names[7] = {"",        "EU",      "NATIONAL", "REGIONAL",
                                            "MUNICIPAL", "PRIVATE", "OTHER"};

/* -------------------------------------------------------------- helpers */

/* round(part x 10000 / whole), halves up; 0 when whole is 0. */
static json_t *bps_half_up(uint64_t part, uint64_t whole) {
    if (whole == 0)
        return esg_rj_num(0);
    unsigned __int128 n = (unsigned __int128)part * 20000 + whole;
    return esg_rj_num((uint64_t)(n / ((unsigned __int128)whole * 2)));
}

static json_t *str_or_null(const char *s) {
    return s && s[0] ? json_string(s) : json_null();
}

static bool add_u64(uint64_t *sum, uint64_t v) {
    if (v > UINT64_MAX - *sum)
        return false;
    *sum += v;
    return true;
}

static bool add_i64(int64_t *sum, int64_t v) {
    if (v > 0 && *sum > INT64_MAX - v)
        return false;
    *sum += v;
    return true;
}

json_t *esg_rj_objectives(const esg_pb_project_record *p, int *rc) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < p->n_eu_objectives; i++) {
        int o = p->eu_objectives[i];
        esg_rj_push(arr, json_string(o > 0 && o < OBJECTIVES ? objective_names[o] : "UNKNOWN"),
                    rc);
    }
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

void esg_rj_allocation_status(json_t *x, const esg_pb_allocation *a, int *rc) {
    esg_rj_set(x, "refinancing", json_boolean(a->refinancing), rc);
    esg_rj_set(x, "reversed", json_boolean(a->reversed), rc);
    if (a->reversed) {
        esg_rj_set(x, "reverse_reason", json_string(a->reverse_reason), rc);
        esg_rj_set(x, "reversed_height", esg_rj_num(a->reversed_height), rc);
        esg_rj_set(x, "reversal_tx", esg_rj_hex_or_null(&a->reversal_tx), rc);
        esg_rj_set(x, "reversed_date", json_string(a->reversed_date), rc);
    }
}

int esg_report_period_parse(const char *s, esg_report_period *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    p->start = INT32_MIN;
    p->end = INT32_MAX;
    if (!s || !s[0])
        return ESG_OK;
    const char *colon = strchr(s, ':');
    if (!colon || colon - s != 10 || strlen(colon + 1) != 10)
        return esg_errf(err, errlen, ESG_ERR_BAD_PERIOD,
                        "period '%s' is not START:END as YYYY-MM-DD:YYYY-MM-DD",
                        esg_rec_quote(s).s);
    memcpy(p->start_s, s, 10);
    memcpy(p->end_s, colon + 1, 10);
    if (esg_date_parse(p->start_s, &p->start) != 0 || esg_date_parse(p->end_s, &p->end) != 0) {
        int rc = esg_errf(err, errlen, ESG_ERR_BAD_DATE,
                          "period '%s' holds a date that is not a valid YYYY-MM-DD",
                          esg_rec_quote(s).s);
        memset(p, 0, sizeof *p);
        p->start = INT32_MIN;
        p->end = INT32_MAX;
        return rc;
    }
    if (p->start > p->end) {
        int rc = esg_errf(err, errlen, ESG_ERR_BAD_PERIOD,
                          "period start %s is after its end %s", p->start_s, p->end_s);
        memset(p, 0, sizeof *p);
        p->start = INT32_MIN;
        p->end = INT32_MAX;
        return rc;
    }
    p->set = true;
    return ESG_OK;
}

static json_t *period_json(const esg_report_period *p) {
    if (!p || !p->set)
        return json_null();
    return json_pack("{s:s,s:s}", "start", p->start_s, "end", p->end_s);
}

static bool in_window(int32_t day, const esg_report_period *p) {
    return day >= p->start && day <= p->end;
}

/* The period used when none is asked: all of time. */
static const esg_report_period all_time = {false, INT32_MIN, INT32_MAX, "", ""};

/* ------------------------------------------------------- allocation report */

/* What the report sums per key (a project, a city, an objective). */
typedef struct alloc_sums {
    uint64_t in_period, cumulative, refinancing_cumulative, financing_cumulative;
} alloc_sums;

static bool sums_add(alloc_sums *s, uint64_t amount, bool in_period, bool refinancing) {
    bool ok = add_u64(&s->cumulative, amount);
    if (ok && in_period)
        ok = add_u64(&s->in_period, amount);
    if (ok)
        ok = add_u64(refinancing ? &s->refinancing_cumulative : &s->financing_cumulative,
                     amount);
    return ok;
}

static json_t *sums_json(const alloc_sums *s) {
    return json_pack("{s:o,s:o,s:o,s:o}", "in_period", esg_rj_money(s->in_period),
                     "cumulative", esg_rj_money(s->cumulative), "financing_cumulative",
                     esg_rj_money(s->financing_cumulative), "refinancing_cumulative",
                     esg_rj_money(s->refinancing_cumulative));
}

/* By allocation date, then the order made: the order in which proceeds
 * reached the projects. */
static int by_date(const void *a, const void *b) {
    const esg_pb_allocation *x = *(esg_pb_allocation *const *)a;
    const esg_pb_allocation *y = *(esg_pb_allocation *const *)b;
    int c = strcmp(x->date, y->date); /* YYYY-MM-DD sorts as dates */
    return c ? c : esg_rj_allocation_cmp(a, b);
}

static json_t *identity_json(esg_state *st, const esg_pb_instrument_spec *s, int *rc) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && *rc == 0 && i < s->n_co_issuers; i++) {
        esg_pb_member *m = NULL;
        int e = esg_rec_member_get(st, s->co_issuers[i]->member, &m);
        if (e) {
            *rc = e == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : e;
            break;
        }
        esg_rj_push(arr,
                    json_pack("{s:s,s:s,s:o,s:o}", "member", m->id, "name", m->name, "lei",
                              str_or_null(m->lei), "share_bps",
                              esg_rj_num(s->co_issuers[i]->share_bps)),
                    rc);
        esg_pb_free(m);
    }
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

void esg_rj_allocation_gbs(esg_state *st, const esg_pb_instrument_record *ins,
                           const esg_report_period *period, json_t *o, int *rc) {
    const esg_pb_instrument_spec *s = ins->spec;
    const esg_report_period *p = period ? period : &all_time;
    uint8_t prefix[41 + 1];
    size_t n = strlen(s->id);
    memcpy(prefix, s->id, n);
    prefix[n] = 0;
    esg_rec_msgs rows = {0};
    alloc_sums total = {0}, *proj = NULL, *city = NULL, obj[OBJECTIVES] = {{0}};
    size_t *obj_projects = NULL;
    esg_pb_project_record **regs = NULL;
    uint64_t reversed_in_period = 0;
    int e = esg_rec_load_rows(st, ESG_T_ALLOCATIONS, prefix, n + 1, ESG_PB_ALLOCATION_DESC, &rows);
    proj = calloc(s->n_projects + 1, sizeof *proj);
    city = calloc(s->n_co_issuers + 1, sizeof *city);
    regs = calloc(s->n_projects + 1, sizeof *regs);
    obj_projects = calloc(OBJECTIVES, sizeof *obj_projects);
    if (e == 0 && (!proj || !city || !regs || !obj_projects))
        e = ESG_ERR_NOMEM;
    for (size_t i = 0; e == 0 && i < s->n_projects; i++) {
        e = esg_project_get(st, s->projects[i]->id, &regs[i]);
        e = e == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : e;
    }
    if (e == 0 && rows.n > 1)
        qsort(rows.v, rows.n, sizeof rows.v[0], by_date);

    json_t *reversals = json_array(), *amends = json_array(), *later = json_array();
    const char *full_date = NULL;
    for (size_t i = 0; e == 0 && i < rows.n; i++) {
        const esg_pb_allocation *a = rows.v[i];
        int32_t day, rday;
        if (esg_date_parse(a->date, &day) != 0) {
            e = ESG_ERR_STORE_CORRUPT;
            break;
        }
        if (a->reversed) {
            /* A block past 9999-12-31 (the executor does not bound block
             * time; the node's clock rules do) writes its date as
             * "0000-00-00": such a reversal falls after every period. */
            if (strcmp(a->reversed_date, "0000-00-00") == 0) {
                rday = INT32_MAX;
            } else if (esg_date_parse(a->reversed_date, &rday) != 0) {
                e = ESG_ERR_STORE_CORRUPT;
                break;
            }
            if (in_window(rday, p)) {
                if (!add_u64(&reversed_in_period, a->amount))
                    e = ESG_ERR_OVERFLOW;
                json_t *x = json_pack("{s:o,s:s,s:s,s:o,s:s,s:s,s:o}", "allocation_id",
                                      esg_rj_hex(a->id.data, a->id.len), "project_id",
                                      a->project_id, "city", a->city, "amount",
                                      esg_rj_money(a->amount), "date", a->date,
                                      "reversed_date", a->reversed_date, "reason",
                                      json_string(a->reverse_reason));
                /* A reversal of an allocation dated before the period
                 * changes a report already filed. */
                if (x && day < p->start)
                    esg_rj_push(amends, json_incref(x), rc);
                esg_rj_push(reversals, x, rc);
            } else if (rday > p->end && day <= p->end) {
                /* Reversed after the period of a report that counted it:
                 * that report, if filed, is amended by this one. */
                esg_rj_push(later,
                            json_pack("{s:o,s:s,s:o,s:s,s:s,s:o}", "allocation_id",
                                      esg_rj_hex(a->id.data, a->id.len), "project_id",
                                      a->project_id, "amount", esg_rj_money(a->amount), "date",
                                      a->date, "reversed_date", a->reversed_date, "reason",
                                      json_string(a->reverse_reason)),
                            rc);
            }
            continue;
        }
        if (day > p->end)
            continue;
        bool inp = in_window(day, p);
        size_t k = 0, c = 0;
        while (k < s->n_projects && strcmp(s->projects[k]->id, a->project_id) != 0)
            k++;
        while (c < s->n_co_issuers && strcmp(s->co_issuers[c]->member, a->city) != 0)
            c++;
        if (k == s->n_projects || c == s->n_co_issuers) {
            e = ESG_ERR_STORE_CORRUPT;
            break;
        }
        if (!sums_add(&total, a->amount, inp, a->refinancing) ||
            !sums_add(&proj[k], a->amount, inp, a->refinancing) ||
            !sums_add(&city[c], a->amount, inp, a->refinancing))
            e = ESG_ERR_OVERFLOW;
        for (size_t j = 0; e == 0 && j < regs[k]->n_eu_objectives; j++) {
            int ob = regs[k]->eu_objectives[j];
            if (ob > 0 && ob < OBJECTIVES && !sums_add(&obj[ob], a->amount, inp, a->refinancing))
                e = ESG_ERR_OVERFLOW;
        }
        if (!full_date && ins->amount_raised > 0 && total.cumulative >= ins->amount_raised)
            full_date = a->date;
    }
    for (size_t k = 0; e == 0 && k < s->n_projects; k++)
        for (size_t j = 0; j < regs[k]->n_eu_objectives; j++) {
            int ob = regs[k]->eu_objectives[j];
            if (ob > 0 && ob < OBJECTIVES)
                obj_projects[ob]++;
        }
    if (e && *rc == 0)
        *rc = e;

    if (*rc == 0) {
        esg_rj_set(o, "isin", str_or_null(s->isin), rc);
        esg_rj_set(o, "name", json_string(s->name), rc);
        esg_rj_set(o, "currency", json_string(s->currency), rc);
        esg_rj_set(o, "issue_date", json_string(s->issue_date), rc);
        esg_rj_set(o, "maturity_date", json_string(s->maturity_date), rc);
        esg_rj_set(o, "issuers", identity_json(st, s, rc), rc);
        esg_rj_set(o, "framework_sha256", esg_rj_hex_or_null(&s->framework_sha256), rc);
        esg_rj_set(o, "external_review_sha256", esg_rj_hex_or_null(&s->external_review_sha256),
                   rc);
        esg_rj_set(o, "period", period_json(p), rc);
        uint64_t unalloc = total.cumulative <= ins->amount_raised
                               ? ins->amount_raised - total.cumulative : 0;
        json_t *sum = sums_json(&total);
        esg_rj_set(sum, "reversed_in_period", esg_rj_money(reversed_in_period), rc);
        esg_rj_set(sum, "unallocated_at_end", esg_rj_money(unalloc), rc);
        esg_rj_set(sum, "share_allocated_bps", bps_half_up(total.cumulative, ins->amount_raised),
                   rc);
        esg_rj_set(o, "period_figures", sum, rc);

        json_t *pp = json_array();
        for (size_t k = 0; *rc == 0 && k < s->n_projects; k++) {
            const esg_pb_project_record *r = regs[k];
            json_t *x = sums_json(&proj[k]);
            esg_rj_set(x, "project_id", json_string(r->id), rc);
            esg_rj_set(x, "city", json_string(r->city), rc);
            esg_rj_set(x, "name", json_string(r->name), rc);
            esg_rj_set(x, "eu_objectives", esg_rj_objectives(r, rc), rc);
            esg_rj_set(x, "taxonomy_activity", str_or_null(r->taxonomy_activity), rc);
            esg_rj_set(x, "nace", str_or_null(r->nace), rc);
            esg_rj_set(x, "budget", esg_rj_money(s->projects[k]->budget), rc);
            esg_rj_push(pp, x, rc);
        }
        esg_rj_set(o, "per_project_in_period", pp, rc);
        json_t *po = json_array();
        for (int ob = 1; *rc == 0 && ob < OBJECTIVES; ob++) {
            if (!obj_projects[ob])
                continue;
            json_t *x = sums_json(&obj[ob]);
            esg_rj_set(x, "objective", json_string(objective_names[ob]), rc);
            esg_rj_set(x, "projects", esg_rj_num(obj_projects[ob]), rc);
            esg_rj_push(po, x, rc);
        }
        esg_rj_set(o, "per_objective", po, rc);
        esg_rj_set(o, "per_objective_note",
                   json_string("a project with several environmental objectives is counted "
                               "in full under each of them, so these rows may add up to more "
                               "than the amount allocated"), rc);
        json_t *pc = json_array();
        for (size_t c = 0; *rc == 0 && c < s->n_co_issuers; c++) {
            json_t *x = sums_json(&city[c]);
            esg_rj_set(x, "city", json_string(s->co_issuers[c]->member), rc);
            esg_rj_push(pc, x, rc);
        }
        esg_rj_set(o, "per_city_in_period", pc, rc);
        esg_rj_set(o, "full_allocation_date", str_or_null(full_date), rc);
        esg_rj_set(o, "reversals_in_period", reversals, rc);
        reversals = NULL;
        bool amended = json_array_size(amends) > 0 || json_array_size(later) > 0;
        json_t *rv = json_object();
        esg_rj_set(rv, "full_allocation_reached", json_boolean(full_date != NULL), rc);
        esg_rj_set(rv, "reversals_amending_earlier_periods", amends, rc);
        esg_rj_set(rv, "reversed_after_this_period", later, rc);
        amends = NULL;
        later = NULL;
        esg_rj_set(rv, "external_review_needed", json_boolean(full_date != NULL || amended),
                   rc);
        esg_rj_set(o, "review", rv, rc);
    }
    json_decref(reversals);
    json_decref(amends);
    json_decref(later);
    for (size_t k = 0; regs && k < s->n_projects; k++)
        esg_pb_free(regs[k]);
    free(regs);
    free(proj);
    free(city);
    free(obj_projects);
    esg_rec_msgs_free(&rows);
}

/* ---------------------------------------------------------- impact report */

/* A KPI's unit; "" when the catalogue lacks it (it never removes one). */
static int kpi_unit(esg_state *st, const char *kpi, char unit[65], int *rc) {
    esg_pb_kpi *k = NULL;
    int e = esg_rec_kpi_get(st, kpi, &k);
    unit[0] = '\0';
    if (e == 0)
        snprintf(unit, 65, "%s", k->unit);
    esg_pb_free(k);
    if (e && *rc == 0)
        *rc = e == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : e;
    return e;
}

/* The distinct KPIs of a set of reports, sorted (strings borrowed). */
static int kpis_of(const esg_rec_msgs *reports, esg_strset *out) {
    for (size_t i = 0; i < reports->n; i++) {
        const esg_pb_report *r = reports->v[i];
        if (esg_strset_add(out, r->report->kpi))
            return ESG_ERR_NOMEM;
    }
    return ESG_OK;
}

/* One project's figures for one KPI over the period, for instrument
 * `instrument` (NULL: the project alone): {project_id, city, kpi, unit,
 * reported, reports_counted, confirmed, methodologies, opinions, and for
 * an instrument share_financed_bps and attributed}. *confirmed and
 * *attributed receive the figures for the totals. */
static json_t *project_kpi_json(esg_state *st, const esg_pb_project_record *proj,
                                const char *kpi, const char *instrument,
                                const esg_report_period *p, const esg_rec_msgs *reports,
                                int64_t *confirmed, int64_t *attributed, int *rc) {
    int64_t reported = 0, c = 0;
    size_t counted = 0;
    esg_strset methods = ESG_STRSET_INIT;
    json_t *opinions = json_array();
    char unit[65];
    kpi_unit(st, kpi, unit, rc);
    for (size_t i = 0; *rc == 0 && i < reports->n; i++) {
        const esg_pb_report *r = reports->v[i];
        int32_t end;
        if (strcmp(r->report->kpi, kpi) != 0 || r->superseded_by.len != 0)
            continue;
        if (esg_date_parse(r->report->period_end, &end) != 0) {
            *rc = ESG_ERR_STORE_CORRUPT;
            break;
        }
        if (!in_window(end, p))
            continue;
        if (!add_i64(&reported, r->report->value)) {
            *rc = ESG_ERR_OVERFLOW;
            break;
        }
        if (r->report->methodology[0] && esg_strset_add(&methods, r->report->methodology))
            *rc = ESG_ERR_NOMEM;
        for (size_t k = 0; *rc == 0 && k < r->n_attestations; k++) {
            void *a = NULL;
            int e = esg_rj_get_linked(st, ESG_T_ATTESTATIONS, &r->attestations[k],
                                      ESG_PB_ATTESTATION_DESC, &a);
            if (e) {
                *rc = e;
                break;
            }
            const esg_pb_attestation *at = a;
            if (!at->revoked)
                esg_rj_push(opinions,
                            json_pack("{s:o,s:s,s:o,s:o}", "report_id",
                                      esg_rj_hex(r->id.data, r->id.len), "verifier",
                                      at->verifier, "opinion",
                                      esg_rj_enum(ESG_PB_ATTESTATION_DESC, "opinion",
                                                  at->opinion),
                                      "verified_value", esg_rj_milli(at->verified_value)),
                            rc);
            esg_pb_free(a);
        }
    }
    /* The counted figure is the contract's (C(p,k) over the window). */
    if (*rc == 0) {
        int e = esg_impact_project_sum(st, proj->id, kpi, p->start == INT32_MIN ? INT32_MIN
                                                                               : p->start - 1,
                                       p->end, &c, &counted);
        if (e)
            *rc = e;
    }
    json_t *o = json_object();
    esg_rj_set(o, "project_id", json_string(proj->id), rc);
    esg_rj_set(o, "city", json_string(proj->city), rc);
    esg_rj_set(o, "kpi", json_string(kpi), rc);
    esg_rj_set(o, "unit", json_string(unit), rc);
    esg_rj_set(o, "reported", esg_rj_milli(reported), rc);
    esg_rj_set(o, "reports_counted", esg_rj_num(counted), rc);
    esg_rj_set(o, "confirmed", esg_rj_milli(c), rc);
    json_t *m = json_array();
    for (size_t i = 0; m && i < methods.n; i++)
        esg_rj_push(m, json_string(methods.v[i]), rc);
    esg_rj_set(o, "methodologies", m, rc);
    esg_rj_set(o, "opinions", opinions, rc);
    esg_strset_release(&methods);
    *confirmed = c;
    *attributed = 0;
    if (instrument && *rc == 0) {
        esg_project_financing fin;
        int e = esg_project_financing_get(st, proj, p->end, &fin);
        if (e == 0) {
            uint64_t a = esg_project_financing_of(&fin, instrument);
            *attributed = esg_project_share_of(c, a, fin.basis);
            esg_rj_set(o, "share_financed_bps", bps_half_up(a, fin.basis), rc);
            esg_rj_set(o, "attributed", esg_rj_milli(*attributed), rc);
        } else {
            *rc = e;
        }
        esg_project_financing_release(&fin);
    }
    return o;
}

/* A (city, kpi) or (kpi) row of the totals. The ids are copies: the
 * project records and KPI sets they come from are freed project by
 * project, before the totals are written. */
typedef struct impact_total {
    char city[41], kpi[65];
    int64_t confirmed, attributed;
} impact_total;

static int total_add(impact_total **v, size_t *n, const char *city, const char *kpi,
                     int64_t confirmed, int64_t attributed) {
    for (size_t i = 0; i < *n; i++) {
        impact_total *t = &(*v)[i];
        if (strcmp(t->kpi, kpi) == 0 && (!city || strcmp(t->city, city) == 0)) {
            if (!add_i64(&t->confirmed, confirmed) || !add_i64(&t->attributed, attributed))
                return ESG_ERR_OVERFLOW;
            return ESG_OK;
        }
    }
    impact_total *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return ESG_ERR_NOMEM;
    impact_total *t = &nv[*n];
    memset(t, 0, sizeof *t);
    snprintf(t->city, sizeof t->city, "%s", city ? city : "");
    snprintf(t->kpi, sizeof t->kpi, "%s", kpi);
    t->confirmed = confirmed;
    t->attributed = attributed;
    *v = nv;
    (*n)++;
    return ESG_OK;
}

void esg_rj_impact_gbs(esg_state *st, const esg_pb_instrument_record *ins,
                       const esg_report_period *period, json_t *o, int *rc) {
    const esg_pb_instrument_spec *s = ins->spec;
    const esg_report_period *p = period ? period : &all_time;
    json_t *rows = json_array();
    impact_total *per_kpi = NULL, *per_city = NULL;
    size_t n_kpi = 0, n_city = 0;
    for (size_t i = 0; *rc == 0 && i < s->n_projects; i++) {
        esg_pb_project_record *proj = NULL;
        esg_rec_msgs reports = {0};
        esg_strset kpis = ESG_STRSET_INIT;
        int e = esg_project_get(st, s->projects[i]->id, &proj);
        if (e == 0)
            e = esg_impact_project_reports(st, proj->id, NULL, &reports);
        if (e == 0)
            e = kpis_of(&reports, &kpis);
        for (size_t k = 0; e == 0 && *rc == 0 && k < kpis.n; k++) {
            int64_t c, a;
            esg_rj_push(rows, project_kpi_json(st, proj, kpis.v[k], s->id, p, &reports, &c, &a,
                                               rc), rc);
            if (*rc == 0)
                e = total_add(&per_kpi, &n_kpi, NULL, kpis.v[k], c, a);
            if (e == 0 && *rc == 0)
                e = total_add(&per_city, &n_city, proj->city, kpis.v[k], c, a);
        }
        if (e && *rc == 0)
            *rc = e == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : e;
        esg_strset_release(&kpis);
        esg_rec_msgs_free(&reports);
        esg_pb_free(proj);
    }
    esg_rj_set(o, "period", period_json(p), rc);
    esg_rj_set(o, "per_project", rows, rc);
    json_t *tk = json_array(), *tc = json_array();
    for (size_t i = 0; *rc == 0 && i < n_kpi; i++) {
        char unit[65];
        kpi_unit(st, per_kpi[i].kpi, unit, rc);
        esg_rj_push(tk, json_pack("{s:s,s:s,s:o,s:o}", "kpi", per_kpi[i].kpi, "unit", unit,
                                  "confirmed", esg_rj_milli(per_kpi[i].confirmed),
                                  "attributed", esg_rj_milli(per_kpi[i].attributed)), rc);
    }
    for (size_t i = 0; *rc == 0 && i < n_city; i++)
        esg_rj_push(tc, json_pack("{s:s,s:s,s:o,s:o}", "city", per_city[i].city, "kpi",
                                  per_city[i].kpi, "confirmed",
                                  esg_rj_milli(per_city[i].confirmed), "attributed",
                                  esg_rj_milli(per_city[i].attributed)), rc);
    esg_rj_set(o, "totals_per_kpi", tk, rc);
    esg_rj_set(o, "totals_per_city", tc, rc);
    esg_rj_set(o, "attribution_note",
               json_string("impact of a project is reported once and attributed to each "
                           "funder by its share financed: floor(confirmed x allocated / cost "
                           "basis), the cost basis being the larger of the project's total "
                           "cost and all its recorded financing dated up to the period's end"),
               rc);
    free(per_kpi);
    free(per_city);
}

/* ------------------------------------------------------------- projects */

static json_t *funding_json(const esg_pb_funding *f, int *rc) {
    json_t *x = json_object();
    esg_rj_set(x, "id", esg_rj_hex(f->id.data, f->id.len), rc);
    esg_rj_set(x, "source", json_string(f->source > 0 && f->source < 7 ? source_names[f->source]
                                                                          : "UNKNOWN"), rc);
    esg_rj_set(x, "programme", json_string(f->programme), rc);
    esg_rj_set(x, "amount", esg_rj_money(f->amount), rc);
    esg_rj_set(x, "date", json_string(f->date), rc);
    esg_rj_set(x, "evidence_sha256", esg_rj_hex(f->evidence_sha256.data,
                                                f->evidence_sha256.len), rc);
    esg_rj_set(x, "height", esg_rj_num(f->height), rc);
    esg_rj_set(x, "reversed", json_boolean(f->reversed), rc);
    if (f->reversed) {
        esg_rj_set(x, "reverse_reason", json_string(f->reverse_reason), rc);
        esg_rj_set(x, "reversed_height", esg_rj_num(f->reversed_height), rc);
        esg_rj_set(x, "reversal_tx", esg_rj_hex_or_null(&f->reversal_tx), rc);
        esg_rj_set(x, "reversed_date", json_string(f->reversed_date), rc);
    }
    return x;
}

static json_t *project_summary(const esg_pb_project_record *p, int *rc) {
    json_t *o = json_object();
    esg_rj_set(o, "id", json_string(p->id), rc);
    esg_rj_set(o, "city", json_string(p->city), rc);
    esg_rj_set(o, "name", json_string(p->name), rc);
    esg_rj_set(o, "eu_objectives", esg_rj_objectives(p, rc), rc);
    esg_rj_set(o, "taxonomy_activity", str_or_null(p->taxonomy_activity), rc);
    esg_rj_set(o, "nace", str_or_null(p->nace), rc);
    json_t *sdgs = json_array();
    for (size_t i = 0; sdgs && i < p->n_sdgs; i++)
        esg_rj_push(sdgs, esg_rj_num(p->sdgs[i]), rc);
    esg_rj_set(o, "sdgs", sdgs, rc);
    esg_rj_set(o, "total_cost", esg_rj_money(p->total_cost), rc);
    esg_rj_set(o, "currency", json_string(p->currency), rc);
    esg_rj_set(o, "location", str_or_null(p->location), rc);
    json_t *ins = json_array();
    for (size_t i = 0; ins && i < p->n_instruments; i++)
        esg_rj_push(ins, json_string(p->instruments[i]), rc);
    esg_rj_set(o, "instruments", ins, rc);
    return o;
}

typedef struct projects_acc {
    const char *city;
    json_t *arr;
    int rc;
} projects_acc;

static int collect_project(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                           void *arg) {
    (void)key;
    (void)klen;
    projects_acc *acc = arg;
    esg_pb_project_record *p = NULL;
    if (esg_pb_project_record_decode(&p, val, vlen, SIZE_MAX) != 0)
        return acc->rc = ESG_ERR_STORE_CORRUPT;
    if (!acc->city || strcmp(acc->city, p->city) == 0)
        esg_rj_push(acc->arr, project_summary(p, &acc->rc), &acc->rc);
    esg_pb_free(p);
    return acc->rc;
}

int esg_report_projects(esg_state *st, const char *city, json_t **out, char *err,
                        size_t errlen) {
    assert(st && out);
    *out = NULL;
    if (city && !esg_member_id_valid(city))
        return esg_errf(err, errlen, ESG_ERR_BAD_MEMBER_ID,
                        "city '%s' does not match [a-z0-9-]{2,40}", esg_rec_quote(city).s);
    projects_acc acc = {city, json_array(), 0};
    int rc = acc.arr ? esg_state_iter(st, ESG_T_PROJECTS, NULL, 0, collect_project, &acc)
                     : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = acc.rc;
    json_t *o = NULL;
    if (rc == 0) {
        o = json_pack("{s:o,s:o}", "city", city ? json_string(city) : json_null(), "projects",
                      acc.arr);
        acc.arr = NULL;
    }
    json_decref(acc.arr);
    return esg_rj_finish(rc, o, out, err, errlen, "projects");
}

/* Loads a project for a document, with the documents' errors. */
static int project_load(esg_state *st, const char *id, esg_pb_project_record **p, char *err,
                        size_t errlen) {
    *p = NULL;
    if (!esg_project_id_valid(id))
        return esg_errf(err, errlen, ESG_ERR_BAD_PROJECT_ID,
                        "project id '%s' does not match [A-Z0-9-]{3,40}", esg_rec_quote(id).s);
    int rc = esg_project_get(st, id, p);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_errf(err, errlen, ESG_ERR_UNKNOWN_PROJECT, "unknown project '%s'", id);
    return rc ? esg_rj_store_err(err, errlen, rc, "a project") : ESG_OK;
}

/* Funders of a project with their amounts and shares of D(p): each
 * instrument, then each external source with money. */
static json_t *funders_json(const esg_project_financing *fin, int *rc) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < fin->n; i++)
        esg_rj_push(arr, json_pack("{s:s,s:s,s:o,s:o}", "kind", "instrument", "funder",
                                   fin->instrument[i], "amount", esg_rj_money(fin->amount[i]),
                                   "share_bps", bps_half_up(fin->amount[i], fin->basis)), rc);
    for (int src = 1; arr && src < 7; src++)
        if (fin->by_source[src])
            esg_rj_push(arr, json_pack("{s:s,s:s,s:o,s:o}", "kind", "external", "funder",
                                       source_names[src], "amount",
                                       esg_rj_money(fin->by_source[src]), "share_bps",
                                       bps_half_up(fin->by_source[src], fin->basis)), rc);
    if (!arr && *rc == 0)
        *rc = ESG_ERR_NOMEM;
    return arr;
}

/* Per KPI of the project: confirmed impact and what each funder is
 * attributed (the remainder -- the part no recorded financing covers, and
 * the floors -- is shown as unattributed). */
static json_t *project_kpis_json(esg_state *st, const esg_pb_project_record *p,
                                 const esg_project_financing *fin, int *rc) {
    esg_rec_msgs reports = {0};
    esg_strset kpis = ESG_STRSET_INIT;
    json_t *arr = json_array();
    int e = esg_impact_project_reports(st, p->id, NULL, &reports);
    if (e == 0)
        e = kpis_of(&reports, &kpis);
    for (size_t k = 0; e == 0 && *rc == 0 && k < kpis.n; k++) {
        int64_t c = 0, given = 0;
        size_t counted = 0;
        char unit[65];
        if ((e = esg_impact_project_sum(st, p->id, kpis.v[k], INT32_MIN, INT32_MAX, &c,
                                        &counted)) != 0)
            break;
        kpi_unit(st, kpis.v[k], unit, rc);
        json_t *to = json_array();
        for (size_t i = 0; i < fin->n; i++) {
            int64_t v = esg_project_share_of(c, fin->amount[i], fin->basis);
            given += v; /* sum of floors of parts of c: <= c */
            esg_rj_push(to, json_pack("{s:s,s:s,s:o}", "kind", "instrument", "funder",
                                      fin->instrument[i], "attributed", esg_rj_milli(v)), rc);
        }
        for (int src = 1; src < 7; src++)
            if (fin->by_source[src]) {
                int64_t v = esg_project_share_of(c, fin->by_source[src], fin->basis);
                given += v;
                esg_rj_push(to, json_pack("{s:s,s:s,s:o}", "kind", "external", "funder",
                                          source_names[src], "attributed", esg_rj_milli(v)),
                            rc);
            }
        esg_rj_push(arr, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}", "kpi", kpis.v[k], "unit", unit,
                                   "confirmed", esg_rj_milli(c), "reports_counted",
                                   esg_rj_num(counted), "attributed", to, "unattributed",
                                   esg_rj_milli(c - given)), rc);
    }
    if (e && *rc == 0)
        *rc = e;
    esg_strset_release(&kpis);
    esg_rec_msgs_free(&reports);
    return arr;
}

int esg_report_project(esg_state *st, const char *id, json_t **out, char *err,
                       size_t errlen) {
    assert(st && id && out);
    *out = NULL;
    esg_pb_project_record *p;
    int rc = project_load(st, id, &p, err, errlen);
    if (rc)
        return rc;
    esg_project_financing fin;
    esg_rec_msgs fundings = {0};
    uint8_t prefix[42];
    size_t n = strlen(p->id);
    memcpy(prefix, p->id, n);
    prefix[n] = 0;
    rc = esg_project_financing_get(st, p, INT32_MAX, &fin);
    json_t *o = rc ? NULL : project_summary(p, &rc);
    if (rc == 0) {
        esg_rj_set(o, "register_tx", esg_rj_hex_or_null(&p->register_tx), &rc);
        esg_rj_set(o, "registered_height", esg_rj_num(p->registered_height), &rc);
        json_t *hist = json_array();
        for (size_t i = 0; hist && i < p->n_cost_history; i++) {
            const esg_pb_cost_change *c = p->cost_history[i];
            esg_rj_push(hist, json_pack("{s:o,s:o,s:s,s:o,s:o}", "previous",
                                        esg_rj_money(c->previous), "total_cost",
                                        esg_rj_money(c->total_cost), "reason", c->reason, "tx_id",
                                        esg_rj_hex(c->tx_id.data, c->tx_id.len), "height",
                                        esg_rj_num(c->height)), &rc);
        }
        esg_rj_set(o, "cost_history", hist, &rc);
        esg_rj_set(o, "allocated", esg_rj_money(fin.allocated), &rc);
        esg_rj_set(o, "external", esg_rj_money(fin.external), &rc);
        esg_rj_set(o, "cost_basis", esg_rj_money(fin.basis), &rc);
        esg_rj_set(o, "funders", funders_json(&fin, &rc), &rc);
    }
    /* Every funding record, reversed ones too, via the project's index. */
    esg_rec_tail32 ids = {0};
    if (rc == 0)
        rc = esg_state_iter(st, ESG_T_PROJECT_FUNDINGS, prefix, n + 1, esg_rec_collect_tail32,
                            &ids);
    json_t *fl = rc ? NULL : json_array();
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        esg_pb_bytes b = esg_pb_bin(ids.v[i].b, 32);
        void *f = NULL;
        if ((rc = esg_rj_get_linked(st, ESG_T_FUNDINGS, &b, ESG_PB_FUNDING_DESC, &f)) == 0)
            rc = esg_rec_msgs_push(&fundings, f);
    }
    for (size_t i = 0; rc == 0 && i < fundings.n; i++)
        esg_rj_push(fl, funding_json(fundings.v[i], &rc), &rc);
    if (rc == 0)
        esg_rj_set(o, "fundings", fl, &rc);
    else
        json_decref(fl);
    if (rc == 0)
        esg_rj_set(o, "kpis", project_kpis_json(st, p, &fin, &rc), &rc);
    free(ids.v);
    esg_rec_msgs_free(&fundings);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    return esg_rj_finish(rc, o, out, err, errlen, "a project");
}

/* ------------------------------------------------------ KPI across cities */

typedef struct city_row {
    char city[41];
    size_t projects;
    int64_t confirmed;
    uint64_t instruments, external;
    const char *currency; /* the first project's; NULL when they differ */
    bool mixed;
} city_row;

typedef struct cities_acc {
    esg_state *st;
    const char *kpi;
    const esg_report_period *p;
    city_row *rows;
    size_t n;
    esg_rec_msgs keep; /* project records the rows' currency points into */
    int rc;
} cities_acc;

static city_row *city_of(cities_acc *acc, const char *city) {
    for (size_t i = 0; i < acc->n; i++)
        if (strcmp(acc->rows[i].city, city) == 0)
            return &acc->rows[i];
    city_row *v = realloc(acc->rows, (acc->n + 1) * sizeof *v);
    if (!v)
        return NULL;
    acc->rows = v;
    city_row *r = &v[acc->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->city, sizeof r->city, "%s", city);
    return r;
}

static int city_cmp(const void *a, const void *b) {
    return strcmp(((const city_row *)a)->city, ((const city_row *)b)->city);
}

static int collect_city_project(const uint8_t *key, size_t klen, const uint8_t *val,
                                size_t vlen, void *arg) {
    (void)key;
    (void)klen;
    cities_acc *acc = arg;
    esg_pb_project_record *p = NULL;
    if (esg_pb_project_record_decode(&p, val, vlen, SIZE_MAX) != 0)
        return acc->rc = ESG_ERR_STORE_CORRUPT;
    return acc->rc = esg_rec_msgs_push(&acc->keep, p);
}

/* The rows, once the projects are read (reading them needs no iteration
 * in progress: the sums iterate themselves). */
static int city_rows(cities_acc *acc) {
    for (size_t i = 0; i < acc->keep.n; i++) {
        const esg_pb_project_record *p = acc->keep.v[i];
        esg_rec_msgs reports = {0};
        int rc = esg_impact_project_reports(acc->st, p->id, acc->kpi, &reports);
        size_t nrep = reports.n;
        esg_rec_msgs_free(&reports);
        if (rc)
            return rc;
        if (nrep == 0)
            continue; /* the project reports nothing of this KPI */
        int64_t c;
        esg_project_financing fin;
        rc = esg_impact_project_sum(acc->st, p->id, acc->kpi,
                                    acc->p->start == INT32_MIN ? INT32_MIN : acc->p->start - 1,
                                    acc->p->end, &c, NULL);
        if (rc == 0)
            rc = esg_project_financing_get(acc->st, p, acc->p->end, &fin);
        city_row *r = rc ? NULL : city_of(acc, p->city);
        if (rc == 0 && !r)
            rc = ESG_ERR_NOMEM;
        if (rc == 0) {
            r->projects++;
            if (!add_i64(&r->confirmed, c) || !add_u64(&r->instruments, fin.allocated) ||
                !add_u64(&r->external, fin.external))
                rc = ESG_ERR_OVERFLOW;
            if (!r->currency && !r->mixed)
                r->currency = p->currency;
            else if (r->currency && strcmp(r->currency, p->currency) != 0) {
                r->currency = NULL;
                r->mixed = true;
            }
        }
        esg_project_financing_release(&fin);
        if (rc)
            return rc;
    }
    return ESG_OK;
}

int esg_report_kpi_cities(esg_state *st, const char *kpi, const esg_report_period *period,
                          json_t **out, char *err, size_t errlen) {
    assert(st && kpi && out);
    *out = NULL;
    const esg_report_period *p = period ? period : &all_time;
    esg_pb_kpi *k = NULL;
    int rc = esg_kpi_id_valid(kpi) ? esg_rec_kpi_get(st, kpi, &k) : ESG_ERR_NOT_FOUND;
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_errf(err, errlen, ESG_ERR_UNKNOWN_KPI, "no KPI '%s' in the catalogue",
                        esg_rec_quote(kpi).s);
    if (rc)
        return esg_rj_store_err(err, errlen, rc, "the KPI catalogue");
    cities_acc acc = {st, kpi, p, NULL, 0, {0}, 0};
    rc = esg_state_iter(st, ESG_T_PROJECTS, NULL, 0, collect_city_project, &acc);
    if (rc == 0)
        rc = acc.rc;
    if (rc == 0)
        rc = city_rows(&acc);
    if (rc == 0 && acc.n > 1)
        qsort(acc.rows, acc.n, sizeof acc.rows[0], city_cmp);
    json_t *o = rc ? NULL : json_object();
    if (rc == 0) {
        esg_rj_set(o, "kpi", json_string(k->id), &rc);
        esg_rj_set(o, "name", json_string(k->name), &rc);
        esg_rj_set(o, "unit", json_string(k->unit), &rc);
        esg_rj_set(o, "direction", json_string(esg_kpi_direction_name(k->direction)), &rc);
        esg_rj_set(o, "period", period_json(p), &rc);
        json_t *arr = json_array();
        for (size_t i = 0; rc == 0 && i < acc.n; i++) {
            const city_row *r = &acc.rows[i];
            esg_pb_member *m = NULL;
            int e = esg_rec_member_get(st, r->city, &m);
            if (e) {
                rc = e == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : e;
                break;
            }
            uint64_t financed = r->instruments + r->external; /* each <= sum checked */
            if (financed < r->instruments) {
                esg_pb_free(m);
                rc = ESG_ERR_OVERFLOW;
                break;
            }
            json_t *x = json_object();
            esg_rj_set(x, "city", json_string(r->city), &rc);
            esg_rj_set(x, "name", json_string(m->name), &rc);
            esg_rj_set(x, "population", m->population ? esg_rj_num(m->population) : json_null(),
                       &rc);
            esg_rj_set(x, "projects", esg_rj_num(r->projects), &rc);
            esg_rj_set(x, "confirmed", esg_rj_milli(r->confirmed), &rc);
            esg_rj_set(x, "currency", str_or_null(r->currency), &rc);
            esg_rj_set(x, "financed_by_instruments", esg_rj_money(r->instruments), &rc);
            esg_rj_set(x, "financed_externally", esg_rj_money(r->external), &rc);
            esg_rj_set(x, "financed", esg_rj_money(financed), &rc);
            /* Per million of the currency's major unit: confirmed x 10^6 x
             * 10^decimals / financed, in thousandths of the KPI unit. */
            json_t *per_m = json_null();
            if (r->currency && financed > 0 && r->confirmed >= 0) {
                unsigned __int128 scale = 1000000;
                for (int d = esg_currency_decimals(r->currency); d > 0; d--)
                    scale *= 10;
                unsigned __int128 q = (unsigned __int128)(uint64_t)r->confirmed * scale / financed;
                per_m = q <= INT64_MAX ? esg_rj_milli((int64_t)q) : json_null();
            }
            esg_rj_set(x, "per_million_financed", per_m, &rc);
            json_t *per_k = json_null();
            if (m->population > 0 && r->confirmed >= 0) {
                unsigned __int128 q = (unsigned __int128)(uint64_t)r->confirmed * 1000 /
                                      m->population;
                per_k = q <= INT64_MAX ? esg_rj_milli((int64_t)q) : json_null();
            }
            esg_rj_set(x, "per_1000_inhabitants", per_k, &rc);
            esg_rj_push(arr, x, &rc);
            esg_pb_free(m);
        }
        esg_rj_set(o, "cities", arr, &rc);
    }
    free(acc.rows);
    esg_rec_msgs_free(&acc.keep);
    esg_pb_free(k);
    return esg_rj_finish(rc, o, out, err, errlen, "the KPI across cities");
}
