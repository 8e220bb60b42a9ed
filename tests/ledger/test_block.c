/* suite_block: ledger/block.c -- header, vote and validator-set hashes and
 * commit verification (ledger/block.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keys.h"
#include "ledger/merkle.h"

#define CHAIN "esg-block-test"

/* ------------------------------------------------------------- helpers */

typedef struct vkey {
    esg_seckey sk;
    esg_pubkey pk;
} vkey;

static vkey vkey_new(void) {
    vkey k;
    ck_assert_int_eq(esg_key_generate(&k.sk, &k.pk), 0);
    return k;
}

static int cmp_vkey(const void *a, const void *b) {
    return memcmp(((const vkey *)a)->pk.b, ((const vkey *)b)->pk.b, 32);
}

/* A validator set built by hand over caller-owned keys. */
typedef struct tset {
    esg_pb_validator recs[8];
    esg_pb_validator *ptrs[8];
    esg_pb_validator_set set;
} tset;

static void tset_init(tset *t, const vkey *keys, const uint64_t *powers, size_t n) {
    ck_assert_uint_le(n, 8);
    esg_pb_validator_set vs = ESG_PB_VALIDATOR_SET_INIT;
    t->set = vs;
    for (size_t i = 0; i < n; i++) {
        esg_pb_validator v = ESG_PB_VALIDATOR_INIT;
        t->recs[i] = v;
        t->recs[i].pubkey = esg_pb_bin(keys[i].pk.b, 32);
        t->recs[i].power = powers[i];
        t->recs[i].operator_ = "city-a";
        t->ptrs[i] = &t->recs[i];
    }
    t->set.n_validators = n;
    t->set.validators = t->ptrs;
}

/* A commit built by hand: any signers, any vote doc. */
typedef struct tcommit {
    esg_pb_commit c;
    esg_pb_commit_sig sigs[8];
    esg_pb_commit_sig *ptrs[8];
    esg_sig raw[8];
    esg_hash block_hash;
} tcommit;

/* Signs PRECOMMITs of (chain, height, round, bh) with keys[0..n). */
static void tcommit_sign(tcommit *t, const vkey *const *keys, size_t n, const char *chain,
                         uint64_t height, uint32_t round, const esg_hash *bh, int type) {
    ck_assert_uint_le(n, 8);
    esg_pb_commit c = ESG_PB_COMMIT_INIT;
    t->c = c;
    t->block_hash = *bh;
    t->c.height = height;
    t->c.round = round;
    t->c.block_hash = esg_pb_bin(t->block_hash.b, 32);
    esg_hash vh = esg_vote_hash(chain, type, height, round, bh);
    for (size_t i = 0; i < n; i++) {
        esg_pb_commit_sig cs = ESG_PB_COMMIT_SIG_INIT;
        t->sigs[i] = cs;
        ck_assert_int_eq(esg_sign(&t->raw[i], &keys[i]->sk, &vh), 0);
        t->sigs[i].validator = esg_pb_bin(keys[i]->pk.b, 32);
        t->sigs[i].sig = esg_pb_bin(t->raw[i].b, 64);
        t->ptrs[i] = &t->sigs[i];
    }
    t->c.n_sigs = n;
    t->c.sigs = t->ptrs;
}

static esg_hash some_hash(const char *s) {
    return esg_sha256(s, strlen(s));
}

static int verify(const esg_pb_commit *c, const esg_pb_validator_set *vs, uint64_t height,
                  const esg_hash *bh, char *err) {
    err[0] = '\0';
    return esg_commit_verify(c, vs, CHAIN, height, bh, err, 256);
}

/* ------------------------------------------------------------- hashes */

typedef struct hdr_buf {
    esg_pb_block_header h;
    esg_hash prev, txr, app, vals;
    esg_pubkey proposer;
    char chain[16];
} hdr_buf;

