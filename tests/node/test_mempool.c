/* node/mempool.c over a real chain: an LMDB store with a genesis (the
 * contract suites' fixture), the governance contracts and the real block
 * executor. Transactions are AddAccount actions signed by member admins;
 * blocks are made as the node makes them (node/node.c produce()): reap,
 * esg_exec_produce, esg_mempool_update with the reaped items. */
#include <check.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../contracts/fixture.h"
#include "contracts/contracts.h"
#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/txbuild.h"
#include "node/mempool.h"

#define N_MEMBERS 4
static const char *const member_ids[N_MEMBERS] = {"city-a", "city-b", "city-c", "city-d"};

/* One chain per test (check forks each test). */
static fx *F;
static const fx_key *K[N_MEMBERS]; /* the members' admins: ADMIN + OFFICER */

static void chain_start(uint64_t max_block_txs) {
    F = fx_new();
    for (size_t i = 0; i < N_MEMBERS; i++)
        K[i] = fx_add_member(F, member_ids[i], ESG_KIND_CITY, member_ids[i]);
    if (max_block_txs)
        F->g->params.max_block_txs = max_block_txs;
    fx_start(F);
}

static void setup(void) { chain_start(0); }
static void setup_small_blocks(void) { chain_start(2); }

static void teardown(void) {
    fx_free(F);
    F = NULL;
}

/* A serialized tx in which `k` (nonce `nonce`) adds the account `new_pk`
 * (a fresh key when NULL) to its member as an OFFICER. */
typedef struct raw_tx {
    uint8_t *b;
    size_t len;
    esg_hash id;
    esg_pubkey added;
} raw_tx;

static raw_tx make_tx_chain(const fx_key *k, uint64_t nonce, const esg_pubkey *new_pk,
                            const char *chain_id) {
    raw_tx r;
    if (new_pk) {
        r.added = *new_pk;
    } else {
        fx_key fresh = fx_key_new();
        r.added = fresh.pk;
        esg_seckey_wipe(&fresh.sk);
    }
    static const esg_pb_role officer[] = {ESG_ROLE_OFFICER};
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    aa.pubkey = esg_pb_bin(r.added.b, 32);
    aa.roles = (esg_pb_role *)officer;
    aa.n_roles = 1;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.chain_id = (char *)chain_id;
    body.nonce = nonce;
    body.signer = esg_pb_bin(k->pk.b, 32);
    body.action_case = ESG_ACTION_ADD_ACCOUNT;
    body.add_account = &aa;
    ck_assert_int_eq(esg_txb_sign_body(&r.b, &r.len, &body, &k->sk, 1), 0);
    esg_tx *tx;
    ck_assert_int_eq(esg_tx_decode(&tx, r.b, r.len), 0);
    r.id = tx->id;
    esg_tx_free(tx);
    return r;
}

static raw_tx make_tx(const fx_key *k, uint64_t nonce, const esg_pubkey *new_pk) {
    return make_tx_chain(k, nonce, new_pk, FX_CHAIN_ID);
}

static void raw_free(raw_tx *r) {
    free(r->b);
    r->b = NULL;
}

/* Admits r, returning the code; the id admission reports must be r's. */
static int add(esg_mempool *mp, const raw_tx *r, char *msg, size_t msglen) {
    esg_hash id;
    memset(&id, 0, sizeof id);
    int rc = esg_mempool_add(mp, r->b, r->len, &id, msg, msglen);
    if (rc == 0)
        ck_assert(esg_hash_eq(&id, &r->id));
    return rc;
}

#define ADD_OK(mp, r)                                                                   \
    do {                                                                                \
        char m_[ESG_ERRMSG_MAX];                                                        \
        int rc_ = add((mp), (r), m_, sizeof m_);                                        \
        ck_assert_msg(rc_ == 0, "admission: %s: %s", esg_err_name(rc_), m_);            \
    } while (0)

static int commit_cb(void *arg, const char *chain_id, uint64_t height,
                     const esg_hash *block_hash, uint8_t **commit, size_t *len) {
    fx *f = arg;
    esg_commit_storage cs;
    int rc = esg_commit_sign_single(&cs, &f->validator.sk, chain_id, height, 0, block_hash);
    if (rc)
        return rc;
    return esg_pb_encode(&cs.commit.base, commit, len);
}

/* One block from the mempool, as node.c makes it. items (capacity max)
 * receives the reaped candidates with their results; returns the count and
 * the produced block in *out. */
static size_t produce(esg_mempool *mp, esg_exec_item *items, size_t max, esg_produced *out) {
    size_t n = esg_mempool_reap(mp, items, max);
    F->time_ms += 1000;
    int rc = esg_exec_produce(F->store, F->ct, items, n, F->time_ms, &F->validator.pk, false,
                              commit_cb, F, out);
    ck_assert_msg(rc == 0, "produce: %s", esg_err_name(rc));
    esg_mempool_update(mp, items, n, out->height);
    return n;
}

/* Produces one block of everything pending and checks it all went in. */
static uint64_t produce_all(esg_mempool *mp) {
    esg_exec_item items[64];
    esg_produced out;
    size_t n = produce(mp, items, 64, &out);
    ck_assert_uint_gt(n, 0);
    ck_assert(out.made);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(items[i].result == 0, "item %zu: %s: %s", i,
                      esg_err_name(items[i].result), items[i].msg);
    ck_assert_uint_eq(out.n_included, n);
    return out.height;
}

static esg_mempool *mp_new(size_t max_txs, size_t max_bytes) {
    esg_mempool *mp;
    esg_mempool_limits lim = {max_txs, max_bytes};
    ck_assert_int_eq(esg_mempool_new(&mp, F->store, F->ct, &lim, NULL, NULL), 0);
    return mp;
}

