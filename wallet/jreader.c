/* A JSON reader's path, arena and errors (wallet/jreader.h). */
#include "wallet/jreader.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ledger/error.h"

void esgw_jr_init(esgw_jreader *r, esgw_alloc_fn alloc, void *ctx, char *err, size_t errlen,
                  size_t path_max, size_t msg_max) {
    assert(r && alloc);
    assert(path_max >= 1 && path_max <= ESGW_JR_PATH_MAX);
    assert(msg_max >= 1 && msg_max <= ESGW_JR_MSG_MAX);
    memset(r, 0, sizeof *r);
    r->alloc = alloc;
    r->ctx = ctx;
    r->err = err;
    r->errlen = errlen;
    r->path_max = path_max;
    r->msg_max = msg_max;
    if (err && errlen)
        err[0] = '\0';
}

int esgw_jr_fail(esgw_jreader *r, int code, const char *fmt, ...) {
    if (r->err && r->errlen) {
        char msg[ESGW_JR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, r->msg_max, fmt, ap);
        va_end(ap);
        if (r->plen)
            snprintf(r->err, r->errlen, "%s: %s", r->path, msg);
        else
            snprintf(r->err, r->errlen, "%s", msg);
    }
    return code;
}

int esgw_jr_nomem(esgw_jreader *r) {
    return esgw_jr_fail(r, ESG_ERR_NOMEM, "out of memory");
}

void *esgw_jr_alloc(esgw_jreader *r, size_t size) {
    return r->alloc(r->ctx, size ? size : 1);
}

/* Appends what snprintf wrote at the path's end (n bytes wanted), keeping
 * at most path_max - 1 bytes. Returns the former length. */
static size_t grow(esgw_jreader *r, size_t old, int n) {
    if (n > 0)
        r->plen = old + (size_t)n < r->path_max ? old + (size_t)n : r->path_max - 1;
    return old;
}

size_t esgw_jr_push_key(esgw_jreader *r, const char *key) {
    size_t old = r->plen;
    return grow(r, old,
                snprintf(r->path + old, r->path_max - old, "%s%s", old ? "." : "", key));
}

size_t esgw_jr_push_index(esgw_jreader *r, size_t i) {
    size_t old = r->plen;
    return grow(r, old, snprintf(r->path + old, r->path_max - old, "[%zu]", i));
}

void esgw_jr_pop(esgw_jreader *r, size_t len) {
    assert(len <= r->plen);
    r->plen = len;
    r->path[len] = '\0';
}

const char *esgw_jr_kind(const json_t *v) {
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

int esgw_jr_string(esgw_jreader *r, const json_t *v, char **out) {
    if (!json_is_string(v))
        return esgw_jr_fail(r, ESG_ERR_JSON, "expected a string, got %s", esgw_jr_kind(v));
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (memchr(s, '\0', n))
        return esgw_jr_fail(r, ESG_ERR_JSON, "a string must not hold a NUL character");
    char *d = esgw_jr_alloc(r, n + 1);
    if (!d)
        return esgw_jr_nomem(r);
    memcpy(d, s, n);
    d[n] = '\0';
    *out = d;
    return 0;
}
