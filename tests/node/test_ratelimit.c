/* node/ratelimit.c: the token bucket. A burst passes and the next event
 * does not; tokens come back at the configured rate (fractions of a token
 * included); a long idle fills the bucket and no more; the suppressed count
 * is reported once, with the next event that passes; a clock that steps
 * back gives nothing; a sustained flood passes exactly `burst` events per
 * interval; a flush reports a flood that was followed by silence; bad
 * parameters are refused. */
#include <check.h>
#include <stdint.h>

#include "ledger/error.h"
#include "node/ratelimit.h"

START_TEST(test_bad_parameters) {
    esg_ratelimit rl = {0};
    ck_assert_int_eq(esg_ratelimit_init(&rl, 0, 1000, 0), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_ratelimit_init(&rl, 5, 0, 0), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_ratelimit_init(&rl, ESG_RATELIMIT_MAX_BURST + 1, 1000, 0),
                     ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_ratelimit_init(&rl, 5, ESG_RATELIMIT_MAX_INTERVAL_MS + 1, 0),
                     ESG_ERR_INVALID_ARGUMENT);
    ck_assert_uint_eq(rl.burst, 0); /* untouched */
    ck_assert_int_eq(esg_ratelimit_init(&rl, ESG_RATELIMIT_MAX_BURST,
                                        ESG_RATELIMIT_MAX_INTERVAL_MS, 0),
                     ESG_OK);
    ck_assert(esg_ratelimit_allow(&rl, 0, NULL));
}
END_TEST

START_TEST(test_burst_then_refused) {
    esg_ratelimit rl;
    ck_assert_int_eq(esg_ratelimit_init(&rl, 3, 1000, 5000), ESG_OK);
    uint64_t sup = 99;
    for (int i = 0; i < 3; i++) {
        ck_assert(esg_ratelimit_allow(&rl, 5000, &sup));
        ck_assert_uint_eq(sup, 0);
    }
    sup = 99;
    ck_assert(!esg_ratelimit_allow(&rl, 5000, &sup));
    ck_assert(!esg_ratelimit_allow(&rl, 5100, &sup));
    ck_assert_uint_eq(sup, 99); /* left alone when refused */
    ck_assert_uint_eq(esg_ratelimit_pending(&rl), 2);
}
END_TEST

START_TEST(test_refill_rate_and_fractions) {
    esg_ratelimit rl;
    /* 3 per 1000 ms: one token per 333.3 ms. */
    ck_assert_int_eq(esg_ratelimit_init(&rl, 3, 1000, 0), ESG_OK);
    for (int i = 0; i < 3; i++)
        ck_assert(esg_ratelimit_allow(&rl, 0, NULL));
    ck_assert(!esg_ratelimit_allow(&rl, 333, NULL)); /* 0.999 of a token */
    ck_assert(esg_ratelimit_allow(&rl, 334, NULL));  /* 1.002 */
    ck_assert(!esg_ratelimit_allow(&rl, 334, NULL));
    /* The 0.002 left over is kept: 334 + 333 ms later there is 1.001. */
    ck_assert(esg_ratelimit_allow(&rl, 667, NULL));
    /* Many small steps add up exactly like one big one. */
    for (uint64_t t = 668; t < 1000; t++)
        ck_assert(!esg_ratelimit_allow(&rl, t, NULL));
    ck_assert(esg_ratelimit_allow(&rl, 1000, NULL));
}
END_TEST

START_TEST(test_idle_fills_to_burst_only) {
    esg_ratelimit rl;
    ck_assert_int_eq(esg_ratelimit_init(&rl, 4, 1000, 0), ESG_OK);
    for (int i = 0; i < 4; i++)
        ck_assert(esg_ratelimit_allow(&rl, 0, NULL));
    /* A day idle (and a time near 2^64) gives a full bucket, not more. */
    uint64_t later[] = {86400000, UINT64_MAX - 1};
    for (size_t k = 0; k < 2; k++) {
        for (int i = 0; i < 4; i++)
            ck_assert(esg_ratelimit_allow(&rl, later[k], NULL));
        ck_assert(!esg_ratelimit_allow(&rl, later[k], NULL));
    }
}
END_TEST

