/* The esgwallet verbs of the ESG domain (wallet/cli_instrument.c,
 * cli_impact.c, cli_project.c, cli_gbs.c, cli_build.c), run in-process:
 *   - offline: every action verb's -o build decodes to the action fields
 *     asked for, evidence files are hashed (SHA-256 of their bytes), and
 *     every bad value is one error line with its code;
 *   - against a fake node (libmicrohttpd serving canned documents in the
 *     shapes of docs/API.md): submitting prints tx_id, height and the
 *     record id with --json, check-evidence compares hashes, and the
 *     queries and reports show the figures -- with the report's own sums
 *     and shares checked against values worked out here.
 * A real node is driven by the integration tests. */
#include <check.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/keys.h"
#include "testutil.h"
#include "wallet/cli.h"

static char tmp[256];
static char ksdir[512];
static char node_url[64];

/* ---------------------------------------------------------- fake node */

/* Canned answers: path -> (status, body). Set before requests, read by
 * the daemon's thread. */
typedef struct canned {
    const char *path;
    int status;
    const char *body;
} canned;

static canned routes[32];
static size_t n_routes;
static struct MHD_Daemon *daemon_;
static pthread_mutex_t posted_mu = PTHREAD_MUTEX_INITIALIZER;
static esg_tx *posted; /* the last transaction POSTed */
static bool posted_wait;

typedef struct upload {
    uint8_t *buf;
    size_t len;
} upload;

static enum MHD_Result reply(struct MHD_Connection *conn, int status, const char *body) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls) {
    (void)cls;
    (void)version;
    if (strcmp(method, "POST") == 0) {
        upload *u = *con_cls;
        if (!u) {
            *con_cls = calloc(1, sizeof *u);
            return *con_cls ? MHD_YES : MHD_NO;
        }
        if (*upload_data_size) {
            uint8_t *nb = realloc(u->buf, u->len + *upload_data_size);
            if (!nb)
                return MHD_NO;
            memcpy(nb + u->len, upload_data, *upload_data_size);
            u->buf = nb;
            u->len += *upload_data_size;
            *upload_data_size = 0;
            return MHD_YES;
        }
        esg_tx *tx = NULL;
        int rc = esg_tx_decode(&tx, u->buf, u->len);
        free(u->buf);
        free(u);
        *con_cls = NULL;
        if (rc)
            return reply(conn, 400, "{\"error\": {\"code\": \"ERR_DECODE\", \"message\": \"x\"}}");
        const char *w = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "wait");
        char body[256];
        snprintf(body, sizeof body,
                 w ? "{\"tx_id\": \"%s\", \"status\": \"committed\", \"height\": 42, \"index\": 0}"
                   : "{\"tx_id\": \"%s\", \"status\": \"pending\"}",
                 esg_hash_hex(&tx->id).s);
        pthread_mutex_lock(&posted_mu);
        esg_tx_free(posted);
        posted = tx;
        posted_wait = w != NULL;
        pthread_mutex_unlock(&posted_mu);
        return reply(conn, 200, body);
    }
    if (strcmp(url, "/v1/status") == 0)
        return reply(conn, 200, "{\"chain_id\": \"esg-fake\", \"height\": 41}");
    /* A route may name the query the wallet must send: ?period= or ?city=. */
    char full[512];
    const char *period = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "period");
    const char *city = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "city");
    snprintf(full, sizeof full, "%s%s%s%s%s", url, period ? "?period=" : "", period ? period : "",
             city ? "?city=" : "", city ? city : "");
    for (size_t i = 0; i < n_routes; i++)
        if (strcmp(routes[i].path, full) == 0)
            return reply(conn, routes[i].status, routes[i].body);
    /* An account without a route of its own: an officer of city-a. */
    if (strncmp(url, "/v1/accounts/", 13) == 0)
        return reply(conn, 200,
                     "{\"member\": \"city-a\", \"roles\": [\"OFFICER\"], \"nonce\": 4, "
                     "\"next_nonce\": 5, \"revoked\": false}");
    return reply(conn, 404, "{\"error\": {\"code\": \"ERR_NOT_FOUND\", \"message\": \"no route\"}}");
}

static void route(const char *path, int status, const char *body) {
    ck_assert_uint_lt(n_routes, sizeof routes / sizeof routes[0]);
    routes[n_routes++] = (canned){path, status, body};
}

/* ------------------------------------------------------------ fixture */

static void setup(void) {
    setenv("ESGWALLET_KDF", "fast", 1);
    setenv("ESGWALLET_PASSPHRASE", "test", 1);
    unsetenv("ESGWALLET_NODE");
    tu_tmpdir(tmp, sizeof tmp);
    snprintf(ksdir, sizeof ksdir, "%s/keys", tmp);
    n_routes = 0;
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL,
                               MHD_OPTION_END);
    ck_assert_ptr_nonnull(daemon_);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    ck_assert_ptr_nonnull(di);
    snprintf(node_url, sizeof node_url, "http://127.0.0.1:%u", (unsigned)di->port);
}

static void teardown(void) {
    MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    esg_tx_free(posted);
    posted = NULL;
    tu_rmtree(tmp);
}

typedef struct result {
    int status;
    char out[32768];
    char err[4096];
} result;

static result *run_argv(const char *const *args, size_t n) {
    static result r;
    char *argv[64];
    int argc = 0;
    argv[argc++] = "esgwallet";
    argv[argc++] = "--keystore";
    argv[argc++] = ksdir;
    argv[argc++] = "--node";
    argv[argc++] = node_url;
    ck_assert_uint_lt(n, 64 - 6);
    for (size_t i = 0; i < n; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(err);
    r.status = esgw_cli_run(argc, argv, out, err);
    fclose(out);
    fclose(err);
    ck_assert_msg(olen < sizeof r.out, "stdout too long for the test buffer");
    snprintf(r.out, sizeof r.out, "%s", obuf ? obuf : "");
    snprintf(r.err, sizeof r.err, "%s", ebuf ? ebuf : "");
    free(obuf);
    free(ebuf);
    return &r;
}

static result *run(const char *first, ...) {
    const char *args[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_uint_lt(n, 64);
        args[n++] = a;
    }
    va_end(ap);
    return run_argv(args, n);
}

static void assert_fails(const result *r, int status, const char *code) {
    char prefix[128];
    snprintf(prefix, sizeof prefix, "esgwallet: %s: ", code);
    ck_assert_msg(r->status == status, "exit %d, expected %d (stderr: %s)", r->status, status,
                  r->err);
    ck_assert_msg(r->out[0] == '\0', "stdout not empty: %s", r->out);
    ck_assert_msg(strncmp(r->err, prefix, strlen(prefix)) == 0, "expected %s, got: %s", code,
                  r->err);
    size_t n = strlen(r->err);
    ck_assert_msg(n > 0 && r->err[n - 1] == '\n' && memchr(r->err, '\n', n - 1) == NULL,
                  "stderr is not one line: %s", r->err);
}

static void assert_ok(const result *r) {
    ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
    ck_assert_msg(r->err[0] == '\0', "stderr not empty: %s", r->err);
}

static void assert_has(const result *r, const char *s) {
    ck_assert_msg(strstr(r->out, s) != NULL, "'%s' not in:\n%s", s, r->out);
}

static json_t *out_json(const result *r) {
    json_error_t e;
    json_t *j = json_loads(r->out, 0, &e);
    ck_assert_msg(j != NULL, "stdout is not JSON (%s): %s", e.text, r->out);
    return j;
}

static esg_pubkey new_key(const char *name) {
    result *r = run("--json", "key", "new", name, NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    esg_pubkey pk;
    ck_assert_int_eq(esg_hex_decode(pk.b, 32, json_string_value(json_object_get(j, "pubkey"))),
                     0);
    json_decref(j);
    return pk;
}

static const char *path_in_tmp(const char *name) {
    static char p[8][600];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
    return p[k];
}

static esg_tx *load_tx(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    esg_tx *tx;
    ck_assert_int_eq(esg_tx_decode(&tx, buf, n), ESG_OK);
    return tx;
}

static void write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void write_text(const char *path, const char *text) {
    write_bytes(path, text, strlen(text));
}

/* The offline options every action verb gets here. */
#define OFF(out) "--key", "city", "--nonce", "9", "--chain-id", "esg-test", "-o", (out)

/* ------------------------------------------------------- instruments */

static const char spec_json[] =
    "{\"id\": \"JGB-2026-01\", \"kind\": \"SUSTAINABILITY_LINKED_BOND\",\n"
    " \"name\": \"Joint green bond\", \"currency\": \"EUR\", \"face_value\": \"100000\",\n"
    " \"units\": 5000, \"coupon_bps\": 125, \"coupon_frequency_months\": 12,\n"
    " \"issue_date\": \"2024-03-01\", \"maturity_date\": \"2027-03-01\",\n"
    " \"co_issuers\": [{\"member\": \"city-a\", \"share_bps\": 5000},\n"
    "                {\"member\": \"city-b\", \"share_bps\": 3000},\n"
    "                {\"member\": \"city-c\", \"share_bps\": 2000}],\n"
    " \"paying_agent\": \"agent-x\",\n"
    " \"projects\": [{\"id\": \"A-SOLAR\", \"city\": \"city-a\", \"name\": \"Solar\",\n"
    "               \"eu_objective\": \"CCM\", \"sdgs\": [7, 11], \"budget\": \"20000000\"}],\n"
    " \"kpi_targets\": [{\"kpi\": \"ghg_avoided_tco2e\", \"baseline\": \"0\",\n"
    "                  \"target\": \"1500.000\", \"observation_date\": \"2025-12-31\",\n"
    "                  \"step_up_bps\": 25}]}\n";

/* The joint issuance flow offline: city-a builds and signs, city-b and
 * city-c add their signatures; the id never changes. */
/* Routes GET /v1/accounts/PK to an account of `member` with `roles` (a
 * JSON array), revoked or not; up to 16 per test. */
static void route_account(const esg_pubkey *pk, const char *member, const char *roles,
                          bool revoked) {
    static char paths[16][96], bodies[16][256];
    static size_t k;
    k = (k + 1) % 16;
    snprintf(paths[k], sizeof paths[k], "/v1/accounts/%s", esg_pubkey_hex(pk).s);
    snprintf(bodies[k], sizeof bodies[k],
             "{\"member\": \"%s\", \"roles\": %s, \"nonce\": 0, \"next_nonce\": 1, "
             "\"revoked\": %s}", member, roles, revoked ? "true" : "false");
    route(paths[k], 200, bodies[k]);
}

START_TEST(issue_builds_the_spec_and_collects_signatures) {
    esg_pubkey a = new_key("city");
    esg_pubkey b = new_key("city-b");
    esg_pubkey c = new_key("city-c");
    route_account(&b, "city-b", "[\"OFFICER\"]", false);
    route_account(&c, "city-c", "[\"ADMIN\", \"OFFICER\"]", false);
    const char *spec = path_in_tmp("spec.json"), *out = path_in_tmp("issue.tx");
    write_text(spec, spec_json);
    result *r = run("--json", "instrument", "issue", "--spec", spec, OFF(out), NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    esg_tx *tx = load_tx(out);
    ck_assert_str_eq(json_string_value(json_object_get(j, "tx_id")), esg_hash_hex(&tx->id).s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "file")), out);
    /* Who must co-sign: an officer of every co-issuer. */
    json_t *cos = json_object_get(j, "cosigners");
    ck_assert_uint_eq(json_array_size(cos), 3);
    ck_assert_str_eq(json_string_value(json_array_get(cos, 2)), "city-c");
    json_decref(j);
    ck_assert_str_eq(tx->body->chain_id, "esg-test");
    ck_assert_uint_eq(tx->body->nonce, 9);
    esg_pubkey signer = esg_tx_signer(tx);
    ck_assert_mem_eq(signer.b, a.b, 32);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_ISSUE_INSTRUMENT);
    const esg_pb_instrument_spec *s = tx->body->issue_instrument->spec;
    ck_assert_str_eq(s->id, "JGB-2026-01");
    ck_assert_int_eq(s->kind, ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND);
    ck_assert_uint_eq(s->face_value, 100000);
    ck_assert_uint_eq(s->units, 5000);
    ck_assert_uint_eq(s->n_co_issuers, 3);
    ck_assert_str_eq(s->co_issuers[1]->member, "city-b");
    ck_assert_uint_eq(s->co_issuers[1]->share_bps, 3000);
    ck_assert_uint_eq(s->projects[0]->budget, 20000000);
    ck_assert_int_eq(s->kpi_targets[0]->target, 1500000);
    esg_hash id = tx->id;
    esg_tx_free(tx);
    const char *out2 = path_in_tmp("issue2.tx");
    r = run("instrument", "issue", "--spec", spec, OFF(out2), NULL);
    assert_ok(r);
    assert_has(r, "needs an officer of each of: city-a, city-b, city-c\n");

    assert_ok(run("tx", "sign", out, "--key", "city-b", NULL));
    assert_ok(run("tx", "sign", out, "--key", "city-c", NULL));
    tx = load_tx(out);
    ck_assert(esg_hash_eq(&tx->id, &id));
    ck_assert_uint_eq(esg_tx_n_sigs(tx), 3);
    for (size_t i = 0; i < 3; i++) {
        esg_pubkey pk;
        esg_sig sig;
        esg_tx_sig_at(tx, i, &pk, &sig);
        ck_assert(esg_verify(&sig, &tx->id, &pk));
    }
    esg_tx_free(tx);
}
END_TEST

