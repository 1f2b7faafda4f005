import { ConvergeError } from '@converge/conflict';
import { DEFAULT_DECODE_LIMITS } from '@converge/protocol';
import { collectionSpec, type CollectionOptions, type CollectionSpec } from './collection-spec.js';
import type { StorageChoice } from './open-storage.js';
import type { BackoffOptions } from './sync/backoff.js';
import type { SyncTuning } from './sync/session-context.js';
import type { Transport } from './sync/transport.js';
import { webSocketTransport, type WebSocketConstructor } from './sync/websocket-transport.js';
import type { TabOptions } from './tabs/tab-coordinator.js';

/** What `createClient` takes. Each option's default is written once, in `resolveClientOptions`. */
export interface ClientOptions {
  /** The database name: one replica per name and origin, shared by the tabs of that origin. Required. */
  readonly name: string;
  /** The relay's WebSocket URL (`wss://…`). Without `url` or `transport` the client is local-only. */
  readonly url?: string;
  /** WebSocket constructor for `url`. Default: the global `WebSocket` (Node passes `ws`'s). */
  readonly WebSocket?: WebSocketConstructor;
  /** How to reach the relay; overrides `url` (an in-memory transport in tests). Default: a WebSocket to `url`. */
  readonly transport?: Transport;
  /** Collections with their strategy and mode. Default: none declared (each collection used is multi-leader with `siblings`, or as the relay announces it). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each collection has its own value type
  readonly collections?: Readonly<Record<string, CollectionOptions<any>>>;
  /** A token, or a function returning one, called on each connect (`refresh: true` after `unauthorized`). Default: none (anonymous). */
  readonly auth?: string | ((context: { readonly refresh: boolean }) => string | undefined | Promise<string | undefined>);
  /** `indexeddb`, `memory`, or an adapter. Default `indexeddb` (memory, and saying so, when IndexedDB cannot be opened). */
  readonly storage?: StorageChoice;
  /** How long `put(…, { ack })` waits for a level beyond `local`, ms. Default 10,000. */
  readonly ackTimeoutMs?: number;
  /** How long a connection may take from opening the socket to the relay's `welcome`, ms. Default 10,000. */
  readonly connectTimeoutMs?: number;
  /** How long a leader read (`get(key, { consistency: 'leader' })`) waits for its answer, ms. Default 10,000. */
  readonly readTimeoutMs?: number;
  /** Open without connecting (no socket at all) until `resume()`, e.g. an offline switch that survives reloads. Default false. */
  readonly paused?: boolean;
  /** Multi-tab coordination; `false`: this client syncs on its own. Default: Web Locks + BroadcastChannel + the page's lifecycle events. */
  readonly tabs?: TabOptions | false;
  /** Reconnect backoff: exponential from `baseMs` to `maxMs`, with equal jitter. Default `{ baseMs: 500, maxMs: 30_000 }`. */
  readonly backoff?: BackoffOptions;
  /** The clock, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
  /** Randomness in [0, 1) for backoff jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** Every option with its default applied: what a client runs with. */
export interface ResolvedClientOptions {
  readonly name: string;
  readonly transport: Transport | undefined;
  readonly collections: readonly CollectionSpec[];
  /** The token for the next `hello`. */
  readonly token: (refresh: boolean) => Promise<string | undefined>;
  readonly storage: StorageChoice;
  readonly ackTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly paused: boolean;
  /** `tabs: false` resolves to no locks and no channel. */
  readonly tabs: TabOptions;
  readonly backoff: BackoffOptions;
  readonly now: () => number;
  readonly random: () => number;
  readonly sync: SyncTuning;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/** The fixed values of the sync protocol's client side (not options; see `SyncTuning`). */
const SYNC_TUNING: SyncTuning = {
  preWelcome: { ...DEFAULT_DECODE_LIMITS, heartbeatMs: 15_000, maxValueBytes: 1024 * 1024 },
  transientRetry: { minMs: 1000, jitterMs: 1000 },
  atOnceInARow: 3,
  slowBackoffSteps: 3,
  pushSizeCeiling: 1000,
};

function duration(options: ClientOptions, key: 'ackTimeoutMs' | 'connectTimeoutMs' | 'readTimeoutMs', fallback: number): number {
  const value = options[key] ?? fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new ConvergeError('bad_message', `${key} must be a positive number of milliseconds, got ${String(value)}`, { path: key });
  }
  return value;
}

function backoffOf(backoff: BackoffOptions | undefined): BackoffOptions {
  if (backoff === undefined) return DEFAULT_BACKOFF;
  const { baseMs, maxMs } = backoff;
  if (!(baseMs > 0) || !Number.isFinite(baseMs) || !(maxMs >= baseMs) || !Number.isFinite(maxMs)) {
    throw new ConvergeError('bad_message', `backoff needs 0 < baseMs <= maxMs (finite), got ${JSON.stringify(backoff)}`, { path: 'backoff' });
  }
  return backoff;
}

/**
 * Applies every default (each is named on its option above) and checks what cannot work: a
 * missing name, a timeout that is not a positive number, an unusable backoff, a collection with
 * a bad name, strategy or mode — each a `ConvergeError` `bad_message` before anything is opened.
 *
 * @example
 * ```ts
 * const resolved = resolveClientOptions({ name: 'example-options', readTimeoutMs: 2000 });
 * [resolved.ackTimeoutMs, resolved.readTimeoutMs, resolved.transport]; // → [10000, 2000, undefined]
 * ```
 */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  if (typeof options.name !== 'string' || options.name === '') throw new ConvergeError('bad_message', 'a client needs a name (its database)', { path: 'name' });
  const { auth } = options;
  return {
    name: options.name,
    transport: options.transport ?? (options.url === undefined ? undefined : webSocketTransport(options.url, options.WebSocket)),
    collections: Object.entries(options.collections ?? {}).map(([name, o]) => collectionSpec(name, o)),
    token: async (refresh) => (typeof auth === 'function' ? await auth({ refresh }) : auth),
    storage: options.storage ?? 'indexeddb',
    ackTimeoutMs: duration(options, 'ackTimeoutMs', 10_000),
    connectTimeoutMs: duration(options, 'connectTimeoutMs', 10_000),
    readTimeoutMs: duration(options, 'readTimeoutMs', 10_000),
    paused: options.paused ?? false,
    tabs: options.tabs === false ? { locks: null, channel: null } : (options.tabs ?? {}),
    backoff: backoffOf(options.backoff),
    now: options.now ?? (() => Date.now()),
    random: options.random ?? (() => Math.random()),
    sync: SYNC_TUNING,
  };
}
