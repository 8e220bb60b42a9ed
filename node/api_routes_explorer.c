/* The web explorer's routes: GET / is its page, GET /explorer/FILE what
 * the page loads (docs/EXPLORER.md). The files are built into the binary
 * (node/assets.h), so there is nothing to find on disk and no path to
 * resolve: a name is a row of the table or it is not, and no request can
 * reach outside it. The routes are open (no token) because the files are
 * the same in every build and hold no chain data; what the page shows it
 * fetches from the /v1 routes, which keep their own authorization.
 *
 * A build made without npm has an empty table: GET / then says so in a
 * 404 rather than serving a page that cannot work. */
#include <string.h>

#include "ledger/error.h"
#include "node/api_routes.h"
#include "node/assets.h"

/* The 404 of a build without the explorer, with how to get one. */
static void fail_no_explorer(esg_api__call *c) {
    esg_api__fail(c, ESG_ERR_NOT_FOUND,
                  "this esgnode was built without the web explorer (web/node_modules was "
                  "missing at build time: run 'cd web && npm ci', then cmake and build again)");
}

void esg_api__r_explorer_index(esg_api__call *c) {
    const esg_asset *a = esg_asset_find(esg_assets_explorer, "index.html");
    if (!a) {
        fail_no_explorer(c);
        return;
    }
    esg_api__reply_asset(c, a);
}

void esg_api__r_explorer_file(esg_api__call *c) {
    if (!esg_assets_have_explorer()) {
        fail_no_explorer(c);
        return;
    }
    const esg_asset *a = esg_asset_find(esg_assets_explorer, c->params[0]);
    if (!a) {
        char q[80];
        esg_api__quote(q, sizeof q, c->params[0]);
        esg_api__fail(c, ESG_ERR_NOT_FOUND, "the explorer has no file '%s'", q);
        return;
    }
    esg_api__reply_asset(c, a);
}

bool esg_api__route_is_explorer(const esg_api__route *r) {
    return r->fn == esg_api__r_explorer_index || r->fn == esg_api__r_explorer_file;
}
