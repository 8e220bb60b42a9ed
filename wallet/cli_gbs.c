/* esgwallet report allocation | report impact | report project | report
 * cities, and project show | project list: the reports an issuer files
 * under the EU Green Bond Standard (Regulation (EU) 2023/2631, Annexes II
 * and III), a project with its funders, and a KPI compared across the
 * consortium's cities (wallet/cli.h).
 *
 * Every figure is the node's: GET /v1/instruments/{id}/allocations?period=,
 * .../impact?period=, /v1/projects/{id}, /v1/projects?city= and
 * /v1/kpis/{id}/cities?period=, built by contracts/reports.h -- the code
 * `esgwallet audit` runs on the state it replays itself. --json prints the
 * node's document as it is. This file only arranges figures for people:
 *   - money in the currency's major unit with its ISO 4217 decimals and
 *     thousands separators, "1,900,000.00 EUR" (wallet/format.h);
 *   - percentages of a table whose rows make up a whole (projects and what
 *     is unallocated make up the amount raised; funders and what is not
 *     financed make up a project's cost basis) add up to the whole shown,
 *     by the largest remainder method: the allocated share is split among
 *     the projects (and the cities) so each table's rows add up to it;
 *     rows that overlap (one project under several objectives) show each
 *     its own share, rounded half up, and say that they overlap;
 *   - ids and hashes in full (64 hex), never shortened;
 *   - the opinion of every attestation by name, and a figure that rests on
 *     a QUALIFIED opinion -- attested with reservations -- marked "(Q)",
 *     never shown as if it were CONFIRMED;
 *   - the allocations listed are those dated in the period (all of them
 *     without --period), the reversed ones marked.
 * --csv prints the main table of each report as RFC 4180 CSV: one header
 * row, CRLF line ends, the first column "section" naming the row's kind;
 * money as decimals of the major unit without separators
 * ("19000000.00"), shares as percentages without a sign ("57.89", the
 * text's figures), KPI values as the node's decimal strings.
 *
 * --period START:END is checked here (esg_report_period_parse) before
 * the node is asked, so a bad one fails with the parser's code and
 * message whatever the node. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/reports.h"
#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"
#include "wallet/cli.h"
#include "wallet/format.h"

#define F(o, k) esgw_cli__field(cli, (o), (k))
#define U64(o, k) esgw_cli__u64_of((o), (k))

/* ------------------------------------------------------------ helpers */

/* The node document at prefix + escaped segment + suffix, which must hold
 * the arrays and objects named in `arrays` and `objects` (space-separated
 * member names); `what` names the document in the error. */
static int fetch(esgw_cli *cli, json_t **doc, const char *prefix, const char *segment,
                 const char *suffix, const char *arrays, const char *objects,
                 const char *what) {
    int rc = esgw_cli__get(cli, doc, prefix, segment, suffix);
    if (rc)
        return rc;
    const char *lists[2] = {arrays, objects};
    for (int k = 0; k < 2; k++)
        for (const char *p = lists[k]; p && *p;) {
            size_t l = strcspn(p, " ");
            char m[64];
            snprintf(m, sizeof m, "%.*s", (int)l, p);
            json_t *v = json_object_get(*doc, m);
            if (k == 0 ? !json_is_array(v) : !json_is_object(v)) {
                json_decref(*doc);
                *doc = NULL;
                return esgw_cli__fail(cli, ESG_ERR_JSON, "node sent %s without '%s'", what, m);
            }
            p += l + (p[l] == ' ');
        }
    return 0;
}

/* --period: checked, and as a query suffix ("?period=S:E", or "" when not
 * given) in *query. */
static int period_opt(esgw_cli *cli, const esgw_args *a, esg_report_period *p,
                      const char **query) {
    const char *v = esgw_cli__opt(a, "period");
    char err[160] = "";
    int rc = esg_report_period_parse(v, p, err, sizeof err);
    if (rc)
        return esgw_cli__fail(cli, rc, "--period: %s", err);
    *query = p->set ? esgw_cli__printf(cli, "?period=%s:%s", p->start_s, p->end_s) : "";
    return *query ? 0 : ESG_ERR_NOMEM;
}

/* Prints `doc` (taken) as asked: --json as the node sent it, --csv or
 * text by the report's functions. */
static int emit(esgw_cli *cli, const esgw_args *a, json_t *doc, const esg_report_period *p,
                int (*text)(esgw_cli *, const json_t *, const esg_report_period *),
                int (*csv)(esgw_cli *, const json_t *)) {
    int rc;
    if (cli->json)
        rc = esgw_cli__print_json(cli, doc);
    else if (csv && esgw_cli__has(a, "csv"))
        rc = csv(cli, doc);
    else
        rc = text(cli, doc, p);
    json_decref(doc);
    return rc;
}

static int no_json_csv(esgw_cli *cli, const esgw_args *a) {
    if (cli->json && esgw_cli__has(a, "csv"))
        return esgw_cli__usage(cli, "--json and --csv exclude each other");
    return 0;
}

/* The money o[key] in `cur` for people (esgw_cli__money), with the
 * currency's code when `code`; "-" when absent. */
static const char *money_of(esgw_cli *cli, const json_t *o, const char *key, const char *cur,
                            bool code) {
    uint64_t v;
    if (esgw_json_u64(json_object_get(o, key), &v) != 0)
        return "-";
    return esgw_cli__money(cli, v, cur, code);
}
/* Without the code (table cells: the table's title names the currency),
 * and with it. Both read `cur` where they are used. */
#define M(o, k) money_of(cli, (o), (k), cur, false)
#define MC(o, k) money_of(cli, (o), (k), cur, true)

/* Money for CSV: major-unit decimals, no separators (minor units when
 * `cur` is NULL); csv_money reads o[key], "" when absent. */
static const char *csv_amount(esgw_cli *cli, uint64_t v, const char *cur) {
    const char *s = esgw_cli__strdup(
        cli, esgw_fmt_money(v, cur ? (unsigned)esg_currency_decimals(cur) : 0, '\0').s);
    return s ? s : "";
}

static const char *csv_money(esgw_cli *cli, const json_t *o, const char *key,
                             const char *cur) {
    uint64_t v;
    return esgw_json_u64(json_object_get(o, key), &v) == 0 ? csv_amount(cli, v, cur) : "";
}

/* A CSV value: strings and numbers as they are, booleans true/false,
 * absent or null as "". */
static const char *cv(esgw_cli *cli, const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
        return "";
    return F(o, key);
}

/* Basis points as text: with '%' for people, without for CSV. */
static const char *pct(esgw_cli *cli, uint64_t bps, bool sign) {
    const char *s = esgw_cli__strdup(cli, esgw_fmt_bps(bps, sign).s);
    return s ? s : "?";
}

/* The strings of array o[key] joined by `sep` ("CCM, CCA"); "-" when none
 * (or "" for CSV when `csv`). */
static const char *joined(esgw_cli *cli, const json_t *o, const char *key, const char *sep,
                          bool csv) {
    char *s = esgw_cli__printf(cli, "%s", "");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, key), i, v) {
        if (!s)
            break;
        const char *w = json_is_string(v) ? json_string_value(v) : NULL;
        char num[24];
        if (json_is_integer(v)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            w = num;
        }
        s = esgw_cli__printf(cli, "%s%s%s", s, i ? sep : "", w ? w : "?");
    }
    return s && *s ? s : csv ? "" : "-";
}

/* Shares (wallet/format.h esgw_fmt_shares) of `whole` among n parts, in
 * command memory; NULL when out of memory (cli->err set). */
static uint64_t *shares(esgw_cli *cli, const uint64_t *parts, size_t n, uint64_t whole) {
    uint64_t *out = esgw_cli__alloc(cli, (n ? n : 1) * sizeof *out);
    if (out && esgw_fmt_shares(out, parts, n, whole) != 0) {
        esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        return NULL;
    }
    return out;
}

