/* Impact (contracts/impact.h) through the real executor on a real store:
 * every rule of ReportImpact (reports are of a project; the instrument is
 * optional; live reports of one project and KPI never share a day),
 * AttestImpact, RevokeAttestation and DisputeImpact with the state a
 * rejection did not change, the counting rules step by step, confirmed
 * totals and attributed impact (by share financed) with figures worked out
 * by hand in the comments. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bond_fixture.h"
#include "contracts/impact.h"
#include "ledger/error.h"
#include "ledger/hash.h"

#define INV3 "inv-3"
#define V1 "ver-1"
#define V2 "ver-2"
#define V3 "ver-3"
#define VW "ver-w"
#define GHG "ghg_avoided_tco2e"
#define WATER "water_saved_m3"

static const uint8_t S32[32] = {0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e,
                                0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e,
                                0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e,
                                0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e};
static const uint8_t NOPE[32] = {1, 2, 3};

/* ------------------------------------------------------- tx builders */

/* A joint green bond of city-a (3334 bps, lead), city-b and city-c (3333
 * each), projects PA-1 and PA-2 (city-a), PB-1 (city-b), PC-1 (city-c),
 * annual coupons from 2026-01-15; one_city: city-a alone, PA-1 and PA-2.
 * Each budget is 2000, and so is each project's total cost (the first
 * issuance registers them): a city that allocates 2000 to its project
 * finances all of it, and the instrument is attributed all of its impact. */
static int issue(fx *f, const char *id, bool one_city, uint64_t face, uint64_t units) {
    static const uint64_t budgets[4] = {2000, 2000, 2000, 2000};
    return bf_issue_abc(f, id, one_city, face, units, "2028-01-15", budgets);
}

static int subscribe(fx *f, const char *who, const char *id, uint64_t units) {
    return bf_subscribe(f, fx_admin(f, who), id, units);
}

static int close_offering(fx *f, const char *id) {
    return bf_close_offering(f, fx_admin(f, CA), id);
}

static int transfer(fx *f, const char *from, const char *id, const char *to, uint64_t units) {
    return bf_transfer(f, fx_admin(f, from), id, to, units);
}

static int add_account(fx *f, const fx_key *admin, const fx_key *k, esg_pb_role role) {
    return bf_add_account(f, admin, &k->pk, role);
}

/* A ReportImpact, from defaults the tests change field by field. */
typedef struct rep {
    const char *instrument, *project, *kpi;
    int64_t value;
    const char *start, *end, *methodology, *uri, *reason;
    const void *hash;
    size_t hlen;
    const void *sup;
    size_t suplen;
} rep;

static rep rep_of(const char *project, const char *kpi, int64_t value, const char *start,
                  const char *end) {
    rep r = {"GB-1", project, kpi, value, start, end, "GHG Protocol for Cities",
             "https://example.org/evidence.pdf", "", bf_h32, 32, NULL, 0};
    return r;
}

static int report(fx *f, const fx_key *k, const rep *r) {
    esg_pb_report_impact ri = ESG_PB_REPORT_IMPACT_INIT;
    ri.instrument = (char *)r->instrument;
    ri.project_id = (char *)r->project;
    ri.kpi = (char *)r->kpi;
    ri.value = r->value;
    ri.period_start = (char *)r->start;
    ri.period_end = (char *)r->end;
    ri.methodology = (char *)r->methodology;
    ri.evidence_sha256 = esg_pb_bin(r->hash, r->hlen);
    ri.evidence_uri = (char *)r->uri;
    ri.supersedes = esg_pb_bin(r->sup, r->suplen);
    ri.reason = (char *)r->reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REPORT_IMPACT;
    b.report_impact = &ri;
    return fx_submit(f, &b, k);
}

/* The city of a project of this suite: city-a for PA-*, ... */
static const char *city_of(const char *project) {
    return project[1] == 'A' ? CA : project[1] == 'B' ? CB : CC;
}

/* Reports as the project's city and returns the id. */
static esg_hash report_ok(fx *f, const rep *r) {
    const char *city = city_of(r->project);
    OK(f, report(f, fx_admin(f, city), r));
    return f->last_id;
}

static int attest_raw(fx *f, const fx_key *k, const void *id, size_t idlen, int opinion,
                      int64_t value, const void *stmt, size_t slen) {
    esg_pb_attest_impact ai = ESG_PB_ATTEST_IMPACT_INIT;
    ai.report_id = esg_pb_bin(id, idlen);
    ai.opinion = opinion;
    ai.verified_value = value;
    ai.statement_sha256 = esg_pb_bin(stmt, slen);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ATTEST_IMPACT;
    b.attest_impact = &ai;
    return fx_submit(f, &b, k);
}

static int attest(fx *f, const char *verifier, const esg_hash *report_id, int opinion,
                  int64_t value) {
    return attest_raw(f, fx_admin(f, verifier), report_id->b, 32, opinion, value, S32, 32);
}

static esg_hash attest_ok(fx *f, const char *verifier, const esg_hash *report_id,
                          int opinion, int64_t value) {
    OK(f, attest(f, verifier, report_id, opinion, value));
    return f->last_id;
}

static int revoke_raw(fx *f, const fx_key *k, const void *id, size_t idlen,
                      const char *reason) {
    esg_pb_revoke_attestation ra = ESG_PB_REVOKE_ATTESTATION_INIT;
    ra.attestation_id = esg_pb_bin(id, idlen);
    ra.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVOKE_ATTESTATION;
    b.revoke_attestation = &ra;
    return fx_submit(f, &b, k);
}

static int revoke(fx *f, const char *verifier, const esg_hash *att, const char *reason) {
    return revoke_raw(f, fx_admin(f, verifier), att->b, 32, reason);
}

static int dispute_raw(fx *f, const fx_key *k, const void *id, size_t idlen,
                       const char *reason) {
    esg_pb_dispute_impact di = ESG_PB_DISPUTE_IMPACT_INIT;
    di.report_id = esg_pb_bin(id, idlen);
    di.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_DISPUTE_IMPACT;
    b.dispute_impact = &di;
    return fx_submit(f, &b, k);
}

/* ------------------------------------------------------------ readers */

static esg_pb_report *report_rec(fx *f, const esg_hash *id) {
    return fx_get(f, ESG_T_REPORTS, id->b, 32, ESG_PB_REPORT_DESC);
}

static esg_pb_attestation *attestation_rec(fx *f, const esg_hash *id) {
    return fx_get(f, ESG_T_ATTESTATIONS, id->b, 32, ESG_PB_ATTESTATION_DESC);
}

static bool same_id(const esg_pb_bytes *b, const esg_hash *h) {
    return b->len == 32 && memcmp(b->data, h->b, 32) == 0;
}

/* The counted value of a report, or -1 when it does not count. */
static int64_t counted(fx *f, const esg_hash *id) {
    esg_pb_report *r = report_rec(f, id);
    ck_assert_ptr_nonnull(r);
    bf_view v = bf_view_open(f);
    bool counts = true;
    int64_t value = 42;
    ck_assert_int_eq(esg_impact_report_counted(v.st, r, &counts, &value), 0);
    bf_view_close(&v);
    esg_pb_free(r);
    if (!counts) {
        ck_assert_int_eq(value, 0);
        return -1;
    }
    return value;
}

/* esg_impact_sum over (after, until] (NULL: unbounded), asserted to
 * succeed; *n the number of reports counted. */
static int64_t sum(fx *f, const char *id, const char *kpi, const char *after,
                   const char *until, size_t *n) {
    bf_view v = bf_view_open(f);
    int64_t s = 42;
    size_t cnt = 42;
    int rc = esg_impact_sum(v.st, id, kpi, after ? bf_day(after) : INT32_MIN,
                            until ? bf_day(until) : INT32_MAX, &s, &cnt);
    bf_view_close(&v);
    ck_assert_int_eq(rc, 0);
    if (n)
        *n = cnt;
    return s;
}

static int64_t total(fx *f, const char *kpi) {
    return sum(f, "GB-1", kpi, NULL, NULL, NULL);
}

/* esg_impact_attributed, asserted to succeed. */
static int64_t attributed(fx *f, const char *id, const char *kpi, const char *member,
                          uint64_t *units, uint64_t *outstanding) {
    bf_view v = bf_view_open(f);
    int64_t value = 42;
    int rc = esg_impact_attributed(v.st, id, kpi, member, &value, units, outstanding);
    bf_view_close(&v);
    ck_assert_msg(rc == 0, "attributed: %s", esg_err_name(rc));
    return value;
}

