// The phone's replica: real Automerge documents (one per hamlet log), stored in
// IndexedDB, written under the actor the server assigned at enrolment, and synced with
// the batched protocol of docs/PROTOCOL.md (the same as client-core's Replica).
//
// A household's label, head and visit notes are sealed under its own key (sealed.js):
// the keys are kept beside the logs (store.js), travel in the sync envelope, and are
// deleted when the server says the household was erased. WebCrypto is asynchronous,
// so what the keys open is kept in `plain`, filled after every change to a log, and
// the screens read from there; a household whose key is gone reads as erased.

import * as Automerge from '@automerge/automerge/slim';
import { encode, decode } from './envelope.js';
import { SchemaError, checkChanges, generationOf, loadChecked, openSealed } from './schema.js';
import { fieldOf, freshKey, open as openValue, seal } from './sealed.js';
import { RuleError, checkHousehold, checkVisit, checkWalkIn, clean, householdsPerDay, statusOf, vnDay } from './rules.js';

const MAX_ROUNDS = 5;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

let wasmReady = null;

/** Loads the Automerge wasm once (from the app's own cache when offline). */
export function initAutomerge() {
  wasmReady ??= Automerge.initializeWasm(new URL('../vendor/automerge/automerge.wasm', import.meta.url).href);
  return wasmReady;
}

/** A fresh household or visit id: 16 random base32 characters, as client-core makes. */
export function freshId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => ID_ALPHABET[b & 31]).join('');
}

const str = (s) => new Automerge.ImmutableString(s);

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Copies a household's or visit's fields into a new map, keeping their types. */
function copyFields(target, source) {
  for (const [k, v] of Object.entries(source)) {
    if (Automerge.isImmutableString(v) || typeof v === 'string') target[k] = str(String(v));
    else if (v instanceof Uint8Array) target[k] = v.slice();
    else if (v !== null && typeof v === 'object') {
      target[k] = {};
      copyFields(target[k], v);
    } else target[k] = v;
  }
}

/** A document's content as canonical JSON (keys sorted, strings as strings). */
function canonical(doc) {
  const walk = (v) => {
    if (Automerge.isImmutableString(v)) return String(v);
    if (v instanceof Uint8Array) return `bytes:${hex(v)}`;
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, walk(v[k])]));
  };
  return JSON.stringify(walk(doc));
}
const text = (v) => (v === undefined || v === null ? undefined : String(v));

/** Whether two lists of heads name the same changes. */
const sameHeads = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

const sameValue = (a, b) => {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (Automerge.isImmutableString(a) || typeof a === 'string') return (Automerge.isImmutableString(b) || typeof b === 'string') && String(a) === String(b);
  return a === b;
};

/**
 * Carries what the phone wrote on a hamlet's old log after `since` (the heads the
 * server confirmed) onto its successor, as one new change with the same ids
 * (`HamletLog::carry_over`): an entry the successor has is not made again, and a field
 * already holding the value is not written. Returns the successor, changed or not.
 */
export function carryOver(next, old, since) {
  const known = since.filter((h) => Automerge.hasHeads(old, [h]));
  const patches = Automerge.diff(old, known, Automerge.getHeads(old));
  // Parents before children: an entry exists before its fields are written.
  patches.sort((a, b) => a.path.length - b.path.length);
  return Automerge.change(next, { time: Math.floor(Date.now() / 1000) }, (d) => {
    for (const p of patches) {
      // Nothing on the root: only inside the households, visits or walk-ins maps.
      if (p.path.length < 2) continue;
      let obj = d;
      for (const seg of p.path.slice(0, -1)) {
        obj = obj?.[seg];
        if (obj === null || typeof obj !== 'object') break;
      }
      if (obj === null || typeof obj !== 'object') continue;
      const key = p.path[p.path.length - 1];
      if (p.action === 'put') {
        const v = p.value;
        if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && !Automerge.isImmutableString(v)) {
          if (obj[key] === undefined) obj[key] = {};
        } else if (!sameValue(obj[key], v)) {
          obj[key] = typeof v === 'string' || Automerge.isImmutableString(v) ? str(String(v)) : v instanceof Uint8Array ? v.slice() : v;
        }
      } else if (p.action === 'del' && obj[key] !== undefined) {
        delete obj[key];
      }
    }
  });
}

