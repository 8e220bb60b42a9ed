/* Mempool. Admission checks run outside the mempool lock, on read
 * transactions (esg_exec_check_tx never takes the store's writer), so they
 * proceed in parallel with each other and with block production. The
 * re-check after a block runs under the lock, also on read transactions. */
#include "node/mempool.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/error.h"
#include "node/keymap.h"
#include "node/clock.h"

#define RING_SIZE 4096

typedef struct mp_entry {
    struct mp_entry *prev, *next;
    esg_tx *tx;
    esg_pubkey signer;
    uint64_t seq; /* admission number: increasing along the list */
} mp_entry;

typedef struct signer_state {
    uint64_t last_nonce; /* nonce of the signer's newest pending tx */
    size_t pending;
} signer_state;

typedef struct dropped {
    esg_hash id;
    int code;
    char msg[ESG_ERRMSG_MAX];
} dropped;

struct esg_mempool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    esg_store *store;
    const esg_contract_table *ct;
    esg_mempool_limits limits;
    void (*notify)(void *);
    void *notify_arg;
    mp_entry *head, *tail;
    size_t n, bytes;
    uint64_t next_seq;  /* admission number of the next entry */
    uint64_t fresh_seq; /* entries up to this one were handed out as fresh */
    esg_keymap by_id;   /* tx id -> mp_entry */
    esg_keymap signers; /* signer pubkey -> signer_state */
    dropped *ring;
    size_t ring_next;
    bool shutdown;
    esg_mempool_stats stats;
};

static void signers_clear(esg_mempool *mp) {
    for (size_t i = 0; i < mp->signers.cap; i++)
        free(mp->signers.slots[i].val);
    esg_keymap_release(&mp->signers);
    esg_keymap_init(&mp->signers);
}

int esg_mempool_new(esg_mempool **out, esg_store *store, const esg_contract_table *ct,
                    const esg_mempool_limits *limits, void (*notify)(void *),
                    void *notify_arg) {
    esg_mempool *mp = calloc(1, sizeof *mp);
    if (!mp)
        return ESG_ERR_NOMEM;
    mp->ring = calloc(RING_SIZE, sizeof *mp->ring);
    if (!mp->ring) {
        free(mp);
        return ESG_ERR_NOMEM;
    }
    pthread_mutex_init(&mp->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&mp->cv, &ca);
    pthread_condattr_destroy(&ca);
    mp->store = store;
    mp->ct = ct;
    mp->limits.max_txs = limits && limits->max_txs ? limits->max_txs : 20000;
    mp->limits.max_bytes = limits && limits->max_bytes ? limits->max_bytes : 64u << 20;
    mp->notify = notify;
    mp->notify_arg = notify_arg;
    esg_keymap_init(&mp->by_id);
    esg_keymap_init(&mp->signers);
    *out = mp;
    return ESG_OK;
}

void esg_mempool_free(esg_mempool *mp) {
    if (!mp)
        return;
    for (mp_entry *e = mp->head, *next; e; e = next) {
        next = e->next;
        esg_tx_free(e->tx);
        free(e);
    }
    signers_clear(mp);
    esg_keymap_release(&mp->by_id);
    pthread_cond_destroy(&mp->cv);
    pthread_mutex_destroy(&mp->mu);
    free(mp->ring);
    free(mp);
}

static bool committed_height(esg_mempool *mp, const esg_hash *id, uint64_t *height) {
    MDB_txn *txn;
    if (esg_store_read_begin(mp->store, &txn))
        return false;
    uint32_t index;
    bool found = esg_store_tx_locate(txn, mp->store, id, height, &index) == 0;
    esg_store_read_end(txn);
    return found;
}

/* Expected nonce for a signer's next tx: after its pending ones, else 0
 * ("the account's next", read from state by the executor). */
static uint64_t expected_nonce(esg_mempool *mp, const esg_pubkey *signer) {
    signer_state *s = esg_keymap_get(&mp->signers, signer->b);
    return s && s->pending ? s->last_nonce + 1 : 0;
}

static int signer_note(esg_mempool *mp, const esg_pubkey *signer, uint64_t nonce) {
    signer_state *s = esg_keymap_get(&mp->signers, signer->b);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return ESG_ERR_NOMEM;
        if (esg_keymap_put(&mp->signers, signer->b, s)) {
            free(s);
            return ESG_ERR_NOMEM;
        }
    }
    s->last_nonce = nonce;
    s->pending++;
    return ESG_OK;
}

