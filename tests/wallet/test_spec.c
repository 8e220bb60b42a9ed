/* Instrument spec files (wallet/spec.h, docs/SPEC.md): a basic example and
 * one with every key of issue 9 (objective lists, EU GBS project fields,
 * references to registered projects, ISIN, look-back) parse to the right
 * fields, every malformed input is refused with its code and the JSON path
 * of the culprit, the spec-only rules are checked, and a spec written back
 * out parses to the same message. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "wallet/spec.h"

/* ------------------------------------------------------------- arena */

typedef struct arena {
    void **v;
    size_t n, cap;
} arena;

static arena A;

static void *arena_alloc(void *ctx, size_t size) {
    arena *a = ctx;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 64;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        ck_assert_ptr_nonnull(a->v);
    }
    void *m = calloc(1, size);
    ck_assert_ptr_nonnull(m);
    a->v[a->n++] = m;
    return m;
}

static void setup(void) {
    memset(&A, 0, sizeof A);
}

static void teardown(void) {
    for (size_t i = 0; i < A.n; i++)
        free(A.v[i]);
    free(A.v);
    memset(&A, 0, sizeof A);
}

/* ------------------------------------------------------------ inputs */

#define FW "1111111111111111111111111111111111111111111111111111111111111111"
#define ER "ABCDEFabcdef0123456789abcdef0123456789abcdef0123456789abcdef0123"

/* A sustainability-linked bond with one inline project, with real hashes. */
static const char example[] =
    "{ \"id\": \"JGB-2026-01\", \"kind\": \"SUSTAINABILITY_LINKED_BOND\",\n"
    "  \"name\": \"Joint green bond of three cities\", \"currency\": \"EUR\",\n"
    "  \"face_value\": \"100000\", \"units\": 5000, \"coupon_bps\": 125,\n"
    "  \"coupon_frequency_months\": 12,\n"
    "  \"issue_date\": \"2024-03-01\", \"maturity_date\": \"2027-03-01\",\n"
    "  \"co_issuers\": [ { \"member\": \"city-a\", \"share_bps\": 5000 },\n"
    "                  { \"member\": \"city-b\", \"share_bps\": 3000 },\n"
    "                  { \"member\": \"city-c\", \"share_bps\": 2000 } ],\n"
    "  \"paying_agent\": \"agent-x\",\n"
    "  \"projects\": [ { \"id\": \"A-SOLAR\", \"city\": \"city-a\", \"name\": \"School rooftop solar\",\n"
    "                  \"eu_objective\": \"CCM\", \"sdgs\": [7, 11], \"budget\": \"20000000\" } ],\n"
    "  \"kpi_targets\": [ { \"kpi\": \"ghg_avoided_tco2e\", \"baseline\": \"0\",\n"
    "                     \"target\": \"1500.000\", \"observation_date\": \"2025-12-31\",\n"
    "                     \"step_up_bps\": 25 } ],\n"
    "  \"framework_sha256\": \"" FW "\", \"external_review_sha256\": \"" ER "\" }\n";

/* The example with every key of issue 9: an inline project with several
 * objectives and the EU GBS fields, one with a single objective given
 * both ways, a reference to a registered project, an ISIN and a
 * look-back. */
static const char full[] =
    "{ \"id\": \"JGB-2026-02\", \"kind\": \"GREEN_BOND\", \"name\": \"Joint green bond\",\n"
    "  \"currency\": \"EUR\", \"face_value\": \"100000\", \"units\": 5000, \"coupon_bps\": 125,\n"
    "  \"coupon_frequency_months\": 12, \"issue_date\": \"2024-03-01\",\n"
    "  \"maturity_date\": \"2027-03-01\",\n"
    "  \"co_issuers\": [ { \"member\": \"city-a\", \"share_bps\": 6000 },\n"
    "                  { \"member\": \"city-b\", \"share_bps\": 4000 } ],\n"
    "  \"paying_agent\": \"agent-x\",\n"
    "  \"projects\": [\n"
    "    { \"id\": \"A-TRAM\", \"city\": \"city-a\", \"name\": \"Tram line 2\",\n"
    "      \"eu_objectives\": [\"ccm\", \"PPC\", \"EU_OBJECTIVE_BIO\"], \"sdgs\": [11],\n"
    "      \"budget\": \"5000000\", \"taxonomy_activity\": \"6.14\", \"nace\": \"F42.1\",\n"
    "      \"total_cost\": \"12000000\", \"location\": \"Odos 25is Avgoustou, Heraklion\" },\n"
    "    { \"id\": \"B-PUMP\", \"city\": \"city-b\", \"name\": \"Heat pumps\",\n"
    "      \"eu_objective\": \"CCA\", \"eu_objectives\": [\"CE\"], \"budget\": \"1000000\" },\n"
    "    { \"id\": \"HER-PV\", \"budget\": \"2500000\" } ],\n"
    "  \"isin\": \"XS1234567896\", \"refinancing_lookback_months\": 24 }\n";

static int parse(const char *json, esg_pb_instrument_spec **s, char *err, size_t errlen) {
    return esgw_spec_parse(s, json, strlen(json), arena_alloc, &A, err, errlen);
}

