import { ConvergeError } from '@converge/conflict';
import { deleteDB, openDB, unwrap, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { SCHEMA_VERSION, STORES, upgradeSchema, type ConvergeDB } from './idb-schema.js';
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

type Tx = IDBPTransaction<ConvergeDB, typeof STORES extends readonly (infer S)[] ? S[] : never, IDBTransactionMode>;

/** The smallest string greater than every string starting with `prefix`, or undefined when none exists. */
function prefixEnd(prefix: string): string | undefined {
  let end = prefix;
  while (end.endsWith('\uffff')) end = end.slice(0, -1);
  if (end === '') return undefined;
  return end.slice(0, -1) + String.fromCharCode(end.charCodeAt(end.length - 1) + 1);
}

function docRange(collection: string, options: ScanOptions): IDBKeyRange {
  const prefix = options.prefix ?? '';
  const end = prefix === '' ? undefined : prefixEnd(prefix);
  // Arrays sort after strings, so [collection, []] is above every [collection, key].
  const upper: [string, string] | [string, never[]] = end === undefined ? [collection, []] : [collection, end];
  if (options.after !== undefined && options.after >= prefix) return IDBKeyRange.bound([collection, options.after], upper, true, true);
  return IDBKeyRange.bound([collection, prefix], upper, false, true);
}

/**
 * A request's promise, with a handler attached: when the transaction aborts, requests still
 * pending reject, and a caller that stopped awaiting them (it threw first) must not turn that
 * into an unhandled rejection.
 */
function quiet<T>(request: Promise<T>): Promise<T> {
  request.catch(() => undefined);
  return request;
}

class IdbTx implements StorageWriter {
  /** Native stores, fetched once: going through idb's wrapper on every request costs as much as the request. */
  private readonly natives = new Map<string, IDBObjectStore>();

  constructor(private readonly tx: Tx) {}

  private native(name: (typeof STORES)[number]): IDBObjectStore {
    let store = this.natives.get(name);
    if (store === undefined) this.natives.set(name, (store = unwrap(this.tx).objectStore(name)));
    return store;
  }

  getDoc(collection: string, key: string): Promise<DocRecord | undefined> {
    return quiet(this.tx.objectStore('docs').get([collection, key]));
  }

  getDocs(collection: string, keys: readonly string[]): Promise<(DocRecord | undefined)[]> {
    // Raw requests and one promise for all of them: a promise per request costs as much as the get.
    if (keys.length === 0) return Promise.resolve([]);
    const store = this.native('docs');
    return quiet(
      new Promise((resolve, reject) => {
        const out = new Array<DocRecord | undefined>(keys.length);
        let left = keys.length;
        keys.forEach((key, i) => {
          const request = store.get([collection, key]);
          request.onsuccess = () => {
            out[i] = request.result as DocRecord | undefined;
            if (--left === 0) resolve(out);
          };
          request.onerror = () => reject(request.error);
        });
      }),
    );
  }

  scanDocs(collection: string, options: ScanOptions = {}): Promise<DocRecord[]> {
    return quiet(this.tx.objectStore('docs').getAll(docRange(collection, options), options.limit));
  }

  getMeta<T extends MetaValue>(key: string): Promise<T | undefined> {
    return quiet(this.tx.objectStore('meta').get(key) as Promise<T | undefined>);
  }

  listOutbox(options: { readonly afterId?: number; readonly limit?: number } = {}): Promise<OutboxEntry[]> {
    return quiet(this.tx.objectStore('outbox').getAll(IDBKeyRange.lowerBound(options.afterId ?? 0, true), options.limit));
  }

  outboxOf(collection: string, key: string): Promise<OutboxEntry[]> {
    return quiet(this.tx.objectStore('outbox').index('byDoc').getAll([collection, key]));
  }

  countOutbox(): Promise<number> {
    return quiet(this.tx.objectStore('outbox').count());
  }

  listRejected(): Promise<RejectedRecord[]> {
    return quiet(this.tx.objectStore('rejected').getAll());
  }

  getRejected(writeId: string): Promise<RejectedRecord | undefined> {
    return quiet(this.tx.objectStore('rejected').get(writeId));
  }

  listDocs(options: { readonly after?: readonly [string, string]; readonly limit?: number } = {}): Promise<DocRecord[]> {
    const range = options.after === undefined ? undefined : IDBKeyRange.lowerBound([...options.after], true);
    return quiet(this.tx.objectStore('docs').getAll(range, options.limit));
  }

  async listMeta(): Promise<[string, MetaValue][]> {
    const store = this.tx.objectStore('meta');
    const [keys, values] = await quiet(Promise.all([store.getAllKeys(), store.getAll()]));
    return keys.map((key, i) => [key, values[i]!]);
  }

  // Writes are native requests, not awaited: a failed request aborts the transaction, and `tx.done` rejects.
  putDoc(record: DocRecord): void {
    this.native('docs').put(record);
  }

  deleteDoc(collection: string, key: string): void {
    this.native('docs').delete([collection, key]);
  }

  putMeta(key: string, value: MetaValue): void {
    this.native('meta').put(value, key);
  }

  deleteMeta(key: string): void {
    this.native('meta').delete(key);
  }

  addOutbox(entry: OutboxEntry): void {
    const { id: _ignored, ...rest } = entry;
    this.native('outbox').add(rest);
  }

  putOutbox(entry: OutboxEntry & { readonly id: number }): void {
    this.native('outbox').put(entry);
  }

  deleteOutbox(id: number): void {
    this.native('outbox').delete(id);
  }

  putRejected(record: RejectedRecord): void {
    this.native('rejected').put(record);
  }

  deleteRejected(writeId: string): void {
    this.native('rejected').delete(writeId);
  }
}

function isQuotaError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'QuotaExceededError' || (error as { code?: unknown }).code === 22);
}

