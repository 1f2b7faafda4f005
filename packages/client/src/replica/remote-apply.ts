import { mergeDocStates, type Dot } from '@converge/conflict';
import type { Cursor, WireState } from '@converge/protocol';
import type { DocRecord, ReplicaRecord, StorageWriter } from '../storage/storage-adapter.js';
import { findRecords, newRecord, sameState, type DocChange } from './doc-records.js';

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
 * in the same transaction, stores the subscription's cursor when given. A key the replica does
 * not hold adopts the relay's state as decoded (the common case of a catch-up): no merge, no
 * copy.
 */
export async function applyRemoteDocs(
  tx: StorageWriter,
  rep: ReplicaRecord,
  collection: string,
  docs: readonly RemoteDoc[],
  cursor: { readonly key: string; readonly value: Cursor } | undefined,
): Promise<RemoteApplied> {
  const { found, floor } = await findRecords(
    tx,
    collection,
    docs.map((d) => d.key),
  );
  let own: Set<string> | undefined;
  /** Records written earlier in this frame (a frame may name a key twice). */
  let written: Map<string, DocRecord> | undefined;
  const changes: DocChange[] = [];
  const reused: Dot[] = [];
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i]!;
    const record = written?.get(doc.key) ?? found[i];
    let next: DocRecord;
    if (record === undefined) {
      next = newRecord(collection, doc.key, doc.state, doc.seq, floor(i));
    } else {
      const merged = mergeDocStates(record.state, doc.state);
      for (const anomaly of merged.anomalies) if ((own ??= new Set([rep.id, ...rep.retired])).has(anomaly.dot[0])) reused.push(anomaly.dot);
      const base = record.base === undefined ? undefined : mergeDocStates(record.base, doc.state).state;
      const seq = Math.max(record.seq, doc.seq);
      const changed = !sameState(record.state, merged.state);
      if (!changed && seq === record.seq && (base === undefined || sameState(base, record.base!))) continue;
      next = base === undefined ? { ...record, state: merged.state, seq } : { ...record, state: merged.state, base, seq };
      if (!changed) {
        tx.putDoc(next);
        (written ??= new Map()).set(doc.key, next);
        continue;
      }
    }
    (written ??= new Map()).set(doc.key, next);
    tx.putDoc(next);
    changes.push({ collection, key: doc.key, record: next });
  }
  if (cursor !== undefined) tx.putMeta(cursor.key, cursor.value);
  return { changes, reused };
}
