/* esgwallet project register | update | fund | unfund (wallet/cli.h).
 *
 * A project is registered once, by an officer of its city, under a global
 * id; instruments then finance it (a spec's reference or inline project)
 * and so may money from outside the ledger -- an EU grant, a national or
 * regional programme, the city's own budget -- which `project fund`
 * records with the SHA-256 of its evidence. A funding is named by the id
 * of the transaction that recorded it; the submit path prints it
 * ("funding <id>", "funding_id" with --json), and `project unfund` takes
 * it. Builders check what the wallet can check alone, with the codes the
 * contract uses; the rules that need the ledger's state are the node's. */
#include <string.h>
#include <strings.h>

#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/ident.h"
#include "wallet/cli.h"

/* A copy of the message initializer `init` in command-lifetime memory. */
static void *new_msg(esgw_cli *cli, const void *init, size_t size) {
    void *m = esgw_cli__alloc(cli, size);
    if (m)
        memcpy(m, init, size);
    return m;
}
#define NEW_MSG(cli, type, init) ((type *)new_msg((cli), &(type)init, sizeof(type)))

/* An option value as a message string (the encoder only reads it). */
static char *str(const char *s) {
    return (char *)(s ? s : "");
}

typedef struct name_value {
    const char *name;
    int value;
} name_value;

static const name_value objectives[] = {
    {"CCM", ESG_EU_OBJECTIVE_CCM}, {"CCA", ESG_EU_OBJECTIVE_CCA}, {"WTR", ESG_EU_OBJECTIVE_WTR},
    {"CE", ESG_EU_OBJECTIVE_CE},   {"PPC", ESG_EU_OBJECTIVE_PPC}, {"BIO", ESG_EU_OBJECTIVE_BIO},
    {NULL, 0},
};

static const name_value sources[] = {
    {"eu", ESG_FUNDING_SOURCE_EU},
    {"national", ESG_FUNDING_SOURCE_NATIONAL},
    {"regional", ESG_FUNDING_SOURCE_REGIONAL},
    {"municipal", ESG_FUNDING_SOURCE_MUNICIPAL},
    {"private", ESG_FUNDING_SOURCE_PRIVATE},
    {"other", ESG_FUNDING_SOURCE_OTHER},
    {NULL, 0},
};

/* Looks `s` up in `t`, ignoring case. */
static bool lookup(const name_value *t, const char *s, int *out) {
    for (; t->name; t++)
        if (strcasecmp(t->name, s) == 0) {
            *out = t->value;
            return true;
        }
    return false;
}

/* A project id, as a positional word or --id. */
static int project_id(esgw_cli *cli, const char *what, const char *id, char **out) {
    if (!esg_project_id_valid(id))
        return esgw_cli__fail(cli, ESG_ERR_BAD_PROJECT_ID, "%s '%s' must match [A-Z0-9-]{3,40}",
                              what, id);
    *out = str(id);
    return 0;
}

/* --eu-objective CCM[,PPC...]: one or more, no repeats, in the order
 * given (RegisterProject lists them all). */
static int objectives_opt(esgw_cli *cli, const esgw_args *a, esg_pb_register_project *m) {
    char **items;
    size_t n;
    int rc = esgw_cli__list(cli, &items, &n, "--eu-objective", esgw_cli__opt(a, "eu-objective"));
    if (rc)
        return rc;
    m->eu_objectives = esgw_cli__alloc(cli, n * sizeof *m->eu_objectives);
    if (!m->eu_objectives)
        return ESG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int v;
        if (!lookup(objectives, items[i], &v))
            return esgw_cli__fail(cli, ESG_ERR_BAD_PROJECT,
                                  "--eu-objective '%s' is not CCM, CCA, WTR, CE, PPC or BIO",
                                  items[i]);
        for (size_t k = 0; k < i; k++)
            if (m->eu_objectives[k] == (esg_pb_eu_objective)v)
                return esgw_cli__fail(cli, ESG_ERR_BAD_PROJECT,
                                      "--eu-objective lists '%s' twice", items[i]);
        m->eu_objectives[i] = (esg_pb_eu_objective)v;
    }
    m->n_eu_objectives = n;
    return 0;
}

/* --sdgs 7,11: UN Sustainable Development Goals 1..17, no repeats. */
static int sdgs_opt(esgw_cli *cli, const esgw_args *a, esg_pb_register_project *m) {
    const char *v = esgw_cli__opt(a, "sdgs");
    if (!v)
        return 0;
    char **items;
    size_t n;
    int rc = esgw_cli__list(cli, &items, &n, "--sdgs", v);
    if (rc)
        return rc;
    if (!(m->sdgs = esgw_cli__alloc(cli, n * sizeof *m->sdgs)))
        return ESG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        uint64_t g;
        if ((rc = esgw_cli__u64(cli, &g, "--sdgs", items[i])) != 0)
            return rc;
        if (g < 1 || g > 17)
            return esgw_cli__fail(cli, ESG_ERR_BAD_PROJECT,
                                  "--sdgs %s is no UN Sustainable Development Goal (1..17)",
                                  items[i]);
        for (size_t k = 0; k < i; k++)
            if (m->sdgs[k] == g)
                return esgw_cli__fail(cli, ESG_ERR_BAD_PROJECT, "--sdgs lists %s twice",
                                      items[i]);
        m->sdgs[i] = (uint32_t)g;
    }
    m->n_sdgs = n;
    return 0;
}

