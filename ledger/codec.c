/* Canonical protobuf codec. Canonical means "what protobuf-c's packer
 * writes": decoding re-packs the message and compares, so the packer is the
 * single definition and the encoder and the decoder can never disagree. */
#include "ledger/codec.h"
#include "ledger/error.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

int esg_pb_bytes32(const esg_pb_bytes *b, esg_hash *out) {
    assert(b && out);
    if (b->len != 32)
        return ESG_ERR_INVALID_ARGUMENT;
    memcpy(out->b, b->data, 32);
    return ESG_OK;
}

int esg_pb_pubkey32(const esg_pb_bytes *b, esg_pubkey *out) {
    assert(b && out);
    if (b->len != 32)
        return ESG_ERR_INVALID_ARGUMENT;
    memcpy(out->b, b->data, 32);
    return ESG_OK;
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF -- the rules the proto3 runtimes of other languages apply. */
static bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the 2nd byte */
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return false;
        }
        if (n - i <= extra)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= extra; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += extra + 1;
    }
    return true;
}

/* ---------------------------------------------------- canonical decoding */

static int check_message(const ProtobufCMessage *m, bool *unknown);

/* One value of a string or message field; NULL is an absent message. */
static int check_value(const ProtobufCFieldDescriptor *f, const void *v,
                       bool *unknown) {
    if (!v)
        return ESG_OK;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return check_message(v, unknown);
    const char *s = v;
    return utf8_valid((const uint8_t *)s, strlen(s)) ? ESG_OK : ESG_ERR_DECODE;
}

/* Walks every message and string in the tree below `m` using the
 * descriptors, so it stays right when the schema grows. Returns
 * ESG_ERR_DECODE for a string that is not UTF-8 and sets *unknown when
 * any message holds unknown fields: a malformed string wins over an unknown
 * field whichever is met first, so the error does not depend on the walk
 * order. protobuf-c keeps unknown fields and packs them back, which is why
 * re-encoding alone cannot catch them. */
static int check_message(const ProtobufCMessage *m, bool *unknown) {
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    if (m->n_unknown_fields > 0)
        *unknown = true;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            void *const *arr = *(void *const *const *)(base + f->offset);
            for (size_t j = 0; j < n; j++) {
                int rc = check_value(f, arr[j], unknown);
                if (rc)
                    return rc;
            }
            continue;
        }
        /* Oneof members share one union slot: only the member the case
         * names may be read as a pointer. */
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        int rc = check_value(f, *(const void *const *)(base + f->offset), unknown);
        if (rc)
            return rc;
    }
    return ESG_OK;
}

/* The memory protobuf-c may take to unpack `len` bytes. A hostile
 * encoding -- thousands of empty submessages, two bytes each on the wire
 * and a whole struct each in memory -- would otherwise cost 40-50 times
 * its size; honest messages (keys, signatures, amounts, text) stay under
 * a few times theirs. The budget allocator makes unpack fail instead. */
typedef struct pb_budget {
    size_t used, limit;
    bool over;
} pb_budget;

static void *budget_alloc(void *data, size_t size) {
    pb_budget *b = data;
    if (size > b->limit - b->used) {
        b->over = true;
        return NULL;
    }
    b->used += size;
    return malloc(size);
}

/* Frees are not credited back: protobuf-c frees only when it gives up. */
static void budget_free(void *data, void *p) {
    (void)data;
    free(p);
}

static size_t budget_for(size_t len) {
    size_t cap = SIZE_MAX / 2;
    size_t k = len > (cap - ESG_PB_DECODE_BUDGET_BASE) / ESG_PB_DECODE_BUDGET_FACTOR
                   ? cap
                   : ESG_PB_DECODE_BUDGET_BASE + len * ESG_PB_DECODE_BUDGET_FACTOR;
    return k;
}

