import { ConvergeError, type ReplicaId } from '@converge/conflict';
import {
  DEFAULT_DECODE_LIMITS,
  settledDot,
  type AckFrame,
  type AckLevel,
  type ChangesFrame,
  type ConfirmFrame,
  type Cursor,
  type ErrorFrame,
  type ReadResultFrame,
  type RelayFrame,
  type RelayLimits,
  type WelcomeFrame,
} from '@converge/protocol';
import { declarationOf } from '../collection-spec.js';
import type { SettledChange } from '../replica/settle.js';
import { cursorKey, META, type DocRecord, type OutboxEntry, type ReplicaRecord } from '../storage/storage-adapter.js';
import { AwaitedResults } from './ack-results.js';
import { planPush, squash, type PlannedChange } from './push-builder.js';
import { Heartbeat } from './heartbeat.js';
import { RelayReads } from './relay-reads.js';
import { resyncChanges } from './resync.js';
import type { SyncHost } from './sync-host.js';
import type { Transport, TransportConnection } from './transport.js';
import { CLIENT_PROTOCOL, decodeRelayText, encodeClientFrame } from './wire.js';

/** How a session ended, which decides when the engine reconnects. */
export type SessionEnd =
  | { readonly kind: 'retry'; readonly error?: ConvergeError } // backoff
  | { readonly kind: 'slow'; readonly error?: ConvergeError } // longer backoff (rate limited, relay behind)
  | { readonly kind: 'now'; readonly error?: ConvergeError } // reconnect at once (new replica id, fresh clock, fresh token)
  | { readonly kind: 'auth'; readonly error: ConvergeError } // unauthorized: refresh the token
  | { readonly kind: 'fatal'; readonly error: ConvergeError } // configuration error: stop until resume()
  | { readonly kind: 'stopped' };

/** The limits a session uses. */
type SessionLimits = Pick<RelayLimits, 'maxFrameBytes' | 'maxChangesPerFrame' | 'heartbeatMs'>;

/** Used until the first `welcome`. */
const PRE_WELCOME_LIMITS: SessionLimits = { ...DEFAULT_DECODE_LIMITS, heartbeatMs: 15_000 };

interface Sub {
  readonly collection: string;
  readonly cursorKey: string;
  cursor: Cursor | null;
  caughtUp: boolean;
  resync: boolean;
}

type Entry = OutboxEntry & { readonly id: number };

interface InFlight {
  readonly id: string;
  /** The changes still waiting for their result (the answer may come in parts). */
  readonly awaited: AwaitedResults;
  /** A re-push of full states after the relay lost data (results are not outbox writes). */
  readonly resync: boolean;
  /** Some writes of an earlier part stay queued for a transient reason: retry once the answer is complete. */
  retry: boolean;
  /** The level the push asked for. */
  readonly wanted: AckLevel;
}

/** A write the relay accepted, waiting for `confirm` frames to raise its level. */
interface Confirming {
  readonly wanted: AckLevel;
  readonly writes: { readonly writeId: string; readonly collection: string; readonly key: string }[];
}

const LEVELS: readonly AckLevel[] = ['local', 'relay', 'quorum', 'all'];
const rank = (level: AckLevel) => LEVELS.indexOf(level);

export interface SessionOptions {
  readonly connectTimeoutMs: number;
  readonly readTimeoutMs: number;
  /** Most changes per push (lowered after `rate_limited`, so a push fits the relay's token bucket). */
  readonly maxChangesPerPush: number;
}

/**
 * One connection to the relay, from `hello` to close: the handshake and its checks, catch-up
 * and live changes per subscription, pushes (one in flight), reads and heartbeats. Frames are
 * handled one at a time, in arrival order; each is applied in one storage transaction.
 */
