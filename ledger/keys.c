/* BIP340 keys on libsecp256k1, randomness from libsodium, key files through
 * jansson. See keys.h for the contracts. */
#include "keys.h"
#include "error.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* No key file is anywhere near this; a bigger file is not a key file and is
 * not worth parsing. */
#define KEYFILE_MAX 4096

/* Upper bound on the draws esg_key_generate makes: a random 32-byte string
 * is an invalid secret with probability about 2^-128, so reaching it means
 * the random source is broken, not unlucky. */
#define GENERATE_MAX_TRIES 64

static pthread_once_t selftest_once = PTHREAD_ONCE_INIT;

/* libsecp256k1 asks that secp256k1_selftest run before the static context
 * is used; it aborts the process if the library was miscompiled. */
static void static_context_ready(void) {
    pthread_once(&selftest_once, secp256k1_selftest);
}

static int sodium_ready(void) {
    /* sodium_init is idempotent and thread-safe; it returns 1 when already
     * initialized. */
    return sodium_init() >= 0 ? ESG_OK : ESG_ERR_INTERNAL;
}

/* Returns a new context randomized with a fresh seed (blinding of the
 * secret-dependent multiplication), or NULL. The caller destroys it. */
static secp256k1_context *fresh_context(void) {
    if (sodium_ready() != ESG_OK)
        return NULL;
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    if (!ctx)
        return NULL;
    uint8_t seed[32];
    randombytes_buf(seed, sizeof seed);
    int ok = secp256k1_context_randomize(ctx, seed);
    sodium_memzero(seed, sizeof seed);
    if (!ok) {
        secp256k1_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

void esg_seckey_wipe(esg_seckey *sk) {
    assert(sk);
    sodium_memzero(sk->b, sizeof sk->b);
}

int esg_key_pubkey(esg_pubkey *pk, const esg_seckey *sk) {
    assert(pk && sk);
    /* Checked on the static context first so that an invalid secret is
     * reported without spending a context on it. */
    if (!secp256k1_ec_seckey_verify(secp256k1_context_static, sk->b))
        return ESG_ERR_BAD_SECRET;
    secp256k1_context *ctx = fresh_context();
    if (!ctx)
        return ESG_ERR_INTERNAL;
    int err = ESG_OK;
    secp256k1_keypair kp;
    secp256k1_xonly_pubkey xpk;
    if (!secp256k1_keypair_create(ctx, &kp, sk->b))
        err = ESG_ERR_BAD_SECRET;
    else if (!secp256k1_keypair_xonly_pub(ctx, &xpk, NULL, &kp) ||
             !secp256k1_xonly_pubkey_serialize(ctx, pk->b, &xpk))
        err = ESG_ERR_INTERNAL;
    sodium_memzero(&kp, sizeof kp);
    secp256k1_context_destroy(ctx);
    return err;
}

int esg_key_generate(esg_seckey *sk, esg_pubkey *pk) {
    assert(sk && pk);
    if (sodium_ready() != ESG_OK)
        return ESG_ERR_INTERNAL;
    for (int i = 0; i < GENERATE_MAX_TRIES; i++) {
        randombytes_buf(sk->b, sizeof sk->b);
        if (secp256k1_ec_seckey_verify(secp256k1_context_static, sk->b)) {
            int err = esg_key_pubkey(pk, sk);
            if (err != ESG_OK)
                esg_seckey_wipe(sk);
            return err == ESG_ERR_BAD_SECRET ? ESG_ERR_INTERNAL : err;
        }
    }
    esg_seckey_wipe(sk);
    return ESG_ERR_INTERNAL;
}

int esg_pubkey_check(const esg_pubkey *pk) {
    assert(pk);
    static_context_ready();
    secp256k1_xonly_pubkey xpk;
    return secp256k1_xonly_pubkey_parse(secp256k1_context_static, &xpk, pk->b)
               ? ESG_OK
               : ESG_ERR_BAD_PUBKEY;
}

/* Signs with BIP340 nonce derivation from `aux` on a fresh randomized
 * context and verifies the result. Precondition: msg is non-NULL unless
 * msglen is 0. On error `sig` is zeroed. */
static int sign_checked(esg_sig *sig, const esg_seckey *sk, const uint8_t *msg,
                        size_t msglen, const uint8_t aux[32]) {
    assert(sig && sk && aux && (msg || msglen == 0));
    memset(sig->b, 0, sizeof sig->b);
    if (!secp256k1_ec_seckey_verify(secp256k1_context_static, sk->b))
        return ESG_ERR_BAD_SECRET;
    secp256k1_context *ctx = fresh_context();
    if (!ctx)
        return ESG_ERR_INTERNAL;
    int err = ESG_OK;
    secp256k1_keypair kp;
    secp256k1_xonly_pubkey xpk;
    /* The extraparams field is non-const; a local copy avoids casting
     * const away from the caller's buffer. */
    uint8_t aux_copy[32];
    memcpy(aux_copy, aux, sizeof aux_copy);
    secp256k1_schnorrsig_extraparams extra = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
    extra.ndata = aux_copy;
    if (!secp256k1_keypair_create(ctx, &kp, sk->b))
        err = ESG_ERR_BAD_SECRET;
    else if (!secp256k1_keypair_xonly_pub(ctx, &xpk, NULL, &kp) ||
             !secp256k1_schnorrsig_sign_custom(ctx, sig->b, msg, msglen, &kp,
                                               &extra))
        err = ESG_ERR_INTERNAL;
    /* BIP340 recommends verifying: a fault during signing could otherwise
     * release a signature that leaks the key or fails for everyone else. */
    else if (!secp256k1_schnorrsig_verify(ctx, sig->b, msg, msglen, &xpk))
        err = ESG_ERR_INTERNAL;
    if (err != ESG_OK)
        memset(sig->b, 0, sizeof sig->b);
    sodium_memzero(&kp, sizeof kp);
    sodium_memzero(aux_copy, sizeof aux_copy);
    secp256k1_context_destroy(ctx);
    return err;
}

int esg_sign(esg_sig *sig, const esg_seckey *sk, const esg_hash *msg) {
    assert(sig && sk && msg);
    if (sodium_ready() != ESG_OK)
        return ESG_ERR_INTERNAL;
    uint8_t aux[32];
    randombytes_buf(aux, sizeof aux);
    int err = sign_checked(sig, sk, msg->b, sizeof msg->b, aux);
    sodium_memzero(aux, sizeof aux);
    return err;
}

int esg_sign_msg_aux(esg_sig *sig, const esg_seckey *sk, const uint8_t *msg,
                     size_t msglen, const uint8_t aux[32]) {
    assert(sig && sk && aux && (msg || msglen == 0));
    return sign_checked(sig, sk, msg, msglen, aux);
}

bool esg_verify_msg(const esg_sig *sig, const uint8_t *msg, size_t msglen,
                    const esg_pubkey *pk) {
    assert(sig && pk && (msg || msglen == 0));
    static_context_ready();
    secp256k1_xonly_pubkey xpk;
    if (!secp256k1_xonly_pubkey_parse(secp256k1_context_static, &xpk, pk->b))
        return false;
    return secp256k1_schnorrsig_verify(secp256k1_context_static, sig->b, msg,
                                       msglen, &xpk) == 1;
}

bool esg_verify(const esg_sig *sig, const esg_hash *msg, const esg_pubkey *pk) {
    assert(msg);
    return esg_verify_msg(sig, msg->b, sizeof msg->b, pk);
}

/* ------------------------------------------------------------ key files */

/* jansson copies strings into its own heap blocks and frees them without
 * wiping. The blocks are ours to write until the value is released, so the
 * secret's copy is wiped through the value pointer before json_decref.
 * (The parser's scratch buffer on the read path is beyond reach; the file
 * itself holds the secret in clear anyway.) */
static void wipe_json_string(json_t *s) {
    if (json_is_string(s))
        sodium_memzero((char *)json_string_value(s), json_string_length(s));
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return ESG_ERR_IO;
        buf += n;
        len -= (size_t)n;
    }
    return ESG_OK;
}

/* Makes the new directory entry durable. Best effort: the file's own data
 * was fsync'ed, and some file systems refuse fsync on a directory. */
static void fsync_parent_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        dir[0] = '.';
        dir[1] = '\0';
    } else {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        if (len >= sizeof dir)
            return;
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
}

