/* esgwallet tx sign | inspect | submit, and the submit path of every
 * action verb (wallet/cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contracts/contracts.h"
#include "ledger/error.h"
#include "ledger/pbjson.h"
#include "ledger/txbuild.h"
#include "wallet/cli.h"

/* The record a transaction of this action creates and names by its tx id
 * (docs/WIRE.md §1), printed after it is written or submitted; NULL when
 * none. One line per such action. */
static const char *record_of(int action_case) {
    switch (action_case) {
    case ESG_ACTION_PROPOSE:
        return "proposal";
    case ESG_ACTION_REPORT_IMPACT:
        return "report";
    case ESG_ACTION_ATTEST_IMPACT:
        return "attestation";
    case ESG_ACTION_DISPUTE_IMPACT:
        return "dispute";
    case ESG_ACTION_RECORD_FUNDING:
        return "funding";
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------ outcome */

/* Prints what -o wrote, and for a multi-party action the members whose
 * officers must still co-sign (the signer's own member among them: a
 * file says nothing of which member a key acts for). */
static int report_written(esgw_cli *cli, const esg_tx *tx, const char *path) {
    esg_hex32 id = esg_hash_hex(&tx->id);
    const char *rec = record_of(tx->body->action_case);
    char **cos = NULL;
    size_t n_cos = 0;
    if (esg_contracts_required_cosigners(tx->body, &cos, &n_cos) != 0)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    int rc = 0;
    if (!cli->json) {
        fprintf(cli->out, "tx %s written to %s\n", id.s, path);
        if (rec)
            fprintf(cli->out, "%s %s\n", rec, id.s);
        if (n_cos > 0) {
            fprintf(cli->out, "needs an officer of each of:");
            for (size_t k = 0; k < n_cos; k++)
                fprintf(cli->out, "%s %s", k ? "," : "", cos[k]);
            fprintf(cli->out, "\nnext: esgwallet tx sign %s --key NAME (each co-signer), "
                    "then esgwallet tx submit %s\n", path, path);
        }
        esg_contracts_cosigners_free(cos, n_cos);
        return 0;
    }
    json_t *doc = json_pack("{s:s, s:s, s:i}", "tx_id", id.s, "file", path, "signatures",
                            (int)esg_tx_n_sigs(tx));
    char key[64];
    if (doc && rec) {
        snprintf(key, sizeof key, "%s_id", rec);
        json_object_set_new(doc, key, json_string(id.s));
    }
    json_t *arr = n_cos > 0 ? json_array() : NULL;
    for (size_t k = 0; arr && k < n_cos; k++)
        json_array_append_new(arr, json_string(cos[k]));
    if (doc && arr)
        json_object_set_new(doc, "cosigners", arr);
    else
        json_decref(arr);
    esg_contracts_cosigners_free(cos, n_cos);
    if (!doc)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    rc = esgw_cli__print_json(cli, doc);
    json_decref(doc);
    return rc;
}

/* Submits `tx` (POST /v1/txs, ?wait=commit unless --no-wait) and prints
 * the node's answer. */
static int submit_tx(esgw_cli *cli, const esg_tx *tx, bool wait) {
    esgw_client *c = NULL;
    json_t *doc = NULL;
    int rc = esgw_cli__client(cli, &c);
    if (rc || (rc = esgw_client_submit(c, &doc, tx->raw, tx->raw_len, wait, &cli->err)) != 0)
        return rc;
    esg_hex32 id = esg_hash_hex(&tx->id);
    const char *rec = record_of(tx->body->action_case);
    const char *node_id = json_string_value(json_object_get(doc, "tx_id"));
    const char *status = json_string_value(json_object_get(doc, "status"));
    uint64_t height = 0;
    if (node_id && strcmp(node_id, id.s) != 0) {
        json_decref(doc);
        return esgw_cli__fail(cli, ESG_ERR_INTERNAL, "node at %s reports tx id %s for tx %s",
                              esgw_client_url(c), node_id, id.s);
    }
    if (!status || (strcmp(status, "committed") == 0 &&
                    esgw_json_u64(json_object_get(doc, "height"), &height) != 0)) {
        json_decref(doc);
        return esgw_cli__fail(cli, ESG_ERR_JSON, "node at %s sent a malformed answer to tx %s",
                              esgw_client_url(c), id.s);
    }
    if (cli->json) {
        if (rec) {
            char key[64];
            snprintf(key, sizeof key, "%s_id", rec);
            json_object_set_new(doc, key, json_string(id.s));
        }
        rc = esgw_cli__print_json(cli, doc);
    } else {
        if (strcmp(status, "committed") == 0)
            fprintf(cli->out, "tx %s committed at height %" PRIu64 "\n", id.s, height);
        else if (strcmp(status, "pending") == 0)
            fprintf(cli->out, "tx %s accepted (pending)\n", id.s);
        else
            fprintf(cli->out, "tx %s %s\n", id.s, status);
        if (rec)
            fprintf(cli->out, "%s %s\n", rec, id.s);
    }
    json_decref(doc);
    return rc;
}

/* -------------------------------------------------------- submit path */

int esgw_cli__submit_body(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    const char *keyname = esgw_cli__opt(a, "key");
    const char *out = esgw_cli__opt(a, "o");
    const char *chain_opt = esgw_cli__opt(a, "chain-id");
    const char *nonce_opt = esgw_cli__opt(a, "nonce");
    esgw_keystore *ks = NULL;
    esgw_client *c = NULL;
    esg_pubkey pk;
    int rc = esgw_cli__keystore(cli, &ks);
    if (rc)
        return rc;
    /* The signer's pubkey needs no passphrase: everything that can fail
     * on the network fails before the user is asked for one. */
    if ((rc = esgw_key_pubkey(ks, keyname, &pk)) != 0)
        return esgw_cli__ks_fail(cli, rc);

    char chain[256];
    if (chain_opt) {
        if (!*chain_opt || strlen(chain_opt) >= sizeof chain)
            return esgw_cli__usage(cli, "--chain-id must be 1..%zu characters",
                                   sizeof chain - 1);
        snprintf(chain, sizeof chain, "%s", chain_opt);
    } else if ((rc = esgw_cli__client(cli, &c)) != 0 ||
               (rc = esgw_client_chain_id(c, chain, sizeof chain, &cli->err)) != 0) {
        return rc;
    }
    uint64_t nonce;
    if (nonce_opt) {
        if ((rc = esgw_cli__u64(cli, &nonce, "--nonce", nonce_opt)) != 0)
            return rc;
    } else {
        esgw_account_info acct;
        if ((rc = esgw_cli__client(cli, &c)) != 0 ||
            (rc = esgw_client_account(c, &acct, &pk, &cli->err)) != 0)
            return rc;
        nonce = acct.next_nonce;
    }
    body->chain_id = chain;
    body->nonce = nonce;
    body->signer = esg_pb_bin(pk.b, 32);

    esg_seckey sk;
    esg_pubkey unlocked;
    if ((rc = esgw_cli__unlock(cli, keyname, &sk, &unlocked)) != 0)
        return rc;
    uint8_t *raw = NULL;
    size_t len = 0;
    if (memcmp(unlocked.b, pk.b, 32) != 0)
        rc = esgw_cli__fail(cli, ESG_ERR_BAD_SECRET, "key '%s' changed while it was in use",
                            keyname);
    else if ((rc = esg_txb_sign_body(&raw, &len, body, &sk, 1)) != 0)
        esgw_cli__fail(cli, rc, "cannot sign with key '%s': %s", keyname, esg_err_message(rc));
    esg_seckey_wipe(&sk);
    if (rc)
        return rc;

    /* Decode what was built exactly as a node will: a string that is not
     * UTF-8, say, is refused here rather than by the node. */
    esg_tx *tx;
    rc = esg_tx_decode(&tx, raw, len);
    free(raw);
    if (rc)
        return esgw_cli__fail(cli, rc, "the transaction is not valid: %s", esg_err_message(rc));
    if (out) {
        rc = esgw_cli__write_new(cli, out, tx->raw, tx->raw_len);
        if (rc == 0)
            rc = report_written(cli, tx, out);
    } else {
        rc = submit_tx(cli, tx, !esgw_cli__has(a, "no-wait"));
    }
    esg_tx_free(tx);
    return rc;
}

/* ---------------------------------------------------------- tx files */

static int load_tx(esgw_cli *cli, esg_tx **tx, const char *path) {
    uint8_t *buf;
    size_t len;
    int rc = esgw_cli__read_file(cli, &buf, &len, path, ESG_TX_MAX_BYTES);
    if (rc)
        return rc;
    rc = esg_tx_decode(tx, buf, len);
    free(buf);
    if (rc)
        return esgw_cli__fail(cli, rc, "'%s' is not a valid transaction: %s", path,
                              esg_err_message(rc));
    return 0;
}

/* Replaces `path` by buf atomically: a temporary file in the same
 * directory, fsynced, renamed over it, with the original's mode. */
static int replace_file(esgw_cli *cli, const char *path, const uint8_t *buf, size_t len) {
    struct stat st;
    if (stat(path, &st) != 0)
        return esgw_cli__fail(cli, ESG_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
    size_t plen = strlen(path);
    char *dcopy = malloc(plen + 1), *bcopy = malloc(plen + 1), *tmp = malloc(2 * plen + 32);
    int rc = 0;
    if (!dcopy || !bcopy || !tmp) {
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        goto out;
    }
    memcpy(dcopy, path, plen + 1);
    memcpy(bcopy, path, plen + 1);
    snprintf(tmp, 2 * plen + 32, "%s/.%s.tmp-XXXXXX", dirname(dcopy), basename(bcopy));
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = esgw_cli__fail(cli, ESG_ERR_IO, "cannot create a file next to '%s': %s", path,
                            strerror(errno));
        goto out;
    }
    size_t off = 0;
    int e = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            e = w < 0 ? errno : EIO;
            break;
        }
        off += (size_t)w;
    }
    if (!e && fchmod(fd, st.st_mode & 07777) != 0)
        e = errno;
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        rc = esgw_cli__fail(cli, ESG_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
out:
    free(dcopy);
    free(bcopy);
    free(tmp);
    return rc;
}

/* The signers `tx`'s action needs, for messages: "'Vote' needs only its
 * signer HEX", or for a co-issued action "'IssueInstrument' needs its
 * signer HEX and an officer of each of: city-a, city-b". */
static const char *needs_text(esgw_cli *cli, const esg_tx *tx, char **cos, size_t n_cos) {
    esg_pubkey signer = esg_tx_signer(tx);
    const char *s = esgw_cli__printf(cli, "'%s' needs %sits signer %s",
                                     esg_action_name(tx->body->action_case), n_cos ? "" : "only ",
                                     esg_pubkey_hex(&signer).s);
    for (size_t k = 0; s && k < n_cos; k++)
        s = esgw_cli__printf(cli, "%s%s%s", s, k ? ", " : " and an officer of each of: ", cos[k]);
    return s ? s : "?";
}

/* Whether the action of `tx` needs the signature of `pk` (key `name`),
 * decided as the contracts will (ledger/contract.h "Co-signatures"): the
 * signer's, or for a co-issued action (esg_contracts_required_cosigners)
 * that of a live OFFICER account of a co-issuer that no signature on the
 * file covers yet -- the signer covers its own member. Returns 0 when it
 * does, or when that cannot be told because the node, which alone knows
 * whose keys are whose, cannot be reached (*offline then holds why);
 * ESG_ERR_UNEXPECTED_SIGNATURE naming the key and the signers the action
 * needs; or the node's error. */
static int check_needed(esgw_cli *cli, const esg_tx *tx, const esg_pubkey *pk,
                        const char *name, const char **offline) {
    esg_pubkey signer = esg_tx_signer(tx);
    *offline = NULL;
    if (memcmp(pk->b, signer.b, 32) == 0)
        return 0;
    char **cos = NULL;
    size_t n_cos = 0;
    if (esg_contracts_required_cosigners(tx->body, &cos, &n_cos) != 0)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    esg_hex32 hex = esg_pubkey_hex(pk);
    const char *needs = needs_text(cli, tx, cos, n_cos);
    int rc = 0;
    const char *why = NULL; /* set: not needed, because */
    esgw_client *c = NULL;
    esgw_account_info acct, other;
    esgw_error e;
    if (n_cos == 0) {
        why = "";
        goto out;
    }
    if ((rc = esgw_cli__client(cli, &c)) != 0)
        goto out;
    rc = esgw_client_account(c, &acct, pk, &e);
    if (rc == ESG_ERR_IO || rc == ESG_ERR_TIMEOUT) {
        *offline = esgw_cli__strdup(cli, e.message);
        rc = 0;
        goto out;
    }
    if (rc == ESG_ERR_NOT_FOUND) {
        rc = 0;
        why = "it is no account";
        goto out;
    }
    if (rc) {
        cli->err = e;
        goto out;
    }
    bool co_issuer = false;
    for (size_t k = 0; k < n_cos; k++)
        co_issuer = co_issuer || strcmp(acct.member, cos[k]) == 0;
    if (acct.revoked || !acct.officer) {
        why = esgw_cli__printf(cli, "it is %s account of %s", acct.revoked ? "a revoked" :
                               "a non-OFFICER", acct.member);
    } else if (!co_issuer) {
        why = esgw_cli__printf(cli, "it is an officer of %s, which is no co-issuer",
                               acct.member);
    } else if (esgw_client_account(c, &other, &signer, &e) == 0 &&
               strcmp(other.member, acct.member) == 0) {
        why = esgw_cli__printf(cli, "it is an officer of %s, for which the signer signs",
                               acct.member);
    } else {
        /* One signature per co-issuer is claimed: the first of its officers. */
        size_t n = esg_tx_n_sigs(tx);
        for (size_t i = 0; i < n && !why; i++) {
            esg_pubkey spk;
            esg_sig sig;
            esg_tx_sig_at(tx, i, &spk, &sig);
            if (memcmp(spk.b, signer.b, 32) == 0 || !esg_verify(&sig, &tx->id, &spk) ||
                esgw_client_account(c, &other, &spk, &e) != 0)
                continue;
            if (other.officer && !other.revoked && strcmp(other.member, acct.member) == 0)
                why = esgw_cli__printf(cli, "an officer of %s (%s) has signed already",
                                       acct.member, esg_pubkey_hex(&spk).s);
        }
    }
out:
    esg_contracts_cosigners_free(cos, n_cos);
    if (rc == 0 && why)
        rc = esgw_cli__fail(cli, ESG_ERR_UNEXPECTED_SIGNATURE,
                            "%s; key '%s' (%s) is not needed%s%s, and a node refuses a "
                            "transaction carrying its signature (--force signs anyway)",
                            needs, name, hex.s, *why ? ": " : "", why);
    return rc;
}

/* tx sign FILE --key NAME [-o OUT] [--force] */
static int cmd_tx_sign(esgw_cli *cli, const esgw_args *a) {
    const char *path = a->pos[0], *keyname = esgw_cli__opt(a, "key");
    const char *out = esgw_cli__opt(a, "o");
    bool force = esgw_cli__has(a, "force");
    esg_tx *tx;
    int rc = load_tx(cli, &tx, path);
    if (rc)
        return rc;
    esgw_keystore *ks = NULL;
    esg_seckey sk;
    esg_pubkey pk;
    uint8_t *raw = NULL;
    size_t len = 0;
    const char *offline = NULL;
    /* Everything that can refuse the signature, before the passphrase. */
    if ((rc = esgw_cli__keystore(cli, &ks)) == 0 && (rc = esgw_key_pubkey(ks, keyname, &pk)) != 0)
        esgw_cli__ks_fail(cli, rc);
    for (size_t i = 0; rc == 0 && i < esg_tx_n_sigs(tx); i++) {
        esg_pubkey spk;
        esg_tx_sig_at(tx, i, &spk, NULL);
        if (memcmp(spk.b, pk.b, 32) == 0)
            rc = esgw_cli__fail(cli, ESG_ERR_DUPLICATE_SIGNATURE,
                                "key '%s' (%s) has already signed '%s'", keyname,
                                esg_pubkey_hex(&pk).s, path);
    }
    if (rc == 0 && !force)
        rc = check_needed(cli, tx, &pk, keyname, &offline);
    if (rc == 0 && (rc = esgw_cli__unlock(cli, keyname, &sk, &pk)) == 0) {
        rc = esg_txb_add_sig(&raw, &len, tx->raw, tx->raw_len, &sk, NULL);
        esg_seckey_wipe(&sk);
        if (rc == ESG_ERR_DUPLICATE_SIGNATURE)
            esgw_cli__fail(cli, rc, "key '%s' (%s) has already signed '%s'", keyname,
                           esg_pubkey_hex(&pk).s, path);
        else if (rc)
            esgw_cli__fail(cli, rc, "cannot sign '%s' with key '%s': %s", path, keyname,
                           esg_err_message(rc));
    }
    esg_tx_free(tx);
    if (rc)
        return rc;
    esg_tx *signed_tx;
    rc = esg_tx_decode(&signed_tx, raw, len);
    if (rc == 0)
        rc = out ? esgw_cli__write_new(cli, out, raw, len) : replace_file(cli, path, raw, len);
    else
        esgw_cli__fail(cli, rc, "the signed transaction is not valid: %s", esg_err_message(rc));
    free(raw);
    if (rc) {
        esg_tx_free(signed_tx);
        return rc;
    }
    const char *dest = out ? out : path;
    esg_hex32 id = esg_hash_hex(&signed_tx->id);
    size_t n = esg_tx_n_sigs(signed_tx);
    bool checked = !force && !offline;
    if (cli->json) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:b}", "tx_id", id.s, "pubkey",
                                esg_pubkey_hex(&pk).s, "file", dest, "signatures", (int)n,
                                "checked", checked);
        if (doc && offline)
            json_object_set_new(doc, "offline", json_string(offline));
        rc = doc ? esgw_cli__print_json(cli, doc) : esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        json_decref(doc);
    } else {
        fprintf(cli->out, "tx %s signed by %s (%s), %zu signature%s, written to %s\n", id.s,
                keyname, esg_pubkey_hex(&pk).s, n, n == 1 ? "" : "s", dest);
        if (offline)
            fprintf(cli->out, "not checked whether the action needs this signature (node not "
                    "reachable: %s); esgwallet tx inspect %s tells once it is\n", offline, dest);
    }
    esg_tx_free(signed_tx);
    return rc;
}

