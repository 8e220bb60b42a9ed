/* node/blocktime.c: the timeliness window of proposer-based time, its
 * growth with the round and its saturation at the ends of the clock; and
 * the clock-offset estimate: nothing until enough samples, nothing while
 * the clock agrees within the precision, the median (not the mean) when it
 * does not, so a minority of lying proposers cannot move it. */
#include <check.h>
#include <stdint.h>

#include "node/blocktime.h"

static const esg_bt_rule rule = {1000, 15000};

START_TEST(test_timely_window) {
    uint64_t recv = 1000000;
    /* Up to precision ahead of the arrival, and precision + delay behind. */
    ck_assert(esg_bt_timely(&rule, recv, recv, 0));
    ck_assert(esg_bt_timely(&rule, recv + 1000, recv, 0));
    ck_assert(!esg_bt_timely(&rule, recv + 1001, recv, 0));
    ck_assert(esg_bt_timely(&rule, recv - 16000, recv, 0));
    ck_assert(!esg_bt_timely(&rule, recv - 16001, recv, 0));
    /* A clock 8 s ahead makes untimely proposals; 60 s behind too. */
    ck_assert(!esg_bt_timely(&rule, recv + 8000, recv, 0));
    ck_assert(!esg_bt_timely(&rule, recv - 60000, recv, 0));
}
END_TEST

START_TEST(test_timely_grows_with_round) {
    uint64_t recv = 1000000;
    /* delay(r) = 15000 + 1500 r: round 10 allows 31 s behind. */
    ck_assert(!esg_bt_timely(&rule, recv - 17500, recv, 0));
    ck_assert(esg_bt_timely(&rule, recv - 17500, recv, 1));
    ck_assert(!esg_bt_timely(&rule, recv - 17501, recv, 1));
    ck_assert(esg_bt_timely(&rule, recv - 31000, recv, 10));
    ck_assert(!esg_bt_timely(&rule, recv - 31001, recv, 10));
    /* The upper bound does not move. */
    ck_assert(!esg_bt_timely(&rule, recv + 1001, recv, 1000));
}
END_TEST

START_TEST(test_timely_saturates) {
    /* Near 0 the lower bound clamps to 0; near UINT64_MAX the upper bound
     * clamps: no wrap-around makes a far time timely. */
    ck_assert(esg_bt_timely(&rule, 0, 10, 0));
    ck_assert(esg_bt_timely(&rule, UINT64_MAX, UINT64_MAX - 5, 0));
    ck_assert(!esg_bt_timely(&rule, 0, UINT64_MAX, 0));
    ck_assert(!esg_bt_timely(&rule, UINT64_MAX, 0, 0));
    /* round 2^32-1 allows 6,442,450,957,500 ms behind: clamps at 0 */
    ck_assert(esg_bt_timely(&rule, 0, UINT64_C(6442450000000), UINT32_MAX));
    ck_assert(!esg_bt_timely(&rule, 0, UINT64_MAX / 2, UINT32_MAX));
    esg_bt_rule huge = {UINT64_MAX, UINT64_MAX};
    ck_assert(esg_bt_timely(&huge, 0, UINT64_MAX, 7));
    ck_assert(esg_bt_timely(&huge, UINT64_MAX, 0, 7));
}
END_TEST

START_TEST(test_offset_needs_samples_and_a_real_error) {
    esg_bt_offset o;
    esg_bt_offset_init(&o);
    ck_assert_int_eq(esg_bt_offset_get(&o), 0);
    /* This node's clock is 60 s behind: proposals arrive "60 s early". */
    for (unsigned i = 1; i < ESG_BT_MIN_SAMPLES; i++) {
        ck_assert(!esg_bt_offset_add(&o, 1060000 + i, 1000000 + i, 1000));
        ck_assert_int_eq(esg_bt_offset_get(&o), 0);
    }
    ck_assert(esg_bt_offset_add(&o, 1060000, 1000000, 1000));
    ck_assert_int_eq(esg_bt_offset_get(&o), 60000);
    ck_assert_uint_eq(esg_bt_apply(1000000, esg_bt_offset_get(&o)), 1060000);

    /* A right clock: samples within the precision are not corrected. */
    esg_bt_offset r;
    esg_bt_offset_init(&r);
    for (unsigned i = 0; i < 2 * ESG_BT_SAMPLES; i++)
        ck_assert(!esg_bt_offset_add(&r, 5000 + (i % 2 ? 900 : 0), 5000 + (i % 3 ? 0 : 800),
                                     1000));
    ck_assert_int_eq(esg_bt_offset_get(&r), 0);
}
END_TEST

START_TEST(test_offset_is_a_median) {
    esg_bt_offset o;
    esg_bt_offset_init(&o);
    /* 10 honest samples say this clock is 30 s ahead; 5 lying proposers
     * (a third) claim wild times: the median ignores them. */
    for (unsigned i = 0; i < ESG_BT_SAMPLES; i++) {
        uint64_t recv = 2000000 + 100 * i;
        uint64_t t = i % 3 == 0 ? recv + 3600000 : recv - 30000 - i;
        esg_bt_offset_add(&o, t, recv, 1000);
    }
    int64_t est = esg_bt_offset_get(&o);
    ck_assert_int_le(est, -30000);
    ck_assert_int_ge(est, -30014);
    ck_assert_uint_eq(esg_bt_apply(100000, est), 100000 - (uint64_t)(-est));
    /* The clock is fixed: the old samples roll out of the ring and the
     * correction ends. */
    bool changed = false;
    for (unsigned i = 0; i < ESG_BT_SAMPLES; i++)
        changed |= esg_bt_offset_add(&o, 5000000, 5000000, 1000);
    ck_assert(changed);
    ck_assert_int_eq(esg_bt_offset_get(&o), 0);
}
END_TEST

START_TEST(test_apply_clamps) {
    ck_assert_uint_eq(esg_bt_apply(5, -10), 0);
    ck_assert_uint_eq(esg_bt_apply(UINT64_MAX - 1, 10), UINT64_MAX);
    ck_assert_uint_eq(esg_bt_apply(100, INT64_MIN), 0);
    ck_assert_uint_eq(esg_bt_apply(100, -100), 0);
    ck_assert_uint_eq(esg_bt_apply(100, -99), 1);
}
END_TEST

Suite *suite_blocktime(void) {
    Suite *s = suite_create("blocktime");
    TCase *tc = tcase_create("blocktime");
    tcase_add_test(tc, test_timely_window);
    tcase_add_test(tc, test_timely_grows_with_round);
    tcase_add_test(tc, test_timely_saturates);
    tcase_add_test(tc, test_offset_needs_samples_and_a_real_error);
    tcase_add_test(tc, test_offset_is_a_median);
    tcase_add_test(tc, test_apply_clamps);
    suite_add_tcase(s, tc);
    return s;
}
