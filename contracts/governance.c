/* Governance: proposals, votes, the threshold, expiry, and accounts.
 *
 * Every change is checked by check_change() and, only once the check has
 * passed, written by apply_change(); apply_change() then fails only with
 * storage errors. That split is what lets an approved change that became
 * invalid be recorded as FAILED without half of it written. */
#include "contracts/governance.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/records.h"
#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"
#include "ledger/keys.h"

#define MAX_TTL_BLOCKS UINT64_C(10000000)
#define MAX_BLOCK_TXS_PARAM UINT64_C(100000)
#define MAX_KPI_UNIT_CHARS 32
#define EXPIRY_KEY_LEN (8 + 32)

/* ------------------------------------------------------------ helpers */

static const char *status_name(int status) {
    switch (status) {
    case ESG_PROPOSAL_STATUS_OPEN: return "open";
    case ESG_PROPOSAL_STATUS_EXECUTED: return "executed";
    case ESG_PROPOSAL_STATUS_REJECTED: return "rejected";
    case ESG_PROPOSAL_STATUS_EXPIRED: return "expired";
    case ESG_PROPOSAL_STATUS_FAILED: return "failed";
    default: return "unknown";
    }
}

/* Copies the 32-byte key in `b` to *out; with `on_curve`, also requires a
 * valid x-only key (every key that is stored as a new account or validator
 * must be one). */
static int require_pubkey(esg_tx_ctx *ctx, const esg_pb_bytes *b, const char *what,
                          bool on_curve, esg_pubkey *out) {
    if (esg_pb_pubkey32(b, out) != 0)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PUBKEY, "%s must be 32 bytes, got %zu", what,
                           b->len);
    if (on_curve && esg_pubkey_check(out) != 0)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PUBKEY, "%s '%s' is not a valid x-only key",
                           what, esg_pubkey_hex(out).s);
    return ESG_OK;
}

static void expiry_key(uint8_t key[EXPIRY_KEY_LEN], uint64_t height, const uint8_t id[32]) {
    esg_rec_be64(key, height);
    memcpy(key + 8, id, 32);
}

/* The ids of the CITY members that are not suspended (owned copies). */
typedef struct city_list {
    char **ids;
    size_t n, cap;
} city_list;

static void city_list_release(city_list *c) {
    for (size_t i = 0; i < c->n; i++)
        free(c->ids[i]);
    free(c->ids);
}

static int collect_active_city(const esg_pb_member *m, void *arg) {
    city_list *c = arg;
    if (m->kind != ESG_MEMBER_CITY || m->suspended)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        char **ids = realloc(c->ids, cap * sizeof *ids);
        if (!ids)
            return ESG_ERR_NOMEM;
        c->ids = ids;
        c->cap = cap;
    }
    if (!(c->ids[c->n] = strdup(m->id)))
        return ESG_ERR_NOMEM;
    c->n++;
    return 0;
}

/* Fills *c (caller releases, also on error). */
static int active_cities(esg_state *st, city_list *c) {
    memset(c, 0, sizeof *c);
    return esg_rec_member_each(st, collect_active_city, c);
}

/* Number of validators and their total power (saturating at UINT64_MAX). */
typedef struct valset_stats {
    size_t n;
    uint64_t total;
} valset_stats;

static int add_validator_stats(const uint8_t *key, size_t klen, const uint8_t *val,
                               size_t vlen, void *arg) {
    (void)key; (void)klen;
    valset_stats *s = arg;
    esg_pb_validator *v;
    if (esg_pb_decode(ESG_PB_VALIDATOR_DESC, val, vlen, SIZE_MAX, (ProtobufCMessage **)&v))
        return ESG_ERR_STORE_CORRUPT;
    s->n++;
    s->total = v->power > UINT64_MAX - s->total ? UINT64_MAX : s->total + v->power;
    esg_pb_free(v);
    return 0;
}

static int validators_stats(esg_state *st, valset_stats *s) {
    memset(s, 0, sizeof *s);
    return esg_state_iter(st, ESG_T_VALIDATORS, NULL, 0, add_validator_stats, s);
}

static int validator_get(esg_state *st, const esg_pubkey *pk, esg_pb_validator **out) {
    *out = NULL;
    return esg_state_get_msg(st, ESG_T_VALIDATORS, pk->b, 32, ESG_PB_VALIDATOR_DESC,
                             (ProtobufCMessage **)out);
}

/* Loads the validator a proposal names: ESG_ERR_UNKNOWN_VALIDATOR (with a
 * message) when there is none. The caller frees *out. */
static int require_validator(esg_tx_ctx *ctx, const esg_pubkey *pk, esg_pb_validator **out) {
    int rc = validator_get(ctx->st, pk, out);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_VALIDATOR, "'%s' is not a validator",
                           esg_pubkey_hex(pk).s);
    return rc;
}

