import {
  chainMark,
  chainWrite,
  createHlcClock,
  EMPTY_CONTEXT,
  emptyDocState,
  mergeDocStates,
  nextDot,
  sameDot,
  WRITE_CHAIN_ZERO,
  writeDoc,
  type CausalContext,
  type DocState,
  type HlcClock,
  type ReplicaId,
  type WriteChain,
} from '@converge/conflict';
import {
  decodeRelayFrame,
  encodeFrame,
  encodeValue,
  PROTOCOL_VERSION,
  type AckFrame,
  type AckLevel,
  type ClientFrame,
  type CollectionDeclaration,
  type PushedChange,
  type RelayFrame,
  type Subscription,
  type WelcomeFrame,
  type WireState,
  type WireValue,
} from '@converge/protocol';
import { WebSocket } from 'ws';

export interface ProtocolClientOptions {
  readonly replicaId: ReplicaId;
  readonly token?: string;
  readonly subscriptions?: readonly Subscription[];
  readonly collections?: Readonly<Record<string, CollectionDeclaration>>;
  /** Send no hello (to test what the relay does before it). */
  readonly noHello?: boolean;
  /** Physical clock of this replica (default Date.now). */
  readonly now?: () => number;
  readonly origin?: string;
  /**
   * Decode every frame after `welcome` with `welcome.limits`, as a real client does: a frame
   * above the limits the relay announced lands in `invalid` instead of `frames`.
   */
  readonly enforceLimits?: boolean;
}

type FrameOfType<T extends RelayFrame['type']> = Extract<RelayFrame, { type: T }>;

/**
 * A small protocol-level client for relay tests: a real WebSocket, frames decoded with
 * @converge/protocol, a replica's per-key states kept with @converge/conflict.
 */
export class ProtocolClient {
  readonly frames: RelayFrame[] = [];
  /** The UTF-8 size of each frame in `frames`, at the same index. */
  readonly sizes: number[] = [];
  /** Everything that was not a valid relay frame (should stay empty). */
  readonly invalid: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly states = new Map<string, WireState>();
  readonly clock: HlcClock;
  welcome: WelcomeFrame | undefined;
  private readonly floors = new Map<string, number>();
  private writeNumber = 0;
  private chain: WriteChain = WRITE_CHAIN_ZERO;
  private pushes = 0;
  private waiters: (() => void)[] = [];
  private isClosed = false;

