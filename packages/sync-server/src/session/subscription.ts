import { ConvergeError } from '@converge/conflict';
import { ChangesFrameBuilder, type RelayFrame, type Subscription as SubscriptionRequest } from '@converge/protocol';
import type { LiveRound } from '../fan-out.js';
import type { LiveChange } from '../push.js';
import { storedText } from '../stored-state.js';
import { CHAIN_HASH_ZERO } from '../store/chain-hash.js';
import type { LoggedDoc } from '../store/relay-store.js';
import { signCursor, verifyCursor, type LogId } from './cursor-mac.js';
import { docEnvelopeBytes, packFrames } from './frame-packing.js';
import type { CatchupWindow } from './catchup-window.js';
import type { SessionHost } from './session-host.js';

/**
 * Keys in a catch-up's first scan: a small first frame reaches the client sooner (~10 ms for a
 * fresh relay), and the client applies it while the relay builds the next, full-size one. Later
 * scans are sized by the bytes per key seen so far, so no scan holds much more than a frame.
 */
const FIRST_SCAN = 8;

/** A relay whose standby has not replayed what a subscription must see (`error behind` naming the collection). */
export class BehindError extends ConvergeError {
  constructor(
    readonly collection: string,
    message: string,
  ) {
    super('behind', message);
  }
}

/** What a subscription needs from the session that holds it. */
export interface SubscriptionOwner {
  isClosed(): boolean;
  readable(collection: string, key: string): boolean;
  /** The connection's catch-up credit and turn, shared by all its subscriptions. */
  readonly window: CatchupWindow;
  /**
   * Sends an encoded `changes` frame, or closes the connection (1013) instead when it already
   * holds more than `maxBufferedBytes` unsent; false once the connection is closed.
   */
  sendChanges(text: string): boolean;
  /** Sends an `error` frame that does not close the session. */
  warn(frame: Extract<RelayFrame, { type: 'error' }>): void;
  /** Closes the connection with 1013 (try again later): the client comes back with its cursor, which is judged again. */
  reconnect(reason: string): void;
}

/**
 * One subscription (a collection, optionally a key prefix) of one session: catch-up from its
 * cursor in frames within the client's credit, then live changes. Every frame stays within
 * `maxFrameBytes` (docs packed by size, a large key alone) and carries the watermark
 * "complete through seq N" and the cursor signed at it.
 */
export class Subscription {
  readonly log: LogId;
  private phase: 'catchup' | 'live' = 'catchup';
  /** Everything with seq ≤ watermark has been sent (or is invisible to this subscription). */
  private watermark = 0;
  /** The chain hash at the watermark, which cursors are signed with. */
  private watermarkHash = CHAIN_HASH_ZERO;
  private readonly started: number;

  private resync = false;
  private judged: Promise<void> | undefined;

  constructor(
    private readonly host: SessionHost,
    private readonly owner: SubscriptionOwner,
    private readonly request: SubscriptionRequest,
  ) {
    this.log = { collection: request.collection, prefix: request.filter?.prefix };
    this.started = host.options.now();
  }

  /** Judges the request's cursor (once): evidence of lost data opens the recovery window, before `welcome` is sent when awaited first. */
  judgeCursor(): Promise<void> {
    this.judged ??= this.startingPoint(this.request).then(({ afterSeq, hash, resync }) => {
      this.watermark = afterSeq;
      this.watermarkHash = hash;
      this.resync = resync;
    });
    return this.judged;
  }

  /** Runs catch-up from the starting point; resolves once the subscription is live (or its session closed). */
  async start(): Promise<void> {
    await this.judgeCursor();
    return this.catchUp(this.resync);
  }

  /**
   * Where catch-up starts. A cursor from another lineage, with a bad MAC, beyond the head or
   * off the log's chain hash restarts from 0 with `resync`, so the client re-pushes its states.
   * Only a validly signed cursor proves the relay lost data (another lineage: a wiped
   * database; beyond the head, or a chain-hash fork: a restored one) and opens the recovery
   * window; an unsigned claim opens nothing.
   */
  private async startingPoint({ cursor }: SubscriptionRequest): Promise<{ afterSeq: number; hash: string; resync: boolean }> {
    const restart = { afterSeq: 0, hash: CHAIN_HASH_ZERO };
    const { store } = this.host;
    await this.awaitReplica();
    if (cursor === null) return { ...restart, resync: false };
    if (!verifyCursor(this.host.options.cursorSecret, this.log, cursor)) return { ...restart, resync: true };
    if (cursor.lineage !== store.lineage) {
      await this.host.recovery.open('lineage_changed', { collection: this.log.collection, lineage: cursor.lineage });
      return { ...restart, resync: true };
    }
    const head = await store.head(this.log.collection);
    if (cursor.seq > head.seq) {
      await this.host.recovery.open('cursor_beyond_head', { collection: this.log.collection, cursor: cursor.seq, head: head.seq });
      return { ...restart, resync: true };
    }
    if ((await store.hashAt(this.log.collection, cursor.seq)) !== cursor.hash) {
      await this.host.recovery.open('chain_hash_mismatch', { collection: this.log.collection, cursor: cursor.seq });
      return { ...restart, resync: true };
    }
    return { afterSeq: cursor.seq, hash: cursor.hash, resync: false };
  }

