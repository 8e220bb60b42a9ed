#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/hash.h"
#include "testutil.h"

/* A Legal Entity Identifier with valid check digits, and one digit off. */
#define LEI_OK "5493001KJTIIGC8Y1R12"
#define LEI_BAD "5493001KJTIIGC8Y1R13"

/* BIP340 test-vector public keys (valid), and two that are not keys. */
#define PK0 "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define PK1 "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659"
#define PK2 "dd308afec5777e13121fa72b9cc1b7cc0139715309b086c960e18fd969774eb8"
#define PK3 "25d1dff95105f5253c4022f628a996ad3a0d95fbf21d468a1b33f8c160d8f517"
#define PK4 "d69c3509bb99e412e68b0fe8544e72837dfa30746d8be2aa65975f29d22dc7b9"
#define PK_OFF_CURVE "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34"

static esg_pubkey pk(const char *hex) {
    esg_pubkey p;
    ck_assert_int_eq(esg_hex_decode(p.b, 32, hex), ESG_OK);
    return p;
}

static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Test documents are written with ' for " to stay readable. */
static int parse_sq(esg_genesis **g, const char *sq, char *err, size_t errlen) {
    char *s = strdup(sq);
    ck_assert_ptr_nonnull(s);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    int rc = esg_genesis_parse(g, (const uint8_t *)s, strlen(s), err, errlen);
    free(s);
    return rc;
}

/* Fragments of small documents. */
#define HEAD "'chain_id': 'c-1', 'genesis_time': '2026-01-01T00:00:00Z'"
#define ACC(pk) "{'pubkey': '" pk "', 'roles': ['ADMIN']}"
#define MEMBER(id, kind, pk) \
    "{'id': '" id "', 'kind': '" kind "', 'name': 'N', 'accounts': [" ACC(pk) "]}"
#define CITY_A MEMBER("city-a", "CITY", PK1)
#define VER_V MEMBER("ver-v", "VERIFIER", PK2)
#define VAL(pk, power, op) \
    "{'pubkey': '" pk "', 'power': " power ", 'operator': '" op "'}"
#define VAL_A VAL(PK0, "1", "city-a")
#define DOC(members, validators, extra) \
    "{" HEAD ", 'members': [" members "], 'validators': [" validators "]" extra "}"
#define KPI(id, cat, dir) \
    "{'id': '" id "', 'name': 'K', 'unit': 't', 'category': '" cat \
    "', 'direction': '" dir "'}"

/* The example file tests/data/genesis-example.json parses into the right
 * fields. */
START_TEST(example_parses) {
    size_t len;
    uint8_t *bytes = read_all(tu_data_path("genesis-example.json"), &len);
    esg_genesis *g = NULL;
    char err[256];
    ck_assert_int_eq(esg_genesis_parse(&g, bytes, len, err, sizeof err), ESG_OK);
    ck_assert_str_eq(g->chain_id, "esg-local-1");
    ck_assert_uint_eq(g->genesis_time_ms, UINT64_C(1767225600000));
    ck_assert_uint_eq(g->params.governance_threshold_bps, 6667);
    ck_assert_uint_eq(g->params.proposal_ttl_blocks, 10000);
    ck_assert_uint_eq(g->params.max_block_txs, 10000);
    ck_assert_uint_eq(g->params.max_block_bytes, 8388608);

    ck_assert_uint_eq(g->n_members, 3);
    const esg_genesis_member *m = &g->members[0];
    ck_assert_str_eq(m->id, "city-heraklion");
    ck_assert_int_eq(m->kind, ESG_KIND_CITY);
    ck_assert_str_eq(m->name, "Heraklion");
    ck_assert_str_eq(m->country, "GR");
    ck_assert_uint_eq(m->n_accounts, 1);
    esg_pubkey want = pk(PK1);
    ck_assert_mem_eq(m->accounts[0].pubkey.b, want.b, 32);
    ck_assert_uint_eq(m->accounts[0].roles, ESG_ROLE_BIT_ADMIN | ESG_ROLE_BIT_OFFICER);
    m = &g->members[1];
    ck_assert_int_eq(m->kind, ESG_KIND_VERIFIER);
    ck_assert_uint_eq(m->n_accounts, 2);
    ck_assert_uint_eq(m->accounts[0].roles, ESG_ROLE_BIT_ADMIN);
    ck_assert_uint_eq(m->accounts[1].roles, ESG_ROLE_BIT_OFFICER);
    m = &g->members[2];
    ck_assert_int_eq(m->kind, ESG_KIND_INVESTOR);
    ck_assert_str_eq(m->country, ""); /* absent */
    ck_assert_uint_eq(m->accounts[0].roles, ESG_ROLE_BIT_ADMIN | ESG_ROLE_BIT_OFFICER);

    ck_assert_uint_eq(g->n_validators, 1);
    want = pk(PK0);
    ck_assert_mem_eq(g->validators[0].pubkey.b, want.b, 32);
    ck_assert_uint_eq(g->validators[0].power, 10);
    ck_assert_str_eq(g->validators[0].operator_id, "city-heraklion");

    ck_assert_uint_eq(g->n_kpis, 1);
    ck_assert_str_eq(g->kpis[0].id, "ghg_avoided_tco2e");
    ck_assert_str_eq(g->kpis[0].name, "GHG emissions avoided");
    ck_assert_str_eq(g->kpis[0].unit, "tCO2e");
    ck_assert_str_eq(g->kpis[0].category, "climate");
    ck_assert_int_eq(g->kpis[0].direction, ESG_KPI_HIGHER);

    ck_assert_uint_eq(g->n_accreditations, 1);
    ck_assert_str_eq(g->accreditations[0].member, "verifier-a");
    ck_assert_uint_eq(g->accreditations[0].n_categories, 2);
    ck_assert_str_eq(g->accreditations[0].categories[0], "climate");
    ck_assert_str_eq(g->accreditations[0].categories[1], "energy");

    /* The hash is of the exact file bytes. */
    esg_hash h = esg_hash_tagged(ESG_TAG_GENESIS, bytes, len);
    ck_assert(esg_hash_eq(&g->hash, &h));
    esg_genesis_free(g);

    /* load reads the same file into the same genesis. */
    ck_assert_int_eq(esg_genesis_load(&g, tu_data_path("genesis-example.json"),
                                      err, sizeof err), ESG_OK);
    ck_assert(esg_hash_eq(&g->hash, &h));
    ck_assert_uint_eq(g->n_members, 3);
    esg_genesis_free(g);
    free(bytes);
}
END_TEST

