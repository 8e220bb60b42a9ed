/* Shared bond helpers: see bond_fixture.h. */
#include "bond_fixture.h"

#include "contracts/instrument.h"

fx *bf_consortium(void) {
    fx *f = fx_new();
    fx_add_member(f, HER, ESG_MEMBER_CITY, "Heraklion");
    fx_add_member(f, KAV, ESG_MEMBER_CITY, "Kavala");
    fx_add_member(f, THE, ESG_MEMBER_CITY, "Thessaloniki");
    fx_add_member(f, TRI, ESG_MEMBER_CITY, "Trikala");
    fx_add_member(f, INV_A, ESG_MEMBER_INVESTOR, "Fund A");
    fx_add_member(f, INV_B, ESG_MEMBER_INVESTOR, "Fund B");
    fx_add_member(f, INV_C, ESG_MEMBER_INVESTOR, "Fund C");
    fx_add_member(f, VER, ESG_MEMBER_VERIFIER, "Verifier A");
    fx_add_member(f, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent X");
    fx_add_member(f, AGENT2, ESG_MEMBER_PAYING_AGENT, "Agent Y");
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, VER, "climate"), 0);
    fx_start(f);
    return f;
}

void bf_assert_msg_has(fx *f, const char *needle) {
    ck_assert_msg(strstr(f->msg, needle) != NULL, "message '%s' lacks '%s'", f->msg,
                  needle);
}

void sb_co_issuer(spec_b *b, const char *member, uint32_t share) {
    size_t i = b->s.n_co_issuers++;
    esg_pb_co_issuer init = ESG_PB_CO_ISSUER_INIT;
    b->ci[i] = init;
    b->ci[i].member = (char *)member;
    b->ci[i].share_bps = share;
    b->cip[i] = &b->ci[i];
    b->s.co_issuers = b->cip;
}

esg_pb_project *sb_project(spec_b *b, const char *id, const char *city) {
    size_t i = b->s.n_projects++;
    esg_pb_project init = ESG_PB_PROJECT_INIT;
    b->pr[i] = init;
    b->pr[i].id = (char *)id;
    b->pr[i].city = (char *)city;
    b->pr[i].name = "Rooftop solar";
    b->pr[i].eu_objective = ESG_EU_OBJECTIVE_CCM;
    b->sdgs[i][0] = 7;
    b->sdgs[i][1] = 11;
    b->pr[i].sdgs = b->sdgs[i];
    b->pr[i].n_sdgs = 2;
    b->pr[i].budget = 20000000;
    b->prp[i] = &b->pr[i];
    b->s.projects = b->prp;
    return &b->pr[i];
}

esg_pb_kpi_target *sb_target(spec_b *b, const char *kpi, int64_t target,
                                    const char *obs, uint32_t step) {
    size_t i = b->s.n_kpi_targets++;
    esg_pb_kpi_target init = ESG_PB_KPI_TARGET_INIT;
    b->kt[i] = init;
    b->kt[i].kpi = (char *)kpi;
    b->kt[i].target = target;
    b->kt[i].observation_date = (char *)obs;
    b->kt[i].step_up_bps = step;
    b->ktp[i] = &b->kt[i];
    b->s.kpi_targets = b->ktp;
    return &b->kt[i];
}

/* The design's example: a joint green bond of Heraklion (lead, 50 %),
 * Kavala (30 %) and Thessaloniki (20 %), a project in each city. */
