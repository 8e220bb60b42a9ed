#!/usr/bin/env bash
# The web explorer served by esgnode at /, in a real headless Chromium
# (tests/browser/explorer.test.mjs, playwright-core from web/node_modules):
# on a chain where two cities co-issue a green bond, two investors
# subscribe, proceeds go to projects in both cities, an EU grant funds one,
# impact is reported and attested, every page renders without a console
# error, page error or failed request, the charts are drawn, every link
# found leads to a page that renders, and the "Verify" button reaches the
# light client with the real genesis file: verified directly, NOT
# verified through a proxy that flips a byte of /v1/state/proof.
# Then, with curl and the browser: the HTML's headers (CSP), a node with an
# API token (the page says it needs one), and [api] explorer = false (GET /
# is an unknown route).
. "$(dirname "$0")/lib.sh"

WEB=$ESG_SRC_DIR/web
[[ -f $WEB/node_modules/playwright-core/package.json ]] ||
    fail "web/node_modules is missing: run (cd web && npm ci), then cmake and build again (the explorer and this test need it)"
command -v node >/dev/null || fail "node (Node.js 18 or later) is needed to drive the browser"
CHROMIUM=${ESG_CHROMIUM:-/usr/bin/chromium}
[[ -x $CHROMIUM ]] || fail "no Chromium at $CHROMIUM (apt-get install chromium, or set ESG_CHROMIUM)"

W=("$ESGWALLET" --keystore "$T/keys")
for k in rhodes kos fund mutual verifier agent; do
    "${W[@]}" key new "$k" >/dev/null
done
valpk=$("$ESGNODE" key new -o "$T/validator.key")
"$ESGNODE" genesis new --chain-id esg-explorer-1 -o "$T/genesis.json" \
    --member "city-rhodes:CITY:Municipality of Rhodes:$(pk rhodes)" \
    --member "city-kos:CITY:Municipality of Kos:$(pk kos)" \
    --member "inv-fund:INVESTOR:Island Pension Fund:$(pk fund)" \
    --member "inv-mutual:INVESTOR:Aegean Mutual:$(pk mutual)" \
    --member "verifier-a:VERIFIER:Assurance A:$(pk verifier)" \
    --member "agent-p:PAYING_AGENT:Agent P:$(pk agent)" \
    --population city-rhodes:125000 --population city-kos:37000 \
    --country city-rhodes:GR --country city-kos:GR \
    --validator "$valpk:10:city-rhodes" --accredit "verifier-a:climate,energy" >/dev/null
"$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/node" --key "$T/validator.key" >/dev/null
port=$(free_port)
start_node "$T/node" "$port"
url=http://127.0.0.1:$port

curl -fsS "$url/" >/dev/null 2>&1 || {
    curl -sS "$url/" >&2
    fail "GET / did not serve the explorer: this build has none (was web/node_modules there at cmake time? run cmake again)"
}

python3 - "$T" "$url" "$ESGWALLET" <<'PY'
import hashlib, json, subprocess, sys
t, url, wallet = sys.argv[1], sys.argv[2], sys.argv[3]
W = [wallet, "--keystore", t + "/keys", "--node", url]

from walletrun import runner
run = runner(W)

def write(name, data):
    with open(f"{t}/{name}", "wb") as f:
        f.write(data)
    return f"{t}/{name}"

# Two cities co-issue 1000 units of 1 000.05 EUR (an odd face value, so
# that cents show), 60/40.
spec = {"id": "DGB-2025-01", "kind": "GREEN_BOND", "name": "Dodecanese joint green bond",
        "currency": "EUR", "face_value": "100005", "units": 1000, "coupon_bps": 275,
        "coupon_frequency_months": 12, "issue_date": "2025-01-15", "maturity_date": "2028-01-15",
        "co_issuers": [{"member": "city-rhodes", "share_bps": 6000},
                       {"member": "city-kos", "share_bps": 4000}],
        "paying_agent": "agent-p",
        "projects": [{"id": "RHO-PV", "city": "city-rhodes", "name": "Harbour solar",
                      "eu_objective": "CCM", "sdgs": [7, 13], "budget": "30000000"},
                     {"id": "KOS-BUS", "city": "city-kos", "name": "Electric buses",
                      "eu_objective": "CCM", "sdgs": [11], "budget": "20000000"}]}
run("instrument", "issue", "--spec", write("spec.json", json.dumps(spec).encode()),
    "--key", "rhodes", "-o", t + "/issue.tx")
