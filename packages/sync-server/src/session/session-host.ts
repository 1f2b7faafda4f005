import type { ReplicaId } from '@converge/conflict';
import type { ChangeResult, PushedChange, RelayLimits } from '@converge/protocol';
import type { Logger } from 'pino';
import type { Principal, RelayAuth } from '../auth/auth.js';
import type { CollectionRegistry } from '../collections.js';
import type { RelayMetrics } from '../metrics.js';
import type { RelayStore } from '../store/relay-store.js';
import type { Session } from './session.js';
import type { TokenBucket } from './token-bucket.js';

export interface SessionOptions {
  /** `hello` must arrive within this many ms. */
  readonly helloTimeoutMs: number;
  /** A live subscriber whose unsent bytes exceed this is disconnected (it catches up later). */
  readonly maxBufferedBytes: number;
  /** Keys per catch-up frame at most. */
  readonly catchupBatchSize: number;
  /** Subscriptions (distinct collection + filter) per connection at most. */
  readonly maxSubscriptions: number;
  /** Changes per second per connection (token bucket). */
  readonly rateLimit: { readonly changesPerSecond: number; readonly burst: number };
}

/** What the relay provides to each session. */
export interface SessionHost {
  readonly store: RelayStore;
  readonly collections: CollectionRegistry;
  readonly auth: RelayAuth;
  readonly limits: RelayLimits;
  readonly options: SessionOptions;
  readonly log: Logger;
  readonly metrics: RelayMetrics;
  readonly relayId: string;
  readonly cursorSecret: Buffer;
  now(): number;
  recoveryOpen(): boolean;
  openRecoveryWindow(reason: string, details: Record<string, unknown>): void;
  /** Counts the session against its principal's connection limit; false when over it. */
  register(session: Session): boolean;
  unregister(session: Session): void;
  principalBucket(principalId: string): TokenBucket;
  /**
   * Queues a push for the next group commit (every push received in one turn of the event
   * loop, from every connection, in one transaction). `done` gets a result per change once it
   * is committed, or the error that stopped this push (nothing of it was stored).
   */
  submit(
    push: { replicaId: ReplicaId; principal: Principal; changes: readonly PushedChange[]; frameBytes: number },
    done: (outcome: ChangeResult[] | Error) => void,
  ): void;
}
