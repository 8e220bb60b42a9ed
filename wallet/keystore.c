/* The wallet keystore: see keystore.h for the file format and contracts. */
#include "wallet/keystore.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "ledger/error.h"

#define KS_FILE_MAX (64 * 1024)
#define KS_OPSLIMIT_MAX 16ULL
#define KS_MEMLIMIT_MAX (1ULL << 30)
#define KS_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define KS_SALT_BYTES crypto_pwhash_argon2id_SALTBYTES
#define KS_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KS_CT_BYTES (sizeof(esg_seckey) + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define KS_KDF_ALG "argon2id13"
#define KS_CIPHER_ALG "xchacha20poly1305-ietf"
/* The version new files are written with; 1 is still read. */
#define KS_VERSION 2
#define KS_AD_TAG "esgwallet-keyfile"
/* Tag, version, name, pubkey, both algorithms, both limits, salt, nonce. */
#define KS_AD_MAX (sizeof KS_AD_TAG + 4 + 2 + ESGW_KEY_NAME_MAX + 32 + \
                   2 + sizeof KS_KDF_ALG + 8 + 8 + KS_SALT_BYTES + 2 + \
                   sizeof KS_CIPHER_ALG + KS_NONCE_BYTES)

struct esgw_keystore {
    char *dir;
    char err[512];
};

/* Records a description of the failure in `ks` and returns `err`, so a
 * failing path reads `return ks_fail(ks, ESG_ERR_..., "...", ...)`. */
__attribute__((format(printf, 3, 4)))
static int ks_fail(esgw_keystore *ks, int err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ks->err, sizeof ks->err, fmt, ap);
    va_end(ap);
    return err;
}

/* ------------------------------------------------------------- names, paths */

int esgw_key_name_check(const char *name) {
    assert(name);
    size_t n = strlen(name);
    if (n == 0 || n > ESGW_KEY_NAME_MAX || name[0] == '.')
        return ESG_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok)
            return ESG_ERR_INVALID_ARGUMENT;
    }
    return ESG_OK;
}

static int ks_check_name(esgw_keystore *ks, const char *name) {
    if (esgw_key_name_check(name) == ESG_OK)
        return ESG_OK;
    /* The name may hold anything, control characters included: show a
     * bounded, printable rendering of it. */
    char shown[ESGW_KEY_NAME_MAX + 4];
    size_t i = 0;
    for (; i < ESGW_KEY_NAME_MAX && name[i]; i++)
        shown[i] = (name[i] >= 0x20 && name[i] < 0x7f) ? name[i] : '?';
    shown[i] = '\0';
    if (name[i])
        strcat(shown, "...");
    return ks_fail(ks, ESG_ERR_INVALID_ARGUMENT,
                   "key name '%s' must match [A-Za-z0-9_.-]{1,%d} without a "
                   "leading dot", shown, ESGW_KEY_NAME_MAX);
}

/* Writes DIR/NAME.json into `out` (PATH_MAX bytes). */
static int ks_key_path(esgw_keystore *ks, char *out, const char *name) {
    int n = snprintf(out, PATH_MAX, "%s/%s.json", ks->dir, name);
    if (n < 0 || n >= PATH_MAX)
        return ks_fail(ks, ESG_ERR_INVALID_ARGUMENT, "keystore path is too long");
    return ESG_OK;
}

/* ---------------------------------------------------------- open and close */

