/* Keys and signatures: BIP340 Schnorr over secp256k1 (libsecp256k1).
 *
 * A secret key is an esg_seckey (32 bytes, a scalar in [1, n-1]); its public
 * key is the 32-byte x-only BIP340 key (esg_pubkey, from ledger/hash.h) and a
 * signature is 64 bytes (esg_sig). What esgledger signs is always a 32-byte
 * hash (a tx id, a vote's sign bytes, a handshake transcript): esg_sign and
 * esg_verify take an esg_hash. The *_msg variants take messages of any
 * length and exist for the BIP340 test vectors.
 *
 * Signing follows docs/WIRE.md §4: every signature is made with fresh
 * auxiliary randomness on a freshly created and randomized context, and is
 * verified before it is returned (libsecp256k1 does not check its own
 * output; a fault or bug must not let a bad signature or a leaky one out).
 *
 * Secrets: an esg_seckey is a plain value the caller owns; wipe it with
 * esg_seckey_wipe() when done. Every function here wipes the copies it
 * makes (keypairs, aux randomness, hex and file buffers) with
 * sodium_memzero.
 *
 * Node key files (`esgnode key new`) are JSON
 *     {"pubkey": "<64 hex>", "secret": "<64 hex>"}
 * with mode 0600; a file that group or others may access is refused.
 *
 * Thread rules: every function is thread-safe and may be called from many
 * threads at once. Verification uses the read-only secp256k1_context_static;
 * signing and key derivation create a context of their own per call. There
 * is no global mutable state.
 *
 * Misuse (a NULL pointer where one is required) asserts; bad bytes (an
 * invalid key, a malformed file) return an error code.
 */
#ifndef ESG_KEYS_H
#define ESG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

typedef struct esg_seckey { uint8_t b[32]; } esg_seckey;

/* Generates a new key pair from libsodium's randombytes_buf, drawing again
 * until the 32 bytes are a valid secret (which fails with probability about
 * 2^-128). `pk` receives the matching x-only public key.
 * Returns 0, or ESG_ERR_INTERNAL if libsodium or libsecp256k1 fails. On
 * error `sk` is wiped. */
int esg_key_generate(esg_seckey *sk, esg_pubkey *pk);

/* Derives the x-only public key of `sk` into `pk`.
 * Returns 0, ESG_ERR_BAD_SECRET if `sk` is zero or not below the curve
 * order, or ESG_ERR_INTERNAL. `pk` is unspecified on error. */
int esg_key_pubkey(esg_pubkey *pk, const esg_seckey *sk);

/* Checks that `pk` is the x coordinate of a point on the curve (below the
 * field size). Returns 0 or ESG_ERR_BAD_PUBKEY. Use it on every public key
 * that arrives from outside before storing it. */
int esg_pubkey_check(const esg_pubkey *pk);

/* Signs the 32-byte `msg` (normally a tagged hash) with `sk`, using 32
 * bytes of fresh aux randomness and a context randomized with a fresh seed,
 * then verifies the signature against the key's public key.
 * Returns 0, ESG_ERR_BAD_SECRET if `sk` is invalid, or ESG_ERR_INTERNAL if
 * libsodium/libsecp256k1 fail or the fresh signature does not verify (in
 * which case `sig` is zeroed, never a bad signature). Two calls with the
 * same key and message give different, equally valid signatures. */
int esg_sign(esg_sig *sig, const esg_seckey *sk, const esg_hash *msg);

/* Deterministic BIP340 signing of `msglen` bytes at `msg` (which may be
 * NULL when msglen is 0) with caller-chosen aux randomness `aux`, as in the
 * BIP340 reference ("Default Signing" with a given a). The same inputs give
 * the same signature. For the test vectors and for callers that must
 * reproduce a signature; esg_sign is what the ledger uses. The signature is
 * verified before returning. Returns 0, ESG_ERR_BAD_SECRET or
 * ESG_ERR_INTERNAL (`sig` zeroed on error). */
int esg_sign_msg_aux(esg_sig *sig, const esg_seckey *sk, const uint8_t *msg,
                     size_t msglen, const uint8_t aux[32]);

/* True when `sig` is a valid BIP340 signature of the 32-byte `msg` by `pk`.
 * False for any invalid input, including a `pk` that is not on the curve. */
bool esg_verify(const esg_sig *sig, const esg_hash *msg, const esg_pubkey *pk);

/* As esg_verify for `msglen` bytes at `msg` (NULL allowed when msglen is 0). */
bool esg_verify_msg(const esg_sig *sig, const uint8_t *msg, size_t msglen,
                    const esg_pubkey *pk);

/* Creates the node key file `path` holding `sk` and its public key as JSON
 * (see above), with mode 0600. The file must not exist: it is created with
 * O_CREAT|O_EXCL, so an existing file (or symlink) is never overwritten.
 * The data is fsync'ed before returning; on a failure after creation the
 * partial file is removed.
 * Returns 0, ESG_ERR_KEY_EXISTS if `path` exists, ESG_ERR_BAD_SECRET if
 * `sk` is invalid (nothing is created), ESG_ERR_IO, or ESG_ERR_INTERNAL. */
int esg_keyfile_write(const char *path, const esg_seckey *sk);

/* Reads the node key file `path` into `sk` and `pk` (`pk` may be NULL).
 * The file must be a regular file whose mode has no group or other bits,
 * holding a JSON object with exactly the members "pubkey" and "secret"
 * (64 hex characters each, either case), where "pubkey" is the public key
 * of "secret".
 * Returns 0 or:
 *   ESG_ERR_KEY_PERMISSIONS  group or others have any access to the file,
 *   ESG_ERR_IO               the file cannot be opened or read, or is not a
 *                            regular file,
 *   ESG_ERR_TOO_LARGE        the file is over 4 KiB (no key file is),
 *   ESG_ERR_JSON             not JSON, not an object, a member missing, not
 *                            a string, duplicated or unknown,
 *   ESG_ERR_HEX              a member is not 64 hex characters,
 *   ESG_ERR_BAD_SECRET       the secret is zero or not below the curve order,
 *   ESG_ERR_BAD_PUBKEY       "pubkey" is not the secret's public key.
 * On error `sk` is wiped and `pk` is unspecified. */
int esg_keyfile_read(esg_seckey *sk, esg_pubkey *pk, const char *path);

/* Overwrites `sk` with zeros in a way the compiler does not elide. */
void esg_seckey_wipe(esg_seckey *sk);

#endif
