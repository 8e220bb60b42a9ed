/* esgwallet impact verify REPORT --genesis FILE and esgwallet audit
 * --genesis FILE [--out report.json]: the investor's and the auditor's
 * checks, trusting no node (README.md, "Checks that trust no node"). The
 * node is only a source of bytes; what is believed is what the genesis file
 * and the cryptography say.
 *
 * impact verify: GET /v1/state/proof for the report record (ESG_T_REPORTS,
 * key = report id) and for each attestation it lists (ESG_T_ATTESTATIONS),
 * all at one height (the API proves against its latest block, so the
 * proofs are fetched again when a block lands between them). Each proof is
 * checked from scratch: the header's hash, its chain id against the
 * genesis file's, the commit against the validator set in force at that
 * height (whose hash must be the header's validators_hash), and the sparse
 * Merkle proof of the exact value bytes against the header's app_hash
 * (ledger/smt.h, tree key esg_state_key). The records are then decoded and
 * the counting rule is applied to them (esg_report_count). ERR_UNKNOWN_REPORT
 * means a proven absence: a node's error answer with that code (or with a
 * code name this build does not know) is ERR_PROOF (verify_get).
 *   The set in force is followed from the genesis file's, as a light
 *   client does (trust_follow): at each change the node lists, the block
 *   before it -- committed by the set trusted so far -- announces the next
 *   set's hash (BlockHeader.next_validators_hash), and the node's copy of
 *   that set must hash to it. The node's list is only a hint: a change it
 *   hides or makes up stops the check with ERR_PROOF.
 *
 * audit: replays the node's chain (GET /v1/blocks?from&limit=100) from the
 * genesis file through esg_replay into a scratch store under $TMPDIR
 * (removed afterwards), re-verifying every signature, rule, commit and app
 * hash, up to the tip the node claimed when the audit began; then checks
 * that the replayed tip's block and app hashes are the node's, and builds
 * every instrument's allocation, impact, holders and payments documents,
 * every project's document and, for each KPI of the catalogue that some
 * project has reported, the KPI across cities (all of time), from the
 * replayed state with contracts/reports.h -- the same code the node's API
 * runs -- into --out's {..., instruments [{id, allocations, impact,
 * holders, payments}], projects [GET /v1/projects/{id}], kpis [GET
 * /v1/kpis/{id}/cities]}, each document equal to the API's byte for byte
 * (its compact JSON). */
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contracts/contracts.h"
#include "contracts/reports.h"
#include "ledger/block.h"
#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/progress.h"
#include "ledger/replay.h"
#include "ledger/smt.h"
#include "ledger/state.h"
#include "wallet/cli.h"

#define MAX_TRIES 5             /* proofs fetched again when heights differ */
#define MAX_ATTESTATIONS 1024   /* a report's attestations verify checks */
#define PAGE_BLOCKS 100         /* GET /v1/blocks?limit= */
#define MAX_THREADS 8

/* ------------------------------------------------------------- genesis */

/* What the wallet trusts: the genesis file, and the validator set it
 * names, as the chain stores it (ValidatorRecords sorted by pubkey). */
typedef struct trust {
    esg_genesis *g;
    esg_pb_validator_set vs; /* arrays in command memory */
    esg_hash vs_hash;
    uint64_t from;           /* the height from which vs is in force */
} trust;

static int by_pubkey(const void *a, const void *b) {
    const esg_pb_validator *x = *(esg_pb_validator *const *)a;
    const esg_pb_validator *y = *(esg_pb_validator *const *)b;
    return memcmp(x->pubkey.data, y->pubkey.data, 32);
}

/* The set of records recs[0..n) as the chain stores it: pointers in
 * ptrs[0..n), sorted by pubkey. */
static esg_pb_validator_set valset_of(esg_pb_validator *recs, esg_pb_validator **ptrs, size_t n) {
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &recs[i];
    qsort(ptrs, n, sizeof *ptrs, by_pubkey);
    esg_pb_validator_set vs = ESG_PB_VALIDATOR_SET_INIT;
    vs.validators = ptrs;
    vs.n_validators = n;
    return vs;
}

/* Loads the genesis file at `path` into t (t->g freed by the caller with
 * esg_genesis_free, also after an error). */
static int trust_load(esgw_cli *cli, const char *path, trust *t) {
    char err[256] = "";
    memset(t, 0, sizeof *t);
    int rc = esg_genesis_load(&t->g, path, err, sizeof err);
    if (rc)
        return esgw_cli__fail(cli, rc, "genesis '%s': %s", path, err);
    size_t n = t->g->n_validators;
    esg_pb_validator *recs = esgw_cli__alloc(cli, n * sizeof *recs);
    esg_pb_validator **ptrs = esgw_cli__alloc(cli, n * sizeof *ptrs);
    if (!recs || !ptrs)
        return ESG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        esg_pb_validator v = ESG_PB_VALIDATOR_INIT;
        v.pubkey = esg_pb_bin(t->g->validators[i].pubkey.b, 32);
        v.power = t->g->validators[i].power;
        v.operator_ = t->g->validators[i].operator_id;
        recs[i] = v;
    }
    t->vs = valset_of(recs, ptrs, n);
    t->from = 1;
    if ((rc = esg_valset_hash(&t->vs, &t->vs_hash)) != 0)
        return esgw_cli__fail(cli, rc, NULL);
    return 0;
}

/* ------------------------------------------------------ JSON, bytes */

/* The hex string o[key] as bytes in command memory. Returns 0, or -1 when
 * it is missing, not hex, or longer than `max` bytes. */
static int hex_field(esgw_cli *cli, const json_t *o, const char *key, size_t max, uint8_t **out,
                     size_t *len) {
    const char *s = json_string_value(json_object_get(o, key));
    size_t n = s ? strlen(s) : 0;
    if (!s || n % 2 || n / 2 > max)
        return -1;
    uint8_t *b = esgw_cli__alloc(cli, n / 2);
    if (!b || (n && esg_hex_decode(b, n / 2, s) != 0))
        return -1;
    *out = b;
    *len = n / 2;
    return 0;
}

static int hash_field(const json_t *o, const char *key, esg_hash *out) {
    const char *s = json_string_value(json_object_get(o, key));
    return s && strlen(s) == 64 && esg_hex_decode(out->b, 32, s) == 0 ? 0 : -1;
}

static const char *milli(esgw_cli *cli, int64_t v) {
    char b[32];
    esg_milli_format(v, b);
    const char *s = esgw_cli__strdup(cli, b);
    return s ? s : "?";
}

static const char *hex_of(esgw_cli *cli, const esg_pb_bytes *b) {
    if (b->len == 0)
        return "-";
    char *s = esgw_cli__alloc(cli, 2 * b->len + 1);
    if (!s)
        return "?";
    esg_hex_encode(s, b->data, b->len);
    return s;
}

static json_t *jhex(const esg_pb_bytes *b) {
    if (b->len == 0)
        return json_null();
    char *s = malloc(2 * b->len + 1);
    if (!s)
        return NULL;
    esg_hex_encode(s, b->data, b->len);
    json_t *j = json_string(s);
    free(s);
    return j;
}

/* ------------------------------------------------------------- proofs */

/* A record proven final by a block the validators in force committed. */
typedef struct proven {
    uint64_t height;
    uint64_t time_ms;
    esg_hash block_hash, app_hash;
    bool present;
    uint8_t *value; /* command memory */
    size_t vlen;
    size_t signers; /* validators whose precommit is in the commit */
} proven;

