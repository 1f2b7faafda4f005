import type { AckLevel } from '@converge/protocol';
import type { ClientEvents } from './client-events.js';
import { ClientCore } from './client-core.js';
import type { ClientOptions } from './client-options.js';
import type { LocalReplica } from './replica/local-replica.js';
import type { BatchWriter, PendingWrite, RejectedWrite, WriteReceipt } from './client-types.js';
import type { Collection } from './collection.js';
import type { OutboxListener } from './outbox-views.js';
import { statusStoreOf, type StatusStore } from './status.js';
import type { WriteStatus } from './storage/storage-adapter.js';
import type { ImportSummary } from './transfer/data-transfer.js';
import type { ExportSource } from './transfer/export-source.js';

export type { OutboxListener } from './outbox-views.js';

let construct: (core: ClientCore) => Client;
let coreOf: (client: Client) => ClientCore;

/**
 * A Converge client: a replica in IndexedDB that reads and writes locally, offline or online,
 * and syncs with a relay. Create it with `createClient`. The class is a façade: each call goes
 * to the part of the client that owns it (`client-core.ts` lists them).
 */
export class Client {
  readonly #core: ClientCore;
  /** The client's status: `get()` it, or `subscribe` to every change. */
  readonly status: StatusStore;

  private constructor(core: ClientCore) {
    this.#core = core;
    this.status = statusStoreOf(core.status);
  }

  static {
    construct = (core) => new Client(core);
    coreOf = (client) => client.#core;
  }

  /** The database name given to `createClient`. */
  get name(): string {
    return this.#core.options.name;
  }

  /** This replica's id (shared by the tabs of the database; a new one after identity loss). */
  get replicaId(): string {
    return this.#core.replica.replicaId;
  }

  /** A collection; declare its strategy and mode in `createClient({ collections })`. */
  collection<T = unknown>(name: string): Collection<T> {
    return this.#core.collection<T>(name);
  }

  /** Subscribes to a client event; returns the unsubscribe function. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.#core.events.on(event, listener);
  }

  /**
   * Several writes in ONE transaction, pushed together: all are stored or none is. `fn` records
   * the writes synchronously.
   *
   * @example
   * ```ts
   * const client = await createClient({ name: 'example-batch', storage: 'memory' });
   * await client.batch((b) => {
   *   b.collection('notes').put('a', 1);
   *   b.collection('notes').put('b', 2);
   * });
   * (await client.collection('notes').scan()).map((d) => d.value); // → [1, 2]
   * await client.close();
   * ```
   */
  batch(fn: (writer: BatchWriter) => void, options: { readonly ack?: AckLevel } = {}): Promise<WriteReceipt[]> {
    return this.#core.writes.batch(fn, options.ack ?? 'local');
  }

  /** Puts many values of one collection in one transaction. */
  putMany<T>(collection: string, entries: Iterable<readonly [string, T]>, options: { readonly ack?: AckLevel } = {}): Promise<WriteReceipt[]> {
    return this.batch((b) => {
      const c = b.collection(collection);
      for (const [key, value] of entries) c.put(key, value);
    }, options);
  }

  /** Pending writes in outbox order, each with its status. */
  outbox(): Promise<PendingWrite[]> {
    return this.#core.views.outbox();
  }

  /**
   * Calls `listener` with the pending writes now and whenever the outbox changes (a write
   * committed here or in another tab, the relay acknowledged or refused some). `settled` lists
   * the writes that left the outbox since the previous call, with the status they reached
   * (the level the relay acknowledged, or `rejected`). Returns the unsubscribe function.
   *
   * The first call is a snapshot read in one transaction: the pending writes, and in `settled`
   * where each write named in `options.settled` stands if it has left the outbox (a write named
   * but in neither list is unknown to the client). Later calls report only what changed after
   * it, so an app that starts from it (say, after a reload, with the writes it logged) needs no
   * other read and cannot see an older status after a newer one.
   *
   * @example
   * ```ts
   * const client = await createClient({ name: 'example-watch-outbox', storage: 'memory' });
   * const { writeId } = await client.collection('notes').put('k', 1);
   * const first = await new Promise((resolve) => {
   *   const stop = client.watchOutbox(
   *     (writes, settled) => {
   *       stop();
   *       resolve({ pending: writes.map((w) => w.key), settled });
   *     },
   *     { settled: [writeId, 'never-made'] }, // pending, and unknown: neither has a settled status
   *   );
   * });
   * first; // → { pending: ['k'], settled: [] }
   * await client.close();
   * ```
   */
  watchOutbox(listener: OutboxListener, options: { readonly settled?: readonly string[] } = {}): () => void {
    return this.#core.views.watch(listener, options.settled ?? []);
  }

  /**
   * Where a write stands: `local` while it waits in the outbox, then the level the relay's ack
   * named (`relay`, `quorum`, `all`), or `rejected` with the relay's code and message. A status
   * only moves forward. Known for pending and rejected writes and for the last 1,000 writes
   * that left the outbox (persisted, shared by the tabs); undefined for others.
   *
   * @example
   * ```ts
   * const client = await createClient({ name: 'example-write-status', storage: 'memory' });
   * const { writeId } = await client.collection('notes').put('k', 1);
   * (await client.writeStatus(writeId))?.status; // → 'local'
   * await client.close();
   * ```
   */
  async writeStatus(writeId: string): Promise<WriteStatus | undefined> {
    return (await this.writeStatuses([writeId]))[0];
  }

