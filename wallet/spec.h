/* Instrument specs: the JSON file of `esgwallet instrument issue --spec`
 * (a contract) to and from the InstrumentSpec message.
 *
 * The format, every key of which is described in docs/SPEC.md:
 *
 *   { "id": "JGB-2026-01", "kind": "SUSTAINABILITY_LINKED_BOND",
 *     "name": "...", "currency": "EUR", "face_value": "100000",
 *     "units": 5000, "coupon_bps": 125, "coupon_frequency_months": 12,
 *     "issue_date": "2024-03-01", "maturity_date": "2027-03-01",
 *     "co_issuers": [ { "member": "city-a", "share_bps": 5000 }, ... ],
 *     "paying_agent": "agent-x",
 *     "projects": [ { "id": "A-SOLAR", "city": "city-a", "name": "...",
 *                     "eu_objective": "CCM", "sdgs": [7, 11],
 *                     "budget": "20000000" },
 *                   { "id": "A-TRAM", "city": "city-a", "name": "...",
 *                     "eu_objectives": ["CCM", "PPC"], "budget": "5000000",
 *                     "taxonomy_activity": "6.14", "nace": "F42.1",
 *                     "total_cost": "12000000", "location": "..." },
 *                   { "id": "HER-PV", "budget": "2500000" } ],
 *     "kpi_targets": [ { "kpi": "ghg_avoided_tco2e", "baseline": "0",
 *                        "target": "1500.000",
 *                        "observation_date": "2025-12-31",
 *                        "step_up_bps": 25 } ],
 *     "framework_sha256": "<64 hex>", "external_review_sha256": "<64 hex>",
 *     "isin": "XS0000000009", "refinancing_lookback_months": 24 }
 *
 * A project is either a reference to a project already registered on the
 * ledger -- an object with only "id" and "budget" (what this instrument
 * earmarks for it) -- or an inline definition, which the issuance
 * registers when the id is not registered yet. Its objectives are
 * "eu_objective" (one), "eu_objectives" (a list), or both: then
 * eu_objective is the first and eu_objectives the further ones, or the
 * whole list starting with it. In the message eu_objective holds the first
 * objective and eu_objectives the further ones, in order.
 *
 * Parsing is strict, so that what several cities sign is exactly what was
 * meant:
 *   - every object is closed: an unknown key is an error (a typo such as
 *     "coupon_bp" never passes as a default), a duplicated key too;
 *   - required: every top-level key except kpi_targets (default []), the
 *     two hashes (default: none), isin (none) and
 *     refinancing_lookback_months (0 in the message: the ledger's default,
 *     36); in a co-issuer both keys; in a reference both keys; in an
 *     inline project id, city, name, budget and eu_objective or
 *     eu_objectives, the others optional (sdgs default [], total_cost 0:
 *     the budget); in a KPI target all but baseline (default "0");
 *   - an optional text (isin, taxonomy_activity, nace, location) that is
 *     given must not be "", and total_cost and refinancing_lookback_months
 *     must not be 0: "not given" is said by leaving the key out;
 *   - money (face_value, budget, total_cost) is a JSON string of integer
 *     minor units, read by esg_u64_parse: "100000", never 100000 or "1e5";
 *   - KPI values (baseline, target) are decimal strings with at most three
 *     decimals, read by esg_milli_parse into thousandths: "1500.5";
 *   - counts (units) are a JSON integer or a decimal string; basis points,
 *     months, SDGs are JSON integers in their field's range (sdgs 1..17,
 *     refinancing_lookback_months 1..120);
 *   - dates are real calendar dates "YYYY-MM-DD" (esg_date_parse);
 *   - hashes are exactly 64 hex characters;
 *   - kind and the objectives are names, in any case: GREEN_BOND,
 *     SOCIAL_BOND, SUSTAINABILITY_BOND, SUSTAINABILITY_LINKED_BOND,
 *     GREEN_LOAN; CCM, CCA, WTR, CE, PPC, BIO;
 *   - strings hold no NUL character (the codec checks UTF-8 later).
 * Errors name the JSON path and what is wrong, lower case, no trailing
 * period: "co_issuers[1].share_bps: expected an integer, got a string",
 * "projects[0].budget: '12.5' is not an amount in minor units".
 *
 * esgw_spec_check then applies the rules that depend on the spec alone
 * (issue 3, "Instruments"), so that co-issuers never collect signatures on
 * a spec every node would refuse. It is a courtesy: the contract
 * (contracts/instrument.c) is the authority and checks these and the
 * rules that need the ledger's state (members, KPI catalogue, schedule).
 *
 * Memory: see wallet/pbjson_in.h -- every part of a parsed spec comes
 * from the caller's arena allocator and is never passed to esg_pb_free().
 *
 * Threads: no global state; reentrant.
 */
