// W4's PouchDB page (bundled by w4.bench.ts; plain JavaScript, as the peers stay out of
// Converge's type check): 10,000 records written with one bulkDocs through pouchdb-browser's
// idb adapter; after a reload, a new PouchDB on the same name and the first get.
/* global document, navigator, performance -- a page module, run in the browser */
import PouchDB from 'pouchdb-browser';
import { recordKey, recordValue, touch } from '../peers/workload.ts';

const bench = {
  async write(name, n) {
    const db = new PouchDB(name);
    const docs = [];
    for (let i = 1; i <= n; i++) docs.push({ _id: recordKey(i), ...recordValue(i) });
    const t0 = performance.now();
    const results = await db.bulkDocs(docs);
    const ms = performance.now() - t0;
    if (results.some((r) => r.error !== undefined)) throw new Error('PouchDB bulkDocs failed');
    await db.close();
    return { ms };
  },
  async coldRead(name, key) {
    const t0 = performance.now();
    const db = new PouchDB(name);
    const doc = await db.get(key);
    const ms = performance.now() - t0;
    await db.close();
    return { ms, checksum: touch(doc) };
  },
  usage: async () => (await navigator.storage.estimate()).usage ?? NaN,
};

globalThis.bench = bench;
document.title = 'ready';
