/* The wallet's keystore: named secp256k1 keys, encrypted at rest.
 *
 * A keystore is a directory (default ~/.esgwallet/keys) holding one file per
 * key, NAME.json, encrypted under a passphrase. Nothing is cached: every
 * call reads or writes the directory, so two wallets on the same directory
 * see each other's keys at once.
 *
 * Key names match [A-Za-z0-9_.-]{1,64} and do not start with a dot (dot
 * files are the keystore's own temporary files). The name is the file name;
 * a name is never reused: creating or importing a name that exists fails
 * with ESG_ERR_KEY_EXISTS and leaves the existing file untouched.
 *
 * File format, version 2 (one line of JSON; new files are written so):
 *
 *   {"version":2,"name":"NAME","pubkey":"<64 hex>",
 *    "kdf":{"alg":"argon2id13","opslimit":N,"memlimit":N,
 *           "salt":"<32 hex>"},
 *    "cipher":{"alg":"xchacha20poly1305-ietf","nonce":"<48 hex>",
 *              "ciphertext":"<96 hex>"}}
 *
 *   - pubkey is the BIP340 x-only public key, readable without the
 *     passphrase (esgw_key_pubkey, esgw_key_list).
 *   - The 32-byte encryption key is crypto_pwhash(Argon2id v1.3) of the
 *     passphrase with the stored salt, opslimit and memlimit.
 *   - ciphertext is XChaCha20-Poly1305-IETF of the 32-byte secret key
 *     (32 bytes + 16-byte tag) under that key and the stored nonce. Its
 *     additional data is a canonical serialization of every other field
 *     (integers big-endian; str(s) is a u16 byte length and the bytes):
 *
 *       "esgwallet-keyfile" NUL ‖ u32 version ‖ str(name) ‖ pubkey (32)
 *       ‖ str(kdf.alg) ‖ u64 opslimit ‖ u64 memlimit ‖ salt (16)
 *       ‖ str(cipher.alg) ‖ nonce (24)
 *
 *     so a file whose name, pubkey, KDF parameters, salt, nonce or version
 *     was edited fails to decrypt, exactly like a wrong passphrase
 *     (ESG_ERR_BAD_PASSPHRASE: the two cannot be told apart, since an
 *     edited KDF parameter or salt derives another key). A version 2 file
 *     holds exactly these members (ESG_ERR_JSON otherwise) and its name
 *     must be a valid key name.
 *   - "name" records the name the key was created under. The file name is
 *     what counts for lookup, so a renamed file still unlocks; the field
 *     itself cannot be changed.
 *
 * Version 1 files (written by earlier esgwallet builds) are still read.
 * They have the same members with "version":1, but only the 32 pubkey
 * bytes are the additional data: their name and KDF parameters are not
 * authenticated (an edited opslimit, memlimit or salt still fails, as it
 * derives another key; an edited name goes unnoticed). Editing a version 2
 * file's version to 1 is refused like any other edit. A version 1 file is
 * never rewritten: the keystore only creates files (no call re-encrypts
 * one), so it stays version 1 until its key is imported anew.
 *
 * Key derivation cost. New files use crypto_pwhash_OPSLIMIT_INTERACTIVE and
 * crypto_pwhash_MEMLIMIT_INTERACTIVE (2 passes, 64 MiB). When the
 * environment variable ESGWALLET_KDF is "fast", they use OPSLIMIT_MIN and
 * MEMLIMIT_MIN instead (1 pass, 8 KiB): for tests only, such a file is
 * cheap to brute-force. Reading always uses the parameters stored in the
 * file, but refuses opslimit > 16 or memlimit > 1 GiB (ESG_ERR_TOO_LARGE),
 * so a hostile file cannot make an unlock take minutes or exhaust memory.
 *
 * Files are written with mode 0600 into a directory created with mode 0700,
 * atomically: a temporary file ".NAME.json.tmp-XXXXXX" is written, fsynced,
 * then published under its final name with link(2), which (unlike
 * rename(2)) refuses an existing name atomically, and the directory is
 * fsynced. A reader never sees a half-written key. Reading a key file that
 * group or others may access (any bit of 077 set) fails with
 * ESG_ERR_KEY_PERMISSIONS, for the passphrase-free calls too: such a file
 * leaks the encrypted secret to other users and must be fixed (chmod 600).
 *
 * Errors are ESG_ERR_* codes from ledger/error.h. A keystore keeps a
 * one-line description of its last error (esgw_keystore_errmsg), naming the
 * file or key, for the CLI's stderr.
 *
 * Secrets: every buffer that held a secret key, a passphrase or a derived
 * key is wiped with sodium_memzero before it is released, and a failing
 * call leaves no secret in its outputs.
 *
 * Threads: an esgw_keystore must not be used by two threads at once
 * (it holds the last error); distinct keystores are independent.
 * esgw_passphrase_get changes signal handlers and the signal mask while it
 * prompts, and is for a single-threaded CLI.
 */
