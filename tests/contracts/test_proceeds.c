/* Proceeds (contracts/proceeds.h) through the real executor on a real
 * store: AllocateProceeds's every rule, each rejection asserted by its code
 * and by the state it did not change, and the per-city cap worked out by
 * hand. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bond_fixture.h"
#include "contracts/instrument.h"
#include "contracts/proceeds.h"
#include "ledger/error.h"

/* ------------------------------------------------------- tx builders */

/* A joint green bond `id` of face value 1001, 10 units, project budgets PA-1
 * 1500, PA-2 5000, PB-1 2000, PC-1 1000 (see bf_issue_abc). */
static int issue(fx *f, const char *id, const char *maturity, bool one_city) {
    static const uint64_t budgets[4] = {1500, 5000, 2000, 1000};
    return bf_issue_abc(f, id, one_city, 1001, 10, maturity, budgets);
}

static int subscribe(fx *f, const char *who, const char *id, uint64_t units) {
    return bf_subscribe(f, fx_admin(f, who), id, units);
}

static int close_offering(fx *f, const char *id) {
    return bf_close_offering(f, fx_admin(f, CA), id);
}

static int allocate_h(fx *f, const fx_key *k, const char *id, const char *project,
                      uint64_t amount, const char *date, const void *hash, size_t hlen) {
    esg_pb_allocate_proceeds ap = ESG_PB_ALLOCATE_PROCEEDS_INIT;
    ap.instrument = (char *)id;
    ap.project_id = (char *)project;
    ap.amount = amount;
    ap.date = (char *)date;
    ap.evidence_sha256 = esg_pb_bin(hash, hlen);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
    b.allocate_proceeds = &ap;
    return fx_submit(f, &b, k);
}

static int allocate(fx *f, const char *city, const char *id, const char *project,
                    uint64_t amount) {
    return allocate_h(f, fx_admin(f, city), id, project, amount, "2026-02-01", bf_h32, 32);
}

/* ------------------------------------------------------------ readers */

/* esg_proceeds_allocated, asserted to succeed. */
static void allocated(fx *f, const char *id, const char *city, const char *project,
                      uint64_t *city_total, uint64_t *project_total) {
    bf_view v = bf_view_open(f);
    ck_assert_int_eq(esg_proceeds_allocated(v.st, id, city, project, city_total,
                                            project_total), 0);
    bf_view_close(&v);
}

static uint64_t city_part(fx *f, const char *id, const char *city) {
    bf_view v = bf_view_open(f);
    esg_pb_instrument_record *ins;
    ck_assert_int_eq(esg_instrument_get(v.st, id, &ins), 0);
    uint64_t part;
    int rc = esg_proceeds_city_part(ins, city, &part);
    esg_pb_free(ins);
    bf_view_close(&v);
    if (rc == ESG_ERR_NOT_FOUND) {
        ck_assert_uint_eq(part, 0);
        return UINT64_MAX;
    }
    ck_assert_int_eq(rc, 0);
    return part;
}

static esg_pb_allocation *allocation(fx *f, const char *id, const esg_hash *tx) {
    uint8_t key[64];
    size_t n = strlen(id);
    memcpy(key, id, n);
    key[n] = 0;
    memcpy(key + n + 1, tx->b, 32);
    return fx_get(f, ESG_T_ALLOCATIONS, key, n + 33, ESG_PB_ALLOCATION_DESC);
}

static int instrument_status(fx *f, const char *id) {
    esg_pb_instrument_record *r =
        fx_get(f, ESG_T_INSTRUMENTS, id, strlen(id), ESG_PB_INSTRUMENT_RECORD_DESC);
    ck_assert_ptr_nonnull(r);
    int s = r->status;
    esg_pb_free(r);
    return s;
}

/* ------------------------------------------------------------- setup */

/* Three cities (city-a leads with 3334 bps, b and c 3333 each), two
 * investors, a paying agent; GB-1 issued with four projects (PA-1 budget
 * 1500, PA-2 5000 of city-a; PB-1 2000 of city-b; PC-1 1000 of city-c),
 * face value 1001, 5 + 2 units subscribed and the offering closed:
 * amount raised 7 x 1001 = 7007. */
