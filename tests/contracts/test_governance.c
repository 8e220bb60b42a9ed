/* Governance contracts through the real executor on a real store: every
 * rule of contracts/governance.h, each rejection asserted by its code and
 * by the state it did not change. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/governance.h"
#include "fixture.h"
#include "ledger/error.h"
#include "ledger/executor.h"

#define HER "city-heraklion"
#define KAV "city-kavala"
#define THE "city-thessaloniki"
#define TRI "city-trikala"
#define VER "verifier-a"
#define AGENT "agent-x"

/* The test consortium: four cities, a verifier accredited for climate, a
 * paying agent; one validator operated by Heraklion. */
static fx *consortium(uint64_t ttl) {
    fx *f = fx_new();
    fx_add_member(f, HER, ESG_MEMBER_CITY, "Heraklion");
    fx_add_member(f, KAV, ESG_MEMBER_CITY, "Kavala");
    fx_add_member(f, THE, ESG_MEMBER_CITY, "Thessaloniki");
    fx_add_member(f, TRI, ESG_MEMBER_CITY, "Trikala");
    fx_add_member(f, VER, ESG_MEMBER_VERIFIER, "Verifier A");
    fx_add_member(f, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent X");
    ck_assert_int_eq(esg_genesis_add_accreditation(f->g, VER, "climate"), 0);
    if (ttl)
        f->g->params.proposal_ttl_blocks = ttl;
    fx_start(f);
    return f;
}

/* ------------------------------------------------------- tx builders */

static int propose(fx *f, const fx_key *k, esg_pb_proposal *p) {
    esg_pb_propose pr = ESG_PB_PROPOSE_INIT;
    pr.proposal = p;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_PROPOSE;
    b.propose = &pr;
    return fx_submit(f, &b, k);
}

static int prop_add_member(fx *f, const fx_key *k, const char *id, int kind,
                           const char *name, const char *country, const void *pk,
                           size_t pklen) {
    esg_pb_add_member am = ESG_PB_ADD_MEMBER_INIT;
    am.id = (char *)id;
    am.kind = kind;
    am.name = (char *)name;
    am.country = (char *)country;
    am.admin_pubkey = esg_pb_bin(pk, pklen);
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_ADD_MEMBER;
    p.add_member = &am;
    return propose(f, k, &p);
}

/* A city with an LEI and a population (either may be "" / 0: not given). */
static int prop_city_with(fx *f, const fx_key *k, const char *id, const char *lei,
                          uint64_t population, const esg_pubkey *pk) {
    esg_pb_add_member am = ESG_PB_ADD_MEMBER_INIT;
    am.id = (char *)id;
    am.kind = ESG_MEMBER_CITY;
    am.name = "New City";
    am.country = "GR";
    am.lei = (char *)lei;
    am.population = population;
    am.admin_pubkey = esg_pb_bin(pk->b, 32);
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_ADD_MEMBER;
    p.add_member = &am;
    return propose(f, k, &p);
}

static int prop_investor(fx *f, const fx_key *k, const char *id, const esg_pubkey *pk) {
    return prop_add_member(f, k, id, ESG_MEMBER_INVESTOR, "Green Fund", "LU", pk->b, 32);
}

static int prop_suspend(fx *f, const fx_key *k, const char *id, bool suspend) {
    esg_pb_suspend_member sm = ESG_PB_SUSPEND_MEMBER_INIT;
    esg_pb_reinstate_member rm = ESG_PB_REINSTATE_MEMBER_INIT;
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    if (suspend) {
        sm.id = (char *)id;
        p.change_case = ESG_PROPOSAL_SUSPEND_MEMBER;
        p.suspend_member = &sm;
    } else {
        rm.id = (char *)id;
        p.change_case = ESG_PROPOSAL_REINSTATE_MEMBER;
        p.reinstate_member = &rm;
    }
    return propose(f, k, &p);
}

static int prop_accredit(fx *f, const fx_key *k, bool revoke, const char *member,
                         const char **cats, size_t n) {
    esg_pb_accredit ac = ESG_PB_ACCREDIT_INIT;
    esg_pb_revoke_accreditation ra = ESG_PB_REVOKE_ACCREDITATION_INIT;
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    if (revoke) {
        ra.member = (char *)member;
        ra.categories = (char **)cats;
        ra.n_categories = n;
        p.change_case = ESG_PROPOSAL_REVOKE_ACCREDITATION;
        p.revoke_accreditation = &ra;
    } else {
        ac.member = (char *)member;
        ac.categories = (char **)cats;
        ac.n_categories = n;
        p.change_case = ESG_PROPOSAL_ACCREDIT;
        p.accredit = &ac;
    }
    return propose(f, k, &p);
}

static int prop_add_validator(fx *f, const fx_key *k, const void *pk, size_t pklen,
                              uint64_t power, const char *op) {
    esg_pb_add_validator av = ESG_PB_ADD_VALIDATOR_INIT;
    av.pubkey = esg_pb_bin(pk, pklen);
    av.power = power;
    av.operator_ = (char *)op;
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_ADD_VALIDATOR;
    p.add_validator = &av;
    return propose(f, k, &p);
}

static int prop_remove_validator(fx *f, const fx_key *k, const void *pk, size_t pklen) {
    esg_pb_remove_validator rv = ESG_PB_REMOVE_VALIDATOR_INIT;
    rv.pubkey = esg_pb_bin(pk, pklen);
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_REMOVE_VALIDATOR;
    p.remove_validator = &rv;
    return propose(f, k, &p);
}

static int prop_set_power(fx *f, const fx_key *k, const void *pk, size_t pklen,
                          uint64_t power) {
    esg_pb_set_validator_power sp = ESG_PB_SET_VALIDATOR_POWER_INIT;
    sp.pubkey = esg_pb_bin(pk, pklen);
    sp.power = power;
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_SET_VALIDATOR_POWER;
    p.set_validator_power = &sp;
    return propose(f, k, &p);
}

static int prop_set_param(fx *f, const fx_key *k, const char *name, uint64_t value) {
    esg_pb_set_param sp = ESG_PB_SET_PARAM_INIT;
    sp.name = (char *)name;
    sp.value = value;
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_SET_PARAM;
    p.set_param = &sp;
    return propose(f, k, &p);
}

static int prop_add_kpi(fx *f, const fx_key *k, const char *id, const char *name,
                        const char *unit, const char *cat, int dir) {
    esg_pb_kpi kpi = ESG_PB_KPI_INIT;
    kpi.id = (char *)id;
    kpi.name = (char *)name;
    kpi.unit = (char *)unit;
    kpi.category = (char *)cat;
    kpi.direction = dir;
    esg_pb_add_kpi ak = ESG_PB_ADD_KPI_INIT;
    ak.kpi = &kpi;
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_ADD_KPI;
    p.add_kpi = &ak;
    return propose(f, k, &p);
}

static int vote_raw(fx *f, const fx_key *k, const void *id, size_t idlen, bool approve) {
    esg_pb_vote v = ESG_PB_VOTE_INIT;
    v.proposal_id = esg_pb_bin(id, idlen);
    v.approve = approve;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_VOTE;
    b.vote = &v;
    return fx_submit(f, &b, k);
}

static int vote(fx *f, const char *city, const esg_hash *id, bool approve) {
    return vote_raw(f, fx_admin(f, city), id->b, 32, approve);
}

static int add_account(fx *f, const fx_key *k, const void *pk, size_t pklen,
                       const esg_pb_role *roles, size_t n) {
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    aa.pubkey = esg_pb_bin(pk, pklen);
    aa.roles = (esg_pb_role *)roles;
    aa.n_roles = n;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_ADD_ACCOUNT;
    b.add_account = &aa;
    return fx_submit(f, &b, k);
}

static const esg_pb_role R_ADMIN[] = {ESG_ROLE_ADMIN};
static const esg_pb_role R_OFFICER[] = {ESG_ROLE_OFFICER};
static const esg_pb_role R_BOTH[] = {ESG_ROLE_OFFICER, ESG_ROLE_ADMIN};

static int revoke_account(fx *f, const fx_key *k, const void *pk, size_t pklen) {
    esg_pb_revoke_account ra = ESG_PB_REVOKE_ACCOUNT_INIT;
    ra.pubkey = esg_pb_bin(pk, pklen);
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_REVOKE_ACCOUNT;
    b.revoke_account = &ra;
    return fx_submit(f, &b, k);
}

/* ---------------------------------------------------------- assertions */

/* Runs `call` (a submission signed by `k`) and asserts it was rejected
 * with `code`, leaving the chain where it was: no block, same app hash,
 * the signer's nonce not spent. */
#define REJECTS(f, k, code, call)                                                  \
    do {                                                                           \
        esg_hash h0_ = fx_app_hash(f);                                             \
        uint64_t height0_ = fx_height(f), nonce0_ = fx_nonce(f, &(k)->pk);          \
        int rc_ = (call);                                                          \
        ck_assert_msg(rc_ == (code), "line %d: got %s ('%s'), want %s", __LINE__,   \
                      esg_err_name(rc_), (f)->msg, esg_err_name(code));            \
        esg_hash h1_ = fx_app_hash(f);                                             \
        ck_assert_msg(esg_hash_eq(&h0_, &h1_), "line %d: state changed", __LINE__);  \
        ck_assert_uint_eq(fx_height(f), height0_);                                 \
        ck_assert_uint_eq(fx_nonce(f, &(k)->pk), nonce0_);                         \
    } while (0)

#define OK(f, call)                                                                \
    do {                                                                           \
        int rc_ = (call);                                                          \
        ck_assert_msg(rc_ == 0, "line %d: %s: %s", __LINE__, esg_err_name(rc_),     \
                      (f)->msg);                                                   \
    } while (0)

static void assert_msg_has(fx *f, const char *needle) {
    ck_assert_msg(strstr(f->msg, needle) != NULL, "message '%s' lacks '%s'", f->msg,
                  needle);
}

static int status_of(fx *f, const esg_hash *id) {
    esg_pb_proposal_record *r = fx_proposal(f, id);
    ck_assert_ptr_nonnull(r);
    int s = r->status;
    esg_pb_free(r);
    return s;
}

static bool expiry_row(fx *f, uint64_t height, const esg_hash *id) {
    uint8_t key[40];
    for (int i = 7; i >= 0; i--, height >>= 8)
        key[i] = (uint8_t)height;
    memcpy(key + 8, id->b, 32);
    return fx_has(f, ESG_T_PROPOSAL_EXPIRY, key, sizeof key);
}

/* Number of rows of the expiry index (all heights). */
static int count_row(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg) {
    (void)k; (void)kl; (void)v; (void)vl;
    ++*(size_t *)arg;
    return 0;
}

static size_t expiry_rows(fx *f) {
    MDB_txn *txn;
    esg_state *st;
    ck_assert_int_eq(esg_store_read_begin(f->store, &txn), 0);
    ck_assert_int_eq(esg_state_open(&st, f->store, txn, false), 0);
    size_t n = 0;
    ck_assert_int_eq(esg_state_iter(st, ESG_T_PROPOSAL_EXPIRY, NULL, 0, count_row, &n), 0);
    esg_state_free(st);
    esg_store_read_end(txn);
    return n;
}

static bool member_link(fx *f, const char *member, const esg_pubkey *pk) {
    uint8_t key[64 + 32];
    size_t n = strlen(member);
    memcpy(key, member, n);
    key[n] = 0;
    memcpy(key + n + 1, pk->b, 32);
    return fx_has(f, ESG_T_MEMBER_ACCOUNTS, key, n + 33);
}

/* Proposes with `proposer` and has the listed cities approve until it is
 * decided; returns the proposal id. */
static esg_hash pass(fx *f, int (*prop)(fx *, const fx_key *, void *), void *arg) {
    OK(f, prop(f, fx_admin(f, HER), arg));
    esg_hash id = f->last_id;
    OK(f, vote(f, KAV, &id, true));
    OK(f, vote(f, THE, &id, true));
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_EXECUTED);
    return id;
}

