/* JSON to protobuf (wallet/pbjson_in.h): the inverse of ledger/pbjson.h's
 * renderer -- every action rendered as GET /v1/txs/{id} shows it converts
 * back to the same bytes -- and every malformed input is refused with the
 * path of the culprit. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/pbjson.h"
#include "wallet/pbjson_in.h"

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

#define H1 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Actions as the node renders them: every field present. */
static const char *const actions[] = {
    "{\"type\": \"AddAccount\", \"pubkey\": \"" H1 "\", \"roles\": [\"OFFICER\", \"ADMIN\"]}",
    "{\"type\": \"Propose\", \"proposal\": {\"type\": \"AddMember\", \"add_member\": {\"id\": "
    "\"investor-x\", \"kind\": \"INVESTOR\", \"name\": \"X\", \"country\": \"GR\", "
    "\"admin_pubkey\": \"" H1 "\", \"lei\": \"5493001KJTIIGC8Y1R12\", \"population\": \"0\"}, "
    "\"description\": \"why\"}}",
    "{\"type\": \"Propose\", \"proposal\": {\"type\": \"SetParam\", \"set_param\": {\"name\": "
    "\"max_block_txs\", \"value\": \"18446744073709551615\"}, \"description\": \"\"}}",
    "{\"type\": \"Vote\", \"proposal_id\": \"" H1 "\", \"approve\": true}",
    "{\"type\": \"IssueInstrument\", \"spec\": {\"id\": \"JGB-1\", \"kind\": "
    "\"SUSTAINABILITY_LINKED_BOND\", \"name\": \"J\", \"currency\": \"EUR\", \"face_value\": "
    "\"100000\", \"units\": \"5000\", \"coupon_bps\": 125, \"coupon_frequency_months\": 12, "
    "\"issue_date\": \"2024-03-01\", \"maturity_date\": \"2027-03-01\", \"co_issuers\": "
    "[{\"member\": \"city-a\", \"share_bps\": 6000}, {\"member\": \"city-b\", \"share_bps\": "
    "4000}], \"paying_agent\": \"agent-x\", \"projects\": [{\"id\": \"A\", \"city\": "
    "\"city-a\", \"name\": \"n\", \"eu_objective\": \"CCM\", \"sdgs\": [7, 11], \"budget\": "
    "\"20000000\", \"eu_objectives\": [\"PPC\", \"BIO\"], \"taxonomy_activity\": \"6.14\", "
    "\"nace\": \"F42.1\", \"total_cost\": \"30000000\", \"location\": \"l\"}, "
    "{\"id\": \"HER-PV\", \"city\": \"\", \"name\": \"\", \"eu_objective\": "
    "\"UNSPECIFIED\", \"sdgs\": [], \"budget\": \"2500000\", \"eu_objectives\": [], "
    "\"taxonomy_activity\": \"\", \"nace\": \"\", \"total_cost\": \"0\", \"location\": \"\"}], "
    "\"kpi_targets\": [{\"kpi\": \"ghg\", \"baseline\": \"-5\", \"target\": "
    "\"1500000\", \"observation_date\": \"2025-12-31\", \"step_up_bps\": 25}], "
    "\"framework_sha256\": \"" H1 "\", \"external_review_sha256\": \"\", "
    "\"refinancing_lookback_months\": 24, \"isin\": \"XS1234567896\"}}",
    "{\"type\": \"Subscribe\", \"instrument\": \"JGB-1\", \"units\": \"10\"}",
    "{\"type\": \"RecordPayment\", \"instrument\": \"JGB-1\", \"kind\": \"REDEMPTION\", "
    "\"due_date\": \"2027-03-01\"}",
    "{\"type\": \"ReportImpact\", \"instrument\": \"JGB-1\", \"project_id\": \"A\", \"kpi\": "
    "\"ghg\", \"value\": \"-9223372036854775808\", \"period_start\": \"2024-01-01\", "
    "\"period_end\": \"2024-12-31\", \"methodology\": \"m\", \"evidence_sha256\": \"" H1 "\", "
    "\"evidence_uri\": \"https://x\", \"supersedes\": \"\", \"reason\": \"\"}",
    "{\"type\": \"AttestImpact\", \"report_id\": \"" H1 "\", \"opinion\": \"QUALIFIED\", "
    "\"verified_value\": \"9223372036854775807\", \"statement_sha256\": \"" H1 "\"}",
    "{\"type\": \"DisputeImpact\", \"report_id\": \"" H1 "\", \"reason\": \"r\"}",
    "{\"type\": \"ReverseAllocation\", \"allocation_id\": \"" H1 "\", \"reason\": \"r\"}",
    "{\"type\": \"RegisterProject\", \"id\": \"HER-PV\", \"city\": \"city-a\", \"name\": "
    "\"n\", \"eu_objectives\": [\"CCM\", \"BIO\"], \"taxonomy_activity\": \"4.1\", \"nace\": "
    "\"D35.11\", \"sdgs\": [7], \"total_cost\": \"18446744073709551615\", \"currency\": "
    "\"EUR\", \"location\": \"\"}",
    "{\"type\": \"UpdateProject\", \"id\": \"HER-PV\", \"total_cost\": \"1\", \"reason\": "
    "\"r\"}",
    "{\"type\": \"RecordFunding\", \"project\": \"HER-PV\", \"source\": \"MUNICIPAL\", "
    "\"programme\": \"ERDF 2021-2027\", \"amount\": \"1900000\", \"date\": \"2025-01-15\", "
    "\"evidence_sha256\": \"" H1 "\"}",
    "{\"type\": \"ReverseFunding\", \"funding_id\": \"" H1 "\", \"reason\": \"r\"}",
};

