import { ConvergeError, type ReplicaId } from '@converge/conflict';
import type { ClientFrame, ErrorFrame, RelayFrame, WelcomeFrame } from '@converge/protocol';
import { Handshake } from './handshake.js';
import { Heartbeat } from './heartbeat.js';
import { PushLoop } from './push-loop.js';
import { RelayReads } from './relay-reads.js';
import type { SessionContext, SessionEnd, SessionLimits, SessionOptions } from './session-context.js';
import { Subscriptions } from './subscriptions.js';
import { Unconfirmed } from './unconfirmed.js';
import type { SyncHost } from './sync-host.js';
import type { Transport, TransportConnection } from './transport.js';
import { decodeRelayText, encodeClientFrame } from './wire.js';

export type { SessionEnd, SessionOptions } from './session-context.js';

/** How the session ends after an `error` frame that names no read and no single subscription. */
function endAfter(frame: ErrorFrame, error: ConvergeError, phase: string): SessionEnd {
  switch (frame.code) {
    case 'unauthorized':
      return { kind: 'auth', error };
    case 'rate_limited':
    case 'behind':
      return { kind: 'slow', error };
    case 'bad_message':
    case 'forbidden':
      return { kind: phase === 'hello' ? 'fatal' : 'retry', error }; // refused at hello: a configuration error
    default:
      return { kind: 'retry', error };
  }
}

/**
 * One connection to the relay, from `hello` to close. Frames are decoded here and handled one
 * at a time, in arrival order, by the parts the session composes: the `Handshake` (hello and
 * welcome), the `Subscriptions` (catch-up and live changes), the `PushLoop` (pushes and acks)
 * and the `RelayReads` (leader reads); the session keeps the phase, the heartbeat and the end.
 */
export class SyncSession implements SessionContext {
  readonly ended: Promise<SessionEnd>;
  #end!: (end: SessionEnd) => void;
  readonly #conn: TransportConnection;
  #phase: 'opening' | 'hello' | 'open' | 'closed' = 'opening';
  #queue: Promise<void> = Promise.resolve();
  #limits: SessionLimits;
  #helloId: ReplicaId | undefined;
  readonly #connectTimer: ReturnType<typeof setTimeout>;
  readonly #heartbeat: Heartbeat;
  readonly #handshake: Handshake;
  readonly #push: PushLoop;
  readonly #subs: Subscriptions;
  readonly #reads: RelayReads;

