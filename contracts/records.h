/* Small helpers shared by the contract files: loading and storing the
 * records every area touches (members, accounts, params, KPIs), the
 * permission checks on a transaction's signer, sorted string sets, and safe
 * quoting of untrusted text in rejection messages.
 *
 * Conventions (the whole of contracts/ follows them):
 * - A "get" returns 0 and a decoded record the caller frees with
 *   esg_pb_free(), ESG_ERR_NOT_FOUND when there is none, or a storage error
 *   (ESG_ERR_STORE, ESG_ERR_STORE_CORRUPT, ESG_ERR_MAP_FULL, ESG_ERR_NOMEM).
 *   On error *out is NULL.
 * - A "require" checks a rule for a transaction and, when it fails, records
 *   the message in ctx (esg_tx_fail) and returns the rule's error code, so a
 *   contract can `if ((rc = esg_rec_require_...(ctx, ...)) != 0) return rc;`.
 * - Records are written from messages the encoder only reads: to change a
 *   decoded record, write a shallow copy whose changed fields point at the
 *   caller's data, and never store a pointer the decoded tree does not own
 *   into the decoded record itself (esg_pb_free would free it).
 *
 * Strings in transactions are untrusted: they are valid UTF-8 (the codec
 * checks that) but of any length and content. Validate them before using
 * them as keys, and quote them in messages with esg_rec_quote().
 *
 * Everything here is deterministic and allocation-local: nothing returned
 * outlives the caller's release of it. Thread rules are those of the state
 * view passed in.
 */
#ifndef ESG_CONTRACTS_RECORDS_H
#define ESG_CONTRACTS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/contract.h"
#include "ledger/state.h"

/* ------------------------------------------------------------ records */

/* Loads member `id`. An id that is not a valid member id
 * (esg_member_id_valid) is simply not found. */
int esg_rec_member_get(esg_state *st, const char *id, esg_pb_member **out);

/* Writes `m` under ESG_T_MEMBERS/m->id. m->id must be a valid member id
 * (asserted). Returns 0 or a storage error. */
int esg_rec_member_put(esg_state *st, const esg_pb_member *m);

/* Loads the account of `pk`. */
int esg_rec_account_get(esg_state *st, const esg_pubkey *pk, esg_pb_account **out);

/* Writes `a` under ESG_T_ACCOUNTS/a->pubkey (32 bytes, asserted). Does not
 * touch the member-account index (esg_exec_member_account_link). */
int esg_rec_account_put(esg_state *st, const esg_pb_account *a);

/* Loads the chain parameters (ESG_T_PARAMS, key ""). Their absence is
 * ESG_ERR_STORE_CORRUPT: genesis always writes them. */
int esg_rec_params_get(esg_state *st, esg_pb_params **out);

/* Loads KPI `id`. An id that is not a valid KPI id is not found. */
int esg_rec_kpi_get(esg_state *st, const char *id, esg_pb_kpi **out);

/* True when the account holds `role` (ESG_ROLE_ADMIN, ESG_ROLE_OFFICER). */
bool esg_rec_account_has_role(const esg_pb_account *a, int role);

/* Counts the live (not revoked) accounts of `member` holding `role`
 * (ESG_ROLE_UNSPECIFIED counts every live account) into *n. Returns 0 or a
 * storage error. */
int esg_rec_member_count_accounts(esg_state *st, const char *member, int role,
                                  size_t *n);

/* Calls fn(member, arg) for every member record in id order, stopping at
 * the first non-zero return (which is returned). `member` is valid during
 * the call only. fn must not write state. Returns 0, fn's value or a
 * storage error. */
int esg_rec_member_each(esg_state *st,
                        int (*fn)(const esg_pb_member *member, void *arg),
                        void *arg);

/* ---------------------------------------------------- signer checks */

/* Requires that the signer's account holds `role`; otherwise
 * ESG_ERR_UNAUTHORIZED ("account '<hex>' of 'city-a' lacks role ADMIN"). */
int esg_rec_require_role(esg_tx_ctx *ctx, int role);

/* Loads the signer's member into *out (caller frees). The executor has
 * checked it exists and is not suspended, so any error is a storage error
 * (a missing record is ESG_ERR_STORE_CORRUPT). */
int esg_rec_signer_member(esg_tx_ctx *ctx, esg_pb_member **out);

/* Requires that the signer's member is of `kind` (ESG_MEMBER_CITY, ...);
 * otherwise ESG_ERR_UNAUTHORIZED ("member 'verifier-a' is a VERIFIER, not
 * a CITY"). On success the member is stored in *out when out is not NULL
 * (caller frees); on error *out is NULL. */
