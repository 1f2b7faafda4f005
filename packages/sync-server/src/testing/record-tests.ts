import { ConvergeError, WRITE_CHAIN_ZERO, type Dot } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { CHAIN_HASH_ZERO, chainHash } from '../store/chain-hash.js';
import { REPLICA_A, REPLICA_B, dotOf, putAll, snapshot, writeHeadOf, type StoreHarness } from './store-fixtures.js';

async function expectConvergeError(run: () => Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConvergeError);
  expect((thrown as ConvergeError).code).toBe(code);
  if (pattern !== undefined) expect((thrown as ConvergeError).message).toMatch(pattern);
}

export function identityTests(harness: StoreHarness): void {
  describe('a new store', () => {
    it('is empty: no collections, no documents, the log at seq 0 with the zero hash', async () => {
      const store = await harness.make();
      expect(store.closed).toBe(false);
      expect(await store.collections()).toEqual([]);
      expect(await store.head('carts')).toEqual({ seq: 0, hash: CHAIN_HASH_ZERO });
      expect(await store.hashAt('carts', 0)).toBe(CHAIN_HASH_ZERO);
      expect(await store.hashAt('carts', 1)).toBeUndefined();
      expect(await store.get('carts', 'a')).toBeUndefined();
      expect(await store.scan('carts', 0, 10)).toEqual([]);
      expect((await store.writeHead(REPLICA_A)).writeNumber).toBe(0);
      expect(await store.getMeta('anything')).toBeUndefined();
      expect((await store.stats()).collections).toEqual([]);
    });

    it('has its own random lineage of at least 96 bits and its creation time', async () => {
      const before = Date.now();
      const one = await harness.make();
      const two = await harness.make();
      const after = Date.now();
      expect(one.lineage).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(two.lineage).not.toBe(one.lineage);
      expect(one.createdAt).toBeGreaterThanOrEqual(before);
      expect(one.createdAt).toBeLessThanOrEqual(after);
    });
  });
}

export function chainTests(harness: StoreHarness): void {
  describe('chain hash', () => {
    it('is h(seq) = H(h(seq − 1), collection, key, dot), from the zero hash, per collection', async () => {
      const store = await harness.make();
      const first = await store.transact(async (tx) => await tx.put('carts', 'a', 'state one', dotOf(1)));
      const second = await store.transact(async (tx) => await tx.put('carts', 'b', 'state two', dotOf(4, REPLICA_B)));
      const other = await store.transact(async (tx) => await tx.put('stock', 'a', 'state', dotOf(1)));
      const h1 = chainHash(CHAIN_HASH_ZERO, 'carts', 'a', dotOf(1));
      expect(first).toEqual({ seq: 1, hash: h1 });
      expect(second).toEqual({ seq: 2, hash: chainHash(h1, 'carts', 'b', dotOf(4, REPLICA_B)) });
      expect(other).toEqual({ seq: 1, hash: chainHash(CHAIN_HASH_ZERO, 'stock', 'a', dotOf(1)) });
      expect(await store.head('carts')).toEqual(second);
    });

    it('two stores given the same changes in the same order agree; another order differs', async () => {
      const one = await harness.make();
      const two = await harness.make();
      const three = await harness.make();
      const changes: [string, string, Dot][] = [
        ['carts', 'a', dotOf(1)],
        ['carts', 'b', dotOf(1, REPLICA_B)],
        ['stock', 'a', dotOf(2)],
        ['carts', 'a', dotOf(3)],
      ];
      for (const [collection, key, dot] of changes) await one.transact(async (tx) => await tx.put(collection, key, 'x', dot));
      await two.transact(async (tx) => {
        for (const [collection, key, dot] of changes) await tx.put(collection, key, 'different state, same change', dot);
      });
      await three.transact(async (tx) => {
        const reordered = [changes[1]!, changes[0]!, changes[2]!, changes[3]!];
        for (const [collection, key, dot] of reordered) await tx.put(collection, key, 'x', dot);
      });
      const logsOf = async (store: typeof one) => (await snapshot(store, ['carts', 'stock'])).logs.map((log) => log.hashes);
      expect(await logsOf(two)).toEqual(await logsOf(one));
      expect((await three.head('carts')).seq).toBe((await one.head('carts')).seq);
      expect((await three.head('carts')).hash).not.toBe((await one.head('carts')).hash);
      expect(await three.head('stock')).toEqual(await one.head('stock'));
    });

    it('keeps the hash of a seq whose key moved on, and knows nothing beyond the head', async () => {
      const store = await harness.make();
      const first = await store.transact(async (tx) => await tx.put('carts', 'a', 'one', dotOf(1)));
      const second = await store.transact(async (tx) => await tx.put('carts', 'a', 'two', dotOf(2)));
      expect((await store.scan('carts', 0, 10)).map((doc) => doc.seq)).toEqual([2]);
      expect(await store.hashAt('carts', 1)).toBe(first.hash);
      expect(await store.hashAt('carts', 2)).toBe(second.hash);
      expect(await store.hashAt('carts', 3)).toBeUndefined();
      expect(await store.hashAt('stock', 1)).toBeUndefined();
    });
  });
}

