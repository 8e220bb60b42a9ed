/* Reports (contracts/reports.h): the instrument list, instrument,
 * holders, payments, allocation, impact and attributed-impact documents
 * built from a state view.
 *
 * The chain is the one tests/node/test_api_domain.c drives through the
 * API -- a joint sustainability-linked bond of three cities, 7 units of
 * 1 000.03 EUR sold, proceeds allocated, impact reported, restated,
 * attested, revoked and attested again, disputed, two coupons paid and a
 * unit transferred -- so the figures here are the API's, worked out by hand
 * in the comments. Then the same documents are built from a state replayed
 * from genesis into a fresh store (what `esgwallet audit` does) and must be
 * equal; and the pure counting rule (esg_report_count) must agree with the
 * contract's (esg_impact_report_counted) on every report.
 */
#include <ctype.h>
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/impact.h"
#include "contracts/reports.h"
#include "fixture.h"
#include "ledger/error.h"
#include "ledger/replay.h"
#include "testutil.h"

#define CA "city-a"
#define CB "city-b"
#define CC "city-c"
#define INVX "inv-x"
#define INVY "inv-y"
#define VER "verifier-v"
#define AGENT "agent-p"
#define SLB "SLB-2024-01"

#define OK(f, call)                                                                    \
    do {                                                                               \
        int rc_ = (call);                                                              \
        ck_assert_msg(rc_ == 0, "line %d: %s: %s", __LINE__, esg_err_name(rc_), (f)->msg); \
    } while (0)

/* ------------------------------------------------------------ the chain */

static fx *chain_new(void) {
    fx *f = fx_new();
    fx_add_member(f, CA, ESG_MEMBER_CITY, "City A");
    fx_add_member(f, CB, ESG_MEMBER_CITY, "City B");
    fx_add_member(f, CC, ESG_MEMBER_CITY, "City C");
    fx_add_member(f, INVX, ESG_MEMBER_INVESTOR, "Fund X");
    fx_add_member(f, INVY, ESG_MEMBER_INVESTOR, "Fund Y");
    fx_add_member(f, VER, ESG_MEMBER_VERIFIER, "Verifier V");
    fx_add_member(f, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent P");
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, VER, "climate,energy"), 0);
    fx_start(f);
    return f;
}

static int submit(fx *f, esg_pb_tx_body *b, const char *who) {
    return fx_submit(f, b, fx_admin(f, who));
}

/* Cities a, b, c at 3334/3333/3333 bps; face 100003, 10 units, 4.5 % a
 * year every 6 months from 2024-01-01 to 2027-01-01; projects P-A, P-B,
 * P-C; targets ghg_avoided_tco2e >= 1000.000 by 2024-12-31 (+25 bps) and
 * renewable_generation_mwh >= 500.000 by 2025-06-30 (+15 bps). */
static int issue_slb(fx *f) {
    esg_pb_co_issuer co[3] = {ESG_PB_CO_ISSUER_INIT, ESG_PB_CO_ISSUER_INIT,
                              ESG_PB_CO_ISSUER_INIT};
    const char *cities[3] = {CA, CB, CC};
    const uint32_t shares[3] = {3334, 3333, 3333};
    esg_pb_project p[3] = {ESG_PB_PROJECT_INIT, ESG_PB_PROJECT_INIT, ESG_PB_PROJECT_INIT};
    const char *pids[3] = {"P-A", "P-B", "P-C"}, *pnames[3] = {"Solar roofs", "Wind farm",
                                                               "Tram line"};
    const uint64_t budgets[3] = {150000, 300000, 100000};
    const int objectives[3] = {ESG_EU_OBJECTIVE_CCM, ESG_EU_OBJECTIVE_CCM,
                               ESG_EU_OBJECTIVE_PPC};
    esg_pb_co_issuer *cos[3];
    esg_pb_project *projs[3];
    for (int i = 0; i < 3; i++) {
        co[i].member = (char *)cities[i];
        co[i].share_bps = shares[i];
        cos[i] = &co[i];
        p[i].id = (char *)pids[i];
        p[i].city = (char *)cities[i];
        p[i].name = (char *)pnames[i];
        p[i].eu_objective = objectives[i];
        p[i].budget = budgets[i];
        projs[i] = &p[i];
    }
    esg_pb_kpi_target t[2] = {ESG_PB_KPI_TARGET_INIT, ESG_PB_KPI_TARGET_INIT};
    t[0].kpi = "ghg_avoided_tco2e";
    t[0].target = 1000000;
    t[0].observation_date = "2024-12-31";
    t[0].step_up_bps = 25;
    t[1].kpi = "renewable_generation_mwh";
    t[1].baseline = 100500;
    t[1].target = 500000;
    t[1].observation_date = "2025-06-30";
    t[1].step_up_bps = 15;
    esg_pb_kpi_target *tps[] = {&t[0], &t[1]};
    esg_pb_instrument_spec s = ESG_PB_INSTRUMENT_SPEC_INIT;
    s.id = SLB;
    s.kind = ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
    s.name = "Joint Sustainability-Linked Bond 2024";
    s.currency = "EUR";
    s.face_value = 100003;
    s.units = 10;
    s.coupon_bps = 450;
    s.coupon_frequency_months = 6;
    s.issue_date = "2024-01-01";
    s.maturity_date = "2027-01-01";
    s.co_issuers = cos;
    s.n_co_issuers = 3;
    s.paying_agent = AGENT;
    s.projects = projs;
    s.n_projects = 3;
    s.kpi_targets = tps;
    s.n_kpi_targets = 2;
    esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
    ii.spec = &s;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    b.issue_instrument = &ii;
    return fx_submit(f, &b, fx_admin(f, CA), fx_admin(f, CB), fx_admin(f, CC));
}

