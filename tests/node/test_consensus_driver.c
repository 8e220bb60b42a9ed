/* node/consensus_driver.c through its public API: real validators in one
 * process, each with its own datadir (tu_tmpdir), real LMDB store (one
 * shared genesis written by esg_exec_genesis), mempool and the real
 * contract table -- node/node.c's multi-node set-up -- all on ONE libuv
 * loop run by the test's thread. Drivers listen on 127.0.0.1:0 and are
 * connected with esg_driver_add_peer. Transactions are AddAccount actions
 * signed by the admin of the genesis member "city-a".
 *
 * Waiting is always "run the loop until a condition holds", bounded by a
 * generous deadline; no sleeps. The one bounded run that asserts an
 * absence is the idle window of test_idle_makes_no_blocks. Every test ends
 * with every driver closed and uv_loop_close() == 0 (nothing left running).
 *
 * ESG_DRIVER_TEST_LOG=1 prints every driver's log on stderr (debugging). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "../ledger/exec_fixture.h"
#include "contracts/contracts.h"
#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/contract.h"
#include "ledger/error.h"
#include "ledger/genesis.h"
#include "ledger/store.h"
#include "ledger/txbuild.h"
#include "node/consensus_driver.h"
#include "node/mempool.h"
#include "testutil.h"
#include "uvwait.h"

#define CHAIN "esg-driver-test"
#define DEADLINE_MS 20000
#define MAX_NODES 4
#define MAX_TX_HEIGHTS 16
#define STEP_IDLE 4u /* esg_driver_metrics.step while the idle gate holds */

/* ------------------------------------------------------------ the loop */

static uv_loop_t loop;
static tu_deadline deadline;

/* Runs the loop until `cond` holds; fails the test after DEADLINE_MS. */
#define RUN_UNTIL(cond) TU_RUN_UNTIL(&loop, &deadline, DEADLINE_MS, cond)

/* Runs the loop for `ms` whatever happens (only for asserting absence). */
static void run_for(uint64_t ms) { tu_run_for(&loop, &deadline, ms); }

/* ------------------------------------------------------------ the world */

/* One validator: its datadir, store, mempool and driver, and what
 * on_committed reported since the driver was (re)created. */
typedef struct dnode {
    char dir[256];
    kp key;
    esg_store *store;
    esg_mempool *mp;
    esg_driver *d;
    uint64_t last_height; /* tip when started, then each reported height */
    size_t n_blocks, n_txs;
    uint64_t tx_heights[MAX_TX_HEIGHTS]; /* heights of blocks with txs */
    size_t n_tx_heights;
    uint64_t max_behind; /* largest `behind` esg_driver_sync_info reported */
    bool saw_syncing;
} dnode;

static dnode nodes[MAX_NODES];
static size_t n_nodes;
static kp admin;           /* city-a's admin: signs every test tx */
static uint64_t admin_nonce;
static esg_genesis *genesis;
static esg_logger test_log = {ESG_LOG_DEBUG, NULL};

static const esg_logger *logger(void) { return getenv("ESG_DRIVER_TEST_LOG") ? &test_log : NULL; }

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static esg_store_meta meta_of(dnode *n) {
    MDB_txn *txn;
    esg_store_meta m;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    ck_assert_int_eq(esg_store_meta_get(txn, n->store, &m), 0);
    esg_store_read_end(txn);
    return m;
}

static uint64_t tip_of(dnode *n) { return meta_of(n).height; }

/* Block `h` of node `n` (bytes, malloc'd). */
static uint8_t *block_of(dnode *n, uint64_t h, size_t *len) {
    MDB_txn *txn;
    MDB_val bv;
    ck_assert_int_eq(esg_store_read_begin(n->store, &txn), 0);
    int rc = esg_store_block_get(txn, n->store, h, &bv, NULL);
    ck_assert_msg(rc == 0, "block %llu: %s", (unsigned long long)h, esg_err_name(rc));
    uint8_t *out = malloc(bv.mv_size);
    ck_assert_ptr_nonnull(out);
    memcpy(out, bv.mv_data, bv.mv_size);
    *len = bv.mv_size;
    esg_store_read_end(txn);
    return out;
}