export function recordTests(harness: StoreHarness): void {
  describe('leader decisions', () => {
    it('records accepted and rejected decisions per collection, key and dot', async () => {
      const store = await harness.make();
      await store.transact(async (tx) => {
        const { seq } = await tx.put('carts', 'a', 'x', dotOf(1));
        await tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq });
        await tx.recordDecision('carts', 'a', dotOf(1, REPLICA_B), { status: 'rejected' });
      });
      expect(await store.decision('carts', 'a', dotOf(1))).toEqual({ status: 'accepted', seq: 1 });
      expect(await store.decision('carts', 'a', dotOf(1, REPLICA_B))).toEqual({ status: 'rejected' });
      expect(await store.decision('carts', 'a', dotOf(2))).toBeUndefined();
      expect(await store.decision('carts', 'b', dotOf(1))).toBeUndefined();
      expect(await store.decision('stock', 'a', dotOf(1))).toBeUndefined();
      await store.transact(async (tx) => expect(await tx.decision('carts', 'a', dotOf(1, REPLICA_B))).toEqual({ status: 'rejected' }));
    });

    it("keeps each decision's content fingerprint when one is given", async () => {
      const store = await harness.make();
      await store.transact(async (tx) => {
        const { seq } = await tx.put('carts', 'a', 'x', dotOf(1));
        await tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq, content: 'fingerprint-1' });
        await tx.recordDecision('carts', 'a', dotOf(2), { status: 'rejected', content: 'fingerprint-2' });
      });
      expect(await store.decision('carts', 'a', dotOf(1))).toEqual({ status: 'accepted', seq: 1, content: 'fingerprint-1' });
      expect(await store.decision('carts', 'a', dotOf(2))).toEqual({ status: 'rejected', content: 'fingerprint-2' });
    });

    it('a decision is final: recording it again is a no-op, a different one is refused', async () => {
      const store = await harness.make();
      await putAll(store, 'carts', ['a', 'b']);
      await store.transact(async (tx) => await tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq: 1 }));
      await store.transact(async (tx) => await tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq: 1 }));
      await expectConvergeError(
        () => store.transact(async (tx) => await tx.recordDecision('carts', 'a', dotOf(1), { status: 'rejected' })),
        'internal',
        /final/,
      );
      await expectConvergeError(
        () => store.transact(async (tx) => await tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq: 2 })),
        'internal',
      );
      expect(await store.decision('carts', 'a', dotOf(1))).toEqual({ status: 'accepted', seq: 1 });
    });

    it('refuses an accepted seq beyond the head', async () => {
      const store = await harness.make();
      await putAll(store, 'carts', ['a']);
      await expectConvergeError(
        () => store.transact(async (tx) => await tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq: 2 })),
        'internal',
        /beyond/,
      );
      expect(await store.decision('carts', 'a', dotOf(1))).toBeUndefined();
    });
  });

  describe('write numbers and meta', () => {
    it('keeps the latest write per replica id: the highest write number with its chain; an equal number does not replace the chain', async () => {
      const store = await harness.make();
      await store.transact(async (tx) => {
        await tx.noteWrite(REPLICA_A, writeHeadOf(5, 'aa'));
        await tx.noteWrite(REPLICA_A, writeHeadOf(3, 'bb'));
        await tx.noteWrite(REPLICA_B, writeHeadOf(1, 'cc'));
      });
      await store.transact(async (tx) => {
        await tx.noteWrite(REPLICA_A, writeHeadOf(4, 'dd'));
        await tx.noteWrite(REPLICA_A, writeHeadOf(5, 'ee'));
      });
      expect(await store.writeHead(REPLICA_A)).toEqual({ writeNumber: 5, chain: 'aa' });
      expect(await store.writeHead(REPLICA_B)).toEqual({ writeNumber: 1, chain: 'cc' });
      await store.transact(async (tx) => await tx.noteWrite(REPLICA_A, writeHeadOf(9, 'ff')));
      expect(await store.writeHead(REPLICA_A)).toEqual({ writeNumber: 9, chain: 'ff' });
      expect(await store.writeHead('replicaCCCCCCCCCCCCCCC')).toEqual({ writeNumber: 0, chain: WRITE_CHAIN_ZERO });
    });

    it('sets, replaces and removes meta values', async () => {
      const store = await harness.make();
      await store.setMeta('recovery-window-until', '1700000000000');
      expect(await store.getMeta('recovery-window-until')).toBe('1700000000000');
      await store.transact(async (tx) => await tx.setMeta('recovery-window-until', '1800000000000'));
      expect(await store.getMeta('recovery-window-until')).toBe('1800000000000');
      await store.setMeta('recovery-window-until', undefined);
      expect(await store.getMeta('recovery-window-until')).toBeUndefined();
    });
  });

  describe('replica owners', () => {
    it('binds a replica id to the first principal that claims it, for good', async () => {
      const store = await harness.make();
      expect(await store.replicaOwner(REPLICA_A)).toBeUndefined();
      expect(await store.claimReplica(REPLICA_A, 'alice')).toBe('alice');
      expect(await store.claimReplica(REPLICA_A, 'mallory')).toBe('alice');
      expect(await store.replicaOwner(REPLICA_A)).toBe('alice');
      expect(await store.replicaOwner(REPLICA_B)).toBeUndefined();
      await expect(
        store.transact(async (tx) => [
          await tx.claimReplica(REPLICA_B, 'bob'),
          await tx.put('carts', 'a', 'x', dotOf(1)),
          await tx.recordDecision('carts', 'a', dotOf(9), { status: 'accepted', seq: 5 }),
        ]),
      ).rejects.toThrow(ConvergeError);
      expect(await store.replicaOwner(REPLICA_B)).toBeUndefined(); // rolled back with its transaction
    });
  });

  describe('stats', () => {
    it('counts each key once per collection and reports a size', async () => {
      const store = await harness.make();
      const empty = (await store.stats()).bytes;
      await putAll(store, 'stock', ['x']);
      await putAll(store, 'carts', ['a', 'b', 'c']);
      await putAll(store, 'carts', ['a', 'a'], 10);
      const stats = await store.stats();
      expect(stats.collections).toEqual([
        { name: 'carts', keys: 3, seq: 5 },
        { name: 'stock', keys: 1, seq: 1 },
      ]);
      expect(stats.bytes).toBeGreaterThan(0);
      expect(stats.bytes).toBeGreaterThanOrEqual(empty);
    });
  });

  describe('argument checks', () => {
    it('refuses malformed arguments with bad_message and changes nothing', async () => {
      const store = await harness.make();
      await putAll(store, 'carts', ['a']);
      const before = await snapshot(store, ['carts']);
      const loneSurrogate = 'key\uD800';
      const attempts: (() => Promise<unknown>)[] = [
        () => store.transact(async (tx) => await tx.put('carts', loneSurrogate, 'x', dotOf(2))),
        () => store.transact(async (tx) => await tx.put('carts', 'b', 'x', ['A', 0])),
        () => store.transact(async (tx) => await tx.put('carts', 'b', 'x', ['A', 1.5])),
        () => store.transact(async (tx) => await tx.put('carts', 'b', 'x', ['__proto__', 1])),
        () => store.transact(async (tx) => await tx.put('carts', 'b', 42 as unknown as string, dotOf(2))),
        () => store.transact(async (tx) => await tx.noteWrite(REPLICA_A, writeHeadOf(-1))),
        () => store.transact(async (tx) => await tx.noteWrite('not valid!', writeHeadOf(1))),
        () => store.transact(async (tx) => await tx.noteWrite(REPLICA_A, writeHeadOf(2, 'NOT HEX'))),
        () => store.transact(async (tx) => await tx.recordDecision('carts', 'a', dotOf(1), { status: 'maybe' } as never)),
        () => store.transact(async (tx) => await tx.recordDecision('carts', 'a', dotOf(1), { status: 'rejected', content: 42 } as never)),
        () => store.claimReplica('not valid!', 'alice'),
        () => store.claimReplica(REPLICA_A, loneSurrogate),
        () => store.replicaOwner('not valid!'),
        () => store.scan('carts', -1, 10),
        () => store.scan('carts', 0, 0),
        () => store.scan('carts', 0.5, 10),
        () => store.scan('carts', 0, 10, loneSurrogate),
        () => store.hashAt('carts', -1),
        () => store.get(loneSurrogate, 'a'),
      ];
      for (const attempt of attempts) await expectConvergeError(attempt, 'bad_message');
      expect(await snapshot(store, ['carts'])).toEqual(before);
    });
  });

  describe('close', () => {
    it('is idempotent, and afterwards every method throws a ConvergeError', async () => {
      const store = await harness.make();
      await putAll(store, 'carts', ['a']);
      await store.close();
      await store.close();
      expect(store.closed).toBe(true);
      const attempts: (() => Promise<unknown>)[] = [
        () => store.get('carts', 'a'),
        () => store.head('carts'),
        () => store.scan('carts', 0, 10),
        () => store.hashAt('carts', 1),
        () => store.collections(),
        () => store.decision('carts', 'a', dotOf(1)),
        () => store.writeHead(REPLICA_A),
        () => store.getMeta('m'),
        () => store.setMeta('m', 'v'),
        () => store.replicaOwner(REPLICA_A),
        () => store.claimReplica(REPLICA_A, 'alice'),
        () => store.stats(),
        () => store.transact(() => 1),
      ];
      for (const attempt of attempts) await expectConvergeError(attempt, 'internal', /closed/);
      await expect(store.backup(harness.tempPath('after-close.db'))).rejects.toThrow(/closed/);
    });

    it('waits for a running transaction, which commits, and then refuses new ones', async () => {
      const store = await harness.make();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const running = store.transact(async (tx) => {
        await held;
        return tx.put('carts', 'a', 'x', dotOf(1));
      });
      await new Promise((resolve) => setImmediate(resolve));
      const closing = store.close();
      expect(store.closed).toBe(true);
      await expectConvergeError(() => store.transact(() => 1), 'internal', /closed/);
      release();
      expect((await running).seq).toBe(1);
      await closing;
    });
  });
}
