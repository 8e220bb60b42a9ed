#!/usr/bin/env bash
# Four validators on 127.0.0.1: a transaction submitted to one node is
# committed on all, with the same block hash (and so app hash) at every
# height; an idle network makes no blocks (no heartbeat configured); kill -9
# one node and the other three keep committing; restart it and it syncs to
# the same chain. Blocks are driven by transactions (tx_commit), since
# nothing is committed while the mempool is empty.
. "$(dirname "$0")/lib.sh"
N=4

python3 - "$T" <<'PY'
import sys, pyclient as pc
s = pc.new_secret()
open(sys.argv[1] + "/admin.sec", "w").write(s.hex())
open(sys.argv[1] + "/admin.pub", "w").write(pc.pubkey(s).hex())
PY
vals=()
for i in $(seq 0 $((N - 1))); do
    pk=$("$ESGNODE" key new -o "$T/v$i.key")
    vals+=(--validator "$pk:10:city-alpha")
done
"$ESGNODE" genesis new --chain-id esg-net-1 -o "$T/genesis.json" \
    --member "city-alpha:CITY:Alpha:$(cat "$T/admin.pub")" "${vals[@]}" >/dev/null
# Ports below the ephemeral range: a dial to a port nobody listens on yet
# can otherwise connect to itself (TCP simultaneous open) and take the port.
low_port() {
    python3 - "$@" <<'PY'
import random, socket, sys
taken = set(sys.argv[1:])
while True:
    p = random.randint(20000, 32000)
    if str(p) in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()
PY
}
API=() P2P=() PIDS=()
for i in $(seq 0 $((N - 1))); do
    "$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/n$i" --key "$T/v$i.key" >/dev/null
    API+=("$(free_port)")
    P2P+=("$(low_port "${P2P[@]}")")
done
url() { echo "http://127.0.0.1:${API[$1]}"; }

start() { # I: starts validator I with every other node as a peer
    local i=$1 peers=() j
    for j in $(seq 0 $((N - 1))); do
        ((j == i)) || peers+=(--peer "127.0.0.1:${P2P[$j]}")
    done
    "$ESGNODE" run --datadir "$T/n$i" --api "127.0.0.1:${API[$i]}" \
        --p2p "127.0.0.1:${P2P[$i]}" "${peers[@]}" >>"$T/n$i.log" 2>&1 &
    PIDS[i]=$!
    NODE_PIDS+=("$!")
    local deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        kill -0 "${PIDS[$i]}" 2>/dev/null || { cat "$T/n$i.log" >&2; fail "node $i exited at start"; }
        curl -fsS "$(url "$i")/v1/status" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "node $i did not answer within 60 s"
}

height() { curl -fsS "$(url "$1")/v1/status" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])' 2>/dev/null || echo 0; }

# tx_commit NODE: submits a fresh admin transaction (next nonce, kept in
# $T/nonce) to NODE and waits for its commit; prints the commit height.
echo 0 >"$T/nonce"
tx_commit() {
    python3 - "$T" "$(url "$1")" <<'PY' || fail "tx not committed"
import sys, pyclient as pc
t, url = sys.argv[1], sys.argv[2]
nonce = int(open(t + "/nonce").read()) + 1
open(t + "/nonce", "w").write(str(nonce))
admin = bytes.fromhex(open(t + "/admin.sec").read())
A = pc.pubkey(admin)
raw = pc.tx(pc.tx_body("esg-net-1", nonce, A, pc.add_account(pc.pubkey(pc.new_secret()), [2])), [admin])
st, body = pc.Node(url).submit(raw, wait=True)
assert st in (200, 201, 202) and body.get("height", 0) > 0, (st, body)
print(body["height"])
PY
}

wait_all() { # HEIGHT NODE...: waits (90 s) until every listed node reached
    # HEIGHT; while node 0 is below it, a transaction submitted to node 0
    # drives the next block (idle networks make none)
    local want=$1 i deadline=$((SECONDS + 90))
    shift
    for i in "$@"; do
        while (($(height "$i") < want)); do
            ((SECONDS < deadline)) || { tail -30 "$T/n$i.log" >&2; fail "node $i did not reach height $want"; }
            if ((i == 0)); then tx_commit 0 >/dev/null; else sleep 0.2; fi
        done
    done
}

