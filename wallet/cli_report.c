/* esgwallet report allocation ID | report impact ID [--csv]: the reports
 * an issuer publishes and an investor reads, in the spirit of the EU Green
 * Bond Standard's allocation and impact reports (wallet/cli.h).
 *
 * Every figure comes from the node (GET /v1/instruments/{id}, .../allocations,
 * .../impact, /v1/kpis), which computes it with the contracts' own
 * functions; this file only arranges the figures and adds sums and shares
 * of figures it shows (by EU objective, the reported totals). Each report
 * is first built as one JSON document -- what --json prints -- and the
 * table and the CSV are drawn from that document, so the three forms
 * always agree.
 *
 * CSV: RFC 4180 -- one header row, CRLF line ends, fields quoted when
 * they hold a comma, a quote or a line break, quotes doubled. One table
 * per report, its first column "section" telling the row's kind (project,
 * city, objective, total; report, kpi). Shares are percentages with two
 * decimals ("7.50"), money minor units, KPI values decimal strings. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/decimal.h"
#include "ledger/error.h"
#include "wallet/cli.h"

#define F(o, k) esgw_cli__field(cli, (o), (k))

/* The integer `key` of `o` (a number or a decimal string), 0 if neither. */
static uint64_t u64_of(const json_t *o, const char *key) {
    uint64_t v = 0;
    if (esgw_json_u64(json_object_get(o, key), &v) != 0)
        v = 0;
    return v;
}

/* floor(part x 10000 / whole), 0 when whole is 0: the API's rule. */
static uint64_t bps_of(uint64_t part, uint64_t whole) {
    return whole ? (uint64_t)((unsigned __int128)part * 10000 / whole) : 0;
}

static json_t *money(uint64_t v) {
    char b[21];
    esg_u64_format(v, b);
    return json_string(b);
}

static json_t *milli(int64_t v) {
    char b[32];
    esg_milli_format(v, b);
    return json_string(b);
}

/* Sets o[key] = v (taken), recording out-of-memory in *ok. */
static void put(json_t *o, const char *key, json_t *v, bool *ok) {
    if (!o || !v || json_object_set_new(o, key, v) != 0)
        *ok = false;
}

static void push(json_t *a, json_t *v, bool *ok) {
    if (!a || !v || json_array_append_new(a, v) != 0)
        *ok = false;
}

/* A new reference to v, or null when v is absent. */
static json_t *ref(json_t *v) {
    return v ? json_incref(v) : json_null();
}

/* Copies o[key] into d[key] (null when absent). */
static void copy(json_t *d, const json_t *o, const char *key, bool *ok) {
    put(d, key, ref(json_object_get(o, key)), ok);
}

/* The element of array `arr` whose member `key` is the string `value`. */
static json_t *find_by(const json_t *arr, const char *key, const char *value) {
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *s = json_string_value(json_object_get(e, key));
        if (s && strcmp(s, value) == 0)
            return e;
    }
    return NULL;
}

/* The node documents a report is made from: the instrument and one of
 * its sub-resources ("/allocations"), the arrays `need` in the latter. */
static int fetch(esgw_cli *cli, const char *id, const char *suffix, const char *need,
                 json_t **ins, json_t **sub) {
    *ins = *sub = NULL;
    int rc = esgw_cli__get(cli, ins, "/v1/instruments/", id, NULL);
    if (rc || (rc = esgw_cli__get(cli, sub, "/v1/instruments/", id, suffix)) != 0)
        goto fail;
    for (const char *p = need; *p;) {
        size_t l = strcspn(p, " ");
        char k[64];
        snprintf(k, sizeof k, "%.*s", (int)l, p);
        if (!json_is_array(json_object_get(*sub, k))) {
            rc = esgw_cli__fail(cli, ESG_ERR_JSON, "node sent %s%s without '%s'", id, suffix, k);
            goto fail;
        }
        p += l;
        while (*p == ' ')
            p++;
    }
    return 0;
fail:
    json_decref(*ins);
    json_decref(*sub);
    *ins = *sub = NULL;
    return rc;
}

