#!/usr/bin/env bash
# A crash at every point where a node persists (docs/FAILPOINTS.md): four
# validators; for each fail point one of them is restarted as
# esgnode-failpoints with ESG_FAILPOINT set, transactions go to another
# node until the armed one dies with status 86 at that instant, and it is
# restarted as the normal esgnode on the same datadir. It must catch up with
# blocks byte-identical to the others', pass verify-chain, have signed no
# conflicting vote (no evidence names an honest validator), and the network
# must go on. Last, the evidence pool: a crash right after a node pooled an
# equivocation (in memory only) loses no evidence already on chain.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

FP=$ESG_BIN_DIR/esgnode-failpoints
[[ -x $FP ]] || fail "$FP is not built"
EQUIVOCATE=$ESG_BIN_DIR/tests/esgtest-equivocate
cat >"$T/fast.conf" <<'EOF'
[consensus]
timeout_propose_ms = 300
timeout_propose_delta_ms = 100
timeout_prevote_ms = 100
timeout_prevote_delta_ms = 100
timeout_precommit_ms = 100
timeout_precommit_delta_ms = 100
timeout_commit_ms = 100
EOF
for i in 0 1 2 3; do start "$i" --config "$T/fast.conf"; done
h=$(tx_commit 0)
wait_all "$h" 0 1 2 3
pass "4 validators commit (height $h)"

stop() { # I: stops node I (SIGTERM) and waits for it
    kill "${PIDS[$1]}" 2>/dev/null || true
    wait "${PIDS[$1]}" 2>/dev/null || true
}

start_fp() { # I POINT: starts node I as esgnode-failpoints armed at POINT
    local i=$1 point=$2 peers=() j
    for j in $(seq 0 $((N - 1))); do
        ((j == i)) || peers+=(--peer "127.0.0.1:${P2P[$j]}")
    done
    echo "== esgnode-failpoints, ESG_FAILPOINT=$point" >>"$T/n$i.log"
    ESG_FAILPOINT=$point "$FP" run --datadir "$T/n$i" --api "127.0.0.1:${API[$i]}" \
        --p2p "127.0.0.1:${P2P[$i]}" "${peers[@]}" --config "$T/fast.conf" \
        >>"$T/n$i.log" 2>&1 &
    PIDS[i]=$!
    NODE_PIDS+=("$!")
}

await_crash() { # I POINT DRIVER: transactions to node DRIVER (none when
    # DRIVER is -) until node I exits (60 s); its status must be 86, from POINT
    local i=$1 point=$2 driver=$3 deadline=$((SECONDS + 60)) rc=0
    while kill -0 "${PIDS[$i]}" 2>/dev/null; do
        ((SECONDS < deadline)) || { tail -20 "$T/n$i.log" >&2; fail "'$point' never crashed node $i"; }
        if [[ $driver != - ]]; then tx_commit "$driver" >/dev/null; else sleep 0.1; fi
    done
    wait "${PIDS[$i]}" || rc=$?
    ((rc == 86)) || { tail -20 "$T/n$i.log" >&2; fail "node $i exited with $rc, not 86, at '$point'"; }
    grep -q "failpoint '$point' hit" "$T/n$i.log" || fail "node $i did not report '$point'"
}

same_raw_blocks() { # UPTO NODE...: the raw bytes of blocks 1..UPTO are equal
    python3 - "$1" "${@:2}" <<PY || fail "the nodes' raw blocks differ"
import hashlib, sys, urllib.request
upto = int(sys.argv[1]); nodes = sys.argv[2:]
ports = "${API[*]}".split()
for h in range(1, upto + 1):
    seen = {}
    for n in nodes:
        raw = urllib.request.urlopen("http://127.0.0.1:%s/v1/blocks/%d?format=raw" % (ports[int(n)], h)).read()
        assert len(raw) > 0, (n, h)
        seen.setdefault(hashlib.sha256(raw).hexdigest(), []).append(n)
    if len(seen) != 1:
        print("height %d: %s" % (h, seen)); sys.exit(1)
PY
}

