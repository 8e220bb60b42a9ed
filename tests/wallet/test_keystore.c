#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keys.h"
#include "testutil.h"
#include "wallet/keystore.h"

static char tmp[256];
static char ksdir[512];
static esgw_keystore *ks;

/* Every test gets a fresh keystore in a directory that does not exist yet
 * (so opening it creates it) and the cheap KDF. */
static void setup(void) {
    setenv("ESGWALLET_KDF", "fast", 1);
    unsetenv("ESGWALLET_PASSPHRASE");
    tu_tmpdir(tmp, sizeof tmp);
    snprintf(ksdir, sizeof ksdir, "%s/keys", tmp);
    ck_assert_int_eq(esgw_keystore_open(&ks, ksdir), ESG_OK);
}

static void teardown(void) {
    esgw_keystore_close(ks);
    ks = NULL;
    tu_rmtree(tmp);
}

static const char *key_path(const char *name) {
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s.json", ksdir, name);
    return p;
}

static bool is_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static json_t *load_json(const char *path) {
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    ck_assert_msg(j != NULL, "%s: %s", path, e.text);
    return j;
}

/* Rewrites a key file with edited JSON, keeping mode 0600. */
static void save_json(const char *path, json_t *j) {
    ck_assert_int_eq(json_dump_file(j, path, JSON_COMPACT), 0);
    ck_assert_int_eq(chmod(path, 0600), 0);
}

static void write_file(const char *path, const char *text, mode_t mode) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(chmod(path, mode), 0);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

static size_t dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Flips one hex digit of the string member `key` of object `obj`. */
static void flip_hex(json_t *obj, const char *key, size_t at) {
    char *s = strdup(json_string_value(json_object_get(obj, key)));
    ck_assert_ptr_nonnull(s);
    s[at] = s[at] == '0' ? '1' : '0';
    json_object_set_new(obj, key, json_string(s));
    free(s);
}

/* ------------------------------------------------------------ key life */

START_TEST(create_list_pubkey_unlock) {
    esg_pubkey pk, pk2, pk3;
    ck_assert_int_eq(esgw_key_create(ks, "alice", "correct horse", &pk), ESG_OK);
    ck_assert_int_eq(esgw_key_create(ks, "bob", "pw-b", NULL), ESG_OK);
    ck_assert_int_eq(esgw_key_create(ks, "Carol.2-x_y", "pw-c", NULL), ESG_OK);

    char **names;
    size_t n;
    ck_assert_int_eq(esgw_key_list(ks, &names, &n), ESG_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(names[0], "Carol.2-x_y");
    ck_assert_str_eq(names[1], "alice");
    ck_assert_str_eq(names[2], "bob");
    esgw_key_list_free(names, n);

    ck_assert_int_eq(esgw_key_pubkey(ks, "alice", &pk2), ESG_OK);
    ck_assert_mem_eq(pk.b, pk2.b, 32);

    esg_seckey sk;
    ck_assert_int_eq(esgw_key_unlock(ks, "alice", "correct horse", &sk, &pk3),
                     ESG_OK);
    ck_assert_mem_eq(pk3.b, pk.b, 32);
    esg_pubkey derived;
    ck_assert_int_eq(esg_key_pubkey(&derived, &sk), ESG_OK);
    ck_assert_mem_eq(derived.b, pk.b, 32);
    esg_seckey_wipe(&sk);

    /* Each key has its own secret. */
    esg_pubkey pkb;
    ck_assert_int_eq(esgw_key_pubkey(ks, "bob", &pkb), ESG_OK);
    ck_assert(memcmp(pkb.b, pk.b, 32) != 0);
}
END_TEST

START_TEST(list_ignores_other_files) {
    char **names = (char **)1;
    size_t n = 99;
    ck_assert_int_eq(esgw_key_list(ks, &names, &n), ESG_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(names);
    esgw_key_list_free(names, n);

    ck_assert_int_eq(esgw_key_create(ks, "k1", "pw", NULL), ESG_OK);
    char p[1024];
    snprintf(p, sizeof p, "%s/notes.txt", ksdir);
    write_file(p, "x", 0600);
    snprintf(p, sizeof p, "%s/.hidden.json", ksdir);
    write_file(p, "{}", 0600);
    snprintf(p, sizeof p, "%s/bad name.json", ksdir);
    write_file(p, "{}", 0600);
    snprintf(p, sizeof p, "%s/.json", ksdir);
    write_file(p, "{}", 0600);
    snprintf(p, sizeof p, "%s/adir.json", ksdir);
    ck_assert_int_eq(mkdir(p, 0700), 0);

    ck_assert_int_eq(esgw_key_list(ks, &names, &n), ESG_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], "k1");
    esgw_key_list_free(names, n);
}
END_TEST

/* The file is the documented JSON, mode 0600, in a directory of mode 0700,
 * written with the cheap KDF when ESGWALLET_KDF=fast. */
START_TEST(file_format_and_modes) {
    esg_pubkey pk;
    ck_assert_int_eq(esgw_key_create(ks, "alice", "pw", &pk), ESG_OK);
    struct stat st;
    ck_assert_int_eq(stat(ksdir, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    ck_assert_int_eq(stat(key_path("alice"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_str_eq(esgw_keystore_dir(ks), ksdir);

    json_t *j = load_json(key_path("alice"));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 2);
    ck_assert_uint_eq(json_object_size(j), 5);
    ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "alice");
    ck_assert_str_eq(json_string_value(json_object_get(j, "pubkey")),
                     esg_pubkey_hex(&pk).s);
    json_t *kdf = json_object_get(j, "kdf"), *c = json_object_get(j, "cipher");
    ck_assert_str_eq(json_string_value(json_object_get(kdf, "alg")), "argon2id13");
    ck_assert_int_eq(json_integer_value(json_object_get(kdf, "opslimit")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(kdf, "memlimit")), 8192);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(kdf, "salt"))), 32);
    ck_assert_str_eq(json_string_value(json_object_get(c, "alg")),
                     "xchacha20poly1305-ietf");
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(c, "nonce"))), 48);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(c, "ciphertext"))), 96);
    json_decref(j);
    /* Nothing but the key file is left behind (no temporary file). */
    ck_assert_uint_eq(dir_entries(ksdir), 1);
}
END_TEST

