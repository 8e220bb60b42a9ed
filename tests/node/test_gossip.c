/* node/gossip.c: P2pMessages over the peer transport.
 *
 * Two or three gossip instances run on one libuv loop in the test's thread,
 * with real sockets on 127.0.0.1 (port 0) and a real mempool each, over its
 * own LMDB store holding the same genesis (the contract suites' fixture
 * builds it). Topologies are made with esg_p2p_add_peer on the transport
 * the gossip owns; "A - B - C" is a line: A and C both dial B and are not
 * connected to each other.
 *
 * Messages arrive in order on one connection, so "X did not happen" is
 * checked by sending a marker after X on the same path and waiting for the
 * marker: anything X would have caused would have arrived first. Waiting is
 * always "run the loop until a condition holds", bounded by a deadline
 * timer (as in test_p2p.c); there are no sleeps. Every test ends with every
 * gossip closed and uv_loop_close() == 0.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../contracts/fixture.h"
#include "../ledger/exec_fixture.h"
#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "ledger/keys.h"
#include "ledger/txbuild.h"
#include "node/gossip.h"
#include "node/mempool.h"
#include "node/p2p.h"
#include "uvwait.h"

#define DEADLINE_MS 10000

/* ------------------------------------------------------------ the loop */

static uv_loop_t loop;
static tu_deadline deadline;

/* Runs the loop until `cond` holds; fails the test after DEADLINE_MS. */
#define RUN_UNTIL(cond) TU_RUN_UNTIL(&loop, &deadline, DEADLINE_MS, cond)

/* ---------------------------------------------------------- the chain */

/* One genesis per test (check forks each test); every node's store holds it. */
static fx *F;
static const fx_key *ADMIN; /* city-a's admin: signs the test transactions */

/* A serialized AddAccount tx by ADMIN with `nonce` (caller frees). */
static uint8_t *make_tx(uint64_t nonce, size_t *len) {
    fx_key fresh = fx_key_new();
    static const esg_pb_role officer[] = {ESG_ROLE_OFFICER};
    esg_pb_add_account aa = ESG_PB_ADD_ACCOUNT_INIT;
    aa.pubkey = esg_pb_bin(fresh.pk.b, 32);
    aa.roles = (esg_pb_role *)officer;
    aa.n_roles = 1;
    esg_pb_tx_body body = ESG_PB_TX_BODY_INIT;
    body.chain_id = FX_CHAIN_ID;
    body.nonce = nonce;
    body.signer = esg_pb_bin(ADMIN->pk.b, 32);
    body.action_case = ESG_ACTION_ADD_ACCOUNT;
    body.add_account = &aa;
    uint8_t *raw;
    ck_assert_int_eq(esg_txb_sign_body(&raw, len, &body, &ADMIN->sk, 1), 0);
    esg_seckey_wipe(&fresh.sk);
    return raw;
}

/* ---------------------------------------------------------- test nodes */

typedef struct got_vote {
    esg_pubkey from;
    uint64_t height;
    uint32_t round;
} got_vote;

#define MAX_VOTES 32
#define MAX_STATE_ROUNDS 4
#define MAX_BITMAP 16

/* A RoundVotes as on_consensus_state saw it (copied: the message lives
 * only during the call). */
typedef struct got_round {
    uint32_t round;
    bool proposal;
    uint8_t prevotes[MAX_BITMAP], precommits[MAX_BITMAP];
    size_t n_prevotes, n_precommits;
} got_round;

typedef struct gnode {
    node st; /* its store, in its own directory */
    esg_mempool *mp;
    esg_gossip *g;
    esg_seckey sk;
    esg_pubkey pk;
    esg_hash genesis;
    uint64_t height;
    esg_p2p_config cfg;
    bool closed;

    /* What the handlers saw. */
    size_t hellos;
    uint64_t hello_height;
    esg_pubkey hello_from;
    size_t proposals;
    esg_pubkey proposal_from;
    got_vote votes[MAX_VOTES];
    size_t n_votes;
    uint32_t reject_round; /* on_vote refuses votes of this round (0: none) */
    size_t requests;
    esg_pubkey request_from;
    uint64_t request_height;
    uint32_t request_count;
    size_t responses;
    uint64_t response_tip;
    size_t downs;
    esg_pubkey down_key;
    bool want; /* what the wanted handler answers */
    size_t wanted_calls;
    esg_pb_p2p_msg_case wanted_case; /* the last message it was asked about */
    uint64_t wanted_height;
    uint32_t wanted_round;
    size_t states; /* ConsensusStates handled; the last one follows */
    esg_pubkey state_from;
    uint64_t state_height;
    uint32_t state_round, state_step;
    bool state_idle;
    size_t state_n_rounds;
    got_round state_rounds[MAX_STATE_ROUNDS];
} gnode;

#define MAX_NODES 4
static gnode *nodes[MAX_NODES];
static size_t n_nodes;

static int h_on_proposal(void *ctx, const esg_pubkey *from, const esg_pb_consensus_proposal *p) {
    gnode *n = ctx;
    (void)p;
    n->proposals++;
    n->proposal_from = *from;
    return ESG_OK;
}

static int h_on_vote(void *ctx, const esg_pubkey *from, const esg_pb_consensus_vote *v) {
    gnode *n = ctx;
    ck_assert_uint_lt(n->n_votes, MAX_VOTES);
    got_vote *g = &n->votes[n->n_votes++];
    g->from = *from;
    g->height = v->height;
    g->round = v->round;
    /* As the consensus driver refuses a vote whose signature fails. */
    return n->reject_round && v->round == n->reject_round ? ESG_ERR_BAD_SIGNATURE : ESG_OK;
}

static void h_on_hello(void *ctx, const esg_pubkey *from, uint64_t height) {
    gnode *n = ctx;
    n->hellos++;
    n->hello_height = height;
    n->hello_from = *from;
}

static void h_on_block_request(void *ctx, const esg_pubkey *from, const esg_pb_block_request *r) {
    gnode *n = ctx;
    n->requests++;
    n->request_from = *from;
    n->request_height = r->from_height;
    n->request_count = r->count;
}

static void h_on_block_response(void *ctx, const esg_pubkey *from,
                                const esg_pb_block_response *r) {
    gnode *n = ctx;
    (void)from;
    n->responses++;
    n->response_tip = r->tip;
}

static void h_on_peer_down(void *ctx, const esg_pubkey *peer) {
    gnode *n = ctx;
    n->downs++;
    n->down_key = *peer;
}