/* The u64 member `key` of each element of `arr`, plus `extra` extra
 * slots (0), in command memory. */
static uint64_t *column(esgw_cli *cli, const json_t *arr, const char *key, size_t extra) {
    size_t n = json_array_size(arr);
    uint64_t *v = esgw_cli__alloc(cli, (n + extra + 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i++)
        v[i] = U64(json_array_get(arr, i), key);
    return v;
}

/* Writes `lead` then `text`, its words wrapped at 78 columns, the
 * following lines indented by strlen(lead). */
static void wrapped(FILE *f, const char *lead, const char *text) {
    size_t indent = strlen(lead), col = indent;
    fputs(lead, f);
    for (const char *p = text; *p;) {
        size_t w = strcspn(p, " ");
        if (col > indent && col + 1 + w > 78) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", (int)w, p);
        col += w;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

/* The element of array `arr` whose member `key` is the string `value`. */
static const json_t *find_by(const json_t *arr, const char *key, const char *value) {
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *s = json_string_value(json_object_get(e, key));
        if (s && value && strcmp(s, value) == 0)
            return e;
    }
    return NULL;
}

/* Prints `t`, or "  none" when it has no row under its header. */
static int print_rows(esgw_cli *cli, esgw_cells *t, unsigned right) {
    if (t->n <= t->ncols) {
        fprintf(cli->out, "  none\n");
        t->n = 0;
    }
    return esgw_cli__cells_print(cli, t, right);
}

static const char *period_text(esgw_cli *cli, const json_t *doc) {
    const json_t *p = json_object_get(doc, "period");
    if (!json_is_object(p))
        return "all of time";
    const char *s = esgw_cli__printf(cli, "%s to %s", F(p, "start"), F(p, "end"));
    return s ? s : "?";
}

/* Whether the YYYY-MM-DD member `key` of `o` lies in period `p`
 * (inclusive; an absent or malformed date lies in none). */
static bool in_period(const json_t *o, const char *key, const esg_report_period *p) {
    int32_t d;
    const char *s = json_string_value(json_object_get(o, key));
    return s && esg_date_parse(s, &d) == 0 && d >= p->start && d <= p->end;
}

/* -------------------------------------------------- allocation report */

/* The allocated share of the proceeds and the projects' (cities') shares
 * of it: rows[i]'s cumulative, then the unallocated rest, as shares that
 * add up to 100.00 %. *alloc_bps receives the allocated share. */
static uint64_t *proceeds_shares(esgw_cli *cli, const json_t *rows, const json_t *pf,
                                 uint64_t *alloc_bps) {
    uint64_t top[2] = {U64(pf, "cumulative"), U64(pf, "unallocated_at_end")}, split[2];
    if (esgw_fmt_shares(split, top, 2, 10000) != 0) {
        esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        return NULL;
    }
    *alloc_bps = split[0];
    uint64_t *parts = column(cli, rows, "cumulative", 0);
    return parts ? shares(cli, parts, json_array_size(rows), split[0]) : NULL;
}

/* Whether a project row's allocations to the period's end exceed what
 * the instrument earmarks for it (allowed, and shown). */
static bool over_budget(const json_t *row) {
    return U64(row, "cumulative") > U64(row, "budget");
}

static int allocation_text(esgw_cli *cli, const json_t *d, const esg_report_period *per) {
    FILE *f = cli->out;
    const char *cur = json_string_value(json_object_get(d, "currency"));
    const json_t *pf = json_object_get(d, "period_figures");
    const json_t *pp = json_object_get(d, "per_project_in_period");
    const json_t *pc = json_object_get(d, "per_city_in_period");
    const json_t *po = json_object_get(d, "per_objective");
    size_t i;
    json_t *x;

    fprintf(f, "Allocation report, EU Green Bond Standard (Regulation (EU) 2023/2631, "
               "Annex II)\n\n");
    fprintf(f, "instrument    %s \"%s\"%s%s\n", F(d, "instrument"), F(d, "name"),
            json_is_string(json_object_get(d, "isin")) ? ", ISIN " : "",
            json_is_string(json_object_get(d, "isin")) ? F(d, "isin") : "");
    json_array_foreach(json_object_get(d, "issuers"), i, x)
        fprintf(f, "%-14s%s \"%s\", share %s, LEI %s\n", i ? "" : "issuers", F(x, "member"),
                F(x, "name"), esgw_cli__pct(cli, U64(x, "share_bps")), F(x, "lei"));
    fprintf(f, "issued        %s, matures %s\n", F(d, "issue_date"), F(d, "maturity_date"));
    fprintf(f, "period        %s (by allocation date)\n", period_text(cli, d));
    fprintf(f, "currency      %s, amounts in its major unit\n", cur ? cur : "-");
    fprintf(f, "framework     %s\n", F(d, "framework_sha256"));
    fprintf(f, "ext. review   %s\n\n", F(d, "external_review_sha256"));

    uint64_t alloc_bps = 0;
    uint64_t *ps = proceeds_shares(cli, pp, pf, &alloc_bps);
    uint64_t *cs = ps ? proceeds_shares(cli, pc, pf, &alloc_bps) : NULL;
    if (!cs)
        return ESG_ERR_NOMEM;
    const char *full = json_is_string(json_object_get(d, "full_allocation_date"))
                           ? esgw_cli__printf(cli, "reached on %s", F(d, "full_allocation_date"))
                           : "not reached";
    esgw_cells t = {.ncols = 3};
    esgw_cli__row(&t, "PROCEEDS", "AMOUNT", "OF PROCEEDS");
    esgw_cli__row(&t, "amount raised", MC(d, "amount_raised"), "100.00%");
    esgw_cli__row(&t, "allocated in the period", MC(pf, "in_period"), "");
    esgw_cli__row(&t, "allocated to the period's end", MC(pf, "cumulative"),
                  esgw_cli__pct(cli, alloc_bps));
    esgw_cli__row(&t, "  of which financing", MC(pf, "financing_cumulative"), "");
    esgw_cli__row(&t, "  of which refinancing", MC(pf, "refinancing_cumulative"), "");
    esgw_cli__row(&t, "unallocated at the period's end", MC(pf, "unallocated_at_end"),
                  esgw_cli__pct(cli, 10000 - alloc_bps));
    esgw_cli__row(&t, "reversed in the period", MC(pf, "reversed_in_period"), "");
    int rc = esgw_cli__cells_print(cli, &t, 0x6);
    if (rc)
        return rc;
    fprintf(f, "full allocation: %s\n", full ? full : "?");

    fprintf(f, "\nBy project, to the period's end (%s)\n", cur ? cur : "-");
    t = (esgw_cells){.ncols = 13};
    esgw_cli__row(&t, "PROJECT", "CITY", "OBJECTIVES", "TAXONOMY", "NACE", "BUDGET",
                  "IN PERIOD", "CUMULATIVE", "FINANCING", "REFINANCING", "OF PROCEEDS", "FLAG",
                  "NAME");
    json_array_foreach(pp, i, x)
        esgw_cli__row(&t, F(x, "project_id"), F(x, "city"), joined(cli, x, "eu_objectives", ",",
                                                                     false),
                      F(x, "taxonomy_activity"), F(x, "nace"), M(x, "budget"), M(x, "in_period"),
                      M(x, "cumulative"), M(x, "financing_cumulative"),
                      M(x, "refinancing_cumulative"), esgw_cli__pct(cli, ps[i]),
                      over_budget(x) ? "OVER BUDGET" : "", F(x, "name"));
    esgw_cli__row(&t, "allocated", "", "", "", "", "", M(pf, "in_period"), M(pf, "cumulative"),
                  M(pf, "financing_cumulative"), M(pf, "refinancing_cumulative"),
                  esgw_cli__pct(cli, alloc_bps), "", "");
    esgw_cli__row(&t, "unallocated", "", "", "", "", "", "", M(pf, "unallocated_at_end"), "", "",
                  esgw_cli__pct(cli, 10000 - alloc_bps), "", "");
    esgw_cli__row(&t, "amount raised", "", "", "", "", "", "", M(d, "amount_raised"), "", "",
                  "100.00%", "", "");
    if ((rc = esgw_cli__cells_print(cli, &t, 0x7e0)) != 0)
        return rc;

    fprintf(f, "\nBy co-issuing city, to the period's end (%s)\n", cur ? cur : "-");
    t = (esgw_cells){.ncols = 7};
    esgw_cli__row(&t, "CITY", "ISSUER SHARE", "IN PERIOD", "CUMULATIVE", "FINANCING",
                  "REFINANCING", "OF PROCEEDS");
    json_array_foreach(pc, i, x) {
        const json_t *is = find_by(json_object_get(d, "issuers"), "member", F(x, "city"));
        esgw_cli__row(&t, F(x, "city"), esgw_cli__pct(cli, U64(is, "share_bps")),
                      M(x, "in_period"), M(x, "cumulative"), M(x, "financing_cumulative"),
                      M(x, "refinancing_cumulative"), esgw_cli__pct(cli, cs[i]));
    }
    esgw_cli__row(&t, "allocated", "", M(pf, "in_period"), M(pf, "cumulative"),
                  M(pf, "financing_cumulative"), M(pf, "refinancing_cumulative"),
                  esgw_cli__pct(cli, alloc_bps));
    if ((rc = esgw_cli__cells_print(cli, &t, 0x7e)) != 0)
        return rc;

    fprintf(f, "\nBy environmental objective, to the period's end (%s)\n", cur ? cur : "-");
    uint64_t raised = U64(d, "amount_raised");
    t = (esgw_cells){.ncols = 7};
    esgw_cli__row(&t, "OBJECTIVE", "PROJECTS", "IN PERIOD", "CUMULATIVE", "FINANCING",
                  "REFINANCING", "OF PROCEEDS");
    json_array_foreach(po, i, x)
        esgw_cli__row(&t, F(x, "objective"), F(x, "projects"), M(x, "in_period"),
                      M(x, "cumulative"), M(x, "financing_cumulative"),
                      M(x, "refinancing_cumulative"),
                      esgw_cli__pct(cli, esgw_fmt_bps_of(U64(x, "cumulative"), raised)));
    if ((rc = esgw_cli__cells_print(cli, &t, 0x7e)) != 0)
        return rc;
    wrapped(f, "Note: ", F(d, "per_objective_note"));

    /* The allocations dated in the period: the records behind the sums. */
    fprintf(f, "\nAllocations dated in the period\n");
    t = (esgw_cells){.ncols = 7};
    esgw_cli__row(&t, "DATE", "PROJECT", "CITY", "AMOUNT", "USE", "ALLOCATION ID", "STATUS");
    json_array_foreach(json_object_get(d, "allocations"), i, x) {
        if (!in_period(x, "date", per))
            continue;
        const char *st = "";
        if (json_is_true(json_object_get(x, "reversed")))
            st = esgw_cli__printf(cli, "REVERSED on %s: %s (tx %s)", F(x, "reversed_date"),
                                  F(x, "reverse_reason"), F(x, "reversal_tx"));
        esgw_cli__row(&t, F(x, "date"), F(x, "project_id"), F(x, "city"), M(x, "amount"),
                      json_is_true(json_object_get(x, "refinancing")) ? "refinancing"
                                                                       : "financing",
                      F(x, "id"), st ? st : "?");
    }
    if ((rc = print_rows(cli, &t, 0x8)) != 0)
        return rc;

    const json_t *rv = json_object_get(d, "review");
    const json_t *amends = json_object_get(rv, "reversals_amending_earlier_periods");
    fprintf(f, "\nReversals in the period (by the reversing block's date)\n");
    t = (esgw_cells){.ncols = 8};
    esgw_cli__row(&t, "REVERSED ON", "DATED", "PROJECT", "CITY", "AMOUNT", "ALLOCATION ID",
                  "AMENDS AN EARLIER PERIOD", "REASON");
    json_array_foreach(json_object_get(d, "reversals_in_period"), i, x) {
        bool earlier = find_by(amends, "allocation_id", F(x, "allocation_id")) != NULL;
        esgw_cli__row(&t, F(x, "reversed_date"), F(x, "date"), F(x, "project_id"), F(x, "city"),
                      M(x, "amount"), F(x, "allocation_id"), earlier ? "yes" : "no",
                      F(x, "reason"));
    }
    if ((rc = print_rows(cli, &t, 0x10)) != 0)
        return rc;

    fprintf(f, "\nExternal post-issuance review: %s\n",
            json_is_true(json_object_get(rv, "external_review_needed")) ? "NEEDED" : "not needed");
    if (json_is_true(json_object_get(rv, "full_allocation_reached")))
        fprintf(f, "  - full allocation reached on %s\n", F(d, "full_allocation_date"));
    if (json_array_size(amends) > 0)
        fprintf(f, "  - %zu reversal%s in the period amend%s a report of an earlier period\n",
                json_array_size(amends), json_array_size(amends) == 1 ? "" : "s",
                json_array_size(amends) == 1 ? "s" : "");
    json_array_foreach(json_object_get(rv, "reversed_after_this_period"), i, x)
        fprintf(f, "  - allocation %s, dated %s, was reversed on %s: a report of this period\n"
                   "    filed before then counted it and is amended\n",
                F(x, "allocation_id"), F(x, "date"), F(x, "reversed_date"));
    return 0;
}

static int allocation_csv(esgw_cli *cli, const json_t *d) {
    FILE *f = cli->out;
    static const char *const head[] = {
        "section", "instrument", "isin", "currency", "period_start", "period_end",
        "project_id", "city", "name", "eu_objectives", "taxonomy_activity", "nace", "budget",
        "in_period", "cumulative", "financing_cumulative", "refinancing_cumulative",
        "share_of_proceeds_pct", "over_budget"};
    enum { N = sizeof head / sizeof head[0] };
    const char *cur = json_string_value(json_object_get(d, "currency"));
    const json_t *pf = json_object_get(d, "period_figures"), *per = json_object_get(d, "period");
    const json_t *pp = json_object_get(d, "per_project_in_period");
    const json_t *pc = json_object_get(d, "per_city_in_period");
    uint64_t alloc_bps = 0;
    uint64_t *ps = proceeds_shares(cli, pp, pf, &alloc_bps);
    uint64_t *cs = ps ? proceeds_shares(cli, pc, pf, &alloc_bps) : NULL;
    if (!cs)
        return ESG_ERR_NOMEM;
    const char *ins = cv(cli, d, "instrument"), *isin = cv(cli, d, "isin"),
               *c = cur ? cur : "", *ps_ = cv(cli, per, "start"), *pe = cv(cli, per, "end");
    uint64_t raised = U64(d, "amount_raised");
    esgw_csv_row(f, head, N);
    size_t i;
    json_t *x;
    json_array_foreach(pp, i, x) {
        const char *v[N] = {"project", ins, isin, c, ps_, pe, cv(cli, x, "project_id"),
                            cv(cli, x, "city"), cv(cli, x, "name"),
                            joined(cli, x, "eu_objectives", " ", true),
                            cv(cli, x, "taxonomy_activity"), cv(cli, x, "nace"),
                            csv_money(cli, x, "budget", cur), csv_money(cli, x, "in_period", cur),
                            csv_money(cli, x, "cumulative", cur),
                            csv_money(cli, x, "financing_cumulative", cur),
                            csv_money(cli, x, "refinancing_cumulative", cur),
                            pct(cli, ps[i], false),
                            over_budget(x) ? "true" : "false"};
        esgw_csv_row(f, v, N);
    }
    json_array_foreach(pc, i, x) {
        const char *v[N] = {"city", ins, isin, c, ps_, pe, "", cv(cli, x, "city"), "", "", "",
                            "", "", csv_money(cli, x, "in_period", cur),
                            csv_money(cli, x, "cumulative", cur),
                            csv_money(cli, x, "financing_cumulative", cur),
                            csv_money(cli, x, "refinancing_cumulative", cur),
                            pct(cli, cs[i], false), ""};
        esgw_csv_row(f, v, N);
    }
    json_array_foreach(json_object_get(d, "per_objective"), i, x) {
        const char *v[N] = {"objective", ins, isin, c, ps_, pe, "", "", "",
                            cv(cli, x, "objective"), "", "", "",
                            csv_money(cli, x, "in_period", cur),
                            csv_money(cli, x, "cumulative", cur),
                            csv_money(cli, x, "financing_cumulative", cur),
                            csv_money(cli, x, "refinancing_cumulative", cur),
                            pct(cli, esgw_fmt_bps_of(U64(x, "cumulative"), raised), false),
                            ""};
        esgw_csv_row(f, v, N);
    }
    const char *a[N] = {"allocated", ins, isin, c, ps_, pe, "", "", "", "", "", "", "",
                        csv_money(cli, pf, "in_period", cur), csv_money(cli, pf, "cumulative", cur),
                        csv_money(cli, pf, "financing_cumulative", cur),
                        csv_money(cli, pf, "refinancing_cumulative", cur),
                        pct(cli, alloc_bps, false), ""};
    esgw_csv_row(f, a, N);
    const char *u[N] = {"unallocated", ins, isin, c, ps_, pe, "", "", "", "", "", "", "", "",
                        csv_money(cli, pf, "unallocated_at_end", cur), "", "",
                        pct(cli, 10000 - alloc_bps, false), ""};
    esgw_csv_row(f, u, N);
    const char *r[N] = {"raised", ins, isin, c, ps_, pe, "", "", "", "", "", "", "", "",
                        csv_money(cli, d, "amount_raised", cur), "", "", "100.00", ""};
    esgw_csv_row(f, r, N);
    return 0;
}

/* A report for a period: where the node serves it, what it must hold,
 * and how it prints. */
typedef struct period_report {
    const char *prefix, *suffix; /* around the escaped id */
    const char *arrays, *objects, *what;
    int (*text)(esgw_cli *, const json_t *, const esg_report_period *);
    int (*csv)(esgw_cli *, const json_t *);
} period_report;

/* GETs report `r` of `id` for --period and prints it as asked. */
static int run_period_report(esgw_cli *cli, const esgw_args *a, const period_report *r,
                             const char *id) {
    esg_report_period per;
    const char *q = "";
    int rc = no_json_csv(cli, a);
    if (rc || (rc = period_opt(cli, a, &per, &q)) != 0)
        return rc;
    const char *suffix = esgw_cli__printf(cli, "%s%s", r->suffix, q);
    json_t *d;
    if (!suffix)
        return ESG_ERR_NOMEM;
    if ((rc = fetch(cli, &d, r->prefix, id, suffix, r->arrays, r->objects, r->what)) != 0)
        return rc;
    return emit(cli, a, d, &per, r->text, r->csv);
}

static int cmd_report_allocation(esgw_cli *cli, const esgw_args *a) {
    static const period_report r = {
        "/v1/instruments/", "/allocations",
        "issuers per_project_in_period per_city_in_period per_objective allocations "
        "reversals_in_period",
        "period_figures review", "an allocation report", allocation_text, allocation_csv};
    return run_period_report(cli, a, &r, a->pos[0]);
}

/* ------------------------------------------------------ impact report */

/* Whether a per_project row's figure rests on a QUALIFIED opinion: it
 * counts something and a live QUALIFIED attestation supports it. */
static bool row_qualified(const json_t *r) {
    if (U64(r, "reports_counted") == 0)
        return false;
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r, "opinions"), i, o) {
        const char *w = json_string_value(json_object_get(o, "opinion"));
        if (w && strcmp(w, "QUALIFIED") == 0)
            return true;
    }
    return false;
}