/* Without ESGWALLET_KDF=fast a new file uses the interactive parameters. */
START_TEST(default_kdf_is_interactive) {
    unsetenv("ESGWALLET_KDF");
    ck_assert_int_eq(esgw_key_create(ks, "slow", "pw", NULL), ESG_OK);
    json_t *j = load_json(key_path("slow"));
    json_t *kdf = json_object_get(j, "kdf");
    ck_assert_int_eq(json_integer_value(json_object_get(kdf, "opslimit")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(kdf, "memlimit")),
                     64 * 1024 * 1024);
    json_decref(j);
}
END_TEST

START_TEST(wrong_passphrase) {
    ck_assert_int_eq(esgw_key_create(ks, "alice", "right", NULL), ESG_OK);
    esg_seckey sk;
    memset(&sk, 0xAA, sizeof sk);
    ck_assert_int_eq(esgw_key_unlock(ks, "alice", "wrong", &sk, NULL),
                     ESG_ERR_BAD_PASSPHRASE);
    ck_assert(is_zero(&sk, sizeof sk));
    ck_assert_ptr_nonnull(strstr(esgw_keystore_errmsg(ks), "alice"));
    ck_assert_int_eq(esgw_key_unlock(ks, "alice", "", &sk, NULL),
                     ESG_ERR_BAD_PASSPHRASE);
    ck_assert_int_eq(esgw_key_unlock(ks, "alice", "right", &sk, NULL), ESG_OK);
    esg_seckey_wipe(&sk);
}
END_TEST

/* Altering any encrypted or authenticated field fails like a wrong
 * passphrase and yields no secret. */
START_TEST(tampered_fields_fail) {
    static const struct { const char *obj, *key; size_t at; } cases[] = {
        {"cipher", "ciphertext", 0}, {"cipher", "ciphertext", 95},
        {"cipher", "nonce", 10},     {"kdf", "salt", 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "k%zu", i);
        ck_assert_int_eq(esgw_key_create(ks, name, "pw", NULL), ESG_OK);
        json_t *j = load_json(key_path(name));
        flip_hex(json_object_get(j, cases[i].obj), cases[i].key, cases[i].at);
        save_json(key_path(name), j);
        json_decref(j);
        esg_seckey sk;
        memset(&sk, 0xAA, sizeof sk);
        ck_assert_int_eq(esgw_key_unlock(ks, name, "pw", &sk, NULL),
                         ESG_ERR_BAD_PASSPHRASE);
        ck_assert(is_zero(&sk, sizeof sk));
    }
}
END_TEST

/* A pubkey field swapped for another valid key's fails to decrypt (the
 * pubkey is the AEAD's additional data). */