/* Heights 1..h hold the same block bytes (hence hashes) on nodes[0..n). */
static void assert_same_blocks(size_t n, uint64_t h) {
    for (uint64_t k = 1; k <= h; k++) {
        size_t l0;
        uint8_t *b0 = block_of(&nodes[0], k, &l0);
        for (size_t i = 1; i < n; i++) {
            size_t li;
            uint8_t *bi = block_of(&nodes[i], k, &li);
            ck_assert_msg(li == l0 && memcmp(bi, b0, l0) == 0,
                          "block %llu differs between node 0 and node %zu",
                          (unsigned long long)k, i);
            free(bi);
        }
        free(b0);
    }
}

static void mempool_open(dnode *n) {
    esg_mempool_limits lim = {1000, 1u << 20};
    ck_assert_int_eq(esg_mempool_new(&n->mp, n->store, esg_contracts(), &lim, NULL, NULL), 0);
}

/* A genesis with `nv` validators of equal power (operated by city-a) and
 * one store per validator holding it. */
static void world_init(size_t nv) {
    ck_assert_uint_le(nv, MAX_NODES);
    admin = ef_key_new();
    admin_nonce = 0;
    /* Block times are wall-clock times after the genesis time. */
    esg_genesis *g = esg_genesis_new(CHAIN, (now_ms() / 1000 - 3600) * 1000);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(
        esg_genesis_add_member(g, "city-a", ESG_KIND_CITY, "City A", "DE", &admin.pk), 0);
    for (size_t i = 0; i < nv; i++) {
        nodes[i].key = ef_key_new();
        ck_assert_int_eq(esg_genesis_add_validator(g, &nodes[i].key.pk, 10, "city-a"), 0);
    }
    ef_genesis_reload(g, &genesis);
    for (size_t i = 0; i < nv; i++) {
        dnode *n = &nodes[i];
        tu_tmpdir(n->dir, sizeof n->dir);
        ck_assert_int_eq(esg_store_open(&n->store, n->dir, true), 0);
        ck_assert_int_eq(esg_exec_genesis(n->store, genesis), 0);
        mempool_open(n);
    }
    n_nodes = nv;
}

static esg_cons_config small_timeouts(void) {
    esg_cons_config c;
    esg_cons_config_default(&c);
    c.propose_ms = 300;
    c.propose_delta_ms = 100;
    c.prevote_ms = c.precommit_ms = 200;
    c.prevote_delta_ms = c.precommit_delta_ms = 100;
    c.commit_ms = 50;
    return c;
}

/* Polls n's sync info, remembering the largest `behind` and whether n was
 * ever syncing. Returns whether it is behind or syncing now. */
static bool record_sync(dnode *n) {
    size_t p;
    bool syncing;
    uint64_t behind;
    esg_driver_sync_info(n->d, &p, &syncing, &behind);
    if (behind > n->max_behind)
        n->max_behind = behind;
    n->saw_syncing |= syncing;
    return behind > 0 || syncing;
}

/* n is at `tip`, neither behind nor syncing (and the poll is recorded). */
static bool caught_up(dnode *n, uint64_t tip) { return !record_sync(n) && tip_of(n) == tip; }

static void on_committed(void *ctx, uint64_t height, size_t n_txs, uint64_t apply_us) {
    (void)apply_us;
    dnode *n = ctx;
    record_sync(n); /* a synced block is reported while still behind */
    /* Once per stored block, in order, after it is in the store. */
    ck_assert_uint_eq(height, n->last_height + 1);
    ck_assert_uint_eq(tip_of(n), height);
    n->last_height = height;
    n->n_blocks++;
    n->n_txs += n_txs;
    if (n_txs) {
        ck_assert_uint_lt(n->n_tx_heights, MAX_TX_HEIGHTS);
        n->tx_heights[n->n_tx_heights++] = height;
    }
}