/* ---------------------------------------------------------------- tests */

START_TEST(test_admit_investor) {
    fx *f = consortium(0);
    fx_key inv = fx_key_new();
    uint64_t h = fx_height(f);

    OK(f, prop_investor(f, fx_admin(f, HER), "investor-green", &inv.pk));
    esg_hash id = f->last_id;
    ck_assert_uint_eq(fx_height(f), h + 1);
    esg_pb_proposal_record *r = fx_proposal(f, &id);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->status, ESG_PROPOSAL_STATUS_OPEN);
    ck_assert_str_eq(r->proposer, HER);
    ck_assert_uint_eq(r->created_height, h + 1);
    ck_assert_uint_eq(r->expires_height, h + 1 + ESG_DEFAULT_PROPOSAL_TTL_BLOCKS);
    ck_assert_uint_eq(r->n_approvals, 1);
    ck_assert_str_eq(r->approvals[0], HER);
    ck_assert_uint_eq(r->id.len, 32);
    ck_assert_mem_eq(r->id.data, id.b, 32);
    ck_assert_int_eq(r->proposal->change_case, ESG_PROPOSAL_ADD_MEMBER);
    ck_assert(expiry_row(f, r->expires_height, &id));
    uint64_t expires = r->expires_height;
    esg_pb_free(r);

    /* Second approval: 2 of 4 is not > 2/3. */
    OK(f, vote(f, KAV, &id, true));
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_OPEN);
    ck_assert_ptr_null(fx_member(f, "investor-green"));
    ck_assert_ptr_null(fx_account(f, &inv.pk));

    /* Third: executed in this very block. */
    OK(f, vote(f, THE, &id, true));
    uint64_t hx = fx_height(f);
    r = fx_proposal(f, &id);
    ck_assert_int_eq(r->status, ESG_PROPOSAL_STATUS_EXECUTED);
    ck_assert_uint_eq(r->decided_height, hx);
    ck_assert_uint_eq(r->n_approvals, 3);
    ck_assert_str_eq(r->approvals[1], KAV);
    ck_assert_str_eq(r->approvals[2], THE);
    ck_assert_str_eq(r->failure, "");
    esg_pb_free(r);
    ck_assert(!expiry_row(f, expires, &id));
    ck_assert_uint_eq(expiry_rows(f), 0);

    esg_pb_member *m = fx_member(f, "investor-green");
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->kind, ESG_MEMBER_INVESTOR);
    ck_assert_str_eq(m->name, "Green Fund");
    ck_assert_str_eq(m->country, "LU");
    ck_assert(!m->suspended);
    ck_assert_uint_eq(m->admitted_height, hx);
    esg_pb_free(m);
    esg_pb_account *a = fx_account(f, &inv.pk);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->member, "investor-green");
    ck_assert_uint_eq(a->n_roles, 2);
    ck_assert_int_eq(a->roles[0], ESG_ROLE_ADMIN);
    ck_assert_int_eq(a->roles[1], ESG_ROLE_OFFICER);
    ck_assert_uint_eq(a->nonce, 0);
    ck_assert(!a->revoked);
    esg_pb_free(a);
    ck_assert(member_link(f, "investor-green", &inv.pk));

    /* The fourth city can no longer vote on it. */
    REJECTS(f, fx_admin(f, TRI), ESG_ERR_PROPOSAL_CLOSED, vote(f, TRI, &id, true));
    assert_msg_has(f, "executed");

    /* The new admin adds an officer; the officer signs, but is no ADMIN. */
    fx_key off = fx_key_new(), other = fx_key_new();
    OK(f, add_account(f, &inv, off.pk.b, 32, R_OFFICER, 1));
    ck_assert_uint_eq(fx_nonce(f, &inv.pk), 1);
    a = fx_account(f, &off.pk);
    ck_assert_ptr_nonnull(a);
    ck_assert_str_eq(a->member, "investor-green");
    ck_assert_uint_eq(a->n_roles, 1);
    ck_assert_int_eq(a->roles[0], ESG_ROLE_OFFICER);
    esg_pb_free(a);
    ck_assert(member_link(f, "investor-green", &off.pk));
    REJECTS(f, &off, ESG_ERR_UNAUTHORIZED, add_account(f, &off, other.pk.b, 32, R_OFFICER, 1));
    assert_msg_has(f, "lacks role ADMIN");
    /* An investor's admin is not a city: it cannot propose or vote. */
    REJECTS(f, &inv, ESG_ERR_UNAUTHORIZED,
            prop_investor(f, &inv, "investor-blue", &other.pk));
    assert_msg_has(f, "not a CITY");
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

