/* The esgwallet command line (a contract: `esgwallet --help` prints it).
 *
 *   esgwallet [--node URL] [--keystore DIR] [--json] [--passphrase-file F]
 *             COMMAND ... [options]
 *
 * esgw_cli_run is the whole program; wallet/main.c only calls it, so the
 * check suites run the CLI in-process. The rest of this header is the
 * contract between wallet/cli_*.c, one file per group of commands:
 *   cli_core.c    option parsing, dispatch, usage, shared helpers
 *   cli_key.c     key new | list | show | import
 *   cli_tx.c      tx sign | inspect | submit, and the submit path every
 *                 action verb goes through (build, sign, -o or POST)
 *   cli_member.c  member propose ... | vote | add-account | revoke-account
 *   cli_query.c   member show | member list | proposals | status
 *   cli_instrument.c  instrument issue | subscribe | close | transfer | pay,
 *                 proceeds allocate | reverse, the instrument queries, and
 *                 the helpers the domain files share (esgw_cli__arena, ...)
 *   cli_project.c project register | update | fund | unfund: projects and
 *                 their funding from outside the ledger's instruments
 *   cli_impact.c  impact report | attest | revoke | dispute | check-evidence
 *   cli_gbs.c     report allocation | impact | project | cities (the EU
 *                 Green Bond Standard reports: text, --json, --csv) and
 *                 project show | list
 *   cli_build.c   tx build --action FILE.json (wallet/pbjson_in.h)
 *   cli_audit.c   impact verify (state proofs) and audit (replay from
 *                 genesis): the checks that trust no node
 *
 * Commands are rows of esgw_cmd tables. An action verb (one that signs a
 * transaction) is a row with ESGW_CMD_SUBMIT and a builder that fills in
 * the TxBody's action from the parsed options; the shared submit path does
 * everything else -- signer, nonce, chain id, signing, --no-wait, -o. So
 * a new action verb is one row and one builder function.
 *
 * Output rules. Results go to cli->out: lines for people by default, one
 * JSON document with --json. Errors never go there: a command returns an
 * ESG_ERR_* code with cli->err set, and esgw_cli_run prints it as ONE line
 * on stderr, "esgwallet: ERR_CODE: message", and exits 1 (2 for a usage
 * error, which is always ERR_INVALID_ARGUMENT). A node's error passes
 * through with its code and message as the node sent them.
 *
 * Memory: builders allocate the messages they build with esgw_cli__alloc;
 * everything so allocated is freed when the command ends.
 *
 * Secrets: a key is unlocked (esgw_cli__unlock) only for the moment of
 * signing and wiped right after; passphrases are wiped once used.
 *
 * Threads: one command at a time per esgw_cli; the process-wide state is
 * that of the passphrase prompt (see wallet/keystore.h).
 */
#ifndef ESGW_CLI_H
#define ESGW_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ledger/codec.h"
#include "ledger/keys.h"
#include "wallet/client.h"
#include "wallet/keystore.h"

#define ESGW_DEFAULT_NODE "http://127.0.0.1:8600"

/* Runs one esgwallet command line: argv[0] is the program name. Results
 * go to `out`, the one-line error (if any) to `err`. Returns the exit
 * status: 0 success, 1 failure, 2 usage error.
 *
 * `esgwallet --list-commands` (not in --help: it is for programs) prints
 * the command tables for the bash completion (scripts/completion/) and
 * integration.cli_help, one line per command, four fields separated by a
 * tab: the command's words ("member vote"), the options that take a value
 * ("--key -o --nonce --chain-id"), the options without one ("--approve
 * --reject --no-wait") -- exactly what the command accepts besides the
 * global options -- and its synopsis. The first line has empty words and
 * the global options. */
int esgw_cli_run(int argc, char **argv, FILE *out, FILE *err);

/* esgw_cli_run with every request to the node carried by `transport`
 * (borrowed, for the length of the call) instead of libcurl: see
 * "Transport hook" in wallet/client.h. NULL is exactly esgw_cli_run. For
 * tests and fuzz targets that play the node in-process
 * (tests/fuzz/fuzz_light.c); esgwallet itself never sets one. */
int esgw_cli_run_transport(int argc, char **argv, FILE *out, FILE *err,
                           const esgw_transport *transport);

/* ------------------------------------------------- internal to cli_*.c */

#define ESGW_MAX_POS 4
#define ESGW_MAX_OPTS 24

