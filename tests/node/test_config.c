/* node/config.c (esgnode.conf through inih) and node/log.c (the line
 * format and level filter the config's log_level selects). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/keys.h"
#include "node/log.h"
#include "node/node.h"
#include "testutil.h"

static char dir[256];
static char path[512];

static void setup(void) {
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/esgnode.conf", dir);
}

static void teardown(void) {
    tu_rmtree(dir);
}

static void write_conf(const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Loads `text` as a required file into defaults; returns the code and the
 * message in err. */
static int load_text(esg_node_config *cfg, const char *text, char *err, size_t errlen) {
    write_conf(text);
    esg_node_config_defaults(cfg, "/data");
    err[0] = '\0';
    return esg_node_config_load(cfg, path, false, err, errlen);
}

START_TEST(test_defaults) {
    esg_node_config cfg;
    memset(&cfg, 0x5a, sizeof cfg);
    esg_node_config_defaults(&cfg, "/var/lib/esg");
    ck_assert_str_eq(cfg.datadir, "/var/lib/esg");
    ck_assert_str_eq(cfg.api_addr, "127.0.0.1:8600");
    ck_assert_str_eq(cfg.p2p_addr, "127.0.0.1:26600");
    ck_assert_uint_eq(cfg.n_peers, 0);
    ck_assert_int_eq(cfg.log_level, ESG_LOG_INFO);
    ck_assert_uint_eq(cfg.heartbeat_ms, 0);
    ck_assert_uint_eq(cfg.max_clock_drift_ms, 1000);
    ck_assert_uint_eq(cfg.mempool_max_txs, 20000);
    ck_assert_uint_eq(cfg.mempool_max_bytes, 64u << 20);
    ck_assert_uint_eq(cfg.api_threads, 0);
    ck_assert_uint_eq(cfg.wait_timeout_ms, 30000);
    ck_assert_uint_eq(cfg.api_max_conns_per_addr, 64);
    ck_assert_str_eq(cfg.api_token, "");
    ck_assert(cfg.api_explorer);
    esg_node_config_release(&cfg);

    esg_node_config_defaults(&cfg, NULL);
    ck_assert_str_eq(cfg.datadir, "");
    esg_node_config_release(&cfg);
}
END_TEST

