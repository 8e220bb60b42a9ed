/* JSON to protobuf by descriptor (wallet/pbjson_in.h). */
#include "wallet/pbjson_in.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/pbjson.h"

/* One conversion: the allocator, the error buffer and the path of the
 * value being read, which grows and shrinks as the walk descends. */
typedef struct conv {
    esgw_alloc_fn alloc;
    void *ctx;
    char *err;
    size_t errlen;
    char path[512];
    size_t plen;
} conv;

static int fail(conv *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(conv *c, int code, const char *fmt, ...) {
    if (c->err && c->errlen) {
        char msg[384];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (c->plen)
            snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
        else
            snprintf(c->err, c->errlen, "%s", msg);
    }
    return code;
}

static void *arena(conv *c, size_t size) {
    return c->alloc(c->ctx, size ? size : 1);
}

static int nomem(conv *c) {
    return fail(c, ESG_ERR_NOMEM, "out of memory");
}

/* Appends ".name" (or "name" at the top) to the path; returns the old
 * length to restore. A path too long to hold is cut, never overflowed. */
static size_t path_push_key(conv *c, const char *name) {
    size_t old = c->plen;
    int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "%s%s", c->plen ? "." : "",
                     name);
    if (n > 0)
        c->plen = c->plen + (size_t)n < sizeof c->path ? c->plen + (size_t)n : sizeof c->path - 1;
    return old;
}

static size_t path_push_index(conv *c, size_t i) {
    size_t old = c->plen;
    int n = snprintf(c->path + c->plen, sizeof c->path - c->plen, "[%zu]", i);
    if (n > 0)
        c->plen = c->plen + (size_t)n < sizeof c->path ? c->plen + (size_t)n : sizeof c->path - 1;
    return old;
}

static void path_pop(conv *c, size_t old) {
    c->plen = old;
    c->path[old] = '\0';
}

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

/* ------------------------------------------------------------- scalars */

/* A uint64 from a decimal string or a non-negative JSON integer, at most
 * `max`. */
static int read_u64(conv *c, const json_t *v, uint64_t max, uint64_t *out) {
    uint64_t x;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return fail(c, ESG_ERR_OVERFLOW, "%" JSON_INTEGER_FORMAT " is negative", i);
        x = (uint64_t)i;
    } else if (json_is_string(v)) {
        int rc = esg_u64_parse(json_string_value(v), &x);
        if (rc == ESG_ERR_OVERFLOW)
            return fail(c, ESG_ERR_OVERFLOW, "'%s' exceeds 2^64-1", json_string_value(v));
        if (rc)
            return fail(c, ESG_ERR_JSON, "'%s' is not a non-negative decimal integer",
                        json_string_value(v));
    } else {
        return fail(c, ESG_ERR_JSON, "expected an integer or a decimal string, got %s",
                    json_kind(v));
    }
    if (x > max)
        return fail(c, ESG_ERR_OVERFLOW, "%" PRIu64 " exceeds %" PRIu64, x, max);
    *out = x;
    return 0;
}

/* An int64 from a decimal string ("-5") or a JSON integer, in [min, max]. */
static int read_i64(conv *c, const json_t *v, int64_t min, int64_t max, int64_t *out) {
    int64_t x;
    if (json_is_integer(v)) {
        x = (int64_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        bool neg = s[0] == '-';
        uint64_t m;
        int rc = esg_u64_parse(s + neg, &m);
        if (rc == 0 && neg && m == 0)
            rc = ESG_ERR_BAD_DECIMAL; /* "-0" */
        if (rc == ESG_ERR_OVERFLOW || (rc == 0 && m > (uint64_t)INT64_MAX + neg))
            return fail(c, ESG_ERR_OVERFLOW, "'%s' is out of the 64-bit range", s);
        if (rc)
            return fail(c, ESG_ERR_JSON, "'%s' is not a decimal integer", s);
        x = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    } else {
        return fail(c, ESG_ERR_JSON, "expected an integer or a decimal string, got %s",
                    json_kind(v));
    }
    if (x < min || x > max)
        return fail(c, ESG_ERR_OVERFLOW, "%" PRId64 " is out of range %" PRId64 "..%" PRId64, x,
                    min, max);
    *out = x;
    return 0;
}

/* A 32-bit integer: a JSON integer only, as the renderer writes them. */
static int read_i32ish(conv *c, const json_t *v, int64_t min, int64_t max, int64_t *out) {
    if (!json_is_integer(v))
        return fail(c, ESG_ERR_JSON, "expected an integer, got %s", json_kind(v));
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return fail(c, ESG_ERR_OVERFLOW,
                    "%" JSON_INTEGER_FORMAT " is out of range %" PRId64 "..%" PRId64, i, min,
                    max);
    *out = (int64_t)i;
    return 0;
}

static int read_string(conv *c, const json_t *v, char **out) {
    if (!json_is_string(v))
        return fail(c, ESG_ERR_JSON, "expected a string, got %s", json_kind(v));
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n))
        return fail(c, ESG_ERR_JSON, "a string must not hold a NUL character");
    char *d = arena(c, n + 1);
    if (!d)
        return nomem(c);
    memcpy(d, s, n);
    d[n] = '\0';
    *out = d;
    return 0;
}

