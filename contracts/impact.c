/* Impact: ReportImpact, AttestImpact, RevokeAttestation, DisputeImpact,
 * and the counting rules.
 *
 * Layout in state: a report, an attestation and a dispute are each one
 * record keyed by the id of the transaction that made it. A report lists
 * its attestations and disputes (ids, in order), so counting a report reads
 * the report and its attestations, nothing else. ESG_T_REPORT_SLOTS maps
 * (instrument, project, KPI, period) to the one live report of that slot,
 * which is what makes "a second report must supersede the first" a single
 * lookup; ESG_T_INSTRUMENT_REPORTS lists every report of an instrument,
 * superseded ones included, for the sums and the API.
 *
 * Nothing here keeps a running total: counted values depend on
 * attestations that can be revoked later, so they are computed from the
 * records whenever asked, and every node computes them the same way. */
#include "contracts/impact.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/instrument.h"
#include "contracts/records.h"
#include "ledger/error.h"
#include "ledger/genesis.h"

#define MAX_INSTRUMENT_ID 40
#define MAX_METHODOLOGY_CHARS 1000
#define MAX_URI_CHARS 500
#define MAX_REASON_CHARS 500

/* ------------------------------------------------------------ helpers */

/* True for "" or text esg_rec_text_valid accepts: optional free text. */
static bool optional_text_valid(const char *s, size_t max_chars) {
    return s[0] == '\0' || esg_rec_text_valid(s, max_chars);
}

/* instrument ‖ 0 into prefix (MAX_INSTRUMENT_ID + 1 bytes of room);
 * returns the length, or 0 when no instrument can have that id. */
static size_t instrument_prefix(uint8_t *prefix, const char *instrument) {
    size_t n = strlen(instrument);
    if (n == 0 || n > MAX_INSTRUMENT_ID)
        return 0;
    memcpy(prefix, instrument, n);
    prefix[n] = 0;
    return n + 1;
}

/* Loads the instrument a transaction names; ESG_ERR_UNKNOWN_INSTRUMENT with
 * a message when there is none. */
static int require_instrument(esg_tx_ctx *ctx, const char *id,
                              esg_pb_instrument_record **out) {
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    *out = NULL;
    int rc = instrument_prefix(prefix, id) ? esg_instrument_get(ctx->st, id, out)
                                           : ESG_ERR_UNKNOWN_INSTRUMENT;
    if (rc == ESG_ERR_UNKNOWN_INSTRUMENT || rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_INSTRUMENT, "no instrument '%s'",
                           esg_rec_quote(id).s);
    return rc;
}

static int report_get(esg_state *st, const uint8_t id[32], esg_pb_report **out) {
    *out = NULL;
    return esg_state_get_msg(st, ESG_T_REPORTS, id, 32, ESG_PB_REPORT_DESC,
                             (ProtobufCMessage **)out);
}

static int attestation_get(esg_state *st, const uint8_t id[32], esg_pb_attestation **out) {
    *out = NULL;
    return esg_state_get_msg(st, ESG_T_ATTESTATIONS, id, 32, ESG_PB_ATTESTATION_DESC,
                             (ProtobufCMessage **)out);
}

/* Loads the report a transaction names: ESG_ERR_UNKNOWN_REPORT (with a
 * message) when the id is not 32 bytes or there is no such report. */
static int require_report(esg_tx_ctx *ctx, const esg_pb_bytes *id, esg_pb_report **out) {
    esg_hash h;
    *out = NULL;
    if (esg_pb_bytes32(id, &h) != 0)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_REPORT, "report id must be 32 bytes, got %zu",
                           id->len);
    int rc = report_get(ctx->st, h.b, out);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_REPORT, "no impact report '%s'",
                           esg_hash_hex(&h).s);
    return rc;
}

/* A copy of the n ids of `old` with `id` appended (shallow: the entries
 * point at the old ids and at `id`). Caller frees the array with free(). */
static esg_pb_bytes *ids_append(const esg_pb_bytes *old, size_t n, const esg_hash *id) {
    esg_pb_bytes *v = malloc((n + 1) * sizeof *v);
    if (!v)
        return NULL;
    if (n)
        memcpy(v, old, n * sizeof *v);
    v[n] = esg_pb_bin(id->b, 32);
    return v;
}

