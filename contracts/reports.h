/* Reports: the documents that describe instruments from the ledger's
 * state -- the list of instruments, an instrument's detail (schedule,
 * step-ups), its holders, its payments as recorded, the use of its
 * proceeds (allocation report), its impact (reports, attestations, counted
 * values, confirmed totals) and a member's attributed impact -- as JSON.
 *
 * The node's API serves them (GET /v1/instruments, /v1/instruments/{id},
 * .../holders, .../payments, .../allocations, .../impact,
 * /v1/members/{id}/impact: docs/API.md shows their shapes), and the
 * wallet's `audit` builds the very same documents from a state it replayed
 * itself from genesis, trusting no node. Keeping them here, in the
 * contracts layer, is what makes the two agree byte for byte.
 *
 * Every figure is a stored record's field or the answer of a contract
 * query (contracts/instrument.h, payments.h, proceeds.h, impact.h: the
 * schedule, the split by shares, counted values, confirmed sums, step-ups,
 * attribution), so a report never states a rule differently from the
 * ledger. What is computed here is presentation: sums of figures shown and
 * shares in basis points (floor(part x 10000 / whole), 0 when whole is 0).
 *
 * JSON conventions (docs/API.md): money and units (uint64) are decimal
 * strings, impact values (int64 thousandths of the KPI unit) "1234.567"
 * strings, hashes and ids lowercase hex, heights and counts numbers, dates
 * "YYYY-MM-DD", absent optional references null. jansson keeps keys in the
 * order they are set, which is the documented order.
 *
 * Errors. Each builder returns 0 and a new document in *out (the caller
 * json_decref's it), or an error with *out NULL and a one-line message in
 * err (lower case, no trailing period; err may be NULL when errlen is 0):
 *   ESG_ERR_BAD_INSTRUMENT_ID  the id does not match [A-Z0-9-]{3,40}
 *                              ("instrument id 'x' does not match ...")
 *   ESG_ERR_UNKNOWN_INSTRUMENT no such instrument ("unknown instrument 'X'")
 *   ESG_ERR_BAD_MEMBER_ID, ESG_ERR_UNKNOWN_MEMBER   the same for a member
 *   ESG_ERR_STORE_CORRUPT, ESG_ERR_STORE, ESG_ERR_OVERFLOW, ESG_ERR_NOMEM
 *                              ("reading allocations: <message>")
 *
 * Thread rules: none of its own; a builder reads through the state view it
 * is given (any view: read, write or scratch) and follows that view's
 * rules. Builders never write state.
 */
#ifndef ESG_CONTRACTS_REPORTS_H
#define ESG_CONTRACTS_REPORTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/state.h"

/* True when `id` could name an instrument: [A-Z0-9-]{3,40}. */
bool esg_report_instrument_id_valid(const char *id);

/* GET /v1/instruments: {instruments [{id, kind, name, currency, status,
 * face_value, units, units_sold, units_outstanding, amount_raised,
 * coupon_bps, coupon_frequency_months, issue_date, maturity_date,
 * co_issuers [{member, share_bps}], paying_agent}]} in id order. Errors:
 * the store's ("reading instruments: <message>"). */
int esg_report_instruments(esg_state *st, json_t **out, char *err, size_t errlen);

/* GET /v1/instruments/{id}: the spec (rendered as stored, KPI target
 * values as decimal thousandths), status and figures, the coupon schedule
 * with the dates paid, the next coupon date and the step-ups in force for
 * it, and every KPI target evaluated now (esg_covenant_evaluate). */
int esg_report_instrument(esg_state *st, const char *instrument, json_t **out, char *err,
                          size_t errlen);

/* GET /v1/instruments/{id}/holders: {instrument, units_outstanding,
 * holders [{member, units, share_of_outstanding_bps}]} in member order;
 * only members holding units now (a past holder's coupon snapshot, a row
 * of 0 units, is no holder). */
int esg_report_holders(esg_state *st, const char *instrument, json_t **out, char *err,
                       size_t errlen);

