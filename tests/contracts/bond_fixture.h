/* Bond helpers shared by the contract suites, on top of fixture.h.
 *
 * Two casts of members, the assertion macros every suite uses, and
 * builders for the transactions that bring a bond to life (and its
 * projects' financing):
 *  - the four-city consortium (bf_consortium, HER ... AGENT2) with the
 *    spec builder spec_b/sb_* and key-signed submitters bf_issue ...
 *    bf_add_account (instrument and payment suites);
 *  - the three-city cast (CA, CB, CC, AGENT) with bf_issue_abc, a bond
 *    with four projects, and bf_record_payment (impact and proceeds).
 *
 * Like fixture.h every helper asserts on setup or storage failure; the
 * submitters return the transaction's result code (f->msg on rejection).
 * Records from the readers are decoded copies the test frees with
 * esg_pb_free(); NULL means "absent".
 */
#ifndef ESG_TEST_BOND_FIXTURE_H
#define ESG_TEST_BOND_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "ledger/error.h"

/* The four-city consortium of bf_consortium(). */
#define HER "city-heraklion"
#define KAV "city-kavala"
#define THE "city-thessaloniki"
#define TRI "city-trikala"
#define INV_A "fund-a"
#define INV_B "fund-b"
#define INV_C "fund-c"
#define VER "verifier-a"
#define AGENT "agent-x"
#define AGENT2 "agent-y"

/* The three-city cast of bf_abc_new() and bf_issue_abc() (the paying
 * agent is AGENT). */
#define CA "city-a"
#define CB "city-b"
#define CC "city-c"
#define INV1 "inv-1"
#define INV2 "inv-2"

/* ------------------------------------------------------------ assertions */

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

/* Runs `call` and asserts it returned 0, naming the error otherwise. */
#define OK(f, call)                                                                \
    do {                                                                           \
        int rc_ = (call);                                                          \
        ck_assert_msg(rc_ == 0, "line %d: %s: %s", __LINE__, esg_err_name(rc_),     \
                      (f)->msg);                                                   \
    } while (0)

/* Asserts the last rejection's message (f->msg) contains `needle`. */
void bf_assert_msg_has(fx *f, const char *needle);

/* ------------------------------------------------- four-city consortium */

/* A started chain of four cities, three investors, a verifier (VER,
 * accredited for "climate") and two paying agents. Free with fx_free(). */
fx *bf_consortium(void);

#define SB_MAX 128

/* A spec with its arrays, built in place (it points into itself: never
 * copy one). */
typedef struct spec_b {
    esg_pb_instrument_spec s;
    esg_pb_co_issuer ci[SB_MAX];
    esg_pb_co_issuer *cip[SB_MAX];
    esg_pb_project pr[SB_MAX];
    esg_pb_project *prp[SB_MAX];
    uint32_t sdgs[SB_MAX][20];
    esg_pb_kpi_target kt[SB_MAX];
    esg_pb_kpi_target *ktp[SB_MAX];
    char names[SB_MAX][48];
    uint8_t fw[33], er[33];
} spec_b;

/* The design's example: a joint green bond of Heraklion (lead, 50 %),
 * Kavala (30 %) and Thessaloniki (20 %), a project in each city. `id`
 * must outlive `b`. */
void sb_init(spec_b *b, const char *id);
/* Appends a co-issuer (`member` must outlive `b`; at most SB_MAX). */
void sb_co_issuer(spec_b *b, const char *member, uint32_t share);
/* Appends a project (strings must outlive `b`) and returns it, inside b. */
esg_pb_project *sb_project(spec_b *b, const char *id, const char *city);
/* Appends a KPI target (strings must outlive `b`), returned inside b. */
esg_pb_kpi_target *sb_target(spec_b *b, const char *kpi, int64_t target,
                             const char *obs, uint32_t step);

/* IssueInstrument of `s` signed by keys[0], co-signed by the rest. */
int bf_issue_keys(fx *f, const esg_pb_instrument_spec *s, const fx_key *const *keys,
                  size_t n);
/* bf_issue(f, s, signer[, co-signer...]) */
#define bf_issue(f, s, ...)                                                    \
    bf_issue_keys((f), (s), (const fx_key *const[]){__VA_ARGS__},              \
                  sizeof((const fx_key *const[]){__VA_ARGS__}) / sizeof(const fx_key *))
/* Issued by Heraklion's admin, co-signed by Kavala's and Thessaloniki's. */
int bf_issue3(fx *f, const esg_pb_instrument_spec *s);
int bf_subscribe(fx *f, const fx_key *k, const char *instrument, uint64_t units);
int bf_close_offering(fx *f, const fx_key *k, const char *instrument);
int bf_transfer(fx *f, const fx_key *k, const char *instrument, const char *to,
                uint64_t units);
/* AddAccount of `pk` with the single `role`, signed by `admin`. */
int bf_add_account(fx *f, const fx_key *admin, const esg_pubkey *pk, esg_pb_role role);