/* esgw_cli__get for impact verify. A node's error answer passes through
 * with its code and message, as in every command -- except one that would
 * read as a verdict: ERR_UNKNOWN_REPORT, which verify gives only for an
 * absence it has proven ("its absence is proven against block H ..."),
 * and a code name this build does not know, which the node can make look
 * like any line ("ERR_UNKNOWN_REPORT: no impact report ..."). The node
 * saying so proves nothing: those are ERR_PROOF, quoting the node. */
static int verify_get(esgw_cli *cli, json_t **doc, const char *prefix, const char *segment,
                      const char *suffix) {
    int rc = esgw_cli__get(cli, doc, prefix, segment, suffix);
    /* The client names its own errors esg_err_name(rc); a node's keep the
     * name it sent. */
    if (rc && rc != ESG_ERR_NOMEM &&
        (rc == ESG_ERR_UNKNOWN_REPORT || strcmp(cli->err.name, esg_err_name(rc)) != 0)) {
        esgw_error node = cli->err;
        rc = esgw_cli__fail(cli, ESG_ERR_PROOF,
                            "the node answered error '%.64s' ('%.300s') instead of a proof",
                            node.name, node.message);
    }
    return rc;
}

/* GET /v1/state/proof?table=T&key=HEX for a 32-byte key. */
static int fetch_proof(esgw_cli *cli, json_t **doc, esg_table table, const esg_hash *key) {
    char suffix[16];
    snprintf(suffix, sizeof suffix, "%d&key=", (int)table);
    const char *prefix = esgw_cli__printf(cli, "/v1/state/proof?table=%s", suffix);
    if (!prefix)
        return ESG_ERR_NOMEM;
    return verify_get(cli, doc, prefix, esg_hash_hex(key).s, NULL);
}

/* Checks that the header and commit JSON of a block (`hj`, `cj`: objects
 * with "raw", as /v1/blocks/{h} and the proofs carry them) are block
 * `height` of the genesis file's chain, committed by the set t trusts.
 * On success *h is the decoded header (esg_pb_free) and *bh its hash, and
 * *signers the commit's signature count. Any flaw is ESG_ERR_PROOF. */
static int verify_header(esgw_cli *cli, const trust *t, const json_t *hj, const json_t *cj,
                         uint64_t height, esg_pb_block_header **h, esg_hash *bh,
                         size_t *signers) {
    *h = NULL;
    uint8_t *raw;
    size_t len;
    esg_pb_commit *cm = NULL;
    int rc = ESG_ERR_PROOF;
    char msg[256] = "";
    if (!json_is_object(hj) || !json_is_object(cj) ||
        hex_field(cli, hj, "raw", 1 << 16, &raw, &len) != 0 ||
        esg_pb_block_header_decode(h, raw, len, len) != 0) {
        esgw_cli__fail(cli, rc, "the header of height %" PRIu64 " does not decode", height);
        goto out;
    }
    if (esg_block_header_hash(*h, bh) != 0) {
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        goto out;
    }
    if ((*h)->height != height) {
        esgw_cli__fail(cli, rc, "the node gave the header of height %" PRIu64 " for %" PRIu64,
                       (*h)->height, height);
        goto out;
    }
    if (strcmp((*h)->chain_id, t->g->chain_id) != 0) {
        esgw_cli__fail(cli, rc,
                       "the node's chain is '%.64s', not the genesis file's '%s': another chain",
                       (*h)->chain_id, t->g->chain_id);
        goto out;
    }
    if ((*h)->validators_hash.len != 32 ||
        memcmp((*h)->validators_hash.data, t->vs_hash.b, 32) != 0) {
        esgw_cli__fail(cli, rc,
                       "block %" PRIu64 " is committed by a validator set other than the one "
                       "followed from the genesis file (%s): another chain, or a change the "
                       "node did not list; 'esgwallet audit --genesis FILE' replays every "
                       "block",
                       height, esg_hash_hex(&t->vs_hash).s);
        goto out;
    }
    if (hex_field(cli, cj, "raw", 1 << 20, &raw, &len) != 0 ||
        esg_pb_commit_decode(&cm, raw, len, len) != 0) {
        esgw_cli__fail(cli, rc, "the commit of height %" PRIu64 " does not decode", height);
        goto out;
    }
    if (esg_commit_verify(cm, &t->vs, t->g->chain_id, height, bh, msg, sizeof msg) != 0) {
        esgw_cli__fail(cli, rc, "block %" PRIu64 " is not final: %s", height, msg);
        goto out;
    }
    *signers = cm->n_sigs;
    rc = 0;
out:
    esg_pb_free(cm);
    if (rc) {
        esg_pb_free(*h);
        *h = NULL;
    }
    return rc;
}

/* The validator set of /v1/validators?height=H (`doc`) as the chain
 * stores it, in command memory. -1 when malformed. */
static int valset_from_json(esgw_cli *cli, const json_t *doc, esg_pb_validator_set *out) {
    const json_t *arr = json_object_get(doc, "validators");
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0 || n > ESG_MAX_VALIDATORS)
        return -1;
    esg_pb_validator *recs = esgw_cli__alloc(cli, n * sizeof *recs);
    esg_pb_validator **ptrs = esgw_cli__alloc(cli, n * sizeof *ptrs);
    if (!recs || !ptrs)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        esg_pb_validator r = ESG_PB_VALIDATOR_INIT;
        uint8_t *pk;
        size_t pklen;
        const char *op = json_string_value(json_object_get(v, "operator"));
        if (hex_field(cli, v, "pubkey", 32, &pk, &pklen) != 0 || pklen != 32 || !op ||
            esgw_json_u64(json_object_get(v, "power"), &r.power) != 0)
            return -1;
        r.pubkey = esg_pb_bin(pk, 32);
        r.operator_ = esgw_cli__strdup(cli, op);
        if (!r.operator_)
            return -1;
        recs[i] = r;
    }
    *out = valset_of(recs, ptrs, n);
    return 0;
}

/* A light client's walk (docs/API.md, GET /v1/validators/changes): from
 * the set t trusts to the set that commits block `height`, whose hash is
 * `want`. The node lists the heights where a new set takes effect
 * (/v1/validators/changes) -- a hint, nothing more: for each change at e,
 * block e-1 must be committed by the set trusted so far and announce the
 * next set's hash
 * (next_validators_hash), and the node's copy of that set
 * (/v1/validators?height=e) must hash to it. A change the node leaves out
 * shows as a header committed by an unexpected set, a made-up one as a
 * block that announces none: either way the walk stops with ESG_ERR_PROOF. */
