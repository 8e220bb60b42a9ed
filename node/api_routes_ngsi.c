/* A read-only subset of the NGSI-LD API (ETSI GS CIM 009), so that a
 * city's urban data platform (FIWARE, OASC MIM1/MIM2) can read the
 * ledger's impact figures as FIWARE Smart Data Models
 * KeyPerformanceIndicator entities. docs/NGSI-LD.md is the contract: the
 * routes, the mapping field by field, the q subset, the contexts.
 *
 * One entity per counted impact report: a live (not superseded) report
 * that the counting rule of contracts/impact.h counts, i.e. one figure per
 * (city, project, KPI, reporting period) as the ledger counts it. Its id
 * is built from those (live reports of a project and KPI never share a
 * day, so they are unique), which keeps it stable when a report is
 * restated for the same period.
 *
 * Bounds: a request holds at most one page of entities (limit <= 1000)
 * in memory. It reads the impact-report index in key order and, row by
 * row, one report and its attestations, so its time is linear in the
 * reports it scans (all of them when the filter cannot narrow the scan by
 * process / kpi, or when count=true) while its memory is not. Errors use
 * NGSI-LD's ProblemDetails body, not the API's usual {"error": ...}; the
 * router's own answers (401 without the token, 404 for an unknown path)
 * keep the API's format. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contracts/impact.h"
#include "contracts/records.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"
#include "ledger/state.h"
#include "node/api_routes.h"

#define NGSI_ERR "https://uri.etsi.org/ngsi-ld/errors/"
#define ENTITY_TYPE "KeyPerformanceIndicator"
#define URN_PREFIX "urn:ngsi-ld:" ENTITY_TYPE ":"
/* The model's published @context and its type's IRI (from that context). */
#define MODEL_CONTEXT \
    "https://raw.githubusercontent.com/smart-data-models/dataModel.KeyPerformanceIndicator/master/context.jsonld"
#define MODEL_TYPE_IRI \
    "https://smartdatamodels.org/dataModel.KeyPerformanceIndicator/KeyPerformanceIndicator"
#define CORE_CONTEXT "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld"
#define OWN_CONTEXT_PATH "/ngsi-ld/v1/contexts/esgledger.jsonld"
#define LINK_CONTEXT_PATH "/ngsi-ld/v1/contexts/esgledger-kpi.jsonld"
#define JSONLD_REL "http://www.w3.org/ns/json-ld#context"

#define LIMIT_DEFAULT 20
#define LIMIT_MAX 1000
#define Q_MAX_TERMS 16

/* The terms this node adds to the model, as one JSON object (the body of
 * esgledger.jsonld and the middle of esgledger-kpi.jsonld). Their IRIs are
 * URNs: fixed, so that every node's entities expand alike, and not meant
 * to be dereferenced. */
#define OWN_TERMS                                                        \
    "{\"esg\":\"urn:esgledger:ngsi-ld:\","                               \
    "\"kpi\":\"esg:kpi\",\"unit\":\"esg:unit\","                         \
    "\"impactCategory\":\"esg:impactCategory\","                         \
    "\"reportedValue\":\"esg:reportedValue\","                           \
    "\"attestation\":\"esg:attestation\","                               \
    "\"attestationOpinion\":\"esg:attestationOpinion\","                 \
    "\"attestationId\":\"esg:attestationId\","                           \
    "\"verifier\":\"esg:verifier\",\"opinion\":\"esg:opinion\","         \
    "\"verifiedValue\":\"esg:verifiedValue\","                           \
    "\"chainId\":\"esg:chainId\",\"txId\":\"esg:txId\","                 \
    "\"blockHeight\":\"esg:blockHeight\","                               \
    "\"stateProof\":\"esg:stateProof\","                                 \
    "\"evidenceSha256\":\"esg:evidenceSha256\"}"

/* ------------------------------------------------------------ responses */

/* Sends body (consumed) as `ctype`, numbers of the KPI's unit with at
 * most 15 significant digits (what a double holds exactly). */
static void reply_doc(esg_api__call *c, unsigned status, const char *ctype, json_t *body) {
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(body);
    if (!text) {
        esg_api__fail(c, ESG_ERR_NOMEM, NULL);
        return;
    }
    esg_api__reply_raw(c, status, ctype, (uint8_t *)text, strlen(text));
}

