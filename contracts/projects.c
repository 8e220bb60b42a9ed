/* Projects: RegisterProject, UpdateProject, RecordFunding, ReverseFunding,
 * and the cost basis D(p) that attribution divides by.
 *
 * Layout: a project is one record keyed by its id; a funding is one record
 * keyed by its tx id, with an index row project ‖ 0 ‖ funding id so that a
 * project's fundings are one prefix scan. Nothing keeps running totals of
 * funding or attribution: reversals and dates decide what counts, and a
 * project has few fundings and few instruments, so the sums are computed
 * from the records when asked -- the same way on every node and in every
 * auditor's replay. */
#include "contracts/projects.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/records.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"

#define MAX_ID 40
#define MAX_SDG 17
#define MAX_REASON_CHARS 500
#define MAX_LOCATION_CHARS 200
#define DAY_MS 86400000ULL

int32_t esg_block_day(uint64_t time_ms) {
    uint64_t d = time_ms / DAY_MS;
    return d > INT32_MAX ? INT32_MAX : (int32_t)d;
}

int64_t esg_project_share_of(int64_t value, uint64_t part, uint64_t basis) {
    assert(value >= 0 && part <= basis);
    if (basis == 0 || value <= 0)
        return 0;
    /* value x part < 2^63 x 2^64 fits 128 bits; the quotient is <= value. */
    unsigned __int128 q = (unsigned __int128)(uint64_t)value * part / basis;
    return (int64_t)q;
}

/* ------------------------------------------------------------ records */

int esg_project_get(esg_state *st, const char *id, esg_pb_project_record **out) {
    *out = NULL;
    if (!esg_project_id_valid(id))
        return ESG_ERR_NOT_FOUND;
    return esg_state_get_msg(st, ESG_T_PROJECTS, id, strlen(id), ESG_PB_PROJECT_RECORD_DESC,
                             (ProtobufCMessage **)out);
}

int esg_project_put(esg_state *st, const esg_pb_project_record *rec) {
    assert(esg_project_id_valid(rec->id));
    return esg_state_put_msg(st, ESG_T_PROJECTS, rec->id, strlen(rec->id), &rec->base);
}

static int funding_get(esg_state *st, const uint8_t id[32], esg_pb_funding **out) {
    *out = NULL;
    return esg_state_get_msg(st, ESG_T_FUNDINGS, id, 32, ESG_PB_FUNDING_DESC,
                             (ProtobufCMessage **)out);
}

/* project ‖ 0 into prefix (MAX_ID + 1 bytes); 0 for an invalid id. */
static size_t project_prefix(uint8_t *prefix, const char *project) {
    if (!esg_project_id_valid(project))
        return 0;
    size_t n = strlen(project);
    memcpy(prefix, project, n);
    prefix[n] = 0;
    return n + 1;
}

/* ------------------------------------------------------------- checks */

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int esg_project_check(esg_tx_ctx *ctx, const esg_project_fields *f) {
    const char *id = f->id ? f->id : "";
    if (!esg_name_valid(f->name))
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "name of project '%s' must be 1..200 "
                           "characters with no control character", id);
    if (f->n_objectives < 1 || f->n_objectives > ESG_MAX_PROJECT_OBJECTIVES)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s' names %zu EU objectives, "
                           "need 1 to 6", id, f->n_objectives);
    for (size_t i = 0; i < f->n_objectives; i++) {
        int o = f->objectives[i];
        if (o < ESG_EU_OBJECTIVE_CCM || o > ESG_EU_OBJECTIVE_BIO)
            return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s': EU objective %d is "
                               "not CCM, CCA, WTR, CE, PPC or BIO", id, o);
        for (size_t j = 0; j < i; j++)
            if (f->objectives[j] == o)
                return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s': EU objective %d "
                                   "is listed twice", id, o);
    }
    if (f->taxonomy_activity[0] && !esg_taxonomy_activity_valid(f->taxonomy_activity))
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s': taxonomy activity '%s' is "
                           "not an EU Taxonomy activity number such as \"7.2\"", id,
                           esg_rec_quote(f->taxonomy_activity).s);
    if (f->nace[0] && !esg_nace_valid(f->nace))
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s': NACE code '%s' is not a "
                           "section letter with an optional division, group and class, such "
                           "as \"F41.2\"", id, esg_rec_quote(f->nace).s);
    if (f->n_sdgs > MAX_SDG)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s' lists %zu SDGs, at most 17",
                           id, f->n_sdgs);
    for (size_t j = 0; j < f->n_sdgs; j++) {
        if (f->sdgs[j] < 1 || f->sdgs[j] > MAX_SDG)
            return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s': SDG %u is not 1..17",
                               id, f->sdgs[j]);
        for (size_t k = 0; k < j; k++)
            if (f->sdgs[k] == f->sdgs[j])
                return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "project '%s': SDG %u is listed "
                                   "twice", id, f->sdgs[j]);
    }
    if (f->total_cost == 0)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "total cost of project '%s' must be "
                           "positive", id);
    if (f->location[0] && !esg_rec_text_valid(f->location, MAX_LOCATION_CHARS))
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT, "location of project '%s' must be up to "
                           "200 characters with no control character", id);
    return ESG_OK;
}

