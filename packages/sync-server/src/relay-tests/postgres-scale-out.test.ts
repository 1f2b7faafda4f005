import { randomBytes } from 'node:crypto';
import type { ChangesFrame } from '@converge/protocol';
import postgres from 'postgres';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RelayOptions } from '../relay-options.js';
import type { PostgresStore } from '../store/postgres-store.js';
import type { RelayStore, StoreTx } from '../store/relay-store.js';
import { TEST_DATABASE_URL, TestSchemas } from '../testing/postgres-fixture.js';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';
import { spawnRelay, stopped, type RelayProcess } from './relay-process.js';

// Several relays over one PostgreSQL database (issue 13 §2). Every relay here has a schema of
// its own test's, dropped at the end; without a reachable PostgreSQL these tests fail.
const schemas = new TestSchemas();
const relays: TestRelay[] = [];
const processes: RelayProcess[] = [];
const clients: ProtocolClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const relay of relays.splice(0)) await relay.close();
  for (const { child } of processes.splice(0)) {
    child.kill('SIGTERM');
    await stopped(child);
  }
});
afterAll(() => schemas.dropAll());

const SECRET = 'scale-out-test-cursor-secret';

async function relayOn(schema: string, options: Partial<RelayOptions> = {}, wrap: (store: PostgresStore) => RelayStore = (store) => store): Promise<TestRelay> {
  const store = await schemas.open(schema);
  const relay = await startTestRelay({ cursorSecret: SECRET, ...options, store: wrap(store) });
  relays.push(relay);
  return relay;
}

async function client(url: string, replicaId: string, subscribe = true): Promise<ProtocolClient> {
  const c = await ProtocolClient.connect(url, { replicaId, subscriptions: subscribe ? [{ collection: 'notes', cursor: null }] : [] });
  clients.push(c);
  await c.next('welcome');
  if (subscribe) await c.next('changes', (f) => f.done === true);
  return c;
}

/** The `notes` frames a client received, in order. */
function notesFrames(c: ProtocolClient): ChangesFrame[] {
  return c.frames.filter((f): f is ChangesFrame => f.type === 'changes' && f.collection === 'notes');
}

/** Waits (bounded) until the client's `notes` watermark reaches `seq`. */
async function reach(c: ProtocolClient, seq: number, timeoutMs = 20_000): Promise<void> {
  await c.next('changes', (f) => f.collection === 'notes' && f.watermark >= seq, timeoutMs);
}

/** The seqs of the docs a client received for `notes`, in the order received; watermarks never go back. */
function seqsSeen(c: ProtocolClient): number[] {
  const frames = notesFrames(c);
  for (let i = 1; i < frames.length; i++) expect(frames[i]!.watermark).toBeGreaterThanOrEqual(frames[i - 1]!.watermark);
  return frames.flatMap((f) => f.docs.map((doc) => doc.seq));
}