static int subscribe(fx *f, const char *who, uint64_t units) {
    esg_pb_subscribe s = ESG_PB_SUBSCRIBE_INIT;
    s.instrument = SLB;
    s.units = units;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_SUBSCRIBE;
    b.subscribe = &s;
    return submit(f, &b, who);
}

static int close_offering(fx *f) {
    esg_pb_close_offering c = ESG_PB_CLOSE_OFFERING_INIT;
    c.instrument = SLB;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_CLOSE_OFFERING;
    b.close_offering = &c;
    return submit(f, &b, CA);
}

static int allocate(fx *f, const char *city, const char *project, uint64_t amount,
                    const char *date) {
    static const uint8_t ev[32] = {1, 1, 1};
    esg_pb_allocate_proceeds a = ESG_PB_ALLOCATE_PROCEEDS_INIT;
    a.instrument = SLB;
    a.project_id = (char *)project;
    a.amount = amount;
    a.date = (char *)date;
    a.evidence_sha256 = esg_pb_bin(ev, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
    b.allocate_proceeds = &a;
    return submit(f, &b, city);
}

static int report(fx *f, const char *city, const char *project, const char *kpi, int64_t value,
                  const char *start, const char *end, const esg_hash *supersedes) {
    static const uint8_t ev[32] = {2, 2, 2};
    esg_pb_report_impact r = ESG_PB_REPORT_IMPACT_INIT;
    r.instrument = SLB;
    r.project_id = (char *)project;
    r.kpi = (char *)kpi;
    r.value = value;
    r.period_start = (char *)start;
    r.period_end = (char *)end;
    r.evidence_sha256 = esg_pb_bin(ev, 32);
    if (supersedes) {
        r.supersedes = esg_pb_bin(supersedes->b, 32);
        r.reason = "restated after the audit";
    }
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REPORT_IMPACT;
    b.report_impact = &r;
    return submit(f, &b, city);
}

static int attest(fx *f, const esg_hash *report_id, int opinion, int64_t value) {
    static const uint8_t st[32] = {0x5a, 0x5a};
    esg_pb_attest_impact a = ESG_PB_ATTEST_IMPACT_INIT;
    a.report_id = esg_pb_bin(report_id->b, 32);
    a.opinion = opinion;
    a.verified_value = value;
    a.statement_sha256 = esg_pb_bin(st, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ATTEST_IMPACT;
    b.attest_impact = &a;
    return submit(f, &b, VER);
}

static int revoke(fx *f, const esg_hash *attestation) {
    esg_pb_revoke_attestation r = ESG_PB_REVOKE_ATTESTATION_INIT;
    r.attestation_id = esg_pb_bin(attestation->b, 32);
    r.reason = "meter data incomplete";
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVOKE_ATTESTATION;
    b.revoke_attestation = &r;
    return submit(f, &b, VER);
}

static int dispute(fx *f, const esg_hash *report_id) {
    esg_pb_dispute_impact d = ESG_PB_DISPUTE_IMPACT_INIT;
    d.report_id = esg_pb_bin(report_id->b, 32);
    d.reason = "baseline too generous";
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_DISPUTE_IMPACT;
    b.dispute_impact = &d;
    return submit(f, &b, INVX);
}

static int pay(fx *f, const char *due) {
    esg_pb_record_payment rp = ESG_PB_RECORD_PAYMENT_INIT;
    rp.instrument = SLB;
    rp.kind = ESG_PAYMENT_COUPON;
    rp.due_date = (char *)due;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_RECORD_PAYMENT;
    b.record_payment = &rp;
    return submit(f, &b, AGENT);
}

static int transfer(fx *f, uint64_t units) {
    esg_pb_transfer t = ESG_PB_TRANSFER_INIT;
    t.instrument = SLB;
    t.to_member = INVY;
    t.units = units;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_TRANSFER;
    b.transfer = &t;
    return submit(f, &b, INVX);
}

typedef struct story {
    esg_hash r1, r2, r3, r4, a3;
} story;

/* The API test's story (tests/node/test_api_domain.c, run_story). */
static void run_story(fx *f, story *s) {
    OK(f, issue_slb(f));
    OK(f, subscribe(f, INVX, 4));
    OK(f, subscribe(f, INVY, 3));
    OK(f, close_offering(f));
    OK(f, allocate(f, CA, "P-A", 100000, "2025-02-01"));
    OK(f, allocate(f, CA, "P-A", 60000, "2025-03-01"));
    OK(f, allocate(f, CB, "P-B", 233316, "2025-03-15"));
    OK(f, report(f, CA, "P-A", "ghg_avoided_tco2e", 800000, "2024-01-01", "2024-12-31", NULL));
    s->r1 = f->last_id;
    OK(f, attest(f, &s->r1, ESG_OPINION_CONFIRMED, 800000));
    OK(f, report(f, CA, "P-A", "ghg_avoided_tco2e", 820000, "2024-01-01", "2024-12-31",
                 &s->r1));
    s->r2 = f->last_id;
    OK(f, attest(f, &s->r2, ESG_OPINION_CONFIRMED, 810250));
    OK(f, report(f, CB, "P-B", "renewable_generation_mwh", 600000, "2024-07-01", "2025-06-30",
                 NULL));
    s->r3 = f->last_id;
    OK(f, attest(f, &s->r3, ESG_OPINION_QUALIFIED, 560000));
    s->a3 = f->last_id;
    OK(f, revoke(f, &s->a3));
    OK(f, attest(f, &s->r3, ESG_OPINION_QUALIFIED, 550000));
    OK(f, report(f, CC, "P-C", "ghg_avoided_tco2e", 50000, "2025-01-01", "2025-12-31", NULL));
    s->r4 = f->last_id;
    OK(f, dispute(f, &s->r2));
    OK(f, pay(f, "2024-07-01"));
    OK(f, pay(f, "2025-01-01"));
    OK(f, transfer(f, 1));
}

/* ------------------------------------------------------------- readers */

typedef int (*doc_fn)(esg_state *, const char *, json_t **, char *, size_t);

/* Builds a document from store `s` (asserting success). */
static json_t *doc_of(esg_store *s, doc_fn fn, const char *id) {
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, s, txn, false), 0);
    json_t *o = NULL;
    char err[256] = "";
    int rc = fn(st, id, &o, err, sizeof err);
    esg_state_free(st);
    esg_store_read_end(txn);
    ck_assert_msg(rc == 0, "%s: %s", esg_err_name(rc), err);
    ck_assert_ptr_nonnull(o);
    return o;
}

