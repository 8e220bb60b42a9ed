/* node/privval.c: the persisted signer and its FilePV rule. What a
 * validator relies on: it never signs below its last (height, round,
 * step), never a second value at the same one, repeats an identical
 * request with the same signature, and keeps all of that across reopening
 * -- including after a SIGKILL in the middle of signing -- while a damaged
 * state file stops it with a clear error instead of a silent reset. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/keys.h"
#include "node/privval.h"
#include "testutil.h"

#define CHAIN "esg-test"

static char dir[256];
static char path[512];
static char tmppath[600];
static esg_seckey sk, sk2;
static esg_pubkey pk;

static void setup(void) {
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, ESG_PRIVVAL_FILE);
    snprintf(tmppath, sizeof tmppath, "%s.tmp", path);
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    esg_pubkey pk2;
    ck_assert_int_eq(esg_key_generate(&sk2, &pk2), ESG_OK);
}

static void teardown(void) {
    tu_rmtree(dir);
    esg_seckey_wipe(&sk);
    esg_seckey_wipe(&sk2);
}

static esg_hash hx(uint8_t b) {
    esg_hash h;
    memset(h.b, b, sizeof h.b);
    return h;
}

static esg_privval *pv_open(void) {
    esg_privval *pv = NULL;
    char err[256] = "";
    int rc = esg_privval_open(&pv, path, &sk, err, sizeof err);
    ck_assert_msg(rc == ESG_OK, "open: %s (%s)", esg_err_name(rc), err);
    ck_assert_ptr_nonnull(pv);
    return pv;
}

/* Open expected to fail with `want`; returns the message. */
static const char *pv_open_fails(const esg_seckey *key, int want) {
    static char err[512];
    err[0] = '\0';
    esg_privval *pv = (esg_privval *)1;
    int rc = esg_privval_open(&pv, path, key, err, sizeof err);
    ck_assert_msg(rc == want, "open gave %s, want %s", esg_err_name(rc), esg_err_name(want));
    ck_assert_ptr_null(pv);
    ck_assert_msg(err[0] != '\0', "no error message");
    return err;
}

static esg_cons_lock unlocked(uint64_t h, uint32_t r) {
    esg_cons_lock l = {.height = h, .round = r, .locked_round = -1};
    return l;
}

static esg_cons_lock locked_on(uint64_t h, uint32_t r, int32_t lr, esg_hash v) {
    esg_cons_lock l = {.height = h, .round = r, .locked_round = lr, .locked = v};
    return l;
}

static int vote(esg_privval *pv, esg_sig *sig, esg_cons_vote_type t, uint64_t h, uint32_t r,
                const esg_hash *b) {
    esg_cons_lock l = unlocked(h, r);
    return esg_privval_sign_vote(pv, sig, CHAIN, t, h, r, b, &l);
}

static int propose(esg_privval *pv, esg_sig *sig, uint64_t h, uint32_t r, int32_t vr,
                   const esg_hash *b) {
    esg_cons_lock l = unlocked(h, r);
    return esg_privval_sign_proposal(pv, sig, CHAIN, h, r, vr, b, &l);
}

static bool sig_is_zero(const esg_sig *s) {
    for (size_t i = 0; i < sizeof s->b; i++)
        if (s->b[i])
            return false;
    return true;
}

static void vote_verifies(const esg_sig *sig, esg_cons_vote_type t, uint64_t h, uint32_t r,
                          const esg_hash *b) {
    esg_hash m = esg_vote_hash(CHAIN, (int)t, h, r, b);
    ck_assert(esg_verify(sig, &m, &pk));
}

