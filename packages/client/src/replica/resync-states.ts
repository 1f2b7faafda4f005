import type { DocRecord, StorageAdapter, WriteMark } from '../storage/storage-adapter.js';
import { replicaRecord } from './replica-record.js';
import { markResync } from './write-chain.js';

/** A collection's states for a re-push, and the write number allocated for it. */
export interface ResyncStates {
  readonly records: DocRecord[];
  readonly mark: WriteMark;
}

/**
 * This replica's states of a collection's keys for a re-push after the relay lost data, read
 * page by page from `storage`, with one freshly allocated write number (`markResync`): the relay
 * learns it as this replica's latest, so it is kept (`META.resyncWrite`) for the check after
 * `welcome`. Undefined when there is nothing.
 */
export async function resyncStates(storage: Pick<StorageAdapter, 'read' | 'write'>, collection: string): Promise<ResyncStates | undefined> {
  const records: DocRecord[] = [];
  for (let after: string | undefined; ;) {
    const options = { limit: 500, ...(after === undefined ? {} : { after }) };
    const page = await storage.read((tx) => tx.scanDocs(collection, options));
    records.push(...page.filter((r) => r.state.siblings.length > 0));
    if (page.length < 500) break;
    after = page[page.length - 1]!.key;
  }
  if (records.length === 0) return undefined;
  const mark = await storage.write(async (tx) => markResync(tx, await replicaRecord(tx)));
  return { records, mark };
}