/* Whether `id` is the one live (not superseded) report of `project` and
 * `kpi` over exactly start..end, as esg_impact_project_reports lists them. */
static bool live_is(fx *f, const char *project, const char *kpi, const char *start,
                    const char *end, const esg_hash *id) {
    bf_view v = bf_view_open(f);
    esg_rec_msgs all;
    ck_assert_int_eq(esg_impact_project_reports(v.st, project, kpi, &all), 0);
    size_t live = 0;
    bool same = false;
    for (size_t i = 0; i < all.n; i++) {
        const esg_pb_report *r = all.v[i];
        if (r->superseded_by.len != 0 || strcmp(r->report->period_start, start) != 0 ||
            strcmp(r->report->period_end, end) != 0)
            continue;
        live++;
        same = same_id(&r->id, id);
    }
    esg_rec_msgs_free(&all);
    bf_view_close(&v);
    return live == 1 && same;
}

/* The ESG_T_PROJECT_REPORTS row project ‖ 0 ‖ kpi ‖ 0 ‖ id exists. */
static bool project_indexed(fx *f, const char *project, const char *kpi, const esg_hash *id) {
    uint8_t key[160];
    size_t np = strlen(project), nk = strlen(kpi);
    memcpy(key, project, np);
    key[np] = 0;
    memcpy(key + np + 1, kpi, nk);
    key[np + 1 + nk] = 0;
    memcpy(key + np + nk + 2, id->b, 32);
    return fx_has(f, ESG_T_PROJECT_REPORTS, key, np + nk + 34);
}

static bool indexed(fx *f, const char *instrument, const esg_hash *id) {
    uint8_t key[80];
    size_t n = strlen(instrument);
    memcpy(key, instrument, n);
    key[n] = 0;
    memcpy(key + n + 1, id->b, 32);
    return fx_has(f, ESG_T_INSTRUMENT_REPORTS, key, n + 33);
}

/* ------------------------------------------------------------- setup */

/* Three cities, three investors, verifiers ver-1 (climate, energy), ver-2
 * and ver-3 (climate), ver-w (water), a paying agent; from 2026-07-01 (the
 * block's date: report periods may end up to it), GB-1 issued (face 1000,
 * 10 units), inv-1 holding 5 and inv-2 2, offering closed: 7 units
 * outstanding, 7000 raised (city-a's part 2334, b's and c's 2333). */
static fx *consortium(void) {
    fx *f = bf_abc_new();
    fx_add_member(f, INV3, ESG_MEMBER_INVESTOR, "Investor 3");
    fx_add_member(f, V1, ESG_MEMBER_VERIFIER, "Verifier 1");
    fx_add_member(f, V2, ESG_MEMBER_VERIFIER, "Verifier 2");
    fx_add_member(f, V3, ESG_MEMBER_VERIFIER, "Verifier 3");
    fx_add_member(f, VW, ESG_MEMBER_VERIFIER, "Water Verifier");
    fx_add_member(f, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent X");
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, V1, "climate,energy"), 0);
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, V2, "climate"), 0);
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, V3, "climate"), 0);
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, VW, "water"), 0);
    fx_start(f);
    bf_time_to(f, "2026-07-01");
    OK(f, issue(f, "GB-1", false, 1000, 10));
    OK(f, subscribe(f, INV1, "GB-1", 5));
    OK(f, subscribe(f, INV2, "GB-1", 2));
    OK(f, close_offering(f, "GB-1"));
    return f;
}

/* ------------------------------------------------------------ reports */

