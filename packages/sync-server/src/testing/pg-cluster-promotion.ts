import { compareLsn, latestLsn, type Lsn } from '../store/pg-replication-lsn.js';
import { primaryConninfo } from './pg-cluster-config.js';
import type { PgNode, PgNodeProcess } from './pg-cluster-node.js';
import { onNode } from './pg-cluster-streaming.js';

/** Where a standby stands in the WAL, as `pg_last_wal_receive_lsn()` and `pg_last_wal_replay_lsn()` tell. */
export interface StandbyPosition {
  readonly name: string;
  readonly receiveLsn: Lsn | null;
  readonly replayLsn: Lsn | null;
}

export interface RankedStandby extends StandbyPosition {
  /** The greater of the received and replayed positions. */
  readonly position: Lsn | null;
}

export interface Promotion {
  /** The standby now primary. */
  readonly node: PgNode;
  /** Every running standby as it stood when the choice was made, most up to date first. */
  readonly ranking: readonly RankedStandby[];
  /** From the start of the ranking until `pg_promote()` returned (the node accepts writes). */
  readonly promoteMs: number;
  /** Until the remaining standbys stream from the new primary (0 with none). */
  readonly followMs: number;
}

/**
 * Standbys from the most up to date to the least, by the greater of received and replayed LSN:
 * a standby restarted moments ago reports its receive position as the start of the WAL segment
 * it resumed streaming from (behind what it had replayed), so ranking by received alone would
 * pass it over although it holds more. Ties go to the name that sorts first, so a promotion is
 * repeatable. A standby with neither position ranks last.
 *
 * @example
 * ```ts
 * rankStandbys([
 *   { name: 's1', receiveLsn: '0/3000000', replayLsn: '0/3A1C2D8' }, // just restarted
 *   { name: 's2', receiveLsn: '0/3A1C100', replayLsn: '0/3A1C100' },
 * ])[0].name; // → 's1'
 * ```
 */
export function rankStandbys(positions: readonly StandbyPosition[]): RankedStandby[] {
  return positions
    .map((standby) => ({ ...standby, position: latestLsn(standby.receiveLsn, standby.replayLsn) }))
    .sort((a, b) => {
      if (a.position === null || b.position === null) return a.position === b.position ? a.name.localeCompare(b.name) : a.position === null ? 1 : -1;
      return compareLsn(b.position, a.position) || a.name.localeCompare(b.name);
    });
}

/**
 * Asks each of `candidates` (running nodes) where it stands in the WAL: those still in recovery
 * are the `standbys`, and `ranking` orders them as `rankStandbys` does.
 */
export async function rankRunningStandbys<N extends PgNode>(candidates: readonly N[]): Promise<{ ranking: RankedStandby[]; standbys: N[] }> {
  const positions = await Promise.all(
    candidates.map(async (node) => {
      const [row] = await onNode(
        node,
        (sql) =>
          sql<{ receive: string | null; replay: string | null; recovery: boolean }[]>`
            SELECT pg_last_wal_receive_lsn()::text AS receive, pg_last_wal_replay_lsn()::text AS replay, pg_is_in_recovery() AS recovery`,
      );
      return { node, row: row! };
    }),
  );
  const inRecovery = positions.filter(({ row }) => row.recovery);
  const ranking = rankStandbys(inRecovery.map(({ node, row }) => ({ name: node.name, receiveLsn: row.receive, replayLsn: row.replay })));
  return { ranking, standbys: inRecovery.map(({ node }) => node) };
}

/**
 * Makes a standby primary: gives it `synchronousNames` as its `synchronous_standby_names`, calls
 * `pg_promote()` and resolves once it has left recovery (it accepts writes); throws past `deadline`.
 */
export async function promote(node: PgNodeProcess, synchronousNames: string, deadline: number): Promise<void> {
  await onNode(node, async (sql) => {
    await sql.unsafe(`ALTER SYSTEM SET synchronous_standby_names = ${quoteLiteral(synchronousNames)}`);
    await sql`SELECT pg_reload_conf()`;
    // pg_promote(true) would poll every 100 ms; ask it not to wait and poll finer, as pg_ctl promote does.
    await sql`SELECT pg_promote(false)`;
    for (;;) {
      const [state] = await sql<{ recovery: boolean }[]>`SELECT pg_is_in_recovery() AS recovery`;
      if (state?.recovery === false) break;
      if (Date.now() > deadline) throw new Error(`${node.name} was still in recovery after pg_promote():\n${node.logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
}

/** Points a running standby at `primary` (`primary_conninfo` by ALTER SYSTEM and a reload, which restarts its walreceiver). */
export async function repoint(node: PgNode, primary: PgNode): Promise<void> {
  await onNode(node, async (sql) => {
    await sql.unsafe(`ALTER SYSTEM SET primary_conninfo = ${quoteLiteral(primaryConninfo(primary.port, node.name))}`);
    await sql`SELECT pg_reload_conf()`;
  });
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
