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
#define BATCH_TXS 2048           /* a batch stops growing past this */
#define BATCH_JOBS (BATCH_TXS + 10000)

typedef struct rblock {
    uint8_t *block, *commit;
    size_t block_len, commit_len;
    esg_pb_block *decoded;
    bool *verified;     /* per tx */
    size_t first_job;   /* index of its first tx in the batch's job array */
} rblock;

typedef struct vjob {
    const uint8_t *raw;
    size_t len;
    bool ok;
} vjob;

/* A batch of blocks read from the source, with its verification jobs. */
typedef struct batch {
    rblock blocks[BATCH_BLOCKS];
    size_t nb;
    vjob *jobs;         /* BATCH_JOBS entries */
    size_t nj;
    uint64_t first;     /* height of blocks[0] */
    bool last;          /* the source has nothing after this batch */
    int src_rc;         /* why the source stopped, if it failed */
    uint64_t src_height;
} batch;

/* Verification workers that persist across batches, so the signatures of
 * batch k+1 are checked while the main thread applies batch k. The main
 * thread joins in once it has applied its batch (vpool_finish). */
typedef struct vpool {
    pthread_mutex_t mu;
    pthread_cond_t work, idle;
    vjob *jobs;
    size_t n;
    atomic_size_t next;
    uint64_t gen;       /* bumped by each submission */
    unsigned busy;      /* workers inside the current generation */
    bool stop;
    pthread_t tids[64];
    unsigned n_threads;
} vpool;

static void verify_jobs(vpool *p) {
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            return;
        esg_tx *tx;
        p->jobs[i].ok = false;
        if (esg_tx_decode(&tx, p->jobs[i].raw, p->jobs[i].len) == 0) {
            p->jobs[i].ok = esg_tx_verify_sigs(tx, NULL, 0) == 0;
            esg_tx_free(tx);
        }
    }
}

static void *vpool_worker(void *arg) {
    vpool *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        p->busy++;
        pthread_mutex_unlock(&p->mu);
        verify_jobs(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Starts threads-1 workers (the main thread is the last one). */
static void vpool_start(vpool *p, unsigned threads) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->idle, NULL);
    if (threads > 64)
        threads = 64;
    for (unsigned i = 1; i < threads; i++)
        if (pthread_create(&p->tids[p->n_threads], NULL, vpool_worker, p) == 0)
            p->n_threads++;
}

/* Hands a batch's jobs to the workers. The previous batch must be finished. */
static void vpool_submit(vpool *p, vjob *jobs, size_t n) {
    pthread_mutex_lock(&p->mu);
    p->jobs = jobs;
    p->n = n;
    atomic_store(&p->next, 0);
    p->gen++;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
}

