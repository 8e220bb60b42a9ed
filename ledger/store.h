/* The node's durable store: one LMDB environment per datadir.
 *
 * A node keeps everything it knows -- blocks, their commits, the indexes
 * that find them, the state the contracts write and the Merkle tree over it
 * -- in one LMDB environment, the file DIR/data.mdb (with its lock file
 * DIR/lock.mdb). Each kind of record lives in a named database (esg_db).
 * Heights are keys of 8 bytes big-endian, so LMDB's byte order is height
 * order and appending a block touches only the right edge of the tree.
 *
 * Invariants
 *   - Applying a block -- block, commit, indexes, state writes, meta -- is
 *     ONE esg_store_write(), that is one LMDB write transaction committed
 *     durably (fsync, never MDB_NOSYNC). After a crash (kill -9, power loss)
 *     the store is at the last committed block, never between two: if meta
 *     says height h, block h and its commit are present and block h+1 is
 *     not.
 *   - Blocks are appended: block_put refuses a height that is not above
 *     every stored one, a block hash already indexed and a tx id already
 *     indexed.
 *   - The map (LMDB's fixed-size memory map, the most the file may grow to)
 *     grows by doubling when a write finds it full; data never has to fit
 *     a size chosen at init.
 *
 * Thread rules
 *   - Any number of threads may read at once, each with its own read
 *     transaction (esg_store_read_begin / esg_store_read_end). The
 *     environment is opened with MDB_NOTLS, so a read transaction is not
 *     tied to the thread that began it and a short-lived API thread leaves
 *     no reader slot behind: a read transaction may be ended from another
 *     thread, but is used by one thread at a time.
 *   - Writes are serialized by the store (a mutex in esg_store_write): one
 *     write transaction at a time, and writers never block readers -- LMDB
 *     readers see the last committed snapshot.
 *   - Growing the map is the exception. LMDB allows mdb_env_set_mapsize()
 *     only while NO transaction is active in this process (it unmaps and
 *     remaps the file, so every pointer a reader holds into the map would
 *     dangle; LMDB does not check this, it is on us). So the store keeps a
 *     shared/exclusive gate: a read transaction holds it shared from
 *     esg_store_read_begin to esg_store_read_end, and the writer that must
 *     grow the map aborts its own transaction and takes it exclusively. A
 *     grower that is waiting lets no new reader in, so it waits only for the
 *     readers already running: keep read transactions short (a query, not a
 *     session). Never call esg_store_write from a thread that holds a read
 *     transaction: if the map had to grow, it would wait for itself forever.
 *   - Raw LMDB transactions must be begun only through this module (a
 *     mdb_txn_begin on esg_store_env() would bypass the gate), except child
 *     transactions nested in the write transaction esg_store_write hands
 *     out.
 *   - One process per datadir: LMDB itself supports several, but if another
 *     process grows the map, this one adopts the new size on its next
 *     transaction (MDB_MAP_RESIZED is handled here).
 *
 * Values returned in an MDB_val point into the map: they are valid until
 * the transaction ends or, in a write transaction, until the next write.
 */
#ifndef ESG_STORE_H
#define ESG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "ledger/hash.h"

/* The named databases. Keys and values, all integers big-endian:
 *   BLOCKS       height u64            -> serialized Block
 *   COMMITS      height u64            -> serialized Commit
 *   BLOCK_INDEX  block hash (32)       -> height u64
 *   TX_INDEX     tx id (32)            -> height u64 || index u32
 *   STATE        opaque key            -> value (ledger/state.c)
 *   SMT_LEAVES, SMT_NODES              -> the state tree (ledger/smt.c)
 *   META         short ASCII name      -> small record ("chain": esg_store_meta)
 *   VALSETS      height u64            -> serialized validator set in force
 *                                         from that height */
