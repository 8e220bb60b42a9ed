/* esgwallet: global options, dispatch, argument parsing and the helpers the
 * command files share (wallet/cli.h). */
#include "wallet/cli.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "ledger/error.h"

static const esgw_cmd *const tables[] = {
    esgw_cli__key_cmds,
    esgw_cli__tx_cmds,
    esgw_cli__member_cmds,
    esgw_cli__query_cmds,
    esgw_cli__instrument_cmds,
    esgw_cli__impact_cmds,
    esgw_cli__project_cmds,
    esgw_cli__gbs_cmds,
    esgw_cli__build_cmds,
    esgw_cli__audit_cmds,
};
#define N_TABLES (sizeof tables / sizeof tables[0])

/* Options every command accepts, before or after the command words. */
static const char global_valued[] = "node keystore passphrase-file";
static const char global_flags[] = "json";
/* What ESGW_CMD_SUBMIT adds to a row's own options. */
static const char submit_required[] = "key";
static const char submit_optional[] = "o nonce chain-id";
static const char submit_flags[] = "no-wait";

/* ------------------------------------------------------------- errors */

int esgw_cli__fail(esgw_cli *cli, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    esgw_error_setv(&cli->err, code, fmt, ap);
    va_end(ap);
    return code;
}

int esgw_cli__usage(esgw_cli *cli, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    esgw_error_setv(&cli->err, ESG_ERR_INVALID_ARGUMENT, fmt, ap);
    va_end(ap);
    cli->usage = true;
    return ESG_ERR_INVALID_ARGUMENT;
}

int esgw_cli__ks_fail(esgw_cli *cli, int code) {
    const char *m = cli->ks ? esgw_keystore_errmsg(cli->ks) : "";
    return esgw_cli__fail(cli, code, "%s", *m ? m : esg_err_message(code));
}

/* Prints an error as one line: control characters (a node's message may
 * hold anything) become '?'. */
static void print_error(FILE *f, const esgw_error *e) {
    fputs("esgwallet: ", f);
    for (const char *p = e->name; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, f);
    fputs(": ", f);
    for (const char *p = e->message; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p, f);
    fputc('\n', f);
}

/* ------------------------------------------------------------ helpers */

/* True when `word` is one of the space-separated words of `list`. */
static bool in_words(const char *list, const char *word, size_t wlen) {
    if (!list)
        return false;
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        if ((size_t)(e - p) == wlen && wlen > 0 && memcmp(p, word, wlen) == 0)
            return true;
        p = e;
    }
    return false;
}

const char *esgw_cli__opt(const esgw_args *a, const char *name) {
    for (size_t i = 0; i < a->n_opt; i++)
        if (strcmp(a->opt[i].name, name) == 0)
            return a->opt[i].value;
    return NULL;
}

bool esgw_cli__has(const esgw_args *a, const char *name) {
    for (size_t i = 0; i < a->n_opt; i++)
        if (strcmp(a->opt[i].name, name) == 0)
            return true;
    return false;
}

void *esgw_cli__alloc(esgw_cli *cli, size_t size) {
    if (cli->n_allocs == cli->cap_allocs) {
        size_t cap = cli->cap_allocs ? 2 * cli->cap_allocs : 16;
        void **p = realloc(cli->allocs, cap * sizeof *p);
        if (!p) {
            esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
            return NULL;
        }
        cli->allocs = p;
        cli->cap_allocs = cap;
    }
    void *m = calloc(1, size ? size : 1);
    if (!m) {
        esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        return NULL;
    }
    cli->allocs[cli->n_allocs++] = m;
    return m;
}

