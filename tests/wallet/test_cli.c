/* The esgwallet command line, run in-process (esgw_cli_run) without a
 * node: the output and exit-status contract, key commands, offline
 * transaction building (-o with --nonce and --chain-id), tx sign and
 * inspect, and the errors a user meets. The node-facing paths are covered
 * by tests/integration/test_wallet_governance.sh. */
#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contracts/contracts.h"
#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/keys.h"
#include "ledger/txbuild.h"
#include "testutil.h"
#include "wallet/cli.h"

static char tmp[256];
static char ksdir[512];
static char dead_url[64];
static const esgw_transport *transport; /* run_argv's; NULL: libcurl */

/* A URL where nothing listens: a port the kernel just gave us, closed. */
static void pick_dead_url(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    snprintf(dead_url, sizeof dead_url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    close(s);
}

static void setup(void) {
    setenv("ESGWALLET_KDF", "fast", 1);
    setenv("ESGWALLET_PASSPHRASE", "test", 1);
    unsetenv("ESGWALLET_NODE");
    tu_tmpdir(tmp, sizeof tmp);
    snprintf(ksdir, sizeof ksdir, "%s/keys", tmp);
    pick_dead_url();
}

static void teardown(void) {
    transport = NULL;
    tu_rmtree(tmp);
}

typedef struct result {
    int status;
    char out[16384];
    char err[4096];
} result;

/* Runs `esgwallet --keystore KS --node DEAD ARGS...`. */
static result *run_argv(const char *const *args, size_t n) {
    static result r;
    char *argv[64];
    int argc = 0;
    argv[argc++] = "esgwallet";
    argv[argc++] = "--keystore";
    argv[argc++] = ksdir;
    argv[argc++] = "--node";
    argv[argc++] = dead_url;
    ck_assert_uint_lt(n, 64 - 6);
    for (size_t i = 0; i < n; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(err);
    r.status = transport ? esgw_cli_run_transport(argc, argv, out, err, transport)
                         : esgw_cli_run(argc, argv, out, err);
    fclose(out);
    fclose(err);
    snprintf(r.out, sizeof r.out, "%s", obuf ? obuf : "");
    snprintf(r.err, sizeof r.err, "%s", ebuf ? ebuf : "");
    free(obuf);
    free(ebuf);
    return &r;
}

/* As run_argv, the arguments given as a NULL-terminated list. */
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

/* The failure contract: exit status `status`, nothing on stdout, one line
 * on stderr starting "esgwallet: CODE: ". */
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
    ck_assert_str_eq(json_string_value(json_object_get(j, "name")), name);
    esg_pubkey pk;
    ck_assert_int_eq(esg_hex_decode(pk.b, 32, json_string_value(json_object_get(j, "pubkey"))),
                     0);
    json_decref(j);
    return pk;
}

static const char *path_in_tmp(const char *name) {
    static char p[4][600];
    static int k;
    k = (k + 1) % 4;
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

static void write_text(const char *path, const char *text, mode_t mode) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
}

/* ------------------------------------------------------ usage contract */

START_TEST(usage_errors_are_one_line_exit_2) {
    assert_fails(run(NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("frobnicate", NULL), 2, "ERR_INVALID_ARGUMENT");
    result *r = run("member", "propose", "nothing", NULL);
    assert_fails(r, 2, "ERR_INVALID_ARGUMENT");
    ck_assert_ptr_nonnull(strstr(r->err, "add-member"));
    assert_fails(run("--bogus", "status", NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("status", "--bogus", NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("status", "extra", NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("key", "show", NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("member", "vote", "00", "--approve", NULL), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("member", "vote", "00", "--approve", "--key", "a", "--key", "b", NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    assert_fails(run("member", "vote", "00", "--approve", "--key", NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    assert_fails(run("member", "vote", "00", "--approve=yes", "--key", "a", NULL), 2,
                 "ERR_INVALID_ARGUMENT");
    /* --json does not move errors to stdout. */
    assert_fails(run("--json", "frobnicate", NULL), 2, "ERR_INVALID_ARGUMENT");
}
END_TEST

START_TEST(help_lists_every_command) {
    result *r = run("--help", NULL);
    assert_ok(r);
    const char *paths[] = {"key new", "key import", "tx sign", "tx inspect", "tx submit",
                           "member propose add-member", "member propose add-kpi",
                           "member vote", "member add-account", "member revoke-account",
                           "member show", "member list", "proposals", "status",
                           "project register", "project update", "project fund",
                           "project unfund", "proceeds reverse",
                           "impact report [INSTRUMENT] --project P",
                           "add-member --id ID --kind KIND --name NAME [--country CC] [--lei LEI] "
                           "[--population N]"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        ck_assert_msg(strstr(r->out, paths[i]), "--help lacks '%s'", paths[i]);
    r = run("member", "vote", "--help", NULL);
    assert_ok(r);
    ck_assert_ptr_nonnull(strstr(r->out, "--approve"));
}
END_TEST

START_TEST(unreachable_node_is_err_io_naming_the_url) {
    result *r = run("status", NULL);
    assert_fails(r, 1, "ERR_IO");
    ck_assert_ptr_nonnull(strstr(r->err, "cannot reach node at"));
    ck_assert_ptr_nonnull(strstr(r->err, dead_url));
    assert_fails(run("--json", "member", "list", NULL), 1, "ERR_IO");
    /* A submitting verb needs the node for the chain id and nonce. */
    new_key("a");
    assert_fails(run("member", "revoke-account", "--pubkey",
                     esg_pubkey_hex(&(esg_pubkey){{0}}).s, "--key", "a", NULL),
                 1, "ERR_BAD_PUBKEY");
    esg_pubkey pk = new_key("b");
    r = run("member", "revoke-account", "--pubkey", esg_pubkey_hex(&pk).s, "--key", "a", NULL);
    assert_fails(r, 1, "ERR_IO");
    /* The node URL is checked. */
    assert_fails(run("--node", "ftp://x", "status", NULL), 1, "ERR_INVALID_ARGUMENT");
}
END_TEST

/* A transport (wallet/client.h) that answers every request with one canned
 * outcome and remembers what it was asked. */
typedef struct canned {
    int rc;           /* 0, ESG_ERR_IO, ESG_ERR_TIMEOUT */
    long status;
    const char *body; /* NULL: no body */
    size_t big;       /* > 0: a body of this many spaces instead */
    char method[8], path[256];
    int calls;
} canned;

static int canned_request(void *arg, const char *method, const char *path, const uint8_t *body,
                          size_t body_len, long *status, uint8_t **resp, size_t *resp_len) {
    canned *c = arg;
    ck_assert(body == NULL && body_len == 0);
    snprintf(c->method, sizeof c->method, "%s", method);
    snprintf(c->path, sizeof c->path, "%s", path);
    c->calls++;
    if (c->rc)
        return c->rc;
    *status = c->status;
    if (c->big) {
        *resp = malloc(c->big);
        ck_assert_ptr_nonnull(*resp);
        memset(*resp, ' ', c->big);
        *resp_len = c->big;
    } else if (c->body) {
        *resp = (uint8_t *)strdup(c->body);
        ck_assert_ptr_nonnull(*resp);
        *resp_len = strlen(c->body);
    }
    return 0;
}

/* The transport hook carries the request instead of libcurl, and its
 * answer is read as an answer over HTTP: a JSON document, the node's
 * error document verbatim, an error status without one, a body that is
 * not JSON, one over the size limit, and the transport's own failures. */
START_TEST(transport_hook_answers_as_http) {
    canned c = {.status = 200, .body = "{\"chain_id\": \"esg-hook\", \"height\": 7}"};
    esgw_transport t = {canned_request, &c};
    transport = &t;
    result *r = run("--json", "status", NULL);
    assert_ok(r);
    ck_assert_int_eq(c.calls, 1);
    ck_assert_str_eq(c.method, "GET");
    ck_assert_str_eq(c.path, "/v1/status");
    json_t *j = out_json(r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "chain_id")), "esg-hook");
    json_decref(j);
    c = (canned){.status = 404,
                 .body = "{\"error\": {\"code\": \"ERR_NOT_FOUND\", \"message\": \"no such "
                         "member 'x'\"}}"};
    r = run("member", "show", "x", NULL);
    assert_fails(r, 1, "ERR_NOT_FOUND");
    ck_assert_str_eq(c.path, "/v1/members/x");
    ck_assert_str_eq(r->err, "esgwallet: ERR_NOT_FOUND: no such member 'x'\n");
    c = (canned){.status = 502, .body = "<html>bad gateway</html>"};
    assert_fails(run("status", NULL), 1, "ERR_IO");
    c = (canned){.status = 200, .body = "[1, 2]"};
    assert_fails(run("status", NULL), 1, "ERR_JSON");
    c = (canned){.status = 200};
    assert_fails(run("status", NULL), 1, "ERR_JSON");
    c = (canned){.status = 200, .big = ESGW_CLIENT_MAX_BODY + 1};
    assert_fails(run("status", NULL), 1, "ERR_TOO_LARGE");
    c = (canned){.rc = ESG_ERR_IO};
    r = run("status", NULL);
    assert_fails(r, 1, "ERR_IO");
    ck_assert_ptr_nonnull(strstr(r->err, "cannot reach node at"));
    c = (canned){.rc = ESG_ERR_TIMEOUT};
    r = run("status", NULL);
    assert_fails(r, 1, "ERR_TIMEOUT");
    ck_assert_ptr_nonnull(strstr(r->err, "did not answer within"));
}
END_TEST

/* ----------------------------------------------------------------- keys */

START_TEST(key_new_show_list) {
    esg_pubkey a = new_key("alice");
    esg_pubkey b = new_key("bob");
    result *r = run("key", "show", "alice", NULL);
    assert_ok(r);
    ck_assert_ptr_nonnull(strstr(r->out, esg_pubkey_hex(&a).s));
    r = run("--json", "key", "list", NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    json_t *keys = json_object_get(j, "keys");
    ck_assert_uint_eq(json_array_size(keys), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 1), "pubkey")),
                     esg_pubkey_hex(&b).s);
    json_decref(j);
    assert_fails(run("key", "new", "alice", NULL), 1, "ERR_KEY_EXISTS");
    assert_fails(run("key", "new", "../x", NULL), 1, "ERR_INVALID_ARGUMENT");
    assert_fails(run("key", "show", "nobody", NULL), 1, "ERR_NOT_FOUND");
}
END_TEST

START_TEST(key_import_secret_file) {
    esg_seckey sk = {{0}};
    sk.b[31] = 7;
    esg_pubkey want;
    ck_assert_int_eq(esg_key_pubkey(&want, &sk), 0);
    char hex[65];
    esg_hex_encode(hex, sk.b, 32);
    char text[80];

    const char *f = path_in_tmp("secret");
    snprintf(text, sizeof text, "%s\n", hex);
    write_text(f, text, 0640);
    assert_fails(run("key", "import", "imp", "--secret-file", f, NULL), 1,
                 "ERR_KEY_PERMISSIONS");
    write_text(f, "abc\n", 0600);
    assert_fails(run("key", "import", "imp", "--secret-file", f, NULL), 1, "ERR_HEX");
    snprintf(text, sizeof text, "%s\n\n", hex);
    write_text(f, text, 0600);
    assert_fails(run("key", "import", "imp", "--secret-file", f, NULL), 1, "ERR_HEX");
    write_text(f, "0000000000000000000000000000000000000000000000000000000000000000", 0600);
    assert_fails(run("key", "import", "imp", "--secret-file", f, NULL), 1, "ERR_BAD_SECRET");
    assert_fails(run("key", "import", "imp", "--secret-file", path_in_tmp("none"), NULL), 1,
                 "ERR_NOT_FOUND");

    snprintf(text, sizeof text, "%s\r\n", hex);
    write_text(f, text, 0600);
    result *r = run("--json", "key", "import", "imp", "--secret-file", f, NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "pubkey")), esg_pubkey_hex(&want).s);
    json_decref(j);
    /* Without a line end too, under another name; the name is not reused. */
    write_text(f, hex, 0600);
    assert_ok(run("key", "import", "imp2", "--secret-file", f, NULL));
    assert_fails(run("key", "import", "imp2", "--secret-file", f, NULL), 1, "ERR_KEY_EXISTS");
}
END_TEST

START_TEST(passphrase_file_after_the_command) {
    esg_pubkey pk = new_key("a");
    const char *pf = path_in_tmp("pass");
    write_text(pf, "wrong\n", 0600);
    char proposal[65];
    memset(proposal, 'a', 64);
    proposal[64] = '\0';
    const char *out = path_in_tmp("v.tx");
    result *r = run("member", "vote", proposal, "--approve", "--key", "a", "--nonce", "1",
                    "--chain-id", "c", "-o", out, "--passphrase-file", pf, NULL);
    assert_fails(r, 1, "ERR_BAD_PASSPHRASE");
    ck_assert_int_ne(access(out, F_OK), 0);
    write_text(pf, "test\n", 0600);
    r = run("member", "vote", proposal, "--approve", "--key", "a", "--nonce", "1",
            "--chain-id", "c", "-o", out, "--passphrase-file", pf, NULL);
    assert_ok(r);
    esg_tx *tx = load_tx(out);
    esg_pubkey signer = esg_tx_signer(tx);
    ck_assert_mem_eq(signer.b, pk.b, 32);
    esg_tx_free(tx);
}
END_TEST

/* Runs `args` (as run) in a child process without a controlling terminal
 * (setsid) nor ESGWALLET_PASSPHRASE, and returns its result. */
static result *run_without_terminal(const char *const *args, size_t n) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        if (setsid() < 0)
            _exit(3);
        unsetenv("ESGWALLET_PASSPHRASE");
        result *r = run_argv(args, n);
        ssize_t w = write(fds[1], r, sizeof *r);
        _exit(w == (ssize_t)sizeof *r ? 0 : 4);
    }
    close(fds[1]);
    static result r;
    size_t got = 0;
    ssize_t k;
    while (got < sizeof r && (k = read(fds[0], (char *)&r + got, sizeof r - got)) > 0)
        got += (size_t)k;
    close(fds[0]);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && got == sizeof r, "child failed");
    return &r;
}

/* Without a terminal, --passphrase-file or ESGWALLET_PASSPHRASE, a command
 * that needs a passphrase fails with ERR_INVALID_ARGUMENT saying how to
 * give one -- unlocking a key and creating one alike. */
START_TEST(no_terminal_passphrase_says_how_to_give_one) {
    new_key("a");
    char proposal[65];
    memset(proposal, 'a', 64);
    proposal[64] = '\0';
    const char *out = path_in_tmp("v.tx");
    const char *vote[] = {"member", "vote", proposal, "--approve", "--key", "a", "--nonce", "1",
                          "--chain-id", "c", "-o", out};
    const char *newkey[] = {"key", "new", "fresh"};
    struct {
        const char *const *args;
        size_t n;
        const char *key;
    } cases[] = {{vote, 12, "a"}, {newkey, 3, "fresh"}};
    for (size_t i = 0; i < 2; i++) {
        result *r = run_without_terminal(cases[i].args, cases[i].n);
        assert_fails(r, 1, "ERR_INVALID_ARGUMENT");
        char want[512];
        snprintf(want, sizeof want,
                 "esgwallet: ERR_INVALID_ARGUMENT: no passphrase for key '%s': there is no "
                 "terminal to ask on; give it with --passphrase-file FILE (its first line) or "
                 "the environment variable ESGWALLET_PASSPHRASE, or run esgwallet on a "
                 "terminal to be prompted\n",
                 cases[i].key);
        ck_assert_str_eq(r->err, want);
    }
    ck_assert_int_ne(access(out, F_OK), 0);
    ck_assert_int_ne(access(path_in_tmp("keys/fresh.json"), F_OK), 0);
    /* An empty ESGWALLET_PASSPHRASE says so. */
    setenv("ESGWALLET_PASSPHRASE", "", 1);
    result *r = run("key", "new", "fresh", NULL);
    assert_fails(r, 1, "ERR_INVALID_ARGUMENT");
    ck_assert_ptr_nonnull(strstr(r->err, "cannot use $ESGWALLET_PASSPHRASE for key 'fresh': it is "
                                         "empty"));
}
END_TEST

/* ------------------------------------------------- offline tx building */

START_TEST(offline_add_member_proposal) {
    esg_pubkey city = new_key("city");
    esg_pubkey admin = new_key("admin");
    const char *out = path_in_tmp("p.tx");
    result *r = run("member", "propose", "add-member", "--id", "investor-x", "--kind",
                    "investor", "--name", "X Capital", "--country", "GR", "--admin-pubkey",
                    esg_pubkey_hex(&admin).s, "--description", "why not", "--key", "city",
                    "--nonce", "5", "--chain-id", "esg-test", "-o", out, NULL);
    assert_ok(r);
    esg_tx *tx = load_tx(out);
    esg_hex32 id = esg_hash_hex(&tx->id);
    char line[200];
    snprintf(line, sizeof line, "proposal %s\n", id.s);
    ck_assert_msg(strstr(r->out, line), "no proposal line in: %s", r->out);
    ck_assert_str_eq(tx->body->chain_id, "esg-test");
    ck_assert_uint_eq(tx->body->nonce, 5);
    esg_pubkey signer = esg_tx_signer(tx);
    ck_assert_mem_eq(signer.b, city.b, 32);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_PROPOSE);
    const esg_pb_proposal *p = tx->body->propose->proposal;
    ck_assert_str_eq(p->description, "why not");
    ck_assert_int_eq(p->change_case, ESG_PROPOSAL_ADD_MEMBER);
    ck_assert_str_eq(p->add_member->id, "investor-x");
    ck_assert_int_eq(p->add_member->kind, ESG_MEMBER_INVESTOR);
    ck_assert_str_eq(p->add_member->name, "X Capital");
    ck_assert_str_eq(p->add_member->country, "GR");
    ck_assert_str_eq(p->add_member->lei, ""); /* not given */
    ck_assert_uint_eq(p->add_member->population, 0);
    ck_assert_mem_eq(p->add_member->admin_pubkey.data, admin.b, 32);
    ck_assert_uint_eq(esg_tx_n_sigs(tx), 1);
    esg_pubkey spk;
    esg_sig sig;
    esg_tx_sig_at(tx, 0, &spk, &sig);
    ck_assert_mem_eq(spk.b, city.b, 32);
    ck_assert(esg_verify(&sig, &tx->id, &spk));
    esg_tx_free(tx);

    /* -o never overwrites. */
    struct stat before, after;
    ck_assert_int_eq(stat(out, &before), 0);
    r = run("member", "propose", "suspend-member", "--id", "investor-x", "--key", "city",
            "--nonce", "6", "--chain-id", "esg-test", "-o", out, NULL);
    assert_fails(r, 1, "ERR_INVALID_ARGUMENT");
    ck_assert_int_eq(stat(out, &after), 0);
    ck_assert_int_eq(before.st_size, after.st_size);
    ck_assert_int_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}
END_TEST

/* add-member --lei and --population: given, they are checked and carried
 * into the AddMember; a bad one is refused before anything is signed. */
START_TEST(offline_add_member_lei_population) {
    new_key("city");
    esg_pubkey admin = new_key("admin");
    char pk[65];
    snprintf(pk, sizeof pk, "%s", esg_pubkey_hex(&admin).s);
    const char *out = path_in_tmp("p.tx");
    assert_ok(run("member", "propose", "add-member", "--id", "city-chania", "--kind", "city",
                  "--name", "Chania", "--lei", "5493001KJTIIGC8Y1R12", "--population",
                  "10000000000", "--admin-pubkey", pk, "--key", "city", "--nonce", "1",
                  "--chain-id", "c", "-o", out, NULL));
    esg_tx *tx = load_tx(out);
    const esg_pb_add_member *am = tx->body->propose->proposal->add_member;
    ck_assert_str_eq(am->lei, "5493001KJTIIGC8Y1R12");
    ck_assert_uint_eq(am->population, UINT64_C(10000000000));
    esg_tx_free(tx);
    const char *o2 = path_in_tmp("p2.tx");
    assert_ok(run("member", "propose", "add-member", "--id", "city-chania", "--kind", "city",
                  "--name", "Chania", "--population=1", "--admin-pubkey", pk, "--key", "city",
                  "--nonce", "1", "--chain-id", "c", "-o", o2, NULL));
    tx = load_tx(o2);
    ck_assert_str_eq(tx->body->propose->proposal->add_member->lei, "");
    ck_assert_uint_eq(tx->body->propose->proposal->add_member->population, 1);
    esg_tx_free(tx);

    const char *x = path_in_tmp("x.tx");
#define ADD(...)                                                                              \
    run("member", "propose", "add-member", "--id", "city-x", "--kind", "CITY", "--name", "X", \
        __VA_ARGS__, "--admin-pubkey", pk, "--key", "city", "--nonce", "1", "--chain-id", "c",  \
        "-o", x, NULL)
    result *r = ADD("--lei", "5493001KJTIIGC8Y1R13");
    assert_fails(r, 1, "ERR_BAD_LEI");
    ck_assert_ptr_nonnull(strstr(r->err, "'5493001KJTIIGC8Y1R13'"));
    assert_fails(ADD("--lei", "5493001kjtiigc8y1r12"), 1, "ERR_BAD_LEI");
    assert_fails(ADD("--lei", ""), 1, "ERR_BAD_LEI");
    assert_fails(ADD("--population", "0"), 1, "ERR_BAD_POPULATION");
    assert_fails(ADD("--population", "10000000001"), 1, "ERR_BAD_POPULATION");
    assert_fails(ADD("--population", "18446744073709551616"), 1, "ERR_OVERFLOW");
    assert_fails(ADD("--population", "-5"), 2, "ERR_INVALID_ARGUMENT");
    assert_fails(ADD("--population", "1e6"), 2, "ERR_INVALID_ARGUMENT");
#undef ADD
    ck_assert_int_ne(access(x, F_OK), 0);
}
END_TEST

/* Every proposal verb builds its change (table-driven). */
START_TEST(offline_every_proposal_verb) {
    new_key("city");
    esg_pubkey v = new_key("val");
    char pkc[65];
    snprintf(pkc, sizeof pkc, "%s", esg_pubkey_hex(&v).s);
    struct {
        const char *verb;
        const char *args[12];
        int change;
    } cases[] = {
        {"add-member", {"--id", "m-1", "--kind", "VERIFIER", "--name", "N", "--admin-pubkey", pkc},
         ESG_PROPOSAL_ADD_MEMBER},
        {"suspend-member", {"--id", "m-1"}, ESG_PROPOSAL_SUSPEND_MEMBER},
        {"reinstate-member", {"--id", "m-1"}, ESG_PROPOSAL_REINSTATE_MEMBER},
        {"accredit", {"--member", "m-1", "--categories", "climate,energy"}, ESG_PROPOSAL_ACCREDIT},
        {"revoke-accreditation", {"--member", "m-1", "--categories", "energy"},
         ESG_PROPOSAL_REVOKE_ACCREDITATION},
        {"add-validator", {"--pubkey", pkc, "--power", "7", "--operator", "m-1"},
         ESG_PROPOSAL_ADD_VALIDATOR},
        {"remove-validator", {"--pubkey", pkc}, ESG_PROPOSAL_REMOVE_VALIDATOR},
        {"set-validator-power", {"--pubkey", pkc, "--power", "9"},
         ESG_PROPOSAL_SET_VALIDATOR_POWER},
        {"set-param", {"--name", "proposal_ttl_blocks", "--value", "100"}, ESG_PROPOSAL_SET_PARAM},
        {"add-kpi", {"--id", "k_1", "--name", "K", "--unit", "t", "--category", "waste",
                     "--direction", "lower"},
         ESG_PROPOSAL_ADD_KPI},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char file[64];
        snprintf(file, sizeof file, "p%zu.tx", i);
        const char *out = path_in_tmp(file);
        const char *args[32] = {"member", "propose", cases[i].verb};
        size_t n = 3;
        for (size_t k = 0; k < 12 && cases[i].args[k]; k++)
            args[n++] = cases[i].args[k];
        const char *tail[] = {"--key", "city", "--nonce", "1", "--chain-id", "c", "-o", out};
        for (size_t k = 0; k < sizeof tail / sizeof tail[0]; k++)
            args[n++] = tail[k];
        result *r = run_argv(args, n);
        ck_assert_msg(r->status == 0, "%s: %s", cases[i].verb, r->err);
        esg_tx *tx = load_tx(out);
        ck_assert_int_eq(tx->body->action_case, ESG_ACTION_PROPOSE);
        ck_assert_int_eq(tx->body->propose->proposal->change_case, cases[i].change);
        if (cases[i].change == ESG_PROPOSAL_ACCREDIT) {
            ck_assert_uint_eq(tx->body->propose->proposal->accredit->n_categories, 2);
            ck_assert_str_eq(tx->body->propose->proposal->accredit->categories[1], "energy");
        }
        if (cases[i].change == ESG_PROPOSAL_ADD_VALIDATOR)
            ck_assert_uint_eq(tx->body->propose->proposal->add_validator->power, 7);
        if (cases[i].change == ESG_PROPOSAL_ADD_KPI)
            ck_assert_int_eq(tx->body->propose->proposal->add_kpi->kpi->direction,
                             ESG_KPI_DIRECTION_LOWER);
        esg_tx_free(tx);
    }
}
END_TEST

START_TEST(offline_bad_values) {
    new_key("city");
    esg_pubkey v = new_key("val");
    char pk[65];
    snprintf(pk, sizeof pk, "%s", esg_pubkey_hex(&v).s);
    const char *o = path_in_tmp("x.tx");
    assert_fails(run("member", "propose", "add-member", "--id", "m", "--kind", "ALIEN", "--name",
                     "N", "--admin-pubkey", pk, "--key", "city", "--nonce", "1", "--chain-id",
                     "c", "-o", o, NULL),
                 1, "ERR_BAD_MEMBER_KIND");
    assert_fails(run("member", "propose", "add-validator", "--pubkey", pk, "--power", "ten",
                     "--operator", "m", "--key", "city", "--nonce", "1", "--chain-id", "c", "-o",
                     o, NULL),
                 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("member", "propose", "add-validator", "--pubkey", pk, "--power",
                     "18446744073709551616", "--operator", "m", "--key", "city", "--nonce", "1",
                     "--chain-id", "c", "-o", o, NULL),
                 1, "ERR_OVERFLOW");
    assert_fails(run("member", "propose", "remove-validator", "--pubkey", "12", "--key", "city",
                     "--nonce", "1", "--chain-id", "c", "-o", o, NULL),
                 1, "ERR_HEX");
    assert_fails(run("member", "propose", "accredit", "--member", "m", "--categories",
                     "climate,,water", "--key", "city", "--nonce", "1", "--chain-id", "c", "-o",
                     o, NULL),
                 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("member", "propose", "add-kpi", "--id", "k", "--name", "K", "--unit", "t",
                     "--category", "waste", "--direction", "sideways", "--key", "city",
                     "--nonce", "1", "--chain-id", "c", "-o", o, NULL),
                 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("member", "add-account", "--pubkey", pk, "--roles", "officer,boss", "--key",
                     "city", "--nonce", "1", "--chain-id", "c", "-o", o, NULL),
                 1, "ERR_BAD_ROLES");
    assert_fails(run("member", "vote", pk, "--approve", "--reject", "--key", "city", "--nonce",
                     "1", "--chain-id", "c", "-o", o, NULL),
                 2, "ERR_INVALID_ARGUMENT");
    assert_fails(run("member", "vote", pk, "--approve", "--key", "nokey", "--nonce", "1",
                     "--chain-id", "c", "-o", o, NULL),
                 1, "ERR_NOT_FOUND");
    /* A string the codec refuses (not UTF-8) is caught before any file. */
    assert_fails(run("member", "propose", "suspend-member", "--id", "\xff\xfe", "--key", "city",
                     "--nonce", "1", "--chain-id", "c", "-o", o, NULL),
                 1, "ERR_DECODE");
    ck_assert_int_ne(access(o, F_OK), 0);
}
END_TEST

/* ------------------------------------------------------ tx sign/inspect */

START_TEST(sign_in_place_and_inspect) {
    esg_pubkey a = new_key("a");
    esg_pubkey b = new_key("b");
    esg_pubkey acct = new_key("acct");
    const char *f = path_in_tmp("acct.tx");
    assert_ok(run("member", "add-account", "--pubkey", esg_pubkey_hex(&acct).s, "--roles",
                  "officer,admin", "--key", "a", "--nonce", "3", "--chain-id", "c", "-o", f,
                  NULL));
    esg_tx *tx = load_tx(f);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_ADD_ACCOUNT);
    ck_assert_uint_eq(tx->body->add_account->n_roles, 2);
    ck_assert_int_eq(tx->body->add_account->roles[0], ESG_ROLE_OFFICER);
    ck_assert_int_eq(tx->body->add_account->roles[1], ESG_ROLE_ADMIN);
    esg_hash id = tx->id;
    esg_tx_free(tx);

    result *r = run("--json", "tx", "inspect", f, NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "tx_id")), esg_hash_hex(&id).s);
    ck_assert_str_eq(json_string_value(json_object_get(j, "action")), "AddAccount");
    ck_assert(json_is_true(json_object_get(j, "complete")));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "signatures")), 1);
    json_decref(j);

    /* AddAccount needs its signer's signature only: another is refused,
     * offline, before the passphrase, naming the key and the signer. */
    r = run("tx", "sign", f, "--key", "b", "--passphrase-file", path_in_tmp("none"), NULL);
    assert_fails(r, 1, "ERR_UNEXPECTED_SIGNATURE");
    char want[256];
    snprintf(want, sizeof want, "'AddAccount' needs only its signer %s; key 'b' (%s) is not "
             "needed, and a node refuses", esg_pubkey_hex(&a).s, esg_pubkey_hex(&b).s);
    ck_assert_msg(strstr(r->err, want), "%s", r->err);
    ck_assert_ptr_nonnull(strstr(r->err, "(--force signs anyway)"));
    assert_fails(run("tx", "sign", f, "--key", "b", "-o", path_in_tmp("b.tx"), NULL), 1,
                 "ERR_UNEXPECTED_SIGNATURE");
    ck_assert_int_ne(access(path_in_tmp("b.tx"), F_OK), 0);
    tx = load_tx(f);
    ck_assert_uint_eq(esg_tx_n_sigs(tx), 1);
    esg_tx_free(tx);

    /* --force, in place: same id, one more valid signature, flagged as
     * unneeded by inspect. */
    r = run("tx", "sign", f, "--key", "b", "--force", NULL);
    assert_ok(r);
    tx = load_tx(f);
    ck_assert(esg_hash_eq(&tx->id, &id));
    ck_assert_uint_eq(esg_tx_n_sigs(tx), 2);
    esg_pubkey spk;
    esg_sig sig;
    esg_tx_sig_at(tx, 1, &spk, &sig);
    ck_assert_mem_eq(spk.b, b.b, 32);
    ck_assert(esg_verify(&sig, &id, &spk));
    esg_tx_free(tx);
    r = run("--json", "tx", "inspect", f, NULL);
    assert_ok(r);
    j = out_json(r);
    json_t *s1 = json_array_get(json_object_get(j, "signatures"), 1);
    ck_assert(json_is_true(json_object_get(s1, "valid")));
    ck_assert(json_is_true(json_object_get(s1, "unexpected")));
    json_decref(j);
    r = run("tx", "inspect", f, NULL);
    assert_ok(r);
    ck_assert_ptr_nonnull(strstr(r->out, esg_pubkey_hex(&a).s));
    ck_assert_ptr_nonnull(strstr(r->out, "ERR_UNEXPECTED_SIGNATURE"));

    assert_fails(run("tx", "sign", f, "--key", "a", NULL), 1, "ERR_DUPLICATE_SIGNATURE");
    assert_fails(run("tx", "sign", f, "--key", "b", "--force", NULL), 1,
                 "ERR_DUPLICATE_SIGNATURE");
    assert_fails(run("tx", "sign", f, "--key", "acct", "--force", "-o", f, NULL), 1,
                 "ERR_INVALID_ARGUMENT");
    /* Not a transaction. */
    const char *junk = path_in_tmp("junk.tx");
    write_text(junk, "not a tx", 0644);
    assert_fails(run("tx", "inspect", junk, NULL), 1, "ERR_DECODE");
    assert_fails(run("tx", "submit", junk, NULL), 1, "ERR_DECODE");
    assert_fails(run("tx", "inspect", path_in_tmp("none.tx"), NULL), 1, "ERR_NOT_FOUND");
}
END_TEST