/* Absent params, kpis, accreditations and country take their defaults;
 * a partial params object keeps the defaults of the keys it leaves out. */
START_TEST(defaults_when_absent) {
    esg_genesis *g = NULL;
    char err[256];
    ck_assert_int_eq(parse_sq(&g, DOC(CITY_A, VAL_A, ""), err, sizeof err), ESG_OK);
    ck_assert_uint_eq(g->params.governance_threshold_bps, 6667);
    ck_assert_uint_eq(g->params.proposal_ttl_blocks, 10000);
    ck_assert_uint_eq(g->params.max_block_txs, 10000);
    ck_assert_uint_eq(g->params.max_block_bytes, 8388608);
    ck_assert_uint_eq(g->n_kpis, 0);
    ck_assert_ptr_null(g->kpis);
    ck_assert_uint_eq(g->n_accreditations, 0);
    ck_assert_str_eq(g->members[0].country, "");
    esg_genesis_free(g);

    ck_assert_int_eq(parse_sq(&g, DOC(CITY_A, VAL_A,
                                      ", 'params': {'proposal_ttl_blocks': 5, "
                                      "'governance_threshold_bps': 10000}"),
                              err, sizeof err), ESG_OK);
    ck_assert_uint_eq(g->params.governance_threshold_bps, 10000);
    ck_assert_uint_eq(g->params.proposal_ttl_blocks, 5);
    ck_assert_uint_eq(g->params.max_block_txs, 10000);
    ck_assert_uint_eq(g->params.max_block_bytes, 8388608);
    esg_genesis_free(g);

    /* Kinds and roles in any case; empty kpis and accreditations lists. */
    ck_assert_int_eq(parse_sq(&g, DOC(MEMBER("city-a", "city", PK1), VAL_A,
                                      ", 'kpis': [], 'accreditations': []"),
                              err, sizeof err), ESG_OK);
    ck_assert_int_eq(g->members[0].kind, ESG_KIND_CITY);
    esg_genesis_free(g);

    /* A validator key may also be an account key (separate namespaces). */
    ck_assert_int_eq(parse_sq(&g, DOC(CITY_A, VAL(PK1, "1", "city-a"), ""), err,
                              sizeof err), ESG_OK);
    esg_genesis_free(g);
}
END_TEST

static void assert_same_genesis(const esg_genesis *a, const esg_genesis *b) {
    ck_assert_str_eq(a->chain_id, b->chain_id);
    ck_assert_uint_eq(a->genesis_time_ms, b->genesis_time_ms);
    ck_assert_mem_eq(&a->params, &b->params, sizeof a->params);
    ck_assert_uint_eq(a->n_members, b->n_members);
    for (size_t i = 0; i < a->n_members; i++) {
        const esg_genesis_member *x = &a->members[i], *y = &b->members[i];
        ck_assert_str_eq(x->id, y->id);
        ck_assert_str_eq(x->name, y->name);
        ck_assert_str_eq(x->country, y->country);
        ck_assert_str_eq(x->lei, y->lei);
        ck_assert_uint_eq(x->population, y->population);
        ck_assert_int_eq(x->kind, y->kind);
        ck_assert_uint_eq(x->n_accounts, y->n_accounts);
        for (size_t j = 0; j < x->n_accounts; j++) {
            ck_assert_mem_eq(x->accounts[j].pubkey.b, y->accounts[j].pubkey.b, 32);
            ck_assert_uint_eq(x->accounts[j].roles, y->accounts[j].roles);
        }
    }
    ck_assert_uint_eq(a->n_validators, b->n_validators);
    for (size_t i = 0; i < a->n_validators; i++) {
        ck_assert_mem_eq(a->validators[i].pubkey.b, b->validators[i].pubkey.b, 32);
        ck_assert_uint_eq(a->validators[i].power, b->validators[i].power);
        ck_assert_str_eq(a->validators[i].operator_id, b->validators[i].operator_id);
    }
    ck_assert_uint_eq(a->n_kpis, b->n_kpis);
    for (size_t i = 0; i < a->n_kpis; i++) {
        ck_assert_str_eq(a->kpis[i].id, b->kpis[i].id);
        ck_assert_str_eq(a->kpis[i].name, b->kpis[i].name);
        ck_assert_str_eq(a->kpis[i].unit, b->kpis[i].unit);
        ck_assert_str_eq(a->kpis[i].category, b->kpis[i].category);
        ck_assert_int_eq(a->kpis[i].direction, b->kpis[i].direction);
    }
    ck_assert_uint_eq(a->n_accreditations, b->n_accreditations);
    for (size_t i = 0; i < a->n_accreditations; i++) {
        ck_assert_str_eq(a->accreditations[i].member, b->accreditations[i].member);
        ck_assert_uint_eq(a->accreditations[i].n_categories,
                          b->accreditations[i].n_categories);
        for (size_t c = 0; c < a->accreditations[i].n_categories; c++)
            ck_assert_str_eq(a->accreditations[i].categories[c],
                             b->accreditations[i].categories[c]);
    }
}

/* to_json writes the keys in the order of docs/GENESIS.md; parsing it gives
 * the same genesis; writing that again gives the same bytes. */
