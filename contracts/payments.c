/* Payments: coupons with sustainability-linked step-ups, and the
 * redemption (contracts/payments.h).
 *
 * A payment is computed once, from the state at the block that records it,
 * and stored with every figure (PaymentRecord): nobody recomputes it later,
 * so later reports, attestations or transfers never change what was paid.
 * Holders are taken in key order (member id order), so every node builds
 * the same record byte for byte. */
#include "contracts/payments.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/impact.h"
#include "contracts/instrument.h"
#include "contracts/records.h"
#include "ledger/error.h"
#include "ledger/genesis.h"

#define MS_PER_DAY INT64_C(86400000)
#define PAYMENT_KEY_MAX (40 + 1 + 1 + 4)

/* ------------------------------------------------------------ covenants */

int esg_covenant_evaluate(esg_state *st, const esg_pb_instrument_spec *spec,
                          const esg_pb_kpi_target *t, esg_covenant_eval *out) {
    memset(out, 0, sizeof *out);
    if (esg_date_parse(t->observation_date, &out->observation_day) != 0)
        return ESG_ERR_STORE_CORRUPT; /* validated at issue */
    esg_pb_kpi *k;
    int rc = esg_rec_kpi_get(st, t->kpi, &k);
    if (rc == ESG_ERR_NOT_FOUND)
        return ESG_ERR_STORE_CORRUPT; /* KPIs are never removed */
    if (rc)
        return rc;
    out->direction = k->direction;
    esg_pb_free(k);
    /* Reports whose period ends in the twelve months up to and including
     * the observation date: (obs - 12 months, obs]. */
    rc = esg_impact_sum(st, spec->id, t->kpi, esg_date_sub_months(out->observation_day, 12),
                        out->observation_day, &out->observed, &out->counted);
    if (rc)
        return rc;
    out->missed = out->counted == 0 ||
                  (out->direction == ESG_KPI_DIRECTION_LOWER ? out->observed > t->target
                                                             : out->observed < t->target);
    return ESG_OK;
}

int esg_covenant_step_ups(esg_state *st, const esg_pb_instrument_record *ins,
                          int32_t due_day, uint32_t *bps) {
    *bps = 0;
    const esg_pb_instrument_spec *s = ins->spec;
    uint64_t total = 0;
    for (size_t i = 0; i < s->n_kpi_targets; i++) {
        const esg_pb_kpi_target *t = s->kpi_targets[i];
        esg_covenant_eval ev;
        int rc = esg_covenant_evaluate(st, s, t, &ev);
        if (rc)
            return rc;
        /* In force only for coupons due after the observation date. */
        if (ev.observation_day < due_day && ev.missed)
            total += t->step_up_bps;
    }
    if (total > UINT32_MAX)
        return ESG_ERR_OVERFLOW;
    *bps = (uint32_t)total;
    return ESG_OK;
}

/* ------------------------------------------------------------- helpers */

static size_t payment_key(uint8_t key[PAYMENT_KEY_MAX], const char *instrument, int kind,
                          uint32_t seq) {
    size_t il = strlen(instrument);
    assert(il <= 40);
    memcpy(key, instrument, il);
    key[il] = 0;
    key[il + 1] = (uint8_t)kind;
    key[il + 2] = (uint8_t)(seq >> 24);
    key[il + 3] = (uint8_t)(seq >> 16);
    key[il + 4] = (uint8_t)(seq >> 8);
    key[il + 5] = (uint8_t)seq;
    return il + 6;
}

/* The lines of one payment, built over borrowed strings. */
typedef struct lines {
    esg_pb_payment_line *v;
    esg_pb_payment_line **p;
    size_t n;
} lines;

static int lines_init(lines *l, size_t n) {
    l->n = n;
    l->v = calloc(n ? n : 1, sizeof *l->v);
    l->p = calloc(n ? n : 1, sizeof *l->p);
    if (!l->v || !l->p)
        return ESG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        esg_pb_payment_line init = ESG_PB_PAYMENT_LINE_INIT;
        l->v[i] = init;
        l->p[i] = &l->v[i];
    }
    return ESG_OK;
}

