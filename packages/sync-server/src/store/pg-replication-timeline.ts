import type { ISql } from 'postgres';

/**
 * The timeline a server is on. On a server that accepts writes it is the timeline it writes WAL
 * on, read from the name of its current WAL file (`pg_walfile_name(pg_current_wal_lsn())`, the
 * first 8 hex digits): that changes the moment a promotion ends. `pg_control_checkpoint()`'s
 * `timeline_id` does not: it moves only at the next checkpoint, so right after a promotion it
 * still names the old timeline. On a standby (no current WAL file of its own) it is the timeline
 * it receives (`pg_stat_wal_receiver.received_tli`), else that of its last restartpoint.
 *
 * A relay keeps the highest timeline it has seen and writes to no server on a lower one: an old
 * primary restarted as it was accepts writes on its old timeline.
 *
 * Usage (against a live server, so not a run `@example`):
 * ```ts
 * await timeline(sql); // → 2 on a standby promoted once
 * ```
 */
export async function timeline(sql: ISql): Promise<number> {
  const [row] = await sql<{ walfile: string | null; received: number | null; checkpoint: number | null }[]>`
    SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END AS walfile,
           (SELECT received_tli FROM pg_stat_wal_receiver) AS received,
           (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint`;
  if (!row) throw new Error('the timeline query returned no row');
  if (row.walfile !== null) return Number.parseInt(row.walfile.slice(0, 8), 16);
  const tli = row.received ?? row.checkpoint;
  if (tli === null) throw new Error('the server reports no timeline');
  return tli;
}