static bool currency_valid(const char *c) {
    return strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' &&
           c[2] >= 'A' && c[2] <= 'Z';
}

/* Loads the project a transaction names, and requires that the signer's
 * member is its city. */
static int require_own_project(esg_tx_ctx *ctx, const char *id, esg_pb_project_record **out) {
    int rc = esg_project_get(ctx->st, id, out);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_PROJECT, "no project '%s' is registered",
                           esg_rec_quote(id).s);
    if (rc)
        return rc;
    if (strcmp((*out)->city, ctx->signer->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_PROJECT_CITY, "project '%s' belongs to '%s', not '%s'",
                         (*out)->id, (*out)->city, ctx->signer->member);
        esg_pb_free(*out);
        *out = NULL;
    }
    return rc;
}

static int reason_check(esg_tx_ctx *ctx, const char *reason, const char *what) {
    if (reason[0] == '\0')
        return esg_tx_fail(ctx, ESG_ERR_MISSING_REASON, "%s needs a reason", what);
    if (!esg_rec_text_valid(reason, MAX_REASON_CHARS))
        return esg_tx_fail(ctx, ESG_ERR_BAD_TEXT,
                           "reason must be up to 500 characters with no control character");
    return ESG_OK;
}

/* ------------------------------------------------------------- actions */

int esg_project_create(esg_tx_ctx *ctx, const esg_project_fields *f, const char *city,
                       const char *currency) {
    int *obj = malloc(f->n_objectives * sizeof *obj);
    uint32_t *sdgs = malloc((f->n_sdgs ? f->n_sdgs : 1) * sizeof *sdgs);
    int rc = ESG_ERR_NOMEM;
    if (obj && sdgs) {
        memcpy(obj, f->objectives, f->n_objectives * sizeof *obj);
        if (f->n_sdgs)
            memcpy(sdgs, f->sdgs, f->n_sdgs * sizeof *sdgs);
        qsort(obj, f->n_objectives, sizeof *obj, cmp_int);
        qsort(sdgs, f->n_sdgs, sizeof *sdgs, cmp_u32);
        esg_pb_project_record rec = ESG_PB_PROJECT_RECORD_INIT;
        rec.id = (char *)(uintptr_t)f->id;
        rec.city = (char *)(uintptr_t)city;
        rec.name = (char *)(uintptr_t)f->name;
        rec.eu_objectives = (esg_pb_eu_objective *)obj;
        rec.n_eu_objectives = f->n_objectives;
        rec.taxonomy_activity = (char *)(uintptr_t)f->taxonomy_activity;
        rec.nace = (char *)(uintptr_t)f->nace;
        rec.sdgs = sdgs;
        rec.n_sdgs = f->n_sdgs;
        rec.total_cost = f->total_cost;
        rec.currency = (char *)(uintptr_t)currency;
        rec.location = (char *)(uintptr_t)f->location;
        rec.register_tx = esg_pb_bin(ctx->tx->id.b, 32);
        rec.registered_height = ctx->height;
        rc = esg_project_put(ctx->st, &rec);
    }
    free(obj);
    free(sdgs);
    return rc;
}