static size_t mp_size(esg_mempool *mp) {
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    return st.txs;
}

static int wait_for(esg_mempool *mp, const raw_tx *r, uint64_t timeout_ms, uint64_t *height,
                    char *msg, size_t msglen) {
    return esg_mempool_wait(mp, &r->id, timeout_ms, height, msg, msglen);
}

/* ------------------------------------------------------------ admission */

START_TEST(test_admit_valid) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t = make_tx(K[0], 1, NULL);
    char msg[ESG_ERRMSG_MAX] = "junk";
    esg_hash id;
    ck_assert_int_eq(esg_mempool_add(mp, t.b, t.len, &id, msg, sizeof msg), 0);
    ck_assert(esg_hash_eq(&id, &t.id));
    ck_assert_str_eq(msg, "");
    /* raw is not kept: the caller may release it at once. */
    memset(t.b, 0, t.len);
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.txs, 1);
    ck_assert_uint_eq(st.bytes, t.len);
    ck_assert_uint_eq(st.admitted, 1);
    ck_assert_uint_eq(st.rejected, 0);

    /* Still pending: a short wait times out. */
    uint64_t h = 99;
    ck_assert_int_eq(wait_for(mp, &t, 1, &h, msg, sizeof msg), ESG_ERR_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(msg, "still pending"));

    /* A NULL msg is allowed. */
    raw_tx u = make_tx(K[1], 1, NULL);
    ck_assert_int_eq(esg_mempool_add(mp, u.b, u.len, &id, NULL, 0), 0);
    ck_assert_uint_eq(mp_size(mp), 2);
    raw_free(&t);
    raw_free(&u);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_duplicate_pending) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t = make_tx(K[0], 1, NULL);
    char msg[ESG_ERRMSG_MAX];
    ADD_OK(mp, &t);
    ck_assert_int_eq(add(mp, &t, msg, sizeof msg), ESG_ERR_DUPLICATE_TX);
    ck_assert_ptr_nonnull(strstr(msg, "already pending"));
    ck_assert_ptr_nonnull(strstr(msg, esg_hash_hex(&t.id).s));
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.txs, 1);
    ck_assert_uint_eq(st.admitted, 1);
    ck_assert_uint_eq(st.rejected, 1);
    raw_free(&t);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_duplicate_committed) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t = make_tx(K[0], 1, NULL);
    ADD_OK(mp, &t);
    uint64_t h = produce_all(mp);
    ck_assert_uint_eq(mp_size(mp), 0);
    char msg[ESG_ERRMSG_MAX], want[64];
    ck_assert_int_eq(add(mp, &t, msg, sizeof msg), ESG_ERR_DUPLICATE_TX);
    snprintf(want, sizeof want, "committed at height %llu", (unsigned long long)h);
    ck_assert_msg(strstr(msg, want) != NULL, "message '%s'", msg);
    ck_assert_uint_eq(mp_size(mp), 0);
    raw_free(&t);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_malformed) {
    esg_mempool *mp = mp_new(0, 0);
    char msg[ESG_ERRMSG_MAX];
    esg_hash id;
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    ck_assert_int_eq(esg_mempool_add(mp, junk, sizeof junk, &id, msg, sizeof msg),
                     ESG_ERR_DECODE);
    ck_assert_ptr_nonnull(strstr(msg, "rejected"));
    raw_tx t = make_tx(K[0], 1, NULL);
    /* Cut short: the length-delimited signature runs past the end. */
    ck_assert_int_eq(esg_mempool_add(mp, t.b, t.len - 10, &id, msg, sizeof msg),
                     ESG_ERR_DECODE);
    /* Nothing at all. */
    ck_assert_int_ne(esg_mempool_add(mp, t.b, 0, &id, msg, sizeof msg), 0);
    /* Too large to be a transaction. */
    uint8_t *big = calloc(1, ESG_TX_MAX_BYTES + 1);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(esg_mempool_add(mp, big, ESG_TX_MAX_BYTES + 1, &id, NULL, 0),
                     ESG_ERR_TOO_LARGE);
    free(big);
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.txs, 0);
    ck_assert_uint_eq(st.admitted, 0);
    ck_assert_uint_eq(st.rejected, 4);
    /* The pool is unharmed. */
    ADD_OK(mp, &t);
    raw_free(&t);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_bad_signature) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t = make_tx(K[0], 1, NULL);
    /* The signature's 64 bytes end the serialized Tx. */
    t.b[t.len - 1] ^= 0x01;
    char msg[ESG_ERRMSG_MAX];
    ck_assert_int_eq(add(mp, &t, msg, sizeof msg), ESG_ERR_BAD_SIGNATURE);
    ck_assert_uint_eq(mp_size(mp), 0);
    /* The correct signature is then admitted (a rejection left no trace). */
    t.b[t.len - 1] ^= 0x01;
    ADD_OK(mp, &t);
    raw_free(&t);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_state_checks) {
    esg_mempool *mp = mp_new(0, 0);
    char msg[ESG_ERRMSG_MAX];
    /* Unknown signer. */
    fx_key stranger = fx_key_new();
    raw_tx t = make_tx(&stranger, 1, NULL);
    ck_assert_int_eq(add(mp, &t, msg, sizeof msg), ESG_ERR_UNKNOWN_SIGNER);
    raw_free(&t);
    /* Another chain. */
    t = make_tx_chain(K[0], 1, NULL, "other-chain");
    ck_assert_int_eq(add(mp, &t, msg, sizeof msg), ESG_ERR_CHAIN_ID);
    ck_assert_ptr_nonnull(strstr(msg, "other-chain"));
    raw_free(&t);

    /* A contract rule: an OFFICER-only account may not add accounts. */
    fx_key officer = fx_key_new();
    raw_tx add_officer = make_tx(K[0], 1, &officer.pk);
    ADD_OK(mp, &add_officer);
    produce_all(mp);
    raw_tx bad = make_tx(&officer, 1, NULL);
    ck_assert_int_eq(add(mp, &bad, msg, sizeof msg), ESG_ERR_UNAUTHORIZED);
    ck_assert_str_ne(msg, "");
    /* An existing account: the contract rejects at admission too. */
    raw_tx again = make_tx(K[1], 1, &officer.pk);
    ck_assert_int_eq(add(mp, &again, msg, sizeof msg), ESG_ERR_ACCOUNT_EXISTS);
    ck_assert_uint_eq(mp_size(mp), 0);
    /* Admission checks changed nothing: the admin's nonce is still 0. */
    ck_assert_uint_eq(fx_nonce(F, &K[1]->pk), 0);
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.rejected, 4);
    raw_free(&add_officer);
    raw_free(&bad);
    raw_free(&again);
    esg_seckey_wipe(&officer.sk);
    esg_seckey_wipe(&stranger.sk);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_nonce_order) {
    esg_mempool *mp = mp_new(0, 0);
    char msg[ESG_ERRMSG_MAX];
    raw_tx t[6];
    for (uint64_t n = 1; n <= 5; n++)
        t[n] = make_tx(K[0], n, NULL);
    /* Nothing pending yet: the state's next nonce is 1, so 2 is a gap. */
    ck_assert_int_eq(add(mp, &t[2], msg, sizeof msg), ESG_ERR_NONCE);
    ADD_OK(mp, &t[1]);
    ADD_OK(mp, &t[2]);
    ADD_OK(mp, &t[3]);
    /* 5 skips 4. */
    ck_assert_int_eq(add(mp, &t[5], msg, sizeof msg), ESG_ERR_NONCE);
    ck_assert_msg(strstr(msg, "expected 4") != NULL, "message '%s'", msg);
    /* A second, different tx with a nonce already pending. */
    raw_tx other2 = make_tx(K[0], 2, NULL);
    ck_assert_int_eq(add(mp, &other2, msg, sizeof msg), ESG_ERR_NONCE);
    /* Other signers are independent. */
    raw_tx b1 = make_tx(K[1], 1, NULL);
    ADD_OK(mp, &b1);
    ck_assert_uint_eq(mp_size(mp), 4);

    produce_all(mp);
    ck_assert_uint_eq(fx_nonce(F, &K[0]->pk), 3);
    /* After the commit: nonce 1 again (a new tx) is stale, 4 is next. */
    raw_tx again1 = make_tx(K[0], 1, NULL);
    ck_assert_int_eq(add(mp, &again1, msg, sizeof msg), ESG_ERR_NONCE);
    ck_assert_int_eq(add(mp, &t[5], msg, sizeof msg), ESG_ERR_NONCE);
    ADD_OK(mp, &t[4]);
    ADD_OK(mp, &t[5]);
    produce_all(mp);
    ck_assert_uint_eq(fx_nonce(F, &K[0]->pk), 5);
    for (int n = 1; n <= 5; n++)
        raw_free(&t[n]);
    raw_free(&other2);
    raw_free(&b1);
    raw_free(&again1);
    esg_mempool_free(mp);
}
END_TEST