START_TEST(test_full_file) {
    esg_node_config cfg;
    char err[512];
    int rc = load_text(&cfg,
                       "; a full configuration\n"
                       "[node]\n"
                       "log_level = debug\n"
                       "heartbeat_ms = 2500   ; inline comment\n"
                       "max_clock_drift_ms = 500\n"
                       "\n"
                       "[api]\n"
                       "listen = 0.0.0.0:9000\n"
                       "threads = 256\n"
                       "wait_timeout_ms = 1234\n"
                       "max_connections_per_address = 448\n"
                       "token = s3cret-token\n"
                       "explorer = false\n"
                       "\n"
                       "[p2p]\n"
                       "listen = 10.0.0.1:26601\n"
                       "peer = 10.0.0.2:26600\n"
                       "peer = 10.0.0.3:26600\n"
                       "peer = node-4.example:26600\n"
                       "\n"
                       "[mempool]\n"
                       "max_txs = 7\n"
                       "max_bytes = 1024\n",
                       err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
    ck_assert_str_eq(cfg.datadir, "/data");
    ck_assert_int_eq(cfg.log_level, ESG_LOG_DEBUG);
    ck_assert_uint_eq(cfg.heartbeat_ms, 2500);
    ck_assert_uint_eq(cfg.max_clock_drift_ms, 500);
    ck_assert_str_eq(cfg.api_addr, "0.0.0.0:9000");
    ck_assert_uint_eq(cfg.api_threads, 256);
    ck_assert_uint_eq(cfg.wait_timeout_ms, 1234);
    ck_assert_uint_eq(cfg.api_max_conns_per_addr, 448);
    ck_assert_str_eq(cfg.api_token, "s3cret-token");
    ck_assert(!cfg.api_explorer);
    ck_assert_str_eq(cfg.p2p_addr, "10.0.0.1:26601");
    ck_assert_uint_eq(cfg.n_peers, 3);
    ck_assert_str_eq(cfg.peers[0], "10.0.0.2:26600");
    ck_assert_str_eq(cfg.peers[1], "10.0.0.3:26600");
    ck_assert_str_eq(cfg.peers[2], "node-4.example:26600");
    ck_assert_uint_eq(cfg.mempool_max_txs, 7);
    ck_assert_uint_eq(cfg.mempool_max_bytes, 1024);
    esg_node_config_release(&cfg);
    ck_assert_uint_eq(cfg.n_peers, 0);
}
END_TEST

START_TEST(test_partial_file_keeps_defaults) {
    esg_node_config cfg;
    char err[512];
    ck_assert_int_eq(load_text(&cfg, "[node]\nlog_level = warn\n", err, sizeof err), 0);
    ck_assert_int_eq(cfg.log_level, ESG_LOG_WARN);
    ck_assert_str_eq(cfg.api_addr, "127.0.0.1:8600");
    ck_assert_uint_eq(cfg.mempool_max_txs, 20000);
    esg_node_config_release(&cfg);

    /* An empty file is a valid configuration. */
    ck_assert_int_eq(load_text(&cfg, "", err, sizeof err), 0);
    ck_assert_int_eq(cfg.log_level, ESG_LOG_INFO);
    esg_node_config_release(&cfg);
}
END_TEST

/* Each bad value is refused with ESG_ERR_INVALID_ARGUMENT and a message
 * naming the file, the line and the setting. */
static const struct {
    const char *text;
    const char *names; /* must appear in the message */
    int line;
} bad_values[] = {
    {"[node]\nlog_level = verbose\n", "log_level", 2},
    {"[node]\nlog_level = INFO\n", "log_level", 2},
    {"[node]\nheartbeat_ms = -1\n", "heartbeat_ms", 2},
    {"[node]\nheartbeat_ms = 10s\n", "heartbeat_ms", 2},
    {"[node]\nheartbeat_ms = 99999999999999999999999\n", "heartbeat_ms", 2},
    {"[node]\nmax_clock_drift_ms = soon\n", "max_clock_drift_ms", 2},
    {"[api]\nthreads = 257\n", "threads", 2},
    {"[api]\nthreads = two\n", "threads", 2},
    {"[api]\nwait_timeout_ms = 1.5\n", "wait_timeout_ms", 2},
    {"[api]\nmax_connections_per_address = 0\n", "max_connections_per_address", 2},
    {"[api]\nmax_connections_per_address = 449\n", "max_connections_per_address", 2},
    {"[api]\nexplorer = no\n", "explorer must be true or false", 2},
    {"[api]\nexplorer = False\n", "explorer", 2},
    {"[mempool]\nmax_txs = 0\n", "max_txs", 2},
    {"[mempool]\nmax_txs = -5\n", "max_txs", 2},
    {"[mempool]\nmax_bytes = 1023\n", "max_bytes", 2},
    {"[mempool]\nmax_bytes =\n", "max_bytes", 2},
    {"[consensus]\ntimeout_commit_ms = 0\n", "timeout_commit_ms", 2},
    {"[consensus]\ntimeout_propose_ms = 3600001\n", "timeout_propose_ms", 2},
    {"[consensus]\ntimeout_prevote_delta_ms = -1\n", "timeout_prevote_delta_ms", 2},
    {"[consensus]\ntimeout_precommit_ms = 1s\n", "timeout_precommit_ms", 2},
    {"[consensus]\ntimeout_round_ms = 100\n", "timeout_round_ms", 2},
    {"[p2p]\nobserver = 1234\n", "observer", 2},
    {"[p2p]\nobserver = zz" "00000000000000000000000000000000000000000000000000000000000000\n",
     "observer", 2},
    /* The first bad line is the one reported. */
    {"[node]\nlog_level = info\n\nheartbeat_ms = x\n[api]\nthreads = 999\n", "heartbeat_ms", 4},
};

START_TEST(test_bad_value) {
    esg_node_config cfg;
    char err[512], want[600];
    int rc = load_text(&cfg, bad_values[_i].text, err, sizeof err);
    ck_assert_msg(rc == ESG_ERR_INVALID_ARGUMENT, "case %d: rc %s", _i, esg_err_name(rc));
    ck_assert_msg(strstr(err, bad_values[_i].names) != NULL, "case %d: message '%s'", _i, err);
    snprintf(want, sizeof want, "%s:%d: ", path, bad_values[_i].line);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "case %d: message '%s', want '%s'", _i,
                  err, want);
    esg_node_config_release(&cfg);
}
END_TEST