START_TEST(swapped_pubkey_fails) {
    esg_pubkey pk_b;
    ck_assert_int_eq(esgw_key_create(ks, "a", "pw", NULL), ESG_OK);
    ck_assert_int_eq(esgw_key_create(ks, "b", "pw", &pk_b), ESG_OK);
    json_t *j = load_json(key_path("a"));
    json_object_set_new(j, "pubkey", json_string(esg_pubkey_hex(&pk_b).s));
    save_json(key_path("a"), j);
    json_decref(j);
    esg_seckey sk;
    memset(&sk, 0xAA, sizeof sk);
    ck_assert_int_eq(esgw_key_unlock(ks, "a", "pw", &sk, NULL),
                     ESG_ERR_BAD_PASSPHRASE);
    ck_assert(is_zero(&sk, sizeof sk));

    /* A pubkey that is no curve point is refused outright. */
    j = load_json(key_path("b"));
    json_object_set_new(j, "pubkey", json_string(
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"));
    save_json(key_path("b"), j);
    json_decref(j);
    esg_pubkey pk;
    ck_assert_int_eq(esgw_key_pubkey(ks, "b", &pk), ESG_ERR_BAD_PUBKEY);
    ck_assert_int_eq(esgw_key_unlock(ks, "b", "pw", &sk, NULL),
                     ESG_ERR_BAD_PUBKEY);
    ck_assert(is_zero(&sk, sizeof sk));
}
END_TEST

START_TEST(group_readable_file_refused) {
    ck_assert_int_eq(esgw_key_create(ks, "alice", "pw", NULL), ESG_OK);
    esg_seckey sk;
    esg_pubkey pk;
    static const mode_t modes[] = {0644, 0640, 0604, 0620, 0602};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        ck_assert_int_eq(chmod(key_path("alice"), modes[i]), 0);
        ck_assert_int_eq(esgw_key_unlock(ks, "alice", "pw", &sk, NULL),
                         ESG_ERR_KEY_PERMISSIONS);
        ck_assert(is_zero(&sk, sizeof sk));
        ck_assert_int_eq(esgw_key_pubkey(ks, "alice", &pk),
                         ESG_ERR_KEY_PERMISSIONS);
    }
    ck_assert_ptr_nonnull(strstr(esgw_keystore_errmsg(ks), "chmod 600"));
    ck_assert_int_eq(chmod(key_path("alice"), 0400), 0);
    ck_assert_int_eq(esgw_key_unlock(ks, "alice", "pw", &sk, NULL), ESG_OK);
    esg_seckey_wipe(&sk);
}
END_TEST

START_TEST(duplicate_name_leaves_original) {
    esg_pubkey pk;
    ck_assert_int_eq(esgw_key_create(ks, "alice", "pw", &pk), ESG_OK);
    char *before = read_file(key_path("alice"));
    ck_assert_int_eq(esgw_key_create(ks, "alice", "other", NULL),
                     ESG_ERR_KEY_EXISTS);
    esg_seckey sk;
    memset(&sk, 0, sizeof sk);
    sk.b[31] = 7;
    ck_assert_int_eq(esgw_key_import(ks, "alice", &sk, "other", NULL),
                     ESG_ERR_KEY_EXISTS);
    char *after = read_file(key_path("alice"));
    ck_assert_str_eq(before, after);
    free(before);
    free(after);
    ck_assert_uint_eq(dir_entries(ksdir), 1);
    ck_assert_int_eq(esgw_key_unlock(ks, "alice", "pw", &sk, NULL), ESG_OK);
    esg_seckey_wipe(&sk);

    /* A dangling symlink holds the name too and is not followed. */
    char target[1024];
    snprintf(target, sizeof target, "%s/elsewhere", tmp);
    ck_assert_int_eq(symlink(target, key_path("link")), 0);
    ck_assert_int_eq(esgw_key_create(ks, "link", "pw", NULL), ESG_ERR_KEY_EXISTS);
    ck_assert_int_eq(access(target, F_OK), -1);
}
END_TEST

START_TEST(bad_names_rejected) {
    char long_name[80];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    const char *bad[] = {"", ".hidden", "..", "a/b", "../x", "a b", "a\nb",
                         "caf\xc3\xa9", "a*", long_name};
    esg_seckey sk;
    memset(&sk, 0, sizeof sk);
    sk.b[31] = 3;
    esg_pubkey pk;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(esgw_key_name_check(bad[i]), ESG_ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(esgw_key_create(ks, bad[i], "pw", NULL),
                         ESG_ERR_INVALID_ARGUMENT);
        ck_assert_ptr_nonnull(strstr(esgw_keystore_errmsg(ks), "key name"));
        ck_assert_int_eq(esgw_key_import(ks, bad[i], &sk, "pw", NULL),
                         ESG_ERR_INVALID_ARGUMENT);
        ck_assert_int_eq(esgw_key_pubkey(ks, bad[i], &pk),
                         ESG_ERR_INVALID_ARGUMENT);
        esg_seckey out;
        ck_assert_int_eq(esgw_key_unlock(ks, bad[i], "pw", &out, NULL),
                         ESG_ERR_INVALID_ARGUMENT);
    }
    ck_assert_uint_eq(dir_entries(ksdir), 0);
    long_name[64] = '\0';
    ck_assert_int_eq(esgw_key_name_check(long_name), ESG_OK);
    ck_assert_int_eq(esgw_key_create(ks, long_name, "pw", NULL), ESG_OK);
    ck_assert_int_eq(esgw_key_create(ks, "a.b", "pw", NULL), ESG_OK);
}
END_TEST

START_TEST(empty_passphrase_refused_on_create) {
    ck_assert_int_eq(esgw_key_create(ks, "alice", "", NULL),
                     ESG_ERR_INVALID_ARGUMENT);
    ck_assert_uint_eq(dir_entries(ksdir), 0);
}
END_TEST

/* BIP340 vectors 0 and 1: importing the secret gives the known pubkey, and
 * unlocking gives the secret back. */
START_TEST(import_known_secret) {
    FILE *f = fopen(tu_data_path("bip340-test-vectors.csv"), "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* header */
    for (int v = 0; v < 2; v++) {
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        char *save, *idx = strtok_r(line, ",", &save);
        char *sec = strtok_r(NULL, ",", &save);
        char *pub = strtok_r(NULL, ",", &save);
        ck_assert(idx && sec && pub);
        esg_seckey sk;
        esg_pubkey want, got, got2;
        ck_assert_int_eq(esg_hex_decode(sk.b, 32, sec), ESG_OK);
        ck_assert_int_eq(esg_hex_decode(want.b, 32, pub), ESG_OK);
        char name[16];
        snprintf(name, sizeof name, "vector-%s", idx);
        ck_assert_int_eq(esgw_key_import(ks, name, &sk, "pw", &got), ESG_OK);
        ck_assert_mem_eq(got.b, want.b, 32);
        ck_assert_int_eq(esgw_key_pubkey(ks, name, &got2), ESG_OK);
        ck_assert_mem_eq(got2.b, want.b, 32);
        esg_seckey back;
        ck_assert_int_eq(esgw_key_unlock(ks, name, "pw", &back, NULL), ESG_OK);
        ck_assert_mem_eq(back.b, sk.b, 32);
        esg_seckey_wipe(&back);
    }
    fclose(f);
    esg_pubkey pk;
    ck_assert_int_eq(esgw_key_pubkey(ks, "vector-0", &pk), ESG_OK);
    ck_assert_str_eq(esg_pubkey_hex(&pk).s,
        "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
}
END_TEST

START_TEST(import_invalid_secret) {
    esg_seckey zero;
    memset(&zero, 0, sizeof zero);
    ck_assert_int_eq(esgw_key_import(ks, "z", &zero, "pw", NULL),
                     ESG_ERR_BAD_SECRET);
    esg_seckey big;
    memset(&big, 0xff, sizeof big); /* above the curve order */
    ck_assert_int_eq(esgw_key_import(ks, "z", &big, "pw", NULL),
                     ESG_ERR_BAD_SECRET);
    ck_assert_uint_eq(dir_entries(ksdir), 0);
}
END_TEST

START_TEST(missing_key) {
    esg_seckey sk;
    esg_pubkey pk;
    ck_assert_int_eq(esgw_key_unlock(ks, "nobody", "pw", &sk, NULL),
                     ESG_ERR_NOT_FOUND);
    ck_assert(is_zero(&sk, sizeof sk));
    ck_assert_int_eq(esgw_key_pubkey(ks, "nobody", &pk), ESG_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(esgw_keystore_errmsg(ks), "nobody"));
}
END_TEST

/* Malformed files are refused with a code, before any key derivation for
 * out-of-bounds KDF parameters. */
START_TEST(malformed_files) {
    esg_pubkey pk;
    ck_assert_int_eq(esgw_key_create(ks, "good", "pw", &pk), ESG_OK);
    char *good = read_file(key_path("good"));
    esg_pubkey out;
    esg_seckey sk;

    write_file(key_path("notjson"), "{\"version\":", 0600);
    ck_assert_int_eq(esgw_key_pubkey(ks, "notjson", &out), ESG_ERR_JSON);
    write_file(key_path("array"), "[1,2]", 0600);
    ck_assert_int_eq(esgw_key_pubkey(ks, "array", &out), ESG_ERR_JSON);

    struct { const char *obj, *key; json_t *val; int want; } cases[] = {
        {NULL, "version", json_integer(3), ESG_ERR_JSON},
        {NULL, "version", json_integer(0), ESG_ERR_JSON},
        {NULL, "version", json_string("1"), ESG_ERR_JSON},
        {NULL, "pubkey", json_string("abcd"), ESG_ERR_JSON},
        {NULL, "kdf", json_string("x"), ESG_ERR_JSON},
        {"kdf", "alg", json_string("scrypt"), ESG_ERR_JSON},
        {"cipher", "alg", json_string("aes256gcm"), ESG_ERR_JSON},
        {"kdf", "salt", json_string("zz"), ESG_ERR_JSON},
        {"kdf", "opslimit", json_integer(0), ESG_ERR_JSON},
        {"kdf", "memlimit", json_integer(1024), ESG_ERR_JSON},
        {"kdf", "memlimit", json_string("8192"), ESG_ERR_JSON},
        {"kdf", "opslimit", json_integer(17), ESG_ERR_TOO_LARGE},
        {"kdf", "memlimit", json_integer((json_int_t)2 << 30), ESG_ERR_TOO_LARGE},
        {"cipher", "ciphertext",
         json_string("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
         ESG_ERR_JSON},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t e;
        json_t *j = json_loads(good, 0, &e);
        ck_assert_ptr_nonnull(j);
        json_t *o = cases[i].obj ? json_object_get(j, cases[i].obj) : j;
        json_object_set_new(o, cases[i].key, cases[i].val);
        char name[16];
        snprintf(name, sizeof name, "bad%zu", i);
        save_json(key_path(name), j);
        json_decref(j);
        memset(&sk, 0xAA, sizeof sk);
        ck_assert_msg(esgw_key_unlock(ks, name, "pw", &sk, NULL) == cases[i].want,
                      "case %zu: %s", i, esgw_keystore_errmsg(ks));
        ck_assert(is_zero(&sk, sizeof sk));
    }
    free(good);

    /* Over 64 KiB. */
    char *huge = malloc(70000);
    ck_assert_ptr_nonnull(huge);
    memset(huge, ' ', 69999);
    huge[69999] = '\0';
    write_file(key_path("huge"), huge, 0600);
    free(huge);
    ck_assert_int_eq(esgw_key_pubkey(ks, "huge", &out), ESG_ERR_TOO_LARGE);

    /* A directory in place of a file. */
    ck_assert_int_eq(mkdir(key_path("dir"), 0700), 0);
    ck_assert_int_eq(esgw_key_pubkey(ks, "dir", &out), ESG_ERR_IO);
}
END_TEST

/* Version 2 binds every field but the ciphertext: editing the name, a KDF
 * parameter, the salt, the nonce, the pubkey or the version (a downgrade
 * to 1, which would drop the binding) is refused with ERR_BAD_PASSPHRASE
 * and yields no secret, while the same passphrase opens the unedited
 * file. */
START_TEST(edited_header_refused) {
    esg_pubkey other;
    ck_assert_int_eq(esgw_key_create(ks, "other", "pw", &other), ESG_OK);
    static const struct { const char *obj, *key; } cases[] = {
        {NULL, "name"},       {"kdf", "opslimit"}, {"kdf", "memlimit"},
        {"kdf", "salt"},      {"cipher", "nonce"}, {NULL, "pubkey"},
        {NULL, "version"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "k%zu", i);
        esg_pubkey pk;
        ck_assert_int_eq(esgw_key_create(ks, name, "pw", &pk), ESG_OK);
        esg_seckey sk;
        ck_assert_int_eq(esgw_key_unlock(ks, name, "pw", &sk, NULL), ESG_OK);
        esg_seckey_wipe(&sk);

        json_t *j = load_json(key_path(name));
        json_t *o = cases[i].obj ? json_object_get(j, cases[i].obj) : j;
        const char *k = cases[i].key;
        if (!strcmp(k, "name"))
            json_object_set_new(o, k, json_string("mallory"));
        else if (!strcmp(k, "opslimit"))   /* 1 -> 2: still within bounds */
            json_object_set_new(o, k, json_integer(2));
        else if (!strcmp(k, "memlimit"))   /* 8 KiB -> 16 KiB */
            json_object_set_new(o, k, json_integer(16384));
        else if (!strcmp(k, "pubkey"))
            json_object_set_new(o, k, json_string(esg_pubkey_hex(&other).s));
        else if (!strcmp(k, "version"))
            json_object_set_new(o, k, json_integer(1));
        else
            flip_hex(o, k, 3);
        save_json(key_path(name), j);
        json_decref(j);

        memset(&sk, 0xAA, sizeof sk);
        int rc = esgw_key_unlock(ks, name, "pw", &sk, NULL);
        ck_assert_msg(rc == ESG_ERR_BAD_PASSPHRASE, "edited %s: %s (%s)", k,
                      esg_err_name(rc), esgw_keystore_errmsg(ks));
        ck_assert_str_eq(esg_err_name(rc), "ERR_BAD_PASSPHRASE");
        ck_assert_ptr_nonnull(strstr(esgw_keystore_errmsg(ks), "altered"));
        ck_assert(is_zero(&sk, sizeof sk));
    }
}
END_TEST

/* A version 2 file holds exactly the documented members (an unknown one
 * would not be authenticated), and its name must be a key name. */
START_TEST(v2_members_exact) {
    ck_assert_int_eq(esgw_key_create(ks, "good", "pw", NULL), ESG_OK);
    char *good = read_file(key_path("good"));
    static const struct { const char *obj, *key; bool add; } cases[] = {
        {NULL, "comment", true}, {"kdf", "pepper", true},
        {"cipher", "tag", true}, {NULL, "name", false},
        {"kdf", "salt", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t e;
        json_t *j = json_loads(good, 0, &e);
        ck_assert_ptr_nonnull(j);
        json_t *o = cases[i].obj ? json_object_get(j, cases[i].obj) : j;
        if (cases[i].add)
            json_object_set_new(o, cases[i].key, json_string("x"));
        else
            json_object_del(o, cases[i].key);
        char name[16];
        snprintf(name, sizeof name, "m%zu", i);
        save_json(key_path(name), j);
        json_decref(j);
        esg_seckey sk;
        ck_assert_msg(esgw_key_unlock(ks, name, "pw", &sk, NULL) == ESG_ERR_JSON,
                      "case %zu: %s", i, esgw_keystore_errmsg(ks));
    }
    const char *bad_names[] = {"", ".x", "a/b"};
    for (size_t i = 0; i < 3; i++) {
        json_error_t e;
        json_t *j = json_loads(good, 0, &e);
        json_object_set_new(j, "name", json_string(bad_names[i]));
        save_json(key_path("badname"), j);
        json_decref(j);
        esg_pubkey pk;
        ck_assert_int_eq(esgw_key_pubkey(ks, "badname", &pk), ESG_ERR_JSON);
    }
    free(good);
}
END_TEST

/* The file name is what a key is looked up by: a renamed version 2 file
 * still unlocks, its "name" field recording the original name. */
START_TEST(renamed_file_unlocks) {
    esg_pubkey pk, got;
    ck_assert_int_eq(esgw_key_create(ks, "before", "pw", &pk), ESG_OK);
    char from[1024];
    snprintf(from, sizeof from, "%s", key_path("before"));
    ck_assert_int_eq(rename(from, key_path("after")), 0);
    esg_seckey sk;
    ck_assert_int_eq(esgw_key_unlock(ks, "after", "pw", &sk, &got), ESG_OK);
    ck_assert_mem_eq(got.b, pk.b, 32);
    esg_seckey_wipe(&sk);
}
END_TEST

/* A version 1 file, as the esgwallet before version 2 wrote it
 * (tests/data/keystore-v1, ESGWALLET_KDF=fast, passphrase "v1 passphrase"),
 * still opens. Its name is not authenticated (an edit goes unnoticed, as
 * keystore.h says), but its salt and KDF parameters still derive the key. */
START_TEST(version1_file_opens) {
    char src[1024];
    snprintf(src, sizeof src, "%s", tu_data_path("keystore-v1/v1-key.json"));
    char *text = read_file(src);
    write_file(key_path("v1-key"), text, 0600);
    static const char want_pk[] =
        "b458c67d39f901716ce69859705b2e7f2760ae93219ecd4d73e5803b4f3b160a";

    esg_pubkey pk, derived;
    esg_seckey sk;
    ck_assert_int_eq(esgw_key_pubkey(ks, "v1-key", &pk), ESG_OK);
    ck_assert_str_eq(esg_pubkey_hex(&pk).s, want_pk);
    ck_assert_int_eq(esgw_key_unlock(ks, "v1-key", "v1 passphrase", &sk, &pk),
                     ESG_OK);
    ck_assert_int_eq(esg_key_pubkey(&derived, &sk), ESG_OK);
    ck_assert_str_eq(esg_pubkey_hex(&derived).s, want_pk);
    esg_seckey_wipe(&sk);
    ck_assert_int_eq(esgw_key_unlock(ks, "v1-key", "wrong", &sk, NULL),
                     ESG_ERR_BAD_PASSPHRASE);

    /* The file is read, never rewritten. */
    char *after = read_file(key_path("v1-key"));
    ck_assert_str_eq(after, text);
    free(after);

    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    ck_assert_ptr_nonnull(j);
    json_object_set_new(j, "name", json_string("renamed"));
    save_json(key_path("v1-name"), j);
    ck_assert_int_eq(esgw_key_unlock(ks, "v1-name", "v1 passphrase", &sk, NULL),
                     ESG_OK);
    esg_seckey_wipe(&sk);
    json_object_set_new(json_object_get(j, "kdf"), "opslimit", json_integer(2));
    save_json(key_path("v1-ops"), j);
    ck_assert_int_eq(esgw_key_unlock(ks, "v1-ops", "v1 passphrase", &sk, NULL),
                     ESG_ERR_BAD_PASSPHRASE);
    json_decref(j);
    free(text);
}
END_TEST

/* ------------------------------------------------------------ opening */

START_TEST(open_default_dir_under_home) {
    char home[512];
    snprintf(home, sizeof home, "%s/home", tmp);
    ck_assert_int_eq(mkdir(home, 0755), 0);
    setenv("HOME", home, 1);
    esgw_keystore *k2;
    ck_assert_int_eq(esgw_keystore_open(&k2, NULL), ESG_OK);
    char want[600];
    snprintf(want, sizeof want, "%s/.esgwallet/keys", home);
    ck_assert_str_eq(esgw_keystore_dir(k2), want);
    struct stat st;
    ck_assert_int_eq(stat(want, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    snprintf(want, sizeof want, "%s/.esgwallet", home);
    ck_assert_int_eq(stat(want, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0700);
    ck_assert_str_eq(esgw_keystore_errmsg(k2), "");
    esgw_keystore_close(k2);
    /* Opening again uses the existing directory. */
    ck_assert_int_eq(esgw_keystore_open(&k2, NULL), ESG_OK);
    esgw_keystore_close(k2);

    unsetenv("HOME");
    k2 = (esgw_keystore *)1;
    ck_assert_int_eq(esgw_keystore_open(&k2, NULL), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(k2);
}
END_TEST

START_TEST(open_on_a_file_fails) {
    char p[600];
    snprintf(p, sizeof p, "%s/plain", tmp);
    write_file(p, "x", 0600);
    esgw_keystore *k2;
    ck_assert_int_eq(esgw_keystore_open(&k2, p), ESG_ERR_IO);
    ck_assert_ptr_null(k2);
    /* A trailing slash names the same directory. */
    snprintf(p, sizeof p, "%s/", ksdir);
    ck_assert_int_eq(esgw_keystore_open(&k2, p), ESG_OK);
    ck_assert_str_eq(esgw_keystore_dir(k2), ksdir);
    esgw_keystore_close(k2);
}
END_TEST

/* ---------------------------------------------------------- passphrases */

START_TEST(passphrase_from_file) {
    char p[600], buf[64];
    snprintf(p, sizeof p, "%s/pw", tmp);
    setenv("ESGWALLET_PASSPHRASE", "from-env", 1); /* the file wins */

    write_file(p, "hunter2\nsecond line\n", 0600);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, p, NULL, false), ESG_OK);
    ck_assert_str_eq(buf, "hunter2");
    write_file(p, "crlf pass\r\n", 0600);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, p, NULL, true), ESG_OK);
    ck_assert_str_eq(buf, "crlf pass");
    write_file(p, "no newline", 0600);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, p, NULL, false), ESG_OK);
    ck_assert_str_eq(buf, "no newline");

    write_file(p, "", 0600);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, p, NULL, false),
                     ESG_ERR_INVALID_ARGUMENT);
    write_file(p, "\nsecond", 0600);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, p, NULL, false),
                     ESG_ERR_INVALID_ARGUMENT);
    ck_assert(is_zero(buf, sizeof buf));
    /* A NUL byte would cut the passphrase short (found by fuzz_keyfile). */
    static const char *const nul_lines[] = {"\0\0\0\0", "ab\0cd"};
    for (size_t i = 0; i < 2; i++) {
        FILE *f = fopen(p, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(nul_lines[i], 1, i ? 5 : 4, f), i ? 5 : 4);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, p, NULL, false),
                         ESG_ERR_INVALID_ARGUMENT);
        ck_assert(is_zero(buf, sizeof buf));
    }

    write_file(p, "0123456789\n", 0600);
    char small[8];
    ck_assert_int_eq(esgw_passphrase_get(small, sizeof small, p, NULL, false),
                     ESG_ERR_TOO_LARGE);
    ck_assert(is_zero(small, sizeof small));
    char big[ESGW_PASSPHRASE_MAX + 100];
    char *lng = malloc(ESGW_PASSPHRASE_MAX + 2);
    ck_assert_ptr_nonnull(lng);
    memset(lng, 'x', ESGW_PASSPHRASE_MAX + 1);
    lng[ESGW_PASSPHRASE_MAX + 1] = '\0';
    write_file(p, lng, 0600);
    ck_assert_int_eq(esgw_passphrase_get(big, sizeof big, p, NULL, false),
                     ESG_ERR_TOO_LARGE);
    lng[ESGW_PASSPHRASE_MAX] = '\0';
    write_file(p, lng, 0600);
    ck_assert_int_eq(esgw_passphrase_get(big, sizeof big, p, NULL, false), ESG_OK);
    ck_assert_uint_eq(strlen(big), ESGW_PASSPHRASE_MAX);
    free(lng);

    snprintf(p, sizeof p, "%s/missing", tmp);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, p, NULL, false),
                     ESG_ERR_NOT_FOUND);
}
END_TEST

