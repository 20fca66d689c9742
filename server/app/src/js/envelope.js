// The sync envelope of docs/PROTOCOL.md §3, in the browser: 'T' 'N', version 2, a
// compression byte (1 = raw DEFLATE, done with the browser's own CompressionStream),
// then flags, documents (id, heads, raw change chunks or a saved document, and the
// household keys: the last key event, keys, households erased) and the list of
// documents to drop. Every length is checked before it is read.

const MAGIC = [0x54, 0x4e];
const VERSION = 2;
const RAW = 0;
const DEFLATE = 1;
const MAX_BYTES = 64 * 1024 * 1024;
const MAX_DOCS = 10000;
const MAX_HEADS = 1024;
const MAX_KEYS = 100000;
const KEY_BYTES = 32;

class Writer {
  constructor() { this.parts = []; this.length = 0; }
  byte(b) { this.push(Uint8Array.of(b)); }
  uleb(n) {
    const out = [];
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
    this.push(Uint8Array.from(out));
  }
  bytes(b) { this.uleb(b.length); this.push(b); }
  string(s) { this.bytes(new TextEncoder().encode(s)); }
  push(b) { this.parts.push(b); this.length += b.length; }
  finish() {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

class Reader {
  constructor(bytes) { this.b = bytes; this.at = 0; }
  byte() {
    if (this.at >= this.b.length) throw new Error('the envelope ends early');
    return this.b[this.at++];
  }
  uleb() {
    let n = 0, scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (!(b & 0x80)) return n;
      scale *= 128;
    }
    throw new Error('a length is too long');
  }
  take(n) {
    if (n > this.b.length - this.at) throw new Error('the envelope ends early');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  bytes() { return this.take(this.uleb()); }
  string() { return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes()); }
}

export function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function through(stream, bytes) {
  const piped = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(piped).arrayBuffer());
}

/**
 * Encodes {docs: [{id, heads: [hex], changes: [Uint8Array] | snapshot, keys?}], drop, wipe},
 * where keys is {seq, keys: [[household, Uint8Array(32)]], erased: [household]}.
 */
export async function encode({ docs = [], drop = [], wipe = false }) {
  const w = new Writer();
  w.byte(wipe ? 1 : 0);
  w.uleb(docs.length);
  for (const d of docs) {
    w.string(d.id);
    w.uleb(d.heads.length);
    for (const h of d.heads) w.push(hexToBytes(h));
    if (d.snapshot) {
      w.byte(1);
      w.bytes(d.snapshot);
    } else {
      w.byte(0);
      w.uleb(d.changes.length);
      for (const c of d.changes) w.bytes(c);
    }
    const keys = d.keys || { seq: 0, keys: [], erased: [] };
    w.uleb(keys.seq);
    w.uleb(keys.keys.length);
    for (const [household, key] of keys.keys) {
      w.string(household);
      w.push(key);
    }
    w.uleb(keys.erased.length);
    for (const household of keys.erased) w.string(household);
  }
  w.uleb(drop.length);
  for (const id of drop) w.string(id);
  const body = await through(new CompressionStream('deflate-raw'), w.finish());
  const out = new Uint8Array(4 + body.length);
  out.set([...MAGIC, VERSION, DEFLATE]);
  out.set(body, 4);
  return out;
}

/** Decodes an envelope; throws a clear Error on anything malformed. */
export async function decode(bytes) {
  if (bytes.length < 4 || bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1]) throw new Error('not a sync envelope');
  if (bytes[2] !== VERSION) throw new Error(`unknown envelope version ${bytes[2]}`);
  let body = bytes.subarray(4);
  if (bytes[3] === DEFLATE) body = await through(new DecompressionStream('deflate-raw'), body);
  else if (bytes[3] !== RAW) throw new Error('unknown compression');
  if (body.length > MAX_BYTES) throw new Error('the envelope is too large');
  const r = new Reader(body);
  const flags = r.byte();
  if (flags & ~3) throw new Error('unknown flags');
  const count = r.uleb();
  if (count > MAX_DOCS) throw new Error('too many documents');
  const docs = [];
  let keysLeft = MAX_KEYS;
  const household = () => {
    const id = r.string();
    if (!/^[a-z2-7]{16}$/.test(id)) throw new Error('a household id is malformed');
    return id;
  };
  for (let i = 0; i < count; i++) {
    const id = r.string();
    const headCount = r.uleb();
    if (headCount > MAX_HEADS) throw new Error('too many heads');
    const heads = [];
    for (let h = 0; h < headCount; h++) heads.push(bytesToHex(r.take(32)));
    const kind = r.byte();
    const doc = { id, heads };
    if (kind === 0) {
      const n = r.uleb();
      doc.changes = [];
      for (let c = 0; c < n; c++) doc.changes.push(r.bytes().slice());
    } else if (kind === 1) {
      doc.snapshot = r.bytes().slice();
    } else {
      throw new Error('unknown document kind');
    }
    const seq = r.uleb();
    const k = r.uleb();
    if (k > keysLeft) throw new Error('too many household keys');
    keysLeft -= k;
    const keys = [];
    for (let n = 0; n < k; n++) keys.push([household(), r.take(KEY_BYTES).slice()]);
    const e = r.uleb();
    if (e > keysLeft) throw new Error('too many household keys');
    keysLeft -= e;
    const erased = [];
    for (let n = 0; n < e; n++) erased.push(household());
    doc.keys = { seq, keys, erased };
    docs.push(doc);
  }
  const drops = r.uleb();
  const drop = [];
  for (let i = 0; i < drops; i++) drop.push(r.string());
  if (r.at !== body.length) throw new Error('bytes after the envelope');
  return { wipe: (flags & 1) === 1, kept: (flags & 2) === 2, docs, drop };
}
