/* Replay with parallel signature verification: a batch of blocks is read,
 * every transaction decoded and its signatures checked on all threads,
 * then the blocks are applied in order with their verified flags, so each
 * signature is verified exactly once. */
#include "ledger/replay.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/executor.h"

#define BATCH_BLOCKS 64
#define BATCH_TXS 20000

typedef struct rblock {
    uint8_t *block, *commit;
    size_t block_len, commit_len;
    esg_pb_block *decoded;
    bool *verified;     /* per tx */
    size_t first_job;   /* index of its first tx in the job array */
} rblock;

typedef struct vjob {
    const uint8_t *raw;
    size_t len;
    bool ok;
} vjob;

typedef struct vpool {
    vjob *jobs;
    size_t n;
    atomic_size_t next;
} vpool;

static void *verify_worker(void *arg) {
    vpool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            return NULL;
        esg_tx *tx;
        p->jobs[i].ok = false;
        if (esg_tx_decode(&tx, p->jobs[i].raw, p->jobs[i].len) == 0) {
            p->jobs[i].ok = esg_tx_verify_sigs(tx, NULL, 0) == 0;
            esg_tx_free(tx);
        }
    }
}

static void verify_parallel(vpool *p, unsigned threads) {
    pthread_t tids[64];
    unsigned started = 0;
    if (threads > 64)
        threads = 64;
    atomic_store(&p->next, 0);
    for (unsigned i = 1; i < threads; i++)
        if (pthread_create(&tids[started], NULL, verify_worker, p) == 0)
            started++;
    verify_worker(p);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
}

static void rblock_release(rblock *b) {
    free(b->block);
    free(b->commit);
    free(b->verified);
    if (b->decoded)
        esg_pb_free(&b->decoded->base);
    memset(b, 0, sizeof *b);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int esg_replay(const esg_genesis *g, const esg_contract_table *ct, const char *workdir,
               esg_block_source src, void *src_arg, uint64_t max_height,
               unsigned threads, esg_replay_result *res, esg_store **store_out,
               char *err, size_t errlen) {
    memset(res, 0, sizeof *res);
    err[0] = '\0';
    if (store_out)
        *store_out = NULL;
    double t0 = now_s();
    esg_store *store = NULL;
    /* The scratch store is rebuilt from scratch on any failure: no fsync. */
    esg_store_options sopts = {.no_sync = true};
    int rc = esg_store_open_ex(&store, err, errlen, workdir, true, &sopts);
    if (rc)
        return rc;
    if ((rc = esg_exec_genesis(store, g)) != 0) {
        snprintf(err, errlen, "genesis: %s", esg_err_message(rc));
        esg_store_close(store);
        return rc;
    }
    rblock *batch = calloc(BATCH_BLOCKS, sizeof *batch);
    vjob *jobs = calloc(BATCH_TXS + 10000, sizeof *jobs);
    if (!batch || !jobs) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    uint64_t next = 1;
    bool done = false;
    /* A source failure is reported only after the blocks read before it
     * are applied: one of them may be the first bad block. */
    int src_rc = 0;
    uint64_t src_height = 0;
    while (!done && rc == 0) {
        /* Read a batch of blocks and gather their transactions. */
        size_t nb = 0, nj = 0;
        while (nb < BATCH_BLOCKS && nj < BATCH_TXS) {
            if (max_height && next + nb > max_height) {
                done = true;
                break;
            }
            rblock *b = &batch[nb];
            uint64_t h = next + nb;
            rc = src(src_arg, h, &b->block, &b->block_len, &b->commit, &b->commit_len);
            if (rc == ESG_ERR_NOT_FOUND) {
                rc = 0;
                done = true;
                break;
            }
            if (rc) {
                src_rc = rc;
                src_height = h;
                rc = 0;
                done = true;
                break;
            }
            /* An undecodable block is reported by apply, in order. */
            b->first_job = nj;
            if (esg_pb_decode(ESG_PB_BLOCK_DESC, b->block, b->block_len, ESG_MAX_BLOCK_BYTES,
                              (ProtobufCMessage **)&b->decoded) == 0) {
                b->verified = calloc(b->decoded->n_txs ? b->decoded->n_txs : 1, sizeof(bool));
                if (!b->verified) {
                    rc = ESG_ERR_NOMEM;
                    nb++;
                    break;
                }
                for (size_t i = 0; i < b->decoded->n_txs && nj < BATCH_TXS + 10000; i++) {
                    jobs[nj].raw = b->decoded->txs[i].data;
                    jobs[nj].len = b->decoded->txs[i].len;
                    nj++;
                }
            }
            nb++;
        }
        if (rc == 0 && nj) {
            vpool pool = {jobs, nj, 0};
            verify_parallel(&pool, threads ? threads : 1);
        }
        for (size_t k = 0; k < nb; k++) {
            rblock *b = &batch[k];
            if (rc == 0) {
                uint64_t h = next + k;
                if (b->decoded)
                    for (size_t i = 0; i < b->decoded->n_txs; i++)
                        b->verified[i] = b->first_job + i < nj && jobs[b->first_job + i].ok;
                /* A tx whose signatures failed is verified again by apply,
                 * which then names it precisely. */
                rc = esg_exec_apply_block(store, ct, b->block, b->block_len, b->commit,
                                          b->commit_len, b->verified, err, errlen);
                if (rc) {
                    res->bad_height = h;
                    if (!err[0])
                        snprintf(err, errlen, "block %llu: %s", (unsigned long long)h,
                                 esg_err_message(rc));
                } else {
                    res->height = h;
                    res->n_txs += b->decoded ? b->decoded->n_txs : 0;
                }
            }
            rblock_release(b);
        }
        next += nb;
        if (nb == 0)
            done = true;
    }
    if (rc == 0 && src_rc) {
        rc = src_rc;
        res->bad_height = src_height;
        snprintf(err, errlen, "block %llu: cannot read it: %s", (unsigned long long)src_height,
                 esg_err_message(rc));
    }
    if (rc == 0) {
        MDB_txn *txn;
        esg_store_meta m;
        if ((rc = esg_store_read_begin(store, &txn)) == 0) {
            rc = esg_store_meta_get(txn, store, &m);
            esg_store_read_end(txn);
        }
        if (rc == 0) {
            res->block_hash = m.block_hash;
            res->app_hash = m.app_hash;
        }
    }
out:
    res->seconds = now_s() - t0;
    free(batch);
    free(jobs);
    if (store_out && rc == 0)
        *store_out = store;
    else
        esg_store_close(store);
    return rc;
}