/* The distinct opinion words of a row, in order: "CONFIRMED, QUALIFIED". */
static const char *row_opinions(esgw_cli *cli, const json_t *r, bool csv) {
    char *s = esgw_cli__printf(cli, "%s", "");
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r, "opinions"), i, o) {
        const char *w = json_string_value(json_object_get(o, "opinion"));
        if (!s || !w || strstr(s, w))
            continue;
        s = esgw_cli__printf(cli, "%s%s%s", s, *s ? (csv ? " " : ", ") : "", w);
    }
    return s && *s ? s : csv ? "" : "-";
}

/* Whether any row of `kpi` (and of `city`, unless NULL) is qualified. */
static bool total_qualified(const json_t *rows, const char *kpi, const char *city) {
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *k = json_string_value(json_object_get(r, "kpi"));
        const char *c = json_string_value(json_object_get(r, "city"));
        if (k && strcmp(k, kpi) == 0 && (!city || (c && strcmp(c, city) == 0)) &&
            row_qualified(r))
            return true;
    }
    return false;
}

/* A KPI figure for people, "(Q)" after it when it rests on a QUALIFIED
 * opinion. */
static const char *kpi_value(esgw_cli *cli, const json_t *o, const char *key, bool q) {
    const char *s = q ? esgw_cli__printf(cli, "%s (Q)", F(o, key)) : F(o, key);
    return s ? s : "?";
}