static int require_power(esg_tx_ctx *ctx, uint64_t power) {
    if (power < 1 || power > ESG_MAX_VALIDATOR_POWER)
        return esg_tx_fail(ctx, ESG_ERR_BAD_POWER, "validator power %llu is outside 1..2^60",
                           (unsigned long long)power);
    return ESG_OK;
}

/* ------------------------------------------------------ change checks */

static int check_add_member(esg_tx_ctx *ctx, const esg_pb_add_member *am) {
    if (!esg_member_id_valid(am->id))
        return esg_tx_fail(ctx, ESG_ERR_BAD_MEMBER_ID,
                           "member id '%s' must match [a-z0-9-]{2,40}",
                           esg_rec_quote(am->id).s);
    esg_pb_member *m;
    int rc = esg_rec_member_get(ctx->st, am->id, &m);
    if (rc == 0) {
        esg_pb_free(m);
        return esg_tx_fail(ctx, ESG_ERR_MEMBER_EXISTS, "member '%s' already exists", am->id);
    }
    if (rc != ESG_ERR_NOT_FOUND)
        return rc;
    if (am->kind < ESG_MEMBER_CITY || am->kind > ESG_MEMBER_AUDITOR)
        return esg_tx_fail(ctx, ESG_ERR_BAD_MEMBER_KIND,
                           "member kind %d is not CITY, INVESTOR, VERIFIER, PAYING_AGENT "
                           "or AUDITOR", (int)am->kind);
    if (!esg_name_valid(am->name))
        return esg_tx_fail(ctx, ESG_ERR_BAD_NAME,
                           "name of '%s' must be 1..200 characters with no control "
                           "character", am->id);
    if (!esg_country_valid(am->country))
        return esg_tx_fail(ctx, ESG_ERR_BAD_COUNTRY,
                           "country '%s' is not an ISO 3166-1 alpha-2 code",
                           esg_rec_quote(am->country).s);
    /* Both optional; proto3 cannot tell an explicit "" or 0 from none. */
    if (am->lei[0] && !esg_lei_valid(am->lei))
        return esg_tx_fail(ctx, ESG_ERR_BAD_LEI,
                           "lei '%s' of '%s' is not an ISO 17442 Legal Entity Identifier "
                           "(20 characters, valid check digits)",
                           esg_rec_quote(am->lei).s, am->id);
    if (am->population > ESG_MAX_POPULATION)
        return esg_tx_fail(ctx, ESG_ERR_BAD_POPULATION,
                           "population %llu of '%s' is outside 1..10000000000",
                           (unsigned long long)am->population, am->id);
    esg_pubkey pk;
    if ((rc = require_pubkey(ctx, &am->admin_pubkey, "admin_pubkey", true, &pk)) != 0)
        return rc;
    esg_pb_account *a;
    rc = esg_rec_account_get(ctx->st, &pk, &a);
    if (rc == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_ACCOUNT_EXISTS, "key '%s' is already an account of '%s'",
                         esg_pubkey_hex(&pk).s, a->member);
        esg_pb_free(a);
        return rc;
    }
    return rc == ESG_ERR_NOT_FOUND ? ESG_OK : rc;
}

static int check_suspend(esg_tx_ctx *ctx, const char *id) {
    esg_pb_member *m;
    int rc = esg_rec_require_member(ctx, id, "member", &m);
    if (rc)
        return rc;
    if (m->suspended) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_PROPOSAL, "member '%s' is already suspended", m->id);
    } else if (m->kind == ESG_MEMBER_CITY) {
        city_list c;
        rc = active_cities(ctx->st, &c);
        if (rc == 0 && c.n <= 1)
            rc = esg_tx_fail(ctx, ESG_ERR_BAD_PROPOSAL,
                             "suspending '%s' would leave no active city", m->id);
        city_list_release(&c);
    }
    esg_pb_free(m);
    return rc;
}

static int check_reinstate(esg_tx_ctx *ctx, const char *id) {
    esg_pb_member *m;
    int rc = esg_rec_require_member(ctx, id, "member", &m);
    if (rc)
        return rc;
    if (!m->suspended)
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_PROPOSAL, "member '%s' is not suspended", m->id);
    esg_pb_free(m);
    return rc;
}

