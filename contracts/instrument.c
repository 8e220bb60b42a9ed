/* Instruments: issuance, subscriptions, closing, transfers; the schedule,
 * the co-issuer split and the holding rows (contracts/instrument.h).
 *
 * IssueInstrument checks the whole spec before it looks at signatures, so
 * a co-issuer named in a "missing signature" message is known to be a
 * real, active city. */
#include "contracts/instrument.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/projects.h"
#include "contracts/records.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"

#define MAX_INSTRUMENT_ID 40
/* instrument (<= 40) ‖ 0 ‖ member (<= 40) */
#define HOLDING_KEY_MAX (MAX_INSTRUMENT_ID + 1 + 40)

/* ------------------------------------------------------------- dates */

/* Howard Hinnant's civil calendar algorithms (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int m) {
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

/* `day` moved by `delta` months, the day of the month clamped to the
 * target month's length. |delta| < 2^33, so nothing below overflows. */
static int32_t shift_months(int32_t day, int64_t delta) {
    int64_t y;
    int m, d;
    civil_from_days(day, &y, &m, &d);
    int64_t total = y * 12 + (m - 1) + delta;
    int64_t ny = total >= 0 ? total / 12 : -((-total + 11) / 12);
    int nm = (int)(total - ny * 12) + 1;
    int dim = days_in_month(ny, nm);
    int64_t r = days_from_civil(ny, nm, d < dim ? d : dim);
    return r > INT32_MAX ? INT32_MAX : r < INT32_MIN ? INT32_MIN : (int32_t)r;
}

int32_t esg_date_add_months(int32_t day, uint32_t months) {
    return shift_months(day, (int64_t)months);
}

int32_t esg_date_sub_months(int32_t day, uint32_t months) {
    return shift_months(day, -(int64_t)months);
}

int esg_schedule(const esg_pb_instrument_spec *spec, int32_t *days, size_t max, size_t *n) {
    *n = 0;
    int32_t issue, maturity;
    if (esg_date_parse(spec->issue_date, &issue) != 0 ||
        esg_date_parse(spec->maturity_date, &maturity) != 0)
        return ESG_ERR_BAD_DATE;
    uint32_t f = spec->coupon_frequency_months;
    if (f != 1 && f != 3 && f != 6 && f != 12)
        return ESG_ERR_BAD_FREQUENCY;
    if (issue >= maturity)
        return ESG_ERR_BAD_DATES;
    /* Each date is at least 28 days after the previous one, so the loop
     * ends within max + 1 steps. */
    for (uint32_t k = 1;; k++) {
        int32_t d = esg_date_add_months(issue, k * f);
        if (d > maturity)
            return ESG_ERR_MATURITY_OFF_SCHEDULE;
        if (*n == max)
            return ESG_ERR_TOO_LARGE;
        if (days)
            days[*n] = d;
        (*n)++;
        if (d == maturity)
            return ESG_OK;
    }
}

void esg_split_by_shares(const esg_pb_instrument_spec *spec, uint64_t total, uint64_t *parts) {
    uint64_t sum = 0;
    for (size_t i = 0; i < spec->n_co_issuers; i++) {
        parts[i] = (uint64_t)((unsigned __int128)total * spec->co_issuers[i]->share_bps / 10000);
        sum += parts[i];
    }
    assert(spec->n_co_issuers > 0 && sum <= total);
    parts[0] += total - sum;
}

/* ---------------------------------------------------------- records */

