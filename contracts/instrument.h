/* Instruments: joint issuance, subscriptions, closing the offering,
 * transfers (issue 3, "Instruments"), and the schedule and split rules
 * that payments and proceeds reuse.
 *
 * Transactions: IssueInstrument (signed by an OFFICER of every co-issuer),
 * Subscribe, CloseOffering, Transfer (ESG_INSTRUMENT_CONTRACTS rows).
 *
 * Lifecycle: IssueInstrument -> OFFERING; Subscribe adds to units_sold;
 * CloseOffering (lead co-issuer) -> ACTIVE with amount_raised = units_sold
 * x face_value and units_outstanding = units_sold; Transfer moves units;
 * RecordPayment (contracts/payments.h) records coupons and, at maturity,
 * the redemption -> MATURED.
 *
 * Holdings (ESG_T_HOLDINGS, key instrument ‖ 0x00 ‖ member, so a prefix
 * scan lists an instrument's holders in member id order). A row holds the
 * member's units now and its units at the last recorded coupon
 * (units_at_last_coupon, the snapshot impact attribution uses after
 * redemption). A row exists while either figure is non-zero: a holder
 * that sold everything keeps a row with units 0 until the next coupon
 * resets its snapshot; the redemption sets every row's units to 0 and keeps
 * the snapshots. Readers that want "holders now" skip rows with units 0.
 *
 * Rules, checked in the order listed (the first failure is the error; a
 * rejection changes nothing). Every action is signed by an OFFICER account
 * (ESG_ERR_UNAUTHORIZED otherwise).
 *
 * IssueInstrument{spec}:
 *   ESG_ERR_BAD_INSTRUMENT_ID   no spec, or id not [A-Z0-9-]{3,40}
 *   ESG_ERR_INSTRUMENT_EXISTS   the id is taken
 *   ESG_ERR_BAD_INSTRUMENT_KIND kind not GREEN_BOND..GREEN_LOAN
 *   ESG_ERR_BAD_NAME            name not 1..200 characters without controls
 *   ESG_ERR_BAD_CURRENCY        currency not three upper-case letters
 *   ESG_ERR_BAD_AMOUNT          face_value or units 0, coupon_bps over
 *                               ESG_MAX_COUPON_BPS
 *   ESG_ERR_OVERFLOW            face_value x units over 64 bits
 *   ESG_ERR_BAD_DATE, ESG_ERR_BAD_FREQUENCY, ESG_ERR_BAD_DATES,
 *   ESG_ERR_MATURITY_OFF_SCHEDULE   as esg_schedule (a term of more than
 *                               ESG_MAX_SCHEDULE dates is ESG_ERR_BAD_DATES)
 *   ESG_ERR_CO_ISSUER_COUNT     not 1..ESG_MAX_CO_ISSUERS co-issuers
 *   then per co-issuer, in order:
 *   ESG_ERR_BAD_MEMBER_ID / ESG_ERR_UNKNOWN_MEMBER   no such member
 *   ESG_ERR_CO_ISSUER_NOT_CITY  not a CITY, or suspended
 *   ESG_ERR_DUPLICATE_CO_ISSUER listed twice
 *   ESG_ERR_BAD_SHARE           share_bps 0
 *   ESG_ERR_SHARES_SUM          shares do not sum to exactly 10000
 *   ESG_ERR_BAD_MEMBER_ID / ESG_ERR_UNKNOWN_MEMBER   no such paying agent
 *   ESG_ERR_NOT_PAYING_AGENT    the agent is not a PAYING_AGENT, or suspended
 *   then per project (contracts/projects.h), in order:
 *   ESG_ERR_BAD_PROJECT         not 1..ESG_MAX_PROJECTS projects
 *   ESG_ERR_BAD_PROJECT_ID      an id not [A-Z0-9-]{3,40}
 *   ESG_ERR_BAD_PROJECT         an id repeated, budget 0; a reference (no
 *                               city, no name) with other fields; an
 *                               inline project whose fields
 *                               esg_project_check refuses (total_cost 0
 *                               stands for the budget)
 *   ESG_ERR_PROJECT_CITY        an inline project's city is not a co-issuer
 *   ESG_ERR_UNKNOWN_PROJECT     a reference to a project not registered
 *   ESG_ERR_PROJECT_CITY        a referenced project's city is not a
 *                               co-issuer
 *   ESG_ERR_PROJECT_MISMATCH    an inline project registered already by
 *                               another city, or a registered project
 *                               costed in another currency
 *   ESG_ERR_BAD_PROJECT         the project is financed by
 *                               ESG_MAX_PROJECT_INSTRUMENTS instruments
 *   ESG_ERR_KPI_TARGETS         an SLB without KPI targets, or another kind
 *                               with some
 *   ESG_ERR_BAD_KPI_TARGET      more than ESG_MAX_KPI_TARGETS
 *   then per target: ESG_ERR_UNKNOWN_KPI (not in the catalogue),
 *   ESG_ERR_BAD_DATE (observation_date malformed), ESG_ERR_BAD_KPI_TARGET
 *   (observation outside [issue, maturity], step_up_bps not
 *   1..ESG_MAX_STEP_UP_BPS, same KPI and observation date twice)
 *   ESG_ERR_BAD_HASH            framework_sha256 or external_review_sha256
 *                               neither empty nor 32 bytes
 *   ESG_ERR_BAD_ISIN            isin neither empty nor a valid ISIN
 *   ESG_ERR_BAD_DATES           refinancing_lookback_months over
 *                               ESG_MAX_LOOKBACK_MONTHS
 *   ESG_ERR_UNAUTHORIZED        the signer's member is not a co-issuer
 *   ESG_ERR_MISSING_COSIGNER    for a co-issuer other than the signer's
 *                               member, no signature of a live OFFICER
 *                               account of it ("no signature of an officer
 *                               of 'city-kavala'"); one such signature per
 *                               co-issuer is claimed, so a second officer
 *                               of the same city, or any other key, makes
 *                               the tx ESG_ERR_UNEXPECTED_SIGNATURE
 *   Effect: InstrumentRecord{spec as signed, OFFERING, issue_tx = tx id,
 *   issued_height}; each inline project not registered yet is registered
 *   (ProjectRecord of its city, in the instrument's currency, total_cost or
 *   else the budget as its cost, register_tx = this tx); the instrument is
 *   appended to every listed project's instruments. A project's city and
 *   descriptive fields are then those of its ProjectRecord.
 * Subscribe{instrument, units}: ESG_ERR_NOT_INVESTOR (the signer's member
 *   is not an INVESTOR), ESG_ERR_UNKNOWN_INSTRUMENT, ESG_ERR_BAD_STATUS (not
 *   OFFERING), ESG_ERR_BAD_UNITS (0), ESG_ERR_INSUFFICIENT_UNITS (more than
 *   spec units - units_sold). Effect: the holding and units_sold grow.
 * CloseOffering{instrument}: ESG_ERR_UNKNOWN_INSTRUMENT,
 *   ESG_ERR_NOT_LEAD_ISSUER (the signer's member is not co_issuers[0]),
 *   ESG_ERR_BAD_STATUS (not OFFERING), ESG_ERR_BAD_UNITS (nothing was
 *   subscribed: a bond without holders is refused). Effect: ACTIVE,
 *   amount_raised = units_sold x face_value, units_outstanding =
 *   units_sold, closed_height; unsold units are cancelled.
 * Transfer{instrument, to_member, units}: ESG_ERR_UNKNOWN_INSTRUMENT,
 *   ESG_ERR_BAD_STATUS (not ACTIVE), ESG_ERR_BAD_UNITS (0),
 *   ESG_ERR_BAD_RECEIVER (the sender itself, not a member, not an INVESTOR,
 *   suspended), ESG_ERR_INSUFFICIENT_HOLDING (more than the signer's member
 *   holds). Effect: units move; snapshots stay with their rows.
 *
 * Dates are days since 1970-01-01 (ledger/genesis.h esg_date_parse).
 * Money is uint64 minor units; every product and sum is checked.
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

/* Limits of a spec (IssueInstrument rejects more). */
#define ESG_MAX_CO_ISSUERS 10
#define ESG_MAX_PROJECTS 100
#define ESG_MAX_KPI_TARGETS 20
#define ESG_MAX_COUPON_BPS 5000   /* 50 % a year */
#define ESG_MAX_STEP_UP_BPS 1000  /* per KPI target */
#define ESG_DEFAULT_LOOKBACK_MONTHS 36
#define ESG_MAX_LOOKBACK_MONTHS 120

