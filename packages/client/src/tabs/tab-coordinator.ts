import { envelope, readTabMessage, TAB_PROTOCOL, type TabMessage } from './tab-messages.js';

/** The part of the Web Locks API used here (`navigator.locks`). */
export interface LockManagerLike {
  request(name: string, options: { readonly signal?: AbortSignal }, callback: (lock: unknown) => Promise<void>): Promise<unknown>;
}

/** The part of BroadcastChannel used here. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { readonly data: unknown }) => void) | null;
}

/** Where the page's lifecycle events arrive: `freeze`, `resume`, `pagehide`, `pageshow`. */
export interface LifecycleTarget {
  addEventListener(type: string, listener: (event: unknown) => void): void;
  removeEventListener(type: string, listener: (event: unknown) => void): void;
}

export interface TabOptions {
  /** Default: `navigator.locks`. `null`: no coordination; this tab syncs on its own. */
  readonly locks?: LockManagerLike | null;
  /** Default: `new BroadcastChannel(name)`. `null`: no messages between tabs. */
  readonly channel?: ((name: string) => BroadcastChannelLike) | null;
  /** Default: the page (`freeze`/`resume` on `document`, `pagehide`/`pageshow` on `window`). `null`: none. */
  readonly lifecycle?: LifecycleTarget | null;
}

export type TabRole = 'leader' | 'follower' | 'solo';

export interface TabHandlers {
  /** This tab now holds the socket (it won the lock, or there are no locks). */
  lead(): void;
  /** This tab waits for the lock: another tab holds the socket. */
  follow(): void;
  /** This tab stops syncing at once (the page is being frozen): close the socket; the lock is released after. */
  stepDown(): void;
  message(message: TabMessage): void;
  /** Data on the channel this tab cannot read: another build's message (`version`), or a malformed one. It was not acted on. */
  refused(problem: string, version: number | undefined): void;
}

function defaultLocks(): LockManagerLike | null {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks ?? null;
}

/** The page's lifecycle events, or null outside a page. */
function defaultLifecycle(): LifecycleTarget | null {
  const page = globalThis as { document?: LifecycleTarget } & Partial<LifecycleTarget>;
  if (page.document === undefined || typeof page.addEventListener !== 'function' || typeof page.removeEventListener !== 'function') return null;
  const onDocument = (type: string) => type === 'freeze' || type === 'resume';
  return {
    addEventListener: (type, listener) => (onDocument(type) ? page.document!.addEventListener(type, listener) : page.addEventListener!(type, listener)),
    removeEventListener: (type, listener) =>
      onDocument(type) ? page.document!.removeEventListener(type, listener) : page.removeEventListener!(type, listener),
  };
}

function defaultChannel(): ((name: string) => BroadcastChannelLike) | null {
  const Channel = (globalThis as { BroadcastChannel?: new (name: string) => BroadcastChannelLike }).BroadcastChannel;
  return Channel === undefined ? null : (name) => new Channel(name);
}

/**
 * One tab's part in coordinating the tabs of a database: the tab holding the Web Lock
 * `converge:<db>:leader:<TAB_PROTOCOL>` runs the sync engine; every tab hears the others on the
 * BroadcastChannel `converge:<db>`. The names include the database name, so several clients
 * in one page stay independent; the lock's includes the tab protocol, so tabs of two builds
 * that cannot read each other's messages each elect their own leader (as without Web Locks)
 * and refuse each other's messages. Closing the leader tab releases the lock and the next waiting
 * tab takes over. A page being frozen (`freeze`, or `pagehide` into the back/forward cache)
 * steps down at once — socket closed, lock released, a waiting request withdrawn, since a lock
 * granted to a frozen page would be held by nobody — and asks again as a follower on `resume`
 * (or `pageshow`). Without Web Locks every tab syncs on its own (safe: merges are idempotent).
 */
