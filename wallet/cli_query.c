/* esgwallet member show | member list | proposals | status: read-only
 * queries of the node's API (wallet/cli.h). With --json each prints the
 * node's JSON document unchanged; otherwise lines for people. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "wallet/cli.h"

/* GETs `path` (a printf format for the path, segments already escaped). */
static int get(esgw_cli *cli, json_t **doc, const char *path) {
    esgw_client *c = NULL;
    int rc = esgw_cli__client(cli, &c);
    return rc ? rc : esgw_client_get(c, doc, path, &cli->err);
}

/* GETs `prefix` + the escaped `segment`. */
static int get_one(esgw_cli *cli, json_t **doc, const char *prefix, const char *segment) {
    char *esc = esgw_client_escape(segment);
    if (!esc)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    size_t n = strlen(prefix) + strlen(esc) + 1;
    char *path = malloc(n);
    int rc;
    if (!path) {
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    } else {
        snprintf(path, n, "%s%s", prefix, esc);
        rc = get(cli, doc, path);
    }
    free(path);
    free(esc);
    return rc;
}

/* A scalar as text, into buf: strings as they are, numbers in decimal,
 * booleans yes/no, null and "" as "-". */
static const char *scalar(const json_t *v, char *buf, size_t len) {
    if (json_is_string(v))
        return *json_string_value(v) ? json_string_value(v) : "-";
    if (json_is_integer(v))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
    else
        snprintf(buf, len, "-");
    return buf;
}

/* Joins an array of scalars with `sep`; "-" when empty. Caller frees. */
static char *join(const json_t *arr, const char *sep) {
    size_t cap = 2, i;
    json_t *v;
    char tmp[64];
    json_array_foreach(arr, i, v) cap += strlen(scalar(v, tmp, sizeof tmp)) + strlen(sep);
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    json_array_foreach(arr, i, v) {
        if (i)
            strcat(s, sep);
        strcat(s, scalar(v, tmp, sizeof tmp));
    }
    if (!s[0])
        strcpy(s, "-");
    return s;
}

/* Prints the members of `obj` as "key  value" lines at `indent`: nested
 * objects below their key, arrays of scalars joined, other arrays one
 * compact JSON element a line. */
static void print_fields(FILE *f, const json_t *obj, int indent) {
    const char *key;
    json_t *v;
    char tmp[64];
    json_object_foreach((json_t *)obj, key, v) {
        if (json_is_object(v)) {
            fprintf(f, "%*s%s\n", indent, "", key);
            print_fields(f, v, indent + 2);
        } else if (json_is_array(v)) {
            bool scalars = true;
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) scalars = scalars && !json_is_object(e) && !json_is_array(e);
            if (scalars) {
                char *s = join(v, ", ");
                fprintf(f, "%*s%-16s %s\n", indent, "", key, s ? s : "?");
                free(s);
            } else {
                fprintf(f, "%*s%s\n", indent, "", key);
                json_array_foreach(v, i, e) {
                    char *s = json_dumps(e, JSON_COMPACT);
                    fprintf(f, "%*s%s\n", indent + 2, "", s ? s : "?");
                    free(s);
                }
            }
        } else {
            fprintf(f, "%*s%-16s %s\n", indent, "", key, scalar(v, tmp, sizeof tmp));
        }
    }
}

static const char *sfield(const json_t *o, const char *key) {
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : "-";
}

/* --------------------------------------------------------------- members */

static void print_member(FILE *f, const json_t *m) {
    char tmp[64];
    uint64_t h = 0;
    char *cats = join(json_object_get(m, "accredited_categories"), ", ");
    fprintf(f, "member      %s\n", sfield(m, "id"));
    fprintf(f, "kind        %s\n", sfield(m, "kind"));
    fprintf(f, "name        %s\n", sfield(m, "name"));
    fprintf(f, "country     %s\n", sfield(m, "country"));
    fprintf(f, "lei         %s\n", sfield(m, "lei"));
    uint64_t pop = 0;
    if (esgw_json_u64(json_object_get(m, "population"), &pop) == 0 && pop > 0)
        fprintf(f, "population  %" PRIu64 "\n", pop);
    else
        fprintf(f, "population  -\n");
    fprintf(f, "status      %s\n",
            json_is_true(json_object_get(m, "suspended")) ? "suspended" : "active");
    fprintf(f, "accredited  %s\n", cats ? cats : "?");
    free(cats);
    if (esgw_json_u64(json_object_get(m, "admitted_height"), &h) == 0 && h == 0)
        fprintf(f, "admitted    at genesis\n");
    else
        fprintf(f, "admitted    at height %s\n",
                scalar(json_object_get(m, "admitted_height"), tmp, sizeof tmp));
    fprintf(f, "accounts\n");
    size_t i;
    json_t *acct;
    json_array_foreach(json_object_get(m, "accounts"), i, acct) {
        char *r = join(json_object_get(acct, "roles"), ",");
        fprintf(f, "  %s  %-13s nonce %s%s\n", sfield(acct, "pubkey"), r ? r : "?",
                scalar(json_object_get(acct, "nonce"), tmp, sizeof tmp),
                json_is_true(json_object_get(acct, "revoked")) ? "  revoked" : "");
        free(r);
    }
}

