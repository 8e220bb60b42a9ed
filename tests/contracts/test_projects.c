/* Projects (contracts/projects.h) through the real executor on a real
 * store: every rule of RegisterProject, UpdateProject, RecordFunding and
 * ReverseFunding with its code, its message and the state a rejection did
 * not change; the cost basis D(p) and its cut-off day; attribution by
 * share financed as a property over random funding mixes; and a blended
 * scenario -- one project, two bonds and an EU grant -- whose figures are
 * worked out by hand in the comments. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bond_fixture.h"
#include "contracts/impact.h"
#include "contracts/instrument.h"
#include "contracts/proceeds.h"
#include "contracts/projects.h"
#include "ledger/error.h"

#define V1 "ver-1"
#define V2 "ver-2"
#define GHG "ghg_avoided_tco2e"
#define TODAY "2026-03-01" /* the block's date in this suite */

static const uint8_t NOPE[32] = {1, 2, 3};

/* ------------------------------------------------------- tx builders */

/* A RegisterProject, from defaults the tests change field by field. */
typedef struct reg {
    const char *id, *city, *name, *taxonomy, *nace, *currency, *location;
    esg_pb_eu_objective objectives[8];
    size_t n_objectives;
    uint32_t sdgs[20];
    size_t n_sdgs;
    uint64_t total_cost;
} reg;

static reg reg_of(const char *id, uint64_t total_cost) {
    reg r = {id, CA, "Rooftop solar on schools", "4.1", "D35.11", "EUR", "Heraklion",
             {ESG_EU_OBJECTIVE_CCM}, 1, {7, 11}, 2, total_cost};
    return r;
}

static int register_raw(fx *f, const fx_key *k, const reg *r) {
    esg_pb_register_project rp = ESG_PB_REGISTER_PROJECT_INIT;
    rp.id = (char *)r->id;
    rp.city = (char *)r->city;
    rp.name = (char *)r->name;
    rp.eu_objectives = (esg_pb_eu_objective *)r->objectives;
    rp.n_eu_objectives = r->n_objectives;
    rp.taxonomy_activity = (char *)r->taxonomy;
    rp.nace = (char *)r->nace;
    rp.sdgs = (uint32_t *)r->sdgs;
    rp.n_sdgs = r->n_sdgs;
    rp.total_cost = r->total_cost;
    rp.currency = (char *)r->currency;
    rp.location = (char *)r->location;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REGISTER_PROJECT;
    b.register_project = &rp;
    return fx_submit(f, &b, k);
}

static int update_raw(fx *f, const fx_key *k, const char *id, uint64_t cost,
                      const char *reason) {
    esg_pb_update_project up = ESG_PB_UPDATE_PROJECT_INIT;
    up.id = (char *)id;
    up.total_cost = cost;
    up.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_UPDATE_PROJECT;
    b.update_project = &up;
    return fx_submit(f, &b, k);
}

/* A RecordFunding, from defaults the tests change field by field. */
typedef struct fund {
    const char *project, *programme, *date;
    int source;
    uint64_t amount;
    const void *hash;
    size_t hlen;
} fund;

static fund fund_of(const char *project, uint64_t amount) {
    fund x = {project, "ERDF 2021-2027", "2026-02-01", ESG_FUNDING_SOURCE_EU, amount, bf_h32,
              32};
    return x;
}

static int fund_raw(fx *f, const fx_key *k, const fund *x) {
    esg_pb_record_funding rf = ESG_PB_RECORD_FUNDING_INIT;
    rf.project = (char *)x->project;
    rf.source = x->source;
    rf.programme = (char *)x->programme;
    rf.amount = x->amount;
    rf.date = (char *)x->date;
    rf.evidence_sha256 = esg_pb_bin(x->hash, x->hlen);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_RECORD_FUNDING;
    b.record_funding = &rf;
    return fx_submit(f, &b, k);
}

static int unfund_raw(fx *f, const fx_key *k, const void *id, size_t idlen,
                      const char *reason) {
    esg_pb_reverse_funding rv = ESG_PB_REVERSE_FUNDING_INIT;
    rv.funding_id = esg_pb_bin(id, idlen);
    rv.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVERSE_FUNDING;
    b.reverse_funding = &rv;
    return fx_submit(f, &b, k);
}

/* An impact report of `project` (no instrument) by its city; its id. */
static esg_hash report_ok(fx *f, const char *city, const char *project, int64_t value,
                          const char *start, const char *end) {
    esg_pb_report_impact ri = ESG_PB_REPORT_IMPACT_INIT;
    ri.project_id = (char *)project;
    ri.kpi = GHG;
    ri.value = value;
    ri.period_start = (char *)start;
    ri.period_end = (char *)end;
    ri.methodology = "GHG Protocol for Cities";
    ri.evidence_sha256 = esg_pb_bin(bf_h32, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REPORT_IMPACT;
    b.report_impact = &ri;
    OK(f, fx_submit(f, &b, fx_admin(f, city)));
    return f->last_id;
}

static void attest_ok(fx *f, const char *verifier, const esg_hash *report, int opinion,
                      int64_t value) {
    esg_pb_attest_impact ai = ESG_PB_ATTEST_IMPACT_INIT;
    ai.report_id = esg_pb_bin(report->b, 32);
    ai.opinion = opinion;
    ai.verified_value = value;
    ai.statement_sha256 = esg_pb_bin(bf_h32, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ATTEST_IMPACT;
    b.attest_impact = &ai;
    OK(f, fx_submit(f, &b, fx_admin(f, verifier)));
}

/* `id`: city-a alone, face 1, `units` units all sold to inv-1 and the
 * offering closed, financing registered project `project` (a reference,
 * budget 1). */
static void issue_ref(fx *f, const char *id, const char *project, uint64_t units) {
    static const uint64_t budgets[4] = {1, 1, 1, 1};
    bf_abc b;
    bf_abc_init(&b, id, true, 1, units, "2028-01-15", budgets);
    b.s.n_projects = 1;
    bf_project_ref(&b.pr[0], project, 1);
    OK(f, bf_abc_issue(f, &b));
    OK(f, bf_subscribe(f, fx_admin(f, INV1), id, units));
    OK(f, bf_close_offering(f, fx_admin(f, CA), id));
}

/* ------------------------------------------------------------ readers */

static esg_pb_project_record *project(fx *f, const char *id) {
    return fx_get(f, ESG_T_PROJECTS, id, strlen(id), ESG_PB_PROJECT_RECORD_DESC);
}

static esg_pb_funding *funding(fx *f, const esg_hash *id) {
    return fx_get(f, ESG_T_FUNDINGS, id->b, 32, ESG_PB_FUNDING_DESC);
}

/* esg_project_financing_get of `id` up to `until` (NULL: all) into *out,
 * asserted to succeed. The instrument names point into the record, which
 * *rec holds until the caller frees it. */
static void financing(fx *f, const char *id, const char *until, esg_project_financing *out,
                      esg_pb_project_record **rec) {
    bf_view v = bf_view_open(f);
    ck_assert_int_eq(esg_project_get(v.st, id, rec), 0);
    int rc = esg_project_financing_get(v.st, *rec, until ? bf_day(until) : INT32_MAX, out);
    bf_view_close(&v);
    ck_assert_msg(rc == 0, "financing of '%s': %s", id, esg_err_name(rc));
}

/* esg_impact_instrument_attributed over (after, until] (NULL: open). */
static int64_t attributed_in(fx *f, const char *instrument, const char *after,
                             const char *until) {
    bf_view v = bf_view_open(f);
    int64_t value = 42;
    int rc = esg_impact_instrument_attributed(v.st, instrument, GHG,
                                              after ? bf_day(after) : INT32_MIN,
                                              until ? bf_day(until) : INT32_MAX, &value);
    bf_view_close(&v);
    ck_assert_msg(rc == 0, "attributed: %s", esg_err_name(rc));
    return value;
}

/* esg_impact_attributed of `member` in `instrument`, all periods. */
static int64_t investor_attributed(fx *f, const char *instrument, const char *member) {
    bf_view v = bf_view_open(f);
    int64_t value = 42;
    int rc = esg_impact_attributed(v.st, instrument, GHG, member, &value, NULL, NULL);
    bf_view_close(&v);
    ck_assert_msg(rc == 0, "attributed: %s", esg_err_name(rc));
    return value;
}

/* ------------------------------------------------------------- setup */

/* The three cities, inv-1 and inv-2, verifiers ver-1 and ver-2 (climate),
 * a paying agent; the block's date is TODAY. */
static fx *cast(void) {
    fx *f = bf_abc_new();
    fx_add_member(f, V1, ESG_MEMBER_VERIFIER, "Verifier 1");
    fx_add_member(f, V2, ESG_MEMBER_VERIFIER, "Verifier 2");
    fx_add_member(f, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent X");
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, V1, "climate"), 0);
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, V2, "climate"), 0);
    fx_start(f);
    bf_time_to(f, TODAY);
    return f;
}

