/* The LMDB store: environment lifecycle, serialized writes with map growth,
 * the reader gate, and the chain records. See store.h. */
#include "ledger/store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger/error.h"

/* Growth stops here: a fn that keeps reporting a full map (a bug, or a disk
 * that cannot hold the data) must not double the map forever. */
#define STORE_MAX_MAPSIZE ((size_t)1 << 40)

#define META_VERSION 1
#define META_FIXED_LEN (1 + 8 + 32 + 32 + 32 + 8 + 1)
#define META_KEY "chain"

static const char *const db_names[ESG_DB_COUNT_] = {
    [ESG_DB_BLOCKS] = "blocks",
    [ESG_DB_COMMITS] = "commits",
    [ESG_DB_BLOCK_INDEX] = "block_index",
    [ESG_DB_TX_INDEX] = "tx_index",
    [ESG_DB_STATE] = "state",
    [ESG_DB_SMT_LEAVES] = "smt_leaves",
    [ESG_DB_SMT_NODES] = "smt_nodes",
    [ESG_DB_META] = "meta",
    [ESG_DB_VALSETS] = "valsets",
};

struct esg_store {
    MDB_env *env;
    MDB_dbi dbi[ESG_DB_COUNT_];

    /* One writer at a time; also guards last_error. Lock order: write_mu
     * before gate_mu. */
    pthread_mutex_t write_mu;
    char last_error[256];

    /* The growth gate (store.h, Thread rules). Not a pthread_rwlock: with
     * MDB_NOTLS a read transaction, and so its share of the gate, may be
     * released by another thread than the one that took it, which a
     * rwlock forbids. */
    pthread_mutex_t gate_mu;
    pthread_cond_t gate_cv;
    unsigned readers;  /* read transactions alive */
    bool exclusive;    /* a resize is waiting or running */
    bool broken;       /* a failed remap left the environment unusable */
};

/* ------------------------------------------------------------ utilities */

static void put_be64(uint8_t *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v) {
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get_be32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | p[i];
    return v;
}

/* The one translation of LMDB's return codes. */
static int store_err(int rc) {
    switch (rc) {
    case MDB_SUCCESS: return ESG_OK;
    case MDB_NOTFOUND: return ESG_ERR_NOT_FOUND;
    case MDB_MAP_FULL: return ESG_ERR_MAP_FULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID: return ESG_ERR_STORE_CORRUPT;
    default: return ESG_ERR_STORE;
    }
}

/* An MDB_val for a caller's buffer. LMDB copies from mv_data even for an
 * empty value, so never hand it NULL. */
static MDB_val mval(const void *p, size_t len) {
    static const uint8_t empty[1];
    MDB_val v = {len, (void *)(p ? p : empty)};
    return v;
}

/* Precondition: write_mu is held. */
static void record_error(esg_store *s, const char *what, int rc) {
    snprintf(s->last_error, sizeof s->last_error, "%s: %s", what, mdb_strerror(rc));
}

/* --------------------------------------------------------- growth gate */

static int gate_enter_shared(esg_store *s) {
    int rc = 0;
    pthread_mutex_lock(&s->gate_mu);
    while (s->exclusive)
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
    if (s->broken)
        rc = ESG_ERR_STORE;
    else
        s->readers++;
    pthread_mutex_unlock(&s->gate_mu);
    return rc;
}

static void gate_leave_shared(esg_store *s) {
    pthread_mutex_lock(&s->gate_mu);
    assert(s->readers > 0);
    if (--s->readers == 0 && s->exclusive)
        pthread_cond_broadcast(&s->gate_cv);
    pthread_mutex_unlock(&s->gate_mu);
}

/* Sets the map size (0 = adopt the size another process grew it to) once
 * no read transaction is alive. New readers wait from the moment we ask,
 * so we wait only for those already running.
 * Precondition: write_mu is held and no write transaction is active, so no
 * transaction at all is active in this process when LMDB remaps. */
