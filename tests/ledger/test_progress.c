/* The terminal progress line (ledger/progress.h): what it says at each
 * point of a replay, when it redraws, and that it stays silent when it
 * was not wanted. Times are passed in, so nothing here waits. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/progress.h"

static char *drain(FILE *f, char **buf) {
    fflush(f);
    return *buf;
}

START_TEST(format_counts_rate_and_time_left) {
    esg_progress p;
    esg_progress_start(&p, NULL, "replaying", 5000, 100.0);
    char line[256];
    esg_progress_format(&p, 0, 0, 100.0, line, sizeof line);
    /* Nothing done yet: no rate, no time left to guess from. */
    ck_assert_str_eq(line, "replaying: block 0 of 5000 (0 %), 0 txs");
    esg_progress_format(&p, 1000, 4000, 102.0, line, sizeof line);
    ck_assert_str_eq(line,
                     "replaying: block 1000 of 5000 (20 %), 4000 txs, 500 blocks/s, about 8 s left");
    esg_progress_format(&p, 1000, 4000, 110.0, line, sizeof line);
    ck_assert_str_eq(line, "replaying: block 1000 of 5000 (20 %), 4000 txs, 100 blocks/s, "
                           "about 40 s left");
    esg_progress_format(&p, 5000, 9000, 110.0, line, sizeof line);
    ck_assert_str_eq(line, "replaying: block 5000 of 5000 (100 %), 9000 txs, 500 blocks/s");
}
END_TEST

START_TEST(format_long_waits_in_minutes_and_hours) {
    esg_progress p;
    esg_progress_start(&p, NULL, "audit", 1000000, 0.0);
    char line[256];
    esg_progress_format(&p, 1000, 0, 10.0, line, sizeof line); /* 100 blocks/s */
    ck_assert_ptr_nonnull(strstr(line, "about 2 h 46 min left"));
    esg_progress_start(&p, NULL, "audit", 30000, 0.0);
    esg_progress_format(&p, 1000, 0, 10.0, line, sizeof line);
    ck_assert_ptr_nonnull(strstr(line, "about 4 min 50 s left"));
}
END_TEST

START_TEST(format_unknown_total_and_short_buffer) {
    esg_progress p;
    esg_progress_start(&p, NULL, "replaying", 0, 0.0);
    char line[256];
    esg_progress_format(&p, 10, 20, 2.0, line, sizeof line);
    ck_assert_str_eq(line, "replaying: block 10, 20 txs, 5 blocks/s");
    char tiny[12];
    esg_progress_format(&p, 10, 20, 2.0, tiny, sizeof tiny);
    ck_assert_str_eq(tiny, "replaying: ");
}
END_TEST

START_TEST(update_redraws_four_times_a_second_and_end_clears) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    esg_progress p;
    esg_progress_start(&p, f, "r", 100, 0.0);
    esg_progress_update(&p, 1, 1, 0.1);  /* first: drawn */
    esg_progress_update(&p, 2, 2, 0.2);  /* 0.1 s later: not */
    esg_progress_update(&p, 3, 3, 0.36); /* 0.26 s later: drawn */
    esg_progress_update(&p, 100, 9, 0.37); /* the end: always drawn */
    esg_progress_end(&p);
    ck_assert_str_eq(drain(f, &buf),
                     "\rr: block 1 of 100 (1 %), 1 txs, 10 blocks/s, about 10 s left\033[K"
                     "\rr: block 3 of 100 (3 %), 3 txs, 8 blocks/s, about 12 s left\033[K"
                     "\rr: block 100 of 100 (100 %), 9 txs, 270 blocks/s\033[K"
                     "\r\033[K");
    fclose(f);
    free(buf);
}
END_TEST

START_TEST(not_wanted_draws_nothing) {
    /* A file is no terminal, and --quiet wins over one. */
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ck_assert(!esg_progress_wanted(f, false));
    ck_assert(!esg_progress_wanted(f, true));
    ck_assert(!esg_progress_wanted(NULL, false));
    fclose(f);
    esg_progress p;
    esg_progress_start(&p, NULL, "r", 10, 0.0);
    esg_progress_update(&p, 10, 1, 1.0);
    esg_progress_end(&p);
    ck_assert(!p.shown);
}
END_TEST

Suite *suite_progress(void) {
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, format_counts_rate_and_time_left);
    tcase_add_test(tc, format_long_waits_in_minutes_and_hours);
    tcase_add_test(tc, format_unknown_total_and_short_buffer);
    tcase_add_test(tc, update_redraws_four_times_a_second_and_end_clears);
    tcase_add_test(tc, not_wanted_draws_nothing);
    suite_add_tcase(s, tc);
    return s;
}
