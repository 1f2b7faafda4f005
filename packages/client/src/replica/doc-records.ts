import { contextsEqual, ConvergeError, emptyDocState, maxCounter, mergeDocStates, sameDot, type Dot } from '@converge/conflict';
import type { WireState } from '@converge/protocol';
import type { DocRecord, OutboxEntry, ReplicaRecord, StorageReader, StorageWriter } from '../storage/storage-adapter.js';
import { floorKey, floorsKey } from './meta-keys.js';

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
 * The stored records of `keys`, in order (undefined where none), and `floor(i)`: the counter
 * floor of `keys[i]` when it has no record (0: none). One round of parallel reads in the
 * transaction, and a second one only for a collection that ever evicted a key.
 */
export async function findRecords(
  tx: StorageReader,
  collection: string,
  keys: readonly string[],
): Promise<{ readonly found: readonly (DocRecord | undefined)[]; floor(i: number): number }> {
  const [found, anyFloor] = await Promise.all([tx.getDocs(collection, keys), tx.getMeta<number>(floorsKey(collection))]);
  // Floors are only ever written at eviction, which marks the collection: most have none to read.
  const floors =
    anyFloor === undefined
      ? undefined
      : await Promise.all(keys.map((key, i) => (found[i] === undefined ? tx.getMeta<number>(floorKey(collection, key)) : undefined)));
  return { found, floor: (i) => floors?.[i] ?? 0 };
}

/** The record of a key this replica did not hold: `state` at `seq`, carrying the key's counter floor (if any). */
export function newRecord(collection: string, key: string, state: WireState, seq: number, floor: number): DocRecord {
  return floor > 0 ? { collection, key, state, seq, floor } : { collection, key, state, seq };
}

/** The records of `keys` by key; a key without a record gets a fresh, empty one carrying its counter floor. */
export async function loadRecords(tx: StorageReader, collection: string, keys: readonly string[]): Promise<Map<string, DocRecord>> {
  const unique = [...new Set(keys)];
  const { found, floor } = await findRecords(tx, collection, unique);
  const out = new Map<string, DocRecord>();
  unique.forEach((key, i) => out.set(key, found[i] ?? newRecord(collection, key, emptyDocState(), 0, floor(i))));
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

/**
 * Drops the local copy of a document (not a delete: the relay and other replicas keep it),
 * keeping the key's counter floor in meta, so a later write to the key never reuses a counter.
 *
 * @throws ConvergeError `bad_message` while writes to the key are pending.
 */
export async function evictRecord(tx: StorageWriter, rep: ReplicaRecord, collection: string, key: string): Promise<DocChange | undefined> {
  const [record, floor] = await Promise.all([tx.getDoc(collection, key), tx.getMeta<number>(floorKey(collection, key))]);
  if (record === undefined) return undefined;
  if (record.base !== undefined)
    throw new ConvergeError('bad_message', `${collection}/${key} has pending writes: it cannot be evicted until the relay holds them`);
  const counter = Math.max(floor ?? 0, record.floor ?? 0, maxCounter(record.state.context, rep.id));
  if (counter > 0) {
    tx.putMeta(floorKey(collection, key), counter);
    tx.putMeta(floorsKey(collection), 1);
  }
  tx.deleteDoc(collection, key);
  return { collection, key, record: undefined };
}