#ifndef ESGW_SPEC_H
#define ESGW_SPEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/codec.h"
#include "wallet/pbjson_in.h"

#define ESGW_SPEC_MAX_FILE (1u << 20) /* a spec larger than a tx is no spec */

/* Parses the `len` bytes at `json` into a new spec *out (arena memory).
 * Returns 0, or (*out NULL, err[0..errlen) naming the path):
 *   ESG_ERR_JSON                not JSON, a duplicated key, an unknown or
 *                               missing key, a value of the wrong JSON type
 *   ESG_ERR_BAD_DECIMAL         a money or KPI string that is not one
 *   ESG_ERR_OVERFLOW            a number beyond its field's range
 *   ESG_ERR_BAD_DATE            not a real "YYYY-MM-DD" date
 *   ESG_ERR_HEX                 a hash that is not 64 hex characters
 *   ESG_ERR_BAD_INSTRUMENT_KIND an unknown kind
 *   ESG_ERR_BAD_ISIN            an isin of ""
 *   ESG_ERR_BAD_PROJECT         an unknown objective, one listed twice, an
 *                               empty list of them, an SDG out of 1..17, a
 *                               total_cost of "0", a "" taxonomy_activity,
 *                               nace or location
 *   ESG_ERR_NOMEM */
int esgw_spec_parse(esg_pb_instrument_spec **out, const char *json, size_t len,
                    esgw_alloc_fn alloc, void *ctx, char *err, size_t errlen);

/* Checks the rules of issue 3 that a spec can break on its own. Returns 0
 * or the contract's code for the first broken rule, err naming the path:
 *   ESG_ERR_BAD_INSTRUMENT_ID   id not [A-Z0-9-]{3,40}
 *   ESG_ERR_BAD_ISIN            an isin that is not one (esg_isin_valid)
 *   ESG_ERR_BAD_INSTRUMENT_KIND kind not one of the five
 *   ESG_ERR_BAD_CURRENCY        currency not three upper-case letters
 *   ESG_ERR_BAD_AMOUNT          face_value or units zero
 *   ESG_ERR_CO_ISSUER_COUNT     not 1..10 co-issuers
 *   ESG_ERR_DUPLICATE_CO_ISSUER a co-issuer named twice
 *   ESG_ERR_BAD_SHARE           a share of 0
 *   ESG_ERR_SHARES_SUM          shares not summing to exactly 10000
 *   ESG_ERR_BAD_PROJECT_ID      a project id not [A-Z0-9-]{3,40}
 *   ESG_ERR_BAD_PROJECT         a project id listed twice; an inline
 *                               project's taxonomy_activity or nace not of
 *                               their shape (esg_taxonomy_activity_valid,
 *                               esg_nace_valid)
 *   ESG_ERR_PROJECT_CITY        an inline project whose city is no
 *                               co-issuer (a reference's city is the
 *                               registered project's: the ledger checks it)
 *   ESG_ERR_BAD_DATES           issue date not before maturity
 *   ESG_ERR_BAD_FREQUENCY       coupon frequency not 1, 3, 6 or 12
 *   ESG_ERR_KPI_TARGETS         an SLB without KPI targets, or another
 *                               kind with some
 *   ESG_ERR_BAD_DATE            a date field that is not a real date */
int esgw_spec_check(const esg_pb_instrument_spec *spec, char *err, size_t errlen);

/* Writes `spec` in the file format above: a new JSON object (the caller
 * json_decref's it), or NULL when out of memory. Money as minor-unit
 * strings, KPI values with three decimals ("0.000"), hashes in lower-case
 * hex (omitted when empty), enums by name (a value the schema does not
 * list as its number). esgw_spec_parse of its dump gives back an equal
 * spec (the same canonical encoding). A project with nothing but id and
 * budget is written as a reference; optional keys that are not set are
 * left out. */
json_t *esgw_spec_to_json(const esg_pb_instrument_spec *spec);

#endif