static int resize_map(esg_store *s, size_t size) {
    pthread_mutex_lock(&s->gate_mu);
    assert(!s->exclusive);
    s->exclusive = true;
    while (s->readers > 0)
        pthread_cond_wait(&s->gate_cv, &s->gate_mu);
    int rc = s->broken ? EINVAL : mdb_env_set_mapsize(s->env, size);
    if (rc != 0) {
        /* LMDB has unmapped the file and failed to map it again: no
         * transaction can begin on this environment any more. */
        s->broken = true;
        record_error(s, "mdb_env_set_mapsize", rc);
    }
    s->exclusive = false;
    pthread_cond_broadcast(&s->gate_cv);
    pthread_mutex_unlock(&s->gate_mu);
    return rc;
}

static size_t map_size(esg_store *s) {
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    return info.me_mapsize;
}

/* ------------------------------------------------------------ lifecycle */

/* Fails an open: fills the caller's reason buffer, frees what was built. */
static int open_fail(esg_store *s, char *err, size_t errlen, int code,
                     const char *dir, const char *reason) {
    if (err && errlen)
        snprintf(err, errlen, "store '%s': %s", dir, reason);
    esg_store_close(s);
    return code;
}

int esg_store_open(esg_store **out, const char *dir, bool create) {
    return esg_store_open_ex(out, NULL, 0, dir, create, NULL);
}

int esg_store_open_ex(esg_store **out, char *err, size_t errlen, const char *dir,
                      bool create, const esg_store_options *opts) {
    assert(out && dir);
    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    size_t initial = opts && opts->initial_mapsize ? opts->initial_mapsize
                                                   : ESG_STORE_DEFAULT_MAPSIZE;

    char path[4096];
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
        return open_fail(NULL, err, errlen, ESG_ERR_STORE, dir, "path too long");
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (!exists && !create)
        return open_fail(NULL, err, errlen, ESG_ERR_NOT_INITIALIZED, dir,
                         "not initialized (no data.mdb)");
    if (!exists && mkdir(dir, 0700) != 0 && errno != EEXIST)
        return open_fail(NULL, err, errlen, ESG_ERR_STORE, dir, strerror(errno));

    esg_store *s = calloc(1, sizeof *s);
    if (!s)
        return open_fail(NULL, err, errlen, ESG_ERR_NOMEM, dir, "out of memory");
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->gate_mu, NULL);
    pthread_cond_init(&s->gate_cv, NULL);

    int rc = mdb_env_create(&s->env);
    if (rc != 0)
        return open_fail(s, err, errlen, store_err(rc), dir, mdb_strerror(rc));
    mdb_env_set_userctx(s->env, s);
    mdb_env_set_maxdbs(s->env, ESG_DB_COUNT_ + 7);
    mdb_env_set_mapsize(s->env, initial);
    rc = mdb_env_open(s->env, dir, MDB_NOTLS | (opts && opts->no_sync ? MDB_NOSYNC : 0), 0600);
    if (rc != 0)
        return open_fail(s, err, errlen, store_err(rc), dir, mdb_strerror(rc));
    int dead = 0;
    rc = mdb_reader_check(s->env, &dead);
    if (rc != 0)
        return open_fail(s, err, errlen, store_err(rc), dir, mdb_strerror(rc));

    /* mdb_env_open took `initial` (raised to the used space) and ignored the
     * size the map last grew to; size 0 adopts that one, so a store that
     * grew once does not hit a full map again on every restart. No
     * transaction exists yet, as set_mapsize requires. */
    rc = mdb_env_set_mapsize(s->env, 0);
    if (rc == 0 && map_size(s) < initial)
        rc = mdb_env_set_mapsize(s->env, initial);
    if (rc != 0)
        return open_fail(s, err, errlen, store_err(rc), dir, mdb_strerror(rc));

    MDB_txn *txn;
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    for (int i = 0; rc == 0 && i < ESG_DB_COUNT_; i++)
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc != 0)
        return open_fail(s, err, errlen, store_err(rc), dir, mdb_strerror(rc));
    *out = s;
    return ESG_OK;
}

