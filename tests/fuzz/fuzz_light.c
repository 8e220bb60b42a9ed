/* Fuzz target: the light client of `esgwallet impact verify REPORT
 * --genesis FILE` (wallet/cli_audit.c: verify_proof, verify_header,
 * trust_follow, the counting rule, both printers), with a node that lies.
 *
 * The wallet runs in-process (esgw_cli_run_transport) and its requests go
 * to a fake node through the client's transport hook (wallet/client.h),
 * which answers from recordings of a real node and changes them as the
 * input says. Everything after the transport -- the client's status, size
 * and error-document handling, the JSON parsing, the proofs -- is the
 * code esgwallet runs.
 *
 * The recordings are made once per process, in a private directory
 * (fuzz_util.h): a real chain built with the real executor and contracts
 * (keys K_i: secret = SHA-256("esg-fuzz-light key " i); every signature
 * made with fixed aux randomness, so the chain is the same bytes in every
 * process), served by the real API (node/api.h) on 127.0.0.1 and fetched
 * with libcurl -- at three heights, snapshots A, A' and B:
 *   genesis  city-a (CITY, K5), ver-1 and ver-2 (VERIFIER, K6 and K7,
 *            accredited for climate); validator V1 = K0, power 10; chain
 *            esg-fuzz-light
 *   h1  RegisterProject P-1; ReportImpact R1 (ghg_avoided_tco2e, 1500.000,
 *       2026-01-01..10); AttestImpact A1 by ver-1 (CONFIRMED, 1400.000)
 *   h2  AddValidator V2 = K1, power 1 (executes: one city)
 *   h3  AttestImpact A2 by ver-2 (QUALIFIED, 1450.000); announces {V1, V2}
 *   h4  empty, committed by V1 and V2 (in force from 4)   <- snapshot A
 *   h5  RevokeAttestation A1 (committed by V1 alone, 10 of 11)  <- A'
 *   h6  ReportImpact R2 superseding R1 (1550.000); AttestImpact A3 by
 *       ver-1 (CONFIRMED, 1500.000)
 *   h7  AddValidator V3 = K2, power 1
 *   h8  empty; announces {V1, V2, V3}
 *   h9  empty, committed by V1, V2, V3 (in force from 9)  <- snapshot B
 * Each snapshot holds the node's answers to every request the walk makes
 * and a few more: /v1/validators/changes, /v1/blocks/{1..10},
 * /v1/validators?height={1..11}, and the state proofs of R1, R2, X (no
 * record), A1 in the reports table and of A1, A2, A3 in the attestations
 * table. K3 (OUT) is in no validator set; K4 is the validator of a second
 * genesis file ("other"), which nothing ever signs with.
 * The honest outcome of every (report, snapshot, --json, genesis) is
 * computed at setup by running the wallet without changes, and checked
 * against what the chain is (R1 counts 1400.000 at A, 1450.000 at A' --
 * A1 revoked -- and is superseded at B; R2 is proven absent at A and A'
 * and counts 1500.000 at B; nothing verifies against the other genesis).
 * A' has the validator set of A, so answers of A and A' mixed in one run
 * make the wallet fetch them all again (proofs of two heights) and still
 * succeed; B has another set.
 *
 * Input layout:
 *   flags  bits 0-1: the report: R1, R2, X, A1's id; bit 2: --json;
 *          bits 3-4: the snapshot the node answers from (A, A', B, A);
 *          bit 5: the other genesis file
 *   then up to 64 operations, each [req][kind][a0][a1][a2][a3] -- except
 *   RAW, [req][kind][len][len bytes] -- that change the answer to request
 *   number req & 31 of the run (0 is the first), in input order:
 *     kind % 16:
 *     0 SNAP    answer from snapshot a0 % 3
 *     1 STATUS  status {200,201,204,302,400,404,500,199}[a0 % 8]; a1 % 4:
 *               keep the body, an error document (code ERRS[a2], message
 *               MSGS[a3]), no body, an error whose code is not a string
 *     2 RAW     the body is the next len bytes
 *     3 TRUNC   the body cut at (a0 a1) % (length + 1)
 *     4 FLIP    bit a2 % 8 of body byte (a0 a1) % length flipped
 *     5 JSET    JSON node (a0 a1) % n (depth-first, the root is 0) set to
 *               a value of kind a2 % 10 with parameter a3 (set_value)
 *     6 JDEL    JSON node (a0 a1) % n removed from its object or array
 *     7 HEX     hex string a0 % n changed as bytes, a1 % 8 (hex_mutate)
 *     8 HEADER  the top-level header's raw bytes decoded, field a1 % 12
 *               changed by a2 (header_mutate), re-encoded; the commit then
 *               re-signed for the new hash by a3 % 6: kept, OUT, V2,
 *               V2+V3, V3+OUT, V2 twice -- never by V1, whose signature
 *               alone is enough
 *     9 COMMIT  the top-level commit's raw bytes decoded, changed a1 % 10
 *               with a2, a3 (commit_mutate), re-encoded
 *     10 SWAP   the answer replaced by recorded answer (a0 a1) % n of
 *               snapshot a2 % 3
 *     11 ARRAY  JSON array a0 % n: remove, duplicate, swap, reverse,
 *               clear, append (a1 % 6; elements a2, a3)
 *     12 RECORD the proven record ("value") decoded as the table's
 *               message, field a0 % 8 changed by a1, a2, re-encoded;
 *               a3 bit 0: the leaf's value_hash made to match it
 *     13 SMT    the state proof changed a0 % 9 (smt_mutate)
 *     14 VALSET the body replaced by a validator set document of set
 *               a0 % 5 (VALSETS), a1 bit 0 powers as strings, bit 1
 *               another operator
 *     15 FAIL   the transport fails: ESG_ERR_IO, or ESG_ERR_TIMEOUT
 *               when a0 is odd
 *
 * Checks, beyond "does not crash, leak or trip a sanitizer":
 * - The output contract: exit 0 with nothing on stderr, or exit 1 with
 *   nothing on stdout and ONE line "esgwallet: ERR_NAME: message" on
 *   stderr.
 * - A lie is never believed: when the command succeeds, its output is
 *   the honest output of one of the snapshots, byte for byte (in text,
 *   but for how many validators signed the commit shown: a node may leave
 *   out signatures that were not needed).
 * - ERR_UNKNOWN_REPORT is the verdict "there is no such report": its line
 *   ("its absence is proven against block H HASH") must be the honest one
 *   of a snapshot where the report is absent, whatever the node said.
 * - Any other failure names a code: that of an error document the fake
 *   node served (the node's error passes through), or one of ERR_PROOF,
 *   ERR_JSON, ERR_IO, ERR_TIMEOUT, ERR_TOO_LARGE.
 * - When no operation applied to any request, the outcome is the honest
 *   one of the snapshot asked for, byte for byte.
 * ESG_FUZZ_LIGHT_TRACE=1 prints the requests, the operations applied and
 * the outcome, which is how a seed is checked to do what it says;
 * tests/fuzz/light_seeds.py writes the seeds.
 */
#include <assert.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/contracts.h"
#include "fuzz/fuzz_chain.h"
#include "fuzz/fuzz_util.h"
#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/state.h"
#include "ledger/store.h"
#include "ledger/txbuild.h"
#include "node/api.h"
#include "node/mempool.h"
#include "wallet/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHAIN "esg-fuzz-light"
#define GENESIS_MS UINT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define DAY_MS UINT64_C(86400000)
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define N_SNAP 3
#define N_TARGETS 4
#define MAX_RESP 64
#define MAX_OPS 64
#define MAX_NODES 4096
#define TIP_A 4
#define TIP_A2 5
#define TIP_B 9
#define NODE_URL "http://node.invalid:8600"

enum { K_V1, K_V2, K_V3, K_OUT, K_OTHER, K_CITY, K_VER, K_VER2, N_KEYS };
enum { ID_R1, ID_R2, ID_X, ID_A1, ID_A2, ID_A3, N_IDS };

typedef struct fz_key {
    esg_seckey sk;
    esg_pubkey pk;
} fz_key;

/* One recorded answer of the node. */
typedef struct resp {
    char *path;
    long status;
    uint8_t *body;
    size_t len;
} resp;