typedef enum esg_db {
    ESG_DB_BLOCKS = 0,
    ESG_DB_COMMITS,
    ESG_DB_BLOCK_INDEX,
    ESG_DB_TX_INDEX,
    ESG_DB_STATE,
    ESG_DB_SMT_LEAVES,
    ESG_DB_SMT_NODES,
    ESG_DB_META,
    ESG_DB_VALSETS,
    ESG_DB_COUNT_
} esg_db;

/* Map size of a new store, and the least a store is opened with. */
#define ESG_STORE_DEFAULT_MAPSIZE ((size_t)64 << 20)

/* LMDB's key size limit (mdb_env_get_maxkeysize() of the Debian build):
 * a longer or empty key is refused with ESG_ERR_STORE. */
#define ESG_STORE_MAX_KEY 511

typedef struct esg_store esg_store;

typedef struct esg_store_options {
    /* Map size in bytes to start with; 0 means ESG_STORE_DEFAULT_MAPSIZE.
     * An existing store opens with the larger of this, the size it last
     * grew to and the space its data uses. Tests set it small (1 MiB) to
     * exercise growth. */
    size_t initial_mapsize;
    /* Skip the fsync of each commit (MDB_NOSYNC). Only for scratch stores
     * whose loss is harmless, such as a replay's: a crash may then lose or
     * corrupt recent commits. Never for a node's datadir. */
    bool no_sync;
} esg_store_options;

/* ------------------------------------------------------------- lifecycle */

/* Opens the store in directory `dir` with default options. Equivalent to
 * esg_store_open_ex(out, NULL, 0, dir, create, NULL). */
int esg_store_open(esg_store **out, const char *dir, bool create);

/* Opens the store in directory `dir`: creates the named databases that do
 * not exist yet and clears reader slots left by dead processes
 * (mdb_reader_check).
 *
 * `create`: when false, a directory without data.mdb is an error; when true,
 * `dir` is created if missing (one level, mode 0700) and so is data.mdb.
 * On success *out is a store the caller frees with esg_store_close; on
 * failure *out is NULL and, if `err` is not NULL, err[0..errlen) receives a
 * NUL-terminated one-line reason naming the path and LMDB's message.
 * `opts` may be NULL (defaults). `dir` is copied.
 *
 * A store that exists is opened as it is whatever `create` says (whether
 * the chain was initialized is for meta to tell: esg_store_meta_get).
 *
 * Before LMDB maps an existing data.mdb, the file is checked against its
 * meta pages (esg_store_file_check): a truncated file or a damaged meta
 * page is refused here, with a reason, instead of killing the process with
 * SIGBUS on the first read. The environment gets an assertion handler: if
 * LMDB later trips on a damaged page (an internal assertion), the process
 * writes one line to stderr naming the datadir, the failed check and the
 * recovery, and exits with status ESG_STORE_DAMAGED_EXIT instead of
 * aborting with SIGABRT. LMDB aborts once its handler returns, so exiting
 * is the only choice there; it can happen in any thread that reads.
 *
 * Returns 0, ESG_ERR_NOT_INITIALIZED (!create and no DIR/data.mdb),
 * ESG_ERR_STORE_CORRUPT (data.mdb is not an LMDB file, is empty or
 * truncated, is of another LMDB version, or LMDB found it damaged; the
 * reason names the file, says that the store cannot be used and how to
 * recover: move the datadir aside and re-sync from peers into a fresh
 * one), ESG_ERR_NOMEM or ESG_ERR_STORE (any other LMDB or file system
 * failure: not a directory, no permission, ...). */
int esg_store_open_ex(esg_store **out, char *err, size_t errlen, const char *dir,
                      bool create, const esg_store_options *opts);

/* Exit status of a process whose LMDB environment failed an internal
 * assertion on a damaged file (see esg_store_open_ex). Below 128, so a
 * shell tells it from a death by signal. */
#define ESG_STORE_DAMAGED_EXIT 70
/* Pages at the end of data.mdb that may be counted as in use and yet be
 * absent from a healthy file (LMDB leaves pages freed within their own
 * transaction unwritten): esg_store_file_check allows a sixteenth of the
 * pages in use, at most this many. */
