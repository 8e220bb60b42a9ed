/* State access layer: the ledger's current state as typed tables, and the
 * sparse Merkle tree (ledger/smt.h) that commits to it.
 *
 * A state record lives in table T under key K (bytes). It is stored in the
 * store's ESG_DB_STATE as  T || K -> value  (so a table can be listed in key
 * order), and committed to by the state tree under the 256-bit key
 *     k = H("esg/state/key", T || K)
 * whose leaf holds SHA256(value). T is one byte (esg_table below): a fixed
 * width, so T || K is unambiguous. Values are canonical protobuf encodings of
 * the records in proto/state.proto (or esg.proto for KPIs), so a client in
 * another language that gets a value and its proof can check and decode it.
 *
 * An esg_state is a view over one LMDB transaction. On a write view, every
 * put or delete is also recorded as a pending tree change; esg_state_root()
 * applies the pending changes to the tree and returns the new root (the
 * block's app_hash). Savepoints let the block builder try one transaction
 * and roll back exactly its writes: inside a savepoint, writes are kept in
 * an in-memory overlay that reads and iteration see, and are written
 * through when the outermost savepoint is released.
 *
 * Thread rules: a view belongs to the thread that made it, as its LMDB
 * transaction does. Any number of read views may exist; write views are made
 * only inside esg_store_write().
 */
#ifndef ESG_STATE_H
#define ESG_STATE_H

#include <lmdb.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"
#include "ledger/store.h"

/* Table ids: one byte, part of every state key. Never renumber. */
typedef enum esg_table {
    ESG_T_PARAMS = 1,        /* ""            -> Params */
    ESG_T_MEMBERS = 2,       /* member id     -> MemberRecord */
    ESG_T_ACCOUNTS = 3,      /* pubkey (32)   -> AccountRecord */
    ESG_T_VALIDATORS = 4,    /* pubkey (32)   -> ValidatorRecord (the set decided so far) */
    ESG_T_PROPOSALS = 5,     /* proposal id   -> ProposalRecord */
    ESG_T_PROPOSAL_EXPIRY = 6, /* height BE ‖ id -> "" (open proposals by expiry) */
    ESG_T_KPIS = 7,          /* kpi id        -> Kpi */
    ESG_T_MEMBER_ACCOUNTS = 8, /* member id ‖ 0 ‖ pubkey -> "" (accounts of a member) */
    ESG_T_EVIDENCE = 9,      /* validator ‖ height BE ‖ round BE ‖ type -> EvidenceRecord */
    ESG_T_INSTRUMENTS = 16,  /* instrument id -> InstrumentRecord */
    ESG_T_HOLDINGS = 17,     /* instrument ‖ 0 ‖ member -> HoldingRecord */
    ESG_T_PAYMENTS = 18,     /* instrument ‖ 0 ‖ kind ‖ seq BE32 -> PaymentRecord */
    ESG_T_ALLOCATIONS = 19,  /* instrument ‖ 0 ‖ tx id -> AllocationRecord */
    ESG_T_REPORTS = 20,      /* report id -> ReportRecord */
    ESG_T_ATTESTATIONS = 21, /* attestation id -> AttestationRecord */
    ESG_T_DISPUTES = 22,     /* dispute id -> DisputeRecord */
    ESG_T_INSTRUMENT_REPORTS = 23, /* instrument ‖ 0 ‖ report id -> "" (reports naming it) */
    /* 24 held report slots (instrument ‖ project ‖ kpi ‖ period -> live
     * report) until reports became a project's (ESG_T_PROJECT_REPORTS):
     * retired, never reused. */
    ESG_T_ALLOCATION_TOTALS = 25, /* instrument ‖ 0 ‖ 'c'|'p' ‖ city|project
                                     -> AllocationTotal */
    ESG_T_PROJECTS = 26,     /* project id    -> ProjectRecord */
    ESG_T_FUNDINGS = 27,     /* funding id    -> FundingRecord */
    ESG_T_PROJECT_FUNDINGS = 28, /* project ‖ 0 ‖ funding id -> "" */
    ESG_T_PROJECT_REPORTS = 29,  /* project ‖ 0 ‖ kpi ‖ 0 ‖ report id -> "" */
    ESG_T_ALLOCATION_IDS = 30,   /* allocation id -> AllocationRef */
} esg_table;