static void lines_release(lines *l) {
    free(l->v);
    free(l->p);
}

/* Fills the holder lines (holders with units > 0, in key order) with
 * per_unit x units and sums them into *total. */
static int holder_lines(esg_tx_ctx *ctx, const esg_holding_list *hl, uint64_t per_unit,
                        lines *out, uint64_t *total) {
    size_t n = 0;
    for (size_t i = 0; i < hl->n; i++)
        n += hl->v[i]->units > 0;
    int rc = lines_init(out, n);
    if (rc)
        return rc;
    *total = 0;
    size_t k = 0;
    for (size_t i = 0; i < hl->n; i++) {
        const esg_pb_holding *h = hl->v[i];
        if (h->units == 0)
            continue;
        unsigned __int128 amount = (unsigned __int128)per_unit * h->units;
        if (amount > UINT64_MAX || (uint64_t)amount > UINT64_MAX - *total)
            return esg_tx_fail(ctx, ESG_ERR_OVERFLOW, "payment to '%s' overflows 64 bits",
                               h->member);
        out->v[k].member = h->member;
        out->v[k].units = h->units;
        out->v[k].amount = (uint64_t)amount;
        *total += (uint64_t)amount;
        k++;
    }
    return ESG_OK;
}

static int co_issuer_lines(const esg_pb_instrument_spec *s, uint64_t total, lines *out) {
    int rc = lines_init(out, s->n_co_issuers);
    if (rc)
        return rc;
    uint64_t parts[ESG_MAX_CO_ISSUERS];
    assert(s->n_co_issuers <= ESG_MAX_CO_ISSUERS);
    esg_split_by_shares(s, total, parts);
    for (size_t i = 0; i < s->n_co_issuers; i++) {
        out->v[i].member = s->co_issuers[i]->member;
        out->v[i].share_bps = s->co_issuers[i]->share_bps;
        out->v[i].amount = parts[i];
    }
    return ESG_OK;
}

/* The signer must be an officer of the instrument's paying agent. */
static int require_agent(esg_tx_ctx *ctx, const esg_pb_instrument_record *ins) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    if (strcmp(ctx->signer->member, ins->spec->paying_agent) != 0)
        return esg_tx_fail(ctx, ESG_ERR_NOT_INSTRUMENT_AGENT,
                           "'%s' is not the paying agent of '%s' ('%s' is)",
                           ctx->signer->member, ins->spec->id, ins->spec->paying_agent);
    return ESG_OK;
}

static int require_due(esg_tx_ctx *ctx, int32_t due) {
    if ((int64_t)ctx->time_ms >= (int64_t)due * MS_PER_DAY)
        return ESG_OK;
    char d[11];
    esg_date_format(due, d);
    return esg_tx_fail(ctx, ESG_ERR_NOT_DUE, "the payment due %s is not due at block time %llu",
                       d, (unsigned long long)ctx->time_ms);
}

/* ------------------------------------------------------------ the action */

/* Computes and records coupon number ins->coupons_recorded + 1, due on
 * `due` (already checked against the schedule and the block time). */
