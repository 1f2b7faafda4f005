import type { RelayAckLevel } from '@converge/protocol';
import type { Notice, Sql, TransactionSql } from 'postgres';
import type { Lsn } from './pg-replication-lsn.js';
import { isCancelledWaitNotice, TransactionNotices } from './pg-replication-notice.js';
import { parseSynchronousStandbyNames, type SynchronousSetting } from './pg-replication-setting.js';

/** PostgreSQL's per-transaction durability, from the weakest a relay uses to the strongest. */
export type SynchronousCommit = 'local' | 'remote_write' | 'on' | 'remote_apply';

/**
 * The `synchronous_commit` each ack level commits at: `relay` is the primary's own flush;
 * `quorum` waits for the operator's `ANY k` / `FIRST k` standbys to flush; `all` commits as
 * `quorum` and then waits for every standby (`waitForAll`).
 */
export const SYNCHRONOUS_COMMIT_FOR: Readonly<Record<RelayAckLevel, SynchronousCommit>> = { relay: 'local', quorum: 'on', all: 'on' };

/** What a commit made durable, as far as PostgreSQL confirmed it. */
export interface LevelCommit<T> {
  /** What the transaction's work returned. */
  readonly result: T;
  readonly synchronousCommit: SynchronousCommit;
  /**
   * The highest level the commit itself confirmed: `quorum` only when it waited at `on` or
   * `remote_apply` under a synchronous setting (before and after the commit) and the wait was
   * not cancelled; else `relay` (it committed on the primary). Never `all`: that needs `waitForAll`.
   */
  readonly reached: 'relay' | 'quorum';
  /** Why `reached` is below what the synchronous commit asked for, when it is. */
  readonly shortfall: 'no_synchronous_standby' | 'wait_cancelled' | 'setting_changed' | null;
  /** The synchronous setting the transaction ran under (`null`: none). */
  readonly setting: SynchronousSetting | null;
  /**
   * A WAL position at or past the commit record: `pg_current_wal_lsn()` read once the commit has
   * returned. Wait for standbys to pass this, never for `pg_current_wal_insert_lsn()` read
   * inside the transaction, which comes before the commit record.
   */
  readonly lsn: Lsn;
  /** Every notice the transaction's connection received, the commit's included. */
  readonly notices: readonly Notice[];
}

/**
 * Runs `work` in a transaction on the pool `sql` at `synchronous_commit = synchronousCommit`
 * (`SET LOCAL`, so the pool's other transactions keep theirs) and reports what the commit
 * confirmed. The first statement sets the level and reads `synchronous_standby_names`, sent
 * without waiting for its answer, so `work`'s first statements share its round trip; after the
 * commit one more reads the WAL position and the setting again.
 *
 * PostgreSQL traps this guards against:
 * - a synchronous wait that is cancelled (statement cancel, `pg_cancel_backend()`, a client-side
 *   timeout that cancels) leaves the transaction committed locally and COMMIT returning success,
 *   with only a WARNING: such a commit is reported `relay` (`shortfall: 'wait_cancelled'`);
 * - clearing `synchronous_standby_names` releases waiting commits with no warning at all: a
 *   setting missing before or after the commit means `relay` (`'setting_changed'`);
 * - `statement_timeout` does not bound the wait, and the pool must not cancel it either: never
 *   give this pool a `query_timeout` (postgres.js applies it to COMMIT and cancels the wait).
 *
 * Usage (against a live server, so not a run `@example`):
 * ```ts
 * const commit = await commitAtLevel(sql, 'quorum', (tx) => tx`UPDATE docs SET state = ${state} WHERE key = ${key}`);
 * commit.reached; // → 'quorum' under 'ANY 1 (s1, s2)', 'relay' with no synchronous standby
 * ```
 */
export async function commitAt<T>(sql: Sql, synchronousCommit: SynchronousCommit, work: (tx: TransactionSql) => Promise<T>): Promise<LevelCommit<T>> {
  const { value, notices } = await TransactionNotices.watch(() =>
    sql.begin(async (tx) => {
      // Sent, not awaited: `work`'s first statements go out behind it, in the same round trip.
      const first = tx<{ names: string }[]>`
        SELECT set_config('synchronous_commit', ${synchronousCommit}, true), current_setting('synchronous_standby_names') AS names`.execute();
      first.catch(() => undefined);
      const result = await work(tx);
      const [before] = await first;
      return { result, names: before!.names };
    }),
  );
  const [after] = await sql<{ lsn: string; names: string }[]>`SELECT pg_current_wal_lsn()::text AS lsn, current_setting('synchronous_standby_names') AS names`;
  const setting = parseSynchronousStandbyNames(value.names);
  const settingAfter = parseSynchronousStandbyNames(after!.names);
  const waited = synchronousCommit === 'on' || synchronousCommit === 'remote_apply';
  const shortfall = !waited
    ? null
    : setting === null
      ? 'no_synchronous_standby'
      : notices.some(isCancelledWaitNotice)
        ? 'wait_cancelled'
        : settingAfter === null
          ? 'setting_changed'
          : null;
  return {
    result: value.result as T,
    synchronousCommit,
    reached: waited && shortfall === null ? 'quorum' : 'relay',
    shortfall,
    setting,
    lsn: after!.lsn,
    notices,
  };
}

/** `commitAt` at the `synchronous_commit` an ack level maps to (`SYNCHRONOUS_COMMIT_FOR`). */
export function commitAtLevel<T>(sql: Sql, level: RelayAckLevel, work: (tx: TransactionSql) => Promise<T>): Promise<LevelCommit<T>> {
  return commitAt(sql, SYNCHRONOUS_COMMIT_FOR[level], work);
}
