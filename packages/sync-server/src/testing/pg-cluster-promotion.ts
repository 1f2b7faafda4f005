import { compareLsn, latestLsn, type Lsn } from '../store/pg-replication-lsn.js';

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