honest_keys() { # I...: the public keys of validators I...
    local i
    for i in "$@"; do
        python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pubkey"])' "$T/v$i.key"
    done
}

no_evidence_against() { # "KEY..." NODE...: no evidence on any listed node
    # names one of the keys (an honest validator signed nothing conflicting)
    python3 - "$1" "${@:2}" <<PY || fail "evidence names an honest validator"
import json, sys, urllib.request
keys = set(sys.argv[1].split()); nodes = sys.argv[2:]
ports = "${API[*]}".split()
for n in nodes:
    ev = json.load(urllib.request.urlopen("http://127.0.0.1:%s/v1/evidence" % ports[int(n)]))["evidence"]
    bad = [r for r in ev if r["validator"] in keys]
    if bad:
        print("node", n, bad); sys.exit(1)
PY
}

verify_chain() { # I: stops node I, runs verify-chain on its datadir, restarts it
    stop "$1"
    "$ESGNODE" verify-chain --datadir "$T/n$1" >"$T/verify$1.out" 2>&1 ||
        { cat "$T/verify$1.out" >&2; fail "verify-chain failed on node $1's datadir"; }
    start "$1" --config "$T/fast.conf"
}

ALL_KEYS=$(honest_keys 0 1 2 3)
# Fail point, the node that crashes, the node that takes the transactions.
CASES=(
    "block-commit-before 1 0"
    "block-commit-after 2 0"
    "privval-before-fsync 3 1"
    "privval-after-fsync 0 1"
    "wal-append-before 1 2"
    "wal-append-after 2 3"
)
for c in "${CASES[@]}"; do
    read -r point i j <<<"$c"
    stop "$i"
    start_fp "$i" "$point"
    await_crash "$i" "$point" "$j"
    start "$i" --config "$T/fast.conf"
    h=$(tx_commit "$j")
    wait_all "$h" 0 1 2 3
    same_raw_blocks "$h" 0 1 2 3
    no_evidence_against "$ALL_KEYS" 0 1 2 3
    verify_chain "$i"
    h=$(tx_commit "$i")
    wait_all "$h" 0 1 2 3
    same_raw_blocks "$h" 0 1 2 3
    pass "$point: node $i exited 86, restarted, caught up (height $h, raw blocks identical, verify-chain ok, no evidence) and the network goes on"
done

# The evidence pool. Node 3's key turns Byzantine (esgtest-equivocate plays
# it); 0, 1 and 2 hold 30 of 40 power and go on without it.
stop 3
"$EQUIVOCATE" --key "$T/v3.key" --chain-id esg-net-1 --peer "127.0.0.1:${P2P[1]}" \
    >"$T/equivocate1.out" 2>&1 || { cat "$T/equivocate1.out" >&2; fail "equivocate tool failed"; }
deadline=$((SECONDS + 90))
while :; do
    n=$(curl -fsS "$(url 0)/v1/evidence" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["evidence"]))')
    ((n > 0)) && break
    ((SECONDS < deadline)) || { tail -40 "$T/n1.log" >&2; fail "no evidence recorded within 90 s"; }
    tx_commit 1 >/dev/null
done
h=$(tx_commit 1)
wait_all "$h" 0 1 2
curl -fsS "$(url 0)/v1/evidence" >"$T/evidence.before"
pass "an equivocation of validator 3 is on chain"

# Node 0 pools a second equivocation and dies before it gossips it.
stop 0
start_fp 0 ev-pool-add
deadline=$((SECONDS + 60))
until curl -fsS "$(url 0)/v1/status" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "esgnode-failpoints did not answer"
    sleep 0.1
done
# The tool keeps its loop running (redialing) once its peer is gone: it
# runs in the background and is stopped after the crash.
"$EQUIVOCATE" --key "$T/v3.key" --chain-id esg-net-1 --peer "127.0.0.1:${P2P[0]}" \
    >"$T/equivocate2.out" 2>&1 &
