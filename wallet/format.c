/* Money, shares and CSV fields (wallet/format.h). */
#include "wallet/format.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"

esgw_fmt_text esgw_fmt_money(uint64_t minor, unsigned decimals, char sep) {
    assert(decimals <= ESGW_FMT_MAX_DECIMALS);
    esgw_fmt_text t;
    /* The digits, least significant first, padded with zeros so there is
     * one integer digit at least: 5 with 3 decimals is "0005". */
    char d[24];
    size_t n = 0;
    do {
        d[n++] = (char)('0' + minor % 10);
        minor /= 10;
    } while (minor);
    while (n < decimals + 1)
        d[n++] = '0';
    size_t o = 0;
    for (size_t i = n; i-- > decimals;) {
        t.s[o++] = d[i];
        /* A separator after each integer digit that has a multiple of
         * three integer digits to its right. */
        if (sep && i > decimals && (i - decimals) % 3 == 0)
            t.s[o++] = sep;
    }
    if (decimals) {
        t.s[o++] = '.';
        for (size_t i = decimals; i-- > 0;)
            t.s[o++] = d[i];
    }
    assert(o < sizeof t.s);
    t.s[o] = '\0';
    return t;
}

esgw_fmt_text esgw_fmt_bps(uint64_t bps, bool sign) {
    esgw_fmt_text t = esgw_fmt_money(bps, 2, '\0');
    if (sign)
        strcat(t.s, "%");
    return t;
}

uint64_t esgw_fmt_bps_of(uint64_t part, uint64_t whole) {
    if (whole == 0)
        return 0;
    unsigned __int128 n = (unsigned __int128)part * 20000 + whole;
    unsigned __int128 q = n / ((unsigned __int128)whole * 2);
    return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

/* A row's remainder, for sorting: larger first, then the earlier row. */
typedef struct remainder {
    unsigned __int128 r;
    size_t i;
} remainder;

static int by_remainder(const void *a, const void *b) {
    const remainder *x = a, *y = b;
    if (x->r != y->r)
        return x->r > y->r ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int esgw_fmt_shares(uint64_t *out, const uint64_t *parts, size_t n, uint64_t whole) {
    assert(n == 0 || (out && parts));
    unsigned __int128 sum = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = 0;
        sum += parts[i];
    }
    if (sum == 0)
        return ESG_OK;
    remainder *rem = malloc(n * sizeof *rem);
    if (!rem)
        return ESG_ERR_NOMEM;
    uint64_t given = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned __int128 x = (unsigned __int128)parts[i] * whole;
        out[i] = (uint64_t)(x / sum); /* <= whole */
        given += out[i];
        rem[i] = (remainder){x % sum, i};
    }
    /* Each remainder is below one unit, so fewer than n units are
     * missing: no row gets more than one. */
    assert(given <= whole && whole - given < n);
    qsort(rem, n, sizeof *rem, by_remainder);
    for (size_t k = 0; given < whole; k++, given++)
        out[rem[k].i]++;
    free(rem);
    return ESG_OK;
}

void esgw_csv_field(FILE *f, const char *s, bool last) {
    if (!s)
        s = "";
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputs(last ? "\r\n" : ",", f);
}

void esgw_csv_row(FILE *f, const char *const *fields, size_t n) {
    assert(n >= 1);
    for (size_t i = 0; i < n; i++)
        esgw_csv_field(f, fields[i], i + 1 == n);
}
