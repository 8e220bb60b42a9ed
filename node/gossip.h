/* Gossip: P2pMessages (proto/esg.proto) over the peer transport
 * (node/p2p.h), for a multi-validator network (docs/P2P.md §5).
 *
 * The gossip owns the transport. It decodes every frame as a P2pMessage
 * (an undecodable one punishes the peer), answers Hello itself (checks the
 * chain id and genesis hash; a mismatch disconnects) and hands the rest to
 * its handlers. Gossiped kinds (tx, proposal, vote, commit, evidence) are
 * relayed once: the hash of the message bytes goes into a seen cache
 * (node/seen.h); a message already seen is dropped silently, a new one is
 * handled and, when the handler accepts it, sent to every other peer. A
 * proposal, vote or evidence its handler refused is not marked seen, so a
 * re-send is handled again (the node may have caught up meanwhile). The
 * cache only saves work: a proposal or vote whose bytes were seen is
 * still handled (not relayed again) when the `wanted` handler says the
 * consensus machine lacks it -- one taken earlier may have been dropped
 * since, and a peer that learnt so sends it again. ConsensusState goes
 * to its handler, point to point. Every peer must be heard from: one
 * silent for 3 s is pinged, one silent for 10 s is disconnected (the
 * transport redials it), so a link that died without a word (a silent
 * partition, a vanished host) is replaced instead of held for ever.
 * Transactions go to the mempool here (esg_mempool_add_tx) and are relayed
 * only if admitted; admission runs on libuv's thread pool, one lane per
 * signer (so a signer's nonces are admitted in order), with at most 20000
 * transactions or 32 MiB waiting (past that they are dropped); the relay
 * follows from the loop. The gossip frees itself once those batches are
 * done, after esg_gossip_close. A peer that comes up is sent Hello and the oldest
 * pending transactions (up to 4096), which it may have missed.
 *
 * Thread rules: everything runs on the loop thread (the mempool, which
 * the admission lanes call from the thread pool, is thread-safe).
 */
#ifndef ESG_NODE_GOSSIP_H
#define ESG_NODE_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "esg.pb-c.h"
#include "ledger/hash.h"
#include "node/mempool.h"
#include "node/p2p.h"

typedef struct esg_gossip esg_gossip;

/* Handlers; ctx is passed back. The message pointers live only during
 * the call. on_proposal / on_vote return 0 to accept (then the message is
 * relayed) or an error (not relayed). Any may be NULL (then ignored). */
typedef struct esg_gossip_handlers {
    void *ctx;
    bool (*allow)(void *ctx, const esg_pubkey *key, char *why, size_t whylen);
    int (*on_proposal)(void *ctx, const esg_pubkey *from, const Esg__ConsensusProposal *p);
    int (*on_vote)(void *ctx, const esg_pubkey *from, const Esg__ConsensusVote *v);
    /* Evidence of equivocation: 0 accepts it (new and valid: relayed). */
    int (*on_evidence)(void *ctx, const esg_pubkey *from, const Esg__Evidence *e);
    /* A peer announced its last final height (on connect, then per block). */
    void (*on_hello)(void *ctx, const esg_pubkey *from, uint64_t height);
    void (*on_block_request)(void *ctx, const esg_pubkey *from, const Esg__BlockRequest *r);
    void (*on_block_response)(void *ctx, const esg_pubkey *from, const Esg__BlockResponse *r);
    void (*on_peer_down)(void *ctx, const esg_pubkey *peer);
    /* A proposal or vote (m->msg_case says which) whose bytes were seen
     * before: true to handle it again (on_proposal / on_vote). Must be
     * cheap: no signature checks. NULL: never. */
    bool (*wanted)(void *ctx, const Esg__P2pMessage *m);
    /* A peer's consensus state (what it holds of its height). */
    void (*on_consensus_state)(void *ctx, const esg_pubkey *from, const Esg__ConsensusState *s);
} esg_gossip_handlers;

/* Creates the gossip and its transport on `loop`. `pcfg` gives the
 * transport's settings (its callbacks and ctx are replaced). `mp` is
 * borrowed. `height` is this node's last final height for Hello. Returns
 * 0, or an error with a message in err. */
int esg_gossip_new(esg_gossip **out, uv_loop_t *loop, const esg_p2p_config *pcfg,
                   esg_mempool *mp, const esg_gossip_handlers *h, const esg_hash *genesis_hash,
                   uint64_t height, char *err, size_t errlen);

/* Starts listening and dialing. Returns 0 or ESG_ERR_IO (message in err). */
int esg_gossip_start(esg_gossip *g, char *err, size_t errlen);

/* The last final height changed: tells every peer (Hello). */
void esg_gossip_set_height(esg_gossip *g, uint64_t height);

/* Encodes `m`, marks it seen and sends it to every peer. Returns 0 or
 * an error (ESG_ERR_NOMEM, ESG_ERR_TOO_LARGE). When `bytes_out` is not
 * NULL it receives the malloc'd encoding (caller frees), for re-sending. */
int esg_gossip_broadcast(esg_gossip *g, const Esg__P2pMessage *m, uint8_t **bytes_out,
                         size_t *len_out);

/* Sends already encoded P2pMessage bytes to every peer (a re-send: the
 * seen cache is not consulted). */
void esg_gossip_rebroadcast(esg_gossip *g, const uint8_t *bytes, size_t len);

/* Sends `m` to one peer. Returns 0 or the transport's error. */
int esg_gossip_send(esg_gossip *g, const esg_pubkey *peer, const Esg__P2pMessage *m);

/* Announces the transactions admitted since the last call (those submitted
 * through the API; ones received by gossip were relayed already and are
 * skipped by the seen cache). Call from the loop after admissions. */
void esg_gossip_announce_txs(esg_gossip *g);

/* Punishes a peer (see esg_p2p_punish). */
void esg_gossip_punish(esg_gossip *g, const esg_pubkey *peer, const char *why);

size_t esg_gossip_peer_count(const esg_gossip *g);

/* The transport the gossip owns (for its port, peer list, add_peer and
 * disconnect). Valid until esg_gossip_close; loop thread only. */
esg_p2p *esg_gossip_transport(esg_gossip *g);
void esg_gossip_stats(const esg_gossip *g, esg_p2p_stats *out);

/* Closes the transport and frees the gossip; on_closed(arg) runs from the
 * loop once every handle is closed. */
void esg_gossip_close(esg_gossip *g, void (*on_closed)(void *arg), void *arg);

#endif