/* Serializes the key file's JSON into `buf` (newline-terminated) and
 * returns its length, or 0 on failure. */
static size_t keyfile_render(char *buf, size_t buflen, const esg_pubkey *pk,
                             const esg_seckey *sk) {
    char pk_hex[65], sk_hex[65];
    esg_hex_encode(pk_hex, pk->b, sizeof pk->b);
    esg_hex_encode(sk_hex, sk->b, sizeof sk->b);
    json_t *obj = json_object();
    json_t *jpk = json_string(pk_hex);
    json_t *jsk = json_string(sk_hex);
    sodium_memzero(sk_hex, sizeof sk_hex);
    size_t n = 0;
    if (obj && jpk && jsk && json_object_set(obj, "pubkey", jpk) == 0 &&
        json_object_set(obj, "secret", jsk) == 0) {
        n = json_dumpb(obj, buf, buflen - 1, JSON_INDENT(2));
        if (n == 0 || n > buflen - 1)
            n = 0;
        else
            buf[n++] = '\n';
    }
    wipe_json_string(jsk);
    json_decref(jsk);
    json_decref(jpk);
    json_decref(obj);
    return n;
}

int esg_keyfile_write(const char *path, const esg_seckey *sk) {
    assert(path && sk);
    esg_pubkey pk;
    int err = esg_key_pubkey(&pk, sk);
    if (err != ESG_OK)
        return err;
    char buf[512];
    size_t len = keyfile_render(buf, sizeof buf, &pk, sk);
    if (len == 0) {
        sodium_memzero(buf, sizeof buf);
        return ESG_ERR_INTERNAL;
    }
    /* O_EXCL: never replace a key (or follow a planted symlink). */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(buf, sizeof buf);
        return errno == EEXIST ? ESG_ERR_KEY_EXISTS : ESG_ERR_IO;
    }
    /* The umask may have removed owner bits; it cannot have added any. */
    err = fchmod(fd, 0600) == 0 ? ESG_OK : ESG_ERR_IO;
    if (err == ESG_OK)
        err = write_all(fd, buf, len);
    if (err == ESG_OK && fsync(fd) != 0)
        err = ESG_ERR_IO;
    if (close(fd) != 0 && err == ESG_OK)
        err = ESG_ERR_IO;
    sodium_memzero(buf, sizeof buf);
    if (err != ESG_OK) {
        /* A half-written key file would block the retry with KEY_EXISTS. */
        unlink(path);
        return err;
    }
    fsync_parent_dir(path);
    return ESG_OK;
}