/* tx sign refuses, before the passphrase, a signature the issuance does
 * not need -- the contracts claim the signer's and one officer's per other
 * co-issuer, and a node refuses any other -- naming the key and the
 * signers needed; --force adds it anyway, and an unreachable node leaves
 * it unchecked. The fake node's accounts say whose keys are whose (the
 * signer's is an officer of city-a). */
START_TEST(tx_sign_refuses_a_signature_the_action_does_not_need) {
    new_key("city");
    esg_pubkey b = new_key("city-b"), b2 = new_key("city-b2"), adm = new_key("admin-b");
    esg_pubkey z = new_key("city-z"), rc = new_key("revoked-c");
    new_key("city-a2"); /* no route: an officer of city-a, like the signer */
    esg_pubkey nobody = new_key("nobody");
    route_account(&b, "city-b", "[\"OFFICER\"]", false);
    route_account(&b2, "city-b", "[\"OFFICER\", \"ADMIN\"]", false);
    route_account(&adm, "city-b", "[\"ADMIN\"]", false);
    route_account(&z, "city-z", "[\"OFFICER\"]", false);
    route_account(&rc, "city-c", "[\"OFFICER\"]", true);
    char nobody_path[96];
    snprintf(nobody_path, sizeof nobody_path, "/v1/accounts/%s", esg_pubkey_hex(&nobody).s);
    route(nobody_path, 404,
          "{\"error\": {\"code\": \"ERR_NOT_FOUND\", \"message\": \"no account\"}}");
    const char *spec = path_in_tmp("spec.json"), *out = path_in_tmp("issue.tx");
    write_text(spec, spec_json);
    assert_ok(run("instrument", "issue", "--spec", spec, OFF(out), NULL));

    static const struct {
        const char *key, *why;
    } refused[] = {
        {"city-a2", "is not needed: it is an officer of city-a, for which the signer signs"},
        {"nobody", "is not needed: it is no account"},
        {"city-z", "is not needed: it is an officer of city-z, which is no co-issuer"},
        {"admin-b", "is not needed: it is a non-OFFICER account of city-b"},
        {"revoked-c", "is not needed: it is a revoked account of city-c"},
    };
    /* A passphrase file that does not exist: a refusal never gets to it. */
    const char *nopass = path_in_tmp("no-passphrase");
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        result *r = run("tx", "sign", out, "--key", refused[i].key, "--passphrase-file", nopass,
                        NULL);
        assert_fails(r, 1, "ERR_UNEXPECTED_SIGNATURE");
        ck_assert_msg(strstr(r->err, refused[i].why), "%s: %s", refused[i].key, r->err);
        char named[64];
        snprintf(named, sizeof named, "key '%s' (", refused[i].key);
        ck_assert_ptr_nonnull(strstr(r->err, named));
        ck_assert_ptr_nonnull(strstr(r->err, "'IssueInstrument' needs its signer "));
        ck_assert_ptr_nonnull(strstr(r->err, "an officer of each of: city-a, city-b, city-c"));
        ck_assert_ptr_nonnull(strstr(r->err, "(--force signs anyway)"));
    }
    esg_tx *tx = load_tx(out);
    ck_assert_uint_eq(esg_tx_n_sigs(tx), 1);
    esg_tx_free(tx);

    /* city-b's first officer is needed; its second is then not. */
    result *r = run("--json", "tx", "sign", out, "--key", "city-b", NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    ck_assert(json_is_true(json_object_get(j, "checked")));
    json_decref(j);
    r = run("tx", "sign", out, "--key", "city-b2", NULL);
    assert_fails(r, 1, "ERR_UNEXPECTED_SIGNATURE");
    ck_assert_ptr_nonnull(strstr(r->err, "an officer of city-b ("));
    ck_assert_ptr_nonnull(strstr(r->err, esg_pubkey_hex(&b).s));
    ck_assert_ptr_nonnull(strstr(r->err, "has signed already"));
    /* A key that signed is a duplicate, --force or not. */
    assert_fails(run("tx", "sign", out, "--key", "city-b", "--force", NULL), 1,
                 "ERR_DUPLICATE_SIGNATURE");

    /* --force signs without asking. */
    r = run("--json", "tx", "sign", out, "--key", "city-b2", "--force", NULL);
    assert_ok(r);
    j = out_json(r);
    ck_assert(json_is_false(json_object_get(j, "checked")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "signatures")), 3);
    json_decref(j);
    tx = load_tx(out);
    ck_assert_uint_eq(esg_tx_n_sigs(tx), 3);
    esg_pubkey spk;
    esg_tx_sig_at(tx, 2, &spk, NULL);
    ck_assert_mem_eq(spk.b, b2.b, 32);
    esg_tx_free(tx);
}
END_TEST

START_TEST(issue_refuses_a_bad_spec_before_signing) {
    new_key("city");
    const char *spec = path_in_tmp("spec.json"), *out = path_in_tmp("issue.tx");
    char *bad = strdup(spec_json);
    char *p = strstr(bad, "\"share_bps\": 3000");
    memcpy(p, "\"share_bps\": 2000", 17);
    write_text(spec, bad);
    free(bad);
    result *r = run("instrument", "issue", "--spec", spec, OFF(out), NULL);
    assert_fails(r, 1, "ERR_SHARES_SUM");
    ck_assert_ptr_nonnull(strstr(r->err, "co_issuers: shares sum to 9000 bps"));
    ck_assert_ptr_nonnull(strstr(r->err, spec));
    ck_assert_int_ne(access(out, F_OK), 0);

    write_text(spec, "{\"id\": \"X\", \"coupon_bp\": 1}");
    r = run("instrument", "issue", "--spec", spec, OFF(out), NULL);
    assert_fails(r, 1, "ERR_JSON");
    ck_assert_ptr_nonnull(strstr(r->err, "coupon_bp: unknown key"));
    write_text(spec, "not json");
    assert_fails(run("instrument", "issue", "--spec", spec, OFF(out), NULL), 1, "ERR_JSON");
    assert_fails(run("instrument", "issue", "--spec", path_in_tmp("none.json"), OFF(out), NULL),
                 1, "ERR_NOT_FOUND");
    assert_fails(run("instrument", "issue", OFF(out), NULL), 2, "ERR_INVALID_ARGUMENT");
    ck_assert_int_ne(access(out, F_OK), 0);
}
END_TEST

