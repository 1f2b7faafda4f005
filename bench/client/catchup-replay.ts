// Replica B's own work in the peer benchmark's W1, without the network or the relay: the
// relay's frames for a fresh replica are captured once (10,000 records), then replayed, round
// after round, into the protocol-level replica's steps (decode, adopt-or-merge into a Map, read
// every record) and into @converge/client (memory storage, a transport that replays them,
// `whenSynced`, `scan`). Prints the median per-round ratio; with --profile FILE, 20 more client
// replays under V8's CPU profiler.
//   npx tsx bench/client/catchup-replay.ts [--rounds 15] [--records 10000] [--profile FILE]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, createMemoryStorage, type Transport } from '@converge/client';
import { adoptOrMerge, liveSiblings } from '@converge/conflict';
import { decodeRelayFrame, decodeValue, type DecodeLimits, type WireState, type WireValue } from '@converge/protocol';
import { WebSocket } from 'ws';
import { convergeSqlite } from '../peers/converge/driver.js';
import { COLLECTION } from '../peers/converge/replica.js';
import { median } from '../peers/stats.js';
import { recordKey, touch } from '../peers/workload.js';
import { convergeClientSqlite } from './peer-driver.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, records: { type: 'string', default: '10000' }, profile: { type: 'string' } },
});
const records = Number(values.records);

/** The frames a relay sends a fresh replica subscribing to COLLECTION: welcome, then catch-up to `done`. */
async function capture(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'converge-replay-'));
  const relay = await convergeSqlite.startRelay(dir);
  try {
    await convergeClientSqlite.w1.write(relay.url, { records });
    const ws = new WebSocket(relay.url, { perMessageDeflate: false });
    await new Promise((resolve) => ws.once('open', resolve));
    const frames: string[] = [];
    await new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        frames.push(text);
        const frame = decodeRelayFrame(text, { maxFrameBytes: 64 * 1024 * 1024, maxChangesPerFrame: 100_000 });
        if (!frame.ok || frame.value.type !== 'changes') return;
        if (frame.value.phase === 'catchup') ws.send(JSON.stringify({ type: 'credit', collection: COLLECTION, bytes: data.length }));
        if (frame.value.done === true) resolve();
      });
      ws.send(JSON.stringify({ type: 'hello', protocol: 3, replicaId: 'replayreplayrepla', subscriptions: [{ collection: COLLECTION, cursor: null }] }));
    });
    ws.close();
    return frames;
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function protocolLevel(frames: readonly string[]): number {
  let limits: DecodeLimits = { maxFrameBytes: 64 * 1024 * 1024, maxChangesPerFrame: 100_000 };
  const states = new Map<string, WireState>();
  for (const text of frames) {
    const decoded = decodeRelayFrame(text, limits);
    if (!decoded.ok) throw decoded.error;
    const frame = decoded.value;
    if (frame.type === 'welcome') limits = frame.limits;
    if (frame.type === 'changes') for (const doc of frame.docs) states.set(doc.key, adoptOrMerge<WireValue>(states.get(doc.key), doc.state).state);
  }
  let sum = 0;
  for (let i = 1; i <= records; i++) {
    const live = liveSiblings(states.get(recordKey(i))!);
    const value = decodeValue(live[0]!.value);
    if (!value.ok) throw value.error;
    sum += touch(value.value);
  }
  return sum;
}

/** A transport that answers `hello` with the captured frames, one per macrotask. */
function replaying(frames: readonly string[]): Transport {
  return {
    open(handlers) {
      let closed = false;
      setImmediate(() => handlers.onOpen());
      return {
        send(text) {
          if (!text.startsWith('{"type":"hello"')) return;
          let i = 0;
          const next = () => {
            if (closed || i >= frames.length) return;
            handlers.onMessage(frames[i++]!);
            setImmediate(next);
          };
          setImmediate(next);
        },
        close() {
          if (closed) return;
          closed = true;
          setImmediate(() => handlers.onClose(1000, 'closed'));
        },
      };
    },
  };
}

let dbs = 0;
async function client(frames: readonly string[]): Promise<number> {
  const c = await createClient({ name: `replay-${++dbs}`, transport: replaying(frames), storage: createMemoryStorage(), tabs: false });
  const collection = c.collection(COLLECTION);
  await c.whenSynced({ timeoutMs: 60_000 });
  let sum = 0;
  for (const doc of await collection.scan()) sum += touch(doc.value);
  await c.close();
  return sum;
}

const frames = await capture();
const load0 = loadavg();
const ratios: number[] = [];
const cpuRatios: number[] = [];
const times: Record<'protocol' | 'client', number[]> = { protocol: [], client: [] };
for (let round = 0; round <= Number(values.rounds); round++) {
  const order = round % 2 === 0 ? (['protocol', 'client'] as const) : (['client', 'protocol'] as const);
  const ms: Record<string, number> = {};
  const cpu: Record<string, number> = {};
  for (const which of order) {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const sum = which === 'protocol' ? protocolLevel(frames) : await client(frames);
    const used = process.cpuUsage(cpu0);
    ms[which] = performance.now() - t0;
    cpu[which] = (used.user + used.system) / 1000;
    if (sum === 0) throw new Error('nothing read');
  }
  if (round === 0) {
    console.log(`first (cold) round: protocol-level ${ms['protocol']!.toFixed(1)} ms, client ${ms['client']!.toFixed(1)} ms`);
    continue;
  }
  times.protocol.push(ms['protocol']!);
  times.client.push(ms['client']!);
  ratios.push(ms['client']! / ms['protocol']!);
  cpuRatios.push(cpu['client']! / cpu['protocol']!);
}
console.log(`${frames.length} frames, ${records} records; load ${load0.map((l) => l.toFixed(2)).join(' ')}`);
console.log(
  `protocol-level steps: median ${median(times.protocol).toFixed(1)} ms; client: median ${median(times.client).toFixed(1)} ms; per-round ratio median ${median(ratios).toFixed(2)} (CPU time: ${median(cpuRatios).toFixed(2)})`,
);
if (values.profile !== undefined) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  for (let i = 0; i < 20; i++) await client(frames);
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(values.profile, JSON.stringify(profile));
  session.disconnect();
}
