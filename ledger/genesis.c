/* Genesis file: parsing, validation, writing, builder, time and dates.
 *
 * Parsing is in two passes: the JSON pass turns the document into an
 * esg_genesis, failing on shapes the struct cannot hold (wrong types,
 * unknown keys, unknown enum names, bad hex); then esg_genesis_validate
 * checks every rule on the struct, so a parsed file and a built one obey
 * exactly the same rules.
 */
#include "ledger/genesis.h"
#include "ledger/block.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/ident.h"
#include "ledger/keys.h"

/* ------------------------------------------------------------ messages */

typedef struct ectx {
    char *buf;
    size_t len;
} ectx;

__attribute__((format(printf, 3, 4))) static int efail(ectx *e, int err,
                                                       const char *fmt, ...) {
    if (e->buf && e->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->len, fmt, ap);
        va_end(ap);
    }
    return err;
}

#define GFAIL(e, ...) efail((e), ESG_ERR_GENESIS, __VA_ARGS__)

#define CATEGORIES \
    "(climate, energy, water, waste, transport, buildings, social)"

/* A subject quoted in a message: at most 60 bytes (cut on a UTF-8
 * boundary, "..." appended) with control bytes shown as '?', so that a
 * hostile file cannot flood or drive the terminal the message lands on. */
typedef struct qstr {
    char s[72];
} qstr;

