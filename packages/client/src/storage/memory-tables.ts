import type { DocRecord, MetaValue, OutboxEntry, RejectedRecord } from './storage-adapter.js';

export type Entry = OutboxEntry & { readonly id: number };

export const compareKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const docKey = (collection: string, key: string) => `${collection}\u0000${key}`;

/**
 * The tables of one in-memory database (docs, meta, outbox, rejected), with the indexes that
 * make its reads cheap, and the queue its transactions wait in. Transactions change them only
 * at commit (`MemoryTx.commit`).
 */
export class MemoryTables {
  readonly docs = new Map<string, Map<string, DocRecord>>();
  readonly meta = new Map<string, MetaValue>();
  /** Pending writes by id; changed only through `setOutbox` (which keeps `outboxIdsOf` in step). */
  readonly outbox = new Map<number, Entry>();
  readonly rejected = new Map<string, RejectedRecord>();
  nextOutboxId = 1;
  /** Outbox ids per document: `outboxOf` looks up a key's pending writes without reading the whole outbox. */
  private readonly outboxByDoc = new Map<string, Set<number>>();
  /** The highest outbox id ever set, and whether `outbox` is still in id order (no id was set below it). */
  private maxOutboxId = 0;
  private outboxInIdOrder = true;
  /** Transactions run one at a time, in the order they were asked for. */
  queue: Promise<unknown> = Promise.resolve();
  /** The handles open on this database (told when another one deletes it). */
  readonly handles = new Set<{ fail(error: Error): void }>();
  private readonly sortedKeys = new Map<string, string[]>();

  keysOf(collection: string): readonly string[] {
    let keys = this.sortedKeys.get(collection);
    if (keys === undefined) {
      keys = [...(this.docs.get(collection)?.keys() ?? [])].sort(compareKeys);
      this.sortedKeys.set(collection, keys);
    }
    return keys;
  }

  setDoc(collection: string, key: string, record: DocRecord | null): void {
    let docs = this.docs.get(collection);
    if (record === null) {
      if (docs?.delete(key) === true) this.sortedKeys.delete(collection);
      return;
    }
    if (docs === undefined) this.docs.set(collection, (docs = new Map()));
    if (!docs.has(key)) {
      // A key after every other (catch-up arrives in key order often) keeps the order as it is.
      const keys = this.sortedKeys.get(collection);
      if (keys !== undefined && (keys.length === 0 || keys[keys.length - 1]! < key)) keys.push(key);
      else this.sortedKeys.delete(collection);
    }
    docs.set(key, record);
  }

  setOutbox(id: number, entry: Entry | null): void {
    const old = this.outbox.get(id);
    if (old !== undefined) {
      const doc = docKey(old.collection, old.key);
      const ids = this.outboxByDoc.get(doc);
      if (ids?.delete(id) === true && ids.size === 0) this.outboxByDoc.delete(doc);
    }
    if (entry === null) {
      this.outbox.delete(id);
      return;
    }
    if (old === undefined && id < this.maxOutboxId) this.outboxInIdOrder = false;
    this.maxOutboxId = Math.max(this.maxOutboxId, id);
    this.outbox.set(id, entry);
    const doc = docKey(entry.collection, entry.key);
    let ids = this.outboxByDoc.get(doc);
    if (ids === undefined) this.outboxByDoc.set(doc, (ids = new Set()));
    ids.add(id);
  }

  /** The committed outbox in id order. */
  outboxEntries(): Entry[] {
    if (!this.outboxInIdOrder) {
      const sorted = [...this.outbox].sort((a, b) => a[0] - b[0]);
      this.outbox.clear();
      for (const [id, entry] of sorted) this.outbox.set(id, entry);
      this.outboxInIdOrder = true;
    }
    return [...this.outbox.values()];
  }

  /** The ids of the pending writes to one document (`docKey`), as committed. */
  outboxIdsOf(doc: string): ReadonlySet<number> | undefined {
    return this.outboxByDoc.get(doc);
  }

  /** Empties the database (it was deleted). */
  clear(): void {
    this.docs.clear();
    this.sortedKeys.clear();
    this.meta.clear();
    this.outbox.clear();
    this.outboxByDoc.clear();
    this.maxOutboxId = 0;
    this.outboxInIdOrder = true;
    this.rejected.clear();
    this.nextOutboxId = 1;
  }

  /** Replaces everything with the contents of `backup`. */
  copyFrom(backup: MemoryTables): void {
    this.clear();
    for (const [collection, docs] of backup.docs) this.docs.set(collection, new Map(docs));
    for (const [key, value] of backup.meta) this.meta.set(key, value);
    for (const [id, entry] of backup.outbox) this.setOutbox(id, entry);
    for (const [id, record] of backup.rejected) this.rejected.set(id, record);
    this.nextOutboxId = backup.nextOutboxId;
  }
}