char *esgw_cli__strdup(esgw_cli *cli, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = esgw_cli__alloc(cli, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int esgw_cli__keystore(esgw_cli *cli, esgw_keystore **ks) {
    if (!cli->ks) {
        int rc = esgw_keystore_open(&cli->ks, cli->keystore_dir);
        if (rc)
            return esgw_cli__fail(cli, rc, "cannot open keystore '%s': %s",
                                  cli->keystore_dir ? cli->keystore_dir : "~/.esgwallet/keys",
                                  esg_err_message(rc));
    }
    *ks = cli->ks;
    return 0;
}

int esgw_cli__client(esgw_cli *cli, esgw_client **c) {
    if (!cli->client) {
        int rc = esgw_client_new(&cli->client, cli->node_url, &cli->err);
        if (rc)
            return rc;
        if (cli->transport)
            esgw_client_set_transport(cli->client, cli->transport);
    }
    *c = cli->client;
    return 0;
}

/* What esgw_passphrase_get's prompt needs: a terminal it can open and set
 * echo off on (wallet/keystore.c pp_from_tty). */
static bool have_terminal(void) {
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct termios t;
    bool ok = tcgetattr(fd, &t) == 0;
    close(fd);
    return ok;
}

#define PASSPHRASE_HOW                                                                  \
    "give it with --passphrase-file FILE (its first line) or the environment variable " \
    "ESGWALLET_PASSPHRASE, or run esgwallet on a terminal to be prompted"

int esgw_cli__passphrase(esgw_cli *cli, char *buf, size_t buflen, const char *name,
                         bool confirm) {
    const char *file = cli->passphrase_file, *env = getenv("ESGWALLET_PASSPHRASE");
    if (!file && !env && !have_terminal()) {
        sodium_memzero(buf, buflen);
        return esgw_cli__fail(cli, ESG_ERR_INVALID_ARGUMENT,
                              "no passphrase for key '%s': there is no terminal to ask on; "
                              PASSPHRASE_HOW, name);
    }
    char prompt[ESGW_KEY_NAME_MAX + 48];
    snprintf(prompt, sizeof prompt, "%spassphrase for key '%s': ", confirm ? "new " : "", name);
    int rc = esgw_passphrase_get(buf, buflen, file, prompt, confirm);
    if (rc == 0)
        return 0;
    const char *why = esg_err_message(rc);
    char longer[48];
    snprintf(longer, sizeof longer, "it is longer than %d bytes", ESGW_PASSPHRASE_MAX);
    if (rc == ESG_ERR_TOO_LARGE)
        why = longer;
    else if (rc == ESG_ERR_INVALID_ARGUMENT)
        why = file || env ? "it is empty or holds a NUL byte"
              : confirm   ? "it is empty, or the two entries differ"
                          : "it is empty";
    if (file)
        return esgw_cli__fail(cli, rc, "cannot get the passphrase of key '%s' from '%s': %s",
                              name, file, rc == ESG_ERR_NOT_FOUND ? "no such file" : why);
    if (env)
        return esgw_cli__fail(cli, rc, "cannot use $ESGWALLET_PASSPHRASE for key '%s': %s",
                              name, why);
    return esgw_cli__fail(cli, rc, "cannot get the passphrase of key '%s' from the terminal: %s",
                          name, why);
}

int esgw_cli__unlock(esgw_cli *cli, const char *name, esg_seckey *sk, esg_pubkey *pk) {
    esgw_keystore *ks = NULL;
    int rc = esgw_cli__keystore(cli, &ks);
    if (rc)
        return rc;
    /* Check the key exists before asking for a passphrase. */
    if ((rc = esgw_key_pubkey(ks, name, pk)) != 0)
        return esgw_cli__ks_fail(cli, rc);
    char pass[ESGW_PASSPHRASE_MAX + 1];
    if ((rc = esgw_cli__passphrase(cli, pass, sizeof pass, name, false)) != 0)
        return rc;
    rc = esgw_key_unlock(ks, name, pass, sk, pk);
    sodium_memzero(pass, sizeof pass);
    return rc ? esgw_cli__ks_fail(cli, rc) : 0;
}

int esgw_cli__pubkey(esgw_cli *cli, esg_pubkey *out, const char *what, const char *hex) {
    if (strlen(hex) != 64 || esg_hex_decode(out->b, 32, hex) != 0)
        return esgw_cli__fail(cli, ESG_ERR_HEX, "%s '%s' is not 64 hex characters", what, hex);
    if (esg_pubkey_check(out) != 0)
        return esgw_cli__fail(cli, ESG_ERR_BAD_PUBKEY, "%s '%s' is not a valid x-only public key",
                              what, hex);
    return 0;
}

int esgw_cli__hash(esgw_cli *cli, esg_hash *out, const char *what, const char *hex) {
    if (strlen(hex) != 64 || esg_hex_decode(out->b, 32, hex) != 0)
        return esgw_cli__fail(cli, ESG_ERR_HEX, "%s '%s' is not 64 hex characters", what, hex);
    return 0;
}

int esgw_cli__u64(esgw_cli *cli, uint64_t *out, const char *what, const char *s) {
    if (!*s || strlen(s) > 20)
        goto bad;
    uint64_t x = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            goto bad;
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10)
            return esgw_cli__fail(cli, ESG_ERR_OVERFLOW, "%s '%s' exceeds 2^64-1", what, s);
        x = x * 10 + d;
    }
    *out = x;
    return 0;
bad:
    return esgw_cli__usage(cli, "%s '%s' is not a non-negative integer", what, s);
}

