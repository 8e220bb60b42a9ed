/* esgnode: the node daemon and its offline commands. `esgnode --help` lists
 * the commands; `esgnode COMMAND --help` explains one (helps[] below); the
 * genesis file is docs/GENESIS.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/progress.h"
#include "ledger/store.h"
#include "node/node.h"
#include "node/verify_chain.h"

static char sigbus_msg[4608] =
    "esgnode: fatal: ERR_STORE_CORRUPT: a read ran past the end of the datadir's data.mdb "
    "(the file is shorter than its own records say): the store is damaged; the node will "
    "not start on it: move the datadir aside and re-sync from peers into a fresh datadir "
    "(esgnode init with the same genesis, then esgnode run --peer ...)\n";

/* Names the datadir in the SIGBUS message (before the store opens). */
static void sigbus_name(const char *datadir) {
    snprintf(sigbus_msg, sizeof sigbus_msg,
             "esgnode: fatal: ERR_STORE_CORRUPT: a read ran past the end of '%s/data.mdb' "
             "(the file is shorter than its own records say): '%s/data.mdb' is damaged; "
             "the node will not start on it: move the datadir aside and re-sync from peers "
             "into a fresh datadir (esgnode init with the same genesis, then esgnode run "
             "--peer ...)\n",
             datadir, datadir);
}

/* The store maps data.mdb; a page it reads past the end of a truncated
 * file raises SIGBUS (esg_store_file_check catches most truncations
 * before the map, but allows a few tail pages: ledger/store.h). Say what
 * happened, as the store's other damage messages do, and exit with the
 * same status instead of dying of the signal. Async-signal-safe. */
static void on_sigbus(int sig) {
    (void)sig;
    ssize_t w = write(STDERR_FILENO, sigbus_msg, strlen(sigbus_msg));
    (void)w;
    _exit(ESG_STORE_DAMAGED_EXIT);
}

static const char usage[] =
    "usage: esgnode COMMAND [options]\n"
    "\n"
    "  key new -o FILE                     create a node/validator key (mode 0600); prints the pubkey\n"
    "  genesis new --chain-id ID -o FILE   write a genesis file\n"
    "        [--member ID:KIND:NAME:PUBKEY]...   PUBKEY is the member's first account (ADMIN, OFFICER)\n"
    "        [--validator PUBKEY:POWER:OPERATOR]...\n"
    "        [--accredit MEMBER:CAT,CAT]...\n"
    "        [--time RFC3339] [--country MEMBER:CC]... [--lei MEMBER:LEI]...\n"
    "        [--population MEMBER:N]... [--no-default-kpis]\n"
    "  init --genesis FILE --datadir DIR --key FILE\n"
    "  run --datadir DIR [--config FILE] [--api ADDR:PORT] [--p2p ADDR:PORT]\n"
    "        [--peer ADDR:PORT]... [--observer PUBKEY]... [--log-level error|warn|info|debug]\n"
    "        [--heartbeat-ms N]\n"
    "  verify-chain --datadir DIR [--threads N] [--quiet]\n"
    "\n"
    "esgnode COMMAND --help explains a command's options; esgnode --version prints the\n"
    "version. KIND is CITY, INVESTOR, VERIFIER, PAYING_AGENT or AUDITOR. Errors are\n"
    "printed as one line naming the error code, with exit status 1 (70 for a damaged\n"
    "store).\n";

/* The text of `esgnode COMMAND --help`, one per command: every option, its
 * format, unit and default, and the files the command reads and writes. */
