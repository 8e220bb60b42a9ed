/* Proceeds: allocation of the amount raised to the instrument's projects
 * by the project's city (issue 3, "Proceeds").
 *
 * AllocateProceeds{instrument, project_id, amount, date, evidence_sha256}
 * is signed by an OFFICER (ESG_ERR_UNAUTHORIZED) of the project's city and
 * checked in this order:
 *   ESG_ERR_UNKNOWN_INSTRUMENT   no such instrument
 *   ESG_ERR_BAD_STATUS           the instrument is not ACTIVE or MATURED
 *   ESG_ERR_UNKNOWN_PROJECT      project_id is not a project of its spec
 *   ESG_ERR_NOT_PROJECT_CITY     the signer's member is not the project's city
 *   ESG_ERR_BAD_AMOUNT           amount is 0
 *   ESG_ERR_BAD_DATE             date is not a valid YYYY-MM-DD
 *   ESG_ERR_DATE_IN_FUTURE       date after the block's date (the UTC day of
 *                                the block time)
 *   ESG_ERR_DATE_AFTER_MATURITY  date after the maturity date
 *   ESG_ERR_DATE_BEFORE_LOOKBACK date before issue_date minus the spec's
 *                                refinancing look-back (36 months unless
 *                                the spec says otherwise)
 *   ESG_ERR_BAD_HASH             evidence_sha256 is not 32 bytes
 *   ESG_ERR_ALLOCATION_EXCEEDS   the city's allocations (all its projects of
 *                                this instrument) plus amount would pass the
 *                                city's part of amount_raised; the message
 *                                says what remains
 *   ESG_ERR_OVERFLOW             the project's financing in all would pass
 *                                2^64-1 (contracts/projects.h)
 * The city's part is esg_split_by_shares() of amount_raised (the lead
 * co-issuer gets the rounding remainder). Allocating beyond a project's
 * budget is allowed: reports flag it (compare esg_proceeds_allocated's
 * project total with Project.budget).
 *
 * Effect: one AllocationRecord under ESG_T_ALLOCATIONS/instrument ‖ 0x00 ‖
 * tx id (id = the tx id, city = the project's city, height = the block's,
 * refinancing = date before issue_date), its id under ESG_T_ALLOCATION_IDS,
 * and the city's and project's running totals grow.
 *
 * ReverseAllocation{allocation_id, reason}, by an OFFICER of the
 * allocation's city:
 *   ESG_ERR_UNKNOWN_ALLOCATION   no such allocation (or an id not 32 bytes)
 *   ESG_ERR_NOT_PROJECT_CITY     the signer's member is not its city
 *   ESG_ERR_ALLOCATION_REVERSED  already reversed
 *   ESG_ERR_MISSING_REASON       reason empty
 *   ESG_ERR_BAD_TEXT             reason over 500 characters or with a
 *                                control character
 * Effect: the record stays, marked reversed (reason, reversing tx, its
 * height, the block's date); the running totals shrink by its amount, so
 * the city may allocate it again. A reversed allocation never counts
 * again: not in totals, caps, attribution or reports' allocated figures.
 *
 * The query functions read state only; thread rules are the state view's.
 */
#ifndef ESG_CONTRACTS_PROCEEDS_H
#define ESG_CONTRACTS_PROCEEDS_H

#include <stdint.h>

#include "ledger/contract.h"

int esg_proceeds_allocate(esg_tx_ctx *ctx);
int esg_proceeds_reverse(esg_tx_ctx *ctx);

#define ESG_PROCEEDS_CONTRACTS                                \
    [ESG_ACTION_ALLOCATE_PROCEEDS] = esg_proceeds_allocate,   \
    [ESG_ACTION_REVERSE_ALLOCATION] = esg_proceeds_reverse,

/* Loads the allocation with tx id `id` (caller frees): ESG_ERR_NOT_FOUND
 * when there is none. */
int esg_proceeds_get(esg_state *st, const uint8_t id[32], esg_pb_allocation **out);

/* Total allocated, net of reversals, so far by `city` (any project of that city) and to
 * `project` (NULL: skip), for `instrument`. *city_total is required;
 * project_total may be NULL when project is. `city` may be NULL (then
 * *city_total is 0). An instrument without allocations, or an unknown
 * one, gives 0s. Returns 0, ESG_ERR_OVERFLOW (stored amounts that cannot
 * sum: corruption), or a storage error; outputs are 0 on error. */
int esg_proceeds_allocated(esg_state *st, const char *instrument, const char *city,
                           const char *project, uint64_t *city_total, uint64_t *project_total);

/* The part of ins->amount_raised that co-issuer `city` may allocate:
 * esg_split_by_shares(spec, amount_raised)[index of city]. 0 before the
 * offering closes. Returns 0, ESG_ERR_NOT_FOUND when `city` is not a
 * co-issuer (*part is then 0), or ESG_ERR_NOMEM. */
int esg_proceeds_city_part(const esg_pb_instrument_record *ins, const char *city,
                           uint64_t *part);

#endif