/* Creates and starts n's driver (listening on a free port) with the
 * consensus settings `cons`. */
static void node_start_with(dnode *n, uint64_t heartbeat_ms, const esg_cons_config *cons) {
    ck_assert_ptr_null(n->d);
    n->last_height = tip_of(n);
    n->n_blocks = n->n_txs = n->n_tx_heights = 0;
    n->max_behind = 0;
    n->saw_syncing = false;
    esg_driver_config dc = {
        .loop = &loop, .store = n->store, .ct = esg_contracts(), .mp = n->mp,
        .log = logger(), .datadir = n->dir, .key = &n->key.sk, .p2p_addr = "127.0.0.1:0",
        .max_clock_drift_ms = 10000, .heartbeat_ms = heartbeat_ms, .cons = *cons,
        .on_committed = on_committed, .ctx = n,
    };
    char err[256] = "";
    int rc = esg_driver_new(&n->d, &dc, err, sizeof err);
    ck_assert_msg(rc == 0, "esg_driver_new: %s: %s", esg_err_name(rc), err);
    ck_assert_uint_eq(esg_driver_p2p_port(n->d), 0); /* not listening before start */
    rc = esg_driver_start(n->d, err, sizeof err);
    ck_assert_msg(rc == 0, "esg_driver_start: %s: %s", esg_err_name(rc), err);
    ck_assert_uint_ne(esg_driver_p2p_port(n->d), 0);
}

/* node_start_with the test timeouts. */
static void node_start(dnode *n, uint64_t heartbeat_ms) {
    esg_cons_config c = small_timeouts();
    node_start_with(n, heartbeat_ms, &c);
}

static void node_close(dnode *n) {
    esg_driver_close(n->d);
    n->d = NULL;
}

/* `from` dials `to`. */
static void dial(dnode *from, dnode *to) {
    char spec[32];
    snprintf(spec, sizeof spec, "127.0.0.1:%u", (unsigned)esg_driver_p2p_port(to->d));
    ck_assert_int_eq(esg_driver_add_peer(from->d, spec), 0);
}

static void connect_all(size_t n) {
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            dial(&nodes[j], &nodes[i]);
}

static size_t peers_of(dnode *n) {
    size_t p;
    bool syncing;
    uint64_t behind;
    esg_driver_sync_info(n->d, &p, &syncing, &behind);
    return p;
}

static bool all_peered(size_t n, size_t want) {
    for (size_t i = 0; i < n; i++)
        if (peers_of(&nodes[i]) != want)
            return false;
    return true;
}

static esg_driver_metrics metrics_of(dnode *n) {
    esg_driver_metrics m;
    memset(&m, 0xa5, sizeof m);
    esg_driver_metrics_get(n->d, &m);
    return m;
}

/* A fresh AddAccount by city-a's admin, admitted to n's mempool as the API
 * would, then gossiped. Returns its id. */
static esg_hash submit_tx(dnode *n) {
    kp fresh = ef_key_new();
    esg_seckey_wipe(&fresh.sk);
    static const esg_pb_role officer[] = {ESG_ROLE_OFFICER};
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    aa.pubkey = esg_pb_bin(fresh.pk.b, 32);
    aa.roles = (esg_pb_role *)officer;
    aa.n_roles = 1;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.chain_id = CHAIN;
    body.nonce = ++admin_nonce;
    body.signer = esg_pb_bin(admin.pk.b, 32);
    body.action_case = ESG_ACTION_ADD_ACCOUNT;
    body.add_account = &aa;
    uint8_t *raw;
    size_t len;
    ck_assert_int_eq(esg_txb_sign_body(&raw, &len, &body, &admin.sk, 1), 0);
    esg_hash id;
    char msg[ESG_ERRMSG_MAX] = "";
    int rc = esg_mempool_add(n->mp, raw, len, &id, msg, sizeof msg);
    free(raw);
    ck_assert_msg(rc == 0, "admission: %s: %s", esg_err_name(rc), msg);
    esg_driver_txs_admitted(n->d);
    return id;
}

