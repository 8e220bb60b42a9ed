/* Fuzz target: the consensus driver's write-ahead log (DATADIR/cons_wal,
 * read back at start-up by node/consensus_driver.c's wal_replay through
 * esg_driver__wal_read): length-prefixed P2pMessage records. The input is
 * the whole log. Asserts: nothing crashes or leaks; reading stops (every
 * record read consumes at least five bytes), and each record that decodes
 * is canonical: it re-encodes to exactly the bytes its length covered. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/codec.h"
#include "node/consensus_driver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        abort();
    esg_pb_p2p_message *m;
    long before = 0;
    while (esg_driver__wal_read(f, &m)) {
        long after = ftell(f);
        if (after < before + 5 || (size_t)after > size)
            abort();
        if (m) {
            uint8_t *out;
            size_t len;
            size_t rec_len = (size_t)(after - before) - 4;
            if (esg_pb_encode(&m->base, &out, &len) == 0) {
                if (len != rec_len || memcmp(out, data + before + 4, len) != 0)
                    abort();
                free(out);
            }
            esg_pb_free(m);
        }
        before = after;
    }
    if (m)
        abort();
    fclose(f);
    return 0;
}