START_TEST(test_report) {
    fx *f = consortium();
    const fx_key *ka = fx_admin(f, CA);
    rep r = rep_of("PA-1", GHG, 1250000, "2025-01-01", "2025-12-31");

    uint64_t h = fx_height(f);
    esg_hash r1 = report_ok(f, &r);
    esg_pb_report *rec = report_rec(f, &r1);
    ck_assert_ptr_nonnull(rec);
    ck_assert(same_id(&rec->id, &r1));
    ck_assert_str_eq(rec->city, CA);
    ck_assert_uint_eq(rec->height, h + 1);
    ck_assert_uint_eq(rec->time_ms, f->time_ms);
    ck_assert_uint_eq(rec->superseded_by.len, 0);
    ck_assert_uint_eq(rec->n_attestations, 0);
    ck_assert_uint_eq(rec->n_disputes, 0);
    ck_assert_ptr_nonnull(rec->report);
    ck_assert_str_eq(rec->report->instrument, "GB-1");
    ck_assert_str_eq(rec->report->project_id, "PA-1");
    ck_assert_str_eq(rec->report->kpi, GHG);
    ck_assert_int_eq(rec->report->value, 1250000);
    ck_assert_str_eq(rec->report->period_start, "2025-01-01");
    ck_assert_str_eq(rec->report->period_end, "2025-12-31");
    ck_assert_str_eq(rec->report->methodology, "GHG Protocol for Cities");
    ck_assert_str_eq(rec->report->evidence_uri, "https://example.org/evidence.pdf");
    ck_assert_mem_eq(rec->report->evidence_sha256.data, bf_h32, 32);
    esg_pb_free(rec);
    ck_assert(live_is(f, "PA-1", GHG, "2025-01-01", "2025-12-31", &r1));
    ck_assert(project_indexed(f, "PA-1", GHG, &r1));
    ck_assert(indexed(f, "GB-1", &r1));

    /* The same period again: it must name the live report, with a reason. */
    r.value = 1300000;
    REJECTS(f, ka, ESG_ERR_DUPLICATE_REPORT, report(f, ka, &r));
    bf_assert_msg_has(f, esg_hash_hex(&r1).s);
    r.sup = NOPE;
    r.suplen = 32;
    REJECTS(f, ka, ESG_ERR_BAD_SUPERSEDES, report(f, ka, &r));
    r.sup = r1.b;
    r.suplen = 31;
    REJECTS(f, ka, ESG_ERR_BAD_SUPERSEDES, report(f, ka, &r));
    r.suplen = 32;
    REJECTS(f, ka, ESG_ERR_MISSING_REASON, report(f, ka, &r));
    r.reason = "bad\treason";
    REJECTS(f, ka, ESG_ERR_BAD_TEXT, report(f, ka, &r));
    r.reason = "meter data corrected";
    esg_hash r2 = report_ok(f, &r);

    rec = report_rec(f, &r1);
    ck_assert(same_id(&rec->superseded_by, &r2));
    ck_assert_int_eq(rec->report->value, 1250000); /* history stays */
    esg_pb_free(rec);
    rec = report_rec(f, &r2);
    ck_assert_uint_eq(rec->superseded_by.len, 0);
    ck_assert(same_id(&rec->report->supersedes, &r1));
    ck_assert_str_eq(rec->report->reason, "meter data corrected");
    esg_pb_free(rec);
    ck_assert(live_is(f, "PA-1", GHG, "2025-01-01", "2025-12-31", &r2));
    ck_assert(project_indexed(f, "PA-1", GHG, &r1)); /* history stays listed */
    ck_assert(project_indexed(f, "PA-1", GHG, &r2));
    ck_assert(indexed(f, "GB-1", &r1));
    ck_assert(indexed(f, "GB-1", &r2));

    /* Only the live report can be superseded. */
    REJECTS(f, ka, ESG_ERR_BAD_SUPERSEDES, report(f, ka, &r)); /* names r1 */
    bf_assert_msg_has(f, esg_hash_hex(&r2).s); /* the one to name instead */
    bf_assert_msg_has(f, "supersede that one");
    r.sup = r2.b;
    r.value = 1310000;
    esg_hash r3 = report_ok(f, &r);
    ck_assert(live_is(f, "PA-1", GHG, "2025-01-01", "2025-12-31", &r3));
    rec = report_rec(f, &r2);
    ck_assert(same_id(&rec->superseded_by, &r3));
    esg_pb_free(rec);

    /* Periods are inclusive days: a period that shares one day, or more,
     * with the live report overlaps it, and is refused with the report
     * named; the adjacent periods before and after are free. */
    const char *overlapping[][2] = {{"2025-12-31", "2026-01-01"}, {"2024-06-01", "2025-01-01"},
                                    {"2025-03-01", "2025-03-31"}, {"2024-01-01", "2026-01-01"},
                                    {"2025-01-01", "2025-06-30"}};
    for (size_t i = 0; i < 5; i++) {
        rep o = rep_of("PA-1", GHG, 7, overlapping[i][0], overlapping[i][1]);
        REJECTS(f, ka, ESG_ERR_OVERLAPPING_PERIOD, report(f, ka, &o));
        bf_assert_msg_has(f, esg_hash_hex(&r3).s);
        bf_assert_msg_has(f, "over 2025-01-01..2025-12-31");
    }
    rep o = rep_of("PA-1", GHG, 0, "2026-01-01", "2026-01-02"); /* value 0 is a value */
    esg_hash r4 = report_ok(f, &o);
    o = rep_of("PA-1", GHG, 5, "2024-01-01", "2024-12-31");
    esg_hash r4b = report_ok(f, &o);
    ck_assert(live_is(f, "PA-1", GHG, "2026-01-01", "2026-01-02", &r4));
    ck_assert(live_is(f, "PA-1", GHG, "2024-01-01", "2024-12-31", &r4b));

    /* Another KPI or another project is independent; supersedes must name
     * a live report of the same project and KPI. */
    o = rep_of("PA-1", WATER, 5, "2025-01-01", "2025-12-31");
    o.sup = r3.b;
    o.suplen = 32;
    o.reason = "x";
    REJECTS(f, ka, ESG_ERR_BAD_SUPERSEDES, report(f, ka, &o));
    bf_assert_msg_has(f, "must name a live report of 'PA-1' for 'water_saved_m3'");
    o.sup = NULL;
    o.suplen = 0;
    o.reason = "";
    esg_hash r5 = report_ok(f, &o);
    o = rep_of("PA-2", GHG, 5, "2025-01-01", "2025-12-31");
    o.sup = r3.b; /* PA-1's */
    o.suplen = 32;
    o.reason = "x";
    REJECTS(f, ka, ESG_ERR_BAD_SUPERSEDES, report(f, ka, &o));
    o.sup = NULL;
    o.suplen = 0;
    o.reason = "";
    esg_hash r6 = report_ok(f, &o);
    ck_assert(live_is(f, "PA-1", WATER, "2025-01-01", "2025-12-31", &r5));
    ck_assert(live_is(f, "PA-2", GHG, "2025-01-01", "2025-12-31", &r6));
    ck_assert(live_is(f, "PA-1", GHG, "2025-01-01", "2025-12-31", &r3));

    /* Text limits count characters, not bytes: 1000 two-byte characters is
     * a valid methodology; optional texts may be empty. */
    char meth[2001];
    for (int i = 0; i < 1000; i++)
        memcpy(meth + 2 * i, "\xc3\xa9", 2);
    meth[2000] = '\0';
    o = rep_of("PC-1", GHG, 7, "2025-01-01", "2025-12-31");
    o.methodology = meth;
    o.uri = "";
    esg_hash r7 = report_ok(f, &o);
    rec = report_rec(f, &r7);
    ck_assert_str_eq(rec->city, CC);
    ck_assert_str_eq(rec->report->methodology, meth);
    esg_pb_free(rec);

    /* Reporting needs no particular status: an instrument still OFFERING.
     * Naming it indexes the report under it, not under GB-1; the project
     * is the same, so the overlap rule spans both: PA-1's 2025 stays
     * taken whichever instrument a report names. */
    OK(f, issue(f, "GB-2", true, 1000, 10));
    o = rep_of("PA-1", GHG, 1, "2025-01-01", "2025-12-31");
    o.instrument = "GB-2";
    REJECTS(f, ka, ESG_ERR_DUPLICATE_REPORT, report(f, ka, &o));
    o = rep_of("PA-2", GHG, 1, "2024-01-01", "2024-12-31");
    o.instrument = "GB-2";
    esg_hash r8 = report_ok(f, &o);
    ck_assert(indexed(f, "GB-2", &r8));
    ck_assert(!indexed(f, "GB-1", &r8));
    ck_assert(project_indexed(f, "PA-2", GHG, &r8));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* Superseding a report may change its period: the new period is checked
 * against every other live report, and the days the old report held are
 * free again. */
START_TEST(test_supersede_across_periods) {
    fx *f = consortium();
    const fx_key *ka = fx_admin(f, CA);
    rep r = rep_of("PA-1", GHG, 1000000, "2025-01-01", "2025-12-31");
    esg_hash r1 = report_ok(f, &r);
    attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, 1000000);
    rep h1 = rep_of("PA-1", GHG, 400000, "2026-01-01", "2026-06-30");
    esg_hash r2 = report_ok(f, &h1);
    attest_ok(f, V1, &r2, ESG_OPINION_CONFIRMED, 400000);
    ck_assert_int_eq(total(f, GHG), 1400000);

    /* A restatement of r1 that would reach into r2's half year is refused
     * for r2, though it supersedes r1. */
    rep s = rep_of("PA-1", GHG, 500000, "2025-01-01", "2026-01-01");
    s.sup = r1.b;
    s.suplen = 32;
    s.reason = "only the first half was metered";
    REJECTS(f, ka, ESG_ERR_OVERLAPPING_PERIOD, report(f, ka, &s));
    bf_assert_msg_has(f, esg_hash_hex(&r2).s);
    /* Narrowed to the first half of 2025 it replaces r1. */
    s.end = "2025-06-30";
    esg_hash r3 = report_ok(f, &s);
    esg_pb_report *rec = report_rec(f, &r1);
    ck_assert(same_id(&rec->superseded_by, &r3));
    esg_pb_free(rec);
    ck_assert_int_eq(counted(f, &r1), -1);
    ck_assert_int_eq(total(f, GHG), 400000); /* r3 is not attested yet */
    attest_ok(f, V2, &r3, ESG_OPINION_CONFIRMED, 500000);
    ck_assert_int_eq(total(f, GHG), 900000);

    /* The second half of 2025, held by r1 until superseded, is free. */
    rep h2 = rep_of("PA-1", GHG, 450000, "2025-07-01", "2025-12-31");
    esg_hash r4 = report_ok(f, &h2);
    attest_ok(f, V1, &r4, ESG_OPINION_CONFIRMED, 450000);
    ck_assert_int_eq(total(f, GHG), 1350000);

    /* Widening a report over its neighbours is refused; a restatement over
     * exactly one report's period is the plain case. */
    rep w = rep_of("PA-1", GHG, 1, "2025-01-01", "2025-12-31");
    w.sup = r3.b;
    w.suplen = 32;
    w.reason = "whole year";
    REJECTS(f, ka, ESG_ERR_OVERLAPPING_PERIOD, report(f, ka, &w));
    bf_assert_msg_has(f, esg_hash_hex(&r4).s);
    w.start = "2025-02-01";
    w.end = "2025-05-31";
    esg_hash r5 = report_ok(f, &w);
    ck_assert(live_is(f, "PA-1", GHG, "2025-02-01", "2025-05-31", &r5));
    ck_assert_int_eq(total(f, GHG), 850000); /* 400 + 450, r5 unattested */
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* The instrument is optional: a report is of a project. */
START_TEST(test_report_without_instrument) {
    fx *f = consortium();
    const fx_key *ka = fx_admin(f, CA);
    /* A registered project no instrument finances yet. */
    OK(f, bf_register_project(f, CA, "PA-9", 50000, "EUR"));
    rep r = rep_of("PA-9", GHG, 700, "2025-01-01", "2025-12-31");
    r.instrument = "";
    esg_hash r1 = report_ok(f, &r);
    esg_pb_report *rec = report_rec(f, &r1);
    ck_assert_str_eq(rec->report->instrument, "");
    ck_assert_str_eq(rec->city, CA);
    esg_pb_free(rec);
    ck_assert(project_indexed(f, "PA-9", GHG, &r1));
    ck_assert(!indexed(f, "GB-1", &r1));
    attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, 700);
    ck_assert_int_eq(counted(f, &r1), 700);
    bf_view v = bf_view_open(f);
    int64_t c = 0;
    size_t n = 0;
    ck_assert_int_eq(esg_impact_project_sum(v.st, "PA-9", GHG, INT32_MIN, INT32_MAX, &c, &n),
                     0);
    bf_view_close(&v);
    ck_assert_int_eq(c, 700);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(total(f, GHG), 0); /* not a project of GB-1 */

    /* Naming an instrument that does not finance the project is refused. */
    r.instrument = "GB-1";
    r.start = "2024-01-01";
    r.end = "2024-12-31";
    REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT, report(f, ka, &r));
    bf_assert_msg_has(f, "instrument 'GB-1' does not finance a project 'PA-9'");
    OK(f, issue(f, "GB-2", true, 1000, 10)); /* city-a alone: PA-1, PA-2 */
    rep o = rep_of("PB-1", GHG, 1, "2025-01-01", "2025-12-31");
    o.instrument = "GB-2";
    REJECTS(f, fx_admin(f, CB), ESG_ERR_UNKNOWN_PROJECT, report(f, fx_admin(f, CB), &o));
    bf_assert_msg_has(f, "instrument 'GB-2' does not finance a project 'PB-1'");
    /* Without an instrument the project must be registered, and the city's. */
    o.instrument = "";
    o.project = "PZ-1";
    REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT, report(f, ka, &o));
    bf_assert_msg_has(f, "no project 'PZ-1' is registered");
    o.project = "PB-1";
    REJECTS(f, ka, ESG_ERR_NOT_PROJECT_CITY, report(f, ka, &o));
    bf_assert_msg_has(f, "belongs to 'city-b', not 'city-a'");

    /* A report of a project of GB-1 without an instrument counts in GB-1's
     * confirmed total (the covenant figure) like one naming it; a report
     * naming GB-1 over the same period is the same project's duplicate. */
    rep p = rep_of("PB-1", GHG, 2500, "2025-01-01", "2025-12-31");
    p.instrument = "";
    esg_hash r2 = report_ok(f, &p);
    attest_ok(f, V2, &r2, ESG_OPINION_CONFIRMED, 2400);
    ck_assert_int_eq(total(f, GHG), 2400);
    p.instrument = "GB-1";
    REJECTS(f, fx_admin(f, CB), ESG_ERR_DUPLICATE_REPORT, report(f, fx_admin(f, CB), &p));
    /* Attribution follows the financing, not the naming: city-b allocates
     * 2000 of GB-1 to PB-1, all of its cost, so GB-1 is attributed 2400. */
    ck_assert_int_eq(bf_instrument_attributed(f, "GB-1", GHG), 0);
    OK(f, bf_allocate(f, CB, "GB-1", "PB-1", 2000, "2026-02-01"));
    ck_assert_int_eq(bf_instrument_attributed(f, "GB-1", GHG), 2400);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_report_rejections) {
    fx *f = consortium();
    const fx_key *ka = fx_admin(f, CA), *kb = fx_admin(f, CB);
    rep r = rep_of("PA-1", GHG, 1000, "2025-01-01", "2025-12-31");

    /* Who. */
    fx_key adm = fx_key_new();
    OK(f, add_account(f, ka, &adm, ESG_ROLE_ADMIN));
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED, report(f, &adm, &r));
    bf_assert_msg_has(f, "lacks role OFFICER");
    REJECTS(f, kb, ESG_ERR_NOT_PROJECT_CITY, report(f, kb, &r));
    bf_assert_msg_has(f, "belongs to 'city-a', not 'city-b'");
    REJECTS(f, fx_admin(f, INV1), ESG_ERR_NOT_PROJECT_CITY, report(f, fx_admin(f, INV1), &r));
    REJECTS(f, fx_admin(f, V1), ESG_ERR_NOT_PROJECT_CITY, report(f, fx_admin(f, V1), &r));

    /* What. */
    char long_id[301];
    memset(long_id, 'G', 300);
    long_id[300] = '\0';
    /* (An empty instrument is no longer an error: it names none, see
     * test_report_without_instrument.) */
    const char *bad_ins[] = {"GB-9", "gb-1", long_id};
    for (size_t i = 0; i < 3; i++) {
        rep x = r;
        x.instrument = bad_ins[i];
        REJECTS(f, ka, ESG_ERR_UNKNOWN_INSTRUMENT, report(f, ka, &x));
    }
    bf_assert_msg_has(f, "no instrument '");
    const char *bad_proj[] = {"PZ-1", "", "pa-1"};
    for (size_t i = 0; i < 3; i++) {
        rep x = r;
        x.project = bad_proj[i];
        REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT, report(f, ka, &x));
        x.instrument = "";
        REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT, report(f, ka, &x));
    }
    const char *bad_kpi[] = {"trees_planted", "", "GHG_AVOIDED_TCO2E", long_id};
    for (size_t i = 0; i < 4; i++) {
        rep x = r;
        x.kpi = bad_kpi[i];
        REJECTS(f, ka, ESG_ERR_UNKNOWN_KPI, report(f, ka, &x));
    }
    {
        rep x = r;
        x.value = -1;
        REJECTS(f, ka, ESG_ERR_BAD_AMOUNT, report(f, ka, &x));
        x.value = INT64_MIN;
        REJECTS(f, ka, ESG_ERR_BAD_AMOUNT, report(f, ka, &x));
    }
    const char *bad_dates[][2] = {{"2025-02-29", "2025-12-31"}, {"2025-01-01", "2025-13-01"},
                                  {"", "2025-12-31"},           {"2025-01-01", ""},
                                  {"2025-1-1", "2025-12-31"},   {"2025-01-01", "20251231"}};
    for (size_t i = 0; i < 6; i++) {
        rep x = r;
        x.start = bad_dates[i][0];
        x.end = bad_dates[i][1];
        REJECTS(f, ka, ESG_ERR_BAD_DATE, report(f, ka, &x));
    }
    {
        rep x = r;
        x.end = x.start;
        REJECTS(f, ka, ESG_ERR_BAD_PERIOD, report(f, ka, &x));
        x.start = "2026-01-01";
        x.end = "2025-12-31";
        REJECTS(f, ka, ESG_ERR_BAD_PERIOD, report(f, ka, &x));
    }
    {
        /* The period may end on the block's date (2026-07-01), not after. */
        rep x = rep_of("PA-1", WATER, 1, "2026-01-01", "2026-07-02");
        REJECTS(f, ka, ESG_ERR_DATE_IN_FUTURE, report(f, ka, &x));
        bf_assert_msg_has(f, "period end 2026-07-02 is after the block's date 2026-07-01");
        x.end = "2099-01-01";
        REJECTS(f, ka, ESG_ERR_DATE_IN_FUTURE, report(f, ka, &x));
        x.hlen = 0; /* the date is checked first */
        REJECTS(f, ka, ESG_ERR_DATE_IN_FUTURE, report(f, ka, &x));
        x.hlen = 32;
        x.end = "2026-07-01";
        OK(f, report(f, ka, &x));
    }
    {
        rep x = r;
        x.hlen = 31;
        REJECTS(f, ka, ESG_ERR_BAD_HASH, report(f, ka, &x));
        x.hlen = 0;
        REJECTS(f, ka, ESG_ERR_BAD_HASH, report(f, ka, &x));
    }
    {
        char m1001[1002], u501[502];
        memset(m1001, 'm', 1001);
        m1001[1001] = '\0';
        memset(u501, 'u', 501);
        u501[501] = '\0';
        rep x = r;
        x.methodology = m1001;
        REJECTS(f, ka, ESG_ERR_BAD_TEXT, report(f, ka, &x));
        x.methodology = "line\nbreak";
        REJECTS(f, ka, ESG_ERR_BAD_TEXT, report(f, ka, &x));
        x = r;
        x.uri = u501;
        REJECTS(f, ka, ESG_ERR_BAD_TEXT, report(f, ka, &x));
        x.uri = "https://example.org/\x7f";
        REJECTS(f, ka, ESG_ERR_BAD_TEXT, report(f, ka, &x));
        x = r;
        x.reason = u501;
        REJECTS(f, ka, ESG_ERR_BAD_TEXT, report(f, ka, &x));
        /* At the limits: accepted. */
        m1001[1000] = '\0';
        u501[500] = '\0';
        x = r;
        x.methodology = m1001;
        x.uri = u501;
        x.reason = u501;
        OK(f, report(f, ka, &x));
    }
    ck_assert_int_eq(total(f, GHG), 0);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* -------------------------------------------------------- attestations */

