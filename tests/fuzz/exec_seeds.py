#!/usr/bin/env python3
"""Writes the seed corpus of the exec fuzz target (tests/fuzz/fuzz_exec.c).

The input encoding is described in the header comment of fuzz_exec.c; the
dictionaries below mirror the C arrays of the same names (keep them in the
same order). Each seed lists the result its transactions must have.

Usage: tests/fuzz/exec_seeds.py [OUTDIR]        write the seeds (default
                                                tests/fuzz/corpus/exec)
       tests/fuzz/exec_seeds.py --check FUZZ_EXEC
                                                run a build of the target on
                                                each seed with
                                                ESG_FUZZ_EXEC_TRACE=1 and
                                                compare every result with
                                                the seed's expectation
"""
import datetime
import os
import subprocess
import sys
import tempfile

MEMBERS = ["city-a", "city-b", "city-c", "inv-1", "inv-2", "ver-1", "agent", "aud-1",
           "city-d", "new-inv", "nobody", "Bad_ID", "x", ""]
INSTRUMENTS = ["GB-1", "SLB-1", "OFF-1", "NEW-1", "NEW-2", "gb-1", "X", "", "NEW-3"]
PROJECTS = ["PA-1", "PB-1", "PC-1", "PS-1", "PO-1", "PA-2", "NEW-P", "pa-1", "",
            "PR-1", "PU-1", "AB", "P123456789012345678901234567890123456789",
            "P1234567890123456789012345678901234567890"]
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
         "", "9999-12-31", "0001-01-01", "2026-1-15",
         "2026-01-21", "2026-01-22", "2023-01-15", "2023-01-14", "2026-01-14", "2028-01-16",
         "2026-02-01", "2027-02-01", "2016-01-15", "2016-01-14", "2025-01-15", "2025-01-14",
         "2026-01-18", "2025-06-01"]
PROGRAMMES = ["ERDF 2021-2027", "", "Cohesion Fund", "Recovery and Resilience Facility",
              "a\x01b"]
TAXONOMY = ["7.2", "", "4.1", "10.12", "7", "7.2.1", "a.b", "100.1"]
NACE = ["F41.2", "", "D35.11", "F", "F41", "Z99", "f41.2", "F41.234"]
LEIS = ["5493001KJTIIGC8Y1R12", "", "5493001KJTIIGC8Y1R13", "5493001KJTIIGC8Y1R1",
        "5493001kjtiigc8y1r12"]
ISINS = ["US0378331005", "AU0000XVGZA3", "", "US0378331006", "us0378331005", "US037833100"]

# Keys (signer bytes and KEY picks).
K_VAL, K_CA, K_CB, K_CC, K_INV1, K_INV2, K_VER, K_AGENT, K_CA2, K_AUD = range(10)
K_SPARE = 10

# Actions.
(PROPOSE, VOTE, ADD_ACCOUNT, REVOKE_ACCOUNT, ISSUE, SUBSCRIBE, CLOSE, TRANSFER, PAYMENT,
 ALLOCATE, REPORT, ATTEST, REVOKE_ATT, DISPUTE, REGISTER, UPDATE_PROJECT, FUND, UNFUND,
 UNALLOCATE) = range(19)

# Base ids for REF.
R1, R2, A1, P0, P1, GB1_ISSUE, AL1, AL2, FU1, FU2 = range(10)

# EuObjective and FundingSource values.
CCM, CCA, WTR, CE, PPC, BIO = range(1, 7)
EU, NATIONAL, REGIONAL, MUNICIPAL, PRIVATE, OTHER = range(1, 7)

# Mode bits.
NONCE_BASE, NONCE_RAW = 6, 7
SIG_EXTRA, SIG_CORRUPT = 2 << 3, 3 << 3
SIGNER_ONLY = 0x20

TYPICAL = b"\x10"    # U64/I64: the field's typical value
LIMIT = b"\x7e"      # U64E: the field's limit
PAST_LIMIT = b"\x7f"  # U64E: the limit + 1
HASH = b"\x04"       # 32 bytes of 0xab
NO_HASH = b"\x00"    # empty

# The base tip is 2026-01-21T00:00:00Z; a block is 1 ms + N hours later.
TIP_DATE = datetime.date(2026, 1, 21)