int esg_pb_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
                  size_t len, size_t max_len, ProtobufCMessage **out) {
    static const uint8_t empty[1];
    assert(desc && out);
    assert(buf || len == 0);
    *out = NULL;
    if (len > max_len)
        return ESG_ERR_TOO_LARGE;
    /* protobuf-c also returns NULL when malloc fails; that cannot be told
     * apart from bad bytes and is reported as ESG_ERR_DECODE. */
    if (!buf)
        buf = empty;
    /* The allocator's memory is plain malloc, so the message is freed
     * with the default allocator later (esg_pb_free). */
    pb_budget budget = {0, budget_for(len), false};
    ProtobufCAllocator alloc = {budget_alloc, budget_free, &budget};
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, &alloc, len, buf);
    if (!m)
        return budget.over ? ESG_ERR_TOO_LARGE : ESG_ERR_DECODE;
    bool unknown = false;
    int rc = check_message(m, &unknown);
    if (rc == ESG_OK && unknown)
        rc = ESG_ERR_UNKNOWN_FIELD;
    if (rc == ESG_OK) {
        size_t size = protobuf_c_message_get_packed_size(m);
        if (size != len) {
            rc = ESG_ERR_NON_CANONICAL;
        } else {
            /* Most messages (bodies, records) are small: pack them on the
             * stack rather than pay a malloc per decode. */
            uint8_t small[512];
            uint8_t *again = size <= sizeof small ? small : malloc(size);
            if (!again) {
                rc = ESG_ERR_NOMEM;
            } else {
                size_t packed = protobuf_c_message_pack(m, again);
                assert(packed == size);
                (void)packed;
                if (memcmp(again, buf, size) != 0)
                    rc = ESG_ERR_NON_CANONICAL;
                if (again != small)
                    free(again);
            }
        }
    }
    if (rc) {
        protobuf_c_message_free_unpacked(m, NULL);
        return rc;
    }
    *out = m;
    return ESG_OK;
}

int esg_pb_encode(const ProtobufCMessage *msg, uint8_t **out, size_t *out_len) {
    assert(msg && out && out_len);
    size_t size = protobuf_c_message_get_packed_size(msg);
    *out = malloc(size ? size : 1);
    if (!*out) {
        *out_len = 0;
        return ESG_ERR_NOMEM;
    }
    size_t packed = protobuf_c_message_pack(msg, *out);
    assert(packed == size);
    *out_len = packed;
    return ESG_OK;
}

void esg_pb_free(void *msg) {
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}

/* -------------------------------------------------------- transactions */

void esg_tx_free(esg_tx *tx) {
    if (!tx)
        return;
    esg_pb_free(tx->body);
    esg_pb_free(tx->env);
    free(tx->raw);
    free(tx);
}

/* The checks of esg_tx_decode() that need no allocation, on a decoded
 * envelope and body. */
static int tx_check(const esg_pb_tx *env, const esg_pb_tx_body *body) {
    if (body->action_case == ESG_ACTION_NONE)
        return ESG_ERR_NO_ACTION;
    if (body->signer.len != 32)
        return ESG_ERR_BAD_PUBKEY;
    if (env->n_sigs == 0)
        return ESG_ERR_MISSING_SIGNATURE;
    if (env->n_sigs > ESG_TX_MAX_SIGS)
        return ESG_ERR_TOO_LARGE;
    for (size_t i = 0; i < env->n_sigs; i++) {
        const esg_pb_signature *s = env->sigs[i];
        if (s->pubkey.len != 32 || s->sig.len != 64)
            return ESG_ERR_BAD_SIGNATURE;
    }
    /* At most 64 signatures: the quadratic scan is cheaper than sorting. */
    for (size_t i = 1; i < env->n_sigs; i++)
        for (size_t j = 0; j < i; j++)
            if (memcmp(env->sigs[i]->pubkey.data, env->sigs[j]->pubkey.data, 32) == 0)
                return ESG_ERR_DUPLICATE_SIGNATURE;
    return ESG_OK;
}

