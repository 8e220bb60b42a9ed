/* The JSON readers' bookkeeping (wallet/jreader.h): the path an error
 * names, its limits (cut, never overflowed), the message format, the
 * arena, and the string reader both wallet readers share. The readers
 * themselves are tested through their messages in test_pbjson_in.c and
 * test_spec.c. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "wallet/jreader.h"

/* calloc'd blocks, freed by pool_free; refuses once `budget` blocks are
 * out, to reach the out-of-memory paths. */
typedef struct pool {
    void *blocks[16];
    size_t n, budget, last_size;
} pool;

static void *pool_alloc(void *ctx, size_t size) {
    pool *p = ctx;
    p->last_size = size;
    if (p->n == p->budget)
        return NULL;
    ck_assert_uint_lt(p->n, 16);
    void *m = calloc(1, size);
    ck_assert_ptr_nonnull(m);
    return p->blocks[p->n++] = m;
}

static void pool_free(pool *p) {
    for (size_t i = 0; i < p->n; i++)
        free(p->blocks[i]);
    p->n = 0;
}

START_TEST(paths_prefix_messages) {
    pool p = {.budget = 16};
    char err[128] = "stale";
    esgw_jreader r;
    esgw_jr_init(&r, pool_alloc, &p, err, sizeof err, ESGW_JR_PATH_MAX, ESGW_JR_MSG_MAX);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(esgw_jr_fail(&r, ESG_ERR_JSON, "top %d", 1), ESG_ERR_JSON);
    ck_assert_str_eq(err, "top 1");

    size_t a = esgw_jr_push_key(&r, "co_issuers");
    ck_assert_uint_eq(a, 0);
    size_t b = esgw_jr_push_index(&r, 1);
    size_t c = esgw_jr_push_key(&r, "share_bps");
    ck_assert_int_eq(esgw_jr_fail(&r, ESG_ERR_OVERFLOW, "%s", "too big"), ESG_ERR_OVERFLOW);
    ck_assert_str_eq(err, "co_issuers[1].share_bps: too big");
    esgw_jr_pop(&r, c);
    esgw_jr_push_key(&r, "member");
    esgw_jr_fail(&r, ESG_ERR_JSON, "x");
    ck_assert_str_eq(err, "co_issuers[1].member: x");
    esgw_jr_pop(&r, b);
    esgw_jr_push_index(&r, 0);
    esgw_jr_fail(&r, ESG_ERR_JSON, "y");
    ck_assert_str_eq(err, "co_issuers[0]: y");
    esgw_jr_pop(&r, a);
    ck_assert_uint_eq(r.plen, 0);
    ck_assert_int_eq(esgw_jr_nomem(&r), ESG_ERR_NOMEM);
    ck_assert_str_eq(err, "out of memory");

    /* No error buffer: only the code. */
    esgw_jr_init(&r, pool_alloc, &p, NULL, 0, ESGW_JR_PATH_MAX, ESGW_JR_MSG_MAX);
    esgw_jr_push_key(&r, "k");
    ck_assert_int_eq(esgw_jr_fail(&r, ESG_ERR_HEX, "z"), ESG_ERR_HEX);
    pool_free(&p);
}
END_TEST

START_TEST(limits_cut_never_overflow) {
    pool p = {.budget = 16};
    char err[64];
    esgw_jreader r;
    esgw_jr_init(&r, pool_alloc, &p, err, sizeof err, 8, 5);
    size_t a = esgw_jr_push_key(&r, "abcdefghij");
    ck_assert_uint_eq(r.plen, 7);
    ck_assert_str_eq(r.path, "abcdefg");
    /* A full path takes nothing more, and pops back exactly. */
    size_t b = esgw_jr_push_index(&r, 12345);
    ck_assert_uint_eq(b, 7);
    ck_assert_uint_eq(r.plen, 7);
    esgw_jr_fail(&r, ESG_ERR_JSON, "%s", "0123456789");
    ck_assert_str_eq(err, "abcdefg: 0123");
    esgw_jr_pop(&r, a);
    ck_assert_str_eq(r.path, "");
    /* The caller's buffer bounds the whole. */
    char small[6];
    esgw_jr_init(&r, pool_alloc, &p, small, sizeof small, ESGW_JR_PATH_MAX, ESGW_JR_MSG_MAX);
    esgw_jr_push_key(&r, "key");
    esgw_jr_fail(&r, ESG_ERR_JSON, "message");
    ck_assert_str_eq(small, "key: ");
    pool_free(&p);
}
END_TEST

START_TEST(strings_and_kinds) {
    pool p = {.budget = 1};
    char err[128];
    esgw_jreader r;
    esgw_jr_init(&r, pool_alloc, &p, err, sizeof err, ESGW_JR_PATH_MAX, ESGW_JR_MSG_MAX);
    esgw_jr_push_key(&r, "name");
    json_t *s = json_string("Rhodes"), *i = json_integer(5);
    json_t *nul = json_stringn("a\0b", 3);
    char *out = NULL;
    ck_assert_int_eq(esgw_jr_string(&r, s, &out), 0);
    ck_assert_str_eq(out, "Rhodes");
    ck_assert_uint_eq(p.last_size, 7);
    char *keep = out;
    ck_assert_int_eq(esgw_jr_string(&r, i, &out), ESG_ERR_JSON);
    ck_assert_str_eq(err, "name: expected a string, got an integer");
    ck_assert_int_eq(esgw_jr_string(&r, nul, &out), ESG_ERR_JSON);
    ck_assert_str_eq(err, "name: a string must not hold a NUL character");
    /* The budget is spent: out of memory, *out untouched. */
    ck_assert_int_eq(esgw_jr_string(&r, s, &out), ESG_ERR_NOMEM);
    ck_assert_str_eq(err, "name: out of memory");
    ck_assert_ptr_eq(out, keep);
    /* A zero-byte request asks the arena for one, so NULL means no memory. */
    ck_assert_ptr_null(esgw_jr_alloc(&r, 0));
    ck_assert_uint_eq(p.last_size, 1);

    json_t *kinds[] = {json_object(), json_array(), s, i, json_real(1.5), json_true(),
                       json_false(), json_null()};
    const char *names[] = {"an object", "an array", "a string", "an integer", "a real number",
                           "a boolean", "a boolean", "null"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        ck_assert_str_eq(esgw_jr_kind(kinds[k]), names[k]);
    json_decref(kinds[0]);
    json_decref(kinds[1]);
    json_decref(kinds[4]);
    json_decref(s);
    json_decref(i);
    json_decref(nul);
    pool_free(&p);
}
END_TEST

Suite *suite_jreader(void) {
    Suite *s = suite_create("jreader");
    TCase *tc = tcase_create("jreader");
    tcase_add_test(tc, paths_prefix_messages);
    tcase_add_test(tc, limits_cut_never_overflow);
    tcase_add_test(tc, strings_and_kinds);
    suite_add_tcase(s, tc);
    return s;
}
