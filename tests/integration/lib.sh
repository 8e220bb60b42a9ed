# Shared by the integration tests: a temp dir, free ports, starting and
# stopping real esgnode processes, assertions. Source it; it sets a trap
# that stops every node it started and removes the temp dir.
set -euo pipefail
: "${ESG_BIN_DIR:?run through ctest (ESG_BIN_DIR unset)}"
: "${ESG_SRC_DIR:?run through ctest (ESG_SRC_DIR unset)}"
ESGNODE=$ESG_BIN_DIR/esgnode
ESGWALLET=$ESG_BIN_DIR/esgwallet
T=$(mktemp -d /tmp/esg-it-XXXXXX)
NODE_PIDS=()
export ESGWALLET_KDF=fast ESGWALLET_PASSPHRASE=integration-test
export PYTHONPATH=$ESG_SRC_DIR/tests/integration${PYTHONPATH:+:$PYTHONPATH}

cleanup() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# pk NAME: the pubkey of key NAME of the wallet command line "${W[@]}"
# the test has set up.
pk() { "${W[@]}" --json key show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pubkey"])'; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# one_validator CHAIN DATADIR: a genesis of one member (city-alpha, whose
# admin key is $T/admin.sec / .pub, made with pyclient) and one validator
# ($T/validator.key), written to $T/genesis.json; DATADIR initialized
# from it.
one_validator() {
    local chain=$1 datadir=$2 valpk
    python3 - "$T" <<'PY'
import sys, pyclient as pc
s = pc.new_secret()
open(sys.argv[1] + "/admin.sec", "w").write(s.hex())
open(sys.argv[1] + "/admin.pub", "w").write(pc.pubkey(s).hex())
PY
    valpk=$("$ESGNODE" key new -o "$T/validator.key")
    "$ESGNODE" genesis new --chain-id "$chain" -o "$T/genesis.json" \
        --member "city-alpha:CITY:Alpha:$(cat "$T/admin.pub")" \
        --validator "$valpk:10:city-alpha" >/dev/null
    "$ESGNODE" init --genesis "$T/genesis.json" --datadir "$datadir" \
        --key "$T/validator.key" >/dev/null
}

# start_node DATADIR PORT [LOGFILE]: starts esgnode in the background and
# waits (up to 60 s) until its API answers. Sets NODE_PID.
start_node() {
    local dir=$1 port=$2 log=${3:-$1.log}
    "$ESGNODE" run --datadir "$dir" --api "127.0.0.1:$port" >>"$log" 2>&1 &
    NODE_PID=$!
    NODE_PIDS+=("$NODE_PID")
    local deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
        kill -0 "$NODE_PID" 2>/dev/null || { cat "$log" >&2; fail "esgnode exited at start"; }
        curl -fsS "http://127.0.0.1:$port/v1/status" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "esgnode did not answer on port $port within 60 s"
}

# wait_height URL H: waits (up to 60 s) until the node's height is >= H.
wait_height() {
    local url=$1 want=$2 deadline=$((SECONDS + 60)) h
    while ((SECONDS < deadline)); do
        h=$(curl -fsS "$url/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])') || h=0
        ((h >= want)) && return 0
        sleep 0.1
    done
    fail "height did not reach $want within 60 s"
}
