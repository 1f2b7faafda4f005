import { ConvergeError } from '@converge/conflict';
import type {
  DocRecord,
  MetaValue,
  OutboxEntry,
  RejectedRecord,
  ScanOptions,
  StorageAdapter,
  StorageReader,
  StorageWriter,
  WriteOptions,
} from './storage-adapter.js';

const compareKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

type Entry = OutboxEntry & { readonly id: number };

const docKey = (collection: string, key: string) => `${collection}\u0000${key}`;

/**
 * The contents of one in-memory database. Share one between several `createMemoryStorage`
 * handles to model tabs sharing a database.
 */
export class MemoryDatabase {
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
  readonly handles = new Set<MemoryStorage>();
  private readonly sortedKeys = new Map<string, string[]>();

  constructor(readonly name = 'converge') {}

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

  /** A copy of everything (a "backup" of the database, for restore scenarios). */
  snapshot(name = this.name): MemoryDatabase {
    const copy = new MemoryDatabase(name);
    copy.restore(this);
    return copy;
  }

  /**
   * Replaces everything with the contents of `backup` (a `snapshot`): a restored backup, for
   * identity-loss scenarios. Close the handles on this database first, as a browser is closed
   * before its profile is restored.
   */
  restore(backup: MemoryDatabase): void {
    this.clear();
    for (const [collection, docs] of backup.docs) this.docs.set(collection, new Map(docs));
    for (const [key, value] of backup.meta) this.meta.set(key, value);
    for (const [id, entry] of backup.outbox) this.setOutbox(id, entry);
    for (const [id, record] of backup.rejected) this.rejected.set(id, record);
    this.nextOutboxId = backup.nextOutboxId;
  }
}

class MemoryTx implements StorageWriter {
  /** Staged documents in the order written (null: deleted); `index` finds them, built once a read needs it. */
  private readonly staged: { readonly collection: string; readonly key: string; readonly record: DocRecord | null }[] = [];
  private index: Map<string, Map<string, DocRecord | null>> | undefined;
  readonly meta = new Map<string, MetaValue | null>();
  readonly outbox = new Map<number, Entry | null>();
  /** Ids of the entries staged by `addOutbox`/`putOutbox`, per document. */
  private readonly outboxStagedByDoc = new Map<string, number[]>();
  readonly rejected = new Map<string, RejectedRecord | null>();
  nextOutboxId: number;

  constructor(
    private readonly db: MemoryDatabase,
    private readonly writable: boolean,
  ) {
    this.nextOutboxId = db.nextOutboxId;
  }

  private mustWrite(): void {
    if (!this.writable) throw new ConvergeError('internal', 'a read transaction cannot write');
  }

  /** Staged documents of one collection (the last write of each key wins). */
  private stagedOf(collection: string): Map<string, DocRecord | null> | undefined {
    if (this.staged.length === 0) return undefined;
    if (this.index === undefined) {
      this.index = new Map();
      for (const s of this.staged) this.indexed(s.collection).set(s.key, s.record);
    }
    return this.index.get(collection);
  }

  private indexed(collection: string): Map<string, DocRecord | null> {
    let docs = this.index!.get(collection);
    if (docs === undefined) this.index!.set(collection, (docs = new Map()));
    return docs;
  }

  private doc(collection: string, key: string): DocRecord | undefined {
    const staged = this.stagedOf(collection)?.get(key);
    if (staged !== undefined) return staged ?? undefined;
    return this.db.docs.get(collection)?.get(key);
  }

  private stage(collection: string, key: string, record: DocRecord | null): void {
    this.mustWrite();
    this.staged.push({ collection, key, record });
    if (this.index !== undefined) this.indexed(collection).set(key, record);
  }

  async getDoc(collection: string, key: string): Promise<DocRecord | undefined> {
    return this.doc(collection, key);
  }

  async getDocs(collection: string, keys: readonly string[]): Promise<(DocRecord | undefined)[]> {
    return keys.map((key) => this.doc(collection, key));
  }

