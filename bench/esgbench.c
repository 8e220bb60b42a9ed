/* esgbench: throughput against the machine's own bound (docs/BENCHMARKS.md).
 *
 *   esgbench [--mix governance|domain] [--txs N] [--clients C] [--seconds S]
 *            [--signers K] [--investors K] [--verifiers V] [--keep]
 *
 * 1. BIP340 verifications per second on one core and on all cores: the
 *    bound, since signature verification is ~98 % of a transaction's CPU.
 * 2. Single-node committed tx/s: a real esgnode process (next to this
 *    binary) on a fresh datadir; N pre-signed transactions are POSTed over
 *    the API by C client threads; the clock runs from the first POST to the
 *    block that commits the last one. The stream is one of two mixes:
 *    - governance (the default): AddAccount from K city admins;
 *    - domain: the ESG transactions on a joint green bond of three cities
 *      (Transfer, AllocateProceeds, ReportImpact, AttestImpact), after an
 *      untimed setup that issues the bond, subscribes it, closes it and
 *      files the impact reports the timed stream attests.
 *    Each signer's transactions go, in nonce order, to one client thread,
 *    and no transaction depends on another signer's, so admission runs in
 *    parallel.
 * 3. verify-chain tx/s: the chain just made (setup included), replayed
 *    from genesis.
 * Each figure is printed as a ratio to the all-cores verification rate
 * measured in the same run: wall times on shared machines swing, ratios
 * much less. This is a benchmark, not a test: no figure is checked.
 *
 *   esgbench --validators V [--txs N] [--clients C] [--signers K]
 *            [--latency-seconds S] [--latency-rate R] [--heartbeat-ms N]
 *            [--timeout-commit-ms N] [--keep]
 *
 * A network of V validators (equal power) instead: V esgnode processes on
 * 127.0.0.1, each a peer of every other, the governance mix. Every node
 * verifies every transaction, so the bound is the all-cores rate / V.
 * 1. Phase 1, finalized tx/s: N pre-signed transactions POSTed by C
 *    client threads spread over the V nodes (client c to node c % V); the
 *    clock runs from the first POST until node 0 has committed them all.
 * 2. Phase 2, finality latency: transactions sent open loop at a quarter
 *    of that rate (or R), one every 1/rate s whatever the answers do, for S
 *    seconds, each POST /v1/txs?wait=commit to the node of its signer; the
 *    latency runs from the submission's slot to the answer, p50 and p99.
 * For each phase it prints where the time went: block sizes, consensus
 * rounds and time per step (the nodes' /metrics), CPU per node and of the
 * nodes' loop threads (/proc), and what else the machine ran meanwhile. */
#include <arpa/inet.h>
#include <assert.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/txbuild.h"
#include "node/api.h"
#include "node/node.h"
#include "node/verify_chain.h"

#define BENCH_CHAIN_ID "esg-bench-1"
#define BENCH_GENESIS_MS 1767225600000ull /* 2026-01-01T00:00:00Z */
#define BENCH_MAX_COSIGNERS 9              /* a joint issue: the other co-issuers */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock milliseconds, to compare with block times. */
static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "esgbench: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("out of memory");
    return p;
}

/* ------------------------------------------------------ verification rate */

#define SIGSET 1024
typedef struct sigcase { esg_pubkey pk; esg_hash msg; esg_sig sig; } sigcase;

typedef struct vctx {
    const sigcase *cases;
    double seconds;
    uint64_t count;
} vctx;

static void *verify_loop(void *arg) {
    vctx *v = arg;
    double end = now_s() + v->seconds;
    uint64_t n = 0;
    while (now_s() < end) {
        for (int i = 0; i < 64; i++, n++)
            if (!esg_verify(&v->cases[n % SIGSET].sig, &v->cases[n % SIGSET].msg,
                            &v->cases[n % SIGSET].pk))
                die("a valid signature failed to verify");
    }
    v->count = n;
    return NULL;
}

static double verify_rate(const sigcase *cases, unsigned threads, double seconds) {
    pthread_t t[64];
    vctx v[64];
    for (unsigned i = 0; i < threads; i++) {
        v[i] = (vctx){cases, seconds, 0};
        pthread_create(&t[i], NULL, verify_loop, &v[i]);
    }
    uint64_t total = 0;
    for (unsigned i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += v[i].count;
    }
    return (double)total / seconds;
}

/* Measures and prints the bound; returns the all-cores rate and the
 * one-core rate in *one. */
static double measure_bound(double *one_out, unsigned cores, double seconds) {
    sigcase *cases = xcalloc(SIGSET, sizeof *cases);
    for (int i = 0; i < SIGSET; i++) {
        esg_seckey sk;
        esg_key_generate(&sk, &cases[i].pk);
        cases[i].msg = esg_sha256(&i, sizeof i);
        esg_sign(&cases[i].sig, &sk, &cases[i].msg);
        esg_seckey_wipe(&sk);
    }
    double one = verify_rate(cases, 1, seconds);
    double all = verify_rate(cases, cores, seconds);
    printf("bip340_verify_per_s_1core   %10.0f\n", one);
    printf("bip340_verify_per_s_%ucores  %10.0f   (bound; %.2fx one core)\n", cores, all, all / one);
    free(cases);
    *one_out = one;
    return all;
}

/* ------------------------------------------------- signers and tx lists */

/* An account that signs transactions of the stream, and the nonce of the
 * last one signed for it: transactions are signed in nonce order. */
typedef struct bench_signer {
    esg_seckey sk;
    esg_pubkey pk;
    uint64_t nonce;
} bench_signer;

/* One signed transaction and the index of its signer (which decides the
 * client thread that submits it). */
typedef struct blob {
    uint8_t *p;
    size_t n;
    size_t signer;
} blob;

/* A growing list of signed transactions, in submission order. */
typedef struct txlist {
    blob *v;
    size_t n, cap;
} txlist;

static void txlist_release(txlist *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].p);
    free(l->v);
    *l = (txlist){0};
}

/* Sets `body`'s chain id, signer (signers[who]) and that signer's next
 * nonce, signs it with the signer's key followed by the n_co co-signers'
 * and appends it to `l`. Returns the tx id (a report's id is its tx's). */
static esg_hash txlist_sign(txlist *l, bench_signer *signers, size_t who,
                            esg_pb_tx_body *body, const esg_seckey *co, size_t n_co) {
    assert(n_co <= BENCH_MAX_COSIGNERS);
    esg_seckey keys[1 + BENCH_MAX_COSIGNERS];
    bench_signer *s = &signers[who];
    body->chain_id = BENCH_CHAIN_ID;
    body->nonce = ++s->nonce;
    body->signer = esg_pb_bin(s->pk.b, 32);
    keys[0] = s->sk;
    for (size_t i = 0; i < n_co; i++)
        keys[1 + i] = co[i];
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v)
            die("out of memory");
    }
    blob *b = &l->v[l->n++];
    b->signer = who;
    int rc = esg_txb_sign_body(&b->p, &b->n, body, keys, 1 + n_co);
    for (size_t i = 0; i <= n_co; i++)
        esg_seckey_wipe(&keys[i]);
    if (rc)
        die("signing failed: %s", esg_err_name(rc));
    esg_tx *tx;
    if (esg_tx_decode(&tx, b->p, b->n))
        die("a signed transaction does not decode");
    esg_hash id = tx->id;
    esg_tx_free(tx);
    return id;
}

/* ---------------------------------------------------------------- node */

typedef struct bench_node {
    char dir[32];            /* a fresh /tmp/esgbench-XXXXXX */
    char datadir[PATH_MAX];
    char log[PATH_MAX];
    char base[96];           /* http://127.0.0.1:PORT */
    pid_t pid;
} bench_node;

/* A port nobody listens on now: the kernel's pick (low false), or, for
 * p2p, a random one below the ephemeral range and not in taken[]: a dial
 * to a port nobody listens on yet can otherwise connect to itself (TCP
 * simultaneous open) and take the port. */
static int pick_port(bool low, const int *taken, size_t n_taken) {
    for (int attempt = 0; attempt < 1000; attempt++) {
        int want = 0;
        if (low) {
            want = 20000 + rand() % 12000;
            bool used = false;
            for (size_t i = 0; i < n_taken; i++)
                used |= taken[i] == want;
            if (used)
                continue;
        }
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            die("socket: %s", strerror(errno));
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)want)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sa;
        int port = 0;
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
            getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
            port = ntohs(sa.sin_port);
        close(fd);
        if (port)
            return port;
    }
    die("cannot pick a free port");
}

/* GET url; returns the body (malloc'd, NUL-terminated) or NULL. */
static char *http_text(const char *url, size_t *len_out) {
    CURL *h = curl_easy_init();
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
    CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    fclose(mem);
    if (rc != CURLE_OK || code != 200) {
        free(buf);
        return NULL;
    }
    if (len_out)
        *len_out = len;
    return buf;
}

