#include <check.h>
#include <stdint.h>

#include "ledger/decimal.h"
#include "ledger/error.h"

START_TEST(u64_parse_and_format) {
    uint64_t v;
    ck_assert_int_eq(esg_u64_parse("0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(esg_u64_parse("18446744073709551615", &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(esg_u64_parse("18446744073709551616", &v), ESG_ERR_OVERFLOW);
    const char *bad[] = {"", "01", "-1", "+1", " 1", "1 ", "1.0", "1e3", "abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(esg_u64_parse(bad[i], &v) == ESG_ERR_BAD_DECIMAL, "'%s' parsed", bad[i]);
    char buf[21];
    esg_u64_format(UINT64_MAX, buf);
    ck_assert_str_eq(buf, "18446744073709551615");
}
END_TEST

START_TEST(milli_parse_and_format) {
    struct { const char *in; int64_t want; const char *out; } ok[] = {
        {"0", 0, "0.000"}, {"1234.567", 1234567, "1234.567"}, {"1500", 1500000, "1500.000"},
        {"0.5", 500, "0.500"}, {"-2", -2000, "-2.000"}, {"-0.001", -1, "-0.001"},
        {"9223372036854775.807", INT64_MAX, "9223372036854775.807"},
        {"-9223372036854775.808", INT64_MIN, "-9223372036854775.808"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v;
        char buf[32];
        ck_assert_msg(esg_milli_parse(ok[i].in, &v) == 0, "'%s' rejected", ok[i].in);
        ck_assert_int_eq(v, ok[i].want);
        esg_milli_format(v, buf);
        ck_assert_str_eq(buf, ok[i].out);
    }
    int64_t v;
    const char *bad[] = {"", "-", ".5", "1.", "1.2345", "01", "-0", "1,5", "1e3", "+1", " 1", "1.a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(esg_milli_parse(bad[i], &v) == ESG_ERR_BAD_DECIMAL, "'%s' parsed", bad[i]);
    ck_assert_int_eq(esg_milli_parse("9223372036854775.808", &v), ESG_ERR_OVERFLOW);
    ck_assert_int_eq(esg_milli_parse("-9223372036854775.809", &v), ESG_ERR_OVERFLOW);
    ck_assert_int_eq(esg_milli_parse("99999999999999999999", &v), ESG_ERR_OVERFLOW);
}
END_TEST

Suite *suite_decimal(void) {
    Suite *s = suite_create("decimal");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, u64_parse_and_format);
    tcase_add_test(tc, milli_parse_and_format);
    suite_add_tcase(s, tc);
    return s;
}