export class SyncSession {
  readonly ended: Promise<SessionEnd>;
  private end!: (end: SessionEnd) => void;
  private readonly conn: TransportConnection;
  private phase: 'opening' | 'hello' | 'open' | 'closed' = 'opening';
  private queue: Promise<void> = Promise.resolve();
  private limits: SessionLimits = PRE_WELCOME_LIMITS;
  private helloId: ReplicaId | undefined;
  private helloSentAt = 0;
  private readonly subs = new Map<string, Sub>();
  private inFlight: InFlight | undefined;
  /** Pushes that asked for more than `relay`, by id: their accepted writes, until `confirm` frames settle their level. */
  private readonly confirming = new Map<string, Confirming>();
  private resyncQueue: PlannedChange[] = [];
  private outboxEmpty = false;
  /** Writes refused with `clock_skew` were written again in this session (once: after `welcome` set the clock). */
  private skewRewritten = false;
  private pushes = 0;
  private readonly reads: RelayReads;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly heartbeat: Heartbeat;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: SyncHost,
    transport: Transport,
    private readonly options: SessionOptions,
  ) {
    this.ended = new Promise((resolve) => (this.end = resolve));
    this.reads = new RelayReads(options.readTimeoutMs);
    this.heartbeat = new Heartbeat(
      () => host.now(),
      () => this.send({ type: 'ping', t: Math.max(0, Math.floor(host.now())) }),
      (quiet) => this.close({ kind: 'retry', error: new ConvergeError('timeout', `no frame from the relay for ${quiet} ms: the connection is dead`) }),
    );
    this.conn = transport.open({
      onOpen: () => this.enqueue(() => this.hello()),
      onMessage: (text) => this.receive(text),
      // After the frames before it: an `error` frame the relay sent before closing decides how to reconnect.
      onClose: (code, reason) =>
        this.enqueue(() =>
          this.finish({ kind: 'retry', ...(code === 1000 ? {} : { error: new ConvergeError('offline', `connection closed (${code}) ${reason}`) }) }),
        ),
    });
    this.connectTimer = setTimeout(() => {
      if (this.phase === 'opening' || this.phase === 'hello')
        this.close({ kind: 'retry', error: new ConvergeError('timeout', 'the relay did not answer in time') });
    }, options.connectTimeoutMs);
  }

  get open(): boolean {
    return this.phase === 'open';
  }

  /** Ends the session and closes the connection. */
  close(end: SessionEnd): void {
    if (this.phase === 'closed') return;
    this.finish(end);
    this.conn.close(1000, end.kind);
  }

  private finish(end: SessionEnd): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.connectTimer);
    this.heartbeat.stop();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.reads.rejectAll(new ConvergeError('offline', 'the connection to the relay closed before it answered'));
    this.end(end);
  }

  private enqueue(work: () => Promise<void> | void): void {
    this.queue = this.queue
      .then(() => (this.phase === 'closed' ? undefined : work()))
      .catch((error: unknown) => {
        const converge = error instanceof ConvergeError ? error : new ConvergeError('internal', `sync failed: ${(error as Error)?.message}`, { cause: error });
        this.close({ kind: converge.code === 'storage_quota' ? 'slow' : 'retry', error: converge });
      });
  }

  private send(frame: Parameters<typeof encodeClientFrame>[0]): void {
    this.conn.send(encodeClientFrame(frame));
  }

  private receive(text: string): void {
    if (this.phase === 'closed') return;
    this.heartbeat.heard();
    const decoded = decodeRelayText(text, this.limits);
    if (!decoded.ok) {
      this.close({ kind: 'retry', error: new ConvergeError(decoded.error.code, `the relay sent an invalid frame: ${decoded.error.message}`) });
      return;
    }
    const { frame, bytes } = decoded.value;
    if (frame.type === 'ping') {
      this.send({ type: 'pong', t: frame.t });
      return;
    }
    if (frame.type === 'pong') return;
    this.enqueue(() => this.handle(frame, bytes));
  }

  private async hello(): Promise<void> {
    const host = this.host;
    const specs = host.collections();
    let token: string | undefined;
    try {
      token = await host.token(false);
    } catch (error) {
      // The app's auth function failed (its token service unreachable, say): no identity to connect with.
      const message = `the auth function failed: ${error instanceof Error ? error.message : String(error)}`;
      this.close({ kind: 'retry', error: new ConvergeError('unauthorized', message, { cause: error }) });
      return;
    }
    const { id, cursors } = await host.replica.storage.read(async (tx) => {
      const rep = await tx.getMeta<ReplicaRecord>(META.replica);
      const found = await Promise.all(specs.map((s) => tx.getMeta<Cursor>(cursorKey(s.name))));
      return { id: rep?.id, cursors: found };
    });
    if (this.phase !== 'opening') return;
    this.helloId = id ?? (await host.replica.open()).id;
    specs.forEach((spec, i) => {
      this.subs.set(spec.name, { collection: spec.name, cursorKey: cursorKey(spec.name), cursor: cursors[i] ?? null, caughtUp: false, resync: false });
    });
    const declared = specs.filter((s) => s.declared);
    this.phase = 'hello';
    this.helloSentAt = host.now();
    this.send({
      type: 'hello',
      protocol: CLIENT_PROTOCOL,
      replicaId: this.helloId,
      ...(token === undefined ? {} : { token }),
      subscriptions: [...this.subs.values()].map((s) => ({ collection: s.collection, cursor: s.cursor })),
      ...(declared.length === 0 ? {} : { collections: Object.fromEntries(declared.map((s) => [s.name, declarationOf(s)])) }),
    });
  }

  private async handle(frame: RelayFrame, bytes: number): Promise<void> {
    switch (frame.type) {
      case 'welcome':
        return this.welcome(frame);
      case 'changes':
        return this.changes(frame, bytes);
      case 'ack':
        return this.ack(frame);
      case 'confirm':
        return this.confirm(frame);
      case 'read-result':
        return this.readResult(frame);
      case 'error':
        return this.error(frame);
      default:
        return;
    }
  }

  private async welcome(frame: WelcomeFrame): Promise<void> {
    if (this.phase !== 'hello') {
      this.close({ kind: 'retry', error: new ConvergeError('bad_message', 'welcome arrived twice') });
      return;
    }
    for (const spec of this.host.collections()) {
      const info = frame.collections[spec.name];
      if (info !== undefined && spec.declared && (info.mode !== spec.mode || info.strategy !== spec.strategy)) {
        this.close({
          kind: 'fatal',
          error: new ConvergeError(
            'bad_message',
            `collection ${spec.name} is ${info.mode}/${info.strategy} at the relay; this client declares ${spec.mode}/${spec.strategy}`,
            {
              path: `collections.${spec.name}`,
            },
          ),
        });
        return;
      }
    }
    this.limits = frame.limits;
    const received = this.host.now();
    const offsetMs = frame.now - Math.round((this.helloSentAt + received) / 2);
    const replica = this.host.replica;
    const verdict = await replica.afterWelcome({
      replicaId: this.helloId!,
      writeNumber: frame.writeNumber,
      writeChain: frame.writeChain,
      now: frame.now,
      offsetMs,
      limits: frame.limits,
      collections: frame.collections,
    });
    if (verdict === 'id_changed') {
      this.close({ kind: 'now' });
      return;
    }
    if (verdict === 'identity_lost') {
      await this.replaceIdentity();
      return;
    }
    for (const sub of this.subs.values()) {
      const head = frame.collections[sub.collection]?.head ?? 0;
      if (sub.cursor !== null && (sub.cursor.lineage !== frame.lineage || sub.cursor.seq > head)) sub.resync = true;
    }
    this.phase = 'open';
    this.host.error(undefined);
    this.host.connection('syncing');
    this.host.positions(this.positions());
    this.heartbeat.start(this.limits.heartbeatMs);
    await this.pushNext();
  }

  /** A new replica id; pending writes re-applied under it; then a fresh connection (hello with the new id). */
  private async replaceIdentity(): Promise<void> {
    const result = await this.host.replica.resetIdentity(this.helloId!);
    if (result !== undefined) {
      this.host.replicaChanged(result.changes);
      this.host.rewritten(result.rewritten);
    }
    this.close({ kind: 'now' });
  }

  private positions(): Map<string, number> {
    return new Map([...this.subs.values()].map((s) => [s.collection, s.cursor?.seq ?? 0]));
  }

  private async changes(frame: ChangesFrame, bytes: number): Promise<void> {
    const sub = this.subs.get(frame.collection);
    if (this.phase !== 'open' || sub === undefined) return;
    if (frame.resync === true) sub.resync = true;
    // Only frames received in order for this subscription move its cursor: catch-up frames
    // while catching up, live frames after it. A live frame during catch-up is applied, but its
    // watermark may lie beyond seqs not received yet.
    const inOrder = frame.phase === 'catchup' || sub.caughtUp;
    const stored = sub.cursor;
    const backwards = stored !== null && stored.lineage === frame.cursor.lineage && frame.cursor.seq < stored.seq && !sub.resync;
    const advance = inOrder && !backwards;
    const applied = await this.host.replica.applyRemote(frame.collection, frame.docs, advance ? { key: sub.cursorKey, value: frame.cursor } : undefined);
    if (!this.open) return;
    if (advance) sub.cursor = frame.cursor;
    if (applied.changes.length > 0) this.host.committed(applied.changes);
    if (applied.reused.length > 0) {
      this.host.error(new ConvergeError('replica_reset', `the relay holds this replica's dot ${applied.reused[0]!.join(':')} with other content`));
      await this.replaceIdentity();
      return;
    }
    if (frame.phase === 'catchup') this.send({ type: 'credit', collection: frame.collection, bytes: Math.max(1, bytes) });
    if (frame.done === true) {
      sub.caughtUp = true;
      if (sub.resync) await this.queueResync(sub);
    }
    this.host.positions(this.positions());
    await this.pushNext();
  }

  /** After the relay lost data: re-push this replica's states of the subscription's keys, marked `resync`. */
  private async queueResync(sub: Sub): Promise<void> {
    sub.resync = false;
    this.resyncQueue.push(...(await resyncChanges(this.host.replica, sub.collection)));
  }

  /** Sends the next push when none is in flight: resync states first, then the outbox in order. */
  async pushNext(): Promise<void> {
    if (this.phase !== 'open' || this.inFlight !== undefined || this.retryTimer !== undefined) return;
    let changes: PlannedChange[];
    let resync = false;
    const perPush = Math.min(this.limits.maxChangesPerFrame, this.options.maxChangesPerPush);
    if (this.resyncQueue.length > 0) {
      changes = this.resyncQueue;
      resync = true;
    } else {
      const entries = (await this.host.replica.storage.read((tx) => tx.listOutbox({ limit: perPush }))) as Entry[];
      if (this.phase !== 'open' || this.inFlight !== undefined) return;
      if (entries.some((e) => e.replica !== this.helloId)) {
        // Another tab gave the replica a new id: this connection speaks for the old one.
        this.close({ kind: 'now' });
        return;
      }
      const firstSkewed = entries.findIndex((e) => e.skewed === true);
      if (firstSkewed >= 0 && !this.skewRewritten) {
        // Refused for their clock (in an earlier session): written again with this session's corrected clock, then listed anew.
        this.skewRewritten = true;
        const { changes: rewrittenDocs, rewritten } = await this.host.replica.rewriteSkewed();
        if (rewrittenDocs.length > 0) this.host.committed(rewrittenDocs);
        this.host.rewritten(rewritten);
        return this.pushNext();
      }
      changes = squash(firstSkewed < 0 ? entries : entries.slice(0, firstSkewed));
      this.outboxEmpty = entries.length === 0;
    }
    if (changes.length === 0) {
      this.updateSynced();
      return;
    }
    const id = `p${++this.pushes}`;
    const planned = planPush(changes, { ...this.limits, maxChangesPerFrame: perPush }, id);
    if ('tooLarge' in planned) {
      if (resync) {
        this.resyncQueue = this.resyncQueue.filter((c) => c !== planned.tooLarge);
      } else {
        const refused = planned.tooLarge.change;
        await this.settle([
          {
            entries: planned.tooLarge.entries,
            delta: refused.delta,
            result: {
              collection: refused.collection,
              key: refused.key,
              dot: settledDot(refused.delta),
              status: 'rejected',
              code: 'payload_too_large',
              message: `the write does not fit in a frame of ${this.limits.maxFrameBytes} bytes`,
            },
          },
        ]);
      }
      return this.pushNext();
    }
    if (resync) this.resyncQueue = this.resyncQueue.slice(planned.changes.length);
    this.inFlight = { id, awaited: new AwaitedResults(planned.changes), resync, retry: false, wanted: planned.frame.ack };
    this.host.connection('syncing');
    this.conn.send(planned.text);
  }

  private updateSynced(): void {
    if (this.phase !== 'open') return;
    const caughtUp = [...this.subs.values()].every((s) => s.caughtUp);
    if (caughtUp && this.outboxEmpty && this.inFlight === undefined && this.resyncQueue.length === 0) this.host.connection('synced');
  }

  /**
   * One `ack` (or one part of the answer): each result settles the change it names. A result
   * that names no change still waiting, or an answer that leaves one without a result, is a bad
   * frame: the session reconnects and nothing of that frame leaves the outbox.
   */
  private async ack(frame: AckFrame): Promise<void> {
    const flight = this.inFlight;
    const matched = flight === undefined || flight.id !== frame.id ? `ack ${frame.id} answers no push in flight` : flight.awaited.match(frame);
    if (typeof matched === 'string' || flight === undefined) {
      this.close({ kind: 'retry', error: new ConvergeError('bad_message', `the relay sent a bad ack: ${matched as string}`) });
      return;
    }
    const complete = flight.awaited.done;
    if (complete) this.inFlight = undefined;
    if (flight.resync) {
      const refused = matched.find((m) => m.result.status === 'rejected')?.result;
      if (refused !== undefined && refused.status === 'rejected') {
        this.host.error(new ConvergeError(refused.code, `re-pushing ${refused.collection}/${refused.key} after the relay lost data: ${refused.message}`));
      }
      if (complete) await this.pushNext();
      return;
    }
    const settled = matched.map(({ change, result }) => ({ entries: change.entries as Entry[], delta: change.change.delta, result }));
    if (rank(flight.wanted) > rank(frame.level)) {
      // The relay confirms higher levels later (`confirm`): remember what this push got accepted.
      const writes = settled
        .flatMap((s) => (s.result.status === 'accepted' ? s.entries : []))
        .map(({ writeId, collection, key }) => ({ writeId, collection, key }));
      const known = this.confirming.get(frame.id);
      if (known !== undefined) known.writes.push(...writes);
      else if (writes.length > 0) this.confirming.set(frame.id, { wanted: flight.wanted, writes });
    }
    const outcome = await this.settle(settled, frame.level);
    if (outcome === 'identity') return this.replaceIdentity();
    if (outcome === 'clock') {
      this.close({ kind: 'now', error: new ConvergeError('clock_skew', 'the relay refused a write stamped too far ahead: reconnecting for its clock') });
      return;
    }
    if (outcome === 'retry') flight.retry = true;
    if (!complete) return;
    if (flight.retry) {
      this.retryTimer = setTimeout(
        () => {
          this.retryTimer = undefined;
          this.enqueue(() => this.pushNext());
        },
        1000 + this.host.random() * 1000,
      );
      return;
    }
    await this.pushNext();
  }

  /**
   * A later level for a push's accepted writes: their status climbs to it; `quorum_unavailable`
   * (the relay's store cannot confirm the level asked for) makes writes waiting for it fail,
   * held at the level reached. `ack_timeout` changes nothing: the relay keeps checking.
   */
  private async confirm(frame: ConfirmFrame): Promise<void> {
    const waiting = this.confirming.get(frame.id);
    if (waiting === undefined) return; // nothing of ours to raise
    const ids = waiting.writes.map((w) => w.writeId);
    if (rank(frame.level) > rank('relay')) {
      await this.host.replica.raiseLevel(waiting.writes, frame.level);
      this.host.acked(ids, frame.level);
    }
    if (frame.code === 'quorum_unavailable') {
      this.host.acked(ids, frame.level, true);
      this.confirming.delete(frame.id);
    } else if (rank(frame.level) >= rank(waiting.wanted)) this.confirming.delete(frame.id);
  }

  private async settle(settled: SettledChange[], level: AckFrame['level'] = 'relay'): Promise<'ok' | 'identity' | 'clock' | 'retry'> {
    const result = await this.host.replica.settle(settled, level);
    if (result.changes.length > 0) this.host.committed(result.changes);
    if (result.accepted.length > 0) this.host.acked(result.accepted, level);
    if (result.rejected.length > 0) this.host.rejected(result.rejected);
    if (result.identityLost) return 'identity';
    if (result.clockSkew) return 'clock';
    return result.retry ? 'retry' : 'ok';
  }

  private async readResult(frame: ReadResultFrame): Promise<void> {
    if (!this.reads.has(frame.id)) return;
    const docs = frame.docs.flatMap((d) => (d.state === null ? [] : [{ key: d.key, seq: d.seq, state: d.state }]));
    const applied = await this.host.replica.applyRemote(frame.collection, docs);
    if (applied.changes.length > 0) this.host.committed(applied.changes);
    const records = await this.host.replica.storage.read((tx) =>
      tx.getDocs(
        frame.collection,
        frame.docs.map((d) => d.key),
      ),
    );
    this.reads.resolve(
      frame.id,
      records.filter((r): r is DocRecord => r !== undefined),
    );
  }

  /** Reads keys from the relay (the leader), merging what it holds into the replica first. */
  read(collection: string, keys: readonly string[]): Promise<DocRecord[]> {
    if (this.phase !== 'open') return Promise.reject(new ConvergeError('offline', 'no connection to the relay: a leader read needs one'));
    const id = `r${++this.pushes}`;
    return this.reads.wait(id, () => this.send({ type: 'read', id, collection, keys, consistency: 'leader' }));
  }

  private error(frame: ErrorFrame): void {
    const error = new ConvergeError(frame.code, frame.message, frame.collection === undefined ? {} : { path: `collections.${frame.collection}` });
    if (frame.id !== undefined && this.reads.has(frame.id)) {
      this.reads.reject(frame.id, error);
      return;
    }
    const sub = frame.collection === undefined ? undefined : this.subs.get(frame.collection);
    if (sub !== undefined && (frame.code === 'forbidden' || frame.code === 'rate_limited')) {
      // The relay refused one subscription; the others go on.
      sub.caughtUp = true;
      this.host.error(error);
      this.updateSynced();
      return;
    }
    switch (frame.code) {
      case 'unauthorized':
        this.close({ kind: 'auth', error });
        return;
      case 'rate_limited':
      case 'behind':
        this.close({ kind: 'slow', error });
        return;
      case 'bad_message':
      case 'forbidden':
        this.close({ kind: this.phase === 'hello' ? 'fatal' : 'retry', error });
        return;
      default:
        this.close({ kind: 'retry', error });
    }
  }

  /** Follows one more collection (one the app started using after connect). */
  subscribe(collection: string): void {
    if (this.phase === 'open' && !this.subs.has(collection)) this.host.connection('syncing');
    this.enqueue(async () => {
      if (this.phase === 'opening' || this.subs.has(collection)) return;
      const key = cursorKey(collection);
      const cursor = (await this.host.replica.storage.read((tx) => tx.getMeta<Cursor>(key))) ?? null;
      if (this.phase === 'closed' || this.subs.has(collection)) return;
      this.subs.set(collection, { collection, cursorKey: key, cursor, caughtUp: false, resync: false });
      this.send({ type: 'subscribe', subscriptions: [{ collection, cursor }] });
    });
  }

  /** Kicks the push loop (the outbox changed). */
  kick(): void {
    this.enqueue(() => this.pushNext());
  }
}
