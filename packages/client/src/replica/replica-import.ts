import { ConvergeError, CRDT_TYPES, type HlcClock } from '@converge/conflict';
import type { CollectionDeclaration } from '@converge/protocol';
import type { CollectionSpec } from '../collection-spec.js';
import type { DocRecord, MetaValue, OutboxEntry, RejectedRecord, ReplicaRecord, StorageWriter } from '../storage/storage-adapter.js';
import { docId, type DocChange } from './doc-records.js';
import { META } from './meta-keys.js';
import type { ReplicaClock } from './replica-clock.js';
import { newReplicaId } from './replica-record.js';
import { rewritePending, type RewrittenWrite } from './rewrite.js';

/** An export read and checked (`readExport`), ready to be stored in one transaction. */
export interface ImportedData {
  /** The exported replica record (meta `replica`). */
  readonly replica: ReplicaRecord;
  /** Every other meta entry, by its meta key. */
  readonly meta: readonly (readonly [string, MetaValue])[];
  readonly docs: readonly DocRecord[];
  /** Pending writes in outbox order. */
  readonly pending: readonly OutboxEntry[];
  readonly rejected: readonly RejectedRecord[];
}

export interface ImportEnv {
  readonly clocks: ReplicaClock;
  readonly spec: (collection: string) => CollectionSpec;
  /** Each collection as the exporter ran it: kept in meta `collections` beside the relay's last announcement (which wins). */
  readonly collections: Readonly<Record<string, CollectionDeclaration>>;
}

const crdtOf = (strategy: string): string | undefined => (Object.hasOwn(CRDT_TYPES, strategy) ? strategy : undefined);

/**
 * Why an export whose collections ran as `exported` cannot be loaded by a client declaring
 * `declared`: a collection the app declares with another CRDT type (or a CRDT type where the
 * export holds register values, or the reverse). Register strategies (`siblings`, `lww`,
 * `merge`) and modes may differ: the values are alike, and the relay's configuration decides.
 */
export function declarationProblem(declared: readonly CollectionSpec[], exported: Readonly<Record<string, CollectionDeclaration>>): string | undefined {
  for (const spec of declared) {
    const theirs = exported[spec.name];
    if (spec.declared && theirs !== undefined && crdtOf(spec.strategy) !== crdtOf(theirs.strategy))
      return `collection ${spec.name} holds ${theirs.strategy} values in the export; this client declares it ${spec.strategy}`;
  }
  return undefined;
}

export interface ImportResult {
  /** The replica record as stored: the new id, the exported one retired. */
  readonly rep: ReplicaRecord;
  readonly clock: HlcClock;
  /** Every imported document as stored (the rewritten ones with their new writes). */
  readonly changes: DocChange[];
  readonly rewritten: RewrittenWrite[];
}

/**
 * Stores an export in an empty replica, in the one transaction `tx`, and gives it a new identity
 * before anything can write or push: the exported replica id joins `retired`, a new one is
 * minted, and every pending write is written again under it from what the relay confirmed
 * (`rewritePending`, the path identity loss takes). An export is an older copy of a replica's
 * storage — the original may go on writing, and the same export may be imported twice — so no
 * copy may mint a dot under the exported id. Counters of the new id start afresh (the exported
 * counter floors are kept); the exported id's dots in the states stay: they are its writes.
 *
 * @throws ConvergeError `bad_message` when the replica already holds documents or writes (nothing is written).
 */
export async function importRecords(tx: StorageWriter, data: ImportedData, env: ImportEnv): Promise<ImportResult> {
  const [current, docs, pending, rejected] = await Promise.all([
    tx.getMeta<ReplicaRecord>(META.replica),
    tx.listDocs({ limit: 1 }),
    tx.countOutbox(),
    tx.listRejected(),
  ]);
  if (docs.length > 0 || pending > 0 || rejected.length > 0 || (current?.writeNumber ?? 0) > 0) {
    throw new ConvergeError(
      'bad_message',
      'importData loads into an empty client only: this one already holds documents or writes (import into a client with a new name)',
    );
  }
  for (const [key, value] of data.meta) tx.putMeta(key, value);
  const announced = data.meta.find(([key]) => key === META.collections)?.[1] as Readonly<Record<string, CollectionDeclaration>> | undefined;
  tx.putMeta(META.collections, { ...env.collections, ...announced });
  for (const record of data.docs) tx.putDoc(record);
  for (const entry of data.pending) tx.addOutbox(entry);
  tx.putMeta(META.pending, data.pending.length);
  for (const record of data.rejected) tx.putRejected(record);
  const exported = data.replica;
  const retired = [...exported.retired, exported.id, ...(current === undefined ? [] : [current.id])];
  const next: ReplicaRecord = { ...exported, id: newReplicaId(), retired };
  const { rep, clock, changes, rewritten } = await rewritePending(tx, next, { clocks: env.clocks, spec: env.spec, fromBase: true });
  const byId = new Map(changes.map((c) => [docId(c.collection, c.key), c]));
  const all = data.docs.map((d) => byId.get(docId(d.collection, d.key)) ?? { collection: d.collection, key: d.key, record: d });
  return { rep, clock, changes: all, rewritten };
}
