import type { ClientStatus, LiveStatus } from './live-status.js';

export type { ClientStatus, ConnectionState } from './live-status.js';

let open: (live: LiveStatus) => StatusStore;

/** The app's view of a `LiveStatus` (what `client.status` is). */
export function statusStoreOf(live: LiveStatus): StatusStore {
  return open(live);
}

/**
 * An observable status: `get()` the current one, `subscribe(listener)` to every change.
 * Every listener hears every status, in order: an update made while listeners are being
 * called (a listener that calls `pause()`) is queued and delivered after the current one, so
 * the last status a listener hears is the current one. A listener that throws is reported
 * (`reportError`) and changes nothing else: the update stands and the other listeners hear it.
 *
 * @example
 * ```ts
 * const client = await createClient({ name: 'example-status', storage: 'memory' });
 * const states: string[] = [];
 * const stop = client.status.subscribe((s) => states.push(`${s.connection}/${s.pending}`));
 * await client.collection('notes').put('k', 1);
 * states; // → ['offline/0', 'offline/1']
 * stop();
 * await client.close();
 * ```
 */
export class StatusStore {
  readonly #live: LiveStatus;

  private constructor(live: LiveStatus) {
    this.#live = live;
  }

  static {
    open = (live) => new StatusStore(live);
  }

  get(): ClientStatus {
    return this.#live.get();
  }

  /** Calls `listener` now and on every change; returns the unsubscribe function. */
  subscribe(listener: (status: ClientStatus) => void): () => void {
    return this.#live.subscribe(listener);
  }
}
