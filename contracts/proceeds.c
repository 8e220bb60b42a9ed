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
#include "contracts/projects.h"
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

/* Takes `amount` off a running total (a reversal). Less than the amount in
 * the total means the rows and the totals disagree: corruption. */
static int total_sub(esg_state *st, const char *instrument, char kind, const char *name,
                     uint64_t amount) {
    uint64_t total;
    int rc = total_get(st, instrument, kind, name, &total);
    if (rc)
        return rc;
    if (amount > total)
        return ESG_ERR_STORE_CORRUPT;
    uint8_t key[2 * ALLOC_PREFIX_MAX + 1];
    size_t klen = total_key(key, instrument, kind, name);
    if (klen == 0)
        return ESG_ERR_INTERNAL;
    esg_pb_allocation_total t = ESG_PB_ALLOCATION_TOTAL_INIT;
    t.amount = total - amount;
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
    esg_pb_project_record *reg = NULL;
    int32_t day, issue, maturity;
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
    /* The registry says whose project it is (an inline spec project was
     * registered with its spec city, or refused). */
    if ((rc = esg_project_get(ctx->st, proj->id, &reg)) != 0) {
        rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
        goto out;
    }
    if (strcmp(reg->city, ctx->signer->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_PROJECT_CITY,
                         "project '%s' belongs to '%s', not '%s'", reg->id, reg->city,
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
    if (esg_date_parse(spec->issue_date, &issue) != 0 ||
        esg_date_parse(spec->maturity_date, &maturity) != 0) {
        rc = ESG_ERR_STORE_CORRUPT; /* IssueInstrument checked both */
        goto out;
    }
    char limit[11];
    int32_t today = esg_block_day(ctx->time_ms);
    int32_t earliest = esg_date_sub_months(issue, esg_instrument_lookback_months(spec));
    if (day > today) {
        esg_date_format(today, limit);
        rc = esg_tx_fail(ctx, ESG_ERR_DATE_IN_FUTURE, "allocation date %s is after the "
                         "block's date %s", ap->date, limit);
        goto out;
    }
    if (day > maturity) {
        rc = esg_tx_fail(ctx, ESG_ERR_DATE_AFTER_MATURITY, "allocation date %s is after "
                         "maturity %s", ap->date, spec->maturity_date);
        goto out;
    }
    if (day < earliest) {
        esg_date_format(earliest, limit);
        rc = esg_tx_fail(ctx, ESG_ERR_DATE_BEFORE_LOOKBACK, "allocation date %s is before %s, "
                         "%u months before the issue date %s (the refinancing look-back)",
                         ap->date, limit, esg_instrument_lookback_months(spec),
                         spec->issue_date);
        goto out;
    }
    if (ap->evidence_sha256.len != 32) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_HASH, "evidence_sha256 must be 32 bytes, got %zu",
                         ap->evidence_sha256.len);
        goto out;
    }
    /* The project's city is a co-issuer (IssueInstrument checks it), so a
     * missing part means a corrupt record. */
    if ((rc = esg_proceeds_city_part(ins, reg->city, &part)) != 0) {
        rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
        goto out;
    }
    if ((rc = esg_proceeds_allocated(ctx->st, spec->id, reg->city, NULL, &allocated,
                                     NULL)) != 0)
        goto out;
    uint64_t remaining = allocated < part ? part - allocated : 0;
    if (ap->amount > remaining) {
        rc = esg_tx_fail(ctx, ESG_ERR_ALLOCATION_EXCEEDS,
                         "'%s' has allocated %llu of its part %llu of the amount raised: "
                         "%llu remains, %llu asked", reg->city,
                         (unsigned long long)allocated, (unsigned long long)part,
                         (unsigned long long)remaining, (unsigned long long)ap->amount);
        goto out;
    }

    if ((rc = esg_project_require_room(ctx, reg, ap->amount)) != 0)
        goto out;
    esg_pb_allocation a = ESG_PB_ALLOCATION_INIT;
    a.id = esg_pb_bin(ctx->tx->id.b, 32);
    a.instrument = spec->id;
    a.project_id = proj->id;
    a.city = reg->city;
    a.amount = ap->amount;
    a.date = ap->date;
    a.evidence_sha256 = ap->evidence_sha256;
    a.height = ctx->height;
    a.refinancing = day < issue;
    esg_pb_allocation_ref ref = ESG_PB_ALLOCATION_REF_INIT;
    ref.instrument = spec->id;
    memcpy(key + plen, ctx->tx->id.b, 32);
    rc = esg_state_put_msg(ctx->st, ESG_T_ALLOCATIONS, key, plen + 32, &a.base);
    if (rc == 0)
        rc = esg_state_put_msg(ctx->st, ESG_T_ALLOCATION_IDS, ctx->tx->id.b, 32, &ref.base);
    if (rc == 0)
        rc = total_add(ctx->st, spec->id, 'c', reg->city, ap->amount);
    if (rc == 0)
        rc = total_add(ctx->st, spec->id, 'p', proj->id, ap->amount);
out:
    esg_pb_free(reg);
    esg_pb_free(ins);
    return rc;
}