  async scanDocs(collection: string, options: ScanOptions = {}): Promise<DocRecord[]> {
    const { prefix = '', after, limit = Infinity } = options;
    let keys: readonly string[] = this.db.keysOf(collection);
    const staged = [...(this.stagedOf(collection)?.keys() ?? [])];
    if (staged.length > 0) keys = [...new Set([...keys, ...staged])].sort(compareKeys);
    const out: DocRecord[] = [];
    let start = lowerBound(keys, after === undefined ? prefix : after > prefix ? after : prefix);
    if (after !== undefined && keys[start] === after) start++;
    const committed = this.db.docs.get(collection);
    for (let i = start; i < keys.length && out.length < limit; i++) {
      const key = keys[i]!;
      if (!key.startsWith(prefix)) break;
      const record = staged.length === 0 ? committed?.get(key) : this.doc(collection, key);
      if (record !== undefined) out.push(record);
    }
    return out;
  }

  async getMeta<T extends MetaValue>(key: string): Promise<T | undefined> {
    const staged = this.meta.get(key);
    if (staged !== undefined) return (staged ?? undefined) as T | undefined;
    return this.db.meta.get(key) as T | undefined;
  }

  private entries(): Entry[] {
    if (this.outbox.size === 0) return this.db.outboxEntries();
    const ids = new Set([...this.db.outbox.keys(), ...this.outbox.keys()]);
    const out: Entry[] = [];
    for (const id of [...ids].sort((a, b) => a - b)) {
      const staged = this.outbox.get(id);
      const entry = staged === undefined ? this.db.outbox.get(id) : staged;
      if (entry != null) out.push(entry);
    }
    return out;
  }

  async listOutbox(options: { readonly afterId?: number; readonly limit?: number } = {}): Promise<OutboxEntry[]> {
    const { afterId = 0, limit = Infinity } = options;
    const out: Entry[] = [];
    for (const entry of this.entries()) {
      if (out.length >= limit) break;
      if (entry.id > afterId) out.push(entry);
    }
    return out;
  }

  async outboxOf(collection: string, key: string): Promise<OutboxEntry[]> {
    const doc = docKey(collection, key);
    const ids = [...(this.db.outboxIdsOf(doc) ?? []), ...(this.outboxStagedByDoc.get(doc) ?? [])].sort((a, b) => a - b);
    const out: Entry[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (i > 0 && id === ids[i - 1]) continue;
      const staged = this.outbox.get(id);
      const entry = staged === undefined ? this.db.outbox.get(id) : staged;
      if (entry != null && entry.collection === collection && entry.key === key) out.push(entry);
    }
    return out;
  }

  async countOutbox(): Promise<number> {
    return this.outbox.size === 0 ? this.db.outbox.size : this.entries().length;
  }

  private rejectedRecords(): RejectedRecord[] {
    const ids = new Set([...this.db.rejected.keys(), ...this.rejected.keys()]);
    const out: RejectedRecord[] = [];
    for (const id of ids) {
      const staged = this.rejected.get(id);
      const record = staged === undefined ? this.db.rejected.get(id) : staged;
      if (record != null) out.push(record);
    }
    return out.sort((a, b) => compareKeys(a.writeId, b.writeId));
  }

  async listRejected(): Promise<RejectedRecord[]> {
    return this.rejectedRecords();
  }

  async getRejected(writeId: string): Promise<RejectedRecord | undefined> {
    const staged = this.rejected.get(writeId);
    return staged === undefined ? this.db.rejected.get(writeId) : (staged ?? undefined);
  }

  putDoc(record: DocRecord): void {
    this.stage(record.collection, record.key, record);
  }

  deleteDoc(collection: string, key: string): void {
    this.stage(collection, key, null);
  }

  putMeta(key: string, value: MetaValue): void {
    this.mustWrite();
    this.meta.set(key, value);
  }

  deleteMeta(key: string): void {
    this.mustWrite();
    this.meta.set(key, null);
  }

  addOutbox(entry: OutboxEntry): void {
    this.mustWrite();
    const id = this.nextOutboxId++;
    this.stageOutbox({ ...entry, id });
  }