START_TEST(to_json_round_trip) {
    esg_genesis *g = NULL, *g2 = NULL, *g3 = NULL;
    char err[256];
    ck_assert_int_eq(esg_genesis_load(&g, tu_data_path("genesis-example.json"),
                                      err, sizeof err), ESG_OK);
    char *j1 = NULL, *j2 = NULL;
    size_t l1, l2;
    ck_assert_int_eq(esg_genesis_to_json(g, &j1, &l1), ESG_OK);
    ck_assert_uint_eq(strlen(j1), l1);
    ck_assert_int_eq(j1[l1 - 1], '\n');
    ck_assert_int_eq(esg_genesis_parse(&g2, (uint8_t *)j1, l1, err, sizeof err), ESG_OK);
    assert_same_genesis(g, g2);
    ck_assert_int_eq(esg_genesis_to_json(g2, &j2, &l2), ESG_OK);
    ck_assert_uint_eq(l1, l2);
    ck_assert_str_eq(j1, j2);
    ck_assert(esg_hash_eq(&g2->hash, &(esg_hash){0}) == false);

    /* Pretty, ordered, integer power, no country key for "". */
    static const char head[] =
        "{\n  \"chain_id\": \"esg-local-1\",\n  \"genesis_time\": "
        "\"2026-01-01T00:00:00Z\",\n  \"params\": {\n    "
        "\"governance_threshold_bps\": 6667,";
    ck_assert(strncmp(j1, head, strlen(head)) == 0);
    const char *order[] = {"\"chain_id\"", "\"genesis_time\"", "\"params\"",
                           "\"members\"", "\"validators\"", "\"kpis\"",
                           "\"accreditations\""};
    const char *prev = j1;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *at = strstr(j1, order[i]);
        ck_assert_ptr_nonnull(at);
        ck_assert(at >= prev);
        prev = at;
    }
    ck_assert_ptr_nonnull(strstr(j1, "\"power\": 10,"));
    ck_assert_ptr_nonnull(strstr(j1, "\"roles\": [\n"));
    ck_assert_ptr_null(strstr(j1, "\"country\": \"\""));
    ck_assert_ptr_nonnull(strstr(j1, PK4)); /* lower-case hex */

    /* A time with milliseconds survives the round trip too. */
    g2->genesis_time_ms += 123;
    free(j2);
    ck_assert_int_eq(esg_genesis_to_json(g2, &j2, &l2), ESG_OK);
    ck_assert_ptr_nonnull(strstr(j2, "\"2026-01-01T00:00:00.123Z\""));
    ck_assert_int_eq(esg_genesis_parse(&g3, (uint8_t *)j2, l2, err, sizeof err), ESG_OK);
    assert_same_genesis(g2, g3);

    free(j1);
    free(j2);
    esg_genesis_free(g);
    esg_genesis_free(g2);
    esg_genesis_free(g3);
}
END_TEST

/* A member's LEI and population are optional; given, they are read as
 * they are and written back (population as a JSON integer); absent, they
 * are "" and 0 and the writer leaves them out. */
START_TEST(member_lei_and_population) {
    static const char doc[] = DOC(
        "{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'country': 'GR', 'lei': '" LEI_OK "', "
        "'population': 10000000000, 'accounts': [" ACC(PK1) "]},"
        "{'id': 'city-b', 'kind': 'CITY', 'name': 'B', 'population': 1, "
        "'accounts': [" ACC(PK2) "]},"
        "{'id': 'inv-c', 'kind': 'INVESTOR', 'name': 'C', 'lei': '529900T8BM49AURSDO55', "
        "'accounts': [" ACC(PK3) "]}", VAL_A, "");
    esg_genesis *g = NULL, *back = NULL;
    char err[256];
    ck_assert_msg(parse_sq(&g, doc, err, sizeof err) == ESG_OK, "%s", err);
    ck_assert_str_eq(g->members[0].lei, LEI_OK);
    ck_assert_uint_eq(g->members[0].population, UINT64_C(10000000000));
    ck_assert_str_eq(g->members[1].lei, "");
    ck_assert_uint_eq(g->members[1].population, 1);
    ck_assert_str_eq(g->members[2].lei, "529900T8BM49AURSDO55");
    ck_assert_uint_eq(g->members[2].population, 0);

    char *json;
    size_t len;
    ck_assert_int_eq(esg_genesis_to_json(g, &json, &len), ESG_OK);
    /* After country, before the accounts; an integer; absent when not given. */
    const char *a = strstr(json, "\"country\": \"GR\",\n      \"lei\": \"" LEI_OK "\",\n"
                                 "      \"population\": 10000000000,\n      \"accounts\"");
    ck_assert_msg(a != NULL, "%s", json);
    const char *b = strstr(json, "\"id\": \"city-b\""), *c = strstr(json, "\"id\": \"inv-c\"");
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(c);
    char *city_b = strndup(b, (size_t)(c - b));
    ck_assert_ptr_null(strstr(city_b, "\"lei\""));
    free(city_b);
    ck_assert_ptr_null(strstr(c, "\"population\""));
    ck_assert_int_eq(esg_genesis_parse(&back, (uint8_t *)json, len, err, sizeof err), ESG_OK);
    assert_same_genesis(g, back);
    free(json);
    esg_genesis_free(back);
    esg_genesis_free(g);

    /* The builder sets them; validate checks them like the parser. */
    esg_pubkey k0 = pk(PK0), k1 = pk(PK1);
    g = esg_genesis_new("esg-test-3", 0);
    ck_assert_int_eq(esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "A", NULL, &k1), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_validator(g, &k0, 1, "city-a"), ESG_OK);
    ck_assert_str_eq(g->members[0].lei, "");
    ck_assert_uint_eq(g->members[0].population, 0);
    ck_assert_int_eq(esg_genesis_set_lei(g, "city-x", LEI_OK), ESG_ERR_UNKNOWN_MEMBER);
    ck_assert_int_eq(esg_genesis_set_population(g, "city-x", 5), ESG_ERR_UNKNOWN_MEMBER);
    ck_assert_int_eq(esg_genesis_set_lei(g, "city-a", LEI_BAD), ESG_OK);
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_ERR_GENESIS);
    ck_assert_str_eq(err, "member 'city-a': lei '" LEI_BAD "' is not a Legal Entity Identifier "
                          "(ISO 17442: 18 characters A-Z 0-9 and two check digits)");
    ck_assert_int_eq(esg_genesis_set_lei(g, "city-a", LEI_OK), ESG_OK);
    ck_assert_int_eq(esg_genesis_set_population(g, "city-a", ESG_MAX_POPULATION + 1), ESG_OK);
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_ERR_GENESIS);
    ck_assert_str_eq(err, "member 'city-a': population must be 1..10000000000, not 10000000001");
    ck_assert_int_eq(esg_genesis_set_population(g, "city-a", 211370), ESG_OK);
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_OK);
    ck_assert_int_eq(esg_genesis_to_json(g, &json, &len), ESG_OK);
    ck_assert_int_eq(esg_genesis_parse(&back, (uint8_t *)json, len, err, sizeof err), ESG_OK);
    ck_assert_str_eq(back->members[0].lei, LEI_OK);
    ck_assert_uint_eq(back->members[0].population, 211370);
    /* "" and 0 clear them again. */
    ck_assert_int_eq(esg_genesis_set_lei(g, "city-a", ""), ESG_OK);
    ck_assert_int_eq(esg_genesis_set_population(g, "city-a", 0), ESG_OK);
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_OK);
    free(json);
    ck_assert_int_eq(esg_genesis_to_json(g, &json, &len), ESG_OK);
    ck_assert_ptr_null(strstr(json, "\"lei\""));
    ck_assert_ptr_null(strstr(json, "\"population\""));
    free(json);
    esg_genesis_free(back);
    esg_genesis_free(g);
}
END_TEST