/* An NGSI-LD error: `type` is the last segment of the error type URI. */
static void ngsi_fail(esg_api__call *c, unsigned status, const char *type, const char *title,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void ngsi_fail(esg_api__call *c, unsigned status, const char *type, const char *title,
                      const char *fmt, ...) {
    char detail[400], uri[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(uri, sizeof uri, NGSI_ERR "%s", type);
    /* detail may quote client bytes; esg_api__quote made them ASCII. */
    reply_doc(c, status, "application/json",
              json_pack("{s:s,s:s,s:s}", "type", uri, "title", title, "detail", detail));
}

static void bad_request(esg_api__call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bad_request(esg_api__call *c, const char *fmt, ...) {
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    ngsi_fail(c, 400, "BadRequestData", "Bad request data", "%s", detail);
}

static void internal_error(esg_api__call *c, int rc) {
    ngsi_fail(c, rc == ESG_ERR_NOMEM ? 503 : 500, "InternalError", "Internal error",
              "%s: %s", esg_err_name(rc), esg_err_message(rc));
}

/* -------------------------------------------------- content negotiation */

/* Reads the Accept header: true and *ld (application/ld+json wanted) when
 * application/json or application/ld+json is acceptable, taking the one
 * of the highest q (an explicit type before a wildcard at equal q, the
 * first listed at equal q otherwise); no header is application/json.
 * False (406 set) when neither is. */
static bool negotiate(esg_api__call *c, bool *ld) {
    const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Accept");
    *ld = false;
    if (!h || !*h)
        return true;
    int best = 0;
    for (const char *p = h; *p;) {
        size_t n = strcspn(p, ",");
        char item[128];
        size_t m = n < sizeof item ? n : sizeof item - 1;
        memcpy(item, p, m);
        item[m] = '\0';
        p += n + (p[n] == ',');
        char *semi = strchr(item, ';');
        char *params = semi ? semi + 1 : NULL;
        if (semi)
            *semi = '\0';
        char *t = item;
        while (*t == ' ' || *t == '\t')
            t++;
        size_t tl = strlen(t);
        while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
            t[--tl] = '\0';
        int kind; /* 1 json, 2 ld+json; +0 wildcard, specific scores higher */
        bool specific = true;
        if (strcasecmp(t, "application/ld+json") == 0)
            kind = 2;
        else if (strcasecmp(t, "application/json") == 0)
            kind = 1;
        else if (strcmp(t, "*/*") == 0 || strcasecmp(t, "application/*") == 0)
            kind = 1, specific = false;
        else
            continue;
        int q = 1000; /* thousandths */
        for (char *a = params; a && *a;) {
            while (*a == ' ' || *a == ';')
                a++;
            if ((a[0] == 'q' || a[0] == 'Q') && a[1] == '=') {
                const char *v = a + 2;
                q = 0;
                if (*v == '1')
                    q = 1000;
                else if (*v == '0' && v[1] == '.')
                    for (int i = 0, f = 100; i < 3 && v[2 + i] >= '0' && v[2 + i] <= '9';
                         i++, f /= 10)
                        q += (v[2 + i] - '0') * f;
            }
            a += strcspn(a, ";");
        }
        int score = q * 2 + (specific ? 1 : 0);
        if (q > 0 && score > best) {
            best = score;
            *ld = kind == 2;
        }
    }
    if (best == 0) {
        char qh[80];
        esg_api__quote(qh, sizeof qh, h);
        ngsi_fail(c, 406, "NotAcceptable", "Not acceptable",
                  "Accept '%s' allows neither application/json nor application/ld+json", qh);
        return false;
    }
    return true;
}

/* "http://HOST" as the client addressed this node (its Host header, when
 * it is a plain host[:port]), else the address the API listens on. */
static void base_url(const esg_api__call *c, char out[300]) {
    const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Host");
    if (h && *h && strlen(h) < 256 &&
        strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") ==
            strlen(h))
        snprintf(out, 300, "http://%s", h);
    else
        snprintf(out, 300, "http://127.0.0.1:%u", (unsigned)esg_api_port(c->api));
}

/* ------------------------------------------------------------ contexts */

/* GET /ngsi-ld/v1/contexts/{name}: the two static context documents.
 * esgledger.jsonld holds this node's terms only; esgledger-kpi.jsonld is
 * what the Link header of an application/json answer names, the whole
 * context of an entity in one document (the model's, ours, the core). */
void esg_api__r_ngsi_context(esg_api__call *c) {
    static const char own[] = "{\"@context\":" OWN_TERMS "}";
    static const char all[] = "{\"@context\":[\"" MODEL_CONTEXT "\"," OWN_TERMS
                              ",\"" CORE_CONTEXT "\"]}";
    const char *doc = strcmp(c->params[0], "esgledger.jsonld") == 0       ? own
                      : strcmp(c->params[0], "esgledger-kpi.jsonld") == 0 ? all
                                                                          : NULL;
    if (!doc) {
        char q[80];
        esg_api__quote(q, sizeof q, c->params[0]);
        ngsi_fail(c, 404, "ResourceNotFound", "Resource not found",
                  "no context '%s' (this node serves esgledger.jsonld and "
                  "esgledger-kpi.jsonld)",
                  q);
        return;
    }
    size_t n = strlen(doc);
    uint8_t *buf = malloc(n);
    if (!buf) {
        esg_api__fail(c, ESG_ERR_NOMEM, NULL);
        return;
    }
    memcpy(buf, doc, n);
    esg_api__reply_raw(c, 200, "application/ld+json", buf, n);
}

/* -------------------------------------------------------------- figures */

/* One counted report with what its entity and the q filter read. */
typedef struct fig {
    const esg_pb_report *r;
    const esg_pb_kpi *kpi;
    const esg_pb_attestation *att; /* the live attestation whose value counts */
    int64_t value;                 /* counted value, thousandths */
    const char *freq;              /* calculationFrequency, or NULL */
    const char *unit_code;         /* UN/CEFACT code, or NULL */
} fig;

/* UN/CEFACT Recommendation 20 codes of the catalogue's units. tCO2e is a
 * mass in tonnes of CO2-equivalent: TNE (tonne) names the unit, the
 * quantity is in the KPI's name and "unit". Counts of things (dwellings,
 * people, passengers per year) and any unit not listed get none. */
static const char *unit_code(const char *unit) {
    static const struct {
        const char *unit, *code;
    } map[] = {
        {"tCO2e", "TNE"}, {"t", "TNE"}, {"MWh", "MWH"}, {"kWh", "KWH"}, {"GWh", "GWH"},
        {"MW", "MAW"},    {"kW", "KWT"}, {"m3", "MTQ"}, {"m2", "MTK"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(unit, map[i].unit) == 0)
            return map[i].code;
    return NULL;
}

/* The model's calculationFrequency from the period's length in days
 * (inclusive); NULL when none of its values fits. */
static const char *frequency(const char *from, const char *to) {
    int32_t a, b;
    if (esg_date_parse(from, &a) || esg_date_parse(to, &b) || b < a)
        return NULL;
    int32_t d = b - a + 1;
    if (d == 1)
        return "daily";
    if (d == 7)
        return "weekly";
    if (d >= 28 && d <= 31)
        return "monthly";
    if (d >= 89 && d <= 92)
        return "quarterly";
    if (d == 365 || d == 366)
        return "yearly";
    return NULL;
}

static const char *opinion_name(int o) {
    return o == ESG_OPINION_CONFIRMED   ? "CONFIRMED"
           : o == ESG_OPINION_QUALIFIED ? "QUALIFIED"
           : o == ESG_OPINION_REJECTED  ? "REJECTED"
                                        : "UNSPECIFIED";
}

/* ------------------------------------------------------------------ q */

typedef enum { Q_EXISTS, Q_EQ, Q_NE, Q_LT, Q_LE, Q_GT, Q_GE } q_op;

/* A literal: a quoted string or a decimal number (mant / 10^dec). */
typedef struct q_val {
    bool is_num;
    char s[128];
    __int128 mant;
    int dec;
} q_val;

#define Q_MAX_VALUES 8
typedef struct q_term {
    char attr[48];
    q_op op;
    bool range;     /* == / != a..b */
    size_t n;       /* values (a list for == / !=; two for a range) */
    q_val v[Q_MAX_VALUES];
} q_term;

typedef struct q_expr {
    size_t n;
    q_term t[Q_MAX_TERMS];
} q_expr;

/* Parses one literal at *p (advanced past it). */
static bool q_literal(const char **p, q_val *v, char *err, size_t errlen) {
    const char *s = *p;
    memset(v, 0, sizeof *v);
    if (*s == '"') {
        size_t n = 0;
        for (s++; *s && *s != '"'; s++) {
            if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
                s++;
            if (n + 1 >= sizeof v->s) {
                snprintf(err, errlen, "a string value is longer than %zu bytes",
                         sizeof v->s - 1);
                return false;
            }
            v->s[n++] = *s;
        }
        if (*s != '"') {
            snprintf(err, errlen, "a string value has no closing '\"'");
            return false;
        }
        *p = s + 1;
        return true;
    }
    bool neg = *s == '-';
    if (neg || *s == '+')
        s++;
    if (*s < '0' || *s > '9') {
        snprintf(err, errlen,
                 "a value must be a number or a string in double quotes (dates, "
                 "booleans and unquoted text are not supported)");
        return false;
    }
    int digits = 0;
    v->is_num = true;
    /* Digits past the limit are counted, not accumulated: no overflow. */
    for (; *s >= '0' && *s <= '9'; s++)
        if (++digits <= 18)
            v->mant = v->mant * 10 + (*s - '0');
    if (*s == '.' && s[1] >= '0' && s[1] <= '9')
        for (s++; *s >= '0' && *s <= '9'; s++, v->dec++)
            if (++digits <= 18)
                v->mant = v->mant * 10 + (*s - '0');
    if (digits > 18 || v->dec > 9) {
        snprintf(err, errlen, "a number has more than 18 digits or 9 decimals");
        return false;
    }
    if (neg)
        v->mant = -v->mant;
    *p = s;
    return true;
}

/* Parses q (docs/NGSI-LD.md, "q"): terms ATTR, ATTR OP VALUE, ATTR==A..B,
 * ATTR==A,B,... joined by ';'. Fails, err set, on anything else. */
static bool q_parse(const char *q, q_expr *e, char *err, size_t errlen) {
    memset(e, 0, sizeof *e);
    const char *p = q;
    if (!*p) {
        snprintf(err, errlen, "q is empty");
        return false;
    }
    for (;;) {
        if (e->n == Q_MAX_TERMS) {
            snprintf(err, errlen, "q has more than %d terms", Q_MAX_TERMS);
            return false;
        }
        q_term *t = &e->t[e->n++];
        size_t an = 0;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
               (*p >= '0' && *p <= '9') || *p == '_') {
            if (an + 1 >= sizeof t->attr) {
                snprintf(err, errlen, "an attribute name is too long");
                return false;
            }
            t->attr[an++] = *p++;
        }
        if (*p == '(' || *p == ')' || *p == '|') {
            snprintf(err, errlen, "'%c' is not supported: only terms joined by ';' (AND)", *p);
            return false;
        }
        if (*p == '.' || *p == '[') {
            snprintf(err, errlen, "attribute paths ('.', '[') are not supported");
            return false;
        }
        if (an == 0) {
            snprintf(err, errlen, "a term must start with an attribute name");
            return false;
        }
        if (*p == '\0' || *p == ';') {
            t->op = Q_EXISTS;
        } else {
            static const struct {
                const char *s;
                q_op op;
            } ops[] = {{"==", Q_EQ}, {"!=", Q_NE}, {"<=", Q_LE},
                       {">=", Q_GE}, {"<", Q_LT},  {">", Q_GT}};
            size_t k = 0;
            for (; k < sizeof ops / sizeof ops[0]; k++)
                if (strncmp(p, ops[k].s, strlen(ops[k].s)) == 0)
                    break;
            if (p[0] == '=' && p[1] == '~') {
                snprintf(err, errlen, "the pattern operators =~ and !~ are not supported");
                return false;
            }
            if (p[0] == '!' && p[1] == '~') {
                snprintf(err, errlen, "the pattern operators =~ and !~ are not supported");
                return false;
            }
            if (k == sizeof ops / sizeof ops[0]) {
                snprintf(err, errlen,
                         "after attribute '%s' comes no operator (==, !=, <, <=, >, >=)",
                         t->attr);
                return false;
            }
            t->op = ops[k].op;
            p += strlen(ops[k].s);
            if (!q_literal(&p, &t->v[0], err, errlen))
                return false;
            t->n = 1;
            bool eq = t->op == Q_EQ || t->op == Q_NE;
            if (eq && p[0] == '.' && p[1] == '.') {
                p += 2;
                if (!q_literal(&p, &t->v[1], err, errlen))
                    return false;
                if (t->v[0].is_num != t->v[1].is_num) {
                    snprintf(err, errlen, "a range mixes a number and a string");
                    return false;
                }
                t->n = 2;
                t->range = true;
            } else {
                while (eq && *p == ',') {
                    if (t->n == Q_MAX_VALUES) {
                        snprintf(err, errlen, "a list has more than %d values", Q_MAX_VALUES);
                        return false;
                    }
                    p++;
                    if (!q_literal(&p, &t->v[t->n], err, errlen))
                        return false;
                    t->n++;
                }
            }
        }
        if (*p == '\0')
            return true;
        if (*p != ';') {
            snprintf(err, errlen, "unexpected '%c' after the term on attribute '%s'", *p,
                     t->attr);
            return false;
        }
        p++;
    }
}

/* An attribute's value as q compares it: a string, a number in
 * thousandths, or a list of strings; absent when the entity lacks it. */
typedef struct q_attr {
    enum { QA_ABSENT, QA_STR, QA_NUM, QA_STRS } kind;
    const char *s;
    int64_t milli;
    const char *const *list;
} q_attr;

static const char *const CATEGORY[] = {"quantitative", "output", NULL};

static q_attr q_lookup(const fig *f, const char *attr) {
    q_attr a = {QA_ABSENT, NULL, 0, NULL};
    const esg_pb_report_impact *ri = f->r->report;
#define STR(name, val)                \
    if (strcmp(attr, name) == 0) {    \
        a.s = (val);                  \
        a.kind = a.s ? QA_STR : QA_ABSENT; \
        return a;                     \
    }
#define NUM(name, val)                \
    if (strcmp(attr, name) == 0) {    \
        a.kind = QA_NUM;              \
        a.milli = (val);              \
        return a;                     \
    }
    STR("organization", f->r->city)
    STR("process", ri->project_id)
    STR("kpi", ri->kpi)
    STR("name", f->kpi->name)
    STR("unit", f->kpi->unit)
    STR("impactCategory", f->kpi->category)
    STR("provider", f->att->verifier)
    STR("attestationOpinion", opinion_name((int)f->att->opinion))
    STR("calculationMethod", "semiautomatic")
    STR("calculationFrequency", f->freq)
    STR("unitCode", f->unit_code)
    NUM("kpiValue", f->value)
    NUM("reportedValue", ri->value)
    NUM("blockHeight", (int64_t)f->r->height * 1000)
#undef STR
#undef NUM
    if (strcmp(attr, "category") == 0) {
        a.kind = QA_STRS;
        a.list = CATEGORY;
    }
    return a;
}

/* <0, 0, >0 as the attribute's value compares with v; 2 when they are not
 * of one kind (a string and a number never match). */
static int q_cmp(const q_attr *a, const char *s, const q_val *v) {
    if (a->kind == QA_NUM) {
        if (!v->is_num)
            return 2;
        __int128 x = (__int128)a->milli, y = v->mant * 1000;
        for (int i = 0; i < v->dec; i++)
            x *= 10;
        return x < y ? -1 : x > y;
    }
    if (v->is_num)
        return 2;
    int r = strcmp(s, v->s);
    return r < 0 ? -1 : r > 0;
}

static bool q_one(const q_term *t, const q_attr *a, const char *s) {
    if (t->range) {
        int lo = q_cmp(a, s, &t->v[0]), hi = q_cmp(a, s, &t->v[1]);
        bool in = lo != 2 && hi != 2 && lo >= 0 && hi <= 0;
        return t->op == Q_EQ ? in : !in;
    }
    if (t->op == Q_EQ || t->op == Q_NE) {
        bool any = false;
        for (size_t i = 0; i < t->n; i++)
            any = any || q_cmp(a, s, &t->v[i]) == 0;
        return t->op == Q_EQ ? any : !any;
    }
    int r = q_cmp(a, s, &t->v[0]);
    if (r == 2)
        return false;
    return t->op == Q_LT ? r < 0 : t->op == Q_LE ? r <= 0 : t->op == Q_GT ? r > 0 : r >= 0;
}

/* True when every term holds. A term on an attribute the entity does not
 * have is false (so "!=" on it too), as in NGSI-LD; on "category", a list,
 * == holds when one element matches and != when none does. */
static bool q_match(const q_expr *e, const fig *f) {
    for (size_t i = 0; i < e->n; i++) {
        const q_term *t = &e->t[i];
        q_attr a = q_lookup(f, t->attr);
        if (a.kind == QA_ABSENT)
            return false;
        if (t->op == Q_EXISTS)
            continue;
        if (a.kind == QA_STRS) {
            bool any = false;
            q_term pos = *t;
            if (t->op == Q_NE)
                pos.op = Q_EQ;
            q_attr one = {QA_STR, NULL, 0, NULL};
            for (size_t k = 0; a.list[k]; k++)
                any = any || q_one(&pos, &one, a.list[k]);
            if (t->op == Q_NE ? any : !any)
                return false;
            continue;
        }
        if (!q_one(t, &a, a.s))
            return false;
    }
    return true;
}

/* The string an equality term on `attr` pins down (one value, no range),
 * to narrow the index scan; NULL when none. */
static const char *q_pinned(const q_expr *e, const char *attr) {
    for (size_t i = 0; e && i < e->n; i++) {
        const q_term *t = &e->t[i];
        if (strcmp(t->attr, attr) == 0 && t->op == Q_EQ && !t->range && t->n == 1 &&
            !t->v[0].is_num)
            return t->v[0].s;
    }
    return NULL;
}

/* ------------------------------------------------------------ entities */

/* The time of block `height` (its header's, the first field of the
 * stored block). */
static int block_time(esg_state *st, esg_store *store, uint64_t height, uint64_t *ms) {
    MDB_val bv;
    int rc = esg_store_block_get(esg_state_txn(st), store, height, &bv, NULL);
    if (rc)
        return rc;
    const uint8_t *b = bv.mv_data;
    size_t n = bv.mv_size, i = 1, len = 0;
    if (n < 2 || b[0] != 0x0a)
        return ESG_ERR_STORE_CORRUPT;
    for (int shift = 0; i < n && shift < 35; shift += 7) {
        len |= (size_t)(b[i] & 0x7f) << shift;
        if (!(b[i++] & 0x80))
            break;
    }
    if (len > n - i)
        return ESG_ERR_STORE_CORRUPT;
    esg_pb_block_header *h = NULL;
    if (esg_pb_block_header_decode(&h, b + i, len, SIZE_MAX))
        return ESG_ERR_STORE_CORRUPT;
    *ms = h->time_ms;
    esg_pb_free(h);
    return 0;
}

static json_t *prop(json_t *value) {
    return json_pack("{s:s,s:o}", "type", "Property", "value", value);
}

static json_t *date_time(uint64_t ms) {
    char t[32];
    if (esg_time_format_rfc3339(ms, t))
        return NULL;
    return json_pack("{s:s,s:s}", "@type", "DateTime", "@value", t);
}

/* A value in thousandths as a JSON number of the unit. */
static json_t *milli_num(int64_t v) {
    if (v % 1000 == 0)
        return json_integer(v / 1000);
    return json_real((double)v / 1000.0);
}

static void entity_id(char out[256], const char *chain, const fig *f) {
    const esg_pb_report_impact *ri = f->r->report;
    snprintf(out, 256, URN_PREFIX "%s:%s:%s:%s:%s:%s", chain, f->r->city, ri->project_id,
             ri->kpi, ri->period_start, ri->period_end);
}

/* Builds f's entity (normalized form); with ld the @context array goes in
 * it. NULL and *rc on failure. */
static json_t *entity_json(esg_state *st, esg_store *store, const char *chain,
                           const char *base, bool ld, const fig *f, int *rc) {
    const esg_pb_report *r = f->r;
    const esg_pb_report_impact *ri = r->report;
    /* dateModified: the last block that changed what counts -- the
     * report's, or a later attestation or revocation. */
    uint64_t last = r->height, t_mod = 0, t_att = 0;
    for (size_t i = 0; i < r->n_attestations; i++) {
        esg_pb_attestation *a = NULL;
        *rc = esg_state_get_msg(st, ESG_T_ATTESTATIONS, r->attestations[i].data,
                                r->attestations[i].len, ESG_PB_ATTESTATION_DESC,
                                (ProtobufCMessage **)&a);
        if (*rc)
            return NULL;
        if (a->height > last)
            last = a->height;
        if (a->revoked && a->revoked_height > last)
            last = a->revoked_height;
        esg_pb_free(a);
    }
    if ((*rc = block_time(st, store, last, &t_mod)) != 0 ||
        (*rc = block_time(st, store, f->att->height, &t_att)) != 0)
        return NULL;
    char id[256], url[600];
    entity_id(id, chain, f);
    json_t *o = json_pack("{s:s,s:s}", "id", id, "type", ENTITY_TYPE);
    if (!o) {
        *rc = ESG_ERR_NOMEM;
        return NULL;
    }
    json_t *kv = json_pack("{s:s,s:o,s:o}", "type", "Property", "value", milli_num(f->value),
                           "observedAt", json_string(""));
    char t[32];
    if (kv && esg_time_format_rfc3339(t_att, t) == 0)
        json_object_set_new(kv, "observedAt", json_string(t));
    if (kv && f->unit_code)
        json_object_set_new(kv, "unitCode", json_string(f->unit_code));
    json_object_set_new(o, "name", prop(json_string(f->kpi->name)));
    json_object_set_new(o, "kpiValue", kv);
    json_object_set_new(o, "calculationPeriod",
                        prop(json_pack("{s:s,s:s}", "from", ri->period_start, "to",
                                       ri->period_end)));
    json_object_set_new(o, "organization", prop(json_string(r->city)));
    json_object_set_new(o, "process", prop(json_string(ri->project_id)));
    json_object_set_new(o, "provider", prop(json_string(f->att->verifier)));
    json_object_set_new(o, "category", prop(json_pack("[s,s]", CATEGORY[0], CATEGORY[1])));
    json_object_set_new(o, "calculationMethod", prop(json_string("semiautomatic")));
    if (ri->methodology[0])
        json_object_set_new(o, "calculationFormula", prop(json_string(ri->methodology)));
    if (f->freq)
        json_object_set_new(o, "calculationFrequency", prop(json_string(f->freq)));
    json_object_set_new(o, "dateModified", prop(date_time(t_mod)));
    /* The ledger's own terms (esgledger.jsonld). */
    json_object_set_new(o, "kpi", prop(json_string(ri->kpi)));
    json_object_set_new(o, "unit", prop(json_string(f->kpi->unit)));
    json_object_set_new(o, "impactCategory", prop(json_string(f->kpi->category)));
    json_object_set_new(o, "reportedValue", prop(milli_num(ri->value)));
    json_object_set_new(o, "attestationOpinion",
                        prop(json_string(opinion_name((int)f->att->opinion))));
    json_t *txid = esg_api__hex(r->id.data, r->id.len);
    json_t *aid = esg_api__hex(f->att->id.data, f->att->id.len);
    snprintf(url, sizeof url, "%s/v1/state/proof?table=%d&key=%s", base,
             (int)ESG_T_ATTESTATIONS, aid ? json_string_value(aid) : "");
    json_object_set_new(o, "attestation",
                        prop(json_pack("{s:O,s:s,s:s,s:o,s:o,s:s}", "attestationId", aid,
                                       "verifier", f->att->verifier, "opinion",
                                       opinion_name((int)f->att->opinion), "verifiedValue",
                                       milli_num(f->att->verified_value), "blockHeight",
                                       esg_api__num(f->att->height), "stateProof", url)));
    json_decref(aid);
    json_object_set_new(o, "chainId", prop(json_string(chain)));
    json_object_set_new(o, "txId", prop(json_incref(txid)));
    json_object_set_new(o, "blockHeight", prop(esg_api__num(r->height)));
    snprintf(url, sizeof url, "%s/v1/state/proof?table=%d&key=%s", base, (int)ESG_T_REPORTS,
             txid ? json_string_value(txid) : "");
    json_decref(txid);
    json_object_set_new(o, "stateProof", prop(json_string(url)));
    if (ri->evidence_sha256.len)
        json_object_set_new(o, "evidenceSha256", prop(esg_api__hex(ri->evidence_sha256.data,
                                                                   ri->evidence_sha256.len)));
    if (ld) {
        char own[320];
        snprintf(own, sizeof own, "%s" OWN_CONTEXT_PATH, base);
        json_object_set_new(o, "@context",
                            json_pack("[s,s,s]", MODEL_CONTEXT, own, CORE_CONTEXT));
    }
    /* Every member set: json_pack / json_object_set_new fail silently on
     * NULL, so count them. */
    size_t want = 21 + (ri->methodology[0] != 0) + (f->freq != NULL) +
                  (ri->evidence_sha256.len != 0) + ld;
    if (!kv || json_object_size(o) != want || !json_is_string(json_object_get(kv, "observedAt"))) {
        json_decref(o);
        *rc = ESG_ERR_NOMEM;
        return NULL;
    }
    return o;
}

/* ------------------------------------------------------------- the scan */

typedef struct scan {
    esg_state *st;
    esg_store *store;
    const q_expr *q;
    const char *chain, *base;
    bool ld, count;
    /* by id: the figure wanted (city, period); NULL for a list */
    const char *city, *from, *to;
    const char *ids; /* the id= list, or NULL */
    uint64_t offset, limit;
    uint64_t matched;
    json_t *page;
    int err;
} scan;

/* True when `id` is one of the comma-separated `list`. */
static bool listed(const char *list, const char *id) {
    size_t len = strlen(id);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, id, n) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* One ESG_T_PROJECT_REPORTS row (project ‖ 0 ‖ kpi ‖ 0 ‖ report id). */
static int scan_row(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                    void *arg) {
    (void)val;
    (void)vlen;
    scan *s = arg;
    if (klen < 32 + 4)
        return s->err = ESG_ERR_STORE_CORRUPT;
    esg_pb_report *r = NULL;
    esg_pb_kpi *k = NULL;
    esg_pb_attestation **atts = NULL;
    size_t n = 0;
    int rc = esg_state_get_msg(s->st, ESG_T_REPORTS, key + klen - 32, 32, ESG_PB_REPORT_DESC,
                               (ProtobufCMessage **)&r);
    if (rc == ESG_ERR_NOT_FOUND)
        rc = ESG_ERR_STORE_CORRUPT;
    if (rc || r->superseded_by.len || !r->report || r->n_attestations == 0)
        goto out;
    if (s->city && (strcmp(r->city, s->city) || strcmp(r->report->period_start, s->from) ||
                    strcmp(r->report->period_end, s->to)))
        goto out;
    atts = calloc(r->n_attestations, sizeof *atts);
    if (!atts) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    for (; n < r->n_attestations; n++) {
        rc = esg_state_get_msg(s->st, ESG_T_ATTESTATIONS, r->attestations[n].data,
                               r->attestations[n].len, ESG_PB_ATTESTATION_DESC,
                               (ProtobufCMessage **)&atts[n]);
        if (rc) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            goto out;
        }
    }
    bool counts;
    int64_t value;
    esg_impact_count_rule(false, atts, n, &counts, &value);
    if (!counts)
        goto out;
    fig f = {r, NULL, NULL, value, NULL, NULL};
    for (size_t i = 0; i < n && !f.att; i++)
        if (!atts[i]->revoked && atts[i]->opinion != ESG_OPINION_REJECTED &&
            atts[i]->verified_value == value)
            f.att = atts[i];
    rc = esg_rec_kpi_get(s->st, r->report->kpi, &k);
    if (rc) {
        rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
        goto out;
    }
    f.kpi = k;
    f.freq = frequency(r->report->period_start, r->report->period_end);
    f.unit_code = unit_code(k->unit);
    if (!f.att) {
        rc = ESG_ERR_STORE_CORRUPT;
        goto out;
    }
    if (s->q && !q_match(s->q, &f))
        goto out;
    if (s->ids) {
        char eid[256];
        entity_id(eid, s->chain, &f);
        if (!listed(s->ids, eid))
            goto out;
    }
    s->matched++;
    if (s->matched > s->offset && s->matched - s->offset <= s->limit) {
        json_t *e = entity_json(s->st, s->store, s->chain, s->base, s->ld, &f, &rc);
        if (e && json_array_append_new(s->page, e))
            rc = ESG_ERR_NOMEM;
    }
out:
    for (size_t i = 0; i < n; i++)
        esg_pb_free(atts[i]);
    free(atts);
    esg_pb_free(k);
    esg_pb_free(r);
    if (rc)
        return s->err = rc;
    /* A full page ends the scan unless the total is wanted. */
    return !s->count && s->matched >= s->offset + s->limit ? 1 : 0;
}

/* Runs the scan over the rows starting with project ‖ 0 [‖ kpi ‖ 0]
 * (both optional), on a read view of its own; *chain gets the chain id. */
static int scan_run(esg_api__call *c, scan *s, const char *project, const char *kpi) {
    MDB_txn *txn;
    int rc = esg_store_read_begin(c->deps->store, &txn);
    if (rc)
        return rc;
    esg_store_meta meta;
    rc = esg_store_meta_get(txn, c->deps->store, &meta);
    if (rc == 0)
        rc = esg_state_open(&s->st, c->deps->store, txn, false);
    if (rc) {
        esg_store_read_end(txn);
        return rc;
    }
    s->store = c->deps->store;
    if (s->chain && strcmp(s->chain, meta.chain_id) != 0) {
        esg_state_free(s->st);
        esg_store_read_end(txn);
        return 0; /* another chain's id: nothing of ours */
    }
    s->chain = meta.chain_id;
    uint8_t prefix[ESG_STATE_MAX_KEY];
    size_t plen = 0;
    if (project && strlen(project) + (kpi ? strlen(kpi) + 1 : 0) + 2 < sizeof prefix) {
        plen = strlen(project);
        memcpy(prefix, project, plen);
        prefix[plen++] = 0;
        if (kpi) {
            memcpy(prefix + plen, kpi, strlen(kpi));
            plen += strlen(kpi);
            prefix[plen++] = 0;
        }
    }
    rc = esg_state_iter(s->st, ESG_T_PROJECT_REPORTS, plen ? prefix : NULL, plen, scan_row, s);
    if (rc == 1)
        rc = 0;
    if (rc == 0)
        rc = s->err;
    s->chain = NULL; /* meta goes out of scope */
    esg_state_free(s->st);
    esg_store_read_end(txn);
    return rc;
}

/* Sets the Link header of an application/json answer. */
static bool set_link(esg_api__call *c, const char *base) {
    char link[512];
    snprintf(link, sizeof link,
             "<%s" LINK_CONTEXT_PATH ">; rel=\"" JSONLD_REL "\"; type=\"application/ld+json\"",
             base);
    return esg_api__add_header(c, "Link", link);
}

/* True when the type parameter names the KeyPerformanceIndicator type
 * (by its short name or its IRI) among its comma-separated types. */
static bool type_wanted(const char *types) {
    for (const char *p = types; *p;) {
        size_t n = strcspn(p, ",");
        if ((n == strlen(ENTITY_TYPE) && strncmp(p, ENTITY_TYPE, n) == 0) ||
            (n == strlen(MODEL_TYPE_IRI) && strncmp(p, MODEL_TYPE_IRI, n) == 0))
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

/* A query parameter as a decimal in [min, max]; BadRequestData else. */
static bool param_u64(esg_api__call *c, const char *name, uint64_t def, uint64_t min,
                      uint64_t max, uint64_t *out) {
    const char *s = esg_api__query(c, name);
    *out = def;
    if (!s)
        return true;
    char q[80];
    esg_api__quote(q, sizeof q, s);
    if (!*s || strlen(s) > 19 || strspn(s, "0123456789") != strlen(s)) {
        bad_request(c, "'%s' must be a decimal integer, got '%s'", name, q);
        return false;
    }
    *out = strtoull(s, NULL, 10);
    if (*out < min || *out > max) {
        bad_request(c, "'%s' must be in %" PRIu64 "..%" PRIu64 ", got '%s'", name, min, max, q);
        return false;
    }
    return true;
}

/* GET /ngsi-ld/v1/entities?type=&q=&limit=&offset=&count= */
void esg_api__r_ngsi_entities(esg_api__call *c) {
    bool ld;
    if (!negotiate(c, &ld))
        return;
    static const char *const unsupported[] = {
        "attrs", "pick", "omit", "geoQ", "georel", "geometry", "coordinates",
        "geoproperty", "idPattern", "csf", "orderBy", "lang", "scopeQ", "local",
        "options", "format", "join", "joinLevel", "datasetId", "expandValues", NULL};
    for (size_t i = 0; unsupported[i]; i++)
        if (esg_api__query(c, unsupported[i])) {
            bad_request(c, "query parameter '%s' is not supported by this node "
                           "(docs/NGSI-LD.md)", unsupported[i]);
            return;
        }
    const char *type = esg_api__query(c, "type"), *qs = esg_api__query(c, "q");
    const char *ids = esg_api__query(c, "id");
    if (!type && !qs && !ids) {
        bad_request(c, "one of 'type', 'id' or 'q' is required");
        return;
    }
    const char *cs = esg_api__query(c, "count");
    if (cs && strcmp(cs, "true") != 0 && strcmp(cs, "false") != 0) {
        char q[80];
        esg_api__quote(q, sizeof q, cs);
        bad_request(c, "'count' must be true or false, got '%s'", q);
        return;
    }
    bool count = cs && strcmp(cs, "true") == 0;
    uint64_t limit, offset;
    /* limit=0 only asks for the count (count=true). */
    if (!param_u64(c, "limit", LIMIT_DEFAULT, count ? 0 : 1, LIMIT_MAX, &limit) ||
        !param_u64(c, "offset", 0, 0, UINT32_MAX, &offset))
        return;
    q_expr *qe = NULL;
    if (qs) {
        char err[200];
        qe = malloc(sizeof *qe);
        if (!qe) {
            internal_error(c, ESG_ERR_NOMEM);
            return;
        }
        if (!q_parse(qs, qe, err, sizeof err)) {
            free(qe);
            char q[80];
            esg_api__quote(q, sizeof q, qs);
            bad_request(c, "q '%s': %s", q, err);
            return;
        }
    }
    char base[300];
    base_url(c, base);
    scan s = {.q = qe, .base = base, .ld = ld, .count = count, .ids = ids,
              .offset = offset, .limit = limit, .page = json_array()};
    int rc = s.page ? 0 : ESG_ERR_NOMEM;
    /* Another type is none of ours: an empty answer, as for any type the
     * node has no entity of. */
    const char *project = q_pinned(qe, "process");
    if (rc == 0 && (!type || type_wanted(type)))
        rc = scan_run(c, &s, project, project ? q_pinned(qe, "kpi") : NULL);
    free(qe);
    if (rc) {
        json_decref(s.page);
        internal_error(c, rc);
        return;
    }
    char num[24];
    snprintf(num, sizeof num, "%" PRIu64, s.matched);
    if ((count && !esg_api__add_header(c, "NGSILD-Results-Count", num)) ||
        (!ld && !set_link(c, base))) {
        json_decref(s.page);
        internal_error(c, ESG_ERR_NOMEM);
        return;
    }
    reply_doc(c, 200, ld ? "application/ld+json" : "application/json", s.page);
}

/* Splits "urn:ngsi-ld:KeyPerformanceIndicator:CHAIN:CITY:PROJECT:KPI:FROM:TO"
 * into buf (a copy) and parts[6]; false when it is not of that shape. */
static bool parse_entity_id(const char *id, char buf[256], char *parts[6]) {
    size_t pl = strlen(URN_PREFIX);
    if (strncmp(id, URN_PREFIX, pl) != 0 || strlen(id) - pl >= 256)
        return false;
    strcpy(buf, id + pl);
    char *p = buf;
    for (int i = 0; i < 6; i++) {
        parts[i] = p;
        char *colon = strchr(p, ':');
        if ((i < 5) != (colon != NULL) || p[0] == '\0' || p == colon)
            return false;
        if (colon) {
            *colon = '\0';
            p = colon + 1;
        }
    }
    int32_t d;
    return esg_chain_id_valid(parts[0]) && esg_member_id_valid(parts[1]) &&
           esg_project_id_valid(parts[2]) && esg_kpi_id_valid(parts[3]) &&
           esg_date_parse(parts[4], &d) == 0 && esg_date_parse(parts[5], &d) == 0;
}

/* GET /ngsi-ld/v1/entities/{id} */
void esg_api__r_ngsi_entity(esg_api__call *c) {
    bool ld;
    if (!negotiate(c, &ld))
        return;
    const char *id = c->params[0];
    char q[80];
    esg_api__quote(q, sizeof q, id);
    /* An id must be a URI: a scheme, then ':'. */
    size_t scheme = strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (scheme == 0 || id[scheme] != ':' || !((id[0] | 0x20) >= 'a' && (id[0] | 0x20) <= 'z')) {
        bad_request(c, "entity id '%s' is not a URI", q);
        return;
    }
    char buf[256], *parts[6];
    char base[300];
    base_url(c, base);
    scan s = {.base = base, .ld = ld, .limit = 1, .page = json_array()};
    int rc = s.page ? 0 : ESG_ERR_NOMEM;
    if (rc == 0 && parse_entity_id(id, buf, parts)) {
        s.chain = parts[0];
        s.city = parts[1];
        s.from = parts[4];
        s.to = parts[5];
        rc = scan_run(c, &s, parts[2], parts[3]);
    }
    if (rc) {
        json_decref(s.page);
        internal_error(c, rc);
        return;
    }
    if (json_array_size(s.page) == 0) {
        json_decref(s.page);
        ngsi_fail(c, 404, "ResourceNotFound", "Entity not found",
                  "no entity '%s' on this node (an id of a counted impact figure: "
                  URN_PREFIX "CHAIN:CITY:PROJECT:KPI:FROM:TO)",
                  q);
        return;
    }
    json_t *e = json_incref(json_array_get(s.page, 0));
    json_decref(s.page);
    if (!ld && !set_link(c, base)) {
        json_decref(e);
        internal_error(c, ESG_ERR_NOMEM);
        return;
    }
    reply_doc(c, 200, ld ? "application/ld+json" : "application/json", e);
}
