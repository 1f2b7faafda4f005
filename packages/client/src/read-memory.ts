import type { CollectionSpec } from './collection-spec.js';
import { readRecord, type Doc, type ReadMemory, type Version } from './replica/read-model.js';
import type { DocRecord } from './storage/storage-adapter.js';

/**
 * What this tab last returned to the app per collection and key — through `get`, `scan` or a
 * `watch` callback — kept in memory: the default context of its next `put` or `delete` there
 * (none: a blind write). Tabs do not share it.
 */
export class ReadMemories {
  readonly #byCollection = new Map<string, Map<string, ReadMemory>>();

  recall(collection: string, key: string): ReadMemory | undefined {
    return this.#byCollection.get(collection)?.get(key);
  }

  remember(collection: string, key: string, memory: ReadMemory): void {
    let memories = this.#byCollection.get(collection);
    if (memories === undefined) this.#byCollection.set(collection, (memories = new Map()));
    memories.set(key, memory);
  }

  /** A stored record as the app reads it (undefined: absent), remembered as returned. */
  read<T>(spec: CollectionSpec, record: DocRecord): Doc<T> | undefined {
    const { doc, memory } = readRecord<T>(spec, record);
    this.remember(spec.name, record.key, memory);
    return doc;
  }

  /** The read context of a write: `version` when the app gave one, else what this tab last returned. */
  contextOf(collection: string, key: string, version: Version | undefined): ReadMemory | undefined {
    const remembered = this.recall(collection, key);
    if (version === undefined) return remembered;
    return { context: version, winner: remembered?.context === version ? remembered.winner : undefined };
  }
}
