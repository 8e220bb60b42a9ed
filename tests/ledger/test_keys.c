#include <check.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keys.h"
#include "testutil.h"

/* The secp256k1 group order n: the smallest invalid secret above zero. */
#define ORDER_HEX "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141"

/* ------------------------------------------------------- BIP340 vectors */

typedef struct vector_stats {
    int rows, signed_rows, valid, invalid, bad_pubkeys;
} vector_stats;

/* Decodes hex of any even length into a fresh heap buffer (at least one
 * byte allocated so that an empty message is a valid pointer). */
static uint8_t *hex_alloc(const char *hex, size_t *len) {
    size_t n = strlen(hex);
    ck_assert_msg(n % 2 == 0, "odd-length hex '%s'", hex);
    *len = n / 2;
    uint8_t *out = malloc(*len ? *len : 1);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(esg_hex_decode(out, *len, hex), ESG_OK);
    return out;
}

/* Checks one CSV row: index,secret key,public key,aux_rand,message,
 * signature,verification result,comment. Rows without a secret key are
 * verify-only. */
static void check_vector_row(char *line, vector_stats *st) {
    char *f[8];
    char *rest = line;
    for (int i = 0; i < 7; i++) {
        f[i] = strsep(&rest, ",");
        ck_assert_msg(f[i] != NULL, "short vector row '%s'", line);
    }
    f[7] = rest ? rest : "";
    const char *idx = f[0];
    bool expect = strcmp(f[6], "TRUE") == 0;
    ck_assert_msg(expect || strcmp(f[6], "FALSE") == 0, "row %s: bad result", idx);

    esg_pubkey pk;
    esg_sig want;
    ck_assert_int_eq(esg_hex_decode(pk.b, 32, f[2]), ESG_OK);
    ck_assert_int_eq(esg_hex_decode(want.b, 64, f[5]), ESG_OK);
    size_t msglen;
    uint8_t *msg = hex_alloc(f[4], &msglen);

    if (f[1][0] != '\0') {
        esg_seckey sk;
        uint8_t aux[32];
        esg_pubkey derived;
        esg_sig got;
        ck_assert_int_eq(esg_hex_decode(sk.b, 32, f[1]), ESG_OK);
        ck_assert_int_eq(esg_hex_decode(aux, 32, f[3]), ESG_OK);
        ck_assert_int_eq(esg_key_pubkey(&derived, &sk), ESG_OK);
        ck_assert_msg(memcmp(derived.b, pk.b, 32) == 0, "row %s: pubkey differs", idx);
        ck_assert_int_eq(esg_sign_msg_aux(&got, &sk, msg, msglen, aux), ESG_OK);
        ck_assert_msg(memcmp(got.b, want.b, 64) == 0, "row %s: signature differs", idx);
        /* The randomized signer must also produce verifying signatures
         * for this key and message. */
        if (msglen == 32) {
            esg_hash h;
            memcpy(h.b, msg, 32);
            ck_assert_int_eq(esg_sign(&got, &sk, &h), ESG_OK);
            ck_assert(esg_verify(&got, &h, &pk));
        }
        esg_seckey_wipe(&sk);
        st->signed_rows++;
    }

    bool ok = esg_verify_msg(&want, msg, msglen, &pk);
    ck_assert_msg(ok == expect, "row %s (%s): verify gave %d", idx, f[7], ok);
    if (msglen == 32) {
        esg_hash h;
        memcpy(h.b, msg, 32);
        ck_assert(esg_verify(&want, &h, &pk) == expect);
    }
    if (esg_pubkey_check(&pk) != ESG_OK) {
        /* Only a failing row may carry an invalid key. */
        ck_assert_int_eq(esg_pubkey_check(&pk), ESG_ERR_BAD_PUBKEY);
        ck_assert(!expect);
        st->bad_pubkeys++;
    }
    expect ? st->valid++ : st->invalid++;
    st->rows++;
    free(msg);
}

