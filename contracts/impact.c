/* Impact: ReportImpact, AttestImpact, RevokeAttestation, DisputeImpact,
 * and the counting rules.
 *
 * Layout in state: a report, an attestation and a dispute are each one
 * record keyed by the id of the transaction that made it. A report lists
 * its attestations and disputes (ids, in order), so counting a report reads
 * the report and its attestations, nothing else. ESG_T_PROJECT_REPORTS
 * lists every report of a project per KPI, superseded ones included: the
 * overlap rule scans it (a project has a handful of reports per KPI, one a
 * year or a quarter), and so do the sums. ESG_T_INSTRUMENT_REPORTS lists
 * the reports that name an instrument, for that instrument's documents.
 *
 * Nothing here keeps a running total: counted values depend on
 * attestations that can be revoked later, so they are computed from the
 * records whenever asked, and every node computes them the same way. */
#include "contracts/impact.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/instrument.h"
#include "contracts/projects.h"
#include "contracts/records.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"

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

/* project ‖ 0 ‖ kpi ‖ 0 into key (ESG_STATE_MAX_KEY bytes of room): the
 * prefix of a project's reports of one KPI in ESG_T_PROJECT_REPORTS
 * (kpi NULL: project ‖ 0, all its reports). Returns the length, or 0 when
 * no project or KPI can have those ids. */
static size_t project_kpi_prefix(uint8_t *key, const char *project, const char *kpi) {
    size_t np = strlen(project), nk = kpi ? strlen(kpi) : 0;
    if (!esg_project_id_valid(project) || nk > 64)
        return 0;
    memcpy(key, project, np);
    key[np] = 0;
    if (!kpi)
        return np + 1;
    memcpy(key + np + 1, kpi, nk);
    key[np + 1 + nk] = 0;
    return np + nk + 2;
}

static bool in_spec(const esg_pb_instrument_spec *spec, const char *project) {
    for (size_t i = 0; i < spec->n_projects; i++)
        if (strcmp(spec->projects[i]->id, project) == 0)
            return true;
    return false;
}

/* The reports of `project` for `kpi` (NULL: every KPI), decoded, in the
 * index's order (report id), into *out. */
static int project_reports(esg_state *st, const char *project, const char *kpi,
                           esg_rec_msgs *out) {
    uint8_t prefix[ESG_STATE_MAX_KEY];
    size_t plen = project_kpi_prefix(prefix, project, kpi);
    memset(out, 0, sizeof *out);
    if (plen == 0)
        return ESG_OK;
    esg_rec_tail32 ids = {0};
    int rc = esg_state_iter(st, ESG_T_PROJECT_REPORTS, prefix, plen, esg_rec_collect_tail32,
                            &ids);
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        esg_pb_report *r;
        if ((rc = report_get(st, ids.v[i].b, &r)) != 0) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            break;
        }
        if (!r->report) {
            esg_pb_free(r);
            rc = ESG_ERR_STORE_CORRUPT;
            break;
        }
        rc = esg_rec_msgs_push(out, r);
    }
    free(ids.v);
    if (rc)
        esg_rec_msgs_free(out);
    return rc;
}

int esg_impact_project_reports(esg_state *st, const char *project, const char *kpi,
                               esg_rec_msgs *out) {
    return project_reports(st, project, kpi, out);
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

int esg_impact_project_sum(esg_state *st, const char *project, const char *kpi,
                           int32_t end_after, int32_t end_until, int64_t *sum,
                           size_t *n_counted) {
    assert(st && project && kpi && sum);
    *sum = 0;
    if (n_counted)
        *n_counted = 0;
    esg_rec_msgs reports;
    int rc = project_reports(st, project, kpi, &reports);
    int64_t total = 0;
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < reports.n; i++) {
        const esg_pb_report *r = reports.v[i];
        int32_t end;
        bool counts = false;
        int64_t v = 0;
        if (esg_date_parse(r->report->period_end, &end) != 0)
            rc = ESG_ERR_STORE_CORRUPT;
        else if (end > end_after && end <= end_until)
            rc = esg_impact_report_counted(st, r, &counts, &v);
        if (rc || !counts)
            continue;
        /* Counted values are verified values, never negative. */
        if (v < 0) {
            rc = ESG_ERR_STORE_CORRUPT;
        } else if (total > INT64_MAX - v) {
            rc = ESG_ERR_OVERFLOW;
        } else {
            total += v;
            n++;
        }
    }
    esg_rec_msgs_free(&reports);
    if (rc)
        return rc;
    *sum = total;
    if (n_counted)
        *n_counted = n;
    return ESG_OK;
}

