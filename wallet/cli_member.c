/* esgwallet member propose ... | vote | add-account | revoke-account: the
 * governance actions (contracts/governance.h), one builder per row
 * (wallet/cli.h).
 * Builders check what the wallet can check alone (hex, numbers, enum
 * names); the rules that need the state are the node's. */
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
static char *str(const esgw_args *a, const char *name) {
    const char *v = esgw_cli__opt(a, name);
    return (char *)(v ? v : "");
}

/* A 32-byte bytes field from a hex pubkey option. */
static int pubkey_field(esgw_cli *cli, const esgw_args *a, const char *name, esg_pb_bytes *out) {
    esg_pubkey *pk = esgw_cli__alloc(cli, sizeof *pk);
    char what[64];
    snprintf(what, sizeof what, "--%s", name);
    if (!pk)
        return ESG_ERR_NOMEM;
    int rc = esgw_cli__pubkey(cli, pk, what, esgw_cli__opt(a, name));
    if (rc == 0)
        *out = esg_pb_bin(pk->b, 32);
    return rc;
}

typedef struct name_value {
    const char *name;
    int value;
} name_value;

static const name_value member_kinds[] = {
    {"CITY", ESG_MEMBER_CITY},
    {"INVESTOR", ESG_MEMBER_INVESTOR},
    {"VERIFIER", ESG_MEMBER_VERIFIER},
    {"PAYING_AGENT", ESG_MEMBER_PAYING_AGENT},
    {"AUDITOR", ESG_MEMBER_AUDITOR},
    {NULL, 0},
};

static const name_value directions[] = {
    {"higher", ESG_KPI_DIRECTION_HIGHER},
    {"lower", ESG_KPI_DIRECTION_LOWER},
    {NULL, 0},
};

static const name_value roles[] = {
    {"admin", ESG_ROLE_ADMIN},
    {"officer", ESG_ROLE_OFFICER},
    {NULL, 0},
};

/* Looks `s` up in `t`, ignoring case ("paying-agent" too). */
static bool lookup(const name_value *t, const char *s, int *out) {
    char norm[64];
    snprintf(norm, sizeof norm, "%s", s);
    for (char *p = norm; *p; p++)
        if (*p == '-')
            *p = '_';
    for (; t->name; t++)
        if (strcasecmp(t->name, norm) == 0) {
            *out = t->value;
            return true;
        }
    return false;
}

/* ------------------------------------------------------------ proposals */

/* Makes body a Propose of a new, empty Proposal (with --description) and
 * returns the proposal for the builder to fill in its change. */
static esg_pb_proposal *new_proposal(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_propose *pr = NEW_MSG(cli, esg_pb_propose, ESG_PB_PROPOSE_INIT);
    esg_pb_proposal *p = NEW_MSG(cli, esg_pb_proposal, ESG_PB_PROPOSAL_INIT);
    if (!pr || !p)
        return NULL;
    if (esgw_cli__opt(a, "description"))
        p->description = str(a, "description");
    pr->proposal = p;
    body->action_case = ESG_ACTION_PROPOSE;
    body->propose = pr;
    return p;
}

