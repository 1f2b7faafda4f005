import type { DocRecord, MetaValue, OutboxEntry, RejectedRecord, ReplicaRecord, StorageAdapter } from '../storage/storage-adapter.js';
import { docId } from './doc-records.js';
import { META } from './meta-keys.js';

/** One record of a replica's storage, as an export lists it. */
export type ExportRecord =
  | { readonly type: 'meta'; readonly key: string; readonly value: MetaValue }
  | { readonly type: 'doc'; readonly record: DocRecord }
  | { readonly type: 'pending'; readonly entry: OutboxEntry }
  | { readonly type: 'rejected'; readonly record: RejectedRecord };

/** What an export holds: the replica record read with the rest, then every record (`records` reads on as it is iterated). */
export interface ExportSnapshot {
  readonly replica: ReplicaRecord;
  readonly records: AsyncIterable<ExportRecord>;
}

/** Documents read per transaction while an export pages through them. */
const PAGE = 256;

/**
 * Reads a replica's storage for an export, without holding it all: one read transaction takes
 * the meta entries, the outbox, the rejected writes and the documents those writes touch, so
 * they agree with each other; the other documents follow page by page, each page its own read
 * (the consumer may await anything between records).
 *
 * What may change between those reads cannot make the export lie: the cursors were read before
 * any document of the pages, so they never claim a change the documents lack (an older cursor
 * only means more catch-up); a document written locally after the first read is exported as the
 * relay confirmed it (`base`), since its pending write is not in the exported outbox.
 */
export async function exportSnapshot(storage: Pick<StorageAdapter, 'read'>): Promise<ExportSnapshot | undefined> {
  const first = await storage.read(async (tx) => {
    const [meta, pending, rejected] = await Promise.all([tx.listMeta(), tx.listOutbox(), tx.listRejected()]);
    const keys = new Map<string, Set<string>>();
    for (const e of pending) keys.set(e.collection, (keys.get(e.collection) ?? new Set()).add(e.key));
    const docs = await Promise.all([...keys].map(([collection, set]) => tx.getDocs(collection, [...set])));
    return { meta, pending, rejected, docs: docs.flat().filter((d) => d !== undefined) };
  });
  const replica = first.meta.find(([key]) => key === META.replica)?.[1] as ReplicaRecord | undefined;
  if (replica === undefined) return undefined;
  async function* records(): AsyncGenerator<ExportRecord> {
    // The pending count is this storage's own bookkeeping: an import counts what it adds.
    for (const [key, value] of first.meta) if (key !== META.pending) yield { type: 'meta', key, value };
    const taken = new Set<string>();
    for (const record of first.docs) {
      taken.add(docId(record.collection, record.key));
      yield { type: 'doc', record };
    }
    for (let after: readonly [string, string] | undefined; ;) {
      const from = after;
      const page = await storage.read((tx) => tx.listDocs({ limit: PAGE, ...(from === undefined ? {} : { after: from }) }));
      for (const record of page) {
        if (taken.has(docId(record.collection, record.key))) continue;
        const { base, ...rest } = record;
        yield { type: 'doc', record: base === undefined ? record : { ...rest, state: base } };
      }
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!;
      after = [last.collection, last.key];
    }
    for (const entry of first.pending) yield { type: 'pending', entry };
    for (const record of first.rejected) yield { type: 'rejected', record };
  }
  return { replica, records: records() };
}