/* The refinancing look-back of a spec: refinancing_lookback_months, or
 * ESG_DEFAULT_LOOKBACK_MONTHS when it is 0. */
uint32_t esg_instrument_lookback_months(const esg_pb_instrument_spec *s);

/* The day `months` months after `day`, on the same day of the month, or
 * the month's last day when it is shorter (2024-01-31 + 1 = 2024-02-29).
 * A result outside int32 saturates. */
int32_t esg_date_add_months(int32_t day, uint32_t months);

/* The day `months` months before `day`, clamped the same way
 * (2025-03-31 - 1 = 2025-02-28). A result outside int32 saturates. */
int32_t esg_date_sub_months(int32_t day, uint32_t months);

/* The coupon schedule of a spec: the dates from the issue date (excluded)
 * every coupon_frequency_months months, up to and including maturity,
 * computed as issue + k x frequency (no drift). Writes up to `max` dates to
 * days[] (days may be NULL: count only) and their count to *n. Returns 0,
 * ESG_ERR_BAD_DATE, ESG_ERR_BAD_FREQUENCY, ESG_ERR_BAD_DATES,
 * ESG_ERR_MATURITY_OFF_SCHEDULE (maturity is not one of the dates) or
 * ESG_ERR_TOO_LARGE (more than max). Pure: reads only `spec`. */
