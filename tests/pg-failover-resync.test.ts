// A failover that loses writes acknowledged at `relay`, seen by clients that stay connected
// through it (issue 13 §6): the relay, seeing the new timeline, must not go on from the old
// timeline's positions. A subscriber connected through the failover gets the new primary's
// commits (their seqs reuse the lost ones'), and the writer whose `relay`-acked writes are gone
// re-pushes them (its cursor no longer matches the log: resync, accepted in the recovery window).
import { createClient, type Client } from '@converge/client';
import { eventually } from '@converge/client/testing';
import { PostgresStore } from '@converge/sync-server';
import { startPgCluster, startTestRelay, type PgCluster, type PgNode, type TestRelay } from '@converge/sync-server/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { siblingDots } from './pg-dots.js';

let cluster: PgCluster;
let relay: TestRelay;
const clients: Client[] = [];

beforeAll(async () => {
  // One asynchronous standby: what it lacks when the primary dies is lost.
  cluster = await startPgCluster({ standbys: 1, synchronous: null });
  const store = await PostgresStore.open(cluster.multiHostUrl(), { schema: 'resync', maxConnections: 4 });
  // No periodic head check in this test: the relay learns of the failover from the timeline alone.
  relay = await startTestRelay({ store, cursorSecret: 'resync-secret', headCheckMs: 600_000 });
}, 90_000);

afterAll(async () => {
  for (const client of clients) await client.close();
  await relay?.close();
  await cluster?.stop();
});

async function open(name: string): Promise<Client> {
  const client = await createClient({
    name,
    url: relay.url,
    WebSocket: WebSocket as never,
    storage: 'memory',
    tabs: false,
    ackTimeoutMs: 20_000,
    backoff: { baseMs: 50, maxMs: 300 },
    collections: { notes: {} },
  });
  clients.push(client);
  await client.whenSynced({ timeoutMs: 10_000 });
  return client;
}

/** Waits (at most 20 s) until `check` holds; a timeout fails with `what`. */
const until = (what: string, check: () => Promise<boolean>): Promise<void> => eventually(async () => expect(await check(), what).toBe(true), 20_000, 50);

const keysOf = async (client: Client) => new Set((await client.collection('notes').scan()).map((doc) => doc.key));

/** key → the dots of its siblings, as `node` holds them (every key is in `notes`). */
async function held(node: PgNode): Promise<Map<string, string[]>> {
  return new Map([...(await siblingDots(cluster, node, 'resync'))].map(([path, dots]) => [path.slice('notes/'.length), dots]));
}

it('clients connected through a failover that lost relay-acked writes: the subscriber gets the new timeline, the writer re-pushes what was lost', async () => {
  const writer = await open('writer');
  const reader = await open('reader');
  const dots = new Map<string, string>();
  writer.on('written', (event) => dots.set(event.key, `${event.dot[0]}:${event.dot[1]}`));

  await writer.collection('notes').put('before', 1, { ack: 'relay' });
  const [standby] = cluster.standbys;
  await until('the standby has the first write', async () => (await held(standby!)).has('before'));
  // The standby stops receiving: the next writes live on the primary only.
  const sql = cluster.client(standby!);
  await sql`ALTER SYSTEM SET primary_conninfo = ''`;
  await sql`SELECT pg_reload_conf()`;
  await sql.end();
  await until('the standby stopped receiving', async () => {
    const probe = cluster.client(standby!);
    const rows = await probe`SELECT 1 FROM pg_stat_wal_receiver`;
    await probe.end();
    return rows.length === 0;
  });
  for (const key of ['lost1', 'lost2', 'lost3']) await writer.collection('notes').put(key, key, { ack: 'relay' });
  await until('the reader sees the writes live', async () => (await keysOf(reader)).has('lost3'));

  await cluster.kill(cluster.primary, 'SIGKILL');
  const promotion = await cluster.promoteMostUpToDate();
  expect([...(await held(promotion.node)).keys()]).toEqual(['before']); // lost1..3 are gone

  // A third client writes on the new timeline: its commits take the seqs the lost writes had.
  const other = await open('other');
  for (const key of ['after1', 'after2', 'after3', 'after4']) await other.collection('notes').put(key, key, { ack: 'relay' });

  const all = ['before', 'lost1', 'lost2', 'lost3', 'after1', 'after2', 'after3', 'after4'];
  await until('the reader, connected through the failover, holds every write', async () => {
    const keys = await keysOf(reader);
    return all.every((key) => keys.has(key));
  });
  await until('the writer re-pushed its lost writes: the primary holds them with their dots', async () => {
    const now = await held(promotion.node);
    return ['lost1', 'lost2', 'lost3'].every((key) => now.get(key)?.includes(dots.get(key)!) === true);
  });
  await until('the writer holds every write', async () => {
    const keys = await keysOf(writer);
    return all.every((key) => keys.has(key));
  });
}, 120_000);
