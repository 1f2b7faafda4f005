import { ConvergeError, type ErrorCode, type ReplicaId } from '@converge/conflict';
import { decodeClientFrame, encodeFrame, type ClientFrame, type ErrorFrame, type HelloFrame, type PushFrame, type ReadFrame } from '@converge/protocol';
import type { Principal } from '../auth/auth.js';
import { ackRoomProblem } from './ack-parts.js';
import { CLOSE, closeCodeFor, type RelayConnection } from './connection.js';
import { EarlyFrames } from './early-frames.js';
import { shakeHands, welcomeFor } from './handshake.js';
import { Heartbeat } from './heartbeat.js';
import { OutgoingFrames } from './outgoing-frames.js';
import { PushesInFlight } from './pushes-in-flight.js';
import { answerRead } from './read-answer.js';
import type { HostedSession, SessionHost } from './session-host.js';
import type { LiveRound } from '../fan-out.js';
import { SubscriptionSet } from './subscription-set.js';
import { BehindError, Subscription } from './subscription.js';
import { TokenBucket } from './token-bucket.js';

/** One client connection: hello, then subscriptions with catch-up and live changes, pushes and reads. */
export class Session implements HostedSession {
  /** `draining`: failed, but pushes already queued still get their acks before the close. */
  private phase: 'hello' | 'auth' | 'open' | 'draining' | 'closed' = 'hello';
  private failure: { code: ErrorCode; message: string; closeCode: number } | undefined;
  private readonly early: EarlyFrames;
  private replicaId: ReplicaId | undefined;
  private principal: Principal | undefined;
  private readonly out: OutgoingFrames;
  private readonly subscriptions: SubscriptionSet;
  private readonly bucket: TokenBucket;
  private readonly heartbeat: Heartbeat;
  private readonly helloTimer: ReturnType<typeof setTimeout>;
  private readonly pushes: PushesInFlight;
  private readonly readsAfterPush: ReadFrame[] = [];

  constructor(
    private readonly host: SessionHost,
    private readonly conn: RelayConnection,
  ) {
    const { rateLimit } = host.options;
    this.bucket = new TokenBucket(rateLimit.burst, rateLimit.changesPerSecond, () => host.options.now());
    this.out = new OutgoingFrames(host, conn, {
      isOpen: () => this.phase === 'open',
      who: () => this.who(),
      fail: (code, message) => this.fail(code, message),
      close: (code, reason) => this.close(code, reason),
    });
    this.subscriptions = new SubscriptionSet(host, {
      isClosed: () => this.phase === 'closed' || this.phase === 'draining',
      readable: (collection, key) => this.readable(collection, key),
      sendChanges: (text) => this.out.sendChanges(text),
      warn: (frame) => this.out.send(frame),
      reconnect: (reason) => this.close(CLOSE.tryLater, reason),
    });
    this.early = new EarlyFrames(host.options.limits);
    this.pushes = new PushesInFlight(host, this.out, {
      isClosed: () => this.phase === 'closed',
      failWith: (error) => this.failWith(error),
      settled: () => {
        if (this.failure !== undefined) this.fail(this.failure.code, this.failure.message, this.failure.closeCode);
        else for (const read of this.readsAfterPush.splice(0)) this.read(read);
      },
    });
    conn.onMessage((text, binary) => this.receive(text, binary));
    conn.onClose(() => this.closed());
    this.helloTimer = setTimeout(() => {
      if (this.phase === 'hello') this.fail('bad_message', `hello must be the first frame, within ${host.options.helloTimeoutMs} ms`);
    }, host.options.helloTimeoutMs);
    this.heartbeat = new Heartbeat(conn, host.options.limits, host.options.now, {
      idle: () => {
        host.metrics.rejects.inc({ code: 'idle' });
        this.close(CLOSE.goingAway, 'idle timeout');
      },
      missedPong: () => {
        host.metrics.rejects.inc({ code: 'missed_pong' });
        host.log.info(this.who(), 'closing session: no pong since the last heartbeat');
        conn.terminate?.();
        this.closed();
      },
    });
  }

  get principalId(): string | undefined {
    return this.principal?.id;
  }