/* --------------------------------------------------------------- bounds */

START_TEST(test_max_txs) {
    esg_mempool *mp = mp_new(2, 0);
    char msg[ESG_ERRMSG_MAX];
    raw_tx a = make_tx(K[0], 1, NULL), b = make_tx(K[1], 1, NULL), c = make_tx(K[2], 1, NULL);
    ADD_OK(mp, &a);
    ADD_OK(mp, &b);
    ck_assert_int_eq(add(mp, &c, msg, sizeof msg), ESG_ERR_MEMPOOL_FULL);
    ck_assert_ptr_nonnull(strstr(msg, "retry later"));
    ck_assert_uint_eq(mp_size(mp), 2);
    /* A full pool still answers duplicates as duplicates. */
    ck_assert_int_eq(add(mp, &a, msg, sizeof msg), ESG_ERR_DUPLICATE_TX);
    /* A block frees the space. */
    produce_all(mp);
    ADD_OK(mp, &c);
    ck_assert_uint_eq(mp_size(mp), 1);
    raw_free(&a);
    raw_free(&b);
    raw_free(&c);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_max_bytes) {
    raw_tx a = make_tx(K[0], 1, NULL), b = make_tx(K[1], 1, NULL), c = make_tx(K[2], 1, NULL);
    /* Room for a and c (the same size), not for a third. */
    ck_assert_uint_eq(a.len, b.len);
    ck_assert_uint_eq(a.len, c.len);
    esg_mempool *mp = mp_new(100, 2 * a.len + a.len / 2);
    char msg[ESG_ERRMSG_MAX];
    ADD_OK(mp, &a);
    ADD_OK(mp, &b);
    ck_assert_int_eq(add(mp, &c, msg, sizeof msg), ESG_ERR_MEMPOOL_FULL);
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.bytes, 2 * a.len);
    produce_all(mp);
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.bytes, 0);
    ADD_OK(mp, &c);
    raw_free(&a);
    raw_free(&b);
    raw_free(&c);
    esg_mempool_free(mp);

    /* Exactly at the limit is allowed. */
    raw_tx d = make_tx(K[3], 1, NULL);
    mp = mp_new(100, d.len);
    ADD_OK(mp, &d);
    raw_free(&d);
    esg_mempool_free(mp);
}
END_TEST