static int read_bytes(conv *c, const json_t *v, ProtobufCBinaryData *out) {
    if (!json_is_string(v))
        return fail(c, ESG_ERR_JSON, "expected a hex string, got %s", json_kind(v));
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n % 2 != 0 || strlen(s) != n)
        return fail(c, ESG_ERR_HEX, "'%.80s' is not hex (an even number of hex digits)", s);
    out->len = n / 2;
    out->data = NULL;
    if (n == 0)
        return 0;
    if (!(out->data = arena(c, n / 2)))
        return nomem(c);
    if (esg_hex_decode(out->data, n / 2, s) != 0)
        return fail(c, ESG_ERR_HEX, "'%.80s' is not hex", s);
    return 0;
}

static int read_enum(conv *c, const ProtobufCEnumDescriptor *ed, const json_t *v, int *out) {
    if (json_is_integer(v)) {
        int64_t x;
        int rc = read_i32ish(c, v, INT32_MIN, INT32_MAX, &x);
        if (rc == 0)
            *out = (int)x;
        return rc;
    }
    if (!json_is_string(v))
        return fail(c, ESG_ERR_JSON, "expected a %s name, got %s", ed->short_name,
                    json_kind(v));
    if (esg_pb_enum_parse(ed, json_string_value(v), out) != 0) {
        char names[256] = "";
        size_t len = 0;
        for (unsigned i = 0; i < ed->n_values && len + 2 < sizeof names; i++) {
            char sn[64];
            if (esg_pb_enum_short_name(ed, ed->values[i].value, sn, sizeof sn) != 0 ||
                strstr(sn, "UNSPECIFIED"))
                continue;
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", sn);
        }
        return fail(c, ESG_ERR_JSON, "unknown %s '%.64s' (one of %s)", ed->short_name,
                    json_string_value(v), names);
    }
    return 0;
}

/* Size of one element of a repeated field of type t (as laid out by
 * protobuf-c). */
static size_t elem_size(ProtobufCType t) {
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static int read_message(conv *c, const ProtobufCMessageDescriptor *d, const json_t *j,
                        ProtobufCMessage **out);

/* Reads one value of field f into the slot at p. */
static int read_value(conv *c, const ProtobufCFieldDescriptor *f, const json_t *v, void *p) {
    int rc = 0;
    int64_t s = 0;
    uint64_t u = 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if ((rc = read_i32ish(c, v, INT32_MIN, INT32_MAX, &s)) == 0)
            *(int32_t *)p = (int32_t)s;
        return rc;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if ((rc = read_i32ish(c, v, 0, UINT32_MAX, &s)) == 0)
            *(uint32_t *)p = (uint32_t)s;
        return rc;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if ((rc = read_i64(c, v, INT64_MIN, INT64_MAX, &s)) == 0)
            *(int64_t *)p = s;
        return rc;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if ((rc = read_u64(c, v, UINT64_MAX, &u)) == 0)
            *(uint64_t *)p = u;
        return rc;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!json_is_number(v))
            return fail(c, ESG_ERR_JSON, "expected a number, got %s", json_kind(v));
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)p = (float)json_number_value(v);
        else
            *(double *)p = json_number_value(v);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return fail(c, ESG_ERR_JSON, "expected true or false, got %s", json_kind(v));
        *(protobuf_c_boolean *)p = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        int e;
        if ((rc = read_enum(c, f->descriptor, v, &e)) == 0)
            *(int *)p = e;
        return rc;
    }
    case PROTOBUF_C_TYPE_STRING:
        return read_string(c, v, (char **)p);
    case PROTOBUF_C_TYPE_BYTES:
        return read_bytes(c, v, p);
    case PROTOBUF_C_TYPE_MESSAGE:
        if (json_is_null(v)) {
            *(ProtobufCMessage **)p = NULL;
            return 0;
        }
        return read_message(c, f->descriptor, v, (ProtobufCMessage **)p);
    }
    return fail(c, ESG_ERR_JSON, "field type %d is not supported", (int)f->type);
}

