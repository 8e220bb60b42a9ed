/* Payment contracts through the real executor on a real store:
 * RecordPayment (coupons, step-ups, redemption) and the covenant rule of
 * contracts/payments.h. Every figure is asserted against arithmetic
 * written out here, not read back from the code under test; each
 * rejection by its code and by the state it did not change. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bond_fixture.h"
#include "contracts/instrument.h"
#include "contracts/payments.h"
#include "ledger/error.h"

/* ------------------------------------------------------------ readers */

#define MS_PER_DAY UINT64_C(86400000)

/* Makes the next block's time `date` 00:00:00 UTC (forward only). */
static void set_date(fx *f, const char *date) {
    uint64_t ms = (uint64_t)bf_day(date) * MS_PER_DAY;
    ck_assert_uint_gt(ms - 1000, f->time_ms);
    f->time_ms = ms - 1000;
}

static int pay(fx *f, const fx_key *k, const char *instrument, int kind, const char *due) {
    esg_pb_record_payment p = ESG_PB_RECORD_PAYMENT_INIT;
    p.instrument = (char *)instrument;
    p.kind = kind;
    p.due_date = (char *)due;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_RECORD_PAYMENT;
    b.record_payment = &p;
    return fx_submit(f, &b, k);
}

static int coupon(fx *f, const char *instrument, const char *due) {
    return pay(f, fx_admin(f, AGENT), instrument, ESG_PAYMENT_COUPON, due);
}

static int redeem(fx *f, const char *instrument, const char *due) {
    return pay(f, fx_admin(f, AGENT), instrument, ESG_PAYMENT_REDEMPTION, due);
}

