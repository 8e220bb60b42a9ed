/* Impact: reports of KPI figures by cities, attestations by accredited
 * verifiers, disputes by holders -- and the counting rules every node,
 * auditor and report computes identically (issue 3, "Impact").
 *
 * Counting rules:
 * - Impact is reported of a project (contracts/projects.h), once: an
 *   instrument named in a report only says which bond's investors the
 *   city reports to; it changes nothing in what counts.
 * - A report counts when it is not superseded, has at least one live
 *   (not revoked) CONFIRMED or QUALIFIED attestation and no live REJECTED
 *   one. Its counted value is the smallest verified_value among those live
 *   CONFIRMED/QUALIFIED attestations.
 * - Live reports of one project and KPI never share a day (ReportImpact
 *   refuses an overlapping period), so no impact is counted twice.
 * - C(p,k): the sum of the counted values of project p's reports of KPI k
 *   whose period_end lies in the window asked (all periods by default).
 * - The confirmed total of an instrument per KPI is the sum of C(p,k)
 *   over the projects of its spec: what SLB covenants compare with their
 *   targets (contracts/payments.h), in full, whoever else finances them.
 * - Impact attributed to instrument i: the sum over its projects of
 *   floor(C(p,k) x A(i,p) / D(p)) (contracts/projects.h: the share
 *   financed, with financing dated up to the window's end).
 * - Attributed impact of an investor: floor(attributed to the instrument
 *   x its units / units outstanding), per instrument and KPI; units
 *   outstanding are all units held after close and before redemption;
 *   after redemption, the holdings at the last coupon
 *   (HoldingRecord.units_at_last_coupon,
 *   InstrumentRecord.units_at_last_coupon).
 * Values are int64 thousandths of the KPI unit; every sum is checked
 * (ESG_ERR_OVERFLOW).

 * Transactions: ReportImpact, AttestImpact, RevokeAttestation,
 * DisputeImpact (ESG_IMPACT_CONTRACTS rows for contracts/contracts.c). Each
 * is signed by an OFFICER account (ESG_ERR_UNAUTHORIZED otherwise); the
 * rest is checked in the order listed, and a rejection changes nothing.
 *
 * ReportImpact{instrument, project_id, kpi, value, period_start, period_end,
 * methodology, evidence_sha256, evidence_uri, supersedes, reason}, by the
 * project's city; `instrument` is optional:
 *   ESG_ERR_UNKNOWN_INSTRUMENT   an instrument is named and does not exist
 *                                (any status is fine)
 *   ESG_ERR_UNKNOWN_PROJECT      project_id is not registered, or the named
 *                                instrument does not finance it
 *   ESG_ERR_NOT_PROJECT_CITY     the signer's member is not the project's city
 *   ESG_ERR_UNKNOWN_KPI          kpi is not in the catalogue
 *   ESG_ERR_BAD_AMOUNT           value < 0 (values are quantities: a KPI
 *                                whose direction is "lower" reports the
 *                                level, not a negative change)
 *   ESG_ERR_BAD_DATE             a period date is not a valid YYYY-MM-DD
 *   ESG_ERR_BAD_PERIOD           period_start is not before period_end
 *   ESG_ERR_DATE_IN_FUTURE       period_end after the block's date
 *   ESG_ERR_BAD_HASH             evidence_sha256 is not 32 bytes
 *   ESG_ERR_BAD_TEXT             methodology over 1000 characters,
 *                                evidence_uri or reason over 500, or a
 *                                control character in one (all optional)
 *   ESG_ERR_BAD_SUPERSEDES       supersedes is set but names no live report
 *                                of the same project and KPI
 *   ESG_ERR_DUPLICATE_REPORT     another live report of the project and KPI
 *                                has exactly this period
 *   ESG_ERR_OVERLAPPING_PERIOD   another live report of the project and KPI
 *                                shares a day with the period (inclusive)
 *   ESG_ERR_MISSING_REASON       superseding without a reason
 * "Another" excludes the report superseded. Effect: ReportRecord (id = tx
 * id, city = the project's city) under ESG_T_REPORTS; index rows
 * ESG_T_PROJECT_REPORTS/project ‖ 0 ‖ kpi ‖ 0 ‖ id and, when an instrument
 * is named, ESG_T_INSTRUMENT_REPORTS/instrument ‖ 0 ‖ id. When
 * superseding, the old record's superseded_by is set to the new id; it
 * stays stored and listed (history), but no longer counts and can no
 * longer be attested.

 * AttestImpact{report_id, opinion, verified_value, statement_sha256}, by a
 * VERIFIER member (ESG_ERR_UNAUTHORIZED for another kind; being a VERIFIER
 * it is never a co-issuer, which are cities):
 *   ESG_ERR_UNKNOWN_REPORT       no such report (or an id not 32 bytes)
 *   ESG_ERR_REPORT_SUPERSEDED    the report has been superseded
 *   ESG_ERR_NOT_ACCREDITED       the member is not accredited for the
 *                                category of the report's KPI
 *   ESG_ERR_BAD_OPINION          opinion is not CONFIRMED, QUALIFIED, REJECTED
 *   ESG_ERR_BAD_AMOUNT           verified_value < 0
 *   ESG_ERR_BAD_HASH             statement_sha256 is not 32 bytes
 *   ESG_ERR_ALREADY_ATTESTED     the member has a live attestation of it
 * Effect: AttestationRecord (id = tx id) under ESG_T_ATTESTATIONS; its id
 * appended to the report's attestations.
 *
 * RevokeAttestation{attestation_id, reason}, by the verifier that attested:
 *   ESG_ERR_UNKNOWN_ATTESTATION  no such attestation (or an id not 32 bytes)
 *   ESG_ERR_NOT_ATTESTER         the signer's member is not its verifier
 *   ESG_ERR_ATTESTATION_REVOKED  already revoked
 *   ESG_ERR_MISSING_REASON       reason is empty
 *   ESG_ERR_BAD_TEXT             reason over 500 characters or with a
 *                                control character
 * Effect: the record is kept with revoked, revoke_reason, revoked_height.
 * The verifier may then attest the report again.
 *
 * DisputeImpact{report_id, reason}, by a member holding units at this
 * block of the report's instrument or, when it names none, of any
 * instrument financing the project:
 *   ESG_ERR_UNKNOWN_REPORT       no such report (superseded ones included:
 *                                they may be disputed)
 *   ESG_ERR_NOT_HOLDER           the signer's member holds no units
 *   ESG_ERR_MISSING_REASON, ESG_ERR_BAD_TEXT   as for RevokeAttestation
 * Effect: DisputeRecord (id = tx id) under ESG_T_DISPUTES; its id appended
 * to the report's disputes. Disputes never change what counts.
 *
 * The query functions below read state only; they serve the contracts
 * (covenants, contracts/payments.c), the HTTP API and the wallet's reports.
 */
