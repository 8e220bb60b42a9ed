#!/usr/bin/env bash
# The whole life of a joint sustainability-linked bond, driven through
# esgwallet against a running esgnode: three cities co-issue (each signing),
# two investors subscribe, the offering closes, proceeds are allocated,
# impact is reported and attested, the KPI target is missed, coupons are
# recorded (the step-up shows in the second), units are transferred, the
# bond is redeemed. Every figure is checked against values worked out here,
# in plain integer arithmetic, not read back from the code under test.
. "$(dirname "$0")/lib.sh"

W=("$ESGWALLET" --keystore "$T/keys")
for k in heraklion kavala thessaloniki trikala inv1 inv2 verifier agent; do
    "${W[@]}" key new "$k" >/dev/null
done
valpk=$("$ESGNODE" key new -o "$T/validator.key")
"$ESGNODE" genesis new --chain-id esg-life-1 -o "$T/genesis.json" \
    --member "city-heraklion:CITY:Heraklion:$(pk heraklion)" \
    --member "city-kavala:CITY:Kavala:$(pk kavala)" \
    --member "city-thessaloniki:CITY:Thessaloniki:$(pk thessaloniki)" \
    --member "city-trikala:CITY:Trikala:$(pk trikala)" \
    --member "inv-pension:INVESTOR:Aegean Pension Fund:$(pk inv1)" \
    --member "inv-insurer:INVESTOR:Hellenic Mutual Insurer:$(pk inv2)" \
    --member "verifier-aegean:VERIFIER:Aegean Impact Assurance:$(pk verifier)" \
    --member "agent-hellenic:PAYING_AGENT:Hellenic Paying Agent:$(pk agent)" \
    --validator "$valpk:10:city-heraklion" \
    --accredit "verifier-aegean:climate,energy" >/dev/null
"$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/node" --key "$T/validator.key" >/dev/null
port=$(free_port)
start_node "$T/node" "$port"

python3 - "$T" "http://127.0.0.1:$port" "$ESGWALLET" <<'PY'
import hashlib, json, subprocess, sys, urllib.request
t, url, wallet = sys.argv[1], sys.argv[2], sys.argv[3]
W = [wallet, "--keystore", t + "/keys", "--node", url]