/* Reads the whole state file (at most 1 KiB) into buf; returns its size. */
static size_t read_file(const char *p, uint8_t *buf, size_t cap) {
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void write_file(const char *p, const uint8_t *buf, size_t len) {
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_create_fresh_mode_0600) {
    mode_t old = umask(0); /* the file must not depend on the umask for its mode */
    esg_privval *pv = pv_open();
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_uint_eq((size_t)st.st_size, ESG_PRIVVAL_RECORD_LEN);
    ck_assert_mem_eq(esg_privval_pubkey(pv)->b, pk.b, 32);

    esg_privval_record rec;
    esg_privval_state(pv, &rec);
    ck_assert_uint_eq(rec.height, 0);
    ck_assert_int_eq(rec.step, ESG_PRIVVAL_STEP_NONE);
    ck_assert_int_eq(rec.locked_round, -1);

    /* Every rewrite keeps the mode. */
    esg_sig sig;
    esg_hash b = hx(1);
    ck_assert_int_eq(vote(pv, &sig, ESG_CONS_PREVOTE, 1, 0, &b), ESG_OK);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(access(tmppath, F_OK), -1); /* no temp file left behind */
    esg_privval_close(pv);
    umask(old);

    /* A fresh file reopens as the same empty record. */
    ck_assert_int_eq(unlink(path), 0);
    pv = pv_open();
    esg_privval_close(pv);
    pv = pv_open();
    esg_privval_state(pv, &rec);
    ck_assert_int_eq(rec.step, ESG_PRIVVAL_STEP_NONE);
    esg_privval_close(pv);
    esg_privval_close(NULL);
}
END_TEST

/* The FilePV rule, request by request. */
START_TEST(test_rule_sequence) {
    esg_privval *pv = pv_open();
    esg_hash x = hx(0x11), y = hx(0x22), zero = hx(0);
    esg_sig s, s2;

    /* Height 1, round 0: propose X, prevote X, precommit X. */
    ck_assert_int_eq(propose(pv, &s, 1, 0, -1, &x), ESG_OK);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 1, 0, &x), ESG_OK);
    vote_verifies(&s, ESG_CONS_PREVOTE, 1, 0, &x);

    /* Same (h, r, step), another value -- a block, nil, another chain: refused,
     * and the signature is zeroed. */
    ck_assert_int_eq(vote(pv, &s2, ESG_CONS_PREVOTE, 1, 0, &y), ESG_ERR_DOUBLE_SIGN);
    ck_assert(sig_is_zero(&s2));
    ck_assert_int_eq(vote(pv, &s2, ESG_CONS_PREVOTE, 1, 0, NULL), ESG_ERR_DOUBLE_SIGN);
    esg_cons_lock l = unlocked(1, 0);
    ck_assert_int_eq(esg_privval_sign_vote(pv, &s2, "other-chain", ESG_CONS_PREVOTE, 1, 0, &x, &l),
                     ESG_ERR_DOUBLE_SIGN);
    /* Back a step: a proposal at (1, 0) after its prevote, even the same one. */
    ck_assert_int_eq(propose(pv, &s2, 1, 0, -1, &x), ESG_ERR_DOUBLE_SIGN);

    esg_cons_lock lk = locked_on(1, 0, 0, x);
    ck_assert_int_eq(esg_privval_sign_vote(pv, &s, CHAIN, ESG_CONS_PRECOMMIT, 1, 0, &x, &lk),
                     ESG_OK);
    vote_verifies(&s, ESG_CONS_PRECOMMIT, 1, 0, &x);
    /* Back a step: the prevote again, even the identical one. */
    ck_assert_int_eq(vote(pv, &s2, ESG_CONS_PREVOTE, 1, 0, &x), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(vote(pv, &s2, ESG_CONS_PRECOMMIT, 1, 0, &zero), ESG_ERR_DOUBLE_SIGN);

    /* A later round: any step, any value. */
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 1, 3, &zero), ESG_OK);
    vote_verifies(&s, ESG_CONS_PREVOTE, 1, 3, NULL); /* zero hash = nil */
    /* Back a round. */
    ck_assert_int_eq(vote(pv, &s2, ESG_CONS_PRECOMMIT, 1, 2, &x), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(propose(pv, &s2, 1, 2, -1, &y), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 1, 3, NULL), ESG_OK);

    /* A later height, lower round: fine. Back a height: refused. */
    ck_assert_int_eq(propose(pv, &s, 2, 0, -1, &y), ESG_OK);
    esg_hash ph = esg_privval_proposal_hash(CHAIN, 2, 0, -1, &y);
    ck_assert(esg_verify(&s, &ph, &pk));
    ck_assert_int_eq(vote(pv, &s2, ESG_CONS_PRECOMMIT, 1, 9, &x), ESG_ERR_DOUBLE_SIGN);
    /* Another block at the same (height, round) conflicts. */
    ck_assert_int_eq(propose(pv, &s2, 2, 0, -1, &x), ESG_ERR_DOUBLE_SIGN);

    esg_privval_record rec;
    esg_privval_state(pv, &rec);
    ck_assert_uint_eq(rec.height, 2);
    ck_assert_uint_eq(rec.round, 0);
    ck_assert_int_eq(rec.step, ESG_PRIVVAL_STEP_PROPOSE);
    ck_assert(esg_hash_eq(&rec.sign_hash, &ph));
    esg_privval_close(pv);
}
END_TEST