static void hdr_init(hdr_buf *b) {
    esg_pb_block_header h = ESG_PB_BLOCK_HEADER_INIT;
    b->h = h;
    snprintf(b->chain, sizeof b->chain, "%s", "chain-1");
    b->prev = some_hash("prev");
    b->txr = some_hash("txr");
    b->app = some_hash("app");
    b->vals = some_hash("vals");
    memcpy(b->proposer.b, some_hash("proposer").b, 32);
    b->h.chain_id = b->chain;
    b->h.height = 7;
    b->h.time_ms = 1767225600000;
    b->h.prev_hash = esg_pb_bin(b->prev.b, 32);
    b->h.tx_root = esg_pb_bin(b->txr.b, 32);
    b->h.app_hash = esg_pb_bin(b->app.b, 32);
    b->h.validators_hash = esg_pb_bin(b->vals.b, 32);
    b->h.proposer = esg_pb_bin(b->proposer.b, 32);
}

START_TEST(test_header_hash) {
    hdr_buf b;
    hdr_init(&b);
    esg_hash base, again;
    ck_assert_int_eq(esg_block_header_hash(&b.h, &base), 0);
    ck_assert_int_eq(esg_block_header_hash(&b.h, &again), 0);
    ck_assert(esg_hash_eq(&base, &again));

    /* The definition: H("esg/block", serialized header). */
    uint8_t *enc;
    size_t len;
    ck_assert_int_eq(esg_pb_encode(&b.h.base, &enc, &len), 0);
    esg_hash want = esg_hash_tagged(ESG_TAG_BLOCK, enc, len);
    free(enc);
    ck_assert(esg_hash_eq(&base, &want));

    /* Every field is bound. */
    for (int field = 0; field < 8; field++) {
        hdr_init(&b);
        switch (field) {
        case 0: b.chain[6] = '2'; break;
        case 1: b.h.height++; break;
        case 2: b.h.time_ms++; break;
        case 3: b.prev.b[31] ^= 1; break;
        case 4: b.txr.b[0] ^= 0x80; break;
        case 5: b.app.b[15] ^= 4; break;
        case 6: b.vals.b[3] ^= 2; break;
        case 7: b.proposer.b[9] ^= 1; break;
        }
        esg_hash h;
        ck_assert_int_eq(esg_block_header_hash(&b.h, &h), 0);
        ck_assert_msg(!esg_hash_eq(&h, &base), "field %d is not bound by the block hash", field);
    }
    /* Swapping two hash fields changes the hash too (fields are typed by
     * number, not by position in a concatenation). */
    hdr_init(&b);
    b.h.app_hash = esg_pb_bin(b.txr.b, 32);
    b.h.tx_root = esg_pb_bin(b.app.b, 32);
    esg_hash swapped;
    ck_assert_int_eq(esg_block_header_hash(&b.h, &swapped), 0);
    ck_assert(!esg_hash_eq(&swapped, &base));
}
END_TEST

START_TEST(test_vote_hash) {
    esg_hash bh = some_hash("block"), bh2 = some_hash("block2");
    esg_hash base = esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PRECOMMIT, 5, 1, &bh);
    esg_hash same = esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PRECOMMIT, 5, 1, &bh);
    ck_assert(esg_hash_eq(&base, &same));

    /* The definition: H("esg/vote", serialized VoteSignDoc). */
    esg_pb_vote_sign_doc doc = ESG_PB_VOTE_SIGN_DOC_INIT;
    doc.chain_id = CHAIN;
    doc.type = ESG_VOTE_TYPE_PRECOMMIT;
    doc.height = 5;
    doc.round = 1;
    doc.block_hash = esg_pb_bin(bh.b, 32);
    uint8_t *enc;
    size_t len;
    ck_assert_int_eq(esg_pb_encode(&doc.base, &enc, &len), 0);
    esg_hash want = esg_hash_tagged(ESG_TAG_VOTE, enc, len);
    free(enc);
    ck_assert(esg_hash_eq(&base, &want));

    esg_hash variants[] = {
        esg_vote_hash("other-chain", ESG_VOTE_TYPE_PRECOMMIT, 5, 1, &bh),
        esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PREVOTE, 5, 1, &bh),
        esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PRECOMMIT, 6, 1, &bh),
        esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PRECOMMIT, 5, 0, &bh),
        esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PRECOMMIT, 5, 1, &bh2),
        esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PRECOMMIT, 5, 1, NULL), /* nil vote */
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        ck_assert_msg(!esg_hash_eq(&variants[i], &base), "variant %zu collides", i);
    /* A vote's hash is never a block hash or a tx id of the same bytes:
     * tags separate them. */
    esg_hash as_block = esg_hash_tagged(ESG_TAG_BLOCK, bh.b, 32);
    ck_assert(!esg_hash_eq(&as_block, &base));
}
END_TEST