/* Asserts fn(id) fails with `code` and a message holding `needle`. */
static void doc_fails(esg_store *s, doc_fn fn, const char *id, int code, const char *needle) {
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, s, txn, false), 0);
    json_t *o = (json_t *)1;
    char err[256] = "";
    int rc = fn(st, id, &o, err, sizeof err);
    esg_state_free(st);
    esg_store_read_end(txn);
    ck_assert_msg(rc == code, "got %s, want %s", esg_err_name(rc), esg_err_name(code));
    ck_assert_ptr_null(o);
    ck_assert_msg(strstr(err, needle) != NULL, "message '%s' lacks '%s'", err, needle);
}

static json_t *jget(const json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    ck_assert_msg(v != NULL, "no key '%s'", key);
    return v;
}

static json_t *jat(const json_t *arr, size_t i) {
    json_t *v = json_array_get(arr, i);
    ck_assert_msg(v != NULL, "no element %zu", i);
    return v;
}

static void str_is(const json_t *o, const char *key, const char *want) {
    const char *s = json_string_value(jget(o, key));
    ck_assert_msg(s && strcmp(s, want) == 0, "'%s' is '%s', want '%s'", key, s ? s : "(none)",
                  want);
}

static void num_is(const json_t *o, const char *key, long long want) {
    json_t *v = jget(o, key);
    ck_assert_msg(json_is_integer(v) && json_integer_value(v) == want, "'%s' is not %lld", key,
                  want);
}

static void bool_is(const json_t *o, const char *key, bool want) {
    json_t *v = jget(o, key);
    ck_assert_msg(json_is_boolean(v) && json_is_true(v) == want, "'%s' is not %s", key,
                  want ? "true" : "false");
}

static void hex_is(const json_t *o, const char *key, const esg_hash *h) {
    str_is(o, key, esg_hash_hex(h).s);
}

/* --------------------------------------------------------------- tests */

START_TEST(allocation_figures) {
    fx *f = chain_new();
    story s;
    run_story(f, &s);
    json_t *d = doc_of(f->store, esg_report_allocations, SLB);
    str_is(d, "instrument", SLB);
    str_is(d, "amount_raised", "700021");   /* 7 x 100003 */
    str_is(d, "allocated_total", "393316"); /* 160000 + 233316 */
    str_is(d, "unallocated", "306705");     /* 700021 - 393316 */
    json_t *pc = jget(d, "per_city");
    ck_assert_uint_eq(json_array_size(pc), 3);
    /* Parts: floor(700021 x 3333 / 10000) = 233316 for b and c; a gets
     * 700021 - 2 x 233316 = 233389. */
    str_is(jat(pc, 0), "city", CA);
    str_is(jat(pc, 0), "part_of_raised", "233389");
    str_is(jat(pc, 0), "allocated", "160000");
    str_is(jat(pc, 0), "remaining", "73389");
    str_is(jat(pc, 1), "part_of_raised", "233316");
    str_is(jat(pc, 1), "remaining", "0");
    str_is(jat(pc, 2), "allocated", "0");
    json_t *pp = jget(d, "per_project");
    str_is(jat(pp, 0), "project_id", "P-A");
    str_is(jat(pp, 0), "eu_objective", "CCM");
    str_is(jat(pp, 0), "allocated", "160000");
    num_is(jat(pp, 0), "share_of_proceeds_bps", 2285); /* 160000 x 10000 / 700021 */
    bool_is(jat(pp, 0), "over_budget", true);          /* 160000 > 150000 */
    num_is(jat(pp, 1), "share_of_proceeds_bps", 3332); /* 233316 x 10000 / 700021 */
    bool_is(jat(pp, 1), "over_budget", false);
    str_is(jat(pp, 2), "eu_objective", "PPC");
    json_t *al = jget(d, "allocations");
    ck_assert_uint_eq(json_array_size(al), 3);
    str_is(jat(al, 0), "amount", "100000");
    str_is(jat(al, 1), "amount", "60000");
    str_is(jat(al, 2), "amount", "233316");
    str_is(jat(al, 2), "city", CB);
    json_decref(d);
    fx_free(f);
}
END_TEST

