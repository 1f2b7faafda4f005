// The browser side of the client's Chromium tests: bundled by esbuild and driven through
// `window.converge` with page.evaluate.
import { ConvergeError } from '@converge/conflict';
import { createClient, replicaOf, type Client } from '../../client.js';
import { openIndexedDbStorage } from '../../storage/idb-storage.js';
import { exportToBlob } from '../../transfer/export-source.js';
import { storageAdapterChecks } from '../storage-adapter-checks.js';

const clients = new Map<string, Client>();
const relayUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`;

function client(name: string): Client {
  const found = clients.get(name);
  if (found === undefined) throw new Error(`no client ${name} in this page`);
  return found;
}

const api = {
  async runStorageChecks(): Promise<{ name: string; error?: string }[]> {
    const out: { name: string; error?: string }[] = [];
    let n = 0;
    for (const check of storageAdapterChecks) {
      try {
        await check.run((db) => openIndexedDbStorage(db), `browser-conformance-${Date.now()}-${++n}`);
        out.push({ name: check.name });
      } catch (error) {
        out.push({ name: check.name, error: String((error as Error).stack ?? error) });
      }
    }
    return out;
  },
  async open(name: string, options: { readonly offline?: boolean; readonly paused?: boolean } = {}): Promise<string> {
    const c = await createClient({
      name,
      ...(options.offline === true ? {} : { url: relayUrl }),
      ...(options.paused === true ? { paused: true } : {}),
      collections: { carts: { strategy: 'cart' } },
      backoff: { baseMs: 100, maxMs: 1000 },
    });
    clients.set(name, c);
    return c.replicaId;
  },
  async put(name: string, key: string, value: unknown, ack: 'local' | 'relay' = 'local'): Promise<string> {
    return (await client(name).collection('notes').put(key, value, { ack })).level;
  },
  /** `put`, answering with the refusal's code instead of throwing (a thrown error loses its code on the way out of the page). */
  async tryPut(name: string, key: string, value: unknown, ack: 'local' | 'relay' = 'local'): Promise<{ level: string } | { code: string; message: string }> {
    try {
      return { level: (await client(name).collection('notes').put(key, value, { ack })).level };
    } catch (error) {
      if (error instanceof ConvergeError) return { code: error.code, message: error.message };
      throw error;
    }
  },
  async get(name: string, key: string): Promise<unknown> {
    return (await client(name).collection('notes').get(key))?.value;
  },
  async increment(name: string, key: string, item: string, by: number): Promise<void> {
    await client(name).collection('carts').increment(key, item, by);
  },
  async cart(name: string, key: string): Promise<Record<string, number> | undefined> {
    const value = (await client(name).collection<Map<string, number>>('carts').get(key))?.value;
    return value === undefined ? undefined : Object.fromEntries(value);
  },
  async outbox(name: string): Promise<{ writeId: string; key: string }[]> {
    return (await client(name).outbox()).map((w) => ({ writeId: w.writeId, key: w.key }));
  },
  async writeNumber(name: string): Promise<number | undefined> {
    return (await replicaOf(client(name)).record())?.writeNumber;
  },
  /** `exportData` collected into a Blob (as an app saves it), read back as text to leave the page. */
  async exportBlobText(name: string): Promise<string> {
    return (await exportToBlob(client(name).exportData())).text();
  },
  /** `importData` from a Blob (as from a file the user picked). */
  async importBlob(name: string, text: string): Promise<{ replicaId: string; documents: number; pending: number; rejected: number }> {
    return { ...(await client(name).importData(new Blob([text], { type: 'application/x-ndjson' }))) };
  },
  async record(name: string): Promise<{ id: string; retired: readonly string[] } | undefined> {
    const rep = await replicaOf(client(name)).record();
    return rep === undefined ? undefined : { id: rep.id, retired: rep.retired };
  },
  /** The replica id each pending write is written under. */
  async pendingReplicas(name: string): Promise<string[]> {
    return (await replicaOf(client(name)).pendingWrites()).map((e) => e.replica);
  },
  pause(name: string): void {
    client(name).pause();
  },
  resume(name: string): void {
    client(name).resume();
  },
  status(name: string) {
    const s = client(name).status.get();
    return { connection: s.connection, pending: s.pending, role: s.role, storage: s.storage, error: s.error?.message };
  },
  async whenSynced(name: string, timeoutMs = 10_000): Promise<void> {
    await client(name).whenSynced({ timeoutMs });
  },
  async close(name: string): Promise<void> {
    await client(name).close();
    clients.delete(name);
  },
};

(globalThis as { converge?: typeof api }).converge = api;
document.title = 'ready';

export type BrowserApi = typeof api;