/* tx submit FILE [--no-wait] */
static int cmd_tx_submit(esgw_cli *cli, const esgw_args *a) {
    esg_tx *tx;
    int rc = load_tx(cli, &tx, a->pos[0]);
    if (rc)
        return rc;
    rc = submit_tx(cli, tx, !esgw_cli__has(a, "no-wait"));
    esg_tx_free(tx);
    return rc;
}

/* ------------------------------------------------------------ inspect */

typedef struct sig_view {
    esg_pubkey pk;
    bool valid;
    bool known;                  /* the node told us about the account */
    esgw_account_info acct;
} sig_view;

/* True when signature `s` is one the action does not need, so a node
 * would refuse the transaction (ESG_ERR_UNEXPECTED_SIGNATURE): neither
 * the signer's nor, as far as we can tell, a required co-signer's. */
static bool unexpected(const sig_view *s, const esg_pubkey *signer, char **cos, size_t n_cos,
                       bool online) {
    if (memcmp(s->pk.b, signer->b, 32) == 0)
        return false;
    if (n_cos == 0)
        return true;
    if (!online)
        return false;
    if (!s->known || !s->acct.officer)
        return true;
    for (size_t k = 0; k < n_cos; k++)
        if (strcmp(s->acct.member, cos[k]) == 0)
            return false;
    return true;
}

