#include "node/verify_chain.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contracts/contracts.h"
#include "ledger/error.h"
#include "ledger/progress.h"

typedef struct local_source {
    esg_store *store;
} local_source;

/* Copies block h and its commit out of the datadir's store (a short read
 * transaction per block, so a running node is not held up). */
static int local_block(void *arg, uint64_t h, uint8_t **block, size_t *blen,
                       uint8_t **commit, size_t *clen) {
    local_source *ls = arg;
    MDB_txn *txn;
    int rc = esg_store_read_begin(ls->store, &txn);
    if (rc)
        return rc;
    MDB_val b, c;
    rc = esg_store_block_get(txn, ls->store, h, &b, &c);
    if (rc == 0) {
        *block = malloc(b.mv_size ? b.mv_size : 1);
        *commit = malloc(c.mv_size ? c.mv_size : 1);
        if (!*block || !*commit) {
            free(*block);
            free(*commit);
            rc = ESG_ERR_NOMEM;
        } else {
            memcpy(*block, b.mv_data, b.mv_size);
            memcpy(*commit, c.mv_data, c.mv_size);
            *blen = b.mv_size;
            *clen = c.mv_size;
        }
    }
    esg_store_read_end(txn);
    return rc;
}

static void rm_rf(const char *dir) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

/* Replay's progress hook: the line on the terminal. */
static void on_progress(void *arg, uint64_t height, uint64_t n_txs) {
    esg_progress_update(arg, height, n_txs, esg_progress_now());
}

int esg_verify_chain(const char *datadir, unsigned threads, FILE *out, FILE *progress,
                     esg_replay_result *res) {
    char err[512], path[PATH_MAX + 32];
    esg_genesis *g = NULL;
    local_source ls = {NULL};
    memset(res, 0, sizeof *res);
    snprintf(path, sizeof path, "%s/genesis.json", datadir);
    int rc = esg_genesis_load(&g, path, err, sizeof err);
    if (rc) {
        fprintf(out, "verify-chain: %s: %s\n", esg_err_name(rc), err);
        return rc;
    }
    if ((rc = esg_store_open_ex(&ls.store, err, sizeof err, datadir, false, NULL)) != 0) {
        fprintf(out, "verify-chain: %s: %s\n", esg_err_name(rc), err);
        esg_genesis_free(g);
        return rc;
    }
    esg_store_meta meta;
    MDB_txn *txn;
    if ((rc = esg_store_read_begin(ls.store, &txn)) == 0) {
        rc = esg_store_meta_get(txn, ls.store, &meta);
        esg_store_read_end(txn);
    }
    if (rc) {
        fprintf(out, "verify-chain: %s: datadir '%s' holds no chain\n", esg_err_name(rc), datadir);
        goto out;
    }
    if (!esg_hash_eq(&meta.genesis_hash, &g->hash)) {
        rc = ESG_ERR_GENESIS;
        fprintf(out, "verify-chain: %s: '%s' is not the genesis this chain started from\n",
                esg_err_name(rc), path);
        goto out;
    }
    const char *tmp = getenv("TMPDIR");
    char work[PATH_MAX];
    snprintf(work, sizeof work, "%s/esg-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work)) {
        rc = ESG_ERR_IO;
        fprintf(out, "verify-chain: cannot create a scratch directory in '%s'\n",
                tmp && *tmp ? tmp : "/tmp");
        goto out;
    }
    fprintf(out, "verify-chain: replaying chain '%s' from genesis to height %llu\n",
            meta.chain_id, (unsigned long long)meta.height);
    fflush(out); /* before the progress line, when both are the terminal */
    esg_progress line;
    esg_progress_start(&line, progress, "verify-chain: replaying", meta.height,
                       esg_progress_now());
    rc = esg_replay_ex(g, esg_contracts(), work, local_block, &ls, meta.height, threads,
                       on_progress, &line, res, NULL, err, sizeof err);
    esg_progress_end(&line);
    rm_rf(work);
    if (rc) {
        fprintf(out, "verify-chain: FAILED at height %llu: %s: %s\n",
                (unsigned long long)res->bad_height, esg_err_name(rc), err);
        goto out;
    }
    if (res->height != meta.height || !esg_hash_eq(&res->app_hash, &meta.app_hash) ||
        !esg_hash_eq(&res->block_hash, &meta.block_hash)) {
        rc = ESG_ERR_APP_HASH;
        /* Replay stopping short means block height+1 is missing: that is
         * the first bad one, not the last good one. */
        res->bad_height = res->height < meta.height ? res->height + 1 : res->height;
        fprintf(out, "verify-chain: FAILED at height %llu: %s: replay ends at height %llu with "
                     "app hash %s, the datadir says height %llu app hash %s\n",
                (unsigned long long)res->bad_height, esg_err_name(rc),
                (unsigned long long)res->height, esg_hash_hex(&res->app_hash).s,
                (unsigned long long)meta.height, esg_hash_hex(&meta.app_hash).s);
        goto out;
    }
    fprintf(out, "verify-chain: OK: %llu blocks, %llu transactions in %.2f s (%.0f tx/s); "
                 "app hash %s\n",
            (unsigned long long)res->height, (unsigned long long)res->n_txs, res->seconds,
            res->seconds > 0 ? (double)res->n_txs / res->seconds : 0.0,
            esg_hash_hex(&res->app_hash).s);
out:
    esg_store_close(ls.store);
    esg_genesis_free(g);
    return rc;
}
