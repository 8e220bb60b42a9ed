/* Genesis: the file that starts a chain (docs/GENESIS.md, a contract).
 *
 * A genesis file is JSON naming the chain, its start time, its parameters,
 * the founding members with their accounts, the first validator set, the
 * KPI catalogue and the verifiers' accreditations. This module parses and
 * validates that file into a plain C struct (esg_genesis), writes one back
 * out (for `esgnode genesis new`) and computes the genesis hash. It knows
 * nothing of LMDB or of the state layer: another module turns the struct
 * into the initial state.
 *
 * The genesis hash is H("esg/genesis", file bytes): the hash of the exact
 * bytes of the file, not of a re-encoding. A genesis file is therefore
 * distributed byte for byte: every node and every auditor must use the very
 * same file, and reformatting it (even whitespace) makes another chain.
 *
 * Rules (esg_genesis_validate; esg_genesis_parse applies them too):
 *   chain_id       1..64 characters of [A-Za-z0-9._-]
 *   genesis_time   RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ" (".mmmZ" also
 *                  accepted), 1970..9999
 *   params         optional, as is each of its keys (defaults below);
 *                  governance_threshold_bps 5001..10000, proposal_ttl_blocks
 *                  >= 1, max_block_txs >= 1, max_block_bytes 2 MiB..64 MiB
 *   members        non-empty; ids [a-z0-9-]{2,40} and unique; kind CITY,
 *                  INVESTOR, VERIFIER, PAYING_AGENT or AUDITOR (any case);
 *                  name 1..200 characters; country absent, "" or two
 *                  upper-case letters; lei absent or a Legal Entity
 *                  Identifier (ISO 17442, esg_lei_valid: 20 characters
 *                  with valid check digits); population absent or a JSON
 *                  integer 1..10^10 (inhabitants; an explicit 0, like an
 *                  explicit "" lei, is refused: leave the key out); at
 *                  least one account each; at least one CITY member
 *   accounts       pubkey: 64 hex characters (either case), a valid x-only
 *                  key, unique among all accounts of all members; roles: a
 *                  non-empty list of distinct "ADMIN" / "OFFICER" (any case)
 *   validators     non-empty; pubkeys valid and unique among validators (a
 *                  validator key may also be an account key: they are
 *                  different tables and sign under different tags); power a
 *                  JSON integer 1..2^60, total power at most 2^60 (so that
 *                  consensus arithmetic cannot overflow); operator an
 *                  existing member
 *   kpis           optional; ids [a-z0-9_]{2,64} and unique; name 1..200
 *                  characters; unit 1..32 characters; category one of
 *                  climate, energy, water, waste, transport, buildings,
 *                  social; direction "higher" or "lower"
 *   accreditations optional; member exists, is a VERIFIER and appears once;
 *                  categories a non-empty list of distinct valid categories
 * Every object (the top level, params, members, accounts, validators, kpis,
 * accreditations) is closed: an unknown key is an error, so that a typo
 * never passes silently. A duplicated key is malformed JSON.
 *
 * Errors: parsing returns ESG_ERR_JSON for bytes that are not JSON and
 * ESG_ERR_GENESIS for any rule violation; the caller's errbuf then names
 * exactly what is wrong: "member 'city-x': unknown kind 'TOWN'",
 * "validator 2: operator 'x' is not a member". Items are named by their id
 * when it is valid, otherwise by their position counted from 1. Functions
 * that take `errbuf, errlen` accept errbuf NULL (errlen 0) when no message
 * is wanted; the message is lower case with no trailing period.
 *
 * Ownership: an esg_genesis and every string and array in it are heap
 * memory owned by the struct and freed by esg_genesis_free. Fields may be
 * read freely; code outside this module changes a genesis only through the
 * builder functions below.
 *
 * Thread rules: no global state; distinct structs may be used from distinct
 * threads, and a struct nobody modifies may be read from many.
 *
 * The small validators and the time and date helpers at the end of this
 * header are shared with the rest of the ledger (governance actions check
 * member ids, names and categories with them; specs use the dates).
 */
#ifndef ESG_GENESIS_H
#define ESG_GENESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/hash.h"