  /** Who this session is, for the log. */
  private who() {
    return { replicaId: this.replicaId, principal: this.principal?.id };
  }

  /** Ends the session from the relay's side (shutdown). */
  close(code: number, reason: string): void {
    if (this.phase === 'closed') return;
    this.conn.close(code, reason);
    this.closed();
  }

  private closed(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.helloTimer);
    this.heartbeat.stop();
    this.subscriptions.stop();
    this.pushes.stop();
    this.host.roster.unregister(this);
  }

  /**
   * Sends an `error` frame and closes the connection. Pushes already queued for the group
   * commit are committed whatever happens here, so their acks go out first: until then the
   * session drains (reads no more frames).
   */
  private fail(code: ErrorCode, message: string, closeCode = closeCodeFor(code), collection?: string): void {
    if (this.phase === 'closed') return;
    if (this.pushes.inFlight > 0) {
      this.failure ??= { code, message, closeCode };
      this.phase = 'draining';
      return;
    }
    this.host.metrics.rejects.inc({ code });
    this.host.log.info({ code, ...this.who() }, `closing session: ${message}`);
    this.out.sendText(encodeFrame({ type: 'error', code, message: message.slice(0, 1024), ...(collection === undefined ? {} : { collection }) }), 'error');
    this.close(closeCode, code);
  }

  private receive(text: string, binary = false): void {
    if (this.phase === 'closed' || this.phase === 'draining') return;
    this.heartbeat.heard();
    if (binary) {
      this.fail('bad_message', 'binary frames are not part of the protocol: send JSON text frames', CLOSE.unsupported);
      return;
    }
    const decoded = decodeClientFrame(text, this.host.options.limits);
    if (!decoded.ok) {
      this.fail(decoded.error.code, decoded.error.message);
      return;
    }
    const frame = decoded.value;
    this.host.metrics.framesIn.inc({ type: frame.type });
    if (this.phase === 'hello') {
      if (frame.type !== 'hello') {
        this.fail('bad_message', `the first frame must be hello, not ${frame.type}`);
        return;
      }
      this.phase = 'auth';
      this.guard(this.hello(frame));
      return;
    }
    if (this.phase === 'auth') {
      const flood = this.early.hold(frame, Buffer.byteLength(text));
      if (flood !== undefined) this.fail('rate_limited', flood);
      return;
    }
    this.dispatch(frame, Buffer.byteLength(text));
  }

  /**
   * Runs a handler; a failure closes this session only: a `ConvergeError` with its code (a
   * store that cannot answer: `quorum_unavailable`), anything else with `internal`.
   */
  private guard(work: Promise<void> | void): void {
    const onError = (error: unknown) => {
      if (this.phase !== 'closed') this.failWith(error);
    };
    if (work instanceof Promise) work.catch(onError);
  }

  /** `bytes`: the frame's size in UTF-8 bytes. */
  private dispatch(frame: ClientFrame, bytes: number): void {
    try {
      switch (frame.type) {
        case 'hello':
          this.fail('bad_message', 'hello was already received');
          return;
        case 'subscribe':
          for (const request of frame.subscriptions) this.begin(this.subscriptions.admit(this.principal!, request));
          return;
        case 'push':
          this.push(frame, bytes);
          return;
        case 'read':
          if (new Set(frame.keys).size !== frame.keys.length) {
            this.fail('bad_message', `read ${frame.id} names a key more than once`);
            return;
          }
          if (!this.spend(frame.keys.length)) return;
          // A read sees the connection's earlier pushes: it waits for their group commit.
          if (this.pushes.inFlight > 0) this.readsAfterPush.push(frame);
          else this.read(frame);
          return;
        case 'credit':
          this.subscriptions.grant(frame.collection, frame.bytes);
          return;
        case 'ping':
          this.out.send({ type: 'pong', t: frame.t });
          return;
        case 'pong':
          return;
      }
    } catch (error) {
      this.failWith(error);
    }
  }

  private async hello(frame: HelloFrame): Promise<void> {
    const handshake = await shakeHands(this.host, frame);
    if (this.phase === 'closed') return;
    if (!handshake.ok) {
      this.fail(handshake.code, handshake.message);
      return;
    }
    const { principal, protocol } = handshake;
    this.principal = principal;
    this.replicaId = frame.replicaId;
    if (!this.host.roster.register(this)) {
      this.fail('rate_limited', `principal ${principal.id} has too many connections`);
      return;
    }
    // Subscriptions are admitted, their cursors judged, before `welcome`: a cursor that proves
    // lost data opens the recovery window, and `welcome.recovery` says so.
    const admitted = frame.subscriptions.map((request) => this.subscriptions.admit(this.principal!, request));
    await Promise.all(admitted.map((subscription) => (subscription instanceof Subscription ? subscription.judgeCursor() : undefined)));
    const welcome = await welcomeFor(this.host, frame, protocol, principal);
    // Closed meanwhile (TypeScript keeps the narrowing across the awaits).
    if ((this.phase as Session['phase']) === 'closed') return;
    this.phase = 'open';
    this.out.send(welcome);
    this.host.log.info(
      { principal: principal.id, replicaId: frame.replicaId, collections: frame.subscriptions.map((s) => s.collection) },
      `client connected: ${principal.id} as ${frame.replicaId}`,
    );
    for (const subscription of admitted) this.begin(subscription);
    for (const { frame: early, bytes } of this.early.release()) this.dispatch(early, bytes);
  }

  /** Starts an admitted subscription's catch-up, or sends its refusal. */
  private begin(admitted: Subscription | ErrorFrame | undefined): void {
    if (admitted instanceof Subscription) this.guard(admitted.start());
    else if (admitted !== undefined) this.out.send(admitted);
  }

  private readable(collection: string, key: string): boolean {
    return this.host.auth.authorize(this.principal!, collection, key, 'read');
  }

  /** Sends the live changes of one fan-out round to every live subscription of this session. */
  deliverLive(round: LiveRound): void {
    if (this.phase !== 'open' || this.out.overCap()) return;
    for (const text of this.subscriptions.liveFrames(round)) if (!this.out.sendChanges(text)) return;
  }

  /**
   * Takes `n` changes (a push of n changes, a read of n keys) from the connection's and the
   * principal's token buckets; when either is empty, closes the session with `rate_limited`.
   */
  private spend(n: number): boolean {
    // Anonymous connections share no identity, so they are limited per connection only.
    const principalOk = this.host.auth.anonymous || this.host.roster.principalBucket(this.principal!.id).take(n);
    if (this.bucket.take(n) && principalOk) return true;
    this.fail('rate_limited', 'too many changes and reads: slow down');
    return false;
  }

  private push(frame: PushFrame, frameBytes: number): void {
    const received = this.host.options.now();
    if (!this.spend(frame.changes.length)) return;
    // Refused before anything is stored: an answer that no frame could carry (tiny frame limits only).
    const noRoom = ackRoomProblem(frame.id, frame.changes, this.host.options.limits.maxFrameBytes);
    if (noRoom !== undefined) {
      this.fail('payload_too_large', noRoom);
      return;
    }
    const push = { replicaId: this.replicaId!, principal: this.principal!, changes: frame.changes, frameBytes };
    this.pushes.submit(frame, push, received);
  }

  /** Closes the session for an error thrown while handling one of its frames. */
  private failWith(error: unknown): void {
    if (error instanceof BehindError) {
      this.fail(error.code, error.message, CLOSE.tryLater, error.collection);
      return;
    }
    if (error instanceof ConvergeError && error.code !== 'internal') {
      this.fail(error.code, error.message);
      return;
    }
    this.host.log.error({ err: error, replicaId: this.replicaId }, 'session failed');
    this.fail('internal', 'the relay failed to handle a frame');
  }

  private read(frame: ReadFrame): void {
    this.guard(
      answerRead(this.host.store, this.host.options.limits, frame, (key) => this.readable(frame.collection, key)).then((answer) => {
        if (this.phase !== 'open') return;
        if (answer.type === 'error') this.host.metrics.rejects.inc({ code: answer.code });
        this.out.send(answer);
      }),
    );
  }
}
