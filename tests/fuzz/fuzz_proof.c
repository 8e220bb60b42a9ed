/* Fuzz target: the proofs a wallet checks against a node's answers --
 * a transaction's inclusion in a block (ledger/merkle.h) and a record's
 * presence or absence in the state (ledger/smt.h esg_smt_verify). The
 * input is read as proof fields (any content: the proof is bytes from the
 * node). Asserts: nothing crashes; no SMT proof shows a key both present
 * and absent; an honest Merkle proof over items taken from the input
 * verifies, and stops verifying when the item, the index or a sibling
 * changes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/merkle.h"
#include "ledger/smt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads n bytes (zeros past the end of the input). */
static void take(void *out, size_t n, const uint8_t **data, size_t *size) {
    size_t k = n < *size ? n : *size;
    memset(out, 0, n);
    memcpy(out, *data, k);
    *data += k, *size -= k;
}

static void fuzz_smt(const uint8_t *data, size_t size) {
    static esg_smt_proof p; /* 8 KiB: not on the stack */
    esg_hash root, key, value;
    uint8_t flags;
    take(&root, 32, &data, &size);
    take(&key, 32, &data, &size);
    take(&value, 32, &data, &size);
    take(&flags, 1, &data, &size);
    take(&p.n_siblings, 2, &data, &size);
    p.n_siblings %= 258; /* 256 is the deepest; 257 must be refused */
    p.has_leaf = flags & 1;
    take(&p.leaf_key, 32, &data, &size);
    take(&p.leaf_value_hash, 32, &data, &size);
    if (flags & 2) /* the leaf is the key's: presence proofs get through */
        p.leaf_key = key, p.leaf_value_hash = value;
    for (size_t i = 0; i < p.n_siblings && i < 256; i++)
        take(&p.siblings[i], 32, &data, &size);
    int present = esg_smt_verify(&root, &key, &value, &p);
    int absent = esg_smt_verify(&root, &key, NULL, &p);
    if (present == 0 && absent == 0)
        abort();
}

static void fuzz_merkle(const uint8_t *data, size_t size) {
    /* A forged proof from the input... */
    static esg_merkle_proof p;
    esg_hash root, item;
    take(&root, 32, &data, &size);
    take(&item, 32, &data, &size);
    take(&p.index, 8, &data, &size);
    take(&p.total, 8, &data, &size);
    uint8_t n;
    take(&n, 1, &data, &size);
    p.n_path = n % (ESG_MERKLE_MAX_DEPTH + 2);
    for (size_t i = 0; i < p.n_path && i < ESG_MERKLE_MAX_DEPTH; i++)
        take(&p.path[i], 32, &data, &size);
    (void)esg_merkle_verify(&root, &item, &p);

    /* ... and honest ones over the rest, read as up to 64 items. */
    esg_hash items[64];
    size_t count = size / 32 < 64 ? size / 32 : 64;
    if (count == 0)
        return;
    memcpy(items, data, count * 32);
    root = esg_merkle_root(items, count);
    for (size_t i = 0; i < count; i++) {
        if (esg_merkle_prove(&p, items, count, i) != 0 || !esg_merkle_verify(&root, &items[i], &p))
            abort();
        esg_hash other = items[i];
        other.b[0] ^= 1;
        if (esg_merkle_verify(&root, &other, &p))
            abort();
        if (p.n_path > 0) {
            p.path[i % p.n_path].b[31] ^= 0x80;
            if (esg_merkle_verify(&root, &items[i], &p))
                abort();
            p.path[i % p.n_path].b[31] ^= 0x80;
        }
        /* Another index: only a duplicate item may sit there. */
        p.index = (i + 1) % count;
        if (p.index != i && esg_merkle_verify(&root, &items[i], &p) &&
            memcmp(&items[p.index], &items[i], 32) != 0)
            abort();
    }
    if (esg_merkle_prove(&p, items, count, count) == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    if (data[0] & 1)
        fuzz_smt(data + 1, size - 1);
    else
        fuzz_merkle(data + 1, size - 1);
    return 0;
}
