/* Fuzz target: the files the wallet reads from its user. The first input
 * byte picks the reader, the rest is the file:
 *   0  an instrument spec (wallet/spec.c, `instrument issue --spec`),
 *   1  an action document (wallet/pbjson_in.c and jreader.c, `tx build
 *      --action`), built into a TxBody and signed as the wallet does,
 *   2  a transaction file (`tx sign FILE`: esg_tx_decode, then
 *      esg_txb_add_sig with a test key).
 * Asserts: nothing crashes or leaks; a spec that parses writes back out
 * (esgw_spec_to_json) as JSON that parses to the same canonical encoding;
 * a built body encodes; a signed transaction decodes with one signature
 * more, unless the key had signed already. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/txbuild.h"
#include "wallet/pbjson_in.h"
#include "wallet/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The arena the readers allocate from: every block is freed per input. */
typedef struct block {
    struct block *next;
    max_align_t data[];
} block;

static void *arena_alloc(void *ctx, size_t size) {
    block **head = ctx;
    block *b = calloc(1, sizeof *b + size);
    if (!b)
        return NULL;
    b->next = *head;
    *head = b;
    return b->data;
}

static void arena_free(block **head) {
    while (*head) {
        block *next = (*head)->next;
        free(*head);
        *head = next;
    }
}

static void encode_or_abort(const ProtobufCMessage *m, uint8_t **out, size_t *len) {
    if (esg_pb_encode(m, out, len) != 0)
        abort();
}

static void fuzz_spec(const uint8_t *data, size_t size, block **arena) {
    esg_pb_instrument_spec *spec, *again;
    char err[512];
    if (esgw_spec_parse(&spec, (const char *)data, size, arena_alloc, arena, err,
                        sizeof err) != 0)
        return;
    (void)esgw_spec_check(spec, err, sizeof err);
    json_t *j = esgw_spec_to_json(spec);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        abort();
    if (esgw_spec_parse(&again, text, strlen(text), arena_alloc, arena, err, sizeof err) != 0)
        abort(); /* what the wallet writes, it reads */
    free(text);
    uint8_t *a, *b;
    size_t alen, blen;
    encode_or_abort(&spec->base, &a, &alen);
    encode_or_abort(&again->base, &b, &blen);
    if (alen != blen || memcmp(a, b, alen) != 0)
        abort();
    free(a);
    free(b);
}

static const esg_seckey *test_key(void) {
    static esg_seckey sk;
    memset(sk.b, 0x22, sizeof sk.b);
    return &sk;
}

static void fuzz_action(const uint8_t *data, size_t size, block **arena) {
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!j)
        return;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    char err[512];
    int rc = esgw_json_to_action(&body, j, arena_alloc, arena, err, sizeof err);
    json_decref(j);
    if (rc != 0)
        return;
    body.chain_id = "esg-fuzz-1";
    body.nonce = 1;
    uint8_t *raw;
    size_t len;
    if (esg_txb_sign_body(&raw, &len, &body, test_key(), 1) != 0)
        abort();
    esg_tx *tx;
    if (esg_tx_decode(&tx, raw, len) == 0) /* may refuse, e.g. bad UTF-8 */
        esg_tx_free(tx);
    free(raw);
}

static void fuzz_tx_file(const uint8_t *data, size_t size) {
    esg_tx *tx;
    if (esg_tx_decode(&tx, data, size) != 0)
        return;
    size_t n = esg_tx_n_sigs(tx);
    esg_tx_free(tx);
    uint8_t *raw;
    size_t len;
    int rc = esg_txb_add_sig(&raw, &len, data, size, test_key(), NULL);
    if (rc == ESG_ERR_DUPLICATE_SIGNATURE)
        return;
    if (rc != 0)
        abort();
    esg_tx *signed_tx;
    rc = esg_tx_decode(&signed_tx, raw, len);
    free(raw);
    /* One signature more -- or a tx now over the size or signature limit. */
    if (rc == 0) {
        if (esg_tx_n_sigs(signed_tx) != n + 1)
            abort();
        esg_tx_free(signed_tx);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    block *arena = NULL;
    switch (data[0] % 3) {
    case 0: fuzz_spec(data + 1, size - 1, &arena); break;
    case 1: fuzz_action(data + 1, size - 1, &arena); break;
    default: fuzz_tx_file(data + 1, size - 1); break;
    }
    arena_free(&arena);
    return 0;
}
