/* Instrument contracts through the real executor on a real store:
 * IssueInstrument (every spec rule, the co-signatures), Subscribe,
 * CloseOffering, Transfer, and the date, schedule and split rules of
 * contracts/instrument.h. Each rejection is asserted by its code and by
 * the state it did not change. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bond_fixture.h"
#include "contracts/instrument.h"
#include "contracts/projects.h"
#include "ledger/error.h"

/* ------------------------------------------------------------ tx helpers */

static int revoke_account(fx *f, const fx_key *admin, const esg_pubkey *pk) {
    esg_pb_revoke_account ra = ESG_PB_REVOKE_ACCOUNT_INIT;
    ra.pubkey = esg_pb_bin(pk->b, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVOKE_ACCOUNT;
    b.revoke_account = &ra;
    return fx_submit(f, &b, admin);
}

/* Suspends `id` by a proposal of Heraklion approved by Kavala and
 * Trikala (3 of 4 cities, or all 3 once Thessaloniki is suspended). */
static void suspend(fx *f, const char *id) {
    esg_pb_suspend_member sm = ESG_PB_SUSPEND_MEMBER_INIT;
    sm.id = (char *)id;
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_SUSPEND_MEMBER;
    p.suspend_member = &sm;
    esg_pb_propose pr = ESG_PB_PROPOSE_INIT;
    pr.proposal = &p;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_PROPOSE;
    b.propose = &pr;
    OK(f, fx_submit(f, &b, fx_admin(f, HER)));
    esg_hash id_ = f->last_id;
    const char *voters[2] = {KAV, TRI};
    for (int i = 0; i < 2; i++) {
        esg_pb_vote v = ESG_PB_VOTE_INIT;
        v.proposal_id = esg_pb_bin(id_.b, 32);
        v.approve = true;
        esg_pb_tx_body vb = ESG_PB_TX_BODY_INIT;
        vb.action_case = ESG_ACTION_VOTE;
        vb.vote = &v;
        OK(f, fx_submit(f, &vb, fx_admin(f, voters[i])));
    }
    esg_pb_member *m = fx_member(f, id);
    ck_assert(m->suspended);
    esg_pb_free(m);
}

/* ------------------------------------------------------------------ tests */

START_TEST(test_dates_and_schedule) {
    char out[11];
    /* Adding months clamps to the month's end. */
    esg_date_format(esg_date_add_months(bf_day("2024-01-31"), 1), out);
    ck_assert_str_eq(out, "2024-02-29");
    esg_date_format(esg_date_add_months(bf_day("2023-01-31"), 1), out);
    ck_assert_str_eq(out, "2023-02-28");
    esg_date_format(esg_date_add_months(bf_day("2024-02-29"), 12), out);
    ck_assert_str_eq(out, "2025-02-28");
    esg_date_format(esg_date_add_months(bf_day("2024-11-30"), 3), out);
    ck_assert_str_eq(out, "2025-02-28");
    esg_date_format(esg_date_add_months(bf_day("1999-12-15"), 0), out);
    ck_assert_str_eq(out, "1999-12-15");
    esg_date_format(esg_date_add_months(bf_day("1969-12-31"), 2), out);
    ck_assert_str_eq(out, "1970-02-28");
    /* ... and so does subtracting. */
    esg_date_format(esg_date_sub_months(bf_day("2025-03-31"), 1), out);
    ck_assert_str_eq(out, "2025-02-28");
    esg_date_format(esg_date_sub_months(bf_day("2025-12-31"), 12), out);
    ck_assert_str_eq(out, "2024-12-31");
    esg_date_format(esg_date_sub_months(bf_day("2025-02-28"), 12), out);
    ck_assert_str_eq(out, "2024-02-28");
    esg_date_format(esg_date_sub_months(bf_day("2024-02-29"), 12), out);
    ck_assert_str_eq(out, "2023-02-28");
    esg_date_format(esg_date_sub_months(bf_day("1970-01-15"), 1), out);
    ck_assert_str_eq(out, "1969-12-15");

    /* Semi-annual from an end-of-month date: issue + k x 6 months, so the
     * day comes back to the 31st in August (no drift to the 28th). */
    spec_b b;
    sb_init(&b, "EOM-1");
    b.s.coupon_frequency_months = 6;
    b.s.issue_date = "2024-08-31";
    b.s.maturity_date = "2026-02-28";
    int32_t days[8];
    size_t n;
    ck_assert_int_eq(esg_schedule(&b.s, days, 8, &n), 0);
    ck_assert_uint_eq(n, 3);
    esg_date_format(days[0], out);
    ck_assert_str_eq(out, "2025-02-28");
    esg_date_format(days[1], out);
    ck_assert_str_eq(out, "2025-08-31");
    esg_date_format(days[2], out);
    ck_assert_str_eq(out, "2026-02-28");
    /* Counting only. */
    ck_assert_int_eq(esg_schedule(&b.s, NULL, 3, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(esg_schedule(&b.s, days, 2, &n), ESG_ERR_TOO_LARGE);
    /* Quarterly: 3-year term, 12 dates, the last the maturity. */
    b.s.coupon_frequency_months = 3;
    b.s.issue_date = "2024-03-01";
    b.s.maturity_date = "2027-03-01";
    ck_assert_int_eq(esg_schedule(&b.s, days, 8, &n), ESG_ERR_TOO_LARGE);
    ck_assert_int_eq(esg_schedule(&b.s, NULL, ESG_MAX_SCHEDULE, &n), 0);
    ck_assert_uint_eq(n, 12);
    b.s.coupon_frequency_months = 1;
    ck_assert_int_eq(esg_schedule(&b.s, NULL, ESG_MAX_SCHEDULE, &n), 0);
    ck_assert_uint_eq(n, 36);
    /* The errors. */
    b.s.coupon_frequency_months = 12;
    b.s.maturity_date = "2027-03-02";
    ck_assert_int_eq(esg_schedule(&b.s, days, 8, &n), ESG_ERR_MATURITY_OFF_SCHEDULE);
    b.s.maturity_date = "2024-03-01";
    ck_assert_int_eq(esg_schedule(&b.s, days, 8, &n), ESG_ERR_BAD_DATES);
    b.s.maturity_date = "2023-03-01";
    ck_assert_int_eq(esg_schedule(&b.s, days, 8, &n), ESG_ERR_BAD_DATES);
    b.s.maturity_date = "2027-02-29";
    ck_assert_int_eq(esg_schedule(&b.s, days, 8, &n), ESG_ERR_BAD_DATE);
    b.s.maturity_date = "2027-03-01";
    b.s.coupon_frequency_months = 4;
    ck_assert_int_eq(esg_schedule(&b.s, days, 8, &n), ESG_ERR_BAD_FREQUENCY);

    /* Split: 1001 by 5000/3000/2000 is 500.5 / 300.3 / 200.2: the floors
     * are 500 / 300 / 200, and the remainder 1 goes to the lead. */
    uint64_t parts[3];
    esg_split_by_shares(&b.s, 1001, parts);
    ck_assert_uint_eq(parts[0], 501);
    ck_assert_uint_eq(parts[1], 300);
    ck_assert_uint_eq(parts[2], 200);
    /* No overflow at the top of the range. */
    esg_split_by_shares(&b.s, UINT64_MAX, parts);
    ck_assert_uint_eq(parts[1], (uint64_t)((unsigned __int128)UINT64_MAX * 3000 / 10000));
    ck_assert_uint_eq(parts[0] + parts[1] + parts[2], UINT64_MAX);
}
END_TEST

START_TEST(test_issue_joint) {
    fx *f = bf_consortium();
    const fx_key *her = fx_admin(f, HER), *kav = fx_admin(f, KAV), *the = fx_admin(f, THE);
    spec_b b;
    sb_init(&b, "JGB-2026-01");
    uint64_t h = fx_height(f);
    /* Co-signers may sign in any order. */
    OK(f, bf_issue(f, &b.s, her, the, kav));
    esg_hash tx = f->last_id;
    ck_assert_uint_eq(fx_height(f), h + 1);
    /* Only the signer pays a nonce. */
    ck_assert_uint_eq(fx_nonce(f, &her->pk), 1);
    ck_assert_uint_eq(fx_nonce(f, &kav->pk), 0);
    ck_assert_uint_eq(fx_nonce(f, &the->pk), 0);

    esg_pb_instrument_record *r = bf_instrument(f, "JGB-2026-01");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->status, ESG_INSTRUMENT_STATUS_OFFERING);
    ck_assert_uint_eq(r->units_sold, 0);
    ck_assert_uint_eq(r->units_outstanding, 0);
    ck_assert_uint_eq(r->amount_raised, 0);
    ck_assert_uint_eq(r->issued_height, h + 1);
    ck_assert_uint_eq(r->coupons_recorded, 0);
    ck_assert_uint_eq(r->issue_tx.len, 32);
    ck_assert_mem_eq(r->issue_tx.data, tx.b, 32);
    /* The spec is stored as signed. */
    ck_assert_str_eq(r->spec->id, "JGB-2026-01");
    ck_assert_int_eq(r->spec->kind, ESG_INSTRUMENT_GREEN_BOND);
    ck_assert_str_eq(r->spec->currency, "EUR");
    ck_assert_uint_eq(r->spec->face_value, 100000);
    ck_assert_uint_eq(r->spec->units, 5000);
    ck_assert_uint_eq(r->spec->coupon_bps, 125);
    ck_assert_uint_eq(r->spec->n_co_issuers, 3);
    ck_assert_str_eq(r->spec->co_issuers[0]->member, HER);
    ck_assert_uint_eq(r->spec->co_issuers[2]->share_bps, 2000);
    ck_assert_uint_eq(r->spec->n_projects, 3);
    ck_assert_str_eq(r->spec->projects[1]->id, "K-TRAM");
    ck_assert_uint_eq(r->spec->projects[1]->n_sdgs, 2);
    ck_assert_str_eq(r->spec->paying_agent, AGENT);
    ck_assert_uint_eq(r->spec->framework_sha256.len, 32);
    esg_pb_free(r);

    /* The same id again. */
    REJECTS(f, her, ESG_ERR_INSTRUMENT_EXISTS, bf_issue3(f, &b.s));
    bf_assert_msg_has(f, "'JGB-2026-01' already exists");

    /* One co-issuer: only its own officer signs. An officer-only account
     * may issue. Empty hashes are allowed. */
    fx_key off = fx_key_new();
    OK(f, bf_add_account(f, fx_admin(f, TRI), &off.pk, ESG_ROLE_OFFICER));
    spec_b one;
    sb_init(&one, "TRI-GB-1");
    one.s.n_co_issuers = 0;
    sb_co_issuer(&one, TRI, 10000);
    one.s.n_projects = 0;
    sb_project(&one, "TR-BIKE", TRI)->eu_objective = ESG_EU_OBJECTIVE_BIO;
    one.s.framework_sha256 = esg_pb_bin(NULL, 0);
    one.s.external_review_sha256 = esg_pb_bin(NULL, 0);
    one.s.coupon_bps = ESG_MAX_COUPON_BPS;
    OK(f, bf_issue(f, &one.s, &off));
    r = bf_instrument(f, "TRI-GB-1");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->spec->framework_sha256.len, 0);
    ck_assert_int_eq(r->spec->projects[0]->eu_objective, ESG_EU_OBJECTIVE_BIO);
    esg_pb_free(r);

    /* A sustainability-linked bond with its KPI targets. */
    spec_b slb;
    sb_init(&slb, "SLB-1");
    slb.s.kind = ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
    sb_target(&slb, "ghg_avoided_tco2e", 1500000, "2025-12-31", 25);
    sb_target(&slb, "ghg_avoided_tco2e", 2000000, "2026-12-31", 25);
    sb_target(&slb, "energy_saved_mwh", 1000, "2024-03-01", 1000); /* on the issue date */
    sb_target(&slb, "beneficiaries", 1000, "2027-03-01", 1);      /* on maturity */
    OK(f, bf_issue3(f, &slb.s));
    r = bf_instrument(f, "SLB-1");
    ck_assert_uint_eq(r->spec->n_kpi_targets, 4);
    ck_assert_int_eq(r->spec->kpi_targets[0]->target, 1500000);
    esg_pb_free(r);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_issue_signatures) {
    fx *f = bf_consortium();
    const fx_key *her = fx_admin(f, HER), *kav = fx_admin(f, KAV), *the = fx_admin(f, THE);
    const fx_key *tri = fx_admin(f, TRI), *inv = fx_admin(f, INV_A);
    fx_key her_admin = fx_key_new(), kav_admin = fx_key_new(), kav_off = fx_key_new();
    fx_key kav_off2 = fx_key_new(), stranger = fx_key_new();
    OK(f, bf_add_account(f, her, &her_admin.pk, ESG_ROLE_ADMIN));
    OK(f, bf_add_account(f, kav, &kav_admin.pk, ESG_ROLE_ADMIN));
    OK(f, bf_add_account(f, kav, &kav_off.pk, ESG_ROLE_OFFICER));
    OK(f, bf_add_account(f, kav, &kav_off2.pk, ESG_ROLE_OFFICER));
    OK(f, revoke_account(f, kav, &kav_off2.pk));
    spec_b b;
    sb_init(&b, "JGB-SIG");

    /* A co-issuer's officer is missing: the message names it. */
    REJECTS(f, her, ESG_ERR_MISSING_COSIGNER, bf_issue(f, &b.s, her, the));
    bf_assert_msg_has(f, "no signature of an officer of 'city-kavala'");
    REJECTS(f, her, ESG_ERR_MISSING_COSIGNER, bf_issue(f, &b.s, her, kav));
    bf_assert_msg_has(f, "'city-thessaloniki'");
    REJECTS(f, her, ESG_ERR_MISSING_COSIGNER, bf_issue(f, &b.s, her));
    bf_assert_msg_has(f, "'city-kavala'");
    /* An ADMIN-only account of Kavala is no officer. */
    REJECTS(f, her, ESG_ERR_MISSING_COSIGNER, bf_issue(f, &b.s, her, &kav_admin, the));
    bf_assert_msg_has(f, "'city-kavala'");
    /* Nor is a revoked one. */
    REJECTS(f, her, ESG_ERR_MISSING_COSIGNER, bf_issue(f, &b.s, her, &kav_off2, the));
    /* Nor a key that is no account at all. */
    REJECTS(f, her, ESG_ERR_MISSING_COSIGNER, bf_issue(f, &b.s, her, &stranger, the));
    /* Another city's officer does not stand in for Kavala. */
    REJECTS(f, her, ESG_ERR_MISSING_COSIGNER, bf_issue(f, &b.s, her, tri, the));

    /* The signer must be an officer of a co-issuer. */
    REJECTS(f, &her_admin, ESG_ERR_UNAUTHORIZED, bf_issue(f, &b.s, &her_admin, kav, the));
    bf_assert_msg_has(f, "lacks role OFFICER");
    REJECTS(f, tri, ESG_ERR_UNAUTHORIZED, bf_issue(f, &b.s, tri, her, kav, the));
    bf_assert_msg_has(f, "not a co-issuer");
    REJECTS(f, inv, ESG_ERR_UNAUTHORIZED, bf_issue(f, &b.s, inv, her, kav, the));

    /* Signatures the action does not need make it invalid. */
    REJECTS(f, her, ESG_ERR_UNEXPECTED_SIGNATURE, bf_issue(f, &b.s, her, kav, the, inv));
    REJECTS(f, her, ESG_ERR_UNEXPECTED_SIGNATURE, bf_issue(f, &b.s, her, kav, &kav_off, the));
    REJECTS(f, her, ESG_ERR_UNEXPECTED_SIGNATURE, bf_issue(f, &b.s, her, kav, the, &her_admin));

    /* Kavala's officer-only account co-signs; Kavala's officer may also be
     * the signer. */
    OK(f, bf_issue(f, &b.s, her, &kav_off, the));
    sb_init(&b, "JGB-SIG-2");
    OK(f, bf_issue(f, &b.s, &kav_off, the, her));
    esg_pb_instrument_record *r = bf_instrument(f, "JGB-SIG-2");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->spec->co_issuers[0]->member, HER); /* the lead stays the first */
    esg_pb_free(r);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* One rejected variant of the joint spec: `mutate` changes it, the issue
 * must fail with `code`, and the message must hold `needle` (if any). */
static void spec_rejects(fx *f, void (*mutate)(spec_b *), int code, const char *needle) {
    spec_b b;
    sb_init(&b, "JGB-BAD");
    mutate(&b);
    REJECTS(f, fx_admin(f, HER), code, bf_issue3(f, &b.s));
    if (needle)
        bf_assert_msg_has(f, needle);
}

static char long_id[64];

static void m_id_lower(spec_b *b) { b->s.id = "jgb-1"; }
static void m_id_short(spec_b *b) { b->s.id = "AB"; }
static void m_id_long(spec_b *b) {
    memset(long_id, 'A', 41);
    long_id[41] = '\0';
    b->s.id = long_id;
}
static void m_id_underscore(spec_b *b) { b->s.id = "JGB_1"; }
static void m_kind_0(spec_b *b) { b->s.kind = 0; }
static void m_kind_6(spec_b *b) { b->s.kind = 6; }
static void m_name_empty(spec_b *b) { b->s.name = ""; }
static void m_name_ctrl(spec_b *b) { b->s.name = "bond\n"; }
static void m_cur_lower(spec_b *b) { b->s.currency = "eur"; }
static void m_cur_short(spec_b *b) { b->s.currency = "EU"; }
static void m_cur_long(spec_b *b) { b->s.currency = "EURO"; }
static void m_face_0(spec_b *b) { b->s.face_value = 0; }
static void m_units_0(spec_b *b) { b->s.units = 0; }
static void m_overflow(spec_b *b) {
    b->s.face_value = UINT64_MAX / 2;
    b->s.units = 3;
}
static void m_coupon_cap(spec_b *b) { b->s.coupon_bps = ESG_MAX_COUPON_BPS + 1; }
static void m_issue_bad(spec_b *b) { b->s.issue_date = "2024-02-30"; }
static void m_maturity_bad(spec_b *b) { b->s.maturity_date = "2027/03/01"; }
static void m_freq_0(spec_b *b) { b->s.coupon_frequency_months = 0; }
static void m_freq_2(spec_b *b) { b->s.coupon_frequency_months = 2; }
static void m_freq_24(spec_b *b) { b->s.coupon_frequency_months = 24; }
static void m_dates_equal(spec_b *b) { b->s.maturity_date = "2024-03-01"; }
static void m_dates_reversed(spec_b *b) {
    b->s.issue_date = "2027-03-01";
    b->s.maturity_date = "2024-03-01";
}
static void m_off_schedule(spec_b *b) { b->s.maturity_date = "2027-04-01"; }
static void m_too_many_dates(spec_b *b) {
    b->s.coupon_frequency_months = 1;
    b->s.issue_date = "2000-01-01";
    b->s.maturity_date = "2101-01-01"; /* 1212 monthly dates */
}
static void m_no_co_issuers(spec_b *b) { b->s.n_co_issuers = 0; }
static void m_eleven_co_issuers(spec_b *b) {
    for (int i = 0; i < 8; i++)
        sb_co_issuer(b, TRI, 1);
}
static void m_co_investor(spec_b *b) { b->ci[2].member = INV_A; }
static void m_co_unknown(spec_b *b) { b->ci[2].member = "city-nowhere"; }
static void m_co_bad_id(spec_b *b) { b->ci[2].member = "City-X"; }
static void m_co_dup(spec_b *b) { b->ci[2].member = KAV; }
static void m_share_0(spec_b *b) {
    b->ci[0].share_bps = 7000;
    b->ci[2].share_bps = 0;
}
static void m_shares_low(spec_b *b) { b->ci[2].share_bps = 1999; }
static void m_shares_high(spec_b *b) { b->ci[2].share_bps = 2001; }
static void m_shares_wrap(spec_b *b) {
    /* 2^32 - 10000 + ... : a 32-bit sum would wrap to exactly 10000. */
    b->ci[0].share_bps = UINT32_MAX;
    b->ci[1].share_bps = 5001;
    b->ci[2].share_bps = 5000;
}
static void m_agent_unknown(spec_b *b) { b->s.paying_agent = "agent-z"; }
static void m_agent_empty(spec_b *b) { b->s.paying_agent = ""; }
static void m_agent_verifier(spec_b *b) { b->s.paying_agent = VER; }
static void m_agent_city(spec_b *b) { b->s.paying_agent = HER; }
static void m_no_projects(spec_b *b) { b->s.n_projects = 0; }
static void m_many_projects(spec_b *b) {
    while (b->s.n_projects < ESG_MAX_PROJECTS + 1)
        sb_project(b, "P", HER);
}
static void m_project_id(spec_b *b) { b->pr[1].id = "k-tram"; }
static void m_project_id_empty(spec_b *b) { b->pr[1].id = ""; }
static void m_project_dup(spec_b *b) { b->pr[2].id = "H-SOLAR"; }
static void m_project_name(spec_b *b) { b->pr[0].name = ""; }
static void m_project_obj_0(spec_b *b) { b->pr[0].eu_objective = 0; }
static void m_project_obj_7(spec_b *b) { b->pr[0].eu_objective = 7; }
static void m_project_sdg_0(spec_b *b) { b->sdgs[0][1] = 0; }
static void m_project_sdg_18(spec_b *b) { b->sdgs[0][1] = 18; }
static void m_project_sdg_dup(spec_b *b) { b->sdgs[0][1] = 7; }
static void m_project_budget(spec_b *b) { b->pr[2].budget = 0; }
static void m_project_id_short(spec_b *b) { b->pr[1].id = "KT"; }
static void m_project_objs_dup(spec_b *b) {
    static const esg_pb_eu_objective more[] = {ESG_EU_OBJECTIVE_CCA, ESG_EU_OBJECTIVE_CCM};
    b->pr[0].eu_objectives = (esg_pb_eu_objective *)more;
    b->pr[0].n_eu_objectives = 2;
}
static void m_project_objs_many(spec_b *b) {
    static const esg_pb_eu_objective more[] = {ESG_EU_OBJECTIVE_CCA, ESG_EU_OBJECTIVE_WTR,
                                               ESG_EU_OBJECTIVE_CE, ESG_EU_OBJECTIVE_PPC,
                                               ESG_EU_OBJECTIVE_BIO, ESG_EU_OBJECTIVE_BIO};
    b->pr[0].eu_objectives = (esg_pb_eu_objective *)more;
    b->pr[0].n_eu_objectives = 6;
}
static void m_project_taxonomy(spec_b *b) { b->pr[0].taxonomy_activity = "7"; }
static void m_project_nace(spec_b *b) { b->pr[0].nace = "Z41.2"; }
static void m_project_location(spec_b *b) { b->pr[0].location = "Heraklion\n"; }
static void m_ref_with_fields(spec_b *b) {
    bf_project_ref(&b->pr[1], "K-TRAM", 1000);
    b->pr[1].nace = "F41.2";
}
static void m_ref_with_objective(spec_b *b) {
    bf_project_ref(&b->pr[1], "K-TRAM", 1000);
    b->pr[1].eu_objective = ESG_EU_OBJECTIVE_CCM;
}
static void m_ref_budget(spec_b *b) { bf_project_ref(&b->pr[1], "K-TRAM", 0); }
static void m_ref_unknown(spec_b *b) { bf_project_ref(&b->pr[1], "K-NEW", 1000); }
static void m_isin_check_digit(spec_b *b) { b->s.isin = "US0378331006"; }
static void m_isin_short(spec_b *b) { b->s.isin = "US037833100"; }
static void m_isin_lower(spec_b *b) { b->s.isin = "us0378331005"; }
static void m_lookback_high(spec_b *b) {
    b->s.refinancing_lookback_months = ESG_MAX_LOOKBACK_MONTHS + 1;
}
static void m_project_city(spec_b *b) { b->pr[2].city = TRI; }
static void m_targets_on_green(spec_b *b) {
    sb_target(b, "ghg_avoided_tco2e", 1500000, "2025-12-31", 25);
}
static void m_slb_no_targets(spec_b *b) {
    b->s.kind = ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
}
static void slb(spec_b *b) {
    b->s.kind = ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
    sb_target(b, "ghg_avoided_tco2e", 1500000, "2025-12-31", 25);
}
static void m_target_unknown_kpi(spec_b *b) {
    slb(b);
    b->kt[0].kpi = "trees_planted";
}
static void m_target_bad_date(spec_b *b) {
    slb(b);
    b->kt[0].observation_date = "2025-13-01";
}
static void m_target_before_issue(spec_b *b) {
    slb(b);
    b->kt[0].observation_date = "2024-02-29";
}
static void m_target_after_maturity(spec_b *b) {
    slb(b);
    b->kt[0].observation_date = "2027-03-02";
}
static void m_target_step_0(spec_b *b) {
    slb(b);
    b->kt[0].step_up_bps = 0;
}
static void m_target_step_high(spec_b *b) {
    slb(b);
    b->kt[0].step_up_bps = ESG_MAX_STEP_UP_BPS + 1;
}
static void m_target_dup(spec_b *b) {
    slb(b);
    sb_target(b, "ghg_avoided_tco2e", 1, "2025-12-31", 10);
}
static void m_target_many(spec_b *b) {
    slb(b);
    for (int i = 0; i < ESG_MAX_KPI_TARGETS; i++)
        sb_target(b, "beneficiaries", i, "2026-01-01", 1);
}
static void m_fw_hash(spec_b *b) { b->s.framework_sha256 = esg_pb_bin(b->fw, 31); }
static void m_er_hash(spec_b *b) { b->s.external_review_sha256 = esg_pb_bin(b->er, 33); }

START_TEST(test_issue_spec_rules) {
    fx *f = bf_consortium();
    spec_rejects(f, m_id_lower, ESG_ERR_BAD_INSTRUMENT_ID, "[A-Z0-9-]{3,40}");
    spec_rejects(f, m_id_short, ESG_ERR_BAD_INSTRUMENT_ID, NULL);
    spec_rejects(f, m_id_long, ESG_ERR_BAD_INSTRUMENT_ID, NULL);
    spec_rejects(f, m_id_underscore, ESG_ERR_BAD_INSTRUMENT_ID, NULL);
    spec_rejects(f, m_kind_0, ESG_ERR_BAD_INSTRUMENT_KIND, NULL);
    spec_rejects(f, m_kind_6, ESG_ERR_BAD_INSTRUMENT_KIND, NULL);
    spec_rejects(f, m_name_empty, ESG_ERR_BAD_NAME, NULL);
    spec_rejects(f, m_name_ctrl, ESG_ERR_BAD_NAME, NULL);
    spec_rejects(f, m_cur_lower, ESG_ERR_BAD_CURRENCY, "'eur'");
    spec_rejects(f, m_cur_short, ESG_ERR_BAD_CURRENCY, NULL);
    spec_rejects(f, m_cur_long, ESG_ERR_BAD_CURRENCY, NULL);
    spec_rejects(f, m_face_0, ESG_ERR_BAD_AMOUNT, "face value");
    spec_rejects(f, m_units_0, ESG_ERR_BAD_AMOUNT, "units");
    spec_rejects(f, m_overflow, ESG_ERR_OVERFLOW, NULL);
    spec_rejects(f, m_coupon_cap, ESG_ERR_BAD_AMOUNT, "coupon 5001 bps");
    spec_rejects(f, m_issue_bad, ESG_ERR_BAD_DATE, NULL);
    spec_rejects(f, m_maturity_bad, ESG_ERR_BAD_DATE, NULL);
    spec_rejects(f, m_freq_0, ESG_ERR_BAD_FREQUENCY, NULL);
    spec_rejects(f, m_freq_2, ESG_ERR_BAD_FREQUENCY, "2 months");
    spec_rejects(f, m_freq_24, ESG_ERR_BAD_FREQUENCY, NULL);
    spec_rejects(f, m_dates_equal, ESG_ERR_BAD_DATES, NULL);
    spec_rejects(f, m_dates_reversed, ESG_ERR_BAD_DATES, NULL);
    spec_rejects(f, m_off_schedule, ESG_ERR_MATURITY_OFF_SCHEDULE, "2027-04-01");
    spec_rejects(f, m_too_many_dates, ESG_ERR_BAD_DATES, "1200");
    spec_rejects(f, m_no_co_issuers, ESG_ERR_CO_ISSUER_COUNT, NULL);
    spec_rejects(f, m_eleven_co_issuers, ESG_ERR_CO_ISSUER_COUNT, "11 co-issuers");
    spec_rejects(f, m_co_investor, ESG_ERR_CO_ISSUER_NOT_CITY, "'fund-a' is an INVESTOR");
    spec_rejects(f, m_co_unknown, ESG_ERR_UNKNOWN_MEMBER, "'city-nowhere'");
    spec_rejects(f, m_co_bad_id, ESG_ERR_BAD_MEMBER_ID, NULL);
    spec_rejects(f, m_co_dup, ESG_ERR_DUPLICATE_CO_ISSUER, "'city-kavala' is listed twice");
    spec_rejects(f, m_share_0, ESG_ERR_BAD_SHARE, "'city-thessaloniki'");
    spec_rejects(f, m_shares_low, ESG_ERR_SHARES_SUM, "9999");
    spec_rejects(f, m_shares_high, ESG_ERR_SHARES_SUM, "10001");
    spec_rejects(f, m_shares_wrap, ESG_ERR_SHARES_SUM, NULL);
    spec_rejects(f, m_agent_unknown, ESG_ERR_UNKNOWN_MEMBER, "'agent-z'");
    spec_rejects(f, m_agent_empty, ESG_ERR_BAD_MEMBER_ID, NULL);
    spec_rejects(f, m_agent_verifier, ESG_ERR_NOT_PAYING_AGENT, "VERIFIER");
    spec_rejects(f, m_agent_city, ESG_ERR_NOT_PAYING_AGENT, NULL);
    spec_rejects(f, m_no_projects, ESG_ERR_BAD_PROJECT, "0 projects");
    spec_rejects(f, m_many_projects, ESG_ERR_BAD_PROJECT, "101 projects");
    /* Project ids are global since issue 9: their own code, 3 to 40. */
    spec_rejects(f, m_project_id, ESG_ERR_BAD_PROJECT_ID, "'k-tram'");
    spec_rejects(f, m_project_id_empty, ESG_ERR_BAD_PROJECT_ID, "[A-Z0-9-]{3,40}");
    spec_rejects(f, m_project_id_short, ESG_ERR_BAD_PROJECT_ID, "'KT'");
    spec_rejects(f, m_project_dup, ESG_ERR_BAD_PROJECT, "listed twice");
    spec_rejects(f, m_project_name, ESG_ERR_BAD_PROJECT, "name");
    spec_rejects(f, m_project_obj_0, ESG_ERR_BAD_PROJECT, "objective");
    spec_rejects(f, m_project_obj_7, ESG_ERR_BAD_PROJECT, "objective");
    spec_rejects(f, m_project_sdg_0, ESG_ERR_BAD_PROJECT, "SDG 0");
    spec_rejects(f, m_project_sdg_18, ESG_ERR_BAD_PROJECT, "SDG 18");
    spec_rejects(f, m_project_sdg_dup, ESG_ERR_BAD_PROJECT, "SDG 7 is listed twice");
    spec_rejects(f, m_project_budget, ESG_ERR_BAD_PROJECT, "budget");
    spec_rejects(f, m_project_city, ESG_ERR_PROJECT_CITY, "'city-trikala'");
    spec_rejects(f, m_project_objs_dup, ESG_ERR_BAD_PROJECT, "listed twice");
    spec_rejects(f, m_project_objs_many, ESG_ERR_BAD_PROJECT, "need 1 to 6");
    spec_rejects(f, m_project_taxonomy, ESG_ERR_BAD_PROJECT, "taxonomy activity '7'");
    spec_rejects(f, m_project_nace, ESG_ERR_BAD_PROJECT, "NACE code 'Z41.2'");
    spec_rejects(f, m_project_location, ESG_ERR_BAD_PROJECT, "location");
    spec_rejects(f, m_ref_with_fields, ESG_ERR_BAD_PROJECT, "only its id and budget");
    spec_rejects(f, m_ref_with_objective, ESG_ERR_BAD_PROJECT, "only its id and budget");
    spec_rejects(f, m_ref_budget, ESG_ERR_BAD_PROJECT, "budget of project 'K-TRAM'");
    spec_rejects(f, m_ref_unknown, ESG_ERR_UNKNOWN_PROJECT, "'K-NEW' is not registered");
    spec_rejects(f, m_targets_on_green, ESG_ERR_KPI_TARGETS, NULL);
    spec_rejects(f, m_slb_no_targets, ESG_ERR_KPI_TARGETS, NULL);
    spec_rejects(f, m_target_unknown_kpi, ESG_ERR_UNKNOWN_KPI, "'trees_planted'");
    spec_rejects(f, m_target_bad_date, ESG_ERR_BAD_DATE, NULL);
    spec_rejects(f, m_target_before_issue, ESG_ERR_BAD_KPI_TARGET, "outside");
    spec_rejects(f, m_target_after_maturity, ESG_ERR_BAD_KPI_TARGET, "outside");
    spec_rejects(f, m_target_step_0, ESG_ERR_BAD_KPI_TARGET, "step-up");
    spec_rejects(f, m_target_step_high, ESG_ERR_BAD_KPI_TARGET, "step-up");
    spec_rejects(f, m_target_dup, ESG_ERR_BAD_KPI_TARGET, "listed twice");
    spec_rejects(f, m_target_many, ESG_ERR_BAD_KPI_TARGET, "21 KPI targets");
    spec_rejects(f, m_fw_hash, ESG_ERR_BAD_HASH, "framework_sha256");
    spec_rejects(f, m_er_hash, ESG_ERR_BAD_HASH, "external_review_sha256");
    spec_rejects(f, m_isin_check_digit, ESG_ERR_BAD_ISIN, "'US0378331006'");
    spec_rejects(f, m_isin_short, ESG_ERR_BAD_ISIN, NULL);
    spec_rejects(f, m_isin_lower, ESG_ERR_BAD_ISIN, NULL);
    spec_rejects(f, m_lookback_high, ESG_ERR_BAD_DATES, "refinancing_lookback_months 121 is "
                                                        "more than 120");

    /* No spec at all. */
    esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    body.issue_instrument = &ii;
    REJECTS(f, fx_admin(f, HER), ESG_ERR_BAD_INSTRUMENT_ID,
            fx_submit(f, &body, fx_admin(f, HER)));

    /* After all of that, the valid spec goes through (none of the
     * rejections registered a project); an ISIN and the longest look-back
     * are stored as given. */
    ck_assert(!fx_has(f, ESG_T_PROJECTS, "H-SOLAR", 7));
    spec_b b;
    sb_init(&b, "JGB-BAD");
    b.s.isin = "US0378331005";
    b.s.refinancing_lookback_months = ESG_MAX_LOOKBACK_MONTHS;
    OK(f, bf_issue3(f, &b.s));
    esg_pb_instrument_record *r = bf_instrument(f, "JGB-BAD");
    ck_assert_str_eq(r->spec->isin, "US0378331005");
    ck_assert_uint_eq(r->spec->refinancing_lookback_months, 120);
    ck_assert_uint_eq(esg_instrument_lookback_months(r->spec), 120);
    r->spec->refinancing_lookback_months = 0;
    ck_assert_uint_eq(esg_instrument_lookback_months(r->spec), ESG_DEFAULT_LOOKBACK_MONTHS);
    esg_pb_free(r);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_issue_suspended) {
    fx *f = bf_consortium();
    suspend(f, THE);
    spec_b b;
    sb_init(&b, "JGB-SUS");
    /* Thessaloniki's admin cannot sign any more (its member is suspended),
     * and a suspended city cannot be a co-issuer. */
    REJECTS(f, fx_admin(f, HER), ESG_ERR_CO_ISSUER_NOT_CITY,
            bf_issue(f, &b.s, fx_admin(f, HER), fx_admin(f, KAV)));
    bf_assert_msg_has(f, "'city-thessaloniki' is suspended");
    /* A suspended paying agent is refused too. */
    suspend(f, AGENT2);
    sb_init(&b, "JGB-SUS");
    b.s.n_co_issuers = 2;
    b.ci[0].share_bps = 6000;
    b.ci[1].share_bps = 4000;
    b.s.n_projects = 2;
    b.s.paying_agent = AGENT2;
    REJECTS(f, fx_admin(f, HER), ESG_ERR_NOT_PAYING_AGENT,
            bf_issue(f, &b.s, fx_admin(f, HER), fx_admin(f, KAV)));
    bf_assert_msg_has(f, "suspended");
    b.s.paying_agent = AGENT;
    OK(f, bf_issue(f, &b.s, fx_admin(f, HER), fx_admin(f, KAV)));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_subscribe_and_close) {
    fx *f = bf_consortium();
    const fx_key *her = fx_admin(f, HER), *kav = fx_admin(f, KAV);
    const fx_key *a = fx_admin(f, INV_A), *bk = fx_admin(f, INV_B);
    spec_b b;
    sb_init(&b, "JGB-1");
    OK(f, bf_issue3(f, &b.s));

    /* Who may subscribe. */
    REJECTS(f, her, ESG_ERR_NOT_INVESTOR, bf_subscribe(f, her, "JGB-1", 10));
    bf_assert_msg_has(f, "not an INVESTOR");
    REJECTS(f, fx_admin(f, AGENT), ESG_ERR_NOT_INVESTOR,
            bf_subscribe(f, fx_admin(f, AGENT), "JGB-1", 10));
    fx_key a_admin = fx_key_new();
    OK(f, bf_add_account(f, a, &a_admin.pk, ESG_ROLE_ADMIN));
    REJECTS(f, &a_admin, ESG_ERR_UNAUTHORIZED, bf_subscribe(f, &a_admin, "JGB-1", 10));
    /* What. */
    REJECTS(f, a, ESG_ERR_UNKNOWN_INSTRUMENT, bf_subscribe(f, a, "JGB-2", 10));
    bf_assert_msg_has(f, "no instrument 'JGB-2'");
    REJECTS(f, a, ESG_ERR_UNKNOWN_INSTRUMENT, bf_subscribe(f, a, "jgb-1", 10));
    REJECTS(f, a, ESG_ERR_BAD_UNITS, bf_subscribe(f, a, "JGB-1", 0));
    REJECTS(f, a, ESG_ERR_INSUFFICIENT_UNITS, bf_subscribe(f, a, "JGB-1", 5001));
    bf_assert_msg_has(f, "5000 remain");
    REJECTS(f, a, ESG_ERR_INSUFFICIENT_UNITS, bf_subscribe(f, a, "JGB-1", UINT64_MAX));

    /* Subscriptions add up. */
    OK(f, bf_subscribe(f, a, "JGB-1", 1000));
    OK(f, bf_subscribe(f, a, "JGB-1", 2000));
    OK(f, bf_subscribe(f, bk, "JGB-1", 1500));
    ck_assert_uint_eq(bf_units_of(f, "JGB-1", INV_A), 3000);
    ck_assert_uint_eq(bf_units_of(f, "JGB-1", INV_B), 1500);
    esg_pb_holding *h = bf_holding(f, "JGB-1", INV_A);
    ck_assert_str_eq(h->instrument, "JGB-1");
    ck_assert_str_eq(h->member, INV_A);
    ck_assert_uint_eq(h->units_at_last_coupon, 0);
    esg_pb_free(h);
    esg_pb_instrument_record *r = bf_instrument(f, "JGB-1");
    ck_assert_uint_eq(r->units_sold, 4500);
    ck_assert_int_eq(r->status, ESG_INSTRUMENT_STATUS_OFFERING);
    esg_pb_free(r);
    REJECTS(f, bk, ESG_ERR_INSUFFICIENT_UNITS, bf_subscribe(f, bk, "JGB-1", 501));
    bf_assert_msg_has(f, "500 remain");
    /* Transfers wait for the close. */
    REJECTS(f, a, ESG_ERR_BAD_STATUS, bf_transfer(f, a, "JGB-1", INV_B, 1));
    bf_assert_msg_has(f, "is OFFERING, not ACTIVE");

    /* Who may close: an officer of the lead co-issuer. */
    REJECTS(f, kav, ESG_ERR_NOT_LEAD_ISSUER, bf_close_offering(f, kav, "JGB-1"));
    bf_assert_msg_has(f, "'city-heraklion' is");
    REJECTS(f, a, ESG_ERR_NOT_LEAD_ISSUER, bf_close_offering(f, a, "JGB-1"));
    fx_key her_admin = fx_key_new();
    OK(f, bf_add_account(f, her, &her_admin.pk, ESG_ROLE_ADMIN));
    REJECTS(f, &her_admin, ESG_ERR_UNAUTHORIZED, bf_close_offering(f, &her_admin, "JGB-1"));
    REJECTS(f, her, ESG_ERR_UNKNOWN_INSTRUMENT, bf_close_offering(f, her, "JGB-9"));

    uint64_t hc = fx_height(f) + 1;
    OK(f, bf_close_offering(f, her, "JGB-1"));
    r = bf_instrument(f, "JGB-1");
    ck_assert_int_eq(r->status, ESG_INSTRUMENT_STATUS_ACTIVE);
    ck_assert_uint_eq(r->units_sold, 4500);
    ck_assert_uint_eq(r->units_outstanding, 4500);
    /* 4500 units x 100000 minor units: the 500 unsold are cancelled. */
    ck_assert_uint_eq(r->amount_raised, (uint64_t)4500 * 100000);
    ck_assert_uint_eq(r->amount_raised, 450000000);
    ck_assert_uint_eq(r->closed_height, hc);
    esg_pb_free(r);
    REJECTS(f, her, ESG_ERR_BAD_STATUS, bf_close_offering(f, her, "JGB-1"));
    bf_assert_msg_has(f, "is ACTIVE, not OFFERING");
    REJECTS(f, bk, ESG_ERR_BAD_STATUS, bf_subscribe(f, bk, "JGB-1", 1));

    /* Nothing subscribed: nothing to close. */
    sb_init(&b, "JGB-EMPTY");
    OK(f, bf_issue3(f, &b.s));
    REJECTS(f, her, ESG_ERR_BAD_UNITS, bf_close_offering(f, her, "JGB-EMPTY"));
    bf_assert_msg_has(f, "nothing was subscribed");
    /* The whole offering can be taken. */
    OK(f, bf_subscribe(f, bk, "JGB-EMPTY", 5000));
    REJECTS(f, a, ESG_ERR_INSUFFICIENT_UNITS, bf_subscribe(f, a, "JGB-EMPTY", 1));
    OK(f, bf_close_offering(f, her, "JGB-EMPTY"));
    r = bf_instrument(f, "JGB-EMPTY");
    ck_assert_uint_eq(r->amount_raised, (uint64_t)5000 * 100000);
    esg_pb_free(r);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_transfer) {
    fx *f = bf_consortium();
    const fx_key *her = fx_admin(f, HER), *a = fx_admin(f, INV_A), *bk = fx_admin(f, INV_B);
    const fx_key *c = fx_admin(f, INV_C);
    spec_b b;
    sb_init(&b, "JGB-T");
    OK(f, bf_issue3(f, &b.s));
    OK(f, bf_subscribe(f, a, "JGB-T", 3000));
    OK(f, bf_subscribe(f, bk, "JGB-T", 1000));
    OK(f, bf_close_offering(f, her, "JGB-T"));

    /* The receiver: an active INVESTOR other than the sender. */
    REJECTS(f, a, ESG_ERR_BAD_RECEIVER, bf_transfer(f, a, "JGB-T", INV_A, 10));
    bf_assert_msg_has(f, "itself");
    REJECTS(f, a, ESG_ERR_BAD_RECEIVER, bf_transfer(f, a, "JGB-T", HER, 10));
    bf_assert_msg_has(f, "is a CITY, not an INVESTOR");
    REJECTS(f, a, ESG_ERR_BAD_RECEIVER, bf_transfer(f, a, "JGB-T", AGENT, 10));
    REJECTS(f, a, ESG_ERR_BAD_RECEIVER, bf_transfer(f, a, "JGB-T", "fund-z", 10));
    bf_assert_msg_has(f, "'fund-z' is not a member");
    REJECTS(f, a, ESG_ERR_BAD_RECEIVER, bf_transfer(f, a, "JGB-T", "Fund-B", 10));
    /* The units. */
    REJECTS(f, a, ESG_ERR_BAD_UNITS, bf_transfer(f, a, "JGB-T", INV_B, 0));
    REJECTS(f, a, ESG_ERR_INSUFFICIENT_HOLDING, bf_transfer(f, a, "JGB-T", INV_B, 3001));
    bf_assert_msg_has(f, "holds 3000 units");
    REJECTS(f, c, ESG_ERR_INSUFFICIENT_HOLDING, bf_transfer(f, c, "JGB-T", INV_B, 1));
    bf_assert_msg_has(f, "holds 0 units");
    REJECTS(f, a, ESG_ERR_UNKNOWN_INSTRUMENT, bf_transfer(f, a, "JGB-X", INV_B, 1));
    /* The signer. */
    fx_key a_admin = fx_key_new();
    OK(f, bf_add_account(f, a, &a_admin.pk, ESG_ROLE_ADMIN));
    REJECTS(f, &a_admin, ESG_ERR_UNAUTHORIZED, bf_transfer(f, &a_admin, "JGB-T", INV_B, 1));
    /* A city holds nothing, so it has nothing to transfer. */
    REJECTS(f, her, ESG_ERR_INSUFFICIENT_HOLDING, bf_transfer(f, her, "JGB-T", INV_B, 1));

    /* Part, then the rest: a holding that reaches 0 units (and has no
     * coupon snapshot) disappears. */
    OK(f, bf_transfer(f, a, "JGB-T", INV_C, 1200));
    ck_assert_uint_eq(bf_units_of(f, "JGB-T", INV_A), 1800);
    ck_assert_uint_eq(bf_units_of(f, "JGB-T", INV_C), 1200);
    OK(f, bf_transfer(f, a, "JGB-T", INV_B, 1800));
    esg_pb_holding *h = bf_holding(f, "JGB-T", INV_A);
    ck_assert_ptr_null(h);
    ck_assert_uint_eq(bf_units_of(f, "JGB-T", INV_B), 2800);
    OK(f, bf_transfer(f, c, "JGB-T", INV_A, 200));
    ck_assert_uint_eq(bf_units_of(f, "JGB-T", INV_A), 200);
    ck_assert_uint_eq(bf_units_of(f, "JGB-T", INV_C), 1000);
    /* Outstanding units never change by a transfer. */
    esg_pb_instrument_record *r = bf_instrument(f, "JGB-T");
    ck_assert_uint_eq(r->units_outstanding, 4000);
    esg_pb_free(r);

    /* A suspended investor can no longer receive. */
    suspend(f, INV_C);
    REJECTS(f, a, ESG_ERR_BAD_RECEIVER, bf_transfer(f, a, "JGB-T", INV_C, 1));
    bf_assert_msg_has(f, "'fund-c' is suspended");
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* The registered project `id`, or NULL. */
static esg_pb_project_record *project(fx *f, const char *id) {
    return fx_get(f, ESG_T_PROJECTS, id, strlen(id), ESG_PB_PROJECT_RECORD_DESC);
}

/* Spec projects: references to registered projects, inline definitions
 * that the issuance registers, and the mismatches refused. */
START_TEST(test_issue_projects) {
    fx *f = bf_consortium();
    const fx_key *her = fx_admin(f, HER), *kav = fx_admin(f, KAV);
    OK(f, bf_register_project(f, HER, "H-PV", 50000000, "EUR"));
    OK(f, bf_register_project(f, TRI, "TR-PV", 9000000, "EUR"));
    OK(f, bf_register_project(f, KAV, "K-USD", 7000000, "USD"));

    /* A reference gives only an id and the budget this instrument earmarks;
     * the project keeps its own record. K-TRAM and T-WATER are defined
     * inline and registered by the issuance. */
    spec_b b;
    sb_init(&b, "JGB-REF");
    bf_project_ref(&b.pr[0], "H-PV", 20000000);
    uint64_t h = fx_height(f) + 1;
    OK(f, bf_issue3(f, &b.s));
    esg_hash tx = f->last_id;
    esg_pb_project_record *p = project(f, "H-PV");
    ck_assert_str_eq(p->city, HER);
    ck_assert_str_eq(p->name, "Project");
    ck_assert_uint_eq(p->total_cost, 50000000); /* not the budget */
    ck_assert_uint_eq(p->n_instruments, 1);
    ck_assert_str_eq(p->instruments[0], "JGB-REF");
    esg_pb_free(p);
    p = project(f, "K-TRAM");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->id, "K-TRAM");
    ck_assert_str_eq(p->city, KAV);
    ck_assert_str_eq(p->name, "Rooftop solar");
    ck_assert_str_eq(p->currency, "EUR"); /* the instrument's */
    ck_assert_uint_eq(p->total_cost, 20000000); /* total_cost 0: the budget */
    ck_assert_uint_eq(p->n_eu_objectives, 1);
    ck_assert_int_eq(p->eu_objectives[0], ESG_EU_OBJECTIVE_CCM);
    ck_assert_uint_eq(p->n_sdgs, 2);
    ck_assert_uint_eq(p->register_tx.len, 32);
    ck_assert_mem_eq(p->register_tx.data, tx.b, 32);
    ck_assert_uint_eq(p->registered_height, h);
    ck_assert_uint_eq(p->n_cost_history, 0);
    ck_assert_uint_eq(p->n_instruments, 1);
    ck_assert_str_eq(p->instruments[0], "JGB-REF");
    esg_pb_free(p);
    ck_assert_ptr_null(project(f, "H-SOLAR")); /* replaced by the reference */

    /* An inline project with its own total cost and the optional fields;
     * objectives and SDGs are stored sorted. */
    static const esg_pb_eu_objective more[] = {ESG_EU_OBJECTIVE_PPC, ESG_EU_OBJECTIVE_CCA};
    sb_init(&b, "JGB-INL");
    esg_pb_project *bus = &b.pr[0];
    bus->id = "H-BUS";
    bus->eu_objectives = (esg_pb_eu_objective *)more;
    bus->n_eu_objectives = 2;
    bus->taxonomy_activity = "6.3";
    bus->nace = "H49.31";
    bus->location = "Heraklion, city centre";
    bus->total_cost = 90000000;
    b.sdgs[0][0] = 13;
    b.sdgs[0][1] = 3;
    b.sdgs[0][2] = 11;
    bus->n_sdgs = 3;
    b.pr[1].budget = 1; /* K-TRAM again: the record keeps its cost */
    OK(f, bf_issue3(f, &b.s));
    p = project(f, "H-BUS");
    ck_assert_uint_eq(p->total_cost, 90000000);
    ck_assert_uint_eq(p->n_eu_objectives, 3);
    ck_assert_int_eq(p->eu_objectives[0], ESG_EU_OBJECTIVE_CCM);
    ck_assert_int_eq(p->eu_objectives[1], ESG_EU_OBJECTIVE_CCA);
    ck_assert_int_eq(p->eu_objectives[2], ESG_EU_OBJECTIVE_PPC);
    ck_assert_str_eq(p->taxonomy_activity, "6.3");
    ck_assert_str_eq(p->nace, "H49.31");
    ck_assert_str_eq(p->location, "Heraklion, city centre");
    ck_assert_uint_eq(p->n_sdgs, 3);
    ck_assert_uint_eq(p->sdgs[0], 3);
    ck_assert_uint_eq(p->sdgs[1], 11);
    ck_assert_uint_eq(p->sdgs[2], 13);
    esg_pb_free(p);
    /* Several instruments finance one project, listed in issuance order. */
    p = project(f, "K-TRAM");
    ck_assert_uint_eq(p->total_cost, 20000000);
    ck_assert_uint_eq(p->n_instruments, 2);
    ck_assert_str_eq(p->instruments[0], "JGB-REF");
    ck_assert_str_eq(p->instruments[1], "JGB-INL");
    esg_pb_free(p);

    /* Mismatches. An inline project registered by another city: */
    sb_init(&b, "JGB-MIS");
    b.pr[1].city = THE;
    REJECTS(f, her, ESG_ERR_PROJECT_MISMATCH, bf_issue3(f, &b.s));
    bf_assert_msg_has(f, "project 'K-TRAM' is registered by 'city-kavala', not "
                         "'city-thessaloniki'");
    /* a project costed in another currency, by reference or inline: */
    sb_init(&b, "JGB-MIS");
    bf_project_ref(&b.pr[1], "K-USD", 1000);
    REJECTS(f, her, ESG_ERR_PROJECT_MISMATCH, bf_issue3(f, &b.s));
    bf_assert_msg_has(f, "project 'K-USD' is costed in USD, the instrument is in EUR");
    sb_init(&b, "JGB-MIS");
    b.pr[1].id = "K-USD";
    REJECTS(f, her, ESG_ERR_PROJECT_MISMATCH, bf_issue3(f, &b.s));
    /* a reference to another city's project: */
    sb_init(&b, "JGB-MIS");
    bf_project_ref(&b.pr[2], "TR-PV", 1000);
    REJECTS(f, her, ESG_ERR_PROJECT_CITY, bf_issue3(f, &b.s));
    bf_assert_msg_has(f, "project 'TR-PV' belongs to 'city-trikala', which is not a co-issuer");
    /* an inline definition claiming it for a co-issuer changes nothing: */
    sb_init(&b, "JGB-MIS");
    b.pr[2].id = "TR-PV";
    REJECTS(f, her, ESG_ERR_PROJECT_MISMATCH, bf_issue3(f, &b.s));
    bf_assert_msg_has(f, "registered by 'city-trikala', not 'city-thessaloniki'");
    /* None of these registered or linked anything. */
    ck_assert_ptr_null(bf_instrument(f, "JGB-MIS"));
    p = project(f, "K-TRAM");
    ck_assert_uint_eq(p->n_instruments, 2);
    esg_pb_free(p);

    /* An instrument in USD may finance K-USD. */
    sb_init(&b, "KAV-USD");
    b.s.currency = "USD";
    b.s.n_co_issuers = 0;
    sb_co_issuer(&b, KAV, 10000);
    b.s.n_projects = 0;
    sb_project(&b, "K-USD", KAV);
    bf_project_ref(&b.pr[0], "K-USD", 5000000);
    OK(f, bf_issue(f, &b.s, kav));
    p = project(f, "K-USD");
    ck_assert_uint_eq(p->n_instruments, 1);
    esg_pb_free(p);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* A spec of Trikala alone financing registered project TR-PV. */
static void tri_spec(spec_b *b, const char *id) {
    sb_init(b, id);
    b->s.n_co_issuers = 0;
    sb_co_issuer(b, TRI, 10000);
    b->s.n_projects = 0;
    sb_project(b, "TR-PV", TRI);
    bf_project_ref(&b->pr[0], "TR-PV", 1000);
}

/* A project may be financed by at most ESG_MAX_PROJECT_INSTRUMENTS. */
START_TEST(test_issue_project_instrument_limit) {
    fx *f = bf_consortium();
    const fx_key *tri = fx_admin(f, TRI);
    OK(f, bf_register_project(f, TRI, "TR-PV", 9000000, "EUR"));
    char id[16];
    bf_batch bt;
    bf_batch_init(&bt, f);
    for (int i = 0; i < ESG_MAX_PROJECT_INSTRUMENTS; i++) {
        spec_b b;
        snprintf(id, sizeof id, "TRI-%03d", i);
        tri_spec(&b, id);
        esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
        ii.spec = &b.s;
        esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
        body.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
        body.issue_instrument = &ii;
        bf_batch_add(&bt, &body, tri); /* signed now: b may go */
    }
    bf_batch_commit(&bt);
    esg_pb_project_record *p = project(f, "TR-PV");
    ck_assert_uint_eq(p->n_instruments, ESG_MAX_PROJECT_INSTRUMENTS);
    ck_assert_str_eq(p->instruments[0], "TRI-000");
    ck_assert_str_eq(p->instruments[99], "TRI-099");
    esg_pb_free(p);
    spec_b b;
    tri_spec(&b, "TRI-100");
    REJECTS(f, tri, ESG_ERR_BAD_PROJECT, bf_issue(f, &b.s, tri));
    bf_assert_msg_has(f, "project 'TR-PV' is already financed by 100 instruments");
    fx_free(f);
}
END_TEST

Suite *suite_instrument(void) {
    Suite *s = suite_create("instrument");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_dates_and_schedule);
    tcase_add_test(tc, test_issue_joint);
    tcase_add_test(tc, test_issue_signatures);
    tcase_add_test(tc, test_issue_spec_rules);
    tcase_add_test(tc, test_issue_suspended);
    tcase_add_test(tc, test_issue_projects);
    tcase_add_test(tc, test_issue_project_instrument_limit);
    tcase_add_test(tc, test_subscribe_and_close);
    tcase_add_test(tc, test_transfer);
    suite_add_tcase(s, tc);
    return s;
}