/* Each rule, broken alone, gives ESG_ERR_GENESIS and a message naming the
 * bad item. */
static const struct {
    const char *doc;
    const char *msg; /* a substring the message must hold */
} violations[] = {
    {DOC(CITY_A, VAL_A, ", 'validator': []"), "unknown top-level key 'validator'"},
    {"{'genesis_time': '2026-01-01T00:00:00Z', 'members': [" CITY_A
     "], 'validators': [" VAL_A "]}",
     "missing 'chain_id'"},
    {"{" HEAD ", 'members': [" CITY_A "]}", "missing 'validators'"},
    {"{'chain_id': 'esg local', 'genesis_time': '2026-01-01T00:00:00Z', "
     "'members': [" CITY_A "], 'validators': [" VAL_A "]}",
     "chain_id 'esg local' must be 1..64 characters"},
    {"{'chain_id': '0123456789012345678901234567890123456789012345678901234567890123X', "
     "'genesis_time': '2026-01-01T00:00:00Z', 'members': [" CITY_A
     "], 'validators': [" VAL_A "]}",
     "must be 1..64 characters"},
    {"{'chain_id': 'c', 'genesis_time': '2026-01-01 00:00:00', 'members': [" CITY_A
     "], 'validators': [" VAL_A "]}",
     "genesis_time '2026-01-01 00:00:00' is not an RFC 3339 UTC time"},
    {"{'chain_id': 'c', 'genesis_time': '2023-02-29T00:00:00Z', 'members': [" CITY_A
     "], 'validators': [" VAL_A "]}",
     "genesis_time '2023-02-29T00:00:00Z'"},
    {DOC(CITY_A, VAL_A, ", 'params': {'governance_threshold_bps': 5000}"),
     "params: governance_threshold_bps must be 5001..10000, not 5000"},
    {DOC(CITY_A, VAL_A, ", 'params': {'governance_threshold_bps': 10001}"),
     "params: governance_threshold_bps must be 5001..10000, not 10001"},
    {DOC(CITY_A, VAL_A, ", 'params': {'proposal_ttl_blocks': 0}"),
     "params: proposal_ttl_blocks must be at least 1"},
    {DOC(CITY_A, VAL_A, ", 'params': {'max_block_txs': -1}"),
     "params: 'max_block_txs' must not be negative"},
    {DOC(CITY_A, VAL_A, ", 'params': {'max_block_bytes': 1000}"),
     "params: max_block_bytes must be 2097152..67108864, not 1000"},
    {DOC(CITY_A, VAL_A, ", 'params': {'max_block_bytes': 67108865}"),
     "max_block_bytes must be 2097152..67108864"},
    {DOC(CITY_A, VAL_A, ", 'params': {'max_txs': 5}"), "params: unknown key 'max_txs'"},
    {DOC("", VAL_A, ""), "members must not be empty"},
    {DOC(MEMBER("City_A", "CITY", PK1), VAL_A, ""), "member 1: id 'City_A' must match"},
    {DOC(CITY_A "," MEMBER("city-a", "INVESTOR", PK2), VAL_A, ""),
     "member 'city-a' is listed twice (members 1 and 2)"},
    {DOC(CITY_A "," MEMBER("city-x", "TOWN", PK2), VAL_A, ""),
     "member 'city-x': unknown kind 'TOWN'"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': '', 'accounts': [" ACC(PK1) "]}",
         VAL_A, ""),
     "member 'city-a': name must be 1..200 characters"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'country': 'gr', "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': country 'gr' must be two upper-case letters"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'lei': '" LEI_BAD "', "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': lei '" LEI_BAD "' is not a Legal Entity Identifier (ISO 17442"},
    {DOC(CITY_A ",{'id': 'inv-b', 'kind': 'INVESTOR', 'name': 'B', 'lei': '5493001kjtiigc8y1r12', "
         "'accounts': [" ACC(PK2) "]}", VAL_A, ""),
     "member 'inv-b': lei '5493001kjtiigc8y1r12' is not a Legal Entity Identifier"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'lei': '', "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': lei must not be empty (leave the key out when there is none)"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'lei': 549300, "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': 'lei' must be a string"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'population': 0, "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': population must be 1..10000000000, not 0 (leave the key out"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'population': 10000000001, "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': population must be 1..10000000000, not 10000000001"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'population': -5, "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': 'population' must not be negative"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'population': '211370', "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': 'population' must be an integer"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'population': 2.5e5, "
         "'accounts': [" ACC(PK1) "]}", VAL_A, ""),
     "member 'city-a': 'population' must be an integer"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'accounts': []}", VAL_A, ""),
     "member 'city-a': must have at least one account"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'acounts': []}", VAL_A, ""),
     "member 'city-a': unknown key 'acounts'"},
    {DOC(MEMBER("city-a", "CITY", "abc"), VAL_A, ""),
     "member 'city-a' account 1: pubkey must be 64 hex characters"},
    {DOC(MEMBER("city-a", "CITY", PK_OFF_CURVE), VAL_A, ""),
     "member 'city-a' account 1: pubkey " PK_OFF_CURVE " is not a valid x-only public key"},
    {DOC(CITY_A "," MEMBER("city-b", "CITY", PK1), VAL_A, ""),
     "member 'city-b' account 1: pubkey " PK1 " is already an account of member 'city-a'"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'accounts': ["
         "{'pubkey': '" PK1 "', 'roles': []}]}", VAL_A, ""),
     "member 'city-a' account 1: roles must be a non-empty set of ADMIN and OFFICER"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'accounts': [" ACC(PK2) ","
         "{'pubkey': '" PK1 "', 'roles': ['OWNER']}]}", VAL_A, ""),
     "member 'city-a' account 2: unknown role 'OWNER'"},
    {DOC("{'id': 'city-a', 'kind': 'CITY', 'name': 'A', 'accounts': ["
         "{'pubkey': '" PK1 "', 'roles': ['ADMIN', 'admin']}]}", VAL_A, ""),
     "member 'city-a' account 1: role 'ADMIN' is listed twice"},
    {DOC(MEMBER("inv-a", "INVESTOR", PK1), VAL(PK0, "1", "inv-a"), ""), "no CITY member"},
    {DOC(CITY_A, "", ""), "validators must not be empty"},
    {DOC(CITY_A, VAL_A "," VAL(PK0, "2", "city-a"), ""),
     "validator 2: pubkey " PK0 " is already validator 1"},
    {DOC(CITY_A, VAL(PK0, "0", "city-a"), ""), "validator 1: power must be 1..2^60, not 0"},
    {DOC(CITY_A, VAL(PK0, "1152921504606846977", "city-a"), ""),
     "validator 1: power must be 1..2^60, not 1152921504606846977"},
    {DOC(CITY_A, VAL(PK0, "1152921504606846976", "city-a") ","
                 VAL(PK3, "1152921504606846976", "city-a"), ""),
     "validator 2: total validator power exceeds 2^60"},
    {DOC(CITY_A, VAL(PK0, "'10'", "city-a"), ""), "validator 1: power must be an integer"},
    {DOC(CITY_A, VAL(PK0, "10.0", "city-a"), ""), "validator 1: power must be an integer"},
    {DOC(CITY_A, VAL_A "," VAL(PK3, "1", "x"), ""), "validator 2: operator 'x' is not a member"},
    {DOC(CITY_A, VAL(PK_OFF_CURVE, "1", "city-a"), ""),
     "validator 1: pubkey " PK_OFF_CURVE " is not a valid x-only public key"},
    {DOC(CITY_A, VAL_A, ", 'kpis': [" KPI("GHG", "climate", "higher") "]"),
     "kpi 1: id 'GHG' must match [a-z0-9_]{2,64}"},
    {DOC(CITY_A, VAL_A, ", 'kpis': [" KPI("co2_t", "climate", "higher") ","
                        KPI("co2_t", "climate", "lower") "]"),
     "kpi 'co2_t' is listed twice (kpis 1 and 2)"},
    {DOC(CITY_A, VAL_A, ", 'kpis': [" KPI("co2_t", "air", "higher") "]"),
     "kpi 'co2_t': unknown category 'air'"},
    {DOC(CITY_A, VAL_A, ", 'kpis': [" KPI("co2_t", "climate", "up") "]"),
     "kpi 'co2_t': direction must be 'higher' or 'lower', not 'up'"},
    {DOC(CITY_A, VAL_A, ", 'kpis': [{'id': 'co2_t', 'name': 'K', 'unit': '', "
                        "'category': 'climate', 'direction': 'lower'}]"),
     "kpi 'co2_t': unit must be 1..32 characters"},
    {DOC(CITY_A, VAL_A, ", 'accreditations': [{'member': 'ghost', 'categories': ['climate']}]"),
     "accreditation for 'ghost': 'ghost' is not a member"},
    {DOC(CITY_A, VAL_A, ", 'accreditations': [{'member': 'city-a', 'categories': ['climate']}]"),
     "accreditation for 'city-a': member 'city-a' is a CITY, only a VERIFIER can be accredited"},
    {DOC(CITY_A "," VER_V, VAL_A, ", 'accreditations': [{'member': 'ver-v', 'categories': []}]"),
     "accreditation for 'ver-v': categories must not be empty"},
    {DOC(CITY_A "," VER_V, VAL_A,
         ", 'accreditations': [{'member': 'ver-v', 'categories': ['climate', 'air']}]"),
     "accreditation for 'ver-v': unknown category 'air'"},
    {DOC(CITY_A "," VER_V, VAL_A,
         ", 'accreditations': [{'member': 'ver-v', 'categories': ['water', 'water']}]"),
     "accreditation for 'ver-v': category 'water' is listed twice"},
    {DOC(CITY_A "," VER_V, VAL_A,
         ", 'accreditations': [{'member': 'ver-v', 'categories': ['water']},"
         "{'member': 'ver-v', 'categories': ['waste']}]"),
     "member 'ver-v' is accredited twice (accreditations 1 and 2)"},
    {"['not', 'an', 'object']", "genesis must be a JSON object"},
};