/* Loads instrument `id` for a query: ESG_ERR_UNKNOWN_INSTRUMENT when
 * there is none. */
static int query_instrument(esg_state *st, const char *id, esg_pb_instrument_record **ins) {
    uint8_t prefix[MAX_INSTRUMENT_ID + 1];
    *ins = NULL;
    if (!instrument_prefix(prefix, id))
        return ESG_ERR_UNKNOWN_INSTRUMENT;
    int rc = esg_instrument_get(st, id, ins);
    return rc == ESG_ERR_NOT_FOUND ? ESG_ERR_UNKNOWN_INSTRUMENT : rc;
}

int esg_impact_sum(esg_state *st, const char *instrument, const char *kpi,
                   int32_t end_after, int32_t end_until, int64_t *sum,
                   size_t *n_counted) {
    assert(st && instrument && kpi && sum);
    *sum = 0;
    if (n_counted)
        *n_counted = 0;
    esg_pb_instrument_record *ins;
    int rc = query_instrument(st, instrument, &ins);
    if (rc)
        return rc == ESG_ERR_UNKNOWN_INSTRUMENT ? ESG_OK : rc;
    int64_t total = 0;
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < ins->spec->n_projects; i++) {
        int64_t v;
        size_t k;
        rc = esg_impact_project_sum(st, ins->spec->projects[i]->id, kpi, end_after, end_until,
                                    &v, &k);
        if (rc == 0 && total > INT64_MAX - v)
            rc = ESG_ERR_OVERFLOW;
        if (rc == 0) {
            total += v;
            n += k;
        }
    }
    esg_pb_free(ins);
    if (rc)
        return rc;
    *sum = total;
    if (n_counted)
        *n_counted = n;
    return ESG_OK;
}

int esg_impact_instrument_attributed(esg_state *st, const char *instrument, const char *kpi,
                                     int32_t end_after, int32_t end_until, int64_t *value) {
    assert(st && instrument && kpi && value);
    *value = 0;
    esg_pb_instrument_record *ins;
    int rc = query_instrument(st, instrument, &ins);
    if (rc)
        return rc;
    int64_t total = 0;
    for (size_t i = 0; rc == 0 && i < ins->spec->n_projects; i++) {
        const char *pid = ins->spec->projects[i]->id;
        int64_t c;
        if ((rc = esg_impact_project_sum(st, pid, kpi, end_after, end_until, &c, NULL)) != 0 ||
            c == 0)
            continue;
        esg_pb_project_record *p;
        if ((rc = esg_project_get(st, pid, &p)) != 0) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            break;
        }
        esg_project_financing fin;
        rc = esg_project_financing_get(st, p, end_until, &fin);
        if (rc == 0) {
            int64_t part = esg_project_share_of(c, esg_project_financing_of(&fin, instrument),
                                                fin.basis);
            if (total > INT64_MAX - part)
                rc = ESG_ERR_OVERFLOW;
            else
                total += part;
        }
        esg_project_financing_release(&fin);
        esg_pb_free(p);
    }
    esg_pb_free(ins);
    if (rc == 0)
        *value = total;
    return rc;
}

int esg_impact_holder_units(esg_state *st, const esg_pb_instrument_record *ins,
                            const char *member, uint64_t *units, uint64_t *outstanding) {
    const char *instrument = ins->spec->id;
    uint64_t u = 0, out = 0;
    int rc = ESG_OK;
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
            memcpy(key, instrument, plen);
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
    if (rc == 0 && u > out)
        rc = ESG_ERR_STORE_CORRUPT; /* a holder cannot hold more than all units */
    *units = rc ? 0 : u;
    *outstanding = rc ? 0 : out;
    return rc;
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
    esg_pb_instrument_record *ins;
    int rc = query_instrument(st, instrument, &ins);
    if (rc)
        return rc;
    uint64_t u, out;
    rc = esg_impact_holder_units(st, ins, member, &u, &out);
    esg_pb_free(ins);
    if (rc)
        return rc;
    int64_t total = 0;
    if (out > 0 && (rc = esg_impact_instrument_attributed(st, instrument, kpi, INT32_MIN,
                                                          INT32_MAX, &total)) != 0)
        return rc;
    if (out > 0 && total > 0)
        *value = esg_project_share_of(total, u, out);
    if (units)
        *units = u;
    if (outstanding)
        *outstanding = out;
    return ESG_OK;
}