/* The example with `path` (a jansson-style key path: "co_issuers.1.share_bps")
 * set to `value` (a JSON text; NULL deletes the key). Caller frees. */
static char *mutate_doc(const char *doc, const char *path, const char *value) {
    json_t *root = json_loads(doc, 0, NULL);
    ck_assert_ptr_nonnull(root);
    json_t *parent = root;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    char *last = buf, *dot;
    while ((dot = strchr(last, '.')) != NULL) {
        *dot = '\0';
        if (json_is_array(parent))
            parent = json_array_get(parent, (size_t)atoi(last));
        else
            parent = json_object_get(parent, last);
        ck_assert_ptr_nonnull(parent);
        last = dot + 1;
    }
    if (!value) {
        ck_assert_int_eq(json_object_del(parent, last), 0);
    } else {
        json_t *v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        ck_assert_msg(v != NULL, "bad test value %s", value);
        if (json_is_array(parent))
            ck_assert_int_eq(json_array_set_new(parent, (size_t)atoi(last), v), 0);
        else
            ck_assert_int_eq(json_object_set_new(parent, last, v), 0);
    }
    char *s = json_dumps(root, 0);
    json_decref(root);
    return s;
}

static char *mutate(const char *path, const char *value) {
    return mutate_doc(example, path, value);
}

static uint8_t *encode(const esg_pb_instrument_spec *s, size_t *len) {
    uint8_t *b;
    ck_assert_int_eq(esg_pb_instrument_spec_encode(s, &b, len), 0);
    return b;
}

/* ------------------------------------------------------------- tests */

START_TEST(example_parses_to_its_fields) {
    esg_pb_instrument_spec *s;
    char err[256];
    ck_assert_int_eq(parse(example, &s, err, sizeof err), 0);
    ck_assert_str_eq(err, "");
    ck_assert_str_eq(s->id, "JGB-2026-01");
    ck_assert_int_eq(s->kind, ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND);
    ck_assert_str_eq(s->name, "Joint green bond of three cities");
    ck_assert_str_eq(s->currency, "EUR");
    ck_assert_uint_eq(s->face_value, 100000);
    ck_assert_uint_eq(s->units, 5000);
    ck_assert_uint_eq(s->coupon_bps, 125);
    ck_assert_uint_eq(s->coupon_frequency_months, 12);
    ck_assert_str_eq(s->issue_date, "2024-03-01");
    ck_assert_str_eq(s->maturity_date, "2027-03-01");
    ck_assert_uint_eq(s->n_co_issuers, 3);
    ck_assert_str_eq(s->co_issuers[0]->member, "city-a");
    ck_assert_uint_eq(s->co_issuers[0]->share_bps, 5000);
    ck_assert_str_eq(s->co_issuers[2]->member, "city-c");
    ck_assert_uint_eq(s->co_issuers[2]->share_bps, 2000);
    ck_assert_str_eq(s->paying_agent, "agent-x");
    ck_assert_uint_eq(s->n_projects, 1);
    const esg_pb_project *p = s->projects[0];
    ck_assert_str_eq(p->id, "A-SOLAR");
    ck_assert_str_eq(p->city, "city-a");
    ck_assert_str_eq(p->name, "School rooftop solar");
    ck_assert_int_eq(p->eu_objective, ESG_EU_OBJECTIVE_CCM);
    ck_assert_uint_eq(p->n_sdgs, 2);
    ck_assert_uint_eq(p->sdgs[0], 7);
    ck_assert_uint_eq(p->sdgs[1], 11);
    ck_assert_uint_eq(p->budget, 20000000);
    ck_assert_uint_eq(s->n_kpi_targets, 1);
    const esg_pb_kpi_target *t = s->kpi_targets[0];
    ck_assert_str_eq(t->kpi, "ghg_avoided_tco2e");
    ck_assert_int_eq(t->baseline, 0);
    ck_assert_int_eq(t->target, 1500000); /* thousandths */
    ck_assert_str_eq(t->observation_date, "2025-12-31");
    ck_assert_uint_eq(t->step_up_bps, 25);
    ck_assert_uint_eq(s->framework_sha256.len, 32);
    for (size_t i = 0; i < 32; i++)
        ck_assert_uint_eq(s->framework_sha256.data[i], 0x11);
    ck_assert_uint_eq(s->external_review_sha256.len, 32);
    ck_assert_uint_eq(s->external_review_sha256.data[0], 0xab);
    ck_assert_uint_eq(s->external_review_sha256.data[31], 0x23);
    ck_assert_int_eq(esgw_spec_check(s, err, sizeof err), 0);
}
END_TEST

