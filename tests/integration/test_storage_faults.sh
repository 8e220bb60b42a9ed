#!/usr/bin/env bash
# A damaged data.mdb -- truncated to half, or its meta pages overwritten --
# makes `esgnode run` and `esgnode verify-chain` refuse it with a message
# that names the file and the recovery, and a plain non-zero exit status:
# never a signal (status >= 128), as SIGBUS and LMDB's abort used to be.
# The undamaged copy still verifies afterwards.
. "$(dirname "$0")/lib.sh"

one_validator esg-faults-1 "$T/node"
port=$(free_port)
url=http://127.0.0.1:$port
start_node "$T/node" "$port"
python3 - "$T" "$url" <<'PY'
import sys, pyclient as pc
t, url = sys.argv[1], sys.argv[2]
admin = bytes.fromhex(open(t + "/admin.sec").read())
A = pc.pubkey(admin)
node = pc.Node(url)
for nonce in range(1, 41):
    raw = pc.tx(pc.tx_body("esg-faults-1", nonce, A, pc.add_account(pc.pubkey(pc.new_secret()), [2])), [admin])
    st, body = node.submit(raw, wait=(nonce % 10 == 0))
    assert st in (200, 202), (st, body)
PY
kill "$NODE_PID"; wait "$NODE_PID" 2>/dev/null || true
cp "$T/node/data.mdb" "$T/data.mdb.good"
pass "a node committed 40 transactions and stopped ($(stat -c %s "$T/data.mdb.good") bytes)"

# expect_refused WHAT CMD...: CMD exits with 0 < status < 128 and prints the
# damaged-store message.
expect_refused() {
    local what=$1; shift
    local st=0
    timeout 60 "$@" >"$T/out" 2>&1 || st=$?
    ((st != 0)) || { cat "$T/out"; fail "$what: '$*' succeeded on a damaged store"; }
    ((st < 124)) || { cat "$T/out"; fail "$what: '$*' exited with status $st (a signal or a hang)"; }
    grep -q "ERR_STORE_CORRUPT" "$T/out" || { cat "$T/out"; fail "$what: no ERR_STORE_CORRUPT"; }
    grep -q "'$T/node/data.mdb' is damaged" "$T/out" || { cat "$T/out"; fail "$what: the file is not named"; }
    grep -q "re-sync from peers into a fresh datadir" "$T/out" || { cat "$T/out"; fail "$what: no recovery advice"; }
    pass "$what: '${1##*/} $2' exits $st: $(head -c 160 "$T/out")..."
}

python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
db = open(t + "/data.mdb.good", "rb").read()
open(t + "/node/data.mdb", "wb").write(db[:len(db) // 2])
PY
expect_refused "truncated to half" "$ESGNODE" run --datadir "$T/node" --api "127.0.0.1:$port"
expect_refused "truncated to half" "$ESGNODE" verify-chain --datadir "$T/node"

# Both meta pages (the first two 4 KiB pages) overwritten with garbage.
python3 - "$T" <<'PY'
import sys, random
t = sys.argv[1]
db = bytearray(open(t + "/data.mdb.good", "rb").read())
r = random.Random(7)
db[0:8192] = bytes(r.randrange(256) for _ in range(8192))
open(t + "/node/data.mdb", "wb").write(db)
PY
expect_refused "meta pages overwritten" "$ESGNODE" run --datadir "$T/node" --api "127.0.0.1:$port"
expect_refused "meta pages overwritten" "$ESGNODE" verify-chain --datadir "$T/node"

# A read past the end of a file the check let through (it allows a few
# tail pages LMDB may leave unwritten) raises SIGBUS: esgnode prints the
# damaged-store message naming the file and exits 70, not by the signal.
cp "$T/data.mdb.good" "$T/node/data.mdb"
start_node "$T/node" "$port"
kill -BUS "$NODE_PID"
st=0
wait "$NODE_PID" || st=$?
((st == 70)) || { tail -5 "$T/node.log"; fail "SIGBUS: esgnode exited $st, not 70"; }
grep -q "'$T/node/data.mdb' is damaged" "$T/node.log" || { tail -5 "$T/node.log"; fail "SIGBUS: no message naming the file"; }
pass "SIGBUS turns into exit status 70 with the damaged-store message"

cp "$T/data.mdb.good" "$T/node/data.mdb"
"$ESGNODE" verify-chain --datadir "$T/node" >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "verify-chain failed on the undamaged copy"; }
pass "the undamaged copy verifies: $(tail -n 1 "$T/verify.out")"