#define ESG_STORE_TAIL_SLACK_PAGES 32u

/* What esg_store_file_check read from data.mdb's meta pages. */
typedef struct esg_store_file_info {
    uint64_t file_size;  /* bytes */
    uint32_t page_size;  /* LMDB page size the file was created with */
    unsigned meta;       /* meta page in force: 0 or 1 (higher txnid) */
    uint64_t txnid;      /* last committed LMDB transaction */
    uint64_t last_page;  /* highest page number in use */
    uint64_t map_size;   /* map size recorded by the last commit */
} esg_store_file_info;

/* Checks, with pread only (no mapping, so a short file cannot raise
 * SIGBUS), that the file `path` is an LMDB data file this LMDB can map
 * (the on-disk layout of LMDB 0.9, data version 1, as this platform's
 * liblmdb writes it): both meta pages are present, flagged as meta pages
 * and carry LMDB's magic and version and the same power-of-two page size;
 * in the one with the higher txnid, the roots of the free and main trees
 * are in use, and the file is long enough to hold every page in use,
 * (last_page + 1) * page_size bytes, in whole pages.
 * On success fills *info (may be NULL). On failure err[0..errlen) (may be
 * NULL) receives what is wrong ("truncated: 8192 bytes, pages in use need
 * 40960"), without the path.
 * Returns 0, ESG_ERR_NOT_INITIALIZED (no such file), ESG_ERR_STORE_CORRUPT
 * (empty, truncated, not LMDB, other version, inconsistent meta) or
 * ESG_ERR_STORE (cannot open or read the file). */
int esg_store_file_check(const char *path, esg_store_file_info *info, char *err,
                         size_t errlen);

/* Closes the store and frees it. No transaction may be active (every read
 * transaction ended, no esg_store_write running). NULL is a no-op. */
void esg_store_close(esg_store *s);

/* The LMDB environment, for mdb_* calls that need one (mdb_env_info,
 * mdb_txn_begin of a CHILD of the write transaction). Owned by the store,
 * valid until esg_store_close. Do not begin top-level transactions on it
 * (see Thread rules). */
MDB_env *esg_store_env(esg_store *s);

/* The handle of named database `db`, valid in any transaction of this store
 * until esg_store_close. */
MDB_dbi esg_store_dbi(const esg_store *s, esg_db db);

/* Copies into buf[0..buflen) (NUL-terminated, truncated to fit) the reason
 * of the last LMDB failure of esg_store_write on this store -- "mdb_txn_commit:
 * No space left on device" -- or "" if none failed yet. Errors that fn itself
 * returns are not recorded: fn knows them. Thread-safe. */
void esg_store_last_error(esg_store *s, char *buf, size_t buflen);

/* -------------------------------------------------------------- health
 * Whether the store can write. A write that fails because the file system
 * is out of space (ENOSPC, EDQUOT, from LMDB's commit or begin) marks the
 * store not writable; the next write that commits marks it writable again.
 * Nothing else changes: esg_store_write still returns ESG_ERR_STORE for
 * such a failure, and the caller retries as before. Readers (the mempool
 * refusing new transactions, the API's status and metrics) ask
 * esg_store_health_get; the node logs the changes it is told about. */

typedef struct esg_store_health {
    bool writable;
    int error;          /* 0 when writable, else ESG_ERR_STORAGE_FULL */
    uint64_t since_ms;  /* unix ms of the first failed write; 0 when writable */
    /* When not writable: the failure, the datadir and the space involved,
     * "mdb_txn_commit: No space left on device (datadir '/d': data.mdb is
     * 31457280 bytes, 0 bytes free on its file system)"; else "". */
    char reason[384];
} esg_store_health;

/* Copies the current health into *out (caller-owned). Thread-safe, never
 * waits for a write in progress. */
void esg_store_health_get(esg_store *s, esg_store_health *out);

