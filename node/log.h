/* Leveled logging for esgnode: one line per event on stderr,
 *   2026-11-22T14:00:00.123Z info  committed block 12 (3 txs)
 * A logger is a value owned by whoever runs the node (no global state), and
 * is safe to use from several threads (each line is one write). Secrets are
 * never passed to it. */
#ifndef ESG_NODE_LOG_H
#define ESG_NODE_LOG_H

#include <stdio.h>

typedef enum esg_log_level {
    ESG_LOG_ERROR = 0,
    ESG_LOG_WARN = 1,
    ESG_LOG_INFO = 2,
    ESG_LOG_DEBUG = 3,
} esg_log_level;

typedef struct esg_logger {
    esg_log_level level;
    FILE *out; /* NULL means stderr */
} esg_logger;

/* Parses "error", "warn", "info" or "debug". Returns 0 or -1. */
int esg_log_level_parse(const char *s, esg_log_level *out);

void esg_log(const esg_logger *lg, esg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
