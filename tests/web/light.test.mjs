// Tests of web/src/light.js (docs/LIGHT_CLIENT.md), run with `node --test`.
//
// Without a network (plain `node --test tests/web/`): vectors the C code
// computed (docs/API.md's examples), the canonical decoding, web/src/proto.json
// against proto/*.proto, the integer and JSON helpers.
//
// With a network (tests/integration/test_web_light.sh sets ESG_LIGHT_*):
// verifyImpact over a real fetch equals `esgwallet impact verify --json`,
// the hashes equal the node's, and each tampering of a proxying get() is
// refused with the wallet's reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as L from '../../web/src/light.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WEB = join(SRC, 'web');
const require = createRequire(join(WEB, 'package.json'));
const protobuf = require('protobufjs/light.js');
const { sha256 } = await import(join(WEB, 'node_modules/@noble/hashes/sha256.js'));
const root = protobuf.Root.fromJSON(JSON.parse(readFileSync(join(WEB, 'src/proto.json'), 'utf8')));
const Commit = root.lookupType('esg.Commit');
const BlockHeader = root.lookupType('esg.BlockHeader');
const h = (s) => L.fromHex(s);

/* ------------------------------------------------------------ no network */

test('vectors of docs/API.md (computed by the C code)', () => {
  // GET /v1/state/proof?table=2&key=636974792d6b6176616c61
  const key = h('2356720e43cf6565f9d8169f2ff86fe4217146b34180bb84713d198ee6f6248f');
  assert.equal(L.toHex(L.stateKey(2, new TextEncoder().encode('city-kavala'))), L.toHex(key));
  const value = h('0a0b636974792d6b6176616c6110011a164d756e69636970616c697479206f66204b6176616c6122024752');
  const vh = sha256(value);
  assert.equal(L.toHex(vh), '47c0a29173de1bac991767dd681f528e2baad8e93e23fb04063e67ab95ed44bb');
  const siblings = [
    'ebb03ad56a557eee40e0cecf18a520711d5aa4527a5abe4c832a4b418ae0c253',
    '038765cd720ddc590b8c19a6e7b8627196e0b07ec1b69e06d84bfe46e9278b46',
    'abee10798cec9353615b1d55105c410aad88a42f1bf0c23927e6ee95c0b9ef07',
  ].map(h);
  const app = h('2d18bca9e0fab4144923f5dbde0b357aca1425959e9b7bde23836fdc1f63b9e8');
  const proof = { siblings, leaf: { key, value_hash: vh } };
  assert.equal(L.smtVerify(app, key, vh, proof), true);
  // Not a proof of absence, nor of another value, nor with a changed sibling.
  assert.equal(L.smtVerify(app, key, null, proof), false);
  assert.equal(L.smtVerify(app, key, sha256(Uint8Array.of(1)), proof), false);
  const bad = siblings.map((s) => s.slice());
  bad[1][0] ^= 1;
  assert.equal(L.smtVerify(app, key, vh, { siblings: bad, leaf: proof.leaf }), false);
  // An empty last sibling is never produced by the tree: refused.
  assert.equal(L.smtVerify(app, key, vh, { siblings: [...siblings, new Uint8Array(32)], leaf: proof.leaf }), false);
  // GET /v1/validators?height=3
  const vs = [{ pubkey: h('db698e5f1d41879f5fcf3d9d936c569bd009a11a5f6e14bd58399a1d901d7d4c'), power: 10n, operator: 'city-heraklion' }];
  assert.equal(L.toHex(L.valsetHash(vs)), '295703e950035706e03a02ae3954e550a9299ffbebcb55eeb4d615ad7eed9d85');
  assert.notEqual(L.toHex(L.valsetHash([{ ...vs[0], power: 11n }])), '295703e950035706e03a02ae3954e550a9299ffbebcb55eeb4d615ad7eed9d85');
});