/* ------------------------------------------------------ RegisterProject */

START_TEST(test_register) {
    fx *f = cast();
    reg r = reg_of("PV-1", 125000000);
    /* Stored sorted: objectives BIO, CCM, CCA -> CCM, CCA, BIO; SDGs. */
    r.objectives[0] = ESG_EU_OBJECTIVE_BIO;
    r.objectives[1] = ESG_EU_OBJECTIVE_CCM;
    r.objectives[2] = ESG_EU_OBJECTIVE_CCA;
    r.n_objectives = 3;
    r.sdgs[0] = 13;
    r.sdgs[1] = 7;
    r.sdgs[2] = 11;
    r.n_sdgs = 3;
    uint64_t h = fx_height(f) + 1;
    OK(f, register_raw(f, fx_admin(f, CA), &r));
    esg_hash tx = f->last_id;
    esg_pb_project_record *p = project(f, "PV-1");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->id, "PV-1");
    ck_assert_str_eq(p->city, CA);
    ck_assert_str_eq(p->name, "Rooftop solar on schools");
    ck_assert_uint_eq(p->n_eu_objectives, 3);
    ck_assert_int_eq(p->eu_objectives[0], ESG_EU_OBJECTIVE_CCM);
    ck_assert_int_eq(p->eu_objectives[1], ESG_EU_OBJECTIVE_CCA);
    ck_assert_int_eq(p->eu_objectives[2], ESG_EU_OBJECTIVE_BIO);
    ck_assert_str_eq(p->taxonomy_activity, "4.1");
    ck_assert_str_eq(p->nace, "D35.11");
    ck_assert_uint_eq(p->n_sdgs, 3);
    ck_assert_uint_eq(p->sdgs[0], 7);
    ck_assert_uint_eq(p->sdgs[1], 11);
    ck_assert_uint_eq(p->sdgs[2], 13);
    ck_assert_uint_eq(p->total_cost, 125000000);
    ck_assert_str_eq(p->currency, "EUR");
    ck_assert_str_eq(p->location, "Heraklion");
    ck_assert_uint_eq(p->register_tx.len, 32);
    ck_assert_mem_eq(p->register_tx.data, tx.b, 32);
    ck_assert_uint_eq(p->registered_height, h);
    ck_assert_uint_eq(p->n_cost_history, 0);
    ck_assert_uint_eq(p->n_instruments, 0);
    esg_pb_free(p);

    /* The optional fields may be empty; at the limits: 6 objectives, 17
     * SDGs, a 200-character name and location (characters, not bytes),
     * another currency. */
    reg m = reg_of("PV-2", 1);
    m.taxonomy = m.nace = m.location = "";
    m.n_sdgs = 0;
    OK(f, register_raw(f, fx_admin(f, CA), &m));
    char name[401];
    for (int i = 0; i < 200; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[400] = '\0';
    char id40[41];
    memset(id40, '9', 40);
    memcpy(id40, "PV-", 3);
    id40[40] = '\0';
    reg x = reg_of(id40, 1);
    x.city = CB;
    x.name = name;
    x.location = name;
    x.currency = "JPY";
    for (int i = 0; i < 6; i++)
        x.objectives[i] = (esg_pb_eu_objective)(ESG_EU_OBJECTIVE_BIO - i);
    x.n_objectives = 6;
    for (uint32_t i = 0; i < 17; i++)
        x.sdgs[i] = 17 - i;
    x.n_sdgs = 17;
    OK(f, register_raw(f, fx_admin(f, CB), &x));
    p = project(f, x.id);
    ck_assert_str_eq(p->city, CB);
    ck_assert_str_eq(p->currency, "JPY");
    ck_assert_uint_eq(p->n_eu_objectives, 6);
    ck_assert_int_eq(p->eu_objectives[0], ESG_EU_OBJECTIVE_CCM);
    ck_assert_uint_eq(p->sdgs[0], 1);
    ck_assert_uint_eq(p->sdgs[16], 17);
    esg_pb_free(p);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* One rejected RegisterProject of `r` by `k`: `code`, `needle` in the
 * message. */
static void reg_rejects(fx *f, const fx_key *k, const reg *r, int code, const char *needle) {
    REJECTS(f, k, code, register_raw(f, k, r));
    bf_assert_msg_has(f, needle);
}

START_TEST(test_register_rejections) {
    fx *f = cast();
    const fx_key *ka = fx_admin(f, CA), *kb = fx_admin(f, CB), *ki = fx_admin(f, INV1);
    reg ok = reg_of("PV-1", 1000);

    /* Who: an OFFICER of a CITY, for itself. */
    fx_key adm = fx_key_new();
    OK(f, bf_add_account(f, ka, &adm.pk, ESG_ROLE_ADMIN));
    reg_rejects(f, &adm, &ok, ESG_ERR_UNAUTHORIZED, "lacks role OFFICER");
    reg_rejects(f, kb, &ok, ESG_ERR_NOT_PROJECT_CITY,
                "an officer of 'city-b' cannot register a project of 'city-a'");
    reg x = ok;
    x.city = INV1; /* an investor for itself: not a city */
    reg_rejects(f, ki, &x, ESG_ERR_UNAUTHORIZED, "member 'inv-1' is an INVESTOR, not a CITY");

    /* The id: [A-Z0-9-]{3,40}, global. */
    char id41[42];
    memset(id41, 'P', 41);
    id41[41] = '\0';
    const char *bad_ids[] = {"pv-1", "PV", "", "PV_1", "PV 1", id41};
    for (size_t i = 0; i < 6; i++) {
        x = ok;
        x.id = bad_ids[i];
        REJECTS(f, ka, ESG_ERR_BAD_PROJECT_ID, register_raw(f, ka, &x));
    }
    bf_assert_msg_has(f, "must match [A-Z0-9-]{3,40}");
    x = ok;
    x.id = "pv-1";
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT_ID, "project id 'pv-1'");
    /* The id is checked before the city. */
    reg_rejects(f, kb, &x, ESG_ERR_BAD_PROJECT_ID, "'pv-1'");

    /* The fields (esg_project_check), each with its message. */
    char n201[202];
    memset(n201, 'n', 201);
    n201[201] = '\0';
    x = ok;
    x.name = "";
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "name of project 'PV-1' must be 1..200");
    x.name = n201;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "name of project 'PV-1'");
    x.name = "bell\a";
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "no control character");
    x = ok;
    x.n_objectives = 0;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "project 'PV-1' names 0 EU objectives, "
                                                "need 1 to 6");
    for (int i = 0; i < 7; i++)
        x.objectives[i] = (esg_pb_eu_objective)(1 + i % 6);
    x.n_objectives = 7;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "names 7 EU objectives");
    x = ok;
    x.objectives[0] = (esg_pb_eu_objective)7;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "EU objective 7 is not CCM, CCA, WTR, CE, PPC "
                                                "or BIO");
    x.objectives[0] = ESG_EU_OBJECTIVE_UNSPECIFIED;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "EU objective 0 is not");
    x.objectives[0] = ESG_EU_OBJECTIVE_CCA;
    x.objectives[1] = ESG_EU_OBJECTIVE_CCA;
    x.n_objectives = 2;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "EU objective 2 is listed twice");
    const char *bad_tax[] = {"7", "7.", ".2", "7.2.1", "123.1", "7,2"};
    for (size_t i = 0; i < 6; i++) {
        x = ok;
        x.taxonomy = bad_tax[i];
        REJECTS(f, ka, ESG_ERR_BAD_PROJECT, register_raw(f, ka, &x));
    }
    bf_assert_msg_has(f, "taxonomy activity '7,2' is not an EU Taxonomy activity number");
    const char *bad_nace[] = {"f41.2", "V", "F4", "F41.", "F41.234", "41.2"};
    for (size_t i = 0; i < 6; i++) {
        x = ok;
        x.nace = bad_nace[i];
        REJECTS(f, ka, ESG_ERR_BAD_PROJECT, register_raw(f, ka, &x));
    }
    bf_assert_msg_has(f, "NACE code '41.2' is not a section letter");
    x = ok;
    for (uint32_t i = 0; i < 18; i++)
        x.sdgs[i] = 1 + i % 17;
    x.n_sdgs = 18;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "project 'PV-1' lists 18 SDGs, at most 17");
    x = ok;
    x.sdgs[1] = 0;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "SDG 0 is not 1..17");
    x.sdgs[1] = 18;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "SDG 18 is not 1..17");
    x.sdgs[1] = 7;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "SDG 7 is listed twice");
    x = ok;
    x.total_cost = 0;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "total cost of project 'PV-1' must be positive");
    x = ok;
    x.location = n201;
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "location of project 'PV-1' must be up to 200");
    x.location = "Heraklion\n";
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "location of project 'PV-1'");
    /* The currency, last. */
    const char *bad_cur[] = {"eur", "EU", "EURO", "", "E1R"};
    for (size_t i = 0; i < 5; i++) {
        x = ok;
        x.currency = bad_cur[i];
        REJECTS(f, ka, ESG_ERR_BAD_CURRENCY, register_raw(f, ka, &x));
    }
    x.currency = "eur";
    reg_rejects(f, ka, &x, ESG_ERR_BAD_CURRENCY, "currency 'eur' is not three upper-case "
                                                 "letters");
    x.total_cost = 0; /* the fields come first */
    reg_rejects(f, ka, &x, ESG_ERR_BAD_PROJECT, "total cost");
    ck_assert_ptr_null(project(f, "PV-1"));

    /* Ids are global: taken by this city, by another, or by an issuance. */
    OK(f, register_raw(f, ka, &ok));
    reg_rejects(f, ka, &ok, ESG_ERR_PROJECT_EXISTS,
                "project 'PV-1' is already registered by 'city-a'");
    x = ok;
    x.city = CB;
    reg_rejects(f, kb, &x, ESG_ERR_PROJECT_EXISTS, "already registered by 'city-a'");
    x.name = ""; /* the id is checked before the fields */
    reg_rejects(f, kb, &x, ESG_ERR_PROJECT_EXISTS, "'PV-1'");
    static const uint64_t budgets[4] = {700, 700, 700, 700};
    OK(f, bf_issue_abc(f, "GB-1", false, 1, 10, "2028-01-15", budgets));
    x = ok;
    x.id = "PB-1";
    x.city = CB;
    reg_rejects(f, kb, &x, ESG_ERR_PROJECT_EXISTS, "project 'PB-1' is already registered by "
                                                   "'city-b'");
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_update) {
    fx *f = cast();
    const fx_key *ka = fx_admin(f, CA), *kb = fx_admin(f, CB);
    reg r = reg_of("PV-1", 1000);
    OK(f, register_raw(f, ka, &r));

    /* Who, which. */
    fx_key adm = fx_key_new();
    OK(f, bf_add_account(f, ka, &adm.pk, ESG_ROLE_ADMIN));
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED, update_raw(f, &adm, "PV-1", 2000, "tender"));
    bf_assert_msg_has(f, "lacks role OFFICER");
    REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT, update_raw(f, ka, "PV-9", 2000, "tender"));
    bf_assert_msg_has(f, "no project 'PV-9' is registered");
    REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT, update_raw(f, ka, "pv-1", 2000, "tender"));
    REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT, update_raw(f, ka, "", 2000, "tender"));
    REJECTS(f, kb, ESG_ERR_NOT_PROJECT_CITY, update_raw(f, kb, "PV-1", 2000, "tender"));
    bf_assert_msg_has(f, "project 'PV-1' belongs to 'city-a', not 'city-b'");
    REJECTS(f, fx_admin(f, INV1), ESG_ERR_NOT_PROJECT_CITY,
            update_raw(f, fx_admin(f, INV1), "PV-1", 2000, "tender"));
    /* What, why. */
    REJECTS(f, ka, ESG_ERR_BAD_AMOUNT, update_raw(f, ka, "PV-1", 0, "tender"));
    bf_assert_msg_has(f, "total cost must be positive");
    REJECTS(f, ka, ESG_ERR_MISSING_REASON, update_raw(f, ka, "PV-1", 2000, ""));
    bf_assert_msg_has(f, "changing a project's cost needs a reason");
    char reason[502];
    memset(reason, 'r', 501);
    reason[501] = '\0';
    REJECTS(f, ka, ESG_ERR_BAD_TEXT, update_raw(f, ka, "PV-1", 2000, reason));
    bf_assert_msg_has(f, "up to 500 characters");
    REJECTS(f, ka, ESG_ERR_BAD_TEXT, update_raw(f, ka, "PV-1", 2000, "tab\there"));
    reason[500] = '\0';

    /* Two changes: the cost is replaced, each kept in the history. */
    uint64_t h1 = fx_height(f) + 1;
    OK(f, update_raw(f, ka, "PV-1", 2500, "tender came in higher"));
    esg_hash t1 = f->last_id;
    OK(f, update_raw(f, ka, "PV-1", 1800, reason));
    esg_hash t2 = f->last_id;
    esg_pb_project_record *p = project(f, "PV-1");
    ck_assert_uint_eq(p->total_cost, 1800);
    ck_assert_uint_eq(p->n_cost_history, 2);
    const esg_pb_cost_change *c = p->cost_history[0];
    ck_assert_uint_eq(c->previous, 1000);
    ck_assert_uint_eq(c->total_cost, 2500);
    ck_assert_str_eq(c->reason, "tender came in higher");
    ck_assert_uint_eq(c->tx_id.len, 32);
    ck_assert_mem_eq(c->tx_id.data, t1.b, 32);
    ck_assert_uint_eq(c->height, h1);
    c = p->cost_history[1];
    ck_assert_uint_eq(c->previous, 2500);
    ck_assert_uint_eq(c->total_cost, 1800);
    ck_assert_str_eq(c->reason, reason);
    ck_assert_mem_eq(c->tx_id.data, t2.b, 32);
    ck_assert_uint_eq(c->height, h1 + 1);
    ck_assert_str_eq(p->name, "Rooftop solar on schools"); /* nothing else changes */
    esg_pb_free(p);

    /* A project an issuance registered inline is updated the same way. */
    static const uint64_t budgets[4] = {700, 700, 700, 700};
    OK(f, bf_issue_abc(f, "GB-1", true, 1, 10, "2028-01-15", budgets));
    OK(f, update_raw(f, ka, "PA-1", 900, "scope widened"));
    p = project(f, "PA-1");
    ck_assert_uint_eq(p->total_cost, 900);
    ck_assert_uint_eq(p->cost_history[0]->previous, 700);
    esg_pb_free(p);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* -------------------------------------------------------- RecordFunding */