static int trust_follow(esgw_cli *cli, trust *t, uint64_t height, const esg_hash *want) {
    json_t *ch = NULL;
    int rc = verify_get(cli, &ch, "/v1/validators/changes", NULL, NULL);
    if (rc)
        return rc;
    const json_t *arr = json_object_get(ch, "changes");
    uint64_t prev = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        uint64_t e;
        if (esgw_json_u64(json_object_get(json_array_get(arr, i), "height"), &e) != 0 ||
            e <= prev) {
            rc = esgw_cli__fail(cli, ESG_ERR_PROOF, "the node's list of validator-set changes "
                                                    "is malformed");
            break;
        }
        prev = e;
        if (e <= t->from)
            continue;
        if (e > height)
            break;
        json_t *bd = NULL, *vd = NULL;
        esg_pb_block_header *h = NULL;
        esg_hash bh, next;
        size_t signers;
        const char *ps = esgw_cli__printf(cli, "%" PRIu64, e - 1);
        const char *qs = esgw_cli__printf(cli, "/v1/validators?height=%" PRIu64, e);
        if (!ps || !qs)
            rc = ESG_ERR_NOMEM;
        if (rc == 0)
            rc = verify_get(cli, &bd, "/v1/blocks/", ps, NULL);
        if (rc == 0)
            rc = verify_header(cli, t, json_object_get(bd, "header"),
                               json_object_get(bd, "commit"), e - 1, &h, &bh, &signers);
        if (rc == 0 && esg_pb_bytes32(&h->next_validators_hash, &next) != 0)
            rc = esgw_cli__fail(cli, ESG_ERR_PROOF,
                                "the node lists a validator-set change at height %" PRIu64
                                ", but block %" PRIu64 " (final) announces none",
                                e, e - 1);
        if (rc == 0)
            rc = verify_get(cli, &vd, qs, NULL, NULL);
        esg_pb_validator_set vs;
        esg_hash vh;
        if (rc == 0 && (valset_from_json(cli, vd, &vs) != 0 || esg_valset_hash(&vs, &vh) != 0 ||
                        !esg_hash_eq(&vh, &next)))
            rc = esgw_cli__fail(cli, ESG_ERR_PROOF,
                                "the node's validator set of height %" PRIu64
                                " is not the one block %" PRIu64 " announces (%s)",
                                e, e - 1, esg_hash_hex(&next).s);
        if (rc == 0) {
            t->vs = vs;
            t->vs_hash = vh;
            t->from = e;
        }
        esg_pb_free(h);
        json_decref(bd);
        json_decref(vd);
    }
    json_decref(ch);
    if (rc == 0 && !esg_hash_eq(&t->vs_hash, want))
        rc = esgw_cli__fail(cli, ESG_ERR_PROOF,
                            "block %" PRIu64 " is committed by a validator set (%s) that the "
                            "node's list of changes does not lead to from the genesis file: "
                            "another chain, or a node hiding a change; 'esgwallet audit "
                            "--genesis FILE' replays every block",
                            height, esg_hash_hex(want).s);
    return rc;
}

/* Checks the proof document `doc` of record `table`/`key` (`what` names
 * it in errors): header, chain id, commit by the validator set in force
 * (followed from genesis, trust_follow), and the state proof of the value
 * (or of its absence) against the header's app_hash. Everything read from
 * `doc` is bytes from outside: any flaw is ESG_ERR_PROOF. */
static int verify_proof(esgw_cli *cli, trust *t, const json_t *doc, esg_table table,
                        const esg_hash *key, const char *what, proven *out) {
    memset(out, 0, sizeof *out);
    uint64_t height = 0;
    const json_t *hj = json_object_get(doc, "header"), *cj = json_object_get(doc, "commit");
    if (esgw_json_u64(json_object_get(doc, "height"), &height) != 0)
        return esgw_cli__fail(cli, ESG_ERR_PROOF, "the node's proof of %s has no height", what);
    if (height == 0 || !json_is_object(hj) || !json_is_object(cj))
        return esgw_cli__fail(cli, ESG_ERR_PROOF,
                              "the node has no final block to prove %s against (height %" PRIu64
                              ")",
                              what, height);
    esg_pb_block_header *h = NULL;
    esg_smt_proof *proof = esgw_cli__alloc(cli, sizeof *proof);
    if (!proof)
        return ESG_ERR_NOMEM;
    int rc = ESG_ERR_PROOF;
    esg_hash bh;
    size_t signers = 0;
    /* A header committed by another set than the trusted one: follow the
     * set's changes first (the header is not trusted yet; only its claim
     * of which set committed it is used, to know where to walk). */
    {
        uint8_t *raw;
        size_t len;
        esg_pb_block_header *peek = NULL;
        esg_hash want;
        if (hex_field(cli, hj, "raw", 1 << 16, &raw, &len) == 0 &&
            esg_pb_block_header_decode(&peek, raw, len, len) == 0 &&
            esg_pb_bytes32(&peek->validators_hash, &want) == 0 &&
            !esg_hash_eq(&want, &t->vs_hash) &&
            (rc = trust_follow(cli, t, height, &want)) != 0) {
            esg_pb_free(peek);
            return rc;
        }
        esg_pb_free(peek);
    }
    if ((rc = verify_header(cli, t, hj, cj, height, &h, &bh, &signers)) != 0)
        goto out;
    rc = ESG_ERR_PROOF;
    if (h->app_hash.len != 32) {
        esgw_cli__fail(cli, rc, "the header of height %" PRIu64 " has no app hash", height);
        goto out;
    }
    memcpy(out->app_hash.b, h->app_hash.data, 32);

    /* The record: the value bytes, or null for an absent one. */
    const json_t *vj = json_object_get(doc, "value");
    out->present = !json_is_null(vj);
    if (out->present && hex_field(cli, doc, "value", 16u << 20, &out->value, &out->vlen) != 0) {
        esgw_cli__fail(cli, rc, "the node's proof of %s has a malformed value", what);
        goto out;
    }
    const json_t *pj = json_object_get(doc, "proof");
    const json_t *sib = json_object_get(pj, "siblings"), *leaf = json_object_get(pj, "leaf");
    if (!json_is_array(sib) || json_array_size(sib) > 256 || !leaf) {
        esgw_cli__fail(cli, rc, "the node's proof of %s is malformed", what);
        goto out;
    }
    proof->n_siblings = (uint16_t)json_array_size(sib);
    for (size_t i = 0; i < proof->n_siblings; i++) {
        const char *s = json_string_value(json_array_get(sib, i));
        if (!s || strlen(s) != 64 || esg_hex_decode(proof->siblings[i].b, 32, s) != 0) {
            esgw_cli__fail(cli, rc, "the node's proof of %s has a malformed sibling", what);
            goto out;
        }
    }
    proof->has_leaf = !json_is_null(leaf);
    if (proof->has_leaf && (hash_field(leaf, "key", &proof->leaf_key) != 0 ||
                            hash_field(leaf, "value_hash", &proof->leaf_value_hash) != 0)) {
        esgw_cli__fail(cli, rc, "the node's proof of %s has a malformed leaf", what);
        goto out;
    }
    /* The tree key and the leaf's value hash are computed here, from the
     * record's table and key and the value's exact bytes. */
    esg_hash tk = esg_state_key(table, key->b, 32);
    esg_hash vh = out->present ? esg_sha256(out->value, out->vlen) : (esg_hash){{0}};
    if (esg_smt_verify(&out->app_hash, &tk, out->present ? &vh : NULL, proof) != 0) {
        esgw_cli__fail(cli, rc,
                       "the proof of %s does not lead to the app hash of block %" PRIu64
                       " (%s)",
                       what, height, esg_hash_hex(&out->app_hash).s);
        goto out;
    }
    out->height = height;
    out->time_ms = h->time_ms;
    out->block_hash = bh;
    out->signers = signers;
    rc = 0;
out:
    esg_pb_free(h);
    return rc;
}

/* One fetch-and-verify of the report and its attestations. Sets *again
 * when the node's proofs came from different heights (a block landed
 * between them): the caller then fetches them all again. */
