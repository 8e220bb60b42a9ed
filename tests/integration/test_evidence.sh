#!/usr/bin/env bash
# Evidence of equivocation on a real network (docs/P2P.md §5): four validators,
# three run honestly, the fourth's key is played by esgtest-equivocate,
# which sends one node two conflicting signed prevotes. The honest nodes
# must turn them into evidence, gossip it, record it in a block (the
# header's evidence_hash commits to it) and serve it at /v1/evidence with a
# state proof, while the chain carries on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

EQUIVOCATE=$ESG_BIN_DIR/tests/esgtest-equivocate
for i in 0 1 2; do start "$i"; done
h=$(tx_commit 0)
wait_all "$h" 0 1 2
pass "3 of 4 validators commit (height $h)"

byz=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pubkey"])' "$T/v3.key")
"$EQUIVOCATE" --key "$T/v3.key" --chain-id esg-net-1 --peer "127.0.0.1:${P2P[0]}" \
    >"$T/equivocate.out" 2>&1 || { cat "$T/equivocate.out" >&2; fail "equivocate tool failed"; }
pass "$(cat "$T/equivocate.out")"

# The votes opened a height on the honest nodes; transactions drive the
# next ones until a proposer has put the evidence in a block.
deadline=$((SECONDS + 90))
while :; do
    n=$(curl -fsS "$(url 1)/v1/evidence" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["evidence"]))')
    ((n > 0)) && break
    ((SECONDS < deadline)) || { tail -40 "$T/n0.log" >&2; fail "no evidence recorded within 90 s"; }
    tx_commit 1 >/dev/null
done
grep -q "equivocated" "$T/n0.log" || fail "node 0 did not log the equivocation"

# Every honest node has the same record; it names the Byzantine key, and
# the block that recorded it carries the evidence under its header hash.
h=$(tx_commit 2)
wait_all "$h" 0 1 2
python3 - "$byz" "${API[0]}" "${API[1]}" "${API[2]}" <<'PY' || fail "evidence record wrong"
import json, sys, urllib.request
byz, ports = sys.argv[1], sys.argv[2:]
get = lambda p, path: json.load(urllib.request.urlopen("http://127.0.0.1:%s%s" % (p, path)))
recs = [get(p, "/v1/evidence")["evidence"] for p in ports]
assert all(r == recs[0] for r in recs), recs
assert len(recs[0]) == 1, recs[0]
r = recs[0][0]
assert r["validator"] == byz, r
assert int(r["power"]) == 10 and r["operator"] == "city-alpha", r
ev = r["evidence"]
a, b = ev["vote_a"], ev["vote_b"]
assert a["validator"] == b["validator"] == byz
assert a["height"] == b["height"] and a["round"] == b["round"] == 0
assert a.get("block_hash", "") == "" and len(b["block_hash"]) == 64, ev
blk = get(ports[0], "/v1/blocks/%d" % int(r["included_height"]))
assert len(blk["header"]["evidence_hash"]) == 64, blk["header"]
assert blk["evidence"][0]["vote_b"]["sig"] == b["sig"], blk
# Filtered by validator: the record; by another key: none.
assert len(get(ports[1], "/v1/evidence?validator=" + byz)["evidence"]) == 1
assert get(ports[1], "/v1/evidence?validator=" + "00" * 32)["evidence"] == []
# Provable like any record (table 9, key from the listing).
pr = get(ports[2], "/v1/state/proof?table=9&key=" + r["key"])
assert pr["value"] and pr["app_hash"] == pr["header"]["app_hash"], pr
print("evidence at height", a["height"], "recorded in block", r["included_height"])
PY
pass "the equivocation is recorded once, identically on every honest node"

st=$(curl -s -o /dev/null -w '%{http_code}' "$(url 0)/v1/evidence?validator=xyz")
[[ $st == 400 ]] || fail "a malformed validator filter gave HTTP $st, not 400"
h=$(tx_commit 0)
wait_all "$h" 0 1 2
same_chain "$h" 0 1 2
pass "the chain carries on after the evidence (height $h, same blocks on 0, 1, 2)"