def u16(v):
    return v.to_bytes(2, "big")


def u24(v):
    return v.to_bytes(3, "big")


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


def day(y, m, d):
    """A DATE pick of any day of 2025..2035."""
    return gen_date((datetime.date(y, m, d) - datetime.date(2025, 1, 1)).days)


def rel_date(offset):
    """DATE pick: the block's date + offset days (-8..7)."""
    assert -8 <= offset <= 7
    return bytes([0xD8 + offset])


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


def hours_until(day_offset_from_2026_01_21):
    return day_offset_from_2026_01_21 * 24


def hours_to(y, m, d):
    """Hours after the tip of a block on that day."""
    return hours_until((datetime.date(y, m, d) - TIP_DATE).days)


# Nonces of the base state (fuzz_exec.c setup()).
BASE_NONCE = {K_CA: 11, K_CB: 8, K_CC: 1, K_INV1: 2, K_INV2: 2, K_VER: 1, K_AGENT: 0}


def tx(signer, action, fields=b"", mode=0, extra=b"", nonce=None):
    if nonce is not None:
        mode |= NONCE_RAW
        extra = u64(nonce) + extra
    return bytes([signer, action, mode]) + extra + fields


class Block:
    """A seed built from transactions and the result each must have. The
    nonce of each is the one that makes it valid given which of the
    signer's earlier transactions succeed: the default mode when it is
    the signer's next counting all its earlier ones, the base nonce when
    none succeeded, a raw u64 otherwise."""

    def __init__(self, hours=1, raw_time=None, determinism=True):
        self.hours, self.raw_time, self.determinism = hours, raw_time, determinism
        self.txs, self.expect = [], []
        self.pending, self.done = {}, {}

    def add(self, expect, signer, action, fields=b"", mode=0, extra=b""):
        p, d = self.pending.get(signer, 0), self.done.get(signer, 0)
        if mode & 7 == 0 and p != d:
            if d == 0:
                mode |= NONCE_BASE
            else:
                mode |= NONCE_RAW
                extra = u64(BASE_NONCE.get(signer, 0) + 1 + d) + extra
        self.txs.append(bytes([signer, action, mode]) + extra + fields)
        self.expect.append(expect)
        self.pending[signer] = p + 1
        self.done[signer] = d + (expect == "OK")
        return len(self.txs) - 1

    def data(self):
        n = len(self.txs)
        assert 1 <= n <= 8
        flags = (n - 1) | (0x08 if self.determinism else 0)
        if self.raw_time is not None:
            head = bytes([flags | 0x10]) + u64(self.raw_time)
        else:
            head = bytes([flags]) + u16(self.hours)
        return head + b"".join(self.txs)


def issue(template, mask=0, fields=b""):
    return small(template) + u24(mask) + fields


def spec_project(pid, budget=TYPICAL, inline=None, gbs=None):
    """A project of a replaced project list (mask bit 12). inline: (city,
    name, objective, [sdgs]); gbs: ([objectives], taxonomy, nace,
    total_cost, location)."""
    form = (1 if inline else 0) | (2 if gbs else 0)
    b = s(PROJECTS, pid) + small(form)
    if inline:
        city, name, obj, sdgs = inline
        b += s(MEMBERS, city) + s(NAMES, name) + small(obj) + small(len(sdgs))
        b += b"".join(num(v) for v in sdgs)
    b += budget
    if gbs:
        objs, tax, nace, cost, loc = gbs
        b += small(len(objs)) + b"".join(small(o) for o in objs)
        b += s(TAXONOMY, tax) + s(NACE, nace) + cost + s(TEXTS, loc)
    return b


def spec_projects(*projects):
    return small(len(projects)) + b"".join(projects)


def register(pid, city, name="New member", objs=(CCM,), tax="", nace="", sdgs=(),
             cost=TYPICAL, currency="EUR", location=""):
    return (s(PROJECTS, pid) + s(MEMBERS, city) + s(NAMES, name) + small(len(objs)) +
            b"".join(small(o) for o in objs) + s(TAXONOMY, tax) + s(NACE, nace) +
            small(len(sdgs)) + b"".join(num(v) for v in sdgs) + cost +
            s(CURRENCIES, currency) + s(TEXTS, location))


