import { ConvergeError } from '@converge/conflict';
import type { AckLevel, RelayAckLevel } from '@converge/protocol';
import { AckWaiters } from './ack-waiters.js';
import { collectionSpec } from './collection-spec.js';
import { addOp, clearOp, incrementOp, removeOp, setOp } from './crdt-ops.js';
import { Collection, RequestBuilder, type ClientCore, type WriteReceipt } from './collection.js';
import { Emitter } from './emitter.js';
import { callListener } from './listener-errors.js';
import type { WriteRequest } from './replica/apply-write.js';
import type { DocChange } from './replica/doc-records.js';
import { LocalReplica } from './replica/local-replica.js';
import { readRecord, type ReadMemory } from './replica/read-model.js';
import { openStorage } from './open-storage.js';
import { StatusStore, type ConnectionState } from './status.js';
import { createMemoryStorage } from './storage/memory-storage.js';
import type { RejectedRecord, StorageAdapter, WriteStatus } from './storage/storage-adapter.js';
import { readWriteStatuses } from './replica/recent-writes.js';
import { SyncEngine } from './sync/sync-engine.js';
import type { SyncHost } from './sync/sync-host.js';
import type { Transport } from './sync/transport.js';
import { webSocketTransport } from './sync/websocket-transport.js';
import { FollowerReads } from './tabs/follower-reads.js';
import { TabCoordinator } from './tabs/tab-coordinator.js';
import type { ErrorInfo, TabMessage } from './tabs/tab-messages.js';
import { decodeAppValue } from './values.js';
import { rebaseRequest } from './rebase.js';
import { pendingWriteOf, rejectedWriteOf } from './write-views.js';
import type { ClientEvents, RejectedEvent } from './client-events.js';
import type { BatchWriter, ClientOptions, PendingWrite, RejectedWrite } from './client-types.js';
import { Watchers, type WatchEvent, type WatchTarget } from './watchers.js';