  /**
   * A relay that reads from a standby first lets it replay what the primary had committed
   * (bounded by `replicaWaitMs`): then the client sees its own acknowledged writes, wherever it
   * made them, and nothing older than its cursor. A standby still behind is `behind`: the client
   * comes back later (or to another relay) with its cursor.
   */
  private async awaitReplica(): Promise<void> {
    const { awaitReplica } = this.host.store;
    if (awaitReplica === undefined) return;
    const { collection } = this.log;
    const position = await awaitReplica(collection, this.host.options.replicaWaitMs);
    if (position.caughtUp) return;
    this.host.metrics.rejects.inc({ code: 'behind' });
    throw new BehindError(
      collection,
      `this relay's database standby is behind for ${collection} (at ${position.replicaSeq} of ${position.primarySeq}): try again later or another relay`,
    );
  }

  private cursorAt(seq: number, hash: string) {
    return signCursor(this.host.options.cursorSecret, this.log, this.host.store.lineage, seq, hash);
  }

  /** A state too large for any frame (stored before the limits were lowered) is skipped with an error naming it. */
  private skipOversized(key: string): void {
    const { collection } = this.log;
    this.host.metrics.rejects.inc({ code: 'oversized_state' });
    this.host.log.error({ collection, key }, 'a stored state is larger than maxFrameBytes: it cannot be sent');
    this.owner.warn({ type: 'error', code: 'payload_too_large', collection, message: `${collection}/${key} is larger than maxFrameBytes and was skipped` });
  }

  /**
   * Streams every key with seq > the watermark, one scan batch at a time, each in a turn of the
   * connection's catch-up window (so a connection holds one scanned batch, whatever it
   * subscribes to): the first scan small, later ones sized to about one frame of bytes by the
   * docs seen so far. A batch is packed into frames, each sent while the connection has credit.
   * The frame that ends a batch that found nothing beyond it carries `done` — when live
   * fan-out has not gone past it (`FanOut.goLive`); the subscription is live from that frame
   * on. Otherwise the next scan picks up what was committed meanwhile.
   */
  private async catchUp(resync: boolean): Promise<void> {
    const batchSize = this.host.options.catchupBatchSize;
    let limit = Math.min(batchSize, FIRST_SCAN);
    let first = true;
    for (;;) {
      // Other connections' frames and pushes get their turn between two batches.
      await new Promise((resolve) => setImmediate(resolve));
      if (this.owner.isClosed()) return;
      const batch = await this.owner.window.turn(() => this.sendBatch(limit, first && resync));
      if (batch === 'closed') return;
      if (batch.finished) break;
      // Nothing beyond the watermark yet, though live fan-out went further (a standby replaying
      // behind the primary): look again shortly rather than at once.
      if (batch.empty) await new Promise((resolve) => setTimeout(resolve, 5));
      first = first && !batch.sent;
      limit = Math.max(1, Math.min(batchSize, Math.floor(this.host.options.limits.maxFrameBytes / Math.max(1, batch.bytesPerKey))));
    }
    this.host.metrics.catchupDuration.observe((this.host.options.now() - this.started) / 1000);
  }