# idle SECONDS NODE...: the listed nodes' heights stay unchanged that long
idle() {
    local secs=$1 i before=() end
    shift
    for i in "$@"; do before+=("$(height "$i")"); done
    end=$((SECONDS + secs))
    while ((SECONDS < end)); do
        local k=0
        for i in "$@"; do
            [[ $(height "$i") == "${before[$k]}" ]] || fail "node $i committed a block while idle"
            k=$((k + 1))
        done
        sleep 0.2
    done
}

same_chain() { # UPTO NODE...: block hashes 1..UPTO equal on every listed node
    python3 - "$1" "${@:2}" <<PY || fail "the nodes disagree"
import json, sys, urllib.request
upto = int(sys.argv[1]); nodes = sys.argv[2:]
ports = "${API[*]}".split()
for h in range(1, upto + 1):
    seen = set()
    for n in nodes:
        b = json.load(urllib.request.urlopen("http://127.0.0.1:%s/v1/blocks/%d" % (ports[int(n)], h)))
        seen.add((b["hash"], b["header"]["app_hash"]))
    if len(seen) != 1:
        print("height %d: %s" % (h, seen)); sys.exit(1)
PY
}

same_status() { # polls (60 s) until every node's /v1/status shows the same
    # height, block hash and app hash at one moment
    python3 - <<PY || fail "the nodes' status never matched"
import json, sys, time, urllib.request
ports = "${API[*]}".split()
deadline = time.time() + 60
while time.time() < deadline:
    st = [json.load(urllib.request.urlopen("http://127.0.0.1:%s/v1/status" % p)) for p in ports]
    if len({(s["height"], s["block_hash"], s["app_hash"]) for s in st}) == 1:
        sys.exit(0)
    time.sleep(0.05)
sys.exit(1)
PY
}

metrics_ok() { # NODE: /metrics has the consensus, p2p and sync metrics; at
    # an idle moment its heights match /v1/status (consensus decides the next)
    python3 - "${API[$1]}" <<'PY' || fail "node $1: metrics wrong"
import json, sys, time, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
names = ["esg_height", "esg_consensus_height", "esg_consensus_round", "esg_consensus_step",
         "esg_consensus_heights_total", "esg_consensus_rounds_total", "esg_peers",
         "esg_p2p_bytes_in_total", "esg_p2p_bytes_out_total", "esg_sync_syncing",
         "esg_sync_behind", "esg_evidence_total"]
for _ in range(100):
    h0 = json.load(urllib.request.urlopen(base + "/v1/status"))["height"]
    text = urllib.request.urlopen(base + "/metrics").read().decode()
    h1 = json.load(urllib.request.urlopen(base + "/v1/status"))["height"]
    m = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    missing = [n for n in names if n not in m]
    assert not missing, missing
    for st in ("propose", "prevote", "precommit", "commit", "idle"):
        assert 'esg_consensus_step_seconds_total{step="%s"}' % st in m, st
    if h0 == h1 and m["esg_height"] == h0 and m["esg_consensus_height"] == h0 + 1:
        assert m["esg_peers"] == 3, m["esg_peers"]
        assert m["esg_p2p_bytes_in_total"] > 0 and m["esg_p2p_bytes_out_total"] > 0
        assert m["esg_evidence_total"] == 0
        sys.exit(0)
    time.sleep(0.1)
print("heights never matched: status %d, metrics %s" % (h1, m)); sys.exit(1)
PY
}

for i in $(seq 0 $((N - 1))); do start "$i"; done
idle 3 0 1 2 3
pass "4 validators started; no empty blocks while idle (height $(height 0))"

# A transaction submitted to node 1 is committed on all four.
txh=$(tx_commit 1)
((txh > 0)) || fail "no commit height for the tx"
wait_all "$txh" 0 1 2 3
same_chain "$txh" 0 1 2 3
pass "tx submitted to node 1 committed at height $txh; same chain on all four"
metrics_ok 0
metrics_ok 2
pass "consensus, p2p and sync metrics present; heights match /v1/status"

kill -9 "${PIDS[3]}"
wait "${PIDS[3]}" 2>/dev/null || true
h=$(height 0)
wait_all $((h + 3)) 0 1 2
pass "node 3 killed at height ~$h; the other three committed up to $((h + 3))"

start 3
h=$(height 0)
wait_all "$h" 3
same_chain "$h" 0 1 2 3
same_status
pass "node 3 restarted, synced to height $h and matches the others (status too)"
