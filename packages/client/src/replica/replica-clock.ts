import { compareHlc, ConvergeError, createHlcClock, type Hlc, type HlcClock, type ReplicaId } from '@converge/conflict';
import type { ReplicaRecord } from '../storage/storage-adapter.js';

/**
 * This tab's copy of the replica's identity and clock, following the replica record in storage.
 *
 * Memory never runs ahead of the disk: a transaction stamps its writes with a clock of its own
 * (`forTransaction`, started from the record it read and from this tab's last stamp), and only
 * once the transaction has committed does this tab take it in (`follow`). A transaction that
 * fails leaves the id and the clock as they were. Several tabs share the record; each
 * transaction reads it first, so a stamp another tab issued, a new id or a new offset is
 * followed at the next transaction.
 */
export class ReplicaClock {
  #hlc: HlcClock | undefined;
  #id: ReplicaId | undefined;

  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The replica id as of the last committed transaction this tab ran. */
  get id(): ReplicaId {
    if (this.#id === undefined) throw new ConvergeError('internal', 'the replica is not open yet');
    return this.#id;
  }

  /** The greatest stamp this tab issued or took in (undefined before the replica is open). */
  last(): Hlc | undefined {
    return this.#hlc?.last();
  }

  /**
   * A clock for one transaction on `record`: above every stamp this tab issued for that id and
   * the record's own; with `offsetMs` (a correction from the relay) in place of the record's.
   * `fresh`: forget this tab's stamps (the relay refused them as too far ahead).
   */
  forTransaction(record: ReplicaRecord, options: { readonly offsetMs?: number; readonly fresh?: boolean } = {}): HlcClock {
    const mine = options.fresh === true || this.#hlc?.replica !== record.id ? undefined : this.#hlc.last();
    const stored = record.clock === undefined ? undefined : { ...record.clock, replica: record.id };
    const last = mine === undefined ? stored : stored === undefined || compareHlc(mine, stored) >= 0 ? mine : stored;
    const offsetMs = options.offsetMs ?? record.clockOffsetMs ?? this.#hlc?.offsetMs() ?? 0;
    return createHlcClock({ replica: record.id, now: this.#now, offsetMs, ...(last === undefined ? {} : { last }) });
  }

  /** After a commit: `rep` is the replica record storage now holds, `clock` the transaction's clock (if it stamped anything). */
  follow({ rep, clock }: { readonly rep: ReplicaRecord; readonly clock?: HlcClock }): void {
    this.#id = rep.id;
    this.#hlc = clock ?? this.forTransaction(rep);
  }
}