START_TEST(impact_figures) {
    fx *f = chain_new();
    story s;
    run_story(f, &s);
    json_t *d = doc_of(f->store, esg_report_impact, SLB);
    json_t *rs = jget(d, "reports");
    ck_assert_uint_eq(json_array_size(rs), 4);
    json_t *r1 = jat(rs, 0), *r2 = jat(rs, 1), *r3 = jat(rs, 2), *r4 = jat(rs, 3);
    hex_is(r1, "id", &s.r1);
    hex_is(r1, "superseded_by", &s.r2);
    bool_is(r1, "counted", false); /* superseded, though confirmed */
    ck_assert(json_is_null(jget(r1, "counted_value")));
    hex_is(r2, "supersedes", &s.r1);
    str_is(r2, "value", "820.000");
    bool_is(r2, "counted", true);
    str_is(r2, "counted_value", "810.250");
    ck_assert_uint_eq(json_array_size(jget(r2, "disputes")), 1);
    str_is(jat(jget(r2, "disputes"), 0), "member", INVX);
    str_is(r3, "unit", "MWh");
    str_is(r3, "counted_value", "550.000"); /* 560 revoked; 550 live */
    json_t *a = jget(r3, "attestations");
    ck_assert_uint_eq(json_array_size(a), 2);
    hex_is(jat(a, 0), "id", &s.a3);
    bool_is(jat(a, 0), "revoked", true);
    str_is(jat(a, 0), "revoke_reason", "meter data incomplete");
    str_is(jat(a, 1), "opinion", "QUALIFIED");
    bool_is(r4, "counted", false); /* never attested */
    json_t *t = jget(d, "confirmed_totals");
    ck_assert_uint_eq(json_array_size(t), 2);
    str_is(jat(t, 0), "kpi", "ghg_avoided_tco2e");
    str_is(jat(t, 0), "total", "810.250");
    num_is(jat(t, 0), "reports_counted", 1);
    str_is(jat(t, 1), "kpi", "renewable_generation_mwh");
    str_is(jat(t, 1), "total", "550.000");
    json_decref(d);
    fx_free(f);
}
END_TEST

/* GET /v1/reports?prefix=: every prefix of every report id, of odd and
 * even length and in either case, finds exactly the reports whose ids
 * start with it, in id order. */
START_TEST(reports_by_id_prefix) {
    fx *f = chain_new();
    story s;
    run_story(f, &s);
    json_t *d = doc_of(f->store, esg_report_impact, SLB);
    json_t *rs = jget(d, "reports");
    size_t n = json_array_size(rs);
    ck_assert_uint_eq(n, 4);
    const char *ids[4];
    for (size_t i = 0; i < n; i++)
        ids[i] = json_string_value(jget(jat(rs, i), "id"));
    for (size_t i = 0; i < n; i++) {
        for (size_t len = 1; len <= 64; len++) {
            char pre[65];
            memcpy(pre, ids[i], len);
            pre[len] = '\0';
            if (len % 3 == 0) /* some in upper case */
                for (size_t k = 0; k < len; k++)
                    pre[k] = (char)toupper((unsigned char)pre[k]);
            json_t *got = doc_of(f->store, esg_report_reports_prefixed, pre);
            json_t *list = jget(got, "reports");
            const char *last = "";
            size_t want = 0;
            for (size_t j = 0; j < n; j++)
                want += strncmp(ids[j], ids[i], len) == 0;
            ck_assert_msg(json_array_size(list) == want, "prefix %s: %zu reports, want %zu",
                          pre, json_array_size(list), want);
            for (size_t j = 0; j < json_array_size(list); j++) {
                const char *id = json_string_value(jget(jat(list, j), "id"));
                ck_assert_int_eq(strncmp(id, ids[i], len), 0);
                ck_assert_int_gt(strcmp(id, last), 0); /* id order, no repeats */
                str_is(jat(list, j), "instrument", SLB);
                last = id;
            }
            bool_is(got, "more", false);
            ck_assert_int_eq(strncmp(json_string_value(jget(got, "prefix")), ids[i], len), 0);
            json_decref(got);
        }
    }
    /* The full record, as in the instrument's impact document. */
    json_t *one = doc_of(f->store, esg_report_reports_prefixed, ids[1]);
    str_is(jat(jget(one, "reports"), 0), "value", json_string_value(jget(jat(rs, 1), "value")));
    json_decref(one);
    /* No report starts with a digit none of the ids starts with. */
    for (const char *dg = "0123456789abcdef"; *dg; dg++) {
        char pre[2] = {*dg, 0};
        size_t want = 0;
        for (size_t j = 0; j < n; j++)
            want += ids[j][0] == *dg;
        json_t *got = doc_of(f->store, esg_report_reports_prefixed, pre);
        ck_assert_uint_eq(json_array_size(jget(got, "reports")), want);
        json_decref(got);
    }
    char long65[66];
    memset(long65, 'a', 65);
    long65[65] = '\0';
    doc_fails(f->store, esg_report_reports_prefixed, "", ESG_ERR_HEX, "1 to 64 hex digits");
    doc_fails(f->store, esg_report_reports_prefixed, long65, ESG_ERR_HEX, "1 to 64 hex digits");
    doc_fails(f->store, esg_report_reports_prefixed, "12g4", ESG_ERR_HEX, "1 to 64 hex digits");
    doc_fails(f->store, esg_report_reports_prefixed, NULL, ESG_ERR_HEX, "1 to 64 hex digits");
    json_decref(d);
    fx_free(f);
}
END_TEST