/* An identical request gets the identical signature (BIP340 signing is
 * randomized: a second signing would give other bytes). */
START_TEST(test_identical_repeat) {
    esg_privval *pv = pv_open();
    esg_hash x = hx(0x33), zero = hx(0);
    esg_sig a, b;
    ck_assert_int_eq(propose(pv, &a, 4, 1, 0, &x), ESG_OK);
    ck_assert_int_eq(propose(pv, &b, 4, 1, 0, &x), ESG_OK);
    ck_assert_mem_eq(a.b, b.b, 64);
    /* Same block, valid_round -1 instead of 0: a different proposal. */
    ck_assert_int_eq(propose(pv, &b, 4, 1, -1, &x), ESG_ERR_DOUBLE_SIGN);

    ck_assert_int_eq(vote(pv, &a, ESG_CONS_PREVOTE, 4, 1, NULL), ESG_OK);
    ck_assert_int_eq(vote(pv, &b, ESG_CONS_PREVOTE, 4, 1, NULL), ESG_OK);
    ck_assert_mem_eq(a.b, b.b, 64);
    /* NULL and the zero hash are the same nil vote. */
    ck_assert_int_eq(vote(pv, &b, ESG_CONS_PREVOTE, 4, 1, &zero), ESG_OK);
    ck_assert_mem_eq(a.b, b.b, 64);
    ck_assert_int_eq(vote(pv, &b, ESG_CONS_PREVOTE, 4, 1, &x), ESG_ERR_DOUBLE_SIGN);
    esg_privval_close(pv);
}
END_TEST

/* A refused request leaves the file byte for byte as it was. */
START_TEST(test_refusal_writes_nothing) {
    esg_privval *pv = pv_open();
    esg_hash x = hx(1), y = hx(2);
    esg_sig s;
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 7, 2, &x), ESG_OK);
    uint8_t before[1024], after[1024];
    size_t n = read_file(path, before, sizeof before);
    esg_privval_record r1, r2;
    esg_privval_state(pv, &r1);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 7, 2, &y), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 7, 2, &x), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 6, 5, &x), ESG_ERR_DOUBLE_SIGN);
    ck_assert_uint_eq(read_file(path, after, sizeof after), n);
    ck_assert_mem_eq(before, after, n);
    esg_privval_state(pv, &r2);
    ck_assert_mem_eq(&r1, &r2, sizeof r1);
    esg_privval_close(pv);
}
END_TEST