static qstr quote(const char *s) {
    qstr q;
    size_t n = 0, max = 60;
    if (!s)
        s = "(null)";
    size_t len = strlen(s);
    size_t take = len > max ? max : len;
    while (take < len && take > 0 && ((unsigned char)s[take] & 0xC0) == 0x80)
        take--;
    for (size_t i = 0; i < take; i++) {
        unsigned char c = (unsigned char)s[i];
        q.s[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (take < len) {
        memcpy(q.s + n, "...", 3);
        n += 3;
    }
    q.s[n] = '\0';
    return q;
}

/* What a message calls an item: "member 'city-a'" when the id is valid,
 * "member 3" otherwise. */
typedef struct label {
    char s[128];
} label;

static label item_label(const char *what, const char *id, bool id_ok,
                        size_t i) {
    label l;
    if (id_ok)
        snprintf(l.s, sizeof l.s, "%s '%s'", what, id);
    else
        snprintf(l.s, sizeof l.s, "%s %zu", what, i + 1);
    return l;
}

static label member_label(const char *id, size_t i) {
    return item_label("member", id, esg_member_id_valid(id), i);
}

static label kpi_label(const char *id, size_t i) {
    return item_label("kpi", id, esg_kpi_id_valid(id), i);
}

static label accreditation_label(const char *member, size_t i) {
    return item_label("accreditation for", member, esg_member_id_valid(member),
                      i);
}

static label validator_label(size_t i) {
    return item_label("validator", NULL, false, i);
}

static label account_label(const label *member, size_t a) {
    label l;
    snprintf(l.s, sizeof l.s, "%.96s account %zu", member->s, a + 1);
    return l;
}

/* ------------------------------------------------- names and validators */

static const char *const kind_names[] = {NULL, "CITY", "INVESTOR", "VERIFIER",
                                         "PAYING_AGENT", "AUDITOR"};

const char *esg_member_kind_name(int kind) {
    if (kind < ESG_KIND_CITY || kind > ESG_KIND_AUDITOR)
        return "UNKNOWN";
    return kind_names[kind];
}

int esg_member_kind_parse(const char *s) {
    if (!s)
        return 0;
    for (int k = ESG_KIND_CITY; k <= ESG_KIND_AUDITOR; k++)
        if (strcasecmp(s, kind_names[k]) == 0)
            return k;
    return 0;
}

const char *esg_role_name(unsigned bit) {
    switch (bit) {
    case ESG_ROLE_BIT_ADMIN: return "ADMIN";
    case ESG_ROLE_BIT_OFFICER: return "OFFICER";
    default: return "UNKNOWN";
    }
}

unsigned esg_role_parse(const char *s) {
    if (!s)
        return 0;
    if (strcasecmp(s, "ADMIN") == 0)
        return ESG_ROLE_BIT_ADMIN;
    if (strcasecmp(s, "OFFICER") == 0)
        return ESG_ROLE_BIT_OFFICER;
    return 0;
}

const char *esg_kpi_direction_name(int direction) {
    switch (direction) {
    case ESG_KPI_HIGHER: return "higher";
    case ESG_KPI_LOWER: return "lower";
    default: return "unknown";
    }
}

int esg_kpi_direction_parse(const char *s) {
    if (!s)
        return 0;
    if (strcmp(s, "higher") == 0)
        return ESG_KPI_HIGHER;
    if (strcmp(s, "lower") == 0)
        return ESG_KPI_LOWER;
    return 0;
}

bool esg_kpi_category_valid(const char *s) {
    static const char *const cats[] = {"climate",   "energy",    "water",
                                       "waste",     "transport", "buildings",
                                       "social"};
    if (!s)
        return false;
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
        if (strcmp(s, cats[i]) == 0)
            return true;
    return false;
}

/* True when `s` has minlen..maxlen characters, each accepted by `ok`. */
static bool charset_valid(const char *s, size_t minlen, size_t maxlen,
                          bool (*ok)(char c)) {
    if (!s)
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= maxlen || !ok(s[n]))
            return false;
    return n >= minlen;
}

static bool is_lower_digit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
static bool member_id_char(char c) { return is_lower_digit(c) || c == '-'; }
static bool kpi_id_char(char c) { return is_lower_digit(c) || c == '_'; }
static bool chain_id_char(char c) {
    return is_lower_digit(c) || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '_' || c == '-';
}

bool esg_member_id_valid(const char *s) {
    return charset_valid(s, 2, 40, member_id_char);
}

bool esg_kpi_id_valid(const char *s) {
    return charset_valid(s, 2, 64, kpi_id_char);
}

bool esg_chain_id_valid(const char *s) {
    return charset_valid(s, 1, 64, chain_id_char);
}

bool esg_country_valid(const char *s) {
    if (!s)
        return false;
    if (s[0] == '\0')
        return true;
    return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
           s[2] == '\0';
}

/* Decodes one UTF-8 sequence at `s` into *cp and returns its length, or 0
 * for an invalid sequence (overlong forms, surrogates, past U+10FFFF and
 * truncated sequences included). Precondition: s[0] != 0. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp) {
    assert(s[0] != 0);
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, c = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, c = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

static bool utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    while (*p) {
        size_t n = utf8_next(p, &cp);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

/* Valid UTF-8 of 1..max code points, none of them a control character. */
static bool text_valid(const char *s, size_t max) {
    if (!s)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;
    uint32_t cp;
    while (*p) {
        size_t n = utf8_next(p, &cp);
        if (!n || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || ++count > max)
            return false;
        p += n;
    }
    return count >= 1;
}

bool esg_name_valid(const char *s) { return text_valid(s, 200); }

/* ------------------------------------------------------- time and dates */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(unsigned y, unsigned m) {
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 29;
    return dim[m - 1];
}

/* Reads exactly `n` ASCII digits at `s`; stops safely at a NUL. */
static bool read_digits(const char *s, size_t n, unsigned *v) {
    unsigned x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return true;
}

/* Parses "YYYY-MM-DD" at the start of `s` (what follows is the caller's
 * business) into a real calendar date with year minyear..9999. */
static bool read_ymd(const char *s, unsigned minyear, unsigned *y, unsigned *m,
                     unsigned *d) {
    if (!read_digits(s, 4, y) || s[4] != '-' || !read_digits(s + 5, 2, m) ||
        s[7] != '-' || !read_digits(s + 8, 2, d))
        return false;
    return *y >= minyear && *y <= 9999 && *m >= 1 && *m <= 12 && *d >= 1 &&
           *d <= days_in_month(*y, *m);
}

#define MS_PER_DAY UINT64_C(86400000)

int esg_time_parse_rfc3339(const char *s, uint64_t *ms) {
    assert(ms);
    unsigned y, mo, d, h, mi, sec, frac = 0;
    if (!s || !read_ymd(s, 1970, &y, &mo, &d) || s[10] != 'T' ||
        !read_digits(s + 11, 2, &h) || s[13] != ':' ||
        !read_digits(s + 14, 2, &mi) || s[16] != ':' ||
        !read_digits(s + 17, 2, &sec))
        return ESG_ERR_BAD_DATE;
    const char *rest = s + 19;
    if (rest[0] == '.') {
        if (!read_digits(rest + 1, 3, &frac))
            return ESG_ERR_BAD_DATE;
        rest += 4;
    }
    if (strcmp(rest, "Z") != 0 || h > 23 || mi > 59 || sec > 59)
        return ESG_ERR_BAD_DATE;
    uint64_t days = (uint64_t)days_from_civil(y, mo, d);
    *ms = days * MS_PER_DAY +
          ((uint64_t)h * 3600 + (uint64_t)mi * 60 + sec) * 1000 + frac;
    return ESG_OK;
}

/* Writes `v` as exactly `n` decimal digits at `p` (v < 10^n). */
static char *put_digits(char *p, unsigned v, int n) {
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* "YYYY-MM-DD" at `p` (no NUL); returns the end. Precondition: 1 <= y <=
 * 9999, which callers check. */
static char *put_ymd(char *p, int64_t y, unsigned m, unsigned d) {
    assert(y >= 1 && y <= 9999);
    p = put_digits(p, (unsigned)y, 4);
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    return put_digits(p, d, 2);
}

int esg_time_format_rfc3339(uint64_t ms, char out[32]) {
    assert(out);
    static const uint64_t days_10000 = 2932897; /* 10000-01-01 */
    if (ms / MS_PER_DAY >= days_10000) {
        out[0] = '\0';
        return ESG_ERR_BAD_DATE;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days((int64_t)(ms / MS_PER_DAY), &y, &m, &d);
    unsigned rem = (unsigned)(ms % MS_PER_DAY);
    char *p = put_ymd(out, y, m, d);
    *p++ = 'T';
    p = put_digits(p, rem / 3600000, 2);
    *p++ = ':';
    p = put_digits(p, rem / 60000 % 60, 2);
    *p++ = ':';
    p = put_digits(p, rem / 1000 % 60, 2);
    if (rem % 1000) {
        *p++ = '.';
        p = put_digits(p, rem % 1000, 3);
    }
    *p++ = 'Z';
    *p = '\0';
    return ESG_OK;
}

int esg_date_parse(const char *s, int32_t *days_since_epoch) {
    assert(days_since_epoch);
    unsigned y, m, d;
    if (!s || !read_ymd(s, 1, &y, &m, &d) || s[10] != '\0')
        return ESG_ERR_BAD_DATE;
    *days_since_epoch = (int32_t)days_from_civil(y, m, d);
    return ESG_OK;
}

void esg_date_format(int32_t days, char out[11]) {
    assert(out);
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999) {
        memcpy(out, "0000-00-00", 11);
        return;
    }
    *put_ymd(out, y, m, d) = '\0';
}

/* ------------------------------------------------------------- freeing */

static void member_release(esg_genesis_member *m) {
    free(m->id);
    free(m->name);
    free(m->country);
    free(m->lei);
    free(m->accounts);
}

static void kpi_release(esg_genesis_kpi *k) {
    free(k->id);
    free(k->name);
    free(k->unit);
    free(k->category);
}

static void accreditation_release(esg_genesis_accreditation *a) {
    free(a->member);
    for (size_t i = 0; i < a->n_categories; i++)
        free(a->categories[i]);
    free(a->categories);
}

void esg_genesis_free(esg_genesis *g) {
    if (!g)
        return;
    free(g->chain_id);
    for (size_t i = 0; i < g->n_members; i++)
        member_release(&g->members[i]);
    free(g->members);
    for (size_t i = 0; i < g->n_validators; i++)
        free(g->validators[i].operator_id);
    free(g->validators);
    for (size_t i = 0; i < g->n_kpis; i++)
        kpi_release(&g->kpis[i]);
    free(g->kpis);
    for (size_t i = 0; i < g->n_accreditations; i++)
        accreditation_release(&g->accreditations[i]);
    free(g->accreditations);
    free(g);
}

/* ----------------------------------------------------------- validation */

/* Sort records for duplicate detection and lookups: sorting makes the
 * checks O(n log n), which matters for a 16 MiB file. Ties are broken by
 * position so that, in a run of equal keys, the first is the earliest. */
typedef struct sref {
    const char *s;
    size_t i;
} sref;

static int sref_cmp(const void *a, const void *b) {
    const sref *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    if (c)
        return c;
    return (x->i > y->i) - (x->i < y->i);
}

typedef struct kref {
    const uint8_t *k;
    size_t i, j;
} kref;

static int kref_cmp(const void *a, const void *b) {
    const kref *x = a, *y = b;
    int c = memcmp(x->k, y->k, 32);
    if (c)
        return c;
    if (x->i != y->i)
        return (x->i > y->i) - (x->i < y->i);
    return (x->j > y->j) - (x->j < y->j);
}

/* The member with id `id` in the sorted index, or NULL. */
static const esg_genesis_member *member_find(const esg_genesis *g,
                                             const sref *by_id, size_t n,
                                             const char *id) {
    if (!id)
        return NULL;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(by_id[mid].s, id);
        if (c == 0)
            return &g->members[by_id[mid].i];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int validate_header(const esg_genesis *g, ectx *e) {
    char t[32];
    if (!esg_chain_id_valid(g->chain_id))
        return GFAIL(e, "chain_id '%s' must be 1..64 characters of [A-Za-z0-9._-]",
                     quote(g->chain_id).s);
    if (esg_time_format_rfc3339(g->genesis_time_ms, t) != ESG_OK)
        return GFAIL(e, "genesis_time is past year 9999");
    const esg_genesis_params *p = &g->params;
    if (p->governance_threshold_bps < 5001 || p->governance_threshold_bps > 10000)
        return GFAIL(e, "params: governance_threshold_bps must be 5001..10000, not %u",
                     (unsigned)p->governance_threshold_bps);
    if (p->proposal_ttl_blocks < 1)
        return GFAIL(e, "params: proposal_ttl_blocks must be at least 1");
    if (p->max_block_txs < 1)
        return GFAIL(e, "params: max_block_txs must be at least 1");
    if (p->max_block_bytes < ESG_MIN_BLOCK_BYTES ||
        p->max_block_bytes > ESG_MAX_BLOCK_BYTES)
        return GFAIL(e, "params: max_block_bytes must be 2097152..67108864, not %llu",
                     (unsigned long long)p->max_block_bytes);
    return ESG_OK;
}

static int validate_member(const esg_genesis_member *m, size_t i, ectx *e) {
    label l = member_label(m->id, i);
    if (!esg_member_id_valid(m->id))
        return GFAIL(e, "%s: id '%s' must match [a-z0-9-]{2,40}", l.s,
                     quote(m->id).s);
    if (m->kind < ESG_KIND_CITY || m->kind > ESG_KIND_AUDITOR)
        return GFAIL(e, "%s: kind %d is not a member kind", l.s, m->kind);
    if (!esg_name_valid(m->name))
        return GFAIL(e, "%s: name must be 1..200 characters with no control characters",
                     l.s);
    if (!esg_country_valid(m->country))
        return GFAIL(e, "%s: country '%s' must be two upper-case letters (ISO 3166-1 alpha-2)",
                     l.s, quote(m->country).s);
    if (!m->lei || (m->lei[0] && !esg_lei_valid(m->lei)))
        return GFAIL(e, "%s: lei '%s' is not a Legal Entity Identifier (ISO 17442: 18 "
                     "characters A-Z 0-9 and two check digits)", l.s, quote(m->lei).s);
    if (m->population > ESG_MAX_POPULATION)
        return GFAIL(e, "%s: population must be 1..10000000000, not %llu", l.s,
                     (unsigned long long)m->population);
    if (m->n_accounts == 0)
        return GFAIL(e, "%s: must have at least one account", l.s);
    for (size_t a = 0; a < m->n_accounts; a++) {
        const esg_genesis_account *acc = &m->accounts[a];
        label al = account_label(&l, a);
        if (esg_pubkey_check(&acc->pubkey) != ESG_OK)
            return GFAIL(e, "%s: pubkey %s is not a valid x-only public key",
                         al.s, esg_pubkey_hex(&acc->pubkey).s);
        if (acc->roles == 0 || (acc->roles & ~(unsigned)ESG_ROLE_BITS_ALL))
            return GFAIL(e, "%s: roles must be a non-empty set of ADMIN and OFFICER",
                         al.s);
    }
    return ESG_OK;
}

/* Members, then account keys. On success *by_id_out is the members'
 * sorted id index (the caller frees it). */
static int validate_members(const esg_genesis *g, sref **by_id_out, ectx *e) {
    *by_id_out = NULL;
    if (g->n_members == 0)
        return GFAIL(e, "members must not be empty");
    bool city = false;
    size_t n_keys = 0;
    for (size_t i = 0; i < g->n_members; i++) {
        int rc = validate_member(&g->members[i], i, e);
        if (rc)
            return rc;
        city = city || g->members[i].kind == ESG_KIND_CITY;
        n_keys += g->members[i].n_accounts;
    }
    if (!city)
        return GFAIL(e, "no CITY member: cities are the governance members");

    sref *by_id = malloc(g->n_members * sizeof *by_id);
    kref *keys = malloc(n_keys * sizeof *keys);
    if (!by_id || !keys) {
        free(by_id);
        free(keys);
        return efail(e, ESG_ERR_NOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < g->n_members; i++) {
        by_id[i] = (sref){g->members[i].id, i};
        for (size_t a = 0; a < g->members[i].n_accounts; a++)
            keys[k++] = (kref){g->members[i].accounts[a].pubkey.b, i, a};
    }
    qsort(by_id, g->n_members, sizeof *by_id, sref_cmp);
    qsort(keys, n_keys, sizeof *keys, kref_cmp);
    int rc = ESG_OK;
    for (size_t i = 1; i < g->n_members && !rc; i++)
        if (strcmp(by_id[i - 1].s, by_id[i].s) == 0)
            rc = GFAIL(e, "member '%s' is listed twice (members %zu and %zu)",
                       by_id[i].s, by_id[i - 1].i + 1, by_id[i].i + 1);
    for (size_t i = 1; i < n_keys && !rc; i++) {
        if (memcmp(keys[i - 1].k, keys[i].k, 32) != 0)
            continue;
        label l = member_label(g->members[keys[i].i].id, keys[i].i);
        label al = account_label(&l, keys[i].j);
        label first = member_label(g->members[keys[i - 1].i].id, keys[i - 1].i);
        rc = GFAIL(e, "%s: pubkey %s is already an account of %s", al.s,
                   esg_pubkey_hex(&g->members[keys[i].i].accounts[keys[i].j].pubkey).s,
                   first.s);
    }
    free(keys);
    if (rc)
        free(by_id);
    else
        *by_id_out = by_id;
    return rc;
}

static int validate_validators(const esg_genesis *g, const sref *by_id,
                               ectx *e) {
    if (g->n_validators == 0)
        return GFAIL(e, "validators must not be empty");
    if (g->n_validators > ESG_MAX_VALIDATORS)
        return GFAIL(e, "at most %d validators, not %zu", ESG_MAX_VALIDATORS, g->n_validators);
    uint64_t total = 0;
    for (size_t i = 0; i < g->n_validators; i++) {
        const esg_genesis_validator *v = &g->validators[i];
        label l = validator_label(i);
        if (esg_pubkey_check(&v->pubkey) != ESG_OK)
            return GFAIL(e, "%s: pubkey %s is not a valid x-only public key",
                         l.s, esg_pubkey_hex(&v->pubkey).s);
        if (v->power < 1 || v->power > ESG_MAX_VALIDATOR_POWER)
            return GFAIL(e, "%s: power must be 1..2^60, not %llu", l.s,
                         (unsigned long long)v->power);
        if (!member_find(g, by_id, g->n_members, v->operator_id))
            return GFAIL(e, "%s: operator '%s' is not a member", l.s,
                         quote(v->operator_id).s);
        total += v->power; /* both terms <= 2^60: no overflow */
        if (total > ESG_MAX_VALIDATOR_POWER)
            return GFAIL(e, "%s: total validator power exceeds 2^60", l.s);
    }
    kref *keys = malloc(g->n_validators * sizeof *keys);
    if (!keys)
        return efail(e, ESG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->n_validators; i++)
        keys[i] = (kref){g->validators[i].pubkey.b, i, 0};
    qsort(keys, g->n_validators, sizeof *keys, kref_cmp);
    int rc = ESG_OK;
    for (size_t i = 1; i < g->n_validators && !rc; i++)
        if (memcmp(keys[i - 1].k, keys[i].k, 32) == 0)
            rc = GFAIL(e, "validator %zu: pubkey %s is already validator %zu",
                       keys[i].i + 1,
                       esg_pubkey_hex(&g->validators[keys[i].i].pubkey).s,
                       keys[i - 1].i + 1);
    free(keys);
    return rc;
}

static int validate_kpis(const esg_genesis *g, ectx *e) {
    for (size_t i = 0; i < g->n_kpis; i++) {
        const esg_genesis_kpi *k = &g->kpis[i];
        label l = kpi_label(k->id, i);
        if (!esg_kpi_id_valid(k->id))
            return GFAIL(e, "%s: id '%s' must match [a-z0-9_]{2,64}", l.s,
                         quote(k->id).s);
        if (!esg_name_valid(k->name))
            return GFAIL(e, "%s: name must be 1..200 characters with no control characters",
                         l.s);
        if (!text_valid(k->unit, 32))
            return GFAIL(e, "%s: unit must be 1..32 characters with no control characters",
                         l.s);
        if (!esg_kpi_category_valid(k->category))
            return GFAIL(e, "%s: unknown category '%s' " CATEGORIES,
                         l.s, quote(k->category).s);
        if (k->direction != ESG_KPI_HIGHER && k->direction != ESG_KPI_LOWER)
            return GFAIL(e, "%s: direction %d is not higher (1) or lower (2)",
                         l.s, k->direction);
    }
    if (g->n_kpis < 2)
        return ESG_OK;
    sref *ids = malloc(g->n_kpis * sizeof *ids);
    if (!ids)
        return efail(e, ESG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->n_kpis; i++)
        ids[i] = (sref){g->kpis[i].id, i};
    qsort(ids, g->n_kpis, sizeof *ids, sref_cmp);
    int rc = ESG_OK;
    for (size_t i = 1; i < g->n_kpis && !rc; i++)
        if (strcmp(ids[i - 1].s, ids[i].s) == 0)
            rc = GFAIL(e, "kpi '%s' is listed twice (kpis %zu and %zu)",
                       ids[i].s, ids[i - 1].i + 1, ids[i].i + 1);
    free(ids);
    return rc;
}

static int validate_accreditations(const esg_genesis *g, const sref *by_id,
                                   ectx *e) {
    for (size_t i = 0; i < g->n_accreditations; i++) {
        const esg_genesis_accreditation *a = &g->accreditations[i];
        label l = accreditation_label(a->member, i);
        const esg_genesis_member *m =
            member_find(g, by_id, g->n_members, a->member);
        if (!m)
            return GFAIL(e, "%s: '%s' is not a member", l.s,
                         quote(a->member).s);
        if (m->kind != ESG_KIND_VERIFIER)
            return GFAIL(e, "%s: member '%s' is a %s, only a VERIFIER can be accredited",
                         l.s, m->id, esg_member_kind_name(m->kind));
        if (a->n_categories == 0)
            return GFAIL(e, "%s: categories must not be empty", l.s);
        for (size_t c = 0; c < a->n_categories; c++) {
            if (!esg_kpi_category_valid(a->categories[c]))
                return GFAIL(e, "%s: unknown category '%s' " CATEGORIES,
                             l.s, quote(a->categories[c]).s);
            for (size_t d = 0; d < c; d++)
                if (strcmp(a->categories[d], a->categories[c]) == 0)
                    return GFAIL(e, "%s: category '%s' is listed twice", l.s,
                                 a->categories[c]);
        }
    }
    if (g->n_accreditations < 2)
        return ESG_OK;
    sref *ids = malloc(g->n_accreditations * sizeof *ids);
    if (!ids)
        return efail(e, ESG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < g->n_accreditations; i++)
        ids[i] = (sref){g->accreditations[i].member, i};
    qsort(ids, g->n_accreditations, sizeof *ids, sref_cmp);
    int rc = ESG_OK;
    for (size_t i = 1; i < g->n_accreditations && !rc; i++)
        if (strcmp(ids[i - 1].s, ids[i].s) == 0)
            rc = GFAIL(e, "member '%s' is accredited twice (accreditations %zu and %zu)",
                       ids[i].s, ids[i - 1].i + 1, ids[i].i + 1);
    free(ids);
    return rc;
}

int esg_genesis_validate(const esg_genesis *g, char *errbuf, size_t errlen) {
    assert(g);
    ectx e = {errbuf, errlen};
    if (errbuf && errlen)
        errbuf[0] = '\0';
    sref *by_id = NULL;
    int rc = validate_header(g, &e);
    if (!rc)
        rc = validate_members(g, &by_id, &e);
    if (!rc)
        rc = validate_validators(g, by_id, &e);
    if (!rc)
        rc = validate_kpis(g, &e);
    if (!rc)
        rc = validate_accreditations(g, by_id, &e);
    free(by_id);
    return rc;
}

/* -------------------------------------------------------------- parsing */

/* Fails on any key of `obj` not in the NULL-terminated `allowed`. */
static int check_keys(const json_t *obj, const char *const *allowed,
                      const char *where, ectx *e) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        (void)v;
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i])
            return GFAIL(e, "%s: unknown key '%s'", where, quote(key).s);
    }
    return ESG_OK;
}