static void check_vector_text(char *text, vector_stats *st) {
    char *save = NULL;
    bool header = true;
    for (char *line = strtok_r(text, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (header) {
            ck_assert(strncmp(line, "index,secret key,public key", 27) == 0);
            header = false;
            continue;
        }
        check_vector_row(line, st);
    }
}

/* Every row of the BIP340 reference vectors in tests/data. */
START_TEST(bip340_vectors_csv) {
    FILE *f = fopen(tu_data_path("bip340-test-vectors.csv"), "rb");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    ck_assert(n > 0 && n < sizeof text - 1);
    fclose(f);
    text[n] = '\0';
    vector_stats st = {0};
    check_vector_text(text, &st);
    ck_assert_int_ge(st.rows, 15);
    ck_assert_int_ge(st.signed_rows, 4);
    ck_assert_int_ge(st.valid, 5);
    ck_assert_int_ge(st.invalid, 10);
    ck_assert_int_ge(st.bad_pubkeys, 2); /* rows 5 and 14 */
}
END_TEST

/* Rows 15-18 of the current bitcoin/bips bip-0340/test-vectors.csv
 * (messages of 0, 1, 17 and 100 bytes, added 2022-12), which the copy in
 * tests/data predates. */
static const char extra_vectors[] =
    "index,secret key,public key,aux_rand,message,signature,verification result,comment\n"
    "15,0340034003400340034003400340034003400340034003400340034003400340,"
    "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117,"
    "0000000000000000000000000000000000000000000000000000000000000000,,"
    "71535DB165ECD9FBBC046E5FFAEA61186BB6AD436732FCCC25291A55895464CF"
    "6069CE26BF03466228F19A3A62DB8A649F2D560FAC652827D1AF0574E427AB63,TRUE,message of size 0\n"
    "16,0340034003400340034003400340034003400340034003400340034003400340,"
    "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117,"
    "0000000000000000000000000000000000000000000000000000000000000000,11,"
    "08A20A0AFEF64124649232E0693C583AB1B9934AE63B4C3511F3AE1134C6A303"
    "EA3173BFEA6683BD101FA5AA5DBC1996FE7CACFC5A577D33EC14564CEC2BACBF,TRUE,message of size 1\n"
    "17,0340034003400340034003400340034003400340034003400340034003400340,"
    "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117,"
    "0000000000000000000000000000000000000000000000000000000000000000,"
    "0102030405060708090A0B0C0D0E0F1011,"
    "5130F39A4059B43BC7CAC09A19ECE52B5D8699D1A71E3C52DA9AFDB6B50AC370"
    "C4A482B77BF960F8681540E25B6771ECE1E5A37FD80E5A51897C5566A97EA5A5,TRUE,message of size 17\n"
    "18,0340034003400340034003400340034003400340034003400340034003400340,"
    "778CAA53B4393AC467774D09497A87224BF9FAB6F6E68B23086497324D6FD117,"
    "0000000000000000000000000000000000000000000000000000000000000000,"
    "9999999999999999999999999999999999999999999999999999999999999999"
    "9999999999999999999999999999999999999999999999999999999999999999"
    "9999999999999999999999999999999999999999999999999999999999999999"
    "99999999,"
    "403B12B0D8555A344175EA7EC746566303321E5DBFA8BE6F091635163ECA79A8"
    "585ED3E3170807E7C03B720FC54C7B23897FCBA0E9D0B4A06894CFD249F22367,TRUE,message of size 100\n";

START_TEST(bip340_vectors_any_length) {
    char text[sizeof extra_vectors];
    memcpy(text, extra_vectors, sizeof text);
    vector_stats st = {0};
    check_vector_text(text, &st);
    ck_assert_int_eq(st.rows, 4);
    ck_assert_int_eq(st.signed_rows, 4);
}
END_TEST

/* ------------------------------------------------------------- signing */

START_TEST(sign_verify_round_trip) {
    esg_seckey sk;
    esg_pubkey pk, again;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    ck_assert_int_eq(esg_pubkey_check(&pk), ESG_OK);
    ck_assert_int_eq(esg_key_pubkey(&again, &sk), ESG_OK);
    ck_assert_mem_eq(again.b, pk.b, 32);

    esg_hash msg = esg_hash_tagged(ESG_TAG_TX, "body", 4);
    esg_sig a, b;
    ck_assert_int_eq(esg_sign(&a, &sk, &msg), ESG_OK);
    ck_assert_int_eq(esg_sign(&b, &sk, &msg), ESG_OK);
    /* Fresh aux randomness: a new nonce each time. */
    ck_assert(memcmp(a.b, b.b, 64) != 0);
    ck_assert(esg_verify(&a, &msg, &pk));
    ck_assert(esg_verify(&b, &msg, &pk));
    ck_assert(esg_verify_msg(&a, msg.b, 32, &pk));

    /* Another key's signature does not verify under this key. */
    esg_seckey sk2;
    esg_pubkey pk2;
    ck_assert_int_eq(esg_key_generate(&sk2, &pk2), ESG_OK);
    ck_assert(memcmp(sk.b, sk2.b, 32) != 0);
    ck_assert(!esg_verify(&a, &msg, &pk2));

    /* The deterministic signer is deterministic, for any length. */
    uint8_t aux[32] = {7};
    ck_assert_int_eq(esg_sign_msg_aux(&a, &sk, (const uint8_t *)"hello", 5, aux), ESG_OK);
    ck_assert_int_eq(esg_sign_msg_aux(&b, &sk, (const uint8_t *)"hello", 5, aux), ESG_OK);
    ck_assert_mem_eq(a.b, b.b, 64);
    ck_assert(esg_verify_msg(&a, (const uint8_t *)"hello", 5, &pk));
    ck_assert(!esg_verify_msg(&a, (const uint8_t *)"hello", 4, &pk));
    ck_assert_int_eq(esg_sign_msg_aux(&a, &sk, NULL, 0, aux), ESG_OK);
    ck_assert(esg_verify_msg(&a, NULL, 0, &pk));

    esg_seckey_wipe(&sk);
    esg_seckey_wipe(&sk2);
    static const esg_seckey zero;
    ck_assert_mem_eq(sk.b, zero.b, 32);
}
END_TEST

START_TEST(flipped_bit_fails) {
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    esg_hash msg = esg_hash_tagged(ESG_TAG_VOTE, "vote", 4);
    esg_sig sig;
    ck_assert_int_eq(esg_sign(&sig, &sk, &msg), ESG_OK);
    ck_assert(esg_verify(&sig, &msg, &pk));
    for (int bit = 0; bit < 64 * 8; bit++) {
        esg_sig s = sig;
        s.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_msg(!esg_verify(&s, &msg, &pk), "sig bit %d", bit);
    }
    for (int bit = 0; bit < 32 * 8; bit++) {
        esg_hash m = msg;
        m.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_msg(!esg_verify(&sig, &m, &pk), "msg bit %d", bit);
        esg_pubkey p = pk;
        p.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ck_assert_msg(!esg_verify(&sig, &msg, &p), "pubkey bit %d", bit);
    }
    esg_seckey_wipe(&sk);
}
END_TEST

START_TEST(bad_secrets_rejected) {
    static const char *bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        ORDER_HEX,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
    };
    esg_hash msg = esg_hash_tagged(ESG_TAG_TX, "x", 1);
    uint8_t aux[32] = {0};
    char dir[256], path[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/node.key", dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        esg_seckey sk;
        esg_pubkey pk;
        esg_sig sig;
        ck_assert_int_eq(esg_hex_decode(sk.b, 32, bad[i]), ESG_OK);
        ck_assert_int_eq(esg_key_pubkey(&pk, &sk), ESG_ERR_BAD_SECRET);
        memset(sig.b, 0xAA, 64);
        ck_assert_int_eq(esg_sign(&sig, &sk, &msg), ESG_ERR_BAD_SECRET);
        static const esg_sig zero;
        ck_assert_mem_eq(sig.b, zero.b, 64);
        ck_assert_int_eq(esg_sign_msg_aux(&sig, &sk, msg.b, 32, aux), ESG_ERR_BAD_SECRET);
        ck_assert_int_eq(esg_keyfile_write(path, &sk), ESG_ERR_BAD_SECRET);
        ck_assert_int_eq(access(path, F_OK), -1); /* nothing created */
    }
    tu_rmtree(dir);
}
END_TEST