/* Registers fn, called with `arg` and the new health each time the store
 * turns unwritable or writable again -- once per change, not per failed
 * write -- from the thread whose esg_store_write saw it, after the store's
 * locks are released (fn may call esg_store_health_get, not
 * esg_store_write). One callback per store; NULL removes it. Set it before
 * writes start (not synchronized with a running write). */
void esg_store_health_watch(esg_store *s,
                            void (*fn)(void *arg, const esg_store_health *h),
                            void *arg);

/* ---------------------------------------------------------- transactions */

/* Runs fn(txn, arg) inside ONE write transaction and commits it durably if
 * fn returns 0; aborts it if fn returns an error, so that nothing fn wrote
 * persists, and returns that error.
 *
 * When the map is full -- fn returns ESG_ERR_MAP_FULL (which the helpers
 * below translate MDB_MAP_FULL to; fn must propagate it) or the commit fails
 * with MDB_MAP_FULL -- the store aborts, doubles the map (waiting for the
 * running read transactions to end, see Thread rules) and runs fn again
 * from scratch in a new transaction. So fn must be re-runnable: no side
 * effects outside the transaction (or ones it resets on entry).
 *
 * `txn` is valid only during the call; fn may nest child transactions in
 * it (mdb_txn_begin with `txn` as parent) but must end them before it
 * returns, and must not commit or abort `txn` itself. Writers are
 * serialized: a concurrent call waits for this one.
 *
 * Returns 0, fn's error, ESG_ERR_MAP_FULL (the map reached 1 TiB, and is
 * given back to its size before the call) or ESG_ERR_STORE (LMDB failed to
 * begin, commit or remap -- after a failed remap every later call fails and
 * the node must reopen the store; see esg_store_last_error; a full disk
 * also turns the store's health to not writable, see above). */
int esg_store_write(esg_store *s, int (*fn)(MDB_txn *txn, void *arg), void *arg);

/* Begins a read transaction on the last committed state and stores it in
 * *txn. End it with esg_store_read_end, soon (it holds off map growth and
 * pins the pages it sees). The transaction may be ended from another
 * thread (MDB_NOTLS).
 * Returns 0 or ESG_ERR_STORE (e.g. all reader slots are taken). */
int esg_store_read_begin(esg_store *s, MDB_txn **txn);

/* Ends a read transaction begun by esg_store_read_begin (mdb_txn_abort) and
 * releases its share of the growth gate. Every MDB_val read in it becomes
 * invalid. NULL is a no-op. */
void esg_store_read_end(MDB_txn *txn);

/* --------------------------------------------------- low-level record I/O
 * Thin wrappers over mdb_get/mdb_put/mdb_del that translate LMDB's errors:
 * MDB_NOTFOUND -> ESG_ERR_NOT_FOUND, MDB_MAP_FULL -> ESG_ERR_MAP_FULL,
 * MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID, MDB_VERSION_MISMATCH ->
 * ESG_ERR_STORE_CORRUPT (any function
 * here may return it), anything else -> ESG_ERR_STORE. Keys are
 * 1..ESG_STORE_MAX_KEY bytes.
 * `txn` is any transaction of the store (a write transaction, or a child of
 * one, for put and del). */

/* Looks up `key` in `dbi`; on success *val points at the stored bytes, valid
 * until `txn` ends or (write txn) until the next write.
 * Returns 0, ESG_ERR_NOT_FOUND or ESG_ERR_STORE. */
int esg_store_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                  MDB_val *val);

/* Stores val[0..vlen) under `key`, replacing any previous value. Both buffers
 * are copied. Returns 0, ESG_ERR_MAP_FULL or ESG_ERR_STORE. */
int esg_store_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                  const void *val, size_t vlen);

/* Deletes `key`; an absent key is not an error.
 * Returns 0, ESG_ERR_MAP_FULL or ESG_ERR_STORE. */
int esg_store_del(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen);

/* --------------------------------------------------------- chain records */

