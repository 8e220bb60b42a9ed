/* Instrument spec JSON <-> InstrumentSpec (wallet/spec.h). */
#include "wallet/spec.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"
#include "ledger/pbjson.h"
#include "wallet/jreader.h"

/* Spec paths are short (fixed keys, a few levels) and so are its
 * messages: a reader keeps 255 bytes of path and 319 of message. */
#define SPEC_PATH_MAX 256
#define SPEC_MSG_MAX 320

/* True when `word` is one of the space-separated words of `list`. */
static bool in_words(const char *list, const char *word) {
    size_t wl = strlen(word);
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, " ");
        if (l == wl && l && memcmp(p, word, l) == 0)
            return true;
        p += l;
    }
    return false;
}

/* Checks that `j` is an object (the path names it) whose keys are all in
 * `allowed` and that holds every key of `required`. */
static int closed_object(esgw_jreader *r, const json_t *j, const char *what, const char *allowed,
                         const char *required) {
    if (!json_is_object(j))
        return esgw_jr_fail(r, ESG_ERR_JSON, "%s must be a JSON object, got %s", what,
                            esgw_jr_kind(j));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        if (!in_words(allowed, key)) {
            size_t old = esgw_jr_push_key(r, key);
            int rc = esgw_jr_fail(r, ESG_ERR_JSON, "unknown key (%s takes: %s)", what, allowed);
            esgw_jr_pop(r, old);
            return rc;
        }
    }
    for (const char *p = required; *p;) {
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, " ");
        if (l) {
            char k[64];
            snprintf(k, sizeof k, "%.*s", (int)l, p);
            if (!json_object_get(j, k)) {
                size_t old = esgw_jr_push_key(r, k);
                int rc = esgw_jr_fail(r, ESG_ERR_JSON, "missing (required in %s)", what);
                esgw_jr_pop(r, old);
                return rc;
            }
        }
        p += l;
    }
    return 0;
}

/* Each getter reads obj[key], with the path pointing at it while it does;
 * an absent optional key leaves *out as it is. */

static int get_string(esgw_jreader *r, const json_t *obj, const char *key, char **out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, key);
    int rc = esgw_jr_string(r, v, out);
    if (rc)
        return rc;
    esgw_jr_pop(r, old);
    return 0;
}

static int get_money(esgw_jreader *r, const json_t *obj, const char *key, uint64_t *out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, key);
    if (!json_is_string(v))
        return esgw_jr_fail(r, ESG_ERR_JSON,
                            "expected a string of integer minor units (\"100000\"), got %s",
                            esgw_jr_kind(v));
    int rc = esg_u64_parse(json_string_value(v), out);
    if (rc == ESG_ERR_OVERFLOW)
        return esgw_jr_fail(r, rc, "'%s' exceeds 2^64-1 minor units", json_string_value(v));
    if (rc)
        return esgw_jr_fail(r, ESG_ERR_BAD_DECIMAL, "'%.40s' is not an amount in minor units",
                            json_string_value(v));
    esgw_jr_pop(r, old);
    return 0;
}

static int get_milli(esgw_jreader *r, const json_t *obj, const char *key, int64_t *out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, key);
    if (!json_is_string(v))
        return esgw_jr_fail(r, ESG_ERR_JSON, "expected a decimal string (\"1500.000\"), got %s",
                            esgw_jr_kind(v));
    int rc = esg_milli_parse(json_string_value(v), out);
    if (rc == ESG_ERR_OVERFLOW)
        return esgw_jr_fail(r, rc, "'%.40s' is out of range", json_string_value(v));
    if (rc)
        return esgw_jr_fail(r, ESG_ERR_BAD_DECIMAL,
                            "'%.40s' is not a decimal with at most three decimals",
                            json_string_value(v));
    esgw_jr_pop(r, old);
    return 0;
}

/* A JSON integer in 0..max. */
static int read_uint(esgw_jreader *r, const json_t *v, uint64_t max, uint64_t *out) {
    if (!json_is_integer(v))
        return esgw_jr_fail(r, ESG_ERR_JSON, "expected an integer, got %s", esgw_jr_kind(v));
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i > max)
        return esgw_jr_fail(r, ESG_ERR_OVERFLOW,
                            "%" JSON_INTEGER_FORMAT " is out of range 0..%" PRIu64, i, max);
    *out = (uint64_t)i;
    return 0;
}

static int get_u32(esgw_jreader *r, const json_t *obj, const char *key, uint32_t *out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, key);
    uint64_t x = 0;
    int rc = read_uint(r, v, UINT32_MAX, &x);
    if (rc)
        return rc;
    *out = (uint32_t)x;
    esgw_jr_pop(r, old);
    return 0;
}