START_TEST(pubkey_check_rejects_off_curve) {
    esg_pubkey pk;
    /* Row 5 of the BIP340 vectors: x not on the curve. */
    ck_assert_int_eq(esg_hex_decode(pk.b, 32,
        "EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34"), ESG_OK);
    ck_assert_int_eq(esg_pubkey_check(&pk), ESG_ERR_BAD_PUBKEY);
    /* Row 14: x at or above the field size. */
    ck_assert_int_eq(esg_hex_decode(pk.b, 32,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC30"), ESG_OK);
    ck_assert_int_eq(esg_pubkey_check(&pk), ESG_ERR_BAD_PUBKEY);
    memset(pk.b, 0, 32);
    ck_assert_int_eq(esg_pubkey_check(&pk), ESG_ERR_BAD_PUBKEY);
    esg_sig sig;
    memset(sig.b, 1, 64);
    esg_hash msg = esg_hash_tagged(ESG_TAG_TX, "x", 1);
    ck_assert(!esg_verify(&sig, &msg, &pk));
}
END_TEST

/* Verification is documented thread-safe: several threads verify (and
 * sign) at once; run under ASan/TSan this also catches shared state. */
typedef struct thread_arg {
    esg_seckey sk;
    esg_pubkey pk;
    esg_hash msg;
    esg_sig sig;
    int failures;
} thread_arg;

static void *verify_worker(void *p) {
    thread_arg *a = p;
    for (int i = 0; i < 200; i++) {
        if (!esg_verify(&a->sig, &a->msg, &a->pk))
            a->failures++;
        esg_hash other = a->msg;
        other.b[i % 32] ^= 1;
        if (esg_verify(&a->sig, &other, &a->pk))
            a->failures++;
        if (i % 20 == 0) {
            esg_sig s;
            if (esg_sign(&s, &a->sk, &a->msg) != ESG_OK ||
                !esg_verify(&s, &a->msg, &a->pk))
                a->failures++;
        }
    }
    return NULL;
}

START_TEST(verify_from_many_threads) {
    enum { N = 6 };
    thread_arg args[N];
    pthread_t th[N];
    for (int t = 0; t < N; t++) {
        memset(&args[t], 0, sizeof args[t]);
        ck_assert_int_eq(esg_key_generate(&args[t].sk, &args[t].pk), ESG_OK);
        args[t].msg = esg_hash_tagged(ESG_TAG_TX, &t, sizeof t);
        ck_assert_int_eq(esg_sign(&args[t].sig, &args[t].sk, &args[t].msg), ESG_OK);
    }
    for (int t = 0; t < N; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, verify_worker, &args[t]), 0);
    for (int t = 0; t < N; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_int_eq(args[t].failures, 0);
        esg_seckey_wipe(&args[t].sk);
    }
}
END_TEST

/* ----------------------------------------------------------- key files */

static void write_file(const char *path, const char *content, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fchmod(fd, mode), 0); /* beat the umask */
    size_t len = strlen(content);
    ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
    close(fd);
}

