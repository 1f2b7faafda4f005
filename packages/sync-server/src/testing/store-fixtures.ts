import type { Dot } from '@converge/conflict';
import type { RelayStore, WriteHead } from '../store/relay-store.js';

/** How a conformance sub-suite gets stores: every store it opens is closed after each test. */
export interface StoreHarness {
  /** A fresh, empty store. */
  make(): Promise<RelayStore>;
  /** Opens (creating when missing) the store kept at `path`; absent for stores that keep nothing. */
  readonly openFile: ((path: string) => Promise<RelayStore>) | undefined;
  /** Deletes everything kept at `path` (the store there is closed). */
  wipe(path: string): Promise<void>;
  /** Whether `backup` makes copies (else it must reject with a `ConvergeError`). */
  readonly backups: boolean;
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
export async function snapshot(store: RelayStore, collections: readonly string[]) {
  const logs = [];
  for (const collection of collections) {
    const head = await store.head(collection);
    const hashes: (string | undefined)[] = [];
    for (let seq = 0; seq <= head.seq; seq++) hashes.push(await store.hashAt(collection, seq));
    logs.push({ collection, head, hashes, docs: await store.scan(collection, 0, Number.MAX_SAFE_INTEGER) });
  }
  return { lineage: store.lineage, createdAt: store.createdAt, collections: await store.collections(), logs };
}

export type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** Puts `keys` (one change each, dots counting up from `firstCounter`) in one transaction. */
export async function putAll(store: RelayStore, collection: string, keys: readonly string[], firstCounter = 1, state = 'state'): Promise<void> {
  await store.transact(async (tx) => {
    for (const [index, key] of keys.entries()) await tx.put(collection, key, `${state}:${key}`, dotOf(firstCounter + index));
  });
}