/* True when `s` matches [A-Z0-9-]{min,max}. */
static bool upper_id_valid(const char *s, size_t min, size_t max) {
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= max || !((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return n >= min;
}

int esg_instrument_get(esg_state *st, const char *id, esg_pb_instrument_record **out) {
    *out = NULL;
    if (!upper_id_valid(id, 3, MAX_INSTRUMENT_ID))
        return ESG_ERR_UNKNOWN_INSTRUMENT;
    int rc = esg_state_get_msg(st, ESG_T_INSTRUMENTS, id, strlen(id),
                               ESG_PB_INSTRUMENT_RECORD_DESC, (ProtobufCMessage **)out);
    if (rc == 0 && !(*out)->spec) {
        esg_pb_free(*out);
        *out = NULL;
        return ESG_ERR_STORE_CORRUPT; /* every stored record has its spec */
    }
    return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_UNKNOWN_INSTRUMENT : rc;
}

int esg_instrument_put(esg_state *st, const esg_pb_instrument_record *rec) {
    const char *id = rec->spec->id;
    assert(upper_id_valid(id, 3, MAX_INSTRUMENT_ID));
    return esg_state_put_msg(st, ESG_T_INSTRUMENTS, id, strlen(id), &rec->base);
}

/* Writes instrument ‖ 0 ‖ member into key; returns the length, or 0 when
 * either id is too long to be valid (such a row cannot exist). */
static size_t holding_key(uint8_t key[HOLDING_KEY_MAX], const char *instrument,
                          const char *member) {
    size_t il = strlen(instrument), ml = strlen(member);
    if (il > MAX_INSTRUMENT_ID || ml > 40)
        return 0;
    memcpy(key, instrument, il);
    key[il] = 0;
    memcpy(key + il + 1, member, ml);
    return il + 1 + ml;
}

static int holding_get(esg_state *st, const char *instrument, const char *member,
                       esg_pb_holding **out) {
    *out = NULL;
    uint8_t key[HOLDING_KEY_MAX];
    size_t klen = holding_key(key, instrument, member);
    if (klen == 0)
        return ESG_ERR_NOT_FOUND;
    return esg_state_get_msg(st, ESG_T_HOLDINGS, key, klen, ESG_PB_HOLDING_DESC,
                             (ProtobufCMessage **)out);
}

int esg_holding_units(esg_state *st, const char *instrument, const char *member,
                      uint64_t *units) {
    *units = 0;
    esg_pb_holding *h;
    int rc = holding_get(st, instrument, member, &h);
    if (rc == ESG_ERR_NOT_FOUND)
        return ESG_OK;
    if (rc)
        return rc;
    *units = h->units;
    esg_pb_free(h);
    return ESG_OK;
}

int esg_holding_put(esg_state *st, const char *instrument, const char *member,
                    uint64_t units, uint64_t units_at_last_coupon) {
    uint8_t key[HOLDING_KEY_MAX];
    size_t klen = holding_key(key, instrument, member);
    assert(klen > 0);
    if (units == 0 && units_at_last_coupon == 0)
        return esg_state_del(st, ESG_T_HOLDINGS, key, klen);
    esg_pb_holding h = ESG_PB_HOLDING_INIT;
    h.instrument = (char *)(uintptr_t)instrument;
    h.member = (char *)(uintptr_t)member;
    h.units = units;
    h.units_at_last_coupon = units_at_last_coupon;
    return esg_state_put_msg(st, ESG_T_HOLDINGS, key, klen, &h.base);
}

static int collect_holding(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                           void *arg) {
    (void)key; (void)klen;
    esg_holding_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        esg_pb_holding **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return ESG_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    esg_pb_holding *h;
    if (esg_pb_decode(ESG_PB_HOLDING_DESC, val, vlen, SIZE_MAX, (ProtobufCMessage **)&h))
        return ESG_ERR_STORE_CORRUPT;
    l->v[l->n++] = h;
    return 0;
}

int esg_holdings_load(esg_state *st, const char *instrument, esg_holding_list *out) {
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    size_t il = strlen(instrument);
    if (il > MAX_INSTRUMENT_ID)
        return ESG_OK; /* no such instrument can exist */
    memcpy(prefix, instrument, il);
    prefix[il] = 0;
    return esg_state_iter(st, ESG_T_HOLDINGS, prefix, il + 1, collect_holding, out);
}

void esg_holdings_release(esg_holding_list *l) {
    for (size_t i = 0; i < l->n; i++)
        esg_pb_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Loads the instrument a transaction names, with a message when there is
 * none. */
static int require_instrument(esg_tx_ctx *ctx, const char *id,
                              esg_pb_instrument_record **out) {
    int rc = esg_instrument_get(ctx->st, id, out);
    if (rc == ESG_ERR_UNKNOWN_INSTRUMENT)
        return esg_tx_fail(ctx, rc, "no instrument '%s'", esg_rec_quote(id).s);
    return rc;
}

/* "a" or "an" before a member kind's name. */
static const char *article(int kind) {
    return kind == ESG_MEMBER_INVESTOR || kind == ESG_MEMBER_AUDITOR ? "an" : "a";
}

static const char *status_name(int s) {
    switch (s) {
    case ESG_INSTRUMENT_STATUS_OFFERING: return "OFFERING";
    case ESG_INSTRUMENT_STATUS_ACTIVE: return "ACTIVE";
    case ESG_INSTRUMENT_STATUS_MATURED: return "MATURED";
    default: return "UNKNOWN";
    }
}

static int require_status(esg_tx_ctx *ctx, const esg_pb_instrument_record *ins, int want) {
    if ((int)ins->status == want)
        return ESG_OK;
    return esg_tx_fail(ctx, ESG_ERR_BAD_STATUS, "instrument '%s' is %s, not %s", ins->spec->id,
                       status_name(ins->status), status_name(want));
}

/* ---------------------------------------------------- spec validation */

static int check_hash(esg_tx_ctx *ctx, const esg_pb_bytes *b, const char *what) {
    if (b->len == 0 || b->len == 32)
        return ESG_OK;
    return esg_tx_fail(ctx, ESG_ERR_BAD_HASH, "%s is %zu bytes, not 32 (or empty)", what,
                       b->len);
}

static int check_basics(esg_tx_ctx *ctx, const esg_pb_instrument_spec *s) {
    if (!upper_id_valid(s->id, 3, MAX_INSTRUMENT_ID))
        return esg_tx_fail(ctx, ESG_ERR_BAD_INSTRUMENT_ID,
                           "instrument id '%s' must match [A-Z0-9-]{3,40}",
                           esg_rec_quote(s->id).s);
    esg_pb_instrument_record *old;
    int rc = esg_instrument_get(ctx->st, s->id, &old);
    if (rc == 0) {
        esg_pb_free(old);
        return esg_tx_fail(ctx, ESG_ERR_INSTRUMENT_EXISTS, "instrument '%s' already exists",
                           s->id);
    }
    if (rc != ESG_ERR_UNKNOWN_INSTRUMENT)
        return rc;
    if (s->kind < ESG_INSTRUMENT_GREEN_BOND || s->kind > ESG_INSTRUMENT_GREEN_LOAN)
        return esg_tx_fail(ctx, ESG_ERR_BAD_INSTRUMENT_KIND,
                           "instrument kind %d is not GREEN_BOND, SOCIAL_BOND, "
                           "SUSTAINABILITY_BOND, SUSTAINABILITY_LINKED_BOND or GREEN_LOAN",
                           (int)s->kind);
    if (!esg_name_valid(s->name))
        return esg_tx_fail(ctx, ESG_ERR_BAD_NAME,
                           "name of '%s' must be 1..200 characters with no control character",
                           s->id);
    const char *c = s->currency;
    if (strlen(c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' ||
        c[2] < 'A' || c[2] > 'Z')
        return esg_tx_fail(ctx, ESG_ERR_BAD_CURRENCY,
                           "currency '%s' is not an ISO 4217 code (three upper-case letters)",
                           esg_rec_quote(c).s);
    if (s->face_value == 0)
        return esg_tx_fail(ctx, ESG_ERR_BAD_AMOUNT, "face value must be positive");
    if (s->units == 0)
        return esg_tx_fail(ctx, ESG_ERR_BAD_AMOUNT, "units offered must be positive");
    if (s->face_value > UINT64_MAX / s->units)
        return esg_tx_fail(ctx, ESG_ERR_OVERFLOW,
                           "face value x units (%llu x %llu) overflows 64 bits",
                           (unsigned long long)s->face_value, (unsigned long long)s->units);
    if (s->coupon_bps > ESG_MAX_COUPON_BPS)
        return esg_tx_fail(ctx, ESG_ERR_BAD_AMOUNT, "coupon %u bps exceeds %d bps",
                           s->coupon_bps, ESG_MAX_COUPON_BPS);
    return ESG_OK;
}

static int check_dates(esg_tx_ctx *ctx, const esg_pb_instrument_spec *s) {
    size_t n;
    int rc = esg_schedule(s, NULL, ESG_MAX_SCHEDULE, &n);
    switch (rc) {
    case ESG_OK:
        return ESG_OK;
    case ESG_ERR_BAD_DATE:
        return esg_tx_fail(ctx, rc, "issue date '%s' and maturity date '%s' must be YYYY-MM-DD",
                           esg_rec_quote(s->issue_date).s, esg_rec_quote(s->maturity_date).s);
    case ESG_ERR_BAD_FREQUENCY:
        return esg_tx_fail(ctx, rc, "coupon frequency %u months is not 1, 3, 6 or 12",
                           s->coupon_frequency_months);
    case ESG_ERR_BAD_DATES:
        return esg_tx_fail(ctx, rc, "issue date %s is not before maturity date %s",
                           s->issue_date, s->maturity_date);
    case ESG_ERR_MATURITY_OFF_SCHEDULE:
        return esg_tx_fail(ctx, rc,
                           "maturity %s is not issue date %s plus a multiple of %u months",
                           s->maturity_date, s->issue_date, s->coupon_frequency_months);
    case ESG_ERR_TOO_LARGE:
        return esg_tx_fail(ctx, ESG_ERR_BAD_DATES, "the term gives more than %d coupon dates",
                           ESG_MAX_SCHEDULE);
    default:
        return rc;
    }
}

/* Co-issuers: 1..10 distinct, active CITY members, shares > 0 summing to
 * 10000. */
static int check_co_issuers(esg_tx_ctx *ctx, const esg_pb_instrument_spec *s) {
    if (s->n_co_issuers < 1 || s->n_co_issuers > ESG_MAX_CO_ISSUERS)
        return esg_tx_fail(ctx, ESG_ERR_CO_ISSUER_COUNT, "%zu co-issuers, need 1 to %d",
                           s->n_co_issuers, ESG_MAX_CO_ISSUERS);
    uint64_t sum = 0;
    for (size_t i = 0; i < s->n_co_issuers; i++) {
        const esg_pb_co_issuer *ci = s->co_issuers[i];
        esg_pb_member *m;
        int rc = esg_rec_require_member(ctx, ci->member, "co-issuer", &m);
        if (rc)
            return rc;
        bool city = m->kind == ESG_MEMBER_CITY, suspended = m->suspended;
        int kind = m->kind;
        esg_pb_free(m);
        if (!city)
            return esg_tx_fail(ctx, ESG_ERR_CO_ISSUER_NOT_CITY,
                               "co-issuer '%s' is %s %s, not a CITY", ci->member,
                               article(kind), esg_member_kind_name(kind));
        if (suspended)
            return esg_tx_fail(ctx, ESG_ERR_CO_ISSUER_NOT_CITY, "co-issuer '%s' is suspended",
                               ci->member);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->co_issuers[j]->member, ci->member) == 0)
                return esg_tx_fail(ctx, ESG_ERR_DUPLICATE_CO_ISSUER,
                                   "co-issuer '%s' is listed twice", ci->member);
        if (ci->share_bps == 0)
            return esg_tx_fail(ctx, ESG_ERR_BAD_SHARE, "share of co-issuer '%s' is 0",
                               ci->member);
        sum += ci->share_bps;
    }
    if (sum != 10000)
        return esg_tx_fail(ctx, ESG_ERR_SHARES_SUM, "co-issuer shares sum to %llu bps, not 10000",
                           (unsigned long long)sum);
    return ESG_OK;
}

static bool is_co_issuer(const esg_pb_instrument_spec *s, const char *member) {
    for (size_t i = 0; i < s->n_co_issuers; i++)
        if (strcmp(s->co_issuers[i]->member, member) == 0)
            return true;
    return false;
}

static int check_paying_agent(esg_tx_ctx *ctx, const esg_pb_instrument_spec *s) {
    esg_pb_member *m;
    int rc = esg_rec_require_member(ctx, s->paying_agent, "paying agent", &m);
    if (rc)
        return rc;
    if (m->kind != ESG_MEMBER_PAYING_AGENT)
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_PAYING_AGENT,
                         "paying agent '%s' is %s %s, not a PAYING_AGENT", m->id,
                         article(m->kind), esg_member_kind_name(m->kind));
    else if (m->suspended)
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_PAYING_AGENT, "paying agent '%s' is suspended", m->id);
    esg_pb_free(m);
    return rc;
}

