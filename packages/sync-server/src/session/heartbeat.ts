import type { RelayLimits } from '@converge/protocol';
import type { RelayConnection } from './connection.js';

/** What the session does when its heartbeat finds the connection dead. */
export interface HeartbeatEnds {
  /** Nothing was heard for `idleTimeoutMs`. */
  idle(): void;
  /** The last beat's ping got no pong. */
  missedPong(): void;
}

/**
 * A connection's heartbeat, every `heartbeatMs`: a connection silent for `idleTimeoutMs` is
 * idle; over a transport with pings, a ping that got no pong by the next beat means the peer
 * is gone without a close, or does not read its socket (the ping waits behind the bytes it
 * has not read).
 */
export class Heartbeat {
  private lastHeard: number;
  private awaitingPong = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly conn: RelayConnection,
    private readonly limits: Pick<RelayLimits, 'heartbeatMs' | 'idleTimeoutMs'>,
    private readonly now: () => number,
    private readonly ends: HeartbeatEnds,
  ) {
    this.lastHeard = now();
    this.timer = setInterval(() => this.beat(), limits.heartbeatMs);
  }

  /** A frame arrived. */
  heard(): void {
    this.lastHeard = this.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    if (this.now() - this.lastHeard > this.limits.idleTimeoutMs) {
      this.ends.idle();
      return;
    }
    if (this.conn.ping === undefined) return;
    if (this.awaitingPong) {
      this.ends.missedPong();
      return;
    }
    this.awaitingPong = true;
    this.conn.ping(() => {
      this.awaitingPong = false;
    });
  }
}
