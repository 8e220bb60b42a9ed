/* suite_evidence: ledger/evidence.c -- the one encoding of an equivocation
 * and the checks of its form and signatures -- and the executor's evidence
 * path: esg_exec_build_block puts evidence into a block (or leaves it out
 * with its reason), esg_exec_check_block and esg_exec_apply_block hold a
 * received block's evidence and evidence_hash to the same rules, and
 * applying records one EvidenceRecord per offence in the state.
 *
 * Real LMDB stores, a contract table with no contracts (evidence is a
 * block's content of its own). Four validators; validator 1 (power 11,
 * operated by city-b) equivocates in most tests, the others have power 10
 * (operated by city-a): any three make a commit. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/contract.h"
#include "ledger/error.h"
#include "ledger/evidence.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/hash.h"
#include "ledger/keys.h"
#include "ledger/merkle.h"
#include "ledger/state.h"
#include "ledger/store.h"
#include "exec_fixture.h"
#include "testutil.h"

#define CHAIN "esg-evidence-test"
#define T0 UINT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define DRIFT UINT64_C(5000)
#define NV 4
#define PREVOTE ESG_VOTE_TYPE_PREVOTE
#define PRECOMMIT ESG_VOTE_TYPE_PRECOMMIT

static const esg_contract_table *ct(void) {
    static const esg_contract_table t; /* no contracts, no end_block */
    return &t;
}

/* ------------------------------------------------------------- world */

typedef struct world {
    kp v[NV], city_a, city_b, outsider;
    esg_genesis *g;
    /* Two block hashes with x < y bytewise, ordered by their first byte
     * while their last bytes are ordered the other way round. */
    esg_hash x, y;
} world;

static void world_init(world *wd) {
    memset(wd, 0, sizeof *wd);
    for (size_t i = 0; i < NV; i++)
        wd->v[i] = ef_key_new();
    wd->city_a = ef_key_new();
    wd->city_b = ef_key_new();
    wd->outsider = ef_key_new();
    esg_genesis *g = esg_genesis_new(CHAIN, T0);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(
        esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "City A", "DE", &wd->city_a.pk), 0);
    ck_assert_int_eq(
        esg_genesis_add_member(g, "city-b", ESG_KIND_CITY, "City B", "FR", &wd->city_b.pk), 0);
    for (size_t i = 0; i < NV; i++)
        ck_assert_int_eq(esg_genesis_add_validator(g, &wd->v[i].pk, i == 1 ? 11 : 10,
                                                   i == 1 ? "city-b" : "city-a"), 0);
    ef_genesis_reload(g, &wd->g);
    memset(wd->x.b, 0xff, 32);
    wd->x.b[0] = 0x01;
    memset(wd->y.b, 0x00, 32);
    wd->y.b[0] = 0x02;
    wd->y.b[31] = 0x01;
}

static void world_free(world *wd) {
    esg_genesis_free(wd->g);
    for (size_t i = 0; i < NV; i++)
        esg_seckey_wipe(&wd->v[i].sk);
    esg_seckey_wipe(&wd->city_a.sk);
    esg_seckey_wipe(&wd->city_b.sk);
    esg_seckey_wipe(&wd->outsider.sk);
}

/* ------------------------------------------------------------- votes */

/* k's signature of the vote (chain, type, height, round, bh); bh NULL: nil. */
static esg_sig vote_sig(const kp *k, const char *chain, int type, uint64_t h, uint32_t r,
                        const esg_hash *bh) {
    esg_hash vh = esg_vote_hash(chain, type, h, r, bh);
    esg_sig s;
    ck_assert_int_eq(esg_sign(&s, &k->sk, &vh), 0);
    return s;
}

/* The encoded Evidence of k voting both a and b (NULL: nil), each vote
 * signed by k on CHAIN; flip_b flips a byte of b's signature. Caller frees. */
static uint8_t *ev_make(const kp *k, int type, uint64_t h, uint32_t r, const esg_hash *a,
                        const esg_hash *b, bool flip_b, size_t *len) {
    esg_evidence_vote va = {a, vote_sig(k, CHAIN, type, h, r, a)};
    esg_evidence_vote vb = {b, vote_sig(k, CHAIN, type, h, r, b)};
    if (flip_b)
        vb.sig.b[7] ^= 1;
    uint8_t *out;
    ck_assert_int_eq(esg_evidence_encode(type, h, r, &k->pk, &va, &vb, &out, len), 0);
    return out;
}

static esg_pb_evidence *ev_decode(const uint8_t *bytes, size_t len) {
    esg_pb_evidence *ev = NULL;
    ck_assert_int_eq(esg_pb_decode(ESG_PB_EVIDENCE_DESC, bytes, len, 4096,
                                   (ProtobufCMessage **)&ev), 0);
    return ev;
}

/* The id of a decoded evidence, from its encoding. */
static esg_hash ev_id_of(const esg_pb_evidence *ev) {
    uint8_t *b;
    size_t n;
    ck_assert_int_eq(esg_pb_encode(&ev->base, &b, &n), 0);
    esg_hash id = esg_evidence_id(b, n);
    free(b);
    return id;
}

/* The state key of an offence, spelt out: validator ‖ height BE64 ‖ round
 * BE32 ‖ type. */
static void key_by_hand(const esg_pubkey *pk, uint64_t h, uint32_t r, int type,
                        uint8_t out[ESG_EVIDENCE_KEY_LEN]) {
    memcpy(out, pk->b, 32);
    for (int i = 0; i < 8; i++)
        out[32 + i] = (uint8_t)(h >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        out[40 + i] = (uint8_t)(r >> (24 - 8 * i));
    out[44] = (uint8_t)type;
}

/* ------------------------------------------------------------- nodes */

static esg_pb_validator_set *valset_at(node *n, uint64_t h) {
    MDB_txn *txn;
    esg_pb_validator_set *vs = NULL;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_exec_valset_at(txn, n->store, h, &vs), 0);
    esg_store_read_end(txn);
    return vs;
}

/* The committed EvidenceRecord of the offence (k, h, r, type), NULL when
 * there is none (caller frees with esg_pb_free). */
static esg_pb_evidence_record *record_of(node *n, const esg_pubkey *k, uint64_t h, uint32_t r,
                                         int type) {
    uint8_t key[ESG_EVIDENCE_KEY_LEN];
    key_by_hand(k, h, r, type, key);
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, n->store, txn, false), 0);
    esg_pb_evidence_record *rec = NULL;
    int rc = esg_state_get_msg(st, ESG_T_EVIDENCE, key, sizeof key, ESG_PB_EVIDENCE_RECORD_DESC,
                               (ProtobufCMessage **)&rec);
    ck_assert_msg(rc == 0 || rc == ESG_ERR_NOT_FOUND, "record: %s", esg_err_name(rc));
    esg_state_free(st);
    esg_store_read_end(txn);
    return rec;
}