START_TEST(subscribe_close_transfer_pay) {
    new_key("city");
    const char *o1 = path_in_tmp("s.tx"), *o2 = path_in_tmp("c.tx"), *o3 = path_in_tmp("t.tx"),
               *o4 = path_in_tmp("p.tx"), *o5 = path_in_tmp("r.tx");
    assert_ok(run("instrument", "subscribe", "JGB-1", "--units", "250", OFF(o1), NULL));
    esg_tx *tx = load_tx(o1);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_SUBSCRIBE);
    ck_assert_str_eq(tx->body->subscribe->instrument, "JGB-1");
    ck_assert_uint_eq(tx->body->subscribe->units, 250);
    esg_tx_free(tx);

    assert_ok(run("instrument", "close", "JGB-1", OFF(o2), NULL));
    tx = load_tx(o2);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_CLOSE_OFFERING);
    ck_assert_str_eq(tx->body->close_offering->instrument, "JGB-1");
    esg_tx_free(tx);

    assert_ok(run("instrument", "transfer", "JGB-1", "--to", "investor-2", "--units", "40",
                  OFF(o3), NULL));
    tx = load_tx(o3);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_TRANSFER);
    ck_assert_str_eq(tx->body->transfer->instrument, "JGB-1");
    ck_assert_str_eq(tx->body->transfer->to_member, "investor-2");
    ck_assert_uint_eq(tx->body->transfer->units, 40);
    esg_tx_free(tx);

    assert_ok(run("instrument", "pay", "JGB-1", "--kind", "coupon", "--due", "2025-03-01",
                  OFF(o4), NULL));
    tx = load_tx(o4);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_RECORD_PAYMENT);
    ck_assert_int_eq(tx->body->record_payment->kind, ESG_PAYMENT_COUPON);
    ck_assert_str_eq(tx->body->record_payment->due_date, "2025-03-01");
    esg_tx_free(tx);
    assert_ok(run("instrument", "pay", "JGB-1", "--kind", "REDEMPTION", "--due", "2027-03-01",
                  OFF(o5), NULL));
    tx = load_tx(o5);
    ck_assert_int_eq(tx->body->record_payment->kind, ESG_PAYMENT_REDEMPTION);
    esg_tx_free(tx);

    const char *x = path_in_tmp("x.tx");
    assert_fails(run("instrument", "subscribe", "JGB-1", "--units", "0", OFF(x), NULL), 1,
                 "ERR_BAD_UNITS");
    assert_fails(run("instrument", "subscribe", "JGB-1", "--units", "ten", OFF(x), NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    assert_fails(run("instrument", "subscribe", "JGB-1", OFF(x), NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("instrument", "subscribe", "--units", "1", OFF(x), NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    assert_fails(run("instrument", "transfer", "JGB-1", "--units", "1", OFF(x), NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    assert_fails(run("instrument", "pay", "JGB-1", "--kind", "dividend", "--due", "2025-03-01",
                     OFF(x), NULL),
                 1, "ERR_BAD_PAYMENT_KIND");
    assert_fails(run("instrument", "pay", "JGB-1", "--kind", "coupon", "--due", "2025-02-29",
                     OFF(x), NULL),
                 1, "ERR_BAD_DATE");
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

START_TEST(proceeds_allocate_hashes_the_evidence) {
    new_key("city");
    /* Larger than the hashing chunk, so the streaming is exercised. */
    size_t n = 200000;
    uint8_t *doc = malloc(n);
    for (size_t i = 0; i < n; i++)
        doc[i] = (uint8_t)(i * 31 + 7);
    const char *ev = path_in_tmp("invoice.pdf"), *out = path_in_tmp("a.tx");
    write_bytes(ev, doc, n);
    esg_hash want = esg_sha256(doc, n);
    free(doc);
    assert_ok(run("proceeds", "allocate", "JGB-1", "--project", "A-SOLAR", "--amount",
                  "2500000", "--date", "2024-06-30", "--evidence", ev, OFF(out), NULL));
    esg_tx *tx = load_tx(out);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_ALLOCATE_PROCEEDS);
    const esg_pb_allocate_proceeds *m = tx->body->allocate_proceeds;
    ck_assert_str_eq(m->instrument, "JGB-1");
    ck_assert_str_eq(m->project_id, "A-SOLAR");
    ck_assert_uint_eq(m->amount, 2500000);
    ck_assert_str_eq(m->date, "2024-06-30");
    ck_assert_uint_eq(m->evidence_sha256.len, 32);
    ck_assert_mem_eq(m->evidence_sha256.data, want.b, 32);
    esg_tx_free(tx);

    /* An empty file has the SHA-256 of nothing. */
    const char *empty = path_in_tmp("empty"), *o2 = path_in_tmp("a2.tx");
    write_text(empty, "");
    assert_ok(run("proceeds", "allocate", "JGB-1", "--project", "A", "--amount", "1", "--date",
                  "2024-06-30", "--evidence", empty, OFF(o2), NULL));
    tx = load_tx(o2);
    esg_hash e0 = esg_sha256(NULL, 0);
    ck_assert_mem_eq(tx->body->allocate_proceeds->evidence_sha256.data, e0.b, 32);
    esg_tx_free(tx);

    const char *x = path_in_tmp("x.tx");
#define ALLOC(amount, date, evid)                                                            \
    run("proceeds", "allocate", "JGB-1", "--project", "A", "--amount", amount, "--date", date, \
        "--evidence", evid, OFF(x), NULL)
    assert_fails(ALLOC("25.00", "2024-06-30", ev), 1, "ERR_BAD_DECIMAL");
    assert_fails(ALLOC("-5", "2024-06-30", ev), 1, "ERR_BAD_DECIMAL");
    assert_fails(ALLOC("18446744073709551616", "2024-06-30", ev), 1, "ERR_OVERFLOW");
    assert_fails(ALLOC("0", "2024-06-30", ev), 1, "ERR_BAD_AMOUNT");
    assert_fails(ALLOC("10", "30/06/2024", ev), 1, "ERR_BAD_DATE");
    result *r = ALLOC("10", "2024-06-30", path_in_tmp("missing.pdf"));
    assert_fails(r, 1, "ERR_NOT_FOUND");
    ck_assert_ptr_nonnull(strstr(r->err, "--evidence"));
    assert_fails(ALLOC("10", "2024-06-30", tmp), 1, "ERR_IO"); /* a directory */
#undef ALLOC
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

/* ------------------------------------------------------------ impact */

START_TEST(impact_report_builds_and_names_the_report) {
    new_key("city");
    const char *ev = path_in_tmp("meter.csv"), *out = path_in_tmp("r.tx");
    write_text(ev, "kwh,1200\n");
    esg_hash want = esg_sha256("kwh,1200\n", 9);
    result *r = run("impact", "report", "JGB-1", "--project", "A-SOLAR", "--kpi",
                    "ghg_avoided_tco2e", "--value", "1234.5", "--period", "2024-01-01:2024-12-31",
                    "--evidence", ev, "--evidence-uri", "https://city-a.example/ev.csv",
                    "--methodology", "GHG Protocol", OFF(out), NULL);
    assert_ok(r);
    esg_tx *tx = load_tx(out);
    char line[128];
    snprintf(line, sizeof line, "report %s\n", esg_hash_hex(&tx->id).s);
    assert_has(r, line);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_REPORT_IMPACT);
    const esg_pb_report_impact *m = tx->body->report_impact;
    ck_assert_str_eq(m->instrument, "JGB-1");
    ck_assert_str_eq(m->project_id, "A-SOLAR");
    ck_assert_str_eq(m->kpi, "ghg_avoided_tco2e");
    ck_assert_int_eq(m->value, 1234500);
    ck_assert_str_eq(m->period_start, "2024-01-01");
    ck_assert_str_eq(m->period_end, "2024-12-31");
    ck_assert_str_eq(m->methodology, "GHG Protocol");
    ck_assert_str_eq(m->evidence_uri, "https://city-a.example/ev.csv");
    ck_assert_mem_eq(m->evidence_sha256.data, want.b, 32);
    ck_assert_uint_eq(m->supersedes.len, 0);
    ck_assert_str_eq(m->reason, "");
    esg_hash first = tx->id;
    esg_tx_free(tx);

    /* A correction names the report it supersedes, with a reason. */
    const char *o2 = path_in_tmp("r2.tx");
    esg_hex32 fh = esg_hash_hex(&first);
    r = run("--json", "impact", "report", "JGB-1", "--project", "A-SOLAR", "--kpi",
            "ghg_avoided_tco2e", "--value=-0.5", "--period", "2024-01-01:2024-12-31",
            "--evidence", ev, "--supersedes", fh.s, "--reason", "meter recalibrated", OFF(o2),
            NULL);
    assert_ok(r);
    tx = load_tx(o2);
    json_t *j = out_json(r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "report_id")),
                     esg_hash_hex(&tx->id).s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "tx_id")), esg_hash_hex(&tx->id).s);
    json_decref(j);
    ck_assert_int_eq(tx->body->report_impact->value, -500);
    ck_assert_mem_eq(tx->body->report_impact->supersedes.data, first.b, 32);
    ck_assert_str_eq(tx->body->report_impact->reason, "meter recalibrated");
    esg_tx_free(tx);

    const char *x = path_in_tmp("x.tx");
#define REPORT(value, period, ...)                                                             \
    run("impact", "report", "JGB-1", "--project", "A", "--kpi", "k", "--value", value,           \
        "--period", period, "--evidence", ev, __VA_ARGS__, OFF(x), NULL)
    assert_fails(REPORT("1.2345", "2024-01-01:2024-12-31", "--methodology", "m"), 1,
                 "ERR_BAD_DECIMAL");
    assert_fails(REPORT("1e3", "2024-01-01:2024-12-31", "--methodology", "m"), 1,
                 "ERR_BAD_DECIMAL");
    assert_fails(REPORT("1", "2024-01-01", "--methodology", "m"), 1, "ERR_BAD_DATE");
    assert_fails(REPORT("1", "2024-01-01:2024-13-01", "--methodology", "m"), 1, "ERR_BAD_DATE");
    assert_fails(REPORT("1", "2024-12-31:2024-01-01", "--methodology", "m"), 1, "ERR_BAD_PERIOD");
    assert_fails(REPORT("1", "2024-01-01:2024-12-31", "--supersedes", fh.s), 1,
                 "ERR_MISSING_REASON");
    assert_fails(REPORT("1", "2024-01-01:2024-12-31", "--supersedes", fh.s, "--reason", ""), 1,
                 "ERR_MISSING_REASON");
    assert_fails(REPORT("1", "2024-01-01:2024-12-31", "--reason", "why"), 2,
                 "ERR_INVALID_ARGUMENT");
    assert_fails(REPORT("1", "2024-01-01:2024-12-31", "--supersedes", "abc", "--reason", "w"), 1,
                 "ERR_HEX");
#undef REPORT
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

START_TEST(impact_attest_revoke_dispute) {
    new_key("city");
    const char *st = path_in_tmp("statement.pdf"), *o1 = path_in_tmp("a.tx");
    write_text(st, "we confirm");
    esg_hash sh = esg_sha256("we confirm", 10);
    char report[65];
    memset(report, 'a', 64);
    report[64] = '\0';
    result *r = run("impact", "attest", report, "--opinion", "Qualified", "--value", "1100",
                    "--statement", st, OFF(o1), NULL);
    assert_ok(r);
    esg_tx *tx = load_tx(o1);
    char line[128];
    snprintf(line, sizeof line, "attestation %s\n", esg_hash_hex(&tx->id).s);
    assert_has(r, line);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_ATTEST_IMPACT);
    const esg_pb_attest_impact *m = tx->body->attest_impact;
    ck_assert_uint_eq(m->report_id.len, 32);
    ck_assert_uint_eq(m->report_id.data[0], 0xaa);
    ck_assert_int_eq(m->opinion, ESG_OPINION_QUALIFIED);
    ck_assert_int_eq(m->verified_value, 1100000);
    ck_assert_mem_eq(m->statement_sha256.data, sh.b, 32);
    esg_hex32 att = esg_hash_hex(&tx->id);
    esg_tx_free(tx);
    for (int op = 0; op < 2; op++) {
        const char *o = path_in_tmp(op ? "a2.tx" : "a1.tx");
        assert_ok(run("impact", "attest", report, "--opinion", op ? "rejected" : "CONFIRMED",
                      "--value", "0", "--statement", st, OFF(o), NULL));
        tx = load_tx(o);
        ck_assert_int_eq(tx->body->attest_impact->opinion,
                         op ? ESG_OPINION_REJECTED : ESG_OPINION_CONFIRMED);
        esg_tx_free(tx);
    }

    const char *o2 = path_in_tmp("rv.tx");
    assert_ok(run("impact", "revoke", att.s, "--reason", "wrong meter", OFF(o2), NULL));
    tx = load_tx(o2);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_REVOKE_ATTESTATION);
    ck_assert_str_eq(esg_hex32_of(tx->body->revoke_attestation->attestation_id.data).s, att.s);
    ck_assert_str_eq(tx->body->revoke_attestation->reason, "wrong meter");
    esg_tx_free(tx);

    const char *o3 = path_in_tmp("d.tx");
    r = run("--json", "impact", "dispute", report, "--reason", "too high", OFF(o3), NULL);
    assert_ok(r);
    tx = load_tx(o3);
    json_t *j = out_json(r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "dispute_id")),
                     esg_hash_hex(&tx->id).s);
    json_decref(j);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_DISPUTE_IMPACT);
    ck_assert_uint_eq(tx->body->dispute_impact->report_id.data[31], 0xaa);
    ck_assert_str_eq(tx->body->dispute_impact->reason, "too high");
    esg_tx_free(tx);

    const char *x = path_in_tmp("x.tx");
    assert_fails(run("impact", "attest", report, "--opinion", "maybe", "--value", "1",
                     "--statement", st, OFF(x), NULL),
                 1, "ERR_BAD_OPINION");
    assert_fails(run("impact", "attest", "nothex", "--opinion", "confirmed", "--value", "1",
                     "--statement", st, OFF(x), NULL),
                 1, "ERR_HEX");
    assert_fails(run("impact", "attest", report, "--opinion", "confirmed", "--value", "x",
                     "--statement", st, OFF(x), NULL),
                 1, "ERR_BAD_DECIMAL");
    assert_fails(run("impact", "attest", report, "--opinion", "confirmed", "--value", "1",
                     "--statement", path_in_tmp("nope"), OFF(x), NULL),
                 1, "ERR_NOT_FOUND");
    assert_fails(run("impact", "revoke", att.s, "--reason", "", OFF(x), NULL), 1,
                 "ERR_MISSING_REASON");
    assert_fails(run("impact", "revoke", att.s, OFF(x), NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("impact", "dispute", report, "--reason", "", OFF(x), NULL), 1,
                 "ERR_MISSING_REASON");
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

/* A report of a project alone: the instrument is optional. */
START_TEST(impact_report_without_an_instrument) {
    new_key("city");
    const char *ev = path_in_tmp("meter.csv"), *out = path_in_tmp("r.tx");
    write_text(ev, "kwh,1200\n");
    result *r = run("--json", "impact", "report", "--project", "HER-PV", "--kpi",
                    "renewable_generation_mwh", "--value", "1200", "--period",
                    "2025-01-01:2025-12-31", "--evidence", ev, OFF(out), NULL);
    assert_ok(r);
    esg_tx *tx = load_tx(out);
    json_t *j = out_json(r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "report_id")), esg_hash_hex(&tx->id).s);
    json_decref(j);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_REPORT_IMPACT);
    ck_assert_str_eq(tx->body->report_impact->instrument, "");
    ck_assert_str_eq(tx->body->report_impact->project_id, "HER-PV");
    ck_assert_int_eq(tx->body->report_impact->value, 1200000);
    esg_tx_free(tx);
    /* Still at most one instrument, and the project stays required. */
    const char *x = path_in_tmp("x.tx");
    assert_fails(run("impact", "report", "JGB-1", "JGB-2", "--project", "P", "--kpi", "k",
                     "--value", "1", "--period", "2025-01-01:2025-12-31", "--evidence", ev,
                     OFF(x), NULL),
                 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("impact", "report", "--kpi", "k", "--value", "1", "--period",
                     "2025-01-01:2025-12-31", "--evidence", ev, OFF(x), NULL),
                 2, "ERR_INVALID_ARGUMENT");
    ck_assert_int_ne(access(x, F_OK), 0);
    r = run("impact", "report", "--help", NULL);
    assert_ok(r);
    assert_has(r, "usage: esgwallet impact report [INSTRUMENT] --project P ");
}
END_TEST

