#include "ledger/txbuild.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"

int esg_txb_sign_body(uint8_t **out, size_t *len, const esg_pb_tx_body *body,
                      const esg_seckey *keys, size_t n_keys) {
    uint8_t *bb;
    size_t blen;
    int rc = esg_pb_encode(&body->base, &bb, &blen);
    if (rc)
        return rc;
    esg_hash id = esg_hash_tagged(ESG_TAG_TX, bb, blen);
    esg_pubkey *pks = calloc(n_keys ? n_keys : 1, sizeof *pks);
    esg_sig *sigs = calloc(n_keys ? n_keys : 1, sizeof *sigs);
    rc = pks && sigs ? ESG_OK : ESG_ERR_NOMEM;
    for (size_t i = 0; rc == 0 && i < n_keys; i++) {
        rc = esg_key_pubkey(&pks[i], &keys[i]);
        if (rc == 0)
            rc = esg_sign(&sigs[i], &keys[i], &id);
    }
    if (rc == 0)
        rc = esg_tx_encode_envelope(bb, blen, pks, sigs, n_keys, out, len);
    free(pks);
    free(sigs);
    free(bb);
    return rc;
}

int esg_txb_add_sig(uint8_t **out, size_t *len, const uint8_t *raw, size_t raw_len,
                    const esg_seckey *sk, esg_hash *id_out) {
    esg_tx *tx;
    int rc = esg_tx_decode(&tx, raw, raw_len);
    if (rc)
        return rc;
    size_t n = esg_tx_n_sigs(tx);
    esg_pubkey *pks = calloc(n + 1, sizeof *pks);
    esg_sig *sigs = calloc(n + 1, sizeof *sigs);
    esg_pubkey me;
    rc = pks && sigs ? esg_key_pubkey(&me, sk) : ESG_ERR_NOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        esg_tx_sig_at(tx, i, &pks[i], &sigs[i]);
        if (memcmp(pks[i].b, me.b, 32) == 0)
            rc = ESG_ERR_DUPLICATE_SIGNATURE;
    }
    if (rc == 0 && n + 1 > ESG_TX_MAX_SIGS)
        rc = ESG_ERR_TOO_LARGE;
    if (rc == 0) {
        pks[n] = me;
        rc = esg_sign(&sigs[n], sk, &tx->id);
    }
    if (rc == 0)
        rc = esg_tx_encode_envelope(tx->env->body.data, tx->env->body.len, pks, sigs, n + 1,
                                    out, len);
    if (rc == 0 && id_out)
        *id_out = tx->id;
    free(pks);
    free(sigs);
    esg_tx_free(tx);
    return rc;
}