int esg_tx_decode(esg_tx **out, const uint8_t *buf, size_t len) {
    assert(out);
    assert(buf || len == 0);
    *out = NULL;
    esg_tx *tx = calloc(1, sizeof *tx);
    if (!tx)
        return ESG_ERR_NOMEM;
    int rc = esg_pb_tx_decode(&tx->env, buf, len, ESG_TX_MAX_BYTES);
    if (rc == ESG_OK)
        rc = esg_pb_tx_body_decode(&tx->body, tx->env->body.data,
                                   tx->env->body.len, ESG_TX_MAX_BYTES);
    if (rc == ESG_OK)
        rc = tx_check(tx->env, tx->body);
    if (rc == ESG_OK) {
        tx->raw = malloc(len);
        if (!tx->raw)
            rc = ESG_ERR_NOMEM;
    }
    if (rc) {
        esg_tx_free(tx);
        return rc;
    }
    memcpy(tx->raw, buf, len);
    tx->raw_len = len;
    tx->id = esg_hash_tagged(ESG_TAG_TX, tx->env->body.data, tx->env->body.len);
    *out = tx;
    return ESG_OK;
}

int esg_tx_encode_body(const esg_pb_tx_body *body, uint8_t **out, size_t *len) {
    assert(body);
    return esg_pb_encode(&body->base, out, len);
}

int esg_tx_encode_envelope(const uint8_t *body, size_t body_len,
                           const esg_pubkey *pks, const esg_sig *sigs,
                           size_t n_sigs, uint8_t **out, size_t *out_len) {
    assert(body || body_len == 0);
    assert((pks && sigs) || n_sigs == 0);
    assert(out && out_len);
    *out = NULL;
    *out_len = 0;
    esg_pb_tx env = ESG_PB_TX_INIT;
    esg_pb_signature *s = calloc(n_sigs ? n_sigs : 1, sizeof *s);
    esg_pb_signature **ps = calloc(n_sigs ? n_sigs : 1, sizeof *ps);
    int rc = ESG_ERR_NOMEM;
    if (s && ps) {
        for (size_t i = 0; i < n_sigs; i++) {
            esg_pb_signature init = ESG_PB_SIGNATURE_INIT;
            s[i] = init;
            s[i].pubkey = esg_pb_bin(pks[i].b, sizeof pks[i].b);
            s[i].sig = esg_pb_bin(sigs[i].b, sizeof sigs[i].b);
            ps[i] = &s[i];
        }
        env.body = esg_pb_bin(body, body_len);
        env.n_sigs = n_sigs;
        env.sigs = ps;
        rc = esg_pb_tx_encode(&env, out, out_len);
    }
    free(ps);
    free(s);
    return rc;
}

size_t esg_tx_n_sigs(const esg_tx *tx) {
    assert(tx);
    return tx->env->n_sigs;
}

void esg_tx_sig_at(const esg_tx *tx, size_t i, esg_pubkey *pk, esg_sig *sig) {
    assert(tx && i < tx->env->n_sigs);
    const esg_pb_signature *s = tx->env->sigs[i];
    if (pk)
        memcpy(pk->b, s->pubkey.data, sizeof pk->b);
    if (sig)
        memcpy(sig->b, s->sig.data, sizeof sig->b);
}

esg_pubkey esg_tx_signer(const esg_tx *tx) {
    assert(tx);
    esg_pubkey pk;
    memcpy(pk.b, tx->body->signer.data, sizeof pk.b);
    return pk;
}

/* The name of a oneof member's message type, read from the descriptor so a
 * new action needs no edit here. */
static const char *oneof_message_name(const ProtobufCMessageDescriptor *d, int c) {
    if (c <= 0)
        return "none";
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(d, (unsigned)c);
    if (!f || !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
        f->type != PROTOBUF_C_TYPE_MESSAGE)
        return "none";
    return ((const ProtobufCMessageDescriptor *)f->descriptor)->short_name;
}

const char *esg_action_name(int action_case) {
    return oneof_message_name(ESG_PB_TX_BODY_DESC, action_case);
}

const char *esg_proposal_change_name(int change_case) {
    return oneof_message_name(ESG_PB_PROPOSAL_DESC, change_case);
}