  constructor(
    readonly host: SyncHost,
    transport: Transport,
    readonly options: SessionOptions,
    /** Writes whose `confirm` an earlier session cut off: this session asks again, and leaves here what it cuts off. */
    unconfirmed = new Unconfirmed(),
  ) {
    this.ended = new Promise((resolve) => (this.#end = resolve));
    this.#limits = options.sync.preWelcome;
    this.#handshake = new Handshake(this);
    this.#push = new PushLoop(this, unconfirmed);
    this.#subs = new Subscriptions(this, this.#push);
    this.#reads = new RelayReads(this);
    this.#heartbeat = new Heartbeat(
      () => host.now(),
      () => this.send({ type: 'ping', t: Math.max(0, Math.floor(host.now())) }),
      (quiet) => this.close({ kind: 'retry', error: new ConvergeError('timeout', `no frame from the relay for ${quiet} ms: the connection is dead`) }),
    );
    this.#conn = transport.open({
      onOpen: () => this.enqueue(() => this.#hello()),
      onMessage: (text) => this.#receive(text),
      // After the frames before it: an `error` frame the relay sent before closing decides how to reconnect.
      onClose: (code, reason) =>
        this.enqueue(() =>
          this.#finish({ kind: 'retry', ...(code === 1000 ? {} : { error: new ConvergeError('offline', `connection closed (${code}) ${reason}`) }) }),
        ),
    });
    this.#connectTimer = setTimeout(() => {
      if (this.#phase === 'opening' || this.#phase === 'hello')
        this.close({ kind: 'retry', error: new ConvergeError('timeout', `the relay did not answer within ${options.connectTimeoutMs} ms`) });
    }, options.connectTimeoutMs);
  }

  get open(): boolean {
    return this.#phase === 'open';
  }

  get closed(): boolean {
    return this.#phase === 'closed';
  }

  get limits(): SessionLimits {
    return this.#limits;
  }

  get helloId(): ReplicaId {
    if (this.#helloId === undefined) throw new ConvergeError('internal', 'no hello was sent on this connection');
    return this.#helloId;
  }

  /** Ends the session and closes the connection. */
  close(end: SessionEnd): void {
    if (this.closed) return;
    this.#finish(end);
    this.#conn.close(1000, end.kind);
  }

  #finish(end: SessionEnd): void {
    if (this.closed) return;
    this.#phase = 'closed';
    clearTimeout(this.#connectTimer);
    this.#heartbeat.stop();
    this.#push.stop();
    this.#reads.rejectAll(new ConvergeError('offline', 'the connection to the relay closed before it answered'));
    this.#end(end);
  }

  enqueue(work: () => Promise<void> | void): void {
    this.#queue = this.#queue
      .then(() => (this.closed ? undefined : work()))
      .catch((error: unknown) => {
        const converge = error instanceof ConvergeError ? error : new ConvergeError('internal', `sync failed: ${(error as Error)?.message}`, { cause: error });
        this.close({ kind: converge.code === 'storage_quota' ? 'slow' : 'retry', error: converge });
      });
  }

  send(frame: ClientFrame): void {
    this.#conn.send(encodeClientFrame(frame));
  }

  sendText(text: string): void {
    this.#conn.send(text);
  }

  #receive(text: string): void {
    if (this.closed) return;
    this.#heartbeat.heard();
    const decoded = decodeRelayText(text, this.#limits);
    if (!decoded.ok) {
      this.close({ kind: 'retry', error: new ConvergeError(decoded.error.code, `the relay sent an invalid frame: ${decoded.error.message}`) });
      return;
    }
    const { frame, bytes } = decoded.value;
    if (frame.type === 'ping') this.send({ type: 'pong', t: frame.t });
    else if (frame.type !== 'pong') this.enqueue(() => this.#handle(frame, bytes));
  }

  async #handle(frame: RelayFrame, bytes: number): Promise<void> {
    switch (frame.type) {
      case 'welcome':
        return this.#welcome(frame);
      case 'changes':
        await this.#subs.changes(frame, bytes);
        return this.#push.next();
      case 'ack':
        return this.#push.ack(frame);
      case 'confirm':
        return this.#push.confirm(frame);
      case 'read-result':
        return this.#reads.answer(frame);
      case 'error':
        return this.#error(frame);
      default:
        return;
    }
  }

  async #hello(): Promise<void> {
    if (this.#phase !== 'opening') return;
    const hello = await this.#handshake.hello();
    if (hello === undefined || this.#phase !== 'opening') return;
    this.#helloId = hello.sent.replicaId;
    this.#subs.begin(hello.sent.subscriptions);
    this.#phase = 'hello';
    this.send(hello.frame);
  }

  async #welcome(frame: WelcomeFrame): Promise<void> {
    if (this.#phase !== 'hello') {
      this.close({ kind: 'retry', error: new ConvergeError('bad_message', 'welcome arrived twice') });
      return;
    }
    this.#limits = frame.limits; // frames that follow are decoded within the relay's limits
    if ((await this.#handshake.welcome(frame)) !== 'open' || this.closed) return;
    this.#subs.afterWelcome(frame);
    this.#phase = 'open';
    this.host.error(undefined);
    this.host.connection('syncing');
    this.host.positions(this.#subs.positions());
    this.#heartbeat.start(this.#limits.heartbeatMs);
    await this.#push.next();
  }

  #error(frame: ErrorFrame): void {
    const error = new ConvergeError(frame.code, frame.message, frame.collection === undefined ? {} : { path: `collections.${frame.collection}` });
    if (this.#reads.refused(frame.id, error)) return;
    if (frame.collection !== undefined && (frame.code === 'forbidden' || frame.code === 'rate_limited') && this.#subs.refused(frame.collection)) {
      // The relay refused one subscription; the others go on.
      this.host.error(error);
      this.updateSynced();
      return;
    }
    this.close(endAfter(frame, error, this.#phase));
  }

  async replaceIdentity(): Promise<void> {
    const result = await this.host.replica.resetIdentity(this.helloId);
    if (result !== undefined) {
      this.host.replicaChanged(result.changes);
      this.host.rewritten(result.rewritten);
    }
    this.close({ kind: 'now' });
  }

  get caughtUp(): boolean {
    return this.#subs.caughtUp;
  }

  updateSynced(): void {
    if (this.open && this.#subs.caughtUp && this.#push.idle) this.host.connection('synced');
  }

  /** Reads keys from the relay (the leader), merging what it holds into the replica. */
  read(collection: string, keys: readonly string[]): Promise<void> {
    return this.#reads.read(collection, keys);
  }

  /** Follows one more collection (one the app started using after connect). */
  subscribe(collection: string): void {
    if (this.open && !this.#subs.has(collection)) this.host.connection('syncing');
    this.enqueue(() => (this.#phase === 'opening' ? undefined : this.#subs.add(collection)));
  }

  /** The outbox changed: push if nothing is in flight. */
  kick(): void {
    this.enqueue(() => this.#push.next());
  }
}