void sb_init(spec_b *b, const char *id) {
    memset(b, 0, sizeof *b);
    esg_pb_instrument_spec init = ESG_PB_INSTRUMENT_SPEC_INIT;
    b->s = init;
    b->s.id = (char *)id;
    b->s.kind = ESG_INSTRUMENT_GREEN_BOND;
    b->s.name = "Joint green bond of three cities";
    b->s.currency = "EUR";
    b->s.face_value = 100000;
    b->s.units = 5000;
    b->s.coupon_bps = 125;
    b->s.coupon_frequency_months = 12;
    b->s.issue_date = "2024-03-01";
    b->s.maturity_date = "2027-03-01";
    sb_co_issuer(b, HER, 5000);
    sb_co_issuer(b, KAV, 3000);
    sb_co_issuer(b, THE, 2000);
    b->s.paying_agent = AGENT;
    sb_project(b, "H-SOLAR", HER);
    sb_project(b, "K-TRAM", KAV);
    sb_project(b, "T-WATER", THE);
    memset(b->fw, 0xf1, sizeof b->fw);
    memset(b->er, 0xe2, sizeof b->er);
    b->s.framework_sha256 = esg_pb_bin(b->fw, 32);
    b->s.external_review_sha256 = esg_pb_bin(b->er, 32);
}

int bf_issue_keys(fx *f, const esg_pb_instrument_spec *s, const fx_key *const *keys,
                      size_t n) {
    esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
    ii.spec = (esg_pb_instrument_spec *)s;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    b.issue_instrument = &ii;
    return fx_submit_keys(f, &b, 0, keys, n);
}

int bf_issue3(fx *f, const esg_pb_instrument_spec *s) {
    return bf_issue(f, s, fx_admin(f, HER), fx_admin(f, KAV), fx_admin(f, THE));
}

int bf_subscribe(fx *f, const fx_key *k, const char *instrument, uint64_t units) {
    esg_pb_subscribe s = ESG_PB_SUBSCRIBE_INIT;
    s.instrument = (char *)instrument;
    s.units = units;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_SUBSCRIBE;
    b.subscribe = &s;
    return fx_submit(f, &b, k);
}

int bf_close_offering(fx *f, const fx_key *k, const char *instrument) {
    esg_pb_close_offering c = ESG_PB_CLOSE_OFFERING_INIT;
    c.instrument = (char *)instrument;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_CLOSE_OFFERING;
    b.close_offering = &c;
    return fx_submit(f, &b, k);
}

int bf_transfer(fx *f, const fx_key *k, const char *instrument, const char *to,
                    uint64_t units) {
    esg_pb_transfer t = ESG_PB_TRANSFER_INIT;
    t.instrument = (char *)instrument;
    t.to_member = (char *)to;
    t.units = units;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_TRANSFER;
    b.transfer = &t;
    return fx_submit(f, &b, k);
}

int bf_add_account(fx *f, const fx_key *admin, const esg_pubkey *pk, esg_pb_role role) {
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    aa.pubkey = esg_pb_bin(pk->b, 32);
    aa.roles = &role;
    aa.n_roles = 1;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ADD_ACCOUNT;
    b.add_account = &aa;
    return fx_submit(f, &b, admin);
}

esg_pb_instrument_record *bf_instrument(fx *f, const char *id) {
    return fx_get(f, ESG_T_INSTRUMENTS, id, strlen(id), ESG_PB_INSTRUMENT_RECORD_DESC);
}

esg_pb_holding *bf_holding(fx *f, const char *ins, const char *member) {
    uint8_t key[96];
    size_t il = strlen(ins), ml = strlen(member);
    memcpy(key, ins, il);
    key[il] = 0;
    memcpy(key + il + 1, member, ml);
    return fx_get(f, ESG_T_HOLDINGS, key, il + 1 + ml, ESG_PB_HOLDING_DESC);
}

uint64_t bf_units_of(fx *f, const char *ins, const char *member) {
    esg_pb_holding *h = bf_holding(f, ins, member);
    uint64_t u = h ? h->units : 0;
    esg_pb_free(h);
    return u;
}

int32_t bf_day(const char *s) {
    int32_t d;
    ck_assert_int_eq(esg_date_parse(s, &d), 0);
    return d;
}

/* ------------------------------------------------------ three-city cast */

const uint8_t bf_h32[32] = {0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                            0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                            0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                            0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};

