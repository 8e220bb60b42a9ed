/* esgwallet impact report | attest | revoke | dispute | check-evidence
 * (wallet/cli.h).
 *
 * A report is of a project; naming an instrument that finances it is
 * optional. A report, an attestation and a dispute are each identified by
 * the id of the transaction that made it (docs/WIRE.md §1); the submit path
 * prints it ("report <id>", and "report_id" with --json). Evidence and statements
 * stay off the ledger: the ledger keeps the SHA-256 of the file's bytes,
 * which check-evidence compares with a document at hand. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ledger/decimal.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "wallet/cli.h"

static void *new_msg(esgw_cli *cli, const void *init, size_t size) {
    void *m = esgw_cli__alloc(cli, size);
    if (m)
        memcpy(m, init, size);
    return m;
}
#define NEW_MSG(cli, type, init) ((type *)new_msg((cli), &(type)init, sizeof(type)))

static char *str(const char *s) {
    return (char *)(s ? s : "");
}

/* A decimal option ("1234.567") into thousandths. */
static int milli_opt(esgw_cli *cli, const esgw_args *a, const char *name, int64_t *out) {
    const char *v = esgw_cli__opt(a, name);
    int rc = esg_milli_parse(v, out);
    if (rc == ESG_ERR_OVERFLOW)
        return esgw_cli__fail(cli, rc, "--%s '%s' is out of range", name, v);
    if (rc)
        return esgw_cli__fail(cli, ESG_ERR_BAD_DECIMAL,
                              "--%s '%s' is not a decimal with at most three decimals "
                              "(\"1234.567\")", name, v);
    return 0;
}


/* The SHA-256 of file option `name` as a 32-byte field. */
static int file_hash_field(esgw_cli *cli, const esgw_args *a, const char *name,
                           esg_pb_bytes *out) {
    esg_hash *h = esgw_cli__alloc(cli, sizeof *h);
    char what[32];
    snprintf(what, sizeof what, "--%s", name);
    if (!h)
        return ESG_ERR_NOMEM;
    int rc = esgw_cli__sha256_file(cli, h, what, esgw_cli__opt(a, name));
    if (rc == 0)
        *out = esg_pb_bin(h->b, 32);
    return rc;
}