/* The objectives of an inline spec project: eu_objective, then the
 * further eu_objectives, into obj (ESG_MAX_PROJECT_OBJECTIVES + 1 room);
 * returns how many, or ESG_MAX_PROJECT_OBJECTIVES + 1 when there are too
 * many (esg_project_check refuses that count). */
static size_t spec_objectives(const esg_pb_project *p, int obj[ESG_MAX_PROJECT_OBJECTIVES + 1]) {
    size_t n = 0;
    if (p->eu_objective != ESG_EU_OBJECTIVE_UNSPECIFIED)
        obj[n++] = p->eu_objective;
    for (size_t i = 0; i < p->n_eu_objectives; i++) {
        if (n == ESG_MAX_PROJECT_OBJECTIVES + 1)
            break;
        obj[n++] = p->eu_objectives[i];
    }
    return n;
}

/* A spec project names only id and budget: a registered project. */
static bool is_reference(const esg_pb_project *p) {
    return p->city[0] == '\0' && p->name[0] == '\0';
}

/* Each project of the spec: a reference to a registered project of a
 * co-issuer, in the instrument's currency; or an inline definition (whose
 * id, when registered already, must name the same city and currency). */
static int check_projects(esg_tx_ctx *ctx, const esg_pb_instrument_spec *s) {
    if (s->n_projects < 1 || s->n_projects > ESG_MAX_PROJECTS)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "%zu projects, need 1 to %d",
                           s->n_projects, ESG_MAX_PROJECTS);
    for (size_t i = 0; i < s->n_projects; i++) {
        const esg_pb_project *p = s->projects[i];
        if (!esg_project_id_valid(p->id))
            return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT_ID, "project id '%s' must match "
                               "[A-Z0-9-]{3,40}", esg_rec_quote(p->id).s);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->projects[j]->id, p->id) == 0)
                return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s' is listed twice",
                                   p->id);
        if (p->budget == 0)
            return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "budget of project '%s' must be "
                               "positive", p->id);
        bool ref = is_reference(p);
        if (ref && (p->eu_objective || p->n_eu_objectives || p->n_sdgs || p->total_cost ||
                    p->taxonomy_activity[0] || p->nace[0] || p->location[0]))
            return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s' names no city and no "
                               "name, so it refers to a registered project: it may give only "
                               "its id and budget", p->id);
        if (!ref) {
            int obj[ESG_MAX_PROJECT_OBJECTIVES + 1];
            esg_project_fields f = {
                .id = p->id, .name = p->name, .taxonomy_activity = p->taxonomy_activity,
                .nace = p->nace, .location = p->location, .objectives = obj,
                .n_objectives = spec_objectives(p, obj), .sdgs = p->sdgs, .n_sdgs = p->n_sdgs,
                .total_cost = p->total_cost ? p->total_cost : p->budget};
            int rc = esg_project_check(ctx, &f);
            if (rc)
                return rc;
            if (!is_co_issuer(s, p->city))
                return esg_tx_fail(ctx, ESG_ERR_PROJECT_CITY, "city '%s' of project '%s' is "
                                   "not a co-issuer", esg_rec_quote(p->city).s, p->id);
        }
        esg_pb_project_record *reg;
        int rc = esg_project_get(ctx->st, p->id, &reg);
        if (rc == ESG_ERR_NOT_FOUND) {
            if (ref)
                return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_PROJECT, "project '%s' is not "
                                   "registered: register it first, or define it inline with "
                                   "its city and name", p->id);
            continue;
        }
        if (rc)
            return rc;
        if (ref && !is_co_issuer(s, reg->city))
            rc = esg_tx_fail(ctx, ESG_ERR_PROJECT_CITY, "project '%s' belongs to '%s', which "
                             "is not a co-issuer", reg->id, reg->city);
        else if (!ref && strcmp(reg->city, p->city) != 0)
            rc = esg_tx_fail(ctx, ESG_ERR_PROJECT_MISMATCH, "project '%s' is registered by "
                             "'%s', not '%s'", reg->id, reg->city, p->city);
        else if (strcmp(reg->currency, s->currency) != 0)
            rc = esg_tx_fail(ctx, ESG_ERR_PROJECT_MISMATCH, "project '%s' is costed in %s, the "
                             "instrument is in %s", reg->id, reg->currency, s->currency);
        else if (reg->n_instruments >= ESG_MAX_PROJECT_INSTRUMENTS)
            rc = esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s' is already financed by "
                             "%d instruments, the most one project may have", reg->id,
                             ESG_MAX_PROJECT_INSTRUMENTS);
        esg_pb_free(reg);
        if (rc)
            return rc;
    }
    return ESG_OK;
}