/* Number of rows of the evidence table in the committed state. */
static int count_row(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg) {
    (void)k, (void)kl, (void)v, (void)vl;
    (*(size_t *)arg)++;
    return 0;
}

static size_t n_records(node *n) {
    MDB_txn *txn;
    esg_state *st;
    size_t count = 0;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, n->store, txn, false), 0);
    ck_assert_int_eq(esg_state_iter(st, ESG_T_EVIDENCE, NULL, 0, count_row, &count), 0);
    esg_state_free(st);
    esg_store_read_end(txn);
    return count;
}

/* Everything a check or a refused block must leave untouched. */
typedef struct snapshot {
    esg_store_meta meta;
    esg_hash root;
    size_t records;
} snapshot;

static snapshot snap(node *n) {
    return (snapshot){ef_meta_of(n), ef_state_root_of(n), n_records(n)};
}

static bool unchanged(node *n, const snapshot *s) {
    esg_store_meta m = ef_meta_of(n);
    esg_hash r = ef_state_root_of(n);
    return ef_meta_eq(&m, &s->meta) && esg_hash_eq(&r, &s->root) &&
           n_records(n) == s->records && !ef_block_exists(n, s->meta.height + 1);
}

/* Fills e[0..n) with data[i]/len[i], results preset to a value the
 * executor must overwrite. */
static void ev_items(esg_exec_evidence *e, uint8_t *const *data, const size_t *len, size_t n) {
    memset(e, 0, n * sizeof *e);
    for (size_t i = 0; i < n; i++) {
        e[i].data = data[i];
        e[i].len = len[i];
        e[i].result = 12345;
        snprintf(e[i].msg, sizeof e[i].msg, "stale");
    }
}

static void build(node *n, const world *wd, esg_exec_evidence *ev, size_t n_ev, uint64_t time,
                  bool allow_empty, uint8_t **blk, size_t *bl, esg_hash *bh, esg_produced *out) {
    int rc = esg_exec_build_block(n->store, ct(), NULL, 0, ev, n_ev, time, &wd->v[0].pk,
                                  allow_empty, blk, bl, bh, out);
    ck_assert_msg(rc == 0, "build: %s", esg_err_name(rc));
}

static int check(node *n, const uint8_t *blk, size_t len, uint64_t now, char *err) {
    return esg_exec_check_block(n->store, ct(), blk, len, NULL, now, DRIFT, err, 256);
}

/* Applies blk with a commit of validators 1..3 for (height, round 0, bh). */
static int commit(node *n, const world *wd, const uint8_t *blk, size_t len, uint64_t height,
                  const esg_hash *bh, char *err) {
    const kp *three[] = {&wd->v[1], &wd->v[2], &wd->v[3]};
    uint8_t *cm;
    size_t cl;
    ck_assert_int_eq(ef_encode_commit(three, 3, CHAIN, height, 0, bh, &cm, &cl), 0);
    int rc = esg_exec_apply_block(n->store, ct(), blk, len, cm, cl, NULL, err, 256);
    free(cm);
    return rc;
}

/* Re-encodes block pb with evidence evs[0..n) and the header's
 * evidence_hash set to eh[0..ehlen) (ehlen 0: absent); *bh gets the new
 * header's hash. Caller frees *out. */
static void block_variant(const esg_pb_block *pb, esg_pb_evidence **evs, size_t n,
                          const uint8_t *eh, size_t ehlen, uint8_t **out, size_t *len,
                          esg_hash *bh) {
    esg_pb_block_header h = *pb->header;
    h.evidence_hash = esg_pb_bin(eh, ehlen);
    esg_pb_block b = ESG_PB_BLOCK_INIT;
    b.header = &h;
    b.n_txs = pb->n_txs;
    b.txs = pb->txs;
    b.n_evidence = n;
    b.evidence = evs;
    ck_assert_int_eq(esg_block_header_hash(&h, bh), 0);
    ck_assert_int_eq(esg_pb_encode(&b.base, out, len), 0);
}

/* The evidence_hash of evs[0..n) as the header must carry it. */
static esg_hash root_of(esg_pb_evidence *const *evs, size_t n) {
    esg_hash ids[40], root;
    ck_assert_uint_le(n, 40);
    for (size_t i = 0; i < n; i++)
        ids[i] = ev_id_of(evs[i]);
    ck_assert(esg_evidence_root(ids, n, &root));
    return root;
}

/* ------------------------------------------------------------ encode */

