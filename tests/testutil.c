#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void tu_tmpdir(char *out, size_t outlen) {
    const char *base = getenv("TMPDIR");
    snprintf(out, outlen, "%s/esgtest-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path) {
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_data_path(const char *name) {
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", ESG_TEST_DATA, name);
    return buf;
}