/* GET /v1/instruments/{id}/payments: {instrument, payments [{kind,
 * due_date, seq, height, time, time_ms, coupon_bps, step_up_bps, months,
 * per_unit, total, holders [{member, units, amount}], co_issuers [{member,
 * share_bps, amount}], tx_id}]}: each payment exactly as the contract
 * recorded it, the coupons by seq, then the redemption. */
int esg_report_payments(esg_state *st, const char *instrument, json_t **out, char *err,
                        size_t errlen);

/* A reporting period: inclusive dates, days since 1970-01-01. `set` is
 * false for "all of time" (start INT32_MIN, end INT32_MAX, strings ""). */
typedef struct esg_report_period {
    bool set;
    int32_t start, end;
    char start_s[11], end_s[11];
} esg_report_period;

/* Parses "YYYY-MM-DD:YYYY-MM-DD" (the ?period= of the API and --period
 * of the wallet; inclusive, start <= end). NULL or "" is all of time.
 * Errors: ESG_ERR_BAD_PERIOD (not START:END, or start after end),
 * ESG_ERR_BAD_DATE (a date that is no calendar date); *p is then all of
 * time. */
int esg_report_period_parse(const char *s, esg_report_period *p, char *err, size_t errlen);

/* GET /v1/instruments/{id}/allocations[?period=]: {instrument,
 * amount_raised, allocated_total, unallocated, per_city [{city, share_bps,
 * part_of_raised, allocated, remaining}], per_project [{project_id, city,
 * name, eu_objective, eu_objectives, budget, allocated,
 * share_of_proceeds_bps, over_budget}], allocations [... each with
 * refinancing, reversed and the reversal's fields] in the order made
 * (height, then id)} -- figures of today, net of reversals -- and the EU
 * GBS allocation report (Regulation (EU) 2023/2631 Annex II) for the
 * period: isin, name, currency, issue_date, maturity_date, issuers
 * [{member, name, lei, share_bps}], framework_sha256,
 * external_review_sha256, period ({start, end} or null), period_figures
 * {in_period, cumulative, financing_cumulative, refinancing_cumulative,
 * reversed_in_period, unallocated_at_end, share_allocated_bps},
 * per_project_in_period, per_objective (a project counted under each of
 * its objectives: per_objective_note says so), per_city_in_period,
 * full_allocation_date, reversals_in_period, review
 * {full_allocation_reached, reversals_amending_earlier_periods (reversed in
 * the period, dated before it), reversed_after_this_period (dated up to its
 * end, reversed after it: this period's report, if filed, is amended),
 * external_review_needed (any of the three)}. "In the period" is by allocation date,
 * "cumulative" everything dated up to the period's end; a reversed
 * allocation counts in neither (it was a mistake), and its reversal is
 * listed in the period of the reversing block's date. `period` NULL is all
 * of time. */
int esg_report_allocations_in(esg_state *st, const char *instrument,
                              const esg_report_period *period, json_t **out, char *err,
                              size_t errlen);
int esg_report_allocations(esg_state *st, const char *instrument, json_t **out, char *err,
                           size_t errlen);
/* GET /v1/instruments/{id}/impact[?period=]: {instrument, reports [every
 * report of the instrument's projects in the order made, superseded ones
 * included, each with its attestation and dispute history, counted and
 * counted_value], confirmed_totals [{kpi, unit, total, reports_counted}]
 * (all periods, the instrument's projects in full) for each KPI reported
 * or targeted}, and the EU GBS impact report (Annex III) for the period:
 * period, per_project [{project_id, city, kpi, unit, reported,
 * reports_counted, confirmed, methodologies, opinions, share_financed_bps,
 * attributed}] over reports whose period ends in the period,
 * totals_per_kpi and totals_per_city [{.., confirmed, attributed}],
 * attribution_note. */
int esg_report_impact_in(esg_state *st, const char *instrument,
                         const esg_report_period *period, json_t **out, char *err,
                         size_t errlen);
int esg_report_impact(esg_state *st, const char *instrument, json_t **out, char *err,
                      size_t errlen);
/* GET /v1/projects[?city=]: {city, projects [{id, city, name,
 * eu_objectives, taxonomy_activity, nace, sdgs, total_cost, currency,
 * location, instruments}]} in id order. Errors: ESG_ERR_BAD_MEMBER_ID. */
