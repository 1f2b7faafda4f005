import type { ChangeResult } from '@converge/protocol';
import { collectionSpec, type CollectionOptions } from '../collection-spec.js';
import type { WriteRequest } from '../replica/apply-write.js';
import { LocalReplica, type PendingEntry } from '../replica/local-replica.js';
import type { SettledChange } from '../replica/settle.js';
import { createMemoryStorage } from '../storage/memory-storage.js';
import type { ReadMemory } from '../replica/read-model.js';
import type { DocRecord, StorageAdapter } from '../storage/storage-adapter.js';
import { decodeAppValue, encodeAppValue } from '../values.js';

/**
 * A storage whose next commit fails after its transaction ran (a disk error at commit): nothing
 * of that transaction is kept, and the write rejects.
 */
export function failingCommits(storage: StorageAdapter = createMemoryStorage()) {
  let failNext = false;
  const adapter: StorageAdapter = {
    kind: storage.kind,
    name: storage.name,
    read: (run) => storage.read(run),
    write: (run, options) =>
      storage.write(async (tx) => {
        const value = await run(tx);
        if (failNext) {
          failNext = false;
          throw new Error('disk error at commit');
        }
        return value;
      }, options),
    onFailure: (listener) => storage.onFailure(listener),
    close: () => storage.close(),
    destroy: () => storage.destroy(),
  };
  return { adapter, failNextCommit: () => void (failNext = true) };
}

/** A replica on memory storage (opened), with helpers to write and to settle what is pending. */
export async function replicaFixture(
  options: {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- collections of any value type
    readonly collections?: Readonly<Record<string, CollectionOptions<any>>>;
    readonly storage?: StorageAdapter;
    readonly now?: () => number;
  } = {},
) {
  const specs = Object.entries(options.collections ?? {}).map(([name, o]) => collectionSpec(name, o));
  const replica = new LocalReplica(options.storage ?? createMemoryStorage(), specs, {
    now: options.now ?? (() => 1_000_000),
    preWelcomeMaxValueBytes: 1024 * 1024,
  });
  await replica.open();
  return {
    replica,
    /** A put of `value` to `key` (collection `notes` unless named), blind unless `read` says what it was derived from. */
    put: (key: string, value: unknown, options: { readonly collection?: string; readonly read?: ReadMemory } = {}): WriteRequest => ({
      collection: options.collection ?? 'notes',
      key,
      ack: 'relay',
      kind: 'put',
      value: encodeAppValue(value),
      read: options.read,
    }),
    /** The values of a record's live siblings, decoded, in dot order. */
    values: (record: DocRecord | undefined): unknown[] => (record?.state.siblings ?? []).flatMap((s) => (s.deleted === true ? [] : [decodeAppValue(s.value)])),
    /** Each pending write as its own pushed change, answered by `result(entry)`. */
    answered: async (result: (entry: PendingEntry) => Omit<ChangeResult, 'collection' | 'key' | 'dot'>): Promise<SettledChange[]> =>
      (await replica.pendingWrites()).map((entry) => ({
        entries: [entry],
        delta: entry.delta,
        result: { collection: entry.collection, key: entry.key, dot: entry.delta.siblings.at(-1)!.dot, ...result(entry) } as ChangeResult,
      })),
  };
}
