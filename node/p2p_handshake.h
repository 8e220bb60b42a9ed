/* The p2p handshake and frame cipher: the cryptography of node/p2p.c,
 * with no sockets and no libuv in it, so it can be tested byte for byte.
 * docs/P2P.md is the normative description of the wire format; this
 * header says how the code maps onto it.
 *
 * A connection has two roles: the node that dialed is the INITIATOR
 * (crypto_kx "client"), the node that accepted is the RESPONDER
 * ("server"). Each side:
 *
 *   1. esg_p2p_hs_init: makes an X25519 ephemeral key pair (crypto_kx) and
 *      the 37-byte HELLO to send in clear: "ESGP" || version 1 || eph pk.
 *   2. esg_p2p_hs_read_hello: takes the peer's HELLO, derives the two
 *      per-direction keys (crypto_kx_{client,server}_session_keys by role),
 *      computes both transcript hashes, and wipes the ephemeral secret.
 *   3. esg_p2p_hs_auth: writes the AUTH plaintext (node pubkey, BIP340
 *      signature of this side's transcript hash, chain id), which the
 *      caller sends as the first encrypted frame (counter 0).
 *   4. esg_p2p_hs_check_auth: checks the peer's AUTH plaintext: its key is
 *      a valid x-only key and it signed the peer's transcript hash.
 *
 * The transcript hash of the side with role R is
 *     esg_hash_tagged(ESG_TAG_P2P, 0x01 || u8 len || chain_id ||
 *                     eph_initiator || eph_responder || R)
 * with R = 0x01 (initiator) or 0x02 (responder). The chain id is in it, so
 * a peer on another chain makes a signature that does not verify here; the
 * chain id it sends in AUTH then only serves to say so in the log.
 *
 * Frames (esg_p2p_cipher_seal / _open): u32 big-endian length L, then L
 * bytes of XChaCha20-Poly1305 ciphertext (payload || 16-byte tag) under the
 * direction's key, with the 4 length bytes as associated data and the
 * 24-byte nonce 16 zero bytes || u64 big-endian counter. Each direction
 * counts from 0 (AUTH is frame 0, VERDICT frame 1) and a counter is never
 * reused: at `limit` the cipher refuses to seal or open (ESG_ERR_OVERFLOW)
 * and the caller closes the connection.
 *
 * Values here are plain caller-owned structs; esg_p2p_hs_wipe() wipes the
 * keys (sodium_memzero). Thread rules: none shared; every function is safe
 * on distinct values from any thread.
 */
#ifndef ESG_NODE_P2P_HANDSHAKE_H
#define ESG_NODE_P2P_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"
#include "ledger/keys.h"

#define ESG_P2P_VERSION 1
#define ESG_P2P_HELLO_LEN 37        /* "ESGP" || version || 32-byte eph pk */
#define ESG_P2P_PREFIX_LEN 4        /* frame length prefix */
#define ESG_P2P_TAG_LEN 16          /* Poly1305 tag */
#define ESG_P2P_FRAME_OVERHEAD (ESG_P2P_PREFIX_LEN + ESG_P2P_TAG_LEN)
#define ESG_P2P_CHAIN_ID_MAX 64
/* AUTH plaintext: pubkey 32 || signature 64 || chain id length 1 ||
 * chain id zero-padded to 64. */
#define ESG_P2P_AUTH_LEN (32 + 64 + 1 + ESG_P2P_CHAIN_ID_MAX)
#define ESG_P2P_VERDICT_LEN 1       /* 0x01 accept, 0x00 refuse */
#define ESG_P2P_VERDICT_ACCEPT 0x01
#define ESG_P2P_VERDICT_REFUSE 0x00

typedef enum esg_p2p_role {
    ESG_P2P_INITIATOR = 1, /* dialed the connection */
    ESG_P2P_RESPONDER = 2, /* accepted it */
} esg_p2p_role;

/* One direction of a connection. */
typedef struct esg_p2p_cipher {
    uint8_t key[32];
    uint64_t next;  /* counter of the next frame */
    uint64_t limit; /* counters stay below this (UINT64_MAX by default) */
} esg_p2p_cipher;

typedef struct esg_p2p_hs {
    esg_p2p_role role;
    uint8_t eph_pk[32], eph_sk[32];
    uint8_t peer_eph[32];
    uint8_t chain_len;
    char chain_id[ESG_P2P_CHAIN_ID_MAX + 1];
    bool keyed;              /* read_hello succeeded */
    esg_hash own_transcript; /* what this side signs */
    esg_hash peer_transcript;/* what the peer must have signed */
    esg_p2p_cipher tx, rx;
} esg_p2p_hs;

