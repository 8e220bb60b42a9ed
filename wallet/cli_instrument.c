/* esgwallet instrument issue | subscribe | close | transfer | pay,
 * proceeds allocate | reverse, and the instrument queries (show, holders, payments,
 * allocations, impact, list), plus the helpers the domain command files
 * share (wallet/cli.h).
 *
 * Builders check what the wallet can check alone -- numbers, dates,
 * names, the spec's own rules -- so a malformed action never reaches a
 * co-signer; every rule that needs the ledger's state is the node's. The
 * queries print the node's document unchanged with --json, and tables
 * for people otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"
#include "wallet/cli.h"
#include "wallet/format.h"
#include "wallet/spec.h"

/* ------------------------------------------------------ shared helpers */

void *esgw_cli__arena(void *cli, size_t size) {
    return esgw_cli__alloc(cli, size);
}

int esgw_cli__sha256_file(esgw_cli *cli, esg_hash *out, const char *what, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return esgw_cli__fail(cli, errno == ENOENT ? ESG_ERR_NOT_FOUND : ESG_ERR_IO,
                              "%s: cannot open '%s': %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return esgw_cli__fail(cli, ESG_ERR_IO, "%s: '%s' is not a regular file", what, path);
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static const size_t chunk = 1u << 16;
    uint8_t *buf = malloc(chunk);
    if (!buf) {
        close(fd);
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    }
    for (;;) {
        ssize_t r = read(fd, buf, chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return esgw_cli__fail(cli, ESG_ERR_IO, "%s: cannot read '%s': %s", what, path,
                                  strerror(e));
        }
        if (r == 0)
            break;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)r);
    }
    free(buf);
    close(fd);
    crypto_hash_sha256_final(&h, out->b);
    return 0;
}

int esgw_cli__amount(esgw_cli *cli, uint64_t *out, const char *what, const char *s) {
    int rc = esg_u64_parse(s, out);
    if (rc == ESG_ERR_OVERFLOW)
        return esgw_cli__fail(cli, rc, "%s '%s' exceeds 2^64-1 minor units", what, s);
    if (rc)
        return esgw_cli__fail(cli, ESG_ERR_BAD_DECIMAL,
                              "%s '%s' is not an amount in minor units (\"2500000\")", what, s);
    if (*out == 0)
        return esgw_cli__fail(cli, ESG_ERR_BAD_AMOUNT, "%s must be positive", what);
    return 0;
}

int esgw_cli__date(esgw_cli *cli, char **out, const char *what, const char *s) {
    int32_t days;
    if (esg_date_parse(s, &days) != 0)
        return esgw_cli__fail(cli, ESG_ERR_BAD_DATE, "%s '%s' is not a date YYYY-MM-DD", what,
                              s);
    *out = (char *)s; /* the encoder only reads it */
    return 0;
}

int esgw_cli__record_id(esgw_cli *cli, esg_pb_bytes *out, const char *what, const char *hex) {
    esg_hash *h = esgw_cli__alloc(cli, sizeof *h);
    if (!h)
        return ESG_ERR_NOMEM;
    int rc = esgw_cli__hash(cli, h, what, hex);
    if (rc == 0)
        *out = esg_pb_bin(h->b, 32);
    return rc;
}

int esgw_cli__reason(esgw_cli *cli, const esgw_args *a, char **out) {
    const char *r = esgw_cli__opt(a, "reason");
    if (!r || !*r)
        return esgw_cli__fail(cli, ESG_ERR_MISSING_REASON, "--reason must not be empty");
    *out = (char *)r;
    return 0;
}

int esgw_cli__get(esgw_cli *cli, json_t **doc, const char *prefix, const char *segment,
                  const char *suffix) {
    esgw_client *c = NULL;
    *doc = NULL;
    int rc = esgw_cli__client(cli, &c);
    if (rc)
        return rc;
    char *esc = segment ? esgw_client_escape(segment) : NULL;
    if (segment && !esc)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    char *path = esgw_cli__printf(cli, "%s%s%s", prefix, esc ? esc : "", suffix ? suffix : "");
    free(esc);
    if (!path)
        return ESG_ERR_NOMEM;
    return esgw_client_get(c, doc, path, &cli->err);
}

