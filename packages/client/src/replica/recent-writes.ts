import { META, RECENT_WRITES, type StorageReader, type StorageWriter, type WriteStatus } from '../storage/storage-adapter.js';

const ORDER: readonly WriteStatus['status'][] = ['local', 'relay', 'quorum', 'all'];

/** True when `next` is a step forward from `current` (`rejected` ends a write that no relay accepted). */
function movesForward(current: WriteStatus['status'], next: WriteStatus['status']): boolean {
  if (current === 'rejected') return false;
  if (next === 'rejected') return current === 'local';
  return ORDER.indexOf(next) > ORDER.indexOf(current);
}

/**
 * Records, in the transaction that settles them, the statuses of writes that left the outbox.
 * A status never moves back: a later, lower report for a known write is ignored. Keeps the last
 * `RECENT_WRITES`.
 */
export async function recordSettled(tx: StorageWriter, settled: readonly WriteStatus[]): Promise<void> {
  if (settled.length === 0) return;
  const recent = (await tx.getMeta<readonly WriteStatus[]>(META.recent)) ?? [];
  const byId = new Map(recent.map((s) => [s.writeId, s]));
  for (const s of settled) {
    const known = byId.get(s.writeId);
    if (known === undefined || movesForward(known.status, s.status)) {
      byId.delete(s.writeId); // moves to the end: the newest
      byId.set(s.writeId, s);
    }
  }
  const next = [...byId.values()];
  tx.putMeta(META.recent, next.length > RECENT_WRITES ? next.slice(next.length - RECENT_WRITES) : next);
}

/** The recorded statuses of `writeIds` that left the outbox (those still recorded), in the order asked. */
export async function settledStatuses(tx: StorageReader, writeIds: readonly string[]): Promise<WriteStatus[]> {
  if (writeIds.length === 0) return [];
  const recent = (await tx.getMeta<readonly WriteStatus[]>(META.recent)) ?? [];
  const byId = new Map(recent.map((s) => [s.writeId, s]));
  return writeIds.flatMap((id) => byId.get(id) ?? []);
}