/* ------------------------------------------------- projects, funding */

/* The action a -o file holds, as tx inspect --json names it. */
static void assert_inspect_names(const char *path, const char *action) {
    result *r = run("--json", "tx", "inspect", path, NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "action")), action);
    ck_assert(json_is_true(json_object_get(j, "complete")));
    json_decref(j);
    r = run("tx", "inspect", path, NULL);
    assert_ok(r);
    char line[64];
    snprintf(line, sizeof line, "action    %s\n", action);
    assert_has(r, line);
}

START_TEST(project_register_builds_every_field) {
    new_key("city");
    const char *out = path_in_tmp("reg.tx");
    assert_ok(run("project", "register", "--id", "HER-PV", "--city", "city-heraklion", "--name",
                  "Port solar park", "--eu-objective", "ccm,PPC,Bio", "--taxonomy-activity",
                  "4.1", "--nace", "D35.11", "--sdgs", "7,13", "--total-cost", "190000000",
                  "--currency", "EUR", "--location", "Port of Heraklion", OFF(out), NULL));
    esg_tx *tx = load_tx(out);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_REGISTER_PROJECT);
    const esg_pb_register_project *m = tx->body->register_project;
    ck_assert_str_eq(m->id, "HER-PV");
    ck_assert_str_eq(m->city, "city-heraklion");
    ck_assert_str_eq(m->name, "Port solar park");
    /* All the objectives, in the order given. */
    ck_assert_uint_eq(m->n_eu_objectives, 3);
    ck_assert_int_eq(m->eu_objectives[0], ESG_EU_OBJECTIVE_CCM);
    ck_assert_int_eq(m->eu_objectives[1], ESG_EU_OBJECTIVE_PPC);
    ck_assert_int_eq(m->eu_objectives[2], ESG_EU_OBJECTIVE_BIO);
    ck_assert_str_eq(m->taxonomy_activity, "4.1");
    ck_assert_str_eq(m->nace, "D35.11");
    ck_assert_uint_eq(m->n_sdgs, 2);
    ck_assert_uint_eq(m->sdgs[0], 7);
    ck_assert_uint_eq(m->sdgs[1], 13);
    ck_assert_uint_eq(m->total_cost, 190000000);
    ck_assert_str_eq(m->currency, "EUR");
    ck_assert_str_eq(m->location, "Port of Heraklion");
    esg_tx_free(tx);
    assert_inspect_names(out, "RegisterProject");

    /* Only what is required; the rest stays empty. */
    const char *o2 = path_in_tmp("reg2.tx");
    result *r = run("project", "register", "--id", "KAV-WATER-2", "--city", "city-kavala",
                    "--name", "Water mains", "--eu-objective", "WTR", "--total-cost", "5000",
                    "--currency", "JPY", OFF(o2), NULL);
    assert_ok(r);
    ck_assert_ptr_null(strstr(r->out, "funding "));
    tx = load_tx(o2);
    m = tx->body->register_project;
    ck_assert_uint_eq(m->n_eu_objectives, 1);
    ck_assert_int_eq(m->eu_objectives[0], ESG_EU_OBJECTIVE_WTR);
    ck_assert_uint_eq(m->n_sdgs, 0);
    ck_assert_str_eq(m->taxonomy_activity, "");
    ck_assert_str_eq(m->nace, "");
    ck_assert_str_eq(m->location, "");
    esg_tx_free(tx);

    const char *x = path_in_tmp("x.tx");
