/* A JSON reader's bookkeeping: the arena its results come from, the
 * caller's error buffer, and the JSON path of the value being read, so
 * that an error names its culprit: "co_issuers[1].share_bps: expected an
 * integer, got a string".
 *
 * The wallet's readers of JSON documents -- wallet/pbjson_in.h (any
 * message by descriptor) and wallet/spec.h (instrument specs) -- walk
 * their input with one of these: push a key or an index before reading a
 * value, pop it after, and fail with a message that the path prefixes.
 *
 *   esgw_jreader r;
 *   esgw_jr_init(&r, alloc, ctx, err, errlen, 256, 320);
 *   size_t old = esgw_jr_push_key(&r, "units");
 *   if (!json_is_integer(v))
 *       return esgw_jr_fail(&r, ESG_ERR_JSON, "expected an integer, got %s",
 *                           esgw_jr_kind(v));
 *   esgw_jr_pop(&r, old);
 *
 * fails with "units: expected an integer, got a string" for "units": "5".
 *
 * On a failure the path is left as it is (the reader stops there), so
 * only a successful read pops. The error is written once per failure,
 * replacing what err held.
 *
 * Memory: everything allocated through a reader comes from the caller's
 * arena allocator (below) and is never freed here. A reader owns no
 * memory: it is a plain struct on the caller's stack, with no release.
 *
 * Threads: no global state; a reader is used by one thread at a time.
 */
#ifndef ESGW_JREADER_H
#define ESGW_JREADER_H

#include <jansson.h>
#include <stddef.h>

/* An arena allocator: `size` zeroed bytes that stay valid for as long as
 * the caller keeps what was built with them, or NULL when out of memory.
 * The caller frees its arena when done. */
typedef void *(*esgw_alloc_fn)(void *ctx, size_t size);

/* The most a reader keeps of a path and of a message (NUL included). */
#define ESGW_JR_PATH_MAX 512
#define ESGW_JR_MSG_MAX 384

typedef struct esgw_jreader {
    esgw_alloc_fn alloc;
    void *ctx;
    char *err; /* the caller's, errlen bytes; NULL when errlen is 0 */
    size_t errlen;
    size_t path_max, msg_max; /* the limits given to esgw_jr_init */
    char path[ESGW_JR_PATH_MAX];
    size_t plen; /* strlen(path) */
} esgw_jreader;

/* Starts reader r with an empty path, allocating from alloc(ctx, ...) and
 * writing errors to err[0..errlen) (cleared now; err may be NULL when
 * errlen is 0). A path is kept up to path_max - 1 bytes and a message up
 * to msg_max - 1, longer ones cut, never overflowed: each reader picks
 * what its documents need, at most ESGW_JR_PATH_MAX / ESGW_JR_MSG_MAX. */
void esgw_jr_init(esgw_jreader *r, esgw_alloc_fn alloc, void *ctx, char *err, size_t errlen,
                  size_t path_max, size_t msg_max);

/* Writes "<path>: <message>" ("<message>" when the path is empty) to the
 * error buffer, the message printf-formatted, and returns `code`. */
int esgw_jr_fail(esgw_jreader *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails with ESG_ERR_NOMEM, "out of memory". */
int esgw_jr_nomem(esgw_jreader *r);

/* `size` zeroed bytes from the arena (1 when size is 0, so that NULL
 * always means out of memory), or NULL. */
void *esgw_jr_alloc(esgw_jreader *r, size_t size);

/* Appends ".key" ("key" when the path is empty) or "[i]" to the path.
 * Each returns the path's former length, to hand to esgw_jr_pop. */
size_t esgw_jr_push_key(esgw_jreader *r, const char *key);
size_t esgw_jr_push_index(esgw_jreader *r, size_t i);

/* Cuts the path back to `len` bytes, a value a push returned. */
void esgw_jr_pop(esgw_jreader *r, size_t len);

/* "an object", "an array", "a string", "an integer", "a real number",
 * "a boolean" or "null": the JSON type of v, for "got %s" messages. */
const char *esgw_jr_kind(const json_t *v);

/* Copies the JSON string v into the arena as a NUL-terminated string
 * *out. Fails (with the path) when v is no string (ESG_ERR_JSON "expected
 * a string, got ..."), holds a NUL character (ESG_ERR_JSON), or memory
 * runs out (ESG_ERR_NOMEM); *out is then untouched. */
int esgw_jr_string(esgw_jreader *r, const json_t *v, char **out);

#endif
