#!/usr/bin/env bash
# Checks that trust no node, through esgwallet against a running esgnode:
# `impact verify` proves a report and its attestations final against the
# validators (followed from genesis across a set change, which a node can
# neither hide nor invent) and applies the counting rule, and a node that
# only says a report does not exist is not believed; a genesis of another
# chain or another validator set is refused with ERR_PROOF; `audit` replays
# the chain from genesis and writes allocation, impact, holders, payments,
# project and KPI-across-cities documents equal to the API's byte for byte;
# after one byte of a stored block is changed on disk, `audit` names that
# block's height and fails.
. "$(dirname "$0")/lib.sh"

W=("$ESGWALLET" --keystore "$T/keys")
# The wallet's scratch stores go here, so the test sees that audit removes them.
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
for k in city inv verifier agent; do
    "${W[@]}" key new "$k" >/dev/null
done
valpk=$("$ESGNODE" key new -o "$T/validator.key")
members=(--member "city-rhodes:CITY:Rhodes:$(pk city)"
         --member "inv-fund:INVESTOR:Island Fund:$(pk inv)"
         --member "verifier-a:VERIFIER:Assurance A:$(pk verifier)"
         --member "agent-p:PAYING_AGENT:Agent P:$(pk agent)")
"$ESGNODE" genesis new --chain-id esg-audit-1 -o "$T/genesis.json" "${members[@]}" \
    --validator "$valpk:10:city-rhodes" --accredit "verifier-a:climate,energy" >/dev/null
# The same members under another chain id, and under another validator.
"$ESGNODE" genesis new --chain-id esg-other-1 -o "$T/other-chain.json" "${members[@]}" \
    --validator "$valpk:10:city-rhodes" --accredit "verifier-a:climate,energy" >/dev/null
otherpk=$("$ESGNODE" key new -o "$T/other.key")
"$ESGNODE" key new -o "$T/new.key" >"$T/new.pub"   # a validator added later
"$ESGNODE" genesis new --chain-id esg-audit-1 -o "$T/other-valset.json" "${members[@]}" \
    --validator "$otherpk:10:city-rhodes" --accredit "verifier-a:climate,energy" >/dev/null
"$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/node" --key "$T/validator.key" >/dev/null
port=$(free_port)
start_node "$T/node" "$port"

python3 - "$T" "http://127.0.0.1:$port" "$ESGWALLET" <<'PY'
import hashlib, json, subprocess, sys, urllib.request
t, url, wallet = sys.argv[1], sys.argv[2], sys.argv[3]
W = [wallet, "--keystore", t + "/keys", "--node", url]

from walletrun import runner
run = runner(W)

def refuses(code, needles, *args):
    p = subprocess.run(W + list(args), capture_output=True, text=True)
    err = p.stderr.strip().splitlines()
    assert p.returncode == 1 and len(err) == 1 and code in err[0], (args, p.returncode, p.stderr)
    for n in needles:
        assert n in err[0], (n, err[0])
    assert p.stdout == "", p.stdout
    print(f"ok: {args[0]} {args[1]} refused: {err[0][:160]}")