/* The chain's head, stored as META "chain". Written by the block executor in
 * the same transaction as the block it describes.
 *
 * Encoding (114..178 bytes): version u8 = 1 || height u64 || block_hash 32 ||
 * app_hash 32 || genesis_hash 32 || time_ms u64 || chain_id length u8
 * (0..64) || chain_id bytes (no NUL). Integers big-endian. */
typedef struct esg_store_meta {
    uint64_t height;        /* last committed block (0 before block 1) */
    esg_hash block_hash;    /* hash of block `height` */
    esg_hash app_hash;      /* state root after block `height` */
    esg_hash genesis_hash;  /* identifies the chain's genesis */
    uint64_t time_ms;       /* time of block `height` */
    char chain_id[65];      /* NUL-terminated, at most 64 bytes */
} esg_store_meta;

/* Reads the chain's head into *m (caller-owned).
 * Returns 0, ESG_ERR_NOT_INITIALIZED (no head written yet),
 * ESG_ERR_STORE_CORRUPT (the record does not decode) or ESG_ERR_STORE. */
int esg_store_meta_get(MDB_txn *txn, esg_store *s, esg_store_meta *m);

/* Writes the chain's head from *m. m->chain_id must be NUL-terminated within
 * its 65 bytes (asserted). Returns 0, ESG_ERR_MAP_FULL or ESG_ERR_STORE. */
int esg_store_meta_put(MDB_txn *txn, esg_store *s, const esg_store_meta *m);

/* Stores block `height` and its commit, indexes the block hash and each of
 * the n_txs tx ids (tx_ids[i] is at index i of the block). All buffers are
 * copied. Called inside the write transaction that applies the block.
 * `commit` may be zero-length but is always stored: a block is final when
 * stored with its commit.
 * Returns 0, ESG_ERR_BAD_BLOCK (height is not above the highest stored
 * block, or block_hash is already indexed), ESG_ERR_DUPLICATE_TX (a tx id is
 * already indexed, or appears twice in tx_ids), ESG_ERR_MAP_FULL or
 * ESG_ERR_STORE. On error the transaction holds partial writes: the caller
 * returns the error from its fn so that esg_store_write aborts. */
int esg_store_block_put(MDB_txn *txn, esg_store *s, uint64_t height,
                        const esg_hash *block_hash, const void *block,
                        size_t block_len, const void *commit, size_t commit_len,
                        const esg_hash *tx_ids, size_t n_txs);

/* Finds block `height`: *block and *commit (either may be NULL when not
 * wanted) point at the serialized Block and Commit, valid until `txn` ends.
 * Returns 0, ESG_ERR_NOT_FOUND, ESG_ERR_STORE_CORRUPT (block without its
 * commit) or ESG_ERR_STORE. */
int esg_store_block_get(MDB_txn *txn, esg_store *s, uint64_t height,
                        MDB_val *block, MDB_val *commit);

/* Height of the block whose hash is *block_hash.
 * Returns 0, ESG_ERR_NOT_FOUND, ESG_ERR_STORE_CORRUPT or ESG_ERR_STORE. */
int esg_store_height_by_hash(MDB_txn *txn, esg_store *s, const esg_hash *block_hash,
                             uint64_t *height);

/* Where tx *tx_id was included: block *height, position *index in it.
 * Returns 0, ESG_ERR_NOT_FOUND, ESG_ERR_STORE_CORRUPT or ESG_ERR_STORE. */
int esg_store_tx_locate(MDB_txn *txn, esg_store *s, const esg_hash *tx_id,
                        uint64_t *height, uint32_t *index);

/* Replaces the commit stored with block `height` (a node may later learn a
 * commit with more signatures). The buffer is copied.
 * Returns 0, ESG_ERR_NOT_FOUND (no block `height`), ESG_ERR_MAP_FULL or
 * ESG_ERR_STORE. */
int esg_store_commit_replace(MDB_txn *txn, esg_store *s, uint64_t height,
                             const void *commit, size_t len);

#endif