/* Accredit (revoke false) or RevokeAccreditation (revoke true). */
static int check_accreditation(esg_tx_ctx *ctx, const char *member, char *const *cats,
                               size_t n, bool revoke) {
    esg_pb_member *m;
    int rc = esg_rec_require_member(ctx, member, "member", &m);
    if (rc)
        return rc;
    if (m->kind != ESG_MEMBER_VERIFIER) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_VERIFIER,
                         "member '%s' is a %s: only VERIFIER members are accredited", m->id,
                         esg_member_kind_name(m->kind));
        goto out;
    }
    if (n == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_CATEGORY, "no categories given");
        goto out;
    }
    /* Each category is checked before the duplicates, so that the loop ends
     * within eight items whatever the transaction holds. */
    for (size_t i = 0; i < n; i++) {
        if (!esg_kpi_category_valid(cats[i])) {
            rc = esg_tx_fail(ctx, ESG_ERR_BAD_CATEGORY,
                             "unknown category '%s' (climate, energy, water, waste, "
                             "transport, buildings, social)", esg_rec_quote(cats[i]).s);
            goto out;
        }
        if (esg_str_in(cats[i], cats, i)) {
            rc = esg_tx_fail(ctx, ESG_ERR_BAD_CATEGORY, "category '%s' is listed twice",
                             cats[i]);
            goto out;
        }
        if (revoke && !esg_str_in(cats[i], m->accredited_categories,
                                  m->n_accredited_categories)) {
            rc = esg_tx_fail(ctx, ESG_ERR_NOT_ACCREDITED,
                             "verifier '%s' is not accredited for '%s'", m->id, cats[i]);
            goto out;
        }
    }
out:
    esg_pb_free(m);
    return rc;
}

static int check_add_validator(esg_tx_ctx *ctx, const esg_pb_add_validator *av) {
    esg_pubkey pk;
    int rc = require_pubkey(ctx, &av->pubkey, "validator pubkey", true, &pk);
    if (rc)
        return rc;
    esg_pb_validator *v;
    rc = validator_get(ctx->st, &pk, &v);
    if (rc == 0) {
        esg_pb_free(v);
        return esg_tx_fail(ctx, ESG_ERR_VALIDATOR_EXISTS, "'%s' is already a validator",
                           esg_pubkey_hex(&pk).s);
    }
    if (rc != ESG_ERR_NOT_FOUND)
        return rc;
    if ((rc = require_power(ctx, av->power)) != 0)
        return rc;
    if ((rc = esg_rec_require_member(ctx, av->operator_, "operator", NULL)) != 0)
        return rc;
    valset_stats s;
    if ((rc = validators_stats(ctx->st, &s)) != 0)
        return rc;
    if (s.n >= ESG_MAX_VALIDATORS)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROPOSAL, "the validator set is full (%d validators)",
                           ESG_MAX_VALIDATORS);
    if (s.total > ESG_MAX_VALIDATOR_POWER - av->power)
        return esg_tx_fail(ctx, ESG_ERR_BAD_POWER, "total voting power would exceed 2^60");
    return ESG_OK;
}

static int check_remove_validator(esg_tx_ctx *ctx, const esg_pb_remove_validator *rv) {
    esg_pubkey pk;
    int rc = require_pubkey(ctx, &rv->pubkey, "validator pubkey", false, &pk);
    if (rc)
        return rc;
    esg_pb_validator *v;
    if ((rc = require_validator(ctx, &pk, &v)) != 0)
        return rc;
    esg_pb_free(v);
    valset_stats s;
    if ((rc = validators_stats(ctx->st, &s)) != 0)
        return rc;
    if (s.n <= 1)
        return esg_tx_fail(ctx, ESG_ERR_LAST_VALIDATOR, "'%s' is the last validator",
                           esg_pubkey_hex(&pk).s);
    return ESG_OK;
}

static int check_set_power(esg_tx_ctx *ctx, const esg_pb_set_validator_power *sp) {
    esg_pubkey pk;
    int rc = require_pubkey(ctx, &sp->pubkey, "validator pubkey", false, &pk);
    if (rc)
        return rc;
    esg_pb_validator *v;
    if ((rc = require_validator(ctx, &pk, &v)) != 0)
        return rc;
    uint64_t old = v->power;
    esg_pb_free(v);
    if ((rc = require_power(ctx, sp->power)) != 0)
        return rc;
    valset_stats s;
    if ((rc = validators_stats(ctx->st, &s)) != 0)
        return rc;
    uint64_t others = s.total - old; /* old is part of the total */
    if (others > ESG_MAX_VALIDATOR_POWER - sp->power)
        return esg_tx_fail(ctx, ESG_ERR_BAD_POWER, "total voting power would exceed 2^60");
    return ESG_OK;
}

/* The parameters SetParam may change, with their ranges. */
static const struct param_rule {
    const char *name;
    uint64_t min, max;
} param_rules[] = {
    {"governance_threshold_bps", 5001, 10000},
    {"proposal_ttl_blocks", 1, MAX_TTL_BLOCKS},
    {"max_block_txs", 1, MAX_BLOCK_TXS_PARAM},
    {"max_block_bytes", ESG_MIN_BLOCK_BYTES, ESG_MAX_BLOCK_BYTES},
};
#define N_PARAM_RULES (sizeof param_rules / sizeof param_rules[0])