/* Copies the string member `key` of `obj` into *out (a new heap string).
 * A missing key fails when `required`, and otherwise leaves *out NULL. */
static int get_string(const json_t *obj, const char *key, bool required,
                      const char *where, char **out, ectx *e) {
    *out = NULL;
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return GFAIL(e, "%s: missing '%s'", where, key);
        return ESG_OK;
    }
    if (!json_is_string(v))
        return GFAIL(e, "%s: '%s' must be a string", where, key);
    *out = strdup(json_string_value(v));
    if (!*out)
        return efail(e, ESG_ERR_NOMEM, "out of memory");
    return ESG_OK;
}

/* Reads the non-negative integer member `key` of `obj` into *out; leaves
 * *out alone when the key is absent and not `required`. */
static int get_uint(const json_t *obj, const char *key, bool required,
                    const char *where, uint64_t *out, ectx *e) {
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            return GFAIL(e, "%s: missing '%s'", where, key);
        return ESG_OK;
    }
    if (!json_is_integer(v))
        return GFAIL(e, "%s: '%s' must be an integer", where, key);
    json_int_t x = json_integer_value(v);
    if (x < 0)
        return GFAIL(e, "%s: '%s' must not be negative", where, key);
    *out = (uint64_t)x;
    return ESG_OK;
}

