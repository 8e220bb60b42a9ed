#!/usr/bin/env bash
# Four validators on 127.0.0.1: a transaction submitted to one node is
# committed on all, with the same block hash (and so app hash) at every
# height; an idle network makes no blocks (no heartbeat configured); kill -9
# one node and the other three keep committing; restart it and it syncs to
# the same chain. Blocks are driven by transactions (tx_commit), since
# nothing is committed while the mempool is empty.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netlib.sh"

metrics_ok() { # NODE: /metrics has the consensus, p2p and sync metrics; at
    # an idle moment its heights match /v1/status (consensus decides the next)
    python3 - "${API[$1]}" <<'PY' || fail "node $1: metrics wrong"
import json, sys, time, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
names = ["esg_height", "esg_consensus_height", "esg_consensus_round", "esg_consensus_step",
         "esg_consensus_heights_total", "esg_consensus_rounds_total", "esg_peers",
         "esg_p2p_bytes_in_total", "esg_p2p_bytes_out_total", "esg_sync_syncing",
         "esg_sync_behind", "esg_evidence_total", "esg_p2p_connections",
         "esg_p2p_handshakes_pending", "esg_p2p_misbehaviour_total"]
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
    for why in ("handshake_budget_full", "handshake_timeout", "bad_handshake", "oversize_frame",
                "frame_timeout", "write_timeout", "slow_reader"):
        assert 'esg_p2p_closed_total{reason="%s"}' % why in m, why
    if h0 == h1 and m["esg_height"] == h0 and m["esg_consensus_height"] == h0 + 1:
        assert m["esg_peers"] == 3, m["esg_peers"]
        assert m["esg_p2p_bytes_in_total"] > 0 and m["esg_p2p_bytes_out_total"] > 0
        assert m["esg_evidence_total"] == 0
        assert m["esg_p2p_connections"] >= 3  # honest peers, nothing closed for cause
        assert m['esg_p2p_closed_total{reason="bad_frame"}'] == 0
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
