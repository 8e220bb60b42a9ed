/* A token bucket for log lines and other events a remote party can make
 * us produce at will (the HTTP layer's warnings, a misbehaving peer's
 * messages): at most `burst` events at once, refilled at `burst` per
 * `interval_ms`, so a sustained flood passes `burst` events per interval
 * and no more. Events refused are counted, and the count is handed to the
 * caller with the next event that passes, so the log says how much it
 * left out ("suppressed 1234 messages") instead of going silent.
 *
 * Pure: no clock, no allocation, no I/O. The caller passes the time in
 * milliseconds of any clock that does not go backwards (the node uses
 * esg_mono_us() / 1000); a time earlier than the last one seen counts as
 * no time passing. All arithmetic is exact integers: the bucket holds
 * tokens in units of 1 / interval_ms of a token.
 *
 * Thread rules: not thread-safe; the owner locks. The struct is plain and
 * caller-allocated (esg_ratelimit_init; nothing to release).
 */
#ifndef ESG_NODE_RATELIMIT_H
#define ESG_NODE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* Largest burst and interval esg_ratelimit_init accepts: their product
 * stays far below 2^64. */
#define ESG_RATELIMIT_MAX_BURST 1000000u
#define ESG_RATELIMIT_MAX_INTERVAL_MS (UINT64_C(1) << 32)

typedef struct esg_ratelimit {
    uint64_t burst;       /* events allowed at once (bucket size) */
    uint64_t interval_ms; /* time to refill `burst` events */
    uint64_t level;       /* tokens held, in 1/interval_ms units */
    uint64_t last_ms;     /* time of the last refill */
    uint64_t suppressed;  /* refused since the last event that passed */
} esg_ratelimit;

/* Sets up a full bucket at time now_ms: `burst` events may pass at once.
 * Returns 0, or ESG_ERR_INVALID_ARGUMENT (rl untouched) when burst is 0 or
 * above ESG_RATELIMIT_MAX_BURST, or interval_ms is 0 or above
 * ESG_RATELIMIT_MAX_INTERVAL_MS. */
int esg_ratelimit_init(esg_ratelimit *rl, uint32_t burst, uint64_t interval_ms,
                       uint64_t now_ms);

/* One event at now_ms. Returns true when it may pass (it took a token);
 * then *suppressed (may be NULL) is the number of events refused since the
 * previous one that passed, and that count starts again from 0. Returns
 * false when the bucket is empty: the event is counted as suppressed and
 * *suppressed is left unchanged. */
bool esg_ratelimit_allow(esg_ratelimit *rl, uint64_t now_ms, uint64_t *suppressed);

/* For a caller that reports suppressed events on its own schedule (a
 * periodic timer), so that a flood followed by silence is still reported.
 * When events were refused since the last one that passed and a token is
 * available, takes the token (the report is an event too), sets
 * *suppressed (required) to their number, starts that count again from 0
 * and returns true. Otherwise returns false and changes nothing but the
 * refill: a refused flush is not itself counted as suppressed. */
bool esg_ratelimit_flush(esg_ratelimit *rl, uint64_t now_ms, uint64_t *suppressed);

/* Events refused since the last one that passed (not yet reported). */
uint64_t esg_ratelimit_pending(const esg_ratelimit *rl);

#endif