void esg_store_close(esg_store *s) {
    if (!s)
        return;
    assert(s->readers == 0);
    if (s->env)
        mdb_env_close(s->env);
    pthread_cond_destroy(&s->gate_cv);
    pthread_mutex_destroy(&s->gate_mu);
    pthread_mutex_destroy(&s->write_mu);
    free(s);
}

MDB_env *esg_store_env(esg_store *s) {
    assert(s);
    return s->env;
}

MDB_dbi esg_store_dbi(const esg_store *s, esg_db db) {
    assert(s && db >= 0 && db < ESG_DB_COUNT_);
    return s->dbi[db];
}

void esg_store_last_error(esg_store *s, char *buf, size_t buflen) {
    assert(s && buf && buflen > 0);
    pthread_mutex_lock(&s->write_mu);
    snprintf(buf, buflen, "%s", s->last_error);
    pthread_mutex_unlock(&s->write_mu);
}

/* ---------------------------------------------------------- transactions */

int esg_store_write(esg_store *s, int (*fn)(MDB_txn *txn, void *arg), void *arg) {
    assert(s && fn);
    pthread_mutex_lock(&s->write_mu);
    int err;
    int resized_by_other = 0;
    size_t start_size = 0; /* map size before this call grew it */
    for (;;) {
        if (s->broken) {
            err = ESG_ERR_STORE;
            break;
        }
        MDB_txn *txn;
        int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
        if (rc == MDB_MAP_RESIZED && resized_by_other++ < 3) {
            /* Another process grew the map past ours: adopt its size. */
            if (resize_map(s, 0) != 0) {
                err = ESG_ERR_STORE;
                break;
            }
            continue;
        }
        if (rc != 0) {
            record_error(s, "mdb_txn_begin", rc);
            err = ESG_ERR_STORE;
            break;
        }
        err = fn(txn, arg);
        if (err == ESG_OK) {
            /* mdb_txn_commit frees the transaction whatever it returns. */
            rc = mdb_txn_commit(txn);
            if (rc == 0)
                break;
            err = store_err(rc);
            if (err != ESG_ERR_MAP_FULL) {
                record_error(s, "mdb_txn_commit", rc);
                break;
            }
        } else {
            mdb_txn_abort(txn);
            if (err != ESG_ERR_MAP_FULL)
                break;
        }
        /* The map is full and no transaction of ours is active: double it
         * and run fn again from scratch. */
        size_t cur = map_size(s);
        if (!start_size)
            start_size = cur;
        if (cur >= STORE_MAX_MAPSIZE / 2) {
            snprintf(s->last_error, sizeof s->last_error,
                     "map size %zu bytes reached the limit", cur);
            /* Nothing needed the growth: do not leave a huge map to be
             * persisted by the next commit. */
            resize_map(s, start_size);
            break;
        }
        if (resize_map(s, cur * 2) != 0) {
            err = ESG_ERR_STORE;
            break;
        }
    }
    pthread_mutex_unlock(&s->write_mu);
    return err;
}

/* Adopts a map size another process grew to, for a reader that saw
 * MDB_MAP_RESIZED. Precondition: the caller holds no read transaction. */