/* Defaults of the optional keys, other spellings that are allowed. */
START_TEST(optional_keys_and_spellings) {
    static const char green[] =
        "{\"id\": \"GB-1\", \"kind\": \"green_bond\", \"name\": \"G\", \"currency\": \"EUR\","
        " \"face_value\": \"1000\", \"units\": \"18446744073709551615\", \"coupon_bps\": 0,"
        " \"coupon_frequency_months\": 6, \"issue_date\": \"2024-02-29\","
        " \"maturity_date\": \"2025-02-28\", \"co_issuers\": [{\"member\": \"c\", \"share_bps\": 10000}],"
        " \"paying_agent\": \"p\", \"projects\": [{\"id\": \"PRJ\", \"city\": \"c\", \"name\": \"n\","
        " \"eu_objective\": \"EU_OBJECTIVE_bio\", \"budget\": \"0\"}]}";
    esg_pb_instrument_spec *s;
    char err[256];
    ck_assert_msg(parse(green, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(s->kind, ESG_INSTRUMENT_GREEN_BOND);
    ck_assert_uint_eq(s->units, UINT64_MAX);
    ck_assert_uint_eq(s->n_kpi_targets, 0);
    ck_assert_uint_eq(s->framework_sha256.len, 0);
    ck_assert_uint_eq(s->external_review_sha256.len, 0);
    ck_assert_uint_eq(s->projects[0]->n_sdgs, 0);
    ck_assert_int_eq(s->projects[0]->eu_objective, ESG_EU_OBJECTIVE_BIO);
    ck_assert_int_eq(esgw_spec_check(s, err, sizeof err), 0);

    /* baseline defaults to 0; negative and fractional KPI values. */
    char *j = mutate("kpi_targets.0.baseline", NULL);
    ck_assert_int_eq(parse(j, &s, err, sizeof err), 0);
    ck_assert_int_eq(s->kpi_targets[0]->baseline, 0);
    free(j);
    j = mutate("kpi_targets.0.target", "\"-12.5\"");
    ck_assert_int_eq(parse(j, &s, err, sizeof err), 0);
    ck_assert_int_eq(s->kpi_targets[0]->target, -12500);
    free(j);
}
END_TEST

/* Each malformed input: its code and the path the message starts with. */
START_TEST(malformed_inputs_name_their_path) {
    static const struct {
        const char *path, *value; /* NULL value: key removed */
        int code;
        const char *msg;
    } cases[] = {
        {"coupon_bp", "125", ESG_ERR_JSON, "coupon_bp: unknown key"},
        {"co_issuers.1.share_bps", "\"3000\"", ESG_ERR_JSON,
         "co_issuers[1].share_bps: expected an integer, got a string"},
        {"co_issuers.1.share_bps", "-1", ESG_ERR_OVERFLOW, "co_issuers[1].share_bps: "},
        {"co_issuers.1.share_bps", "4294967296", ESG_ERR_OVERFLOW, "co_issuers[1].share_bps: "},
        {"co_issuers.2.weight", "1", ESG_ERR_JSON, "co_issuers[2].weight: unknown key"},
        {"co_issuers.0.member", NULL, ESG_ERR_JSON, "co_issuers[0].member: missing"},
        {"co_issuers.0", "\"city-a\"", ESG_ERR_JSON, "co_issuers[0]: a co-issuer must be"},
        {"co_issuers", "{}", ESG_ERR_JSON, "co_issuers: expected an array"},
        {"face_value", "100000", ESG_ERR_JSON, "face_value: expected a string of integer minor"},
        {"face_value", "\"100000.00\"", ESG_ERR_BAD_DECIMAL, "face_value: '100000.00' is not"},
        {"face_value", "\"1e5\"", ESG_ERR_BAD_DECIMAL, "face_value: "},
        {"face_value", "\" 100\"", ESG_ERR_BAD_DECIMAL, "face_value: "},
        {"face_value", "\"18446744073709551616\"", ESG_ERR_OVERFLOW, "face_value: "},
        {"projects.0.budget", "\"-5\"", ESG_ERR_BAD_DECIMAL, "projects[0].budget: "},
        {"projects.0.eu_objective", "\"CLIMATE\"", ESG_ERR_BAD_PROJECT,
         "projects[0].eu_objective: unknown eu_objective 'CLIMATE'"},
        {"projects.0.eu_objective", "\"UNSPECIFIED\"", ESG_ERR_BAD_PROJECT,
         "projects[0].eu_objective: "},
        {"projects.0.sdgs.1", "18", ESG_ERR_BAD_PROJECT, "projects[0].sdgs[1]: 18 is no"},
        {"projects.0.sdgs.0", "\"7\"", ESG_ERR_JSON, "projects[0].sdgs[0]: "},
        {"projects.0.name", NULL, ESG_ERR_JSON, "projects[0].name: missing"},
        /* NUL is refused by the JSON reader itself. */
        {"projects.0.name", "\"a\\u0000b\"", ESG_ERR_JSON, "not valid JSON: "},
        {"kpi_targets.0.target", "1500", ESG_ERR_JSON, "kpi_targets[0].target: expected a decimal"},
        {"kpi_targets.0.target", "\"1500.0001\"", ESG_ERR_BAD_DECIMAL, "kpi_targets[0].target: "},
        {"kpi_targets.0.baseline", "\"abc\"", ESG_ERR_BAD_DECIMAL, "kpi_targets[0].baseline: "},
        {"kpi_targets.0.observation_date", "\"2025-02-30\"", ESG_ERR_BAD_DATE,
         "kpi_targets[0].observation_date: '2025-02-30' is not a date"},
        {"kpi_targets.0.step_up_bps", NULL, ESG_ERR_JSON, "kpi_targets[0].step_up_bps: missing"},
        {"issue_date", "\"2024-3-1\"", ESG_ERR_BAD_DATE, "issue_date: "},
        {"maturity_date", "20270301", ESG_ERR_JSON, "maturity_date: expected a date"},
        {"kind", "\"BLUE_BOND\"", ESG_ERR_BAD_INSTRUMENT_KIND, "kind: unknown kind 'BLUE_BOND'"},
        {"kind", "4", ESG_ERR_JSON, "kind: expected a name"},
        {"framework_sha256", "\"abcd\"", ESG_ERR_HEX, "framework_sha256: 'abcd' is not a SHA-256"},
        {"external_review_sha256",
         "\"zz11111111111111111111111111111111111111111111111111111111111111\"", ESG_ERR_HEX,
         "external_review_sha256: "},
        {"units", "-1", ESG_ERR_OVERFLOW, "units: "},
        {"units", "1.5", ESG_ERR_JSON, "units: expected an integer"},
        {"units", "\"12a\"", ESG_ERR_BAD_DECIMAL, "units: "},
        {"coupon_frequency_months", "true", ESG_ERR_JSON, "coupon_frequency_months: "},
        {"paying_agent", NULL, ESG_ERR_JSON, "paying_agent: missing"},
        {"name", "null", ESG_ERR_JSON, "name: expected a string, got null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *j = mutate(cases[i].path, cases[i].value);
        esg_pb_instrument_spec *s = (void *)1;
        char err[256];
        int rc = parse(j, &s, err, sizeof err);
        ck_assert_msg(rc == cases[i].code, "%s=%s: %s, expected %s (%s)", cases[i].path,
                      cases[i].value ? cases[i].value : "(deleted)", esg_err_name(rc),
                      esg_err_name(cases[i].code), err);
        ck_assert_ptr_null(s);
        ck_assert_msg(strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0,
                      "%s: message '%s' does not start with '%s'", cases[i].path, err,
                      cases[i].msg);
        ck_assert_msg(strchr(err, '\n') == NULL && err[strlen(err) - 1] != '.',
                      "message not one line without a period: %s", err);
        free(j);
    }
}
END_TEST

START_TEST(not_json_or_not_an_object) {
    esg_pb_instrument_spec *s;
    char err[256];
    ck_assert_int_eq(parse("{\"id\": ", &s, err, sizeof err), ESG_ERR_JSON);
    ck_assert_ptr_nonnull(strstr(err, "not valid JSON"));
    ck_assert_int_eq(parse("[1]", &s, err, sizeof err), ESG_ERR_JSON);
    ck_assert_int_eq(parse("", &s, err, sizeof err), ESG_ERR_JSON);
    /* A duplicated key is refused, not resolved either way. */
    ck_assert_int_eq(parse("{\"id\": \"A\", \"id\": \"B\"}", &s, err, sizeof err), ESG_ERR_JSON);
    ck_assert_int_eq(esgw_spec_parse(&s, "{}", 2, arena_alloc, &A, NULL, 0), ESG_ERR_JSON);
    ck_assert_int_eq(parse("{}", &s, err, sizeof err), ESG_ERR_JSON);
    ck_assert_str_eq(err, "id: missing (required in an instrument spec)");
}
END_TEST

/* The rules a spec breaks on its own, each with the contract's code. */
START_TEST(check_applies_the_spec_rules) {
    static const struct {
        const char *path, *value;
        int code;
        const char *msg;
    } cases[] = {
        {"id", "\"jgb-1\"", ESG_ERR_BAD_INSTRUMENT_ID, "id: "},
        {"id", "\"AB\"", ESG_ERR_BAD_INSTRUMENT_ID, "id: "},
        {"currency", "\"eur\"", ESG_ERR_BAD_CURRENCY, "currency: "},
        {"face_value", "\"0\"", ESG_ERR_BAD_AMOUNT, "face_value: "},
        {"units", "0", ESG_ERR_BAD_AMOUNT, "units: "},
        {"co_issuers", "[]", ESG_ERR_CO_ISSUER_COUNT, "co_issuers: 0 co-issuers"},
        {"co_issuers.2.member", "\"city-a\"", ESG_ERR_DUPLICATE_CO_ISSUER,
         "co_issuers[2].member: 'city-a' is already co_issuers[0]"},
        {"co_issuers.1.share_bps", "0", ESG_ERR_BAD_SHARE, "co_issuers[1].share_bps: "},
        {"co_issuers.1.share_bps", "2999", ESG_ERR_SHARES_SUM,
         "co_issuers: shares sum to 9999 bps, not 10000"},
        {"projects.0.city", "\"city-z\"", ESG_ERR_PROJECT_CITY,
         "projects[0].city: 'city-z' is not a co-issuer"},
        {"projects.0.id", "\"P\"", ESG_ERR_BAD_PROJECT_ID, "projects[0].id: 'P' must match"},
        {"maturity_date", "\"2024-03-01\"", ESG_ERR_BAD_DATES, "maturity_date: "},
        {"coupon_frequency_months", "2", ESG_ERR_BAD_FREQUENCY, "coupon_frequency_months: "},
        {"kpi_targets", "[]", ESG_ERR_KPI_TARGETS, "kpi_targets: "},
        {"kind", "\"GREEN_BOND\"", ESG_ERR_KPI_TARGETS, "kpi_targets: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *j = mutate(cases[i].path, cases[i].value);
        esg_pb_instrument_spec *s;
        char err[256];
        ck_assert_msg(parse(j, &s, err, sizeof err) == 0, "%s", err);
        int rc = esgw_spec_check(s, err, sizeof err);
        ck_assert_msg(rc == cases[i].code, "%s=%s: %s, expected %s (%s)", cases[i].path,
                      cases[i].value, esg_err_name(rc), esg_err_name(cases[i].code), err);
        ck_assert_msg(strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0,
                      "%s: message '%s' does not start with '%s'", cases[i].path, err,
                      cases[i].msg);
        free(j);
    }
    /* Eleven co-issuers are too many. */
    json_t *root = json_loads(example, 0, NULL);
    json_t *cos = json_array();
    for (int i = 0; i < 11; i++) {
        char m[16];
        snprintf(m, sizeof m, "city-%d", i);
        json_array_append_new(cos, json_pack("{s:s, s:i}", "member", m, "share_bps",
                                             i ? 909 : 910));
    }
    json_object_set_new(root, "co_issuers", cos);
    json_object_set_new(root, "projects", json_array());
    char *j = json_dumps(root, 0);
    json_decref(root);
    esg_pb_instrument_spec *s;
    char err[256];
    ck_assert_int_eq(parse(j, &s, err, sizeof err), 0);
    ck_assert_int_eq(esgw_spec_check(s, err, sizeof err), ESG_ERR_CO_ISSUER_COUNT);
    free(j);
}
END_TEST

/* The fields of issue 9: objectives as a list, the EU GBS project fields,
 * a reference to a registered project, the ISIN and the look-back. */
START_TEST(projects_references_and_eu_gbs_fields) {
    esg_pb_instrument_spec *s;
    char err[256];
    ck_assert_msg(parse(full, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(s->isin, "XS1234567896");
    ck_assert_uint_eq(s->refinancing_lookback_months, 24);
    ck_assert_uint_eq(s->n_projects, 3);
    /* eu_objectives alone: the first into eu_objective, the rest after. */
    const esg_pb_project *p = s->projects[0];
    ck_assert_str_eq(p->id, "A-TRAM");
    ck_assert_int_eq(p->eu_objective, ESG_EU_OBJECTIVE_CCM);
    ck_assert_uint_eq(p->n_eu_objectives, 2);
    ck_assert_int_eq(p->eu_objectives[0], ESG_EU_OBJECTIVE_PPC);
    ck_assert_int_eq(p->eu_objectives[1], ESG_EU_OBJECTIVE_BIO);
    ck_assert_str_eq(p->taxonomy_activity, "6.14");
    ck_assert_str_eq(p->nace, "F42.1");
    ck_assert_uint_eq(p->total_cost, 12000000);
    ck_assert_str_eq(p->location, "Odos 25is Avgoustou, Heraklion");
    ck_assert_uint_eq(p->budget, 5000000);
    /* Both: eu_objective first, eu_objectives the further ones. */
    p = s->projects[1];
    ck_assert_int_eq(p->eu_objective, ESG_EU_OBJECTIVE_CCA);
    ck_assert_uint_eq(p->n_eu_objectives, 1);
    ck_assert_int_eq(p->eu_objectives[0], ESG_EU_OBJECTIVE_CE);
    ck_assert_str_eq(p->taxonomy_activity, "");
    ck_assert_uint_eq(p->total_cost, 0);
    /* A reference: only id and budget. */
    p = s->projects[2];
    ck_assert_str_eq(p->id, "HER-PV");
    ck_assert_uint_eq(p->budget, 2500000);
    ck_assert_str_eq(p->city, "");
    ck_assert_str_eq(p->name, "");
    ck_assert_int_eq(p->eu_objective, 0);
    ck_assert_uint_eq(p->n_eu_objectives, 0);
    ck_assert_msg(esgw_spec_check(s, err, sizeof err) == 0, "%s", err);
    size_t l0, l1, l2;
    uint8_t *b0 = encode(s, &l0);

    /* Both, the list starting with eu_objective: the same message. */
    char *j = mutate_doc(full, "projects.1.eu_objectives", "[\"CCA\", \"CE\"]");
    ck_assert_msg(parse(j, &s, err, sizeof err) == 0, "%s", err);
    uint8_t *b1 = encode(s, &l1);
    ck_assert_uint_eq(l0, l1);
    ck_assert_mem_eq(b0, b1, l0);
    free(j);
    /* eu_objectives alone, the whole list: the same message again. */
    j = mutate_doc(full, "projects.1",
                   "{\"id\": \"B-PUMP\", \"city\": \"city-b\", \"name\": \"Heat pumps\", "
                   "\"eu_objectives\": [\"CCA\", \"CE\"], \"budget\": \"1000000\"}");
    ck_assert_msg(parse(j, &s, err, sizeof err) == 0, "%s", err);
    uint8_t *b2 = encode(s, &l2);
    ck_assert_uint_eq(l0, l2);
    ck_assert_mem_eq(b0, b2, l0);
    free(j);
    free(b0);
    free(b1);
    free(b2);
    /* eu_objective with an empty list is the one objective. */
    j = mutate_doc(full, "projects.1.eu_objectives", "[]");
    ck_assert_msg(parse(j, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(s->projects[1]->eu_objective, ESG_EU_OBJECTIVE_CCA);
    ck_assert_uint_eq(s->projects[1]->n_eu_objectives, 0);
    free(j);

    /* A reference skips the co-issuer rule (its city is the ledger's to
     * know); an inline project keeps it. */
    j = mutate("projects.0", "{\"id\": \"HER-PV\", \"budget\": \"2500000\"}");
    ck_assert_msg(parse(j, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(esgw_spec_check(s, err, sizeof err), 0);
    free(j);
}
END_TEST

/* The refusals of the new keys, each with its code and path. */
START_TEST(new_fields_refused) {
    static const struct {
        const char *path, *value; /* on `full`; NULL value: key removed */
        int code;
        const char *msg;
    } cases[] = {
        {"projects.0.eu_objectives", "[\"CCM\", \"PPC\", \"PPC\"]", ESG_ERR_BAD_PROJECT,
         "projects[0].eu_objectives[2]: 'PPC' is listed twice"},
        {"projects.1.eu_objectives", "[\"CE\", \"CCA\"]", ESG_ERR_BAD_PROJECT,
         "projects[1].eu_objectives[1]: 'CCA' is listed twice"},
        {"projects.1.eu_objectives", "[\"CCA\", \"CCA\"]", ESG_ERR_BAD_PROJECT,
         "projects[1].eu_objectives[1]: 'CCA' is listed twice"},
        {"projects.0.eu_objectives", "[]", ESG_ERR_BAD_PROJECT,
         "projects[0].eu_objectives: an inline project needs at least one objective"},
        {"projects.0.eu_objectives", NULL, ESG_ERR_JSON,
         "projects[0]: missing eu_objective or eu_objectives"},
        {"projects.0.eu_objectives", "\"CCM\"", ESG_ERR_JSON,
         "projects[0].eu_objectives: expected an array"},
        {"projects.0.eu_objectives", "[1]", ESG_ERR_JSON,
         "projects[0].eu_objectives[0]: expected a name, got"},
        {"projects.0.eu_objectives", "[\"CCM\", \"CLIMATE\"]", ESG_ERR_BAD_PROJECT,
         "projects[0].eu_objectives[1]: unknown eu_objective 'CLIMATE'"},
        {"projects.0.eu_objectives", "[\"UNSPECIFIED\"]", ESG_ERR_BAD_PROJECT,
         "projects[0].eu_objectives[0]: unknown eu_objective"},
        {"projects.0.total_cost", "\"0\"", ESG_ERR_BAD_PROJECT,
         "projects[0].total_cost: must be positive (leave it out when it is the budget)"},
        {"projects.0.total_cost", "12000000", ESG_ERR_JSON,
         "projects[0].total_cost: expected a string of integer minor units"},
        {"projects.0.total_cost", "\"12000000.00\"", ESG_ERR_BAD_DECIMAL,
         "projects[0].total_cost: '12000000.00' is not an amount"},
        {"projects.0.total_cost", "\"18446744073709551616\"", ESG_ERR_OVERFLOW,
         "projects[0].total_cost: "},
        {"projects.0.taxonomy_activity", "\"\"", ESG_ERR_BAD_PROJECT,
         "projects[0].taxonomy_activity: must not be empty (leave the key out)"},
        {"projects.0.taxonomy_activity", "7.2", ESG_ERR_JSON,
         "projects[0].taxonomy_activity: expected a string"},
        {"projects.0.nace", "\"\"", ESG_ERR_BAD_PROJECT, "projects[0].nace: must not be empty"},
        {"projects.0.location", "\"\"", ESG_ERR_BAD_PROJECT,
         "projects[0].location: must not be empty"},
        {"projects.0.location", "null", ESG_ERR_JSON, "projects[0].location: expected a string"},
        {"projects.0.cost", "\"1\"", ESG_ERR_JSON,
         "projects[0].cost: unknown key (an inline project takes: "},
        {"projects.0.city", NULL, ESG_ERR_JSON,
         "projects[0].city: missing (required in an inline project)"},
        {"projects.0", "\"A-TRAM\"", ESG_ERR_JSON, "projects[0]: a project must be a JSON object"},
        /* A reference holds id and budget, both; anything more is inline. */
        {"projects.2.budget", NULL, ESG_ERR_JSON,
         "projects[2].budget: missing (required in a reference to a registered project)"},
        {"projects.2.id", NULL, ESG_ERR_JSON,
         "projects[2].id: missing (required in a reference to a registered project)"},
        {"projects.2.budget", "2500000", ESG_ERR_JSON,
         "projects[2].budget: expected a string of integer minor units"},
        {"projects.2.sdgs", "[7]", ESG_ERR_JSON,
         "projects[2].city: missing (required in an inline project)"},
        {"isin", "\"\"", ESG_ERR_BAD_ISIN, "isin: must not be empty (leave the key out)"},
        {"isin", "12", ESG_ERR_JSON, "isin: expected a string"},
        {"refinancing_lookback_months", "0", ESG_ERR_OVERFLOW,
         "refinancing_lookback_months: 0 is out of range 1..120 (leave the key out for the "
         "default, 36)"},
        {"refinancing_lookback_months", "121", ESG_ERR_OVERFLOW,
         "refinancing_lookback_months: 121 is out of range 1..120"},
        {"refinancing_lookback_months", "4294967296", ESG_ERR_OVERFLOW,
         "refinancing_lookback_months: 4294967296 is out of range 1..120"},
        {"refinancing_lookback_months", "-1", ESG_ERR_OVERFLOW, "refinancing_lookback_months: "},
        {"refinancing_lookback_months", "\"24\"", ESG_ERR_JSON,
         "refinancing_lookback_months: expected an integer, got a string"},
        {"refinancing_lookback_months", "2.5", ESG_ERR_JSON,
         "refinancing_lookback_months: expected an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *j = mutate_doc(full, cases[i].path, cases[i].value);
        esg_pb_instrument_spec *s = (void *)1;
        char err[256];
        int rc = parse(j, &s, err, sizeof err);
        ck_assert_msg(rc == cases[i].code, "%s=%s: %s, expected %s (%s)", cases[i].path,
                      cases[i].value ? cases[i].value : "(deleted)", esg_err_name(rc),
                      esg_err_name(cases[i].code), err);
        ck_assert_ptr_null(s);
        ck_assert_msg(strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0,
                      "%s: message '%s' does not start with '%s'", cases[i].path, err,
                      cases[i].msg);
        free(j);
    }
}
END_TEST

/* The spec-only rules of issue 9, each with the contract's code. */
START_TEST(check_applies_the_project_rules) {
    static const struct {
        const char *path, *value; /* on `full` */
        int code;
        const char *msg;
    } cases[] = {
        {"projects.0.id", "\"a-tram\"", ESG_ERR_BAD_PROJECT_ID,
         "projects[0].id: 'a-tram' must match [A-Z0-9-]{3,40}"},
        {"projects.0.id", "\"AT\"", ESG_ERR_BAD_PROJECT_ID, "projects[0].id: 'AT' must match"},
        {"projects.0.id", "\"A-TRAM_2\"", ESG_ERR_BAD_PROJECT_ID, "projects[0].id: "},
        {"projects.0.id", "\"A234567890123456789012345678901234567890X\"", ESG_ERR_BAD_PROJECT_ID,
         "projects[0].id: "},
        {"projects.2.id", "\"her-pv\"", ESG_ERR_BAD_PROJECT_ID,
         "projects[2].id: 'her-pv' must match"},
        {"projects.2.id", "\"A-TRAM\"", ESG_ERR_BAD_PROJECT,
         "projects[2].id: 'A-TRAM' is already projects[0]"},
        {"projects.1.id", "\"A-TRAM\"", ESG_ERR_BAD_PROJECT,
         "projects[1].id: 'A-TRAM' is already projects[0]"},
        {"projects.0.taxonomy_activity", "\"7\"", ESG_ERR_BAD_PROJECT,
         "projects[0].taxonomy_activity: '7' is not an EU Taxonomy activity number"},
        {"projects.0.taxonomy_activity", "\"7.2.1\"", ESG_ERR_BAD_PROJECT,
         "projects[0].taxonomy_activity: "},
        {"projects.0.nace", "\"Z41\"", ESG_ERR_BAD_PROJECT,
         "projects[0].nace: 'Z41' is not a NACE Rev. 2 code"},
        {"projects.0.nace", "\"F4\"", ESG_ERR_BAD_PROJECT, "projects[0].nace: "},
        {"projects.1.city", "\"city-z\"", ESG_ERR_PROJECT_CITY,
         "projects[1].city: 'city-z' is not a co-issuer"},
        {"isin", "\"XS1234567895\"", ESG_ERR_BAD_ISIN,
         "isin: 'XS1234567895' is not an ISIN"},
        {"isin", "\"xs1234567896\"", ESG_ERR_BAD_ISIN, "isin: "},
        {"isin", "\"XS123456789\"", ESG_ERR_BAD_ISIN, "isin: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *j = mutate_doc(full, cases[i].path, cases[i].value);
        esg_pb_instrument_spec *s;
        char err[256];
        ck_assert_msg(parse(j, &s, err, sizeof err) == 0, "%s", err);
        int rc = esgw_spec_check(s, err, sizeof err);
        ck_assert_msg(rc == cases[i].code, "%s=%s: %s, expected %s (%s)", cases[i].path,
                      cases[i].value, esg_err_name(rc), esg_err_name(cases[i].code), err);
        ck_assert_msg(strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0,
                      "%s: message '%s' does not start with '%s'", cases[i].path, err,
                      cases[i].msg);
        free(j);
    }
}
END_TEST

/* parse(write(parse(x))) encodes exactly as parse(x). */
START_TEST(round_trip) {
    char *green = mutate("kind", "\"GREEN_BOND\"");
    char *neg = mutate("kpi_targets.0.baseline", "\"-0.001\"");
    char *both = mutate_doc(full, "projects.1.eu_objectives", "[\"CCA\", \"CE\"]");
    const char *all[] = {example, green, neg, full, both};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        esg_pb_instrument_spec *s, *s2;
        char err[256];
        ck_assert_msg(parse(all[i], &s, err, sizeof err) == 0, "%s", err);
        json_t *j = esgw_spec_to_json(s);
        ck_assert_ptr_nonnull(j);
        char *text = json_dumps(j, JSON_INDENT(2));
        json_decref(j);
        ck_assert_msg(parse(text, &s2, err, sizeof err) == 0, "%s\n%s", err, text);
        size_t l1, l2;
        uint8_t *b1 = encode(s, &l1), *b2 = encode(s2, &l2);
        ck_assert_uint_eq(l1, l2);
        ck_assert_mem_eq(b1, b2, l1);
        free(b1);
        free(b2);
        if (i == 0) {
            /* The written form is the file format: money and KPI values as
             * strings, enums by name, hashes in lower-case hex. */
            json_t *w = json_loads(text, 0, NULL);
            ck_assert_str_eq(json_string_value(json_object_get(w, "face_value")), "100000");
            ck_assert_str_eq(json_string_value(json_object_get(w, "kind")),
                             "SUSTAINABILITY_LINKED_BOND");
            json_t *t = json_array_get(json_object_get(w, "kpi_targets"), 0);
            ck_assert_str_eq(json_string_value(json_object_get(t, "target")), "1500.000");
            ck_assert_str_eq(json_string_value(json_object_get(t, "baseline")), "0.000");
            ck_assert_str_eq(json_string_value(json_object_get(w, "external_review_sha256")),
                             "abcdefabcdef0123456789abcdef0123456789abcdef0123456789abcdef0123");
            json_t *p = json_array_get(json_object_get(w, "projects"), 0);
            ck_assert_str_eq(json_string_value(json_object_get(p, "eu_objective")), "CCM");
            ck_assert_str_eq(json_string_value(json_object_get(p, "budget")), "20000000");
            ck_assert_ptr_null(json_object_get(p, "eu_objectives"));
            ck_assert_ptr_null(json_object_get(p, "total_cost"));
            ck_assert_ptr_null(json_object_get(w, "isin"));
            ck_assert_ptr_null(json_object_get(w, "refinancing_lookback_months"));
            json_decref(w);
        }
        if (i == 3) {
            /* Several objectives as the whole list; a single one as
             * eu_objective; a reference as exactly {id, budget}; the
             * optional keys that are set, and only those. */
            json_t *w = json_loads(text, 0, NULL);
            ck_assert_str_eq(json_string_value(json_object_get(w, "isin")), "XS1234567896");
            ck_assert_int_eq(json_integer_value(json_object_get(w, "refinancing_lookback_months")),
                             24);
            json_t *ps = json_object_get(w, "projects");
            json_t *p0 = json_array_get(ps, 0), *p1 = json_array_get(ps, 1),
                   *p2 = json_array_get(ps, 2);
            json_t *objs = json_object_get(p0, "eu_objectives");
            ck_assert_uint_eq(json_array_size(objs), 3);
            ck_assert_str_eq(json_string_value(json_array_get(objs, 0)), "CCM");
            ck_assert_str_eq(json_string_value(json_array_get(objs, 1)), "PPC");
            ck_assert_str_eq(json_string_value(json_array_get(objs, 2)), "BIO");
            ck_assert_ptr_null(json_object_get(p0, "eu_objective"));
            ck_assert_str_eq(json_string_value(json_object_get(p0, "taxonomy_activity")), "6.14");
            ck_assert_str_eq(json_string_value(json_object_get(p0, "nace")), "F42.1");
            ck_assert_str_eq(json_string_value(json_object_get(p0, "total_cost")), "12000000");
            ck_assert_str_eq(json_string_value(json_object_get(p0, "location")),
                             "Odos 25is Avgoustou, Heraklion");
            objs = json_object_get(p1, "eu_objectives");
            ck_assert_uint_eq(json_array_size(objs), 2);
            ck_assert_str_eq(json_string_value(json_array_get(objs, 0)), "CCA");
            ck_assert_ptr_null(json_object_get(p1, "nace"));
            ck_assert_ptr_null(json_object_get(p1, "location"));
            ck_assert_uint_eq(json_object_size(p2), 2);
            ck_assert_str_eq(json_string_value(json_object_get(p2, "id")), "HER-PV");
            ck_assert_str_eq(json_string_value(json_object_get(p2, "budget")), "2500000");
            json_decref(w);
        }
        free(text);
    }
    free(green);
    free(neg);
    free(both);
}
END_TEST

Suite *suite_spec(void) {
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("spec");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, example_parses_to_its_fields);
    tcase_add_test(tc, optional_keys_and_spellings);
    tcase_add_test(tc, malformed_inputs_name_their_path);
    tcase_add_test(tc, not_json_or_not_an_object);
    tcase_add_test(tc, check_applies_the_spec_rules);
    tcase_add_test(tc, projects_references_and_eu_gbs_fields);
    tcase_add_test(tc, new_fields_refused);
    tcase_add_test(tc, check_applies_the_project_rules);
    tcase_add_test(tc, round_trip);
    suite_add_tcase(s, tc);
    return s;
}