/* The unit of `kpi` among the per_project rows. */
static const char *unit_of(esgw_cli *cli, const json_t *rows, const char *kpi) {
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) {
        const char *k = json_string_value(json_object_get(r, "kpi"));
        if (k && strcmp(k, kpi) == 0)
            return F(r, "unit");
    }
    return "-";
}

static int impact_text(esgw_cli *cli, const json_t *d, const esg_report_period *per) {
    FILE *f = cli->out;
    const json_t *rows = json_object_get(d, "per_project");
    size_t i;
    json_t *x;
    fprintf(f, "Impact report, EU Green Bond Standard (Regulation (EU) 2023/2631, Annex III)\n\n");
    fprintf(f, "instrument    %s\n", F(d, "instrument"));
    fprintf(f, "period        %s (reports whose period ends in it)\n\n", period_text(cli, d));

    fprintf(f, "By project and KPI\n");
    esgw_cells t = {.ncols = 11};
    esgw_cli__row(&t, "PROJECT", "CITY", "KPI", "UNIT", "REPORTED", "CONFIRMED", "COUNTED",
                  "OPINIONS", "SHARE FINANCED", "ATTRIBUTED", "METHODOLOGY");
    bool any_q = false;
    json_array_foreach(rows, i, x) {
        bool q = row_qualified(x);
        any_q = any_q || q;
        esgw_cli__row(&t, F(x, "project_id"), F(x, "city"), F(x, "kpi"), F(x, "unit"),
                      F(x, "reported"), kpi_value(cli, x, "confirmed", q),
                      F(x, "reports_counted"), row_opinions(cli, x, false),
                      esgw_cli__pct(cli, U64(x, "share_financed_bps")),
                      kpi_value(cli, x, "attributed", q),
                      joined(cli, x, "methodologies", "; ", false));
    }
    int rc = print_rows(cli, &t, 0x370);
    if (rc)
        return rc;

    fprintf(f, "\nTotals per KPI\n");
    t = (esgw_cells){.ncols = 4};
    esgw_cli__row(&t, "KPI", "UNIT", "CONFIRMED", "ATTRIBUTED");
    json_array_foreach(json_object_get(d, "totals_per_kpi"), i, x) {
        bool q = total_qualified(rows, F(x, "kpi"), NULL);
        esgw_cli__row(&t, F(x, "kpi"), F(x, "unit"), kpi_value(cli, x, "confirmed", q),
                      kpi_value(cli, x, "attributed", q));
    }
    if ((rc = esgw_cli__cells_print(cli, &t, 0xc)) != 0)
        return rc;
    fprintf(f, "\nTotals per city\n");
    t = (esgw_cells){.ncols = 5};
    esgw_cli__row(&t, "CITY", "KPI", "UNIT", "CONFIRMED", "ATTRIBUTED");
    json_array_foreach(json_object_get(d, "totals_per_city"), i, x) {
        bool q = total_qualified(rows, F(x, "kpi"), F(x, "city"));
        esgw_cli__row(&t, F(x, "city"), F(x, "kpi"), unit_of(cli, rows, F(x, "kpi")),
                      kpi_value(cli, x, "confirmed", q), kpi_value(cli, x, "attributed", q));
    }
    if ((rc = esgw_cli__cells_print(cli, &t, 0x18)) != 0)
        return rc;
    if (any_q)
        fprintf(f, "\n(Q): the figure rests on a QUALIFIED opinion -- the verifier attested it "
                   "with\nreservations -- and not on CONFIRMED ones alone.\n");

    fprintf(f, "\nVerifier opinions (live attestations)\n");
    t = (esgw_cells){.ncols = 6};
    esgw_cli__row(&t, "REPORT", "PROJECT", "KPI", "VERIFIER", "OPINION", "VERIFIED VALUE");
    json_array_foreach(rows, i, x) {
        size_t k;
        json_t *o;
        json_array_foreach(json_object_get(x, "opinions"), k, o) {
            esgw_cli__row(&t, F(o, "report_id"), F(x, "project_id"), F(x, "kpi"),
                          F(o, "verifier"), F(o, "opinion"), F(o, "verified_value"));
        }
    }
    if ((rc = print_rows(cli, &t, 0x20)) != 0)
        return rc;

    /* Every report whose period ends in the period, superseded ones too:
     * the records behind the figures. */
    fprintf(f, "\nReports whose period ends in the period\n");
    t = (esgw_cells){.ncols = 7};
    esgw_cli__row(&t, "REPORT", "PROJECT", "KPI", "PERIOD", "VALUE", "COUNTED", "STATUS");
    json_array_foreach(json_object_get(d, "reports"), i, x) {
        if (!in_period(x, "period_end", per))
            continue;
        const char *st;
        if (json_is_string(json_object_get(x, "superseded_by")))
            st = esgw_cli__printf(cli, "superseded by %s", F(x, "superseded_by"));
        else if (json_is_true(json_object_get(x, "counted")))
            st = "counted";
        else
            st = "not counted";
        esgw_cli__row(&t, F(x, "id"), F(x, "project_id"), F(x, "kpi"),
                      esgw_cli__printf(cli, "%s..%s", F(x, "period_start"), F(x, "period_end")),
                      F(x, "value"), F(x, "counted_value"), st ? st : "?");
    }
    if ((rc = print_rows(cli, &t, 0x30)) != 0)
        return rc;
    fputc('\n', f);
    wrapped(f, "Attribution: ", F(d, "attribution_note"));
    return 0;
}