/* The record survives a reopen: refusals, the repeat signature, the lock. */
START_TEST(test_persistence_across_reopen) {
    esg_privval *pv = pv_open();
    esg_hash x = hx(0x44), y = hx(0x55);
    esg_sig s, pre;
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 9, 1, &x), ESG_OK);
    esg_cons_lock lk = locked_on(9, 1, 1, x);
    ck_assert_int_eq(esg_privval_sign_vote(pv, &pre, CHAIN, ESG_CONS_PRECOMMIT, 9, 1, &x, &lk),
                     ESG_OK);
    esg_privval_record before;
    esg_privval_state(pv, &before);
    esg_privval_close(pv);

    pv = pv_open();
    esg_privval_record rec;
    esg_privval_state(pv, &rec);
    ck_assert_mem_eq(&rec, &before, sizeof rec);
    ck_assert_uint_eq(rec.height, 9);
    ck_assert_uint_eq(rec.round, 1);
    ck_assert_int_eq(rec.step, ESG_PRIVVAL_STEP_PRECOMMIT);
    ck_assert_int_eq(rec.locked_round, 1);
    ck_assert(esg_hash_eq(&rec.locked, &x));

    /* The refusal survived the restart; the repeat gives the old bytes. */
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 9, 1, &y), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 9, 1, NULL), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 9, 1, &y), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 8, 0, &y), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(esg_privval_sign_vote(pv, &s, CHAIN, ESG_CONS_PRECOMMIT, 9, 1, &x, &lk),
                     ESG_OK);
    ck_assert_mem_eq(s.b, pre.b, 64);

    /* Where consensus resumes: this height, its round and lock; any other
     * height from scratch. */
    esg_cons_start_state st;
    esg_privval_start_state(pv, 9, &st);
    ck_assert_uint_eq(st.height, 9);
    ck_assert_uint_eq(st.round, 1);
    ck_assert_int_eq(st.locked_round, 1);
    ck_assert(esg_hash_eq(&st.locked, &x));
    esg_privval_start_state(pv, 10, &st);
    ck_assert_uint_eq(st.height, 10);
    ck_assert_uint_eq(st.round, 0);
    ck_assert_int_eq(st.locked_round, -1);
    ck_assert(esg_hash_is_zero(&st.locked));
    esg_privval_start_state(pv, 3, &st); /* the store is behind the signer */
    ck_assert_uint_eq(st.height, 3);
    ck_assert_uint_eq(st.round, 0);
    ck_assert_int_eq(st.locked_round, -1);

    /* Moving on still works, and persists. */
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 10, 0, &y), ESG_OK);
    esg_privval_close(pv);
    pv = pv_open();
    esg_privval_state(pv, &rec);
    ck_assert_uint_eq(rec.height, 10);
    ck_assert_int_eq(rec.locked_round, -1);
    esg_privval_close(pv);
}
END_TEST

/* The proposal sign document is H("esg/proposal", ProposalSignDoc) exactly
 * as proto/esg.proto states it, with valid_round zigzag-encoded. */
START_TEST(test_proposal_sign_doc) {
    esg_hash b = hx(0x77);
    esg_pb_proposal_sign_doc doc = ESG_PB_PROPOSAL_SIGN_DOC_INIT;
    doc.chain_id = CHAIN;
    doc.height = 12;
    doc.round = 3;
    doc.valid_round = -1;
    doc.block_hash = esg_pb_bin(b.b, 32);
    uint8_t *enc;
    size_t len;
    ck_assert_int_eq(esg_pb_proposal_sign_doc_encode(&doc, &enc, &len), ESG_OK);
    /* chain_id (10 = 1<<3|2), height (16 = 2<<3), round (24), valid_round
     * (32 = 4<<3, zigzag(-1) = 1), block_hash (42 = 5<<3|2). */
    static const uint8_t want_prefix[] = {0x0a, 8, 'e', 's', 'g', '-', 't', 'e', 's', 't',
                                          0x10, 12, 0x18, 3, 0x20, 0x01, 0x2a, 32};
    ck_assert_uint_eq(len, sizeof want_prefix + 32);
    ck_assert_mem_eq(enc, want_prefix, sizeof want_prefix);
    esg_hash want = esg_hash_tagged(ESG_TAG_PROPOSAL, enc, len);
    free(enc);
    esg_hash got = esg_privval_proposal_hash(CHAIN, 12, 3, -1, &b);
    ck_assert(esg_hash_eq(&got, &want));
    ck_assert_str_eq(esg_tag_name(ESG_TAG_PROPOSAL), "esg/proposal");

    /* valid_round 0 is the proto3 default: omitted, and a different hash. */
    esg_hash vr0 = esg_privval_proposal_hash(CHAIN, 12, 3, 0, &b);
    ck_assert(!esg_hash_eq(&vr0, &got));
    /* Never the hash of a vote on the same fields. */
    esg_hash v = esg_vote_hash(CHAIN, 1, 12, 3, &b);
    ck_assert(!esg_hash_eq(&v, &got));

    /* The decoder takes the document back canonically. */
    ck_assert_int_eq(esg_pb_proposal_sign_doc_encode(&doc, &enc, &len), ESG_OK);
    esg_pb_proposal_sign_doc *dec = NULL;
    ck_assert_int_eq(esg_pb_proposal_sign_doc_decode(&dec, enc, len, 1024), ESG_OK);
    ck_assert_int_eq(dec->valid_round, -1);
    esg_pb_proposal_sign_doc_free(dec);
    free(enc);
}
END_TEST

