/* Proceeds: AllocateProceeds and the allocation totals.
 *
 * An allocation is one row ESG_T_ALLOCATIONS/instrument ‖ 0 ‖ tx id, so the
 * allocations of an instrument are one prefix scan, in tx id order. Totals
 * are recomputed from the rows each time rather than kept in a counter: an
 * instrument has few allocations, and a sum kept in two places could only
 * ever disagree. */
#include "contracts/proceeds.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/instrument.h"
#include "contracts/records.h"
#include "ledger/error.h"
#include "ledger/genesis.h"

#define MAX_INSTRUMENT_ID 40
#define ALLOC_PREFIX_MAX (MAX_INSTRUMENT_ID + 1)

/* instrument ‖ 0 into prefix (ALLOC_PREFIX_MAX + 32 bytes of room); returns
 * the prefix length, or 0 when no instrument can have that id. */
static size_t alloc_prefix(uint8_t *prefix, const char *instrument) {
    size_t n = strlen(instrument);
    if (n == 0 || n > MAX_INSTRUMENT_ID)
        return 0;
    memcpy(prefix, instrument, n);
    prefix[n] = 0;
    return n + 1;
}

/* The running totals (ESG_T_ALLOCATION_TOTALS): kept per city and per
 * project so that checking a city's cap costs one read, not a scan of
 * every earlier allocation (which made allocations quadratic). */
static size_t total_key(uint8_t *key, const char *instrument, char kind, const char *name) {
    size_t plen = alloc_prefix(key, instrument), n = strlen(name);
    if (plen == 0 || n > MAX_INSTRUMENT_ID)
        return 0;
    key[plen] = (uint8_t)kind;
    memcpy(key + plen + 1, name, n);
    return plen + 1 + n;
}

static int total_get(esg_state *st, const char *instrument, char kind, const char *name,
                     uint64_t *total) {
    uint8_t key[2 * ALLOC_PREFIX_MAX + 1];
    size_t klen = total_key(key, instrument, kind, name);
    *total = 0;
    if (klen == 0)
        return ESG_OK;
    esg_pb_allocation_total *t;
    int rc = esg_state_get_msg(st, ESG_T_ALLOCATION_TOTALS, key, klen,
                               ESG_PB_ALLOCATION_TOTAL_DESC, (ProtobufCMessage **)&t);
    if (rc == ESG_ERR_NOT_FOUND)
        return ESG_OK;
    if (rc)
        return rc;
    *total = t->amount;
    esg_pb_free(t);
    return ESG_OK;
}

static int total_add(esg_state *st, const char *instrument, char kind, const char *name,
                     uint64_t amount) {
    uint64_t total;
    int rc = total_get(st, instrument, kind, name, &total);
    if (rc)
        return rc;
    if (amount > UINT64_MAX - total)
        return ESG_ERR_OVERFLOW;
    uint8_t key[2 * ALLOC_PREFIX_MAX + 1];
    size_t klen = total_key(key, instrument, kind, name);
    if (klen == 0)
        return ESG_ERR_INTERNAL; /* ids were validated at issue */
    esg_pb_allocation_total t = ESG_PB_ALLOCATION_TOTAL_INIT;
    t.amount = total + amount;
    return esg_state_put_msg(st, ESG_T_ALLOCATION_TOTALS, key, klen, &t.base);
}

int esg_proceeds_allocated(esg_state *st, const char *instrument, const char *city,
                           const char *project, uint64_t *city_total,
                           uint64_t *project_total) {
    assert(st && instrument && city_total);
    *city_total = 0;
    if (project_total)
        *project_total = 0;
    int rc = city ? total_get(st, instrument, 'c', city, city_total) : ESG_OK;
    if (rc == 0 && project && project_total)
        rc = total_get(st, instrument, 'p', project, project_total);
    return rc;
}

int esg_proceeds_city_part(const esg_pb_instrument_record *ins, const char *city,
                           uint64_t *part) {
    assert(ins && ins->spec && city && part);
    const esg_pb_instrument_spec *spec = ins->spec;
    *part = 0;
    size_t i = 0;
    while (i < spec->n_co_issuers && strcmp(spec->co_issuers[i]->member, city) != 0)
        i++;
    if (i == spec->n_co_issuers)
        return ESG_ERR_NOT_FOUND;
    uint64_t *parts = calloc(spec->n_co_issuers, sizeof *parts);
    if (!parts)
        return ESG_ERR_NOMEM;
    esg_split_by_shares(spec, ins->amount_raised, parts);
    *part = parts[i];
    free(parts);
    return ESG_OK;
}

