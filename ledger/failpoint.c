/* Fail points (see failpoint.h). Without ESG_FAILPOINTS this file defines
 * nothing, so that no normal binary carries the code. */
#include "ledger/failpoint.h"

#ifdef ESG_FAILPOINTS

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t fp_once = PTHREAD_ONCE_INIT;
static char fp_name[64];
static unsigned long fp_at;  /* hit that crashes; 0: not armed */
static bool fp_bad;          /* ESG_FAILPOINT is malformed */
static atomic_ulong fp_hits;

static void fp_say(const char *msg) {
    ssize_t w = write(STDERR_FILENO, msg, strlen(msg));
    (void)w;
}

static void fp_load(void) {
    const char *v = getenv("ESG_FAILPOINT");
    if (!v || !*v)
        return;
    const char *colon = strchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    unsigned long at = 1;
    if (colon) {
        char *end;
        at = strtoul(colon + 1, &end, 10);
        if (colon[1] < '0' || colon[1] > '9' || *end || at == 0)
            fp_bad = true;
    }
    if (n == 0 || n >= sizeof fp_name)
        fp_bad = true;
    if (fp_bad)
        return;
    memcpy(fp_name, v, n);
    fp_name[n] = '\0';
    fp_at = at;
}

void esg_failpoint_hit(const char *name) {
    pthread_once(&fp_once, fp_load);
    if (fp_bad) {
        fp_say("failpoint: ESG_FAILPOINT must be NAME or NAME:N with N >= 1\n");
        _exit(2);
    }
    if (!fp_at || strcmp(name, fp_name) != 0)
        return;
    unsigned long hit = atomic_fetch_add(&fp_hits, 1) + 1;
    if (hit != fp_at)
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "failpoint '%s' hit %lu: exiting %d\n", name, hit,
             ESG_FAILPOINT_EXIT);
    fp_say(msg);
    _exit(ESG_FAILPOINT_EXIT);
}

#endif
