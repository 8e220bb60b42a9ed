/* Fuzz target: the validator signer's state file (node/privval.c, the
 * 222-byte record of node/privval.h). The first input byte is a flag, the
 * rest the file. With bit 0 set and a 222-byte record, the target writes
 * the test key's public key and a correct checksum into it first, so the
 * range and signature checks behind the checksum get inputs too. Asserts:
 * nothing crashes or leaks; a file that opens holds a record within the
 * documented ranges, resumes consensus in a valid start state, and still
 * refuses to sign below its last height. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_util.h"
#include "ledger/error.h"
#include "ledger/hash.h"
#include "node/privval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(esg_privval *pv) {
    esg_privval_record r;
    esg_privval_state(pv, &r);
    if (r.step > ESG_PRIVVAL_STEP_PRECOMMIT || r.round > ESG_CONS_MAX_ROUND ||
        r.locked_round < -1 || r.locked_round > (int64_t)r.round ||
        (r.step == ESG_PRIVVAL_STEP_NONE && (r.height || r.round)) ||
        (r.step != ESG_PRIVVAL_STEP_NONE && r.height == 0))
        abort();
    esg_cons_start_state st;
    esg_privval_start_state(pv, r.height ? r.height : 1, &st);
    if (st.locked_round < -1 || st.locked_round > (int64_t)st.round)
        abort();
    if (r.height > 1) {
        esg_sig sig;
        esg_hash block = {{1}};
        esg_cons_lock lock = {r.height - 1, 0, -1, {{0}}};
        if (esg_privval_sign_vote(pv, &sig, "esg-fuzz-1", ESG_CONS_PREVOTE, r.height - 1, 0,
                                  &block, &lock) != ESG_ERR_DOUBLE_SIGN)
            abort(); /* below the last signed height: always refused */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static esg_seckey key;
    static esg_pubkey pk;
    static char path[128];
    if (!path[0]) {
        memset(key.b, 0x11, sizeof key.b);
        if (esg_key_pubkey(&pk, &key) != ESG_OK)
            abort();
        snprintf(path, sizeof path, "%s/%s", fuzz_dir(), ESG_PRIVVAL_FILE);
    }
    if (size == 0)
        return 0;
    uint8_t flags = data[0];
    data++, size--;
    uint8_t rec[ESG_PRIVVAL_RECORD_LEN];
    if ((flags & 1) && size == sizeof rec) {
        memcpy(rec, data, sizeof rec);
        memcpy(rec + 12, pk.b, 32);
        esg_hash sum = esg_sha256(rec, 190);
        memcpy(rec + 190, sum.b, 32);
        data = rec;
    }
    fuzz_write_file(path, data, size, 0600);
    esg_privval *pv;
    char err[256];
    if (esg_privval_open(&pv, path, &key, err, sizeof err) == ESG_OK) {
        check_record(pv);
        esg_privval_close(pv);
    }
    return 0;
}