static int build_report(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_report_impact *m = NEW_MSG(cli, esg_pb_report_impact, ESG_PB_REPORT_IMPACT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc = milli_opt(cli, a, "value", &m->value);
    if (rc)
        return rc;
    /* --period START:END, both real dates, START before END. */
    const char *period = esgw_cli__opt(a, "period");
    char *copy = esgw_cli__strdup(cli, period);
    if (!copy)
        return ESG_ERR_NOMEM;
    char *colon = strchr(copy, ':');
    int32_t d0, d1;
    if (!colon)
        return esgw_cli__fail(cli, ESG_ERR_BAD_DATE,
                              "--period '%s' is not START:END (YYYY-MM-DD:YYYY-MM-DD)", period);
    *colon = '\0';
    if (esg_date_parse(copy, &d0) != 0 || esg_date_parse(colon + 1, &d1) != 0)
        return esgw_cli__fail(cli, ESG_ERR_BAD_DATE,
                              "--period '%s' is not START:END (YYYY-MM-DD:YYYY-MM-DD)", period);
    if (d0 >= d1)
        return esgw_cli__fail(cli, ESG_ERR_BAD_PERIOD, "--period '%s' does not start before it ends",
                              period);
    bool sup = esgw_cli__has(a, "supersedes"), why = esgw_cli__has(a, "reason");
    if (sup && !why)
        return esgw_cli__fail(cli, ESG_ERR_MISSING_REASON,
                              "--supersedes needs --reason (why the report is replaced)");
    if (why && !sup)
        return esgw_cli__usage(cli, "--reason goes with --supersedes REPORT");
    if (sup && ((rc = esgw_cli__record_id(cli, &m->supersedes, "--supersedes",
                                          esgw_cli__opt(a, "supersedes"))) != 0 ||
                (rc = esgw_cli__reason(cli, a, &m->reason)) != 0))
        return rc;
    if ((rc = file_hash_field(cli, a, "evidence", &m->evidence_sha256)) != 0)
        return rc;
    /* A report is of a project; the instrument is optional (issue 9). */
    m->instrument = str(a->n_pos ? a->pos[0] : NULL);
    m->project_id = str(esgw_cli__opt(a, "project"));
    m->kpi = str(esgw_cli__opt(a, "kpi"));
    m->period_start = copy;
    m->period_end = colon + 1;
    m->methodology = str(esgw_cli__opt(a, "methodology"));
    m->evidence_uri = str(esgw_cli__opt(a, "evidence-uri"));
    body->action_case = ESG_ACTION_REPORT_IMPACT;
    body->report_impact = m;
    return 0;
}

static int build_attest(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_attest_impact *m = NEW_MSG(cli, esg_pb_attest_impact, ESG_PB_ATTEST_IMPACT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    const char *op = esgw_cli__opt(a, "opinion");
    if (strcasecmp(op, "confirmed") == 0)
        m->opinion = ESG_OPINION_CONFIRMED;
    else if (strcasecmp(op, "qualified") == 0)
        m->opinion = ESG_OPINION_QUALIFIED;
    else if (strcasecmp(op, "rejected") == 0)
        m->opinion = ESG_OPINION_REJECTED;
    else
        return esgw_cli__fail(cli, ESG_ERR_BAD_OPINION,
                              "--opinion '%s' must be confirmed, qualified or rejected", op);
    int rc;
    if ((rc = esgw_cli__record_id(cli, &m->report_id, "report id", a->pos[0])) != 0 ||
        (rc = milli_opt(cli, a, "value", &m->verified_value)) != 0 ||
        (rc = file_hash_field(cli, a, "statement", &m->statement_sha256)) != 0)
        return rc;
    body->action_case = ESG_ACTION_ATTEST_IMPACT;
    body->attest_impact = m;
    return 0;
}

static int build_revoke(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_revoke_attestation *m =
        NEW_MSG(cli, esg_pb_revoke_attestation, ESG_PB_REVOKE_ATTESTATION_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc;
    if ((rc = esgw_cli__record_id(cli, &m->attestation_id, "attestation id", a->pos[0])) != 0 ||
        (rc = esgw_cli__reason(cli, a, &m->reason)) != 0)
        return rc;
    body->action_case = ESG_ACTION_REVOKE_ATTESTATION;
    body->revoke_attestation = m;
    return 0;
}

static int build_dispute(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_dispute_impact *m = NEW_MSG(cli, esg_pb_dispute_impact, ESG_PB_DISPUTE_IMPACT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc;
    if ((rc = esgw_cli__record_id(cli, &m->report_id, "report id", a->pos[0])) != 0 ||
        (rc = esgw_cli__reason(cli, a, &m->reason)) != 0)
        return rc;
    body->action_case = ESG_ACTION_DISPUTE_IMPACT;
    body->dispute_impact = m;
    return 0;
}

/* impact check-evidence REPORT --file F [--instrument ID]: the report is
 * the committed ReportImpact transaction of that id (GET /v1/txs/{id}),
 * whose action carries the recorded evidence hash. */
static int cmd_check_evidence(esgw_cli *cli, const esgw_args *a) {
    esg_hash id, file;
    const char *path = esgw_cli__opt(a, "file"), *instrument = esgw_cli__opt(a, "instrument");
    int rc = esgw_cli__hash(cli, &id, "report id", a->pos[0]);
    if (rc || (rc = esgw_cli__sha256_file(cli, &file, "--file", path)) != 0)
        return rc;
    esg_hex32 idh = esg_hash_hex(&id), fh = esg_hash_hex(&file);
    json_t *doc = NULL;
    rc = esgw_cli__get(cli, &doc, "/v1/txs/", idh.s, NULL);
    if (rc == ESG_ERR_NOT_FOUND)
        return esgw_cli__fail(cli, ESG_ERR_UNKNOWN_REPORT,
                              "no impact report %s (no committed transaction has that id)",
                              idh.s);
    if (rc)
        return rc;
    json_t *action = json_object_get(doc, "action");
    const char *type = json_string_value(json_object_get(action, "type"));
    const char *recorded = json_string_value(json_object_get(action, "evidence_sha256"));
    const char *of = json_string_value(json_object_get(action, "instrument"));
    if (!type || strcmp(type, "ReportImpact") != 0) {
        rc = esgw_cli__fail(cli, ESG_ERR_UNKNOWN_REPORT,
                            "transaction %s is %s %s, not an impact report", idh.s,
                            type && type[0] && strchr("AEIOU", type[0]) ? "an" : "a", type ? type : "?");
    } else if (!recorded || !of) {
        rc = esgw_cli__fail(cli, ESG_ERR_JSON, "node sent report %s without its evidence hash",
                            idh.s);
    } else if (instrument && strcmp(instrument, of) != 0) {
        rc = of[0] ? esgw_cli__fail(cli, ESG_ERR_UNKNOWN_REPORT,
                                    "report %s is of instrument '%s', not '%s'", idh.s, of,
                                    instrument)
                   : esgw_cli__fail(cli, ESG_ERR_UNKNOWN_REPORT,
                                    "report %s names no instrument, not '%s'", idh.s, instrument);
    } else if (strcasecmp(recorded, fh.s) != 0) {
        rc = esgw_cli__fail(cli, ESG_ERR_PROOF,
                            "MISMATCH: '%s' has sha256 %s but report %s records %s", path, fh.s,
                            idh.s, recorded);
    } else if (cli->json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "report_id", idh.s,
                              "instrument", of, "file", path, "file_sha256", fh.s,
                              "recorded_sha256", recorded, "match", 1);
        rc = o ? esgw_cli__print_json(cli, o) : esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        json_decref(o);
    } else {
        fprintf(cli->out, "match\nfile      %s  %s\nrecorded  %s  report %s\n", fh.s, path,
                recorded, idh.s);
    }
    json_decref(doc);
    return rc;
}

#define SUBMIT(p, syn, req, opt, fn)                                                    \
    {.path = p, .synopsis = syn " --key NAME", .min_pos = 1, .max_pos = 1, .required = req, \
     .optional = opt, .kind = ESGW_CMD_SUBMIT, .build = fn}

const esgw_cmd esgw_cli__impact_cmds[] = {
    {.path = "impact report",
     .synopsis = "[INSTRUMENT] --project P --kpi K --value DECIMAL "
                 "--period YYYY-MM-DD:YYYY-MM-DD --evidence FILE [--evidence-uri URI] "
                 "[--methodology TEXT] [--supersedes REPORT --reason TEXT] --key NAME",
     .min_pos = 0, .max_pos = 1, .required = "project kpi value period evidence",
     .optional = "evidence-uri methodology supersedes reason", .kind = ESGW_CMD_SUBMIT,
     .build = build_report},
    SUBMIT("impact attest",
           "REPORT --opinion confirmed|qualified|rejected --value DECIMAL --statement FILE",
           "opinion value statement", NULL, build_attest),
    SUBMIT("impact revoke", "ATTESTATION --reason TEXT", "reason", NULL, build_revoke),
    SUBMIT("impact dispute", "REPORT --reason TEXT", "reason", NULL, build_dispute),
    {.path = "impact check-evidence", .synopsis = "REPORT --file F [--instrument ID]",
     .min_pos = 1, .max_pos = 1, .required = "file", .optional = "instrument",
     .run = cmd_check_evidence},
    {0},
};
