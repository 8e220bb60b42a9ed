/* RFC 6962 Merkle tree with tagged hashes. See merkle.h for the definition.
 *
 * Root and proof recurse on the RFC's split, so the depth is the tree's
 * height (at most 64) whatever n is, and nothing is allocated: leaf hashes
 * are computed when the recursion reaches them. */
#include "merkle.h"
#include "error.h"

#include <assert.h>
#include <string.h>

static esg_hash leaf_hash(const esg_hash *item) {
    return esg_hash_tagged(ESG_TAG_MERKLE_LEAF, item->b, sizeof item->b);
}

static esg_hash node_hash(const esg_hash *left, const esg_hash *right) {
    return esg_hash_tagged2(ESG_TAG_MERKLE_NODE, left->b, sizeof left->b,
                            right->b, sizeof right->b);
}

/* The largest power of two strictly smaller than n. Precondition: n >= 2.
 * Written as k < n - k (that is 2k < n) so that it cannot overflow. */
static size_t split_point(size_t n) {
    assert(n >= 2);
    size_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

/* MTH of items[0..n). Precondition: n >= 1. Recursion depth is the height
 * of the tree: the left half is a power of two, the right half smaller
 * than n/2 rounded up. */
static esg_hash subtree_root(const esg_hash *items, size_t n) {
    assert(n >= 1);
    if (n == 1)
        return leaf_hash(&items[0]);
    size_t k = split_point(n);
    esg_hash left = subtree_root(items, k);
    esg_hash right = subtree_root(items + k, n - k);
    return node_hash(&left, &right);
}

esg_hash esg_merkle_root(const esg_hash *items, size_t n) {
    assert(items || n == 0);
    if (n == 0) {
        esg_hash zero;
        memset(&zero, 0, sizeof zero);
        return zero;
    }
    return subtree_root(items, n);
}

int esg_merkle_prove(esg_merkle_proof *proof, const esg_hash *items, size_t n,
                     size_t index) {
    assert(proof && (items || n == 0));
    if (index >= n)
        return ESG_ERR_INVALID_ARGUMENT;
    memset(proof, 0, sizeof *proof);
    proof->index = index;
    proof->total = n;
    /* Walk from the root down to the leaf, recording each sibling subtree's
     * root; the path is then those siblings in reverse (leaf to root). */
    size_t lo = 0, len = n, depth = 0;
    while (len > 1) {
        assert(depth < ESG_MERKLE_MAX_DEPTH);
        size_t k = split_point(len);
        if (index - lo < k) {
            proof->path[depth++] = subtree_root(items + lo + k, len - k);
            len = k;
        } else {
            proof->path[depth++] = subtree_root(items + lo, k);
            lo += k;
            len -= k;
        }
    }
    for (size_t i = 0; i < depth / 2; i++) {
        esg_hash t = proof->path[i];
        proof->path[i] = proof->path[depth - 1 - i];
        proof->path[depth - 1 - i] = t;
    }
    proof->n_path = depth;
    return ESG_OK;
}

bool esg_merkle_verify(const esg_hash *root, const esg_hash *item,
                       const esg_merkle_proof *proof) {
    assert(root && item && proof);
    if (proof->total == 0 || proof->index >= proof->total ||
        proof->n_path > ESG_MERKLE_MAX_DEPTH)
        return false;
    /* RFC 9162 §2.1.3.2. fn is the node's index at the current level and sn
     * the last index there; a node that is a right child, or the last one
     * of its level with no sibling to its right, takes the sibling on its
     * left. Levels where the last node is carried up unpaired are skipped
     * by the inner shift. */
    uint64_t fn = proof->index, sn = proof->total - 1;
    esg_hash r = leaf_hash(item);
    for (size_t i = 0; i < proof->n_path; i++) {
        if (sn == 0)
            return false; /* path longer than the tree is high */
        if ((fn & 1) || fn == sn) {
            r = node_hash(&proof->path[i], &r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, &proof->path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    /* sn != 0: path shorter than the tree is high. */
    return sn == 0 && esg_hash_eq(&r, root);
}