def run(*args, ok=True):
    p = subprocess.run(W + ["--json"] + list(args), capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit(f"FAIL: esgwallet {' '.join(args)}: {p.stderr.strip()}")
    if not ok:
        return p
    return json.loads(p.stdout) if p.stdout.strip() else {}

def rejects(code, *args):
    p = run(*args, ok=False)
    err = p.stderr.strip().splitlines()
    assert p.returncode != 0 and len(err) == 1 and code in err[0], (args, p.returncode, p.stderr)
    assert p.stdout == "", p.stdout
    print(f"ok: {args[0]} {args[1]} refused: {err[0]}")

def api(path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.load(r)

def write(name, data):
    with open(f"{t}/{name}", "wb") as f:
        f.write(data)
    return f"{t}/{name}"

# ---- the bond, worked out by hand -------------------------------------
FACE, UNITS, COUPON_BPS, STEP = 100003, 5000, 125, 25
SHARES = [("city-heraklion", 5000), ("city-kavala", 3000), ("city-thessaloniki", 2000)]
def split(total):
    parts = [total * bps // 10000 for _, bps in SHARES]
    parts[0] += total - sum(parts)
    return parts
spec = {
    "id": "JGB-2023-01", "kind": "SUSTAINABILITY_LINKED_BOND",
    "name": "Joint sustainability-linked bond of three Greek cities", "currency": "EUR",
    "face_value": str(FACE), "units": UNITS, "coupon_bps": COUPON_BPS,
    "coupon_frequency_months": 12, "issue_date": "2023-03-01", "maturity_date": "2026-03-01",
    "co_issuers": [{"member": m, "share_bps": b} for m, b in SHARES],
    "paying_agent": "agent-hellenic",
    "projects": [
        {"id": "HER-SOLAR", "city": "city-heraklion", "name": "School rooftop solar",
         "eu_objective": "CCM", "sdgs": [7, 11], "budget": "150000000"},
        {"id": "KAV-TRAM", "city": "city-kavala", "name": "Electric buses",
         "eu_objective": "CCM", "sdgs": [11], "budget": "200000000"},
        {"id": "THE-WATER", "city": "city-thessaloniki", "name": "Water network leaks",
         "eu_objective": "WTR", "sdgs": [6], "budget": "120000000"}],
    "kpi_targets": [{"kpi": "ghg_avoided_tco2e", "baseline": "0", "target": "1500.000",
                     "observation_date": "2024-12-31", "step_up_bps": STEP}],
    "framework_sha256": hashlib.sha256(b"framework").hexdigest(),
    "external_review_sha256": hashlib.sha256(b"second party opinion").hexdigest()}
spec_file = write("spec.json", json.dumps(spec).encode())

# ---- joint issuance: each co-issuer signs ------------------------------
run("instrument", "issue", "--spec", spec_file, "--key", "heraklion", "-o", t + "/issue.tx")
rejects("ERR_MISSING_COSIGNER", "tx", "submit", t + "/issue.tx")
run("tx", "sign", t + "/issue.tx", "--key", "kavala")
insp = run("tx", "inspect", t + "/issue.tx")
assert "city-thessaloniki" in json.dumps(insp), insp
rejects("ERR_MISSING_COSIGNER", "tx", "submit", t + "/issue.tx")
run("tx", "sign", t + "/issue.tx", "--key", "thessaloniki")
run("tx", "submit", t + "/issue.tx")
ins = api("/v1/instruments/JGB-2023-01")
assert ins["status"] == "OFFERING" and ins["units_sold"] == "0", ins
print("ok: three cities co-issued JGB-2023-01")

# ---- offering -------------------------------------------------------------
rejects("ERR_NOT_INVESTOR", "instrument", "subscribe", "JGB-2023-01", "--units", "10", "--key", "trikala")
run("instrument", "subscribe", "JGB-2023-01", "--units", "3000", "--key", "inv1")
run("instrument", "subscribe", "JGB-2023-01", "--units", "1999", "--key", "inv2")
rejects("ERR_INSUFFICIENT_UNITS", "instrument", "subscribe", "JGB-2023-01", "--units", "2", "--key", "inv2")
rejects("ERR_NOT_LEAD_ISSUER", "instrument", "close", "JGB-2023-01", "--key", "kavala")
run("instrument", "close", "JGB-2023-01", "--key", "heraklion")
SOLD = 3000 + 1999
RAISED = SOLD * FACE
ins = api("/v1/instruments/JGB-2023-01")
assert ins["status"] == "ACTIVE" and ins["amount_raised"] == str(RAISED), ins
assert ins["units_outstanding"] == str(SOLD), ins
print("ok: offering closed,", SOLD, "units sold, raised", RAISED)

# ---- proceeds ------------------------------------------------------------
PARTS = split(RAISED)
ev = write("invoice.pdf", b"invoice for solar panels")
run("proceeds", "allocate", "JGB-2023-01", "--project", "HER-SOLAR", "--amount", "200000000",
    "--date", "2024-02-01", "--evidence", ev, "--key", "heraklion")
run("proceeds", "allocate", "JGB-2023-01", "--project", "KAV-TRAM", "--amount", "100000000",
    "--date", "2024-02-02", "--evidence", ev, "--key", "kavala")
run("proceeds", "allocate", "JGB-2023-01", "--project", "THE-WATER", "--amount", str(PARTS[2]),
    "--date", "2024-02-03", "--evidence", ev, "--key", "thessaloniki")
rejects("ERR_ALLOCATION_EXCEEDS", "proceeds", "allocate", "JGB-2023-01", "--project", "THE-WATER",
        "--amount", "1", "--date", "2024-02-04", "--evidence", ev, "--key", "thessaloniki")
rejects("ERR_NOT_PROJECT_CITY", "proceeds", "allocate", "JGB-2023-01", "--project", "THE-WATER",
        "--amount", "1", "--date", "2024-02-04", "--evidence", ev, "--key", "kavala")
al = api("/v1/instruments/JGB-2023-01/allocations")
cities = {c["city"]: c for c in al["per_city"]}
for (city, _), part, done in zip(SHARES, PARTS, [200000000, 100000000, PARTS[2]]):
    assert cities[city]["part_of_raised"] == str(part), (city, cities[city], part)
    assert cities[city]["allocated"] == str(done) and cities[city]["remaining"] == str(part - done), cities[city]
projects = {p["project_id"]: p for p in al["per_project"]}
assert projects["HER-SOLAR"]["over_budget"] is True and projects["KAV-TRAM"]["over_budget"] is False
assert projects["HER-SOLAR"]["share_of_proceeds_bps"] == 200000000 * 10000 // RAISED
print("ok: proceeds allocated; city parts", PARTS, "; HER-SOLAR over budget")

# ---- impact: below the target ---------------------------------------------
evidence = write("meter-2024.csv", b"month,tco2e\n1,100.0\n")
rep = run("impact", "report", "JGB-2023-01", "--project", "HER-SOLAR", "--kpi", "ghg_avoided_tco2e",
          "--value", "1200.500", "--period", "2024-01-01:2024-12-31", "--evidence", evidence,
          "--methodology", "metered generation x grid factor", "--key", "heraklion")
report_id = rep.get("report_id") or rep["tx_id"]
rejects("ERR_DUPLICATE_REPORT", "impact", "report", "JGB-2023-01", "--project", "HER-SOLAR",
        "--kpi", "ghg_avoided_tco2e", "--value", "1300", "--period", "2024-01-01:2024-12-31",
        "--evidence", evidence, "--key", "heraklion")
stmt = write("statement.pdf", b"limited assurance statement")
rejects("ERR_UNAUTHORIZED", "impact", "attest", report_id, "--opinion", "confirmed",
        "--value", "1200.500", "--statement", stmt, "--key", "inv1")
run("impact", "attest", report_id, "--opinion", "confirmed", "--value", "1180.250",
    "--statement", stmt, "--key", "verifier")
rejects("ERR_ALREADY_ATTESTED", "impact", "attest", report_id, "--opinion", "confirmed",
        "--value", "1200", "--statement", stmt, "--key", "verifier")
p = subprocess.run(W + ["impact", "check-evidence", report_id, "--file", evidence], capture_output=True, text=True)
assert p.returncode == 0, p.stderr
p = subprocess.run(W + ["impact", "check-evidence", report_id, "--file", stmt], capture_output=True, text=True)
assert p.returncode != 0 and "ERR_PROOF" in p.stderr, p.stderr
imp = api("/v1/instruments/JGB-2023-01/impact")
r = [x for x in imp["reports"] if x["id"] == report_id][0]
assert r["counted"] is True and r["counted_value"] == "1180.250", r
tot = {x["kpi"]: x for x in imp["confirmed_totals"]}
assert tot["ghg_avoided_tco2e"]["total"] == "1180.250", tot
ins = api("/v1/instruments/JGB-2023-01")
su = ins["step_ups"][0]
assert su["missed"] is True and su["observed"] == "1180.250", su
print("ok: impact reported 1200.500, attested 1180.250: below the 1500.000 target")

# ---- coupons ---------------------------------------------------------------
holders = {"inv-pension": 3000, "inv-insurer": 1999}
def check_coupon(seq, due, bps, step):
    per_unit = FACE * (bps + step) * 12 // 120000
    lines = {m: u * per_unit for m, u in holders.items()}
    total = sum(lines.values())
    pay = [x for x in api("/v1/instruments/JGB-2023-01/payments")["payments"]
           if x["kind"] == "COUPON" and x["seq"] == seq][0]
    assert pay["due_date"] == due and pay["step_up_bps"] == step, pay
    assert pay["per_unit"] == str(per_unit) and pay["total"] == str(total), (pay, per_unit, total)
    assert {h["member"]: h["amount"] for h in pay["holders"]} == {m: str(a) for m, a in lines.items()}, pay
    assert [c["amount"] for c in pay["co_issuers"]] == [str(x) for x in split(total)], pay
    print(f"ok: coupon {seq} due {due}: {bps}+{step} bps, {per_unit} per unit, total {total}, "
          f"co-issuers {split(total)}")

rejects("ERR_NOT_INSTRUMENT_AGENT", "instrument", "pay", "JGB-2023-01", "--kind", "coupon",
        "--due", "2024-03-01", "--key", "heraklion")
rejects("ERR_WRONG_DUE_DATE", "instrument", "pay", "JGB-2023-01", "--kind", "coupon",
        "--due", "2025-03-01", "--key", "agent")
run("instrument", "pay", "JGB-2023-01", "--kind", "coupon", "--due", "2024-03-01", "--key", "agent")
check_coupon(1, "2024-03-01", COUPON_BPS, 0)   # before the observation date: no step-up

run("instrument", "transfer", "JGB-2023-01", "--to", "inv-insurer", "--units", "1000", "--key", "inv1")
rejects("ERR_INSUFFICIENT_HOLDING", "instrument", "transfer", "JGB-2023-01", "--to", "inv-insurer",
        "--units", "2001", "--key", "inv1")
rejects("ERR_BAD_RECEIVER", "instrument", "transfer", "JGB-2023-01", "--to", "city-kavala",
        "--units", "1", "--key", "inv1")
holders = {"inv-pension": 2000, "inv-insurer": 2999}
hs = api("/v1/instruments/JGB-2023-01/holders")
assert {h["member"]: h["units"] for h in hs["holders"]} == {m: str(u) for m, u in holders.items()}, hs

run("instrument", "pay", "JGB-2023-01", "--kind", "coupon", "--due", "2025-03-01", "--key", "agent")
check_coupon(2, "2025-03-01", COUPON_BPS, STEP)  # target missed: +25 bps
run("instrument", "pay", "JGB-2023-01", "--kind", "coupon", "--due", "2026-03-01", "--key", "agent")
check_coupon(3, "2026-03-01", COUPON_BPS, STEP)

# ---- attributed impact -----------------------------------------------------
mi = api("/v1/members/inv-insurer/impact")
k = mi["instruments"][0]["kpis"][0]
want = 1180250 * 2999 // SOLD
assert k["attributed"] == f"{want // 1000}.{want % 1000:03d}", (k, want)
print("ok: attributed impact of inv-insurer", k["attributed"], "tCO2e")

# ---- redemption ------------------------------------------------------------
run("instrument", "pay", "JGB-2023-01", "--kind", "redemption", "--due", "2026-03-01", "--key", "agent")
pay = [x for x in api("/v1/instruments/JGB-2023-01/payments")["payments"] if x["kind"] == "REDEMPTION"][0]
assert pay["total"] == str(SOLD * FACE), pay
assert {h["member"]: h["amount"] for h in pay["holders"]} == {m: str(u * FACE) for m, u in holders.items()}, pay
ins = api("/v1/instruments/JGB-2023-01")
assert ins["status"] == "MATURED" and ins["units_outstanding"] == "0", ins
rejects("ERR_BAD_STATUS", "instrument", "transfer", "JGB-2023-01", "--to", "inv-pension",
        "--units", "1", "--key", "inv2")
mi = api("/v1/members/inv-insurer/impact")
assert mi["instruments"][0]["kpis"][0]["attributed"] == f"{want // 1000}.{want % 1000:03d}", mi
print("ok: redeemed", SOLD * FACE, "; attribution keeps the last coupon's holdings")

# ---- reports ----------------------------------------------------------------
for kind in ("allocation", "impact"):
    p = subprocess.run(W + ["report", kind, "JGB-2023-01"], capture_output=True, text=True)
    assert p.returncode == 0 and "HER-SOLAR" in p.stdout, p.stderr
    p = subprocess.run(W + ["report", kind, "JGB-2023-01", "--csv"], capture_output=True, text=True)
    assert p.returncode == 0 and "," in p.stdout.splitlines()[0], p.stderr
print("ok: allocation and impact reports print (table and CSV)")
PY
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
"$ESGNODE" verify-chain --datadir "$T/node" | tail -n 1
pass "instrument lifecycle"