static int check_set_param(esg_tx_ctx *ctx, const esg_pb_set_param *sp) {
    for (size_t i = 0; i < N_PARAM_RULES; i++) {
        const struct param_rule *r = &param_rules[i];
        if (strcmp(sp->name, r->name) != 0)
            continue;
        if (sp->value < r->min || sp->value > r->max)
            return esg_tx_fail(ctx, ESG_ERR_BAD_PARAM, "%s must be %llu..%llu, got %llu",
                               r->name, (unsigned long long)r->min,
                               (unsigned long long)r->max, (unsigned long long)sp->value);
        return ESG_OK;
    }
    return esg_tx_fail(ctx, ESG_ERR_BAD_PARAM,
                       "unknown parameter '%s' (governance_threshold_bps, "
                       "proposal_ttl_blocks, max_block_txs, max_block_bytes)",
                       esg_rec_quote(sp->name).s);
}

static int check_add_kpi(esg_tx_ctx *ctx, const esg_pb_kpi *k) {
    if (!k)
        return esg_tx_fail(ctx, ESG_ERR_BAD_KPI, "no KPI given");
    if (!esg_kpi_id_valid(k->id))
        return esg_tx_fail(ctx, ESG_ERR_BAD_KPI, "KPI id '%s' must match [a-z0-9_]{2,64}",
                           esg_rec_quote(k->id).s);
    if (!esg_name_valid(k->name))
        return esg_tx_fail(ctx, ESG_ERR_BAD_KPI,
                           "name of KPI '%s' must be 1..200 characters with no control "
                           "character", k->id);
    if (!esg_rec_text_valid(k->unit, MAX_KPI_UNIT_CHARS))
        return esg_tx_fail(ctx, ESG_ERR_BAD_KPI,
                           "unit of KPI '%s' must be 1..32 characters with no control "
                           "character", k->id);
    if (!esg_kpi_category_valid(k->category))
        return esg_tx_fail(ctx, ESG_ERR_BAD_KPI,
                           "category '%s' of KPI '%s' is not climate, energy, water, waste, "
                           "transport, buildings or social", esg_rec_quote(k->category).s,
                           k->id);
    if (k->direction != ESG_KPI_DIRECTION_HIGHER && k->direction != ESG_KPI_DIRECTION_LOWER)
        return esg_tx_fail(ctx, ESG_ERR_BAD_KPI, "direction of KPI '%s' must be higher or lower",
                           k->id);
    esg_pb_kpi *old;
    int rc = esg_rec_kpi_get(ctx->st, k->id, &old);
    if (rc == 0) {
        esg_pb_free(old);
        return esg_tx_fail(ctx, ESG_ERR_KPI_EXISTS, "KPI '%s' already exists", k->id);
    }
    return rc == ESG_ERR_NOT_FOUND ? ESG_OK : rc;
}

/* Checks that the change of `p` is valid against the current state. */
static int check_change(esg_tx_ctx *ctx, const esg_pb_proposal *p) {
    switch (p->change_case) {
    case ESG_PROPOSAL_ADD_MEMBER:
        return check_add_member(ctx, p->add_member);
    case ESG_PROPOSAL_SUSPEND_MEMBER:
        return check_suspend(ctx, p->suspend_member->id);
    case ESG_PROPOSAL_REINSTATE_MEMBER:
        return check_reinstate(ctx, p->reinstate_member->id);
    case ESG_PROPOSAL_ACCREDIT:
        return check_accreditation(ctx, p->accredit->member, p->accredit->categories,
                                   p->accredit->n_categories, false);
    case ESG_PROPOSAL_REVOKE_ACCREDITATION:
        return check_accreditation(ctx, p->revoke_accreditation->member,
                                   p->revoke_accreditation->categories,
                                   p->revoke_accreditation->n_categories, true);
    case ESG_PROPOSAL_ADD_VALIDATOR:
        return check_add_validator(ctx, p->add_validator);
    case ESG_PROPOSAL_REMOVE_VALIDATOR:
        return check_remove_validator(ctx, p->remove_validator);
    case ESG_PROPOSAL_SET_VALIDATOR_POWER:
        return check_set_power(ctx, p->set_validator_power);
    case ESG_PROPOSAL_SET_PARAM:
        return check_set_param(ctx, p->set_param);
    case ESG_PROPOSAL_ADD_KPI:
        return check_add_kpi(ctx, p->add_kpi->kpi);
    default:
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROPOSAL, "proposal has no change");
    }
}

/* ------------------------------------------------------ change effects */