static int build_add_member(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_add_member *m = NEW_MSG(cli, esg_pb_add_member, ESG_PB_ADD_MEMBER_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    int kind;
    if (!lookup(member_kinds, esgw_cli__opt(a, "kind"), &kind))
        return esgw_cli__fail(cli, ESG_ERR_BAD_MEMBER_KIND,
                              "--kind '%s' must be CITY, INVESTOR, VERIFIER, PAYING_AGENT or "
                              "AUDITOR", esgw_cli__opt(a, "kind"));
    int rc = pubkey_field(cli, a, "admin-pubkey", &m->admin_pubkey);
    if (rc)
        return rc;
    m->id = str(a, "id");
    m->kind = (esg_pb_member_kind)kind;
    m->name = str(a, "name");
    m->country = str(a, "country");
    /* Optional both; given, they must be real (the node checks them too). */
    const char *lei = esgw_cli__opt(a, "lei"), *pop = esgw_cli__opt(a, "population");
    if (lei && !esg_lei_valid(lei))
        return esgw_cli__fail(cli, ESG_ERR_BAD_LEI,
                              "--lei '%s' is not an ISO 17442 Legal Entity Identifier (20 "
                              "characters, valid check digits)", lei);
    m->lei = str(a, "lei");
    if (pop) {
        if ((rc = esgw_cli__u64(cli, &m->population, "--population", pop)) != 0)
            return rc;
        if (m->population == 0 || m->population > ESG_MAX_POPULATION)
            return esgw_cli__fail(cli, ESG_ERR_BAD_POPULATION,
                                  "--population %s is outside 1..10000000000 inhabitants", pop);
    }
    p->change_case = ESG_PROPOSAL_ADD_MEMBER;
    p->add_member = m;
    return 0;
}

static int build_suspend_member(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_suspend_member *m = NEW_MSG(cli, esg_pb_suspend_member, ESG_PB_SUSPEND_MEMBER_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    m->id = str(a, "id");
    p->change_case = ESG_PROPOSAL_SUSPEND_MEMBER;
    p->suspend_member = m;
    return 0;
}

static int build_reinstate_member(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_reinstate_member *m =
        NEW_MSG(cli, esg_pb_reinstate_member, ESG_PB_REINSTATE_MEMBER_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    m->id = str(a, "id");
    p->change_case = ESG_PROPOSAL_REINSTATE_MEMBER;
    p->reinstate_member = m;
    return 0;
}

/* Accredit and RevokeAccreditation carry the same fields. */
static int fill_accreditation(esgw_cli *cli, const esgw_args *a, char **member,
                              char ***categories, size_t *n_categories) {
    int rc = esgw_cli__list(cli, categories, n_categories, "--categories",
                            esgw_cli__opt(a, "categories"));
    if (rc == 0)
        *member = str(a, "member");
    return rc;
}

static int build_accredit(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_accredit *m = NEW_MSG(cli, esg_pb_accredit, ESG_PB_ACCREDIT_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    int rc = fill_accreditation(cli, a, &m->member, &m->categories, &m->n_categories);
    if (rc)
        return rc;
    p->change_case = ESG_PROPOSAL_ACCREDIT;
    p->accredit = m;
    return 0;
}

static int build_revoke_accreditation(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_revoke_accreditation *m =
        NEW_MSG(cli, esg_pb_revoke_accreditation, ESG_PB_REVOKE_ACCREDITATION_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    int rc = fill_accreditation(cli, a, &m->member, &m->categories, &m->n_categories);
    if (rc)
        return rc;
    p->change_case = ESG_PROPOSAL_REVOKE_ACCREDITATION;
    p->revoke_accreditation = m;
    return 0;
}

static int build_add_validator(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_add_validator *m = NEW_MSG(cli, esg_pb_add_validator, ESG_PB_ADD_VALIDATOR_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    int rc = pubkey_field(cli, a, "pubkey", &m->pubkey);
    if (rc || (rc = esgw_cli__u64(cli, &m->power, "--power", esgw_cli__opt(a, "power"))) != 0)
        return rc;
    m->operator_ = str(a, "operator");
    p->change_case = ESG_PROPOSAL_ADD_VALIDATOR;
    p->add_validator = m;
    return 0;
}

static int build_remove_validator(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_remove_validator *m =
        NEW_MSG(cli, esg_pb_remove_validator, ESG_PB_REMOVE_VALIDATOR_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    int rc = pubkey_field(cli, a, "pubkey", &m->pubkey);
    if (rc)
        return rc;
    p->change_case = ESG_PROPOSAL_REMOVE_VALIDATOR;
    p->remove_validator = m;
    return 0;
}

static int build_set_validator_power(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_set_validator_power *m =
        NEW_MSG(cli, esg_pb_set_validator_power, ESG_PB_SET_VALIDATOR_POWER_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    int rc = pubkey_field(cli, a, "pubkey", &m->pubkey);
    if (rc || (rc = esgw_cli__u64(cli, &m->power, "--power", esgw_cli__opt(a, "power"))) != 0)
        return rc;
    p->change_case = ESG_PROPOSAL_SET_VALIDATOR_POWER;
    p->set_validator_power = m;
    return 0;
}

static int build_set_param(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_set_param *m = NEW_MSG(cli, esg_pb_set_param, ESG_PB_SET_PARAM_INIT);
    if (!p || !m)
        return ESG_ERR_NOMEM;
    int rc = esgw_cli__u64(cli, &m->value, "--value", esgw_cli__opt(a, "value"));
    if (rc)
        return rc;
    m->name = str(a, "name");
    p->change_case = ESG_PROPOSAL_SET_PARAM;
    p->set_param = m;
    return 0;
}

static int build_add_kpi(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_proposal *p = new_proposal(cli, a, body);
    esg_pb_add_kpi *m = NEW_MSG(cli, esg_pb_add_kpi, ESG_PB_ADD_KPI_INIT);
    esg_pb_kpi *k = NEW_MSG(cli, esg_pb_kpi, ESG_PB_KPI_INIT);
    if (!p || !m || !k)
        return ESG_ERR_NOMEM;
    int dir;
    if (!lookup(directions, esgw_cli__opt(a, "direction"), &dir))
        return esgw_cli__usage(cli, "--direction '%s' must be higher or lower",
                               esgw_cli__opt(a, "direction"));
    k->id = str(a, "id");
    k->name = str(a, "name");
    k->unit = str(a, "unit");
    k->category = str(a, "category");
    k->direction = (esg_pb_kpi_direction)dir;
    m->kpi = k;
    p->change_case = ESG_PROPOSAL_ADD_KPI;
    p->add_kpi = m;
    return 0;
}

/* ------------------------------------------------- votes and accounts */

static int build_vote(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    bool approve = esgw_cli__has(a, "approve"), reject = esgw_cli__has(a, "reject");
    if (approve == reject)
        return esgw_cli__usage(cli, "'member vote' needs exactly one of --approve and --reject");
    esg_pb_vote *v = NEW_MSG(cli, esg_pb_vote, ESG_PB_VOTE_INIT);
    esg_hash *id = esgw_cli__alloc(cli, sizeof *id);
    if (!v || !id)
        return ESG_ERR_NOMEM;
    int rc = esgw_cli__hash(cli, id, "proposal id", a->pos[0]);
    if (rc)
        return rc;
    v->proposal_id = esg_pb_bin(id->b, 32);
    v->approve = approve;
    body->action_case = ESG_ACTION_VOTE;
    body->vote = v;
    return 0;
}

static int build_add_account(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_add_account *m = NEW_MSG(cli, esg_pb_add_account, ESG_PB_ADD_ACCOUNT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc = pubkey_field(cli, a, "pubkey", &m->pubkey);
    char **names;
    size_t n;
    if (rc || (rc = esgw_cli__list(cli, &names, &n, "--roles", esgw_cli__opt(a, "roles"))) != 0)
        return rc;
    esg_pb_role *r = esgw_cli__alloc(cli, n * sizeof *r);
    if (!r)
        return ESG_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int v;
        if (!lookup(roles, names[i], &v))
            return esgw_cli__fail(cli, ESG_ERR_BAD_ROLES,
                                  "--roles: unknown role '%s' (roles are officer and admin)",
                                  names[i]);
        r[i] = (esg_pb_role)v;
    }
    m->roles = r;
    m->n_roles = n;
    body->action_case = ESG_ACTION_ADD_ACCOUNT;
    body->add_account = m;
    return 0;
}

static int build_revoke_account(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    esg_pb_revoke_account *m = NEW_MSG(cli, esg_pb_revoke_account, ESG_PB_REVOKE_ACCOUNT_INIT);
    if (!m)
        return ESG_ERR_NOMEM;
    int rc = pubkey_field(cli, a, "pubkey", &m->pubkey);
    if (rc)
        return rc;
    body->action_case = ESG_ACTION_REVOKE_ACCOUNT;
    body->revoke_account = m;
    return 0;
}

/* A proposal's help: what it changes, its options, then what every
 * proposal shares. */
#define PROPOSAL_HELP(what, opts)                                                           \
    what "\n"                                                                               \
    "Proposing counts as the approval of the proposer's city; the change executes in the\n" \
    "block whose vote reaches the threshold (governance_threshold_bps of the cities not\n"  \
    "suspended, default 6667: more than 2/3), and expires after proposal_ttl_blocks. It\n"  \
    "is checked when proposed and again when it executes. The key must be an ADMIN\n"      \
    "account of a CITY member (ERR_UNAUTHORIZED). Prints \"proposal ID\", the id to\n"      \
    "vote on (esgwallet member vote ID).\n"                                                 \
    "\n" opts                                                                               \
    "  --description TEXT  why, for the other cities; at most 1000 bytes; default none\n"

#define PROPOSE(verb, syn, req, opt, fn, text)                                             \
    {.path = "member propose " verb, .synopsis = syn " [--description TEXT] --key NAME",   \
     .required = req, .optional = opt " description", .kind = ESGW_CMD_SUBMIT, .build = fn, \
     .help = text}

#define MEMBER_ID_HELP(opt, what)                                                           \
    "  " opt " ID          " what ", a member id: [a-z0-9-]{2,40}\n"
#define PUBKEY_HELP(what)                                                                   \
    "  --pubkey HEX     " what "\n"                                                          \
    "                   (64 hex characters: an x-only secp256k1 public key)\n"
#define CATEGORIES_HELP                                                                     \
    "  --categories CAT[,CAT]  KPI categories, comma-separated, none twice: climate,\n"    \
    "                   energy, water, waste, transport, buildings, social\n"
#define POWER_HELP                                                                          \
    "  --power N        voting power, a whole number 1..2^60 (the set's total too);\n"      \
    "                   blocks are final with more than 2/3 of the total\n"

const esgw_cmd esgw_cli__member_cmds[] = {
    PROPOSE("add-member",
            "--id ID --kind KIND --name NAME [--country CC] [--lei LEI] [--population N] "
            "--admin-pubkey HEX",
            "id kind name admin-pubkey", "country lei population", build_add_member,
            PROPOSAL_HELP(
                "Proposes admitting a member to the consortium. Once executed it exists with\n"
                "one account, --admin-pubkey, holding the ADMIN and OFFICER roles.\n",
                "  --id ID          the new member's id, [a-z0-9-]{2,40}, not a member yet\n"
                "                   (ERR_MEMBER_EXISTS)\n"
                "  --kind KIND      CITY, INVESTOR, VERIFIER, PAYING_AGENT or AUDITOR, in any\n"
                "                   case, paying-agent too (ERR_BAD_MEMBER_KIND)\n"
                "  --name NAME      its name, 1..200 characters, no control character\n"
                "  --country CC     an ISO 3166-1 alpha-2 code, two upper-case letters;\n"
                "                   default none\n"
                "  --lei LEI        its Legal Entity Identifier, ISO 17442: 20 characters with\n"
                "                   valid check digits (ERR_BAD_LEI); default none\n"
                "  --population N   a city's inhabitants, 1..10000000000 (impact per 1000\n"
                "                   inhabitants in the reports); default none\n"
                "  --admin-pubkey HEX  its first account's key (esgwallet key new), 64 hex; a\n"
                "                   key that is or ever was an account: ERR_ACCOUNT_EXISTS\n")),
    PROPOSE("suspend-member", "--id ID", "id", "", build_suspend_member,
            PROPOSAL_HELP("Proposes suspending a member: every account of a suspended member\n"
                          "is refused until it is reinstated. The last active city cannot be\n"
                          "suspended (ERR_BAD_PROPOSAL).\n",
                          MEMBER_ID_HELP("--id", "the member to suspend"))),
    PROPOSE("reinstate-member", "--id ID", "id", "", build_reinstate_member,
            PROPOSAL_HELP("Proposes reinstating a suspended member.\n",
                          MEMBER_ID_HELP("--id", "the suspended member"))),
    PROPOSE("accredit", "--member ID --categories CAT[,CAT]", "member categories", "",
            build_accredit,
            PROPOSAL_HELP("Proposes accrediting a VERIFIER member for KPI categories: it may\n"
                          "then attest impact reports of KPIs of those categories.\n",
                          "  --member ID      the verifier, a member id of kind VERIFIER\n"
                          "                   (ERR_NOT_VERIFIER)\n" CATEGORIES_HELP)),
    PROPOSE("revoke-accreditation", "--member ID --categories CAT[,CAT]", "member categories",
            "", build_revoke_accreditation,
            PROPOSAL_HELP("Proposes withdrawing categories from a verifier's accreditation;\n"
                          "each must be held (ERR_NOT_ACCREDITED).\n",
                          "  --member ID      the verifier, a member id\n" CATEGORIES_HELP)),
    PROPOSE("add-validator", "--pubkey HEX --power N --operator ID", "pubkey power operator", "",
            build_add_validator,
            PROPOSAL_HELP("Proposes adding a validator. A validator set changed in block H is\n"
                          "in force from H + 2.\n",
                          PUBKEY_HELP("its node key (esgnode key new)")
                          POWER_HELP
                          "  --operator ID    the member running it, a member id\n")),
    PROPOSE("remove-validator", "--pubkey HEX", "pubkey", "", build_remove_validator,
            PROPOSAL_HELP("Proposes removing a validator (not the last: ERR_LAST_VALIDATOR);\n"
                          "from H + 2 on it is disconnected and refused.\n",
                          PUBKEY_HELP("the validator's node key"))),
    PROPOSE("set-validator-power", "--pubkey HEX --power N", "pubkey power", "",
            build_set_validator_power,
            PROPOSAL_HELP("Proposes changing a validator's voting power (in force from H + 2).\n",
                          PUBKEY_HELP("the validator's node key") POWER_HELP)),
    PROPOSE("set-param", "--name NAME --value N", "name value", "", build_set_param,
            PROPOSAL_HELP("Proposes changing a chain parameter.\n",
                          "  --name NAME      governance_threshold_bps (basis points of the\n"
                          "                   cities, 5001..10000), proposal_ttl_blocks\n"
                          "                   (1..10000000), max_block_txs (1..100000) or\n"
                          "                   max_block_bytes (1024..67108864); ERR_BAD_PARAM\n"
                          "  --value N        the new value, a whole number in that range\n")),
    PROPOSE("add-kpi", "--id ID --name NAME --unit UNIT --category CAT --direction higher|lower",
            "id name unit category direction", "", build_add_kpi,
            PROPOSAL_HELP("Proposes adding a KPI to the catalogue cities report against\n"
                          "(GET /v1/kpis). Reported values are thousandths of its unit.\n",
                          "  --id ID          the KPI's id, [a-z0-9_]{2,64}, e.g.\n"
                          "                   ghg_avoided_tco2e; not in the catalogue yet\n"
                          "  --name NAME      its name, 1..200 characters\n"
                          "  --unit UNIT      the unit of its values, 1..32 characters: tCO2e\n"
                          "  --category CAT   climate, energy, water, waste, transport,\n"
                          "                   buildings or social\n"
                          "  --direction higher|lower  whether more is better (higher) or less\n"
                          "                   (lower: a report gives the level reached)\n")),
    {.path = "member vote", .synopsis = "PROPOSAL_ID (--approve | --reject) --key NAME",
     .min_pos = 1, .max_pos = 1, .flags = "approve reject", .kind = ESGW_CMD_SUBMIT,
     .build = build_vote,
     .help = "Votes on an open proposal for the key's city, once per city (the proposer's\n"
             "city has approved by proposing: ERR_ALREADY_VOTED). The key must be an ADMIN\n"
             "account of a CITY member. A vote that reaches the threshold executes the\n"
             "change in its block; one after expires_height is ERR_PROPOSAL_CLOSED.\n"
             "\n"
             "  PROPOSAL_ID      the proposal's id, 64 hex (esgwallet proposals lists them)\n"
             "  --approve        vote for it\n"
             "  --reject         vote against it; exactly one of the two\n"},
    {.path = "member add-account", .synopsis = "--pubkey HEX --roles officer[,admin] --key NAME",
     .required = "pubkey roles", .kind = ESGW_CMD_SUBMIT, .build = build_add_account,
     .help = "Adds an account to the key's own member, without a vote (key rotation, a new\n"
             "officer). The key must be an ADMIN account. Keys are never reused: one that\n"
             "is or ever was an account is ERR_ACCOUNT_EXISTS.\n"
             "\n"
             PUBKEY_HELP("the new account's key (esgwallet key new)")
             "  --roles officer[,admin]  its roles, comma-separated, none twice: officer\n"
             "                   (signs the member's actions) and admin (governs: votes,\n"
             "                   proposals, accounts); any case (ERR_BAD_ROLES)\n"},
    {.path = "member revoke-account", .synopsis = "--pubkey HEX --key NAME",
     .required = "pubkey", .kind = ESGW_CMD_SUBMIT, .build = build_revoke_account,
     .help = "Revokes an account of the key's own member, its own included while another\n"
             "live ADMIN remains (ERR_LAST_ADMIN). The key must be an ADMIN account. The\n"
             "record stays, marked revoked; the key can never be added again.\n"
             "\n"
             PUBKEY_HELP("the account to revoke")},
    {0},
};