START_TEST(rule_violations) {
    esg_genesis *g = (esg_genesis *)1;
    char err[512] = "untouched";
    int rc = parse_sq(&g, violations[_i].doc, err, sizeof err);
    if (rc != ESG_ERR_GENESIS || !strstr(err, violations[_i].msg))
        ck_abort_msg("case %d: rc %s, message '%s', wanted '%s'", _i,
                     esg_err_name(rc), err, violations[_i].msg);
    ck_assert_ptr_null(g);
}
END_TEST

START_TEST(malformed_json) {
    static const char *bad[] = {
        "",
        "{",
        "{\"chain_id\": \"c\",}",
        "42",
        "{\"chain_id\": \"a\", \"chain_id\": \"b\"}", /* duplicate key */
        "{\"chain_id\": \"\xff\"}",                  /* not UTF-8 */
        "{\"chain_id\": \"a\\u0000b\"}",             /* NUL in a string */
        "{} trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        esg_genesis *g = (esg_genesis *)1;
        char err[256] = "";
        ck_assert_msg(esg_genesis_parse(&g, (const uint8_t *)bad[i], strlen(bad[i]),
                                        err, sizeof err) == ESG_ERR_JSON,
                      "case %zu", i);
        ck_assert_ptr_null(g);
        ck_assert(strstr(err, "malformed JSON") == err);
    }
    /* No error buffer at all is fine too. */
    esg_genesis *g;
    ck_assert_int_eq(esg_genesis_parse(&g, (const uint8_t *)"{", 1, NULL, 0), ESG_ERR_JSON);
}
END_TEST