/* A count: a JSON integer or a decimal string. */
static int get_count(esgw_jreader *r, const json_t *obj, const char *key, uint64_t *out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, key);
    if (json_is_string(v)) {
        int rc = esg_u64_parse(json_string_value(v), out);
        if (rc == ESG_ERR_OVERFLOW)
            return esgw_jr_fail(r, rc, "'%s' exceeds 2^64-1", json_string_value(v));
        if (rc)
            return esgw_jr_fail(r, ESG_ERR_BAD_DECIMAL, "'%.40s' is not a non-negative integer",
                                json_string_value(v));
    } else {
        int rc = read_uint(r, v, INT64_MAX, out);
        if (rc)
            return rc;
    }
    esgw_jr_pop(r, old);
    return 0;
}

static int get_date(esgw_jreader *r, const json_t *obj, const char *key, char **out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, key);
    int32_t days;
    if (!json_is_string(v))
        return esgw_jr_fail(r, ESG_ERR_JSON, "expected a date \"YYYY-MM-DD\", got %s",
                            esgw_jr_kind(v));
    if (esg_date_parse(json_string_value(v), &days) != 0)
        return esgw_jr_fail(r, ESG_ERR_BAD_DATE, "'%.40s' is not a date YYYY-MM-DD",
                            json_string_value(v));
    esgw_jr_pop(r, old);
    return get_string(r, obj, key, out);
}

static int get_hash(esgw_jreader *r, const json_t *obj, const char *key, esg_pb_bytes *out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, key);
    if (!json_is_string(v))
        return esgw_jr_fail(r, ESG_ERR_JSON, "expected 64 hex characters, got %s", esgw_jr_kind(v));
    uint8_t *b = esgw_jr_alloc(r, 32);
    if (!b)
        return esgw_jr_nomem(r);
    if (json_string_length(v) != 64 || esg_hex_decode(b, 32, json_string_value(v)) != 0)
        return esgw_jr_fail(r, ESG_ERR_HEX, "'%.70s' is not a SHA-256 (64 hex characters)",
                            json_string_value(v));
    *out = esg_pb_bin(b, 32);
    esgw_jr_pop(r, old);
    return 0;
}

/* An enum by name, short ("CCM") or full ("EU_OBJECTIVE_CCM"), any case;
 * `names` lists the accepted ones for the error message. */
static int get_enum(esgw_jreader *r, const json_t *obj, const char *key,
                    const ProtobufCEnumDescriptor *ed, int code, const char *names, int *out) {
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, key);
    if (!json_is_string(v))
        return esgw_jr_fail(r, ESG_ERR_JSON, "expected a name, got %s", esgw_jr_kind(v));
    int e;
    if (esg_pb_enum_parse(ed, json_string_value(v), &e) != 0 || e == 0)
        return esgw_jr_fail(r, code, "unknown %s '%.40s' (one of %s)", key, json_string_value(v),
                            names);
    *out = e;
    esgw_jr_pop(r, old);
    return 0;
}

/* An array at obj[key] (absent: n = 0). */
static int get_array(esgw_jreader *r, const json_t *obj, const char *key, json_t **arr, size_t *n) {
    json_t *v = json_object_get(obj, key);
    *arr = NULL;
    *n = 0;
    if (!v)
        return 0;
    if (!json_is_array(v)) {
        size_t old = esgw_jr_push_key(r, key);
        int rc = esgw_jr_fail(r, ESG_ERR_JSON, "expected an array, got %s", esgw_jr_kind(v));
        esgw_jr_pop(r, old);
        return rc;
    }
    *arr = v;
    *n = json_array_size(v);
    return 0;
}

/* ------------------------------------------------------------ parts */

static int read_co_issuer(esgw_jreader *r, const json_t *j, esg_pb_co_issuer *ci) {
    int rc = closed_object(r, j, "a co-issuer", "member share_bps", "member share_bps");
    if (rc || (rc = get_string(r, j, "member", &ci->member)) ||
        (rc = get_u32(r, j, "share_bps", &ci->share_bps)))
        return rc;
    return 0;
}

/* An optional string that, when given, must say something: "" would read
 * as "not given", so a file that writes it most likely left a template
 * unfilled. */