int esgw_cli__list(esgw_cli *cli, char ***items, size_t *n, const char *what, const char *s) {
    size_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ',';
    char **v = esgw_cli__alloc(cli, count * sizeof *v);
    char *copy = esgw_cli__strdup(cli, s);
    if (!v || !copy)
        return ESG_ERR_NOMEM;
    size_t k = 0;
    for (char *tok = copy;; ) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = '\0';
        if (!*tok)
            return esgw_cli__usage(cli, "%s '%s' has an empty item", what, s);
        v[k++] = tok;
        if (!comma)
            break;
        tok = comma + 1;
    }
    *items = v;
    *n = k;
    return 0;
}

int esgw_cli__read_file(esgw_cli *cli, uint8_t **buf, size_t *len, const char *path,
                        size_t max) {
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return esgw_cli__fail(cli, errno == ENOENT ? ESG_ERR_NOT_FOUND : ESG_ERR_IO,
                              "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return esgw_cli__fail(cli, ESG_ERR_IO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return esgw_cli__fail(cli, ESG_ERR_TOO_LARGE, "'%s' is larger than %zu bytes", path, max);
    }
    /* Read until EOF rather than trusting st_size: the file may change. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    uint8_t *b = malloc(cap);
    if (!b) {
        close(fd);
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    }
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                free(b);
                close(fd);
                return esgw_cli__fail(cli, ESG_ERR_TOO_LARGE, "'%s' is larger than %zu bytes",
                                      path, max);
            }
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                close(fd);
                return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
            }
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            close(fd);
            return esgw_cli__fail(cli, ESG_ERR_IO, "cannot read '%s': %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        free(b);
        return esgw_cli__fail(cli, ESG_ERR_TOO_LARGE, "'%s' is larger than %zu bytes", path, max);
    }
    *buf = b;
    *len = n;
    return 0;
}

int esgw_cli__write_new(esgw_cli *cli, const char *path, const uint8_t *buf, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return esgw_cli__fail(cli, ESG_ERR_INVALID_ARGUMENT,
                                  "'%s' already exists; not overwriting it", path);
        return esgw_cli__fail(cli, ESG_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
    }
    size_t off = 0;
    int e = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e) {
        unlink(path);
        return esgw_cli__fail(cli, ESG_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return 0;
}

int esgw_cli__print_json(esgw_cli *cli, const json_t *doc) {
    char *s = json_dumps(doc, JSON_INDENT(2));
    if (!s)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    fprintf(cli->out, "%s\n", s);
    free(s);
    return 0;
}

/* ------------------------------------------------------------- usage */

static void print_usage(FILE *f) {
    fputs("usage: esgwallet [--node URL] [--keystore DIR] [--json] [--passphrase-file F]\n"
          "                 COMMAND ...\n\ncommands:\n", f);
    for (size_t t = 0; t < N_TABLES; t++)
        for (const esgw_cmd *c = tables[t]; c->path; c++)
            fprintf(f, "  %s %s\n", c->path, c->synopsis);
    fputs("\nesgwallet COMMAND --help explains a command: its options, formats, units,\n"
          "defaults and the environment variables that apply.\n"
          "Action verbs take --key NAME and also -o FILE (write the signed transaction\n"
          "instead of submitting it), --no-wait, --nonce N and --chain-id ID.\n"
          "--period START:END is two dates YYYY-MM-DD, both inclusive; without it a\n"
          "report covers all of time. With --json the queries and reports print the\n"
          "node's document as it is.\n"
          "--node defaults to $ESGWALLET_NODE or " ESGW_DEFAULT_NODE "; the passphrase\n"
          "comes from --passphrase-file, $ESGWALLET_PASSPHRASE or a prompt.\n"
          "Errors: one line on stderr naming the error code; exit status 1 (2 for usage).\n",
          f);
}

/* The width the per-command help keeps to (integration.cli_help checks). */
#define HELP_COLS 88

/* The options every action verb shares (ESGW_CMD_SUBMIT), explained once. */
static const char submit_help[] =
    "\n"
    "Options of every action verb (a command that signs a transaction):\n"
    "  --key NAME       the keystore key that signs (required): its account is the\n"
    "                   transaction's signer, and must be allowed to take the action\n"
    "  -o FILE          write the signed transaction to FILE instead of submitting it\n"
    "                   (FILE must not exist: it is never overwritten); prints the tx\n"
    "                   id and, for a co-issued action, the members an officer of which\n"
    "                   must still sign it (esgwallet tx sign FILE); then esgwallet tx\n"
    "                   submit FILE\n"
    "  --nonce N        the signer account's nonce, 0..2^64-1; default: the next_nonce\n"
    "                   of GET /v1/accounts/PUBKEY (docs/API.md)\n"
    "  --chain-id ID    the chain the transaction is signed for, 1..255 characters;\n"
    "                   default: the chain_id of GET /v1/status. With -o, --nonce and\n"
    "                   --chain-id the node is not asked at all (offline signing)\n"
    "  --no-wait        return once the node has admitted the transaction (\"accepted\n"
    "                   (pending)\") instead of waiting for the block that commits it;\n"
    "                   the node waits up to its [api] wait_timeout_ms (30 s by\n"
    "                   default), then answers ERR_TIMEOUT: the transaction is still\n"
    "                   pending and may commit later\n"
    "The passphrase is asked only after every check that can fail without it. A\n"
    "record the transaction creates (a proposal, report, attestation, dispute or\n"
    "funding) is named by the tx id, printed as \"RECORD ID\" (with --json,\n"
    "\"RECORD_id\"). The transaction format: docs/WIRE.md.\n";

/* The global options and environment variables that apply to a command
 * using `uses` (ESGW_CMD_USES_*). */
static void print_globals(FILE *f, unsigned uses) {
    fputs("\nGlobal options (before or after the command's words):\n"
          "  --json                print one JSON document on stdout instead of lines for\n"
          "                        people (errors stay one line on stderr)\n"
          "  -h, --help            this help\n",
          f);
    if (uses & ESGW_CMD_USES_NODE)
        fputs("  --node URL            the node's HTTP API (docs/API.md), http:// or https://;\n"
              "                        default $ESGWALLET_NODE, else " ESGW_DEFAULT_NODE "\n",
              f);
    if (uses & (ESGW_CMD_USES_KEYSTORE | ESGW_CMD_USES_UNLOCK | ESGW_CMD_USES_NEWKEY))
        fputs("  --keystore DIR        the directory of the key files, NAME.json (mode 0600);\n"
              "                        default ~/.esgwallet/keys ($HOME), created with mode\n"
              "                        0700 when missing\n",
              f);
    if (uses & (ESGW_CMD_USES_UNLOCK | ESGW_CMD_USES_NEWKEY))
        fputs("  --passphrase-file F   the key's passphrase is the first line of F, without its\n"
              "                        line end; default $ESGWALLET_PASSPHRASE, else a prompt\n"
              "                        on the terminal (echo off). Without a terminal and\n"
              "                        without either, the command fails (ERR_INVALID_ARGUMENT)\n",
              f);
    if (uses & (ESGW_CMD_USES_NODE | ESGW_CMD_USES_UNLOCK | ESGW_CMD_USES_NEWKEY))
        fputs("Environment:\n", f);
    if (uses & ESGW_CMD_USES_NODE)
        fputs("  ESGWALLET_NODE        the node's URL when --node is not given\n", f);
    if (uses & (ESGW_CMD_USES_UNLOCK | ESGW_CMD_USES_NEWKEY))
        fputs("  ESGWALLET_PASSPHRASE  the passphrase when --passphrase-file is not given; an\n"
              "                        empty one is refused. Other processes of the same user\n"
              "                        can read it: prefer a file of mode 0600\n",
              f);
    if (uses & ESGW_CMD_USES_NEWKEY)
        fputs("  ESGWALLET_KDF         \"fast\": the new key file is encrypted under Argon2id's\n"
              "                        minimum cost (1 pass, 8 KiB), for tests only -- such a\n"
              "                        file is cheap to brute-force; unset or any other value:\n"
              "                        the interactive cost (2 passes, 64 MiB). Unlocking uses\n"
              "                        the cost stored in the file\n",
              f);
    fputs("Exit status: 0; 1 for an error, printed as one line \"esgwallet: ERR_CODE:\n"
          "message\" on stderr; 2 for a usage error (ERR_INVALID_ARGUMENT).\n",
          f);
}

/* The end of the synopsis word at p (< end): a bracketed or
 * parenthesized group is one word. */
static const char *usage_word(const char *p, const char *end) {
    int depth = 0;
    for (; p < end && (depth > 0 || *p != ' '); p++) {
        if (*p == '[' || *p == '(')
            depth++;
        else if ((*p == ']' || *p == ')') && depth > 0)
            depth--;
    }
    return p;
}

/* Prints "usage: esgwallet PATH SYNOPSIS", the synopsis without the
 * overview's description (after three spaces), wrapped at HELP_COLS
 * between words; a group and an option with its value ("--kpi K") are
 * not split. */
static void print_usage_line(FILE *f, const esgw_cmd *c) {
    size_t col = (size_t)fprintf(f, "usage: esgwallet %s", c->path);
    const char *p = c->synopsis, *end = strstr(p, "   ");
    if (!end)
        end = p + strlen(p);
    while (p < end) {
        if (*p == ' ') {
            p++;
            continue;
        }
        const char *q = usage_word(p, end);
        if (*p == '-' && q + 1 < end && !strchr("-[(", q[1]))
            q = usage_word(q + 1, end);
        size_t len = (size_t)(q - p);
        if (col + 1 + len > HELP_COLS) {
            fputs("\n      ", f);
            col = 6;
        }
        fprintf(f, " %.*s", (int)len, p);
        col += 1 + len;
        p = q;
    }
    fputc('\n', f);
}

static void print_cmd_usage(FILE *f, const esgw_cmd *c) {
    unsigned uses = c->kind;
    print_usage_line(f, c);
    if (c->kind & ESGW_CMD_SUBMIT) {
        fputs("       [-o FILE] [--no-wait] [--nonce N] [--chain-id ID]\n", f);
        uses |= ESGW_CMD_USES_NODE | ESGW_CMD_USES_KEYSTORE | ESGW_CMD_USES_UNLOCK;
    }
    if (c->help) {
        fputc('\n', f);
        fputs(c->help, f);
    }
    if (c->kind & ESGW_CMD_SUBMIT)
        fputs(submit_help, f);
    print_globals(f, uses);
}

/* Prints the words of `list` as options: "--name" ("-o" for o). */
static void print_opts(FILE *f, bool *first, const char *list) {
    for (const char *p = list; p && *p;) {
        while (*p == ' ')
            p++;
        size_t l = strcspn(p, " ");
        if (l)
            fprintf(f, "%s%s%.*s", *first ? "" : " ", l == 1 ? "-" : "--", (int)l, p);
        if (l)
            *first = false;
        p += l;
    }
}

/* esgwallet --list-commands (wallet/cli.h): the tables for programs. */
static void print_list(FILE *f) {
    bool first = true;
    fputc('\t', f);
    print_opts(f, &first, global_valued);
    fputc('\t', f);
    first = true;
    print_opts(f, &first, global_flags);
    print_opts(f, &first, "help version");
    fputs("\t\n", f);
    for (size_t t = 0; t < N_TABLES; t++)
        for (const esgw_cmd *c = tables[t]; c->path; c++) {
            bool submit = c->kind & ESGW_CMD_SUBMIT;
            first = true;
            fprintf(f, "%s\t", c->path);
            print_opts(f, &first, c->required);
            print_opts(f, &first, submit ? submit_required : NULL);
            print_opts(f, &first, c->optional);
            print_opts(f, &first, submit ? submit_optional : NULL);
            fputc('\t', f);
            first = true;
            print_opts(f, &first, c->flags);
            print_opts(f, &first, submit ? submit_flags : NULL);
            print_opts(f, &first, "help");
            fprintf(f, "\t%s\n", c->synopsis);
        }
}

/* ---------------------------------------------------------- dispatch */

/* Number of words of `path` that argv[0..argc) starts with, when it starts
 * with all of them; else 0. */
static size_t match_words(const char *path, int argc, char **argv) {
    size_t k = 0;
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, ' ');
        size_t wlen = e ? (size_t)(e - p) : strlen(p);
        if ((int)k >= argc || strlen(argv[k]) != wlen || memcmp(argv[k], p, wlen) != 0)
            return 0;
        k++;
        if (!e)
            break;
        p = e + 1;
    }
    return k;
}