static const struct {
    const char *name; /* as typed: "key new" */
    const char *text;
} helps[] = {
    {"key new",
     "usage: esgnode key new -o FILE\n"
     "\n"
     "Creates a node key: a BIP340 (secp256k1) key pair drawn from the system's random\n"
     "source, written to FILE as JSON with mode 0600. Prints the public key, 64 hex\n"
     "characters: give it to `genesis new --validator` or to peers' `--observer`.\n"
     "\n"
     "  -o, --out FILE   the key file to create; an existing file is never overwritten\n"
     "                   (ERR_KEY_EXISTS)\n"
     "\n"
     "The secret never leaves the file; keep a copy offline. `esgnode init --key` copies\n"
     "it into a datadir as node_key.json.\n"},
    {"genesis new",
     "usage: esgnode genesis new --chain-id ID -o FILE [options]\n"
     "\n"
     "Writes a genesis file (docs/GENESIS.md): the chain's id and start time, its founding\n"
     "members, first validator set, accreditations and KPI catalogue. Every node of a chain\n"
     "starts from the same file, byte for byte. The file is checked as `esgnode init` checks\n"
     "it before it is written; an existing FILE is never overwritten.\n"
     "\n"
     "  --chain-id ID                      the chain's name, e.g. esg-jgb-1\n"
     "  -o, --out FILE                     the file to write\n"
     "  --time RFC3339                     genesis time, YYYY-MM-DDTHH:MM:SSZ (UTC);\n"
     "                                     default: now, in whole seconds\n"
     "  --member ID:KIND:NAME:PUBKEY       a founding member (repeatable). KIND: CITY, INVESTOR,\n"
     "                                     VERIFIER, PAYING_AGENT or AUDITOR. PUBKEY (64 hex) is\n"
     "                                     its first account, holding ADMIN and OFFICER roles.\n"
     "                                     NAME may hold spaces but no ':'\n"
     "  --validator PUBKEY:POWER:OPERATOR  a validator (repeatable): its node key, voting power\n"
     "                                     (a whole number > 0) and the member operating it\n"
     "  --accredit MEMBER:CAT,CAT          KPI categories a VERIFIER may attest (repeatable)\n"
     "  --country MEMBER:CC                a member's ISO 3166-1 alpha-2 country code\n"
     "  --lei MEMBER:LEI                   a member's Legal Entity Identifier (ISO 17442, 20\n"
     "                                     characters with valid check digits)\n"
     "  --population MEMBER:N              a city's population, 1..10000000000 (for impact per\n"
     "                                     1000 inhabitants)\n"
     "  --no-default-kpis                  leave out the built-in ICMA KPI catalogue\n"
     "\n"
     "--country, --lei and --population name a member given by --member.\n"},
    {"init",
     "usage: esgnode init --genesis FILE --datadir DIR --key FILE\n"
     "\n"
     "Creates a datadir for one node. DIR (made with mode 0700 when missing; one that\n"
     "already holds a store is refused with ERR_ALREADY_INITIALIZED) gets genesis.json (a\n"
     "byte-for-byte copy of FILE, which is checked first), node_key.json (a copy of the key,\n"
     "mode 0600; a key file readable by group or others is refused), the initial state in\n"
     "data.mdb (LMDB) and an esgnode.conf with the default settings to edit.\n"
     "\n"
     "  --genesis FILE   the chain's genesis file (esgnode genesis new)\n"
     "  --datadir DIR    the directory to create\n"
     "  --key FILE       this node's key (esgnode key new)\n"
     "\n"
     "Then: esgnode run --datadir DIR.\n"},
    {"run",
     "usage: esgnode run --datadir DIR [options]\n"
     "\n"
     "Runs the node until SIGINT or SIGTERM: the HTTP API (docs/API.md) and, when the chain\n"
     "has more than one validator or peers or observers are configured, the p2p transport and\n"
     "BFT consensus (docs/P2P.md). Settings come from DIR/esgnode.conf when it exists (or\n"
     "--config FILE; the keys are listed in esgnode.conf(5) and the README); an option given\n"
     "here overrides the file's value.\n"
     "\n"
     "  --datadir DIR       the datadir made by esgnode init (required)\n"
     "  --config FILE       the config file (INI); default DIR/esgnode.conf, if present\n"
     "  --api ADDR:PORT     where the HTTP API listens; default 127.0.0.1:8600 ([api] listen)\n"
     "  --p2p ADDR:PORT     where the p2p transport listens; default 127.0.0.1:26600\n"
     "                      ([p2p] listen)\n"
     "  --peer ADDR:PORT    a node to dial and keep dialing (repeatable, at most 64; added to\n"
     "                      the file's [p2p] peer lines)\n"
     "  --observer PUBKEY   a non-validator node key (64 hex) allowed to connect and follow\n"
     "                      (repeatable, at most 64)\n"
     "  --log-level LEVEL   error, warn, info (default) or debug; the log goes to stderr\n"
     "  --heartbeat-ms N    > 0: make an empty block after N ms without transactions;\n"
     "                      default 0, no empty blocks ([node] heartbeat_ms)\n"
     "\n"
     "Exit status: 0 after a clean stop, 1 when the node cannot start (the reason on\n"
     "stderr), 70 when the store is damaged (the message says how to recover).\n"},
    {"verify-chain",
     "usage: esgnode verify-chain --datadir DIR [--threads N] [--quiet]\n"
     "\n"
     "Replays the datadir's chain from its genesis into a scratch store (under $TMPDIR,\n"
     "removed afterwards), checking every block's commit signatures, transaction\n"
     "signatures, results and state root, and compares the final state root with the\n"
     "datadir's. Prints what it replays and the verdict on stdout; on a terminal, a\n"
     "progress line on stderr (blocks done of the total, transactions, blocks/s and\n"
     "the time left), cleared at the end.\n"
     "\n"
     "  --datadir DIR   the datadir to check\n"
     "  --threads N     signature-checking threads, 1..1024; default: one per online CPU\n"
     "  --quiet         no progress line (there is none either when stderr is not a\n"
     "                  terminal, or TERM is dumb)\n"
     "\n"
     "Exit status: 0 when every block verifies, 1 naming the first height that does not.\n"},
};