static json_t *http_json(const char *url) {
    size_t len = 0;
    char *buf = http_text(url, &len);
    json_t *j = buf ? json_loadb(buf, len, 0, NULL) : NULL;
    free(buf);
    return j;
}

static uint64_t status_u64(const char *base, const char *field) {
    char url[256];
    snprintf(url, sizeof url, "%s/v1/status", base);
    json_t *j = http_json(url);
    uint64_t v = j ? (uint64_t)json_integer_value(json_object_get(j, field)) : 0;
    json_decref(j);
    return v;
}

/* The value of the sample `name` (with its labels, if any) in a /metrics
 * text, 0 if absent. Every sample line follows a newline (the text opens
 * with a # HELP line). */
static double metric_value(const char *text, const char *name) {
    char key[160];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = text ? strstr(text, key) : NULL;
    return at ? strtod(at + strlen(key), NULL) : 0;
}

/* Transactions committed and dropped from blocks so far, from /metrics. */
static void tx_counters(const char *base, uint64_t *committed, uint64_t *dropped) {
    char url[256];
    snprintf(url, sizeof url, "%s/metrics", base);
    char *text = http_text(url, NULL);
    *committed = (uint64_t)metric_value(text, "esg_txs_committed_total");
    *dropped = (uint64_t)metric_value(text, "esg_mempool_dropped_total");
    free(text);
}

/* Writes `g` (whose validators are set) to `path` as JSON. Frees g. */
static void genesis_write(esg_genesis *g, const char *path) {
    g->params.max_block_txs = 10000;
    char err[512] = "";
    char *json;
    size_t jlen;
    if (esg_genesis_validate(g, err, sizeof err) || esg_genesis_to_json(g, &json, &jlen))
        die("genesis: %s", err);
    FILE *f = fopen(path, "w");
    if (!f || fwrite(json, 1, jlen, f) != jlen || fclose(f))
        die("cannot write %s", path);
    free(json);
    esg_genesis_free(g);
}

/* A fresh validator key, written to key_path; its public key in *pk. */
static void validator_key_new(esg_pubkey *pk, const char *key_path) {
    esg_seckey vsk;
    esg_key_generate(&vsk, pk);
    if (esg_keyfile_write(key_path, &vsk))
        die("cannot write %s", key_path);
    esg_seckey_wipe(&vsk);
}

/* Appends `text` to DATADIR/esgnode.conf. Every client of the benchmark
 * is 127.0.0.1, so the nodes let that one address hold as many API
 * connections as they allow at all (conf_bench), instead of the default
 * per-address limit meant for the open internet. */
static void conf_append(const char *datadir, const char *text) {
    char conf[PATH_MAX + 16];
    snprintf(conf, sizeof conf, "%s/esgnode.conf", datadir);
    FILE *f = fopen(conf, "a");
    if (!f || fputs(text, f) < 0 || fclose(f))
        die("cannot write %s", conf);
}

#define CONF_BENCH "\n[api]\nmax_connections_per_address = 448\n"

/* Adds a validator with a fresh key, operated by `operator_id`, to `g`,
 * writes the genesis and the key into a fresh directory and initializes a
 * datadir there. Frees g. */
static void node_init(bench_node *nd, esg_genesis *g, const char *operator_id) {
    snprintf(nd->dir, sizeof nd->dir, "/tmp/esgbench-XXXXXX");
    if (!mkdtemp(nd->dir))
        die("mkdtemp: %s", strerror(errno));
    char genesis_path[PATH_MAX], key_path[PATH_MAX];
    snprintf(key_path, sizeof key_path, "%s/validator.key", nd->dir);
    snprintf(genesis_path, sizeof genesis_path, "%s/genesis.json", nd->dir);
    snprintf(nd->datadir, sizeof nd->datadir, "%s/node", nd->dir);
    snprintf(nd->log, sizeof nd->log, "%s/esgnode.log", nd->dir);
    esg_pubkey vpk;
    validator_key_new(&vpk, key_path);
    esg_genesis_add_validator(g, &vpk, 10, operator_id);
    genesis_write(g, genesis_path);
    char err[512] = "";
    if (esg_node_init(nd->datadir, genesis_path, key_path, err, sizeof err))
        die("init: %s", err);
    conf_append(nd->datadir, CONF_BENCH);
}

/* Starts `esgnode run` (the one next to this binary) on `datadir` with its
 * API on `api`, stderr to `log`, and, if p2p is not NULL, the p2p
 * transport on it dialing `peers` and the heartbeat (if not NULL). The
 * child gets SIGTERM if this process dies first, so no node outlives the
 * benchmark. Returns its pid. */