/* Reads the whole of a key file into `buf` (at least KEYFILE_MAX + 1 bytes)
 * after checking its type and mode on the open descriptor (so the checked
 * file is the read file). */
static int keyfile_load(char *buf, size_t *len, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ESG_ERR_IO;
    int err = ESG_OK;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        err = ESG_ERR_IO;
    else if (st.st_mode & (S_IRWXG | S_IRWXO))
        err = ESG_ERR_KEY_PERMISSIONS;
    else if (st.st_size > KEYFILE_MAX)
        err = ESG_ERR_TOO_LARGE;
    *len = 0;
    /* Read one byte past the limit to notice a file that grew. */
    while (err == ESG_OK && *len <= KEYFILE_MAX) {
        ssize_t n = read(fd, buf + *len, KEYFILE_MAX + 1 - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            err = ESG_ERR_IO;
        else if (n == 0)
            break;
        else
            *len += (size_t)n;
    }
    if (err == ESG_OK && *len > KEYFILE_MAX)
        err = ESG_ERR_TOO_LARGE;
    close(fd);
    return err;
}

/* Decodes the key file JSON in `buf` into `sk` and the claimed public key
 * `file_pk`. */
static int keyfile_parse(esg_seckey *sk, esg_pubkey *file_pk, const char *buf,
                         size_t len) {
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ESG_ERR_JSON;
    json_t *jpk = json_object_get(root, "pubkey");
    json_t *jsk = json_object_get(root, "secret");
    int err = ESG_OK;
    if (!json_is_object(root) || json_object_size(root) != 2 ||
        !json_is_string(jpk) || !json_is_string(jsk))
        err = ESG_ERR_JSON;
    else if (esg_hex_decode(sk->b, sizeof sk->b, json_string_value(jsk)) != ESG_OK ||
             esg_hex_decode(file_pk->b, sizeof file_pk->b,
                            json_string_value(jpk)) != ESG_OK)
        err = ESG_ERR_HEX;
    wipe_json_string(jsk);
    json_decref(root);
    return err;
}

int esg_keyfile_read(esg_seckey *sk, esg_pubkey *pk, const char *path) {
    assert(sk && path);
    char buf[KEYFILE_MAX + 1];
    size_t len = 0;
    esg_pubkey file_pk, derived;
    int err = keyfile_load(buf, &len, path);
    if (err == ESG_OK)
        err = keyfile_parse(sk, &file_pk, buf, len);
    sodium_memzero(buf, sizeof buf);
    if (err == ESG_OK)
        err = esg_key_pubkey(&derived, sk);
    if (err == ESG_OK && memcmp(derived.b, file_pk.b, sizeof derived.b) != 0)
        err = ESG_ERR_BAD_PUBKEY;
    if (err != ESG_OK) {
        esg_seckey_wipe(sk);
        return err;
    }
    if (pk)
        *pk = derived;
    return ESG_OK;
}