run("tx", "sign", t + "/issue.tx", "--key", "kos")
run("tx", "submit", t + "/issue.tx")
run("instrument", "subscribe", "DGB-2025-01", "--units", "500", "--key", "fund")
run("instrument", "subscribe", "DGB-2025-01", "--units", "250", "--key", "mutual")
run("instrument", "close", "DGB-2025-01", "--key", "rhodes")
ev = write("invoice.pdf", b"invoice")
run("proceeds", "allocate", "DGB-2025-01", "--project", "RHO-PV", "--amount", "25000000",
    "--date", "2025-02-01", "--evidence", ev, "--key", "rhodes")
run("proceeds", "allocate", "DGB-2025-01", "--project", "KOS-BUS", "--amount", "15000037",
    "--date", "2025-02-03", "--evidence", ev, "--key", "kos")
grant = {"type": "RecordFunding", "project": "RHO-PV", "source": "EU",
         "programme": "ERDF 2021-2027", "amount": "5000000", "date": "2025-01-20",
         "evidence_sha256": hashlib.sha256(b"grant agreement").hexdigest()}
run("tx", "build", "--action", write("grant.json", json.dumps(grant).encode()), "--key", "rhodes")
meter = write("meter.csv", b"month,tco2e\n1,100\n")
r = run("impact", "report", "DGB-2025-01", "--project", "RHO-PV", "--kpi", "ghg_avoided_tco2e",
        "--value", "1200.500", "--period", "2025-01-01:2025-12-31", "--evidence", meter,
        "--methodology", "metered generation x grid factor", "--key", "rhodes")
report = r.get("report_id") or r["tx_id"]
run("impact", "attest", report, "--opinion", "confirmed", "--value", "1180.250",
    "--statement", write("statement.pdf", b"assurance statement"), "--key", "verifier")
open(t + "/report_id", "w").write(report)
print("ok: chain built: DGB-2025-01 co-issued, allocated in two cities, report", report, "attested")
PY

# The page's headers: a policy that allows no inline script.
curl -fsS -D "$T/h" -o "$T/index.html" "$url/"
grep -qi '^content-type: text/html; charset=utf-8' "$T/h" || { cat "$T/h"; fail "GET / is not HTML"; }
grep -qi "^content-security-policy: default-src 'self'; script-src 'self' 'unsafe-eval';" "$T/h" || { cat "$T/h"; fail "GET / has no CSP"; }
grep -qi '^x-content-type-options: nosniff' "$T/h" || fail "GET / has no nosniff"
! grep -qi '<script>' "$T/index.html" || fail "index.html has an inline script"
pass "GET / is the explorer's HTML with its CSP"

export ESG_EXPLORER_URL=$url ESG_GENESIS=$T/genesis.json ESG_REPORT=$(cat "$T/report_id") \
    ESG_INSTRUMENT=DGB-2025-01 ESG_CHROMIUM=$CHROMIUM
node "$ESG_SRC_DIR/tests/browser/explorer.test.mjs" || fail "the browser test failed"

# A node with a bearer token: the page (open) says it needs one.
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
cp "$T/node/esgnode.conf" "$T/esgnode.conf.orig" 2>/dev/null || : >"$T/esgnode.conf.orig"
{ cat "$T/esgnode.conf.orig"; printf '\n[api]\ntoken = explorer-test-token\n'; } >"$T/node/esgnode.conf"
start_node "$T/node" "$port"
ESG_EXPLORER_MODE=token node "$ESG_SRC_DIR/tests/browser/explorer.test.mjs" ||
    fail "the browser test with a token failed"

# [api] explorer = false: GET / and /explorer/* are unknown routes.
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
{ cat "$T/esgnode.conf.orig"; printf '\n[api]\nexplorer = false\n'; } >"$T/node/esgnode.conf"
start_node "$T/node" "$port"
for path in / /explorer/app.js; do
    code=$(curl -sS -o "$T/off.json" -w '%{http_code}' "$url$path")
    [[ $code == 404 ]] || fail "GET $path with explorer = false: $code"
    grep -q "\"no route 'GET $path'\"" "$T/off.json" || { cat "$T/off.json"; fail "GET $path: not the unknown-route answer"; }
done
curl -fsS "$url/v1/status" >/dev/null || fail "the API went away with the explorer"
pass "[api] explorer = false: GET / is an unknown route"
pass "explorer"
