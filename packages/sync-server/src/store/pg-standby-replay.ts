import type { Sql } from 'postgres';
import { bytes } from './postgres-tx.js';
import type { ReplicaPosition } from './relay-store.js';

/** A collection's head seq as `sql`'s server shows it (0 for a collection it does not hold). */
async function headSeq(sql: Sql, collection: string): Promise<number> {
  const [row] = await sql<{ head_seq: number }[]>`SELECT head_seq FROM collections WHERE name = ${bytes(collection)}`;
  return row?.head_seq ?? 0;
}

/**
 * Polls a standby (`reads`) until it shows `seq` of the collection, `deadline` passes or
 * `stopped()` says so; resolves to the seq it shows. A frozen standby accepts the query and
 * never answers: the deadline bounds the wait all the same.
 */
export async function replayed(reads: Sql, collection: string, seq: number, deadline: number, stopped: () => boolean): Promise<number> {
  let interval = 1;
  let shown = 0;
  for (;;) {
    const left = Math.max(1, deadline - Date.now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = headSeq(reads, collection).then((seen) => (shown = seen));
    read.catch(() => undefined);
    await Promise.race([read, new Promise((resolve) => (timer = setTimeout(resolve, left)))]).finally(() => clearTimeout(timer));
    if (shown >= seq || Date.now() >= deadline || stopped()) return shown;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(1, deadline - Date.now()))));
    interval = Math.min(interval * 2, 50);
  }
}

/** Waits (until `deadline`) for the standby `reads` to show the collection's head as the `primary` has it now. */
export async function replicaPosition(primary: Sql, reads: Sql, collection: string, deadline: number, stopped: () => boolean): Promise<ReplicaPosition> {
  const primarySeq = await headSeq(primary, collection);
  const replicaSeq = await replayed(reads, collection, primarySeq, deadline, stopped);
  return { caughtUp: replicaSeq >= primarySeq, primarySeq, replicaSeq };
}