/* Renders body's action as GET /v1/txs/{id} does: the action message's
 * fields and "type". */
static json_t *render_action(const esg_pb_tx_body *body) {
    json_t *full = esg_pb_to_json(&body->base);
    ck_assert_ptr_nonnull(full);
    const char *type = json_string_value(json_object_get(full, "type"));
    ck_assert_ptr_nonnull(type);
    json_t *act = NULL;
    const char *key;
    json_t *v;
    json_object_foreach(full, key, v) if (json_is_object(v)) act = json_copy(v);
    ck_assert_ptr_nonnull(act);
    json_object_set_new(act, "type", json_string(type));
    json_decref(full);
    return act;
}

START_TEST(every_action_round_trips) {
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++) {
        json_t *in = json_loads(actions[i], 0, NULL);
        ck_assert_ptr_nonnull(in);
        esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
        char err[256];
        int rc = esgw_json_to_action(&body, in, arena_alloc, &A, err, sizeof err);
        ck_assert_msg(rc == 0, "action %zu: %s", i, err);
        /* Canonical bytes that the codec decodes back. */
        body.chain_id = "c";
        body.nonce = 1;
        uint8_t *b;
        size_t len;
        ck_assert_int_eq(esg_pb_tx_body_encode(&body, &b, &len), 0);
        esg_pb_tx_body *dec;
        ck_assert_int_eq(esg_pb_tx_body_decode(&dec, b, len, len), 0);
        /* JSON -> pb -> JSON is the identity on a full rendering. */
        json_t *out = render_action(dec);
        char *want = json_dumps(in, JSON_SORT_KEYS), *got = json_dumps(out, JSON_SORT_KEYS);
        ck_assert_msg(json_equal(in, out), "action %zu:\n want %s\n got  %s", i, want, got);
        free(want);
        free(got);
        /* And the whole TxBody rendering converts back too. */
        json_t *full = esg_pb_to_json(&dec->base);
        ProtobufCMessage *m;
        ck_assert_msg(esgw_json_to_pb(&m, ESG_PB_TX_BODY_DESC, full, NULL, arena_alloc, &A, err,
                                      sizeof err) == 0, "%s", err);
        uint8_t *b2;
        size_t len2;
        ck_assert_int_eq(esg_pb_encode(m, &b2, &len2), 0);
        ck_assert_uint_eq(len, len2);
        ck_assert_mem_eq(b, b2, len);
        free(b2);
        json_decref(full);
        json_decref(out);
        esg_pb_free(dec);
        free(b);
        json_decref(in);
    }
}
END_TEST