static bool h_wanted(void *ctx, const esg_pb_p2p_message *m) {
    gnode *n = ctx;
    n->wanted_calls++;
    n->wanted_case = m->msg_case;
    if (m->msg_case == ESG_P2P_MSG_VOTE) {
        n->wanted_height = m->vote->height;
        n->wanted_round = m->vote->round;
    } else if (m->msg_case == ESG_P2P_MSG_PROPOSAL) {
        n->wanted_height = m->proposal->height;
        n->wanted_round = m->proposal->round;
    }
    return n->want;
}

static void h_on_consensus_state(void *ctx, const esg_pubkey *from, const Esg__ConsensusState *s) {
    gnode *n = ctx;
    n->states++;
    n->state_from = *from;
    n->state_height = s->height;
    n->state_round = s->round;
    n->state_step = s->step;
    n->state_idle = s->idle;
    n->state_n_rounds = s->n_rounds;
    ck_assert_uint_le(s->n_rounds, MAX_STATE_ROUNDS);
    for (size_t i = 0; i < s->n_rounds; i++) {
        const Esg__RoundVotes *rv = s->rounds[i];
        got_round *g = &n->state_rounds[i];
        ck_assert_uint_le(rv->prevotes.len, MAX_BITMAP);
        ck_assert_uint_le(rv->precommits.len, MAX_BITMAP);
        g->round = rv->round;
        g->proposal = rv->proposal;
        g->n_prevotes = rv->prevotes.len;
        g->n_precommits = rv->precommits.len;
        if (rv->prevotes.len)
            memcpy(g->prevotes, rv->prevotes.data, rv->prevotes.len);
        if (rv->precommits.len)
            memcpy(g->precommits, rv->precommits.data, rv->precommits.len);
    }
}

static esg_hash genesis_of(esg_store *s) {
    MDB_txn *txn;
    esg_store_meta m;
    ck_assert_int_eq(esg_store_read_begin(s, &txn), 0);
    ck_assert_int_eq(esg_store_meta_get(txn, s, &m), 0);
    esg_store_read_end(txn);
    return m.genesis_hash;
}

/* A node at last final height `height`, not started: its own store with
 * the test's genesis, a mempool over it, a fresh node key, listening on
 * 127.0.0.1:0 and redialing fast. Change n->cfg or n->genesis (what its
 * Hello says), then gnode_run. */
static void gnode_init(gnode *n, uint64_t height) {
    memset(n, 0, sizeof *n);
    ck_assert_uint_lt(n_nodes, MAX_NODES);
    nodes[n_nodes++] = n;
    ef_node_open(&n->st, F->g);
    ck_assert_int_eq(esg_mempool_new(&n->mp, n->st.store, F->ct, NULL, NULL, NULL), 0);
    n->genesis = genesis_of(n->st.store);
    n->height = height;
    ck_assert_int_eq(esg_key_generate(&n->sk, &n->pk), ESG_OK);
    n->cfg.chain_id = FX_CHAIN_ID;
    n->cfg.node_key = n->sk;
    n->cfg.listen_addr = "127.0.0.1:0";
    n->cfg.handshake_timeout_ms = 5000;
    n->cfg.backoff_initial_ms = 10;
    n->cfg.backoff_max_ms = 40;
    n->cfg.jitter_seed = 42;
}

static void gnode_run(gnode *n) {
    esg_gossip_handlers h = {
        .ctx = n,
        .on_proposal = h_on_proposal,
        .on_vote = h_on_vote,
        .on_hello = h_on_hello,
        .on_block_request = h_on_block_request,
        .on_block_response = h_on_block_response,
        .on_peer_down = h_on_peer_down,
        .wanted = h_wanted, /* answers n->want: false unless a test says */
        .on_consensus_state = h_on_consensus_state,
    };
    char err[256] = "";
    int rc = esg_gossip_new(&n->g, &loop, &n->cfg, n->mp, &h, &n->genesis, n->height, err,
                            sizeof err);
    ck_assert_msg(rc == ESG_OK, "esg_gossip_new: %s", err);
    rc = esg_gossip_start(n->g, err, sizeof err);
    ck_assert_msg(rc == ESG_OK, "esg_gossip_start: %s", err);
    ck_assert_uint_ne(esg_p2p_port(esg_gossip_transport(n->g)), 0);
}

static void gnode_start(gnode *n, uint64_t height) {
    gnode_init(n, height);
    gnode_run(n);
}

/* n dials `to` (and keeps redialing it). */
static void gnode_dial(gnode *n, gnode *to) {
    char spec[32];
    snprintf(spec, sizeof spec, "127.0.0.1:%u",
             (unsigned)esg_p2p_port(esg_gossip_transport(to->g)));
    ck_assert_int_eq(esg_p2p_add_peer(esg_gossip_transport(n->g), spec), ESG_OK);
}

static esg_p2p *tp(gnode *n) { return esg_gossip_transport(n->g); }

static bool key_eq(const esg_pubkey *x, const esg_pubkey *y) {
    return memcmp(x->b, y->b, 32) == 0;
}

/* Votes of `round` that n's handler saw, from `from` (NULL: anyone). */
static size_t votes_of(const gnode *n, uint32_t round, const gnode *from) {
    size_t c = 0;
    for (size_t i = 0; i < n->n_votes; i++)
        c += n->votes[i].round == round && (!from || key_eq(&n->votes[i].from, &from->pk));
    return c;
}

static size_t pending_txs(gnode *n) {
    esg_mempool_stats s;
    esg_mempool_stats_get(n->mp, &s);
    return s.txs;
}

static esg_mempool_stats mp_stats(gnode *n) {
    esg_mempool_stats s;
    esg_mempool_stats_get(n->mp, &s);
    return s;
}

/* Payload frames n received from / sent to peer p (0 when p is not up). */
static uint64_t frames_in_from(gnode *n, const gnode *p) {
    esg_p2p_peer_info info;
    return esg_p2p_peer_get(tp(n), &p->pk, &info) ? info.frames_in : 0;
}

static uint64_t frames_out(gnode *n) {
    esg_p2p_stats s;
    esg_gossip_stats(n->g, &s);
    return s.frames_out;
}

/* ------------------------------------------------------- begin and end */

static void loop_begin(void) {
    signal(SIGPIPE, SIG_IGN); /* as esgnode must (p2p.h) */
    n_nodes = 0;
    F = fx_new();
    ADMIN = fx_add_member(F, "city-a", ESG_KIND_CITY, "City A");
    fx_start(F);
    ck_assert_int_eq(uv_loop_init(&loop), 0);
    ck_assert_int_eq(tu_deadline_init(&deadline, &loop), 0);
}