static const uint8_t HASH32[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* A report by the project's city admin; returns its id. */
static esg_hash report(fx *f, const char *city, const char *instrument, const char *project,
                       const char *kpi, int64_t value, const char *start, const char *end) {
    esg_pb_report_impact r = ESG_PB_REPORT_IMPACT_INIT;
    r.instrument = (char *)instrument;
    r.project_id = (char *)project;
    r.kpi = (char *)kpi;
    r.value = value;
    r.period_start = (char *)start;
    r.period_end = (char *)end;
    r.methodology = "metered";
    r.evidence_sha256 = esg_pb_bin(HASH32, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REPORT_IMPACT;
    b.report_impact = &r;
    OK(f, fx_submit(f, &b, fx_admin(f, city)));
    return f->last_id;
}

static void attest(fx *f, const esg_hash *report_id, int opinion, int64_t verified) {
    esg_pb_attest_impact a = ESG_PB_ATTEST_IMPACT_INIT;
    a.report_id = esg_pb_bin(report_id->b, 32);
    a.opinion = opinion;
    a.verified_value = verified;
    a.statement_sha256 = esg_pb_bin(HASH32, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ATTEST_IMPACT;
    b.attest_impact = &a;
    OK(f, fx_submit(f, &b, fx_admin(f, VER)));
}

/* The payment record `kind`/`seq` of `ins` (NULL when absent). */
static esg_pb_payment *payment(fx *f, const char *ins, int kind, uint32_t seq) {
    uint8_t key[64];
    size_t il = strlen(ins);
    memcpy(key, ins, il);
    key[il] = 0;
    key[il + 1] = (uint8_t)kind;
    key[il + 2] = (uint8_t)(seq >> 24);
    key[il + 3] = (uint8_t)(seq >> 16);
    key[il + 4] = (uint8_t)(seq >> 8);
    key[il + 5] = (uint8_t)seq;
    return fx_get(f, ESG_T_PAYMENTS, key, il + 6, ESG_PB_PAYMENT_DESC);
}

static void assert_line(const esg_pb_payment_line *l, const char *member, uint64_t units,
                        uint32_t share, uint64_t amount) {
    ck_assert_str_eq(l->member, member);
    ck_assert_uint_eq(l->units, units);
    ck_assert_uint_eq(l->share_bps, share);
    ck_assert_uint_eq(l->amount, amount);
}

static void assert_snapshot(fx *f, const char *ins, const char *member, uint64_t units,
                            uint64_t at_last_coupon) {
    esg_pb_holding *h = bf_holding(f, ins, member);
    ck_assert_msg(h != NULL, "no holding of '%s'", member);
    ck_assert_uint_eq(h->units, units);
    ck_assert_uint_eq(h->units_at_last_coupon, at_last_coupon);
    esg_pb_free(h);
}

/* The step-ups in force for a coupon due on `due`, from the committed
 * state. */
static uint32_t step_ups(fx *f, const char *ins, const char *due) {
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(f->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, f->store, txn, false), 0);
    esg_pb_instrument_record *r;
    ck_assert_int_eq(esg_instrument_get(st, ins, &r), 0);
    uint32_t bps = UINT32_MAX;
    ck_assert_int_eq(esg_covenant_step_ups(st, r, bf_day(due), &bps), 0);
    esg_pb_free(r);
    esg_state_free(st);
    esg_store_read_end(txn);
    return bps;
}

/* The joint bond of these tests: face 999.99 (99999 minor units), 125 bps a
 * year, paid yearly from 2024-03-01 to 2027-03-01; Fund A takes 3000
 * units, Fund B 1999 (4999 of 5000 sold). */
static void joint_bond(fx *f, const char *id, spec_b *b) {
    sb_init(b, id);
    b->s.face_value = 99999;
    OK(f, bf_issue3(f, &b->s));
    OK(f, bf_subscribe(f, fx_admin(f, INV_A), id, 3000));
    OK(f, bf_subscribe(f, fx_admin(f, INV_B), id, 1999));
    OK(f, bf_close_offering(f, fx_admin(f, HER), id));
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_coupon_joint) {
    fx *f = bf_consortium();
    const fx_key *agent = fx_admin(f, AGENT);
    spec_b b;
    sb_init(&b, "JGB-C");
    b.s.face_value = 99999;
    OK(f, bf_issue3(f, &b.s));
    OK(f, bf_subscribe(f, fx_admin(f, INV_A), "JGB-C", 3000));
    OK(f, bf_subscribe(f, fx_admin(f, INV_B), "JGB-C", 1999));
    /* Nothing is paid while the offering is open. */
    REJECTS(f, agent, ESG_ERR_BAD_STATUS, coupon(f, "JGB-C", "2025-03-01"));
    bf_assert_msg_has(f, "OFFERING");
    OK(f, bf_close_offering(f, fx_admin(f, HER), "JGB-C"));

    /* Who records: an officer of the instrument's own paying agent. */
    REJECTS(f, fx_admin(f, HER), ESG_ERR_NOT_INSTRUMENT_AGENT,
            pay(f, fx_admin(f, HER), "JGB-C", ESG_PAYMENT_COUPON, "2025-03-01"));
    REJECTS(f, fx_admin(f, AGENT2), ESG_ERR_NOT_INSTRUMENT_AGENT,
            pay(f, fx_admin(f, AGENT2), "JGB-C", ESG_PAYMENT_COUPON, "2025-03-01"));
    bf_assert_msg_has(f, "('agent-x' is)");
    fx_key agent_admin = fx_key_new();
    OK(f, bf_add_account(f, agent, &agent_admin.pk, ESG_ROLE_ADMIN));
    REJECTS(f, &agent_admin, ESG_ERR_UNAUTHORIZED,
            pay(f, &agent_admin, "JGB-C", ESG_PAYMENT_COUPON, "2025-03-01"));
    /* What. */
    REJECTS(f, agent, ESG_ERR_UNKNOWN_INSTRUMENT, coupon(f, "JGB-Z", "2025-03-01"));
    REJECTS(f, agent, ESG_ERR_BAD_PAYMENT_KIND, pay(f, agent, "JGB-C", 0, "2025-03-01"));
    REJECTS(f, agent, ESG_ERR_BAD_PAYMENT_KIND, pay(f, agent, "JGB-C", 3, "2025-03-01"));
    REJECTS(f, agent, ESG_ERR_BAD_DATE, coupon(f, "JGB-C", "2025-3-1"));
    REJECTS(f, agent, ESG_ERR_BAD_DATE, coupon(f, "JGB-C", ""));
    /* When: the earliest unrecorded date of the schedule. */
    REJECTS(f, agent, ESG_ERR_WRONG_DUE_DATE, coupon(f, "JGB-C", "2026-03-01"));
    bf_assert_msg_has(f, "the next coupon of 'JGB-C' is due 2025-03-01");
    REJECTS(f, agent, ESG_ERR_WRONG_DUE_DATE, coupon(f, "JGB-C", "2025-02-28"));
    REJECTS(f, agent, ESG_ERR_REDEMPTION_EARLY, redeem(f, "JGB-C", "2027-03-01"));
    bf_assert_msg_has(f, "coupon 1");
    REJECTS(f, agent, ESG_ERR_REDEMPTION_EARLY, redeem(f, "JGB-C", "2026-03-01"));
    bf_assert_msg_has(f, "maturity 2027-03-01");

    /* The first coupon (block time 2026-01-01, after 2025-03-01). */
    uint64_t h = fx_height(f) + 1;
    OK(f, coupon(f, "JGB-C", "2025-03-01"));
    esg_hash tx = f->last_id;
    /* floor(99999 x 125 x 12 / 120000) = floor(1249.9875) = 1249 per unit. */
    uint64_t per_unit = UINT64_C(99999) * 125 * 12 / 120000;
    ck_assert_uint_eq(per_unit, 1249);
    uint64_t a_amt = per_unit * 3000, b_amt = per_unit * 1999;
    ck_assert_uint_eq(a_amt, 3747000);
    ck_assert_uint_eq(b_amt, 2496751);
    uint64_t total = a_amt + b_amt;
    ck_assert_uint_eq(total, 6243751);
    /* 6243751 x 30 % = 1873125.3 -> 1873125; x 20 % = 1248750.2 -> 1248750;
     * x 50 % = 3121875.5 -> 3121875, plus the remainder 1 for the lead. */
    uint64_t kav = total * 3000 / 10000, the = total * 2000 / 10000;
    uint64_t her = total - kav - the;
    ck_assert_uint_eq(kav, 1873125);
    ck_assert_uint_eq(the, 1248750);
    ck_assert_uint_eq(her, 3121876);
    ck_assert_uint_eq(her, total * 5000 / 10000 + 1);

    esg_pb_payment *p = payment(f, "JGB-C", ESG_PAYMENT_COUPON, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->instrument, "JGB-C");
    ck_assert_int_eq(p->kind, ESG_PAYMENT_COUPON);
    ck_assert_str_eq(p->due_date, "2025-03-01");
    ck_assert_uint_eq(p->seq, 1);
    ck_assert_uint_eq(p->height, h);
    ck_assert_uint_eq(p->time_ms, f->time_ms);
    ck_assert_uint_eq(p->coupon_bps, 125);
    ck_assert_uint_eq(p->step_up_bps, 0);
    ck_assert_uint_eq(p->months, 12);
    ck_assert_uint_eq(p->per_unit, per_unit);
    ck_assert_uint_eq(p->total, total);
    ck_assert_uint_eq(p->n_holders, 2);
    assert_line(p->holders[0], INV_A, 3000, 0, a_amt);
    assert_line(p->holders[1], INV_B, 1999, 0, b_amt);
    ck_assert_uint_eq(p->n_co_issuers, 3);
    assert_line(p->co_issuers[0], HER, 0, 5000, her);
    assert_line(p->co_issuers[1], KAV, 0, 3000, kav);
    assert_line(p->co_issuers[2], THE, 0, 2000, the);
    ck_assert_uint_eq(p->tx_id.len, 32);
    ck_assert_mem_eq(p->tx_id.data, tx.b, 32);
    esg_pb_free(p);
    esg_pb_instrument_record *r = bf_instrument(f, "JGB-C");
    ck_assert_uint_eq(r->coupons_recorded, 1);
    ck_assert_uint_eq(r->units_at_last_coupon, 4999);
    ck_assert_uint_eq(r->units_outstanding, 4999);
    esg_pb_free(r);
    assert_snapshot(f, "JGB-C", INV_A, 3000, 3000);
    assert_snapshot(f, "JGB-C", INV_B, 1999, 1999);

    /* Recorded once; the next one is not due before 2026-03-01 00:00 UTC. */
    REJECTS(f, agent, ESG_ERR_WRONG_DUE_DATE, coupon(f, "JGB-C", "2025-03-01"));
    bf_assert_msg_has(f, "due 2026-03-01");
    REJECTS(f, agent, ESG_ERR_NOT_DUE, coupon(f, "JGB-C", "2026-03-01"));
    f->time_ms = (uint64_t)bf_day("2026-03-01") * MS_PER_DAY - 1000 - 1; /* the block: 1 ms early */
    REJECTS(f, agent, ESG_ERR_NOT_DUE, coupon(f, "JGB-C", "2026-03-01"));
    bf_assert_msg_has(f, "2026-03-01");
    ck_assert_ptr_null(payment(f, "JGB-C", ESG_PAYMENT_COUPON, 2));
    f->time_ms = (uint64_t)bf_day("2026-03-01") * MS_PER_DAY - 1000; /* exactly at midnight */
    OK(f, coupon(f, "JGB-C", "2026-03-01"));
    p = payment(f, "JGB-C", ESG_PAYMENT_COUPON, 2);
    ck_assert_uint_eq(p->seq, 2);
    ck_assert_uint_eq(p->time_ms, (uint64_t)bf_day("2026-03-01") * MS_PER_DAY);
    ck_assert_uint_eq(p->total, total);
    esg_pb_free(p);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_transfer_coupon_redemption) {
    fx *f = bf_consortium();
    const fx_key *agent = fx_admin(f, AGENT);
    const fx_key *a = fx_admin(f, INV_A), *bk = fx_admin(f, INV_B), *c = fx_admin(f, INV_C);
    spec_b b;
    joint_bond(f, "JGB-L", &b);
    uint64_t per_unit = UINT64_C(99999) * 125 * 12 / 120000; /* 1249, as above */
    OK(f, coupon(f, "JGB-L", "2025-03-01"));

    /* Fund A sells 1000 units to Fund C, Fund B sells out to Fund C. */
    OK(f, bf_transfer(f, a, "JGB-L", INV_C, 1000));
    OK(f, bf_transfer(f, bk, "JGB-L", INV_C, 1999));
    /* Fund B's row stays, with 0 units, for its snapshot. */
    assert_snapshot(f, "JGB-L", INV_B, 0, 1999);
    assert_snapshot(f, "JGB-L", INV_C, 2999, 0);

    /* The second coupon goes to the holders at that block. */
    set_date(f, "2026-03-01");
    OK(f, coupon(f, "JGB-L", "2026-03-01"));
    esg_pb_payment *p = payment(f, "JGB-L", ESG_PAYMENT_COUPON, 2);
    ck_assert_uint_eq(p->n_holders, 2);
    assert_line(p->holders[0], INV_A, 2000, 0, per_unit * 2000);
    assert_line(p->holders[1], INV_C, 2999, 0, per_unit * 2999);
    ck_assert_uint_eq(per_unit * 2999, 3745751);
    ck_assert_uint_eq(p->total, per_unit * 4999);
    esg_pb_free(p);
    /* Fund B's emptied row is gone now; the others hold their snapshot. */
    ck_assert_ptr_null(bf_holding(f, "JGB-L", INV_B));
    assert_snapshot(f, "JGB-L", INV_A, 2000, 2000);
    assert_snapshot(f, "JGB-L", INV_C, 2999, 2999);

    /* Maturity: the final coupon comes first. */
    set_date(f, "2027-03-01");
    REJECTS(f, agent, ESG_ERR_REDEMPTION_EARLY, redeem(f, "JGB-L", "2027-03-01"));
    bf_assert_msg_has(f, "coupon 3");
    OK(f, coupon(f, "JGB-L", "2027-03-01"));
    REJECTS(f, agent, ESG_ERR_WRONG_DUE_DATE, coupon(f, "JGB-L", "2027-03-01"));
    bf_assert_msg_has(f, "all 3 coupons");
    /* A transfer after the final coupon: Fund B comes back with 999. */
    OK(f, bf_transfer(f, c, "JGB-L", INV_B, 999));
    REJECTS(f, agent, ESG_ERR_REDEMPTION_EARLY, redeem(f, "JGB-L", "2027-03-02"));
    bf_assert_msg_has(f, "maturity 2027-03-01");
    REJECTS(f, agent, ESG_ERR_REDEMPTION_EARLY, redeem(f, "JGB-L", "2026-03-01"));

    uint64_t h = fx_height(f) + 1;
    OK(f, redeem(f, "JGB-L", "2027-03-01"));
    /* Face value per unit: 99999 x 2000, x 999, x 2000. */
    uint64_t total = UINT64_C(99999) * 4999;
    ck_assert_uint_eq(total, 499895001);
    /* 50 % = 249947500.5, 30 % = 149968500.3, 20 % = 99979000.2: floors
     * 249947500 + 149968500 + 99979000 = 499895000, remainder 1. */
    uint64_t kav = total * 3000 / 10000, the = total * 2000 / 10000;
    ck_assert_uint_eq(kav, 149968500);
    ck_assert_uint_eq(the, 99979000);
    ck_assert_uint_eq(total - kav - the, 249947501);
    p = payment(f, "JGB-L", ESG_PAYMENT_REDEMPTION, 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->kind, ESG_PAYMENT_REDEMPTION);
    ck_assert_str_eq(p->due_date, "2027-03-01");
    ck_assert_uint_eq(p->seq, 1);
    ck_assert_uint_eq(p->height, h);
    ck_assert_uint_eq(p->per_unit, 99999);
    ck_assert_uint_eq(p->coupon_bps, 0);
    ck_assert_uint_eq(p->step_up_bps, 0);
    ck_assert_uint_eq(p->months, 0);
    ck_assert_uint_eq(p->total, total);
    ck_assert_uint_eq(p->n_holders, 3);
    assert_line(p->holders[0], INV_A, 2000, 0, UINT64_C(199998000));
    assert_line(p->holders[1], INV_B, 999, 0, UINT64_C(99899001));
    assert_line(p->holders[2], INV_C, 2000, 0, UINT64_C(199998000));
    ck_assert_uint_eq(p->n_co_issuers, 3);
    assert_line(p->co_issuers[0], HER, 0, 5000, 249947501);
    assert_line(p->co_issuers[1], KAV, 0, 3000, kav);
    assert_line(p->co_issuers[2], THE, 0, 2000, the);
    esg_pb_free(p);

    /* Units burned; snapshots of the last coupon kept for attribution. */
    esg_pb_instrument_record *r = bf_instrument(f, "JGB-L");
    ck_assert_int_eq(r->status, ESG_INSTRUMENT_STATUS_MATURED);
    ck_assert_uint_eq(r->matured_height, h);
    ck_assert_uint_eq(r->units_outstanding, 0);
    ck_assert_uint_eq(r->units_at_last_coupon, 4999);
    ck_assert_uint_eq(r->coupons_recorded, 3);
    ck_assert_uint_eq(r->units_sold, 4999);
    esg_pb_free(r);
    assert_snapshot(f, "JGB-L", INV_A, 0, 2000);
    assert_snapshot(f, "JGB-L", INV_C, 0, 2999);
    ck_assert_ptr_null(bf_holding(f, "JGB-L", INV_B)); /* bought after the last coupon */

    /* Nothing more happens to a matured instrument. */
    REJECTS(f, agent, ESG_ERR_BAD_STATUS, redeem(f, "JGB-L", "2027-03-01"));
    bf_assert_msg_has(f, "MATURED");
    REJECTS(f, agent, ESG_ERR_BAD_STATUS, coupon(f, "JGB-L", "2027-03-01"));
    REJECTS(f, a, ESG_ERR_BAD_STATUS, bf_transfer(f, a, "JGB-L", INV_B, 1));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_semiannual_end_of_month) {
    fx *f = bf_consortium();
    const fx_key *agent = fx_admin(f, AGENT);
    spec_b b;
    sb_init(&b, "HER-EOM");
    b.s.n_co_issuers = 0;
    sb_co_issuer(&b, HER, 10000);
    b.s.n_projects = 1;
    b.s.units = 1000;
    b.s.coupon_frequency_months = 6;
    b.s.issue_date = "2024-08-31";
    b.s.maturity_date = "2026-02-28";
    OK(f, bf_issue(f, &b.s, fx_admin(f, HER)));
    OK(f, bf_subscribe(f, fx_admin(f, INV_A), "HER-EOM", 700));
    OK(f, bf_close_offering(f, fx_admin(f, HER), "HER-EOM"));
    /* Half a year of 125 bps on 100000: 100000 x 125 x 6 / 120000 = 625. */
    uint64_t per_unit = UINT64_C(100000) * 125 * 6 / 120000;
    ck_assert_uint_eq(per_unit, 625);

    OK(f, coupon(f, "HER-EOM", "2025-02-28"));
    /* Issue + 12 months is the 31st of August again, not the 28th. */
    REJECTS(f, agent, ESG_ERR_WRONG_DUE_DATE, coupon(f, "HER-EOM", "2025-08-28"));
    bf_assert_msg_has(f, "due 2025-08-31");
    OK(f, coupon(f, "HER-EOM", "2025-08-31"));
    REJECTS(f, agent, ESG_ERR_NOT_DUE, coupon(f, "HER-EOM", "2026-02-28"));
    set_date(f, "2026-02-28");
    OK(f, coupon(f, "HER-EOM", "2026-02-28"));
    for (uint32_t k = 1; k <= 3; k++) {
        esg_pb_payment *p = payment(f, "HER-EOM", ESG_PAYMENT_COUPON, k);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(p->months, 6);
        ck_assert_uint_eq(p->per_unit, per_unit);
        ck_assert_uint_eq(p->total, per_unit * 700);
        ck_assert_uint_eq(p->n_co_issuers, 1);
        assert_line(p->co_issuers[0], HER, 0, 10000, 437500);
        esg_pb_free(p);
    }
    OK(f, redeem(f, "HER-EOM", "2026-02-28"));
    esg_pb_payment *p = payment(f, "HER-EOM", ESG_PAYMENT_REDEMPTION, 1);
    ck_assert_uint_eq(p->total, UINT64_C(100000) * 700);
    esg_pb_free(p);
    ck_assert_uint_eq(bf_units_of(f, "HER-EOM", INV_A), 0);
    assert_snapshot(f, "HER-EOM", INV_A, 0, 700);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* A sustainability-linked version of the joint bond (face 100000, 125
 * bps, yearly to 2027-03-01, Fund A 4000 units) with these targets. */
static void slb_bond(fx *f, const char *id, spec_b *b) {
    sb_init(b, id);
    b->s.kind = ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
    /* 1500.000 tCO2e avoided (higher is better) and at most 800.000 tCO2e
     * emitted (lower is better), both observed 2025-12-31. */
    sb_target(b, "ghg_avoided_tco2e", 1500000, "2025-12-31", 25);
    sb_target(b, "ghg_emissions_tco2e", 800000, "2025-12-31", 10);
    OK(f, bf_issue3(f, &b->s));
    OK(f, bf_subscribe(f, fx_admin(f, INV_A), id, 4000));
    OK(f, bf_close_offering(f, fx_admin(f, HER), id));
}

START_TEST(test_step_up_missed) {
    fx *f = bf_consortium();
    spec_b b;
    sb_init(&b, "SLB-M");
    b.s.kind = ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
    sb_target(&b, "ghg_avoided_tco2e", 1500000, "2025-12-31", 25);
    sb_target(&b, "ghg_emissions_tco2e", 800000, "2025-12-31", 10);
    /* Observed on coupon 2's due date: in force only after it. */
    sb_target(&b, "beneficiaries", 1000, "2026-03-01", 5);
    OK(f, bf_issue3(f, &b.s));
    OK(f, bf_subscribe(f, fx_admin(f, INV_A), "SLB-M", 4000));
    OK(f, bf_close_offering(f, fx_admin(f, HER), "SLB-M"));

    /* Coupon 1 is due before any observation: no step-up. */
    ck_assert_uint_eq(step_ups(f, "SLB-M", "2025-03-01"), 0);
    ck_assert_uint_eq(step_ups(f, "SLB-M", "2025-12-31"), 0);
    ck_assert_uint_eq(step_ups(f, "SLB-M", "2026-01-01"), 35);
    ck_assert_uint_eq(step_ups(f, "SLB-M", "2026-03-01"), 35);
    ck_assert_uint_eq(step_ups(f, "SLB-M", "2026-03-02"), 40);
    OK(f, coupon(f, "SLB-M", "2025-03-01"));
    esg_pb_payment *p = payment(f, "SLB-M", ESG_PAYMENT_COUPON, 1);
    ck_assert_uint_eq(p->step_up_bps, 0);
    ck_assert_uint_eq(p->per_unit, UINT64_C(100000) * 125 * 12 / 120000); /* 1250 */
    esg_pb_free(p);

    /* Coupon 2: no report counts for either 2025 target: 25 + 10 bps. */
    set_date(f, "2026-03-01");
    OK(f, coupon(f, "SLB-M", "2026-03-01"));
    p = payment(f, "SLB-M", ESG_PAYMENT_COUPON, 2);
    ck_assert_uint_eq(p->coupon_bps, 125);
    ck_assert_uint_eq(p->step_up_bps, 35);
    /* 100000 x (125 + 35) x 12 / 120000 = 1600 per unit. */
    ck_assert_uint_eq(p->per_unit, UINT64_C(100000) * 160 * 12 / 120000);
    ck_assert_uint_eq(p->per_unit, 1600);
    ck_assert_uint_eq(p->total, UINT64_C(1600) * 4000);
    assert_line(p->holders[0], INV_A, 4000, 0, 6400000);
    esg_pb_free(p);

    /* Coupon 3 adds the target observed on 2026-03-01: 40 bps. */
    set_date(f, "2027-03-01");
    OK(f, coupon(f, "SLB-M", "2027-03-01"));
    p = payment(f, "SLB-M", ESG_PAYMENT_COUPON, 3);
    ck_assert_uint_eq(p->step_up_bps, 40);
    ck_assert_uint_eq(p->per_unit, UINT64_C(100000) * 165 * 12 / 120000); /* 1650 */
    esg_pb_free(p);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_step_up_met) {
    fx *f = bf_consortium();
    spec_b b;
    slb_bond(f, "SLB-T", &b);
    const char *ins = "SLB-T";
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 35);

    /* 1000.000 avoided by Heraklion's project, confirmed: short of 1500. */
    esg_hash r1 = report(f, HER, ins, "H-SOLAR", "ghg_avoided_tco2e", 1000000, "2025-01-01",
                         "2025-06-30");
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 35); /* not attested yet */
    attest(f, &r1, ESG_OPINION_CONFIRMED, 1000000);
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 35);
    /* Kavala reports 600.000 to the observation date itself; the verifier
     * qualifies it at 550.000: 1000 + 550 = 1550 >= 1500, met. */
    esg_hash r2 = report(f, KAV, ins, "K-TRAM", "ghg_avoided_tco2e", 600000, "2025-07-01",
                         "2025-12-31");
    attest(f, &r2, ESG_OPINION_QUALIFIED, 550000);
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 10);
    /* 500.000 emitted by Thessaloniki's project, at most 800: met. */
    esg_hash r3 = report(f, THE, ins, "T-WATER", "ghg_emissions_tco2e", 500000, "2025-01-01",
                         "2025-06-30");
    attest(f, &r3, ESG_OPINION_CONFIRMED, 500000);
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 0);

    /* Outside the window (period_end <= 2024-12-31 or > 2025-12-31), a
     * huge emission figure changes nothing... */
    esg_hash r4 = report(f, THE, ins, "T-WATER", "ghg_emissions_tco2e", 9000000, "2024-01-01",
                         "2024-12-31");
    attest(f, &r4, ESG_OPINION_CONFIRMED, 9000000);
    esg_hash r5 = report(f, THE, ins, "T-WATER", "ghg_emissions_tco2e", 9000000, "2025-07-01",
                         "2026-01-01");
    attest(f, &r5, ESG_OPINION_CONFIRMED, 9000000);
    /* ... nor does an emission report nobody attested (of another project
     * of the instrument: T-WATER's 2025 is taken by r3 and r5, and live
     * reports of one project and KPI never share a day). */
    report(f, HER, ins, "H-SOLAR", "ghg_emissions_tco2e", 9000000, "2025-02-01", "2025-12-31");
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 0);
    /* Before the observation date nothing is in force anyway. */
    ck_assert_uint_eq(step_ups(f, ins, "2025-12-31"), 0);

    OK(f, coupon(f, ins, "2025-03-01"));
    set_date(f, "2026-03-01");
    OK(f, coupon(f, ins, "2026-03-01"));
    esg_pb_payment *p = payment(f, ins, ESG_PAYMENT_COUPON, 2);
    ck_assert_uint_eq(p->step_up_bps, 0);
    ck_assert_uint_eq(p->per_unit, UINT64_C(100000) * 125 * 12 / 120000); /* 1250 */
    ck_assert_uint_eq(p->total, UINT64_C(1250) * 4000);
    esg_pb_free(p);

    /* A second emission report in the window, Kavala's (T-WATER's second
     * half of 2025 overlaps r5): 500 + 400 = 900 > 800, so the
     * lower-is-better target is now missed -- evaluated from the state at
     * the block that records coupon 3. Coupon 2 stays as recorded. */
    esg_hash r6 = report(f, KAV, ins, "K-TRAM", "ghg_emissions_tco2e", 400000, "2025-07-01",
                         "2025-12-31");
    attest(f, &r6, ESG_OPINION_CONFIRMED, 400000);
    ck_assert_uint_eq(step_ups(f, ins, "2027-03-01"), 10);
    set_date(f, "2027-03-01");
    OK(f, coupon(f, ins, "2027-03-01"));
    p = payment(f, ins, ESG_PAYMENT_COUPON, 3);
    ck_assert_uint_eq(p->step_up_bps, 10);
    ck_assert_uint_eq(p->per_unit, UINT64_C(100000) * 135 * 12 / 120000); /* 1350 */
    ck_assert_uint_eq(p->per_unit, 1350);
    esg_pb_free(p);
    p = payment(f, ins, ESG_PAYMENT_COUPON, 2);
    ck_assert_uint_eq(p->step_up_bps, 0);
    esg_pb_free(p);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* A covenant compares the confirmed values of the instrument's projects
 * with its target, in full: reports that name no instrument, or another
 * instrument financing the project, count, whoever else finances it. */