/* Member kinds; the values equal proto MemberKind. */
typedef enum esg_member_kind {
    ESG_KIND_CITY = 1,
    ESG_KIND_INVESTOR = 2,
    ESG_KIND_VERIFIER = 3,
    ESG_KIND_PAYING_AGENT = 4,
    ESG_KIND_AUDITOR = 5
} esg_member_kind;

/* Account roles as bits of a mask. The proto Role values are ADMIN = 1 and
 * OFFICER = 2, which are also these bits. */
enum {
    ESG_ROLE_BIT_ADMIN = 1,
    ESG_ROLE_BIT_OFFICER = 2,
    ESG_ROLE_BITS_ALL = ESG_ROLE_BIT_ADMIN | ESG_ROLE_BIT_OFFICER
};

/* KPI directions; the values equal proto KpiDirection. */
typedef enum esg_kpi_direction {
    ESG_KPI_HIGHER = 1, /* more is better */
    ESG_KPI_LOWER = 2   /* less is better */
} esg_kpi_direction;

/* Parameter defaults (used when the file leaves a parameter out) and
 * bounds. */
#define ESG_DEFAULT_GOVERNANCE_THRESHOLD_BPS 6667u
#define ESG_DEFAULT_PROPOSAL_TTL_BLOCKS 10000u
#define ESG_DEFAULT_MAX_BLOCK_TXS 10000u
#define ESG_DEFAULT_MAX_BLOCK_BYTES 8388608u
/* An empty block must hold the largest transaction (ESG_TX_MAX_BYTES, 1
 * MiB) with room for the header, or a valid transaction could never be
 * included and a governance vote could set a size that halts the chain. */
#define ESG_MIN_BLOCK_BYTES (2u * 1024 * 1024)
#define ESG_MAX_BLOCK_BYTES (64u * 1024 * 1024)
#define ESG_MAX_VALIDATOR_POWER (UINT64_C(1) << 60)
#define ESG_GENESIS_MAX_FILE (16u * 1024 * 1024)
/* A member's population, when given, is 1..ESG_MAX_POPULATION inhabitants
 * (genesis and the AddMember proposal alike). */
#define ESG_MAX_POPULATION UINT64_C(10000000000)

typedef struct esg_genesis_account {
    esg_pubkey pubkey;
    unsigned roles; /* ESG_ROLE_BIT_* */
} esg_genesis_account;

typedef struct esg_genesis_member {
    char *id;
    char *name;
    char *country; /* "" when not given, never NULL */
    char *lei;     /* ISO 17442 LEI; "" when not given, never NULL */
    uint64_t population; /* inhabitants; 0 when not given */
    int kind;      /* esg_member_kind */
    esg_genesis_account *accounts;
    size_t n_accounts;
} esg_genesis_member;

typedef struct esg_genesis_validator {
    esg_pubkey pubkey;
    uint64_t power;
    char *operator_id; /* a member id */
} esg_genesis_validator;

typedef struct esg_genesis_kpi {
    char *id;
    char *name;
    char *unit;
    char *category;
    int direction; /* esg_kpi_direction */
} esg_genesis_kpi;

typedef struct esg_genesis_accreditation {
    char *member;
    char **categories;
    size_t n_categories;
} esg_genesis_accreditation;

typedef struct esg_genesis_params {
    uint32_t governance_threshold_bps;
    uint64_t proposal_ttl_blocks;
    uint64_t max_block_txs;
    uint64_t max_block_bytes;
} esg_genesis_params;

typedef struct esg_genesis {
    char *chain_id;
    uint64_t genesis_time_ms; /* unix milliseconds */
    esg_genesis_params params;
    esg_genesis_member *members;
    size_t n_members;
    esg_genesis_validator *validators;
    size_t n_validators;
    esg_genesis_kpi *kpis;
    size_t n_kpis;
    esg_genesis_accreditation *accreditations;
    size_t n_accreditations;
    /* H("esg/genesis", file bytes), set by esg_genesis_parse/load. A genesis
     * made with the builder has an all-zero hash: write it out, and the
     * hash is that of the file (load it back to get it). */
    esg_hash hash;
} esg_genesis;

/* ------------------------------------------------------------ parsing */

