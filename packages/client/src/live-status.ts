import { ConvergeError, type ReplicaId } from '@converge/conflict';
import { callListener } from './listener-errors.js';
import type { ConnectionState } from './sync/sync-host.js';

export type { ConnectionState };

/** What `client.status` reports. */
export interface ClientStatus {
  /** `offline` (paused, no network, waiting to reconnect), `connecting`, `syncing` (catching up or pushing), `synced`. */
  readonly connection: ConnectionState;
  /** Writes not yet held by the relay (every tab's). */
  readonly pending: number;
  /** Last synced position per collection: the seq of the relay's log the replica is complete through. */
  readonly positions: Readonly<Record<string, number>>;
  /** When the client was last `synced` (ms since the epoch), if ever in this session. */
  readonly lastSyncedAt: number | undefined;
  /** The last error: a refused connection, a failed storage, a relay error. Cleared by the next welcome. */
  readonly error: ConvergeError | undefined;
  /** Where the replica lives: `indexeddb`, or `memory` (asked for, or after IndexedDB failed: see `storageFailed`). */
  readonly storage: 'indexeddb' | 'memory';
  readonly storageFailed: boolean;
  /** `leader`: this tab holds the socket; `follower`: another tab does; `solo`: no tab coordination. */
  readonly role: 'leader' | 'follower' | 'solo';
  readonly replicaId: ReplicaId;
  readonly paused: boolean;
}

/**
 * The client's status as its parts keep it: they `update` it, the app reads it through the
 * `StatusStore` façade (`client.status`). Every listener hears every status, in order: an
 * update made while listeners are being called (a listener that calls `pause()`) is queued and
 * delivered after the current one, so the last status a listener hears is the current one. A
 * listener that throws is reported (`reportError`) and changes nothing else: the update stands
 * and the other listeners hear it.
 */
export class LiveStatus {
  #current: ClientStatus;
  /** How many updates were made: a status's number. */
  #updates = 0;
  /** Each listener with the number of the last status it heard (it never hears an older one). */
  readonly #listeners = new Map<(status: ClientStatus) => void, number>();
  /** Statuses not yet delivered, with their numbers; delivered by the outermost `update`. */
  readonly #queue: { readonly status: ClientStatus; readonly n: number }[] = [];
  #delivering = false;

  readonly #now: () => number;

  /** @param now the client's clock (`lastSyncedAt`). */
  constructor(initial: ClientStatus, now: () => number = () => Date.now()) {
    this.#now = now;
    this.#current = initial;
  }

  get(): ClientStatus {
    return this.#current;
  }

  /** Calls `listener` now and on every change; returns the unsubscribe function. */
  subscribe(listener: (status: ClientStatus) => void): () => void {
    this.#listeners.set(listener, this.#updates);
    callListener(listener, this.#current);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once `done(status)` holds; rejects with `timeout` after `timeoutMs` (when given). */
  when(done: (status: ClientStatus) => boolean, timeoutMs: number | undefined, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: { timer?: ReturnType<typeof setTimeout>; settled?: true } = {};
      const unsubscribe = this.subscribe((s) => {
        if (!done(s)) return;
        pending.settled = true;
        clearTimeout(pending.timer);
        queueMicrotask(() => unsubscribe());
        resolve();
      });
      if (timeoutMs === undefined || pending.settled === true) return;
      pending.timer = setTimeout(() => {
        unsubscribe();
        const s = this.#current;
        reject(new ConvergeError('timeout', `not ${what} within ${timeoutMs} ms (${s.connection}, ${s.pending} pending)`));
      }, timeoutMs);
    });
  }

  update(patch: Partial<ClientStatus>): void {
    let changed = false;
    for (const key of Object.keys(patch) as (keyof ClientStatus)[]) {
      if (this.#current[key] !== patch[key]) changed = true;
    }
    if (!changed) return;
    const next = { ...this.#current, ...patch };
    if (patch.connection === 'synced' && this.#current.connection !== 'synced') (next as { lastSyncedAt: number | undefined }).lastSyncedAt = this.#now();
    this.#current = next;
    this.#queue.push({ status: next, n: ++this.#updates });
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let item = this.#queue.shift(); item !== undefined; item = this.#queue.shift()) {
        for (const [listener, heard] of [...this.#listeners]) {
          if (heard >= item.n || !this.#listeners.has(listener)) continue;
          this.#listeners.set(listener, item.n);
          callListener(listener, item.status);
        }
      }
    } finally {
      this.#delivering = false;
    }
  }
}
