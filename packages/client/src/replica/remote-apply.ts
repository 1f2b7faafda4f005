import { mergeDocStates, type Dot } from '@converge/conflict';
import type { Cursor, WireState } from '@converge/protocol';
import type { ReplicaRecord, StorageWriter } from '../storage/storage-adapter.js';
import { loadRecords, sameState, type DocChange } from './doc-records.js';

export interface RemoteDoc {
  readonly key: string;
  readonly seq: number;
  readonly state: WireState;
}

export interface RemoteApplied {
  readonly changes: DocChange[];
  /** Dots of this replica (or an id it used before) that arrived with other content: the id was reused. */
  readonly reused: Dot[];
}

/**
 * Merges states from the relay into the records (and into `base`: the relay has them) and,
 * in the same transaction, stores the subscription's cursor when given.
 */
export async function applyRemoteDocs(
  tx: StorageWriter,
  rep: ReplicaRecord,
  collection: string,
  docs: readonly RemoteDoc[],
  cursor: { readonly key: string; readonly value: Cursor } | undefined,
): Promise<RemoteApplied> {
  const records = await loadRecords(
    tx,
    collection,
    docs.map((d) => d.key),
  );
  const own = new Set([rep.id, ...rep.retired]);
  const changes: DocChange[] = [];
  const reused: Dot[] = [];
  for (const doc of docs) {
    const record = records.get(doc.key)!;
    const merged = mergeDocStates(record.state, doc.state);
    for (const anomaly of merged.anomalies) if (own.has(anomaly.dot[0])) reused.push(anomaly.dot);
    const base = record.base === undefined ? undefined : mergeDocStates(record.base, doc.state).state;
    const seq = Math.max(record.seq, doc.seq);
    const changed = !sameState(record.state, merged.state);
    if (!changed && seq === record.seq && (base === undefined || sameState(base, record.base!))) continue;
    const next = base === undefined ? { ...record, state: merged.state, seq } : { ...record, state: merged.state, base, seq };
    records.set(doc.key, next);
    tx.putDoc(next);
    if (changed) changes.push({ collection, key: doc.key, record: next });
  }
  if (cursor !== undefined) tx.putMeta(cursor.key, cursor.value);
  return { changes, reused };
}