static int impact_csv(esgw_cli *cli, const json_t *d) {
    FILE *f = cli->out;
    static const char *const head[] = {
        "section", "instrument", "period_start", "period_end", "project_id", "city", "kpi",
        "unit", "reported", "confirmed", "reports_counted", "opinions", "qualified",
        "share_financed_pct", "attributed", "methodologies"};
    enum { N = sizeof head / sizeof head[0] };
    const json_t *rows = json_object_get(d, "per_project"), *per = json_object_get(d, "period");
    const char *ins = cv(cli, d, "instrument"), *ps = cv(cli, per, "start"),
               *pe = cv(cli, per, "end");
    esgw_csv_row(f, head, N);
    size_t i;
    json_t *x;
    json_array_foreach(rows, i, x) {
        const char *v[N] = {"project", ins, ps, pe, cv(cli, x, "project_id"), cv(cli, x, "city"),
                            cv(cli, x, "kpi"), cv(cli, x, "unit"), cv(cli, x, "reported"),
                            cv(cli, x, "confirmed"), cv(cli, x, "reports_counted"),
                            row_opinions(cli, x, true), row_qualified(x) ? "true" : "false",
                            pct(cli, U64(x, "share_financed_bps"), false),
                            cv(cli, x, "attributed"), joined(cli, x, "methodologies", "; ", true)};
        esgw_csv_row(f, v, N);
    }
    json_array_foreach(json_object_get(d, "totals_per_kpi"), i, x) {
        bool q = total_qualified(rows, F(x, "kpi"), NULL);
        const char *v[N] = {"kpi_total", ins, ps, pe, "", "", cv(cli, x, "kpi"),
                            cv(cli, x, "unit"), "", cv(cli, x, "confirmed"), "", "",
                            q ? "true" : "false", "", cv(cli, x, "attributed"), ""};
        esgw_csv_row(f, v, N);
    }
    json_array_foreach(json_object_get(d, "totals_per_city"), i, x) {
        bool q = total_qualified(rows, F(x, "kpi"), F(x, "city"));
        const char *v[N] = {"city_total", ins, ps, pe, "", cv(cli, x, "city"), cv(cli, x, "kpi"),
                            unit_of(cli, rows, F(x, "kpi")), "", cv(cli, x, "confirmed"), "", "",
                            q ? "true" : "false", "", cv(cli, x, "attributed"), ""};
        esgw_csv_row(f, v, N);
    }
    return 0;
}

static int cmd_report_impact(esgw_cli *cli, const esgw_args *a) {
    static const period_report r = {"/v1/instruments/", "/impact",
                                    "reports per_project totals_per_kpi totals_per_city", NULL,
                                    "an impact report", impact_text, impact_csv};
    return run_period_report(cli, a, &r, a->pos[0]);
}

/* ------------------------------------------------------------ projects */

/* The funders' shares of the cost basis and, last, the share no recorded
 * financing covers: shares adding up to 100.00 %. *unfinanced receives
 * that part's amount. */
static uint64_t *funder_shares(esgw_cli *cli, const json_t *p, uint64_t *unfinanced) {
    const json_t *fs = json_object_get(p, "funders");
    size_t n = json_array_size(fs);
    uint64_t *parts = column(cli, fs, "amount", 1);
    if (!parts)
        return NULL;
    unsigned __int128 sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += parts[i];
    uint64_t basis = U64(p, "cost_basis");
    parts[n] = *unfinanced = sum < basis ? basis - (uint64_t)sum : 0;
    return shares(cli, parts, n + 1, 10000);
}