static int get_text(esgw_jreader *r, const json_t *obj, const char *key, int code, char **out) {
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v) && json_string_length(v) == 0) {
        size_t old = esgw_jr_push_key(r, key);
        int rc = esgw_jr_fail(r, code, "must not be empty (leave the key out)");
        esgw_jr_pop(r, old);
        return rc;
    }
    return get_string(r, obj, key, out);
}

#define OBJECTIVES "CCM CCA WTR CE PPC BIO"

/* eu_objective and eu_objectives: one or more objectives, no repeats.
 * eu_objective is the first; eu_objectives, when both are given, lists
 * the further ones or the whole list starting with eu_objective (the two
 * readings cannot conflict: the further ones cannot repeat the first).
 * Into the message: the first in eu_objective, the others, in order, in
 * eu_objectives. */
static int read_objectives(esgw_jreader *r, const json_t *j, esg_pb_project *p) {
    int first = 0;
    int rc = get_enum(r, j, "eu_objective", &esg__eu_objective__descriptor, ESG_ERR_BAD_PROJECT,
                      OBJECTIVES, &first);
    json_t *arr;
    size_t n;
    if (rc || (rc = get_array(r, j, "eu_objectives", &arr, &n)) != 0)
        return rc;
    if (!first && !arr)
        return esgw_jr_fail(r, ESG_ERR_JSON,
                            "missing eu_objective or eu_objectives (an inline project needs "
                            "at least one objective)");
    int all[8];
    size_t k = 0;
    if (first)
        all[k++] = first;
    size_t old = esgw_jr_push_key(r, "eu_objectives");
    for (size_t i = 0; i < n; i++) {
        size_t o2 = esgw_jr_push_index(r, i);
        json_t *e = json_array_get(arr, i);
        int v;
        if (!json_is_string(e))
            return esgw_jr_fail(r, ESG_ERR_JSON, "expected a name, got %s", esgw_jr_kind(e));
        if (esg_pb_enum_parse(&esg__eu_objective__descriptor, json_string_value(e), &v) != 0 ||
            v == 0)
            return esgw_jr_fail(r, ESG_ERR_BAD_PROJECT,
                                "unknown eu_objective '%.40s' (one of " OBJECTIVES ")",
                                json_string_value(e));
        bool whole = i == 0 && first == v; /* the whole list, eu_objective first */
        for (size_t q = 0; q < k && !whole; q++)
            if (all[q] == v)
                return esgw_jr_fail(r, ESG_ERR_BAD_PROJECT, "'%s' is listed twice",
                                    json_string_value(e));
        if (!whole) {
            /* Six names, none twice: k never passes the array. */
            assert(k < sizeof all / sizeof all[0]);
            all[k++] = v;
        }
        esgw_jr_pop(r, o2);
    }
    if (k == 0)
        return esgw_jr_fail(r, ESG_ERR_BAD_PROJECT,
                            "an inline project needs at least one objective");
    esgw_jr_pop(r, old);
    p->eu_objective = (esg_pb_eu_objective)all[0];
    if (k > 1) {
        if (!(p->eu_objectives = esgw_jr_alloc(r, (k - 1) * sizeof *p->eu_objectives)))
            return esgw_jr_nomem(r);
        for (size_t q = 1; q < k; q++)
            p->eu_objectives[q - 1] = (esg_pb_eu_objective)all[q];
        p->n_eu_objectives = k - 1;
    }
    return 0;
}

static int read_sdgs(esgw_jreader *r, const json_t *j, esg_pb_project *p) {
    json_t *arr;
    size_t n;
    int rc = get_array(r, j, "sdgs", &arr, &n);
    if (rc || n == 0)
        return rc;
    if (!(p->sdgs = esgw_jr_alloc(r, n * sizeof *p->sdgs)))
        return esgw_jr_nomem(r);
    size_t old = esgw_jr_push_key(r, "sdgs");
    for (size_t i = 0; i < n; i++) {
        size_t o2 = esgw_jr_push_index(r, i);
        uint64_t x = 0;
        json_t *e = json_array_get(arr, i);
        if (!json_is_integer(e))
            return esgw_jr_fail(r, ESG_ERR_JSON, "expected an SDG number 1..17, got %s",
                                esgw_jr_kind(e));
        if ((rc = read_uint(r, e, UINT32_MAX, &x)) != 0 || x < 1 || x > 17)
            return esgw_jr_fail(r, ESG_ERR_BAD_PROJECT,
                                "%" JSON_INTEGER_FORMAT
                                " is no UN Sustainable Development Goal (1..17)",
                                json_integer_value(e));
        p->sdgs[i] = (uint32_t)x;
        esgw_jr_pop(r, o2);
    }
    esgw_jr_pop(r, old);
    p->n_sdgs = n;
    return 0;
}

