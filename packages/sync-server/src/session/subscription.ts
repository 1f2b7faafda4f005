import { ChangesFrameBuilder, type RelayFrame, type Subscription as SubscriptionRequest } from '@converge/protocol';
import type { LiveRound } from '../fan-out.js';
import type { CommittedChange } from '../judge-push.js';
import { storedText } from '../stored-state.js';
import type { StoredDoc } from '../store/relay-store.js';
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
  private readonly started: number;

  private readonly resync: boolean;

  /** Judges the request's cursor at once (evidence of lost data opens the recovery window before `welcome` is sent). */
  constructor(
    private readonly host: SessionHost,
    private readonly owner: SubscriptionOwner,
    request: SubscriptionRequest,
  ) {
    this.log = { collection: request.collection, prefix: request.filter?.prefix };
    this.started = host.now();
    const { afterSeq, resync } = this.startingPoint(request);
    this.watermark = afterSeq;
    this.resync = resync;
  }

  /** Runs catch-up from the starting point; resolves once the subscription is live (or its session closed). */
  start(): Promise<void> {
    return this.catchUp(this.resync);
  }

  /**
   * Where catch-up starts. A cursor from another lineage, with a bad MAC, beyond the head or
   * off the log's chain hash restarts from 0 with `resync`, so the client re-pushes its states.
   * Only a validly signed cursor proves the relay lost data (another lineage: a wiped
   * database; beyond the head, or a chain-hash fork: a restored one) and opens the recovery
   * window; an unsigned claim opens nothing.
   */
  private startingPoint({ cursor }: SubscriptionRequest): { afterSeq: number; resync: boolean } {
    if (cursor === null) return { afterSeq: 0, resync: false };
    const { store } = this.host;
    if (!verifyCursor(this.host.cursorSecret, this.log, cursor)) return { afterSeq: 0, resync: true };
    if (cursor.lineage !== store.lineage) {
      this.host.openRecoveryWindow('lineage_changed', { collection: this.log.collection, lineage: cursor.lineage });
      return { afterSeq: 0, resync: true };
    }
    const head = store.head(this.log.collection);
    if (cursor.seq > head.seq) {
      this.host.openRecoveryWindow('cursor_beyond_head', { collection: this.log.collection, cursor: cursor.seq, head: head.seq });
      return { afterSeq: 0, resync: true };
    }
    if (store.hashAt(this.log.collection, cursor.seq) !== cursor.hash) {
      this.host.openRecoveryWindow('chain_hash_mismatch', { collection: this.log.collection, cursor: cursor.seq });
      return { afterSeq: 0, resync: true };
    }
    return { afterSeq: cursor.seq, resync: false };
  }

  private cursorAt(seq: number) {
    const { store } = this.host;
    return signCursor(this.host.cursorSecret, this.log, store.lineage, seq, store.hashAt(this.log.collection, seq) ?? '0');
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
   * The frame that ends a batch found nothing beyond it carries `done` and the head as its
   * watermark, unless something was committed since the scan (then the next scan picks it up).
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
      first = first && !batch.sent;
      limit = Math.max(1, Math.min(batchSize, Math.floor(this.host.limits.maxFrameBytes / Math.max(1, batch.bytesPerKey))));
    }
    this.phase = 'live';
    this.host.metrics.catchupDuration.observe((this.host.now() - this.started) / 1000);
  }

  /**
   * Scans up to `limit` keys beyond the watermark and sends them, waiting for credit between
   * frames. `resync` marks the first frame sent.
   */
  private async sendBatch(limit: number, resync: boolean): Promise<'closed' | { finished: boolean; sent: boolean; bytesPerKey: number }> {
    const { collection, prefix } = this.log;
    const { store, limits } = this.host;
    const { window } = this.owner;
    if (this.owner.isClosed()) return 'closed';
    const scanned = store.scan(collection, this.watermark, limit, prefix);
    const headAtScan = store.head(collection).seq;
    const exhausted = scanned.length < limit;
    const entries = scanned.map((doc) => ({ doc, readable: this.owner.readable(collection, doc.key) }));
    let scannedBytes = 0;
    for (const doc of scanned) scannedBytes += doc.state.length;
    const bytesPerKey = scanned.length === 0 ? 0 : scannedBytes / scanned.length;
    let sent = false;
    /** The watermark and `done` of the frame encoded last: the one `packFrames` yields next. */
    let encoded = { watermark: this.watermark, last: false };
    const encode = (slice: readonly { doc: StoredDoc; readable: boolean }[], rest: number) => {
      const last = rest === 0 && exhausted && store.head(collection).seq === headAtScan;
      const watermark = last ? headAtScan : (slice.at(-1)?.doc.seq ?? this.watermark);
      encoded = { watermark, last };
      // Built from the stored texts: no state is parsed or encoded again.
      const builder = new ChangesFrameBuilder();
      for (const { doc, readable } of slice) if (readable) builder.addStored(doc.key, doc.seq, storedText(doc));
      return builder.finish({
        collection,
        phase: 'catchup',
        watermark,
        cursor: this.cursorAt(watermark),
        ...(last ? { done: true as const } : {}),
        ...(!sent && resync ? { resync: true as const } : {}),
      });
    };
    const estimate = (e: { doc: StoredDoc; readable: boolean }) => (e.readable ? Buffer.byteLength(e.doc.state) + docEnvelopeBytes(e.doc.key) : 0);
    const frames =
      entries.length === 0 ? [{ docs: [], ...encode([], 0) }] : packFrames(entries, estimate, encode, limits.maxFrameBytes, limits.maxChangesPerFrame);
    for (const packed of frames) {
      while (!window.open && !this.owner.isClosed()) await window.granted();
      if (this.owner.isClosed()) return 'closed';
      if ('oversized' in packed) {
        this.skipOversized(packed.oversized.doc.key);
        this.watermark = packed.oversized.doc.seq;
        continue;
      }
      // Closes the connection instead when it holds more than its cap of unsent bytes.
      if (!this.owner.sendChanges(packed.text)) return 'closed';
      sent = true;
      window.take(packed.bytes);
      this.watermark = encoded.watermark;
      if (encoded.last) return { finished: true, sent, bytesPerKey };
    }
    return { finished: false, sent, bytesPerKey };
  }

  /**
   * Sends the live changes of one fan-out round: the subscription's visible changes in frames
   * within `maxFrameBytes`, each with the seq of its last change as watermark, the last with
   * the collection's head. Subscribers of the same log that see the same changes get the same
   * frame text: `round.frames` caches it, so it is encoded (and its cursor signed) once.
   */
  deliver(round: LiveRound): void {
    if (this.phase !== 'live') return;
    const { collection, prefix } = this.log;
    const changes = round.changes.get(collection);
    if (changes === undefined) return;
    const docs = changes.filter((c) => c.seq > this.watermark && (prefix === undefined || c.key.startsWith(prefix)) && this.owner.readable(collection, c.key));
    if (docs.length === 0) return;
    const head = Math.max(this.watermark, round.head(collection));
    const encode = (slice: readonly CommittedChange[], rest: number) => {
      const watermark = rest === 0 ? head : slice.at(-1)!.seq;
      const id = `${collection}\u0000${prefix ?? ''}\u0000${watermark}\u0000${slice.map((d) => d.seq).join(',')}`;
      let frame = round.frames.get(id);
      if (frame === undefined) {
        const builder = new ChangesFrameBuilder();
        for (const change of slice) builder.addStored(change.key, change.seq, change.text);
        frame = builder.finish({ collection, phase: 'live', watermark, cursor: this.cursorAt(watermark) });
        round.frames.set(id, frame);
      }
      return frame;
    };
    for (const packed of packFrames(
      docs,
      (d) => d.bytes + docEnvelopeBytes(d.key),
      encode,
      this.host.limits.maxFrameBytes,
      this.host.limits.maxChangesPerFrame,
    )) {
      if ('oversized' in packed) this.skipOversized(packed.oversized.key);
      else if (!this.owner.sendChanges(packed.text)) return;
    }
    this.watermark = head;
  }
}
