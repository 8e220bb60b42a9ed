/* esgnode.conf through inih. Unknown keys are errors: a typo in a
 * configuration must not silently leave a default in place. */
#include <errno.h>
#include <stddef.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/keys.h"
#include "node/api.h"
#include "node/node.h"

typedef struct cfg_ctx {
    esg_node_config *cfg;
    char *err;
    size_t errlen;
    const char *path;
    FILE *f;
    int line;      /* lines read so far: inih counts them the same way */
    int fail_line; /* line of the first rejected setting, 0 if none */
    int read_errno; /* why reading failed, 0 if it did not */
} cfg_ctx;

/* inih's reader, counting lines so a rejected setting can name its line
 * (the handler is not told it). */
static char *read_line(char *buf, int size, void *arg) {
    cfg_ctx *c = arg;
    char *s = fgets(buf, size, c->f);
    if (s)
        c->line++;
    else if (ferror(c->f))
        c->read_errno = errno ? errno : EIO;
    return s;
}

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    if (!*s || *s == '-')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

int esg_node_parse_pubkey(const char *hex, esg_pubkey *out) {
    if (strlen(hex) != 64 || esg_hex_decode(out->b, 32, hex) != 0 || esg_pubkey_check(out) != 0)
        return ESG_ERR_INVALID_ARGUMENT;
    return ESG_OK;
}

