import type { RelayAckLevel } from '@converge/protocol';
import { describe, expect, it } from 'vitest';
import type { ClientCore } from './client-core.js';
import type { WriteStatus } from './storage/storage-adapter.js';
import { createClient } from './client.js';
import { createMemoryStorage, type MemoryStorage } from './storage/memory-storage.js';
import { dbName } from './testing/client-set.js';
import { coreFixture } from './testing/core-fixture.js';
import { eventually } from './testing/eventually.js';
import { encodeAppValue } from './values.js';

const open = coreFixture();
const put = (key: string) => ({ collection: 'notes', key, ack: 'local' as const, kind: 'put' as const, value: encodeAppValue(key), read: undefined });

/** What the tab holding the socket does with an ack: settles the writes in the replica, then tells the local writes. */
async function accept(core: ClientCore, writeIds: readonly string[], level: RelayAckLevel): Promise<void> {
  const entries = (await core.replica.pendingWrites()).filter((e) => writeIds.includes(e.writeId));
  const settled = entries.map((entry) => ({
    entries: [entry],
    delta: entry.delta,
    result: { collection: entry.collection, key: entry.key, dot: entry.delta.siblings.at(-1)!.dot, status: 'accepted' as const, seq: 1 },
  }));
  await core.replica.settle(settled, level);
  core.writes.acked(writeIds, level);
}

describe('OutboxViews', () => {
  it("a watcher's first call is one snapshot: the pending writes, and where each write it names stands; later calls report what left since", async () => {
    const { core } = await open();
    const [settled, pending] = await core.writes.commit([put('settled'), put('pending')], 'local');
    await accept(core, [settled!.writeId], 'relay');
    const calls: string[][] = [];
    const show = (writes: { key: string }[], left: WriteStatus[]) => [...writes.map((w) => `${w.key}:pending`), ...left.map((s) => `${s.key}:${s.status}`)];
    const stop = core.views.watch((writes, left) => calls.push(show(writes, left)), [settled!.writeId, pending!.writeId, 'never-made']);
    await eventually(() => expect(calls).toEqual([['pending:pending', 'settled:relay']]));
    await accept(core, [pending!.writeId], 'quorum');
    await eventually(() => expect(calls.at(-1)).toEqual(['pending:quorum']));
    stop();
    expect(core.status.get().pending).toBe(0);
  });

  it('status.pending counts every pending write, re-read after each change of the outbox', async () => {
    const { core } = await open();
    await core.writes.commit([put('a'), put('b')], 'local');
    expect(core.status.get().pending).toBe(2);
    const [a] = await core.replica.pendingWrites();
    await accept(core, [a!.writeId], 'relay');
    await eventually(() => expect(core.status.get().pending).toBe(1));
  });

  it('rejected() lists refused writes with retry (written again, off the list) and discard', async () => {
    const { core } = await open();
    await core.writes.commit([put('r1'), put('r2')], 'local');
    const answered = (await core.replica.pendingWrites()).map((entry) => ({
      entries: [entry],
      delta: entry.delta,
      result: {
        collection: entry.collection,
        key: entry.key,
        dot: entry.delta.siblings.at(-1)!.dot,
        status: 'rejected' as const,
        code: 'forbidden' as const,
        message: 'no',
      },
    }));
    await core.replica.settle(answered, 'relay');
    const retried: string[] = [];
    const list = await core.views.rejected(async (request, ack, replaces) => {
      retried.push(`${request.key}:${ack}:${replaces}`);
      return (await core.writes.commit([request], ack, [replaces]))[0]!;
    });
    expect(list.map((r) => [r.key, r.code, r.value])).toEqual([
      ['r1', 'forbidden', 'r1'],
      ['r2', 'forbidden', 'r2'],
    ]);
    await list[0]!.retry({ ack: 'local' });
    await list[1]!.discard();
    expect(retried).toEqual([`r1:local:${list[0]!.writeId}`]);
    expect(await core.views.rejected(async () => Promise.reject(new Error('unused')))).toEqual([]);
    expect((await core.views.outbox()).map((w) => w.key)).toEqual(['r1']);
  });

  /** `storage` with `countOutbox` answered by `count(original)` in every transaction it runs. */
  function withCount(storage: MemoryStorage, count: (original: () => Promise<number>) => Promise<number>): MemoryStorage {
    const read = storage.read.bind(storage);
    const write = storage.write.bind(storage);
    const wrap = <T extends { countOutbox(): Promise<number> }>(tx: T): T =>
      Object.assign(Object.create(tx) as T, { countOutbox: () => count(() => tx.countOutbox()) });
    storage.read = (run) => read(async (tx) => run(wrap(tx)));
    storage.write = (run, options) => write(async (tx) => run(wrap(tx)), options);
    return storage;
  }

  /** A database with `keys` pending, as one written before the pending count was kept (no meta `pending`). */
  async function oldDatabase(name: string, keys: readonly string[]): Promise<void> {
    const first = await createClient({ name, storage: createMemoryStorage(name), tabs: false });
    await first.putMany(
      'notes',
      keys.map((key, i) => [key, i + 1]),
    );
    await first.close();
    const old = createMemoryStorage(name);
    await old.write(async (tx) => tx.deleteMeta('pending'));
    old.close();
  }

  it('opening a database does not wait for the count of its outbox: the pending count follows', async () => {
    const name = dbName('long-outbox');
    await oldDatabase(name, ['a', 'b', 'c']);
    // Storage whose outbox count has not answered yet: the client opens anyway.
    let answer!: () => void;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const storage = withCount(createMemoryStorage(name), async (original) => (await Promise.all([original(), gate]))[0]);
    const reopened = await createClient({ name, storage, tabs: false });
    expect(reopened.status.get().pending).toBe(0);
    answer();
    await eventually(() => expect(reopened.status.get().pending).toBe(3));
    await reopened.close();
  }, 10_000); // without the fix createClient never resolves: the test fails at this bound instead of hanging

  it('the pending count is kept in meta: a database written before it was kept is counted once, then each open reads one record', async () => {
    const name = dbName('kept-count');
    await oldDatabase(name, ['a', 'b']);
    let counted = 0;
    const counting = () =>
      withCount(createMemoryStorage(name), (original) => {
        counted++;
        return original();
      });
    const second = await createClient({ name, storage: counting(), tabs: false });
    await eventually(() => expect(second.status.get().pending).toBe(2));
    await second.collection('notes').put('c', 3);
    await second.close();
    expect(counted).toBe(1);
    const third = await createClient({ name, storage: counting(), tabs: false });
    await eventually(() => expect(third.status.get().pending).toBe(3)); // the write after the count was kept too
    await third.close();
    expect(counted).toBe(1);
  });
});