/* -------------------------------------------------------------- CSV */

/* Writes one CSV field (RFC 4180). */
static void csv_field(FILE *f, const char *s, bool last) {
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

/* A CSV row from n fields. */
static void csv_row(FILE *f, const char *const *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        csv_field(f, v[i], i + 1 == n);
}

/* A CSV value of o[key]: strings and numbers as they are, booleans
 * true/false, absent or null as "". */
static const char *cv(esgw_cli *cli, const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    if (!v || json_is_null(v))
        return "";
    const char *s = esgw_cli__field(cli, o, key);
    return json_is_string(v) && !*json_string_value(v) ? "" : s;
}

/* A bps member as a percentage with two decimals, no sign ("7.50"). */
static const char *cpct(esgw_cli *cli, const json_t *o, const char *key) {
    if (!json_object_get(o, key))
        return "";
    uint64_t b = u64_of(o, key);
    char *s = esgw_cli__printf(cli, "%" PRIu64 ".%02" PRIu64, b / 100, b % 100);
    return s ? s : "";
}

/* --------------------------------------------------- allocation report */

/* Builds the allocation report document from the instrument `ins` and its
 * allocations `al` (both as the node sent them). */
static json_t *allocation_doc(const json_t *ins, const json_t *al, bool *ok) {
    json_t *d = json_object();
    put(d, "report", json_string("allocation"), ok);
    put(d, "instrument", ref(json_object_get(al, "instrument")), ok);
    copy(d, ins, "name", ok);
    copy(d, ins, "kind", ok);
    copy(d, ins, "status", ok);
    copy(d, ins, "currency", ok);
    uint64_t raised = u64_of(al, "amount_raised"), total = u64_of(al, "allocated_total");
    copy(d, al, "amount_raised", ok);
    copy(d, al, "allocated_total", ok);
    copy(d, al, "unallocated", ok);
    put(d, "allocated_share_bps", json_integer((json_int_t)bps_of(total, raised)), ok);

    json_t *projects = json_array(), *spec_projects = json_object_get(ins, "projects");
    size_t i;
    json_t *p;
    /* By EU objective: the sums the standard reports by environmental
     * objective, in the order objectives first appear. */
    json_t *objectives = json_array();
    json_array_foreach(json_object_get(al, "per_project"), i, p) {
        const char *pid = json_string_value(json_object_get(p, "project_id"));
        json_t *sp = pid ? find_by(spec_projects, "id", pid) : NULL;
        json_t *o = json_object();
        copy(o, p, "project_id", ok);
        copy(o, p, "name", ok);
        copy(o, p, "city", ok);
        copy(o, p, "eu_objective", ok);
        put(o, "sdgs", sp && json_object_get(sp, "sdgs") ? ref(json_object_get(sp, "sdgs"))
                                                         : json_array(),
            ok);
        copy(o, p, "budget", ok);
        copy(o, p, "allocated", ok);
        copy(o, p, "share_of_proceeds_bps", ok);
        uint64_t budget = u64_of(p, "budget"), allocated = u64_of(p, "allocated");
        put(o, "budget_used_bps", json_integer((json_int_t)bps_of(allocated, budget)), ok);
        copy(o, p, "over_budget", ok);
        push(projects, o, ok);

        const char *obj = json_string_value(json_object_get(p, "eu_objective"));
        obj = obj ? obj : "-";
        json_t *row = find_by(objectives, "eu_objective", obj);
        if (!row) {
            row = json_pack("{s:s, s:o, s:i}", "eu_objective", obj, "allocated", money(0),
                            "projects", 0);
            push(objectives, row, ok);
        }
        uint64_t sum = u64_of(row, "allocated");
        if (row && sum <= UINT64_MAX - allocated) {
            put(row, "allocated", money(sum + allocated), ok);
            put(row, "projects", json_integer(json_integer_value(json_object_get(row, "projects")) + 1),
                ok);
        }
    }
    json_array_foreach(objectives, i, p)
        put(p, "share_of_proceeds_bps",
            json_integer((json_int_t)bps_of(u64_of(p, "allocated"), raised)), ok);
    put(d, "projects", projects, ok);

    json_t *cities = json_array();
    json_array_foreach(json_object_get(al, "per_city"), i, p) {
        json_t *o = json_object();
        copy(o, p, "city", ok);
        copy(o, p, "share_bps", ok);
        put(o, "part_of_proceeds", ref(json_object_get(p, "part_of_raised")), ok);
        copy(o, p, "allocated", ok);
        copy(o, p, "remaining", ok);
        put(o, "allocated_share_bps",
            json_integer((json_int_t)bps_of(u64_of(p, "allocated"), u64_of(p, "part_of_raised"))),
            ok);
        push(cities, o, ok);
    }
    put(d, "cities", cities, ok);
    put(d, "by_objective", objectives, ok);
    put(d, "allocations", ref(json_object_get(al, "allocations")), ok);
    return d;
}

static int allocation_table(esgw_cli *cli, const json_t *d) {
    FILE *f = cli->out;
    fprintf(f, "Allocation report: %s \"%s\" (%s, %s)\n", F(d, "instrument"), F(d, "name"),
            F(d, "kind"), F(d, "status"));
    fprintf(f, "Amounts in %s minor units.\n\n", F(d, "currency"));
    char *share = esgw_cli__pct(cli, u64_of(d, "allocated_share_bps"));
    fprintf(f, "Proceeds raised %s; allocated %s (%s); unallocated %s\n\n", F(d, "amount_raised"),
            F(d, "allocated_total"), share ? share : "-", F(d, "unallocated"));

    json_t *projects = json_object_get(d, "projects"), *cities = json_object_get(d, "cities");
    json_t *objs = json_object_get(d, "by_objective");
    size_t np = json_array_size(projects), nc = json_array_size(cities),
           no = json_array_size(objs);
    size_t cap = (np + nc + no + 3) * 9;
    const char **c = esgw_cli__alloc(cli, cap * sizeof *c);
    if (!c)
        return ESG_ERR_NOMEM;
    size_t n = 0, i;
    json_t *p;
    fprintf(f, "By project\n");
    const char *ph[] = {"PROJECT", "CITY", "EU OBJECTIVE", "SDGS", "BUDGET", "ALLOCATED",
                        "OF PROCEEDS", "OF BUDGET", "FLAG"};
    memcpy(c, ph, sizeof ph);
    n = 9;
    json_array_foreach(projects, i, p) {
        char *sdgs = esgw_cli__printf(cli, "%s", "");
        size_t k;
        json_t *g;
        json_array_foreach(json_object_get(p, "sdgs"), k, g) if (sdgs)
            sdgs = esgw_cli__printf(cli, "%s%s%" JSON_INTEGER_FORMAT, sdgs, k ? "," : "",
                                    json_integer_value(g));
        c[n++] = F(p, "project_id");
        c[n++] = F(p, "city");
        c[n++] = F(p, "eu_objective");
        c[n++] = sdgs && *sdgs ? sdgs : "-";
        c[n++] = F(p, "budget");
        c[n++] = F(p, "allocated");
        c[n++] = esgw_cli__pct(cli, u64_of(p, "share_of_proceeds_bps"));
        c[n++] = esgw_cli__pct(cli, u64_of(p, "budget_used_bps"));
        c[n++] = json_is_true(json_object_get(p, "over_budget")) ? "OVER BUDGET" : "";
    }
    esgw_cli__table(f, c, n / 9, 9, 0xf0);

    fprintf(f, "\nBy city\n");
    const char *ch[] = {"CITY", "SHARE", "PART OF PROCEEDS", "ALLOCATED", "REMAINING",
                        "ALLOCATED OF PART"};
    memcpy(c, ch, sizeof ch);
    n = 6;
    json_array_foreach(cities, i, p) {
        c[n++] = F(p, "city");
        c[n++] = esgw_cli__pct(cli, u64_of(p, "share_bps"));
        c[n++] = F(p, "part_of_proceeds");
        c[n++] = F(p, "allocated");
        c[n++] = F(p, "remaining");
        c[n++] = esgw_cli__pct(cli, u64_of(p, "allocated_share_bps"));
    }
    c[n++] = "total";
    c[n++] = "100.00%";
    c[n++] = F(d, "amount_raised");
    c[n++] = F(d, "allocated_total");
    c[n++] = F(d, "unallocated");
    c[n++] = share;
    esgw_cli__table(f, c, n / 6, 6, 0x3e);

    fprintf(f, "\nBy EU environmental objective\n");
    const char *oh[] = {"EU OBJECTIVE", "PROJECTS", "ALLOCATED", "OF PROCEEDS"};
    memcpy(c, oh, sizeof oh);
    n = 4;
    json_array_foreach(objs, i, p) {
        c[n++] = F(p, "eu_objective");
        c[n++] = F(p, "projects");
        c[n++] = F(p, "allocated");
        c[n++] = esgw_cli__pct(cli, u64_of(p, "share_of_proceeds_bps"));
    }
    esgw_cli__table(f, c, n / 4, 4, 0xe);
    return 0;
}

static void allocation_csv(esgw_cli *cli, const json_t *d) {
    FILE *f = cli->out;
    static const char *const head[] = {
        "section", "instrument", "currency", "city", "project_id", "project_name",
        "eu_objective", "sdgs", "budget", "allocated", "share_of_proceeds_pct",
        "budget_used_pct", "over_budget", "city_share_pct", "part_of_proceeds", "remaining"};
    enum { N = sizeof head / sizeof head[0] };
    csv_row(f, head, N);
    const char *ins = cv(cli, d, "instrument"), *cur = cv(cli, d, "currency");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(d, "projects"), i, p) {
        char *sdgs = esgw_cli__printf(cli, "%s", "");
        size_t k;
        json_t *g;
        json_array_foreach(json_object_get(p, "sdgs"), k, g) if (sdgs)
            sdgs = esgw_cli__printf(cli, "%s%s%" JSON_INTEGER_FORMAT, sdgs, k ? " " : "",
                                    json_integer_value(g));
        const char *v[N] = {"project", ins, cur, cv(cli, p, "city"), cv(cli, p, "project_id"),
                            cv(cli, p, "name"), cv(cli, p, "eu_objective"), sdgs,
                            cv(cli, p, "budget"), cv(cli, p, "allocated"),
                            cpct(cli, p, "share_of_proceeds_bps"),
                            cpct(cli, p, "budget_used_bps"), cv(cli, p, "over_budget"), "", "",
                            ""};
        csv_row(f, v, N);
    }
    uint64_t raised = u64_of(d, "amount_raised");
    json_array_foreach(json_object_get(d, "cities"), i, p) {
        json_t *s = json_pack("{s:I}", "b",
                              (json_int_t)bps_of(u64_of(p, "allocated"), raised));
        const char *v[N] = {"city", ins, cur, cv(cli, p, "city"), "", "", "", "", "",
                            cv(cli, p, "allocated"), cpct(cli, s, "b"), "", "",
                            cpct(cli, p, "share_bps"), cv(cli, p, "part_of_proceeds"),
                            cv(cli, p, "remaining")};
        csv_row(f, v, N);
        json_decref(s);
    }
    json_array_foreach(json_object_get(d, "by_objective"), i, p) {
        const char *v[N] = {"objective", ins, cur, "", "", "", cv(cli, p, "eu_objective"), "",
                            "", cv(cli, p, "allocated"), cpct(cli, p, "share_of_proceeds_bps"),
                            "", "", "", "", ""};
        csv_row(f, v, N);
    }
    const char *v[N] = {"total", ins, cur, "", "", "", "", "", "", cv(cli, d, "allocated_total"),
                        cpct(cli, d, "allocated_share_bps"), "", "", "100.00",
                        cv(cli, d, "amount_raised"), cv(cli, d, "unallocated")};
    csv_row(f, v, N);
}