int esg_proceeds_get(esg_state *st, const uint8_t id[32], esg_pb_allocation **out) {
    *out = NULL;
    esg_pb_allocation_ref *ref;
    int rc = esg_state_get_msg(st, ESG_T_ALLOCATION_IDS, id, 32, ESG_PB_ALLOCATION_REF_DESC,
                               (ProtobufCMessage **)&ref);
    if (rc)
        return rc;
    uint8_t key[ALLOC_PREFIX_MAX + 32];
    size_t plen = alloc_prefix(key, ref->instrument);
    esg_pb_free(ref);
    if (plen == 0)
        return ESG_ERR_STORE_CORRUPT;
    memcpy(key + plen, id, 32);
    rc = esg_state_get_msg(st, ESG_T_ALLOCATIONS, key, plen + 32, ESG_PB_ALLOCATION_DESC,
                           (ProtobufCMessage **)out);
    return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
}

int esg_proceeds_reverse(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_reverse_allocation *ra = ctx->body->reverse_allocation;
    esg_hash id;
    if (esg_pb_bytes32(&ra->allocation_id, &id) != 0)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_ALLOCATION,
                           "allocation id must be 32 bytes, got %zu", ra->allocation_id.len);
    esg_pb_allocation *a;
    rc = esg_proceeds_get(ctx->st, id.b, &a);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_ALLOCATION, "no allocation '%s'",
                           esg_hash_hex(&id).s);
    if (rc)
        return rc;
    if (strcmp(a->city, ctx->signer->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_PROJECT_CITY, "allocation '%s' is of '%s', not '%s'",
                         esg_hash_hex(&id).s, a->city, ctx->signer->member);
        goto out;
    }
    if (a->reversed) {
        rc = esg_tx_fail(ctx, ESG_ERR_ALLOCATION_REVERSED,
                         "allocation '%s' was reversed at height %llu", esg_hash_hex(&id).s,
                         (unsigned long long)a->reversed_height);
        goto out;
    }
    if (ra->reason[0] == '\0') {
        rc = esg_tx_fail(ctx, ESG_ERR_MISSING_REASON, "reversing an allocation needs a reason");
        goto out;
    }
    if (!esg_rec_text_valid(ra->reason, 500)) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_TEXT,
                         "reason must be up to 500 characters with no control character");
        goto out;
    }
    char today[11];
    esg_date_format(esg_block_day(ctx->time_ms), today);
    esg_pb_allocation copy = *a;
    copy.reversed = true;
    copy.reverse_reason = ra->reason;
    copy.reversed_height = ctx->height;
    copy.reversal_tx = esg_pb_bin(ctx->tx->id.b, 32);
    copy.reversed_date = today;
    uint8_t key[ALLOC_PREFIX_MAX + 32];
    size_t plen = alloc_prefix(key, a->instrument);
    if (plen == 0) {
        rc = ESG_ERR_STORE_CORRUPT;
        goto out;
    }
    memcpy(key + plen, id.b, 32);
    rc = esg_state_put_msg(ctx->st, ESG_T_ALLOCATIONS, key, plen + 32, &copy.base);
    if (rc == 0)
        rc = total_sub(ctx->st, a->instrument, 'c', a->city, a->amount);
    if (rc == 0)
        rc = total_sub(ctx->st, a->instrument, 'p', a->project_id, a->amount);
out:
    esg_pb_free(a);
    return rc;
}
