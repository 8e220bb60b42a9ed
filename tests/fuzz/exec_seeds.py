#!/usr/bin/env python3
"""Writes the seed corpus of the exec fuzz target (tests/fuzz/fuzz_exec.c).

The input encoding is described in the header comment of fuzz_exec.c; the
dictionaries below mirror the C arrays of the same names (keep them in the
same order). Usage: tests/fuzz/exec_seeds.py [OUTDIR]
(default tests/fuzz/corpus/exec). To see what a seed does, run a build of
the target on it with ESG_FUZZ_EXEC_TRACE=1 set.
"""
import os
import sys

MEMBERS = ["city-a", "city-b", "city-c", "inv-1", "inv-2", "ver-1", "agent", "aud-1",
           "city-d", "new-inv", "nobody", "Bad_ID", "x", ""]
INSTRUMENTS = ["GB-1", "SLB-1", "OFF-1", "NEW-1", "NEW-2", "gb-1", "X", ""]
PROJECTS = ["PA-1", "PB-1", "PC-1", "PS-1", "PO-1", "PA-2", "NEW-P", "pa-1", ""]
KPIS = ["ghg_avoided_tco2e", "ghg_emissions_tco2e", "renewable_capacity_mw",
        "renewable_generation_mwh", "energy_saved_mwh", "water_saved_m3",
        "wastewater_treated_m3", "waste_diverted_t", "clean_transport_passengers",
        "green_floor_area_m2", "affordable_housing_units", "beneficiaries",
        "fuzz_kpi_0", "no_such_kpi", "X", ""]
CATEGORIES = ["climate", "energy", "water", "waste", "transport", "buildings", "social",
              "bogus", ""]
PARAMS = ["governance_threshold_bps", "proposal_ttl_blocks", "max_block_txs",
          "max_block_bytes", "bogus"]
TEXTS = ["", "fuzz", "a reason", "line\nbreak", "\u00e9t\u00e9",
         "https://example.org/evidence.pdf"]
NAMES = ["New member", "", "Joint green bond", "a\x7f"]
COUNTRIES = ["GR", "", "gr", "GRC", "G1"]
CURRENCIES = ["EUR", "USD", "eur", "EURO", ""]
UNITS = ["t", "MWh", ""]
DATES = ["2026-01-15", "2027-01-15", "2028-01-15", "2026-07-15", "2027-01-01", "2026-01-01",
         "2025-12-31", "2026-01-20", "2026-04-15", "2026-10-15", "2029-01-15", "2026-02-30",
         "", "9999-12-31", "0001-01-01", "2026-1-15"]

# Keys (signer bytes and KEY picks).
K_VAL, K_CA, K_CB, K_CC, K_INV1, K_INV2, K_VER, K_AGENT, K_CA2, K_AUD = range(10)
K_SPARE = 10

# Actions.
(PROPOSE, VOTE, ADD_ACCOUNT, REVOKE_ACCOUNT, ISSUE, SUBSCRIBE, CLOSE, TRANSFER, PAYMENT,
 ALLOCATE, REPORT, ATTEST, REVOKE_ATT, DISPUTE) = range(14)

# Base ids for REF.
R1, R2, A1, P0, P1, GB1_ISSUE = range(6)

# Mode bits.
NONCE_BASE, NONCE_RAW = 6, 7
SIG_EXTRA, SIG_CORRUPT = 2 << 3, 3 << 3
SIGNER_ONLY = 0x20

TYPICAL = b"\x10"    # U64/I64: the field's typical value
HASH = b"\x04"       # 32 bytes of 0xab


def u16(v):
    return v.to_bytes(2, "big")


def u64(v):
    return (v % (1 << 64)).to_bytes(8, "big")


def s(dic, value):
    """STR pick of a dictionary entry."""
    return bytes([dic.index(value)])


def raw(text):
    b = text.encode() if isinstance(text, str) else text
    assert len(b) < 256
    return bytes([0xE0, len(b)]) + b


def long_str(n):
    return b"\xff" + u16(n)