START_TEST(instrument_and_member_figures) {
    fx *f = chain_new();
    story s;
    run_story(f, &s);
    json_t *d = doc_of(f->store, esg_report_instrument, SLB);
    str_is(d, "status", "ACTIVE");
    num_is(d, "coupons_recorded", 2);
    str_is(d, "next_coupon_date", "2025-07-01");
    /* ghg: 810.250 < 1000.000 missed (+25); renewable 550.000 >= 500.000. */
    num_is(d, "step_up_bps_in_force_next_coupon", 25);
    json_t *su = jget(d, "step_ups");
    bool_is(jat(su, 0), "missed", true);
    str_is(jat(su, 0), "observed", "810.250");
    bool_is(jat(su, 1), "missed", false);
    ck_assert_uint_eq(json_array_size(jget(d, "schedule")), 6);
    bool_is(jat(jget(d, "schedule"), 1), "paid", true);
    bool_is(jat(jget(d, "schedule"), 2), "paid", false);
    json_decref(d);

    d = doc_of(f->store, esg_report_member_impact, INVX);
    json_t *i = jat(jget(d, "instruments"), 0);
    str_is(i, "units", "3"); /* 4 - 1 transferred */
    str_is(i, "units_outstanding", "7");
    /* Attributed by share financed (issue 9; the renewable figure changed
     * with it). ghg is P-A's: 160000 allocated of a cost of 150000, so
     * D = 160000 and SLB holds all of it: T = 810250, and
     * floor(810250 x 3 / 7) = 347250. renewable is P-B's: 233316 of a
     * cost of 300000, so T = floor(550000 x 233316 / 300000) = 427746
     * (was 550000), and floor(427746 x 3 / 7) = floor(183319.71) = 183319
     * (was floor(550000 x 3 / 7) = 235714). */
    str_is(jat(jget(i, "kpis"), 0), "attributed", "347.250");
    str_is(jat(jget(i, "kpis"), 1), "attributed", "183.319");
    json_decref(d);
    d = doc_of(f->store, esg_report_member_impact, CA); /* holds nothing */
    ck_assert_uint_eq(json_array_size(jget(d, "instruments")), 0);
    json_decref(d);
    fx_free(f);
}
END_TEST

START_TEST(errors) {
    fx *f = chain_new();
    OK(f, issue_slb(f));
    doc_fn fns[3] = {esg_report_instrument, esg_report_allocations, esg_report_impact};
    for (int i = 0; i < 3; i++) {
        doc_fails(f->store, fns[i], "GB-NOPE", ESG_ERR_UNKNOWN_INSTRUMENT,
                  "unknown instrument 'GB-NOPE'");
        doc_fails(f->store, fns[i], "slb-2024-01", ESG_ERR_BAD_INSTRUMENT_ID, "slb-2024-01");
        doc_fails(f->store, fns[i], "AB", ESG_ERR_BAD_INSTRUMENT_ID, "[A-Z0-9-]{3,40}");
        doc_fails(f->store, fns[i], "A\x01" "BC", ESG_ERR_BAD_INSTRUMENT_ID, "A?BC");
    }
    doc_fails(f->store, esg_report_member_impact, "nobody", ESG_ERR_UNKNOWN_MEMBER,
              "unknown member 'nobody'");
    doc_fails(f->store, esg_report_member_impact, "Bad_Id", ESG_ERR_BAD_MEMBER_ID, "Bad_Id");
    /* An instrument still OFFERING has reports with nothing in them. */
    json_t *d = doc_of(f->store, esg_report_allocations, SLB);
    str_is(d, "amount_raised", "0");
    str_is(jat(jget(d, "per_city"), 0), "part_of_raised", "0");
    json_decref(d);
    d = doc_of(f->store, esg_report_impact, SLB);
    ck_assert_uint_eq(json_array_size(jget(d, "reports")), 0);
    str_is(jat(jget(d, "confirmed_totals"), 0), "total", "0.000");
    json_decref(d);
    fx_free(f);
}
END_TEST

