#!/usr/bin/env bash
# Abusive HTTP clients cannot take the API down (node/api.h, docs/API.md
# "Server limits"): ambiguous framing is refused with one JSON error and
# the connection closed; one address cannot take every connection slot;
# half-sent bodies, idle keep-alives and slow-loris trickles are cut by
# their deadlines; memory stays bounded while they last and comes back
# after; the HTTP layer's warnings are rate-limited in the log; and the
# node answers normally afterwards. The driver is http_abuse.py (raw
# sockets), which prints the figures it measures.
. "$(dirname "$0")/lib.sh"

valpk=$("$ESGNODE" key new -o "$T/validator.key")
admpk=$("$ESGNODE" key new -o "$T/admin.key")
"$ESGNODE" genesis new --chain-id esg-abuse-1 -o "$T/genesis.json" \
    --member "city-alpha:CITY:Alpha:$admpk" --validator "$valpk:10:city-alpha" >/dev/null
"$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/node" --key "$T/validator.key" >/dev/null
port=$(free_port)
start_node "$T/node" "$port" "$T/node.log"
start=$SECONDS

python3 "$ESG_SRC_DIR/tests/integration/http_abuse.py" "$port" "$NODE_PID" "$T/node.log" \
    || { tail -n 40 "$T/node.log" >&2; fail "http_abuse.py"; }

# The log: a flood of MHD warnings shows as at most the burst plus the
# refill rate (node/api.h: 20 lines per 10 s) and a count of the rest.
elapsed=$((SECONDS - start + 1))
lines=$(grep -c 'api: microhttpd:' "$T/node.log" || true)
echo "figure: mhd_log_lines = $lines in ${elapsed} s"
grep -q 'api: suppressed [0-9]* messages of the HTTP layer' "$T/node.log" \
    || fail "no 'suppressed N messages' line in the log"
suppressed=$(grep -o 'api: suppressed [0-9]*' "$T/node.log" | awk '{s += $3} END {print s}')
echo "figure: mhd_log_lines_suppressed = $suppressed"
((lines <= 20 + 2 * elapsed)) || fail "$lines HTTP-layer log lines in $elapsed s"
pass "the HTTP layer's warnings are rate-limited ($lines logged, $suppressed suppressed)"

kill -0 "$NODE_PID" || fail "esgnode died"
curl -fsS "http://127.0.0.1:$port/v1/status" >/dev/null || fail "no /v1/status at the end"

# A clean stop: no sanitizer report (in the ASan build) from any of it.
kill "$NODE_PID"
wait "$NODE_PID" || fail "esgnode exited with status $? on SIGTERM"
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/node.log" >&2; then
    fail "sanitizer report in the node's log"
fi
pass "http abuse"