def date(value):
    return bytes([DATES.index(value)])


def gen_date(days_after_2025_01_01):
    return b"\xc0" + u16(days_after_2025_01_01)


def num(v):
    """U64/I64 pick of a literal: 0..127 directly, else through u64 raw."""
    if 0 <= v < 128:
        return bytes([128 + v])
    return b"\x05" + u64(v)


def ref_base(i):
    return bytes([i])


def ref_tx(j):
    return bytes([0x80 + j])


def small(v):
    return bytes([v])


def header(n_tx, hours=1, determinism=True):
    assert 1 <= n_tx <= 8
    return bytes([(n_tx - 1) | (0x08 if determinism else 0)]) + u16(hours)


# Nonces of the base state (fuzz_exec.c setup()), for seeds whose signer
# has a refused transaction before the next one: nonce=BASE_NONCE[k] + n.
BASE_NONCE = {K_CA: 8, K_CB: 3, K_CC: 1, K_INV1: 2, K_INV2: 2, K_VER: 1, K_AGENT: 0}


def tx(signer, action, fields=b"", mode=0, extra=b"", nonce=None):
    if nonce is not None:
        mode |= NONCE_RAW
        extra = u64(nonce) + extra
    return bytes([signer, action, mode]) + extra + fields


def issue(template, mask=0, fields=b""):
    return small(template) + u16(mask) + fields


def hours_until(day_offset_from_2026_01_21):
    return day_offset_from_2026_01_21 * 24


SEEDS = {}

# Issue a joint bond, subscribe, close, allocate, report, attest, dispute,
# revoke the attestation: every instrument and impact action in order.
SEEDS["lifecycle.bin"] = header(8) + b"".join([
    tx(K_CA, ISSUE, issue(0)),                                  # NEW-1, co-signed by b, c
    tx(K_INV1, SUBSCRIBE, s(INSTRUMENTS, "NEW-1") + num(100)),
    tx(K_CA, CLOSE, s(INSTRUMENTS, "NEW-1")),
    tx(K_CA, ALLOCATE, s(INSTRUMENTS, "NEW-1") + s(PROJECTS, "PA-1") + TYPICAL +
       date("2026-01-20") + HASH),
    tx(K_CA, REPORT, s(INSTRUMENTS, "NEW-1") + s(PROJECTS, "PA-1") +
       s(KPIS, "ghg_avoided_tco2e") + TYPICAL + date("2026-01-01") + date("2026-01-20") +
       s(TEXTS, "fuzz") + HASH + s(TEXTS, "https://example.org/evidence.pdf") + b"\x00" +
       s(TEXTS, "")),
    tx(K_VER, ATTEST, ref_tx(4) + small(1) + TYPICAL + HASH),
    tx(K_INV1, DISPUTE, ref_tx(4) + s(TEXTS, "a reason")),
    tx(K_VER, REVOKE_ATT, ref_tx(5) + s(TEXTS, "a reason")),
])

# A year on: GB-1's first coupon, SLB-1's first two, a transfer, and a
# payment on the loan still in its offering.
SEEDS["coupons.bin"] = header(6, hours_until(359) + 1) + b"".join([
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(1) + date("2027-01-15")),
    tx(K_INV1, TRANSFER, s(INSTRUMENTS, "GB-1") + s(MEMBERS, "inv-2") + TYPICAL),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "SLB-1") + small(1) + date("2026-07-15")),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "SLB-1") + small(1) + date("2027-01-15")),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "OFF-1") + small(1) + date("2026-04-15")),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(1) + date("2027-01-15"), nonce=4),
])

# Past maturity: both coupons and the redemption of GB-1, then proceeds and
# impact on the matured bond.
SEEDS["maturity.bin"] = header(6, hours_until(725)) + b"".join([
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(2) + date("2028-01-15")),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(1) + date("2027-01-15"),
       mode=NONCE_BASE),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(1) + date("2028-01-15"), nonce=2),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(2) + date("2028-01-15"), nonce=3),
    tx(K_CB, ALLOCATE, s(INSTRUMENTS, "GB-1") + s(PROJECTS, "PB-1") + TYPICAL +
       date("2028-01-15") + HASH),
    tx(K_INV2, DISPUTE, ref_base(R2) + s(TEXTS, "fuzz")),
])