/* The array member `key` of `obj` in *out; NULL when absent and optional. */
static int get_array(const json_t *obj, const char *key, bool required,
                     const char *where, const json_t **out, ectx *e) {
    *out = json_object_get(obj, key);
    if (!*out) {
        if (required)
            return GFAIL(e, "%s: missing '%s'", where, key);
        return ESG_OK;
    }
    if (!json_is_array(*out))
        return GFAIL(e, "%s: '%s' must be an array", where, key);
    return ESG_OK;
}

static int parse_pubkey(const json_t *obj, const char *where, esg_pubkey *pk,
                        ectx *e) {
    const json_t *v = json_object_get(obj, "pubkey");
    if (!v)
        return GFAIL(e, "%s: missing 'pubkey'", where);
    if (!json_is_string(v) || json_string_length(v) != 64 ||
        esg_hex_decode(pk->b, 32, json_string_value(v)) != ESG_OK)
        return GFAIL(e, "%s: pubkey must be 64 hex characters", where);
    return ESG_OK;
}

static int parse_params(const json_t *root, esg_genesis_params *p, ectx *e) {
    static const char *const keys[] = {"governance_threshold_bps",
                                       "proposal_ttl_blocks", "max_block_txs",
                                       "max_block_bytes", NULL};
    const json_t *obj = json_object_get(root, "params");
    if (!obj)
        return ESG_OK;
    if (!json_is_object(obj))
        return GFAIL(e, "params must be an object");
    uint64_t bps = p->governance_threshold_bps;
    int rc = check_keys(obj, keys, "params", e);
    if (!rc)
        rc = get_uint(obj, keys[0], false, "params", &bps, e);
    if (!rc)
        rc = get_uint(obj, keys[1], false, "params", &p->proposal_ttl_blocks, e);
    if (!rc)
        rc = get_uint(obj, keys[2], false, "params", &p->max_block_txs, e);
    if (!rc)
        rc = get_uint(obj, keys[3], false, "params", &p->max_block_bytes, e);
    if (rc)
        return rc;
    if (bps > 10000) /* would not fit the uint32 field: say it here */
        return GFAIL(e, "params: governance_threshold_bps must be 5001..10000, not %llu",
                     (unsigned long long)bps);
    p->governance_threshold_bps = (uint32_t)bps;
    return ESG_OK;
}

