import { describe, expect, it } from 'vitest';
import { createMemoryStorage } from '../storage/memory-storage.js';
import { replicaFixture } from '../testing/replica-fixture.js';

describe('settling a push (settlePush)', () => {
  it("an accepted write leaves the outbox and joins base (no longer pending); its status is the ack's level; no state changed, so none is reported", async () => {
    const { replica, put, answered } = await replicaFixture();
    const [w] = await replica.write([put('k', 1)]);
    const settlement = await replica.settle(await answered(() => ({ status: 'accepted', seq: 1 })), 'quorum');
    expect(settlement).toMatchObject({ accepted: [w!.writeId], rejected: [], changes: [], clockSkew: false, identityLost: false, retry: false });
    expect(await replica.pendingCount()).toBe(0);
    expect((await replica.doc('notes', 'k'))?.base).toBeUndefined();
    expect((await replica.writeStatuses([w!.writeId]))[0]).toMatchObject({ status: 'quorum' });
  });

  it('a write refused for good leaves the outbox for the rejected list, is rolled back (the other pending write stays), and its counter becomes the floor', async () => {
    const { replica, put, answered } = await replicaFixture();
    const [refused] = await replica.write([put('k', 'refused')]);
    await replica.write([put('other', 'kept')]);
    const settled = (await answered(() => ({ status: 'rejected', code: 'forbidden', message: 'no' }))).slice(0, 1);
    const settlement = await replica.settle(settled, 'relay');
    expect(settlement.rejected.map((r) => [r.writeId, r.code])).toEqual([[refused!.writeId, 'forbidden']]);
    expect(settlement.changes.map((c) => c.key)).toEqual(['k']);
    const record = await replica.doc('notes', 'k');
    expect(record?.state.siblings).toEqual([]);
    expect(record?.floor).toBe(1);
    expect((await replica.pendingWrites()).map((e) => e.key)).toEqual(['other']);
    expect((await replica.rejectedWrites()).map((r) => r.writeId)).toEqual([refused!.writeId]);
    expect((await replica.writeStatuses([refused!.writeId]))[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
  });

  it("a leader-follower refusal with the relay's current state rolls the key back to that state", async () => {
    const { replica, put, answered, values } = await replicaFixture({ collections: { stock: { mode: 'leader-follower', strategy: 'lww' } } });
    const other = await replicaFixture();
    const [theirs] = await other.replica.write([other.put('sku', 9, { collection: 'stock' })]);
    await replica.write([put('sku', 8, { collection: 'stock' })]);
    await replica.settle(await answered(() => ({ status: 'rejected', code: 'conflict_rejected', message: 'stale', current: theirs!.record.state })), 'relay');
    expect(values(await replica.doc('stock', 'sku'))).toEqual([9]);
  });

  it('clock_skew marks the writes for a rewrite and keeps them; replica_reset asks for a new id; another code keeps them for a retry', async () => {
    const { replica, put, answered } = await replicaFixture();
    await replica.write([put('a', 1), put('b', 2), put('c', 3)]);
    const codes = { a: 'clock_skew', b: 'replica_reset', c: 'internal' } as const;
    const settlement = await replica.settle(await answered((e) => ({ status: 'rejected', code: codes[e.key as keyof typeof codes], message: '' })), 'relay');
    expect(settlement).toMatchObject({ accepted: [], rejected: [], clockSkew: true, identityLost: true, retry: true });
    expect((await replica.pendingWrites()).map((e) => [e.key, e.skewed === true])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
  });

  it('a clock_skew answer another tab settled first (it wrote the entry again under a new dot) does not bring the pushed copy back', async () => {
    const { replica, put, answered } = await replicaFixture();
    await replica.write([put('k', 1)]);
    const skewed = await answered(() => ({ status: 'rejected', code: 'clock_skew', message: '' }));
    await replica.settle(skewed, 'relay'); // the first tab: marked, then written again
    await replica.rewriteSkewed();
    const [rewritten] = await replica.pendingWrites();
    expect(rewritten).toMatchObject({ writeNumber: 2 });
    expect(rewritten?.skewed).toBeUndefined();
    await replica.settle(skewed, 'relay'); // the second tab, with the same answer to the copy it pushed
    expect(await replica.pendingWrites()).toEqual([rewritten]);
    expect(await replica.pendingCount()).toBe(1);
  });

  it('a kept pending count that disagrees with the outbox (storage also written by code that does not keep it) is counted again', async () => {
    const storage = createMemoryStorage();
    const { replica, put } = await replicaFixture({ storage });
    await replica.write([put('a', 1)]);
    expect(await replica.pendingCount()).toBe(1);
    await storage.write(async (tx) => tx.putMeta('pending', 0)); // 0 over a full outbox
    expect(await replica.pendingCount()).toBe(1);
    await storage.write(async (tx) => {
      for (const entry of await tx.listOutbox()) tx.deleteOutbox(entry.id!);
      tx.putMeta('pending', 3); // 3 over an empty one: whenSynced would wait for ever
    });
    expect(await replica.pendingCount()).toBe(0);
  });
});