static pid_t node_spawn(const char *datadir, const char *log, const char *api, const char *p2p,
                        const char *const *peers, size_t n_peers, const char *heartbeat_ms,
                        bool verbose) {
    char exe[PATH_MAX];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (el <= 0)
        die("cannot find my own path");
    exe[el] = '\0';
    char *slash = strrchr(exe, '/');
    snprintf(slash + 1, (size_t)(exe + sizeof exe - slash - 1), "esgnode");
    const char *argv[14 + 2 * ESG_NODE_MAX_PEERS];
    size_t k = 0;
    argv[k++] = "esgnode";
    argv[k++] = "run";
    argv[k++] = "--datadir";
    argv[k++] = datadir;
    argv[k++] = "--api";
    argv[k++] = api;
    argv[k++] = "--log-level";
    argv[k++] = verbose ? "info" : "warn";
    if (p2p) {
        argv[k++] = "--p2p";
        argv[k++] = p2p;
        for (size_t i = 0; i < n_peers && i < ESG_NODE_MAX_PEERS; i++) {
            argv[k++] = "--peer";
            argv[k++] = peers[i];
        }
        if (heartbeat_ms) {
            argv[k++] = "--heartbeat-ms";
            argv[k++] = heartbeat_ms;
        }
    }
    argv[k] = NULL;
    pid_t parent = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(125);
        if (!freopen(log, "w", stderr))
            _exit(126);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Waits (60 s) until the node at `base` answers; dies if it exits. */
static void node_wait_api(const char *base, pid_t pid, const char *log) {
    char url[128];
    snprintf(url, sizeof url, "%s/v1/status", base);
    for (int i = 0; i < 600; i++) {
        json_t *probe = http_json(url);
        if (probe) {
            json_decref(probe);
            return;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid)
            die("esgnode exited at start; see %s", log);
        usleep(100000);
    }
    die("esgnode did not start; see %s", log);
}

/* Starts the esgnode next to this binary on the datadir and waits until
 * its API answers. */
static void node_start(bench_node *nd, bool verbose) {
    char api[64];
    snprintf(api, sizeof api, "127.0.0.1:%d", pick_port(false, NULL, 0));
    snprintf(nd->base, sizeof nd->base, "http://%s", api);
    nd->pid = node_spawn(nd->datadir, nd->log, api, NULL, NULL, 0, NULL, verbose);
    node_wait_api(nd->base, nd->pid, nd->log);
}

static void node_stop(bench_node *nd) {
    kill(nd->pid, SIGTERM);
    waitpid(nd->pid, NULL, 0);
}

static void node_remove(const bench_node *nd, bool keep) {
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", nd->dir);
    if (keep)
        printf("kept %s (node log: %s)\n", nd->dir, nd->log);
    else if (system(cmd) != 0)
        fprintf(stderr, "esgbench: could not remove %s\n", nd->dir);
}

/* ----------------------------------------------------------- submissions */

typedef struct client {
    const char *url;
    const blob **txs;   /* this client's transactions, in nonce order per signer */
    size_t n;
    size_t rejected;
    char first_error[256];
    char body[192];     /* start of the last response, for first_error */
    size_t body_len;
} client;

static size_t keep_body(void *p, size_t s, size_t n, void *u) {
    client *c = u;
    size_t room = sizeof c->body - 1 - c->body_len, take = s * n < room ? s * n : room;
    memcpy(c->body + c->body_len, p, take);
    c->body_len += take;
    c->body[c->body_len] = '\0';
    return s * n;
}

static void *client_run(void *arg) {
    client *c = arg;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    char url[256];
    snprintf(url, sizeof url, "%s/v1/txs", c->url);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    for (size_t i = 0; i < c->n; i++) {
        for (int attempt = 0;; attempt++) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->txs[i]->p);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->txs[i]->n);
            long code = 0;
            c->body_len = 0;
            c->body[0] = '\0';
            if (curl_easy_perform(h) == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
            if (code == 202 || code == 200)
                break;
            if (code == 503 && attempt < 1000) { /* mempool full: back off */
                usleep(2000);
                continue;
            }
            if (!c->first_error[0])
                snprintf(c->first_error, sizeof c->first_error, "HTTP %ld %s", code, c->body);
            c->rejected++;
            break;
        }
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

typedef struct stream_result {
    size_t rejected;      /* refused on admission */
    uint64_t committed;   /* by this stream's blocks */
    uint64_t dropped;     /* admitted, then dropped from a block */
    double t_submit;      /* seconds from the first POST to the last answer */
    double t_commit;      /* seconds from the first POST to the last commit */
    uint64_t t0_wall_ms;  /* the first POST, wall clock */
} stream_result;

/* POSTs every transaction of `txs` from n_clients threads (signer s
 * always through client s % n_clients, so its nonces arrive in order;
 * client c to the node at bases[c % n_bases]) and waits until node
 * bases[0] has committed or dropped each admitted one (at most 300 s, or
 * 60 s without progress). */
static stream_result stream_run(const char *const *bases, size_t n_bases, const txlist *txs,
                                unsigned n_clients) {
    const char *base = bases[0];
    client *cl = xcalloc(n_clients, sizeof *cl);
    for (unsigned c = 0; c < n_clients; c++)
        cl[c].txs = xcalloc(txs->n, sizeof *cl[c].txs);
    for (size_t k = 0; k < txs->n; k++) {
        client *c = &cl[txs->v[k].signer % n_clients];
        c->txs[c->n++] = &txs->v[k];
    }
    pthread_t th[64];
    stream_result r = {0};
    uint64_t committed0, dropped0, committed, dropped;
    tx_counters(base, &committed0, &dropped0);
    double t0 = now_s();
    r.t0_wall_ms = wall_ms();
    for (unsigned c = 0; c < n_clients; c++) {
        cl[c].url = bases[c % n_bases];
        pthread_create(&th[c], NULL, client_run, &cl[c]);
    }
    for (unsigned c = 0; c < n_clients; c++) {
        pthread_join(th[c], NULL);
        r.rejected += cl[c].rejected;
        if (cl[c].first_error[0])
            fprintf(stderr, "client %u: first rejection: %s\n", c, cl[c].first_error);
    }
    r.t_submit = now_s() - t0;
    uint64_t want = txs->n - r.rejected;
    double deadline = now_s() + 300, progress = now_s();
    uint64_t last = 0;
    do {
        tx_counters(base, &committed, &dropped);
        if (committed - committed0 + dropped - dropped0 >= want)
            break;
        if (committed != last) {
            last = committed;
            progress = now_s();
        }
        usleep(n_bases > 1 ? 5000 : 2000); /* a network's blocks are ~1 s apart */
    } while (now_s() < deadline && now_s() < progress + 60);
    r.t_commit = now_s() - t0;
    r.committed = committed - committed0;
    r.dropped = dropped - dropped0;
    for (unsigned c = 0; c < n_clients; c++)
        free(cl[c].txs);
    free(cl);
    return r;
}

/* ------------------------------------------------------------ workloads */

/* What a mix gives the run: the genesis (without its validator), the
 * signers, the setup stages (each committed before the next is sent;
 * untimed) and the timed stream. */
#define MAX_STAGES 3
typedef struct workload {
    esg_genesis *g;
    const char *validator_operator;
    bench_signer *signers;
    size_t n_signers;
    txlist stages[MAX_STAGES];
    size_t n_stages;
    txlist timed;
    const char *replay_note; /* said next to the verify-chain figure */
} workload;

static void workload_release(workload *w) {
    for (size_t i = 0; i < w->n_stages; i++)
        txlist_release(&w->stages[i]);
    txlist_release(&w->timed);
    for (size_t i = 0; i < w->n_signers; i++)
        esg_seckey_wipe(&w->signers[i].sk);
    free(w->signers);
}

static void workload_signers(workload *w, size_t n) {
    w->signers = xcalloc(n, sizeof *w->signers);
    w->n_signers = n;
    for (size_t i = 0; i < n; i++)
        if (esg_key_generate(&w->signers[i].sk, &w->signers[i].pk))
            die("cannot generate a key");
}

/* Appends an AddAccount by signers[who] (an OFFICER account with a fresh
 * key for its member) to `l`. */
static void sign_add_account(txlist *l, bench_signer *signers, size_t who) {
    esg_pb_role roles[1] = {ESG_ROLE_OFFICER};
    esg_seckey new_sk;
    esg_pubkey new_pk;
    esg_key_generate(&new_sk, &new_pk);
    esg_seckey_wipe(&new_sk);
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    aa.pubkey = esg_pb_bin(new_pk.b, 32);
    aa.n_roles = 1;
    aa.roles = roles;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_ADD_ACCOUNT;
    body.add_account = &aa;
    txlist_sign(l, signers, who, &body, NULL, 0);
}

/* Governance mix: n_signers CITY members; signer k % n_signers adds an
 * OFFICER account to its member with each transaction. With `warmup`, an
 * untimed stage of one such transaction per signer comes first (a network
 * settles its connections and first heights on it). */
static void build_governance(workload *w, size_t n_txs, size_t n_signers, bool warmup) {
    w->g = esg_genesis_new(BENCH_CHAIN_ID, BENCH_GENESIS_MS);
    workload_signers(w, n_signers);
    for (size_t i = 0; i < n_signers; i++) {
        char id[41];
        snprintf(id, sizeof id, "city-%03zu", i);
        esg_genesis_add_member(w->g, id, ESG_KIND_CITY, id, "", &w->signers[i].pk);
    }
    w->validator_operator = "city-000";
    w->replay_note = "";
    printf("signing %zu transactions from %zu signers...\n", n_txs, n_signers);
    if (warmup) {
        w->n_stages = 1;
        for (size_t k = 0; k < n_signers; k++)
            sign_add_account(&w->stages[0], w->signers, k);
    }
    for (size_t k = 0; k < n_txs; k++)
        sign_add_account(&w->timed, w->signers, k % n_signers);
}

/* Domain mix: a joint green bond of three cities, held by K investors,
 * whose impact reports V accredited verifiers attest.
 *
 * Signers (bench_signer indexes, in this order): per city, city_accounts
 * OFFICER accounts, the first being its admin; each investor's admin; per
 * verifier, verifier_accounts OFFICER accounts, the first its admin. Nonces
 * are per account, so a city's or a verifier's share of the stream is
 * spread over several accounts that carry about as many transactions as an
 * investor: otherwise three city accounts would each carry a chain of
 * thousands of transactions through one client thread. */
#define DOMAIN_CITIES 3
#define DOMAIN_INSTRUMENT "JGB-BENCH-1"
#define DOMAIN_KPI "ghg_avoided_tco2e" /* climate, the verifiers' accreditation */
#define DOMAIN_FACE 100000u            /* minor units per unit */
#define DOMAIN_ALLOCATION 100u         /* minor units per AllocateProceeds */
#define DOMAIN_FIRST_DAY "2020-01-01"  /* reports cover single days from here */

/* The timed mix in percent; AttestImpact takes the rest. */
enum { MIX_TRANSFER = 40, MIX_ALLOCATE = 20, MIX_REPORT = 20 };

static const char *const city_ids[DOMAIN_CITIES] = {"city-a", "city-b", "city-c"};
static const char *const project_ids[DOMAIN_CITIES] = {"PRJ-A", "PRJ-B", "PRJ-C"};
static const uint32_t city_shares_bps[DOMAIN_CITIES] = {3334, 3333, 3333};
static const uint8_t evidence[32] = {0xe5, 0x9b, 0x01, 0x7a}; /* a document's SHA-256 */

typedef struct domain {
    workload *w;
    size_t n_investors, n_verifiers;
    size_t city_accounts, verifier_accounts;
    int32_t first_day;
    uint32_t reports_made[DOMAIN_CITIES]; /* per city: the next report's day */
    esg_hash *reports;                    /* the setup's reports, to attest */
    size_t n_reports;
} domain;

static size_t city_signer(const domain *d, size_t city, size_t account) {
    return city * d->city_accounts + account;
}
static size_t investor_signer(const domain *d, size_t investor) {
    return DOMAIN_CITIES * d->city_accounts + investor;
}
static size_t verifier_signer(const domain *d, size_t verifier, size_t account) {
    return investor_signer(d, d->n_investors) + verifier * d->verifier_accounts + account;
}
static void investor_id(char id[32], size_t investor) {
    snprintf(id, 32, "inv-%03zu", investor);
}

/* A member with its admin (signers[first]) and n - 1 more OFFICER accounts. */
static void domain_member(domain *d, const char *id, int kind, size_t first, size_t n) {
    bench_signer *s = d->w->signers;
    if (esg_genesis_add_member(d->w->g, id, kind, id, "GR", &s[first].pk))
        die("out of memory");
    for (size_t a = 1; a < n; a++)
        if (esg_genesis_add_account(d->w->g, id, &s[first + a].pk, ESG_ROLE_BIT_OFFICER))
            die("out of memory");
}

static void domain_genesis(domain *d) {
    workload *w = d->w;
    workload_signers(w, verifier_signer(d, d->n_verifiers, 0) + 1);
    w->g = esg_genesis_new(BENCH_CHAIN_ID, BENCH_GENESIS_MS);
    if (!w->g || esg_genesis_add_default_kpis(w->g))
        die("out of memory");
    for (size_t c = 0; c < DOMAIN_CITIES; c++)
        domain_member(d, city_ids[c], ESG_KIND_CITY, city_signer(d, c, 0), d->city_accounts);
    for (size_t i = 0; i < d->n_investors; i++) {
        char id[32];
        investor_id(id, i);
        domain_member(d, id, ESG_KIND_INVESTOR, investor_signer(d, i), 1);
    }
    for (size_t v = 0; v < d->n_verifiers; v++) {
        char id[32];
        snprintf(id, sizeof id, "ver-%02zu", v);
        domain_member(d, id, ESG_KIND_VERIFIER, verifier_signer(d, v, 0), d->verifier_accounts);
        if (esg_genesis_add_accreditation(w->g, id, "climate"))
            die("out of memory");
    }
    /* The paying agent signs nothing here; its key is the last signer's. */
    domain_member(d, "agent-1", ESG_KIND_PAYING_AGENT, w->n_signers - 1, 1);
    w->validator_operator = city_ids[0];
}

/* IssueInstrument of the joint green bond (`units` units), signed by the
 * lead city's admin and co-signed by the other two cities' admins. */
static void sign_issue(domain *d, txlist *l, uint64_t units) {
    esg_pb_co_issuer co[DOMAIN_CITIES];
    esg_pb_co_issuer *cos[DOMAIN_CITIES];
    esg_pb_project pr[DOMAIN_CITIES];
    esg_pb_project *prs[DOMAIN_CITIES];
    esg_seckey cosign[DOMAIN_CITIES - 1];
    for (size_t c = 0; c < DOMAIN_CITIES; c++) {
        co[c] = (esg_pb_co_issuer)ESG_PB_CO_ISSUER_INIT;
        co[c].member = (char *)city_ids[c];
        co[c].share_bps = city_shares_bps[c];
        cos[c] = &co[c];
        pr[c] = (esg_pb_project)ESG_PB_PROJECT_INIT;
        pr[c].id = (char *)project_ids[c];
        pr[c].city = (char *)city_ids[c];
        pr[c].name = "Energy retrofit of public buildings";
        pr[c].eu_objective = ESG_EU_OBJECTIVE_CCM;
        pr[c].budget = 100000000;
        prs[c] = &pr[c];
        if (c > 0)
            cosign[c - 1] = d->w->signers[city_signer(d, c, 0)].sk;
    }
    esg_pb_instrument_spec s = ESG_PB_INSTRUMENT_SPEC_INIT;
    s.id = DOMAIN_INSTRUMENT;
    s.kind = ESG_INSTRUMENT_GREEN_BOND;
    s.name = "Joint green bond of three cities";
    s.currency = "EUR";
    s.face_value = DOMAIN_FACE;
    s.units = units;
    s.coupon_bps = 300;
    s.coupon_frequency_months = 12;
    s.issue_date = "2026-01-15";
    s.maturity_date = "2031-01-15";
    s.n_co_issuers = DOMAIN_CITIES;
    s.co_issuers = cos;
    s.paying_agent = "agent-1";
    s.n_projects = DOMAIN_CITIES;
    s.projects = prs;
    esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
    ii.spec = &s;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    body.issue_instrument = &ii;
    txlist_sign(l, d->w->signers, city_signer(d, 0, 0), &body, cosign, DOMAIN_CITIES - 1);
    for (size_t c = 0; c < DOMAIN_CITIES - 1; c++)
        esg_seckey_wipe(&cosign[c]);
}

static void sign_subscribe(domain *d, txlist *l, size_t investor, uint64_t units) {
    esg_pb_subscribe sub = ESG_PB_SUBSCRIBE_INIT;
    sub.instrument = DOMAIN_INSTRUMENT;
    sub.units = units;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_SUBSCRIBE;
    body.subscribe = &sub;
    txlist_sign(l, d->w->signers, investor_signer(d, investor), &body, NULL, 0);
}

static void sign_close(domain *d, txlist *l) {
    esg_pb_close_offering co = ESG_PB_CLOSE_OFFERING_INIT;
    co.instrument = DOMAIN_INSTRUMENT;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_CLOSE_OFFERING;
    body.close_offering = &co;
    txlist_sign(l, d->w->signers, city_signer(d, 0, 0), &body, NULL, 0);
}

/* One unit from `investor` to the next one (round the ring). */
static void sign_transfer(domain *d, txlist *l, size_t investor) {
    char to[32];
    investor_id(to, (investor + 1) % d->n_investors);
    esg_pb_transfer tr = ESG_PB_TRANSFER_INIT;
    tr.instrument = DOMAIN_INSTRUMENT;
    tr.to_member = to;
    tr.units = 1;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_TRANSFER;
    body.transfer = &tr;
    txlist_sign(l, d->w->signers, investor_signer(d, investor), &body, NULL, 0);
}

static void sign_allocate(domain *d, txlist *l, size_t city, size_t account) {
    esg_pb_allocate_proceeds ap = ESG_PB_ALLOCATE_PROCEEDS_INIT;
    ap.instrument = DOMAIN_INSTRUMENT;
    ap.project_id = (char *)project_ids[city];
    ap.amount = DOMAIN_ALLOCATION;
    ap.date = "2026-06-30";
    ap.evidence_sha256 = esg_pb_bin(evidence, sizeof evidence);
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
    body.allocate_proceeds = &ap;
    txlist_sign(l, d->w->signers, city_signer(d, city, account), &body, NULL, 0);
}

/* A report of the city's project for the city's next free day (so no two
 * reports share a slot). Returns its id. */
static esg_hash sign_report(domain *d, txlist *l, size_t city, size_t account) {
    char start[11], end[11];
    int32_t day = d->first_day + (int32_t)d->reports_made[city]++;
    esg_date_format(day, start);
    esg_date_format(day + 1, end);
    esg_pb_report_impact ri = ESG_PB_REPORT_IMPACT_INIT;
    ri.instrument = DOMAIN_INSTRUMENT;
    ri.project_id = (char *)project_ids[city];
    ri.kpi = DOMAIN_KPI;
    ri.value = 1250;
    ri.period_start = start;
    ri.period_end = end;
    ri.methodology = "metered consumption against the 2019 baseline";
    ri.evidence_sha256 = esg_pb_bin(evidence, sizeof evidence);
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_REPORT_IMPACT;
    body.report_impact = &ri;
    return txlist_sign(l, d->w->signers, city_signer(d, city, account), &body, NULL, 0);
}

static void sign_attest(domain *d, txlist *l, size_t verifier, size_t account,
                        const esg_hash *report) {
    esg_pb_attest_impact at = ESG_PB_ATTEST_IMPACT_INIT;
    at.report_id = esg_pb_bin(report->b, 32);
    at.opinion = ESG_OPINION_CONFIRMED;
    at.verified_value = 1200;
    at.statement_sha256 = esg_pb_bin(evidence, sizeof evidence);
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_ATTEST_IMPACT;
    body.attest_impact = &at;
    txlist_sign(l, d->w->signers, verifier_signer(d, verifier, account), &body, NULL, 0);
}

static size_t div_up(size_t a, size_t b) {
    return (a + b - 1) / b;
}

/* Setup in three stages, each committed before the next: the issue; the
 * subscriptions (investor i subscribes units[i]) and the cities' reports
 * (n_reports, round the cities); the close. */
static void domain_setup(domain *d, const uint64_t *units, uint64_t total_units) {
    workload *w = d->w;
    w->n_stages = 3;
    sign_issue(d, &w->stages[0], total_units);
    for (size_t i = 0; i < d->n_investors; i++)
        sign_subscribe(d, &w->stages[1], i, units[i]);
    d->reports = xcalloc(d->n_reports, sizeof *d->reports);
    for (size_t x = 0; x < d->n_reports; x++) {
        size_t round = x / DOMAIN_CITIES;
        d->reports[x] = sign_report(d, &w->stages[1], x % DOMAIN_CITIES, round % d->city_accounts);
    }
    sign_close(d, &w->stages[2]);
}

/* The timed stream, one round at a time so each client interleaves its
 * signers: in a round, each investor makes its next transfer, each city
 * account its next allocation or report (allocations spread evenly among
 * the cities' transactions), each verifier account its next attestation
 * (verifier v attests setup reports 0, 1, 2, ... in turn, each once).
 * counts[] receives how many of each kind were signed. */
static void domain_timed(domain *d, const size_t *transfers, size_t n_allocate, size_t n_report,
                         size_t n_attest, size_t counts[4]) {
    size_t city_txs = n_allocate + n_report, city_signers = DOMAIN_CITIES * d->city_accounts;
    txlist *l = &d->w->timed;
    for (size_t round = 0;; round++) {
        size_t before = l->n;
        for (size_t i = 0; i < d->n_investors; i++)
            if (round < transfers[i]) {
                sign_transfer(d, l, i);
                counts[0]++;
            }
        for (size_t j = 0; j < city_signers; j++) {
            size_t k = round * city_signers + j, city = j / d->city_accounts;
            if (k >= city_txs)
                continue;
            if ((k + 1) * n_allocate / city_txs != k * n_allocate / city_txs) {
                sign_allocate(d, l, city, j % d->city_accounts);
                counts[1]++;
            } else {
                sign_report(d, l, city, j % d->city_accounts);
                counts[2]++;
            }
        }
        for (size_t v = 0; v < d->n_verifiers; v++)
            for (size_t a = 0; a < d->verifier_accounts; a++) {
                size_t report = round * d->verifier_accounts + a;
                if (report * d->n_verifiers + v >= n_attest)
                    continue;
                sign_attest(d, l, v, a, &d->reports[report]);
                counts[3]++;
            }
        if (l->n == before)
            break;
    }
}

static void build_domain(workload *w, size_t n_txs, size_t n_investors, size_t n_verifiers) {
    size_t n_transfer = n_txs * MIX_TRANSFER / 100, n_allocate = n_txs * MIX_ALLOCATE / 100,
           n_report = n_txs * MIX_REPORT / 100;
    size_t n_attest = n_txs - n_transfer - n_allocate - n_report;
    /* Each account carries about as many transactions as an investor. */
    size_t load = n_transfer > n_investors ? div_up(n_transfer, n_investors) : 1;
    domain d = {.w = w, .n_investors = n_investors, .n_verifiers = n_verifiers};
    d.city_accounts = div_up(n_allocate + n_report, DOMAIN_CITIES * load);
    d.verifier_accounts = div_up(n_attest, n_verifiers * load);
    if (d.city_accounts == 0)
        d.city_accounts = 1;
    if (d.verifier_accounts == 0)
        d.verifier_accounts = 1;
    d.n_reports = DOMAIN_CITIES * div_up(n_attest, DOMAIN_CITIES * n_verifiers);
    if (esg_date_parse(DOMAIN_FIRST_DAY, &d.first_day))
        die("bad first report day");
    domain_genesis(&d);

    /* Investor i makes transfers[i] transfers of one unit; it subscribes
     * one more unit than that, so it never depends on what it receives. */
    size_t *transfers = xcalloc(n_investors, sizeof *transfers);
    uint64_t *units = xcalloc(n_investors, sizeof *units), total_units = 0;
    for (size_t i = 0; i < n_investors; i++) {
        transfers[i] = n_transfer / n_investors + (i < n_transfer % n_investors);
        units[i] = transfers[i] + 1;
        total_units += units[i];
    }
    /* The smallest city part must cover that city's allocations. */
    if ((uint64_t)div_up(n_allocate, DOMAIN_CITIES) * DOMAIN_ALLOCATION >
        total_units * DOMAIN_FACE / 10000 * city_shares_bps[DOMAIN_CITIES - 1])
        die("the allocations would exceed a city's part of the amount raised");

    printf("signing the setup and %zu transactions...\n", n_txs);
    domain_setup(&d, units, total_units);
    size_t counts[4] = {0};
    domain_timed(&d, transfers, n_allocate, n_report, n_attest, counts);
    static const char *const kinds[4] = {"Transfer", "AllocateProceeds", "ReportImpact",
                                         "AttestImpact"};
    printf("domain mix:");
    for (int k = 0; k < 4; k++)
        printf("%s %zu %s (%.1f %%)", k ? "," : "", counts[k], kinds[k],
               100.0 * (double)counts[k] / (double)w->timed.n);
    printf("\nsigners: %zu investors, %d cities x %zu officer accounts, %zu verifiers x %zu "
           "officer accounts\n",
           n_investors, DOMAIN_CITIES, d.city_accounts, n_verifiers, d.verifier_accounts);
    printf("setup (untimed, committed first): 1 IssueInstrument (%d signatures), %zu Subscribe "
           "(%llu units), %zu ReportImpact, 1 CloseOffering\n",
           DOMAIN_CITIES, n_investors, (unsigned long long)total_units, d.n_reports);
    w->replay_note = "; setup included";
    free(transfers);
    free(units);
    free(d.reports);
}

/* ----------------------------------------------------------- setup */

static void run_setup_stage(const char *const *bases, size_t n_bases, const txlist *stage,
                            unsigned n_clients) {
    stream_result r = stream_run(bases, n_bases, stage, n_clients);
    if (r.rejected || r.dropped || r.committed != stage->n)
        die("setup: %zu transactions, %zu rejected, %llu dropped, %llu committed", stage->n,
            r.rejected, (unsigned long long)r.dropped, (unsigned long long)r.committed);
}

/* ------------------------------------------------------------ network */

/* --validators V (2..NET_MAX): V esgnode processes on 127.0.0.1 with one
 * genesis of V validators of equal power, each node dialing every other.
 * Every node verifies every transaction (on admission, from the API or
 * from gossip), and the V nodes share this machine's cores, so the bound
 * of the network is the all-cores verification rate divided by V. */
#define NET_MAX 16

typedef struct net_node {
    char datadir[PATH_MAX];
    char log[PATH_MAX];
    char api[32];   /* 127.0.0.1:PORT */
    char base[64];  /* http://127.0.0.1:PORT */
    char p2p[32];   /* 127.0.0.1:PORT */
    pid_t pid;
} net_node;

typedef struct bench_net {
    char dir[32];  /* a fresh /tmp/esgbench-XXXXXX: genesis, keys, datadirs, logs */
    size_t n;
    net_node nodes[NET_MAX];
    const char *bases[NET_MAX]; /* nodes[i].base */
} bench_net;

/* Adds n validators of power 10 (fresh keys, operated by operator_id) to
 * `g`, writes it, initializes the n datadirs and picks their ports; with
 * commit_ms (not NULL) each node's esgnode.conf sets the commit pause.
 * Frees g. */
static void net_init(bench_net *net, esg_genesis *g, const char *operator_id, size_t n,
                     const char *commit_ms) {
    assert(n >= 2 && n <= NET_MAX);
    net->n = n;
    snprintf(net->dir, sizeof net->dir, "/tmp/esgbench-XXXXXX");
    if (!mkdtemp(net->dir))
        die("mkdtemp: %s", strerror(errno));
    char path[PATH_MAX], genesis_path[PATH_MAX];
    for (size_t i = 0; i < n; i++) {
        esg_pubkey pk;
        snprintf(path, sizeof path, "%s/v%zu.key", net->dir, i);
        validator_key_new(&pk, path);
        if (esg_genesis_add_validator(g, &pk, 10, operator_id))
            die("cannot add validator %zu", i);
    }
    snprintf(genesis_path, sizeof genesis_path, "%s/genesis.json", net->dir);
    genesis_write(g, genesis_path);
    int p2p_ports[NET_MAX];
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (size_t i = 0; i < n; i++) {
        net_node *nd = &net->nodes[i];
        char err[512] = "";
        snprintf(nd->datadir, sizeof nd->datadir, "%s/n%zu", net->dir, i);
        snprintf(nd->log, sizeof nd->log, "%s/n%zu.log", net->dir, i);
        snprintf(path, sizeof path, "%s/v%zu.key", net->dir, i);
        if (esg_node_init(nd->datadir, genesis_path, path, err, sizeof err))
            die("init of node %zu: %s", i, err);
        conf_append(nd->datadir, CONF_BENCH);
        if (commit_ms) {
            char text[128];
            snprintf(text, sizeof text, "\n[consensus]\ntimeout_commit_ms = %s\n", commit_ms);
            conf_append(nd->datadir, text);
        }
        int api_port = pick_port(false, NULL, 0);
        snprintf(nd->api, sizeof nd->api, "127.0.0.1:%d", api_port);
        snprintf(nd->base, sizeof nd->base, "http://127.0.0.1:%d", api_port);
        p2p_ports[i] = pick_port(true, p2p_ports, i);
        snprintf(nd->p2p, sizeof nd->p2p, "127.0.0.1:%d", p2p_ports[i]);
        net->bases[i] = nd->base;
    }
}

/* Starts every node with every other as a peer (and the heartbeat, if
 * not NULL); returns once each API answers and each node counts all the
 * others as peers (60 s). */
static void net_start(bench_net *net, const char *heartbeat_ms, bool verbose) {
    for (size_t i = 0; i < net->n; i++) {
        const char *peers[NET_MAX];
        size_t k = 0;
        for (size_t j = 0; j < net->n; j++)
            if (j != i)
                peers[k++] = net->nodes[j].p2p;
        net_node *nd = &net->nodes[i];
        nd->pid = node_spawn(nd->datadir, nd->log, nd->api, nd->p2p, peers, k, heartbeat_ms,
                             verbose);
    }
    for (size_t i = 0; i < net->n; i++)
        node_wait_api(net->nodes[i].base, net->nodes[i].pid, net->nodes[i].log);
    double deadline = now_s() + 60;
    for (size_t i = 0; i < net->n; i++)
        while (status_u64(net->nodes[i].base, "peers") < net->n - 1) {
            if (now_s() > deadline)
                die("node %zu has not connected to every peer in 60 s; see %s", i,
                    net->nodes[i].log);
            usleep(50000);
        }
}

/* Waits (60 s) until every node has stored block `height`. */
static void net_wait_height(const bench_net *net, uint64_t height) {
    double deadline = now_s() + 60;
    for (size_t i = 0; i < net->n; i++)
        while (status_u64(net->nodes[i].base, "height") < height) {
            if (now_s() > deadline)
                die("node %zu did not reach height %llu in 60 s; see %s", i,
                    (unsigned long long)height, net->nodes[i].log);
            usleep(10000);
        }
}

static void net_stop(bench_net *net) {
    for (size_t i = 0; i < net->n; i++)
        kill(net->nodes[i].pid, SIGTERM);
    for (size_t i = 0; i < net->n; i++)
        waitpid(net->nodes[i].pid, NULL, 0);
}

static void net_remove(const bench_net *net, bool keep) {
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", net->dir);
    if (keep)
        printf("kept %s (datadirs n0.., node logs n0.log..)\n", net->dir);
    else if (system(cmd) != 0)
        fprintf(stderr, "esgbench: could not remove %s\n", net->dir);
}

/* What one node's /metrics and /proc say at one moment. */
typedef struct node_sample {
    double committed, admitted, rejected, dropped;
    double heights, rounds, step_s[5], apply_s, p2p_out;
    double cpu_s;      /* user + system time of the process, all threads */
    double loop_cpu_s; /* the same, of its main thread (the libuv loop) */
} node_sample;

/* User + system seconds of a process, or of one of its threads (tid). */
static double proc_cpu_s(pid_t pid, pid_t tid) {
    char path[64], buf[1024];
    if (tid)
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    else
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields 14 and 15 (utime, stime), counted after the command name,
     * which may contain spaces but ends at the last ')'. */
    const char *p = strrchr(buf, ')');
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Busy seconds of all CPUs of the machine, from /proc/stat: in tasks
 * (user, nice, system: every process) and in interrupts (irq, softirq:
 * loopback networking and I/O completions, charged to no process). */
static void machine_busy_s(double *tasks, double *irq) {
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    int got = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                         &v[3], &v[4], &v[5], &v[6], &v[7])
                : 0;
    if (f)
        fclose(f);
    double tick = (double)sysconf(_SC_CLK_TCK);
    /* user nice system idle iowait irq softirq steal */
    *tasks = got == 8 ? (double)(v[0] + v[1] + v[2] + v[7]) / tick : 0;
    *irq = got == 8 ? (double)(v[5] + v[6]) / tick : 0;
}

static double self_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void net_sample(const bench_net *net, node_sample *out) {
    static const char *const steps[5] = {"propose", "prevote", "precommit", "commit", "idle"};
    for (size_t i = 0; i < net->n; i++) {
        char url[128], name[96];
        snprintf(url, sizeof url, "%s/metrics", net->nodes[i].base);
        char *t = http_text(url, NULL);
        if (!t)
            die("no /metrics from node %zu", i);
        node_sample *s = &out[i];
        s->committed = metric_value(t, "esg_txs_committed_total");
        s->admitted = metric_value(t, "esg_mempool_admitted_total");
        s->rejected = metric_value(t, "esg_mempool_rejected_total");
        s->dropped = metric_value(t, "esg_mempool_dropped_total");
        s->heights = metric_value(t, "esg_consensus_heights_total");
        s->rounds = metric_value(t, "esg_consensus_rounds_total");
        s->apply_s = metric_value(t, "esg_block_apply_seconds_total");
        s->p2p_out = metric_value(t, "esg_p2p_bytes_out_total");
        for (int k = 0; k < 5; k++) {
            snprintf(name, sizeof name, "esg_consensus_step_seconds_total{step=\"%s\"}", steps[k]);
            s->step_s[k] = metric_value(t, name);
        }
        free(t);
        s->cpu_s = proc_cpu_s(net->nodes[i].pid, 0);
        s->loop_cpu_s = proc_cpu_s(net->nodes[i].pid, net->nodes[i].pid);
    }
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..1] of the n sorted values. */
static double percentile(const double *sorted, size_t n, double p) {
    size_t rank = (size_t)(p * (double)n + 0.999999);
    return sorted[(rank ? rank : 1) - 1];
}

/* Prints the sizes of blocks from+1..to at the node at `base`, how many
 * were decided after round 0, the median gap between block times and
 * when the first and the last were proposed, from t0_ms (wall clock). */
static void blocks_print(const char *base, uint64_t from, uint64_t to, uint64_t t0_ms) {
    if (to <= from)
        return;
    size_t n = (size_t)(to - from), late = 0;
    size_t *sizes = xcalloc(n, sizeof *sizes);
    double *gaps = xcalloc(n, sizeof *gaps);
    uint64_t prev_ms = 0, first_ms = 0;
    for (size_t k = 0; k < n; k++) {
        char url[128];
        snprintf(url, sizeof url, "%s/v1/blocks/%llu", base, (unsigned long long)(from + 1 + k));
        json_t *b = http_json(url);
        if (!b)
            die("no block %llu", (unsigned long long)(from + 1 + k));
        sizes[k] = json_array_size(json_object_get(b, "txs"));
        uint64_t ms = (uint64_t)json_integer_value(
            json_object_get(json_object_get(b, "header"), "time_ms"));
        late += json_integer_value(json_object_get(json_object_get(b, "commit"), "round")) > 0;
        if (k > 0)
            gaps[k - 1] = (double)(ms - prev_ms);
        else
            first_ms = ms;
        prev_ms = ms;
        json_decref(b);
    }
    qsort(sizes, n, sizeof *sizes, cmp_size);
    qsort(gaps, n - 1, sizeof *gaps, cmp_double);
    printf("  blocks %llu..%llu: %zu, txs per block min/median/max %zu/%zu/%zu; %zu decided "
           "after round 0",
           (unsigned long long)from + 1, (unsigned long long)to, n, sizes[0], sizes[n / 2],
           sizes[n - 1], late);
    if (n > 1)
        printf("; median gap between block times %.0f ms", percentile(gaps, n - 1, 0.5));
    printf("; proposed from +%.2f to +%.2f s\n", ((double)first_ms - (double)t0_ms) / 1000,
           ((double)prev_ms - (double)t0_ms) / 1000);
    free(sizes);
    free(gaps);
}

/* Prints each node's height, consensus position and mempool (when a
 * phase did not finish: where the network stands). */
static void net_state_print(const bench_net *net) {
    static const char *const steps[5] = {"propose", "prevote", "precommit", "commit", "idle"};
    for (size_t i = 0; i < net->n; i++) {
        char url[128];
        snprintf(url, sizeof url, "%s/metrics", net->nodes[i].base);
        char *t = http_text(url, NULL);
        unsigned step = (unsigned)metric_value(t, "esg_consensus_step");
        fprintf(stderr,
                "  node%zu: height %.0f, deciding %.0f round %.0f step %s, %.0f txs in the "
                "mempool, %.0f peers\n",
                i, metric_value(t, "esg_height"), metric_value(t, "esg_consensus_height"),
                metric_value(t, "esg_consensus_round"), step < 5 ? steps[step] : "?",
                metric_value(t, "esg_mempool_txs"), metric_value(t, "esg_peers"));
        free(t);
    }
}

/* CPU counters of this process and of the whole machine, to tell how
 * much of a phase's CPU was neither the nodes' nor the benchmark's. */
typedef struct cpu_mark {
    double self_s, tasks_s, irq_s;
} cpu_mark;

static cpu_mark cpu_mark_now(void) {
    cpu_mark m = {self_cpu_s(), 0, 0};
    machine_busy_s(&m.tasks_s, &m.irq_s);
    return m;
}

/* Where a phase's time went, from the nodes' counters before (a) and
 * after (b) it and the CPU marks c0, c1: consensus steps, storing blocks,
 * CPU per process and the nodes' main (loop) threads. */
static void profile_print(const bench_net *net, const node_sample *a, const node_sample *b,
                          cpu_mark c0, cpu_mark c1, double wall, double txs, unsigned cores,
                          double one_core) {
    double n = (double)net->n, heights = 0, rounds = 0, step[5] = {0}, apply = 0, cpu = 0,
           loop = 0, out = 0;
    for (size_t i = 0; i < net->n; i++) {
        heights += b[i].heights - a[i].heights;
        rounds += b[i].rounds - a[i].rounds;
        apply += b[i].apply_s - a[i].apply_s;
        out += b[i].p2p_out - a[i].p2p_out;
        cpu += b[i].cpu_s - a[i].cpu_s;
        loop += b[i].loop_cpu_s - a[i].loop_cpu_s;
        for (int k = 0; k < 5; k++)
            step[k] += b[i].step_s[k] - a[i].step_s[k];
    }
    if (heights > 0)
        printf("  consensus: %.2f rounds per height; mean time per node in propose %.2f, "
               "prevote %.2f, precommit %.2f, commit %.2f, idle %.2f s; storing a decided "
               "block %.1f ms\n",
               rounds / heights, step[0] / n, step[1] / n, step[2] / n, step[3] / n,
               step[4] / n, 1000 * apply / heights);
    double bench = c1.self_s - c0.self_s, irq = c1.irq_s - c0.irq_s;
    double machine = c1.tasks_s - c0.tasks_s + irq, other = c1.tasks_s - c0.tasks_s - cpu - bench;
    printf("  cpu-s in %.2f s (%u cores: %.2f available):", wall, cores, wall * cores);
    for (size_t i = 0; i < net->n; i++)
        printf(" node%zu %.2f,", i, b[i].cpu_s - a[i].cpu_s);
    printf(" esgbench %.2f, interrupts %.2f, other processes %.2f; %.0f %% of the cores busy\n",
           bench, irq, other > 0 ? other : 0, 100 * machine / (wall * cores));
    printf("  nodes' loop threads (consensus, gossip admission, blocks): %.2f cpu-s each "
           "(%.0f %% of the wall time); their other threads (API, waiters, helpers): %.2f each\n",
           loop / n, 100 * loop / n / wall, (cpu - loop) / n);
    if (txs > 0)
        printf("  per committed tx: %.0f us of node CPU (all nodes) = %.1f one-core BIP340 "
               "verifications; %.0f p2p bytes sent\n",
               1e6 * cpu / txs, cpu / txs * one_core, out / txs);
}

/* One open-loop submission of phase 2. */
typedef struct lat_req {
    double t_sched, t_done;
    long code;
    size_t node;
    char body[160]; /* start of the answer, for an error */
    size_t body_len;
} lat_req;

static size_t lat_body(void *p, size_t s, size_t n, void *u) {
    lat_req *q = u;
    size_t room = sizeof q->body - 1 - q->body_len, take = s * n < room ? s * n : room;
    memcpy(q->body + q->body_len, p, take);
    q->body_len += take;
    q->body[q->body_len] = '\0';
    return s * n;
}

typedef struct lat_result {
    size_t n, committed;
    double p50, p99, max;  /* seconds, over the committed ones */
    double rate;           /* submissions per second achieved */
    double max_lag;        /* the latest a submission left after its slot */
    size_t max_inflight;   /* most requests open at one node at once */
    char first_error[220];
} lat_result;

/* The curl multi handle's sockets in an epoll set, and its one timer:
 * a wake-up costs work for the sockets that are ready only, whatever the
 * number of requests waiting for their commit. */
typedef struct lat_loop {
    int ep;
    double timer_at; /* when curl wants CURL_SOCKET_TIMEOUT; 0: never */
} lat_loop;

static int lat_socket(CURL *e, curl_socket_t fd, int what, void *user, void *sockp) {
    (void)e;
    (void)sockp;
    lat_loop *l = user;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.data.fd = fd};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) != 0 &&
        epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
    return 0;
}

