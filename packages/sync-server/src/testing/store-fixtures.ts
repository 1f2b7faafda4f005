import type { Dot } from '@converge/conflict';
import type { RelayStore, WriteHead } from '../store/relay-store.js';

/** How a conformance sub-suite gets stores: every store it opens is closed after each test. */
export interface StoreHarness {
  /** A fresh, empty store. */
  make(): RelayStore;
  /** Opens (creating when missing) the file-backed store at `path`; absent for stores without files. */
  readonly openFile: ((path: string) => RelayStore) | undefined;
  /** A path in a fresh directory of this test run, e.g. `tempPath('relay.db')`. */
  tempPath(name: string): string;
}

export const REPLICA_A = 'replicaAAAAAAAAAAAAAAA';
export const REPLICA_B = 'replicaBBBBBBBBBBBBBBB';

/** A replica's latest write with write number `n` and a chain made up for it (`chain` overrides it). */
export function writeHeadOf(n: number, chain = Math.abs(n).toString(16)): WriteHead {
  return { writeNumber: n, chain };
}

export function dotOf(counter: number, replica: string = REPLICA_A): Dot {
  return [replica, counter];
}

/** A small seeded PRNG (mulberry32): a failing run repeats with the seed it prints. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Everything a store holds for `collections`, for comparing two stores or a store before and after. */
export function snapshot(store: RelayStore, collections: readonly string[]) {
  return {
    lineage: store.lineage,
    createdAt: store.createdAt,
    collections: store.collections(),
    logs: collections.map((collection) => {
      const head = store.head(collection);
      const hashes: (string | undefined)[] = [];
      for (let seq = 0; seq <= head.seq; seq++) hashes.push(store.hashAt(collection, seq));
      return { collection, head, hashes, docs: store.scan(collection, 0, Number.MAX_SAFE_INTEGER) };
    }),
  };
}

/** Puts `keys` (one change each, dots counting up from `firstCounter`) in one transaction. */
export function putAll(store: RelayStore, collection: string, keys: readonly string[], firstCounter = 1, state = 'state'): void {
  store.transact((tx) => {
    keys.forEach((key, index) => tx.put(collection, key, `${state}:${key}`, dotOf(firstCounter + index)));
  });
}