/* A truncated, empty, overlong or altered state file is an error naming
 * the file, and the file is left as it was: never a silent reset. */
START_TEST(test_damaged_file_is_an_error) {
    esg_privval *pv = pv_open();
    esg_sig s;
    esg_hash x = hx(9);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 5, 0, &x), ESG_OK);
    esg_privval_close(pv);
    uint8_t good[1024];
    size_t n = read_file(path, good, sizeof good);
    ck_assert_uint_eq(n, ESG_PRIVVAL_RECORD_LEN);

    /* Torn: only the first part of the record reached the disk. */
    ck_assert_int_eq(truncate(path, 100), 0);
    const char *err = pv_open_fails(&sk, ESG_ERR_STORE_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    ck_assert_ptr_nonnull(strstr(err, path));
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 100); /* untouched */

    ck_assert_int_eq(truncate(path, 0), 0);
    err = pv_open_fails(&sk, ESG_ERR_STORE_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err, "truncated"));
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, 0);

    /* Too long. */
    uint8_t longer[ESG_PRIVVAL_RECORD_LEN + 1];
    memcpy(longer, good, n);
    longer[n] = 0;
    write_file(path, longer, sizeof longer);
    pv_open_fails(&sk, ESG_ERR_STORE_CORRUPT);

    /* A flipped bit anywhere: the checksum. */
    static const size_t offs[] = {0, 9, 20, 44, 56, 60, 100, 150, 200, 221};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        uint8_t bad[ESG_PRIVVAL_RECORD_LEN];
        memcpy(bad, good, n);
        bad[offs[i]] ^= 0x04;
        write_file(path, bad, n);
        pv_open_fails(&sk, ESG_ERR_STORE_CORRUPT);
    }

    /* The intact file opens again as it was. */
    write_file(path, good, n);
    pv = pv_open();
    esg_hash y = hx(8);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 5, 0, &y), ESG_ERR_DOUBLE_SIGN);
    esg_privval_close(pv);
}
END_TEST

/* Fields out of range behind a valid checksum (a file some other program
 * wrote) are refused too. */
