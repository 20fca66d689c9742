// Every op of every change the phone receives, checked against the hamlet-log schema
// before it is applied: the mirror of client-core/src/check.rs (over the field table of
// client-core/src/schema.rs) as a device runs it (`Check::Relayed`: the schema alone;
// who may write what is the server's to judge).
//
// Automerge keeps and relays every op, visible or not, so the phone places each op by
// the identity of the object it writes to (never by key names, which a rival object can
// share): nothing on the root; only new maps under fresh ids in the genesis `households`
// and `visits` maps of a hamlet's log, or `walkins` of a counter's; only the schema's
// fields, as scalars of their type and size, in an entry; codes in a visit's or
// walk-in's `topics` and `accounts`. Lists, text, counters and marks have
// no place anywhere. A household's sealed fields (label, head, a visit's note) are
// bytes no longer than a sealed text can be; `checkChanges` returns them, and
// `openSealed` opens those whose household key the phone holds (WebCrypto is
// asynchronous) and holds the text inside to the rules. tests/browser/schema.mjs runs
// this against the cases client-core's tests run
// (client-core/tests/fixtures/relayed-changes.json).

import { MAX_COUNT, OUTCOMES, isCode, textFault } from './rules.js';
import { MAX_SEALED_BYTES, fieldOf, open } from './sealed.js';

const GENESIS_ACTOR = '00000000000000000000000000000000';
const HOUSEHOLDS = `3@${GENESIS_ACTOR}`;
const VISITS = `4@${GENESIS_ACTOR}`;
const WALKINS = `5@${GENESIS_ACTOR}`;
const SCHEMA_VERSION = 2;
export const MAX_CHANGE_EXTRAS = 256;
const HOUSEHOLD_FIELDS = ['label', 'head', 'members', 'created_by', 'created_at', 'retired', 'merged_into'];
const VISIT_FIELDS = ['household', 'by', 'at', 'outcome', 'topics', 'accounts', 'people', 'filed', 'note', 'voided'];
const WALKIN_FIELDS = ['by', 'at', 'people', 'topics', 'accounts', 'filed', 'note', 'voided'];
const MAKES = { makeMap: 'map', makeList: 'list', makeText: 'text', makeTable: 'table' };

/** A change outside the schema: `rule` is client-core's rule code, `path` where. */
export class SchemaError extends Error {
  constructor(rule, path, reason) {
    super(reason ? `${path}: ${reason}` : `${path} is outside the hamlet-log schema`);
    this.rule = rule;
    this.path = path;
  }
}

const outside = (path) => new SchemaError('outside_schema', path);
const invalid = (path, reason) => new SchemaError('invalid_value', path, reason);
const short = (s) => [...String(s)].slice(0, 40).join('');
const isCompactId = (s) => typeof s === 'string' && /^[a-z2-7]{16}$/.test(s);
const isUserId = (s) => typeof s === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(s);

/** Where an object sits: {kind: 'root'|'households'|'visits'|'walkins'|'household'|'visit'|'walkin'|'topics'|'accounts',
 *  id, new, owner ('visit' or 'walkin', for topics and accounts)}. */
function show(place) {
  switch (place.kind) {
    case 'root': return '';
    case 'households': case 'visits': case 'walkins': return place.kind;
    case 'household': return `households/${place.id}`;
    case 'visit': return `visits/${place.id}`;
    case 'walkin': return `walkins/${place.id}`;
    default: return `${place.owner === 'walkin' ? 'walkins' : 'visits'}/${place.id}/${place.kind}`;
  }
}
const pathIn = (place, name) => (place.kind === 'root' ? short(name) : `${show(place)}/${short(name)}`);

/** The place of a new object of `type` made at `name` inside `parent`. */
function placedIn(parent, name, type) {
  const path = pathIn(parent, name);
  if (type !== 'map') throw outside(path);
  const entries = { households: 'household', visits: 'visit', walkins: 'walkin' };
  if (entries[parent.kind]) {
    if (!isCompactId(name)) throw invalid(path, 'the key is not a valid id');
    return { kind: entries[parent.kind], id: name, new: true };
  }
  if ((parent.kind === 'visit' || parent.kind === 'walkin') && (name === 'topics' || name === 'accounts')) {
    return { kind: name, id: parent.id, owner: parent.kind };
  }
  throw outside(path);
}

/** The objects of a document, by id: its entries and their topics and accounts. */
function existingObjects(A, doc) {
  const places = new Map();
  for (const [id, h] of Object.entries(doc.households ?? {})) {
    places.set(A.getObjectId(h), { kind: 'household', id, new: false });
  }
  for (const [map, owner] of [['visits', 'visit'], ['walkins', 'walkin']]) {
    for (const [id, v] of Object.entries(doc[map] ?? {})) {
      places.set(A.getObjectId(v), { kind: owner, id, new: false });
      for (const kind of ['topics', 'accounts']) {
        if (v[kind] && typeof v[kind] === 'object') places.set(A.getObjectId(v[kind]), { kind, id, owner });
      }
    }
  }
  return places;
}

