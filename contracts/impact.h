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
 * DisputeImpact (ESG_IMPACT_CONTRACTS rows for contracts/contracts.c).
 *
 * The query functions below read state only; they serve the contracts
 * (covenants, contracts/payments.c), the HTTP API and the wallet's reports.
 */
#ifndef ESG_CONTRACTS_IMPACT_H
#define ESG_CONTRACTS_IMPACT_H

#include <stdbool.h>
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

/* Whether report r counts and, if so, its counted value (per the rules
 * above). Reads r's attestations from state. */
int esg_impact_report_counted(esg_state *st, const esg_pb_report *r, bool *counts,
                              int64_t *value);

/* Sum of the counted values of `instrument`'s reports of `kpi` whose
 * period_end (days since 1970-01-01) lies in (end_after, end_until]; pass
 * INT32_MIN/INT32_MAX for "all". *n_counted is how many reports counted.
 * Returns 0, ESG_ERR_OVERFLOW, or a storage error. */
int esg_impact_sum(esg_state *st, const char *instrument, const char *kpi,
                   int32_t end_after, int32_t end_until, int64_t *sum,
                   size_t *n_counted);

#endif