static int on_entry(void *user, const char *section, const char *name, const char *value) {
    cfg_ctx *c = user;
    esg_node_config *cfg = c->cfg;
    uint64_t v = 0;
#define IS(sec, key) (strcmp(section, sec) == 0 && strcmp(name, key) == 0)
/* inih goes on after a rejected line: report the first one only. */
#define BAD(...) do { if (!c->fail_line) { \
        int n_ = snprintf(c->err, c->errlen, "%s:%d: ", c->path, c->line); \
        if (n_ >= 0 && (size_t)n_ < c->errlen) \
            snprintf(c->err + n_, c->errlen - (size_t)n_, __VA_ARGS__); \
        c->fail_line = c->line; } \
    return 0; } while (0)
    uint32_t *timeout = NULL;
    bool is_delta = false;
    if (strcmp(section, "consensus") == 0) {
        static const struct { const char *name; size_t off; bool delta; } keys[] = {
            {"timeout_propose_ms", offsetof(esg_cons_config, propose_ms), false},
            {"timeout_propose_delta_ms", offsetof(esg_cons_config, propose_delta_ms), true},
            {"timeout_prevote_ms", offsetof(esg_cons_config, prevote_ms), false},
            {"timeout_prevote_delta_ms", offsetof(esg_cons_config, prevote_delta_ms), true},
            {"timeout_precommit_ms", offsetof(esg_cons_config, precommit_ms), false},
            {"timeout_precommit_delta_ms", offsetof(esg_cons_config, precommit_delta_ms), true},
            {"timeout_commit_ms", offsetof(esg_cons_config, commit_ms), false},
        };
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(name, keys[i].name) == 0) {
                timeout = (uint32_t *)((char *)&cfg->cons + keys[i].off);
                is_delta = keys[i].delta;
            }
    }
    if (timeout) {
        /* A round timeout of 0 would spin rounds; an hour is past any use. */
        if (!parse_u64(value, &v) || v > 3600000 || (!is_delta && v == 0))
            BAD("%s must be %s..3600000 milliseconds", name, is_delta ? "0" : "1");
        *timeout = (uint32_t)v;
    } else if (IS("node", "log_level")) {
        if (esg_log_level_parse(value, &cfg->log_level))
            BAD("log_level must be error, warn, info or debug");
    } else if (IS("node", "heartbeat_ms")) {
        if (!parse_u64(value, &cfg->heartbeat_ms))
            BAD("heartbeat_ms must be a number of milliseconds");
    } else if (IS("node", "max_clock_drift_ms")) {
        if (!parse_u64(value, &cfg->max_clock_drift_ms))
            BAD("max_clock_drift_ms must be a number");
    } else if (IS("api", "listen")) {
        snprintf(cfg->api_addr, sizeof cfg->api_addr, "%s", value);
    } else if (IS("api", "threads")) {
        if (!parse_u64(value, &v) || v > 256)
            BAD("threads must be 0..256");
        cfg->api_threads = (unsigned)v;
    } else if (IS("api", "max_connections_per_address")) {
        if (!parse_u64(value, &v) || v < 1 || v > ESG_API_MAX_CONNECTIONS_PER_IP_LIMIT)
            BAD("max_connections_per_address must be 1..448");
        cfg->api_max_conns_per_addr = (unsigned)v;
    } else if (IS("api", "wait_timeout_ms")) {
        if (!parse_u64(value, &cfg->wait_timeout_ms))
            BAD("wait_timeout_ms must be a number");
    } else if (IS("api", "token")) {
        snprintf(cfg->api_token, sizeof cfg->api_token, "%s", value);
    } else if (IS("api", "explorer")) {
        if (strcmp(value, "true") == 0)
            cfg->api_explorer = true;
        else if (strcmp(value, "false") == 0)
            cfg->api_explorer = false;
        else
            BAD("explorer must be true or false");
    } else if (IS("p2p", "listen")) {
        snprintf(cfg->p2p_addr, sizeof cfg->p2p_addr, "%s", value);
    } else if (IS("p2p", "peer")) {
        if (cfg->n_peers == ESG_NODE_MAX_PEERS)
            BAD("at most %d peers", ESG_NODE_MAX_PEERS);
        if (!(cfg->peers[cfg->n_peers] = strdup(value)))
            BAD("peer: out of memory");
        cfg->n_peers++;
    } else if (IS("p2p", "observer")) {
        if (cfg->n_observers == ESG_NODE_MAX_OBSERVERS)
            BAD("at most %d observers", ESG_NODE_MAX_OBSERVERS);
        if (esg_node_parse_pubkey(value, &cfg->observers[cfg->n_observers]) != 0)
            BAD("observer must be a node's public key, 64 hex characters");
        cfg->n_observers++;
    } else if (IS("mempool", "max_txs")) {
        if (!parse_u64(value, &v) || v == 0)
            BAD("max_txs must be a positive number");
        cfg->mempool_max_txs = (size_t)v;
    } else if (IS("mempool", "max_bytes")) {
        if (!parse_u64(value, &v) || v < 1024)
            BAD("max_bytes must be at least 1024");
        cfg->mempool_max_bytes = (size_t)v;
    } else {
        BAD("unknown setting '%s' in section [%s]", name, section);
    }
    return 1;
#undef IS
#undef BAD
}

int esg_node_config_load(esg_node_config *cfg, const char *path, bool optional,
                         char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        if (optional && errno == ENOENT)
            return ESG_OK;
        snprintf(err, errlen, "cannot read config '%s': %s", path, strerror(errno));
        return ESG_ERR_IO;
    }
    cfg_ctx c = {cfg, err, errlen, path, f, 0, 0, 0};
    int line = ini_parse_stream(read_line, &c, on_entry, &c);
    fclose(f);
    /* fopen() opens a directory, and reading it fails: not an empty file. */
    if (c.read_errno) {
        snprintf(err, errlen, "cannot read config '%s': %s", path, strerror(c.read_errno));
        return ESG_ERR_IO;
    }
    /* inih returns the line of the first error: a rejected setting (its
     * message is in err) or a syntax error before it. */
    if (line > 0 && line == c.fail_line)
        return ESG_ERR_INVALID_ARGUMENT;
    if (line != 0) {
        snprintf(err, errlen, "%s:%d: syntax error", path, line);
        return ESG_ERR_INVALID_ARGUMENT;
    }
    return ESG_OK;
}