START_TEST(test_valset_hash) {
    vkey k[3] = {vkey_new(), vkey_new(), vkey_new()};
    qsort(k, 3, sizeof k[0], cmp_vkey);
    uint64_t pw[3] = {10, 20, 30};
    tset t;
    tset_init(&t, k, pw, 3);
    esg_hash base;
    ck_assert_int_eq(esg_valset_hash(&t.set, &base), 0);

    /* The definition: Merkle root over SHA256(serialized ValidatorRecord). */
    esg_hash leaves[3];
    for (size_t i = 0; i < 3; i++) {
        uint8_t *enc;
        size_t len;
        ck_assert_int_eq(esg_pb_encode(&t.recs[i].base, &enc, &len), 0);
        leaves[i] = esg_sha256(enc, len);
        free(enc);
    }
    esg_hash want = esg_merkle_root(leaves, 3);
    ck_assert(esg_hash_eq(&base, &want));

    /* Order matters (the set is committed in pubkey order). */
    vkey swapped[3] = {k[1], k[0], k[2]};
    uint64_t pws[3] = {20, 10, 30};
    tset t2;
    tset_init(&t2, swapped, pws, 3);
    esg_hash h;
    ck_assert_int_eq(esg_valset_hash(&t2.set, &h), 0);
    ck_assert(!esg_hash_eq(&h, &base));

    /* Power matters. */
    uint64_t pw2[3] = {10, 21, 30};
    tset_init(&t2, k, pw2, 3);
    ck_assert_int_eq(esg_valset_hash(&t2.set, &h), 0);
    ck_assert(!esg_hash_eq(&h, &base));

    /* Membership matters. */
    tset_init(&t2, k, pw, 2);
    ck_assert_int_eq(esg_valset_hash(&t2.set, &h), 0);
    ck_assert(!esg_hash_eq(&h, &base));

    /* The empty set hashes to the empty Merkle root (zero). */
    tset_init(&t2, k, pw, 0);
    ck_assert_int_eq(esg_valset_hash(&t2.set, &h), 0);
    ck_assert(esg_hash_is_zero(&h));
}
END_TEST

START_TEST(test_valset_power_find) {
    vkey k[3] = {vkey_new(), vkey_new(), vkey_new()};
    uint64_t pw[3] = {1, 2, 4};
    tset t;
    tset_init(&t, k, pw, 3);
    uint64_t total = 0;
    ck_assert_int_eq(esg_valset_total_power(&t.set, &total), 0);
    ck_assert_uint_eq(total, 7);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(esg_valset_find(&t.set, &k[i].pk), i);
    vkey other = vkey_new();
    ck_assert_int_eq(esg_valset_find(&t.set, &other.pk), -1);

    uint64_t big[2] = {UINT64_MAX / 2 + 1, UINT64_MAX / 2 + 1};
    tset_init(&t, k, big, 2);
    ck_assert_int_eq(esg_valset_total_power(&t.set, &total), ESG_ERR_OVERFLOW);
}
END_TEST

/* ------------------------------------------------------------ commits */

START_TEST(test_commit_single) {
    vkey v = vkey_new();
    uint64_t pw = 10;
    tset t;
    tset_init(&t, &v, &pw, 1);
    esg_hash bh = some_hash("block-9");
    esg_commit_storage cs;
    ck_assert_int_eq(esg_commit_sign_single(&cs, &v.sk, CHAIN, 9, 0, &bh), 0);
    char err[256];
    ck_assert_int_eq(verify(&cs.commit, &t.set, 9, &bh, err), 0);

    /* Through the wire: encode, decode canonically, verify again. */
    uint8_t *enc;
    size_t len;
    ck_assert_int_eq(esg_pb_encode(&cs.commit.base, &enc, &len), 0);
    esg_pb_commit *dec;
    ck_assert_int_eq(esg_pb_commit_decode(&dec, enc, len, 1 << 20), 0);
    free(enc);
    ck_assert_int_eq(verify(dec, &t.set, 9, &bh, err), 0);
    esg_pb_free(dec);

    /* A later round is fine as long as the signature is for that round. */
    ck_assert_int_eq(esg_commit_sign_single(&cs, &v.sk, CHAIN, 9, 3, &bh), 0);
    ck_assert_int_eq(verify(&cs.commit, &t.set, 9, &bh, err), 0);
    cs.commit.round = 2; /* the signature was for round 3 */
    ck_assert_int_eq(verify(&cs.commit, &t.set, 9, &bh, err), ESG_ERR_BAD_COMMIT);
    ck_assert_ptr_nonnull(strstr(err, "does not verify"));

    /* A commit of another chain does not verify on this one. */
    ck_assert_int_eq(esg_commit_sign_single(&cs, &v.sk, "other-chain", 9, 0, &bh), 0);
    ck_assert_int_eq(verify(&cs.commit, &t.set, 9, &bh, err), ESG_ERR_BAD_COMMIT);
    esg_seckey_wipe(&v.sk);
}
END_TEST

