/* The LMDB store: environment lifecycle, serialized writes with map growth,
 * the reader gate, and the chain records. See store.h. */
#include "ledger/store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

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

/* What an operator reads when data.mdb is damaged: the store cannot be
 * used and how to get a node back. */
#define DAMAGED_ADVICE \
    "the node will not start on it: move the datadir aside and re-sync from " \
    "peers into a fresh datadir (esgnode init with the same genesis, then " \
    "esgnode run --peer ...)"

struct esg_store {
    MDB_env *env;
    /* "fatal: store 'DIR/data.mdb' is damaged (LMDB: ", written by the
     * assertion handler, which must not format. */
    char assert_prefix[4200];
    size_t assert_prefix_len;
    char dir[4096];

    /* Write health (store.h); health_mu is a leaf lock, never held while
     * waiting for anything. */
    pthread_mutex_t health_mu;
    esg_store_health health;
    void (*health_fn)(void *arg, const esg_store_health *h);
    void *health_arg;

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
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return ESG_ERR_STORE_CORRUPT;
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

/* ------------------------------------------------------- file check */

/* LMDB 0.9's on-disk records (mdb.c: MDB_page, MDB_db, MDB_meta; not in
 * lmdb.h), in the native byte order and alignment of the platform that
 * wrote the file, which is the one that maps it. pgno_t and txnid_t are
 * size_t. A meta page is a page header followed by one meta record; meta
 * page 0 is at offset 0, meta page 1 at offset page_size. The unit test
 * compares what this reads with what LMDB reports (mdb_env_info). */
typedef struct lmdb_page_head {
    size_t pgno;
    uint16_t pad;
    uint16_t flags;
    uint16_t lower, upper;
} lmdb_page_head;

typedef struct lmdb_db_rec {
    uint32_t pad; /* the free tree's holds the page size */
    uint16_t flags;
    uint16_t depth;
    size_t branch_pages, leaf_pages, overflow_pages, entries;
    size_t root;
} lmdb_db_rec;

typedef struct lmdb_meta_rec {
    uint32_t magic;
    uint32_t version;
    void *address;
    size_t mapsize;
    lmdb_db_rec dbs[2]; /* free pages, main (named databases) */
    size_t last_pg;
    size_t txnid;
} lmdb_meta_rec;

#define LMDB_MAGIC 0xBEEFC0DEu
#define LMDB_DATA_VERSION 1u
#define LMDB_P_META 0x08u
#define LMDB_P_INVALID ((size_t)-1)
#define LMDB_MIN_PAGESIZE 512u
#define LMDB_MAX_PAGESIZE 0x10000u

_Static_assert(sizeof(lmdb_page_head) == offsetof(lmdb_page_head, upper) + 2,
               "the page header has no tail padding, like MDB_page up to mp_ptrs");

/* Reads and checks meta page `i` at `off`. Returns 0 or
 * ESG_ERR_STORE_CORRUPT/ESG_ERR_STORE with the reason in err. */
static int meta_read(int fd, unsigned i, off_t off, uint64_t file_size, lmdb_meta_rec *m,
                     char *err, size_t errlen) {
    uint8_t buf[sizeof(lmdb_page_head) + sizeof(lmdb_meta_rec)];
    if ((uint64_t)off + sizeof buf > file_size)
        return esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                        "truncated: %llu bytes, too short for meta page %u",
                        (unsigned long long)file_size, i);
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n < 0)
        return esg_errf(err, errlen, ESG_ERR_STORE, "cannot read meta page %u: %s", i,
                        strerror(errno));
    if ((size_t)n != sizeof buf)
        return esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                        "truncated while reading meta page %u", i);
    lmdb_page_head h;
    memcpy(&h, buf, sizeof h);
    memcpy(m, buf + sizeof h, sizeof *m);
    if (m->magic != LMDB_MAGIC)
        return esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                        "meta page %u has no LMDB magic (not an LMDB file, or overwritten)", i);
    if (m->version != LMDB_DATA_VERSION)
        return esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                        "meta page %u has LMDB data version %u, this build reads %u", i,
                        m->version, LMDB_DATA_VERSION);
    if (!(h.flags & LMDB_P_META) || h.pgno != i)
        return esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                        "page %u is not a meta page (flags 0x%x, number %zu)", i,
                        (unsigned)h.flags, h.pgno);
    uint32_t ps = m->dbs[0].pad;
    if (ps < LMDB_MIN_PAGESIZE || ps > LMDB_MAX_PAGESIZE || (ps & (ps - 1)))
        return esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                        "meta page %u records an impossible page size %u", i, ps);
    return ESG_OK;
}