  private constructor(
    readonly ws: WebSocket,
    readonly replicaId: ReplicaId,
    now: () => number,
    enforceLimits: boolean,
  ) {
    this.clock = createHlcClock({ replica: replicaId, now });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        resolve({ code, reason: reason.toString() });
        this.notify();
      });
    });
    ws.on('error', () => undefined); // surfaces as 'close'
    ws.on('message', (data) => {
      const text = data.toString();
      const limits = enforceLimits && this.welcome !== undefined ? this.welcome.limits : { maxFrameBytes: 64 * 1024 * 1024, maxChangesPerFrame: 100_000 };
      const decoded = decodeRelayFrame(text, limits);
      if (!decoded.ok) {
        this.invalid.push(text);
      } else {
        this.frames.push(decoded.value);
        this.sizes.push(Buffer.byteLength(text));
        this.absorb(decoded.value);
      }
      this.notify();
    });
  }

  static async connect(url: string, options: ProtocolClientOptions): Promise<ProtocolClient> {
    const ws = new WebSocket(url, options.origin === undefined ? {} : { origin: options.origin });
    const client = new ProtocolClient(ws, options.replicaId, options.now ?? Date.now, options.enforceLimits === true);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (options.noHello !== true) {
      client.send({
        type: 'hello',
        protocol: PROTOCOL_VERSION,
        replicaId: options.replicaId,
        ...(options.token === undefined ? {} : { token: options.token }),
        subscriptions: options.subscriptions ?? [],
        ...(options.collections === undefined ? {} : { collections: options.collections }),
      });
    }
    return client;
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private absorb(frame: RelayFrame): void {
    if (frame.type === 'welcome') this.welcome = frame;
    if (frame.type === 'changes') {
      for (const doc of frame.docs) this.merge(frame.collection, doc.key, doc.state);
    }
  }

  private merge(collection: string, key: string, state: WireState): void {
    const id = `${collection}/${key}`;
    this.states.set(id, mergeDocStates<WireValue>(this.states.get(id) ?? emptyDocState(), state).state);
  }

  state(collection: string, key: string): WireState {
    return this.states.get(`${collection}/${key}`) ?? emptyDocState();
  }

  send(frame: ClientFrame): void {
    this.ws.send(encodeFrame(frame));
  }

  sendRaw(text: string | Buffer): void {
    this.ws.send(text);
  }

  /** The first received frame of `type` (from index `from`) matching `match`, waiting up to `timeoutMs`. */
  async next<T extends RelayFrame['type']>(
    type: T,
    match: (frame: FrameOfType<T>) => boolean = () => true,
    timeoutMs = 5000,
    from = 0,
  ): Promise<FrameOfType<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find((f): f is FrameOfType<T> => f.type === type && match(f as FrameOfType<T>));
      if (found !== undefined) return found;
      if (this.isClosed) throw new Error(`connection closed while waiting for ${type}; frames: ${JSON.stringify(this.frames.map((f) => f.type))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} frame within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Builds a write of this replica (register collections): delta and change, applied locally too. */
  write(collection: string, key: string, value: unknown, options: { readContext?: CausalContext; deleted?: boolean } = {}): PushedChange {
    const id = `${collection}/${key}`;
    const state: DocState<WireValue> = this.state(collection, key);
    const dot = nextDot(state, this.replicaId, this.floors.get(id) ?? 0);
    this.floors.set(id, dot[1]);
    const readContext = options.readContext ?? state.context;
    const hlc = this.clock.tick();
    const written =
      options.deleted === true
        ? writeDoc(state, { dot, hlc, readContext, deleted: true })
        : writeDoc<WireValue>(state, { dot, hlc, readContext, value: encodeValue(value) });
    this.states.set(id, written.state);
    this.chain = chainWrite(
      this.chain,
      collection,
      key,
      written.delta.siblings.find((s) => sameDot(s.dot, dot))!,
    );
    return { collection, key, delta: written.delta, writeNumber: ++this.writeNumber, chain: this.chain };
  }

  /** Takes over what `earlier` (a client of the same replica id, closed) held: its states, counters, write number and chain. */
  continueFrom(earlier: ProtocolClient): void {
    for (const [id, state] of earlier.states) this.states.set(id, state);
    for (const [id, floor] of earlier.floors) this.floors.set(id, floor);
    this.writeNumber = earlier.writeNumber;
    this.chain = earlier.chain;
  }

  /** A write number for a re-push of full states (`resync`), with the chain through it. */
  resyncWrite(): { readonly writeNumber: number; readonly chain: WriteChain } {
    this.chain = chainMark(this.chain, 'resync');
    return { writeNumber: ++this.writeNumber, chain: this.chain };
  }

  /** A blind write: context empty. */
  blind(collection: string, key: string, value: unknown): PushedChange {
    return this.write(collection, key, value, { readContext: EMPTY_CONTEXT });
  }

  /** The parts of the answer to push `id` received so far (an answer comes in parts when one frame cannot hold it: every part but the last says `more`). */
  ackParts(id: string): AckFrame[] {
    return this.frames.filter((f): f is AckFrame => f.type === 'ack' && f.id === id);
  }

  /** Pushes `changes` and waits for every part of the answer. */
  async pushParts(changes: readonly PushedChange[], ack: AckLevel = 'relay'): Promise<AckFrame[]> {
    const id = `p${++this.pushes}`;
    this.send({ type: 'push', id, ack, changes });
    await this.next('ack', (a) => a.id === id && a.more !== true);
    return this.ackParts(id);
  }

  /** Pushes `changes` and waits for the answer: its parts joined into one frame. */
  async push(changes: readonly PushedChange[], ack: AckLevel = 'relay'): Promise<AckFrame> {
    const parts = await this.pushParts(changes, ack);
    return { type: 'ack', id: parts[0]!.id, level: parts[0]!.level, results: parts.flatMap((p) => p.results) };
  }

  close(): void {
    this.ws.close();
  }
}
