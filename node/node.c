/* The node: store, key, mempool, API and the block producer on a libuv
 * loop. The loop thread is the only writer of blocks; the API's threads
 * admit transactions and read the store concurrently. */
#include "node/node.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "contracts/contracts.h"
#include "ledger/block.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "node/api.h"
#include "node/blocktime.h"
#include "node/consensus_driver.h"
#include "node/clock.h"

#define PRODUCE_BATCH 10000
/* While the disk is full, the producer tries the waiting block again this
 * often: no new transaction arrives to wake it (the mempool refuses them),
 * so without this it would never notice that space came back. */
#define FULL_RETRY_MS 1000

struct esg_node {
    esg_node_config cfg;
    esg_logger *log;
    esg_store *store;
    const esg_contract_table *ct;
    esg_mempool *mempool;
    esg_api *api;
    esg_seckey key;
    esg_pubkey pubkey;

    uv_loop_t loop;
    uv_async_t wake;     /* a tx was admitted, or stop was asked */
    uv_timer_t heartbeat;
    uv_timer_t full_retry; /* armed while the store cannot write */
    uv_signal_t sigint, sigterm;
    bool stopping;
    bool wake_closed; /* guarded by stop_mu: no more wake-ups */
    pthread_mutex_t stop_mu;

    esg_exec_item *items; /* PRODUCE_BATCH candidates, loop thread only */

    /* Multi-node mode (more than one validator, or peers configured):
     * consensus and gossip replace the producer. */
    bool multi, store_seen;
    size_t n_cfg_peers;
    esg_driver *driver;

    pthread_mutex_t status_mu;
    esg_node_status status;
    esg_node_metrics metrics;
};

/* ---------------------------------------------------------------- config */

void esg_node_config_defaults(esg_node_config *cfg, const char *datadir) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->datadir, sizeof cfg->datadir, "%s", datadir ? datadir : "");
    snprintf(cfg->api_addr, sizeof cfg->api_addr, "127.0.0.1:8600");
    snprintf(cfg->p2p_addr, sizeof cfg->p2p_addr, "127.0.0.1:26600");
    cfg->log_level = ESG_LOG_INFO;
    cfg->heartbeat_ms = 0;
    esg_cons_config_default(&cfg->cons);
    cfg->max_clock_drift_ms = ESG_BT_DEFAULT_PRECISION_MS;
    cfg->mempool_max_txs = 20000;
    cfg->mempool_max_bytes = 64u << 20;
    cfg->api_threads = 0;
    cfg->api_max_conns_per_addr = ESG_API_MAX_CONNECTIONS_PER_IP;
    cfg->wait_timeout_ms = 30000;
    cfg->api_explorer = true;
}

void esg_node_config_release(esg_node_config *cfg) {
    for (size_t i = 0; i < cfg->n_peers; i++)
        free(cfg->peers[i]);
    cfg->n_peers = 0;
}

/* ----------------------------------------------------------------- init */

static int copy_file(const char *from, const char *to, mode_t mode, char *err, size_t errlen) {
    FILE *in = fopen(from, "rb");
    if (!in) {
        snprintf(err, errlen, "cannot read '%s': %s", from, strerror(errno));
        return ESG_ERR_IO;
    }
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create '%s': %s", to, strerror(errno));
        fclose(in);
        return ESG_ERR_IO;
    }
    char buf[65536];
    size_t n;
    int rc = ESG_OK;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (write(fd, buf, n) != (ssize_t)n) {
            snprintf(err, errlen, "cannot write '%s': %s", to, strerror(errno));
            rc = ESG_ERR_IO;
            break;
        }
    if (rc == 0 && ferror(in)) {
        snprintf(err, errlen, "cannot read '%s'", from);
        rc = ESG_ERR_IO;
    }
    if (rc == 0 && fsync(fd) != 0) {
        snprintf(err, errlen, "cannot sync '%s': %s", to, strerror(errno));
        rc = ESG_ERR_IO;
    }
    sodium_memzero(buf, sizeof buf);
    close(fd);
    fclose(in);
    return rc;
}

