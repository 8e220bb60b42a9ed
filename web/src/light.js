/**
 * The explorer's light client: verifies an impact report and its
 * attestations in the browser, trusting no node -- the algorithm of
 * `esgwallet impact verify` (wallet/cli_audit.c), step for step, with the
 * same wording for every failure. docs/LIGHT_CLIENT.md explains what is
 * checked and why.
 *
 * What is trusted: the genesis file the user chose (its chain id and its
 * validator set) and the cryptography. Everything the node sends is bytes
 * to check: headers and commits (BIP340 precommits of more than 2/3 of the
 * power of the validator set followed from genesis), the validator-set
 * changes (announced by final headers), and sparse Merkle proofs of the
 * exact record bytes against a final header's app_hash.
 *
 * Pure ES module: no DOM, no globals; the caller passes `get`.
 *
 * @module light
 */
import { schnorr } from '@noble/curves/secp256k1';
import { sha256 } from '@noble/hashes/sha256';
import protobuf from 'protobufjs/light.js';
import Long from 'long';
import descriptor from './proto.json' with { type: 'json' };

// protobufjs finds Long.js with require() in Node but not in a browser
// bundle; without it, 64-bit fields would decode to lossy numbers.
protobuf.util.Long = Long;
protobuf.configure();

const root = protobuf.Root.fromJSON(descriptor);
const T = {
  BlockHeader: root.lookupType('esg.BlockHeader'),
  Commit: root.lookupType('esg.Commit'),
  VoteSignDoc: root.lookupType('esg.VoteSignDoc'),
  ValidatorRecord: root.lookupType('esg.ValidatorRecord'),
  ReportRecord: root.lookupType('esg.ReportRecord'),
  AttestationRecord: root.lookupType('esg.AttestationRecord'),
};

/** State tables of ledger/state.h used here. */
export const TABLES = Object.freeze({ REPORTS: 20, ATTESTATIONS: 21 });
const MAX_TRIES = 5; // proofs fetched again when heights differ (verify_once)
const MAX_ATTESTATIONS = 1024;
const MAX_VALIDATORS = 256;
const MAX_POWER = 1n << 60n;
const VOTE_TYPE_PRECOMMIT = 2;
const OPINIONS = ['UNSPECIFIED', 'CONFIRMED', 'QUALIFIED', 'REJECTED'];

/** A failure to verify: bad node data, or a genesis file that does not
 * fit. Caught by verifyImpact and turned into { ok: false, reason }. */
export class ProofError extends Error {
  /** @param {string} message a sentence a person can act on */
  constructor(message, what) {
    super(message);
    this.name = 'ProofError';
    /** the step that failed: "genesis", "validator set", "header", ... */
    this.what = what;
  }
}
const fail = (msg, what) => {
  throw new ProofError(msg, what);
};
/* Runs fn; a ProofError without a step gets `what`. */
const within = async (what, fn) => {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ProofError && !e.what) e.what = what;
    throw e;
  }
};

/* ------------------------------------------------------------ bytes */

const enc = new TextEncoder();