/* The slot key instrument ‖ 0 ‖ project ‖ 0 ‖ kpi ‖ 0 ‖ start ‖ 0 ‖ end of
 * a report into key (ESG_STATE_MAX_KEY bytes); returns its length, or 0
 * when it does not fit. */
static size_t slot_key(uint8_t key[ESG_STATE_MAX_KEY], const esg_pb_report_impact *r) {
    const char *parts[5] = {r->instrument, r->project_id, r->kpi, r->period_start,
                            r->period_end};
    size_t len = 0;
    for (size_t i = 0; i < 5; i++) {
        size_t n = strlen(parts[i]);
        if (len + n + (i < 4) > ESG_STATE_MAX_KEY)
            return 0;
        memcpy(key + len, parts[i], n);
        len += n;
        if (i < 4)
            key[len++] = 0;
    }
    return len;
}

static const esg_pb_project *find_project(const esg_pb_instrument_spec *spec, const char *id) {
    for (size_t i = 0; i < spec->n_projects; i++)
        if (strcmp(spec->projects[i]->id, id) == 0)
            return spec->projects[i];
    return NULL;
}

/* ------------------------------------------------------------ counting */

void esg_impact_count_rule(bool superseded, esg_pb_attestation *const *atts, size_t n,
                           bool *counts, int64_t *value) {
    *counts = false;
    *value = 0;
    if (superseded)
        return;
    bool any = false, rejected = false;
    int64_t min = 0;
    for (size_t i = 0; i < n; i++) {
        const esg_pb_attestation *a = atts[i];
        if (a->revoked)
            continue;
        if (a->opinion == ESG_OPINION_REJECTED) {
            rejected = true;
        } else if (a->opinion == ESG_OPINION_CONFIRMED || a->opinion == ESG_OPINION_QUALIFIED) {
            if (!any || a->verified_value < min)
                min = a->verified_value;
            any = true;
        }
    }
    if (any && !rejected) {
        *counts = true;
        *value = min;
    }
}

int esg_impact_report_counted(esg_state *st, const esg_pb_report *r, bool *counts,
                              int64_t *value) {
    assert(st && r && counts && value);
    *counts = false;
    *value = 0;
    if (r->superseded_by.len != 0)
        return ESG_OK;
    esg_pb_attestation **atts = calloc(r->n_attestations ? r->n_attestations : 1, sizeof *atts);
    if (!atts)
        return ESG_ERR_NOMEM;
    int rc = ESG_OK;
    size_t n = 0;
    for (; n < r->n_attestations; n++) {
        if (r->attestations[n].len != 32) {
            rc = ESG_ERR_STORE_CORRUPT;
            break;
        }
        if ((rc = attestation_get(st, r->attestations[n].data, &atts[n])) != 0) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            break;
        }
    }
    if (rc == 0)
        esg_impact_count_rule(false, atts, n, counts, value);
    for (size_t i = 0; i < n; i++)
        esg_pb_free(atts[i]);
    free(atts);
    return rc;
}

int esg_impact_sum(esg_state *st, const char *instrument, const char *kpi,
                   int32_t end_after, int32_t end_until, int64_t *sum,
                   size_t *n_counted) {
    assert(st && instrument && kpi && sum);
    *sum = 0;
    if (n_counted)
        *n_counted = 0;
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    size_t plen = instrument_prefix(prefix, instrument);
    if (plen == 0)
        return ESG_OK;
    /* The reports are read after the iteration (key: instrument ‖ 0 ‖ id). */
    esg_rec_tail32 ids = {0};
    int rc = esg_state_iter(st, ESG_T_INSTRUMENT_REPORTS, prefix, plen, esg_rec_collect_tail32,
                            &ids);
    int64_t total = 0;
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        esg_pb_report *r;
        if ((rc = report_get(st, ids.v[i].b, &r)) != 0) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            break;
        }
        int32_t end;
        bool counts = false;
        int64_t v = 0;
        if (!r->report || esg_date_parse(r->report->period_end, &end) != 0)
            rc = ESG_ERR_STORE_CORRUPT;
        else if (strcmp(r->report->kpi, kpi) == 0 && end > end_after && end <= end_until)
            rc = esg_impact_report_counted(st, r, &counts, &v);
        esg_pb_free(r);
        if (rc || !counts)
            continue;
        if ((v > 0 && total > INT64_MAX - v) || (v < 0 && total < INT64_MIN - v)) {
            rc = ESG_ERR_OVERFLOW;
            break;
        }
        total += v;
        n++;
    }
    free(ids.v);
    if (rc)
        return rc;
    *sum = total;
    if (n_counted)
        *n_counted = n;
    return ESG_OK;
}