/** A thrown IndexedDB error as Converge reports it: a full disk is `storage_quota`. */
function storageError(error: unknown, name: string): unknown {
  if (error instanceof ConvergeError) return error;
  if (isQuotaError(error))
    return new ConvergeError('storage_quota', `IndexedDB database ${name} is out of quota: nothing of this write was stored`, { cause: error });
  return error;
}

/** `StorageAdapter` on IndexedDB through `idb`. Open it with `openIndexedDbStorage`. */
export class IndexedDbStorage implements StorageAdapter {
  readonly kind = 'indexeddb';
  private failed: Error | undefined;
  private closed = false;
  private readonly listeners = new Set<(error: Error) => void>();

  private constructor(
    readonly name: string,
    private db: IDBPDatabase<ConvergeDB> | undefined,
  ) {}

  /** Opens (creating or upgrading) the database `name`. Rejects when IndexedDB is unavailable. */
  static async open(name: string): Promise<IndexedDbStorage> {
    if (typeof indexedDB === 'undefined') throw new ConvergeError('storage_unavailable', 'IndexedDB is not available here');
    const opened: { storage?: IndexedDbStorage } = {};
    const db = await openDB<ConvergeDB>(name, SCHEMA_VERSION, {
      upgrade: (database, oldVersion) => upgradeSchema(database, oldVersion),
      // Another connection of an older version is open (a tab of an older app): it is told to close
      // (`blocking` there); this open waits until it does.
      blocked: () => undefined,
      // This connection blocks an upgrade or a deletion from another tab: let it go.
      blocking: () => {
        opened.storage?.fail(new ConvergeError('storage_unavailable', `another tab is upgrading or deleting database ${name}`));
      },
      terminated: () => {
        opened.storage?.fail(new ConvergeError('storage_unavailable', `the browser closed database ${name} (storage cleared or disk error)`));
      },
    });
    opened.storage = new IndexedDbStorage(name, db);
    return opened.storage;
  }

  private database(): IDBPDatabase<ConvergeDB> {
    if (this.failed !== undefined) throw this.failed;
    if (this.closed || this.db === undefined) throw new ConvergeError('closed', `storage ${this.name} is closed`);
    return this.db;
  }

  private async run<T>(mode: IDBTransactionMode, run: (tx: IdbTx) => Promise<T>, durability: 'strict' | 'relaxed' | 'default'): Promise<T> {
    let tx: Tx;
    try {
      tx = this.database().transaction([...STORES], mode, { durability }) as Tx;
    } catch (error) {
      throw storageError(error, this.name);
    }
    let value: T;
    try {
      value = await run(new IdbTx(tx));
    } catch (error) {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      await tx.done.catch(() => undefined);
      throw storageError(error, this.name);
    }
    try {
      await tx.done;
    } catch (error) {
      throw storageError(tx.error ?? error, this.name);
    }
    return value;
  }

  read<T>(run: (tx: StorageReader) => Promise<T>): Promise<T> {
    return this.run('readonly', run, 'default');
  }

  write<T>(run: (tx: StorageWriter) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.run('readwrite', run, options.durability ?? 'strict');
  }

  onFailure(listener: (error: Error) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private fail(error: Error): void {
    if (this.failed !== undefined || this.closed) return;
    this.failed = error;
    this.db?.close();
    this.db = undefined;
    for (const listener of this.listeners) listener(error);
  }

  close(): void {
    this.closed = true;
    this.db?.close();
    this.db = undefined;
  }

  async destroy(): Promise<void> {
    this.close();
    await deleteDB(this.name);
  }
}

/**
 * Opens the IndexedDB storage of a client database.
 *
 * @throws ConvergeError `storage_unavailable` when IndexedDB is unavailable (some private modes, old
 * browsers, Node without a polyfill).
 */
export function openIndexedDbStorage(name: string): Promise<IndexedDbStorage> {
  return IndexedDbStorage.open(name);
}