START_TEST(passphrase_from_env) {
    char buf[64];
    setenv("ESGWALLET_PASSPHRASE", "env pass", 1);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, NULL, NULL, true), ESG_OK);
    ck_assert_str_eq(buf, "env pass");
    setenv("ESGWALLET_PASSPHRASE", "", 1);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, NULL, NULL, false),
                     ESG_ERR_INVALID_ARGUMENT);
    setenv("ESGWALLET_PASSPHRASE", "0123456789", 1);
    char small[8];
    ck_assert_int_eq(esgw_passphrase_get(small, sizeof small, NULL, NULL, false),
                     ESG_ERR_TOO_LARGE);

    /* The whole round trip: a key created and unlocked with it. */
    setenv("ESGWALLET_PASSPHRASE", "env pass", 1);
    ck_assert_int_eq(esgw_passphrase_get(buf, sizeof buf, NULL, NULL, false), ESG_OK);
    ck_assert_int_eq(esgw_key_create(ks, "e", buf, NULL), ESG_OK);
    esg_seckey sk;
    ck_assert_int_eq(esgw_key_unlock(ks, "e", "env pass", &sk, NULL), ESG_OK);
    esg_seckey_wipe(&sk);
}
END_TEST

/* What a child process that ran esgw_passphrase_get reports. */
typedef struct pp_report {
    int rc;
    int echo_on_after; /* the terminal's ECHO flag after the call */
    char buf[64];
} pp_report;

