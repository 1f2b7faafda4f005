import type { ReplicaId } from '@converge/conflict';
import type { AckLevel, PushedChange } from '@converge/protocol';

/** A write the relay accepted, named as its status is kept. */
export interface ConfirmingWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
}

/** One accepted change of a push and the writes it carried. */
export interface ConfirmingChange {
  readonly change: PushedChange;
  readonly writes: readonly ConfirmingWrite[];
  /**
   * A multi-leader change: the relay merges it by dot, so pushing it again changes nothing it
   * holds. A leader-follower write is decided once, by the leader, and is not asked again.
   */
  readonly again: boolean;
}

/** What a push that asked for more than `relay` got accepted, waiting for `confirm` frames to raise its level. */
export interface Confirming {
  readonly wanted: AckLevel;
  /** The replica id the push spoke for: a push for another id is not asked again. */
  readonly replica: ReplicaId;
  readonly changes: ConfirmingChange[];
  /** Sessions that asked for the level (the first push included). */
  readonly asked: number;
}

/** Sessions that may ask for one write's level: the push itself, then this many minus one asks again. */
const MAX_ASKS = 4;
/** Most writes kept waiting to be asked again; the oldest go first. */
const MAX_WRITES = 10_000;

export const writesOf = (confirming: Confirming): ConfirmingWrite[] => confirming.changes.flatMap((c) => c.writes);

/**
 * Writes whose `confirm` a closed session cut off: the relay acknowledged them at `relay`, and
 * the session ended before it confirmed the level they asked for (a failover, a relay restart,
 * a dropped connection). The sync engine keeps them across sessions, in memory, and the next
 * session pushes their changes again with the same level — a push is idempotent by dot, so the
 * relay merges nothing new and follows the level of what it holds. A write asked for in
 * `MAX_ASKS` sessions without an answer, or pushed for another replica id, is left at the level
 * reached.
 */
export class Unconfirmed {
  #cutOff: Confirming[] = [];

  /** A session ended with these still waiting. */
  cutOff(waiting: Iterable<Confirming>): void {
    for (const confirming of waiting) {
      const changes = confirming.changes.filter((c) => c.again);
      if (confirming.asked < MAX_ASKS && changes.length > 0) this.#cutOff.push({ ...confirming, changes });
    }
    let writes = this.#cutOff.reduce((n, c) => n + writesOf(c).length, 0);
    while (writes > MAX_WRITES) writes -= writesOf(this.#cutOff.shift()!).length;
  }

  /** The cut-off pushes to ask again for `replica`, taken (a push for another id is dropped). */
  take(replica: ReplicaId): Confirming[] {
    const taken = this.#cutOff.filter((c) => c.replica === replica);
    this.#cutOff = [];
    return taken;
  }

  get size(): number {
    return this.#cutOff.length;
  }
}
