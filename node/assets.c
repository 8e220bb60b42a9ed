/* Lookups in the built-in file tables (node/assets.h). The tables hold a
 * handful of rows, so a linear scan is the whole index. */
#include "node/assets.h"

#include <string.h>

const esg_asset *esg_asset_find(const esg_asset *set, const char *path) {
    for (; path && set->path; set++)
        if (strcmp(set->path, path) == 0)
            return set;
    return NULL;
}

bool esg_assets_have_explorer(void) {
    return esg_assets_explorer[0].path != NULL;
}
