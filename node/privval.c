#include "node/privval.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/failpoint.h"

#define REC_MAGIC "ESGPRVAL"
#define REC_VERSION 1u
#define REC_SUM_OFF 190u /* the checksum covers bytes 0..189 */

_Static_assert(REC_SUM_OFF + 32 == ESG_PRIVVAL_RECORD_LEN, "record layout");

struct esg_privval {
    esg_seckey key;
    esg_pubkey pk;
    esg_privval_record rec;
    /* A write whose rename happened but whose directory sync failed leaves
     * the file holding either record: refuse everything until reopened. */
    bool failed;
    char *path, *tmp, *dir;
    int lock_fd; /* PATH.lock, flock'ed while open; -1 before */
};

/* ------------------------------------------------------------ encoding */

static void put_le(uint8_t *p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void rec_encode(uint8_t out[ESG_PRIVVAL_RECORD_LEN], const esg_pubkey *pk,
                       const esg_privval_record *r) {
    memset(out, 0, ESG_PRIVVAL_RECORD_LEN);
    memcpy(out, REC_MAGIC, 8);
    put_le(out + 8, REC_VERSION, 4);
    memcpy(out + 12, pk->b, 32);
    put_le(out + 44, r->height, 8);
    put_le(out + 52, r->round, 4);
    out[56] = (uint8_t)r->step;
    put_le(out + 58, (uint32_t)r->locked_round, 4);
    memcpy(out + 62, r->locked.b, 32);
    memcpy(out + 94, r->sign_hash.b, 32);
    memcpy(out + 126, r->sig.b, 64);
    esg_hash sum = esg_sha256(out, REC_SUM_OFF);
    memcpy(out + REC_SUM_OFF, sum.b, 32);
}

/* Decodes and checks a record read from `path`; the messages name it. */
static int rec_decode(esg_privval_record *r, const uint8_t in[ESG_PRIVVAL_RECORD_LEN],
                      const esg_pubkey *pk, const char *path, char *errbuf, size_t errlen) {
    if (memcmp(in, REC_MAGIC, 8) != 0)
        return esg_errf(errbuf, errlen, ESG_ERR_STORE_CORRUPT,
                    "'%s' is not a validator state file (bad magic)", path);
    if (get_le(in + 8, 4) != REC_VERSION)
        return esg_errf(errbuf, errlen, ESG_ERR_STORE_CORRUPT,
                    "validator state file '%s' has unknown version %llu", path,
                    (unsigned long long)get_le(in + 8, 4));
    esg_hash sum = esg_sha256(in, REC_SUM_OFF);
    if (memcmp(sum.b, in + REC_SUM_OFF, 32) != 0)
        return esg_errf(errbuf, errlen, ESG_ERR_STORE_CORRUPT,
                    "validator state file '%s' fails its checksum", path);
    if (memcmp(in + 12, pk->b, 32) != 0) {
        esg_pubkey other;
        memcpy(other.b, in + 12, 32);
        return esg_errf(errbuf, errlen, ESG_ERR_INVALID_ARGUMENT,
                    "validator state file '%s' belongs to key %s, not to this node's key %s", path,
                    esg_pubkey_hex(&other).s, esg_pubkey_hex(pk).s);
    }
    memset(r, 0, sizeof *r);
    r->height = get_le(in + 44, 8);
    r->round = (uint32_t)get_le(in + 52, 4);
    uint8_t step = in[56];
    r->locked_round = (int32_t)(uint32_t)get_le(in + 58, 4);
    memcpy(r->locked.b, in + 62, 32);
    memcpy(r->sign_hash.b, in + 94, 32);
    memcpy(r->sig.b, in + 126, 64);
    r->step = (esg_privval_step)step;

    /* A checksum guards against torn and flipped bytes; these guard
     * against a record that some other program wrote. */
    const char *why = NULL;
    if (step > ESG_PRIVVAL_STEP_PRECOMMIT || in[57] != 0)
        why = "step";
    else if (r->round > ESG_CONS_MAX_ROUND)
        why = "round";
    else if (r->locked_round < -1 || (int64_t)r->locked_round > (int64_t)r->round ||
             (r->locked_round == -1) != esg_hash_is_zero(&r->locked))
        why = "lock";
    else if (step == ESG_PRIVVAL_STEP_NONE) {
        esg_hash zero = {{0}};
        esg_sig zsig = {{0}};
        if (r->height || r->round || r->locked_round != -1 || !esg_hash_eq(&r->sign_hash, &zero) ||
            memcmp(r->sig.b, zsig.b, 64) != 0)
            why = "empty record";
    } else if (r->height == 0)
        why = "height";
    else if (!esg_verify(&r->sig, &r->sign_hash, pk))
        why = "signature";
    if (why)
        return esg_errf(errbuf, errlen, ESG_ERR_STORE_CORRUPT,
                    "validator state file '%s' holds an invalid %s", path, why);
    return ESG_OK;
}

/* -------------------------------------------------------------- files */

static int write_all(int fd, const uint8_t *p, size_t len) {
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes `r` the durable state: PATH.tmp written and synced, renamed over
 * PATH, directory synced. *renamed tells a caller whose write failed
 * whether PATH may already hold the new record. */
static int persist(esg_privval *pv, const esg_privval_record *r, bool *renamed) {
    uint8_t buf[ESG_PRIVVAL_RECORD_LEN];
    rec_encode(buf, &pv->pk, r);
    *renamed = false;
    /* O_EXCL after the unlink: never write through whatever a crash or
     * someone else left at the temp path (a symlink, say). */
    if (unlink(pv->tmp) != 0 && errno != ENOENT)
        return ESG_ERR_IO;
    int fd = open(pv->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return ESG_ERR_IO;
    int ok = write_all(fd, buf, sizeof buf) == 0;
    /* The new record is in PATH.tmp, not synced; PATH holds the old one. */
    ESG_FAILPOINT("privval-before-fsync");
    ok = ok && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(pv->tmp, pv->path) != 0) {
        int e = errno;
        unlink(pv->tmp);
        errno = e;
        return ESG_ERR_IO;
    }
    *renamed = true;
    int dfd = open(pv->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ESG_ERR_IO;
    ok = fsync(dfd) == 0;
    int e = errno;
    close(dfd);
    errno = e;
    /* The new record is durable and the signature not handed out yet. */
    if (ok)
        ESG_FAILPOINT("privval-after-fsync");
    return ok ? ESG_OK : ESG_ERR_IO;
}

/* Reads PATH into pv->rec. Returns ESG_ERR_NOT_FOUND when it does not
 * exist (errbuf untouched). */
static int load(esg_privval *pv, char *errbuf, size_t errlen) {
    int fd = open(pv->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return ESG_ERR_NOT_FOUND;
        return esg_errf(errbuf, errlen, ESG_ERR_IO, "cannot open validator state file '%s': %s",
                    pv->path, strerror(errno));
    }
    struct stat st;
    int rc = ESG_OK;
    uint8_t buf[ESG_PRIVVAL_RECORD_LEN];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = esg_errf(errbuf, errlen, ESG_ERR_IO, "validator state file '%s' is not a regular file",
                  pv->path);
    } else if (st.st_size < (off_t)sizeof buf) {
        rc = esg_errf(errbuf, errlen, ESG_ERR_STORE_CORRUPT,
                  "validator state file '%s' is truncated (%lld of %u bytes)", pv->path,
                  (long long)st.st_size, ESG_PRIVVAL_RECORD_LEN);
    } else if (st.st_size > (off_t)sizeof buf) {
        rc = esg_errf(errbuf, errlen, ESG_ERR_STORE_CORRUPT,
                  "validator state file '%s' is %lld bytes, not %u", pv->path,
                  (long long)st.st_size, ESG_PRIVVAL_RECORD_LEN);
    } else {
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t n = read(fd, buf + got, sizeof buf - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        if (got != sizeof buf)
            rc = esg_errf(errbuf, errlen, ESG_ERR_IO, "cannot read validator state file '%s'",
                      pv->path);
        else
            rc = rec_decode(&pv->rec, buf, &pv->pk, pv->path, errbuf, errlen);
    }
    close(fd);
    return rc;
}

/* ---------------------------------------------------------------- API */

void esg_privval_close(esg_privval *pv) {
    if (!pv)
        return;
    sodium_memzero(&pv->key, sizeof pv->key);
    if (pv->lock_fd >= 0)
        close(pv->lock_fd); /* releases the flock */
    free(pv->path);
    free(pv->tmp);
    free(pv->dir);
    free(pv);
}

int esg_privval_open(esg_privval **out, const char *path, const esg_seckey *key, char *errbuf,
                     size_t errlen) {
    assert(out && path && key);
    *out = NULL;
    esg_privval *pv = calloc(1, sizeof *pv);
    if (!pv)
        return ESG_ERR_NOMEM;
    pv->key = *key;
    pv->lock_fd = -1;
    int rc = esg_key_pubkey(&pv->pk, &pv->key);
    if (rc) {
        esg_privval_close(pv);
        return esg_errf(errbuf, errlen, rc, "validator key is not valid");
    }
    size_t n = strlen(path);
    pv->path = strdup(path);
    pv->tmp = malloc(n + 5);
    char *copy = strdup(path);
    if (!pv->path || !pv->tmp || !copy) {
        free(copy);
        esg_privval_close(pv);
        return ESG_ERR_NOMEM;
    }
    memcpy(pv->tmp, path, n);
    memcpy(pv->tmp + n, ".tmp", 5);
    pv->dir = strdup(dirname(copy));
    free(copy);
    if (!pv->dir) {
        esg_privval_close(pv);
        return ESG_ERR_NOMEM;
    }

    /* Two processes signing from one state file could each sign one of
     * two conflicting votes. The file itself is replaced by rename on every
     * write, so the lock lives on a companion file that is never replaced. */
    char lock_path[PATH_MAX];
    if (snprintf(lock_path, sizeof lock_path, "%s.lock", path) >= (int)sizeof lock_path) {
        esg_privval_close(pv);
        return esg_errf(errbuf, errlen, ESG_ERR_IO, "validator state path '%s' is too long", path);
    }
    pv->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (pv->lock_fd < 0 || flock(pv->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        esg_privval_close(pv);
        if (e == EWOULDBLOCK)
            return esg_errf(errbuf, errlen, ESG_ERR_IO,
                        "validator state '%s' is in use by another process (is another "
                        "esgnode running on this datadir?)", path);
        return esg_errf(errbuf, errlen, ESG_ERR_IO, "cannot lock '%s': %s", lock_path, strerror(e));
    }
    rc = load(pv, errbuf, errlen);
    if (rc == ESG_ERR_NOT_FOUND) {
        memset(&pv->rec, 0, sizeof pv->rec);
        pv->rec.locked_round = -1;
        bool renamed;
        rc = persist(pv, &pv->rec, &renamed);
        if (rc)
            esg_errf(errbuf, errlen, rc, "cannot create validator state file '%s': %s", path,
                 strerror(errno));
    }
    if (rc) {
        esg_privval_close(pv);
        return rc;
    }
    *out = pv;
    return ESG_OK;
}

const esg_pubkey *esg_privval_pubkey(const esg_privval *pv) {
    assert(pv);
    return &pv->pk;
}

esg_hash esg_privval_proposal_hash(const char *chain_id, uint64_t height, uint32_t round,
                                   int32_t valid_round, const esg_hash *block) {
    assert(chain_id && block);
    esg_pb_proposal_sign_doc doc = ESG_PB_PROPOSAL_SIGN_DOC_INIT;
    doc.chain_id = (char *)(uintptr_t)chain_id;
    doc.height = height;
    doc.round = round;
    doc.valid_round = valid_round;
    doc.block_hash = esg_pb_bin(block->b, 32);
    /* A few dozen bytes plus the chain id (at most 64 characters). */
    uint8_t buf[256];
    size_t len = protobuf_c_message_get_packed_size(&doc.base);
    assert(len <= sizeof buf);
    protobuf_c_message_pack(&doc.base, buf);
    return esg_hash_tagged(ESG_TAG_PROPOSAL, buf, len);
}

static int cmp_hrs(uint64_t h, uint32_t r, esg_privval_step s, const esg_privval_record *rec) {
    if (h != rec->height)
        return h < rec->height ? -1 : 1;
    if (r != rec->round)
        return r < rec->round ? -1 : 1;
    if (s != rec->step)
        return s < rec->step ? -1 : 1;
    return 0;
}

/* The FilePV rule, then sign, persist, release. */
static int sign_step(esg_privval *pv, esg_sig *sig, uint64_t height, uint32_t round,
                     esg_privval_step step, const esg_hash *hash, const esg_cons_lock *lock) {
    assert(height >= 1 && round <= ESG_CONS_MAX_ROUND);
    assert(lock && lock->height == height && lock->locked_round >= -1 &&
           (int64_t)lock->locked_round <= (int64_t)lock->round);
    memset(sig, 0, sizeof *sig);
    if (pv->failed)
        return ESG_ERR_IO;
    int c = cmp_hrs(height, round, step, &pv->rec);
    if (c < 0)
        return ESG_ERR_DOUBLE_SIGN;
    if (c == 0) {
        if (!esg_hash_eq(hash, &pv->rec.sign_hash))
            return ESG_ERR_DOUBLE_SIGN;
        *sig = pv->rec.sig;
        return ESG_OK;
    }
    esg_privval_record next;
    memset(&next, 0, sizeof next);
    next.height = height;
    next.round = round;
    next.step = step;
    next.locked_round = lock->locked_round;
    if (lock->locked_round >= 0)
        next.locked = lock->locked;
    next.sign_hash = *hash;
    int rc = esg_sign(&next.sig, &pv->key, hash);
    if (rc)
        return rc;
    bool renamed;
    rc = persist(pv, &next, &renamed);
    if (rc) {
        if (renamed)
            pv->failed = true;
        return rc;
    }
    pv->rec = next;
    *sig = next.sig;
    return ESG_OK;
}

int esg_privval_sign_vote(esg_privval *pv, esg_sig *sig, const char *chain_id,
                          esg_cons_vote_type type, uint64_t height, uint32_t round,
                          const esg_hash *block, const esg_cons_lock *lock) {
    assert(pv && sig && chain_id);
    assert(type == ESG_CONS_PREVOTE || type == ESG_CONS_PRECOMMIT);
    bool nil = !block || esg_hash_is_zero(block);
    esg_hash h = esg_vote_hash(chain_id, (int)type, height, round, nil ? NULL : block);
    return sign_step(pv, sig, height, round,
                     type == ESG_CONS_PREVOTE ? ESG_PRIVVAL_STEP_PREVOTE
                                              : ESG_PRIVVAL_STEP_PRECOMMIT,
                     &h, lock);
}

int esg_privval_sign_proposal(esg_privval *pv, esg_sig *sig, const char *chain_id,
                              uint64_t height, uint32_t round, int32_t valid_round,
                              const esg_hash *block, const esg_cons_lock *lock) {
    assert(pv && sig && chain_id && block && !esg_hash_is_zero(block));
    assert(valid_round >= -1 && (int64_t)valid_round < (int64_t)round);
    esg_hash h = esg_privval_proposal_hash(chain_id, height, round, valid_round, block);
    return sign_step(pv, sig, height, round, ESG_PRIVVAL_STEP_PROPOSE, &h, lock);
}

void esg_privval_state(const esg_privval *pv, esg_privval_record *out) {
    assert(pv && out);
    *out = pv->rec;
}

void esg_privval_start_state(const esg_privval *pv, uint64_t next_height,
                             esg_cons_start_state *out) {
    assert(pv && out && next_height >= 1);
    memset(out, 0, sizeof *out);
    out->height = next_height;
    out->locked_round = -1;
    if (pv->rec.step != ESG_PRIVVAL_STEP_NONE && pv->rec.height == next_height) {
        out->round = pv->rec.round;
        out->locked_round = pv->rec.locked_round;
        out->locked = pv->rec.locked;
    }
}