/* ------------------------------------------------------- reap and update */

START_TEST(test_reap_order) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t[5] = {make_tx(K[0], 1, NULL), make_tx(K[1], 1, NULL), make_tx(K[0], 2, NULL),
                   make_tx(K[2], 1, NULL), make_tx(K[1], 2, NULL)};
    for (int i = 0; i < 5; i++)
        ADD_OK(mp, &t[i]);
    esg_exec_item items[8];
    memset(items, 0x55, sizeof items);
    ck_assert_uint_eq(esg_mempool_reap(mp, items, 8), 5);
    for (int i = 0; i < 5; i++) {
        ck_assert(esg_hash_eq(&items[i].tx->id, &t[i].id));
        ck_assert(items[i].sigs_verified);
        ck_assert_int_eq(items[i].result, 0);
    }
    /* Reaping does not remove, and max bounds the count. */
    ck_assert_uint_eq(esg_mempool_reap(mp, items, 3), 3);
    ck_assert(esg_hash_eq(&items[2].tx->id, &t[2].id));
    ck_assert_uint_eq(mp_size(mp), 5);
    ck_assert_uint_eq(esg_mempool_reap(mp, items, 0), 0);
    /* Reaped items apply in that order (nonces per signer ascend). */
    produce_all(mp);
    ck_assert_uint_eq(esg_mempool_reap(mp, items, 8), 0);
    for (int i = 0; i < 5; i++)
        raw_free(&t[i]);
    esg_mempool_free(mp);
}
END_TEST

/* take_fresh hands out each admitted entry once, oldest first, at most
 * `max` per call; verified answers for exactly the admitted bytes. */
START_TEST(test_take_fresh_and_verified) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t[4] = {make_tx(K[0], 1, NULL), make_tx(K[1], 1, NULL), make_tx(K[0], 2, NULL),
                   make_tx(K[2], 1, NULL)};
    esg_exec_item items[8];
    ck_assert_uint_eq(esg_mempool_take_fresh(mp, items, 8), 0);
    ADD_OK(mp, &t[0]);
    ADD_OK(mp, &t[1]);
    ck_assert_uint_eq(esg_mempool_take_fresh(mp, items, 1), 1);
    ck_assert(esg_hash_eq(&items[0].tx->id, &t[0].id));
    ADD_OK(mp, &t[2]);
    ck_assert_uint_eq(esg_mempool_take_fresh(mp, items, 8), 2);
    ck_assert(esg_hash_eq(&items[0].tx->id, &t[1].id));
    ck_assert(esg_hash_eq(&items[1].tx->id, &t[2].id));
    ck_assert(items[1].sigs_verified);
    ck_assert_uint_eq(esg_mempool_take_fresh(mp, items, 8), 0);
    /* Entries leaving the pool do not disturb what is fresh. */
    produce_all(mp);
    ADD_OK(mp, &t[3]);
    ck_assert_uint_eq(esg_mempool_take_fresh(mp, items, 8), 1);
    ck_assert(esg_hash_eq(&items[0].tx->id, &t[3].id));

    ck_assert(esg_mempool_verified(mp, &t[3].id, t[3].b, t[3].len));
    /* Same id, other bytes (a signature changed): not verified. */
    t[3].b[t[3].len - 1] ^= 1;
    ck_assert(!esg_mempool_verified(mp, &t[3].id, t[3].b, t[3].len));
    ck_assert(!esg_mempool_verified(mp, &t[3].id, t[3].b, t[3].len - 1));
    /* Committed ones are no longer in the pool. */
    ck_assert(!esg_mempool_verified(mp, &t[0].id, t[0].b, t[0].len));
    for (int i = 0; i < 4; i++)
        raw_free(&t[i]);
    esg_mempool_free(mp);
}
END_TEST

/* Items that fail in the block leave with their reason; a signer's later
 * transactions that can no longer apply leave too. */
START_TEST(test_update_drops_failed) {
    esg_mempool *mp = mp_new(0, 0);
    fx_key p = fx_key_new();
    raw_tx a1 = make_tx(K[0], 1, &p.pk); /* wins P */
    raw_tx b1 = make_tx(K[1], 1, &p.pk); /* P again: fails in the block */
    raw_tx b2 = make_tx(K[1], 2, NULL);  /* follows b1: nonce gap once b1 fails */
    ADD_OK(mp, &a1);
    ADD_OK(mp, &b1); /* admission checks against the committed state only */
    ADD_OK(mp, &b2);
    esg_exec_item items[8];
    esg_produced out;
    ck_assert_uint_eq(produce(mp, items, 8, &out), 3);
    ck_assert(out.made);
    ck_assert_int_eq(items[0].result, 0);
    ck_assert_int_eq(items[1].result, ESG_ERR_ACCOUNT_EXISTS);
    ck_assert_int_eq(items[2].result, ESG_ERR_NONCE);
    ck_assert_uint_eq(mp_size(mp), 0);

    char msg[ESG_ERRMSG_MAX] = "junk";
    uint64_t h = 0;
    ck_assert_int_eq(wait_for(mp, &a1, 1000, &h, msg, sizeof msg), 0);
    ck_assert_uint_eq(h, out.height);
    ck_assert_str_eq(msg, "");
    ck_assert_int_eq(wait_for(mp, &b1, 1000, &h, msg, sizeof msg), ESG_ERR_ACCOUNT_EXISTS);
    ck_assert_msg(strstr(msg, esg_pubkey_hex(&p.pk).s) != NULL, "message '%s'", msg);
    ck_assert_int_eq(wait_for(mp, &b2, 1000, &h, msg, sizeof msg), ESG_ERR_NONCE);
    ck_assert_str_ne(msg, "");
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.admitted, 3);
    ck_assert_uint_eq(st.committed, 1);
    ck_assert_uint_eq(st.dropped, 2);
    ck_assert_uint_eq(st.txs, 0);
    ck_assert_uint_eq(st.bytes, 0);

    /* The signer fixes its first tx and sends b2 again, byte for byte: b2
     * is pending now, and waiting for it must say so, not report the old
     * drop. */
    raw_tx b1_fixed = make_tx(K[1], 1, NULL);
    ADD_OK(mp, &b1_fixed);
    ADD_OK(mp, &b2);
    ck_assert_int_eq(wait_for(mp, &b2, 1, &h, msg, sizeof msg), ESG_ERR_TIMEOUT);
    uint64_t h2 = produce_all(mp);
    ck_assert_int_eq(wait_for(mp, &b2, 1000, &h, msg, sizeof msg), 0);
    ck_assert_uint_eq(h, h2);
    raw_free(&a1);
    raw_free(&b1);
    raw_free(&b2);
    raw_free(&b1_fixed);
    esg_seckey_wipe(&p.sk);
    esg_mempool_free(mp);
}
END_TEST