static int lat_timer(CURLM *multi, long timeout_ms, void *user) {
    (void)multi;
    lat_loop *l = user;
    l->timer_at = timeout_ms < 0 ? 0 : now_s() + (double)timeout_ms / 1000;
    return 0;
}

/* Submits txs[k] at t0 + k / rate (open loop: whatever the answers do)
 * with POST /v1/txs?wait=commit to node signer % n, all from one thread
 * through a curl multi handle, and returns the latencies: from the
 * submission's slot to its answer (committed: HTTP 200). */
static lat_result latency_run(const bench_net *net, const txlist *txs, double rate) {
    size_t m = txs->n, inflight[NET_MAX] = {0};
    lat_req *req = xcalloc(m, sizeof *req);
    char urls[NET_MAX][96];
    for (size_t i = 0; i < net->n; i++)
        snprintf(urls[i], sizeof urls[i], "%s/v1/txs?wait=commit", net->nodes[i].base);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    hdr = curl_slist_append(hdr, "Expect:");
    lat_loop loop = {epoll_create1(EPOLL_CLOEXEC), 0};
    if (loop.ep < 0)
        die("epoll_create1: %s", strerror(errno));
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 4096L);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, lat_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, &loop);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, lat_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, &loop);
    lat_result r = {.n = m};
    double t0 = now_s() + 0.01, first = 0, last = 0;
    size_t next = 0, done = 0;
    int running = 0;
    while (done < m) {
        double t = now_s();
        for (; next < m && t0 + (double)next / rate <= t; next++) {
            lat_req *q = &req[next];
            q->t_sched = t0 + (double)next / rate;
            if (t - q->t_sched > r.max_lag)
                r.max_lag = t - q->t_sched;
            q->node = txs->v[next].signer % net->n;
            CURL *h = curl_easy_init();
            if (!h)
                die("curl_easy_init failed");
            curl_easy_setopt(h, CURLOPT_URL, urls[q->node]);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, txs->v[next].p);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)txs->v[next].n);
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, lat_body);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
            curl_easy_setopt(h, CURLOPT_PRIVATE, q);
            curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
            curl_multi_add_handle(multi, h);
            if (++inflight[q->node] > r.max_inflight)
                r.max_inflight = inflight[q->node];
            if (next == 0)
                first = t;
            last = t;
        }
        if (loop.timer_at && loop.timer_at <= now_s()) {
            loop.timer_at = 0;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            lat_req *q = NULL;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&q);
            q->t_done = now_s();
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->code);
            else if (!q->body_len)
                snprintf(q->body, sizeof q->body, "%s", curl_easy_strerror(msg->data.result));
            inflight[q->node]--;
            done++;
            curl_multi_remove_handle(multi, h);
            curl_easy_cleanup(h);
        }
        if (done == m)
            break;
        /* Sleep until the next slot or curl's timer (rounded up to a
         * millisecond), or until a socket is ready. */
        double wake = now_s() + 0.1;
        if (next < m && t0 + (double)next / rate < wake)
            wake = t0 + (double)next / rate;
        if (loop.timer_at && loop.timer_at < wake)
            wake = loop.timer_at;
        double dt = wake - now_s();
        int wait_ms = dt <= 0 ? 0 : (int)(dt * 1000) + 1;
        struct epoll_event ev[64];
        int k = epoll_wait(loop.ep, ev, 64, wait_ms);
        for (int i = 0; i < k; i++) {
            int flags = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                        (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                        (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(multi, ev[i].data.fd, flags, &running);
        }
    }
    curl_multi_cleanup(multi);
    close(loop.ep);
    curl_slist_free_all(hdr);
    r.rate = m > 1 && last > first ? (double)(m - 1) / (last - first) : rate;
    double *lat = xcalloc(m, sizeof *lat);
    for (size_t k = 0; k < m; k++) {
        if (req[k].code == 200)
            lat[r.committed++] = req[k].t_done - req[k].t_sched;
        else if (!r.first_error[0])
            snprintf(r.first_error, sizeof r.first_error, "HTTP %ld %s", req[k].code,
                     req[k].body);
    }
    if (r.committed) {
        qsort(lat, r.committed, sizeof *lat, cmp_double);
        r.p50 = percentile(lat, r.committed, 0.50);
        r.p99 = percentile(lat, r.committed, 0.99);
        r.max = lat[r.committed - 1];
    }
    free(lat);
    free(req);
    return r;
}