eq=$!
NODE_PIDS+=("$eq")
await_crash 0 ev-pool-add -
kill "$eq" 2>/dev/null || true
wait "$eq" 2>/dev/null || true
start 0 --config "$T/fast.conf"
h=$(tx_commit 1)
wait_all "$h" 0 1 2
curl -fsS "$(url 0)/v1/evidence" >"$T/evidence.after"
python3 - "$T" "$(honest_keys 3)" "${API[1]}" "${API[2]}" <<'PY' || fail "committed evidence lost"
import json, sys, urllib.request
t, byz, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
before = json.load(open(t + "/evidence.before"))["evidence"]
after = json.load(open(t + "/evidence.after"))["evidence"]
assert len(before) >= 1 and all(r["validator"] == byz for r in after), after
assert all(r in after for r in before), (before, after)   # nothing on chain was lost
for p in ports:   # and node 0 has exactly the others' record
    assert json.load(urllib.request.urlopen("http://127.0.0.1:%s/v1/evidence" % p))["evidence"] == after
PY
same_raw_blocks "$h" 0 1 2
no_evidence_against "$(honest_keys 0 1 2)" 0 1 2
verify_chain 0
h=$(tx_commit 0)
wait_all "$h" 0 1 2
same_raw_blocks "$h" 0 1 2
pass "ev-pool-add: node 0 exited 86 with an equivocation pooled in memory; after a restart the evidence on chain is intact, blocks identical, verify-chain ok, the network goes on (height $h)"

# A single validator makes blocks with the producer (esg_exec_produce), not
# consensus: the block-commit points again on that path. The block being
# committed at "before" is lost with the mempool (nothing was final); the
# chain must restart where it was durable and go on.
stop 0; stop 1; stop 2
solo=$("$ESGNODE" key new -o "$T/solo.key")
"$ESGNODE" genesis new --chain-id esg-net-1 -o "$T/solo-genesis.json" \
    --member "city-alpha:CITY:Alpha:$(cat "$T/admin.pub")" --validator "$solo:10:city-alpha" >/dev/null
"$ESGNODE" init --genesis "$T/solo-genesis.json" --datadir "$T/solo" --key "$T/solo.key" >/dev/null
API[9]=$(free_port)
echo 0 >"$T/nonce"
solo_start() { # BINARY [POINT]
    ESG_FAILPOINT=${2:-} "$1" run --datadir "$T/solo" --api "127.0.0.1:${API[9]}" >>"$T/n9.log" 2>&1 &
    PIDS[9]=$!
    NODE_PIDS+=("$!")
    local deadline=$((SECONDS + 60))
    until curl -fsS "$(url 9)/v1/status" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || { cat "$T/n9.log" >&2; fail "the single node did not answer"; }
        sleep 0.1
    done
}
solo_start "$ESGNODE"
tx_commit 9 >/dev/null
stop 9
for point in block-commit-before block-commit-after; do
    solo_start "$FP" "$point"
    before=$(height 9)
    # The transaction's commit is what crashes the node: its answer is lost.
    (tx_commit 9 >/dev/null 2>&1) || true
    await_crash 9 "$point" -
    solo_start "$ESGNODE"
    after=$(height 9)
    if [[ $point == block-commit-before ]]; then want=$before; else want=$((before + 1)); fi
    ((after == want)) || fail "$point: the single node restarted at height $after, not $want"
    echo "$after" >"$T/nonce" # one admin transaction per block: nonce = height
    h=$(tx_commit 9)
    ((h == after + 1)) || fail "$point: the next transaction committed at $h"
    stop 9
    "$ESGNODE" verify-chain --datadir "$T/solo" >"$T/verify-solo.out" 2>&1 ||
        { cat "$T/verify-solo.out" >&2; fail "verify-chain failed on the single node"; }
    pass "$point (single validator): exited 86, restarted at height $after, verify-chain ok, the next transaction commits"
done
