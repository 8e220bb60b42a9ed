/* Proceeds: allocation of the amount raised to the instrument's projects
 * by the project's city (issue 3, "Proceeds").
 */
#ifndef ESG_CONTRACTS_PROCEEDS_H
#define ESG_CONTRACTS_PROCEEDS_H

#include <stdint.h>

#include "ledger/contract.h"

int esg_proceeds_allocate(esg_tx_ctx *ctx);

#define ESG_PROCEEDS_CONTRACTS [ESG_ACTION_ALLOCATE_PROCEEDS] = esg_proceeds_allocate,

/* Total allocated so far by `city` (any project of that city) and to
 * `project` (NULL: skip), for `instrument`. */
int esg_proceeds_allocated(esg_state *st, const char *instrument, const char *city,
                           const char *project, uint64_t *city_total, uint64_t *project_total);

#endif
