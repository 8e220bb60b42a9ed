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

#define SUBMIT(p, syn, req, opt, fn, text)                                              \
    {.path = p, .synopsis = syn " --key NAME", .min_pos = 1, .max_pos = 1, .required = req, \
     .optional = opt, .kind = ESGW_CMD_SUBMIT, .build = fn, .help = text}

#define REPORT_HELP                                                                      \
    "  REPORT           the impact report's id, 64 hex: the id of the ReportImpact\n"    \
    "                   transaction (printed as \"report ID\" by impact report)\n"
#define REASON_HELP(what)                                                                \
    "  --reason TEXT    " what "\n"         \
    "                   (not empty: ERR_MISSING_REASON; at most 500 characters, no\n" \
    "                   control character)\n"
#define DECIMAL_HELP(opt, what)                                                          \
    "  " opt " DECIMAL  " what ", in the KPI's unit, not negative, with at\n"             \
    "                   most three decimals (1240.5 or 1240.500; stored in thousandths)\n"

const esgw_cmd esgw_cli__impact_cmds[] = {
    {.path = "impact report",
     .synopsis = "[INSTRUMENT] --project P --kpi K --value DECIMAL "
                 "--period YYYY-MM-DD:YYYY-MM-DD --evidence FILE [--evidence-uri URI] "
                 "[--methodology TEXT] [--supersedes REPORT --reason TEXT] --key NAME",
     .min_pos = 0, .max_pos = 1, .required = "project kpi value period evidence",
     .optional = "evidence-uri methodology supersedes reason", .kind = ESGW_CMD_SUBMIT,
     .build = build_report,
     .help = "Reports a KPI figure a project achieved over a period, by an OFFICER of the\n"
             "project's city. Impact is the project's, counted once whoever finances it;\n"
             "a report counts once an accredited verifier attests it (impact attest).\n"
             "Prints \"report ID\". Rules: docs/PROJECTS.md (\"Impact\").\n"
             "\n"
             "  INSTRUMENT       an instrument financing the project, whose investors the\n"
             "                   city reports to; default none (it changes nothing counted)\n"
             "  --project P      the project, [A-Z0-9-]{3,40}\n"
             "  --kpi K          a KPI of the catalogue (GET /v1/kpis), e.g. ghg_avoided_tco2e\n"
             DECIMAL_HELP("--value", "the figure")
             "  --period YYYY-MM-DD:YYYY-MM-DD  the period measured, both days inclusive;\n"
             "                   start before end, end not after the block's date; no day\n"
             "                   shared with another live report of the project and KPI\n"
             "                   (ERR_OVERLAPPING_PERIOD)\n"
             "  --evidence FILE  the measurement (meter data, a study): the ledger keeps the\n"
             "                   SHA-256 of its bytes (impact check-evidence compares)\n"
             "  --evidence-uri URI  where the evidence can be fetched, at most 500\n"
             "                   characters; default none\n"
             "  --methodology TEXT  how the figure was computed, at most 1000 characters;\n"
             "                   default none\n"
             "  --supersedes REPORT  replace this live report of the same project and KPI\n"
             "                   (64 hex); it stays listed but no longer counts. Needs --reason\n"
             REASON_HELP("with --supersedes only: why the report is replaced")},
    SUBMIT("impact attest",
           "REPORT --opinion confirmed|qualified|rejected --value DECIMAL --statement FILE",
           "opinion value statement", NULL, build_attest,
           "Attests an impact report, by an OFFICER of a VERIFIER member accredited for the\n"
           "KPI's category (ERR_NOT_ACCREDITED), once per verifier while its attestation\n"
           "stands. A report counts with a live confirmed or qualified attestation and no\n"
           "live rejected one, at the smallest verified value. Prints \"attestation ID\".\n"
           "\n" REPORT_HELP
           "  --opinion confirmed|qualified|rejected  confirmed; qualified (with\n"
           "                   reservations, marked (Q) in reports); rejected. Any case\n"
           DECIMAL_HELP("--value", "the verified value")
           "  --statement FILE the verifier's statement: the ledger keeps the SHA-256 of its\n"
           "                   bytes, not the file\n"),
    SUBMIT("impact revoke", "ATTESTATION --reason TEXT", "reason", NULL, build_revoke,
           "Revokes an attestation, by the verifier that made it; the record stays, marked\n"
           "revoked, and the verifier may attest the report again.\n"
           "\n"
           "  ATTESTATION      the attestation's id, 64 hex (printed by impact attest)\n"
           REASON_HELP("why it is revoked")),
    SUBMIT("impact dispute", "REPORT --reason TEXT", "reason", NULL, build_dispute,
           "Disputes an impact report, by a member holding units of the report's instrument\n"
           "or, when it names none, of an instrument financing the project\n"
           "(ERR_NOT_HOLDER). A dispute is listed with the report; it changes nothing that\n"
           "counts. Prints \"dispute ID\".\n"
           "\n" REPORT_HELP REASON_HELP("what is disputed")),
    {.path = "impact check-evidence", .synopsis = "REPORT --file F [--instrument ID]",
     .min_pos = 1, .max_pos = 1, .required = "file", .optional = "instrument",
     .run = cmd_check_evidence, .kind = ESGW_CMD_USES_NODE,
     .help = "Checks a document against the evidence hash an impact report recorded (GET\n"
             "/v1/txs/{id}): prints \"match\" with both hashes, or fails with ERR_PROOF\n"
             "(MISMATCH, both hashes) or ERR_UNKNOWN_REPORT. It trusts the node; impact\n"
             "verify trusts none.\n"
             "\n" REPORT_HELP
             "  --file F         the document at hand, hashed (SHA-256) whatever its size\n"
             "  --instrument ID  also check that the report names this instrument; default:\n"
             "                   any\n"},
    {0},
};