START_TEST(test_encode) {
    world wd;
    world_init(&wd);
    node A;
    ef_node_open(&A, wd.g);
    esg_pb_validator_set *vs = valset_at(&A, 1);
    const kp *k = &wd.v[1];
    ck_assert_int_lt(memcmp(wd.x.b, wd.y.b, 32), 0);

    for (int type = PREVOTE; type <= PRECOMMIT; type++) {
        esg_evidence_vote vx = {&wd.x, vote_sig(k, CHAIN, type, 7, 3, &wd.x)};
        esg_evidence_vote vy = {&wd.y, vote_sig(k, CHAIN, type, 7, 3, &wd.y)};
        esg_evidence_vote vn = {NULL, vote_sig(k, CHAIN, type, 7, 3, NULL)};
        /* (x, y) and (y, x) give one encoding: x first, each with its own
         * signature; (nil, y) and (y, nil) give one: nil first. */
        const esg_evidence_vote *pairs[4][2] = {{&vx, &vy}, {&vy, &vx}, {&vy, &vn}, {&vn, &vy}};
        uint8_t *enc[4];
        size_t len[4];
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(esg_evidence_encode(type, 7, 3, &k->pk, pairs[i][0], pairs[i][1],
                                                 &enc[i], &len[i]), 0);
        ck_assert_uint_eq(len[0], len[1]);
        ck_assert_mem_eq(enc[0], enc[1], len[0]);
        ck_assert_uint_eq(len[2], len[3]);
        ck_assert_mem_eq(enc[2], enc[3], len[2]);
        const esg_evidence_vote *first[2] = {&vx, &vn}, *second[2] = {&vy, &vy};
        for (int p = 0; p < 2; p++) {
            esg_pb_evidence *ev = ev_decode(enc[2 * p], len[2 * p]);
            const esg_pb_consensus_vote *votes[2] = {ev->vote_a, ev->vote_b};
            const esg_evidence_vote *want[2] = {first[p], second[p]};
            for (int i = 0; i < 2; i++) {
                ck_assert_int_eq(votes[i]->type, type);
                ck_assert_uint_eq(votes[i]->height, 7);
                ck_assert_uint_eq(votes[i]->round, 3);
                ck_assert_uint_eq(votes[i]->validator.len, 32);
                ck_assert_mem_eq(votes[i]->validator.data, k->pk.b, 32);
                ck_assert_uint_eq(votes[i]->sig.len, 64);
                ck_assert_mem_eq(votes[i]->sig.data, want[i]->sig.b, 64);
                if (want[i]->block) {
                    ck_assert_uint_eq(votes[i]->block_hash.len, 32);
                    ck_assert_mem_eq(votes[i]->block_hash.data, want[i]->block->b, 32);
                } else {
                    ck_assert_uint_eq(votes[i]->block_hash.len, 0);
                }
            }
            /* It verifies against the genesis set, on this chain only. */
            char why[256];
            int rc = esg_evidence_verify(ev, CHAIN, vs, why, sizeof why);
            ck_assert_msg(rc == 0, "verify: %s", why);
            ck_assert_str_eq(why, "");
            ck_assert_int_eq(esg_evidence_verify(ev, "other-chain", vs, why, sizeof why),
                             ESG_ERR_BAD_EVIDENCE);
            /* Its id is the tagged hash of exactly these bytes. */
            esg_hash id = esg_evidence_id(enc[2 * p], len[2 * p]);
            esg_hash want_id = esg_hash_tagged(ESG_TAG_EVIDENCE, enc[2 * p], len[2 * p]);
            ck_assert(esg_hash_eq(&id, &want_id));
            /* The offence's key: validator ‖ height BE ‖ round BE ‖ type,
             * the same whichever pair proves it. */
            uint8_t key[ESG_EVIDENCE_KEY_LEN], hand[ESG_EVIDENCE_KEY_LEN];
            esg_evidence_key(ev, key);
            key_by_hand(&k->pk, 7, 3, type, hand);
            ck_assert_mem_eq(key, hand, sizeof key);
            esg_pb_free(ev);
        }
        esg_hash i0 = esg_evidence_id(enc[0], len[0]), i2 = esg_evidence_id(enc[2], len[2]);
        ck_assert(!esg_hash_eq(&i0, &i2));

        /* No equivocation without two values. */
        uint8_t *out = (uint8_t *)"untouched";
        size_t olen = 99;
        ck_assert_int_eq(esg_evidence_encode(type, 7, 3, &k->pk, &vx, &vx, &out, &olen),
                         ESG_ERR_BAD_EVIDENCE);
        ck_assert_ptr_null(out);
        ck_assert_uint_eq(olen, 0);
        esg_evidence_vote vx2 = {&wd.x, vy.sig}; /* same value, other signature */
        ck_assert_int_eq(esg_evidence_encode(type, 7, 3, &k->pk, &vx, &vx2, &out, &olen),
                         ESG_ERR_BAD_EVIDENCE);
        ck_assert_ptr_null(out);
        esg_evidence_vote vn2 = {NULL, vx.sig};
        ck_assert_int_eq(esg_evidence_encode(type, 7, 3, &k->pk, &vn, &vn2, &out, &olen),
                         ESG_ERR_BAD_EVIDENCE);
        ck_assert_ptr_null(out);
        for (int i = 0; i < 4; i++)
            free(enc[i]);
    }

    /* The key orders height and round big-endian. */
    size_t len;
    uint8_t *enc = ev_make(k, PRECOMMIT, UINT64_C(0x0102030405060708), 0x0a0b0c0d, &wd.x,
                           &wd.y, false, &len);
    esg_pb_evidence *ev = ev_decode(enc, len);
    uint8_t key[ESG_EVIDENCE_KEY_LEN];
    esg_evidence_key(ev, key);
    static const uint8_t tail[13] = {1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 2};
    ck_assert_mem_eq(key, k->pk.b, 32);
    ck_assert_mem_eq(key + 32, tail, sizeof tail);
    esg_pb_free(ev);
    free(enc);

    /* The header's evidence_hash: none for no evidence, else the Merkle
     * root of the ids in block order. */
    esg_hash ids[3] = {esg_sha256("a", 1), esg_sha256("b", 1), esg_sha256("c", 1)}, root;
    root = ids[2];
    ck_assert(!esg_evidence_root(ids, 0, &root));
    ck_assert(esg_hash_eq(&root, &ids[2])); /* untouched */
    for (size_t n = 1; n <= 3; n++) {
        esg_hash want = esg_merkle_root(ids, n);
        ck_assert(esg_evidence_root(ids, n, &root));
        ck_assert(esg_hash_eq(&root, &want));
    }
    esg_hash swapped[2] = {ids[1], ids[0]}, r01, r10;
    ck_assert(esg_evidence_root(ids, 2, &r01));
    ck_assert(esg_evidence_root(swapped, 2, &r10));
    ck_assert(!esg_hash_eq(&r01, &r10));

    esg_pb_free(vs);
    ef_node_close(&A);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------------------ verify */

/* One vote built by hand, every field free to be wrong. */
typedef struct vspec {
    int type;
    uint64_t height;
    uint32_t round;
    uint8_t hash[32];
    size_t hash_len; /* 0: nil */
    uint8_t val[32];
    size_t val_len;
    esg_sig sig;
    size_t sig_len;
} vspec;

/* Signs v as it stands, by k for `chain` (a hash neither nil nor 32
 * bytes is signed as nil: it never gets as far as the signature check). */
static void vspec_sign(vspec *v, const kp *k, const char *chain) {
    esg_hash h;
    memcpy(h.b, v->hash, 32);
    v->sig = vote_sig(k, chain, v->type, v->height, v->round, v->hash_len == 32 ? &h : NULL);
    v->sig_len = 64;
}

static void vspec_init(vspec *v, const kp *k, int type, uint64_t h, uint32_t r,
                       const esg_hash *bh) {
    memset(v, 0, sizeof *v);
    v->type = type;
    v->height = h;
    v->round = r;
    if (bh) {
        memcpy(v->hash, bh->b, 32);
        v->hash_len = 32;
    }
    memcpy(v->val, k->pk.b, 32);
    v->val_len = 32;
    vspec_sign(v, k, CHAIN);
}

static esg_pb_consensus_vote vspec_vote(const vspec *v) {
    esg_pb_consensus_vote cv = ESG_PB_CONSENSUS_VOTE_INIT;
    cv.type = (Esg__VoteType)v->type;
    cv.height = v->height;
    cv.round = v->round;
    cv.block_hash = esg_pb_bin(v->hash, v->hash_len);
    cv.validator = esg_pb_bin(v->val, v->val_len);
    cv.sig = esg_pb_bin(v->sig.b, v->sig_len);
    return cv;
}

START_TEST(test_verify_rejects) {
    world wd;
    world_init(&wd);
    node A;
    ef_node_open(&A, wd.g);
    esg_pb_validator_set *vs = valset_at(&A, 1);
    const kp *k = &wd.v[1];
    char stranger[128];
    snprintf(stranger, sizeof stranger, "%s is not a validator at height 1",
             esg_pubkey_hex(&wd.outsider.pk).s);

    enum { V_GOOD, V_GOOD_NIL, V_NO_A, V_NO_B, V_TYPE, V_HEIGHT, V_ROUND, V_VALIDATOR,
           V_VAL31, V_SAME, V_SAME_NIL, V_ORDER, V_ORDER_NIL, V_HASH31, V_HASH_ZERO, V_HEIGHT0,
           V_TYPE0, V_TYPE9, V_STRANGER, V_SIG_A, V_SIG_B, V_SIG63, V_CHAIN, V_COUNT };
    const char *const same_thr = "the two votes are not for the same type, height and round";
    const char *const bad_hash = "a vote's block hash must be empty (nil) or 32 bytes, not all zero";
    const char *const same_val = "the two votes are for the same value: no equivocation";
    const char *const order = "vote_a's block hash must sort before vote_b's (nil first)";
    const char *const bad_type = "vote type must be prevote or precommit";
    const char *want[V_COUNT] = {
        [V_GOOD] = "", [V_GOOD_NIL] = "",
        [V_NO_A] = "evidence needs two votes", [V_NO_B] = "evidence needs two votes",
        [V_TYPE] = same_thr, [V_HEIGHT] = same_thr, [V_ROUND] = same_thr,
        [V_VALIDATOR] = "the two votes are not by the same validator",
        [V_VAL31] = "the two votes are not by the same validator",
        [V_SAME] = same_val, [V_SAME_NIL] = same_val,
        [V_ORDER] = order, [V_ORDER_NIL] = order,
        [V_HASH31] = bad_hash, [V_HASH_ZERO] = bad_hash,
        [V_HEIGHT0] = "evidence height must be at least 1",
        [V_TYPE0] = bad_type, [V_TYPE9] = bad_type,
        [V_STRANGER] = stranger,
        [V_SIG_A] = "vote_a signature does not verify",
        [V_SIG_B] = "vote_b signature does not verify",
        [V_SIG63] = "a vote signature must be 64 bytes",
        [V_CHAIN] = "vote_a signature does not verify",
    };
    for (int v = 0; v < V_COUNT; v++) {
        vspec a, b;
        vspec_init(&a, k, PREVOTE, 1, 0, &wd.x);
        vspec_init(&b, k, PREVOTE, 1, 0, &wd.y);
        bool no_a = false, no_b = false, swap = false;
        switch (v) {
        case V_GOOD_NIL: vspec_init(&a, k, PREVOTE, 1, 0, NULL); break;
        case V_NO_A: no_a = true; break;
        case V_NO_B: no_b = true; break;
        case V_TYPE: b.type = PRECOMMIT; vspec_sign(&b, k, CHAIN); break;
        case V_HEIGHT: b.height = 2; vspec_sign(&b, k, CHAIN); break;
        case V_ROUND: b.round = 1; vspec_sign(&b, k, CHAIN); break;
        case V_VALIDATOR: vspec_init(&b, &wd.v[2], PREVOTE, 1, 0, &wd.y); break;
        case V_VAL31: b.val_len = 31; a.val_len = 31; break;
        case V_SAME: vspec_init(&b, k, PREVOTE, 1, 0, &wd.x); break;
        case V_SAME_NIL:
            vspec_init(&a, k, PREVOTE, 1, 0, NULL);
            vspec_init(&b, k, PREVOTE, 1, 0, NULL);
            break;
        case V_ORDER: swap = true; break;
        case V_ORDER_NIL: vspec_init(&b, k, PREVOTE, 1, 0, NULL); break; /* (x, nil) */
        case V_HASH31: b.hash_len = 31; vspec_sign(&b, k, CHAIN); break;
        case V_HASH_ZERO: memset(a.hash, 0, 32); vspec_sign(&a, k, CHAIN); break;
        case V_HEIGHT0:
            a.height = b.height = 0;
            vspec_sign(&a, k, CHAIN);
            vspec_sign(&b, k, CHAIN);
            break;
        case V_TYPE0:
        case V_TYPE9:
            a.type = b.type = v == V_TYPE0 ? ESG_VOTE_TYPE_UNSPECIFIED : 9;
            vspec_sign(&a, k, CHAIN);
            vspec_sign(&b, k, CHAIN);
            break;
        case V_STRANGER:
            vspec_init(&a, &wd.outsider, PREVOTE, 1, 0, &wd.x);
            vspec_init(&b, &wd.outsider, PREVOTE, 1, 0, &wd.y);
            break;
        case V_SIG_A: a.sig.b[10] ^= 1; break;
        case V_SIG_B: b.sig.b[63] ^= 1; break;
        case V_SIG63: b.sig_len = 63; break;
        case V_CHAIN:
            vspec_sign(&a, k, "other-chain");
            vspec_sign(&b, k, "other-chain");
            break;
        default: break;
        }
        esg_pb_consensus_vote va = vspec_vote(&a), vb = vspec_vote(&b);
        esg_pb_evidence ev = ESG_PB_EVIDENCE_INIT;
        ev.vote_a = no_a ? NULL : swap ? &vb : &va;
        ev.vote_b = no_b ? NULL : swap ? &va : &vb;
        char why[256];
        memset(why, 'z', sizeof why);
        why[sizeof why - 1] = '\0';
        int rc = esg_evidence_verify(&ev, CHAIN, vs, why, sizeof why);
        ck_assert_msg(rc == (want[v][0] ? ESG_ERR_BAD_EVIDENCE : 0), "variant %d: %s (%s)", v,
                      esg_err_name(rc), why);
        ck_assert_msg(strcmp(why, want[v]) == 0, "variant %d: why '%s', want '%s'", v, why,
                      want[v]);
        /* Signed for another chain, it is that chain's evidence. */
        if (v == V_CHAIN)
            ck_assert_int_eq(esg_evidence_verify(&ev, "other-chain", vs, why, sizeof why), 0);
    }

    /* The reason is cut to whylen, never overrun. */
    vspec a, b;
    vspec_init(&a, k, PREVOTE, 1, 0, &wd.y);
    vspec_init(&b, k, PREVOTE, 1, 0, &wd.x);
    esg_pb_consensus_vote va = vspec_vote(&a), vb = vspec_vote(&b);
    esg_pb_evidence ev = ESG_PB_EVIDENCE_INIT;
    ev.vote_a = &va;
    ev.vote_b = &vb;
    char small[8];
    ck_assert_int_eq(esg_evidence_verify(&ev, CHAIN, vs, small, sizeof small),
                     ESG_ERR_BAD_EVIDENCE);
    ck_assert_str_eq(small, "vote_a'");

    esg_pb_free(vs);
    ef_node_close(&A);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------------------- build */

START_TEST(test_build_record) {
    world wd;
    world_init(&wd);
    node A, B, C;
    ef_node_open(&A, wd.g);
    ef_node_open(&B, wd.g);
    ef_node_open(&C, wd.g);
    snapshot a0 = snap(&A), b0 = snap(&B);
    const kp *k = &wd.v[1];
    char err[256];

    /* Height 1: one evidence, no transaction, no empty blocks wanted. */
    size_t l1;
    uint8_t *e1 = ev_make(k, PREVOTE, 1, 0, &wd.x, &wd.y, false, &l1);
    esg_exec_evidence ev[40];
    ev_items(ev, &e1, &l1, 1);
    uint8_t *blk;
    size_t bl;
    esg_hash bh;
    esg_produced out;
    build(&A, &wd, ev, 1, T0 + 1000, false, &blk, &bl, &bh, &out);
    ck_assert(out.made);
    ck_assert_uint_eq(out.height, 1);
    ck_assert_uint_eq(out.n_included, 0);
    ck_assert(esg_hash_eq(&out.block_hash, &bh));
    ck_assert_int_eq(ev[0].result, 0);
    ck_assert_str_eq(ev[0].msg, "");
    /* Building wrote nothing. */
    ck_assert(unchanged(&A, &a0));
    ck_assert_ptr_null(record_of(&A, &k->pk, 1, 0, PREVOTE));

    /* The block carries the evidence as given and commits to it. */
    esg_pb_block *pb;
    ck_assert_int_eq(esg_pb_block_decode(&pb, blk, bl, SIZE_MAX), 0);
    ck_assert_uint_eq(pb->n_txs, 0);
    ck_assert_uint_eq(pb->n_evidence, 1);
    uint8_t *re;
    size_t rl;
    ck_assert_int_eq(esg_pb_encode(&pb->evidence[0]->base, &re, &rl), 0);
    ck_assert_uint_eq(rl, l1);
    ck_assert_mem_eq(re, e1, l1);
    free(re);
    esg_hash id1 = esg_evidence_id(e1, l1), root1, hh;
    ck_assert(esg_evidence_root(&id1, 1, &root1));
    esg_hash m1 = esg_merkle_root(&id1, 1);
    ck_assert(esg_hash_eq(&root1, &m1));
    ck_assert_uint_eq(pb->header->evidence_hash.len, 32);
    ck_assert_mem_eq(pb->header->evidence_hash.data, root1.b, 32);
    ck_assert_int_eq(esg_block_header_hash(pb->header, &hh), 0);
    ck_assert(esg_hash_eq(&hh, &bh));
    ck_assert_mem_eq(pb->header->app_hash.data, out.app_hash.b, 32);
    esg_pb_free(pb);

    /* The same block without the evidence: another app_hash (the record
     * is in the state) and no evidence_hash. */
    uint8_t *plain;
    size_t pl;
    esg_hash ph;
    esg_produced pout;
    build(&C, &wd, NULL, 0, T0 + 1000, true, &plain, &pl, &ph, &pout);
    ck_assert(pout.made);
    ck_assert_uint_eq(pout.height, 1);
    ck_assert(!esg_hash_eq(&pout.app_hash, &out.app_hash));
    ck_assert(!esg_hash_eq(&ph, &bh));
    ck_assert_int_eq(esg_pb_block_decode(&pb, plain, pl, SIZE_MAX), 0);
    ck_assert_uint_eq(pb->header->evidence_hash.len, 0);
    ck_assert_uint_eq(pb->n_evidence, 0);
    esg_pb_free(pb);
    free(plain);

    /* Another replica accepts it and, decided, records the offence. */
    int rc = check(&B, blk, bl, T0 + 1000, err);
    ck_assert_msg(rc == 0, "check: %s: %s", esg_err_name(rc), err);
    ck_assert_str_eq(err, "");
    ck_assert(unchanged(&B, &b0));
    rc = commit(&B, &wd, blk, bl, 1, &bh, err);
    ck_assert_msg(rc == 0, "commit on B: %s: %s", esg_err_name(rc), err);
    rc = commit(&A, &wd, blk, bl, 1, &bh, err);
    ck_assert_msg(rc == 0, "commit on A: %s: %s", esg_err_name(rc), err);
    esg_store_meta ma = ef_meta_of(&A), mb = ef_meta_of(&B);
    ck_assert(ef_meta_eq(&ma, &mb));
    ck_assert_uint_eq(mb.height, 1);
    ck_assert(esg_hash_eq(&mb.block_hash, &bh));
    ck_assert(esg_hash_eq(&mb.app_hash, &out.app_hash));
    esg_hash rb = ef_state_root_of(&B);
    ck_assert(esg_hash_eq(&rb, &out.app_hash));
    ck_assert_uint_eq(n_records(&B), 1);
    esg_pb_evidence_record *rec = record_of(&B, &k->pk, 1, 0, PREVOTE);
    ck_assert_ptr_nonnull(rec);
    ck_assert_uint_eq(rec->validator.len, 32);
    ck_assert_mem_eq(rec->validator.data, k->pk.b, 32);
    ck_assert_uint_eq(rec->power, 11);
    ck_assert_str_eq(rec->operator_, "city-b");
    ck_assert_uint_eq(rec->included_height, 1);
    ck_assert_ptr_nonnull(rec->evidence);
    ck_assert_int_eq(esg_pb_encode(&rec->evidence->base, &re, &rl), 0);
    ck_assert_uint_eq(rl, l1);
    ck_assert_mem_eq(re, e1, l1);
    free(re);
    /* Its key is esg_evidence_key's. */
    uint8_t key[ESG_EVIDENCE_KEY_LEN];
    esg_evidence_key(rec->evidence, key);
    ck_assert(ef_has_row(&B, ESG_T_EVIDENCE, key, sizeof key));
    esg_pb_free(rec);
    free(blk);

    /* Height 2: what is left out, and why. */
    size_t l[9];
    uint8_t *e[9];
    e[0] = e1, l[0] = l1;                                           /* recorded */
    e[1] = ev_make(k, PREVOTE, 1, 0, NULL, &wd.x, false, &l[1]);   /* same offence */
    e[2] = (uint8_t *)"\x0a\xff garbage", l[2] = 10;                /* no Evidence */
    e[3] = ev_make(&wd.v[2], PREVOTE, 1, 0, &wd.x, &wd.y, true, &l[3]); /* bad sig */
    e[4] = ev_make(&wd.v[2], PREVOTE, 3, 0, &wd.x, &wd.y, false, &l[4]); /* future */
    e[5] = ev_make(&wd.v[2], PRECOMMIT, 1, 0, &wd.x, &wd.y, false, &l[5]);
    e[6] = e[5], l[6] = l[5];                                       /* twice */
    e[7] = ev_make(&wd.v[3], PREVOTE, 2, 0, NULL, &wd.y, false, &l[7]); /* at the block's height */
    e[8] = (uint8_t *)"", l[8] = 0;                                 /* no votes */
    ev_items(ev, e, l, 9);
    snapshot a1 = snap(&A);
    build(&A, &wd, ev, 9, T0 + 2000, false, &blk, &bl, &bh, &out);
    ck_assert(out.made);
    ck_assert_uint_eq(out.height, 2);
    ck_assert(unchanged(&A, &a1));
    static const int want_rc[9] = {ESG_ERR_EVIDENCE_RECORDED, ESG_ERR_EVIDENCE_RECORDED,
                                   ESG_ERR_BAD_EVIDENCE, ESG_ERR_BAD_EVIDENCE,
                                   ESG_ERR_BAD_EVIDENCE, 0, ESG_ERR_EVIDENCE_RECORDED, 0,
                                   ESG_ERR_BAD_EVIDENCE};
    char rec1[160], rec2[160];
    snprintf(rec1, sizeof rec1, "the equivocation of %s at 1/0 is already recorded",
             esg_pubkey_hex(&k->pk).s);
    snprintf(rec2, sizeof rec2, "the equivocation of %s at 1/0 is already recorded",
             esg_pubkey_hex(&wd.v[2].pk).s);
    const char *want_msg[9] = {rec1, rec1, "evidence does not decode canonically",
                               "vote_b signature does not verify",
                               "evidence height 3 is not in 1..2", "", rec2, "",
                               "evidence needs two votes"};
    for (int i = 0; i < 9; i++) {
        ck_assert_msg(ev[i].result == want_rc[i], "evidence %d: %s (%s)", i,
                      esg_err_name(ev[i].result), ev[i].msg);
        ck_assert_msg(strcmp(ev[i].msg, want_msg[i]) == 0, "evidence %d: msg '%s'", i,
                      ev[i].msg);
    }
    ck_assert_int_eq(esg_pb_block_decode(&pb, blk, bl, SIZE_MAX), 0);
    ck_assert_uint_eq(pb->n_evidence, 2);
    esg_hash ids2[2] = {esg_evidence_id(e[5], l[5]), esg_evidence_id(e[7], l[7])};
    esg_hash root2 = esg_merkle_root(ids2, 2);
    ck_assert_uint_eq(pb->header->evidence_hash.len, 32);
    ck_assert_mem_eq(pb->header->evidence_hash.data, root2.b, 32);
    esg_pb_free(pb);
    rc = check(&B, blk, bl, T0 + 2000, err);
    ck_assert_msg(rc == 0, "check 2: %s: %s", esg_err_name(rc), err);
    ck_assert_int_eq(commit(&B, &wd, blk, bl, 2, &bh, err), 0);
    ck_assert_int_eq(commit(&A, &wd, blk, bl, 2, &bh, err), 0);
    ck_assert_uint_eq(n_records(&B), 3);
    rec = record_of(&B, &wd.v[2].pk, 1, 0, PRECOMMIT);
    ck_assert_ptr_nonnull(rec);
    ck_assert_uint_eq(rec->power, 10);
    ck_assert_str_eq(rec->operator_, "city-a");
    ck_assert_uint_eq(rec->included_height, 2);
    esg_pb_free(rec);
    rec = record_of(&B, &wd.v[3].pk, 2, 0, PREVOTE);
    ck_assert_ptr_nonnull(rec);
    ck_assert_uint_eq(rec->included_height, 2);
    esg_pb_free(rec);
    /* The first pair of the offence stays its record. */
    rec = record_of(&B, &k->pk, 1, 0, PREVOTE);
    ck_assert_ptr_nonnull(rec);
    ck_assert_uint_eq(rec->included_height, 1);
    ck_assert_mem_eq(rec->evidence->vote_a->block_hash.data, wd.x.b, 32);
    esg_pb_free(rec);
    ck_assert_ptr_null(record_of(&B, &wd.v[2].pk, 1, 0, PREVOTE));
    ck_assert_ptr_null(record_of(&B, &wd.v[2].pk, 3, 0, PREVOTE));
    free(blk);
    for (int i = 1; i < 8; i++)
        if (i != 2 && i != 6)
            free(e[i]);

    /* Height 3: at most ESG_MAX_BLOCK_EVIDENCE; the rest, valid or not,
     * wait for another block. */
    enum { N = ESG_MAX_BLOCK_EVIDENCE + 3 };
    uint8_t *many[N];
    size_t ml[N];
    for (int i = 0; i < N; i++)
        many[i] = ev_make(&wd.v[3], PREVOTE, 1, (uint32_t)i, &wd.x, &wd.y, false, &ml[i]);
    free(many[N - 1]);
    many[N - 1] = malloc(4);
    ck_assert_ptr_nonnull(many[N - 1]);
    memcpy(many[N - 1], "junk", 4); /* past the limit even invalid is "full" */
    ml[N - 1] = 4;
    ev_items(ev, many, ml, N);
    build(&A, &wd, ev, N, T0 + 3000, false, &blk, &bl, &bh, &out);
    ck_assert(out.made);
    for (int i = 0; i < N; i++) {
        if (i < ESG_MAX_BLOCK_EVIDENCE) {
            ck_assert_msg(ev[i].result == 0, "evidence %d: %s", i, ev[i].msg);
        } else {
            ck_assert_int_eq(ev[i].result, ESG_ERR_MEMPOOL_FULL);
            ck_assert_str_eq(ev[i].msg, "not included: block full");
        }
    }
    ck_assert_int_eq(esg_pb_block_decode(&pb, blk, bl, SIZE_MAX), 0);
    ck_assert_uint_eq(pb->n_evidence, ESG_MAX_BLOCK_EVIDENCE);
    esg_pb_free(pb);
    rc = check(&B, blk, bl, T0 + 3000, err);
    ck_assert_msg(rc == 0, "check 3: %s: %s", esg_err_name(rc), err);
    ck_assert_int_eq(commit(&B, &wd, blk, bl, 3, &bh, err), 0);
    ck_assert_uint_eq(n_records(&B), 3 + ESG_MAX_BLOCK_EVIDENCE);
    ck_assert_ptr_null(record_of(&B, &wd.v[3].pk, 1, ESG_MAX_BLOCK_EVIDENCE, PREVOTE));
    free(blk);
    for (int i = 0; i < N; i++)
        free(many[i]);

    free(e1);
    ef_node_close(&A);
    ef_node_close(&B);
    ef_node_close(&C);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------------- rejections */

START_TEST(test_block_rejects) {
    world wd;
    world_init(&wd);
    node A, B;
    ef_node_open(&A, wd.g);
    ef_node_open(&B, wd.g);
    const kp *k = &wd.v[1];
    const uint64_t now = T0 + 1000;
    char err[256];

    size_t l1, l1b, lhi, lst, l2;
    uint8_t *e1 = ev_make(k, PREVOTE, 1, 0, &wd.x, &wd.y, false, &l1);
    uint8_t *e1b = ev_make(k, PREVOTE, 1, 0, NULL, &wd.y, false, &l1b);    /* same offence */
    uint8_t *ehi = ev_make(k, PREVOTE, 2, 0, &wd.x, &wd.y, false, &lhi);   /* above block 1 */
    uint8_t *est = ev_make(&wd.outsider, PREVOTE, 1, 0, &wd.x, &wd.y, false, &lst);
    uint8_t *e2 = ev_make(&wd.v[2], PREVOTE, 1, 0, &wd.x, &wd.y, false, &l2);
    esg_pb_evidence *d1 = ev_decode(e1, l1), *d1b = ev_decode(e1b, l1b),
                    *dhi = ev_decode(ehi, lhi), *dst = ev_decode(est, lst),
                    *dbad = ev_decode(e2, l2);
    dbad->vote_a->sig.data[3] ^= 1;

    esg_exec_evidence ev[1];
    ev_items(ev, &e1, &l1, 1);
    uint8_t *good;
    size_t glen;
    esg_hash gh;
    esg_produced out;
    build(&A, &wd, ev, 1, now, false, &good, &glen, &gh, &out);
    ck_assert_int_eq(ev[0].result, 0);
    esg_pb_block *pb;
    ck_assert_int_eq(esg_pb_block_decode(&pb, good, glen, SIZE_MAX), 0);
    snapshot b0 = snap(&B);

    char recorded[200], stranger[200];
    snprintf(recorded, sizeof recorded,
             "block 1 evidence 1: the equivocation of %s at 1/0 is already recorded",
             esg_pubkey_hex(&k->pk).s);
    snprintf(stranger, sizeof stranger, "block 1 evidence 0: %s is not a validator at height 1",
             esg_pubkey_hex(&wd.outsider.pk).s);
    const char *const mismatch = "block 1 evidence_hash does not match its evidence";
    enum { V_DROPPED, V_TAMPERED, V_NO_HASH, V_SHORT_HASH, V_HASH_NO_EV, V_TOO_MANY, V_TWICE,
           V_SAME_OFFENCE, V_ABOVE, V_BAD_SIG, V_STRANGER, V_COUNT };
    const char *want[V_COUNT] = {
        [V_DROPPED] = mismatch, [V_TAMPERED] = mismatch, [V_NO_HASH] = mismatch,
        [V_SHORT_HASH] = mismatch, [V_HASH_NO_EV] = mismatch,
        [V_TOO_MANY] = "block 1 has 33 evidences, at most 32 allowed",
        [V_TWICE] = recorded, [V_SAME_OFFENCE] = recorded,
        [V_ABOVE] = "block 1 evidence 0: evidence height 2 is not in 1..1",
        [V_BAD_SIG] = "block 1 evidence 0: vote_a signature does not verify",
        [V_STRANGER] = stranger,
    };
    for (int v = 0; v < V_COUNT; v++) {
        esg_pb_evidence *evs[ESG_MAX_BLOCK_EVIDENCE + 1];
        size_t n = 1;
        evs[0] = d1;
        bool hash_of_evs = true; /* else eh/ehlen below */
        esg_hash eh = root_of(evs, 1);
        size_t ehlen = 32;
        switch (v) {
        case V_DROPPED: n = 0; hash_of_evs = false; break;
        case V_TAMPERED: eh.b[17] ^= 1; hash_of_evs = false; break;
        case V_NO_HASH: ehlen = 0; hash_of_evs = false; break;
        case V_SHORT_HASH: ehlen = 31; hash_of_evs = false; break;
        case V_HASH_NO_EV: n = 0; eh = esg_sha256("x", 1); hash_of_evs = false; break;
        case V_TOO_MANY:
            n = ESG_MAX_BLOCK_EVIDENCE + 1;
            for (size_t i = 0; i < n; i++)
                evs[i] = d1;
            break;
        case V_TWICE: n = 2; evs[1] = d1; break;
        case V_SAME_OFFENCE: n = 2; evs[1] = d1b; break;
        case V_ABOVE: evs[0] = dhi; break;
        case V_BAD_SIG: evs[0] = dbad; break;
        case V_STRANGER: evs[0] = dst; break;
        default: break;
        }
        if (hash_of_evs)
            eh = root_of(evs, n);
        uint8_t *blk;
        size_t bl;
        esg_hash bh;
        block_variant(pb, evs, n, eh.b, ehlen, &blk, &bl, &bh);
        /* A validator refuses the proposal ... */
        int rc = check(&B, blk, bl, now, err);
        ck_assert_msg(rc == ESG_ERR_BAD_BLOCK, "variant %d: %s (%s)", v, esg_err_name(rc), err);
        ck_assert_msg(strcmp(err, want[v]) == 0, "variant %d: '%s'", v, err);
        ck_assert_msg(unchanged(&B, &b0), "variant %d: check changed the store", v);
        /* ... and a replica the block, even with a valid commit. */
        rc = commit(&B, &wd, blk, bl, 1, &bh, err);
        ck_assert_msg(rc == ESG_ERR_BAD_BLOCK, "variant %d: %s (%s)", v, esg_err_name(rc), err);
        ck_assert_msg(strcmp(err, want[v]) == 0, "variant %d: '%s'", v, err);
        ck_assert_msg(unchanged(&B, &b0), "variant %d: apply changed the store", v);
        free(blk);
    }

    /* Re-encoded unchanged, the block is the genuine one and passes. */
    {
        uint8_t *blk;
        size_t bl;
        esg_hash bh;
        esg_hash eh = root_of(&d1, 1);
        block_variant(pb, &d1, 1, eh.b, 32, &blk, &bl, &bh);
        ck_assert_uint_eq(bl, glen);
        ck_assert_mem_eq(blk, good, glen);
        ck_assert(esg_hash_eq(&bh, &gh));
        free(blk);
    }
    esg_pb_free(pb);
    ck_assert_int_eq(check(&B, good, glen, now, err), 0);
    ck_assert_int_eq(commit(&B, &wd, good, glen, 1, &gh, err), 0);
    ck_assert_int_eq(commit(&A, &wd, good, glen, 1, &gh, err), 0);
    ck_assert_uint_eq(n_records(&B), 1);
    free(good);

    /* Height 2: a block carrying an offence recorded at height 1 (by the
     * same pair or another) is refused; the evidence above block 1 is
     * fine in block 2. */
    uint8_t *plain;
    size_t pl;
    esg_hash ph;
    build(&A, &wd, NULL, 0, now + 1000, true, &plain, &pl, &ph, &out);
    ck_assert_int_eq(esg_pb_block_decode(&pb, plain, pl, SIZE_MAX), 0);
    snapshot b1 = snap(&B);
    esg_pb_evidence *again[2] = {d1, d1b};
    for (int i = 0; i < 2; i++) {
        uint8_t *blk;
        size_t bl;
        esg_hash bh, eh = root_of(&again[i], 1);
        block_variant(pb, &again[i], 1, eh.b, 32, &blk, &bl, &bh);
        char want_rec[200];
        snprintf(want_rec, sizeof want_rec,
                 "block 2 evidence 0: the equivocation of %s at 1/0 is already recorded",
                 esg_pubkey_hex(&k->pk).s);
        ck_assert_int_eq(check(&B, blk, bl, now + 1000, err), ESG_ERR_BAD_BLOCK);
        ck_assert_str_eq(err, want_rec);
        ck_assert_int_eq(commit(&B, &wd, blk, bl, 2, &bh, err), ESG_ERR_BAD_BLOCK);
        ck_assert_str_eq(err, want_rec);
        ck_assert(unchanged(&B, &b1));
        free(blk);
    }
    esg_pb_free(pb);
    free(plain);
    ev_items(ev, &ehi, &lhi, 1);
    uint8_t *blk;
    size_t bl;
    esg_hash bh;
    build(&A, &wd, ev, 1, now + 1000, false, &blk, &bl, &bh, &out);
    ck_assert_msg(ev[0].result == 0, "evidence at the block's height: %s", ev[0].msg);
    int rc = check(&B, blk, bl, now + 1000, err);
    ck_assert_msg(rc == 0, "check 2: %s: %s", esg_err_name(rc), err);
    ck_assert_int_eq(commit(&B, &wd, blk, bl, 2, &bh, err), 0);
    ck_assert_uint_eq(n_records(&B), 2);
    free(blk);

    esg_pb_free(d1);
    esg_pb_free(d1b);
    esg_pb_free(dhi);
    esg_pb_free(dst);
    esg_pb_free(dbad);
    free(e1);
    free(e1b);
    free(ehi);
    free(est);
    free(e2);
    ef_node_close(&A);
    ef_node_close(&B);
    world_free(&wd);
}
END_TEST

/* ------------------------------------------------- header encoding */

START_TEST(test_header_without_evidence) {
    world wd;
    world_init(&wd);
    node A;
    ef_node_open(&A, wd.g);
    uint8_t *blk;
    size_t bl;
    esg_hash bh;
    esg_produced out;
    build(&A, &wd, NULL, 0, T0 + 1000, true, &blk, &bl, &bh, &out);
    ck_assert(out.made);
    esg_pb_block *pb;
    ck_assert_int_eq(esg_pb_block_decode(&pb, blk, bl, SIZE_MAX), 0);
    const esg_pb_block_header *h = pb->header;
    ck_assert_uint_eq(h->evidence_hash.len, 0);

    /* The header as it was before evidence_hash existed (fields 1..8). */
    esg_pb_block_header old = ESG_PB_BLOCK_HEADER_INIT;
    old.chain_id = h->chain_id;
    old.height = h->height;
    old.time_ms = h->time_ms;
    old.prev_hash = h->prev_hash;
    old.tx_root = h->tx_root;
    old.app_hash = h->app_hash;
    old.validators_hash = h->validators_hash;
    old.proposer = h->proposer;
    uint8_t *hb, *ob;
    size_t hl, ol;
    ck_assert_int_eq(esg_pb_encode(&h->base, &hb, &hl), 0);
    ck_assert_int_eq(esg_pb_encode(&old.base, &ob, &ol), 0);
    ck_assert_uint_eq(hl, ol);
    ck_assert_mem_eq(hb, ob, hl);
    esg_hash oh;
    ck_assert_int_eq(esg_block_header_hash(&old, &oh), 0);
    ck_assert(esg_hash_eq(&oh, &bh));
    free(ob);

    /* With evidence the header ends in field 9: tag 0x4a, 32 bytes of root. */
    size_t l1;
    uint8_t *e1 = ev_make(&wd.v[1], PREVOTE, 1, 0, &wd.x, &wd.y, false, &l1);
    esg_exec_evidence ev[1];
    ev_items(ev, &e1, &l1, 1);
    uint8_t *eb;
    size_t el;
    esg_hash ebh;
    build(&A, &wd, ev, 1, T0 + 1000, false, &eb, &el, &ebh, &out);
    esg_pb_block *epb;
    ck_assert_int_eq(esg_pb_block_decode(&epb, eb, el, SIZE_MAX), 0);
    uint8_t *ehb;
    size_t ehl;
    ck_assert_int_eq(esg_pb_encode(&epb->header->base, &ehb, &ehl), 0);
    esg_hash id = esg_evidence_id(e1, l1), root;
    ck_assert(esg_evidence_root(&id, 1, &root));
    ck_assert_uint_ge(ehl, 34);
    ck_assert_uint_eq(ehb[ehl - 34], 0x4a);
    ck_assert_uint_eq(ehb[ehl - 33], 32);
    ck_assert_mem_eq(ehb + ehl - 32, root.b, 32);
    ck_assert(!esg_hash_eq(&ebh, &bh));
    free(ehb);
    esg_pb_free(epb);
    free(eb);
    free(e1);

    free(hb);
    esg_pb_free(pb);
    free(blk);
    ef_node_close(&A);
    world_free(&wd);
}
END_TEST

Suite *suite_evidence(void) {
    Suite *s = suite_create("evidence");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_encode);
    tcase_add_test(tc, test_verify_rejects);
    tcase_add_test(tc, test_build_record);
    tcase_add_test(tc, test_block_rejects);
    tcase_add_test(tc, test_header_without_evidence);
    suite_add_tcase(s, tc);
    return s;
}
