/* Figures for people and for spreadsheets: money in a currency's major
 * unit, shares of a whole that add up to it, and CSV fields.
 *
 * The ledger keeps money as integer minor units and shares as basis points
 * (contracts/reports.h); these functions only write them out, exactly --
 * no floating point anywhere:
 *   - money: minor units shown with the currency's decimals (ISO 4217
 *     minor units, ledger/ident.h esg_currency_decimals) and, for people,
 *     thousands separators: 190000000 EUR is "1,900,000.00";
 *   - shares: a table whose rows make up a whole (projects plus what is
 *     unallocated = the amount raised) shows percentages that add up to
 *     100.00 %, by the largest remainder method; a lone ratio is rounded
 *     half up, as the node rounds its share_bps;
 *   - CSV: RFC 4180 fields, one header row per table, CRLF line ends.
 *
 * Pure functions with no state: any thread. Results are returned by value
 * in small fixed-size structs (`.s` is the text), like esg_hash_hex, or
 * written to the caller's FILE.
 */
#ifndef ESGW_FORMAT_H
#define ESGW_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The most fractional digits esgw_fmt_money takes: a uint64 has 20. */
#define ESGW_FMT_MAX_DECIMALS 19

/* Big enough for any uint64 with separators and a decimal point, and for
 * any basis-point figure as a percentage. */
typedef struct esgw_fmt_text {
    char s[40];
} esgw_fmt_text;

/* `minor` minor units as a decimal of the major unit with `decimals`
 * fractional digits (0..ESGW_FMT_MAX_DECIMALS; more is a bug: asserted),
 * the integer part grouped by thousands with `sep` (',' for people, '\0'
 * for none, as CSV wants):
 *   (190000000, 2, ',') -> "1,900,000.00"    (5, 3, ',') -> "0.005"
 *   (1234567, 0, ',')   -> "1,234,567"       (190000000, 2, 0) -> "1900000.00"
 *   (UINT64_MAX, 2, ',') -> "184,467,440,737,095,516.15" */
esgw_fmt_text esgw_fmt_money(uint64_t minor, unsigned decimals, char sep);

/* Basis points as a percentage with two decimals, followed by '%' when
 * `sign`: 1234 -> "12.34%", 10000 -> "100.00%", 5 -> "0.05%"; any uint64
 * (12500 -> "125.00%"). */
esgw_fmt_text esgw_fmt_bps(uint64_t bps, bool sign);

/* part / whole in basis points rounded half up (the node's rule for
 * share_bps): 1 / 3 -> 3333, 2 / 3 -> 6667, 1 / 20000 -> 1 (0.5 bp up);
 * 0 when whole is 0. Exact for any uint64 (128-bit intermediate); a part
 * larger than the whole gives more than 10000, capped at UINT64_MAX. */
uint64_t esgw_fmt_bps_of(uint64_t part, uint64_t whole);

/* Shares that add up to the whole they divide: out[i] is parts[i]'s share
 * of `whole` units -- 10000 for basis points adding up to 100.00 %, or a
 * parent row's own share to split it among its rows -- by the largest
 * remainder method (Hamilton's). With S = parts[0] + ... + parts[n-1],
 * every row first gets floor(parts[i] x whole / S); the units still
 * missing to `whole` then go one each to the rows with the largest
 * remainders, the earlier row first among equal remainders. So when S > 0
 * the shares sum to exactly `whole`, and each is within one unit of its
 * exact value (three equal thirds of 10000: 3334, 3333, 3333). When S is
 * 0 (n is 0, or every part is 0) every share is 0. Exact for any uint64
 * parts and whole (128-bit arithmetic). `out` has room for n values; the
 * caller owns both arrays. Returns 0, or ESG_ERR_NOMEM (a scratch array of
 * n entries), out then all 0. */
int esgw_fmt_shares(uint64_t *out, const uint64_t *parts, size_t n, uint64_t whole);

/* Writes `s` on f as one CSV field (RFC 4180): as it is, or between
 * double quotes with each quote doubled when it holds a comma, a double
 * quote, a CR or an LF ("Solar, \"phase 1\"" -> "\"Solar, \"\"phase 1\"\"\"");
 * NULL is the empty field. Then "," -- or CRLF when `last`, the row's
 * last field. */
void esgw_csv_field(FILE *f, const char *s, bool last);

/* Writes one CSV row of n fields (n >= 1) with esgw_csv_field. */
void esgw_csv_row(FILE *f, const char *const *fields, size_t n);

#endif
