import type { ChangeResult } from '@converge/protocol';
import { judgePush, type Push, type PushOutcome, type PushRules } from './judge-push.js';
import type { RelayStore } from './store/relay-store.js';

/** What a push's sender hears once its group commit ended: a result per change, or the error that stopped the push (nothing of it was stored). */
export type PushDone = (outcome: ChangeResult[] | Error) => void;

/**
 * The relay's write path: a queue of pushes from every connection and the group commit that
 * empties it. Every push queued in one turn of the event loop is judged in ONE store
 * transaction; if that transaction throws, each push is retried alone, so only the culprit
 * fails. `committed` hears each push that was committed (for metrics and fan-out) before its
 * sender gets the results.
 */
export class Ingest {
  private queue: { push: Push; done: PushDone }[] = [];

  constructor(
    private readonly store: RelayStore,
    /** The rules of the next commit: the clock and the recovery window are read once per commit. */
    private readonly rules: () => PushRules,
    private readonly committed: (push: Push, outcome: PushOutcome) => void,
  ) {}

  /** Queues a push for the next group commit. */
  submit(push: Push, done: PushDone): void {
    this.queue.push({ push, done });
    if (this.queue.length === 1) setImmediate(() => this.commit());
  }

  /** Commits every queued push now (the relay's `close()` leaves none behind). */
  commit(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const rules = this.rules();
    const judgeAll = (items: typeof batch) => this.store.transact((tx) => items.map(({ push }) => judgePush(rules, tx, push)));
    let outcomes: (PushOutcome | Error)[];
    try {
      outcomes = judgeAll(batch);
    } catch (error) {
      outcomes = batch.map((item) => {
        if (batch.length === 1) return error as Error;
        try {
          return judgeAll([item])[0]!;
        } catch (alone) {
          return alone as Error;
        }
      });
    }
    outcomes.forEach((outcome, i) => {
      const { push, done } = batch[i]!;
      if (!(outcome instanceof Error)) this.committed(push, outcome);
      done(outcome instanceof Error ? outcome : outcome.results);
    });
  }
}