/* What a run of the wallet gave. */
typedef struct outcome {
    int status;
    char *out, *err; /* malloc'd */
} outcome;

/* The validator sets documents and headers can name: VS_S1..VS_S3 the
 * chain's, VS_OUT {OUT: 100}, VS_V1_OUT {V1: 10, OUT: 1}. */
enum { VS_S1, VS_S2, VS_S3, VS_OUT, VS_V1_OUT, N_VS };
static const struct {
    int keys[3];
    uint64_t power[3];
    size_t n;
} VALSETS[N_VS] = {
    {{K_V1}, {10}, 1},
    {{K_V1, K_V2}, {10, 1}, 2},
    {{K_V1, K_V2, K_V3}, {10, 1, 1}, 3},
    {{K_OUT}, {100}, 1},
    {{K_V1, K_OUT}, {10, 1}, 2},
};

/* Everything made at setup. One per process (a fuzz target has no main()
 * to own it). */
static struct {
    fz_key keys[N_KEYS];
    uint64_t nonce[N_KEYS];
    esg_hash ids[N_IDS];
    esg_hash vs_hash[N_VS];
    char genesis[2][96]; /* the chain's, the other's */
    resp snap[N_SNAP][MAX_RESP];
    size_t n_resp[N_SNAP];
    outcome honest[N_TARGETS][N_SNAP][2][2]; /* [report][snapshot][json][genesis] */
    bool trace;
} g_lt;

static const int TARGET_IDS[N_TARGETS] = {ID_R1, ID_R2, ID_X, ID_A1};

static void die(const char *what) {
    fprintf(stderr, "fuzz_light: %s\n", what);
    abort();
}

/* ------------------------------------------------------------ signing */

static const uint8_t AUX[32] = {0};

/* A Commit for block_hash at height signed by keys[0..n), serialized
 * (malloc'd). */
static void commit_make(uint8_t **out, size_t *len, const char *chain_id, uint64_t height,
                        uint32_t round, const esg_hash *block_hash, const int *keys, size_t n) {
    esg_pb_commit cm = ESG_PB_COMMIT_INIT;
    esg_pb_commit_sig sigs[4], *ps[4];
    esg_sig sig[4];
    assert(n <= 4);
    esg_hash vh = esg_vote_hash(chain_id, ESG_VOTE_TYPE_PRECOMMIT, height, round, block_hash);
    for (size_t i = 0; i < n; i++) {
        if (esg_sign_msg_aux(&sig[i], &g_lt.keys[keys[i]].sk, vh.b, 32, AUX) != ESG_OK)
            die("sign");
        esg_pb_commit_sig s = ESG_PB_COMMIT_SIG_INIT;
        s.validator = esg_pb_bin(g_lt.keys[keys[i]].pk.b, 32);
        s.sig = esg_pb_bin(sig[i].b, 64);
        sigs[i] = s;
        ps[i] = &sigs[i];
    }
    cm.height = height;
    cm.round = round;
    cm.block_hash = esg_pb_bin(block_hash->b, 32);
    cm.sigs = ps;
    cm.n_sigs = n;
    if (esg_pb_encode(&cm.base, out, len) != ESG_OK)
        die("encode commit");
}

/* ------------------------------------------------------------- the chain */

/* The signers of each block's commit, by height (setup). */
static struct {
    int keys[3];
    size_t n;
} g_signers;

static int commit_cb(void *arg, const char *chain_id, uint64_t height, const esg_hash *block_hash,
                     uint8_t **commit, size_t *len) {
    (void)arg;
    commit_make(commit, len, chain_id, height, 0, block_hash, g_signers.keys, g_signers.n);
    return 0;
}

/* Signs body by `signer` with its next nonce, the signature made with
 * fixed aux randomness (the Tx ends with its one signature's 64 bytes). */
static esg_tx *setup_tx(esg_pb_tx_body *body, int signer) {
    body->chain_id = CHAIN;
    body->signer = esg_pb_bin(g_lt.keys[signer].pk.b, 32);
    body->nonce = ++g_lt.nonce[signer];
    uint8_t *raw;
    size_t len;
    esg_tx *tx = NULL;
    if (esg_txb_sign_body(&raw, &len, body, &g_lt.keys[signer].sk, 1) != ESG_OK ||
        esg_tx_decode(&tx, raw, len) != ESG_OK)
        die("sign tx");
    esg_sig sig;
    if (esg_sign_msg_aux(&sig, &g_lt.keys[signer].sk, tx->id.b, 32, AUX) != ESG_OK)
        die("sign tx");
    memcpy(raw + len - 64, sig.b, 64);
    esg_tx_free(tx);
    if (esg_tx_decode(&tx, raw, len) != ESG_OK)
        die("decode tx");
    free(raw);
    return tx;
}

/* Commits one block of txs[0..n) (each must apply) at day `day` after
 * genesis, signed by signers[0..ns). */
static void setup_block(esg_store *st, esg_tx **txs, size_t n, unsigned day, const int *signers,
                        size_t ns) {
    memcpy(g_signers.keys, signers, ns * sizeof *signers);
    g_signers.n = ns;
    fuzz_chain_block(st, esg_contracts(), txs, n, GENESIS_MS + day * DAY_MS,
                     &g_lt.keys[K_V1].pk, commit_cb, NULL, "fuzz_light");
}

static const uint8_t H32[32] = {0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};

static esg_tx *tx_report(int64_t value, const esg_hash *supersedes) {
    esg_pb_report_impact r = ESG_PB_REPORT_IMPACT_INIT;
    r.project_id = "P-1";
    r.kpi = "ghg_avoided_tco2e";
    r.value = value;
    r.period_start = "2026-01-01";
    r.period_end = "2026-01-10";
    r.evidence_sha256 = esg_pb_bin(H32, 32);
    if (supersedes) {
        r.supersedes = esg_pb_bin(supersedes->b, 32);
        r.reason = "corrected meter reading";
    }
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REPORT_IMPACT;
    b.report_impact = &r;
    return setup_tx(&b, K_CITY);
}

static esg_tx *tx_attest(int verifier, const esg_hash *report, int opinion, int64_t value) {
    esg_pb_attest_impact a = ESG_PB_ATTEST_IMPACT_INIT;
    a.report_id = esg_pb_bin(report->b, 32);
    a.opinion = opinion;
    a.verified_value = value;
    a.statement_sha256 = esg_pb_bin(H32, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ATTEST_IMPACT;
    b.attest_impact = &a;
    return setup_tx(&b, verifier);
}

static esg_tx *tx_add_validator(int key) {
    esg_pb_add_validator av = ESG_PB_ADD_VALIDATOR_INIT;
    av.pubkey = esg_pb_bin(g_lt.keys[key].pk.b, 32);
    av.power = 1;
    av.operator_ = "city-a";
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_ADD_VALIDATOR;
    p.add_validator = &av;
    esg_pb_propose pr = ESG_PB_PROPOSE_INIT;
    pr.proposal = &p;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_PROPOSE;
    b.propose = &pr;
    return setup_tx(&b, K_CITY);
}

/* Writes the genesis with validator `val` to `path`; returns it. */
static esg_genesis *setup_genesis(int val, const char *path) {
    esg_genesis *g = esg_genesis_new(CHAIN, GENESIS_MS);
    int rc = g ? esg_genesis_add_default_kpis(g) : ESG_ERR_NOMEM;
    if (rc == 0)
        rc = esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "City A", "GR",
                                    &g_lt.keys[K_CITY].pk);
    if (rc == 0)
        rc = esg_genesis_add_member(g, "ver-1", ESG_KIND_VERIFIER, "Verifier", "GR",
                                    &g_lt.keys[K_VER].pk);
    if (rc == 0)
        rc = esg_genesis_add_member(g, "ver-2", ESG_KIND_VERIFIER, "Verifier 2", "GR",
                                    &g_lt.keys[K_VER2].pk);
    if (rc == 0)
        rc = esg_genesis_add_accreditation(g, "ver-1", "climate");
    if (rc == 0)
        rc = esg_genesis_add_accreditation(g, "ver-2", "climate");
    if (rc == 0)
        rc = esg_genesis_add_validator(g, &g_lt.keys[val].pk, 10, "city-a");
    char err[256] = "";
    if (rc == 0)
        rc = esg_genesis_validate(g, err, sizeof err);
    char *json = NULL;
    size_t len = 0;
    if (rc == 0)
        rc = esg_genesis_to_json(g, &json, &len);
    if (rc) {
        fprintf(stderr, "fuzz_light setup: genesis: %s: %s\n", esg_err_name(rc), err);
        abort();
    }
    fuzz_write_file(path, (const uint8_t *)json, len, 0600);
    free(json);
    return g;
}

