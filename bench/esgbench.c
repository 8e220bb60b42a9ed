/* esgbench: throughput against the machine's own bound (DESIGN.md §12).
 *
 *   esgbench [--txs N] [--signers K] [--seconds S] [--clients C]
 *
 * 1. BIP340 verifications per second on one core and on all cores: the
 *    bound, since signature verification is ~98 % of a transaction's CPU.
 * 2. Single-node committed tx/s: a real esgnode process (next to this
 *    binary) on a fresh datadir; N pre-signed transactions (AddAccount from
 *    K signers, so admission runs in parallel) are POSTed over the API by C
 *    client threads; the clock runs from the first POST to the block that
 *    commits the last one.
 * 3. verify-chain tx/s: the chain just made, replayed from genesis.
 * Each figure is printed as a ratio to the all-cores verification rate
 * measured in the same run: wall times on shared machines swing, ratios
 * much less. This is a benchmark, not a test: it asserts nothing. */
#include <curl/curl.h>
#include <stdarg.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/txbuild.h"
#include "node/node.h"
#include "node/verify_chain.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* ----------------------------------------------------------- submissions */

typedef struct blob { uint8_t *p; size_t n; } blob;

typedef struct client {
    const char *url;
    blob *txs;          /* this client's transactions, in nonce order per signer */
    size_t n;
    size_t rejected;
    char first_error[256];
} client;

static size_t sink(void *p, size_t s, size_t n, void *u) {
    (void)p; (void)u;
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
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    for (size_t i = 0; i < c->n; i++) {
        for (int attempt = 0;; attempt++) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->txs[i].p);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->txs[i].n);
            long code = 0;
            if (curl_easy_perform(h) == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
            if (code == 202 || code == 200)
                break;
            if (code == 503 && attempt < 1000) { /* mempool full: back off */
                usleep(2000);
                continue;
            }
            if (!c->first_error[0])
                snprintf(c->first_error, sizeof c->first_error, "HTTP %ld", code);
            c->rejected++;
            break;
        }
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return NULL;
}