#define REG(id, city, obj, cost, cur, ...)                                                    \
    run("project", "register", "--id", id, "--city", city, "--name", "N", "--eu-objective", obj, \
        "--total-cost", cost, "--currency", cur, __VA_ARGS__ OFF(x), NULL)
    assert_ok(REG("P-1", "city-a", "CCM", "1", "EUR", ));
    unlink(x);
    assert_fails(REG("her-pv", "city-a", "CCM", "1", "EUR", ), 1, "ERR_BAD_PROJECT_ID");
    assert_fails(REG("PV", "city-a", "CCM", "1", "EUR", ), 1, "ERR_BAD_PROJECT_ID");
    assert_fails(REG("P-1", "City A", "CCM", "1", "EUR", ), 1, "ERR_BAD_MEMBER_ID");
    result *e = REG("P-1", "city-a", "CCM,CLIMATE", "1", "EUR", );
    assert_fails(e, 1, "ERR_BAD_PROJECT");
    ck_assert_ptr_nonnull(strstr(e->err, "'CLIMATE'"));
    assert_fails(REG("P-1", "city-a", "CCM,ccm", "1", "EUR", ), 1, "ERR_BAD_PROJECT");
    assert_fails(REG("P-1", "city-a", "CCM,,BIO", "1", "EUR", ), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(REG("P-1", "city-a", "CCM", "0", "EUR", ), 1, "ERR_BAD_AMOUNT");
    assert_fails(REG("P-1", "city-a", "CCM", "1.50", "EUR", ), 1, "ERR_BAD_DECIMAL");
    assert_fails(REG("P-1", "city-a", "CCM", "18446744073709551616", "EUR", ), 1, "ERR_OVERFLOW");
    assert_fails(REG("P-1", "city-a", "CCM", "1", "eur", ), 1, "ERR_BAD_CURRENCY");
    assert_fails(REG("P-1", "city-a", "CCM", "1", "EURO", ), 1, "ERR_BAD_CURRENCY");
    assert_fails(REG("P-1", "city-a", "CCM", "1", "EUR", "--taxonomy-activity", "4",), 1,
                 "ERR_BAD_PROJECT");
    assert_fails(REG("P-1", "city-a", "CCM", "1", "EUR", "--nace", "F41.234",), 1,
                 "ERR_BAD_PROJECT");
    assert_fails(REG("P-1", "city-a", "CCM", "1", "EUR", "--sdgs", "7,18",), 1, "ERR_BAD_PROJECT");
    assert_fails(REG("P-1", "city-a", "CCM", "1", "EUR", "--sdgs", "0",), 1, "ERR_BAD_PROJECT");
    assert_fails(REG("P-1", "city-a", "CCM", "1", "EUR", "--sdgs", "7,7",), 1, "ERR_BAD_PROJECT");
    assert_fails(REG("P-1", "city-a", "CCM", "1", "EUR", "--sdgs", "seven",), 2,
                 "ERR_INVALID_ARGUMENT");
#undef REG
    assert_fails(run("project", "register", "--id", "P-1", "--city", "city-a", "--name", "",
                     "--eu-objective", "CCM", "--total-cost", "1", "--currency", "EUR", OFF(x),
                     NULL),
                 1, "ERR_BAD_PROJECT");
    assert_fails(run("project", "register", "--id", "P-1", "--city", "city-a", "--name", "N",
                     "--eu-objective", "CCM", "--total-cost", "1", OFF(x), NULL),
                 2, "ERR_INVALID_ARGUMENT");
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

START_TEST(project_update_unfund_and_proceeds_reverse) {
    new_key("city");
    const char *o1 = path_in_tmp("u.tx"), *o2 = path_in_tmp("uf.tx"), *o3 = path_in_tmp("rv.tx");
    assert_ok(run("project", "update", "HER-PV", "--total-cost", "210000000", "--reason",
                  "second phase tendered", OFF(o1), NULL));
    esg_tx *tx = load_tx(o1);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_UPDATE_PROJECT);
    ck_assert_str_eq(tx->body->update_project->id, "HER-PV");
    ck_assert_uint_eq(tx->body->update_project->total_cost, 210000000);
    ck_assert_str_eq(tx->body->update_project->reason, "second phase tendered");
    esg_tx_free(tx);
    assert_inspect_names(o1, "UpdateProject");

    char id[65];
    memset(id, 'b', 64);
    id[64] = '\0';
    result *r = run("project", "unfund", id, "--reason", "grant withdrawn", OFF(o2), NULL);
    assert_ok(r);
    ck_assert_ptr_null(strstr(r->out, "funding "));
    tx = load_tx(o2);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_REVERSE_FUNDING);
    ck_assert_str_eq(esg_hex32_of(tx->body->reverse_funding->funding_id.data).s, id);
    ck_assert_str_eq(tx->body->reverse_funding->reason, "grant withdrawn");
    esg_tx_free(tx);
    assert_inspect_names(o2, "ReverseFunding");

    memset(id, 'c', 64);
    assert_ok(run("proceeds", "reverse", id, "--reason", "wrong project", OFF(o3), NULL));
    tx = load_tx(o3);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_REVERSE_ALLOCATION);
    ck_assert_str_eq(esg_hex32_of(tx->body->reverse_allocation->allocation_id.data).s, id);
    ck_assert_str_eq(tx->body->reverse_allocation->reason, "wrong project");
    esg_tx_free(tx);
    assert_inspect_names(o3, "ReverseAllocation");

    const char *x = path_in_tmp("x.tx");
    assert_fails(run("project", "update", "her-pv", "--total-cost", "1", "--reason", "r", OFF(x),
                     NULL),
                 1, "ERR_BAD_PROJECT_ID");
    assert_fails(run("project", "update", "HER-PV", "--total-cost", "0", "--reason", "r", OFF(x),
                     NULL),
                 1, "ERR_BAD_AMOUNT");
    assert_fails(run("project", "update", "HER-PV", "--total-cost", "1", "--reason", "", OFF(x),
                     NULL),
                 1, "ERR_MISSING_REASON");
    assert_fails(run("project", "update", "HER-PV", "--total-cost", "1", OFF(x), NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    assert_fails(run("project", "update", "--total-cost", "1", "--reason", "r", OFF(x), NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    assert_fails(run("project", "unfund", "abc", "--reason", "r", OFF(x), NULL), 1, "ERR_HEX");
    assert_fails(run("project", "unfund", id, "--reason", "", OFF(x), NULL), 1,
                 "ERR_MISSING_REASON");
    assert_fails(run("proceeds", "reverse", "xyz", "--reason", "r", OFF(x), NULL), 1, "ERR_HEX");
    assert_fails(run("proceeds", "reverse", id, "--reason", "", OFF(x), NULL), 1,
                 "ERR_MISSING_REASON");
    assert_fails(run("proceeds", "reverse", id, OFF(x), NULL), 2, "ERR_INVALID_ARGUMENT");
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

/* project fund: every source, the evidence's SHA-256, and the funding id
 * printed -- offline and when submitted. */
START_TEST(project_fund_prints_the_funding_id) {
    new_key("city");
    const char *ev = path_in_tmp("grant.pdf"), *out = path_in_tmp("f.tx");
    write_text(ev, "grant agreement");
    esg_hash want = esg_sha256("grant agreement", 15);
    result *r = run("project", "fund", "HER-PV", "--source", "eu", "--programme",
                    "ERDF 2021-2027", "--amount", "190000000", "--date", "2025-01-15",
                    "--evidence", ev, OFF(out), NULL);
    assert_ok(r);
    esg_tx *tx = load_tx(out);
    char line[128];
    snprintf(line, sizeof line, "funding %s\n", esg_hash_hex(&tx->id).s);
    assert_has(r, line);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_RECORD_FUNDING);
    const esg_pb_record_funding *m = tx->body->record_funding;
    ck_assert_str_eq(m->project, "HER-PV");
    ck_assert_int_eq(m->source, ESG_FUNDING_SOURCE_EU);
    ck_assert_str_eq(m->programme, "ERDF 2021-2027");
    ck_assert_uint_eq(m->amount, 190000000);
    ck_assert_str_eq(m->date, "2025-01-15");
    ck_assert_uint_eq(m->evidence_sha256.len, 32);
    ck_assert_mem_eq(m->evidence_sha256.data, want.b, 32);
    esg_tx_free(tx);
    assert_inspect_names(out, "RecordFunding");

    static const struct {
        const char *name;
        int value;
    } srcs[] = {{"NATIONAL", ESG_FUNDING_SOURCE_NATIONAL},
                {"Regional", ESG_FUNDING_SOURCE_REGIONAL},
                {"municipal", ESG_FUNDING_SOURCE_MUNICIPAL},
                {"private", ESG_FUNDING_SOURCE_PRIVATE},
                {"other", ESG_FUNDING_SOURCE_OTHER}};
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%zu.tx", i);
        const char *o = path_in_tmp(name);
        r = run("--json", "project", "fund", "HER-PV", "--source", srcs[i].name, "--programme",
                "p", "--amount", "1", "--date", "2024-12-31", "--evidence", ev, OFF(o), NULL);
        assert_ok(r);
        tx = load_tx(o);
        ck_assert_int_eq(tx->body->record_funding->source, srcs[i].value);
        json_t *j = out_json(r);
        ck_assert_str_eq(json_string_value(json_object_get(j, "funding_id")),
                         esg_hash_hex(&tx->id).s);
        json_decref(j);
        esg_tx_free(tx);
    }

    /* Submitted: the funding id with the node's answer. */
    r = run("--json", "project", "fund", "HER-PV", "--source", "regional", "--programme",
            "Crete ROP", "--amount", "5000000", "--date", "2025-02-01", "--evidence", ev, "--key",
            "city", NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    pthread_mutex_lock(&posted_mu);
    ck_assert_ptr_nonnull(posted);
    ck_assert_int_eq(posted->body->action_case, ESG_ACTION_RECORD_FUNDING);
    esg_hex32 id = esg_hash_hex(&posted->id);
    pthread_mutex_unlock(&posted_mu);
    ck_assert_str_eq(json_string_value(json_object_get(j, "funding_id")), id.s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "committed");
    json_decref(j);
    r = run("project", "fund", "HER-PV", "--source", "regional", "--programme", "Crete ROP",
            "--amount", "5000000", "--date", "2025-02-02", "--evidence", ev, "--key", "city",
            "--no-wait", NULL);
    assert_ok(r);
    assert_has(r, "accepted (pending)");
    pthread_mutex_lock(&posted_mu);
    snprintf(line, sizeof line, "funding %s\n", esg_hash_hex(&posted->id).s);
    pthread_mutex_unlock(&posted_mu);
    assert_has(r, line);

    const char *x = path_in_tmp("x.tx");
#define FUND(p, src, amount, date, evid)                                                      \
    run("project", "fund", p, "--source", src, "--programme", "p", "--amount", amount, "--date", \
        date, "--evidence", evid, OFF(x), NULL)
    assert_fails(FUND("her-pv", "eu", "1", "2025-01-01", ev), 1, "ERR_BAD_PROJECT_ID");
    r = FUND("HER-PV", "county", "1", "2025-01-01", ev);
    assert_fails(r, 1, "ERR_BAD_FUNDING_SOURCE");
    ck_assert_ptr_nonnull(strstr(r->err, "'county'"));
    assert_fails(FUND("HER-PV", "", "1", "2025-01-01", ev), 1, "ERR_BAD_FUNDING_SOURCE");
    assert_fails(FUND("HER-PV", "eu", "0", "2025-01-01", ev), 1, "ERR_BAD_AMOUNT");
    assert_fails(FUND("HER-PV", "eu", "1e6", "2025-01-01", ev), 1, "ERR_BAD_DECIMAL");
    assert_fails(FUND("HER-PV", "eu", "1", "2025-02-30", ev), 1, "ERR_BAD_DATE");
    assert_fails(FUND("HER-PV", "eu", "1", "15/01/2025", ev), 1, "ERR_BAD_DATE");
    assert_fails(FUND("HER-PV", "eu", "1", "2025-01-01", path_in_tmp("none.pdf")), 1,
                 "ERR_NOT_FOUND");
#undef FUND
    assert_fails(run("project", "fund", "HER-PV", "--source", "eu", "--amount", "1", "--date",
                     "2025-01-01", "--evidence", ev, OFF(x), NULL),
                 2, "ERR_INVALID_ARGUMENT");
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

/* ---------------------------------------------------------- tx build */

START_TEST(tx_build_from_action_json) {
    new_key("city");
    esg_pubkey acct = new_key("acct");
    const char *act = path_in_tmp("action.json"), *out = path_in_tmp("b.tx");
    char text[256];
    snprintf(text, sizeof text,
             "{\"type\": \"AddAccount\", \"pubkey\": \"%s\", \"roles\": [\"OFFICER\"]}",
             esg_pubkey_hex(&acct).s);
    write_text(act, text);
    assert_ok(run("tx", "build", "--action", act, OFF(out), NULL));
    esg_tx *tx = load_tx(out);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_ADD_ACCOUNT);
    ck_assert_mem_eq(tx->body->add_account->pubkey.data, acct.b, 32);
    ck_assert_uint_eq(tx->body->add_account->n_roles, 1);
    ck_assert_int_eq(tx->body->add_account->roles[0], ESG_ROLE_OFFICER);
    esg_tx_free(tx);

    /* A domain action with a nested message. */
    const char *o2 = path_in_tmp("b2.tx");
    write_text(act, "{\"type\": \"RecordPayment\", \"instrument\": \"JGB-1\", \"kind\": \"COUPON\","
                    " \"due_date\": \"2025-03-01\"}");
    assert_ok(run("tx", "build", "--action", act, OFF(o2), NULL));
    tx = load_tx(o2);
    ck_assert_int_eq(tx->body->record_payment->kind, ESG_PAYMENT_COUPON);
    esg_tx_free(tx);

    const char *x = path_in_tmp("x.tx");
    write_text(act, "{\"type\": \"AddAccount\", \"roles\": [\"BOSS\"]}");
    result *r = run("tx", "build", "--action", act, OFF(x), NULL);
    assert_fails(r, 1, "ERR_JSON");
    ck_assert_ptr_nonnull(strstr(r->err, "roles[0]: unknown Role 'BOSS'"));
    write_text(act, "{\"type\": \"Nothing\"}");
    assert_fails(run("tx", "build", "--action", act, OFF(x), NULL), 1, "ERR_JSON");
    write_text(act, "{\"type\": \"AddAccount\", \"pubkey\": \"xyz1\"}");
    assert_fails(run("tx", "build", "--action", act, OFF(x), NULL), 1, "ERR_HEX");
    write_text(act, "{");
    assert_fails(run("tx", "build", "--action", act, OFF(x), NULL), 1, "ERR_JSON");
    /* Strings the codec refuses are caught before a file is written. */
    write_text(act, "{\"type\": \"Subscribe\", \"instrument\": \"\\udcff\"}");
    r = run("tx", "build", "--action", act, OFF(x), NULL);
    ck_assert_int_ne(r->status, 0);
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

/* -------------------------------------------------- against a node */

/* Submitting (no -o) against the fake node: the chain id and nonce come
 * from it, and --json prints tx_id, status, height and the record id. */
START_TEST(submit_prints_ids_and_height) {
    new_key("city");
    const char *ev = path_in_tmp("ev");
    write_text(ev, "evidence");
    result *r = run("--json", "impact", "report", "JGB-1", "--project", "A", "--kpi", "k",
                    "--value", "1", "--period", "2024-01-01:2024-12-31", "--evidence", ev,
                    "--key", "city", NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    pthread_mutex_lock(&posted_mu);
    ck_assert_ptr_nonnull(posted);
    esg_hex32 id = esg_hash_hex(&posted->id);
    ck_assert_str_eq(posted->body->chain_id, "esg-fake");
    ck_assert_uint_eq(posted->body->nonce, 5);
    ck_assert(posted_wait);
    pthread_mutex_unlock(&posted_mu);
    ck_assert_str_eq(json_string_value(json_object_get(j, "tx_id")), id.s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "report_id")), id.s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "committed");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "height")), 42);
    json_decref(j);

    r = run("instrument", "close", "JGB-1", "--key", "city", "--no-wait", NULL);
    assert_ok(r);
    assert_has(r, "accepted (pending)");
    pthread_mutex_lock(&posted_mu);
    ck_assert(!posted_wait);
    ck_assert_int_eq(posted->body->action_case, ESG_ACTION_CLOSE_OFFERING);
    pthread_mutex_unlock(&posted_mu);
}
END_TEST

#define RID "1111111111111111111111111111111111111111111111111111111111111111"
#define TID "2222222222222222222222222222222222222222222222222222222222222222"

START_TEST(check_evidence_compares_hashes) {
    const char *f = path_in_tmp("evidence.pdf");
    write_text(f, "the evidence");
    esg_hash h = esg_sha256("the evidence", 12);
    char body[512];
    snprintf(body, sizeof body,
             "{\"tx_id\": \"" RID "\", \"height\": 3, \"action\": {\"type\": \"ReportImpact\", "
             "\"instrument\": \"JGB-1\", \"evidence_sha256\": \"%s\"}}",
             esg_hash_hex(&h).s);
    route("/v1/txs/" RID, 200, body);
    route("/v1/txs/" TID, 200,
          "{\"tx_id\": \"" TID "\", \"action\": {\"type\": \"AddAccount\", \"pubkey\": \"\"}}");
    result *r = run("impact", "check-evidence", RID, "--file", f, NULL);
    assert_ok(r);
    ck_assert(strncmp(r->out, "match\n", 6) == 0);
    assert_has(r, esg_hash_hex(&h).s);
    r = run("--json", "impact", "check-evidence", RID, "--file", f, "--instrument", "JGB-1",
            NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    ck_assert(json_is_true(json_object_get(j, "match")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "file_sha256")), esg_hash_hex(&h).s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "recorded_sha256")),
                     esg_hash_hex(&h).s);
    json_decref(j);

    /* One changed byte: a mismatch naming both hashes. */
    write_text(f, "the evidencE");
    esg_hash h2 = esg_sha256("the evidencE", 12);
    r = run("impact", "check-evidence", RID, "--file", f, NULL);
    assert_fails(r, 1, "ERR_PROOF");
    ck_assert_ptr_nonnull(strstr(r->err, "MISMATCH"));
    ck_assert_ptr_nonnull(strstr(r->err, esg_hash_hex(&h).s));
    ck_assert_ptr_nonnull(strstr(r->err, esg_hash_hex(&h2).s));
    assert_fails(run("--json", "impact", "check-evidence", RID, "--file", f, NULL), 1,
                 "ERR_PROOF");

    write_text(f, "the evidence");
    assert_fails(run("impact", "check-evidence", RID, "--file", f, "--instrument", "OTHER-1",
                     NULL),
                 1, "ERR_UNKNOWN_REPORT");
    r = run("impact", "check-evidence", TID, "--file", f, NULL);
    assert_fails(r, 1, "ERR_UNKNOWN_REPORT");
    ck_assert_ptr_nonnull(strstr(r->err, "an AddAccount, not an impact report"));
    char unknown[65];
    memset(unknown, '3', 64);
    unknown[64] = '\0';
    assert_fails(run("impact", "check-evidence", unknown, "--file", f, NULL), 1,
                 "ERR_UNKNOWN_REPORT");
    assert_fails(run("impact", "check-evidence", "123", "--file", f, NULL), 1, "ERR_HEX");
    assert_fails(run("impact", "check-evidence", RID, "--file", path_in_tmp("none"), NULL), 1,
                 "ERR_NOT_FOUND");
}
END_TEST