static void on_gossip_closed(void *arg) {
    gnode *n = arg;
    n->closed = true;
}

static bool all_closed(void) {
    for (size_t i = 0; i < n_nodes; i++)
        if (!nodes[i]->closed)
            return false;
    return true;
}

/* Closes every gossip, runs the loop until all are gone and checks the loop
 * closes (nothing left running); then frees mempools, stores and keys. */
static void loop_end(void) {
    for (size_t i = 0; i < n_nodes; i++) {
        gnode *n = nodes[i];
        if (n->g)
            esg_gossip_close(n->g, on_gossip_closed, n);
        else
            n->closed = true; /* never run */
        n->g = NULL;
    }
    RUN_UNTIL(all_closed());
    uv_close((uv_handle_t *)&deadline.timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ck_assert_int_eq(uv_loop_close(&loop), 0);
    for (size_t i = 0; i < n_nodes; i++) {
        gnode *n = nodes[i];
        esg_mempool_free(n->mp);
        ef_node_close(&n->st);
        esg_seckey_wipe(&n->sk);
        esg_seckey_wipe(&n->cfg.node_key);
    }
    fx_free(F);
    F = NULL;
}

/* b listens, a dials it; both have had the other's Hello. */
static void pair_up(gnode *a, gnode *b) {
    gnode_dial(a, b);
    RUN_UNTIL(a->hellos == 1 && b->hellos == 1);
}

/* A - B - C: a and c dial b; everyone has had every neighbour's Hello. */
static void line_up(gnode *a, gnode *b, gnode *c) {
    gnode_start(a, 1);
    gnode_start(b, 1);
    gnode_start(c, 1);
    gnode_dial(a, b);
    gnode_dial(c, b);
    RUN_UNTIL(a->hellos == 1 && c->hellos == 1 && b->hellos == 2);
    ck_assert_uint_eq(esg_gossip_peer_count(a->g), 1);
    ck_assert_uint_eq(esg_gossip_peer_count(b->g), 2);
    ck_assert_uint_eq(esg_gossip_peer_count(c->g), 1);
    ck_assert(!esg_p2p_peer_get(tp(a), &c->pk, &(esg_p2p_peer_info){0}));
}

/* ------------------------------------------------------------ messages */

/* A P2pMessage built on the stack with the storage its fields point to;
 * not moved after it is filled. */
typedef struct box {
    esg_pb_p2p_message m;
    union {
        esg_pb_consensus_vote vote;
        esg_pb_consensus_proposal proposal;
        esg_pb_hello hello;
        esg_pb_block_request request;
        esg_pb_block_response response;
        esg_pb_ping ping;
    } u;
    uint8_t b32[32], b64[64];
} box;

static void box_vote(box *x, const gnode *validator, uint64_t height, uint32_t round) {
    memset(x, 0, sizeof *x);
    x->m = (esg_pb_p2p_message)ESG_PB_P2P_MESSAGE_INIT;
    x->u.vote = (esg_pb_consensus_vote)ESG_PB_CONSENSUS_VOTE_INIT;
    memset(x->b32, (int)round, 32);
    memset(x->b64, 0x5a, 64);
    x->u.vote.type = ESG_VOTE_TYPE_PREVOTE;
    x->u.vote.height = height;
    x->u.vote.round = round;
    x->u.vote.block_hash = esg_pb_bin(x->b32, 32);
    x->u.vote.validator = esg_pb_bin(validator->pk.b, 32);
    x->u.vote.sig = esg_pb_bin(x->b64, 64);
    x->m.msg_case = ESG_P2P_MSG_VOTE;
    x->m.vote = &x->u.vote;
}

static void box_proposal(box *x, const gnode *proposer, uint64_t height, uint32_t round) {
    memset(x, 0, sizeof *x);
    x->m = (esg_pb_p2p_message)ESG_PB_P2P_MESSAGE_INIT;
    x->u.proposal = (esg_pb_consensus_proposal)ESG_PB_CONSENSUS_PROPOSAL_INIT;
    memset(x->b64, 0x3c, 64);
    x->u.proposal.height = height;
    x->u.proposal.round = round;
    x->u.proposal.valid_round = -1;
    static const char block[] = "not a block: the gossip does not look inside";
    x->u.proposal.block = esg_pb_bin(block, sizeof block - 1);
    x->u.proposal.proposer = esg_pb_bin(proposer->pk.b, 32);
    x->u.proposal.sig = esg_pb_bin(x->b64, 64);
    x->m.msg_case = ESG_P2P_MSG_PROPOSAL;
    x->m.proposal = &x->u.proposal;
}

/* A Hello with the given chain id and the first `ghlen` bytes of `gh`. */
static void box_hello(box *x, const char *chain, uint64_t height, const esg_hash *gh,
                      size_t ghlen) {
    memset(x, 0, sizeof *x);
    x->m = (esg_pb_p2p_message)ESG_PB_P2P_MESSAGE_INIT;
    x->u.hello = (esg_pb_hello)ESG_PB_HELLO_INIT;
    memcpy(x->b32, gh->b, 32);
    x->u.hello.chain_id = (char *)chain;
    x->u.hello.height = height;
    x->u.hello.genesis_hash = esg_pb_bin(x->b32, ghlen);
    x->m.msg_case = ESG_P2P_MSG_HELLO;
    x->m.hello = &x->u.hello;
}

static void box_tx(box *x, const uint8_t *raw, size_t len) {
    memset(x, 0, sizeof *x);
    x->m = (esg_pb_p2p_message)ESG_PB_P2P_MESSAGE_INIT;
    x->m.msg_case = ESG_P2P_MSG_TX;
    x->m.tx = esg_pb_bin(raw, len);
}

/* Broadcasts `x` from n (asserting it encodes and goes out). */
static void bcast(gnode *n, box *x) {
    ck_assert_int_eq(esg_gossip_broadcast(n->g, &x->m, NULL, NULL), ESG_OK);
}

/* ======================================================================= */

START_TEST(test_hello_and_height) {
    loop_begin();
    gnode a, b;
    gnode_start(&a, 5);
    gnode_start(&b, 7);
    ck_assert(esg_hash_eq(&a.genesis, &b.genesis)); /* the same chain */
    ck_assert_uint_eq(esg_gossip_peer_count(a.g), 0);
    pair_up(&a, &b);
    /* Each learns the other's height, from the other's key. */
    ck_assert_uint_eq(a.hello_height, 7);
    ck_assert(key_eq(&a.hello_from, &b.pk));
    ck_assert_uint_eq(b.hello_height, 5);
    ck_assert(key_eq(&b.hello_from, &a.pk));
    ck_assert_uint_eq(esg_gossip_peer_count(a.g), 1);
    ck_assert_uint_eq(esg_gossip_peer_count(b.g), 1);

    /* A new height reaches the peer. */
    esg_gossip_set_height(a.g, 6);
    RUN_UNTIL(b.hellos == 2);
    ck_assert_uint_eq(b.hello_height, 6);
    /* The same height again says nothing: the next Hello b gets is 8. */
    esg_gossip_set_height(a.g, 6);
    esg_gossip_set_height(a.g, 8);
    RUN_UNTIL(b.hellos == 3);
    ck_assert_uint_eq(b.hello_height, 8);
    /* b's height never changed: a heard it once. */
    esg_gossip_set_height(b.g, 7);
    esg_gossip_set_height(b.g, 9);
    RUN_UNTIL(a.hellos == 2);
    ck_assert_uint_eq(a.hello_height, 9);
    ck_assert_uint_eq(b.hellos, 3);
    ck_assert_uint_eq(a.downs + b.downs, 0);
    loop_end();
}
END_TEST

START_TEST(test_other_genesis_disconnected) {
    loop_begin();
    gnode a, w;
    gnode_start(&a, 1);
    esg_hash other = genesis_of(a.st.store);
    other.b[0] ^= 1;
    /* Same chain id, another genesis; w redials only after 30 s or more,
     * so there is exactly one connection in this test. */
    gnode_init(&w, 1);
    w.genesis = other;
    w.cfg.backoff_initial_ms = w.cfg.backoff_max_ms = 60000;
    gnode_run(&w);
    gnode_dial(&w, &a);
    /* The transport comes up (same chain id), the Hellos take it down. A
     * proposal w sends while it is up follows its Hello on the
     * connection: a drops it with the connection. */
    bool sent = false;
    tu_deadline_start(&deadline, DEADLINE_MS);
    while (!(a.downs == 1 && w.downs == 1) && !deadline.expired) {
        uv_run(&loop, UV_RUN_ONCE);
        if (!sent && esg_gossip_peer_count(w.g) == 1) {
            box p;
            box_proposal(&p, &w, 2, 0);
            bcast(&w, &p);
            sent = true;
        }
    }
    tu_deadline_stop(&deadline);
    ck_assert_msg(a.downs == 1 && w.downs == 1, "timed out waiting for both sides to drop");
    ck_assert_msg(sent, "w never saw the connection up");
    ck_assert(key_eq(&a.down_key, &w.pk));
    ck_assert(key_eq(&w.down_key, &a.pk));
    ck_assert_uint_eq(a.hellos + w.hellos, 0);
    ck_assert_uint_eq(a.proposals + w.proposals, 0);
    ck_assert_uint_eq(esg_gossip_peer_count(a.g), 0);
    ck_assert_uint_eq(esg_gossip_peer_count(w.g), 0);
    /* A mismatch is not misbehaviour: disconnected, not scored. */
    ck_assert_uint_eq(esg_p2p_score(tp(&a), &w.pk), 0);
    loop_end();
}
END_TEST

/* A peer on the right chain that then sends a bad Hello is dropped at
 * once, and what it sent after the Hello is not handled. */
START_TEST(test_bad_hello_mid_connection) {
    loop_begin();
    gnode a, b;
    gnode_start(&a, 3);
    gnode_start(&b, 4);
    pair_up(&a, &b); /* a dials b, and redials it when dropped */
    esg_hash right = a.genesis, wrong = a.genesis;
    wrong.b[31] ^= 0x80;

    struct {
        const char *chain;
        const esg_hash *gh;
        size_t ghlen;
    } bad[] = {
        {FX_CHAIN_ID, &wrong, 32},   /* another genesis */
        {"esg-other", &right, 32},   /* another chain */
        {FX_CHAIN_ID, &right, 31},   /* a genesis hash that is not a hash */
        {FX_CHAIN_ID, &right, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        box h, p;
        box_hello(&h, bad[i].chain, 99, bad[i].gh, bad[i].ghlen);
        box_proposal(&p, &a, 4, (uint32_t)i);
        ck_assert_int_eq(esg_gossip_send(a.g, &b.pk, &h.m), ESG_OK);
        ck_assert_int_eq(esg_gossip_send(a.g, &b.pk, &p.m), ESG_OK);
        RUN_UNTIL(b.downs == i + 1 && a.downs == i + 1);
        ck_assert(key_eq(&b.down_key, &a.pk));
        ck_assert_uint_eq(b.hellos, i + 1);
        ck_assert_uint_eq(b.proposals, 0);
        /* a comes back with its real Hello and is accepted again. */
        RUN_UNTIL(b.hellos == i + 2 && a.hellos == i + 2);
        ck_assert_uint_eq(b.hello_height, 3);
    }
    ck_assert_uint_eq(esg_p2p_score(tp(&b), &a.pk), 0);
    /* On the new connection a's proposals are handled as usual. */
    box p;
    box_proposal(&p, &a, 4, 7);
    bcast(&a, &p);
    RUN_UNTIL(b.proposals == 1);
    ck_assert(key_eq(&b.proposal_from, &a.pk));
    loop_end();
}
END_TEST

START_TEST(test_relay_once) {
    loop_begin();
    gnode a, b, c;
    line_up(&a, &b, &c);

    /* A vote from a reaches b, and c through b, once each. */
    box v1;
    box_vote(&v1, &a, 2, 1);
    uint8_t *bytes = NULL;
    size_t len = 0;
    ck_assert_int_eq(esg_gossip_broadcast(a.g, &v1.m, &bytes, &len), ESG_OK);
    ck_assert_ptr_nonnull(bytes);
    RUN_UNTIL(votes_of(&c, 1, NULL) == 1);
    ck_assert_uint_eq(votes_of(&b, 1, &a), 1);
    ck_assert_uint_eq(votes_of(&c, 1, &b), 1);
    ck_assert_uint_eq(c.votes[0].height, 2);

    /* The same bytes again (re-sent, and broadcast anew) are not handled
     * again anywhere; a second vote, sent after them, is. Nobody echoes a
     * vote back to its sender. */
    esg_gossip_rebroadcast(a.g, bytes, len);
    bcast(&a, &v1);
    free(bytes);
    box v2;
    box_vote(&v2, &a, 2, 2);
    bcast(&a, &v2);
    RUN_UNTIL(votes_of(&c, 2, NULL) == 1);
    ck_assert_uint_eq(votes_of(&b, 2, &a), 1);
    ck_assert_uint_eq(b.n_votes, 2);
    ck_assert_uint_eq(c.n_votes, 2);
    ck_assert_uint_eq(a.n_votes, 0);

    /* A vote b's handler refuses goes no further; the next one does. */
    b.reject_round = 3;
    box v3, v4;
    box_vote(&v3, &a, 2, 3);
    box_vote(&v4, &a, 2, 4);
    bcast(&a, &v3);
    bcast(&a, &v4);
    RUN_UNTIL(votes_of(&c, 4, NULL) == 1);
    ck_assert_uint_eq(votes_of(&b, 3, &a), 1);
    ck_assert_uint_eq(votes_of(&c, 3, NULL), 0);

    /* A refused vote is not marked seen: once b would take it (it caught
     * up), a re-send of the same bytes is handled and relayed. */
    b.reject_round = 0;
    bcast(&a, &v3);
    RUN_UNTIL(votes_of(&c, 3, NULL) == 1);
    ck_assert_uint_eq(votes_of(&b, 3, &a), 2);

    /* Proposals are relayed the same way, and the other way round too. */
    box p;
    box_proposal(&p, &c, 2, 0);
    bcast(&c, &p);
    RUN_UNTIL(a.proposals == 1);
    ck_assert(key_eq(&a.proposal_from, &b.pk));
    ck_assert_uint_eq(b.proposals, 1);
    ck_assert(key_eq(&b.proposal_from, &c.pk));
    box v5;
    box_vote(&v5, &c, 2, 5);
    bcast(&c, &v5);
    RUN_UNTIL(votes_of(&a, 5, &b) == 1);
    ck_assert_uint_eq(votes_of(&b, 5, &c), 1);
    /* c's own never came back to it. */
    ck_assert_uint_eq(c.proposals, 0);
    ck_assert_uint_eq(votes_of(&c, 5, NULL), 0);
    ck_assert_uint_eq(a.downs + b.downs + c.downs, 0);
    loop_end();
}
END_TEST

/* In a triangle every node gets a message from two sides: each handles it
 * once, and a node never handles a message it broadcast itself. */
START_TEST(test_relay_triangle) {
    loop_begin();
    gnode a, b, c;
    gnode_start(&a, 1);
    gnode_start(&b, 1);
    gnode_start(&c, 1);
    /* a broadcasts v0 while it has no peer: it is marked seen all the same. */
    box v0;
    box_vote(&v0, &a, 3, 9);
    bcast(&a, &v0);
    gnode_dial(&b, &a);
    gnode_dial(&c, &a);
    gnode_dial(&c, &b);
    RUN_UNTIL(a.hellos == 2 && b.hellos == 2 && c.hellos == 2);
    /* The same vote, from b: c handles it, a does not (from b, nor from c). */
    bcast(&b, &v0);
    box v1;
    box_vote(&v1, &a, 3, 1);
    bcast(&a, &v1);
    RUN_UNTIL(votes_of(&b, 1, NULL) == 1 && votes_of(&c, 1, NULL) == 1 &&
              votes_of(&c, 9, &b) == 1);
    /* b and c relayed v0 and v1 when they handled them; a block request each sends
     * now to each of its peers (point to point, never relayed) follows
     * those relays on every connection. */
    box rq;
    memset(&rq, 0, sizeof rq);
    rq.m = (esg_pb_p2p_message)ESG_PB_P2P_MESSAGE_INIT;
    rq.u.request = (esg_pb_block_request)ESG_PB_BLOCK_REQUEST_INIT;
    rq.u.request.from_height = 1;
    rq.u.request.count = 1;
    rq.m.msg_case = ESG_P2P_MSG_BLOCK_REQUEST;
    rq.m.block_request = &rq.u.request;
    ck_assert_int_eq(esg_gossip_send(b.g, &a.pk, &rq.m), ESG_OK);
    ck_assert_int_eq(esg_gossip_send(b.g, &c.pk, &rq.m), ESG_OK);
    ck_assert_int_eq(esg_gossip_send(c.g, &a.pk, &rq.m), ESG_OK);
    ck_assert_int_eq(esg_gossip_send(c.g, &b.pk, &rq.m), ESG_OK);
    RUN_UNTIL(a.requests == 2 && b.requests == 1 && c.requests == 1);
    ck_assert_uint_eq(a.n_votes, 0);
    ck_assert_uint_eq(b.n_votes, 1);
    ck_assert_uint_eq(c.n_votes, 2);
    loop_end();
}
END_TEST

/* The seen cache only saves work. A vote whose bytes b saw is dropped
 * while b's `wanted` says the machine holds it, and handled again when it
 * says the machine lacks it (one taken earlier may have been dropped
 * since) -- but not relayed again: c, which had it from b, is not sent it
 * twice. The same for a proposal. `wanted` is asked only about bytes seen
 * before, and is told which message they are. */
START_TEST(test_seen_but_wanted_handled_not_relayed) {
    loop_begin();
    gnode a, b, c;
    line_up(&a, &b, &c);
    c.want = true; /* c would handle a second copy from b: a relay would show */

    box v1;
    box_vote(&v1, &a, 2, 1);
    uint8_t *bytes = NULL;
    size_t len = 0;
    ck_assert_int_eq(esg_gossip_broadcast(a.g, &v1.m, &bytes, &len), ESG_OK);
    ck_assert_ptr_nonnull(bytes);
    RUN_UNTIL(votes_of(&c, 1, NULL) == 1);
    ck_assert_uint_eq(votes_of(&b, 1, &a), 1);
    ck_assert_uint_eq(b.wanted_calls + c.wanted_calls, 0); /* new bytes: not asked */

    /* Seen, not wanted: dropped at b. v2, sent after on the same path, is
     * the marker. */
    esg_gossip_rebroadcast(a.g, bytes, len);
    box v2;
    box_vote(&v2, &a, 2, 2);
    bcast(&a, &v2);
    RUN_UNTIL(votes_of(&c, 2, NULL) == 1);
    ck_assert_uint_eq(b.wanted_calls, 1);
    ck_assert_int_eq(b.wanted_case, ESG_P2P_MSG_VOTE);
    ck_assert_uint_eq(b.wanted_height, 2);
    ck_assert_uint_eq(b.wanted_round, 1);
    ck_assert_uint_eq(votes_of(&b, 1, &a), 1);
    ck_assert_uint_eq(votes_of(&c, 1, NULL), 1);

    /* Seen and wanted: handled again at b, and nothing more goes to c
     * than the marker v3. */
    b.want = true;
    uint64_t c_in = frames_in_from(&c, &b);
    esg_gossip_rebroadcast(a.g, bytes, len);
    box v3;
    box_vote(&v3, &a, 2, 3);
    bcast(&a, &v3);
    RUN_UNTIL(votes_of(&c, 3, NULL) == 1);
    ck_assert_uint_eq(b.wanted_calls, 2);
    ck_assert_uint_eq(votes_of(&b, 1, &a), 2);
    ck_assert_uint_eq(votes_of(&c, 1, NULL), 1);
    ck_assert_uint_eq(c.wanted_calls, 0);
    ck_assert_uint_eq(frames_in_from(&c, &b), c_in + 1);
    free(bytes);

    /* A proposal: relayed once; its seen bytes dropped while not wanted,
     * handled again but not relayed when wanted. */
    box p;
    box_proposal(&p, &a, 2, 0);
    ck_assert_int_eq(esg_gossip_broadcast(a.g, &p.m, &bytes, &len), ESG_OK);
    RUN_UNTIL(c.proposals == 1);
    ck_assert_uint_eq(b.proposals, 1);
    ck_assert_uint_eq(b.wanted_calls, 2);
    b.want = false;
    esg_gossip_rebroadcast(a.g, bytes, len);
    box v4;
    box_vote(&v4, &a, 2, 4);
    bcast(&a, &v4);
    RUN_UNTIL(votes_of(&c, 4, NULL) == 1);
    ck_assert_uint_eq(b.wanted_calls, 3);
    ck_assert_int_eq(b.wanted_case, ESG_P2P_MSG_PROPOSAL);
    ck_assert_uint_eq(b.wanted_height, 2);
    ck_assert_uint_eq(b.wanted_round, 0);
    ck_assert_uint_eq(b.proposals, 1);
    b.want = true;
    c_in = frames_in_from(&c, &b);
    esg_gossip_rebroadcast(a.g, bytes, len);
    box v5;
    box_vote(&v5, &a, 2, 5);
    bcast(&a, &v5);
    RUN_UNTIL(votes_of(&c, 5, NULL) == 1);
    ck_assert_uint_eq(b.wanted_calls, 4);
    ck_assert_uint_eq(b.proposals, 2);
    ck_assert(key_eq(&b.proposal_from, &a.pk));
    ck_assert_uint_eq(c.proposals, 1);
    ck_assert_uint_eq(c.wanted_calls, 0);
    ck_assert_uint_eq(frames_in_from(&c, &b), c_in + 1);
    free(bytes);
    ck_assert_uint_eq(a.n_votes + a.proposals, 0);
    ck_assert_uint_eq(a.downs + b.downs + c.downs, 0);
    loop_end();
}
END_TEST

/* A ConsensusState sent by a reaches b's on_consensus_state, from a, with
 * every field intact (height, round, step, idle, and per round the
 * proposal flag and both bitmaps), and again when re-sent unchanged -- it
 * is not gossip: the state a validator repeats every second must not stop
 * at a seen cache. It is never relayed: c, b's other peer, hears nothing
 * of it (the vote sent after it is the marker). */
START_TEST(test_consensus_state_point_to_point) {
    loop_begin();
    gnode a, b, c;
    line_up(&a, &b, &c);
    uint64_t c_in = frames_in_from(&c, &b);

    uint8_t pv0[2] = {0x0b, 0x01}, pc0[1] = {0x05}, pv3[3] = {0x80, 0x00, 0x7f};
    Esg__RoundVotes r0 = ESG__ROUND_VOTES__INIT, r3 = ESG__ROUND_VOTES__INIT;
    r0.round = 0;
    r0.proposal = true;
    r0.prevotes = esg_pb_bin(pv0, sizeof pv0);
    r0.precommits = esg_pb_bin(pc0, sizeof pc0);
    r3.round = 3;
    r3.prevotes = esg_pb_bin(pv3, sizeof pv3);
    Esg__RoundVotes *rv[2] = {&r0, &r3};
    Esg__ConsensusState cs = ESG__CONSENSUS_STATE__INIT;
    cs.height = 12;
    cs.round = 3;
    cs.step = 2;
    cs.idle = true;
    cs.n_rounds = 2;
    cs.rounds = rv;
    esg_pb_p2p_message m = ESG_PB_P2P_MESSAGE_INIT;
    m.msg_case = ESG_P2P_MSG_CONSENSUS_STATE;
    m.consensus_state = &cs;
    ck_assert_int_eq(esg_gossip_send(a.g, &b.pk, &m), ESG_OK);
    RUN_UNTIL(b.states == 1);
    ck_assert(key_eq(&b.state_from, &a.pk));
    ck_assert_uint_eq(b.state_height, 12);
    ck_assert_uint_eq(b.state_round, 3);
    ck_assert_uint_eq(b.state_step, 2);
    ck_assert(b.state_idle);
    ck_assert_uint_eq(b.state_n_rounds, 2);
    const got_round *g0 = &b.state_rounds[0], *g3 = &b.state_rounds[1];
    ck_assert_uint_eq(g0->round, 0);
    ck_assert(g0->proposal);
    ck_assert_uint_eq(g0->n_prevotes, sizeof pv0);
    ck_assert_mem_eq(g0->prevotes, pv0, sizeof pv0);
    ck_assert_uint_eq(g0->n_precommits, sizeof pc0);
    ck_assert_mem_eq(g0->precommits, pc0, sizeof pc0);
    ck_assert_uint_eq(g3->round, 3);
    ck_assert(!g3->proposal);
    ck_assert_uint_eq(g3->n_prevotes, sizeof pv3);
    ck_assert_mem_eq(g3->prevotes, pv3, sizeof pv3);
    ck_assert_uint_eq(g3->n_precommits, 0);

    /* The same state again, then a vote b relays to c. */
    ck_assert_int_eq(esg_gossip_send(a.g, &b.pk, &m), ESG_OK);
    box v;
    box_vote(&v, &a, 12, 1);
    bcast(&a, &v);
    RUN_UNTIL(votes_of(&c, 1, NULL) == 1);
    ck_assert_uint_eq(b.states, 2);
    ck_assert_uint_eq(b.state_height, 12);
    ck_assert_uint_eq(c.states + a.states, 0);
    ck_assert_uint_eq(frames_in_from(&c, &b), c_in + 1);
    ck_assert_uint_eq(b.wanted_calls + c.wanted_calls, 0);
    ck_assert_uint_eq(esg_p2p_score(tp(&b), &a.pk), 0);
    ck_assert_uint_eq(a.downs + b.downs + c.downs, 0);
    loop_end();
}
END_TEST

START_TEST(test_transactions) {
    loop_begin();
    gnode a, b, c;
    line_up(&a, &b, &c);
    size_t l1, l2;
    uint8_t *t1 = make_tx(1, &l1), *t2 = make_tx(2, &l2);

    /* A valid tx from a gets into b's mempool and is relayed into c's. */
    box x1;
    box_tx(&x1, t1, l1);
    bcast(&a, &x1);
    RUN_UNTIL(pending_txs(&c) == 1);
    ck_assert_uint_eq(pending_txs(&b), 1);
    ck_assert_uint_eq(pending_txs(&a), 0); /* broadcasting does not admit */

    /* The same tx again stops at b's seen cache (it never reaches b's
     * mempool, which would count a duplicate as rejected). A copy with a
     * broken signature is rejected by b and not relayed. The valid tx 2,
     * sent after both, arrives everywhere. */
    bcast(&a, &x1);
    uint8_t *bad = malloc(l2);
    ck_assert_ptr_nonnull(bad);
    memcpy(bad, t2, l2);
    bad[l2 - 1] ^= 1; /* the signature's 64 bytes end the serialized Tx */
    box xb, x2;
    box_tx(&xb, bad, l2);
    box_tx(&x2, t2, l2);
    bcast(&a, &xb);
    bcast(&a, &x2);
    RUN_UNTIL(pending_txs(&c) == 2);
    ck_assert_uint_eq(pending_txs(&b), 2);
    esg_mempool_stats sb = mp_stats(&b), sc = mp_stats(&c);
    ck_assert_uint_eq(sb.admitted, 2);
    ck_assert_uint_eq(sb.rejected, 1);
    ck_assert_uint_eq(sc.admitted, 2);
    ck_assert_uint_eq(sc.rejected, 0);

    /* Bytes that are no Tx at all: dropped by b before its mempool (a Tx
     * must decode to find its signer's admission lane), not relayed, and
     * the peer is not punished for it. */
    box xg, x3;
    size_t l3;
    uint8_t *t3 = make_tx(3, &l3);
    box_tx(&xg, (const uint8_t *)"\xff\xff", 2);
    box_tx(&x3, t3, l3);
    bcast(&a, &xg);
    bcast(&a, &x3);
    RUN_UNTIL(pending_txs(&c) == 3);
    ck_assert_uint_eq(mp_stats(&b).rejected, 1);
    ck_assert_uint_eq(pending_txs(&b), 3);
    ck_assert_uint_eq(mp_stats(&c).rejected, 0);
    ck_assert_uint_eq(esg_p2p_score(tp(&b), &a.pk), 0);
    free(t1);
    free(t2);
    free(t3);
    free(bad);
    loop_end();
}
END_TEST

/* A burst of one signer's consecutive transactions is admitted off the
 * loop in arrival order (one lane per signer), so every nonce fits. */
START_TEST(test_burst_in_order) {
    loop_begin();
    gnode a, b;
    gnode_start(&a, 1);
    gnode_start(&b, 1);
    pair_up(&a, &b);
    enum { BURST = 60 };
    uint8_t *t[BURST];
    size_t l[BURST];
    box x[BURST];
    for (int i = 0; i < BURST; i++) {
        t[i] = make_tx((uint64_t)i + 1, &l[i]);
        box_tx(&x[i], t[i], l[i]);
        bcast(&a, &x[i]);
    }
    RUN_UNTIL(pending_txs(&b) == BURST);
    ck_assert_uint_eq(mp_stats(&b).rejected, 0);
    for (int i = 0; i < BURST; i++)
        free(t[i]);
    loop_end();
}
END_TEST

START_TEST(test_announce_txs) {
    loop_begin();
    gnode a, b;
    gnode_start(&a, 1);
    gnode_start(&b, 1);
    pair_up(&a, &b);
    size_t l1, l2;
    uint8_t *t1 = make_tx(1, &l1), *t2 = make_tx(2, &l2);

    /* Admitted through the API path, then announced: b gets it. */
    esg_hash id;
    char msg[ESG_ERRMSG_MAX] = "";
    ck_assert_int_eq(esg_mempool_add(a.mp, t1, l1, &id, msg, sizeof msg), ESG_OK);
    esg_gossip_announce_txs(a.g);
    RUN_UNTIL(pending_txs(&b) == 1);

    /* Announcing again sends nothing; nor does b announce what it got by
     * gossip. */
    uint64_t fa = frames_out(&a), fb = frames_out(&b);
    esg_gossip_announce_txs(a.g);
    esg_gossip_announce_txs(b.g);
    ck_assert_uint_eq(frames_out(&a), fa);
    ck_assert_uint_eq(frames_out(&b), fb);

    /* A second one: only the new tx goes out. */
    ck_assert_int_eq(esg_mempool_add(a.mp, t2, l2, &id, msg, sizeof msg), ESG_OK);
    esg_gossip_announce_txs(a.g);
    ck_assert_uint_eq(frames_out(&a), fa + 1);
    RUN_UNTIL(pending_txs(&b) == 2);
    ck_assert_uint_eq(mp_stats(&b).rejected, 0);
    ck_assert_uint_eq(frames_out(&b), fb);
    free(t1);
    free(t2);
    loop_end();
}
END_TEST

START_TEST(test_undecodable_punished) {
    loop_begin();
    gnode a, b;
    gnode_start(&a, 1);
    gnode_start(&b, 1);
    pair_up(&a, &b); /* a dials b, and redials it when dropped */

    struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"\xff\xff\xff", 3},         /* not protobuf */
        {"\x78\x01", 2},             /* unknown field 15 */
        {"\x4a\x02\x08\x00", 4},     /* ping{nonce: 0} with the default sent */
        {"\x4a\x05\x08\x01", 4},     /* ping cut short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(esg_p2p_send(tp(&a), &b.pk, (const uint8_t *)bad[i].bytes, bad[i].len),
                         ESG_OK);
        RUN_UNTIL(b.downs == i + 1 && a.downs == i + 1);
        ck_assert(key_eq(&b.down_key, &a.pk));
        ck_assert_uint_eq(esg_p2p_score(tp(&b), &a.pk), (i + 1) * ESG_P2P_PENALTY);
        RUN_UNTIL(b.hellos == i + 2 && a.hellos == i + 2); /* a is back */
    }
    /* A message with nothing set decodes: ignored, not punished. */
    ck_assert_int_eq(esg_p2p_send(tp(&a), &b.pk, NULL, 0), ESG_OK);
    box v;
    box_vote(&v, &a, 1, 1);
    bcast(&a, &v);
    RUN_UNTIL(b.n_votes == 1);
    ck_assert_uint_eq(b.downs, 4);
    ck_assert_uint_eq(esg_p2p_score(tp(&b), &a.pk), 4 * ESG_P2P_PENALTY);
    ck_assert_uint_eq(esg_p2p_score(tp(&a), &b.pk), 0);

    /* esg_gossip_punish does what the transport's punish does. */
    esg_gossip_punish(a.g, &b.pk, "invalid block in sync response");
    ck_assert_uint_eq(esg_p2p_score(tp(&a), &b.pk), ESG_P2P_PENALTY);
    RUN_UNTIL(b.downs == 5 && a.downs == 5);
    loop_end();
}
END_TEST

