/* esgwallet tx build --action FILE.json --key NAME [-o OUT]: a transaction
 * of any action from its JSON, in the shape GET /v1/txs/{id} shows it
 * under "action" (wallet/pbjson_in.h), so that an action without a verb of
 * its own -- or one copied from another chain's history -- can still be
 * built, signed and submitted. */
#include <stdlib.h>

#include "ledger/error.h"
#include "wallet/cli.h"
#include "wallet/pbjson_in.h"

static int build_from_json(esgw_cli *cli, const esgw_args *a, esg_pb_tx_body *body) {
    const char *path = esgw_cli__opt(a, "action");
    uint8_t *buf;
    size_t len;
    int rc = esgw_cli__read_file(cli, &buf, &len, path, ESG_TX_MAX_BYTES * 4);
    if (rc)
        return rc;
    json_error_t je;
    json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (!j)
        return esgw_cli__fail(cli, ESG_ERR_JSON, "'%s' is not JSON: %s (line %d, column %d)",
                              path, je.text, je.line, je.column);
    char err[512];
    rc = esgw_json_to_action(body, j, esgw_cli__arena, cli, err, sizeof err);
    json_decref(j);
    if (rc)
        return esgw_cli__fail(cli, rc, "action '%s': %s", path, err);
    return 0;
}

const esgw_cmd esgw_cli__build_cmds[] = {
    {.path = "tx build", .synopsis = "--action FILE.json --key NAME", .required = "action",
     .kind = ESGW_CMD_SUBMIT, .build = build_from_json,
     .help = "Builds, signs and submits (or with -o writes) a transaction of any action\n"
             "from its JSON: for an action without a verb of its own, or one copied from\n"
             "another chain's history. The header (chain id, nonce, signer) is the submit\n"
             "path's, as for every action verb.\n"
             "\n"
             "  --action FILE.json  the action as GET /v1/txs/{id} shows it under \"action\"\n"
             "                   (docs/API.md), at most 4 MiB: {\"type\": \"AddAccount\",\n"
             "                   \"pubkey\": \"<64 hex>\", \"roles\": [\"OFFICER\"]}. Field names\n"
             "                   as in proto/esg.proto; an unknown key is refused (ERR_JSON);\n"
             "                   bytes in hex, 64-bit integers as decimal strings or JSON\n"
             "                   integers, enums by name in any case. The mapping:\n"
             "                   wallet/pbjson_in.h\n"},
    {0},
};
