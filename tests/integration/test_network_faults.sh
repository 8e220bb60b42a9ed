#!/usr/bin/env bash
# Faults on four validators on 127.0.0.1 (the set-up and helpers are those
# of test_network.sh): with 2 of 4 killed -9 nothing is committed and the
# survivors do not fork; restarted, all four converge; a node whose key is
# not a validator's is refused; a raw TCP client sending garbage or an
# oversized length prefix to a p2p port is dropped; the network carries on.
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

for i in $(seq 0 $((N - 1))); do start "$i"; done
h=$(tx_commit 0)
wait_all "$h" 0 1 2 3
pass "4 validators committed a tx at height $h"

# Two of four killed: 20 of 40 power left, no quorum. A pending tx gives the
# survivors something to propose; still nothing may be committed.
kill -9 "${PIDS[2]}" "${PIDS[3]}"
wait "${PIDS[2]}" 2>/dev/null || true
wait "${PIDS[3]}" 2>/dev/null || true
python3 - "$T" "$(url 0)" <<'PY' || fail "tx not admitted"
import sys, pyclient as pc
t, url = sys.argv[1], sys.argv[2]
nonce = int(open(t + "/nonce").read()) + 1
open(t + "/nonce", "w").write(str(nonce))
admin = bytes.fromhex(open(t + "/admin.sec").read())
A = pc.pubkey(admin)
raw = pc.tx(pc.tx_body("esg-net-1", nonce, A, pc.add_account(pc.pubkey(pc.new_secret()), [2])), [admin])
st, body = pc.Node(url).submit(raw, wait=False)
assert st in (200, 201, 202), (st, body)
PY
h=$(height 0)
idle 5 0 1
same_chain "$h" 0 1
pass "2 of 4 killed at height $h: no block for 5 s, same chain on the survivors"

start 2
start 3
wait_all $((h + 1)) 0 1 2 3
h=$(height 0)
same_chain "$h" 0 1 2 3
same_status
pass "both restarted: the pending tx committed, all four converge at height $h"

# A fifth node with a key that is no validator's, on the same genesis.
"$ESGNODE" key new -o "$T/x.key" >/dev/null
"$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/x" --key "$T/x.key" >/dev/null
XAPI=$(free_port)
XP2P=$(low_port "${P2P[@]}")
"$ESGNODE" run --datadir "$T/x" --api "127.0.0.1:$XAPI" --p2p "127.0.0.1:$XP2P" \
    --peer "127.0.0.1:${P2P[0]}" >>"$T/x.log" 2>&1 &
NODE_PIDS+=("$!")
XPID=$!
python3 - "$XAPI" "$T/n0.log" <<'PY' || { tail -20 "$T/x.log" >&2; fail "the outsider was not refused"; }
import json, sys, time, urllib.request
url, log = "http://127.0.0.1:%s/v1/status" % sys.argv[1], sys.argv[2]
deadline = time.time() + 30
refused = False
polls = 0
while time.time() < deadline:
    try:
        st = json.load(urllib.request.urlopen(url))
    except Exception:
        time.sleep(0.1)
        continue
    assert st["peers"] == 0, st
    polls += 1
    refused = refused or "not a validator of this chain" in open(log).read()
    if refused and polls >= 30:
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
kill -0 "$XPID" || fail "the outsider exited"
h=$(tx_commit 0)
wait_all "$h" 0 1 2 3
pass "a non-validator node is refused (0 peers, node 0 logs why); tx committed at $h"

# Raw TCP clients: garbage, then an oversized length prefix.
python3 - "${P2P[0]}" <<'PY' || fail "node 0 kept a bad connection"
import os, socket, sys, time
port = int(sys.argv[1])
for payload in (os.urandom(4096), b"\xff\xff\xff\xff" + b"\x00" * 64):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:
        s.sendall(payload)
    except OSError:
        continue  # already dropped
    end = time.time() + 15
    closed = False
    while time.time() < end:
        try:
            if s.recv(65536) == b"":
                closed = True
                break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
            break
        except socket.timeout:
            break
    s.close()
    assert closed, payload[:8]
PY
kill -0 "${PIDS[0]}" || fail "node 0 died"
h=$(tx_commit 0)
wait_all "$h" 0 1 2 3
same_chain "$h" 0 1 2 3
pass "raw clients sending garbage / an oversized length are dropped; tx committed at $h"