# The sustainability-linked bond: a report and its attestation, then the
# coupons after the KPI observation date (step-up evaluation).
SEEDS["slb.bin"] = header(6, hours_until(541)) + b"".join([
    tx(K_CA2, REPORT, s(INSTRUMENTS, "SLB-1") + s(PROJECTS, "PS-1") +
       s(KPIS, "ghg_avoided_tco2e") + num(6000000) + gen_date(365) + gen_date(729) +
       s(TEXTS, "") + HASH + s(TEXTS, "") + b"\x00" + s(TEXTS, "")),
    tx(K_VER, ATTEST, ref_tx(0) + small(2) + num(4000) + HASH),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "SLB-1") + small(1) + date("2026-07-15")),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "SLB-1") + small(1) + date("2027-01-15")),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "SLB-1") + small(1) + gen_date(925)),  # 2027-07-15
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "SLB-1") + small(1) + gen_date(1106)),  # 2028-01-12
])

# Governance: P1 passes (a new validator from height + 2), a member is
# suspended and then refused, an account is added and another revoked.
SEEDS["governance.bin"] = header(8) + b"".join([
    tx(K_CB, VOTE, ref_base(P1) + b"\x01"),
    tx(K_CC, VOTE, ref_base(P1) + b"\x01"),
    tx(K_CA, PROPOSE, small(2) + s(MEMBERS, "inv-2") + s(TEXTS, "fuzz")),
    tx(K_CB, VOTE, ref_tx(2) + b"\x01"),
    tx(K_CC, VOTE, ref_tx(2) + b"\x01"),
    tx(K_INV2, TRANSFER, s(INSTRUMENTS, "GB-1") + s(MEMBERS, "inv-1") + TYPICAL),
    tx(K_CA, ADD_ACCOUNT, bytes([K_SPARE + 2]) + small(2) + small(1) + small(2)),
    tx(K_CA, REVOKE_ACCOUNT, bytes([K_CA2])),
])

# More proposals: accredit ver-1 for energy so that it can attest R2, admit
# a member, and set a parameter (left open).
SEEDS["proposals.bin"] = header(8) + b"".join([
    tx(K_CA, PROPOSE, small(4) + s(MEMBERS, "ver-1") + small(1) + s(CATEGORIES, "energy") +
       s(TEXTS, "")),
    tx(K_CB, VOTE, ref_tx(0) + b"\x01"),
    tx(K_CC, VOTE, ref_tx(0) + b"\x01"),
    tx(K_VER, ATTEST, ref_base(R2) + small(1) + num(700) + HASH),
    tx(K_CB, PROPOSE, small(1) + s(MEMBERS, "city-d") + small(1) + s(NAMES, "New member") +
       s(COUNTRIES, "GR") + bytes([K_SPARE + 3]) + s(TEXTS, "fuzz")),
    tx(K_CA, VOTE, ref_tx(4) + b"\x01"),
    tx(K_CC, VOTE, ref_tx(4) + b"\x00"),
    tx(K_CC, PROPOSE, small(9) + s(PARAMS, "max_block_txs") + num(2) + s(TEXTS, "")),
])