describe('relays over one PostgreSQL database', () => {
  it('a subscriber on relay B sees a change pushed to relay A, in order, nothing skipped', async () => {
    const schema = schemas.name('fan');
    const a = await relayOn(schema);
    const b = await relayOn(schema);
    const watcher = await client(b.url, 'watcherBBBBBBBBBBBBBBBB');
    const writer = await client(a.url, 'writerAAAAAAAAAAAAAAAAA', false);
    for (let i = 0; i < 20; i++) {
      const ack = await writer.push([writer.blind('notes', `k${i}`, i), writer.blind('notes', `j${i}`, i)]);
      expect(ack.results.map((r) => r.status)).toEqual(['accepted', 'accepted']);
    }
    await reach(watcher, 40);
    expect(seqsSeen(watcher)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(watcher.states.get('notes/k19')).toEqual(writer.states.get('notes/k19'));
  });

  it('a lost commit notice is healed by the periodic head check', async () => {
    const schema = schemas.name('heal');
    const a = await relayOn(schema);
    // Relay B hears no notice at all: only its head check brings A's commits.
    const deaf = (store: PostgresStore): RelayStore =>
      new Proxy(store, {
        get(target, name) {
          if (name === 'watchCommits') return () => () => undefined;
          const value: unknown = Reflect.get(target, name, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    const b = await relayOn(schema, { headCheckMs: 100 }, deaf);
    const watcher = await client(b.url, 'watcherBBBBBBBBBBBBBBBB');
    const writer = await client(a.url, 'writerAAAAAAAAAAAAAAAAA', false);
    for (let i = 0; i < 5; i++) await writer.push([writer.blind('notes', `k${i}`, i)]);
    await reach(watcher, 5);
    expect(seqsSeen(watcher)).toEqual([1, 2, 3, 4, 5]);
  });

  it('leader-follower: two relays never both accept conflicting writes from the same context', async () => {
    const schema = schemas.name('lf');
    const collections = { stock: { mode: 'leader-follower' as const, strategy: 'lww' as const } };
    const a = await relayOn(schema, { collections });
    const b = await relayOn(schema, { collections });
    const one = await client(a.url, 'writerOneAAAAAAAAAAAAAA', false);
    const two = await client(b.url, 'writerTwoBBBBBBBBBBBBBB', false);
    const seed = await one.push([one.write('stock', 'milk', 10)]);
    expect(seed.results[0]).toMatchObject({ status: 'accepted' });
    // Both have seen the seed (the same context) and write against it at once, 10 keys over.
    two.states.set('stock/milk', one.states.get('stock/milk')!);
    for (let round = 0; round < 10; round++) {
      const key = `item${round}`;
      const base = await one.push([one.write('stock', key, 0)]);
      expect(base.results[0]).toMatchObject({ status: 'accepted' });
      two.states.set(`stock/${key}`, one.states.get(`stock/${key}`)!);
      const [fromOne, fromTwo] = await Promise.all([one.push([one.write('stock', key, 1)]), two.push([two.write('stock', key, 2)])]);
      const statuses = [fromOne.results[0]!.status, fromTwo.results[0]!.status].sort();
      expect(statuses, `round ${round}`).toEqual(['accepted', 'rejected']);
    }
  });

  it('a push whose connection is cut after judging, before anything of its commit was sent, is committed on a new connection: acked once, stored once, and a re-send gets the same seq', async () => {
    const schema = schemas.name('cut');
    const applicationName = `converge-test-${randomBytes(4).toString('hex')}`;
    let cutNext = false;
    // The next transaction loses its connection after judging, before it commits.
    const cutting = (store: PostgresStore): RelayStore =>
      new Proxy(store, {
        get(target, name) {
          if (name === 'transact') {
            return <T>(fn: (tx: StoreTx) => Promise<T> | T) =>
              target.transact(async (tx) => {
                const result = await fn(tx);
                if (cutNext) {
                  cutNext = false;
                  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
                  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${applicationName} AND state = 'idle in transaction'`;
                  await admin.end({ timeout: 1 });
                }
                return result;
              });
          }
          const value: unknown = Reflect.get(target, name, target);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    const store = await schemas.open(schema, { applicationName });
    const relay = await startTestRelay({ cursorSecret: SECRET, store: cutting(store) });
    relays.push(relay);
    const writer = await client(relay.url, 'writerAAAAAAAAAAAAAAAAA', false);
    const change = writer.blind('notes', 'k', 'v');
    cutNext = true;
    const ack = await writer.push([change]);
    expect(ack.results[0]).toMatchObject({ status: 'accepted', seq: 1 });
    expect(cutNext).toBe(false); // the cut did happen
    expect((await store.head('notes')).seq).toBe(1);
    expect((await writer.push([change])).results[0]).toMatchObject({ status: 'accepted', seq: 1 });
    expect((await store.head('notes')).seq).toBe(1);
  });

  it('3 relay processes, pushes to one collection from all: every subscriber sees the same gap-free sequence and one chain', async () => {
    const schema = schemas.name('three');
    const args = ['--store', TEST_DATABASE_URL, '--schema', schema, '--cursor-secret', SECRET];
    // The first creates the schema; the other two start together against it.
    processes.push(await spawnRelay(args));
    processes.push(...(await Promise.all([spawnRelay(args), spawnRelay(args)])));
    const subscribers = await Promise.all(processes.map((p, i) => client(p.url, `subscriber${i}AAAAAAAAAAAAA`)));
    const writers = await Promise.all(processes.map((p, i) => client(p.url, `writer${i}BBBBBBBBBBBBBBBB`, false)));
    const pushes = 30;
    const perPush = 4;
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 0; i < pushes; i++) {
          const changes = Array.from({ length: perPush }, (_, j) => writer.blind('notes', `w${w}-${i}-${j}`, { w, i, j }));
          const ack = await writer.push(changes);
          expect(ack.results.every((r) => r.status === 'accepted')).toBe(true);
        }
      }),
    );
    const total = writers.length * pushes * perPush;
    await Promise.all(subscribers.map((s) => reach(s, total)));
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    const keysBySeq = (s: ProtocolClient) => notesFrames(s).flatMap((f) => f.docs.map((doc) => `${doc.seq}:${doc.key}`));
    for (const s of subscribers) expect(seqsSeen(s)).toEqual(expected);
    expect(keysBySeq(subscribers[1]!)).toEqual(keysBySeq(subscribers[0]!));
    expect(keysBySeq(subscribers[2]!)).toEqual(keysBySeq(subscribers[0]!));
    // Every subscriber's last cursor is signed at the same chain hash: the store's.
    const store = await schemas.open(schema);
    try {
      const head = await store.head('notes');
      expect(head.seq).toBe(total);
      for (const s of subscribers) expect(notesFrames(s).at(-1)!.cursor).toMatchObject({ seq: total, hash: head.hash });
    } finally {
      await store.close();
    }
  });
});