/* After a block, the pending transactions of the signers it touched are
 * re-checked: here b2 was admitted after the reap, and b1, the tx it
 * follows, fails in the block, so b2 can no longer apply and leaves. */
START_TEST(test_update_rechecks_touched) {
    esg_mempool *mp = mp_new(0, 0);
    fx_key p = fx_key_new();
    raw_tx a1 = make_tx(K[0], 1, &p.pk), b1 = make_tx(K[1], 1, &p.pk);
    raw_tx b2 = make_tx(K[1], 2, NULL), c1 = make_tx(K[2], 1, NULL);
    ADD_OK(mp, &a1);
    ADD_OK(mp, &b1);
    esg_exec_item items[4];
    size_t n = esg_mempool_reap(mp, items, 4);
    ck_assert_uint_eq(n, 2);
    /* Admitted while the block is being made. */
    ADD_OK(mp, &b2);
    ADD_OK(mp, &c1);
    esg_produced out;
    F->time_ms += 1000;
    ck_assert_int_eq(esg_exec_produce(F->store, F->ct, items, n, F->time_ms, &F->validator.pk,
                                      false, commit_cb, F, &out), 0);
    ck_assert_int_eq(items[0].result, 0);
    ck_assert_int_eq(items[1].result, ESG_ERR_ACCOUNT_EXISTS);
    esg_mempool_update(mp, items, n, out.height);

    char msg[ESG_ERRMSG_MAX];
    uint64_t h;
    ck_assert_int_eq(wait_for(mp, &b1, 1000, &h, msg, sizeof msg), ESG_ERR_ACCOUNT_EXISTS);
    ck_assert_int_eq(wait_for(mp, &b2, 1000, &h, msg, sizeof msg), ESG_ERR_NONCE);
    ck_assert_msg(strstr(msg, "expected 1") != NULL, "message '%s'", msg);
    /* Untouched, still valid: stays and goes into the next block. */
    ck_assert_uint_eq(mp_size(mp), 1);
    ck_assert_int_eq(wait_for(mp, &c1, 1, &h, msg, sizeof msg), ESG_ERR_TIMEOUT);
    uint64_t h2 = produce_all(mp);
    ck_assert_int_eq(wait_for(mp, &c1, 1000, &h, msg, sizeof msg), 0);
    ck_assert_uint_eq(h, h2);
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.dropped, 2);
    ck_assert_uint_eq(st.committed, 2);
    raw_free(&a1);
    raw_free(&b1);
    raw_free(&b2);
    raw_free(&c1);
    esg_seckey_wipe(&p.sk);
    esg_mempool_free(mp);
}
END_TEST

/* The state moves under pending transactions without the pool seeing the
 * block (here: blocks made from elsewhere spend the signer's nonces). The
 * next block built from the pool drops what can no longer apply, with the
 * reason, and includes what still can. */