static int project_text(esgw_cli *cli, const json_t *p, const esg_report_period *per) {
    (void)per;
    FILE *f = cli->out;
    const char *cur = json_string_value(json_object_get(p, "currency"));
    const json_t *fs = json_object_get(p, "funders");
    size_t i, n = json_array_size(fs);
    json_t *x;
    fprintf(f, "Project report: %s \"%s\"\n\n", F(p, "id"), F(p, "name"));
    fprintf(f, "city          %s\n", F(p, "city"));
    fprintf(f, "objectives    %s; taxonomy activity %s; NACE %s; SDGs %s\n",
            joined(cli, p, "eu_objectives", ", ", false), F(p, "taxonomy_activity"),
            F(p, "nace"), joined(cli, p, "sdgs", ", ", false));
    fprintf(f, "location      %s\n", F(p, "location"));
    fprintf(f, "instruments   %s\n", joined(cli, p, "instruments", ", ", false));
    fprintf(f, "total cost    %s\n", MC(p, "total_cost"));
    fprintf(f, "cost basis    %s (the larger of the total cost and all recorded financing)\n\n",
            MC(p, "cost_basis"));

    uint64_t unfinanced;
    uint64_t *sh = funder_shares(cli, p, &unfinanced);
    if (!sh)
        return ESG_ERR_NOMEM;
    fprintf(f, "Funders (%s)\n", cur ? cur : "-");
    esgw_cells t = {.ncols = 4};
    esgw_cli__row(&t, "FUNDER", "KIND", "AMOUNT", "SHARE");
    json_array_foreach(fs, i, x)
        esgw_cli__row(&t, F(x, "funder"), F(x, "kind"), M(x, "amount"),
                      esgw_cli__pct(cli, sh[i]));
    if (unfinanced)
        esgw_cli__row(&t, "not financed", "", esgw_cli__money(cli, unfinanced, cur, false),
                      esgw_cli__pct(cli, sh[n]));
    esgw_cli__row(&t, "cost basis", "", M(p, "cost_basis"),
                  U64(p, "cost_basis") ? "100.00%" : "0.00%");
    int rc = esgw_cli__cells_print(cli, &t, 0xc);
    if (rc)
        return rc;

    fprintf(f, "\nImpact and its attribution by share financed (all periods)\n");
    const json_t *kpis = json_object_get(p, "kpis");
    if (json_array_size(kpis) == 0)
        fprintf(f, "  no impact reported\n");
    json_array_foreach(kpis, i, x) {
        fprintf(f, "%s%s: %s %s confirmed (%s report%s counted)\n", i ? "\n" : "", F(x, "kpi"),
                F(x, "confirmed"), F(x, "unit"), F(x, "reports_counted"),
                U64(x, "reports_counted") == 1 ? "" : "s");
        t = (esgw_cells){.ncols = 4};
        esgw_cli__row(&t, "  FUNDER", "KIND", "SHARE", "ATTRIBUTED");
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(x, "attributed"), k, a) {
            /* The funders and the attribution rows are in the same order. */
            const char *share = "-";
            for (size_t j = 0; j < n; j++)
                if (strcmp(F(json_array_get(fs, j), "funder"), F(a, "funder")) == 0 &&
                    strcmp(F(json_array_get(fs, j), "kind"), F(a, "kind")) == 0)
                    share = esgw_cli__pct(cli, sh[j]);
            esgw_cli__row(&t, esgw_cli__printf(cli, "  %s", F(a, "funder")), F(a, "kind"),
                          share, F(a, "attributed"));
        }
        esgw_cli__row(&t, "  unattributed", "", unfinanced ? esgw_cli__pct(cli, sh[n]) : "",
                      F(x, "unattributed"));
        esgw_cli__row(&t, "  confirmed", "", "", F(x, "confirmed"));
        if ((rc = esgw_cli__cells_print(cli, &t, 0xc)) != 0)
            return rc;
    }
    fprintf(f, "\nEach funder is attributed floor(confirmed x its amount / cost basis); what\n"
               "no recorded financing covers, and the rounding, stays unattributed.\n");
    return 0;
}

static int project_csv(esgw_cli *cli, const json_t *p) {
    FILE *f = cli->out;
    static const char *const head[] = {"section", "project", "city", "currency", "kind",
                                       "funder", "amount", "share_pct", "kpi", "unit",
                                       "value"};
    enum { N = sizeof head / sizeof head[0] };
    const char *cur = json_string_value(json_object_get(p, "currency"));
    const char *id = cv(cli, p, "id"), *city = cv(cli, p, "city"), *c = cur ? cur : "";
    const json_t *fs = json_object_get(p, "funders");
    size_t i, n = json_array_size(fs);
    json_t *x;
    uint64_t unfinanced;
    uint64_t *sh = funder_shares(cli, p, &unfinanced);
    if (!sh)
        return ESG_ERR_NOMEM;
    esgw_csv_row(f, head, N);
    json_array_foreach(fs, i, x) {
        const char *v[N] = {"funder", id, city, c, cv(cli, x, "kind"), cv(cli, x, "funder"),
                            csv_money(cli, x, "amount", cur), pct(cli, sh[i], false), "", "", ""};
        esgw_csv_row(f, v, N);
    }
    const char *uv[N] = {"not_financed", id, city, c, "", "", csv_amount(cli, unfinanced, cur),
                         pct(cli, sh[n], false), "", "", ""};
    esgw_csv_row(f, uv, N);
    const char *bv[N] = {"cost_basis", id, city, c, "", "", csv_money(cli, p, "cost_basis", cur),
                         U64(p, "cost_basis") ? "100.00" : "0.00", "", "", ""};
    esgw_csv_row(f, bv, N);
    json_array_foreach(json_object_get(p, "kpis"), i, x) {
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(x, "attributed"), k, a) {
            const char *v[N] = {"attributed", id, city, c, cv(cli, a, "kind"),
                                cv(cli, a, "funder"), "", "", cv(cli, x, "kpi"),
                                cv(cli, x, "unit"), cv(cli, a, "attributed")};
            esgw_csv_row(f, v, N);
        }
        const char *v[N] = {"unattributed", id, city, c, "", "", "", "", cv(cli, x, "kpi"),
                            cv(cli, x, "unit"), cv(cli, x, "unattributed")};
        esgw_csv_row(f, v, N);
        const char *w[N] = {"confirmed", id, city, c, "", "", "", "", cv(cli, x, "kpi"),
                            cv(cli, x, "unit"), cv(cli, x, "confirmed")};
        esgw_csv_row(f, w, N);
    }
    return 0;
}

#define PROJECT_ARRAYS "eu_objectives sdgs instruments cost_history funders fundings kpis"

static int cmd_report_project(esgw_cli *cli, const esgw_args *a) {
    int rc = no_json_csv(cli, a);
    json_t *p;
    if (rc || (rc = fetch(cli, &p, "/v1/projects/", a->pos[0], NULL, PROJECT_ARRAYS, NULL,
                          "a project")) != 0)
        return rc;
    return emit(cli, a, p, NULL, project_text, project_csv);
}

static int show_text(esgw_cli *cli, const json_t *p, const esg_report_period *per) {
    (void)per;
    FILE *f = cli->out;
    const char *cur = json_string_value(json_object_get(p, "currency"));
    size_t i;
    json_t *x;
    fprintf(f, "project       %s \"%s\"\n", F(p, "id"), F(p, "name"));
    fprintf(f, "city          %s\n", F(p, "city"));
    fprintf(f, "objectives    %s\n", joined(cli, p, "eu_objectives", ", ", false));
    fprintf(f, "taxonomy      %s\n", F(p, "taxonomy_activity"));
    fprintf(f, "NACE          %s\n", F(p, "nace"));
    fprintf(f, "SDGs          %s\n", joined(cli, p, "sdgs", ", ", false));
    fprintf(f, "location      %s\n", F(p, "location"));
    fprintf(f, "total cost    %s\n", MC(p, "total_cost"));
    fprintf(f, "financing     %s by instruments, %s external; cost basis %s\n",
            MC(p, "allocated"), MC(p, "external"), MC(p, "cost_basis"));
    fprintf(f, "instruments   %s\n", joined(cli, p, "instruments", ", ", false));
    fprintf(f, "registered    at height %s by tx %s\n", F(p, "registered_height"),
            F(p, "register_tx"));
    const json_t *hist = json_object_get(p, "cost_history");
    if (json_array_size(hist) > 0) {
        fprintf(f, "\nCost changes\n");
        esgw_cells t = {.ncols = 5};
        esgw_cli__row(&t, "HEIGHT", "FROM", "TO", "TX", "REASON");
        json_array_foreach(hist, i, x)
            esgw_cli__row(&t, F(x, "height"), MC(x, "previous"), MC(x, "total_cost"),
                          F(x, "tx_id"), F(x, "reason"));
        int rc = esgw_cli__cells_print(cli, &t, 0x7);
        if (rc)
            return rc;
    }
    const json_t *fl = json_object_get(p, "fundings");
    fprintf(f, "\nExternal fundings\n");
    if (json_array_size(fl) == 0) {
        fprintf(f, "  none recorded\n");
    } else {
        esgw_cells t = {.ncols = 7};
        esgw_cli__row(&t, "DATE", "SOURCE", "PROGRAMME", "AMOUNT", "FUNDING ID",
                      "EVIDENCE SHA-256", "STATUS");
        json_array_foreach(fl, i, x) {
            const char *st = "";
            if (json_is_true(json_object_get(x, "reversed")))
                st = esgw_cli__printf(cli, "REVERSED on %s: %s (tx %s)", F(x, "reversed_date"),
                                      F(x, "reverse_reason"), F(x, "reversal_tx"));
            esgw_cli__row(&t, F(x, "date"), F(x, "source"), F(x, "programme"), MC(x, "amount"),
                          F(x, "id"), F(x, "evidence_sha256"), st ? st : "?");
        }
        int rc = esgw_cli__cells_print(cli, &t, 0x8);
        if (rc)
            return rc;
    }
    fprintf(f, "\nFunders' shares and attributed impact: esgwallet report project %s\n",
            F(p, "id"));
    return 0;
}