START_TEST(test_unknown_key) {
    esg_node_config cfg;
    char err[512];
    /* A typo must not leave the default silently in place. */
    int rc = load_text(&cfg, "[mempool]\nmax_tx = 5\n", err, sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "'max_tx'"));
    ck_assert_ptr_nonnull(strstr(err, "[mempool]"));
    esg_node_config_release(&cfg);

    /* A known key in the wrong section is unknown there. */
    rc = load_text(&cfg, "[node]\nlisten = 1.2.3.4:5\n", err, sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "'listen'"));
    ck_assert_ptr_nonnull(strstr(err, "[node]"));
    esg_node_config_release(&cfg);

    /* Keys before any section. */
    rc = load_text(&cfg, "log_level = info\n", err, sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "'log_level'"));
    esg_node_config_release(&cfg);
}
END_TEST

START_TEST(test_syntax_error) {
    esg_node_config cfg;
    char err[512], want[600];
    int rc = load_text(&cfg, "[node]\nlog_level = info\nthis line has no equals sign\n", err,
                       sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_INVALID_ARGUMENT);
    snprintf(want, sizeof want, "%s:3:", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "message '%s'", err);
    esg_node_config_release(&cfg);

    rc = load_text(&cfg, "[node\nlog_level = info\n", err, sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_INVALID_ARGUMENT);
    snprintf(want, sizeof want, "%s:1:", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "message '%s'", err);
    esg_node_config_release(&cfg);
}
END_TEST

START_TEST(test_peers) {
    esg_node_config cfg;
    char err[512];
    /* Exactly the maximum is fine ... */
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(m);
    fputs("[p2p]\n", m);
    for (int i = 0; i < ESG_NODE_MAX_PEERS; i++)
        fprintf(m, "peer = 10.0.%d.1:26600\n", i);
    ck_assert_int_eq(fclose(m), 0);
    ck_assert_int_eq(load_text(&cfg, text, err, sizeof err), 0);
    ck_assert_uint_eq(cfg.n_peers, ESG_NODE_MAX_PEERS);
    ck_assert_str_eq(cfg.peers[0], "10.0.0.1:26600");
    ck_assert_str_eq(cfg.peers[ESG_NODE_MAX_PEERS - 1], "10.0.63.1:26600");
    esg_node_config_release(&cfg);
    ck_assert_uint_eq(cfg.n_peers, 0);

    /* ... one more is an error, and release frees what was read. */
    size_t tlen = strlen(text);
    text = realloc(text, tlen + 64);
    ck_assert_ptr_nonnull(text);
    strcat(text, "peer = 10.1.0.1:26600\n");
    int rc = load_text(&cfg, text, err, sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "peer") != NULL, "message '%s'", err);
    ck_assert_uint_eq(cfg.n_peers, ESG_NODE_MAX_PEERS);
    esg_node_config_release(&cfg);
    free(text);

    /* Loading two files appends their peers. */
    ck_assert_int_eq(load_text(&cfg, "[p2p]\npeer = a:1\n", err, sizeof err), 0);
    ck_assert_int_eq(esg_node_config_load(&cfg, path, false, err, sizeof err), 0);
    ck_assert_uint_eq(cfg.n_peers, 2);
    ck_assert_str_eq(cfg.peers[1], "a:1");
    esg_node_config_release(&cfg);
}
END_TEST