START_TEST(test_point_to_point) {
    loop_begin();
    gnode a, b, c;
    line_up(&a, &b, &c);
    uint64_t a_in = frames_in_from(&a, &b), c_in = frames_in_from(&c, &b);

    /* a asks b for blocks, answers it and pings it. */
    box rq, rs, pg;
    memset(&rq, 0, sizeof rq);
    memset(&rs, 0, sizeof rs);
    memset(&pg, 0, sizeof pg);
    rq.m = (esg_pb_p2p_message)ESG_PB_P2P_MESSAGE_INIT;
    rq.u.request = (esg_pb_block_request)ESG_PB_BLOCK_REQUEST_INIT;
    rq.u.request.from_height = 3;
    rq.u.request.count = 2;
    rq.m.msg_case = ESG_P2P_MSG_BLOCK_REQUEST;
    rq.m.block_request = &rq.u.request;
    rs.m = (esg_pb_p2p_message)ESG_PB_P2P_MESSAGE_INIT;
    rs.u.response = (esg_pb_block_response)ESG_PB_BLOCK_RESPONSE_INIT;
    rs.u.response.tip = 9;
    rs.m.msg_case = ESG_P2P_MSG_BLOCK_RESPONSE;
    rs.m.block_response = &rs.u.response;
    pg.m = (esg_pb_p2p_message)ESG_PB_P2P_MESSAGE_INIT;
    pg.u.ping = (esg_pb_ping)ESG_PB_PING_INIT;
    pg.u.ping.nonce = 77;
    pg.m.msg_case = ESG_P2P_MSG_PING;
    pg.m.ping = &pg.u.ping;
    ck_assert_int_eq(esg_gossip_send(a.g, &b.pk, &rq.m), ESG_OK);
    ck_assert_int_eq(esg_gossip_send(a.g, &b.pk, &rs.m), ESG_OK);
    ck_assert_int_eq(esg_gossip_send(a.g, &b.pk, &pg.m), ESG_OK);
    /* Then a vote, which b relays to c after the three. */
    box v1;
    box_vote(&v1, &a, 1, 1);
    bcast(&a, &v1);
    RUN_UNTIL(votes_of(&c, 1, NULL) == 1 && frames_in_from(&a, &b) == a_in + 1);
    ck_assert_uint_eq(b.requests, 1);
    ck_assert(key_eq(&b.request_from, &a.pk));
    ck_assert_uint_eq(b.request_height, 3);
    ck_assert_uint_eq(b.request_count, 2);
    ck_assert_uint_eq(b.responses, 1);
    ck_assert_uint_eq(b.response_tip, 9);
    /* c got the vote and nothing else; a got one frame back: the pong. */
    ck_assert_uint_eq(c.requests + c.responses, 0);
    ck_assert_uint_eq(frames_in_from(&c, &b), c_in + 1);
    ck_assert_uint_eq(a.requests + a.responses + a.n_votes, 0);

    /* b asks c only; a, also b's peer, hears nothing of it. */
    ck_assert_int_eq(esg_gossip_send(b.g, &c.pk, &rq.m), ESG_OK);
    box v2;
    box_vote(&v2, &b, 1, 2);
    bcast(&b, &v2);
    RUN_UNTIL(votes_of(&a, 2, &b) == 1 && votes_of(&c, 2, &b) == 1);
    ck_assert_uint_eq(c.requests, 1);
    ck_assert(key_eq(&c.request_from, &b.pk));
    ck_assert_uint_eq(a.requests, 0);
    ck_assert_uint_eq(b.requests, 1);

    /* Sending to a key that is not a peer. */
    ck_assert_int_eq(esg_gossip_send(a.g, &c.pk, &rq.m), ESG_ERR_NOT_FOUND);
    loop_end();
}
END_TEST

