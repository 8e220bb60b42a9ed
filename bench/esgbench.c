/* esgbench: throughput against the machine's own bound (DESIGN.md §12).
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
 * much less. This is a benchmark, not a test: no figure is checked. */
#include <assert.h>
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

#define BENCH_CHAIN_ID "esg-bench-1"
#define BENCH_GENESIS_MS 1767225600000ull /* 2026-01-01T00:00:00Z */
#define BENCH_MAX_COSIGNERS 9              /* a joint issue: the other co-issuers */

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

/* Measures and prints the bound; returns the all-cores rate. */
static double measure_bound(unsigned cores, double seconds) {
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

/* Transactions committed and dropped from blocks so far, from /metrics. */
static void tx_counters(const char *base, uint64_t *committed, uint64_t *dropped) {
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
    const char *keys[2] = {"\nesg_txs_committed_total ", "\nesg_mempool_dropped_total "};
    uint64_t *vals[2] = {committed, dropped};
    for (int i = 0; i < 2; i++) {
        char *at = rc == CURLE_OK && buf ? strstr(buf, keys[i]) : NULL;
        *vals[i] = at ? strtoull(at + strlen(keys[i]), NULL, 10) : 0;
    }
    free(buf);
}

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
    esg_seckey vsk;
    esg_pubkey vpk;
    esg_key_generate(&vsk, &vpk);
    if (esg_keyfile_write(key_path, &vsk))
        die("cannot write %s", key_path);
    esg_seckey_wipe(&vsk);
    esg_genesis_add_validator(g, &vpk, 10, operator_id);
    g->params.max_block_txs = 10000;
    char err[512] = "";
    char *json;
    size_t jlen;
    if (esg_genesis_validate(g, err, sizeof err) || esg_genesis_to_json(g, &json, &jlen))
        die("genesis: %s", err);
    FILE *f = fopen(genesis_path, "w");
    if (!f || fwrite(json, 1, jlen, f) != jlen || fclose(f))
        die("cannot write %s", genesis_path);
    free(json);
    esg_genesis_free(g);
    if (esg_node_init(nd->datadir, genesis_path, key_path, err, sizeof err))
        die("init: %s", err);
}

/* Starts the esgnode next to this binary on the datadir and waits until
 * its API answers. */
static void node_start(bench_node *nd, bool verbose) {
    char api[64], exe[PATH_MAX];
    snprintf(api, sizeof api, "127.0.0.1:%d", free_port());
    snprintf(nd->base, sizeof nd->base, "http://%s", api);
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (el <= 0)
        die("cannot find my own path");
    exe[el] = '\0';
    char *slash = strrchr(exe, '/');
    snprintf(slash + 1, (size_t)(exe + sizeof exe - slash - 1), "esgnode");
    nd->pid = fork();
    if (nd->pid == 0) {
        if (!freopen(nd->log, "w", stderr))
            _exit(126);
        execl(exe, "esgnode", "run", "--datadir", nd->datadir, "--api", api, "--log-level",
              verbose ? "info" : "warn", (char *)NULL);
        _exit(127);
    }
    char url[128];
    snprintf(url, sizeof url, "%s/v1/status", nd->base);
    for (int i = 0; i < 600; i++) {
        json_t *probe = http_json(url);
        if (probe) {
            json_decref(probe);
            return;
        }
        usleep(100000);
    }
    die("esgnode did not start; see %s", nd->log);
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
} stream_result;

/* POSTs every transaction of `txs` to the node at `base` from n_clients
 * threads (signer s always through client s % n_clients, so its nonces
 * arrive in order) and waits until each admitted one is committed or
 * dropped (at most 300 s). */
static stream_result stream_run(const char *base, const txlist *txs, unsigned n_clients) {
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
    for (unsigned c = 0; c < n_clients; c++) {
        cl[c].url = base;
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
    double deadline = now_s() + 300;
    do {
        tx_counters(base, &committed, &dropped);
        if (committed - committed0 + dropped - dropped0 >= want)
            break;
        usleep(2000);
    } while (now_s() < deadline);
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

/* Governance mix: n_signers CITY members; signer k % n_signers adds an
 * OFFICER account to its member with each transaction. */
static void build_governance(workload *w, size_t n_txs, size_t n_signers) {
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
    esg_pb_role roles[1] = {ESG_ROLE_OFFICER};
    for (size_t k = 0; k < n_txs; k++) {
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
        txlist_sign(&w->timed, w->signers, k % n_signers, &body, NULL, 0);
    }
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

/* ----------------------------------------------------------------- main */

static void run_setup_stage(const char *base, const txlist *stage, unsigned n_clients) {
    stream_result r = stream_run(base, stage, n_clients);
    if (r.rejected || r.dropped || r.committed != stage->n)
        die("setup: %zu transactions, %zu rejected, %llu dropped, %llu committed", stage->n,
            r.rejected, (unsigned long long)r.dropped, (unsigned long long)r.committed);
}

int main(int argc, char **argv) {
    size_t n_txs = 20000, n_signers = 64, n_investors = 48, n_verifiers = 4;
    unsigned n_clients = 8;
    double seconds = 3;
    const char *mix = "governance";
    bool keep = false; /* keep the datadir and the node's log (info level) */
    static const struct option opts[] = {{"mix", required_argument, NULL, 'm'},
                                         {"txs", required_argument, NULL, 't'},
                                         {"signers", required_argument, NULL, 's'},
                                         {"investors", required_argument, NULL, 'i'},
                                         {"verifiers", required_argument, NULL, 'v'},
                                         {"clients", required_argument, NULL, 'c'},
                                         {"seconds", required_argument, NULL, 'S'},
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
        case 'k': keep = true; break;
        default:
            printf("usage: esgbench [--mix governance|domain] [--txs N] [--clients C] "
                   "[--seconds S]\n"
                   "                [--signers K] (governance) [--investors K] [--verifiers V] "
                   "(domain) [--keep]\n");
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
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cores = ncpu > 0 && ncpu <= 64 ? (unsigned)ncpu : 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);

    /* 1. The bound. */
    double all = measure_bound(cores, seconds);

    /* 2. A real node, a fresh chain, the setup, then the timed stream. */
    workload w = {0};
    if (domain_mix)
        build_domain(&w, n_txs, n_investors, n_verifiers);
    else
        build_governance(&w, n_txs, n_signers);
    bench_node nd;
    node_init(&nd, w.g, w.validator_operator);
    node_start(&nd, keep);
    for (size_t i = 0; i < w.n_stages; i++)
        run_setup_stage(nd.base, &w.stages[i], n_clients);
    uint64_t height0 = status_u64(nd.base, "height");
    stream_result r = stream_run(nd.base, &w.timed, n_clients);
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
    if (esg_verify_chain(nd.datadir, cores, devnull, &res))
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
