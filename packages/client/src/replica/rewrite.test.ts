import { contextHas, type CausalContext } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { replicaFixture } from '../testing/replica-fixture.js';

describe('writing pending writes again (rewritePending)', () => {
  it('under a new replica id: every pending write gets a new dot of that id, keeping its write id and outbox order; the state restarts from base', async () => {
    const { replica, put, answered, values } = await replicaFixture();
    await replica.write([put('confirmed', 0)]);
    await replica.settle(await answered(() => ({ status: 'accepted', seq: 1 })), 'relay');
    const first = await replica.write([put('a', 1), put('b', 2)]);
    const [third] = await replica.write([put('a', 3, { read: first[0]!.memory })]);
    const oldId = replica.replicaId;
    const reset = await replica.resetIdentity(oldId);
    expect(reset?.id).not.toBe(oldId);
    expect(replica.replicaId).toBe(reset!.id);
    const ids = [first[0]!.writeId, first[1]!.writeId, third!.writeId];
    expect(reset!.rewritten.map((w) => w.writeId).sort()).toEqual([...ids].sort());
    expect(reset!.rewritten.every((w) => w.dot[0] === reset!.id)).toBe(true);
    const pending = await replica.pendingWrites();
    expect(pending.map((e) => [e.writeId, e.replica])).toEqual(ids.map((id) => [id, reset!.id])); // outbox order kept
    // The third write had read the first: its context now names the first's new dot, not the old one.
    const context = (pending[2]!.write as { readContext: CausalContext }).readContext;
    expect(contextHas(context, reset!.rewritten[0]!.dot)).toBe(true);
    expect(contextHas(context, first[0]!.dot)).toBe(false);
    const a = await replica.doc('notes', 'a');
    expect(values(a)).toEqual([3]);
    expect(a?.state.siblings.map((s) => s.dot[0])).toEqual([reset!.id]);
    expect((await replica.record())?.retired).toEqual([oldId]);
  });

  it('a reset for an id another tab already replaced does nothing', async () => {
    const { replica } = await replicaFixture();
    const oldId = replica.replicaId;
    await replica.resetIdentity(oldId);
    expect(await replica.resetIdentity(oldId)).toBeUndefined();
    expect((await replica.record())?.retired).toEqual([oldId]);
  });

  it('after clock_skew only the refused writes are written again: a new dot whose context covers the refused one, no longer marked', async () => {
    const { replica, put, answered } = await replicaFixture();
    const [refused, fine] = await replica.write([put('a', 1), put('b', 2)]);
    await replica.settle(
      (await answered(() => ({ status: 'rejected', code: 'clock_skew', message: '' }))).filter((s) => s.entries[0]!.key === 'a'),
      'relay',
    );
    const { rewritten } = await replica.rewriteSkewed();
    expect(rewritten.map((w) => [w.writeId, w.dot])).toEqual([[refused!.writeId, [replica.replicaId, 2]]]);
    expect(contextHas(rewritten[0]!.version, refused!.dot)).toBe(true);
    const pending = await replica.pendingWrites();
    expect(pending.map((e) => [e.writeId, e.skewed === true])).toEqual([
      [refused!.writeId, false],
      [fine!.writeId, false],
    ]);
    expect((await replica.rewriteSkewed()).rewritten).toEqual([]); // nothing left marked
  });
});
