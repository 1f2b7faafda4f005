// Live subscribers for the delivery-latency scenario. Each one subscribes to a collection from
// cursor null, waits for the `done` catch-up frame, then records, for every change it receives,
// (send time embedded in the value by the writer, receive time). Usable in the bench process
// or in a child process (subscribers-child.ts), so that receiving does not compete with the
// writer on one event loop.
import { newReplicaId, nowMs, percentile, WireClient, withTimeout, type Envelope } from './wire.js';

/** The field the writer embeds in each value: its send time, `nowMs()`. */
export const SENT_AT = 'sentAtMs';
const sentAt = new RegExp(`"${SENT_AT}":(\\d+(?:\\.\\d+)?)`, 'g');

export interface DeliverySummary {
  readonly subscribers: number;
  /** Deliveries of changes sent at or after `from`. */
  readonly count: number;
  /** Per subscriber (in connection order): deliveries of changes sent in [from, to). */
  readonly perSubscriber: number[];
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly frames: number;
  /** Subscribers the relay closed, and error frames received. */
  readonly closed: number;
  readonly errors: string[];
  /** CPU time of the process that received, ms, and the wall time it covers. */
  readonly cpuMs: number;
  readonly wallMs: number;
}

export interface Subscribers {
  /** Latencies of changes sent at or after `from` and before `to` (ms, `nowMs()` clock). */
  summary(from: number, to?: number): DeliverySummary;
  /** Starts the CPU accounting window. */
  markCpu(): void;
  close(): void;
}

export async function startSubscribers(url: string, count: number, collection: string): Promise<Subscribers> {
  let sent: number[] = [];
  let latency: number[] = [];
  let who: number[] = [];
  let frames = 0;
  let closed = 0;
  const errors: string[] = [];
  const clients: WireClient[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async (_, j) => {
        const index = i + j;
        const client = await WireClient.open(url);
        let caughtUp: () => void = () => undefined;
        ready.push(new Promise<void>((resolve) => (caughtUp = resolve)));
        let live = false;
        client.onFrame = (text, at) => {
          frames++;
          if (!live || text.startsWith('{"type":"error"')) {
            const frame = JSON.parse(text) as Envelope;
            if (frame.type === 'error') errors.push(`${frame.code}: ${frame.message}`);
            if (frame.type === 'changes' && frame.done === true) {
              live = true;
              caughtUp();
            }
          }
          sentAt.lastIndex = 0;
          for (let m = sentAt.exec(text); m !== null; m = sentAt.exec(text)) {
            const t = Number(m[1]);
            sent.push(t);
            latency.push(at - t);
            who.push(index);
          }
        };
        void client.closed.then(() => closed++);
        await client.hello(newReplicaId(), [{ collection, cursor: null }]);
        return client;
      }),
    );
    clients.push(...batch);
  }
  await withTimeout(Promise.all(ready), 30_000, 'subscribers catching up');
  let cpu = process.cpuUsage();
  let wall = nowMs();
  return {
    markCpu() {
      cpu = process.cpuUsage();
      wall = nowMs();
    },
    summary(from, to = Infinity) {
      const used = process.cpuUsage(cpu);
      const kept: number[] = [];
      const perSubscriber = new Array<number>(count).fill(0);
      for (let i = 0; i < sent.length; i++) {
        if (sent[i]! < from || sent[i]! >= to) continue;
        kept.push(latency[i]!);
        perSubscriber[who[i]!]!++;
      }
      const sorted = Float64Array.from(kept).sort();
      const out: DeliverySummary = {
        subscribers: count,
        count: sorted.length,
        perSubscriber,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        p999: percentile(sorted, 99.9),
        max: sorted.length === 0 ? NaN : sorted[sorted.length - 1]!,
        frames,
        closed,
        errors: errors.slice(0, 5),
        cpuMs: (used.user + used.system) / 1000,
        wallMs: nowMs() - wall,
      };
      sent = [];
      latency = [];
      who = [];
      return out;
    },
    close() {
      for (const c of clients) c.close();
    },
  };
}