/* esgwallet audit's path: replay the chain from genesis into a fresh
 * store and build the documents there; they equal the node's. */
static int block_source(void *arg, uint64_t height, uint8_t **block, size_t *block_len,
                        uint8_t **commit, size_t *commit_len) {
    fx *f = arg;
    MDB_txn *txn;
    int rc = esg_store_read_begin(f->store, &txn);
    if (rc)
        return rc;
    MDB_val b, c;
    rc = esg_store_block_get(txn, f->store, height, &b, &c);
    if (rc == 0) {
        *block = malloc(b.mv_size + 1);
        *commit = malloc(c.mv_size + 1);
        ck_assert(*block && *commit);
        memcpy(*block, b.mv_data, b.mv_size);
        memcpy(*commit, c.mv_data, c.mv_size);
        *block_len = b.mv_size;
        *commit_len = c.mv_size;
    }
    esg_store_read_end(txn);
    return rc;
}

START_TEST(replayed_state_gives_the_same_documents) {
    fx *f = chain_new();
    story s;
    run_story(f, &s);
    char work[256], err[256] = "";
    tu_tmpdir(work, sizeof work);
    esg_replay_result res;
    esg_store *replayed = NULL;
    int rc = esg_replay(f->g, f->ct, work, block_source, f, 0, 2, &res, &replayed, err,
                        sizeof err);
    ck_assert_msg(rc == 0, "replay: %s", err);
    ck_assert_uint_eq(res.height, fx_height(f));
    doc_fn fns[3] = {esg_report_instrument, esg_report_allocations, esg_report_impact};
    for (int i = 0; i < 3; i++) {
        json_t *a = doc_of(f->store, fns[i], SLB), *b = doc_of(replayed, fns[i], SLB);
        char *sa = json_dumps(a, JSON_COMPACT), *sb = json_dumps(b, JSON_COMPACT);
        ck_assert_str_eq(sa, sb);
        free(sa);
        free(sb);
        json_decref(a);
        json_decref(b);
    }
    esg_store_close(replayed);
    tu_rmtree(work);
    fx_free(f);
}
END_TEST

/* The list, holders and payments documents (esg_report_instruments,
 * esg_report_holders, esg_report_payments), and the same documents from
 * the replayed state. */

/* esg_report_instruments in doc_fn's shape (it takes no id). */
static int instruments_doc(esg_state *st, const char *id, json_t **out, char *err,
                           size_t errlen) {
    (void)id;
    return esg_report_instruments(st, out, err, errlen);
}

START_TEST(list_holders_and_payments_figures) {
    fx *f = chain_new();
    json_t *d = doc_of(f->store, instruments_doc, NULL);
    ck_assert_uint_eq(json_array_size(jget(d, "instruments")), 0);
    json_decref(d);
    story s;
    run_story(f, &s);

    d = doc_of(f->store, instruments_doc, NULL);
    json_t *l = jget(d, "instruments");
    ck_assert_uint_eq(json_array_size(l), 1);
    json_t *i = jat(l, 0);
    str_is(i, "id", SLB);
    str_is(i, "kind", "SUSTAINABILITY_LINKED_BOND");
    str_is(i, "status", "ACTIVE");
    str_is(i, "face_value", "100003");
    str_is(i, "units", "10");
    str_is(i, "units_sold", "7");
    str_is(i, "units_outstanding", "7");
    str_is(i, "amount_raised", "700021");
    num_is(i, "coupon_bps", 450);
    num_is(i, "coupon_frequency_months", 6);
    str_is(i, "maturity_date", "2027-01-01");
    json_t *co = jget(i, "co_issuers");
    ck_assert_uint_eq(json_array_size(co), 3);
    str_is(jat(co, 0), "member", CA);
    num_is(jat(co, 0), "share_bps", 3334);
    num_is(jat(co, 2), "share_bps", 3333);
    str_is(i, "paying_agent", AGENT);
    json_decref(d);

    /* After the transfer: x 3, y 4 of 7; floor(3 x 10000 / 7) = 4285,
     * floor(4 x 10000 / 7) = 5714. */
    d = doc_of(f->store, esg_report_holders, SLB);
    str_is(d, "instrument", SLB);
    str_is(d, "units_outstanding", "7");
    json_t *h = jget(d, "holders");
    ck_assert_uint_eq(json_array_size(h), 2);
    str_is(jat(h, 0), "member", INVX);
    str_is(jat(h, 0), "units", "3");
    num_is(jat(h, 0), "share_of_outstanding_bps", 4285);
    str_is(jat(h, 1), "member", INVY);
    num_is(jat(h, 1), "share_of_outstanding_bps", 5714);
    json_decref(d);

    /* Coupon 1: per unit floor(100003 x 450 x 6 / 120000) = 2250, x 4 and
     * y 3 held then: 15750, split 5252 (lead, with the remainder), 5249,
     * 5249. Coupon 2 after the missed ghg target: 475 bps, 2375 a unit. */
    d = doc_of(f->store, esg_report_payments, SLB);
    str_is(d, "instrument", SLB);
    json_t *ps = jget(d, "payments");
    ck_assert_uint_eq(json_array_size(ps), 2);
    json_t *c1 = jat(ps, 0), *c2 = jat(ps, 1);
    str_is(c1, "kind", "COUPON");
    str_is(c1, "due_date", "2024-07-01");
    num_is(c1, "seq", 1);
    ck_assert(json_is_string(jget(c1, "time")) && json_is_integer(jget(c1, "time_ms")));
    num_is(c1, "step_up_bps", 0);
    num_is(c1, "months", 6);
    str_is(c1, "per_unit", "2250");
    str_is(c1, "total", "15750");
    str_is(jat(jget(c1, "holders"), 0), "units", "4");
    str_is(jat(jget(c1, "holders"), 1), "amount", "6750");
    num_is(jat(jget(c1, "co_issuers"), 0), "share_bps", 3334);
    str_is(jat(jget(c1, "co_issuers"), 0), "amount", "5252");
    str_is(jat(jget(c1, "co_issuers"), 2), "amount", "5249");
    ck_assert_uint_eq(strlen(json_string_value(jget(c1, "tx_id"))), 64);
    num_is(c2, "seq", 2);
    num_is(c2, "step_up_bps", 25);
    str_is(c2, "per_unit", "2375");
    str_is(c2, "total", "16625");
    json_decref(d);
    fx_free(f);
}
END_TEST