#define REFERENCE_KEYS "id budget"
#define INLINE_KEYS                                                                     \
    "id city name eu_objective eu_objectives sdgs budget taxonomy_activity nace total_cost " \
    "location"

/* A project with no key but id and budget is a reference to a registered
 * project; any other key makes it an inline definition. */
static int read_project(esgw_jreader *r, const json_t *j, esg_pb_project *p) {
    if (!json_is_object(j))
        return esgw_jr_fail(r, ESG_ERR_JSON, "a project must be a JSON object, got %s",
                            esgw_jr_kind(j));
    bool reference = true;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)j, key, v) {
        (void)v;
        reference = reference && in_words(REFERENCE_KEYS, key);
    }
    if (reference) {
        int rc = closed_object(r, j, "a reference to a registered project", REFERENCE_KEYS,
                               REFERENCE_KEYS);
        if (rc || (rc = get_string(r, j, "id", &p->id)) ||
            (rc = get_money(r, j, "budget", &p->budget)))
            return rc;
        return 0;
    }
    int rc = closed_object(r, j, "an inline project", INLINE_KEYS, "id city name budget");
    if (rc || (rc = get_string(r, j, "id", &p->id)) || (rc = get_string(r, j, "city", &p->city)) ||
        (rc = get_string(r, j, "name", &p->name)) || (rc = read_objectives(r, j, p)) ||
        (rc = get_money(r, j, "budget", &p->budget)) || (rc = read_sdgs(r, j, p)) ||
        (rc = get_text(r, j, "taxonomy_activity", ESG_ERR_BAD_PROJECT, &p->taxonomy_activity)) ||
        (rc = get_text(r, j, "nace", ESG_ERR_BAD_PROJECT, &p->nace)) ||
        (rc = get_money(r, j, "total_cost", &p->total_cost)) ||
        (rc = get_text(r, j, "location", ESG_ERR_BAD_PROJECT, &p->location)))
        return rc;
    /* 0 is the message's "the budget": a file says so by leaving it out. */
    if (json_object_get(j, "total_cost") && p->total_cost == 0) {
        size_t old = esgw_jr_push_key(r, "total_cost");
        rc = esgw_jr_fail(r, ESG_ERR_BAD_PROJECT,
                          "must be positive (leave it out when it is the budget)");
        esgw_jr_pop(r, old);
        return rc;
    }
    return 0;
}

static int read_kpi_target(esgw_jreader *r, const json_t *j, esg_pb_kpi_target *t) {
    int rc = closed_object(r, j, "a KPI target", "kpi baseline target observation_date step_up_bps",
                           "kpi target observation_date step_up_bps");
    if (rc || (rc = get_string(r, j, "kpi", &t->kpi)) ||
        (rc = get_milli(r, j, "baseline", &t->baseline)) ||
        (rc = get_milli(r, j, "target", &t->target)) ||
        (rc = get_date(r, j, "observation_date", &t->observation_date)) ||
        (rc = get_u32(r, j, "step_up_bps", &t->step_up_bps)))
        return rc;
    return 0;
}

/* Reads the array obj[key] of objects, each into a new message of `size`
 * bytes made with `init`, through `fn`. */
typedef int (*read_fn)(esgw_jreader *r, const json_t *j, void *msg);

static int read_list(esgw_jreader *r, const json_t *obj, const char *key, size_t size,
                     const void *init, read_fn fn, void ***items, size_t *n_items) {
    json_t *arr;
    size_t n;
    int rc = get_array(r, obj, key, &arr, &n);
    if (rc || n == 0)
        return rc;
    void **v = esgw_jr_alloc(r, n * sizeof *v);
    if (!v)
        return esgw_jr_nomem(r);
    size_t old = esgw_jr_push_key(r, key);
    for (size_t i = 0; i < n; i++) {
        size_t o2 = esgw_jr_push_index(r, i);
        if (!(v[i] = esgw_jr_alloc(r, size)))
            return esgw_jr_nomem(r);
        memcpy(v[i], init, size);
        if ((rc = fn(r, json_array_get(arr, i), v[i])) != 0)
            return rc;
        esgw_jr_pop(r, o2);
    }
    esgw_jr_pop(r, old);
    *items = v;
    *n_items = n;
    return 0;
}

static int read_co_issuer_v(esgw_jreader *r, const json_t *j, void *m) {
    return read_co_issuer(r, j, m);
}
static int read_project_v(esgw_jreader *r, const json_t *j, void *m) {
    return read_project(r, j, m);
}
static int read_kpi_target_v(esgw_jreader *r, const json_t *j, void *m) {
    return read_kpi_target(r, j, m);
}

