/* JSON to protobuf by descriptor (wallet/pbjson_in.h). */
#include "wallet/pbjson_in.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/pbjson.h"
#include "wallet/jreader.h"

/* ------------------------------------------------------------- scalars */

/* A uint64 from a decimal string or a non-negative JSON integer, at most
 * `max`. */
static int read_u64(esgw_jreader *c, const json_t *v, uint64_t max, uint64_t *out) {
    uint64_t x = 0;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return esgw_jr_fail(c, ESG_ERR_OVERFLOW, "%" JSON_INTEGER_FORMAT " is negative", i);
        x = (uint64_t)i;
    } else if (json_is_string(v)) {
        int rc = esg_u64_parse(json_string_value(v), &x);
        if (rc == ESG_ERR_OVERFLOW)
            return esgw_jr_fail(c, ESG_ERR_OVERFLOW, "'%s' exceeds 2^64-1", json_string_value(v));
        if (rc)
            return esgw_jr_fail(c, ESG_ERR_JSON, "'%s' is not a non-negative decimal integer",
                                json_string_value(v));
    } else {
        return esgw_jr_fail(c, ESG_ERR_JSON, "expected an integer or a decimal string, got %s",
                            esgw_jr_kind(v));
    }
    if (x > max)
        return esgw_jr_fail(c, ESG_ERR_OVERFLOW, "%" PRIu64 " exceeds %" PRIu64, x, max);
    *out = x;
    return 0;
}

/* An int64 from a decimal string ("-5") or a JSON integer, in [min, max]. */
static int read_i64(esgw_jreader *c, const json_t *v, int64_t min, int64_t max, int64_t *out) {
    int64_t x = 0;
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
            return esgw_jr_fail(c, ESG_ERR_OVERFLOW, "'%s' is out of the 64-bit range", s);
        if (rc)
            return esgw_jr_fail(c, ESG_ERR_JSON, "'%s' is not a decimal integer", s);
        x = neg ? (m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m) : (int64_t)m;
    } else {
        return esgw_jr_fail(c, ESG_ERR_JSON, "expected an integer or a decimal string, got %s",
                            esgw_jr_kind(v));
    }
    if (x < min || x > max)
        return esgw_jr_fail(c, ESG_ERR_OVERFLOW,
                            "%" PRId64 " is out of range %" PRId64 "..%" PRId64, x, min, max);
    *out = x;
    return 0;
}

/* A 32-bit integer: a JSON integer only, as the renderer writes them. */
static int read_i32ish(esgw_jreader *c, const json_t *v, int64_t min, int64_t max, int64_t *out) {
    if (!json_is_integer(v))
        return esgw_jr_fail(c, ESG_ERR_JSON, "expected an integer, got %s", esgw_jr_kind(v));
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return esgw_jr_fail(c, ESG_ERR_OVERFLOW,
                            "%" JSON_INTEGER_FORMAT " is out of range %" PRId64 "..%" PRId64, i,
                            min, max);
    *out = (int64_t)i;
    return 0;
}

static int read_bytes(esgw_jreader *c, const json_t *v, ProtobufCBinaryData *out) {
    if (!json_is_string(v))
        return esgw_jr_fail(c, ESG_ERR_JSON, "expected a hex string, got %s", esgw_jr_kind(v));
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n % 2 != 0 || strlen(s) != n)
        return esgw_jr_fail(c, ESG_ERR_HEX, "'%.80s' is not hex (an even number of hex digits)", s);
    out->len = n / 2;
    out->data = NULL;
    if (n == 0)
        return 0;
    if (!(out->data = esgw_jr_alloc(c, n / 2)))
        return esgw_jr_nomem(c);
    if (esg_hex_decode(out->data, n / 2, s) != 0)
        return esgw_jr_fail(c, ESG_ERR_HEX, "'%.80s' is not hex", s);
    return 0;
}

static int read_enum(esgw_jreader *c, const ProtobufCEnumDescriptor *ed, const json_t *v,
                     int *out) {
    if (json_is_integer(v)) {
        int64_t x = 0;
        int rc = read_i32ish(c, v, INT32_MIN, INT32_MAX, &x);
        if (rc == 0)
            *out = (int)x;
        return rc;
    }
    if (!json_is_string(v))
        return esgw_jr_fail(c, ESG_ERR_JSON, "expected a %s name, got %s", ed->short_name,
                            esgw_jr_kind(v));
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
        return esgw_jr_fail(c, ESG_ERR_JSON, "unknown %s '%.64s' (one of %s)", ed->short_name,
                            json_string_value(v), names);
    }
    return 0;
}

static int read_message(esgw_jreader *c, const ProtobufCMessageDescriptor *d, const json_t *j,
                        ProtobufCMessage **out);

/* Reads one value of field f into the slot at p. */
static int read_value(esgw_jreader *c, const ProtobufCFieldDescriptor *f, const json_t *v,
                      void *p) {
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
            return esgw_jr_fail(c, ESG_ERR_JSON, "expected a number, got %s", esgw_jr_kind(v));
        if (f->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)p = (float)json_number_value(v);
        else
            *(double *)p = json_number_value(v);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return esgw_jr_fail(c, ESG_ERR_JSON, "expected true or false, got %s", esgw_jr_kind(v));
        *(protobuf_c_boolean *)p = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        int e;
        if ((rc = read_enum(c, f->descriptor, v, &e)) == 0)
            *(int *)p = e;
        return rc;
    }
    case PROTOBUF_C_TYPE_STRING:
        return esgw_jr_string(c, v, (char **)p);
    case PROTOBUF_C_TYPE_BYTES:
        return read_bytes(c, v, p);
    case PROTOBUF_C_TYPE_MESSAGE:
        if (json_is_null(v)) {
            *(ProtobufCMessage **)p = NULL;
            return 0;
        }
        return read_message(c, f->descriptor, v, (ProtobufCMessage **)p);
    }
    return esgw_jr_fail(c, ESG_ERR_JSON, "field type %d is not supported", (int)f->type);
}