static int apply_add_member(esg_tx_ctx *ctx, const esg_pb_add_member *am) {
    esg_pb_member m = ESG_PB_MEMBER_INIT;
    m.id = am->id;
    m.kind = am->kind;
    m.name = am->name;
    m.country = am->country;
    m.lei = am->lei;
    m.population = am->population;
    m.admitted_height = ctx->height;
    int rc = esg_rec_member_put(ctx->st, &m);
    if (rc)
        return rc;
    esg_pb_role roles[2] = {ESG_ROLE_ADMIN, ESG_ROLE_OFFICER};
    esg_pb_account a = ESG_PB_ACCOUNT_INIT;
    a.pubkey = am->admin_pubkey;
    a.member = am->id;
    a.roles = roles;
    a.n_roles = 2;
    if ((rc = esg_rec_account_put(ctx->st, &a)) != 0)
        return rc;
    esg_pubkey pk;
    memcpy(pk.b, am->admin_pubkey.data, 32);
    return esg_exec_member_account_link(ctx->st, am->id, &pk, true);
}

static int apply_suspended(esg_tx_ctx *ctx, const char *id, bool suspended) {
    esg_pb_member *m;
    int rc = esg_rec_member_get(ctx->st, id, &m);
    if (rc)
        return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_INTERNAL : rc; /* checked before */
    esg_pb_member copy = *m;
    copy.suspended = suspended;
    rc = esg_rec_member_put(ctx->st, &copy);
    esg_pb_free(m);
    return rc;
}

static int apply_accreditation(esg_tx_ctx *ctx, const char *id, char *const *cats,
                               size_t n, bool revoke) {
    esg_pb_member *m;
    int rc = esg_rec_member_get(ctx->st, id, &m);
    if (rc)
        return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_INTERNAL : rc;
    esg_strset set = ESG_STRSET_INIT;
    rc = esg_strset_add_all(&set, m->accredited_categories, m->n_accredited_categories);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (revoke)
            esg_strset_remove(&set, cats[i]);
        else
            rc = esg_strset_add(&set, cats[i]);
    }
    if (rc == 0) {
        esg_pb_member copy = *m;
        copy.accredited_categories = set.v;
        copy.n_accredited_categories = set.n;
        rc = esg_rec_member_put(ctx->st, &copy);
    }
    esg_strset_release(&set);
    esg_pb_free(m);
    return rc;
}

static int apply_set_param(esg_tx_ctx *ctx, const esg_pb_set_param *sp) {
    esg_pb_params *p;
    int rc = esg_rec_params_get(ctx->st, &p);
    if (rc)
        return rc;
    esg_pb_params copy = *p;
    if (strcmp(sp->name, "governance_threshold_bps") == 0)
        copy.governance_threshold_bps = (uint32_t)sp->value; /* <= 10000, checked */
    else if (strcmp(sp->name, "proposal_ttl_blocks") == 0)
        copy.proposal_ttl_blocks = sp->value;
    else if (strcmp(sp->name, "max_block_txs") == 0)
        copy.max_block_txs = sp->value;
    else if (strcmp(sp->name, "max_block_bytes") == 0)
        copy.max_block_bytes = sp->value;
    else
        rc = ESG_ERR_INTERNAL; /* check_set_param accepted an unknown name */
    if (rc == 0)
        rc = esg_state_put_msg(ctx->st, ESG_T_PARAMS, NULL, 0, &copy.base);
    esg_pb_free(p);
    return rc;
}

/* Writes the effects of a change that check_change() accepted in this
 * state. Fails only with storage errors. */
static int apply_change(esg_tx_ctx *ctx, const esg_pb_proposal *p) {
    int rc;
    switch (p->change_case) {
    case ESG_PROPOSAL_ADD_MEMBER:
        return apply_add_member(ctx, p->add_member);
    case ESG_PROPOSAL_SUSPEND_MEMBER:
        return apply_suspended(ctx, p->suspend_member->id, true);
    case ESG_PROPOSAL_REINSTATE_MEMBER:
        return apply_suspended(ctx, p->reinstate_member->id, false);
    case ESG_PROPOSAL_ACCREDIT:
        return apply_accreditation(ctx, p->accredit->member, p->accredit->categories,
                                   p->accredit->n_categories, false);
    case ESG_PROPOSAL_REVOKE_ACCREDITATION:
        return apply_accreditation(ctx, p->revoke_accreditation->member,
                                   p->revoke_accreditation->categories,
                                   p->revoke_accreditation->n_categories, true);
    case ESG_PROPOSAL_ADD_VALIDATOR: {
        const esg_pb_add_validator *av = p->add_validator;
        esg_pb_validator v = ESG_PB_VALIDATOR_INIT;
        v.pubkey = av->pubkey;
        v.power = av->power;
        v.operator_ = av->operator_;
        rc = esg_state_put_msg(ctx->st, ESG_T_VALIDATORS, av->pubkey.data, 32, &v.base);
        break;
    }
    case ESG_PROPOSAL_REMOVE_VALIDATOR:
        rc = esg_state_del(ctx->st, ESG_T_VALIDATORS, p->remove_validator->pubkey.data, 32);
        break;
    case ESG_PROPOSAL_SET_VALIDATOR_POWER: {
        const esg_pb_set_validator_power *sp = p->set_validator_power;
        esg_pubkey pk;
        memcpy(pk.b, sp->pubkey.data, 32);
        esg_pb_validator *v;
        if ((rc = validator_get(ctx->st, &pk, &v)) != 0)
            return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_INTERNAL : rc;
        esg_pb_validator copy = *v;
        copy.power = sp->power;
        rc = esg_state_put_msg(ctx->st, ESG_T_VALIDATORS, pk.b, 32, &copy.base);
        esg_pb_free(v);
        break;
    }
    case ESG_PROPOSAL_SET_PARAM:
        return apply_set_param(ctx, p->set_param);
    case ESG_PROPOSAL_ADD_KPI: {
        const esg_pb_kpi *k = p->add_kpi->kpi;
        return esg_state_put_msg(ctx->st, ESG_T_KPIS, k->id, strlen(k->id), &k->base);
    }
    default:
        return ESG_ERR_INTERNAL;
    }
    /* The validator changes: the executor records the new set, in force
     * from height + 2. */
    if (rc == 0)
        ctx->block->valset_changed = true;
    return rc;
}

