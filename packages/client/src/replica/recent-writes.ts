import { levelRank } from '../ack-levels.js';
import type { OutboxEntry, StorageReader, StorageWriter, WriteStatus } from '../storage/storage-adapter.js';
import { META, RECENT_WRITES } from './meta-keys.js';

/** True when `next` is a step forward from `current` (`rejected` ends a write that no relay accepted). */
function movesForward(current: WriteStatus['status'], next: WriteStatus['status']): boolean {
  if (current === 'rejected') return false;
  if (next === 'rejected') return current === 'local';
  return levelRank(next) > levelRank(current);
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

/**
 * Where each of `writeIds` stands, read in the transaction `tx`, in the order asked: the status
 * recorded when it left the outbox, `rejected` while it is on the rejected list, `local` while it
 * is in the outbox, or undefined (never made here, or gone from the last `RECENT_WRITES`). The
 * outbox is read only for ids found nowhere else, and not at all when the caller already listed
 * it in this transaction (`outbox`).
 */
export async function readWriteStatuses(tx: StorageReader, writeIds: readonly string[], outbox?: readonly OutboxEntry[]): Promise<(WriteStatus | undefined)[]> {
  if (writeIds.length === 0) return [];
  const recent = (await tx.getMeta<readonly WriteStatus[]>(META.recent)) ?? [];
  const byId = new Map(recent.map((s) => [s.writeId, s]));
  const out: (WriteStatus | undefined)[] = writeIds.map((id) => byId.get(id));
  const unsettled = writeIds.flatMap((id, i) => (out[i] === undefined ? [i] : []));
  if (unsettled.length === 0) return out;
  const rejected = await Promise.all(unsettled.map((i) => tx.getRejected(writeIds[i]!)));
  unsettled.forEach((i, n) => {
    const r = rejected[n];
    if (r !== undefined) out[i] = { writeId: r.writeId, collection: r.collection, key: r.key, status: 'rejected', at: r.at, code: r.code, message: r.message };
  });
  if (out.every((s) => s !== undefined)) return out;
  const pending = new Map((outbox ?? (await tx.listOutbox())).map((e) => [e.writeId, e]));
  for (const i of unsettled) {
    const e = out[i] === undefined ? pending.get(writeIds[i]!) : undefined;
    if (e !== undefined) out[i] = { writeId: e.writeId, collection: e.collection, key: e.key, status: 'local', at: e.createdAt };
  }
  return out;
}
