/* Hashes and fixed-size values.
 *
 * esg_hash, esg_pubkey and esg_sig are plain copyable structs so that a
 * length is never guessed. All hashing is SHA-256 (OpenSSL libcrypto, which
 * uses the CPU's SHA extensions). Tagged hashes follow BIP340:
 *     H(tag, m) = SHA256(SHA256(tag) || SHA256(tag) || m)
 * with one tag per use (ESG_TAG_*). The tag midstates are computed once per
 * process; every function here is thread-safe.
 */
#ifndef ESG_HASH_H
#define ESG_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct esg_hash { uint8_t b[32]; } esg_hash;
typedef struct esg_pubkey { uint8_t b[32]; } esg_pubkey; /* BIP340 x-only */
typedef struct esg_sig { uint8_t b[64]; } esg_sig;       /* BIP340 */

/* The tags, one per use (H is that of docs/WIRE.md §3). */
typedef enum esg_tag {
    ESG_TAG_TX = 0,        /* "esg/tx" */
    ESG_TAG_BLOCK,         /* "esg/block" */
    ESG_TAG_VOTE,          /* "esg/vote" */
    ESG_TAG_MERKLE_LEAF,   /* "esg/merkle/leaf" */
    ESG_TAG_MERKLE_NODE,   /* "esg/merkle/node" */
    ESG_TAG_STATE,         /* "esg/state" */
    ESG_TAG_STATE_KEY,     /* "esg/state/key" */
    ESG_TAG_P2P,           /* "esg/p2p" */
    ESG_TAG_GENESIS,       /* "esg/genesis" */
    ESG_TAG_PROPOSAL,      /* "esg/proposal" */
    ESG_TAG_EVIDENCE,      /* "esg/evidence" */
    ESG_TAG_COUNT_
} esg_tag;

/* Returns the tag string of `tag` ("esg/tx"). */
const char *esg_tag_name(esg_tag tag);

/* Plain SHA-256 of `len` bytes at `data` (data may be NULL when len is 0). */
esg_hash esg_sha256(const void *data, size_t len);

/* Tagged hash H(tag, data). */
esg_hash esg_hash_tagged(esg_tag tag, const void *data, size_t len);

/* Tagged hash of the concatenation of two buffers, H(tag, a || b), without
 * copying them together. */
esg_hash esg_hash_tagged2(esg_tag tag, const void *a, size_t alen,
                          const void *b, size_t blen);

/* Incremental tagged hashing for longer concatenations. An esg_hasher is a
 * caller-owned value; no release is needed. */
typedef struct esg_hasher { uint8_t opaque[128]; } esg_hasher;
void esg_hasher_init(esg_hasher *h, esg_tag tag);
void esg_hasher_write(esg_hasher *h, const void *data, size_t len);
esg_hash esg_hasher_final(esg_hasher *h);

/* True when the two values are equal (not constant time: hashes are public). */
bool esg_hash_eq(const esg_hash *a, const esg_hash *b);
bool esg_hash_is_zero(const esg_hash *h);

/* Lower-case hex. `out` must hold 2*len+1 bytes; it is NUL-terminated. */
void esg_hex_encode(char *out, const void *data, size_t len);

/* Decodes exactly `len` bytes from a hex string of exactly 2*len characters
 * (either case). Returns 0 or ESG_ERR_HEX; `out` is unspecified on error. */
int esg_hex_decode(void *out, size_t len, const char *hex);

/* Convenience: 65-byte buffers for 32-byte values. */
typedef struct esg_hex32 { char s[65]; } esg_hex32;
esg_hex32 esg_hash_hex(const esg_hash *h);
esg_hex32 esg_pubkey_hex(const esg_pubkey *pk);
esg_hex32 esg_hex32_of(const uint8_t b[32]);

#endif