/* After the checks: registers the spec's inline projects that are new and
 * lists the instrument on every project it finances. */
static int register_projects(esg_tx_ctx *ctx, const esg_pb_instrument_spec *s) {
    for (size_t i = 0; i < s->n_projects; i++) {
        const esg_pb_project *p = s->projects[i];
        esg_pb_project_record *reg;
        int rc = esg_project_get(ctx->st, p->id, &reg);
        esg_pb_free(reg);
        if (rc == ESG_ERR_NOT_FOUND) {
            int obj[ESG_MAX_PROJECT_OBJECTIVES + 1];
            esg_project_fields f = {
                .id = p->id, .name = p->name, .taxonomy_activity = p->taxonomy_activity,
                .nace = p->nace, .location = p->location, .objectives = obj,
                .n_objectives = spec_objectives(p, obj), .sdgs = p->sdgs, .n_sdgs = p->n_sdgs,
                .total_cost = p->total_cost ? p->total_cost : p->budget};
            rc = esg_project_create(ctx, &f, p->city, s->currency);
        }
        if (rc == 0)
            rc = esg_project_link_instrument(ctx->st, p->id, s->id);
        if (rc)
            return rc;
    }
    return ESG_OK;
}

static int check_kpi_targets(esg_tx_ctx *ctx, const esg_pb_instrument_spec *s) {
    bool slb = s->kind == ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
    if (slb && s->n_kpi_targets == 0)
        return esg_tx_fail(ctx, ESG_ERR_KPI_TARGETS,
                           "a sustainability-linked bond needs at least one KPI target");
    if (!slb && s->n_kpi_targets > 0)
        return esg_tx_fail(ctx, ESG_ERR_KPI_TARGETS,
                           "only a sustainability-linked bond has KPI targets");
    if (s->n_kpi_targets > ESG_MAX_KPI_TARGETS)
        return esg_tx_fail(ctx, ESG_ERR_BAD_KPI_TARGET, "%zu KPI targets, at most %d",
                           s->n_kpi_targets, ESG_MAX_KPI_TARGETS);
    int32_t issue, maturity;
    /* check_dates() has passed. */
    if (esg_date_parse(s->issue_date, &issue) || esg_date_parse(s->maturity_date, &maturity))
        return ESG_ERR_INTERNAL;
    for (size_t i = 0; i < s->n_kpi_targets; i++) {
        const esg_pb_kpi_target *t = s->kpi_targets[i];
        esg_pb_kpi *k;
        int rc = esg_rec_kpi_get(ctx->st, t->kpi, &k);
        if (rc == ESG_ERR_NOT_FOUND)
            return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_KPI, "no KPI '%s' in the catalogue",
                               esg_rec_quote(t->kpi).s);
        if (rc)
            return rc;
        esg_pb_free(k);
        int32_t obs;
        if (esg_date_parse(t->observation_date, &obs) != 0)
            return esg_tx_fail(ctx, ESG_ERR_BAD_DATE, "observation date '%s' of KPI target "
                               "'%s' must be YYYY-MM-DD",
                               esg_rec_quote(t->observation_date).s, t->kpi);
        if (obs < issue || obs > maturity)
            return esg_tx_fail(ctx, ESG_ERR_BAD_KPI_TARGET, "observation date %s of KPI target "
                               "'%s' is outside %s..%s", t->observation_date, t->kpi,
                               s->issue_date, s->maturity_date);
        if (t->step_up_bps < 1 || t->step_up_bps > ESG_MAX_STEP_UP_BPS)
            return esg_tx_fail(ctx, ESG_ERR_BAD_KPI_TARGET, "step-up of KPI target '%s' is %u "
                               "bps, must be 1..%d", t->kpi, t->step_up_bps,
                               ESG_MAX_STEP_UP_BPS);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->kpi_targets[j]->kpi, t->kpi) == 0 &&
                strcmp(s->kpi_targets[j]->observation_date, t->observation_date) == 0)
                return esg_tx_fail(ctx, ESG_ERR_BAD_KPI_TARGET, "KPI target '%s' on %s is "
                                   "listed twice", t->kpi, t->observation_date);
    }
    return ESG_OK;
}