typedef struct verified {
    proven rep;
    esg_pb_report *r;              /* decoded (esg_pb_free) */
    esg_pb_attestation **atts;     /* r->n_attestations, decoded */
    size_t n_atts;
} verified;

static void verified_release(verified *v) {
    for (size_t i = 0; i < v->n_atts; i++)
        esg_pb_free(v->atts[i]);
    free(v->atts);
    esg_pb_free(v->r);
    memset(v, 0, sizeof *v);
}

static int verify_once(esgw_cli *cli, trust *t, const esg_hash *id, verified *v,
                       bool *again) {
    *again = false;
    json_t *doc = NULL;
    int rc = fetch_proof(cli, &doc, ESG_T_REPORTS, id);
    if (rc == 0)
        rc = verify_proof(cli, t, doc, ESG_T_REPORTS, id, "the report", &v->rep);
    json_decref(doc);
    if (rc)
        return rc;
    esg_hex32 idh = esg_hash_hex(id);
    if (!v->rep.present)
        return esgw_cli__fail(cli, ESG_ERR_UNKNOWN_REPORT,
                              "no impact report %s: its absence is proven against block %" PRIu64
                              " %s",
                              idh.s, v->rep.height, esg_hash_hex(&v->rep.block_hash).s);
    if (esg_pb_report_decode(&v->r, v->rep.value, v->rep.vlen, v->rep.vlen) != 0 ||
        !v->r->report || v->r->id.len != 32 || memcmp(v->r->id.data, id->b, 32) != 0)
        return esgw_cli__fail(cli, ESG_ERR_PROOF,
                              "the record proven under report %s is not that report", idh.s);
    if (v->r->n_attestations > MAX_ATTESTATIONS)
        return esgw_cli__fail(cli, ESG_ERR_TOO_LARGE, "report %s has more than %d attestations",
                              idh.s, MAX_ATTESTATIONS);
    v->atts = calloc(v->r->n_attestations + 1, sizeof *v->atts);
    if (!v->atts)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    for (size_t i = 0; i < v->r->n_attestations; i++) {
        esg_hash aid;
        if (esg_pb_bytes32(&v->r->attestations[i], &aid) != 0)
            return esgw_cli__fail(cli, ESG_ERR_PROOF, "report %s lists a malformed attestation id",
                                  idh.s);
        esg_hex32 ah = esg_hash_hex(&aid);
        proven p;
        if ((rc = fetch_proof(cli, &doc, ESG_T_ATTESTATIONS, &aid)) == 0)
            rc = verify_proof(cli, t, doc, ESG_T_ATTESTATIONS, &aid, "an attestation", &p);
        json_decref(doc);
        if (rc)
            return rc;
        if (p.height != v->rep.height) {
            *again = true;
            return 0;
        }
        if (!esg_hash_eq(&p.block_hash, &v->rep.block_hash))
            return esgw_cli__fail(cli, ESG_ERR_PROOF,
                                  "two different blocks at height %" PRIu64
                                  " carry commits of the validators",
                                  p.height);
        if (!p.present)
            return esgw_cli__fail(cli, ESG_ERR_PROOF,
                                  "report %s lists attestation %s, which the state proves absent",
                                  idh.s, ah.s);
        if (esg_pb_attestation_decode(&v->atts[i], p.value, p.vlen, p.vlen) != 0)
            return esgw_cli__fail(cli, ESG_ERR_PROOF,
                                  "the record proven under attestation %s does not decode", ah.s);
        v->n_atts = i + 1;
    }
    return 0;
}

static const char *opinion_name(int op) {
    switch (op) {
    case ESG_OPINION_CONFIRMED:
        return "CONFIRMED";
    case ESG_OPINION_QUALIFIED:
        return "QUALIFIED";
    case ESG_OPINION_REJECTED:
        return "REJECTED";
    default:
        return "UNSPECIFIED";
    }
}

static int print_verified_json(esgw_cli *cli, const trust *t, const verified *v, bool counts,
                               int64_t counted, const char *resolved_from) {
    const esg_pb_report *r = v->r;
    const esg_pb_report_impact *ri = r->report;
    char tm[32];
    json_t *atts = json_array();
    for (size_t i = 0; atts && i < v->n_atts; i++) {
        const esg_pb_attestation *a = v->atts[i];
        json_array_append_new(
            atts, json_pack("{s:o,s:s,s:s,s:s,s:o,s:I,s:b,s:s,s:I,s:b}", "id", jhex(&a->id),
                            "verifier", a->verifier, "opinion", opinion_name(a->opinion),
                            "verified_value", milli(cli, a->verified_value), "statement_sha256",
                            jhex(&a->statement_sha256), "height", (json_int_t)a->height,
                            "revoked", a->revoked, "revoke_reason", a->revoke_reason,
                            "revoked_height", (json_int_t)a->revoked_height, "supports",
                            esg_report_attestation_supports(a)));
    }
    if (esg_time_format_rfc3339(v->rep.time_ms, tm) != 0)
        tm[0] = '\0';
    json_t *o = json_pack(
        "{s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:I,s:s,s:I,s:s,s:s,s:o,s:b,s:o,"
        "s:s,s:s,s:b}",
        "report_id", jhex(&r->id), "instrument", ri->instrument, "project_id", ri->project_id,
        "city", r->city, "kpi", ri->kpi, "value", milli(cli, ri->value), "period_start",
        ri->period_start, "period_end", ri->period_end, "evidence_sha256",
        jhex(&ri->evidence_sha256), "supersedes", jhex(&ri->supersedes), "superseded_by",
        jhex(&r->superseded_by), "report_height", (json_int_t)r->height, "final_block_hash",
        esg_hash_hex(&v->rep.block_hash).s, "height", (json_int_t)v->rep.height, "block_time",
        tm, "app_hash", esg_hash_hex(&v->rep.app_hash).s, "attestations", atts, "counted",
        counts, "counted_value", counts ? json_string(milli(cli, counted)) : json_null(),
        "chain_id", t->g->chain_id, "genesis_hash", esg_hash_hex(&t->g->hash).s,
        "trusting_no_node", 1);
    if (o && json_object_set_new(o, "resolved_from",
                                 resolved_from ? json_string(resolved_from) : json_null()) != 0) {
        json_decref(o);
        o = NULL;
    }
    if (!o)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    int rc = esgw_cli__print_json(cli, o);
    json_decref(o);
    return rc;
}

