/* Shared bond helpers: see bond_fixture.h. */
#include "bond_fixture.h"

#include <stdlib.h>

#include "contracts/impact.h"
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

void bf_abc_init(bf_abc *b, const char *id, bool one_city, uint64_t face, uint64_t units,
                 const char *maturity, const uint64_t budgets[4]) {
    static const char *const ids[4] = {"PA-1", "PA-2", "PB-1", "PC-1"};
    static const char *const cities[4] = {CA, CA, CB, CC};
    static const char *const members[3] = {CA, CB, CC};
    memset(b, 0, sizeof *b);
    for (int i = 0; i < 3; i++) {
        esg_pb_co_issuer ci = ESG_PB_CO_ISSUER_INIT;
        b->ci[i] = ci;
        b->ci[i].member = (char *)members[i];
        b->ci[i].share_bps = one_city ? 10000 : i == 0 ? 3334 : 3333;
        b->cip[i] = &b->ci[i];
    }
    for (int i = 0; i < 4; i++) {
        esg_pb_project p = ESG_PB_PROJECT_INIT;
        b->pr[i] = p;
        b->pr[i].id = (char *)ids[i];
        b->pr[i].city = (char *)cities[i];
        b->pr[i].name = "Project";
        b->pr[i].eu_objective = ESG_EU_OBJECTIVE_CCM;
        b->pr[i].budget = budgets[i];
        b->prp[i] = &b->pr[i];
    }
    esg_pb_instrument_spec s = ESG_PB_INSTRUMENT_SPEC_INIT;
    b->s = s;
    b->s.id = (char *)id;
    b->s.kind = ESG_INSTRUMENT_GREEN_BOND;
    b->s.name = "Joint Green Bond";
    b->s.currency = "EUR";
    b->s.face_value = face;
    b->s.units = units;
    b->s.coupon_bps = 300;
    b->s.coupon_frequency_months = 12;
    b->s.issue_date = "2026-01-15";
    b->s.maturity_date = (char *)maturity;
    b->s.co_issuers = b->cip;
    b->s.n_co_issuers = one_city ? 1 : 3;
    b->s.paying_agent = AGENT;
    b->s.projects = b->prp;
    b->s.n_projects = one_city ? 2 : 4;
}

int bf_abc_issue(fx *f, const bf_abc *b) {
    const fx_key *keys[ESG_MAX_CO_ISSUERS];
    ck_assert_uint_le(b->s.n_co_issuers, ESG_MAX_CO_ISSUERS);
    for (size_t i = 0; i < b->s.n_co_issuers; i++)
        keys[i] = fx_admin(f, b->s.co_issuers[i]->member);
    return bf_issue_keys(f, &b->s, keys, b->s.n_co_issuers);
}

int bf_issue_abc(fx *f, const char *id, bool one_city, uint64_t face, uint64_t units,
                 const char *maturity, const uint64_t budgets[4]) {
    bf_abc b;
    bf_abc_init(&b, id, one_city, face, units, maturity, budgets);
    return bf_abc_issue(f, &b);
}

