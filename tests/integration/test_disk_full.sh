#!/usr/bin/env bash
# A single validator whose datadir is on a 30 MiB tmpfs that fills up:
# while the store cannot write, POST /v1/txs is refused with 507
# ERR_STORAGE_FULL, /v1/status and /metrics say so, and the log gives the
# cause once; once the filler is deleted the node commits again by itself
# and verify-chain passes. Needs root (mount); exits 77 (ctest: skipped)
# where mounting a tmpfs is not permitted.
. "$(dirname "$0")/lib.sh"

disk=$T/disk
mkdir -p "$disk"
if ! mount -t tmpfs -o size=30m tmpfs "$disk" 2>"$T/mount.err"; then
    echo "SKIP: cannot mount a tmpfs here ($(cat "$T/mount.err")): needs root" >&2
    exit 77
fi
teardown() {
    local pid
    for pid in "${NODE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    NODE_PIDS=()
    umount "$disk" 2>/dev/null || umount -l "$disk" 2>/dev/null || true
    cleanup
}
trap teardown EXIT

one_validator esg-full-1 "$disk/node"
port=$(free_port)
url=http://127.0.0.1:$port
log=$T/node.log
start_node "$disk/node" "$port" "$log"

# Fill the file system, leaving nothing for data.mdb to grow into.
dd if=/dev/zero of="$disk/filler" bs=1M >/dev/null 2>&1 || true
pass "filled the tmpfs: $(df -k "$disk" | tail -n 1)"

# Submit transactions (nonces 1..) one by one until the node refuses one:
# the first blocks may still fit in pages LMDB frees and reuses.
python3 - "$T" "$url" <<'PY'
import sys, json, time, pyclient as pc
t, url = sys.argv[1], sys.argv[2]
admin = bytes.fromhex(open(t + "/admin.sec").read())
A = pc.pubkey(admin)
node = pc.Node(url)
deadline = time.time() + 120
nonce, accepted = 0, 0
while True:
    assert time.time() < deadline, f"no refusal within 120 s ({accepted} accepted)"
    nonce += 1
    raw = pc.tx(pc.tx_body("esg-full-1", nonce, A, pc.add_account(pc.pubkey(pc.new_secret()), [2])), [admin])
    st, body = node.submit(raw, wait=False)
    if st == 202:
        accepted += 1
        time.sleep(0.02)
        continue
    assert st == 507, (st, body)
    assert body["error"]["code"] == "ERR_STORAGE_FULL", body
    break
# The refused nonce was not admitted: the next run resubmits from it.
open(t + "/next_nonce", "w").write(str(nonce))
print(f"refused nonce {nonce} with 507 ERR_STORAGE_FULL after {accepted} accepted: {body['error']['message']}")
PY
pass "POST /v1/txs refused while full"

st=$(curl -fsS "$url/v1/status")
python3 - "$st" <<'PY'
import sys, json
s = json.loads(sys.argv[1])["storage"]
assert s["writable"] is False, s
assert s["error"] == "ERR_STORAGE_FULL", s
assert "No space left on device" in s["reason"], s
assert s["since_ms"] > 0 and s["since"].endswith("Z"), s
PY
pass "/v1/status: $(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["storage"]))' "$st")"
# Read whole first: grep -q stops at its match, and curl writing the rest of
# a long page into the closed pipe would fail the pipeline under pipefail.
metrics=$(curl -fsS "$url/metrics") || fail "/metrics did not answer"
grep -qx "esg_storage_writable 0" <<<"$metrics" || fail "/metrics does not show esg_storage_writable 0"
grep -q "^# HELP esg_storage_writable " <<<"$metrics" || fail "esg_storage_writable has no HELP"
pass "/metrics: esg_storage_writable 0"

# More refusals do not add log lines: the cause is logged once.
python3 - "$T" "$url" <<'PY'
import sys, pyclient as pc
t, url = sys.argv[1], sys.argv[2]
admin = bytes.fromhex(open(t + "/admin.sec").read())
A = pc.pubkey(admin)
node = pc.Node(url)
nonce = int(open(t + "/next_nonce").read())
for _ in range(20):
    raw = pc.tx(pc.tx_body("esg-full-1", nonce, A, pc.add_account(pc.pubkey(pc.new_secret()), [2])), [admin])
    st, body = node.submit(raw, wait=False)
    assert st == 507 and body["error"]["code"] == "ERR_STORAGE_FULL", (st, body)
PY
sleep 2.5   # a few of the producer's retries
n=$(grep -c "storage full:" "$log" || true)
((n == 1)) || { cat "$log"; fail "the cause was logged $n times, not once"; }
grep "storage full:" "$log" | grep -q "No space left on device" || { cat "$log"; fail "the log line does not say ENOSPC"; }
grep "storage full:" "$log" | grep -q "$disk/node" || { cat "$log"; fail "the log line does not name the datadir"; }
n=$(grep -c "cannot produce block" "$log" || true)
((n == 0)) || { cat "$log"; fail "'cannot produce block' logged $n times while full"; }
pass "logged once: $(grep "storage full:" "$log" | cut -c1-200)..."
full_height=$(curl -fsS "$url/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')

# Space returns: the node resumes by itself, the waiting transaction commits.
rm -f "$disk/filler"
deadline=$((SECONDS + 30))
until curl -fsS "$url/v1/status" | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["storage"]["writable"] else 1)'; do
    ((SECONDS < deadline)) || { cat "$log"; fail "the node did not resume within 30 s of freeing space"; }
    sleep 0.2
done
wait_height "$url" $((full_height + 1))
metrics=$(curl -fsS "$url/metrics") || fail "/metrics did not answer"
grep -qx "esg_storage_writable 1" <<<"$metrics" || fail "/metrics does not show esg_storage_writable 1"
grep -q "storage writable again" "$log" || fail "the recovery is not logged"
python3 - "$T" "$url" <<'PY'
import sys, pyclient as pc
t, url = sys.argv[1], sys.argv[2]
admin = bytes.fromhex(open(t + "/admin.sec").read())
A = pc.pubkey(admin)
node = pc.Node(url)
nonce = int(open(t + "/next_nonce").read())
raw = pc.tx(pc.tx_body("esg-full-1", nonce, A, pc.add_account(pc.pubkey(pc.new_secret()), [2])), [admin])
st, body = node.submit(raw, wait=True)
assert st == 200, (st, body)
PY
pass "resumed by itself past height $full_height; a new transaction commits"

kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
"$ESGNODE" verify-chain --datadir "$disk/node" >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "verify-chain failed after the disk was full"; }
pass "verify-chain passes: $(tail -n 1 "$T/verify.out")"