int esg_mempool_add(esg_mempool *mp, const uint8_t *raw, size_t len, esg_hash *id,
                    char *msg, size_t msglen) {
    esg_tx *tx;
    int rc = esg_tx_decode(&tx, raw, len);
    if (rc == 0)
        return esg_mempool_add_tx(mp, tx, id, msg, msglen);
    if (msg && msglen)
        snprintf(msg, msglen, "transaction rejected: %s", esg_err_message(rc));
    pthread_mutex_lock(&mp->mu);
    mp->stats.rejected++;
    pthread_mutex_unlock(&mp->mu);
    return rc;
}

int esg_mempool_add_tx(esg_mempool *mp, esg_tx *tx, esg_hash *id, char *msg, size_t msglen) {
    char local[ESG_ERRMSG_MAX];
    if (!msg) {
        msg = local;
        msglen = sizeof local;
    }
    msg[0] = '\0';
    int rc;
    *id = tx->id;
    uint64_t h;
    /* A transaction admitted now could not be committed: refuse it with a
     * code the client can act on rather than answer 202 and let it wait. */
    esg_store_health health;
    esg_store_health_get(mp->store, &health);
    if (!health.writable) {
        snprintf(msg, msglen, "the node's storage is full: not accepting transactions until "
                              "space is freed");
        rc = health.error ? health.error : ESG_ERR_STORAGE_FULL;
        goto reject;
    }
    pthread_mutex_lock(&mp->mu);
    bool pending = esg_keymap_get(&mp->by_id, tx->id.b) != NULL;
    pthread_mutex_unlock(&mp->mu);
    if (pending) {
        snprintf(msg, msglen, "transaction '%s' is already pending", esg_hash_hex(&tx->id).s);
        rc = ESG_ERR_DUPLICATE_TX;
        goto reject;
    }
    if (committed_height(mp, &tx->id, &h)) {
        snprintf(msg, msglen, "transaction '%s' was committed at height %llu",
                 esg_hash_hex(&tx->id).s, (unsigned long long)h);
        rc = ESG_ERR_DUPLICATE_TX;
        goto reject;
    }
    /* The expensive part, outside the lock: on the caller's thread. */
    if ((rc = esg_tx_verify_sigs(tx, msg, msglen)) != 0)
        goto reject;

    esg_pubkey signer = esg_tx_signer(tx);
    /* Check against state outside the lock (checks run in parallel on the
     * API threads); if the signer's pending nonce moved meanwhile, check
     * again against the new expectation. */
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&mp->mu);
        uint64_t expect = expected_nonce(mp, &signer);
        pthread_mutex_unlock(&mp->mu);
        rc = esg_exec_check_tx(mp->store, mp->ct, tx, expect, true, esg_wall_ms(), msg, msglen);
        pthread_mutex_lock(&mp->mu);
        if (rc == 0 && expected_nonce(mp, &signer) != expect) {
            if (attempt < 16) {
                pthread_mutex_unlock(&mp->mu);
                continue;
            }
            /* Never admit on a check made against another expectation. */
            snprintf(msg, msglen, "the signer's pending transactions kept changing during "
                                  "admission; retry");
            rc = ESG_ERR_NONCE;
        }
        break;
    }
    /* The lock is held from here on. A copy admitted by another thread
     * meanwhile makes this one a duplicate, whatever the check said (it
     * then sees that copy's nonce as spent): the client must learn that
     * its tx is in, not that it failed. */
    if (esg_keymap_get(&mp->by_id, tx->id.b)) {
        snprintf(msg, msglen, "transaction '%s' is already pending", esg_hash_hex(&tx->id).s);
        rc = ESG_ERR_DUPLICATE_TX;
    } else if (rc) {
        /* rejected by the check */
    } else if (expected_nonce(mp, &signer) != 0 &&
               tx->body->nonce != expected_nonce(mp, &signer)) {
        snprintf(msg, msglen, "nonce %llu, expected %llu after the signer's pending transactions",
                 (unsigned long long)tx->body->nonce,
                 (unsigned long long)expected_nonce(mp, &signer));
        rc = ESG_ERR_NONCE;
    } else if (mp->n >= mp->limits.max_txs || mp->bytes + tx->raw_len > mp->limits.max_bytes) {
        snprintf(msg, msglen, "mempool holds %zu transactions (%zu bytes), its limit; retry later",
                 mp->n, mp->bytes);
        rc = ESG_ERR_MEMPOOL_FULL;
    } else {
        mp_entry *e = calloc(1, sizeof *e);
        if (!e)
            rc = ESG_ERR_NOMEM;
        if (rc == 0 && (rc = esg_keymap_put(&mp->by_id, tx->id.b, e)) != 0)
            free(e);
        if (rc == 0 && (rc = signer_note(mp, &signer, tx->body->nonce)) != 0) {
            esg_keymap_del(&mp->by_id, tx->id.b);
            free(e);
        }
        if (rc == 0) {
            e->tx = tx;
            e->signer = signer;
            e->seq = ++mp->next_seq;
            e->prev = mp->tail;
            if (mp->tail)
                mp->tail->next = e;
            else
                mp->head = e;
            mp->tail = e;
            mp->n++;
            mp->bytes += tx->raw_len;
            mp->stats.admitted++;
        }
    }
    if (rc)
        mp->stats.rejected++;
    pthread_mutex_unlock(&mp->mu);
    if (rc == 0) {
        if (mp->notify)
            mp->notify(mp->notify_arg);
        return ESG_OK;
    }
    esg_tx_free(tx);
    return rc;
