/* libesgclockskew.so: an LD_PRELOAD shim that moves a process's wall clock,
 * for the fault-injection runner (testnet/e2e.py).
 *
 *   ESG_CLOCK_SKEW_MS=-60000 LD_PRELOAD=build/release/libesgclockskew.so esgnode run ...
 *
 * Adds ESG_CLOCK_SKEW_MS (a signed number of milliseconds, read once; unset
 * or malformed: 0) to what clock_gettime returns for CLOCK_REALTIME and
 * CLOCK_REALTIME_COARSE, to gettimeofday and to time(). Monotonic, boottime
 * and CPU clocks are untouched, so timers, timeouts and durations keep
 * running at their true pace: only the node's idea of "now" moves.
 * Thread-safe (the skew is set once, before main, by a constructor).
 * Not installed: a test tool.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);

static int64_t skew_ms;
static clock_gettime_fn real_clock_gettime;
static gettimeofday_fn real_gettimeofday;

__attribute__((constructor)) static void skew_init(void) {
    const char *s = getenv("ESG_CLOCK_SKEW_MS");
    if (s && *s) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (!*end && errno == 0)
            skew_ms = (int64_t)v;
    }
    real_clock_gettime = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    real_gettimeofday = (gettimeofday_fn)dlsym(RTLD_NEXT, "gettimeofday");
}

/* Adds the skew to a (seconds, nanoseconds) pair, keeping 0 <= ns < 1e9. */
static void shift(time_t *sec, long *nsec) {
    int64_t ns = (int64_t)*nsec + (skew_ms % 1000) * 1000000;
    int64_t s = (int64_t)*sec + skew_ms / 1000;
    if (ns < 0) {
        ns += 1000000000;
        s--;
    } else if (ns >= 1000000000) {
        ns -= 1000000000;
        s++;
    }
    *sec = (time_t)s;
    *nsec = (long)ns;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (!real_clock_gettime)
        skew_init();
    int rc = real_clock_gettime(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
        shift(&ts->tv_sec, &ts->tv_nsec);
    return rc;
}

/* The second argument is `void *` as in glibc's declaration
 * (struct timezone * is obsolete). */
int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    if (!real_gettimeofday)
        skew_init();
    int rc = real_gettimeofday(tv, tz);
    if (rc == 0) {
        long ns = (long)tv->tv_usec * 1000;
        shift(&tv->tv_sec, &ns);
        tv->tv_usec = (suseconds_t)(ns / 1000);
    }
    return rc;
}

time_t time(time_t *out) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (time_t)-1;
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
