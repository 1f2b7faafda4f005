// Write latency per ack level through a relay over PostgreSQL, beside raw PostgreSQL doing the
// same commits (raw-writer.ts). Writers are protocol-level (WireClient, bench/relay/wire.ts:
// frames built as a client builds them, no client-side merging), each with one push of one blind
// write in flight, timed from sending the push to the frame that reports the level asked for:
// the `ack` for `relay`, the `confirm {level}` for `quorum` and `all`. The raw baseline has as
// many writers, each on its own connection, writing the same state bytes to the same tables.
// Each cell (writers × level) runs a warm-up round, then `rounds` counted rounds; in each round
// both systems write `writes` writes per writer, one after the other, the order alternating
// round by round; a round's ratio is Converge's percentile over raw's in that round.
import type { ReplicaId } from '@converge/conflict';
import { encodeValue, encodeFrame, type WireValue } from '@converge/protocol';
import { blindChange, cartValue, newReplicaId, nowMs, percentile, withTimeout, WireClient, type Envelope } from '../relay/wire.js';
import { median } from '../peers/stats.js';
import type { AckLevel, RawPostgres } from './raw-writer.js';

export const LEVELS: readonly AckLevel[] = ['relay', 'quorum', 'all'];

export interface LatencyCell {
  readonly writers: number;
  readonly level: AckLevel;
  /** Counted writes per system (writers × writes × rounds). */
  readonly writes: number;
  readonly converge: { readonly p50: number; readonly p99: number };
  readonly raw: { readonly p50: number; readonly p99: number };
  /** Median over rounds of Converge's p50 (p99) over raw's in the same round. */
  readonly ratioP50: number;
  readonly ratioP99: number;
}

interface ConvergeWriter {
  readonly client: WireClient;
  readonly replica: ReplicaId;
  writeNumber: number;
  readonly value: WireValue;
}

/** One push of one blind write at `level`; resolves with the time to the frame reporting it. */
function convergeWrite(writer: ConvergeWriter, level: AckLevel, key: string): Promise<number> {
  const writeNumber = ++writer.writeNumber;
  const change = blindChange('bench', key, writer.replica, writeNumber, writer.value);
  const id = `p${writeNumber}`;
  const text = encodeFrame({ type: 'push', id, ack: level, changes: [change] });
  const sent = nowMs();
  const answered = new Promise<number>((resolve, reject) => {
    writer.client.onFrame = (frameText, at) => {
      const frame = JSON.parse(frameText) as Envelope & { level?: string };
      if (frame.type === 'error') return reject(new Error(`relay error ${frame.code}: ${frame.message}`));
      if (frame.id !== id) return;
      if (frame.type === 'ack' && frame.more !== true) {
        if (frame.results?.some((r) => r.status !== 'accepted')) return reject(new Error(`refused: ${frameText.slice(0, 300)}`));
        if (level === 'relay') resolve(at - sent);
      } else if (frame.type === 'confirm') {
        // ack_timeout: not yet (the relay keeps checking); quorum_unavailable: never.
        if (frame.code === 'quorum_unavailable') reject(new Error(`${level} unavailable: ${frameText}`));
        else if (frame.level === level && frame.code === undefined) resolve(at - sent);
      }
    };
  });
  writer.client.send(text);
  return withTimeout(answered, 30_000, `converge ${level} write`);
}

async function openWriters(url: string, writers: number): Promise<ConvergeWriter[]> {
  return Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const client = await WireClient.open(url);
      const replica = newReplicaId();
      await client.hello(replica);
      return { client, replica, writeNumber: 0, value: encodeValue(cartValue(w)) };
    }),
  );
}

const summary = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

/**
 * The latency table: for each writer count and level, Converge through the relay at `relayUrl`
 * beside `raw` (opened with at least as many connections as the largest writer count).
 */
export async function runLatency(
  relayUrl: string,
  raw: RawPostgres,
  options: {
    readonly writerCounts: readonly number[];
    readonly levels: readonly AckLevel[];
    readonly writes: (writers: number) => number;
    readonly rounds: number;
    readonly log: (line: string) => void;
  },
): Promise<LatencyCell[]> {
  const cells: LatencyCell[] = [];
  let keyNumber = 0;
  for (const writers of options.writerCounts) {
    const conv = await openWriters(relayUrl, writers);
    const rawReplicas = Array.from({ length: writers }, () => ({ replica: String(newReplicaId()), writeNumber: 0 }));
    // The same state bytes as the relay stores for a write of this value (its delta's JSON is
    // within a few bytes of the stored state): built once per writer.
    const rawStates = conv.map((writer) => Buffer.from(JSON.stringify(blindChange('bench', 'k', writer.replica, 1, writer.value).delta)));
    const perWriter = options.writes(writers);
    try {
      for (const level of options.levels) {
        const counted = { converge: [] as number[], raw: [] as number[] };
        const ratios = { p50: [] as number[], p99: [] as number[] };
        for (let round = 0; round <= options.rounds; round++) {
          const runConverge = async () => {
            const times: number[] = [];
            await Promise.all(
              conv.map(async (writer) => {
                for (let i = 0; i < perWriter; i++) times.push(await convergeWrite(writer, level, `c${++keyNumber}`));
              }),
            );
            return times;
          };
          const runRaw = async () => {
            const times: number[] = [];
            await Promise.all(
              rawReplicas.map(async (r, w) => {
                for (let i = 0; i < perWriter; i++) times.push(await raw.write(level, `r${++keyNumber}`, rawStates[w]!, r.replica, ++r.writeNumber));
              }),
            );
            return times;
          };
          let c: number[];
          let r: number[];
          if (round % 2 === 0) {
            c = await runConverge();
            r = await runRaw();
          } else {
            r = await runRaw();
            c = await runConverge();
          }
          const cs = summary(c);
          const rs = summary(r);
          options.log(
            `${writers} writer(s) ${level} ${round === 0 ? 'warm-up' : `round ${round}`}: converge p50 ${cs.p50.toFixed(2)} p99 ${cs.p99.toFixed(2)} ms, raw p50 ${rs.p50.toFixed(2)} p99 ${rs.p99.toFixed(2)} ms`,
          );
          if (round === 0) continue;
          counted.converge.push(...c);
          counted.raw.push(...r);
          ratios.p50.push(cs.p50 / rs.p50);
          ratios.p99.push(cs.p99 / rs.p99);
        }
        cells.push({
          writers,
          level,
          writes: counted.converge.length,
          converge: summary(counted.converge),
          raw: summary(counted.raw),
          ratioP50: median(ratios.p50),
          ratioP99: median(ratios.p99),
        });
      }
    } finally {
      for (const writer of conv) writer.client.close();
    }
  }
  return cells;
}
