import { ConvergeError } from '@converge/conflict';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import type { SessionOptions } from './session-context.js';
import type { SyncHost } from './sync-host.js';
import { SyncSession, type SessionEnd } from './sync-session.js';
import type { Transport } from './transport.js';
import { Unconfirmed } from './unconfirmed.js';

export interface SyncEngineOptions extends Omit<SessionOptions, 'maxChangesPerPush'> {
  readonly backoff: BackoffOptions;
}

/**
 * Keeps one session with the relay alive: connects, and after each close reconnects with
 * exponential backoff and jitter (at once after a new replica id, a clock correction or a
 * token refresh; never after a configuration error, until `resume`). Follows the browser's
 * `online`/`offline` events.
 */
export class SyncEngine {
  #session: SyncSession | undefined;
  #running = false;
  #attempt = 0;
  #immediate = 0;
  #refreshToken = false;
  /** A fresh token was already tried after `unauthorized` (reset by the next welcome). */
  #authRefreshed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #networkDown = false;
  readonly #unlisten: (() => void)[] = [];
  /** Most changes per push: halved after `rate_limited`, grown back after each connection that syncs. */
  #pushSize = Infinity;
  /** Writes acknowledged at `relay` whose `confirm` of a higher level a closed session cut off: the next session asks again. */
  readonly #unconfirmed = new Unconfirmed();

  readonly #host: SyncHost;
  readonly #transport: Transport;
  readonly #options: SyncEngineOptions;

  constructor(host: SyncHost, transport: Transport, options: SyncEngineOptions) {
    this.#host = host;
    this.#transport = transport;
    this.#options = options;
    const target = globalThis as {
      addEventListener?: (type: string, listener: () => void) => void;
      removeEventListener?: (type: string, listener: () => void) => void;
    };
    if (typeof target.addEventListener === 'function' && typeof target.removeEventListener === 'function') {
      const online = () => this.#online();
      const offline = () => this.#offline();
      target.addEventListener('online', online);
      target.addEventListener('offline', offline);
      this.#unlisten.push(() => target.removeEventListener!('online', online));
      this.#unlisten.push(() => target.removeEventListener!('offline', offline));
    }
  }

  get connected(): boolean {
    return this.#session?.open === true;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#connect();
  }

  /** Closes the connection and stays offline until `start`. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#session?.close({ kind: 'stopped' });
    this.#session = undefined;
    this.#host.connection('offline');
  }

  dispose(): void {
    this.stop();
    for (const off of this.#unlisten.splice(0)) off();
  }

  /** The outbox changed: push if connected. */
  kick(): void {
    this.#session?.kick();
  }

  /** Follows a collection the app started using after connect. */
  subscribe(collection: string): void {
    this.#session?.subscribe(collection);
  }

  read(collection: string, keys: readonly string[]): Promise<void> {
    if (this.#session === undefined) return Promise.reject(new ConvergeError('offline', 'no connection to the relay: a leader read needs one'));
    return this.#session.read(collection, keys);
  }

  #online(): void {
    this.#networkDown = false;
    if (!this.#running || this.#session !== undefined) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#attempt = 0;
    this.#connect();
  }

  #offline(): void {
    this.#networkDown = true;
    this.#session?.close({ kind: 'retry', error: new ConvergeError('offline', 'the browser is offline') });
  }

  #connect(): void {
    if (!this.#running) return;
    this.#timer = undefined;
    this.#host.connection('connecting');
    const session = new SyncSession(
      {
        ...this.#host,
        replica: this.#host.replica,
        token: () => {
          const refresh = this.#refreshToken;
          this.#refreshToken = false;
          return this.#host.token(refresh);
        },
        connection: (state) => {
          if (state === 'syncing' || state === 'synced') {
            this.#attempt = 0;
            this.#authRefreshed = false;
          }
          if (state === 'synced' && this.#pushSize < Infinity)
            this.#pushSize = this.#pushSize >= this.#options.sync.pushSizeCeiling / 2 ? Infinity : this.#pushSize * 2;
          if (this.#session === session) this.#host.connection(state);
        },
      },
      this.#transport,
      { ...this.#options, maxChangesPerPush: this.#pushSize },
      this.#unconfirmed,
    );
    this.#session = session;
    void session.ended.then((end) => this.#ended(session, end));
  }

  #ended(session: SyncSession, end: SessionEnd): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    if (end.kind === 'stopped' || !this.#running) return;
    this.#host.connection('offline');
    if (end.error !== undefined) this.#host.error(end.error);
    if (end.kind === 'fatal') {
      this.#running = false;
      return;
    }
    if (end.kind === 'auth') this.#refreshToken = true;
    if (end.error?.code === 'rate_limited') this.#pushSize = Math.max(1, Math.floor(Math.min(this.#pushSize, this.#options.sync.pushSizeCeiling) / 2));
    // A new replica id, a clock correction, or the first fresh token: reconnect at once, a few times in a row at most.
    const atOnce = end.kind === 'now' || (end.kind === 'auth' && !this.#authRefreshed);
    if (end.kind === 'auth') this.#authRefreshed = true;
    let delay: number;
    if (atOnce && this.#immediate < this.#options.sync.atOnceInARow) {
      this.#immediate++;
      delay = 0;
    } else {
      this.#immediate = 0;
      const attempt = end.kind === 'slow' ? this.#attempt + this.#options.sync.slowBackoffSteps : this.#attempt;
      delay = backoffDelay(attempt, () => this.#host.random(), this.#options.backoff);
      this.#attempt++;
    }
    if (this.#networkDown) return; // `online` reconnects
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}
