/* Proceeds (contracts/proceeds.h) through the real executor on a real
 * store: AllocateProceeds's every rule (the date rules and the refinancing
 * flag among them) and ReverseAllocation's, each rejection asserted by its
 * code and by the state it did not change, the per-city cap worked out by
 * hand, and what a reversal changes in attribution. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bond_fixture.h"
#include "contracts/impact.h"
#include "contracts/instrument.h"
#include "contracts/proceeds.h"
#include "contracts/projects.h"
#include "ledger/error.h"

#define VER1 "ver-1"
#define GHG "ghg_avoided_tco2e"

static const uint8_t NOPE[32] = {1, 2, 3};

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

/* An allocation of 10 to PA-1 of `id` dated `date`, by city-a. */
static int allocate_on(fx *f, const char *id, const char *date) {
    return allocate_h(f, fx_admin(f, CA), id, "PA-1", 10, date, bf_h32, 32);
}

static int reverse_raw(fx *f, const fx_key *k, const void *id, size_t idlen,
                       const char *reason) {
    esg_pb_reverse_allocation ra = ESG_PB_REVERSE_ALLOCATION_INIT;
    ra.allocation_id = esg_pb_bin(id, idlen);
    ra.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVERSE_ALLOCATION;
    b.reverse_allocation = &ra;
    return fx_submit(f, &b, k);
}

/* GB-x of city-a alone (PA-1, PA-2), 10 units of 1001 sold to inv-1 and
 * the offering closed: 10010 to allocate. `edit` (may be NULL) changes the
 * spec first. */