# Edge values: a spec whose face value x units overflows, a subscription of
# 2^64 - 1 units, a huge allocation, a report of INT64_MAX that supersedes
# R1, an attestation of INT64_MIN, a long reason.
SEEDS["overflow.bin"] = header(6) + b"".join([
    tx(K_CA, ISSUE, issue(1, (1 << 0) | (1 << 4) | (1 << 5),
                          s(INSTRUMENTS, "NEW-2") + b"\x06" + b"\x0e")),
    tx(K_INV1, SUBSCRIBE, s(INSTRUMENTS, "OFF-1") + b"\x06"),
    tx(K_CA, ALLOCATE, s(INSTRUMENTS, "GB-1") + s(PROJECTS, "PA-1") + b"\x06" +
       date("2026-01-20") + HASH, mode=NONCE_BASE),
    tx(K_CA, REPORT, s(INSTRUMENTS, "GB-1") + s(PROJECTS, "PA-1") +
       s(KPIS, "ghg_avoided_tco2e") + b"\x07" + date("2026-01-01") + date("2026-01-20") +
       long_str(1000) + HASH + s(TEXTS, "") + b"\x80" + ref_base(R1) + s(TEXTS, "a reason"),
       mode=NONCE_BASE),
    tx(K_VER, ATTEST, ref_tx(3) + small(1) + b"\x08" + HASH),
    tx(K_VER, REVOKE_ATT, ref_base(A1) + long_str(501), mode=NONCE_BASE),
])

# Signature and nonce faults: an issue without its co-signers, one with an
# extra key, a corrupted signature, stale and raw nonces, an unknown signer.
SEEDS["faults.bin"] = header(7) + b"".join([
    tx(K_CA, ISSUE, issue(0), mode=SIGNER_ONLY),
    tx(K_CA, ISSUE, issue(3, 1 << 0, s(INSTRUMENTS, "NEW-2")), mode=SIG_EXTRA,
       extra=bytes([K_AUD])),
    tx(K_INV1, SUBSCRIBE, s(INSTRUMENTS, "OFF-1") + num(5), mode=SIG_CORRUPT),
    tx(K_INV1, SUBSCRIBE, s(INSTRUMENTS, "OFF-1") + num(5), mode=NONCE_RAW, extra=u64(0)),
    tx(K_INV2, SUBSCRIBE, s(INSTRUMENTS, "OFF-1") + num(5)),
    tx(K_INV2, SUBSCRIBE, s(INSTRUMENTS, "OFF-1") + num(5), mode=NONCE_BASE),
    tx(K_SPARE, VOTE, ref_base(P1) + b"\x01"),
])

# Custom specs: four co-issuers (one not a city), projects with bad SDGs,
# KPI targets on a green bond, a social bond with monthly coupons.
SEEDS["specs.bin"] = header(4) + b"".join([
    tx(K_CA, ISSUE, issue(0, 1 << 10, small(4) + s(MEMBERS, "city-a") + num(4000) +
                          s(MEMBERS, "city-b") + num(3000) + s(MEMBERS, "city-c") +
                          num(2000) + s(MEMBERS, "inv-1") + num(1000))),
    tx(K_CB, ISSUE, issue(3, 1 << 12, small(2) + s(PROJECTS, "PB-1") + s(MEMBERS, "city-b") +
                          s(NAMES, "New member") + small(3) + small(3) + num(7) + num(7) +
                          num(18) + TYPICAL + s(PROJECTS, "PC-1") + s(MEMBERS, "city-c") +
                          s(NAMES, "New member") + small(1) + small(0) + num(0))),
    tx(K_CA, ISSUE, issue(0, 1 << 13, small(1) + s(KPIS, "ghg_avoided_tco2e") + TYPICAL +
                          TYPICAL + date("2027-01-01") + TYPICAL), mode=NONCE_BASE),
    tx(K_CB, ISSUE, issue(3, 1 << 0, s(INSTRUMENTS, "NEW-2")), mode=NONCE_BASE),
])

# A block time far in the future (flags bit 4: a raw u64 of ms), past year
# 9999: the coupon dates, the due checks and the date formatting meet it.
SEEDS["far_future.bin"] = bytes([2 | 0x08 | 0x10]) + u64(253402300800000 + 86400000) + b"".join([
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(1) + date("2027-01-15")),
    tx(K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(2) + date("9999-12-31")),
    tx(K_CA, ALLOCATE, s(INSTRUMENTS, "GB-1") + s(PROJECTS, "PA-1") + TYPICAL +
       date("9999-12-31") + HASH),
])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "exec")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