static int cmd_project_show(esgw_cli *cli, const esgw_args *a) {
    json_t *p;
    int rc = fetch(cli, &p, "/v1/projects/", a->pos[0], NULL, PROJECT_ARRAYS, NULL, "a project");
    if (rc)
        return rc;
    return emit(cli, a, p, NULL, show_text, NULL);
}

static int list_text(esgw_cli *cli, const json_t *d, const esg_report_period *per) {
    (void)per;
    const json_t *ps = json_object_get(d, "projects");
    if (json_array_size(ps) == 0) {
        fprintf(cli->out, "no projects%s%s\n", json_is_string(json_object_get(d, "city"))
                                                   ? " of "
                                                   : "",
                json_is_string(json_object_get(d, "city")) ? F(d, "city") : "");
        return 0;
    }
    esgw_cells t = {.ncols = 8};
    esgw_cli__row(&t, "PROJECT", "CITY", "OBJECTIVES", "TAXONOMY", "NACE", "TOTAL COST",
                  "INSTRUMENTS", "NAME");
    size_t i;
    json_t *x;
    json_array_foreach(ps, i, x) {
        const char *cur = json_string_value(json_object_get(x, "currency"));
        esgw_cli__row(&t, F(x, "id"), F(x, "city"), joined(cli, x, "eu_objectives", ",", false),
                      F(x, "taxonomy_activity"), F(x, "nace"), MC(x, "total_cost"),
                      joined(cli, x, "instruments", ",", false), F(x, "name"));
    }
    return esgw_cli__cells_print(cli, &t, 0x20);
}

static int cmd_project_list(esgw_cli *cli, const esgw_args *a) {
    const char *city = esgw_cli__opt(a, "city");
    if (city && !esg_member_id_valid(city))
        return esgw_cli__fail(cli, ESG_ERR_BAD_MEMBER_ID,
                              "--city '%s' does not match [a-z0-9-]{2,40}", city);
    const char *q = city ? esgw_cli__printf(cli, "?city=%s", city) : "";
    json_t *d;
    int rc = q ? fetch(cli, &d, "/v1/projects", NULL, q, "projects", NULL, "a project list")
               : ESG_ERR_NOMEM;
    if (rc)
        return rc;
    return emit(cli, a, d, NULL, list_text, NULL);
}

/* ------------------------------------------------- a KPI across cities */

/* The cities' shares of the consortium's confirmed total, adding up to
 * 100.00 %; NULL (shown "-") when a confirmed value is negative or no
 * decimal, or out of memory. *total receives the sum in thousandths. */
static uint64_t *city_shares(esgw_cli *cli, const json_t *cities, int64_t *total) {
    size_t n = json_array_size(cities);
    uint64_t *parts = esgw_cli__alloc(cli, (n + 1) * sizeof *parts);
    *total = 0;
    bool ok = parts != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        int64_t v;
        const char *s = json_string_value(json_object_get(json_array_get(cities, i), "confirmed"));
        ok = s && esg_milli_parse(s, &v) == 0 && v >= 0 &&
             !__builtin_add_overflow(*total, v, total);
        if (ok)
            parts[i] = (uint64_t)v;
    }
    return ok ? shares(cli, parts, n, 10000) : NULL;
}

/* The one currency of every city row, or NULL when they differ or one is
 * mixed (the totals of money are then not shown). */
static const char *one_currency(const json_t *cities) {
    const char *cur = NULL;
    size_t i;
    json_t *x;
    json_array_foreach(cities, i, x) {
        const char *c = json_string_value(json_object_get(x, "currency"));
        if (!c || (cur && strcmp(cur, c) != 0))
            return NULL;
        cur = c;
    }
    return cur;
}

/* The sum of the money member `key` over the city rows for people, "-"
 * when it overflows. */
static const char *money_sum(esgw_cli *cli, const json_t *cities, const char *key,
                             const char *cur) {
    uint64_t sum = 0;
    size_t i;
    json_t *x;
    json_array_foreach(cities, i, x)
        if (__builtin_add_overflow(sum, U64(x, key), &sum))
            return "-";
    return esgw_cli__money(cli, sum, cur, true);
}

static int cities_text(esgw_cli *cli, const json_t *d, const esg_report_period *per) {
    (void)per;
    FILE *f = cli->out;
    const json_t *cs = json_object_get(d, "cities");
    fprintf(f, "KPI across cities: %s \"%s\" (%s, %s is better)\n", F(d, "kpi"), F(d, "name"),
            F(d, "unit"), F(d, "direction"));
    fprintf(f, "period        %s (impact of the reports whose period ends in it,\n"
               "              financing dated up to its end)\n\n",
            period_text(cli, d));
    if (json_array_size(cs) == 0) {
        fprintf(f, "no city's projects report %s\n", F(d, "kpi"));
        return 0;
    }
    int64_t total;
    uint64_t *sh = city_shares(cli, cs, &total);
    const char *one = one_currency(cs);
    esgw_cells t = {.ncols = 11};
    esgw_cli__row(&t, "CITY", "NAME", "PROJECTS", esgw_cli__printf(cli, "CONFIRMED (%s)",
                                                                    F(d, "unit")),
                  "OF TOTAL", "BY INSTRUMENTS", "EXTERNALLY", "FINANCED",
                  one ? esgw_cli__printf(cli, "PER MILLION %s", one) : "PER MILLION",
                  "PER 1000 INHABITANTS", "POPULATION");
    size_t i;
    json_t *x;
    uint64_t projects = 0;
    json_array_foreach(cs, i, x) {
        const char *cur = json_string_value(json_object_get(x, "currency"));
        projects += U64(x, "projects");
        esgw_cli__row(&t, F(x, "city"), F(x, "name"), F(x, "projects"), F(x, "confirmed"),
                      sh ? esgw_cli__pct(cli, sh[i]) : "-", MC(x, "financed_by_instruments"),
                      MC(x, "financed_externally"), MC(x, "financed"),
                      F(x, "per_million_financed"), F(x, "per_1000_inhabitants"),
                      F(x, "population"));
    }
    char tot[32];
    esg_milli_format(total, tot);
    esgw_cli__row(&t, "all cities", "", esgw_cli__printf(cli, "%" PRIu64, projects),
                  sh ? esgw_cli__strdup(cli, tot) : "-", sh ? "100.00%" : "-",
                  one ? money_sum(cli, cs, "financed_by_instruments", one) : "-",
                  one ? money_sum(cli, cs, "financed_externally", one) : "-",
                  one ? money_sum(cli, cs, "financed", one) : "-", "", "", "");
    int rc = esgw_cli__cells_print(cli, &t, 0x7fc);
    if (rc == 0)
        fprintf(f, "\nPER MILLION: confirmed %s per million of the currency financed (\"-\"\n"
                   "when a city's projects use several currencies); PER 1000 INHABITANTS\n"
                   "needs the member's population.\n",
                F(d, "unit"));
    return rc;
}