/* An IssueInstrument (built by hand: its verb comes later) needs an
 * officer of every co-issuer; offline, inspect lists them unverified. */
START_TEST(inspect_cosigners_offline) {
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), 0);
    esg_pb_co_issuer c1 = ESG_PB_CO_ISSUER_INIT, c2 = ESG_PB_CO_ISSUER_INIT,
                     c3 = ESG_PB_CO_ISSUER_INIT;
    c1.member = "city-a";
    c1.share_bps = 6000;
    c2.member = "city-b";
    c2.share_bps = 4000;
    c3.member = "city-a"; /* named twice: still one required signer */
    esg_pb_co_issuer *cos[] = {&c1, &c2, &c3};
    esg_pb_instrument_spec spec = ESG_PB_INSTRUMENT_SPEC_INIT;
    spec.id = "JGB-1";
    spec.n_co_issuers = 3;
    spec.co_issuers = cos;
    esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
    ii.spec = &spec;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.chain_id = "c";
    body.nonce = 1;
    body.signer = esg_pb_bin(pk.b, 32);
    body.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    body.issue_instrument = &ii;

    char **ids;
    size_t n;
    ck_assert_int_eq(esg_contracts_required_cosigners(&body, &ids, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ids[0], "city-a");
    ck_assert_str_eq(ids[1], "city-b");
    esg_contracts_cosigners_free(ids, n);

    uint8_t *raw;
    size_t len;
    ck_assert_int_eq(esg_txb_sign_body(&raw, &len, &body, &sk, 1), 0);
    esg_seckey_wipe(&sk);
    const char *f = path_in_tmp("issue.tx");
    FILE *fp = fopen(f, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(raw, 1, len, fp), len);
    fclose(fp);
    free(raw);

    result *r = run("--json", "tx", "inspect", f, NULL);
    assert_ok(r);
    json_t *j = out_json(r);
    ck_assert(json_is_false(json_object_get(j, "complete")));
    ck_assert_ptr_nonnull(json_string_value(json_object_get(j, "offline")));
    json_t *req = json_object_get(j, "required");
    ck_assert_uint_eq(json_array_size(req), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(req, 1), "member")),
                     "city-a");
    ck_assert(json_is_null(json_object_get(json_array_get(req, 1), "present")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(req, 2), "member")),
                     "city-b");
    json_decref(j);
    r = run("tx", "inspect", f, NULL);
    assert_ok(r);
    ck_assert_ptr_nonnull(strstr(r->out, "an officer of city-b: cannot tell offline"));

    /* Only the node knows whose a key is: offline, tx sign adds a
     * co-issuer's signature unchecked, and says so. */
    new_key("b");
    r = run("tx", "sign", f, "--key", "b", NULL);
    assert_ok(r);
    ck_assert_ptr_nonnull(strstr(r->out, "2 signatures"));
    ck_assert_ptr_nonnull(strstr(r->out, "not checked whether the action needs this signature "
                                         "(node not reachable: cannot reach node at"));
    new_key("c");
    r = run("--json", "tx", "sign", f, "--key", "c", NULL);
    assert_ok(r);
    j = out_json(r);
    ck_assert(json_is_false(json_object_get(j, "checked")));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "offline")), dead_url));
    json_decref(j);

    /* Governance actions need no co-signer. */
    esg_pb_revoke_account ra = ESG_PB_REVOKE_ACCOUNT_INIT;
    ra.pubkey = esg_pb_bin(pk.b, 32);
    body.action_case = ESG_ACTION_REVOKE_ACCOUNT;
    body.revoke_account = &ra;
    ck_assert_int_eq(esg_contracts_required_cosigners(&body, &ids, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(ids);
}
END_TEST

Suite *suite_cli(void) {
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, usage_errors_are_one_line_exit_2);
    tcase_add_test(tc, help_lists_every_command);
    tcase_add_test(tc, unreachable_node_is_err_io_naming_the_url);
    tcase_add_test(tc, transport_hook_answers_as_http);
    tcase_add_test(tc, key_new_show_list);
    tcase_add_test(tc, key_import_secret_file);
    tcase_add_test(tc, passphrase_file_after_the_command);
    tcase_add_test(tc, no_terminal_passphrase_says_how_to_give_one);
    tcase_add_test(tc, offline_add_member_proposal);
    tcase_add_test(tc, offline_add_member_lei_population);
    tcase_add_test(tc, offline_every_proposal_verb);
    tcase_add_test(tc, offline_bad_values);
    tcase_add_test(tc, sign_in_place_and_inspect);
    tcase_add_test(tc, inspect_cosigners_offline);
    suite_add_tcase(s, tc);
    return s;
}