#define MAX_LOOKBACK_MONTHS 120

/* refinancing_lookback_months: 1..120 when given. Absent is 0 in the
 * message, which the ledger reads as its default (36), so an explicit 0
 * would say something it cannot mean. */
static int get_lookback(esgw_jreader *r, const json_t *obj, uint32_t *out) {
    json_t *v = json_object_get(obj, "refinancing_lookback_months");
    if (!v)
        return 0;
    size_t old = esgw_jr_push_key(r, "refinancing_lookback_months");
    uint64_t x = 0;
    int rc = read_uint(r, v, INT64_MAX, &x);
    if (rc)
        return rc;
    if (x == 0)
        return esgw_jr_fail(r, ESG_ERR_OVERFLOW,
                            "0 is out of range 1..120 (leave the key out for the default, 36)");
    if (x > MAX_LOOKBACK_MONTHS)
        return esgw_jr_fail(r, ESG_ERR_OVERFLOW, "%" PRIu64 " is out of range 1..120", x);
    *out = (uint32_t)x;
    esgw_jr_pop(r, old);
    return 0;
}

#define SPEC_KEYS                                                                          \
    "id kind name currency face_value units coupon_bps coupon_frequency_months issue_date " \
    "maturity_date co_issuers paying_agent projects kpi_targets framework_sha256 "         \
    "external_review_sha256 isin refinancing_lookback_months"
#define SPEC_REQUIRED                                                                      \
    "id kind name currency face_value units coupon_bps coupon_frequency_months issue_date " \
    "maturity_date co_issuers paying_agent projects"

int esgw_spec_parse(esg_pb_instrument_spec **out, const char *json, size_t len,
                    esgw_alloc_fn alloc, void *ctx, char *err, size_t errlen) {
    assert(out && (json || len == 0) && alloc);
    esgw_jreader r;
    esgw_jr_init(&r, alloc, ctx, err, errlen, SPEC_PATH_MAX, SPEC_MSG_MAX);
    *out = NULL;
    json_error_t je;
    json_t *j = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return esgw_jr_fail(&r, ESG_ERR_JSON, "not valid JSON: %s (line %d, column %d)", je.text,
                            je.line, je.column);
    esg_pb_instrument_spec *s = esgw_jr_alloc(&r, sizeof *s);
    int rc;
    if (!s) {
        rc = esgw_jr_nomem(&r);
        goto done;
    }
    *s = (esg_pb_instrument_spec)ESG_PB_INSTRUMENT_SPEC_INIT;
    int kind = 0;
    if ((rc = closed_object(&r, j, "an instrument spec", SPEC_KEYS, SPEC_REQUIRED)) ||
        (rc = get_string(&r, j, "id", &s->id)) ||
        (rc = get_enum(&r, j, "kind", &esg__instrument_kind__descriptor,
                       ESG_ERR_BAD_INSTRUMENT_KIND,
                       "GREEN_BOND SOCIAL_BOND SUSTAINABILITY_BOND SUSTAINABILITY_LINKED_BOND "
                       "GREEN_LOAN", &kind)) ||
        (rc = get_string(&r, j, "name", &s->name)) ||
        (rc = get_string(&r, j, "currency", &s->currency)) ||
        (rc = get_money(&r, j, "face_value", &s->face_value)) ||
        (rc = get_count(&r, j, "units", &s->units)) ||
        (rc = get_u32(&r, j, "coupon_bps", &s->coupon_bps)) ||
        (rc = get_u32(&r, j, "coupon_frequency_months", &s->coupon_frequency_months)) ||
        (rc = get_date(&r, j, "issue_date", &s->issue_date)) ||
        (rc = get_date(&r, j, "maturity_date", &s->maturity_date)) ||
        (rc = read_list(&r, j, "co_issuers", sizeof(esg_pb_co_issuer),
                        &(esg_pb_co_issuer)ESG_PB_CO_ISSUER_INIT, read_co_issuer_v,
                        (void ***)&s->co_issuers, &s->n_co_issuers)) ||
        (rc = get_string(&r, j, "paying_agent", &s->paying_agent)) ||
        (rc = read_list(&r, j, "projects", sizeof(esg_pb_project),
                        &(esg_pb_project)ESG_PB_PROJECT_INIT, read_project_v,
                        (void ***)&s->projects, &s->n_projects)) ||
        (rc = read_list(&r, j, "kpi_targets", sizeof(esg_pb_kpi_target),
                        &(esg_pb_kpi_target)ESG_PB_KPI_TARGET_INIT, read_kpi_target_v,
                        (void ***)&s->kpi_targets, &s->n_kpi_targets)) ||
        (rc = get_hash(&r, j, "framework_sha256", &s->framework_sha256)) ||
        (rc = get_hash(&r, j, "external_review_sha256", &s->external_review_sha256)) ||
        (rc = get_text(&r, j, "isin", ESG_ERR_BAD_ISIN, &s->isin)) ||
        (rc = get_lookback(&r, j, &s->refinancing_lookback_months)))
        goto done;
    s->kind = (esg_pb_instrument_kind)kind;
    *out = s;
done:
    json_decref(j);
    return rc;
}

