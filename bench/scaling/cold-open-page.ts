// The page side of the cold-open curve (bundled by cold-open.ts): fills a client database in
// stages and opens it cold (after a reload) to the first `get`.
import { createClient } from '@converge/client';

const item = (i: number) => ({ title: `item ${i}`, qty: i % 7, done: i % 3 === 0 });

const bench = {
  /** Writes documents k<start> … k<end - 1> through client.batch, 10,000 per batch. */
  async fillRange(name: string, start: number, end: number): Promise<{ ms: number }> {
    const client = await createClient({ name, tabs: false });
    const t0 = performance.now();
    for (let from = start; from < end; from += 10_000) {
      await client.batch((b) => {
        const items = b.collection('items');
        for (let i = from; i < Math.min(end, from + 10_000); i++) items.put(`k${i}`, item(i));
      });
    }
    const ms = performance.now() - t0;
    await client.close();
    return { ms };
  },

  /** Cold open (this page just loaded): createClient to the first get of `key`. */
  async coldOpen(name: string, key: string): Promise<{ ms: number; found: boolean }> {
    const t0 = performance.now();
    const client = await createClient({ name, tabs: false });
    const doc = await client.collection('items').get(key);
    const ms = performance.now() - t0;
    await client.close();
    return { ms, found: doc !== undefined };
  },

  /**
   * IndexedDB's own `count()` of the database's outbox store (the writes not yet at a relay), timed
   * on a fresh connection: what createClient waits for when it counts the pending writes.
   */
  async countOutbox(name: string): Promise<{ ms: number; count: number }> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const t0 = performance.now();
    const count = await new Promise<number>((resolve, reject) => {
      const request = db.transaction('outbox', 'readonly').objectStore('outbox').count();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const ms = performance.now() - t0;
    db.close();
    return { ms, count };
  },

  /** What the origin stores, as the browser counts it. */
  async usage(): Promise<number> {
    return (await navigator.storage.estimate()).usage ?? NaN;
  },
};

(globalThis as { bench?: typeof bench }).bench = bench;
document.title = 'ready';
