import type { RelayLimits } from '@converge/protocol';
import type { Logger } from 'pino';
import type { RelayAuth } from '../auth/auth.js';
import type { CollectionRegistry } from '../collections.js';
import type { LiveReceiver } from '../fan-out.js';
import type { PushDone } from '../ingest.js';
import type { Push } from '../judge-push.js';
import type { RelayMetrics } from '../metrics.js';
import type { RateLimit } from '../relay-options.js';
import type { RelayStore } from '../store/relay-store.js';
import type { TokenBucket } from './token-bucket.js';

export interface SessionOptions {
  /** `hello` must arrive within this many ms. */
  readonly helloTimeoutMs: number;
  /** A live subscriber whose unsent bytes exceed this is disconnected (it catches up later). */
  readonly maxBufferedBytes: number;
  /** Keys per catch-up scan at most. */
  readonly catchupBatchSize: number;
  /** Subscriptions (distinct collection + filter) per connection at most. */
  readonly maxSubscriptions: number;
  /** Changes and read keys per second per connection (token bucket). */
  readonly rateLimit: RateLimit;
}

/** A session as the relay holds it: counted per principal, fed live rounds, closed at shutdown. */
export interface HostedSession extends LiveReceiver {
  /** Set once `hello` was authenticated. */
  readonly principalId: string | undefined;
  close(code: number, reason: string): void;
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
  /** Whether the recovery window is open now (read from the store). */
  recoveryOpen(): Promise<boolean>;
  openRecoveryWindow(reason: string, details: Record<string, unknown>): Promise<void>;
  /** Whether a subscription caught up through `seq` may go live now (`FanOut.goLive`). */
  goLive(collection: string, seq: number): boolean;
  /** Counts the session against its principal's connection limit; false when over it. */
  register(session: HostedSession): boolean;
  unregister(session: HostedSession): void;
  principalBucket(principalId: string): TokenBucket;
  /** Queues a push for the next group commit (see `Ingest`). */
  submit(push: Push, done: PushDone): void;
}
