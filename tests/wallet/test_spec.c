/* Instrument spec files (wallet/spec.h): the DESIGN.md §10 example parses
 * to the right fields, every malformed input is refused with its code and
 * the JSON path of the culprit, the spec-only rules are checked, and a
 * spec written back out parses to the same message. */
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

/* DESIGN.md §10's example, with real hashes. */
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

static int parse(const char *json, esg_pb_instrument_spec **s, char *err, size_t errlen) {
    return esgw_spec_parse(s, json, strlen(json), arena_alloc, &A, err, errlen);
}

/* The example with `path` (a jansson-style key path: "co_issuers.1.share_bps")
 * set to `value` (a JSON text; NULL deletes the key). Caller frees. */
static char *mutate(const char *path, const char *value) {
    json_t *root = json_loads(example, 0, NULL);
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
        " \"paying_agent\": \"p\", \"projects\": [{\"id\": \"P\", \"city\": \"c\", \"name\": \"n\","
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

/* parse(write(parse(x))) encodes exactly as parse(x). */
START_TEST(round_trip) {
    static const char *const inputs[] = {example, NULL, NULL};
    char *green = mutate("kind", "\"GREEN_BOND\"");
    char *neg = mutate("kpi_targets.0.baseline", "\"-0.001\"");
    const char *all[] = {inputs[0], green, neg};
    for (size_t i = 0; i < 3; i++) {
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
            json_decref(w);
        }
        free(text);
    }
    free(green);
    free(neg);
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
    tcase_add_test(tc, round_trip);
    suite_add_tcase(s, tc);
    return s;
}
