/* Identifier checks (ledger/ident.h). The check-digit rules are the
 * standards' own; they are short enough that a library would only hide
 * them, and none is in Debian. */
#include "ledger/ident.h"

#include <string.h>

static bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool esg_project_id_valid(const char *s) {
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n < 3 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_upper(s[i]) && !is_digit(s[i]) && s[i] != '-')
            return false;
    return true;
}

bool esg_lei_valid(const char *s) {
    if (!s || strlen(s) != 20)
        return false;
    unsigned rem = 0;
    for (size_t i = 0; i < 20; i++) {
        char c = s[i];
        if (is_digit(c))
            rem = (rem * 10 + (unsigned)(c - '0')) % 97;
        else if (i < 18 && is_upper(c))
            rem = (rem * 100 + (unsigned)(c - 'A' + 10)) % 97;
        else
            return false;
    }
    return rem == 1;
}

bool esg_isin_valid(const char *s) {
    if (!s || strlen(s) != 12 || !is_upper(s[0]) || !is_upper(s[1]) || !is_digit(s[11]))
        return false;
    /* The digits of the first eleven characters, letters as two digits. */
    char digits[22];
    size_t n = 0;
    for (size_t i = 0; i < 11; i++) {
        char c = s[i];
        if (is_digit(c)) {
            digits[n++] = c;
        } else if (is_upper(c)) {
            int v = c - 'A' + 10;
            digits[n++] = (char)('0' + v / 10);
            digits[n++] = (char)('0' + v % 10);
        } else {
            return false;
        }
    }
    /* Luhn: from the rightmost digit, double every other one. */
    unsigned sum = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned d = (unsigned)(digits[n - 1 - k] - '0');
        if (k % 2 == 0) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return (10 - sum % 10) % 10 == (unsigned)(s[11] - '0');
}

bool esg_nace_valid(const char *s) {
    if (!s || s[0] < 'A' || s[0] > 'U')
        return false;
    if (s[1] == '\0')
        return true;
    if (!is_digit(s[1]) || !is_digit(s[2]))
        return false;
    if (s[3] == '\0')
        return true;
    if (s[3] != '.' || !is_digit(s[4]))
        return false;
    return s[5] == '\0' || (is_digit(s[5]) && s[6] == '\0');
}

bool esg_taxonomy_activity_valid(const char *s) {
    if (!s)
        return false;
    size_t i = 0, a = 0, b = 0;
    while (is_digit(s[i]) && a < 3)
        i++, a++;
    if (a < 1 || a > 2 || s[i++] != '.')
        return false;
    while (is_digit(s[i]) && b < 3)
        i++, b++;
    return b >= 1 && b <= 2 && s[i] == '\0';
}

int esg_currency_decimals(const char *code) {
    static const char zero[][4] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                   "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
                                   "XPF"};
    static const char three[][4] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
    if (!code)
        return 2;
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (strcmp(code, zero[i]) == 0)
            return 0;
    for (size_t i = 0; i < sizeof three / sizeof three[0]; i++)
        if (strcmp(code, three[i]) == 0)
            return 3;
    return 2;
}
