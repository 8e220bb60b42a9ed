/* esgwallet key new | list | show | import (wallet/cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/error.h"
#include "wallet/cli.h"

/* Prints a key as two labelled lines, or {"name", "pubkey"}. */
static int print_key(esgw_cli *cli, const char *name, const esg_pubkey *pk) {
    if (!cli->json) {
        fprintf(cli->out, "name    %s\npubkey  %s\n", name, esg_pubkey_hex(pk).s);
        return 0;
    }
    json_t *doc = json_pack("{s:s, s:s}", "name", name, "pubkey", esg_pubkey_hex(pk).s);
    if (!doc)
        return esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    int rc = esgw_cli__print_json(cli, doc);
    json_decref(doc);
    return rc;
}

/* Checks that `name` is a valid key name not yet in the keystore, before a
 * passphrase is asked for it. */
static int check_new_name(esgw_cli *cli, esgw_keystore *ks, const char *name) {
    int rc = esgw_key_name_check(name);
    if (rc)
        return esgw_cli__fail(cli, rc, "key name '%s' must match [A-Za-z0-9_.-]{1,%d} "
                              "without a leading dot", name, ESGW_KEY_NAME_MAX);
    esg_pubkey pk;
    rc = esgw_key_pubkey(ks, name, &pk);
    if (rc == 0)
        return esgw_cli__fail(cli, ESG_ERR_KEY_EXISTS, "key '%s' already exists in '%s'", name,
                              esgw_keystore_dir(ks));
    if (rc != ESG_ERR_NOT_FOUND)
        return esgw_cli__ks_fail(cli, rc);
    return 0;
}

/* Asks for a new passphrase (twice when prompting). */
static int new_passphrase(esgw_cli *cli, char *buf, size_t buflen, const char *name) {
    return esgw_cli__passphrase(cli, buf, buflen, name, true);
}

static int cmd_key_new(esgw_cli *cli, const esgw_args *a) {
    const char *name = a->pos[0];
    esgw_keystore *ks = NULL;
    int rc = esgw_cli__keystore(cli, &ks);
    if (rc || (rc = check_new_name(cli, ks, name)) != 0)
        return rc;
    char pass[ESGW_PASSPHRASE_MAX + 1];
    esg_pubkey pk;
    if ((rc = new_passphrase(cli, pass, sizeof pass, name)) == 0) {
        rc = esgw_key_create(ks, name, pass, &pk);
        if (rc)
            esgw_cli__ks_fail(cli, rc);
    }
    sodium_memzero(pass, sizeof pass);
    return rc ? rc : print_key(cli, name, &pk);
}

static int cmd_key_show(esgw_cli *cli, const esgw_args *a) {
    esgw_keystore *ks = NULL;
    esg_pubkey pk;
    int rc = esgw_cli__keystore(cli, &ks);
    if (rc)
        return rc;
    if ((rc = esgw_key_pubkey(ks, a->pos[0], &pk)) != 0)
        return esgw_cli__ks_fail(cli, rc);
    return print_key(cli, a->pos[0], &pk);
}

/* Lists every key with its pubkey; a key whose file cannot be read is
 * listed with its error instead, so one bad file does not hide the rest. */
static int cmd_key_list(esgw_cli *cli, const esgw_args *a) {
    (void)a;
    esgw_keystore *ks = NULL;
    char **names;
    size_t n;
    int rc = esgw_cli__keystore(cli, &ks);
    if (rc)
        return rc;
    if ((rc = esgw_key_list(ks, &names, &n)) != 0)
        return esgw_cli__ks_fail(cli, rc);
    json_t *doc = json_object(), *keys = json_array();
    if (!doc || !keys || json_object_set(doc, "keys", keys) != 0)
        rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        esg_pubkey pk;
        int krc = esgw_key_pubkey(ks, names[i], &pk);
        if (!cli->json) {
            fprintf(cli->out, "%-20s %s\n", names[i],
                    krc ? esg_err_name(krc) : esg_pubkey_hex(&pk).s);
            continue;
        }
        json_t *k = krc ? json_pack("{s:s, s:s}", "name", names[i], "error", esg_err_name(krc))
                        : json_pack("{s:s, s:s}", "name", names[i], "pubkey",
                                    esg_pubkey_hex(&pk).s);
        if (!k || json_array_append_new(keys, k) != 0)
            rc = esgw_cli__fail(cli, ESG_ERR_NOMEM, NULL);
    }
    if (rc == 0 && cli->json)
        rc = esgw_cli__print_json(cli, doc);
    json_decref(keys);
    json_decref(doc);
    esgw_key_list_free(names, n);
    return rc;
}

/* Reads a secret key file: 64 hex characters and an optional line end,
 * readable by its owner only. */
