// What the relay benchmarks send and receive: blind writes built as a client builds them
// (conflict's writeDoc, values encoded once with encodeValue, frames with encodeFrame), and a
// lean WebSocket client. ProtocolClient (sync-server/testing) decodes every frame, merges each
// state and keeps every frame in an array: right for tests, but in a load generator that work
// competes with the relay for the machine's two cores, so the bench speaks the protocol here.
import { EMPTY_CONTEXT, emptyDocState, nextDot, replicaIdFromBytes, writeDoc, type ReplicaId } from '@converge/conflict';
import { encodeFrame, PROTOCOL_VERSION, type PushedChange, type Subscription, type WireValue } from '@converge/protocol';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';

/** Wall-clock ms with sub-ms resolution, comparable between processes on one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export const newReplicaId = (): ReplicaId => replicaIdFromBytes(randomBytes(12));

/** A cart like the codec bench's: three items and a Date. */
export function cartValue(i: number, extra: Record<string, unknown> = {}): unknown {
  return {
    items: {
      [`sku-${1000 + (i % 97)}`]: { qty: 1 + (i % 3), price: 3.49, name: 'Oat milk 1L' },
      'sku-2210': { qty: 2, price: 0.99, name: 'Bananas' },
    },
    currency: 'EUR',
    updatedAt: new Date(1_767_225_600_000 + i),
    ...extra,
  };
}

/**
 * A blind write (empty read context) to a key this replica has not written: what
 * `ProtocolClient.blind` builds for a new key, without a connection. `value` is already
 * encoded (`encodeValue`, once, by its writer).
 */
export function blindChange(collection: string, key: string, replica: ReplicaId, writeNumber: number, value: WireValue, wall = Date.now()): PushedChange {
  const state = emptyDocState<WireValue>();
  const dot = nextDot(state, replica);
  const { delta } = writeDoc<WireValue>(state, { dot, hlc: { wall, logical: 0, replica }, readContext: EMPTY_CONTEXT, value });
  return { collection, key, delta, writeNumber, chain: writeNumber.toString(16) };
}

export function pushText(id: string, changes: readonly PushedChange[]): string {
  return encodeFrame({ type: 'push', id, ack: 'relay', changes });
}

/** The envelope fields the bench looks at without decoding a whole frame. */
export interface Envelope {
  readonly type: string;
  readonly id?: string;
  readonly code?: string;
  readonly message?: string;
  readonly done?: boolean;
  readonly results?: readonly { readonly status: string; readonly code?: string }[];
  /** An `ack` part: more parts of the answer follow. */
  readonly more?: true;
}

/** A WebSocket speaking the protocol, with as little client-side work as possible. */
export class WireClient {
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Frames after `welcome` go here (raw text and the receive time, `nowMs()`). */
  onFrame: (text: string, at: number) => void = () => undefined;
  private welcome: ((text: string) => void) | undefined;
  private failHello: ((error: Error) => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer) => {
      const at = nowMs();
      const text = data.toString();
      if (this.welcome !== undefined) {
        const frame = JSON.parse(text) as Envelope;
        if (frame.type === 'welcome') {
          const done = this.welcome;
          this.welcome = this.failHello = undefined;
          done(text);
        } else this.failHello?.(new Error(`expected welcome, got ${text.slice(0, 200)}`));
        return;
      }
      this.onFrame(text, at);
    });
    void this.closed.then(({ code, reason }) => this.failHello?.(new Error(`closed (${code} ${reason}) before welcome`)));
  }

  static open(url: string, timeoutMs = 10_000): Promise<WireClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new WireClient(ws));
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends `hello` and resolves with the `welcome` text. Frames after it go to `onFrame`. */
  hello(replicaId: ReplicaId, subscriptions: readonly Subscription[] = [], timeoutMs = 10_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no welcome within ${timeoutMs} ms`)), timeoutMs);
      this.welcome = (text) => {
        clearTimeout(timer);
        resolve(text);
      };
      this.failHello = (error) => {
        clearTimeout(timer);
        this.welcome = this.failHello = undefined;
        reject(error);
      };
      this.send(encodeFrame({ type: 'hello', protocol: PROTOCOL_VERSION, replicaId, subscriptions }));
    });
  }

  send(text: string): void {
    this.ws.send(text);
  }

  close(): void {
    this.ws.close();
  }
}

/** `promise`, or a rejection after `ms`: every wait in the bench is bounded. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