static json_t *http_json(const char *url) {
    CURL *h = curl_easy_init();
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    fclose(mem);
    json_t *j = rc == CURLE_OK ? json_loadb(buf, len, 0, NULL) : NULL;
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

/* Committed transactions so far, from /metrics. */
static uint64_t committed_txs(const char *base) {
    CURL *h = curl_easy_init();
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    char url[256];
    snprintf(url, sizeof url, "%s/metrics", base);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    fclose(mem);
    uint64_t v = 0;
    const char *key = "\nesg_txs_committed_total ";
    char *at = rc == CURLE_OK && buf ? strstr(buf, key) : NULL;
    if (at)
        v = strtoull(at + strlen(key), NULL, 10);
    free(buf);
    return v;
}

static int free_port(void) {
    /* Ask the kernel: bind port 0, read it back, release it. */
    FILE *p = popen("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); "
                    "print(s.getsockname()[1])'", "r");
    int port = 0;
    if (!p || fscanf(p, "%d", &port) != 1)
        die("cannot pick a free port");
    pclose(p);
    return port;
}

int main(int argc, char **argv) {
    size_t n_txs = 20000, n_signers = 64;
    unsigned n_clients = 8;
    double seconds = 3;
    bool keep = false; /* keep the datadir and the node's log (info level) */
    static const struct option opts[] = {{"txs", required_argument, NULL, 't'},
                                         {"signers", required_argument, NULL, 's'},
                                         {"clients", required_argument, NULL, 'c'},
                                         {"seconds", required_argument, NULL, 'S'},
                                         {"keep", no_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'}, {0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 't': n_txs = strtoull(optarg, NULL, 10); break;
        case 's': n_signers = strtoull(optarg, NULL, 10); break;
        case 'c': n_clients = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S': seconds = atof(optarg); break;
        case 'k': keep = true; break;
        default:
            printf("usage: esgbench [--txs N] [--signers K] [--clients C] [--seconds S] [--keep]\n");
            return o == 'h' ? 0 : 2;
        }
    }
    if (!n_txs || !n_signers || n_signers > 1000 || !n_clients || n_clients > 64)
        die("--txs >= 1, --signers 1..1000, --clients 1..64");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cores = ncpu > 0 && ncpu <= 64 ? (unsigned)ncpu : 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);

    /* 1. The bound. */
    sigcase *cases = calloc(SIGSET, sizeof *cases);
    for (int i = 0; i < SIGSET; i++) {
        esg_seckey sk;
        esg_key_generate(&sk, &cases[i].pk);
        cases[i].msg = esg_sha256(&i, sizeof i);
        esg_sign(&cases[i].sig, &sk, &cases[i].msg);
    }
    double one = verify_rate(cases, 1, seconds);
    double all = verify_rate(cases, cores, seconds);
    printf("bip340_verify_per_s_1core   %10.0f\n", one);
    printf("bip340_verify_per_s_%ucores  %10.0f   (bound; %.2fx one core)\n", cores, all, all / one);
    free(cases);

    /* 2. A real node, a fresh chain. */
    char dir[] = "/tmp/esgbench-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp: %s", strerror(errno));
    char path[PATH_MAX], genesis_path[PATH_MAX], key_path[PATH_MAX], datadir[PATH_MAX];
    snprintf(key_path, sizeof key_path, "%s/validator.key", dir);
    snprintf(genesis_path, sizeof genesis_path, "%s/genesis.json", dir);
    snprintf(datadir, sizeof datadir, "%s/node", dir);
    esg_seckey vsk;
    esg_pubkey vpk;
    esg_key_generate(&vsk, &vpk);
    if (esg_keyfile_write(key_path, &vsk))
        die("cannot write %s", key_path);
    esg_genesis *g = esg_genesis_new("esg-bench-1", 1767225600000ull);
    esg_seckey *signers = calloc(n_signers, sizeof *signers);
    for (size_t i = 0; i < n_signers; i++) {
        esg_pubkey pk;
        char id[41];
        esg_key_generate(&signers[i], &pk);
        snprintf(id, sizeof id, "city-%03zu", i);
        esg_genesis_add_member(g, id, ESG_KIND_CITY, id, "", &pk);
    }
    esg_genesis_add_validator(g, &vpk, 10, "city-000");
    g->params.max_block_txs = 10000;
    char err[512];
    char *json;
    size_t jlen;
    if (esg_genesis_validate(g, err, sizeof err) || esg_genesis_to_json(g, &json, &jlen))
        die("genesis: %s", err);
    FILE *f = fopen(genesis_path, "w");
    fwrite(json, 1, jlen, f);
    fclose(f);
    free(json);
    esg_genesis_free(g);
    if (esg_node_init(datadir, genesis_path, key_path, err, sizeof err))
        die("init: %s", err);

    /* Pre-sign: signer i adds accounts with nonces 1, 2, ... */
    printf("signing %zu transactions from %zu signers...\n", n_txs, n_signers);
    blob *txs = calloc(n_txs, sizeof *txs);
    for (size_t k = 0; k < n_txs; k++) {
        size_t s = k % n_signers;
        esg_pubkey signer_pk, new_pk;
        esg_seckey new_sk;
        esg_key_pubkey(&signer_pk, &signers[s]);
        esg_key_generate(&new_sk, &new_pk);
        esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
        esg_pb_role roles[1] = {ESG_ROLE_OFFICER};
        aa.pubkey = (ProtobufCBinaryData){32, new_pk.b};
        aa.n_roles = 1;
        aa.roles = roles;
        esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
        body.chain_id = "esg-bench-1";
        body.nonce = k / n_signers + 1;
        body.signer = (ProtobufCBinaryData){32, signer_pk.b};
        body.action_case = ESG_ACTION_ADD_ACCOUNT;
        body.add_account = &aa;
        if (esg_txb_sign_body(&txs[k].p, &txs[k].n, &body, &signers[s], 1))
            die("signing failed");
    }

    int port = free_port();
    char api[64], base[96], exe[PATH_MAX];
    snprintf(api, sizeof api, "127.0.0.1:%d", port);
    snprintf(base, sizeof base, "http://%s", api);
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (el <= 0)
        die("cannot find my own path");
    exe[el] = '\0';
    char *slash = strrchr(exe, '/');
    snprintf(slash + 1, (size_t)(exe + sizeof exe - slash - 1), "esgnode");
    snprintf(path, sizeof path, "%s/esgnode.log", dir);
    pid_t pid = fork();
    if (pid == 0) {
        freopen(path, "w", stderr);
        execl(exe, "esgnode", "run", "--datadir", datadir, "--api", api, "--log-level", keep ? "info" : "warn",
              (char *)NULL);
        _exit(127);
    }
    json_t *probe = NULL;
    for (int i = 0; i < 600; i++) {
        char u[128];
        snprintf(u, sizeof u, "%s/v1/status", base);
        if ((probe = http_json(u)))
            break;
        usleep(100000);
    }
    if (!probe)
        die("esgnode did not start; see %s", path);
    json_decref(probe);

    client *cl = calloc(n_clients, sizeof *cl);
    /* Signer s always goes to client s % C, so its nonces arrive in order. */
    blob **per = calloc(n_clients, sizeof *per);
    size_t *cnt = calloc(n_clients, sizeof *cnt);
    for (unsigned c = 0; c < n_clients; c++)
        per[c] = calloc(n_txs, sizeof **per);
    for (size_t k = 0; k < n_txs; k++) {
        unsigned c = (unsigned)((k % n_signers) % n_clients);
        per[c][cnt[c]++] = txs[k];
    }
    pthread_t th[64];
    uint64_t before = committed_txs(base);
    double t0 = now_s();
    for (unsigned c = 0; c < n_clients; c++) {
        cl[c] = (client){base, per[c], cnt[c], 0, ""};
        pthread_create(&th[c], NULL, client_run, &cl[c]);
    }
    size_t rejected = 0;
    for (unsigned c = 0; c < n_clients; c++) {
        pthread_join(th[c], NULL);
        rejected += cl[c].rejected;
        if (cl[c].first_error[0])
            fprintf(stderr, "client %u: first rejection: %s\n", c, cl[c].first_error);
    }
    double t_sub = now_s() - t0;
    uint64_t want = before + n_txs - rejected, got = 0;
    double deadline = now_s() + 300;
    while ((got = committed_txs(base)) < want && now_s() < deadline)
        usleep(2000);
    double t_commit = now_s() - t0;
    uint64_t height = status_u64(base, "height");
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    double tps = (double)(got - before) / t_commit;
    printf("submitted %zu txs in %.2f s (%zu rejected); committed %llu in %.2f s over %llu blocks\n",
           n_txs, t_sub, rejected, (unsigned long long)(got - before), t_commit,
           (unsigned long long)height);
    printf("node_committed_tx_per_s     %10.0f   (%.2f of the all-cores bound)\n", tps, tps / all);

    /* 3. Replay. */
    esg_replay_result res;
    FILE *devnull = fopen("/dev/null", "w");
    if (esg_verify_chain(datadir, cores, devnull, &res))
        die("verify-chain failed at height %llu", (unsigned long long)res.bad_height);
    fclose(devnull);
    double vtps = (double)res.n_txs / res.seconds;
    printf("verify_chain_tx_per_s       %10.0f   (%.2f of the all-cores bound; %llu txs in %.2f s)\n",
           vtps, vtps / all, (unsigned long long)res.n_txs, res.seconds);

    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (keep)
        printf("kept %s (node log: %s/esgnode.log)\n", dir, dir);
    else if (system(cmd) != 0)
        fprintf(stderr, "esgbench: could not remove %s\n", dir);
    for (size_t k = 0; k < n_txs; k++)
        free(txs[k].p);
    free(txs);
    for (unsigned c = 0; c < n_clients; c++)
        free(per[c]);
    free(per);
    free(cnt);
    free(cl);
    free(signers);
    curl_global_cleanup();
    return 0;
}