/* The hash covers every byte of the file, whitespace included. */
START_TEST(hash_changes_with_one_byte) {
    size_t len;
    uint8_t *bytes = read_all(tu_data_path("genesis-example.json"), &len);
    esg_genesis *a = NULL, *b = NULL, *c = NULL;
    char err[256];
    ck_assert_int_eq(esg_genesis_parse(&a, bytes, len, err, sizeof err), ESG_OK);
    ck_assert_int_eq(esg_genesis_parse(&b, bytes, len, err, sizeof err), ESG_OK);
    ck_assert(esg_hash_eq(&a->hash, &b->hash));
    /* The first byte after '{' is a space: a tab means the same JSON. */
    ck_assert_int_eq(bytes[1], ' ');
    bytes[1] = '\t';
    ck_assert_int_eq(esg_genesis_parse(&c, bytes, len, err, sizeof err), ESG_OK);
    ck_assert(!esg_hash_eq(&a->hash, &c->hash));
    assert_same_genesis(a, c);
    esg_genesis_free(a);
    esg_genesis_free(b);
    esg_genesis_free(c);
    free(bytes);
}
END_TEST

START_TEST(load_errors) {
    char dir[256], path[512], err[256];
    tu_tmpdir(dir, sizeof dir);
    esg_genesis *g = (esg_genesis *)1;

    snprintf(path, sizeof path, "%s/missing.json", dir);
    ck_assert_int_eq(esg_genesis_load(&g, path, err, sizeof err), ESG_ERR_IO);
    ck_assert_ptr_null(g);
    ck_assert_ptr_nonnull(strstr(err, "missing.json"));

    /* A file one byte over 16 MiB (sparse: nothing is written). */
    snprintf(path, sizeof path, "%s/big.json", dir);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 16 * 1024 * 1024 + 1), 0);
    close(fd);
    ck_assert_int_eq(esg_genesis_load(&g, path, err, sizeof err), ESG_ERR_TOO_LARGE);
    ck_assert_ptr_null(g);

    /* A directory cannot be read as a file. */
    ck_assert_int_eq(esg_genesis_load(&g, dir, err, sizeof err), ESG_ERR_IO);

    snprintf(path, sizeof path, "%s/bad.json", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"chain_id\": ", f);
    fclose(f);
    ck_assert_int_eq(esg_genesis_load(&g, path, err, sizeof err), ESG_ERR_JSON);
    tu_rmtree(dir);
}
END_TEST

/* What `esgnode genesis new` does: build, validate, write, load back. */
START_TEST(builder_round_trip) {
    esg_genesis *g = esg_genesis_new("esg-test-2", UINT64_C(1767225600000));
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(g->params.governance_threshold_bps, 6667);
    esg_pubkey k0 = pk(PK0), k1 = pk(PK1), k2 = pk(PK2), k3 = pk(PK3), k4 = pk(PK4);
    ck_assert_int_eq(esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "Ηράκλειο",
                                            "GR", &k1), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_member(g, "ver-v", ESG_KIND_VERIFIER, "Verifier",
                                            NULL, &k2), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_account(g, "ver-v", &k3, ESG_ROLE_BIT_OFFICER), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_account(g, "nobody", &k4, ESG_ROLE_BIT_OFFICER),
                     ESG_ERR_UNKNOWN_MEMBER);
    ck_assert_int_eq(esg_genesis_add_validator(g, &k0, 7, "city-a"), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_default_kpis(g), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_accreditation(g, "ver-v", "climate,energy"), ESG_OK);
    char err[256];
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_OK);
    ck_assert_str_eq(g->members[1].country, "");
    ck_assert_uint_eq(g->members[0].accounts[0].roles,
                      ESG_ROLE_BIT_ADMIN | ESG_ROLE_BIT_OFFICER);

    char *json;
    size_t len;
    ck_assert_int_eq(esg_genesis_to_json(g, &json, &len), ESG_OK);
    esg_genesis *back = NULL;
    ck_assert_int_eq(esg_genesis_parse(&back, (uint8_t *)json, len, err, sizeof err), ESG_OK);
    assert_same_genesis(g, back);
    esg_hash h = esg_hash_tagged(ESG_TAG_GENESIS, json, len);
    ck_assert(esg_hash_eq(&back->hash, &h));
    free(json);
    esg_genesis_free(back);

    /* Rules are checked by validate, not by the add functions. */
    ck_assert_int_eq(esg_genesis_add_accreditation(g, "ver-v", "water,,waste"), ESG_OK);
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_ERR_GENESIS);
    ck_assert_str_eq(err, "accreditation for 'ver-v': unknown category '' (climate, "
                          "energy, water, waste, transport, buildings, social)");
    ck_assert_uint_eq(g->accreditations[1].n_categories, 3);
    esg_genesis_free(g);

    g = esg_genesis_new("esg-test-2", 0);
    ck_assert_int_eq(esg_genesis_add_member(g, "city-a", 9, "A", "", &k1), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_validator(g, &k0, 1, "city-a"), ESG_OK);
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_ERR_GENESIS);
    ck_assert_str_eq(err, "member 'city-a': kind 9 is not a member kind");
    ck_assert_int_eq(esg_genesis_to_json(g, &json, &len), ESG_ERR_GENESIS);
    ck_assert_ptr_null(json);
    g->members[0].kind = ESG_KIND_CITY;
    ck_assert_int_eq(esg_genesis_validate(g, NULL, 0), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_default_kpis(g), ESG_OK);
    ck_assert_int_eq(esg_genesis_add_default_kpis(g), ESG_OK);
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_ERR_GENESIS);
    ck_assert_ptr_nonnull(strstr(err, "is listed twice"));
    g->validators[0].power = ESG_MAX_VALIDATOR_POWER + 1;
    ck_assert_int_eq(esg_genesis_validate(g, err, sizeof err), ESG_ERR_GENESIS);
    ck_assert_str_eq(err, "validator 1: power must be 1..2^60, not 1152921504606846977");
    esg_genesis_free(g);

    esg_genesis_free(NULL);
}
END_TEST