START_TEST(test_record_range_checks) {
    esg_privval *pv = pv_open();
    esg_sig s;
    esg_hash x = hx(3);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 5, 2, &x), ESG_OK);
    esg_privval_close(pv);
    uint8_t good[ESG_PRIVVAL_RECORD_LEN];
    ck_assert_uint_eq(read_file(path, good, sizeof good), sizeof good);

    struct {
        size_t off;
        uint8_t val;
        const char *what;
    } cases[] = {
        {56, 4, "step"},       /* no step 4 */
        {57, 1, "step"},       /* reserved byte */
        {55, 0x80, "round"},   /* round above 2^31 - 1 */
        {58, 7, "lock"},       /* locked round 7 > round 2 ... */
        {100, 0xff, "signature"}, /* sign hash the signature is not over */
        {130, 0x01, "signature"},
        {8, 2, "version"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t bad[ESG_PRIVVAL_RECORD_LEN];
        memcpy(bad, good, sizeof bad);
        bad[cases[i].off] = cases[i].val;
        esg_hash sum = esg_sha256(bad, 190);
        memcpy(bad + 190, sum.b, 32);
        write_file(path, bad, sizeof bad);
        const char *err = pv_open_fails(&sk, ESG_ERR_STORE_CORRUPT);
        ck_assert_msg(strstr(err, cases[i].what), "case %zu: '%s'", i, err);
    }
    /* A lock on a value while locked_round is -1. */
    uint8_t bad[ESG_PRIVVAL_RECORD_LEN];
    memcpy(bad, good, sizeof bad);
    bad[62] = 1;
    esg_hash sum = esg_sha256(bad, 190);
    memcpy(bad + 190, sum.b, 32);
    write_file(path, bad, sizeof bad);
    ck_assert_ptr_nonnull(strstr(pv_open_fails(&sk, ESG_ERR_STORE_CORRUPT), "lock"));
    /* Not a state file at all. */
    memset(bad, 'A', sizeof bad);
    write_file(path, bad, sizeof bad);
    ck_assert_ptr_nonnull(strstr(pv_open_fails(&sk, ESG_ERR_STORE_CORRUPT), "magic"));
}
END_TEST

/* A temp file left by a write a crash interrupted: the old record stands,
 * and the next write replaces the leftover. */
START_TEST(test_leftover_temp_file) {
    esg_privval *pv = pv_open();
    esg_sig s, first;
    esg_hash x = hx(0x61), y = hx(0x62);
    ck_assert_int_eq(vote(pv, &first, ESG_CONS_PREVOTE, 3, 0, &x), ESG_OK);
    esg_privval_close(pv);

    /* Half of a newer record (what a crash mid-write leaves). */
    uint8_t half[100];
    memset(half, 0xee, sizeof half);
    write_file(tmppath, half, sizeof half);

    pv = pv_open();
    esg_privval_record rec;
    esg_privval_state(pv, &rec);
    ck_assert_uint_eq(rec.height, 3);
    ck_assert_int_eq(rec.step, ESG_PRIVVAL_STEP_PREVOTE);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 3, 0, &y), ESG_ERR_DOUBLE_SIGN);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 3, 0, &x), ESG_OK);
    ck_assert_mem_eq(s.b, first.b, 64);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 3, 0, &x), ESG_OK);
    ck_assert_int_eq(access(tmppath, F_OK), -1);
    esg_privval_close(pv);

    /* A temp file and no state file: the first write never completed, so
     * nothing was ever signed. */
    ck_assert_int_eq(unlink(path), 0);
    write_file(tmppath, half, sizeof half);
    pv = pv_open();
    esg_privval_state(pv, &rec);
    ck_assert_int_eq(rec.step, ESG_PRIVVAL_STEP_NONE);
    esg_privval_close(pv);
}
END_TEST

/* When the record cannot be written, no signature leaves and nothing
 * changes; once the disk works again the signer goes on. */
START_TEST(test_write_failure_releases_nothing) {
    esg_privval *pv = pv_open();
    esg_sig s;
    esg_hash x = hx(0x71), y = hx(0x72);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 2, 0, &x), ESG_OK);
    esg_privval_record before, after;
    esg_privval_state(pv, &before);

    /* A directory where the temp file goes: the write fails (as root too). */
    ck_assert_int_eq(mkdir(tmppath, 0700), 0);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 2, 0, &x), ESG_ERR_IO);
    ck_assert(sig_is_zero(&s));
    esg_privval_state(pv, &after);
    ck_assert_mem_eq(&before, &after, sizeof before);
    ck_assert_int_eq(rmdir(tmppath), 0);

    /* The failed precommit never left, so another value there is no
     * conflict. */
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, 2, 0, &y), ESG_OK);
    vote_verifies(&s, ESG_CONS_PRECOMMIT, 2, 0, &y);
    esg_privval_close(pv);
}
END_TEST