/* Claims, for co-issuer `member`, one signature of a live OFFICER account
 * of that member (the signer's own counts for its member). */
static int claim_cosigner(esg_tx_ctx *ctx, const char *member) {
    if (strcmp(ctx->signer->member, member) == 0)
        return ESG_OK;
    size_t n = esg_tx_n_sigs(ctx->tx);
    for (size_t i = 0; i < n; i++) {
        if (ctx->sig_claimed[i])
            continue;
        esg_pubkey pk;
        esg_tx_sig_at(ctx->tx, i, &pk, NULL);
        esg_pb_account *a;
        int rc = esg_rec_account_get(ctx->st, &pk, &a);
        if (rc == ESG_ERR_NOT_FOUND)
            continue;
        if (rc)
            return rc;
        bool ok = !a->revoked && strcmp(a->member, member) == 0 &&
                  esg_rec_account_has_role(a, ESG_ROLE_OFFICER);
        esg_pb_free(a);
        if (ok) {
            esg_tx_ctx_claim_sig(ctx, &pk);
            return ESG_OK;
        }
    }
    return esg_tx_fail(ctx, ESG_ERR_MISSING_COSIGNER, "no signature of an officer of '%s'",
                       member);
}

/* The EU GBS reporting fields: an optional ISIN and the refinancing
 * look-back (0 = ESG_DEFAULT_LOOKBACK_MONTHS). */