static void active_one_city(fx *f, const char *id, const char *maturity,
                            void (*edit)(bf_abc *)) {
    static const uint64_t budgets[4] = {1500, 5000, 2000, 1000};
    bf_abc b;
    bf_abc_init(&b, id, true, 1001, 10, maturity, budgets);
    if (edit)
        edit(&b);
    OK(f, bf_abc_issue(f, &b));
    OK(f, subscribe(f, INV1, id, 10));
    OK(f, close_offering(f, id));
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
 * investors, a verifier (climate), a paying agent; from 2026-02-01 (the
 * block's date: allocations may not be dated later), GB-1 issued
 * 2026-01-15 with four projects (PA-1 budget 1500, PA-2 5000 of city-a;
 * PB-1 2000 of city-b; PC-1 1000 of city-c; each project's total cost is
 * its budget), face value 1001, 5 + 2 units subscribed and the offering
 * closed: amount raised 7 x 1001 = 7007. */
static fx *consortium(void) {
    fx *f = bf_abc_new();
    fx_add_member(f, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent X");
    fx_add_member(f, VER1, ESG_MEMBER_VERIFIER, "Verifier 1");
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, VER1, "climate"), 0);
    fx_start(f);
    bf_time_to(f, "2026-02-01");
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
    ck_assert(!a->refinancing); /* after the issue date 2026-01-15 */
    ck_assert(!a->reversed);
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

/* The refinancing flag of the allocation made by tx `id` of `ins`. */
static bool refinancing(fx *f, const char *ins, const esg_hash *id) {
    esg_pb_allocation *a = allocation(f, ins, id);
    ck_assert_ptr_nonnull(a);
    bool r = a->refinancing;
    esg_pb_free(a);
    return r;
}

START_TEST(test_allocation_dates) {
    fx *f = consortium();
    const fx_key *ka = fx_admin(f, CA);

    /* Not after the block's date (2026-02-01): the day itself is fine. */
    REJECTS(f, ka, ESG_ERR_DATE_IN_FUTURE, allocate_on(f, "GB-1", "2026-02-02"));
    bf_assert_msg_has(f, "allocation date 2026-02-02 is after the block's date 2026-02-01");
    REJECTS(f, ka, ESG_ERR_DATE_IN_FUTURE, allocate_on(f, "GB-1", "2099-12-31"));
    OK(f, allocate_on(f, "GB-1", "2026-02-01"));
    ck_assert(!refinancing(f, "GB-1", &f->last_id));

    /* From the issue date (2026-01-15) on, financing; before it,
     * refinancing: the flag is computed and stored. */
    OK(f, allocate_on(f, "GB-1", "2026-01-15"));
    ck_assert(!refinancing(f, "GB-1", &f->last_id));
    OK(f, allocate_on(f, "GB-1", "2026-01-14"));
    ck_assert(refinancing(f, "GB-1", &f->last_id));

    /* The default look-back: 36 months before the issue date, 2023-01-15
     * is the earliest day. */
    REJECTS(f, ka, ESG_ERR_DATE_BEFORE_LOOKBACK, allocate_on(f, "GB-1", "2023-01-14"));
    bf_assert_msg_has(f, "allocation date 2023-01-14 is before 2023-01-15, 36 months before "
                         "the issue date 2026-01-15");
    REJECTS(f, ka, ESG_ERR_DATE_BEFORE_LOOKBACK, allocate_on(f, "GB-1", "1970-01-01"));
    OK(f, allocate_on(f, "GB-1", "2023-01-15"));
    ck_assert(refinancing(f, "GB-1", &f->last_id));
    uint64_t ct, pt;
    allocated(f, "GB-1", CA, "PA-1", &ct, &pt);
    ck_assert_uint_eq(pt, 40); /* refinancing counts like financing */

    /* Not after maturity. GB-3 matures 2027-01-15; on 2027-03-01 a date
     * after maturity is no longer in the future, and has its own code. A
     * date that is both is named for the block's date, checked first. */
    active_one_city(f, "GB-3", "2027-01-15", NULL);
    bf_time_to(f, "2027-03-01");
    REJECTS(f, ka, ESG_ERR_DATE_AFTER_MATURITY, allocate_on(f, "GB-3", "2027-01-16"));
    bf_assert_msg_has(f, "allocation date 2027-01-16 is after maturity 2027-01-15");
    REJECTS(f, ka, ESG_ERR_DATE_AFTER_MATURITY, allocate_on(f, "GB-3", "2027-03-01"));
    REJECTS(f, ka, ESG_ERR_DATE_IN_FUTURE, allocate_on(f, "GB-3", "2027-03-02"));
    bf_assert_msg_has(f, "after the block's date 2027-03-01");
    OK(f, allocate_on(f, "GB-3", "2027-01-15"));
    ck_assert(!refinancing(f, "GB-3", &f->last_id));
    /* The date is checked before the evidence. */
    REJECTS(f, ka, ESG_ERR_DATE_AFTER_MATURITY,
            allocate_h(f, ka, "GB-3", "PA-1", 10, "2027-02-01", bf_h32, 0));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

static void lookback_12(bf_abc *b) { b->s.refinancing_lookback_months = 12; }
static void lookback_max(bf_abc *b) { b->s.refinancing_lookback_months = ESG_MAX_LOOKBACK_MONTHS; }
/* Issued on a month's last day, one month of look-back. */
static void lookback_month_end(bf_abc *b) {
    b->s.issue_date = "2025-03-31";
    b->s.maturity_date = "2027-03-31";
    b->s.refinancing_lookback_months = 1;
}

START_TEST(test_allocation_lookback_spec) {
    fx *f = consortium();
    const fx_key *ka = fx_admin(f, CA);
    /* 12 months before 2026-01-15: 2025-01-15. */
    active_one_city(f, "GB-12", "2028-01-15", lookback_12);
    REJECTS(f, ka, ESG_ERR_DATE_BEFORE_LOOKBACK, allocate_on(f, "GB-12", "2025-01-14"));
    bf_assert_msg_has(f, "is before 2025-01-15, 12 months before the issue date 2026-01-15");
    OK(f, allocate_on(f, "GB-12", "2025-01-15"));
    ck_assert(refinancing(f, "GB-12", &f->last_id));
    /* 120 months, the most a spec may say: 2016-01-15. */
    active_one_city(f, "GB-120", "2028-01-15", lookback_max);
    REJECTS(f, ka, ESG_ERR_DATE_BEFORE_LOOKBACK, allocate_on(f, "GB-120", "2016-01-14"));
    bf_assert_msg_has(f, "120 months");
    OK(f, allocate_on(f, "GB-120", "2016-01-15"));
    /* Month ends clamp: one month before 2025-03-31 is 2025-02-28. */
    active_one_city(f, "GB-EOM", "2027-03-31", lookback_month_end);
    REJECTS(f, ka, ESG_ERR_DATE_BEFORE_LOOKBACK, allocate_on(f, "GB-EOM", "2025-02-27"));
    bf_assert_msg_has(f, "is before 2025-02-28, 1 months before the issue date 2025-03-31");
    OK(f, allocate_on(f, "GB-EOM", "2025-02-28"));
    ck_assert(refinancing(f, "GB-EOM", &f->last_id));
    OK(f, allocate_on(f, "GB-EOM", "2025-03-31"));
    ck_assert(!refinancing(f, "GB-EOM", &f->last_id));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_reverse_allocation) {
    fx *f = consortium();
    const fx_key *ka = fx_admin(f, CA), *kb = fx_admin(f, CB);
    uint64_t ct, pt;
    /* city-a's part is 2337 (test_city_parts): all of it allocated. */
    OK(f, allocate(f, CA, "GB-1", "PA-1", 1000));
    esg_hash a1 = f->last_id;
    OK(f, allocate(f, CA, "GB-1", "PA-2", 1337));
    esg_hash a2 = f->last_id;
    REJECTS(f, ka, ESG_ERR_ALLOCATION_EXCEEDS, allocate(f, CA, "GB-1", "PA-2", 1));
    OK(f, allocate(f, CB, "GB-1", "PB-1", 500));
    esg_hash b1 = f->last_id;

    /* Who: an OFFICER of the allocation's city. */
    fx_key adm = fx_key_new();
    OK(f, bf_add_account(f, ka, &adm.pk, ESG_ROLE_ADMIN));
    REJECTS(f, &adm, ESG_ERR_UNAUTHORIZED, reverse_raw(f, &adm, a1.b, 32, "wrong project"));
    bf_assert_msg_has(f, "lacks role OFFICER");
    REJECTS(f, kb, ESG_ERR_NOT_PROJECT_CITY, reverse_raw(f, kb, a1.b, 32, "wrong project"));
    char want[160];
    snprintf(want, sizeof want, "allocation '%s' is of 'city-a', not 'city-b'",
             esg_hash_hex(&a1).s);
    bf_assert_msg_has(f, want);
    REJECTS(f, ka, ESG_ERR_NOT_PROJECT_CITY, reverse_raw(f, ka, b1.b, 32, "not ours"));
    REJECTS(f, fx_admin(f, INV1), ESG_ERR_NOT_PROJECT_CITY,
            reverse_raw(f, fx_admin(f, INV1), a1.b, 32, "wrong project"));

    /* Which: an allocation's id, 32 bytes. Another transaction's id is
     * none. */
    REJECTS(f, ka, ESG_ERR_UNKNOWN_ALLOCATION, reverse_raw(f, ka, NOPE, 32, "x"));
    snprintf(want, sizeof want, "no allocation '%s'", esg_hash_hex(&(esg_hash){{1, 2, 3}}).s);
    bf_assert_msg_has(f, want);
    REJECTS(f, ka, ESG_ERR_UNKNOWN_ALLOCATION, reverse_raw(f, ka, a1.b, 31, "x"));
    bf_assert_msg_has(f, "must be 32 bytes, got 31");
    REJECTS(f, ka, ESG_ERR_UNKNOWN_ALLOCATION, reverse_raw(f, ka, NULL, 0, "x"));
    esg_pb_instrument_record *ins = fx_get(f, ESG_T_INSTRUMENTS, "GB-1", 4,
                                           ESG_PB_INSTRUMENT_RECORD_DESC);
    REJECTS(f, ka, ESG_ERR_UNKNOWN_ALLOCATION, reverse_raw(f, ka, ins->issue_tx.data, 32, "x"));
    esg_pb_free(ins);

    /* Why: a reason of up to 500 characters without control characters. */
    char reason[502];
    memset(reason, 'r', 501);
    reason[501] = '\0';
    REJECTS(f, ka, ESG_ERR_MISSING_REASON, reverse_raw(f, ka, a1.b, 32, ""));
    bf_assert_msg_has(f, "needs a reason");
    REJECTS(f, ka, ESG_ERR_BAD_TEXT, reverse_raw(f, ka, a1.b, 32, reason));
    REJECTS(f, ka, ESG_ERR_BAD_TEXT, reverse_raw(f, ka, a1.b, 32, "two\nlines"));
    reason[500] = '\0';

    /* The reversal: the record stays, marked; the totals shrink. */
    bf_time_to(f, "2026-02-10");
    uint64_t h = fx_height(f) + 1;
    OK(f, reverse_raw(f, ka, a1.b, 32, reason));
    esg_hash rev = f->last_id;
    esg_pb_allocation *a = allocation(f, "GB-1", &a1);
    ck_assert_ptr_nonnull(a);
    ck_assert(a->reversed);
    ck_assert_str_eq(a->reverse_reason, reason);
    ck_assert_uint_eq(a->reversed_height, h);
    ck_assert_uint_eq(a->reversal_tx.len, 32);
    ck_assert_mem_eq(a->reversal_tx.data, rev.b, 32);
    ck_assert_str_eq(a->reversed_date, "2026-02-10");
    ck_assert_uint_eq(a->amount, 1000); /* the original stays visible */
    ck_assert_str_eq(a->date, "2026-02-01");
    ck_assert_str_eq(a->project_id, "PA-1");
    esg_pb_free(a);
    bf_view v = bf_view_open(f);
    ck_assert_int_eq(esg_proceeds_get(v.st, a1.b, &a), 0);
    ck_assert(a->reversed);
    esg_pb_free(a);
    ck_assert_int_eq(esg_proceeds_get(v.st, NOPE, &a), ESG_ERR_NOT_FOUND);
    ck_assert_ptr_null(a);
    bf_view_close(&v);
    allocated(f, "GB-1", CA, "PA-1", &ct, &pt);
    ck_assert_uint_eq(ct, 1337);
    ck_assert_uint_eq(pt, 0);
    allocated(f, "GB-1", CA, "PA-2", &ct, &pt);
    ck_assert_uint_eq(pt, 1337);
    allocated(f, "GB-1", CB, "PB-1", &ct, &pt);
    ck_assert_uint_eq(ct, 500); /* another city's are untouched */

    /* Once only. */
    REJECTS(f, ka, ESG_ERR_ALLOCATION_REVERSED, reverse_raw(f, ka, a1.b, 32, "again"));
    snprintf(want, sizeof want, "was reversed at height %llu", (unsigned long long)h);
    bf_assert_msg_has(f, want);

    /* The city may allocate again what the reversal freed, and no more. */
    REJECTS(f, ka, ESG_ERR_ALLOCATION_EXCEEDS, allocate(f, CA, "GB-1", "PA-2", 1001));
    bf_assert_msg_has(f, "1000 remains");
    OK(f, allocate(f, CA, "GB-1", "PA-2", 1000));
    esg_hash a3 = f->last_id;
    allocated(f, "GB-1", CA, "PA-2", &ct, &pt);
    ck_assert_uint_eq(ct, 2337);
    ck_assert_uint_eq(pt, 2337);
    /* Reversing the rest brings the totals to 0. */
    OK(f, reverse_raw(f, ka, a2.b, 32, "duplicate invoice"));
    OK(f, reverse_raw(f, ka, a3.b, 32, "booked twice"));
    allocated(f, "GB-1", CA, "PA-2", &ct, &pt);
    ck_assert_uint_eq(ct, 0);
    ck_assert_uint_eq(pt, 0);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* C(PA-1) for GHG: one report of 2025 by city-a, confirmed at `value`. */
static void confirmed_report(fx *f, int64_t value) {
    esg_pb_report_impact ri = ESG_PB_REPORT_IMPACT_INIT;
    ri.project_id = "PA-1";
    ri.kpi = GHG;
    ri.value = value;
    ri.period_start = "2025-01-01";
    ri.period_end = "2025-12-31";
    ri.evidence_sha256 = esg_pb_bin(bf_h32, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REPORT_IMPACT;
    b.report_impact = &ri;
    OK(f, fx_submit(f, &b, fx_admin(f, CA)));
    esg_hash id = f->last_id;
    esg_pb_attest_impact ai = ESG_PB_ATTEST_IMPACT_INIT;
    ai.report_id = esg_pb_bin(id.b, 32);
    ai.opinion = ESG_OPINION_CONFIRMED;
    ai.verified_value = value;
    ai.statement_sha256 = esg_pb_bin(bf_h32, 32);
    esg_pb_tx_body b2 = ESG_PB_TX_BODY_INIT;
    b2.action_case = ESG_ACTION_ATTEST_IMPACT;
    b2.attest_impact = &ai;
    OK(f, fx_submit(f, &b2, fx_admin(f, VER1)));
}

/* A(GB-1, PA-1) and D(PA-1) as attribution sees them. */
static void financing(fx *f, uint64_t *a, uint64_t *d) {
    bf_view v = bf_view_open(f);
    esg_pb_project_record *p;
    ck_assert_int_eq(esg_project_get(v.st, "PA-1", &p), 0);
    esg_project_financing fin;
    ck_assert_int_eq(esg_project_financing_get(v.st, p, INT32_MAX, &fin), 0);
    *a = esg_project_financing_of(&fin, "GB-1");
    *d = fin.basis;
    esg_project_financing_release(&fin);
    esg_pb_free(p);
    bf_view_close(&v);
}

START_TEST(test_reversed_allocation_attribution) {
    fx *f = consortium();
    uint64_t a, d;
    confirmed_report(f, 1000000); /* C = 1000.000 */
    /* PA-1 costs 1500 (its budget). 1000 + 500 allocated: D = 1500, the
     * instrument financed all of it and is attributed all of C. */
    OK(f, allocate(f, CA, "GB-1", "PA-1", 1000));
    esg_hash a1 = f->last_id;
    OK(f, allocate(f, CA, "GB-1", "PA-1", 500));
    esg_hash a2 = f->last_id;
    financing(f, &a, &d);
    ck_assert_uint_eq(a, 1500);
    ck_assert_uint_eq(d, 1500);
    ck_assert_int_eq(bf_instrument_attributed(f, "GB-1", GHG), 1000000);
    /* The 500 reversed: A = 1000, D = max(1500, 1000) = 1500,
     * floor(1000000 x 1000 / 1500) = floor(666666.67) = 666666. */
    OK(f, bf_reverse_allocation(f, CA, &a2, "invoice of PA-2"));
    financing(f, &a, &d);
    ck_assert_uint_eq(a, 1000);
    ck_assert_uint_eq(d, 1500);
    ck_assert_int_eq(bf_instrument_attributed(f, "GB-1", GHG), 666666);
    /* Both reversed: nothing financed, nothing attributed. */
    OK(f, bf_reverse_allocation(f, CA, &a1, "invoice of PA-2"));
    financing(f, &a, &d);
    ck_assert_uint_eq(a, 0);
    ck_assert_int_eq(bf_instrument_attributed(f, "GB-1", GHG), 0);
    /* Allocated again, it counts again: 1500 of 1500. */
    OK(f, allocate(f, CA, "GB-1", "PA-1", 1500));
    ck_assert_int_eq(bf_instrument_attributed(f, "GB-1", GHG), 1000000);
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
    tcase_add_test(tc, test_allocation_dates);
    tcase_add_test(tc, test_allocation_lookback_spec);
    tcase_add_test(tc, test_reverse_allocation);
    tcase_add_test(tc, test_reversed_allocation_attribution);
    suite_add_tcase(s, tc);
    return s;
}
