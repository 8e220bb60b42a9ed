#!/usr/bin/env bash
# kill -9 of esgnode while transactions stream in loses no committed block:
# after a restart the height is at least what had been committed and
# verify-chain passes. Then one byte of a stored block is changed on disk and
# verify-chain names that block's height.
. "$(dirname "$0")/lib.sh"

one_validator esg-crash-1 "$T/node"
port=$(free_port)
url=http://127.0.0.1:$port

# Pre-sign a stream of AddAccount transactions (nonces 1..N).
python3 - "$T" <<'PY'
import sys, pyclient as pc
t = sys.argv[1]
admin = bytes.fromhex(open(t + "/admin.sec").read())
A = pc.pubkey(admin)
with open(t + "/stream.bin", "wb") as f:
    for nonce in range(1, 301):
        raw = pc.tx(pc.tx_body("esg-crash-1", nonce, A, pc.add_account(pc.pubkey(pc.new_secret()), [2])), [admin])
        f.write(len(raw).to_bytes(4, "big") + raw)
PY

start_node "$T/node" "$port"
# Stream them in the background, one at a time without waiting for commit.
python3 - "$T" "$url" >"$T/stream.log" 2>&1 <<'PY' &
import sys, pyclient as pc
t, url = sys.argv[1], sys.argv[2]
node = pc.Node(url)
data = open(t + "/stream.bin", "rb").read()
i = 0
while i < len(data):
    n = int.from_bytes(data[i:i + 4], "big"); raw = data[i + 4:i + 4 + n]; i += 4 + n
    try:
        node.submit(raw, wait=False)
    except Exception:
        break   # the node was killed
PY
streamer=$!
wait_height "$url" 5
committed=$(curl -fsS "$url/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
kill -9 "$NODE_PID"
wait "$NODE_PID" 2>/dev/null || true
wait "$streamer" 2>/dev/null || true
pass "killed esgnode with SIGKILL at height >= $committed while transactions streamed in"

start_node "$T/node" "$port"
after=$(curl -fsS "$url/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
((after >= committed)) || fail "height went back from $committed to $after after the crash"
pass "restarted at height $after (>= $committed)"
curl -fsS "$url/v1/blocks/2?format=raw" -o "$T/block2.bin"
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true

"$ESGNODE" verify-chain --datadir "$T/node" >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "verify-chain failed after the crash"; }
pass "verify-chain passes after the crash: $(tail -n 1 "$T/verify.out")"

# Flip one byte inside block 2 as stored in data.mdb.
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
block = open(t + "/block2.bin", "rb").read()
db = bytearray(open(t + "/node/data.mdb", "rb").read())
at = db.find(block)
assert at >= 0, "block 2 not found verbatim in data.mdb"
assert db.find(block, at + 1) < 0, "block 2 found twice"
db[at + len(block) // 2] ^= 0x01
open(t + "/node/data.mdb", "wb").write(db)
PY
if "$ESGNODE" verify-chain --datadir "$T/node" >"$T/verify2.out" 2>&1; then
    cat "$T/verify2.out"; fail "verify-chain passed on a tampered block"
fi
grep -q "height 2" "$T/verify2.out" || { cat "$T/verify2.out"; fail "verify-chain did not name height 2"; }
pass "tampered block: $(grep -m1 FAILED "$T/verify2.out")"
