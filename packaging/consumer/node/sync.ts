// Run with Node from the installed tarballs: a relay in this process (SQLite, so better-sqlite3's
// install script must have run), two clients with the memory storage and `ws` as their WebSocket.
// Each writes the same key while offline; once both have synced, each reads both versions.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '@converge/client';
import { createRelay, SqliteStore } from '@converge/sync-server';
import { WebSocket } from 'ws';

interface Note {
  readonly text: string;
}

const TIMEOUT_MS = 20_000;
const dir = mkdtempSync(join(tmpdir(), 'converge-node-'));
const relay = createRelay({ store: new SqliteStore(join(dir, 'relay.db')), cursorSecret: 'pack-install-cursor-secret' });
const server = createServer((request, response) => {
  if (!relay.handleRequest(request, response)) response.writeHead(404).end();
});
relay.attach(server);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`;

/** Every version of the note a client reads: the value and its conflicts, sorted. */
async function versions(client: Client): Promise<string[]> {
  const doc = await client.collection<Note>('notes').get('n-1');
  if (doc === undefined) return [];
  return [doc.value, ...doc.conflicts.map((conflict) => conflict.value)].map((note) => note?.text ?? '(deleted)').sort();
}

/** Resolves once the client reads `count` versions of the note (bounded in time). */
function untilVersions(client: Client, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no ${count} versions within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    const stop = client.collection<Note>('notes').watch('n-1', () => void check());
    function finish(error: Error | undefined, found: string[] = []): void {
      clearTimeout(timer);
      stop();
      if (error === undefined) resolve(found);
      else reject(error);
    }
    async function check(): Promise<void> {
      const found = await versions(client);
      if (found.length >= count) finish(undefined, found);
    }
    void check();
  });
}

const open = (name: string) => createClient({ name, url, WebSocket, storage: 'memory', paused: true });
const laptop = await open('laptop');
const phone = await open('phone');
try {
  // Offline (paused: no socket at all), each writes the note without having seen the other's.
  await laptop.collection<Note>('notes').put('n-1', { text: 'from the laptop' });
  await phone.collection<Note>('notes').put('n-1', { text: 'from the phone' });
  const pendingBefore = [laptop.status.get().pending, phone.status.get().pending];
  laptop.resume();
  phone.resume();
  await Promise.all([laptop.whenSynced({ timeoutMs: TIMEOUT_MS }), phone.whenSynced({ timeoutMs: TIMEOUT_MS })]);
  const [onLaptop, onPhone] = await Promise.all([untilVersions(laptop, 2), untilVersions(phone, 2)]);
  const pendingAfter = [laptop.status.get().pending, phone.status.get().pending];
  console.log(`RESULT ${JSON.stringify({ pendingBefore, pendingAfter, laptop: onLaptop, phone: onPhone })}`);
} finally {
  await laptop.close();
  await phone.close();
  await relay.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
}