START_TEST(test_commit_wrong_height_or_block) {
    vkey v = vkey_new();
    uint64_t pw = 10;
    tset t;
    tset_init(&t, &v, &pw, 1);
    esg_hash bh = some_hash("block-9"), other = some_hash("block-9b");
    esg_commit_storage cs;
    char err[256];
    ck_assert_int_eq(esg_commit_sign_single(&cs, &v.sk, CHAIN, 9, 0, &bh), 0);

    ck_assert_int_eq(verify(&cs.commit, &t.set, 10, &bh, err), ESG_ERR_BAD_COMMIT);
    ck_assert_str_eq(err, "commit is for height 9, not 10");
    ck_assert_int_eq(verify(&cs.commit, &t.set, 9, &other, err), ESG_ERR_BAD_COMMIT);
    ck_assert_str_eq(err, "commit at height 9 is for another block");

    /* Relabelled commits: the fields say the right height/block but the
     * signatures were made for others. */
    cs.commit.height = 10;
    ck_assert_int_eq(verify(&cs.commit, &t.set, 10, &bh, err), ESG_ERR_BAD_COMMIT);
    ck_assert_ptr_nonnull(strstr(err, "does not verify"));
    ck_assert_int_eq(esg_commit_sign_single(&cs, &v.sk, CHAIN, 9, 0, &bh), 0);
    cs.block_hash = other; /* commit.block_hash points at it */
    ck_assert_int_eq(verify(&cs.commit, &t.set, 9, &other, err), ESG_ERR_BAD_COMMIT);
    ck_assert_ptr_nonnull(strstr(err, "does not verify"));

    /* A malformed block hash field. */
    ck_assert_int_eq(esg_commit_sign_single(&cs, &v.sk, CHAIN, 9, 0, &bh), 0);
    cs.commit.block_hash.len = 31;
    ck_assert_int_eq(verify(&cs.commit, &t.set, 9, &bh, err), ESG_ERR_BAD_COMMIT);
    esg_seckey_wipe(&v.sk);
}
END_TEST