START_TEST(test_fund) {
    fx *f = cast();
    const fx_key *ka = fx_admin(f, CA);
    reg pv = reg_of("PV-1", 1000);
    OK(f, register_raw(f, ka, &pv));
    fund x = fund_of("PV-1", 400);
    x.date = TODAY; /* the block's date itself is fine */
    x.source = ESG_FUNDING_SOURCE_REGIONAL;
    x.programme = "Crete Regional Programme";
    uint64_t h = fx_height(f) + 1;
    OK(f, fund_raw(f, ka, &x));
    esg_hash id = f->last_id;
    esg_pb_funding *r = funding(f, &id);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->id.len, 32);
    ck_assert_mem_eq(r->id.data, id.b, 32);
    ck_assert_str_eq(r->project, "PV-1");
    ck_assert_str_eq(r->city, CA);
    ck_assert_int_eq(r->source, ESG_FUNDING_SOURCE_REGIONAL);
    ck_assert_str_eq(r->programme, "Crete Regional Programme");
    ck_assert_uint_eq(r->amount, 400);
    ck_assert_str_eq(r->date, TODAY);
    ck_assert_mem_eq(r->evidence_sha256.data, bf_h32, 32);
    ck_assert_uint_eq(r->height, h);
    ck_assert(!r->reversed);
    esg_pb_free(r);
    uint8_t key[64];
    memcpy(key, "PV-1", 5); /* with its 0 */
    memcpy(key + 5, id.b, 32);
    ck_assert(fx_has(f, ESG_T_PROJECT_FUNDINGS, key, 37));
    /* Every level of government, and private money. */
    for (int s = ESG_FUNDING_SOURCE_EU; s <= ESG_FUNDING_SOURCE_OTHER; s++) {
        fund y = fund_of("PV-1", 10);
        y.source = s;
        OK(f, fund_raw(f, ka, &y));
    }
    esg_project_financing fin;
    esg_pb_project_record *p;
    financing(f, "PV-1", NULL, &fin, &p);
    ck_assert_uint_eq(fin.external, 460);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_REGIONAL], 410);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_EU], 10);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_OTHER], 10);
    ck_assert_uint_eq(fin.by_source[0], 0);
    ck_assert_uint_eq(fin.basis, 1000); /* 460 < the cost */
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_fund_rejections) {
    fx *f = cast();
    const fx_key *ka = fx_admin(f, CA), *kb = fx_admin(f, CB);
    reg r = reg_of("PV-1", 1000);
    OK(f, register_raw(f, ka, &r));
    fund ok = fund_of("PV-1", 400);

    /* Who. */
    fx_key adm = fx_key_new();
    OK(f, bf_add_account(f, ka, &adm.pk, ESG_ROLE_ADMIN));
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED, fund_raw(f, &adm, &ok));
    bf_assert_msg_has(f, "lacks role OFFICER");
    REJECTS(f, kb, ESG_ERR_NOT_PROJECT_CITY, fund_raw(f, kb, &ok));
    bf_assert_msg_has(f, "project 'PV-1' belongs to 'city-a', not 'city-b'");
    /* Which project. */
    const char *bad_proj[] = {"PV-9", "", "pv-1"};
    for (size_t i = 0; i < 3; i++) {
        fund x = ok;
        x.project = bad_proj[i];
        REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT, fund_raw(f, ka, &x));
    }
    bf_assert_msg_has(f, "no project 'pv-1' is registered");
    /* Source, programme, amount, date, evidence -- in that order. */
    fund x = ok;
    x.source = 0;
    x.amount = 0; /* also wrong: the source is named first */
    REJECTS(f, ka, ESG_ERR_BAD_FUNDING_SOURCE, fund_raw(f, ka, &x));
    bf_assert_msg_has(f, "funding source 0 is not EU, NATIONAL, REGIONAL, MUNICIPAL, PRIVATE "
                         "or OTHER");
    x.source = 7;
    REJECTS(f, ka, ESG_ERR_BAD_FUNDING_SOURCE, fund_raw(f, ka, &x));
    char p201[202];
    memset(p201, 'p', 201);
    p201[201] = '\0';
    const char *bad_prog[] = {"", p201, "ERDF\n2021"};
    for (size_t i = 0; i < 3; i++) {
        x = ok;
        x.programme = bad_prog[i];
        REJECTS(f, ka, ESG_ERR_BAD_TEXT, fund_raw(f, ka, &x));
        bf_assert_msg_has(f, "programme must be 1..200 characters");
    }
    x = ok;
    x.amount = 0;
    REJECTS(f, ka, ESG_ERR_BAD_AMOUNT, fund_raw(f, ka, &x));
    bf_assert_msg_has(f, "amount must be positive");
    const char *bad_dates[] = {"2026-02-30", "", "2026-2-1", "01/02/2026"};
    for (size_t i = 0; i < 4; i++) {
        x = ok;
        x.date = bad_dates[i];
        REJECTS(f, ka, ESG_ERR_BAD_DATE, fund_raw(f, ka, &x));
    }
    bf_assert_msg_has(f, "date '01/02/2026' is not a valid YYYY-MM-DD");
    x = ok;
    x.date = "2026-03-02";
    REJECTS(f, ka, ESG_ERR_DATE_IN_FUTURE, fund_raw(f, ka, &x));
    bf_assert_msg_has(f, "funding date 2026-03-02 is after the block's date 2026-03-01");
    x.hlen = 0; /* the date first */
    REJECTS(f, ka, ESG_ERR_DATE_IN_FUTURE, fund_raw(f, ka, &x));
    x = ok;
    x.hlen = 31;
    REJECTS(f, ka, ESG_ERR_BAD_HASH, fund_raw(f, ka, &x));
    bf_assert_msg_has(f, "evidence_sha256 must be 32 bytes, got 31");
    x.hlen = 0;
    REJECTS(f, ka, ESG_ERR_BAD_HASH, fund_raw(f, ka, &x));

    /* Net external funding stays within 64 bits; a reversed funding no
     * longer counts toward it. */
    x = ok;
    x.amount = UINT64_MAX;
    OK(f, fund_raw(f, ka, &x));
    esg_hash big = f->last_id;
    x.amount = 1;
    REJECTS(f, ka, ESG_ERR_OVERFLOW, fund_raw(f, ka, &x));
    bf_assert_msg_has(f, "project 'PV-1' would be financed by more than 2^64-1 minor units in all");
    OK(f, unfund_raw(f, ka, big.b, 32, "keyed in the wrong unit"));
    OK(f, fund_raw(f, ka, &x));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* ------------------------------------------------------- ReverseFunding */

