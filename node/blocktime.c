/* Block time: the timeliness rule and the clock-offset estimate (see
 * blocktime.h for the rule and its bound). */
#include "node/blocktime.h"

#include <assert.h>
#include <string.h>

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

bool esg_bt_timely(const esg_bt_rule *r, uint64_t time_ms, uint64_t recv_ms, uint32_t round) {
    assert(r);
    /* delay * round / 10 without overflow: round < 2^32, so split it. */
    uint64_t d = r->message_delay_ms;
    uint64_t grow = d / 10 * round;
    if (round != 0 && grow / round != d / 10)
        grow = UINT64_MAX;
    uint64_t delay = sat_add(d, grow);
    uint64_t lo = sat_sub(sat_sub(recv_ms, r->precision_ms), delay);
    uint64_t hi = sat_add(recv_ms, r->precision_ms);
    return time_ms >= lo && time_ms <= hi;
}

void esg_bt_offset_init(esg_bt_offset *o) {
    assert(o);
    memset(o, 0, sizeof *o);
}

static int64_t sample_of(uint64_t time_ms, uint64_t recv_ms) {
    /* Differences beyond +-2^62 ms are not clocks; clamp. */
    const uint64_t cap = (uint64_t)1 << 62;
    if (time_ms >= recv_ms) {
        uint64_t d = time_ms - recv_ms;
        return (int64_t)(d > cap ? cap : d);
    }
    uint64_t d = recv_ms - time_ms;
    return -(int64_t)(d > cap ? cap : d);
}

static int64_t median(const int64_t *v, size_t n) {
    int64_t t[ESG_BT_SAMPLES];
    assert(n >= 1 && n <= ESG_BT_SAMPLES);
    memcpy(t, v, n * sizeof *t);
    for (size_t i = 1; i < n; i++) /* insertion sort: n <= 15 */
        for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
            int64_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return n % 2 ? t[n / 2] : t[n / 2 - 1] / 2 + t[n / 2] / 2;
}

bool esg_bt_offset_add(esg_bt_offset *o, uint64_t time_ms, uint64_t recv_ms,
                       uint64_t precision_ms) {
    assert(o);
    o->s[o->next] = sample_of(time_ms, recv_ms);
    o->next = (o->next + 1) % ESG_BT_SAMPLES;
    if (o->n < ESG_BT_SAMPLES)
        o->n++;
    int64_t est = 0;
    if (o->n >= ESG_BT_MIN_SAMPLES) {
        int64_t m = median(o->s, o->n);
        uint64_t mag = m < 0 ? (uint64_t)(-m) : (uint64_t)m;
        if (mag > precision_ms)
            est = m;
    }
    bool changed = est != o->offset;
    o->offset = est;
    return changed;
}

int64_t esg_bt_offset_get(const esg_bt_offset *o) {
    assert(o);
    return o->offset;
}

uint64_t esg_bt_apply(uint64_t wall_ms, int64_t offset) {
    if (offset >= 0)
        return sat_add(wall_ms, (uint64_t)offset);
    return sat_sub(wall_ms, (uint64_t)(-(offset + 1)) + 1);
}
