"""A minimal esgledger client written from proto/esg.proto, docs/WIRE.md
and docs/API.md alone: its own protobuf encoder, tagged hashes and BIP340
signatures in plain Python (no third-party modules). The integration tests
use it to show that a client in another language can build, sign and submit
transactions, and to send the malformed input a careless or hostile client
would."""

import hashlib
import json
import os
import urllib.error
import urllib.request

# ------------------------------------------------------------------ secp256k1

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], P - 2, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], P - 2, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def _mul(k, pt=G):
    acc = None
    while k:
        if k & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        k >>= 1
    return acc


def _tagged(tag, data):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()


def pubkey(secret):
    """x-only public key (32 bytes) of a 32-byte secret."""
    return _mul(int.from_bytes(secret, "big"))[0].to_bytes(32, "big")


def sign(secret, msg, aux=None):
    """BIP340 signature (64 bytes) of msg by secret."""
    aux = os.urandom(32) if aux is None else aux
    d0 = int.from_bytes(secret, "big")
    pt = _mul(d0)
    d = d0 if pt[1] % 2 == 0 else N - d0
    t = (d ^ int.from_bytes(_tagged("BIP0340/aux", aux), "big")).to_bytes(32, "big")
    px = pt[0].to_bytes(32, "big")
    k0 = int.from_bytes(_tagged("BIP0340/nonce", t + px + msg), "big") % N
    r = _mul(k0)
    k = k0 if r[1] % 2 == 0 else N - k0
    rx = r[0].to_bytes(32, "big")
    e = int.from_bytes(_tagged("BIP0340/challenge", rx + px + msg), "big") % N
    return rx + ((k + e * d) % N).to_bytes(32, "big")


def new_secret():
    while True:
        s = os.urandom(32)
        if 0 < int.from_bytes(s, "big") < N:
            return s

# ------------------------------------------------------------------- protobuf


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, v):
    return b"" if v == 0 else varint(num << 3) + varint(v)


def field_bytes(num, b):
    return b"" if len(b) == 0 else varint(num << 3 | 2) + varint(len(b)) + b


def field_msg(num, b):
    """A set message field is written even when empty (presence matters)."""
    return varint(num << 3 | 2) + varint(len(b)) + b


ROLE_ADMIN, ROLE_OFFICER = 1, 2
ACTION_PROPOSE, ACTION_VOTE, ACTION_ADD_ACCOUNT, ACTION_REVOKE_ACCOUNT = 10, 11, 12, 13


def add_account(pk, roles):
    packed = b"".join(varint(r) for r in roles)
    return ACTION_ADD_ACCOUNT, field_bytes(1, pk) + field_bytes(2, packed)


def vote(proposal_id, approve):
    return ACTION_VOTE, field_bytes(1, proposal_id) + field_varint(2, 1 if approve else 0)


def tx_body(chain_id, nonce, signer, action):
    num, payload = action
    return (field_bytes(1, chain_id.encode()) + field_varint(2, nonce) +
            field_bytes(3, signer) + field_msg(num, payload))


def tx_id(body):
    return _tagged("esg/tx", body)


def tx(body, secrets):
    """Serialized Tx: the body and one signature per secret."""
    out = field_bytes(1, body)
    for s in secrets:
        out += field_msg(2, field_bytes(1, pubkey(s)) + field_bytes(2, sign(s, tx_id(body))))
    return out

# ----------------------------------------------------------------------- HTTP


class Node:
    def __init__(self, url, timeout=60):
        self.url = url.rstrip("/")
        self.timeout = timeout  # seconds, for each request

    def request(self, method, path, data=None, ctype="application/octet-stream"):
        """Returns (HTTP status, parsed JSON or raw bytes)."""
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                status, body, ct = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, body, ct = e.code, e.read(), e.headers.get("Content-Type", "")
        if ct.startswith("application/json"):
            return status, json.loads(body)
        return status, body

    def post_expect_continue(self, path, data):
        """POST with "Expect: 100-continue", as curl does for large bodies:
        a server that refuses the request from its headers answers before
        the body is sent. Returns (status, parsed JSON)."""
        import socket
        host, port = self.url.split("//")[1].split(":")
        with socket.create_connection((host, int(port)), timeout=60) as s:
            s.sendall((f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                       "Content-Type: application/octet-stream\r\n"
                       f"Content-Length: {len(data)}\r\nExpect: 100-continue\r\n"
                       "Connection: close\r\n\r\n").encode())
            f = s.makefile("rb")
            line = f.readline()
            if b" 100 " in line:
                f.readline()
                s.sendall(data)
                line = f.readline()
            status = int(line.split()[1])
            length = 0
            while True:
                h = f.readline().strip()
                if not h:
                    break
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":")[1])
            return status, json.loads(f.read(length))

    def get(self, path):
        return self.request("GET", path)

    def submit(self, raw, wait=True):
        return self.request("POST", "/v1/txs" + ("?wait=commit" if wait else ""), raw)

    def status(self):
        return self.get("/v1/status")[1]

    def account(self, pk):
        return self.get("/v1/accounts/" + pk.hex())


def propose_add_validator(pk, power, operator):
    """Propose { Proposal { add_validator = 6 } }: a new validator, in force
    two blocks after the proposal is approved."""
    av = field_bytes(1, pk) + field_varint(2, power) + field_bytes(3, operator.encode())
    return ACTION_PROPOSE, field_msg(1, field_msg(6, av))


def propose_remove_validator(pk):
    """Propose { Proposal { remove_validator = 7 } }."""
    return ACTION_PROPOSE, field_msg(1, field_msg(7, field_bytes(1, pk)))