START_TEST(test_unfund) {
    fx *f = cast();
    const fx_key *ka = fx_admin(f, CA), *kb = fx_admin(f, CB);
    reg r = reg_of("PV-1", 1000);
    OK(f, register_raw(f, ka, &r));
    fund x = fund_of("PV-1", 400);
    OK(f, fund_raw(f, ka, &x));
    esg_hash id = f->last_id;
    x.amount = 100;
    OK(f, fund_raw(f, ka, &x));

    /* Who. */
    fx_key adm = fx_key_new();
    OK(f, bf_add_account(f, ka, &adm.pk, ESG_ROLE_ADMIN));
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED, unfund_raw(f, &adm, id.b, 32, "wrong project"));
    REJECTS(f, kb, ESG_ERR_NOT_PROJECT_CITY, unfund_raw(f, kb, id.b, 32, "wrong project"));
    char want[200];
    snprintf(want, sizeof want, "funding '%s' is of 'city-a', not 'city-b'", esg_hash_hex(&id).s);
    bf_assert_msg_has(f, want);
    /* Which. A project registration's tx id is no funding. */
    REJECTS(f, ka, ESG_ERR_UNKNOWN_FUNDING, unfund_raw(f, ka, NOPE, 32, "x"));
    bf_assert_msg_has(f, "no funding '0102030000");
    REJECTS(f, ka, ESG_ERR_UNKNOWN_FUNDING, unfund_raw(f, ka, id.b, 31, "x"));
    bf_assert_msg_has(f, "funding id must be 32 bytes, got 31");
    REJECTS(f, ka, ESG_ERR_UNKNOWN_FUNDING, unfund_raw(f, ka, NULL, 0, "x"));
    esg_pb_project_record *p = project(f, "PV-1");
    REJECTS(f, ka, ESG_ERR_UNKNOWN_FUNDING, unfund_raw(f, ka, p->register_tx.data, 32, "x"));
    esg_pb_free(p);
    /* Why. */
    REJECTS(f, ka, ESG_ERR_MISSING_REASON, unfund_raw(f, ka, id.b, 32, ""));
    bf_assert_msg_has(f, "reversing a funding needs a reason");
    char reason[502];
    memset(reason, 'r', 501);
    reason[501] = '\0';
    REJECTS(f, ka, ESG_ERR_BAD_TEXT, unfund_raw(f, ka, id.b, 32, reason));
    REJECTS(f, ka, ESG_ERR_BAD_TEXT, unfund_raw(f, ka, id.b, 32, "cr\r"));

    /* The reversal: kept, marked; E shrinks by its amount. */
    bf_time_to(f, "2026-03-05");
    uint64_t h = fx_height(f) + 1;
    OK(f, unfund_raw(f, ka, id.b, 32, "the grant was for PV-2"));
    esg_hash rev = f->last_id;
    esg_pb_funding *rec = funding(f, &id);
    ck_assert(rec->reversed);
    ck_assert_str_eq(rec->reverse_reason, "the grant was for PV-2");
    ck_assert_uint_eq(rec->reversed_height, h);
    ck_assert_mem_eq(rec->reversal_tx.data, rev.b, 32);
    ck_assert_str_eq(rec->reversed_date, "2026-03-05");
    ck_assert_uint_eq(rec->amount, 400); /* the original stays visible */
    esg_pb_free(rec);
    esg_project_financing fin;
    financing(f, "PV-1", NULL, &fin, &p);
    ck_assert_uint_eq(fin.external, 100);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_EU], 100);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    /* Once only. */
    REJECTS(f, ka, ESG_ERR_FUNDING_REVERSED, unfund_raw(f, ka, id.b, 32, "again"));
    snprintf(want, sizeof want, "was reversed at height %llu", (unsigned long long)h);
    bf_assert_msg_has(f, want);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* ------------------------------------------------------------ cost basis */