/* ------------------------------------------------------------ recording */

typedef struct cbuf {
    uint8_t *p;
    size_t len;
} cbuf;

static size_t on_body(char *p, size_t sz, size_t n, void *arg) {
    cbuf *b = arg;
    uint8_t *q = realloc(b->p, b->len + sz * n + 1);
    if (!q)
        die("nomem");
    memcpy(q + b->len, p, sz * n);
    b->p = q;
    b->len += sz * n;
    return sz * n;
}

/* GETs base + path from the real API into the snapshot. */
static void record(unsigned s, const char *base, const char *path) {
    if (g_lt.n_resp[s] >= MAX_RESP)
        die("too many recordings");
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *h = curl_easy_init();
    cbuf b = {0};
    long status = 0;
    if (!h)
        die("curl");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    if (curl_easy_perform(h) != CURLE_OK)
        die("cannot fetch from the API");
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    resp *r = &g_lt.snap[s][g_lt.n_resp[s]++];
    r->path = strdup(path);
    r->status = status;
    r->body = b.p;
    r->len = b.len;
    if (!r->path)
        die("nomem");
}

static void proof_path(char *out, size_t n, esg_table t, const esg_hash *key) {
    snprintf(out, n, "/v1/state/proof?table=%d&key=%s", (int)t, esg_hash_hex(key).s);
}

static void record_snapshot(unsigned s, const char *base) {
    char p[160];
    record(s, base, "/v1/validators/changes");
    for (int h = 1; h <= TIP_B + 1; h++) {
        snprintf(p, sizeof p, "/v1/blocks/%d", h);
        record(s, base, p);
    }
    for (int h = 1; h <= TIP_B + 2; h++) {
        snprintf(p, sizeof p, "/v1/validators?height=%d", h);
        record(s, base, p);
    }
    for (int i = 0; i < N_TARGETS; i++) {
        proof_path(p, sizeof p, ESG_T_REPORTS, &g_lt.ids[TARGET_IDS[i]]);
        record(s, base, p);
    }
    for (int i = ID_A1; i <= ID_A3; i++) {
        proof_path(p, sizeof p, ESG_T_ATTESTATIONS, &g_lt.ids[i]);
        record(s, base, p);
    }
}

/* The hash of validator set VALSETS[v] as the chain stores it. */
static esg_hash valset_hash_of(unsigned v) {
    esg_pb_validator recs[3], *ptrs[3];
    size_t n = VALSETS[v].n;
    for (size_t i = 0; i < n; i++) {
        esg_pb_validator r = ESG_PB_VALIDATOR_INIT;
        r.pubkey = esg_pb_bin(g_lt.keys[VALSETS[v].keys[i]].pk.b, 32);
        r.power = VALSETS[v].power[i];
        r.operator_ = "city-a";
        recs[i] = r;
        ptrs[i] = &recs[i];
    }
    for (size_t i = 0; i < n; i++) /* sorted by pubkey */
        for (size_t j = i + 1; j < n; j++)
            if (memcmp(ptrs[j]->pubkey.data, ptrs[i]->pubkey.data, 32) < 0) {
                esg_pb_validator *t = ptrs[i];
                ptrs[i] = ptrs[j];
                ptrs[j] = t;
            }
    esg_pb_validator_set vs = ESG_PB_VALIDATOR_SET_INIT;
    vs.validators = ptrs;
    vs.n_validators = n;
    esg_hash h;
    if (esg_valset_hash(&vs, &h) != ESG_OK)
        die("valset hash");
    return h;
}

static void run_wallet(unsigned target, unsigned snap, bool json, unsigned gen, outcome *oc);

static void setup_chain(void) {
    for (int i = 0; i < N_KEYS; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "esg-fuzz-light key %d", i);
        esg_hash h = esg_sha256(seed, strlen(seed));
        memcpy(g_lt.keys[i].sk.b, h.b, 32);
        if (esg_key_pubkey(&g_lt.keys[i].pk, &g_lt.keys[i].sk) != ESG_OK)
            die("key");
    }
    for (unsigned v = 0; v < N_VS; v++)
        g_lt.vs_hash[v] = valset_hash_of(v);
    snprintf(g_lt.genesis[0], sizeof g_lt.genesis[0], "%s/genesis.json", fuzz_dir());
    snprintf(g_lt.genesis[1], sizeof g_lt.genesis[1], "%s/other.json", fuzz_dir());
    esg_genesis_free(setup_genesis(K_OTHER, g_lt.genesis[1]));
    esg_genesis *g = setup_genesis(K_V1, g_lt.genesis[0]);
    char dir[128], err[256] = "";
    snprintf(dir, sizeof dir, "%s/store", fuzz_dir());
    esg_store_options opts = {.no_sync = true};
    esg_store *st = NULL;
    int rc = esg_store_open_ex(&st, err, sizeof err, dir, true, &opts);
    if (rc == 0)
        rc = esg_exec_genesis(st, g);
    esg_genesis_free(g);
    esg_mempool *mp = NULL;
    esg_mempool_limits lim = {16, 1 << 20};
    if (rc == 0)
        rc = esg_mempool_new(&mp, st, esg_contracts(), &lim, NULL, NULL);
    esg_api *api = NULL;
    esg_api_deps deps = {.store = st, .mempool = mp, .threads = 1};
    if (rc == 0)
        rc = esg_api_start(&api, &deps, "127.0.0.1:0", err, sizeof err);
    if (rc) {
        fprintf(stderr, "fuzz_light setup: %s: %s\n", esg_err_name(rc), err);
        abort();
    }
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)esg_api_port(api));

    static const int S1[] = {K_V1}, S2[] = {K_V1, K_V2}, S3[] = {K_V1, K_V2, K_V3};
    esg_tx *txs[4];
    /* h1 */
    int objectives[1] = {ESG_EU_OBJECTIVE_CCM};
    uint32_t sdgs[1] = {7};
    esg_pb_register_project rp = ESG_PB_REGISTER_PROJECT_INIT;
    rp.id = "P-1";
    rp.city = "city-a";
    rp.name = "Harbour solar";
    rp.eu_objectives = (void *)objectives;
    rp.n_eu_objectives = 1;
    rp.sdgs = sdgs;
    rp.n_sdgs = 1;
    rp.total_cost = 1000000;
    rp.currency = "EUR";
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REGISTER_PROJECT;
    b.register_project = &rp;
    txs[0] = setup_tx(&b, K_CITY);
    txs[1] = tx_report(1500000, NULL);
    g_lt.ids[ID_R1] = txs[1]->id;
    txs[2] = tx_attest(K_VER, &g_lt.ids[ID_R1], ESG_OPINION_CONFIRMED, 1400000);
    g_lt.ids[ID_A1] = txs[2]->id;
    setup_block(st, txs, 3, 11, S1, 1);
    /* h2, h3, h4 */
    txs[0] = tx_add_validator(K_V2);
    setup_block(st, txs, 1, 12, S1, 1);
    txs[0] = tx_attest(K_VER2, &g_lt.ids[ID_R1], ESG_OPINION_QUALIFIED, 1450000);
    g_lt.ids[ID_A2] = txs[0]->id;
    setup_block(st, txs, 1, 13, S1, 1);
    setup_block(st, NULL, 0, 14, S2, 2);
    /* The transactions of h5..h7 are signed now, so that snapshot A holds
     * the answers about R2 and A3 too (absent there). */
    esg_pb_revoke_attestation ra = ESG_PB_REVOKE_ATTESTATION_INIT;
    ra.attestation_id = esg_pb_bin(g_lt.ids[ID_A1].b, 32);
    ra.reason = "meter data incomplete";
    esg_pb_tx_body rb = ESG_PB_TX_BODY_INIT;
    rb.action_case = ESG_ACTION_REVOKE_ATTESTATION;
    rb.revoke_attestation = &ra;
    esg_tx *h5 = setup_tx(&rb, K_VER);
    esg_tx *h6[2] = {tx_report(1550000, &g_lt.ids[ID_R1]), NULL};
    g_lt.ids[ID_R2] = h6[0]->id;
    h6[1] = tx_attest(K_VER, &g_lt.ids[ID_R2], ESG_OPINION_CONFIRMED, 1500000);
    g_lt.ids[ID_A3] = h6[1]->id;
    esg_tx *h7 = tx_add_validator(K_V3);
    g_lt.ids[ID_X] = esg_sha256("no such report", 14);
    record_snapshot(0, base);
    setup_block(st, &h5, 1, 15, S1, 1);
    record_snapshot(1, base);
    setup_block(st, h6, 2, 16, S2, 2);
    setup_block(st, &h7, 1, 17, S2, 2);
    setup_block(st, NULL, 0, 18, S1, 1);
    setup_block(st, NULL, 0, 19, S3, 3);
    record_snapshot(2, base);
    esg_api_stop(api);
    esg_mempool_free(mp);
    esg_store_close(st);
}

