import { contextsEqual, emptyDocState, mergeDocStates, sameDot, type Dot } from '@converge/conflict';
import type { WireState } from '@converge/protocol';
import { floorKey, floorsKey, type DocRecord, type OutboxEntry, type StorageReader } from '../storage/storage-adapter.js';

/** A document whose record changed in a committed transaction (undefined: the record was removed). */
export interface DocChange {
  readonly collection: string;
  readonly key: string;
  readonly record: DocRecord | undefined;
}

export const docId = (collection: string, key: string): string => `${collection}\u0000${key}`;

/** The dot a pending write made (its delta's one sibling). */
export const entryDot = (entry: OutboxEntry): Dot => entry.delta.siblings[entry.delta.siblings.length - 1]!.dot;

/** True when two states hold the same writes (same context, same sibling dots). */
export function sameState(a: WireState, b: WireState): boolean {
  return (
    a === b ||
    (contextsEqual(a.context, b.context) && a.siblings.length === b.siblings.length && a.siblings.every((s, i) => sameDot(s.dot, b.siblings[i]!.dot)))
  );
}

/**
 * Reads the records of `keys` in one go (parallel requests in one transaction); a key without a
 * record gets a fresh one carrying the key's counter floor.
 */
export async function loadRecords(tx: StorageReader, collection: string, keys: readonly string[]): Promise<Map<string, DocRecord>> {
  const unique = [...new Set(keys)];
  const [found, anyFloor] = await Promise.all([tx.getDocs(collection, unique), tx.getMeta<number>(floorsKey(collection))]);
  const missing = unique.filter((_, i) => found[i] === undefined);
  // Floors are only ever written at eviction, which marks the collection: most have none to read.
  const floors = anyFloor === undefined ? [] : await Promise.all(missing.map((key) => tx.getMeta<number>(floorKey(collection, key))));
  const out = new Map<string, DocRecord>();
  unique.forEach((key, i) => {
    const record = found[i];
    if (record !== undefined) out.set(key, record);
  });
  missing.forEach((key, i) => {
    const floor = floors[i] ?? 0;
    out.set(key, floor > 0 ? { collection, key, state: emptyDocState(), seq: 0, floor } : { collection, key, state: emptyDocState(), seq: 0 });
  });
  return out;
}

/**
 * The record once the pending writes changed: `state` is recomputed as `base` joined with the
 * deltas still pending, so a refused write disappears from what the app reads.
 */
export function rebuild(record: DocRecord, base: WireState, pending: readonly OutboxEntry[]): DocRecord {
  let state = base;
  for (const entry of pending) state = mergeDocStates(state, entry.delta).state;
  const { base: _old, ...rest } = record;
  return pending.length === 0 ? { ...rest, state } : { ...rest, state, base };
}
