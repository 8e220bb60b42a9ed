/* The gossip seen cache: the hashes of the last N messages a node has
 * seen, so that it relays each gossiped message (tx, proposal, vote,
 * commit, evidence: docs/P2P.md §5) once, not every time a peer sends it
 * back.
 *
 * A bounded set of 32-byte hashes. Capacity is fixed at creation, and all
 * memory is allocated then: adding never allocates and cannot fail. When
 * the set is full, adding a new hash forgets the oldest one (insertion
 * order: seeing a hash again does not make it younger, so a peer that
 * keeps resending a message cannot keep it in the cache and push others
 * out). A forgotten message that comes back is new again; that costs one
 * more relay, and the consensus layer ignores duplicates anyway.
 *
 * Cost: O(1) per operation. The index is an open-addressing table with
 * load at most 1/2, addressed by SipHash (libsodium crypto_shorthash) under
 * a random key drawn at creation: message hashes come from peers, who
 * could otherwise grind hashes that share a slot and make lookups linear.
 * Memory: 32 bytes per entry for the hashes plus 8 to 16 for the index
 * (its size is the power of two at or above 2 * capacity, 4 bytes a slot).
 *
 * Thread rules: not thread-safe; the owner locks (one cache per node,
 * used on the loop thread).
 */
#ifndef ESG_NODE_SEEN_H
#define ESG_NODE_SEEN_H

#include <stdbool.h>
#include <stddef.h>

#include "ledger/hash.h"

/* Largest capacity esg_seen_new accepts (2^24 hashes: about 640 MiB). */
#define ESG_SEEN_MAX_CAPACITY ((size_t)1 << 24)

typedef struct esg_seen esg_seen;

/* Creates an empty cache that holds up to `capacity` hashes. Returns 0 and
 * the cache in *out (free with esg_seen_free), or (*out NULL)
 * ESG_ERR_INVALID_ARGUMENT when capacity is 0 or above
 * ESG_SEEN_MAX_CAPACITY, ESG_ERR_NOMEM, or ESG_ERR_INTERNAL when libsodium
 * cannot be initialized. */
int esg_seen_new(esg_seen **out, size_t capacity);

/* Frees the cache. NULL is a no-op. */
void esg_seen_free(esg_seen *s);

/* Adds `h`. Returns true when it was not in the cache (it is now, as the
 * youngest entry; if the cache was full the oldest entry is gone), false
 * when it already was (nothing changes). */
bool esg_seen_add(esg_seen *s, const esg_hash *h);

/* True when `h` is in the cache. Changes nothing. */
bool esg_seen_has(const esg_seen *s, const esg_hash *h);

/* Number of hashes held (0..capacity) and the capacity. */
size_t esg_seen_count(const esg_seen *s);
size_t esg_seen_capacity(const esg_seen *s);

#endif