/* The height the mempool of n reports for committed tx `id`. */
static uint64_t committed_at(dnode *n, const esg_hash *id) {
    uint64_t h = 0;
    char msg[ESG_ERRMSG_MAX];
    int rc = esg_mempool_wait(n->mp, id, 0, &h, msg, sizeof msg);
    ck_assert_msg(rc == 0, "tx not committed: %s: %s", esg_err_name(rc), msg);
    return h;
}

static bool all_txs(size_t n, size_t want) {
    for (size_t i = 0; i < n; i++)
        if (nodes[i].n_txs < want)
            return false;
    return true;
}

static bool all_idle(size_t n) {
    for (size_t i = 0; i < n; i++)
        if (metrics_of(&nodes[i]).step != STEP_IDLE)
            return false;
    return true;
}

/* ------------------------------------------------------ begin and end */

static void setup(void) {
    signal(SIGPIPE, SIG_IGN); /* as esgnode must (p2p.h) */
    memset(nodes, 0, sizeof nodes);
    n_nodes = 0;
    genesis = NULL;
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tu_deadline_init(&deadline, &loop), 0);
}

/* Closes every driver, runs the loop until every handle is closed and
 * checks the loop closes (nothing left running), then frees the world. */
static void teardown(void) {
    for (size_t i = 0; i < MAX_NODES; i++)
        node_close(&nodes[i]);
    uv_close((uv_handle_t *)&deadline.timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    for (size_t i = 0; i < n_nodes; i++) {
        dnode *n = &nodes[i];
        esg_mempool_free(n->mp);
        esg_store_close(n->store);
        tu_rmtree(n->dir);
        esg_seckey_wipe(&n->key.sk);
    }
    esg_seckey_wipe(&admin.sk);
    esg_genesis_free(genesis);
}

/* ------------------------------------------------------------ the tests */

/* A single-validator set is a legal network: the driver commits alone. */
START_TEST(test_single_validator_commits) {
    world_init(1);
    dnode *a = &nodes[0];
    node_start(a, 0);
    esg_driver_metrics m = metrics_of(a);
    ck_assert_uint_eq(m.height, 1);         /* consensus at tip + 1 */
    ck_assert_uint_eq(m.step, STEP_IDLE);   /* nothing to do yet */
    ck_assert_uint_eq(m.heights_decided, 0);

    esg_hash id = submit_tx(a);
    RUN_UNTIL(a->n_blocks >= 1);
    ck_assert_uint_eq(a->n_blocks, 1);
    ck_assert_uint_eq(a->last_height, 1);
    ck_assert_uint_eq(a->n_txs, 1);
    ck_assert_uint_eq(tip_of(a), 1);
    ck_assert_uint_eq(committed_at(a, &id), 1); /* a waiting client learns it */
    esg_mempool_stats st;
    esg_mempool_stats_get(a->mp, &st);
    ck_assert_uint_eq(st.txs, 0);
}
END_TEST

/* heartbeat_ms 0: an idle network makes no block. Three connected
 * validators wait together at the start of height 1. */
START_TEST(test_idle_makes_no_blocks) {
    world_init(3);
    for (size_t i = 0; i < 3; i++)
        node_start(&nodes[i], 0);
    connect_all(3);
    RUN_UNTIL(all_peered(3, 2));
    run_for(1000); /* the bounded idle window: asserting absence */
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(nodes[i].n_blocks, 0);
        ck_assert_uint_eq(tip_of(&nodes[i]), 0);
        esg_driver_metrics m = metrics_of(&nodes[i]);
        ck_assert_uint_eq(m.height, 1);
        ck_assert_uint_eq(m.step, STEP_IDLE);
        ck_assert_uint_eq(m.heights_decided, 0);
        ck_assert_uint_eq(m.rounds_total, 0);
    }
}
END_TEST