static int parse_account(const json_t *obj, const char *where,
                         esg_genesis_account *acc, ectx *e) {
    static const char *const keys[] = {"pubkey", "roles", NULL};
    if (!json_is_object(obj))
        return GFAIL(e, "%s must be an object", where);
    const json_t *roles;
    int rc = check_keys(obj, keys, where, e);
    if (!rc)
        rc = parse_pubkey(obj, where, &acc->pubkey, e);
    if (!rc)
        rc = get_array(obj, "roles", true, where, &roles, e);
    if (rc)
        return rc;
    size_t i;
    const json_t *r;
    json_array_foreach(roles, i, r) {
        if (!json_is_string(r))
            return GFAIL(e, "%s: roles must be strings", where);
        unsigned bit = esg_role_parse(json_string_value(r));
        if (!bit)
            return GFAIL(e, "%s: unknown role '%s' (ADMIN, OFFICER)", where,
                         quote(json_string_value(r)).s);
        if (acc->roles & bit)
            return GFAIL(e, "%s: role '%s' is listed twice", where,
                         esg_role_name(bit));
        acc->roles |= bit;
    }
    return ESG_OK;
}

static int parse_member(const json_t *obj, size_t i, esg_genesis_member *m,
                        ectx *e) {
    static const char *const keys[] = {"id", "kind", "name", "country", "lei",
                                       "population", "accounts", NULL};
    if (!json_is_object(obj))
        return GFAIL(e, "member %zu must be an object", i + 1);
    const json_t *id = json_object_get(obj, "id");
    label l = member_label(json_is_string(id) ? json_string_value(id) : NULL, i);
    char *kind = NULL;
    const json_t *accounts;
    int rc = check_keys(obj, keys, l.s, e);
    if (!rc)
        rc = get_string(obj, "id", true, l.s, &m->id, e);
    if (!rc)
        rc = get_string(obj, "kind", true, l.s, &kind, e);
    if (!rc && !(m->kind = esg_member_kind_parse(kind)))
        rc = GFAIL(e, "%s: unknown kind '%s' (CITY, INVESTOR, VERIFIER, PAYING_AGENT, AUDITOR)",
                   l.s, quote(kind).s);
    free(kind);
    if (!rc)
        rc = get_string(obj, "name", true, l.s, &m->name, e);
    if (!rc)
        rc = get_string(obj, "country", false, l.s, &m->country, e);
    if (!rc && !m->country && !(m->country = strdup("")))
        rc = efail(e, ESG_ERR_NOMEM, "out of memory");
    /* In the struct "" and 0 mean "not given"; a file that writes them
     * out most likely left a template unfilled, so it must leave the key
     * out instead. */
    if (!rc)
        rc = get_string(obj, "lei", false, l.s, &m->lei, e);
    if (!rc && m->lei && !m->lei[0])
        rc = GFAIL(e, "%s: lei must not be empty (leave the key out when there is none)", l.s);
    if (!rc && !m->lei && !(m->lei = strdup("")))
        rc = efail(e, ESG_ERR_NOMEM, "out of memory");
    if (!rc && json_object_get(obj, "population")) {
        rc = get_uint(obj, "population", false, l.s, &m->population, e);
        if (!rc && m->population == 0)
            rc = GFAIL(e, "%s: population must be 1..10000000000, not 0 (leave the key out "
                       "when it is not known)", l.s);
    }
    if (!rc)
        rc = get_array(obj, "accounts", true, l.s, &accounts, e);
    if (rc)
        return rc;
    size_t n = json_array_size(accounts);
    if (n && !(m->accounts = calloc(n, sizeof *m->accounts)))
        return efail(e, ESG_ERR_NOMEM, "out of memory");
    m->n_accounts = n;
    for (size_t a = 0; a < n; a++) {
        label al = account_label(&l, a);
        rc = parse_account(json_array_get(accounts, a), al.s, &m->accounts[a], e);
        if (rc)
            return rc;
    }
    return ESG_OK;
}

static int parse_validator(const json_t *obj, size_t i,
                           esg_genesis_validator *v, ectx *e) {
    static const char *const keys[] = {"pubkey", "power", "operator", NULL};
    label l = validator_label(i);
    if (!json_is_object(obj))
        return GFAIL(e, "%s must be an object", l.s);
    int rc = check_keys(obj, keys, l.s, e);
    if (!rc)
        rc = parse_pubkey(obj, l.s, &v->pubkey, e);
    if (!rc) {
        const json_t *p = json_object_get(obj, "power");
        if (!p)
            rc = GFAIL(e, "%s: missing 'power'", l.s);
        else if (!json_is_integer(p))
            rc = GFAIL(e, "%s: power must be an integer", l.s);
        else if (json_integer_value(p) < 1)
            rc = GFAIL(e, "%s: power must be 1..2^60, not %lld", l.s,
                       (long long)json_integer_value(p));
        else
            v->power = (uint64_t)json_integer_value(p);
    }
    if (!rc)
        rc = get_string(obj, "operator", true, l.s, &v->operator_id, e);
    return rc;
}

static int parse_kpi(const json_t *obj, size_t i, esg_genesis_kpi *k,
                     ectx *e) {
    static const char *const keys[] = {"id",       "name",      "unit",
                                       "category", "direction", NULL};
    if (!json_is_object(obj))
        return GFAIL(e, "kpi %zu must be an object", i + 1);
    const json_t *id = json_object_get(obj, "id");
    label l = kpi_label(json_is_string(id) ? json_string_value(id) : NULL, i);
    char *dir = NULL;
    int rc = check_keys(obj, keys, l.s, e);
    if (!rc)
        rc = get_string(obj, "id", true, l.s, &k->id, e);
    if (!rc)
        rc = get_string(obj, "name", true, l.s, &k->name, e);
    if (!rc)
        rc = get_string(obj, "unit", true, l.s, &k->unit, e);
    if (!rc)
        rc = get_string(obj, "category", true, l.s, &k->category, e);
    if (!rc)
        rc = get_string(obj, "direction", true, l.s, &dir, e);
    if (!rc && !(k->direction = esg_kpi_direction_parse(dir)))
        rc = GFAIL(e, "%s: direction must be 'higher' or 'lower', not '%s'",
                   l.s, quote(dir).s);
    free(dir);
    return rc;
}

static int parse_accreditation(const json_t *obj, size_t i,
                               esg_genesis_accreditation *a, ectx *e) {
    static const char *const keys[] = {"member", "categories", NULL};
    if (!json_is_object(obj))
        return GFAIL(e, "accreditation %zu must be an object", i + 1);
    const json_t *mem = json_object_get(obj, "member");
    label l = accreditation_label(
        json_is_string(mem) ? json_string_value(mem) : NULL, i);
    const json_t *cats;
    int rc = check_keys(obj, keys, l.s, e);
    if (!rc)
        rc = get_string(obj, "member", true, l.s, &a->member, e);
    if (!rc)
        rc = get_array(obj, "categories", true, l.s, &cats, e);
    if (rc)
        return rc;
    size_t n = json_array_size(cats);
    if (n && !(a->categories = calloc(n, sizeof *a->categories)))
        return efail(e, ESG_ERR_NOMEM, "out of memory");
    a->n_categories = n;
    for (size_t c = 0; c < n; c++) {
        const json_t *s = json_array_get(cats, c);
        if (!json_is_string(s))
            return GFAIL(e, "%s: categories must be strings", l.s);
        if (!(a->categories[c] = strdup(json_string_value(s))))
            return efail(e, ESG_ERR_NOMEM, "out of memory");
    }
    return ESG_OK;
}

/* Allocates *arr with json_array_size(src) zeroed elements of `size` bytes
 * and sets *n, so that esg_genesis_free can release a partial parse. */
