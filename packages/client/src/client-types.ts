import type { ErrorCode } from '@converge/conflict';
import type { AckLevel } from '@converge/protocol';
import type { CollectionOptions } from './collection-spec.js';
import type { WriteReceipt } from './collection.js';
import type { StorageChoice } from './open-storage.js';
import type { CrdtOp } from './replica/apply-write.js';
import type { Version } from './replica/read-model.js';
import type { BackoffOptions } from './sync/backoff.js';
import type { Transport } from './sync/transport.js';
import type { WebSocketConstructor } from './sync/websocket-transport.js';
import type { TabOptions } from './tabs/tab-coordinator.js';

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
  /** Open without connecting (no socket at all) until `resume()` — e.g. an offline switch that survives reloads. */
  readonly paused?: boolean;
  /** Multi-tab coordination (Web Locks + BroadcastChannel by default); `false`: this client syncs on its own. */
  readonly tabs?: TabOptions | false;
  readonly backoff?: BackoffOptions;
  readonly now?: () => number;
  readonly random?: () => number;
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
  /** `add(key, element)` on an OR-set. */
  add(key: string, element: unknown): void;
  /** Removes an element (OR-set) or an item or field (cart, LWW map). */
  remove(key: string, elementOrItem: unknown): void;
  /** Sets one field of an LWW map. */
  set(key: string, field: string, value: unknown): void;
  /** Empties a CRDT value (what it has seen). */
  clear(key: string): void;
  apply(key: string, op: CrdtOp): void;
}