static void print_verified(esgw_cli *cli, const trust *t, const verified *v, bool counts,
                           int64_t counted, const char *resolved_from) {
    FILE *f = cli->out;
    const esg_pb_report *r = v->r;
    const esg_pb_report_impact *ri = r->report;
    char tm[32];
    if (esg_time_format_rfc3339(v->rep.time_ms, tm) != 0)
        snprintf(tm, sizeof tm, "?");
    if (resolved_from)
        fprintf(f, "'%s' is report %s (the node's lookup of the prefix; what follows is "
                   "proven for the full id)\n",
                resolved_from, hex_of(cli, &r->id));
    fprintf(f, "report %s\n", hex_of(cli, &r->id));
    char rt[32];
    if (esg_time_format_rfc3339(r->time_ms, rt) != 0)
        snprintf(rt, sizeof rt, "?");
    fprintf(f, "  reported at height %" PRIu64 " (%s)\n", r->height, rt);
    fprintf(f, "  instrument %s  project %s  city %s\n", ri->instrument, ri->project_id,
            r->city);
    fprintf(f, "  kpi %s  value %s  period %s..%s\n", ri->kpi, milli(cli, ri->value),
            ri->period_start, ri->period_end);
    fprintf(f, "  evidence sha256 %s\n", hex_of(cli, &ri->evidence_sha256));
    if (ri->supersedes.len)
        fprintf(f, "  supersedes %s (%s)\n", hex_of(cli, &ri->supersedes), ri->reason);
    fprintf(f, "  %s\n", r->superseded_by.len
                             ? esgw_cli__printf(cli, "SUPERSEDED by %s: no longer counts",
                                                hex_of(cli, &r->superseded_by))
                             : "not superseded");
    fprintf(f, "final at height %" PRIu64 ", block %s (%s), committed by %zu of %zu "
               "validators (the set followed from genesis)\n",
            v->rep.height, esg_hash_hex(&v->rep.block_hash).s, tm, v->rep.signers,
            t->vs.n_validators);
    fprintf(f, "attestations: %zu\n", v->n_atts);
    for (size_t i = 0; i < v->n_atts; i++) {
        const esg_pb_attestation *a = v->atts[i];
        fprintf(f, "  %s  %s  %s  verified %s  attested at height %" PRIu64 "  %s\n",
                hex_of(cli, &a->id), a->verifier, opinion_name(a->opinion),
                milli(cli, a->verified_value), a->height,
                a->revoked ? esgw_cli__printf(cli, "REVOKED at height %" PRIu64 ": %s",
                                              a->revoked_height, a->revoke_reason)
                           : "live");
    }
    if (counts)
        fprintf(f, "counts: yes, counted value %s %s (the smallest verified value of its live "
                   "confirmed or qualified attestations)\n",
                milli(cli, counted), ri->kpi);
    else
        fprintf(f, "counts: no (%s)\n",
                r->superseded_by.len ? "superseded"
                                     : "it needs a live confirmed or qualified attestation and "
                                       "no live rejection");
    fprintf(f, "verified against genesis %s (chain '%s'), trusting no node\n",
            esg_hash_hex(&t->g->hash).s, t->g->chain_id);
}

/* The report id `arg` names: itself when it has 64 hex digits, else the
 * one report whose id starts with it, as the node's GET /v1/reports says
 * (*resolved then says so). Which report a prefix means is the node's
 * word -- a node could leave out a second match -- but the id it gives
 * is then proven like any other, and printed in full. Errors:
 * ESG_ERR_HEX, ESG_ERR_UNKNOWN_REPORT (no match), ESG_ERR_AMBIGUOUS_ID
 * (naming some matches), the node's. */
static int report_id(esgw_cli *cli, const char *arg, esg_hash *id, bool *resolved) {
    *resolved = false;
    size_t n = strlen(arg);
    if (n == 64)
        return esgw_cli__hash(cli, id, "report id", arg);
    if (n == 0 || n > 64 || strspn(arg, "0123456789abcdefABCDEF") != n)
        return esgw_cli__fail(cli, ESG_ERR_HEX,
                              "report id '%.80s' must be 64 hex digits or a prefix of them", arg);
    json_t *doc = NULL;
    int rc = esgw_cli__get(cli, &doc, "/v1/reports?prefix=", arg, NULL);
    if (rc)
        return rc;
    const json_t *arr = json_object_get(doc, "reports");
    size_t m = json_array_size(arr);
    const char *first = json_string_value(json_object_get(json_array_get(arr, 0), "id"));
    const char *second = json_string_value(json_object_get(json_array_get(arr, 1), "id"));
    if (m == 0)
        rc = esgw_cli__fail(cli, ESG_ERR_UNKNOWN_REPORT,
                            "no impact report id starts with '%s' on the node", arg);
    else if (m > 1 || json_is_true(json_object_get(doc, "more")))
        rc = esgw_cli__fail(cli, ESG_ERR_AMBIGUOUS_ID,
                            "%s%zu impact reports' ids start with '%s' (%s, %s%s): give more "
                            "digits",
                            json_is_true(json_object_get(doc, "more")) ? "more than " : "", m,
                            arg, first ? first : "?", second ? second : "?",
                            m > 2 ? ", ..." : "");
    else if (!first || esgw_cli__hash(cli, id, "report id", first) != 0 ||
             strncasecmp(first, arg, n) != 0)
        rc = esgw_cli__fail(cli, ESG_ERR_PROOF,
                            "the node resolved '%s' to '%.80s', which is no id with that prefix",
                            arg, first ? first : "");
    else
        *resolved = true;
    /* esgw_cli__fail copied what it needed from doc. */
    json_decref(doc);
    return rc;
}

static int cmd_impact_verify(esgw_cli *cli, const esgw_args *a) {
    esg_hash id;
    bool resolved;
    int rc = report_id(cli, a->pos[0], &id, &resolved);
    if (rc)
        return rc;
    trust t;
    rc = trust_load(cli, esgw_cli__opt(a, "genesis"), &t);
    verified v = {0};
    bool again = true;
    for (int i = 0; rc == 0 && again && i < MAX_TRIES; i++) {
        verified_release(&v);
        rc = verify_once(cli, &t, &id, &v, &again);
    }
    if (rc == 0 && again)
        rc = esgw_cli__fail(cli, ESG_ERR_PROOF,
                            "the node's proofs came from different heights %d times in a row; "
                            "try again",
                            MAX_TRIES);
    bool counts = false;
    int64_t counted = 0;
    if (rc == 0 && esg_report_count(v.r, v.atts, v.n_atts, &counts, &counted) != 0)
        rc = esgw_cli__fail(cli, ESG_ERR_PROOF,
                            "an attestation proven for report %s does not belong to it",
                            esg_hash_hex(&id).s);
    if (rc == 0) {
        if (cli->json)
            rc = print_verified_json(cli, &t, &v, counts, counted,
                                     resolved ? a->pos[0] : NULL);
        else
            print_verified(cli, &t, &v, counts, counted, resolved ? a->pos[0] : NULL);
    }
    verified_release(&v);
    esg_genesis_free(t.g);
    return rc;
}

/* --------------------------------------------------------------- audit */

/* Blocks from the node, a page of PAGE_BLOCKS at a time. */
typedef struct net_source {
    esgw_cli *cli;
    esgw_client *client;
    uint64_t tip; /* the node's claimed tip: the replay stops there */
    json_t *page; /* the "blocks" array of the last page (owned) */
    uint64_t first;
    size_t n;
    bool failed;          /* cli->err holds the source's own failure, */
    uint64_t fail_height; /* at this height */
} net_source;

