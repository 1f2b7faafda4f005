import { ConvergeError } from '@converge/conflict';
import type { LiveStatus } from './live-status.js';
import { SyncEngine, type SyncEngineOptions } from './sync/sync-engine.js';
import type { SyncHost } from './sync/sync-host.js';
import type { Transport } from './sync/transport.js';
import type { FollowerReads } from './tabs/follower-reads.js';

/**
 * This client's way to the relay. The tab holding the socket (the leader, or a tab on its own)
 * runs the sync engine from `lead` until `stepDown`; `pause` and `resume` are the app's offline
 * switch. A leader read goes through the socket here, or through the leader tab.
 */
export class RelayLink {
  #engine: SyncEngine | undefined;
  #paused: boolean;

  readonly #transport: Transport | undefined;
  readonly #options: SyncEngineOptions & { readonly paused: boolean; readonly readTimeoutMs: number };
  readonly #status: LiveStatus;
  readonly #followerReads: FollowerReads;

  constructor(
    transport: Transport | undefined,
    options: SyncEngineOptions & { readonly paused: boolean; readonly readTimeoutMs: number },
    status: LiveStatus,
    followerReads: FollowerReads,
  ) {
    this.#transport = transport;
    this.#options = options;
    this.#status = status;
    this.#followerReads = followerReads;
    this.#paused = options.paused;
  }

  /** This tab holds the socket (or would, when it has a relay). */
  get leading(): boolean {
    return this.#engine !== undefined;
  }

  /** This tab now holds the socket: sync through `host` (unless paused). */
  lead(host: SyncHost): void {
    if (this.#transport === undefined || this.#engine !== undefined) return;
    this.#engine = new SyncEngine(host, this.#transport, this.#options);
    if (!this.#paused) this.#engine.start();
  }

  /** Stops syncing at once (the page is being frozen, or the client closes). */
  stepDown(): void {
    this.#engine?.dispose();
    this.#engine = undefined;
  }

  /** Cuts the connection (the app's offline switch); writes go on locally. */
  pause(): void {
    this.#paused = true;
    this.#engine?.stop();
    this.#status.update({ paused: true, connection: 'offline' });
  }

  resume(): void {
    this.#paused = false;
    this.#status.update({ paused: false });
    this.#engine?.start();
  }

  /** Connects afresh (the storage was replaced). */
  restart(): void {
    if (this.#engine === undefined || this.#paused) return;
    this.#engine.stop();
    this.#engine.start();
  }

  /** The outbox changed: push if connected. */
  kick(): void {
    this.#engine?.kick();
  }

  /** Follows a collection the app started using after connect; false when another tab holds the socket. */
  subscribe(collection: string): boolean {
    this.#engine?.subscribe(collection);
    return this.#engine !== undefined;
  }

  /** Reads keys from the relay into the replica (`consistency: 'leader'`): through the socket, or asks the leader tab. */
  async read(collection: string, keys: readonly string[]): Promise<void> {
    if (this.#engine !== undefined) return this.#engine.read(collection, keys);
    if (this.#transport === undefined) throw new ConvergeError('offline', 'this client has no relay to read from');
    return this.#followerReads.read(collection, keys, this.#options.readTimeoutMs);
  }
}
