import type { Sql } from 'postgres';
import { readHead } from './postgres-reads.js';
import type { ReplicaPosition } from './relay-store.js';

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
    const read = readHead(reads, collection).then((head) => (shown = head.seq));
    read.catch(() => undefined);
    await Promise.race([read, new Promise((resolve) => (timer = setTimeout(resolve, left)))]).finally(() => clearTimeout(timer));
    if (shown >= seq || Date.now() >= deadline || stopped()) return shown;
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(1, deadline - Date.now()))));
    interval = Math.min(interval * 2, 50);
  }
}

/** Waits (until `deadline`) for the standby `reads` to show the collection's head as the `primary` has it now. */
export async function replicaPosition(primary: Sql, reads: Sql, collection: string, deadline: number, stopped: () => boolean): Promise<ReplicaPosition> {
  const primarySeq = (await readHead(primary, collection)).seq;
  const replicaSeq = await replayed(reads, collection, primarySeq, deadline, stopped);
  return { caughtUp: replicaSeq >= primarySeq, primarySeq, replicaSeq };
}
