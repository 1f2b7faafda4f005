import { ConvergeError, resolve as resolveState, type Dot, type ErrorCode } from '@converge/conflict';
import type { AckLevel, RelayAckLevel } from '@converge/protocol';
import { AckWaiters } from './ack-waiters.js';
import { collectionSpec, type CollectionOptions } from './collection-spec.js';
import { incrementOp } from './crdt-ops.js';
import { Collection, RequestBuilder, type ClientCore, type WriteReceipt } from './collection.js';
import { Emitter } from './emitter.js';
import type { CrdtOp, WriteRequest } from './replica/apply-write.js';
import { docId, type DocChange } from './replica/doc-records.js';
import { LocalReplica } from './replica/local-replica.js';
import { decodedState, readRecord, strategyOf, type Conflict, type ReadMemory, type Version } from './replica/read-model.js';
import { openStorage, type StorageChoice } from './open-storage.js';
import { StatusStore, type ConnectionState } from './status.js';
import { createMemoryStorage } from './storage/memory-storage.js';
import type { RejectedRecord, StorageAdapter } from './storage/storage-adapter.js';
import type { BackoffOptions } from './sync/backoff.js';
import { SyncEngine } from './sync/sync-engine.js';
import type { SyncHost } from './sync/sync-host.js';
import type { Transport } from './sync/transport.js';
import { webSocketTransport, type WebSocketConstructor } from './sync/websocket-transport.js';
import { TabCoordinator, type TabOptions } from './tabs/tab-coordinator.js';
import type { ErrorInfo, TabMessage } from './tabs/tab-messages.js';
import { decodeAppValue, encodeAppValue } from './values.js';
import { Watchers, type WatchEvent, type WatchTarget } from './watchers.js';

export interface ClientOptions {
  /** The database name: one replica per name and origin, shared by the tabs of that origin. */
  readonly name: string;
  /** The relay's WebSocket URL (`wss://…`). Without `url` or `transport` the client is local-only. */
  readonly url?: string;
  /** WebSocket constructor: the browser's global by default; Node passes `ws`'s. */
  readonly WebSocket?: WebSocketConstructor;
  /** Overrides `url` (an in-memory transport in tests). */
  readonly transport?: Transport;
  /** Collections with their strategy and mode (undeclared ones: multi-leader, `siblings`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each collection has its own value type
  readonly collections?: Readonly<Record<string, CollectionOptions<any>>>;
  /** A token, or a function returning one, called on each connect (`refresh: true` after `unauthorized`). */
  readonly auth?: string | ((context: { readonly refresh: boolean }) => string | undefined | Promise<string | undefined>);
  /** `indexeddb` (default), `memory`, or an adapter. */
  readonly storage?: StorageChoice;
  /** How long `put(…, { ack })` waits for a level beyond `local` (default 10 s). */
  readonly ackTimeoutMs?: number;
  /** Multi-tab coordination (Web Locks + BroadcastChannel by default); `false`: this client syncs on its own. */
  readonly tabs?: TabOptions | false;
  readonly backoff?: BackoffOptions;
  readonly now?: () => number;
  readonly random?: () => number;
}

/** A write that removed LWW values the app was never shown. */
export interface ConflictEvent {
  readonly collection: string;
  readonly key: string;
  readonly writeId: string;
  readonly discarded: readonly Conflict<unknown>[];
}

/** A write the relay refused for good; it is in `client.rejected()` until retried or discarded. */
export interface RejectedEvent {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** A write committed locally: its dot and its version (what it was derived from, plus its dot). */
export interface WrittenEvent {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly dot: Dot;
  readonly version: Version;
}

export interface ClientEvents extends Record<string, unknown> {
  written: WrittenEvent;
  conflict: ConflictEvent;
  rejected: RejectedEvent;
  storageFailure: ConvergeError;
  acked: { readonly writeIds: readonly string[]; readonly level: AckLevel };
}

/** A pending write, as `client.outbox()` lists it. */
export interface PendingWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  /** Every write in the outbox is committed locally and not yet held by the relay. */
  readonly status: 'local';
  /** The level its writer waits for. */
  readonly ack: AckLevel;
  readonly kind: 'put' | 'delete' | 'op';
  readonly value?: unknown;
  readonly op?: CrdtOp;
  readonly createdAt: number;
  /** Refused for its clock: it is written again with a corrected clock before the next push. */
  readonly skewed: boolean;
}