/* In a fresh session (no controlling terminal, unless `pty_name` is given
 * and becomes it), runs esgw_passphrase_get with no file and no env, and
 * writes a pp_report to `out_fd`. Never returns. */
static void pp_child(const char *pty_name, bool confirm, int out_fd) {
    pp_report r;
    memset(&r, 0, sizeof r);
    unsetenv("ESGWALLET_PASSPHRASE");
    /* As in a freshly started CLI: the check runner's own handlers (which
     * kill the runner's process group) must not be inherited. */
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP,
                               SIGTTIN, SIGTTOU};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    if (setsid() < 0)
        _exit(10);
    int tty = -1;
    if (pty_name) {
        tty = open(pty_name, O_RDWR);
        if (tty < 0 || ioctl(tty, TIOCSCTTY, 0) != 0)
            _exit(11);
    }
    r.rc = esgw_passphrase_get(r.buf, sizeof r.buf, NULL, "pw: ", confirm);
    struct termios t;
    if (tty >= 0 && tcgetattr(tty, &t) == 0)
        r.echo_on_after = (t.c_lflag & ECHO) != 0;
    if (write(out_fd, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(12);
    _exit(0);
}

START_TEST(passphrase_without_terminal) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        pp_child(NULL, false, fds[1]);
    }
    close(fds[1]);
    pp_report r;
    ck_assert_int_eq(read(fds[0], &r, sizeof r), sizeof r);
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_int_eq(r.rc, ESG_ERR_INVALID_ARGUMENT);
    ck_assert(is_zero(r.buf, sizeof r.buf));
}
END_TEST

