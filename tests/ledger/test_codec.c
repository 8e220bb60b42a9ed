/* suite_codec: the canonical codec (ledger/codec.c).
 *
 * Malformed inputs are written byte by byte with the tiny protobuf writer
 * below, never produced by the code under test, so a bug in the encoder
 * cannot hide the malformation it was meant to build. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/hash.h"

/* ---------------------------------------------- hand-written protobuf */

typedef struct wbuf { uint8_t b[8192]; size_t n; } wbuf;

enum { WT_VARINT = 0, WT_LEN = 2 };

static void w_raw(wbuf *w, const void *p, size_t n) {
    ck_assert_uint_le(w->n + n, sizeof w->b);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_byte(wbuf *w, uint8_t c) { w_raw(w, &c, 1); }

static void w_varint(wbuf *w, uint64_t v) {
    while (v >= 0x80) {
        w_byte(w, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    w_byte(w, (uint8_t)v);
}

static void w_tag(wbuf *w, unsigned field, unsigned wt) { w_varint(w, (uint64_t)field << 3 | wt); }

static void w_uint(wbuf *w, unsigned field, uint64_t v) {
    w_tag(w, field, WT_VARINT);
    w_varint(w, v);
}

static void w_bytes(wbuf *w, unsigned field, const void *p, size_t n) {
    w_tag(w, field, WT_LEN);
    w_varint(w, n);
    w_raw(w, p, n);
}

static void w_str(wbuf *w, unsigned field, const char *s) { w_bytes(w, field, s, strlen(s)); }

static void w_msg(wbuf *w, unsigned field, const wbuf *m) { w_bytes(w, field, m->b, m->n); }

/* ------------------------------------------------------------ fixtures */

static const char *const CHAIN = "esg-test-1";

static void fill(uint8_t *p, uint8_t v, size_t n) { memset(p, v, n); }

/* AddAccount{pubkey = 32 x 0x22, roles = [ADMIN, OFFICER]} (roles packed). */
static void add_account_bytes(wbuf *w) {
    uint8_t pk[32], roles[2] = {1, 2};
    fill(pk, 0x22, 32);
    w_bytes(w, 1, pk, 32);
    w_bytes(w, 2, roles, 2);
}

/* TxBody{chain_id, nonce 7, signer = 32 x 0x11, add_account}. */
static void body_bytes(wbuf *w) {
    uint8_t signer[32];
    fill(signer, 0x11, 32);
    wbuf aa = {0};
    add_account_bytes(&aa);
    w_str(w, 1, CHAIN);
    w_uint(w, 2, 7);
    w_bytes(w, 3, signer, 32);
    w_msg(w, 12, &aa);
}

/* Signature{pubkey = 32 x pkbyte, sig = 64 x 0x44}. */
static void sig_bytes(wbuf *w, uint8_t pkbyte) {
    uint8_t pk[32], sig[64];
    fill(pk, pkbyte, 32);
    fill(sig, 0x44, 64);
    w_bytes(w, 1, pk, 32);
    w_bytes(w, 2, sig, 64);
}

/* Tx{body, sigs} with one signature per entry of pkbytes. */
static void tx_bytes(wbuf *w, const wbuf *body, const uint8_t *pkbytes, size_t n) {
    w_msg(w, 1, body);
    for (size_t i = 0; i < n; i++) {
        wbuf s = {0};
        sig_bytes(&s, pkbytes[i]);
        w_msg(w, 2, &s);
    }
}

static void tx_with_body(wbuf *w, const wbuf *body) {
    static const uint8_t one[1] = {0x33};
    tx_bytes(w, body, one, 1);
}

/* esg_tx_decode's code for `w`; checks that *out is NULL on error. */
static int decode_rc(const wbuf *w) {
    esg_tx *tx = (esg_tx *)1;
    int rc = esg_tx_decode(&tx, w->b, w->n);
    if (rc)
        ck_assert_ptr_null(tx);
    esg_tx_free(tx);
    return rc;
}

static int body_rc(const wbuf *body) {
    wbuf tx = {0};
    tx_with_body(&tx, body);
    return decode_rc(&tx);
}

/* --------------------------------------------------------------- tests */

/* The body built through the API encodes to exactly the hand-written bytes:
 * field order, packed roles and omitted defaults are what docs/WIRE.md
 * promises, and the id matches the worked example there. */
START_TEST(body_encoding_known_answer) {
    uint8_t signer[32], newkey[32];
    fill(signer, 0x11, 32);
    fill(newkey, 0x22, 32);
    esg_pb_role roles[2] = {ESG_ROLE_ADMIN, ESG_ROLE_OFFICER};
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    aa.pubkey = esg_pb_bin(newkey, 32);
    aa.n_roles = 2;
    aa.roles = roles;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.chain_id = (char *)CHAIN;
    body.nonce = 7;
    body.signer = esg_pb_bin(signer, 32);
    body.action_case = ESG_ACTION_ADD_ACCOUNT;
    body.add_account = &aa;

    uint8_t *enc;
    size_t len;
    ck_assert_int_eq(esg_tx_encode_body(&body, &enc, &len), ESG_OK);
    wbuf want = {0};
    body_bytes(&want);
    ck_assert_uint_eq(len, want.n);
    ck_assert_mem_eq(enc, want.b, len);

    char hex[2 * sizeof want.b + 1];
    esg_hex_encode(hex, enc, len);
    ck_assert_str_eq(hex, "0a0a6573672d746573742d311007"
                          "1a201111111111111111111111111111111111111111111111111111111111111111"
                          "6226"
                          "0a202222222222222222222222222222222222222222222222222222222222222222"
                          "12020102");
    esg_hash id = esg_hash_tagged(ESG_TAG_TX, enc, len);
    ck_assert_str_eq(esg_hash_hex(&id).s,
                     "f7bda02d78a64508b70408f6ce6df75d1de72bd7c546611391161ffe0b8b3be4");
    free(enc);
}
END_TEST

/* decode(encode(x)) gives back every field, the id is H("esg/tx", body)
 * and the envelope the API builds is the hand-written one. */
START_TEST(tx_round_trip) {
    wbuf body = {0};
    body_bytes(&body);
    esg_pubkey pk;
    esg_sig sig;
    fill(pk.b, 0x33, 32);
    fill(sig.b, 0x44, 64);
    uint8_t *raw;
    size_t raw_len;
    ck_assert_int_eq(esg_tx_encode_envelope(body.b, body.n, &pk, &sig, 1, &raw, &raw_len), ESG_OK);
    wbuf want = {0};
    tx_with_body(&want, &body);
    ck_assert_uint_eq(raw_len, want.n);
    ck_assert_mem_eq(raw, want.b, raw_len);

    esg_tx *tx;
    ck_assert_int_eq(esg_tx_decode(&tx, raw, raw_len), ESG_OK);
    free(raw); /* the tx keeps its own copy */

    ck_assert_str_eq(tx->body->chain_id, CHAIN);
    ck_assert_uint_eq(tx->body->nonce, 7);
    esg_pubkey signer = esg_tx_signer(tx), want_signer;
    fill(want_signer.b, 0x11, 32);
    ck_assert_mem_eq(signer.b, want_signer.b, 32);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_ADD_ACCOUNT);
    ck_assert_str_eq(esg_action_name(tx->body->action_case), "AddAccount");
    const esg_pb_add_account *aa = tx->body->add_account;
    esg_pubkey newkey;
    ck_assert_int_eq(esg_pb_pubkey32(&aa->pubkey, &newkey), ESG_OK);
    for (int i = 0; i < 32; i++)
        ck_assert_uint_eq(newkey.b[i], 0x22);
    ck_assert_uint_eq(aa->n_roles, 2);
    ck_assert_int_eq(aa->roles[0], ESG_ROLE_ADMIN);
    ck_assert_int_eq(aa->roles[1], ESG_ROLE_OFFICER);

    esg_hash id = esg_hash_tagged(ESG_TAG_TX, body.b, body.n);
    ck_assert(esg_hash_eq(&tx->id, &id));
    ck_assert_uint_eq(tx->raw_len, want.n);
    ck_assert_mem_eq(tx->raw, want.b, want.n);

    ck_assert_uint_eq(esg_tx_n_sigs(tx), 1);
    esg_pubkey got_pk;
    esg_sig got_sig;
    esg_tx_sig_at(tx, 0, &got_pk, &got_sig);
    ck_assert_mem_eq(got_pk.b, pk.b, 32);
    ck_assert_mem_eq(got_sig.b, sig.b, 64);

    /* Re-encoding the decoded envelope gives the same bytes. */
    uint8_t *again;
    size_t again_len;
    ck_assert_int_eq(esg_pb_tx_encode(tx->env, &again, &again_len), ESG_OK);
    ck_assert_uint_eq(again_len, want.n);
    ck_assert_mem_eq(again, want.b, again_len);
    free(again);
    esg_tx_free(tx);
}
END_TEST

/* Co-signed transactions keep their signatures in the order given, up to
 * the limit of 64. */
START_TEST(multi_signature_order_and_limit) {
    wbuf body = {0};
    body_bytes(&body);
    uint8_t pks[ESG_TX_MAX_SIGS + 1];
    for (size_t i = 0; i < sizeof pks; i++)
        pks[i] = (uint8_t)(0x80 + i);

    wbuf w = {0};
    tx_bytes(&w, &body, pks, 3);
    esg_tx *tx;
    ck_assert_int_eq(esg_tx_decode(&tx, w.b, w.n), ESG_OK);
    ck_assert_uint_eq(esg_tx_n_sigs(tx), 3);
    for (size_t i = 0; i < 3; i++) {
        esg_pubkey pk;
        esg_tx_sig_at(tx, i, &pk, NULL);
        ck_assert_uint_eq(pk.b[0], pks[i]);
    }
    esg_tx_free(tx);

    wbuf max = {0};
    tx_bytes(&max, &body, pks, ESG_TX_MAX_SIGS);
    ck_assert_int_eq(decode_rc(&max), ESG_OK);
    wbuf over = {0};
    tx_bytes(&over, &body, pks, ESG_TX_MAX_SIGS + 1);
    ck_assert_int_eq(decode_rc(&over), ESG_ERR_TOO_LARGE);
}
END_TEST

START_TEST(rejects_unknown_field_in_envelope) {
    wbuf body = {0}, w = {0};
    body_bytes(&body);
    tx_with_body(&w, &body);
    ck_assert_int_eq(decode_rc(&w), ESG_OK);
    w_uint(&w, 99, 1);
    ck_assert_int_eq(decode_rc(&w), ESG_ERR_UNKNOWN_FIELD);
}
END_TEST

START_TEST(rejects_unknown_field_in_body) {
    wbuf body = {0};
    body_bytes(&body);
    w_uint(&body, 99, 1);
    ck_assert_int_eq(body_rc(&body), ESG_ERR_UNKNOWN_FIELD);
}
END_TEST

/* An unknown field in a Signature (a repeated message of the envelope). */
START_TEST(rejects_unknown_field_in_signature) {
    wbuf body = {0}, s = {0}, w = {0};
    body_bytes(&body);
    sig_bytes(&s, 0x33);
    w_uint(&s, 3, 1);
    w_msg(&w, 1, &body);
    w_msg(&w, 2, &s);
    ck_assert_int_eq(decode_rc(&w), ESG_ERR_UNKNOWN_FIELD);
}
END_TEST

/* Body with Propose{proposal{add_member{...}}}; `extra` appends an unknown
 * field 9 to the AddMember, three levels below the body. */
static void propose_body(wbuf *w, int extra) {
    uint8_t signer[32], admin[32];
    fill(signer, 0x11, 32);
    fill(admin, 0x55, 32);
    wbuf am = {0}, prop = {0}, propose = {0};
    w_str(&am, 1, "city-x");
    w_uint(&am, 2, ESG_MEMBER_CITY);
    w_str(&am, 3, "Ηράκλειο"); /* multi-byte UTF-8 is fine */
    w_str(&am, 4, "GR");
    w_bytes(&am, 5, admin, 32);
    if (extra)
        w_uint(&am, 9, 1);
    w_msg(&prop, 1, &am);
    w_str(&prop, 15, "admit city x");
    w_msg(&propose, 1, &prop);
    w_str(w, 1, CHAIN);
    w_uint(w, 2, 1);
    w_bytes(w, 3, signer, 32);
    w_msg(w, 10, &propose);
}

START_TEST(rejects_unknown_field_in_nested_message) {
    wbuf good = {0}, bad = {0};
    propose_body(&good, 0);
    propose_body(&bad, 1);

    wbuf w = {0};
    tx_with_body(&w, &good);
    esg_tx *tx;
    ck_assert_int_eq(esg_tx_decode(&tx, w.b, w.n), ESG_OK);
    ck_assert_int_eq(tx->body->action_case, ESG_ACTION_PROPOSE);
    const esg_pb_proposal *p = tx->body->propose->proposal;
    ck_assert_int_eq(p->change_case, ESG_PROPOSAL_ADD_MEMBER);
    ck_assert_str_eq(esg_proposal_change_name(p->change_case), "AddMember");
    ck_assert_str_eq(p->add_member->name, "Ηράκλειο");
    ck_assert_int_eq(p->add_member->kind, ESG_MEMBER_CITY);
    esg_tx_free(tx);

    ck_assert_int_eq(body_rc(&bad), ESG_ERR_UNKNOWN_FIELD);
}
END_TEST

/* Field 2 (nonce) written before field 1 (chain_id). */
START_TEST(rejects_reordered_fields) {
    uint8_t signer[32];
    fill(signer, 0x11, 32);
    wbuf aa = {0}, body = {0};
    add_account_bytes(&aa);
    w_uint(&body, 2, 7);
    w_str(&body, 1, CHAIN);
    w_bytes(&body, 3, signer, 32);
    w_msg(&body, 12, &aa);
    ck_assert_int_eq(body_rc(&body), ESG_ERR_NON_CANONICAL);

    /* The same in the envelope: sigs before body. */
    wbuf good = {0}, s = {0}, w = {0};
    body_bytes(&good);
    sig_bytes(&s, 0x33);
    w_msg(&w, 2, &s);
    w_msg(&w, 1, &good);
    ck_assert_int_eq(decode_rc(&w), ESG_ERR_NON_CANONICAL);
}
END_TEST

/* Nonce 7 as 0x87 0x00: the same value with a redundant continuation. */
START_TEST(rejects_non_minimal_varint) {
    uint8_t signer[32];
    fill(signer, 0x11, 32);
    wbuf aa = {0}, body = {0};
    add_account_bytes(&aa);
    w_str(&body, 1, CHAIN);
    w_tag(&body, 2, WT_VARINT);
    w_byte(&body, 0x87);
    w_byte(&body, 0x00);
    w_bytes(&body, 3, signer, 32);
    w_msg(&body, 12, &aa);
    ck_assert_int_eq(body_rc(&body), ESG_ERR_NON_CANONICAL);
}
END_TEST

/* nonce = 0 written out, where proto3 omits a default. */
START_TEST(rejects_explicit_default) {
    uint8_t signer[32];
    fill(signer, 0x11, 32);
    wbuf aa = {0}, body = {0};
    add_account_bytes(&aa);
    w_str(&body, 1, CHAIN);
    w_uint(&body, 2, 0);
    w_bytes(&body, 3, signer, 32);
    w_msg(&body, 12, &aa);
    ck_assert_int_eq(body_rc(&body), ESG_ERR_NON_CANONICAL);
}
END_TEST

/* Other encodings of the same values: a field written twice, repeated
 * roles not packed, a bool written as 2, a string holding a NUL. */
START_TEST(rejects_other_non_canonical_forms) {
    uint8_t signer[32], newkey[32];
    fill(signer, 0x11, 32);
    fill(newkey, 0x22, 32);

    wbuf body = {0}, aa = {0};
    body_bytes(&body);
    w_uint(&body, 2, 7); /* nonce again, after the action */
    ck_assert_int_eq(body_rc(&body), ESG_ERR_NON_CANONICAL);

    w_bytes(&aa, 1, newkey, 32);
    w_uint(&aa, 2, 1);
    w_uint(&aa, 2, 2);
    memset(&body, 0, sizeof body);
    w_str(&body, 1, CHAIN);
    w_uint(&body, 2, 7);
    w_bytes(&body, 3, signer, 32);
    w_msg(&body, 12, &aa);
    ck_assert_int_eq(body_rc(&body), ESG_ERR_NON_CANONICAL);

    wbuf vote = {0};
    uint8_t pid[32];
    fill(pid, 0x66, 32);
    w_bytes(&vote, 1, pid, 32);
    w_uint(&vote, 2, 2);
    memset(&body, 0, sizeof body);
    w_str(&body, 1, CHAIN);
    w_uint(&body, 2, 7);
    w_bytes(&body, 3, signer, 32);
    w_msg(&body, 11, &vote);
    ck_assert_int_eq(body_rc(&body), ESG_ERR_NON_CANONICAL);

    memset(&body, 0, sizeof body);
    w_bytes(&body, 1, "esg\0x", 5);
    w_uint(&body, 2, 7);
    w_bytes(&body, 3, signer, 32);
    w_msg(&body, 12, &(wbuf){0});
    ck_assert_int_eq(body_rc(&body), ESG_ERR_NON_CANONICAL);
}
END_TEST

START_TEST(rejects_invalid_utf8) {
    static const char *const bad[] = {
        "\xc3\x28",         /* bad continuation */
        "\xc0\xaf",         /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "ab\xe2\x82",       /* truncated sequence */
    };
    uint8_t signer[32];
    fill(signer, 0x11, 32);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wbuf aa = {0}, body = {0};
        add_account_bytes(&aa);
        w_str(&body, 1, bad[i]);
        w_uint(&body, 2, 7);
        w_bytes(&body, 3, signer, 32);
        w_msg(&body, 12, &aa);
        ck_assert_int_eq(body_rc(&body), ESG_ERR_DECODE);
    }
}
END_TEST

START_TEST(rejects_truncated) {
    wbuf body = {0}, w = {0};
    body_bytes(&body);
    tx_with_body(&w, &body);
    wbuf cut = w;
    cut.n--;
    ck_assert_int_eq(decode_rc(&cut), ESG_ERR_DECODE);
    /* No proper prefix is a transaction (a prefix ending on a field
     * boundary decodes, but lacks the signature or the action). */
    for (size_t n = 0; n < w.n; n++) {
        cut.n = n;
        ck_assert_int_ne(decode_rc(&cut), ESG_OK);
    }
    /* A truncated body inside a well-formed envelope. */
    body.n -= 3;
    ck_assert_int_eq(body_rc(&body), ESG_ERR_DECODE);
    wbuf junk = {.b = {0xff, 0xff, 0xff}, .n = 3};
    ck_assert_int_eq(body_rc(&junk), ESG_ERR_DECODE);
}
END_TEST

START_TEST(rejects_too_large) {
    size_t n = ESG_TX_MAX_BYTES + 1;
    uint8_t *big = calloc(1, n);
    ck_assert_ptr_nonnull(big);
    esg_tx *tx = (esg_tx *)1;
    ck_assert_int_eq(esg_tx_decode(&tx, big, n), ESG_ERR_TOO_LARGE);
    ck_assert_ptr_null(tx);
    /* At the limit the size is fine and the zeros are bad protobuf. */
    ck_assert_int_eq(esg_tx_decode(&tx, big, n - 1), ESG_ERR_DECODE);
    free(big);
}
END_TEST

START_TEST(rejects_missing_action) {
    uint8_t signer[32];
    fill(signer, 0x11, 32);
    wbuf body = {0};
    w_str(&body, 1, CHAIN);
    w_uint(&body, 2, 7);
    w_bytes(&body, 3, signer, 32);
    ck_assert_int_eq(body_rc(&body), ESG_ERR_NO_ACTION);
    /* An empty body is omitted from the envelope, as proto3 omits any
     * empty bytes field; written out it is an explicit default. */
    wbuf s = {0}, w = {0};
    sig_bytes(&s, 0x33);
    w_msg(&w, 2, &s);
    ck_assert_int_eq(decode_rc(&w), ESG_ERR_NO_ACTION);
    ck_assert_int_eq(body_rc(&(wbuf){0}), ESG_ERR_NON_CANONICAL);
}
END_TEST

START_TEST(rejects_bad_signer_length) {
    uint8_t signer[33];
    fill(signer, 0x11, 33);
    for (size_t len = 31; len <= 33; len += 2) {
        wbuf aa = {0}, body = {0};
        add_account_bytes(&aa);
        w_str(&body, 1, CHAIN);
        w_uint(&body, 2, 7);
        w_bytes(&body, 3, signer, len);
        w_msg(&body, 12, &aa);
        ck_assert_int_eq(body_rc(&body), ESG_ERR_BAD_PUBKEY);
    }
}
END_TEST

START_TEST(rejects_bad_signature_lengths) {
    uint8_t pk[32], sig[64];
    fill(pk, 0x33, 32);
    fill(sig, 0x44, 64);
    wbuf body = {0};
    body_bytes(&body);
    const size_t cases[][2] = {{31, 64}, {33, 64}, {32, 63}, {32, 65}, {32, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t pkbuf[33] = {0}, sigbuf[65] = {0};
        memcpy(pkbuf, pk, 32);
        memcpy(sigbuf, sig, 64);
        wbuf s = {0}, w = {0};
        w_bytes(&s, 1, pkbuf, cases[i][0]);
        if (cases[i][1])
            w_bytes(&s, 2, sigbuf, cases[i][1]);
        w_msg(&w, 1, &body);
        w_msg(&w, 2, &s);
        ck_assert_int_eq(decode_rc(&w), ESG_ERR_BAD_SIGNATURE);
    }
}
END_TEST

START_TEST(rejects_duplicate_signature_pubkeys) {
    wbuf body = {0}, w = {0};
    body_bytes(&body);
    static const uint8_t pks[3] = {0x33, 0x34, 0x33};
    tx_bytes(&w, &body, pks, 3);
    ck_assert_int_eq(decode_rc(&w), ESG_ERR_DUPLICATE_SIGNATURE);
}
END_TEST

START_TEST(rejects_zero_signatures) {
    wbuf body = {0}, w = {0};
    body_bytes(&body);
    tx_bytes(&w, &body, NULL, 0);
    ck_assert_int_eq(decode_rc(&w), ESG_ERR_MISSING_SIGNATURE);
}
END_TEST

/* The generic decoder on state records: typed wrappers round-trip, the size
 * limit comes first, and unknown fields and bad strings are found inside
 * repeated fields too. */
START_TEST(generic_decode_state_records) {
    char *cats[2] = {"climate", "energy"};
    esg_pb_member m = ESG_PB_MEMBER_INIT;
    m.id = "verifier-a";
    m.kind = ESG_MEMBER_VERIFIER;
    m.name = "Verifier A";
    m.n_accredited_categories = 2;
    m.accredited_categories = cats;
    uint8_t *enc;
    size_t len;
    ck_assert_int_eq(esg_pb_member_encode(&m, &enc, &len), ESG_OK);
    esg_pb_member *got = NULL;
    ck_assert_int_eq(esg_pb_member_decode(&got, enc, len, len), ESG_OK);
    ck_assert_str_eq(got->id, "verifier-a");
    ck_assert_str_eq(got->country, ""); /* absent strings read as "" */
    ck_assert_uint_eq(got->n_accredited_categories, 2);
    ck_assert_str_eq(got->accredited_categories[1], "energy");
    esg_pb_member_free(got);

    got = (esg_pb_member *)1;
    ck_assert_int_eq(esg_pb_member_decode(&got, enc, len, len - 1), ESG_ERR_TOO_LARGE);
    ck_assert_ptr_null(got);
    ProtobufCMessage *any = (ProtobufCMessage *)1;
    ck_assert_int_eq(esg_pb_decode(ESG_PB_MEMBER_DESC, (const uint8_t *)"\xff\xff", 2, 1, &any),
                     ESG_ERR_TOO_LARGE);
    ck_assert_ptr_null(any);
    free(enc);

    wbuf w = {0};
    w_str(&w, 1, "verifier-a");
    w_str(&w, 6, "climate");
    w_bytes(&w, 6, "\xff", 1);
    ck_assert_int_eq(esg_pb_member_decode(&got, w.b, w.n, SIZE_MAX), ESG_ERR_DECODE);
    ck_assert_ptr_null(got);

    /* ValidatorSet{validators: [ok, {pubkey, unknown 7}]}. */
    uint8_t pk[32];
    fill(pk, 0x77, 32);
    wbuf v1 = {0}, v2 = {0}, set = {0};
    w_bytes(&v1, 1, pk, 32);
    w_uint(&v1, 2, 10);
    w_bytes(&v2, 1, pk, 32);
    w_uint(&v2, 7, 1);
    w_msg(&set, 1, &v1);
    esg_pb_validator_set *vs;
    ck_assert_int_eq(esg_pb_validator_set_decode(&vs, set.b, set.n, SIZE_MAX), ESG_OK);
    ck_assert_uint_eq(vs->n_validators, 1);
    ck_assert_uint_eq(vs->validators[0]->power, 10);
    esg_pb_free(vs);
    w_msg(&set, 1, &v2);
    ck_assert_int_eq(esg_pb_validator_set_decode(&vs, set.b, set.n, SIZE_MAX),
                     ESG_ERR_UNKNOWN_FIELD);

    /* The empty encoding is the all-defaults message. */
    esg_pb_params *p;
    ck_assert_int_eq(esg_pb_params_decode(&p, NULL, 0, 0), ESG_OK);
    ck_assert_uint_eq(p->max_block_txs, 0);
    esg_pb_params_free(p);
    esg_pb_free(NULL);
}
END_TEST

START_TEST(bytes32_helpers) {
    uint8_t b[33];
    fill(b, 0x5a, 33);
    esg_hash h;
    esg_pubkey pk;
    fill(h.b, 0, 32);
    fill(pk.b, 0, 32);
    esg_pb_bytes b32 = esg_pb_bin(b, 32), b31 = esg_pb_bin(b, 31), b33 = esg_pb_bin(b, 33);
    ck_assert_int_eq(esg_pb_bytes32(&b31, &h), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_pb_bytes32(&b33, &h), ESG_ERR_INVALID_ARGUMENT);
    ck_assert(esg_hash_is_zero(&h)); /* unchanged on error */
    ck_assert_int_eq(esg_pb_bytes32(&b32, &h), ESG_OK);
    ck_assert_mem_eq(h.b, b, 32);
    ck_assert_int_eq(esg_pb_pubkey32(&b31, &pk), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_pb_pubkey32(&b32, &pk), ESG_OK);
    ck_assert_mem_eq(pk.b, b, 32);
}
END_TEST

START_TEST(action_and_change_names) {
    static const struct { int c; const char *name; } actions[] = {
        {ESG_ACTION_PROPOSE, "Propose"},
        {ESG_ACTION_VOTE, "Vote"},
        {ESG_ACTION_ADD_ACCOUNT, "AddAccount"},
        {ESG_ACTION_REVOKE_ACCOUNT, "RevokeAccount"},
        {ESG_ACTION_ISSUE_INSTRUMENT, "IssueInstrument"},
        {ESG_ACTION_SUBSCRIBE, "Subscribe"},
        {ESG_ACTION_CLOSE_OFFERING, "CloseOffering"},
        {ESG_ACTION_TRANSFER, "Transfer"},
        {ESG_ACTION_RECORD_PAYMENT, "RecordPayment"},
        {ESG_ACTION_ALLOCATE_PROCEEDS, "AllocateProceeds"},
        {ESG_ACTION_REPORT_IMPACT, "ReportImpact"},
        {ESG_ACTION_ATTEST_IMPACT, "AttestImpact"},
        {ESG_ACTION_REVOKE_ATTESTATION, "RevokeAttestation"},
        {ESG_ACTION_DISPUTE_IMPACT, "DisputeImpact"},
        {ESG_ACTION_NONE, "none"},
        {2, "none"}, /* nonce: a field, not an action */
        {99, "none"},
        {-1, "none"},
    };
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        ck_assert_str_eq(esg_action_name(actions[i].c), actions[i].name);
    ck_assert_str_eq(esg_proposal_change_name(ESG_PROPOSAL_SET_PARAM), "SetParam");
    ck_assert_str_eq(esg_proposal_change_name(ESG_PROPOSAL_ADD_KPI), "AddKpi");
    ck_assert_str_eq(esg_proposal_change_name(ESG_PROPOSAL_NONE), "none");
    ck_assert_str_eq(esg_proposal_change_name(15), "none"); /* description */
}
END_TEST

/* protobuf-c's allocations while decoding are bounded: a transaction of
 * 100,000 empty signatures is 200 KB on the wire but a struct and a
 * pointer each in memory (over 30x); it is refused with ESG_ERR_TOO_LARGE
 * before it takes more than the budget, while a transaction of the same
 * size made of real bytes (one 200 KB body) decodes. */
START_TEST(decode_memory_is_budgeted) {
    size_t n = 100000, len = 2 * n;
    uint8_t *buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = 0x12; /* Tx.sigs (field 2, length-delimited) */
        buf[2 * i + 1] = 0x00;
    }
    ProtobufCMessage *m = (ProtobufCMessage *)1;
    ck_assert_int_eq(esg_pb_decode(ESG_PB_TX_DESC, buf, len, len, &m), ESG_ERR_TOO_LARGE);
    ck_assert_ptr_null(m);
    /* A hundred of them fit in the budget's fixed part. */
    ck_assert_int_eq(esg_pb_decode(ESG_PB_TX_DESC, buf, 200, len, &m), ESG_OK);
    esg_pb_free(m);
    /* Tx.body = 200 KB of bytes: costs its size, decodes. */
    size_t blen = len - 4;
    buf[0] = 0x0a;
    buf[1] = (uint8_t)(0x80 | (blen & 0x7f));
    buf[2] = (uint8_t)(0x80 | ((blen >> 7) & 0x7f));
    buf[3] = (uint8_t)(blen >> 14);
    memset(buf + 4, 0x5a, blen);
    ck_assert_int_eq(esg_pb_decode(ESG_PB_TX_DESC, buf, len, len, &m), ESG_OK);
    esg_pb_free(m);
    free(buf);
}
END_TEST

Suite *suite_codec(void) {
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, body_encoding_known_answer);
    tcase_add_test(tc, tx_round_trip);
    tcase_add_test(tc, multi_signature_order_and_limit);
    tcase_add_test(tc, rejects_unknown_field_in_envelope);
    tcase_add_test(tc, rejects_unknown_field_in_body);
    tcase_add_test(tc, rejects_unknown_field_in_signature);
    tcase_add_test(tc, rejects_unknown_field_in_nested_message);
    tcase_add_test(tc, rejects_reordered_fields);
    tcase_add_test(tc, rejects_non_minimal_varint);
    tcase_add_test(tc, rejects_explicit_default);
    tcase_add_test(tc, rejects_other_non_canonical_forms);
    tcase_add_test(tc, rejects_invalid_utf8);
    tcase_add_test(tc, rejects_truncated);
    tcase_add_test(tc, rejects_too_large);
    tcase_add_test(tc, rejects_missing_action);
    tcase_add_test(tc, rejects_bad_signer_length);
    tcase_add_test(tc, rejects_bad_signature_lengths);
    tcase_add_test(tc, rejects_duplicate_signature_pubkeys);
    tcase_add_test(tc, rejects_zero_signatures);
    tcase_add_test(tc, generic_decode_state_records);
    tcase_add_test(tc, bytes32_helpers);
    tcase_add_test(tc, action_and_change_names);
    tcase_add_test(tc, decode_memory_is_budgeted);
    suite_add_tcase(s, tc);
    return s;
}
