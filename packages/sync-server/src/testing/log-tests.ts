import { describe, expect, it } from 'vitest';
import { CHAIN_HASH_ZERO, chainHash } from '../store/chain-hash.js';
import type { LoggedDoc, RelayStore, StoredDoc } from '../store/relay-store.js';
import { REPLICA_B, dotOf, putAll, seededRandom, type StoreHarness } from './store-fixtures.js';

/** Keys with every character a naive `LIKE` prefix filter gets wrong, and code points at UTF-8 boundaries. */
const AWKWARD_KEYS = [
  '',
  'a',
  'a%b',
  'a%',
  'a_b',
  'aXb',
  'a\\b',
  'a\\',
  'ab',
  'abc',
  'b',
  'A',
  'ä',
  'äb',
  '😀',
  '😀x',
  '😀😀',
  '\uD7FF',
  '\uD7FFz',
  '\uE000',
  '\uFFFF',
  '\u{10000}',
  '\u{10FFFF}',
  '\u{10FFFF}a',
  '\u{10FFFF}\u{10FFFF}',
  'a\u{10FFFF}',
  'a\u{10FFFF}b',
  'b\u0000',
  'a\u0000b',
];
const AWKWARD_PREFIXES = ['a', 'a%', 'a_', 'a\\', 'ab', 'ä', '😀', '\uD7FF', '\u{10FFFF}', 'a\u{10FFFF}', 'a\u0000', 'zz', 'A'];

function keysOf(docs: readonly StoredDoc[]): string[] {
  return docs.map((doc) => doc.key);
}

/** The docs without their hashes. */
function plain(docs: readonly StoredDoc[]): StoredDoc[] {
  return docs.map(({ key, state, seq }) => ({ key, state, seq }));
}

/** Pages through the log with `limit`, as a catch-up does. */
async function pageThrough(store: RelayStore, collection: string, limit: number, prefix?: string): Promise<LoggedDoc[]> {
  const out: LoggedDoc[] = [];
  let cursor = 0;
  for (;;) {
    const page = await store.scan(collection, cursor, limit, prefix);
    out.push(...page);
    if (page.length < limit) return out;
    cursor = page.at(-1)!.seq;
  }
}

/** A reference log: the docs by key and, per seq, the key written and its hash. */
class ModelLog {
  readonly docs = new Map<string, LoggedDoc>();
  readonly hashes: string[] = [CHAIN_HASH_ZERO];

  put(collection: string, key: string, state: string, counter: number): { seq: number; hash: string } {
    const seq = this.hashes.length;
    const hash = chainHash(this.hashes.at(-1)!, collection, key, dotOf(counter));
    this.hashes.push(hash);
    this.docs.set(key, { key, state, seq, hash });
    return { seq, hash };
  }

  scan(afterSeq: number, prefix = ''): LoggedDoc[] {
    return [...this.docs.values()].filter((doc) => doc.seq > afterSeq && doc.key.startsWith(prefix)).sort((a, b) => a.seq - b.seq);
  }
}