static fx *consortium(void) {
    fx *f = bf_abc_new();
    fx_add_member(f, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent X");
    fx_start(f);
    OK(f, issue(f, "GB-1", "2028-01-15", false));
    OK(f, subscribe(f, INV1, "GB-1", 5));
    OK(f, subscribe(f, INV2, "GB-1", 2));
    OK(f, close_offering(f, "GB-1"));
    return f;
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_city_parts) {
    fx *f = consortium();
    /* 7007 x 3334 / 10000 = 2336.1338 -> 2336; 7007 x 3333 / 10000 =
     * 2335.4331 -> 2335 (twice); 2336 + 2335 + 2335 = 7006, the remainder 1
     * goes to the lead: 2337. */
    ck_assert_uint_eq(city_part(f, "GB-1", CA), 2337);
    ck_assert_uint_eq(city_part(f, "GB-1", CB), 2335);
    ck_assert_uint_eq(city_part(f, "GB-1", CC), 2335);
    ck_assert_uint_eq(city_part(f, "GB-1", INV1), UINT64_MAX); /* not a co-issuer */
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_allocate) {
    fx *f = consortium();
    uint64_t ct, pt;

    /* A first allocation, stored as given. */
    uint64_t h = fx_height(f);
    OK(f, allocate(f, CA, "GB-1", "PA-1", 1000));
    esg_hash tx1 = f->last_id;
    ck_assert_uint_eq(fx_height(f), h + 1);
    esg_pb_allocation *a = allocation(f, "GB-1", &tx1);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->id.len, 32);
    ck_assert_mem_eq(a->id.data, tx1.b, 32);
    ck_assert_str_eq(a->instrument, "GB-1");
    ck_assert_str_eq(a->project_id, "PA-1");
    ck_assert_str_eq(a->city, CA);
    ck_assert_uint_eq(a->amount, 1000);
    ck_assert_str_eq(a->date, "2026-02-01");
    ck_assert_uint_eq(a->evidence_sha256.len, 32);
    ck_assert_mem_eq(a->evidence_sha256.data, bf_h32, 32);
    ck_assert_uint_eq(a->height, h + 1);
    esg_pb_free(a);

    /* Over the project's budget (1500) is allowed; the totals show it. */
    OK(f, allocate(f, CA, "GB-1", "PA-1", 1000));
    allocated(f, "GB-1", CA, "PA-1", &ct, &pt);
    ck_assert_uint_eq(ct, 2000);
    ck_assert_uint_eq(pt, 2000);

    /* city-a's part is 2337: 337 remain, across all its projects. */
    const fx_key *ka = fx_admin(f, CA);
    REJECTS(f, ka, ESG_ERR_ALLOCATION_EXCEEDS, allocate(f, CA, "GB-1", "PA-2", 338));
    bf_assert_msg_has(f, "337 remains");
    bf_assert_msg_has(f, "2337");
    OK(f, allocate(f, CA, "GB-1", "PA-2", 337));
    REJECTS(f, ka, ESG_ERR_ALLOCATION_EXCEEDS, allocate(f, CA, "GB-1", "PA-1", 1));
    bf_assert_msg_has(f, "0 remains");
    allocated(f, "GB-1", CA, "PA-2", &ct, &pt);
    ck_assert_uint_eq(ct, 2337);
    ck_assert_uint_eq(pt, 337);

    /* city-b: 2335, independent of city-a. */
    const fx_key *kb = fx_admin(f, CB);
    REJECTS(f, kb, ESG_ERR_ALLOCATION_EXCEEDS, allocate(f, CB, "GB-1", "PB-1", 2336));
    bf_assert_msg_has(f, "2335 remains");
    OK(f, allocate(f, CB, "GB-1", "PB-1", 2335));
    allocated(f, "GB-1", CB, "PB-1", &ct, &pt);
    ck_assert_uint_eq(ct, 2335);
    ck_assert_uint_eq(pt, 2335);

    /* city-c has allocated nothing; a project of another city or an unknown
     * instrument sums to 0. */
    allocated(f, "GB-1", CC, "PC-1", &ct, &pt);
    ck_assert_uint_eq(ct, 0);
    ck_assert_uint_eq(pt, 0);
    allocated(f, "GB-1", CC, "PA-1", &ct, &pt);
    ck_assert_uint_eq(ct, 0);
    ck_assert_uint_eq(pt, 2000);
    allocated(f, "GB-9", CA, NULL, &ct, NULL);
    ck_assert_uint_eq(ct, 0);

    /* Another instrument has its own cap: city-a alone, 100 %, 3 x 1001. */
    OK(f, issue(f, "GB-2", "2028-01-15", true));
    OK(f, subscribe(f, INV1, "GB-2", 3));
    OK(f, close_offering(f, "GB-2"));
    ck_assert_uint_eq(city_part(f, "GB-2", CA), 3003);
    OK(f, allocate(f, CA, "GB-2", "PA-1", 3003));
    allocated(f, "GB-2", CA, "PA-1", &ct, &pt);
    ck_assert_uint_eq(ct, 3003);
    allocated(f, "GB-1", CA, "PA-1", &ct, &pt);
    ck_assert_uint_eq(ct, 2337);
    ck_assert_uint_eq(pt, 2000);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_allocate_rejections) {
    fx *f = consortium();
    const fx_key *ka = fx_admin(f, CA), *kb = fx_admin(f, CB), *ki = fx_admin(f, INV1);

    /* Who: an OFFICER of the project's city. */
    fx_key adm = fx_key_new();
    {
        esg_pb_role roles[] = {ESG_ROLE_ADMIN};
        esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
        aa.pubkey = esg_pb_bin(adm.pk.b, 32);
        aa.roles = roles;
        aa.n_roles = 1;
        esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
        b.action_case = ESG_ACTION_ADD_ACCOUNT;
        b.add_account = &aa;
        OK(f, fx_submit(f, &b, ka));
    }
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED,
            allocate_h(f, &adm, "GB-1", "PA-1", 10, "2026-02-01", bf_h32, 32));
    bf_assert_msg_has(f, "lacks role OFFICER");
    REJECTS(f, kb, ESG_ERR_NOT_PROJECT_CITY,
            allocate_h(f, kb, "GB-1", "PA-1", 10, "2026-02-01", bf_h32, 32));
    bf_assert_msg_has(f, "belongs to 'city-a'");
    REJECTS(f, ki, ESG_ERR_NOT_PROJECT_CITY,
            allocate_h(f, ki, "GB-1", "PA-1", 10, "2026-02-01", bf_h32, 32));

    /* The instrument. */
    char long_id[301];
    memset(long_id, 'G', 300);
    long_id[300] = '\0';
    REJECTS(f, ka, ESG_ERR_UNKNOWN_INSTRUMENT,
            allocate_h(f, ka, "GB-9", "PA-1", 10, "2026-02-01", bf_h32, 32));
    bf_assert_msg_has(f, "GB-9");
    REJECTS(f, ka, ESG_ERR_UNKNOWN_INSTRUMENT,
            allocate_h(f, ka, "gb-1", "PA-1", 10, "2026-02-01", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_UNKNOWN_INSTRUMENT,
            allocate_h(f, ka, "", "PA-1", 10, "2026-02-01", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_UNKNOWN_INSTRUMENT,
            allocate_h(f, ka, long_id, "PA-1", 10, "2026-02-01", bf_h32, 32));
    OK(f, issue(f, "GB-2", "2028-01-15", true)); /* OFFERING: nothing raised yet */
    REJECTS(f, ka, ESG_ERR_BAD_STATUS,
            allocate_h(f, ka, "GB-2", "PA-1", 10, "2026-02-01", bf_h32, 32));
    bf_assert_msg_has(f, "not active or matured");

    /* The project. */
    REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT,
            allocate_h(f, ka, "GB-1", "PZ-1", 10, "2026-02-01", bf_h32, 32));
    bf_assert_msg_has(f, "PZ-1");
    REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT,
            allocate_h(f, ka, "GB-1", "", 10, "2026-02-01", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_UNKNOWN_PROJECT,
            allocate_h(f, ka, "GB-1", "pa-1", 10, "2026-02-01", bf_h32, 32));

    /* Amount, date, evidence. */
    REJECTS(f, ka, ESG_ERR_BAD_AMOUNT,
            allocate_h(f, ka, "GB-1", "PA-1", 0, "2026-02-01", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_BAD_DATE,
            allocate_h(f, ka, "GB-1", "PA-1", 10, "2026-02-30", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_BAD_DATE, allocate_h(f, ka, "GB-1", "PA-1", 10, "", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_BAD_DATE,
            allocate_h(f, ka, "GB-1", "PA-1", 10, "2026-2-1", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_BAD_DATE,
            allocate_h(f, ka, "GB-1", "PA-1", 10, "2026-02-01T00:00:00Z", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_BAD_HASH,
            allocate_h(f, ka, "GB-1", "PA-1", 10, "2026-02-01", bf_h32, 31));
    bf_assert_msg_has(f, "31");
    REJECTS(f, ka, ESG_ERR_BAD_HASH,
            allocate_h(f, ka, "GB-1", "PA-1", 10, "2026-02-01", bf_h32, 0));
    {
        uint8_t h33[33] = {0};
        REJECTS(f, ka, ESG_ERR_BAD_HASH,
                allocate_h(f, ka, "GB-1", "PA-1", 10, "2026-02-01", h33, 33));
    }

    /* The cap, on a fresh city: one over, and a huge amount (no wrap). */
    REJECTS(f, ka, ESG_ERR_ALLOCATION_EXCEEDS,
            allocate_h(f, ka, "GB-1", "PA-1", 2338, "2026-02-01", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_ALLOCATION_EXCEEDS,
            allocate_h(f, ka, "GB-1", "PA-1", UINT64_MAX, "2026-02-01", bf_h32, 32));
    OK(f, allocate_h(f, ka, "GB-1", "PA-1", 2337, "2026-02-01", bf_h32, 32));
    REJECTS(f, ka, ESG_ERR_ALLOCATION_EXCEEDS,
            allocate_h(f, ka, "GB-1", "PA-1", UINT64_MAX, "2026-02-01", bf_h32, 32));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_allocate_after_maturity) {
    fx *f = consortium();
    /* GB-3: one annual coupon, then redemption; city-a alone. */
    OK(f, issue(f, "GB-3", "2027-01-15", true));
    OK(f, subscribe(f, INV2, "GB-3", 4));
    OK(f, close_offering(f, "GB-3"));
    OK(f, allocate(f, CA, "GB-3", "PA-2", 1000));
    bf_time_to(f, "2027-01-15");
    OK(f, bf_record_payment(f, "GB-3", ESG_PAYMENT_COUPON, "2027-01-15"));
    OK(f, bf_record_payment(f, "GB-3", ESG_PAYMENT_REDEMPTION, "2027-01-15"));
    ck_assert_int_eq(instrument_status(f, "GB-3"), ESG_INSTRUMENT_STATUS_MATURED);
    /* MATURED still allows allocating the rest: 4 x 1001 = 4004. */
    const fx_key *ka = fx_admin(f, CA);
    REJECTS(f, ka, ESG_ERR_ALLOCATION_EXCEEDS, allocate(f, CA, "GB-3", "PA-2", 3005));
    bf_assert_msg_has(f, "3004 remains");
    OK(f, allocate(f, CA, "GB-3", "PA-1", 3004));
    uint64_t ct, pt;
    allocated(f, "GB-3", CA, "PA-2", &ct, &pt);
    ck_assert_uint_eq(ct, 4004);
    ck_assert_uint_eq(pt, 1000);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

Suite *suite_proceeds(void) {
    Suite *s = suite_create("proceeds");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_city_parts);
    tcase_add_test(tc, test_allocate);
    tcase_add_test(tc, test_allocate_rejections);
    tcase_add_test(tc, test_allocate_after_maturity);
    suite_add_tcase(s, tc);
    return s;
}
