/* The p2p handshake and frame cipher: see p2p_handshake.h and docs/P2P.md. */
#include "node/p2p_handshake.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

#include "ledger/error.h"

static const uint8_t hello_magic[4] = {'E', 'S', 'G', 'P'};

esg_hash esg_p2p_transcript(const char *chain_id, size_t chain_len,
                            const uint8_t eph_initiator[32],
                            const uint8_t eph_responder[32], esg_p2p_role signer) {
    assert(chain_id && chain_len >= 1 && chain_len <= ESG_P2P_CHAIN_ID_MAX);
    assert(signer == ESG_P2P_INITIATOR || signer == ESG_P2P_RESPONDER);
    uint8_t head[2] = {ESG_P2P_VERSION, (uint8_t)chain_len};
    uint8_t role = (uint8_t)signer;
    esg_hasher h;
    esg_hasher_init(&h, ESG_TAG_P2P);
    esg_hasher_write(&h, head, sizeof head);
    esg_hasher_write(&h, chain_id, chain_len);
    esg_hasher_write(&h, eph_initiator, 32);
    esg_hasher_write(&h, eph_responder, 32);
    esg_hasher_write(&h, &role, 1);
    return esg_hasher_final(&h);
}

int esg_p2p_hs_init(esg_p2p_hs *hs, uint8_t hello[ESG_P2P_HELLO_LEN], esg_p2p_role role,
                    const char *chain_id, uint64_t limit) {
    assert(hs && hello && chain_id);
    assert(role == ESG_P2P_INITIATOR || role == ESG_P2P_RESPONDER);
    memset(hs, 0, sizeof *hs);
    size_t n = strlen(chain_id);
    if (n == 0 || n > ESG_P2P_CHAIN_ID_MAX)
        return ESG_ERR_INVALID_ARGUMENT;
    if (sodium_init() < 0 || crypto_kx_keypair(hs->eph_pk, hs->eph_sk) != 0)
        return ESG_ERR_INTERNAL;
    hs->role = role;
    hs->chain_len = (uint8_t)n;
    memcpy(hs->chain_id, chain_id, n);
    hs->tx.limit = hs->rx.limit = limit ? limit : UINT64_MAX;
    memcpy(hello, hello_magic, 4);
    hello[4] = ESG_P2P_VERSION;
    memcpy(hello + 5, hs->eph_pk, 32);
    return ESG_OK;
}

int esg_p2p_hs_read_hello(esg_p2p_hs *hs, const uint8_t hello[ESG_P2P_HELLO_LEN]) {
    assert(hs && hello && !hs->keyed && hs->chain_len > 0);
    if (memcmp(hello, hello_magic, 4) != 0 || hello[4] != ESG_P2P_VERSION)
        return ESG_ERR_DECODE;
    const uint8_t *peer = hello + 5;
    /* Our own key coming back is a reflection: refuse it before it can make
     * both directions share one key. */
    if (sodium_memcmp(peer, hs->eph_pk, 32) == 0)
        return ESG_ERR_BAD_PUBKEY;
    int rc;
    if (hs->role == ESG_P2P_INITIATOR)
        rc = crypto_kx_client_session_keys(hs->rx.key, hs->tx.key, hs->eph_pk, hs->eph_sk, peer);
    else
        rc = crypto_kx_server_session_keys(hs->rx.key, hs->tx.key, hs->eph_pk, hs->eph_sk, peer);
    sodium_memzero(hs->eph_sk, sizeof hs->eph_sk);
    if (rc != 0) {
        sodium_memzero(hs->rx.key, 32);
        sodium_memzero(hs->tx.key, 32);
        return ESG_ERR_BAD_PUBKEY;
    }
    memcpy(hs->peer_eph, peer, 32);
    const uint8_t *ei = hs->role == ESG_P2P_INITIATOR ? hs->eph_pk : peer;
    const uint8_t *er = hs->role == ESG_P2P_INITIATOR ? peer : hs->eph_pk;
    esg_p2p_role other = hs->role == ESG_P2P_INITIATOR ? ESG_P2P_RESPONDER : ESG_P2P_INITIATOR;
    hs->own_transcript = esg_p2p_transcript(hs->chain_id, hs->chain_len, ei, er, hs->role);
    hs->peer_transcript = esg_p2p_transcript(hs->chain_id, hs->chain_len, ei, er, other);
    hs->keyed = true;
    return ESG_OK;
}