export function logTests(harness: StoreHarness): void {
  describe('seqs and the log', () => {
    it('assigns seqs from 1, gap-free and per collection, in commit order', async () => {
      const store = await harness.make();
      const seen: Record<string, number[]> = { carts: [], stock: [] };
      for (let round = 0; round < 5; round++) {
        await store.transact(async (tx) => {
          seen.carts!.push((await tx.put('carts', `c${round}`, 's', dotOf(round + 1))).seq);
          seen.stock!.push((await tx.put('stock', `s${round}`, 's', dotOf(round + 1))).seq);
          seen.carts!.push((await tx.put('carts', `d${round}`, 's', dotOf(round + 1, REPLICA_B))).seq);
        });
      }
      expect(seen.carts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(seen.stock).toEqual([1, 2, 3, 4, 5]);
      expect((await store.head('carts')).seq).toBe(10);
      expect((await store.head('stock')).seq).toBe(5);
      expect(await store.collections()).toEqual(['carts', 'stock']);
    });

    it('get returns the latest state with the seq of its last change', async () => {
      const store = await harness.make();
      await putAll(store, 'carts', ['a', 'b']);
      await store.transact(async (tx) => await tx.put('carts', 'a', 'second', dotOf(3)));
      expect(await store.get('carts', 'a')).toEqual({ key: 'a', state: 'second', seq: 3 });
      expect(await store.get('carts', 'b')).toEqual({ key: 'b', state: 'state:b', seq: 2 });
      expect(await store.get('carts', 'c')).toBeUndefined();
      expect(await store.get('stock', 'a')).toBeUndefined();
    });

    it('a key that changes again moves to its new seq and leaves its old position', async () => {
      const store = await harness.make();
      await putAll(store, 'carts', ['a', 'b', 'c']);
      await store.transact(async (tx) => await tx.put('carts', 'a', 'a2', dotOf(4)));
      const docs = await store.scan('carts', 0, 10);
      for (const doc of docs) expect(doc.hash).toBe(await store.hashAt('carts', doc.seq));
      expect(plain(docs)).toEqual([
        { key: 'b', state: 'state:b', seq: 2 },
        { key: 'c', state: 'state:c', seq: 3 },
        { key: 'a', state: 'a2', seq: 4 },
      ]);
      expect(keysOf(await store.scan('carts', 1, 10))).toEqual(['b', 'c', 'a']);
      expect(keysOf(await store.scan('carts', 3, 10))).toEqual(['a']);
      expect(await store.scan('carts', 4, 10)).toEqual([]);
      expect(await store.scan('carts', 99, 10)).toEqual([]);
    });

    it('scan honours afterSeq and limit, and paging lists every key once in seq order', async () => {
      const store = await harness.make();
      const keys = Array.from({ length: 25 }, (_, index) => `k${index}`);
      await putAll(store, 'carts', keys);
      await putAll(store, 'carts', ['k3', 'k17', 'k3'], 100);
      expect(keysOf(await store.scan('carts', 0, 3))).toEqual(['k0', 'k1', 'k2']);
      expect(keysOf(await store.scan('carts', 2, 2))).toEqual(['k2', 'k4']);
      for (const limit of [1, 2, 7, 25, 1000]) {
        const paged = await pageThrough(store, 'carts', limit);
        expect(keysOf(paged)).toEqual([...keys.filter((key) => key !== 'k3' && key !== 'k17'), 'k17', 'k3']);
        expect(paged.map((doc) => doc.seq)).toEqual([...paged.map((doc) => doc.seq)].sort((a, b) => a - b));
      }
    });

    it('a prefix selects exactly the keys that start with it, whatever their characters', async () => {
      const store = await harness.make();
      const model = new ModelLog();
      await store.transact(async (tx) => {
        for (const [index, key] of AWKWARD_KEYS.entries()) {
          expect(await tx.put('keys', key, `v${index}`, dotOf(index + 1))).toEqual(model.put('keys', key, `v${index}`, index + 1));
        }
      });
      for (const prefix of [...AWKWARD_PREFIXES, '']) {
        const expected = keysOf(model.scan(0, prefix));
        expect(keysOf(await store.scan('keys', 0, 1000, prefix)), `prefix ${JSON.stringify(prefix)}`).toEqual(expected);
        expect(keysOf(await pageThrough(store, 'keys', 2, prefix)), `paged prefix ${JSON.stringify(prefix)}`).toEqual(expected);
        expect(keysOf(await store.scan('keys', 10, 1000, prefix))).toEqual(keysOf(model.scan(10, prefix)));
      }
      expect((await store.get('keys', '\u{10FFFF}a'))?.state).toBe(`v${AWKWARD_KEYS.indexOf('\u{10FFFF}a')}`);
    });

    it('prefix scans stay exact on a large collection, for rare and for common prefixes', async () => {
      const store = await harness.make();
      const model = new ModelLog();
      await store.transact(async (tx) => {
        for (let index = 0; index < 3000; index++) {
          // Most keys are 'user:…'; a few are 'team:…' or start with U+10FFFF (no upper bound);
          // some are rewritten later in the log.
          const key =
            index % 500 === 7
              ? `team:${index}`
              : index % 700 === 11
                ? `\u{10FFFF}${index}`
                : index % 3 === 0 && index > 1500
                  ? `user:${index - 1500}`
                  : `user:${index}`;
          await tx.put('big', key, `v${index}`, dotOf(index + 1));
          model.put('big', key, `v${index}`, index + 1);
        }
      });
      for (const prefix of ['team:', 'user:', 'user:1', 'nobody', 'u', '\u{10FFFF}']) {
        for (const afterSeq of [0, 1000, 2990]) {
          const expected = model.scan(afterSeq, prefix);
          expect(await store.scan('big', afterSeq, 50, prefix), `${prefix} after ${afterSeq}`).toEqual(expected.slice(0, 50));
        }
        expect(await pageThrough(store, 'big', 200, prefix)).toEqual(model.scan(0, prefix));
      }
    });

    it('random transactions, some failing, agree with a reference log', async () => {
      const seed = Math.floor(Math.random() * 2 ** 31);
      const random = seededRandom(seed);
      const pick = (n: number) => Math.floor(random() * n);
      const store = await harness.make();
      const models = new Map([
        ['a', new ModelLog()],
        ['b', new ModelLog()],
      ]);
      let counter = 0;
      for (let round = 0; round < 150; round++) {
        const fails = pick(10) === 0;
        const writes = Array.from({ length: 1 + pick(5) }, () => ({
          collection: pick(2) === 0 ? 'a' : 'b',
          key: `k${pick(30)}`,
          state: `s${round}`,
          counter: ++counter,
        }));
        try {
          await store.transact(async (tx) => {
            for (const write of writes) await tx.put(write.collection, write.key, write.state, dotOf(write.counter));
            if (fails) throw new Error('abort');
          });
        } catch (error) {
          if (!fails) throw error;
        }
        if (fails) continue;
        for (const write of writes) models.get(write.collection)!.put(write.collection, write.key, write.state, write.counter);
      }
      for (const [collection, model] of models) {
        const context = `seed ${seed}, collection ${collection}`;
        expect(await store.head(collection), context).toEqual({ seq: model.hashes.length - 1, hash: model.hashes.at(-1) });
        expect(await pageThrough(store, collection, 1 + pick(9)), context).toEqual(model.scan(0));
        expect(await store.scan(collection, 40, 1000, 'k1'), context).toEqual(model.scan(40, 'k1'));
        for (const [seq, hash] of model.hashes.entries()) expect(await store.hashAt(collection, seq), context).toBe(hash);
        for (const doc of model.docs.values()) expect(await store.get(collection, doc.key), context).toEqual(plain([doc])[0]);
      }
    });
  });
}
