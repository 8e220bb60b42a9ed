#include <check.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/hash.h"

/* SHA-256("abc") from FIPS 180-2. */
START_TEST(sha256_known_answer) {
    esg_hash h = esg_sha256("abc", 3);
    esg_hex32 x = esg_hash_hex(&h);
    ck_assert_str_eq(x.s, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

/* The tagged hash equals the BIP340 construction written out longhand. */
START_TEST(tagged_hash_matches_definition) {
    esg_hash t = esg_sha256("esg/tx", 6);
    uint8_t buf[64 + 5];
    memcpy(buf, t.b, 32);
    memcpy(buf + 32, t.b, 32);
    memcpy(buf + 64, "hello", 5);
    esg_hash want = esg_sha256(buf, sizeof buf);
    esg_hash got = esg_hash_tagged(ESG_TAG_TX, "hello", 5);
    ck_assert(esg_hash_eq(&want, &got));
    esg_hash got2 = esg_hash_tagged2(ESG_TAG_TX, "he", 2, "llo", 3);
    ck_assert(esg_hash_eq(&want, &got2));
    esg_hash other = esg_hash_tagged(ESG_TAG_BLOCK, "hello", 5);
    ck_assert(!esg_hash_eq(&want, &other));
}
END_TEST

START_TEST(hex_round_trip_and_errors) {
    uint8_t in[4] = {0x00, 0xab, 0xCD, 0xff}, out[4];
    char hex[9];
    esg_hex_encode(hex, in, 4);
    ck_assert_str_eq(hex, "00abcdff");
    ck_assert_int_eq(esg_hex_decode(out, 4, "00ABcdff"), ESG_OK);
    ck_assert_mem_eq(in, out, 4);
    ck_assert_int_eq(esg_hex_decode(out, 4, "00abcdf"), ESG_ERR_HEX);
    ck_assert_int_eq(esg_hex_decode(out, 4, "00abcdfg"), ESG_ERR_HEX);
    ck_assert_int_eq(esg_hex_decode(out, 4, NULL), ESG_ERR_HEX);
}
END_TEST

START_TEST(error_names_round_trip) {
    ck_assert_str_eq(esg_err_name(ESG_ERR_NONCE), "ERR_NONCE");
    ck_assert_int_eq(esg_err_from_name("ERR_NONCE"), ESG_ERR_NONCE);
    ck_assert_int_eq(esg_err_http_status(ESG_ERR_NOT_FOUND), 404);
    ck_assert_str_eq(esg_err_name(ESG_OK), "OK");
    ck_assert_str_eq(esg_err_name(12345), "ERR_INTERNAL");
    ck_assert(ESG_ERR_INTERNAL < 0 && ESG_ERR_UNKNOWN_KPI < 0);
}
END_TEST

Suite *suite_hash(void) {
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sha256_known_answer);
    tcase_add_test(tc, tagged_hash_matches_definition);
    tcase_add_test(tc, hex_round_trip_and_errors);
    tcase_add_test(tc, error_names_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