static int b64(const char *s, uint8_t **out, size_t *len) {
    size_t n = strlen(s), cap = n / 4 * 3 + 3;
    uint8_t *b = malloc(cap);
    if (!b)
        return ESG_ERR_NOMEM;
    const char *end;
    if (sodium_base642bin(b, cap, s, n, NULL, len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        *end != '\0') {
        free(b);
        return ESG_ERR_BAD_BLOCK;
    }
    *out = b;
    return 0;
}

static int net_block(void *arg, uint64_t h, uint8_t **block, size_t *blen, uint8_t **commit,
                     size_t *clen) {
    net_source *ns = arg;
    if (h > ns->tip)
        return ESG_ERR_NOT_FOUND;
    if (!ns->page || h < ns->first || h - ns->first >= ns->n) {
        json_decref(ns->page);
        ns->page = NULL;
        ns->n = 0;
        char path[96];
        snprintf(path, sizeof path, "/v1/blocks?from=%" PRIu64 "&limit=%d", h, PAGE_BLOCKS);
        json_t *doc = NULL;
        int rc = esgw_client_get(ns->client, &doc, path, &ns->cli->err);
        if (rc) {
            ns->failed = true;
            ns->fail_height = h;
            return rc;
        }
        json_t *blocks = json_object_get(doc, "blocks");
        if (!json_is_array(blocks)) {
            json_decref(doc);
            ns->failed = true;
            ns->fail_height = h;
            return esgw_cli__fail(ns->cli, ESG_ERR_JSON, "the node sent a page without 'blocks'");
        }
        ns->n = json_array_size(blocks);
        ns->first = h;
        ns->page = json_incref(blocks);
        json_decref(doc);
        if (ns->n == 0)
            return ESG_ERR_NOT_FOUND;
    }
    const json_t *e = json_array_get(ns->page, h - ns->first);
    uint64_t eh = 0;
    const char *bs = json_string_value(json_object_get(e, "block"));
    const char *cs = json_string_value(json_object_get(e, "commit"));
    *block = *commit = NULL;
    if (esgw_json_u64(json_object_get(e, "height"), &eh) != 0 || eh != h || !bs || !cs ||
        b64(bs, block, blen) != 0 || b64(cs, commit, clen) != 0) {
        free(*block);
        *block = NULL;
        ns->failed = true;
        ns->fail_height = h;
        return esgw_cli__fail(ns->cli, ESG_ERR_BAD_BLOCK,
                              "the node sent a malformed entry for this block");
    }
    return 0;
}

static void scratch_remove(const char *dir) {
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/data.mdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock.mdb", dir);
    unlink(p);
    rmdir(dir);
}

typedef struct id_list {
    esgw_cli *cli;
    char **v;
    size_t n, cap;
} id_list;

static int collect_id(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                      void *arg) {
    (void)val;
    (void)vlen;
    id_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **v = esgw_cli__alloc(l->cli, cap * sizeof *v);
        if (!v)
            return ESG_ERR_NOMEM;
        if (l->n)
            memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
        l->cap = cap;
    }
    char *s = esgw_cli__alloc(l->cli, klen + 1);
    if (!s)
        return ESG_ERR_NOMEM;
    memcpy(s, key, klen);
    l->v[l->n++] = s;
    return 0;
}

/* The documents of each instrument, under these keys, in this order: the
 * API's .../allocations and .../impact (for the audit's --period, as
 * ?period= gives them), .../holders and .../payments. */
static const struct {
    const char *key;
    int (*build)(esg_state *st, const char *instrument, json_t **out, char *err,
                 size_t errlen);
    int (*build_in)(esg_state *st, const char *instrument, const esg_report_period *period,
                    json_t **out, char *err, size_t errlen);
} instrument_docs[] = {
    {"allocations", NULL, esg_report_allocations_in},
    {"impact", NULL, esg_report_impact_in},
    {"holders", esg_report_holders, NULL},
    {"payments", esg_report_payments, NULL},
};

/* The ids of the replayed state's table `t` (keys are ids), in id order. */
static int collect_ids(esgw_cli *cli, esg_state *st, esg_table t, const char *what,
                       id_list *ids) {
    *ids = (id_list){cli, NULL, 0, 0};
    int rc = esg_state_iter(st, t, NULL, 0, collect_id, ids);
    if (rc)
        esgw_cli__fail(cli, rc, "reading the replayed %s: %s", what, esg_err_message(rc));
    return rc;
}

/* Appends `d` (taken) to `arr`. */
static int push_doc(esgw_cli *cli, json_t *arr, json_t *d) {
    if (json_array_append_new(arr, d) != 0)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    return 0;
}

/* The documents the API serves, built from the replayed store into
 * `instruments` ({id, allocations, impact, holders, payments} of every
 * instrument), `projects` (GET /v1/projects/{id} of every project) and
 * `kpis` (GET /v1/kpis/{id}/cities of every catalogue KPI some project
 * has reported in the period: those with a city), each in id order; the
 * allocation, impact and KPI documents for `period` (all of time when it
 * is not set). */
static int build_reports(esgw_cli *cli, esg_store *store, const esg_report_period *period,
                         json_t *instruments, json_t *projects, json_t *kpis) {
    MDB_txn *txn;
    esg_state *st = NULL;
    int rc = esg_store_read_begin(store, &txn);
    if (rc)
        return esgw_cli__fail(cli, rc, "cannot read the replayed state: %s", esg_err_message(rc));
    id_list ids = {cli, NULL, 0, 0};
    char err[256] = "";
    if ((rc = esg_state_open(&st, store, txn, false)) != 0)
        esgw_cli__fail(cli, rc, "reading the replayed state: %s", esg_err_message(rc));
    if (rc == 0)
        rc = collect_ids(cli, st, ESG_T_INSTRUMENTS, "instruments", &ids);
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        json_t *ins = json_pack("{s:s}", "id", ids.v[i]);
        if ((rc = push_doc(cli, instruments, ins)) != 0)
            break;
        for (size_t k = 0; rc == 0 && k < sizeof instrument_docs / sizeof instrument_docs[0];
             k++) {
            json_t *d = NULL;
            rc = instrument_docs[k].build
                     ? instrument_docs[k].build(st, ids.v[i], &d, err, sizeof err)
                     : instrument_docs[k].build_in(st, ids.v[i], period, &d, err, sizeof err);
            if (rc)
                esgw_cli__fail(cli, rc, "instrument '%s' in the replayed state: %s", ids.v[i],
                               err);
            else if (json_object_set_new(ins, instrument_docs[k].key, d) != 0)
                rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        }
    }
    if (rc == 0)
        rc = collect_ids(cli, st, ESG_T_PROJECTS, "projects", &ids);
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        json_t *d = NULL;
        if ((rc = esg_report_project(st, ids.v[i], &d, err, sizeof err)) != 0)
            esgw_cli__fail(cli, rc, "project '%s' in the replayed state: %s", ids.v[i], err);
        else
            rc = push_doc(cli, projects, d);
    }
    if (rc == 0)
        rc = collect_ids(cli, st, ESG_T_KPIS, "KPI catalogue", &ids);
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        json_t *d = NULL;
        if ((rc = esg_report_kpi_cities(st, ids.v[i], period, &d, err, sizeof err)) != 0)
            esgw_cli__fail(cli, rc, "KPI '%s' in the replayed state: %s", ids.v[i], err);
        else if (json_array_size(json_object_get(d, "cities")) == 0)
            json_decref(d); /* no project reports it */
        else
            rc = push_doc(cli, kpis, d);
    }
    esg_state_free(st);
    esg_store_read_end(txn);
    return rc;
}

#define F(o, k) esgw_cli__field(cli, (o), (k))

/* The reports for people: per instrument, the use of proceeds and the
 * impact, drawn from the same documents --out writes. */