int esg_store_file_check(const char *path, esg_store_file_info *info, char *err,
                         size_t errlen) {
    assert(path);
    if (err && errlen)
        err[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return esg_errf(err, errlen, errno == ENOENT ? ESG_ERR_NOT_INITIALIZED : ESG_ERR_STORE,
                        "cannot open: %s", strerror(errno));
    struct stat st;
    int rc = ESG_OK;
    lmdb_meta_rec m[2];
    memset(m, 0, sizeof m);
    if (fstat(fd, &st) != 0) {
        rc = esg_errf(err, errlen, ESG_ERR_STORE, "cannot stat: %s", strerror(errno));
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) {
        rc = esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT, "empty (0 bytes)");
        goto out;
    }
    if ((rc = meta_read(fd, 0, 0, size, &m[0], err, errlen)) != 0)
        goto out;
    uint32_t ps = m[0].dbs[0].pad;
    if ((rc = meta_read(fd, 1, (off_t)ps, size, &m[1], err, errlen)) != 0)
        goto out;
    if (m[1].dbs[0].pad != ps) {
        rc = esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                      "the meta pages disagree on the page size (%u, %u)", ps,
                      m[1].dbs[0].pad);
        goto out;
    }
    /* LMDB uses the meta page with the higher txnid (page 0 on a tie). */
    unsigned cur = m[1].txnid > m[0].txnid;
    const lmdb_meta_rec *mm = &m[cur];
    if (mm->last_pg < 1 || mm->last_pg > (UINT64_MAX / ps) - 1) {
        rc = esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                      "meta page %u records an impossible last page %zu", cur, mm->last_pg);
        goto out;
    }
    for (int d = 0; d < 2; d++)
        if (mm->dbs[d].root != LMDB_P_INVALID &&
            (mm->dbs[d].root < 2 || mm->dbs[d].root > mm->last_pg)) {
            rc = esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                          "meta page %u: the %s tree's root page %zu is not in use", cur,
                          d ? "main" : "free", mm->dbs[d].root);
            goto out;
        }
    /* LMDB does not write a page freed in the transaction that
     * allocated it (a loose page), so the last pages counted as in use
     * may lie past the end of a healthy file. Allow that much; a read of
     * a missing page that IS in use raises SIGBUS, which esgnode turns
     * into the same message (node/main.c). */
    uint64_t need = ((uint64_t)mm->last_pg + 1) * ps;
    uint64_t slack_pages = mm->last_pg / 16;
    if (slack_pages > ESG_STORE_TAIL_SLACK_PAGES)
        slack_pages = ESG_STORE_TAIL_SLACK_PAGES;
    uint64_t slack = slack_pages * ps;
    if (size + slack < need || size % ps) {
        rc = esg_errf(err, errlen, ESG_ERR_STORE_CORRUPT,
                      "truncated: %llu bytes, the %llu pages in use need %llu",
                      (unsigned long long)size, (unsigned long long)mm->last_pg + 1,
                      (unsigned long long)need);
        goto out;
    }
    if (info)
        *info = (esg_store_file_info){.file_size = size, .page_size = ps, .meta = cur,
                                      .txnid = mm->txnid, .last_page = mm->last_pg,
                                      .map_size = mm->mapsize};
out:
    close(fd);
    return rc;
}

/* LMDB's assertion handler (mdb_env_set_assert): LMDB found a page that
 * contradicts its invariants, which in a file LMDB wrote means damage.
 * LMDB calls abort() when this returns, so it never returns: it writes
 * the reason with write(2) -- it may run in any thread, inside LMDB, with
 * locks held: nothing that allocates or formats -- and _exits. */
