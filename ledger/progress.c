/* The terminal progress line (ledger/progress.h). Drawn with "\r" and the
 * erase-to-end-of-line sequence, which every terminal emulator in use
 * understands; TERM=dumb (Emacs shells, some CI consoles) opts out. */
#include "ledger/progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_EVERY_S 0.25

bool esg_progress_wanted(FILE *f, bool quiet) {
    if (quiet || !f || !isatty(fileno(f)))
        return false;
    const char *term = getenv("TERM");
    return !term || strcmp(term, "dumb") != 0;
}

double esg_progress_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void esg_progress_start(esg_progress *p, FILE *out, const char *label, uint64_t total,
                        double now) {
    *p = (esg_progress){.out = out, .label = label, .total = total, .t0 = now, .drawn = -1};
}

/* "5 s", "3 min 20 s", "2 h 5 min": the time left, as a person reads it. */
static void format_duration(char *buf, size_t len, double s) {
    unsigned long long t = (unsigned long long)(s + 0.5);
    if (t < 60)
        snprintf(buf, len, "%llu s", t);
    else if (t < 3600)
        snprintf(buf, len, "%llu min %llu s", t / 60, t % 60);
    else
        snprintf(buf, len, "%llu h %llu min", t / 3600, t % 3600 / 60);
}

void esg_progress_format(const esg_progress *p, uint64_t done, uint64_t txs, double now,
                         char *buf, size_t len) {
    double elapsed = now - p->t0;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    int n;
    if (p->total > 0)
        n = snprintf(buf, len, "%s: block %llu of %llu (%llu %%), %llu txs", p->label,
                     (unsigned long long)done, (unsigned long long)p->total,
                     (unsigned long long)(done >= p->total ? 100 : done * 100 / p->total),
                     (unsigned long long)txs);
    else
        n = snprintf(buf, len, "%s: block %llu, %llu txs", p->label, (unsigned long long)done,
                     (unsigned long long)txs);
    if (n < 0 || (size_t)n >= len || done == 0 || rate <= 0)
        return;
    size_t at = (size_t)n;
    n = snprintf(buf + at, len - at, ", %.0f blocks/s", rate);
    if (n < 0 || (size_t)n >= len - at || p->total <= done)
        return;
    at += (size_t)n;
    char left[32];
    format_duration(left, sizeof left, (double)(p->total - done) / rate);
    snprintf(buf + at, len - at, ", about %s left", left);
}

void esg_progress_update(esg_progress *p, uint64_t done, uint64_t txs, double now) {
    if (!p->out)
        return;
    bool last = p->total > 0 && done >= p->total;
    if (!last && p->drawn >= 0 && now - p->drawn < REDRAW_EVERY_S)
        return;
    char line[256];
    esg_progress_format(p, done, txs, now, line, sizeof line);
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
    p->drawn = now;
    p->shown = true;
}

void esg_progress_end(esg_progress *p) {
    if (p->out && p->shown) {
        fputs("\r\033[K", p->out);
        fflush(p->out);
    }
    p->shown = false;
}