START_TEST(test_update_state_moved_elsewhere) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx a1 = make_tx(K[0], 1, NULL), a2 = make_tx(K[0], 2, NULL);
    ADD_OK(mp, &a1);
    ADD_OK(mp, &a2);
    /* Another tx with nonce 1 from the same signer, committed directly. */
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    fx_key c = fx_key_new();
    static const esg_pb_role officer[] = {ESG_ROLE_OFFICER};
    aa.pubkey = esg_pb_bin(c.pk.b, 32);
    aa.roles = (esg_pb_role *)officer;
    aa.n_roles = 1;
    body.action_case = ESG_ACTION_ADD_ACCOUNT;
    body.add_account = &aa;
    ck_assert_int_eq(fx_submit_nonce(F, &body, 1, K[0]), 0);
    esg_mempool_update(mp, NULL, 0, fx_height(F));

    /* a1 is stale now; a2 follows the committed nonce 1. */
    esg_exec_item items[4];
    esg_produced out;
    ck_assert_uint_eq(produce(mp, items, 4, &out), 2);
    ck_assert(out.made);
    ck_assert_int_eq(items[0].result, ESG_ERR_NONCE);
    ck_assert_int_eq(items[1].result, 0);
    char msg[ESG_ERRMSG_MAX];
    uint64_t h;
    ck_assert_int_eq(wait_for(mp, &a1, 1000, &h, msg, sizeof msg), ESG_ERR_NONCE);
    ck_assert_msg(strstr(msg, "expected 2") != NULL, "message '%s'", msg);
    ck_assert_int_eq(wait_for(mp, &a2, 1000, &h, msg, sizeof msg), 0);
    ck_assert_uint_eq(h, out.height);
    ck_assert_uint_eq(mp_size(mp), 0);

    /* Both superseded: nonces 3 and 4 pending, 3 and 4 committed from
     * elsewhere -> no block, both leave. */
    raw_tx a3 = make_tx(K[0], 3, NULL), a4 = make_tx(K[0], 4, NULL);
    ADD_OK(mp, &a3);
    ADD_OK(mp, &a4);
    fx_key c3 = fx_key_new();
    aa.pubkey = esg_pb_bin(c3.pk.b, 32);
    ck_assert_int_eq(fx_submit_nonce(F, &body, 3, K[0]), 0);
    fx_key d = fx_key_new();
    aa.pubkey = esg_pb_bin(d.pk.b, 32);
    ck_assert_int_eq(fx_submit_nonce(F, &body, 4, K[0]), 0);
    esg_mempool_update(mp, NULL, 0, fx_height(F));
    uint64_t tip = fx_height(F);
    ck_assert_uint_eq(produce(mp, items, 4, &out), 2);
    ck_assert(!out.made);
    ck_assert_uint_eq(fx_height(F), tip);
    ck_assert_uint_eq(mp_size(mp), 0);
    ck_assert_int_eq(wait_for(mp, &a3, 1000, &h, msg, sizeof msg), ESG_ERR_NONCE);
    ck_assert_int_eq(wait_for(mp, &a4, 1000, &h, msg, sizeof msg), ESG_ERR_NONCE);
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.dropped, 3);
    ck_assert_uint_eq(st.committed, 1);
    raw_free(&a1);
    raw_free(&a2);
    raw_free(&a3);
    raw_free(&a4);
    esg_seckey_wipe(&c.sk);
    esg_seckey_wipe(&c3.sk);
    esg_seckey_wipe(&d.sk);
    esg_mempool_free(mp);
}
END_TEST

/* With max_block_txs = 2, the third candidate gets ERR_MEMPOOL_FULL from the
 * block and stays for the next one. */
START_TEST(test_update_keeps_block_full) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t[3] = {make_tx(K[0], 1, NULL), make_tx(K[0], 2, NULL), make_tx(K[0], 3, NULL)};
    for (int i = 0; i < 3; i++)
        ADD_OK(mp, &t[i]);
    esg_exec_item items[8];
    esg_produced out;
    ck_assert_uint_eq(produce(mp, items, 8, &out), 3);
    ck_assert_uint_eq(out.n_included, 2);
    ck_assert_int_eq(items[0].result, 0);
    ck_assert_int_eq(items[1].result, 0);
    ck_assert_int_eq(items[2].result, ESG_ERR_MEMPOOL_FULL);
    ck_assert_uint_eq(mp_size(mp), 1);
    char msg[ESG_ERRMSG_MAX];
    uint64_t h;
    ck_assert_int_eq(wait_for(mp, &t[2], 1, &h, msg, sizeof msg), ESG_ERR_TIMEOUT);
    /* The signer may queue behind it: its pending nonce is still 3. */
    raw_tx t4 = make_tx(K[0], 4, NULL);
    ADD_OK(mp, &t4);
    ck_assert_uint_eq(produce(mp, items, 8, &out), 2);
    ck_assert_int_eq(items[0].result, 0);
    ck_assert_int_eq(items[1].result, 0);
    ck_assert_int_eq(wait_for(mp, &t[2], 1000, &h, msg, sizeof msg), 0);
    ck_assert_uint_eq(h, out.height);
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.committed, 4);
    ck_assert_uint_eq(st.dropped, 0);
    ck_assert_uint_eq(st.txs, 0);
    for (int i = 0; i < 3; i++)
        raw_free(&t[i]);
    raw_free(&t4);
    esg_mempool_free(mp);
}
END_TEST

/* ----------------------------------------------------------------- wait */

START_TEST(test_wait_unknown) {
    esg_mempool *mp = mp_new(0, 0);
    esg_hash id;
    memset(id.b, 0x42, 32);
    char msg[ESG_ERRMSG_MAX];
    uint64_t h;
    ck_assert_int_eq(esg_mempool_wait(mp, &id, 1000, &h, msg, sizeof msg), ESG_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(msg, esg_hash_hex(&id).s));
    ck_assert_int_eq(esg_mempool_wait(mp, &id, 0, &h, NULL, 0), ESG_ERR_NOT_FOUND);
    /* A committed tx is found in the store even by a fresh pool (after a
     * restart). */
    raw_tx t = make_tx(K[0], 1, NULL);
    ADD_OK(mp, &t);
    uint64_t h1 = produce_all(mp);
    esg_mempool_free(mp);
    mp = mp_new(0, 0);
    ck_assert_int_eq(wait_for(mp, &t, 0, &h, msg, sizeof msg), 0);
    ck_assert_uint_eq(h, h1);
    raw_free(&t);
    esg_mempool_free(mp);
}
END_TEST

typedef struct waiter {
    esg_mempool *mp;
    esg_hash id;
    uint64_t timeout_ms;
    sem_t started;
    int rc;
    uint64_t height;
    char msg[ESG_ERRMSG_MAX];
} waiter;

static void *waiter_main(void *arg) {
    waiter *w = arg;
    sem_post(&w->started);
    w->rc = esg_mempool_wait(w->mp, &w->id, w->timeout_ms, &w->height, w->msg, sizeof w->msg);
    return NULL;
}