START_TEST(test_cost_basis) {
    fx *f = cast();
    const fx_key *ka = fx_admin(f, CA);
    OK(f, bf_register_project(f, CA, "PV-1", 1000, "EUR"));
    issue_ref(f, "GB-X", "PV-1", 1000);
    issue_ref(f, "GB-Y", "PV-1", 1000);
    esg_project_financing fin;
    esg_pb_project_record *p;

    /* Nothing yet: D is the cost; both instruments listed, with 0. */
    financing(f, "PV-1", NULL, &fin, &p);
    ck_assert_uint_eq(fin.total_cost, 1000);
    ck_assert_uint_eq(fin.basis, 1000);
    ck_assert_uint_eq(fin.n, 2);
    ck_assert_str_eq(fin.instrument[0], "GB-X");
    ck_assert_str_eq(fin.instrument[1], "GB-Y");
    ck_assert_uint_eq(fin.amount[0] + fin.amount[1] + fin.external + fin.allocated, 0);
    esg_project_financing_release(&fin);
    esg_pb_free(p);

    OK(f, bf_allocate(f, CA, "GB-X", "PV-1", 300, "2026-01-20"));
    OK(f, bf_allocate(f, CA, "GB-Y", "PV-1", 200, "2026-02-20"));
    OK(f, bf_fund(f, CA, "PV-1", ESG_FUNDING_SOURCE_EU, 100, "2025-12-01"));
    OK(f, bf_fund(f, CA, "PV-1", ESG_FUNDING_SOURCE_NATIONAL, 50, "2026-02-10"));
    OK(f, bf_fund(f, CA, "PV-1", ESG_FUNDING_SOURCE_REGIONAL, 70, "2026-02-25"));
    esg_hash regional = f->last_id;

    /* All: A(X) 300, A(Y) 200, E 100 + 50 + 70 = 220; 720 < 1000: D 1000. */
    financing(f, "PV-1", NULL, &fin, &p);
    ck_assert_uint_eq(fin.amount[0], 300);
    ck_assert_uint_eq(fin.amount[1], 200);
    ck_assert_uint_eq(fin.allocated, 500);
    ck_assert_uint_eq(fin.external, 220);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_EU], 100);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_NATIONAL], 50);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_REGIONAL], 70);
    ck_assert_uint_eq(fin.basis, 1000);
    ck_assert_uint_eq(esg_project_financing_of(&fin, "GB-Y"), 200);
    ck_assert_uint_eq(esg_project_financing_of(&fin, "GB-Z"), 0);
    esg_project_financing_release(&fin);
    esg_pb_free(p);

    /* Cut off by date, "on or before": on 2026-02-10 GB-Y's allocation
     * (02-20) and the regional money (02-25) are not there yet; the day
     * before, the national money (02-10) is not either. */
    financing(f, "PV-1", "2026-02-10", &fin, &p);
    ck_assert_uint_eq(fin.amount[0], 300);
    ck_assert_uint_eq(fin.amount[1], 0);
    ck_assert_uint_eq(fin.external, 150);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    financing(f, "PV-1", "2026-02-09", &fin, &p);
    ck_assert_uint_eq(fin.external, 100);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_NATIONAL], 0);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    financing(f, "PV-1", "2025-11-30", &fin, &p);
    ck_assert_uint_eq(fin.external + fin.allocated, 0);
    ck_assert_uint_eq(fin.basis, 1000);
    esg_project_financing_release(&fin);
    esg_pb_free(p);

    /* Past the cost: 600 more of GB-X makes 900 + 200 + 220 = 1320 > 1000,
     * so D = 1320. */
    OK(f, bf_allocate(f, CA, "GB-X", "PV-1", 600, "2026-02-25"));
    financing(f, "PV-1", NULL, &fin, &p);
    ck_assert_uint_eq(fin.amount[0], 900);
    ck_assert_uint_eq(fin.basis, 1320);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    /* A reversed funding never counts, whatever the cut-off: E = 150,
     * D = 900 + 200 + 150 = 1250. */
    OK(f, bf_reverse_funding(f, CA, &regional, "paid to PV-2"));
    financing(f, "PV-1", NULL, &fin, &p);
    ck_assert_uint_eq(fin.external, 150);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_REGIONAL], 0);
    ck_assert_uint_eq(fin.basis, 1250);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    financing(f, "PV-1", "2026-02-28", &fin, &p);
    ck_assert_uint_eq(fin.external, 150);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    /* No such project, or no valid id: ESG_ERR_NOT_FOUND, *out NULL. */
    bf_view v = bf_view_open(f);
    const char *none[] = {"PV-9", "pv-1", "", "P"};
    for (size_t i = 0; i < 4; i++) {
        p = (esg_pb_project_record *)1;
        ck_assert_int_eq(esg_project_get(v.st, none[i], &p), ESG_ERR_NOT_FOUND);
        ck_assert_ptr_null(p);
    }
    bf_view_close(&v);
    /* A higher cost is the basis again. */
    OK(f, update_raw(f, ka, "PV-1", 2000, "second phase added"));
    financing(f, "PV-1", NULL, &fin, &p);
    ck_assert_uint_eq(fin.total_cost, 2000);
    ck_assert_uint_eq(fin.basis, 2000);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    /* Financing in all stays within 64 bits, so D(p) can always be
     * computed: 900 + 200 + 150 = 1250 is recorded, so external money of
     * 2^64 - 1250 is refused, 2^64 - 1251 taken, and then no allocation
     * of even 1 fits. */
    const fx_key *kca = fx_admin(f, CA);
    REJECTS(f, kca, ESG_ERR_OVERFLOW,
            bf_fund(f, CA, "PV-1", ESG_FUNDING_SOURCE_PRIVATE, UINT64_MAX - 1249, "2026-02-26"));
    bf_assert_msg_has(f, "would be financed by more than 2^64-1 minor units in all");
    OK(f, bf_fund(f, CA, "PV-1", ESG_FUNDING_SOURCE_PRIVATE, UINT64_MAX - 1250, "2026-02-26"));
    REJECTS(f, kca, ESG_ERR_OVERFLOW, bf_allocate(f, CA, "GB-Y", "PV-1", 1, "2026-02-26"));
    financing(f, "PV-1", NULL, &fin, &p);
    ck_assert_uint_eq(fin.basis, UINT64_MAX);
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_share_and_day) {
    /* floor(value x part / basis) in 128 bits. */
    ck_assert_int_eq(esg_project_share_of(1000001, 2000, 4000), 500000);
    ck_assert_int_eq(esg_project_share_of(7, 1, 3), 2);
    ck_assert_int_eq(esg_project_share_of(7, 3, 3), 7);
    ck_assert_int_eq(esg_project_share_of(0, 5, 10), 0);
    ck_assert_int_eq(esg_project_share_of(5, 0, 10), 0);
    ck_assert_int_eq(esg_project_share_of(5, 0, 0), 0);
    ck_assert_int_eq(esg_project_share_of(INT64_MAX, UINT64_MAX, UINT64_MAX), INT64_MAX);
    /* v x (B - 1) / B = v - v / B with 0 < v / B < 1. */
    ck_assert_int_eq(esg_project_share_of(INT64_MAX, UINT64_MAX - 1, UINT64_MAX),
                     INT64_MAX - 1);
    ck_assert_int_eq(esg_project_share_of(INT64_MAX, 1, UINT64_MAX), 0);
    /* The UTC day of a block time. */
    ck_assert_int_eq(esg_block_day(0), 0);
    ck_assert_int_eq(esg_block_day(UINT64_C(86399999)), 0);
    ck_assert_int_eq(esg_block_day(UINT64_C(86400000)), 1);
    ck_assert_int_eq(esg_block_day(FX_GENESIS_TIME_MS), bf_day("2026-01-01"));
    ck_assert_int_eq(esg_block_day(FX_GENESIS_TIME_MS - 1), bf_day("2025-12-31"));
    ck_assert_int_eq(esg_block_day(UINT64_MAX), INT32_MAX);
}
END_TEST

