import { ConvergeError, WRITE_CHAIN_ZERO, type Dot } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { CHAIN_HASH_ZERO, chainHash } from '../store/chain-hash.js';
import { REPLICA_A, REPLICA_B, dotOf, putAll, snapshot, writeHeadOf, type StoreHarness } from './store-fixtures.js';

function expectConvergeError(run: () => unknown, code: string, pattern?: RegExp): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConvergeError);
  expect((thrown as ConvergeError).code).toBe(code);
  if (pattern !== undefined) expect((thrown as ConvergeError).message).toMatch(pattern);
}

export function identityTests(harness: StoreHarness): void {
  describe('a new store', () => {
    it('is empty: no collections, no documents, the log at seq 0 with the zero hash', () => {
      const store = harness.make();
      expect(store.closed).toBe(false);
      expect(store.collections()).toEqual([]);
      expect(store.head('carts')).toEqual({ seq: 0, hash: CHAIN_HASH_ZERO });
      expect(store.hashAt('carts', 0)).toBe(CHAIN_HASH_ZERO);
      expect(store.hashAt('carts', 1)).toBeUndefined();
      expect(store.get('carts', 'a')).toBeUndefined();
      expect(store.scan('carts', 0, 10)).toEqual([]);
      expect(store.writeHead(REPLICA_A).writeNumber).toBe(0);
      expect(store.getMeta('anything')).toBeUndefined();
      expect(store.stats().collections).toEqual([]);
    });

    it('has its own random lineage of at least 96 bits and its creation time', () => {
      const before = Date.now();
      const one = harness.make();
      const two = harness.make();
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
    it('is h(seq) = H(h(seq − 1), collection, key, dot), from the zero hash, per collection', () => {
      const store = harness.make();
      const first = store.transact((tx) => tx.put('carts', 'a', 'state one', dotOf(1)));
      const second = store.transact((tx) => tx.put('carts', 'b', 'state two', dotOf(4, REPLICA_B)));
      const other = store.transact((tx) => tx.put('stock', 'a', 'state', dotOf(1)));
      const h1 = chainHash(CHAIN_HASH_ZERO, 'carts', 'a', dotOf(1));
      expect(first).toEqual({ seq: 1, hash: h1 });
      expect(second).toEqual({ seq: 2, hash: chainHash(h1, 'carts', 'b', dotOf(4, REPLICA_B)) });
      expect(other).toEqual({ seq: 1, hash: chainHash(CHAIN_HASH_ZERO, 'stock', 'a', dotOf(1)) });
      expect(store.head('carts')).toEqual(second);
    });

    it('two stores given the same changes in the same order agree; another order differs', () => {
      const one = harness.make();
      const two = harness.make();
      const three = harness.make();
      const changes: [string, string, Dot][] = [
        ['carts', 'a', dotOf(1)],
        ['carts', 'b', dotOf(1, REPLICA_B)],
        ['stock', 'a', dotOf(2)],
        ['carts', 'a', dotOf(3)],
      ];
      for (const [collection, key, dot] of changes) one.transact((tx) => tx.put(collection, key, 'x', dot));
      two.transact((tx) => {
        for (const [collection, key, dot] of changes) tx.put(collection, key, 'different state, same change', dot);
      });
      three.transact((tx) => {
        const reordered = [changes[1]!, changes[0]!, changes[2]!, changes[3]!];
        for (const [collection, key, dot] of reordered) tx.put(collection, key, 'x', dot);
      });
      const logsOf = (store: typeof one) => snapshot(store, ['carts', 'stock']).logs.map((log) => log.hashes);
      expect(logsOf(two)).toEqual(logsOf(one));
      expect(three.head('carts').seq).toBe(one.head('carts').seq);
      expect(three.head('carts').hash).not.toBe(one.head('carts').hash);
      expect(three.head('stock')).toEqual(one.head('stock'));
    });

    it('keeps the hash of a seq whose key moved on, and knows nothing beyond the head', () => {
      const store = harness.make();
      const first = store.transact((tx) => tx.put('carts', 'a', 'one', dotOf(1)));
      const second = store.transact((tx) => tx.put('carts', 'a', 'two', dotOf(2)));
      expect(store.scan('carts', 0, 10).map((doc) => doc.seq)).toEqual([2]);
      expect(store.hashAt('carts', 1)).toBe(first.hash);
      expect(store.hashAt('carts', 2)).toBe(second.hash);
      expect(store.hashAt('carts', 3)).toBeUndefined();
      expect(store.hashAt('stock', 1)).toBeUndefined();
    });
  });
}

export function recordTests(harness: StoreHarness): void {
  describe('leader decisions', () => {
    it('records accepted and rejected decisions per collection, key and dot', () => {
      const store = harness.make();
      store.transact((tx) => {
        const { seq } = tx.put('carts', 'a', 'x', dotOf(1));
        tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq });
        tx.recordDecision('carts', 'a', dotOf(1, REPLICA_B), { status: 'rejected' });
      });
      expect(store.decision('carts', 'a', dotOf(1))).toEqual({ status: 'accepted', seq: 1 });
      expect(store.decision('carts', 'a', dotOf(1, REPLICA_B))).toEqual({ status: 'rejected' });
      expect(store.decision('carts', 'a', dotOf(2))).toBeUndefined();
      expect(store.decision('carts', 'b', dotOf(1))).toBeUndefined();
      expect(store.decision('stock', 'a', dotOf(1))).toBeUndefined();
      store.transact((tx) => expect(tx.decision('carts', 'a', dotOf(1, REPLICA_B))).toEqual({ status: 'rejected' }));
    });

    it("keeps each decision's content fingerprint when one is given", () => {
      const store = harness.make();
      store.transact((tx) => {
        const { seq } = tx.put('carts', 'a', 'x', dotOf(1));
        tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq, content: 'fingerprint-1' });
        tx.recordDecision('carts', 'a', dotOf(2), { status: 'rejected', content: 'fingerprint-2' });
      });
      expect(store.decision('carts', 'a', dotOf(1))).toEqual({ status: 'accepted', seq: 1, content: 'fingerprint-1' });
      expect(store.decision('carts', 'a', dotOf(2))).toEqual({ status: 'rejected', content: 'fingerprint-2' });
    });

    it('a decision is final: recording it again is a no-op, a different one is refused', () => {
      const store = harness.make();
      putAll(store, 'carts', ['a', 'b']);
      store.transact((tx) => tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq: 1 }));
      store.transact((tx) => tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq: 1 }));
      expectConvergeError(() => store.transact((tx) => tx.recordDecision('carts', 'a', dotOf(1), { status: 'rejected' })), 'internal', /final/);
      expectConvergeError(() => store.transact((tx) => tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq: 2 })), 'internal');
      expect(store.decision('carts', 'a', dotOf(1))).toEqual({ status: 'accepted', seq: 1 });
    });

    it('refuses an accepted seq beyond the head', () => {
      const store = harness.make();
      putAll(store, 'carts', ['a']);
      expectConvergeError(() => store.transact((tx) => tx.recordDecision('carts', 'a', dotOf(1), { status: 'accepted', seq: 2 })), 'internal', /beyond/);
      expect(store.decision('carts', 'a', dotOf(1))).toBeUndefined();
    });
  });

  describe('write numbers and meta', () => {
    it('keeps the latest write per replica id: the highest write number with its chain; an equal number does not replace the chain', () => {
      const store = harness.make();
      store.transact((tx) => {
        tx.noteWrite(REPLICA_A, writeHeadOf(5, 'aa'));
        tx.noteWrite(REPLICA_A, writeHeadOf(3, 'bb'));
        tx.noteWrite(REPLICA_B, writeHeadOf(1, 'cc'));
      });
      store.transact((tx) => {
        tx.noteWrite(REPLICA_A, writeHeadOf(4, 'dd'));
        tx.noteWrite(REPLICA_A, writeHeadOf(5, 'ee'));
      });
      expect(store.writeHead(REPLICA_A)).toEqual({ writeNumber: 5, chain: 'aa' });
      expect(store.writeHead(REPLICA_B)).toEqual({ writeNumber: 1, chain: 'cc' });
      store.transact((tx) => tx.noteWrite(REPLICA_A, writeHeadOf(9, 'ff')));
      expect(store.writeHead(REPLICA_A)).toEqual({ writeNumber: 9, chain: 'ff' });
      expect(store.writeHead('replicaCCCCCCCCCCCCCCC')).toEqual({ writeNumber: 0, chain: WRITE_CHAIN_ZERO });
    });

    it('sets, replaces and removes meta values', () => {
      const store = harness.make();
      store.setMeta('recovery-window-until', '1700000000000');
      expect(store.getMeta('recovery-window-until')).toBe('1700000000000');
      store.transact((tx) => tx.setMeta('recovery-window-until', '1800000000000'));
      expect(store.getMeta('recovery-window-until')).toBe('1800000000000');
      store.setMeta('recovery-window-until', undefined);
      expect(store.getMeta('recovery-window-until')).toBeUndefined();
    });
  });

  describe('replica owners', () => {
    it('binds a replica id to the first principal that claims it, for good', () => {
      const store = harness.make();
      expect(store.replicaOwner(REPLICA_A)).toBeUndefined();
      expect(store.claimReplica(REPLICA_A, 'alice')).toBe('alice');
      expect(store.claimReplica(REPLICA_A, 'mallory')).toBe('alice');
      expect(store.replicaOwner(REPLICA_A)).toBe('alice');
      expect(store.replicaOwner(REPLICA_B)).toBeUndefined();
      expect(() =>
        store.transact((tx) => [
          tx.claimReplica(REPLICA_B, 'bob'),
          tx.put('carts', 'a', 'x', dotOf(1)),
          tx.recordDecision('carts', 'a', dotOf(9), { status: 'accepted', seq: 5 }),
        ]),
      ).toThrow(ConvergeError);
      expect(store.replicaOwner(REPLICA_B)).toBeUndefined(); // rolled back with its transaction
    });
  });

  describe('stats', () => {
    it('counts each key once per collection and reports a size', () => {
      const store = harness.make();
      const empty = store.stats().bytes;
      putAll(store, 'stock', ['x']);
      putAll(store, 'carts', ['a', 'b', 'c']);
      putAll(store, 'carts', ['a', 'a'], 10);
      const stats = store.stats();
      expect(stats.collections).toEqual([
        { name: 'carts', keys: 3, seq: 5 },
        { name: 'stock', keys: 1, seq: 1 },
      ]);
      expect(stats.bytes).toBeGreaterThan(0);
      expect(stats.bytes).toBeGreaterThanOrEqual(empty);
    });
  });

  describe('argument checks', () => {
    it('refuses malformed arguments with bad_message and changes nothing', () => {
      const store = harness.make();
      putAll(store, 'carts', ['a']);
      const before = snapshot(store, ['carts']);
      const loneSurrogate = 'key\uD800';
      const attempts: (() => unknown)[] = [
        () => store.transact((tx) => tx.put('carts', loneSurrogate, 'x', dotOf(2))),
        () => store.transact((tx) => tx.put('carts', 'b', 'x', ['A', 0])),
        () => store.transact((tx) => tx.put('carts', 'b', 'x', ['A', 1.5])),
        () => store.transact((tx) => tx.put('carts', 'b', 'x', ['__proto__', 1])),
        () => store.transact((tx) => tx.put('carts', 'b', 42 as unknown as string, dotOf(2))),
        () => store.transact((tx) => tx.noteWrite(REPLICA_A, writeHeadOf(-1))),
        () => store.transact((tx) => tx.noteWrite('not valid!', writeHeadOf(1))),
        () => store.transact((tx) => tx.noteWrite(REPLICA_A, writeHeadOf(2, 'NOT HEX'))),
        () => store.transact((tx) => tx.recordDecision('carts', 'a', dotOf(1), { status: 'maybe' } as never)),
        () => store.transact((tx) => tx.recordDecision('carts', 'a', dotOf(1), { status: 'rejected', content: 42 } as never)),
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
      for (const attempt of attempts) expectConvergeError(attempt, 'bad_message');
      expect(snapshot(store, ['carts'])).toEqual(before);
    });
  });

  describe('close', () => {
    it('is idempotent, and afterwards every method throws a ConvergeError', async () => {
      const store = harness.make();
      putAll(store, 'carts', ['a']);
      store.close();
      store.close();
      expect(store.closed).toBe(true);
      const attempts: (() => unknown)[] = [
        () => store.get('carts', 'a'),
        () => store.head('carts'),
        () => store.scan('carts', 0, 10),
        () => store.hashAt('carts', 1),
        () => store.collections(),
        () => store.decision('carts', 'a', dotOf(1)),
        () => store.writeHead(REPLICA_A).writeNumber,
        () => store.getMeta('m'),
        () => store.setMeta('m', 'v'),
        () => store.replicaOwner(REPLICA_A),
        () => store.claimReplica(REPLICA_A, 'alice'),
        () => store.stats(),
        () => store.transact(() => 1),
      ];
      for (const attempt of attempts) expectConvergeError(attempt, 'internal', /closed/);
      await expect(store.backup(harness.tempPath('after-close.db'))).rejects.toThrow(/closed/);
    });

    it('is refused inside a transaction, which then keeps nothing', () => {
      const store = harness.make();
      expectConvergeError(
        () =>
          store.transact((tx) => {
            tx.put('carts', 'a', 'x', dotOf(1));
            store.close();
          }),
        'internal',
        /inside transact/,
      );
      expect(store.closed).toBe(false);
      expect(store.get('carts', 'a')).toBeUndefined();
    });
  });
}
