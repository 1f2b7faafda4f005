import { ConvergeError } from '@converge/conflict';
import type { ChangeResult } from '@converge/protocol';
import type { Logger } from 'pino';
import type { FanOut } from './fan-out.js';
import { judgePush, readsOf } from './judge-push.js';
import type { Push, PushOutcome, PushRules } from './push.js';
import type { RelayMetrics } from './metrics.js';
import { recoveryWindowEnd } from './recovery-window.js';
import type { RelayStore } from './store/relay-store.js';

/** What a push's sender hears once its group commit ended: a result per change, or the error that stopped the push (nothing of it was acknowledged). */
export type PushDone = (outcome: ChangeResult[] | Error) => void;

/** The rules of one commit, but for the recovery window, which the commit reads in its own transaction. */
export type CommitRules = Omit<PushRules, 'recoveryOpen'>;

/** Where a committed push goes: counted by the metrics, its changes handed to live fan-out. */
export interface IngestOutlets {
  readonly metrics: Pick<RelayMetrics, 'record'>;
  readonly fanOut: Pick<FanOut, 'add'>;
  readonly log: Logger;
}

/**
 * An error after which nobody knows whether the commit happened (the store lost its
 * connection): retrying the pushes one by one would not help and could not tell more.
 */
function outcomeUnknown(error: unknown): boolean {
  return error instanceof ConvergeError && error.code === 'quorum_unavailable';
}

/**
 * The relay's write path: a queue of pushes from every connection and the group commit that
 * empties it. One group commit runs at a time: every push queued meanwhile (or in the same turn
 * of the event loop) is judged in the NEXT store transaction, so a slower store gets larger
 * batches rather than more transactions. The transaction reads everything its pushes need in
 * one `prefetch`. If it fails, each push is retried alone, so only the culprit fails — unless
 * the store cannot tell whether it committed (`quorum_unavailable`): then every push of the
 * batch gets that error, and its sender re-sends. Each committed push is counted and its
 * changes handed to fan-out before its sender gets the results.
 */
export class Ingest {
  private queue: { push: Push; done: PushDone }[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: RelayStore,
    /** The rules of the next commit: the clock is read once per commit. */
    private readonly rules: () => CommitRules,
    private readonly outlets: IngestOutlets,
  ) {}

  /** Queues a push for the next group commit. */
  submit(push: Push, done: PushDone): void {
    this.queue.push({ push, done });
    if (this.queue.length === 1 && this.running === undefined) setImmediate(() => void this.drain());
  }

  /** Commits every queued push (the relay's `close()` leaves none behind); resolves when none is left. */
  async flush(): Promise<void> {
    while (this.running !== undefined || this.queue.length > 0) await (this.running ?? this.drain());
  }

  private drain(): Promise<void> {
    this.running ??= (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue;
          this.queue = [];
          await this.commit(batch);
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async commit(batch: readonly { push: Push; done: PushDone }[]): Promise<void> {
    const rules = this.rules();
    const judgeAll = (items: readonly { push: Push }[]) =>
      this.store.transact(async (tx) => {
        const pushes = items.map((item) => item.push);
        const [windowEnd] = await Promise.all([recoveryWindowEnd(tx), tx.prefetch(readsOf(pushes, rules.collections))]);
        const pushRules: PushRules = { ...rules, recoveryOpen: rules.now < windowEnd };
        // A store in this process answers at once: the pushes are judged without a promise per change.
        const judging = tx.direct ?? tx;
        const outcomes: PushOutcome[] = [];
        for (const push of pushes) {
          const outcome = judgePush(pushRules, judging, push);
          outcomes.push(outcome instanceof Promise ? await outcome : outcome);
        }
        return outcomes;
      });
    let outcomes: (PushOutcome | Error)[];
    try {
      outcomes = await judgeAll(batch);
    } catch (error) {
      if (batch.length === 1 || outcomeUnknown(error)) outcomes = batch.map(() => error as Error);
      else {
        outcomes = [];
        for (const item of batch) {
          try {
            outcomes.push((await judgeAll([item]))[0]!);
          } catch (alone) {
            outcomes.push(alone as Error);
          }
        }
      }
    }
    outcomes.forEach((outcome, i) => {
      const { push, done } = batch[i]!;
      if (!(outcome instanceof Error)) this.committed(push, outcome);
      done(outcome instanceof Error ? outcome : outcome.results);
    });
  }

  private committed(push: Push, outcome: PushOutcome): void {
    const { metrics, fanOut, log } = this.outlets;
    metrics.record(outcome);
    if (outcome.counts.repairs > 0) {
      log.warn(
        { replicaId: push.replicaId, principal: push.principal.id, repairs: outcome.counts.repairs },
        "accepted re-pushed states carrying other replicas' dots (recovery window)",
      );
    }
    fanOut.add(outcome.committed);
  }
}
