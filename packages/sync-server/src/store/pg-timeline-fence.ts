import { ConvergeError } from '@converge/conflict';
import type { TransactionSql } from 'postgres';

/** The timeline a server writes on, from the name of its current WAL file (`null`: in recovery, not writable). */
export function timelineOfWalfile(walfile: string | null): number | undefined {
  return walfile === null ? undefined : Number.parseInt(walfile.slice(0, 8), 16);
}

/** Why a write transaction may not commit where it runs: a node on an older timeline, or one that does not accept writes. */
export class FencedError extends ConvergeError {
  constructor(message: string) {
    super('quorum_unavailable', message);
  }
}

/**
 * The highest PostgreSQL timeline a store has seen, and the fence it makes: a write transaction
 * reads the timeline of the node it runs on (in a statement pipelined with its first, so it
 * costs no round trip) and may commit only on the highest timeline seen. An old primary that
 * comes back as it was (it accepts writes on its old timeline, and `target_session_attrs=primary`
 * connects to it when it is listed first) is refused; a higher timeline (a failover) raises the
 * fence and is announced to the listeners. Kept in memory, per store: a relay that starts reads
 * the timeline of every host its URL lists and starts from the highest that answers.
 */
export class TimelineFence {
  #highest: number;
  readonly #listeners = new Set<(timeline: number, previous: number) => void>();

  constructor(initial: number) {
    this.#highest = initial;
  }

  get highest(): number {
    return this.#highest;
  }

  /**
   * Judges the node a transaction runs on: throws a `FencedError` (`quorum_unavailable`,
   * retryable) when it is in recovery or on a timeline below the highest seen; raises the fence
   * (and tells the listeners) when it is above.
   */
  admit(timeline: number | undefined, where: string): number {
    if (timeline === undefined) throw new FencedError(`relay database: ${where} does not accept writes (in recovery): not writing there`);
    if (timeline < this.#highest) {
      throw new FencedError(
        `relay database: ${where} is on timeline ${timeline}, below timeline ${this.#highest} already seen (an old primary?): no write goes to it`,
      );
    }
    if (timeline > this.#highest) {
      const previous = this.#highest;
      this.#highest = timeline;
      for (const listener of this.#listeners) listener(timeline, previous);
    }
    return timeline;
  }

  watch(listener: (timeline: number, previous: number) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}

/** What a transaction reads of its node for the fence: its current WAL file (`null` in recovery) and its address. */
export interface NodeRow {
  readonly walfile: string | null;
  readonly node: string;
}

/**
 * Admits the node a transaction runs on (`TimelineFence.admit`), or drops the connection to it:
 * its backend ends itself (`pg_terminate_backend(pg_backend_pid())`), so nothing of the
 * transaction commits and the pool opens its replacement at the next host its URL lists.
 * Throws the `FencedError` then.
 */
export async function admitNode(tx: TransactionSql, fence: TimelineFence, row: NodeRow): Promise<number> {
  try {
    return fence.admit(timelineOfWalfile(row.walfile), `the node at ${row.node}`);
  } catch (error) {
    await tx`SELECT pg_terminate_backend(pg_backend_pid())`.catch(() => undefined);
    throw error;
  }
}