int esg_impact_attributed(esg_state *st, const char *instrument, const char *kpi,
                          const char *member, int64_t *value, uint64_t *units,
                          uint64_t *outstanding) {
    assert(st && instrument && kpi && member && value);
    *value = 0;
    if (units)
        *units = 0;
    if (outstanding)
        *outstanding = 0;
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    if (!instrument_prefix(prefix, instrument))
        return ESG_ERR_UNKNOWN_INSTRUMENT;
    esg_pb_instrument_record *ins;
    int rc = esg_instrument_get(st, instrument, &ins);
    if (rc)
        return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_UNKNOWN_INSTRUMENT : rc;
    uint64_t u = 0, out = 0;
    if (ins->status == ESG_INSTRUMENT_STATUS_ACTIVE) {
        out = ins->units_outstanding;
        rc = esg_holding_units(st, instrument, member, &u);
    } else if (ins->status == ESG_INSTRUMENT_STATUS_MATURED) {
        /* Redemption burned every unit: attribute by the snapshot taken at
         * the last coupon. */
        out = ins->units_at_last_coupon;
        /* ESG_T_HOLDINGS key: instrument ‖ 0 ‖ member (ids of at most 40). */
        uint8_t key[2 * MAX_INSTRUMENT_ID + 1];
        if (esg_member_id_valid(member)) {
            size_t plen = strlen(instrument) + 1, mlen = strlen(member);
            memcpy(key, prefix, plen);
            memcpy(key + plen, member, mlen);
            esg_pb_holding *h;
            rc = esg_state_get_msg(st, ESG_T_HOLDINGS, key, plen + mlen, ESG_PB_HOLDING_DESC,
                                   (ProtobufCMessage **)&h);
            if (rc == 0) {
                u = h->units_at_last_coupon;
                esg_pb_free(h);
            } else if (rc == ESG_ERR_NOT_FOUND) {
                rc = ESG_OK;
            }
        }
    }
    /* OFFERING: no units are outstanding yet, nothing is attributed. */
    esg_pb_free(ins);
    if (rc)
        return rc;
    if (u > out)
        return ESG_ERR_STORE_CORRUPT; /* a holder cannot hold more than all units */
    int64_t total = 0;
    if (out > 0 &&
        (rc = esg_impact_sum(st, instrument, kpi, INT32_MIN, INT32_MAX, &total, NULL)) != 0)
        return rc;
    if (out > 0 && total > 0) {
        /* total x u < 2^63 x 2^64 fits 128 bits; the quotient is <= total. */
        unsigned __int128 q = (unsigned __int128)(uint64_t)total * u / out;
        *value = (int64_t)q;
    }
    if (units)
        *units = u;
    if (outstanding)
        *outstanding = out;
    return ESG_OK;
}

/* ---------------------------------------------------------- ReportImpact */