static int alloc_items(const json_t *src, size_t size, void **arr, size_t *n,
                       ectx *e) {
    size_t count = src ? json_array_size(src) : 0;
    *n = 0;
    if (!count)
        return ESG_OK;
    if (!(*arr = calloc(count, size)))
        return efail(e, ESG_ERR_NOMEM, "out of memory");
    *n = count;
    return ESG_OK;
}

static int parse_document(const json_t *root, esg_genesis *g, ectx *e) {
    static const char *const keys[] = {"chain_id", "genesis_time", "params",
                                       "members",  "validators",   "kpis",
                                       "accreditations", NULL};
    if (!json_is_object(root))
        return GFAIL(e, "genesis must be a JSON object");
    {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)root, key, v) {
            (void)v;
            size_t i = 0;
            while (keys[i] && strcmp(keys[i], key) != 0)
                i++;
            if (!keys[i])
                return GFAIL(e, "unknown top-level key '%s'", quote(key).s);
        }
    }
    char *tstr = NULL;
    const json_t *members, *validators, *kpis, *accs;
    int rc = get_string(root, "chain_id", true, "genesis", &g->chain_id, e);
    if (!rc)
        rc = get_string(root, "genesis_time", true, "genesis", &tstr, e);
    if (!rc && esg_time_parse_rfc3339(tstr, &g->genesis_time_ms) != ESG_OK)
        rc = GFAIL(e, "genesis_time '%s' is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)",
                   quote(tstr).s);
    free(tstr);
    if (!rc)
        rc = parse_params(root, &g->params, e);
    if (!rc)
        rc = get_array(root, "members", true, "genesis", &members, e);
    if (!rc)
        rc = get_array(root, "validators", true, "genesis", &validators, e);
    if (!rc)
        rc = get_array(root, "kpis", false, "genesis", &kpis, e);
    if (!rc)
        rc = get_array(root, "accreditations", false, "genesis", &accs, e);

    if (!rc)
        rc = alloc_items(members, sizeof *g->members, (void **)&g->members,
                         &g->n_members, e);
    for (size_t i = 0; !rc && i < g->n_members; i++)
        rc = parse_member(json_array_get(members, i), i, &g->members[i], e);
    if (!rc)
        rc = alloc_items(validators, sizeof *g->validators,
                         (void **)&g->validators, &g->n_validators, e);
    for (size_t i = 0; !rc && i < g->n_validators; i++)
        rc = parse_validator(json_array_get(validators, i), i,
                             &g->validators[i], e);
    if (!rc)
        rc = alloc_items(kpis, sizeof *g->kpis, (void **)&g->kpis, &g->n_kpis,
                         e);
    for (size_t i = 0; !rc && i < g->n_kpis; i++)
        rc = parse_kpi(json_array_get(kpis, i), i, &g->kpis[i], e);
    if (!rc)
        rc = alloc_items(accs, sizeof *g->accreditations,
                         (void **)&g->accreditations, &g->n_accreditations, e);
    for (size_t i = 0; !rc && i < g->n_accreditations; i++)
        rc = parse_accreditation(json_array_get(accs, i), i,
                                 &g->accreditations[i], e);
    return rc;
}

static void default_params(esg_genesis_params *p) {
    p->governance_threshold_bps = ESG_DEFAULT_GOVERNANCE_THRESHOLD_BPS;
    p->proposal_ttl_blocks = ESG_DEFAULT_PROPOSAL_TTL_BLOCKS;
    p->max_block_txs = ESG_DEFAULT_MAX_BLOCK_TXS;
    p->max_block_bytes = ESG_DEFAULT_MAX_BLOCK_BYTES;
}

int esg_genesis_parse(esg_genesis **out, const uint8_t *json, size_t len,
                      char *errbuf, size_t errlen) {
    assert(out && (json || len == 0));
    ectx e = {errbuf, errlen};
    *out = NULL;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    json_error_t jerr;
    json_t *root = json_loadb(json ? (const char *)json : "", len,
                              JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return efail(&e, ESG_ERR_NOMEM, "out of memory");
        return efail(&e, ESG_ERR_JSON, "malformed JSON at line %d column %d: %s",
                     jerr.line, jerr.column, jerr.text);
    }
    esg_genesis *g = calloc(1, sizeof *g);
    if (!g) {
        json_decref(root);
        return efail(&e, ESG_ERR_NOMEM, "out of memory");
    }
    default_params(&g->params);
    int rc = parse_document(root, g, &e);
    json_decref(root);
    if (!rc)
        rc = esg_genesis_validate(g, errbuf, errlen);
    if (rc) {
        esg_genesis_free(g);
        return rc;
    }
    g->hash = esg_hash_tagged(ESG_TAG_GENESIS, json, len);
    *out = g;
    return ESG_OK;
}

int esg_genesis_load(esg_genesis **out, const char *path, char *errbuf,
                     size_t errlen) {
    assert(out && path);
    ectx e = {errbuf, errlen};
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return efail(&e, ESG_ERR_IO, "cannot open '%s': %s", quote(path).s,
                     strerror(errno));
    /* Read up to one byte past the cap, whatever the file claims to be
     * (a pipe or /proc file has no honest size). */
    size_t cap = 64 * 1024, len = 0;
    uint8_t *buf = malloc(cap);
    int rc = buf ? ESG_OK : efail(&e, ESG_ERR_NOMEM, "out of memory");
    while (!rc) {
        if (len == cap) {
            if (cap > ESG_GENESIS_MAX_FILE) {
                rc = efail(&e, ESG_ERR_TOO_LARGE,
                           "genesis file '%s' is larger than 16 MiB",
                           quote(path).s);
                break;
            }
            size_t ncap = cap * 2 > ESG_GENESIS_MAX_FILE + 1
                              ? ESG_GENESIS_MAX_FILE + 1
                              : cap * 2;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                rc = efail(&e, ESG_ERR_NOMEM, "out of memory");
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = efail(&e, ESG_ERR_IO, "cannot read '%s': %s", quote(path).s,
                       strerror(errno));
            break;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > ESG_GENESIS_MAX_FILE)
            rc = efail(&e, ESG_ERR_TOO_LARGE,
                       "genesis file '%s' is larger than 16 MiB", quote(path).s);
    }
    close(fd);
    if (!rc)
        rc = esg_genesis_parse(out, buf, len, errbuf, errlen);
    free(buf);
    return rc;
}

/* -------------------------------------------------------------- writing */

/* Adds `v` under `key` (taking the reference); false when v is NULL or
 * the set fails, which after the checks in to_json means out of memory. */
static bool put(json_t *obj, const char *key, json_t *v) {
    return v && json_object_set_new(obj, key, v) == 0;
}

static bool push(json_t *arr, json_t *v) {
    return v && json_array_append_new(arr, v) == 0;
}

/* Appends the finished object `o` to `arr` when `built`, else drops it.
 * Either way `o` is no longer the caller's (jansson frees a value whose
 * append fails). */
static bool adopt(json_t *arr, json_t *o, bool built) {
    if (!built) {
        json_decref(o);
        return false;
    }
    return push(arr, o);
}

static json_t *hex_string(const esg_pubkey *pk) {
    return json_string(esg_pubkey_hex(pk).s);
}

