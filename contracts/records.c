#include "contracts/records.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"

/* ------------------------------------------------------------ records */

int esg_rec_member_get(esg_state *st, const char *id, esg_pb_member **out) {
    *out = NULL;
    if (!esg_member_id_valid(id))
        return ESG_ERR_NOT_FOUND;
    return esg_state_get_msg(st, ESG_T_MEMBERS, id, strlen(id), ESG_PB_MEMBER_DESC,
                             (ProtobufCMessage **)out);
}

int esg_rec_member_put(esg_state *st, const esg_pb_member *m) {
    assert(esg_member_id_valid(m->id));
    return esg_state_put_msg(st, ESG_T_MEMBERS, m->id, strlen(m->id), &m->base);
}

int esg_rec_account_get(esg_state *st, const esg_pubkey *pk, esg_pb_account **out) {
    *out = NULL;
    return esg_exec_account_get(st, pk, out);
}

int esg_rec_account_put(esg_state *st, const esg_pb_account *a) {
    assert(a->pubkey.len == 32);
    return esg_state_put_msg(st, ESG_T_ACCOUNTS, a->pubkey.data, 32, &a->base);
}

int esg_rec_params_get(esg_state *st, esg_pb_params **out) {
    *out = NULL;
    int rc = esg_state_get_msg(st, ESG_T_PARAMS, NULL, 0, ESG_PB_PARAMS_DESC,
                               (ProtobufCMessage **)out);
    return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
}

int esg_rec_kpi_get(esg_state *st, const char *id, esg_pb_kpi **out) {
    *out = NULL;
    if (!esg_kpi_id_valid(id))
        return ESG_ERR_NOT_FOUND;
    return esg_state_get_msg(st, ESG_T_KPIS, id, strlen(id), ESG_PB_KPI_DESC,
                             (ProtobufCMessage **)out);
}

bool esg_rec_account_has_role(const esg_pb_account *a, int role) {
    for (size_t i = 0; i < a->n_roles; i++)
        if ((int)a->roles[i] == role)
            return true;
    return false;
}

int esg_rec_collect_tail32(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                           void *arg) {
    (void)val; (void)vlen;
    esg_rec_tail32 *l = arg;
    if (klen < 33)
        return ESG_ERR_STORE_CORRUPT;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        esg_hash *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return ESG_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    memcpy(l->v[l->n++].b, key + klen - 32, 32);
    return 0;
}

int esg_rec_member_count_accounts(esg_state *st, const char *member, int role,
                                  size_t *n) {
    *n = 0;
    uint8_t prefix[64];
    size_t mlen = strlen(member);
    if (mlen + 1 > sizeof prefix)
        return ESG_OK; /* no valid member id is that long: no accounts */
    memcpy(prefix, member, mlen);
    prefix[mlen] = 0;
    /* The accounts are read after the iteration (key: member ‖ 0 ‖ pubkey). */
    esg_rec_tail32 keys = {0};
    int rc = esg_state_iter(st, ESG_T_MEMBER_ACCOUNTS, prefix, mlen + 1,
                            esg_rec_collect_tail32, &keys);
    for (size_t i = 0; rc == 0 && i < keys.n; i++) {
        esg_pb_account *a;
        esg_pubkey pk;
        memcpy(pk.b, keys.v[i].b, 32);
        rc = esg_rec_account_get(st, &pk, &a);
        if (rc == ESG_ERR_NOT_FOUND)
            rc = ESG_ERR_STORE_CORRUPT; /* an index row without its account */
        if (rc)
            break;
        if (!a->revoked && strcmp(a->member, member) == 0 &&
            (role == ESG_ROLE_UNSPECIFIED || esg_rec_account_has_role(a, role)))
            (*n)++;
        esg_pb_free(a);
    }
    free(keys.v);
    return rc;
}

typedef struct member_each_arg {
    int (*fn)(const esg_pb_member *, void *);
    void *arg;
} member_each_arg;

static int member_each_cb(const uint8_t *key, size_t klen, const uint8_t *val,
                          size_t vlen, void *arg) {
    (void)key; (void)klen;
    member_each_arg *a = arg;
    esg_pb_member *m;
    if (esg_pb_decode(ESG_PB_MEMBER_DESC, val, vlen, SIZE_MAX, (ProtobufCMessage **)&m))
        return ESG_ERR_STORE_CORRUPT;
    int rc = a->fn(m, a->arg);
    esg_pb_free(m);
    return rc;
}

int esg_rec_member_each(esg_state *st,
                        int (*fn)(const esg_pb_member *member, void *arg),
                        void *arg) {
    member_each_arg a = {fn, arg};
    return esg_state_iter(st, ESG_T_MEMBERS, NULL, 0, member_each_cb, &a);
}

/* ---------------------------------------------------- signer checks */

static const char *role_name(int role) {
    return role == ESG_ROLE_ADMIN ? "ADMIN" : role == ESG_ROLE_OFFICER ? "OFFICER" : "UNKNOWN";
}

int esg_rec_require_role(esg_tx_ctx *ctx, int role) {
    if (esg_rec_account_has_role(ctx->signer, role))
        return ESG_OK;
    return esg_tx_fail(ctx, ESG_ERR_UNAUTHORIZED, "account '%s' of '%s' lacks role %s",
                       esg_pubkey_hex(&ctx->signer_pk).s, ctx->signer->member,
                       role_name(role));
}

int esg_rec_signer_member(esg_tx_ctx *ctx, esg_pb_member **out) {
    int rc = esg_rec_member_get(ctx->st, ctx->signer->member, out);
    return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
}

