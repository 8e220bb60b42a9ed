/* Impact: reports of KPI figures by cities, attestations by accredited
 * verifiers, disputes by holders -- and the counting rules every node,
 * auditor and report computes identically (issue 3, "Impact").
 *
 * Counting rules:
 * - A report counts when it is not superseded, has at least one live
 *   (not revoked) CONFIRMED or QUALIFIED attestation and no live REJECTED
 *   one. Its counted value is the smallest verified_value among those live
 *   CONFIRMED/QUALIFIED attestations.
 * - The confirmed total of an instrument per KPI is the sum of the counted
 *   values of its reports of that KPI (all periods).
 * - Attributed impact of an investor: floor(confirmed total x its units /
 *   units outstanding), per instrument and KPI; units outstanding are all
 *   units held after close and before redemption; after redemption, the
 *   holdings at the last coupon (HoldingRecord.units_at_last_coupon,
 *   InstrumentRecord.units_at_last_coupon).
 * Values are int64 thousandths of the KPI unit; every sum is checked
 * (ESG_ERR_OVERFLOW).
 *
 * Transactions: ReportImpact, AttestImpact, RevokeAttestation,
 * DisputeImpact (ESG_IMPACT_CONTRACTS rows for contracts/contracts.c). Each
 * is signed by an OFFICER account (ESG_ERR_UNAUTHORIZED otherwise); the
 * rest is checked in the order listed, and a rejection changes nothing.
 *
 * ReportImpact{instrument, project_id, kpi, value, period_start, period_end,
 * methodology, evidence_sha256, evidence_uri, supersedes, reason}, by the
 * project's city:
 *   ESG_ERR_UNKNOWN_INSTRUMENT   no such instrument (any status is fine)
 *   ESG_ERR_UNKNOWN_PROJECT      project_id is not a project of its spec
 *   ESG_ERR_NOT_PROJECT_CITY     the signer's member is not the project's city
 *   ESG_ERR_UNKNOWN_KPI          kpi is not in the catalogue
 *   ESG_ERR_BAD_AMOUNT           value < 0 (values are quantities: a KPI
 *                                whose direction is "lower" reports the
 *                                level, not a negative change)
 *   ESG_ERR_BAD_DATE             a period date is not a valid YYYY-MM-DD
 *   ESG_ERR_BAD_PERIOD           period_start is not before period_end
 *   ESG_ERR_BAD_HASH             evidence_sha256 is not 32 bytes
 *   ESG_ERR_BAD_TEXT             methodology over 1000 characters,
 *                                evidence_uri or reason over 500, or a
 *                                control character in one (all optional)
 *   ESG_ERR_BAD_SUPERSEDES       supersedes is set but the slot (instrument,
 *                                project, KPI, period_start, period_end) has
 *                                no live report, or names another report
 *   ESG_ERR_DUPLICATE_REPORT     the slot has a live report and supersedes
 *                                is empty
 *   ESG_ERR_MISSING_REASON       superseding without a reason
 * Effect: ReportRecord (id = tx id, city = the project's city) under
 * ESG_T_REPORTS; the slot row ESG_T_REPORT_SLOTS points at it; an index row
 * ESG_T_INSTRUMENT_REPORTS/instrument ‖ 0 ‖ id -> "". When superseding,
 * the old record's superseded_by is set to the new id; it stays stored and
 * listed (history), but no longer counts and can no longer be attested.
 *
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
 * DisputeImpact{report_id, reason}, by a member holding units of the
 * report's instrument at this block:
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

/* Sum of the counted values of `instrument`'s reports of `kpi` whose
 * period_end (days since 1970-01-01) lies in (end_after, end_until]; pass
 * INT32_MIN/INT32_MAX for "all". *n_counted is how many reports counted.
 * Returns 0, ESG_ERR_OVERFLOW, or a storage error. */
int esg_impact_sum(esg_state *st, const char *instrument, const char *kpi,
                   int32_t end_after, int32_t end_until, int64_t *sum,
                   size_t *n_counted);

/* Attributed impact of `member` for `instrument` and `kpi`:
 *   *value = floor(T x u / U), computed in 128 bits, where T is the
 *   confirmed total (esg_impact_sum over all periods) and
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
