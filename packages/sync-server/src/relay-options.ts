import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ConvergeError, replicaIdFromBytes, replicaIdProblem, type ReplicaId } from '@converge/conflict';
import type { CollectionDeclaration, RelayLimits } from '@converge/protocol';
import { pino, type Logger } from 'pino';
import { anonymousAuth, type RelayAuth } from './auth/auth.js';
import { resolveLimits } from './relay-limits.js';
import type { RelayStore } from './store/relay-store.js';

/** The shortest `metricsToken` the relay accepts. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

/** How long a recovery window stays open once opened: 24 h. */
export const DEFAULT_RECOVERY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A token bucket: `changesPerSecond` refill, `burst` capacity. A read of n keys costs n changes. */
export interface RateLimit {
  readonly changesPerSecond: number;
  readonly burst: number;
}

/**
 * What `verifyUpgrade` answers for a WebSocket upgrade request: `true` lets it through; `false`
 * refuses it with 401; `{status, message}` refuses it with that status.
 */
export type UpgradeVerdict = boolean | { readonly status: number; readonly message?: string };

/** The relay settings a configuration file may hold (`--config relay.config.json`): the CLI spreads them into `RelayOptions`. */
export interface RelaySettings {
  /** Mode and strategy per collection: authoritative, announced in `welcome`. Default: none (every collection is multi-leader with `siblings`). */
  readonly collections?: Readonly<Record<string, CollectionDeclaration>>;
  /** Limits announced in `welcome`; each missing one takes its default (`DEFAULT_LIMITS`; `maxStateBytes` follows `maxFrameBytes`). */
  readonly limits?: Partial<RelayLimits>;
  /** Origins allowed to open a WebSocket; a request without `Origin` (not a browser) is always allowed. Default: any. */
  readonly allowedOrigins?: readonly string[];
  /** Sockets open at once, counted from the upgrade (before `hello`); more get HTTP 503. Default 10,000. */
  readonly maxConnections?: number;
  /** Sessions per authenticated principal; more are refused with `rate_limited`. Default 50 (not applied to anonymous clients). */
  readonly maxConnectionsPerPrincipal?: number;
  /** Changes and read keys per connection. Default 2,000/s, burst 4,000. */
  readonly rateLimit?: RateLimit;
  /** Changes and read keys per authenticated principal, across its connections. Default 5,000/s, burst 10,000. */
  readonly principalRateLimit?: RateLimit;
}