/* The network benchmark (governance mix): phase 1 finalized tx/s, phase 2
 * finality latency at a quarter of that rate; each next to the bound. */
static void net_main(size_t n_val, size_t n_txs, size_t n_signers, unsigned n_clients,
                     double lat_seconds, double lat_rate, const char *heartbeat_ms,
                     const char *commit_ms, bool keep, unsigned cores, double one, double all) {
    double bound = all / (double)n_val;
    printf("network_bound_tx_per_s      %10.0f   (all cores / %zu validators: each node "
           "verifies each tx once)\n",
           bound, n_val);
    workload w = {0};
    build_governance(&w, n_txs, n_signers, true);
    bench_net net;
    net_init(&net, w.g, w.validator_operator, n_val, commit_ms);
    w.g = NULL;
    net_start(&net, heartbeat_ms, keep);
    printf("%zu validators on 127.0.0.1 (equal power, fully meshed, heartbeat %s ms, commit "
           "pause %s ms); data in %s\n",
           net.n, heartbeat_ms ? heartbeat_ms : "0", commit_ms ? commit_ms : "default",
           net.dir);
    for (size_t i = 0; i < w.n_stages; i++)
        run_setup_stage(net.bases, net.n, &w.stages[i], n_clients);
    net_wait_height(&net, status_u64(net.bases[0], "height"));

    /* Phase 1: throughput. */
    node_sample a[NET_MAX], b[NET_MAX];
    uint64_t h0 = status_u64(net.bases[0], "height");
    net_sample(&net, a);
    cpu_mark c0 = cpu_mark_now();
    stream_result r = stream_run(net.bases, net.n, &w.timed, n_clients);
    cpu_mark c1 = cpu_mark_now();
    net_sample(&net, b);
    uint64_t h1 = status_u64(net.bases[0], "height");
    double tps = (double)r.committed / r.t_commit;
    printf("phase 1: %zu txs POSTed to %zu nodes round-robin by %u clients in %.2f s (%zu "
           "rejected); node 0 committed %llu in %.2f s",
           w.timed.n, net.n, n_clients, r.t_submit, r.rejected,
           (unsigned long long)r.committed, r.t_commit);
    if (r.dropped)
        printf(" (%llu dropped)", (unsigned long long)r.dropped);
    printf("\n");
    blocks_print(net.bases[0], h0, h1, r.t0_wall_ms);
    profile_print(&net, a, b, c0, c1, r.t_commit, (double)r.committed, cores, one);
    printf("net_finalized_tx_per_s      %10.0f   (%.2f of the network bound)\n", tps,
           tps / bound);
    if (r.rejected || r.committed != w.timed.n) {
        fprintf(stderr, "esgbench: phase 1 stalled; the nodes now:\n");
        net_state_print(&net);
        die("phase 1 did not commit every transaction (%llu of %zu); logs in %s",
            (unsigned long long)r.committed, w.timed.n, net.dir);
    }
    net_wait_height(&net, h1);

    /* Phase 2: latency at a quarter of that rate (or lat_rate), open loop. */
    double rate = lat_rate > 0 ? lat_rate : tps / 4;
    size_t m = (size_t)(rate * lat_seconds + 0.5);
    if (m < 1)
        m = 1;
    txlist lat = {0};
    for (size_t k = 0; k < m; k++)
        sign_add_account(&lat, w.signers, k % w.n_signers);
    h0 = h1;
    net_sample(&net, a);
    c0 = cpu_mark_now();
    double t0 = now_s();
    uint64_t t0_ms = wall_ms();
    lat_result lr = latency_run(&net, &lat, rate);
    double wall = now_s() - t0;
    c1 = cpu_mark_now();
    net_sample(&net, b);
    h1 = status_u64(net.bases[0], "height");
    printf("phase 2: %zu txs, one every %.2f ms (%.0f tx/s achieved, latest send %.1f ms "
           "after its slot), POST ?wait=commit to node signer %% %zu; %zu committed, at most "
           "%zu waiting at one node (the API has %d waiter threads)\n",
           m, 1000 / rate, lr.rate, 1000 * lr.max_lag, net.n, lr.committed, lr.max_inflight,
           ESG_API_MAX_WAITERS);
    if (lr.first_error[0])
        fprintf(stderr, "esgbench: phase 2: first failure: %s\n", lr.first_error);
    blocks_print(net.bases[0], h0, h1, t0_ms);
    profile_print(&net, a, b, c0, c1, wall, (double)lr.committed, cores, one);
    printf("net_latency_load_tx_per_s   %10.0f   (%.2f of the network bound; %s)\n", rate,
           rate / bound, lat_rate > 0 ? "--latency-rate" : "a quarter of phase 1");
    printf("net_latency_p50_ms          %10.0f\n", 1000 * lr.p50);
    printf("net_latency_p99_ms          %10.0f   (max %.0f ms; %zu of %zu committed)\n",
           1000 * lr.p99, 1000 * lr.max, lr.committed, m);

    net_stop(&net);
    net_remove(&net, keep);
    txlist_release(&lat);
    workload_release(&w);
}

