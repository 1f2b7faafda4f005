import type { Dot, HlcClock, Sibling } from '@converge/conflict';
import type { RelayLimits, WireValue } from '@converge/protocol';
import type { CollectionSpec } from '../collection-spec.js';
import type { DocRecord, ReplicaRecord, StorageWriter } from '../storage/storage-adapter.js';
import { applyWrite, type WriteRequest } from './apply-write.js';
import { docId, loadRecords } from './doc-records.js';
import type { ReadMemory } from './read-model.js';
import { META } from './meta-keys.js';
import type { ReplicaClock } from './replica-clock.js';
import { replicaRecord } from './replica-record.js';
import { chainAfterWrite } from './write-chain.js';

/** A write once its transaction is written (committed when the transaction is). */
export interface CommittedWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly record: DocRecord;
  readonly discarded: readonly Sibling<WireValue>[];
  readonly memory: ReadMemory;
  readonly dot: Dot;
}

export interface WriteContext {
  /** This tab's clock, which gives the transaction's (`ReplicaClock.forTransaction`). */
  readonly clocks: ReplicaClock;
  /** The largest value accepted before the first `welcome`. */
  readonly preWelcomeMaxValueBytes: number;
  /** The spec of each collection written to. */
  readonly specs: ReadonlyMap<string, CollectionSpec>;
  readonly now: () => number;
}

/**
 * The body of a write transaction: reads the replica record, the last `welcome.limits` and the
 * records, allocates a dot and a write number per request, applies it (CRDT operations and
 * `update` functions run on the stored state here), stores the records, one outbox entry per
 * write (and the pending count), and the bumped replica record. Nothing but the transaction is awaited. Returns the
 * transaction's clock for this tab to follow once it has committed.
 */
export async function writeRequests(
  tx: StorageWriter,
  requests: readonly WriteRequest[],
  context: WriteContext,
): Promise<{ written: CommittedWrite[]; rep: ReplicaRecord; clock: HlcClock }> {
  const [rep, limits, pending] = await Promise.all([replicaRecord(tx), tx.getMeta<RelayLimits>(META.limits), tx.getMeta<number>(META.pending)]);
  const clock = context.clocks.forTransaction(rep);
  const now = context.now();
  const maxValueBytes = limits?.maxValueBytes ?? context.preWelcomeMaxValueBytes;
  const maxStateBytes = limits?.maxStateBytes ?? Infinity;
  const byCollection = new Map<string, string[]>();
  for (const r of requests) {
    const keys = byCollection.get(r.collection);
    if (keys === undefined) byCollection.set(r.collection, [r.key]);
    else keys.push(r.key);
  }
  const records = new Map<string, DocRecord>();
  await Promise.all(
    [...byCollection].map(async ([collection, keys]) => {
      for (const [key, record] of await loadRecords(tx, collection, keys)) records.set(docId(collection, key), record);
    }),
  );
  let writeNumber = rep.writeNumber;
  let chain = rep.chain;
  const out: CommittedWrite[] = [];
  for (const request of requests) {
    const spec = context.specs.get(request.collection)!;
    const id = docId(request.collection, request.key);
    const applied = applyWrite(spec, records.get(id)!, request, { replica: rep.id, hlc: clock.tick(), maxValueBytes, maxStateBytes });
    writeNumber++;
    chain = chainAfterWrite(chain, request.collection, request.key, applied.delta, applied.dot);
    const writeId = request.writeId ?? `${rep.id}:${writeNumber}`;
    tx.addOutbox({
      writeId,
      collection: request.collection,
      key: request.key,
      mode: spec.mode,
      replica: rep.id,
      writeNumber,
      chain,
      delta: applied.delta,
      write: applied.intent,
      ack: request.ack,
      createdAt: now,
    });
    records.set(id, applied.record);
    out.push({
      writeId,
      collection: request.collection,
      key: request.key,
      record: applied.record,
      discarded: applied.discarded,
      memory: applied.memory,
      dot: applied.dot,
    });
  }
  for (const id of new Set(requests.map((r) => docId(r.collection, r.key)))) tx.putDoc(records.get(id)!);
  const next: ReplicaRecord = { ...rep, writeNumber, ...(chain === undefined ? {} : { chain }), clock: clock.last() };
  if (requests.length > 0) tx.putMeta(META.replica, next);
  if (pending !== undefined && requests.length > 0) tx.putMeta(META.pending, pending + requests.length); // one outbox entry per request
  return { written: out.map((w) => ({ ...w, record: records.get(docId(w.collection, w.key))! })), rep: requests.length > 0 ? next : rep, clock };
}