static int read_secret_file(esgw_cli *cli, esg_seckey *sk, const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return esgw_cli__fail(cli, errno == ENOENT ? ESG_ERR_NOT_FOUND : ESG_ERR_IO,
                              "cannot open secret file '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return esgw_cli__fail(cli, ESG_ERR_IO, "secret file '%s' is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return esgw_cli__fail(cli, ESG_ERR_KEY_PERMISSIONS,
                              "secret file '%s' is readable by group or others (chmod 600 it)",
                              path);
    }
    char buf[72];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf && ((r = read(fd, buf + n, sizeof buf - n)) > 0 ||
                              (r < 0 && errno == EINTR)))
        if (r > 0)
            n += (size_t)r;
    int rc = 0;
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (n != 64) {
        rc = esgw_cli__fail(cli, ESG_ERR_HEX, "secret file '%s' must hold 64 hex characters",
                            path);
    } else {
        buf[64] = '\0';
        if (esg_hex_decode(sk->b, 32, buf) != 0)
            rc = esgw_cli__fail(cli, ESG_ERR_HEX,
                                "secret file '%s' must hold 64 hex characters", path);
    }
    sodium_memzero(buf, sizeof buf);
    close(fd);
    if (rc)
        esg_seckey_wipe(sk);
    return rc;
}

static int cmd_key_import(esgw_cli *cli, const esgw_args *a) {
    const char *name = a->pos[0];
    esgw_keystore *ks = NULL;
    int rc = esgw_cli__keystore(cli, &ks);
    if (rc || (rc = check_new_name(cli, ks, name)) != 0)
        return rc;
    esg_seckey sk;
    esg_pubkey pk;
    if ((rc = read_secret_file(cli, &sk, esgw_cli__opt(a, "secret-file"))) != 0)
        return rc;
    if (esg_key_pubkey(&pk, &sk) != 0) {
        esg_seckey_wipe(&sk);
        return esgw_cli__fail(cli, ESG_ERR_BAD_SECRET,
                              "secret file '%s' does not hold a valid secp256k1 secret key",
                              esgw_cli__opt(a, "secret-file"));
    }
    char pass[ESGW_PASSPHRASE_MAX + 1];
    if ((rc = new_passphrase(cli, pass, sizeof pass, name)) == 0) {
        rc = esgw_key_import(ks, name, &sk, pass, &pk);
        if (rc)
            esgw_cli__ks_fail(cli, rc);
    }
    sodium_memzero(pass, sizeof pass);
    esg_seckey_wipe(&sk);
    return rc ? rc : print_key(cli, name, &pk);
}

#define KEY_NAME_HELP                                                                     \
    "  NAME             the key's name in the keystore: 1..64 of A-Z a-z 0-9 _ . -, not\n" \
    "                   starting with a dot\n"

const esgw_cmd esgw_cli__key_cmds[] = {
    {.path = "key new", .synopsis = "NAME", .min_pos = 1, .max_pos = 1, .run = cmd_key_new,
     .kind = ESGW_CMD_USES_KEYSTORE | ESGW_CMD_USES_NEWKEY,
     .help = "Creates a key: a fresh BIP340 (secp256k1) key pair, stored as NAME.json in the\n"
             "keystore (mode 0600), its secret encrypted (XChaCha20-Poly1305) under a key\n"
             "derived from a new passphrase by Argon2id (file format: wallet/keystore.h).\n"
             "On a terminal the passphrase is asked twice. Prints the name and the public\n"
             "key, 64 hex characters: an ADMIN gives it to `member add-account --pubkey`\n"
             "(or the genesis, to `esgnode genesis new --member`) to make it an account.\n"
             "\n" KEY_NAME_HELP
             "                   (one the keystore has already: ERR_KEY_EXISTS)\n"},
    {.path = "key list", .synopsis = "", .run = cmd_key_list, .kind = ESGW_CMD_USES_KEYSTORE,
     .help = "Lists the keystore's keys, one line each: the name and the public key (64 hex),\n"
             "or the error code of a key file that cannot be read, so that one bad file\n"
             "hides none of the others. Needs no passphrase.\n"},
    {.path = "key show", .synopsis = "NAME", .min_pos = 1, .max_pos = 1, .run = cmd_key_show,
     .kind = ESGW_CMD_USES_KEYSTORE,
     .help = "Prints the name and public key (64 hex) of key NAME, read from its file\n"
             "without the passphrase (ERR_NOT_FOUND when there is none).\n"
             "\n" KEY_NAME_HELP},
    {.path = "key import", .synopsis = "NAME --secret-file F", .min_pos = 1, .max_pos = 1,
     .required = "secret-file", .run = cmd_key_import,
     .kind = ESGW_CMD_USES_KEYSTORE | ESGW_CMD_USES_NEWKEY,
     .help = "Stores an existing secret key as NAME, encrypted under a new passphrase as\n"
             "`key new` does (asked twice on a terminal). Prints the name and public key.\n"
             "\n" KEY_NAME_HELP
             "  --secret-file F  a file holding the secret key: 64 hex characters and an\n"
             "                   optional line end (\\n or \\r\\n), nothing else (ERR_HEX); it\n"
             "                   must be a regular file, not a symlink, readable by its\n"
             "                   owner only (ERR_KEY_PERMISSIONS: chmod 600 it); a zero or\n"
             "                   out-of-range secret is ERR_BAD_SECRET. Delete it after\n"
             "                   the import\n"},
    {0},
};