export class TabCoordinator {
  role: TabRole;
  readonly #channel: BroadcastChannelLike | null;
  readonly #locks: LockManagerLike | null;
  readonly #lifecycle: LifecycleTarget | null;
  /** The lock request of the current turn (aborted when the page freezes or the client closes). */
  #request: AbortController | undefined;
  #release: (() => void) | undefined;
  #frozen = false;
  #closed = false;
  readonly #onFreeze = (event: unknown) => {
    if ((event as { persisted?: boolean }).persisted !== false) this.#freeze();
  };
  readonly #onResume = (event: unknown) => {
    if ((event as { persisted?: boolean }).persisted !== false) this.#resume();
  };

  readonly #handlers: TabHandlers;

  constructor(
    readonly database: string,
    handlers: TabHandlers,
    options: TabOptions = {},
  ) {
    this.#handlers = handlers;
    this.#locks = options.locks === undefined ? defaultLocks() : options.locks;
    this.#lifecycle = options.lifecycle === undefined ? defaultLifecycle() : options.lifecycle;
    this.role = this.#locks === null ? 'solo' : 'follower';
    const open = options.channel === undefined ? defaultChannel() : options.channel;
    this.#channel = open === null ? null : open(`converge:${database}`);
    if (this.#channel !== null) {
      this.#channel.onmessage = (event) => {
        if (this.#closed) return;
        const heard = readTabMessage(event.data);
        if (heard.ok) this.#handlers.message(heard.message);
        else this.#handlers.refused(heard.problem, heard.version);
      };
      // Node's BroadcastChannel keeps the process alive; a tab's channel must not.
      (this.#channel as { unref?: () => void }).unref?.();
    }
  }

  start(): void {
    // `freeze`/`resume` carry no `persisted`; `pagehide`/`pageshow` count only into and out of the back/forward cache.
    this.#lifecycle?.addEventListener('freeze', this.#onFreeze);
    this.#lifecycle?.addEventListener('resume', this.#onResume);
    this.#lifecycle?.addEventListener('pagehide', this.#onFreeze);
    this.#lifecycle?.addEventListener('pageshow', this.#onResume);
    this.#join();
  }

  /** Takes this tab's turn: leads at once without locks, else waits for the lock as a follower. */
  #join(): void {
    if (this.#locks === null) {
      this.#handlers.lead();
      return;
    }
    this.role = 'follower';
    this.#handlers.follow();
    const request = new AbortController();
    this.#request = request;
    this.#locks
      .request(`converge:${this.database}:leader:${TAB_PROTOCOL}`, { signal: request.signal }, async () => {
        // Granted after the page froze or closed (the callback runs on resume): let the lock go.
        if (this.#closed || this.#frozen || request.signal.aborted) return;
        this.role = 'leader';
        this.#handlers.lead();
        await new Promise<void>((resolve) => (this.#release = resolve));
      })
      .catch(() => undefined); // aborted while waiting
  }

  /** The page is being frozen: nothing may stay held that only this page can let go of. */
  #freeze(): void {
    if (this.#closed || this.#frozen) return;
    this.#frozen = true;
    this.#request?.abort();
    const held = this.role !== 'follower';
    if (this.role === 'leader') this.role = 'follower';
    if (held) this.#handlers.stepDown();
    this.#release?.();
    this.#release = undefined;
  }

  #resume(): void {
    if (this.#closed || !this.#frozen) return;
    this.#frozen = false;
    this.#join();
  }

  /** Other tabs can hear this one (a BroadcastChannel is open). */
  get shared(): boolean {
    return this.#channel !== null && !this.#closed;
  }

  post(message: TabMessage): void {
    if (this.#closed || this.#channel === null) return;
    try {
      this.#channel.postMessage(envelope(message));
    } catch {
      // a closed channel (page unloading)
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lifecycle?.removeEventListener('freeze', this.#onFreeze);
    this.#lifecycle?.removeEventListener('resume', this.#onResume);
    this.#lifecycle?.removeEventListener('pagehide', this.#onFreeze);
    this.#lifecycle?.removeEventListener('pageshow', this.#onResume);
    this.#request?.abort();
    this.#release?.();
    this.#channel?.close();
  }
}