/* ---------------------------------------------------------- ReportImpact */

/* Inclusive periods [s1, e1] and [s2, e2] share a day. */
static bool periods_overlap(int32_t s1, int32_t e1, int32_t s2, int32_t e2) {
    return s1 <= e2 && s2 <= e1;
}

/* The rules against counting one project's impact twice: `supersedes`
 * (when set) must name a live report of the same project and KPI, and the
 * new period must not overlap any other live report of them. */
static int check_slot(esg_tx_ctx *ctx, const esg_pb_report_impact *ri, const char *project,
                      const char *kpi, int32_t start, int32_t end, esg_pb_report **old) {
    esg_rec_msgs live;
    *old = NULL;
    int rc = project_reports(ctx->st, project, kpi, &live);
    if (rc)
        return rc;
    esg_hash sup = {{0}};
    bool superseding = ri->supersedes.len != 0;
    if (superseding) {
        bool found = false;
        const esg_pb_report *stale = NULL;
        if (esg_pb_bytes32(&ri->supersedes, &sup) == 0)
            for (size_t i = 0; i < live.n && !found && !stale; i++) {
                esg_pb_report *r = live.v[i];
                if (r->id.len != 32 || memcmp(r->id.data, sup.b, 32) != 0)
                    continue;
                if (r->superseded_by.len != 0) {
                    stale = r;
                } else {
                    found = true;
                    *old = r;
                    live.v[i] = NULL; /* taken: not freed below */
                }
            }
        if (stale) {
            /* Point at its successor: the report a restatement must name. */
            esg_hash by = {{0}};
            if (stale->superseded_by.len == 32)
                memcpy(by.b, stale->superseded_by.data, 32);
            rc = esg_tx_fail(ctx, ESG_ERR_BAD_SUPERSEDES, "report '%s' of '%s' for '%s' was "
                             "superseded by '%s': supersede that one", esg_hash_hex(&sup).s,
                             project, kpi, esg_hash_hex(&by).s);
            goto out;
        }
        if (!found) {
            rc = esg_tx_fail(ctx, ESG_ERR_BAD_SUPERSEDES, "supersedes must name a live report "
                             "of '%s' for '%s'; '%s' is not one", project, kpi,
                             ri->supersedes.len == 32 ? esg_hash_hex(&sup).s : "(not 32 bytes)");
            goto out;
        }
    }
    for (size_t i = 0; i < live.n; i++) {
        const esg_pb_report *r = live.v[i];
        int32_t s2, e2;
        if (!r || r->superseded_by.len != 0)
            continue;
        if (esg_date_parse(r->report->period_start, &s2) != 0 ||
            esg_date_parse(r->report->period_end, &e2) != 0) {
            rc = ESG_ERR_STORE_CORRUPT;
            goto out;
        }
        esg_hash rid = {{0}};
        if (r->id.len == 32)
            memcpy(rid.b, r->id.data, 32);
        if (s2 == start && e2 == end) {
            rc = esg_tx_fail(ctx, ESG_ERR_DUPLICATE_REPORT,
                             "report '%s' is live for '%s', '%s' over %s..%s: name it in "
                             "supersedes", esg_hash_hex(&rid).s, project, kpi,
                             ri->period_start, ri->period_end);
            goto out;
        }
        if (periods_overlap(start, end, s2, e2)) {
            rc = esg_tx_fail(ctx, ESG_ERR_OVERLAPPING_PERIOD,
                             "period %s..%s overlaps report '%s' of '%s', '%s' over %s..%s: "
                             "supersede it or report another period", ri->period_start,
                             ri->period_end, esg_hash_hex(&rid).s, project, kpi,
                             r->report->period_start, r->report->period_end);
            goto out;
        }
    }
    if (superseding && ri->reason[0] == '\0')
        rc = esg_tx_fail(ctx, ESG_ERR_MISSING_REASON, "superseding report '%s' needs a reason",
                         esg_hash_hex(&sup).s);
out:
    esg_rec_msgs_free(&live);
    if (rc) {
        esg_pb_free(*old);
        *old = NULL;
    }
    return rc;
}