int esg_schedule(const esg_pb_instrument_spec *spec, int32_t *days, size_t max, size_t *n);

/* Splits `total` among the co-issuers: part i = floor(total x share_i /
 * 10000), the remainder to the first (lead) co-issuer. parts[] has
 * spec->n_co_issuers entries. The shares must sum to 10000 (a stored
 * spec's do; asserted). */
void esg_split_by_shares(const esg_pb_instrument_spec *spec, uint64_t total, uint64_t *parts);

/* Loads an instrument (caller frees with esg_pb_free).
 * ESG_ERR_UNKNOWN_INSTRUMENT when absent (or `id` is no valid id), else 0
 * or a storage error; *out is NULL on error. */
int esg_instrument_get(esg_state *st, const char *id, esg_pb_instrument_record **out);

/* Writes `rec` under ESG_T_INSTRUMENTS/rec->spec->id. Returns 0 or a
 * storage error. */
int esg_instrument_put(esg_state *st, const esg_pb_instrument_record *rec);

/* Units `member` holds of `instrument` now (0 when none). Returns 0 or a
 * storage error. */
int esg_holding_units(esg_state *st, const char *instrument, const char *member,
                      uint64_t *units);

/* Writes the holding row of `member` in `instrument` with these figures,
 * or deletes it when both are 0. Returns 0 or a storage error. */
int esg_holding_put(esg_state *st, const char *instrument, const char *member,
                    uint64_t units, uint64_t units_at_last_coupon);

/* Every holding row of `instrument` (units 0 included), in member id
 * order. Initialize with ESG_HOLDING_LIST_INIT; esg_holdings_load fills
 * it with decoded records that esg_holdings_release frees (also after an
 * error). Returns 0 or a storage error. */
typedef struct esg_holding_list {
    esg_pb_holding **v;
    size_t n, cap;
} esg_holding_list;

#define ESG_HOLDING_LIST_INIT {NULL, 0, 0}

int esg_holdings_load(esg_state *st, const char *instrument, esg_holding_list *out);
void esg_holdings_release(esg_holding_list *l);

#endif