/* heartbeat_ms > 0: empty blocks appear without transactions, the same on
 * every validator. */
START_TEST(test_heartbeat_makes_empty_blocks) {
    world_init(3);
    for (size_t i = 0; i < 3; i++)
        node_start(&nodes[i], 100);
    connect_all(3);
    RUN_UNTIL(nodes[0].n_blocks >= 2 && nodes[1].n_blocks >= 2 && nodes[2].n_blocks >= 2);
    for (size_t i = 0; i < 3; i++)
        ck_assert_uint_eq(nodes[i].n_txs, 0);
    assert_same_blocks(3, 2);
}
END_TEST

/* A tx admitted on one validator is committed by all three at the same
 * height, in the same block. */
START_TEST(test_three_validators_agree) {
    world_init(3);
    for (size_t i = 0; i < 3; i++)
        node_start(&nodes[i], 0);
    connect_all(3);
    /* Transactions are gossiped once, on admission: connect first. */
    RUN_UNTIL(all_peered(3, 2));
    esg_hash id = submit_tx(&nodes[1]);
    RUN_UNTIL(all_txs(3, 1));
    uint64_t h = nodes[0].tx_heights[0];
    ck_assert_uint_ge(h, 1);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(nodes[i].n_tx_heights, 1);
        ck_assert_uint_eq(nodes[i].tx_heights[0], h);
        ck_assert_uint_eq(nodes[i].n_txs, 1);
        /* Every node's mempool learnt it: a client waiting anywhere. */
        ck_assert_uint_eq(committed_at(&nodes[i], &id), h);
    }
    /* Nothing else to do: no further block; every tip is h. */
    RUN_UNTIL(all_idle(3));
    esg_store_meta m0 = meta_of(&nodes[0]);
    ck_assert_uint_eq(m0.height, h);
    for (size_t i = 1; i < 3; i++) {
        esg_store_meta mi = meta_of(&nodes[i]);
        ck_assert_uint_eq(mi.height, h);
        ck_assert(esg_hash_eq(&mi.block_hash, &m0.block_hash));
        ck_assert(esg_hash_eq(&mi.app_hash, &m0.app_hash));
    }
    assert_same_blocks(3, h);
}
END_TEST

/* Four validators, three live: they commit; the fourth starts late and
 * catches up by block sync, then takes part. */
START_TEST(test_late_validator_syncs) {
    world_init(4);
    for (size_t i = 0; i < 3; i++)
        node_start(&nodes[i], 0);
    connect_all(3);
    RUN_UNTIL(all_peered(3, 2));
    for (size_t k = 1; k <= 3; k++) {
        submit_tx(&nodes[k - 1]);
        RUN_UNTIL(all_txs(3, k));
    }
    RUN_UNTIL(all_idle(3));
    uint64_t tip = tip_of(&nodes[0]);
    ck_assert_uint_ge(tip, 3);
    for (size_t i = 1; i < 3; i++)
        ck_assert_uint_eq(tip_of(&nodes[i]), tip);

    /* The late one. */
    dnode *d = &nodes[3];
    node_start(d, 0);
    for (size_t i = 0; i < 3; i++)
        dial(d, &nodes[i]);
    RUN_UNTIL(caught_up(d, tip));
    ck_assert_msg(d->max_behind > 0 && d->saw_syncing,
                  "never reported behind (%llu) and syncing",
                  (unsigned long long)d->max_behind);
    ck_assert_uint_eq(d->n_blocks, tip);
    ck_assert_uint_eq(d->n_txs, 3);
    assert_same_blocks(4, tip);
    /* Synced, not decided by this node's consensus. */
    esg_driver_metrics m = metrics_of(d);
    ck_assert_uint_eq(m.heights_decided, 0);
    ck_assert_uint_eq(m.height, tip + 1);

    /* It takes part now: a tx admitted on it is committed by all four. */
    RUN_UNTIL(peers_of(d) == 3);
    submit_tx(d);
    RUN_UNTIL(all_txs(3, 4) && d->n_txs == 4);
    uint64_t h = d->tx_heights[d->n_tx_heights - 1];
    for (size_t i = 0; i < 3; i++)
        ck_assert_uint_eq(nodes[i].tx_heights[3], h);
    assert_same_blocks(4, h);
}
END_TEST