int esg_node_init(const char *datadir, const char *genesis_path, const char *key_path,
                  char *err, size_t errlen) {
    esg_genesis *g = NULL;
    esg_store *store = NULL;
    esg_seckey sk;
    esg_pubkey pk;
    char path[PATH_MAX + 32];
    int rc = esg_genesis_load(&g, genesis_path, err, errlen);
    if (rc)
        return rc;
    if ((rc = esg_keyfile_read(&sk, &pk, key_path)) != 0) {
        snprintf(err, errlen, "key file '%s': %s", key_path, esg_err_message(rc));
        goto out;
    }
    esg_seckey_wipe(&sk);
    if (mkdir(datadir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create datadir '%s': %s", datadir, strerror(errno));
        rc = ESG_ERR_IO;
        goto out;
    }
    snprintf(path, sizeof path, "%s/data.mdb", datadir);
    if (access(path, F_OK) == 0) {
        snprintf(err, errlen, "datadir '%s' is already initialized", datadir);
        rc = ESG_ERR_ALREADY_INITIALIZED;
        goto out;
    }
    snprintf(path, sizeof path, "%s/genesis.json", datadir);
    if ((rc = copy_file(genesis_path, path, 0644, err, errlen)) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/node_key.json", datadir);
    if ((rc = copy_file(key_path, path, 0600, err, errlen)) != 0)
        goto out;
    if ((rc = esg_store_open_ex(&store, err, errlen, datadir, true, NULL)) != 0)
        goto out;
    if ((rc = esg_exec_genesis(store, g)) != 0) {
        snprintf(err, errlen, "cannot write the initial state: %s", esg_err_message(rc));
        goto out;
    }
    snprintf(path, sizeof path, "%s/esgnode.conf", datadir);
    FILE *f = fopen(path, "wx");
    if (f) {
        fprintf(f, "; esgnode configuration (flags on the command line override it)\n"
                   "[node]\nlog_level = info\n; heartbeat_ms = 0   ; >0: empty block after this idle time\n\n"
                   "[api]\nlisten = 127.0.0.1:8600\n; threads = 0      ; 0: one per core\n"
                   "; wait_timeout_ms = 30000\n; max_connections_per_address = 64\n; token =          ; bearer token for remote readers\n\n"
                   "[p2p]\nlisten = 127.0.0.1:26600\n; peer = host:port ; repeatable\n\n"
                   "[mempool]\nmax_txs = 20000\nmax_bytes = 67108864\n");
        fclose(f);
    }
out:
    esg_store_close(store);
    esg_genesis_free(g);
    return rc;
}

/* -------------------------------------------------------------- producer */

static int sign_commit(void *arg, const char *chain_id, uint64_t height,
                       const esg_hash *block_hash, uint8_t **commit, size_t *len) {
    esg_node *n = arg;
    esg_commit_storage cs;
    int rc = esg_commit_sign_single(&cs, &n->key, chain_id, height, 0, block_hash);
    if (rc)
        return rc;
    return esg_pb_encode(&cs.commit.base, commit, len);
}

/* Reads the tip and whether this node may commit alone: its power must
 * exceed 2/3 of the set in force at the next height. */
static int refresh_status(esg_node *n) {
    MDB_txn *txn;
    int rc = esg_store_read_begin(n->store, &txn);
    if (rc)
        return rc;
    esg_store_meta meta;
    esg_pb_validator_set *vs = NULL;
    rc = esg_store_meta_get(txn, n->store, &meta);
    if (rc == 0)
        rc = esg_exec_valset_at(txn, n->store, meta.height + 1, &vs);
    esg_store_read_end(txn);
    if (rc)
        return rc;
    uint64_t total = 0;
    esg_valset_total_power(vs, &total);
    int idx = esg_valset_find(vs, &n->pubkey);
    bool alone = idx >= 0 &&
                 (unsigned __int128)vs->validators[idx]->power * 3 > (unsigned __int128)total * 2;
    if (!n->store_seen) {
        /* Decided once, at open: the mode does not change while running. */
        n->multi = vs->n_validators > 1 || n->n_cfg_peers > 0 || n->cfg.n_observers > 0;
        n->store_seen = true;
    }
    if (n->multi)
        alone = idx >= 0; /* a validator of the set, committing with the others */
    esg_pb_free(&vs->base);
    pthread_mutex_lock(&n->status_mu);
    snprintf(n->status.chain_id, sizeof n->status.chain_id, "%s", meta.chain_id);
    n->status.height = meta.height;
    n->status.block_hash = meta.block_hash;
    n->status.app_hash = meta.app_hash;
    n->status.genesis_hash = meta.genesis_hash;
    n->status.time_ms = meta.time_ms;
    n->status.node_key = n->pubkey;
    n->status.is_validator = alone;
    pthread_mutex_unlock(&n->status_mu);
    return ESG_OK;
}

static void on_full_retry(uv_timer_t *t);

/* Produces one block from the mempool (or an empty one when `empty_ok`).
 * Returns true when a block was made. */
static bool produce(esg_node *n, bool empty_ok) {
    if (!n->status.is_validator)
        return false;
    size_t cnt = esg_mempool_reap(n->mempool, n->items, PRODUCE_BATCH);
    if (cnt == 0 && !empty_ok)
        return false;
    esg_produced out;
    uint64_t t0 = esg_mono_us();
    int rc = esg_exec_produce(n->store, n->ct, n->items, cnt, esg_wall_ms(), &n->pubkey,
                              empty_ok, sign_commit, n, &out);
    uint64_t dt = esg_mono_us() - t0;
    if (rc) {
        esg_store_health h;
        esg_store_health_get(n->store, &h);
        if (h.writable) {
            esg_log(n->log, ESG_LOG_ERROR, "cannot produce block: %s", esg_err_message(rc));
        } else {
            /* The cause was logged once, when the store turned unwritable
             * (on_store_health); the transactions stay in the pool. */
            esg_log(n->log, ESG_LOG_DEBUG, "block waits for storage: %s", h.reason);
            uv_timer_start(&n->full_retry, on_full_retry, FULL_RETRY_MS, 0);
        }
        return false;
    }
    esg_mempool_update(n->mempool, n->items, cnt, out.height);
    for (size_t i = 0; i < cnt; i++)
        if (n->items[i].result && n->items[i].result != ESG_ERR_MEMPOOL_FULL)
            esg_log(n->log, ESG_LOG_INFO, "dropped tx %s: %s: %s",
                    esg_hash_hex(&n->items[i].tx->id).s, esg_err_name(n->items[i].result),
                    n->items[i].msg);
    if (!out.made)
        return false;
    refresh_status(n);
    pthread_mutex_lock(&n->status_mu);
    n->metrics.blocks_produced++;
    n->metrics.txs_committed += out.n_included;
    n->metrics.block_apply_us_total += dt;
    n->metrics.last_block_us = dt;
    pthread_mutex_unlock(&n->status_mu);
    esg_log(n->log, ESG_LOG_INFO, "committed block %llu (%zu txs, %.1f ms) %s",
            (unsigned long long)out.height, out.n_included, dt / 1000.0,
            esg_hash_hex(&out.block_hash).s);
    return true;
}

static void on_wake(uv_async_t *h) {
    esg_node *n = h->data;
    pthread_mutex_lock(&n->stop_mu);
    bool stopping = n->stopping;
    pthread_mutex_unlock(&n->stop_mu);
    if (stopping) {
        uv_stop(&n->loop);
        return;
    }
    if (n->driver) {
        esg_driver_txs_admitted(n->driver);
        return;
    }
    /* One block per turn of the loop, then come back if transactions
     * still wait: each block takes what arrived during the previous one's
     * commit, so batches grow with load, and signals and stop requests are
     * served between blocks even under a constant stream. */
    if (produce(n, false)) {
        esg_mempool_stats ms;
        esg_mempool_stats_get(n->mempool, &ms);
        if (ms.txs)
            uv_async_send(&n->wake);
    }
    if (n->cfg.heartbeat_ms)
        uv_timer_again(&n->heartbeat);
}

static void on_heartbeat(uv_timer_t *t) {
    esg_node *n = t->data;
    produce(n, true);
}

static void on_full_retry(uv_timer_t *t) {
    esg_node *n = t->data;
    /* The same turn as a wake-up: a block, and more if transactions wait. */
    if (produce(n, n->cfg.heartbeat_ms > 0))
        uv_async_send(&n->wake);
}

/* The store's health changed (called on the thread that wrote: the loop):
 * the one log line per change that the issue asked for. */
static void on_store_health(void *arg, const esg_store_health *h) {
    esg_node *n = arg;
    if (!h->writable)
        esg_log(n->log, ESG_LOG_ERROR,
                "storage full: %s; refusing new transactions (%s) until space is freed, "
                "then resuming by itself",
                h->reason, esg_err_name(h->error));
    else
        esg_log(n->log, ESG_LOG_WARN, "storage writable again in '%s': committing resumed",
                n->cfg.datadir);
}

static void on_signal(uv_signal_t *h, int signum) {
    esg_node *n = h->data;
    esg_log(n->log, ESG_LOG_INFO, "signal %d: stopping", signum);
    esg_node_stop(n);
}

static void wake_producer(void *arg) {
    esg_node *n = arg;
    /* Admissions still finishing on the thread pool while the node closes
     * must not touch the closed handle. */
    pthread_mutex_lock(&n->stop_mu);
    if (!n->wake_closed)
        uv_async_send(&n->wake);
    pthread_mutex_unlock(&n->stop_mu);
}

/* ------------------------------------------------------------- lifecycle */

static void on_committed(void *arg, uint64_t height, size_t n_txs, uint64_t apply_us) {
    esg_node *n = arg;
    refresh_status(n);
    pthread_mutex_lock(&n->status_mu);
    n->metrics.blocks_produced++;
    n->metrics.txs_committed += n_txs;
    n->metrics.block_apply_us_total += apply_us;
    n->metrics.last_block_us = apply_us;
    pthread_mutex_unlock(&n->status_mu);
    esg_log(n->log, ESG_LOG_INFO, "committed block %llu (%zu txs)", (unsigned long long)height,
            n_txs);
}

static void api_status(void *arg, esg_node_status *out) { esg_node_status_get(arg, out); }
static void api_metrics(void *arg, esg_node_metrics *out) { esg_node_metrics_get(arg, out); }

int esg_node_open(esg_node **out, const esg_node_config *cfg, esg_logger *log,
                  char *err, size_t errlen) {
    *out = NULL;
    esg_node *n = calloc(1, sizeof *n);
    if (!n)
        return ESG_ERR_NOMEM;
    n->cfg = *cfg;
    n->cfg.n_peers = 0; /* peers stay owned by cfg */
    n->log = log;
    n->ct = esg_contracts();
    pthread_mutex_init(&n->status_mu, NULL);
    pthread_mutex_init(&n->stop_mu, NULL);
    n->metrics.started_ms = esg_wall_ms();
    n->n_cfg_peers = cfg->n_peers;
    char path[PATH_MAX + 32];
    int rc;
    if (!(n->items = calloc(PRODUCE_BATCH, sizeof *n->items))) {
        rc = ESG_ERR_NOMEM;
        goto fail;
    }
    snprintf(path, sizeof path, "%s/node_key.json", cfg->datadir);
    if ((rc = esg_keyfile_read(&n->key, &n->pubkey, path)) != 0) {
        snprintf(err, errlen, "key file '%s': %s", path, esg_err_message(rc));
        goto fail;
    }
    if ((rc = esg_store_open_ex(&n->store, err, errlen, cfg->datadir, false, NULL)) != 0)
        goto fail;
    if ((rc = refresh_status(n)) != 0) {
        snprintf(err, errlen, "datadir '%s' is not initialized (run esgnode init)", cfg->datadir);
        goto fail;
    }
    esg_store_health_watch(n->store, on_store_health, n);
    esg_mempool_limits lim = {cfg->mempool_max_txs, cfg->mempool_max_bytes};
    if ((rc = esg_mempool_new(&n->mempool, n->store, n->ct, &lim, wake_producer, n)) != 0)
        goto fail;
    if ((rc = uv_loop_init(&n->loop)) != 0) {
        snprintf(err, errlen, "libuv: %s", uv_strerror(rc));
        rc = ESG_ERR_INTERNAL;
        goto fail;
    }
    uv_async_init(&n->loop, &n->wake, on_wake);
    n->wake.data = n;
    uv_timer_init(&n->loop, &n->heartbeat);
    n->heartbeat.data = n;
    uv_timer_init(&n->loop, &n->full_retry);
    n->full_retry.data = n;
    uv_signal_init(&n->loop, &n->sigint);
    uv_signal_init(&n->loop, &n->sigterm);
    n->sigint.data = n->sigterm.data = n;
    if (n->multi) {
        esg_driver_config dc = {
            .loop = &n->loop, .store = n->store, .ct = n->ct, .mp = n->mempool, .log = log,
            .datadir = cfg->datadir, .key = &n->key, .p2p_addr = cfg->p2p_addr,
            .peers = (const char *const *)cfg->peers, .n_peers = cfg->n_peers,
            .observers = cfg->observers, .n_observers = cfg->n_observers,
            .max_clock_drift_ms = cfg->max_clock_drift_ms, .heartbeat_ms = cfg->heartbeat_ms,
            .on_committed = on_committed, .ctx = n,
        };
        dc.cons = cfg->cons;
        if ((rc = esg_driver_new(&n->driver, &dc, err, errlen)) != 0)
            goto fail;
    }

    esg_api_deps deps = {
        .store = n->store, .mempool = n->mempool, .log = log,
        .status = api_status, .metrics = api_metrics, .arg = n,
        .threads = cfg->api_threads, .wait_timeout_ms = cfg->wait_timeout_ms,
        .max_conns_per_addr = cfg->api_max_conns_per_addr,
        .bearer_token = cfg->api_token[0] ? cfg->api_token : NULL,
        .no_explorer = !cfg->api_explorer,
    };
    if ((rc = esg_api_start(&n->api, &deps, cfg->api_addr, err, errlen)) != 0)
        goto fail;
    esg_log(log, ESG_LOG_INFO, "esgnode %s: chain '%s' at height %llu, API on http://%s, %s",
            n->status.is_validator ? "validator" : "observer", n->status.chain_id,
            (unsigned long long)n->status.height, cfg->api_addr, esg_pubkey_hex(&n->pubkey).s);
    if (n->multi)
        esg_log(log, ESG_LOG_INFO, "multi-node mode: p2p on %s, %zu configured peer(s)",
                cfg->p2p_addr, cfg->n_peers);
    if (!n->status.is_validator && !n->multi)
        esg_log(log, ESG_LOG_WARN,
                "this node's key cannot commit blocks alone (not a validator holding more "
                "than 2/3 of the power): it serves the API and admits transactions only");
    *out = n;
    return ESG_OK;
fail:
    esg_node_close(n);
    return rc;
}

static void close_cb(uv_handle_t *h) { (void)h; }

int esg_node_run(esg_node *n) {
    uv_signal_start(&n->sigint, on_signal, SIGINT);
    uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    if (n->driver) {
        char err[256];
        int rc = esg_driver_start(n->driver, err, sizeof err);
        if (rc) {
            esg_log(n->log, ESG_LOG_ERROR, "cannot start consensus: %s", err);
            return rc;
        }
    }
    if (n->cfg.heartbeat_ms && !n->driver)
        uv_timer_start(&n->heartbeat, on_heartbeat, n->cfg.heartbeat_ms, n->cfg.heartbeat_ms);
    uv_async_send(&n->wake); /* transactions may have arrived before the loop ran */
    uv_run(&n->loop, UV_RUN_DEFAULT);
    return ESG_OK;
}

void esg_node_stop(esg_node *n) {
    pthread_mutex_lock(&n->stop_mu);
    n->stopping = true;
    pthread_mutex_unlock(&n->stop_mu);
    uv_async_send(&n->wake);
}

void esg_node_close(esg_node *n) {
    if (!n)
        return;
    if (n->mempool)
        esg_mempool_shutdown(n->mempool);
    esg_api_stop(n->api);
    if (n->loop.data == NULL && n->wake.loop) {
        esg_driver_close(n->driver);
        n->driver = NULL;
        pthread_mutex_lock(&n->stop_mu);
        n->wake_closed = true;
        pthread_mutex_unlock(&n->stop_mu);
        uv_close((uv_handle_t *)&n->wake, close_cb);
        uv_close((uv_handle_t *)&n->heartbeat, close_cb);
        uv_close((uv_handle_t *)&n->full_retry, close_cb);
        uv_close((uv_handle_t *)&n->sigint, close_cb);
        uv_close((uv_handle_t *)&n->sigterm, close_cb);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&n->loop) != 0)
            esg_log(n->log, ESG_LOG_WARN, "libuv loop did not close cleanly");
    }
    esg_mempool_free(n->mempool);
    esg_store_close(n->store);
    esg_seckey_wipe(&n->key);
    free(n->items);
    pthread_mutex_destroy(&n->status_mu);
    pthread_mutex_destroy(&n->stop_mu);
    free(n);
}