reject:
    esg_tx_free(tx);
    pthread_mutex_lock(&mp->mu);
    mp->stats.rejected++;
    pthread_mutex_unlock(&mp->mu);
    return rc;
}

size_t esg_mempool_reap(esg_mempool *mp, esg_exec_item *items, size_t max) {
    size_t n = 0;
    pthread_mutex_lock(&mp->mu);
    for (mp_entry *e = mp->head; e && n < max; e = e->next, n++) {
        memset(&items[n], 0, sizeof items[n]);
        items[n].tx = e->tx;
        items[n].sigs_verified = true;
    }
    pthread_mutex_unlock(&mp->mu);
    return n;
}

size_t esg_mempool_take_fresh(esg_mempool *mp, esg_exec_item *items, size_t max) {
    size_t n = 0;
    pthread_mutex_lock(&mp->mu);
    /* The list is in admission order: the fresh entries are its tail. */
    mp_entry *first = NULL;
    for (mp_entry *e = mp->tail; e && e->seq > mp->fresh_seq; e = e->prev)
        first = e;
    for (mp_entry *e = first; e && n < max; e = e->next, n++) {
        memset(&items[n], 0, sizeof items[n]);
        items[n].tx = e->tx;
        items[n].sigs_verified = true;
        mp->fresh_seq = e->seq;
    }
    pthread_mutex_unlock(&mp->mu);
    return n;
}

/* Unlinks and frees an entry. Lock held. Signer states are not touched:
 * esg_mempool_update() rebuilds them after removing entries. */
static void entry_remove(esg_mempool *mp, mp_entry *e) {
    if (e->prev) e->prev->next = e->next; else mp->head = e->next;
    if (e->next) e->next->prev = e->prev; else mp->tail = e->prev;
    esg_keymap_del(&mp->by_id, e->tx->id.b);
    mp->n--;
    mp->bytes -= e->tx->raw_len;
    esg_tx_free(e->tx);
    free(e);
}

/* Remembers why a transaction left without a block. Lock held. */
static void ring_push(esg_mempool *mp, const esg_hash *id, int code, const char *msg) {
    dropped *d = &mp->ring[mp->ring_next++ % RING_SIZE];
    d->id = *id;
    d->code = code;
    snprintf(d->msg, sizeof d->msg, "%s", msg);
    mp->stats.dropped++;
}