const int = (op) => (op.datatype === 'int' || op.datatype === 'uint') && Number.isInteger(op.value);
const isText = (op) => typeof op.value === 'string' && (op.datatype === undefined || op.datatype === 'str');

function text(op, required, path) {
  if (!isText(op)) throw invalid(path, 'is not text');
  const fault = textFault(op.value, required);
  if (fault) throw invalid(path, fault);
}

/** A sealed value's bytes (Automerge decodes a bytes value as an array of numbers). */
function sealedBytes(op, path) {
  const v = op.value;
  const isBytes = v instanceof Uint8Array
    || (Array.isArray(v) && v.every((n) => Number.isInteger(n) && n >= 0 && n < 256));
  if (!isBytes) throw invalid(path, 'is not sealed');
  if (v.length > MAX_SEALED_BYTES) throw invalid(path, 'is longer than a sealed text can be');
  return Uint8Array.from(v);
}

function count(op, path) {
  if (!int(op) || op.value < 0 || op.value > MAX_COUNT) throw invalid(path, `must be between 0 and ${MAX_COUNT}`);
}

function boolean(op, path) {
  if (typeof op.value !== 'boolean') throw invalid(path, 'is not true or false');
}

function userId(op, path) {
  if (!isText(op) || !isUserId(op.value)) throw invalid(path, 'is not a user id');
}

function time(op, path) {
  if (!int(op)) throw invalid(path, 'is not a time');
}

function walkinField(field, op, isNew, path) {
  if (!WALKIN_FIELDS.includes(field)) throw outside(path);
  if (!isNew && field === 'by') throw new SchemaError('immutable', path, 'is written once');
  if (op.action === 'makeMap' && (field === 'topics' || field === 'accounts')) return;
  if (op.action === 'del') {
    if (field === 'note' || field === 'filed') return;
    throw new SchemaError('deleted', path, 'may not be deleted');
  }
  if (op.action !== 'set') throw outside(path);
  switch (field) {
    case 'by': return userId(op, path);
    case 'at': return time(op, path);
    case 'people': case 'filed': return count(op, path);
    case 'note': return text(op, false, path);
    case 'voided': return boolean(op, path);
    default: throw outside(path);
  }
}

function householdField(field, op, isNew, path, sealed, id) {
  if (!HOUSEHOLD_FIELDS.includes(field)) throw outside(path);
  if (!isNew && (field === 'created_by' || field === 'created_at')) throw new SchemaError('immutable', path, 'is written once');
  if (op.action === 'del') {
    if (field === 'head' || field === 'members') return;
    throw new SchemaError('deleted', path, 'may not be deleted');
  }
  if (op.action !== 'set') throw outside(path);
  switch (field) {
    case 'label': case 'head':
      sealed.push({ household: id, field, bytes: sealedBytes(op, path), required: field === 'label', path });
      return;
    case 'members': return count(op, path);
    case 'created_by': return userId(op, path);
    case 'created_at': return time(op, path);
    case 'merged_into': if (!isText(op) || !isCompactId(op.value)) throw invalid(path, 'is not a household id'); return;
    default: return boolean(op, path);
  }
}

function visitField(field, op, isNew, path, sealed, id) {
  if (!VISIT_FIELDS.includes(field)) throw outside(path);
  if (!isNew && (field === 'by' || field === 'household')) throw new SchemaError('immutable', path, 'is written once');
  if (op.action === 'makeMap' && (field === 'topics' || field === 'accounts')) return;
  if (op.action === 'del') {
    if (field === 'note' || field === 'filed') return;
    throw new SchemaError('deleted', path, 'may not be deleted');
  }
  if (op.action !== 'set') throw outside(path);
  switch (field) {
    case 'household': if (!isText(op) || !isCompactId(op.value)) throw invalid(path, 'is not a household id'); return;
    case 'by': return userId(op, path);
    case 'at': return time(op, path);
    case 'outcome': if (!isText(op) || !OUTCOMES.includes(op.value)) throw invalid(path, 'is not an outcome'); return;
    case 'people': case 'filed': return count(op, path);
    case 'note':
      sealed.push({ visit: id, field: fieldOf('note', id), bytes: sealedBytes(op, path), required: false, path });
      return;
    case 'voided': return boolean(op, path);
    default: throw outside(path);
  }
}

/**
 * Checks every op of `changes` (bytes of changes, whose dependencies are in `doc` or
 * among them) against the schema. `A` is the Automerge module. Throws a
 * SchemaError for the first op outside it, in the order client-core checks them.
 * Returns the sealed values written, each with its household, for `openSealed`.
 */