/* Prints report document `d` in the form asked for and releases it. */
static int emit(esgw_cli *cli, const esgw_args *a, json_t *d, bool ok,
                int (*table)(esgw_cli *, const json_t *), void (*csv)(esgw_cli *, const json_t *)) {
    int rc;
    if (!ok || !d)
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    else if (cli->json)
        rc = esgw_cli__print_json(cli, d);
    else if (esgw_cli__has(a, "csv")) {
        csv(cli, d);
        rc = 0;
    } else {
        rc = table(cli, d);
    }
    json_decref(d);
    return rc;
}

static int cmd_report_allocation(esgw_cli *cli, const esgw_args *a) {
    if (cli->json && esgw_cli__has(a, "csv"))
        return esgw_cli__usage(cli, "--json and --csv exclude each other");
    json_t *ins, *al;
    int rc = fetch(cli, a->pos[0], "/allocations", "per_city per_project allocations", &ins, &al);
    if (rc)
        return rc;
    bool ok = true;
    json_t *d = allocation_doc(ins, al, &ok);
    json_decref(ins);
    json_decref(al);
    return emit(cli, a, d, ok, allocation_table, allocation_csv);
}

/* ------------------------------------------------------- impact report */

/* The verdict on a report, from the node's figures: superseded, verified
 * (it counts), rejected (a live REJECTED attestation), or unverified. */