static int check_reporting(esg_tx_ctx *ctx, const esg_pb_instrument_spec *s) {
    if (s->isin[0] && !esg_isin_valid(s->isin))
        return esg_tx_fail(ctx, ESG_ERR_BAD_ISIN, "ISIN '%s' is not two letters, nine letters "
                           "or digits and a valid check digit", esg_rec_quote(s->isin).s);
    if (s->refinancing_lookback_months > ESG_MAX_LOOKBACK_MONTHS)
        return esg_tx_fail(ctx, ESG_ERR_BAD_DATES, "refinancing_lookback_months %u is more "
                           "than %d", s->refinancing_lookback_months, ESG_MAX_LOOKBACK_MONTHS);
    return ESG_OK;
}

uint32_t esg_instrument_lookback_months(const esg_pb_instrument_spec *s) {
    return s->refinancing_lookback_months ? s->refinancing_lookback_months
                                          : ESG_DEFAULT_LOOKBACK_MONTHS;
}

/* ------------------------------------------------------------ actions */

int esg_instrument_issue(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_instrument_spec *s =
        ctx->body->issue_instrument ? ctx->body->issue_instrument->spec : NULL;
    if (!s)
        return esg_tx_fail(ctx, ESG_ERR_BAD_INSTRUMENT_ID, "no instrument spec given");
    if ((rc = check_basics(ctx, s)) != 0 || (rc = check_dates(ctx, s)) != 0 ||
        (rc = check_co_issuers(ctx, s)) != 0 || (rc = check_paying_agent(ctx, s)) != 0 ||
        (rc = check_projects(ctx, s)) != 0 || (rc = check_kpi_targets(ctx, s)) != 0 ||
        (rc = check_hash(ctx, &s->framework_sha256, "framework_sha256")) != 0 ||
        (rc = check_hash(ctx, &s->external_review_sha256, "external_review_sha256")) != 0 ||
        (rc = check_reporting(ctx, s)) != 0)
        return rc;
    if (!is_co_issuer(s, ctx->signer->member))
        return esg_tx_fail(ctx, ESG_ERR_UNAUTHORIZED, "signer's member '%s' is not a co-issuer "
                           "of '%s'", ctx->signer->member, s->id);
    for (size_t i = 0; i < s->n_co_issuers; i++)
        if ((rc = claim_cosigner(ctx, s->co_issuers[i]->member)) != 0)
            return rc;
    esg_pb_instrument_record rec = ESG_PB_INSTRUMENT_RECORD_INIT;
    rec.spec = (esg_pb_instrument_spec *)(uintptr_t)s;
    rec.status = ESG_INSTRUMENT_STATUS_OFFERING;
    rec.issue_tx = esg_pb_bin(ctx->tx->id.b, 32);
    rec.issued_height = ctx->height;
    if ((rc = esg_instrument_put(ctx->st, &rec)) != 0)
        return rc;
    return register_projects(ctx, s);
}

