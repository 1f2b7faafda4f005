import type { StorageAdapter, StorageReader, StorageWriter, WriteOptions } from '../storage/storage-adapter.js';

/**
 * The storage a replica is on, which failover replaces (IndexedDB went away): every read and
 * write runs in the storage in use at the time, and failure listeners hear of that one only.
 */
export class StorageInUse {
  #storage!: StorageAdapter;
  #unwatch!: () => void;
  readonly #failureListeners = new Set<(error: Error) => void>();

  constructor(storage: StorageAdapter) {
    this.#use(storage);
  }

  /** The database name (lock and channel names of tab coordination derive from it). */
  get name(): string {
    return this.#storage.name;
  }

  get kind(): StorageAdapter['kind'] {
    return this.#storage.kind;
  }

  read<T>(run: (tx: StorageReader) => Promise<T>): Promise<T> {
    return this.#storage.read(run);
  }

  write<T>(run: (tx: StorageWriter) => Promise<T>, options?: WriteOptions): Promise<T> {
    return this.#storage.write(run, options);
  }

  /** Calls `listener` when the storage in use goes away under the client (see `StorageAdapter.onFailure`). */
  onFailure(listener: (error: Error) => void): () => void {
    this.#failureListeners.add(listener);
    return () => this.#failureListeners.delete(listener);
  }

  #use(storage: StorageAdapter): void {
    this.#storage = storage;
    this.#unwatch = storage.onFailure((error) => {
      if (this.#storage !== storage) return;
      for (const listener of [...this.#failureListeners]) listener(error);
    });
  }

  /** Goes on in `storage`. */
  replace(storage: StorageAdapter): void {
    this.#unwatch();
    this.#use(storage);
  }

  close(): void {
    this.#unwatch();
    this.#storage.close();
  }

  /** Closes and deletes the database. */
  async destroy(): Promise<void> {
    const storage = this.#storage;
    this.close();
    await storage.destroy();
  }
}