int esg_project_link_instrument(esg_state *st, const char *id, const char *instrument) {
    esg_pb_project_record *p;
    int rc = esg_project_get(st, id, &p);
    if (rc)
        return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
    if (esg_str_in(instrument, p->instruments, p->n_instruments)) {
        esg_pb_free(p);
        return ESG_OK;
    }
    char **v = malloc((p->n_instruments + 1) * sizeof *v);
    if (!v) {
        esg_pb_free(p);
        return ESG_ERR_NOMEM;
    }
    if (p->n_instruments)
        memcpy(v, p->instruments, p->n_instruments * sizeof *v);
    v[p->n_instruments] = (char *)(uintptr_t)instrument;
    esg_pb_project_record copy = *p;
    copy.instruments = v;
    copy.n_instruments = p->n_instruments + 1;
    rc = esg_project_put(st, &copy);
    free(v);
    esg_pb_free(p);
    return rc;
}

int esg_project_register(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_register_project *rp = ctx->body->register_project;
    if (!esg_project_id_valid(rp->id))
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROJECT_ID, "project id '%s' must match "
                           "[A-Z0-9-]{3,40}", esg_rec_quote(rp->id).s);
    esg_pb_project_record *old;
    rc = esg_project_get(ctx->st, rp->id, &old);
    if (rc == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_PROJECT_EXISTS, "project '%s' is already registered by "
                         "'%s'", old->id, old->city);
        esg_pb_free(old);
        return rc;
    }
    if (rc != ESG_ERR_NOT_FOUND)
        return rc;
    if (strcmp(rp->city, ctx->signer->member) != 0)
        return esg_tx_fail(ctx, ESG_ERR_NOT_PROJECT_CITY, "an officer of '%s' cannot register "
                           "a project of '%s'", ctx->signer->member, esg_rec_quote(rp->city).s);
    if ((rc = esg_rec_require_kind(ctx, ESG_MEMBER_CITY, NULL)) != 0)
        return rc;
    esg_project_fields f = {
        .id = rp->id, .name = rp->name, .taxonomy_activity = rp->taxonomy_activity,
        .nace = rp->nace, .location = rp->location, .objectives = (const int *)rp->eu_objectives,
        .n_objectives = rp->n_eu_objectives, .sdgs = rp->sdgs, .n_sdgs = rp->n_sdgs,
        .total_cost = rp->total_cost};
    if ((rc = esg_project_check(ctx, &f)) != 0)
        return rc;
    if (!currency_valid(rp->currency))
        return esg_tx_fail(ctx, ESG_ERR_BAD_CURRENCY, "currency '%s' is not three upper-case "
                           "letters (ISO 4217)", esg_rec_quote(rp->currency).s);
    return esg_project_create(ctx, &f, rp->city, rp->currency);
}

int esg_project_update(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_update_project *up = ctx->body->update_project;
    esg_pb_project_record *p;
    if ((rc = require_own_project(ctx, up->id, &p)) != 0)
        return rc;
    esg_pb_cost_change **hist = NULL;
    if (up->total_cost == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_AMOUNT, "total cost must be positive");
        goto out;
    }
    if ((rc = reason_check(ctx, up->reason, "changing a project's cost")) != 0)
        goto out;
    if (!(hist = malloc((p->n_cost_history + 1) * sizeof *hist))) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    esg_pb_cost_change change = ESG_PB_COST_CHANGE_INIT;
    change.previous = p->total_cost;
    change.total_cost = up->total_cost;
    change.reason = up->reason;
    change.tx_id = esg_pb_bin(ctx->tx->id.b, 32);
    change.height = ctx->height;
    if (p->n_cost_history)
        memcpy(hist, p->cost_history, p->n_cost_history * sizeof *hist);
    hist[p->n_cost_history] = &change;
    esg_pb_project_record copy = *p;
    copy.total_cost = up->total_cost;
    copy.cost_history = hist;
    copy.n_cost_history = p->n_cost_history + 1;
    rc = esg_project_put(ctx->st, &copy);
out:
    free(hist);
    esg_pb_free(p);
    return rc;
}

/* Net external funding of project `p` dated on or before until_day, and
 * per source (by_source may be NULL). */
