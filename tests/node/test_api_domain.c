/* The HTTP API's domain routes (node/api_routes_domain.c): instruments,
 * holders, payments, allocations, impact and attributed impact.
 *
 * A real chain (tests/contracts/fixture.h: LMDB in a temporary directory,
 * the real executor and contracts) lives through a joint sustainability-
 * linked bond: three cities issue it, two investors subscribe, the lead
 * closes, the cities allocate proceeds and report impact, a verifier
 * attests (and revokes and attests again), a holder disputes, the paying
 * agent records two coupons (the second carries the step-up of a missed
 * KPI target) and a holder transfers units. The API runs on 127.0.0.1 with
 * a kernel-chosen port and is read with libcurl. Every figure is checked
 * against a value worked out here by hand (the arithmetic is in the
 * comments), never against what the code under test computes.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contracts/fixture.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "node/api.h"
#include "node/mempool.h"

#define CA "city-a"
#define CB "city-b"
#define CC "city-c"
#define INVX "inv-x"
#define INVY "inv-y"
#define VER "verifier-v"
#define AGENT "agent-p"

#define SLB "SLB-2024-01"
#define GB "GB-2024-02"

static fx *F;
static esg_mempool *MP;
static esg_api *API;

static void setup(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    F = fx_new();
    fx_add_member(F, CA, ESG_MEMBER_CITY, "City A");
    fx_add_member(F, CB, ESG_MEMBER_CITY, "City B");
    fx_add_member(F, CC, ESG_MEMBER_CITY, "City C");
    fx_add_member(F, INVX, ESG_MEMBER_INVESTOR, "Fund X");
    fx_add_member(F, INVY, ESG_MEMBER_INVESTOR, "Fund Y");
    fx_add_member(F, VER, ESG_MEMBER_VERIFIER, "Verifier V");
    fx_add_member(F, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent P");
    ck_assert_int_eq(esg_genesis_add_accreditation(F->g, VER, "climate,energy"), 0);
    fx_start(F);
    esg_mempool_limits lim = {100, 1 << 20};
    ck_assert_int_eq(esg_mempool_new(&MP, F->store, F->ct, &lim, NULL, NULL), 0);
    esg_api_deps deps = {.store = F->store, .mempool = MP, .threads = 2,
                         .wait_timeout_ms = 300};
    char err[256] = "";
    int rc = esg_api_start(&API, &deps, "127.0.0.1:0", err, sizeof err);
    ck_assert_msg(rc == 0, "esg_api_start: %s", err);
}

static void teardown(void) {
    esg_api_stop(API);
    API = NULL;
    esg_mempool_free(MP);
    MP = NULL;
    fx_free(F);
    F = NULL;
    curl_global_cleanup();
}

/* ---------------------------------------------------------- HTTP client */

typedef struct resp {
    char *body;
    size_t len;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *arg) {
    resp *r = arg;
    char *q = realloc(r->body, r->len + sz * n + 1);
    ck_assert_ptr_nonnull(q);
    memcpy(q + r->len, p, sz * n);
    r->body = q;
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

/* Sends `method` `path` and returns the JSON document (caller decrefs)
 * and the HTTP status. */
static json_t *req(long *status, const char *method, const char *path) {
    resp r = {NULL, 0};
    CURL *h = curl_easy_init();
    ck_assert_ptr_nonnull(h);
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)esg_api_port(API), path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    CURLcode cc = curl_easy_perform(h);
    ck_assert_msg(cc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(cc));
    char *ctype = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
    ck_assert_msg(ctype && strncmp(ctype, "application/json", 16) == 0,
                  "%s: Content-Type '%s'", path, ctype ? ctype : "(none)");
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    json_error_t je;
    json_t *doc = json_loadb(r.body ? r.body : "", r.len, 0, &je);
    ck_assert_msg(doc != NULL, "%s: not JSON: %s", path, je.text);
    free(r.body);
    return doc;
}

/* GET `path`, which must answer 200. */
static json_t *get_ok(const char *path) {
    long status;
    json_t *doc = req(&status, "GET", path);
    if (status != 200) {
        char *s = json_dumps(doc, 0);
        ck_abort_msg("GET %s: %ld %s", path, status, s ? s : "");
    }
    return doc;
}

/* GET `path`, which must fail with `want_status` and `code`, the message
 * containing `needle` (when not NULL). */
static void get_error(const char *path, long want_status, const char *code,
                      const char *needle) {
    long status;
    json_t *doc = req(&status, "GET", path);
    json_t *e = json_object_get(doc, "error");
    const char *got = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    ck_assert_msg(got && strcmp(got, code) == 0, "GET %s: want %s, got %s (%s)", path, code,
                  got ? got : "(none)", msg ? msg : "");
    ck_assert_msg(status == want_status, "GET %s: status %ld, want %ld", path, status,
                  want_status);
    ck_assert_ptr_nonnull(msg);
    if (needle)
        ck_assert_msg(strstr(msg, needle) != NULL, "GET %s: message '%s' lacks '%s'", path,
                      msg, needle);
    json_decref(doc);
}

static json_t *jget(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    ck_assert_msg(v != NULL, "no key '%s'", key);
    return v;
}

static json_t *jat(json_t *arr, size_t i) {
    ck_assert_msg(json_is_array(arr), "not an array");
    json_t *v = json_array_get(arr, i);
    ck_assert_msg(v != NULL, "no element %zu (size %zu)", i, json_array_size(arr));
    return v;
}

/* Asserts o[key] is the string `want`. */
static void str_is(json_t *o, const char *key, const char *want) {
    const char *s = json_string_value(jget(o, key));
    ck_assert_msg(s != NULL, "'%s' is not a string", key);
    ck_assert_msg(strcmp(s, want) == 0, "'%s' is '%s', want '%s'", key, s, want);
}

/* Asserts o[key] is the number `want`. */
static void num_is(json_t *o, const char *key, long long want) {
    json_t *v = jget(o, key);
    ck_assert_msg(json_is_integer(v), "'%s' is not a number", key);
    ck_assert_msg(json_integer_value(v) == want, "'%s' is %lld, want %lld", key,
                  (long long)json_integer_value(v), want);
}