#define ESG_STATE_MAX_KEY 480 /* LMDB's default max key size is 511 */

typedef struct esg_state esg_state;

/* Opens a view over `txn`, which stays owned by the caller and must outlive
 * the view. `writable` must match the transaction. Returns 0 or
 * ESG_ERR_NOMEM. Free with esg_state_free() before the txn ends. */
int esg_state_open(esg_state **out, esg_store *store, MDB_txn *txn, bool writable);

/* Opens a scratch view over a READ transaction: writes go to an in-memory
 * overlay that reads and iteration see, and are discarded by
 * esg_state_free(). Used to check a transaction against the committed
 * state without taking the store's single writer (so admission checks run
 * on all API threads, in parallel with block production). esg_state_root()
 * is not available on a scratch view. */
int esg_state_open_scratch(esg_state **out, esg_store *store, MDB_txn *read_txn);

/* Frees the view. Pending tree changes not applied by esg_state_root() are
 * dropped (so call it before committing a write transaction). */
void esg_state_free(esg_state *st);

/* The LMDB transaction under the view. Writing to it directly bypasses
 * savepoints: only for records outside the state tables. */
MDB_txn *esg_state_txn(esg_state *st);

/* Reads T || key. On success *val points into the map and stays valid until
 * the next write or rollback through this view or the end of the
 * transaction.
 * ESG_ERR_NOT_FOUND when absent; ESG_ERR_INVALID_ARGUMENT when the key is
 * longer than ESG_STATE_MAX_KEY. */
int esg_state_get(esg_state *st, esg_table t, const void *key, size_t klen,
                  MDB_val *val);

/* Writes T || key -> value and records the tree change. Write views only. */
int esg_state_put(esg_state *st, esg_table t, const void *key, size_t klen,
                  const void *val, size_t vlen);

/* Deletes T || key (absent is not an error) and records the tree change. */
int esg_state_del(esg_state *st, esg_table t, const void *key, size_t klen);

/* Reads and canonically decodes a record. *out is owned by the caller
 * (esg_pb_free). ESG_ERR_NOT_FOUND when absent; ESG_ERR_STORE_CORRUPT when the
 * stored bytes do not decode. */
int esg_state_get_msg(esg_state *st, esg_table t, const void *key, size_t klen,
                      const ProtobufCMessageDescriptor *desc,
                      ProtobufCMessage **out);

/* Encodes `msg` canonically and puts it. */
int esg_state_put_msg(esg_state *st, esg_table t, const void *key, size_t klen,
                      const ProtobufCMessage *msg);

/* Calls fn(key, klen, val, vlen, arg) for every record of table T whose
 * key starts with `prefix` (NULL/0: all), in key order, until fn returns
 * non-zero (that value is returned; 0 after the last record). Pointers are
 * valid only during the call. fn must not write through the view. */
typedef int (*esg_state_iter_fn)(const uint8_t *key, size_t klen,
                                 const uint8_t *val, size_t vlen, void *arg);
int esg_state_iter(esg_state *st, esg_table t, const void *prefix, size_t plen,
                   esg_state_iter_fn fn, void *arg);

/* Savepoints: every write after esg_state_savepoint() until the matching
 * esg_state_release() (keep) or esg_state_rollback() (discard the writes,
 * which never reached LMDB or the tree) belongs to it. Savepoints nest (8
 * deep); releasing the outermost writes the rows through. Returns 0, or for
 * release ESG_ERR_STORE / ESG_ERR_MAP_FULL / ESG_ERR_NOMEM. */
int esg_state_savepoint(esg_state *st);
int esg_state_release(esg_state *st);
void esg_state_rollback(esg_state *st);

/* Applies the pending tree changes and returns the state root. No savepoint
 * may be open. Returns 0, ESG_ERR_STORE or ESG_ERR_MAP_FULL. On a read view
 * it returns the stored root. */
int esg_state_root(esg_state *st, esg_hash *root);

/* The tree key of T || key: H("esg/state/key", T || key). */
esg_hash esg_state_key(esg_table t, const void *key, size_t klen);

/* Proves the current value (or absence) of T || key against the root of a
 * read view. value/vlen are set as by esg_state_get (NULL/0 when absent). */
struct esg_smt_proof;
int esg_state_prove(esg_state *st, esg_table t, const void *key, size_t klen,
                    MDB_val *value, struct esg_smt_proof *proof);

#endif