static const char *report_status(const json_t *r) {
    if (json_is_string(json_object_get(r, "superseded_by")))
        return "superseded";
    if (json_is_true(json_object_get(r, "counted")))
        return "verified";
    size_t i;
    json_t *at;
    json_array_foreach(json_object_get(r, "attestations"), i, at) {
        const char *op = json_string_value(json_object_get(at, "opinion"));
        if (!json_is_true(json_object_get(at, "revoked")) && op && strcmp(op, "REJECTED") == 0)
            return "rejected";
    }
    return "unverified";
}

static json_t *impact_doc(const json_t *ins, const json_t *im, const json_t *kpis, bool *ok) {
    json_t *d = json_object();
    put(d, "report", json_string("impact"), ok);
    put(d, "instrument", ref(json_object_get(im, "instrument")), ok);
    copy(d, ins, "name", ok);
    copy(d, ins, "kind", ok);
    copy(d, ins, "status", ok);
    json_t *spec_projects = json_object_get(ins, "projects");
    json_t *catalogue = json_object_get(kpis, "kpis");
    json_t *rows = json_array();
    /* Sum of the live (not superseded) reported values, per KPI. */
    json_t *reported = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(im, "reports"), i, r) {
        json_t *o = json_object();
        const char *pid = json_string_value(json_object_get(r, "project_id"));
        json_t *sp = pid ? find_by(spec_projects, "id", pid) : NULL;
        const char *status = report_status(r);
        put(o, "report_id", ref(json_object_get(r, "id")), ok);
        copy(o, r, "project_id", ok);
        put(o, "project_name", sp ? ref(json_object_get(sp, "name")) : json_null(), ok);
        copy(o, r, "city", ok);
        put(o, "eu_objective", sp ? ref(json_object_get(sp, "eu_objective")) : json_null(),
            ok);
        copy(o, r, "kpi", ok);
        copy(o, r, "unit", ok);
        copy(o, r, "period_start", ok);
        copy(o, r, "period_end", ok);
        put(o, "reported", ref(json_object_get(r, "value")), ok);
        put(o, "verified", ref(json_object_get(r, "counted_value")), ok);
        put(o, "status", json_string(status), ok);
        json_t *vs = json_array();
        size_t k;
        json_t *at;
        json_array_foreach(json_object_get(r, "attestations"), k, at) {
            if (json_is_true(json_object_get(at, "revoked")))
                continue;
            json_t *v = json_object();
            copy(v, at, "verifier", ok);
            copy(v, at, "opinion", ok);
            copy(v, at, "verified_value", ok);
            put(v, "attestation_id", ref(json_object_get(at, "id")), ok);
            push(vs, v, ok);
        }
        put(o, "verifiers", vs, ok);
        copy(o, r, "evidence_sha256", ok);
        copy(o, r, "evidence_uri", ok);
        copy(o, r, "methodology", ok);
        put(o, "disputes", json_integer((json_int_t)json_array_size(json_object_get(r, "disputes"))),
            ok);
        copy(o, r, "superseded_by", ok);
        push(rows, o, ok);

        const char *kpi = json_string_value(json_object_get(r, "kpi"));
        int64_t v = 0, sum = 0;
        json_t *prev = kpi ? json_object_get(reported, kpi) : NULL;
        if (kpi && strcmp(status, "superseded") != 0 &&
            esg_milli_parse(json_string_value(json_object_get(r, "value")), &v) == 0 &&
            (!prev || esg_milli_parse(json_string_value(prev), &sum) == 0) &&
            !__builtin_add_overflow(sum, v, &sum))
            put(reported, kpi, milli(sum), ok);
    }
    json_t *totals = json_array();
    json_array_foreach(json_object_get(im, "confirmed_totals"), i, r) {
        const char *kpi = json_string_value(json_object_get(r, "kpi"));
        json_t *cat = kpi ? find_by(catalogue, "id", kpi) : NULL;
        json_t *o = json_object();
        copy(o, r, "kpi", ok);
        put(o, "name", cat ? ref(json_object_get(cat, "name")) : json_null(), ok);
        copy(o, r, "unit", ok);
        put(o, "category", cat ? ref(json_object_get(cat, "category")) : json_null(), ok);
        json_t *rep = kpi ? json_object_get(reported, kpi) : NULL;
        put(o, "reported_total", rep ? json_incref(rep) : milli(0), ok);
        put(o, "confirmed_total", ref(json_object_get(r, "total")), ok);
        copy(o, r, "reports_counted", ok);
        push(totals, o, ok);
    }
    json_decref(reported);
    put(d, "reports", rows, ok);
    put(d, "kpis", totals, ok);
    return d;
}