/* Aborts unless the honest outcome of (target, snap, json, gen) has exit
 * status `status` and `needle` in its output (stdout, or stderr when it
 * failed). */
static void expect(unsigned target, unsigned snap, bool json, unsigned gen, int status,
                   const char *needle) {
    const outcome *o = &g_lt.honest[target][snap][json][gen];
    const char *text = status ? o->err : o->out;
    if (o->status != status || !strstr(text, needle)) {
        fprintf(stderr, "fuzz_light setup: report %u snapshot %u json %d genesis %u: exit %d\n"
                        "%s%s(expected exit %d and '%s')\n",
                target, snap, json, gen, o->status, o->out, o->err, status, needle);
        abort();
    }
}

static void setup(void) {
    g_lt.trace = getenv("ESG_FUZZ_LIGHT_TRACE") != NULL;
    /* Held for the process: every client's curl_global_init is then only
     * a reference count. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init");
    setup_chain();
    for (unsigned t = 0; t < N_TARGETS; t++)
        for (unsigned s = 0; s < N_SNAP; s++)
            for (unsigned j = 0; j < 2; j++)
                for (unsigned gen = 0; gen < 2; gen++)
                    run_wallet(t, s, j, gen, &g_lt.honest[t][s][j][gen]);
    /* The chain is what the header comment says. */
    for (unsigned j = 0; j < 2; j++) {
        expect(0, 0, j, 0, 0, j ? "\"counted_value\": \"1400.000\"" : "counted value 1400.000");
        expect(0, 1, j, 0, 0, j ? "\"counted_value\": \"1450.000\"" : "counted value 1450.000");
        expect(0, 2, j, 0, 0, j ? "\"counted\": false" : "counts: no (superseded)");
        expect(1, 0, j, 0, 1, "ERR_UNKNOWN_REPORT: no impact report");
        expect(1, 1, j, 0, 1, "ERR_UNKNOWN_REPORT: no impact report");
        expect(1, 2, j, 0, 0, j ? "\"counted_value\": \"1500.000\"" : "counted value 1500.000");
        for (unsigned s = 0; s < N_SNAP; s++) {
            expect(2, s, j, 0, 1, "its absence is proven");
            expect(3, s, j, 0, 1, "its absence is proven");
            for (unsigned t = 0; t < N_TARGETS; t++)
                expect(t, s, j, 1, 1, "ERR_PROOF");
        }
    }
    expect(0, 0, false, 0, 0, "committed by 2 of 2 validators");
    expect(0, 1, false, 0, 0, "committed by 1 of 2 validators");
    expect(0, 2, false, 0, 0, "committed by 3 of 3 validators");
    if (g_lt.trace) {
        /* The same in every process: signatures use fixed aux randomness. */
        for (unsigned s = 0; s < N_SNAP; s++) {
            crypto_hash_sha256_state hs;
            crypto_hash_sha256_init(&hs);
            for (size_t i = 0; i < g_lt.n_resp[s]; i++)
                crypto_hash_sha256_update(&hs, g_lt.snap[s][i].body, g_lt.snap[s][i].len);
            esg_hash h;
            crypto_hash_sha256_final(&hs, h.b);
            fprintf(stderr, "snapshot %u: %zu answers, sha256 %s\nhonest R1:\n%s", s,
                    g_lt.n_resp[s], esg_hash_hex(&h).s, g_lt.honest[0][s][0][0].out);
        }
    }
}

/* ------------------------------------------------------------- the input */

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static uint8_t rd_u8(rd *r) {
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

typedef struct op {
    uint8_t req, kind, a[4];
    const uint8_t *raw; /* RAW's bytes */
    size_t raw_len;
} op;

enum {
    OP_SNAP, OP_STATUS, OP_RAW, OP_TRUNC, OP_FLIP, OP_JSET, OP_JDEL, OP_HEX, OP_HEADER,
    OP_COMMIT, OP_SWAP, OP_ARRAY, OP_RECORD, OP_SMT, OP_VALSET, OP_FAIL
};

static const char *const OP_NAMES[16] = {"SNAP", "STATUS", "RAW", "TRUNC", "FLIP", "JSET",
                                         "JDEL", "HEX", "HEADER", "COMMIT", "SWAP", "ARRAY",
                                         "RECORD", "SMT", "VALSET", "FAIL"};

static size_t parse_ops(rd *r, op *ops) {
    size_t n = 0;
    while (r->n >= 2 && n < MAX_OPS) {
        op *o = &ops[n++];
        memset(o, 0, sizeof *o);
        o->req = rd_u8(r) & 31;
        o->kind = rd_u8(r) & 15;
        if (o->kind == OP_RAW) {
            size_t len = rd_u8(r);
            if (len > r->n)
                len = r->n;
            o->raw = r->p;
            o->raw_len = len;
            r->p += len;
            r->n -= len;
        } else {
            for (int i = 0; i < 4; i++)
                o->a[i] = rd_u8(r);
        }
    }
    return n;
}

/* ------------------------------------------------------ the fake node */

/* One answer under construction. */
typedef struct answer {
    long status;
    uint8_t *body; /* malloc'd */
    size_t len;
    int fail;      /* the transport's error */
} answer;

typedef struct fake {
    const op *ops;
    size_t n_ops;
    unsigned snap;
    size_t n_req;
    bool mutated;    /* an operation applied to some answer */
    char served[16][64]; /* codes of the error documents served */
    size_t n_served;
} fake;

static const resp *lookup(unsigned s, const char *path) {
    for (size_t i = 0; i < g_lt.n_resp[s]; i++)
        if (strcmp(g_lt.snap[s][i].path, path) == 0)
            return &g_lt.snap[s][i];
    return NULL;
}

static void answer_set(answer *a, long status, const void *body, size_t len) {
    free(a->body);
    a->status = status;
    a->body = malloc(len ? len : 1);
    if (!a->body)
        die("nomem");
    if (len)
        memcpy(a->body, body, len);
    a->len = len;
}

static void answer_set_str(answer *a, const char *s) {
    answer_set(a, a->status, s, strlen(s));
}

/* The body as JSON (NULL when it is not). */
static json_t *answer_json(const answer *a) {
    return json_loadb((const char *)a->body, a->len, JSON_DECODE_ANY, NULL);
}

/* Replaces the body by `doc` (consumed), compact. */
static void answer_put_json(answer *a, json_t *doc) {
    char *s = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(doc);
    if (!s)
        die("nomem");
    answer_set_str(a, s);
    free(s);
}

/* ------------------------------------------------ JSON node enumeration */

typedef struct jnode {
    json_t *v;
    json_t *parent; /* NULL: the root */
    char key[128];  /* member name, when the parent is an object */
    size_t index;   /* element index, when the parent is an array */
} jnode;

typedef struct jlist {
    jnode *v;
    size_t n;
} jlist;

static void jwalk(jlist *l, json_t *v, json_t *parent, const char *key, size_t index) {
    if (l->n >= MAX_NODES)
        return;
    jnode *n = &l->v[l->n++];
    n->v = v;
    n->parent = parent;
    snprintf(n->key, sizeof n->key, "%s", key ? key : "");
    n->index = index;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) jwalk(l, c, v, k, 0);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) jwalk(l, c, v, NULL, i);
    }
}