static int external_sum(esg_state *st, const char *project, int32_t until_day, uint64_t *sum,
                        uint64_t by_source[7]) {
    uint8_t prefix[MAX_ID + 1];
    size_t plen = project_prefix(prefix, project);
    *sum = 0;
    if (plen == 0)
        return ESG_OK;
    esg_rec_tail32 ids = {0};
    int rc = esg_state_iter(st, ESG_T_PROJECT_FUNDINGS, prefix, plen, esg_rec_collect_tail32,
                            &ids);
    uint64_t total = 0;
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        esg_pb_funding *f;
        int32_t day;
        if ((rc = funding_get(st, ids.v[i].b, &f)) != 0) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            break;
        }
        if (esg_date_parse(f->date, &day) != 0 || f->source < 1 || f->source > 6)
            rc = ESG_ERR_STORE_CORRUPT;
        else if (!f->reversed && day <= until_day) {
            if (f->amount > UINT64_MAX - total)
                rc = ESG_ERR_OVERFLOW;
            else {
                total += f->amount;
                if (by_source)
                    by_source[f->source] += f->amount; /* <= total */
            }
        }
        esg_pb_free(f);
    }
    free(ids.v);
    if (rc == 0)
        *sum = total;
    return rc;
}

int esg_project_fund(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_record_funding *rf = ctx->body->record_funding;
    esg_pb_project_record *p;
    if ((rc = require_own_project(ctx, rf->project, &p)) != 0)
        return rc;
    int32_t day;
    if (rf->source < ESG_FUNDING_SOURCE_EU || rf->source > ESG_FUNDING_SOURCE_OTHER) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_FUNDING_SOURCE, "funding source %d is not EU, "
                         "NATIONAL, REGIONAL, MUNICIPAL, PRIVATE or OTHER", (int)rf->source);
        goto out;
    }
    if (!esg_name_valid(rf->programme)) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_TEXT, "programme must be 1..200 characters with no "
                         "control character (e.g. \"ERDF 2021-2027\")");
        goto out;
    }
    if (rf->amount == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_AMOUNT, "amount must be positive");
        goto out;
    }
    if (esg_date_parse(rf->date, &day) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_DATE, "date '%s' is not a valid YYYY-MM-DD",
                         esg_rec_quote(rf->date).s);
        goto out;
    }
    if (day > esg_block_day(ctx->time_ms)) {
        char today[11];
        esg_date_format(esg_block_day(ctx->time_ms), today);
        rc = esg_tx_fail(ctx, ESG_ERR_DATE_IN_FUTURE, "funding date %s is after the block's "
                         "date %s", rf->date, today);
        goto out;
    }
    if (rf->evidence_sha256.len != 32) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_HASH, "evidence_sha256 must be 32 bytes, got %zu",
                         rf->evidence_sha256.len);
        goto out;
    }
    if ((rc = esg_project_require_room(ctx, p, rf->amount)) != 0)
        goto out;
    esg_pb_funding f = ESG_PB_FUNDING_INIT;
    f.id = esg_pb_bin(ctx->tx->id.b, 32);
    f.project = p->id;
    f.city = p->city;
    f.source = rf->source;
    f.programme = rf->programme;
    f.amount = rf->amount;
    f.date = rf->date;
    f.evidence_sha256 = rf->evidence_sha256;
    f.height = ctx->height;
    uint8_t key[MAX_ID + 1 + 32];
    size_t plen = project_prefix(key, p->id);
    memcpy(key + plen, ctx->tx->id.b, 32);
    if ((rc = esg_state_put_msg(ctx->st, ESG_T_FUNDINGS, ctx->tx->id.b, 32, &f.base)) == 0)
        rc = esg_state_put(ctx->st, ESG_T_PROJECT_FUNDINGS, key, plen + 32, "", 0);
out:
    esg_pb_free(p);
    return rc;
}

int esg_project_unfund(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_reverse_funding *rv = ctx->body->reverse_funding;
    esg_hash id;
    if (esg_pb_bytes32(&rv->funding_id, &id) != 0)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_FUNDING, "funding id must be 32 bytes, got %zu",
                           rv->funding_id.len);
    esg_pb_funding *f;
    rc = funding_get(ctx->st, id.b, &f);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_FUNDING, "no funding '%s'", esg_hash_hex(&id).s);
    if (rc)
        return rc;
    if (strcmp(f->city, ctx->signer->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_PROJECT_CITY, "funding '%s' is of '%s', not '%s'",
                         esg_hash_hex(&id).s, f->city, ctx->signer->member);
        goto out;
    }
    if (f->reversed) {
        rc = esg_tx_fail(ctx, ESG_ERR_FUNDING_REVERSED, "funding '%s' was reversed at height "
                         "%llu", esg_hash_hex(&id).s, (unsigned long long)f->reversed_height);
        goto out;
    }
    if ((rc = reason_check(ctx, rv->reason, "reversing a funding")) != 0)
        goto out;
    char today[11];
    esg_date_format(esg_block_day(ctx->time_ms), today);
    esg_pb_funding copy = *f;
    copy.reversed = true;
    copy.reverse_reason = rv->reason;
    copy.reversed_height = ctx->height;
    copy.reversal_tx = esg_pb_bin(ctx->tx->id.b, 32);
    copy.reversed_date = today;
    rc = esg_state_put_msg(ctx->st, ESG_T_FUNDINGS, id.b, 32, &copy.base);
