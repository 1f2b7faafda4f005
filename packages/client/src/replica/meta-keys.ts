import type { StorageWriter } from '../storage/storage-adapter.js';

/**
 * The replica's keys in the `meta` store, one place: only modules of `replica/` read or write
 * them (the layout is in docs/CLIENT.md, "Storage layout").
 */
export const META = {
  /** `ReplicaRecord`: id, write number and chain, last stamp, clock offset, retired ids. */
  replica: 'replica',
  /** The last `welcome.limits`, persisted (values are refused at `put` by `maxValueBytes`). */
  limits: 'limits',
  /** The last `welcome.collections` (mode and strategy): how to write collections the app did not declare. */
  collections: 'collections',
  /** The statuses of the last writes that left the outbox (acknowledged or rejected), oldest first, at most `RECENT_WRITES`. */
  recent: 'recent',
  /** The latest write (`WriteMark`) of a push the relay answered: the relay has seen it. */
  answered: 'answered',
  /** The write number allocated for the last re-push of full states (`WriteMark`): the relay may have seen it. */
  resyncWrite: 'resync-write',
  /**
   * How many entries the outbox holds, kept by every transaction that adds or removes one
   * (`keepPending`), so `status.pending` is one read and not a count of the outbox. Absent in a
   * database written before it was kept: counted once, then kept. Not exported.
   */
  pending: 'pending',
} as const;

/** A transaction that added (`delta` > 0) or removed outbox entries keeps the pending count (absent: nothing to keep yet). */
export async function keepPending(tx: StorageWriter, delta: number): Promise<void> {
  if (delta === 0) return;
  const count = await tx.getMeta<number>(META.pending);
  if (count !== undefined) tx.putMeta(META.pending, count + delta);
}

/** How many settled write statuses meta `recent` keeps. */
export const RECENT_WRITES = 1000;

/** Meta key of a key's counter floor, written when the document record is evicted. */
export const floorKey = (collection: string, key: string): string => `floor\u0000${collection}\u0000${key}`;
/** Meta key set once any key of the collection has a floor in meta (absent: no floor to look up). */
export const floorsKey = (collection: string): string => `floors\u0000${collection}`;
/** Meta key of a subscription's cursor (one log id per collection and filter; the cursor carries the lineage). */
export const cursorKey = (collection: string, prefix = ''): string => `cursor\u0000${collection}\u0000${prefix}`;