static int adopt_map_size(esg_store *s) {
    pthread_mutex_lock(&s->write_mu);
    int rc = resize_map(s, 0);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

int esg_store_read_begin(esg_store *s, MDB_txn **txn) {
    assert(s && txn);
    *txn = NULL;
    for (int tries = 0;; tries++) {
        int err = gate_enter_shared(s);
        if (err)
            return err;
        int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
        if (rc == 0)
            return ESG_OK;
        *txn = NULL;
        gate_leave_shared(s);
        if (rc != MDB_MAP_RESIZED || tries >= 3 || adopt_map_size(s) != 0)
            return store_err(rc);
    }
}

void esg_store_read_end(MDB_txn *txn) {
    if (!txn)
        return;
    esg_store *s = mdb_env_get_userctx(mdb_txn_env(txn));
    assert(s);
    mdb_txn_abort(txn);
    gate_leave_shared(s);
}

/* --------------------------------------------------- low-level record I/O */

int esg_store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                  MDB_val *val) {
    assert(txn && key && val);
    MDB_val k = mval(key, klen);
    return store_err(mdb_get(txn, dbi, &k, val));
}

int esg_store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                  const void *val, size_t vlen) {
    assert(txn && key && (val || vlen == 0));
    MDB_val k = mval(key, klen), v = mval(val, vlen);
    return store_err(mdb_put(txn, dbi, &k, &v, 0));
}

int esg_store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen) {
    assert(txn && key);
    MDB_val k = mval(key, klen);
    int rc = mdb_del(txn, dbi, &k, NULL);
    return rc == MDB_NOTFOUND ? ESG_OK : store_err(rc);
}

/* --------------------------------------------------------- chain records */

int esg_store_meta_get(MDB_txn *txn, esg_store *s, esg_store_meta *m) {
    assert(txn && s && m);
    MDB_val v;
    int err = esg_store_get(txn, s->dbi[ESG_DB_META], META_KEY, strlen(META_KEY), &v);
    if (err == ESG_ERR_NOT_FOUND)
        return ESG_ERR_NOT_INITIALIZED;
    if (err)
        return err;
    const uint8_t *p = v.mv_data;
    if (v.mv_size < META_FIXED_LEN || p[0] != META_VERSION)
        return ESG_ERR_STORE_CORRUPT;
    size_t idlen = p[META_FIXED_LEN - 1];
    if (idlen > 64 || v.mv_size != META_FIXED_LEN + idlen ||
        memchr(p + META_FIXED_LEN, 0, idlen))
        return ESG_ERR_STORE_CORRUPT;
    memset(m, 0, sizeof *m);
    m->height = get_be64(p + 1);
    memcpy(m->block_hash.b, p + 9, 32);
    memcpy(m->app_hash.b, p + 41, 32);
    memcpy(m->genesis_hash.b, p + 73, 32);
    m->time_ms = get_be64(p + 105);
    memcpy(m->chain_id, p + META_FIXED_LEN, idlen);
    return ESG_OK;
}

int esg_store_meta_put(MDB_txn *txn, esg_store *s, const esg_store_meta *m) {
    assert(txn && s && m);
    const char *nul = memchr(m->chain_id, 0, sizeof m->chain_id);
    assert(nul);
    size_t idlen = (size_t)(nul - m->chain_id);
    uint8_t buf[META_FIXED_LEN + 64];
    buf[0] = META_VERSION;
    put_be64(buf + 1, m->height);
    memcpy(buf + 9, m->block_hash.b, 32);
    memcpy(buf + 41, m->app_hash.b, 32);
    memcpy(buf + 73, m->genesis_hash.b, 32);
    put_be64(buf + 105, m->time_ms);
    buf[113] = (uint8_t)idlen;
    memcpy(buf + META_FIXED_LEN, m->chain_id, idlen);
    return esg_store_put(txn, s->dbi[ESG_DB_META], META_KEY, strlen(META_KEY), buf,
                         META_FIXED_LEN + idlen);
}

