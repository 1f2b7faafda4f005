// End to end: real @converge/client instances against a relay over a real PostgreSQL primary
// with two synchronous standbys (`ANY 1 (s1, s2)`): `put(…, {ack: 'quorum'})` resolves once the
// relay confirms the quorum, and the write's status climbs local → relay → quorum → all; a
// confirm cut off by a dropped connection is asked for again by the next session.
import type { Socket } from 'node:net';
import { createClient, type Client, type WriteReceipt } from '@converge/client';
import { eventually } from '@converge/client/testing';
import { PostgresStore } from '@converge/sync-server';
import { startPgCluster, startTestRelay, type PgCluster, type TestRelay } from '@converge/sync-server/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';

let cluster: PgCluster;
let relay: TestRelay;
const clients: Client[] = [];

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1' });
  const store = await PostgresStore.open(cluster.primary.url, { schema: 'e2e', maxConnections: 4 });
  relay = await startTestRelay({ store, cursorSecret: 'e2e-secret' });
}, 90_000);

afterAll(async () => {
  for (const client of clients) await client.close();
  await relay?.close();
  await cluster?.stop();
});

async function open(name: string, ackTimeoutMs = 20_000): Promise<Client> {
  const client = await createClient({
    name,
    url: relay.url,
    WebSocket: WebSocket as never,
    storage: 'memory',
    tabs: false,
    ackTimeoutMs,
    collections: { notes: {} },
  });
  clients.push(client);
  return client;
}

it("put(…, {ack: 'quorum'}) resolves at quorum and put(…, {ack: 'all'}) at all; each write's status climbs one level at a time", async () => {
  const client = await open('e2e-writer');
  const seen = new Map<string, string[]>();
  client.watchOutbox((_pending, settled) => {
    for (const status of settled) seen.set(status.writeId, [...(seen.get(status.writeId) ?? []), status.status]);
  });
  const quorum = await client.collection('notes').put('q', 'held by a quorum', { ack: 'quorum' });
  expect((await client.writeStatus(quorum.writeId))?.status).toBe('quorum');
  const all = await client.collection('notes').put('a', 'held by every standby', { ack: 'all' });
  expect((await client.writeStatus(all.writeId))?.status).toBe('all');
  // Only forward, in order: relay before quorum before all (each level reported as the relay confirms it).
  const order = ['local', 'relay', 'quorum', 'all'];
  for (const id of [quorum.writeId, all.writeId]) {
    const statuses = seen.get(id) ?? [];
    expect(statuses.map((s) => order.indexOf(s))).toEqual([...statuses.map((s) => order.indexOf(s))].sort());
  }
  expect(seen.get(all.writeId)?.at(-1)).toBe('all');
  // Another client reads what was written.
  const reader = await open('e2e-reader');
  await reader.whenSynced({ timeoutMs: 10_000 });
  expect((await reader.collection('notes').get('q'))?.value).toBe('held by a quorum');
});

it("a confirm cut off by a dropped connection is asked for again: put(…, {ack: 'quorum'}) resolves at quorum on the next connection", async () => {
  // Every socket the relay upgrades, so the test can cut them at the relay.
  const sockets = new Set<Socket>();
  const upgraded = (_request: unknown, socket: Socket) => void sockets.add(socket);
  relay.server.on('upgrade', upgraded);
  const client = await open('e2e-cut-off', 60_000);
  await client.whenSynced({ timeoutMs: 10_000 });
  const statuses: string[] = [];
  client.watchOutbox((_pending, settled) => statuses.push(...settled.map((s) => s.status)));
  // Both standbys frozen: the primary commits, and nothing can confirm a quorum.
  for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
  let outcome: Promise<{ receipt: WriteReceipt } | { error: unknown }>;
  try {
    outcome = client
      .collection('notes')
      .put('cut', 'asked for again', { ack: 'quorum' })
      .then(
        (receipt) => ({ receipt }),
        (error: unknown) => ({ error }),
      );
    await eventually(() => expect(statuses).toContain('relay'), 10_000);
    const cut = [...sockets];
    for (const socket of cut) socket.destroy(); // the relay's confirm for this session can no longer arrive
    await eventually(() => expect([...sockets].some((s) => !cut.includes(s))).toBe(true), 15_000);
    await eventually(() => expect(client.status.get().connection).not.toBe('connecting'), 15_000);
  } finally {
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGCONT');
    relay.server.off('upgrade', upgraded);
  }
  const settled = await outcome;
  expect(settled).toHaveProperty('receipt');
  const { receipt } = settled as { receipt: WriteReceipt };
  expect((await client.writeStatus(receipt.writeId))?.status).toBe('quorum');
  expect(statuses.at(-1)).toBe('quorum');
}, 90_000);
