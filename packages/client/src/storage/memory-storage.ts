import { ConvergeError } from '@converge/conflict';
import { MemoryDatabase, tablesOf } from './memory-database.js';
import { MemoryTx } from './memory-transaction.js';
import type { StorageAdapter, StorageReader, StorageWriter, WriteOptions } from './storage-adapter.js';

export { MemoryDatabase } from './memory-database.js';

/**
 * The databases opened by name (`createMemoryStorage('name')`): handles with the same name in
 * this JavaScript realm share one, like tabs of one origin. `destroy()` removes one from here,
 * so its memory is freed once its handles are gone.
 */
const databases = new Map<string, MemoryDatabase>();

/**
 * A `StorageAdapter` in memory: for tests, Node, and the fallback when IndexedDB fails. Its
 * transactions behave like IndexedDB's where code can tell: one that awaits anything but its own
 * requests commits early and then fails (`TransactionInactiveError`); durability is moot.
 */
export class MemoryStorage implements StorageAdapter {
  readonly kind = 'memory';
  #closed = false;
  #failed: Error | undefined;
  readonly #listeners = new Set<(error: Error) => void>();

  /** Opens a handle on `db` (prefer `createMemoryStorage`). */
  constructor(readonly db: MemoryDatabase) {
    tablesOf(db).handles.add(this);
  }

  get name(): string {
    return this.db.name;
  }

  #run<T>(writable: boolean, run: (tx: MemoryTx) => Promise<T>): Promise<T> {
    const tables = tablesOf(this.db);
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    const previous = tables.queue;
    tables.queue = turn;
    return previous.then(async () => {
      let tx: MemoryTx | undefined;
      try {
        if (this.#closed) throw new ConvergeError('closed', `storage ${this.name} is closed`);
        if (this.#failed !== undefined) throw this.#failed;
        tx = new MemoryTx(tables, writable, release);
        const value = await run(tx);
        tx.finish();
        return value;
      } finally {
        tx?.end();
        release();
      }
    });
  }

  read<T>(run: (tx: StorageReader) => Promise<T>): Promise<T> {
    return this.#run(false, run);
  }

  write<T>(run: (tx: StorageWriter) => Promise<T>, _options?: WriteOptions): Promise<T> {
    return this.#run(true, run);
  }

  onFailure(listener: (error: Error) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The storage goes away under its users (as when a browser deletes a database): listeners hear `error`, later transactions reject with it. */
  fail(error: Error): void {
    if (this.#failed !== undefined || this.#closed) return;
    this.#failed = error;
    for (const listener of [...this.#listeners]) listener(error);
  }

  close(): void {
    this.#closed = true;
    tablesOf(this.db).handles.delete(this);
  }

  /** Deletes the database: its contents are dropped, other handles on it fail, and its name is free for a new one. */
  async destroy(): Promise<void> {
    const tables = tablesOf(this.db);
    await tables.queue;
    this.close();
    tables.clear();
    if (databases.get(this.db.name) === this.db) databases.delete(this.db.name);
    for (const other of [...tables.handles]) other.fail(new ConvergeError('storage_unavailable', `database ${this.db.name} was deleted`));
  }
}

/**
 * A memory storage. Pass a `MemoryDatabase` (or a name: handles created with the same name in
 * this JavaScript realm share one database, like tabs of one origin, until it is destroyed) to
 * share it.
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