static jlist jlist_of(json_t *root) {
    jlist l = {calloc(MAX_NODES, sizeof(jnode)), 0};
    if (!l.v)
        die("nomem");
    jwalk(&l, root, NULL, NULL, 0);
    return l;
}

/* Sets node n to `nv` (consumed); returns the new root. */
static json_t *jreplace(json_t *root, const jnode *n, json_t *nv) {
    if (!nv)
        die("nomem");
    if (!n->parent) {
        json_decref(root);
        return nv;
    }
    if (json_is_object(n->parent))
        json_object_set_new(n->parent, n->key, nv);
    else
        json_array_set_new(n->parent, n->index, nv);
    return root;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool is_hex(const json_t *v) {
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!s || n == 0 || n % 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0)
            return false;
    return true;
}

/* The bytes of a hex string node (malloc'd). */
static uint8_t *hex_bytes(const json_t *v, size_t *len) {
    const char *s = json_string_value(v);
    size_t n = strlen(s) / 2;
    uint8_t *b = malloc(n + 1);
    if (!b || esg_hex_decode(b, n, s) != 0)
        die("hex");
    *len = n;
    return b;
}

static json_t *hex_json(const uint8_t *b, size_t len, bool upper) {
    char *s = malloc(2 * len + 1);
    if (!s)
        die("nomem");
    esg_hex_encode(s, b, len);
    if (upper)
        for (char *p = s; *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* ---------------------------------------------------------- operations */

static const long STATUSES[8] = {200, 201, 204, 302, 400, 404, 500, 199};
static const char *const ERRS[] = {
    "ERR_NOT_FOUND", "ERR_UNKNOWN_REPORT", "ERR_PROOF", "ERR_MADE_UP", "",
    "ERR_X\n\x01y", "ERR_AN_ERROR_CODE_NAME_THAT_IS_MUCH_LONGER_THAN_SIXTY_FOUR_CHARACTERS_X",
    "ERR_NONCE", "ERR_UNKNOWN_REPORT: no impact report"};
static const char *const MSGS[] = {
    "", "no impact report: its absence is proven against block 4", "line one\nline two",
    "no such block"};

static void op_status(answer *a, const op *o) {
    a->status = STATUSES[o->a[0] % 8];
    char body[512];
    switch (o->a[1] % 4) {
    case 0:
        break;
    case 1: {
        json_t *d = json_pack("{s:{s:s,s:s}}", "error", "code", ERRS[o->a[2] % N_OF(ERRS)],
                              "message", MSGS[o->a[3] % N_OF(MSGS)]);
        answer_put_json(a, d);
        break;
    }
    case 2:
        answer_set(a, a->status, "", 0);
        break;
    default:
        snprintf(body, sizeof body, "{\"error\": {\"code\": %d, \"message\": \"x\"}}", o->a[2]);
        answer_set_str(a, body);
        break;
    }
}

static int64_t small_int(uint8_t v) {
    static const int64_t edges[] = {0, 1, -1, INT64_MAX, INT64_MIN, (int64_t)1 << 53,
                                    TIP_A, TIP_B, TIP_A - 1, TIP_B - 1, TIP_B + 1, 256,
                                    UINT32_MAX, 20, 21};
    return v < N_OF(edges) ? edges[v] : (int64_t)(v - N_OF(edges));
}

/* A JSON value of kind k % 10 with parameter p, for JSET. */
static json_t *set_value(const jlist *l, const jnode *n, unsigned k, uint8_t p) {
    char s[96];
    switch (k % 10) {
    case 0: return json_null();
    case 1: return json_true();
    case 2: return json_integer(small_int(p));
    case 3:
        snprintf(s, sizeof s, "%" PRId64, small_int(p));
        return json_string(s);
    case 4: {
        static const char *const strs[] = {"", "x", "0", "00", "zz", "latest"};
        if (p < N_OF(strs))
            return json_string(strs[p]);
        memset(s, '0' + p % 10, 64);
        s[64] = '\0';
        return json_string(s);
    }
    case 5: return json_array();
    case 6: return json_object();
    case 7: return json_deep_copy(l->v[p % l->n].v);
    case 8:
        if (json_is_integer(n->v))
            return json_integer(json_integer_value(n->v) + (int8_t)p);
        if (json_is_string(n->v)) {
            uint64_t x = 0;
            const char *v = json_string_value(n->v);
            for (; *v >= '0' && *v <= '9'; v++)
                x = x * 10 + (uint64_t)(*v - '0');
            snprintf(s, sizeof s, "%" PRIu64, x + (uint64_t)(int8_t)p);
            return json_string(s);
        }
        return json_integer(p);
    default:
        return json_real(p / 2.0);
    }
}

static void op_json(answer *a, const op *o) {
    json_t *root = answer_json(a);
    if (!root)
        return;
    jlist l = jlist_of(root);
    const jnode *n = &l.v[(size_t)(o->a[0] << 8 | o->a[1]) % l.n];
    if (o->kind == OP_JSET) {
        root = jreplace(root, n, set_value(&l, n, o->a[2], o->a[3]));
    } else if (n->parent && json_is_object(n->parent)) {
        json_object_del(n->parent, n->key);
    } else if (n->parent) {
        json_array_remove(n->parent, n->index);
    }
    free(l.v);
    answer_put_json(a, root);
}

/* Changes the bytes b[0..*len) (room for 16 more) as HEX's a1 says. */
static void bytes_mutate(uint8_t *b, size_t *len, const op *o, size_t *insert_at) {
    size_t n = *len, at = n ? o->a[2] % n : 0;
    switch (o->a[1] % 8) {
    case 0: if (n) b[at] ^= (uint8_t)(1u << (o->a[3] & 7)); break;
    case 1: *len = at; break;
    case 2:
        for (unsigned i = 0; i <= (o->a[2] & 7u); i++)
            b[(*len)++] = o->a[3];
        break;
    case 3: if (n) b[at] = o->a[3]; break;
    case 4:
        if (n) {
            memmove(b + at, b + at + 1, n - at - 1);
            (*len)--;
        }
        break;
    case 5:
        at = o->a[2] % (n + 1);
        memmove(b + at + 1, b + at, n - at);
        b[at] = o->a[3];
        (*len)++;
        break;
    default:
        *insert_at = at; /* 6: upper case, 7: another string's bytes */
        break;
    }
}

static void op_hex(answer *a, const op *o) {
    json_t *root = answer_json(a);
    if (!root)
        return;
    jlist l = jlist_of(root);
    size_t hexes[MAX_NODES], nh = 0;
    for (size_t i = 0; i < l.n; i++)
        if (is_hex(l.v[i].v))
            hexes[nh++] = i;
    if (nh) {
        const jnode *n = &l.v[hexes[o->a[0] % nh]];
        size_t len;
        uint8_t *b = hex_bytes(n->v, &len);
        uint8_t *w = realloc(b, len + 16);
        if (!w)
            die("nomem");
        size_t other = SIZE_MAX;
        bytes_mutate(w, &len, o, &other);
        json_t *nv;
        if (o->a[1] % 8 == 6)
            nv = hex_json(w, len, true);
        else if (o->a[1] % 8 == 7)
            nv = json_deep_copy(l.v[hexes[o->a[2] % nh]].v);
        else
            nv = hex_json(w, len, false);
        free(w);
        root = jreplace(root, n, nv);
    }
    free(l.v);
    answer_put_json(a, root);
}

/* The keys a forged commit is signed with (HEADER's a3 % 6). V1 is never
 * one: its signature alone commits a block. */
static const struct {
    int keys[2];
    size_t n;
} FORGERS[6] = {{{0}, 0}, {{K_OUT}, 1}, {{K_V2}, 1}, {{K_V2, K_V3}, 2},
                {{K_V3, K_OUT}, 2}, {{K_V2, K_V2}, 2}};

/* A validator-set hash for a header field: the sets', empty, or bytes. */
static void pick_vs_hash(esg_pb_bytes *f, uint8_t *buf, uint8_t v) {
    if (v % 8 < N_VS) {
        memcpy(buf, g_lt.vs_hash[v % 8].b, 32);
        *f = esg_pb_bin(buf, 32);
    } else if (v % 8 == 5) {
        *f = esg_pb_bin(NULL, 0);
    } else {
        memset(buf, v, 32);
        *f = esg_pb_bin(buf, v % 8 == 6 ? 32 : 31);
    }
}

static void flip32(esg_pb_bytes *f, uint8_t *buf, uint8_t v) {
    size_t n = f->len < 64 ? f->len : 64;
    if (n) { /* an empty field's data may be NULL, which memcpy must not get */
        memcpy(buf, f->data, n);
        buf[v % n] ^= 1;
    }
    *f = esg_pb_bin(buf, v == 255 ? 0 : n);
}

static void op_header(answer *a, const op *o) {
    json_t *root = answer_json(a);
    json_t *hj = json_object_get(root, "header"), *cj = json_object_get(root, "commit");
    const char *hs = json_string_value(json_object_get(hj, "raw"));
    if (!hs || !is_hex(json_object_get(hj, "raw"))) {
        json_decref(root);
        return;
    }
    size_t len;
    uint8_t *raw = hex_bytes(json_object_get(hj, "raw"), &len);
    esg_pb_block_header *h = NULL;
    if (esg_pb_block_header_decode(&h, raw, len, len) != 0) {
        free(raw);
        json_decref(root);
        return;
    }
    free(raw);
    /* Fields are pointed at local buffers, encoded, then put back: the
     * decoded message owns its own. */
    esg_pb_block_header saved = *h;
    uint8_t buf[64];
    uint8_t v = o->a[2];
    static const char *const chains[] = {"esg-other-1", "", "esg-fuzz-light ", "ESG-FUZZ-LIGHT"};
    switch (o->a[1] % 12) {
    case 0: h->height += (uint64_t)(int64_t)(int8_t)(v ? v : 1); break;
    case 1: h->time_ms = v == 0 ? 0 : v == 1 ? UINT64_MAX : h->time_ms + (uint64_t)(int8_t)v * 1000; break;
    case 2: h->chain_id = (char *)chains[v % N_OF(chains)]; break;
    case 3: flip32(&h->prev_hash, buf, v); break;
    case 4: flip32(&h->app_hash, buf, v); break;
    case 5: pick_vs_hash(&h->validators_hash, buf, v); break;
    case 6: pick_vs_hash(&h->next_validators_hash, buf, v); break;
    case 7: h->proposer = esg_pb_bin(g_lt.keys[v % N_KEYS].pk.b, 32); break;
    case 8: flip32(&h->tx_root, buf, v); break;
    case 9:
        memset(buf, v, 32);
        h->evidence_hash = esg_pb_bin(buf, 32);
        break;
    default: break; /* 10, 11: the honest header, re-signed */
    }
    uint8_t *enc;
    size_t elen;
    esg_hash bh;
    if (esg_pb_encode(&h->base, &enc, &elen) != ESG_OK || esg_block_header_hash(h, &bh) != 0)
        die("encode header");
    if (o->a[1] % 12 == 10) { /* an unknown field appended */
        uint8_t *e2 = realloc(enc, elen + 2);
        if (!e2)
            die("nomem");
        enc = e2;
        enc[elen++] = 0x78; /* field 15, varint */
        enc[elen++] = v & 0x7f;
    }
    uint64_t height = h->height;
    char chain[80];
    snprintf(chain, sizeof chain, "%s", h->chain_id);
    *h = saved;
    esg_pb_free(h);
    json_object_set_new(hj, "raw", hex_json(enc, elen, false));
    free(enc);
    unsigned f = o->a[3] % 6;
    if (f && json_is_object(cj)) {
        uint8_t *cm;
        size_t cl;
        commit_make(&cm, &cl, chain, height, o->a[3] >> 7, &bh, FORGERS[f].keys, FORGERS[f].n);
        json_object_set_new(cj, "raw", hex_json(cm, cl, false));
        free(cm);
    }
    answer_put_json(a, root);
}

static void op_commit(answer *a, const op *o) {
    json_t *root = answer_json(a);
    json_t *cj = json_object_get(root, "commit");
    if (!is_hex(json_object_get(cj, "raw"))) {
        json_decref(root);
        return;
    }
    size_t len;
    uint8_t *raw = hex_bytes(json_object_get(cj, "raw"), &len);
    esg_pb_commit *c = NULL;
    if (esg_pb_commit_decode(&c, raw, len, len) != 0) {
        free(raw);
        json_decref(root);
        return;
    }
    free(raw);
    esg_pb_commit saved = *c;
    esg_pb_commit_sig *sigs[8], extra = ESG_PB_COMMIT_SIG_INIT, changed[8];
    size_t n = c->n_sigs < 6 ? c->n_sigs : 6;
    for (size_t i = 0; i < n; i++)
        sigs[i] = c->sigs[i];
    size_t i = n ? o->a[2] % n : 0;
    uint8_t buf[64];
    esg_sig sig;
    int key = o->a[3] % N_KEYS == K_V1 ? K_OUT : o->a[3] % N_KEYS;
    switch (o->a[1] % 10) {
    case 0:
        if (n) {
            memmove(sigs + i, sigs + i + 1, (n - i - 1) * sizeof *sigs);
            n--;
        }
        break;
    case 1: if (n) sigs[n++] = sigs[i]; break;
    case 2: c->height += (uint64_t)(int64_t)(int8_t)(o->a[3] | 1); break;
    case 3: c->round = o->a[3]; break;
    case 4: flip32(&c->block_hash, buf, o->a[3]); break;
    case 5:
    case 6:
        if (n) {
            changed[i] = *sigs[i];
            if (o->a[1] % 10 == 5)
                flip32(&changed[i].sig, buf, o->a[3]);
            else
                changed[i].validator = esg_pb_bin(g_lt.keys[o->a[3] % N_KEYS].pk.b, 32);
            sigs[i] = &changed[i];
        }
        break;
    case 7: {
        esg_hash bh = {{0}};
        if (c->block_hash.len == 32)
            memcpy(bh.b, c->block_hash.data, 32);
        esg_hash vh = esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PRECOMMIT, c->height, c->round, &bh);
        if (esg_sign_msg_aux(&sig, &g_lt.keys[key].sk, vh.b, 32, AUX) != ESG_OK)
            die("sign");
        extra.validator = esg_pb_bin(g_lt.keys[key].pk.b, 32);
        extra.sig = esg_pb_bin(sig.b, 64);
        sigs[n++] = &extra;
        break;
    }
    case 8:
        for (size_t k = 0; k < n / 2; k++) {
            esg_pb_commit_sig *t = sigs[k];
            sigs[k] = sigs[n - 1 - k];
            sigs[n - 1 - k] = t;
        }
        break;
    default: n = 0; break;
    }
    c->sigs = sigs;
    c->n_sigs = n;
    uint8_t *enc;
    size_t elen;
    if (esg_pb_encode(&c->base, &enc, &elen) != ESG_OK)
        die("encode commit");
    *c = saved;
    esg_pb_free(c);
    json_object_set_new(cj, "raw", hex_json(enc, elen, false));
    free(enc);
    answer_put_json(a, root);
}

static void op_swap(answer *a, const op *o) {
    unsigned s = o->a[2] % N_SNAP;
    const resp *r = &g_lt.snap[s][(size_t)(o->a[0] << 8 | o->a[1]) % g_lt.n_resp[s]];
    answer_set(a, r->status, r->body, r->len);
}

static void op_array(answer *a, const op *o) {
    json_t *root = answer_json(a);
    if (!root)
        return;
    jlist l = jlist_of(root);
    size_t arrs[MAX_NODES], na = 0;
    for (size_t i = 0; i < l.n; i++)
        if (json_is_array(l.v[i].v))
            arrs[na++] = i;
    if (na) {
        json_t *arr = l.v[arrs[o->a[0] % na]].v;
        size_t n = json_array_size(arr);
        size_t i = n ? o->a[2] % n : 0, j = n ? o->a[3] % n : 0;
        switch (o->a[1] % 6) {
        case 0: if (n) json_array_remove(arr, i); break;
        case 1: if (n) json_array_insert_new(arr, i, json_deep_copy(json_array_get(arr, i))); break;
        case 2:
            if (n) {
                json_t *x = json_incref(json_array_get(arr, i));
                json_array_set(arr, i, json_array_get(arr, j));
                json_array_set_new(arr, j, x);
            }
            break;
        case 3:
            for (size_t k = 0; k < n / 2; k++) {
                json_t *x = json_incref(json_array_get(arr, k));
                json_array_set(arr, k, json_array_get(arr, n - 1 - k));
                json_array_set_new(arr, n - 1 - k, x);
            }
            break;
        case 4: json_array_clear(arr); break;
        default: if (n) json_array_append_new(arr, json_deep_copy(json_array_get(arr, i))); break;
        }
    }
    free(l.v);
    answer_put_json(a, root);
}

static void op_record(answer *a, const op *o) {
    json_t *root = answer_json(a);
    json_t *vj = json_object_get(root, "value");
    if (!is_hex(vj)) {
        json_decref(root);
        return;
    }
    json_int_t table = json_integer_value(json_object_get(root, "table"));
    size_t len;
    uint8_t *raw = hex_bytes(vj, &len);
    uint8_t *enc = NULL;
    size_t elen = 0;
    uint8_t buf[32];
    int8_t d = (int8_t)(o->a[1] ? o->a[1] : 1);
    const esg_hash *other = &g_lt.ids[o->a[2] % N_IDS];
    if (table == ESG_T_REPORTS) {
        esg_pb_report *r = NULL;
        if (esg_pb_report_decode(&r, raw, len, len) == 0 && r->report) {
            esg_pb_report saved = *r;
            esg_pb_report_impact ri = *r->report;
            esg_pb_bytes atts[8];
            size_t na = r->n_attestations < 6 ? r->n_attestations : 6;
            memcpy(atts, r->attestations, na * sizeof *atts);
            r->report = &ri;
            switch (o->a[0] % 8) {
            case 0: ri.value += (int64_t)d * 1000; break;
            case 1:
                r->superseded_by = r->superseded_by.len ? esg_pb_bin(NULL, 0)
                                                        : esg_pb_bin(other->b, 32);
                break;
            case 2:
                if (na && (o->a[1] & 1))
                    na--;
                else
                    atts[na++] = esg_pb_bin(other->b, 32);
                break;
            case 3: r->id = esg_pb_bin(other->b, 32); break;
            case 4: r->city = "city-b"; break;
            case 5: ri.kpi = "energy_saved_mwh"; break;
            case 6: r->height += (uint64_t)(int64_t)d; break;
            default: ri.period_end = "2026-01-09"; break;
            }
            r->attestations = atts;
            r->n_attestations = na;
            if (esg_pb_encode(&r->base, &enc, &elen) != ESG_OK)
                die("encode");
            *r = saved;
        }
        esg_pb_free(r);
    } else if (table == ESG_T_ATTESTATIONS) {
        esg_pb_attestation *t = NULL;
        if (esg_pb_attestation_decode(&t, raw, len, len) == 0) {
            esg_pb_attestation saved = *t;
            switch (o->a[0] % 8) {
            case 0: t->verified_value += (int64_t)d * 1000; break;
            case 1: t->opinion = o->a[1] % 4; break;
            case 2: t->revoked = !t->revoked; break;
            case 3: t->report_id = esg_pb_bin(other->b, 32); break;
            case 4: t->id = esg_pb_bin(other->b, 32); break;
            case 5: t->verifier = "city-a"; break;
            case 6: t->revoked_height += (uint64_t)(int64_t)d; break;
            default:
                memset(buf, o->a[1], sizeof buf);
                t->statement_sha256 = esg_pb_bin(buf, 32);
                break;
            }
            if (esg_pb_encode(&t->base, &enc, &elen) != ESG_OK)
                die("encode");
            *t = saved;
        }
        esg_pb_free(t);
    }
    free(raw);
    if (enc) {
        json_object_set_new(root, "value", hex_json(enc, elen, false));
        json_t *leaf = json_object_get(json_object_get(root, "proof"), "leaf");
        if ((o->a[3] & 1) && json_is_object(leaf)) {
            esg_hash vh = esg_sha256(enc, elen);
            json_object_set_new(leaf, "value_hash", hex_json(vh.b, 32, false));
        }
        free(enc);
    }
    answer_put_json(a, root);
}

static void op_smt(answer *a, const op *o) {
    json_t *root = answer_json(a);
    json_t *pj = json_object_get(root, "proof");
    json_t *sib = json_object_get(pj, "siblings"), *leaf = json_object_get(pj, "leaf");
    if (!json_is_array(sib)) {
        json_decref(root);
        return;
    }
    size_t n = json_array_size(sib), i = n ? o->a[1] % n : 0;
    static const char Z64[] = "0000000000000000000000000000000000000000000000000000000000000000";
    json_int_t table = json_integer_value(json_object_get(root, "table"));
    const esg_hash *other = &g_lt.ids[o->a[2] % N_IDS];
    switch (o->a[0] % 9) {
    case 0: if (n) json_array_remove(sib, i); break;
    case 1: json_array_insert_new(sib, o->a[1] % (n + 1), json_string(Z64)); break;
    case 2: if (n) json_array_set_new(sib, i, json_string(Z64)); break;
    case 3: json_object_set_new(pj, "leaf", json_null()); break;
    case 4:
        if (json_is_object(leaf)) {
            esg_hash tk = esg_state_key((esg_table)table, other->b, 32);
            json_object_set_new(leaf, "key", hex_json(tk.b, 32, false));
        }
        break;
    case 5:
        if (json_is_object(leaf))
            json_object_set_new(leaf, "value_hash", json_string(Z64));
        break;
    case 6: json_object_set_new(root, "value", json_null()); break;
    case 7:
        json_array_clear(sib);
        for (unsigned k = 0; k < 256u + (o->a[1] & 1); k++)
            json_array_append_new(sib, json_string(Z64));
        break;
    default:
        if (n) {
            size_t j = o->a[2] % n;
            json_t *x = json_incref(json_array_get(sib, i));
            json_array_set(sib, i, json_array_get(sib, j));
            json_array_set_new(sib, j, x);
        }
        break;
    }
    answer_put_json(a, root);
}

static void op_valset(answer *a, const op *o) {
    unsigned v = o->a[0] % N_VS;
    json_t *vals = json_array();
    uint64_t total = 0;
    for (size_t i = 0; i < VALSETS[v].n; i++) {
        uint64_t p = VALSETS[v].power[i];
        total += p;
        char ps[24];
        snprintf(ps, sizeof ps, "%" PRIu64, p);
        json_array_append_new(
            vals, json_pack("{s:s,s:o,s:s}", "pubkey",
                            esg_pubkey_hex(&g_lt.keys[VALSETS[v].keys[i]].pk).s, "power",
                            (o->a[1] & 1) ? json_string(ps) : json_integer((json_int_t)p),
                            "operator", (o->a[1] & 2) ? "ver-1" : "city-a"));
    }
    answer_put_json(a, json_pack("{s:I,s:o,s:I,s:s}", "height", (json_int_t)o->a[2],
                                 "validators", vals, "total_power", (json_int_t)total, "hash",
                                 esg_hash_hex(&g_lt.vs_hash[v]).s));
}

static void apply(answer *a, const op *o) {
    switch (o->kind) {
    case OP_STATUS: op_status(a, o); break;
    case OP_RAW: answer_set(a, a->status, o->raw, o->raw_len); break;
    case OP_TRUNC: a->len = (size_t)(o->a[0] << 8 | o->a[1]) % (a->len + 1); break;
    case OP_FLIP:
        if (a->len)
            a->body[(size_t)(o->a[0] << 8 | o->a[1]) % a->len] ^= (uint8_t)(1u << (o->a[2] & 7));
        break;
    case OP_JSET:
    case OP_JDEL: op_json(a, o); break;
    case OP_HEX: op_hex(a, o); break;
    case OP_HEADER: op_header(a, o); break;
    case OP_COMMIT: op_commit(a, o); break;
    case OP_SWAP: op_swap(a, o); break;
    case OP_ARRAY: op_array(a, o); break;
    case OP_RECORD: op_record(a, o); break;
    case OP_SMT: op_smt(a, o); break;
    case OP_VALSET: op_valset(a, o); break;
    case OP_FAIL: a->fail = (o->a[0] & 1) ? ESG_ERR_TIMEOUT : ESG_ERR_IO; break;
    default: break; /* OP_SNAP: chosen before */
    }
}

/* The error code name the client takes from an error answer, as
 * esgwallet prints it (at most 63 bytes, control characters as '?'). */
static void served_name(fake *f, const answer *a) {
    if (a->status >= 200 && a->status < 400)
        return;
    json_t *doc = a->len ? json_loadb((const char *)a->body, a->len, 0, NULL) : NULL;
    const char *name = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
    if (name && *name && f->n_served < N_OF(f->served)) {
        char *s = f->served[f->n_served++];
        snprintf(s, sizeof f->served[0], "%s", name);
        for (char *p = s; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    }
    json_decref(doc);
}

static int fake_request(void *arg, const char *method, const char *path, const uint8_t *body,
                        size_t body_len, long *status, uint8_t **resp_out, size_t *resp_len) {
    fake *f = arg;
    if (strcmp(method, "GET") != 0 || body || body_len)
        die("impact verify sent something else than a GET");
    size_t idx = f->n_req++;
    unsigned s = f->snap;
    bool touched = false;
    for (size_t i = 0; i < f->n_ops; i++)
        if (f->ops[i].req == idx && f->ops[i].kind == OP_SNAP) {
            s = f->ops[i].a[0] % N_SNAP;
            touched = true;
        }
    const resp *r = lookup(s, path);
    answer a = {0};
    if (r)
        answer_set(&a, r->status, r->body, r->len);
    else {
        a.status = 404;
        answer_set_str(&a, "{\"error\": {\"code\": \"ERR_NOT_FOUND\", \"message\": \"no route\"}}");
    }
    for (size_t i = 0; i < f->n_ops; i++)
        if (f->ops[i].req == idx && f->ops[i].kind != OP_SNAP) {
            apply(&a, &f->ops[i]);
            touched = true;
            if (g_lt.trace)
                fprintf(stderr, "  op %s %u %u %u %u on request %zu\n",
                        OP_NAMES[f->ops[i].kind], f->ops[i].a[0], f->ops[i].a[1],
                        f->ops[i].a[2], f->ops[i].a[3], idx);
        }
    f->mutated |= touched;
    if (g_lt.trace)
        fprintf(stderr, "  request %zu: GET %s (snapshot %u%s) -> %ld, %zu bytes%s\n", idx, path,
                s, r ? "" : ", not recorded", a.status, a.len,
                a.fail ? ", transport failure" : "");
    if (a.fail) {
        free(a.body);
        return a.fail;
    }
    served_name(f, &a);
    *status = a.status;
    *resp_out = a.body;
    *resp_len = a.len;
    return 0;
}

/* ---------------------------------------------------------- one run */

static void run_wallet_fake(unsigned target, bool json, unsigned gen, fake *f, outcome *oc) {
    esgw_transport t = {fake_request, f};
    char id[65];
    snprintf(id, sizeof id, "%s", esg_hash_hex(&g_lt.ids[TARGET_IDS[target]]).s);
    char *argv[12];
    int argc = 0;
    argv[argc++] = "esgwallet";
    argv[argc++] = "--node";
    argv[argc++] = NODE_URL;
    if (json)
        argv[argc++] = "--json";
    argv[argc++] = "impact";
    argv[argc++] = "verify";
    argv[argc++] = id;
    argv[argc++] = "--genesis";
    argv[argc++] = g_lt.genesis[gen];
    argv[argc] = NULL;
    size_t olen = 0, elen = 0;
    oc->out = oc->err = NULL;
    FILE *out = open_memstream(&oc->out, &olen), *err = open_memstream(&oc->err, &elen);
    if (!out || !err)
        die("open_memstream");
    oc->status = esgw_cli_run_transport(argc, argv, out, err, &t);
    fclose(out);
    fclose(err);
}

/* A run against the honest node (no operations) of snapshot `snap`. */
static void run_wallet(unsigned target, unsigned snap, bool json, unsigned gen, outcome *oc) {
    fake f = {.snap = snap};
    run_wallet_fake(target, json, gen, &f, oc);
}

/* The output with the number of signers of the commit shown ("committed
 * by N of") replaced by '#' (malloc'd). */
static char *normalized(const char *s) {
    char *c = strdup(s);
    if (!c)
        die("nomem");
    char *p = strstr(c, "committed by ");
    if (p) {
        p += 13;
        char *q = p;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q > p) {
            *p = '#';
            memmove(p + 1, q, strlen(q) + 1);
        }
    }
    return c;
}

static void fail_check(const char *why, const outcome *oc) {
    fprintf(stderr, "fuzz_light: %s\nexit %d\nstdout:\n%s\nstderr:\n%s\n", why, oc->status,
            oc->out, oc->err);
    abort();
}

static void check(const fake *f, unsigned target, bool json, unsigned gen, const outcome *oc) {
    const outcome *hon[N_SNAP];
    for (unsigned s = 0; s < N_SNAP; s++)
        hon[s] = &g_lt.honest[target][s][json][gen];
    if (!f->mutated) {
        const outcome *h = hon[f->snap];
        if (oc->status != h->status || strcmp(oc->out, h->out) != 0 || strcmp(oc->err, h->err) != 0)
            fail_check("the honest node's answers gave another outcome", oc);
        return;
    }
    if (oc->status == 0) {
        if (oc->err[0])
            fail_check("success with something on stderr", oc);
        char *got = normalized(oc->out);
        bool ok = false;
        for (unsigned s = 0; s < N_SNAP && !ok; s++) {
            if (hon[s]->status != 0)
                continue;
            char *want = normalized(hon[s]->out);
            ok = strcmp(got, want) == 0;
            free(want);
        }
        free(got);
        if (!ok)
            fail_check("A LIE WAS BELIEVED: success with an output no honest snapshot gives", oc);
        return;
    }
    if (oc->status != 1 || oc->out[0])
        fail_check("a failure with exit status other than 1 or output on stdout", oc);
    size_t n = strlen(oc->err);
    if (n == 0 || oc->err[n - 1] != '\n' || memchr(oc->err, '\n', n - 1) ||
        strncmp(oc->err, "esgwallet: ", 11) != 0)
        fail_check("the error is not one line 'esgwallet: ...'", oc);
    const char *name = oc->err + 11;
    const char *end = strstr(name, ": ");
    if (!end || end == name)
        fail_check("the error line has no code", oc);
    char code[80];
    snprintf(code, sizeof code, "%.*s", (int)(end - name), name);
    /* The verdict "no such report", whoever's error it claims to be. */
    if (strcmp(code, "ERR_UNKNOWN_REPORT") == 0) {
        for (unsigned s = 0; s < N_SNAP; s++)
            if (hon[s]->status == 1 && strcmp(oc->err, hon[s]->err) == 0)
                return;
        fail_check("A LIE WAS BELIEVED: ERR_UNKNOWN_REPORT where no honest snapshot proves "
                   "the report absent",
                   oc);
    }
    for (size_t i = 0; i < f->n_served; i++)
        if (strcmp(code, f->served[i]) == 0)
            return; /* the node's own error, passed through */
    static const char *const ours[] = {"ERR_PROOF", "ERR_JSON", "ERR_IO", "ERR_TIMEOUT",
                                       "ERR_TOO_LARGE"};
    for (size_t i = 0; i < N_OF(ours); i++)
        if (strcmp(code, ours[i]) == 0)
            return;
    fail_check("a failure with an unexpected code", oc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static bool init;
    if (!init) {
        setup();
        init = true;
    }
    rd r = {data, size};
    uint8_t flags = rd_u8(&r);
    unsigned target = flags & 3;
    bool json = flags & 4;
    unsigned snap = ((flags >> 3) & 3) % N_SNAP, gen = (flags >> 5) & 1;
    static op ops[MAX_OPS];
    fake f = {.ops = ops, .snap = snap};
    f.n_ops = parse_ops(&r, ops);
    outcome oc;
    if (g_lt.trace)
        fprintf(stderr, "report %u, snapshot %u, json %d, genesis %u, %zu operations\n", target,
                snap, json, gen, f.n_ops);
    run_wallet_fake(target, json, gen, &f, &oc);
    if (g_lt.trace)
        fprintf(stderr, "exit %d%s\n%s%s", oc.status, f.mutated ? " (answers changed)" : "",
                oc.out, oc.err);
    check(&f, target, json, gen, &oc);
    free(oc.out);
    free(oc.err);
    return 0;
}