/* Prints the help of the command whose words start argv (argv[0] "key",
 * argv[1] "new"), or returns false if there is none. */
static bool print_help(int argc, char **argv) {
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        const char *n = helps[i].name, *sp = strchr(n, ' ');
        bool match = sp ? argc >= 2 && strncmp(argv[0], n, (size_t)(sp - n)) == 0 &&
                              argv[0][sp - n] == '\0' && strcmp(argv[1], sp + 1) == 0
                        : argc >= 1 && strcmp(argv[0], n) == 0;
        if (match) {
            fputs(helps[i].text, stdout);
            return true;
        }
    }
    return false;
}

/* True if a word of argv is --help or -h (before a "--"). */
static bool wants_help(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "esgnode: %s: ", esg_err_name(code));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int cmd_key_new(int argc, char **argv) {
    const char *out = NULL;
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'}, {0}};
    int c;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == 'o') out = optarg;
        else return fail(ESG_ERR_INVALID_ARGUMENT, "usage: esgnode key new -o FILE (see esgnode key new --help)");
    }
    if (!out)
        return fail(ESG_ERR_INVALID_ARGUMENT, "usage: esgnode key new -o FILE (see esgnode key new --help)");
    esg_seckey sk;
    esg_pubkey pk;
    int rc = esg_key_generate(&sk, &pk);
    if (rc == 0)
        rc = esg_keyfile_write(out, &sk);
    esg_seckey_wipe(&sk);
    if (rc)
        return fail(rc, "cannot write key file '%s': %s", out,
                    rc == ESG_ERR_KEY_EXISTS ? "it already exists" : esg_err_message(rc));
    printf("%s\n", esg_pubkey_hex(&pk).s);
    return 0;
}

/* Splits "a:b:c:d" into at most n fields in place; the last takes the rest. */
static size_t split(char *s, char **fields, size_t n) {
    size_t k = 0;
    while (k + 1 < n) {
        fields[k++] = s;
        char *colon = strchr(s, ':');
        if (!colon)
            return k;
        *colon = '\0';
        s = colon + 1;
    }
    fields[k++] = s;
    return k;
}

