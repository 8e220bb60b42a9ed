/* Instruments: joint issuance, subscriptions, closing the offering,
 * transfers (issue 3, "Instruments"), and the schedule and split rules
 * that payments and proceeds reuse.
 *
 * Transactions: IssueInstrument (signed by an OFFICER of every co-issuer),
 * Subscribe, CloseOffering, Transfer (ESG_INSTRUMENT_CONTRACTS rows).
 *
 * Dates are days since 1970-01-01 (ledger/genesis.h esg_date_parse).
 */
#ifndef ESG_CONTRACTS_INSTRUMENT_H
#define ESG_CONTRACTS_INSTRUMENT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/contract.h"

int esg_instrument_issue(esg_tx_ctx *ctx);
int esg_instrument_subscribe(esg_tx_ctx *ctx);
int esg_instrument_close(esg_tx_ctx *ctx);
int esg_instrument_transfer(esg_tx_ctx *ctx);

#define ESG_INSTRUMENT_CONTRACTS                                 \
    [ESG_ACTION_ISSUE_INSTRUMENT] = esg_instrument_issue,        \
    [ESG_ACTION_SUBSCRIBE] = esg_instrument_subscribe,           \
    [ESG_ACTION_CLOSE_OFFERING] = esg_instrument_close,          \
    [ESG_ACTION_TRANSFER] = esg_instrument_transfer,

#define ESG_MAX_SCHEDULE 1200 /* 100 years of monthly coupons */

/* The day `months` months after `day`, on the same day of the month, or
 * the month's last day when it is shorter (2024-01-31 + 1 = 2024-02-29). */
int32_t esg_date_add_months(int32_t day, uint32_t months);

/* The coupon schedule of a spec: the dates from the issue date (excluded)
 * every coupon_frequency_months months, up to and including maturity,
 * computed as issue + k x frequency (no drift). Writes up to `max` dates to
 * days[] and their count to *n. Returns 0, ESG_ERR_BAD_DATE,
 * ESG_ERR_BAD_FREQUENCY, ESG_ERR_BAD_DATES, ESG_ERR_MATURITY_OFF_SCHEDULE
 * (maturity is not one of the dates) or ESG_ERR_TOO_LARGE (more than max). */
int esg_schedule(const esg_pb_instrument_spec *spec, int32_t *days, size_t max, size_t *n);

/* Splits `total` among the co-issuers: part i = floor(total x share_i /
 * 10000), the remainder to the first (lead) co-issuer. parts[] has
 * spec->n_co_issuers entries. */
void esg_split_by_shares(const esg_pb_instrument_spec *spec, uint64_t total, uint64_t *parts);

/* Loads an instrument (caller frees with esg_pb_free).
 * ESG_ERR_UNKNOWN_INSTRUMENT when absent. */
int esg_instrument_get(esg_state *st, const char *id, esg_pb_instrument_record **out);

/* Units `member` holds of `instrument` (0 when none). */
int esg_holding_units(esg_state *st, const char *instrument, const char *member,
                      uint64_t *units);

#endif
