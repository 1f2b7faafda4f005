import type { RelayLimits } from '@converge/protocol';
import type { Logger } from 'pino';
import type { RelayAuth } from '../auth/auth.js';
import type { CollectionRegistry } from '../collections.js';
import type { FanOut, LiveReceiver } from '../fan-out.js';
import type { Ingest } from '../ingest.js';
import type { LevelConfirmations } from '../level-confirmations.js';
import type { RelayMetrics } from '../metrics.js';
import type { RecoveryWindow } from '../recovery-window.js';
import type { RateLimit } from '../relay-options.js';
import type { RelayStore } from '../store/relay-store.js';
import type { TokenBucket } from './token-bucket.js';

/** The settings a session reads: a part of the relay's resolved options. */
export interface SessionOptions {
  readonly limits: RelayLimits;
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
  readonly relayId: string;
  /** How long a subscription waits for the standby the relay reads from, ms. */
  readonly replicaWaitMs: number;
  /** The key cursors are signed with. */
  readonly cursorSecret: Buffer;
  readonly now: () => number;
}

/**
 * What a session reads of the store; it never writes (its pushes go to `Ingest`). It never
 * listens either: `watchCommits` only tells it the store is shared with other processes.
 */
export type SessionStore = Pick<
  RelayStore,
  'lineage' | 'get' | 'head' | 'hashAt' | 'scan' | 'writeHead' | 'claimReplica' | 'replication' | 'awaitReplica' | 'watchCommits'
>;

/** A session as the relay holds it: counted per principal, fed live rounds, closed at shutdown. */
export interface HostedSession extends LiveReceiver {
  /** Set once `hello` was authenticated. */
  readonly principalId: string | undefined;
  close(code: number, reason: string): void;
}

/** The relay's sessions as one of them sees them: counted per principal, which share a token bucket. */
export interface SessionRoster {
  /** Counts the session against its principal's connection limit; false when over it. */
  register(session: HostedSession): boolean;
  unregister(session: HostedSession): void;
  principalBucket(principalId: string): TokenBucket;
}

/** What the relay provides to each session. */
export interface SessionHost {
  readonly options: SessionOptions;
  readonly store: SessionStore;
  readonly collections: CollectionRegistry;
  readonly auth: RelayAuth;
  readonly log: Logger;
  readonly metrics: RelayMetrics;
  /** Whether the recovery window is open; opened on evidence of lost data. */
  readonly recovery: Pick<RecoveryWindow, 'isOpen' | 'open'>;
  readonly roster: SessionRoster;
  /** The group commit pushes are queued for. */
  readonly ingest: Pick<Ingest, 'submit'>;
  /** The levels beyond `relay` of pushes that asked for `quorum` or `all`. */
  readonly levels: Pick<LevelConfirmations, 'follow'>;
  /** Live fan-out, which a caught-up subscription joins (`goLive`). */
  readonly fanOut: Pick<FanOut, 'goLive'>;
}