/** A write the relay refused for good, kept until the app retries or discards it. */
export interface RejectedWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly status: 'rejected';
  readonly code: ErrorCode;
  readonly message: string;
  readonly kind: 'put' | 'delete' | 'op';
  /** The attempted value (`put`). */
  readonly value?: unknown;
  readonly op?: CrdtOp;
  readonly at: number;
  /** Writes the attempt again as a new write over the current state. */
  retry(options?: { readonly ack?: AckLevel }): Promise<WriteReceipt>;
  /** Forgets the attempt. */
  discard(): Promise<void>;
}

/** Collects the writes of `client.batch`: every method records one write. */
export interface BatchWriter {
  collection(name: string): BatchCollection;
}

export interface BatchCollection {
  put(key: string, value: unknown, options?: { readonly version?: Version }): void;
  delete(key: string): void;
  update(key: string, fn: (current: unknown) => unknown): void;
  increment(key: string, itemOrBy: string | number, by?: number): void;
  apply(key: string, op: CrdtOp): void;
}

const errorInfo = (error: ConvergeError | undefined): ErrorInfo | undefined => (error === undefined ? undefined : { code: error.code, message: error.message });

/**
 * A Converge client: a replica in IndexedDB that reads and writes locally, offline or online,
 * and syncs with a relay. Create it with `createClient`.
 */
export class Client implements ClientCore {
  readonly status: StatusStore;
  readonly replica: LocalReplica;
  private readonly events = new Emitter<ClientEvents>();
  private readonly waiters = new AckWaiters();
  private readonly watchers = new Watchers();
  private readonly memory = new Map<string, ReadMemory>();
  private readonly collectionsByName = new Map<string, Collection<never>>();
  private readonly tabs: TabCoordinator;
  private engine: SyncEngine | undefined;
  private readonly transport: Transport | undefined;
  private readonly followerReads = new Map<string, { resolve(): void; reject(error: Error): void }>();
  private reads = 0;
  private closed = false;
  private paused = false;
  private readonly outboxListeners = new Set<(writes: PendingWrite[]) => void>();
  private pendingRefresh: Promise<void> | undefined;
  private pendingAgain = false;

  constructor(
    private readonly options: ClientOptions,
    storage: StorageAdapter,
  ) {
    const specs = Object.entries(options.collections ?? {}).map(([name, o]) => collectionSpec(name, o));
    this.replica = new LocalReplica(storage, specs, { now: this.now });
    this.transport = options.transport ?? (options.url === undefined ? undefined : webSocketTransport(options.url, options.WebSocket));
    this.tabs = new TabCoordinator(
      storage.name,
      { lead: () => this.lead(), message: (m) => this.tabMessage(m) },
      options.tabs === false ? { locks: null, channel: null } : options.tabs,
    );
    this.status = new StatusStore({
      connection: 'offline',
      pending: 0,
      positions: {},
      lastSyncedAt: undefined,
      error: undefined,
      storage: storage.kind,
      storageFailed: false,
      role: this.tabs.role,
      replicaId: '',
      paused: false,
    });
  }

  private readonly now = (): number => (this.options.now ?? Date.now)();
  private readonly random = (): number => (this.options.random ?? Math.random)();

  /** Opens the replica and joins the tabs (internal: use `createClient`). */
  async start(storageFailure?: ConvergeError): Promise<void> {
    const rep = await this.replica.open();
    this.watchStorage(this.replica.storage);
    this.status.update({ replicaId: rep.id });
    if (storageFailure !== undefined) this.reportStorageFailure(storageFailure);
    await this.refreshPending();
    this.tabs.start();
    if (this.tabs.role === 'follower') this.tabs.post({ type: 'status?' });
  }

  get name(): string {
    return this.options.name;
  }

  get replicaId(): string {
    return this.replica.replicaId;
  }

  /** A collection; declare its strategy and mode in `createClient({ collections })`. */
  collection<T = unknown>(name: string): Collection<T> {
    let collection = this.collectionsByName.get(name);
    if (collection === undefined) {
      const known = this.replica.collections().some((s) => s.name === name);
      collection = new Collection<never>(this.replica.spec(name), this);
      this.collectionsByName.set(name, collection);
      if (!known && this.engine !== undefined) this.engine.subscribe(name);
      else if (!known) this.tabs.post({ type: 'collection', name });
    }
    return collection as unknown as Collection<T>;
  }