/* Parses and validates the `len` genesis bytes at `json` into a new
 * esg_genesis stored in *out, and sets its hash to H("esg/genesis", those
 * exact bytes). The caller frees *out with esg_genesis_free.
 * Returns 0, ESG_ERR_JSON (not JSON, a duplicated key, bad UTF-8),
 * ESG_ERR_GENESIS (a rule above is broken) or ESG_ERR_NOMEM; on error *out
 * is NULL and errbuf says what is wrong. */
int esg_genesis_parse(esg_genesis **out, const uint8_t *json, size_t len,
                      char *errbuf, size_t errlen);

/* Reads the file at `path` and parses it as esg_genesis_parse does.
 * Returns 0, ESG_ERR_IO (cannot open or read it), ESG_ERR_TOO_LARGE (over
 * ESG_GENESIS_MAX_FILE = 16 MiB), or any error of esg_genesis_parse. */
int esg_genesis_load(esg_genesis **out, const char *path, char *errbuf,
                     size_t errlen);

/* Frees `g` and everything it owns. NULL is a no-op. */
void esg_genesis_free(esg_genesis *g);

/* Checks every rule above on `g` (however it was made).
 * Returns 0 or ESG_ERR_GENESIS with errbuf naming the first broken rule
 * found (ESG_ERR_NOMEM if the check cannot allocate its indexes). */
int esg_genesis_validate(const esg_genesis *g, char *errbuf, size_t errlen);

/* Writes `g` as pretty JSON (two-space indent, keys in the order of
 * docs/GENESIS.md, a final newline) into a new NUL-terminated buffer *out of
 * *len bytes (not counting the NUL), which the caller frees with free().
 * Every key is written, parameters included, except "country" and "lei"
 * when they are "" and "population" when it is 0. Pubkeys are lower-case
 * hex, roles upper case, "power" and "population" integers.
 * For a valid g, esg_genesis_parse of the output gives back g (and writing
 * that again gives the same bytes). No rule is checked here: call
 * esg_genesis_validate first.
 * Returns 0, ESG_ERR_GENESIS if a field cannot be written at all (a kind,
 * role or direction out of range, a time past year 9999, a string that is
 * not UTF-8), or ESG_ERR_NOMEM; *out is NULL on error. */
int esg_genesis_to_json(const esg_genesis *g, char **out, size_t *len);

/* ------------------------------------------------------------ builder */
/* For `esgnode genesis new`. The add functions copy their strings and
 * check no rule: build, then call esg_genesis_validate, whose message names
 * the bad item. Each returns 0 or ESG_ERR_NOMEM (`g` is unchanged then). */

/* Returns a new genesis with `chain_id`, the time `time_ms` (unix ms),
 * default parameters and nothing else, or NULL when out of memory. Free it
 * with esg_genesis_free. */
esg_genesis *esg_genesis_new(const char *chain_id, uint64_t time_ms);

/* Appends a member with one account, `admin`, holding roles ADMIN and
 * OFFICER. `country` may be NULL (stored as ""). The member has no LEI
 * and no population until they are set below. */
int esg_genesis_add_member(esg_genesis *g, const char *id, int kind,
                           const char *name, const char *country,
                           const esg_pubkey *admin);

/* Sets the LEI (copied; "" clears it) or the population (0 clears it) of
 * the member `member`. Returns 0, ESG_ERR_NOMEM (the member is unchanged),
 * or ESG_ERR_UNKNOWN_MEMBER if no member has that id yet. */
int esg_genesis_set_lei(esg_genesis *g, const char *member, const char *lei);
int esg_genesis_set_population(esg_genesis *g, const char *member,
                               uint64_t population);

/* Appends an account with `roles` (ESG_ROLE_BIT_*) to the member `member`.
 * Returns 0, ESG_ERR_NOMEM, or ESG_ERR_UNKNOWN_MEMBER if no member has that
 * id yet. */
int esg_genesis_add_account(esg_genesis *g, const char *member,
                            const esg_pubkey *pk, unsigned roles);

/* Appends a validator operated by the member `operator_id`. */
int esg_genesis_add_validator(esg_genesis *g, const esg_pubkey *pk,
                              uint64_t power, const char *operator_id);

/* Appends a KPI (`direction` is an esg_kpi_direction). */
int esg_genesis_add_kpi(esg_genesis *g, const char *id, const char *name,
                        const char *unit, const char *category, int direction);

