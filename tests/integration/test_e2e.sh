#!/usr/bin/env bash
# A short fault-injection run (testnet/e2e.py, docs/RELIABILITY.md): two
# seeds of about 60 s each with every fault kind selectable; between them
# the two default seeds inject all eight kinds (22: restart, pause, kill,
# partition, cut, flap; 24: slow, skew, partition, pause). ESG_E2E_SEEDS
# overrides them ("1 2 3"). A failing run keeps its scratch directory in
# ${TMPDIR:-/tmp} (not in $T, which the trap removes) and prints the replay
# command.
. "$ESG_SRC_DIR/tests/integration/lib.sh"

for seed in ${ESG_E2E_SEEDS:-22 24}; do
    out=$(python3 "$ESG_SRC_DIR/testnet/e2e.py" --build-dir "$ESG_BIN_DIR" --seed "$seed" \
        --duration 60 --dir "${TMPDIR:-/tmp}" --quiet) || {
        printf '%s\n' "$out" >&2
        fail "e2e seed $seed: $(printf '%s\n' "$out" | head -1)"
    }
    pass "$(printf '%s\n' "$out" | tail -1)"
done

# A silent partition whose connections stay black-holed after the heal:
# the nodes must notice the dead links themselves (gossip's ping and idle
# deadline) and redial. Before that the network stalled for good here.
out=$(python3 "$ESG_SRC_DIR/testnet/e2e.py" --build-dir "$ESG_BIN_DIR" --seed 23 \
    --duration 20 --faults partition --silent-forever --dir "${TMPDIR:-/tmp}" --quiet) || {
    printf '%s\n' "$out" >&2
    fail "e2e silent-forever seed 23: $(printf '%s\n' "$out" | head -1)"
}
pass "$(printf '%s\n' "$out" | tail -1)"