/* "verifier-a CONFIRMED 1200.000; ..." for a report row. */
static const char *verifiers_text(esgw_cli *cli, const json_t *row, const char *sep) {
    char *s = esgw_cli__printf(cli, "%s", "");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(row, "verifiers"), i, v) if (s)
        s = esgw_cli__printf(cli, "%s%s%s %s %s", s, i ? sep : "", F(v, "verifier"),
                             F(v, "opinion"), F(v, "verified_value"));
    return s && *s ? s : NULL;
}

static int impact_table(esgw_cli *cli, const json_t *d) {
    FILE *f = cli->out;
    fprintf(f, "Impact report: %s \"%s\" (%s, %s)\n", F(d, "instrument"), F(d, "name"),
            F(d, "kind"), F(d, "status"));
    fprintf(f, "Values in each KPI's unit; a report counts once verified (its smallest live\n"
               "CONFIRMED or QUALIFIED value, no live REJECTED) and not superseded.\n\n");
    json_t *rows = json_object_get(d, "reports"), *kpis = json_object_get(d, "kpis");
    size_t nr = json_array_size(rows), nk = json_array_size(kpis);
    size_t cap = (nr + nk + 2) * 10;
    const char **c = esgw_cli__alloc(cli, cap * sizeof *c);
    if (!c)
        return ESG_ERR_NOMEM;
    const char *rh[] = {"PERIOD", "PROJECT", "CITY", "KPI", "REPORTED", "VERIFIED", "UNIT",
                        "STATUS", "VERIFIERS", "EVIDENCE SHA-256"};
    memcpy(c, rh, sizeof rh);
    size_t n = 10, i;
    json_t *r;
    fprintf(f, "Reports\n");
    json_array_foreach(rows, i, r) {
        c[n++] = esgw_cli__printf(cli, "%s..%s", F(r, "period_start"), F(r, "period_end"));
        c[n++] = F(r, "project_id");
        c[n++] = F(r, "city");
        c[n++] = F(r, "kpi");
        c[n++] = F(r, "reported");
        c[n++] = F(r, "verified");
        c[n++] = F(r, "unit");
        c[n++] = F(r, "status");
        c[n++] = verifiers_text(cli, r, "; ");
        c[n++] = F(r, "evidence_sha256");
    }
    esgw_cli__table(f, c, n / 10, 10, 0x30);
    fprintf(f, "\nTotals per KPI\n");
    const char *kh[] = {"KPI", "NAME", "REPORTED", "CONFIRMED", "UNIT", "REPORTS COUNTED"};
    memcpy(c, kh, sizeof kh);
    n = 6;
    json_array_foreach(kpis, i, r) {
        c[n++] = F(r, "kpi");
        c[n++] = F(r, "name");
        c[n++] = F(r, "reported_total");
        c[n++] = F(r, "confirmed_total");
        c[n++] = F(r, "unit");
        c[n++] = F(r, "reports_counted");
    }
    esgw_cli__table(f, c, n / 6, 6, 0x2c);
    return 0;
}