def update(pid, cost=TYPICAL, reason=None):
    return s(PROJECTS, pid) + cost + (reason if reason is not None else s(TEXTS, "a reason"))


def fund(pid, source=EU, programme="ERDF 2021-2027", amount=TYPICAL, when=None, h=HASH):
    return (s(PROJECTS, pid) + small(source) + s(PROGRAMMES, programme) + amount +
            (when if when is not None else date("2026-01-21")) + h)


def reason_ref(ref, reason=None):
    return ref + (reason if reason is not None else s(TEXTS, "a reason"))


def allocate(ins, pid, amount=TYPICAL, when=None, h=HASH):
    return (s(INSTRUMENTS, ins) + s(PROJECTS, pid) + amount +
            (when if when is not None else date("2026-01-21")) + h)


def report(ins, pid, kpi, start, end, value=TYPICAL, supersedes=None, reason=""):
    return (s(INSTRUMENTS, ins) + s(PROJECTS, pid) + s(KPIS, kpi) + value + start + end +
            s(TEXTS, "fuzz") + HASH + s(TEXTS, "") +
            (b"\x80" + supersedes if supersedes is not None else b"\x00") + s(TEXTS, reason))


def add_member(mid, kind, key, lei="", population=b"\x80", name="New member", country="GR",
               description="fuzz"):
    return (small(1) + s(MEMBERS, mid) + small(kind) + s(NAMES, name) + s(COUNTRIES, country) +
            bytes([key]) + s(LEIS, lei) + population + s(TEXTS, description))


SEEDS = {}
EXPECT = {}


def seed(name, block):
    SEEDS[name] = block.data()
    EXPECT[name] = block.expect


# Issue a joint bond, subscribe, close, allocate, report (a period before
# R1's), attest, dispute, revoke the attestation: every instrument and
# impact action in order.
b = Block()
b.add("OK", K_CA, ISSUE, issue(0))                           # NEW-1, co-signed by b, c
b.add("OK", K_INV1, SUBSCRIBE, s(INSTRUMENTS, "NEW-1") + num(100))
b.add("OK", K_CA, CLOSE, s(INSTRUMENTS, "NEW-1"))
b.add("OK", K_CA, ALLOCATE, allocate("NEW-1", "PA-1", when=date("2026-01-20")))
b.add("OK", K_CA, REPORT, report("NEW-1", "PA-1", "ghg_avoided_tco2e", day(2025, 7, 1),
                                 date("2025-12-31")))
b.add("OK", K_VER, ATTEST, ref_tx(4) + small(1) + TYPICAL + HASH)
b.add("OK", K_INV1, DISPUTE, ref_tx(4) + s(TEXTS, "a reason"))
b.add("OK", K_VER, REVOKE_ATT, ref_tx(5) + s(TEXTS, "a reason"))
seed("lifecycle.bin", b)

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
EXPECT["coupons.bin"] = ["OK", "OK", "OK", "OK", "ERR_BAD_STATUS", "ERR_WRONG_DUE_DATE"]

# Past maturity: both coupons and the redemption of GB-1, then proceeds on
# the matured bond, and a dispute of R2 (of no instrument: a holder of one
# financing PB-1 may dispute it) by inv-2, which holds nothing once GB-1 is
# redeemed.
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
EXPECT["maturity.bin"] = ["ERR_REDEMPTION_EARLY", "OK", "OK", "OK", "OK", "ERR_NOT_HOLDER"]

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
EXPECT["slb.bin"] = ["OK", "OK", "OK", "OK", "OK", "ERR_WRONG_DUE_DATE"]

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
EXPECT["governance.bin"] = ["OK"] * 5 + ["ERR_MEMBER_SUSPENDED", "OK", "OK"]