/* tx inspect FILE: the decoded action, the id, every signature present
 * (and whether it verifies over the id), and the signatures the action
 * still needs. */
static int cmd_tx_inspect(esgw_cli *cli, const esgw_args *a) {
    esg_tx *tx;
    int rc = load_tx(cli, &tx, a->pos[0]);
    if (rc)
        return rc;
    size_t n = esg_tx_n_sigs(tx);
    esg_pubkey signer = esg_tx_signer(tx);
    sig_view *sv = calloc(n, sizeof *sv);
    char **cos = NULL;
    size_t n_cos = 0;
    json_t *body = NULL, *doc = NULL;
    if (!sv || esg_contracts_required_cosigners(tx->body, &cos, &n_cos) != 0 ||
        !(body = esg_pb_to_json(&tx->body->base))) {
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        goto out;
    }
    bool signer_signed = false;
    for (size_t i = 0; i < n; i++) {
        esg_sig sig;
        esg_tx_sig_at(tx, i, &sv[i].pk, &sig);
        sv[i].valid = esg_verify(&sig, &tx->id, &sv[i].pk);
        if (memcmp(sv[i].pk.b, signer.b, 32) == 0 && sv[i].valid)
            signer_signed = true;
    }
    /* Which member each signing key acts for: only the node knows, and
     * only co-signed actions need it. Offline, co-signers stay "required"
     * without a verdict. */
    bool online = false;
    const char *offline_why = NULL;
    if (n_cos > 0) {
        esgw_client *c = NULL;
        esgw_error e;
        if ((rc = esgw_cli__client(cli, &c)) != 0)
            goto out;
        online = true;
        for (size_t i = 0; i < n && online; i++) {
            int arc = esgw_client_account(c, &sv[i].acct, &sv[i].pk, &e);
            if (arc == 0)
                sv[i].known = true;
            else if (arc == ESG_ERR_IO || arc == ESG_ERR_TIMEOUT) {
                online = false;
                offline_why = esgw_cli__strdup(cli, e.message);
            }
        }
    }

    /* The verdict on each co-signer: satisfied by a valid signature of a
     * live OFFICER account of that member. */
    json_t *required = json_array(), *missing = json_array(), *sigs = json_array();
    doc = json_object();
    if (!required || !missing || !sigs || !doc) {
        json_decref(required);
        json_decref(missing);
        json_decref(sigs);
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
        goto out;
    }
    esg_hex32 signer_hex = esg_pubkey_hex(&signer);
    json_array_append_new(required, json_pack("{s:s, s:s, s:b}", "role", "signer", "pubkey",
                                              signer_hex.s, "present", signer_signed));
    if (!signer_signed)
        json_array_append_new(missing, json_pack("{s:s, s:s}", "role", "signer", "pubkey",
                                                 signer_hex.s));
    for (size_t k = 0; k < n_cos; k++) {
        json_t *r = json_pack("{s:s, s:s}", "role", "officer", "member", cos[k]);
        if (!online) {
            json_object_set_new(r, "present", json_null());
            json_array_append_new(missing, json_pack("{s:s, s:s, s:b}", "role", "officer",
                                                     "member", cos[k], "unverified", 1));
        } else {
            bool ok = false;
            for (size_t i = 0; i < n && !ok; i++)
                ok = sv[i].valid && sv[i].known && sv[i].acct.officer &&
                     !sv[i].acct.revoked && strcmp(sv[i].acct.member, cos[k]) == 0;
            json_object_set_new(r, "present", json_boolean(ok));
            if (!ok)
                json_array_append_new(missing, json_pack("{s:s, s:s}", "role", "officer",
                                                         "member", cos[k]));
        }
        json_array_append_new(required, r);
    }
    size_t n_unexpected = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_pack("{s:s, s:b, s:b}", "pubkey", esg_pubkey_hex(&sv[i].pk).s,
                              "valid", sv[i].valid, "signer",
                              memcmp(sv[i].pk.b, signer.b, 32) == 0);
        if (s && sv[i].known)
            json_object_set_new(s, "member", json_string(sv[i].acct.member));
        if (s && unexpected(&sv[i], &signer, cos, n_cos, online)) {
            json_object_set_new(s, "unexpected", json_true());
            n_unexpected++;
        }
        json_array_append_new(sigs, s);
    }
    esg_hex32 id = esg_hash_hex(&tx->id);
    json_object_set_new(doc, "tx_id", json_string(id.s));
    json_object_set_new(doc, "action", json_string(esg_action_name(tx->body->action_case)));
    json_object_set_new(doc, "body", json_incref(body));
    json_object_set_new(doc, "signatures", sigs);
    json_object_set_new(doc, "required", required);
    json_object_set_new(doc, "missing", missing);
    json_object_set_new(doc, "complete", json_boolean(json_array_size(missing) == 0));
    if (!online && n_cos > 0)
        json_object_set_new(doc, "offline",
                            json_string(offline_why ? offline_why : "node not reachable"));

    if (cli->json) {
        rc = esgw_cli__print_json(cli, doc);
        goto out;
    }
    FILE *f = cli->out;
    fprintf(f, "tx        %s\n", id.s);
    fprintf(f, "chain id  %s\n", tx->body->chain_id);
    fprintf(f, "signer    %s\n", signer_hex.s);
    fprintf(f, "nonce     %" PRIu64 "\n", tx->body->nonce);
    fprintf(f, "action    %s\n", esg_action_name(tx->body->action_case));
    /* The action is the body's one member that is not a header field. */
    const char *key;
    json_t *v;
    json_object_foreach(body, key, v) {
        if (!strcmp(key, "chain_id") || !strcmp(key, "nonce") || !strcmp(key, "signer") ||
            !strcmp(key, "type"))
            continue;
        char *s = json_dumps(v, JSON_INDENT(2));
        if (s) {
            for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n"))
                fprintf(f, "  %s\n", line);
            free(s);
        }
    }
    fprintf(f, "signatures\n");
    for (size_t i = 0; i < n; i++) {
        bool is_signer = memcmp(sv[i].pk.b, signer.b, 32) == 0;
        fprintf(f, "  %s  %s", esg_pubkey_hex(&sv[i].pk).s, sv[i].valid ? "valid" : "INVALID");
        if (is_signer)
            fprintf(f, "  signer");
        if (sv[i].known)
            fprintf(f, "  %s%s%s", sv[i].acct.officer ? "officer of " : "account of ",
                    sv[i].acct.member, sv[i].acct.revoked ? " (revoked)" : "");
        if (unexpected(&sv[i], &signer, cos, n_cos, online))
            fprintf(f, "  UNEXPECTED");
        fputc('\n', f);
    }
    fprintf(f, "required\n");
    fprintf(f, "  signer %s: %s\n", signer_hex.s, signer_signed ? "present" : "MISSING");
    for (size_t k = 0; k < n_cos; k++) {
        json_t *r = json_array_get(required, k + 1);
        json_t *p = json_object_get(r, "present");
        fprintf(f, "  an officer of %s: %s\n", cos[k],
                json_is_null(p) ? "cannot tell offline" : json_is_true(p) ? "present" : "MISSING");
    }
    if (!online && n_cos > 0)
        fprintf(f, "(node not reachable: %s)\n", offline_why ? offline_why : "no answer");
    if (n_unexpected > 0)
        fprintf(f, "%zu signature%s the action does not need: a node refuses the transaction "
                "(ERR_UNEXPECTED_SIGNATURE)\n", n_unexpected, n_unexpected == 1 ? "" : "s");
    if (json_array_size(missing) == 0)
        fprintf(f, "complete: every required signature is present\n");
    else
        fprintf(f, "still missing: %zu signature%s\n", json_array_size(missing),
                json_array_size(missing) == 1 ? "" : "s");
