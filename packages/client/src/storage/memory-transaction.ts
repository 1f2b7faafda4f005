import { ConvergeError } from '@converge/conflict';
import { compareKeys, docKey, type Entry, type MemoryTables } from './memory-tables.js';
import type { DocRecord, MetaValue, OutboxEntry, RejectedRecord, ScanOptions, StorageWriter } from './storage-adapter.js';

/**
 * Asks for a task of the event loop, twice: through `setTimeout(0)` and, where there is one,
 * `setImmediate` — whichever comes first. Both are the platform's own, taken when this module
 * loads (so a test's fake timers do not hold them back). Asked for when a transaction starts,
 * they come before any timer or immediate the transaction's code may await.
 */
const nextTask: (run: () => void) => void = ((timeout, immediate) => (run) => {
  timeout(run, 0);
  if (typeof immediate === 'function') immediate(run);
})(globalThis.setTimeout, (globalThis as { setImmediate?: (run: () => void) => unknown }).setImmediate);

/** Transactions whose code is running, and whether a task is scheduled to expire them. */
const running = new Set<MemoryTx>();
let turnScheduled = false;

/**
 * A transaction's code runs on its own requests' promises, which settle in microtasks: while it
 * awaits only those, no task of the event loop can pass. One that is still running when a task
 * comes has awaited something else.
 */
function watchTurn(tx: MemoryTx): void {
  running.add(tx);
  if (turnScheduled) return;
  turnScheduled = true;
  nextTask(() => {
    turnScheduled = false;
    const expired = [...running];
    running.clear();
    for (const t of expired) t.expire();
  });
}

/**
 * One memory transaction: writes are staged and applied at commit, reads see the staged writes
 * over the committed tables. Like an IndexedDB transaction it stays active only while the code
 * running it awaits nothing but its own requests: once a task of the event loop has passed
 * (the code awaited a timer, a fetch, another transaction) it commits what it has staged, as
 * IndexedDB would, and every later call throws `TransactionInactiveError`.
 */
export class MemoryTx implements StorageWriter {
  /** Staged documents in the order written (null: deleted); `index` finds them, built once a read needs it. */
  private readonly staged: { readonly collection: string; readonly key: string; readonly record: DocRecord | null }[] = [];
  private index: Map<string, Map<string, DocRecord | null>> | undefined;
  readonly meta = new Map<string, MetaValue | null>();
  readonly outbox = new Map<number, Entry | null>();
  /** Ids of the entries staged by `addOutbox`/`putOutbox`, per document. */
  private readonly outboxStagedByDoc = new Map<string, number[]>();
  readonly rejected = new Map<string, RejectedRecord | null>();
  nextOutboxId: number;
  /** `active` until it finishes, or until a task passes while it runs (then `expired`: committed early). */
  private state: 'active' | 'expired' | 'finished' = 'active';

  constructor(
    private readonly db: MemoryTables,
    private readonly writable: boolean,
    /** Lets the next transaction of the database start. */
    private readonly release: () => void,
  ) {
    this.nextOutboxId = db.nextOutboxId;
    watchTurn(this);
  }

  /** Every call checks this first, as IndexedDB does. */
  private live(): void {
    if (this.state !== 'active') {
      throw new DOMException(
        'the transaction is no longer active: it awaited something other than its own requests, and was committed then',
        'TransactionInactiveError',
      );
    }
  }

  private mustWrite(): void {
    this.live();
    if (!this.writable) throw new ConvergeError('internal', 'a read transaction cannot write');
  }

  /** A task passed while the transaction ran: it commits what it staged, and the next transaction may start. */
  expire(): void {
    if (this.state !== 'active') return;
    this.state = 'expired';
    if (this.writable) this.commit();
    this.release();
  }

  /** The code running the transaction returned: commit, unless it expired (then it was committed then). */
  finish(): void {
    if (this.state === 'active' && this.writable) this.commit();
    this.end();
  }

  /** Done, committed or not (the code running it threw: nothing of it is kept, unless it expired first). */
  end(): void {
    if (this.state === 'active') this.state = 'finished';
    running.delete(this);
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
    this.staged.push({ collection, key, record });
    if (this.index !== undefined) this.indexed(collection).set(key, record);
  }

  async getDoc(collection: string, key: string): Promise<DocRecord | undefined> {
    this.live();
    return this.doc(collection, key);
  }

  async getDocs(collection: string, keys: readonly string[]): Promise<(DocRecord | undefined)[]> {
    this.live();
    return keys.map((key) => this.doc(collection, key));
  }

  async scanDocs(collection: string, options: ScanOptions = {}): Promise<DocRecord[]> {
    this.live();
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
    this.live();
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
    this.live();
    const { afterId = 0, limit = Infinity } = options;
    const out: Entry[] = [];
    for (const entry of this.entries()) {
      if (out.length >= limit) break;
      if (entry.id > afterId) out.push(entry);
    }
    return out;
  }

  async outboxOf(collection: string, key: string): Promise<OutboxEntry[]> {
    this.live();
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
    this.live();
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
    this.live();
    return this.rejectedRecords();
  }

  async getRejected(writeId: string): Promise<RejectedRecord | undefined> {
    this.live();
    const staged = this.rejected.get(writeId);
    return staged === undefined ? this.db.rejected.get(writeId) : (staged ?? undefined);
  }

  async listDocs(options: { readonly after?: readonly [string, string]; readonly limit?: number } = {}): Promise<DocRecord[]> {
    this.live();
    const { after, limit = Infinity } = options;
    const collections = new Set(this.db.docs.keys());
    for (const s of this.staged) collections.add(s.collection);
    const out: DocRecord[] = [];
    for (const collection of [...collections].sort(compareKeys)) {
      if (out.length >= limit) break;
      if (after !== undefined && collection < after[0]) continue;
      const from = after !== undefined && collection === after[0] ? { after: after[1] } : {};
      out.push(...(await this.scanDocs(collection, { ...from, limit: limit - out.length })));
    }
    return out;
  }

  async listMeta(): Promise<[string, MetaValue][]> {
    this.live();
    const keys = [...new Set([...this.db.meta.keys(), ...this.meta.keys()])].sort(compareKeys);
    const out: [string, MetaValue][] = [];
    for (const key of keys) {
      const staged = this.meta.get(key);
      const value = staged === undefined ? this.db.meta.get(key) : staged;
      if (value != null) out.push([key, value]);
    }
    return out;
  }

  putDoc(record: DocRecord): void {
    this.mustWrite();
    this.stage(record.collection, record.key, record);
  }

  deleteDoc(collection: string, key: string): void {
    this.mustWrite();
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

  private commit(): void {
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