/* ----------------------------------------------------------- threshold */

/* Counts the votes of `rec` (an OPEN record the caller is about to store,
 * which may point at borrowed data) and decides it: executes the change,
 * or rejects it, or leaves it open. Sets status, decided_height and
 * failure in *rec. Returns 0 or a storage error. */
static int decide(esg_tx_ctx *ctx, esg_pb_proposal_record *rec, uint32_t threshold_bps) {
    assert(rec->status == ESG_PROPOSAL_STATUS_OPEN);
    city_list cities;
    int rc = active_cities(ctx->st, &cities);
    uint64_t a = 0, r = 0, c = cities.n;
    for (size_t i = 0; rc == 0 && i < cities.n; i++) {
        if (esg_str_in(cities.ids[i], rec->approvals, rec->n_approvals))
            a++;
        else if (esg_str_in(cities.ids[i], rec->rejections, rec->n_rejections))
            r++;
    }
    city_list_release(&cities);
    if (rc)
        return rc;
    uint64_t need = (uint64_t)threshold_bps * c;
    if (a * 10000 >= need) {
        rc = check_change(ctx, rec->proposal);
        if (rc == 0 && (rc = apply_change(ctx, rec->proposal)) != 0)
            return rc;
        if (esg_rec_is_fatal(rc))
            return rc;
        rec->status = rc == 0 ? ESG_PROPOSAL_STATUS_EXECUTED : ESG_PROPOSAL_STATUS_FAILED;
        /* esg_err_name() is static storage; rec is never freed by the caller
         * with its failure field pointing there (it is a shallow copy). */
        rec->failure = rc == 0 ? rec->failure : (char *)(uintptr_t)esg_err_name(rc);
        rec->decided_height = ctx->height;
    } else if ((c - r) * 10000 < need) {
        rec->status = ESG_PROPOSAL_STATUS_REJECTED;
        rec->decided_height = ctx->height;
    }
    return ESG_OK;
}

/* ------------------------------------------------------------ actions */

/* Common to Propose and Vote: an ADMIN account of a CITY member. */
static int require_city_admin(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_ADMIN);
    return rc ? rc : esg_rec_require_kind(ctx, ESG_MEMBER_CITY, NULL);
}

int esg_gov_propose(esg_tx_ctx *ctx) {
    int rc = require_city_admin(ctx);
    if (rc)
        return rc;
    const esg_pb_propose *pr = ctx->body->propose;
    const esg_pb_proposal *p = pr ? pr->proposal : NULL;
    if (!p || p->change_case == ESG_PROPOSAL_NONE)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROPOSAL, "proposal has no change");
    size_t dlen = strlen(p->description);
    if (dlen > ESG_GOV_MAX_DESCRIPTION)
        return esg_tx_fail(ctx, ESG_ERR_BAD_PROPOSAL, "description is %zu bytes, at most %d",
                           dlen, ESG_GOV_MAX_DESCRIPTION);
    if ((rc = check_change(ctx, p)) != 0)
        return rc;
    esg_pb_params *params;
    if ((rc = esg_rec_params_get(ctx->st, &params)) != 0)
        return rc;
    uint64_t ttl = params->proposal_ttl_blocks;
    uint32_t threshold = params->governance_threshold_bps;
    esg_pb_free(params);

    char *approvals[1] = {ctx->signer->member};
    esg_pb_proposal_record rec = ESG_PB_PROPOSAL_RECORD_INIT;
    rec.id = esg_pb_bin(ctx->tx->id.b, 32);
    rec.proposal = (esg_pb_proposal *)(uintptr_t)p;
    rec.proposer = ctx->signer->member;
    rec.created_height = ctx->height;
    rec.expires_height = ttl > UINT64_MAX - ctx->height ? UINT64_MAX : ctx->height + ttl;
    rec.approvals = approvals;
    rec.n_approvals = 1;
    rec.status = ESG_PROPOSAL_STATUS_OPEN;
    if ((rc = decide(ctx, &rec, threshold)) != 0)
        return rc;
    rc = esg_state_put_msg(ctx->st, ESG_T_PROPOSALS, ctx->tx->id.b, 32, &rec.base);
    if (rc == 0 && rec.status == ESG_PROPOSAL_STATUS_OPEN) {
        uint8_t key[EXPIRY_KEY_LEN];
        expiry_key(key, rec.expires_height, ctx->tx->id.b);
        rc = esg_state_put(ctx->st, ESG_T_PROPOSAL_EXPIRY, key, sizeof key, "", 0);
    }
    return rc;
}

