/* Fuzz target: the secret-holding files a user or operator hands over.
 * The first input byte picks the reader, the rest is the file:
 *   0  the node key file (ledger/keys.h esg_keyfile_read),
 *   1  a wallet keystore file (wallet/keystore.c): parsed by
 *      esgw_key_pubkey; unlocked too when its KDF cost is the minimum
 *      Argon2id allows (opslimit 1, memlimit 8 KiB), so the AEAD and the
 *      secret's checks are reached without the target slowing down --
 *      costlier files stop at parsing, which is all that reads them,
 *   2  a passphrase file (esgw_passphrase_get).
 * Asserts: nothing crashes or leaks; a file that is read gives a key pair
 * that agrees (the public key of the secret), an unlock that fails leaves
 * the secret zero, a passphrase read is non-empty, NUL-terminated and
 * holds no newline. */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "ledger/error.h"
#include "ledger/keys.h"
#include "wallet/keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_zero(const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void check_pair(const esg_seckey *sk, const esg_pubkey *pk) {
    esg_pubkey derived;
    if (esg_key_pubkey(&derived, sk) != ESG_OK || memcmp(derived.b, pk->b, 32) != 0)
        abort();
}

/* True when the file asks for the cheapest KDF (the target's own peek at
 * the JSON; the keystore decides everything else). */
static bool kdf_is_minimal(const uint8_t *data, size_t size) {
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    json_t *kdf = json_object_get(root, "kdf");
    json_t *ops = json_object_get(kdf, "opslimit"), *mem = json_object_get(kdf, "memlimit");
    bool minimal = json_is_integer(ops) && json_is_integer(mem) &&
                   json_integer_value(ops) <= (json_int_t)crypto_pwhash_argon2id_OPSLIMIT_MIN &&
                   json_integer_value(mem) <= (json_int_t)crypto_pwhash_argon2id_MEMLIMIT_MIN;
    json_decref(root);
    return minimal;
}

static void fuzz_wallet_key(const uint8_t *data, size_t size) {
    static esgw_keystore *ks;
    if (!ks && esgw_keystore_open(&ks, fuzz_dir()) != ESG_OK)
        abort();
    char path[128];
    snprintf(path, sizeof path, "%s/k.json", fuzz_dir());
    fuzz_write_file(path, data, size, 0600);
    esg_pubkey pk;
    if (esgw_key_pubkey(ks, "k", &pk) != ESG_OK || !kdf_is_minimal(data, size))
        return;
    esg_seckey sk;
    esg_pubkey unlocked;
    int rc = esgw_key_unlock(ks, "k", "fuzz passphrase", &sk, &unlocked);
    if (rc == ESG_OK) {
        check_pair(&sk, &unlocked);
        if (memcmp(pk.b, unlocked.b, 32) != 0)
            abort();
    } else if (!is_zero(&sk, sizeof sk)) {
        abort();
    }
    esg_seckey_wipe(&sk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    char path[128];
    uint8_t which = data[0] % 3;
    data++, size--;
    if (which == 0) {
        snprintf(path, sizeof path, "%s/node_key.json", fuzz_dir());
        fuzz_write_file(path, data, size, 0600);
        esg_seckey sk;
        esg_pubkey pk;
        if (esg_keyfile_read(&sk, &pk, path) == ESG_OK)
            check_pair(&sk, &pk);
        else if (!is_zero(&sk, sizeof sk))
            abort();
        esg_seckey_wipe(&sk);
    } else if (which == 1) {
        fuzz_wallet_key(data, size);
    } else {
        snprintf(path, sizeof path, "%s/passphrase", fuzz_dir());
        fuzz_write_file(path, data, size, 0600);
        char pp[ESGW_PASSPHRASE_MAX + 1];
        if (esgw_passphrase_get(pp, sizeof pp, path, NULL, false) == ESG_OK) {
            size_t n = strnlen(pp, sizeof pp);
            if (n == 0 || n == sizeof pp || memchr(pp, '\n', n))
                abort();
        } else if (!is_zero(pp, sizeof pp)) {
            abort();
        }
        sodium_memzero(pp, sizeof pp);
    }
    return 0;
}
