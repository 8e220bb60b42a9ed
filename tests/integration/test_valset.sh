#!/usr/bin/env bash
# Validator-set changes and observers on a real network (docs/P2P.md §5):
# - an observer (a key the validators list with --observer) connects,
#   follows the chain and never votes; a stranger is still refused;
# - governance removes validator 3: from two blocks after the decision the
#   others disconnect it and refuse its redials, and commit without it;
# - governance adds validator 4 (a new key): once in force it connects,
#   syncs and counts -- with validator 0 killed, 1, 2 and 4 commit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

obs_pk=$("$ESGNODE" key new -o "$T/obs.key")
new_pk=$("$ESGNODE" key new -o "$T/new.key")
v3_pk=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pubkey"])' "$T/v3.key")
for k in obs new; do
    "$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/$k" --key "$T/$k.key" >/dev/null
done
for i in 0 1 2 3; do start "$i" --observer "$obs_pk"; done

# extra NAME: starts the node of $T/NAME (not one of netlib's) with every
# validator as a peer; sets EXTRA_URL.
extra() {
    local name=$1 api peers=() j
    api=$(free_port)
    for j in 0 1 2 3; do peers+=(--peer "127.0.0.1:${P2P[$j]}"); done
    "$ESGNODE" run --datadir "$T/$name" --api "127.0.0.1:$api" --p2p "127.0.0.1:$(low_port "${P2P[@]}")" \
        "${peers[@]}" >>"$T/$name.log" 2>&1 &
    NODE_PIDS+=("$!")
    EXTRA_URL=http://127.0.0.1:$api
    local deadline=$((SECONDS + 60))
    until curl -fsS "$EXTRA_URL/v1/status" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || { cat "$T/$name.log" >&2; fail "$name did not start"; }
        sleep 0.1
    done
}
status() { curl -fsS "$1/v1/status" | python3 -c "import json,sys; print(json.load(sys.stdin)$2)"; }
# until_true SECONDS WHAT COMMAND...: polls COMMAND until it succeeds
until_true() {
    local secs=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    until "$@"; do
        ((SECONDS < deadline)) || fail "$what (waited $secs s)"
        sleep 0.2
    done
}
# commit_action NODE PYEXPR: the admin signs the action PYEXPR (pyclient
# names, pc.*) with the next nonce; waits for commit, prints the height
commit_action() {
    python3 - "$T" "$(url "$1")" "$2" <<'PY' || fail "action not committed: $2"
import sys, pyclient as pc
t, url, expr = sys.argv[1:4]
nonce = int(open(t + "/nonce").read()) + 1
open(t + "/nonce", "w").write(str(nonce))
admin = bytes.fromhex(open(t + "/admin.sec").read())
raw = pc.tx(pc.tx_body("esg-net-1", nonce, pc.pubkey(admin), eval(expr)), [admin])
st, body = pc.Node(url).submit(raw, wait=True)
assert st in (200, 201, 202) and body.get("height", 0) > 0, (st, body)
print(body["height"])
PY
}

# --- observers
extra obs
OBS=$EXTRA_URL
h=$(tx_commit 0)
wait_all "$h" 0 1 2 3
at_height() { (($(status "$1" '["height"]') >= $2)); }
until_true 60 "the observer did not follow to height $h" at_height "$OBS" "$h"
[[ $(status "$OBS" '["validator"]') == False ]] || fail "the observer says it is a validator"
block_hash() { curl -fsS "$1/v1/blocks/$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["hash"])'; }
[[ $(block_hash "$OBS" "$h") == $(block_hash "$(url 0)" "$h") ]] || fail "the observer has another block at $h"
pass "an allowed observer follows the chain (height $h) without voting"

# --- removal
hr=$(commit_action 0 "pc.propose_remove_validator(bytes.fromhex('$v3_pk'))")
pass "validator 3 removed by governance in block $hr (in force at $((hr + 2)))"
wait_all $((hr + 2)) 0 1 2
refused() { grep -q "not a validator of this chain" "$T/n0.log" "$T/n1.log" "$T/n2.log"; }
until_true 60 "no validator disconnected or refused the removed one" refused
v3_gone() { # no honest validator keeps a connection to validator 3
    (($(status "$(url 3)" '["peers"]') <= 1))   # at most the observer
}
until_true 60 "validator 3 still has validator peers" v3_gone
h3=$(height 3)
h=$(tx_commit 1)
wait_all "$h" 0 1 2
((h > h3)) || fail "no block after the removal"
[[ $(curl -fsS "$(url 0)/v1/validators" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["validators"]))') == 3 ]] ||
    fail "the set does not have 3 validators"
pass "validator 3 disconnected and refused; 0, 1, 2 commit on (height $h)"

# --- addition
ha=$(commit_action 0 "pc.propose_add_validator(bytes.fromhex('$new_pk'), 10, 'city-alpha')")
wait_all $((ha + 2)) 0 1 2
extra new
NEW=$EXTRA_URL
until_true 90 "the new validator did not sync to $((ha + 2))" at_height "$NEW" $((ha + 2))
until_true 30 "the new node does not know it is a validator" \
    bash -c "[[ \$(curl -fsS $NEW/v1/status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"validator\"])') == True ]]"
# 0 killed: 1, 2 and the new one hold 30 of 40 power, more than 2/3.
kill -9 "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null || true
h=$(tx_commit 1)
until_true 90 "the new validator did not reach $h" at_height "$NEW" "$h"
[[ $(block_hash "$NEW" "$h") == $(block_hash "$(url 1)" "$h") ]] ||
    fail "the new validator has another block at $h"
pass "validator added by governance (block $ha) syncs and counts: with 0 down, height $h committed"