esg_store *esg_node_store(esg_node *n) { return n->store; }
esg_mempool *esg_node_mempool(esg_node *n) { return n->mempool; }
const esg_logger *esg_node_logger(esg_node *n) { return n->log; }
const esg_node_config *esg_node_cfg(esg_node *n) { return &n->cfg; }

void esg_node_status_get(esg_node *n, esg_node_status *out) {
    pthread_mutex_lock(&n->status_mu);
    *out = n->status;
    pthread_mutex_unlock(&n->status_mu);
    if (n->driver)
        esg_driver_sync_info(n->driver, &out->peers, &out->syncing, &out->behind);
}

void esg_node_metrics_get(esg_node *n, esg_node_metrics *out) {
    pthread_mutex_lock(&n->status_mu);
    *out = n->metrics;
    pthread_mutex_unlock(&n->status_mu);
    if (n->driver) {
        esg_driver_metrics dm;
        esg_driver_metrics_get(n->driver, &dm);
        out->cons_height = dm.height;
        out->cons_round = dm.round;
        out->cons_step = dm.step;
        out->cons_heights_decided = dm.heights_decided;
        out->cons_rounds_total = dm.rounds_total;
        for (size_t i = 0; i < 5 && i < ESG_DRIVER_N_PHASES; i++)
            out->cons_step_us[i] = dm.phase_us[i];
        out->p2p_bytes_in = dm.p2p_bytes_in;
        out->p2p_bytes_out = dm.p2p_bytes_out;
        out->p2p = dm.p2p;
        out->evidence_total = dm.evidence_total;
        out->clock_offset_ms = dm.clock_offset_ms;
    }
}
