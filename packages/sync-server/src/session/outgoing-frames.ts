import type { ReplicaId } from '@converge/conflict';
import { encodeFrame, type RelayFrame } from '@converge/protocol';
import { CLOSE, type RelayConnection } from './connection.js';
import type { SessionHost } from './session-host.js';

/** What a session's outgoing frames need from it. */
export interface SendingSession {
  /** `changes` go out only while the session is open. */
  isOpen(): boolean;
  /** Who the session is, for the log. */
  who(): { replicaId: ReplicaId | undefined; principal: string | undefined };
  /** Fails the session: an `error` frame and a close (once its pushes in flight are answered). */
  fail(code: 'internal', message: string): void;
  close(code: number, reason: string): void;
}

/**
 * The frames a session sends, each counted. None leaves above the `maxFrameBytes` the relay
 * announced, and a connection that does not read its socket fast enough is closed (1013).
 */
export class OutgoingFrames {
  constructor(
    private readonly host: SessionHost,
    private readonly conn: RelayConnection,
    private readonly session: SendingSession,
  ) {}

  /**
   * Encodes and sends a frame. No frame leaves above the `maxFrameBytes` the relay announced:
   * frames that can grow are sized before they are built, so this is the last guard.
   */
  send(frame: RelayFrame): void {
    const text = encodeFrame(frame);
    if (Buffer.byteLength(text) > this.host.options.limits.maxFrameBytes) {
      this.host.log.error({ type: frame.type, replicaId: this.session.who().replicaId }, 'refusing to send a frame above maxFrameBytes');
      this.session.fail('internal', `the relay's ${frame.type} frame would exceed maxFrameBytes`);
      return;
    }
    this.sendText(text, frame.type);
  }

  sendText(text: string, type: RelayFrame['type']): void {
    this.host.metrics.framesOut.inc({ type });
    this.conn.send(text);
  }

  /**
   * Sends a `changes` frame (catch-up or live). A connection that already holds more than
   * `maxBufferedBytes` of unsent bytes — it does not read its socket fast enough — is closed
   * instead (1013), in catch-up as in live delivery: it reconnects and catches up from its cursor.
   */
  sendChanges(text: string): boolean {
    if (!this.session.isOpen() || this.overCap()) return false;
    this.sendText(text, 'changes');
    return true;
  }

  /** Closes the connection (1013) when it holds more than its cap of unsent bytes; true when it did. */
  overCap(): boolean {
    if (this.conn.bufferedAmount <= this.host.options.maxBufferedBytes) return false;
    this.host.metrics.rejects.inc({ code: 'slow_consumer' });
    this.host.log.info(this.session.who(), 'closing session: slow consumer');
    this.session.close(CLOSE.tryLater, 'slow consumer: reconnect and catch up from your cursor');
    return true;
  }
}