/* Restarts: a validator that signed votes at a height that cannot be
 * decided yet is closed and re-created on the same datadir and store; it
 * resumes at tip + 1 with what it signed, without equivocating, and the
 * network (which needs all three validators) commits again. */
START_TEST(test_restart_resumes) {
    world_init(3);
    dnode *a = &nodes[0], *b = &nodes[1], *c = &nodes[2];
    for (size_t i = 0; i < 3; i++)
        node_start(&nodes[i], 0);
    connect_all(3);
    RUN_UNTIL(all_peered(3, 2));
    submit_tx(a);
    RUN_UNTIL(all_txs(3, 1));
    uint64_t tip = tip_of(a);

    /* B goes away: A and C hold 2/3 of the power, not more: no decision. */
    node_close(b);
    RUN_UNTIL(peers_of(a) == 1 && peers_of(c) == 1);
    submit_tx(a);
    /* Both start height tip + 1 and sign their prevote of round 0. */
    RUN_UNTIL(metrics_of(a).height == tip + 1 && metrics_of(a).step == ESG_CONS_STEP_PREVOTE &&
              metrics_of(c).height == tip + 1 && metrics_of(c).step == ESG_CONS_STEP_PREVOTE);
    ck_assert_uint_eq(a->n_blocks, 1);

    /* C goes away too ("run the loop until its handles close": A sees it
     * leave), as a process restart would lose its mempool. */
    node_close(c);
    RUN_UNTIL(peers_of(a) == 0);
    esg_mempool_free(b->mp);
    esg_mempool_free(c->mp);
    mempool_open(b);
    mempool_open(c);

    /* Both come back on the same datadirs and stores. */
    node_start(b, 0);
    node_start(c, 0);
    ck_assert_uint_eq(metrics_of(b).height, tip + 1);
    ck_assert_uint_eq(metrics_of(c).height, tip + 1);
    dial(b, a);
    dial(c, a);
    dial(c, b);
    /* The tx still waiting on A is committed by all three. */
    RUN_UNTIL(a->n_txs == 2 && b->n_txs == 1 && c->n_txs == 1);
    RUN_UNTIL(all_idle(3));
    uint64_t h = tip_of(a);
    ck_assert_uint_gt(h, tip);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(tip_of(&nodes[i]), h);
        /* No validator saw a second, different vote of another. */
        ck_assert_uint_eq(metrics_of(&nodes[i]).evidence_total, 0);
    }
    ck_assert_uint_eq(b->tx_heights[0], a->tx_heights[1]);
    ck_assert_uint_eq(c->tx_heights[0], a->tx_heights[1]);
    /* The restarted ones stored every block after their tip, in order
     * (on_committed checks the order), from tip + 1 on. */
    ck_assert_uint_eq(b->n_blocks, h - tip);
    ck_assert_uint_eq(c->n_blocks, h - tip);
    assert_same_blocks(3, h);
}
END_TEST

/* A message a validator took and then lost is delivered again. X keeps
 * one message of the next height while it waits out a long commit pause
 * (max_future_msgs 1, commit 1500 ms); Y, with a short pause, starts
 * every next height during X's pause, so when Y proposes, X keeps the
 * proposal and drops Y's prevote -- after its gossip had marked the
 * prevote's bytes seen. Each height needs both validators. Before
 * validators told each other what they hold (ConsensusState), Y's
 * re-sends were dropped as seen and the first height Y proposed stalled
 * for ever, X in prevote and Y in precommit. Now X's state shows the
 * missing prevote, Y sends it again and X takes it although its bytes
 * were seen. */