/* ------------------------------------------------------------- check */

static bool instrument_id_valid(const char *s) {
    size_t n = strlen(s);
    if (n < 3 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* True for a reference to a registered project: nothing but id and
 * budget. The reader never makes an inline project like that (an inline
 * project has an objective), so the writer can tell the two apart. */
static bool is_reference(const esg_pb_project *p) {
    return !p->city[0] && !p->name[0] && p->eu_objective == 0 && p->n_eu_objectives == 0 &&
           p->n_sdgs == 0 && !p->taxonomy_activity[0] && !p->nace[0] && p->total_cost == 0 &&
           !p->location[0];
}

static int check_projects(const esg_pb_instrument_spec *s, char *err, size_t errlen) {
    for (size_t i = 0; i < s->n_projects; i++) {
        const esg_pb_project *p = s->projects[i];
        if (!esg_project_id_valid(p->id))
            return esg_errf(err, errlen, ESG_ERR_BAD_PROJECT_ID,
                            "projects[%zu].id: '%s' must match [A-Z0-9-]{3,40}", i, p->id);
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->projects[k]->id, p->id) == 0)
                return esg_errf(err, errlen, ESG_ERR_BAD_PROJECT,
                                "projects[%zu].id: '%s' is already projects[%zu]", i, p->id, k);
        /* A reference's city is the registered project's: the ledger's to check. */
        if (is_reference(p))
            continue;
        bool found = false;
        for (size_t k = 0; k < s->n_co_issuers && !found; k++)
            found = strcmp(s->co_issuers[k]->member, p->city) == 0;
        if (!found)
            return esg_errf(err, errlen, ESG_ERR_PROJECT_CITY,
                            "projects[%zu].city: '%s' is not a co-issuer", i, p->city);
        if (p->taxonomy_activity[0] && !esg_taxonomy_activity_valid(p->taxonomy_activity))
            return esg_errf(err, errlen, ESG_ERR_BAD_PROJECT,
                            "projects[%zu].taxonomy_activity: '%s' is not an EU Taxonomy "
                            "activity number (\"7.2\")", i, p->taxonomy_activity);
        if (p->nace[0] && !esg_nace_valid(p->nace))
            return esg_errf(err, errlen, ESG_ERR_BAD_PROJECT,
                            "projects[%zu].nace: '%s' is not a NACE Rev. 2 code (\"F41.2\")", i,
                            p->nace);
    }
    return 0;
}