static void bool_is(json_t *o, const char *key, bool want) {
    json_t *v = jget(o, key);
    ck_assert_msg(json_is_boolean(v), "'%s' is not a boolean", key);
    ck_assert_msg(json_is_true(v) == want, "'%s' is %s", key, want ? "false" : "true");
}

static void null_is(json_t *o, const char *key) {
    ck_assert_msg(json_is_null(jget(o, key)), "'%s' is not null", key);
}

static void hex_is(json_t *o, const char *key, const void *bytes) {
    char hex[65];
    esg_hex_encode(hex, bytes, 32);
    str_is(o, key, hex);
}

static void size_is(json_t *arr, size_t n) {
    ck_assert_msg(json_is_array(arr), "not an array");
    ck_assert_msg(json_array_size(arr) == n, "array of %zu, want %zu", json_array_size(arr), n);
}

/* --------------------------------------------------------- transactions */

#define OK(call)                                                                       \
    do {                                                                               \
        int rc_ = (call);                                                              \
        ck_assert_msg(rc_ == 0, "line %d: %s: %s", __LINE__, esg_err_name(rc_), F->msg); \
    } while (0)

static int submit(esg_pb_tx_body *b, const char *who) {
    return fx_submit(F, b, fx_admin(F, who));
}

/* The joint SLB: cities a, b, c at 3334/3333/3333 bps; face 100003 (an
 * odd face value so that splits leave remainders), 10 units, 4.5 % a
 * year paid every 6 months from 2024-01-01 to 2027-01-01; projects P-A,
 * P-B, P-C (one per city); two KPI targets. */
static int issue_slb(void) {
    esg_pb_co_issuer co[3] = {ESG_PB_CO_ISSUER_INIT, ESG_PB_CO_ISSUER_INIT,
                              ESG_PB_CO_ISSUER_INIT};
    co[0].member = CA;
    co[0].share_bps = 3334;
    co[1].member = CB;
    co[1].share_bps = 3333;
    co[2].member = CC;
    co[2].share_bps = 3333;
    esg_pb_co_issuer *cos[] = {&co[0], &co[1], &co[2]};
    esg_pb_project p[3] = {ESG_PB_PROJECT_INIT, ESG_PB_PROJECT_INIT, ESG_PB_PROJECT_INIT};
    static uint32_t sdgs[2] = {7, 13};
    p[0].id = "P-A";
    p[0].city = CA;
    p[0].name = "Solar roofs";
    p[0].eu_objective = ESG_EU_OBJECTIVE_CCM;
    p[0].sdgs = sdgs;
    p[0].n_sdgs = 2;
    p[0].budget = 150000;
    p[1].id = "P-B";
    p[1].city = CB;
    p[1].name = "Wind farm";
    p[1].eu_objective = ESG_EU_OBJECTIVE_CCM;
    p[1].budget = 300000;
    p[2].id = "P-C";
    p[2].city = CC;
    p[2].name = "Tram line";
    p[2].eu_objective = ESG_EU_OBJECTIVE_PPC;
    p[2].budget = 100000;
    esg_pb_project *projs[] = {&p[0], &p[1], &p[2]};
    esg_pb_kpi_target t[2] = {ESG_PB_KPI_TARGET_INIT, ESG_PB_KPI_TARGET_INIT};
    t[0].kpi = "ghg_avoided_tco2e";
    t[0].baseline = 0;
    t[0].target = 1000000; /* 1000.000 tCO2e */
    t[0].observation_date = "2024-12-31";
    t[0].step_up_bps = 25;
    t[1].kpi = "renewable_generation_mwh";
    t[1].baseline = 100500; /* 100.500 MWh */
    t[1].target = 500000;
    t[1].observation_date = "2025-06-30";
    t[1].step_up_bps = 15;
    esg_pb_kpi_target *tps[] = {&t[0], &t[1]};
    static const uint8_t fw[32] = {0xf1}, rev[32] = {0xe2};
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
    s.framework_sha256 = esg_pb_bin(fw, 32);
    s.external_review_sha256 = esg_pb_bin(rev, 32);
    esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
    ii.spec = &s;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    b.issue_instrument = &ii;
    return fx_submit(F, &b, fx_admin(F, CA), fx_admin(F, CB), fx_admin(F, CC));
}

/* A plain green bond of cities a (6000) and b (4000): face 1000, 5 units,
 * 3 % a year, one annual coupon, 2024-01-01 to 2025-01-01. */
static int issue_gb(void) {
    esg_pb_co_issuer co[2] = {ESG_PB_CO_ISSUER_INIT, ESG_PB_CO_ISSUER_INIT};
    co[0].member = CA;
    co[0].share_bps = 6000;
    co[1].member = CB;
    co[1].share_bps = 4000;
    esg_pb_co_issuer *cos[] = {&co[0], &co[1]};
    esg_pb_project p = ESG_PB_PROJECT_INIT;
    p.id = "P-A";
    p.city = CA;
    p.name = "Heat pumps";
    p.eu_objective = ESG_EU_OBJECTIVE_CCM;
    p.budget = 5000;
    /* The bond's proceeds are the project's whole financing once P-A's
     * city allocates its part (3000): attribution is by share financed. */
    p.total_cost = 3000;
    esg_pb_project *projs[] = {&p};
    esg_pb_instrument_spec s = ESG_PB_INSTRUMENT_SPEC_INIT;
    s.id = GB;
    s.kind = ESG_INSTRUMENT_GREEN_BOND;
    s.name = "Joint Green Bond 2024";
    s.currency = "EUR";
    s.face_value = 1000;
    s.units = 5;
    s.coupon_bps = 300;
    s.coupon_frequency_months = 12;
    s.issue_date = "2024-01-01";
    s.maturity_date = "2025-01-01";
    s.co_issuers = cos;
    s.n_co_issuers = 2;
    s.paying_agent = AGENT;
    s.projects = projs;
    s.n_projects = 1;
    esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
    ii.spec = &s;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    b.issue_instrument = &ii;
    return fx_submit(F, &b, fx_admin(F, CA), fx_admin(F, CB));
}

static int subscribe(const char *who, const char *id, uint64_t units) {
    esg_pb_subscribe s = ESG_PB_SUBSCRIBE_INIT;
    s.instrument = (char *)id;
    s.units = units;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_SUBSCRIBE;
    b.subscribe = &s;
    return submit(&b, who);
}

