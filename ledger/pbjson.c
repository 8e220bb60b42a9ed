#include "ledger/pbjson.h"

#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Writes the UPPER_SNAKE form of a CamelCase type name ("KpiDirection" ->
 * "KPI_DIRECTION") into out. Returns the length, or 0 if it does not fit. */
static size_t upper_snake(const char *camel, char *out, size_t outlen) {
    size_t n = 0;
    for (size_t i = 0; camel[i]; i++) {
        unsigned char c = (unsigned char)camel[i];
        bool boundary = i > 0 && isupper(c) &&
                        (islower((unsigned char)camel[i - 1]) ||
                         (camel[i + 1] && islower((unsigned char)camel[i + 1]) &&
                          isupper((unsigned char)camel[i - 1])));
        if (n + 3 > outlen)
            return 0;
        if (boundary)
            out[n++] = '_';
        out[n++] = (char)toupper(c);
    }
    out[n] = '\0';
    return n;
}

/* The value name without its type prefix, pointing into `full`. */
static const char *strip_prefix(const ProtobufCEnumDescriptor *desc, const char *full) {
    char prefix[128];
    size_t n = upper_snake(desc->short_name, prefix, sizeof prefix);
    if (n > 0 && strncmp(full, prefix, n) == 0 && full[n] == '_' && full[n + 1])
        return full + n + 1;
    return full;
}

int esg_pb_enum_short_name(const ProtobufCEnumDescriptor *desc, int value,
                           char *out, size_t outlen) {
    assert(desc && out && outlen > 0);
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    if (!v) {
        out[0] = '\0';
        return -1;
    }
    snprintf(out, outlen, "%s", strip_prefix(desc, v->name));
    return 0;
}

json_t *esg_pb_enum_to_json(const ProtobufCEnumDescriptor *desc, int value) {
    assert(desc);
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    if (!v)
        return json_integer(value);
    return json_string(strip_prefix(desc, v->name));
}

int esg_pb_enum_parse(const ProtobufCEnumDescriptor *desc, const char *name,
                      int *value) {
    assert(desc && name && value);
    for (unsigned i = 0; i < desc->n_values; i++) {
        const ProtobufCEnumValue *v = &desc->values[i];
        if (strcasecmp(v->name, name) == 0 ||
            strcasecmp(strip_prefix(desc, v->name), name) == 0) {
            *value = v->value;
            return 0;
        }
    }
    return -1;
}

static json_t *hex_json(const uint8_t *data, size_t len) {
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * len + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        s[2 * i] = digits[data[i] >> 4];
        s[2 * i + 1] = digits[data[i] & 15];
    }
    json_t *j = json_stringn(s, 2 * len);
    free(s);
    return j;
}

static json_t *u64_json(uint64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return json_string(buf);
}

static json_t *i64_json(int64_t v) {
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return json_string(buf);
}

size_t esg_pb_elem_size(ProtobufCType t) {
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

/* One value of field f stored at p. */
static json_t *value_json(const ProtobufCFieldDescriptor *f, const void *p) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return i64_json(*(const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return u64_json(*(const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT:
        return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM:
        return esg_pb_enum_to_json(f->descriptor, *(const int *)p);
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return json_string(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        return hex_json(b->data, b->len);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m ? esg_pb_to_json(m) : json_null();
    }
    }
    return json_null();
}

static bool has_field_named(const ProtobufCMessageDescriptor *d, const char *name) {
    return protobuf_c_message_descriptor_get_field_by_name(d, name) != NULL;
}

json_t *esg_pb_to_json(const ProtobufCMessage *msg) {
    assert(msg && msg->descriptor);
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const uint8_t *base = (const uint8_t *)msg;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *p = base + f->offset;
        json_t *v;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
            v = value_json(f, p);
            if (v && f->type == PROTOBUF_C_TYPE_MESSAGE && !has_field_named(d, "type")) {
                const ProtobufCMessageDescriptor *md = f->descriptor;
                if (json_object_set_new(obj, "type", json_string(md->short_name)))
                    goto fail;
            }
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const uint8_t *arr = *(const uint8_t *const *)p;
            size_t sz = esg_pb_elem_size(f->type);
            v = json_array();
            for (size_t k = 0; v && k < n; k++)
                if (json_array_append_new(v, value_json(f, arr + k * sz))) {
                    json_decref(v);
                    v = NULL;
                }
        } else {
            /* Singular, with or without a has_ flag: the value is shown
             * either way (a missing one holds its default). */
            v = value_json(f, p);
        }
        if (!v || json_object_set_new(obj, f->name, v))
            goto fail;
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}