  /**
   * Scans up to `limit` keys beyond the watermark and sends them, waiting for credit before
   * each frame is encoded (so whether a frame ends catch-up is decided as it is sent). The head
   * is read before the scan: when the scan is exhausted, every key changed up to that head is in
   * it. `resync` marks the first frame sent.
   */
  private async sendBatch(limit: number, resync: boolean): Promise<'closed' | { finished: boolean; sent: boolean; empty: boolean; bytesPerKey: number }> {
    const { collection, prefix } = this.log;
    const { store } = this.host;
    const { limits } = this.host.options;
    const { window } = this.owner;
    if (this.owner.isClosed()) return 'closed';
    // A store shared with other processes can be replaced under the relay (a failover that lost
    // commits, whose seqs the new primary reuses): the scan must continue the chain already sent.
    const [head, atWatermark] = await Promise.all([
      store.head(collection),
      store.watchCommits !== undefined ? store.hashAt(collection, this.watermark) : this.watermarkHash,
    ]);
    if (this.owner.isClosed()) return 'closed';
    if (atWatermark !== this.watermarkHash) {
      this.host.log.warn(
        { collection, watermark: this.watermark },
        'catch-up: the log is not the one sent so far (a failover lost commits): reconnecting the client',
      );
      this.owner.reconnect('the relay database lost commits: reconnect');
      return 'closed';
    }
    const scanned = await store.scan(collection, this.watermark, limit, prefix);
    if (this.owner.isClosed()) return 'closed';
    const exhausted = scanned.length < limit;
    // Everything up to `reach` is in this batch once it is exhausted.
    const lastDoc = scanned.at(-1);
    const reach = lastDoc !== undefined && lastDoc.seq > head.seq ? { seq: lastDoc.seq, hash: lastDoc.hash } : head;
    const entries = scanned.map((doc) => ({ doc, readable: this.owner.readable(collection, doc.key) }));
    let scannedBytes = 0;
    for (const doc of scanned) scannedBytes += doc.state.length;
    const bytesPerKey = scanned.length === 0 ? 0 : scannedBytes / scanned.length;
    let sent = false;
    /** The watermark and `done` of the frame encoded last: the one `packFrames` yields next. */
    let encoded = { watermark: this.watermark, hash: this.watermarkHash, last: false };
    const encode = (slice: readonly { doc: LoggedDoc; readable: boolean }[], rest: number) => {
      const end = rest === 0 && exhausted ? reach : slice.length > 0 ? slice.at(-1)!.doc : { seq: this.watermark, hash: this.watermarkHash };
      const last = rest === 0 && exhausted && this.host.fanOut.goLive(collection, end.seq, end.hash);
      encoded = { watermark: end.seq, hash: end.hash, last };
      // Built from the stored texts: no state is parsed or encoded again.
      const builder = new ChangesFrameBuilder();
      for (const { doc, readable } of slice) if (readable) builder.addStored(doc.key, doc.seq, storedText(doc));
      return builder.finish({
        collection,
        phase: 'catchup',
        watermark: end.seq,
        cursor: this.cursorAt(end.seq, end.hash),
        ...(last ? { done: true as const } : {}),
        ...(!sent && resync ? { resync: true as const } : {}),
      });
    };
    const estimate = (e: { doc: LoggedDoc; readable: boolean }) => (e.readable ? Buffer.byteLength(e.doc.state) + docEnvelopeBytes(e.doc.key) : 0);
    const frames =
      entries.length === 0
        ? (function* () {
            yield { docs: [], ...encode([], 0) };
          })()
        : packFrames(entries, estimate, encode, limits.maxFrameBytes, limits.maxChangesPerFrame);
    for (;;) {
      while (!window.open && !this.owner.isClosed()) await window.granted();
      if (this.owner.isClosed()) return 'closed';
      // Encoded now, right before it is sent: nothing is awaited between `goLive` and the switch.
      const next = frames.next();
      if (next.done === true) return { finished: false, sent, empty: scanned.length === 0, bytesPerKey };
      const packed = next.value;
      if ('oversized' in packed) {
        this.skipOversized(packed.oversized.doc.key);
        this.watermark = packed.oversized.doc.seq;
        this.watermarkHash = packed.oversized.doc.hash;
        continue;
      }
      // Closes the connection instead when it holds more than its cap of unsent bytes.
      if (!this.owner.sendChanges(packed.text)) return 'closed';
      sent = true;
      window.take(packed.bytes);
      this.watermark = encoded.watermark;
      this.watermarkHash = encoded.hash;
      if (encoded.last) {
        this.phase = 'live';
        return { finished: true, sent, empty: false, bytesPerKey };
      }
    }
  }

  /**
   * The live changes of one fan-out round as `changes` frames, for the session to send: the
   * subscription's visible changes in frames within `maxFrameBytes`, each with the seq of its
   * last change as watermark, the last with the round's head. The watermark moves once every
   * frame was taken: a session that stops taking them (it closed) leaves it where it was. Subscribers of the same log that see the same changes get the same
   * frame text: `round.frames` caches it, so it is encoded (and its cursor signed) once.
   */
  *liveFrames(round: LiveRound): Generator<string, void, undefined> {
    if (this.phase !== 'live') return;
    const { collection, prefix } = this.log;
    const changes = round.changes.get(collection);
    if (changes === undefined) return;
    const head = round.head(collection);
    if (head.seq <= this.watermark) return;
    const docs = changes.filter((c) => c.seq > this.watermark && (prefix === undefined || c.key.startsWith(prefix)) && this.owner.readable(collection, c.key));
    const encode = (slice: readonly LiveChange[], rest: number) => {
      const end = rest === 0 ? head : slice.at(-1)!;
      const id = `${collection}\u0000${prefix ?? ''}\u0000${end.seq}\u0000${slice.map((d) => d.seq).join(',')}`;
      let frame = round.frames.get(id);
      if (frame === undefined) {
        const builder = new ChangesFrameBuilder();
        for (const change of slice) builder.addStored(change.key, change.seq, change.text);
        frame = builder.finish({ collection, phase: 'live', watermark: end.seq, cursor: this.cursorAt(end.seq, end.hash) });
        round.frames.set(id, frame);
      }
      return frame;
    };
    if (docs.length === 0) {
      this.watermark = head.seq;
      this.watermarkHash = head.hash;
      return;
    }
    for (const packed of packFrames(
      docs,
      (d) => d.bytes + docEnvelopeBytes(d.key),
      encode,
      this.host.options.limits.maxFrameBytes,
      this.host.options.limits.maxChangesPerFrame,
    )) {
      if ('oversized' in packed) this.skipOversized(packed.oversized.key);
      else yield packed.text;
    }
    this.watermark = head.seq;
    this.watermarkHash = head.hash;
  }
}
