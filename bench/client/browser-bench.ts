// The page side of the client benchmark, bundled from the built packages and driven by
// client.bench.ts through `window.clientBench`.
import { createClient } from '@converge/client';
import { openDB, type DBSchema } from 'idb';

interface Item {
  readonly title: string;
  readonly qty: number;
  readonly done: boolean;
}

const item = (i: number): Item => ({ title: `item ${i}`, qty: i % 7, done: i % 3 === 0 });

/** The client's stores, written by hand: what the client writes for a new key, without the client. */
interface RawDB extends DBSchema {
  docs: { key: [string, string]; value: unknown };
  outbox: { key: number; value: unknown; indexes: { byDoc: [string, string] } };
  rejected: { key: string; value: unknown };
  meta: { key: string; value: unknown };
}

async function rawDatabase(name: string) {
  return openDB<RawDB>(name, 1, {
    upgrade(db) {
      db.createObjectStore('docs', { keyPath: ['collection', 'key'] });
      db.createObjectStore('outbox', { keyPath: 'id', autoIncrement: true }).createIndex('byDoc', ['collection', 'key']);
      db.createObjectStore('rejected', { keyPath: 'writeId' });
      db.createObjectStore('meta');
    },
  });
}

const api = {
  /** n writes through client.batch (ack local, strict) vs raw idb writing the same stores in one strict transaction. */
  async batchVsRaw(n: number): Promise<{ clientMs: number; rawMs: number }> {
    const values = Array.from({ length: n }, (_, i) => item(i));
    const client = await createClient({ name: `bench-batch-${Date.now()}`, tabs: false });
    const t0 = performance.now();
    await client.batch((b) => {
      const items = b.collection('items');
      for (let i = 0; i < n; i++) items.put(`k${i}`, values[i]);
    });
    const clientMs = performance.now() - t0;
    await client.destroy();

    const db = await rawDatabase(`bench-raw-${Date.now()}`);
    const replica = 'Bm3kQ9zL0pRt7vXw';
    const t1 = performance.now();
    const tx = db.transaction(['docs', 'outbox', 'meta'], 'readwrite', { durability: 'strict' });
    const docs = tx.objectStore('docs');
    const outbox = tx.objectStore('outbox');
    const wall = Date.now();
    for (let i = 0; i < n; i++) {
      const key = `k${i}`;
      const hlc = { wall, logical: i, replica };
      const sibling = { dot: [replica, 1], hlc, value: { json: values[i] } };
      const context = { vv: new Map([[replica, 1]]), cloud: [] };
      void docs.put({
        collection: 'items',
        key,
        state: { context, siblings: [sibling] },
        base: { context: { vv: new Map(), cloud: [] }, siblings: [] },
        seq: 0,
      });
      void outbox.add({
        writeId: `${replica}:${i + 1}`,
        collection: 'items',
        key,
        mode: 'multi-leader',
        replica,
        writeNumber: i + 1,
        delta: { context, siblings: [sibling] },
        write: { kind: 'put', value: { json: values[i] }, readContext: { vv: new Map(), cloud: [] } },
        ack: 'local',
        createdAt: wall,
      });
    }
    void tx.objectStore('meta').put({ id: replica, writeNumber: n, retired: [] }, 'replica');
    await tx.done;
    const rawMs = performance.now() - t1;
    db.close();
    return { clientMs, rawMs };
  },

  /** n puts, each awaited at ack local (one strict transaction each). */
  async awaitedPuts(n: number): Promise<{ ms: number }> {
    const client = await createClient({ name: `bench-puts-${Date.now()}`, tabs: false });
    const items = client.collection<Item>('items');
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await items.put(`k${i}`, item(i));
    const ms = performance.now() - t0;
    await client.destroy();
    return { ms };
  },

  /** Fills database `name` with n documents (batches of 10k). */
  async fill(name: string, n: number): Promise<{ ms: number }> {
    const client = await createClient({ name, tabs: false });
    const t0 = performance.now();
    for (let start = 0; start < n; start += 10_000) {
      await client.batch((b) => {
        const items = b.collection('items');
        for (let i = start; i < Math.min(n, start + 10_000); i++) items.put(`k${i}`, item(i));
      });
    }
    const ms = performance.now() - t0;
    await client.close();
    return { ms };
  },

  /** Cold open (this page just loaded): createClient to the first get. */
  async coldOpen(name: string, key: string): Promise<{ ms: number; found: boolean }> {
    const t0 = performance.now();
    const client = await createClient({ name, tabs: false });
    const doc = await client.collection('items').get(key);
    const ms = performance.now() - t0;
    (globalThis as { openClient?: unknown }).openClient = client;
    return { ms, found: doc !== undefined };
  },

  /** Scans every document of the open client and keeps them (what an app showing them all holds). */
  async scanAll(): Promise<{ ms: number; count: number }> {
    const client = (globalThis as { openClient?: Awaited<ReturnType<typeof createClient>> }).openClient!;
    const t0 = performance.now();
    const docs = await client.collection('items').scan();
    (globalThis as { held?: unknown }).held = docs;
    return { ms: performance.now() - t0, count: docs.length };
  },
};

(globalThis as { clientBench?: typeof api }).clientBench = api;
document.title = 'ready';
export type ClientBenchApi = typeof api;
