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

/* GET /v1/instruments/{id}/allocations: {instrument, amount_raised,
 * allocated_total, unallocated, per_city [{city, share_bps, part_of_raised,
 * allocated, remaining}], per_project [{project_id, city, name,
 * eu_objective, budget, allocated, share_of_proceeds_bps, over_budget}],
 * allocations [...] in the order made (height, then id)}. */
int esg_report_allocations(esg_state *st, const char *instrument, json_t **out, char *err,
                           size_t errlen);

/* GET /v1/instruments/{id}/impact: {instrument, reports [every report in
 * the order made, superseded ones included, each with its attestation and
 * dispute history, counted and counted_value], confirmed_totals [{kpi,
 * unit, total, reports_counted}] for each KPI reported or targeted}. */
int esg_report_impact(esg_state *st, const char *instrument, json_t **out, char *err,
                      size_t errlen);

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

/* Whether attestation `a` takes part in the rule above: live (not revoked)
 * and CONFIRMED or QUALIFIED. A live REJECTED one blocks its report. */
bool esg_report_attestation_supports(const esg_pb_attestation *a);

#endif