/* The transcript hash a side with role `signer` signs (see above).
 * `chain_len` is 1..ESG_P2P_CHAIN_ID_MAX (asserted). */
esg_hash esg_p2p_transcript(const char *chain_id, size_t chain_len,
                            const uint8_t eph_initiator[32],
                            const uint8_t eph_responder[32], esg_p2p_role signer);

/* Starts a handshake: a fresh ephemeral key pair, and the HELLO to send in
 * `hello`. `chain_id` is copied; both ciphers get `limit` (0 means
 * UINT64_MAX). Returns 0, ESG_ERR_INVALID_ARGUMENT if the chain id is
 * empty or longer than 64 bytes, or ESG_ERR_INTERNAL if libsodium fails. */
int esg_p2p_hs_init(esg_p2p_hs *hs, uint8_t hello[ESG_P2P_HELLO_LEN], esg_p2p_role role,
                    const char *chain_id, uint64_t limit);

/* Reads the peer's HELLO and derives the session keys and transcripts;
 * the ephemeral secret is wiped. Returns 0, or:
 *   ESG_ERR_DECODE       not "ESGP" or not version 1 (not an esgledger
 *                        peer, or another protocol version),
 *   ESG_ERR_BAD_PUBKEY   the ephemeral key is our own (a reflected HELLO)
 *                        or one X25519 refuses (a low-order point). */
int esg_p2p_hs_read_hello(esg_p2p_hs *hs, const uint8_t hello[ESG_P2P_HELLO_LEN]);

/* Writes this side's AUTH plaintext into `out`: `pk` (the public key of
 * `sk`), the signature of our transcript hash with `sk`, and the chain id.
 * Requires read_hello to have succeeded (asserted). Returns 0 or the error
 * of esg_sign (ESG_ERR_BAD_SECRET, ESG_ERR_INTERNAL). */
int esg_p2p_hs_auth(const esg_p2p_hs *hs, uint8_t out[ESG_P2P_AUTH_LEN],
                    const esg_seckey *sk, const esg_pubkey *pk);

/* Checks the peer's AUTH plaintext. On success `peer` holds its verified
 * node key. `peer_chain` (65 bytes) always receives the chain id the peer
 * claims, NUL-terminated (possibly empty, possibly not a valid id: print
 * it only after esg_chain_id_valid). Returns 0, or:
 *   ESG_ERR_DECODE         chain id length 0 or over 64, or padding not zero,
 *   ESG_ERR_BAD_PUBKEY     the key is not a valid x-only key,
 *   ESG_ERR_CHAIN_ID       the signature does not verify and the peer names
 *                          another chain than ours,
 *   ESG_ERR_BAD_SIGNATURE  the signature does not verify (same chain). */
int esg_p2p_hs_check_auth(const esg_p2p_hs *hs, esg_pubkey *peer,
                          char peer_chain[ESG_P2P_CHAIN_ID_MAX + 1],
                          const uint8_t in[ESG_P2P_AUTH_LEN]);

/* Wipes every key in `hs`. */
void esg_p2p_hs_wipe(esg_p2p_hs *hs);

/* Seals `len` bytes at `in` (NULL allowed when len is 0) into the frame
 * `out`, which must hold ESG_P2P_FRAME_OVERHEAD + len bytes and must not
 * overlap `in`. Returns 0 and advances the counter, ESG_ERR_TOO_LARGE if
 * the frame's length does not fit 32 bits, or ESG_ERR_OVERFLOW if the
 * counter has reached the limit (nothing written). */
int esg_p2p_cipher_seal(esg_p2p_cipher *c, uint8_t *out, const uint8_t *in, size_t len);

/* Opens, in place, the `ctlen` bytes at `buf` that followed the length
 * prefix `prefix`: on success the ctlen - 16 plaintext bytes are at `buf`
 * and the counter advances. Returns 0, ESG_ERR_DECODE if ctlen < 16,
 * ESG_ERR_OVERFLOW if the counter has reached the limit, or
 * ESG_ERR_BAD_SIGNATURE if the tag does not authenticate (a corrupted,
 * reordered or replayed frame; the counter does not advance). */
int esg_p2p_cipher_open(esg_p2p_cipher *c, uint8_t *buf, size_t ctlen,
                        const uint8_t prefix[ESG_P2P_PREFIX_LEN]);

/* Big-endian helpers shared with the transport. */
static inline uint32_t esg_p2p_be32(const uint8_t b[4]) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

#endif