#ifndef ESG_CONTRACTS_IMPACT_H
#define ESG_CONTRACTS_IMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contracts/records.h"
#include "ledger/contract.h"

int esg_impact_report(esg_tx_ctx *ctx);
int esg_impact_attest(esg_tx_ctx *ctx);
int esg_impact_revoke(esg_tx_ctx *ctx);
int esg_impact_dispute(esg_tx_ctx *ctx);

#define ESG_IMPACT_CONTRACTS                                  \
    [ESG_ACTION_REPORT_IMPACT] = esg_impact_report,           \
    [ESG_ACTION_ATTEST_IMPACT] = esg_impact_attest,           \
    [ESG_ACTION_REVOKE_ATTESTATION] = esg_impact_revoke,      \
    [ESG_ACTION_DISPUTE_IMPACT] = esg_impact_dispute,

/* The counting rule itself, on records already loaded: a report that is
 * not superseded counts when at least one of its live attestations is
 * CONFIRMED or QUALIFIED and none is REJECTED; its value is the smallest
 * verified_value among the former. The one statement of the rule, used by
 * esg_impact_report_counted and by the wallet's proof check
 * (contracts/reports.h esg_report_count). */
void esg_impact_count_rule(bool superseded, esg_pb_attestation *const *atts, size_t n,
                           bool *counts, int64_t *value);

