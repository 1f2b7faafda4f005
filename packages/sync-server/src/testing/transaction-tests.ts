import { ConvergeError } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { CHAIN_HASH_ZERO } from '../store/chain-hash.js';
import type { RelayStore, StoreTx } from '../store/relay-store.js';
import { REPLICA_A, dotOf, putAll, snapshot, writeHeadOf, type StoreHarness } from './store-fixtures.js';

/** A transaction that writes one of everything, so a rollback test can check each kind. */
function writeEverything(tx: StoreTx): void {
  tx.put('carts', 'a', 'changed', dotOf(10));
  tx.put('carts', 'new', 'new', dotOf(11));
  tx.put('fresh-collection', 'x', 'x', dotOf(12));
  tx.recordDecision('carts', 'a', dotOf(10), { status: 'accepted', seq: tx.head('carts').seq });
  tx.noteWrite(REPLICA_A, writeHeadOf(99));
  tx.setMeta('window', 'open');
}

function seeded(harness: StoreHarness): RelayStore {
  const store = harness.make();
  putAll(store, 'carts', ['a', 'b']);
  store.transact((tx) => tx.noteWrite(REPLICA_A, writeHeadOf(5)));
  return store;
}

function expectUnchanged(store: RelayStore, before: ReturnType<typeof snapshot>): void {
  expect(snapshot(store, ['carts', 'fresh-collection'])).toEqual(before);
  expect(store.decision('carts', 'a', dotOf(10))).toBeUndefined();
  expect(store.writeHead(REPLICA_A).writeNumber).toBe(5);
  expect(store.getMeta('window')).toBeUndefined();
  // No seq was consumed: the next change gets the seq the failed one had.
  expect(store.transact((tx) => tx.put('carts', 'next', 'n', dotOf(20))).seq).toBe(3);
}

