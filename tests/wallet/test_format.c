/* The wallet's figures for people and spreadsheets (wallet/format.h):
 * money with a currency's decimals and thousands separators, percentages
 * of basis points, shares that add up to their whole by the largest
 * remainder method, and RFC 4180 CSV fields -- each at its edges (0,
 * UINT64_MAX, currencies of 0 and 3 decimals, equal thirds, a zero
 * total). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ident.h"
#include "wallet/format.h"

START_TEST(money_groups_and_places_the_point) {
    static const struct {
        uint64_t minor;
        unsigned decimals;
        char sep;
        const char *want;
    } cases[] = {
        {0, 2, ',', "0.00"},
        {0, 0, ',', "0"},
        {0, 3, ',', "0.000"},
        {5, 2, ',', "0.05"},
        {5, 3, ',', "0.005"},
        {99, 2, ',', "0.99"},
        {100, 2, ',', "1.00"},
        {99999, 2, ',', "999.99"},
        {100000, 2, ',', "1,000.00"},
        {190000000, 2, ',', "1,900,000.00"},
        {190000000, 2, '\0', "1900000.00"},
        {1234567, 0, ',', "1,234,567"},        /* JPY: no minor unit */
        {123, 0, ',', "123"},
        {1000, 0, ',', "1,000"},
        {1234567, 3, ',', "1,234.567"},        /* KWD: fils, 3 decimals */
        {1000000000, 3, ',', "1,000,000.000"},
        {UINT64_MAX, 2, ',', "184,467,440,737,095,516.15"},
        {UINT64_MAX, 0, ',', "18,446,744,073,709,551,615"},
        {UINT64_MAX, 3, '\0', "18446744073709551.615"},
        {UINT64_MAX, 19, ',', "1.8446744073709551615"},
        {1, 19, ',', "0.0000000000000000001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_str_eq(esgw_fmt_money(cases[i].minor, cases[i].decimals, cases[i].sep).s,
                         cases[i].want);
    /* The decimals are ISO 4217's, as the ledger knows them. */
    ck_assert_str_eq(esgw_fmt_money(190000000, (unsigned)esg_currency_decimals("EUR"), ',').s,
                     "1,900,000.00");
    ck_assert_str_eq(esgw_fmt_money(190000000, (unsigned)esg_currency_decimals("JPY"), ',').s,
                     "190,000,000");
    ck_assert_str_eq(esgw_fmt_money(190000000, (unsigned)esg_currency_decimals("KWD"), ',').s,
                     "190,000.000");
}
END_TEST

START_TEST(percentages_of_basis_points) {
    ck_assert_str_eq(esgw_fmt_bps(0, true).s, "0.00%");
    ck_assert_str_eq(esgw_fmt_bps(5, true).s, "0.05%");
    ck_assert_str_eq(esgw_fmt_bps(1234, true).s, "12.34%");
    ck_assert_str_eq(esgw_fmt_bps(10000, true).s, "100.00%");
    ck_assert_str_eq(esgw_fmt_bps(12500, false).s, "125.00");
    ck_assert_str_eq(esgw_fmt_bps(UINT64_MAX, true).s, "184467440737095516.15%");
    /* A lone ratio: half up, as the node rounds share_bps. */
    ck_assert_uint_eq(esgw_fmt_bps_of(1, 3), 3333);
    ck_assert_uint_eq(esgw_fmt_bps_of(2, 3), 6667);
    ck_assert_uint_eq(esgw_fmt_bps_of(1, 20000), 1);  /* 0.5 bp, up */
    ck_assert_uint_eq(esgw_fmt_bps_of(1, 20001), 0);  /* below half */
    ck_assert_uint_eq(esgw_fmt_bps_of(0, 7), 0);
    ck_assert_uint_eq(esgw_fmt_bps_of(7, 0), 0);      /* no whole: 0 */
    ck_assert_uint_eq(esgw_fmt_bps_of(UINT64_MAX, UINT64_MAX), 10000);
    ck_assert_uint_eq(esgw_fmt_bps_of(5, 4), 12500);
    ck_assert_uint_eq(esgw_fmt_bps_of(UINT64_MAX, 1), UINT64_MAX); /* capped */
}
END_TEST

