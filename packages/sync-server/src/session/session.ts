import { ConvergeError, type ErrorCode, type ReplicaId } from '@converge/conflict';
import {
  decodeClientFrame,
  encodeFrame,
  negotiateProtocol,
  type ChangedDoc,
  type ClientFrame,
  type CollectionInfo,
  type HelloFrame,
  type PushFrame,
  type ReadFrame,
  type RelayFrame,
  type Subscription,
  utf8ByteLength,
} from '@converge/protocol';
import type { Principal } from '../auth/auth.js';
import type { CommittedChange } from '../push-ingest.js';
import { parseStored } from '../stored-state.js';
import type { RelayConnection } from './connection.js';
import { signCursor, verifyCursor, type LogId } from './cursor-mac.js';
import type { SessionHost } from './session-host.js';
import { TokenBucket } from './token-bucket.js';

/** WebSocket close codes the relay uses. */
export const CLOSE = { normal: 1000, goingAway: 1001, policy: 1008, tooBig: 1009, internal: 1011, tryLater: 1013 } as const;

interface SubState {
  readonly log: LogId;
  phase: 'catchup' | 'live';
  /** Everything with seq ≤ watermark has been sent (or is invisible to this subscription). */
  watermark: number;
  credit: number;
  wake: (() => void) | undefined;
  readonly started: number;
}

/** One fan-out round: the changes committed since the last round, by collection, in commit order. */
export interface LiveRound {
  readonly changes: ReadonlyMap<string, readonly CommittedChange[]>;
  /** The collection's head seq now (read once per round). */
  head(collection: string): number;
  /** Encoded frames of this round, shared by subscribers that get the same one. */
  readonly frames: Map<string, string>;
}

const subKey = (collection: string, prefix: string | undefined) => `${collection}\u0000${prefix ?? ''}`;

/** One client connection: hello, then subscriptions with catch-up and live changes, pushes and reads. */
export class Session {
  private phase: 'hello' | 'auth' | 'open' | 'closed' = 'hello';
  private readonly early: { frame: ClientFrame; textLength: number }[] = [];
  private replicaId: ReplicaId | undefined;
  private principal: Principal | undefined;
  private readonly subs = new Map<string, SubState>();
  private readonly bucket: TokenBucket;
  private lastHeard: number;
  private awaitingPong = false;
  private readonly timers: ReturnType<typeof setTimeout>[] = [];
  private pushesInFlight = 0;
  private readonly readsAfterPush: ReadFrame[] = [];

  constructor(
    private readonly host: SessionHost,
    private readonly conn: RelayConnection,
  ) {
    const { rateLimit } = host.options;
    this.bucket = new TokenBucket(rateLimit.burst, rateLimit.changesPerSecond, () => host.now());
    this.lastHeard = host.now();
    conn.onMessage((text) => this.receive(text));
    conn.onClose(() => this.closed());
    this.timers.push(
      setTimeout(() => {
        if (this.phase === 'hello') this.fail('bad_message', `hello must be the first frame, within ${host.options.helloTimeoutMs} ms`);
      }, host.options.helloTimeoutMs),
    );
    const beat = setInterval(() => this.heartbeat(), host.limits.heartbeatMs);
    this.timers.push(beat);
  }

  get principalId(): string | undefined {
    return this.principal?.id;
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
    for (const timer of this.timers) clearTimeout(timer);
    for (const sub of this.subs.values()) sub.wake?.();
    this.host.unregister(this);
  }

  private heartbeat(): void {
    const now = this.host.now();
    if (now - this.lastHeard > this.host.limits.idleTimeoutMs) {
      this.host.metrics.rejects.inc({ code: 'idle' });
      this.close(CLOSE.goingAway, 'idle timeout');
      return;
    }
    if (this.conn.ping === undefined) return;
    if (this.awaitingPong) {
      // No pong since the last beat: the peer is gone without a close.
      this.conn.terminate?.();
      this.closed();
      return;
    }
    this.awaitingPong = true;
    this.conn.ping(() => {
      this.awaitingPong = false;
    });
  }

  /** Encodes and sends a frame; returns the text sent. */
  private send(frame: RelayFrame, done?: (error?: Error) => void): string {
    const text = encodeFrame(frame);
    this.sendText(text, frame.type, done);
    return text;
  }

  private sendText(text: string, type: RelayFrame['type'], done?: (error?: Error) => void): void {
    this.host.metrics.framesOut.inc({ type });
    this.conn.send(text, done);
  }

