#include "contracts/contracts.h"

#include <stddef.h>

#include "contracts/governance.h"
#include "contracts/impact.h"
#include "contracts/instrument.h"
#include "contracts/payments.h"
#include "contracts/proceeds.h"
#include "contracts/projects.h"

/* End-of-block rules, run in this order (part of consensus: append only). */
static int (*const end_block_rules[])(esg_block_ctx *) = {
    esg_gov_end_block,
};

static int end_block(esg_block_ctx *ctx) {
    for (size_t i = 0; i < sizeof end_block_rules / sizeof end_block_rules[0]; i++) {
        int rc = end_block_rules[i](ctx);
        if (rc)
            return rc;
    }
    return 0;
}

static const esg_contract_table table = {
    .apply = {
        ESG_GOVERNANCE_CONTRACTS
        ESG_INSTRUMENT_CONTRACTS ESG_PAYMENT_CONTRACTS
        ESG_IMPACT_CONTRACTS ESG_PROCEEDS_CONTRACTS ESG_PROJECT_CONTRACTS
    },
    .end_block = end_block,
};

const esg_contract_table *esg_contracts(void) {
    return &table;
}
