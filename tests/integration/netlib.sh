# Shared by the multi-validator tests: a genesis of N validators (N set by
# the caller, default 4), their datadirs and ports, starting and stopping
# nodes, committing a transaction and waiting for all nodes to agree.
# Source it after lib.sh.
: "${N:=4}"

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

start() { # I [ARG...]: starts validator I with every other node as a peer;
    # any further ARGs are passed on to esgnode run (--heartbeat-ms 50, ...)
    local i=$1 peers=() j
    shift
    for j in $(seq 0 $((N - 1))); do
        ((j == i)) || peers+=(--peer "127.0.0.1:${P2P[$j]}")
    done
    "$ESGNODE" run --datadir "$T/n$i" --api "127.0.0.1:${API[$i]}" \
        --p2p "127.0.0.1:${P2P[$i]}" "${peers[@]}" "$@" >>"$T/n$i.log" 2>&1 &
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