/* An hour: if a wake-up were lost, the test would hit its own timeout. */
#define NEVER_MS (3600u * 1000)

static void waiter_start(waiter *w, pthread_t *th, esg_mempool *mp, const esg_hash *id) {
    memset(w, 0, sizeof *w);
    w->mp = mp;
    w->id = *id;
    w->timeout_ms = NEVER_MS;
    w->rc = 1;
    ck_assert_int_eq(sem_init(&w->started, 0, 0), 0);
    ck_assert_int_eq(pthread_create(th, NULL, waiter_main, w), 0);
    sem_wait(&w->started);
}

START_TEST(test_wait_wakes_on_commit) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t = make_tx(K[0], 1, NULL);
    ADD_OK(mp, &t);
    waiter w;
    pthread_t th;
    waiter_start(&w, &th, mp, &t.id);
    /* The waiter is (about to be) blocked; commit from this thread. Either
     * way round the answer is the block's height. */
    uint64_t h = produce_all(mp);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(w.rc, 0);
    ck_assert_uint_eq(w.height, h);
    sem_destroy(&w.started);
    raw_free(&t);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_wait_wakes_on_drop) {
    esg_mempool *mp = mp_new(0, 0);
    fx_key p = fx_key_new();
    raw_tx a = make_tx(K[0], 1, &p.pk), b = make_tx(K[1], 1, &p.pk);
    ADD_OK(mp, &a);
    ADD_OK(mp, &b);
    waiter w;
    pthread_t th;
    waiter_start(&w, &th, mp, &b.id);
    esg_exec_item items[4];
    esg_produced out;
    ck_assert_uint_eq(produce(mp, items, 4, &out), 2);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(w.rc, ESG_ERR_ACCOUNT_EXISTS);
    ck_assert_str_eq(w.msg, items[1].msg);
    sem_destroy(&w.started);
    raw_free(&a);
    raw_free(&b);
    esg_seckey_wipe(&p.sk);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_shutdown_wakes_waiters) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t = make_tx(K[0], 1, NULL);
    ADD_OK(mp, &t);
    waiter w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        waiter_start(&w[i], &th[i], mp, &t.id);
    esg_mempool_shutdown(mp);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(w[i].rc, ESG_ERR_TIMEOUT);
        sem_destroy(&w[i].started);
    }
    /* Later waits return at once. */
    uint64_t h;
    ck_assert_int_eq(wait_for(mp, &t, NEVER_MS, &h, NULL, 0), ESG_ERR_TIMEOUT);
    raw_free(&t);
    esg_mempool_free(mp);
}
END_TEST

/* ---------------------------------------------------------- stats, notify */

static void count_notify(void *arg) {
    __atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
}

START_TEST(test_notify_and_stats) {
    int notified = 0;
    esg_mempool *mp;
    ck_assert_int_eq(esg_mempool_new(&mp, F->store, F->ct, NULL, count_notify, &notified), 0);
    raw_tx a = make_tx(K[0], 1, NULL), b = make_tx(K[0], 2, NULL), gap = make_tx(K[1], 3, NULL);
    ADD_OK(mp, &a);
    ADD_OK(mp, &b);
    ck_assert_int_eq(add(mp, &gap, NULL, 0), ESG_ERR_NONCE);
    ck_assert_int_eq(add(mp, &a, NULL, 0), ESG_ERR_DUPLICATE_TX);
    ck_assert_int_eq(notified, 2); /* admissions only */
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.txs, 2);
    ck_assert_uint_eq(st.bytes, a.len + b.len);
    ck_assert_uint_eq(st.admitted, 2);
    ck_assert_uint_eq(st.rejected, 2);
    ck_assert_uint_eq(st.dropped, 0);
    ck_assert_uint_eq(st.committed, 0);
    produce_all(mp);
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.txs, 0);
    ck_assert_uint_eq(st.bytes, 0);
    ck_assert_uint_eq(st.committed, 2);
    ck_assert_uint_eq(st.admitted, 2);
    raw_free(&a);
    raw_free(&b);
    raw_free(&gap);
    esg_mempool_free(mp);
}
END_TEST

START_TEST(test_free_with_pending) {
    /* Freeing a pool that still holds transactions leaks nothing (ASan). */
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t[3] = {make_tx(K[0], 1, NULL), make_tx(K[1], 1, NULL), make_tx(K[0], 2, NULL)};
    for (int i = 0; i < 3; i++)
        ADD_OK(mp, &t[i]);
    esg_mempool_free(mp);
    esg_mempool_free(NULL);
    for (int i = 0; i < 3; i++)
        raw_free(&t[i]);
}
END_TEST

/* ---------------------------------------------------------- concurrency */

#define PER_THREAD 8

typedef struct adder {
    esg_mempool *mp;
    pthread_barrier_t *go;
    raw_tx *txs;
    size_t n;
    int rcs[PER_THREAD];
} adder;

static void *adder_main(void *arg) {
    adder *a = arg;
    pthread_barrier_wait(a->go);
    for (size_t i = 0; i < a->n; i++) {
        esg_hash id;
        a->rcs[i] = esg_mempool_add(a->mp, a->txs[i].b, a->txs[i].len, &id, NULL, 0);
    }
    return NULL;
}