static int cmd_genesis_new(int argc, char **argv) {
    const char *chain_id = NULL, *out = NULL, *time_s = NULL;
    bool default_kpis = true;
    enum { O_CHAIN = 1, O_MEMBER, O_VALIDATOR, O_ACCREDIT, O_TIME, O_NOKPI, O_COUNTRY, O_LEI,
           O_POPULATION };
    static const struct option opts[] = {
        {"chain-id", required_argument, NULL, O_CHAIN},
        {"member", required_argument, NULL, O_MEMBER},
        {"validator", required_argument, NULL, O_VALIDATOR},
        {"accredit", required_argument, NULL, O_ACCREDIT},
        {"country", required_argument, NULL, O_COUNTRY},
        {"lei", required_argument, NULL, O_LEI},
        {"population", required_argument, NULL, O_POPULATION},
        {"time", required_argument, NULL, O_TIME},
        {"no-default-kpis", no_argument, NULL, O_NOKPI},
        {"out", required_argument, NULL, 'o'},
        {0}};
    /* First pass: scalar options, so the builder exists before the lists. */
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c == O_CHAIN) chain_id = optarg;
        else if (c == 'o') out = optarg;
        else if (c == O_TIME) time_s = optarg;
        else if (c == O_NOKPI) default_kpis = false;
        else if (c == '?') return fail(ESG_ERR_INVALID_ARGUMENT, "unknown option '%s' (see esgnode genesis new --help)", argv[optind - 1]);
    }
    if (!chain_id || !out)
        return fail(ESG_ERR_INVALID_ARGUMENT, "genesis new needs --chain-id ID and -o FILE (see esgnode genesis new --help)");
    uint64_t t;
    if (time_s) {
        if (esg_time_parse_rfc3339(time_s, &t))
            return fail(ESG_ERR_INVALID_ARGUMENT, "--time '%s' is not YYYY-MM-DDTHH:MM:SSZ", time_s);
    } else {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        t = (uint64_t)tv.tv_sec * 1000; /* whole seconds: the file shows them */
    }
    esg_genesis *g = esg_genesis_new(chain_id, t);
    if (!g)
        return fail(ESG_ERR_NOMEM, "out of memory");
    int rc = 0;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        char *f[4];
        char buf[1024];
        snprintf(buf, sizeof buf, "%s", optarg ? optarg : "");
        if (c == O_MEMBER) {
            if (split(buf, f, 4) != 4) {
                rc = fail(ESG_ERR_INVALID_ARGUMENT, "--member '%s' is not ID:KIND:NAME:PUBKEY", optarg);
                break;
            }
            /* The pubkey is the last field; a name may not hold ':'. */
            esg_pubkey pk;
            int kind = esg_member_kind_parse(f[1]);
            if (!kind) {
                rc = fail(ESG_ERR_BAD_MEMBER_KIND, "--member '%s': unknown kind '%s'", optarg, f[1]);
                break;
            }
            if (esg_hex_decode(pk.b, 32, f[3]) || esg_pubkey_check(&pk)) {
                rc = fail(ESG_ERR_BAD_PUBKEY, "--member '%s': '%s' is not a 64-hex public key", optarg, f[3]);
                break;
            }
            if (esg_genesis_add_member(g, f[0], kind, f[2], "", &pk)) {
                rc = fail(ESG_ERR_GENESIS, "--member '%s' cannot be added", optarg);
                break;
            }
        } else if (c == O_VALIDATOR) {
            esg_pubkey pk;
            char *end;
            if (split(buf, f, 3) != 3 || esg_hex_decode(pk.b, 32, f[0]) || esg_pubkey_check(&pk)) {
                rc = fail(ESG_ERR_INVALID_ARGUMENT, "--validator '%s' is not PUBKEY:POWER:OPERATOR", optarg);
                break;
            }
            errno = 0;
            unsigned long long power = strtoull(f[1], &end, 10);
            if (errno || *end || !*f[1]) {
                rc = fail(ESG_ERR_BAD_POWER, "--validator '%s': bad power '%s'", optarg, f[1]);
                break;
            }
            if (esg_genesis_add_validator(g, &pk, power, f[2])) {
                rc = fail(ESG_ERR_GENESIS, "--validator '%s' cannot be added", optarg);
                break;
            }
        } else if (c == O_ACCREDIT) {
            if (split(buf, f, 2) != 2 || esg_genesis_add_accreditation(g, f[0], f[1])) {
                rc = fail(ESG_ERR_INVALID_ARGUMENT, "--accredit '%s' is not MEMBER:CAT,CAT", optarg);
                break;
            }
        } else if (c == O_COUNTRY) {
            bool found = false;
            if (split(buf, f, 2) == 2)
                for (size_t i = 0; i < g->n_members; i++)
                    if (strcmp(g->members[i].id, f[0]) == 0) {
                        char *cc = strdup(f[1]);
                        if (cc) {
                            free(g->members[i].country);
                            g->members[i].country = cc;
                            found = true;
                        }
                    }
            if (!found) {
                rc = fail(ESG_ERR_INVALID_ARGUMENT, "--country '%s' is not MEMBER:CC of a member given before it", optarg);
                break;
            }
        } else if (c == O_LEI) {
            /* The LEI itself is checked with the rest by esg_genesis_validate. */
            int src = split(buf, f, 2) == 2 ? esg_genesis_set_lei(g, f[0], f[1])
                                            : ESG_ERR_UNKNOWN_MEMBER;
            if (src) {
                rc = src == ESG_ERR_NOMEM
                         ? fail(src, "out of memory")
                         : fail(ESG_ERR_INVALID_ARGUMENT,
                                "--lei '%s' is not MEMBER:LEI of a member given before it", optarg);
                break;
            }
        } else if (c == O_POPULATION) {
            char *end = NULL;
            unsigned long long n = 0;
            bool pair = split(buf, f, 2) == 2;
            if (pair) {
                errno = 0;
                n = strtoull(f[1], &end, 10);
            }
            if (!pair || errno || !*f[1] || *end || f[1][0] == '-' || n == 0 ||
                n > ESG_MAX_POPULATION) {
                rc = fail(ESG_ERR_INVALID_ARGUMENT,
                          "--population '%s' is not MEMBER:N with N 1..10000000000", optarg);
                break;
            }
            if (esg_genesis_set_population(g, f[0], n)) {
                rc = fail(ESG_ERR_INVALID_ARGUMENT, "--population '%s': no member '%s' was given before it", optarg, f[0]);
                break;
            }
        }
    }
    if (rc == 0 && default_kpis && esg_genesis_add_default_kpis(g))
        rc = fail(ESG_ERR_NOMEM, "out of memory");
    char err[512];
    if (rc == 0 && (rc = esg_genesis_validate(g, err, sizeof err)) != 0)
        rc = fail(rc, "%s", err);
    char *json = NULL;
    size_t len = 0;
    if (rc == 0 && (rc = esg_genesis_to_json(g, &json, &len)) != 0)
        rc = fail(rc, "cannot encode the genesis");
    if (rc == 0) {
        FILE *f = fopen(out, "wx");
        if (!f || fwrite(json, 1, len, f) != len || fclose(f) != 0)
            rc = fail(ESG_ERR_IO, "cannot write '%s': %s", out,
                      errno == EEXIST ? "it already exists" : strerror(errno));
    }
    free(json);
    esg_genesis_free(g);
    return rc ? 1 : 0;
}

