import type { ISql } from 'postgres';
import { compareLsn, type Lsn } from './pg-replication-lsn.js';
import { readReplicationSetting, type ReplicationStatus } from './pg-replication-status.js';

/** Whether a commit has reached `all`, and if not, who holds it back. */
export interface AllStatus {
  readonly reached: boolean;
  /** Standbys the synchronous setting names that are not streaming now (`*` when fewer than k stream). */
  readonly missing: readonly string[];
  /** Streaming standbys whose flush position is still before the commit. */
  readonly behind: readonly string[];
  /** No synchronous standby is configured: `all`, like `quorum`, cannot be reached. */
  readonly unavailable: boolean;
}

/**
 * `all` for a commit at `lsn`, checked once on the primary: every standby the primary lists as
 * streaming has flushed past `lsn` (`pg_stat_replication.flush_lsn`), and the configured set is
 * complete (every name in `synchronous_standby_names` is among them, so a standby that is down
 * holds `all` back instead of silently dropping out of it). Without a synchronous setting it is
 * never reached, and neither is it with no standby streaming.
 */
export function allFlushed(status: ReplicationStatus, lsn: Lsn): AllStatus {
  const streaming = status.standbys.filter((standby) => standby.state === 'streaming');
  if (status.setting === null) return { reached: false, missing: [], behind: [], unavailable: true };
  const names = new Set(streaming.map((standby) => standby.name.toLowerCase()));
  const missing = status.setting.names.includes('*')
    ? streaming.length >= status.setting.k
      ? []
      : ['*']
    : status.setting.names.filter((name) => !names.has(name.toLowerCase()));
  const behind = streaming.filter((standby) => standby.flushLsn === null || compareLsn(standby.flushLsn, lsn) < 0).map((standby) => standby.name);
  return { reached: streaming.length > 0 && missing.length === 0 && behind.length === 0, missing, behind, unavailable: false };
}

/**
 * Polls the primary until the commit at `lsn` reaches `all` or `deadline` (a `Date.now()` time)
 * passes, and says where it stands. It never cancels anything: when it returns unreached, the
 * relay answers `ack_timeout` naming the level reached and may call it again to keep checking.
 *
 * Usage (against a live server, so not a run `@example`):
 * ```ts
 * const commit = await commitAtLevel(sql, 'all', work);
 * const all = await waitForAll(sql, commit.lsn, Date.now() + 5_000);
 * all.reached ? 'all' : commit.reached; // the level to report
 * ```
 */
export async function waitForAll(sql: ISql, lsn: Lsn, deadline: number, options: { readonly maxIntervalMs?: number } = {}): Promise<AllStatus> {
  const maxIntervalMs = options.maxIntervalMs ?? 25;
  let interval = 1;
  for (;;) {
    const status = allFlushed(await readReplicationSetting(sql), lsn);
    if (status.reached || status.unavailable || Date.now() >= deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))));
    interval = Math.min(interval * 2, maxIntervalMs);
  }
}