static void print_instrument(esgw_cli *cli, const json_t *ins) {
    FILE *f = cli->out;
    const json_t *al = json_object_get(ins, "allocations"), *im = json_object_get(ins, "impact");
    fprintf(f, "\ninstrument %s\n", F(ins, "id"));
    fprintf(f, "  proceeds: raised %s, allocated %s, unallocated %s\n", F(al, "amount_raised"),
            F(al, "allocated_total"), F(al, "unallocated"));
    size_t i, n = 0;
    const json_t *e;
    const json_t *pc = json_object_get(al, "per_city"), *pp = json_object_get(al, "per_project");
    const char **c = esgw_cli__alloc(cli, (json_array_size(pc) + json_array_size(pp) + 2) * 6 *
                                              sizeof *c);
    if (!c)
        return;
    const char *hc[] = {"    city", "share", "part", "allocated", "remaining"};
    memcpy(c, hc, sizeof hc);
    n = 5;
    json_array_foreach(pc, i, e) {
        c[n++] = esgw_cli__printf(cli, "    %s", F(e, "city"));
        c[n++] = esgw_cli__pct(cli, (uint64_t)json_integer_value(json_object_get(e, "share_bps")));
        c[n++] = F(e, "part_of_raised");
        c[n++] = F(e, "allocated");
        c[n++] = F(e, "remaining");
    }
    esgw_cli__table(f, c, n / 5, 5, 0x1e);
    const char *hp[] = {"    project", "city", "budget", "allocated", "of proceeds", "vs budget"};
    memcpy(c, hp, sizeof hp);
    n = 6;
    json_array_foreach(pp, i, e) {
        c[n++] = esgw_cli__printf(cli, "    %s", F(e, "project_id"));
        c[n++] = F(e, "city");
        c[n++] = F(e, "budget");
        c[n++] = F(e, "allocated");
        c[n++] = esgw_cli__pct(
            cli, (uint64_t)json_integer_value(json_object_get(e, "share_of_proceeds_bps")));
        c[n++] = json_is_true(json_object_get(e, "over_budget")) ? "OVER" : "within";
    }
    esgw_cli__table(f, c, n / 6, 6, 0x1c);
    const json_t *rs = json_object_get(im, "reports"), *tot = json_object_get(im, "confirmed_totals");
    fprintf(f, "  impact: %zu report(s)\n", json_array_size(rs));
    json_array_foreach(rs, i, e) {
        const char *id = F(e, "id");
        fprintf(f, "    %s  %s  %s %s %s  %s..%s  %s\n", id, F(e, "project_id"), F(e, "kpi"),
                F(e, "value"), F(e, "unit"), F(e, "period_start"), F(e, "period_end"),
                json_is_true(json_object_get(e, "counted"))
                    ? esgw_cli__printf(cli, "counted %s", F(e, "counted_value"))
                    : (json_is_null(json_object_get(e, "superseded_by")) ? "not counted"
                                                                         : "superseded"));
    }
    json_array_foreach(tot, i, e)
        fprintf(f, "    confirmed %s: %s %s (%s report(s) counted)\n", F(e, "kpi"),
                F(e, "total"), F(e, "unit"), F(e, "reports_counted"));
}

/* The projects for people: id, city, cost basis and the funders with
 * their shares of it, from the documents --out writes. */
static int print_projects(esgw_cli *cli, const json_t *projects) {
    FILE *f = cli->out;
    if (json_array_size(projects) == 0)
        return 0;
    fprintf(f, "\nprojects\n");
    size_t i;
    const json_t *p;
    json_array_foreach(projects, i, p) {
        const char *cur = json_string_value(json_object_get(p, "currency"));
        fprintf(f, "  %s (%s): cost basis %s\n", F(p, "id"), F(p, "city"),
                esgw_cli__money(cli, esgw_cli__u64_of(p, "cost_basis"), cur, true));
        esgw_cells t = {.ncols = 4};
        size_t k;
        const json_t *x;
        json_array_foreach(json_object_get(p, "funders"), k, x)
            esgw_cli__row(&t, esgw_cli__printf(cli, "    %s", F(x, "funder")), F(x, "kind"),
                          esgw_cli__money(cli, esgw_cli__u64_of(x, "amount"), cur, false),
                          esgw_cli__pct(cli, esgw_cli__u64_of(x, "share_bps")));
        int rc = esgw_cli__cells_print(cli, &t, 0xc);
        if (rc)
            return rc;
    }
    return 0;
}

/* Replay's progress hook: the line on the terminal. */
static void on_progress(void *arg, uint64_t height, uint64_t n_txs) {
    esg_progress_update(arg, height, n_txs, esg_progress_now());
}