  putOutbox(entry: Entry): void {
    this.mustWrite();
    this.stageOutbox(entry);
  }

  private stageOutbox(entry: Entry): void {
    this.outbox.set(entry.id, entry);
    const doc = docKey(entry.collection, entry.key);
    const ids = this.outboxStagedByDoc.get(doc);
    if (ids === undefined) this.outboxStagedByDoc.set(doc, [entry.id]);
    else ids.push(entry.id);
  }

  deleteOutbox(id: number): void {
    this.mustWrite();
    this.outbox.set(id, null);
  }

  putRejected(record: RejectedRecord): void {
    this.mustWrite();
    this.rejected.set(record.writeId, record);
  }

  deleteRejected(writeId: string): void {
    this.mustWrite();
    this.rejected.set(writeId, null);
  }

  commit(): void {
    const db = this.db;
    for (const { collection, key, record } of this.staged) db.setDoc(collection, key, record);
    for (const [key, value] of this.meta) {
      if (value === null) db.meta.delete(key);
      else db.meta.set(key, value);
    }
    for (const [id, entry] of this.outbox) db.setOutbox(id, entry);
    for (const [id, record] of this.rejected) {
      if (record === null) db.rejected.delete(id);
      else db.rejected.set(id, record);
    }
    db.nextOutboxId = this.nextOutboxId;
  }
}

function lowerBound(keys: readonly string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A `StorageAdapter` in memory: for tests, Node, and the fallback when IndexedDB fails. */
export class MemoryStorage implements StorageAdapter {
  readonly kind = 'memory';
  private closed = false;
  private failed: Error | undefined;
  private readonly listeners = new Set<(error: Error) => void>();

  constructor(readonly db: MemoryDatabase) {
    db.handles.add(this);
  }

  get name(): string {
    return this.db.name;
  }

  private run<T>(writable: boolean, run: (tx: MemoryTx) => Promise<T>): Promise<T> {
    const result = this.db.queue.then(async () => {
      if (this.closed) throw new ConvergeError('closed', `storage ${this.name} is closed`);
      if (this.failed !== undefined) throw this.failed;
      const tx = new MemoryTx(this.db, writable);
      const value = await run(tx);
      if (writable) tx.commit();
      return value;
    });
    this.db.queue = result.catch(() => undefined);
    return result;
  }

  read<T>(run: (tx: StorageReader) => Promise<T>): Promise<T> {
    return this.run(false, run);
  }

  write<T>(run: (tx: StorageWriter) => Promise<T>, _options?: WriteOptions): Promise<T> {
    return this.run(true, run);
  }

  onFailure(listener: (error: Error) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  fail(error: Error): void {
    if (this.failed !== undefined || this.closed) return;
    this.failed = error;
    for (const listener of this.listeners) listener(error);
  }

  close(): void {
    this.closed = true;
    this.db.handles.delete(this);
  }

  async destroy(): Promise<void> {
    await this.db.queue;
    const db = this.db;
    this.close();
    db.clear();
    for (const other of db.handles) other.fail(new ConvergeError('storage_unavailable', `database ${db.name} was deleted`));
  }
}

const databases = new Map<string, MemoryDatabase>();

/**
 * A memory storage. Pass a `MemoryDatabase` (or a name: handles created with the same name in
 * this JavaScript realm share one database, like tabs of one origin) to share it.
 *
 * @example
 * ```ts
 * const storage = createMemoryStorage('example-db');
 * await storage.write(async (tx) => tx.putMeta('greeting', 42));
 * await storage.read((tx) => tx.getMeta('greeting')); // → 42
 * ```
 */
export function createMemoryStorage(database?: MemoryDatabase | string): MemoryStorage {
  if (database instanceof MemoryDatabase) return new MemoryStorage(database);
  if (database === undefined) return new MemoryStorage(new MemoryDatabase());
  let db = databases.get(database);
  if (db === undefined) databases.set(database, (db = new MemoryDatabase(database)));
  return new MemoryStorage(db);
}