static int cmd_member_show(esgw_cli *cli, const esgw_args *a) {
    json_t *doc = NULL;
    int rc = get_one(cli, &doc, "/v1/members/", a->pos[0]);
    if (rc)
        return rc;
    if (cli->json)
        rc = esgw_cli__print_json(cli, doc);
    else
        print_member(cli->out, doc);
    json_decref(doc);
    return rc;
}

static int cmd_member_list(esgw_cli *cli, const esgw_args *a) {
    (void)a;
    json_t *doc = NULL;
    int rc = get(cli, &doc, "/v1/members");
    if (rc)
        return rc;
    json_t *members = json_object_get(doc, "members");
    if (!json_is_array(members)) {
        json_decref(doc);
        return esgw_cli__fail(cli, ESG_ERR_JSON, "node sent a member list without 'members'");
    }
    if (cli->json) {
        rc = esgw_cli__print_json(cli, doc);
        json_decref(doc);
        return rc;
    }
    int wid = 2, wkind = 4, wname = 4;
    size_t i;
    json_t *m;
    json_array_foreach(members, i, m) {
        int l;
        if ((l = (int)strlen(sfield(m, "id"))) > wid)
            wid = l;
        if ((l = (int)strlen(sfield(m, "kind"))) > wkind)
            wkind = l;
        if ((l = (int)strlen(sfield(m, "name"))) > wname)
            wname = l;
    }
    FILE *f = cli->out;
    fprintf(f, "%-*s  %-*s  %-*s  %-7s  %-8s  %s\n", wid, "ID", wkind, "KIND", wname, "NAME",
            "COUNTRY", "ACCOUNTS", "STATUS");
    json_array_foreach(members, i, m) {
        fprintf(f, "%-*s  %-*s  %-*s  %-7s  %-8zu  %s\n", wid, sfield(m, "id"), wkind,
                sfield(m, "kind"), wname, sfield(m, "name"), sfield(m, "country"),
                json_array_size(json_object_get(m, "accounts")),
                json_is_true(json_object_get(m, "suspended")) ? "suspended" : "active");
    }
    json_decref(doc);
    return 0;
}

/* ------------------------------------------------------------- proposals */

static void print_proposal(FILE *f, const json_t *p) {
    char tmp[64];
    json_t *prop = json_object_get(p, "proposal");
    fprintf(f, "proposal    %s\n", sfield(p, "id"));
    fprintf(f, "status      %s\n", sfield(p, "status"));
    fprintf(f, "change      %s\n", sfield(prop, "type"));
    /* The change's fields: the proposal's member that is an object. */
    const char *key;
    json_t *v;
    json_object_foreach(prop, key, v) if (json_is_object(v)) print_fields(f, v, 2);
    if (strcmp(sfield(prop, "description"), "-") != 0)
        fprintf(f, "description %s\n", sfield(prop, "description"));
    fprintf(f, "proposer    %s\n", sfield(p, "proposer"));
    fprintf(f, "created     at height %s\n",
            scalar(json_object_get(p, "created_height"), tmp, sizeof tmp));
    fprintf(f, "expires     at height %s\n",
            scalar(json_object_get(p, "expires_height"), tmp, sizeof tmp));
    char *ap = join(json_object_get(p, "approvals"), ", ");
    char *rj = join(json_object_get(p, "rejections"), ", ");
    fprintf(f, "approvals   %s\n", ap ? ap : "?");
    fprintf(f, "rejections  %s\n", rj ? rj : "?");
    free(ap);
    free(rj);
    if (strcmp(sfield(p, "status"), "OPEN") != 0)
        fprintf(f, "decided     at height %s\n",
                scalar(json_object_get(p, "decided_height"), tmp, sizeof tmp));
    if (strcmp(sfield(p, "failure"), "-") != 0)
        fprintf(f, "failure     %s\n", sfield(p, "failure"));
}