static void store_assert(MDB_env *env, const char *msg) {
    const esg_store *s = mdb_env_get_userctx(env);
    static const char tail[] = "); " DAMAGED_ADVICE "\n";
    if (s && s->assert_prefix_len) {
        ssize_t w = write(STDERR_FILENO, s->assert_prefix, s->assert_prefix_len);
        w = write(STDERR_FILENO, msg, strlen(msg));
        w = write(STDERR_FILENO, tail, sizeof tail - 1);
        (void)w;
    }
    _exit(ESG_STORE_DAMAGED_EXIT);
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

/* Fails an open for an LMDB error: a damaged file gets the full story. */
static int open_fail_mdb(esg_store *s, char *err, size_t errlen, const char *dir,
                         const char *path, int rc) {
    int code = store_err(rc);
    if (code != ESG_ERR_STORE_CORRUPT)
        return open_fail(s, err, errlen, code, dir, mdb_strerror(rc));
    char reason[4096 + 512];
    snprintf(reason, sizeof reason, "'%s' is damaged (LMDB: %s); " DAMAGED_ADVICE, path,
             mdb_strerror(rc));
    return open_fail(s, err, errlen, code, dir, reason);
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
    /* An empty data.mdb is what LMDB leaves when it created the file and
     * committed nothing: with `create` LMDB initializes it as new. Any other
     * existing file must hold what its meta pages promise before it is
     * mapped. */
    if (exists && !(create && st.st_size == 0)) {
        char why[256], reason[sizeof path + sizeof why + 256];
        int crc = esg_store_file_check(path, NULL, why, sizeof why);
        if (crc == ESG_ERR_STORE_CORRUPT)
            snprintf(reason, sizeof reason, "'%s' is damaged: %s; " DAMAGED_ADVICE, path, why);
        else
            snprintf(reason, sizeof reason, "'%s': %s", path, why);
        if (crc)
            return open_fail(NULL, err, errlen, crc, dir, reason);
    }

    esg_store *s = calloc(1, sizeof *s);
    if (!s)
        return open_fail(NULL, err, errlen, ESG_ERR_NOMEM, dir, "out of memory");
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->gate_mu, NULL);
    pthread_cond_init(&s->gate_cv, NULL);
    pthread_mutex_init(&s->health_mu, NULL);
    s->health.writable = true;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    int plen = snprintf(s->assert_prefix, sizeof s->assert_prefix,
                        "fatal: store '%s' is damaged (LMDB: ", path);
    s->assert_prefix_len = plen > 0 && (size_t)plen < sizeof s->assert_prefix ? (size_t)plen : 0;

    int rc = mdb_env_create(&s->env);
    if (rc != 0)
        return open_fail(s, err, errlen, store_err(rc), dir, mdb_strerror(rc));
    mdb_env_set_userctx(s->env, s);
    mdb_env_set_assert(s->env, store_assert);
    mdb_env_set_maxdbs(s->env, ESG_DB_COUNT_ + 7);
    mdb_env_set_mapsize(s->env, initial);
    rc = mdb_env_open(s->env, dir, MDB_NOTLS | (opts && opts->no_sync ? MDB_NOSYNC : 0), 0600);
    if (rc != 0)
        return open_fail_mdb(s, err, errlen, dir, path, rc);
    int dead = 0;
    rc = mdb_reader_check(s->env, &dead);
    if (rc != 0)
        return open_fail_mdb(s, err, errlen, dir, path, rc);

    /* mdb_env_open took `initial` (raised to the used space) and ignored the
     * size the map last grew to; size 0 adopts that one, so a store that
     * grew once does not hit a full map again on every restart. No
     * transaction exists yet, as set_mapsize requires. */
    rc = mdb_env_set_mapsize(s->env, 0);
    if (rc == 0 && map_size(s) < initial)
        rc = mdb_env_set_mapsize(s->env, initial);
    if (rc != 0)
        return open_fail_mdb(s, err, errlen, dir, path, rc);

    MDB_txn *txn;
    rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    for (int i = 0; rc == 0 && i < ESG_DB_COUNT_; i++)
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i]);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc != 0)
        return open_fail_mdb(s, err, errlen, dir, path, rc);
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
    pthread_mutex_destroy(&s->health_mu);
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