void esg_mempool_update(esg_mempool *mp, const esg_exec_item *items, size_t n,
                        uint64_t height) {
    (void)height;
    /* Signers with a transaction in this block: their pending ones are
     * the ones whose nonce chain or rules this block can have changed. */
    esg_keymap touched;
    esg_keymap_init(&touched);
    pthread_mutex_lock(&mp->mu);
    for (size_t i = 0; i < n; i++) {
        esg_pubkey signer = esg_tx_signer(items[i].tx);
        esg_keymap_put(&touched, signer.b, mp);
        if (items[i].result == ESG_ERR_MEMPOOL_FULL)
            continue; /* block was full: stays for the next one */
        mp_entry *e = esg_keymap_get(&mp->by_id, items[i].tx->id.b);
        if (!e)
            continue;
        if (items[i].result == 0) {
            mp->stats.committed++;
        } else {
            ring_push(mp, &items[i].tx->id, items[i].result, items[i].msg);
        }
        entry_remove(mp, e);
    }
    /* Re-check, in order, the pending transactions of the signers this
     * block touched, so one that can no longer apply (its signer's earlier
     * tx was dropped, a conflicting tx won) leaves now with its reason
     * instead of lingering. Others are not re-run: re-checking the whole
     * pool after every block costs O(pool) per block under the lock, and a
     * tx that another signer's action invalidated is dropped, with its
     * reason, when the next block is built. The signers' pending nonces are
     * rebuilt by the same pass. */
    signers_clear(mp);
    uint64_t t = esg_wall_ms();
    for (mp_entry *e = mp->head, *next; e; e = next) {
        next = e->next;
        char msg[ESG_ERRMSG_MAX];
        int rc = 0;
        if (esg_keymap_get(&touched, e->signer.b)) {
            rc = esg_exec_check_tx(mp->store, mp->ct, e->tx, expected_nonce(mp, &e->signer),
                                   true, t, msg, sizeof msg);
            /* A storage or memory failure says nothing about the tx: keep
             * it; the next block's builder decides. */
            if (rc == ESG_ERR_STORE || rc == ESG_ERR_NOMEM || rc == ESG_ERR_MAP_FULL)
                rc = 0;
        }
        if (rc == 0)
            rc = signer_note(mp, &e->signer, e->tx->body->nonce);
        if (rc) {
            ring_push(mp, &e->tx->id, rc, msg);
            entry_remove(mp, e);
        }
    }
    pthread_cond_broadcast(&mp->cv);
    pthread_mutex_unlock(&mp->mu);
    esg_keymap_release(&touched);
}

int esg_mempool_wait(esg_mempool *mp, const esg_hash *id, uint64_t timeout_ms,
                     uint64_t *height, char *msg, size_t msglen) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(timeout_ms / 1000);
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    if (msg && msglen)
        msg[0] = '\0';
    int rc = ESG_ERR_TIMEOUT;
    pthread_mutex_lock(&mp->mu);
    for (;;) {
        if (committed_height(mp, id, height)) {
            rc = ESG_OK;
            break;
        }
        if (!esg_keymap_get(&mp->by_id, id->b)) {
            /* Not pending: dropped, else unknown -- unless a commit
             * landed since the check above, so look once more. The drops
             * are searched only for a tx that is not pending: a client
             * may resend a dropped tx once it can apply (its signer's
             * earlier tx was fixed), and then it is pending again. */
            bool found = false;
            size_t n = mp->ring_next < RING_SIZE ? mp->ring_next : RING_SIZE;
            for (size_t i = 0; i < n && !found; i++) {
                const dropped *d = &mp->ring[(mp->ring_next - 1 - i) % RING_SIZE];
                if (esg_hash_eq(&d->id, id)) {
                    rc = d->code;
                    if (msg)
                        snprintf(msg, msglen, "%s", d->msg);
                    found = true;
                }
            }
            if (found)
                break;
            rc = committed_height(mp, id, height) ? ESG_OK : ESG_ERR_NOT_FOUND;
            if (rc && msg)
                snprintf(msg, msglen, "transaction '%s' is not pending", esg_hash_hex(id).s);
            break;
        }
        if (mp->shutdown ||
            pthread_cond_timedwait(&mp->cv, &mp->mu, &deadline) == ETIMEDOUT) {
            rc = committed_height(mp, id, height) ? ESG_OK : ESG_ERR_TIMEOUT;
            if (rc && msg)
                snprintf(msg, msglen, "transaction '%s' is still pending", esg_hash_hex(id).s);
            break;
        }
    }
    pthread_mutex_unlock(&mp->mu);
    return rc;
}

void esg_mempool_shutdown(esg_mempool *mp) {
    pthread_mutex_lock(&mp->mu);
    mp->shutdown = true;
    pthread_cond_broadcast(&mp->cv);
    pthread_mutex_unlock(&mp->mu);
}

bool esg_mempool_verified(esg_mempool *mp, const esg_hash *id, const uint8_t *raw, size_t len) {
    pthread_mutex_lock(&mp->mu);
    const mp_entry *e = esg_keymap_get(&mp->by_id, id->b);
    /* The id covers the body only: compare the whole bytes, signatures
     * included. */
    bool same = e && e->tx->raw_len == len && memcmp(e->tx->raw, raw, len) == 0;
    pthread_mutex_unlock(&mp->mu);
    return same;
}

void esg_mempool_stats_get(esg_mempool *mp, esg_mempool_stats *out) {
    pthread_mutex_lock(&mp->mu);
    *out = mp->stats;
    out->txs = mp->n;
    out->bytes = mp->bytes;
    pthread_mutex_unlock(&mp->mu);
}
