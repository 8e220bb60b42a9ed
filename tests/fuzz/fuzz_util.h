/* Helpers shared by the fuzz targets that read files (config, key files,
 * the signer's state, the WAL): one private directory per process, made
 * on first use and removed at exit, and a file in it rewritten with each
 * input. Header-only so that every target stays one .c file. */
#ifndef ESG_TESTS_FUZZ_UTIL_H
#define ESG_TESTS_FUZZ_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir_[64];

static int fuzz_rm_(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fuzz_dir_remove_(void) {
    if (fuzz_dir_[0])
        nftw(fuzz_dir_, fuzz_rm_, 16, FTW_DEPTH | FTW_PHYS);
}

/* The process's private directory (mkdtemp under $TMPDIR or /tmp). */
static inline const char *fuzz_dir(void) {
    if (!fuzz_dir_[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_dir_, sizeof fuzz_dir_, "%s/esgfuzz.XXXXXX",
                 t && *t && snprintf(NULL, 0, "%s", t) < 40 ? t : "/tmp");
        if (!mkdtemp(fuzz_dir_))
            abort();
        atexit(fuzz_dir_remove_);
    }
    return fuzz_dir_;
}

/* Writes `path` (created or truncated, with `mode`) to hold exactly data. */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size, mode_t mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0 || fchmod(fd, mode) != 0)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0)
            abort();
        off += (size_t)n;
    }
    close(fd);
}

#endif