START_TEST(test_commit_signer_checks) {
    vkey k[3] = {vkey_new(), vkey_new(), vkey_new()};
    vkey outsider = vkey_new();
    uint64_t pw[3] = {1, 1, 1};
    tset t;
    tset_init(&t, k, pw, 3);
    esg_hash bh = some_hash("b");
    tcommit tc;
    char err[256];

    /* Signer not in the set (even with the others enough by power). */
    const vkey *with_outsider[] = {&k[0], &k[1], &k[2], &outsider};
    tcommit_sign(&tc, with_outsider, 4, CHAIN, 3, 0, &bh, ESG_VOTE_TYPE_PRECOMMIT);
    ck_assert_int_eq(verify(&tc.c, &t.set, 3, &bh, err), ESG_ERR_BAD_COMMIT);
    char want[256];
    snprintf(want, sizeof want, "commit signer '%s' is not a validator at height 3",
             esg_pubkey_hex(&outsider.pk).s);
    ck_assert_str_eq(err, want);

    /* Duplicate signer: the same validator twice does not count twice. */
    const vkey *dup[] = {&k[0], &k[1], &k[0]};
    tcommit_sign(&tc, dup, 3, CHAIN, 3, 0, &bh, ESG_VOTE_TYPE_PRECOMMIT);
    ck_assert_int_eq(verify(&tc.c, &t.set, 3, &bh, err), ESG_ERR_BAD_COMMIT);
    ck_assert_ptr_nonnull(strstr(err, "signed the commit twice"));

    /* A bad signature among good ones. */
    const vkey *all[] = {&k[0], &k[1], &k[2]};
    tcommit_sign(&tc, all, 3, CHAIN, 3, 0, &bh, ESG_VOTE_TYPE_PRECOMMIT);
    ck_assert_int_eq(verify(&tc.c, &t.set, 3, &bh, err), 0);
    tc.raw[1].b[10] ^= 1;
    ck_assert_int_eq(verify(&tc.c, &t.set, 3, &bh, err), ESG_ERR_BAD_COMMIT);
    snprintf(want, sizeof want, "precommit of validator '%s' does not verify",
             esg_pubkey_hex(&k[1].pk).s);
    ck_assert_str_eq(err, want);

    /* A signature of another validator's vote under my key. */
    tcommit_sign(&tc, all, 3, CHAIN, 3, 0, &bh, ESG_VOTE_TYPE_PRECOMMIT);
    tc.sigs[2].sig = esg_pb_bin(tc.raw[0].b, 64);
    ck_assert_int_eq(verify(&tc.c, &t.set, 3, &bh, err), ESG_ERR_BAD_COMMIT);

    /* Malformed entries. */
    tcommit_sign(&tc, all, 3, CHAIN, 3, 0, &bh, ESG_VOTE_TYPE_PRECOMMIT);
    tc.sigs[0].sig.len = 63;
    ck_assert_int_eq(verify(&tc.c, &t.set, 3, &bh, err), ESG_ERR_BAD_COMMIT);
    ck_assert_ptr_nonnull(strstr(err, "malformed"));
    tcommit_sign(&tc, all, 3, CHAIN, 3, 0, &bh, ESG_VOTE_TYPE_PRECOMMIT);
    tc.sigs[0].validator.len = 33;
    ck_assert_int_eq(verify(&tc.c, &t.set, 3, &bh, err), ESG_ERR_BAD_COMMIT);

    /* PREVOTEs are not precommits. */
    tcommit_sign(&tc, all, 3, CHAIN, 3, 0, &bh, ESG_VOTE_TYPE_PREVOTE);
    ck_assert_int_eq(verify(&tc.c, &t.set, 3, &bh, err), ESG_ERR_BAD_COMMIT);

    for (int i = 0; i < 3; i++)
        esg_seckey_wipe(&k[i].sk);
    esg_seckey_wipe(&outsider.sk);
}
END_TEST

/* Whether a commit by signers[] (indexes into k) verifies for powers pw. */
static int commit_by(const vkey *k, const uint64_t *pw, size_t n, const int *signers,
                     size_t ns, char *err) {
    tset t;
    tset_init(&t, k, pw, n);
    const vkey *keys[8];
    for (size_t i = 0; i < ns; i++)
        keys[i] = &k[signers[i]];
    esg_hash bh = some_hash("power");
    tcommit tc;
    tcommit_sign(&tc, keys, ns, CHAIN, 4, 0, &bh, ESG_VOTE_TYPE_PRECOMMIT);
    return verify(&tc.c, &t.set, 4, &bh, err);
}