/* The catalogue holds the ICMA core indicators the design names. */
START_TEST(default_kpi_catalogue) {
    static const struct {
        const char *id, *unit, *category;
        int direction;
    } want[] = {
        {"ghg_avoided_tco2e", "tCO2e", "climate", ESG_KPI_HIGHER},
        {"ghg_emissions_tco2e", "tCO2e", "climate", ESG_KPI_LOWER},
        {"renewable_capacity_mw", "MW", "energy", ESG_KPI_HIGHER},
        {"renewable_generation_mwh", "MWh", "energy", ESG_KPI_HIGHER},
        {"energy_saved_mwh", "MWh", "energy", ESG_KPI_HIGHER},
        {"water_saved_m3", "m3", "water", ESG_KPI_HIGHER},
        {"wastewater_treated_m3", "m3", "water", ESG_KPI_HIGHER},
        {"waste_diverted_t", "t", "waste", ESG_KPI_HIGHER},
        {"clean_transport_passengers", "passengers/yr", "transport", ESG_KPI_HIGHER},
        {"green_floor_area_m2", "m2", "buildings", ESG_KPI_HIGHER},
        {"beneficiaries", "people", "social", ESG_KPI_HIGHER},
    };
    esg_genesis *g = esg_genesis_new("c", 0);
    ck_assert_int_eq(esg_genesis_add_default_kpis(g), ESG_OK);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t k = 0;
        while (k < g->n_kpis && strcmp(g->kpis[k].id, want[i].id) != 0)
            k++;
        ck_assert_msg(k < g->n_kpis, "missing %s", want[i].id);
        ck_assert_str_eq(g->kpis[k].unit, want[i].unit);
        ck_assert_str_eq(g->kpis[k].category, want[i].category);
        ck_assert_int_eq(g->kpis[k].direction, want[i].direction);
        ck_assert(esg_name_valid(g->kpis[k].name));
    }
    esg_genesis_free(g);
}
END_TEST

START_TEST(rfc3339_times) {
    uint64_t ms = 42;
    char out[32];
    ck_assert_int_eq(esg_time_parse_rfc3339("1970-01-01T00:00:00Z", &ms), ESG_OK);
    ck_assert_uint_eq(ms, 0);
    ck_assert_int_eq(esg_time_parse_rfc3339("2026-01-01T00:00:00Z", &ms), ESG_OK);
    ck_assert_uint_eq(ms, UINT64_C(1767225600000));
    ck_assert_int_eq(esg_time_parse_rfc3339("2024-02-29T23:59:59Z", &ms), ESG_OK);
    ck_assert_uint_eq(ms, UINT64_C(1709251199000));
    ck_assert_int_eq(esg_time_parse_rfc3339("2024-02-29T23:59:59.250Z", &ms), ESG_OK);
    ck_assert_uint_eq(ms, UINT64_C(1709251199250));
    ck_assert_int_eq(esg_time_parse_rfc3339("9999-12-31T23:59:59.999Z", &ms), ESG_OK);
    ck_assert_uint_eq(ms, UINT64_C(253402300799999));

    ck_assert_int_eq(esg_time_format_rfc3339(0, out), ESG_OK);
    ck_assert_str_eq(out, "1970-01-01T00:00:00Z");
    ck_assert_int_eq(esg_time_format_rfc3339(UINT64_C(1709251199000), out), ESG_OK);
    ck_assert_str_eq(out, "2024-02-29T23:59:59Z");
    ck_assert_int_eq(esg_time_format_rfc3339(UINT64_C(1709251199007), out), ESG_OK);
    ck_assert_str_eq(out, "2024-02-29T23:59:59.007Z");
    ck_assert_int_eq(esg_time_format_rfc3339(UINT64_C(253402300799999), out), ESG_OK);
    ck_assert_str_eq(out, "9999-12-31T23:59:59.999Z");
    ck_assert_int_eq(esg_time_format_rfc3339(UINT64_C(253402300800000), out),
                     ESG_ERR_BAD_DATE);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(esg_time_format_rfc3339(UINT64_MAX, out), ESG_ERR_BAD_DATE);

    /* format then parse is the identity, across leap days and years. */
    for (uint64_t t = 0; t < UINT64_C(253402300800000); t += UINT64_C(997991999333)) {
        uint64_t back;
        ck_assert_int_eq(esg_time_format_rfc3339(t, out), ESG_OK);
        ck_assert_int_eq(esg_time_parse_rfc3339(out, &back), ESG_OK);
        ck_assert_uint_eq(back, t);
    }

    static const char *bad[] = {
        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z",
        "2024-01-32T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z",
        "2016-12-31T23:59:60Z", /* leap second */
        "2024-01-01t00:00:00Z", "2024-01-01T00:00:00z", "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00", "2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00ZZ",
        "2024-01-01T00:00:00Z ", "2024-01-01T00:00:00.12Z", "2024-01-01T00:00:00.1234Z",
        "2024-01-01T00:00Z", "2024-1-01T00:00:00Z", "1969-12-31T23:59:59Z",
        "+2024-01-01T00:00:00Z", "2024-01-01", "", "10000-01-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = 42;
        ck_assert_msg(esg_time_parse_rfc3339(bad[i], &ms) == ESG_ERR_BAD_DATE, "%s", bad[i]);
        ck_assert_uint_eq(ms, 42);
    }
    ck_assert_int_eq(esg_time_parse_rfc3339(NULL, &ms), ESG_ERR_BAD_DATE);
}
END_TEST

