import { ConvergeError } from '@converge/conflict';
import { AckWaiters } from './ack-waiters.js';
import { ChangeFeed } from './change-feed.js';
import type { ClientEvents } from './client-events.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './client-options.js';
import { clientSyncHost } from './client-sync-host.js';
import { openCollection, type Collection } from './collection.js';
import { Emitter } from './emitter.js';
import { LocalWrites } from './local-writes.js';
import { openStorage } from './open-storage.js';
import { OutboxViews } from './outbox-views.js';
import { ReadMemories } from './read-memory.js';
import { RelayLink } from './relay-link.js';
import { LocalReplica } from './replica/local-replica.js';
import { LiveStatus } from './live-status.js';
import { StorageFailover } from './storage-failover.js';
import type { SyncHost } from './sync/sync-host.js';
import { FollowerReads } from './tabs/follower-reads.js';
import { TabBridge } from './tab-bridge.js';
import { TabCoordinator } from './tabs/tab-coordinator.js';

/**
 * The parts of one client, built and wired once; the `Client` façade delegates to them. Each
 * part owns one concern: the replica (storage), the change feed (watchers and other tabs), the
 * local writes (commits and their outcomes), the outbox views, the relay link (the sync engine
 * of the tab holding the socket), the tab bridge (messages from other tabs), storage failover.
 */
export class ClientCore {
  readonly status: LiveStatus;
  readonly events = new Emitter<ClientEvents>();
  readonly memories = new ReadMemories();
  readonly replica: LocalReplica;
  readonly tabs: TabCoordinator;
  readonly link: RelayLink;
  readonly feed: ChangeFeed;
  readonly views: OutboxViews;
  readonly writes: LocalWrites;
  readonly bridge: TabBridge;
  readonly failover: StorageFailover;
  readonly #host: SyncHost;
  readonly #collections = new Map<string, Collection<never>>();
  #closed = false;

  private constructor(
    readonly options: ResolvedClientOptions,
    replica: LocalReplica,
  ) {
    this.replica = replica;
    this.tabs = new TabCoordinator(
      replica.name,
      {
        lead: () => this.#lead(),
        follow: () => {
          if (!this.#closed) this.bridge.follow();
        },
        stepDown: () => {
          this.link.stepDown();
          this.status.update({ role: this.tabs.role, connection: 'offline' });
        },
        message: (message) => this.bridge.message(message),
        refused: (problem, version) => this.bridge.refused(problem, version),
      },
      options.tabs,
    );
    this.status = new LiveStatus(
      {
        connection: 'offline',
        pending: 0,
        positions: {},
        lastSyncedAt: undefined,
        error: undefined,
        storage: replica.storageKind,
        storageFailed: false,
        role: this.tabs.role,
        replicaId: '',
        paused: options.paused,
      },
      options.now,
    );
    const followerReads = new FollowerReads(this.tabs, () => replica.replicaId);
    this.link = new RelayLink(options.transport, options, this.status, followerReads);
    this.feed = new ChangeFeed(replica, this.memories, this.tabs, this.link);
    this.views = new OutboxViews(replica, this.status);
    const parts = { replica, status: this.status, events: this.events, feed: this.feed, views: this.views };
    this.writes = new LocalWrites({ ...parts, memories: this.memories, waiters: new AckWaiters(), ackTimeoutMs: options.ackTimeoutMs });
    this.#host = clientSyncHost({ ...parts, options, writes: this.writes, tabs: this.tabs });
    const close = () => this.close();
    this.bridge = new TabBridge({ ...parts, tabs: this.tabs, writes: this.writes, link: this.link, followerReads, close, failed: this.failed });
    this.failover = new StorageFailover(replica, this.status, this.events, this.link, this.failed);
  }

  /** Resolves the options, opens the storage and the replica, and joins the tabs. */
  static async open(input: ClientOptions): Promise<ClientCore> {
    const options = resolveClientOptions(input);
    const { storage, failure } = await openStorage(options.name, options.storage);
    const replica = new LocalReplica(storage, options.collections, { now: options.now, preWelcomeMaxValueBytes: options.sync.preWelcome.maxValueBytes });
    const core = new ClientCore(options, replica);
    try {
      const rep = await replica.open();
      core.status.update({ replicaId: rep.id });
      core.failover.start(failure);
      // The pending count follows (a count of the outbox): opening does not wait for it, so a
      // database with a long outbox opens as fast as an empty one.
      void core.views.refresh();
      core.tabs.start();
    } catch (error) {
      await core.close();
      throw error;
    }
    return core;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** This tab now holds the socket (or syncs on its own). */
  #lead(): void {
    if (this.#closed) return;
    this.status.update({ role: this.tabs.role });
    this.link.lead(this.#host);
  }

  /** Work started by an event (a tab message, a storage failure) failed: said in the status; never an unhandled rejection. */
  readonly failed = (error: unknown): void => {
    if (this.#closed && error instanceof ConvergeError && error.code === 'closed') return;
    this.status.update({ error: error instanceof ConvergeError ? error : new ConvergeError('internal', String(error), { cause: error }) });
  };

  /** A collection (the same object for every call with one name); one the relay was not told of yet is subscribed to. */
  collection<T>(name: string): Collection<T> {
    let collection = this.#collections.get(name);
    if (collection === undefined) {
      const known = this.replica.collections().some((s) => s.name === name);
      this.replica.spec(name);
      collection = openCollection<never>(name, this);
      this.#collections.set(name, collection);
      if (!known && !this.link.subscribe(name)) this.tabs.post({ type: 'collection', name });
    }
    return collection as unknown as Collection<T>;
  }

  /** Closes the connection, leaves the tab group and closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.link.stepDown();
    this.tabs.close();
    this.writes.close();
    this.failover.stop();
    await this.views.settled();
    this.replica.close();
    this.status.update({ connection: 'offline' });
  }

  /** Deletes the database; the other tabs of it close their clients. */
  async destroy(): Promise<void> {
    this.tabs.post({ type: 'destroyed' });
    await this.close();
    await this.replica.destroy();
  }
}
