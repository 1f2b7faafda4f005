// W4's Yjs page (bundled by w4.bench.ts; plain JavaScript, as the peers stay out of Converge's
// type check): 10,000 records set in one Y.Map in one transaction, persisted by y-indexeddb
// (its own transactions, the browser's default durability); after a reload, a new Y.Doc with
// IndexeddbPersistence to `whenSynced` and the first read.
/* global document, navigator, performance -- a page module, run in the browser */
import * as Y from 'yjs';
import { IndexeddbPersistence } from 'y-indexeddb';
import { recordKey, recordValue, touch } from '../peers/workload.ts';

/** Resolves once every transaction y-indexeddb started on `db` so far has committed. */
function committed(db) {
  return new Promise((resolve, reject) => {
    // Read-write transactions over the same store run in the order they were created.
    const tx = db.transaction(['updates'], 'readwrite');
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

const bench = {
  async write(name, n) {
    const doc = new Y.Doc();
    const persistence = new IndexeddbPersistence(name, doc);
    await persistence.whenSynced;
    const t0 = performance.now();
    const map = doc.getMap('records');
    doc.transact(() => {
      for (let i = 1; i <= n; i++) map.set(recordKey(i), recordValue(i));
    });
    await committed(persistence.db);
    const ms = performance.now() - t0;
    await persistence.destroy();
    return { ms };
  },
  async coldRead(name, key) {
    const t0 = performance.now();
    const doc = new Y.Doc();
    const persistence = new IndexeddbPersistence(name, doc);
    await persistence.whenSynced;
    const value = doc.getMap('records').get(key);
    const ms = performance.now() - t0;
    await persistence.destroy();
    return { ms, checksum: value === undefined ? -1 : touch(value) };
  },
  usage: async () => (await navigator.storage.estimate()).usage ?? NaN,
};

globalThis.bench = bench;
document.title = 'ready';