static int cities_csv(esgw_cli *cli, const json_t *d) {
    FILE *f = cli->out;
    static const char *const head[] = {
        "section", "kpi", "unit", "period_start", "period_end", "city", "name", "population",
        "projects", "confirmed", "share_of_total_pct", "currency", "financed_by_instruments",
        "financed_externally", "financed", "per_million_financed", "per_1000_inhabitants"};
    enum { N = sizeof head / sizeof head[0] };
    const json_t *cs = json_object_get(d, "cities"), *per = json_object_get(d, "period");
    int64_t total;
    uint64_t *sh = city_shares(cli, cs, &total);
    const char *kpi = cv(cli, d, "kpi"), *unit = cv(cli, d, "unit"), *ps = cv(cli, per, "start"),
               *pe = cv(cli, per, "end");
    esgw_csv_row(f, head, N);
    size_t i;
    json_t *x;
    json_array_foreach(cs, i, x) {
        const char *cur = json_string_value(json_object_get(x, "currency"));
        const char *v[N] = {"city", kpi, unit, ps, pe, cv(cli, x, "city"), cv(cli, x, "name"),
                            cv(cli, x, "population"), cv(cli, x, "projects"),
                            cv(cli, x, "confirmed"), sh ? pct(cli, sh[i], false) : "",
                            cur ? cur : "", csv_money(cli, x, "financed_by_instruments", cur),
                            csv_money(cli, x, "financed_externally", cur),
                            csv_money(cli, x, "financed", cur),
                            cv(cli, x, "per_million_financed"),
                            cv(cli, x, "per_1000_inhabitants")};
        esgw_csv_row(f, v, N);
    }
    return 0;
}

static int cmd_report_cities(esgw_cli *cli, const esgw_args *a) {
    static const period_report r = {"/v1/kpis/", "/cities", "cities", NULL,
                                    "a KPI across cities", cities_text, cities_csv};
    return run_period_report(cli, a, &r, esgw_cli__opt(a, "kpi"));
}

#define PERIOD_HELP(by)                                                                 \
    "  --period START:END  the reporting period, YYYY-MM-DD:YYYY-MM-DD, both days\n"      \
    "                   inclusive, start not after end (ERR_BAD_PERIOD, ERR_BAD_DATE);\n" \
    "                   " by "; default: all of time\n"                              \
    "                   (docs/PROJECTS.md, \"Reporting periods\")\n"
#define CSV_HELP                                                                        \
    "  --csv            print the report's main table as RFC 4180 CSV (header row, CRLF\n" \
    "                   line ends, first column \"section\"): money as decimals of the\n"   \
    "                   major unit without separators, shares as percentages; not with\n" \
    "                   --json, which prints the node's document as it is\n"
#define INSTRUMENT_HELP "  ID               the instrument's id, as in its spec (JGB-2026-01)\n"
#define PROJECT_HELP "  P                the project's id, [A-Z0-9-]{3,40}\n"

const esgw_cmd esgw_cli__gbs_cmds[] = {
    {.path = "report allocation",
     .synopsis = "ID [--period START:END] [--csv]   EU GBS allocation report (Annex II)",
     .min_pos = 1, .max_pos = 1, .optional = "period", .flags = "csv",
     .run = cmd_report_allocation, .kind = ESGW_CMD_USES_NODE,
     .help = "Prints an instrument's allocation report under the EU Green Bond Standard\n"
             "(Regulation (EU) 2023/2631, Annex II) for a period, from GET\n"
             "/v1/instruments/{id}/allocations?period=: issuers, the period's figures\n"
             "(allocated in the period and to its end, financing and refinancing,\n"
             "unallocated), per project, per city and per environmental objective, the\n"
             "allocations dated in the period and the reversals, and whether an external\n"
             "review is needed. Money in the currency's major unit (1,900,000.00 EUR);\n"
             "shares of a whole add up to it. Fields: docs/PROJECTS.md (\"The documents\").\n"
             "\n" INSTRUMENT_HELP PERIOD_HELP("allocations count by their date") CSV_HELP},
    {.path = "report impact",
     .synopsis = "ID [--period START:END] [--csv]   EU GBS impact report (Annex III)",
     .min_pos = 1, .max_pos = 1, .optional = "period", .flags = "csv", .run = cmd_report_impact,
     .kind = ESGW_CMD_USES_NODE,
     .help = "Prints an instrument's impact report under the EU Green Bond Standard (Annex\n"
             "III) for a period, from GET /v1/instruments/{id}/impact?period=: per project\n"
             "and KPI the counted value, the part attributed to the instrument by its share\n"
             "of the financing, the opinions behind it (a figure resting on a qualified one\n"
             "is marked (Q)), totals per KPI and per city. KPI values in the KPI's unit with\n"
             "three decimals. Fields: docs/PROJECTS.md (\"The documents\").\n"
             "\n" INSTRUMENT_HELP PERIOD_HELP("reports count by their period's end") CSV_HELP},
    {.path = "report project",
     .synopsis = "P [--csv]   a project's funders, shares and attributed impact", .min_pos = 1,
     .max_pos = 1, .flags = "csv", .run = cmd_report_project, .kind = ESGW_CMD_USES_NODE,
     .help = "Prints a project's funders -- its instruments and its outside fundings -- with\n"
             "each one's share of the cost basis (adding up to 100.00 % with what is not\n"
             "financed) and the impact attributed to each, from GET /v1/projects/{id}. Rules:\n"
             "docs/PROJECTS.md (\"Attribution by share financed\").\n"
             "\n" PROJECT_HELP CSV_HELP},
    {.path = "report cities",
     .synopsis = "--kpi K [--period START:END] [--csv]   one KPI compared across cities",
     .required = "kpi", .optional = "period", .flags = "csv", .run = cmd_report_cities,
     .kind = ESGW_CMD_USES_NODE,
     .help = "Compares one KPI across the consortium's cities, from GET\n"
             "/v1/kpis/{id}/cities?period=: each city's projects reporting it, confirmed\n"
             "total and share of the consortium's, its financing (by instruments and from\n"
             "outside), and the KPI per million of money financed and per 1000 inhabitants\n"
             "where the city's population is known.\n"
             "\n"
             "  --kpi K          a KPI of the catalogue (GET /v1/kpis), e.g. ghg_avoided_tco2e\n"
             PERIOD_HELP("reports count by their period's end") CSV_HELP},
    {.path = "project show", .synopsis = "P", .min_pos = 1, .max_pos = 1,
     .run = cmd_project_show, .kind = ESGW_CMD_USES_NODE,
     .help = "Prints a project (GET /v1/projects/{id}): city, objectives, taxonomy activity,\n"
             "NACE, SDGs, location, total cost, financing by instruments and from outside,\n"
             "the instruments, cost changes and external fundings (with their ids, for\n"
             "project unfund). Money in the project currency's major unit.\n"
             "\n" PROJECT_HELP},
    {.path = "project list", .synopsis = "[--city MEMBER]", .optional = "city",
     .run = cmd_project_list, .kind = ESGW_CMD_USES_NODE,
     .help = "Lists the registered projects (GET /v1/projects): id, city, objectives,\n"
             "taxonomy activity, NACE, total cost, instruments and name.\n"
             "\n"
             "  --city MEMBER    only this city's projects, a member id [a-z0-9-]{2,40};\n"
             "                   default: every city's\n"},
    {0},
};
