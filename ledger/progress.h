/* A progress line on a terminal for long work (replaying a chain in
 * `esgnode verify-chain` and `esgwallet audit`): blocks done of the total,
 * transactions, rate and the time left, redrawn in place on one line.
 *
 *   replaying: block 1234 of 5000 (24 %), 40512 txs, 812 blocks/s, about 5 s left
 *
 * It is for a person watching, so it is drawn only where one may be: on a
 * terminal (esg_progress_wanted), never into a file, a pipe or a log, and
 * never with --quiet. It writes nothing but that line, so whatever the
 * program prints on its other stream, and its own final summary once the
 * line is cleared (esg_progress_end), stays as it was.
 *
 * Times are passed in (seconds on any monotonic clock, esg_progress_now),
 * so that the arithmetic is testable without waiting. Not thread-safe: one
 * owner per line.
 */
#ifndef ESG_LEDGER_PROGRESS_H
#define ESG_LEDGER_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct esg_progress {
    FILE *out;      /* NULL: draws nothing */
    const char *label;
    uint64_t total; /* blocks expected; 0 when unknown */
    double t0;      /* when started */
    double drawn;   /* when last drawn; < 0 before the first */
    bool shown;     /* a line is on the terminal (esg_progress_end clears it) */
} esg_progress;

/* Whether a progress line should be drawn on `f`: it is a terminal whose
 * TERM is not "dumb", and the user did not ask for quiet. */
bool esg_progress_wanted(FILE *f, bool quiet);

/* Seconds on the monotonic clock. */
double esg_progress_now(void);

/* Starts a line labelled `label` (a static string) for `total` blocks at
 * time `now`, drawn on `out` (NULL, e.g. when !esg_progress_wanted: every
 * other call then does nothing). Draws nothing yet. */
void esg_progress_start(esg_progress *p, FILE *out, const char *label, uint64_t total,
                        double now);

/* Reports `done` blocks and `txs` transactions at time `now`. Redraws the
 * line at most four times a second, and always when done reaches total. */
void esg_progress_update(esg_progress *p, uint64_t done, uint64_t txs, double now);

/* Formats the line for (done, txs, now) into buf (always NUL-terminated,
 * cut to len). The rate is done / (now - start); the time left is
 * (total - done) / rate, left out while either is unknown. */
void esg_progress_format(const esg_progress *p, uint64_t done, uint64_t txs, double now,
                         char *buf, size_t len);

/* Clears the line, if one was drawn, leaving the cursor at the start of an
 * empty line for what the program prints next. */
void esg_progress_end(esg_progress *p);

#endif