int esg_impact_report(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_report_impact *ri = ctx->body->report_impact;
    esg_pb_instrument_record *ins;
    if ((rc = require_instrument(ctx, ri->instrument, &ins)) != 0)
        return rc;
    esg_pb_kpi *kpi = NULL;
    esg_pb_report *old = NULL;
    const esg_pb_project *proj = find_project(ins->spec, ri->project_id);
    int32_t start, end;
    uint8_t key[ESG_STATE_MAX_KEY];
    size_t klen;
    if (!proj) {
        rc = esg_tx_fail(ctx, ESG_ERR_UNKNOWN_PROJECT, "instrument '%s' has no project '%s'",
                         ins->spec->id, esg_rec_quote(ri->project_id).s);
        goto out;
    }
    if (strcmp(proj->city, ctx->signer->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_PROJECT_CITY,
                         "project '%s' belongs to '%s', not '%s'", proj->id, proj->city,
                         ctx->signer->member);
        goto out;
    }
    rc = esg_rec_kpi_get(ctx->st, ri->kpi, &kpi);
    if (rc == ESG_ERR_NOT_FOUND) {
        rc = esg_tx_fail(ctx, ESG_ERR_UNKNOWN_KPI, "no KPI '%s' in the catalogue",
                         esg_rec_quote(ri->kpi).s);
        goto out;
    }
    if (rc)
        goto out;
    if (ri->value < 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_AMOUNT, "value must not be negative");
        goto out;
    }
    if (esg_date_parse(ri->period_start, &start) != 0 ||
        esg_date_parse(ri->period_end, &end) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_DATE, "period '%s'..'%s' is not two valid YYYY-MM-DD",
                         esg_rec_quote(ri->period_start).s, esg_rec_quote(ri->period_end).s);
        goto out;
    }
    if (start >= end) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_PERIOD, "period start %s is not before its end %s",
                         ri->period_start, ri->period_end);
        goto out;
    }
    if (ri->evidence_sha256.len != 32) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_HASH, "evidence_sha256 must be 32 bytes, got %zu",
                         ri->evidence_sha256.len);
        goto out;
    }
    if (!optional_text_valid(ri->methodology, MAX_METHODOLOGY_CHARS) ||
        !optional_text_valid(ri->evidence_uri, MAX_URI_CHARS) ||
        !optional_text_valid(ri->reason, MAX_REASON_CHARS)) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_TEXT,
                         "methodology (up to 1000 characters), evidence_uri and reason (up "
                         "to 500) must hold no control character");
        goto out;
    }
    /* Ids of at most 40 (instrument, project) and 64 (KPI) characters and
     * two dates always fit. */
    if (!(klen = slot_key(key, ri))) {
        rc = ESG_ERR_INTERNAL;
        goto out;
    }

    /* The slot: at most one live report per (instrument, project, KPI,
     * period); a new one must name it and say why. */
    MDB_val live;
    rc = esg_state_get(ctx->st, ESG_T_REPORT_SLOTS, key, klen, &live);
    if (rc && rc != ESG_ERR_NOT_FOUND)
        goto out;
    bool occupied = rc == 0;
    esg_hash live_id;
    if (occupied) {
        if (live.mv_size != 32) {
            rc = ESG_ERR_STORE_CORRUPT;
            goto out;
        }
        memcpy(live_id.b, live.mv_data, 32);
    }
    rc = ESG_OK;
    if (!occupied && ri->supersedes.len != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_SUPERSEDES,
                         "no live report of '%s' for '%s' over %s..%s to supersede",
                         proj->id, kpi->id, ri->period_start, ri->period_end);
        goto out;
    }
    if (occupied && ri->supersedes.len == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_DUPLICATE_REPORT,
                         "report '%s' is live for '%s', '%s' over %s..%s: name it in "
                         "supersedes", esg_hash_hex(&live_id).s, proj->id, kpi->id,
                         ri->period_start, ri->period_end);
        goto out;
    }
    if (occupied && (ri->supersedes.len != 32 ||
                     memcmp(ri->supersedes.data, live_id.b, 32) != 0)) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_SUPERSEDES,
                         "supersedes must name the live report '%s'", esg_hash_hex(&live_id).s);
        goto out;
    }
    if (occupied && ri->reason[0] == '\0') {
        rc = esg_tx_fail(ctx, ESG_ERR_MISSING_REASON,
                         "superseding report '%s' needs a reason", esg_hash_hex(&live_id).s);
        goto out;
    }

    if (occupied) {
        if ((rc = report_get(ctx->st, live_id.b, &old)) != 0) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            goto out;
        }
        esg_pb_report copy = *old;
        copy.superseded_by = esg_pb_bin(ctx->tx->id.b, 32);
        if ((rc = esg_state_put_msg(ctx->st, ESG_T_REPORTS, live_id.b, 32, &copy.base)) != 0)
            goto out;
    }
    esg_pb_report rec = ESG_PB_REPORT_INIT;
    rec.id = esg_pb_bin(ctx->tx->id.b, 32);
    rec.report = (esg_pb_report_impact *)(uintptr_t)ri;
    rec.city = proj->city;
    rec.height = ctx->height;
    rec.time_ms = ctx->time_ms;
    if ((rc = esg_state_put_msg(ctx->st, ESG_T_REPORTS, ctx->tx->id.b, 32, &rec.base)) != 0 ||
        (rc = esg_state_put(ctx->st, ESG_T_REPORT_SLOTS, key, klen, ctx->tx->id.b, 32)) != 0)
        goto out;
    size_t plen = strlen(ri->instrument) + 1; /* instrument ‖ 0 starts the slot key */
    memcpy(key + plen, ctx->tx->id.b, 32);
    rc = esg_state_put(ctx->st, ESG_T_INSTRUMENT_REPORTS, key, plen + 32, "", 0);