/* A command's parsed arguments: positional words, and options by name
 * without the dashes ("key", "o", "no-wait"); value NULL for a flag. The
 * strings point into argv. */
typedef struct esgw_args {
    const char *pos[ESGW_MAX_POS];
    size_t n_pos;
    struct {
        const char *name;
        const char *value;
    } opt[ESGW_MAX_OPTS];
    size_t n_opt;
} esgw_args;

typedef struct esgw_cli {
    /* Global options. */
    const char *node_url;
    const char *keystore_dir;    /* NULL: the keystore's default */
    const char *passphrase_file; /* NULL: $ESGWALLET_PASSPHRASE or prompt */
    bool json;
    FILE *out;
    FILE *errf; /* esgw_cli_run's err: where a progress line may go */
    /* Opened on first use by esgw_cli__keystore / esgw_cli__client. */
    esgw_keystore *ks;
    esgw_client *client;
    const esgw_transport *transport; /* given to the client; NULL: libcurl */
    /* The error a failing command returns, and whether it is a usage
     * error (exit 2). */
    esgw_error err;
    bool usage;
    const struct esgw_cmd *cmd; /* the command running */
    void **allocs;              /* esgw_cli__alloc */
    size_t n_allocs, cap_allocs;
} esgw_cli;

/* Runs a command that is not a transaction. */
typedef int (*esgw_cmd_fn)(esgw_cli *cli, const esgw_args *a);
/* Fills in body->action (and what it points to, from esgw_cli__alloc).
 * chain_id, nonce and signer are the submit path's. */
typedef int (*esgw_build_fn)(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body);

enum {
    /* An action verb: takes --key NAME (required), -o FILE, --nonce N,
     * --chain-id ID, --no-wait, and has a builder. Implies
     * ESGW_CMD_USES_NODE, _KEYSTORE and _UNLOCK. */
    ESGW_CMD_SUBMIT = 1u << 0,
    /* What else a command uses, so that its --help explains exactly the
     * global options and environment variables that apply to it. */
    ESGW_CMD_USES_NODE = 1u << 1,     /* asks the node: --node, ESGWALLET_NODE */
    ESGW_CMD_USES_KEYSTORE = 1u << 2, /* reads the keystore: --keystore */
    ESGW_CMD_USES_UNLOCK = 1u << 3,   /* unlocks a key: --passphrase-file,
                                       * ESGWALLET_PASSPHRASE */
    ESGW_CMD_USES_NEWKEY = 1u << 4,   /* encrypts a new key: the same, twice on a
                                       * terminal, and ESGWALLET_KDF */
};

typedef struct esgw_cmd {
    const char *path;      /* words that name it: "member propose add-member" */
    const char *synopsis;  /* the rest of its usage line, for --help (after
                            * three spaces: a description for the overview) */
    /* `esgwallet PATH --help`, after the usage line: a paragraph on what
     * the command does, a blank line, then one entry per positional
     * argument and option of the row ("  --amount N   ..."): its format,
     * unit, default and limits. Every option of required, optional and
     * flags appears in it as --NAME (integration.cli_help checks). Lines
     * of at most 88 columns, each ending with "\n". The options of every
     * action verb and the global options are explained by the shared
     * blocks print_cmd_usage adds (cli_core.c), not here. */
    const char *help;
    unsigned min_pos, max_pos; /* positional arguments */
    const char *required;  /* space-separated options with a value that must be given */
    const char *optional;  /* ... that may be given */
    const char *flags;     /* ... options without a value */
    unsigned kind;         /* ESGW_CMD_* */
    esgw_cmd_fn run;       /* set unless ESGW_CMD_SUBMIT */
    esgw_build_fn build;   /* set for ESGW_CMD_SUBMIT */
} esgw_cmd;

/* The command tables, one per file, each ending with a row whose path is
 * NULL. */
extern const esgw_cmd esgw_cli__key_cmds[];
extern const esgw_cmd esgw_cli__tx_cmds[];
extern const esgw_cmd esgw_cli__member_cmds[];
extern const esgw_cmd esgw_cli__query_cmds[];
extern const esgw_cmd esgw_cli__instrument_cmds[];
extern const esgw_cmd esgw_cli__impact_cmds[];
extern const esgw_cmd esgw_cli__project_cmds[];
extern const esgw_cmd esgw_cli__gbs_cmds[];
extern const esgw_cmd esgw_cli__build_cmds[];
extern const esgw_cmd esgw_cli__audit_cmds[];