/* Checks that every field of `g` has a JSON form. */
static bool writable(const esg_genesis *g) {
    char t[32];
    if (!g->chain_id || !utf8_valid(g->chain_id) ||
        esg_time_format_rfc3339(g->genesis_time_ms, t) != ESG_OK ||
        g->params.proposal_ttl_blocks > INT64_MAX ||
        g->params.max_block_txs > INT64_MAX ||
        g->params.max_block_bytes > INT64_MAX)
        return false;
    for (size_t i = 0; i < g->n_members; i++) {
        const esg_genesis_member *m = &g->members[i];
        if (!m->id || !utf8_valid(m->id) || !m->name || !utf8_valid(m->name) ||
            !m->country || !utf8_valid(m->country) || !m->lei ||
            !utf8_valid(m->lei) || m->population > INT64_MAX ||
            m->kind < ESG_KIND_CITY || m->kind > ESG_KIND_AUDITOR)
            return false;
        for (size_t a = 0; a < m->n_accounts; a++)
            if (m->accounts[a].roles & ~(unsigned)ESG_ROLE_BITS_ALL)
                return false;
    }
    for (size_t i = 0; i < g->n_validators; i++)
        if (g->validators[i].power > INT64_MAX ||
            !g->validators[i].operator_id ||
            !utf8_valid(g->validators[i].operator_id))
            return false;
    for (size_t i = 0; i < g->n_kpis; i++) {
        const esg_genesis_kpi *k = &g->kpis[i];
        if (!k->id || !utf8_valid(k->id) || !k->name || !utf8_valid(k->name) ||
            !k->unit || !utf8_valid(k->unit) || !k->category ||
            !utf8_valid(k->category) ||
            (k->direction != ESG_KPI_HIGHER && k->direction != ESG_KPI_LOWER))
            return false;
    }
    for (size_t i = 0; i < g->n_accreditations; i++) {
        const esg_genesis_accreditation *a = &g->accreditations[i];
        if (!a->member || !utf8_valid(a->member))
            return false;
        for (size_t c = 0; c < a->n_categories; c++)
            if (!a->categories[c] || !utf8_valid(a->categories[c]))
                return false;
    }
    return true;
}