START_TEST(test_too_large) {
    loop_begin();
    gnode a, b;
    gnode_init(&a, 1);
    a.cfg.max_frame = 1024;
    gnode_run(&a);
    gnode_start(&b, 1);
    pair_up(&a, &b);
    static uint8_t block[2000];
    box p;
    box_proposal(&p, &a, 2, 0);
    p.u.proposal.block = esg_pb_bin(block, sizeof block);
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint64_t out0 = frames_out(&a);
    ck_assert_int_eq(esg_gossip_broadcast(a.g, &p.m, &bytes, &len), ESG_ERR_TOO_LARGE);
    ck_assert_ptr_null(bytes);
    ck_assert_int_eq(esg_gossip_send(a.g, &b.pk, &p.m), ESG_ERR_TOO_LARGE);
    ck_assert_uint_eq(frames_out(&a), out0);
    /* What fits still goes. */
    box v;
    box_vote(&v, &a, 2, 0);
    ck_assert_int_eq(esg_gossip_broadcast(a.g, &v.m, &bytes, &len), ESG_OK);
    ck_assert_ptr_nonnull(bytes);
    RUN_UNTIL(b.n_votes == 1);
    ck_assert_uint_eq(b.proposals, 0);
    free(bytes);
    loop_end();
}
END_TEST

Suite *suite_gossip(void) {
    Suite *s = suite_create("gossip");
    TCase *tc = tcase_create("gossip");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hello_and_height);
    tcase_add_test(tc, test_other_genesis_disconnected);
    tcase_add_test(tc, test_bad_hello_mid_connection);
    tcase_add_test(tc, test_relay_once);
    tcase_add_test(tc, test_relay_triangle);
    tcase_add_test(tc, test_seen_but_wanted_handled_not_relayed);
    tcase_add_test(tc, test_consensus_state_point_to_point);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_burst_in_order);
    tcase_add_test(tc, test_announce_txs);
    tcase_add_test(tc, test_undecodable_punished);
    tcase_add_test(tc, test_point_to_point);
    tcase_add_test(tc, test_too_large);
    suite_add_tcase(s, tc);
    return s;
}