/* The command named by the longest prefix of argv, with *used its words. */
static const esgw_cmd *find_cmd(int argc, char **argv, size_t *used) {
    const esgw_cmd *best = NULL;
    *used = 0;
    for (size_t t = 0; t < N_TABLES; t++)
        for (const esgw_cmd *c = tables[t]; c->path; c++) {
            size_t k = match_words(c->path, argc, argv);
            if (k > *used) {
                best = c;
                *used = k;
            }
        }
    return best;
}

/* Error for words that name no command: says what the longest known
 * prefix of them can be followed by ("'member' takes: propose vote ..."). */
static int unknown_cmd(esgw_cli *cli, int argc, char **argv) {
    int nw = 0;
    while (nw < argc && nw < 3 && argv[nw][0] != '-')
        nw++;
    char said[256] = "";
    for (int k = 0, len = 0; k < nw; k++)
        len += snprintf(said + len, sizeof said - (size_t)len, "%s%s", k ? " " : "", argv[k]);
    for (int depth = nw; depth >= 1; depth--) {
        char prefix[256] = "";
        size_t plen = 0;
        for (int k = 0; k < depth && plen < sizeof prefix; k++)
            plen += (size_t)snprintf(prefix + plen, sizeof prefix - plen, "%s ", argv[k]);
        if (plen >= sizeof prefix)
            continue;
        char takes[768] = "";
        size_t tlen = 0;
        for (size_t t = 0; t < N_TABLES; t++)
            for (const esgw_cmd *c = tables[t]; c->path; c++) {
                if (strncmp(c->path, prefix, plen) != 0)
                    continue;
                const char *w = c->path + plen;
                size_t wl = strcspn(w, " ");
                if (in_words(takes, w, wl) || tlen + wl + 2 >= sizeof takes)
                    continue;
                tlen += (size_t)snprintf(takes + tlen, sizeof takes - tlen, "%s%.*s",
                                         tlen ? " " : "", (int)wl, w);
            }
        if (tlen)
            return esgw_cli__usage(cli, "unknown command '%s'; '%.*s' takes: %s", said,
                                   (int)plen - 1, prefix, takes);
    }
    return esgw_cli__usage(cli, "unknown command '%s' (esgwallet --help lists the commands)",
                           said);
}

