// A protocol-level Converge replica in Node: a WebSocket (permessage-deflate off), frames
// encoded and decoded with @converge/protocol's public codec, each key's state kept with
// @converge/conflict's adoptOrMerge. Every relay frame is decoded and validated in full; a
// catch-up frame's size is granted back as credit once its states are merged, as a client
// does once it has stored a batch. The browser client's issue adds a driver on @converge/client.
import { adoptOrMerge, liveSiblings, replicaIdFromBytes, type ReplicaId } from '@converge/conflict';
import {
  decodeRelayFrame,
  decodeValue,
  encodeFrame,
  PROTOCOL_VERSION,
  type AckFrame,
  type ClientFrame,
  type DecodeLimits,
  type PushedChange,
  type WireState,
  type WireValue,
} from '@converge/protocol';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';

/** The collection every Converge run uses (undeclared: multi-leader, siblings kept). */
export const COLLECTION = 'records';

/** Until `welcome` announces the relay's limits: generous, the frame is still validated. */
const HELLO_LIMITS: DecodeLimits = { maxFrameBytes: 64 * 1024 * 1024, maxChangesPerFrame: 100_000 };

export const newReplicaId = (): ReplicaId => replicaIdFromBytes(randomBytes(12));

export class WireReplica {
  readonly states = new Map<string, WireState>();
  /** Called after every `changes` frame has been merged. */
  onChanges: (keys: readonly string[]) => void = () => undefined;
  private limits: DecodeLimits = HELLO_LIMITS;
  /** Resolves once the catch-up frame marked `done` has been merged. */
  readonly caughtUp: Promise<void>;
  private markCaughtUp: (() => void) | undefined;
  private readonly acks = new Map<string, (ack: AckFrame) => void>();
  /** Results of answers that come in parts, until the part without `more`. */
  private readonly parts = new Map<string, AckFrame['results'][number][]>();
  /** Rejects every pending wait (catch-up, acks): an invalid frame, an error frame, a close. */
  private readonly failures = new Set<(error: Error) => void>();
  private closing = false;
  private pushes = 0;

  private constructor(
    private readonly ws: WebSocket,
    readonly replicaId: ReplicaId,
  ) {
    this.caughtUp = new Promise<void>((resolve, reject) => {
      this.markCaughtUp = resolve;
      this.failures.add(reject);
    });
    this.caughtUp.catch(() => undefined); // awaited by whoever needs it; a failure alone must not crash
    ws.on('message', (data: Buffer) => this.receive(data));
    ws.on('close', (code, reason) => {
      if (!this.closing) this.fail(new Error(`relay closed the connection (${code} ${reason.toString()})`));
    });
  }

  private fail(error: Error): void {
    for (const reject of this.failures) reject(error);
    this.failures.clear();
  }

  /**
   * Connects and sends `hello` (subscribed to COLLECTION from cursor null unless `subscribe` is
   * false), without waiting for `welcome`: frames sent next queue behind it.
   */
  static async open(url: string, options: { replicaId?: ReplicaId; states?: ReadonlyMap<string, WireState>; subscribe?: boolean } = {}): Promise<WireReplica> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const replicaId = options.replicaId ?? newReplicaId();
    const replica = new WireReplica(ws, replicaId);
    for (const [key, state] of options.states ?? []) replica.states.set(key, state);
    const subscriptions = options.subscribe === false ? [] : [{ collection: COLLECTION, cursor: null }];
    replica.send({ type: 'hello', protocol: PROTOCOL_VERSION, replicaId, subscriptions });
    return replica;
  }

  private receive(data: Buffer): void {
    const decoded = decodeRelayFrame(data.toString(), this.limits);
    if (!decoded.ok) return this.fail(new Error(`invalid relay frame: ${decoded.error.message}`));
    const frame = decoded.value;
    switch (frame.type) {
      case 'welcome':
        this.limits = frame.limits;
        return;
      case 'changes': {
        for (const doc of frame.docs) this.merge(doc.key, doc.state);
        if (frame.phase === 'catchup') this.send({ type: 'credit', collection: frame.collection, bytes: data.length });
        this.onChanges(frame.docs.map((d) => d.key));
        if (frame.done === true) this.markCaughtUp?.();
        return;
      }
      case 'ack':
        if (frame.more === true) {
          this.parts.set(frame.id, [...(this.parts.get(frame.id) ?? []), ...frame.results]);
          return;
        }
        this.acks.get(frame.id)?.({ ...frame, results: [...(this.parts.get(frame.id) ?? []), ...frame.results] });
        this.acks.delete(frame.id);
        this.parts.delete(frame.id);
        return;
      case 'error':
        return this.fail(new Error(`relay error ${frame.code}: ${frame.message}`));
      default:
        return;
    }
  }

  /** A key this replica does not hold adopts the decoded state; one it holds merges it. */
  merge(key: string, state: WireState): void {
    this.states.set(key, adoptOrMerge<WireValue>(this.states.get(key), state).state);
  }

  /** Pushes `changes` (at most the relay's maxChangesPerFrame) and resolves with the ack. */
  push(changes: readonly PushedChange[]): Promise<AckFrame> {
    const id = `p${++this.pushes}`;
    return new Promise((resolve, reject) => {
      this.failures.add(reject);
      this.acks.set(id, (ack) => {
        this.failures.delete(reject);
        resolve(ack);
      });
      this.send({ type: 'push', id, ack: 'relay', changes });
    });
  }

  /** Every live value of `key`, decoded as an app reads it (`decodeValue`). */
  read(key: string): unknown[] {
    const state = this.states.get(key);
    if (state === undefined) return [];
    return liveSiblings(state).map((sibling) => {
      const value = decodeValue(sibling.value);
      if (!value.ok) throw value.error;
      return value.value;
    });
  }

  send(frame: ClientFrame): void {
    this.ws.send(encodeFrame(frame));
  }

  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