START_TEST(test_attest) {
    fx *f = consortium();
    const fx_key *k1 = fx_admin(f, V1), *kw = fx_admin(f, VW);
    rep r = rep_of("PA-1", GHG, 1250000, "2025-01-01", "2025-12-31");
    esg_hash r1 = report_ok(f, &r);

    uint64_t h = fx_height(f);
    esg_hash a1 = attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, 1200000);
    esg_pb_attestation *a = attestation_rec(f, &a1);
    ck_assert_ptr_nonnull(a);
    ck_assert(same_id(&a->id, &a1));
    ck_assert(same_id(&a->report_id, &r1));
    ck_assert_str_eq(a->verifier, V1);
    ck_assert_int_eq(a->opinion, ESG_OPINION_CONFIRMED);
    ck_assert_int_eq(a->verified_value, 1200000);
    ck_assert_mem_eq(a->statement_sha256.data, S32, 32);
    ck_assert_uint_eq(a->height, h + 1);
    ck_assert(!a->revoked);
    esg_pb_free(a);
    esg_pb_report *rec = report_rec(f, &r1);
    ck_assert_uint_eq(rec->n_attestations, 1);
    ck_assert(same_id(&rec->attestations[0], &a1));
    esg_pb_free(rec);

    /* One live attestation per verifier member, whichever officer signs. */
    REJECTS(f, k1, ESG_ERR_ALREADY_ATTESTED, attest(f, V1, &r1, ESG_OPINION_QUALIFIED, 1));
    bf_assert_msg_has(f, esg_hash_hex(&a1).s);
    fx_key off = fx_key_new();
    OK(f, add_account(f, k1, &off, ESG_ROLE_OFFICER));
    REJECTS(f, &off, ESG_ERR_ALREADY_ATTESTED,
            attest_raw(f, &off, r1.b, 32, ESG_OPINION_QUALIFIED, 1, S32, 32));
    esg_hash a2 = attest_ok(f, V2, &r1, ESG_OPINION_REJECTED, 0);
    rec = report_rec(f, &r1);
    ck_assert_uint_eq(rec->n_attestations, 2);
    ck_assert(same_id(&rec->attestations[0], &a1));
    ck_assert(same_id(&rec->attestations[1], &a2));
    esg_pb_free(rec);

    /* Accreditation follows the KPI's category: ver-w (water) may attest a
     * water report and not a climate one; ver-1 (climate, energy) the
     * reverse. */
    REJECTS(f, kw, ESG_ERR_NOT_ACCREDITED, attest(f, VW, &r1, ESG_OPINION_CONFIRMED, 1));
    bf_assert_msg_has(f, "'ver-w' is not accredited for 'climate'");
    rep w = rep_of("PB-1", WATER, 900, "2025-01-01", "2025-12-31");
    esg_hash rw = report_ok(f, &w);
    REJECTS(f, k1, ESG_ERR_NOT_ACCREDITED, attest(f, V1, &rw, ESG_OPINION_CONFIRMED, 1));
    attest_ok(f, VW, &rw, ESG_OPINION_QUALIFIED, 850);
    ck_assert_int_eq(counted(f, &rw), 850);

    /* A superseded report can no longer be attested; its successor can. */
    r.sup = r1.b;
    r.suplen = 32;
    r.reason = "restated";
    esg_hash r2 = report_ok(f, &r);
    REJECTS(f, fx_admin(f, V3), ESG_ERR_REPORT_SUPERSEDED,
            attest(f, V3, &r1, ESG_OPINION_CONFIRMED, 1));
    bf_assert_msg_has(f, esg_hash_hex(&r2).s);
    attest_ok(f, V1, &r2, ESG_OPINION_CONFIRMED, 1);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_attest_rejections) {
    fx *f = consortium();
    const fx_key *k1 = fx_admin(f, V1), *ka = fx_admin(f, CA);
    rep r = rep_of("PA-1", GHG, 1250000, "2025-01-01", "2025-12-31");
    esg_hash r1 = report_ok(f, &r);

    /* Who: an OFFICER of a VERIFIER member. */
    REJECTS(f, ka, ESG_ERR_UNAUTHORIZED,
            attest_raw(f, ka, r1.b, 32, ESG_OPINION_CONFIRMED, 1, S32, 32));
    bf_assert_msg_has(f, "not a VERIFIER");
    REJECTS(f, fx_admin(f, INV1), ESG_ERR_UNAUTHORIZED,
            attest_raw(f, fx_admin(f, INV1), r1.b, 32, ESG_OPINION_CONFIRMED, 1, S32, 32));
    fx_key adm = fx_key_new();
    OK(f, add_account(f, k1, &adm, ESG_ROLE_ADMIN));
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED,
            attest_raw(f, &adm, r1.b, 32, ESG_OPINION_CONFIRMED, 1, S32, 32));
    bf_assert_msg_has(f, "lacks role OFFICER");

    /* The report. */
    REJECTS(f, k1, ESG_ERR_UNKNOWN_REPORT,
            attest_raw(f, k1, NOPE, 32, ESG_OPINION_CONFIRMED, 1, S32, 32));
    REJECTS(f, k1, ESG_ERR_UNKNOWN_REPORT,
            attest_raw(f, k1, r1.b, 31, ESG_OPINION_CONFIRMED, 1, S32, 32));
    REJECTS(f, k1, ESG_ERR_UNKNOWN_REPORT,
            attest_raw(f, k1, NULL, 0, ESG_OPINION_CONFIRMED, 1, S32, 32));

    /* Opinion, value, statement. */
    REJECTS(f, k1, ESG_ERR_BAD_OPINION,
            attest_raw(f, k1, r1.b, 32, ESG_OPINION_UNSPECIFIED, 1, S32, 32));
    REJECTS(f, k1, ESG_ERR_BAD_OPINION, attest_raw(f, k1, r1.b, 32, 4, 1, S32, 32));
    REJECTS(f, k1, ESG_ERR_BAD_AMOUNT,
            attest_raw(f, k1, r1.b, 32, ESG_OPINION_CONFIRMED, -1, S32, 32));
    REJECTS(f, k1, ESG_ERR_BAD_HASH,
            attest_raw(f, k1, r1.b, 32, ESG_OPINION_CONFIRMED, 1, S32, 31));
    REJECTS(f, k1, ESG_ERR_BAD_HASH,
            attest_raw(f, k1, r1.b, 32, ESG_OPINION_CONFIRMED, 1, NULL, 0));
    esg_pb_report *rec = report_rec(f, &r1);
    ck_assert_uint_eq(rec->n_attestations, 0);
    esg_pb_free(rec);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_revoke) {
    fx *f = consortium();
    const fx_key *k1 = fx_admin(f, V1), *k2 = fx_admin(f, V2);
    rep r = rep_of("PA-1", GHG, 1250000, "2025-01-01", "2025-12-31");
    esg_hash r1 = report_ok(f, &r);
    esg_hash a1 = attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, 1200000);

    /* Who: an OFFICER of the verifier that attested. */
    REJECTS(f, k2, ESG_ERR_NOT_ATTESTER, revoke(f, V2, &a1, "not mine"));
    bf_assert_msg_has(f, "made by 'ver-1', not 'ver-2'");
    REJECTS(f, fx_admin(f, CA), ESG_ERR_NOT_ATTESTER, revoke(f, CA, &a1, "not mine"));
    fx_key adm = fx_key_new();
    OK(f, add_account(f, k1, &adm, ESG_ROLE_ADMIN));
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED, revoke_raw(f, &adm, a1.b, 32, "admin only"));

    /* Which. */
    REJECTS(f, k1, ESG_ERR_UNKNOWN_ATTESTATION, revoke_raw(f, k1, NOPE, 32, "x"));
    REJECTS(f, k1, ESG_ERR_UNKNOWN_ATTESTATION, revoke_raw(f, k1, a1.b, 31, "x"));
    REJECTS(f, k1, ESG_ERR_UNKNOWN_ATTESTATION, revoke_raw(f, k1, r1.b, 32, "x")); /* a report */

    /* Why. */
    char long_reason[502];
    memset(long_reason, 'r', 501);
    long_reason[501] = '\0';
    REJECTS(f, k1, ESG_ERR_MISSING_REASON, revoke(f, V1, &a1, ""));
    REJECTS(f, k1, ESG_ERR_BAD_TEXT, revoke(f, V1, &a1, long_reason));
    REJECTS(f, k1, ESG_ERR_BAD_TEXT, revoke(f, V1, &a1, "two\nlines"));
    long_reason[500] = '\0';
    uint64_t h = fx_height(f);
    OK(f, revoke(f, V1, &a1, long_reason));
    esg_pb_attestation *a = attestation_rec(f, &a1);
    ck_assert(a->revoked);
    ck_assert_str_eq(a->revoke_reason, long_reason);
    ck_assert_uint_eq(a->revoked_height, h + 1);
    ck_assert_int_eq(a->verified_value, 1200000); /* history stays */
    esg_pb_free(a);

    REJECTS(f, k1, ESG_ERR_ATTESTATION_REVOKED, revoke(f, V1, &a1, "again"));
    bf_assert_msg_has(f, "revoked at height");

    /* Then the verifier may attest again. */
    esg_hash a2 = attest_ok(f, V1, &r1, ESG_OPINION_QUALIFIED, 1190000);
    esg_pb_report *rec = report_rec(f, &r1);
    ck_assert_uint_eq(rec->n_attestations, 2);
    ck_assert(same_id(&rec->attestations[0], &a1));
    ck_assert(same_id(&rec->attestations[1], &a2));
    esg_pb_free(rec);
    ck_assert_int_eq(counted(f, &r1), 1190000);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_dispute) {
    fx *f = consortium();
    const fx_key *ki1 = fx_admin(f, INV1), *ki3 = fx_admin(f, INV3);
    rep r = rep_of("PA-1", GHG, 1250000, "2025-01-01", "2025-12-31");
    esg_hash r1 = report_ok(f, &r);
    attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, 1200000);

    /* Who: an OFFICER of a member holding units now. */
    REJECTS(f, ki3, ESG_ERR_NOT_HOLDER, dispute_raw(f, ki3, r1.b, 32, "doubt"));
    bf_assert_msg_has(f, "'inv-3' holds no units of 'GB-1'");
    REJECTS(f, fx_admin(f, CA), ESG_ERR_NOT_HOLDER,
            dispute_raw(f, fx_admin(f, CA), r1.b, 32, "doubt"));
    fx_key adm = fx_key_new();
    OK(f, add_account(f, ki1, &adm, ESG_ROLE_ADMIN));
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED, dispute_raw(f, &adm, r1.b, 32, "doubt"));

    /* Which, why. */
    REJECTS(f, ki1, ESG_ERR_UNKNOWN_REPORT, dispute_raw(f, ki1, NOPE, 32, "doubt"));
    REJECTS(f, ki1, ESG_ERR_UNKNOWN_REPORT, dispute_raw(f, ki1, r1.b, 0, "doubt"));
    REJECTS(f, ki1, ESG_ERR_MISSING_REASON, dispute_raw(f, ki1, r1.b, 32, ""));
    REJECTS(f, ki1, ESG_ERR_BAD_TEXT, dispute_raw(f, ki1, r1.b, 32, "bell\a"));
    char long_reason[502];
    memset(long_reason, 'r', 501);
    long_reason[501] = '\0';
    REJECTS(f, ki1, ESG_ERR_BAD_TEXT, dispute_raw(f, ki1, r1.b, 32, long_reason));

    uint64_t h = fx_height(f);
    OK(f, dispute_raw(f, ki1, r1.b, 32, "the baseline year is wrong"));
    esg_hash d1 = f->last_id;
    esg_pb_dispute *d = fx_get(f, ESG_T_DISPUTES, d1.b, 32, ESG_PB_DISPUTE_DESC);
    ck_assert_ptr_nonnull(d);
    ck_assert(same_id(&d->id, &d1));
    ck_assert(same_id(&d->report_id, &r1));
    ck_assert_str_eq(d->member, INV1);
    ck_assert_str_eq(d->reason, "the baseline year is wrong");
    ck_assert_uint_eq(d->height, h + 1);
    esg_pb_free(d);
    /* Another dispute by the same holder is another record. */
    OK(f, dispute_raw(f, ki1, r1.b, 32, "and the scope"));
    esg_hash d2 = f->last_id;
    esg_pb_report *rec = report_rec(f, &r1);
    ck_assert_uint_eq(rec->n_disputes, 2);
    ck_assert(same_id(&rec->disputes[0], &d1));
    ck_assert(same_id(&rec->disputes[1], &d2));
    ck_assert_uint_eq(rec->n_attestations, 1);
    esg_pb_free(rec);

    /* Disputes change no total. */
    ck_assert_int_eq(counted(f, &r1), 1200000);
    ck_assert_int_eq(total(f, GHG), 1200000);

    /* Holding is judged now: inv-1 sells out, inv-3 buys in. */
    OK(f, transfer(f, INV1, "GB-1", INV3, 5));
    REJECTS(f, ki1, ESG_ERR_NOT_HOLDER, dispute_raw(f, ki1, r1.b, 32, "still"));
    OK(f, dispute_raw(f, ki3, r1.b, 32, "new holder's doubt"));

    /* A superseded report may still be disputed (its history is shown). */
    r.sup = r1.b;
    r.suplen = 32;
    r.reason = "restated";
    report_ok(f, &r);
    OK(f, dispute_raw(f, ki3, r1.b, 32, "about the old figure"));
    rec = report_rec(f, &r1);
    ck_assert_uint_eq(rec->n_disputes, 4);
    esg_pb_free(rec);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* A report naming no instrument may be disputed by a holder of any
 * instrument that finances its project. */