/* Spellings the renderer does not write but a person may: numbers for
 * 64-bit fields, full and lower-case enum names, absent defaults. */
START_TEST(lenient_spellings) {
    json_t *in = json_loads("{\"type\": \"AddAccount\", \"pubkey\": \"" H1 "\", \"roles\": "
                            "[\"role_officer\", 1]}", 0, NULL);
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    char err[256];
    ck_assert_int_eq(esgw_json_to_action(&body, in, arena_alloc, &A, err, sizeof err), 0);
    ck_assert_int_eq(body.action_case, ESG_ACTION_ADD_ACCOUNT);
    ck_assert_uint_eq(body.add_account->n_roles, 2);
    ck_assert_int_eq(body.add_account->roles[0], ESG_ROLE_OFFICER);
    ck_assert_int_eq(body.add_account->roles[1], ESG_ROLE_ADMIN);
    ck_assert_uint_eq(body.add_account->pubkey.len, 32);
    json_decref(in);

    in = json_loads("{\"type\": \"Subscribe\", \"units\": 7}", 0, NULL);
    body = (esg_pb_tx_body)ESG_PB_TX_BODY_INIT;
    ck_assert_int_eq(esgw_json_to_action(&body, in, arena_alloc, &A, err, sizeof err), 0);
    ck_assert_uint_eq(body.subscribe->units, 7);
    ck_assert_str_eq(body.subscribe->instrument, "");
    json_decref(in);

    /* A proposal without "type": the member alone says which. */
    in = json_loads("{\"type\": \"Propose\", \"proposal\": {\"suspend_member\": {\"id\": \"m\"}}}",
                    0, NULL);
    body = (esg_pb_tx_body)ESG_PB_TX_BODY_INIT;
    ck_assert_int_eq(esgw_json_to_action(&body, in, arena_alloc, &A, err, sizeof err), 0);
    ck_assert_int_eq(body.propose->proposal->change_case, ESG_PROPOSAL_SUSPEND_MEMBER);
    ck_assert_str_eq(body.propose->proposal->suspend_member->id, "m");
    json_decref(in);
}
END_TEST

