/* Running a uv loop until a condition holds, bounded by a deadline: how the
 * suites that drive real sockets and timers wait, never with a fixed sleep.
 * Header-only; include after <check.h>.
 *
 *   static uv_loop_t loop;
 *   static tu_deadline deadline;      // tu_deadline_init(&deadline, &loop)
 *   #define RUN_UNTIL(cond) TU_RUN_UNTIL(&loop, &deadline, 20000, cond)
 */
#ifndef ESG_TESTS_UVWAIT_H
#define ESG_TESTS_UVWAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct tu_deadline {
    uv_timer_t timer; /* close it with the loop's other handles */
    bool expired;
} tu_deadline;

static inline void tu_deadline_fired(uv_timer_t *t) { ((tu_deadline *)t->data)->expired = true; }

static inline int tu_deadline_init(tu_deadline *d, uv_loop_t *loop) {
    d->expired = false;
    int rc = uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    return rc;
}

static inline void tu_deadline_start(tu_deadline *d, uint64_t ms) {
    d->expired = false;
    uv_timer_start(&d->timer, tu_deadline_fired, ms, 0);
}

static inline void tu_deadline_stop(tu_deadline *d) { uv_timer_stop(&d->timer); }

/* Runs `loop` until `cond` holds; fails the test after `ms`. */
#define TU_RUN_UNTIL(loop, d, ms, cond)                                    \
    do {                                                                   \
        tu_deadline_start((d), (ms));                                      \
        while (!(cond) && !(d)->expired)                                   \
            uv_run((loop), UV_RUN_ONCE);                                   \
        tu_deadline_stop(d);                                               \
        ck_assert_msg((cond), "timed out waiting for: %s", #cond);         \
    } while (0)

/* Runs `loop` for `ms` whatever happens: only for asserting an absence. */
static inline void tu_run_for(uv_loop_t *loop, tu_deadline *d, uint64_t ms) {
    tu_deadline_start(d, ms);
    while (!d->expired)
        uv_run(loop, UV_RUN_ONCE);
}

#endif
