/* Identifiers of the financial and statistical world that the domain
 * records carry: LEI (ISO 17442), ISIN (ISO 6166), NACE Rev. 2 codes, EU
 * Taxonomy activity numbers, ISO 4217 currency minor units, project ids.
 *
 * Each check is of the shape and, where the standard defines one, the
 * check digits; no registry is consulted (a ledger cannot look up GLEIF).
 * All are pure and deterministic: contracts use them. NULL is never valid.
 */
#ifndef ESG_IDENT_H
#define ESG_IDENT_H

#include <stdbool.h>

/* True when `s` matches [A-Z0-9-]{3,40}: a project id. */
bool esg_project_id_valid(const char *s);

/* True for a Legal Entity Identifier: 18 characters [A-Z0-9] then two
 * digits, such that the whole, read as a number with A=10 .. Z=35, is 1
 * modulo 97 (ISO 17442, ISO 7064 MOD 97-10): "5493001KJTIIGC8Y1R12". */
bool esg_lei_valid(const char *s);

/* True for an ISIN: two letters (the issuing country's code), nine
 * characters [A-Z0-9] and one check digit, the Luhn digit of the first
 * eleven with letters written as two digits (A=10 .. Z=35):
 * "AU0000XVGZA3", "US0378331005". */
bool esg_isin_valid(const char *s);

/* True for a NACE Rev. 2 code: a section letter A..U, optionally followed
 * by a two-digit division, and then optionally a '.' and one or two
 * digits (group, class): "F", "F41", "F41.2", "D35.11". */
bool esg_nace_valid(const char *s);

/* True for an EU Taxonomy activity number as the Delegated Acts number
 * them: one or two digits, '.', one or two digits ("7.2", "4.1", "10.12"). */
bool esg_taxonomy_activity_valid(const char *s);

/* The number of minor-unit decimals of ISO 4217 currency `code` (three
 * upper-case letters): 0 for JPY, ISK, KRW and the other zero-decimal
 * codes, 3 for BHD, JOD, KWD, OMR, TND, LYD, IQD, 2 for every other code.
 * Presentation only (money is stored in minor units). */
int esg_currency_decimals(const char *code);

#endif
