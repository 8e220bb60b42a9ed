/* Merkle tree of a block's tx ids: the header's tx_root (docs/API.md,
 * GET /v1/txs/{txid}/proof, shows how a client checks it).
 *
 * The tree has the shape of RFC 6962 (Certificate Transparency) §2.1 with
 * BIP340-style tagged hashes in place of its 0x00/0x01 prefixes:
 *     leaf(d)        = H("esg/merkle/leaf", d)              (d: a 32-byte id)
 *     node(l, r)     = H("esg/merkle/node", l || r)
 *     MTH({})        = 32 zero bytes
 *     MTH({d0})      = leaf(d0)
 *     MTH(D[0:n])    = node(MTH(D[0:k]), MTH(D[k:n]))   for n > 1, where k
 *                      is the largest power of two strictly smaller than n.
 * Leaves and nodes use different tags, so a node can never pass for a leaf
 * (second preimage) and an odd last item is carried up, not duplicated
 * (no CVE-2012-2459 style ambiguity).
 *
 * An inclusion proof is RFC 6962's audit path: the sibling hashes from the
 * leaf up to the root, with the item's index and the tree's total size. It
 * is verified as in RFC 9162 §2.1.3.2, which rejects a path that is too long
 * or too short for (index, total).
 *
 * What a proof binds: the item, its index and the root. It does NOT bind
 * `total` beyond the shape of the path: e.g. index 0 has the same path
 * shape (three right siblings) in trees of 5 to 8 items, so a proof for
 * (0, 5) also verifies when told total is 6. Take the tree size from a
 * trusted source, never from the proof, when it matters.
 *
 * Cost: root and proof are O(n) hashes, recursion depth at most 64
 * (log2 of the size), no heap allocation. Thread rules: pure functions on
 * caller memory; safe from any number of threads.
 */
#ifndef ESG_MERKLE_H
#define ESG_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

/* The deepest possible tree (2^64 leaves) has 64 levels of siblings. */
#define ESG_MERKLE_MAX_DEPTH 64

typedef struct esg_merkle_proof {
    uint64_t index;                         /* position of the item, 0-based */
    uint64_t total;                         /* number of items in the tree */
    size_t n_path;                          /* number of siblings in path */
    esg_hash path[ESG_MERKLE_MAX_DEPTH];    /* siblings, leaf to root */
} esg_merkle_proof;

/* Returns the root of the `n` items at `items` (NULL allowed when n is 0):
 * 32 zero bytes for n == 0, the leaf hash of items[0] for n == 1. */
esg_hash esg_merkle_root(const esg_hash *items, size_t n);

/* Fills `proof` with the inclusion proof of items[index] among the `n`
 * items. Returns 0, or ESG_ERR_INVALID_ARGUMENT if index >= n (then
 * `proof` is unspecified). */
int esg_merkle_prove(esg_merkle_proof *proof, const esg_hash *items, size_t n,
                     size_t index);

/* True when `proof` shows that `item` is at proof->index of the tree whose
 * root is `root`. False when the proof is inconsistent in itself (index >=
 * total, total == 0, a path longer or shorter than (index, total) needs, or
 * n_path above ESG_MERKLE_MAX_DEPTH) or does not lead to `root`. The proof
 * comes from outside: any content is safe to pass. */
bool esg_merkle_verify(const esg_hash *root, const esg_hash *item,
                       const esg_merkle_proof *proof);

#endif