int esg_instrument_subscribe(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    esg_pb_member *m;
    if ((rc = esg_rec_signer_member(ctx, &m)) != 0)
        return rc;
    bool investor = m->kind == ESG_MEMBER_INVESTOR;
    int kind = m->kind;
    esg_pb_free(m);
    if (!investor)
        return esg_tx_fail(ctx, ESG_ERR_NOT_INVESTOR, "member '%s' is %s %s, not an INVESTOR",
                           ctx->signer->member, article(kind), esg_member_kind_name(kind));
    const esg_pb_subscribe *sub = ctx->body->subscribe;
    esg_pb_instrument_record *ins;
    if ((rc = require_instrument(ctx, sub->instrument, &ins)) != 0)
        return rc;
    if ((rc = require_status(ctx, ins, ESG_INSTRUMENT_STATUS_OFFERING)) != 0)
        goto out;
    uint64_t remaining = ins->spec->units - ins->units_sold;
    if (sub->units < 1) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_UNITS, "units must be at least 1");
        goto out;
    }
    if (sub->units > remaining) {
        rc = esg_tx_fail(ctx, ESG_ERR_INSUFFICIENT_UNITS, "%llu units asked, %llu remain in '%s'",
                         (unsigned long long)sub->units, (unsigned long long)remaining,
                         ins->spec->id);
        goto out;
    }
    esg_pb_holding *h;
    rc = holding_get(ctx->st, ins->spec->id, ctx->signer->member, &h);
    if (rc && rc != ESG_ERR_NOT_FOUND)
        goto out;
    uint64_t units = h ? h->units : 0, snap = h ? h->units_at_last_coupon : 0;
    esg_pb_free(h);
    /* units + sub->units <= units_sold + sub->units <= spec units. */
    if ((rc = esg_holding_put(ctx->st, ins->spec->id, ctx->signer->member, units + sub->units,
                              snap)) != 0)
        goto out;
    esg_pb_instrument_record copy = *ins;
    copy.units_sold = ins->units_sold + sub->units;
    rc = esg_instrument_put(ctx->st, &copy);
