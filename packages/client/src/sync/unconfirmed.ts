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
  /**
   * The change as pushed, kept to push it again; absent when it is not asked again: a
   * leader-follower write (the leader decides a dot once), or one over the memory bound.
   */
  readonly change?: PushedChange;
  readonly writes: readonly ConfirmingWrite[];
  /** What keeping `change` takes of the bound (its share of the push's encoded size; 0 without it). */
  readonly bytes: number;
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

export const writesOf = (confirming: Confirming): ConfirmingWrite[] => confirming.changes.flatMap((c) => c.writes);

const bytesOf = (changes: readonly ConfirmingChange[]): number => changes.reduce((n, c) => n + c.bytes, 0);

/**
 * Writes whose `confirm` a closed session cut off: the relay acknowledged them at `relay`, and
 * the session ended before it confirmed the level they asked for (a failover, a relay restart,
 * a dropped connection). The sync engine keeps them across sessions, in memory, and the next
 * session pushes their changes again with the same level — a push is idempotent by dot, so the
 * relay merges nothing new and follows the level of what it holds. A write asked for in
 * `MAX_ASKS` sessions without an answer, or pushed for another replica id, is left at the level
 * reached. The changes kept to push again, in sessions and between them, stay within
 * `maxBytes`: a change past it is left at the level reached.
 */
export class Unconfirmed {
  #cutOff: Confirming[] = [];
  #bytes = 0;

  constructor(readonly maxBytes = 8 * 1024 * 1024) {}

  /** Takes `bytes` of the bound for a change to keep; false when they do not fit. */
  reserve(bytes: number): boolean {
    if (this.#bytes + bytes > this.maxBytes) return false;
    this.#bytes += bytes;
    return true;
  }

  /** The changes no longer kept: their bytes go back to the bound. */
  release(changes: readonly ConfirmingChange[]): void {
    this.#bytes -= bytesOf(changes);
  }

  /** A session ended with these still waiting, oldest first. */
  cutOff(waiting: Iterable<Confirming>): void {
    for (const confirming of waiting) {
      const changes = confirming.changes.filter((c) => c.change !== undefined);
      if (confirming.asked < MAX_ASKS && changes.length > 0) this.#cutOff.push({ ...confirming, changes });
      else this.release(changes);
    }
  }

  /** The cut-off pushes to ask again for `replica`, taken (a push for another id is dropped). */
  take(replica: ReplicaId): Confirming[] {
    const taken = this.#cutOff.filter((c) => c.replica === replica);
    for (const c of this.#cutOff) if (c.replica !== replica) this.release(c.changes);
    this.#cutOff = [];
    return taken;
  }

  get size(): number {
    return this.#cutOff.length;
  }

  /** Bytes of changes kept, in sessions and between them. */
  get bytes(): number {
    return this.#bytes;
  }
}