static json_t *member_json(const esg_genesis_member *m) {
    json_t *o = json_object(), *accs = json_array();
    bool ok = o && accs;
    ok = ok && put(o, "id", json_string(m->id));
    ok = ok && put(o, "kind", json_string(esg_member_kind_name(m->kind)));
    ok = ok && put(o, "name", json_string(m->name));
    if (m->country[0])
        ok = ok && put(o, "country", json_string(m->country));
    if (m->lei[0])
        ok = ok && put(o, "lei", json_string(m->lei));
    if (m->population)
        ok = ok && put(o, "population", json_integer((json_int_t)m->population));
    for (size_t a = 0; ok && a < m->n_accounts; a++) {
        json_t *acc = json_object(), *roles = json_array();
        bool aok = acc && roles && put(acc, "pubkey", hex_string(&m->accounts[a].pubkey));
        for (unsigned bit = ESG_ROLE_BIT_ADMIN; aok && bit <= ESG_ROLE_BIT_OFFICER;
             bit <<= 1)
            if (m->accounts[a].roles & bit)
                aok = push(roles, json_string(esg_role_name(bit)));
        aok = aok && put(acc, "roles", json_incref(roles));
        json_decref(roles);
        ok = adopt(accs, acc, aok);
    }
    ok = ok && put(o, "accounts", json_incref(accs));
    json_decref(accs);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *genesis_json(const esg_genesis *g) {
    char t[32];
    esg_time_format_rfc3339(g->genesis_time_ms, t);
    json_t *root = json_object(), *params = json_object();
    json_t *members = json_array(), *validators = json_array(),
           *kpis = json_array(), *accs = json_array();
    bool ok = root && params && members && validators && kpis && accs;
    ok = ok && put(root, "chain_id", json_string(g->chain_id));
    ok = ok && put(root, "genesis_time", json_string(t));
    ok = ok && put(params, "governance_threshold_bps",
                   json_integer(g->params.governance_threshold_bps));
    ok = ok && put(params, "proposal_ttl_blocks",
                   json_integer((json_int_t)g->params.proposal_ttl_blocks));
    ok = ok && put(params, "max_block_txs",
                   json_integer((json_int_t)g->params.max_block_txs));
    ok = ok && put(params, "max_block_bytes",
                   json_integer((json_int_t)g->params.max_block_bytes));
    ok = ok && put(root, "params", json_incref(params));
    ok = ok && put(root, "members", json_incref(members));
    ok = ok && put(root, "validators", json_incref(validators));
    ok = ok && put(root, "kpis", json_incref(kpis));
    ok = ok && put(root, "accreditations", json_incref(accs));

    for (size_t i = 0; ok && i < g->n_members; i++)
        ok = push(members, member_json(&g->members[i]));
    for (size_t i = 0; ok && i < g->n_validators; i++) {
        const esg_genesis_validator *v = &g->validators[i];
        json_t *o = json_object();
        ok = o && put(o, "pubkey", hex_string(&v->pubkey)) &&
             put(o, "power", json_integer((json_int_t)v->power)) &&
             put(o, "operator", json_string(v->operator_id));
        ok = adopt(validators, o, ok);
    }
    for (size_t i = 0; ok && i < g->n_kpis; i++) {
        const esg_genesis_kpi *k = &g->kpis[i];
        json_t *o = json_object();
        ok = o && put(o, "id", json_string(k->id)) &&
             put(o, "name", json_string(k->name)) &&
             put(o, "unit", json_string(k->unit)) &&
             put(o, "category", json_string(k->category)) &&
             put(o, "direction",
                 json_string(esg_kpi_direction_name(k->direction)));
        ok = adopt(kpis, o, ok);
    }
    for (size_t i = 0; ok && i < g->n_accreditations; i++) {
        const esg_genesis_accreditation *a = &g->accreditations[i];
        json_t *o = json_object(), *cats = json_array();
        ok = o && cats && put(o, "member", json_string(a->member));
        for (size_t c = 0; ok && c < a->n_categories; c++)
            ok = push(cats, json_string(a->categories[c]));
        ok = ok && put(o, "categories", json_incref(cats));
        json_decref(cats);
        ok = adopt(accs, o, ok);
    }
    json_decref(params);
    json_decref(members);
    json_decref(validators);
    json_decref(kpis);
    json_decref(accs);
    if (!ok) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int esg_genesis_to_json(const esg_genesis *g, char **out, size_t *len) {
    assert(g && out && len);
    *out = NULL;
    *len = 0;
    if (!writable(g))
        return ESG_ERR_GENESIS;
    json_t *root = genesis_json(g);
    if (!root)
        return ESG_ERR_NOMEM;
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return ESG_ERR_NOMEM;
    /* Copied so that the caller frees with free() whatever allocator
     * jansson was configured with. */
    size_t n = strlen(text);
    char *buf = malloc(n + 2);
    if (!buf) {
        free(text);
        return ESG_ERR_NOMEM;
    }
    memcpy(buf, text, n);
    buf[n] = '\n';
    buf[n + 1] = '\0';
    free(text);
    *out = buf;
    *len = n + 1;
    return ESG_OK;
}

/* -------------------------------------------------------------- builder */

esg_genesis *esg_genesis_new(const char *chain_id, uint64_t time_ms) {
    assert(chain_id);
    esg_genesis *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    if (!(g->chain_id = strdup(chain_id))) {
        free(g);
        return NULL;
    }
    g->genesis_time_ms = time_ms;
    default_params(&g->params);
    return g;
}

/* Grows *arr (of *n elements of `size` bytes) by one element, zeroed.
 * Returns the new element, or NULL (nothing changed) when out of memory. */
static void *grow(void **arr, size_t n, size_t size) {
    void *p = realloc(*arr, (n + 1) * size);
    if (!p)
        return NULL;
    *arr = p;
    memset((char *)p + n * size, 0, size);
    return (char *)p + n * size;
}

int esg_genesis_add_member(esg_genesis *g, const char *id, int kind,
                           const char *name, const char *country,
                           const esg_pubkey *admin) {
    assert(g && id && name && admin);
    esg_genesis_member m = {0};
    m.id = strdup(id);
    m.name = strdup(name);
    m.country = strdup(country ? country : "");
    m.lei = strdup("");
    m.kind = kind;
    m.accounts = malloc(sizeof *m.accounts);
    esg_genesis_member *slot = NULL;
    if (m.id && m.name && m.country && m.lei && m.accounts)
        slot = grow((void **)&g->members, g->n_members, sizeof *g->members);
    if (!slot) {
        member_release(&m);
        return ESG_ERR_NOMEM;
    }
    m.accounts[0] = (esg_genesis_account){*admin, ESG_ROLE_BITS_ALL};
    m.n_accounts = 1;
    *slot = m;
    g->n_members++;
    return ESG_OK;
}

static esg_genesis_member *member_by_id(esg_genesis *g, const char *id) {
    for (size_t i = 0; i < g->n_members; i++)
        if (g->members[i].id && strcmp(g->members[i].id, id) == 0)
            return &g->members[i];
    return NULL;
}

int esg_genesis_set_lei(esg_genesis *g, const char *member, const char *lei) {
    assert(g && member && lei);
    esg_genesis_member *m = member_by_id(g, member);
    if (!m)
        return ESG_ERR_UNKNOWN_MEMBER;
    char *copy = strdup(lei);
    if (!copy)
        return ESG_ERR_NOMEM;
    free(m->lei);
    m->lei = copy;
    return ESG_OK;
}

int esg_genesis_set_population(esg_genesis *g, const char *member,
                               uint64_t population) {
    assert(g && member);
    esg_genesis_member *m = member_by_id(g, member);
    if (!m)
        return ESG_ERR_UNKNOWN_MEMBER;
    m->population = population;
    return ESG_OK;
}

int esg_genesis_add_account(esg_genesis *g, const char *member,
                            const esg_pubkey *pk, unsigned roles) {
    assert(g && member && pk);
    for (size_t i = 0; i < g->n_members; i++) {
        esg_genesis_member *m = &g->members[i];
        if (!m->id || strcmp(m->id, member) != 0)
            continue;
        esg_genesis_account *acc =
            grow((void **)&m->accounts, m->n_accounts, sizeof *m->accounts);
        if (!acc)
            return ESG_ERR_NOMEM;
        *acc = (esg_genesis_account){*pk, roles};
        m->n_accounts++;
        return ESG_OK;
    }
    return ESG_ERR_UNKNOWN_MEMBER;
}

int esg_genesis_add_validator(esg_genesis *g, const esg_pubkey *pk,
                              uint64_t power, const char *operator_id) {
    assert(g && pk && operator_id);
    char *op = strdup(operator_id);
    esg_genesis_validator *v = op ? grow((void **)&g->validators,
                                         g->n_validators, sizeof *v)
                                  : NULL;
    if (!v) {
        free(op);
        return ESG_ERR_NOMEM;
    }
    *v = (esg_genesis_validator){*pk, power, op};
    g->n_validators++;
    return ESG_OK;
}

int esg_genesis_add_kpi(esg_genesis *g, const char *id, const char *name,
                        const char *unit, const char *category,
                        int direction) {
    assert(g && id && name && unit && category);
    esg_genesis_kpi k = {strdup(id), strdup(name), strdup(unit),
                         strdup(category), direction};
    esg_genesis_kpi *slot = NULL;
    if (k.id && k.name && k.unit && k.category)
        slot = grow((void **)&g->kpis, g->n_kpis, sizeof *g->kpis);
    if (!slot) {
        kpi_release(&k);
        return ESG_ERR_NOMEM;
    }
    *slot = k;
    g->n_kpis++;
    return ESG_OK;
}

int esg_genesis_add_default_kpis(esg_genesis *g) {
    /* ICMA Harmonised Framework for Impact Reporting core indicators,
     * in thousandths of the unit on chain (docs/GENESIS.md). */
    static const struct {
        const char *id, *name, *unit, *category;
        int direction;
    } cat[] = {
        {"ghg_avoided_tco2e", "Annual GHG emissions reduced or avoided",
         "tCO2e", "climate", ESG_KPI_HIGHER},
        {"ghg_emissions_tco2e", "Annual GHG emissions", "tCO2e", "climate",
         ESG_KPI_LOWER},
        {"renewable_capacity_mw", "Renewable energy capacity added", "MW",
         "energy", ESG_KPI_HIGHER},
        {"renewable_generation_mwh", "Annual renewable energy generation",
         "MWh", "energy", ESG_KPI_HIGHER},
        {"energy_saved_mwh", "Annual energy savings", "MWh", "energy",
         ESG_KPI_HIGHER},
        {"water_saved_m3", "Annual absolute water savings", "m3", "water",
         ESG_KPI_HIGHER},
        {"wastewater_treated_m3", "Annual wastewater treated, reused or avoided",
         "m3", "water", ESG_KPI_HIGHER},
        {"waste_diverted_t", "Annual waste prevented, reused or recycled", "t",
         "waste", ESG_KPI_HIGHER},
        {"clean_transport_passengers",
         "Annual passengers of clean public transport", "passengers/yr",
         "transport", ESG_KPI_HIGHER},
        {"green_floor_area_m2", "Floor area of certified green buildings",
         "m2", "buildings", ESG_KPI_HIGHER},
        {"affordable_housing_units", "Affordable housing units provided",
         "dwellings", "social", ESG_KPI_HIGHER},
        {"beneficiaries", "People benefiting from the project", "people",
         "social", ESG_KPI_HIGHER},
    };
    assert(g);
    size_t n0 = g->n_kpis;
    for (size_t i = 0; i < sizeof cat / sizeof cat[0]; i++) {
        if (esg_genesis_add_kpi(g, cat[i].id, cat[i].name, cat[i].unit,
                                cat[i].category, cat[i].direction) != ESG_OK) {
            /* Leave g as it was, as the other add functions do. */
            while (g->n_kpis > n0)
                kpi_release(&g->kpis[--g->n_kpis]);
            return ESG_ERR_NOMEM;
        }
    }
    return ESG_OK;
}

int esg_genesis_add_accreditation(esg_genesis *g, const char *member,
                                  const char *categories_csv) {
    assert(g && member && categories_csv);
    esg_genesis_accreditation a = {0};
    size_t n = 1;
    for (const char *p = categories_csv; *p; p++)
        n += *p == ',';
    a.member = strdup(member);
    a.categories = calloc(n, sizeof *a.categories);
    bool ok = a.member && a.categories;
    const char *p = categories_csv;
    for (size_t i = 0; ok && i < n; i++) {
        size_t len = strcspn(p, ",");
        ok = (a.categories[i] = strndup(p, len)) != NULL;
        a.n_categories = i + 1;
        p += len + (p[len] == ',');
    }
    esg_genesis_accreditation *slot =
        ok ? grow((void **)&g->accreditations, g->n_accreditations,
                  sizeof *slot)
           : NULL;
    if (!slot) {
        accreditation_release(&a);
        return ESG_ERR_NOMEM;
    }
    *slot = a;
    g->n_accreditations++;
    return ESG_OK;
}