/* -------------------------------------------------- attribution property */

/* splitmix64: a fixed seed, the same mixes on every run. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n) {
    return rng_next(s) % n;
}

/* 1 .. 2^b for b uniform in 1..max_bits: every magnitude is as likely. */
static uint64_t rng_amount(uint64_t *s, unsigned max_bits) {
    unsigned b = 1 + (unsigned)rng_below(s, max_bits);
    return 1 + (rng_next(s) >> (64 - b));
}

#define PROP_PROJECTS 40
#define PROP_MAX_INS 4
#define PROP_MAX_ALLOC 3
#define PROP_MAX_FUND 3

/* The model of one project's financing, kept by the test itself. */
typedef struct prop_project {
    char id[32];
    uint64_t cost;
    int k; /* instruments financing it */
    char ins[PROP_MAX_INS][40]; /* "PI-" size_t "-" int fits */
    size_t n_alloc[PROP_MAX_INS];
    uint64_t alloc[PROP_MAX_INS][PROP_MAX_ALLOC];
    bool alloc_live[PROP_MAX_INS][PROP_MAX_ALLOC];
    esg_hash alloc_id[PROP_MAX_INS][PROP_MAX_ALLOC];
    size_t n_fund;
    uint64_t fund[PROP_MAX_FUND];
    bool fund_live[PROP_MAX_FUND];
    esg_hash fund_id[PROP_MAX_FUND];
    int64_t c; /* counted impact: 0 when left unattested */
    esg_hash report;
} prop_project;

static uint64_t live_sum(const uint64_t *v, const bool *live, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        if (live[i])
            s += v[i]; /* amounts < 2^56, at most 15 of them */
    return s;
}

/* The property over every project, against the model: each instrument's
 * attributed value is floor(C x A / D) with A and D computed here, and
 * the instruments' values plus the external part floor(C x E / D) never
 * pass C. */
static void check_property(fx *f, const prop_project *pp, size_t n) {
    bf_view v = bf_view_open(f);
    for (size_t i = 0; i < n; i++) {
        const prop_project *p = &pp[i];
        uint64_t e = live_sum(p->fund, p->fund_live, p->n_fund), all = e;
        uint64_t a[PROP_MAX_INS];
        for (int j = 0; j < p->k; j++) {
            a[j] = live_sum(p->alloc[j], p->alloc_live[j], p->n_alloc[j]);
            all += a[j];
        }
        uint64_t d = all > p->cost ? all : p->cost;
        esg_pb_project_record *rec;
        ck_assert_int_eq(esg_project_get(v.st, p->id, &rec), 0);
        esg_project_financing fin;
        ck_assert_int_eq(esg_project_financing_get(v.st, rec, INT32_MAX, &fin), 0);
        ck_assert_uint_eq(fin.basis, d);
        ck_assert_uint_eq(fin.external, e);
        ck_assert_uint_eq(fin.n, (size_t)p->k);
        unsigned __int128 given = (unsigned __int128)(uint64_t)p->c * e / d;
        for (int j = 0; j < p->k; j++) {
            ck_assert_uint_eq(esg_project_financing_of(&fin, p->ins[j]), a[j]);
            int64_t got = -1;
            ck_assert_int_eq(esg_impact_instrument_attributed(v.st, p->ins[j], GHG, INT32_MIN,
                                                              INT32_MAX, &got),
                             0);
            unsigned __int128 want = (unsigned __int128)(uint64_t)p->c * a[j] / d;
            ck_assert_msg(got >= 0 && (unsigned __int128)got == want,
                          "%s: %lld attributed, want floor(%lld x %llu / %llu)", p->ins[j],
                          (long long)got, (long long)p->c, (unsigned long long)a[j],
                          (unsigned long long)d);
            given += (unsigned __int128)got;
        }
        ck_assert_msg(given <= (unsigned __int128)p->c, "%s: the funders get more than C %lld",
                      p->id, (long long)p->c);
        esg_project_financing_release(&fin);
        esg_pb_free(rec);
    }
    bf_view_close(&v);
}

/* Random funding mixes over PROP_PROJECTS projects of city-a: each
 * financed by 1..4 instruments (one project each, so an instrument's
 * attributed value is that project's part) with 0..3 allocations, 0..3
 * external fundings, some of either reversed, a random cost and counted
 * impact; checked, then costs changed and more reversed, and checked
 * again. Amounts range over every magnitude up to 2^56, costs 2^60,
 * impact 2^62, so that D is sometimes the cost and sometimes the money,
 * and C x A needs 128 bits. Blocks of many transactions keep it fast. */