/* ----------------------------------------------------------------- main */

int main(int argc, char **argv) {
    size_t n_txs = 20000, n_signers = 64, n_investors = 48, n_verifiers = 4;
    unsigned n_clients = 8;
    double seconds = 3;
    const char *mix = "governance";
    size_t n_validators = 1;
    double lat_seconds = 10, lat_rate = 0; /* 0: a quarter of the measured throughput */
    /* A network's heartbeat and commit pause: NULL, the nodes' defaults. */
    const char *heartbeat_ms = NULL, *commit_ms = NULL;
    bool keep = false; /* keep the datadir and the node's log (info level) */
    static const struct option opts[] = {{"mix", required_argument, NULL, 'm'},
                                         {"txs", required_argument, NULL, 't'},
                                         {"signers", required_argument, NULL, 's'},
                                         {"investors", required_argument, NULL, 'i'},
                                         {"verifiers", required_argument, NULL, 'v'},
                                         {"clients", required_argument, NULL, 'c'},
                                         {"seconds", required_argument, NULL, 'S'},
                                         {"validators", required_argument, NULL, 'V'},
                                         {"latency-seconds", required_argument, NULL, 'L'},
                                         {"heartbeat-ms", required_argument, NULL, 'H'},
                                         {"latency-rate", required_argument, NULL, 'R'},
                                         {"timeout-commit-ms", required_argument, NULL, 'C'},
                                         {"keep", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'}, {0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'm': mix = optarg; break;
        case 't': n_txs = strtoull(optarg, NULL, 10); break;
        case 's': n_signers = strtoull(optarg, NULL, 10); break;
        case 'i': n_investors = strtoull(optarg, NULL, 10); break;
        case 'v': n_verifiers = strtoull(optarg, NULL, 10); break;
        case 'c': n_clients = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S': seconds = atof(optarg); break;
        case 'V': n_validators = strtoull(optarg, NULL, 10); break;
        case 'L': lat_seconds = atof(optarg); break;
        case 'H': heartbeat_ms = optarg; break;
        case 'R': lat_rate = atof(optarg); break;
        case 'C': commit_ms = optarg; break;
        case 'k': keep = true; break;
        default:
            printf("usage: esgbench [--mix governance|domain] [--txs N] [--clients C] "
                   "[--seconds S]\n"
                   "                [--signers K] (governance) [--investors K] [--verifiers V] "
                   "(domain) [--keep]\n"
                   "                [--validators V [--latency-seconds S] [--latency-rate R]\n"
                   "                 [--heartbeat-ms N] [--timeout-commit-ms N]] (governance)\n");
            return o == 'h' ? 0 : 2;
        }
    }
    bool domain_mix = strcmp(mix, "domain") == 0;
    if (!domain_mix && strcmp(mix, "governance") != 0)
        die("--mix is governance or domain, got '%s'", mix);
    if (!n_txs || !n_signers || n_signers > 1000 || !n_clients || n_clients > 64 ||
        n_investors < 2 || n_investors > 999 || !n_verifiers || n_verifiers > 99)
        die("--txs >= 1, --signers 1..1000, --clients 1..64, --investors 2..999, "
            "--verifiers 1..99");
    if (!n_validators || n_validators > NET_MAX || !(lat_seconds > 0 && lat_seconds <= 600) ||
        !(lat_rate >= 0 && lat_rate <= 100000))
        die("--validators 1..%d, --latency-seconds (0, 600], --latency-rate 0..100000", NET_MAX);
    if (n_validators > 1 && domain_mix)
        die("--validators runs the governance mix only");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cores = ncpu > 0 && ncpu <= 64 ? (unsigned)ncpu : 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);

    /* 1. The bound. */
    double one, all = measure_bound(&one, cores, seconds);
    if (n_validators > 1) {
        net_main(n_validators, n_txs, n_signers, n_clients, lat_seconds, lat_rate, heartbeat_ms,
                 commit_ms, keep, cores, one, all);
        curl_global_cleanup();
        return 0;
    }

    /* 2. A real node, a fresh chain, the setup, then the timed stream. */
    workload w = {0};
    if (domain_mix)
        build_domain(&w, n_txs, n_investors, n_verifiers);
    else
        build_governance(&w, n_txs, n_signers, false);
    bench_node nd;
    node_init(&nd, w.g, w.validator_operator);
    node_start(&nd, keep);
    const char *bases[1] = {nd.base};
    for (size_t i = 0; i < w.n_stages; i++)
        run_setup_stage(bases, 1, &w.stages[i], n_clients);
    uint64_t height0 = status_u64(nd.base, "height");
    stream_result r = stream_run(bases, 1, &w.timed, n_clients);
    uint64_t height = status_u64(nd.base, "height");
    node_stop(&nd);
    double tps = (double)r.committed / r.t_commit;
    printf("submitted %zu txs in %.2f s (%zu rejected); committed %llu in %.2f s over %llu blocks",
           w.timed.n, r.t_submit, r.rejected, (unsigned long long)r.committed, r.t_commit,
           (unsigned long long)(height - height0));
    if (r.dropped)
        printf(" (%llu dropped)", (unsigned long long)r.dropped);
    printf("\nnode_committed_tx_per_s     %10.0f   (%.2f of the all-cores bound)\n", tps, tps / all);

    /* 3. Replay. */
    esg_replay_result res;
    FILE *devnull = fopen("/dev/null", "w");
    if (esg_verify_chain(nd.datadir, cores, devnull, NULL, &res))
        die("verify-chain failed at height %llu", (unsigned long long)res.bad_height);
    fclose(devnull);
    double vtps = (double)res.n_txs / res.seconds;
    printf("verify_chain_tx_per_s       %10.0f   (%.2f of the all-cores bound; %llu txs in %.2f s%s)\n",
           vtps, vtps / all, (unsigned long long)res.n_txs, res.seconds, w.replay_note);

    node_remove(&nd, keep);
    workload_release(&w);
    curl_global_cleanup();
    return 0;
}
