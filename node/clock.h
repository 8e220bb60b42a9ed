/* The node's two clocks, in one place: wall time (block times, the mempool's
 * dropped-tx ring, the idle gate's heartbeat) and a monotonic clock
 * (durations for logs and metrics, deadlines). Contracts never see either:
 * they get the block time (docs/RELIABILITY.md, "Block time"). Thread-safe. */
#ifndef ESG_NODE_CLOCK_H
#define ESG_NODE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
static inline uint64_t esg_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Microseconds of CLOCK_MONOTONIC: only differences mean anything. */
static inline uint64_t esg_mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#endif