int esg_rec_require_kind(esg_tx_ctx *ctx, int kind, esg_pb_member **out) {
    esg_pb_member *m;
    if (out)
        *out = NULL;
    int rc = esg_rec_signer_member(ctx, &m);
    if (rc)
        return rc;
    if ((int)m->kind != kind) {
        rc = esg_tx_fail(ctx, ESG_ERR_UNAUTHORIZED, "member '%s' is a%s %s, not a %s",
                         m->id, m->kind == ESG_MEMBER_INVESTOR || m->kind == ESG_MEMBER_AUDITOR
                                    ? "n" : "",
                         esg_member_kind_name(m->kind), esg_member_kind_name(kind));
        esg_pb_free(m);
        return rc;
    }
    if (out)
        *out = m;
    else
        esg_pb_free(m);
    return ESG_OK;
}

int esg_rec_require_member(esg_tx_ctx *ctx, const char *id, const char *what,
                           esg_pb_member **out) {
    if (out)
        *out = NULL;
    if (!esg_member_id_valid(id))
        return esg_tx_fail(ctx, ESG_ERR_BAD_MEMBER_ID, "%s id '%s' must match [a-z0-9-]{2,40}",
                           what, esg_rec_quote(id).s);
    esg_pb_member *m;
    int rc = esg_rec_member_get(ctx->st, id, &m);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_MEMBER, "no member '%s' (%s)", id, what);
    if (rc)
        return rc;
    if (out)
        *out = m;
    else
        esg_pb_free(m);
    return ESG_OK;
}

/* ------------------------------------------------------ string sets */

void esg_strset_init(esg_strset *s) {
    s->v = NULL;
    s->n = s->cap = 0;
}

void esg_strset_release(esg_strset *s) {
    free(s->v);
    esg_strset_init(s);
}

/* Position of the first element >= x (binary search). */
static size_t strset_lower(const esg_strset *s, const char *x) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->v[mid], x) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool esg_strset_has(const esg_strset *s, const char *x) {
    size_t i = strset_lower(s, x);
    return i < s->n && strcmp(s->v[i], x) == 0;
}

int esg_strset_add(esg_strset *s, const char *x) {
    size_t i = strset_lower(s, x);
    if (i < s->n && strcmp(s->v[i], x) == 0)
        return ESG_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return ESG_ERR_NOMEM;
        s->v = v;
        s->cap = cap;
    }
    memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof *s->v);
    s->v[i] = (char *)(uintptr_t)x;
    s->n++;
    return ESG_OK;
}

int esg_strset_add_all(esg_strset *s, char *const *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int rc = esg_strset_add(s, items[i]);
        if (rc)
            return rc;
    }
    return ESG_OK;
}

bool esg_strset_remove(esg_strset *s, const char *x) {
    size_t i = strset_lower(s, x);
    if (i == s->n || strcmp(s->v[i], x) != 0)
        return false;
    memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof *s->v);
    s->n--;
    return true;
}

bool esg_str_in(const char *x, char *const *items, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i], x) == 0)
            return true;
    return false;
}

/* -------------------------------------------------------- text, errors */

esg_quoted esg_rec_quote(const char *s) {
    esg_quoted q;
    size_t i = 0;
    const size_t max = 40;
    for (; s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        q.s[i] = c >= 0x20 && c < 0x7f && c != '\'' ? (char)c : '?';
    }
    if (s[i]) {
        memcpy(q.s + i, "...", 3);
        i += 3;
    }
    q.s[i] = '\0';
    return q;
}

bool esg_rec_text_valid(const char *s, size_t max_chars) {
    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    while (*p) {
        uint32_t cp;
        size_t len;
        if (p[0] < 0x80) {
            cp = p[0];
            len = 1;
        } else if ((p[0] & 0xe0) == 0xc0) {
            cp = p[0] & 0x1f;
            len = 2;
        } else if ((p[0] & 0xf0) == 0xe0) {
            cp = p[0] & 0x0f;
            len = 3;
        } else if ((p[0] & 0xf8) == 0xf0) {
            cp = p[0] & 0x07;
            len = 4;
        } else {
            return false;
        }
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return false;
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return false;
        if (++chars > max_chars)
            return false;
        p += len;
    }
    return chars >= 1;
}

bool esg_rec_is_fatal(int err) {
    return err == ESG_ERR_STORE || err == ESG_ERR_STORE_CORRUPT ||
           err == ESG_ERR_MAP_FULL || err == ESG_ERR_NOMEM || err == ESG_ERR_INTERNAL ||
           err == ESG_ERR_IO;
}

uint8_t *esg_rec_be64(uint8_t out[8], uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
    return out;
}

int esg_rec_msgs_push(esg_rec_msgs *a, void *m) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        void **v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            esg_pb_free(m);
            return ESG_ERR_NOMEM;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = m;
    return 0;
}

void esg_rec_msgs_free(esg_rec_msgs *a) {
    for (size_t i = 0; i < a->n; i++)
        esg_pb_free(a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

typedef struct rows_acc {
    const ProtobufCMessageDescriptor *desc;
    esg_rec_msgs rows;
} rows_acc;

static int collect_row(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                       void *arg) {
    (void)key;
    (void)klen;
    rows_acc *acc = arg;
    ProtobufCMessage *m = NULL;
    if (esg_pb_decode(acc->desc, val, vlen, SIZE_MAX, &m))
        return ESG_ERR_STORE_CORRUPT;
    return esg_rec_msgs_push(&acc->rows, m);
}

int esg_rec_load_rows(esg_state *st, esg_table t, const void *prefix, size_t plen,
                      const ProtobufCMessageDescriptor *desc, esg_rec_msgs *out) {
    rows_acc acc = {desc, {0}};
    int rc = esg_state_iter(st, t, prefix, plen, collect_row, &acc);
    if (rc)
        esg_rec_msgs_free(&acc.rows);
    *out = acc.rows;
    return rc;
}
