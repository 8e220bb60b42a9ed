/* Helpers shared by the check suites. */
#ifndef ESG_TESTUTIL_H
#define ESG_TESTUTIL_H

#include <stddef.h>

/* Creates a fresh directory under $TMPDIR (or /tmp) and copies its path
 * into `out` (at least 256 bytes). Aborts the test on failure. */
void tu_tmpdir(char *out, size_t outlen);

/* Removes `path` and everything below it. */
void tu_rmtree(const char *path);

/* Path of a file in tests/data: static buffer, valid until the next call. */
const char *tu_data_path(const char *name);

#endif
