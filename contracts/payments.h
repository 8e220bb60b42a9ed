/* Payments: coupons (with sustainability-linked step-ups) and redemption,
 * computed by the ledger and recorded by the instrument's paying agent
 * (issue 3, "RecordPayment" and "Sustainability-linked step-up").
 *
 * RecordPayment{instrument, kind, due_date}, signed by an OFFICER account
 * (ESG_ERR_UNAUTHORIZED otherwise); checked in this order:
 *   ESG_ERR_UNKNOWN_INSTRUMENT  no such instrument
 *   ESG_ERR_NOT_INSTRUMENT_AGENT the signer's member is not the spec's
 *                               paying agent
 *   ESG_ERR_BAD_STATUS          the instrument is not ACTIVE
 *   ESG_ERR_BAD_PAYMENT_KIND    kind is not COUPON or REDEMPTION
 *   ESG_ERR_BAD_DATE            due_date is not a valid YYYY-MM-DD
 *   ESG_ERR_WRONG_DUE_DATE      COUPON: due_date is not the schedule's date
 *                               number coupons_recorded + 1 (the message
 *                               names it), or every coupon is recorded
 *   ESG_ERR_REDEMPTION_EARLY    REDEMPTION: due_date is not the maturity
 *                               date, or a scheduled coupon is unrecorded
 *   ESG_ERR_NOT_DUE             block time < due date 00:00 UTC
 *   ESG_ERR_OVERFLOW            a figure does not fit 64 bits
 * Effect, COUPON number k = coupons_recorded + 1:
 *   per_unit = floor(face x (coupon_bps + step-ups) x months / 120000)
 *   (128-bit intermediate), months = coupon_frequency_months; one holder
 *   line per holding with units > 0, in member id order, amount = per_unit
 *   x units held at this block; total = the sum; co-issuer lines by
 *   esg_split_by_shares (remainder to the lead). PaymentRecord stored under
 *   ESG_T_PAYMENTS/instrument ‖ 0 ‖ COUPON ‖ k (BE32) with every figure;
 *   coupons_recorded = k; the instrument's and every holding's
 *   units_at_last_coupon = their units now (a holding row left with 0
 *   units is deleted).
 * Effect, REDEMPTION (seq 1): per_unit = face value, a holder line per
 *   holding with units > 0 (face x units), co-issuer split as above,
 *   coupon_bps, step_up_bps and months 0; every holding's units become 0
 *   (rows keep units_at_last_coupon, the attribution snapshot);
 *   units_outstanding 0, status MATURED, matured_height.
 */
#ifndef ESG_CONTRACTS_PAYMENTS_H
#define ESG_CONTRACTS_PAYMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/contract.h"

int esg_payment_record(esg_tx_ctx *ctx);

#define ESG_PAYMENT_CONTRACTS [ESG_ACTION_RECORD_PAYMENT] = esg_payment_record,

/* Step-ups (bps) in force for a coupon due on `due_day`: the sum of the
 * step_up_bps of every KPI target whose observation date is before
 * due_day and which is missed -- no report counts for it, or the sum of the
 * counted values of the instrument's reports of that KPI whose period_end
 * falls in the twelve months up to and including the observation date
 * misses the target in the KPI's direction -- evaluated from the state
 * now. Returns 0, ESG_ERR_OVERFLOW, or a storage error. */
int esg_covenant_step_ups(esg_state *st, const esg_pb_instrument_record *ins,
                          int32_t due_day, uint32_t *bps);

/* One KPI target evaluated from the state now: the sum of the counted
 * values of the reports of its KPI whose period_end falls in
 * (observation - 12 months, observation], how many counted, and whether
 * the target is missed (none counted, or the sum is on the wrong side of
 * the target for the KPI's direction). The one statement of the covenant
 * rule: esg_covenant_step_ups and the API both use it. */
typedef struct esg_covenant_eval {
    int32_t observation_day;
    int direction;      /* ESG_KPI_DIRECTION_* */
    int64_t observed;   /* thousandths */
    size_t counted;
    bool missed;
} esg_covenant_eval;
int esg_covenant_evaluate(esg_state *st, const esg_pb_instrument_spec *spec,
                          const esg_pb_kpi_target *target, esg_covenant_eval *out);

#endif