/* Whether report r counts and, if so, its counted value (per the rules
 * above). Reads r's attestations from state. *value is 0 when it does not
 * count. Returns 0 or a storage error (an attestation listed by r but
 * absent is ESG_ERR_STORE_CORRUPT). */
int esg_impact_report_counted(esg_state *st, const esg_pb_report *r, bool *counts,
                              int64_t *value);

/* The reports of `project` of `kpi` (NULL: of every KPI), superseded
 * ones included, in report id order, into *out (esg_rec_msgs_free it).
 * An unknown or invalid project has none. */
int esg_impact_project_reports(esg_state *st, const char *project, const char *kpi,
                               esg_rec_msgs *out);

/* C(p,k): sum of the counted values of `project`'s reports of `kpi`
 * whose period_end (days since 1970-01-01) lies in (end_after, end_until];
 * INT32_MIN/INT32_MAX for "all". *n_counted (may be NULL) is how many
 * counted. Returns 0, ESG_ERR_OVERFLOW, or a storage error. */
int esg_impact_project_sum(esg_state *st, const char *project, const char *kpi,
                           int32_t end_after, int32_t end_until, int64_t *sum,
                           size_t *n_counted);

/* The confirmed total of `instrument`: esg_impact_project_sum summed over
 * the projects of its spec (an unknown instrument gives 0). What a
 * covenant compares with its target. */
int esg_impact_sum(esg_state *st, const char *instrument, const char *kpi,
                   int32_t end_after, int32_t end_until, int64_t *sum,
                   size_t *n_counted);

/* Impact attributed to `instrument` for `kpi` over the window: the sum
 * over its projects p of floor(C(p,k) x A(i,p) / D(p)), the financing
 * cut off at end_until (contracts/projects.h). Returns 0,
 * ESG_ERR_UNKNOWN_INSTRUMENT, ESG_ERR_OVERFLOW or a storage error. */
int esg_impact_instrument_attributed(esg_state *st, const char *instrument, const char *kpi,
                                     int32_t end_after, int32_t end_until, int64_t *value);

/* The attribution basis of `member` in `ins`: u and U below (0 and 0 for
 * an instrument still OFFERING). ESG_ERR_STORE_CORRUPT when u > U. */
int esg_impact_holder_units(esg_state *st, const esg_pb_instrument_record *ins,
                            const char *member, uint64_t *units, uint64_t *outstanding);

/* Attributed impact of `member` for `instrument` and `kpi`:
 *   *value = floor(T x u / U), computed in 128 bits, where T is the
 *   impact attributed to the instrument over all periods
 *   (esg_impact_instrument_attributed) and
 *   - ACTIVE:   u = the member's units now, U = units_outstanding;
 *   - MATURED:  u = HoldingRecord.units_at_last_coupon of the member,
 *               U = InstrumentRecord.units_at_last_coupon (redemption burns
 *               every unit, so the holdings at the last coupon stand);
 *   - OFFERING: nothing is outstanding yet: u = U = 0.
 * When U is 0 the value is 0. units and outstanding (each may be NULL)
 * receive u and U, so a caller can show the basis. `kpi` is not checked
 * against the catalogue (an unknown KPI has no reports: 0). Outputs are 0
 * on error. Returns 0, ESG_ERR_UNKNOWN_INSTRUMENT, ESG_ERR_OVERFLOW (from
 * the sum), or a storage error (u > U is ESG_ERR_STORE_CORRUPT). */
int esg_impact_attributed(esg_state *st, const char *instrument, const char *kpi,
                          const char *member, int64_t *value, uint64_t *units,
                          uint64_t *outstanding);

#endif