# More proposals: accredit ver-1 for energy so that it can attest R2, admit
# a member (with an LEI and a population), and set a parameter (left open).
SEEDS["proposals.bin"] = header(8) + b"".join([
    tx(K_CA, PROPOSE, small(4) + s(MEMBERS, "ver-1") + small(1) + s(CATEGORIES, "energy") +
       s(TEXTS, "")),
    tx(K_CB, VOTE, ref_tx(0) + b"\x01"),
    tx(K_CC, VOTE, ref_tx(0) + b"\x01"),
    tx(K_VER, ATTEST, ref_base(R2) + small(1) + num(700) + HASH),
    tx(K_CB, PROPOSE, add_member("city-d", 1, K_SPARE + 3, lei="5493001KJTIIGC8Y1R12",
                                 population=num(120000))),
    tx(K_CA, VOTE, ref_tx(4) + b"\x01"),
    tx(K_CC, VOTE, ref_tx(4) + b"\x00"),
    tx(K_CC, PROPOSE, small(9) + s(PARAMS, "max_block_txs") + num(2) + s(TEXTS, "")),
])
EXPECT["proposals.bin"] = ["OK"] * 8

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
EXPECT["overflow.bin"] = ["ERR_OVERFLOW", "ERR_INSUFFICIENT_UNITS", "ERR_ALLOCATION_EXCEEDS",
                          "OK", "ERR_BAD_AMOUNT", "ERR_BAD_TEXT"]

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
EXPECT["faults.bin"] = ["ERR_MISSING_COSIGNER", "ERR_NONCE", "ERR_BAD_SIGNATURE", "ERR_NONCE",
                        "OK", "ERR_NONCE", "ERR_UNKNOWN_SIGNER"]

# Custom specs: four co-issuers (one not a city), projects with bad SDGs,
# KPI targets on a green bond, a social bond with monthly coupons.
SEEDS["specs.bin"] = header(4) + b"".join([
    tx(K_CA, ISSUE, issue(0, 1 << 10, small(4) + s(MEMBERS, "city-a") + num(4000) +
                          s(MEMBERS, "city-b") + num(3000) + s(MEMBERS, "city-c") +
                          num(2000) + s(MEMBERS, "inv-1") + num(1000))),
    tx(K_CB, ISSUE, issue(3, 1 << 12, spec_projects(
        spec_project("PB-1", inline=("city-b", "New member", 3, [7, 7, 18])),
        spec_project("PC-1", num(0), inline=("city-c", "New member", 1, []))))),
    tx(K_CA, ISSUE, issue(0, 1 << 13, small(1) + s(KPIS, "ghg_avoided_tco2e") + TYPICAL +
                          TYPICAL + date("2027-01-01") + TYPICAL), mode=NONCE_BASE),
    tx(K_CB, ISSUE, issue(3, 1 << 0, s(INSTRUMENTS, "NEW-2")), mode=NONCE_BASE),
])
EXPECT["specs.bin"] = ["ERR_CO_ISSUER_NOT_CITY", "ERR_BAD_PROJECT", "ERR_KPI_TARGETS", "OK"]

# A block time far in the future (flags bit 4: a raw u64 of ms), past year
# 9999: the coupon dates, the due checks and the date formatting meet it,
# and a funding and two reversals record the block's date (0000-00-00).
b = Block(raw_time=253402300800000 + 86400000)
b.add("OK", K_AGENT, PAYMENT, s(INSTRUMENTS, "GB-1") + small(1) + date("2027-01-15"))
b.add("ERR_REDEMPTION_EARLY", K_AGENT, PAYMENT,
      s(INSTRUMENTS, "GB-1") + small(2) + date("9999-12-31"))
b.add("ERR_DATE_AFTER_MATURITY", K_CA, ALLOCATE,
      allocate("GB-1", "PA-1", when=date("9999-12-31")))
b.add("OK", K_CA, FUND, fund("PA-1", when=date("9999-12-31")))
b.add("ERR_BAD_DATE", K_CA, FUND, fund("PA-1", when=rel_date(0)))
b.add("OK", K_CA, UNFUND, reason_ref(ref_base(FU1)))
b.add("OK", K_CA, UNALLOCATE, reason_ref(ref_base(AL1)))
seed("far_future.bin", b)

# RegisterProject: one with every field, then each refusal in order.
b = Block()
b.add("OK", K_CA, REGISTER, register("NEW-P", "city-a", objs=(CCM, WTR), tax="7.2",
                                     nace="F41.2", sdgs=(7, 11), location="fuzz"))