START_TEST(test_consensus_and_observers) {
    esg_node_config cfg;
    char err[512];
    esg_cons_config def;
    esg_cons_config_default(&def);
    /* Unset timeouts keep the defaults; set ones replace them; a delta
     * may be 0 (every round waits the same). */
    ck_assert_int_eq(load_text(&cfg,
                               "[consensus]\n"
                               "timeout_propose_ms = 400\n"
                               "timeout_prevote_delta_ms = 0\n"
                               "timeout_commit_ms = 50\n",
                               err, sizeof err), 0);
    ck_assert_uint_eq(cfg.cons.propose_ms, 400);
    ck_assert_uint_eq(cfg.cons.propose_delta_ms, def.propose_delta_ms);
    ck_assert_uint_eq(cfg.cons.prevote_ms, def.prevote_ms);
    ck_assert_uint_eq(cfg.cons.prevote_delta_ms, 0);
    ck_assert_uint_eq(cfg.cons.precommit_ms, def.precommit_ms);
    ck_assert_uint_eq(cfg.cons.commit_ms, 50);
    esg_node_config_release(&cfg);

    /* Observers: node keys, either case; a point off the curve is not one. */
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), 0);
    esg_seckey_wipe(&sk);
    char text[256];
    char hex[65];
    esg_hex_encode(hex, pk.b, 32);
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(text, sizeof text, "[p2p]\nobserver = %s\n", hex);
    ck_assert_int_eq(load_text(&cfg, text, err, sizeof err), 0);
    ck_assert_uint_eq(cfg.n_observers, 1);
    ck_assert_mem_eq(cfg.observers[0].b, pk.b, 32);
    esg_node_config_release(&cfg);
    /* x = 0 is not the x coordinate of any curve point. */
    ck_assert_int_eq(load_text(&cfg, "[p2p]\nobserver = "
                                     "0000000000000000000000000000000000000000000000000000000000000000\n",
                               err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_msg(strstr(err, "observer") != NULL, "message '%s'", err);
    esg_node_config_release(&cfg);
}
END_TEST

START_TEST(test_missing_file) {
    esg_node_config cfg, before;
    char err[512] = "";
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.conf", dir);
    esg_node_config_defaults(&cfg, "/data");
    before = cfg;
    ck_assert_int_eq(esg_node_config_load(&cfg, missing, true, err, sizeof err), 0);
    ck_assert_int_eq(memcmp(&cfg, &before, sizeof cfg), 0);

    int rc = esg_node_config_load(&cfg, missing, false, err, sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_IO);
    ck_assert_msg(strstr(err, missing) != NULL, "message '%s'", err);
    esg_node_config_release(&cfg);

    /* Optional means "may be absent", not "may be anything": a file that
     * cannot be opened for another reason is still an error. */
    char notdir[700];
    write_conf("");
    snprintf(notdir, sizeof notdir, "%s/x.conf", path); /* below a regular file */
    rc = esg_node_config_load(&cfg, notdir, true, err, sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_IO);

    /* A directory opens but cannot be read: an error, not an empty file. */
    rc = esg_node_config_load(&cfg, dir, true, err, sizeof err);
    ck_assert_int_eq(rc, ESG_ERR_IO);
    ck_assert_msg(strstr(err, dir) != NULL, "message '%s'", err);
    esg_node_config_release(&cfg);
}
END_TEST

/* ---------------------------------------------------------------- log */

START_TEST(test_log_level_parse) {
    esg_log_level l = ESG_LOG_INFO;
    ck_assert_int_eq(esg_log_level_parse("error", &l), 0);
    ck_assert_int_eq(l, ESG_LOG_ERROR);
    ck_assert_int_eq(esg_log_level_parse("warn", &l), 0);
    ck_assert_int_eq(l, ESG_LOG_WARN);
    ck_assert_int_eq(esg_log_level_parse("info", &l), 0);
    ck_assert_int_eq(l, ESG_LOG_INFO);
    ck_assert_int_eq(esg_log_level_parse("debug", &l), 0);
    ck_assert_int_eq(l, ESG_LOG_DEBUG);
    ck_assert_int_eq(esg_log_level_parse("trace", &l), -1);
    ck_assert_int_eq(esg_log_level_parse("", &l), -1);
    ck_assert_int_eq(l, ESG_LOG_DEBUG); /* unchanged on error */
}
END_TEST

static char *read_all(FILE *f) {
    fflush(f);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    char *s = calloc(1, (size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

START_TEST(test_log_lines) {
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    esg_logger lg = {ESG_LOG_INFO, f};
    esg_log(&lg, ESG_LOG_INFO, "committed block %d (%d txs)", 12, 3);
    esg_log(&lg, ESG_LOG_DEBUG, "not shown");
    esg_log(&lg, ESG_LOG_ERROR, "bad %s", "thing");
    esg_log(NULL, ESG_LOG_ERROR, "no logger: nothing happens");
    char *s = read_all(f);
    /* 2026-11-22T14:00:00.123Z info  committed block 12 (3 txs) */
    char *nl = strchr(s, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_uint_eq((size_t)(nl - s), 25 + 6 + strlen("committed block 12 (3 txs)"));
    ck_assert_int_eq(s[4], '-');
    ck_assert_int_eq(s[10], 'T');
    ck_assert_int_eq(s[19], '.');
    ck_assert_int_eq(s[23], 'Z');
    ck_assert_int_eq(strncmp(s + 24, " info  committed block 12 (3 txs)\n", 34), 0);
    ck_assert_int_eq(strncmp(nl + 1 + 24, " error bad thing\n", 17), 0);
    ck_assert_ptr_null(strstr(s, "not shown"));
    ck_assert_int_eq(strchr(nl + 1, '\n')[1], '\0'); /* two lines exactly */
    free(s);
    fclose(f);
}
END_TEST

START_TEST(test_log_long_line) {
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    esg_logger lg = {ESG_LOG_DEBUG, f};
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    esg_log(&lg, ESG_LOG_DEBUG, "%s", big);
    esg_log(&lg, ESG_LOG_WARN, "after");
    char *s = read_all(f);
    /* A long message is cut, but stays one line ending in a newline. */
    char *nl = strchr(s, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_uint_le((size_t)(nl - s) + 1, 1024);
    ck_assert_uint_gt((size_t)(nl - s), 900);
    ck_assert_ptr_nonnull(strstr(nl + 1, " warn  after\n"));
    free(s);
    fclose(f);
}
END_TEST

Suite *suite_config(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_full_file);
    tcase_add_test(tc, test_partial_file_keeps_defaults);
    tcase_add_loop_test(tc, test_bad_value, 0, (int)(sizeof bad_values / sizeof bad_values[0]));
    tcase_add_test(tc, test_unknown_key);
    tcase_add_test(tc, test_syntax_error);
    tcase_add_test(tc, test_peers);
    tcase_add_test(tc, test_consensus_and_observers);
    tcase_add_test(tc, test_missing_file);
    suite_add_tcase(s, tc);
    tc = tcase_create("log");
    tcase_add_test(tc, test_log_level_parse);
    tcase_add_test(tc, test_log_lines);
    tcase_add_test(tc, test_log_long_line);
    suite_add_tcase(s, tc);
    return s;
}