static int cmd_init(int argc, char **argv) {
    const char *genesis = NULL, *datadir = NULL, *key = NULL;
    static const struct option opts[] = {{"genesis", required_argument, NULL, 'g'},
                                         {"datadir", required_argument, NULL, 'd'},
                                         {"key", required_argument, NULL, 'k'}, {0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'g') genesis = optarg;
        else if (c == 'd') datadir = optarg;
        else if (c == 'k') key = optarg;
        else return fail(ESG_ERR_INVALID_ARGUMENT, "usage: esgnode init --genesis FILE --datadir DIR --key FILE (see esgnode init --help)");
    }
    if (!genesis || !datadir || !key)
        return fail(ESG_ERR_INVALID_ARGUMENT, "usage: esgnode init --genesis FILE --datadir DIR --key FILE (see esgnode init --help)");
    char err[512] = "";
    int rc = esg_node_init(datadir, genesis, key, err, sizeof err);
    if (rc)
        return fail(rc, "%s", err[0] ? err : esg_err_message(rc));
    printf("initialized %s\n", datadir);
    return 0;
}

static int cmd_run(int argc, char **argv) {
    const char *datadir = NULL, *config = NULL, *api = NULL, *p2p = NULL, *level = NULL,
               *heartbeat = NULL;
    const char *peers[ESG_NODE_MAX_PEERS], *observers[ESG_NODE_MAX_OBSERVERS];
    size_t n_peers = 0, n_observers = 0;
    enum { O_DATADIR = 1, O_CONFIG, O_API, O_P2P, O_PEER, O_OBSERVER, O_LEVEL, O_HEARTBEAT };
    static const struct option opts[] = {
        {"datadir", required_argument, NULL, O_DATADIR},
        {"config", required_argument, NULL, O_CONFIG},
        {"api", required_argument, NULL, O_API},
        {"p2p", required_argument, NULL, O_P2P},
        {"peer", required_argument, NULL, O_PEER},
        {"observer", required_argument, NULL, O_OBSERVER},
        {"log-level", required_argument, NULL, O_LEVEL},
        {"heartbeat-ms", required_argument, NULL, O_HEARTBEAT},
        {0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_DATADIR: datadir = optarg; break;
        case O_CONFIG: config = optarg; break;
        case O_API: api = optarg; break;
        case O_P2P: p2p = optarg; break;
        case O_PEER:
            if (n_peers == ESG_NODE_MAX_PEERS)
                return fail(ESG_ERR_INVALID_ARGUMENT, "at most %d peers", ESG_NODE_MAX_PEERS);
            peers[n_peers++] = optarg;
            break;
        case O_OBSERVER:
            if (n_observers == ESG_NODE_MAX_OBSERVERS)
                return fail(ESG_ERR_INVALID_ARGUMENT, "at most %d observers",
                            ESG_NODE_MAX_OBSERVERS);
            observers[n_observers++] = optarg;
            break;
        case O_LEVEL: level = optarg; break;
        case O_HEARTBEAT: heartbeat = optarg; break;
        default: return fail(ESG_ERR_INVALID_ARGUMENT, "unknown option '%s' (see esgnode run --help)", argv[optind - 1]);
        }
    }
    if (!datadir)
        return fail(ESG_ERR_INVALID_ARGUMENT, "run needs --datadir DIR (see esgnode run --help)");
    sigbus_name(datadir);
    esg_node_config cfg;
    esg_node_config_defaults(&cfg, datadir);
    char err[512] = "", path[PATH_MAX + 32];
    int rc;
    if (config) {
        rc = esg_node_config_load(&cfg, config, false, err, sizeof err);
    } else {
        snprintf(path, sizeof path, "%s/esgnode.conf", datadir);
        rc = esg_node_config_load(&cfg, path, true, err, sizeof err);
    }
    if (rc)
        return fail(rc, "%s", err);
    if (api) snprintf(cfg.api_addr, sizeof cfg.api_addr, "%s", api);
    if (p2p) snprintf(cfg.p2p_addr, sizeof cfg.p2p_addr, "%s", p2p);
    if (level && esg_log_level_parse(level, &cfg.log_level))
        return fail(ESG_ERR_INVALID_ARGUMENT, "--log-level must be error, warn, info or debug");
    if (heartbeat) {
        char *end;
        cfg.heartbeat_ms = strtoull(heartbeat, &end, 10);
        if (*end || !*heartbeat)
            return fail(ESG_ERR_INVALID_ARGUMENT, "--heartbeat-ms needs a number");
    }
    for (size_t i = 0; i < n_peers && cfg.n_peers < ESG_NODE_MAX_PEERS; i++)
        cfg.peers[cfg.n_peers++] = strdup(peers[i]);
    for (size_t i = 0; i < n_observers; i++) {
        if (cfg.n_observers == ESG_NODE_MAX_OBSERVERS) {
            esg_node_config_release(&cfg);
            return fail(ESG_ERR_INVALID_ARGUMENT, "at most %d observers", ESG_NODE_MAX_OBSERVERS);
        }
        if (esg_node_parse_pubkey(observers[i], &cfg.observers[cfg.n_observers++]) != 0) {
            esg_node_config_release(&cfg);
            return fail(ESG_ERR_INVALID_ARGUMENT,
                        "--observer needs a node's public key, 64 hex characters");
        }
    }
    esg_logger log = {cfg.log_level, NULL};
    esg_node *node;
    rc = esg_node_open(&node, &cfg, &log, err, sizeof err);
    if (rc) {
        esg_node_config_release(&cfg);
        return fail(rc, "%s", err[0] ? err : esg_err_message(rc));
    }
    rc = esg_node_run(node);
    esg_node_close(node);
    esg_node_config_release(&cfg);
    return rc ? 1 : 0;
}