b.add("ERR_BAD_PROJECT_ID", K_CA, REGISTER, register("AB", "city-a"))
b.add("ERR_PROJECT_EXISTS", K_CB, REGISTER, register("NEW-P", "city-b"))
b.add("ERR_NOT_PROJECT_CITY", K_CA, REGISTER, register("PA-2", "city-b"))
b.add("ERR_UNAUTHORIZED", K_INV1, REGISTER, register("PA-2", "inv-1"))
b.add("ERR_BAD_PROJECT", K_CA, REGISTER, register("PA-2", "city-a", objs=()))
b.add("ERR_BAD_PROJECT", K_CA, REGISTER, register("PA-2", "city-a", nace="Z99"))
b.add("ERR_BAD_CURRENCY", K_CA, REGISTER,
      register("P123456789012345678901234567890123456789", "city-a", currency="eur"))
seed("project_register.bin", b)

# UpdateProject: PR-1's cost changes again, each refusal, and PA-1's cost
# falls below its financing (the cost basis is then the financing).
b = Block()
b.add("OK", K_CA, UPDATE_PROJECT, update("PR-1", num(5000000)))
b.add("ERR_NOT_PROJECT_CITY", K_CB, UPDATE_PROJECT, update("PR-1"))
b.add("ERR_UNKNOWN_PROJECT", K_CA, UPDATE_PROJECT, update("PA-2"))
b.add("ERR_BAD_AMOUNT", K_CA, UPDATE_PROJECT, update("PA-1", num(0)))
b.add("ERR_MISSING_REASON", K_CA, UPDATE_PROJECT, update("PA-1", reason=s(TEXTS, "")))
b.add("ERR_BAD_TEXT", K_CA, UPDATE_PROJECT, update("PA-1", reason=long_str(501)))
b.add("ERR_UNKNOWN_PROJECT", K_CA, UPDATE_PROJECT,
      update("P1234567890123456789012345678901234567890"))
b.add("OK", K_CA, UPDATE_PROJECT, update("PA-1", num(500000), s(TEXTS, "fuzz")))
seed("project_update.bin", b)

# RecordFunding: EU money on the block's date, municipal money on a
# registered project no instrument finances, then the refusals of the
# fields, in order, and the project's financing passing 2^64 - 1.
b = Block()
b.add("OK", K_CA, FUND, fund("PA-1"))
b.add("OK", K_CA, FUND, fund("PR-1", MUNICIPAL, "Cohesion Fund", num(150000),
                             date("2026-01-14")))
b.add("ERR_BAD_FUNDING_SOURCE", K_CA, FUND, fund("PA-1", 0))
b.add("ERR_BAD_FUNDING_SOURCE", K_CA, FUND, fund("PA-1", 7))
b.add("ERR_BAD_TEXT", K_CA, FUND, fund("PA-1", programme=""))
b.add("ERR_BAD_AMOUNT", K_CA, FUND, fund("PA-1", amount=num(0)))
b.add("ERR_DATE_IN_FUTURE", K_CA, FUND, fund("PA-1", when=date("2026-01-22")))
b.add("ERR_OVERFLOW", K_CA, FUND, fund("PA-1", amount=b"\x06"))
seed("funding.bin", b)

# RecordFunding refused before the fields (project, city), a bad date and
# hash, and private money dated the day before the block.
b = Block()
b.add("ERR_NOT_PROJECT_CITY", K_CB, FUND, fund("PA-1"))
b.add("ERR_UNKNOWN_PROJECT", K_CB, FUND, fund("PA-2"))
b.add("ERR_BAD_DATE", K_CB, FUND, fund("PU-1", when=date("2026-02-30")))
b.add("ERR_BAD_HASH", K_CB, FUND, fund("PU-1", h=NO_HASH))
b.add("OK", K_CB, FUND, fund("PU-1", PRIVATE, "Cohesion Fund", num(90000), rel_date(-1)))
b.add("ERR_NOT_PROJECT_CITY", K_AGENT, FUND, fund("PU-1"))
seed("funding_refusals.bin", b)