static void impact_csv(esgw_cli *cli, const json_t *d) {
    FILE *f = cli->out;
    static const char *const head[] = {
        "section", "instrument", "report_id", "project_id", "city", "eu_objective", "kpi",
        "unit", "period_start", "period_end", "reported", "verified", "status", "verifiers",
        "evidence_sha256", "disputes", "reported_total", "confirmed_total", "reports_counted"};
    enum { N = sizeof head / sizeof head[0] };
    csv_row(f, head, N);
    const char *ins = cv(cli, d, "instrument");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(d, "reports"), i, r) {
        const char *vs = verifiers_text(cli, r, ";");
        const char *v[N] = {"report", ins, cv(cli, r, "report_id"), cv(cli, r, "project_id"),
                            cv(cli, r, "city"), cv(cli, r, "eu_objective"), cv(cli, r, "kpi"),
                            cv(cli, r, "unit"), cv(cli, r, "period_start"),
                            cv(cli, r, "period_end"), cv(cli, r, "reported"),
                            cv(cli, r, "verified"), cv(cli, r, "status"), vs ? vs : "",
                            cv(cli, r, "evidence_sha256"), cv(cli, r, "disputes"), "", "", ""};
        csv_row(f, v, N);
    }
    json_array_foreach(json_object_get(d, "kpis"), i, r) {
        const char *v[N] = {"kpi", ins, "", "", "", "", cv(cli, r, "kpi"), cv(cli, r, "unit"),
                            "", "", "", "", "", "", "", "", cv(cli, r, "reported_total"),
                            cv(cli, r, "confirmed_total"), cv(cli, r, "reports_counted")};
        csv_row(f, v, N);
    }
}

static int cmd_report_impact(esgw_cli *cli, const esgw_args *a) {
    if (cli->json && esgw_cli__has(a, "csv"))
        return esgw_cli__usage(cli, "--json and --csv exclude each other");
    json_t *ins, *im, *kpis = NULL;
    int rc = fetch(cli, a->pos[0], "/impact", "reports confirmed_totals", &ins, &im);
    if (rc)
        return rc;
    if ((rc = esgw_cli__get(cli, &kpis, "/v1/kpis", NULL, NULL)) != 0) {
        json_decref(ins);
        json_decref(im);
        return rc;
    }
    bool ok = true;
    json_t *d = impact_doc(ins, im, kpis, &ok);
    json_decref(ins);
    json_decref(im);
    json_decref(kpis);
    return emit(cli, a, d, ok, impact_table, impact_csv);
}

const esgw_cmd esgw_cli__report_cmds[] = {
    {.path = "report allocation", .synopsis = "ID [--csv]", .min_pos = 1, .max_pos = 1,
     .flags = "csv", .run = cmd_report_allocation},
    {.path = "report impact", .synopsis = "ID [--csv]", .min_pos = 1, .max_pos = 1,
     .flags = "csv", .run = cmd_report_impact},
    {0},
};