static int read_repeated(esgw_jreader *c, const ProtobufCFieldDescriptor *f, const json_t *v,
                         uint8_t *base) {
    if (!json_is_array(v))
        return esgw_jr_fail(c, ESG_ERR_JSON, "expected an array, got %s", esgw_jr_kind(v));
    size_t n = json_array_size(v), sz = esg_pb_elem_size(f->type);
    uint8_t *arr = NULL;
    if (n > 0 && !(arr = esgw_jr_alloc(c, n * sz)))
        return esgw_jr_nomem(c);
    for (size_t i = 0; i < n; i++) {
        size_t old = esgw_jr_push_index(c, i);
        json_t *e = json_array_get(v, i);
        int rc;
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && json_is_null(e))
            rc = esgw_jr_fail(c, ESG_ERR_JSON,
                              "an element of a repeated message must be an object");
        else
            rc = read_value(c, f, e, arr + i * sz);
        if (rc)
            return rc;
        esgw_jr_pop(c, old);
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

static int read_message(esgw_jreader *c, const ProtobufCMessageDescriptor *d, const json_t *j,
                        ProtobufCMessage **out) {
    if (!json_is_object(j))
        return esgw_jr_fail(c, ESG_ERR_JSON, "expected an object (%s), got %s", d->short_name,
                            esgw_jr_kind(j));
    uint8_t *base = esgw_jr_alloc(c, d->sizeof_message);
    if (!base)
        return esgw_jr_nomem(c);
    protobuf_c_message_init(d, base);
    bool type_is_field = protobuf_c_message_descriptor_get_field_by_name(d, "type") != NULL;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        if (!type_is_field && strcmp(key, "type") == 0)
            continue; /* checked below, once the oneof members are read */
        size_t old = esgw_jr_push_key(c, key);
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
        if (!f)
            return esgw_jr_fail(c, ESG_ERR_JSON, "unknown field (a %s has no field '%s')",
                                d->short_name, key);
        int rc;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            rc = read_repeated(c, f, v, base);
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            const ProtobufCFieldDescriptor *other = oneof_set(d, base, f);
            if (other)
                return esgw_jr_fail(c, ESG_ERR_JSON,
                                    "'%s' and '%s' are members of one oneof: give one",
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
        esgw_jr_pop(c, old);
    }
    json_t *type = type_is_field ? NULL : json_object_get(j, "type");
    if (type) {
        size_t old = esgw_jr_push_key(c, "type");
        if (!json_is_string(type))
            return esgw_jr_fail(c, ESG_ERR_JSON, "expected a message name, got %s",
                                esgw_jr_kind(type));
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
            return esgw_jr_fail(c, ESG_ERR_JSON, "unknown field (a %s has no field 'type')",
                                d->short_name);
        if (!matched) {
            /* Name the member "type" asks for, to say what is missing. */
            for (unsigned i = 0; i < d->n_fields; i++) {
                const ProtobufCFieldDescriptor *f = &d->fields[i];
                if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                    strcmp(((const ProtobufCMessageDescriptor *)f->descriptor)->short_name, want) == 0)
                    return esgw_jr_fail(c, ESG_ERR_JSON,
                                        "'%s' needs the field '%s' (and no other member "
                                        "of its oneof)",
                                        want, f->name);
            }
            return esgw_jr_fail(c, ESG_ERR_JSON, "'%.64s' is not a message of a oneof of %s", want,
                                d->short_name);
        }
        esgw_jr_pop(c, old);
    }
    *out = (ProtobufCMessage *)base;
    return 0;
}

/* A reader for one conversion, with `path` (may be NULL) as its root. */
static void conv_init(esgw_jreader *c, const char *path, esgw_alloc_fn alloc, void *ctx,
                      char *err, size_t errlen) {
    esgw_jr_init(c, alloc, ctx, err, errlen, ESGW_JR_PATH_MAX, ESGW_JR_MSG_MAX);
    if (path && *path)
        esgw_jr_push_key(c, path);
}

int esgw_json_to_pb(ProtobufCMessage **out, const ProtobufCMessageDescriptor *desc,
                    const json_t *j, const char *path, esgw_alloc_fn alloc, void *ctx,
                    char *err, size_t errlen) {
    assert(out && desc && j && alloc);
    esgw_jreader c;
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
    esgw_jreader c;
    conv_init(&c, NULL, alloc, ctx, err, errlen);
    if (!json_is_object(action))
        return esgw_jr_fail(&c, ESG_ERR_JSON, "an action must be a JSON object, got %s",
                            esgw_jr_kind(action));
    json_t *type = json_object_get(action, "type");
    if (!json_is_string(type))
        return esgw_jr_fail(&c, ESG_ERR_JSON, "an action needs \"type\", the action's name "
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
        return esgw_jr_fail(&c, ESG_ERR_JSON, "type: unknown action '%.64s' (one of %s)",
                            json_string_value(type), names);
    }
    const ProtobufCMessageDescriptor *md = f->descriptor;
    /* "type" is the envelope's; the fields are the action message's own
     * (unless that message has a field called "type"). */
    json_t *fields = json_copy((json_t *)action);
    if (!fields)
        return esgw_jr_nomem(&c);
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