# ReverseFunding: another city's, without a reason, FU1 reversed, twice,
# FU2 (reversed in the base), an id that is no funding, and a funding of
# this block recorded and reversed.
b = Block()
b.add("ERR_NOT_PROJECT_CITY", K_CB, UNFUND, reason_ref(ref_base(FU1)))
b.add("ERR_MISSING_REASON", K_CA, UNFUND, reason_ref(ref_base(FU1), s(TEXTS, "")))
b.add("OK", K_CA, UNFUND, reason_ref(ref_base(FU1)))
b.add("ERR_FUNDING_REVERSED", K_CA, UNFUND, reason_ref(ref_base(FU1)))
b.add("ERR_FUNDING_REVERSED", K_CB, UNFUND, reason_ref(ref_base(FU2)))
b.add("ERR_UNKNOWN_FUNDING", K_CA, UNFUND, reason_ref(ref_base(R1)))
b.add("OK", K_CA, FUND, fund("PA-1"))
b.add("OK", K_CA, UNFUND, reason_ref(ref_tx(6), s(TEXTS, "fuzz")))
seed("funding_reverse.bin", b)

# ReverseAllocation: another city's, without a reason, AL1 reversed,
# twice, AL2 (reversed in the base), a funding id; then city-a allocates
# its whole part of GB-1 (the reversal freed it) and reverses that.
b = Block()
b.add("ERR_NOT_PROJECT_CITY", K_CB, UNALLOCATE, reason_ref(ref_base(AL1)))
b.add("ERR_MISSING_REASON", K_CA, UNALLOCATE, reason_ref(ref_base(AL1), s(TEXTS, "")))
b.add("OK", K_CA, UNALLOCATE, reason_ref(ref_base(AL1)))
b.add("ERR_ALLOCATION_REVERSED", K_CA, UNALLOCATE, reason_ref(ref_base(AL1)))
b.add("ERR_ALLOCATION_REVERSED", K_CB, UNALLOCATE, reason_ref(ref_base(AL2)))
b.add("ERR_UNKNOWN_ALLOCATION", K_CA, UNALLOCATE, reason_ref(ref_base(FU1)))
b.add("OK", K_CA, ALLOCATE, allocate("GB-1", "PA-1", num(45000000)))
b.add("OK", K_CA, UNALLOCATE, reason_ref(ref_tx(6), s(TEXTS, "fuzz")))
seed("allocation_reverse.bin", b)

# AllocateProceeds' dates, in a block of 2028-02-01 (after GB-1's
# maturity): after maturity, after the block's date, before the look-back,
# at the look-back edge and the day before issue (refinancing), at
# maturity (financing), a malformed date, and a missing hash.
b = Block(hours=hours_to(2028, 2, 1))
b.add("ERR_DATE_AFTER_MATURITY", K_CA, ALLOCATE, allocate("GB-1", "PA-1",
                                                          when=date("2028-01-16")))
b.add("ERR_DATE_IN_FUTURE", K_CA, ALLOCATE, allocate("GB-1", "PA-1", when=rel_date(1)))
b.add("ERR_DATE_BEFORE_LOOKBACK", K_CA, ALLOCATE, allocate("GB-1", "PA-1",
                                                           when=date("2023-01-14")))
b.add("OK", K_CA, ALLOCATE, allocate("GB-1", "PA-1", when=date("2023-01-15")))
b.add("OK", K_CA, ALLOCATE, allocate("GB-1", "PA-1", when=date("2026-01-14")))
b.add("OK", K_CA, ALLOCATE, allocate("GB-1", "PA-1", when=date("2028-01-15")))
b.add("ERR_BAD_DATE", K_CA, ALLOCATE, allocate("GB-1", "PA-1", when=date("2026-1-15")))
b.add("ERR_BAD_HASH", K_CB, ALLOCATE, allocate("GB-1", "PB-1", h=NO_HASH))
seed("allocation_dates.bin", b)

# Template 4 (an ISIN, a 12-month look-back, PR-1 by reference and NEW-P
# inline with the EU GBS fields): issue, subscribe, close, allocate at the
# look-back edge and before it, allocate to NEW-P, pass the city's part,
# and report NEW-P's impact without an instrument.
b = Block()
b.add("OK", K_CA, ISSUE, issue(4))
b.add("OK", K_INV1, SUBSCRIBE, s(INSTRUMENTS, "NEW-1") + num(100))
b.add("OK", K_CA, CLOSE, s(INSTRUMENTS, "NEW-1"))
b.add("OK", K_CA, ALLOCATE, allocate("NEW-1", "PR-1", num(50000), date("2025-01-15")))
b.add("ERR_DATE_BEFORE_LOOKBACK", K_CA, ALLOCATE,
      allocate("NEW-1", "PR-1", num(1), date("2025-01-14")))
