#!/usr/bin/env bash
# The explorer's light client (web/src/light.js, docs/LIGHT_CLIENT.md)
# against a real network of 4 validators: governance adds a fifth
# validator (a validator-set change the client must follow from genesis),
# a city reports impact and a verifier attests it with esgwallet; then
# tests/web/light.test.mjs (node --test) checks that verifyImpact over a
# real fetch gives what `esgwallet impact verify --json` gives, and that a
# node tampering with any piece of the proof is refused with the wallet's
# reason.
. "$(dirname "$0")/lib.sh"

WEB=$ESG_SRC_DIR/web
command -v node >/dev/null || fail "node (>= 20) is needed to run the light client's tests"
for m in @noble/curves @noble/hashes protobufjs protobufjs-cli long; do
    [[ -d $WEB/node_modules/$m ]] || fail "web/node_modules/$m is missing: run 'cd web && npm ci' (tests/run does)"
done

N=4
. "$(dirname "$0")/netlib.sh"
# netlib's genesis has one member; this one has the members an impact
# report needs, and the same four validator keys.
W=("$ESGWALLET" --keystore "$T/keys" --node "$(url 0)")
for k in city verifier agent; do "${W[@]}" key new "$k" >/dev/null; done
vals=()
for i in 0 1 2 3; do
    vals+=(--validator "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pubkey"])' "$T/v$i.key"):10:city-rhodes")
done
members=(--member "city-rhodes:CITY:Rhodes:$(pk city)" --member "verifier-a:VERIFIER:Assurance A:$(pk verifier)"
         --member "agent-p:PAYING_AGENT:Agent P:$(pk agent)")
rm -f "$T/genesis.json"
"$ESGNODE" genesis new --chain-id esg-light-1 -o "$T/genesis.json" "${members[@]}" "${vals[@]}" \
    --accredit "verifier-a:climate,energy" >/dev/null
"$ESGNODE" genesis new --chain-id esg-other-1 -o "$T/other-chain.json" "${members[@]}" "${vals[@]}" \
    --accredit "verifier-a:climate,energy" >/dev/null
"$ESGNODE" genesis new --chain-id esg-light-1 -o "$T/other-valset.json" "${members[@]}" \
    --validator "$("$ESGNODE" key new -o "$T/other.key"):10:city-rhodes" \
    --accredit "verifier-a:climate,energy" >/dev/null
for i in 0 1 2 3; do
    rm -rf "$T/n$i"
    "$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/n$i" --key "$T/v$i.key" >/dev/null
done
for i in 0 1 2 3; do start "$i"; done
newpk=$("$ESGNODE" key new -o "$T/new.key")

python3 - "$T" "$(url 0)" "$ESGWALLET" "$newpk" <<'PY'
import json, subprocess, sys, urllib.request
t, url, wallet, newpk = sys.argv[1:5]
W = [wallet, "--keystore", t + "/keys", "--node", url]
from walletrun import runner
run = runner(W)
def api(path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.load(r)
def write(name, data):
    open(f"{t}/{name}", "wb").write(data)
    return f"{t}/{name}"
# A fifth validator of power 1 (the four hold 40 of 41, more than 2/3, and
# commit without it): decided in block hc, announced by hc + 1, in force
# from hc + 2.
hc = run("member", "propose", "add-validator", "--pubkey", newpk, "--power", "1",
         "--operator", "city-rhodes", "--key", "city")["height"]
spec = {"id": "RGB-2024-01", "kind": "GREEN_BOND", "name": "Rhodes green bond",
        "currency": "EUR", "face_value": "100000", "units": 100, "coupon_bps": 300,
        "coupon_frequency_months": 12, "issue_date": "2024-03-01",
        "maturity_date": "2026-03-01",
        "co_issuers": [{"member": "city-rhodes", "share_bps": 10000}],
        "paying_agent": "agent-p",
        "projects": [{"id": "RHO-PV", "city": "city-rhodes", "name": "Harbour solar",
                      "eu_objective": "CCM", "sdgs": [7], "budget": "4000000"}]}
run("instrument", "issue", "--spec", write("spec.json", json.dumps(spec).encode()), "--key", "city")
meter = write("meter.csv", b"month,tco2e\n1,100\n")
r = run("impact", "report", "RGB-2024-01", "--project", "RHO-PV", "--kpi", "ghg_avoided_tco2e",
        "--value", "1200.500", "--period", "2024-01-01:2024-12-31", "--evidence", meter,
        "--key", "city")
r = r.get("report_id") or r["tx_id"]
run("impact", "attest", r, "--opinion", "confirmed", "--value", "1180.250",
    "--statement", write("statement.pdf", b"assurance statement"), "--key", "verifier")
changes = [c["height"] for c in api("/v1/validators/changes")["changes"]]
assert changes == [1, hc + 2], (changes, hc)
assert api("/v1/status")["height"] >= hc + 2
v = run("impact", "verify", r, "--genesis", t + "/genesis.json")
assert v["counted_value"] == "1180.250" and v["height"] >= hc + 2, v
open(t + "/wallet.json", "w").write(json.dumps(v))
open(t + "/report_id", "w").write(r)
open(t + "/change", "w").write(str(hc + 2))
print(f"ok: 4 validators, a fifth added in block {hc}; report {r[:16]}... attested; esgwallet impact verify at height {v['height']}")
PY

# The driver of the "proofs from different heights" case: one more block.
bump=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' "${W[@]}" --json member propose \
    set-param --name proposal_ttl_blocks --value 1001 --key city)
ESG_LIGHT_REQUIRE=1 ESG_LIGHT_URL=$(url 0) ESG_LIGHT_GENESIS=$T/genesis.json \
    ESG_LIGHT_OTHER_CHAIN=$T/other-chain.json ESG_LIGHT_OTHER_VALSET=$T/other-valset.json \
    ESG_LIGHT_REPORT=$(cat "$T/report_id") ESG_LIGHT_WALLET=$T/wallet.json \
    ESG_LIGHT_CHANGE=$(cat "$T/change") ESG_LIGHT_BUMP=$bump \
    node --test --test-reporter=spec "$ESG_SRC_DIR/tests/web/light.test.mjs" ||
    fail "tests/web/light.test.mjs failed"
pass "the light client verifies like esgwallet and refuses every tampering"