def api(path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.load(r)

def write(name, data):
    with open(f"{t}/{name}", "wb") as f:
        f.write(data)
    return f"{t}/{name}"

# A one-city green bond: 100 units of 1000.00, 60 sold.
FACE, SOLD = 100000, 60
spec = {"id": "RGB-2024-01", "kind": "GREEN_BOND", "name": "Rhodes green bond",
        "currency": "EUR", "face_value": str(FACE), "units": 100, "coupon_bps": 300,
        "coupon_frequency_months": 12, "issue_date": "2024-03-01",
        "maturity_date": "2026-03-01",
        "co_issuers": [{"member": "city-rhodes", "share_bps": 10000}],
        "paying_agent": "agent-p",
        "projects": [{"id": "RHO-PV", "city": "city-rhodes", "name": "Harbour solar",
                      "eu_objective": "CCM", "sdgs": [7], "budget": "4000000"},
                     {"id": "RHO-BUS", "city": "city-rhodes", "name": "Electric buses",
                      "eu_objective": "CCM", "sdgs": [11], "budget": "1000000"}]}
run("instrument", "issue", "--spec", write("spec.json", json.dumps(spec).encode()), "--key", "city")
run("instrument", "subscribe", "RGB-2024-01", "--units", str(SOLD), "--key", "inv")
run("instrument", "close", "RGB-2024-01", "--key", "city")
ev = write("invoice.pdf", b"invoice")
run("proceeds", "allocate", "RGB-2024-01", "--project", "RHO-PV", "--amount", "4500000",
    "--date", "2024-04-01", "--evidence", ev, "--key", "city")
run("proceeds", "allocate", "RGB-2024-01", "--project", "RHO-BUS", "--amount", "700000",
    "--date", "2024-04-02", "--evidence", ev, "--key", "city")
meter = write("meter.csv", b"month,tco2e\n1,100\n")
r1 = run("impact", "report", "RGB-2024-01", "--project", "RHO-PV", "--kpi", "ghg_avoided_tco2e",
         "--value", "1200.500", "--period", "2024-01-01:2024-12-31", "--evidence", meter,
         "--key", "city")
r1 = r1.get("report_id") or r1["tx_id"]
stmt = write("statement.pdf", b"assurance statement")
a1 = run("impact", "attest", r1, "--opinion", "confirmed", "--value", "1180.250",
         "--statement", stmt, "--key", "verifier")
r2 = run("impact", "report", "RGB-2024-01", "--project", "RHO-BUS", "--kpi",
         "renewable_generation_mwh", "--value", "300", "--period", "2024-01-01:2024-12-31",
         "--evidence", meter, "--key", "city")
r2 = r2.get("report_id") or r2["tx_id"]
a2 = run("impact", "attest", r2, "--opinion", "qualified", "--value", "290", "--statement", stmt,
         "--key", "verifier")
a2 = a2.get("attestation_id") or a2["tx_id"]
run("impact", "revoke", a2, "--reason", "meter data incomplete", "--key", "verifier")
run("impact", "attest", r2, "--opinion", "qualified", "--value", "275.5", "--statement", stmt,
    "--key", "verifier")
# An EU grant for the harbour solar project, money from outside the ledger's
# instruments (no verb of its own here: tx build).
grant = {"type": "RecordFunding", "project": "RHO-PV", "source": "EU",
         "programme": "ERDF 2021-2027", "amount": "2000000", "date": "2024-02-01",
         "evidence_sha256": hashlib.sha256(b"grant agreement").hexdigest()}
run("tx", "build", "--action", write("grant.json", json.dumps(grant).encode()), "--key", "city")
height = api("/v1/status")["height"]
print("ok: lifecycle committed up to height", height)

# ---- impact verify ----------------------------------------------------------
g = t + "/genesis.json"
v = run("impact", "verify", r1, "--genesis", g)
assert v["report_id"] == r1 and v["kpi"] == "ghg_avoided_tco2e" and v["value"] == "1200.500", v
assert v["evidence_sha256"] == hashlib.sha256(b"month,tco2e\n1,100\n").hexdigest(), v
assert v["height"] == height and v["final_block_hash"] == api(f"/v1/blocks/{height}")["hash"], v
assert v["counted"] is True and v["counted_value"] == "1180.250", v
assert len(v["attestations"]) == 1 and v["attestations"][0]["revoked"] is False, v
assert v["trusting_no_node"] is True and v["superseded_by"] is None, v
v = run("impact", "verify", r2, "--genesis", g)
at = v["attestations"]
assert [a["revoked"] for a in at] == [True, False] and at[0]["revoke_reason"] == "meter data incomplete", v
assert [a["supports"] for a in at] == [False, True], v
assert v["counted"] is True and v["counted_value"] == "275.500", v   # 290 revoked: 275.5 counts
p = subprocess.run(W + ["impact", "verify", r2, "--genesis", g], capture_output=True, text=True)
assert p.returncode == 0 and "trusting no node" in p.stdout and "REVOKED" in p.stdout, p
print("ok: impact verify proves both reports final, one attestation revoked, counted 275.500")

# A unique prefix of the id is enough (the node looks it up; the full id is
# proven and printed), in either case; the report's own height is shown.
others = [r["id"] for r in api("/v1/reports?prefix=" + r1[0])["reports"]]
n = next(k for k in range(1, 65) if all(o[:k] != r1[:k] for o in others if o != r1))
rep_height = next(r["height"] for r in api("/v1/instruments/RGB-2024-01/impact")["reports"] if r["id"] == r1)
for pre in (r1[:n], r1[:max(n, 7)].upper(), r1[:63]):
    v = run("impact", "verify", pre, "--genesis", g)
    assert v["report_id"] == r1 and v["resolved_from"] == pre and v["report_height"] == rep_height, v
assert run("impact", "verify", r1, "--genesis", g)["resolved_from"] is None
p = subprocess.run(W + ["impact", "verify", r1[:max(n, 8)], "--genesis", g], capture_output=True, text=True)
assert p.returncode == 0 and f"is report {r1}" in p.stdout and \
    f"reported at height {rep_height} (" in p.stdout, p
print(f"ok: impact verify {r1[:max(n, 8)]} resolves to {r1[:16]}..., reported at height {rep_height}")
first_digits = [r["id"][0] for r in api("/v1/reports?prefix=0")["reports"]]  # the route itself
assert all(d == "0" for d in first_digits)
absent = next(c for c in "0123456789abcdef" if not api("/v1/reports?prefix=" + c)["reports"]) \
    if len({r1[0], r2[0]}) < 16 else None
if absent:
    refuses("ERR_UNKNOWN_REPORT", ["starts with"], "impact", "verify", absent * 3, "--genesis", g)
refuses("ERR_HEX", ["prefix"], "impact", "verify", r1[:10] + "z", "--genesis", g)
refuses("ERR_HEX", ["prefix"], "impact", "verify", r1 + "0", "--genesis", g)

refuses("ERR_PROOF", ["esg-audit-1", "esg-other-1"], "impact", "verify", r1, "--genesis", t + "/other-chain.json")
refuses("ERR_PROOF", ["validator set", "audit"], "impact", "verify", r1, "--genesis", t + "/other-valset.json")
refuses("ERR_UNKNOWN_REPORT", ["absence is proven"], "impact", "verify", "ab" * 32, "--genesis", g)
refuses("ERR_HEX", [], "impact", "verify", "nothex", "--genesis", g)
refuses("ERR_IO", [], "impact", "verify", r1, "--genesis", t + "/missing.json")

# ---- audit ------------------------------------------------------------------
out = t + "/report.json"
p = subprocess.run(W + ["audit", "--genesis", g, "--out", out], capture_output=True, text=True)
assert p.returncode == 0 and "audit OK" in p.stdout and "RGB-2024-01" in p.stdout, p
assert "  RHO-PV (city-rhodes): cost basis 65,000.00 EUR\n" in p.stdout, p.stdout
assert "    EU           external    20,000.00  30.77%\n" in p.stdout, p.stdout
doc = json.load(open(out))
st = api("/v1/status")
assert doc["chain_id"] == "esg-audit-1" and doc["height"] == st["height"], doc
assert doc["block_hash"] == st["block_hash"] and doc["app_hash"] == st["app_hash"], doc
assert doc["genesis_hash"] == st["genesis_hash"] and doc["txs"] == 12, doc
[ins] = doc["instruments"]
assert ins["id"] == "RGB-2024-01"
al, im = ins["allocations"], ins["impact"]
# The replayed reports are the API's, figure for figure...
assert al == api("/v1/instruments/RGB-2024-01/allocations"), al
assert im == api("/v1/instruments/RGB-2024-01/impact"), im
assert list(ins) == ["id", "allocations", "impact", "holders", "payments"], list(ins)
assert ins["holders"] == api("/v1/instruments/RGB-2024-01/holders"), ins["holders"]
assert ins["payments"] == api("/v1/instruments/RGB-2024-01/payments"), ins["payments"]
assert [h["units"] for h in ins["holders"]["holders"]] == [str(SOLD)], ins["holders"]
assert ins["payments"]["payments"] == [], ins["payments"]   # none recorded
# ...and those figures are the ones worked out here.
assert al["amount_raised"] == str(SOLD * FACE) and al["allocated_total"] == str(4500000 + 700000), al
assert al["unallocated"] == str(SOLD * FACE - 5200000), al
pv = [x for x in al["per_project"] if x["project_id"] == "RHO-PV"][0]
assert pv["over_budget"] is True and pv["share_of_proceeds_bps"] == 4500000 * 10000 // (SOLD * FACE), pv
tot = {x["kpi"]: x["total"] for x in im["confirmed_totals"]}
assert tot == {"ghg_avoided_tco2e": "1180.250", "renewable_generation_mwh": "275.500"}, tot
# Byte for byte: each document of --out, written compact as the API writes
# it, is the API's response body.
def body(path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return r.read().decode()
compact = lambda x: json.dumps(x, separators=(",", ":"), ensure_ascii=False)
for key in ("allocations", "impact", "holders", "payments"):
    assert compact(ins[key]) == body(f"/v1/instruments/RGB-2024-01/{key}"), key
assert list(doc)[-3:] == ["instruments", "projects", "kpis"], list(doc)
# The projects (registered by the issuance), in id order, and the KPIs some
# project reported, across cities.
assert [p["id"] for p in doc["projects"]] == ["RHO-BUS", "RHO-PV"], doc["projects"]
for p in doc["projects"]:
    assert compact(p) == body(f"/v1/projects/{p['id']}"), p["id"]
assert [k["kpi"] for k in doc["kpis"]] == ["ghg_avoided_tco2e", "renewable_generation_mwh"], doc["kpis"]
for k in doc["kpis"]:
    assert compact(k) == body(f"/v1/kpis/{k['kpi']}/cities"), k["kpi"]
# ...and their figures are the ones worked out here. RHO-PV costs its budget,
# 4000000; it has 4500000 from the bond and 2000000 from the EU: cost basis
# D = max(4000000, 6500000) = 6500000; shares 9/13 = 69.23 % and 4/13 =
# 30.77 % (half up); of its 1180.250 tCO2e the bond is attributed
# floor(1180250 x 9 / 13) = 817096 thousandths, the EU floor(1180250 x 4 /
# 13) = 363153, 1 left unattributed.
pv = doc["projects"][1]
assert (pv["total_cost"], pv["allocated"], pv["external"], pv["cost_basis"]) == \
    ("4000000", "4500000", "2000000", "6500000"), pv
assert [(f["kind"], f["funder"], f["amount"], f["share_bps"]) for f in pv["funders"]] == \
    [("instrument", "RGB-2024-01", "4500000", 6923), ("external", "EU", "2000000", 3077)], pv
[ghg] = [k for k in pv["kpis"] if k["kpi"] == "ghg_avoided_tco2e"]
assert ghg["confirmed"] == "1180.250" and ghg["unattributed"] == "0.001", ghg
assert [a["attributed"] for a in ghg["attributed"]] == ["817.096", "363.153"], ghg
# Across cities: Rhodes's one project reporting the KPI, 6500000 cents
# financing it: 1180.250 x 10^6 / 65000.00 EUR = 18157.692 tCO2e per million.
[rh] = doc["kpis"][0]["cities"]
assert (rh["city"], rh["projects"], rh["confirmed"], rh["financed"], rh["per_million_financed"]) == \
    ("city-rhodes", 1, "1180.250", "6500000", "18157.692"), rh
print("ok: audit replayed", doc["height"], "blocks; its reports, projects and KPIs across "
      "cities equal the API's byte for byte")
# For a reporting period, the audit's documents are the node's ?period= ones.
per = "2024-01-01:2025-12-31"
outp = t + "/audit-period.json"
p = subprocess.run(W + ["audit", "--genesis", g, "--out", outp, "--period", per],
                   capture_output=True, text=True)
assert p.returncode == 0, p
dp = json.load(open(outp))
insp = [i for i in dp["instruments"] if i["id"] == "RGB-2024-01"][0]
assert insp["allocations"]["period"] == {"start": "2024-01-01", "end": "2025-12-31"}, insp
for key in ("allocations", "impact"):
    assert compact(insp[key]) == body(f"/v1/instruments/RGB-2024-01/{key}?period={per}"), key
for k in dp["kpis"]:
    assert compact(k) == body(f"/v1/kpis/{k['kpi']}/cities?period={per}"), k["kpi"]
refuses("ERR_BAD_PERIOD", ["--period"], "audit", "--genesis", g, "--period", "2025-12-31:2025-01-01")
refuses("ERR_INVALID_ARGUMENT", ["already exists"], "audit", "--genesis", g, "--out", out)
refuses("ERR_GENESIS", ["did not start from this genesis"], "audit", "--genesis", t + "/other-chain.json")

# ---- a validator-set change: impact verify follows it -----------------------
# A second validator (power 1: the node's 10 of 11 still commit alone) is
# added by governance in block hc, announced by block hc + 1 and in force
# from hc + 2; two more blocks take the chain past it.
newpk = open(t + "/new.pub").read().strip()
hc = run("member", "propose", "add-validator", "--pubkey", newpk, "--power", "1",
         "--operator", "city-rhodes", "--key", "city")["height"]
for v in ("1000", "1001"):
    run("member", "propose", "set-param", "--name", "proposal_ttl_blocks", "--value", v, "--key", "city")
assert api(f"/v1/blocks/{hc + 1}")["header"]["next_validators_hash"] == \
    api(f"/v1/validators?height={hc + 2}")["hash"]
assert "next_validators_hash" not in api(f"/v1/blocks/{hc}")["header"]
assert [c["height"] for c in api("/v1/validators/changes")["changes"]] == [1, hc + 2]
v = run("impact", "verify", r1, "--genesis", g)
assert v["height"] >= hc + 2 and v["counted_value"] == "1180.250", v
p = subprocess.run(W + ["impact", "verify", r1, "--genesis", g], capture_output=True, text=True)
assert p.returncode == 0 and "of 2 validators" in p.stdout, p
print("ok: impact verify follows the validator-set change of block", hc)

# A node that hides the change (a proxy drops it from the list) or invents
# one is caught: the list is a hint, the headers decide. A node that says a
# report does not exist, instead of proving it, is not believed either.
import http.server, threading, urllib.parse
class Proxy(http.server.BaseHTTPRequestHandler):
    mode = "hide"
    def do_GET(self):
        if Proxy.mode in ("ambiguous", "misresolve") and self.path.startswith("/v1/reports?"):
            fake = {"reports": [{"id": r1}, {"id": r2}], "more": False} if Proxy.mode == "ambiguous" \
                else {"reports": [{"id": r2 if r2[0] != r1[0] else "f" * 64}], "more": False}
            body = json.dumps(fake).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if Proxy.mode in ("deny", "forge") and self.path.startswith("/v1/state/proof"):
            code = "ERR_UNKNOWN_REPORT" if Proxy.mode == "deny" else "ERR_UNKNOWN_REPORT: no impact report"
            body = json.dumps({"error": {"code": code, "message": "its absence is proven"}}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with urllib.request.urlopen(url + self.path, timeout=30) as r:
            body, status = r.read(), r.status
        if self.path == "/v1/validators/changes":
            doc = json.loads(body)
            if Proxy.mode == "hide":
                doc["changes"] = doc["changes"][:1]
            else:
                doc["changes"].insert(1, {"height": hc, "hash": doc["changes"][0]["hash"]})
            body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
threading.Thread(target=srv.serve_forever, daemon=True).start()
PW = [wallet, "--keystore", t + "/keys", "--node", "http://127.0.0.1:%d" % srv.server_address[1]]
for mode, what, needle in (
        ("hide", "hides a validator-set change", "does not lead to"),
        ("invent", "invents a validator-set change", "announces none"),
        ("deny", "says ERR_UNKNOWN_REPORT", "instead of a proof"),
        ("forge", "forges a code name", "instead of a proof")):
    Proxy.mode = mode
    p = subprocess.run(PW + ["impact", "verify", r1, "--genesis", g], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.startswith("esgwallet: ERR_PROOF: ") and \
        needle in p.stderr, (mode, p.stderr)
    print(f"ok: a node that {what} is refused: {p.stderr.strip()[:120]}")
for mode, code, needle in (("ambiguous", "ERR_AMBIGUOUS_ID", "give more digits"),
                           ("misresolve", "ERR_PROOF", "no id with that prefix")):
    Proxy.mode = mode
    p = subprocess.run(PW + ["impact", "verify", r1[:6], "--genesis", g], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.startswith(f"esgwallet: {code}: ") and needle in p.stderr, \
        (mode, p.stderr)
    print(f"ok: a prefix the node answers {mode}ly is refused: {p.stderr.strip()[:100]}")
srv.shutdown()
PY

# On a terminal, audit draws a progress line on stderr and clears it; with
# --quiet, or when stderr is not a terminal (every run above), it does not.
ONTTY=(python3 "$(dirname "$0")/ontty.py")
"${ONTTY[@]}" "$T/tty-audit" "${W[@]}" --node "http://127.0.0.1:$port" audit \
    --genesis "$T/genesis.json" >"$T/tty-audit.out" || fail "audit on a terminal failed"
grep -q "audit OK" "$T/tty-audit.out" || fail "audit on a terminal: $(cat "$T/tty-audit.out")"
tip=$(curl -fsS "http://127.0.0.1:$port/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
grep -aEq "^.audit: replaying: block [0-9]+ of [0-9]+ \([0-9]+ %\), [0-9]+ txs" "$T/tty-audit" ||
    fail "audit drew no progress line on a terminal: $(od -c "$T/tty-audit" | head)"
[[ $(tail -c 4 "$T/tty-audit" | od -An -c | tr -d ' ') == '\r033[K' ]] ||
    fail "audit did not clear its progress line: $(od -c "$T/tty-audit" | tail -3)"
"${ONTTY[@]}" "$T/tty-audit-q" "${W[@]}" --node "http://127.0.0.1:$port" audit \
    --genesis "$T/genesis.json" --quiet >/dev/null || fail "audit --quiet failed"
[[ ! -s $T/tty-audit-q ]] || fail "audit --quiet drew: $(od -c "$T/tty-audit-q" | head -3)"
pass "audit shows its progress on a terminal (chain at $tip), none with --quiet"

curl -fsS "http://127.0.0.1:$port/v1/blocks/2?format=raw" -o "$T/block2.bin"
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
# verify-chain likewise, on the stopped node's datadir.
"${ONTTY[@]}" "$T/tty-vc" "$ESGNODE" verify-chain --datadir "$T/node" >"$T/tty-vc.out" ||
    fail "verify-chain failed: $(cat "$T/tty-vc.out")"
grep -q "verify-chain: OK" "$T/tty-vc.out" || fail "verify-chain: $(cat "$T/tty-vc.out")"
grep -aEq "verify-chain: replaying: block [0-9]+ of $tip \([0-9]+ %\)" "$T/tty-vc" ||
    fail "verify-chain drew no progress line: $(od -c "$T/tty-vc" | head)"
"${ONTTY[@]}" "$T/tty-vc-q" "$ESGNODE" verify-chain --datadir "$T/node" --quiet >/dev/null ||
    fail "verify-chain --quiet failed"
[[ ! -s $T/tty-vc-q ]] || fail "verify-chain --quiet drew: $(od -c "$T/tty-vc-q" | head -3)"
"$ESGNODE" verify-chain --datadir "$T/node" 2>"$T/vc.err" >/dev/null || fail "verify-chain failed"
[[ ! -s $T/vc.err ]] || fail "verify-chain wrote on a stderr that is no terminal: $(cat "$T/vc.err")"
pass "verify-chain shows its progress on a terminal, none with --quiet or into a file"
# Change one byte of block 2 where data.mdb stores it (every copy LMDB
# keeps), then serve the tampered chain.
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
block = open(t + "/block2.bin", "rb").read()
db = bytearray(open(t + "/node/data.mdb", "rb").read())
at, n = db.find(block), 0
assert at >= 0, "block 2 not found verbatim in data.mdb"
while at >= 0:
    db[at + len(block) // 2] ^= 0x01
    n += 1
    at = db.find(block, at + 1)
open(t + "/node/data.mdb", "wb").write(db)
print(f"ok: flipped one byte in {n} stored cop{'y' if n == 1 else 'ies'} of block 2")
PY
start_node "$T/node" "$port"
if "${W[@]}" --node "http://127.0.0.1:$port" audit --genesis "$T/genesis.json" >"$T/audit2.out" 2>"$T/audit2.err"; then
    cat "$T/audit2.out"; fail "audit passed on a tampered block"
fi
grep -q "FAILED at height 2" "$T/audit2.err" || { cat "$T/audit2.err"; fail "audit did not name height 2"; }
[ "$(wc -l <"$T/audit2.err")" -eq 1 ] || { cat "$T/audit2.err"; fail "audit's error is not one line"; }
pass "tampered block: $(cat "$T/audit2.err")"
left=$(find "$TMPDIR" -mindepth 1 | wc -l)
[ "$left" -eq 0 ] || { find "$TMPDIR"; fail "audit left its scratch store behind"; }
pass "audit"
