/* esgtest-equivocate: plays a Byzantine validator against a real network,
 * for the integration tests (tests/integration/test_evidence.sh).
 *
 *   esgtest-equivocate --key FILE --chain-id ID --peer HOST:PORT
 *
 * Connects to one node with a validator's key (the handshake of docs/P2P.md),
 * learns the node's height from its Hello, answers with the same chain and
 * genesis, then sends two prevotes for height+1, round 0 that conflict: one
 * nil and one for a made-up block hash, both correctly signed. An honest
 * node must turn them into evidence, gossip it and record it in a block.
 * Exits 0 once both frames have left the socket, 1 on any failure (with
 * the reason on stderr), 2 on bad usage. Not installed: a test tool.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "esg.pb-c.h"
#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/keys.h"
#include "node/p2p.h"

#define DEADLINE_MS 30000

typedef struct tool {
    esg_p2p *p2p;
    esg_seckey sk;
    esg_pubkey pk;
    const char *chain_id;
    uv_timer_t poll;
    uint64_t height; /* the votes' height */
    int state;       /* 0 waiting for hello, 1 sent, 2 done, -1 failed */
    uint64_t started;
} tool;

static void fail(tool *t, const char *why) {
    fprintf(stderr, "esgtest-equivocate: %s\n", why);
    t->state = -1;
}

static int send_msg(tool *t, const esg_pubkey *peer, const Esg__P2pMessage *m) {
    uint8_t *buf;
    size_t len;
    int rc = esg_pb_encode(&m->base, &buf, &len);
    if (rc == 0) {
        rc = esg_p2p_send(t->p2p, peer, buf, len);
        free(buf);
    }
    return rc;
}

/* One signed prevote of this validator at (height, 0) for `block` (NULL: nil). */
static int send_prevote(tool *t, const esg_pubkey *peer, const esg_hash *block) {
    esg_hash h = esg_vote_hash(t->chain_id, ESG__VOTE_TYPE__VOTE_TYPE_PREVOTE, t->height, 0, block);
    esg_sig sig;
    int rc = esg_sign(&sig, &t->sk, &h);
    if (rc)
        return rc;
    Esg__ConsensusVote v = ESG__CONSENSUS_VOTE__INIT;
    v.type = ESG__VOTE_TYPE__VOTE_TYPE_PREVOTE;
    v.height = t->height;
    v.round = 0;
    if (block)
        v.block_hash = esg_pb_bin(block->b, 32);
    v.validator = esg_pb_bin(t->pk.b, 32);
    v.sig = esg_pb_bin(sig.b, 64);
    Esg__P2pMessage m = ESG__P2P_MESSAGE__INIT;
    m.msg_case = ESG__P2P_MESSAGE__MSG_VOTE;
    m.vote = &v;
    return send_msg(t, peer, &m);
}

static void on_message(void *ctx, const esg_pubkey *peer, const uint8_t *data, size_t len) {
    tool *t = ctx;
    if (t->state != 0)
        return;
    Esg__P2pMessage *m = NULL;
    if (esg_pb_decode(&esg__p2p_message__descriptor, data, len, len, (ProtobufCMessage **)&m))
        return;
    if (m->msg_case == ESG__P2P_MESSAGE__MSG_HELLO) {
        /* Follow the node's own chain and genesis, so it keeps us. */
        if (send_msg(t, peer, m) != 0) {
            fail(t, "cannot answer the node's hello");
        } else {
            t->height = m->hello->height + 1;
            esg_hash made_up = esg_sha256("a block nobody proposed", 23);
            if (send_prevote(t, peer, NULL) != 0 || send_prevote(t, peer, &made_up) != 0) {
                fail(t, "cannot send the prevotes");
            } else {
                t->state = 1;
                printf("sent two conflicting prevotes at height %llu round 0\n",
                       (unsigned long long)t->height);
                fflush(stdout);
            }
        }
    }
    esg_pb_free(m);
}

static void on_poll(uv_timer_t *timer) {
    tool *t = timer->data;
    if (t->state == 1) {
        esg_p2p_peer_info info[1];
        if (esg_p2p_peers(t->p2p, info, 1) == 1 && info[0].queued_bytes == 0)
            t->state = 2;
    }
    if (t->state == 0 && uv_now(timer->loop) - t->started > DEADLINE_MS)
        fail(t, "no hello from the node within 30 s (is the key a validator's?)");
    if (t->state == 2 || t->state == -1) {
        uv_timer_stop(timer);
        uv_close((uv_handle_t *)timer, NULL);
        esg_p2p_close(t->p2p, NULL, NULL);
    }
}

static bool allow_all(void *ctx, const esg_pubkey *key, char *why, size_t whylen) {
    (void)ctx, (void)key, (void)why, (void)whylen;
    return true;
}

int main(int argc, char **argv) {
    const char *keyfile = NULL, *chain = NULL, *peer = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--key"))
            keyfile = argv[i + 1];
        else if (!strcmp(argv[i], "--chain-id"))
            chain = argv[i + 1];
        else if (!strcmp(argv[i], "--peer"))
            peer = argv[i + 1];
    }
    if (!keyfile || !chain || !peer) {
        fprintf(stderr, "usage: esgtest-equivocate --key FILE --chain-id ID --peer HOST:PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    tool t;
    memset(&t, 0, sizeof t);
    t.chain_id = chain;
    if (esg_keyfile_read(&t.sk, &t.pk, keyfile) != 0) {
        fprintf(stderr, "esgtest-equivocate: cannot read key file '%s'\n", keyfile);
        return 1;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    esg_p2p_config pc;
    memset(&pc, 0, sizeof pc);
    pc.chain_id = chain;
    pc.node_key = t.sk;
    pc.peers = &peer;
    pc.n_peers = 1;
    pc.allow = allow_all;
    pc.on_message = on_message;
    pc.ctx = &t;
    char err[256];
    if (esg_p2p_new(&t.p2p, &loop, &pc, err, sizeof err) != 0 ||
        esg_p2p_start(t.p2p, err, sizeof err) != 0) {
        fprintf(stderr, "esgtest-equivocate: %s\n", err);
        return 1;
    }
    t.started = uv_now(&loop);
    uv_timer_init(&loop, &t.poll);
    t.poll.data = &t;
    uv_timer_start(&t.poll, on_poll, 50, 50);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    esg_seckey_wipe(&t.sk);
    return t.state == 2 ? 0 : 1;
}