/** Why a sync failed, with the server's error code when it gave one. */
export class SyncError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export class Replica {
  /** Opens the replica kept in `store` (credentials, logs, sync states). */
  static async open(store) {
    await initAutomerge();
    const r = new Replica(store);
    r.credentials = await store.get('credentials');
    r.me = await store.get('me');
    r.shared = (await store.get('shared')) ?? {};
    r.sent = (await store.get('sent')) ?? {};
    r.lastSync = (await store.get('last_sync_at')) ?? null;
    r.keySeq = (await store.get('key_seq')) ?? {};
    r.keys = await store.keys();
    const docs = await store.docs();
    for (const [hamlet, { snapshot, chunks }] of Object.entries(docs)) {
      let doc = Automerge.load(snapshot, { actor: r.actor() });
      for (const c of chunks) doc = Automerge.loadIncremental(doc, c);
      r.docs.set(hamlet, doc);
      await r.openAll(hamlet);
    }
    return r;
  }

  constructor(store) {
    this.store = store;
    this.docs = new Map();
    this.shared = {};
    this.sent = {};
    this.credentials = null;
    this.me = null;
    // Per hamlet, a copy of the log as of what was last sent ({heads, doc}), taken
    // before the first local write after it: what `squash` writes onto.
    this.bases = new Map();
    // {hamlet: {household: {key, seq}}}: seq 0 for a key made here and not yet
    // acknowledged by the server; the last key event applied per hamlet.
    this.keys = {};
    this.keySeq = {};
    // What the keys open: `${hamlet}|${household}|${field}|${hex of the sealed value}` → text.
    this.plain = new Map();
  }

  /** A household's key, if the phone holds it (none once the household is erased). */
  keyOf(hamlet, household) {
    return this.keys[hamlet]?.[household]?.key;
  }

  /** Opens every sealed value of a log whose key is held and that is not open yet. */
  async openAll(hamlet) {
    const doc = this.docs.get(hamlet);
    if (!doc) return;
    const want = [];
    for (const [id, h] of Object.entries(doc.households ?? {})) {
      for (const field of ['label', 'head']) if (h[field] instanceof Uint8Array) want.push([id, field, h[field]]);
    }
    for (const [id, v] of Object.entries(doc.visits ?? {})) {
      if (v.note instanceof Uint8Array) want.push([text(v.household), fieldOf('note', id), v.note]);
    }
    for (const [household, field, value] of want) {
      const at = `${hamlet}|${household}|${field}|${hex(value)}`;
      const key = this.keyOf(hamlet, household);
      if (!key || this.plain.has(at)) continue;
      // Checked when it arrived; one that still does not open reads as nothing.
      this.plain.set(at, await openValue(key, hamlet, household, field, value).catch(() => undefined));
    }
  }

  /** The text of a sealed field, once opened; nothing without its key. */
  plainOf(hamlet, household, field, value) {
    if (value === undefined || value === null) return undefined;
    if (!(value instanceof Uint8Array)) return undefined;
    if (!this.keyOf(hamlet, household)) return undefined;
    return this.plain.get(`${hamlet}|${household}|${field}|${hex(value)}`);
  }

  /** Forgets what the keys of erased households opened (of every household of the
   *  hamlet when none are named). */
  forgetPlain(hamlet, households) {
    const gone = households && new Set(households);
    for (const at of [...this.plain.keys()]) {
      const [h, household] = at.split('|');
      if (h === hamlet && (!gone || gone.has(household))) this.plain.delete(at);
    }
  }

  actor() {
    return this.credentials?.actor_id;
  }

  user() {
    return this.credentials?.user?.id;
  }

  enrolled() {
    return Boolean(this.credentials);
  }