START_TEST(test_suppressed_reported_once) {
    esg_ratelimit rl;
    ck_assert_int_eq(esg_ratelimit_init(&rl, 2, 1000, 0), ESG_OK);
    ck_assert(esg_ratelimit_allow(&rl, 0, NULL));
    ck_assert(esg_ratelimit_allow(&rl, 0, NULL));
    for (int i = 0; i < 1234; i++)
        ck_assert(!esg_ratelimit_allow(&rl, 10, NULL));
    ck_assert_uint_eq(esg_ratelimit_pending(&rl), 1234);
    uint64_t sup = 0;
    ck_assert(esg_ratelimit_allow(&rl, 500, &sup));
    ck_assert_uint_eq(sup, 1234);
    ck_assert_uint_eq(esg_ratelimit_pending(&rl), 0);
    ck_assert(esg_ratelimit_allow(&rl, 1000, &sup));
    ck_assert_uint_eq(sup, 0); /* reported once only */
}
END_TEST

START_TEST(test_flush) {
    esg_ratelimit rl;
    ck_assert_int_eq(esg_ratelimit_init(&rl, 1, 1000, 0), ESG_OK);
    uint64_t sup = 77;
    /* Nothing suppressed: nothing to flush, and the token stays. */
    ck_assert(!esg_ratelimit_flush(&rl, 0, &sup));
    ck_assert_uint_eq(sup, 77);
    ck_assert(esg_ratelimit_allow(&rl, 0, NULL));
    ck_assert(!esg_ratelimit_allow(&rl, 1, NULL));
    ck_assert(!esg_ratelimit_allow(&rl, 2, NULL));
    /* No token: the flush waits, and is not counted as suppressed. */
    ck_assert(!esg_ratelimit_flush(&rl, 500, &sup));
    ck_assert_uint_eq(esg_ratelimit_pending(&rl), 2);
    /* A token: the report takes it. */
    ck_assert(esg_ratelimit_flush(&rl, 1000, &sup));
    ck_assert_uint_eq(sup, 2);
    ck_assert_uint_eq(esg_ratelimit_pending(&rl), 0);
    ck_assert(!esg_ratelimit_allow(&rl, 1000, NULL));
    ck_assert(!esg_ratelimit_flush(&rl, 1000, &sup)); /* no token */
    ck_assert(esg_ratelimit_flush(&rl, 2000, &sup));
    ck_assert_uint_eq(sup, 1);
}
END_TEST

START_TEST(test_clock_backwards) {
    esg_ratelimit rl;
    ck_assert_int_eq(esg_ratelimit_init(&rl, 1, 1000, 10000), ESG_OK);
    ck_assert(esg_ratelimit_allow(&rl, 10000, NULL));
    /* Earlier times add nothing, and do not move the refill point back
     * (which would later count the same time twice). */
    ck_assert(!esg_ratelimit_allow(&rl, 5000, NULL));
    ck_assert(!esg_ratelimit_allow(&rl, 0, NULL));
    ck_assert(!esg_ratelimit_allow(&rl, 10999, NULL));
    ck_assert(esg_ratelimit_allow(&rl, 11000, NULL));
}
END_TEST

START_TEST(test_sustained_flood) {
    esg_ratelimit rl;
    /* 10 per second, a flood of one event per millisecond for 60 s: the
     * first burst plus 10 per second after it. */
    ck_assert_int_eq(esg_ratelimit_init(&rl, 10, 1000, 0), ESG_OK);
    uint64_t passed = 0, reported = 0, refused = 0;
    for (uint64_t t = 0; t < 60000; t++) {
        uint64_t sup = 0;
        if (esg_ratelimit_allow(&rl, t, &sup)) {
            passed++;
            reported += sup;
        } else {
            refused++;
        }
    }
    ck_assert_uint_eq(passed, 10 + 599); /* 10 at t=0, then one per 100 ms */
    ck_assert_uint_eq(passed + refused, 60000);
    ck_assert_uint_eq(reported + esg_ratelimit_pending(&rl), refused);
}
END_TEST

Suite *suite_ratelimit(void) {
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bad_parameters);
    tcase_add_test(tc, test_burst_then_refused);
    tcase_add_test(tc, test_refill_rate_and_fractions);
    tcase_add_test(tc, test_idle_fills_to_burst_only);
    tcase_add_test(tc, test_suppressed_reported_once);
    tcase_add_test(tc, test_flush);
    tcase_add_test(tc, test_clock_backwards);
    tcase_add_test(tc, test_sustained_flood);
    suite_add_tcase(s, tc);
    return s;
}
