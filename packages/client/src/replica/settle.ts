import { mergeDocStates, type ErrorCode } from '@converge/conflict';
import type { ChangeResult, RelayAckLevel, WireState } from '@converge/protocol';
import type { OutboxEntry, RejectedRecord, StorageWriter, WriteStatus } from '../storage/storage-adapter.js';
import { docId, entryDot, rebuild, sameState, type DocChange } from './doc-records.js';
import { keepPending } from './meta-keys.js';
import { recordSettled } from './recent-writes.js';
import { noteAnswered } from './write-chain.js';

/** What a refusal means for the write: dropped for good, written again, or kept queued. */
type RefusalKind = 'terminal' | 'clock' | 'identity' | 'retry';

const KINDS: Partial<Record<ErrorCode, RefusalKind>> = {
  forbidden: 'terminal',
  payload_too_large: 'terminal',
  too_many_siblings: 'terminal',
  bad_message: 'terminal',
  conflict_rejected: 'terminal',
  clock_skew: 'clock',
  replica_reset: 'identity',
};

function refusalKind(code: ErrorCode): RefusalKind {
  return KINDS[code] ?? 'retry';
}

/** One pushed change: the outbox entries squashed into it, the delta pushed (their merge), and the relay's result. */
export interface SettledChange {
  readonly entries: readonly (OutboxEntry & { readonly id: number })[];
  readonly delta: WireState;
  readonly result: ChangeResult;
}

export interface Settlement {
  /**
   * Records whose state changed (a refused write rolled back, a state from the relay merged in).
   * A write the relay now holds changes no state, only where it stands: it is reported by
   * `accepted` (and `watchOutbox`), so watchers do not hear of the same value twice.
   */
  readonly changes: DocChange[];
  /** Write ids the relay now holds. */
  readonly accepted: string[];
  readonly rejected: RejectedRecord[];
  /** Some writes were refused for their clock: reconnect (fresh `welcome.now`), then write them again. */
  readonly clockSkew: boolean;
  /** The relay saw this replica's dots with other content: a new replica id is needed. */
  readonly identityLost: boolean;
  /** Some writes stay queued for a transient reason (retry later). */
  readonly retry: boolean;
}

/**
 * Applies an `ack`'s results in one transaction. Accepted writes leave the outbox and join
 * `base` (the relay holds them at `level`); refused ones leave it for the rejected list and are
 * rolled back (`state` is rebuilt from `base`, the relay's `current` and the writes still
 * pending). The counter of a refused dot is kept as the key's floor, so it is never reused.
 * Every write that left the outbox gets its status recorded in meta `recent`.
 */
export async function settlePush(tx: StorageWriter, settled: readonly SettledChange[], now: number, level: RelayAckLevel): Promise<Settlement> {
  // The outbox entries of every document the answer names, as they are now: another tab (one
  // without tab locks pushes on its own) may have settled some already, and only entries still
  // there are removed, counted, or marked.
  const docs = new Map<string, { collection: string; key: string; adds: WireState[]; floor: number; present: Map<number, OutboxEntry> }>();
  for (const { entries } of settled) {
    for (const { collection, key } of entries) {
      const id = docId(collection, key);
      if (!docs.has(id)) docs.set(id, { collection, key, adds: [], floor: 0, present: new Map() });
    }
  }
  await Promise.all(
    [...docs.values()].map(async (d) => {
      for (const entry of await tx.outboxOf(d.collection, d.key)) d.present.set(entry.id!, entry);
    }),
  );
  const touched = new Set<string>();
  const touch = (entry: OutboxEntry) => {
    const id = docId(entry.collection, entry.key);
    touched.add(id);
    return docs.get(id)!;
  };
  let removed = 0;
  const remove = (entry: OutboxEntry & { readonly id: number }) => {
    const doc = docs.get(docId(entry.collection, entry.key))!;
    if (!doc.present.delete(entry.id)) return;
    tx.deleteOutbox(entry.id);
    removed++;
  };
  const accepted: string[] = [];
  const rejected: RejectedRecord[] = [];
  const statuses: WriteStatus[] = [];
  let clockSkew = false;
  let identityLost = false;
  let retry = false;
  for (const { entries, delta, result } of settled) {
    if (result.status === 'accepted') {
      // The relay holds the pushed delta: the merge of the entries' deltas, joined into `base` once.
      touch(entries[0]!).adds.push(delta);
      for (const entry of entries) {
        remove(entry);
        accepted.push(entry.writeId);
        statuses.push({ writeId: entry.writeId, collection: entry.collection, key: entry.key, status: level, at: now });
      }
      continue;
    }
    switch (refusalKind(result.code)) {
      case 'terminal':
        for (const entry of entries) {
          remove(entry);
          const t = touch(entry);
          if (result.current !== undefined) t.adds.push(result.current);
          t.floor = Math.max(t.floor, entryDot(entry)[1]);
          const record: RejectedRecord = {
            writeId: entry.writeId,
            collection: entry.collection,
            key: entry.key,
            write: entry.write,
            code: result.code,
            message: result.message,
            at: now,
            ...(result.current === undefined ? {} : { current: result.current }),
          };
          tx.putRejected(record);
          rejected.push(record);
        }
        break;
      case 'clock':
        clockSkew = true;
        for (const entry of entries) {
          // Marked only as it was pushed: another tab may have written it again (a new dot) meanwhile.
          const stored = docs.get(docId(entry.collection, entry.key))!.present.get(entry.id);
          if (stored?.replica === entry.replica && stored.writeNumber === entry.writeNumber) tx.putOutbox({ ...stored, id: entry.id, skewed: true });
        }
        break;
      case 'identity':
        identityLost = true;
        if (result.current !== undefined) for (const entry of entries) touch(entry).adds.push(result.current);
        break;
      case 'retry':
        retry = true;
        break;
    }
  }
  await keepPending(tx, -removed);
  // Every change of an answered push was noted by the relay, whatever its result.
  await noteAnswered(
    tx,
    settled.flatMap((s) => s.entries),
  );
  for (const r of rejected)
    statuses.push({ writeId: r.writeId, collection: r.collection, key: r.key, status: 'rejected', at: now, code: r.code, message: r.message });
  await recordSettled(tx, statuses);
  const changes: DocChange[] = [];
  for (const id of touched) {
    const t = docs.get(id)!;
    const record = await tx.getDoc(t.collection, t.key);
    if (record === undefined) continue;
    let base = record.base ?? record.state;
    for (const add of t.adds) base = mergeDocStates(base, add).state;
    const rebuilt = rebuild(record, base, [...t.present.values()]); // in outbox order, as read
    const next = t.floor > (record.floor ?? 0) ? { ...rebuilt, floor: t.floor } : rebuilt;
    tx.putDoc(next);
    if (!sameState(record.state, next.state)) changes.push({ collection: t.collection, key: t.key, record: next });
  }
  return { changes, accepted, rejected, clockSkew, identityLost, retry };
}