int esg_impact_report(esg_tx_ctx *ctx) {
    int rc = esg_rec_require_role(ctx, ESG_ROLE_OFFICER);
    if (rc)
        return rc;
    const esg_pb_report_impact *ri = ctx->body->report_impact;
    esg_pb_instrument_record *ins = NULL;
    esg_pb_project_record *proj = NULL;
    esg_pb_kpi *kpi = NULL;
    esg_pb_report *old = NULL;
    int32_t start, end;
    if (ri->instrument[0] && (rc = require_instrument(ctx, ri->instrument, &ins)) != 0)
        return rc;
    rc = esg_project_get(ctx->st, ri->project_id, &proj);
    if (rc == ESG_ERR_NOT_FOUND || (rc == 0 && ins && !in_spec(ins->spec, proj->id))) {
        rc = ins ? esg_tx_fail(ctx, ESG_ERR_UNKNOWN_PROJECT, "instrument '%s' does not finance "
                               "a project '%s'", ins->spec->id, esg_rec_quote(ri->project_id).s)
                 : esg_tx_fail(ctx, ESG_ERR_UNKNOWN_PROJECT, "no project '%s' is registered",
                               esg_rec_quote(ri->project_id).s);
        goto out;
    }
    if (rc)
        goto out;
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
    if (end > esg_block_day(ctx->time_ms)) {
        char today[11];
        esg_date_format(esg_block_day(ctx->time_ms), today);
        rc = esg_tx_fail(ctx, ESG_ERR_DATE_IN_FUTURE, "period end %s is after the block's date "
                         "%s: impact is reported once it happened", ri->period_end, today);
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
    if ((rc = check_slot(ctx, ri, proj->id, kpi->id, start, end, &old)) != 0)
        goto out;

    if (old) {
        esg_pb_report copy = *old;
        copy.superseded_by = esg_pb_bin(ctx->tx->id.b, 32);
        if ((rc = esg_state_put_msg(ctx->st, ESG_T_REPORTS, old->id.data, 32, &copy.base)) != 0)
            goto out;
    }
    esg_pb_report rec = ESG_PB_REPORT_INIT;
    rec.id = esg_pb_bin(ctx->tx->id.b, 32);
    rec.report = (esg_pb_report_impact *)(uintptr_t)ri;
    rec.city = proj->city;
    rec.height = ctx->height;
    rec.time_ms = ctx->time_ms;
    uint8_t key[ESG_STATE_MAX_KEY];
    size_t plen = project_kpi_prefix(key, proj->id, kpi->id);
    if (plen == 0) {
        rc = ESG_ERR_INTERNAL; /* both ids were found, so both are valid */
        goto out;
    }
    memcpy(key + plen, ctx->tx->id.b, 32);
    if ((rc = esg_state_put_msg(ctx->st, ESG_T_REPORTS, ctx->tx->id.b, 32, &rec.base)) != 0 ||
        (rc = esg_state_put(ctx->st, ESG_T_PROJECT_REPORTS, key, plen + 32, "", 0)) != 0)
        goto out;
    if (ins) {
        /* The instrument's own list of the reports that name it. */
        size_t ilen = instrument_prefix(key, ri->instrument);
        memcpy(key + ilen, ctx->tx->id.b, 32);
        rc = esg_state_put(ctx->st, ESG_T_INSTRUMENT_REPORTS, key, ilen + 32, "", 0);
    }
out:
    esg_pb_free(old);
    esg_pb_free(kpi);
    esg_pb_free(proj);
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
    if (r->report->instrument[0]) {
        rc = esg_holding_units(ctx->st, r->report->instrument, ctx->signer->member, &units);
    } else {
        /* A report of the project alone: a holder of any instrument that
         * finances it may dispute it. */
        esg_pb_project_record *p;
        if ((rc = esg_project_get(ctx->st, r->report->project_id, &p)) != 0) {
            rc = rc == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : rc;
            goto out;
        }
        for (size_t i = 0; rc == 0 && units == 0 && i < p->n_instruments; i++)
            rc = esg_holding_units(ctx->st, p->instruments[i], ctx->signer->member, &units);
        esg_pb_free(p);
    }
    if (rc)
        goto out;
    if (units == 0) {
        rc = r->report->instrument[0]
                 ? esg_tx_fail(ctx, ESG_ERR_NOT_HOLDER, "'%s' holds no units of '%s'",
                               ctx->signer->member, r->report->instrument)
                 : esg_tx_fail(ctx, ESG_ERR_NOT_HOLDER, "'%s' holds no units of an instrument "
                               "financing '%s'", ctx->signer->member, r->report->project_id);
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