  /** Subscribes to a client event; returns the unsubscribe function. */
  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  // ── writes ────────────────────────────────────────────────────────────────

  async commit(requests: readonly WriteRequest[], ack: AckLevel, settledRejections: readonly string[] = []): Promise<WriteReceipt[]> {
    if (this.closed) throw new ConvergeError('internal', 'the client is closed');
    const written = await this.replica.write(requests, 'strict', settledRejections);
    for (const w of written) this.remember(w.collection, w.key, w.memory);
    this.status.update({ pending: this.status.get().pending + written.length });
    if (this.outboxListeners.size > 0) void this.refreshPending();
    this.committed(
      written.map((w) => ({ collection: w.collection, key: w.key, record: w.record })),
      true,
    );
    for (const w of written) {
      this.events.emit('written', { writeId: w.writeId, collection: w.collection, key: w.key, dot: w.dot, version: w.memory.context });
      if (w.discarded.length === 0) continue;
      const discarded = w.discarded.map((s) => ({
        value: s.deleted === true ? undefined : decodeAppValue(s.value),
        deleted: s.deleted === true,
        dot: s.dot,
        hlc: s.hlc,
      }));
      this.events.emit('conflict', { collection: w.collection, key: w.key, writeId: w.writeId, discarded });
    }
    const timeout = this.options.ackTimeoutMs ?? 10_000;
    const levels = await Promise.all(written.map((w) => this.waiters.wait(w.writeId, ack, timeout)));
    return written.map((w, i) => ({ writeId: w.writeId, collection: w.collection, key: w.key, level: levels[i]! }));
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
  async batch(fn: (writer: BatchWriter) => void, options: { readonly ack?: AckLevel } = {}): Promise<WriteReceipt[]> {
    const requests: WriteRequest[] = [];
    const ack = options.ack ?? 'local';
    fn({
      collection: (name) => {
        const build = new RequestBuilder(this.replica.spec(name), this);
        const spec = build.spec;
        return {
          put: (key, value, o) => void requests.push(build.put(key, value, { ack, ...(o?.version === undefined ? {} : { version: o.version }) })),
          delete: (key) => void requests.push(build.delete(key, { ack })),
          update: (key, f) => void requests.push(build.update(key, f, { ack })),
          increment: (key, itemOrBy, by) => void requests.push(build.op(key, incrementOp(spec, itemOrBy, by), { ack })),
          apply: (key, op) => void requests.push(build.op(key, op, { ack })),
        };
      },
    });
    return this.commit(requests, ack);
  }

  /** Puts many values of one collection in one transaction. */
  putMany<T>(collection: string, entries: Iterable<readonly [string, T]>, options: { readonly ack?: AckLevel } = {}): Promise<WriteReceipt[]> {
    return this.batch((b) => {
      const c = b.collection(collection);
      for (const [key, value] of entries) c.put(key, value);
    }, options);
  }

  recall(collection: string, key: string): ReadMemory | undefined {
    return this.memory.get(docId(collection, key));
  }

  remember(collection: string, key: string, memory: ReadMemory): void {
    this.memory.set(docId(collection, key), memory);
  }

  // ── committed changes, watchers, tabs ─────────────────────────────────────

  /** Fires watchers for a committed batch and tells the other tabs. */
  private committed(changes: readonly DocChange[], wrote: boolean): void {
    if (changes.length === 0) return;
    this.watchers.deliver(changes, (c) => this.watchEvent(c));
    const byCollection = new Map<string, string[]>();
    for (const c of changes) byCollection.set(c.collection, [...(byCollection.get(c.collection) ?? []), c.key]);
    for (const [collection, keys] of byCollection) this.tabs.post({ type: 'changed', collection, keys, outbox: wrote });
    if (wrote) this.engine?.kick();
  }

  private watchEvent(change: DocChange): WatchEvent<unknown> {
    if (change.record === undefined) return { key: change.key, doc: undefined };
    const { doc, memory } = readRecord(this.replica.spec(change.collection), change.record);
    this.remember(change.collection, change.key, memory);
    return { key: change.key, doc };
  }

  watch(collection: string, target: WatchTarget, listener: (events: WatchEvent<unknown>[]) => void): () => void {
    return this.watchers.add(collection, target, listener);
  }

  private async changedElsewhere(collection: string, keys: readonly string[]): Promise<void> {
    if (!this.watchers.watches(collection)) return;
    const records = await this.replica.storage.read((tx) => Promise.all(keys.map((k) => tx.getDoc(collection, k))));
    this.watchers.deliver(
      keys.map((key, i) => ({ collection, key, record: records[i] })),
      (c) => this.watchEvent(c),
    );
  }

  private tabMessage(message: TabMessage): void {
    if (this.closed) return;
    const leader = this.engine !== undefined;
    switch (message.type) {
      case 'changed':
        void this.changedElsewhere(message.collection, message.keys).catch(() => undefined);
        if (message.outbox) {
          this.engine?.kick();
          void this.refreshPending();
        }
        return;
      case 'acked':
        this.waiters.acked(message.writeIds, message.level);
        void this.refreshPending();
        return;
      case 'rejected':
        for (const w of message.writes) this.noteRejected(w.writeId, w.code, w.message, undefined);
        void this.refreshPending();
        return;
      case 'status':
        if (!leader) {
          const error = message.error === undefined ? undefined : new ConvergeError(message.error.code, message.error.message);
          this.status.update({ connection: message.connection, positions: message.positions, error });
        }
        return;
      case 'status?':
        if (leader) this.postStatus();
        return;
      case 'read':
        if (leader) {
          this.engine!.read(message.collection, message.keys).then(
            () => this.tabs.post({ type: 'read-done', id: message.id, error: undefined }),
            (error: ConvergeError) => this.tabs.post({ type: 'read-done', id: message.id, error: errorInfo(error) }),
          );
        }
        return;
      case 'read-done': {
        const pending = this.followerReads.get(message.id);
        if (pending === undefined) return;
        this.followerReads.delete(message.id);
        if (message.error === undefined) pending.resolve();
        else pending.reject(new ConvergeError(message.error.code, message.error.message));
        return;
      }
      case 'collection':
        if (leader) this.collection(message.name);
        return;
      case 'replica':
        void this.replica.open().then((rep) => this.status.update({ replicaId: rep.id }));
        this.engine?.kick(); // a session still speaking for the old id reconnects
        return;
      case 'destroyed':
        void this.close();
        return;
    }
  }

  private postStatus(): void {
    const s = this.status.get();
    this.tabs.post({ type: 'status', connection: s.connection, positions: s.positions, error: errorInfo(s.error) });
  }

  private async refreshPending(): Promise<void> {
    if (this.pendingRefresh !== undefined) {
      this.pendingAgain = true;
      return this.pendingRefresh;
    }
    this.pendingRefresh = (async () => {
      do {
        this.pendingAgain = false;
        try {
          const pending = await this.replica.storage.read((tx) => tx.countOutbox());
          this.status.update({ pending });
          if (this.outboxListeners.size > 0) {
            const writes = await this.outbox();
            for (const listener of [...this.outboxListeners]) listener(writes);
          }
        } catch {
          return; // storage closed or failed: reported elsewhere
        }
      } while (this.pendingAgain);
    })().finally(() => (this.pendingRefresh = undefined));
    return this.pendingRefresh;
  }

  // ── sync (the tab holding the socket) ─────────────────────────────────────

  /** This tab now holds the socket (or syncs on its own). */
  private lead(): void {
    if (this.closed) return;
    this.status.update({ role: this.tabs.role });
    if (this.transport === undefined) return;
    this.engine = new SyncEngine(this.syncHost(), this.transport, this.options.backoff === undefined ? {} : { backoff: this.options.backoff });
    if (!this.paused) this.engine.start();
  }

  private syncHost(): SyncHost {
    return {
      replica: this.replica,
      collections: () => this.replica.collections(),
      token: async (refresh) => {
        const auth = this.options.auth;
        return typeof auth === 'function' ? await auth({ refresh }) : auth;
      },
      committed: (changes) => {
        this.committed(changes, false);
        void this.refreshPending();
      },
      acked: (writeIds, level: RelayAckLevel) => {
        this.waiters.acked(writeIds, level);
        this.events.emit('acked', { writeIds, level });
        this.tabs.post({ type: 'acked', writeIds, level });
        void this.refreshPending();
      },
      rejected: (records) => {
        this.tabs.post({ type: 'rejected', writes: records.map((r) => ({ writeId: r.writeId, code: r.code, message: r.message })) });
        for (const record of records) this.noteRejected(record.writeId, record.code, record.message, record);
        void this.refreshPending();
      },
      connection: (state: ConnectionState) => {
        this.status.update(state === 'synced' ? { connection: state, pending: 0 } : { connection: state });
        this.postStatus();
      },
      positions: (cursors) => {
        this.status.update({ positions: Object.fromEntries(cursors) });
        this.postStatus();
      },
      error: (error) => {
        this.status.update({ error });
        this.postStatus();
      },
      replicaChanged: (changes) => {
        this.committed(changes, false);
        this.status.update({ replicaId: this.replica.replicaId });
        this.tabs.post({ type: 'replica' });
      },
      now: this.now,
      random: this.random,
    };
  }

  /** A refused write: its promise rejects, the app hears of it; a leader-follower refusal may be rebased by `onReject`. */
  private noteRejected(writeId: string, code: ErrorCode, message: string, record: RejectedRecord | undefined): void {
    this.waiters.rejected(writeId, code, message);
    const [collection, key] = record === undefined ? ['', ''] : [record.collection, record.key];
    if (record !== undefined) this.events.emit('rejected', { writeId, collection, key, code, message });
    const spec = record === undefined ? undefined : this.replica.spec(record.collection);
    if (record === undefined || spec?.onReject === undefined || code !== 'conflict_rejected' || record.write.kind !== 'put') return;
    const attempted = decodeAppValue(record.write.value);
    const current = record.current === undefined ? undefined : resolveState(decodedState(record.current), strategyOf(spec)).value;
    let rebased: unknown;
    try {
      rebased = spec.onReject(attempted, current);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
      return;
    }
    if (rebased === undefined) return;
    const request: WriteRequest = { collection: record.collection, key: record.key, ack: 'local', kind: 'put', value: encodeAppValue(rebased), read: 'stored' };
    void this.commit([request], 'local', [record.writeId]).catch((error: ConvergeError) => this.status.update({ error }));
  }

  async leaderRead(collection: string, keys: readonly string[]): Promise<void> {
    if (this.engine !== undefined) {
      await this.engine.read(collection, keys);
      return;
    }
    if (this.transport === undefined) throw new ConvergeError('not_leader', 'this client has no relay to read from');
    const id = `${this.replicaId}:${++this.reads}`;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.followerReads.delete(id);
        reject(new ConvergeError('not_leader', 'the tab holding the connection did not answer the read'));
      }, this.options.ackTimeoutMs ?? 10_000);
      this.followerReads.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.tabs.post({ type: 'read', id, collection, keys });
    });
  }

  // ── outbox and rejected writes ────────────────────────────────────────────

  /** Pending writes in outbox order, each with its status. */
  async outbox(): Promise<PendingWrite[]> {
    const entries = await this.replica.storage.read((tx) => tx.listOutbox());
    return entries.map((e) => ({
      writeId: e.writeId,
      collection: e.collection,
      key: e.key,
      status: 'local' as const,
      ack: e.ack,
      kind: e.write.kind,
      ...(e.write.kind === 'put' ? { value: decodeAppValue(e.write.value) } : {}),
      ...(e.write.kind === 'op' ? { op: e.write.op } : {}),
      createdAt: e.createdAt,
      skewed: e.skewed === true,
    }));
  }

  /**
   * Calls `listener` with the pending writes now and whenever the outbox changes (a write
   * committed here or in another tab, the relay acknowledged or refused some). Returns the
   * unsubscribe function.
   */
  watchOutbox(listener: (writes: PendingWrite[]) => void): () => void {
    this.outboxListeners.add(listener);
    void this.outbox().then((writes) => {
      if (this.outboxListeners.has(listener)) listener(writes);
    });
    return () => this.outboxListeners.delete(listener);
  }

  /** Writes the relay refused for good, with `retry()` and `discard()`. */
  async rejected(): Promise<RejectedWrite[]> {
    const records = await this.replica.storage.read((tx) => tx.listRejected());
    return records.map((r) => this.rejectedWrite(r));
  }

  private rejectedWrite(r: RejectedRecord): RejectedWrite {
    const write = r.write;
    return {
      writeId: r.writeId,
      collection: r.collection,
      key: r.key,
      status: 'rejected',
      code: r.code,
      message: r.message,
      kind: write.kind,
      ...(write.kind === 'put' ? { value: decodeAppValue(write.value) } : {}),
      ...(write.kind === 'op' ? { op: write.op } : {}),
      at: r.at,
      retry: async (options = {}) => {
        const base = { collection: r.collection, key: r.key, ack: options.ack ?? 'local' };
        const request: WriteRequest =
          write.kind === 'op'
            ? { ...base, kind: 'op', op: write.op }
            : write.kind === 'put'
              ? { ...base, kind: 'put', value: write.value, read: 'stored' }
              : { ...base, kind: 'delete', read: 'stored' };
        const [receipt] = await this.commit([request], base.ack, [r.writeId]);
        return receipt!;
      },
      discard: async () => {
        await this.replica.storage.write(async (tx) => tx.deleteRejected(r.writeId));
      },
    };
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────

  /** Resolves once the client is `synced`: connected, caught up, and nothing pending. */
  whenSynced(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const unsubscribe = this.status.subscribe((s) => {
        if (s.connection !== 'synced' || s.pending !== 0) return;
        if (timer !== undefined) clearTimeout(timer);
        queueMicrotask(() => unsubscribe());
        resolve();
      });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          unsubscribe();
          reject(
            new ConvergeError(
              'ack_timeout',
              `not synced within ${options.timeoutMs} ms (${this.status.get().connection}, ${this.status.get().pending} pending)`,
            ),
          );
        }, options.timeoutMs);
      }
    });
  }

  /** Cuts the connection (the app's offline switch); writes go on locally. */
  pause(): void {
    this.paused = true;
    this.engine?.stop();
    this.status.update({ paused: true, connection: 'offline' });
  }

  /** Restores the connection after `pause`. */
  resume(): void {
    this.paused = false;
    this.status.update({ paused: false });
    this.engine?.start();
  }

  /** Asks the browser to keep this origin's storage under pressure (`navigator.storage.persist()`). */
  async persist(): Promise<boolean> {
    const storage = (globalThis as { navigator?: { storage?: { persist?: () => Promise<boolean> } } }).navigator?.storage;
    return typeof storage?.persist === 'function' ? storage.persist() : false;
  }

  /** Closes the connection, leaves the tab group and closes the database. Pending writes stay stored. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.engine?.dispose();
    this.engine = undefined;
    this.tabs.close();
    this.waiters.close();
    await this.pendingRefresh?.catch(() => undefined);
    this.replica.storage.close();
    this.status.update({ connection: 'offline' });
  }

  /** Deletes the local database (sign-out). Other tabs of it close their clients. */
  async destroy(): Promise<void> {
    this.tabs.post({ type: 'destroyed' });
    const storage = this.replica.storage;
    await this.close();
    await storage.destroy();
  }

  // ── storage failure ───────────────────────────────────────────────────────

  private watchStorage(storage: StorageAdapter): void {
    storage.onFailure((error) => {
      if (this.closed || this.replica.storage !== storage) return;
      void this.fallBackToMemory(new ConvergeError('internal', `storage failed: ${error.message}; working in memory`, { cause: error }));
    });
  }

  private reportStorageFailure(error: ConvergeError): void {
    this.status.update({ storage: 'memory', storageFailed: true, error });
    this.events.emit('storageFailure', error);
  }

  /** IndexedDB went away under the client: go on in memory (a new replica, caught up from the relay) and say so once. */
  private async fallBackToMemory(error: ConvergeError): Promise<void> {
    this.replica.storage = createMemoryStorage();
    const rep = await this.replica.open();
    this.reportStorageFailure(error);
    this.status.update({ replicaId: rep.id, pending: 0 });
    if (this.engine !== undefined && !this.paused) {
      this.engine.stop();
      this.engine.start();
    }
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
  const { storage, failure } = await openStorage(options.name, options.storage);
  const client = new Client(options, storage);
  await client.start(failure);
  return client;
}
