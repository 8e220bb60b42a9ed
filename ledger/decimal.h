/* Decimal strings for amounts and impact values (docs/SPEC.md, "Value types"):
 * money is integer minor units shown as a decimal string ("100000");
 * impact values are int64 thousandths of the KPI unit shown with up to
 * three decimals ("1234.567", "-0.5" is "-0.500" when formatted).
 * Parsing is strict: no spaces, no '+', no exponent, no leading zeros
 * beyond a single "0", at most three decimals; every value is checked for
 * overflow. Pure functions, thread-safe. */
#ifndef ESG_DECIMAL_H
#define ESG_DECIMAL_H

#include <stdint.h>

/* Parses a uint64 decimal ("0".."18446744073709551615"). Returns 0,
 * ESG_ERR_BAD_DECIMAL or ESG_ERR_OVERFLOW. */
int esg_u64_parse(const char *s, uint64_t *out);

/* Writes v in decimal; out holds at least 21 bytes. */
void esg_u64_format(uint64_t v, char out[21]);

/* Parses a decimal with at most three fractional digits into thousandths
 * ("1234.5" -> 1234500, "-2" -> -2000). Returns 0, ESG_ERR_BAD_DECIMAL or
 * ESG_ERR_OVERFLOW. */
int esg_milli_parse(const char *s, int64_t *out);

/* Formats thousandths with exactly three decimals ("1234.500"); out holds
 * at least 32 bytes. */
void esg_milli_format(int64_t v, char out[32]);

#endif