int esg_store_block_put(MDB_txn *txn, esg_store *s, uint64_t height,
                        const esg_hash *block_hash, const void *block,
                        size_t block_len, const void *commit, size_t commit_len,
                        const esg_hash *tx_ids, size_t n_txs) {
    assert(txn && s && block_hash && (block || block_len == 0) &&
           (commit || commit_len == 0) && (tx_ids || n_txs == 0));
    uint8_t hk[8];
    put_be64(hk, height);
    MDB_val k = mval(hk, 8), v = mval(block, block_len);
    /* MDB_APPEND is both the fast path for sequential heights and the
     * guard against rewriting a final block: LMDB refuses a key that is
     * not above the last one. */
    int rc = mdb_put(txn, s->dbi[ESG_DB_BLOCKS], &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST)
        return ESG_ERR_BAD_BLOCK;
    if (rc)
        return store_err(rc);
    v = mval(commit, commit_len);
    rc = mdb_put(txn, s->dbi[ESG_DB_COMMITS], &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST) /* a commit above the last block */
        return ESG_ERR_STORE_CORRUPT;
    if (rc)
        return store_err(rc);

    k = mval(block_hash->b, 32);
    v = mval(hk, 8);
    rc = mdb_put(txn, s->dbi[ESG_DB_BLOCK_INDEX], &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return ESG_ERR_BAD_BLOCK;
    if (rc)
        return store_err(rc);

    uint8_t loc[12];
    memcpy(loc, hk, 8);
    for (size_t i = 0; i < n_txs; i++) {
        if (i > UINT32_MAX)
            return ESG_ERR_BAD_BLOCK;
        put_be32(loc + 8, (uint32_t)i);
        k = mval(tx_ids[i].b, 32);
        v = mval(loc, sizeof loc);
        rc = mdb_put(txn, s->dbi[ESG_DB_TX_INDEX], &k, &v, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            return ESG_ERR_DUPLICATE_TX;
        if (rc)
            return store_err(rc);
    }
    return ESG_OK;
}

int esg_store_block_get(MDB_txn *txn, esg_store *s, uint64_t height,
                        MDB_val *block, MDB_val *commit) {
    assert(txn && s);
    uint8_t hk[8];
    put_be64(hk, height);
    MDB_val b, c;
    int err = esg_store_get(txn, s->dbi[ESG_DB_BLOCKS], hk, 8, &b);
    if (err)
        return err;
    if (commit) {
        err = esg_store_get(txn, s->dbi[ESG_DB_COMMITS], hk, 8, &c);
        if (err)
            return err == ESG_ERR_NOT_FOUND ? ESG_ERR_STORE_CORRUPT : err;
        *commit = c;
    }
    if (block)
        *block = b;
    return ESG_OK;
}

int esg_store_height_by_hash(MDB_txn *txn, esg_store *s, const esg_hash *block_hash,
                             uint64_t *height) {
    assert(txn && s && block_hash && height);
    MDB_val v;
    int err = esg_store_get(txn, s->dbi[ESG_DB_BLOCK_INDEX], block_hash->b, 32, &v);
    if (err)
        return err;
    if (v.mv_size != 8)
        return ESG_ERR_STORE_CORRUPT;
    *height = get_be64(v.mv_data);
    return ESG_OK;
}

int esg_store_tx_locate(MDB_txn *txn, esg_store *s, const esg_hash *tx_id,
                        uint64_t *height, uint32_t *index) {
    assert(txn && s && tx_id && height && index);
    MDB_val v;
    int err = esg_store_get(txn, s->dbi[ESG_DB_TX_INDEX], tx_id->b, 32, &v);
    if (err)
        return err;
    if (v.mv_size != 12)
        return ESG_ERR_STORE_CORRUPT;
    *height = get_be64(v.mv_data);
    *index = get_be32((const uint8_t *)v.mv_data + 8);
    return ESG_OK;
}

int esg_store_commit_replace(MDB_txn *txn, esg_store *s, uint64_t height,
                             const void *commit, size_t len) {
    assert(txn && s && (commit || len == 0));
    uint8_t hk[8];
    put_be64(hk, height);
    MDB_val b;
    int err = esg_store_get(txn, s->dbi[ESG_DB_BLOCKS], hk, 8, &b);
    if (err)
        return err;
    return esg_store_put(txn, s->dbi[ESG_DB_COMMITS], hk, 8, commit, len);
}