out:
    json_decref(doc);
    json_decref(body);
    esg_contracts_cosigners_free(cos, n_cos);
    free(sv);
    esg_tx_free(tx);
    return rc;
}

const esgw_cmd esgw_cli__tx_cmds[] = {
    {.path = "tx sign", .synopsis = "FILE --key NAME [-o OUT] [--force]", .min_pos = 1,
     .max_pos = 1, .required = "key", .optional = "o", .flags = "force", .run = cmd_tx_sign,
     .kind = ESGW_CMD_USES_NODE | ESGW_CMD_USES_KEYSTORE | ESGW_CMD_USES_UNLOCK,
     .help = "Adds the signature of key NAME to the signed transaction in FILE (written by an\n"
             "action verb's -o): how the co-issuers of a joint bond sign its IssueInstrument.\n"
             "The tx id does not change. A signature the action does not need is refused\n"
             "before the passphrase is asked (ERR_UNEXPECTED_SIGNATURE, naming the key and\n"
             "the signers the action needs), since a node refuses a transaction carrying\n"
             "one: the action needs its signer and, for a co-issued action, one officer of\n"
             "each co-issuer but the signer's own member. Which member a key acts for only\n"
             "the node knows: it is asked (GET /v1/accounts/PUBKEY) for a co-issued action;\n"
             "when it cannot be reached the signature is added unchecked, and said so.\n"
             "\n"
             "  FILE             a signed transaction (at most 1 MiB; docs/WIRE.md); replaced\n"
             "                   atomically, keeping its mode, unless -o is given\n"
             "  --key NAME       the keystore key that signs; one that signed already is\n"
             "                   ERR_DUPLICATE_SIGNATURE\n"
             "  -o OUT           write the result to OUT (which must not exist) and leave\n"
             "                   FILE as it is\n"
             "  --force          add the signature without checking that the action needs it\n"},
    {.path = "tx inspect", .synopsis = "FILE", .min_pos = 1, .max_pos = 1,
     .run = cmd_tx_inspect, .kind = ESGW_CMD_USES_NODE,
     .help = "Decodes a signed transaction file: its id, chain id, signer, nonce, action and\n"
             "fields; every signature, whether it verifies over the id, and UNEXPECTED when\n"
             "the action does not need it (a node refuses the transaction then); the\n"
             "signatures the action requires and which are still missing. For a co-issued\n"
             "action the node is asked which member each key acts for; offline the\n"
             "co-signers are listed without a verdict. With --json: {tx_id, action, body,\n"
             "signatures, required, missing, complete[, offline]}.\n"
             "\n"
             "  FILE             a signed transaction (at most 1 MiB; docs/WIRE.md)\n"},
    {.path = "tx submit", .synopsis = "FILE [--no-wait]", .min_pos = 1, .max_pos = 1,
     .flags = "no-wait", .run = cmd_tx_submit, .kind = ESGW_CMD_USES_NODE,
     .help = "Submits the signed transaction in FILE (POST /v1/txs, docs/API.md) as it is,\n"
             "and waits for the block that commits it. Prints \"tx ID committed at height\n"
             "H\" and the record it creates, if any; the node's refusal passes through with\n"
             "its code (ERR_MISSING_COSIGNER: a co-issuer has not signed yet).\n"
             "\n"
             "  FILE             a signed transaction (at most 1 MiB; docs/WIRE.md)\n"
             "  --no-wait        return once the node has admitted it (\"accepted (pending)\");\n"
             "                   by default the node waits up to its [api] wait_timeout_ms\n"
             "                   (30 s) for the commit, then answers ERR_TIMEOUT\n"},
    {0},
};