void bf_project_ref(esg_pb_project *p, const char *id, uint64_t budget) {
    esg_pb_project init = ESG_PB_PROJECT_INIT;
    *p = init;
    p->id = (char *)id;
    p->budget = budget;
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

/* ------------------------------------------- projects, proceeds, funding */

int bf_register_project(fx *f, const char *city, const char *id, uint64_t total_cost,
                        const char *currency) {
    esg_pb_eu_objective obj = ESG_EU_OBJECTIVE_CCM;
    esg_pb_register_project rp = ESG_PB_REGISTER_PROJECT_INIT;
    rp.id = (char *)id;
    rp.city = (char *)city;
    rp.name = "Project";
    rp.eu_objectives = &obj;
    rp.n_eu_objectives = 1;
    rp.total_cost = total_cost;
    rp.currency = (char *)currency;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REGISTER_PROJECT;
    b.register_project = &rp;
    return fx_submit(f, &b, fx_admin(f, city));
}

int bf_update_project(fx *f, const char *city, const char *id, uint64_t total_cost,
                      const char *reason) {
    esg_pb_update_project up = ESG_PB_UPDATE_PROJECT_INIT;
    up.id = (char *)id;
    up.total_cost = total_cost;
    up.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_UPDATE_PROJECT;
    b.update_project = &up;
    return fx_submit(f, &b, fx_admin(f, city));
}

int bf_allocate(fx *f, const char *city, const char *instrument, const char *project,
                uint64_t amount, const char *date) {
    esg_pb_allocate_proceeds ap = ESG_PB_ALLOCATE_PROCEEDS_INIT;
    ap.instrument = (char *)instrument;
    ap.project_id = (char *)project;
    ap.amount = amount;
    ap.date = (char *)date;
    ap.evidence_sha256 = esg_pb_bin(bf_h32, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
    b.allocate_proceeds = &ap;
    return fx_submit(f, &b, fx_admin(f, city));
}

int bf_reverse_allocation(fx *f, const char *city, const esg_hash *id, const char *reason) {
    esg_pb_reverse_allocation ra = ESG_PB_REVERSE_ALLOCATION_INIT;
    ra.allocation_id = esg_pb_bin(id->b, 32);
    ra.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVERSE_ALLOCATION;
    b.reverse_allocation = &ra;
    return fx_submit(f, &b, fx_admin(f, city));
}

int bf_fund(fx *f, const char *city, const char *project, int source, uint64_t amount,
            const char *date) {
    esg_pb_record_funding rf = ESG_PB_RECORD_FUNDING_INIT;
    rf.project = (char *)project;
    rf.source = source;
    rf.programme = "ERDF 2021-2027";
    rf.amount = amount;
    rf.date = (char *)date;
    rf.evidence_sha256 = esg_pb_bin(bf_h32, 32);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_RECORD_FUNDING;
    b.record_funding = &rf;
    return fx_submit(f, &b, fx_admin(f, city));
}

int bf_reverse_funding(fx *f, const char *city, const esg_hash *id, const char *reason) {
    esg_pb_reverse_funding rv = ESG_PB_REVERSE_FUNDING_INIT;
    rv.funding_id = esg_pb_bin(id->b, 32);
    rv.reason = (char *)reason;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVERSE_FUNDING;
    b.reverse_funding = &rv;
    return fx_submit(f, &b, fx_admin(f, city));
}

/* ------------------------------------------------------------- batches */

void bf_batch_init(bf_batch *b, fx *f) {
    b->f = f;
    b->n = 0;
}

esg_hash bf_batch_add(bf_batch *b, esg_pb_tx_body *body, const fx_key *k) {
    ck_assert_uint_lt(b->n, BF_BATCH_MAX);
    uint64_t nonce = fx_nonce(b->f, &k->pk) + 1;
    for (size_t i = 0; i < b->n; i++)
        if (b->signer[i] == k)
            nonce++;
    b->signer[b->n] = k;
    b->tx[b->n] = fx_sign(b->f, body, nonce, &k, 1);
    return b->tx[b->n++]->id;
}

void bf_batch_commit(bf_batch *b) {
    int *results = calloc(b->n ? b->n : 1, sizeof *results);
    ck_assert_ptr_nonnull(results);
    size_t included = fx_produce(b->f, b->tx, b->n, results);
    for (size_t i = 0; i < b->n; i++)
        ck_assert_msg(results[i] == 0, "batch tx %zu: %s", i, esg_err_name(results[i]));
    ck_assert_uint_eq(included, b->n);
    for (size_t i = 0; i < b->n; i++)
        esg_tx_free(b->tx[i]);
    free(results);
    b->n = 0;
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

int64_t bf_instrument_attributed(fx *f, const char *instrument, const char *kpi) {
    bf_view v = bf_view_open(f);
    int64_t value = 42;
    int rc = esg_impact_instrument_attributed(v.st, instrument, kpi, INT32_MIN, INT32_MAX,
                                              &value);
    bf_view_close(&v);
    ck_assert_msg(rc == 0, "attributed to '%s': %s", instrument, esg_err_name(rc));
    return value;
}
