/* Block time in a network of validators: proposer-based timestamps with a
 * precision bound, and each node's estimate of how far its own clock is
 * from the network's.
 *
 * The rule (docs/RELIABILITY.md states it for operators). The proposer of
 * a block sets its time from its clock: max(now, previous block time + 1).
 * A validator prevotes a fresh proposal (one that cites no earlier round)
 * only if it is timely, judged when it arrived:
 *
 *     recv - precision - delay(round)  <=  time  <=  recv + precision
 *     delay(round) = message_delay + message_delay * round / 10
 *
 * (the delay allowance grows with the round, so a slow link cannot stall
 * a height for ever). Precommits and decisions do not look at clocks: a
 * block prevoted by more than 2/3 of the power was timely for their
 * clocks. Bound: while the validators whose clocks are right hold more
 * than 2/3 of the power, every decided fresh proposal was timely for at
 * least one of them, so its time lies within [real - precision - delay,
 * real + precision] of when that validator received it; a proposer whose
 * clock is ahead by more than the precision has its proposals prevoted
 * nil (its rounds fail and the next proposer's block is taken), so one
 * fast clock cannot push block times ahead.
 *
 * The offset estimate lets a validator with a wrong clock keep voting
 * correctly: after each decided proposal of ANOTHER validator, the node
 * adds the sample (block time - local time it arrived). The estimate is
 * the median of the last ESG_BT_SAMPLES samples once ESG_BT_MIN_SAMPLES
 * are in, and is used only when it exceeds the precision (a right clock
 * measures about 0 and is trusted as it is). The node then judges
 * timeliness and sets its own proposals' time with its clock plus the
 * estimate. Proposers holding less than 1/3 of the power make fewer than
 * half of the samples, so they cannot move the median; and since nodes
 * with right clocks never correct, they anchor the network's time.
 *
 * Pure: no clock is read here; callers pass every time. Thread rules:
 * none (plain values).
 */
#ifndef ESG_NODE_BLOCKTIME_H
#define ESG_NODE_BLOCKTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESG_BT_SAMPLES 15u
#define ESG_BT_MIN_SAMPLES 5u
/* Default precision (the largest clock difference between correct
 * validators) and message delay. */
#define ESG_BT_DEFAULT_PRECISION_MS 1000u
#define ESG_BT_DEFAULT_MESSAGE_DELAY_MS 15000u

typedef struct esg_bt_rule {
    uint64_t precision_ms;
    uint64_t message_delay_ms;
} esg_bt_rule;

/* Whether a fresh proposal of `round` whose block time is `time_ms`,
 * received at local (corrected) time `recv_ms`, is timely under `r`.
 * Saturating arithmetic: no input overflows. */
bool esg_bt_timely(const esg_bt_rule *r, uint64_t time_ms, uint64_t recv_ms, uint32_t round);

typedef struct esg_bt_offset {
    int64_t s[ESG_BT_SAMPLES]; /* ring of samples */
    size_t n, next;
    int64_t offset; /* what esg_bt_offset_get returns */
} esg_bt_offset;

/* An estimator with no samples (offset 0). */
void esg_bt_offset_init(esg_bt_offset *o);

/* Adds `time_ms - recv_ms` of a decided proposal of another validator
 * (recv_ms: the local, uncorrected clock when it arrived) and updates the
 * estimate. Returns true when the estimate changed. */
bool esg_bt_offset_add(esg_bt_offset *o, uint64_t time_ms, uint64_t recv_ms,
                       uint64_t precision_ms);

/* The offset to add to the local clock: 0, or the median sample when its
 * magnitude exceeds the precision. */
int64_t esg_bt_offset_get(const esg_bt_offset *o);

/* wall_ms + offset, clamped to 0..UINT64_MAX. */
uint64_t esg_bt_apply(uint64_t wall_ms, int64_t offset);

#endif