/* Handles a global option at argv[*i] (a "--name" or "--name=value"
 * word). Returns 1 if it was one, 0 if not, or an error code. */
static int global_opt(esgw_cli *cli, int argc, char **argv, int *i) {
    const char *w = argv[*i] + 2;
    const char *eq = strchr(w, '=');
    size_t nlen = eq ? (size_t)(eq - w) : strlen(w);
    if (in_words(global_flags, w, nlen)) {
        if (eq)
            return esgw_cli__usage(cli, "option '--%.*s' takes no value", (int)nlen, w);
        cli->json = true;
        return 1;
    }
    if (!in_words(global_valued, w, nlen))
        return 0;
    const char *v = eq ? eq + 1 : NULL;
    if (!v) {
        if (*i + 1 >= argc)
            return esgw_cli__usage(cli, "option '--%.*s' needs a value", (int)nlen, w);
        v = argv[++*i];
    }
    if (nlen == 4)
        cli->node_url = v;
    else if (nlen == 8)
        cli->keystore_dir = v;
    else
        cli->passphrase_file = v;
    return 1;
}

/* Parses the arguments after the command words into *a, checking them
 * against the row. Returns 0, 1 for --help, or an error code. */
static int parse_args(esgw_cli *cli, const esgw_cmd *c, int argc, char **argv, esgw_args *a) {
    bool submit = c->kind & ESGW_CMD_SUBMIT;
    bool only_pos = false;
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (!only_pos && strcmp(w, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (only_pos || w[0] != '-' || w[1] == '\0') {
            if (a->n_pos >= c->max_pos)
                return esgw_cli__usage(cli, "unexpected argument '%s' for '%s'", w, c->path);
            a->pos[a->n_pos++] = w;
            continue;
        }
        if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0)
            return 1;
        const char *name, *eq = NULL;
        size_t nlen;
        if (w[1] == '-') {
            int g = global_opt(cli, argc, argv, &i);
            if (g < 0)
                return g;
            if (g == 1)
                continue;
            name = w + 2;
            eq = strchr(name, '=');
            nlen = eq ? (size_t)(eq - name) : strlen(name);
        } else if (w[1] == 'o' && (w[2] == '\0')) {
            name = "o";
            nlen = 1;
        } else {
            return esgw_cli__usage(cli, "unknown option '%s' for '%s'", w, c->path);
        }
        bool valued = in_words(c->required, name, nlen) || in_words(c->optional, name, nlen) ||
                      (submit && (in_words(submit_required, name, nlen) ||
                                  in_words(submit_optional, name, nlen)));
        bool flag = in_words(c->flags, name, nlen) ||
                    (submit && in_words(submit_flags, name, nlen));
        if (!valued && !flag)
            return esgw_cli__usage(cli, "unknown option '%s' for '%s'", w, c->path);
        if (a->n_opt >= ESGW_MAX_OPTS)
            return esgw_cli__usage(cli, "too many options");
        for (size_t k = 0; k < a->n_opt; k++)
            if (strlen(a->opt[k].name) == nlen && memcmp(a->opt[k].name, name, nlen) == 0)
                return esgw_cli__usage(cli, "option '%s' given twice", w);
        const char *v = NULL;
        if (flag) {
            if (eq)
                return esgw_cli__usage(cli, "option '--%.*s' takes no value", (int)nlen, name);
        } else if (eq) {
            v = eq + 1;
        } else {
            if (i + 1 >= argc)
                return esgw_cli__usage(cli, "option '%s' needs a value", w);
            v = argv[++i];
        }
        /* Names point into argv; cut "--name=value" with a copy. */
        char *n = esgw_cli__alloc(cli, nlen + 1);
        if (!n)
            return ESG_ERR_NOMEM;
        memcpy(n, name, nlen);
        a->opt[a->n_opt].name = n;
        a->opt[a->n_opt].value = v;
        a->n_opt++;
    }
    if (a->n_pos < c->min_pos)
        return esgw_cli__usage(cli, "'%s' needs %s (usage: esgwallet %s %s)", c->path,
                               c->min_pos == 1 ? "an argument" : "more arguments", c->path,
                               c->synopsis);
    /* Required options, the row's and the submit path's. */
    const char *lists[2] = {c->required, submit ? submit_required : NULL};
    for (size_t l = 0; l < 2; l++) {
        const char *p = lists[l];
        while (p && *p) {
            while (*p == ' ')
                p++;
            size_t wl = strcspn(p, " ");
            if (wl) {
                char nm[64];
                snprintf(nm, sizeof nm, "%.*s", (int)wl, p);
                if (!esgw_cli__has(a, nm))
                    return esgw_cli__usage(cli, "'%s' needs --%s (usage: esgwallet %s %s)",
                                           c->path, nm, c->path, c->synopsis);
            }
            p += wl;
        }
    }
    return 0;
}

