import type { ISql } from 'postgres';
import { type Lsn } from './pg-replication-lsn.js';
import { namesStandby, parseSynchronousStandbyNames, type SynchronousSetting } from './pg-replication-setting.js';

/** One standby as the primary lists it in `pg_stat_replication`. */
export interface StandbyStatus {
  /** Its `application_name`, what `synchronous_standby_names` matches. */
  readonly name: string;
  /** `startup`, `catchup`, `streaming`, `backup` or `stopping`. */
  readonly state: string;
  /** `async`, `potential`, `sync` or `quorum`, as the primary ranks it under the setting. */
  readonly syncState: string;
  /** Whether the synchronous setting names it (`*` names every standby). */
  readonly configured: boolean;
  readonly sentLsn: Lsn | null;
  readonly writeLsn: Lsn | null;
  readonly flushLsn: Lsn | null;
  readonly replayLsn: Lsn | null;
  /** Bytes of WAL the primary has written that the standby has not flushed yet. */
  readonly flushLagBytes: number | null;
  /** PostgreSQL's measured lags (null when the standby is idle and caught up, or unknown). */
  readonly writeLagMs: number | null;
  readonly flushLagMs: number | null;
  readonly replayLagMs: number | null;
}

/**
 * The primary's replication as a relay needs it: the synchronous setting, and `n` and `k` for
 * `welcome` and metrics: `k` standbys must confirm a `quorum` commit, out of `n` configured ones
 * (the primary not counted). No synchronous standby configured → `k = 0`, `n = 0`: `quorum` and
 * `all` cannot be reached.
 */
export interface ReplicationStatus {
  /** `synchronous_standby_names` as the server has it. */
  readonly raw: string;
  readonly setting: SynchronousSetting | null;
  readonly k: number;
  /** The named standbys; for `*`, the standbys streaming now (at least `k`). */
  readonly n: number;
  /** Every standby connected to this server, by name. */
  readonly standbys: readonly StandbyStatus[];
  /** The server's WAL write position (`null` on a standby). */
  readonly currentLsn: Lsn | null;
  /** Whether the server is a standby (in recovery): nothing commits there. */
  readonly inRecovery: boolean;
}

interface Row {
  readonly raw: string;
  readonly in_recovery: boolean;
  readonly current: string | null;
  readonly name: string | null;
  readonly state: string | null;
  readonly sync_state: string | null;
  readonly sent: string | null;
  readonly write: string | null;
  readonly flush: string | null;
  readonly replay: string | null;
  readonly flush_lag_bytes: string | null;
  readonly write_lag_ms: number | null;
  readonly flush_lag_ms: number | null;
  readonly replay_lag_ms: number | null;
}

/**
 * Reads the synchronous setting and `pg_stat_replication` in one query. The setting is the
 * value this connection's backend has, which follows a reload (`pg_reload_conf()`) before its
 * next statement.
 *
 * Usage (against a live server, so not a run `@example`):
 * ```ts
 * const status = await readReplicationSetting(sql);
 * status.k; // → 1 under 'ANY 1 (s1, s2)'
 * status.standbys.map((s) => `${s.name} ${s.syncState}`); // → ['s1 quorum', 's2 quorum']
 * ```
 */
export async function readReplicationSetting(sql: ISql): Promise<ReplicationStatus> {
  const rows = await sql<Row[]>`
    SELECT current_setting('synchronous_standby_names') AS raw,
           pg_is_in_recovery() AS in_recovery,
           CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current,
           r.application_name AS name, r.state, r.sync_state,
           r.sent_lsn::text AS sent, r.write_lsn::text AS write, r.flush_lsn::text AS flush, r.replay_lsn::text AS replay,
           CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), r.flush_lsn)::text END AS flush_lag_bytes,
           (extract(epoch FROM r.write_lag) * 1000)::float8 AS write_lag_ms,
           (extract(epoch FROM r.flush_lag) * 1000)::float8 AS flush_lag_ms,
           (extract(epoch FROM r.replay_lag) * 1000)::float8 AS replay_lag_ms
    FROM (SELECT 1) AS one LEFT JOIN pg_stat_replication AS r ON true
    ORDER BY r.application_name`;
  const first = rows[0];
  if (!first) throw new Error('the replication query returned no row');
  const setting = parseSynchronousStandbyNames(first.raw);
  const standbys = rows
    .filter((row): row is Row & { name: string } => row.name !== null)
    .map((row): StandbyStatus => ({
      name: row.name,
      state: row.state ?? 'unknown',
      syncState: row.sync_state ?? 'unknown',
      configured: setting !== null && namesStandby(setting, row.name),
      sentLsn: row.sent,
      writeLsn: row.write,
      flushLsn: row.flush,
      replayLsn: row.replay,
      flushLagBytes: row.flush_lag_bytes === null ? null : Number(row.flush_lag_bytes),
      writeLagMs: row.write_lag_ms,
      flushLagMs: row.flush_lag_ms,
      replayLagMs: row.replay_lag_ms,
    }));
  return {
    raw: first.raw,
    setting,
    k: setting?.k ?? 0,
    n: configuredCount(setting, standbys),
    standbys,
    currentLsn: first.current,
    inRecovery: first.in_recovery,
  };
}

function configuredCount(setting: SynchronousSetting | null, standbys: readonly StandbyStatus[]): number {
  if (setting === null) return 0;
  if (setting.names.includes('*')) return Math.max(setting.k, standbys.filter((s) => s.state === 'streaming').length);
  return new Set(setting.names.map((name) => name.toLowerCase())).size;
}