static int cmd_verify_chain(int argc, char **argv) {
    const char *datadir = NULL;
    unsigned threads = 0;
    bool quiet = false;
    static const struct option opts[] = {{"datadir", required_argument, NULL, 'd'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"quiet", no_argument, NULL, 'q'}, {0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') datadir = optarg;
        else if (c == 'q') quiet = true;
        else if (c == 't') {
            char *end;
            errno = 0;
            unsigned long n = strtoul(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || n == 0 || n > 1024)
                return fail(ESG_ERR_INVALID_ARGUMENT, "--threads '%s' is not a number 1..1024",
                            optarg);
            threads = (unsigned)n;
        } else
            return fail(ESG_ERR_INVALID_ARGUMENT,
                        "usage: esgnode verify-chain --datadir DIR [--threads N] [--quiet] (see esgnode "
                        "verify-chain --help)");
    }
    if (!datadir)
        return fail(ESG_ERR_INVALID_ARGUMENT,
                    "usage: esgnode verify-chain --datadir DIR [--threads N] [--quiet] (see esgnode "
                    "verify-chain --help)");
    sigbus_name(datadir);
    if (!threads) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    esg_replay_result res;
    int rc = esg_verify_chain(datadir, threads, stdout,
                              esg_progress_wanted(stderr, quiet) ? stderr : NULL, &res);
    if (rc) {
        fprintf(stderr, "esgnode: %s: chain verification failed at height %llu\n",
                esg_err_name(rc), (unsigned long long)res.bad_height);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        (strcmp(argv[1], "help") == 0 && argc == 2)) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("esgnode " ESG_VERSION);
        return 0;
    }
    /* `esgnode help COMMAND` and `esgnode COMMAND ... --help`. */
    if (strcmp(argv[1], "help") == 0 || wants_help(argc, argv)) {
        int from = strcmp(argv[1], "help") == 0 ? 2 : 1;
        if (print_help(argc - from, argv + from))
            return 0;
        return fail(ESG_ERR_INVALID_ARGUMENT, "unknown command '%s' (see esgnode --help)",
                    argv[from]);
    }
    if (sodium_init() < 0)
        return fail(ESG_ERR_INTERNAL, "libsodium failed to initialize");
    /* A peer or client that hangs up must not kill the node: writes to a
     * closed socket return EPIPE instead. */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
    opterr = 0; /* unknown options are reported by each command, in one line */
    const char *cmd = argv[1];
    if (strcmp(cmd, "key") == 0 && argc >= 3 && strcmp(argv[2], "new") == 0)
        return cmd_key_new(argc - 2, argv + 2);
    if (strcmp(cmd, "genesis") == 0 && argc >= 3 && strcmp(argv[2], "new") == 0)
        return cmd_genesis_new(argc - 2, argv + 2);
    if (strcmp(cmd, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "verify-chain") == 0)
        return cmd_verify_chain(argc - 1, argv + 1);
    return fail(ESG_ERR_INVALID_ARGUMENT, "unknown command '%s' (see esgnode --help)", cmd);
}