static void cli_release(esgw_cli *cli) {
    for (size_t i = 0; i < cli->n_allocs; i++)
        free(cli->allocs[i]);
    free(cli->allocs);
    cli->allocs = NULL;
    cli->n_allocs = cli->cap_allocs = 0;
    esgw_keystore_close(cli->ks);
    cli->ks = NULL;
    esgw_client_free(cli->client);
    cli->client = NULL;
}

static int run(esgw_cli *cli, int argc, char **argv) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_usage(cli->out);
            return 0;
        }
        if (strcmp(argv[i], "--list-commands") == 0) {
            print_list(cli->out);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            fprintf(cli->out, "esgwallet " ESG_VERSION "\n");
            return 0;
        }
        int g = argv[i][1] == '-' ? global_opt(cli, argc, argv, &i) : 0;
        if (g < 0)
            return g;
        if (g == 0)
            return esgw_cli__usage(cli, "unknown option '%s' (esgwallet --help lists them)",
                                   argv[i]);
    }
    if (i >= argc)
        return esgw_cli__usage(cli, "missing command (esgwallet --help lists the commands)");
    size_t used;
    const esgw_cmd *c = find_cmd(argc - i, argv + i, &used);
    if (!c)
        return unknown_cmd(cli, argc - i, argv + i);
    cli->cmd = c;
    esgw_args a;
    int rc = parse_args(cli, c, argc - i - (int)used, argv + i + used, &a);
    if (rc == 1) {
        print_cmd_usage(cli->out, c);
        return 0;
    }
    if (rc)
        return rc;
    if (!cli->node_url) {
        const char *env = getenv("ESGWALLET_NODE");
        cli->node_url = env && *env ? env : ESGW_DEFAULT_NODE;
    }
    if (c->kind & ESGW_CMD_SUBMIT) {
        assert(c->build);
        esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
        if ((rc = c->build(cli, &a, &body)) != 0)
            return rc;
        assert(body.action_case != ESG_ACTION_NONE);
        return esgw_cli__submit_body(cli, &a, &body);
    }
    assert(c->run);
    return c->run(cli, &a);
}

int esgw_cli_run(int argc, char **argv, FILE *out, FILE *err) {
    return esgw_cli_run_transport(argc, argv, out, err, NULL);
}

int esgw_cli_run_transport(int argc, char **argv, FILE *out, FILE *err,
                           const esgw_transport *transport) {
    assert(argc >= 1 && argv && out && err);
    esgw_cli cli = {.out = out, .errf = err, .transport = transport};
    int rc = run(&cli, argc, argv);
    cli_release(&cli);
    fflush(out);
    if (rc == 0)
        return 0;
    if (cli.err.name[0] == '\0')
        esgw_error_set(&cli.err, rc, NULL);
    print_error(err, &cli.err);
    fflush(err);
    return cli.usage ? 2 : 1;
}
