#include "ledger/decimal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ledger/error.h"

int esg_u64_parse(const char *s, uint64_t *out) {
    if (!s || !*s || (s[0] == '0' && s[1]))
        return ESG_ERR_BAD_DECIMAL;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return ESG_ERR_BAD_DECIMAL;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            return ESG_ERR_OVERFLOW;
    }
    *out = v;
    return ESG_OK;
}

void esg_u64_format(uint64_t v, char out[21]) {
    snprintf(out, 21, "%llu", (unsigned long long)v);
}

int esg_milli_parse(const char *s, int64_t *out) {
    if (!s)
        return ESG_ERR_BAD_DECIMAL;
    bool neg = *s == '-';
    const char *p = neg ? s + 1 : s;
    const char *dot = strchr(p, '.');
    size_t ilen = dot ? (size_t)(dot - p) : strlen(p);
    if (ilen == 0 || (p[0] == '0' && ilen > 1))
        return ESG_ERR_BAD_DECIMAL;
    /* Accumulate as a negative number so INT64_MIN thousandths parses. */
    int64_t v = 0;
    for (size_t i = 0; i < ilen; i++) {
        if (p[i] < '0' || p[i] > '9')
            return ESG_ERR_BAD_DECIMAL;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, p[i] - '0', &v))
            return ESG_ERR_OVERFLOW;
    }
    size_t flen = 0;
    if (dot) {
        flen = strlen(dot + 1);
        if (flen == 0 || flen > 3)
            return ESG_ERR_BAD_DECIMAL;
    }
    for (size_t i = 0; i < 3; i++) {
        int d = 0;
        if (i < flen) {
            char c = dot[1 + i];
            if (c < '0' || c > '9')
                return ESG_ERR_BAD_DECIMAL;
            d = c - '0';
        }
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, d, &v))
            return ESG_ERR_OVERFLOW;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return ESG_ERR_OVERFLOW;
        v = -v;
    } else if (v == 0) {
        return ESG_ERR_BAD_DECIMAL; /* "-0" */
    }
    *out = v;
    return ESG_OK;
}

void esg_milli_format(int64_t v, char out[32]) {
    /* Work in uint64 so INT64_MIN has a magnitude. */
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    snprintf(out, 32, "%s%llu.%03u", v < 0 ? "-" : "", (unsigned long long)(m / 1000),
             (unsigned)(m % 1000));
}
