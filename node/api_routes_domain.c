/* The API's routes over the ESG domain (docs/API.md, issue 3):
 * instruments, their holders, payments, proceeds allocations and impact
 * reports (each for a reporting period, ?period=START:END), a member's
 * attributed impact, projects and their funders, and one KPI compared
 * across cities.
 *
 * These routes only read, and they only route: each checks the id in its
 * path, opens a read view and serves the document that contracts/reports.h
 * builds from it -- the same code the wallet's audit runs on a state it
 * replayed itself -- so the API and an auditor can never word a figure
 * differently. The JSON conventions are reports.h's (docs/API.md). Each
 * route answers from one read transaction, so its parts agree. */
#include <stdbool.h>
#include <stddef.h>

#include "contracts/reports.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"
#include "ledger/state.h"
#include "node/api_routes.h"

/* A builder of contracts/reports.h about the thing `id` names. */
typedef int (*doc_fn)(esg_state *st, const char *id, json_t **out, char *err, size_t errlen);

/* A builder about `id` for a reporting period (?period=). */
typedef int (*period_fn)(esg_state *st, const char *id, const esg_report_period *period,
                         json_t **out, char *err, size_t errlen);

/* Opens a read view, builds the document about `id` from it -- fn's, or
 * pfn's for `period` -- and sends it: 200, or the builder's error and
 * message (404 for an unknown id, the store's errors), or 500 when the
 * view cannot be opened. */
static void serve_doc(esg_api__call *c, doc_fn fn, period_fn pfn, const char *id,
                      const esg_report_period *period) {
    MDB_txn *txn;
    esg_state *st;
    if (!esg_api__read_begin(c, &txn))
        return;
    int rc = esg_state_open(&st, c->deps->store, txn, false);
    if (rc) {
        esg_store_read_end(txn);
        esg_api__fail(c, rc, NULL);
        return;
    }
    json_t *o = NULL;
    char err[256] = "";
    rc = pfn ? pfn(st, id, period, &o, err, sizeof err) : fn(st, id, &o, err, sizeof err);
    esg_state_free(st);
    esg_store_read_end(txn);
    if (rc) {
        esg_api__fail(c, rc, "%s", err);
        return;
    }
    esg_api__reply_json(c, 200, o);
}

static void serve(esg_api__call *c, doc_fn fn, const char *id) {
    serve_doc(c, fn, NULL, id, NULL);
}

/* Parses ?period= (400 ERR_BAD_PERIOD or ERR_BAD_DATE), then serves pfn's
 * document about `id` for it. */
static void serve_period(esg_api__call *c, period_fn pfn, const char *id) {
    esg_report_period period;
    char err[160];
    int rc = esg_report_period_parse(esg_api__query(c, "period"), &period, err, sizeof err);
    if (rc) {
        esg_api__fail(c, rc, "%s", err);
        return;
    }
    serve_doc(c, NULL, pfn, id, &period);
}

/* Checks the {id} of a route with `valid`; else fails with 400 `code` and
 * "<what> id '<id>' does not match <pattern>", the id quoted as the API
 * quotes client input. */
static bool id_ok(esg_api__call *c, bool (*valid)(const char *), int code, const char *what,
                  const char *pattern) {
    if (valid(c->params[0]))
        return true;
    char q[80];
    esg_api__quote(q, sizeof q, c->params[0]);
    esg_api__fail(c, code, "%s id '%s' does not match %s", what, q, pattern);
    return false;
}

/* Serves fn's document about the instrument {id}: 400
 * ERR_BAD_INSTRUMENT_ID, then as serve(). */
static void serve_instrument(esg_api__call *c, doc_fn fn) {
    if (id_ok(c, esg_report_instrument_id_valid, ESG_ERR_BAD_INSTRUMENT_ID, "instrument",
              "[A-Z0-9-]{3,40}"))
        serve(c, fn, c->params[0]);
}

static int instruments_doc(esg_state *st, const char *id, json_t **out, char *err,
                           size_t errlen) {
    (void)id;
    return esg_report_instruments(st, out, err, errlen);
}

void esg_api__r_instruments(esg_api__call *c) {
    serve(c, instruments_doc, NULL);
}

void esg_api__r_instrument(esg_api__call *c) {
    serve_instrument(c, esg_report_instrument);
}

void esg_api__r_instrument_holders(esg_api__call *c) {
    serve_instrument(c, esg_report_holders);
}

void esg_api__r_instrument_payments(esg_api__call *c) {
    serve_instrument(c, esg_report_payments);
}

void esg_api__r_instrument_allocations(esg_api__call *c) {
    if (id_ok(c, esg_report_instrument_id_valid, ESG_ERR_BAD_INSTRUMENT_ID, "instrument",
              "[A-Z0-9-]{3,40}"))
        serve_period(c, esg_report_allocations_in, c->params[0]);
}

void esg_api__r_instrument_impact(esg_api__call *c) {
    if (id_ok(c, esg_report_instrument_id_valid, ESG_ERR_BAD_INSTRUMENT_ID, "instrument",
              "[A-Z0-9-]{3,40}"))
        serve_period(c, esg_report_impact_in, c->params[0]);
}

/* GET /v1/projects[?city=]: ERR_BAD_MEMBER_ID for a malformed city. */
void esg_api__r_projects(esg_api__call *c) {
    serve(c, esg_report_projects, esg_api__query(c, "city"));
}

/* GET /v1/projects/{id}: 400 ERR_BAD_PROJECT_ID, then as serve(). */
void esg_api__r_project(esg_api__call *c) {
    if (id_ok(c, esg_project_id_valid, ESG_ERR_BAD_PROJECT_ID, "project", "[A-Z0-9-]{3,40}"))
        serve(c, esg_report_project, c->params[0]);
}

/* GET /v1/kpis/{id}/cities[?period=]: 400 ERR_BAD_KPI for a malformed id. */
void esg_api__r_kpi_cities(esg_api__call *c) {
    if (id_ok(c, esg_kpi_id_valid, ESG_ERR_BAD_KPI, "KPI", "[a-z0-9_]{2,64}"))
        serve_period(c, esg_report_kpi_cities, c->params[0]);
}

/* GET /v1/reports?prefix=HEX: ERR_HEX for a malformed prefix. */
void esg_api__r_reports(esg_api__call *c) {
    serve(c, esg_report_reports_prefixed, esg_api__query(c, "prefix"));
}

/* GET /v1/members/{id}/impact: 400 ERR_BAD_MEMBER_ID, then as serve(). */
void esg_api__r_member_impact(esg_api__call *c) {
    if (id_ok(c, esg_member_id_valid, ESG_ERR_BAD_MEMBER_ID, "member", "[a-z0-9-]{2,40}"))
        serve(c, esg_report_member_impact, c->params[0]);
}
