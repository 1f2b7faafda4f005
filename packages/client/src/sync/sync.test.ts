import { AckTimeoutError, ConvergeError, QuorumUnavailableError } from '@converge/conflict';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { replicaOf, type Client } from '../client.js';
import type { ClientStatus } from '../status.js';
import type { Transport } from './transport.js';
import { createMemoryStorage } from '../storage/memory-storage.js';
import { clientSet, dbName, relayClientSet } from '../testing/client-set.js';
import { eventually } from '../testing/eventually.js';
import { startRelayFixture, type RelayFixture } from '../testing/relay-fixture.js';

const COLLECTIONS = {
  carts: { mode: 'multi-leader', strategy: 'cart' },
  stock: { mode: 'leader-follower', strategy: 'lww' },
} as const;

/** Resolves once the client's next connection attempt has failed: `connecting`, then `offline`. */
const failedAttempt = (client: Client) =>
  new Promise<void>((resolve) => {
    let connecting = false;
    const stop = client.status.subscribe((s) => {
      if (s.connection === 'connecting') connecting = true;
      else if (connecting && s.connection === 'offline') {
        queueMicrotask(() => stop());
        resolve();
      }
    });
  });

/** Resolves once the client's status satisfies `done` (heard through `status.subscribe`, no polling). */
const statusWhen = (client: Client, done: (s: ClientStatus) => boolean) =>
  new Promise<void>((resolve) => {
    const stop = client.status.subscribe((s) => {
      if (!done(s)) return;
      queueMicrotask(() => stop());
      resolve();
    });
  });

/** Timers under the test's control (the relay's group commit runs on setImmediate, left real). */
const fakeTimers = (withDate = false) =>
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', ...(withDate ? (['Date'] as const) : [])] });

const values = async (client: Client, collection: string, key: string) => {
  const doc = await client.collection(collection).get(key);
  return doc === undefined ? undefined : { value: doc.value, conflicts: doc.conflicts.map((c) => c.value).sort() };
};