/* The project `id` of the spec, or NULL. */
static const esg_pb_project *find_project(const esg_pb_instrument_spec *spec, const char *id) {
    for (size_t i = 0; i < spec->n_projects; i++)
        if (strcmp(spec->projects[i]->id, id) == 0)
            return spec->projects[i];
    return NULL;
}

int esg_proceeds_allocate(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_allocate_proceeds *ap = ctx->body->allocate_proceeds;
    esg_pb_instrument_record *ins = NULL;
    uint8_t key[ALLOC_PREFIX_MAX + 32];
    size_t plen = alloc_prefix(key, ap->instrument);
    rc = plen ? esg_instrument_get(ctx->st, ap->instrument, &ins) : ESG_ERR_UNKNOWN_INSTRUMENT;
    if (rc == ESG_ERR_UNKNOWN_INSTRUMENT || rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_INSTRUMENT, "no instrument '%s'",
                           esg_rec_quote(ap->instrument).s);
    if (rc)
        return rc;
    const esg_pb_instrument_spec *spec = ins->spec;
    const esg_pb_project *proj;
    int32_t day;
    uint64_t part, allocated;
    if (ins->status != ESG_INSTRUMENT_STATUS_ACTIVE &&
        ins->status != ESG_INSTRUMENT_STATUS_MATURED) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_STATUS,
                         "instrument '%s' is not active or matured: proceeds are allocated "
                         "after the offering closes", spec->id);
        goto out;
    }
    if (!(proj = find_project(spec, ap->project_id))) {
        rc = esg_tx_fail(ctx, ESG_ERR_UNKNOWN_PROJECT, "instrument '%s' has no project '%s'",
                         spec->id, esg_rec_quote(ap->project_id).s);
        goto out;
    }
    if (strcmp(proj->city, ctx->signer->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_PROJECT_CITY,
                         "project '%s' belongs to '%s', not '%s'", proj->id, proj->city,
                         ctx->signer->member);
        goto out;
    }
    if (ap->amount == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_AMOUNT, "amount must be positive");
        goto out;
    }
    if (esg_date_parse(ap->date, &day) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_DATE, "date '%s' is not a valid YYYY-MM-DD",
                         esg_rec_quote(ap->date).s);
        goto out;
    }
    if (ap->evidence_sha256.len != 32) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_HASH, "evidence_sha256 must be 32 bytes, got %zu",
                         ap->evidence_sha256.len);
        goto out;
    }
    /* The project's city is a co-issuer (IssueInstrument checks it), so a
     * missing part means a corrupt record. */
    if ((rc = esg_proceeds_city_part(ins, proj->city, &part)) != 0) {
        rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
        goto out;
    }
    if ((rc = esg_proceeds_allocated(ctx->st, spec->id, proj->city, NULL, &allocated,
                                     NULL)) != 0)
        goto out;
    uint64_t remaining = allocated < part ? part - allocated : 0;
    if (ap->amount > remaining) {
        rc = esg_tx_fail(ctx, ESG_ERR_ALLOCATION_EXCEEDS,
                         "'%s' has allocated %llu of its part %llu of the amount raised: "
                         "%llu remains, %llu asked", proj->city,
                         (unsigned long long)allocated, (unsigned long long)part,
                         (unsigned long long)remaining, (unsigned long long)ap->amount);
        goto out;
    }

    esg_pb_allocation a = ESG_PB_ALLOCATION_INIT;
    a.id = esg_pb_bin(ctx->tx->id.b, 32);
    a.instrument = spec->id;
    a.project_id = proj->id;
    a.city = proj->city;
    a.amount = ap->amount;
    a.date = ap->date;
    a.evidence_sha256 = ap->evidence_sha256;
    a.height = ctx->height;
    memcpy(key + plen, ctx->tx->id.b, 32);
    rc = esg_state_put_msg(ctx->st, ESG_T_ALLOCATIONS, key, plen + 32, &a.base);
    if (rc == 0)
        rc = total_add(ctx->st, spec->id, 'c', proj->city, ap->amount);
    if (rc == 0)
        rc = total_add(ctx->st, spec->id, 'p', proj->id, ap->amount);
out:
    esg_pb_free(ins);
    return rc;
}
