#!/usr/bin/env python3
"""Writes the seed corpus of the light fuzz target (tests/fuzz/fuzz_light.c).

The input encoding is described in the header comment of fuzz_light.c: a
flags byte, then operations [req][kind][a0][a1][a2][a3] (RAW: [req][kind]
[len][bytes]) on the answers to the wallet's requests, numbered from 0 in
the order it makes them. For R1 the walk asks, at snapshots A and A':
  0 proof of R1, 1 validators/changes, 2 blocks/3, 3 validators?height=4,
  4 proof of A1, 5 proof of A2
and at snapshot B:
  0 proof of R1, 1 changes, 2 blocks/3, 3 validators?height=4, 4 blocks/8,
  5 validators?height=9, 6 proof of A1, 7 proof of A2.
Usage: tests/fuzz/light_seeds.py [OUTDIR] (default tests/fuzz/corpus/light).
To see what a seed does, run a build of the target on it with
ESG_FUZZ_LIGHT_TRACE=1 set; the comment of each seed says what it gives.
"""
import os
import sys

# flags
R1, R2, X, A1_AS_REPORT = range(4)
JSON, SNAP_A2, SNAP_B, OTHER_GENESIS = 4, 8, 16, 32
A, A2, B = range(3)  # SNAP's a0

# operation kinds
(SNAP, STATUS, RAW, TRUNC, FLIP, JSET, JDEL, HEX, HEADER, COMMIT, SWAP, ARRAY, RECORD, SMT,
 VALSET, FAIL) = range(16)

# keys and validator sets, as in fuzz_light.c
K_V1, K_V2, K_V3, K_OUT = range(4)
VS_S1, VS_S2, VS_S3, VS_OUT, VS_V1_OUT = range(5)
# recorded answers, in recording order (SWAP's index)
REC_CHANGES, REC_BLOCK1 = 0, 1             # blocks/1..10 at 1..10
REC_VALS1 = 11                             # validators?height=1..11 at 11..21
REC_PROOF_R1, REC_PROOF_R2, REC_PROOF_X, REC_PROOF_A1_REPORTS = 22, 23, 24, 25
REC_PROOF_A1, REC_PROOF_A2, REC_PROOF_A3 = 26, 27, 28


def op(req, kind, a0=0, a1=0, a2=0, a3=0):
    return bytes([req, kind, a0, a1, a2, a3])


def raw(req, data):
    return bytes([req, RAW, len(data)]) + data


SEEDS = {
    # Honest nodes: the outcomes the setup computes.
    "honest_r1_a": bytes([R1]),                     # counts 1400.000
    "honest_r1_a_json": bytes([R1 | JSON]),
    "honest_r1_a2": bytes([R1 | SNAP_A2]),          # A1 revoked: counts 1450.000
    "honest_r1_b": bytes([R1 | SNAP_B]),            # superseded, A1 revoked
    "honest_r2_b_json": bytes([R2 | JSON | SNAP_B]),  # counts 1500.000
    "absent_r2_a": bytes([R2]),                     # ERR_UNKNOWN_REPORT, proven
    "absent_r2_a2_json": bytes([R2 | SNAP_A2 | JSON]),
    "absent_x_b": bytes([X | SNAP_B]),
    "attestation_id_as_report": bytes([A1_AS_REPORT | JSON]),
    "other_genesis": bytes([R1 | OTHER_GENESIS]),   # ERR_PROOF: another validator set
    # The node's answers come from two heights (A1's proof from A'): the
    # wallet fetches them all again, from A, and succeeds (requests 6-8).
    "mixed_heights_retry": bytes([R1]) + op(4, SNAP, A2),
    # ... and five times in a row: ERR_PROOF, "try again".
    "mixed_heights_five_times": bytes([R1]) + b"".join(
        op(r, SNAP, A2) for r in (4, 7, 10, 13, 16)),
    # Every answer of snapshot B for a walk told to start at A: the report
    # proof is B's, so the walk goes on to B.
    "all_from_b": bytes([R1 | JSON]) + b"".join(op(r, SNAP, B) for r in range(8)),
    # A stale node: A' for a wallet told B. The report proof is A''s; the
    # verdict is A''s (height 5).
    "stale_node": bytes([R1 | SNAP_B]) + b"".join(op(r, SNAP, A2) for r in range(6)),
    # The node hides the change at 9 (ERR_PROOF), or invents one at 3
    # (block 2 announces none: ERR_PROOF).
    "hide_change": bytes([R1 | SNAP_B]) + op(1, ARRAY, 0, 0, 2),
    "invent_change": bytes([R1]) + op(1, ARRAY, 0, 1, 1) + op(1, JSET, 0, 6, 2, 8),
    # A header with another app hash, re-signed by V2 (power 1 of 11).
    "forged_header_v2": bytes([R1]) + op(0, HEADER, 0, 4, 7, 2),
    # Block 3 made to announce {OUT: 100}, re-signed by OUT, and that set
    # served for height 4.
    "forged_valset": bytes([R1]) + op(2, HEADER, 0, 6, VS_OUT, 1) + op(3, VALSET, VS_OUT),
    # The report's value changed, the leaf's value hash made to match.
    "record_lie": bytes([R1 | JSON]) + op(0, RECORD, 0, 5, 0, 1),
    # A1 shown revoked (A) / not revoked (B), leaf made to match.
    "attestation_lie_a": bytes([R1]) + op(4, RECORD, 2, 0, 0, 1),
    "attestation_lie_b": bytes([R1 | SNAP_B]) + op(6, RECORD, 2, 0, 0, 1),
    # The report claimed absent: value null, no leaf.
    "absence_lie": bytes([R1]) + op(0, SMT, 6) + op(0, SMT, 3),
    # V2's signature left out of the commit of block 4: still final (10 of
    # 11), the same verdict, "committed by 1 of 2".
    "needless_sig_dropped": bytes([R1]) + op(0, COMMIT, 0, 0, 1),
    # An outsider's precommit added to a commit.
    "outsider_sig_added": bytes([R1]) + op(0, COMMIT, 0, 7, 0, K_OUT),
    # Hex in upper case: the same bytes, the same verdict.
    "upper_case_hex": bytes([R1]) + op(0, HEX, 0, 6),
    # The node's own error passes through, with its code (ERR_NOT_FOUND).
    "node_error": bytes([R1]) + op(0, STATUS, 5, 1, 0, 3),
    "transport_timeout": bytes([R1]) + op(2, FAIL, 1),
    "raw_garbage": bytes([R1]) + raw(0, b'{"height": 4, "header": {"raw": "0a"}, "commit": {}}'),
    "truncated_changes": bytes([R1]) + op(1, TRUNC, 0, 50),
    # Reproducers of the bug found: a node answering the proof request of
    # R1 (which exists) with its own error ERR_UNKNOWN_REPORT, or with a
    # code name made to start like one, made the wallet print the verdict
    # "no such report" (now ERR_PROOF, "instead of a proof").
    "crash_node_claims_absence": bytes([R1]) + op(0, STATUS, 5, 1, 1, 1),
    "crash_node_code_forges_verdict": bytes([R1]) + op(0, STATUS, 5, 1, 8, 0),
    # A2's proof served for A1.
    "swapped_proof": bytes([R1]) + op(4, SWAP, 0, REC_PROOF_A2, A),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "light")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