  /** Enrols with a leader's code: keeps the token and the server-assigned actor. */
  async enrol(code, deviceName) {
    const res = await fetch('/api/v1/enrol', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code, device_name: deviceName }),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new SyncError(body.code ?? 'http', body.message ?? `HTTP ${res.status}`, res.status);
    this.credentials = body;
    await this.store.set({ credentials: body });
  }

  /** Hamlets held, with names from the last `me`. */
  hamlets() {
    const names = new Map((this.me?.hamlets ?? []).map((h) => [h.id, h.name]));
    return [...this.docs.keys()].sort().map((id) => ({ id, name: names.get(id) ?? id }));
  }

  /** Whether a held log is a one-stop counter's: its genesis made the walk-ins map. */
  isCounter(hamlet) {
    return this.docs.get(hamlet)?.walkins !== undefined;
  }

  /** A counter's walk-ins, newest first. */
  walkins(counter) {
    const doc = this.docs.get(counter);
    return Object.entries(doc?.walkins ?? {}).map(([id, w]) => ({
      id, by: text(w.by), at: Number(w.at), people: Number(w.people ?? 0), filed: Number(w.filed ?? 0),
      accounts: w.accounts ?? {}, topics: Object.keys(w.topics ?? {}), note: text(w.note), voided: Boolean(w.voided),
    })).sort((a, b) => b.at - a.at);
  }

  /** Logs someone helped at a counter; resolves once it is stored. Refuses what the
   *  server would refuse. */
  async logWalkIn(counter, form, now = Date.now()) {
    const w = {
      by: this.user(),
      at: now,
      people: form.people ?? 0,
      topics: [...new Set(form.topics ?? [])].sort(),
      accounts: Object.fromEntries(Object.entries(form.accounts ?? {}).filter(([, n]) => n > 0)),
      filed: form.filed ?? 0,
      note: clean(form.note),
    };
    if (!this.isCounter(counter)) throw new RuleError('wrong_place', 'people', 'walk-ins are logged at a counter');
    checkWalkIn(this.user(), w, now);
    const id = freshId();
    // Field by field, as visits are: a 0 inside an object literal would be a float.
    await this.write(counter, (d) => {
      d.walkins[id] = {};
      const e = d.walkins[id];
      e.by = str(w.by);
      e.at = w.at;
      e.people = w.people;
      e.topics = {};
      for (const t of w.topics) e.topics[t] = true;
      e.accounts = {};
      for (const [k, n] of Object.entries(w.accounts)) e.accounts[k] = n;
      if (w.filed > 0) e.filed = w.filed;
      if (w.note !== undefined) e.note = str(w.note);
      e.voided = false;
    });
    return id;
  }

  /** The households of a hamlet with their status and visits, ordered by label. */
  households(hamlet) {
    const doc = this.docs.get(hamlet);
    if (!doc) return [];
    const visits = new Map();
    // A household listed twice and merged counts its visits towards the one kept.
    const merged = new Map(Object.entries(doc.households ?? {})
      .filter(([, h]) => h.merged_into)
      .map(([id, h]) => [id, text(h.merged_into)]));
    for (const [id, v] of Object.entries(doc.visits ?? {})) {
      const hh = merged.get(text(v.household)) ?? text(v.household);
      if (!visits.has(hh)) visits.set(hh, []);
      const note = this.plainOf(hamlet, text(v.household), fieldOf('note', id), v.note);
      visits.get(hh).push({
        id, at: Number(v.at), outcome: text(v.outcome), voided: Boolean(v.voided), by: text(v.by), note,
        accounts: v.accounts ?? {}, people: Number(v.people ?? 0), filed: Number(v.filed ?? 0),
      });
    }
    const out = [];
    for (const [id, h] of Object.entries(doc.households ?? {})) {
      if (h.retired) continue;
      const vs = visits.get(id) ?? [];
      // Erased: its key is gone, and with it the label, the head and the notes.
      const erased = !this.keyOf(hamlet, id);
      const label = erased ? '' : this.plainOf(hamlet, id, 'label', h.label) ?? '';
      const head = erased ? undefined : this.plainOf(hamlet, id, 'head', h.head);
      out.push({ id, label, head, erased, members: h.members, status: statusOf(vs), visits: vs });
    }
    const collator = new Intl.Collator('vi', { numeric: true });
    // Erased households last: they have no label to order by.
    return out.sort((a, b) => Number(a.erased) - Number(b.erased) || collator.compare(a.label, b.label));
  }

  /** Changes waiting to be sent, over every log. */
  pending() {
    let n = 0;
    for (const [hamlet, doc] of this.docs) {
      const shared = this.shared[hamlet] ?? [];
      if (shared.length) n += Automerge.getChangesSince(doc, shared).length;
    }
    return n;
  }

  async write(hamlet, fn) {
    const doc = this.docs.get(hamlet);
    if (!doc) throw new Error(`hamlet ${hamlet} is not held`);
    // The first local write after what was last sent: keep a copy as of now for the
    // squash to write onto (a copy costs little; a view at past heads, cloned,
    // replays the whole history).
    const base = this.sent[hamlet] ?? this.shared[hamlet] ?? [];
    if (sameHeads(Automerge.getHeads(doc), base) && !sameHeads(this.bases.get(hamlet)?.heads ?? [], base)) {
      this.bases.set(hamlet, { heads: base, doc: Automerge.clone(doc, { actor: this.actor() }) });
    }
    const next = Automerge.change(doc, { time: Math.floor(Date.now() / 1000) }, fn);
    const compact = await this.store.append(hamlet, Automerge.saveIncremental(next));
    this.docs.set(hamlet, next);
    if (compact) await this.store.replace(hamlet, Automerge.save(next));
  }

  /** Logs a visit; resolves once it is stored. Refuses what the server would refuse. */
  async logVisit(hamlet, household, outcome, form, now = Date.now()) {
    const doc = this.docs.get(hamlet);
    const visit = {
      household,
      by: this.user(),
      at: now,
      outcome,
      topics: [...new Set(form.topics ?? [])].sort(),
      accounts: Object.fromEntries(Object.entries(form.accounts ?? {}).filter(([, n]) => n > 0)),
      people: form.people ?? 0,
      filed: form.filed ?? 0,
      note: clean(form.note),
    };
    checkVisit(this.user(), visit, now, Boolean(doc?.households?.[household]));
    // The server refuses visits before the day the commune started recording them.
    const from = this.me?.hamlets?.find((h) => h.id === hamlet)?.visits_from;
    if (from && visit.at < from) {
      throw new RuleError('before_visits_from', 'at', `the visit's time is before ${vnDay(from)}; check the phone's clock`);
    }
    const id = freshId();
    let note;
    if (visit.note !== undefined) {
      const key = this.keyOf(hamlet, household);
      if (!key) throw new RuleError('erased', 'note', 'this household’s personal data was erased: a note cannot be kept');
      note = await seal(key, hamlet, household, fieldOf('note', id), visit.note);
    }
    // Field by field: Automerge JS stores a 0 inside an object literal as a float,
    // which client-core (rightly) refuses as a count; assigned alone it is an int.
    await this.write(hamlet, (d) => {
      d.visits[id] = {};
      const v = d.visits[id];
      v.household = str(visit.household);
      v.by = str(visit.by);
      v.at = visit.at;
      v.outcome = str(visit.outcome);
      v.topics = {};
      for (const t of visit.topics) v.topics[t] = true;
      v.accounts = {};
      for (const [k, n] of Object.entries(visit.accounts)) v.accounts[k] = n;
      v.people = visit.people;
      // Written only when some were, as client-core does: old logs read as none.
      if (visit.filed > 0) v.filed = visit.filed;
      if (note !== undefined) v.note = note;
      v.voided = false;
    });
    await this.openAll(hamlet);
    return id;
  }

  /** Lists a household missing from the list; resolves once it is stored. */
  async addHousehold(hamlet, form, now = Date.now()) {
    const h = { label: (form.label ?? '').trim(), head: clean(form.head), members: form.members, created_by: this.user(), created_at: now };
    checkHousehold(this.user(), h, now);
    const doc = this.docs.get(hamlet);
    const today = vnDay(now);
    const listedToday = Object.values(doc?.households ?? {})
      .filter((e) => text(e.created_by) === this.user() && vnDay(Number(e.created_at)) === today).length;
    if (listedToday >= householdsPerDay(this.credentials?.user?.role)) {
      throw new RuleError('too_many_households', 'label', 'the day’s allowance of new households is used up');
    }
    const id = freshId();
    // The household's own key, stored before the log that needs it.
    const key = freshKey();
    const label = await seal(key, hamlet, id, 'label', h.label);
    const head = h.head === undefined ? undefined : await seal(key, hamlet, id, 'head', h.head);
    await this.store.putKeys(hamlet, [[id, { key, seq: 0 }]]);
    (this.keys[hamlet] ??= {})[id] = { key, seq: 0 };
    await this.write(hamlet, (d) => {
      d.households[id] = {};
      const e = d.households[id];
      e.label = label;
      if (head !== undefined) e.head = head;
      if (h.members !== undefined) e.members = h.members;
      e.created_by = str(h.created_by);
      e.created_at = h.created_at;
      e.retired = false;
    });
    await this.openAll(hamlet);
    return id;
  }

  /**
   * Squashes a log's run of local changes that have never left the phone into one
   * change of the same effect (docs/PROTOCOL.md, "Squashing"): ~55 B a visit on the
   * wire instead of ~200. Only runs of this phone's own new households and visits are
   * squashed, on a copy at the run's start, and only if the copy reads exactly as the
   * original; the copy is stored before it can be sent.
   */
  async squash(hamlet) {
    const doc = this.docs.get(hamlet);
    const base = this.sent[hamlet] ?? this.shared[hamlet] ?? [];
    if (!base.length || !Automerge.hasHeads(doc, base)) return;
    const run = Automerge.getChangesSince(doc, base);
    if (run.length < 2) return;
    if (!run.every((c) => Automerge.decodeChange(c).actor === this.actor())) return;
    // Onto the copy kept before the run when it is as of `base`; else a view there.
    const kept = this.bases.get(hamlet);
    this.bases.delete(hamlet);
    const usable = kept && sameHeads(kept.heads, base);
    const before = usable ? kept.doc : Automerge.view(doc, base);
    // What the run added, read before the copy is changed.
    const fresh = ['households', 'visits', 'walkins'].map((list) =>
      [list, Object.entries(doc[list] ?? {}).filter(([id]) => !before[list]?.[id])]);
    const start = usable ? kept.doc : Automerge.clone(before, { actor: this.actor() });
    const copy = Automerge.change(start, { time: Math.floor(Date.now() / 1000) }, (d) => {
      for (const [list, entries] of fresh) {
        if (!d[list]) continue;
        for (const [id, entry] of entries) {
          d[list][id] = {};
          copyFields(d[list][id], entry);
        }
      }
    });
    // What the last squash did, for tests and the curious: the run, and whether it
    // was written onto the copy kept before it.
    this.lastSquash = { run: run.length, kept: Boolean(usable), squashed: false };
    if (canonical(copy) !== canonical(doc)) return;
    await this.store.replace(hamlet, Automerge.save(copy));
    this.docs.set(hamlet, copy);
    this.lastSquash.squashed = true;
  }

  /** One request: every held log with its heads and the changes the server lacks. */
  request() {
    const docs = [];
    for (const [id, doc] of this.docs) {
      const shared = this.shared[id] ?? [];
      // Keys of households listed here that the server has not acknowledged.
      const unsent = Object.entries(this.keys[id] ?? {}).filter(([, k]) => k.seq === 0).map(([h, k]) => [h, k.key]);
      docs.push({
        id,
        heads: Automerge.getHeads(doc),
        changes: shared.length ? Automerge.getChangesSince(doc, shared) : [],
        keys: { seq: this.keySeq[id] ?? 0, keys: unsent, erased: [] },
      });
    }
    return docs;
  }

  /** Syncs until neither side has anything to send. Returns {rounds, up, down, wiped}.
   *  One sync at a time: a second caller waits for the one under way. */
  sync() {
    this.inflight ??= this.syncRounds().finally(() => { this.inflight = null; });
    return this.inflight;
  }

  async syncRounds() {
    const report = { rounds: 0, up: 0, down: 0, wiped: false, kept: false, lost: 0, dropped: [] };
    if (!this.credentials) return report;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      for (const hamlet of this.docs.keys()) await this.squash(hamlet);
      const sent = this.request();
      // Whatever leaves now may reach the server even if the answer is lost: never
      // squash it again.
      for (const d of sent) if (d.changes.length) this.sent[d.id] = d.heads;
      await this.store.set({ sent: this.sent });
      const body = await encode({ docs: sent });
      report.up += body.length;
      const res = await fetch('/api/v1/sync', {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream', Authorization: `Bearer ${this.credentials.token}` },
        body,
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      report.down += bytes.length;
      report.rounds++;
      if (!res.ok) {
        let err = {};
        try { err = JSON.parse(new TextDecoder().decode(bytes)); } catch { /* not JSON */ }
        throw new SyncError(err.code ?? 'http', err.message ?? `HTTP ${res.status}`, res.status);
      }
      const answer = await decode(bytes);
      if (answer.wipe) {
        await this.store.wipe();
        this.docs.clear();
        this.bases.clear();
        this.keys = {};
        this.keySeq = {};
        this.plain.clear();
        this.shared = {};
        this.credentials = null;
        this.me = null;
        report.wiped = true;
        // Revoked: the server kept what this request carried (a final upload), or not.
        report.kept = answer.kept;
        report.lost = answer.kept ? 0 : sent.reduce((n, d) => n + d.changes.length, 0);
        return report;
      }
      await this.absorb(sent, answer);
      report.dropped.push(...answer.drop);
      if (this.pending() === 0) break;
    }
    this.lastSync = Date.now();
    this.lastReport = report;
    const me = await this.fetchMe();
    await this.store.set({ last_sync_at: this.lastSync, ...(me ? { me } : {}) });
    return report;
  }

  async absorb(sent, answer) {
    const mentioned = new Set();
    for (const entry of answer.docs) {
      mentioned.add(entry.id);
      let doc;
      // The keys first: erased households' go, new ones come, so that what arrives
      // sealed is checked open.
      const keys = { ...(this.keys[entry.id] ?? {}) };
      const events = entry.keys ?? { seq: 0, keys: [], erased: [] };
      for (const household of events.erased) delete keys[household];
      for (const [household, key] of events.keys) keys[household] = { key, seq: events.seq };
      const keyOf = (household) => keys[household]?.key;
      // Every op is checked against the schema before anything is applied; a log
      // that breaks it is refused whole and the phone keeps what it had.
      try {
        if (entry.snapshot) {
          const loaded = loadChecked(Automerge, entry.id, entry.snapshot, this.actor());
          await openSealed(entry.id, loaded.sealed, keyOf);
          doc = loaded.doc;
          const old = this.docs.get(entry.id);
          // The hamlet rolled over to a successor log: what the server never
          // confirmed on the old one is carried over, the old one let go.
          if (old && generationOf(doc) > generationOf(old)) doc = carryOver(doc, old, this.shared[entry.id] ?? []);
          else if (old) doc = Automerge.merge(doc, old);
        } else {
          doc = this.docs.get(entry.id);
          if (!doc) continue;
          await openSealed(entry.id, checkChanges(Automerge, doc, entry.changes), keyOf);
          [doc] = Automerge.applyChanges(doc, entry.changes);
        }
      } catch (e) {
        if (e instanceof SchemaError) throw new SyncError('rule_violation', `${entry.id}: ${e.message}`, 0);
        throw e;
      }
      // Applied to the keys held now, not to the copy checked above: a household
      // listed while this answer was being checked keeps its key.
      const live = (this.keys[entry.id] ??= {});
      for (const household of events.erased) delete live[household];
      for (const [household, key] of events.keys) live[household] = { key, seq: events.seq };
      const added = events.keys.map(([household]) => [household, live[household]]);
      this.keySeq = { ...this.keySeq, [entry.id]: events.seq };
      await this.store.putKeys(entry.id, added, events.erased, { key_seq: this.keySeq });
      this.forgetPlain(entry.id, events.erased);
      this.shared[entry.id] = entry.heads.filter((h) => Automerge.hasHeads(doc, [h]));
      this.docs.set(entry.id, doc);
      await this.store.replace(entry.id, Automerge.save(doc), { shared: this.shared });
      await this.openAll(entry.id);
    }
    for (const d of sent) {
      if (!mentioned.has(d.id)) this.shared[d.id] = d.heads;
      delete this.sent[d.id];
    }
    for (const id of answer.drop) {
      this.docs.delete(id);
      this.bases.delete(id);
      delete this.shared[id];
      delete this.keys[id];
      delete this.keySeq[id];
      this.forgetPlain(id);
      await this.store.remove(id);
    }
    await this.store.set({ shared: this.shared, sent: this.sent });
  }

  async fetchMe() {
    try {
      const res = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${this.credentials.token}` } });
      if (!res.ok) return null;
      this.me = await res.json();
      return this.me;
    } catch {
      return null;
    }
  }
}