START_TEST(test_covenant_counts_project_reports) {
    fx *f = bf_consortium();
    spec_b b;
    slb_bond(f, "SLB-P", &b);
    const char *ins = "SLB-P";
    /* JGB-K: Kavala alone, financing K-TRAM too. */
    spec_b k;
    sb_init(&k, "JGB-K");
    k.s.n_co_issuers = 0;
    sb_co_issuer(&k, KAV, 10000);
    k.s.n_projects = 0;
    sb_project(&k, "K-TRAM", KAV);
    OK(f, bf_issue(f, &k.s, fx_admin(f, KAV)));
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 35);

    /* 1000.000 avoided by H-SOLAR, reported of the project alone. */
    esg_hash r1 = report(f, HER, "", "H-SOLAR", "ghg_avoided_tco2e", 1000000, "2025-01-01",
                         "2025-06-30");
    attest(f, &r1, ESG_OPINION_CONFIRMED, 1000000);
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 35); /* 1000 < 1500 */
    /* 600.000 by K-TRAM, reported to JGB-K's investors: it is K-TRAM's
     * impact, so SLB-P counts it: 1000 + 600 = 1600 >= 1500, met. */
    esg_hash r2 = report(f, KAV, "JGB-K", "K-TRAM", "ghg_avoided_tco2e", 600000, "2025-01-01",
                         "2025-12-31");
    attest(f, &r2, ESG_OPINION_CONFIRMED, 600000);
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 10);
    /* An EU grant to K-TRAM changes the shares financed, not what the
     * covenant compares. */
    OK(f, bf_fund(f, KAV, "K-TRAM", ESG_FUNDING_SOURCE_EU, 50000000, "2025-12-01"));
    ck_assert_uint_eq(step_ups(f, ins, "2026-03-01"), 10);
    bf_view v = bf_view_open(f);
    esg_pb_instrument_record *r;
    ck_assert_int_eq(esg_instrument_get(v.st, ins, &r), 0);
    esg_covenant_eval ev;
    ck_assert_int_eq(esg_covenant_evaluate(v.st, r->spec, r->spec->kpi_targets[0], &ev), 0);
    ck_assert_int_eq(ev.observed, 1600000);
    ck_assert_uint_eq(ev.counted, 2);
    ck_assert(!ev.missed);
    esg_pb_free(r);
    bf_view_close(&v);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

Suite *suite_payments(void) {
    Suite *s = suite_create("payments");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_coupon_joint);
    tcase_add_test(tc, test_transfer_coupon_redemption);
    tcase_add_test(tc, test_semiannual_end_of_month);
    tcase_add_test(tc, test_step_up_missed);
    tcase_add_test(tc, test_step_up_met);
    tcase_add_test(tc, test_covenant_counts_project_reports);
    suite_add_tcase(s, tc);
    return s;
}
