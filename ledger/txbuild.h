/* Building and signing transactions: what a client does (the wallet, the
 * tests, the benchmark). A node never signs transactions.
 *
 * The tx id is H("esg/tx", body bytes); each signature is a BIP340
 * signature of the id (ledger/keys.h signs with fresh randomness and checks
 * the result). All output buffers are malloc'd and owned by the caller.
 */
#ifndef ESG_TXBUILD_H
#define ESG_TXBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/keys.h"

/* Encodes `body` canonically, signs its id with each of the n keys (the
 * first should be the body's signer) and writes the serialized Tx to
 * *out and *len. Returns 0, ESG_ERR_NOMEM, or a signing error. */
int esg_txb_sign_body(uint8_t **out, size_t *len, const esg_pb_tx_body *body,
                      const esg_seckey *keys, size_t n_keys);

/* Adds sk's signature to the serialized Tx `tx` and writes the new Tx to
 * *out and *len. The input must decode canonically (esg_tx_decode). Returns
 * ESG_ERR_DUPLICATE_SIGNATURE if sk already signed; id in *id_out when not
 * NULL. */
int esg_txb_add_sig(uint8_t **out, size_t *len, const uint8_t *tx, size_t tx_len,
                    const esg_seckey *sk, esg_hash *id_out);

#endif