START_TEST(holders_and_payments_errors) {
    fx *f = chain_new();
    OK(f, issue_slb(f));
    static const struct {
        const char *id;
        int code;
        const char *needle;
    } cases[] = {
        {"GB-NOPE", ESG_ERR_UNKNOWN_INSTRUMENT, "unknown instrument 'GB-NOPE'"},
        {"slb-2024-01", ESG_ERR_BAD_INSTRUMENT_ID, "instrument id 'slb-2024-01' does not"},
        {"AB", ESG_ERR_BAD_INSTRUMENT_ID, "[A-Z0-9-]{3,40}"},
        {"A\x01" "BC", ESG_ERR_BAD_INSTRUMENT_ID, "A?BC"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        doc_fails(f->store, esg_report_holders, cases[k].id, cases[k].code, cases[k].needle);
        doc_fails(f->store, esg_report_payments, cases[k].id, cases[k].code, cases[k].needle);
    }
    /* Nothing subscribed or paid yet: empty lists, not errors. */
    json_t *d = doc_of(f->store, esg_report_holders, SLB);
    str_is(d, "units_outstanding", "0");
    ck_assert_uint_eq(json_array_size(jget(d, "holders")), 0);
    json_decref(d);
    d = doc_of(f->store, esg_report_payments, SLB);
    ck_assert_uint_eq(json_array_size(jget(d, "payments")), 0);
    json_decref(d);
    fx_free(f);
}
END_TEST

START_TEST(replayed_state_gives_the_same_list_holders_and_payments) {
    fx *f = chain_new();
    story s;
    run_story(f, &s);
    char work[256], err[256] = "";
    tu_tmpdir(work, sizeof work);
    esg_replay_result res;
    esg_store *replayed = NULL;
    ck_assert_msg(esg_replay(f->g, f->ct, work, block_source, f, 0, 1, &res, &replayed, err,
                             sizeof err) == 0,
                  "replay: %s", err);
    doc_fn fns[3] = {instruments_doc, esg_report_holders, esg_report_payments};
    for (int i = 0; i < 3; i++) {
        json_t *a = doc_of(f->store, fns[i], SLB), *b = doc_of(replayed, fns[i], SLB);
        ck_assert(json_equal(a, b));
        json_decref(a);
        json_decref(b);
    }
    esg_store_close(replayed);
    tu_rmtree(work);
    fx_free(f);
}
END_TEST

/* esg_report_count on the stored records agrees with the contract. */
static void count_agrees(fx *f, const esg_hash *id) {
    esg_pb_report *r = fx_get(f, ESG_T_REPORTS, id->b, 32, ESG_PB_REPORT_DESC);
    ck_assert_ptr_nonnull(r);
    esg_pb_attestation *atts[8];
    ck_assert_uint_le(r->n_attestations, 8);
    for (size_t i = 0; i < r->n_attestations; i++) {
        atts[i] = fx_get(f, ESG_T_ATTESTATIONS, r->attestations[i].data, 32,
                         ESG_PB_ATTESTATION_DESC);
        ck_assert_ptr_nonnull(atts[i]);
    }
    bool c1, c2;
    int64_t v1, v2;
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(f->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, f->store, txn, false), 0);
    ck_assert_int_eq(esg_impact_report_counted(st, r, &c1, &v1), 0);
    esg_state_free(st);
    esg_store_read_end(txn);
    ck_assert_int_eq(esg_report_count(r, atts, r->n_attestations, &c2, &v2), 0);
    ck_assert_int_eq(c1, c2);
    ck_assert_int_eq(v1, v2);
    /* The records must belong together. */
    if (r->n_attestations > 0) {
        ck_assert_int_eq(esg_report_count(r, atts, r->n_attestations - 1, &c2, &v2),
                         ESG_ERR_INVALID_ARGUMENT);
        ck_assert(!c2 && v2 == 0);
    }
    for (size_t i = 0; i < r->n_attestations; i++)
        esg_pb_free(atts[i]);
    esg_pb_free(r);
}