b.add("OK", K_CA, ALLOCATE, allocate("NEW-1", "NEW-P", num(50000)))
b.add("ERR_ALLOCATION_EXCEEDS", K_CA, ALLOCATE, allocate("NEW-1", "NEW-P", num(1)))
b.add("OK", K_CA, REPORT, report("", "NEW-P", "ghg_avoided_tco2e", date("2026-01-15"),
                                 date("2026-01-21")))
seed("lookback.bin", b)

# Specs with projects: template 4; template 5 co-financing PA-1 with GB-1
# (a reference) and PB-1 (inline, registered); a bad ISIN; a look-back one
# past its limit and one at it; then NEW-2 is sold, closed and allocated.
b = Block()
b.add("OK", K_CA, ISSUE, issue(4))
b.add("OK", K_CA, ISSUE, issue(5, 1 << 0, s(INSTRUMENTS, "NEW-2")))
b.add("ERR_BAD_ISIN", K_CA, ISSUE, issue(4, (1 << 0) | (1 << 16),
                                         s(INSTRUMENTS, "NEW-3") + s(ISINS, "US0378331006")))
b.add("ERR_BAD_DATES", K_CA, ISSUE, issue(4, (1 << 0) | (1 << 17),
                                          s(INSTRUMENTS, "NEW-3") + PAST_LIMIT))
b.add("OK", K_CA, ISSUE, issue(4, (1 << 0) | (1 << 16) | (1 << 17),
                               s(INSTRUMENTS, "NEW-3") + s(ISINS, "AU0000XVGZA3") + LIMIT))
b.add("OK", K_INV1, SUBSCRIBE, s(INSTRUMENTS, "NEW-2") + num(100))
b.add("OK", K_CA, CLOSE, s(INSTRUMENTS, "NEW-2"))
b.add("OK", K_CA, ALLOCATE, allocate("NEW-2", "PA-1", num(60000)))
seed("spec_projects.bin", b)

# Spec project refusals: a reference to an unregistered project, to
# another city's, to one costed in another currency, an inline project
# registered by another city, a reference with EU GBS fields, a bad id, a
# bad taxonomy activity, an inline project of a city that is no co-issuer.
b = Block()
b.add("ERR_UNKNOWN_PROJECT", K_CA, ISSUE, issue(0, 1 << 12,
                                                spec_projects(spec_project("PA-2"))))
b.add("ERR_PROJECT_CITY", K_CA, ISSUE, issue(1, 1 << 12, spec_projects(spec_project("PU-1"))))
b.add("ERR_PROJECT_MISMATCH", K_CB, ISSUE,
      issue(2, 1 << 12, spec_projects(spec_project("PU-1"))))
b.add("ERR_PROJECT_MISMATCH", K_CB, ISSUE, issue(2, 1 << 12, spec_projects(
    spec_project("PA-1", inline=("city-b", "New member", CCM, [7])))))
b.add("ERR_BAD_PROJECT", K_CA, ISSUE, issue(1, 1 << 12, spec_projects(
    spec_project("PR-1", gbs=([], "", "", num(1), "")))))
b.add("ERR_BAD_PROJECT_ID", K_CA, ISSUE, issue(1, 1 << 12, spec_projects(spec_project("AB"))))
b.add("ERR_BAD_PROJECT", K_CA, ISSUE, issue(1, 1 << 12, spec_projects(
    spec_project("NEW-P", inline=("city-a", "New member", CCM, []),
                 gbs=([CCA], "7.2.1", "F41.2", TYPICAL, "fuzz")))))
b.add("ERR_PROJECT_CITY", K_CA, ISSUE, issue(1, 1 << 12, spec_projects(
    spec_project("NEW-P", inline=("city-b", "New member", CCM, [])))))
seed("spec_refusals.bin", b)