char *esgw_cli__printf(esgw_cli *cli, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        esgw_cli__fail(cli, ESG_ERR_INTERNAL, "cannot format a string");
        return NULL;
    }
    char *s = esgw_cli__alloc(cli, (size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *esgw_cli__pct(esgw_cli *cli, uint64_t bps) {
    char *s = esgw_cli__strdup(cli, esgw_fmt_bps(bps, true).s);
    return s ? s : (char *)"?";
}

const char *esgw_cli__money(esgw_cli *cli, uint64_t minor, const char *currency, bool code) {
    const char *s;
    if (!currency)
        s = esgw_cli__printf(cli, "%" PRIu64 "%s", minor, code ? " minor units" : "");
    else
        s = esgw_cli__printf(
            cli, "%s%s%s", esgw_fmt_money(minor, (unsigned)esg_currency_decimals(currency), ',').s,
            code ? " " : "", code ? currency : "");
    return s ? s : "?";
}

const char *esgw_cli__field(esgw_cli *cli, const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    const char *s = NULL;
    if (json_is_string(v))
        s = *json_string_value(v) ? json_string_value(v) : NULL;
    else if (json_is_integer(v))
        s = esgw_cli__printf(cli, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        s = esgw_cli__printf(cli, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        s = json_is_true(v) ? "yes" : "no";
    return s ? s : "-";
}

/* Display width of UTF-8 text: its code points (names may hold any). */
static size_t text_width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Writes s with control characters (a node's strings may hold any) as
 * '?'. */
static void put_text(FILE *f, const char *s) {
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

void esgw_cli__table(FILE *f, const char *const *cells, size_t nrows, size_t ncols,
                     unsigned right) {
    size_t width[32] = {0};
    if (ncols > 32)
        ncols = 32;
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++) {
            const char *s = cells[r * ncols + c] ? cells[r * ncols + c] : "-";
            size_t w = text_width(s);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < nrows; r++) {
        /* No trailing blanks: the line ends with its last non-empty cell. */
        size_t end = ncols;
        while (end > 1 && cells[r * ncols + end - 1] && !*cells[r * ncols + end - 1])
            end--;
        for (size_t c = 0; c < end; c++) {
            const char *s = cells[r * ncols + c] ? cells[r * ncols + c] : "-";
            size_t pad = width[c] - text_width(s);
            bool last = c + 1 == end;
            if (right & (1u << c))
                fprintf(f, "%*s", (int)pad, "");
            put_text(f, s);
            if (!(right & (1u << c)) && !last)
                fprintf(f, "%*s", (int)pad, "");
            if (!last)
                fputs("  ", f);
        }
        fputc('\n', f);
    }
}

uint64_t esgw_cli__u64_of(const json_t *o, const char *key) {
    uint64_t v = 0;
    if (esgw_json_u64(json_object_get(o, key), &v) != 0)
        v = 0;
    return v;
}

void esgw_cli__row(esgw_cells *t, ...) {
    if (t->n + t->ncols > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16 * t->ncols;
        while (cap < t->n + t->ncols)
            cap *= 2;
        const char **v = realloc(t->v, cap * sizeof *v);
        if (!v) {
            t->nomem = true;
            return;
        }
        t->v = v;
        t->cap = cap;
    }
    va_list ap;
    va_start(ap, t);
    for (size_t c = 0; c < t->ncols; c++)
        t->v[t->n++] = va_arg(ap, const char *);
    va_end(ap);
}

int esgw_cli__cells_print(esgw_cli *cli, esgw_cells *t, unsigned right) {
    int rc = 0;
    if (t->nomem)
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    else
        esgw_cli__table(cli->out, t->v, t->n / t->ncols, t->ncols, right);
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
    return rc;
}

/* ------------------------------------------------------------ builders */

/* A copy of the message initializer `init` in command-lifetime memory. */
static void *new_msg(esgw_cli *cli, const void *init, size_t size) {
    void *m = esgw_cli__alloc(cli, size);
    if (m)
        memcpy(m, init, size);
    return m;
}
#define NEW_MSG(cli, type, init) ((type *)new_msg((cli), &(type)init, sizeof(type)))

/* An option value or positional word as a message string (the encoder
 * only reads it). */
static char *str(const char *s) {
    return (char *)(s ? s : "");
}

/* --units N: a count of at least 1. */
static int units_opt(esgw_cli *cli, const esgw_args *a, uint64_t *out) {
    int rc = esgw_cli__u64(cli, out, "--units", esgw_cli__opt(a, "units"));
    if (rc == 0 && *out == 0)
        return esgw_cli__fail(cli, ESG_ERR_BAD_UNITS, "--units must be at least 1");
    return rc;
}

/* A date option, checked as the contract will: a real YYYY-MM-DD. */
static int date_opt(esgw_cli *cli, const esgw_args *a, const char *name, char **out) {
    char what[32];
    snprintf(what, sizeof what, "--%s", name);
    return esgw_cli__date(cli, out, what, esgw_cli__opt(a, name));
}

static int build_issue(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    const char *path = esgw_cli__opt(a, "spec");
    uint8_t *buf;
    size_t len;
    int rc = esgw_cli__read_file(cli, &buf, &len, path, ESGW_SPEC_MAX_FILE);
    if (rc)
        return rc;
    esg_pb_instrument_spec *spec = NULL;
    char err[512];
    rc = esgw_spec_parse(&spec, (const char *)buf, len, esgw_cli__arena, cli, err, sizeof err);
    free(buf);
    if (rc == 0)
        rc = esgw_spec_check(spec, err, sizeof err);
    if (rc)
        return esgw_cli__fail(cli, rc, "spec '%s': %s", path, err);
    esg_pb_issue_instrument *m = NEW_MSG(cli, esg_pb_issue_instrument,
                                         ESG_PB_ISSUE_INSTRUMENT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    m->spec = spec;
    body->action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    body->issue_instrument = m;
    return 0;
}

static int build_subscribe(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_subscribe *m = NEW_MSG(cli, esg_pb_subscribe, ESG_PB_SUBSCRIBE_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc = units_opt(cli, a, &m->units);
    if (rc)
        return rc;
    m->instrument = str(a->pos[0]);
    body->action_case = ESG_ACTION_SUBSCRIBE;
    body->subscribe = m;
    return 0;
}

static int build_close(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_close_offering *m = NEW_MSG(cli, esg_pb_close_offering, ESG_PB_CLOSE_OFFERING_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    m->instrument = str(a->pos[0]);
    body->action_case = ESG_ACTION_CLOSE_OFFERING;
    body->close_offering = m;
    return 0;
}

static int build_transfer(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_transfer *m = NEW_MSG(cli, esg_pb_transfer, ESG_PB_TRANSFER_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc = units_opt(cli, a, &m->units);
    if (rc)
        return rc;
    m->instrument = str(a->pos[0]);
    m->to_member = str(esgw_cli__opt(a, "to"));
    body->action_case = ESG_ACTION_TRANSFER;
    body->transfer = m;
    return 0;
}

static int build_pay(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_record_payment *m = NEW_MSG(cli, esg_pb_record_payment, ESG_PB_RECORD_PAYMENT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    const char *kind = esgw_cli__opt(a, "kind");
    if (strcasecmp(kind, "coupon") == 0)
        m->kind = ESG_PAYMENT_COUPON;
    else if (strcasecmp(kind, "redemption") == 0)
        m->kind = ESG_PAYMENT_REDEMPTION;
    else
        return esgw_cli__fail(cli, ESG_ERR_BAD_PAYMENT_KIND,
                              "--kind '%s' must be coupon or redemption", kind);
    int rc = date_opt(cli, a, "due", &m->due_date);
    if (rc)
        return rc;
    m->instrument = str(a->pos[0]);
    body->action_case = ESG_ACTION_RECORD_PAYMENT;
    body->record_payment = m;
    return 0;
}

static int build_allocate(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_allocate_proceeds *m =
        NEW_MSG(cli, esg_pb_allocate_proceeds, ESG_PB_ALLOCATE_PROCEEDS_INIT);
    esg_hash *h = esgw_cli__alloc(cli, sizeof *h);
    if (!m || !h)
        return ESG_ERR_NOMEM;
    int rc;
    if ((rc = esgw_cli__amount(cli, &m->amount, "--amount", esgw_cli__opt(a, "amount"))) != 0 ||
        (rc = date_opt(cli, a, "date", &m->date)) != 0 ||
        (rc = esgw_cli__sha256_file(cli, h, "--evidence", esgw_cli__opt(a, "evidence"))) != 0)
        return rc;
    m->instrument = str(a->pos[0]);
    m->project_id = str(esgw_cli__opt(a, "project"));
    m->evidence_sha256 = esg_pb_bin(h->b, 32);
    body->action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
    body->allocate_proceeds = m;
    return 0;
}

/* proceeds reverse ALLOCATION_ID --reason TEXT: the allocation is named by
 * the id of its AllocateProceeds transaction. */
static int build_reverse(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_reverse_allocation *m =
        NEW_MSG(cli, esg_pb_reverse_allocation, ESG_PB_REVERSE_ALLOCATION_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc;
    if ((rc = esgw_cli__record_id(cli, &m->allocation_id, "allocation id", a->pos[0])) != 0 ||
        (rc = esgw_cli__reason(cli, a, &m->reason)) != 0)
        return rc;
    body->action_case = ESG_ACTION_REVERSE_ALLOCATION;
    body->reverse_allocation = m;
    return 0;
}

/* ------------------------------------------------------------- queries */

/* GETs /v1/instruments/{id}{suffix}; with --json prints it and sets
 * *done. */
static int get_instrument(esgw_cli *cli, json_t **doc, const char *id, const char *suffix,
                          bool *done) {
    *done = false;
    int rc = esgw_cli__get(cli, doc, "/v1/instruments/", id, suffix);
    if (rc || !cli->json)
        return rc;
    rc = esgw_cli__print_json(cli, *doc);
    json_decref(*doc);
    *doc = NULL;
    *done = true;
    return rc;
}

/* A JSON array member that must be there. */
static json_t *need_array(esgw_cli *cli, const json_t *doc, const char *key, const char *what) {
    json_t *a = json_object_get(doc, key);
    if (!json_is_array(a))
        esgw_cli__fail(cli, ESG_ERR_JSON, "node sent %s without '%s'", what, key);
    return json_is_array(a) ? a : NULL;
}

#define F(o, k) esgw_cli__field(cli, (o), (k))

static int cmd_list(esgw_cli *cli, const esgw_args *a) {
    (void)a;
    json_t *doc = NULL;
    int rc = esgw_cli__get(cli, &doc, "/v1/instruments", NULL, NULL);
    if (rc)
        return rc;
    json_t *list = need_array(cli, doc, "instruments", "an instrument list");
    if (!list) {
        json_decref(doc);
        return ESG_ERR_JSON;
    }
    if (cli->json) {
        rc = esgw_cli__print_json(cli, doc);
        json_decref(doc);
        return rc;
    }
    esgw_cells t = {.ncols = 10};
    esgw_cli__row(&t, "ID", "KIND", "STATUS", "CCY", "UNITS", "SOLD", "RAISED", "ISSUE", "MATURITY",
        "CO-ISSUERS");
    size_t i;
    json_t *ins;
    json_array_foreach(list, i, ins) {
        char *cos = esgw_cli__printf(cli, "%s", "");
        size_t k;
        json_t *ci;
        json_array_foreach(json_object_get(ins, "co_issuers"), k, ci) {
            cos = cos ? esgw_cli__printf(cli, "%s%s%s %s", cos, k ? ", " : "", F(ci, "member"),
                                         esgw_cli__pct(cli, esgw_cli__u64_of(ci, "share_bps")))
                      : NULL;
        }
        esgw_cli__row(&t, F(ins, "id"), F(ins, "kind"), F(ins, "status"), F(ins, "currency"),
            F(ins, "units"), F(ins, "units_sold"), F(ins, "amount_raised"), F(ins, "issue_date"),
            F(ins, "maturity_date"), cos);
    }
    rc = esgw_cli__cells_print(cli, &t, (1u << 4) | (1u << 5) | (1u << 6));
    json_decref(doc);
    return rc;
}

static void print_instrument(esgw_cli *cli, const json_t *d) {
    FILE *f = cli->out;
    fprintf(f, "instrument    %s (%s)\n", F(d, "id"), F(d, "kind"));
    fprintf(f, "name          %s\n", F(d, "name"));
    fprintf(f, "status        %s\n", F(d, "status"));
    fprintf(f, "face value    %s %s minor units\n", F(d, "face_value"), F(d, "currency"));
    fprintf(f, "units         %s offered, %s sold, %s outstanding\n", F(d, "units"),
            F(d, "units_sold"), F(d, "units_outstanding"));
    fprintf(f, "amount raised %s\n", F(d, "amount_raised"));
    fprintf(f, "coupon        %s every %s months\n",
            esgw_cli__pct(cli, esgw_cli__u64_of(d, "coupon_bps")), F(d, "coupon_frequency_months"));
    fprintf(f, "dates         issued %s, matures %s\n", F(d, "issue_date"),
            F(d, "maturity_date"));
    fprintf(f, "paying agent  %s\n", F(d, "paying_agent"));
    fprintf(f, "framework     %s\n", F(d, "framework_sha256"));
    fprintf(f, "ext. review   %s\n", F(d, "external_review_sha256"));
    size_t i;
    json_t *x;
    fprintf(f, "co-issuers\n");
    json_array_foreach(json_object_get(d, "co_issuers"), i, x)
        fprintf(f, "  %-20s %s%s\n", F(x, "member"),
                esgw_cli__pct(cli, esgw_cli__u64_of(x, "share_bps")),
                i == 0 ? "  (lead)" : "");
    fprintf(f, "projects\n");
    esgw_cells t = {.ncols = 6};
    json_array_foreach(json_object_get(d, "projects"), i, x) {
        char *sdgs = esgw_cli__printf(cli, "%s", "");
        size_t k;
        json_t *g;
        json_array_foreach(json_object_get(x, "sdgs"), k, g) if (sdgs)
            sdgs = esgw_cli__printf(cli, "%s%s%" JSON_INTEGER_FORMAT, sdgs, k ? "," : "",
                                    json_integer_value(g));
        esgw_cli__row(&t, esgw_cli__printf(cli, "  %s", F(x, "id")), F(x, "city"),
            F(x, "eu_objective"), esgw_cli__printf(cli, "budget %s", F(x, "budget")),
            esgw_cli__printf(cli, "SDG %s", sdgs && *sdgs ? sdgs : "-"), F(x, "name"));
    }
    (void)esgw_cli__cells_print(cli, &t, 0);
    json_t *ups = json_object_get(d, "step_ups");
    if (json_array_size(ups) > 0) {
        fprintf(f, "kpi targets\n");
        json_array_foreach(ups, i, x) {
            const char *verdict = "met";
            if (json_is_true(json_object_get(x, "missed"))) {
                verdict = esgw_cli__printf(cli, "missed: +%s bps on coupons after %s",
                                           F(x, "step_up_bps"),
                                           F(x, "applies_to_coupons_after"));
                verdict = verdict ? verdict : "missed";
            }
            fprintf(f, "  %s %s %s by %s: observed %s (%s report%s) -> %s\n", F(x, "kpi"),
                    strcmp(F(x, "direction"), "LOWER") == 0 ? "<=" : ">=", F(x, "target"),
                    F(x, "observation_date"), F(x, "observed"), F(x, "reports_counted"),
                    esgw_cli__u64_of(x, "reports_counted") == 1 ? "" : "s", verdict);
        }
    }
    json_t *sched = json_object_get(d, "schedule");
    if (json_array_size(sched) > 0) {
        fprintf(f, "coupon schedule\n");
        const char *next = F(d, "next_coupon_date");
        json_array_foreach(sched, i, x) {
            bool paid = json_is_true(json_object_get(x, "paid"));
            bool is_next = strcmp(F(x, "date"), next) == 0;
            const char *what =
                paid ? esgw_cli__printf(cli, "  paid (payment %s)", F(x, "payment_seq"))
                : is_next ? esgw_cli__printf(cli, "  next, step-up in force %s bps",
                                             F(d, "step_up_bps_in_force_next_coupon"))
                          : "";
            fprintf(f, "  %s%s\n", F(x, "date"), what ? what : "");
        }
    }
}

static int cmd_show(esgw_cli *cli, const esgw_args *a) {
    json_t *doc;
    bool done;
    int rc = get_instrument(cli, &doc, a->pos[0], NULL, &done);
    if (rc || done)
        return rc;
    print_instrument(cli, doc);
    json_decref(doc);
    return 0;
}

static int cmd_holders(esgw_cli *cli, const esgw_args *a) {
    json_t *doc;
    bool done;
    int rc = get_instrument(cli, &doc, a->pos[0], "/holders", &done);
    if (rc || done)
        return rc;
    json_t *list = need_array(cli, doc, "holders", "a holder list");
    if (list) {
        esgw_cells t = {.ncols = 3};
        esgw_cli__row(&t, "MEMBER", "UNITS", "SHARE");
        size_t i;
        json_t *h;
        json_array_foreach(list, i, h)
            esgw_cli__row(&t, F(h, "member"), F(h, "units"),
                esgw_cli__pct(cli, esgw_cli__u64_of(h, "share_of_outstanding_bps")));
        esgw_cli__row(&t, "outstanding", F(doc, "units_outstanding"), "");
        rc = esgw_cli__cells_print(cli, &t, 6);
    } else {
        rc = ESG_ERR_JSON;
    }
    json_decref(doc);
    return rc;
}

static int cmd_payments(esgw_cli *cli, const esgw_args *a) {
    json_t *doc;
    bool done;
    int rc = get_instrument(cli, &doc, a->pos[0], "/payments", &done);
    if (rc || done)
        return rc;
    json_t *list = need_array(cli, doc, "payments", "a payment list");
    if (!list) {
        json_decref(doc);
        return ESG_ERR_JSON;
    }
    FILE *f = cli->out;
    if (json_array_size(list) == 0)
        fprintf(f, "no payments recorded for %s\n", F(doc, "instrument"));
    size_t i;
    json_t *p;
    json_array_foreach(list, i, p) {
        if (i)
            fputc('\n', f);
        fprintf(f, "%s %s due %s, recorded at height %s (%s)\n", F(p, "kind"), F(p, "seq"),
                F(p, "due_date"), F(p, "height"), F(p, "time"));
        if (strcmp(F(p, "kind"), "COUPON") == 0)
            fprintf(f, "  rate %s + step-up %s bps for %s months: %s per unit, total %s\n",
                    F(p, "coupon_bps"), F(p, "step_up_bps"), F(p, "months"), F(p, "per_unit"),
                    F(p, "total"));
        else
            fprintf(f, "  %s per unit, total %s\n", F(p, "per_unit"), F(p, "total"));
        esgw_cells t = {.ncols = 3};
        esgw_cli__row(&t, "  TO HOLDER", "UNITS", "AMOUNT");
        size_t k;
        json_t *l;
        json_array_foreach(json_object_get(p, "holders"), k, l)
            esgw_cli__row(&t, esgw_cli__printf(cli, "  %s", F(l, "member")), F(l, "units"),
                F(l, "amount"));
        esgw_cli__row(&t, "  FROM CO-ISSUER", "SHARE", "AMOUNT");
        json_array_foreach(json_object_get(p, "co_issuers"), k, l)
            esgw_cli__row(&t, esgw_cli__printf(cli, "  %s", F(l, "member")),
                esgw_cli__pct(cli, esgw_cli__u64_of(l, "share_bps")), F(l, "amount"));
        if ((rc = esgw_cli__cells_print(cli, &t, 6)) != 0)
            break;
        fprintf(f, "  tx %s\n", F(p, "tx_id"));
    }
    json_decref(doc);
    return rc;
}

static int cmd_allocations(esgw_cli *cli, const esgw_args *a) {
    json_t *doc;
    bool done;
    int rc = get_instrument(cli, &doc, a->pos[0], "/allocations", &done);
    if (rc || done)
        return rc;
    json_t *cities = need_array(cli, doc, "per_city", "allocations");
    json_t *projects = cities ? need_array(cli, doc, "per_project", "allocations") : NULL;
    json_t *list = projects ? need_array(cli, doc, "allocations", "allocations") : NULL;
    if (!list) {
        json_decref(doc);
        return ESG_ERR_JSON;
    }
    FILE *f = cli->out;
    fprintf(f, "%s: raised %s, allocated %s, unallocated %s\n\n", F(doc, "instrument"),
            F(doc, "amount_raised"), F(doc, "allocated_total"), F(doc, "unallocated"));
    size_t i;
    json_t *x;
    esgw_cells t = {.ncols = 5};
    esgw_cli__row(&t, "CITY", "SHARE", "PART OF RAISED", "ALLOCATED", "REMAINING");
    json_array_foreach(cities, i, x)
        esgw_cli__row(&t, F(x, "city"), esgw_cli__pct(cli, esgw_cli__u64_of(x, "share_bps")),
            F(x, "part_of_raised"), F(x, "allocated"), F(x, "remaining"));
    if ((rc = esgw_cli__cells_print(cli, &t, 0x1e)) != 0)
        goto out;
    fputc('\n', f);
    t = (esgw_cells){.ncols = 7};
    esgw_cli__row(&t, "PROJECT", "CITY", "EU OBJ", "BUDGET", "ALLOCATED", "OF PROCEEDS", "");
    json_array_foreach(projects, i, x)
        esgw_cli__row(&t, F(x, "project_id"), F(x, "city"), F(x, "eu_objective"), F(x, "budget"),
            F(x, "allocated"), esgw_cli__pct(cli, esgw_cli__u64_of(x, "share_of_proceeds_bps")),
            json_is_true(json_object_get(x, "over_budget")) ? "OVER BUDGET" : "");
    if ((rc = esgw_cli__cells_print(cli, &t, 0x38)) != 0)
        goto out;
    if (json_array_size(list) > 0) {
        fputc('\n', f);
        t = (esgw_cells){.ncols = 6};
        esgw_cli__row(&t, "DATE", "PROJECT", "CITY", "AMOUNT", "EVIDENCE SHA-256", "TX");
        json_array_foreach(list, i, x)
            esgw_cli__row(&t, F(x, "date"), F(x, "project_id"), F(x, "city"), F(x, "amount"),
                F(x, "evidence_sha256"), F(x, "id"));
        rc = esgw_cli__cells_print(cli, &t, 0x8);
    }
out:
    json_decref(doc);
    return rc;
}

/* One line per attestation of a report, for people. */
static void print_attestations(esgw_cli *cli, const json_t *r) {
    size_t k;
    json_t *at;
    json_array_foreach(json_object_get(r, "attestations"), k, at) {
        bool revoked = json_is_true(json_object_get(at, "revoked"));
        fprintf(cli->out, "    %s %s %s (attestation %s)%s%s\n", F(at, "verifier"),
                F(at, "opinion"), F(at, "verified_value"), F(at, "id"),
                revoked ? ", revoked: " : "", revoked ? F(at, "revoke_reason") : "");
    }
    json_array_foreach(json_object_get(r, "disputes"), k, at)
        fprintf(cli->out, "    disputed by %s: %s\n", F(at, "member"), F(at, "reason"));
}

static int cmd_impact(esgw_cli *cli, const esgw_args *a) {
    json_t *doc;
    bool done;
    int rc = get_instrument(cli, &doc, a->pos[0], "/impact", &done);
    if (rc || done)
        return rc;
    json_t *reports = need_array(cli, doc, "reports", "impact reports");
    json_t *totals = reports ? need_array(cli, doc, "confirmed_totals", "impact reports") : NULL;
    if (!totals) {
        json_decref(doc);
        return ESG_ERR_JSON;
    }
    FILE *f = cli->out;
    size_t i;
    json_t *r;
    if (json_array_size(reports) == 0)
        fprintf(f, "no impact reports for %s\n", F(doc, "instrument"));
    json_array_foreach(reports, i, r) {
        const char *state;
        if (json_is_string(json_object_get(r, "superseded_by")))
            state = esgw_cli__printf(cli, "superseded by %s", F(r, "superseded_by"));
        else if (json_is_true(json_object_get(r, "counted")))
            state = esgw_cli__printf(cli, "counted %s", F(r, "counted_value"));
        else
            state = "not counted";
        fprintf(f, "report %s\n", F(r, "id"));
        fprintf(f, "  %s (%s) %s %s %s over %s..%s\n", F(r, "project_id"), F(r, "city"),
                F(r, "kpi"), F(r, "value"), F(r, "unit"), F(r, "period_start"),
                F(r, "period_end"));
        fprintf(f, "  %s; evidence %s\n", state ? state : "-", F(r, "evidence_sha256"));
        print_attestations(cli, r);
    }
    if (json_array_size(totals) > 0) {
        fputc('\n', f);
        esgw_cells t = {.ncols = 4};
        esgw_cli__row(&t, "KPI", "CONFIRMED TOTAL", "UNIT", "REPORTS COUNTED");
        json_array_foreach(totals, i, r)
            esgw_cli__row(&t, F(r, "kpi"), F(r, "total"), F(r, "unit"), F(r, "reports_counted"));
        rc = esgw_cli__cells_print(cli, &t, 0xa);
    }
    json_decref(doc);
    return rc;
}

#define SUBMIT(p, syn, minp, req, opt, fn, text)                                      \
    {.path = p, .synopsis = syn " --key NAME", .min_pos = minp, .max_pos = minp,       \
     .required = req, .optional = opt, .kind = ESGW_CMD_SUBMIT, .build = fn, .help = text}
#define QUERY(p, syn, npos, fn, text)                                                   \
    {.path = p, .synopsis = syn, .min_pos = npos, .max_pos = npos, .run = fn,          \
     .kind = ESGW_CMD_USES_NODE, .help = text}

#define ID_HELP "  ID               the instrument's id, as in its spec (JGB-2026-01)\n"
#define UNITS_HELP                                                                      \
    "  --units N        a number of units (of the spec's face value each), 1..2^64-1\n"
#define EVIDENCE_HELP(what)                                                             \
    "  --evidence FILE  " what "; the ledger keeps the SHA-256 of its\n"                 \
    "                   bytes, not the file\n"
#define REASON_HELP(what)                                                               \
    "  --reason TEXT    " what "\n"        \
    "                   (not empty: ERR_MISSING_REASON; at most 500 characters, no\n" \
    "                   control character)\n"

const esgw_cmd esgw_cli__instrument_cmds[] = {
    SUBMIT("instrument issue", "--spec FILE.json", 0, "spec", NULL, build_issue,
           "Issues an instrument (a green, social, sustainability or sustainability-linked\n"
           "bond, or a green loan) from its spec, jointly: the key must be an OFFICER of a\n"
           "co-issuer, and an officer of every other co-issuer must co-sign. So write it\n"
           "with -o FILE, have each co-issuer run esgwallet tx sign FILE --key NAME, check\n"
           "with esgwallet tx inspect FILE, then esgwallet tx submit FILE. It opens in\n"
           "OFFERING; projects defined inline that are not registered yet are registered.\n"
           "The spec is checked before anything is signed, as a node checks what it can\n"
           "without the ledger's state.\n"
           "\n"
           "  --spec FILE.json  the instrument spec, at most 1 MiB; every key, its unit,\n"
           "                   default and limits: docs/SPEC.md (projects in it also\n"
           "                   docs/PROJECTS.md). Money is a string of integer minor units\n"
           "                   (\"100000\" = 1,000.00 EUR), KPI values decimal strings of at\n"
           "                   most 3 decimals, shares and coupons integer basis points,\n"
           "                   dates YYYY-MM-DD; an unknown or duplicated key is refused\n"),
    SUBMIT("instrument subscribe", "ID --units N", 1, "units", NULL, build_subscribe,
           "Subscribes units of an instrument in OFFERING for the key's member, which must\n"
           "be an INVESTOR (ERR_NOT_INVESTOR); at most the units still unsold\n"
           "(ERR_INSUFFICIENT_UNITS).\n"
           "\n" ID_HELP UNITS_HELP),
    SUBMIT("instrument close", "ID", 1, NULL, NULL, build_close,
           "Closes the offering: the instrument becomes ACTIVE, amount_raised = units sold x\n"
           "face value, unsold units are cancelled. Only the lead issuer (the spec's first\n"
           "co-issuer: ERR_NOT_LEAD_ISSUER) may, and only once something was subscribed.\n"
           "\n" ID_HELP),
    SUBMIT("instrument transfer", "ID --to MEMBER --units N", 1, "to units", NULL,
           build_transfer,
           "Transfers units of an ACTIVE instrument from the key's member to another\n"
           "INVESTOR member (ERR_BAD_RECEIVER), at most what it holds\n"
           "(ERR_INSUFFICIENT_HOLDING).\n"
           "\n" ID_HELP
           "  --to MEMBER      the receiving member's id, [a-z0-9-]{2,40}\n" UNITS_HELP),
    SUBMIT("instrument pay", "ID --kind coupon|redemption --due YYYY-MM-DD", 1, "kind due",
           NULL, build_pay,
           "Records a payment of an ACTIVE instrument: the amounts due to each holder and\n"
           "owed by each co-issuer, computed by the ledger (a sustainability-linked bond's\n"
           "coupon includes its step-ups). The key must be an OFFICER of the spec's paying\n"
           "agent (ERR_NOT_INSTRUMENT_AGENT); a payment is recorded on or after its due\n"
           "date (ERR_NOT_DUE).\n"
           "\n" ID_HELP
           "  --kind coupon|redemption  any case (ERR_BAD_PAYMENT_KIND); coupons in their\n"
           "                   schedule's order, the redemption last, at maturity\n"
           "  --due YYYY-MM-DD the due date: the next coupon's date in the schedule\n"
           "                   (ERR_WRONG_DUE_DATE), or the maturity date for the redemption\n"),
    QUERY("instrument show", "ID", 1, cmd_show,
          "Prints an instrument (GET /v1/instruments/{id}, docs/API.md): status, units\n"
          "offered, sold and outstanding, amount raised (minor units), coupon, dates,\n"
          "paying agent, co-issuers and shares, projects, KPI targets with their verdicts,\n"
          "and the coupon schedule.\n"
          "\n" ID_HELP),
    QUERY("instrument holders", "ID", 1, cmd_holders,
          "Lists an instrument's holders (GET /v1/instruments/{id}/holders): member, units\n"
          "held and share of the units outstanding.\n"
          "\n" ID_HELP),
    QUERY("instrument payments", "ID", 1, cmd_payments,
          "Lists an instrument's recorded payments (GET /v1/instruments/{id}/payments):\n"
          "coupons and redemption, with the amounts (minor units) to each holder and from\n"
          "each co-issuer.\n"
          "\n" ID_HELP),
    QUERY("instrument allocations", "ID", 1, cmd_allocations,
          "Prints how an instrument's proceeds are allocated to its projects, today (GET\n"
          "/v1/instruments/{id}/allocations): per city and per project, and every\n"
          "allocation, reversed ones marked. For a reporting period: report allocation.\n"
          "\n" ID_HELP),
    QUERY("instrument impact", "ID", 1, cmd_impact,
          "Prints the impact reported for an instrument's projects (GET\n"
          "/v1/instruments/{id}/impact): each report with its attestations and disputes,\n"
          "whether it counts, and the confirmed totals per KPI (values in the KPI's unit,\n"
          "three decimals). For a reporting period: report impact.\n"
          "\n" ID_HELP),
    QUERY("instrument list", "", 0, cmd_list,
          "Lists the instruments (GET /v1/instruments): id, kind, status, currency, units\n"
          "offered and sold, amount raised (minor units), issue and maturity dates, and\n"
          "the co-issuers with their shares.\n"),
    SUBMIT("proceeds allocate",
           "ID --project P --amount MINOR_UNITS --date YYYY-MM-DD --evidence FILE", 1,
           "project amount date evidence", NULL, build_allocate,
           "Records an allocation of an instrument's proceeds to one of its projects, by an\n"
           "OFFICER of the project's city, within that city's part of the amount raised\n"
           "(ERR_ALLOCATION_EXCEEDS says what remains). The instrument must be ACTIVE or\n"
           "MATURED. An allocation dated before the issue date is refinancing. Rules:\n"
           "docs/PROJECTS.md (\"Allocations\").\n"
           "\n" ID_HELP
           "  --project P      a project of the instrument's spec, [A-Z0-9-]{3,40}\n"
           "  --amount MINOR_UNITS  a whole number > 0 of minor units of the instrument's\n"
           "                   currency (cents for EUR: 2500000 is 25,000.00 EUR)\n"
           "  --date YYYY-MM-DD  the allocation's date: not after the block's date or the\n"
           "                   maturity, not before the issue date minus the refinancing\n"
           "                   look-back (36 months unless the spec says otherwise)\n"
           EVIDENCE_HELP("an invoice or contract")),
    SUBMIT("proceeds reverse", "ALLOCATION_ID --reason TEXT", 1, "reason", NULL, build_reverse,
           "Reverses a wrong allocation, by an OFFICER of its city: it stays listed, marked\n"
           "reversed, and no longer counts anywhere (the city may allocate the amount\n"
           "again). Rules: docs/PROJECTS.md (\"Allocations\").\n"
           "\n"
           "  ALLOCATION_ID    the allocation's id, 64 hex: the id of the transaction that\n"
           "                   recorded it (esgwallet instrument allocations ID lists them)\n"
           REASON_HELP("why it is reversed")),
    {0},
};