/* Gets the passphrase of key `name` (--passphrase-file, then
 * $ESGWALLET_PASSPHRASE, then a prompt on the terminal, asked twice when
 * `confirm`: wallet/keystore.h esgw_passphrase_get) into buf. On failure
 * cli->err says what went wrong and how to give one; without a terminal
 * and neither source that is ESG_ERR_INVALID_ARGUMENT. */
int esgw_cli__passphrase(esgw_cli *cli, char *buf, size_t buflen, const char *name,
                         bool confirm);

/* Sets cli->err and returns `code`. */
int esgw_cli__fail(esgw_cli *cli, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A usage error: ERR_INVALID_ARGUMENT, exit status 2. Returns the code. */
int esgw_cli__usage(esgw_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The value of option `name`, or NULL when not given (or a flag). */
const char *esgw_cli__opt(const esgw_args *a, const char *name);

/* True when flag or option `name` was given. */
bool esgw_cli__has(const esgw_args *a, const char *name);

/* A zeroed block of `size` bytes that lives until the command ends, or
 * NULL when out of memory (cli->err is then set). */
void *esgw_cli__alloc(esgw_cli *cli, size_t size);

/* A copy of `s` that lives until the command ends (NULL: out of memory). */
char *esgw_cli__strdup(esgw_cli *cli, const char *s);

/* The keystore (--keystore or the default), opened on first use. */
int esgw_cli__keystore(esgw_cli *cli, esgw_keystore **ks);

/* The node client (--node), created on first use (with cli->transport
 * when set). */
int esgw_cli__client(esgw_cli *cli, esgw_client **c);

/* Sets cli->err from the keystore's last error `code` and returns it. */
int esgw_cli__ks_fail(esgw_cli *cli, int code);

/* Unlocks key `name` with the passphrase (--passphrase-file,
 * $ESGWALLET_PASSPHRASE or a prompt) into *sk, which the caller wipes with
 * esg_seckey_wipe as soon as it has signed; *pk gets its public key. */
int esgw_cli__unlock(esgw_cli *cli, const char *name, esg_seckey *sk, esg_pubkey *pk);

/* Parsers for option values; `what` names the option in the error
 * ("--pubkey"). Errors: ESG_ERR_BAD_PUBKEY, ESG_ERR_HEX,
 * ESG_ERR_INVALID_ARGUMENT, ESG_ERR_OVERFLOW. */
int esgw_cli__pubkey(esgw_cli *cli, esg_pubkey *out, const char *what, const char *hex);
int esgw_cli__hash(esgw_cli *cli, esg_hash *out, const char *what, const char *hex);
int esgw_cli__u64(esgw_cli *cli, uint64_t *out, const char *what, const char *s);

/* Splits a comma-separated list ("climate,energy") into *items (command
 * lifetime). Empty items are refused. */
int esgw_cli__list(esgw_cli *cli, char ***items, size_t *n, const char *what, const char *s);

/* Reads the whole file `path`, at most `max` bytes, into *buf (malloc'd,
 * caller frees) and *len. Errors: ESG_ERR_NOT_FOUND, ESG_ERR_IO,
 * ESG_ERR_TOO_LARGE. */
int esgw_cli__read_file(esgw_cli *cli, uint8_t **buf, size_t *len, const char *path,
                        size_t max);

/* Creates `path`, which must not exist (O_EXCL: an existing file or
 * symlink is never overwritten), and writes buf to it, fsynced.
 * Errors: ESG_ERR_INVALID_ARGUMENT (the file exists), ESG_ERR_IO; a
 * partly written file is removed. */
int esgw_cli__write_new(esgw_cli *cli, const char *path, const uint8_t *buf, size_t len);

/* Prints `doc` (borrowed) on cli->out as indented JSON and a newline. */
int esgw_cli__print_json(esgw_cli *cli, const json_t *doc);

/* Helpers of the domain command files (cli_instrument.c). */

/* An esgw_alloc_fn (wallet/pbjson_in.h) over esgw_cli__alloc: `cli` is the
 * esgw_cli; the memory lives until the command ends. */
void *esgw_cli__arena(void *cli, size_t size);

/* SHA-256 of the bytes of the file at `path` (an evidence document, a
 * verifier's statement), read in chunks whatever its size. `what` names
 * the option in errors ("--evidence"). Errors: ESG_ERR_NOT_FOUND,
 * ESG_ERR_IO. */
int esgw_cli__sha256_file(esgw_cli *cli, esg_hash *out, const char *what, const char *path);

/* Option values checked as the contracts check them, into message fields
 * (`what` names the option or argument in errors: "--amount"):
 *   amount     integer minor units, positive: ESG_ERR_BAD_DECIMAL,
 *              ESG_ERR_OVERFLOW, ESG_ERR_BAD_AMOUNT
 *   date       a real YYYY-MM-DD (*out is `s`): ESG_ERR_BAD_DATE
 *   record id  a tx id, 64 hex, as a 32-byte field in command-lifetime
 *              memory: ESG_ERR_HEX
 *   reason     --reason, which must not be empty (*out points into argv):
 *              ESG_ERR_MISSING_REASON */
int esgw_cli__amount(esgw_cli *cli, uint64_t *out, const char *what, const char *s);
int esgw_cli__date(esgw_cli *cli, char **out, const char *what, const char *s);
int esgw_cli__record_id(esgw_cli *cli, esg_pb_bytes *out, const char *what, const char *hex);
int esgw_cli__reason(esgw_cli *cli, const esgw_args *a, char **out);

/* GET prefix + the escaped `segment` (NULL: none) + suffix, e.g.
 * ("/v1/instruments/", id, "/holders"). *doc as esgw_client_get. */
int esgw_cli__get(esgw_cli *cli, json_t **doc, const char *prefix, const char *segment,
                  const char *suffix);

/* The member `key` of `o` as text for people, in command-lifetime memory:
 * a string as it is, an integer in decimal, a boolean yes/no, and "-"
 * for an absent, null or empty value (or when out of memory). */
const char *esgw_cli__field(esgw_cli *cli, const json_t *o, const char *key);

/* A printf-formatted string that lives until the command ends, or NULL
 * when out of memory (cli->err is then set). */
char *esgw_cli__printf(esgw_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Basis points as a percentage with two decimals: 1234 -> "12.34%"
 * (wallet/format.h esgw_fmt_bps; command lifetime; "?" when out of
 * memory, never NULL). */
char *esgw_cli__pct(esgw_cli *cli, uint64_t bps);

/* Money for people: `minor` minor units in `currency`'s major unit with
 * its ISO 4217 decimals and thousands separators (wallet/format.h
 * esgw_fmt_money), followed by " CUR" when `code`: "1,900,000.00 EUR". A
 * NULL currency (amounts in several) shows the minor units as they are,
 * with " minor units" when `code`. Command lifetime; "?" when out of
 * memory, never NULL. */
const char *esgw_cli__money(esgw_cli *cli, uint64_t minor, const char *currency, bool code);

/* The integer o[key] (a number or a decimal string), 0 if neither. */
uint64_t esgw_cli__u64_of(const json_t *o, const char *key);

/* Prints a table for people on `f`: cells[r * ncols + c] for nrows rows
 * (the first is the header), each column padded to its widest cell, two
 * spaces between columns, columns whose bit is set in `right` aligned
 * right (numbers). A NULL cell prints as "-". */
void esgw_cli__table(FILE *f, const char *const *cells, size_t nrows, size_t ncols,
                     unsigned right);

/* A table under construction for esgw_cli__table: rows of ncols cells
 * (borrowed strings, command lifetime or static), grown as rows are
 * added. Start with {.ncols = N}; esgw_cli__cells_print prints it and
 * releases it. */
typedef struct esgw_cells {
    const char **v;
    size_t n, cap, ncols;
    bool nomem;
} esgw_cells;

/* Adds one row: exactly t->ncols `const char *` arguments (NULL prints
 * "-"). Out of memory is remembered in t->nomem. */
void esgw_cli__row(esgw_cells *t, ...);

/* Prints t on cli->out (esgw_cli__table, `right` as there) and releases
 * its memory. Returns 0, or ESG_ERR_NOMEM when a row could not be added
 * (nothing is printed then). */
int esgw_cli__cells_print(esgw_cli *cli, esgw_cells *t, unsigned right);

/* The submit path of every action verb (cli_tx.c): fills in body's
 * chain_id (--chain-id or GET /v1/status), nonce (--nonce or the signer
 * account's next_nonce) and signer (--key's pubkey), signs it with --key,
 * then writes it to -o FILE, or submits it and waits for the commit
 * (unless --no-wait), and prints the outcome. */
int esgw_cli__submit_body(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body);

#endif