static int read_repeated(conv *c, const ProtobufCFieldDescriptor *f, const json_t *v,
                         uint8_t *base) {
    if (!json_is_array(v))
        return fail(c, ESG_ERR_JSON, "expected an array, got %s", json_kind(v));
    size_t n = json_array_size(v), sz = elem_size(f->type);
    uint8_t *arr = NULL;
    if (n > 0 && !(arr = arena(c, n * sz)))
        return nomem(c);
    for (size_t i = 0; i < n; i++) {
        size_t old = path_push_index(c, i);
        json_t *e = json_array_get(v, i);
        int rc;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && json_is_null(e))
            rc = fail(c, ESG_ERR_JSON, "an element of a repeated message must be an object");
        else
            rc = read_value(c, f, e, arr + i * sz);
        if (rc)
            return rc;
        path_pop(c, old);
    }
    *(size_t *)(base + f->quantifier_offset) = n;
    *(void **)(base + f->offset) = arr;
    return 0;
}

/* The member of a oneof that is set in message `base`, other than f, or
 * NULL. */
static const ProtobufCFieldDescriptor *oneof_set(const ProtobufCMessageDescriptor *d,
                                                 const uint8_t *base,
                                                 const ProtobufCFieldDescriptor *f) {
    uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
    if (which == 0)
        return NULL;
    return protobuf_c_message_descriptor_get_field(d, which);
}

static int read_message(conv *c, const ProtobufCMessageDescriptor *d, const json_t *j,
                        ProtobufCMessage **out) {
    if (!json_is_object(j))
        return fail(c, ESG_ERR_JSON, "expected an object (%s), got %s", d->short_name,
                    json_kind(j));
    uint8_t *base = arena(c, d->sizeof_message);
    if (!base)
        return nomem(c);
    protobuf_c_message_init(d, base);
    bool type_is_field = protobuf_c_message_descriptor_get_field_by_name(d, "type") != NULL;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        if (!type_is_field && strcmp(key, "type") == 0)
            continue; /* checked below, once the oneof members are read */
        size_t old = path_push_key(c, key);
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
        if (!f)
            return fail(c, ESG_ERR_JSON, "unknown field (a %s has no field '%s')", d->short_name,
                        key);
        int rc;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            rc = read_repeated(c, f, v, base);
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            const ProtobufCFieldDescriptor *other = oneof_set(d, base, f);
            if (other)
                return fail(c, ESG_ERR_JSON, "'%s' and '%s' are members of one oneof: give one",
                            other->name, f->name);
            if (json_is_null(v))
                goto next; /* an unset member */
            rc = read_value(c, f, v, base + f->offset);
            if (rc == 0)
                *(uint32_t *)(base + f->quantifier_offset) = f->id;
        } else {
            rc = read_value(c, f, v, base + f->offset);
            if (rc == 0 && f->label == PROTOBUF_C_LABEL_OPTIONAL &&
                f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
                *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
        }
        if (rc)
            return rc;
    next:
        path_pop(c, old);
    }
    json_t *type = type_is_field ? NULL : json_object_get(j, "type");
    if (type) {
        size_t old = path_push_key(c, "type");
        if (!json_is_string(type))
            return fail(c, ESG_ERR_JSON, "expected a message name, got %s", json_kind(type));
        const char *want = json_string_value(type);
        bool any_oneof = false, matched = false;
        for (unsigned i = 0; i < d->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &d->fields[i];
            if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE)
                continue;
            any_oneof = true;
            if (*(uint32_t *)(base + f->quantifier_offset) == f->id &&
                strcmp(((const ProtobufCMessageDescriptor *)f->descriptor)->short_name, want) == 0)
                matched = true;
        }
        if (!any_oneof)
            return fail(c, ESG_ERR_JSON, "unknown field (a %s has no field 'type')",
                        d->short_name);
        if (!matched) {
            /* Name the member "type" asks for, to say what is missing. */
            for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                    strcmp(((const ProtobufCMessageDescriptor *)f->descriptor)->short_name, want) == 0)
                    return fail(c, ESG_ERR_JSON, "'%s' needs the field '%s' (and no other member "
                                "of its oneof)", want, f->name);
            }
            return fail(c, ESG_ERR_JSON, "'%.64s' is not a message of a oneof of %s", want,
                        d->short_name);
        }
        path_pop(c, old);
    }
    *out = (ProtobufCMessage *)base;
    return 0;
}