int esgw_spec_check(const esg_pb_instrument_spec *s, char *err, size_t errlen) {
    assert(s);
    if (err && errlen)
        err[0] = '\0';
    if (!instrument_id_valid(s->id))
        return esg_errf(err, errlen, ESG_ERR_BAD_INSTRUMENT_ID,
                          "id: '%s' must match [A-Z0-9-]{3,40}", s->id);
    if (s->isin[0] && !esg_isin_valid(s->isin))
        return esg_errf(err, errlen, ESG_ERR_BAD_ISIN,
                        "isin: '%s' is not an ISIN (ISO 6166: two letters, nine letters or "
                        "digits, a check digit)", s->isin);
    if (s->kind < ESG_INSTRUMENT_GREEN_BOND || s->kind > ESG_INSTRUMENT_GREEN_LOAN)
        return esg_errf(err, errlen, ESG_ERR_BAD_INSTRUMENT_KIND, "kind: %d is not a kind",
                          (int)s->kind);
    const char *cur = s->currency;
    if (strlen(cur) != 3 || cur[0] < 'A' || cur[0] > 'Z' || cur[1] < 'A' || cur[1] > 'Z' ||
        cur[2] < 'A' || cur[2] > 'Z')
        return esg_errf(err, errlen, ESG_ERR_BAD_CURRENCY,
                          "currency: '%s' is not an ISO 4217 code (three upper-case letters)",
                          cur);
    if (s->face_value == 0)
        return esg_errf(err, errlen, ESG_ERR_BAD_AMOUNT, "face_value: must be positive");
    if (s->units == 0)
        return esg_errf(err, errlen, ESG_ERR_BAD_AMOUNT, "units: must be positive");
    if (s->n_co_issuers < 1 || s->n_co_issuers > 10)
        return esg_errf(err, errlen, ESG_ERR_CO_ISSUER_COUNT,
                          "co_issuers: %zu co-issuers; an instrument has 1 to 10",
                          s->n_co_issuers);
    uint64_t sum = 0;
    for (size_t i = 0; i < s->n_co_issuers; i++) {
        const esg_pb_co_issuer *ci = s->co_issuers[i];
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->co_issuers[k]->member, ci->member) == 0)
                return esg_errf(err, errlen, ESG_ERR_DUPLICATE_CO_ISSUER,
                                  "co_issuers[%zu].member: '%s' is already co_issuers[%zu]", i,
                                  ci->member, k);
        if (ci->share_bps == 0)
            return esg_errf(err, errlen, ESG_ERR_BAD_SHARE,
                              "co_issuers[%zu].share_bps: must be positive", i);
        sum += ci->share_bps;
    }
    if (sum != 10000)
        return esg_errf(err, errlen, ESG_ERR_SHARES_SUM,
                          "co_issuers: shares sum to %" PRIu64 " bps, not 10000", sum);
    int rc = check_projects(s, err, errlen);
    if (rc)
        return rc;
    int32_t issue, maturity;
    if (esg_date_parse(s->issue_date, &issue) != 0)
        return esg_errf(err, errlen, ESG_ERR_BAD_DATE, "issue_date: '%s' is not a date",
                          s->issue_date);
    if (esg_date_parse(s->maturity_date, &maturity) != 0)
        return esg_errf(err, errlen, ESG_ERR_BAD_DATE, "maturity_date: '%s' is not a date",
                          s->maturity_date);
    if (issue >= maturity)
        return esg_errf(err, errlen, ESG_ERR_BAD_DATES,
                          "maturity_date: %s is not after the issue date %s", s->maturity_date,
                          s->issue_date);
    uint32_t f = s->coupon_frequency_months;
    if (f != 1 && f != 3 && f != 6 && f != 12)
        return esg_errf(err, errlen, ESG_ERR_BAD_FREQUENCY,
                          "coupon_frequency_months: %" PRIu32 " is not 1, 3, 6 or 12", f);
    bool slb = s->kind == ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
    if (slb && s->n_kpi_targets == 0)
        return esg_errf(err, errlen, ESG_ERR_KPI_TARGETS,
                          "kpi_targets: a SUSTAINABILITY_LINKED_BOND needs at least one");
    if (!slb && s->n_kpi_targets > 0)
        return esg_errf(err, errlen, ESG_ERR_KPI_TARGETS,
                          "kpi_targets: only a SUSTAINABILITY_LINKED_BOND has KPI targets");
    for (size_t i = 0; i < s->n_kpi_targets; i++) {
        int32_t d;
        if (esg_date_parse(s->kpi_targets[i]->observation_date, &d) != 0)
            return esg_errf(err, errlen, ESG_ERR_BAD_DATE,
                              "kpi_targets[%zu].observation_date: '%s' is not a date", i,
                              s->kpi_targets[i]->observation_date);
    }
    return 0;
}

/* -------------------------------------------------------------- write */

static json_t *money_json(uint64_t v) {
    char b[21];
    esg_u64_format(v, b);
    return json_string(b);
}

static json_t *milli_json(int64_t v) {
    char b[32];
    esg_milli_format(v, b);
    return json_string(b);
}

static json_t *hash_json(const esg_pb_bytes *b) {
    char hex[2 * 64 + 1];
    if (b->len > 64)
        return NULL;
    esg_hex_encode(hex, b->data, b->len);
    return json_string(hex);
}

/* json_object_set_new that remembers a failure in *ok. */
static void put(json_t *o, const char *key, json_t *v, bool *ok) {
    if (!v || json_object_set_new(o, key, v) != 0)
        *ok = false;
}

static void put_array_item(json_t *a, json_t *v, bool *ok) {
    if (!v || json_array_append_new(a, v) != 0)
        *ok = false;
}

/* A reference as {id, budget}; an inline project with every key it has,
 * its objectives as "eu_objective" when there is one and as the whole
 * list "eu_objectives" when there are more. */