START_TEST(test_commit_power) {
    vkey k[4] = {vkey_new(), vkey_new(), vkey_new(), vkey_new()};
    char err[256];
    uint64_t ones[4] = {1, 1, 1, 1};

    /* 3 x power 1: 2 of 3 is exactly 2/3, not more -> rejected. */
    ck_assert_int_eq(commit_by(k, ones, 3, (int[]){0, 1}, 2, err), ESG_ERR_BAD_COMMIT);
    ck_assert_str_eq(err, "commit holds 2 of 3 voting power, not more than 2/3");
    ck_assert_int_eq(commit_by(k, ones, 3, (int[]){2, 0, 1}, 3, err), 0);
    ck_assert_int_eq(commit_by(k, ones, 3, (int[]){1}, 1, err), ESG_ERR_BAD_COMMIT);
    /* No signature at all. */
    ck_assert_int_eq(commit_by(k, ones, 3, NULL, 0, err), ESG_ERR_BAD_COMMIT);

    /* 4 x power 1 (n = 3f + 1, f = 1): 3 suffice, 2 do not. */
    ck_assert_int_eq(commit_by(k, ones, 4, (int[]){0, 1, 3}, 3, err), 0);
    ck_assert_int_eq(commit_by(k, ones, 4, (int[]){0, 3}, 2, err), ESG_ERR_BAD_COMMIT);

    /* Weighted: {5, 1, 1}: 5 alone is 15 > 14. */
    uint64_t w1[3] = {5, 1, 1};
    ck_assert_int_eq(commit_by(k, w1, 3, (int[]){0}, 1, err), 0);
    ck_assert_int_eq(commit_by(k, w1, 3, (int[]){1, 2}, 2, err), ESG_ERR_BAD_COMMIT);
    /* {4, 1, 1}: 4 alone is exactly 2/3 (12 = 12), 4 + 1 is more. */
    uint64_t w2[3] = {4, 1, 1};
    ck_assert_int_eq(commit_by(k, w2, 3, (int[]){0}, 1, err), ESG_ERR_BAD_COMMIT);
    ck_assert_int_eq(commit_by(k, w2, 3, (int[]){0, 2}, 2, err), 0);

    /* Large powers (genesis allows up to 2^60 in total) do not overflow the
     * 2/3 test. */
    uint64_t big[3] = {UINT64_C(1) << 59, UINT64_C(1) << 58, UINT64_C(1) << 58};
    ck_assert_int_eq(commit_by(k, big, 3, (int[]){0}, 1, err), ESG_ERR_BAD_COMMIT);
    ck_assert_int_eq(commit_by(k, big, 3, (int[]){0, 1}, 2, err), 0);
    uint64_t huge[2] = {UINT64_MAX / 2, UINT64_MAX / 2};
    ck_assert_int_eq(commit_by(k, huge, 2, (int[]){0, 1}, 2, err), 0);
    ck_assert_int_eq(commit_by(k, huge, 2, (int[]){0}, 1, err), ESG_ERR_BAD_COMMIT);
    /* A set whose power overflows is refused. */
    uint64_t over[2] = {UINT64_MAX, 1};
    ck_assert_int_eq(commit_by(k, over, 2, (int[]){0, 1}, 2, err), ESG_ERR_BAD_COMMIT);

    /* An empty set is never finalized. */
    ck_assert_int_eq(commit_by(k, ones, 0, NULL, 0, err), ESG_ERR_BAD_COMMIT);
    for (int i = 0; i < 4; i++)
        esg_seckey_wipe(&k[i].sk);
}
END_TEST

START_TEST(test_commit_sign_single_fields) {
    vkey v = vkey_new();
    esg_hash bh = some_hash("x");
    esg_commit_storage cs;
    ck_assert_int_eq(esg_commit_sign_single(&cs, &v.sk, CHAIN, 12, 1, &bh), 0);
    ck_assert_uint_eq(cs.commit.height, 12);
    ck_assert_uint_eq(cs.commit.round, 1);
    ck_assert_uint_eq(cs.commit.n_sigs, 1);
    ck_assert_mem_eq(cs.commit.block_hash.data, bh.b, 32);
    ck_assert_mem_eq(cs.commit.sigs[0]->validator.data, v.pk.b, 32);
    esg_hash vh = esg_vote_hash(CHAIN, ESG_VOTE_TYPE_PRECOMMIT, 12, 1, &bh);
    ck_assert(esg_verify(&cs.signature, &vh, &v.pk));
    /* A bad secret is refused. */
    esg_seckey zero;
    memset(&zero, 0, sizeof zero);
    ck_assert_int_eq(esg_commit_sign_single(&cs, &zero, CHAIN, 12, 1, &bh), ESG_ERR_BAD_SECRET);
    esg_seckey_wipe(&v.sk);
}
END_TEST

Suite *suite_block(void) {
    Suite *s = suite_create("block");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_header_hash);
    tcase_add_test(tc, test_vote_hash);
    tcase_add_test(tc, test_valset_hash);
    tcase_add_test(tc, test_valset_power_find);
    tcase_add_test(tc, test_commit_single);
    tcase_add_test(tc, test_commit_wrong_height_or_block);
    tcase_add_test(tc, test_commit_signer_checks);
    tcase_add_test(tc, test_commit_power);
    tcase_add_test(tc, test_commit_sign_single_fields);
    suite_add_tcase(s, tc);
    return s;
}