static bool is_zero(const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* Secret 3 and its pubkey (BIP340 vector row 0); a second valid pubkey. */
#define SK3_HEX "0000000000000000000000000000000000000000000000000000000000000003"
#define PK3_HEX "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define PK_OTHER_HEX "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659"

START_TEST(keyfile_round_trip) {
    char dir[256], path[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/node.key", dir);
    esg_seckey sk, back;
    esg_pubkey pk, pk_back;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    ck_assert_int_eq(esg_keyfile_write(path, &sk), ESG_OK);

    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);

    /* The file is the documented JSON, lower-case hex. */
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(json_object_size(root), 2);
    esg_hex32 pkx = esg_pubkey_hex(&pk);
    char skx[65];
    esg_hex_encode(skx, sk.b, 32);
    ck_assert_str_eq(json_string_value(json_object_get(root, "pubkey")), pkx.s);
    ck_assert_str_eq(json_string_value(json_object_get(root, "secret")), skx);
    json_decref(root);

    ck_assert_int_eq(esg_keyfile_read(&back, &pk_back, path), ESG_OK);
    ck_assert_mem_eq(back.b, sk.b, 32);
    ck_assert_mem_eq(pk_back.b, pk.b, 32);
    memset(&back, 0, sizeof back);
    ck_assert_int_eq(esg_keyfile_read(&back, NULL, path), ESG_OK);
    ck_assert_mem_eq(back.b, sk.b, 32);

    /* A hand-written file with upper-case hex and owner-only read works. */
    snprintf(path, sizeof path, "%s/upper.key", dir);
    write_file(path, "{\"secret\": \"" SK3_HEX "\", \"pubkey\": "
                     "\"F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9\"}",
               0400);
    ck_assert_int_eq(esg_keyfile_read(&back, &pk_back, path), ESG_OK);
    ck_assert_str_eq(esg_pubkey_hex(&pk_back).s, PK3_HEX);

    esg_seckey_wipe(&sk);
    esg_seckey_wipe(&back);
    tu_rmtree(dir);
}
END_TEST

START_TEST(keyfile_existing_path) {
    char dir[256], path[512], link[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/node.key", dir);
    esg_seckey a, b, back;
    esg_pubkey pa, pb;
    ck_assert_int_eq(esg_key_generate(&a, &pa), ESG_OK);
    ck_assert_int_eq(esg_key_generate(&b, &pb), ESG_OK);
    ck_assert_int_eq(esg_keyfile_write(path, &a), ESG_OK);
    ck_assert_int_eq(esg_keyfile_write(path, &b), ESG_ERR_KEY_EXISTS);
    /* The first key is untouched. */
    ck_assert_int_eq(esg_keyfile_read(&back, NULL, path), ESG_OK);
    ck_assert_mem_eq(back.b, a.b, 32);
    /* A dangling symlink is not followed. */
    snprintf(link, sizeof link, "%s/link.key", dir);
    char target[600];
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    ck_assert_int_eq(symlink(target, link), 0);
    ck_assert_int_eq(esg_keyfile_write(link, &b), ESG_ERR_KEY_EXISTS);
    ck_assert_int_eq(access(target, F_OK), -1);
    /* A directory that does not exist. */
    snprintf(path, sizeof path, "%s/no/such/dir.key", dir);
    ck_assert_int_eq(esg_keyfile_write(path, &b), ESG_ERR_IO);
    esg_seckey_wipe(&a);
    esg_seckey_wipe(&b);
    esg_seckey_wipe(&back);
    tu_rmtree(dir);
}
END_TEST

START_TEST(keyfile_refuses_open_permissions) {
    char dir[256], path[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/node.key", dir);
    esg_seckey sk, back;
    esg_pubkey pk;
    ck_assert_int_eq(esg_key_generate(&sk, &pk), ESG_OK);
    ck_assert_int_eq(esg_keyfile_write(path, &sk), ESG_OK);
    static const mode_t open_modes[] = {0644, 0640, 0604, 0610, 0601, 0660};
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        ck_assert_int_eq(chmod(path, open_modes[i]), 0);
        memset(back.b, 0x55, 32);
        ck_assert_int_eq(esg_keyfile_read(&back, NULL, path), ESG_ERR_KEY_PERMISSIONS);
        ck_assert(is_zero(back.b, 32)); /* wiped on error */
    }
    ck_assert_int_eq(chmod(path, 0400), 0);
    ck_assert_int_eq(esg_keyfile_read(&back, NULL, path), ESG_OK);
    ck_assert_mem_eq(back.b, sk.b, 32);
    esg_seckey_wipe(&sk);
    esg_seckey_wipe(&back);
    tu_rmtree(dir);
}
END_TEST

START_TEST(keyfile_bad_content) {
    static const struct {
        const char *content;
        int err;
    } cases[] = {
        {"", ESG_ERR_JSON},
        {"not json at all", ESG_ERR_JSON},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": \"" SK3_HEX "\"", ESG_ERR_JSON},
        {"[\"" PK3_HEX "\", \"" SK3_HEX "\"]", ESG_ERR_JSON},
        {"{\"pubkey\": \"" PK3_HEX "\"}", ESG_ERR_JSON},
        {"{\"secret\": \"" SK3_HEX "\"}", ESG_ERR_JSON},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": 3}", ESG_ERR_JSON},
        {"{\"pubkey\": null, \"secret\": \"" SK3_HEX "\"}", ESG_ERR_JSON},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": \"" SK3_HEX "\", \"note\": \"x\"}",
         ESG_ERR_JSON},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": \"" SK3_HEX "\", \"secret\": \""
         SK3_HEX "\"}", ESG_ERR_JSON},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": \"" SK3_HEX "\"} trailing", ESG_ERR_JSON},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": \"03\"}", ESG_ERR_HEX},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": "
         "\"000000000000000000000000000000000000000000000000000000000000000g\"}", ESG_ERR_HEX},
        {"{\"pubkey\": \"f930\", \"secret\": \"" SK3_HEX "\"}", ESG_ERR_HEX},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": "
         "\"0000000000000000000000000000000000000000000000000000000000000000\"}",
         ESG_ERR_BAD_SECRET},
        {"{\"pubkey\": \"" PK3_HEX "\", \"secret\": \"" ORDER_HEX "\"}", ESG_ERR_BAD_SECRET},
        /* A valid key that is not the secret's. */
        {"{\"pubkey\": \"" PK_OTHER_HEX "\", \"secret\": \"" SK3_HEX "\"}", ESG_ERR_BAD_PUBKEY},
        /* Not on the curve at all. */
        {"{\"pubkey\": \"eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34\", "
         "\"secret\": \"" SK3_HEX "\"}", ESG_ERR_BAD_PUBKEY},
    };
    char dir[256], path[512];
    tu_tmpdir(dir, sizeof dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/case%zu.key", dir, i);
        write_file(path, cases[i].content, 0600);
        esg_seckey sk;
        esg_pubkey pk;
        memset(sk.b, 0x55, 32);
        int err = esg_keyfile_read(&sk, &pk, path);
        ck_assert_msg(err == cases[i].err, "case %zu: got %s, want %s", i,
                      esg_err_name(err), esg_err_name(cases[i].err));
        ck_assert(is_zero(sk.b, 32));
    }

    esg_seckey sk;
    /* Too large to be a key file. */
    snprintf(path, sizeof path, "%s/big.key", dir);
    static char big[5000];
    memset(big, ' ', sizeof big - 1);
    write_file(path, big, 0600);
    ck_assert_int_eq(esg_keyfile_read(&sk, NULL, path), ESG_ERR_TOO_LARGE);
    /* Missing, unreadable by its owner, and not a regular file. */
    snprintf(path, sizeof path, "%s/missing.key", dir);
    ck_assert_int_eq(esg_keyfile_read(&sk, NULL, path), ESG_ERR_IO);
    ck_assert_int_eq(esg_keyfile_read(&sk, NULL, dir), ESG_ERR_IO);
    if (geteuid() != 0) { /* root reads a 0200 file all the same */
        snprintf(path, sizeof path, "%s/wo.key", dir);
        write_file(path, "{}", 0200);
        ck_assert_int_eq(esg_keyfile_read(&sk, NULL, path), ESG_ERR_IO);
    }
    tu_rmtree(dir);
}
END_TEST

Suite *suite_keys(void) {
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("bip340");
    tcase_add_test(tc, bip340_vectors_csv);
    tcase_add_test(tc, bip340_vectors_any_length);
    tcase_add_test(tc, sign_verify_round_trip);
    tcase_add_test(tc, flipped_bit_fails);
    tcase_add_test(tc, bad_secrets_rejected);
    tcase_add_test(tc, pubkey_check_rejects_off_curve);
    tcase_add_test(tc, verify_from_many_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("keyfile");
    tcase_add_test(tc, keyfile_round_trip);
    tcase_add_test(tc, keyfile_existing_path);
    tcase_add_test(tc, keyfile_refuses_open_permissions);
    tcase_add_test(tc, keyfile_bad_content);
    suite_add_tcase(s, tc);
    return s;
}
