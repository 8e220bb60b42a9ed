/* Files built into esgnode (tools/embed.c writes the tables at build
 * time): the node serves them with nothing beside its binary.
 *
 *   esg_assets_docs      the API's own description, served under /v1
 *                        (openapi.yaml)
 *   esg_assets_explorer  the web explorer served at / (index.html and
 *                        what it loads); empty when the build had no npm,
 *                        see esg_assets_have_explorer
 *
 * Tables end with a row whose path is NULL. Contents are immutable for the
 * life of the process, so a response may point at them without a copy.
 */
#ifndef ESG_NODE_ASSETS_H
#define ESG_NODE_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct esg_asset {
    const char *path;          /* relative, no leading '/': "assets/app.js" */
    const char *ctype;         /* Content-Type to serve it with */
    const unsigned char *data; /* len bytes, followed by a NUL not counted */
    size_t len;
} esg_asset;

extern const esg_asset esg_assets_docs[];
extern const esg_asset esg_assets_explorer[];

/* The row of `set` whose path is `path` exactly, or NULL. */
const esg_asset *esg_asset_find(const esg_asset *set, const char *path);

/* Whether this build has the explorer (esg_assets_explorer not empty). */
bool esg_assets_have_explorer(void);

#endif
