/* Token bucket (node/ratelimit.h). */
#include "node/ratelimit.h"

#include <assert.h>

#include "ledger/error.h"

int esg_ratelimit_init(esg_ratelimit *rl, uint32_t burst, uint64_t interval_ms,
                       uint64_t now_ms) {
    assert(rl);
    if (burst == 0 || burst > ESG_RATELIMIT_MAX_BURST || interval_ms == 0 ||
        interval_ms > ESG_RATELIMIT_MAX_INTERVAL_MS)
        return ESG_ERR_INVALID_ARGUMENT;
    rl->burst = burst;
    rl->interval_ms = interval_ms;
    rl->level = (uint64_t)burst * interval_ms;
    rl->last_ms = now_ms;
    rl->suppressed = 0;
    return 0;
}

/* Adds the tokens of the time since last_ms. Each millisecond adds `burst`
 * units, one token being `interval_ms` units; an elapsed time of a whole
 * interval or more fills the bucket, which also keeps the product below
 * 2^64 however long the bucket sat idle. */
static void refill(esg_ratelimit *rl, uint64_t now_ms) {
    uint64_t cap = rl->burst * rl->interval_ms;
    if (now_ms <= rl->last_ms)
        return; /* no time passed, or the caller's clock stepped back */
    uint64_t dt = now_ms - rl->last_ms;
    rl->last_ms = now_ms;
    if (dt >= rl->interval_ms) {
        rl->level = cap;
        return;
    }
    uint64_t add = dt * rl->burst;
    rl->level = cap - rl->level <= add ? cap : rl->level + add;
}

bool esg_ratelimit_allow(esg_ratelimit *rl, uint64_t now_ms, uint64_t *suppressed) {
    assert(rl && rl->burst > 0);
    refill(rl, now_ms);
    if (rl->level < rl->interval_ms) {
        rl->suppressed++;
        return false;
    }
    rl->level -= rl->interval_ms;
    if (suppressed)
        *suppressed = rl->suppressed;
    rl->suppressed = 0;
    return true;
}

bool esg_ratelimit_flush(esg_ratelimit *rl, uint64_t now_ms, uint64_t *suppressed) {
    assert(rl && rl->burst > 0 && suppressed);
    refill(rl, now_ms);
    if (rl->suppressed == 0 || rl->level < rl->interval_ms)
        return false;
    rl->level -= rl->interval_ms;
    *suppressed = rl->suppressed;
    rl->suppressed = 0;
    return true;
}

uint64_t esg_ratelimit_pending(const esg_ratelimit *rl) {
    assert(rl);
    return rl->suppressed;
}
