import { ConvergeError } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { CHAIN_HASH_ZERO } from '../store/chain-hash.js';
import type { Prefetch, RelayStore, StoreTx } from '../store/relay-store.js';
import { REPLICA_A, dotOf, putAll, snapshot, writeHeadOf, type Snapshot, type StoreHarness } from './store-fixtures.js';

/** A transaction that writes one of everything, so a rollback test can check each kind. */
async function writeEverything(tx: StoreTx): Promise<void> {
  await tx.put('carts', 'a', 'changed', dotOf(10));
  await tx.put('carts', 'new', 'new', dotOf(11));
  await tx.put('fresh-collection', 'x', 'x', dotOf(12));
  await tx.recordDecision('carts', 'a', dotOf(10), { status: 'accepted', seq: (await tx.head('carts')).seq });
  await tx.noteWrite(REPLICA_A, writeHeadOf(99));
  await tx.setMeta('window', 'open');
}

async function seeded(harness: StoreHarness): Promise<RelayStore> {
  const store = await harness.make();
  await putAll(store, 'carts', ['a', 'b']);
  await store.transact(async (tx) => await tx.noteWrite(REPLICA_A, writeHeadOf(5)));
  return store;
}

async function expectUnchanged(store: RelayStore, before: Snapshot): Promise<void> {
  expect(await snapshot(store, ['carts', 'fresh-collection'])).toEqual(before);
  expect(await store.decision('carts', 'a', dotOf(10))).toBeUndefined();
  expect((await store.writeHead(REPLICA_A)).writeNumber).toBe(5);
  expect(await store.getMeta('window')).toBeUndefined();
  // No seq was consumed: the next change gets the seq the failed one had.
  expect((await store.transact(async (tx) => await tx.put('carts', 'next', 'n', dotOf(20)))).seq).toBe(3);
}