START_TEST(errors_name_the_path) {
    static const struct {
        const char *json;
        int code;
        const char *msg;
    } cases[] = {
        {"[]", ESG_ERR_JSON, "an action must be a JSON object"},
        {"{\"pubkey\": \"" H1 "\"}", ESG_ERR_JSON, "an action needs \"type\""},
        {"{\"type\": \"Frobnicate\"}", ESG_ERR_JSON, "type: unknown action 'Frobnicate' (one of "
                                                     "Propose, Vote, AddAccount"},
        {"{\"type\": \"AddAccount\", \"pubkye\": \"" H1 "\"}", ESG_ERR_JSON,
         "pubkye: unknown field (a AddAccount has no field 'pubkye')"},
        {"{\"type\": \"AddAccount\", \"pubkey\": \"abc\"}", ESG_ERR_HEX, "pubkey: 'abc' is not hex"},
        {"{\"type\": \"AddAccount\", \"pubkey\": \"zz\"}", ESG_ERR_HEX, "pubkey: 'zz' is not hex"},
        {"{\"type\": \"AddAccount\", \"roles\": [\"OFFICER\", \"BOSS\"]}", ESG_ERR_JSON,
         "roles[1]: unknown Role 'BOSS' (one of ADMIN, OFFICER)"},
        {"{\"type\": \"AddAccount\", \"roles\": \"OFFICER\"}", ESG_ERR_JSON,
         "roles: expected an array"},
        {"{\"type\": \"Propose\", \"proposal\": {\"type\": \"AddMember\", \"add_member\": "
         "{\"kind\": \"TOWN\"}}}", ESG_ERR_JSON,
         "proposal.add_member.kind: unknown MemberKind 'TOWN'"},
        {"{\"type\": \"Propose\", \"proposal\": {\"type\": \"AddMember\", \"add_member\": "
         "{\"idd\": \"x\"}}}", ESG_ERR_JSON, "proposal.add_member.idd: unknown field"},
        {"{\"type\": \"Propose\", \"proposal\": {\"add_member\": {}, \"set_param\": {}}}",
         ESG_ERR_JSON, "proposal.set_param: 'add_member' and 'set_param' are members of one oneof"},
        {"{\"type\": \"Propose\", \"proposal\": {\"type\": \"SetParam\", \"add_member\": {}}}",
         ESG_ERR_JSON, "proposal.type: 'SetParam' needs the field 'set_param'"},
        {"{\"type\": \"Propose\", \"proposal\": {\"type\": \"Nope\"}}", ESG_ERR_JSON,
         "proposal.type: 'Nope' is not a message of a oneof of Proposal"},
        {"{\"type\": \"Propose\", \"proposal\": {\"set_param\": {\"value\": "
         "\"18446744073709551616\"}}}", ESG_ERR_OVERFLOW, "proposal.set_param.value: "},
        {"{\"type\": \"Propose\", \"proposal\": {\"set_param\": {\"value\": -1}}}",
         ESG_ERR_OVERFLOW, "proposal.set_param.value: -1 is negative"},
        {"{\"type\": \"Propose\", \"proposal\": {\"set_param\": {\"value\": \"01\"}}}",
         ESG_ERR_JSON, "proposal.set_param.value: '01' is not"},
        {"{\"type\": \"ReportImpact\", \"value\": \"-9223372036854775809\"}", ESG_ERR_OVERFLOW,
         "value: "},
        {"{\"type\": \"ReportImpact\", \"value\": \"-0\"}", ESG_ERR_JSON, "value: "},
        {"{\"type\": \"ReportImpact\", \"value\": 1.5}", ESG_ERR_JSON,
         "value: expected an integer or a decimal string, got a real number"},
        {"{\"type\": \"IssueInstrument\", \"spec\": {\"coupon_bps\": 4294967296}}",
         ESG_ERR_OVERFLOW, "spec.coupon_bps: "},
        {"{\"type\": \"IssueInstrument\", \"spec\": {\"coupon_bps\": \"125\"}}", ESG_ERR_JSON,
         "spec.coupon_bps: expected an integer, got a string"},
        {"{\"type\": \"IssueInstrument\", \"spec\": {\"co_issuers\": [{\"member\": \"a\"}, "
         "{\"share_bps\": true}]}}", ESG_ERR_JSON, "spec.co_issuers[1].share_bps: "},
        {"{\"type\": \"IssueInstrument\", \"spec\": {\"co_issuers\": [null]}}", ESG_ERR_JSON,
         "spec.co_issuers[0]: "},
        {"{\"type\": \"IssueInstrument\", \"spec\": {\"name\": 5}}", ESG_ERR_JSON,
         "spec.name: expected a string, got an integer"},
        {"{\"type\": \"IssueInstrument\", \"spec\": []}", ESG_ERR_JSON,
         "spec: expected an object (InstrumentSpec), got an array"},
        {"{\"type\": \"Vote\", \"approve\": \"yes\"}", ESG_ERR_JSON, "approve: expected true or"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *in = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        ck_assert_msg(in != NULL, "case %zu is not JSON", i);
        esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
        char err[256];
        int rc = esgw_json_to_action(&body, in, arena_alloc, &A, err, sizeof err);
        ck_assert_msg(rc == cases[i].code, "case %zu: %s, expected %s (%s)", i, esg_err_name(rc),
                      esg_err_name(cases[i].code), err);
        ck_assert_msg(strncmp(err, cases[i].msg, strlen(cases[i].msg)) == 0,
                      "case %zu: '%s' does not start with '%s'", i, err, cases[i].msg);
        json_decref(in);
    }
}
END_TEST

Suite *suite_pbjson_in(void) {
    Suite *s = suite_create("pbjson_in");
    TCase *tc = tcase_create("pbjson_in");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, every_action_round_trips);
    tcase_add_test(tc, lenient_spellings);
    tcase_add_test(tc, errors_name_the_path);
    suite_add_tcase(s, tc);
    return s;
}