int esg_rec_require_kind(esg_tx_ctx *ctx, int kind, esg_pb_member **out);

/* Requires that `id` names an existing member: ESG_ERR_BAD_MEMBER_ID when
 * it is not a valid id, ESG_ERR_UNKNOWN_MEMBER when there is no such
 * member. `what` names the field in the message ("operator"). On success
 * the member is stored in *out when out is not NULL (caller frees). */
int esg_rec_require_member(esg_tx_ctx *ctx, const char *id, const char *what,
                           esg_pb_member **out);

/* ------------------------------------------------------ string sets */

/* A sorted (strcmp order) set of distinct strings. The set owns only its
 * array: the strings are borrowed and must outlive it. Initialize with
 * ESG_STRSET_INIT or esg_strset_init, release with esg_strset_release.
 * An esg_strset's v/n can be stored directly into a repeated string field
 * of a message that is about to be encoded ("sorted, unique" lists such as
 * MemberRecord.accredited_categories). */
typedef struct esg_strset {
    char **v;
    size_t n, cap;
} esg_strset;

#define ESG_STRSET_INIT {NULL, 0, 0}

void esg_strset_init(esg_strset *s);

/* Frees the array (not the strings) and empties the set. */
void esg_strset_release(esg_strset *s);

/* Adds each of the n strings of `items` (duplicates collapse). Returns 0
 * or ESG_ERR_NOMEM (the set then holds a prefix of the additions). */
int esg_strset_add_all(esg_strset *s, char *const *items, size_t n);

/* Adds `x` (no-op when present). Returns 0 or ESG_ERR_NOMEM. */
int esg_strset_add(esg_strset *s, const char *x);

/* Removes `x`; returns whether it was present. */
bool esg_strset_remove(esg_strset *s, const char *x);

/* True when `x` is in the set. */
bool esg_strset_has(const esg_strset *s, const char *x);

/* True when `x` is one of the n strings of `items` (any order). */
bool esg_str_in(const char *x, char *const *items, size_t n);

/* -------------------------------------------------------- text, errors */

/* A printable excerpt of untrusted text for a rejection message: at most
 * 40 bytes of printable ASCII, other bytes shown as '?', "..." appended when
 * cut. Always valid ASCII, so a message stays valid UTF-8 and JSON. */
typedef struct esg_quoted { char s[48]; } esg_quoted;
esg_quoted esg_rec_quote(const char *s);

/* True when `s` is valid UTF-8 of 1..max_chars code points with no control
 * character (U+0000..U+001F, U+007F..U+009F): units, short labels. */
bool esg_rec_text_valid(const char *s, size_t max_chars);

/* True for the errors a contract must pass through rather than turn into a
 * rule outcome: storage failures, corruption, memory, internal errors. */
bool esg_rec_is_fatal(int err);

/* Writes v as 8 bytes big-endian into out and returns out (index keys). */
uint8_t *esg_rec_be64(uint8_t out[8], uint64_t v);

/* The ids or keys that an index table's row keys end with (their last 32
 * bytes), gathered during esg_state_iter so that the records they name are
 * read after the iteration, which must not write. Pass
 * esg_rec_collect_tail32 as the callback and a zeroed list; free `v`
 * afterwards. A key of fewer than 33 bytes (no prefix) is
 * ESG_ERR_STORE_CORRUPT, a full allocation ESG_ERR_NOMEM. */
typedef struct esg_rec_tail32 {
    esg_hash *v;
    size_t n, cap;
} esg_rec_tail32;
int esg_rec_collect_tail32(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                           void *arg);

/* A growable array of decoded records, each freed with esg_pb_free by
 * esg_rec_msgs_free. Zero-initialize. */
typedef struct esg_rec_msgs {
    void **v;
    size_t n, cap;
} esg_rec_msgs;
/* Appends m (taking it: on ESG_ERR_NOMEM m is freed). */
int esg_rec_msgs_push(esg_rec_msgs *a, void *m);
void esg_rec_msgs_free(esg_rec_msgs *a);
/* Decodes every record of table t whose key starts with prefix (plen
 * bytes), as `desc`, in key order, into *out (esg_rec_msgs_free it). A
 * record that does not decode is ESG_ERR_STORE_CORRUPT. On an error *out
 * is left empty. */
int esg_rec_load_rows(esg_state *st, esg_table t, const void *prefix, size_t plen,
                      const ProtobufCMessageDescriptor *desc, esg_rec_msgs *out);

#endif