START_TEST(test_concurrent_admission) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx txs[N_MEMBERS][PER_THREAD];
    for (size_t s = 0; s < N_MEMBERS; s++)
        for (size_t i = 0; i < PER_THREAD; i++)
            txs[s][i] = make_tx(K[s], i + 1, NULL);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, N_MEMBERS);
    adder ad[N_MEMBERS];
    pthread_t th[N_MEMBERS];
    for (size_t s = 0; s < N_MEMBERS; s++) {
        ad[s] = (adder){.mp = mp, .go = &go, .txs = txs[s], .n = PER_THREAD};
        ck_assert_int_eq(pthread_create(&th[s], NULL, adder_main, &ad[s]), 0);
    }
    for (size_t s = 0; s < N_MEMBERS; s++)
        ck_assert_int_eq(pthread_join(th[s], NULL), 0);
    pthread_barrier_destroy(&go);
    for (size_t s = 0; s < N_MEMBERS; s++)
        for (size_t i = 0; i < PER_THREAD; i++)
            ck_assert_msg(ad[s].rcs[i] == 0, "signer %zu nonce %zu: %s", s, i + 1,
                          esg_err_name(ad[s].rcs[i]));
    esg_mempool_stats st;
    esg_mempool_stats_get(mp, &st);
    ck_assert_uint_eq(st.txs, N_MEMBERS * PER_THREAD);
    ck_assert_uint_eq(st.admitted, N_MEMBERS * PER_THREAD);
    ck_assert_uint_eq(st.rejected, 0);

    /* Each tx once, each signer's in nonce order. */
    esg_exec_item items[N_MEMBERS * PER_THREAD + 1];
    ck_assert_uint_eq(esg_mempool_reap(mp, items, N_MEMBERS * PER_THREAD + 1),
                      N_MEMBERS * PER_THREAD);
    size_t next[N_MEMBERS] = {0};
    for (size_t k = 0; k < N_MEMBERS * PER_THREAD; k++) {
        bool found = false;
        for (size_t s = 0; s < N_MEMBERS && !found; s++)
            if (next[s] < PER_THREAD && esg_hash_eq(&items[k].tx->id, &txs[s][next[s]].id)) {
                next[s]++;
                found = true;
            }
        ck_assert_msg(found, "item %zu is out of order or repeated", k);
    }
    ck_assert_uint_eq(produce_all(mp), 1);
    for (size_t s = 0; s < N_MEMBERS; s++) {
        ck_assert_uint_eq(fx_nonce(F, &K[s]->pk), PER_THREAD);
        for (size_t i = 0; i < PER_THREAD; i++)
            raw_free(&txs[s][i]);
    }
    esg_mempool_free(mp);
}
END_TEST

typedef struct dup_adder {
    esg_mempool *mp;
    pthread_barrier_t *go;
    uint8_t *raw;
    size_t len;
    int rc;
    char msg[ESG_ERRMSG_MAX];
} dup_adder;

static void *dup_main(void *arg) {
    dup_adder *a = arg;
    esg_hash id;
    pthread_barrier_wait(a->go);
    a->rc = esg_mempool_add(a->mp, a->raw, a->len, &id, a->msg, sizeof a->msg);
    return NULL;
}

START_TEST(test_concurrent_duplicates) {
    esg_mempool *mp = mp_new(0, 0);
    raw_tx t = make_tx(K[0], 1, NULL);
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, 4);
    dup_adder ad[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        ad[i] = (dup_adder){.mp = mp, .go = &go, .raw = malloc(t.len), .len = t.len};
        ck_assert_ptr_nonnull(ad[i].raw);
        memcpy(ad[i].raw, t.b, t.len);
        ck_assert_int_eq(pthread_create(&th[i], NULL, dup_main, &ad[i]), 0);
    }
    int ok = 0, dup = 0;
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ok += ad[i].rc == 0;
        dup += ad[i].rc == ESG_ERR_DUPLICATE_TX;
        free(ad[i].raw);
    }
    pthread_barrier_destroy(&go);
    ck_assert_msg(ok == 1 && dup == 3, "results %s %s %s %s: %s / %s / %s / %s",
                  esg_err_name(ad[0].rc), esg_err_name(ad[1].rc), esg_err_name(ad[2].rc),
                  esg_err_name(ad[3].rc), ad[0].msg, ad[1].msg, ad[2].msg, ad[3].msg);
    ck_assert_uint_eq(mp_size(mp), 1);
    raw_free(&t);
    esg_mempool_free(mp);
}
END_TEST

Suite *suite_mempool(void) {
    Suite *s = suite_create("mempool");
    TCase *tc = tcase_create("admission");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_admit_valid);
    tcase_add_test(tc, test_duplicate_pending);
    tcase_add_test(tc, test_duplicate_committed);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_bad_signature);
    tcase_add_test(tc, test_state_checks);
    tcase_add_test(tc, test_nonce_order);
    tcase_add_test(tc, test_max_txs);
    tcase_add_test(tc, test_max_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("blocks");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reap_order);
    tcase_add_test(tc, test_take_fresh_and_verified);
    tcase_add_test(tc, test_update_drops_failed);
    tcase_add_test(tc, test_update_rechecks_touched);
    tcase_add_test(tc, test_update_state_moved_elsewhere);
    tcase_add_test(tc, test_notify_and_stats);
    tcase_add_test(tc, test_free_with_pending);
    suite_add_tcase(s, tc);

    tc = tcase_create("block_full");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_small_blocks, teardown);
    tcase_add_test(tc, test_update_keeps_block_full);
    suite_add_tcase(s, tc);

    tc = tcase_create("wait");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_wait_unknown);
    tcase_add_test(tc, test_wait_wakes_on_commit);
    tcase_add_test(tc, test_wait_wakes_on_drop);
    tcase_add_test(tc, test_shutdown_wakes_waiters);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_concurrent_admission);
    tcase_add_test(tc, test_concurrent_duplicates);
    suite_add_tcase(s, tc);
    return s;
}
