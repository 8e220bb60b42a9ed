/* Projects: first-class records of their city, the money that finances
 * them from outside the ledger's instruments, and the cost basis on which
 * impact is attributed by share financed (issue 9).
 *
 * A project (ESG_T_PROJECTS/id -> ProjectRecord) belongs to one city and
 * has a total cost in one currency. It is registered by RegisterProject or
 * by the first IssueInstrument whose spec defines it inline; several
 * instruments may then finance it (ProjectRecord.instruments lists them in
 * issuance order) and external funding (RecordFunding: EU, national,
 * regional, municipal, private or other money) may be recorded against it.
 *
 * Transactions, each signed by an OFFICER (ESG_ERR_UNAUTHORIZED), checked
 * in the order listed; a rejection changes nothing:
 *
 * RegisterProject{id, city, name, eu_objectives, taxonomy_activity, nace,
 * sdgs, total_cost, currency, location}:
 *   ESG_ERR_BAD_PROJECT_ID    id not [A-Z0-9-]{3,40}
 *   ESG_ERR_PROJECT_EXISTS    the id is registered (by any city)
 *   ESG_ERR_NOT_PROJECT_CITY  city is not the signer's member
 *   ESG_ERR_UNAUTHORIZED      the signer's member is not a CITY
 *   ESG_ERR_BAD_PROJECT       the fields (esg_project_check below)
 *   ESG_ERR_BAD_CURRENCY      currency not three upper-case letters
 *   Effect: ProjectRecord with eu_objectives and sdgs sorted.
 * UpdateProject{id, total_cost, reason}:
 *   ESG_ERR_UNKNOWN_PROJECT   no such project
 *   ESG_ERR_NOT_PROJECT_CITY  the signer's member is not its city
 *   ESG_ERR_BAD_AMOUNT        total_cost 0
 *   ESG_ERR_MISSING_REASON, ESG_ERR_BAD_TEXT   reason empty, over 500
 *                             characters or with a control character
 *   Effect: total_cost replaced; a CostChange appended to cost_history.
 * RecordFunding{project, source, programme, amount, date, evidence_sha256}:
 *   ESG_ERR_UNKNOWN_PROJECT, ESG_ERR_NOT_PROJECT_CITY   as above
 *   ESG_ERR_BAD_FUNDING_SOURCE  source not EU..OTHER
 *   ESG_ERR_BAD_TEXT          programme not 1..200 characters without
 *                             control characters
 *   ESG_ERR_BAD_AMOUNT        amount 0
 *   ESG_ERR_BAD_DATE          date not YYYY-MM-DD
 *   ESG_ERR_DATE_IN_FUTURE    date after the block's date (the UTC day of
 *                             the block time)
 *   ESG_ERR_BAD_HASH          evidence_sha256 not 32 bytes
 *   ESG_ERR_OVERFLOW          the project's financing in all (live
 *                             allocations of every instrument plus live
 *                             external funding) would pass 2^64-1
 *   Effect: FundingRecord (id = tx id) and ESG_T_PROJECT_FUNDINGS row.
 * ReverseFunding{funding_id, reason}:
 *   ESG_ERR_UNKNOWN_FUNDING   no such funding (or an id not 32 bytes)
 *   ESG_ERR_NOT_PROJECT_CITY  the signer's member is not the funding's city
 *   ESG_ERR_FUNDING_REVERSED  already reversed
 *   ESG_ERR_MISSING_REASON, ESG_ERR_BAD_TEXT
 *   Effect: the record is kept, marked reversed with the reason, the
 *   reversing tx, its height and the block's date.
 *
 * Cost basis (exact, integers): for project p and a cut-off day T,
 *   A(i,p) = amounts of the live (not reversed) allocations of instrument i
 *            to p dated on or before T;
 *   E(p)   = amounts of the live fundings of p dated on or before T;
 *   D(p)   = max(total_cost(p), sum_i A(i,p) + E(p)).
 * An instrument's share of p is A(i,p)/D(p), the external share E(p)/D(p);
 * impact attributed to a funder is floor(C x part / D) (impact.h), so the
 * parts attributed never sum past C. A reversed allocation or funding is
 * a correction of a mistake, so it never counts, whatever its dates.
 *
 * Thread rules: those of the state view passed in.
 */
#ifndef ESG_CONTRACTS_PROJECTS_H
#define ESG_CONTRACTS_PROJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/contract.h"

int esg_project_register(esg_tx_ctx *ctx);
int esg_project_update(esg_tx_ctx *ctx);
int esg_project_fund(esg_tx_ctx *ctx);
int esg_project_unfund(esg_tx_ctx *ctx);

