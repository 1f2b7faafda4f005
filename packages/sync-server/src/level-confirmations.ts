import type { AckLevel, ConfirmFrame, RelayAckLevel } from '@converge/protocol';
import type { RelayMetrics } from './metrics.js';
import type { RelayStore } from './store/relay-store.js';

const RANK: Readonly<Record<RelayAckLevel, number>> = { relay: 0, quorum: 1, all: 2 };

/** A `confirm` frame without its push id. */
export type Confirmation = Omit<ConfirmFrame, 'type' | 'id'>;

export interface LevelConfirmationSettings {
  /** How long the relay waits for a level before it says `ack_timeout` (and keeps waiting), ms. */
  readonly ackTimeoutMs: number;
  readonly now: () => number;
}

/**
 * The levels beyond `relay` for pushes that asked for `quorum` or `all`, after their ack (at
 * `relay`) went out: each level the store confirms becomes a `confirm`. A store that cannot
 * confirm more (no `confirmLevel`: SQLite, memory) or says it cannot (no synchronous standby,
 * a failover) gets `confirm {level reached, code: 'quorum_unavailable'}`, final. A level not
 * confirmed within `ackTimeoutMs` gets `confirm {level reached, code: 'ack_timeout'}` once, and
 * the relay goes on waiting — it never cancels PostgreSQL's wait — so a later `confirm` may
 * still raise it, until the session closes.
 */
export class LevelConfirmations {
  constructor(
    private readonly store: Pick<RelayStore, 'confirmLevel'>,
    private readonly settings: LevelConfirmationSettings,
    private readonly metrics: Pick<RelayMetrics, 'confirmLatency' | 'confirmOutcomes'>,
  ) {}

  /** Follows one push's level; `send` gets each `confirm` to send. Returns a function that stops following (its session closed). */
  follow(wanted: AckLevel, send: (confirmation: Confirmation) => void): () => void {
    if (wanted !== 'quorum' && wanted !== 'all') return () => undefined;
    const { confirmLevel } = this.store;
    if (confirmLevel === undefined) {
      this.metrics.confirmOutcomes.inc({ wanted, outcome: 'unavailable' });
      send({ level: 'relay', code: 'quorum_unavailable' });
      return () => undefined;
    }
    const started = this.settings.now();
    let reached: RelayAckLevel = 'relay';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.metrics.confirmOutcomes.inc({ wanted, outcome: 'timeout' });
      send({ level: reached, code: 'ack_timeout' });
    }, this.settings.ackTimeoutMs);
    timer.unref?.();
    const stop = confirmLevel.call(this.store, wanted, (progress) => {
      if (progress.unavailable === true) {
        clearTimeout(timer);
        this.metrics.confirmOutcomes.inc({ wanted, outcome: 'unavailable' });
        send({ level: reached, code: 'quorum_unavailable' });
        return;
      }
      if (RANK[progress.level] > RANK[reached]) {
        reached = progress.level;
        this.metrics.confirmLatency.observe({ level: reached }, (this.settings.now() - started) / 1000);
        send({ level: reached });
      }
      if (progress.final) {
        clearTimeout(timer);
        this.metrics.confirmOutcomes.inc({ wanted, outcome: timedOut ? 'late' : 'confirmed' });
      }
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }
}