/* Appends what the terminal shows to `seen` until the text from offset
 * `from` on contains `want`; false if the terminal closes first. */
static bool pty_expect(int master, char *seen, size_t cap, size_t *len,
                       size_t from, const char *want) {
    for (;;) {
        if (*len > from && strstr(seen + from, want))
            return true;
        if (*len + 1 >= cap)
            return false;
        ssize_t r = read(master, seen + *len, cap - 1 - *len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        *len += (size_t)r;
        seen[*len] = '\0';
    }
}

typedef struct pty_run {
    pp_report report;
    int status;
    char seen[4096];
    size_t seen_len;
    int echo_on_end; /* ECHO flag of the terminal, read after the child ended */
} pty_run;

/* Runs pp_child on a fresh pseudo-terminal, typing `line1` (raw bytes:
 * "\x03" is ^C) after the first prompt and `line2` (if not NULL) after
 * "repeat passphrase: ". */
static void pty_session(pty_run *run, bool confirm, const char *line1,
                        const char *line2) {
    memset(run, 0, sizeof *run);
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(master, 0);
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    char name[128];
    ck_assert_int_eq(ptsname_r(master, name, sizeof name), 0);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        close(master);
        pp_child(name, confirm, fds[1]);
    }
    close(fds[1]);
    /* Typing only once the prompt shows, which is after echo is off. */
    size_t mark = 0;
    ck_assert(pty_expect(master, run->seen, sizeof run->seen, &run->seen_len,
                         mark, "pw: "));
    ck_assert_int_eq(write(master, line1, strlen(line1)), (ssize_t)strlen(line1));
    if (line2) {
        mark = run->seen_len;
        ck_assert(pty_expect(master, run->seen, sizeof run->seen,
                             &run->seen_len, mark, "repeat passphrase: "));
        ck_assert_int_eq(write(master, line2, strlen(line2)),
                         (ssize_t)strlen(line2));
    }
    ssize_t got = read(fds[0], &run->report, sizeof run->report);
    ck_assert(got == 0 || got == (ssize_t)sizeof run->report);
    if (got == 0)
        run->report.rc = 1; /* the child died without reporting */
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &run->status, 0), pid);
    /* The rest of the output; the terminal reports EIO once the child's end
     * is closed. */
    pty_expect(master, run->seen, sizeof run->seen, &run->seen_len,
               run->seen_len, "\x01never");
    struct termios t;
    ck_assert_int_eq(tcgetattr(master, &t), 0);
    run->echo_on_end = (t.c_lflag & ECHO) != 0;
    close(master);
}