#ifndef ESGW_KEYSTORE_H
#define ESGW_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "ledger/hash.h"
#include "ledger/keys.h"

/* Longest key name, in bytes (without the NUL). */
#define ESGW_KEY_NAME_MAX 64

typedef struct esgw_keystore esgw_keystore;

/* Opens the keystore in directory `dir`, or in $HOME/.esgwallet/keys when
 * `dir` is NULL. A missing directory is created, parents included, with
 * mode 0700; an existing one is used as it is. On success *ks is a new
 * keystore that the caller frees with esgw_keystore_close.
 * Errors: ESG_ERR_INVALID_ARGUMENT (dir NULL and HOME unset or empty; path
 * too long), ESG_ERR_IO (cannot create it, or it is not a directory),
 * ESG_ERR_NOMEM. *ks is NULL on error. */
int esgw_keystore_open(esgw_keystore **ks, const char *dir);

/* Frees a keystore (NULL is allowed). */
void esgw_keystore_close(esgw_keystore *ks);

/* The keystore's directory path. Owned by `ks`, valid until it is closed. */
const char *esgw_keystore_dir(const esgw_keystore *ks);

/* A one-line, lower-case description of the last error returned by a call
 * on `ks` ("key name 'a/b' must match [A-Za-z0-9_.-]{1,64} without a
 * leading dot"), or "" when none has failed yet; successful calls leave it
 * as it is. Owned by `ks`; valid until the next call on it. */
const char *esgw_keystore_errmsg(const esgw_keystore *ks);

/* Returns 0 when `name` is a valid key name, else ESG_ERR_INVALID_ARGUMENT. */
int esgw_key_name_check(const char *name);

/* Generates a fresh key, stores it as `name` encrypted under `passphrase`
 * (a non-empty NUL-terminated string) and, if pk_out is not NULL, returns
 * its public key.
 * Errors: ESG_ERR_INVALID_ARGUMENT (bad name, empty passphrase),
 * ESG_ERR_KEY_EXISTS (the name is taken; the existing file is unchanged),
 * ESG_ERR_IO, ESG_ERR_NOMEM, or an error of esg_key_generate. */
int esgw_key_create(esgw_keystore *ks, const char *name,
                    const char *passphrase, esg_pubkey *pk_out);

/* Like esgw_key_create, but stores the given secret key `sk` (not modified;
 * the caller still owns and wipes it). Errors as esgw_key_create, plus
 * those of esg_key_pubkey for an invalid secret (ESG_ERR_BAD_SECRET). */
int esgw_key_import(esgw_keystore *ks, const char *name,
                    const esg_seckey *sk, const char *passphrase,
                    esg_pubkey *pk_out);