  /**
   * `writeStatus` of many writes in one read, in the order asked (undefined for a write the
   * client does not know).
   *
   * @example
   * ```ts
   * const client = await createClient({ name: 'example-write-statuses', storage: 'memory' });
   * const [a, b] = await client.putMany('notes', [['a', 1], ['b', 2]]);
   * (await client.writeStatuses([a!.writeId, 'never-made', b!.writeId])).map((s) => s?.status); // → ['local', undefined, 'local']
   * await client.close();
   * ```
   */
  writeStatuses(writeIds: readonly string[]): Promise<(WriteStatus | undefined)[]> {
    return this.#core.views.writeStatuses(writeIds);
  }

  /** Writes the relay refused for good, with `retry()` and `discard()`. */
  rejected(): Promise<RejectedWrite[]> {
    const { writes } = this.#core;
    return this.#core.views.rejected(async (request, ack, replaces) => (await writes.commit([request], ack, [replaces]))[0]!);
  }

  /** Resolves once the client is `synced`: connected, caught up, and nothing pending. */
  whenSynced(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    return this.#core.status.when((s) => s.connection === 'synced' && s.pending === 0, options.timeoutMs, 'synced with nothing pending');
  }

  /**
   * The client's database — documents with their states, pending and rejected writes, meta — as
   * lines of JSON, each ending with a newline: a backup, a copy for support, a move to another
   * browser. Read lazily, page by page, as the lines are iterated. Join them with
   * `exportToText`, collect them with `exportToBlob`, or hand them to `importData`.
   *
   * @example
   * ```ts
   * const source = await createClient({ name: 'example-export', storage: 'memory' });
   * await source.collection('notes').put('a', { due: new Date(0) });
   * const target = await createClient({ name: 'example-import', storage: 'memory' });
   * const summary = await target.importData(source.exportData());
   * summary.documents; // → 1
   * (await target.collection('notes').get('a'))?.value; // → { due: new Date(0) }
   * target.replicaId === source.replicaId; // → false
   * await source.close();
   * await target.close();
   * ```
   */
  async *exportData(): AsyncIterable<string> {
    // Loaded on first use: an app that never exports does not ship the code (a chunk of its own).
    const { exportLines } = await import('./transfer/data-transfer.js');
    yield* exportLines(this.#core);
  }

  /**
   * Loads an export (`exportData`) into this client, which must hold nothing yet. The whole export
   * is read and checked first, then stored in one transaction, so a refused export changes
   * nothing. The copy takes a new replica id at once, and its pending writes are written again
   * under it: importing one export twice, or the original going on, never reuses a dot.
   *
   * @throws ConvergeError `bad_message`: another format or version, a malformed or missing line
   * (named), a client that is not empty, a collection declared with another CRDT type.
   */
  async importData(source: ExportSource): Promise<ImportSummary> {
    const { importInto } = await import('./transfer/data-transfer.js');
    return importInto(this.#core, source);
  }

  /** Cuts the connection (the app's offline switch); writes go on locally. */
  pause(): void {
    this.#core.link.pause();
  }

  /** Restores the connection after `pause`. */
  resume(): void {
    this.#core.link.resume();
  }

  /** Asks the browser to keep this origin's storage under pressure (`navigator.storage.persist()`). */
  async persist(): Promise<boolean> {
    const storage = (globalThis as { navigator?: { storage?: { persist?: () => Promise<boolean> } } }).navigator?.storage;
    return typeof storage?.persist === 'function' ? storage.persist() : false;
  }

  /** Closes the connection, leaves the tab group and closes the database. Pending writes stay stored. */
  close(): Promise<void> {
    return this.#core.close();
  }

  /** Deletes the local database (sign-out). Other tabs of it close their clients. */
  destroy(): Promise<void> {
    return this.#core.destroy();
  }
}

/**
 * Opens a client: its replica in IndexedDB (or memory), its place among the tabs of the
 * database, and — in the tab holding the socket — the connection to the relay.
 *
 * @example
 * ```ts
 * const client = await createClient({
 *   name: 'example-shop',
 *   storage: 'memory', // in a browser, leave it out: IndexedDB
 *   collections: { carts: { strategy: 'cart' } },
 * });
 * const carts = client.collection<Map<string, number>>('carts');
 * await carts.increment('cart-1', 'apple', 2);
 * await carts.increment('cart-1', 'pear');
 * (await carts.get('cart-1'))?.value; // → new Map([['apple', 2], ['pear', 1]])
 * await client.close();
 * ```
 */
export async function createClient(options: ClientOptions): Promise<Client> {
  return construct(await ClientCore.open(options));
}

/** The replica behind a client, for this package's own tests and tools (the package does not export it). */
export function replicaOf(client: Client): LocalReplica {
  return coreOf(client).replica;
}