static int record_coupon(esg_tx_ctx *ctx, const esg_pb_instrument_record *ins,
                         const char *due_date, int32_t due, const esg_holding_list *hl) {
    const esg_pb_instrument_spec *s = ins->spec;
    uint32_t step;
    int rc = esg_covenant_step_ups(ctx->st, ins, due, &step);
    if (rc == ESG_ERR_OVERFLOW)
        return esg_tx_fail(ctx, rc, "step-ups of '%s' overflow", s->id);
    if (rc)
        return rc;
    uint32_t months = s->coupon_frequency_months;
    unsigned __int128 per = (unsigned __int128)s->face_value *
                            ((uint64_t)s->coupon_bps + step) * months / 120000;
    if (per > UINT64_MAX)
        return esg_tx_fail(ctx, ESG_ERR_OVERFLOW, "coupon per unit of '%s' overflows 64 bits",
                           s->id);
    lines holders = {0}, cos = {0};
    uint64_t total;
    if ((rc = holder_lines(ctx, hl, (uint64_t)per, &holders, &total)) != 0 ||
        (rc = co_issuer_lines(s, total, &cos)) != 0)
        goto out;
    esg_pb_payment p = ESG_PB_PAYMENT_INIT;
    p.instrument = s->id;
    p.kind = ESG_PAYMENT_COUPON;
    p.due_date = (char *)(uintptr_t)due_date;
    p.seq = ins->coupons_recorded + 1;
    p.height = ctx->height;
    p.time_ms = ctx->time_ms;
    p.coupon_bps = s->coupon_bps;
    p.step_up_bps = step;
    p.months = months;
    p.per_unit = (uint64_t)per;
    p.total = total;
    p.holders = holders.p;
    p.n_holders = holders.n;
    p.co_issuers = cos.p;
    p.n_co_issuers = cos.n;
    p.tx_id = esg_pb_bin(ctx->tx->id.b, 32);
    uint8_t key[PAYMENT_KEY_MAX];
    size_t klen = payment_key(key, s->id, ESG_PAYMENT_COUPON, p.seq);
    if ((rc = esg_state_put_msg(ctx->st, ESG_T_PAYMENTS, key, klen, &p.base)) != 0)
        goto out;
    /* The snapshot impact attribution uses after redemption. A row left
     * with 0 units (a holder that sold out) is deleted here. */
    for (size_t i = 0; i < hl->n; i++) {
        const esg_pb_holding *h = hl->v[i];
        if ((rc = esg_holding_put(ctx->st, s->id, h->member, h->units, h->units)) != 0)
            goto out;
    }
    esg_pb_instrument_record copy = *ins;
    copy.coupons_recorded = ins->coupons_recorded + 1;
    copy.units_at_last_coupon = ins->units_outstanding;
    rc = esg_instrument_put(ctx->st, &copy);
out:
    lines_release(&holders);
    lines_release(&cos);
    return rc;
}

/* Records the redemption: face value per unit to every holder; the units
 * are burned (rows keep their coupon snapshot) and the instrument is
 * MATURED. */
static int record_redemption(esg_tx_ctx *ctx, const esg_pb_instrument_record *ins,
                             const char *due_date, const esg_holding_list *hl) {
    const esg_pb_instrument_spec *s = ins->spec;
    lines holders = {0}, cos = {0};
    uint64_t total;
    int rc;
    if ((rc = holder_lines(ctx, hl, s->face_value, &holders, &total)) != 0 ||
        (rc = co_issuer_lines(s, total, &cos)) != 0)
        goto out;
    esg_pb_payment p = ESG_PB_PAYMENT_INIT;
    p.instrument = s->id;
    p.kind = ESG_PAYMENT_REDEMPTION;
    p.due_date = (char *)(uintptr_t)due_date;
    p.seq = 1;
    p.height = ctx->height;
    p.time_ms = ctx->time_ms;
    p.per_unit = s->face_value;
    p.total = total;
    p.holders = holders.p;
    p.n_holders = holders.n;
    p.co_issuers = cos.p;
    p.n_co_issuers = cos.n;
    p.tx_id = esg_pb_bin(ctx->tx->id.b, 32);
    uint8_t key[PAYMENT_KEY_MAX];
    size_t klen = payment_key(key, s->id, ESG_PAYMENT_REDEMPTION, 1);
    if ((rc = esg_state_put_msg(ctx->st, ESG_T_PAYMENTS, key, klen, &p.base)) != 0)
        goto out;
    for (size_t i = 0; i < hl->n; i++) {
        const esg_pb_holding *h = hl->v[i];
        if ((rc = esg_holding_put(ctx->st, s->id, h->member, 0, h->units_at_last_coupon)) != 0)
            goto out;
    }
    esg_pb_instrument_record copy = *ins;
    copy.units_outstanding = 0;
    copy.status = ESG_INSTRUMENT_STATUS_MATURED;
    copy.matured_height = ctx->height;
    rc = esg_instrument_put(ctx->st, &copy);
out:
    lines_release(&holders);
    lines_release(&cos);
    return rc;
}