START_TEST(test_lost_messages_are_delivered_again) {
    world_init(2);
    dnode *x = &nodes[0], *y = &nodes[1];
    esg_cons_config cx = small_timeouts(), cy = small_timeouts();
    cx.max_future_msgs = 1;
    cx.commit_ms = 1500;
    node_start_with(x, 1, &cx);
    node_start_with(y, 1, &cy);
    connect_all(2);
    RUN_UNTIL(all_peered(2, 1));
    /* With a heartbeat both make empty blocks; Y proposes every other
     * height, each started during X's pause. */
    RUN_UNTIL(tip_of(x) >= 5 && tip_of(y) >= 5);
    assert_same_blocks(2, 5);
    ck_assert_uint_eq(metrics_of(x).evidence_total, 0);
}
END_TEST

/* The counters /metrics shows, after a few blocks. */
START_TEST(test_metrics) {
    world_init(3);
    for (size_t i = 0; i < 3; i++)
        node_start(&nodes[i], 0);
    connect_all(3);
    RUN_UNTIL(all_peered(3, 2));
    for (size_t k = 1; k <= 3; k++) {
        submit_tx(&nodes[0]);
        RUN_UNTIL(all_txs(3, k));
    }
    /* The byte counters are refreshed every second. */
    RUN_UNTIL(all_idle(3) && metrics_of(&nodes[0]).p2p_bytes_in > 0 &&
              metrics_of(&nodes[1]).p2p_bytes_in > 0 && metrics_of(&nodes[2]).p2p_bytes_in > 0);
    for (size_t i = 0; i < 3; i++) {
        uint64_t tip = tip_of(&nodes[i]);
        esg_driver_metrics m = metrics_of(&nodes[i]);
        ck_assert_uint_ge(tip, 3);
        ck_assert_uint_ge(m.heights_decided, 1);
        ck_assert_uint_le(m.heights_decided, tip);
        ck_assert_uint_ge(m.rounds_total, m.heights_decided);
        ck_assert_uint_eq(m.height, tip + 1);
        ck_assert_uint_eq(m.round, 0);
        ck_assert_uint_eq(m.step, STEP_IDLE);
        ck_assert_uint_gt(m.p2p_bytes_out, 0);
        ck_assert_uint_eq(m.evidence_total, 0);
    }
}
END_TEST