/* An admitted member carries the proposal's LEI and population into its
 * record; one without them has "" and 0. A bad LEI or population is
 * refused when proposed, with nothing written. */
START_TEST(test_admit_with_lei_and_population) {
    fx *f = consortium(0);
    const fx_key *her = fx_admin(f, HER);
    fx_key a = fx_key_new(), b = fx_key_new();
    OK(f, prop_city_with(f, her, "city-chania", "5493001KJTIIGC8Y1R12", 108642, &a.pk));
    esg_hash id = f->last_id;
    OK(f, vote(f, KAV, &id, true));
    OK(f, vote(f, THE, &id, true));
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_EXECUTED);
    esg_pb_member *m = fx_member(f, "city-chania");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->lei, "5493001KJTIIGC8Y1R12");
    ck_assert_uint_eq(m->population, 108642);
    esg_pb_free(m);
    /* The bounds themselves are accepted. */
    OK(f, prop_city_with(f, her, "city-big", "", ESG_MAX_POPULATION, &b.pk));
    id = f->last_id;
    OK(f, vote(f, KAV, &id, true));
    OK(f, vote(f, THE, &id, true));
    OK(f, vote(f, TRI, &id, true)); /* five cities now: 4 of 5 */
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_EXECUTED);
    m = fx_member(f, "city-big");
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->lei, "");
    ck_assert_uint_eq(m->population, ESG_MAX_POPULATION);
    esg_pb_free(m);
    m = fx_member(f, HER); /* a genesis member without them */
    ck_assert_str_eq(m->lei, "");
    ck_assert_uint_eq(m->population, 0);
    esg_pb_free(m);

    fx_key c = fx_key_new();
    REJECTS(f, her, ESG_ERR_BAD_LEI,
            prop_city_with(f, her, "city-x", "5493001KJTIIGC8Y1R13", 0, &c.pk));
    assert_msg_has(f, "lei '5493001KJTIIGC8Y1R13' of 'city-x' is not an ISO 17442");
    REJECTS(f, her, ESG_ERR_BAD_LEI,
            prop_city_with(f, her, "city-x", "5493001kjtiigc8y1r12", 0, &c.pk));
    REJECTS(f, her, ESG_ERR_BAD_LEI,
            prop_city_with(f, her, "city-x", "5493001KJTIIGC8Y1R1", 0, &c.pk));
    REJECTS(f, her, ESG_ERR_BAD_POPULATION,
            prop_city_with(f, her, "city-x", "", ESG_MAX_POPULATION + 1, &c.pk));
    assert_msg_has(f, "population 10000000001 of 'city-x' is outside 1..10000000000");
    REJECTS(f, her, ESG_ERR_BAD_POPULATION,
            prop_city_with(f, her, "city-x", "", UINT64_MAX, &c.pk));
    ck_assert_ptr_null(fx_member(f, "city-x"));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_propose_rejections) {
    fx *f = consortium(0);
    const fx_key *her = fx_admin(f, HER);
    fx_key k = fx_key_new(), k2 = fx_key_new();
    esg_pb_validator_set *vs = fx_valset_at(f, 1);
    ck_assert_uint_eq(vs->n_validators, 1);
    esg_pubkey v0;
    memcpy(v0.b, vs->validators[0]->pubkey.data, 32);
    esg_pb_free(vs);
    uint8_t bad_pk[32];
    memset(bad_pk, 0xff, sizeof bad_pk); /* x >= p: not on the curve */

    /* Who may propose. */
    fx_key officer = fx_key_new();
    OK(f, add_account(f, her, officer.pk.b, 32, R_OFFICER, 1));
    REJECTS(f, &officer, ESG_ERR_UNAUTHORIZED, prop_investor(f, &officer, "inv-a", &k.pk));
    assert_msg_has(f, "lacks role ADMIN");
    REJECTS(f, fx_admin(f, VER), ESG_ERR_UNAUTHORIZED,
            prop_investor(f, fx_admin(f, VER), "inv-a", &k.pk));
    assert_msg_has(f, "is a VERIFIER, not a CITY");

    /* The proposal itself. */
    esg_pb_proposal empty = ESG_PB_PROPOSAL_INIT;
    REJECTS(f, her, ESG_ERR_BAD_PROPOSAL, propose(f, her, &empty));
    {
        esg_pb_set_param sp = ESG_PB_SET_PARAM_INIT;
        sp.name = "proposal_ttl_blocks";
        sp.value = 5;
        esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
        p.change_case = ESG_PROPOSAL_SET_PARAM;
        p.set_param = &sp;
        char desc[1002];
        memset(desc, 'd', 1001);
        desc[1001] = '\0';
        p.description = desc;
        REJECTS(f, her, ESG_ERR_BAD_PROPOSAL, propose(f, her, &p));
        assert_msg_has(f, "description");
        desc[1000] = '\0'; /* exactly 1000 bytes is fine */
        OK(f, propose(f, her, &p));
    }

    /* AddMember. */
    REJECTS(f, her, ESG_ERR_BAD_MEMBER_ID,
            prop_add_member(f, her, "Inv-A", ESG_MEMBER_INVESTOR, "A", "", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_MEMBER_ID,
            prop_add_member(f, her, "x", ESG_MEMBER_INVESTOR, "A", "", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_MEMBER_ID,
            prop_add_member(f, her, "a23456789012345678901234567890123456789012",
                            ESG_MEMBER_INVESTOR, "A", "", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_MEMBER_EXISTS,
            prop_add_member(f, her, KAV, ESG_MEMBER_CITY, "Kavala", "GR", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_MEMBER_KIND,
            prop_add_member(f, her, "inv-a", 0, "A", "", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_MEMBER_KIND,
            prop_add_member(f, her, "inv-a", 6, "A", "", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_NAME,
            prop_add_member(f, her, "inv-a", ESG_MEMBER_INVESTOR, "", "", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_NAME,
            prop_add_member(f, her, "inv-a", ESG_MEMBER_INVESTOR, "bad\tname", "", k.pk.b, 32));
    {
        char longname[202];
        memset(longname, 'n', 201);
        longname[201] = '\0';
        REJECTS(f, her, ESG_ERR_BAD_NAME,
                prop_add_member(f, her, "inv-a", ESG_MEMBER_INVESTOR, longname, "", k.pk.b, 32));
    }
    REJECTS(f, her, ESG_ERR_BAD_COUNTRY,
            prop_add_member(f, her, "inv-a", ESG_MEMBER_INVESTOR, "A", "gr", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_COUNTRY,
            prop_add_member(f, her, "inv-a", ESG_MEMBER_INVESTOR, "A", "GRC", k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_PUBKEY,
            prop_add_member(f, her, "inv-a", ESG_MEMBER_INVESTOR, "A", "", k.pk.b, 31));
    REJECTS(f, her, ESG_ERR_BAD_PUBKEY,
            prop_add_member(f, her, "inv-a", ESG_MEMBER_INVESTOR, "A", "", bad_pk, 32));
    REJECTS(f, her, ESG_ERR_ACCOUNT_EXISTS,
            prop_add_member(f, her, "inv-a", ESG_MEMBER_INVESTOR, "A", "",
                            fx_admin(f, KAV)->pk.b, 32));

    /* Suspend / reinstate. */
    REJECTS(f, her, ESG_ERR_UNKNOWN_MEMBER, prop_suspend(f, her, "nobody", true));
    REJECTS(f, her, ESG_ERR_BAD_MEMBER_ID, prop_suspend(f, her, "NOBODY", true));
    REJECTS(f, her, ESG_ERR_UNKNOWN_MEMBER, prop_suspend(f, her, "nobody", false));
    REJECTS(f, her, ESG_ERR_BAD_PROPOSAL, prop_suspend(f, her, AGENT, false));
    assert_msg_has(f, "is not suspended");

    /* Accreditation. */
    const char *climate[] = {"climate"}, *water[] = {"water"}, *none[] = {NULL};
    const char *bogus[] = {"energy", "nuclear"}, *twice[] = {"energy", "energy"};
    REJECTS(f, her, ESG_ERR_UNKNOWN_MEMBER, prop_accredit(f, her, false, "nobody", climate, 1));
    REJECTS(f, her, ESG_ERR_NOT_VERIFIER, prop_accredit(f, her, false, AGENT, climate, 1));
    REJECTS(f, her, ESG_ERR_NOT_VERIFIER, prop_accredit(f, her, true, KAV, climate, 1));
    REJECTS(f, her, ESG_ERR_BAD_CATEGORY, prop_accredit(f, her, false, VER, none, 0));
    REJECTS(f, her, ESG_ERR_BAD_CATEGORY, prop_accredit(f, her, false, VER, bogus, 2));
    assert_msg_has(f, "nuclear");
    REJECTS(f, her, ESG_ERR_BAD_CATEGORY, prop_accredit(f, her, false, VER, twice, 2));
    REJECTS(f, her, ESG_ERR_BAD_CATEGORY, prop_accredit(f, her, true, VER, none, 0));
    REJECTS(f, her, ESG_ERR_NOT_ACCREDITED, prop_accredit(f, her, true, VER, water, 1));

    /* Validators. */
    uint8_t long_pk[33] = {0};
    memcpy(long_pk, k.pk.b, 32);
    REJECTS(f, her, ESG_ERR_BAD_PUBKEY, prop_add_validator(f, her, long_pk, 33, 1, KAV));
    REJECTS(f, her, ESG_ERR_BAD_PUBKEY, prop_add_validator(f, her, bad_pk, 32, 1, KAV));
    REJECTS(f, her, ESG_ERR_VALIDATOR_EXISTS, prop_add_validator(f, her, v0.b, 32, 1, KAV));
    REJECTS(f, her, ESG_ERR_BAD_POWER, prop_add_validator(f, her, k.pk.b, 32, 0, KAV));
    REJECTS(f, her, ESG_ERR_BAD_POWER,
            prop_add_validator(f, her, k.pk.b, 32, (UINT64_C(1) << 60) + 1, KAV));
    /* 2^60 itself is in range, but the total would pass 2^60. */
    REJECTS(f, her, ESG_ERR_BAD_POWER,
            prop_add_validator(f, her, k.pk.b, 32, UINT64_C(1) << 60, KAV));
    assert_msg_has(f, "total");
    REJECTS(f, her, ESG_ERR_UNKNOWN_MEMBER, prop_add_validator(f, her, k.pk.b, 32, 1, "nobody"));
    REJECTS(f, her, ESG_ERR_BAD_MEMBER_ID, prop_add_validator(f, her, k.pk.b, 32, 1, ""));
    REJECTS(f, her, ESG_ERR_UNKNOWN_VALIDATOR, prop_remove_validator(f, her, k.pk.b, 32));
    REJECTS(f, her, ESG_ERR_BAD_PUBKEY, prop_remove_validator(f, her, k.pk.b, 0));
    REJECTS(f, her, ESG_ERR_LAST_VALIDATOR, prop_remove_validator(f, her, v0.b, 32));
    REJECTS(f, her, ESG_ERR_UNKNOWN_VALIDATOR, prop_set_power(f, her, k.pk.b, 32, 5));
    REJECTS(f, her, ESG_ERR_BAD_POWER, prop_set_power(f, her, v0.b, 32, 0));
    REJECTS(f, her, ESG_ERR_BAD_POWER,
            prop_set_power(f, her, v0.b, 32, (UINT64_C(1) << 60) + 1));

    /* Parameters. */
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "block_time", 5));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "", 5));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "governance_threshold_bps", 5000));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "governance_threshold_bps", 10001));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "proposal_ttl_blocks", 0));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "proposal_ttl_blocks", 10000001));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "max_block_txs", 0));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "max_block_txs", 100001));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "max_block_bytes", 2097151));
    REJECTS(f, her, ESG_ERR_BAD_PARAM, prop_set_param(f, her, "max_block_bytes", 67108865));

    /* KPIs. */
    REJECTS(f, her, ESG_ERR_BAD_KPI, prop_add_kpi(f, her, "X", "n", "t", "climate", 1));
    REJECTS(f, her, ESG_ERR_BAD_KPI, prop_add_kpi(f, her, "trees_planted", "", "t", "climate", 1));
    REJECTS(f, her, ESG_ERR_BAD_KPI, prop_add_kpi(f, her, "trees_planted", "Trees", "", "climate", 1));
    REJECTS(f, her, ESG_ERR_BAD_KPI,
            prop_add_kpi(f, her, "trees_planted", "Trees", "123456789012345678901234567890123",
                         "climate", 1));
    REJECTS(f, her, ESG_ERR_BAD_KPI, prop_add_kpi(f, her, "trees_planted", "Trees", "trees", "forest", 1));
    REJECTS(f, her, ESG_ERR_BAD_KPI, prop_add_kpi(f, her, "trees_planted", "Trees", "trees", "climate", 0));
    REJECTS(f, her, ESG_ERR_BAD_KPI, prop_add_kpi(f, her, "trees_planted", "Trees", "trees", "climate", 3));
    REJECTS(f, her, ESG_ERR_KPI_EXISTS,
            prop_add_kpi(f, her, "ghg_avoided_tco2e", "GHG", "tCO2e", "climate", 1));

    /* Nothing above spent a nonce: the next nonce is still the one the
     * rejected transactions used, and it works. */
    uint64_t n = fx_nonce(f, &her->pk);
    esg_pb_add_member am = ESG_PB_ADD_MEMBER_INIT;
    am.id = "inv-a";
    am.kind = ESG_MEMBER_INVESTOR;
    am.name = "A";
    am.admin_pubkey = esg_pb_bin(k2.pk.b, 32);
    esg_pb_proposal p = ESG_PB_PROPOSAL_INIT;
    p.change_case = ESG_PROPOSAL_ADD_MEMBER;
    p.add_member = &am;
    esg_pb_propose pr = ESG_PB_PROPOSE_INIT;
    pr.proposal = &p;
    esg_pb_tx_body b = ESG_PB_TX_BODY_INIT;
    b.action_case = ESG_ACTION_PROPOSE;
    b.propose = &pr;
    OK(f, fx_submit_nonce(f, &b, n + 1, her));
    ck_assert_uint_eq(fx_nonce(f, &her->pk), n + 1);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_vote_rejections) {
    fx *f = consortium(0);
    fx_key k = fx_key_new();
    OK(f, prop_investor(f, fx_admin(f, HER), "inv-a", &k.pk));
    esg_hash id = f->last_id;

    fx_key officer = fx_key_new();
    OK(f, add_account(f, fx_admin(f, KAV), officer.pk.b, 32, R_OFFICER, 1));
    REJECTS(f, &officer, ESG_ERR_UNAUTHORIZED, vote_raw(f, &officer, id.b, 32, true));
    REJECTS(f, fx_admin(f, AGENT), ESG_ERR_UNAUTHORIZED, vote(f, AGENT, &id, true));
    assert_msg_has(f, "not a CITY");
    esg_hash unknown = id;
    unknown.b[0] ^= 1;
    REJECTS(f, fx_admin(f, KAV), ESG_ERR_UNKNOWN_PROPOSAL, vote(f, KAV, &unknown, true));
    REJECTS(f, fx_admin(f, KAV), ESG_ERR_UNKNOWN_PROPOSAL,
            vote_raw(f, fx_admin(f, KAV), id.b, 31, true));
    /* Proposing was Heraklion's approval. */
    REJECTS(f, fx_admin(f, HER), ESG_ERR_ALREADY_VOTED, vote(f, HER, &id, false));
    OK(f, vote(f, KAV, &id, false));
    REJECTS(f, fx_admin(f, KAV), ESG_ERR_ALREADY_VOTED, vote(f, KAV, &id, true));
    REJECTS(f, fx_admin(f, KAV), ESG_ERR_ALREADY_VOTED, vote(f, KAV, &id, false));

    esg_pb_proposal_record *r = fx_proposal(f, &id);
    ck_assert_int_eq(r->status, ESG_PROPOSAL_STATUS_OPEN);
    ck_assert_uint_eq(r->n_approvals, 1);
    ck_assert_uint_eq(r->n_rejections, 1);
    ck_assert_str_eq(r->rejections[0], KAV);
    esg_pb_free(r);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_rejected_by_two_of_four) {
    fx *f = consortium(0);
    fx_key k = fx_key_new();
    OK(f, prop_investor(f, fx_admin(f, HER), "inv-a", &k.pk));
    esg_hash id = f->last_id;
    OK(f, vote(f, KAV, &id, false));
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_OPEN);
    ck_assert_uint_eq(expiry_rows(f), 1);
    /* With two of four against, three approvals can no longer happen. */
    OK(f, vote(f, THE, &id, false));
    esg_pb_proposal_record *r = fx_proposal(f, &id);
    ck_assert_int_eq(r->status, ESG_PROPOSAL_STATUS_REJECTED);
    ck_assert_uint_eq(r->decided_height, fx_height(f));
    ck_assert_uint_eq(r->n_rejections, 2);
    esg_pb_free(r);
    ck_assert_uint_eq(expiry_rows(f), 0);
    ck_assert_ptr_null(fx_member(f, "inv-a"));
    REJECTS(f, fx_admin(f, TRI), ESG_ERR_PROPOSAL_CLOSED, vote(f, TRI, &id, true));
    assert_msg_has(f, "rejected");
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_expiry) {
    fx *f = consortium(3);
    fx_key k = fx_key_new();
    OK(f, prop_investor(f, fx_admin(f, HER), "inv-a", &k.pk));
    esg_hash id = f->last_id;
    uint64_t h = fx_height(f);
    esg_pb_proposal_record *r = fx_proposal(f, &id);
    ck_assert_uint_eq(r->expires_height, h + 3);
    esg_pb_free(r);
    ck_assert(expiry_row(f, h + 3, &id));

    fx_empty_block(f);
    fx_empty_block(f);
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_OPEN);
    /* A vote in the last block is counted; the block then ends it. */
    OK(f, vote(f, KAV, &id, true));
    ck_assert_uint_eq(fx_height(f), h + 3);
    r = fx_proposal(f, &id);
    ck_assert_int_eq(r->status, ESG_PROPOSAL_STATUS_EXPIRED);
    ck_assert_uint_eq(r->decided_height, h + 3);
    ck_assert_uint_eq(r->n_approvals, 2);
    esg_pb_free(r);
    ck_assert(!expiry_row(f, h + 3, &id));
    ck_assert_uint_eq(expiry_rows(f), 0);
    REJECTS(f, fx_admin(f, THE), ESG_ERR_PROPOSAL_CLOSED, vote(f, THE, &id, true));
    assert_msg_has(f, "expired");
    ck_assert_ptr_null(fx_member(f, "inv-a"));

    /* An expiring proposal among others: only it is touched. */
    OK(f, prop_investor(f, fx_admin(f, HER), "inv-b", &k.pk));
    esg_hash id2 = f->last_id;
    fx_empty_block(f);
    OK(f, prop_suspend(f, fx_admin(f, HER), AGENT, true));
    esg_hash id3 = f->last_id;
    fx_empty_block(f);
    ck_assert_int_eq(status_of(f, &id2), ESG_PROPOSAL_STATUS_EXPIRED);
    ck_assert_int_eq(status_of(f, &id3), ESG_PROPOSAL_STATUS_OPEN);
    ck_assert_uint_eq(expiry_rows(f), 1);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_failed_execution) {
    fx *f = consortium(0);
    fx_key k1 = fx_key_new(), k2 = fx_key_new();
    /* Two proposals to admit the same id, both valid when proposed. */
    OK(f, prop_investor(f, fx_admin(f, HER), "inv-a", &k1.pk));
    esg_hash p1 = f->last_id;
    OK(f, prop_investor(f, fx_admin(f, KAV), "inv-a", &k2.pk));
    esg_hash p2 = f->last_id;
    OK(f, vote(f, KAV, &p1, true));
    OK(f, vote(f, THE, &p1, true));
    ck_assert_int_eq(status_of(f, &p1), ESG_PROPOSAL_STATUS_EXECUTED);
    OK(f, vote(f, HER, &p2, true));
    /* The approval that reaches the threshold still succeeds (and spends
     * its nonce); the proposal records why it could not execute. */
    uint64_t n = fx_nonce(f, &fx_admin(f, THE)->pk);
    OK(f, vote(f, THE, &p2, true));
    ck_assert_uint_eq(fx_nonce(f, &fx_admin(f, THE)->pk), n + 1);
    esg_pb_proposal_record *r = fx_proposal(f, &p2);
    ck_assert_int_eq(r->status, ESG_PROPOSAL_STATUS_FAILED);
    ck_assert_str_eq(r->failure, "ERR_MEMBER_EXISTS");
    ck_assert_uint_eq(r->decided_height, fx_height(f));
    esg_pb_free(r);
    ck_assert_uint_eq(expiry_rows(f), 0);
    esg_pb_account *a = fx_account(f, &k1.pk);
    ck_assert_ptr_nonnull(a);
    esg_pb_free(a);
    ck_assert_ptr_null(fx_account(f, &k2.pk));
    REJECTS(f, fx_admin(f, TRI), ESG_ERR_PROPOSAL_CLOSED, vote(f, TRI, &p2, true));
    assert_msg_has(f, "failed");
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

static int do_accredit(fx *f, const fx_key *k, void *arg) {
    const char **cats = arg;
    size_t n = 0;
    while (cats[n])
        n++;
    return prop_accredit(f, k, false, VER, cats, n);
}

static int do_revoke_accreditation(fx *f, const fx_key *k, void *arg) {
    const char **cats = arg;
    size_t n = 0;
    while (cats[n])
        n++;
    return prop_accredit(f, k, true, VER, cats, n);
}

static void assert_categories(fx *f, const char *const *want, size_t n) {
    esg_pb_member *m = fx_member(f, VER);
    ck_assert_uint_eq(m->n_accredited_categories, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(m->accredited_categories[i], want[i]);
    esg_pb_free(m);
}

START_TEST(test_accreditation) {
    fx *f = consortium(0);
    const char *genesis[] = {"climate"};
    assert_categories(f, genesis, 1);
    const char *add[] = {"water", "energy", NULL};
    pass(f, do_accredit, add);
    const char *three[] = {"climate", "energy", "water"};
    assert_categories(f, three, 3);
    /* Accrediting a held category again changes nothing else. */
    const char *again[] = {"climate", "buildings", NULL};
    pass(f, do_accredit, again);
    const char *four[] = {"buildings", "climate", "energy", "water"};
    assert_categories(f, four, 4);
    const char *revoke[] = {"climate", "water", NULL};
    pass(f, do_revoke_accreditation, revoke);
    const char *two[] = {"buildings", "energy"};
    assert_categories(f, two, 2);
    const char *gone[] = {"climate"};
    REJECTS(f, fx_admin(f, HER), ESG_ERR_NOT_ACCREDITED,
            prop_accredit(f, fx_admin(f, HER), true, VER, gone, 1));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

static int do_add_validator(fx *f, const fx_key *k, void *arg) {
    /* Power 1 of 11: the fixture's validator alone still commits (> 2/3). */
    return prop_add_validator(f, k, ((const esg_pubkey *)arg)->b, 32, 1, KAV);
}

static int do_remove_validator(fx *f, const fx_key *k, void *arg) {
    return prop_remove_validator(f, k, ((const esg_pubkey *)arg)->b, 32);
}

static int do_set_power(fx *f, const fx_key *k, void *arg) {
    return prop_set_power(f, k, ((const esg_pubkey *)arg)->b, 32, 2);
}

START_TEST(test_validators) {
    fx *f = consortium(0);
    fx_key v2 = fx_key_new();
    pass(f, do_add_validator, &v2.pk);
    uint64_t h = fx_height(f);
    esg_pb_validator *v = fx_get(f, ESG_T_VALIDATORS, v2.pk.b, 32, ESG_PB_VALIDATOR_DESC);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(v->power, 1);
    ck_assert_str_eq(v->operator_, KAV);
    esg_pb_free(v);
    /* Decided in block h: in force from h + 2, not at h + 1. */
    esg_pb_validator_set *vs = fx_valset_at(f, h + 1);
    ck_assert_uint_eq(vs->n_validators, 1);
    esg_pb_free(vs);
    vs = fx_valset_at(f, h + 2);
    ck_assert_uint_eq(vs->n_validators, 2);
    esg_pb_free(vs);
    REJECTS(f, fx_admin(f, HER), ESG_ERR_VALIDATOR_EXISTS,
            prop_add_validator(f, fx_admin(f, HER), v2.pk.b, 32, 1, THE));

    pass(f, do_set_power, &v2.pk);
    h = fx_height(f);
    v = fx_get(f, ESG_T_VALIDATORS, v2.pk.b, 32, ESG_PB_VALIDATOR_DESC);
    ck_assert_uint_eq(v->power, 2);
    esg_pb_free(v);
    vs = fx_valset_at(f, h + 2);
    ck_assert_uint_eq(vs->n_validators, 2);
    int i = memcmp(vs->validators[0]->pubkey.data, v2.pk.b, 32) == 0 ? 0 : 1;
    ck_assert_uint_eq(vs->validators[i]->power, 2);
    esg_pb_free(vs);

    pass(f, do_remove_validator, &v2.pk);
    h = fx_height(f);
    ck_assert(!fx_has(f, ESG_T_VALIDATORS, v2.pk.b, 32));
    vs = fx_valset_at(f, h + 1);
    ck_assert_uint_eq(vs->n_validators, 2);
    esg_pb_free(vs);
    vs = fx_valset_at(f, h + 2);
    ck_assert_uint_eq(vs->n_validators, 1);
    ck_assert_mem_eq(vs->validators[0]->pubkey.data, f->validator.pk.b, 32);
    esg_pb_free(vs);
    /* The chain goes on past the change, and an auditor's replay checks
     * every block against the set in force at its height. */
    fx_empty_block(f);
    fx_empty_block(f);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

typedef struct param_kv {
    const char *name;
    uint64_t value;
} param_kv;

static int do_set_param(fx *f, const fx_key *k, void *arg) {
    const param_kv *p = arg;
    return prop_set_param(f, k, p->name, p->value);
}

START_TEST(test_set_param) {
    fx *f = consortium(0);
    param_kv ttl = {"proposal_ttl_blocks", 20},
        txs = {"max_block_txs", 500}, bytes = {"max_block_bytes", 4 << 20},
        thr = {"governance_threshold_bps", 10000};
    pass(f, do_set_param, &ttl);
    pass(f, do_set_param, &txs);
    pass(f, do_set_param, &bytes);
    esg_pb_params *p = fx_params(f);
    ck_assert_uint_eq(p->proposal_ttl_blocks, 20);
    ck_assert_uint_eq(p->max_block_txs, 500);
    ck_assert_uint_eq(p->max_block_bytes, 4 << 20);
    ck_assert_uint_eq(p->governance_threshold_bps, ESG_DEFAULT_GOVERNANCE_THRESHOLD_BPS);
    esg_pb_free(p);

    /* New proposals expire after the new ttl. */
    fx_key k = fx_key_new();
    OK(f, prop_investor(f, fx_admin(f, HER), "inv-a", &k.pk));
    esg_hash id = f->last_id;
    esg_pb_proposal_record *r = fx_proposal(f, &id);
    ck_assert_uint_eq(r->expires_height, fx_height(f) + 20);
    esg_pb_free(r);

    /* Unanimity: three of four is no longer enough. */
    pass(f, do_set_param, &thr);
    p = fx_params(f);
    ck_assert_uint_eq(p->governance_threshold_bps, 10000);
    esg_pb_free(p);
    OK(f, vote(f, KAV, &id, true));
    OK(f, vote(f, THE, &id, true));
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_OPEN);
    OK(f, vote(f, TRI, &id, true));
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_EXECUTED);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

static int do_add_kpi(fx *f, const fx_key *k, void *arg) {
    (void)arg;
    return prop_add_kpi(f, k, "trees_planted", "Trees planted", "trees", "climate",
                        ESG_KPI_DIRECTION_HIGHER);
}

START_TEST(test_add_kpi) {
    fx *f = consortium(0);
    ck_assert(!fx_has(f, ESG_T_KPIS, "trees_planted", 13));
    pass(f, do_add_kpi, NULL);
    esg_pb_kpi *k = fx_get(f, ESG_T_KPIS, "trees_planted", 13, ESG_PB_KPI_DESC);
    ck_assert_ptr_nonnull(k);
    ck_assert_str_eq(k->name, "Trees planted");
    ck_assert_str_eq(k->unit, "trees");
    ck_assert_str_eq(k->category, "climate");
    ck_assert_int_eq(k->direction, ESG_KPI_DIRECTION_HIGHER);
    esg_pb_free(k);
    REJECTS(f, fx_admin(f, HER), ESG_ERR_KPI_EXISTS, do_add_kpi(f, fx_admin(f, HER), NULL));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

static int do_suspend(fx *f, const fx_key *k, void *arg) {
    return prop_suspend(f, k, arg, true);
}

static int do_reinstate(fx *f, const fx_key *k, void *arg) {
    return prop_suspend(f, k, arg, false);
}

START_TEST(test_suspend_and_reinstate) {
    fx *f = consortium(0);
    const fx_key *agent = fx_admin(f, AGENT);
    fx_key k = fx_key_new();
    pass(f, do_suspend, AGENT);
    esg_pb_member *m = fx_member(f, AGENT);
    ck_assert(m->suspended);
    esg_pb_free(m);
    REJECTS(f, agent, ESG_ERR_MEMBER_SUSPENDED, add_account(f, agent, k.pk.b, 32, R_OFFICER, 1));
    REJECTS(f, fx_admin(f, HER), ESG_ERR_BAD_PROPOSAL,
            prop_suspend(f, fx_admin(f, HER), AGENT, true));
    assert_msg_has(f, "already suspended");
    pass(f, do_reinstate, AGENT);
    OK(f, add_account(f, agent, k.pk.b, 32, R_OFFICER, 1));

    /* A suspended city neither votes nor counts: 2 of the 3 active cities
     * is not > 2/3, 3 of 3 is. */
    pass(f, do_suspend, TRI);
    fx_key k2 = fx_key_new();
    OK(f, prop_investor(f, fx_admin(f, HER), "inv-a", &k2.pk));
    esg_hash id = f->last_id;
    REJECTS(f, fx_admin(f, TRI), ESG_ERR_MEMBER_SUSPENDED, vote(f, TRI, &id, true));
    OK(f, vote(f, KAV, &id, true));
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_OPEN);
    OK(f, vote(f, THE, &id, true));
    ck_assert_int_eq(status_of(f, &id), ESG_PROPOSAL_STATUS_EXECUTED);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_one_city) {
    fx *f = fx_new();
    const fx_key *city = fx_add_member(f, "city-solo", ESG_MEMBER_CITY, "Solo");
    fx_add_member(f, AGENT, ESG_MEMBER_PAYING_AGENT, "Agent X");
    fx_start(f);
    fx_key k = fx_key_new();
    /* A one-city consortium decides at once. */
    OK(f, prop_investor(f, city, "inv-a", &k.pk));
    ck_assert_int_eq(status_of(f, &f->last_id), ESG_PROPOSAL_STATUS_EXECUTED);
    ck_assert_uint_eq(expiry_rows(f), 0);
    esg_pb_member *m = fx_member(f, "inv-a");
    ck_assert_ptr_nonnull(m);
    esg_pb_free(m);
    /* ... and cannot suspend its only city. */
    REJECTS(f, city, ESG_ERR_BAD_PROPOSAL, prop_suspend(f, city, "city-solo", true));
    assert_msg_has(f, "no active city");
    OK(f, prop_suspend(f, city, AGENT, true));
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

START_TEST(test_accounts) {
    fx *f = consortium(0);
    const fx_key *kav = fx_admin(f, KAV), *her = fx_admin(f, HER);
    fx_key a2 = fx_key_new(), off = fx_key_new(), k = fx_key_new();
    uint8_t bad_pk[32];
    memset(bad_pk, 0xff, sizeof bad_pk);

    /* Roles are stored sorted, ADMIN then OFFICER. */
    OK(f, add_account(f, kav, a2.pk.b, 32, R_BOTH, 2));
    esg_pb_account *a = fx_account(f, &a2.pk);
    ck_assert_str_eq(a->member, KAV);
    ck_assert_uint_eq(a->n_roles, 2);
    ck_assert_int_eq(a->roles[0], ESG_ROLE_ADMIN);
    ck_assert_int_eq(a->roles[1], ESG_ROLE_OFFICER);
    ck_assert_uint_eq(a->nonce, 0);
    esg_pb_free(a);
    ck_assert(member_link(f, KAV, &a2.pk));
    OK(f, add_account(f, kav, off.pk.b, 32, R_OFFICER, 1));

    /* AddAccount rules. */
    REJECTS(f, &off, ESG_ERR_UNAUTHORIZED, add_account(f, &off, k.pk.b, 32, R_OFFICER, 1));
    REJECTS(f, kav, ESG_ERR_BAD_PUBKEY, add_account(f, kav, k.pk.b, 31, R_OFFICER, 1));
    REJECTS(f, kav, ESG_ERR_BAD_PUBKEY, add_account(f, kav, bad_pk, 32, R_OFFICER, 1));
    REJECTS(f, kav, ESG_ERR_ACCOUNT_EXISTS, add_account(f, kav, off.pk.b, 32, R_OFFICER, 1));
    REJECTS(f, kav, ESG_ERR_ACCOUNT_EXISTS, add_account(f, kav, her->pk.b, 32, R_OFFICER, 1));
    REJECTS(f, kav, ESG_ERR_BAD_ROLES, add_account(f, kav, k.pk.b, 32, NULL, 0));
    const esg_pb_role dup[] = {ESG_ROLE_OFFICER, ESG_ROLE_OFFICER};
    const esg_pb_role unspec[] = {ESG_ROLE_UNSPECIFIED};
    const esg_pb_role seven[] = {ESG_ROLE_ADMIN, (esg_pb_role)7};
    REJECTS(f, kav, ESG_ERR_BAD_ROLES, add_account(f, kav, k.pk.b, 32, dup, 2));
    REJECTS(f, kav, ESG_ERR_BAD_ROLES, add_account(f, kav, k.pk.b, 32, unspec, 1));
    REJECTS(f, kav, ESG_ERR_BAD_ROLES, add_account(f, kav, k.pk.b, 32, seven, 2));

    /* RevokeAccount rules. */
    REJECTS(f, &off, ESG_ERR_UNAUTHORIZED, revoke_account(f, &off, a2.pk.b, 32));
    REJECTS(f, kav, ESG_ERR_UNAUTHORIZED, revoke_account(f, kav, her->pk.b, 32));
    assert_msg_has(f, "belongs to");
    REJECTS(f, kav, ESG_ERR_UNKNOWN_ACCOUNT, revoke_account(f, kav, k.pk.b, 32));
    uint8_t long_pk[33] = {0};
    memcpy(long_pk, k.pk.b, 32);
    REJECTS(f, kav, ESG_ERR_BAD_PUBKEY, revoke_account(f, kav, long_pk, 33));
    /* Heraklion's only admin cannot revoke itself. */
    REJECTS(f, her, ESG_ERR_LAST_ADMIN, revoke_account(f, her, her->pk.b, 32));

    /* Revoking an officer. */
    OK(f, revoke_account(f, kav, off.pk.b, 32));
    a = fx_account(f, &off.pk);
    ck_assert(a->revoked);
    esg_pb_free(a);
    ck_assert(member_link(f, KAV, &off.pk)); /* history stays */
    REJECTS(f, &off, ESG_ERR_ACCOUNT_REVOKED, add_account(f, &off, k.pk.b, 32, R_OFFICER, 1));
    REJECTS(f, kav, ESG_ERR_ACCOUNT_REVOKED, revoke_account(f, kav, off.pk.b, 32));
    /* A revoked key never comes back. */
    REJECTS(f, kav, ESG_ERR_ACCOUNT_EXISTS, add_account(f, kav, off.pk.b, 32, R_OFFICER, 1));
    assert_msg_has(f, "revoked");
    /* The second admin revokes the first (key rotation)... */
    OK(f, revoke_account(f, &a2, kav->pk.b, 32));
    REJECTS(f, kav, ESG_ERR_ACCOUNT_REVOKED, revoke_account(f, kav, a2.pk.b, 32));
    /* ... and is now the last. */
    REJECTS(f, &a2, ESG_ERR_LAST_ADMIN, revoke_account(f, &a2, a2.pk.b, 32));
    /* Revoking an officer-only account never hits the admin rule. */
    OK(f, add_account(f, &a2, k.pk.b, 32, R_OFFICER, 1));
    OK(f, revoke_account(f, &a2, k.pk.b, 32));
    /* An ADMIN-only account is an admin like any other. */
    fx_key a3 = fx_key_new();
    OK(f, add_account(f, &a2, a3.pk.b, 32, R_ADMIN, 1));
    a = fx_account(f, &a3.pk);
    ck_assert_uint_eq(a->n_roles, 1);
    ck_assert_int_eq(a->roles[0], ESG_ROLE_ADMIN);
    esg_pb_free(a);
    OK(f, revoke_account(f, &a3, a2.pk.b, 32));
    /* The rotated admin still governs. */
    fx_key inv = fx_key_new();
    OK(f, prop_investor(f, &a3, "inv-a", &inv.pk));
    esg_pb_proposal_record *r = fx_proposal(f, &f->last_id);
    ck_assert_str_eq(r->proposer, KAV);
    esg_pb_free(r);
    fx_replay_check(f);
    fx_free(f);
}
END_TEST

Suite *suite_governance(void) {
    Suite *s = suite_create("governance");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_admit_investor);
    tcase_add_test(tc, test_admit_with_lei_and_population);
    tcase_add_test(tc, test_propose_rejections);
    tcase_add_test(tc, test_vote_rejections);
    tcase_add_test(tc, test_rejected_by_two_of_four);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_failed_execution);
    tcase_add_test(tc, test_accreditation);
    tcase_add_test(tc, test_validators);
    tcase_add_test(tc, test_set_param);
    tcase_add_test(tc, test_add_kpi);
    tcase_add_test(tc, test_suspend_and_reinstate);
    tcase_add_test(tc, test_one_city);
    tcase_add_test(tc, test_accounts);
    suite_add_tcase(s, tc);
    return s;
}