START_TEST(test_one_signer_per_file) {
    /* A second signer on the same state file (a second esgnode on the
     * datadir) is refused while the first is open: between them they could
     * sign two conflicting votes. */
    esg_privval *pv = pv_open();
    const char *err = pv_open_fails(&sk, ESG_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, "in use by another process"));
    esg_sig s;
    esg_hash x = hx(1);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 1, 0, &x), ESG_OK);
    esg_privval_close(pv);
    /* Closed: the lock is released and the state is still there. */
    pv = pv_open();
    esg_hash y = hx(2);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 1, 0, &y), ESG_ERR_DOUBLE_SIGN);
    esg_privval_close(pv);
}
END_TEST

START_TEST(test_open_errors) {
    /* Another validator's state file. */
    esg_privval *pv = pv_open();
    esg_sig s;
    esg_hash x = hx(1);
    ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, 1, 0, &x), ESG_OK);
    esg_privval_close(pv);
    const char *err = pv_open_fails(&sk2, ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err, "belongs to key"));
    ck_assert_ptr_nonnull(strstr(err, esg_pubkey_hex(&pk).s));

    /* An invalid secret. */
    esg_seckey zero;
    memset(&zero, 0, sizeof zero);
    pv_open_fails(&zero, ESG_ERR_BAD_SECRET);

    /* Not a regular file. */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_ptr_nonnull(strstr(pv_open_fails(&sk, ESG_ERR_IO), "regular"));
    ck_assert_int_eq(rmdir(path), 0);

    /* A directory that does not exist: the file cannot be created. */
    snprintf(path, sizeof path, "%s/missing/%s", dir, ESG_PRIVVAL_FILE);
    pv_open_fails(&sk, ESG_ERR_IO);
}
END_TEST

/* --------------------------------------------------------- kill -9 */

/* A child signs in a loop and reports each vote; the parent kills it with
 * SIGKILL, at once after a report or just after the child renamed a newer
 * record into place, reopens the file and checks that the signer refuses
 * anything that conflicts with the last vote that left the child. */

typedef struct report {
    uint64_t height;
    uint32_t step; /* 2 prevote, 3 precommit */
    esg_hash block;
    esg_sig sig;
} report;

static esg_hash block_of(uint64_t h) {
    esg_hash b;
    memset(&b, 0, sizeof b);
    memcpy(b.b, &h, sizeof h);
    b.b[31] = 0xb1;
    return b;
}

/* The child: from `start` on, prevote and precommit (round 0) a block per
 * height, reporting each vote after the signer returned it. Runs until it
 * is killed (bounded all the same). */
static void child_sign_loop(int wfd, uint64_t start) {
    signal(SIGPIPE, SIG_DFL);
    esg_privval *pv = NULL;
    if (esg_privval_open(&pv, path, &sk, NULL, 0) != ESG_OK)
        _exit(10);
    for (uint64_t h = start; h < start + 100000; h++) {
        esg_hash b = block_of(h);
        for (uint32_t step = 2; step <= 3; step++) {
            report r;
            memset(&r, 0, sizeof r);
            esg_cons_lock l = step == 2 ? unlocked(h, 0) : locked_on(h, 0, 0, b);
            int rc = esg_privval_sign_vote(pv, &r.sig, CHAIN,
                                           step == 2 ? ESG_CONS_PREVOTE : ESG_CONS_PRECOMMIT, h,
                                           0, &b, &l);
            if (rc != ESG_OK)
                _exit(11);
            r.height = h;
            r.step = step;
            r.block = b;
            if (write(wfd, &r, sizeof r) != (ssize_t)sizeof r)
                _exit(12);
        }
    }
    _exit(0);
}

