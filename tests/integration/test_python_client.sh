#!/usr/bin/env bash
# A client written in another language (Python, from proto/, docs/WIRE.md
# and docs/API.md alone: tests/integration/pyclient.py) builds, signs and
# submits a transaction that the node commits; then every kind of bad input
# a client can send is refused with its stable error code, changes nothing,
# and the node keeps running.
. "$(dirname "$0")/lib.sh"

python3 - "$T" <<'PY'
import sys, pyclient as pc
t = sys.argv[1]
for name in ("admin", "officer", "stranger"):
    s = pc.new_secret()
    open(f"{t}/{name}.sec", "w").write(s.hex())
    open(f"{t}/{name}.pub", "w").write(pc.pubkey(s).hex())
PY
valpk=$("$ESGNODE" key new -o "$T/validator.key")
"$ESGNODE" genesis new --chain-id esg-py-1 -o "$T/genesis.json" \
    --member "city-alpha:CITY:Alpha:$(cat "$T/admin.pub")" \
    --validator "$valpk:10:city-alpha" >/dev/null
"$ESGNODE" init --genesis "$T/genesis.json" --datadir "$T/node" --key "$T/validator.key" >/dev/null
port=$(free_port)
start_node "$T/node" "$port"

python3 - "$T" "http://127.0.0.1:$port" <<'PY'
import sys, pyclient as pc
t, url = sys.argv[1], sys.argv[2]
node = pc.Node(url)
sec = lambda n: bytes.fromhex(open(f"{t}/{n}.sec").read())
admin, officer, stranger = sec("admin"), sec("officer"), sec("stranger")
A, O, S = pc.pubkey(admin), pc.pubkey(officer), pc.pubkey(stranger)
chain = node.status()["chain_id"]
assert chain == "esg-py-1", chain

# 1. A well-formed transaction from this client is committed.
body = pc.tx_body(chain, 1, A, pc.add_account(O, [pc.ROLE_OFFICER]))
st, r = node.submit(pc.tx(body, [admin]))
assert st == 200 and r["status"] == "committed", (st, r)
assert r["tx_id"] == pc.tx_id(body).hex(), r
height = r["height"]
st, acct = node.account(O)
assert st == 200 and acct["member"] == "city-alpha" and acct["roles"] == ["OFFICER"], acct
st, got = node.get("/v1/txs/" + r["tx_id"])
assert st == 200 and got["height"] == height and got["action"]["type"] == "AddAccount", got
print("ok: a Python-built AddAccount committed at height", height)

def expect(raw, status, code, what, ctype="application/octet-stream"):
    st, r = node.request("POST", "/v1/txs?wait=commit", raw, ctype)
    assert st == status and r["error"]["code"] == code, (what, st, r)
    assert r["error"]["message"], what
    print(f"ok: {what} -> {st} {code}: {r['error']['message']}")

good2 = pc.tx_body(chain, 2, A, pc.add_account(S, [pc.ROLE_OFFICER]))
signed2 = pc.tx(good2, [admin])
expect(b"\xff\xff\xff", 400, "ERR_DECODE", "malformed bytes")
st, r = node.post_expect_continue("/v1/txs", b"\x0a" + pc.varint(2 << 20) + b"\x00" * (2 << 20))
assert st == 413 and r["error"]["code"] == "ERR_TOO_LARGE", (st, r)
print("ok: oversized body -> 413 ERR_TOO_LARGE:", r["error"]["message"])
# Fields out of order: signer (3) before chain_id (1), properly signed.
_, payload = pc.add_account(S, [pc.ROLE_OFFICER])
reordered = pc.field_bytes(3, A) + pc.field_bytes(1, chain.encode()) + pc.field_varint(2, 2) + pc.field_msg(12, payload)
expect(pc.tx(reordered, [admin]), 400, "ERR_NON_CANONICAL", "reordered fields")
# nonce 2 as a two-byte varint (0x82 0x00).
nonminimal = pc.field_bytes(1, chain.encode()) + b"\x10\x82\x00" + pc.field_bytes(3, A) + pc.field_msg(12, payload)
expect(pc.tx(nonminimal, [admin]), 400, "ERR_NON_CANONICAL", "non-minimal varint")
expect(pc.tx(good2 + pc.field_varint(99, 7), [admin]), 400, "ERR_UNKNOWN_FIELD", "unknown field")
bad_sig = bytearray(signed2); bad_sig[-1] ^= 1
expect(bytes(bad_sig), 401, "ERR_BAD_SIGNATURE", "bad signature")
expect(pc.tx(pc.tx_body("esg-other-9", 2, A, pc.add_account(S, [2])), [admin]), 400, "ERR_CHAIN_ID", "wrong chain id")
expect(pc.tx(pc.tx_body(chain, 1, A, pc.add_account(S, [2])), [admin]), 409, "ERR_NONCE", "replayed nonce")
expect(pc.tx(pc.tx_body(chain, 5, A, pc.add_account(S, [2])), [admin]), 409, "ERR_NONCE", "skipped nonce")
expect(pc.tx(pc.tx_body(chain, 1, O, pc.add_account(S, [2])), [officer]), 403, "ERR_UNAUTHORIZED", "officer without ADMIN role")
expect(pc.tx(pc.tx_body(chain, 1, S, pc.add_account(O, [2])), [stranger]), 403, "ERR_UNKNOWN_SIGNER", "unknown signer")
expect(pc.tx(good2, [stranger]), 401, "ERR_MISSING_SIGNATURE", "signed by someone else")
expect(b'{"tx": "***"}', 400, "ERR_DECODE", "bad base64 in JSON", "application/json")
expect(pc.tx(body, [admin]), 409, "ERR_DUPLICATE_TX", "committed tx sent again")

# Nothing changed, and the node still works.
st, acct = node.account(A)
assert st == 200 and acct["nonce"] == 1, acct
st, r = node.account(S)
assert st == 404 and r["error"]["code"] == "ERR_NOT_FOUND", (st, r)
assert node.status()["height"] == height, "a rejected tx made a block"
import base64, json
st, r = node.request("POST", "/v1/txs?wait=commit", json.dumps({"tx": base64.b64encode(signed2).decode()}).encode(), "application/json")
assert st == 200 and r["status"] == "committed", (st, r)
print("ok: state unchanged by rejected input; the next good tx (JSON form) commits at", r["height"])
PY
"$ESGNODE" verify-chain --datadir "$T/node" >/dev/null 2>&1 || true
pass "python client"