START_TEST(test_dispute_without_instrument) {
    fx *f = consortium();
    const fx_key *ki1 = fx_admin(f, INV1), *ki3 = fx_admin(f, INV3);
    /* GB-2, city-a alone, finances PA-1 and PA-2; inv-3 holds only it. */
    OK(f, issue(f, "GB-2", true, 1000, 10));
    OK(f, subscribe(f, INV3, "GB-2", 4));
    OK(f, close_offering(f, "GB-2"));
    rep named = rep_of("PA-1", GHG, 1000, "2025-01-01", "2025-12-31"); /* names GB-1 */
    esg_hash rn = report_ok(f, &named);
    rep bare = rep_of("PA-1", GHG, 900, "2024-01-01", "2024-12-31");
    bare.instrument = "";
    esg_hash rb = report_ok(f, &bare);
    rep other = rep_of("PB-1", GHG, 800, "2025-01-01", "2025-12-31");
    other.instrument = "";
    esg_hash ro = report_ok(f, &other);

    /* inv-3 may dispute the bare PA-1 report (GB-2 finances PA-1), not the
     * one naming GB-1, nor the bare PB-1 one (GB-2 does not finance PB-1). */
    OK(f, dispute_raw(f, ki3, rb.b, 32, "the baseline is 2019's"));
    REJECTS(f, ki3, ESG_ERR_NOT_HOLDER, dispute_raw(f, ki3, rn.b, 32, "doubt"));
    bf_assert_msg_has(f, "'inv-3' holds no units of 'GB-1'");
    REJECTS(f, ki3, ESG_ERR_NOT_HOLDER, dispute_raw(f, ki3, ro.b, 32, "doubt"));
    bf_assert_msg_has(f, "'inv-3' holds no units of an instrument financing 'PB-1'");
    /* inv-1 holds GB-1, which finances both. */
    OK(f, dispute_raw(f, ki1, rb.b, 32, "and the scope"));
    OK(f, dispute_raw(f, ki1, ro.b, 32, "the meter was replaced"));
    /* A city holds nothing. */
    REJECTS(f, fx_admin(f, CA), ESG_ERR_NOT_HOLDER,
            dispute_raw(f, fx_admin(f, CA), rb.b, 32, "doubt"));
    bf_assert_msg_has(f, "an instrument financing 'PA-1'");
    /* The reasons' rules are the same. */
    REJECTS(f, ki3, ESG_ERR_MISSING_REASON, dispute_raw(f, ki3, rb.b, 32, ""));
    esg_pb_report *rec = report_rec(f, &rb);
    ck_assert_uint_eq(rec->n_disputes, 2);
    esg_pb_free(rec);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* ------------------------------------------------------------ counting */

START_TEST(test_counting) {
    fx *f = consortium();
    rep r = rep_of("PA-1", GHG, 1250000, "2025-01-01", "2025-12-31");
    esg_hash r1 = report_ok(f, &r);
    size_t n;

    /* No attestation: reported, not counted. */
    ck_assert_int_eq(counted(f, &r1), -1);
    ck_assert_int_eq(sum(f, "GB-1", GHG, NULL, NULL, &n), 0);
    ck_assert_uint_eq(n, 0);

    /* CONFIRMED 1200.000 and QUALIFIED 1100.000: the smaller, 1100.000. */
    attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, 1200000);
    ck_assert_int_eq(counted(f, &r1), 1200000);
    esg_hash q = attest_ok(f, V2, &r1, ESG_OPINION_QUALIFIED, 1100000);
    ck_assert_int_eq(counted(f, &r1), 1100000);
    ck_assert_int_eq(sum(f, "GB-1", GHG, NULL, NULL, &n), 1100000);
    ck_assert_uint_eq(n, 1);

    /* A live REJECTED: not counted, whatever else. */
    esg_hash rej = attest_ok(f, V3, &r1, ESG_OPINION_REJECTED, 0);
    ck_assert_int_eq(counted(f, &r1), -1);
    ck_assert_int_eq(sum(f, "GB-1", GHG, NULL, NULL, &n), 0);
    ck_assert_uint_eq(n, 0);

    /* Revoke the REJECTED: counts again. */
    OK(f, revoke(f, V3, &rej, "wrong file reviewed"));
    ck_assert_int_eq(counted(f, &r1), 1100000);

    /* Revoke the QUALIFIED: the minimum is over live attestations only. */
    OK(f, revoke(f, V2, &q, "superseded by a new opinion"));
    ck_assert_int_eq(counted(f, &r1), 1200000);
    q = attest_ok(f, V2, &r1, ESG_OPINION_QUALIFIED, 1150000);
    ck_assert_int_eq(counted(f, &r1), 1150000);
    ck_assert_int_eq(total(f, GHG), 1150000);

    /* Superseded: the old report stops counting (its attestations stay
     * live), the new one starts from zero attestations. */
    r.sup = r1.b;
    r.suplen = 32;
    r.reason = "restated";
    r.value = 1300000;
    esg_hash r2 = report_ok(f, &r);
    ck_assert_int_eq(counted(f, &r1), -1);
    ck_assert_int_eq(counted(f, &r2), -1);
    ck_assert_int_eq(sum(f, "GB-1", GHG, NULL, NULL, &n), 0);
    ck_assert_uint_eq(n, 0);
    attest_ok(f, V2, &r2, ESG_OPINION_CONFIRMED, 1290000); /* ver-2 is free again */
    ck_assert_int_eq(counted(f, &r2), 1290000);
    ck_assert_int_eq(total(f, GHG), 1290000);

    /* Only QUALIFIED counts too; revoking the one live attestation stops it. */
    rep w = rep_of("PB-1", WATER, 5000, "2025-01-01", "2025-12-31");
    esg_hash rw = report_ok(f, &w);
    esg_hash aw = attest_ok(f, VW, &rw, ESG_OPINION_QUALIFIED, 4000);
    ck_assert_int_eq(counted(f, &rw), 4000);
    OK(f, revoke(f, VW, &aw, "withdrawn"));
    ck_assert_int_eq(counted(f, &rw), -1);
    ck_assert_int_eq(total(f, WATER), 0);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_totals) {
    fx *f = consortium();
    size_t n;
    /* a: PA-1 2025, CONFIRMED 1000.500                  -> 1000.500
     * b: PB-1 2025, CONFIRMED 2000.250, QUALIFIED 1999.999 -> 1999.999
     * c: PA-1 2026H1, CONFIRMED 300.000                 ->  300.000
     * d: PC-1 2025-07..2026-06, no attestation          -> not counted
     * e: PB-1 2024, CONFIRMED and REJECTED              -> not counted
     * w: PA-1 water 2025, CONFIRMED 5000.000            -> water only
     * GHG total: 1000.500 + 1999.999 + 300.000 = 3300.499, 3 reports. */
    rep ra = rep_of("PA-1", GHG, 1000000, "2025-01-01", "2025-12-31");
    rep rb = rep_of("PB-1", GHG, 2100000, "2025-01-01", "2025-12-31");
    rep rc = rep_of("PA-1", GHG, 310000, "2026-01-01", "2026-06-30");
    rep rd = rep_of("PC-1", GHG, 777000, "2025-07-01", "2026-06-30");
    rep re = rep_of("PB-1", GHG, 900000, "2024-01-01", "2024-12-31");
    rep rw = rep_of("PA-1", WATER, 5000000, "2025-01-01", "2025-12-31");
    esg_hash a = report_ok(f, &ra), b = report_ok(f, &rb), c = report_ok(f, &rc);
    esg_hash d = report_ok(f, &rd), e = report_ok(f, &re), w = report_ok(f, &rw);
    (void)d;
    attest_ok(f, V1, &a, ESG_OPINION_CONFIRMED, 1000500);
    attest_ok(f, V1, &b, ESG_OPINION_CONFIRMED, 2000250);
    attest_ok(f, V2, &b, ESG_OPINION_QUALIFIED, 1999999);
    attest_ok(f, V3, &c, ESG_OPINION_CONFIRMED, 300000);
    attest_ok(f, V1, &e, ESG_OPINION_CONFIRMED, 900000);
    attest_ok(f, V2, &e, ESG_OPINION_REJECTED, 0);
    attest_ok(f, VW, &w, ESG_OPINION_CONFIRMED, 5000000);

    ck_assert_int_eq(sum(f, "GB-1", GHG, NULL, NULL, &n), 3300499);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(sum(f, "GB-1", WATER, NULL, NULL, &n), 5000000);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(sum(f, "GB-1", "energy_saved_mwh", NULL, NULL, &n), 0);
    ck_assert_uint_eq(n, 0);

    /* period_end in (after, until]: both ends matter exactly. */
    ck_assert_int_eq(sum(f, "GB-1", GHG, "2024-12-31", "2025-12-31", &n), 3000499);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(sum(f, "GB-1", GHG, "2024-12-31", "2025-12-30", &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(sum(f, "GB-1", GHG, "2025-12-31", NULL, &n), 300000); /* d: not counted */
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(sum(f, "GB-1", GHG, "2025-12-30", "2026-06-30", &n), 3300499);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(sum(f, "GB-1", GHG, "2023-12-31", "2024-12-31", &n), 0); /* e rejected */
    ck_assert_uint_eq(n, 0);

    /* Reports are of a project, so an instrument's total is that of its
     * projects' reports whichever instrument they name. GB-2 (city-a
     * alone: PA-1 and PA-2) has a and c of PA-1: 1000.500 + 300.000 =
     * 1300.500 (it had 0 when totals were of the reports naming it). A
     * report naming GB-2 on PA-2 counts for GB-1 too, whose spec lists
     * PA-2; one naming GB-2 over a's period is PA-1's duplicate. An
     * unknown instrument sums to 0. */
    OK(f, issue(f, "GB-2", true, 1000, 10));
    ck_assert_int_eq(sum(f, "GB-2", GHG, NULL, NULL, &n), 1300500);
    ck_assert_uint_eq(n, 2);
    rep other = rep_of("PA-1", GHG, 1, "2025-01-01", "2025-12-31");
    other.instrument = "GB-2";
    REJECTS(f, fx_admin(f, CA), ESG_ERR_DUPLICATE_REPORT, report(f, fx_admin(f, CA), &other));
    other.project = "PA-2";
    esg_hash o = report_ok(f, &other);
    attest_ok(f, V1, &o, ESG_OPINION_CONFIRMED, 1);
    ck_assert_int_eq(sum(f, "GB-2", GHG, NULL, NULL, &n), 1300501);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(sum(f, "GB-1", GHG, NULL, NULL, &n), 3300500);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(sum(f, "GB-9", GHG, NULL, NULL, &n), 0);
    ck_assert_int_eq(sum(f, "", GHG, NULL, NULL, &n), 0);
    ck_assert_uint_eq(n, 0);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* ---------------------------------------------------- attributed impact */

START_TEST(test_attributed) {
    fx *f = consortium();
    uint64_t u, out;
    /* GB-1 finances all of PA-1: 2000 of its cost of 2000, so
     * D(PA-1) = 2000 and GB-1 is attributed the whole counted value. */
    OK(f, bf_allocate(f, CA, "GB-1", "PA-1", 2000, "2026-02-01"));
    /* Nothing counts yet. */
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV1, &u, &out), 0);
    ck_assert_uint_eq(u, 5);
    ck_assert_uint_eq(out, 7);

    rep r = rep_of("PA-1", GHG, 1000001, "2025-01-01", "2025-12-31");
    esg_hash r1 = report_ok(f, &r);
    attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, 1000001);
    /* T = 1000.001; 7 units outstanding.
     * inv-1: 5 units: 5000005 / 7 = 714286.43 -> 714.286
     * inv-2: 2 units: 2000002 / 7 = 285714.57 -> 285.714
     * (the floors leave 0.001 unattributed) */
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV1, &u, &out), 714286);
    ck_assert_uint_eq(u, 5);
    ck_assert_uint_eq(out, 7);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV2, NULL, NULL), 285714);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV3, &u, &out), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_uint_eq(out, 7);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, CA, NULL, NULL), 0);
    ck_assert_int_eq(attributed(f, "GB-1", WATER, INV1, NULL, NULL), 0);

    /* Holdings now: inv-1 gives 1 unit to inv-3.
     * inv-1: 4000004 / 7 = 571429.14 -> 571.429
     * inv-3: 1000001 / 7 = 142857.29 -> 142.857 */
    OK(f, transfer(f, INV1, "GB-1", INV3, 1));
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV1, NULL, NULL), 571429);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV3, NULL, NULL), 142857);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV2, NULL, NULL), 285714);

    /* Attribution by share financed (these figures changed with it: GB-1
     * used to claim all of PA-1's impact whoever else paid). An EU grant
     * of 2000 to PA-1: D = max(2000, 2000 + 2000) = 4000, GB-1's share is
     * 2000 / 4000, so T = floor(1000001 x 2000 / 4000) = floor(500000.5)
     * = 500000.
     * inv-1: 4 units: 2000000 / 7 = 285714.29 -> 285.714
     * inv-2: 2 units: 1000000 / 7 = 142857.14 -> 142.857
     * inv-3: 1 unit:   500000 / 7 =  71428.57 ->  71.428 */
    OK(f, bf_fund(f, CA, "PA-1", ESG_FUNDING_SOURCE_EU, 2000, "2026-03-01"));
    ck_assert_int_eq(bf_instrument_attributed(f, "GB-1", GHG), 500000);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV1, NULL, NULL), 285714);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV2, NULL, NULL), 142857);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV3, NULL, NULL), 71428);
    /* The grant reversed (recorded against the wrong project): back to
     * all of it. */
    OK(f, bf_reverse_funding(f, CA, &f->last_id, "wrong project"));
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV1, NULL, NULL), 571429);

    /* An offering has no outstanding units yet; an unknown instrument is
     * an error. */
    OK(f, issue(f, "GB-2", true, 1000, 10));
    OK(f, subscribe(f, INV1, "GB-2", 3));
    ck_assert_int_eq(attributed(f, "GB-2", GHG, INV1, &u, &out), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_uint_eq(out, 0);
    bf_view v = bf_view_open(f);
    int64_t val = 42;
    ck_assert_int_eq(esg_impact_attributed(v.st, "GB-9", GHG, INV1, &val, NULL, NULL),
                     ESG_ERR_UNKNOWN_INSTRUMENT);
    ck_assert_int_eq(val, 0);
    bf_view_close(&v);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_attributed_after_redemption) {
    fx *f = consortium();
    /* GB-1 finances all of PA-1 and PB-1 (2000 of 2000 each). */
    OK(f, bf_allocate(f, CA, "GB-1", "PA-1", 2000, "2026-02-01"));
    OK(f, bf_allocate(f, CB, "GB-1", "PB-1", 2000, "2026-02-01"));
    rep r = rep_of("PA-1", GHG, 1000001, "2025-01-01", "2025-12-31");
    esg_hash r1 = report_ok(f, &r);
    attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, 1000001);
    OK(f, transfer(f, INV1, "GB-1", INV3, 1)); /* inv-1 4, inv-2 2, inv-3 1 */

    /* Coupon 1 on 2027-01-15; then inv-2 sells its 2 to inv-3 (inv-3 3);
     * the final coupon 2028-01-15 snapshots inv-1 4, inv-3 3 (inv-2 0);
     * after it inv-1 passes 1 unit to inv-2, which the snapshot ignores. */
    bf_time_to(f, "2027-01-15");
    OK(f, bf_record_payment(f, "GB-1", ESG_PAYMENT_COUPON, "2027-01-15"));
    OK(f, transfer(f, INV2, "GB-1", INV3, 2));
    bf_time_to(f, "2028-01-15");
    OK(f, bf_record_payment(f, "GB-1", ESG_PAYMENT_COUPON, "2028-01-15"));
    OK(f, transfer(f, INV1, "GB-1", INV2, 1));
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV2, NULL, NULL), 142857); /* 1/7 now */
    OK(f, bf_record_payment(f, "GB-1", ESG_PAYMENT_REDEMPTION, "2028-01-15"));

    /* MATURED: units at the last coupon, of 7.
     * inv-1: 4 -> 4000004 / 7 = 571429.14 -> 571.429
     * inv-3: 3 -> 3000003 / 7 = 428571.86 -> 428.571
     * inv-2: 0 (it held nothing at the last coupon) */
    uint64_t u, out;
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV1, &u, &out), 571429);
    ck_assert_uint_eq(u, 4);
    ck_assert_uint_eq(out, 7);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV3, &u, &out), 428571);
    ck_assert_uint_eq(u, 3);
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV2, &u, &out), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_uint_eq(out, 7);

    /* Impact attested after maturity still counts toward the total. */
    rep r2 = rep_of("PB-1", GHG, 6, "2026-01-01", "2026-12-31");
    esg_hash rb = report_ok(f, &r2);
    attest_ok(f, V2, &rb, ESG_OPINION_CONFIRMED, 6);
    /* T = 1000.007: inv-1 4000028 / 7 = 571432 exactly. */
    ck_assert_int_eq(attributed(f, "GB-1", GHG, INV1, NULL, NULL), 571432);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_attributed_large) {
    fx *f = consortium();
    /* GB-4: face 1, 3 x 10^12 units; inv-1 2 x 10^12, inv-2 10^12. */
    OK(f, issue(f, "GB-4", true, 1, UINT64_C(3000000000000)));
    OK(f, subscribe(f, INV1, "GB-4", UINT64_C(2000000000000)));
    OK(f, subscribe(f, INV2, "GB-4", UINT64_C(1000000000000)));
    OK(f, close_offering(f, "GB-4"));
    /* GB-4 finances all of PA-1 and PA-2 (2000 of 2000 each), so it is
     * attributed the whole of each: floor(C x 2000 / 2000), a product of
     * 1.8e22 that needs 128 bits too. */
    OK(f, bf_allocate(f, CA, "GB-4", "PA-1", 2000, "2026-02-01"));
    OK(f, bf_allocate(f, CA, "GB-4", "PA-2", 2000, "2026-02-01"));
    rep r = rep_of("PA-1", GHG, INT64_C(9000000000000000001), "2025-01-01", "2025-12-31");
    r.instrument = "GB-4";
    esg_hash r1 = report_ok(f, &r);
    attest_ok(f, V1, &r1, ESG_OPINION_CONFIRMED, INT64_C(9000000000000000001));
    /* T x u needs 128 bits (9e18 x 2e12 = 1.8e31).
     * inv-1: (9e18 + 1) x 2e12 / 3e12 = 6e18 + 2/3 -> 6000000000000000000
     * inv-2: (9e18 + 1) / 3 = 3e18 + 1/3           -> 3000000000000000000 */
    ck_assert_int_eq(attributed(f, "GB-4", GHG, INV1, NULL, NULL),
                     INT64_C(6000000000000000000));
    ck_assert_int_eq(attributed(f, "GB-4", GHG, INV2, NULL, NULL),
                     INT64_C(3000000000000000000));

    /* A second report of 9e18 makes the total overflow int64: an error,
     * never a wrapped figure. */
    rep r2 = rep_of("PA-2", GHG, INT64_C(9000000000000000000), "2025-01-01", "2025-12-31");
    r2.instrument = "GB-4";
    esg_hash rb = report_ok(f, &r2);
    attest_ok(f, V1, &rb, ESG_OPINION_CONFIRMED, INT64_C(9000000000000000000));
    bf_view v = bf_view_open(f);
    int64_t s = 42, val = 42;
    size_t n = 42;
    ck_assert_int_eq(esg_impact_sum(v.st, "GB-4", GHG, INT32_MIN, INT32_MAX, &s, &n),
                     ESG_ERR_OVERFLOW);
    ck_assert_int_eq(s, 0);
    ck_assert_int_eq(esg_impact_attributed(v.st, "GB-4", GHG, INV1, &val, NULL, NULL),
                     ESG_ERR_OVERFLOW);
    ck_assert_int_eq(val, 0);
    bf_view_close(&v);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

Suite *suite_impact(void) {
    Suite *s = suite_create("impact");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_report);
    tcase_add_test(tc, test_supersede_across_periods);
    tcase_add_test(tc, test_report_without_instrument);
    tcase_add_test(tc, test_report_rejections);
    tcase_add_test(tc, test_attest);
    tcase_add_test(tc, test_attest_rejections);
    tcase_add_test(tc, test_revoke);
    tcase_add_test(tc, test_dispute);
    tcase_add_test(tc, test_dispute_without_instrument);
    tcase_add_test(tc, test_counting);
    tcase_add_test(tc, test_totals);
    tcase_add_test(tc, test_attributed);
    tcase_add_test(tc, test_attributed_after_redemption);
    tcase_add_test(tc, test_attributed_large);
    suite_add_tcase(s, tc);
    return s;
}