/* check-evidence of a report that names no instrument. */
START_TEST(check_evidence_of_a_project_report) {
    const char *f = path_in_tmp("evidence.pdf");
    write_text(f, "the evidence");
    esg_hash h = esg_sha256("the evidence", 12);
    char body[512];
    snprintf(body, sizeof body,
             "{\"tx_id\": \"" RID "\", \"height\": 3, \"action\": {\"type\": \"ReportImpact\", "
             "\"instrument\": \"\", \"project_id\": \"HER-PV\", \"evidence_sha256\": \"%s\"}}",
             esg_hash_hex(&h).s);
    route("/v1/txs/" RID, 200, body);
    result *r = run("--json", "impact", "check-evidence", RID, "--file", f, NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    ck_assert(json_is_true(json_object_get(j, "match")));
    ck_assert_str_eq(json_string_value(json_object_get(j, "instrument")), "");
    json_decref(j);
    r = run("impact", "check-evidence", RID, "--file", f, "--instrument", "JGB-1", NULL);
    assert_fails(r, 1, "ERR_UNKNOWN_REPORT");
    ck_assert_ptr_nonnull(strstr(r->err, "names no instrument, not 'JGB-1'"));
}
END_TEST

/* ------------------------------------------------- canned documents */

static const char doc_instrument[] =
    "{\"id\": \"JGB-1\", \"kind\": \"GREEN_BOND\", \"name\": \"Joint bond\", \"currency\": "
    "\"EUR\", \"face_value\": \"100000\", \"units\": \"5000\", \"coupon_bps\": 125, "
    "\"coupon_frequency_months\": 12, \"issue_date\": \"2024-03-01\", \"maturity_date\": "
    "\"2027-03-01\", \"co_issuers\": [{\"member\": \"city-a\", \"share_bps\": 5000}, "
    "{\"member\": \"city-b\", \"share_bps\": 3000}, {\"member\": \"city-c\", \"share_bps\": "
    "2000}], \"paying_agent\": \"agent-x\", \"projects\": ["
    "{\"id\": \"A-SOLAR\", \"city\": \"city-a\", \"name\": \"Solar, \\\"phase 1\\\"\", "
    "\"eu_objective\": \"CCM\", \"sdgs\": [7, 11], \"budget\": \"20000000\"}, "
    "{\"id\": \"B-WATER\", \"city\": \"city-b\", \"name\": \"Water\", \"eu_objective\": \"WTR\", "
    "\"sdgs\": [6], \"budget\": \"10000000\"}, "
    "{\"id\": \"C-BUS\", \"city\": \"city-c\", \"name\": \"Buses\", \"eu_objective\": \"CCM\", "
    "\"sdgs\": [], \"budget\": \"5000000\"}], \"kpi_targets\": [], \"framework_sha256\": \"\", "
    "\"external_review_sha256\": \"\", \"status\": \"ACTIVE\", \"units_sold\": \"4000\", "
    "\"units_outstanding\": \"4000\", \"amount_raised\": \"400000000\", \"issue_tx\": \"\", "
    "\"issued_height\": 3, \"closed_height\": 9, \"matured_height\": 0, \"coupons_recorded\": 1, "
    "\"schedule\": [{\"date\": \"2025-03-01\", \"paid\": true, \"payment_seq\": 1}, "
    "{\"date\": \"2026-03-01\", \"paid\": false, \"payment_seq\": null}], "
    "\"next_coupon_date\": \"2026-03-01\", \"step_up_bps_in_force_next_coupon\": 0, "
    "\"step_ups\": []}";

static const char doc_allocations[] =
    "{\"instrument\": \"JGB-1\", \"amount_raised\": \"400000000\", \"allocated_total\": "
    "\"36000000\", \"unallocated\": \"364000000\", \"per_city\": ["
    "{\"city\": \"city-a\", \"share_bps\": 5000, \"part_of_raised\": \"200000000\", "
    "\"allocated\": \"25000000\", \"remaining\": \"175000000\"}, "
    "{\"city\": \"city-b\", \"share_bps\": 3000, \"part_of_raised\": \"120000000\", "
    "\"allocated\": \"5000000\", \"remaining\": \"115000000\"}, "
    "{\"city\": \"city-c\", \"share_bps\": 2000, \"part_of_raised\": \"80000000\", "
    "\"allocated\": \"6000000\", \"remaining\": \"74000000\"}], \"per_project\": ["
    "{\"project_id\": \"A-SOLAR\", \"city\": \"city-a\", \"name\": \"Solar, \\\"phase 1\\\"\", "
    "\"eu_objective\": \"CCM\", \"budget\": \"20000000\", \"allocated\": \"25000000\", "
    "\"share_of_proceeds_bps\": 625, \"over_budget\": true}, "
    "{\"project_id\": \"B-WATER\", \"city\": \"city-b\", \"name\": \"Water\", \"eu_objective\": "
    "\"WTR\", \"budget\": \"10000000\", \"allocated\": \"5000000\", \"share_of_proceeds_bps\": "
    "125, \"over_budget\": false}, "
    "{\"project_id\": \"C-BUS\", \"city\": \"city-c\", \"name\": \"Buses\", \"eu_objective\": "
    "\"CCM\", \"budget\": \"5000000\", \"allocated\": \"6000000\", \"share_of_proceeds_bps\": "
    "150, \"over_budget\": true}], \"allocations\": ["
    "{\"id\": \"" RID "\", \"project_id\": \"A-SOLAR\", \"city\": \"city-a\", \"amount\": "
    "\"25000000\", \"date\": \"2024-06-30\", \"evidence_sha256\": \"" TID "\", \"height\": 11}]}";

#define ATT(id, v, op, val, rev)                                                              \
    "{\"id\": \"" id "\", \"verifier\": \"" v "\", \"opinion\": \"" op "\", \"verified_value\": " \
    "\"" val "\", \"statement_sha256\": \"\", \"height\": 20, \"revoked\": " rev ", "             \
    "\"revoke_reason\": \"\", \"revoked_height\": 0}"
#define REP(id, proj, city, kpi, unit, value, sup, counted, cval, atts, disputes)               \
    "{\"id\": \"" id "\", \"project_id\": \"" proj "\", \"city\": \"" city "\", \"kpi\": \"" kpi \
    "\", \"unit\": \"" unit "\", \"category\": \"climate\", \"value\": \"" value "\", "          \
    "\"period_start\": \"2024-01-01\", \"period_end\": \"2024-12-31\", \"methodology\": \"\", "   \
    "\"evidence_sha256\": \"" TID "\", \"evidence_uri\": \"\", \"height\": 15, "                 \
    "\"supersedes\": null, \"reason\": \"\", \"superseded_by\": " sup ", \"counted\": " counted \
    ", \"counted_value\": " cval ", \"attestations\": [" atts "], \"disputes\": [" disputes "]}"

static const char doc_impact[] =
    "{\"instrument\": \"JGB-1\", \"reports\": ["
    REP("r1", "A-SOLAR", "city-a", "ghg_avoided_tco2e", "tCO2e", "1200.000", "null", "true",
        "\"1100.000\"", ATT("a1", "verifier-a", "CONFIRMED", "1100.000", "false"), "") ","
    REP("r2", "B-WATER", "city-b", "water_saved_m3", "m3", "5000.000", "null", "false", "null",
        ATT("a2", "verifier-b", "REJECTED", "0.000", "false"), "") ","
    REP("r3", "C-BUS", "city-c", "ghg_avoided_tco2e", "tCO2e", "300.000", "\"r4\"", "false",
        "null", "", "") ","
    REP("r4", "C-BUS", "city-c", "ghg_avoided_tco2e", "tCO2e", "350.500", "null", "true",
        "\"350.500\"",
        ATT("a3", "verifier-a", "QUALIFIED", "350.500", "false") ","
        ATT("a4", "verifier-c", "CONFIRMED", "400.000", "true"),
        "{\"id\": \"d1\", \"member\": \"investor-1\", \"reason\": \"too high\", \"height\": 30}")
    ","
    REP("r5", "A-SOLAR", "city-a", "ghg_avoided_tco2e", "tCO2e", "10.000", "null", "false",
        "null", "", "")
    "], \"confirmed_totals\": ["
    "{\"kpi\": \"ghg_avoided_tco2e\", \"unit\": \"tCO2e\", \"total\": \"1450.500\", "
    "\"reports_counted\": 2}, {\"kpi\": \"water_saved_m3\", \"unit\": \"m3\", \"total\": "
    "\"0.000\", \"reports_counted\": 0}]}";

static const char doc_kpis[] =
    "{\"kpis\": [{\"id\": \"ghg_avoided_tco2e\", \"name\": \"GHG emissions avoided\", "
    "\"unit\": \"tCO2e\", \"category\": \"climate\", \"direction\": \"HIGHER\"}, "
    "{\"id\": \"water_saved_m3\", \"name\": \"Water saved\", \"unit\": \"m3\", \"category\": "
    "\"water\", \"direction\": \"HIGHER\"}]}";

static const char doc_holders[] =
    "{\"instrument\": \"JGB-1\", \"units_outstanding\": \"4000\", \"holders\": ["
    "{\"member\": \"investor-1\", \"units\": \"3000\", \"share_of_outstanding_bps\": 7500}, "
    "{\"member\": \"investor-2\", \"units\": \"1000\", \"share_of_outstanding_bps\": 2500}]}";

static const char doc_payments[] =
    "{\"instrument\": \"JGB-1\", \"payments\": [{\"kind\": \"COUPON\", \"due_date\": "
    "\"2025-03-01\", \"seq\": 1, \"height\": 12, \"time\": \"2025-03-01T10:00:00Z\", "
    "\"time_ms\": 1740823200000, \"coupon_bps\": 125, \"step_up_bps\": 25, \"months\": 12, "
    "\"per_unit\": \"1500\", \"total\": \"6000000\", \"holders\": [{\"member\": \"investor-1\", "
    "\"units\": \"3000\", \"amount\": \"4500000\"}, {\"member\": \"investor-2\", \"units\": "
    "\"1000\", \"amount\": \"1500000\"}], \"co_issuers\": [{\"member\": \"city-a\", "
    "\"share_bps\": 5000, \"amount\": \"3000000\"}, {\"member\": \"city-b\", \"share_bps\": 3000, "
    "\"amount\": \"1800000\"}, {\"member\": \"city-c\", \"share_bps\": 2000, \"amount\": "
    "\"1200000\"}], \"tx_id\": \"" TID "\"}]}";

static const char doc_list[] =
    "{\"instruments\": [{\"id\": \"JGB-1\", \"kind\": \"GREEN_BOND\", \"name\": \"Joint bond\", "
    "\"currency\": \"EUR\", \"status\": \"ACTIVE\", \"face_value\": \"100000\", \"units\": "
    "\"5000\", \"units_sold\": \"4000\", \"units_outstanding\": \"4000\", \"amount_raised\": "
    "\"400000000\", \"coupon_bps\": 125, \"coupon_frequency_months\": 12, \"issue_date\": "
    "\"2024-03-01\", \"maturity_date\": \"2027-03-01\", \"co_issuers\": [{\"member\": "
    "\"city-a\", \"share_bps\": 5000}, {\"member\": \"city-b\", \"share_bps\": 5000}], "
    "\"paying_agent\": \"agent-x\"}]}";

static void serve_instrument(void) {
    route("/v1/instruments", 200, doc_list);
    route("/v1/instruments/JGB-1", 200, doc_instrument);
    route("/v1/instruments/JGB-1/allocations", 200, doc_allocations);
    route("/v1/instruments/JGB-1/impact", 200, doc_impact);
    route("/v1/instruments/JGB-1/holders", 200, doc_holders);
    route("/v1/instruments/JGB-1/payments", 200, doc_payments);
    route("/v1/kpis", 200, doc_kpis);
    route("/v1/instruments/NOPE-1", 404,
          "{\"error\": {\"code\": \"ERR_UNKNOWN_INSTRUMENT\", \"message\": \"unknown instrument "
          "'NOPE-1'\"}}");
}

/* --json prints the node's document unchanged; tables show its figures. */
START_TEST(instrument_queries) {
    serve_instrument();
    static const struct {
        const char *verb;
        const char *doc;
        const char *shows[4];
    } cases[] = {
        {"show", doc_instrument, {"4000 sold", "2025-03-01  paid (payment 1)", "50.00%  (lead)",
                                  "Solar, \"phase 1\""}},
        {"holders", doc_holders, {"investor-1    3000  75.00%\n", "outstanding   4000\n", NULL}},
        {"payments", doc_payments, {"COUPON 1 due 2025-03-01", "1500 per unit, total 6000000",
                                    "3000  4500000\n", "city-c          20.00%  1200000\n"}},
        {"allocations", doc_allocations, {"raised 400000000, allocated 36000000",
                                          "OVER BUDGET", "city-b  30.00%", NULL}},
        {"impact", doc_impact, {"superseded by r4", "counted 1100.000",
                                "verifier-c CONFIRMED 400.000 (attestation a4), revoked",
                                "disputed by investor-1: too high"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result *r = run("--json", "instrument", cases[i].verb, "JGB-1", NULL);
        assert_ok(r);
        json_t *got = out_json(r), *want = json_loads(cases[i].doc, 0, NULL);
        ck_assert_msg(json_equal(got, want), "%s --json differs from the node's document",
                      cases[i].verb);
        json_decref(got);
        json_decref(want);
        r = run("instrument", cases[i].verb, "JGB-1", NULL);
        assert_ok(r);
        for (size_t k = 0; k < 4 && cases[i].shows[k]; k++)
            ck_assert_msg(strstr(r->out, cases[i].shows[k]), "%s: '%s' not in:\n%s",
                          cases[i].verb, cases[i].shows[k], r->out);
    }
    result *r = run("instrument", "list", NULL);
    assert_ok(r);
    assert_has(r, "JGB-1");
    assert_has(r, "city-a 50.00%, city-b 50.00%");
    assert_fails(run("instrument", "show", "NOPE-1", NULL), 1, "ERR_UNKNOWN_INSTRUMENT");
    assert_fails(run("instrument", "holders", NULL), 2, "ERR_INVALID_ARGUMENT");
}
END_TEST

/* ------------------------------------------- the EU GBS reports */

/* Documents a node served for the scenario of tests/data/gbs (the joint
 * bond JGB-2025-01 of city-a 60 % and city-b 40 %, 19,000,000.00 EUR
 * raised; project A-PV also financed by a second bond and an EU grant):
 * loaded once per test into static memory. */
static const char *gbs_doc(const char *name) {
    static char docs[8][8192];
    static int k;
    k = (k + 1) % 8;
    char path[64];
    snprintf(path, sizeof path, "gbs/%s", name);
    FILE *f = fopen(tu_data_path(path), "rb");
    ck_assert_msg(f != NULL, "missing test data %s", path);
    size_t n = fread(docs[k], 1, sizeof docs[k] - 1, f);
    ck_assert(feof(f));
    fclose(f);
    docs[k][n] = '\0';
    return docs[k];
}

#define P2025 "2025-01-01:2025-12-31"
#define ALLOC_REVERSED "da2aef3b3dd5f1ad0ff0619b8a40f249865ef3840881493710490dd8a90788de"

/* --json is the node's document as it is. */
static void assert_json_is(const result *r, const char *doc) {
    assert_ok(r);
    json_t *got = out_json(r), *want = json_loads(doc, 0, NULL);
    ck_assert_ptr_nonnull(want);
    ck_assert_msg(json_equal(got, want), "--json differs from the node's document");
    json_decref(got);
    json_decref(want);
}

/* Every CSV row has `fields` fields (no field here holds a line break)
 * and ends with CRLF; returns the number of rows. */
static size_t csv_rows(const char *csv, size_t fields) {
    size_t rows = 0;
    for (const char *l = csv; *l;) {
        size_t commas = 0;
        bool q = false;
        const char *e = strstr(l, "\r\n");
        ck_assert_msg(e != NULL, "a CSV row without CRLF: %s", l);
        for (const char *c = l; c < e; c++) {
            if (*c == '"')
                q = !q;
            else if (*c == ',' && !q)
                commas++;
        }
        ck_assert_msg(commas + 1 == fields, "%zu fields, not %zu: %.*s", commas + 1, fields,
                      (int)(e - l), l);
        rows++;
        l = e + 2;
    }
    return rows;
}

START_TEST(report_allocation_for_a_period) {
    route("/v1/instruments/JGB-2025-01/allocations?period=" P2025, 200,
          gbs_doc("allocations-2025.json"));
    assert_json_is(run("--json", "report", "allocation", "JGB-2025-01", "--period", P2025, NULL),
                   gbs_doc("allocations-2025.json"));

    result *r = run("report", "allocation", "JGB-2025-01", "--period", P2025, NULL);
    assert_ok(r);
    assert_has(r, "JGB-2025-01 \"Joint green bond\", ISIN XS0000000009\n");
    assert_has(r, "city-a \"Alphaville\", share 60.00%, LEI 5493001KJTIIGC8Y1R12\n");
    assert_has(r, "city-b \"Betatown\", share 40.00%, LEI -\n");
    assert_has(r, "period        2025-01-01 to 2025-12-31 (by allocation date)\n");
    /* Money in euros with separators: 1900000000 minor units raised. */
    assert_has(r, "amount raised                    19,000,000.00 EUR      100.00%\n");
    assert_has(r, "  of which refinancing            4,000,000.00 EUR\n");
    /* 14,000,000.00 of 19,000,000.00 allocated = 73.684 %, the rest
     * 26.315 %: largest remainder gives 73.68 + 26.32 = 100.00. */
    assert_has(r, "allocated to the period's end    14,000,000.00 EUR       73.68%\n");
    assert_has(r, "unallocated at the period's end   5,000,000.00 EUR       26.32%\n");
    assert_has(r, "full allocation: not reached\n");
    /* The 73.68 % split between the projects as 11 : 3 (cumulative
     * 11,000,000.00 and 3,000,000.00): 5789.14 and 1578.86 bp, floors 5789
     * + 1578 = 7367, the missing one to the larger remainder (B-TRAM):
     * 57.89 % + 15.79 % = 73.68 %. */
    assert_has(r, "A-PV           city-a  CCM,CCA     7.6       F43.2  12,000,000.00   "
                  "7,000,000.00  11,000,000.00   7,000,000.00  4,000,000.00       57.89%  "
                  "      School rooftop solar, phase 1\n");
    assert_has(r, "       15.79%        Tram line \"B\"\n");
    assert_has(r, "allocated                                                          "
                  "10,000,000.00  14,000,000.00  10,000,000.00  4,000,000.00       73.68%\n");
    /* By objective: A-PV counts under CCM and CCA, so the rows overlap,
     * each its own share of the proceeds (CCA 11/19 = 57.89 %). */
    assert_has(r, "CCA               1   7,000,000.00  11,000,000.00   7,000,000.00  "
                  "4,000,000.00       57.89%\n");
    assert_has(r, "Note: a project with several environmental objectives is counted in full");
    /* The allocations dated in the period, ids in full; the reversed one
     * (it counts nowhere) marked; the refinancing one of 2024 not listed. */
    assert_has(r, "2025-04-10  A-PV     city-a  7,000,000.00  financing  "
                  "d850e91650769a1f6ff4a3453c69398f1c152fc8315507038cdf369b31f03d7c\n");
    assert_has(r, ALLOC_REVERSED "  REVERSED on 2026-12-07: wrong project invoice (tx "
                  "1ce0c399d1868df62ddd83e064252de3648ef2b1bbd195fdc1a78d5d8a7643ae)\n");
    ck_assert_ptr_null(strstr(r->out, "2024-06-15"));
    assert_has(r, "Reversals in the period (by the reversing block's date)\n  none\n");
    /* That allocation was reversed after the period: a report filed for
     * 2025 is amended, which calls for an external review. */
    assert_has(r, "External post-issuance review: NEEDED\n"
                  "  - allocation " ALLOC_REVERSED ", dated 2025-07-01, was reversed on "
                  "2026-12-07: a report of this period\n    filed before then counted it and is "
                  "amended\n");

    r = run("report", "allocation", "JGB-2025-01", "--period", P2025, "--csv", NULL);
    assert_ok(r);
    static const char head[] =
        "section,instrument,isin,currency,period_start,period_end,project_id,city,name,"
        "eu_objectives,taxonomy_activity,nace,budget,in_period,cumulative,financing_cumulative,"
        "refinancing_cumulative,share_of_proceeds_pct,over_budget\r\n";
    ck_assert(strncmp(r->out, head, strlen(head)) == 0);
    /* RFC 4180: a field with a comma or quotes is quoted, quotes doubled. */
    assert_has(r, "\r\nproject,JGB-2025-01,XS0000000009,EUR,2025-01-01,2025-12-31,A-PV,city-a,"
                  "\"School rooftop solar, phase 1\",CCM CCA,7.6,F43.2,12000000.00,7000000.00,"
                  "11000000.00,7000000.00,4000000.00,57.89,false\r\n");
    assert_has(r, ",B-TRAM,city-b,\"Tram line \"\"B\"\"\",CCM PPC,6.14,F42.1,8000000.00,");
    assert_has(r, "\r\nunallocated,JGB-2025-01,XS0000000009,EUR,2025-01-01,2025-12-31,,,,,,,,,"
                  "5000000.00,,,26.32,\r\n");
    assert_has(r, "\r\nraised,JGB-2025-01,XS0000000009,EUR,2025-01-01,2025-12-31,,,,,,,,,"
                  "19000000.00,,,100.00,\r\n");
    /* header, 2 projects, 2 cities, 3 objectives, allocated, unallocated,
     * raised */
    ck_assert_uint_eq(csv_rows(r->out, 19), 1 + 2 + 2 + 3 + 3);

    /* A bad period is refused before the node is asked (this node would
     * answer ERR_NOT_FOUND: there is no such route). */
    r = run("report", "allocation", "JGB-2025-01", "--period", "2025", NULL);
    assert_fails(r, 1, "ERR_BAD_PERIOD");
    ck_assert_ptr_nonnull(strstr(r->err, "START:END"));
    r = run("report", "allocation", "JGB-2025-01", "--period", "2025-12-31:2025-01-01", NULL);
    assert_fails(r, 1, "ERR_BAD_PERIOD");
    ck_assert_ptr_nonnull(strstr(r->err, "start 2025-12-31 is after its end 2025-01-01"));
    assert_fails(run("report", "allocation", "JGB-2025-01", "--period", "2025-02-30:2025-12-31",
                     NULL),
                 1, "ERR_BAD_DATE");
    assert_fails(run("--json", "report", "allocation", "JGB-2025-01", "--csv", NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    /* Without --period the wallet asks for all of time: no such route. */
    assert_fails(run("report", "allocation", "JGB-2025-01", NULL), 1, "ERR_NOT_FOUND");
    route("/v1/instruments/BAD-1/allocations", 200, "{\"instrument\": \"BAD-1\"}");
    r = run("report", "allocation", "BAD-1", NULL);
    assert_fails(r, 1, "ERR_JSON");
    ck_assert_ptr_nonnull(strstr(r->err, "without 'issuers'"));
}
END_TEST

START_TEST(report_allocation_flags_a_reversal) {
    route("/v1/instruments/JGB-2025-01/allocations?period=2026-01-01:2026-12-31", 200,
          gbs_doc("allocations-2026.json"));
    result *r = run("report", "allocation", "JGB-2025-01", "--period", "2026-01-01:2026-12-31",
                    NULL);
    assert_ok(r);
    /* The allocation of 2025-07-01 was reversed in 2026: listed in 2026,
     * amending the 2025 report, which calls for an external review. */
    assert_has(r, "2026-12-07   2025-07-01  B-TRAM   city-b  500,000.00  " ALLOC_REVERSED
                  "  yes                       wrong project invoice\n");
    assert_has(r, "External post-issuance review: NEEDED\n"
                  "  - 1 reversal in the period amends a report of an earlier period\n");
    /* 18,000,000.00 of 19,000,000.00 by the end of 2026: 94.74 %. */
    assert_has(r, "allocated to the period's end    18,000,000.00 EUR       94.74%\n");
    assert_has(r, "reversed in the period              500,000.00 EUR\n");
}
END_TEST

START_TEST(report_impact_marks_qualified_figures) {
    route("/v1/instruments/JGB-2025-01/impact?period=" P2025, 200, gbs_doc("impact-2025.json"));
    assert_json_is(run("--json", "report", "impact", "JGB-2025-01", "--period", P2025, NULL),
                   gbs_doc("impact-2025.json"));
    result *r = run("report", "impact", "JGB-2025-01", "--period", P2025, NULL);
    assert_ok(r);
    /* A-PV's figure is CONFIRMED; B-TRAM's rests on a QUALIFIED opinion:
     * marked, and so is every total it enters. */
    assert_has(r, "A-PV     city-a  ghg_avoided_tco2e         tCO2e  1200.500     1180.250        1"
                  "  CONFIRMED          36.67%     432.758  metered PV x grid factor\n");
    assert_has(r, "B-TRAM   city-b  ghg_avoided_tco2e         tCO2e   310.000  290.500 (Q)        1"
                  "  QUALIFIED          15.00%  43.575 (Q)  -\n");
    assert_has(r, "ghg_avoided_tco2e         tCO2e  1470.750 (Q)  476.333 (Q)\n");
    assert_has(r, "city-a  ghg_avoided_tco2e         tCO2e     1180.250     432.758\n");
    assert_has(r, "(Q): the figure rests on a QUALIFIED opinion");
    /* Each attestation's opinion by name, report ids in full. */
    assert_has(r, "154508f4c3e0df51dce4cb8401f00e6411d31bed8c9a00fb7a845d5a292cff5f  B-TRAM   "
                  "ghg_avoided_tco2e  verifier-v  QUALIFIED         290.500\n");
    assert_has(r, "8fea96c8fb5a1086926de61395b6723caa0778fce2cbd800223f76bd3177f98e  A-PV     "
                  "renewable_generation_mwh  2025-01-01..2025-12-31  2000.000         -  "
                  "not counted\n");
    assert_has(r, "Attribution: impact of a project is reported once");

    r = run("report", "impact", "JGB-2025-01", "--period", P2025, "--csv", NULL);
    assert_ok(r);
    ck_assert(strncmp(r->out, "section,instrument,period_start,period_end,project_id,city,kpi,"
                              "unit,reported,confirmed,reports_counted,opinions,qualified,"
                              "share_financed_pct,attributed,methodologies\r\n",
                      150) == 0);
    assert_has(r, "\r\nproject,JGB-2025-01,2025-01-01,2025-12-31,B-TRAM,city-b,"
                  "ghg_avoided_tco2e,tCO2e,310.000,290.500,1,QUALIFIED,true,15.00,43.575,\r\n");
    assert_has(r, "\r\nkpi_total,JGB-2025-01,2025-01-01,2025-12-31,,,ghg_avoided_tco2e,tCO2e,,"
                  "1470.750,,,true,,476.333,\r\n");
    ck_assert_uint_eq(csv_rows(r->out, 16), 1 + 3 + 2 + 3);
    assert_fails(run("report", "impact", "JGB-2025-01", "--period", "2025-01-01", NULL), 1,
                 "ERR_BAD_PERIOD");
}
END_TEST

START_TEST(report_project_shares_add_up) {
    route("/v1/projects/A-PV", 200, gbs_doc("project-A-PV.json"));
    assert_json_is(run("--json", "report", "project", "A-PV", NULL), gbs_doc("project-A-PV.json"));
    result *r = run("report", "project", "A-PV", NULL);
    assert_ok(r);
    /* Cost basis 30,000,000.00: funders 11, 5, 9 and 1 million, 4 million
     * not financed. Exact shares 36.667, 16.667, 30, 3.333, 13.333 %:
     * floors 3666 + 1666 + 3000 + 333 + 1333 = 9998 bp, the two missing
     * to the largest remainders (the two bonds, 0.67 bp each). */
    assert_has(r, "JGB-2025-01   instrument  11,000,000.00   36.67%\n"
                  "AGB-2025-02   instrument   5,000,000.00   16.67%\n"
                  "EU            external     9,000,000.00   30.00%\n"
                  "MUNICIPAL     external     1,000,000.00    3.33%\n"
                  "not financed               4,000,000.00   13.33%\n"
                  "cost basis                30,000,000.00  100.00%\n");
    assert_has(r, "ghg_avoided_tco2e: 1180.250 tCO2e confirmed (1 report counted)\n");
    assert_has(r, "  JGB-2025-01   instrument  36.67%     432.758\n");
    assert_has(r, "  unattributed              13.33%     157.368\n");
    assert_has(r, "cost basis    30,000,000.00 EUR");

    r = run("report", "project", "A-PV", "--csv", NULL);
    assert_ok(r);
    assert_has(r, "section,project,city,currency,kind,funder,amount,share_pct,kpi,unit,value\r\n"
                  "funder,A-PV,city-a,EUR,instrument,JGB-2025-01,11000000.00,36.67,,,\r\n");
    assert_has(r, "\r\nnot_financed,A-PV,city-a,EUR,,,4000000.00,13.33,,,\r\n");
    assert_has(r, "\r\nattributed,A-PV,city-a,EUR,external,EU,,,ghg_avoided_tco2e,tCO2e,"
                  "354.075\r\n");
    ck_assert_uint_eq(csv_rows(r->out, 11), 1 + 4 + 2 + 2 * 6);
    route("/v1/projects/NOPE", 404, "{\"error\": {\"code\": \"ERR_UNKNOWN_PROJECT\", "
                                    "\"message\": \"unknown project 'NOPE'\"}}");
    assert_fails(run("report", "project", "NOPE", NULL), 1, "ERR_UNKNOWN_PROJECT");
    assert_fails(run("report", "project", NULL), 2, "ERR_INVALID_ARGUMENT");
}
END_TEST

START_TEST(report_cities_compares_a_kpi) {
    route("/v1/kpis/ghg_avoided_tco2e/cities?period=" P2025, 200, gbs_doc("kpi-cities-2025.json"));
    assert_json_is(run("--json", "report", "cities", "--kpi", "ghg_avoided_tco2e", "--period",
                       P2025, NULL),
                   gbs_doc("kpi-cities-2025.json"));
    result *r = run("report", "cities", "--kpi", "ghg_avoided_tco2e", "--period", P2025, NULL);
    assert_ok(r);
    /* 1180.250 and 290.500 of 1470.750 tCO2e: 80.248 % and 19.752 %,
     * floors 8024 + 1975, the missing bp to the larger remainder. */
    assert_has(r, "city-a      Alphaville         1           1180.250    80.25%  "
                  "16,000,000.00 EUR  10,000,000.00 EUR  26,000,000.00 EUR           45.394");
    assert_has(r, "    19.75%   3,000,000.00 EUR           0.00 EUR   3,000,000.00 EUR");
    assert_has(r, "all cities                     2           1470.750   100.00%  "
                  "19,000,000.00 EUR  10,000,000.00 EUR  29,000,000.00 EUR\n");
    r = run("report", "cities", "--kpi", "ghg_avoided_tco2e", "--period", P2025, "--csv", NULL);
    assert_ok(r);
    assert_has(r, "\r\ncity,ghg_avoided_tco2e,tCO2e,2025-01-01,2025-12-31,city-b,Betatown,,1,"
                  "290.500,19.75,EUR,3000000.00,0.00,3000000.00,96.833,\r\n");
    ck_assert_uint_eq(csv_rows(r->out, 17), 3);
    assert_fails(run("report", "cities", NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("report", "cities", "--kpi", "ghg_avoided_tco2e", "--period", "x:y", NULL),
                 1, "ERR_BAD_PERIOD");
}
END_TEST

START_TEST(project_show_and_list) {
    route("/v1/projects/A-PV", 200, gbs_doc("project-A-PV.json"));
    route("/v1/projects", 200, gbs_doc("projects.json"));
    route("/v1/projects?city=city-b", 200,
          "{\"city\": \"city-b\", \"projects\": []}");
    assert_json_is(run("--json", "project", "show", "A-PV", NULL), gbs_doc("project-A-PV.json"));
    result *r = run("project", "show", "A-PV", NULL);
    assert_ok(r);
    assert_has(r, "total cost    30,000,000.00 EUR\n");
    assert_has(r, "financing     16,000,000.00 EUR by instruments, 10,000,000.00 EUR external; "
                  "cost basis 30,000,000.00 EUR\n");
    assert_has(r, "2025-02-01  EU         ERDF 2021-2027  9,000,000.00 EUR  "
                  "991512d96548ccecdbaa4229afecf875347781fc84ea90403b092e5a983fcc0e  "
                  "3492ad65d05a973fef8c825521eeb41ae64625a672a8aeeeabc696e16d62a020\n");
    r = run("project", "list", NULL);
    assert_ok(r);
    assert_has(r, "A-PV     city-a  CCM,CCA     7.6       F43.2  30,000,000.00 EUR  "
                  "JGB-2025-01,AGB-2025-02  School rooftop solar, phase 1\n");
    r = run("project", "list", "--city", "city-b", NULL);
    assert_ok(r);
    assert_has(r, "no projects of city-b\n");
    assert_fails(run("project", "list", "--city", "City B", NULL), 1, "ERR_BAD_MEMBER_ID");
    assert_fails(run("project", "show", NULL), 2, "ERR_INVALID_ARGUMENT");
}
END_TEST

Suite *suite_cli_domain(void) {
    Suite *s = suite_create("cli_domain");
    TCase *tc = tcase_create("cli_domain");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, issue_builds_the_spec_and_collects_signatures);
    tcase_add_test(tc, tx_sign_refuses_a_signature_the_action_does_not_need);
    tcase_add_test(tc, issue_refuses_a_bad_spec_before_signing);
    tcase_add_test(tc, subscribe_close_transfer_pay);
    tcase_add_test(tc, proceeds_allocate_hashes_the_evidence);
    tcase_add_test(tc, impact_report_builds_and_names_the_report);
    tcase_add_test(tc, impact_attest_revoke_dispute);
    tcase_add_test(tc, impact_report_without_an_instrument);
    tcase_add_test(tc, project_register_builds_every_field);
    tcase_add_test(tc, project_update_unfund_and_proceeds_reverse);
    tcase_add_test(tc, project_fund_prints_the_funding_id);
    tcase_add_test(tc, tx_build_from_action_json);
    tcase_add_test(tc, submit_prints_ids_and_height);
    tcase_add_test(tc, check_evidence_compares_hashes);
    tcase_add_test(tc, check_evidence_of_a_project_report);
    tcase_add_test(tc, instrument_queries);
    tcase_add_test(tc, report_allocation_for_a_period);
    tcase_add_test(tc, report_allocation_flags_a_reversal);
    tcase_add_test(tc, report_impact_marks_qualified_figures);
    tcase_add_test(tc, report_project_shares_add_up);
    tcase_add_test(tc, report_cities_compares_a_kpi);
    tcase_add_test(tc, project_show_and_list);
    suite_add_tcase(s, tc);
    return s;
}
