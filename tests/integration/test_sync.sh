#!/usr/bin/env bash
# Issue 4: a node started from an empty datadir after 1000 blocks catches
# up. Three of four validators (30 of 40 power, > 2/3) make >= 1000 blocks,
# mostly empty (heartbeat) with a few transactions; then node 3, whose
# datadir was initialized but never run, starts: it syncs (/v1/status says
# syncing while it is behind, its log has "synced" lines), reaches the
# others' height, and all four have the same block hash and app hash at
# every height. Then node 0 is killed -9: nodes 1, 2 and 3 (30 of 40, so
# node 3 must vote) still commit a transaction.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

TARGET=1000
t_start=$SECONDS

# The same on every node (the keys: node/node.h, esg_node_config_load).
# heartbeat_ms 1: an empty block as soon as the idle gate next polls (every
# 50 ms). Node 3 is down at first and proposes every fourth height, so that
# round times out (timeout_propose_ms) before the next proposer's round:
# keep it short, but above the gate's poll interval, or validators that
# started the height before a live proposer polled would time it out. The
# prevote and precommit timeouts start only once a quorum voted, and the
# commit pause only paces the next height: both can be tiny.
cat >"$T/fast.conf" <<'EOF'
[node]
heartbeat_ms = 1
[consensus]
timeout_propose_ms = 60
timeout_propose_delta_ms = 50
timeout_prevote_ms = 10
timeout_prevote_delta_ms = 50
timeout_precommit_ms = 10
timeout_precommit_delta_ms = 50
timeout_commit_ms = 1
EOF

for i in 0 1 2; do start "$i" --config "$T/fast.conf"; done
t_blocks=$SECONDS

# Up to TARGET, with a transaction (submitted to nodes 0, 1, 2 in turn)
# every 250 heights, so that the synced blocks are not all empty.
TX_HEIGHTS=()
next_tx=1 k=0 deadline=$((SECONDS + 480))
while h=$(height 0) && ((h < TARGET)); do
    ((SECONDS < deadline)) || { tail -30 "$T/n0.log" >&2; fail "height $h of $TARGET after 480 s"; }
    if ((h >= next_tx)); then
        TX_HEIGHTS+=("$(tx_commit $((k % 3)))")
        k=$((k + 1)) next_tx=$((next_tx + 250))
    else
        sleep 0.5
    fi
done
secs=$((SECONDS - t_blocks))
pass "3 of 4 validators made $h blocks in ${secs} s ($((h / (secs > 0 ? secs : 1))) blocks/s); txs at heights ${TX_HEIGHTS[*]}"

# Node 3: its datadir was initialized by netlib and never run.
start 3 --config "$T/fast.conf"
H0=$(height 0)
python3 - "$(url 3)" "$H0" <<'PY' || { tail -30 "$T/n3.log" >&2; fail "node 3 did not catch up"; }
import json, sys, time, urllib.request
url, want = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 120
seen_syncing = 0
lapse = None  # since when it has been behind by more than one, not syncing
while time.time() < deadline:
    st = json.load(urllib.request.urlopen(url + "/v1/status"))
    # behind > 1 starts a sync (behind 1 waits a grace period first). A
    # peer going down can clear the flag until the next check (every
    # second), so only a lapse longer than that fails.
    if st["behind"] > 1 and not st["syncing"]:
        lapse = lapse or time.time()
        assert time.time() - lapse < 2.5, ("behind but not syncing for 2.5 s", st)
    else:
        lapse = None
    seen_syncing += st["syncing"] and st["height"] < want
    if st["height"] >= want:
        print("node 3 at height %d; syncing seen in %d polls" % (st["height"], seen_syncing))
        sys.exit(0)
    time.sleep(0.02)
print("node 3 at height %d of %d" % (st["height"], want))
sys.exit(1)
PY
# Heights 1..TARGET were all there before node 3 started: it can only have
# got them by sync. A batch is logged once all of it is applied, a moment
# after /v1/status shows its last height: poll.
synced_total() { awk '/synced [0-9]+ block\(s\), now at/ {
    for (i = 1; i < NF; i++) if ($i == "synced") n += $(i + 1) } END { print n + 0 }' "$T/n3.log"; }
deadline=$((SECONDS + 30))
while synced=$(synced_total) && ((synced < TARGET)); do
    ((SECONDS < deadline)) || { tail -30 "$T/n3.log" >&2; fail "node 3 logged $synced synced blocks, want >= $TARGET"; }
    sleep 0.1
done
# It keeps up: the others' height now (they kept making blocks).
wait_all "$(height 0)" 3
pass "node 3 started from an empty chain at height $H0, synced $synced blocks ($(grep -c 'synced .* block(s)' "$T/n3.log") responses) and keeps up"
# The log says how the sync goes: its rate and what remains, then that it
# caught up.
grep -Eq 'synced [0-9]+ block\(s\), now at [0-9]+ of [0-9]+: [0-9]+ blocks/s, [0-9]+ remaining \(about [0-9]+ s\)' "$T/n3.log" ||
    fail "no sync progress line (rate, remaining) in node 3's log"
