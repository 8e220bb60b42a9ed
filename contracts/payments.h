/* Payments: coupons (with sustainability-linked step-ups) and redemption,
 * computed by the ledger and recorded by the instrument's paying agent
 * (issue 3, "RecordPayment" and "Sustainability-linked step-up").
 */
#ifndef ESG_CONTRACTS_PAYMENTS_H
#define ESG_CONTRACTS_PAYMENTS_H

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

#endif