int bf_issue_abc(fx *f, const char *id, bool one_city, uint64_t face, uint64_t units,
                 const char *maturity, const uint64_t budgets[4]) {
    esg_pb_co_issuer ca = ESG_PB_CO_ISSUER_INIT, cb = ESG_PB_CO_ISSUER_INIT,
                     cc = ESG_PB_CO_ISSUER_INIT;
    ca.member = CA;
    ca.share_bps = one_city ? 10000 : 3334;
    cb.member = CB;
    cb.share_bps = 3333;
    cc.member = CC;
    cc.share_bps = 3333;
    esg_pb_co_issuer *cos[] = {&ca, &cb, &cc};
    esg_pb_project p[4] = {ESG_PB_PROJECT_INIT, ESG_PB_PROJECT_INIT, ESG_PB_PROJECT_INIT,
                           ESG_PB_PROJECT_INIT};
    const char *ids[4] = {"PA-1", "PA-2", "PB-1", "PC-1"}, *cities[4] = {CA, CA, CB, CC};
    esg_pb_project *projs[4];
    for (int i = 0; i < 4; i++) {
        p[i].id = (char *)ids[i];
        p[i].city = (char *)cities[i];
        p[i].name = "Project";
        p[i].eu_objective = ESG_EU_OBJECTIVE_CCM;
        p[i].budget = budgets[i];
        projs[i] = &p[i];
    }
    esg_pb_instrument_spec s = ESG_PB_INSTRUMENT_SPEC_INIT;
    s.id = (char *)id;
    s.kind = ESG_INSTRUMENT_GREEN_BOND;
    s.name = "Joint Green Bond";
    s.currency = "EUR";
    s.face_value = face;
    s.units = units;
    s.coupon_bps = 300;
    s.coupon_frequency_months = 12;
    s.issue_date = "2026-01-15";
    s.maturity_date = (char *)maturity;
    s.co_issuers = cos;
    s.n_co_issuers = one_city ? 1 : 3;
    s.paying_agent = AGENT;
    s.projects = projs;
    s.n_projects = one_city ? 2 : 4;
    esg_pb_issue_instrument ii = ESG_PB_ISSUE_INSTRUMENT_INIT;
    ii.spec = &s;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
    b.issue_instrument = &ii;
    if (one_city)
        return fx_submit(f, &b, fx_admin(f, CA));
    return fx_submit(f, &b, fx_admin(f, CA), fx_admin(f, CB), fx_admin(f, CC));
}

fx *bf_abc_new(void) {
    fx *f = fx_new();
    fx_add_member(f, CA, ESG_MEMBER_CITY, "City A");
    fx_add_member(f, CB, ESG_MEMBER_CITY, "City B");
    fx_add_member(f, CC, ESG_MEMBER_CITY, "City C");
    fx_add_member(f, INV1, ESG_MEMBER_INVESTOR, "Investor 1");
    fx_add_member(f, INV2, ESG_MEMBER_INVESTOR, "Investor 2");
    return f;
}

void bf_time_to(fx *f, const char *date) {
    uint64_t ms = (uint64_t)bf_day(date) * 86400000u;
    ck_assert_uint_ge(ms, f->time_ms + 1000);
    f->time_ms = ms - 1000; /* fx_produce adds a second */
}

int bf_record_payment(fx *f, const char *id, int kind, const char *due) {
    esg_pb_record_payment rp = ESG_PB_RECORD_PAYMENT_INIT;
    rp.instrument = (char *)id;
    rp.kind = kind;
    rp.due_date = (char *)due;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_RECORD_PAYMENT;
    b.record_payment = &rp;
    return fx_submit(f, &b, fx_admin(f, AGENT));
}

bf_view bf_view_open(fx *f) {
    bf_view v;
    ck_assert_int_eq(esg_store_read_begin(f->store, &v.txn), 0);
    ck_assert_int_eq(esg_state_open(&v.st, f->store, v.txn, false), 0);
    return v;
}

void bf_view_close(bf_view *v) {
    esg_state_free(v->st);
    esg_store_read_end(v->txn);
}