out:
    esg_pb_free(old);
    esg_pb_free(kpi);
    esg_pb_free(ins);
    return rc;
}

/* ---------------------------------------------------------- AttestImpact */

int esg_impact_attest(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    esg_pb_member *me;
    if ((rc = esg_rec_require_kind(ctx, ESG_MEMBER_VERIFIER, &me)) != 0)
        return rc;
    const esg_pb_attest_impact *ai = ctx->body->attest_impact;
    esg_pb_report *r = NULL;
    esg_pb_kpi *kpi = NULL;
    esg_pb_bytes *ids = NULL;
    if ((rc = require_report(ctx, &ai->report_id, &r)) != 0)
        goto out;
    esg_hash rid;
    esg_pb_bytes32(&ai->report_id, &rid); /* 32 bytes: require_report checked */
    if (r->superseded_by.len != 0) {
        esg_hash by = {{0}};
        if (r->superseded_by.len == 32)
            memcpy(by.b, r->superseded_by.data, 32);
        rc = esg_tx_fail(ctx, ESG_ERR_REPORT_SUPERSEDED,
                         "report '%s' has been superseded by '%s'", esg_hash_hex(&rid).s,
                         esg_hash_hex(&by).s);
        goto out;
    }
    if (!r->report) {
        rc = ESG_ERR_STORE_CORRUPT;
        goto out;
    }
    rc = esg_rec_kpi_get(ctx->st, r->report->kpi, &kpi);
    if (rc) {
        rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc; /* KPIs are never removed */
        goto out;
    }
    if (!esg_str_in(kpi->category, me->accredited_categories, me->n_accredited_categories)) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_ACCREDITED,
                         "verifier '%s' is not accredited for '%s' (KPI '%s')", me->id,
                         kpi->category, kpi->id);
        goto out;
    }
    if (ai->opinion != ESG_OPINION_CONFIRMED && ai->opinion != ESG_OPINION_QUALIFIED &&
        ai->opinion != ESG_OPINION_REJECTED) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_OPINION,
                         "opinion %d is not CONFIRMED, QUALIFIED or REJECTED", (int)ai->opinion);
        goto out;
    }
    if (ai->verified_value < 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_AMOUNT, "verified_value must not be negative");
        goto out;
    }
    if (ai->statement_sha256.len != 32) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_HASH, "statement_sha256 must be 32 bytes, got %zu",
                         ai->statement_sha256.len);
        goto out;
    }
    for (size_t i = 0; i < r->n_attestations; i++) {
        esg_pb_attestation *a;
        if (r->attestations[i].len != 32) {
            rc = ESG_ERR_STORE_CORRUPT;
            goto out;
        }
        if ((rc = attestation_get(ctx->st, r->attestations[i].data, &a)) != 0) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            goto out;
        }
        bool mine = !a->revoked && strcmp(a->verifier, me->id) == 0;
        esg_pb_free(a);
        if (mine) {
            esg_hash aid;
            memcpy(aid.b, r->attestations[i].data, 32);
            rc = esg_tx_fail(ctx, ESG_ERR_ALREADY_ATTESTED,
                             "'%s' has a live attestation '%s' of this report: revoke it first",
                             me->id, esg_hash_hex(&aid).s);
            goto out;
        }
    }

    esg_pb_attestation a = ESG_PB_ATTESTATION_INIT;
    a.id = esg_pb_bin(ctx->tx->id.b, 32);
    a.report_id = ai->report_id;
    a.verifier = me->id;
    a.opinion = ai->opinion;
    a.verified_value = ai->verified_value;
    a.statement_sha256 = ai->statement_sha256;
    a.height = ctx->height;
    if ((rc = esg_state_put_msg(ctx->st, ESG_T_ATTESTATIONS, ctx->tx->id.b, 32, &a.base)) != 0)
        goto out;
    if (!(ids = ids_append(r->attestations, r->n_attestations, &ctx->tx->id))) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    esg_pb_report copy = *r;
    copy.attestations = ids;
    copy.n_attestations = r->n_attestations + 1;
    rc = esg_state_put_msg(ctx->st, ESG_T_REPORTS, ai->report_id.data, 32, &copy.base);