export function transactionTests(harness: StoreHarness): void {
  describe('transactions', () => {
    it("returns the callback's value; reads inside see the transaction's own writes", () => {
      const store = harness.make();
      const result = store.transact((tx) => {
        expect(tx.get('carts', 'a')).toBeUndefined();
        const position = tx.put('carts', 'a', 'one', dotOf(1));
        expect(tx.get('carts', 'a')).toEqual({ key: 'a', state: 'one', seq: 1 });
        expect(tx.head('carts')).toEqual(position);
        tx.put('carts', 'a', 'two', dotOf(2));
        expect(tx.get('carts', 'a')).toEqual({ key: 'a', state: 'two', seq: 2 });
        tx.recordDecision('carts', 'a', dotOf(2), { status: 'accepted', seq: 2 });
        expect(tx.decision('carts', 'a', dotOf(2))).toEqual({ status: 'accepted', seq: 2 });
        tx.noteWrite(REPLICA_A, writeHeadOf(7));
        expect(tx.writeHead(REPLICA_A).writeNumber).toBe(7);
        tx.setMeta('m', 'v');
        expect(tx.getMeta('m')).toBe('v');
        return 'done';
      });
      expect(result).toBe('done');
      expect(store.get('carts', 'a')).toEqual({ key: 'a', state: 'two', seq: 2 });
    });

    it('answers get the same after a prefetch: stored, missing and freshly written keys, and the key count', () => {
      const store = seeded(harness);
      store.transact((tx) => {
        tx.put('carts', 'written', 'w1', dotOf(30));
        tx.prefetch?.('carts', ['a', 'missing', 'written', 'a']);
        expect(tx.get('carts', 'a')).toEqual({ key: 'a', state: 'state:a', seq: 1 });
        expect(tx.get('carts', 'missing')).toBeUndefined();
        expect(tx.get('carts', 'written')).toEqual({ key: 'written', state: 'w1', seq: 3 });
        tx.put('carts', 'missing', 'm', dotOf(31));
        tx.put('carts', 'a', 'a2', dotOf(32));
        expect(tx.get('carts', 'missing')).toEqual({ key: 'missing', state: 'm', seq: 4 });
        expect(tx.get('carts', 'a')).toEqual({ key: 'a', state: 'a2', seq: 5 });
      });
      expect(store.get('carts', 'a')).toEqual({ key: 'a', state: 'a2', seq: 5 });
      expect(store.stats().collections).toEqual([{ name: 'carts', keys: 4, seq: 5 }]);
    });

    it('answers get the same after a prefetch for keys with quotes, backslashes, control characters and emoji', () => {
      const store = harness.make();
      const keys = ['q"uote', 'back\\slash', 'nul\u0000inside', 'ctl\u0001\u001f', 'emoji😀', 'ls\u2028ps', 'plain'];
      putAll(store, 'odd', keys);
      store.transact((tx) => {
        tx.prefetch?.('odd', [...keys, 'absent']);
        keys.forEach((key, i) => expect(tx.get('odd', key)).toEqual({ key, state: `state:${key}`, seq: i + 1 }));
        expect(tx.get('odd', 'absent')).toBeUndefined();
      });
    });

    it('refuses a prefetch of anything but well-formed keys', () => {
      const store = harness.make();
      expect(() => store.transact((tx) => tx.prefetch?.('carts', ['ok', '\uD800']))).toThrow(ConvergeError);
      expect(() => store.transact((tx) => tx.prefetch?.('carts', 'a' as unknown as string[]))).toThrow(ConvergeError);
    });

    it('keeps nothing and consumes no seq when the callback throws', () => {
      const store = seeded(harness);
      const before = snapshot(store, ['carts', 'fresh-collection']);
      const failure = new Error('the push failed half-way');
      expect(() =>
        store.transact((tx) => {
          writeEverything(tx);
          throw failure;
        }),
      ).toThrow(failure);
      expectUnchanged(store, before);
    });

    it('rolls back when a store method threw, even if the callback caught the error', () => {
      const store = seeded(harness);
      const before = snapshot(store, ['carts', 'fresh-collection']);
      let caught: unknown;
      const thrown = (() => {
        try {
          store.transact((tx) => {
            writeEverything(tx);
            try {
              tx.put('carts', 'bad', 'x', ['not a replica id!', 1]);
            } catch (error) {
              caught = error;
            }
            return 'carried on';
          });
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(caught).toBeInstanceOf(ConvergeError);
      expect(thrown).toBe(caught);
      expectUnchanged(store, before);
    });

    it('refuses a callback that returns a promise, and keeps nothing', () => {
      const store = seeded(harness);
      const before = snapshot(store, ['carts', 'fresh-collection']);
      expect(() =>
        store.transact(async (tx) => {
          writeEverything(tx);
        }),
      ).toThrow(/synchronous/);
      expectUnchanged(store, before);
    });

    it('refuses store methods and nested transactions inside the callback', () => {
      const store = seeded(harness);
      const attempts: (() => unknown)[] = [
        () => store.get('carts', 'a'),
        () => store.scan('carts', 0, 10),
        () => store.head('carts'),
        () => store.setMeta('m', 'v'),
        () => store.transact(() => 1),
      ];
      for (const attempt of attempts) {
        expect(() =>
          store.transact((tx) => {
            tx.put('carts', 'inside', 'x', dotOf(30));
            attempt();
          }),
        ).toThrow(/inside transact/);
      }
      expect(store.get('carts', 'inside')).toBeUndefined();
      expect(store.head('carts').seq).toBe(2);
    });

    it('refuses a transaction handle used after its transaction ended', () => {
      const store = harness.make();
      const leaked = store.transact((tx) => tx);
      expect(() => leaked.put('carts', 'late', 'x', dotOf(1))).toThrow(/ended/);
      expect(() => leaked.get('carts', 'late')).toThrow(/ended/);
      expect(store.head('carts')).toEqual({ seq: 0, hash: CHAIN_HASH_ZERO });
    });
  });
}
