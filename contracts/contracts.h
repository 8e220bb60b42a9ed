/* The contract registry: the one table of domain rules the block executor
 * runs (ledger/contract.h), assembled from the areas of contracts/ --
 * governance, and later instruments, proceeds, impact.
 *
 * Each area's header exports its rows as a macro of designated
 * initializers (ESG_GOVERNANCE_CONTRACTS: `[ESG_ACTION_PROPOSE] =
 * esg_gov_propose, ...`) and, if it needs one, an end-of-block function.
 * Adding an area is one line in the table and, when it has an end-of-block
 * rule, one line in the list of those (contracts.c). End-of-block rules run
 * in that list's fixed order, which is part of the chain's rules: never
 * reorder it.
 *
 * The table is static, immutable and shared: any thread may use it.
 */
#ifndef ESG_CONTRACTS_H
#define ESG_CONTRACTS_H

#include "ledger/contract.h"

/* The contract table of this version of esgledger. Static storage; never
 * NULL. */
const esg_contract_table *esg_contracts(void);

/* The co-signers an action requires besides its signer (docs/WIRE.md §4):
 * the ids of the members an OFFICER of which must also sign `body`. For
 * IssueInstrument, every co-issuer of spec->co_issuers, in spec order, each
 * once; for every other action, none. The signer's own signature counts
 * for the member it is an officer of. This is the one statement of "who
 * must sign" that clients (the wallet's `tx inspect`) and the contracts
 * share; it does not look at the state, so it says nothing about which
 * keys are the officers.
 * On success *member_ids is a new array of *n new strings (NULL and 0 when
 * none), freed with esg_contracts_cosigners_free. Returns 0 or
 * ESG_ERR_NOMEM (*member_ids NULL, *n 0). */
int esg_contracts_required_cosigners(const esg_pb_tx_body *body,
                                     char ***member_ids, size_t *n);

/* Frees a list from esg_contracts_required_cosigners (NULL is allowed). */
void esg_contracts_cosigners_free(char **member_ids, size_t n);

#endif
