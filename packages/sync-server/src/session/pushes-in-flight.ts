import type { AckFrame, PushFrame } from '@converge/protocol';
import type { Push } from '../push.js';
import { ackFrames } from './ack-parts.js';
import type { OutgoingFrames } from './outgoing-frames.js';
import type { SessionHost } from './session-host.js';

/** What a connection's pushes need from the session that received them. */
export interface PushSession {
  /** Closed, not just draining: a draining session still sends the answers of its pushes in flight. */
  isClosed(): boolean;
  /** Closes the session for a push the group commit failed. */
  failWith(error: unknown): void;
  /** The last push in flight was answered: what waited for the connection's pushes goes on. */
  settled(): void;
}

/**
 * A connection's pushes from the group commit's queue to their answers: each gets an `ack` at
 * `relay`, and one that asked for `quorum` or `all` a `confirm` for each level beyond.
 */
export class PushesInFlight {
  private count = 0;
  /** Pushes whose levels beyond `relay` are still being followed: each stops when the session closes. */
  private readonly following = new Set<() => void>();

  constructor(
    private readonly host: SessionHost,
    private readonly out: Pick<OutgoingFrames, 'send' | 'sendText'>,
    private readonly session: PushSession,
  ) {}

  /** Pushes queued for the group commit and not answered yet. */
  get inFlight(): number {
    return this.count;
  }

  /** Queues a push for the group commit; `received`: when its frame arrived (the ack latency is measured from it). */
  submit(frame: PushFrame, push: Push, received: number): void {
    this.count++;
    this.host.ingest.submit(push, (outcome) => {
      this.count--;
      if (this.session.isClosed()) return;
      if (outcome instanceof Error) {
        this.session.failWith(outcome);
        return;
      }
      // The ack says what is confirmed now: the relay's commit (`synchronous_commit = local` on
      // PostgreSQL, so a relay push never waits on a standby). Higher levels follow as `confirm`.
      this.sendAck({ type: 'ack', id: frame.id, level: 'relay', results: outcome });
      if ((frame.ack === 'quorum' || frame.ack === 'all') && outcome.some((r) => r.status === 'accepted')) this.followLevel(frame);
      this.host.metrics.ackLatency.observe((this.host.options.now() - received) / 1000);
      if (this.count === 0) this.session.settled();
    });
  }

  /** Stops following levels (the session closed). */
  stop(): void {
    for (const stop of this.following) stop();
    this.following.clear();
  }

  /**
   * Sends a `confirm` for each level beyond `relay` the store confirms for the push, an
   * `ack_timeout` one when it takes longer than `ackTimeoutMs` (and goes on), or a final
   * `quorum_unavailable` naming the level reached.
   */
  private followLevel(frame: PushFrame): void {
    const following = { ended: false, stop: undefined as (() => void) | undefined };
    const stop = this.host.levels.follow(frame.ack, (confirmation) => {
      if (this.session.isClosed()) return;
      this.out.send({ type: 'confirm', id: frame.id, ...confirmation });
      if (confirmation.code !== 'quorum_unavailable' && confirmation.level !== frame.ack) return;
      following.ended = true;
      if (following.stop !== undefined) this.following.delete(following.stop);
    });
    following.stop = stop;
    if (!following.ended) this.following.add(stop);
  }

  /**
   * Sends the answer to a push within `maxFrameBytes`: one `ack`, or, when the results outgrow a
   * frame, several parts (`ackFrames`: states refusals carry are left out first).
   */
  private sendAck(ack: AckFrame): void {
    for (const text of ackFrames(ack, this.host.options.limits.maxFrameBytes)) this.out.sendText(text, 'ack');
  }
}