/* The instrument record `id`, or NULL. */
esg_pb_instrument_record *bf_instrument(fx *f, const char *id);
/* `member`'s holding of `ins`, or NULL. */
esg_pb_holding *bf_holding(fx *f, const char *ins, const char *member);
/* Units of `ins` held by `member` (0 if none). */
uint64_t bf_units_of(fx *f, const char *ins, const char *member);
/* Day number of the YYYY-MM-DD date `s` (asserted valid). */
int32_t bf_day(const char *s);

/* ------------------------------------------------------ three-city cast */

/* 32 bytes of 0xab: an evidence hash. */
extern const uint8_t bf_h32[32];

/* The spec of bf_issue_abc, built in place (it points into itself: never
 * copy one) so that a suite can change it before bf_abc_issue. */
typedef struct bf_abc {
    esg_pb_instrument_spec s;
    esg_pb_co_issuer ci[3];
    esg_pb_co_issuer *cip[3];
    esg_pb_project pr[4];
    esg_pb_project *prp[4];
} bf_abc;

/* A joint green bond `id` of city-a (3334 bps, lead), city-b and city-c
 * (3333 each), projects PA-1 and PA-2 (city-a), PB-1 (city-b) and PC-1
 * (city-c) defined inline with `budgets` in that order (their total cost
 * defaults to the budget), annual 3 % coupons from 2026-01-15 to
 * `maturity`, paying agent AGENT; one_city: city-a alone (10000 bps),
 * PA-1 and PA-2. `id` and `maturity` must outlive `b`. */
void bf_abc_init(bf_abc *b, const char *id, bool one_city, uint64_t face, uint64_t units,
                 const char *maturity, const uint64_t budgets[4]);
/* IssueInstrument of b->s signed by the admins of its co-issuers, in
 * their order. */
int bf_abc_issue(fx *f, const bf_abc *b);
/* bf_abc_init + bf_abc_issue. */
int bf_issue_abc(fx *f, const char *id, bool one_city, uint64_t face, uint64_t units,
                 const char *maturity, const uint64_t budgets[4]);

/* Makes *p a reference to registered project `id` (only id and budget
 * set; `id` must outlive p). */
void bf_project_ref(esg_pb_project *p, const char *id, uint64_t budget);
/* A chain, not yet started, of CA, CB, CC and investors INV1 and INV2:
 * the suite adds the rest of its cast, then calls fx_start(). */
fx *bf_abc_new(void);
/* Sets the next block's time to 00:00 UTC of `date` (forward only). */
void bf_time_to(fx *f, const char *date);
/* RecordPayment of `kind` due `due` on `id`, signed by AGENT's admin. */
int bf_record_payment(fx *f, const char *id, int kind, const char *due);

/* ------------------------------------------- projects, proceeds, funding
 * Each is signed by the admin of `city` (an OFFICER); the evidence hash is
 * bf_h32. The tx id (the allocation's or funding's id) is f->last_id. */

/* RegisterProject `id` of `city`: name "Project", objective CCM, no
 * optional field, `total_cost` in `currency`. */
int bf_register_project(fx *f, const char *city, const char *id, uint64_t total_cost,
                        const char *currency);
/* UpdateProject `id` to `total_cost` with `reason`. */
int bf_update_project(fx *f, const char *city, const char *id, uint64_t total_cost,
                      const char *reason);
/* AllocateProceeds of `amount` of `instrument` to `project` on `date`. */
int bf_allocate(fx *f, const char *city, const char *instrument, const char *project,
                uint64_t amount, const char *date);
/* ReverseAllocation of allocation `id`. */
int bf_reverse_allocation(fx *f, const char *city, const esg_hash *id, const char *reason);
/* RecordFunding of `amount` from `source` (programme "ERDF 2021-2027") to
 * `project` on `date`. */
int bf_fund(fx *f, const char *city, const char *project, int source, uint64_t amount,
            const char *date);
/* ReverseFunding of funding `id`. */
int bf_reverse_funding(fx *f, const char *city, const esg_hash *id, const char *reason);

/* ------------------------------------------------------------- batches */

#define BF_BATCH_MAX 2048

/* Many transactions in one block, for suites that need hundreds: each
 * bf_batch_add signs a body at once (nonce: the signer's next, counting
 * the batch), bf_batch_commit makes one block of them all and asserts that
 * every one was included. */
typedef struct bf_batch {
    fx *f;
    esg_tx *tx[BF_BATCH_MAX];
    const fx_key *signer[BF_BATCH_MAX];
    size_t n;
} bf_batch;

void bf_batch_init(bf_batch *b, fx *f);
/* Signs `body` by k (alone) into the batch and returns its tx id. */
esg_hash bf_batch_add(bf_batch *b, esg_pb_tx_body *body, const fx_key *k);
/* One block of the batch; the batch is then empty again. */
void bf_batch_commit(bf_batch *b);

/* A read transaction on the state, for the contracts' query functions. */
typedef struct bf_view {
    MDB_txn *txn;
    esg_state *st;
} bf_view;

bf_view bf_view_open(fx *f);
void bf_view_close(bf_view *v);

/* esg_impact_instrument_attributed over all periods, asserted to succeed. */
int64_t bf_instrument_attributed(fx *f, const char *instrument, const char *kpi);

#endif