/* mkdir -p with mode 0700 for every directory it creates. */
static int mkdir_p(char *path) {
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        int rc = mkdir(path, 0700);
        *s = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int esgw_keystore_open(esgw_keystore **ks_out, const char *dir) {
    assert(ks_out);
    *ks_out = NULL;
    char path[PATH_MAX];
    int n;
    if (dir) {
        n = snprintf(path, sizeof path, "%s", dir);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return ESG_ERR_INVALID_ARGUMENT;
        n = snprintf(path, sizeof path, "%s/.esgwallet/keys", home);
    }
    /* Room is kept for "/" NAME ".json" below the directory. */
    if (n <= 0 || (size_t)n + ESGW_KEY_NAME_MAX + 32 >= sizeof path)
        return ESG_ERR_INVALID_ARGUMENT;
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
    if (mkdir_p(path) != 0)
        return ESG_ERR_IO;
    esgw_keystore *ks = calloc(1, sizeof *ks);
    if (!ks)
        return ESG_ERR_NOMEM;
    ks->dir = strdup(path);
    if (!ks->dir) {
        free(ks);
        return ESG_ERR_NOMEM;
    }
    *ks_out = ks;
    return ESG_OK;
}

void esgw_keystore_close(esgw_keystore *ks) {
    if (!ks)
        return;
    free(ks->dir);
    free(ks);
}

const char *esgw_keystore_dir(const esgw_keystore *ks) {
    assert(ks);
    return ks->dir;
}

const char *esgw_keystore_errmsg(const esgw_keystore *ks) {
    assert(ks);
    return ks->err;
}

/* ---------------------------------------------------------------- reading */

/* The decoded contents of a key file. Nothing in it is secret. `name` is
 * the file's "name" field (empty in a version 1 file that lacks it). */
typedef struct key_file {
    int version;
    char name[ESGW_KEY_NAME_MAX + 1];
    esg_pubkey pk;
    unsigned long long opslimit;
    size_t memlimit;
    uint8_t salt[KS_SALT_BYTES];
    uint8_t nonce[KS_NONCE_BYTES];
    uint8_t ct[KS_CT_BYTES];
} key_file;

static const char *obj_str(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Decodes the hex string member `key` of `obj` into exactly `len` bytes. */
static int obj_hex(esgw_keystore *ks, const char *path, json_t *obj,
                   const char *where, const char *key, void *out, size_t len) {
    const char *s = obj_str(obj, key);
    if (!s || esg_hex_decode(out, len, s) != ESG_OK)
        return ks_fail(ks, ESG_ERR_JSON,
                       "key file '%s': '%s%s' must be %zu hex digits", path,
                       where, key, 2 * len);
    return ESG_OK;
}

static uint8_t *ad_put(uint8_t *p, const void *b, size_t n) {
    memcpy(p, b, n);
    return p + n;
}

static uint8_t *ad_put_be(uint8_t *p, uint64_t v, size_t width) {
    for (size_t i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    return p + width;
}

static uint8_t *ad_put_str(uint8_t *p, const char *s) {
    size_t n = strlen(s);
    p = ad_put_be(p, n, 2);
    return ad_put(p, s, n);
}

/* Writes the AEAD's additional data for `kf` into `ad` (KS_AD_MAX bytes)
 * and returns its length: for version 1 the 32 pubkey bytes, for version 2
 * the canonical serialization of every field but the ciphertext, as
 * keystore.h lays it out. The algorithms are the only ones a file may
 * name, so they are serialized from the constants. */
static size_t key_file_ad(uint8_t *ad, const key_file *kf) {
    assert(kf->version == 1 || kf->version == 2);
    if (kf->version == 1) {
        memcpy(ad, kf->pk.b, sizeof kf->pk.b);
        return sizeof kf->pk.b;
    }
    assert(strlen(kf->name) <= ESGW_KEY_NAME_MAX);
    uint8_t *p = ad_put(ad, KS_AD_TAG, sizeof KS_AD_TAG); /* with its NUL */
    p = ad_put_be(p, (uint64_t)kf->version, 4);
    p = ad_put_str(p, kf->name);
    p = ad_put(p, kf->pk.b, sizeof kf->pk.b);
    p = ad_put_str(p, KS_KDF_ALG);
    p = ad_put_be(p, kf->opslimit, 8);
    p = ad_put_be(p, kf->memlimit, 8);
    p = ad_put(p, kf->salt, sizeof kf->salt);
    p = ad_put_str(p, KS_CIPHER_ALG);
    p = ad_put(p, kf->nonce, sizeof kf->nonce);
    assert((size_t)(p - ad) <= KS_AD_MAX);
    return (size_t)(p - ad);
}

/* Reads the whole regular file open at `fd` (at most KS_FILE_MAX bytes)
 * into a new NUL-terminated buffer. */
static int read_small_file(esgw_keystore *ks, const char *path, int fd,
                           char **out, size_t *outlen) {
    char *buf = malloc(KS_FILE_MAX + 1);
    if (!buf)
        return ESG_ERR_NOMEM;
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, KS_FILE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return ks_fail(ks, ESG_ERR_IO, "cannot read key file '%s': %s",
                           path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > KS_FILE_MAX) {
            free(buf);
            return ks_fail(ks, ESG_ERR_TOO_LARGE,
                           "key file '%s' is over %d bytes", path, KS_FILE_MAX);
        }
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return ESG_OK;
}

/* Opens, checks and decodes the key file of `name`. */
static int key_file_read(esgw_keystore *ks, const char *name, key_file *kf) {
    int rc = ks_check_name(ks, name);
    if (rc)
        return rc;
    char path[PATH_MAX];
    if ((rc = ks_key_path(ks, path, name)))
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return ks_fail(ks, ESG_ERR_NOT_FOUND, "no key named '%s' in '%s'",
                           name, ks->dir);
        return ks_fail(ks, ESG_ERR_IO, "cannot open key file '%s': %s", path,
                       strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ks_fail(ks, ESG_ERR_IO, "key file '%s' is not a regular file",
                       path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return ks_fail(ks, ESG_ERR_KEY_PERMISSIONS,
                       "key file '%s' has mode %04o: group or others can "
                       "access it; run chmod 600 on it",
                       path, (unsigned)(st.st_mode & 07777));
    }
    char *text = NULL;
    size_t len = 0;
    rc = read_small_file(ks, path, fd, &text, &len);
    close(fd);
    if (rc)
        return rc;

    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root)
        return ks_fail(ks, ESG_ERR_JSON, "key file '%s' is not valid JSON: "
                       "line %d: %s", path, jerr.line, jerr.text);
    rc = ESG_ERR_JSON;
    json_t *ver = json_object_get(root, "version");
    json_t *kdf = json_object_get(root, "kdf");
    json_t *cipher = json_object_get(root, "cipher");
    if (!json_is_object(root)) {
        ks_fail(ks, rc, "key file '%s' is not a JSON object", path);
        goto out;
    }
    if (!json_is_integer(ver) ||
        (json_integer_value(ver) != 1 && json_integer_value(ver) != 2)) {
        ks_fail(ks, rc, "key file '%s': 'version' must be 1 or 2", path);
        goto out;
    }
    kf->version = (int)json_integer_value(ver);
    if (!json_is_object(kdf) || !json_is_object(cipher)) {
        ks_fail(ks, rc, "key file '%s': 'kdf' and 'cipher' must be objects",
                path);
        goto out;
    }
    kf->name[0] = '\0';
    if (kf->version >= 2) {
        /* Every member of a version 2 file is authenticated: one the
         * serialization does not cover has no place in it. */
        if (json_object_size(root) != 5 || json_object_size(kdf) != 4 ||
            json_object_size(cipher) != 3) {
            ks_fail(ks, rc, "key file '%s': unknown or missing members", path);
            goto out;
        }
        const char *fname = obj_str(root, "name");
        if (!fname || esgw_key_name_check(fname) != ESG_OK) {
            ks_fail(ks, rc, "key file '%s': 'name' must be a key name", path);
            goto out;
        }
        memcpy(kf->name, fname, strlen(fname) + 1);
    }
    const char *kalg = obj_str(kdf, "alg"), *calg = obj_str(cipher, "alg");
    if (!kalg || strcmp(kalg, KS_KDF_ALG) != 0 || !calg ||
        strcmp(calg, KS_CIPHER_ALG) != 0) {
        ks_fail(ks, rc, "key file '%s': algorithms must be '" KS_KDF_ALG
                "' and '" KS_CIPHER_ALG "'", path);
        goto out;
    }
    json_t *ops = json_object_get(kdf, "opslimit");
    json_t *mem = json_object_get(kdf, "memlimit");
    if (!json_is_integer(ops) || !json_is_integer(mem) ||
        json_integer_value(ops) < (json_int_t)crypto_pwhash_argon2id_OPSLIMIT_MIN ||
        json_integer_value(mem) < (json_int_t)crypto_pwhash_argon2id_MEMLIMIT_MIN) {
        ks_fail(ks, rc, "key file '%s': 'kdf.opslimit' must be an integer "
                ">= %u and 'kdf.memlimit' one >= %u", path,
                (unsigned)crypto_pwhash_argon2id_OPSLIMIT_MIN,
                (unsigned)crypto_pwhash_argon2id_MEMLIMIT_MIN);
        goto out;
    }
    /* Bounded before any work, so a hostile file cannot make an unlock
     * spend minutes or gigabytes. */
    if ((unsigned long long)json_integer_value(ops) > KS_OPSLIMIT_MAX ||
        (unsigned long long)json_integer_value(mem) > KS_MEMLIMIT_MAX) {
        rc = ks_fail(ks, ESG_ERR_TOO_LARGE,
                     "key file '%s': kdf parameters exceed opslimit %llu or "
                     "memlimit %llu", path, KS_OPSLIMIT_MAX, KS_MEMLIMIT_MAX);
        goto out;
    }
    kf->opslimit = (unsigned long long)json_integer_value(ops);
    kf->memlimit = (size_t)json_integer_value(mem);
    if (obj_hex(ks, path, root, "", "pubkey", kf->pk.b, sizeof kf->pk.b) ||
        obj_hex(ks, path, kdf, "kdf.", "salt", kf->salt, sizeof kf->salt) ||
        obj_hex(ks, path, cipher, "cipher.", "nonce", kf->nonce,
                sizeof kf->nonce) ||
        obj_hex(ks, path, cipher, "cipher.", "ciphertext", kf->ct,
                sizeof kf->ct))
        goto out;
    if (esg_pubkey_check(&kf->pk) != ESG_OK) {
        rc = ks_fail(ks, ESG_ERR_BAD_PUBKEY,
                     "key file '%s': 'pubkey' is not a valid public key", path);
        goto out;
    }
    rc = ESG_OK;
out:
    json_decref(root);
    return rc;
}

int esgw_key_pubkey(esgw_keystore *ks, const char *name, esg_pubkey *pk_out) {
    assert(ks && name && pk_out);
    key_file kf;
    int rc = key_file_read(ks, name, &kf);
    if (rc == ESG_OK)
        *pk_out = kf.pk;
    return rc;
}

int esgw_key_unlock(esgw_keystore *ks, const char *name, const char *passphrase,
                    esg_seckey *sk_out, esg_pubkey *pk_out) {
    assert(ks && name && passphrase && sk_out);
    sodium_memzero(sk_out, sizeof *sk_out);
    if (sodium_init() < 0)
        return ks_fail(ks, ESG_ERR_INTERNAL, "libsodium failed to initialize");
    key_file kf;
    int rc = key_file_read(ks, name, &kf);
    if (rc)
        return rc;
    uint8_t key[KS_KEY_BYTES];
    if (crypto_pwhash(key, sizeof key, passphrase, strlen(passphrase), kf.salt,
                      kf.opslimit, kf.memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(key, sizeof key);
        return ks_fail(ks, ESG_ERR_NOMEM,
                       "key derivation for '%s' ran out of memory", name);
    }
    uint8_t ad[KS_AD_MAX];
    size_t adlen = key_file_ad(ad, &kf);
    unsigned long long sklen = 0;
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        sk_out->b, &sklen, NULL, kf.ct, sizeof kf.ct, ad, adlen, kf.nonce, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0 || sklen != sizeof sk_out->b) {
        esg_seckey_wipe(sk_out);
        return ks_fail(ks, ESG_ERR_BAD_PASSPHRASE,
                       "wrong passphrase for key '%s', or its file was altered",
                       name);
    }
    /* The AEAD binds the pubkey field (and in version 2 every other one) to
     * the ciphertext, but not to the secret that was encrypted: check the secret really is that key's. */
    esg_pubkey derived;
    rc = esg_key_pubkey(&derived, sk_out);
    if (rc == ESG_OK && sodium_memcmp(derived.b, kf.pk.b, sizeof derived.b) != 0)
        rc = ESG_ERR_BAD_SECRET;
    if (rc) {
        esg_seckey_wipe(sk_out);
        return ks_fail(ks, rc, "key file of '%s' holds a secret that does not "
                       "match its pubkey", name);
    }
    if (pk_out)
        *pk_out = derived;
    return ESG_OK;
}

/* ---------------------------------------------------------------- writing */

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Publishes `text` as `path` through a temporary file in the same
 * directory. link(2) is what makes it safe: it fails with EEXIST if `path`
 * appeared meanwhile, where rename(2) would replace it. */
static int publish_file(esgw_keystore *ks, const char *path, const char *name,
                        const char *text) {
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s/.%s.json.tmp-XXXXXX", ks->dir, name);
    if (n < 0 || n >= (int)sizeof tmp)
        return ks_fail(ks, ESG_ERR_INVALID_ARGUMENT, "keystore path is too long");
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return ks_fail(ks, ESG_ERR_IO, "cannot create a file in '%s': %s",
                       ks->dir, strerror(errno));
    int rc = ESG_OK;
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, strlen(text)) != 0 ||
        fsync(fd) != 0)
        rc = ks_fail(ks, ESG_ERR_IO, "cannot write '%s': %s", tmp,
                     strerror(errno));
    if (close(fd) != 0 && rc == ESG_OK)
        rc = ks_fail(ks, ESG_ERR_IO, "cannot write '%s': %s", tmp,
                     strerror(errno));
    if (rc == ESG_OK && link(tmp, path) != 0) {
        if (errno == EEXIST)
            rc = ks_fail(ks, ESG_ERR_KEY_EXISTS,
                         "a key named '%s' already exists in '%s'", name,
                         ks->dir);
        else
            rc = ks_fail(ks, ESG_ERR_IO, "cannot create '%s': %s", path,
                         strerror(errno));
    }
    unlink(tmp);
    if (rc == ESG_OK)
        fsync_dir(ks->dir);
    return rc;
}

/* Encrypts `sk` (whose pubkey is `pk`) under `passphrase` and stores it as
 * `name`. */
static int key_store(esgw_keystore *ks, const char *name, const esg_seckey *sk,
                     const esg_pubkey *pk, const char *passphrase) {
    int rc = ks_check_name(ks, name);
    if (rc)
        return rc;
    if (!*passphrase)
        return ks_fail(ks, ESG_ERR_INVALID_ARGUMENT,
                       "refusing an empty passphrase");
    if (sodium_init() < 0)
        return ks_fail(ks, ESG_ERR_INTERNAL, "libsodium failed to initialize");
    char path[PATH_MAX];
    if ((rc = ks_key_path(ks, path, name)))
        return rc;
    /* Fail fast, before the key derivation; publish_file makes the check
     * race-free. */
    struct stat st;
    if (lstat(path, &st) == 0)
        return ks_fail(ks, ESG_ERR_KEY_EXISTS,
                       "a key named '%s' already exists in '%s'", name, ks->dir);

    const char *mode = getenv("ESGWALLET_KDF");
    bool fast = mode && strcmp(mode, "fast") == 0;
    unsigned long long opslimit = fast ? crypto_pwhash_argon2id_OPSLIMIT_MIN
                                       : crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
    size_t memlimit = fast ? crypto_pwhash_argon2id_MEMLIMIT_MIN
                           : crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
    key_file kf;
    kf.version = KS_VERSION;
    memcpy(kf.name, name, strlen(name) + 1);
    kf.pk = *pk;
    kf.opslimit = opslimit;
    kf.memlimit = memlimit;
    randombytes_buf(kf.salt, sizeof kf.salt);
    randombytes_buf(kf.nonce, sizeof kf.nonce);
    uint8_t key[KS_KEY_BYTES];
    if (crypto_pwhash(key, sizeof key, passphrase, strlen(passphrase), kf.salt,
                      opslimit, memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(key, sizeof key);
        return ks_fail(ks, ESG_ERR_NOMEM, "key derivation ran out of memory");
    }
    uint8_t ad[KS_AD_MAX];
    size_t adlen = key_file_ad(ad, &kf);
    crypto_aead_xchacha20poly1305_ietf_encrypt(kf.ct, NULL, sk->b, sizeof sk->b,
                                               ad, adlen, NULL, kf.nonce, key);
    sodium_memzero(key, sizeof key);

    char salt_hex[2 * KS_SALT_BYTES + 1], nonce_hex[2 * KS_NONCE_BYTES + 1];
    char ct_hex[2 * KS_CT_BYTES + 1];
    esg_hex_encode(salt_hex, kf.salt, sizeof kf.salt);
    esg_hex_encode(nonce_hex, kf.nonce, sizeof kf.nonce);
    esg_hex_encode(ct_hex, kf.ct, sizeof kf.ct);
    esg_hex32 pk_hex = esg_pubkey_hex(pk);
    json_t *root = json_pack(
        "{s:i, s:s, s:s, s:{s:s, s:I, s:I, s:s}, s:{s:s, s:s, s:s}}",
        "version", KS_VERSION, "name", name, "pubkey", pk_hex.s,
        "kdf", "alg", KS_KDF_ALG, "opslimit", (json_int_t)opslimit,
        "memlimit", (json_int_t)memlimit, "salt", salt_hex,
        "cipher", "alg", KS_CIPHER_ALG, "nonce", nonce_hex,
        "ciphertext", ct_hex);
    char *body = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!body)
        return ks_fail(ks, ESG_ERR_NOMEM, "out of memory");
    size_t blen = strlen(body);
    char *text = malloc(blen + 2);
    if (!text) {
        free(body);
        return ks_fail(ks, ESG_ERR_NOMEM, "out of memory");
    }
    memcpy(text, body, blen);
    memcpy(text + blen, "\n", 2);
    free(body);
    rc = publish_file(ks, path, name, text);
    free(text);
    return rc;
}

int esgw_key_import(esgw_keystore *ks, const char *name, const esg_seckey *sk,
                    const char *passphrase, esg_pubkey *pk_out) {
    assert(ks && name && sk && passphrase);
    esg_pubkey pk;
    int rc = esg_key_pubkey(&pk, sk);
    if (rc)
        return ks_fail(ks, rc, "the secret key to import as '%s' is not valid",
                       name);
    rc = key_store(ks, name, sk, &pk, passphrase);
    if (rc == ESG_OK && pk_out)
        *pk_out = pk;
    return rc;
}

int esgw_key_create(esgw_keystore *ks, const char *name,
                    const char *passphrase, esg_pubkey *pk_out) {
    assert(ks && name && passphrase);
    /* Checked before generating, so a bad name costs nothing. */
    int rc = ks_check_name(ks, name);
    if (rc)
        return rc;
    esg_seckey sk;
    esg_pubkey pk;
    rc = esg_key_generate(&sk, &pk);
    if (rc)
        return ks_fail(ks, rc, "cannot generate a key");
    rc = key_store(ks, name, &sk, &pk, passphrase);
    esg_seckey_wipe(&sk);
    if (rc == ESG_OK && pk_out)
        *pk_out = pk;
    return rc;
}

/* ---------------------------------------------------------------- listing */

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int esgw_key_list(esgw_keystore *ks, char ***names_out, size_t *n_out) {
    assert(ks && names_out && n_out);
    *names_out = NULL;
    *n_out = 0;
    DIR *d = opendir(ks->dir);
    if (!d)
        return ks_fail(ks, ESG_ERR_IO, "cannot read keystore '%s': %s",
                       ks->dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = ESG_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char stem[ESGW_KEY_NAME_MAX + 1];
        if (len - 5 > ESGW_KEY_NAME_MAX)
            continue;
        memcpy(stem, e->d_name, len - 5);
        stem[len - 5] = '\0';
        struct stat st;
        if (esgw_key_name_check(stem) != ESG_OK ||
            fstatat(dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            char **grown = realloc(names, ncap * sizeof *grown);
            if (!grown) {
                rc = ESG_ERR_NOMEM;
                break;
            }
            names = grown;
            cap = ncap;
        }
        if (!(names[n] = strdup(stem))) {
            rc = ESG_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc) {
        esgw_key_list_free(names, n);
        return ks_fail(ks, rc, "out of memory");
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    *names_out = names;
    *n_out = n;
    return ESG_OK;
}

void esgw_key_list_free(char **names, size_t n) {
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* ------------------------------------------------------------- passphrase */

/* Room for the longest accepted line plus "\r\n". */
#define PP_RAW (ESGW_PASSPHRASE_MAX + 3)

/* The signal that interrupted a prompt. Signal handlers cannot reach any
 * object of ours, so this flag is the one piece of process-wide state. */
static volatile sig_atomic_t pp_signo;

static void pp_on_signal(int sig) { pp_signo = sig; }

/* Reads one line from `fd` into raw (PP_RAW bytes), without its "\n" or
 * "\r\n", NUL-terminated. A line too long is ESG_ERR_TOO_LARGE; with
 * `drain`, the rest of it is read and dropped first (a terminal's leftover
 * input must not spill into the shell).
 * `waitmask` is NULL for a file. For a terminal, the caller has blocked the
 * prompt's signals and `waitmask` is the mask to wait with: the signals get
 * in only while ppoll waits for input, so one that arrives at any moment
 * ends the read with ESG_ERR_IO (one caught just before a plain blocking
 * read() would leave the prompt hanging). */
static int pp_read_line(int fd, const sigset_t *waitmask, char *raw,
                        size_t *len_out, bool drain) {
    size_t n = 0;
    bool too_long = false;
    for (;;) {
        if (waitmask) {
            if (pp_signo)
                return ESG_ERR_IO;
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int pr = ppoll(&p, 1, NULL, waitmask);
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr < 0)
                return ESG_ERR_IO;
        }
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ESG_ERR_IO;
        if (r == 0 || c == '\n')
            break;
        if (n == PP_RAW - 1) {
            too_long = true;
            if (!drain)
                break;
            continue;
        }
        raw[n++] = c;
    }
    raw[n] = '\0';
    if (too_long)
        return ESG_ERR_TOO_LARGE;
    if (n > 0 && raw[n - 1] == '\r')
        raw[--n] = '\0';
    *len_out = n;
    return ESG_OK;
}

/* Copies the line in `raw` (length `len`) to the caller's buffer after the
 * checks every source shares. */
static int pp_accept(char *buf, size_t buflen, const char *raw, size_t len) {
    if (len == 0)
        return ESG_ERR_INVALID_ARGUMENT;
    if (len > ESGW_PASSPHRASE_MAX || len >= buflen)
        return ESG_ERR_TOO_LARGE;
    /* A NUL byte (only a file can hold one) would cut the C string short:
     * "\0..." would unlock with the empty passphrase. */
    if (memchr(raw, '\0', len))
        return ESG_ERR_INVALID_ARGUMENT;
    memcpy(buf, raw, len + 1);
    return ESG_OK;
}

static int pp_from_file(char *buf, size_t buflen, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ESG_ERR_NOT_FOUND : ESG_ERR_IO;
    char raw[PP_RAW];
    size_t len = 0;
    int rc = pp_read_line(fd, NULL, raw, &len, false);
    close(fd);
    if (rc == ESG_OK)
        rc = pp_accept(buf, buflen, raw, len);
    sodium_memzero(raw, sizeof raw);
    return rc;
}

static void tty_puts(int fd, const char *s) {
    (void)write_all(fd, s, strlen(s));
}

static const int pp_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP,
                                 SIGTTIN, SIGTTOU};
#define PP_NSIG (sizeof pp_signals / sizeof pp_signals[0])

/* One prompt with echo off: writes `prompt` (and `prompt2` when not NULL,
 * for a second line) and reads the line(s). The prompt's signals are
 * blocked throughout, except while waiting for input (pp_read_line), and
 * caught by pp_on_signal; a blocked SIGTTOU also lets a process in the
 * background restore the terminal. Terminal settings, handlers and the
 * signal mask are restored before returning, whatever happens; a signal
 * that arrived meanwhile is then re-raised, and after a stop signal (the
 * user pressed ^Z and later resumed) the prompt starts over. */
static int pp_from_tty(char *buf, size_t buflen, const char *prompt,
                       const char *prompt2) {
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return ESG_ERR_INVALID_ARGUMENT;
    struct termios saved;
    if (tcgetattr(fd, &saved) != 0) {
        close(fd);
        return ESG_ERR_INVALID_ARGUMENT;
    }
    sigset_t block, waitmask;
    sigemptyset(&block);
    for (size_t i = 0; i < PP_NSIG; i++)
        sigaddset(&block, pp_signals[i]);
    char raw[PP_RAW], raw2[PP_RAW];
    int rc;
    for (;;) {
        sigprocmask(SIG_BLOCK, &block, &waitmask);
        struct sigaction sa, old[PP_NSIG];
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = pp_on_signal;
        sigfillset(&sa.sa_mask);
        pp_signo = 0;
        for (size_t i = 0; i < PP_NSIG; i++)
            sigaction(pp_signals[i], &sa, &old[i]);

        struct termios quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        size_t len = 0, len2 = 0;
        if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
            rc = ESG_ERR_IO;
        } else {
            tty_puts(fd, prompt);
            rc = pp_read_line(fd, &waitmask, raw, &len, true);
            tty_puts(fd, "\n");
            if (rc == ESG_OK && prompt2) {
                tty_puts(fd, prompt2);
                rc = pp_read_line(fd, &waitmask, raw2, &len2, true);
                tty_puts(fd, "\n");
                if (rc == ESG_OK && (len != len2 ||
                                     sodium_memcmp(raw, raw2, len) != 0))
                    rc = ESG_ERR_INVALID_ARGUMENT;
            }
            (void)tcsetattr(fd, TCSAFLUSH, &saved);
        }
        for (size_t i = 0; i < PP_NSIG; i++)
            sigaction(pp_signals[i], &old[i], NULL);
        sigprocmask(SIG_SETMASK, &waitmask, NULL);
        int sig = pp_signo;
        if (sig) {
            sodium_memzero(raw, sizeof raw);
            sodium_memzero(raw2, sizeof raw2);
            /* With the terminal sane again, let the signal do what it
             * would have done (usually end or stop the process). */
            kill(getpid(), sig);
            if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
                continue;
            rc = ESG_ERR_IO;
            break;
        }
        if (rc == ESG_OK)
            rc = pp_accept(buf, buflen, raw, len);
        break;
    }
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(raw2, sizeof raw2);
    close(fd);
    return rc;
}

int esgw_passphrase_get(char *buf, size_t buflen, const char *passphrase_file,
                        const char *prompt, bool confirm) {
    assert(buf && buflen > 0);
    sodium_memzero(buf, buflen);
    int rc;
    const char *env;
    if (passphrase_file) {
        rc = pp_from_file(buf, buflen, passphrase_file);
    } else if ((env = getenv("ESGWALLET_PASSPHRASE")) != NULL) {
        rc = pp_accept(buf, buflen, env, strlen(env));
    } else {
        rc = pp_from_tty(buf, buflen, prompt ? prompt : "passphrase: ",
                         confirm ? "repeat passphrase: " : NULL);
    }
    if (rc)
        sodium_memzero(buf, buflen);
    return rc;
}