#define ESG_PROJECT_CONTRACTS                                 \
    [ESG_ACTION_REGISTER_PROJECT] = esg_project_register,     \
    [ESG_ACTION_UPDATE_PROJECT] = esg_project_update,         \
    [ESG_ACTION_RECORD_FUNDING] = esg_project_fund,           \
    [ESG_ACTION_REVERSE_FUNDING] = esg_project_unfund,

#define ESG_MAX_PROJECT_OBJECTIVES 6
#define ESG_MAX_PROJECT_INSTRUMENTS 100 /* instruments financing one project */

/* The descriptive fields of a project, as RegisterProject and an inline
 * spec project both carry them (pointers borrowed). */
typedef struct esg_project_fields {
    const char *id, *name, *taxonomy_activity, *nace, *location;
    const int *objectives; /* EuObjective values */
    size_t n_objectives;
    const uint32_t *sdgs;
    size_t n_sdgs;
    uint64_t total_cost;
} esg_project_fields;

/* Checks the fields (ESG_ERR_BAD_PROJECT with a message naming the field):
 * name 1..200 characters without controls; 1..6 EU objectives, each
 * CCM..BIO, none twice; taxonomy_activity "" or esg_taxonomy_activity_valid;
 * nace "" or esg_nace_valid; at most 17 SDGs, each 1..17, none twice;
 * total_cost > 0; location "" or up to 200 characters without controls.
 * The id is not checked here. */
int esg_project_check(esg_tx_ctx *ctx, const esg_project_fields *f);

/* Loads project `id` (caller frees); ESG_ERR_NOT_FOUND when there is none
 * or the id is not a valid project id. */
int esg_project_get(esg_state *st, const char *id, esg_pb_project_record **out);

/* Writes `rec` under ESG_T_PROJECTS/rec->id. */
int esg_project_put(esg_state *st, const esg_pb_project_record *rec);

/* Registers project `f` of `city` in `currency` as the transaction ctx
 * does it (register_tx = the tx id). The caller has checked that the id
 * is free, the fields (esg_project_check) and the city. */
int esg_project_create(esg_tx_ctx *ctx, const esg_project_fields *f, const char *city,
                       const char *currency);

/* Appends `instrument` to project `id`'s instruments (no-op when listed).
 * ESG_ERR_STORE_CORRUPT when the project is missing. */
int esg_project_link_instrument(esg_state *st, const char *id, const char *instrument);

/* What finances a project up to a cut-off day (the formulas above). */
typedef struct esg_project_financing {
    uint64_t total_cost;
    uint64_t external;           /* E(p) */
    uint64_t by_source[7];       /* E(p) per FundingSource value */
    uint64_t allocated;          /* sum_i A(i,p) */
    uint64_t basis;              /* D(p) */
    size_t n;                    /* instruments, in the record's order */
    char **instrument;           /* borrowed from the project record */
    uint64_t *amount;            /* A(i,p) per instrument */
} esg_project_financing;

/* Fills *out for project `p` with allocations and fundings dated on or
 * before `until_day` (INT32_MAX: all). Release with
 * esg_project_financing_release (also after an error). The instrument
 * names point into `p`, which must outlive *out. Returns 0,
 * ESG_ERR_OVERFLOW (sums past 2^64-1), ESG_ERR_NOMEM or a storage error. */
int esg_project_financing_get(esg_state *st, const esg_pb_project_record *p,
                              int32_t until_day, esg_project_financing *out);
void esg_project_financing_release(esg_project_financing *f);

/* Requires that `amount` more financing of project p keeps its
 * financing in all (sum_i A(i,p) + E(p), all dates) within 2^64-1:
 * ESG_ERR_OVERFLOW with a message otherwise. RecordFunding and
 * AllocateProceeds check it, so D(p) can always be computed. */
int esg_project_require_room(esg_tx_ctx *ctx, const esg_pb_project_record *p,
                             uint64_t amount);

/* A(i,p) of `instrument` in *f, 0 when it does not finance the project. */
uint64_t esg_project_financing_of(const esg_project_financing *f, const char *instrument);

/* floor(value x part / basis) in 128 bits; 0 when basis is 0. Requires
 * value >= 0 and part <= basis (so the result is <= value). */
int64_t esg_project_share_of(int64_t value, uint64_t part, uint64_t basis);

/* The UTC day (days since 1970-01-01) of block time `time_ms`. */
int32_t esg_block_day(uint64_t time_ms);

#endif