static int cmd_proposals(esgw_cli *cli, const esgw_args *a) {
    json_t *doc = NULL;
    int rc;
    if (a->n_pos == 1) {
        esg_hash id;
        if ((rc = esgw_cli__hash(cli, &id, "proposal id", a->pos[0])) != 0 ||
            (rc = get_one(cli, &doc, "/v1/proposals/", esg_hash_hex(&id).s)) != 0)
            return rc;
        if (cli->json)
            rc = esgw_cli__print_json(cli, doc);
        else
            print_proposal(cli->out, doc);
        json_decref(doc);
        return rc;
    }
    if ((rc = get(cli, &doc, "/v1/proposals")) != 0)
        return rc;
    json_t *list = json_object_get(doc, "proposals");
    if (!json_is_array(list)) {
        json_decref(doc);
        return esgw_cli__fail(cli, ESG_ERR_JSON, "node sent a proposal list without 'proposals'");
    }
    if (cli->json) {
        rc = esgw_cli__print_json(cli, doc);
        json_decref(doc);
        return rc;
    }
    FILE *f = cli->out;
    fprintf(f, "%-64s  %-8s  %-20s  %-16s  %-5s  %-7s  %s\n", "ID", "STATUS", "CHANGE",
            "PROPOSER", "FOR", "AGAINST", "EXPIRES");
    size_t i;
    json_t *p;
    char tmp[64];
    json_array_foreach(list, i, p) {
        fprintf(f, "%-64s  %-8s  %-20s  %-16s  %-5zu  %-7zu  %s\n", sfield(p, "id"),
                sfield(p, "status"), sfield(json_object_get(p, "proposal"), "type"),
                sfield(p, "proposer"), json_array_size(json_object_get(p, "approvals")),
                json_array_size(json_object_get(p, "rejections")),
                scalar(json_object_get(p, "expires_height"), tmp, sizeof tmp));
    }
    json_decref(doc);
    return 0;
}

/* ---------------------------------------------------------------- status */

static int cmd_status(esgw_cli *cli, const esgw_args *a) {
    (void)a;
    json_t *doc = NULL;
    int rc = get(cli, &doc, "/v1/status");
    if (rc)
        return rc;
    if (cli->json)
        rc = esgw_cli__print_json(cli, doc);
    else
        print_fields(cli->out, doc, 0);
    json_decref(doc);
    return rc;
}

const esgw_cmd esgw_cli__query_cmds[] = {
    {.path = "member show", .synopsis = "ID", .min_pos = 1, .max_pos = 1,
     .run = cmd_member_show, .kind = ESGW_CMD_USES_NODE,
     .help = "Prints a member (GET /v1/members/{id}, docs/API.md): kind, name, country,\n"
             "LEI, population, accreditations, whether it is suspended, and its accounts\n"
             "with their roles, nonces and whether they are revoked.\n"
             "\n"
             "  ID               the member's id, [a-z0-9-]{2,40}\n"},
    {.path = "member list", .synopsis = "", .run = cmd_member_list, .kind = ESGW_CMD_USES_NODE,
     .help = "Lists the members (GET /v1/members): id, kind, name, country, number of\n"
             "accounts, active or suspended.\n"},
    {.path = "proposals", .synopsis = "[ID]", .max_pos = 1, .run = cmd_proposals,
     .kind = ESGW_CMD_USES_NODE,
     .help = "Lists the governance proposals (GET /v1/proposals): id, status (OPEN,\n"
             "EXECUTED, REJECTED, EXPIRED or FAILED), change, proposer, votes for and\n"
             "against, expiry height. With ID, one proposal in full: its change, approvals,\n"
             "rejections, heights and, when FAILED, why.\n"
             "\n"
             "  ID               a proposal's id, 64 hex (the Propose transaction's id);\n"
             "                   default: all proposals\n"},
    {.path = "status", .synopsis = "", .run = cmd_status, .kind = ESGW_CMD_USES_NODE,
     .help = "Prints the node's status (GET /v1/status, docs/API.md): chain id, height,\n"
             "block, app and genesis hashes, time, validators, peers, whether it is syncing\n"
             "and its storage state.\n"},
    {0},
};