static json_t *project_json(const esg_pb_project *p, bool *ok) {
    json_t *po = json_object();
    if (!po)
        return NULL;
    put(po, "id", json_string(p->id), ok);
    if (is_reference(p)) {
        put(po, "budget", money_json(p->budget), ok);
        return po;
    }
    put(po, "city", json_string(p->city), ok);
    put(po, "name", json_string(p->name), ok);
    const ProtobufCEnumDescriptor *ed = &esg__eu_objective__descriptor;
    if (p->n_eu_objectives == 0) {
        put(po, "eu_objective", esg_pb_enum_to_json(ed, p->eu_objective), ok);
    } else {
        json_t *objs = json_array();
        put_array_item(objs, esg_pb_enum_to_json(ed, p->eu_objective), ok);
        for (size_t k = 0; objs && k < p->n_eu_objectives; k++)
            put_array_item(objs, esg_pb_enum_to_json(ed, p->eu_objectives[k]), ok);
        put(po, "eu_objectives", objs, ok);
    }
    json_t *sdgs = json_array();
    for (size_t k = 0; sdgs && k < p->n_sdgs; k++)
        put_array_item(sdgs, json_integer(p->sdgs[k]), ok);
    put(po, "sdgs", sdgs, ok);
    put(po, "budget", money_json(p->budget), ok);
    if (p->taxonomy_activity[0])
        put(po, "taxonomy_activity", json_string(p->taxonomy_activity), ok);
    if (p->nace[0])
        put(po, "nace", json_string(p->nace), ok);
    if (p->total_cost)
        put(po, "total_cost", money_json(p->total_cost), ok);
    if (p->location[0])
        put(po, "location", json_string(p->location), ok);
    return po;
}

json_t *esgw_spec_to_json(const esg_pb_instrument_spec *s) {
    assert(s);
    bool ok = true;
    json_t *o = json_object();
    if (!o)
        return NULL;
    put(o, "id", json_string(s->id), &ok);
    put(o, "kind", esg_pb_enum_to_json(&esg__instrument_kind__descriptor, s->kind), &ok);
    put(o, "name", json_string(s->name), &ok);
    put(o, "currency", json_string(s->currency), &ok);
    put(o, "face_value", money_json(s->face_value), &ok);
    put(o, "units", json_integer((json_int_t)s->units), &ok);
    if (s->units > INT64_MAX)
        put(o, "units", money_json(s->units), &ok);
    put(o, "coupon_bps", json_integer(s->coupon_bps), &ok);
    put(o, "coupon_frequency_months", json_integer(s->coupon_frequency_months), &ok);
    put(o, "issue_date", json_string(s->issue_date), &ok);
    put(o, "maturity_date", json_string(s->maturity_date), &ok);
    json_t *cos = json_array();
    for (size_t i = 0; cos && i < s->n_co_issuers; i++)
        put_array_item(cos,
                       json_pack("{s:s, s:I}", "member", s->co_issuers[i]->member, "share_bps",
                                 (json_int_t)s->co_issuers[i]->share_bps),
                       &ok);
    put(o, "co_issuers", cos, &ok);
    put(o, "paying_agent", json_string(s->paying_agent), &ok);
    json_t *projects = json_array();
    for (size_t i = 0; projects && i < s->n_projects; i++)
        put_array_item(projects, project_json(s->projects[i], &ok), &ok);
    put(o, "projects", projects, &ok);
    json_t *targets = json_array();
    for (size_t i = 0; targets && i < s->n_kpi_targets; i++) {
        const esg_pb_kpi_target *t = s->kpi_targets[i];
        json_t *to = json_object();
        if (to) {
            put(to, "kpi", json_string(t->kpi), &ok);
            put(to, "baseline", milli_json(t->baseline), &ok);
            put(to, "target", milli_json(t->target), &ok);
            put(to, "observation_date", json_string(t->observation_date), &ok);
            put(to, "step_up_bps", json_integer(t->step_up_bps), &ok);
        }
        put_array_item(targets, to, &ok);
    }
    put(o, "kpi_targets", targets, &ok);
    if (s->framework_sha256.len)
        put(o, "framework_sha256", hash_json(&s->framework_sha256), &ok);
    if (s->external_review_sha256.len)
        put(o, "external_review_sha256", hash_json(&s->external_review_sha256), &ok);
    if (s->isin[0])
        put(o, "isin", json_string(s->isin), &ok);
    if (s->refinancing_lookback_months)
        put(o, "refinancing_lookback_months", json_integer(s->refinancing_lookback_months), &ok);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