/* Decrypts key `name` with `passphrase` into *sk_out (which the caller
 * wipes with esg_seckey_wipe when done) and, if pk_out is not NULL, its
 * public key. On any error *sk_out is all zero.
 * Errors: ESG_ERR_INVALID_ARGUMENT (bad name), ESG_ERR_NOT_FOUND (no such
 * key), ESG_ERR_KEY_PERMISSIONS (group or others can access the file),
 * ESG_ERR_JSON (malformed file, unknown version or algorithm, a version 2
 * file with a member too many or too few or a name that is no key name),
 * ESG_ERR_TOO_LARGE (file over 64 KiB, or KDF parameters over the bounds
 * above), ESG_ERR_BAD_PUBKEY (the pubkey field is not a curve point),
 * ESG_ERR_BAD_PASSPHRASE (wrong passphrase, or the ciphertext, nonce,
 * salt, KDF parameters or pubkey field was altered, or in a version 2 file
 * the name or version), ESG_ERR_BAD_SECRET (the
 * decrypted secret does not give the stored pubkey), ESG_ERR_IO,
 * ESG_ERR_NOMEM. */
int esgw_key_unlock(esgw_keystore *ks, const char *name,
                    const char *passphrase, esg_seckey *sk_out,
                    esg_pubkey *pk_out);

/* Reads the public key of `name` without the passphrase. The pubkey field
 * (like every field) is not authenticated until the key is unlocked.
 * Errors: as esgw_key_unlock, without the passphrase and secret ones. */
int esgw_key_pubkey(esgw_keystore *ks, const char *name, esg_pubkey *pk_out);

/* Lists the names of the keys in the keystore, sorted by strcmp: every
 * regular file NAME.json whose NAME is a valid key name (other files are
 * ignored; the files are not opened). On success *names_out is a new array
 * of *n_out new strings (NULL when there are none), freed with
 * esgw_key_list_free. Errors: ESG_ERR_IO, ESG_ERR_NOMEM. */
int esgw_key_list(esgw_keystore *ks, char ***names_out, size_t *n_out);

/* Frees a list from esgw_key_list (NULL is allowed). */
void esgw_key_list_free(char **names, size_t n);

/* Longest passphrase esgw_passphrase_get reads, in bytes. A buffer of
 * ESGW_PASSPHRASE_MAX + 1 bytes always suffices. */
#define ESGW_PASSPHRASE_MAX 1024

/* Gets a passphrase into `buf` (`buflen` bytes, NUL-terminated on success)
 * from the first available source:
 *   1. `passphrase_file`, if not NULL: its first line, without the
 *      trailing "\n" or "\r\n";
 *   2. the environment variable ESGWALLET_PASSPHRASE, if set;
 *   3. a prompt on /dev/tty: `prompt` (NULL: "passphrase: ") is written,
 *      echo is switched off while the line is read and restored afterwards,
 *      on error too, and also when SIGINT, SIGTERM, SIGHUP, SIGQUIT or a
 *      stop signal (^Z) arrives: the signal is then re-raised once the
 *      terminal is restored, and after a stop the prompt starts over.
 *      With `confirm`, the passphrase is asked a second time
 *      ("repeat passphrase: ") and both must match.
 * An empty passphrase, or one holding a NUL byte, is refused whatever its
 * source. On error `buf` is all zero. The caller wipes `buf` with
 * sodium_memzero when done.
 * Errors: ESG_ERR_INVALID_ARGUMENT (empty passphrase, a NUL byte in it; no
 * source because there is no terminal; the two entries differ), ESG_ERR_NOT_FOUND (the
 * passphrase file does not exist), ESG_ERR_TOO_LARGE (longer than
 * buflen - 1 or ESGW_PASSPHRASE_MAX bytes), ESG_ERR_IO (cannot read the
 * file or the terminal, or a signal interrupted the prompt). */
int esgw_passphrase_get(char *buf, size_t buflen, const char *passphrase_file,
                        const char *prompt, bool confirm);

#endif
