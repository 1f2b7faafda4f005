import type { TabMessage } from './tab-messages.js';

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

export interface TabOptions {
  /** Default: `navigator.locks`. `null`: no coordination; this tab syncs on its own. */
  readonly locks?: LockManagerLike | null;
  /** Default: `new BroadcastChannel(name)`. `null`: no messages between tabs. */
  readonly channel?: ((name: string) => BroadcastChannelLike) | null;
}

export type TabRole = 'leader' | 'follower' | 'solo';

export interface TabHandlers {
  /** This tab now holds the socket (it won the lock, or there are no locks). */
  lead(): void;
  message(message: TabMessage): void;
}

function defaultLocks(): LockManagerLike | null {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks ?? null;
}

function defaultChannel(): ((name: string) => BroadcastChannelLike) | null {
  const Channel = (globalThis as { BroadcastChannel?: new (name: string) => BroadcastChannelLike }).BroadcastChannel;
  return Channel === undefined ? null : (name) => new Channel(name);
}

/**
 * One tab's part in coordinating the tabs of a database: the tab holding the Web Lock
 * `converge:<db>:leader` runs the sync engine; every tab hears the others on the
 * BroadcastChannel `converge:<db>`. The names include the database name, so several clients
 * in one page stay independent. Closing the leader tab releases the lock and the next waiting
 * tab takes over. Without Web Locks every tab syncs on its own (safe: merges are idempotent).
 */
export class TabCoordinator {
  role: TabRole;
  private readonly channel: BroadcastChannelLike | null;
  private readonly abort = new AbortController();
  private release: (() => void) | undefined;
  private closed = false;

  constructor(
    readonly database: string,
    private readonly handlers: TabHandlers,
    private readonly options: TabOptions = {},
  ) {
    const locks = options.locks === undefined ? defaultLocks() : options.locks;
    this.role = locks === null ? 'solo' : 'follower';
    const open = options.channel === undefined ? defaultChannel() : options.channel;
    this.channel = open === null ? null : open(`converge:${database}`);
    if (this.channel !== null) {
      this.channel.onmessage = (event) => {
        if (!this.closed) this.handlers.message(event.data as TabMessage);
      };
      // Node's BroadcastChannel keeps the process alive; a tab's channel must not.
      (this.channel as { unref?: () => void }).unref?.();
    }
  }

  start(): void {
    const locks = this.options.locks === undefined ? defaultLocks() : this.options.locks;
    if (locks === null) {
      this.handlers.lead();
      return;
    }
    locks
      .request(`converge:${this.database}:leader`, { signal: this.abort.signal }, async () => {
        if (this.closed) return;
        this.role = 'leader';
        this.handlers.lead();
        await new Promise<void>((resolve) => (this.release = resolve));
      })
      .catch(() => undefined); // aborted while waiting (closed)
  }

  post(message: TabMessage): void {
    if (this.closed || this.channel === null) return;
    try {
      this.channel.postMessage(message);
    } catch {
      // a closed channel (page unloading)
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.release?.();
    this.channel?.close();
  }
}