START_TEST(test_kill9_while_signing) {
    /* Create the file first, then kill the child at different points. */
    esg_privval_close(pv_open());
    static const int kill_after[] = {1, 6, 13, 28};
    uint64_t next = 1;
    for (size_t it = 0; it < sizeof kill_after / sizeof kill_after[0]; it++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            child_sign_loop(fds[1], next);
        }
        close(fds[1]);
        report last;
        int got = 0;
        memset(&last, 0, sizeof last);
        for (;;) {
            report r;
            size_t have = 0;
            while (have < sizeof r) {
                ssize_t n = read(fds[0], (uint8_t *)&r + have, sizeof r - have);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
                have += (size_t)n;
            }
            if (have < sizeof r)
                break; /* the child is dead and the pipe drained */
            last = r;
            if (++got != kill_after[it])
                continue;
            if (it % 2) {
                /* Let the child get further: wait (a bounded busy loop,
                 * no sleep) until it renames a newer record into place,
                 * then kill it, most likely before it reports that vote:
                 * the signer must then hold a record past the last
                 * report. */
                struct stat st0, st;
                ck_assert_int_eq(stat(path, &st0), 0);
                for (long spin = 0; spin < 10000000; spin++)
                    if (stat(path, &st) == 0 && st.st_ino != st0.st_ino)
                        break;
            }
            ck_assert_int_eq(kill(pid, SIGKILL), 0);
        }
        close(fds[0]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                      "child ended otherwise (status %d)", status);
        ck_assert_int_ge(got, kill_after[it]);
        vote_verifies(&last.sig, last.step == 2 ? ESG_CONS_PREVOTE : ESG_CONS_PRECOMMIT,
                      last.height, 0, &last.block);

        /* Restart: the record is at the last reported vote or beyond it. */
        esg_privval *pv = pv_open();
        esg_privval_record rec;
        esg_privval_state(pv, &rec);
        ck_assert(rec.height > last.height ||
                  (rec.height == last.height && rec.round == 0 && (uint32_t)rec.step >= last.step));

        esg_sig s;
        esg_cons_vote_type t = last.step == 2 ? ESG_CONS_PREVOTE : ESG_CONS_PRECOMMIT;
        esg_hash other = hx(0xcc);
        /* Nothing that conflicts with the last reported vote... */
        ck_assert_int_eq(vote(pv, &s, t, last.height, 0, &other), ESG_ERR_DOUBLE_SIGN);
        ck_assert_int_eq(vote(pv, &s, t, last.height, 0, NULL), ESG_ERR_DOUBLE_SIGN);
        /* ...nor anything before it... */
        if (last.step == 3)
            ck_assert_int_eq(vote(pv, &s, ESG_CONS_PREVOTE, last.height, 0, &other),
                             ESG_ERR_DOUBLE_SIGN);
        if (last.height > 1)
            ck_assert_int_eq(vote(pv, &s, ESG_CONS_PRECOMMIT, last.height - 1, 5, &other),
                             ESG_ERR_DOUBLE_SIGN);
        /* ...and the vote itself only as the same signature, when it is
         * still the last one signed. */
        if (rec.height == last.height && (uint32_t)rec.step == last.step) {
            ck_assert_int_eq(vote(pv, &s, t, last.height, 0, &last.block), ESG_OK);
            ck_assert_mem_eq(s.b, last.sig.b, 64);
        } else {
            ck_assert_int_eq(vote(pv, &s, t, last.height, 0, &last.block), ESG_ERR_DOUBLE_SIGN);
        }
        esg_privval_close(pv);
        next = rec.height + 1;
    }
}
END_TEST

Suite *suite_privval(void) {
    Suite *s = suite_create("privval");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_create_fresh_mode_0600);
    tcase_add_test(tc, test_rule_sequence);
    tcase_add_test(tc, test_identical_repeat);
    tcase_add_test(tc, test_refusal_writes_nothing);
    tcase_add_test(tc, test_persistence_across_reopen);
    tcase_add_test(tc, test_proposal_sign_doc);
    tcase_add_test(tc, test_damaged_file_is_an_error);
    tcase_add_test(tc, test_record_range_checks);
    tcase_add_test(tc, test_leftover_temp_file);
    tcase_add_test(tc, test_write_failure_releases_nothing);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_one_signer_per_file);
    tcase_add_test(tc, test_kill9_while_signing);
    suite_add_tcase(s, tc);
    return s;
}