static uint64_t sum_of(const uint64_t *v, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

START_TEST(shares_add_up_by_largest_remainder) {
    uint64_t out[8];
    /* Equal thirds: 3333.33 bp each; the one missing bp goes to the first
     * row (equal remainders: the earlier row): 33.34 + 33.33 + 33.33. */
    uint64_t thirds[3] = {1, 1, 1};
    ck_assert_int_eq(esgw_fmt_shares(out, thirds, 3, 10000), 0);
    ck_assert_uint_eq(out[0], 3334);
    ck_assert_uint_eq(out[1], 3333);
    ck_assert_uint_eq(out[2], 3333);
    ck_assert_str_eq(esgw_fmt_bps(sum_of(out, 3), true).s, "100.00%");
    /* Rounding each half up would show 3333 x 3 = 99.99 %; the method
     * gives the missing bp to the largest remainder, not the first row:
     * 1/6, 1/3, 1/2 of 10000 = 1666.67, 3333.33, 5000. */
    uint64_t sixths[3] = {1, 2, 3};
    ck_assert_int_eq(esgw_fmt_shares(out, sixths, 3, 10000), 0);
    ck_assert_uint_eq(out[0], 1667);
    ck_assert_uint_eq(out[1], 3333);
    ck_assert_uint_eq(out[2], 5000);
    /* A project's funders (11, 5, 9, 1 million and 4 unfinanced of 30):
     * 36.67 + 16.67 + 30.00 + 3.33 + 13.33 = 100.00. */
    uint64_t funders[5] = {1100000000, 500000000, 900000000, 100000000, 400000000};
    ck_assert_int_eq(esgw_fmt_shares(out, funders, 5, 10000), 0);
    uint64_t want[5] = {3667, 1667, 3000, 333, 1333};
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(out[i], want[i]);
    /* Splitting a parent row's share among its rows: 7368 bp allocated,
     * 11 : 3 -> 5789.14, 1578.86 -> 5789 + 1579. */
    uint64_t split[2] = {1100000000, 300000000};
    ck_assert_int_eq(esgw_fmt_shares(out, split, 2, 7368), 0);
    ck_assert_uint_eq(out[0], 5789);
    ck_assert_uint_eq(out[1], 1579);
    /* One row is the whole; a zero row gets 0 and nothing more. */
    uint64_t one[2] = {0, 42};
    ck_assert_int_eq(esgw_fmt_shares(out, one, 2, 10000), 0);
    ck_assert_uint_eq(out[0], 0);
    ck_assert_uint_eq(out[1], 10000);
    /* A zero total: every share 0 (nothing to divide), no division. */
    uint64_t zeros[3] = {0, 0, 0};
    out[0] = out[1] = out[2] = 99;
    ck_assert_int_eq(esgw_fmt_shares(out, zeros, 3, 10000), 0);
    ck_assert_uint_eq(sum_of(out, 3), 0);
    ck_assert_int_eq(esgw_fmt_shares(out, NULL, 0, 10000), 0);
    /* Parts whose sum exceeds 2^64: exact in 128 bits. */
    uint64_t big[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
    ck_assert_int_eq(esgw_fmt_shares(out, big, 3, 10000), 0);
    ck_assert_uint_eq(out[0], 3334);
    ck_assert_uint_eq(out[2], 3333);
    uint64_t lopsided[2] = {UINT64_MAX, 1};
    ck_assert_int_eq(esgw_fmt_shares(out, lopsided, 2, 10000), 0);
    ck_assert_uint_eq(out[0], 10000);
    ck_assert_uint_eq(out[1], 0);
    ck_assert_int_eq(esgw_fmt_shares(out, lopsided, 2, UINT64_MAX), 0);
    ck_assert_uint_eq(out[0], UINT64_MAX - 1);
    ck_assert_uint_eq(out[1], 1);
    /* Seven sevenths: 1428.57 each, floors 9996: the four missing bp go
     * to the first four rows. */
    uint64_t sevenths[7] = {5, 5, 5, 5, 5, 5, 5};
    ck_assert_int_eq(esgw_fmt_shares(out, sevenths, 7, 10000), 0);
    ck_assert_uint_eq(sum_of(out, 7), 10000);
    ck_assert_uint_eq(out[0], 1429);
    ck_assert_uint_eq(out[3], 1429);
    ck_assert_uint_eq(out[4], 1428);
    ck_assert_uint_eq(out[6], 1428);
}
END_TEST

/* Random parts: the shares always sum to the whole and each lies within
 * one unit of its exact value. */
START_TEST(shares_property_over_random_parts) {
    srand(20240901);
    for (int round = 0; round < 2000; round++) {
        size_t n = 1 + (size_t)(rand() % 8);
        uint64_t parts[8], out[8], whole = 1 + (uint64_t)(rand() % 20000);
        unsigned __int128 sum = 0;
        for (size_t i = 0; i < n; i++) {
            parts[i] = rand() % 4 == 0 ? 0
                                       : ((uint64_t)rand() << 33 ^ (uint64_t)rand()) >>
                                             (rand() % 60);
            sum += parts[i];
        }
        ck_assert_int_eq(esgw_fmt_shares(out, parts, n, whole), 0);
        if (sum == 0) {
            ck_assert_uint_eq(sum_of(out, n), 0);
            continue;
        }
        ck_assert_uint_eq(sum_of(out, n), whole);
        for (size_t i = 0; i < n; i++) {
            unsigned __int128 exact_floor = (unsigned __int128)parts[i] * whole / sum;
            ck_assert(out[i] == exact_floor || out[i] == exact_floor + 1);
        }
    }
}
END_TEST

/* What esgw_csv_field / esgw_csv_row write, as a string. */
static char *csv_of(const char *const *fields, size_t n) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    esgw_csv_row(f, fields, n);
    fclose(f);
    return buf;
}

START_TEST(csv_quotes_what_needs_it) {
    static const struct {
        const char *field, *want;
    } cases[] = {
        {"plain", "plain\r\n"},
        {"", "\r\n"},
        {NULL, "\r\n"},
        {"a,b", "\"a,b\"\r\n"},
        {"Tram line \"B\"", "\"Tram line \"\"B\"\"\"\r\n"},
        {"\"", "\"\"\"\"\r\n"},
        {"two\nlines", "\"two\nlines\"\r\n"},
        {"cr\r", "\"cr\r\"\r\n"},
        {" spaced ", " spaced \r\n"},  /* RFC 4180: spaces are data */
        {"1,900,000.00", "\"1,900,000.00\"\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = csv_of(&cases[i].field, 1);
        ck_assert_str_eq(got, cases[i].want);
        free(got);
    }
    const char *row[] = {"project", "School rooftop solar, phase 1", NULL, "57.89"};
    char *got = csv_of(row, 4);
    ck_assert_str_eq(got, "project,\"School rooftop solar, phase 1\",,57.89\r\n");
    free(got);
}
END_TEST

Suite *suite_format(void) {
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("format");
    tcase_add_test(tc, money_groups_and_places_the_point);
    tcase_add_test(tc, percentages_of_basis_points);
    tcase_add_test(tc, shares_add_up_by_largest_remainder);
    tcase_add_test(tc, shares_property_over_random_parts);
    tcase_add_test(tc, csv_quotes_what_needs_it);
    suite_add_tcase(s, tc);
    return s;
}
