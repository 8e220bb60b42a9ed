/* The state tree: a sparse Merkle tree whose root is each block's app_hash.
 *
 * DEFINITION (a contract: clients in other languages verify proofs by it)
 *
 * Keys are 256-bit (esg_hash). Bit i of a key is bit (7 - i%8) of byte i/8,
 * most significant bit first; bit 0 chooses the root's child (0 = left).
 * The hash of the subtree at depth d under a path prefix is
 *   - 32 zero bytes when it holds no leaf (so the empty tree's root is zero);
 *   - the leaf hash L(k, vh) = H("esg/merkle/leaf", k || vh) when it holds
 *     exactly one leaf k, whatever d is (path compression), where
 *     vh = SHA256(value) is computed by the caller;
 *   - H("esg/merkle/node", left || right) when it holds two or more leaves,
 *     even if one of the two children is empty.
 * H is the BIP340 tagged hash of ledger/hash.h. A subtree at depth 256 is
 * one full key, so internal nodes have depths 0..255.
 *
 * A proof for key k lists, root down, the sibling hashes along k's path
 * until the path reaches a subtree that holds at most one leaf, and that
 * subtree's leaf (if any). It proves k -> vh when that leaf is (k, vh), and
 * proves k absent when the subtree is empty or its leaf has another key.
 *
 * STORAGE
 *
 * The caller owns the LMDB environment and transactions and passes two
 * named databases, both plain (no DUPSORT), used by this module only:
 *   - leaves: k (32 bytes) -> vh (32 bytes). LMDB sorts keys bytewise, which
 *     is tree order, so the leaves under a prefix are one cursor range.
 *   - nodes: a cache of the hash of every subtree holding >= 2 leaves (and
 *     of no other), keyed by its tree path, never by its hash. Nodes are
 *     grouped in 8-level chunks, as Jellyfish groups 4-level nibble nodes:
 *     the node at depth d = 8c + r (r < 8) on path p has the key
 *         [c] [first c bytes of p] [(1 << r) | next r bits of p]
 *     (2..33 bytes). All <= 255 nodes of a chunk are one contiguous key
 *     range, chunks sort by path, and the shallow chunks (which every block
 *     rewrites) sit in a few pages at the start.
 *
 * COMPLEXITY AND PAGE LOCALITY
 *
 * For N leaves, a key's path ends at depth h ~ log2(N) + 1. A batch of m
 * distinct keys costs a stable sort (O(m log m)), m leaf writes (in key
 * order), and O(m (h - log2 m) + m) node visits, each a few B-tree
 * operations and one SHA-256 compression pair; subtrees without changes are
 * never descended into (their hash is one cache read, or one cursor seek
 * when they hold < 2 leaves). Nothing is allocated per node; recursion is
 * bounded by depth 256 plus O(log m) for the sort.
 *
 * Pages: a key's path crosses ceil(h / 8) chunks, and within a chunk its
 * nodes lie in one contiguous range of <= 255 entries (~3 pages when the
 * chunk is full, one page or less below), so one update dirties a handful
 * of node pages instead of one page per tree level as a depth-major layout
 * does, and far fewer than hash-keyed nodes, which scatter every node of
 * every path over the whole database. Measured pages
 * dirtied per write transaction (leaves and nodes together), blocks of
 * 10 / 100 / 1000 random writes: 83 / 555 / 2685 with 100k leaves and
 * 98 / 745 / 4252 with 1M leaves, against 135 / 776 / 3498 and
 * 198 / 1294 / 7711 for the depth-major key [d][path]. Applying 1000
 * random writes to a 100k-leaf tree takes ~11 ms on one core (-O2).
 *
 * THREADS
 *
 * No state of its own: calls are as thread-safe as the transactions passed
 * in (LMDB's rules). esg_smt_verify touches no storage at all.
 */
#ifndef ESG_SMT_H
#define ESG_SMT_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

/* One write of a batch: set `key` to a value whose SHA-256 is `value_hash`,
 * or, when `del` is true, remove `key` (value_hash is then ignored). */
typedef struct esg_smt_change {
    esg_hash key;
    bool del;
    esg_hash value_hash;
} esg_smt_change;

/* A membership or non-membership proof; a plain value (about 8 KiB), no
 * release needed. siblings[i] is the hash of the sibling, at depth i + 1,
 * of the node on the key's path: root-down order. has_leaf says whether
 * the subtree where the path ends holds a leaf, and if so which; that leaf
 * may have a different key (which proves the key absent). */
typedef struct esg_smt_proof {
    uint16_t n_siblings;
    esg_hash siblings[256];
    bool has_leaf;
    esg_hash leaf_key;
    esg_hash leaf_value_hash;
} esg_smt_proof;

/* Applies one batch of writes (typically one block's) in `txn`, a write
 * transaction, and stores the new root in *root_out.
 *
 * `changes` (n entries; NULL allowed when n is 0) is sorted in place by key
 * (stably) and otherwise left as given; the caller keeps ownership. When a
 * key appears more than once, the last one in the original order wins.
 * Deleting an absent key is a no-op. Only subtrees holding a changed key are
 * recomputed; their cached node hashes are rewritten or deleted.
 *
 * Returns 0; ESG_ERR_MAP_FULL when LMDB's map is full (the caller aborts the
 * transaction, grows the map and retries the block); ESG_ERR_NOMEM when the
 * sort's scratch space (n/2 entries, only for n > 16) cannot be allocated;
 * ESG_ERR_STORE_CORRUPT when the databases contradict each other or hold
 * entries of the wrong size; ESG_ERR_STORE for any other LMDB error. After
 * an error the tree in `txn` is inconsistent: abort the transaction. */
int esg_smt_apply(MDB_txn *txn, MDB_dbi leaves, MDB_dbi nodes,
                  esg_smt_change *changes, size_t n, esg_hash *root_out);

/* Stores the current root in *root_out (zero for an empty tree). `txn` may
 * be a read or a write transaction. O(1) B-tree reads. Returns 0,
 * ESG_ERR_STORE_CORRUPT or ESG_ERR_STORE. */
int esg_smt_root(MDB_txn *txn, MDB_dbi leaves, MDB_dbi nodes, esg_hash *root_out);

/* Fills *proof for `key` against the current root of the tree in `txn`
 * (read or write). Whether the key is present shows in the proof itself
 * (has_leaf && leaf_key == *key): absence is not an error. O(h) B-tree
 * reads. Returns 0, ESG_ERR_STORE_CORRUPT or ESG_ERR_STORE; *proof is
 * unspecified on error. */
int esg_smt_prove(MDB_txn *txn, MDB_dbi leaves, MDB_dbi nodes,
                  const esg_hash *key, esg_smt_proof *proof);

/* Checks `proof` against `root`. With value_hash non-NULL it must show
 * key -> *value_hash; with value_hash NULL it must show `key` absent (the
 * path ends in an empty subtree, or in the leaf of another key that shares
 * the first n_siblings bits with `key`). A proof is bytes from outside:
 * inconsistent ones (n_siblings > 256, a leaf off the path, an empty last
 * sibling, which the tree never produces) are rejected, never trusted.
 * Returns 0 or ESG_ERR_PROOF. Pure computation; thread-safe. */
int esg_smt_verify(const esg_hash *root, const esg_hash *key,
                   const esg_hash *value_hash, const esg_smt_proof *proof);

#endif