static bool currency_valid(const char *c) {
    return strlen(c) == 3 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' &&
           c[2] >= 'A' && c[2] <= 'Z';
}

static int build_register(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_register_project *m =
        NEW_MSG(cli, esg_pb_register_project, ESG_PB_REGISTER_PROJECT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    const char *city = esgw_cli__opt(a, "city"), *name = esgw_cli__opt(a, "name");
    const char *tax = esgw_cli__opt(a, "taxonomy-activity"), *nace = esgw_cli__opt(a, "nace");
    const char *cur = esgw_cli__opt(a, "currency");
    int rc = project_id(cli, "--id", esgw_cli__opt(a, "id"), &m->id);
    if (rc)
        return rc;
    if (!esg_member_id_valid(city))
        return esgw_cli__fail(cli, ESG_ERR_BAD_MEMBER_ID,
                              "--city '%s' is not a member id ([a-z0-9-]{2,40})", city);
    if (!esg_name_valid(name))
        return esgw_cli__fail(cli, ESG_ERR_BAD_PROJECT,
                              "--name must be 1..200 characters with no control character");
    if ((rc = objectives_opt(cli, a, m)) != 0)
        return rc;
    if (tax && !esg_taxonomy_activity_valid(tax))
        return esgw_cli__fail(cli, ESG_ERR_BAD_PROJECT,
                              "--taxonomy-activity '%s' is not an EU Taxonomy activity number "
                              "(\"7.2\")", tax);
    if (nace && !esg_nace_valid(nace))
        return esgw_cli__fail(cli, ESG_ERR_BAD_PROJECT,
                              "--nace '%s' is not a NACE Rev. 2 code (\"F41.2\")", nace);
    if ((rc = sdgs_opt(cli, a, m)) != 0 ||
        (rc = esgw_cli__amount(cli, &m->total_cost, "--total-cost",
                               esgw_cli__opt(a, "total-cost"))) != 0)
        return rc;
    if (!currency_valid(cur))
        return esgw_cli__fail(cli, ESG_ERR_BAD_CURRENCY,
                              "--currency '%s' is not an ISO 4217 code (three upper-case letters)",
                              cur);
    m->city = str(city);
    m->name = str(name);
    m->taxonomy_activity = str(tax);
    m->nace = str(nace);
    m->currency = str(cur);
    m->location = str(esgw_cli__opt(a, "location"));
    body->action_case = ESG_ACTION_REGISTER_PROJECT;
    body->register_project = m;
    return 0;
}

static int build_update(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_update_project *m = NEW_MSG(cli, esg_pb_update_project, ESG_PB_UPDATE_PROJECT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc;
    if ((rc = project_id(cli, "project", a->pos[0], &m->id)) != 0 ||
        (rc = esgw_cli__amount(cli, &m->total_cost, "--total-cost",
                               esgw_cli__opt(a, "total-cost"))) != 0 ||
        (rc = esgw_cli__reason(cli, a, &m->reason)) != 0)
        return rc;
    body->action_case = ESG_ACTION_UPDATE_PROJECT;
    body->update_project = m;
    return 0;
}

static int build_fund(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_record_funding *m = NEW_MSG(cli, esg_pb_record_funding, ESG_PB_RECORD_FUNDING_INIT);
    esg_hash *h = esgw_cli__alloc(cli, sizeof *h);
    if (!m || !h)
        return ESG_ERR_NOMEM;
    const char *src = esgw_cli__opt(a, "source");
    int source;
    int rc = project_id(cli, "project", a->pos[0], &m->project);
    if (rc)
        return rc;
    if (!lookup(sources, src, &source))
        return esgw_cli__fail(cli, ESG_ERR_BAD_FUNDING_SOURCE,
                              "--source '%s' must be eu, national, regional, municipal, private "
                              "or other", src);
    if ((rc = esgw_cli__amount(cli, &m->amount, "--amount", esgw_cli__opt(a, "amount"))) != 0 ||
        (rc = esgw_cli__date(cli, &m->date, "--date", esgw_cli__opt(a, "date"))) != 0 ||
        (rc = esgw_cli__sha256_file(cli, h, "--evidence", esgw_cli__opt(a, "evidence"))) != 0)
        return rc;
    m->source = (esg_pb_funding_source)source;
    m->programme = str(esgw_cli__opt(a, "programme"));
    m->evidence_sha256 = esg_pb_bin(h->b, 32);
    body->action_case = ESG_ACTION_RECORD_FUNDING;
    body->record_funding = m;
    return 0;
}

static int build_unfund(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_reverse_funding *m = NEW_MSG(cli, esg_pb_reverse_funding, ESG_PB_REVERSE_FUNDING_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc;
    if ((rc = esgw_cli__record_id(cli, &m->funding_id, "funding id", a->pos[0])) != 0 ||
        (rc = esgw_cli__reason(cli, a, &m->reason)) != 0)
        return rc;
    body->action_case = ESG_ACTION_REVERSE_FUNDING;
    body->reverse_funding = m;
    return 0;
}

#define SUBMIT(p, syn, npos, req, opt, fn, text)                                          \
    {.path = p, .synopsis = syn " --key NAME", .min_pos = npos, .max_pos = npos,          \
     .required = req, .optional = opt, .kind = ESGW_CMD_SUBMIT, .build = fn, .help = text}

#define P_HELP "  P                the project's id, [A-Z0-9-]{3,40}\n"
#define AMOUNT_HELP(opt, what)                                                            \
    "  " opt " MINOR_UNITS  " what ", a whole number > 0 of minor units of the\n"         \
    "                   project's currency (cents for EUR: 12000000 is 120,000.00 EUR)\n"
#define REASON_HELP(what)                                                                 \
    "  --reason TEXT    " what "\n"          \
    "                   (not empty: ERR_MISSING_REASON; at most 500 characters, no\n" \
    "                   control character)\n"

const esgw_cmd esgw_cli__project_cmds[] = {
    SUBMIT("project register",
           "--id P --city MEMBER --name NAME --eu-objective OBJ[,OBJ] "
           "[--taxonomy-activity CODE] [--nace CODE] [--sdgs N,N] --total-cost MINOR_UNITS "
           "--currency CUR [--location TEXT]",
           0, "id city name eu-objective total-cost currency",
           "taxonomy-activity nace sdgs location", build_register,
           "Registers a project of the key's city (an OFFICER of it), which instruments and\n"
           "outside funding then finance. A project may instead be defined inline in the\n"
           "first instrument spec that finances it. Rules: docs/PROJECTS.md (\"Projects\").\n"
           "\n"
           "  --id P           the project's id, global, [A-Z0-9-]{3,40}, not registered\n"
           "                   yet (ERR_PROJECT_EXISTS)\n"
           "  --city MEMBER    the city it belongs to: the key's member, [a-z0-9-]{2,40}\n"
           "  --name NAME      1..200 characters, no control character\n"
           "  --eu-objective OBJ[,OBJ]  its EU environmental objectives, 1..6, none twice,\n"
           "                   any case: CCM (climate change mitigation), CCA (adaptation),\n"
           "                   WTR (water), CE (circular economy), PPC (pollution), BIO\n"
           "                   (biodiversity)\n"
           "  --taxonomy-activity CODE  the EU Taxonomy activity number, e.g. 7.2; default\n"
           "                   none\n"
           "  --nace CODE      the NACE Rev. 2 code, e.g. F41.2; default none\n"
           "  --sdgs N,N       UN Sustainable Development Goals, 1..17 each, none twice;\n"
           "                   default none\n"
           AMOUNT_HELP("--total-cost", "its total cost")
           "  --currency CUR   the ISO 4217 code of its cost, three upper-case letters: EUR\n"
           "  --location TEXT  free text, at most 200 characters; default none\n"),
    SUBMIT("project update", "P --total-cost MINOR_UNITS --reason TEXT", 1, "total-cost reason",
           NULL, build_update,
           "Changes a project's total cost, by an OFFICER of its city; the old and new\n"
           "cost, the reason and the transaction are kept in its cost_history.\n"
           "\n" P_HELP AMOUNT_HELP("--total-cost", "the new total cost")
           REASON_HELP("why the cost changed")),
    SUBMIT("project fund",
           "P --source eu|national|regional|municipal|private|other --programme TEXT "
           "--amount MINOR_UNITS --date YYYY-MM-DD --evidence FILE",
           1, "source programme amount date evidence", NULL, build_fund,
           "Records money for a project from outside the ledger's instruments (an EU grant,\n"
           "a national or regional programme, the city's budget), by an OFFICER of its\n"
           "city. Prints \"funding ID\": the id project unfund takes. Rules:\n"
           "docs/PROJECTS.md (\"External funding\").\n"
           "\n" P_HELP
           "  --source eu|national|regional|municipal|private|other  who pays, any case\n"
           "                   (ERR_BAD_FUNDING_SOURCE)\n"
           "  --programme TEXT the programme, 1..200 characters: \"ERDF 2021-2027\"\n"
           AMOUNT_HELP("--amount", "the amount")
           "  --date YYYY-MM-DD  the funding's date, not after the block's date\n"
           "  --evidence FILE  the grant agreement or decision: the ledger keeps the SHA-256\n"
           "                   of its bytes, not the file\n"),
    SUBMIT("project unfund", "FUNDING_ID --reason TEXT", 1, "reason", NULL, build_unfund,
           "Reverses a recorded funding, by an OFFICER of the project's city: the record\n"
           "stays, marked reversed, and no longer counts.\n"
           "\n"
           "  FUNDING_ID       the funding's id, 64 hex: the id of the transaction that\n"
           "                   recorded it (printed by project fund; project show lists it)\n"
           REASON_HELP("why it is reversed")),
    {0},
};