export interface RelayOptions extends RelaySettings {
  /** Where the relay keeps its data: `new SqliteStore(path)`, or `new MemoryStore()` in tests. Required. */
  readonly store: RelayStore;
  /** `authenticate` and `authorize` hooks, e.g. `jwtAuth({secret})`. Default: anonymous, with a loud warning at start. */
  readonly auth?: RelayAuth;
  /** MAC key for cursors, from configuration (never the database). Default: random per process, so cursors do not survive a restart. */
  readonly cursorSecret?: string | Buffer;
  /** Default: pino at `info`, named `converge-relay`. */
  readonly logger?: Logger;
  /** The relay's own replica id (server-side writes). Default: random. */
  readonly relayId?: ReplicaId;
  /**
   * Bearer token for `GET /metrics` through `handleRequest` (the sync port): only requests with
   * `Authorization: Bearer <token>` get the metrics, others 401. Metrics name collections with
   * their heads and key counts, so they are never public. Default: none — `handleRequest` does
   * not answer `/metrics` at all; serve them on a listener of your own (`handleMetricsRequest`,
   * `metricsText`). At least 16 characters.
   */
  readonly metricsToken?: string;
  /** Checks a WebSocket upgrade request before anything else (cookies, sessions, custom origin rules). Default: every request passes. */
  readonly verifyUpgrade?: (request: IncomingMessage) => UpgradeVerdict | Promise<UpgradeVerdict>;
  /** `hello` must arrive within this many ms of the upgrade. Default 5,000. */
  readonly helloTimeoutMs?: number;
  /** A live subscriber whose unsent bytes exceed this is disconnected (1013) and catches up later. Default 8 MiB. */
  readonly maxBufferedBytes?: number;
  /** Keys read from the store per catch-up scan (the first scan reads at most 100). Default 500. */
  readonly catchupBatchSize?: number;
  /** Subscriptions per connection; more are refused with `rate_limited`. Default 256. */
  readonly maxSubscriptions?: number;
  /** How long a recovery window stays open once opened, ms. Default 24 h. */
  readonly recoveryWindowMs?: number;
  /** Open the recovery window at start: the operator's evidence that the relay lost data. Default false. */
  readonly openRecoveryWindow?: boolean;
  /** How long `close()` waits for clients to finish the closing handshake before it cuts their sockets, ms. Default 2,000. */
  readonly closeTimeoutMs?: number;
  /** How often the relay logs a summary line at info (connections, changes/s), ms; 0: never. Default 60,000. */
  readonly summaryIntervalMs?: number;
  /**
   * Over a store shared with other relay processes (PostgreSQL): how often the heads of the
   * collections followed live are compared with what was fanned out, so a commit whose notice
   * was lost still reaches subscribers within this many ms. Default 1,000.
   */
  readonly headCheckMs?: number;
  /**
   * A push asking for `quorum` or `all` whose level the store has not confirmed within this many
   * ms gets `confirm {level reached, code: 'ack_timeout'}`; the relay keeps waiting (it never
   * cancels a synchronous wait) and confirms the level later if the store does. Default 5,000.
   */
  readonly ackTimeoutMs?: number;
  /**
   * A relay reading from a standby (`PostgresStore`'s `replicaUrl`) waits at most this long, when
   * a subscription starts, for the standby to replay what the primary had committed; a standby
   * still behind then answers `error behind` (the client comes back later, possibly to another
   * relay). Default 2,000.
   */
  readonly replicaWaitMs?: number;
  /** The clock, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** Every option with its default applied: what the relay runs with. */
export interface ResolvedRelayOptions {
  readonly store: RelayStore;
  readonly collections: Readonly<Record<string, CollectionDeclaration>>;
  readonly limits: RelayLimits;
  readonly allowedOrigins: readonly string[] | undefined;
  readonly maxConnections: number;
  readonly maxConnectionsPerPrincipal: number;
  readonly rateLimit: RateLimit;
  readonly principalRateLimit: RateLimit;
  readonly auth: RelayAuth;
  readonly cursorSecret: Buffer;
  /** False when the secret was generated for this process (cursors die with it). */
  readonly cursorSecretConfigured: boolean;
  readonly logger: Logger;
  readonly relayId: ReplicaId;
  readonly metricsToken: string | undefined;
  readonly verifyUpgrade: ((request: IncomingMessage) => UpgradeVerdict | Promise<UpgradeVerdict>) | undefined;
  readonly helloTimeoutMs: number;
  readonly maxBufferedBytes: number;
  readonly catchupBatchSize: number;
  readonly maxSubscriptions: number;
  readonly recoveryWindowMs: number;
  readonly openRecoveryWindow: boolean;
  readonly closeTimeoutMs: number;
  readonly summaryIntervalMs: number;
  readonly headCheckMs: number;
  readonly ackTimeoutMs: number;
  readonly replicaWaitMs: number;
  readonly now: () => number;
}

/** Applies every default (each is named on its option above) and checks what cannot work. */
export function resolveRelayOptions(options: RelayOptions): ResolvedRelayOptions {
  const relayId = options.relayId ?? replicaIdFromBytes(randomBytes(12));
  const problem = replicaIdProblem(relayId);
  if (problem !== undefined) throw new ConvergeError('bad_message', `relayId: ${problem}`);
  const secret = options.cursorSecret;
  const { metricsToken } = options;
  if (metricsToken !== undefined && metricsToken.length < MIN_METRICS_TOKEN_LENGTH) {
    throw new ConvergeError('bad_message', `metricsToken must be at least ${MIN_METRICS_TOKEN_LENGTH} characters: it guards the relay's metrics`);
  }
  return {
    store: options.store,
    collections: options.collections ?? {},
    limits: resolveLimits(options.limits),
    allowedOrigins: options.allowedOrigins,
    maxConnections: options.maxConnections ?? 10_000,
    maxConnectionsPerPrincipal: options.maxConnectionsPerPrincipal ?? 50,
    rateLimit: options.rateLimit ?? { changesPerSecond: 2000, burst: 4000 },
    principalRateLimit: options.principalRateLimit ?? { changesPerSecond: 5000, burst: 10_000 },
    auth: options.auth ?? anonymousAuth,
    cursorSecret: secret === undefined ? randomBytes(32) : Buffer.isBuffer(secret) ? secret : Buffer.from(secret),
    cursorSecretConfigured: secret !== undefined,
    logger: options.logger ?? pino({ name: 'converge-relay' }),
    relayId,
    metricsToken,
    verifyUpgrade: options.verifyUpgrade,
    helloTimeoutMs: options.helloTimeoutMs ?? 5000,
    maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
    catchupBatchSize: options.catchupBatchSize ?? 500,
    maxSubscriptions: options.maxSubscriptions ?? 256,
    recoveryWindowMs: options.recoveryWindowMs ?? DEFAULT_RECOVERY_WINDOW_MS,
    openRecoveryWindow: options.openRecoveryWindow ?? false,
    closeTimeoutMs: options.closeTimeoutMs ?? 2000,
    summaryIntervalMs: options.summaryIntervalMs ?? 60_000,
    headCheckMs: options.headCheckMs ?? 1000,
    ackTimeoutMs: options.ackTimeoutMs ?? 5000,
    replicaWaitMs: options.replicaWaitMs ?? 2000,
    now: options.now ?? Date.now,
  };
}