int esg_report_projects(esg_state *st, const char *city, json_t **out, char *err,
                        size_t errlen);
/* GET /v1/projects/{id}: the project as listed, plus register_tx,
 * registered_height, cost_history, allocated, external, cost_basis (D(p)),
 * funders [{kind instrument|external, funder, amount, share_bps}],
 * fundings [every RecordFunding, reversed ones marked], kpis [{kpi, unit,
 * confirmed, reports_counted, attributed [{kind, funder, attributed}],
 * unattributed}]. Errors: ESG_ERR_BAD_PROJECT_ID, ESG_ERR_UNKNOWN_PROJECT. */
int esg_report_project(esg_state *st, const char *id, json_t **out, char *err,
                       size_t errlen);
/* GET /v1/kpis/{id}/cities[?period=]: {kpi, name, unit, direction, period,
 * cities [{city, name, population, projects, confirmed, currency,
 * financed_by_instruments, financed_externally, financed,
 * per_million_financed, per_1000_inhabitants}]} in city order: per city
 * the confirmed impact of its projects that report the KPI (reports whose
 * period ends in the period), the money financing those projects dated up
 * to the period's end, the impact per million of the currency (null when
 * the city's projects use several currencies or nothing is financed) and
 * per 1000 inhabitants (null without a population). Errors:
 * ESG_ERR_UNKNOWN_KPI. */
int esg_report_kpi_cities(esg_state *st, const char *kpi, const esg_report_period *period,
                          json_t **out, char *err, size_t errlen);
/* GET /v1/members/{id}/impact: {member, instruments [{instrument, status,
 * units, units_outstanding, kpis [{kpi, unit, confirmed_total,
 * attributed}]}]} for each instrument the member holds on the attribution
 * basis of esg_impact_attributed. */
int esg_report_member_impact(esg_state *st, const char *member, json_t **out, char *err,
                             size_t errlen);

/* The counting rule of contracts/impact.h applied to records at hand
 * rather than read from a state -- for a client that verified each record
 * by its own proof (esgwallet impact verify):
 *   report `r` counts when it is not superseded, has at least one live
 *   (not revoked) CONFIRMED or QUALIFIED attestation and no live REJECTED
 *   one; its counted value is the smallest verified_value among those live
 *   CONFIRMED/QUALIFIED attestations.
 * `atts` must be r's attestations, exactly: n == r->n_attestations and
 * atts[i]->id equals r->attestations[i] and names r as its report;
 * otherwise ESG_ERR_INVALID_ARGUMENT (the records do not belong together).
 * *counts and *value as esg_impact_report_counted (false and 0 when not
 * counted).
 * Returns 0 or ESG_ERR_INVALID_ARGUMENT. Pure; the check suite asserts it
 * agrees with esg_impact_report_counted on every case of the rule. */
int esg_report_count(const esg_pb_report *r, esg_pb_attestation *const *atts, size_t n,
                     bool *counts, int64_t *value);

/* At most this many reports in one GET /v1/reports answer. */
#define ESG_REPORT_PREFIX_LIMIT 20

/* GET /v1/reports?prefix=HEX: {prefix, reports [the report as in an
 * instrument's impact document, plus instrument], more} for the reports
 * whose id starts with `prefix` (1 to 64 hex digits, either case; the
 * answer's prefix is lower case), in id order, at most
 * ESG_REPORT_PREFIX_LIMIT (more: whether there are others). How a client
 * turns the short id a person typed into the full one; the lookup reads
 * only matching rows (a prefix of odd length takes 16 seeks). Errors: ESG_ERR_HEX
 * for a prefix that is empty, too long or not hex. */
int esg_report_reports_prefixed(esg_state *st, const char *prefix, json_t **out, char *err,
                                size_t errlen);

/* Whether attestation `a` takes part in the rule above: live (not revoked)
 * and CONFIRMED or QUALIFIED. A live REJECTED one blocks its report. */
bool esg_report_attestation_supports(const esg_pb_attestation *a);

#endif