out:
    esg_pb_free(ins);
    return rc;
}

int esg_instrument_close(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    esg_pb_instrument_record *ins;
    if ((rc = require_instrument(ctx, ctx->body->close_offering->instrument, &ins)) != 0)
        return rc;
    const esg_pb_instrument_spec *s = ins->spec;
    if (strcmp(ctx->signer->member, s->co_issuers[0]->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_LEAD_ISSUER, "'%s' is not the lead co-issuer of '%s' "
                         "('%s' is)", ctx->signer->member, s->id, s->co_issuers[0]->member);
        goto out;
    }
    if ((rc = require_status(ctx, ins, ESG_INSTRUMENT_STATUS_OFFERING)) != 0)
        goto out;
    /* A bond with no holders has nobody to pay and no amount to allocate. */
    if (ins->units_sold == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_UNITS, "nothing was subscribed to '%s'", s->id);
        goto out;
    }
    if (s->face_value > UINT64_MAX / ins->units_sold) { /* checked at issue; kept honest */
        rc = esg_tx_fail(ctx, ESG_ERR_OVERFLOW, "amount raised overflows 64 bits");
        goto out;
    }
    esg_pb_instrument_record copy = *ins;
    copy.status = ESG_INSTRUMENT_STATUS_ACTIVE;
    copy.amount_raised = ins->units_sold * s->face_value;
    copy.units_outstanding = ins->units_sold;
    copy.closed_height = ctx->height;
    rc = esg_instrument_put(ctx->st, &copy);
out:
    esg_pb_free(ins);
    return rc;
}

/* The receiver of a transfer: an existing, not suspended INVESTOR member
 * other than the sender. */
static int check_receiver(esg_tx_ctx *ctx, const char *to) {
    if (strcmp(to, ctx->signer->member) == 0)
        return esg_tx_fail(ctx, ESG_ERR_BAD_RECEIVER, "'%s' cannot transfer to itself", to);
    esg_pb_member *m;
    int rc = esg_rec_member_get(ctx->st, to, &m);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_BAD_RECEIVER, "receiver '%s' is not a member",
                           esg_rec_quote(to).s);
    if (rc)
        return rc;
    if (m->kind != ESG_MEMBER_INVESTOR)
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_RECEIVER, "receiver '%s' is %s %s, not an INVESTOR",
                         to, article(m->kind), esg_member_kind_name(m->kind));
    else if (m->suspended)
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_RECEIVER, "receiver '%s' is suspended", to);
    esg_pb_free(m);
    return rc;
}

int esg_instrument_transfer(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_transfer *t = ctx->body->transfer;
    const char *from = ctx->signer->member;
    esg_pb_instrument_record *ins;
    if ((rc = require_instrument(ctx, t->instrument, &ins)) != 0)
        return rc;
    const char *id = ins->spec->id;
    esg_pb_holding *hf = NULL, *ht = NULL;
    if ((rc = require_status(ctx, ins, ESG_INSTRUMENT_STATUS_ACTIVE)) != 0)
        goto out;
    if (t->units < 1) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_UNITS, "units must be at least 1");
        goto out;
    }
    if ((rc = check_receiver(ctx, t->to_member)) != 0)
        goto out;
    rc = holding_get(ctx->st, id, from, &hf);
    if (rc && rc != ESG_ERR_NOT_FOUND)
        goto out;
    uint64_t held = hf ? hf->units : 0;
    if (t->units > held) {
        rc = esg_tx_fail(ctx, ESG_ERR_INSUFFICIENT_HOLDING, "'%s' holds %llu units of '%s', not "
                         "%llu", from, (unsigned long long)held, id,
                         (unsigned long long)t->units);
        goto out;
    }
    rc = holding_get(ctx->st, id, t->to_member, &ht);
    if (rc && rc != ESG_ERR_NOT_FOUND)
        goto out;
    /* Both sides are parts of units_outstanding, so the sum fits. */
    uint64_t to_units = (ht ? ht->units : 0) + t->units;
    if ((rc = esg_holding_put(ctx->st, id, from, held - t->units,
                              hf->units_at_last_coupon)) != 0)
        goto out;
    rc = esg_holding_put(ctx->st, id, t->to_member, to_units,
                         ht ? ht->units_at_last_coupon : 0);
out:
    esg_pb_free(hf);
    esg_pb_free(ht);
    esg_pb_free(ins);
    return rc;
}
