import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '@converge/sync-server';
import { failingCommits, replicaFixture } from '../testing/replica-fixture.js';

describe('LocalReplica: what this tab holds in memory follows the disk, never runs ahead of it', () => {
  it('a write that fails (its update function throws) leaves the clock as it was: the next write is stamped as if it never ran', async () => {
    const { replica, put } = await replicaFixture({ now: () => 5000 });
    const [first] = await replica.write([put('a', 1)]);
    await expect(
      replica.write([
        {
          collection: 'notes',
          key: 'b',
          ack: 'local',
          kind: 'update',
          fn: () => {
            throw new Error('app bug');
          },
        },
      ]),
    ).rejects.toThrow('app bug');
    const [next] = await replica.write([put('c', 3)]);
    expect(first!.record.state.siblings[0]!.hlc).toMatchObject({ wall: 5000, logical: 0 });
    expect(next!.record.state.siblings[0]!.hlc).toMatchObject({ wall: 5000, logical: 1 });
  });

  it('a new replica id whose commit fails is not taken: the tab keeps the id the disk holds, and its writes use it', async () => {
    const storage = failingCommits();
    const { replica, put } = await replicaFixture({ storage: storage.adapter });
    const id = replica.replicaId;
    storage.failNextCommit();
    await expect(replica.resetIdentity(id)).rejects.toThrow('disk error');
    expect(replica.replicaId).toBe(id);
    const [written] = await replica.write([put('k', 1)]);
    expect(written!.dot[0]).toBe(id);
  });

  it("a welcome whose commit fails is not learned: the relay's collections are not followed and the clock keeps its offset", async () => {
    const storage = failingCommits();
    const { replica, put } = await replicaFixture({ storage: storage.adapter, now: () => 5000 });
    const facts = {
      replicaId: replica.replicaId,
      writeNumber: 0,
      writeChain: '0',
      now: 9_000_000,
      offsetMs: 8_995_000,
      limits: DEFAULT_LIMITS,
      collections: { carts: { mode: 'multi-leader' as const, strategy: 'cart' as const } },
    };
    storage.failNextCommit();
    await expect(replica.afterWelcome(facts)).rejects.toThrow('disk error');
    expect(replica.spec('carts').strategy).toBe('siblings');
    const [written] = await replica.write([put('k', 1)]);
    expect(written!.record.state.siblings[0]!.hlc.wall).toBe(5000);
    expect(await replica.afterWelcome(facts)).toBe('ok');
    expect(replica.spec('carts').strategy).toBe('cart');
  });
});