int esg_payment_record(esg_tx_ctx *ctx) {
    const esg_pb_record_payment *rp = ctx->body->record_payment;
    esg_pb_instrument_record *ins;
    int rc = esg_instrument_get(ctx->st, rp->instrument, &ins);
    if (rc == ESG_ERR_UNKNOWN_INSTRUMENT)
        return esg_tx_fail(ctx, rc, "no instrument '%s'", esg_rec_quote(rp->instrument).s);
    if (rc)
        return rc;
    const esg_pb_instrument_spec *s = ins->spec;
    int32_t *sched = NULL;
    esg_holding_list hl = ESG_HOLDING_LIST_INIT;
    if ((rc = require_agent(ctx, ins)) != 0)
        goto out;
    if (ins->status != ESG_INSTRUMENT_STATUS_ACTIVE) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_STATUS, "instrument '%s' is %s, not ACTIVE", s->id,
                         ins->status == ESG_INSTRUMENT_STATUS_OFFERING ? "OFFERING"
                         : ins->status == ESG_INSTRUMENT_STATUS_MATURED ? "MATURED"
                                                                         : "UNKNOWN");
        goto out;
    }
    if (rp->kind != ESG_PAYMENT_COUPON && rp->kind != ESG_PAYMENT_REDEMPTION) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_PAYMENT_KIND, "payment kind %d is not COUPON or "
                         "REDEMPTION", (int)rp->kind);
        goto out;
    }
    int32_t due;
    if (esg_date_parse(rp->due_date, &due) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_DATE, "due date '%s' must be YYYY-MM-DD",
                         esg_rec_quote(rp->due_date).s);
        goto out;
    }
    if (!(sched = malloc(ESG_MAX_SCHEDULE * sizeof *sched))) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    size_t n;
    if ((rc = esg_schedule(s, sched, ESG_MAX_SCHEDULE, &n)) != 0) {
        rc = ESG_ERR_STORE_CORRUPT; /* the spec was validated at issue */
        goto out;
    }
    char want[11];
    if (rp->kind == ESG_PAYMENT_COUPON) {
        if (ins->coupons_recorded >= n) {
            rc = esg_tx_fail(ctx, ESG_ERR_WRONG_DUE_DATE, "all %zu coupons of '%s' are recorded",
                             n, s->id);
            goto out;
        }
        int32_t next = sched[ins->coupons_recorded];
        if (due != next) {
            esg_date_format(next, want);
            rc = esg_tx_fail(ctx, ESG_ERR_WRONG_DUE_DATE, "the next coupon of '%s' is due %s, "
                             "not %s", s->id, want, rp->due_date);
            goto out;
        }
    } else {
        int32_t maturity = sched[n - 1];
        if (due != maturity) {
            rc = esg_tx_fail(ctx, ESG_ERR_REDEMPTION_EARLY, "'%s' is redeemed at maturity %s, "
                             "not %s", s->id, s->maturity_date, rp->due_date);
            goto out;
        }
        if (ins->coupons_recorded < n) {
            esg_date_format(sched[ins->coupons_recorded], want);
            rc = esg_tx_fail(ctx, ESG_ERR_REDEMPTION_EARLY, "coupon %u of '%s' (due %s) is not "
                             "recorded yet", ins->coupons_recorded + 1, s->id, want);
            goto out;
        }
    }
    if ((rc = require_due(ctx, due)) != 0)
        goto out;
    if ((rc = esg_holdings_load(ctx->st, s->id, &hl)) != 0)
        goto out;
    if (rp->kind == ESG_PAYMENT_COUPON)
        rc = record_coupon(ctx, ins, rp->due_date, due, &hl);
    else
        rc = record_redemption(ctx, ins, rp->due_date, &hl);
out:
    esg_holdings_release(&hl);
    free(sched);
    esg_pb_free(ins);
    return rc;
}