  /** Sends an `error` frame and closes the connection. */
  private fail(
    code: ErrorCode,
    message: string,
    closeCode: number = code === 'payload_too_large' ? CLOSE.tooBig : code === 'internal' ? CLOSE.internal : CLOSE.policy,
  ): void {
    if (this.phase === 'closed') return;
    this.host.metrics.rejects.inc({ code });
    this.host.log.info({ code, replicaId: this.replicaId, principal: this.principal?.id }, `closing session: ${message}`);
    this.send({ type: 'error', code, message });
    this.close(closeCode, code);
  }

  private receive(text: string): void {
    if (this.phase === 'closed') return;
    this.lastHeard = this.host.now();
    const decoded = decodeClientFrame(text, this.host.limits);
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
      this.early.push({ frame, textLength: text.length });
      return;
    }
    this.dispatch(frame, text.length);
  }

  /** Runs a handler; an unexpected exception closes this session only, with `internal`. */
  private guard(work: Promise<void> | void): void {
    const onError = (error: unknown) => {
      this.host.log.error({ err: error, replicaId: this.replicaId }, 'session failed');
      this.fail('internal', 'the relay failed to handle a frame');
    };
    if (work instanceof Promise) work.catch(onError);
  }

  /** `textLength`: the frame's length in UTF-16 units (≤ its UTF-8 bytes ≤ 3 × that). */
  private dispatch(frame: ClientFrame, textLength: number): void {
    try {
      switch (frame.type) {
        case 'hello':
          this.fail('bad_message', 'hello was already received');
          return;
        case 'subscribe':
          for (const sub of frame.subscriptions) this.subscribe(sub);
          return;
        case 'push':
          this.push(frame, textLength);
          return;
        case 'read':
          // A read sees the connection's earlier pushes: it waits for their group commit.
          if (this.pushesInFlight > 0) this.readsAfterPush.push(frame);
          else this.read(frame);
          return;
        case 'credit':
          for (const sub of this.subs.values()) {
            if (frame.collection !== undefined && frame.collection !== sub.log.collection) continue;
            sub.credit += frame.bytes;
            const wake = sub.wake;
            sub.wake = undefined;
            wake?.();
          }
          return;
        case 'ping':
          this.send({ type: 'pong', t: frame.t });
          return;
        case 'pong':
          return;
      }
    } catch (error) {
      this.failWith(error);
    }
  }

  private async hello(frame: HelloFrame): Promise<void> {
    const protocol = negotiateProtocol(frame.protocol);
    if (protocol === undefined) {
      this.fail('bad_message', `protocol ${frame.protocol} is not supported`);
      return;
    }
    const principal = await this.host.auth.authenticate(frame.token);
    if (this.phase === 'closed') return;
    if (principal === undefined) {
      this.fail('unauthorized', 'the token was refused');
      return;
    }
    for (const [name, declared] of Object.entries(frame.collections ?? {})) {
      const config = this.host.collections.get(name);
      if (config.mode !== declared.mode || config.strategy !== declared.strategy) {
        this.fail(
          'bad_message',
          `collection ${name} is ${config.mode}/${config.strategy} at the relay; the client declared ${declared.mode}/${declared.strategy}`,
        );
        return;
      }
    }
    if (!this.host.auth.anonymous) {
      // A replica id is bound to the first principal that used it: nobody else mints its dots.
      if (this.host.store.claimReplica(frame.replicaId, principal.id) !== principal.id) {
        this.fail('forbidden', `replica id ${frame.replicaId} belongs to another principal`);
        return;
      }
    }
    this.principal = principal;
    this.replicaId = frame.replicaId;
    if (!this.host.register(this)) {
      this.fail('rate_limited', `principal ${principal.id} has too many connections`);
      return;
    }
    const store = this.host.store;
    const collections: Record<string, CollectionInfo> = Object.create(null) as Record<string, CollectionInfo>;
    const names = new Set([...this.host.collections.declared().keys(), ...frame.subscriptions.map((s) => s.collection)]);
    // A collection the principal may not read is announced with head 0: its log's length is data too.
    for (const name of names) {
      const head = this.host.auth.authorize(principal, name, undefined, 'read') ? store.head(name).seq : 0;
      collections[name] = { ...this.host.collections.get(name), head };
    }
    this.phase = 'open';
    this.send({
      type: 'welcome',
      protocol,
      relayId: this.host.relayId,
      lineage: store.lineage,
      epoch: 0,
      now: this.host.now(),
      writeNumber: store.writeNumber(frame.replicaId),
      ...(this.host.recoveryOpen() ? { recovery: true } : {}),
      limits: this.host.limits,
      collections,
    });
    for (const sub of frame.subscriptions) this.subscribe(sub);
    for (const { frame: early, textLength } of this.early.splice(0)) this.dispatch(early, textLength);
  }

  private subscribe(sub: Subscription): void {
    const { collection } = sub;
    const prefix = sub.filter?.prefix;
    if (!this.host.auth.authorize(this.principal!, collection, undefined, 'read')) {
      this.host.metrics.rejects.inc({ code: 'forbidden' });
      this.send({ type: 'error', code: 'forbidden', message: `principal ${this.principal!.id} may not read ${collection}`, collection });
      return;
    }
    const key = subKey(collection, prefix);
    if (this.subs.has(key)) return;
    if (this.subs.size >= this.host.options.maxSubscriptions) {
      this.host.metrics.rejects.inc({ code: 'rate_limited' });
      this.send({ type: 'error', code: 'rate_limited', message: `at most ${this.host.options.maxSubscriptions} subscriptions per connection`, collection });
      return;
    }
    const log: LogId = { collection, prefix };
    const { afterSeq, resync } = this.startingPoint(log, sub);
    const state: SubState = {
      log,
      phase: 'catchup',
      watermark: afterSeq,
      credit: this.host.limits.catchupWindowBytes,
      wake: undefined,
      started: this.host.now(),
    };
    this.subs.set(key, state);
    this.guard(this.catchUp(state, resync));
  }

  /**
   * Where a subscription's catch-up starts. A cursor from another lineage, with a bad MAC,
   * beyond the head or off the log's chain hash restarts from 0 with `resync`, so the client
   * re-pushes its states. Only a validly signed cursor proves the relay lost data (beyond the
   * head, or a chain-hash fork) and opens the recovery window; an unsigned claim opens nothing.
   */
  private startingPoint(log: LogId, sub: Subscription): { afterSeq: number; resync: boolean } {
    const cursor = sub.cursor;
    if (cursor === null) return { afterSeq: 0, resync: false };
    const store = this.host.store;
    if (cursor.lineage !== store.lineage || !verifyCursor(this.host.cursorSecret, log, cursor)) return { afterSeq: 0, resync: true };
    const head = store.head(log.collection);
    if (cursor.seq > head.seq) {
      this.host.openRecoveryWindow('cursor_beyond_head', { collection: log.collection, cursor: cursor.seq, head: head.seq });
      return { afterSeq: 0, resync: true };
    }
    if (store.hashAt(log.collection, cursor.seq) !== cursor.hash) {
      this.host.openRecoveryWindow('chain_hash_mismatch', { collection: log.collection, cursor: cursor.seq });
      return { afterSeq: 0, resync: true };
    }
    return { afterSeq: cursor.seq, resync: false };
  }

  private cursorAt(log: LogId, seq: number) {
    const store = this.host.store;
    return signCursor(this.host.cursorSecret, log, store.lineage, seq, store.hashAt(log.collection, seq) ?? '0');
  }

  private readable(collection: string, key: string): boolean {
    return this.host.auth.authorize(this.principal!, collection, key, 'read');
  }

  /** Streams every key with seq > the cursor, in batches within the client's credit, then goes live. */
  private async catchUp(sub: SubState, resync: boolean): Promise<void> {
    const { collection, prefix } = sub.log;
    const store = this.host.store;
    const { catchupBatchSize } = this.host.options;
    const maxBytes = Math.floor(this.host.limits.maxFrameBytes / 2);
    let first = true;
    for (;;) {
      if (this.phase === 'closed') return;
      if (sub.credit <= 0) {
        await new Promise<void>((resolve) => (sub.wake = resolve));
        continue;
      }
      const scanned = store.scan(collection, sub.watermark, catchupBatchSize, prefix);
      const docs: ChangedDoc[] = [];
      let bytes = 0;
      let consumed = 0;
      let last = sub.watermark;
      for (const doc of scanned) {
        if (consumed > 0 && bytes + doc.state.length > maxBytes) break;
        consumed++;
        last = doc.seq;
        bytes += doc.state.length;
        if (this.readable(collection, doc.key)) docs.push({ key: doc.key, seq: doc.seq, state: parseStored(doc) });
      }
      const done = consumed === scanned.length && scanned.length < catchupBatchSize;
      const watermark = done ? store.head(collection).seq : last;
      const frame: RelayFrame = {
        type: 'changes',
        collection,
        phase: 'catchup',
        docs,
        watermark,
        cursor: this.cursorAt(sub.log, watermark),
        ...(done ? { done: true as const } : {}),
        ...(first && resync ? { resync: true as const } : {}),
      };
      first = false;
      sub.watermark = watermark;
      if (done) {
        sub.credit -= utf8ByteLength(this.send(frame));
        sub.phase = 'live';
        this.host.metrics.catchupDuration.observe((this.host.now() - sub.started) / 1000);
        return;
      }
      // Wait until the batch is written out: at most one batch per subscription in flight.
      await new Promise<void>((resolve) => {
        sub.credit -= utf8ByteLength(this.send(frame, () => resolve()));
      });
    }
  }

  /**
   * Sends the live changes of one fan-out round (every change committed since the last), one
   * frame per subscription. Subscribers of the same log that see the same changes get the same
   * frame text: `frames` caches it, so it is encoded (and its cursor signed) once per round.
   */
  deliverLive(round: LiveRound): void {
    if (this.phase !== 'open') return;
    if (this.conn.bufferedAmount > this.host.options.maxBufferedBytes) {
      this.host.metrics.rejects.inc({ code: 'slow_consumer' });
      this.close(CLOSE.tryLater, 'slow consumer: reconnect and catch up from your cursor');
      return;
    }
    for (const sub of this.subs.values()) {
      if (sub.phase !== 'live') continue;
      const changes = round.changes.get(sub.log.collection);
      if (changes === undefined) continue;
      const { prefix, collection } = sub.log;
      const docs = changes.filter((c) => c.seq > sub.watermark && (prefix === undefined || c.key.startsWith(prefix)) && this.readable(collection, c.key));
      if (docs.length === 0) continue;
      const watermark = Math.max(sub.watermark, round.head(collection));
      sub.watermark = watermark;
      const id = `${collection}\u0000${prefix ?? ''}\u0000${watermark}\u0000${docs.map((d) => d.seq).join(',')}`;
      let text = round.frames.get(id);
      if (text === undefined) {
        const docList = docs.map((d) => ({ key: d.key, seq: d.seq, state: d.state }));
        text = encodeFrame({ type: 'changes', collection, phase: 'live', docs: docList, watermark, cursor: this.cursorAt(sub.log, watermark) });
        round.frames.set(id, text);
      }
      this.sendText(text, 'changes');
    }
  }

  private push(frame: PushFrame, textLength: number): void {
    const received = this.host.now();
    const n = frame.changes.length;
    // Anonymous connections share no identity, so they are limited per connection only.
    const principalOk = this.host.auth.anonymous || this.host.principalBucket(this.principal!.id).take(n);
    if (!this.bucket.take(n) || !principalOk) {
      this.fail('rate_limited', 'too many changes: slow down');
      return;
    }
    this.pushesInFlight++;
    const push = { replicaId: this.replicaId!, principal: this.principal!, changes: frame.changes, frameBytes: 3 * textLength };
    this.host.submit(push, (outcome) => {
      this.pushesInFlight--;
      if (this.phase === 'closed') return;
      if (outcome instanceof Error) {
        this.failWith(outcome);
        return;
      }
      this.send({ type: 'ack', id: frame.id, level: frame.ack === 'local' ? 'relay' : frame.ack, results: outcome });
      this.host.metrics.ackLatency.observe((this.host.now() - received) / 1000);
      if (this.pushesInFlight === 0) for (const read of this.readsAfterPush.splice(0)) this.read(read);
    });
  }

  /** Closes the session for an error thrown while handling one of its frames. */
  private failWith(error: unknown): void {
    if (error instanceof ConvergeError && error.code !== 'internal') {
      this.fail(error.code, error.message);
      return;
    }
    this.host.log.error({ err: error, replicaId: this.replicaId }, 'session failed');
    this.fail('internal', 'the relay failed to handle a frame');
  }

  private read(frame: ReadFrame): void {
    const denied = frame.keys.find((key) => !this.readable(frame.collection, key));
    if (denied !== undefined) {
      this.host.metrics.rejects.inc({ code: 'forbidden' });
      this.send({ type: 'error', code: 'forbidden', message: `may not read ${frame.collection}/${denied}`, id: frame.id, collection: frame.collection });
      return;
    }
    const docs = frame.keys.map((key) => {
      const doc = this.host.store.get(frame.collection, key);
      return { key, seq: doc?.seq ?? 0, state: doc === undefined ? null : parseStored(doc) };
    });
    this.send({ type: 'read-result', id: frame.id, collection: frame.collection, docs });
  }
}