START_TEST(passphrase_prompt_without_echo) {
    pty_run run;
    pty_session(&run, true, "s3cret pass\n", "s3cret pass\n");
    ck_assert(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0);
    ck_assert_int_eq(run.report.rc, ESG_OK);
    ck_assert_str_eq(run.report.buf, "s3cret pass");
    ck_assert_int_eq(run.report.echo_on_after, 1);
    ck_assert_ptr_null(strstr(run.seen, "s3cret"));

    pty_session(&run, false, "once\n", NULL);
    ck_assert_int_eq(run.report.rc, ESG_OK);
    ck_assert_str_eq(run.report.buf, "once");
    ck_assert_ptr_null(strstr(run.seen, "repeat"));
    ck_assert_ptr_null(strstr(run.seen, "once"));
}
END_TEST

START_TEST(passphrase_prompt_errors) {
    pty_run run;
    pty_session(&run, true, "first\n", "second\n");
    ck_assert_int_eq(run.report.rc, ESG_ERR_INVALID_ARGUMENT);
    ck_assert(is_zero(run.report.buf, sizeof run.report.buf));
    ck_assert_int_eq(run.report.echo_on_after, 1);

    pty_session(&run, false, "\n", NULL);
    ck_assert_int_eq(run.report.rc, ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(run.report.echo_on_after, 1);
}
END_TEST

/* ^C at the prompt kills the process as usual, but echo is back on. */
START_TEST(passphrase_prompt_interrupted) {
    pty_run run;
    pty_session(&run, false, "\x03", NULL);
    ck_assert(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGINT);
    ck_assert_int_eq(run.echo_on_end, 1);
}
END_TEST

Suite *suite_keystore(void) {
    Suite *s = suite_create("keystore");
    TCase *tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, create_list_pubkey_unlock);
    tcase_add_test(tc, list_ignores_other_files);
    tcase_add_test(tc, file_format_and_modes);
    tcase_add_test(tc, default_kdf_is_interactive);
    tcase_add_test(tc, wrong_passphrase);
    tcase_add_test(tc, tampered_fields_fail);
    tcase_add_test(tc, swapped_pubkey_fails);
    tcase_add_test(tc, edited_header_refused);
    tcase_add_test(tc, v2_members_exact);
    tcase_add_test(tc, renamed_file_unlocks);
    tcase_add_test(tc, version1_file_opens);
    tcase_add_test(tc, group_readable_file_refused);
    tcase_add_test(tc, duplicate_name_leaves_original);
    tcase_add_test(tc, bad_names_rejected);
    tcase_add_test(tc, empty_passphrase_refused_on_create);
    tcase_add_test(tc, import_known_secret);
    tcase_add_test(tc, import_invalid_secret);
    tcase_add_test(tc, missing_key);
    tcase_add_test(tc, malformed_files);
    tcase_add_test(tc, open_default_dir_under_home);
    tcase_add_test(tc, open_on_a_file_fails);
    suite_add_tcase(s, tc);

    TCase *pp = tcase_create("passphrase");
    tcase_add_checked_fixture(pp, setup, teardown);
    tcase_add_test(pp, passphrase_from_file);
    tcase_add_test(pp, passphrase_from_env);
    tcase_add_test(pp, passphrase_without_terminal);
    tcase_add_test(pp, passphrase_prompt_without_echo);
    tcase_add_test(pp, passphrase_prompt_errors);
    tcase_add_test(pp, passphrase_prompt_interrupted);
    suite_add_tcase(s, pp);
    return s;
}
