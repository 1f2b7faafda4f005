// Converge in the peer benchmark through the real client (`@converge/client`, memory storage,
// WebSocket from `ws`), beside the protocol-level driver (bench/peers/converge). W1: A writes
// through client batches; B's time runs from `createClient` to every record readable. W2: both
// replicas write offline (into their outboxes), then connect.
import { createClient, createMemoryStorage, MemoryDatabase, type Client } from '@converge/client';
import { WebSocket } from 'ws';
import { COLLECTION } from '../peers/converge/replica.js';
import { convergeMemory, convergeSqlite } from '../peers/converge/driver.js';
import type { PeerDriver, W1CatchUp, W2Outcome } from '../peers/driver.js';
import { startMeasure } from '../peers/measure.js';
import { recordKey, recordValue, touch, w2Key, w2Value, type W1Workload, type W2Workload } from '../peers/workload.js';

const open = (url: string, db: MemoryDatabase = new MemoryDatabase()): Promise<Client> =>
  createClient({
    name: db.name,
    url,
    WebSocket: WebSocket,
    storage: createMemoryStorage(db),
    tabs: false,
    ackTimeoutMs: 120_000,
  });

async function write(url: string, { records }: W1Workload): Promise<undefined> {
  const a = await open(url);
  for (let start = 1; start <= records; start += 1000) {
    await a.batch(
      (b) => {
        const c = b.collection(COLLECTION);
        for (let i = start; i < Math.min(records + 1, start + 1000); i++) c.put(recordKey(i), recordValue(i));
      },
      { ack: 'relay' },
    );
  }
  await a.close();
  return undefined;
}

async function catchUp(url: string, { records }: W1Workload): Promise<W1CatchUp> {
  const measure = await startMeasure();
  const b = await open(url);
  const collection = b.collection(COLLECTION);
  await b.whenSynced({ timeoutMs: 120_000 });
  let readable = 0;
  let checksum = 0;
  for (const doc of await collection.scan()) {
    if (doc.conflicts.length > 0) continue;
    readable++;
    checksum += touch(doc.value);
  }
  const measured = await measure.stop();
  await b.close();
  if (readable !== records) throw new Error(`W1: B read ${readable} of ${records} records`);
  return { ...measured, readable, checksum };
}

async function w2(url: string, workload: W2Workload): Promise<W2Outcome> {
  const dbs = [new MemoryDatabase('w2-a'), new MemoryDatabase('w2-b')];
  // Offline first: each update goes through the client's outbox (squashed as merges when pushed).
  for (const [r, db] of dbs.entries()) {
    const offline = await createClient({ name: db.name, storage: createMemoryStorage(db), tabs: false });
    const records = offline.collection(COLLECTION);
    for (let u = 0; u < workload.updates; u++) await records.put(w2Key(u % workload.keys), w2Value(r, u));
    await offline.close();
  }
  const measure = await startMeasure();
  // Converged on a side once every key holds both replicas' values: watched as an app would (a
  // callback per committed batch), as the protocol-level driver counts on each applied frame.
  const converged: Promise<void>[] = [];
  const clients = await Promise.all(
    dbs.map(async (db) => {
      const client = await open(url, db);
      const both = new Set<string>();
      converged.push(
        new Promise((resolve) =>
          client.collection(COLLECTION).watch({ prefix: '' }, (events) => {
            for (const { key, doc } of events) if (doc?.conflicts.length === 1) both.add(key);
            if (both.size === workload.keys) resolve();
          }),
        ),
      );
      return client;
    }),
  );
  await Promise.all(converged);
  const { ms, bytes } = await measure.stop();
  const [a, b] = await Promise.all(
    clients.map(async (c) => (await c.collection(COLLECTION).scan()).map((d) => [d.key, d.value, d.conflicts.map((x) => x.value)])),
  );
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error('W2: the replicas differ');
  const kept = a!.reduce((n, d) => n + 1 + (d[2] as unknown[]).length, 0);
  await Promise.all(clients.map((c) => c.close()));
  return { ms, bytes, kept, keys: a!.length };
}

/** For bench/peers/drivers.ts: Converge through `@converge/client` on the relay CLI (SQLite). */
export const convergeClientSqlite: PeerDriver = {
  name: 'converge-client-sqlite',
  label: 'Converge client (@converge/client, memory storage; relay CLI, SQLite)',
  startRelay: (dir) => convergeSqlite.startRelay(dir),
  w1: { write, catchUp },
  w2,
};

/** The same against createRelay on MemoryStore. */
export const convergeClientMemory: PeerDriver = {
  name: 'converge-client-memory',
  label: 'Converge client (@converge/client, memory storage; createRelay, MemoryStore)',
  startRelay: (dir) => convergeMemory.startRelay(dir),
  w1: { write, catchUp },
  w2,
};