out:
    free(ids);
    esg_pb_free(kpi);
    esg_pb_free(r);
    esg_pb_free(me);
    return rc;
}

/* ----------------------------------------------------- RevokeAttestation */

int esg_impact_revoke(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_revoke_attestation *ra = ctx->body->revoke_attestation;
    esg_hash id;
    if (esg_pb_bytes32(&ra->attestation_id, &id) != 0)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_ATTESTATION,
                           "attestation id must be 32 bytes, got %zu", ra->attestation_id.len);
    esg_pb_attestation *a;
    rc = attestation_get(ctx->st, id.b, &a);
    if (rc == ESG_ERR_NOT_FOUND)
        return esg_tx_fail(ctx, ESG_ERR_UNKNOWN_ATTESTATION, "no attestation '%s'",
                           esg_hash_hex(&id).s);
    if (rc)
        return rc;
    if (strcmp(a->verifier, ctx->signer->member) != 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_ATTESTER, "attestation '%s' was made by '%s', not '%s'",
                         esg_hash_hex(&id).s, a->verifier, ctx->signer->member);
        goto out;
    }
    if (a->revoked) {
        rc = esg_tx_fail(ctx, ESG_ERR_ATTESTATION_REVOKED,
                         "attestation '%s' was revoked at height %llu", esg_hash_hex(&id).s,
                         (unsigned long long)a->revoked_height);
        goto out;
    }
    if (ra->reason[0] == '\0') {
        rc = esg_tx_fail(ctx, ESG_ERR_MISSING_REASON, "revoking an attestation needs a reason");
        goto out;
    }
    if (!esg_rec_text_valid(ra->reason, MAX_REASON_CHARS)) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_TEXT,
                         "reason must be up to 500 characters with no control character");
        goto out;
    }
    esg_pb_attestation copy = *a;
    copy.revoked = true;
    copy.revoke_reason = ra->reason;
    copy.revoked_height = ctx->height;
    rc = esg_state_put_msg(ctx->st, ESG_T_ATTESTATIONS, id.b, 32, &copy.base);
out:
    esg_pb_free(a);
    return rc;
}

/* --------------------------------------------------------- DisputeImpact */

int esg_impact_dispute(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_dispute_impact *di = ctx->body->dispute_impact;
    esg_pb_report *r;
    if ((rc = require_report(ctx, &di->report_id, &r)) != 0)
        return rc;
    esg_pb_bytes *ids = NULL;
    uint64_t units = 0;
    if (!r->report) {
        rc = ESG_ERR_STORE_CORRUPT;
        goto out;
    }
    if ((rc = esg_holding_units(ctx->st, r->report->instrument, ctx->signer->member,
                                &units)) != 0)
        goto out;
    if (units == 0) {
        rc = esg_tx_fail(ctx, ESG_ERR_NOT_HOLDER, "'%s' holds no units of '%s'",
                         ctx->signer->member, r->report->instrument);
        goto out;
    }
    if (di->reason[0] == '\0') {
        rc = esg_tx_fail(ctx, ESG_ERR_MISSING_REASON, "a dispute needs a reason");
        goto out;
    }
    if (!esg_rec_text_valid(di->reason, MAX_REASON_CHARS)) {
        rc = esg_tx_fail(ctx, ESG_ERR_BAD_TEXT,
                         "reason must be up to 500 characters with no control character");
        goto out;
    }
    esg_pb_dispute d = ESG_PB_DISPUTE_INIT;
    d.id = esg_pb_bin(ctx->tx->id.b, 32);
    d.report_id = di->report_id;
    d.member = ctx->signer->member;
    d.reason = di->reason;
    d.height = ctx->height;
    if ((rc = esg_state_put_msg(ctx->st, ESG_T_DISPUTES, ctx->tx->id.b, 32, &d.base)) != 0)
        goto out;
    if (!(ids = ids_append(r->disputes, r->n_disputes, &ctx->tx->id))) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    esg_pb_report copy = *r;
    copy.disputes = ids;
    copy.n_disputes = r->n_disputes + 1;
    rc = esg_state_put_msg(ctx->st, ESG_T_REPORTS, di->report_id.data, 32, &copy.base);
out:
    free(ids);
    esg_pb_free(r);
    return rc;
}
