/* Fuzz target: contract execution. Byte-level fuzzing of transactions stops
 * at the decoder (protobuf-c is not instrumented), so this target builds
 * VALID signed transactions from the input instead and runs them, as one
 * block, through the real executor (esg_exec_build_block) with the real
 * contract table (esg_contracts()) on a real LMDB store.
 *
 * The base chain is made once per process, in a private directory
 * (fuzz_util.h), and never changes: esg_exec_build_block applies the block
 * in a write transaction that it aborts, so every input starts from the
 * same state. That state, committed in two blocks at 2026-01-20 and -21:
 *   members  city-a, city-b, city-c (CITY), inv-1, inv-2 (INVESTOR), ver-1
 *            (VERIFIER, accredited for "climate"), agent (PAYING_AGENT),
 *            aud-1 (AUDITOR); keys K1..K9 below; the ICMA KPI catalogue
 *   PR-1     project of city-a registered by RegisterProject (EUR, CCM and
 *            CCA, taxonomy 7.6, NACE F43.2, cost 4000000, raised to 4500000
 *            by UpdateProject in the second block), financed by nothing
 *   PU-1     project of city-b registered by RegisterProject in USD
 *   GB-1     green bond of city-a 50 % (PA-1), city-b 30 % (PB-1), city-c
 *            20 % (PC-1), inline projects registered by the issuance,
 *            2026-01-15..2028-01-15 annual (look-back 36 months: allocations
 *            from 2023-01-15), ACTIVE, inv-1 600 and inv-2 300 units;
 *            allocations AL1 (1000000 to PA-1 on 2026-01-20, live) and AL2
 *            (500000 to PB-1 on 2025-06-01, refinancing, reversed in the
 *            second block); reports R1 (PA-1, ghg_avoided_tco2e, attested
 *            CONFIRMED by ver-1 as A1) and R2 (PB-1, energy_saved_mwh, of
 *            no instrument, not attested), both 2026-01-01..2026-01-20
 *   FU1/FU2  external fundings: FU1 EU "ERDF 2021-2027" 200000 to PA-1 on
 *            2026-01-18 (live), FU2 NATIONAL 300000 to PB-1 on 2026-01-10
 *            (reversed in the second block)
 *   SLB-1    sustainability-linked bond of city-a (PS-1), target on
 *            ghg_avoided_tco2e observed 2027-01-01, semiannual, ACTIVE,
 *            inv-1 5000 units
 *   OFF-1    green loan of city-b (PO-1), quarterly, still OFFERING, inv-2
 *            10 units
 *   P0       AddKpi fuzz_kpi_0, executed; P1 AddValidator K11, open, voted
 *            by city-a only, expiring at the end of the fuzzed block
 *            (proposal_ttl_blocks 1)
 * The fuzzed block's date is 2026-01-21 unless the time says otherwise.
 *
 * Keys (secret = SHA-256("esg-fuzz-exec key " i)): K0 the validator,
 * K1 city-a, K2 city-b, K3 city-c, K4 inv-1, K5 inv-2, K6 ver-1, K7 agent
 * (each its member's ADMIN and OFFICER), K8 a second, OFFICER-only account
 * of city-a, K9 aud-1, K10..K13 keys of no account.
 *
 * Input layout. Multi-byte integers are big-endian; a read past the end
 * gives 0, so every input is valid and short ones mean "defaults".
 *   flags  bits 0-2: transactions - 1 (1..8); bit 3: build everything a
 *          second time and compare; bit 4: the block time is a raw u64
 *          (8 bytes) instead of a u16 of hours after the tip
 *   time   u16 hours (or u64 ms), see bit 4
 *   then per transaction:
 *     signer  key index mod 14
 *     action  mod 19: 0 Propose, 1 Vote, 2 AddAccount, 3 RevokeAccount,
 *             4 IssueInstrument, 5 Subscribe, 6 CloseOffering, 7 Transfer,
 *             8 RecordPayment, 9 AllocateProceeds, 10 ReportImpact,
 *             11 AttestImpact, 12 RevokeAttestation, 13 DisputeImpact,
 *             14 RegisterProject, 15 UpdateProject, 16 RecordFunding,
 *             17 ReverseFunding, 18 ReverseAllocation
 *     mode    bits 0-2 nonce: 0-5 the signer's next counting its earlier
 *             transactions in this block, 6 its next in the base state, 7 a
 *             u64 that follows; bits 3-4 signatures: 0-1 the signer and the
 *             co-signers the action needs (esg_contracts_required_cosigners
 *             mapped to the members' admin keys), 2 those plus one extra key
 *             (a key index byte follows, after the nonce's u64 if any), 3
 *             those with the last signature's last byte flipped; bit 5: the
 *             signer alone (no co-signers)
 *     fields  of the action, in the order of build_action() below, each
 *             read by one of the pickers:
 *   STR   v < 0xE0: dictionary[v % n]; 0xE0..0xFE: a length byte and that
 *         many raw bytes (cut at a NUL); 0xFF: u16 L, then "x" repeated L %
 *         1200 times
 *   DATE  v < 0xC0: DATES[v % n]; 0xC0..0xCF: u16 d, 2025-01-01 + d % 4000
 *         days; 0xD0..0xDF: the block's date + (v - 0xD8) days (-8..+7);
 *         else as STR
 *   U64(d) / I64(d)  v < 16: the special values of pick_u64 / pick_i64
 *         (0, 1, u8, u16, u32, u64 read from the input, limits, overflow
 *         edges); 16..127: the typical value d; 128..255: v - 128
 *   U64E(d, e)  as U64(d), but 126 gives the field's limit e and 127 e + 1
 *   SMALL(n)  v % n
 *   HASH  v % 8: 0 empty, 1 31 bytes, 2 33 bytes, 3 32 input bytes, else
 *         32 bytes of 0xab
 *   REF   (report, attestation, proposal, allocation, funding ids) v < 0x80:
 *         the base ids R1, R2, A1, P0, P1, GB-1's issue tx, AL1, AL2, FU1,
 *         FU2 [v % 10]; 0x80..0xBF: the id of transaction (v & 7) of this
 *         block if it is an earlier one (32 zero bytes otherwise); 0xC0
 *         empty; 0xC1 31 bytes; 0xC2 32 input bytes; else 32 zero bytes
 *   KEY   v % 20: 0-13 the public key of K(v); 14 zeros; 15 0xff x 32
 *         (not on the curve); 16 31 bytes; 17 32 input bytes; 18 33 bytes;
 *         19 K11
 * IssueInstrument reads a template (SMALL(6), sb_template()) and a u24
 * mask of the spec fields to replace (sb_mutate()); a replaced project list
 * gives each project a form (SMALL(4): bit 0 inline city and name, else a
 * reference to a registered project; bit 1 the EU GBS fields, which a
 * reference may not carry).
 * tests/fuzz/exec_seeds.py writes the seed corpus in this encoding.
 *
 * Checks, beyond "does not crash, leak or trip a sanitizer":
 * - esg_exec_build_block returns 0 (no store error) and makes a block
 *   (allow_empty); every item's result is 0 or a known error code, with a
 *   message when it is an error; n_included counts the results that are 0.
 * - The block it built passes esg_exec_check_block, which re-applies it from
 *   its bytes (signatures verified again): the proposer and every validator
 *   agree on it.
 * - The store is not changed: its tip is the base tip after every input.
 * - With flags bit 3: building the same input again (fresh signatures)
 *   gives the same results, messages, block hash and app hash.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contracts/contracts.h"
#include "contracts/instrument.h"
#include "contracts/projects.h"
#include "fuzz/fuzz_chain.h"
#include "fuzz/fuzz_util.h"
#include "ledger/block.h"
#include "ledger/codec.h"
#include "ledger/error.h"
#include "ledger/executor.h"
#include "ledger/genesis.h"
#include "ledger/keys.h"
#include "ledger/store.h"
#include "ledger/txbuild.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHAIN "esg-fuzz-exec"
#define GENESIS_MS UINT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define DAY_MS UINT64_C(86400000)
#define N_KEYS 14
#define MAX_TXS 8
#define MAX_SIGS 16

/* ------------------------------------------------------------ the cast */

enum { K_VAL, K_CA, K_CB, K_CC, K_INV1, K_INV2, K_VER, K_AGENT, K_CA2, K_AUD, K_SPARE };

typedef struct fz_key {
    esg_seckey sk;
    esg_pubkey pk;
} fz_key;

/* The base chain and the fuzzer's tables. One per process (a fuzz target
 * has no main() to own it). */
static struct {
    esg_store *store;
    const esg_contract_table *ct;
    fz_key keys[N_KEYS];
    uint64_t nonce[N_KEYS];     /* base-state nonces */
    esg_store_meta tip;
    esg_hash base_ids[10];      /* R1, R2, A1, P0, P1, GB-1's issue tx, AL1, AL2,
                                 * FU1, FU2 */
    bool trace;                 /* ESG_FUZZ_EXEC_TRACE set: print each result */
} g_fz;