START_TEST(count_rule_agrees_with_the_contract) {
    fx *f = chain_new();
    story s;
    run_story(f, &s);
    count_agrees(f, &s.r1);
    count_agrees(f, &s.r2);
    count_agrees(f, &s.r3);
    count_agrees(f, &s.r4);
    fx_free(f);
}
END_TEST

/* The rule case by case, on records made by hand. */
START_TEST(count_rule_cases) {
    static uint8_t rid[32] = {7}, other[32] = {8}, ids[3][32] = {{1}, {2}, {3}};
    esg_pb_bytes list[3] = {esg_pb_bin(ids[0], 32), esg_pb_bin(ids[1], 32),
                            esg_pb_bin(ids[2], 32)};
    esg_pb_report r = ESG_PB_REPORT_INIT;
    r.id = esg_pb_bin(rid, 32);
    r.attestations = list;
    r.n_attestations = 3;
    esg_pb_attestation a[3] = {ESG_PB_ATTESTATION_INIT, ESG_PB_ATTESTATION_INIT,
                               ESG_PB_ATTESTATION_INIT};
    esg_pb_attestation *p[3] = {&a[0], &a[1], &a[2]};
    for (int i = 0; i < 3; i++) {
        a[i].id = list[i];
        a[i].report_id = r.id;
    }
    bool counts;
    int64_t v;
    /* Confirmed 900, qualified 850, confirmed 950: counts, smallest 850. */
    a[0].opinion = ESG_OPINION_CONFIRMED;
    a[0].verified_value = 900;
    a[1].opinion = ESG_OPINION_QUALIFIED;
    a[1].verified_value = 850;
    a[2].opinion = ESG_OPINION_CONFIRMED;
    a[2].verified_value = 950;
    ck_assert_int_eq(esg_report_count(&r, p, 3, &counts, &v), 0);
    ck_assert(counts && v == 850);
    /* The smallest revoked: the next smallest live one. */
    a[1].revoked = true;
    ck_assert_int_eq(esg_report_count(&r, p, 3, &counts, &v), 0);
    ck_assert(counts && v == 900);
    /* A live rejection blocks it; revoked, it no longer does. */
    a[1].revoked = false;
    a[1].opinion = ESG_OPINION_REJECTED;
    ck_assert_int_eq(esg_report_count(&r, p, 3, &counts, &v), 0);
    ck_assert(!counts && v == 0);
    ck_assert(!esg_report_attestation_supports(&a[1]));
    a[1].revoked = true;
    ck_assert_int_eq(esg_report_count(&r, p, 3, &counts, &v), 0);
    ck_assert(counts && v == 900);
    /* Every supporting attestation revoked: nothing counts. */
    a[0].revoked = a[2].revoked = true;
    ck_assert_int_eq(esg_report_count(&r, p, 3, &counts, &v), 0);
    ck_assert(!counts);
    /* Superseded: never counts. */
    a[0].revoked = a[2].revoked = false;
    r.superseded_by = esg_pb_bin(other, 32);
    ck_assert_int_eq(esg_report_count(&r, p, 3, &counts, &v), 0);
    ck_assert(!counts && v == 0);
    r.superseded_by = esg_pb_bin(NULL, 0);
    /* No attestation: does not count. */
    r.n_attestations = 0;
    ck_assert_int_eq(esg_report_count(&r, NULL, 0, &counts, &v), 0);
    ck_assert(!counts);
    r.n_attestations = 3;
    /* Records that do not belong together. */
    esg_pb_attestation *swapped[3] = {&a[1], &a[0], &a[2]};
    ck_assert_int_eq(esg_report_count(&r, swapped, 3, &counts, &v), ESG_ERR_INVALID_ARGUMENT);
    a[2].report_id = esg_pb_bin(other, 32);
    ck_assert_int_eq(esg_report_count(&r, p, 3, &counts, &v), ESG_ERR_INVALID_ARGUMENT);
}
END_TEST

Suite *suite_reports(void) {
    Suite *s = suite_create("reports");
    TCase *tc = tcase_create("reports");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, allocation_figures);
    tcase_add_test(tc, impact_figures);
    tcase_add_test(tc, reports_by_id_prefix);
    tcase_add_test(tc, instrument_and_member_figures);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, replayed_state_gives_the_same_documents);
    tcase_add_test(tc, count_rule_agrees_with_the_contract);
    tcase_add_test(tc, count_rule_cases);
    tcase_add_test(tc, list_holders_and_payments_figures);
    tcase_add_test(tc, holders_and_payments_errors);
    tcase_add_test(tc, replayed_state_gives_the_same_list_holders_and_payments);
    suite_add_tcase(s, tc);
    return s;
}