int esg_gov_vote(esg_tx_ctx *ctx) {
    int rc = require_city_admin(ctx);
    if (rc)
        return rc;
    const esg_pb_vote *v = ctx->body->vote;
    esg_hash id;
    if (!v || esg_pb_bytes32(&v->proposal_id, &id) != 0)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_PROPOSAL, "proposal id must be 32 bytes");
    esg_pb_proposal_record *stored;
    rc = esg_state_get_msg(ctx->st, ESG_T_PROPOSALS, id.b, 32, ESG_PB_PROPOSAL_RECORD_DESC,
                           (ProtobufCMessage **)&stored);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_PROPOSAL, "no proposal '%s'",
                           esg_hash_hex(&id).s);
    if (rc)
        return rc;
    const char *me = ctx->signer->member;
    char **list = NULL;
    esg_pb_params *params = NULL;
    if (stored->status != ESG_PROPOSAL_STATUS_OPEN) {
        rc = esg_tx_fail(ctx, ESG_ERR_PROPOSAL_CLOSED, "proposal '%s' is closed: %s",
                         esg_hash_hex(&id).s, status_name(stored->status));
        goto out;
    }
    if (ctx->height > stored->expires_height) {
        rc = esg_tx_fail(ctx, ESG_ERR_PROPOSAL_CLOSED, "proposal '%s' expired at height %llu",
                         esg_hash_hex(&id).s, (unsigned long long)stored->expires_height);
        goto out;
    }
    if (esg_str_in(me, stored->approvals, stored->n_approvals) ||
        esg_str_in(me, stored->rejections, stored->n_rejections)) {
        rc = esg_tx_fail(ctx, ESG_ERR_ALREADY_VOTED, "'%s' has already voted on proposal '%s'",
                         me, esg_hash_hex(&id).s);
        goto out;
    }
    if ((rc = esg_rec_params_get(ctx->st, &params)) != 0)
        goto out;

    /* The new vote list borrows the stored strings and the signer's id. */
    char **old = v->approve ? stored->approvals : stored->rejections;
    size_t n_old = v->approve ? stored->n_approvals : stored->n_rejections;
    if (!(list = malloc((n_old + 1) * sizeof *list))) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    if (n_old)
        memcpy(list, old, n_old * sizeof *list);
    list[n_old] = (char *)(uintptr_t)me;
    esg_pb_proposal_record rec = *stored;
    if (v->approve) {
        rec.approvals = list;
        rec.n_approvals = n_old + 1;
    } else {
        rec.rejections = list;
        rec.n_rejections = n_old + 1;
    }
    if ((rc = decide(ctx, &rec, params->governance_threshold_bps)) != 0)
        goto out;
    if ((rc = esg_state_put_msg(ctx->st, ESG_T_PROPOSALS, id.b, 32, &rec.base)) != 0)
        goto out;
    if (rec.status != ESG_PROPOSAL_STATUS_OPEN) {
        uint8_t key[EXPIRY_KEY_LEN];
        expiry_key(key, rec.expires_height, id.b);
        rc = esg_state_del(ctx->st, ESG_T_PROPOSAL_EXPIRY, key, sizeof key);
    }
out:
    free(list);
    esg_pb_free(params);
    esg_pb_free(stored);
    return rc;
}

