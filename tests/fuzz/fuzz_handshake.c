/* Fuzz target: the p2p handshake and frame cipher as a responder meets
 * them (node/p2p_handshake.c). The input is a peer's HELLO (37 bytes),
 * its AUTH plaintext (161 bytes), then frames (4-byte length prefix and
 * ciphertext). The responder's ephemeral key is fixed, so runs are
 * deterministic (and a seed can hold an AUTH that verifies). Asserts:
 * nothing crashes or leaks; an AUTH accepted names a valid key; the
 * claimed chain id is NUL-terminated; a frame either opens and advances
 * the counter or is refused and leaves it; bytes sealed with the session
 * key open to exactly themselves, and not at all once a byte changed. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "node/p2p_handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seals `len` bytes with a copy of `c` and opens them with another copy:
 * the round trip must be exact, and a changed byte must be refused. */
static void check_seal(const esg_p2p_cipher *c, const uint8_t *in, size_t len) {
    esg_p2p_cipher s = *c, o = *c;
    uint8_t *frame = malloc(ESG_P2P_FRAME_OVERHEAD + len);
    if (!frame)
        abort();
    if (esg_p2p_cipher_seal(&s, frame, in, len) != 0)
        abort();
    uint8_t *ct = frame + ESG_P2P_PREFIX_LEN;
    size_t ctlen = len + ESG_P2P_TAG_LEN;
    if (esg_p2p_be32(frame) != ctlen)
        abort();
    if (len > 0) {
        esg_p2p_cipher t = *c;
        uint8_t *bad = malloc(ctlen);
        if (!bad)
            abort();
        memcpy(bad, ct, ctlen);
        bad[in[0] % ctlen] ^= 1;
        if (esg_p2p_cipher_open(&t, bad, ctlen, frame) != ESG_ERR_BAD_SIGNATURE || t.next != c->next)
            abort();
        free(bad);
    }
    if (esg_p2p_cipher_open(&o, ct, ctlen, frame) != 0 || memcmp(ct, in, len) != 0 ||
        o.next != c->next + 1)
        abort();
    free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < ESG_P2P_HELLO_LEN)
        return 0;
    esg_p2p_hs hs;
    uint8_t hello[ESG_P2P_HELLO_LEN];
    if (esg_p2p_hs_init(&hs, hello, ESG_P2P_RESPONDER, "esg-fuzz-1", 0) != 0)
        abort();
    memset(hs.eph_sk, 0x33, sizeof hs.eph_sk);
    if (crypto_scalarmult_base(hs.eph_pk, hs.eph_sk) != 0)
        abort();
    if (esg_p2p_hs_read_hello(&hs, data) != 0) {
        esg_p2p_hs_wipe(&hs);
        return 0;
    }
    data += ESG_P2P_HELLO_LEN, size -= ESG_P2P_HELLO_LEN;
    if (size >= ESG_P2P_AUTH_LEN) {
        esg_pubkey peer;
        char chain[ESG_P2P_CHAIN_ID_MAX + 1];
        if (esg_p2p_hs_check_auth(&hs, &peer, chain, data) == 0 && esg_pubkey_check(&peer) != 0)
            abort();
        if (!memchr(chain, '\0', sizeof chain))
            abort();
        data += ESG_P2P_AUTH_LEN, size -= ESG_P2P_AUTH_LEN;
    }
    check_seal(&hs.tx, data, size);
    /* The rest as frames a peer sent. */
    while (size >= ESG_P2P_PREFIX_LEN) {
        uint32_t len = esg_p2p_be32(data);
        data += ESG_P2P_PREFIX_LEN, size -= ESG_P2P_PREFIX_LEN;
        if (len > size)
            break;
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            abort();
        memcpy(buf, data, len);
        uint64_t next = hs.rx.next;
        int rc = esg_p2p_cipher_open(&hs.rx, buf, len, data - ESG_P2P_PREFIX_LEN);
        if (rc == 0 ? hs.rx.next != next + 1
                    : (rc != ESG_ERR_DECODE && rc != ESG_ERR_BAD_SIGNATURE) || hs.rx.next != next)
            abort();
        free(buf);
        data += len, size -= len;
    }
    esg_p2p_hs_wipe(&hs);
    return 0;
}