deadline=$((SECONDS + 30))
until grep -Eq 'sync caught up at [0-9]+: [0-9]+ blocks in [0-9.]+ s \([0-9]+ blocks/s\)' "$T/n3.log"; do
    ((SECONDS < deadline)) || fail "no 'sync caught up' line in node 3's log"
    sleep 0.1
done
pass "node 3's log: $(grep -m1 'remaining (about' "$T/n3.log" | sed 's/.*synced/synced/'); $(grep -m1 'sync caught up' "$T/n3.log" | sed 's/.*sync caught/sync caught/')"

same_blocks() { # UPTO NODE...: the same block hash and app hash at every
    # height 1..UPTO on the listed nodes, from /v1/blocks pages; each block
    # links to the one before; the transactions at TX_HEIGHTS are there
    python3 - "$1" "${TX_HEIGHTS[*]}" "${@:2}" <<PY || fail "the nodes disagree"
import base64, hashlib, json, sys, urllib.request
upto, txh, nodes = int(sys.argv[1]), [int(x) for x in sys.argv[2].split()], sys.argv[3:]
ports = "${API[*]}".split()

def fields(b):  # protobuf: field number -> list of values (varint or bytes)
    out, i = {}, 0
    def varint():
        nonlocal i
        v = s = 0
        while True:
            c = b[i]; i += 1; v |= (c & 0x7F) << s; s += 7
            if c < 0x80: return v
    while i < len(b):
        key = varint()
        if key & 7 == 0:
            val = varint()
        elif key & 7 == 2:
            n = varint(); val = b[i:i + n]; i += n
        else:
            raise ValueError("wire type %d" % (key & 7))
        out.setdefault(key >> 3, []).append(val)
    return out

def tagged(tag, data):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()

def get(n, path):
    return json.load(urllib.request.urlopen("http://127.0.0.1:%s%s" % (ports[int(n)], path)))

chains = {}
for n in nodes:
    chain = []  # (hash, app_hash, prev_hash, n_txs) for heights 1..upto
    while len(chain) < upto:
        page = get(n, "/v1/blocks?from=%d&limit=100" % (len(chain) + 1))["blocks"]
        assert page, "node %s: no blocks from %d" % (n, len(chain) + 1)
        for e in page[:upto - len(chain)]:
            blk = fields(base64.b64decode(e["block"]))
            hdr = blk[1][0]
            f = fields(hdr)
            assert f[2][0] == e["height"] == len(chain) + 1, (n, e["height"])
            chain.append((tagged("esg/block", hdr).hex(), f[6][0].hex(), f[4][0].hex(),
                          len(blk.get(2, []))))
    chains[n] = chain
    for h in [1, upto] + txh:  # the hashes computed here are the node's own
        if h <= upto:
            b = get(n, "/v1/blocks/%d" % h)
            assert (b["hash"], b["header"]["app_hash"]) == chain[h - 1][:2], (n, h)
    for h in range(2, upto + 1):
        assert chain[h - 1][2] == chain[h - 2][0], "node %s: block %d does not link" % (n, h)
    for h in txh:
        assert h > upto or chain[h - 1][3] > 0, "node %s: no tx in block %d" % (n, h)
for h in range(1, upto + 1):
    seen = {n: chains[n][h - 1][:2] for n in nodes}
    if len(set(seen.values())) != 1:
        print("height %d: %s" % (h, seen)); sys.exit(1)
PY
}
H=$(height 3)
for i in 0 1 2; do h=$(height "$i"); ((h >= H)) || H=$h; done
same_blocks "$H" 0 1 2 3
pass "all four nodes: same block hash and app hash at every height 1..$H"

# Node 0 killed: 30 of 40 power left, so nothing commits without node 3.
kill -9 "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null || true
TX_HEIGHTS+=("$(tx_commit 1)")
txh=${TX_HEIGHTS[-1]}
wait_all "$txh" 1 2 3
same_blocks "$txh" 1 2 3
pk3=$(curl -fsS "$(url 3)/v1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["node_key"])')
curl -fsS "$(url 1)/v1/blocks/$txh" | python3 -c '
import json, sys
sigs = [s["validator"] for s in json.load(sys.stdin)["commit"]["sigs"]]
assert sys.argv[1] in sigs, sigs' "$pk3" || fail "node 3 did not sign the commit of block $txh"
pass "node 0 killed -9: nodes 1, 2, 3 committed a tx at height $txh, node 3 signed its commit"
echo "wall time: $((SECONDS - t_start)) s"