int esg_gov_add_account(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_ADMIN);
    if (rc)
        return rc;
    const esg_pb_add_account *aa = ctx->body->add_account;
    esg_pubkey pk;
    if ((rc = require_pubkey(ctx, &aa->pubkey, "pubkey", true, &pk)) != 0)
        return rc;
    esg_pb_account *old;
    rc = esg_rec_account_get(ctx->st, &pk, &old);
    if (rc == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_ACCOUNT_EXISTS, "key '%s' is already an account of '%s'%s",
                         esg_pubkey_hex(&pk).s, old->member,
                         old->revoked ? " (revoked: keys are never reused)" : "");
        esg_pb_free(old);
        return rc;
    }
    if (rc != ESG_ERR_NOT_FOUND)
        return rc;
    if (aa->n_roles == 0)
        return esg_tx_fail(ctx, ESG_ERR_BAD_ROLES, "no roles given");
    bool admin = false, officer = false;
    for (size_t i = 0; i < aa->n_roles; i++) {
        bool *seen = aa->roles[i] == ESG_ROLE_ADMIN     ? &admin
                     : aa->roles[i] == ESG_ROLE_OFFICER ? &officer
                                                        : NULL;
        if (!seen)
            return esg_tx_fail(ctx, ESG_ERR_BAD_ROLES, "role %d is not ADMIN or OFFICER",
                               (int)aa->roles[i]);
        if (*seen)
            return esg_tx_fail(ctx, ESG_ERR_BAD_ROLES, "role %s is listed twice",
                               aa->roles[i] == ESG_ROLE_ADMIN ? "ADMIN" : "OFFICER");
        *seen = true;
    }
    esg_pb_role roles[2];
    size_t n_roles = 0;
    if (admin)
        roles[n_roles++] = ESG_ROLE_ADMIN;
    if (officer)
        roles[n_roles++] = ESG_ROLE_OFFICER;
    esg_pb_account a = ESG_PB_ACCOUNT_INIT;
    a.pubkey = esg_pb_bin(pk.b, 32);
    a.member = ctx->signer->member;
    a.roles = roles;
    a.n_roles = n_roles;
    if ((rc = esg_rec_account_put(ctx->st, &a)) != 0)
        return rc;
    return esg_exec_member_account_link(ctx->st, a.member, &pk, true);
}

int esg_gov_revoke_account(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_ADMIN);
    if (rc)
        return rc;
    const esg_pb_revoke_account *ra = ctx->body->revoke_account;
    esg_pubkey pk;
    if ((rc = require_pubkey(ctx, &ra->pubkey, "pubkey", false, &pk)) != 0)
        return rc;
    esg_pb_account *a;
    rc = esg_rec_account_get(ctx->st, &pk, &a);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_ACCOUNT, "no account '%s'",
                           esg_pubkey_hex(&pk).s);
    if (rc)
        return rc;
    if (strcmp(a->member, ctx->signer->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_UNAUTHORIZED, "account '%s' belongs to '%s', not '%s'",
                         esg_pubkey_hex(&pk).s, a->member, ctx->signer->member);
        goto out;
    }
    if (a->revoked) {
        rc = esg_tx_fail(ctx, ESG_ERR_ACCOUNT_REVOKED, "account '%s' is already revoked",
                         esg_pubkey_hex(&pk).s);
        goto out;
    }
    if (esg_rec_account_has_role(a, ESG_ROLE_ADMIN)) {
        size_t admins;
        if ((rc = esg_rec_member_count_accounts(ctx->st, a->member, ESG_ROLE_ADMIN,
                                                &admins)) != 0)
            goto out;
        if (admins <= 1) {
            rc = esg_tx_fail(ctx, ESG_ERR_LAST_ADMIN,
                             "account '%s' is the last admin account of '%s'",
                             esg_pubkey_hex(&pk).s, a->member);
            goto out;
        }
    }
    /* The record stays, revoked: history, and the key can never return. */
    esg_pb_account copy = *a;
    copy.revoked = true;
    rc = esg_rec_account_put(ctx->st, &copy);
out:
    esg_pb_free(a);
    return rc;
}

/* ---------------------------------------------------------- end block */

int esg_gov_end_block(esg_block_ctx *ctx) {
    uint8_t prefix[8];
    esg_rec_be64(prefix, ctx->height);
    esg_rec_tail32 ids = {0};
    /* Collect first (key: height ‖ id): the iteration must not write. */
    int rc = esg_state_iter(ctx->st, ESG_T_PROPOSAL_EXPIRY, prefix, 8, esg_rec_collect_tail32,
                            &ids);
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        esg_pb_proposal_record *rec;
        rc = esg_state_get_msg(ctx->st, ESG_T_PROPOSALS, ids.v[i].b, 32,
                               ESG_PB_PROPOSAL_RECORD_DESC, (ProtobufCMessage **)&rec);
        if (rc == ESG_ERR_NOT_FOUND)
            rc = ESG_ERR_STORE_CORRUPT; /* an index row without its proposal */
        if (rc)
            break;
        if (rec->status == ESG_PROPOSAL_STATUS_OPEN) {
            esg_pb_proposal_record copy = *rec;
            copy.status = ESG_PROPOSAL_STATUS_EXPIRED;
            copy.decided_height = ctx->height;
            rc = esg_state_put_msg(ctx->st, ESG_T_PROPOSALS, ids.v[i].b, 32, &copy.base);
        }
        esg_pb_free(rec);
        uint8_t key[EXPIRY_KEY_LEN];
        expiry_key(key, ctx->height, ids.v[i].b);
        if (rc == 0)
            rc = esg_state_del(ctx->st, ESG_T_PROPOSAL_EXPIRY, key, sizeof key);
    }
    free(ids.v);
    return rc;
}