export function checkChanges(A, doc, changes) {
  // A change the phone already holds (an answer sent again after a lost one) is
  // not new: only the others are numbered and checked.
  const decoded = changes.map((c) => {
    try {
      return A.decodeChange(c);
    } catch {
      throw outside('a change that cannot be read');
    }
  }).filter((c) => !A.hasHeads(doc, [c.hash]));
  // Every actor an op names must be one of these changes' authors or one the log
  // knows (Automerge's core panics on a stranger). Read the log's actors once, and
  // only when needed; the same read numbers each actor's changes.
  let written = null;
  const known = () => {
    if (!written) {
      written = new Map();
      for (const m of A.getChangesMetaSince(doc, [])) written.set(m.actor, Math.max(written.get(m.actor) ?? 0, m.seq));
    }
    return written;
  };
  const authors = new Set(decoded.map((c) => c.actor));
  const actorOf = (id) => id.slice(id.indexOf('@') + 1);
  for (const c of decoded) {
    for (const op of c.ops) {
      for (const id of [op.obj, op.elemId, ...(op.pred ?? [])]) {
        if (!id || !id.includes('@')) continue;
        const actor = actorOf(id);
        if (!authors.has(actor) && actor !== GENESIS_ACTOR && !known().has(actor)) {
          throw outside(`a change naming actor ${actor}, who wrote nothing here`);
        }
      }
    }
  }
  // Each actor's changes carry the numbers that follow the log's, with no gap.
  const next = new Map();
  for (const c of [...decoded].sort((a, b) => (a.actor < b.actor ? -1 : a.actor > b.actor ? 1 : a.seq - b.seq))) {
    const expected = next.get(c.actor) ?? (known().get(c.actor) ?? 0) + 1;
    if (c.seq !== expected) throw outside(`a change numbered ${c.seq} where ${expected} comes next`);
    next.set(c.actor, expected + 1);
  }
  const made = new Map();
  for (const c of decoded) {
    if ((c.message ?? '').length > MAX_CHANGE_EXTRAS) throw outside("a change's message or extra bytes");
    if (c.ops.length === 0) throw outside('a change with no operations');
    c.ops.forEach((op, i) => {
      if (MAKES[op.action]) made.set(`${c.startOp + i}@${c.actor}`, { obj: op.obj, key: op.key, type: MAKES[op.action] });
    });
  }
  let existing = null;
  // A counter's log: its genesis made the walk-ins map.
  const counter = doc.walkins !== undefined && A.getObjectId(doc.walkins) === WALKINS;
  const placeCache = new Map();
  const placeOf = (obj, depth) => {
    if (obj === '_root') return { kind: 'root' };
    if (placeCache.has(obj)) return placeCache.get(obj);
    let place;
    if (obj === HOUSEHOLDS) place = { kind: 'households' };
    else if (obj === VISITS) place = { kind: 'visits' };
    else if (obj === WALKINS && counter) place = { kind: 'walkins' };
    else if (made.has(obj)) {
      // Objects nest three deep at most (visits/<id>/topics).
      if (depth > 3) throw outside('an object nested too deep');
      const m = made.get(obj);
      const parent = placeOf(m.obj, depth + 1);
      if (typeof m.key !== 'string') throw outside(`${show(parent)} (a list)`);
      place = placedIn(parent, m.key, m.type);
    } else {
      existing ??= existingObjects(A, doc);
      place = existing.get(obj);
      if (!place) throw outside(`an object (${obj}) this hamlet log lacks`);
    }
    placeCache.set(obj, place);
    return place;
  };
  const madeKeys = new Set();
  const sealed = [];
  // The household of each visit the changes make (a note's key is its household's).
  const visitHouseholds = new Map();
  for (const c of decoded) {
    for (const op of c.ops) {
      const place = placeOf(op.obj, 0);
      if (typeof op.key !== 'string') throw outside(`${show(place)} (a list position)`);
      const path = pathIn(place, op.key);
      if (op.insert) throw outside(path);
      switch (place.kind) {
        case 'root': throw outside(path);
        case 'households':
        case 'visits':
        case 'walkins': {
          // A counter's log holds walk-ins, never households or visits.
          if (MAKES[op.action] && counter && place.kind !== 'walkins') throw outside(path);
          if (MAKES[op.action]) {
            const existed = doc[place.kind]?.[op.key] !== undefined;
            const key = `${place.kind}/${op.key}`;
            if (existed || op.pred.length || madeKeys.has(key)) throw new SchemaError('immutable', path, 'is written once');
            madeKeys.add(key);
            placedIn(place, op.key, MAKES[op.action]);
            break;
          }
          if (op.action === 'del') throw new SchemaError('deleted', path, 'may not be deleted');
          throw outside(path);
        }
        case 'household': householdField(op.key, op, place.new, path, sealed, place.id); break;
        case 'visit':
          visitField(op.key, op, place.new, path, sealed, place.id);
          if (op.key === 'household' && op.action === 'set') visitHouseholds.set(place.id, op.value);
          break;
        case 'walkin': walkinField(op.key, op, place.new, path); break;
        case 'topics':
          if (!isCode(op.key)) throw invalid(path, 'the key is not a code');
          if (op.action === 'del' || (op.action === 'set' && op.value === true && op.datatype === undefined)) break;
          if (op.action === 'set') throw invalid(path, 'a topic is marked true or not at all');
          throw outside(path);
        default: // accounts
          if (!isCode(op.key)) throw invalid(path, 'the key is not a code');
          if (op.action === 'del') break;
          if (op.action === 'set') { count(op, path); break; }
          throw outside(path);
      }
    }
  }
  for (const s of sealed) {
    if (s.visit === undefined) continue;
    const household = visitHouseholds.get(s.visit) ?? doc.visits?.[s.visit]?.household;
    if (household === undefined) throw invalid(s.path, 'a note of a visit to no household');
    s.household = String(household);
  }
  return sealed;
}