/* The main thread verifies what is left, then waits for the workers. */
static void vpool_finish(vpool *p) {
    verify_jobs(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void vpool_stop(vpool *p) {
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->tids[i], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
}

static void rblock_release(rblock *b) {
    free(b->block);
    free(b->commit);
    free(b->verified);
    if (b->decoded)
        esg_pb_free(&b->decoded->base);
    memset(b, 0, sizeof *b);
}

static void batch_release(batch *bt) {
    for (size_t k = 0; k < bt->nb; k++)
        rblock_release(&bt->blocks[k]);
    bt->nb = bt->nj = 0;
}

/* Reads blocks from `first` until the batch is full, the source ends or
 * fails, or max_height. Returns 0 or ESG_ERR_NOMEM; a source failure is
 * kept in bt->src_rc and reported after the blocks before it are applied
 * (one of them may be the first bad block). */
static int batch_read(batch *bt, esg_block_source src, void *arg, uint64_t first,
                      uint64_t max_height) {
    bt->nb = bt->nj = 0;
    bt->first = first;
    bt->last = false;
    bt->src_rc = 0;
    while (bt->nb < BATCH_BLOCKS && bt->nj < BATCH_TXS) {
        uint64_t h = first + bt->nb;
        if (max_height && h > max_height) {
            bt->last = true;
            break;
        }
        rblock *b = &bt->blocks[bt->nb];
        int rc = src(arg, h, &b->block, &b->block_len, &b->commit, &b->commit_len);
        if (rc) {
            if (rc != ESG_ERR_NOT_FOUND) {
                bt->src_rc = rc;
                bt->src_height = h;
            }
            bt->last = true;
            break;
        }
        bt->nb++;
        /* An undecodable block is reported by apply, in order. */
        b->first_job = bt->nj;
        if (esg_pb_decode(ESG_PB_BLOCK_DESC, b->block, b->block_len, ESG_MAX_BLOCK_BYTES,
                          (ProtobufCMessage **)&b->decoded) == 0) {
            b->verified = calloc(b->decoded->n_txs ? b->decoded->n_txs : 1, sizeof(bool));
            if (!b->verified)
                return ESG_ERR_NOMEM;
            /* Transactions past the job array are verified by apply. */
            for (size_t i = 0; i < b->decoded->n_txs && bt->nj < BATCH_JOBS; i++) {
                bt->jobs[bt->nj].raw = b->decoded->txs[i].data;
                bt->jobs[bt->nj].len = b->decoded->txs[i].len;
                bt->nj++;
            }
        }
    }
    return ESG_OK;
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
    return esg_replay_ex(g, ct, workdir, src, src_arg, max_height, threads, NULL, NULL, res,
                         store_out, err, errlen);
}

int esg_replay_ex(const esg_genesis *g, const esg_contract_table *ct, const char *workdir,
                  esg_block_source src, void *src_arg, uint64_t max_height,
                  unsigned threads, esg_replay_progress progress, void *progress_arg,
                  esg_replay_result *res, esg_store **store_out, char *err, size_t errlen) {
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
    batch *bufs = calloc(2, sizeof *bufs);
    vpool pool;
    vpool_start(&pool, threads ? threads : 1);
    if (!bufs || !(bufs[0].jobs = calloc(BATCH_JOBS, sizeof(vjob))) ||
        !(bufs[1].jobs = calloc(BATCH_JOBS, sizeof(vjob)))) {
        rc = ESG_ERR_NOMEM;
        goto out;
    }
    batch *cur = &bufs[0], *nxt = &bufs[1];
    rc = batch_read(cur, src, src_arg, 1, max_height);
    if (rc == 0) {
        vpool_submit(&pool, cur->jobs, cur->nj);
        vpool_finish(&pool);
    }
    while (rc == 0 && (cur->nb > 0 || cur->src_rc)) {
        /* Read and start verifying the next batch, then apply this one
         * while the workers check the next one's signatures. */
        bool ahead = !cur->last;
        if (ahead) {
            rc = batch_read(nxt, src, src_arg, cur->first + cur->nb, max_height);
            vpool_submit(&pool, nxt->jobs, nxt->nj);
        }
        for (size_t k = 0; rc == 0 && k < cur->nb; k++) {
            rblock *b = &cur->blocks[k];
            uint64_t h = cur->first + k;
            if (b->decoded)
                for (size_t i = 0; i < b->decoded->n_txs; i++)
                    b->verified[i] = b->first_job + i < cur->nj && cur->jobs[b->first_job + i].ok;
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
                if (progress)
                    progress(progress_arg, h, res->n_txs);
            }
        }
        if (rc == 0 && cur->src_rc) {
            rc = cur->src_rc;
            res->bad_height = cur->src_height;
            snprintf(err, errlen, "block %llu: cannot read it: %s",
                     (unsigned long long)cur->src_height, esg_err_message(rc));
        }
        if (ahead)
            vpool_finish(&pool);
        batch_release(cur);
        if (!ahead)
            break;
        batch *t = cur;
        cur = nxt;
        nxt = t;
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
    vpool_stop(&pool);
    if (bufs) {
        for (int i = 0; i < 2; i++) {
            batch_release(&bufs[i]);
            free(bufs[i].jobs);
        }
    }
    free(bufs);
    res->seconds = now_s() - t0;
    if (store_out && rc == 0)
        *store_out = store;
    else
        esg_store_close(store);
    return rc;
}