/* Member ids and the key that is each one's admin, for co-signatures. */
static const struct {
    const char *id;
    int key;
} MEMBER_KEYS[] = {
    {"city-a", K_CA}, {"city-b", K_CB}, {"city-c", K_CC}, {"inv-1", K_INV1},
    {"inv-2", K_INV2}, {"ver-1", K_VER}, {"agent", K_AGENT}, {"aud-1", K_AUD},
};

/* Dictionaries of the STR and DATE pickers (exec_seeds.py mirrors their
 * order: append only). */
static const char *const MEMBERS[] = {
    "city-a", "city-b", "city-c", "inv-1", "inv-2", "ver-1", "agent", "aud-1",
    "city-d", "new-inv", "nobody", "Bad_ID", "x", "",
};
static const char *const INSTRUMENTS[] = {
    "GB-1", "SLB-1", "OFF-1", "NEW-1", "NEW-2", "gb-1", "X", "", "NEW-3",
};
static const char *const PROJECTS[] = {
    "PA-1", "PB-1", "PC-1", "PS-1", "PO-1", "PA-2", "NEW-P", "pa-1", "",
    "PR-1", "PU-1", "AB", "P123456789012345678901234567890123456789",
    "P1234567890123456789012345678901234567890",
};
static const char *const KPIS[] = {
    "ghg_avoided_tco2e", "ghg_emissions_tco2e", "renewable_capacity_mw",
    "renewable_generation_mwh", "energy_saved_mwh", "water_saved_m3",
    "wastewater_treated_m3", "waste_diverted_t", "clean_transport_passengers",
    "green_floor_area_m2", "affordable_housing_units", "beneficiaries",
    "fuzz_kpi_0", "no_such_kpi", "X", "",
};
static const char *const CATEGORIES[] = {
    "climate", "energy", "water", "waste", "transport", "buildings", "social", "bogus", "",
};
static const char *const PARAMS[] = {
    "governance_threshold_bps", "proposal_ttl_blocks", "max_block_txs", "max_block_bytes",
    "bogus",
};
static const char *const TEXTS[] = {
    "", "fuzz", "a reason", "line\nbreak", "\xc3\xa9t\xc3\xa9",
    "https://example.org/evidence.pdf",
};
static const char *const NAMES[] = {"New member", "", "Joint green bond", "a\x7f"};
static const char *const COUNTRIES[] = {"GR", "", "gr", "GRC", "G1"};
static const char *const CURRENCIES[] = {"EUR", "USD", "eur", "EURO", ""};
static const char *const UNITS[] = {"t", "MWh", ""};
static const char *const DATES[] = {
    "2026-01-15", "2027-01-15", "2028-01-15", "2026-07-15", "2027-01-01", "2026-01-01",
    "2025-12-31", "2026-01-20", "2026-04-15", "2026-10-15", "2029-01-15", "2026-02-30",
    "", "9999-12-31", "0001-01-01", "2026-1-15",
    /* the block's date and the day after; GB-1's look-back edge (36 months
     * before its issue date), the day before it and the day before issue
     * (refinancing); the day after maturity; template 3's dates; the
     * 120- and 12-month look-back edges and the days before them; FU1's
     * and AL2's dates */
    "2026-01-21", "2026-01-22", "2023-01-15", "2023-01-14", "2026-01-14", "2028-01-16",
    "2026-02-01", "2027-02-01", "2016-01-15", "2016-01-14", "2025-01-15", "2025-01-14",
    "2026-01-18", "2025-06-01",
};
static const char *const PROGRAMMES[] = {
    "ERDF 2021-2027", "", "Cohesion Fund", "Recovery and Resilience Facility", "a\x01b",
};
static const char *const TAXONOMY[] = {"7.2", "", "4.1", "10.12", "7", "7.2.1", "a.b", "100.1"};
static const char *const NACE[] = {"F41.2", "", "D35.11", "F", "F41", "Z99", "f41.2", "F41.234"};
static const char *const LEIS[] = {
    "5493001KJTIIGC8Y1R12", "", "5493001KJTIIGC8Y1R13", "5493001KJTIIGC8Y1R1",
    "5493001kjtiigc8y1r12",
};
static const char *const ISINS[] = {
    "US0378331005", "AU0000XVGZA3", "", "US0378331006", "us0378331005", "US037833100",
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ the input */

typedef struct rd {
    const uint8_t *p;
    size_t n;
    int32_t day; /* the block's date (days since 1970-01-01), for DATE picks */
} rd;

static uint8_t rd_u8(rd *r) {
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static uint64_t rd_be(rd *r, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | rd_u8(r);
    return v;
}

/* Per-transaction bump allocator for the strings and bytes of the body
 * being built; reset before each transaction. NULL when full. */
static struct {
    uint8_t b[1 << 17];
    size_t used;
} g_arena;

static void *arena_alloc(size_t n) {
    if (n > sizeof g_arena.b - g_arena.used)
        return NULL;
    void *p = g_arena.b + g_arena.used;
    g_arena.used += n;
    return p;
}

static char *pick_raw_str(rd *r, uint8_t v) {
    size_t len = v == 0xFF ? rd_be(r, 2) % 1200 : rd_u8(r);
    char *s = arena_alloc(len + 1);
    if (!s)
        return "";
    if (v == 0xFF) {
        memset(s, 'x', len);
    } else {
        for (size_t i = 0; i < len; i++)
            s[i] = (char)rd_u8(r); /* a NUL ends the string early */
    }
    s[len] = '\0';
    return s;
}

static char *pick_str(rd *r, const char *const *dict, size_t n) {
    uint8_t v = rd_u8(r);
    if (v < 0xE0)
        return (char *)dict[v % n];
    return pick_raw_str(r, v);
}
#define STR(r, dict) pick_str((r), (dict), N_OF(dict))

static char *pick_date(rd *r) {
    uint8_t v = rd_u8(r);
    if (v < 0xC0)
        return (char *)DATES[v % N_OF(DATES)];
    if (v < 0xE0) {
        char *s = arena_alloc(11);
        if (!s)
            return "";
        if (v < 0xD0)
            esg_date_format(20089 /* 2025-01-01 */ + (int32_t)(rd_be(r, 2) % 4000), s);
        else /* past 9999-12-31 it formats as 0000-00-00 */
            esg_date_format(r->day > INT32_MAX - 8 ? r->day : r->day + ((int32_t)v - 0xD8), s);
        return s;
    }
    return pick_raw_str(r, v);
}

static uint64_t pick_u64(rd *r, uint64_t typical) {
    uint8_t v = rd_u8(r);
    switch (v) {
    case 0: return 0;
    case 1: return 1;
    case 2: return rd_u8(r);
    case 3: return rd_be(r, 2);
    case 4: return rd_be(r, 4);
    case 5: return rd_be(r, 8);
    case 6: return UINT64_MAX;
    case 7: return INT64_MAX;
    case 8: return UINT64_C(1) << 63;
    case 9: return UINT32_MAX;
    case 10: return 10000;
    case 11: return 10001;
    case 12: return UINT64_C(1) << 60;
    case 13: return (UINT64_C(1) << 60) + 1;
    case 14: return UINT64_MAX / 1000 + 1;
    case 15: return UINT64_C(1) << 32;
    default: return v < 128 ? typical : (uint64_t)v - 128;
    }
}

/* As pick_u64, with the field's limit `edge` at 126 and edge + 1 at 127. */
static uint64_t pick_u64e(rd *r, uint64_t typical, uint64_t edge) {
    if (r->n > 0 && (r->p[0] == 126 || r->p[0] == 127))
        return edge + (rd_u8(r) - 126);
    return pick_u64(r, typical);
}

static int64_t pick_i64(rd *r, int64_t typical) {
    uint8_t v = rd_u8(r);
    switch (v) {
    case 0: return 0;
    case 1: return 1;
    case 2: return rd_u8(r);
    case 3: return (int64_t)rd_be(r, 2);
    case 4: return (int64_t)rd_be(r, 4);
    case 5: return (int64_t)rd_be(r, 8);
    case 6: return -1;
    case 7: return INT64_MAX;
    case 8: return INT64_MIN;
    case 9: return -(int64_t)rd_be(r, 2);
    case 10: return 10000;
    case 11: return INT64_MAX / 2 + 1;
    case 12: return INT64_MAX - 1;
    case 13: return 1000000;
    case 14: return -1000;
    case 15: return 999;
    default: return v < 128 ? typical : (int64_t)v - 128;
    }
}

static unsigned pick_small(rd *r, unsigned n) {
    return rd_u8(r) % n;
}

static esg_pb_bytes bytes_of(rd *r, size_t len, uint8_t fill, bool from_input) {
    uint8_t *b = arena_alloc(len ? len : 1);
    if (!b)
        return esg_pb_bin(NULL, 0);
    for (size_t i = 0; i < len; i++)
        b[i] = from_input ? rd_u8(r) : fill;
    return esg_pb_bin(b, len);
}

static esg_pb_bytes pick_hash(rd *r) {
    switch (rd_u8(r) % 8) {
    case 0: return esg_pb_bin(NULL, 0);
    case 1: return bytes_of(r, 31, 0xab, false);
    case 2: return bytes_of(r, 33, 0xab, false);
    case 3: return bytes_of(r, 32, 0, true);
    default: return bytes_of(r, 32, 0xab, false);
    }
}

/* The ids of the transactions of this block built so far (zero when one
 * did not decode). */
typedef struct block_ids {
    esg_hash id[MAX_TXS];
    size_t n;
} block_ids;

static esg_pb_bytes pick_ref(rd *r, const block_ids *ids) {
    uint8_t v = rd_u8(r);
    if (v < 0x80)
        return esg_pb_bin(g_fz.base_ids[v % N_OF(g_fz.base_ids)].b, 32);
    if (v < 0xC0) {
        size_t j = v & 7;
        if (j < ids->n)
            return esg_pb_bin(ids->id[j].b, 32);
        return bytes_of(r, 32, 0, false);
    }
    switch (v) {
    case 0xC0: return esg_pb_bin(NULL, 0);
    case 0xC1: return bytes_of(r, 31, 0x11, false);
    case 0xC2: return bytes_of(r, 32, 0, true);
    default: return bytes_of(r, 32, 0, false);
    }
}

static esg_pb_bytes pick_key(rd *r) {
    unsigned v = rd_u8(r) % 20;
    if (v < N_KEYS)
        return esg_pb_bin(g_fz.keys[v].pk.b, 32);
    switch (v) {
    case 14: return bytes_of(r, 32, 0, false);
    case 15: return bytes_of(r, 32, 0xff, false);
    case 16: return esg_pb_bin(g_fz.keys[K_CA].pk.b, 31);
    case 17: return bytes_of(r, 32, 0, true);
    case 18: return bytes_of(r, 33, 0x02, false);
    default: return esg_pb_bin(g_fz.keys[K_SPARE + 1].pk.b, 32);
    }
}

/* ----------------------------------------------------- instrument specs */

#define SPEC_MAX_CO 12
#define SPEC_MAX_PROJ 4
#define SPEC_MAX_KT 3
#define SPEC_MAX_OBJ 7 /* one more than a project may have */

/* A spec with its arrays, built in place (it points into itself). */
typedef struct spec_b {
    esg_pb_instrument_spec s;
    esg_pb_co_issuer ci[SPEC_MAX_CO];
    esg_pb_co_issuer *cip[SPEC_MAX_CO];
    esg_pb_project pr[SPEC_MAX_PROJ];
    esg_pb_project *prp[SPEC_MAX_PROJ];
    uint32_t sdgs[SPEC_MAX_PROJ][4];
    esg_pb_eu_objective obj[SPEC_MAX_PROJ][SPEC_MAX_OBJ];
    esg_pb_kpi_target kt[SPEC_MAX_KT];
    esg_pb_kpi_target *ktp[SPEC_MAX_KT];
    uint8_t fw[32];
} spec_b;

static void sb_co(spec_b *b, const char *member, uint32_t share) {
    size_t i = b->s.n_co_issuers++;
    esg_pb_co_issuer init = ESG_PB_CO_ISSUER_INIT;
    b->ci[i] = init;
    b->ci[i].member = (char *)member;
    b->ci[i].share_bps = share;
    b->cip[i] = &b->ci[i];
    b->s.co_issuers = b->cip;
}

static void sb_project(spec_b *b, const char *id, const char *city, uint64_t budget) {
    size_t i = b->s.n_projects++;
    esg_pb_project init = ESG_PB_PROJECT_INIT;
    b->pr[i] = init;
    b->pr[i].id = (char *)id;
    b->pr[i].city = (char *)city;
    b->pr[i].name = "Project";
    b->pr[i].eu_objective = ESG_EU_OBJECTIVE_CCM;
    b->sdgs[i][0] = 7;
    b->sdgs[i][1] = 11;
    b->pr[i].sdgs = b->sdgs[i];
    b->pr[i].n_sdgs = 2;
    b->pr[i].budget = budget;
    b->prp[i] = &b->pr[i];
    b->s.projects = b->prp;
}

/* Makes project i of *b a reference to a registered project (only id and
 * budget). */
static void sb_project_ref(spec_b *b, size_t i) {
    esg_pb_project *p = &b->pr[i];
    p->city = "";
    p->name = "";
    p->eu_objective = ESG_EU_OBJECTIVE_UNSPECIFIED;
    p->n_sdgs = 0;
}

/* Gives project i of *b the further objectives obj[0..n) and the EU GBS
 * fields. */
static void sb_project_gbs(spec_b *b, size_t i, const esg_pb_eu_objective *obj, size_t n,
                           const char *taxonomy, const char *nace, uint64_t total_cost,
                           const char *location) {
    esg_pb_project *p = &b->pr[i];
    assert(n <= SPEC_MAX_OBJ);
    for (size_t k = 0; k < n; k++)
        b->obj[i][k] = obj[k];
    p->eu_objectives = b->obj[i];
    p->n_eu_objectives = n;
    p->taxonomy_activity = (char *)taxonomy;
    p->nace = (char *)nace;
    p->total_cost = total_cost;
    p->location = (char *)location;
}

static void sb_target(spec_b *b, const char *kpi, int64_t target, const char *obs,
                      uint32_t step) {
    size_t i = b->s.n_kpi_targets++;
    esg_pb_kpi_target init = ESG_PB_KPI_TARGET_INIT;
    b->kt[i] = init;
    b->kt[i].kpi = (char *)kpi;
    b->kt[i].target = target;
    b->kt[i].observation_date = (char *)obs;
    b->kt[i].step_up_bps = step;
    b->ktp[i] = &b->kt[i];
    b->s.kpi_targets = b->ktp;
}

/* The templates of IssueInstrument (the base state issues 0, 1 and 2 as
 * GB-1, SLB-1 and OFF-1): 0 a green bond of the three cities, 1 a
 * sustainability-linked bond of city-a, 2 a green loan of city-b, 3 a
 * monthly social bond of city-b and city-c, 4 a green bond of city-a with
 * an ISIN and a 12-month look-back, financing the registered PR-1 by
 * reference and a new inline project NEW-P with every EU GBS field, 5 a
 * green bond of city-a and city-b co-financing PA-1 (a reference) and PB-1
 * (inline, registered already) with GB-1. */
static void sb_template(spec_b *b, unsigned t, const char *id) {
    memset(b, 0, sizeof *b);
    esg_pb_instrument_spec init = ESG_PB_INSTRUMENT_SPEC_INIT;
    b->s = init;
    b->s.id = (char *)id;
    b->s.name = "Joint green bond";
    b->s.currency = "EUR";
    b->s.issue_date = "2026-01-15";
    b->s.maturity_date = "2028-01-15";
    b->s.paying_agent = "agent";
    memset(b->fw, 0xf1, sizeof b->fw);
    b->s.framework_sha256 = esg_pb_bin(b->fw, 32);
    switch (t) {
    case 0:
        b->s.kind = ESG_INSTRUMENT_GREEN_BOND;
        b->s.face_value = 100000;
        b->s.units = 1000;
        b->s.coupon_bps = 300;
        b->s.coupon_frequency_months = 12;
        sb_co(b, "city-a", 5000);
        sb_co(b, "city-b", 3000);
        sb_co(b, "city-c", 2000);
        sb_project(b, "PA-1", "city-a", 30000000);
        sb_project(b, "PB-1", "city-b", 20000000);
        sb_project(b, "PC-1", "city-c", 10000000);
        break;
    case 1:
        b->s.kind = ESG_INSTRUMENT_SUSTAINABILITY_LINKED_BOND;
        b->s.face_value = 1000;
        b->s.units = 10000;
        b->s.coupon_bps = 250;
        b->s.coupon_frequency_months = 6;
        sb_co(b, "city-a", 10000);
        sb_project(b, "PS-1", "city-a", 5000000);
        sb_target(b, "ghg_avoided_tco2e", 5000, "2027-01-01", 25);
        break;
    case 2:
        b->s.kind = ESG_INSTRUMENT_GREEN_LOAN;
        b->s.face_value = 5000;
        b->s.units = 100;
        b->s.coupon_bps = 400;
        b->s.coupon_frequency_months = 3;
        b->s.maturity_date = "2027-01-15";
        sb_co(b, "city-b", 10000);
        sb_project(b, "PO-1", "city-b", 500000);
        break;
    case 4: {
        static const esg_pb_eu_objective ppc[] = {ESG_EU_OBJECTIVE_PPC};
        b->s.kind = ESG_INSTRUMENT_GREEN_BOND;
        b->s.face_value = 1000;
        b->s.units = 5000;
        b->s.coupon_bps = 275;
        b->s.coupon_frequency_months = 12;
        b->s.maturity_date = "2027-01-15";
        b->s.isin = "US0378331005";
        b->s.refinancing_lookback_months = 12;
        sb_co(b, "city-a", 10000);
        sb_project(b, "PR-1", "", 2000000);
        sb_project_ref(b, 0);
        sb_project(b, "NEW-P", "city-a", 1000000);
        b->pr[1].name = "Cycle lanes";
        sb_project_gbs(b, 1, ppc, 1, "6.13", "F42.1", 3000000, "Old town");
        break;
    }
    case 5:
        b->s.kind = ESG_INSTRUMENT_GREEN_BOND;
        b->s.face_value = 1000;
        b->s.units = 20000;
        b->s.coupon_bps = 325;
        b->s.coupon_frequency_months = 12;
        b->s.maturity_date = "2029-01-15";
        sb_co(b, "city-a", 6000);
        sb_co(b, "city-b", 4000);
        sb_project(b, "PA-1", "", 5000000);
        sb_project_ref(b, 0);
        sb_project(b, "PB-1", "city-b", 2000000);
        break;
    default:
        b->s.kind = ESG_INSTRUMENT_SOCIAL_BOND;
        b->s.face_value = 250;
        b->s.units = 40000;
        b->s.coupon_bps = 120;
        b->s.coupon_frequency_months = 1;
        b->s.issue_date = "2026-02-01";
        b->s.maturity_date = "2027-02-01";
        sb_co(b, "city-b", 5000);
        sb_co(b, "city-c", 5000);
        sb_project(b, "PB-1", "city-b", 1000000);
        sb_project(b, "PC-1", "city-c", 1000000);
        break;
    }
}

/* Replaces the fields of *b whose bit is set in a u24 mask, in bit order:
 * 0 id, 1 kind, 2 name, 3 currency, 4 face value, 5 units, 6 coupon, 7
 * frequency, 8 issue date, 9 maturity, 10 co-issuers, 11 paying agent, 12
 * projects, 13 KPI targets, 14 framework hash, 15 external review hash,
 * 16 ISIN, 17 look-back months. */
static void sb_mutate(spec_b *b, rd *r) {
    unsigned mask = (unsigned)rd_be(r, 3);
    esg_pb_instrument_spec *s = &b->s;
    if (mask & 1u << 0) s->id = STR(r, INSTRUMENTS);
    if (mask & 1u << 1) s->kind = pick_small(r, 7);
    if (mask & 1u << 2) s->name = STR(r, NAMES);
    if (mask & 1u << 3) s->currency = STR(r, CURRENCIES);
    if (mask & 1u << 4) s->face_value = pick_u64(r, 100000);
    if (mask & 1u << 5) s->units = pick_u64(r, 1000);
    if (mask & 1u << 6) s->coupon_bps = (uint32_t)pick_u64(r, 300);
    if (mask & 1u << 7) s->coupon_frequency_months = (uint32_t)pick_u64(r, 12);
    if (mask & 1u << 8) s->issue_date = pick_date(r);
    if (mask & 1u << 9) s->maturity_date = pick_date(r);
    if (mask & 1u << 10) {
        s->n_co_issuers = 0;
        unsigned n = pick_small(r, SPEC_MAX_CO + 1);
        for (unsigned i = 0; i < n; i++) {
            const char *m = STR(r, MEMBERS);
            sb_co(b, m, (uint32_t)pick_u64(r, 5000));
        }
    }
    if (mask & 1u << 11) s->paying_agent = STR(r, MEMBERS);
    if (mask & 1u << 12) {
        /* Per project: id, form; with form bit 0 (inline) city, name,
         * objective and SDGs; the budget; with form bit 1 the further
         * objectives, taxonomy activity, NACE, total cost and location. */
        s->n_projects = 0;
        unsigned n = pick_small(r, SPEC_MAX_PROJ + 1);
        for (unsigned i = 0; i < n; i++) {
            const char *id = STR(r, PROJECTS);
            unsigned form = pick_small(r, 4);
            sb_project(b, id, "", 1000000);
            sb_project_ref(b, i);
            esg_pb_project *p = &b->pr[i];
            if (form & 1) {
                p->city = STR(r, MEMBERS);
                p->name = STR(r, NAMES);
                p->eu_objective = pick_small(r, 8);
                p->n_sdgs = pick_small(r, 5);
                for (size_t k = 0; k < p->n_sdgs; k++)
                    b->sdgs[i][k] = (uint32_t)pick_u64(r, 7);
            }
            p->budget = pick_u64(r, 1000000);
            if (form & 2) {
                esg_pb_eu_objective obj[SPEC_MAX_OBJ];
                size_t n_obj = pick_small(r, SPEC_MAX_OBJ + 1);
                for (size_t k = 0; k < n_obj; k++)
                    obj[k] = pick_small(r, 8);
                const char *tax = STR(r, TAXONOMY);
                const char *nace = STR(r, NACE);
                uint64_t cost = pick_u64(r, 5000000);
                sb_project_gbs(b, i, obj, n_obj, tax, nace, cost, STR(r, TEXTS));
            }
        }
    }
    if (mask & 1u << 13) {
        s->n_kpi_targets = 0;
        unsigned n = pick_small(r, SPEC_MAX_KT + 1);
        for (unsigned i = 0; i < n; i++) {
            const char *kpi = STR(r, KPIS);
            sb_target(b, kpi, 1000, "2027-01-01", 25);
            b->kt[i].baseline = pick_i64(r, 0);
            b->kt[i].target = pick_i64(r, 1000);
            b->kt[i].observation_date = pick_date(r);
            b->kt[i].step_up_bps = (uint32_t)pick_u64(r, 25);
        }
    }
    if (mask & 1u << 14) s->framework_sha256 = pick_hash(r);
    if (mask & 1u << 15) s->external_review_sha256 = pick_hash(r);
    if (mask & 1u << 16) s->isin = STR(r, ISINS);
    if (mask & 1u << 17)
        s->refinancing_lookback_months =
            (uint32_t)pick_u64e(r, 36, ESG_MAX_LOOKBACK_MONTHS);
}

/* ------------------------------------------------------------- actions */

/* Every message a body may point to, built in place for one transaction. */
typedef struct body_b {
    esg_pb_tx_body body;
    esg_pb_propose propose;
    esg_pb_proposal proposal;
    esg_pb_add_member add_member;
    esg_pb_suspend_member suspend;
    esg_pb_reinstate_member reinstate;
    esg_pb_accredit accredit;
    esg_pb_revoke_accreditation revoke_accr;
    char *categories[3];
    esg_pb_add_validator add_validator;
    esg_pb_remove_validator remove_validator;
    esg_pb_set_validator_power set_power;
    esg_pb_set_param set_param;
    esg_pb_add_kpi add_kpi;
    esg_pb_kpi kpi;
    esg_pb_vote vote;
    esg_pb_add_account add_account;
    esg_pb_role roles[3];
    esg_pb_revoke_account revoke_account;
    esg_pb_issue_instrument issue;
    spec_b spec;
    esg_pb_subscribe subscribe;
    esg_pb_close_offering close;
    esg_pb_transfer transfer;
    esg_pb_record_payment payment;
    esg_pb_allocate_proceeds allocate;
    esg_pb_report_impact report;
    esg_pb_attest_impact attest;
    esg_pb_revoke_attestation revoke_att;
    esg_pb_dispute_impact dispute;
    esg_pb_register_project reg_project;
    esg_pb_eu_objective objectives[SPEC_MAX_OBJ];
    uint32_t sdgs[18];
    esg_pb_update_project upd_project;
    esg_pb_record_funding funding;
    esg_pb_reverse_funding unfund;
    esg_pb_reverse_allocation unallocate;
} body_b;

static void build_proposal(body_b *m, rd *r) {
    esg_pb_proposal *p = &m->proposal;
    switch (pick_small(r, 11)) {
    case 0:
        break; /* no change: ESG_ERR_BAD_PROPOSAL */
    case 1:
        p->change_case = ESG_PROPOSAL_ADD_MEMBER;
        p->add_member = &m->add_member;
        m->add_member.id = STR(r, MEMBERS);
        m->add_member.kind = pick_small(r, 7);
        m->add_member.name = STR(r, NAMES);
        m->add_member.country = STR(r, COUNTRIES);
        m->add_member.admin_pubkey = pick_key(r);
        m->add_member.lei = STR(r, LEIS);
        m->add_member.population = pick_u64e(r, 50000, ESG_MAX_POPULATION);
        break;
    case 2:
        p->change_case = ESG_PROPOSAL_SUSPEND_MEMBER;
        p->suspend_member = &m->suspend;
        m->suspend.id = STR(r, MEMBERS);
        break;
    case 3:
        p->change_case = ESG_PROPOSAL_REINSTATE_MEMBER;
        p->reinstate_member = &m->reinstate;
        m->reinstate.id = STR(r, MEMBERS);
        break;
    case 4:
        p->change_case = ESG_PROPOSAL_ACCREDIT;
        p->accredit = &m->accredit;
        m->accredit.member = STR(r, MEMBERS);
        m->accredit.n_categories = pick_small(r, 4);
        for (size_t i = 0; i < m->accredit.n_categories; i++)
            m->categories[i] = STR(r, CATEGORIES);
        m->accredit.categories = m->categories;
        break;
    case 5:
        p->change_case = ESG_PROPOSAL_REVOKE_ACCREDITATION;
        p->revoke_accreditation = &m->revoke_accr;
        m->revoke_accr.member = STR(r, MEMBERS);
        m->revoke_accr.n_categories = pick_small(r, 4);
        for (size_t i = 0; i < m->revoke_accr.n_categories; i++)
            m->categories[i] = STR(r, CATEGORIES);
        m->revoke_accr.categories = m->categories;
        break;
    case 6:
        p->change_case = ESG_PROPOSAL_ADD_VALIDATOR;
        p->add_validator = &m->add_validator;
        m->add_validator.pubkey = pick_key(r);
        m->add_validator.power = pick_u64(r, 1);
        m->add_validator.operator_ = STR(r, MEMBERS);
        break;
    case 7:
        p->change_case = ESG_PROPOSAL_REMOVE_VALIDATOR;
        p->remove_validator = &m->remove_validator;
        m->remove_validator.pubkey = pick_key(r);
        break;
    case 8:
        p->change_case = ESG_PROPOSAL_SET_VALIDATOR_POWER;
        p->set_validator_power = &m->set_power;
        m->set_power.pubkey = pick_key(r);
        m->set_power.power = pick_u64(r, 10);
        break;
    case 9:
        p->change_case = ESG_PROPOSAL_SET_PARAM;
        p->set_param = &m->set_param;
        m->set_param.name = STR(r, PARAMS);
        m->set_param.value = pick_u64(r, 7000);
        break;
    default:
        p->change_case = ESG_PROPOSAL_ADD_KPI;
        p->add_kpi = &m->add_kpi;
        m->add_kpi.kpi = &m->kpi;
        m->kpi.id = STR(r, KPIS);
        m->kpi.name = STR(r, NAMES);
        m->kpi.unit = STR(r, UNITS);
        m->kpi.category = STR(r, CATEGORIES);
        m->kpi.direction = pick_small(r, 4);
        break;
    }
    p->description = STR(r, TEXTS);
}

static void body_b_init(body_b *m) {
    memset(m, 0, sizeof *m);
    m->body = (esg_pb_tx_body)ESG_PB_TX_BODY_INIT;
    m->propose = (esg_pb_propose)ESG_PB_PROPOSE_INIT;
    m->proposal = (esg_pb_proposal)ESG_PB_PROPOSAL_INIT;
    m->add_member = (esg_pb_add_member)ESG_PB_ADD_MEMBER_INIT;
    m->suspend = (esg_pb_suspend_member)ESG_PB_SUSPEND_MEMBER_INIT;
    m->reinstate = (esg_pb_reinstate_member)ESG_PB_REINSTATE_MEMBER_INIT;
    m->accredit = (esg_pb_accredit)ESG_PB_ACCREDIT_INIT;
    m->revoke_accr = (esg_pb_revoke_accreditation)ESG_PB_REVOKE_ACCREDITATION_INIT;
    m->add_validator = (esg_pb_add_validator)ESG_PB_ADD_VALIDATOR_INIT;
    m->remove_validator = (esg_pb_remove_validator)ESG_PB_REMOVE_VALIDATOR_INIT;
    m->set_power = (esg_pb_set_validator_power)ESG_PB_SET_VALIDATOR_POWER_INIT;
    m->set_param = (esg_pb_set_param)ESG_PB_SET_PARAM_INIT;
    m->add_kpi = (esg_pb_add_kpi)ESG_PB_ADD_KPI_INIT;
    m->kpi = (esg_pb_kpi)ESG_PB_KPI_INIT;
    m->vote = (esg_pb_vote)ESG_PB_VOTE_INIT;
    m->add_account = (esg_pb_add_account)ESG_PB_ADD_ACCOUNT_INIT;
    m->revoke_account = (esg_pb_revoke_account)ESG_PB_REVOKE_ACCOUNT_INIT;
    m->issue = (esg_pb_issue_instrument)ESG_PB_ISSUE_INSTRUMENT_INIT;
    m->subscribe = (esg_pb_subscribe)ESG_PB_SUBSCRIBE_INIT;
    m->close = (esg_pb_close_offering)ESG_PB_CLOSE_OFFERING_INIT;
    m->transfer = (esg_pb_transfer)ESG_PB_TRANSFER_INIT;
    m->payment = (esg_pb_record_payment)ESG_PB_RECORD_PAYMENT_INIT;
    m->allocate = (esg_pb_allocate_proceeds)ESG_PB_ALLOCATE_PROCEEDS_INIT;
    m->report = (esg_pb_report_impact)ESG_PB_REPORT_IMPACT_INIT;
    m->attest = (esg_pb_attest_impact)ESG_PB_ATTEST_IMPACT_INIT;
    m->revoke_att = (esg_pb_revoke_attestation)ESG_PB_REVOKE_ATTESTATION_INIT;
    m->dispute = (esg_pb_dispute_impact)ESG_PB_DISPUTE_IMPACT_INIT;
    m->reg_project = (esg_pb_register_project)ESG_PB_REGISTER_PROJECT_INIT;
    m->upd_project = (esg_pb_update_project)ESG_PB_UPDATE_PROJECT_INIT;
    m->funding = (esg_pb_record_funding)ESG_PB_RECORD_FUNDING_INIT;
    m->unfund = (esg_pb_reverse_funding)ESG_PB_REVERSE_FUNDING_INIT;
    m->unallocate = (esg_pb_reverse_allocation)ESG_PB_REVERSE_ALLOCATION_INIT;
}

/* Reads the fields of `action` (the header comment's numbering) into m. */
static void build_action(body_b *m, rd *r, unsigned action, const block_ids *ids) {
    esg_pb_tx_body *b = &m->body;
    switch (action) {
    case 0:
        b->action_case = ESG_ACTION_PROPOSE;
        b->propose = &m->propose;
        m->propose.proposal = &m->proposal;
        build_proposal(m, r);
        break;
    case 1:
        b->action_case = ESG_ACTION_VOTE;
        b->vote = &m->vote;
        m->vote.proposal_id = pick_ref(r, ids);
        m->vote.approve = rd_u8(r) & 1;
        break;
    case 2:
        b->action_case = ESG_ACTION_ADD_ACCOUNT;
        b->add_account = &m->add_account;
        m->add_account.pubkey = pick_key(r);
        m->add_account.n_roles = pick_small(r, 4);
        for (size_t i = 0; i < m->add_account.n_roles; i++)
            m->roles[i] = (esg_pb_role)pick_small(r, 4);
        m->add_account.roles = m->roles;
        break;
    case 3:
        b->action_case = ESG_ACTION_REVOKE_ACCOUNT;
        b->revoke_account = &m->revoke_account;
        m->revoke_account.pubkey = pick_key(r);
        break;
    case 4:
        b->action_case = ESG_ACTION_ISSUE_INSTRUMENT;
        b->issue_instrument = &m->issue;
        sb_template(&m->spec, pick_small(r, 6), "NEW-1");
        sb_mutate(&m->spec, r);
        m->issue.spec = &m->spec.s;
        break;
    case 5:
        b->action_case = ESG_ACTION_SUBSCRIBE;
        b->subscribe = &m->subscribe;
        m->subscribe.instrument = STR(r, INSTRUMENTS);
        m->subscribe.units = pick_u64(r, 100);
        break;
    case 6:
        b->action_case = ESG_ACTION_CLOSE_OFFERING;
        b->close_offering = &m->close;
        m->close.instrument = STR(r, INSTRUMENTS);
        break;
    case 7:
        b->action_case = ESG_ACTION_TRANSFER;
        b->transfer = &m->transfer;
        m->transfer.instrument = STR(r, INSTRUMENTS);
        m->transfer.to_member = STR(r, MEMBERS);
        m->transfer.units = pick_u64(r, 50);
        break;
    case 8:
        b->action_case = ESG_ACTION_RECORD_PAYMENT;
        b->record_payment = &m->payment;
        m->payment.instrument = STR(r, INSTRUMENTS);
        m->payment.kind = pick_small(r, 4);
        m->payment.due_date = pick_date(r);
        break;
    case 9:
        b->action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
        b->allocate_proceeds = &m->allocate;
        m->allocate.instrument = STR(r, INSTRUMENTS);
        m->allocate.project_id = STR(r, PROJECTS);
        m->allocate.amount = pick_u64(r, 1000000);
        m->allocate.date = pick_date(r);
        m->allocate.evidence_sha256 = pick_hash(r);
        break;
    case 10: {
        esg_pb_report_impact *ri = &m->report;
        b->action_case = ESG_ACTION_REPORT_IMPACT;
        b->report_impact = ri;
        ri->instrument = STR(r, INSTRUMENTS);
        ri->project_id = STR(r, PROJECTS);
        ri->kpi = STR(r, KPIS);
        ri->value = pick_i64(r, 1500);
        ri->period_start = pick_date(r);
        ri->period_end = pick_date(r);
        ri->methodology = STR(r, TEXTS);
        ri->evidence_sha256 = pick_hash(r);
        ri->evidence_uri = STR(r, TEXTS);
        /* Supersedes: a byte below 0x80 leaves it empty (the usual case). */
        if (rd_u8(r) >= 0x80)
            ri->supersedes = pick_ref(r, ids);
        ri->reason = STR(r, TEXTS);
        break;
    }
    case 11:
        b->action_case = ESG_ACTION_ATTEST_IMPACT;
        b->attest_impact = &m->attest;
        m->attest.report_id = pick_ref(r, ids);
        m->attest.opinion = pick_small(r, 5);
        m->attest.verified_value = pick_i64(r, 1400);
        m->attest.statement_sha256 = pick_hash(r);
        break;
    case 12:
        b->action_case = ESG_ACTION_REVOKE_ATTESTATION;
        b->revoke_attestation = &m->revoke_att;
        m->revoke_att.attestation_id = pick_ref(r, ids);
        m->revoke_att.reason = STR(r, TEXTS);
        break;
    case 13:
        b->action_case = ESG_ACTION_DISPUTE_IMPACT;
        b->dispute_impact = &m->dispute;
        m->dispute.report_id = pick_ref(r, ids);
        m->dispute.reason = STR(r, TEXTS);
        break;
    case 14: {
        esg_pb_register_project *rp = &m->reg_project;
        b->action_case = ESG_ACTION_REGISTER_PROJECT;
        b->register_project = rp;
        rp->id = STR(r, PROJECTS);
        rp->city = STR(r, MEMBERS);
        rp->name = STR(r, NAMES);
        /* Up to 7 objectives of 0..7, up to 18 SDGs: one past each limit. */
        rp->n_eu_objectives = pick_small(r, SPEC_MAX_OBJ + 1);
        for (size_t i = 0; i < rp->n_eu_objectives; i++)
            m->objectives[i] = pick_small(r, 8);
        rp->eu_objectives = m->objectives;
        rp->taxonomy_activity = STR(r, TAXONOMY);
        rp->nace = STR(r, NACE);
        rp->n_sdgs = pick_small(r, N_OF(m->sdgs) + 1);
        for (size_t i = 0; i < rp->n_sdgs; i++)
            m->sdgs[i] = (uint32_t)pick_u64(r, 7);
        rp->sdgs = m->sdgs;
        rp->total_cost = pick_u64(r, 5000000);
        rp->currency = STR(r, CURRENCIES);
        rp->location = STR(r, TEXTS);
        break;
    }
    case 15:
        b->action_case = ESG_ACTION_UPDATE_PROJECT;
        b->update_project = &m->upd_project;
        m->upd_project.id = STR(r, PROJECTS);
        m->upd_project.total_cost = pick_u64(r, 2000000);
        m->upd_project.reason = STR(r, TEXTS);
        break;
    case 16:
        b->action_case = ESG_ACTION_RECORD_FUNDING;
        b->record_funding = &m->funding;
        m->funding.project = STR(r, PROJECTS);
        m->funding.source = pick_small(r, 8); /* 0 and 7 are no source */
        m->funding.programme = STR(r, PROGRAMMES);
        m->funding.amount = pick_u64(r, 200000);
        m->funding.date = pick_date(r);
        m->funding.evidence_sha256 = pick_hash(r);
        break;
    case 17:
        b->action_case = ESG_ACTION_REVERSE_FUNDING;
        b->reverse_funding = &m->unfund;
        m->unfund.funding_id = pick_ref(r, ids);
        m->unfund.reason = STR(r, TEXTS);
        break;
    default:
        b->action_case = ESG_ACTION_REVERSE_ALLOCATION;
        b->reverse_allocation = &m->unallocate;
        m->unallocate.allocation_id = pick_ref(r, ids);
        m->unallocate.reason = STR(r, TEXTS);
        break;
    }
}

/* ------------------------------------------------------ signed txs */

/* The member whose account key k is, or NULL. */
static const char *key_member(int k) {
    if (k == K_CA2)
        return "city-a";
    for (size_t i = 0; i < N_OF(MEMBER_KEYS); i++)
        if (MEMBER_KEYS[i].key == k)
            return MEMBER_KEYS[i].id;
    return NULL;
}

/* Adds k to the signing keys unless it is there already. */
static void keys_add(int *keys, size_t *n, int k) {
    for (size_t i = 0; i < *n; i++)
        if (keys[i] == k)
            return;
    if (*n < MAX_SIGS)
        keys[(*n)++] = k;
}

/* The co-signers `body` needs (beyond the signer's own member), as admin
 * keys of our cast, appended to keys. */
static void keys_add_cosigners(int *keys, size_t *n, const esg_pb_tx_body *body,
                               int signer) {
    char **ids;
    size_t n_ids;
    if (esg_contracts_required_cosigners(body, &ids, &n_ids) != ESG_OK)
        abort(); /* only ESG_ERR_NOMEM */
    const char *own = key_member(signer);
    for (size_t i = 0; i < n_ids; i++) {
        if (own && strcmp(ids[i], own) == 0)
            continue;
        for (size_t j = 0; j < N_OF(MEMBER_KEYS); j++)
            if (strcmp(ids[i], MEMBER_KEYS[j].id) == 0)
                keys_add(keys, n, MEMBER_KEYS[j].key);
    }
    esg_contracts_cosigners_free(ids, n_ids);
}

/* Sets chain, signer and nonce of `body`, signs it with keys[0..n) (the
 * signer first) and decodes the result as a node would. Returns the tx, or
 * NULL when it does not decode (two equal keys, a body without action...):
 * such bytes never reach a block. Aborts if signing fails. */
static esg_tx *tx_sign(esg_pb_tx_body *body, uint64_t nonce, const int *keys, size_t n,
                       bool corrupt) {
    body->chain_id = CHAIN;
    body->signer = esg_pb_bin(g_fz.keys[keys[0]].pk.b, 32);
    body->nonce = nonce;
    esg_seckey sks[MAX_SIGS];
    for (size_t i = 0; i < n; i++)
        sks[i] = g_fz.keys[keys[i]].sk;
    uint8_t *raw;
    size_t len;
    if (esg_txb_sign_body(&raw, &len, body, sks, n) != ESG_OK)
        abort();
    /* The Tx ends with the last Signature, whose last field is its sig. */
    if (corrupt)
        raw[len - 1] ^= 1;
    esg_tx *tx = NULL;
    if (esg_tx_decode(&tx, raw, len) != ESG_OK)
        tx = NULL;
    free(raw);
    return tx;
}

/* ------------------------------------------------------------ blocks */

static int commit_single(void *arg, const char *chain_id, uint64_t height,
                         const esg_hash *block_hash, uint8_t **commit, size_t *len) {
    (void)arg;
    esg_commit_storage cs;
    int rc = esg_commit_sign_single(&cs, &g_fz.keys[K_VAL].sk, chain_id, height, 0, block_hash);
    return rc ? rc : esg_pb_encode(&cs.commit.base, commit, len);
}

/* Setup: signs `body` by `signer` (and co-signers), with its next nonce. */
static esg_tx *setup_tx(esg_pb_tx_body *body, int signer, int co1, int co2) {
    int keys[3] = {signer, co1, co2};
    size_t n = co2 >= 0 ? 3 : co1 >= 0 ? 2 : 1;
    esg_tx *tx = tx_sign(body, ++g_fz.nonce[signer], keys, n, false);
    if (!tx)
        abort();
    return tx;
}

/* Setup: commits one block of txs[0..n) at time_ms; every one must apply. */
static void setup_block(esg_tx **txs, size_t n, uint64_t time_ms) {
    fuzz_chain_block(g_fz.store, g_fz.ct, txs, n, time_ms, &g_fz.keys[K_VAL].pk, commit_single,
                     NULL, "fuzz_exec");
}

static void setup_genesis(void) {
    for (int i = 0; i < N_KEYS; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "esg-fuzz-exec key %d", i);
        esg_hash h = esg_sha256(seed, strlen(seed));
        memcpy(g_fz.keys[i].sk.b, h.b, 32);
        if (esg_key_pubkey(&g_fz.keys[i].pk, &g_fz.keys[i].sk) != ESG_OK)
            abort();
    }
    esg_genesis *g = esg_genesis_new(CHAIN, GENESIS_MS);
    static const int kinds[] = {ESG_KIND_CITY, ESG_KIND_CITY, ESG_KIND_CITY,
                                ESG_KIND_INVESTOR, ESG_KIND_INVESTOR, ESG_KIND_VERIFIER,
                                ESG_KIND_PAYING_AGENT, ESG_KIND_AUDITOR};
    int rc = g ? esg_genesis_add_default_kpis(g) : ESG_ERR_NOMEM;
    for (size_t i = 0; rc == 0 && i < N_OF(MEMBER_KEYS); i++)
        rc = esg_genesis_add_member(g, MEMBER_KEYS[i].id, kinds[i], MEMBER_KEYS[i].id, "GR",
                                    &g_fz.keys[MEMBER_KEYS[i].key].pk);
    if (rc == 0)
        rc = esg_genesis_add_account(g, "city-a", &g_fz.keys[K_CA2].pk, ESG_ROLE_BIT_OFFICER);
    if (rc == 0)
        rc = esg_genesis_add_accreditation(g, "ver-1", "climate");
    if (rc == 0)
        rc = esg_genesis_add_validator(g, &g_fz.keys[K_VAL].pk, 10, "city-a");
    char err[256] = "";
    if (rc == 0) {
        g->params.proposal_ttl_blocks = 1; /* P1 expires in the fuzzed block */
        rc = esg_genesis_validate(g, err, sizeof err);
    }
    char dir[128];
    snprintf(dir, sizeof dir, "%s/store", fuzz_dir());
    esg_store_options opts = {.no_sync = true};
    if (rc == 0)
        rc = esg_store_open_ex(&g_fz.store, err, sizeof err, dir, true, &opts);
    if (rc == 0)
        rc = esg_exec_genesis(g_fz.store, g);
    if (rc) {
        fprintf(stderr, "fuzz_exec setup: %s: %s\n", esg_err_name(rc), err);
        abort();
    }
    esg_genesis_free(g);
}

/* The base chain of the header comment. */
static void setup(void) {
    g_fz.ct = esg_contracts();
    g_fz.trace = getenv("ESG_FUZZ_EXEC_TRACE") != NULL;
    setup_genesis();
    esg_tx *txs[32];
    size_t n = 0;
    body_b *m = calloc(1, sizeof *m);
    if (!m)
        abort();
    static const uint8_t h32[32] = {0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab};
    static const struct {
        int key;
        const char *id, *city, *name, *taxonomy, *nace, *currency, *location;
        uint64_t cost;
    } regs[] = {
        {K_CA, "PR-1", "city-a", "Harbour solar roofs", "7.6", "F43.2", "EUR",
         "Harbour district", 4000000},
        {K_CB, "PU-1", "city-b", "Tram depot", "", "", "USD", "", 9000000},
    };
    for (size_t i = 0; i < N_OF(regs); i++) {
        body_b_init(m);
        m->body.action_case = ESG_ACTION_REGISTER_PROJECT;
        m->body.register_project = &m->reg_project;
        m->reg_project.id = (char *)regs[i].id;
        m->reg_project.city = (char *)regs[i].city;
        m->reg_project.name = (char *)regs[i].name;
        m->objectives[0] = ESG_EU_OBJECTIVE_CCM;
        m->objectives[1] = ESG_EU_OBJECTIVE_CCA;
        m->reg_project.eu_objectives = m->objectives;
        m->reg_project.n_eu_objectives = i == 0 ? 2 : 1;
        m->reg_project.taxonomy_activity = (char *)regs[i].taxonomy;
        m->reg_project.nace = (char *)regs[i].nace;
        m->sdgs[0] = 7;
        m->sdgs[1] = 13;
        m->reg_project.sdgs = m->sdgs;
        m->reg_project.n_sdgs = i == 0 ? 2 : 0;
        m->reg_project.total_cost = regs[i].cost;
        m->reg_project.currency = (char *)regs[i].currency;
        m->reg_project.location = (char *)regs[i].location;
        txs[n++] = setup_tx(&m->body, regs[i].key, -1, -1);
    }
    static const char *const ids[3] = {"GB-1", "SLB-1", "OFF-1"};
    static const int issuers[3] = {K_CA, K_CA, K_CB};
    for (unsigned t = 0; t < 3; t++) {
        body_b_init(m);
        sb_template(&m->spec, t, ids[t]);
        m->issue.spec = &m->spec.s;
        m->body.action_case = ESG_ACTION_ISSUE_INSTRUMENT;
        m->body.issue_instrument = &m->issue;
        if (t == 0) {
            txs[n] = setup_tx(&m->body, K_CA, K_CB, K_CC);
            g_fz.base_ids[5] = txs[n++]->id;
        } else {
            txs[n++] = setup_tx(&m->body, issuers[t], -1, -1);
        }
    }
    static const struct { int key; const char *ins; uint64_t units; } subs[] = {
        {K_INV1, "GB-1", 600}, {K_INV2, "GB-1", 300}, {K_INV1, "SLB-1", 5000},
        {K_INV2, "OFF-1", 10},
    };
    for (size_t i = 0; i < N_OF(subs); i++) {
        body_b_init(m);
        m->body.action_case = ESG_ACTION_SUBSCRIBE;
        m->body.subscribe = &m->subscribe;
        m->subscribe.instrument = (char *)subs[i].ins;
        m->subscribe.units = subs[i].units;
        txs[n++] = setup_tx(&m->body, subs[i].key, -1, -1);
    }
    for (size_t i = 0; i < 2; i++) {
        body_b_init(m);
        m->body.action_case = ESG_ACTION_CLOSE_OFFERING;
        m->body.close_offering = &m->close;
        m->close.instrument = (char *)ids[i];
        txs[n++] = setup_tx(&m->body, K_CA, -1, -1);
    }
    static const struct { int key; const char *project, *date; uint64_t amount; } allocs[] = {
        {K_CA, "PA-1", "2026-01-20", 1000000}, {K_CB, "PB-1", "2025-06-01", 500000},
    };
    for (size_t i = 0; i < N_OF(allocs); i++) {
        body_b_init(m);
        m->body.action_case = ESG_ACTION_ALLOCATE_PROCEEDS;
        m->body.allocate_proceeds = &m->allocate;
        m->allocate.instrument = "GB-1";
        m->allocate.project_id = (char *)allocs[i].project;
        m->allocate.amount = allocs[i].amount;
        m->allocate.date = (char *)allocs[i].date;
        m->allocate.evidence_sha256 = esg_pb_bin(h32, 32);
        txs[n] = setup_tx(&m->body, allocs[i].key, -1, -1);
        g_fz.base_ids[6 + i] = txs[n++]->id;
    }
    static const struct {
        int key;
        const char *project, *programme, *date;
        int source;
        uint64_t amount;
    } funds[] = {
        {K_CA, "PA-1", "ERDF 2021-2027", "2026-01-18", ESG_FUNDING_SOURCE_EU, 200000},
        {K_CB, "PB-1", "Recovery and Resilience Facility", "2026-01-10",
         ESG_FUNDING_SOURCE_NATIONAL, 300000},
    };
    for (size_t i = 0; i < N_OF(funds); i++) {
        body_b_init(m);
        m->body.action_case = ESG_ACTION_RECORD_FUNDING;
        m->body.record_funding = &m->funding;
        m->funding.project = (char *)funds[i].project;
        m->funding.source = funds[i].source;
        m->funding.programme = (char *)funds[i].programme;
        m->funding.amount = funds[i].amount;
        m->funding.date = (char *)funds[i].date;
        m->funding.evidence_sha256 = esg_pb_bin(h32, 32);
        txs[n] = setup_tx(&m->body, funds[i].key, -1, -1);
        g_fz.base_ids[8 + i] = txs[n++]->id;
    }
    /* R2 names no instrument: impact is reported of a project. */
    static const struct { int key; const char *ins, *project, *kpi; int64_t value; } reps[] = {
        {K_CA, "GB-1", "PA-1", "ghg_avoided_tco2e", 1500},
        {K_CB, "", "PB-1", "energy_saved_mwh", 800},
    };
    for (size_t i = 0; i < N_OF(reps); i++) {
        body_b_init(m);
        m->body.action_case = ESG_ACTION_REPORT_IMPACT;
        m->body.report_impact = &m->report;
        m->report.instrument = (char *)reps[i].ins;
        m->report.project_id = (char *)reps[i].project;
        m->report.kpi = (char *)reps[i].kpi;
        m->report.value = reps[i].value;
        m->report.period_start = "2026-01-01";
        m->report.period_end = "2026-01-20";
        m->report.evidence_sha256 = esg_pb_bin(h32, 32);
        txs[n] = setup_tx(&m->body, reps[i].key, -1, -1);
        g_fz.base_ids[i] = txs[n++]->id;
    }
    body_b_init(m);
    m->body.action_case = ESG_ACTION_ATTEST_IMPACT;
    m->body.attest_impact = &m->attest;
    m->attest.report_id = esg_pb_bin(g_fz.base_ids[0].b, 32);
    m->attest.opinion = ESG_OPINION_CONFIRMED;
    m->attest.verified_value = 1400;
    m->attest.statement_sha256 = esg_pb_bin(h32, 32);
    txs[n] = setup_tx(&m->body, K_VER, -1, -1);
    g_fz.base_ids[2] = txs[n++]->id;
    body_b_init(m);
    m->body.action_case = ESG_ACTION_PROPOSE;
    m->body.propose = &m->propose;
    m->propose.proposal = &m->proposal;
    m->proposal.change_case = ESG_PROPOSAL_ADD_KPI;
    m->proposal.add_kpi = &m->add_kpi;
    m->add_kpi.kpi = &m->kpi;
    m->kpi.id = "fuzz_kpi_0";
    m->kpi.name = "Fuzz KPI";
    m->kpi.unit = "t";
    m->kpi.category = "climate";
    m->kpi.direction = ESG_KPI_DIRECTION_HIGHER;
    txs[n] = setup_tx(&m->body, K_CA, -1, -1);
    g_fz.base_ids[3] = txs[n++]->id;
    for (int k = K_CB; k <= K_CC; k++) {
        body_b_init(m);
        m->body.action_case = ESG_ACTION_VOTE;
        m->body.vote = &m->vote;
        m->vote.proposal_id = esg_pb_bin(g_fz.base_ids[3].b, 32);
        m->vote.approve = true;
        txs[n++] = setup_tx(&m->body, k, -1, -1);
    }
    setup_block(txs, n, GENESIS_MS + 19 * DAY_MS); /* 2026-01-20 */

    n = 0;
    body_b_init(m);
    m->body.action_case = ESG_ACTION_PROPOSE;
    m->body.propose = &m->propose;
    m->propose.proposal = &m->proposal;
    m->proposal.change_case = ESG_PROPOSAL_ADD_VALIDATOR;
    m->proposal.add_validator = &m->add_validator;
    m->add_validator.pubkey = esg_pb_bin(g_fz.keys[K_SPARE + 1].pk.b, 32);
    m->add_validator.power = 1;
    m->add_validator.operator_ = "city-a";
    txs[n] = setup_tx(&m->body, K_CA, -1, -1);
    g_fz.base_ids[4] = txs[n++]->id;
    body_b_init(m);
    m->body.action_case = ESG_ACTION_REVERSE_ALLOCATION;
    m->body.reverse_allocation = &m->unallocate;
    m->unallocate.allocation_id = esg_pb_bin(g_fz.base_ids[7].b, 32);
    m->unallocate.reason = "allocated to the wrong project";
    txs[n++] = setup_tx(&m->body, K_CB, -1, -1);
    body_b_init(m);
    m->body.action_case = ESG_ACTION_REVERSE_FUNDING;
    m->body.reverse_funding = &m->unfund;
    m->unfund.funding_id = esg_pb_bin(g_fz.base_ids[9].b, 32);
    m->unfund.reason = "grant withdrawn";
    txs[n++] = setup_tx(&m->body, K_CB, -1, -1);
    body_b_init(m);
    m->body.action_case = ESG_ACTION_UPDATE_PROJECT;
    m->body.update_project = &m->upd_project;
    m->upd_project.id = "PR-1";
    m->upd_project.total_cost = 4500000;
    m->upd_project.reason = "tender result";
    txs[n++] = setup_tx(&m->body, K_CA, -1, -1);
    setup_block(txs, n, GENESIS_MS + 20 * DAY_MS); /* 2026-01-21 */
    free(m);

    MDB_txn *txn;
    if (esg_store_read_begin(g_fz.store, &txn) != ESG_OK)
        abort();
    int rc = esg_store_meta_get(txn, g_fz.store, &g_fz.tip);
    esg_store_read_end(txn);
    if (rc)
        abort();
}

/* ------------------------------------------------------------- one run */

/* What one build of the input gave, to compare two builds. */
typedef struct outcome {
    size_t n_items;
    int result[MAX_TXS];
    char msg[MAX_TXS][ESG_ERRMSG_MAX];
    esg_produced out;
} outcome;

/* Builds the transactions of the input and the block, and checks that
 * block. Fills *oc. */
static void run(const uint8_t *data, size_t size, outcome *oc) {
    rd r = {data, size, 0};
    uint8_t flags = rd_u8(&r);
    size_t n_tx = (flags & 7u) + 1;
    uint64_t time_ms;
    if (flags & 0x10)
        time_ms = rd_be(&r, 8);
    else
        time_ms = g_fz.tip.time_ms + 1 + rd_be(&r, 2) * UINT64_C(3600000);
    /* The block's time, as esg_exec_build_block makes it. */
    uint64_t bt = time_ms > g_fz.tip.time_ms ? time_ms : g_fz.tip.time_ms + 1;
    r.day = esg_block_day(bt);

    esg_tx *txs[MAX_TXS] = {0};
    esg_exec_item items[MAX_TXS];
    memset(items, 0, sizeof items);
    block_ids ids;
    memset(&ids, 0, sizeof ids);
    unsigned pending[N_KEYS] = {0};
    body_b *m = malloc(sizeof *m);
    if (!m)
        abort();
    size_t n_items = 0;
    for (size_t i = 0; i < n_tx; i++) {
        int signer = rd_u8(&r) % N_KEYS;
        unsigned action = rd_u8(&r) % 19;
        uint8_t mode = rd_u8(&r);
        uint64_t nonce;
        switch (mode & 7) {
        case 6: nonce = g_fz.nonce[signer] + 1; break;
        case 7: nonce = rd_be(&r, 8); break;
        default: nonce = g_fz.nonce[signer] + 1 + pending[signer]; break;
        }
        unsigned sig_mode = (mode >> 3) & 3;
        int extra = sig_mode == 2 ? rd_u8(&r) % N_KEYS : -1;
        g_arena.used = 0;
        body_b_init(m);
        build_action(m, &r, action, &ids);
        int keys[MAX_SIGS];
        size_t n_keys = 0;
        keys_add(keys, &n_keys, signer);
        if (!(mode & 0x20))
            keys_add_cosigners(keys, &n_keys, &m->body, signer);
        if (extra >= 0 && n_keys < MAX_SIGS)
            keys[n_keys++] = extra; /* may repeat a key: the tx then does not decode */
        txs[i] = tx_sign(&m->body, nonce, keys, n_keys, sig_mode == 3);
        pending[signer]++;
        ids.n = i + 1;
        if (!txs[i] && g_fz.trace)
            fprintf(stderr, "input tx %zu does not decode\n", i);
        if (txs[i]) {
            ids.id[i] = txs[i]->id;
            items[n_items++].tx = txs[i];
        }
    }
    free(m);

    uint8_t *block = NULL;
    size_t block_len = 0;
    esg_hash block_hash;
    int rc = esg_exec_build_block(g_fz.store, g_fz.ct, items, n_items, NULL, 0, time_ms,
                                  &g_fz.keys[K_VAL].pk, true, &block, &block_len,
                                  &block_hash, &oc->out);
    if (rc != ESG_OK || !oc->out.made || !block) {
        fprintf(stderr, "fuzz_exec: build_block: %s\n", esg_err_name(rc));
        abort();
    }
    if (!esg_hash_eq(&block_hash, &oc->out.block_hash))
        abort();
    size_t included = 0;
    oc->n_items = n_items;
    for (size_t i = 0; i < n_items; i++) {
        int res = items[i].result;
        /* A contract may refuse, never fail inside: an internal or storage
         * error is a bug, and so is a refusal without a message. */
        if ((res != 0 && (res <= ESG_ERR_FIRST_ || res >= ESG_ERR_END_)) ||
            res == ESG_ERR_INTERNAL || res == ESG_ERR_STORE || res == ESG_ERR_STORE_CORRUPT ||
            (res && items[i].msg[0] == '\0')) {
            fprintf(stderr, "fuzz_exec: item %zu: %d %s '%s'\n", i, res, esg_err_name(res),
                    items[i].msg);
            abort();
        }
        included += res == 0;
        if (g_fz.trace)
            fprintf(stderr, "tx %zu %s: %s %s\n", i, esg_action_name(items[i].tx->body->action_case),
                    esg_err_name(res), items[i].msg);
        oc->result[i] = res;
        memcpy(oc->msg[i], items[i].msg, ESG_ERRMSG_MAX);
    }
    if (included != oc->out.n_included || oc->out.height != g_fz.tip.height + 1)
        abort();

    /* Every validator must accept what the proposer built. */
    char err[256] = "";
    rc = esg_exec_check_block(g_fz.store, g_fz.ct, block, block_len, NULL, bt, 0, err,
                              sizeof err);
    if (rc != ESG_OK) {
        fprintf(stderr, "fuzz_exec: check_block refuses the built block: %s: %s\n",
                esg_err_name(rc), err);
        abort();
    }
    free(block);
    for (size_t i = 0; i < n_tx; i++)
        esg_tx_free(txs[i]);

    /* Nothing was stored. */
    MDB_txn *txn;
    esg_store_meta now;
    if (esg_store_read_begin(g_fz.store, &txn) != ESG_OK)
        abort();
    rc = esg_store_meta_get(txn, g_fz.store, &now);
    esg_store_read_end(txn);
    if (rc || now.height != g_fz.tip.height || !esg_hash_eq(&now.app_hash, &g_fz.tip.app_hash))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_fz.store)
        setup();
    static outcome a, b;
    run(data, size, &a);
    if (size > 0 && (data[0] & 0x08)) {
        run(data, size, &b);
        if (a.n_items != b.n_items || a.out.n_included != b.out.n_included ||
            !esg_hash_eq(&a.out.app_hash, &b.out.app_hash) ||
            !esg_hash_eq(&a.out.block_hash, &b.out.block_hash))
            abort();
        for (size_t i = 0; i < a.n_items; i++)
            if (a.result[i] != b.result[i] || strcmp(a.msg[i], b.msg[i]) != 0)
                abort();
    }
    return 0;
}