/**
 * Opens the sealed values `checkChanges` returned, with the keys the phone holds
 * (`keyOf(household)`: the key's bytes, or nothing): each must open in its place and
 * hold a text the rules allow. One whose key the phone lacks (an erased household)
 * is left shut.
 */
export async function openSealed(hamlet, sealed, keyOf) {
  for (const s of sealed) {
    const key = keyOf(s.household);
    if (!key) continue;
    let text;
    try {
      text = await open(key, hamlet, s.household, s.field, s.bytes);
    } catch (e) {
      throw invalid(s.path, e.message);
    }
    const fault = textFault(text, s.required);
    if (fault) throw invalid(s.path, fault);
  }
}

/** Whether a decoded change is the genesis change of `hamlet`, as client-core makes it. */
function isGenesis(c, hamlet) {
  const [schema, name, households, visits, ...rest] = c.ops;
  const rootPut = (op, key, action) => op?.obj === '_root' && op.key === key && op.action === action && op.pred.length === 0;
  // A counter's genesis has the walk-ins map too; a successor's (a rolled-over log's)
  // ends with its generation.
  let tail = rest;
  if (rootPut(tail[0], 'walkins', 'makeMap')) tail = tail.slice(1);
  if (rootPut(tail[0], 'generation', 'set') && tail[0].datatype === 'uint' && tail[0].value > 0) tail = tail.slice(1);
  const more = tail.length === 0;
  return c.actor === GENESIS_ACTOR && c.seq === 1 && c.deps.length === 0 && more
    && rootPut(schema, 'schema', 'set') && int(schema) && schema.value === SCHEMA_VERSION
    && rootPut(name, 'hamlet', 'set') && isText(name) && name.value === hamlet
    && rootPut(households, 'households', 'makeMap') && rootPut(visits, 'visits', 'makeMap');
}

/** Which of its hamlet's successive logs a document is: 0 for the first, one more at
 *  every rollover (`HamletLog::generation`). */
export function generationOf(doc) {
  return Number(doc.generation ?? 0);
}

/**
 * Loads a whole hamlet log a server sent, checking every op of every change in it as if
 * they had arrived one by one onto the genesis log (`sync::load_checked`). Returns the
 * document, loaded under `actor`, and the sealed values it holds (for `openSealed`).
 */
export function loadChecked(A, hamlet, bytes, actor) {
  const notALog = (why) => new SchemaError('not_a_hamlet_log', hamlet, why);
  let doc;
  try {
    doc = A.load(bytes, { actor });
  } catch {
    throw notALog('it cannot be read');
  }
  // The root has the hamlet-log shape (`HamletLog::from_automerge`)...
  const walkins = doc.walkins === undefined || A.getObjectId(doc.walkins) === WALKINS;
  if (doc.schema !== SCHEMA_VERSION || A.getObjectId(doc.households) !== HOUSEHOLDS || A.getObjectId(doc.visits) !== VISITS || !walkins) {
    throw notALog('its schema version or root maps are not the genesis ones');
  }
  // ...from this hamlet's own genesis: any other change on the root is outside the schema.
  const all = A.getAllChanges(doc);
  const genesis = all.find((c) => isGenesis(A.decodeChange(c), hamlet));
  if (!genesis) throw outside('the root of another hamlet log');
  const [start] = A.applyChanges(A.init(), [genesis]);
  const sealed = checkChanges(A, start, all.filter((c) => c !== genesis));
  return { doc, sealed };
}