export function transactionTests(harness: StoreHarness): void {
  describe('transactions', () => {
    it("returns the callback's value; reads inside see the transaction's own writes", async () => {
      const store = await harness.make();
      const result = await store.transact(async (tx) => {
        expect(await tx.get('carts', 'a')).toBeUndefined();
        const position = await tx.put('carts', 'a', 'one', dotOf(1));
        expect(await tx.get('carts', 'a')).toEqual({ key: 'a', state: 'one', seq: 1 });
        expect(await tx.head('carts')).toEqual(position);
        await tx.put('carts', 'a', 'two', dotOf(2));
        expect(await tx.get('carts', 'a')).toEqual({ key: 'a', state: 'two', seq: 2 });
        await tx.recordDecision('carts', 'a', dotOf(2), { status: 'accepted', seq: 2 });
        expect(await tx.decision('carts', 'a', dotOf(2))).toEqual({ status: 'accepted', seq: 2 });
        await tx.noteWrite(REPLICA_A, writeHeadOf(7));
        expect((await tx.writeHead(REPLICA_A)).writeNumber).toBe(7);
        await tx.setMeta('m', 'v');
        expect(await tx.getMeta('m')).toBe('v');
        return 'done';
      });
      expect(result).toBe('done');
      expect(await store.get('carts', 'a')).toEqual({ key: 'a', state: 'two', seq: 2 });
    });

    it('answers get the same after a prefetch: stored, missing and freshly written keys, and the key count', async () => {
      const store = await seeded(harness);
      await store.transact(async (tx) => {
        await tx.put('carts', 'written', 'w1', dotOf(30));
        await tx.prefetch({
          docs: new Map([['carts', ['a', 'missing', 'written', 'a']]]),
          writeHeads: [REPLICA_A],
          decisions: [{ collection: 'carts', key: 'a', dot: dotOf(1) }],
        });
        expect((await tx.writeHead(REPLICA_A)).writeNumber).toBe(5);
        expect(await tx.decision('carts', 'a', dotOf(1))).toBeUndefined();
        expect(await tx.get('carts', 'a')).toEqual({ key: 'a', state: 'state:a', seq: 1 });
        expect(await tx.get('carts', 'missing')).toBeUndefined();
        expect(await tx.get('carts', 'written')).toEqual({ key: 'written', state: 'w1', seq: 3 });
        await tx.put('carts', 'missing', 'm', dotOf(31));
        await tx.put('carts', 'a', 'a2', dotOf(32));
        expect(await tx.get('carts', 'missing')).toEqual({ key: 'missing', state: 'm', seq: 4 });
        expect(await tx.get('carts', 'a')).toEqual({ key: 'a', state: 'a2', seq: 5 });
      });
      expect(await store.get('carts', 'a')).toEqual({ key: 'a', state: 'a2', seq: 5 });
      expect((await store.stats()).collections).toEqual([{ name: 'carts', keys: 4, seq: 5 }]);
    });

    it('answers get the same after a prefetch for keys with quotes, backslashes, control characters and emoji', async () => {
      const store = await harness.make();
      const keys = ['q"uote', 'back\\slash', 'nul\u0000inside', 'ctl\u0001\u001f', 'emoji😀', 'ls\u2028ps', 'plain'];
      await putAll(store, 'odd', keys);
      await store.transact(async (tx) => {
        await tx.prefetch({ docs: new Map([['odd', [...keys, 'absent']]]) });
        for (const [i, key] of keys.entries()) expect(await tx.get('odd', key)).toEqual({ key, state: `state:${key}`, seq: i + 1 });
        expect(await tx.get('odd', 'absent')).toBeUndefined();
      });
    });

    it('refuses a prefetch of anything but well-formed keys, replica ids and dots', async () => {
      const store = await harness.make();
      const attempts: Prefetch[] = [
        { docs: new Map([['carts', ['ok', '\uD800']]]) },
        { docs: new Map([['carts', 'a' as unknown as string[]]]) },
        { docs: { carts: ['a'] } as unknown as Map<string, string[]> },
        { writeHeads: ['not a replica id!'] },
        { decisions: [{ collection: 'carts', key: 'a', dot: ['replicaAAAAAAAAAAAAAAA', -1] }] },
      ];
      for (const reads of attempts) {
        await expect(store.transact((tx) => tx.prefetch(reads))).rejects.toBeInstanceOf(ConvergeError);
      }
    });

    it('keeps nothing and consumes no seq when the callback throws', async () => {
      const store = await seeded(harness);
      const before = await snapshot(store, ['carts', 'fresh-collection']);
      const failure = new Error('the push failed half-way');
      await expect(
        store.transact(async (tx) => {
          await writeEverything(tx);
          throw failure;
        }),
      ).rejects.toBe(failure);
      await expectUnchanged(store, before);
    });

    it('rolls back when a store method rejected, even if the callback caught the error', async () => {
      const store = await seeded(harness);
      const before = await snapshot(store, ['carts', 'fresh-collection']);
      let caught: unknown;
      const outcome = store.transact(async (tx) => {
        await writeEverything(tx);
        try {
          await tx.put('carts', 'bad', 'x', ['not a replica id!', 1]);
        } catch (error) {
          caught = error;
        }
        return 'carried on';
      });
      const thrown = await outcome.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(caught).toBeInstanceOf(ConvergeError);
      expect(thrown).toBe(caught);
      await expectUnchanged(store, before);
    });

    it('reads on the store while a transaction runs see only committed data', async () => {
      const store = await seeded(harness);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let written!: () => void;
      const wrote = new Promise<void>((resolve) => (written = resolve));
      const running = store.transact(async (tx) => {
        await tx.put('carts', 'a', 'uncommitted', dotOf(30));
        await tx.put('carts', 'inside', 'x', dotOf(31));
        await tx.setMeta('m', 'v');
        written();
        await held;
      });
      await wrote;
      expect(await store.get('carts', 'a')).toEqual({ key: 'a', state: 'state:a', seq: 1 });
      expect(await store.get('carts', 'inside')).toBeUndefined();
      expect((await store.head('carts')).seq).toBe(2);
      expect(await store.hashAt('carts', 3)).toBeUndefined();
      expect(await store.scan('carts', 2, 10)).toEqual([]);
      expect(await store.getMeta('m')).toBeUndefined();
      release();
      await running;
      expect(await store.get('carts', 'a')).toEqual({ key: 'a', state: 'uncommitted', seq: 3 });
      expect((await store.head('carts')).seq).toBe(4);
      expect(await store.getMeta('m')).toBe('v');
    });

    it('transactions started together all commit, with gap-free seqs in commit order and one chain', async () => {
      const store = await harness.make();
      const positions = await Promise.all(
        Array.from({ length: 12 }, (_, index) =>
          store.transact(async (tx) => {
            const first = await tx.put('carts', `k${index}`, 'a', dotOf(2 * index + 1));
            const second = await tx.put('carts', `k${index}`, 'b', dotOf(2 * index + 2));
            return [first, second];
          }),
        ),
      );
      const seqs = positions.flatMap((pair) => pair.map((position) => position.seq)).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 24 }, (_, index) => index + 1));
      // Each transaction's two changes are consecutive: nothing else was sequenced between them.
      for (const [first, second] of positions) expect(second!.seq).toBe(first!.seq + 1);
      for (const pair of positions) for (const position of pair) expect(await store.hashAt('carts', position.seq)).toBe(position.hash);
      const docs = await store.scan('carts', 0, 100);
      expect(docs.map((doc) => doc.state)).toEqual(Array(12).fill('b'));
    });

    it('a direct transaction (a store in the relay process) answers as its promises do, and a refused call dooms it alike', async () => {
      const store = await seeded(harness);
      const before = await snapshot(store, ['carts', 'fresh-collection']);
      let direct = false;
      const outcome = store.transact(async (tx) => {
        if (tx.direct === undefined) return 'no direct view';
        direct = true;
        const now = tx.direct;
        expect(now.get('carts', 'a')).toEqual(await tx.get('carts', 'a'));
        const position = now.put('carts', 'new', 'n', dotOf(11));
        expect(await tx.head('carts')).toEqual(position);
        expect(await tx.get('carts', 'new')).toEqual({ key: 'new', state: 'n', seq: position.seq });
        now.noteWrite(REPLICA_A, writeHeadOf(9));
        expect(await tx.writeHead(REPLICA_A)).toEqual(now.writeHead(REPLICA_A));
        expect(() => now.put('carts', 'bad', 'x', ['not a replica id!', 1])).toThrow(ConvergeError);
        return 'carried on';
      });
      const settled = await outcome.then(
        (value) => value,
        (error: unknown) => error,
      );
      if (!direct) {
        expect(settled).toBe('no direct view');
        return;
      }
      expect(settled).toBeInstanceOf(ConvergeError);
      await expectUnchanged(store, before);
      const leaked = await store.transact((tx) => tx.direct);
      expect(() => leaked!.get('carts', 'a')).toThrow(/ended/);
    });

    it('refuses a transaction handle used after its transaction ended', async () => {
      const store = await harness.make();
      const leaked = await store.transact((tx) => tx);
      await expect(leaked.put('carts', 'late', 'x', dotOf(1))).rejects.toThrow(/ended/);
      await expect(leaked.get('carts', 'late')).rejects.toThrow(/ended/);
      expect(await store.head('carts')).toEqual({ seq: 0, hash: CHAIN_HASH_ZERO });
    });
  });
}