# Impact of a project without an instrument: a report of PA-1 before R1's
# period, its attestation, a dispute by a holder of GB-1 (which finances
# PA-1), an overlapping period, R1's period again, a period ending after
# the block's date, an instrument that does not finance the project, and a
# report without an instrument that supersedes R1.
b = Block()
b.add("OK", K_CA, REPORT, report("", "PA-1", "ghg_avoided_tco2e", day(2025, 7, 1),
                                 date("2025-12-31")))
b.add("OK", K_VER, ATTEST, ref_tx(0) + small(1) + num(1200) + HASH)
b.add("OK", K_INV1, DISPUTE, ref_tx(0) + s(TEXTS, "a reason"))
b.add("ERR_OVERLAPPING_PERIOD", K_CA, REPORT,
      report("", "PA-1", "ghg_avoided_tco2e", day(2026, 1, 10), date("2026-01-21")))
b.add("ERR_DUPLICATE_REPORT", K_CA, REPORT,
      report("", "PA-1", "ghg_avoided_tco2e", date("2026-01-01"), date("2026-01-20")))
b.add("ERR_DATE_IN_FUTURE", K_CA, REPORT,
      report("", "PR-1", "ghg_avoided_tco2e", date("2026-01-01"), date("2026-01-22")))
b.add("ERR_UNKNOWN_PROJECT", K_CA, REPORT,
      report("SLB-1", "PA-1", "ghg_avoided_tco2e", date("2026-01-01"), date("2026-01-20")))
b.add("OK", K_CA, REPORT, report("", "PA-1", "ghg_avoided_tco2e", date("2026-01-01"),
                                 date("2026-01-21"), supersedes=ref_base(R1),
                                 reason="a reason"))
seed("impact_project.bin", b)

# Members with an LEI and a population: city-d is admitted (three votes)
# and registers a project; a bad LEI, a population past 10^10, one at it.
b = Block()
b.add("OK", K_CA, PROPOSE, add_member("city-d", 1, K_SPARE + 3, lei="5493001KJTIIGC8Y1R12",
                                      population=num(120000)))
b.add("OK", K_CB, VOTE, ref_tx(0) + b"\x01")
b.add("OK", K_CC, VOTE, ref_tx(0) + b"\x01")
b.add("OK", K_SPARE + 3, REGISTER, register("PA-2", "city-d", objs=(CE,), sdgs=(12,)))
b.add("ERR_BAD_LEI", K_CA, PROPOSE, add_member("new-inv", 2, K_SPARE + 2,
                                               lei="5493001KJTIIGC8Y1R13"))
b.add("ERR_BAD_LEI", K_CA, PROPOSE, add_member("new-inv", 2, K_SPARE + 2,
                                               lei="5493001KJTIIGC8Y1R1"))
b.add("ERR_BAD_POPULATION", K_CA, PROPOSE, add_member("new-inv", 2, K_SPARE + 2,
                                                      population=PAST_LIMIT))
b.add("OK", K_CA, PROPOSE, add_member("new-inv", 2, K_SPARE + 2, population=LIMIT))
seed("members.bin", b)


def first_run(trace):
    """The results of the first run in a trace (the full input, before any
    second build or prefix)."""
    out, last = [], -1
    for line in trace.splitlines():
        if line.startswith("input tx "):
            continue
        if not line.startswith("tx "):
            continue
        idx = int(line.split()[1])
        if idx <= last:
            break
        last = idx
        out.append(line.split(": ", 1)[1].split(" ", 1)[0])
    return out


def check(binary):
    bad = 0
    env = dict(os.environ, ESG_FUZZ_EXEC_TRACE="1")
    with tempfile.TemporaryDirectory() as d:
        for name, data in SEEDS.items():
            path = os.path.join(d, name)
            with open(path, "wb") as f:
                f.write(data)
            p = subprocess.run([binary, path], env=env, capture_output=True, text=True)
            got = first_run(p.stderr)
            want = EXPECT.get(name)
            ok = p.returncode == 0 and got == want
            bad += not ok
            print(("ok   " if ok else "FAIL ") + name + ": " + " ".join(got))
            if not ok:
                print("     want: " + " ".join(want or []))
    return 1 if bad else 0


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "exec")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
