/* Shared by the two files that build the ledger's documents:
 * contracts/reports.c (instruments, holders, payments, allocations,
 * impact, attributed impact) and contracts/reports_gbs.c (projects, the
 * EU GBS allocation and impact reports for a period, the KPI comparison
 * across cities). Not a public interface: contracts/reports.h is.
 *
 * The JSON builders follow one convention: each takes `int *rc` and
 * records the first failure there (ESG_ERR_NOMEM when jansson returns
 * NULL), so a document is built straight through and checked once. */
#ifndef ESG_CONTRACTS_REPORTS_INTERNAL_H
#define ESG_CONTRACTS_REPORTS_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "ledger/state.h"

/* "reading <what>: <message of rc>" into err; returns rc. */
int esg_rj_store_err(char *err, size_t errlen, int rc, const char *what);
/* obj[key] = v / append v to arr, taking v (see above for rc). */
void esg_rj_set(json_t *obj, const char *key, json_t *v, int *rc);
void esg_rj_push(json_t *arr, json_t *v, int *rc);
/* Lowercase hex; a bytes field as hex or null when empty. */
json_t *esg_rj_hex(const void *data, size_t len);
json_t *esg_rj_hex_or_null(const esg_pb_bytes *b);
/* Heights, counts, basis points as numbers; money and units as decimal
 * strings; impact values in thousandths as "1234.567". */
json_t *esg_rj_num(uint64_t v);
json_t *esg_rj_money(uint64_t v);
json_t *esg_rj_milli(int64_t v);
/* Enum value v of field `field` of message md, by its short name. */
json_t *esg_rj_enum(const ProtobufCMessageDescriptor *md, const char *field, int v);
/* floor(part x 10000 / whole); 0 when whole is 0. */
json_t *esg_rj_bps(uint64_t part, uint64_t whole);
/* "time" (RFC 3339, null past 9999) and "time_ms" on obj. */
void esg_rj_set_time(json_t *obj, uint64_t ms, int *rc);
/* A record another record names: its absence is ESG_ERR_STORE_CORRUPT. */
int esg_rj_get_linked(esg_state *st, esg_table t, const esg_pb_bytes *id,
                      const ProtobufCMessageDescriptor *desc, void **out);
/* Checks an instrument id and loads it, with the documents' errors. */
int esg_rj_instrument_load(esg_state *st, const char *id, esg_pb_instrument_record **ins,
                           char *err, size_t errlen);
/* Hands o out in *out, or drops it and returns rc with its message. */
int esg_rj_finish(int rc, json_t *o, json_t **out, char *err, size_t errlen,
                  const char *what);
/* qsort orders: allocations and reports by height, then id. */
int esg_rj_allocation_cmp(const void *a, const void *b);
int esg_rj_report_cmp(const void *a, const void *b);
/* One attestation; one report with its attestations, disputes and
 * whether (and what) it counts. */
json_t *esg_rj_attestation_json(const esg_pb_attestation *a, int *rc);
json_t *esg_rj_report_json(esg_state *st, const esg_pb_report *r, int *rc);

/* The EU objectives of a project as names ["CCM", ...]. */
json_t *esg_rj_objectives(const esg_pb_project_record *p, int *rc);
/* Adds refinancing, reversed and (when reversed) the reversal's fields to
 * an allocation's JSON. */
void esg_rj_allocation_status(json_t *x, const esg_pb_allocation *a, int *rc);

struct esg_report_period;
/* The EU GBS sections of the allocation and impact documents
 * (contracts/reports.h), added to o; period NULL means all of time. */
void esg_rj_allocation_gbs(esg_state *st, const esg_pb_instrument_record *ins,
                           const struct esg_report_period *period, json_t *o, int *rc);
void esg_rj_impact_gbs(esg_state *st, const esg_pb_instrument_record *ins,
                       const struct esg_report_period *period, json_t *o, int *rc);

#endif