/* What the API refuses, with a reason. */
START_TEST(test_errors) {
    world_init(1);
    dnode *a = &nodes[0];
    esg_driver_config dc = {
        .loop = &loop, .store = a->store, .ct = esg_contracts(), .mp = a->mp,
        .log = logger(), .datadir = a->dir, .key = &a->key.sk, .p2p_addr = "127.0.0.1:0",
        .max_clock_drift_ms = 10000, .cons = small_timeouts(),
    };
    char err[256];
    static char junk;
    esg_driver *d = (esg_driver *)(void *)&junk; /* failures must set it to NULL */

    /* A listen address that is not ADDR:PORT. */
    dc.p2p_addr = "not-an-address";
    err[0] = '\0';
    ck_assert_int_eq(esg_driver_new(&d, &dc, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(d);
    ck_assert_str_ne(err, "");
    dc.p2p_addr = "127.0.0.1:0";

    /* A datadir that does not exist: the signer's state cannot be kept. */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no/such/dir", a->dir);
    dc.datadir = missing;
    d = (esg_driver *)(void *)&junk;
    err[0] = '\0';
    ck_assert_int_eq(esg_driver_new(&d, &dc, err, sizeof err), ESG_ERR_IO);
    ck_assert_ptr_null(d);
    ck_assert_ptr_nonnull(strstr(err, missing));
    dc.datadir = a->dir;

    /* A store without a chain. */
    char empty_dir[256];
    tu_tmpdir(empty_dir, sizeof empty_dir);
    esg_store *empty;
    ck_assert_int_eq(esg_store_open(&empty, empty_dir, true), 0);
    dc.store = empty;
    dc.datadir = empty_dir;
    err[0] = '\0';
    ck_assert_int_ne(esg_driver_new(&d, &dc, err, sizeof err), 0);
    ck_assert_ptr_null(d);
    ck_assert_ptr_nonnull(strstr(err, "chain head"));
    esg_store_close(empty);
    tu_rmtree(empty_dir);
    dc.store = a->store;
    dc.datadir = a->dir;

    /* The datadir's signer state belongs to this key: another key is
     * refused (it could double-sign what the first one signed). */
    ck_assert_int_eq(esg_driver_new(&d, &dc, err, sizeof err), 0);
    esg_driver_close(d);
    kp other = ef_key_new();
    dc.key = &other.sk;
    err[0] = '\0';
    ck_assert_int_eq(esg_driver_new(&d, &dc, err, sizeof err), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(d);
    ck_assert_str_ne(err, "");
    esg_seckey_wipe(&other.sk);
    dc.key = &a->key.sk;

    /* Before start: no port, no peers; a peer address must be host:port. */
    ck_assert_int_eq(esg_driver_new(&a->d, &dc, err, sizeof err), 0);
    ck_assert_uint_eq(esg_driver_p2p_port(a->d), 0);
    size_t peers = 9;
    bool syncing = true;
    uint64_t behind = 9;
    esg_driver_sync_info(a->d, &peers, &syncing, &behind);
    ck_assert_uint_eq(peers, 0);
    ck_assert(!syncing);
    ck_assert_uint_eq(behind, 0);
    ck_assert_int_eq(esg_driver_add_peer(a->d, "no-port-here"), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_driver_add_peer(a->d, "127.0.0.1:99999"), ESG_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(esg_driver_add_peer(a->d, "127.0.0.1:9"), 0);
    ck_assert_int_eq(esg_driver_add_peer(a->d, "127.0.0.1:9"), 0); /* once is enough */
    err[0] = '\0';
    ck_assert_int_eq(esg_driver_start(a->d, err, sizeof err), 0);
    uint16_t port = esg_driver_p2p_port(a->d);
    ck_assert_uint_ne(port, 0);

    /* A listen address in use: start fails with a reason; close is fine. */
    char busy[32], dir2[256];
    snprintf(busy, sizeof busy, "127.0.0.1:%u", (unsigned)port);
    tu_tmpdir(dir2, sizeof dir2);
    dc.p2p_addr = busy;
    dc.datadir = dir2;
    ck_assert_int_eq(esg_driver_new(&d, &dc, err, sizeof err), 0);
    err[0] = '\0';
    ck_assert_int_eq(esg_driver_start(d, err, sizeof err), ESG_ERR_IO);
    ck_assert_str_ne(err, "");
    esg_driver_close(d);
    esg_driver_close(NULL); /* a no-op */
    node_close(a);
    uv_run(&loop, UV_RUN_DEFAULT); /* let the handles close before rmtree */
    tu_rmtree(dir2);
}
END_TEST

Suite *suite_consensus_driver(void) {
    Suite *s = suite_create("consensus_driver");
    TCase *tc = tcase_create("driver");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_single_validator_commits);
    tcase_add_test(tc, test_idle_makes_no_blocks);
    tcase_add_test(tc, test_heartbeat_makes_empty_blocks);
    tcase_add_test(tc, test_three_validators_agree);
    tcase_add_test(tc, test_late_validator_syncs);
    tcase_add_test(tc, test_restart_resumes);
    tcase_add_test(tc, test_metrics);
    tcase_add_test(tc, test_lost_messages_are_delivered_again);
    suite_add_tcase(s, tc);
    return s;
}