static int cmd_audit(esgw_cli *cli, const esgw_args *a) {
    const char *out_path = esgw_cli__opt(a, "out");
    if (out_path && access(out_path, F_OK) == 0)
        return esgw_cli__fail(cli, ESG_ERR_INVALID_ARGUMENT,
                              "'%s' already exists; not overwriting it", out_path);
    esg_report_period period;
    char perr[160];
    int prc = esg_report_period_parse(esgw_cli__opt(a, "period"), &period, perr, sizeof perr);
    if (prc)
        return esgw_cli__fail(cli, prc, "--period: %s", perr);
    trust t;
    int rc = trust_load(cli, esgw_cli__opt(a, "genesis"), &t);
    json_t *status = NULL, *doc = NULL;
    net_source ns = {.cli = cli};
    esg_store *store = NULL;
    char work[PATH_MAX] = "";
    if (rc == 0)
        rc = esgw_cli__client(cli, &ns.client);
    if (rc == 0)
        rc = esgw_cli__get(cli, &status, "/v1/status", NULL, NULL);
    /* What the node claims: its chain and tip. The replay believes none of
     * it; the claim is what the replay's outcome is compared with. */
    uint64_t tip = 0;
    esg_hash claimed_block, claimed_app, claimed_genesis;
    const char *chain = rc ? NULL : json_string_value(json_object_get(status, "chain_id"));
    if (rc == 0 && (!chain || esgw_json_u64(json_object_get(status, "height"), &tip) != 0 ||
                    hash_field(status, "block_hash", &claimed_block) != 0 ||
                    hash_field(status, "app_hash", &claimed_app) != 0 ||
                    hash_field(status, "genesis_hash", &claimed_genesis) != 0))
        rc = esgw_cli__fail(cli, ESG_ERR_JSON, "node sent /v1/status without its chain head");
    if (rc == 0 && (strcmp(chain, t.g->chain_id) != 0 ||
                    !esg_hash_eq(&claimed_genesis, &t.g->hash)))
        rc = esgw_cli__fail(cli, ESG_ERR_GENESIS,
                            "the node's chain '%.64s' did not start from this genesis file "
                            "(chain '%s', genesis %s)",
                            chain, t.g->chain_id, esg_hash_hex(&t.g->hash).s);
    if (rc == 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(work, sizeof work, "%s/esgwallet-audit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(work)) {
            rc = esgw_cli__fail(cli, ESG_ERR_IO, "cannot create a scratch directory in '%s'",
                                tmp && *tmp ? tmp : "/tmp");
            work[0] = '\0';
        }
    }
    esg_replay_result res;
    memset(&res, 0, sizeof res);
    if (rc == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned threads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (unsigned)cpus;
        char err[512] = "";
        ns.tip = tip;
        /* A person watching a long audit sees how far it is; a script, a
         * pipe or --json output gets no line. */
        esg_progress line;
        bool quiet = esgw_cli__has(a, "quiet") || cli->json;
        esg_progress_start(&line, esg_progress_wanted(cli->errf, quiet) ? cli->errf : NULL,
                           "audit: replaying", tip, esg_progress_now());
        rc = esg_replay_ex(t.g, esg_contracts(), work, net_block, &ns, tip, threads,
                           on_progress, &line, &res, &store, err, sizeof err);
        esg_progress_end(&line);
        if (rc && ns.failed && res.bad_height == ns.fail_height) {
            /* The node could not serve that block: keep its error, name
             * the height. */
            char m[sizeof cli->err.message];
            memcpy(m, cli->err.message, sizeof m);
            m[900] = '\0';
            snprintf(cli->err.message, sizeof cli->err.message,
                     "FAILED at height %" PRIu64 ": %.900s", res.bad_height, m);
        } else if (rc) {
            esgw_cli__fail(cli, rc, "FAILED at height %" PRIu64 ": %s", res.bad_height, err);
        }
    }
    if (rc == 0 && res.height != tip)
        rc = esgw_cli__fail(cli, ESG_ERR_BAD_BLOCK,
                            "FAILED at height %" PRIu64 ": the node claims a chain of %" PRIu64
                            " blocks but serves only %" PRIu64,
                            res.height + 1, tip, res.height);
    if (rc == 0 && (!esg_hash_eq(&res.block_hash, &claimed_block) ||
                    !esg_hash_eq(&res.app_hash, &claimed_app)))
        rc = esgw_cli__fail(cli, ESG_ERR_APP_HASH,
                            "FAILED at height %" PRIu64 ": the replayed block %s / app hash %s "
                            "differ from the node's %s / %s",
                            tip, esg_hash_hex(&res.block_hash).s, esg_hash_hex(&res.app_hash).s,
                            esg_hash_hex(&claimed_block).s, esg_hash_hex(&claimed_app).s);
    json_t *instruments = rc ? NULL : json_array(), *projects = rc ? NULL : json_array(),
           *kpis = rc ? NULL : json_array();
    if (rc == 0 && (!instruments || !projects || !kpis))
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    if (rc == 0)
        rc = build_reports(cli, store, &period, instruments, projects, kpis);
    if (rc == 0) {
        doc = json_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:I,s:b,s:O,s:O,s:O}", "chain_id",
                        t.g->chain_id, "genesis_hash", esg_hash_hex(&t.g->hash).s, "height",
                        (json_int_t)res.height, "block_hash", esg_hash_hex(&res.block_hash).s,
                        "app_hash", esg_hash_hex(&res.app_hash).s, "blocks",
                        (json_int_t)res.height, "txs", (json_int_t)res.n_txs,
                        "matches_node", 1, "instruments", instruments, "projects", projects,
                        "kpis", kpis);
        if (!doc)
            rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    }
    if (rc == 0 && out_path) {
        char *s = json_dumps(doc, JSON_INDENT(2));
        char *text = s ? esgw_cli__printf(cli, "%s\n", s) : NULL;
        free(s);
        rc = text ? esgw_cli__write_new(cli, out_path, (const uint8_t *)text, strlen(text))
                  : esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    }
    if (rc == 0 && cli->json) {
        rc = esgw_cli__print_json(cli, doc);
    } else if (rc == 0) {
        FILE *f = cli->out;
        fprintf(f, "audit OK: replayed chain '%s' from genesis %s\n", t.g->chain_id,
                esg_hash_hex(&t.g->hash).s);
        fprintf(f, "  %" PRIu64 " blocks, %" PRIu64 " transactions in %.2f s: every signature, "
                   "rule, commit and app hash re-verified\n",
                res.height, res.n_txs, res.seconds);
        fprintf(f, "  tip height %" PRIu64 ", block %s\n", res.height,
                esg_hash_hex(&res.block_hash).s);
        fprintf(f, "  app hash %s, equal to the node's claimed tip\n",
                esg_hash_hex(&res.app_hash).s);
        size_t i;
        json_t *e;
        json_array_foreach(instruments, i, e)
            print_instrument(cli, e);
        rc = print_projects(cli, projects);
        if (rc == 0 && out_path)
            fprintf(f, "\nreport written to %s\n", out_path);
    }
    json_decref(instruments);
    json_decref(projects);
    json_decref(kpis);
    json_decref(doc);
    json_decref(status);
    json_decref(ns.page);
    esg_store_close(store);
    if (work[0])
        scratch_remove(work);
    esg_genesis_free(t.g);
    return rc;
}

#define GENESIS_HELP                                                                     \
    "  --genesis FILE   the chain's genesis file, the very bytes the network started\n"    \
    "                   from (docs/GENESIS.md; esgnode genesis new): the only thing\n"   \
    "                   trusted\n"

const esgw_cmd esgw_cli__audit_cmds[] = {
    {.path = "impact verify",
     .synopsis = "REPORT --genesis FILE   proofs checked against the validator set followed "
                 "from genesis, trusting no node",
     .min_pos = 1, .max_pos = 1, .required = "genesis", .run = cmd_impact_verify,
     .kind = ESGW_CMD_USES_NODE,
     .help = "Verifies an impact report and its attestations trusting no node: state proofs\n"
             "(GET /v1/state/proof, docs/API.md) checked against a block committed by the\n"
             "validator set in force, which is followed from the genesis file's as a light\n"
             "client does. Prints the report, its attestations proven final, and whether it\n"
             "counts and why. A node that lies or hides a change of the validator set is\n"
             "ERR_PROOF; ERR_UNKNOWN_REPORT means the report's absence is proven.\n"
             "\n"
             "  REPORT           the impact report's id: 64 hex digits, or a prefix of them\n"
             "                   that only one report's id starts with (the node looks it\n"
             "                   up, GET /v1/reports; the full id is printed, and proven);\n"
             "                   ERR_AMBIGUOUS_ID when more than one does\n" GENESIS_HELP},
    {.path = "audit",
     .synopsis = "--genesis FILE [--out report.json] [--period START:END] [--quiet]   full "
                 "replay from genesis, trusting no node; the instruments', projects' and KPIs' "
                 "documents (for the reporting period)",
     .required = "genesis", .optional = "out period", .flags = "quiet", .run = cmd_audit,
     .kind = ESGW_CMD_USES_NODE,
     .help = "Replays the node's whole chain from the genesis file, re-verifying every\n"
             "signature, rule, commit and app hash, up to the tip the node claimed when the\n"
             "audit began, and checks that the replayed tip equals the node's. Then builds\n"
             "every instrument's allocation, impact, holders and payments documents, every\n"
             "project's and each reported KPI's across cities from the replayed state, with\n"
             "the code the node's API runs. Fails naming the first block that does not\n"
             "verify. The replay goes to a scratch store under $TMPDIR (default /tmp),\n"
             "removed afterwards; signatures are checked on up to 8 threads (one per CPU).\n"
             "\n" GENESIS_HELP
             "  --out FILE       also write the documents as one JSON file, each as the API\n"
             "                   serves it; FILE must not exist (checked first); default: none\n"
             "  --period START:END  the reporting period of the allocation, impact and\n"
             "                   KPI documents, YYYY-MM-DD:YYYY-MM-DD, both days inclusive;\n"
             "                   default: all of time\n"
             "  --quiet          no progress line; there is one on stderr only when it is a\n"
             "                   terminal (TERM not dumb) and --json is not given: blocks\n"
             "                   done of the tip, transactions, blocks/s, the time left\n"
             "Environment: TMPDIR, the directory of the scratch store.\n"},
    {0},
};