// One sync suite, over the in-memory transport and over WebSocket, against a real relay on SQLite.
describe.each(['memory', 'ws'] as const)('sync with a real relay (%s transport, SQLite)', (via) => {
  let relay: RelayFixture;
  const clients = clientSet(() => ({ transport: via === 'ws' ? relay.ws : relay.memory, collections: { carts: { strategy: 'cart' }, notes: {} } }));
  beforeEach(async () => {
    relay = await startRelayFixture({ collections: COLLECTIONS });
  });
  afterEach(async () => {
    await clients.closeAll();
    await relay.close();
  });

  it('two clients edit offline, reconnect, and converge to identical values and conflicts', async () => {
    const a = await clients.open(dbName('a'));
    const b = await clients.open(dbName('b'));
    a.pause();
    b.pause();
    await a.collection('notes').put('shared', 'from a');
    await b.collection('notes').put('shared', 'from b');
    await a.collection('notes').put('only-a', 1);
    await b.collection('notes').put('only-b', 2);
    a.resume();
    b.resume();
    await eventually(async () => {
      for (const key of ['shared', 'only-a', 'only-b']) expect(await values(a, 'notes', key)).toEqual(await values(b, 'notes', key));
      expect((await a.collection('notes').get('shared'))?.conflicts).toHaveLength(1);
    });
    const shared = await values(a, 'notes', 'shared');
    expect([shared?.value, ...(shared?.conflicts ?? [])].sort()).toEqual(['from a', 'from b']);
  });

  it('three clients with concurrent offline edits converge; a resolve covers the conflicts everywhere', async () => {
    const [a, b, c] = await Promise.all([clients.open(dbName('a')), clients.open(dbName('b')), clients.open(dbName('c'))]);
    for (const x of [a, b, c]) x.pause();
    await a.collection('notes').put('k', 'a');
    await b.collection('notes').put('k', 'b');
    await c.collection('notes').put('k', 'c');
    for (const x of [a, b, c]) x.resume();
    await eventually(async () => expect((await a.collection('notes').get('k'))?.conflicts).toHaveLength(2));
    await eventually(async () => {
      const [va, vb, vc] = await Promise.all([values(a, 'notes', 'k'), values(b, 'notes', 'k'), values(c, 'notes', 'k')]);
      expect(vb).toEqual(va);
      expect(vc).toEqual(va);
    });
    await b.collection('notes').resolve('k', 'abc');
    await eventually(async () => {
      for (const x of [a, b, c]) expect(await values(x, 'notes', 'k')).toEqual({ value: 'abc', conflicts: [] });
    });
  });

  it('cart increments from two offline clients add up exactly', async () => {
    const a = await clients.open(dbName('a'));
    const b = await clients.open(dbName('b'));
    await a.collection('carts').increment('cart', 'apple', 1, { ack: 'relay' });
    await eventually(async () => expect((await b.collection('carts').get('cart'))?.value).toEqual(new Map([['apple', 1]])));
    a.pause();
    b.pause();
    for (let i = 0; i < 3; i++) await a.collection('carts').increment('cart', 'apple', 2);
    for (let i = 0; i < 4; i++) await b.collection('carts').increment('cart', 'apple', 1);
    await b.collection('carts').increment('cart', 'pear', 5);
    a.resume();
    b.resume();
    const expected = new Map([
      ['apple', 11],
      ['pear', 5],
    ]);
    await eventually(async () => {
      expect((await a.collection('carts').get('cart'))?.value).toEqual(expected);
      expect((await b.collection('carts').get('cart'))?.value).toEqual(expected);
    });
  });

  it("ack 'relay' resolves only once the relay committed: with the relay down it waits, and after a restart the write is re-sent and resolves", async () => {
    const a = await clients.open(dbName('a'), { ackTimeoutMs: 30_000 });
    await a.whenSynced({ timeoutMs: 5000 });
    await relay.stop();
    let resolved = false;
    const write = a.collection('notes').put('durable', 'yes', { ack: 'relay' });
    void write.then(() => (resolved = true));
    await failedAttempt(a); // the client tried the relay again after the write: it is not there
    expect(resolved).toBe(false);
    expect((await a.outbox()).map((w) => w.key)).toEqual(['durable']);
    await relay.start();
    const receipt = await write;
    expect(receipt.level).toBe('relay');
    const fresh = await clients.open(dbName('fresh'));
    await eventually(async () => expect((await fresh.collection('notes').get('durable'))?.value).toBe('yes'));
  });

  it('a level not reached in time rejects with AckTimeoutError naming the level reached; the write stays queued and syncs later', async () => {
    const a = await clients.open(dbName('a'), { ackTimeoutMs: 150 });
    await relay.stop();
    const error = await a
      .collection('notes')
      .put('late', 1, { ack: 'quorum' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(AckTimeoutError);
    expect((error as AckTimeoutError).reached).toBe('local');
    expect((error as AckTimeoutError).code).toBe('ack_timeout');
    expect((await a.outbox()).map((w) => [w.key, w.status, w.ack])).toEqual([['late', 'local', 'quorum']]);
    await relay.start();
    await a.whenSynced({ timeoutMs: 10_000 });
    expect(await a.outbox()).toEqual([]);
  });

  it("a collection the app did not declare follows the relay's configuration (here a cart)", async () => {
    const name = dbName('a');
    const fresh = await clients.open(dbName('fresh'), { collections: {}, transport: undefined });
    expect(fresh.collection('carts').spec.strategy).toBe('siblings'); // it has not met the relay yet
    const a = await clients.open(name, { collections: {} });
    await a.whenSynced({ timeoutMs: 5000 });
    await a.collection('carts').increment('cart', 'apple', 2, { ack: 'relay' });
    expect((await a.collection('carts').get('cart'))?.value).toEqual(new Map([['apple', 2]]));
    await a.close();
    const offline = await clients.open(name, { collections: {}, transport: undefined }); // e.g. another tab, offline
    expect(offline.collection('carts').spec.strategy).toBe('cart');
    expect((await offline.collection('carts').get('cart'))?.value).toEqual(new Map([['apple', 2]]));
  });

  it('the outbox is observable; get() says pending until the relay holds the write, then confirmed', async () => {
    const a = await clients.open(dbName('a'));
    await a.whenSynced({ timeoutMs: 5000 });
    const seen: string[][] = [];
    const stop = a.watchOutbox((writes) => seen.push(writes.map((w) => `${w.key}:${w.status}`)));
    a.pause();
    await a.collection('notes').put('k', 1);
    expect(await a.collection('notes').get('k')).toMatchObject({ value: 1, pending: true, confirmed: false });
    await eventually(() => expect(seen.at(-1)).toEqual(['k:local']));
    a.resume();
    await eventually(() => expect(seen.at(-1)).toEqual([]));
    expect(await a.collection('notes').get('k')).toMatchObject({ value: 1, pending: false, confirmed: true });
    stop();
  });

  it('watch fires once per local write and once per remote change: the relay confirming a write is no second call', async () => {
    const a = await clients.open(dbName('a'));
    const b = await clients.open(dbName('b'));
    await Promise.all([a.whenSynced({ timeoutMs: 5000 }), b.whenSynced({ timeoutMs: 5000 })]);
    const seen: unknown[] = [];
    const stop = a.collection('notes').watch('k', (events) => seen.push(...events.map((e) => e.doc?.value)));
    await a.collection('notes').put('k', 1, { ack: 'relay' });
    await a.collection('notes').put('k', 2, { ack: 'relay' });
    await eventually(async () => expect((await b.collection('notes').get('k'))?.value).toBe(2));
    await b.collection('notes').put('k', 3);
    // b's write follows a's in the relay's log: once a sees it, the echoes of a's own writes are in too.
    await eventually(() => expect(seen.at(-1)).toBe(3));
    expect(seen).toEqual([1, 2, 3]);
    stop();
  });

  it("a write's status moves local → the level the relay's ack named, stays readable after it left the outbox (and after a restart), and watchOutbox reports it leaving", async () => {
    const name = dbName('status');
    const a = await clients.open(name);
    await a.whenSynced({ timeoutMs: 5000 });
    const left: string[] = [];
    const stop = a.watchOutbox((_writes, settled) => left.push(...settled.map((s) => `${s.key}:${s.status}`)));
    a.pause();
    const { writeId } = await a.collection('notes').put('k', 1);
    expect(await a.writeStatus(writeId)).toMatchObject({ writeId, collection: 'notes', key: 'k', status: 'local' });
    a.resume();
    await eventually(() => expect(left).toEqual(['k:relay']));
    expect(await a.writeStatus(writeId)).toMatchObject({ key: 'k', status: 'relay' });
    // A relay without synchronous standbys never claims more than its commit: `all` fails with
    // quorum_unavailable, naming the level reached, and the write is held at relay.
    const all = await a
      .collection('notes')
      .put('k2', 2, { ack: 'all' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(all).toBeInstanceOf(QuorumUnavailableError);
    expect(all).toMatchObject({ code: 'quorum_unavailable', wanted: 'all', reached: 'relay' });
    await eventually(() => expect(left).toEqual(['k:relay', 'k2:relay']));
    expect(await a.outbox()).toEqual([]);
    stop();
    expect(await a.writeStatus('nobody:1')).toBeUndefined();
    await a.close();
    const again = await clients.open(name, { transport: undefined });
    expect(await again.writeStatus(writeId)).toMatchObject({ status: 'relay' });
  });

  it('leader-follower: a stale write is rolled back with a rejected event, kept in rejected(), and retry writes it over the current value', async () => {
    const stock = { stock: { mode: 'leader-follower', strategy: 'lww' } } as const;
    const a = await clients.open(dbName('a'), { collections: stock });
    const b = await clients.open(dbName('b'), { collections: stock });
    await a.collection('stock').put('sku', 10, { ack: 'relay' });
    await eventually(async () => expect((await b.collection('stock').get('sku'))?.value).toBe(10));
    await a.collection('stock').get('sku');
    b.pause();
    await a.collection('stock').put('sku', 9, { ack: 'relay' });
    const events: unknown[] = [];
    b.on('rejected', (e) => events.push([e.key, e.code]));
    const refused = b.collection('stock').put('sku', 8, { ack: 'relay' });
    expect((await b.collection('stock').get('sku'))?.value).toBe(8); // optimistic, pending
    expect((await b.collection('stock').get('sku'))?.pending).toBe(true);
    b.resume();
    await expect(refused).rejects.toMatchObject({ code: 'conflict_rejected' });
    expect(events).toEqual([['sku', 'conflict_rejected']]);
    const rolledBack = await b.collection('stock').get('sku');
    expect(rolledBack?.value).toBe(9);
    expect(rolledBack?.pending).toBe(false);
    const [rejected] = await b.rejected();
    expect(rejected).toMatchObject({ key: 'sku', code: 'conflict_rejected', value: 8, status: 'rejected' });
    await rejected!.retry({ ack: 'relay' });
    expect(await b.rejected()).toEqual([]);
    await eventually(async () => expect((await a.collection('stock').get('sku'))?.value).toBe(8));
  });

  it('leader-follower: onReject rebases a refused write on the current value', async () => {
    const stock = {
      stock: {
        mode: 'leader-follower' as const,
        strategy: 'lww' as const,
        onReject: (attempted: number | undefined, current: number | undefined) => (current ?? 0) - (10 - (attempted ?? 10)),
      },
    };
    const a = await clients.open(dbName('a'), { collections: stock });
    const b = await clients.open(dbName('b'), { collections: stock });
    const refusals: unknown[] = [];
    b.on('rejected', (e) => refusals.push({ code: e.code, rebased: e.rebased }));
    await a.collection('stock').put('sku', 10, { ack: 'relay' });
    await eventually(async () => expect((await b.collection('stock').get('sku'))?.value).toBe(10));
    await a.collection('stock').get('sku');
    b.pause();
    await a.collection('stock').put('sku', 9, { ack: 'relay' }); // a sold one
    await b.collection('stock').put('sku', 7); // b sold three, from a stale read of 10
    b.resume();
    await eventually(async () => {
      expect((await a.collection('stock').get('sku'))?.value).toBe(6);
      expect((await b.collection('stock').get('sku'))?.value).toBe(6);
    });
    expect(await b.rejected()).toEqual([]);
    expect(refusals).toEqual([{ code: 'conflict_rejected', rebased: true }]);
  });

  it('restarting a client on the same database keeps data, outbox and cursor', async () => {
    const name = dbName('restart');
    const a = await clients.open(name);
    await a.collection('notes').put('synced', 1, { ack: 'relay' });
    await eventually(() => expect(a.status.get().positions['notes']).toBeGreaterThanOrEqual(1));
    a.pause();
    await a.collection('notes').put('offline', 2);
    await a.close();
    const again = await clients.open(name, { transport: undefined });
    expect((await again.collection('notes').get('synced'))?.value).toBe(1);
    expect((await again.outbox()).map((w) => w.key)).toEqual(['offline']);
    const [cursor] = await replicaOf(again).cursors(['notes']);
    expect(cursor?.seq).toBeGreaterThanOrEqual(1);
    await again.close();
    const online = await clients.open(name);
    await online.whenSynced({ timeoutMs: 5000 });
    const other = await clients.open(dbName('other'));
    await eventually(async () => expect((await other.collection('notes').get('offline'))?.value).toBe(2));
  });

  it('status moves offline → connecting → syncing → synced; pause goes offline, resume syncs again', async () => {
    const seen: string[] = [];
    const a = await clients.open(dbName('a'));
    a.status.subscribe((s) => {
      if (seen[seen.length - 1] !== s.connection) seen.push(s.connection);
    });
    await a.whenSynced({ timeoutMs: 5000 });
    a.pause();
    expect(a.status.get()).toMatchObject({ connection: 'offline', paused: true });
    await a.collection('notes').put('x', 1);
    expect(a.status.get().pending).toBe(1);
    a.resume();
    await a.whenSynced({ timeoutMs: 5000 });
    expect(a.status.get().pending).toBe(0);
    expect(seen.slice(0, 2)).toEqual(['connecting', 'syncing'].includes(seen[0]!) ? seen.slice(0, 2) : ['offline', 'connecting']);
    expect(seen).toContain('synced');
    expect(seen.indexOf('offline', 1)).toBeGreaterThan(seen.indexOf('synced'));
    await eventually(() => expect(a.status.get().positions['notes']).toBeGreaterThanOrEqual(1));
  });
});

describe('refusals and limits (real relay)', () => {
  const clients = relayClientSet();

  it('a write the relay refuses for good leaves the outbox for rejected(), never blocks the writes behind it, and can be retried or discarded', async () => {
    await clients.startRelay({
      auth: {
        anonymous: false,
        authenticate: async () => ({ id: 'user' }),
        authorize: (_p, _c, key, access) => access === 'read' || key === undefined || !key.startsWith('locked'),
      },
    });
    const a = await clients.open(dbName('a'), { auth: 'token' });
    const events: string[] = [];
    a.on('rejected', (e) => events.push(`${e.key}:${e.code}${e.rebased ? ' rebased' : ''}`));
    a.pause();
    const refused = a.collection('notes').put('locked-1', 'no', { ack: 'relay' });
    const behind = a.collection('notes').put('open-1', 'yes', { ack: 'relay' });
    a.resume();
    const [refusedId] = (await a.outbox()).map((w) => w.writeId);
    await expect(refused).rejects.toMatchObject({ code: 'forbidden' });
    await expect(behind).resolves.toMatchObject({ level: 'relay' });
    expect(await a.writeStatus(refusedId!)).toMatchObject({ key: 'locked-1', status: 'rejected', code: 'forbidden' });
    expect(events).toEqual(['locked-1:forbidden']);
    expect(await a.collection('notes').get('locked-1')).toBeUndefined(); // rolled back
    const list = await a.rejected();
    expect(list.map((r) => [r.key, r.code, r.value])).toEqual([['locked-1', 'forbidden', 'no']]);
    await expect(list[0]!.retry({ ack: 'relay' })).rejects.toMatchObject({ code: 'forbidden' });
    const again = await a.rejected();
    expect(again).toHaveLength(1);
    await again[0]!.discard();
    expect(await a.rejected()).toEqual([]);
    expect(await a.writeStatus(refusedId!)).toMatchObject({ status: 'rejected', code: 'forbidden' }); // still known after discard
    expect(await a.outbox()).toEqual([]);
  });

  it("writeStatuses answers for many writes in one read, in the order asked; watchOutbox's first call is a snapshot with the statuses of the writes it names", async () => {
    await clients.startRelay({
      auth: {
        anonymous: false,
        authenticate: async () => ({ id: 'user' }),
        authorize: (_p, _c, key, access) => access === 'read' || key === undefined || !key.startsWith('locked'),
      },
    });
    const name = dbName('statuses');
    const storage = createMemoryStorage(name);
    let reads = 0;
    const read = storage.read.bind(storage);
    storage.read = (run) => {
      reads++;
      return read(run);
    };
    const a = await clients.open(name, { auth: 'token', storage });
    const accepted = await a.collection('notes').put('open-1', 'yes', { ack: 'relay' });
    const refused = await a
      .collection('notes')
      .put('locked-1', 'no', { ack: 'relay' })
      .catch((e: ConvergeError) => e);
    expect(refused).toMatchObject({ code: 'forbidden' });
    const [refusedId] = (await a.rejected()).map((r) => r.writeId);
    a.pause();
    const pending = await a.collection('notes').put('k3', 3);
    const ids = [accepted.writeId, refusedId!, pending.writeId, 'nobody:1'];
    const before = reads;
    const statuses = await a.writeStatuses(ids);
    expect(reads - before).toBe(1);
    expect(statuses.map((s) => s?.status)).toEqual(['relay', 'rejected', 'local', undefined]);
    expect(statuses[1]).toMatchObject({ key: 'locked-1', code: 'forbidden' });

    const calls: string[][] = [];
    const stop = a.watchOutbox((writes, settled) => calls.push([...writes.map((w) => `${w.key}:pending`), ...settled.map((s) => `${s.key}:${s.status}`)]), {
      settled: ids,
    });
    await eventually(() => expect(calls[0]).toEqual(['k3:pending', 'open-1:relay', 'locked-1:rejected']));
    a.resume();
    await eventually(() => expect(calls.at(-1)).toEqual(['k3:relay'])); // later calls: only what changed since
    stop();
  });

  it("a value over the relay's advertised limit is refused at put (the last welcome's limit, persisted; 1 MiB before first contact)", async () => {
    await clients.startRelay({ limits: { maxValueBytes: 1000 } });
    const name = dbName('limits');
    const offline = await clients.open(name, { transport: undefined });
    await expect(offline.collection('notes').put('huge', 'x'.repeat(1024 * 1024 + 10))).rejects.toMatchObject({ code: 'payload_too_large' });
    await offline.collection('notes').put('medium', 'x'.repeat(5000)); // fine before first contact
    await offline.close();
    const a = await clients.open(name);
    await eventually(async () => expect(a.status.get().error?.code ?? (await a.rejected())[0]?.code).toBe('payload_too_large'));
    await expect(a.collection('notes').put('big', 'x'.repeat(2000))).rejects.toMatchObject({ code: 'payload_too_large' });
    expect((await a.outbox()).map((w) => w.key)).not.toContain('big');
    await a.close();
    const reopened = await clients.open(name, { transport: undefined });
    await expect(reopened.collection('notes').put('big', 'x'.repeat(2000))).rejects.toBeInstanceOf(ConvergeError);
  });

  it("a write that would make the key's merged state exceed the relay's maxStateBytes is refused at the call, before it enters the outbox", async () => {
    await clients.startRelay({
      limits: { maxValueBytes: 5000, maxStateBytes: 2000 },
      collections: { carts: { mode: 'multi-leader', strategy: 'cart' } },
    });
    const name = dbName('state-limit');
    const collections = { carts: { strategy: 'cart' as const } };
    const tab1 = await clients.open(name, { collections });
    await tab1.whenSynced({ timeoutMs: 5000 });
    const tab2 = await clients.open(name, { collections, transport: undefined }); // another tab: it has read nothing
    const notes1 = tab1.collection<string>('notes');
    await notes1.put('k', 'a'.repeat(1200));
    // A blind write keeps the stored value as a sibling: two siblings would exceed 2,000 bytes.
    await expect(tab2.collection('notes').put('k', 'b'.repeat(1200))).rejects.toMatchObject({ code: 'payload_too_large' });
    // One value of 3,000 bytes passes maxValueBytes but not maxStateBytes, through update too.
    await expect(notes1.update('k', () => 'c'.repeat(3000))).rejects.toMatchObject({ code: 'payload_too_large' });
    await notes1.put('k', 'd'.repeat(1200)); // covers what it read: one sibling, within the limit
    expect((await tab1.outbox()).map((w) => w.key)).toEqual(['k', 'k']);
    // A CRDT value grows entry by entry until the next one would not fit.
    const carts = tab1.collection('carts');
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) await carts.increment('cart', `item-${i}`, 1).catch((error: unknown) => (refused = error));
    expect(refused).toMatchObject({ code: 'payload_too_large' });
    const items = (await carts.get('cart'))?.value as Map<string, number>;
    expect(items.size).toBeGreaterThan(10);
    expect((await tab1.outbox()).filter((w) => w.key === 'cart')).toHaveLength(items.size);
    await tab1.whenSynced({ timeoutMs: 5000 });
    expect(await tab1.rejected()).toEqual([]);
  });

  it('createClient({ paused: true }) opens no socket until resume()', async () => {
    const fixture = await clients.startRelay();
    let opened = 0;
    const counting: Transport = { open: (handlers) => (opened++, fixture.memory.open(handlers)) };
    fakeTimers();
    let a: Client;
    try {
      a = await clients.open(dbName('paused'), { transport: counting, paused: true });
      await a.collection('notes').put('offline', 1);
      await vi.advanceTimersByTimeAsync(120_000); // longer than any backoff a connection attempt would wait for
      expect(opened).toBe(0);
      expect(a.status.get()).toMatchObject({ connection: 'offline', paused: true, pending: 1 });
    } finally {
      vi.useRealTimers();
    }
    a.resume();
    await a.whenSynced({ timeoutMs: 5000 });
    expect(opened).toBe(1);
  });

  it('a collection declared differently from the relay is a typed error at connect, with no reconnect loop', async () => {
    const fixture = await clients.startRelay({ collections: COLLECTIONS });
    let opened = 0;
    const counting: Transport = { open: (handlers) => (opened++, fixture.memory.open(handlers)) };
    fakeTimers();
    try {
      const a = await clients.open(dbName('a'), { transport: counting, collections: { carts: { strategy: 'siblings' } } });
      await statusWhen(a, (s) => s.error !== undefined);
      expect(a.status.get().error).toBeInstanceOf(ConvergeError);
      expect(a.status.get().error).toMatchObject({ code: 'bad_message' });
      expect(a.status.get().error?.message).toContain('carts');
      await vi.advanceTimersByTimeAsync(120_000); // longer than any backoff
      expect(opened).toBe(1);
      expect(a.status.get().connection).toBe('offline');
    } finally {
      vi.useRealTimers();
    }
  });

  it('unauthorized: the auth function is asked for a fresh token once, then the client connects', async () => {
    await clients.startRelay({
      auth: { anonymous: false, authenticate: async (token) => (token === 'fresh' ? { id: 'u' } : undefined), authorize: () => true },
    });
    const asked: boolean[] = [];
    const a = await clients.open(dbName('a'), {
      auth: ({ refresh }) => {
        asked.push(refresh);
        return refresh ? 'fresh' : 'expired';
      },
    });
    await a.whenSynced({ timeoutMs: 5000 });
    expect(asked).toEqual([false, true]);
  });

  it('unauthorized with no valid token: the error is in status and the client retries with backoff, not in a loop', async () => {
    await clients.startRelay({ auth: { anonymous: false, authenticate: async () => undefined, authorize: () => true } });
    fakeTimers(true);
    try {
      const asked: number[] = [];
      const a = await clients.open(dbName('a'), {
        auth: () => {
          asked.push(Date.now());
          return 'bad';
        },
        backoff: { baseMs: 400, maxMs: 400 },
        random: () => 0, // each backoff waits its fixed half: 200 ms
      });
      await statusWhen(a, (s) => s.error?.code === 'unauthorized');
      await vi.advanceTimersByTimeAsync(2000);
      const gaps = asked.slice(1).map((t, i) => t - asked[i]!);
      // One retry at once with a fresh token, then one per backoff: 2 s hold 10 of them, never a loop.
      expect(gaps[0]).toBe(0);
      expect(gaps.slice(1)).toEqual(gaps.slice(1).map(() => 200));
      expect(asked).toHaveLength(12);
    } finally {
      vi.useRealTimers();
    }
  });
});