/** A `watchOutbox` listener: the pending writes, and the writes that left the outbox since the previous call. */
export type OutboxListener = (writes: PendingWrite[], settled: WriteStatus[]) => void;

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
  /** What this tab last returned per collection and key: the default context of its next write there. */
  private readonly memory = new Map<string, Map<string, ReadMemory>>();
  private readonly collectionsByName = new Map<string, Collection<never>>();
  private readonly tabs: TabCoordinator;
  private engine: SyncEngine | undefined;
  private readonly transport: Transport | undefined;
  private readonly followerReads: FollowerReads;
  private closed = false;
  private paused: boolean;
  private readonly outboxListeners = new Set<OutboxListener>();
  /** Listeners not called yet, with the writes whose statuses their first call reports. */
  private readonly outboxFirstCalls = new Map<OutboxListener, readonly string[]>();
  /** Writes that left the outbox since the outbox listeners were last called. */
  private leftOutbox: string[] = [];
  private pendingRefresh: Promise<void> | undefined;
  private pendingAgain = false;

  constructor(
    private readonly options: ClientOptions,
    storage: StorageAdapter,
  ) {
    this.paused = options.paused === true;
    const specs = Object.entries(options.collections ?? {}).map(([name, o]) => collectionSpec(name, o));
    this.replica = new LocalReplica(storage, specs, { now: this.now });
    this.transport = options.transport ?? (options.url === undefined ? undefined : webSocketTransport(options.url, options.WebSocket));
    this.tabs = new TabCoordinator(
      storage.name,
      { lead: () => this.lead(), follow: () => this.follow(), stepDown: () => this.stepDown(), message: (m) => this.tabMessage(m) },
      options.tabs === false ? { locks: null, channel: null } : options.tabs,
    );
    this.followerReads = new FollowerReads(this.tabs, () => this.replicaId);
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
      paused: this.paused,
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
      this.replica.spec(name);
      collection = new Collection<never>(name, this);
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
    if (this.closed) throw new ConvergeError('closed', 'the client is closed');
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
          add: (key, element) => void requests.push(build.op(key, addOp(spec, element), { ack })),
          remove: (key, elementOrItem) => void requests.push(build.op(key, removeOp(spec, elementOrItem), { ack })),
          set: (key, field, value) => void requests.push(build.op(key, setOp(spec, field, value), { ack })),
          clear: (key) => void requests.push(build.op(key, clearOp(spec), { ack })),
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
    return this.memory.get(collection)?.get(key);
  }

  remember(collection: string, key: string, memory: ReadMemory): void {
    let memories = this.memory.get(collection);
    if (memories === undefined) this.memory.set(collection, (memories = new Map()));
    memories.set(key, memory);
  }

  // ── committed changes, watchers, tabs ─────────────────────────────────────

  /** Fires watchers for a committed batch and tells the other tabs. */
  private committed(changes: readonly DocChange[], wrote: boolean): void {
    if (changes.length === 0) return;
    this.watchers.deliver(changes, (c) => this.watchEvent(c));
    if (wrote) this.engine?.kick();
    if (!this.tabs.shared) return;
    const byCollection = new Map<string, string[]>();
    for (const c of changes) {
      const keys = byCollection.get(c.collection);
      if (keys === undefined) byCollection.set(c.collection, [c.key]);
      else keys.push(c.key);
    }
    for (const [collection, keys] of byCollection) this.tabs.post({ type: 'changed', collection, keys, outbox: wrote });
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
        this.acked(message.writeIds, message.level, message.unavailable === true);
        return;
      case 'rejected':
        for (const w of message.writes) {
          this.waiters.rejected(w.writeId, w.code, w.message);
          this.events.emit('rejected', w);
        }
        this.noteLeft(message.writes.map((w) => w.writeId));
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
      case 'read-done':
        this.followerReads.done(message.id, message.error);
        return;
      case 'collection':
        if (leader) this.collection(message.name);
        return;
      case 'replica':
        this.replica.open().then((rep) => this.status.update({ replicaId: rep.id }), this.failedInBackground);
        this.engine?.kick(); // a session still speaking for the old id reconnects
        return;
      case 'destroyed':
        this.close().catch(this.failedInBackground);
        return;
    }
  }

  /** Work started by an event (a tab message, a storage failure) failed: say so in the status; never an unhandled rejection. */
  private readonly failedInBackground = (error: unknown): void => {
    if (this.closed && error instanceof ConvergeError && error.code === 'closed') return;
    this.status.update({ error: error instanceof ConvergeError ? error : new ConvergeError('internal', String(error), { cause: error }) });
  };

  private postStatus(): void {
    const s = this.status.get();
    this.tabs.post({ type: 'status', connection: s.connection, positions: s.positions, error: errorInfo(s.error) });
  }

  /**
   * The relay holds these writes at `level` (heard on this tab's connection or from the leader
   * tab); `unavailable`: its store cannot confirm a higher level, so writes waiting for one fail.
   */
  private acked(writeIds: readonly string[], level: AckLevel, unavailable = false): void {
    this.waiters.acked(writeIds, level);
    if (unavailable) this.waiters.unavailable(writeIds, level);
    this.events.emit('acked', { writeIds, level });
    this.noteLeft(writeIds);
    void this.refreshPending();
  }

  /** Writes that left the outbox, for the next call of the outbox listeners. */
  private noteLeft(writeIds: readonly string[]): void {
    if (this.outboxListeners.size > 0) this.leftOutbox.push(...writeIds);
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
          if (this.outboxListeners.size === 0) {
            this.status.update({ pending: await this.replica.storage.read((tx) => tx.countOutbox()) });
            continue;
          }
          const left = this.leftOutbox.splice(0);
          const first = new Map(this.outboxFirstCalls);
          this.outboxFirstCalls.clear();
          const asked = [...new Set([...left, ...[...first.values()].flat()])];
          const [entries, statuses] = await this.replica.storage.read(async (tx) => {
            const outbox = await tx.listOutbox();
            return [outbox, await readWriteStatuses(tx, asked, outbox)] as const;
          });
          this.status.update({ pending: entries.length });
          const byId = new Map(asked.map((id, i) => [id, statuses[i]]));
          const settled = (ids: readonly string[]) => ids.flatMap((id) => byId.get(id) ?? []).filter((s) => s.status !== 'local');
          const writes = entries.map(pendingWriteOf);
          const settledNow = settled(left);
          for (const listener of [...this.outboxListeners]) {
            const named = first.get(listener);
            // A listener added since this read was taken gets its first call from the next one.
            if (named === undefined && this.outboxFirstCalls.has(listener)) continue;
            callListener(listener, writes, named === undefined ? settledNow : settled(named));
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

  /** Another tab holds the socket: mirror its status. */
  private follow(): void {
    if (this.closed) return;
    this.status.update({ role: this.tabs.role });
    this.tabs.post({ type: 'status?' });
  }

  /** The page is being frozen: close the socket now (the lock goes after); another tab takes over. */
  private stepDown(): void {
    this.engine?.dispose();
    this.engine = undefined;
    this.status.update({ role: this.tabs.role, connection: 'offline' });
  }

  private syncHost(): SyncHost {
    return {
      replica: this.replica,
      collections: () => this.replica.collections(),
      token: async (refresh) => {
        const auth = this.options.auth;
        return typeof auth === 'function' ? await auth({ refresh }) : auth;
      },
      committed: (changes) => this.committed(changes, false),
      rewritten: (writes) => {
        for (const w of writes) this.events.emit('written', { writeId: w.writeId, collection: w.collection, key: w.key, dot: w.dot, version: w.version });
      },
      acked: (writeIds, level: RelayAckLevel, unavailable = false) => {
        this.acked(writeIds, level, unavailable);
        this.tabs.post(unavailable ? { type: 'acked', writeIds, level, unavailable } : { type: 'acked', writeIds, level });
      },
      rejected: (records) => {
        const events = records.map((record) => this.noteRejected(record));
        this.tabs.post({ type: 'rejected', writes: events });
        this.noteLeft(records.map((r) => r.writeId));
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
  private noteRejected(record: RejectedRecord): RejectedEvent {
    const { writeId, code, message } = record;
    this.waiters.rejected(writeId, code, message);
    const request = rebaseRequest(this.replica.spec(record.collection), record);
    const event: RejectedEvent = { writeId, collection: record.collection, key: record.key, code, message, rebased: request !== undefined };
    this.events.emit('rejected', event);
    if (request !== undefined) void this.commit([request], 'local', [record.writeId]).catch((error: ConvergeError) => this.status.update({ error }));
    return event;
  }

  async leaderRead(collection: string, keys: readonly string[]): Promise<void> {
    if (this.engine !== undefined) await this.engine.read(collection, keys);
    else if (this.transport === undefined) throw new ConvergeError('offline', 'this client has no relay to read from');
    else await this.followerReads.read(collection, keys, this.options.ackTimeoutMs ?? 10_000);
  }

  // ── outbox and rejected writes ────────────────────────────────────────────

  /** Pending writes in outbox order, each with its status. */
  async outbox(): Promise<PendingWrite[]> {
    return (await this.replica.storage.read((tx) => tx.listOutbox())).map(pendingWriteOf);
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
    this.outboxListeners.add(listener);
    this.outboxFirstCalls.set(listener, options.settled ?? []);
    void this.refreshPending();
    return () => {
      this.outboxListeners.delete(listener);
      this.outboxFirstCalls.delete(listener);
    };
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
  async writeStatuses(writeIds: readonly string[]): Promise<(WriteStatus | undefined)[]> {
    return this.replica.storage.read((tx) => readWriteStatuses(tx, writeIds));
  }

  /** Writes the relay refused for good, with `retry()` and `discard()`. */
  async rejected(): Promise<RejectedWrite[]> {
    const records = await this.replica.storage.read((tx) => tx.listRejected());
    return records.map((r) =>
      rejectedWriteOf(r, {
        retry: async (request, ack) => (await this.commit([request], ack, [r.writeId]))[0]!,
        discard: () => this.replica.storage.write(async (tx) => tx.deleteRejected(r.writeId)),
      }),
    );
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────

  /** Resolves once the client is `synced`: connected, caught up, and nothing pending. */
  whenSynced(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    return this.status.when((s) => s.connection === 'synced' && s.pending === 0, options.timeoutMs, 'synced with nothing pending');
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
      this.fallBackToMemory(new ConvergeError('storage_unavailable', `storage failed: ${error.message}; working in memory`, { cause: error })).catch(
        this.failedInBackground,
      );
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