START_TEST(iso_dates) {
    int32_t d = 7;
    char out[11];
    ck_assert_int_eq(esg_date_parse("1970-01-01", &d), ESG_OK);
    ck_assert_int_eq(d, 0);
    ck_assert_int_eq(esg_date_parse("1969-12-31", &d), ESG_OK);
    ck_assert_int_eq(d, -1);
    ck_assert_int_eq(esg_date_parse("2024-02-29", &d), ESG_OK);
    ck_assert_int_eq(d, 19782);
    ck_assert_int_eq(esg_date_parse("2000-02-29", &d), ESG_OK); /* 400-year rule */
    ck_assert_int_eq(esg_date_parse("0001-01-01", &d), ESG_OK);
    ck_assert_int_eq(d, -719162);
    ck_assert_int_eq(esg_date_parse("9999-12-31", &d), ESG_OK);
    ck_assert_int_eq(d, 2932896);

    static const char *bad[] = {
        "2023-02-29", "1900-02-29", "2100-02-29", "2024-2-1", "2024-02-1",
        "2024-13-01", "2024-00-01", "2024-04-31", "2024-01-00", "0000-01-01",
        "2024-01-01x", "2024-01-01 ", " 2024-01-01", "2024/01/01", "24-01-01",
        "", "2024-01-01T00:00:00Z", "+024-01-01", "2024-0a-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = 7;
        ck_assert_msg(esg_date_parse(bad[i], &d) == ESG_ERR_BAD_DATE, "%s", bad[i]);
        ck_assert_int_eq(d, 7);
    }
    ck_assert_int_eq(esg_date_parse(NULL, &d), ESG_ERR_BAD_DATE);

    esg_date_format(0, out);
    ck_assert_str_eq(out, "1970-01-01");
    esg_date_format(19782, out);
    ck_assert_str_eq(out, "2024-02-29");
    esg_date_format(-719162, out);
    ck_assert_str_eq(out, "0001-01-01");
    esg_date_format(2932896, out);
    ck_assert_str_eq(out, "9999-12-31");
    esg_date_format(-719163, out);
    ck_assert_str_eq(out, "0000-00-00");
    esg_date_format(2932897, out);
    ck_assert_str_eq(out, "0000-00-00");
    esg_date_format(INT32_MIN, out);
    ck_assert_str_eq(out, "0000-00-00");
    esg_date_format(INT32_MAX, out);
    ck_assert_str_eq(out, "0000-00-00");

    /* Every day of the range survives format then parse (plain checks in
     * the loop: a check assertion per day would dominate the run time). */
    int32_t first_bad = INT32_MIN;
    for (int32_t day = -719162; day <= 2932896 && first_bad == INT32_MIN; day++) {
        int32_t back = 0;
        esg_date_format(day, out);
        if (esg_date_parse(out, &back) != ESG_OK || back != day)
            first_bad = day;
    }
    ck_assert_int_eq(first_bad, INT32_MIN);
}
END_TEST

START_TEST(small_validators) {
    ck_assert(esg_member_id_valid("city-heraklion"));
    ck_assert(esg_member_id_valid("ab"));
    ck_assert(!esg_member_id_valid("a"));
    ck_assert(!esg_member_id_valid("City"));
    ck_assert(!esg_member_id_valid("city_a"));
    ck_assert(esg_member_id_valid("0123456789012345678901234567890123456789"));
    ck_assert(!esg_member_id_valid("01234567890123456789012345678901234567890"));
    ck_assert(!esg_member_id_valid(NULL));

    ck_assert(esg_kpi_id_valid("ghg_avoided_tco2e"));
    ck_assert(!esg_kpi_id_valid("ghg-avoided"));
    ck_assert(!esg_kpi_id_valid("g"));
    ck_assert(esg_chain_id_valid("esg-local.1_A"));
    ck_assert(!esg_chain_id_valid(""));
    ck_assert(!esg_chain_id_valid("esg/1"));

    ck_assert_int_eq(esg_member_kind_parse("city"), ESG_KIND_CITY);
    ck_assert_int_eq(esg_member_kind_parse("Paying_Agent"), ESG_KIND_PAYING_AGENT);
    ck_assert_int_eq(esg_member_kind_parse("AUDITOR"), ESG_KIND_AUDITOR);
    ck_assert_int_eq(esg_member_kind_parse("TOWN"), 0);
    ck_assert_int_eq(esg_member_kind_parse(NULL), 0);
    ck_assert_str_eq(esg_member_kind_name(ESG_KIND_VERIFIER), "VERIFIER");
    ck_assert_str_eq(esg_member_kind_name(0), "UNKNOWN");
    ck_assert_str_eq(esg_member_kind_name(6), "UNKNOWN");
    ck_assert_uint_eq(esg_role_parse("officer"), ESG_ROLE_BIT_OFFICER);
    ck_assert_uint_eq(esg_role_parse("ADMIN"), ESG_ROLE_BIT_ADMIN);
    ck_assert_uint_eq(esg_role_parse("root"), 0);
    ck_assert_str_eq(esg_role_name(ESG_ROLE_BIT_OFFICER), "OFFICER");
    ck_assert_int_eq(esg_kpi_direction_parse("lower"), ESG_KPI_LOWER);
    ck_assert_int_eq(esg_kpi_direction_parse("Higher"), 0);
    ck_assert_str_eq(esg_kpi_direction_name(ESG_KPI_HIGHER), "higher");

    ck_assert(esg_kpi_category_valid("buildings"));
    ck_assert(esg_kpi_category_valid("social"));
    ck_assert(!esg_kpi_category_valid("Climate"));
    ck_assert(!esg_kpi_category_valid("biodiversity"));
    ck_assert(!esg_kpi_category_valid(NULL));

    ck_assert(esg_country_valid("GR"));
    ck_assert(esg_country_valid(""));
    ck_assert(!esg_country_valid("gr"));
    ck_assert(!esg_country_valid("GRC"));
    ck_assert(!esg_country_valid("G"));

    char long_name[202];
    memset(long_name, 'a', 200);
    long_name[200] = '\0';
    ck_assert(esg_name_valid(long_name));
    long_name[200] = 'a';
    long_name[201] = '\0';
    ck_assert(!esg_name_valid(long_name));
    ck_assert(esg_name_valid("Ηράκλειο"));     /* counted in characters */
    ck_assert(!esg_name_valid(""));
    ck_assert(!esg_name_valid("tab\there"));
    ck_assert(!esg_name_valid("bad \xc3"));     /* truncated sequence */
    ck_assert(!esg_name_valid("over \xc0\xaf")); /* overlong '/' */
    ck_assert(!esg_name_valid("\xed\xa0\x80")); /* surrogate */
    ck_assert(!esg_name_valid(NULL));
}
END_TEST

Suite *suite_genesis(void) {
    Suite *s = suite_create("genesis");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, example_parses);
    tcase_add_test(tc, defaults_when_absent);
    tcase_add_test(tc, member_lei_and_population);
    tcase_add_test(tc, to_json_round_trip);
    tcase_add_loop_test(tc, rule_violations, 0,
                        (int)(sizeof violations / sizeof violations[0]));
    tcase_add_test(tc, malformed_json);
    tcase_add_test(tc, hash_changes_with_one_byte);
    tcase_add_test(tc, load_errors);
    tcase_add_test(tc, builder_round_trip);
    tcase_add_test(tc, default_kpi_catalogue);
    tcase_add_test(tc, rfc3339_times);
    tcase_add_test(tc, iso_dates);
    tcase_add_test(tc, small_validators);
    suite_add_tcase(s, tc);
    return s;
}