int esg_p2p_hs_auth(const esg_p2p_hs *hs, uint8_t out[ESG_P2P_AUTH_LEN],
                    const esg_seckey *sk, const esg_pubkey *pk) {
    assert(hs && out && sk && pk && hs->keyed);
    memset(out, 0, ESG_P2P_AUTH_LEN);
    esg_sig sig;
    int rc = esg_sign(&sig, sk, &hs->own_transcript);
    if (rc != ESG_OK)
        return rc;
    memcpy(out, pk->b, 32);
    memcpy(out + 32, sig.b, 64);
    out[96] = hs->chain_len;
    memcpy(out + 97, hs->chain_id, hs->chain_len);
    return ESG_OK;
}

int esg_p2p_hs_check_auth(const esg_p2p_hs *hs, esg_pubkey *peer,
                          char peer_chain[ESG_P2P_CHAIN_ID_MAX + 1],
                          const uint8_t in[ESG_P2P_AUTH_LEN]) {
    assert(hs && peer && peer_chain && in && hs->keyed);
    peer_chain[0] = '\0';
    size_t n = in[96];
    if (n == 0 || n > ESG_P2P_CHAIN_ID_MAX)
        return ESG_ERR_DECODE;
    for (size_t i = 97 + n; i < ESG_P2P_AUTH_LEN; i++)
        if (in[i] != 0)
            return ESG_ERR_DECODE;
    memcpy(peer_chain, in + 97, n);
    peer_chain[n] = '\0';
    memcpy(peer->b, in, 32);
    if (esg_pubkey_check(peer) != ESG_OK)
        return ESG_ERR_BAD_PUBKEY;
    esg_sig sig;
    memcpy(sig.b, in + 32, 64);
    if (esg_verify(&sig, &hs->peer_transcript, peer))
        return ESG_OK;
    /* The chain id is inside the signed transcript; the copy in AUTH is
     * only believed for the diagnosis. */
    if (n != hs->chain_len || memcmp(in + 97, hs->chain_id, n) != 0)
        return ESG_ERR_CHAIN_ID;
    return ESG_ERR_BAD_SIGNATURE;
}

void esg_p2p_hs_wipe(esg_p2p_hs *hs) {
    assert(hs);
    sodium_memzero(hs, sizeof *hs);
}

static void nonce_of(uint8_t nonce[24], uint64_t ctr) {
    memset(nonce, 0, 16);
    for (int i = 0; i < 8; i++)
        nonce[16 + i] = (uint8_t)(ctr >> (56 - 8 * i));
}

int esg_p2p_cipher_seal(esg_p2p_cipher *c, uint8_t *out, const uint8_t *in, size_t len) {
    assert(c && out && (in || len == 0));
    if (len > UINT32_MAX - ESG_P2P_TAG_LEN)
        return ESG_ERR_TOO_LARGE;
    if (c->next >= c->limit)
        return ESG_ERR_OVERFLOW;
    uint32_t L = (uint32_t)(len + ESG_P2P_TAG_LEN);
    out[0] = (uint8_t)(L >> 24);
    out[1] = (uint8_t)(L >> 16);
    out[2] = (uint8_t)(L >> 8);
    out[3] = (uint8_t)L;
    uint8_t nonce[24];
    nonce_of(nonce, c->next);
    unsigned long long clen = 0;
    static const uint8_t empty[1] = {0};
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + 4, &clen, in ? in : empty, len, out, 4,
                                                   NULL, nonce, c->key) != 0)
        return ESG_ERR_INTERNAL;
    assert(clen == L);
    c->next++;
    return ESG_OK;
}

int esg_p2p_cipher_open(esg_p2p_cipher *c, uint8_t *buf, size_t ctlen,
                        const uint8_t prefix[ESG_P2P_PREFIX_LEN]) {
    assert(c && buf && prefix);
    if (ctlen < ESG_P2P_TAG_LEN)
        return ESG_ERR_DECODE;
    if (c->next >= c->limit)
        return ESG_ERR_OVERFLOW;
    uint8_t nonce[24];
    nonce_of(nonce, c->next);
    /* libsodium checks the tag before it decrypts, and decrypts with an
     * XOR stream, so the plaintext may overwrite the ciphertext. */
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            buf, NULL, buf, ctlen - ESG_P2P_TAG_LEN, buf + ctlen - ESG_P2P_TAG_LEN, prefix,
            ESG_P2P_PREFIX_LEN, nonce, c->key) != 0)
        return ESG_ERR_BAD_SIGNATURE;
    c->next++;
    return ESG_OK;
}