static int close_offering(const char *id) {
    esg_pb_close_offering c = ESG_PB_CLOSE_OFFERING_INIT;
    c.instrument = (char *)id;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_CLOSE_OFFERING;
    b.close_offering = &c;
    return submit(&b, CA);
}

static int transfer(const char *from, const char *id, const char *to, uint64_t units) {
    esg_pb_transfer t = ESG_PB_TRANSFER_INIT;
    t.instrument = (char *)id;
    t.to_member = (char *)to;
    t.units = units;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_TRANSFER;
    b.transfer = &t;
    return submit(&b, from);
}

static int allocate(const char *city, const char *id, const char *project, uint64_t amount,
                    const char *date, const uint8_t *evidence) {
    esg_pb_allocate_proceeds a = ESG_PB_ALLOCATE_PROCEEDS_INIT;
    a.instrument = (char *)id;
    a.project_id = (char *)project;
    a.amount = amount;
    a.date = (char *)date;
    a.evidence_sha256 = esg_pb_bin(evidence, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
    b.allocate_proceeds = &a;
    return submit(&b, city);
}

static int report(const char *city, const char *id, const char *project, const char *kpi,
                  int64_t value, const char *start, const char *end, const uint8_t *evidence,
                  const esg_hash *supersedes, const char *reason) {
    esg_pb_report_impact r = ESG_PB_REPORT_IMPACT_INIT;
    r.instrument = (char *)id;
    r.project_id = (char *)project;
    r.kpi = (char *)kpi;
    r.value = value;
    r.period_start = (char *)start;
    r.period_end = (char *)end;
    r.methodology = "GHG Protocol, metered";
    r.evidence_sha256 = esg_pb_bin(evidence, 32);
    r.evidence_uri = "https://example.org/evidence.pdf";
    if (supersedes) {
        r.supersedes = esg_pb_bin(supersedes->b, 32);
        r.reason = (char *)reason;
    }
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REPORT_IMPACT;
    b.report_impact = &r;
    return submit(&b, city);
}

static int attest(const esg_hash *report_id, int opinion, int64_t value,
                  const uint8_t *statement) {
    esg_pb_attest_impact a = ESG_PB_ATTEST_IMPACT_INIT;
    a.report_id = esg_pb_bin(report_id->b, 32);
    a.opinion = opinion;
    a.verified_value = value;
    a.statement_sha256 = esg_pb_bin(statement, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ATTEST_IMPACT;
    b.attest_impact = &a;
    return submit(&b, VER);
}

static int revoke_attestation(const esg_hash *attestation, const char *reason) {
    esg_pb_revoke_attestation r = ESG_PB_REVOKE_ATTESTATION_INIT;
    r.attestation_id = esg_pb_bin(attestation->b, 32);
    r.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVOKE_ATTESTATION;
    b.revoke_attestation = &r;
    return submit(&b, VER);
}

static int dispute(const char *who, const esg_hash *report_id, const char *reason) {
    esg_pb_dispute_impact d = ESG_PB_DISPUTE_IMPACT_INIT;
    d.report_id = esg_pb_bin(report_id->b, 32);
    d.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_DISPUTE_IMPACT;
    b.dispute_impact = &d;
    return submit(&b, who);
}

static int pay(const char *id, int kind, const char *due) {
    esg_pb_record_payment rp = ESG_PB_RECORD_PAYMENT_INIT;
    rp.instrument = (char *)id;
    rp.kind = kind;
    rp.due_date = (char *)due;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_RECORD_PAYMENT;
    b.record_payment = &rp;
    return submit(&b, AGENT);
}

/* ------------------------------------------------------ the SLB's story */

/* What the story leaves behind, for the checks. */
typedef struct story {
    esg_hash issue_tx;
    uint64_t issued_height, closed_height;
    esg_hash alloc[3];
    uint64_t alloc_height[3];
    esg_hash r1, r2, r3, r4;   /* reports */
    uint64_t r_height[4];
    esg_hash a1, a2, a3, a3b; /* attestations: of r1, r2, r3 (revoked), r3 again */
    uint64_t a3_height, a3_revoked_height;
    esg_hash d1; /* inv-x's dispute of r2 */
    uint64_t d1_height;
    esg_hash pay_tx[2];
    uint64_t pay_height[2], pay_time[2];
} story;

static const uint8_t EV1[32] = {1, 1, 1}, EV2[32] = {2, 2, 2}, EV3[32] = {3, 3, 3},
                     EV4[32] = {4, 4, 4}, ST[32] = {0x5a, 0x5a};

static void run_story(story *s) {
    OK(issue_slb());
    s->issue_tx = F->last_id;
    s->issued_height = fx_height(F);
    OK(subscribe(INVX, SLB, 4));
    OK(subscribe(INVY, SLB, 3));
    OK(close_offering(SLB));
    s->closed_height = fx_height(F);

    /* Proceeds: city-a twice to P-A (160000, over its 150000 budget),
     * city-b its whole part to P-B; city-c nothing yet. */
    OK(allocate(CA, SLB, "P-A", 100000, "2025-02-01", EV1));
    s->alloc[0] = F->last_id;
    s->alloc_height[0] = fx_height(F);
    OK(allocate(CA, SLB, "P-A", 60000, "2025-03-01", EV2));
    s->alloc[1] = F->last_id;
    s->alloc_height[1] = fx_height(F);
    OK(allocate(CB, SLB, "P-B", 233316, "2025-03-15", EV3));
    s->alloc[2] = F->last_id;
    s->alloc_height[2] = fx_height(F);

    /* Impact. r1 (800.000 tCO2e for 2024) is confirmed, then restated by
     * r2 (820.000), which is confirmed at 810.250 and disputed. r3 (600
     * MWh, to 2025-06-30) is qualified at 560, revoked, qualified again
     * at 550. r4 is never attested. */
    OK(report(CA, SLB, "P-A", "ghg_avoided_tco2e", 800000, "2024-01-01", "2024-12-31", EV1,
              NULL, NULL));
    s->r1 = F->last_id;
    s->r_height[0] = fx_height(F);
    OK(attest(&s->r1, ESG_OPINION_CONFIRMED, 800000, ST));
    s->a1 = F->last_id;
    OK(report(CA, SLB, "P-A", "ghg_avoided_tco2e", 820000, "2024-01-01", "2024-12-31", EV2,
              &s->r1, "restated after the audit"));
    s->r2 = F->last_id;
    s->r_height[1] = fx_height(F);
    OK(attest(&s->r2, ESG_OPINION_CONFIRMED, 810250, ST));
    s->a2 = F->last_id;
    OK(report(CB, SLB, "P-B", "renewable_generation_mwh", 600000, "2024-07-01", "2025-06-30",
              EV3, NULL, NULL));
    s->r3 = F->last_id;
    s->r_height[2] = fx_height(F);
    OK(attest(&s->r3, ESG_OPINION_QUALIFIED, 560000, ST));
    s->a3 = F->last_id;
    s->a3_height = fx_height(F);
    OK(revoke_attestation(&s->a3, "meter data incomplete"));
    s->a3_revoked_height = fx_height(F);
    OK(attest(&s->r3, ESG_OPINION_QUALIFIED, 550000, ST));
    s->a3b = F->last_id;
    OK(report(CC, SLB, "P-C", "ghg_avoided_tco2e", 50000, "2025-01-01", "2025-12-31", EV4, NULL,
              NULL));
    s->r4 = F->last_id;
    s->r_height[3] = fx_height(F);
    OK(dispute(INVX, &s->r2, "baseline too generous"));
    s->d1 = F->last_id;
    s->d1_height = fx_height(F);

    /* Two coupons (the block time, 2026-01-01, is past both), then inv-x
     * sells one unit to inv-y. */
    OK(pay(SLB, ESG_PAYMENT_COUPON, "2024-07-01"));
    s->pay_tx[0] = F->last_id;
    s->pay_height[0] = fx_height(F);
    s->pay_time[0] = F->time_ms;
    OK(pay(SLB, ESG_PAYMENT_COUPON, "2025-01-01"));
    s->pay_tx[1] = F->last_id;
    s->pay_height[1] = fx_height(F);
    s->pay_time[1] = F->time_ms;
    OK(transfer(INVX, SLB, INVY, 1));
}

START_TEST(instrument_list_and_detail) {
    story s;
    run_story(&s);

    json_t *doc = get_ok("/v1/instruments");
    json_t *list = jget(doc, "instruments");
    size_is(list, 1);
    json_t *i = jat(list, 0);
    str_is(i, "id", SLB);
    str_is(i, "kind", "SUSTAINABILITY_LINKED_BOND");
    str_is(i, "name", "Joint Sustainability-Linked Bond 2024");
    str_is(i, "currency", "EUR");
    str_is(i, "status", "ACTIVE");
    str_is(i, "face_value", "100003");
    str_is(i, "units", "10");
    str_is(i, "units_sold", "7");        /* 4 + 3 */
    str_is(i, "units_outstanding", "7"); /* the transfer moves, never mints */
    str_is(i, "amount_raised", "700021"); /* 7 x 100003 */
    num_is(i, "coupon_bps", 450);
    str_is(i, "issue_date", "2024-01-01");
    str_is(i, "maturity_date", "2027-01-01");
    size_is(jget(i, "co_issuers"), 3);
    str_is(jat(jget(i, "co_issuers"), 0), "member", CA);
    num_is(jat(jget(i, "co_issuers"), 0), "share_bps", 3334);
    str_is(jat(jget(i, "co_issuers"), 2), "member", CC);
    num_is(jat(jget(i, "co_issuers"), 2), "share_bps", 3333);
    str_is(i, "paying_agent", AGENT);
    json_decref(doc);

    doc = get_ok("/v1/instruments/" SLB);
    str_is(doc, "id", SLB);
    str_is(doc, "kind", "SUSTAINABILITY_LINKED_BOND");
    str_is(doc, "status", "ACTIVE");
    str_is(doc, "face_value", "100003");
    num_is(doc, "coupon_frequency_months", 6);
    str_is(doc, "units_sold", "7");
    str_is(doc, "units_outstanding", "7");
    str_is(doc, "amount_raised", "700021");
    hex_is(doc, "issue_tx", s.issue_tx.b);
    num_is(doc, "issued_height", (long long)s.issued_height);
    num_is(doc, "closed_height", (long long)s.closed_height);
    num_is(doc, "matured_height", 0);
    num_is(doc, "coupons_recorded", 2);
    uint8_t fw[32] = {0xf1};
    hex_is(doc, "framework_sha256", fw);
    json_t *p = jget(doc, "projects");
    size_is(p, 3);
    str_is(jat(p, 0), "id", "P-A");
    str_is(jat(p, 0), "eu_objective", "CCM");
    str_is(jat(p, 0), "budget", "150000");
    size_is(jget(jat(p, 0), "sdgs"), 2);
    str_is(jat(p, 2), "eu_objective", "PPC");
    json_t *t = jget(doc, "kpi_targets");
    size_is(t, 2);
    str_is(jat(t, 0), "kpi", "ghg_avoided_tco2e");
    str_is(jat(t, 0), "target", "1000.000");
    str_is(jat(t, 0), "baseline", "0.000");
    str_is(jat(t, 0), "observation_date", "2024-12-31");
    num_is(jat(t, 0), "step_up_bps", 25);
    str_is(jat(t, 1), "baseline", "100.500");

    /* Schedule: every 6 months from 2024-01-01 to 2027-01-01; the first
     * two are paid (seq 1, 2). */
    static const char *const dates[6] = {"2024-07-01", "2025-01-01", "2025-07-01",
                                         "2026-01-01", "2026-07-01", "2027-01-01"};
    json_t *sch = jget(doc, "schedule");
    size_is(sch, 6);
    for (size_t k = 0; k < 6; k++) {
        str_is(jat(sch, k), "date", dates[k]);
        bool_is(jat(sch, k), "paid", k < 2);
        if (k < 2)
            num_is(jat(sch, k), "payment_seq", (long long)k + 1);
        else
            null_is(jat(sch, k), "payment_seq");
    }
    str_is(doc, "next_coupon_date", "2025-07-01");

    /* Step-ups from the state now. ghg: reports ending in (2023-12-31,
     * 2024-12-31] that count: r2 only (r1 superseded; r4 ends in 2025)
     * = 810.250 < 1000.000: missed. renewable: (2024-06-30, 2025-06-30]:
     * r3 = 550.000 >= 500.000: met. The next coupon (2025-07-01) is after
     * both observation dates: 25 bps in force. */
    json_t *su = jget(doc, "step_ups");
    size_is(su, 2);
    str_is(jat(su, 0), "kpi", "ghg_avoided_tco2e");
    str_is(jat(su, 0), "direction", "HIGHER");
    str_is(jat(su, 0), "target", "1000.000");
    str_is(jat(su, 0), "observed", "810.250");
    num_is(jat(su, 0), "reports_counted", 1);
    bool_is(jat(su, 0), "missed", true);
    num_is(jat(su, 0), "step_up_bps", 25);
    str_is(jat(su, 0), "applies_to_coupons_after", "2024-12-31");
    str_is(jat(su, 1), "kpi", "renewable_generation_mwh");
    str_is(jat(su, 1), "observed", "550.000");
    num_is(jat(su, 1), "reports_counted", 1);
    bool_is(jat(su, 1), "missed", false);
    num_is(jat(su, 1), "step_up_bps", 15);
    num_is(doc, "step_up_bps_in_force_next_coupon", 25);
    json_decref(doc);
}
END_TEST

START_TEST(holders_and_payments) {
    story s;
    run_story(&s);

    /* After the transfer: x 3, y 4 of 7; floor(3 x 10000 / 7) = 4285,
     * floor(4 x 10000 / 7) = 5714. */
    json_t *doc = get_ok("/v1/instruments/" SLB "/holders");
    str_is(doc, "instrument", SLB);
    str_is(doc, "units_outstanding", "7");
    json_t *h = jget(doc, "holders");
    size_is(h, 2);
    str_is(jat(h, 0), "member", INVX);
    str_is(jat(h, 0), "units", "3");
    num_is(jat(h, 0), "share_of_outstanding_bps", 4285);
    str_is(jat(h, 1), "member", INVY);
    str_is(jat(h, 1), "units", "4");
    num_is(jat(h, 1), "share_of_outstanding_bps", 5714);
    json_decref(doc);

    doc = get_ok("/v1/instruments/" SLB "/payments");
    str_is(doc, "instrument", SLB);
    json_t *ps = jget(doc, "payments");
    size_is(ps, 2);
    /* Coupon 1, due 2024-07-01, before any observation date: no step-up.
     * per unit = floor(100003 x 450 x 6 / 120000) = floor(2250.0675) =
     * 2250; x held 4 then: 9000, y 3: 6750, total 15750; split
     * floor(15750 x 3334 / 10000) = 5251, floor(15750 x 3333 / 10000) =
     * 5249 twice, sum 15749, remainder 1 to the lead: 5252. */
    json_t *c1 = jat(ps, 0);
    str_is(c1, "kind", "COUPON");
    str_is(c1, "due_date", "2024-07-01");
    num_is(c1, "seq", 1);
    num_is(c1, "height", (long long)s.pay_height[0]);
    num_is(c1, "time_ms", (long long)s.pay_time[0]);
    /* The fixture's blocks are one second apart from 2026-01-01T00:00:00Z. */
    uint64_t secs = (s.pay_time[0] - FX_GENESIS_TIME_MS) / 1000;
    ck_assert_uint_lt(secs, 60);
    char when[32];
    snprintf(when, sizeof when, "2026-01-01T00:00:%02uZ", (unsigned)secs);
    str_is(c1, "time", when);
    num_is(c1, "coupon_bps", 450);
    num_is(c1, "step_up_bps", 0);
    num_is(c1, "months", 6);
    str_is(c1, "per_unit", "2250");
    str_is(c1, "total", "15750");
    json_t *hl = jget(c1, "holders");
    size_is(hl, 2);
    str_is(jat(hl, 0), "member", INVX);
    str_is(jat(hl, 0), "units", "4");
    str_is(jat(hl, 0), "amount", "9000");
    str_is(jat(hl, 1), "member", INVY);
    str_is(jat(hl, 1), "units", "3");
    str_is(jat(hl, 1), "amount", "6750");
    json_t *cl = jget(c1, "co_issuers");
    size_is(cl, 3);
    str_is(jat(cl, 0), "member", CA);
    num_is(jat(cl, 0), "share_bps", 3334);
    str_is(jat(cl, 0), "amount", "5252");
    str_is(jat(cl, 1), "amount", "5249");
    str_is(jat(cl, 2), "member", CC);
    str_is(jat(cl, 2), "amount", "5249");
    hex_is(c1, "tx_id", s.pay_tx[0].b);
    /* Coupon 2, due 2025-01-01, after the ghg observation (missed): 25
     * bps more. per unit = floor(100003 x 475 x 6 / 120000) =
     * floor(2375.07) = 2375; x 4: 9500, y 3: 7125, total 16625; split
     * floor(16625 x 0.3334) = 5542, floor(16625 x 0.3333) = 5541 twice,
     * remainder 1: lead 5543. The holdings are those at that block (the
     * later transfer changes nothing recorded). */
    json_t *c2 = jat(ps, 1);
    str_is(c2, "due_date", "2025-01-01");
    num_is(c2, "seq", 2);
    num_is(c2, "coupon_bps", 450);
    num_is(c2, "step_up_bps", 25);
    str_is(c2, "per_unit", "2375");
    str_is(c2, "total", "16625");
    str_is(jat(jget(c2, "holders"), 0), "units", "4");
    str_is(jat(jget(c2, "holders"), 0), "amount", "9500");
    str_is(jat(jget(c2, "holders"), 1), "amount", "7125");
    str_is(jat(jget(c2, "co_issuers"), 0), "amount", "5543");
    str_is(jat(jget(c2, "co_issuers"), 1), "amount", "5541");
    str_is(jat(jget(c2, "co_issuers"), 2), "amount", "5541");
    hex_is(c2, "tx_id", s.pay_tx[1].b);
    json_decref(doc);
}
END_TEST

START_TEST(allocations) {
    story s;
    run_story(&s);
    json_t *doc = get_ok("/v1/instruments/" SLB "/allocations");
    /* Parts of 700021: floor(x 3334 / 10000) = 233387, floor(x 3333 /
     * 10000) = 233316 twice; sum 700019, remainder 2 to the lead:
     * 233389. Allocated: a 100000 + 60000 = 160000, b 233316, c 0; total
     * 393316, unallocated 306705. */
    str_is(doc, "amount_raised", "700021");
    str_is(doc, "allocated_total", "393316");
    str_is(doc, "unallocated", "306705");
    json_t *pc = jget(doc, "per_city");
    size_is(pc, 3);
    str_is(jat(pc, 0), "city", CA);
    num_is(jat(pc, 0), "share_bps", 3334);
    str_is(jat(pc, 0), "part_of_raised", "233389");
    str_is(jat(pc, 0), "allocated", "160000");
    str_is(jat(pc, 0), "remaining", "73389");
    str_is(jat(pc, 1), "city", CB);
    str_is(jat(pc, 1), "part_of_raised", "233316");
    str_is(jat(pc, 1), "allocated", "233316");
    str_is(jat(pc, 1), "remaining", "0");
    str_is(jat(pc, 2), "city", CC);
    str_is(jat(pc, 2), "allocated", "0");
    str_is(jat(pc, 2), "remaining", "233316");
    /* Per project: share of proceeds floor(160000 x 10000 / 700021) =
     * 2285, floor(233316 x 10000 / 700021) = 3332; P-A is over its
     * 150000 budget. */
    json_t *pp = jget(doc, "per_project");
    size_is(pp, 3);
    str_is(jat(pp, 0), "project_id", "P-A");
    str_is(jat(pp, 0), "city", CA);
    str_is(jat(pp, 0), "name", "Solar roofs");
    str_is(jat(pp, 0), "eu_objective", "CCM");
    str_is(jat(pp, 0), "budget", "150000");
    str_is(jat(pp, 0), "allocated", "160000");
    num_is(jat(pp, 0), "share_of_proceeds_bps", 2285);
    bool_is(jat(pp, 0), "over_budget", true);
    str_is(jat(pp, 1), "project_id", "P-B");
    str_is(jat(pp, 1), "allocated", "233316");
    num_is(jat(pp, 1), "share_of_proceeds_bps", 3332);
    bool_is(jat(pp, 1), "over_budget", false);
    str_is(jat(pp, 2), "project_id", "P-C");
    str_is(jat(pp, 2), "eu_objective", "PPC");
    str_is(jat(pp, 2), "allocated", "0");
    num_is(jat(pp, 2), "share_of_proceeds_bps", 0);
    bool_is(jat(pp, 2), "over_budget", false);
    /* Each allocation, in the order made. */
    json_t *al = jget(doc, "allocations");
    size_is(al, 3);
    static const char *const amounts[3] = {"100000", "60000", "233316"};
    static const char *const dates[3] = {"2025-02-01", "2025-03-01", "2025-03-15"};
    const uint8_t *ev[3] = {EV1, EV2, EV3};
    for (size_t k = 0; k < 3; k++) {
        json_t *a = jat(al, k);
        hex_is(a, "id", s.alloc[k].b);
        str_is(a, "project_id", k < 2 ? "P-A" : "P-B");
        str_is(a, "city", k < 2 ? CA : CB);
        str_is(a, "amount", amounts[k]);
        str_is(a, "date", dates[k]);
        hex_is(a, "evidence_sha256", ev[k]);
        num_is(a, "height", (long long)s.alloc_height[k]);
    }
    json_decref(doc);
}
END_TEST

START_TEST(impact_reports) {
    story s;
    run_story(&s);
    json_t *doc = get_ok("/v1/instruments/" SLB "/impact");
    str_is(doc, "instrument", SLB);
    json_t *rs = jget(doc, "reports");
    size_is(rs, 4);
    /* r1: superseded by r2, so it no longer counts, but its history
     * (the confirmation) stays. */
    json_t *r1 = jat(rs, 0);
    hex_is(r1, "id", s.r1.b);
    str_is(r1, "project_id", "P-A");
    str_is(r1, "city", CA);
    str_is(r1, "kpi", "ghg_avoided_tco2e");
    str_is(r1, "unit", "tCO2e");
    str_is(r1, "category", "climate");
    str_is(r1, "value", "800.000");
    str_is(r1, "period_start", "2024-01-01");
    str_is(r1, "period_end", "2024-12-31");
    str_is(r1, "methodology", "GHG Protocol, metered");
    hex_is(r1, "evidence_sha256", EV1);
    str_is(r1, "evidence_uri", "https://example.org/evidence.pdf");
    num_is(r1, "height", (long long)s.r_height[0]);
    hex_is(r1, "superseded_by", s.r2.b);
    null_is(r1, "supersedes");
    bool_is(r1, "counted", false);
    null_is(r1, "counted_value");
    size_is(jget(r1, "attestations"), 1);
    json_t *a1 = jat(jget(r1, "attestations"), 0);
    hex_is(a1, "id", s.a1.b);
    str_is(a1, "verifier", VER);
    str_is(a1, "opinion", "CONFIRMED");
    str_is(a1, "verified_value", "800.000");
    hex_is(a1, "statement_sha256", ST);
    bool_is(a1, "revoked", false);
    size_is(jget(r1, "disputes"), 0);
    /* r2: confirmed at 810.250, counted at that value; disputed. */
    json_t *r2 = jat(rs, 1);
    hex_is(r2, "id", s.r2.b);
    str_is(r2, "value", "820.000");
    hex_is(r2, "supersedes", s.r1.b);
    str_is(r2, "reason", "restated after the audit");
    null_is(r2, "superseded_by");
    bool_is(r2, "counted", true);
    str_is(r2, "counted_value", "810.250");
    hex_is(jat(jget(r2, "attestations"), 0), "id", s.a2.b);
    size_is(jget(r2, "disputes"), 1);
    json_t *d = jat(jget(r2, "disputes"), 0);
    hex_is(d, "id", s.d1.b);
    str_is(d, "member", INVX);
    str_is(d, "reason", "baseline too generous");
    num_is(d, "height", (long long)s.d1_height);
    /* r3: the revoked attestation stays in the history; the live one
     * (550.000) is what counts. */
    json_t *r3 = jat(rs, 2);
    hex_is(r3, "id", s.r3.b);
    str_is(r3, "unit", "MWh");
    str_is(r3, "category", "energy");
    bool_is(r3, "counted", true);
    str_is(r3, "counted_value", "550.000");
    json_t *atts = jget(r3, "attestations");
    size_is(atts, 2);
    hex_is(jat(atts, 0), "id", s.a3.b);
    str_is(jat(atts, 0), "opinion", "QUALIFIED");
    str_is(jat(atts, 0), "verified_value", "560.000");
    num_is(jat(atts, 0), "height", (long long)s.a3_height);
    bool_is(jat(atts, 0), "revoked", true);
    str_is(jat(atts, 0), "revoke_reason", "meter data incomplete");
    num_is(jat(atts, 0), "revoked_height", (long long)s.a3_revoked_height);
    hex_is(jat(atts, 1), "id", s.a3b.b);
    str_is(jat(atts, 1), "verified_value", "550.000");
    bool_is(jat(atts, 1), "revoked", false);
    num_is(jat(atts, 1), "revoked_height", 0);
    /* r4: never attested. */
    json_t *r4 = jat(rs, 3);
    hex_is(r4, "id", s.r4.b);
    str_is(r4, "city", CC);
    bool_is(r4, "counted", false);
    null_is(r4, "counted_value");
    size_is(jget(r4, "attestations"), 0);
    /* Confirmed totals, by KPI id: ghg 810.250 (r2; r1 superseded, r4
     * unattested), renewable 550.000 (r3). */
    json_t *ct = jget(doc, "confirmed_totals");
    size_is(ct, 2);
    str_is(jat(ct, 0), "kpi", "ghg_avoided_tco2e");
    str_is(jat(ct, 0), "unit", "tCO2e");
    str_is(jat(ct, 0), "total", "810.250");
    num_is(jat(ct, 0), "reports_counted", 1);
    str_is(jat(ct, 1), "kpi", "renewable_generation_mwh");
    str_is(jat(ct, 1), "total", "550.000");
    num_is(jat(ct, 1), "reports_counted", 1);
    json_decref(doc);
}
END_TEST

START_TEST(member_impact) {
    story s;
    run_story(&s);
    /* inv-x holds 3 of 7: floor(810250 x 3 / 7) = 347250 -> 347.250
     * (P-A is financed in full by the bond); P-B's 550.000 is attributed
     * to the bond by its share financed, floor(550000 x 233316 / 300000)
     * = 427746, and to inv-x floor(427746 x 3 / 7) = 183319 -> 183.319. */
    json_t *doc = get_ok("/v1/members/" INVX "/impact");
    str_is(doc, "member", INVX);
    json_t *ins = jget(doc, "instruments");
    size_is(ins, 1);
    json_t *i = jat(ins, 0);
    str_is(i, "instrument", SLB);
    str_is(i, "units", "3");
    str_is(i, "units_outstanding", "7");
    json_t *k = jget(i, "kpis");
    size_is(k, 2);
    str_is(jat(k, 0), "kpi", "ghg_avoided_tco2e");
    str_is(jat(k, 0), "unit", "tCO2e");
    str_is(jat(k, 0), "confirmed_total", "810.250");
    str_is(jat(k, 0), "attributed", "347.250");
    str_is(jat(k, 1), "kpi", "renewable_generation_mwh");
    str_is(jat(k, 1), "confirmed_total", "550.000");
    str_is(jat(k, 1), "attributed_to_instrument", "427.746");
    str_is(jat(k, 1), "attributed", "183.319");
    json_decref(doc);
    /* inv-y, 4 of 7: 3241000 / 7 = 463000; 427746 x 4 / 7 = 244426.2. */
    doc = get_ok("/v1/members/" INVY "/impact");
    k = jget(jat(jget(doc, "instruments"), 0), "kpis");
    str_is(jat(jget(doc, "instruments"), 0), "units", "4");
    str_is(jat(k, 0), "attributed", "463.000");
    str_is(jat(k, 1), "attributed", "244.426");
    json_decref(doc);
    /* A city holds nothing: no instruments. */
    doc = get_ok("/v1/members/" CA "/impact");
    size_is(jget(doc, "instruments"), 0);
    json_decref(doc);
}
END_TEST

/* A green bond through to maturity: the payments keep every figure, the
 * holders are gone, and attribution uses the holdings at the last coupon. */
START_TEST(matured_instrument) {
    OK(issue_gb());
    OK(subscribe(INVX, GB, 2));
    OK(subscribe(INVY, GB, 3));
    OK(close_offering(GB));
    OK(allocate(CA, GB, "P-A", 3000, "2024-12-01", EV1));
    OK(report(CA, GB, "P-A", "ghg_avoided_tco2e", 10000, "2024-01-01", "2024-12-31", EV1, NULL,
              NULL));
    esg_hash r = F->last_id;
    OK(attest(&r, ESG_OPINION_CONFIRMED, 9999, ST));
    OK(pay(GB, ESG_PAYMENT_COUPON, "2025-01-01"));
    OK(pay(GB, ESG_PAYMENT_REDEMPTION, "2025-01-01"));
    uint64_t matured = fx_height(F);

    json_t *doc = get_ok("/v1/instruments/" GB);
    str_is(doc, "status", "MATURED");
    str_is(doc, "kind", "GREEN_BOND");
    str_is(doc, "units_outstanding", "0");
    num_is(doc, "matured_height", (long long)matured);
    size_is(jget(doc, "kpi_targets"), 0);
    size_is(jget(doc, "step_ups"), 0);
    json_t *sch = jget(doc, "schedule");
    size_is(sch, 1);
    str_is(jat(sch, 0), "date", "2025-01-01");
    bool_is(jat(sch, 0), "paid", true);
    null_is(doc, "next_coupon_date");
    null_is(doc, "step_up_bps_in_force_next_coupon");
    json_decref(doc);

    doc = get_ok("/v1/instruments/" GB "/holders");
    str_is(doc, "units_outstanding", "0");
    size_is(jget(doc, "holders"), 0);
    json_decref(doc);

    /* Coupon: floor(1000 x 300 x 12 / 120000) = 30 per unit; x 2: 60,
     * y 3: 90; total 150 split 90 / 60. Redemption: 1000 per unit; 2000,
     * 3000; total 5000 split 3000 / 2000. */
    doc = get_ok("/v1/instruments/" GB "/payments");
    json_t *ps = jget(doc, "payments");
    size_is(ps, 2);
    str_is(jat(ps, 0), "kind", "COUPON");
    str_is(jat(ps, 0), "per_unit", "30");
    str_is(jat(ps, 0), "total", "150");
    str_is(jat(jget(jat(ps, 0), "co_issuers"), 0), "amount", "90");
    str_is(jat(jget(jat(ps, 0), "co_issuers"), 1), "amount", "60");
    json_t *red = jat(ps, 1);
    str_is(red, "kind", "REDEMPTION");
    str_is(red, "due_date", "2025-01-01");
    num_is(red, "seq", 1);
    num_is(red, "coupon_bps", 0);
    num_is(red, "months", 0);
    str_is(red, "per_unit", "1000");
    str_is(red, "total", "5000");
    str_is(jat(jget(red, "holders"), 0), "member", INVX);
    str_is(jat(jget(red, "holders"), 0), "amount", "2000");
    str_is(jat(jget(red, "holders"), 1), "amount", "3000");
    str_is(jat(jget(red, "co_issuers"), 0), "amount", "3000");
    str_is(jat(jget(red, "co_issuers"), 1), "amount", "2000");
    json_decref(doc);

    /* Attribution by the holdings at the last coupon: x 2 of 5:
     * floor(9999 x 2 / 5) = 3999 -> 3.999; y 3 of 5: floor(5999.4) ->
     * 5.999. */
    doc = get_ok("/v1/members/" INVX "/impact");
    json_t *i = jat(jget(doc, "instruments"), 0);
    str_is(i, "instrument", GB);
    str_is(i, "status", "MATURED");
    str_is(i, "units", "2");
    str_is(i, "units_outstanding", "5");
    str_is(jat(jget(i, "kpis"), 0), "confirmed_total", "9.999");
    str_is(jat(jget(i, "kpis"), 0), "attributed", "3.999");
    json_decref(doc);
    doc = get_ok("/v1/members/" INVY "/impact");
    str_is(jat(jget(jat(jget(doc, "instruments"), 0), "kpis"), 0), "attributed", "5.999");
    json_decref(doc);

    /* Proceeds of a matured instrument are still reported. */
    doc = get_ok("/v1/instruments/" GB "/allocations");
    str_is(doc, "amount_raised", "5000");
    str_is(jat(jget(doc, "per_city"), 0), "part_of_raised", "3000");
    str_is(jat(jget(doc, "per_city"), 1), "part_of_raised", "2000");
    size_is(jget(doc, "allocations"), 1);
    json_decref(doc);
}
END_TEST

/* During the offering: nothing is raised or outstanding yet. */
START_TEST(offering_instrument) {
    json_t *doc = get_ok("/v1/instruments");
    size_is(jget(doc, "instruments"), 0);
    json_decref(doc);
    OK(issue_gb());
    OK(subscribe(INVX, GB, 2));
    doc = get_ok("/v1/instruments/" GB);
    str_is(doc, "status", "OFFERING");
    str_is(doc, "units_sold", "2");
    str_is(doc, "units_outstanding", "0");
    str_is(doc, "amount_raised", "0");
    num_is(doc, "closed_height", 0);
    bool_is(jat(jget(doc, "schedule"), 0), "paid", false);
    str_is(doc, "next_coupon_date", "2025-01-01");
    num_is(doc, "step_up_bps_in_force_next_coupon", 0);
    json_decref(doc);
    doc = get_ok("/v1/instruments/" GB "/allocations");
    str_is(jat(jget(doc, "per_city"), 0), "part_of_raised", "0");
    json_decref(doc);
    doc = get_ok("/v1/instruments/" GB "/impact");
    size_is(jget(doc, "reports"), 0);
    size_is(jget(doc, "confirmed_totals"), 0);
    json_decref(doc);
    doc = get_ok("/v1/instruments/" GB "/payments");
    size_is(jget(doc, "payments"), 0);
    json_decref(doc);
    /* Subscribed but not yet outstanding: nothing attributed. */
    doc = get_ok("/v1/members/" INVX "/impact");
    size_is(jget(doc, "instruments"), 0);
    json_decref(doc);
}
END_TEST

START_TEST(error_paths) {
    OK(issue_gb());
    static const char *const tails[] = {"", "/holders", "/payments", "/allocations",
                                        "/impact"};
    char path[256], long_id[42];
    memset(long_id, 'A', 41); /* one character over the limit */
    long_id[41] = '\0';
    for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
        snprintf(path, sizeof path, "/v1/instruments/GB-NOPE%s", tails[k]);
        get_error(path, 404, "ERR_UNKNOWN_INSTRUMENT", "GB-NOPE");
        snprintf(path, sizeof path, "/v1/instruments/gb-2024-02%s", tails[k]);
        get_error(path, 400, "ERR_BAD_INSTRUMENT_ID", "gb-2024-02");
        snprintf(path, sizeof path, "/v1/instruments/AB%s", tails[k]);
        get_error(path, 400, "ERR_BAD_INSTRUMENT_ID", NULL);
        snprintf(path, sizeof path, "/v1/instruments/%s%s", long_id, tails[k]);
        get_error(path, 400, "ERR_BAD_INSTRUMENT_ID", NULL);
    }
    get_error("/v1/instruments/GB%20X", 400, "ERR_BAD_INSTRUMENT_ID", NULL);
    get_error("/v1/members/nobody/impact", 404, "ERR_UNKNOWN_MEMBER", "nobody");
    get_error("/v1/members/Bad_Id/impact", 400, "ERR_BAD_MEMBER_ID", "Bad_Id");
    get_error("/v1/instruments/" GB "/nothing", 404, "ERR_NOT_FOUND", NULL);
    long status;
    json_t *doc = req(&status, "POST", "/v1/instruments");
    ck_assert_int_eq(status, 405);
    json_decref(doc);
    /* The API still serves after the errors. */
    doc = get_ok("/v1/instruments/" GB);
    str_is(doc, "id", GB);
    json_decref(doc);
}
END_TEST

Suite *suite_api_domain(void) {
    Suite *s = suite_create("api_domain");
    TCase *tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, instrument_list_and_detail);
    tcase_add_test(tc, holders_and_payments);
    tcase_add_test(tc, allocations);
    tcase_add_test(tc, impact_reports);
    tcase_add_test(tc, member_impact);
    tcase_add_test(tc, matured_instrument);
    tcase_add_test(tc, offering_instrument);
    tcase_add_test(tc, error_paths);
    suite_add_tcase(s, tc);
    return s;
}