START_TEST(test_attribution_property) {
    fx *f = cast();
    const fx_key *ka = fx_admin(f, CA), *ki = fx_admin(f, INV1), *kv = fx_admin(f, V1);
    static prop_project pp[PROP_PROJECTS];
    uint64_t seed = UINT64_C(20260301);
    memset(pp, 0, sizeof pp);
    bf_batch bt;
    bf_batch_init(&bt, f);

    /* The mixes, and the projects registered. */
    for (size_t i = 0; i < PROP_PROJECTS; i++) {
        prop_project *p = &pp[i];
        snprintf(p->id, sizeof p->id, "PP-%02zu", i);
        p->cost = rng_amount(&seed, 60);
        p->k = 1 + (int)rng_below(&seed, PROP_MAX_INS);
        for (int j = 0; j < p->k; j++) {
            snprintf(p->ins[j], sizeof p->ins[j], "PI-%02zu-%d", i, j);
            p->n_alloc[j] = rng_below(&seed, PROP_MAX_ALLOC + 1);
            for (size_t a = 0; a < p->n_alloc[j]; a++)
                p->alloc[j][a] = rng_amount(&seed, 56);
        }
        p->n_fund = rng_below(&seed, PROP_MAX_FUND + 1);
        for (size_t u = 0; u < p->n_fund; u++)
            p->fund[u] = rng_amount(&seed, 56);
        p->c = rng_below(&seed, 8) == 0 ? 0 : (int64_t)rng_amount(&seed, 62);
        esg_pb_eu_objective obj = ESG_EU_OBJECTIVE_CCM;
        esg_pb_register_project rp = ESG_PB_REGISTER_PROJECT_INIT;
        rp.id = p->id;
        rp.city = CA;
        rp.name = "Project";
        rp.eu_objectives = &obj;
        rp.n_eu_objectives = 1;
        rp.total_cost = p->cost;
        rp.currency = "EUR";
        esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
        b.action_case = ESG_ACTION_REGISTER_PROJECT;
        b.register_project = &rp;
        bf_batch_add(&bt, &b, ka);
    }
    bf_batch_commit(&bt);

    /* The instruments: face 1, as many units as their allocations need,
     * all sold to inv-1 (three blocks: issue, subscribe, close). */
    for (int phase = 0; phase < 3; phase++) {
        for (size_t i = 0; i < PROP_PROJECTS; i++) {
            prop_project *p = &pp[i];
            for (int j = 0; j < p->k; j++) {
                uint64_t units = 1;
                for (size_t a = 0; a < p->n_alloc[j]; a++)
                    units += p->alloc[j][a];
                esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
                static const uint64_t budgets[4] = {1, 1, 1, 1};
                bf_abc spec;
                esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
                esg_pb_subscribe sub = ESG_PB_SUBSCRIBE_INIT;
                esg_pb_close_offering cl = ESG_PB_CLOSE_OFFERING_INIT;
                if (phase == 0) {
                    bf_abc_init(&spec, p->ins[j], true, 1, units, "2028-01-15", budgets);
                    spec.s.n_projects = 1;
                    bf_project_ref(&spec.pr[0], p->id, 1);
                    ii.spec = &spec.s;
                    b.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
                    b.issue_instrument = &ii;
                    bf_batch_add(&bt, &b, ka);
                } else if (phase == 1) {
                    sub.instrument = p->ins[j];
                    sub.units = units;
                    b.action_case = ESG_ACTION_SUBSCRIBE;
                    b.subscribe = &sub;
                    bf_batch_add(&bt, &b, ki);
                } else {
                    cl.instrument = p->ins[j];
                    b.action_case = ESG_ACTION_CLOSE_OFFERING;
                    b.close_offering = &cl;
                    bf_batch_add(&bt, &b, ka);
                }
            }
        }
        bf_batch_commit(&bt);
    }

    /* Allocations, fundings and one report per project in one block. */
    for (size_t i = 0; i < PROP_PROJECTS; i++) {
        prop_project *p = &pp[i];
        for (int j = 0; j < p->k; j++)
            for (size_t a = 0; a < p->n_alloc[j]; a++) {
                esg_pb_allocate_proceeds ap = ESG_PB_ALLOCATE_PROCEEDS_INIT;
                ap.instrument = p->ins[j];
                ap.project_id = p->id;
                ap.amount = p->alloc[j][a];
                ap.date = "2026-02-01";
                ap.evidence_sha256 = esg_pb_bin(bf_h32, 32);
                esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
                b.action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
                b.allocate_proceeds = &ap;
                p->alloc_id[j][a] = bf_batch_add(&bt, &b, ka);
                p->alloc_live[j][a] = true;
            }
        for (size_t u = 0; u < p->n_fund; u++) {
            esg_pb_record_funding rf = ESG_PB_RECORD_FUNDING_INIT;
            rf.project = p->id;
            rf.source = 1 + (int)rng_below(&seed, 6);
            rf.programme = "Programme";
            rf.amount = p->fund[u];
            rf.date = "2026-02-01";
            rf.evidence_sha256 = esg_pb_bin(bf_h32, 32);
            esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
            b.action_case = ESG_ACTION_RECORD_FUNDING;
            b.record_funding = &rf;
            p->fund_id[u] = bf_batch_add(&bt, &b, ka);
            p->fund_live[u] = true;
        }
        esg_pb_report_impact ri = ESG_PB_REPORT_IMPACT_INIT;
        ri.project_id = p->id;
        ri.kpi = GHG;
        ri.value = p->c;
        ri.period_start = "2025-01-01";
        ri.period_end = "2025-12-31";
        ri.evidence_sha256 = esg_pb_bin(bf_h32, 32);
        esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
        b.action_case = ESG_ACTION_REPORT_IMPACT;
        b.report_impact = &ri;
        p->report = bf_batch_add(&bt, &b, ka);
    }
    bf_batch_commit(&bt);

    /* Attestations (C > 0) and reversals, a third of each, in one block. */
    for (size_t i = 0; i < PROP_PROJECTS; i++) {
        prop_project *p = &pp[i];
        if (p->c > 0) {
            esg_pb_attest_impact ai = ESG_PB_ATTEST_IMPACT_INIT;
            ai.report_id = esg_pb_bin(p->report.b, 32);
            ai.opinion = ESG_OPINION_CONFIRMED;
            ai.verified_value = p->c;
            ai.statement_sha256 = esg_pb_bin(bf_h32, 32);
            esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
            b.action_case = ESG_ACTION_ATTEST_IMPACT;
            b.attest_impact = &ai;
            bf_batch_add(&bt, &b, kv);
        }
        for (int j = 0; j < p->k; j++)
            for (size_t a = 0; a < p->n_alloc[j]; a++) {
                if (rng_below(&seed, 3) != 0)
                    continue;
                esg_pb_reverse_allocation ra = ESG_PB_REVERSE_ALLOCATION_INIT;
                ra.allocation_id = esg_pb_bin(p->alloc_id[j][a].b, 32);
                ra.reason = "wrong project";
                esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
                b.action_case = ESG_ACTION_REVERSE_ALLOCATION;
                b.reverse_allocation = &ra;
                bf_batch_add(&bt, &b, ka);
                p->alloc_live[j][a] = false;
            }
        for (size_t u = 0; u < p->n_fund; u++) {
            if (rng_below(&seed, 3) != 0)
                continue;
            esg_pb_reverse_funding rv = ESG_PB_REVERSE_FUNDING_INIT;
            rv.funding_id = esg_pb_bin(p->fund_id[u].b, 32);
            rv.reason = "wrong project";
            esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
            b.action_case = ESG_ACTION_REVERSE_FUNDING;
            b.reverse_funding = &rv;
            bf_batch_add(&bt, &b, ka);
            p->fund_live[u] = false;
        }
    }
    bf_batch_commit(&bt);
    check_property(f, pp, PROP_PROJECTS);

    /* Half the costs changed, another allocation reversed here and there. */
    for (size_t i = 0; i < PROP_PROJECTS; i++) {
        prop_project *p = &pp[i];
        if (rng_below(&seed, 2) == 0) {
            p->cost = rng_amount(&seed, 60);
            esg_pb_update_project up = ESG_PB_UPDATE_PROJECT_INIT;
            up.id = p->id;
            up.total_cost = p->cost;
            up.reason = "re-estimated";
            esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
            b.action_case = ESG_ACTION_UPDATE_PROJECT;
            b.update_project = &up;
            bf_batch_add(&bt, &b, ka);
        }
        int j = (int)rng_below(&seed, (uint64_t)p->k);
        for (size_t a = 0; a < p->n_alloc[j]; a++)
            if (p->alloc_live[j][a] && rng_below(&seed, 2) == 0) {
                esg_pb_reverse_allocation ra = ESG_PB_REVERSE_ALLOCATION_INIT;
                ra.allocation_id = esg_pb_bin(p->alloc_id[j][a].b, 32);
                ra.reason = "duplicate";
                esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
                b.action_case = ESG_ACTION_REVERSE_ALLOCATION;
                b.reverse_allocation = &ra;
                bf_batch_add(&bt, &b, ka);
                p->alloc_live[j][a] = false;
                break;
            }
    }
    bf_batch_commit(&bt);
    check_property(f, pp, PROP_PROJECTS);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* ------------------------------------------------------------- scenario */

/* One project, PV-ROOF of city-a (rooftop solar, cost 10 000 000.00 EUR),
 * financed by two bonds and an EU grant, its impact reported once --
 * naming no instrument -- attested, and split by share financed. Money in
 * euro cents, impact in thousandths of a tonne of CO2e.
 *
 * GB-A, the joint bond of city-a (60 %) and city-b (40 %): 6000 units of
 * 1000.00 EUR, inv-1 4500 and inv-2 1500: 600 000 000 raised, city-a's
 * part 360 000 000. city-a allocates to PV-ROOF 200 000 000 on 2025-10-01
 * (before the issue date 2026-01-15: refinancing), 100 000 000 on
 * 2026-02-01, and 50 000 000 on 2026-02-10 that it reverses (the invoice
 * was another project's): A(GB-A) = 300 000 000.
 * GB-B, city-a's own bond: 2500 units of 1000.00 EUR, all inv-2's;
 * 250 000 000 allocated on 2026-02-15: A(GB-B) = 250 000 000.
 * EU: ERDF 350 000 000 dated 2025-06-30; a national grant of 100 000 000,
 * recorded by mistake, reversed: E = 350 000 000.
 * D = max(1 000 000 000, 300 + 250 + 350 = 900 000 000) = 1 000 000 000:
 * GB-A 30 %, GB-B 25 %, EU 35 %, 10 % not financed yet.
 *
 * The 2025 report: 1250.000 t; ver-1 CONFIRMED 1240.000, ver-2
 * QUALIFIED 1234.567: C = min = 1234567.
 *   GB-A  floor(1234567 x 300 / 1000) = floor(370370.1)  = 370370
 *   GB-B  floor(1234567 x 250 / 1000) = floor(308641.75) = 308641
 *   EU    floor(1234567 x 350 / 1000) = floor(432098.45) = 432098
 *   together 1111109 <= 1234567 (the unfinanced tenth is nobody's).
 * Investors, floor(T x u / U):
 *   inv-1 in GB-A  floor(370370 x 4500 / 6000) = floor(277777.5) = 277777
 *   inv-2 in GB-A  floor(370370 x 1500 / 6000) = floor(92592.5)  =  92592
 *   inv-2 in GB-B  all 2500 of 2500                              = 308641
 *
 * Then the cost is revised to 8 000 000.00 EUR: D = max(800 000 000,
 * 900 000 000) = 900 000 000.
 *   GB-A  floor(1234567 x 300 / 900) = floor(411522.33) = 411522
 *   GB-B  floor(1234567 x 250 / 900) = floor(342935.28) = 342935
 *   EU    floor(1234567 x 350 / 900) = floor(480109.39) = 480109
 *   together 1234566 <= 1234567.
 *   inv-1 in GB-A  floor(411522 x 4500 / 6000) = floor(308641.5) = 308641
 *   inv-2 in GB-A  floor(411522 x 1500 / 6000) = floor(102880.5) = 102880
 *   inv-2 in GB-B  342935
 *
 * The 2025 window, (2024-12-31, 2025-12-31], takes the financing dated up
 * to its end: GB-A 200 000 000 (the refinancing), GB-B nothing, EU
 * 350 000 000; 550 000 000 < 800 000 000, so D = 800 000 000:
 *   GB-A  floor(1234567 x 200 / 800) = floor(308641.75) = 308641
 *   GB-B  0
 *
 * The covenant figure of either bond is all of C, 1234567, whoever else
 * finances the project. */
START_TEST(test_scenario_blended) {
    fx *f = cast();
    OK(f, bf_register_project(f, CA, "PV-ROOF", UINT64_C(1000000000), "EUR"));
    static const uint64_t budgets[4] = {1, 1, 240000000, 1};

    /* GB-A: city-a 60 %, city-b 40 %; PV-ROOF by reference, PB-1 inline. */
    bf_abc a;
    bf_abc_init(&a, "GB-A", false, 100000, 6000, "2031-01-15", budgets);
    a.s.n_co_issuers = 2;
    a.ci[0].share_bps = 6000;
    a.ci[1].share_bps = 4000;
    a.pr[1] = a.pr[2];
    bf_project_ref(&a.pr[0], "PV-ROOF", 300000000);
    a.s.n_projects = 2;
    OK(f, bf_abc_issue(f, &a));
    OK(f, bf_subscribe(f, fx_admin(f, INV1), "GB-A", 4500));
    OK(f, bf_subscribe(f, fx_admin(f, INV2), "GB-A", 1500));
    OK(f, bf_close_offering(f, fx_admin(f, CA), "GB-A"));
    /* GB-B: city-a alone. */
    bf_abc b;
    bf_abc_init(&b, "GB-B", true, 100000, 2500, "2031-01-15", budgets);
    bf_project_ref(&b.pr[0], "PV-ROOF", 250000000);
    b.s.n_projects = 1;
    OK(f, bf_abc_issue(f, &b));
    OK(f, bf_subscribe(f, fx_admin(f, INV2), "GB-B", 2500));
    OK(f, bf_close_offering(f, fx_admin(f, CA), "GB-B"));

    /* The money. */
    OK(f, bf_allocate(f, CA, "GB-A", "PV-ROOF", 200000000, "2025-10-01"));
    esg_hash refi = f->last_id;
    OK(f, bf_allocate(f, CA, "GB-A", "PV-ROOF", 100000000, "2026-02-01"));
    OK(f, bf_allocate(f, CA, "GB-A", "PV-ROOF", 50000000, "2026-02-10"));
    OK(f, bf_reverse_allocation(f, CA, &f->last_id, "the invoice was another project's"));
    OK(f, bf_allocate(f, CA, "GB-B", "PV-ROOF", 250000000, "2026-02-15"));
    OK(f, bf_fund(f, CA, "PV-ROOF", ESG_FUNDING_SOURCE_EU, 350000000, "2025-06-30"));
    OK(f, bf_fund(f, CA, "PV-ROOF", ESG_FUNDING_SOURCE_NATIONAL, 100000000, "2025-09-01"));
    OK(f, bf_reverse_funding(f, CA, &f->last_id, "recorded against the wrong project"));
    {
        uint8_t key[64];
        memcpy(key, "GB-A", 5); /* with its 0 */
        memcpy(key + 5, refi.b, 32);
        esg_pb_allocation *al = fx_get(f, ESG_T_ALLOCATIONS, key, 37, ESG_PB_ALLOCATION_DESC);
        ck_assert_ptr_nonnull(al);
        ck_assert(al->refinancing); /* 2025-10-01, before the issue date */
        esg_pb_free(al);
    }
    esg_project_financing fin;
    esg_pb_project_record *p;
    financing(f, "PV-ROOF", NULL, &fin, &p);
    ck_assert_uint_eq(fin.n, 2);
    ck_assert_uint_eq(esg_project_financing_of(&fin, "GB-A"), 300000000);
    ck_assert_uint_eq(esg_project_financing_of(&fin, "GB-B"), 250000000);
    ck_assert_uint_eq(fin.external, 350000000);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_EU], 350000000);
    ck_assert_uint_eq(fin.by_source[ESG_FUNDING_SOURCE_NATIONAL], 0);
    ck_assert_uint_eq(fin.basis, 1000000000);
    esg_project_financing_release(&fin);
    esg_pb_free(p);

    /* The impact, reported once, of the project. */
    esg_hash r = report_ok(f, CA, "PV-ROOF", 1250000, "2025-01-01", "2025-12-31");
    attest_ok(f, V1, &r, ESG_OPINION_CONFIRMED, 1240000);
    attest_ok(f, V2, &r, ESG_OPINION_QUALIFIED, 1234567);
    int64_t ga = attributed_in(f, "GB-A", NULL, NULL), gb = attributed_in(f, "GB-B", NULL, NULL);
    ck_assert_int_eq(ga, 370370);
    ck_assert_int_eq(gb, 308641);
    ck_assert_int_eq(esg_project_share_of(1234567, 350000000, 1000000000), 432098);
    ck_assert_int_eq(ga + gb + 432098, 1111109);
    ck_assert_int_eq(investor_attributed(f, "GB-A", INV1), 277777);
    ck_assert_int_eq(investor_attributed(f, "GB-A", INV2), 92592);
    ck_assert_int_eq(investor_attributed(f, "GB-B", INV2), 308641);
    ck_assert_int_eq(investor_attributed(f, "GB-B", INV1), 0);

    /* The cost revised down: the money is the basis. */
    OK(f, bf_update_project(f, CA, "PV-ROOF", 800000000, "final tender below estimate"));
    ck_assert_int_eq(attributed_in(f, "GB-A", NULL, NULL), 411522);
    ck_assert_int_eq(attributed_in(f, "GB-B", NULL, NULL), 342935);
    ck_assert_int_eq(esg_project_share_of(1234567, 350000000, 900000000), 480109);
    ck_assert_int_eq(411522 + 342935 + 480109, 1234566);
    ck_assert_int_eq(investor_attributed(f, "GB-A", INV1), 308641);
    ck_assert_int_eq(investor_attributed(f, "GB-A", INV2), 102880);
    ck_assert_int_eq(investor_attributed(f, "GB-B", INV2), 342935);

    /* The 2025 window. */
    ck_assert_int_eq(attributed_in(f, "GB-A", "2024-12-31", "2025-12-31"), 308641);
    ck_assert_int_eq(attributed_in(f, "GB-B", "2024-12-31", "2025-12-31"), 0);
    ck_assert_int_eq(attributed_in(f, "GB-A", "2025-12-31", NULL), 0); /* no report ends later */

    /* The covenant figure: all of C for each bond. */
    bf_view v = bf_view_open(f);
    int64_t total = 0;
    size_t n = 0;
    ck_assert_int_eq(esg_impact_sum(v.st, "GB-A", GHG, INT32_MIN, INT32_MAX, &total, &n), 0);
    ck_assert_int_eq(total, 1234567);
    ck_assert_int_eq(esg_impact_sum(v.st, "GB-B", GHG, INT32_MIN, INT32_MAX, &total, &n), 0);
    ck_assert_int_eq(total, 1234567);
    bf_view_close(&v);

    /* An auditor replays the chain and reaches the same state. */
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

Suite *suite_projects(void) {
    Suite *s = suite_create("projects");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_register);
    tcase_add_test(tc, test_register_rejections);
    tcase_add_test(tc, test_update);
    tcase_add_test(tc, test_fund);
    tcase_add_test(tc, test_fund_rejections);
    tcase_add_test(tc, test_unfund);
    tcase_add_test(tc, test_cost_basis);
    tcase_add_test(tc, test_share_and_day);
    tcase_add_test(tc, test_attribution_property);
    tcase_add_test(tc, test_scenario_blended);
    suite_add_tcase(s, tc);
    return s;
}