/* -------------------------------------------------------------- health */

void esg_store_health_get(esg_store *s, esg_store_health *out) {
    assert(s && out);
    pthread_mutex_lock(&s->health_mu);
    *out = s->health;
    pthread_mutex_unlock(&s->health_mu);
}

void esg_store_health_watch(esg_store *s,
                            void (*fn)(void *arg, const esg_store_health *h),
                            void *arg) {
    assert(s);
    pthread_mutex_lock(&s->health_mu);
    s->health_fn = fn;
    s->health_arg = arg;
    pthread_mutex_unlock(&s->health_mu);
}

static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Updates the health after a write: `rc` is 0 (it committed) or the LMDB
 * or errno code it failed with; `grown_from`/`grown_to` the map growth
 * this write did (0, 0 if none). Only a full disk makes the store
 * unwritable: other failures say nothing about space. Returns whether the
 * health changed, with the new one in *now.
 * Precondition: write_mu is held. */
static bool health_after_write(esg_store *s, int rc, const char *what, size_t grown_from,
                               size_t grown_to, esg_store_health *now) {
    bool full = rc == ENOSPC || rc == EDQUOT;
    pthread_mutex_lock(&s->health_mu);
    bool was = s->health.writable;
    pthread_mutex_unlock(&s->health_mu);
    if ((rc == 0 && was) || (rc != 0 && (!full || !was)))
        return false;
    esg_store_health h = {.writable = rc == 0};
    if (full) {
        /* Everything an operator needs to size the fix, gathered outside
         * health_mu (the file system calls may be slow). */
        struct stat st;
        struct statvfs vfs;
        int fd;
        unsigned long long fsize = 0, avail = 0;
        if (mdb_env_get_fd(s->env, &fd) == 0 && fstat(fd, &st) == 0)
            fsize = (unsigned long long)st.st_size;
        if (statvfs(s->dir, &vfs) == 0)
            avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
        char grown[96] = "";
        if (grown_to)
            snprintf(grown, sizeof grown, ", after growing the map from %zu to %zu bytes",
                     grown_from, grown_to);
        h.error = ESG_ERR_STORAGE_FULL;
        h.since_ms = wall_ms();
        int n = snprintf(h.reason, sizeof h.reason,
                         "%s: %s (datadir '%s': data.mdb is %llu bytes, %llu bytes free on "
                         "its file system%s)",
                         what, mdb_strerror(rc), s->dir, fsize, avail, grown);
        if (n >= (int)sizeof h.reason) /* a very long datadir: show that it was cut */
            memcpy(h.reason + sizeof h.reason - 4, "...", 4);
    }
    pthread_mutex_lock(&s->health_mu);
    s->health = h;
    pthread_mutex_unlock(&s->health_mu);
    *now = h;
    return true;
}

/* ---------------------------------------------------------- transactions */

int esg_store_write(esg_store *s, int (*fn)(MDB_txn *txn, void *arg), void *arg) {
    assert(s && fn);
    pthread_mutex_lock(&s->write_mu);
    int err;
    int resized_by_other = 0;
    size_t start_size = 0; /* map size before this call grew it */
    int last_rc = 0;       /* the LMDB failure this call ends with, for health */
    const char *last_what = "";
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
            last_rc = rc;
            last_what = "mdb_txn_begin";
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
                last_rc = rc;
                last_what = "mdb_txn_commit";
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
    /* Health moves on a commit or a full disk; fn's own errors and aborts
     * (which write nothing) leave it as it is. */
    esg_store_health now;
    bool changed = false;
    if (err == ESG_OK || last_rc != 0)
        changed = health_after_write(s, err == ESG_OK ? 0 : last_rc, last_what, start_size,
                                     start_size ? map_size(s) : 0, &now);
    pthread_mutex_unlock(&s->write_mu);
    if (changed) {
        pthread_mutex_lock(&s->health_mu);
        void (*watch)(void *, const esg_store_health *) = s->health_fn;
        void *watch_arg = s->health_arg;
        pthread_mutex_unlock(&s->health_mu);
        if (watch)
            watch(watch_arg, &now);
    }
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