static void conv_init(conv *c, const char *path, esgw_alloc_fn alloc, void *ctx, char *err,
                      size_t errlen) {
    memset(c, 0, sizeof *c);
    c->alloc = alloc;
    c->ctx = ctx;
    c->err = err;
    c->errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
    if (path && *path)
        path_push_key(c, path);
}

int esgw_json_to_pb(ProtobufCMessage **out, const ProtobufCMessageDescriptor *desc,
                    const json_t *j, const char *path, esgw_alloc_fn alloc, void *ctx,
                    char *err, size_t errlen) {
    assert(out && desc && j && alloc);
    conv c;
    conv_init(&c, path, alloc, ctx, err, errlen);
    *out = NULL;
    ProtobufCMessage *m = NULL;
    int rc = read_message(&c, desc, j, &m);
    if (rc == 0)
        *out = m;
    return rc;
}

int esgw_json_to_action(esg_pb_tx_body *body, const json_t *action, esgw_alloc_fn alloc,
                        void *ctx, char *err, size_t errlen) {
    assert(body && action && alloc);
    conv c;
    conv_init(&c, NULL, alloc, ctx, err, errlen);
    if (!json_is_object(action))
        return fail(&c, ESG_ERR_JSON, "an action must be a JSON object, got %s",
                    json_kind(action));
    json_t *type = json_object_get(action, "type");
    if (!json_is_string(type))
        return fail(&c, ESG_ERR_JSON, "an action needs \"type\", the action's name "
                    "(\"AddAccount\", \"IssueInstrument\", ...)");
    const ProtobufCMessageDescriptor *bd = ESG_PB_TX_BODY_DESC;
    const ProtobufCFieldDescriptor *f = NULL;
    for (unsigned i = 0; i < bd->n_fields && !f; i++) {
        const ProtobufCFieldDescriptor *g = &bd->fields[i];
        if ((g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && g->type == PROTOBUF_C_TYPE_MESSAGE &&
            strcmp(((const ProtobufCMessageDescriptor *)g->descriptor)->short_name,
                   json_string_value(type)) == 0)
            f = g;
    }
    if (!f) {
        char names[512] = "";
        size_t len = 0;
        for (unsigned i = 0; i < bd->n_fields && len + 2 < sizeof names; i++) {
            const ProtobufCFieldDescriptor *g = &bd->fields[i];
            if ((g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && g->type == PROTOBUF_C_TYPE_MESSAGE)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                        ((const ProtobufCMessageDescriptor *)g->descriptor)
                                            ->short_name);
        }
        return fail(&c, ESG_ERR_JSON, "type: unknown action '%.64s' (one of %s)",
                    json_string_value(type), names);
    }
    const ProtobufCMessageDescriptor *md = f->descriptor;
    /* "type" is the envelope's; the fields are the action message's own
     * (unless that message has a field called "type"). */
    json_t *fields = json_copy((json_t *)action);
    if (!fields)
        return nomem(&c);
    if (!protobuf_c_message_descriptor_get_field_by_name(md, "type"))
        json_object_del(fields, "type");
    ProtobufCMessage *m = NULL;
    int rc = read_message(&c, md, fields, &m);
    json_decref(fields);
    if (rc)
        return rc;
    uint8_t *base = (uint8_t *)body;
    *(uint32_t *)(base + f->quantifier_offset) = f->id;
    *(ProtobufCMessage **)(base + f->offset) = m;
    return 0;
}
