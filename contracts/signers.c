/* Who must sign an action besides its signer (contracts/contracts.h). */
#include "contracts/contracts.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"

void esg_contracts_cosigners_free(char **member_ids, size_t n) {
    if (!member_ids)
        return;
    for (size_t i = 0; i < n; i++)
        free(member_ids[i]);
    free(member_ids);
}

/* Appends a copy of `id` to ids[0..*n) unless it is there already: a spec
 * that names a co-issuer twice is the contract's to reject, but it still
 * needs that member's signature only once. */
static int add_unique(char **ids, size_t *n, const char *id) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp(ids[i], id) == 0)
            return 0;
    if (!(ids[*n] = strdup(id)))
        return ESG_ERR_NOMEM;
    (*n)++;
    return 0;
}

int esg_contracts_required_cosigners(const esg_pb_tx_body *body,
                                     char ***member_ids, size_t *n) {
    assert(body && member_ids && n);
    *member_ids = NULL;
    *n = 0;
    if (body->action_case != ESG_ACTION_ISSUE_INSTRUMENT || !body->issue_instrument ||
        !body->issue_instrument->spec || body->issue_instrument->spec->n_co_issuers == 0)
        return 0;
    const esg_pb_instrument_spec *spec = body->issue_instrument->spec;
    char **ids = calloc(spec->n_co_issuers, sizeof *ids);
    if (!ids)
        return ESG_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < spec->n_co_issuers; i++) {
        const char *m = spec->co_issuers[i] ? spec->co_issuers[i]->member : NULL;
        if (!m || !*m)
            continue;
        if (add_unique(ids, &k, m) != 0) {
            esg_contracts_cosigners_free(ids, k);
            return ESG_ERR_NOMEM;
        }
    }
    if (k == 0) {
        free(ids);
        return 0;
    }
    *member_ids = ids;
    *n = k;
    return 0;
}
