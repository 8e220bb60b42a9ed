/* SHA-256 through OpenSSL's EVP-free SHA256_* interface: it is the fastest
 * path in libcrypto for many small messages (no EVP_MD_CTX allocation),
 * and tagged hashes start from a midstate computed once per tag. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init & co: still the fast path */
#include "hash.h"
#include "error.h"

#include <assert.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>

_Static_assert(sizeof(SHA256_CTX) <= sizeof(((esg_hasher *)0)->opaque),
               "esg_hasher too small for SHA256_CTX");

static const char *const tag_names[ESG_TAG_COUNT_] = {
    [ESG_TAG_TX] = "esg/tx",
    [ESG_TAG_BLOCK] = "esg/block",
    [ESG_TAG_VOTE] = "esg/vote",
    [ESG_TAG_MERKLE_LEAF] = "esg/merkle/leaf",
    [ESG_TAG_MERKLE_NODE] = "esg/merkle/node",
    [ESG_TAG_STATE] = "esg/state",
    [ESG_TAG_STATE_KEY] = "esg/state/key",
    [ESG_TAG_P2P] = "esg/p2p",
    [ESG_TAG_GENESIS] = "esg/genesis",
    [ESG_TAG_PROPOSAL] = "esg/proposal",
    [ESG_TAG_EVIDENCE] = "esg/evidence",
};

static SHA256_CTX tag_midstate[ESG_TAG_COUNT_];
static pthread_once_t tag_once = PTHREAD_ONCE_INIT;

static void tag_midstates_init(void) {
    for (int t = 0; t < ESG_TAG_COUNT_; t++) {
        uint8_t th[32];
        SHA256((const uint8_t *)tag_names[t], strlen(tag_names[t]), th);
        SHA256_Init(&tag_midstate[t]);
        SHA256_Update(&tag_midstate[t], th, 32);
        SHA256_Update(&tag_midstate[t], th, 32);
    }
}

const char *esg_tag_name(esg_tag tag) {
    assert(tag >= 0 && tag < ESG_TAG_COUNT_);
    return tag_names[tag];
}

esg_hash esg_sha256(const void *data, size_t len) {
    esg_hash h;
    SHA256(len ? data : (const void *)"", len, h.b);
    return h;
}

void esg_hasher_init(esg_hasher *h, esg_tag tag) {
    assert(tag >= 0 && tag < ESG_TAG_COUNT_);
    pthread_once(&tag_once, tag_midstates_init);
    memcpy(h->opaque, &tag_midstate[tag], sizeof(SHA256_CTX));
}

void esg_hasher_write(esg_hasher *h, const void *data, size_t len) {
    if (len)
        SHA256_Update((SHA256_CTX *)(void *)h->opaque, data, len);
}

esg_hash esg_hasher_final(esg_hasher *h) {
    esg_hash out;
    SHA256_Final(out.b, (SHA256_CTX *)(void *)h->opaque);
    return out;
}

esg_hash esg_hash_tagged(esg_tag tag, const void *data, size_t len) {
    esg_hasher h;
    esg_hasher_init(&h, tag);
    esg_hasher_write(&h, data, len);
    return esg_hasher_final(&h);
}

esg_hash esg_hash_tagged2(esg_tag tag, const void *a, size_t alen,
                          const void *b, size_t blen) {
    esg_hasher h;
    esg_hasher_init(&h, tag);
    esg_hasher_write(&h, a, alen);
    esg_hasher_write(&h, b, blen);
    return esg_hasher_final(&h);
}

bool esg_hash_eq(const esg_hash *a, const esg_hash *b) {
    return memcmp(a->b, b->b, 32) == 0;
}

bool esg_hash_is_zero(const esg_hash *h) {
    static const uint8_t zero[32];
    return memcmp(h->b, zero, 32) == 0;
}

void esg_hex_encode(char *out, const void *data, size_t len) {
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int esg_hex_decode(void *out, size_t len, const char *hex) {
    uint8_t *p = out;
    if (!hex || strlen(hex) != 2 * len)
        return ESG_ERR_HEX;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ESG_ERR_HEX;
        p[i] = (uint8_t)(hi << 4 | lo);
    }
    return ESG_OK;
}

esg_hex32 esg_hash_hex(const esg_hash *h) {
    esg_hex32 x;
    esg_hex_encode(x.s, h->b, 32);
    return x;
}

esg_hex32 esg_pubkey_hex(const esg_pubkey *pk) {
    esg_hex32 x;
    esg_hex_encode(x.s, pk->b, 32);
    return x;
}

esg_hex32 esg_hex32_of(const uint8_t b[32]) {
    esg_hex32 x;
    esg_hex_encode(x.s, b, 32);
    return x;
}