/* Appends the ICMA core KPI catalogue (Harmonised Framework for Impact
 * Reporting): ghg_avoided_tco2e, ghg_emissions_tco2e, renewable_capacity_mw,
 * renewable_generation_mwh, energy_saved_mwh, water_saved_m3,
 * wastewater_treated_m3, waste_diverted_t, clean_transport_passengers,
 * green_floor_area_m2, affordable_housing_units and beneficiaries. Ids
 * already in `g` end up duplicated, which esg_genesis_validate reports. */
int esg_genesis_add_default_kpis(esg_genesis *g);

/* Appends an accreditation of `member` for the comma-separated categories
 * `categories_csv` ("climate,energy"). Each piece is stored as given (an
 * empty piece becomes "", which validation rejects). */
int esg_genesis_add_accreditation(esg_genesis *g, const char *member,
                                  const char *categories_csv);

/* ------------------------------------------- shared names and validators */

/* "CITY", "INVESTOR", "VERIFIER", "PAYING_AGENT", "AUDITOR"; "UNKNOWN" for
 * any other value. Static storage. */
const char *esg_member_kind_name(int kind);

/* The kind named `s` in any case ("city", "Paying_Agent"), 0 if none. */
int esg_member_kind_parse(const char *s);

/* "ADMIN" or "OFFICER" for one ESG_ROLE_BIT_*, "UNKNOWN" otherwise. */
const char *esg_role_name(unsigned bit);

/* The ESG_ROLE_BIT_* named `s` in any case, 0 if none. */
unsigned esg_role_parse(const char *s);

/* "higher" / "lower"; "unknown" for any other value. */
const char *esg_kpi_direction_name(int direction);

/* ESG_KPI_HIGHER for "higher", ESG_KPI_LOWER for "lower" (exact), else 0. */
int esg_kpi_direction_parse(const char *s);

/* True for climate, energy, water, waste, transport, buildings, social
 * (exact, lower case). False for NULL. */
bool esg_kpi_category_valid(const char *s);

/* True when `s` matches [a-z0-9-]{2,40}. False for NULL. */
bool esg_member_id_valid(const char *s);

/* True when `s` matches [a-z0-9_]{2,64}. False for NULL. */
bool esg_kpi_id_valid(const char *s);

/* True when `s` matches [A-Za-z0-9._-]{1,64}. False for NULL. */
bool esg_chain_id_valid(const char *s);

/* True when `s` is "" (no country given) or two upper-case ASCII letters
 * (ISO 3166-1 alpha-2 shape; the code list itself is not checked). */
bool esg_country_valid(const char *s);

/* True when `s` is valid UTF-8 of 1..200 code points with no control
 * character (U+0000..U+001F, U+007F..U+009F). Member and KPI names. */
bool esg_name_valid(const char *s);

/* --------------------------------------------------------- time, dates */
/* Proleptic Gregorian calendar, UTC, computed by civil-from-days
 * arithmetic: nothing here reads TZ or calls libc time functions. */

/* Writes `ms` (unix milliseconds) as "YYYY-MM-DDTHH:MM:SSZ", or as
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" when ms is not a whole second, into `out`.
 * Returns 0, or ESG_ERR_BAD_DATE if the time is past 9999-12-31T23:59:59.999Z
 * (out is then ""). */
int esg_time_format_rfc3339(uint64_t ms, char out[32]);

/* Parses exactly "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * (upper-case T and Z, three fraction digits, no offset other than Z, no
 * leap second, year 1970..9999, real calendar dates) into *ms.
 * Returns 0 or ESG_ERR_BAD_DATE (*ms unchanged). NULL `s` is bad input. */
int esg_time_parse_rfc3339(const char *s, uint64_t *ms);

/* Parses exactly "YYYY-MM-DD" (year 0001..9999, a real calendar date) into
 * days since 1970-01-01 (negative before). Returns 0 or ESG_ERR_BAD_DATE
 * (*days unchanged). NULL `s` is bad input. */
int esg_date_parse(const char *yyyy_mm_dd, int32_t *days_since_epoch);

/* Writes day `days` since 1970-01-01 as "YYYY-MM-DD". A day outside
 * 0001-01-01..9999-12-31 is written "0000-00-00", which esg_date_parse
 * rejects. */
void esg_date_format(int32_t days, char out[11]);

#endif
