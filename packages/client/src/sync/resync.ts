import type { LocalReplica } from '../replica/local-replica.js';
import type { DocRecord } from '../storage/storage-adapter.js';
import type { PlannedChange } from './push-builder.js';

/**
 * After the relay lost data: this replica's states of a collection's keys, as changes marked
 * `resync` (full states, all with one freshly allocated write number), for the relay to merge.
 */
export async function resyncChanges(replica: LocalReplica, collection: string): Promise<PlannedChange[]> {
  const records: DocRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await replica.storage.read((tx) => tx.scanDocs(collection, { limit: 500, ...(after === undefined ? {} : { after }) }));
    records.push(...page.filter((r) => r.state.siblings.length > 0));
    if (page.length < 500) break;
    after = page[page.length - 1]!.key;
  }
  if (records.length === 0) return [];
  const { writeNumber, chain } = await replica.allocateWriteNumber();
  return records.map((r) => ({ change: { collection: r.collection, key: r.key, delta: r.state, writeNumber, chain, resync: true }, entries: [] }));
}