/** Lower-case hex of bytes. @param {Uint8Array} b @returns {string} */
export function toHex(b) {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * Bytes of a hex string (either case), or null when it is not hex or not
 * of the wanted length in bytes (`len`, or at most `max`).
 * @param {unknown} s @param {{len?: number, max?: number}} [o]
 * @returns {Uint8Array|null}
 */
export function fromHex(s, o = {}) {
  if (typeof s !== 'string' || s.length % 2 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  const n = s.length / 2;
  if ((o.len !== undefined && n !== o.len) || (o.max !== undefined && n > o.max)) return null;
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = parseInt(s.substr(2 * i, 2), 16);
  return b;
}

const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const eqBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const isZero = (a) => a.every((x) => x === 0);

const tagCache = new Map();
/**
 * BIP340 tagged hash H(tag, m) = SHA256(SHA256(tag) || SHA256(tag) || m)
 * (ledger/hash.h, docs/WIRE.md).
 * @param {string} tag e.g. "esg/block" @param {...Uint8Array} parts
 * @returns {Uint8Array}
 */
export function taggedHash(tag, ...parts) {
  let t = tagCache.get(tag);
  if (!t) tagCache.set(tag, (t = sha256(enc.encode(tag))));
  return sha256(concat(t, t, ...parts));
}

/* ------------------------------------------------------ integers, JSON */

/** BigInt of a protobufjs Long (or number) field. */
const big = (v, signed = false) => {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') return BigInt(v);
  const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return signed ? BigInt.asIntN(64, u) : u;
};
/** Long of a BigInt, for encoding. */
const long = (x, unsigned = true) =>
  Long.fromString(x.toString(), unsigned);

/**
 * A uint64 of a JSON document: an integer (a safe Number or a BigInt) or
 * a decimal string, as esgw_json_u64 takes it. null when it is none of
 * these, negative, too large, or a Number beyond 2^53 (whose exact value
 * JSON.parse has lost: use parseJSON).
 * @param {unknown} v @returns {bigint|null}
 */
export function jsonU64(v) {
  let x = null;
  if (typeof v === 'bigint') x = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) x = BigInt(v);
  else if (typeof v === 'string' && /^[0-9]{1,20}$/.test(v)) x = BigInt(v);
  return x !== null && x >= 0n && x < 1n << 64n ? x : null;
}

/**
 * JSON.parse that keeps integers exact: an integer literal beyond 2^53 is
 * a BigInt (powers go up to 2^60), and a duplicated key is an error (as
 * the node's parser has it). Throws SyntaxError on malformed JSON.
 * @param {string} text @returns {any}
 */
export function parseJSON(text) {
  let i = 0;
  const err = (m) => {
    throw new SyntaxError(`${m} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o = {};
      ws();
      if (text[i] === '}') return i++, o;
      for (;;) {
        ws();
        if (text[i] !== '"') err('expected a key');
        const k = str();
        if (Object.prototype.hasOwnProperty.call(o, k)) err(`duplicated key '${k}'`);
        ws();
        if (text[i++] !== ':') err("expected ':'");
        Object.defineProperty(o, k, { value: value(), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return i++, o;
        else err("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') return i++, a;
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return i++, a;
        else err("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (m && m[0]) {
      i += m[0].length;
      if (m[2] || m[3]) return Number(m[0]);
      const n = Number(m[0]);
      return Number.isSafeInteger(n) ? n : BigInt(m[0]);
    }
    for (const [w, v] of [['true', true], ['false', false], ['null', null]])
      if (text.startsWith(w, i)) return (i += w.length), v;
    return err('unexpected character');
  };
  const str = () => {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(text.slice(i));
    if (!m) err('malformed string');
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  const v = value();
  ws();
  if (i !== text.length) err('trailing characters');
  return v;
}

/**
 * A `get` for verifyImpact over fetch: GET base + path, its body parsed
 * with parseJSON (exact integers). Throws an Error with .status and .body
 * on a non-2xx answer.
 * @param {string} base e.g. "" (same origin) or "http://127.0.0.1:8600"
 * @param {typeof fetch} [fetchImpl]
 * @returns {(path: string) => Promise<any>}
 */
export function fetchGet(base = '', fetchImpl = globalThis.fetch) {
  return async (path) => {
    const r = await fetchImpl(base + path, { headers: { Accept: 'application/json' } });
    const text = await r.text();
    let body = text;
    try {
      body = parseJSON(text);
    } catch {
      /* not JSON: keep the text */
    }
    if (!r.ok) {
      const e = new Error(`GET ${path}: HTTP ${r.status}`);
      e.status = r.status;
      e.body = body;
      throw e;
    }
    if (typeof body === 'string') throw Object.assign(new Error(`GET ${path}: not JSON`), { status: r.status, body });
    return body;
  };
}

/* ------------------------------------------------------------ protobuf */

/* Whether `v` is the proto3 default of scalar field `f` (what protobuf-c
 * leaves out of the encoding). */
const isDefault = (f, v) => {
  if (f.resolvedType instanceof protobuf.Type) return false;
  if (f.type === 'bytes') return v.length === 0;
  if (f.type === 'string') return v === '';
  if (f.type === 'bool') return v === false;
  if (f.long) return big(v) === 0n;
  return v === 0;
};

/* Every field a protobufjs decoder set (an own property) holds a value
 * protobuf-c would encode: no explicit proto3 defaults, at any depth. */
const noExplicitDefaults = (type, m) => {
  for (const f of type.fieldsArray) {
    if (!Object.prototype.hasOwnProperty.call(m, f.name)) continue;
    const v = m[f.name];
    if (f.repeated) {
      if (f.resolvedType instanceof protobuf.Type && !v.every((x) => noExplicitDefaults(f.resolvedType, x)))
        return false;
    } else if (f.resolvedType instanceof protobuf.Type) {
      if (!noExplicitDefaults(f.resolvedType, v)) return false;
    } else if (!f.partOf && isDefault(f, v)) {
      return false;
    }
  }
  return true;
};

/**
 * Decodes `bytes` as the canonical encoding of `type` (docs/WIRE.md §2,
 * ledger/codec.h): the bytes protobuf-c's packer produces -- fields in
 * number order, minimal varints, no proto3 defaults, no unknown fields,
 * valid UTF-8. As the C decoders do, it decodes, re-encodes and compares
 * (protobufjs sorts fields by number and drops unknown ones, and invalid
 * UTF-8 does not survive the round trip); protobufjs keeps an explicit
 * default that protobuf-c would drop, so those are refused separately.
 * Returns the message, or null when the bytes are not canonical.
 * @param {protobuf.Type} type @param {Uint8Array} bytes
 */
export function decodeCanonical(type, bytes) {
  let m;
  try {
    m = type.decode(bytes);
  } catch {
    return null;
  }
  if (!eqBytes(type.encode(m).finish(), bytes) || !noExplicitDefaults(type, m)) return null;
  return m;
}

/* The canonical encoding of a message built from `fields` (proto3
 * defaults left out, as protobuf-c does). */
const encodeCanonical = (type, fields) => {
  const o = {};
  for (const [k, v] of Object.entries(fields)) {
    const f = type.fields[k];
    if (!f) throw new TypeError(`${type.name} has no field ${k}`);
    if (!isDefault(f, v)) o[k] = v;
  }
  return type.encode(type.create(o)).finish();
};

/* ------------------------------------------------------------ hashes */

/**
 * The block hash: H("esg/block", canonical BlockHeader bytes). The C code
 * (esg_block_header_hash) re-encodes the decoded header; since decoding
 * accepts only canonical bytes, that is the raw bytes as given.
 * @param {Uint8Array} raw the header's canonical encoding
 * @returns {Uint8Array|null} null when `raw` is not a canonical header
 */
export function headerHash(raw) {
  return decodeCanonical(T.BlockHeader, raw) ? taggedHash('esg/block', raw) : null;
}

/**
 * The hash a validator signs for a precommit (esg_vote_hash):
 * H("esg/vote", VoteSignDoc{chain_id, PRECOMMIT, height, round, block_hash}).
 * @param {string} chainId @param {bigint} height @param {number} round
 * @param {Uint8Array} blockHash
 */
export function precommitHash(chainId, height, round, blockHash) {
  return taggedHash(
    'esg/vote',
    encodeCanonical(T.VoteSignDoc, {
      chain_id: chainId,
      type: VOTE_TYPE_PRECOMMIT,
      height: long(height),
      round,
      block_hash: blockHash,
    }),
  );
}

/** RFC 6962 Merkle root with tagged hashes (ledger/merkle.h). */
const merkleRoot = (items) => {
  if (items.length === 0) return new Uint8Array(32);
  if (items.length === 1) return taggedHash('esg/merkle/leaf', items[0]);
  let k = 1;
  while (k < items.length - k) k <<= 1;
  return taggedHash('esg/merkle/node', merkleRoot(items.slice(0, k)), merkleRoot(items.slice(k)));
};

/**
 * A validator set as the chain stores it: records sorted by pubkey.
 * @typedef {{pubkey: Uint8Array, power: bigint, operator: string}} Validator
 */
const cmpBytes = (a, b) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};
const sortSet = (vals) => [...vals].sort((x, y) => cmpBytes(x.pubkey, y.pubkey));

/**
 * validators_hash of a set (esg_valset_hash): the Merkle root of
 * SHA256(canonical ValidatorRecord{pubkey, power, operator}) in pubkey
 * order. The set is sorted here.
 * @param {Validator[]} vals @returns {Uint8Array}
 */
export function valsetHash(vals) {
  return merkleRoot(
    sortSet(vals).map((v) =>
      sha256(encodeCanonical(T.ValidatorRecord, { pubkey: v.pubkey, power: long(v.power), operator: v.operator })),
    ),
  );
}

/**
 * The state tree key of a record (esg_state_key): H("esg/state/key",
 * table byte || record key).
 * @param {number} table 1..255 @param {Uint8Array} key
 */
export function stateKey(table, key) {
  return taggedHash('esg/state/key', Uint8Array.of(table), key);
}

const bit = (k, i) => (k[i >> 3] >> (7 - (i & 7))) & 1;
const prefixEq = (a, b, n) => {
  for (let i = 0; i < n; i++) if (bit(a, i) !== bit(b, i)) return false;
  return true;
};

/**
 * Checks a sparse Merkle proof (esg_smt_verify, ledger/smt.h) against
 * `root`. With valueHash it must show key -> valueHash; with valueHash null
 * it must show key absent (an empty subtree, or the leaf of another key
 * sharing the path). Inconsistent proofs (too many siblings, an empty
 * last sibling, a leaf off the path) are refused.
 * @param {Uint8Array} root @param {Uint8Array} key
 * @param {Uint8Array|null} valueHash
 * @param {{siblings: Uint8Array[], leaf: {key: Uint8Array, value_hash: Uint8Array}|null}} proof
 * @returns {boolean}
 */
export function smtVerify(root, key, valueHash, proof) {
  const n = proof.siblings.length;
  if (n > 256) return false;
  if (n > 0 && isZero(proof.siblings[n - 1])) return false;
  let cur = new Uint8Array(32);
  const leaf = proof.leaf;
  if (valueHash) {
    if (!leaf || !eqBytes(leaf.key, key) || !eqBytes(leaf.value_hash, valueHash)) return false;
    cur = taggedHash('esg/merkle/leaf', key, valueHash);
  } else if (leaf) {
    if (eqBytes(leaf.key, key) || !prefixEq(leaf.key, key, n)) return false;
    cur = taggedHash('esg/merkle/leaf', leaf.key, leaf.value_hash);
  }
  for (let i = n; i-- > 0; )
    cur = bit(key, i)
      ? taggedHash('esg/merkle/node', proof.siblings[i], cur)
      : taggedHash('esg/merkle/node', cur, proof.siblings[i]);
  return eqBytes(cur, root);
}

/* ------------------------------------------------------------ genesis */

/**
 * What a light client trusts, from the genesis file: its chain id, its
 * hash (H("esg/genesis", the file's exact bytes)) and its validator set.
 * @typedef {{chainId: string, genesisHash: string, validators: Validator[],
 *            vsHash: Uint8Array, from: bigint}} Trust
 */

/**
 * Parses a genesis file (docs/GENESIS.md) into the trust a light client
 * starts from. Checks what this client relies on -- chain id, validators
 * (pubkey a valid x-only key, unique; power 1..2^60, total at most 2^60;
 * operator a member) -- not every rule of esg_genesis_validate.
 * @param {string|Uint8Array} genesis the file as text, or its exact bytes
 *   (bytes are better: the genesis hash covers the bytes, and reading a
 *   file as text drops a byte-order mark)
 * @returns {Trust} throws ProofError naming what is wrong
 */
export function parseGenesis(genesis) {
  const bytes = typeof genesis === 'string' ? enc.encode(genesis) : genesis;
  if (!(bytes instanceof Uint8Array)) throw new TypeError('genesis must be a string or a Uint8Array');
  let text, g;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    g = parseJSON(text);
  } catch (e) {
    fail(`genesis: not JSON (${e.message})`, 'genesis');
  }
  if (!g || typeof g !== 'object' || Array.isArray(g)) fail('genesis: not a JSON object', 'genesis');
  const chainId = g.chain_id;
  if (typeof chainId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(chainId))
    fail('genesis: chain_id must be 1..64 characters of [A-Za-z0-9._-]', 'genesis');
  const members = new Set(Array.isArray(g.members) ? g.members.map((m) => m && m.id) : []);
  const vs = g.validators;
  if (!Array.isArray(vs) || vs.length === 0) fail('genesis: validators must be a non-empty array', 'genesis');
  if (vs.length > MAX_VALIDATORS) fail(`genesis: at most ${MAX_VALIDATORS} validators, not ${vs.length}`, 'genesis');
  const seen = new Set();
  let total = 0n;
  const validators = vs.map((v, i) => {
    const n = i + 1;
    const pubkey = fromHex(v && v.pubkey, { len: 32 });
    if (!pubkey) fail(`genesis: validator ${n}: pubkey must be 64 hex characters`, 'genesis');
    try {
      schnorr.utils.lift_x(BigInt('0x' + toHex(pubkey)));
    } catch {
      fail(`genesis: validator ${n}: pubkey is not a valid x-only key`, 'genesis');
    }
    const hex = toHex(pubkey);
    if (seen.has(hex)) fail(`genesis: validator ${n}: duplicated pubkey`, 'genesis');
    seen.add(hex);
    const power = typeof v.power === 'bigint' || Number.isInteger(v.power) ? BigInt(v.power) : null;
    if (power === null || power < 1n || power > MAX_POWER) fail(`genesis: validator ${n}: power must be 1..2^60`, 'genesis');
    total += power;
    if (typeof v.operator !== 'string' || !members.has(v.operator))
      fail(`genesis: validator ${n}: operator '${v.operator}' is not a member`, 'genesis');
    return { pubkey, power, operator: v.operator };
  });
  if (total > MAX_POWER) fail('genesis: the validators\' total power exceeds 2^60', 'genesis');
  const sorted = sortSet(validators);
  return {
    chainId,
    genesisHash: toHex(taggedHash('esg/genesis', bytes)),
    validators: sorted,
    vsHash: valsetHash(sorted),
    from: 1n,
  };
}

/* ------------------------------------------------------------ node data */

/**
 * Calls get(path); a node's error answer is no verdict, only a failure
 * (verify_get): "the node answered error 'CODE' ('message') instead of a
 * proof". Errors of the caller's own get (no .status) are passed on as a
 * failure to reach the node.
 */
async function nodeGet(get, path) {
  try {
    return await get(path);
  } catch (e) {
    if (e && e.status !== undefined) {
      const er = e.body && typeof e.body === 'object' ? e.body.error || {} : {};
      const code = typeof er.code === 'string' ? er.code : `HTTP ${e.status}`;
      const msg = typeof er.message === 'string' ? er.message : typeof e.body === 'string' ? e.body : '';
      fail(`the node answered error '${code.slice(0, 64)}' ('${msg.slice(0, 300)}') instead of a proof`);
    }
    fail(`could not get ${path} from the node: ${e && e.message ? e.message : e}`);
  }
}

const hexOf = (b) => (b && b.length ? toHex(b) : null);

/**
 * Checks that a header and commit (objects with "raw", as /v1/blocks/{h}
 * and the proofs carry them) are block `height` of the trusted chain,
 * committed by the trusted set (verify_header). Throws ProofError.
 * @param {Trust} t @param {any} hj header JSON @param {any} cj commit JSON
 * @param {bigint} height
 * @returns {{header: any, hash: Uint8Array, signers: number, power: bigint, total: bigint}}
 */
export function verifyHeader(t, hj, cj, height) {
  const raw = hj && typeof hj === 'object' ? fromHex(hj.raw, { max: 1 << 16 }) : null;
  const h = raw && decodeCanonical(T.BlockHeader, raw);
  if (!h || !cj || typeof cj !== 'object') fail(`the header of height ${height} does not decode`, 'header');
  const hash = taggedHash('esg/block', raw);
  if (big(h.height) !== height) fail(`the node gave the header of height ${big(h.height)} for ${height}`, 'header');
  if (h.chain_id !== t.chainId)
    fail(`the node's chain is '${h.chain_id.slice(0, 64)}', not the genesis file's '${t.chainId}': another chain`, 'header');
  if (!eqBytes(h.validators_hash, t.vsHash))
    fail(
      `block ${height} is committed by a validator set other than the one followed from the genesis file ` +
        `(${toHex(t.vsHash)}): another chain, or a change the node did not list; ` +
        "'esgwallet audit --genesis FILE' replays every block",
      'validator set',
    );
  const craw = fromHex(cj.raw, { max: 1 << 20 });
  const c = craw && decodeCanonical(T.Commit, craw);
  if (!c) fail(`the commit of height ${height} does not decode`, 'commit');
  const r = commitVerify(c, t.validators, t.chainId, height, hash);
  if (r.error) fail(`block ${height} is not final: ${r.error}`, 'commit');
  return { header: h, hash, signers: c.sigs.length, power: r.power, total: r.total };
}

/* esg_commit_verify: every signature a valid PRECOMMIT of a distinct
 * member of the set, more than 2/3 of the power. Same messages. */
function commitVerify(c, vals, chainId, height, blockHash) {
  if (big(c.height) !== height) return { error: `commit is for height ${big(c.height)}, not ${height}` };
  if (!eqBytes(c.block_hash, blockHash)) return { error: `commit at height ${height} is for another block` };
  if (vals.length > MAX_VALIDATORS) return { error: 'validator set too large' };
  const total = vals.reduce((s, v) => s + v.power, 0n);
  if (total >= 1n << 64n) return { error: 'validator set power overflows' };
  const msg = precommitHash(chainId, height, c.round, blockHash);
  const seen = new Set();
  let signed = 0n;
  for (const [i, cs] of c.sigs.entries()) {
    if (cs.validator.length !== 32 || cs.sig.length !== 64) return { error: `commit signature ${i} is malformed` };
    const pk = toHex(cs.validator);
    const idx = vals.findIndex((v) => toHex(v.pubkey) === pk);
    if (idx < 0) return { error: `commit signer '${pk}' is not a validator at height ${height}` };
    if (seen.has(idx)) return { error: `validator '${pk}' signed the commit twice` };
    seen.add(idx);
    let good = false;
    try {
      good = schnorr.verify(cs.sig, msg, cs.validator);
    } catch {
      good = false;
    }
    if (!good) return { error: `precommit of validator '${pk}' does not verify` };
    signed += vals[idx].power;
  }
  if (signed * 3n <= total * 2n)
    return { error: `commit holds ${signed} of ${total} voting power, not more than 2/3` };
  return { power: signed, total };
}

/* The validator set of /v1/validators?height=H (valset_from_json), or
 * null when malformed. */
function valsetFromJson(doc) {
  const arr = doc && doc.validators;
  if (!Array.isArray(arr) || arr.length === 0 || arr.length > MAX_VALIDATORS) return null;
  const out = [];
  for (const v of arr) {
    const pubkey = fromHex(v && v.pubkey, { len: 32 });
    const power = v ? jsonU64(v.power) : null;
    if (!pubkey || power === null || typeof v.operator !== 'string') return null;
    out.push({ pubkey, power, operator: v.operator });
  }
  return sortSet(out);
}

/**
 * Follows the validator set from the one `t` trusts to the one that
 * commits block `height`, whose hash is `want` (trust_follow). The node's
 * /v1/validators/changes is a hint: for each change at e, block e-1 must
 * be final under the set trusted so far and announce the next set's hash
 * (next_validators_hash), and the node's /v1/validators?height=e must hash
 * to it. Updates `t`; throws ProofError.
 * @param {(path: string) => Promise<any>} get @param {Trust} t
 * @param {bigint} height @param {Uint8Array} want
 * @param {(step: {what: string, ok: boolean, detail: string}) => void} [step]
 */
export async function followValidatorSet(get, t, height, want, step = () => {}) {
  return within('validator set', () => follow(get, t, height, want, step));
}

async function follow(get, t, height, want, step) {
  const ch = await nodeGet(get, '/v1/validators/changes');
  const arr = ch && Array.isArray(ch.changes) ? ch.changes : [];
  let prev = 0n;
  for (const c of arr) {
    const e = c && typeof c === 'object' ? jsonU64(c.height) : null;
    if (e === null || e <= prev) fail("the node's list of validator-set changes is malformed");
    prev = e;
    if (e <= t.from) continue;
    if (e > height) break;
    const bd = await nodeGet(get, `/v1/blocks/${e - 1n}`);
    const { header } = verifyHeader(t, bd && bd.header, bd && bd.commit, e - 1n);
    const next = header.next_validators_hash;
    if (next.length !== 32)
      fail(`the node lists a validator-set change at height ${e}, but block ${e - 1n} (final) announces none`);
    const vd = await nodeGet(get, `/v1/validators?height=${e}`);
    const vs = valsetFromJson(vd);
    if (!vs || !eqBytes(valsetHash(vs), next))
      fail(`the node's validator set of height ${e} is not the one block ${e - 1n} announces (${toHex(next)})`);
    t.validators = vs;
    t.vsHash = next;
    t.from = e;
    step({
      what: 'validator set',
      ok: true,
      detail: `set ${toHex(next)} (${vs.length} validators) in force from height ${e}, announced by final block ${e - 1n}`,
    });
  }
  if (!eqBytes(t.vsHash, want))
    fail(
      `block ${height} is committed by a validator set (${toHex(want)}) that the node's list of changes ` +
        "does not lead to from the genesis file: another chain, or a node hiding a change; " +
        "'esgwallet audit --genesis FILE' replays every block",
    );
}

/**
 * Checks a proof document of /v1/state/proof for record table/key
 * (verify_proof): follows the validator set if the header names another
 * one, verifies header and commit, then the sparse Merkle proof of the
 * exact value bytes (or of absence) against the header's app_hash.
 * Throws ProofError; `what` names the record in messages.
 * @param {(path: string) => Promise<any>} get @param {Trust} t @param {any} doc
 * @param {number} table @param {Uint8Array} key @param {string} what
 * @param {(step: object) => void} [step]
 * @returns {Promise<{height: bigint, time_ms: bigint, block_hash: Uint8Array,
 *   app_hash: Uint8Array, present: boolean, value: Uint8Array|null, signers: number}>}
 */
export async function verifyStateProof(get, t, doc, table, key, what, step = () => {}) {
  return within('state proof', () => stateProof(get, t, doc, table, key, what, step));
}

async function stateProof(get, t, doc, table, key, what, step) {
  const height = doc && typeof doc === 'object' ? jsonU64(doc.height) : null;
  if (height === null) fail(`the node's proof of ${what} has no height`);
  const hj = doc.header, cj = doc.commit;
  if (height === 0n || !hj || typeof hj !== 'object' || !cj || typeof cj !== 'object')
    fail(`the node has no final block to prove ${what} against (height ${height})`);
  // A header naming another set than the trusted one: follow the changes
  // first (only the header's claim of its set is used, to know where to go).
  const peekRaw = fromHex(hj.raw, { max: 1 << 16 });
  const peek = peekRaw && decodeCanonical(T.BlockHeader, peekRaw);
  if (peek && peek.validators_hash.length === 32 && !eqBytes(peek.validators_hash, t.vsHash))
    await followValidatorSet(get, t, height, peek.validators_hash, step);
  const vh = verifyHeader(t, hj, cj, height);
  step({ what: 'header', ok: true, detail: `block ${height} ${toHex(vh.hash)} of chain '${t.chainId}'` });
  step({
    what: 'commit',
    ok: true,
    detail: `final: ${vh.signers} of ${t.validators.length} validators signed, ${vh.power} of ${vh.total} voting power`,
  });
  const app = vh.header.app_hash;
  if (app.length !== 32) fail(`the header of height ${height} has no app hash`);
  const present = doc.value !== null && doc.value !== undefined;
  const value = present ? fromHex(doc.value, { max: 16 << 20 }) : null;
  if (present && !value) fail(`the node's proof of ${what} has a malformed value`);
  const p = doc.proof;
  const sib = p && typeof p === 'object' ? p.siblings : undefined;
  if (!Array.isArray(sib) || sib.length > 256 || p.leaf === undefined) fail(`the node's proof of ${what} is malformed`);
  const siblings = sib.map((s) => fromHex(s, { len: 32 }));
  if (siblings.some((s) => !s)) fail(`the node's proof of ${what} has a malformed sibling`);
  let leaf = null;
  if (p.leaf !== null) {
    const lk = fromHex(p.leaf && p.leaf.key, { len: 32 });
    const lv = fromHex(p.leaf && p.leaf.value_hash, { len: 32 });
    if (!lk || !lv) fail(`the node's proof of ${what} has a malformed leaf`);
    leaf = { key: lk, value_hash: lv };
  }
  // The tree key and the value hash are computed here, from the record's
  // table and key and the value's exact bytes.
  const tk = stateKey(table, key);
  if (!smtVerify(app, tk, present ? sha256(value) : null, { siblings, leaf }))
    fail(`the proof of ${what} does not lead to the app hash of block ${height} (${toHex(app)})`);
  return { height, time_ms: big(vh.header.time_ms), block_hash: vh.hash, app_hash: app, present, value, signers: vh.signers };
}

/* ------------------------------------------------------------ reports */

/** "1200.500": thousandths as esg_milli_format writes them. */
export function milli(v) {
  const neg = v < 0n;
  const m = neg ? -v : v;
  return `${neg ? '-' : ''}${m / 1000n}.${(m % 1000n).toString().padStart(3, '0')}`;
}

/** RFC 3339 UTC as esg_time_format_rfc3339: ".mmm" only when not whole. */
export function rfc3339(ms) {
  if (ms >= 253402300800000n) return '';
  const s = new Date(Number(ms)).toISOString();
  return ms % 1000n ? s : s.replace(/\.\d{3}Z$/, 'Z');
}

const supports = (a) => !a.revoked && (a.opinion === 1 || a.opinion === 2);

/* esg_report_count: every attestation is the report's, then the counting
 * rule (esg_impact_count_rule). null when one does not belong. */
function reportCount(r, atts) {
  if (atts.length !== r.attestations.length) return null;
  for (const [i, a] of atts.entries())
    if (a.id.length !== 32 || !eqBytes(a.id, r.attestations[i]) || a.report_id.length !== 32 || !eqBytes(a.report_id, r.id))
      return null;
  if (r.superseded_by.length) return { counts: false, value: 0n };
  let any = false, rejected = false, min = 0n;
  for (const a of atts) {
    if (a.revoked) continue;
    if (a.opinion === 3) rejected = true;
    else if (a.opinion === 1 || a.opinion === 2) {
      const v = big(a.verified_value, true);
      if (!any || v < min) min = v;
      any = true;
    }
  }
  return any && !rejected ? { counts: true, value: min } : { counts: false, value: 0n };
}

/* verify_once: the report's proof and each attestation's, all from one
 * height; { again: true } when they came from different heights. */
async function verifyOnce(get, t, id, step) {
  const idh = toHex(id);
  const rdoc = await nodeGet(get, `/v1/state/proof?table=${TABLES.REPORTS}&key=${idh}`);
  const rep = await verifyStateProof(get, t, rdoc, TABLES.REPORTS, id, 'the report', step);
  if (!rep.present) {
    const e = new ProofError(
      `no impact report ${idh}: its absence is proven against block ${rep.height} ${toHex(rep.block_hash)}`,
    );
    e.absent = rep;
    throw e;
  }
  const r = decodeCanonical(T.ReportRecord, rep.value);
  if (!r || !r.report || !eqBytes(r.id, id)) fail(`the record proven under report ${idh} is not that report`);
  step({ what: 'state proof', ok: true, detail: `report ${idh} proven in the state of block ${rep.height} (app hash ${toHex(rep.app_hash)})` });
  if (r.attestations.length > MAX_ATTESTATIONS) fail(`report ${idh} has more than ${MAX_ATTESTATIONS} attestations`);
  const atts = [];
  for (const aid of r.attestations) {
    if (aid.length !== 32) fail(`report ${idh} lists a malformed attestation id`);
    const ah = toHex(aid);
    const at = `attestation ${ah}`;
    let p, a;
    try {
      const adoc = await nodeGet(get, `/v1/state/proof?table=${TABLES.ATTESTATIONS}&key=${ah}`);
      p = await verifyStateProof(get, t, adoc, TABLES.ATTESTATIONS, aid, 'an attestation');
      if (p.height !== rep.height) return { again: true, heights: [rep.height, p.height] };
      if (!eqBytes(p.block_hash, rep.block_hash))
        fail(`two different blocks at height ${p.height} carry commits of the validators`);
      if (!p.present) fail(`report ${idh} lists attestation ${ah}, which the state proves absent`);
      a = decodeCanonical(T.AttestationRecord, p.value);
      if (!a) fail(`the record proven under attestation ${ah} does not decode`);
    } catch (e) {
      if (e instanceof ProofError && e.what !== 'validator set') e.what = at;
      throw e;
    }
    step({ what: at, ok: true, detail: `proven in the state of block ${p.height}, ${OPINIONS[a.opinion] || 'UNSPECIFIED'}${a.revoked ? ', revoked' : ''}` });
    atts.push(a);
  }
  return { rep, r, atts };
}

/* The report as the wallet's --json prints it (print_verified_json). */
function reportJson(t, v, count) {
  const { r, rep } = v;
  const ri = r.report;
  return {
    report_id: hexOf(r.id),
    instrument: ri.instrument,
    project_id: ri.project_id,
    city: r.city,
    kpi: ri.kpi,
    value: milli(big(ri.value, true)),
    period_start: ri.period_start,
    period_end: ri.period_end,
    evidence_sha256: hexOf(ri.evidence_sha256),
    supersedes: hexOf(ri.supersedes),
    superseded_by: hexOf(r.superseded_by),
    report_height: big(r.height),
    final_block_hash: toHex(rep.block_hash),
    height: rep.height,
    block_time: rfc3339(rep.time_ms),
    app_hash: toHex(rep.app_hash),
    counted: count.counts,
    counted_value: count.counts ? milli(count.value) : null,
    chain_id: t.chainId,
    genesis_hash: t.genesisHash,
    trusting_no_node: true,
  };
}

const attestationJson = (a) => ({
  id: hexOf(a.id),
  verifier: a.verifier,
  opinion: OPINIONS[a.opinion] || 'UNSPECIFIED',
  verified_value: milli(big(a.verified_value, true)),
  statement_sha256: hexOf(a.statement_sha256),
  height: big(a.height),
  revoked: a.revoked,
  revoke_reason: a.revoke_reason,
  revoked_height: big(a.revoked_height),
  supports: supports(a),
});

/**
 * Verifies an impact report and its attestations trusting no node, as
 * `esgwallet impact verify REPORT --genesis FILE` does.
 *
 * @param {object} o
 * @param {(path: string) => Promise<any>} o.get parsed JSON body of GET
 *   path on the node; throws an Error with .status and .body on non-2xx
 *   (fetchGet makes one)
 * @param {string|Uint8Array} o.genesis the genesis file, as text or bytes
 * @param {string} o.reportId the report's id, 64 hex characters (either
 *   case, as the wallet takes it)
 * @returns {Promise<{ok: boolean, final: boolean, attested: boolean,
 *   absent: boolean, height: bigint|null, time_ms: bigint|null,
 *   block_time: string|null, block_hash: string|null, app_hash: string|null,
 *   signers: number|null, validators: number|null, chain_id: string|null,
 *   genesis_hash: string|null, report: object|null, attestations: object[],
 *   counted: boolean, counted_value: string|null,
 *   steps: {what: string, ok: boolean, detail: string}[],
 *   reason: string|null}>}
 *   ok: everything verified. final: the report's record (or its absence)
 *   is proven by a final block. attested: some proven attestation is live
 *   and CONFIRMED or QUALIFIED. counted/counted_value: the counting rule.
 *   On failure ok is false and reason says why; the last step is the
 *   failed one.
 */
export async function verifyImpact({ get, genesis, reportId } = {}) {
  if (typeof get !== 'function') throw new TypeError('verifyImpact: get must be a function');
  if (typeof genesis !== 'string' && !(genesis instanceof Uint8Array))
    throw new TypeError('verifyImpact: genesis must be a string or a Uint8Array');
  const res = {
    ok: false, final: false, attested: false, absent: false,
    height: null, time_ms: null, block_time: null, block_hash: null, app_hash: null,
    signers: null, validators: null, chain_id: null, genesis_hash: null,
    report: null, attestations: [], counted: false, counted_value: null,
    steps: [], reason: null,
  };
  const step = (s) => res.steps.push(s);
  try {
    const id = fromHex(reportId, { len: 32 });
    if (!id) fail(`report id '${reportId}' is not 64 hex characters`, 'report id');
    const t = parseGenesis(genesis);
    res.chain_id = t.chainId;
    res.genesis_hash = t.genesisHash;
    step({
      what: 'genesis',
      ok: true,
      detail: `chain '${t.chainId}', genesis ${t.genesisHash}, ${t.validators.length} validators (set ${toHex(t.vsHash)})`,
    });
    let v = null;
    for (let i = 0; i < MAX_TRIES && !v; i++) {
      const o = await verifyOnce(get, t, id, step);
      if (o.again)
        step({ what: 'state proof', ok: true, detail: `proofs came from heights ${o.heights[0]} and ${o.heights[1]}: fetched again` });
      else v = o;
    }
    if (!v) fail(`the node's proofs came from different heights ${MAX_TRIES} times in a row; try again`, 'state proof');
    const count = reportCount(v.r, v.atts);
    if (!count) fail(`an attestation proven for report ${toHex(id)} does not belong to it`, 'attestation');
    Object.assign(res, {
      ok: true,
      final: true,
      attested: v.atts.some(supports),
      height: v.rep.height,
      time_ms: v.rep.time_ms,
      block_time: rfc3339(v.rep.time_ms),
      block_hash: toHex(v.rep.block_hash),
      app_hash: toHex(v.rep.app_hash),
      signers: v.rep.signers,
      validators: t.validators.length,
      report: reportJson(t, v, count),
      attestations: v.atts.map(attestationJson),
      counted: count.counts,
      counted_value: count.counts ? milli(count.value) : null,
    });
    return res;
  } catch (e) {
    if (!(e instanceof ProofError)) throw e; // a programmer's error
    if (e.absent) {
      Object.assign(res, {
        final: true,
        absent: true,
        height: e.absent.height,
        time_ms: e.absent.time_ms,
        block_time: rfc3339(e.absent.time_ms),
        block_hash: toHex(e.absent.block_hash),
        app_hash: toHex(e.absent.app_hash),
        signers: e.absent.signers,
      });
    }
    res.reason = e.message;
    step({ what: e.what || 'state proof', ok: false, detail: e.message });
    return res;
  }
}