out:
    esg_pb_free(f);
    return rc;
}

/* ------------------------------------------------------------ financing */

void esg_project_financing_release(esg_project_financing *f) {
    free(f->amount);
    free(f->instrument);
    memset(f, 0, sizeof *f);
}

uint64_t esg_project_financing_of(const esg_project_financing *f, const char *instrument) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->instrument[i], instrument) == 0)
            return f->amount[i];
    return 0;
}

/* Live allocations of `instrument` to `project` dated on or before
 * until_day, summed into *sum. */
static int allocated_to(esg_state *st, const char *instrument, const char *project,
                        int32_t until_day, uint64_t *sum) {
    uint8_t prefix[MAX_ID + 1];
    size_t n = strlen(instrument);
    *sum = 0;
    if (n == 0 || n > MAX_ID)
        return ESG_ERR_STORE_CORRUPT; /* the project record names only real instruments */
    memcpy(prefix, instrument, n);
    prefix[n] = 0;
    esg_rec_msgs rows = {0};
    int rc = esg_rec_load_rows(st, ESG_T_ALLOCATIONS, prefix, n + 1, ESG_PB_ALLOCATION_DESC,
                               &rows);
    uint64_t total = 0;
    for (size_t i = 0; rc == 0 && i < rows.n; i++) {
        const esg_pb_allocation *a = rows.v[i];
        int32_t day;
        if (strcmp(a->project_id, project) != 0 || a->reversed)
            continue;
        if (esg_date_parse(a->date, &day) != 0)
            rc = ESG_ERR_STORE_CORRUPT;
        else if (day <= until_day) {
            if (a->amount > UINT64_MAX - total)
                rc = ESG_ERR_OVERFLOW;
            else
                total += a->amount;
        }
    }
    esg_rec_msgs_free(&rows);
    if (rc == 0)
        *sum = total;
    return rc;
}

int esg_project_require_room(esg_tx_ctx *ctx, const esg_pb_project_record *p,
                             uint64_t amount) {
    esg_project_financing fin;
    int rc = esg_project_financing_get(ctx->st, p, INT32_MAX, &fin);
    uint64_t sum = fin.allocated + fin.external; /* checked by financing_get */
    esg_project_financing_release(&fin);
    if (rc == ESG_ERR_OVERFLOW)
        rc = ESG_ERR_STORE_CORRUPT; /* every amount recorded passed this check */
    if (rc == 0 && amount > UINT64_MAX - sum)
        rc = esg_tx_fail(ctx, ESG_ERR_OVERFLOW, "project '%s' would be financed by more than "
                         "2^64-1 minor units in all", p->id);
    return rc;
}

int esg_project_financing_get(esg_state *st, const esg_pb_project_record *p,
                              int32_t until_day, esg_project_financing *out) {
    memset(out, 0, sizeof *out);
    out->total_cost = p->total_cost;
    size_t n = p->n_instruments;
    out->instrument = calloc(n ? n : 1, sizeof *out->instrument);
    out->amount = calloc(n ? n : 1, sizeof *out->amount);
    if (!out->instrument || !out->amount)
        return ESG_ERR_NOMEM;
    int rc = external_sum(st, p->id, until_day, &out->external, out->by_source);
    uint64_t sum = out->external;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        out->instrument[i] = p->instruments[i];
        out->n = i + 1;
        if ((rc = allocated_to(st, p->instruments[i], p->id, until_day, &out->amount[i])) != 0)
            break;
        if (out->amount[i] > UINT64_MAX - sum)
            rc = ESG_ERR_OVERFLOW;
        else {
            sum += out->amount[i];
            out->allocated += out->amount[i];
        }
    }
    out->basis = sum > p->total_cost ? sum : p->total_cost;
    return rc;
}
