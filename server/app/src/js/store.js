// The phone's storage, in IndexedDB: hamlet logs as a saved snapshot plus the
// incremental chunks written since (compacted into a new snapshot now and then),
// and small records (credentials, the user's hamlets and catalogue, sync states),
// and each household's key (`keys`, by [hamlet, household]: {key, seq}), kept outside
// the logs so that erasing a household deletes its key and nothing else. Every write
// resolves only when its transaction has completed, so the app says "đã lưu" only for
// what is stored. (IndexedDB's own files may keep a deleted record's bytes until the
// browser compacts them: ARCHITECTURE.md says what is promised.)

const DB = 'tungnha';
const COMPACT_AFTER = 32;

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('the write was aborted'));
  });
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export class Store {
  static async open() {
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, 2);
      req.onupgradeneeded = () => {
        const db = req.result;
        for (const name of ['meta', 'snapshots', 'chunks', 'keys']) {
          if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    return new Store(db);
  }

  constructor(db) { this.db = db; }

  async get(key) {
    const tx = this.db.transaction('meta');
    return request(tx.objectStore('meta').get(key));
  }

  async set(entries) {
    const tx = this.db.transaction('meta', 'readwrite');
    for (const [k, v] of Object.entries(entries)) tx.objectStore('meta').put(v, k);
    return done(tx);
  }

  /** Every stored hamlet log: {hamlet: {snapshot, chunks: [Uint8Array]}}. */
  async docs() {
    const tx = this.db.transaction(['snapshots', 'chunks']);
    const snaps = tx.objectStore('snapshots');
    const [keys, values] = await Promise.all([request(snaps.getAllKeys()), request(snaps.getAll())]);
    const out = {};
    keys.forEach((k, i) => { out[k] = { snapshot: values[i], chunks: [] }; });
    const chunks = tx.objectStore('chunks');
    const [ckeys, cvalues] = await Promise.all([request(chunks.getAllKeys()), request(chunks.getAll())]);
    ckeys.forEach(([hamlet], i) => { if (out[hamlet]) out[hamlet].chunks.push(cvalues[i]); });
    return out;
  }

  /** Appends a chunk of new changes to a log, with small records in the same write. */
  async append(hamlet, bytes, meta = {}) {
    const tx = this.db.transaction(['chunks', 'meta'], 'readwrite');
    const chunks = tx.objectStore('chunks');
    const range = IDBKeyRange.bound([hamlet, 0], [hamlet, Infinity]);
    const count = await request(chunks.count(range));
    const last = count ? (await request(chunks.getAllKeys(range))).pop()[1] : 0;
    chunks.put(bytes, [hamlet, last + 1]);
    for (const [k, v] of Object.entries(meta)) tx.objectStore('meta').put(v, k);
    await done(tx);
    return count + 1 >= COMPACT_AFTER;
  }

  /** Replaces a log's snapshot and chunks with one snapshot (compaction, or a new log). */
  async replace(hamlet, snapshot, meta = {}) {
    const tx = this.db.transaction(['snapshots', 'chunks', 'meta'], 'readwrite');
    tx.objectStore('chunks').delete(IDBKeyRange.bound([hamlet, 0], [hamlet, Infinity]));
    tx.objectStore('snapshots').put(snapshot, hamlet);
    for (const [k, v] of Object.entries(meta)) tx.objectStore('meta').put(v, k);
    return done(tx);
  }

  /** Every stored household key: {hamlet: {household: {key, seq}}}. */
  async keys() {
    const tx = this.db.transaction('keys');
    const store = tx.objectStore('keys');
    const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    const out = {};
    keys.forEach(([hamlet, household], i) => { (out[hamlet] ??= {})[household] = values[i]; });
    return out;
  }

  /** Stores keys of a hamlet's households and deletes those of households erased, with
   *  small records in the same write. */
  async putKeys(hamlet, keys, erased = [], meta = {}) {
    const tx = this.db.transaction(['keys', 'meta'], 'readwrite');
    const store = tx.objectStore('keys');
    for (const [household, entry] of keys) store.put(entry, [hamlet, household]);
    for (const household of erased) store.delete([hamlet, household]);
    for (const [k, v] of Object.entries(meta)) tx.objectStore('meta').put(v, k);
    return done(tx);
  }

  /** Forgets a log and its keys (its hamlet was unassigned). */
  async remove(hamlet) {
    const tx = this.db.transaction(['snapshots', 'chunks', 'keys'], 'readwrite');
    tx.objectStore('chunks').delete(IDBKeyRange.bound([hamlet, 0], [hamlet, Infinity]));
    tx.objectStore('keys').delete(IDBKeyRange.bound([hamlet, ''], [hamlet, '\uffff']));
    tx.objectStore('snapshots').delete(hamlet);
    return done(tx);
  }

  /** Erases everything: logs, keys, sync states and credentials (revocation). */
  async wipe() {
    const stores = ['snapshots', 'chunks', 'keys', 'meta'];
    const tx = this.db.transaction(stores, 'readwrite');
    for (const s of stores) tx.objectStore(s).clear();
    return done(tx);
  }
}
