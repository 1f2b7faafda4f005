import { ConvergeError } from '@converge/conflict';
import postgres, { type Sql } from 'postgres';
import { timeline as timelineOf } from './pg-replication-timeline.js';

/** How `PostgresStore` connects: its pools, and what their failures mean. */
export interface PostgresStoreOptions {
  /** The schema the relay's tables live in (created and migrated on open). Default `converge`. */
  readonly schema?: string;
  /** Connections in the pool. Default 10. */
  readonly maxConnections?: number;
  /**
   * Seconds to wait for a connection, per host. Default 5. A frozen node (SIGSTOP, a hung VM)
   * accepts TCP connections and never answers: this is what moves the pool on to the next host.
   */
  readonly connectTimeoutSeconds?: number;
  /** TCP keepalive of the pool's connections, seconds. Default 10. */
  readonly keepAliveSeconds?: number;
  /**
   * `statement_timeout` of the pool's connections, ms (0: none). Default 30,000. Bounds reads and
   * the statements of a write; never the synchronous wait of a commit (PostgreSQL does not apply
   * it there, and the barrier that waits for standbys turns it off in its own transaction). The
   * pool has no client-side query timeout: one would cancel a synchronous wait, which commits
   * locally all the same.
   */
  readonly statementTimeoutMs?: number;
  /**
   * A standby to read catch-up and live changes from (follower reads), e.g. the local replica of
   * a region; writes still go to the primary (`url`). Default: none, every read goes to the
   * primary.
   */
  readonly replicaUrl?: string;
  /** Connections in the pool reading from `replicaUrl`. Default 5. */
  readonly replicaConnections?: number;
  /** How often the primary's replication (`synchronous_standby_names`, standbys, lag) is re-read, ms. Default 5,000. */
  readonly replicationCheckMs?: number;
  /** `application_name` of its connections (what `pg_stat_activity` shows). Default `converge-relay`. */
  readonly applicationName?: string;
  /** The clock for `createdAt` of a new schema; `Date.now` by default. */
  readonly now?: () => number;
}

/** How the store is connected, for the relay's start-up log (no password). */
export interface PostgresStoreInfo {
  readonly hosts: readonly string[];
  readonly database: string;
  readonly schema: string;
  readonly schemaVersion: number;
  readonly serverVersion: string;
  /** The timeline writes go to (the highest the relay has seen). */
  readonly timeline: number;
  /** The hosts of `replicaUrl`, when reads go to a standby. */
  readonly replicaHosts?: readonly string[];
}

/**
 * What `PostgresStore` reached: the hosts, server version and the timeline its writes start
 * on (`highestTimeline`); with a `replica` pool, checks that its standby answers.
 */
export async function connectionInfo(url: string, sql: Sql, replica: Sql | undefined, schema: string, schemaVersion: number): Promise<PostgresStoreInfo> {
  const [[version], timeline] = await Promise.all([sql<{ server_version: string }[]>`SHOW server_version`, highestTimeline(url, sql)]);
  if (replica !== undefined) await replica`SELECT 1`;
  const { host, database } = sql.options;
  return {
    hosts: host,
    database: database ?? '',
    schema,
    schemaVersion,
    serverVersion: version?.server_version ?? '',
    timeline,
    ...(replica === undefined ? {} : { replicaHosts: replica.options.host }),
  };
}

/** A pool of at most `max` connections to `target`, its tables found through `schema`. */
export function openPool(target: string, max: number, schema: string, options: PostgresStoreOptions): Sql {
  return postgres(target, {
    max,
    ...primaryForReadWrite(target),
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    keep_alive: options.keepAliveSeconds ?? 10,
    idle_timeout: 60,
    onnotice: () => undefined,
    connection: {
      application_name: options.applicationName ?? 'converge-relay',
      search_path: schema,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
    },
    // bigint columns as numbers: every seq, counter and write number is a safe integer.
    types: { bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) } },
  });
}

/** Connection failures: after one, nobody knows whether the commit in flight happened. */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/** Conflicts PostgreSQL resolves by aborting one transaction: it is run again. */
const RETRY_CODES = new Set(['40P01', '40001']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `error` is a lost connection or a server shutting down (`57P…`). */
export function connectionDropped(error: unknown): boolean {
  const code = codeOf(error) ?? '';
  return CONNECTION_CODES.has(code) || code.startsWith('57P');
}

/** Whether PostgreSQL aborted the transaction to break a deadlock or a serialization conflict. */
export function retryable(error: unknown): boolean {
  return RETRY_CODES.has(codeOf(error) ?? '');
}

/**
 * PostgreSQL's errors as `ConvergeError`s. A lost connection, a server shutting down or a
 * read-only server (a standby, after a failover) is `quorum_unavailable`: whatever was in
 * flight may or may not have committed, nothing is acknowledged, and the writer re-sends. A
 * full disk is `storage_quota`; anything else `internal`.
 */
export function translatePostgresError(error: unknown): unknown {
  if (error instanceof ConvergeError) return error;
  const code = codeOf(error);
  if (code === undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (connectionDropped(error) || code.startsWith('08') || code === '25006') {
    return new ConvergeError('quorum_unavailable', `relay database unreachable or not writable (${code}): ${message}; the outcome of the commit is unknown`, {
      cause: error,
    });
  }
  return new ConvergeError(code === '53100' ? 'storage_quota' : 'internal', `relay database: ${message} (${code})`, { cause: error });
}

/**
 * `target_session_attrs: 'primary'` when `url` asks for `read-write`. The client library judges
 * read-write by `default_transaction_read_only` alone, which a hot standby reports as off, so a
 * pool told read-write connects to a standby listed first (every write then fails as read-only,
 * and after a failover a pool on the standby that was not promoted stays there). `primary` (not
 * in hot standby) is what libpq means by read-write; an old primary back as it was passes
 * either, and the timeline fence keeps writes off it.
 */
function primaryForReadWrite(url: string): { target_session_attrs?: 'primary' } {
  const match = /[?&]target_session_attrs=([^&]*)/.exec(url);
  return match?.[1] === 'read-write' ? { target_session_attrs: 'primary' } : {};
}

/**
 * The highest timeline among the nodes `url` lists (each asked on its own, for at most 2 s;
 * nodes that do not answer are left out) and the node the pool reached: the fence a relay
 * starts with, so that a relay started while an old primary is back as it was (listed first)
 * still writes only to the new one, when that one answers.
 */
async function highestTimeline(url: string, sql: Sql): Promise<number> {
  const { host, port } = sql.options;
  const probes =
    host.length < 2
      ? []
      : host.map(async (name, i) => {
          const probe = postgres(url, { host: name, port: Number(port[i] ?? port[0]), max: 1, connect_timeout: 2, onnotice: () => undefined });
          try {
            return await timelineOf(probe);
          } catch {
            return 0;
          } finally {
            await probe.end({ timeout: 1 }).catch(() => undefined);
          }
        });
  const found = await Promise.all([timelineOf(sql), ...probes]);
  return Math.max(...found);
}