test('web/src/proto.json is what pbjs makes of proto/*.proto', () => {
  const dir = mkdtempSync(join(tmpdir(), 'esg-proto-'));
  try {
    const out = join(dir, 'proto.json');
    execFileSync(join(WEB, 'node_modules/.bin/pbjs'),
      ['-t', 'json', '--keep-case', '-p', join(SRC, 'proto'), join(SRC, 'proto/esg.proto'), join(SRC, 'proto/state.proto'), '-o', out]);
    assert.equal(readFileSync(join(WEB, 'src/proto.json'), 'utf8'), readFileSync(out, 'utf8'),
      'web/src/proto.json is stale: regenerate it (docs/LIGHT_CLIENT.md)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('only canonical encodings decode (as ledger/codec.h)', () => {
  const ok = Commit.encode(Commit.create({ height: 5, round: 1, block_hash: new Uint8Array(32).fill(7) })).finish();
  assert.ok(L.decodeCanonical(Commit, ok));
  assert.equal(L.toHex(ok), '080510011a20' + '07'.repeat(32));
  const bad = {
    'an explicit default (round 0)': h('08051000'),
    'fields out of number order': h('10010805'),
    'an unknown field': h('0805' + '3801'),
    'a non-minimal varint': h('088500'),
    'a field twice': h('08050806'),
    'truncated bytes': h('1a2007'),
  };
  for (const [what, b] of Object.entries(bad)) assert.equal(L.decodeCanonical(Commit, b), null, what);
  // Invalid UTF-8 in a string (chain_id) does not survive the round trip.
  assert.equal(L.decodeCanonical(BlockHeader, h('0a02c328')), null);
  assert.ok(L.decodeCanonical(BlockHeader, h('0a026162')));
  assert.equal(L.headerHash(h('0a026162')).length, 32);
  assert.equal(L.headerHash(h('0a02616200')), null);
});

test('integers and JSON', () => {
  assert.deepEqual(L.parseJSON('{"p":1152921504606846976,"q":[1,-2,3.5e1],"s":"\\u00e9"}'),
    { p: 1152921504606846976n, q: [1, -2, 35], s: 'é' });
  assert.throws(() => L.parseJSON('{"a":1,"a":2}'), /duplicated key/);
  assert.throws(() => L.parseJSON('[1,]'), SyntaxError);
  assert.equal(L.jsonU64('18446744073709551615'), 18446744073709551615n);
  assert.equal(L.jsonU64('18446744073709551616'), null);
  assert.equal(L.jsonU64(2 ** 60), null); // a Number beyond 2^53 is not exact
  assert.equal(L.jsonU64(-1), null);
  assert.equal(L.milli(1200500n), '1200.500');
  assert.equal(L.milli(-5n), '-0.005');
  assert.equal(L.rfc3339(1772355616125n), '2026-03-01T09:00:16.125Z');
  assert.equal(L.rfc3339(1772355616000n), '2026-03-01T09:00:16Z');
});

test('a genesis file: refusals, and a power above 2^53 kept exact', () => {
  const pk = 'db698e5f1d41879f5fcf3d9d936c569bd009a11a5f6e14bd58399a1d901d7d4c';
  const g = (v, extra = '') =>
    `{"chain_id":"esg-x-1","members":[{"id":"city-a"}],"validators":[${v}]${extra}}`;
  const t = L.parseGenesis(g(`{"pubkey":"${pk}","power":1152921504606846976,"operator":"city-a"}`));
  assert.equal(t.validators[0].power, 1n << 60n);
  assert.equal(t.chainId, 'esg-x-1');
  const text = g(`{"pubkey":"${pk}","power":10,"operator":"city-a"}`);
  const tag = sha256(new TextEncoder().encode('esg/genesis'));
  const want = sha256(new Uint8Array([...tag, ...tag, ...new TextEncoder().encode(text)]));
  assert.equal(L.parseGenesis(text).genesisHash, L.toHex(want));
  for (const [bad, re] of [
    ['{', /not JSON/],
    [g(''), /non-empty/],
    [g(`{"pubkey":"${pk}","power":0,"operator":"city-a"}`), /power/],
    [g(`{"pubkey":"${'00'.repeat(32)}","power":1,"operator":"city-a"}`), /valid x-only/],
    [g(`{"pubkey":"${pk}","power":1,"operator":"nobody"}`), /not a member/],
    [g(`{"pubkey":"${pk}","power":1,"operator":"city-a"},{"pubkey":"${pk}","power":1,"operator":"city-a"}`), /duplicated/],
    [text.replace('esg-x-1', 'bad id!'), /chain_id/],
  ])
    assert.throws(() => L.parseGenesis(bad), (e) => e instanceof L.ProofError && e.what === 'genesis' && re.test(e.message));
});

test('verifyImpact: programmer errors throw, bad input does not', async () => {
  await assert.rejects(L.verifyImpact({ genesis: '{}', reportId: 'ab' }), TypeError);
  await assert.rejects(L.verifyImpact({ get: async () => ({}), genesis: 5, reportId: 'ab' }), TypeError);
  const r = await L.verifyImpact({ get: async () => ({}), genesis: '{}', reportId: 'nothex' });
  assert.equal(r.ok, false);
  assert.equal(r.reason, "report id 'nothex' is not 64 hex characters");
});

/* ------------------------------------------------------------ a network */

const E = process.env;
const live = Boolean(E.ESG_LIGHT_URL);
if (E.ESG_LIGHT_REQUIRE && !live) throw new Error('ESG_LIGHT_REQUIRE set without ESG_LIGHT_URL');
const skip = live ? false : 'no network (run tests/integration/test_web_light.sh)';

const N = live && {
  get: L.fetchGet(E.ESG_LIGHT_URL),
  genesis: readFileSync(E.ESG_LIGHT_GENESIS, 'utf8'),
  reportId: E.ESG_LIGHT_REPORT,
  wallet: JSON.parse(readFileSync(E.ESG_LIGHT_WALLET, 'utf8')),
  change: BigInt(E.ESG_LIGHT_CHANGE || 0),
};

/* A get() through the real node whose answers `edit(path, body)` may
 * change (it gets a deep copy; returning undefined keeps it). */
const tampering = (edit) => async (path) => {
  const body = structuredClone(await N.get(path));
  const out = await edit(path, body);
  return out === undefined ? body : out;
};
const flip = (hex, at = 0) => {
  const b = h(hex);
  b[at % b.length] ^= 0x01;
  return L.toHex(b);
};
const isReportProof = (p) => p.startsWith('/v1/state/proof?table=20&');
const isAttProof = (p) => p.startsWith('/v1/state/proof?table=21&');
const editCommit = (cj, fn) => {
  const c = Commit.decode(h(cj.raw));
  fn(c);
  cj.raw = L.toHex(Commit.encode(c).finish());
};
const norm = (x) => JSON.parse(JSON.stringify(x, (k, v) => (typeof v === 'bigint' ? Number(v) : v)));

async function refused(get, reason, what, o = {}) {
  const r = await L.verifyImpact({ get, genesis: o.genesis ?? N.genesis, reportId: o.reportId ?? N.reportId });
  assert.equal(r.ok, false, 'verified a tampered answer');
  const msg = typeof reason === 'string' ? r.reason.includes(reason) : reason.test(r.reason);
  assert.ok(msg, `reason: ${r.reason}\nwanted: ${reason}`);
  const last = r.steps.at(-1);
  assert.equal(last.ok, false);
  assert.equal(last.detail, r.reason);
  if (what) assert.ok(last.what.startsWith(what), `failed step '${last.what}', wanted '${what}'`);
  return r;
}

test('verifyImpact over a real fetch: what esgwallet impact verify --json gives', { skip }, async () => {
  const r = await L.verifyImpact({ get: N.get, genesis: N.genesis, reportId: N.reportId });
  assert.equal(r.reason, null);
  assert.equal(r.ok, true);
  assert.equal(r.final, true);
  assert.equal(r.attested, true);
  const w = N.wallet;
  assert.equal(Number(r.height), w.height);
  assert.equal(r.block_hash, w.final_block_hash);
  assert.equal(r.app_hash, w.app_hash);
  assert.equal(r.block_time, w.block_time);
  assert.equal(r.chain_id, w.chain_id);
  assert.equal(r.genesis_hash, w.genesis_hash);
  assert.equal(r.counted_value, w.counted_value);
  assert.equal(r.validators, 5);
  assert.ok(r.signers >= 3, `signers ${r.signers}`);
  // Field for field, the report and its attestations are the wallet's
  // (but for resolved_from: how the wallet was given the id, null here).
  const { attestations, resolved_from, ...report } = w;
  assert.equal(resolved_from, null);
  assert.deepEqual(norm(r.report), report);
  assert.deepEqual(norm(r.attestations), attestations);
  assert.equal(r.report.value, '1200.500');
  // The set change was followed from genesis, announced by a final block.
  const vs = r.steps.filter((s) => s.what === 'validator set');
  assert.equal(vs.length, 1, JSON.stringify(r.steps));
  assert.match(vs[0].detail, new RegExp(`in force from height ${N.change}, announced by final block ${N.change - 1n}`));
  for (const w of ['genesis', 'header', 'commit', 'state proof']) assert.ok(r.steps.some((s) => s.what === w && s.ok), w);
  assert.ok(r.steps.some((s) => s.what.startsWith('attestation ') && s.ok));
  assert.ok(r.steps.every((s) => s.ok));
});

test('hashes computed here equal the node\'s (the C code\'s)', { skip }, async () => {
  const st = await N.get('/v1/status');
  assert.equal(L.parseGenesis(N.genesis).genesisHash, st.genesis_hash);
  for (const height of [1n, N.change - 1n, BigInt(st.height)]) {
    const b = await N.get(`/v1/blocks/${height}`);
    assert.equal(L.toHex(L.headerHash(h(b.header.raw))), b.hash, `block ${height}`);
  }
  for (const height of [1n, N.change]) {
    const v = await N.get(`/v1/validators?height=${height}`);
    const vals = v.validators.map((x) => ({ pubkey: h(x.pubkey), power: L.jsonU64(x.power), operator: x.operator }));
    assert.equal(L.toHex(L.valsetHash(vals)), v.hash, `set at ${height}`);
  }
  const p = await N.get(`/v1/state/proof?table=20&key=${N.reportId}`);
  assert.equal(L.toHex(L.stateKey(20, h(N.reportId))), p.key);
  // Upper case is accepted, as the wallet's esg_hex_decode does.
  const r = await L.verifyImpact({ get: N.get, genesis: N.genesis, reportId: N.reportId.toUpperCase() });
  assert.equal(r.ok, true, r.reason);
});

test('a tampered value is refused', { skip }, async () => {
  await refused(tampering((p, b) => { if (isReportProof(p)) b.value = flip(b.value, 7); }),
    /^the proof of the report does not lead to the app hash of block \d+ \([0-9a-f]{64}\)$/, 'state proof');
  await refused(tampering((p, b) => { if (isAttProof(p)) b.value = flip(b.value, 40); }),
    'the proof of an attestation does not lead to the app hash', 'attestation ');
});

test('a tampered sibling is refused', { skip }, async () => {
  await refused(tampering((p, b) => {
    if (isReportProof(p)) {
      assert.ok(b.proof.siblings.length > 0);
      b.proof.siblings[0] = flip(b.proof.siblings[0]);
    }
  }), 'the proof of the report does not lead to the app hash', 'state proof');
});

test('a commit that is not final is refused', { skip }, async () => {
  await refused(tampering((p, b) => {
    if (isReportProof(p)) editCommit(b.commit, (c) => { c.sigs[0].sig[9] ^= 1; });
  }), /is not final: precommit of validator '[0-9a-f]{64}' does not verify$/, 'commit');
  await refused(tampering((p, b) => {
    if (isReportProof(p)) editCommit(b.commit, (c) => { c.sigs = c.sigs.slice(0, 2); });
  }), /is not final: commit holds 20 of 41 voting power, not more than 2\/3$/, 'commit');
  await refused(tampering((p, b) => {
    if (isReportProof(p)) editCommit(b.commit, (c) => { c.sigs[0].validator = h('db698e5f1d41879f5fcf3d9d936c569bd009a11a5f6e14bd58399a1d901d7d4c'); });
  }), /is not final: commit signer 'db698e5f[0-9a-f]+' is not a validator at height \d+$/, 'commit');
  await refused(tampering((p, b) => {
    if (isReportProof(p)) editCommit(b.commit, (c) => { c.sigs[1] = c.sigs[0]; });
  }), /signed the commit twice$/, 'commit');
});

test('the header of another height is refused', { skip }, async () => {
  await refused(tampering(async (p, b) => {
    if (isReportProof(p)) b.header = (await N.get(`/v1/blocks/${b.height - 1}`)).header;
  }), /^the node gave the header of height (\d+) for \d+$/, 'header');
});

test('a hidden, a made-up or a changed validator set is refused', { skip }, async () => {
  await refused(tampering((p, b) => { if (p === '/v1/validators/changes') b.changes = b.changes.slice(0, 1); }),
    "that the node's list of changes does not lead to from the genesis file", 'validator set');
  await refused(tampering((p, b) => {
    if (p === '/v1/validators/changes') b.changes.splice(1, 0, { height: Number(N.change) - 1, hash: b.changes[0].hash });
  }), `the node lists a validator-set change at height ${N.change - 1n}, but block ${N.change - 2n} (final) announces none`,
  'validator set');
  await refused(tampering((p, b) => {
    if (p.startsWith('/v1/validators?height=')) b.validators[0].pubkey = flip(b.validators[0].pubkey, 31);
  }), `the node's validator set of height ${N.change} is not the one block ${N.change - 1n} announces`, 'validator set');
  await refused(tampering((p, b) => {
    if (p.startsWith('/v1/validators?height=')) b.validators[0].power = 1000;
  }), `is not the one block ${N.change - 1n} announces`, 'validator set');
});

test('a node error instead of a proof is refused', { skip }, async () => {
  const deny = (match, code) => async (p) => {
    if (match(p)) {
      const e = new Error('HTTP 404');
      e.status = 404;
      e.body = { error: { code, message: 'its absence is proven' } };
      throw e;
    }
    return N.get(p);
  };
  await refused(deny(isReportProof, 'ERR_UNKNOWN_REPORT'),
    "the node answered error 'ERR_UNKNOWN_REPORT' ('its absence is proven') instead of a proof", 'state proof');
  // A missing attestation, as the node would say it.
  await refused(deny(isAttProof, 'ERR_NOT_FOUND'), "answered error 'ERR_NOT_FOUND'", 'attestation ');
  await refused(deny((p) => p.startsWith('/v1/blocks/'), 'ERR_INTERNAL'), 'instead of a proof', 'validator set');
});

test('a genesis of another chain or another validator set is refused', { skip }, async () => {
  await refused(N.get, "the node's chain is 'esg-light-1', not the genesis file's 'esg-other-1': another chain",
    'header', { genesis: readFileSync(E.ESG_LIGHT_OTHER_CHAIN, 'utf8') });
  await refused(N.get, /^block \d+ is committed by a validator set other than the one followed from the genesis file/,
    'validator set', { genesis: readFileSync(E.ESG_LIGHT_OTHER_VALSET, 'utf8') });
});

test('an absent report: its absence is proven, ok is false', { skip }, async () => {
  const r = await refused(N.get, /^no impact report (ab){32}: its absence is proven against block \d+ [0-9a-f]{64}$/,
    'state proof', { reportId: 'ab'.repeat(32) });
  assert.equal(r.final, true);
  assert.equal(r.absent, true);
  // A forged proof of absence (value and leaf dropped) proves nothing.
  await refused(tampering((p, b) => { if (isReportProof(p)) { b.value = null; b.proof.leaf = null; } }),
    'the proof of the report does not lead to the app hash', 'state proof');
});

test('proofs from different heights are fetched again (last: it makes a block)', { skip }, async () => {
  let bumped = false;
  const get = async (p) => {
    if (isAttProof(p) && !bumped) {
      bumped = true;
      const [cmd, ...args] = JSON.parse(E.ESG_LIGHT_BUMP);
      execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    }
    return N.get(p);
  };
  const r = await L.verifyImpact({ get, genesis: N.genesis, reportId: N.reportId });
  assert.equal(r.ok, true, r.reason);
  assert.ok(bumped);
  assert.ok(Number(r.height) > N.wallet.height, `height ${r.height}`);
  assert.ok(r.steps.some((s) => /^proofs came from heights \d+ and \d+: fetched again$/.test(s.detail)), JSON.stringify(r.steps));
});
