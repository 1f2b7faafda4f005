// The relay (@converge/sync-server) as a child process on 127.0.0.1 with a SQLite file: ingest,
// live delivery latency to 100 subscribers, catch-up of 100k keys, idle memory per connection.
// Load comes from this process or its children, never from inside the relay. Every loop is
// bounded in count and time.
//
// Environment:
//   BENCH_RELAY_ONLY=ingest,delivery,catchup,idle   run some scenarios only
//   BENCH_RELAY_PROF=/tmp/prof                      relay children write CPU profiles there (one dir per scenario)
//   BENCH_RELAY_SUBS=child|inproc                   where the 100 delivery subscribers run (default: child)
//   BENCH_RELAY_CLI=/path/to/dist/cli.js            run another build of the relay (A/B against a copy of an older dist)
import { encodeFrame, encodeValue, decodeRelayFrame, type WireValue } from '@converge/protocol';
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelay, tempDb, sampleRss, type RelayChild } from './relay-process.js';
import { startSubscribers, SENT_AT, type DeliverySummary, type Subscribers } from './subscribers.js';
import { blindChange, cartValue, median, newReplicaId, nowMs, percentile, pushText, sleep, WireClient, withTimeout, type Envelope } from './wire.js';

const only = process.env['BENCH_RELAY_ONLY']?.split(',').map((s) => s.trim());
const profRoot = process.env['BENCH_RELAY_PROF'];
const subsWhere = process.env['BENCH_RELAY_SUBS'] === 'inproc' ? 'inproc' : 'child';
const profileDir = (scenario: string) => (profRoot === undefined ? undefined : join(profRoot, scenario));

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const mb = (kb: number) => fmt(kb / 1024, 1);
const cpuPct = (cpuMs: number, wallMs: number) => `${Math.round((100 * cpuMs) / wallMs)}%`;

/** A few encoded carts, encoded once (as each writer encodes its value once) and reused. */
export const encodedCarts: WireValue[] = Array.from({ length: 97 }, (_, i) => encodeValue(cartValue(i)));

export async function connectAll(url: string, n: number, hello: (c: WireClient, i: number) => Promise<unknown>, parallel = 50): Promise<WireClient[]> {
  const out: WireClient[] = [];
  for (let i = 0; i < n; i += parallel) {
    out.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(parallel, n - i) }, async (_, j) => {
          const c = await WireClient.open(url);
          await hello(c, i + j);
          return c;
        }),
      )),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// a. ingest

export interface IngestRun {
  readonly changes: number;
  readonly ms: number;
  readonly ackP50: number;
  readonly ackP99: number;
  readonly rejected: number;
  readonly relayCpuMs: number;
  readonly benchCpuMs: number;
  /** When the first and the last connection had all its pushes acked, ms from the start. */
  readonly firstDoneMs: number;
  readonly lastDoneMs: number;
  readonly failure?: string;
}

/**
 * Every connection keeps `inFlight` pushes outstanding until its queue is sent and acked.
 * Frames are built before the clock starts, so the bench process only sends and reads acks.
 */
export async function pushAll(relayCpuMs: () => number, clients: WireClient[], queues: string[][], inFlight: number, timeoutMs: number): Promise<IngestRun> {
  const ackLatency: number[] = [];
  let changes = 0;
  let rejected = 0;
  let failure: string | undefined;
  const doneAt: number[] = [];
  const relayCpu0 = relayCpuMs();
  const benchCpu0 = process.cpuUsage();
  const t0 = nowMs();
  await Promise.all(
    clients.map(
      (client, c) =>
        new Promise<void>((resolve) => {
          const queue = queues[c]!;
          const sentAt = new Map<string, number>();
          let next = 0;
          let acked = 0;
          const timer = setTimeout(() => {
            failure ??= `timed out after ${timeoutMs} ms`;
            resolve();
          }, timeoutMs);
          const sendNext = () => {
            const text = queue[next]!;
            sentAt.set(`p${next}`, nowMs());
            next++;
            client.send(text);
          };
          client.onFrame = (text, at) => {
            const frame = JSON.parse(text) as Envelope;
            if (frame.type === 'error') {
              failure ??= `connection ${c}: error ${frame.code}: ${frame.message} after ${changes} changes (${Math.round(at - t0)} ms)`;
              return;
            }
            if (frame.type !== 'ack') return;
            for (const r of frame.results!) {
              if (r.status === 'accepted') changes++;
              else rejected++;
            }
            if (frame.more === true) return; // the answer goes on in the next part
            ackLatency.push(at - sentAt.get(frame.id!)!);
            acked++;
            if (next < queue.length) sendNext();
            if (acked === queue.length) {
              doneAt.push(at - t0);
              clearTimeout(timer);
              resolve();
            }
          };
          void client.closed.then(({ code, reason }) => {
            failure ??= `connection ${c} closed (${code} ${reason}) after ${changes} changes (${Math.round(nowMs() - t0)} ms)`;
            clearTimeout(timer);
            resolve();
          });
          for (let i = 0; i < inFlight && next < queue.length; i++) sendNext();
        }),
    ),
  );
  const ms = nowMs() - t0;
  const bench = process.cpuUsage(benchCpu0);
  ackLatency.sort((a, b) => a - b);
  return {
    changes,
    ms,
    ackP50: percentile(ackLatency, 50),
    ackP99: percentile(ackLatency, 99),
    rejected,
    firstDoneMs: Math.min(...doneAt),
    lastDoneMs: Math.max(...doneAt),
    relayCpuMs: relayCpuMs() - relayCpu0,
    benchCpuMs: (bench.user + bench.system) / 1000,
    ...(failure === undefined ? {} : { failure }),
  };
}

/** Push frames for `conns` connections: `pushes` each of `perPush` blind writes to distinct keys. */
export function buildQueues(tag: string, replicas: string[], pushes: number, perPush: number, writeNumbers: number[], collection = 'ingest'): string[][] {
  return replicas.map((replica, c) => {
    const queue: string[] = [];
    for (let p = 0; p < pushes; p++) {
      const changes = Array.from({ length: perPush }, (_, j) => {
        const n = ++writeNumbers[c]!;
        return blindChange(collection, `${tag}-${c}-${p}-${j}`, replica, n, encodedCarts[n % encodedCarts.length]!);
      });
      queue.push(pushText(`p${p}`, changes));
    }
    return queue;
  });
}

async function ingest(): Promise<string> {
  const CONNS = 10;
  const PER_PUSH = 100;
  const IN_FLIGHT = 4;
  const PUSHES = 50; // per connection per run: 50,000 changes per run
  const RUNS = 3;
  const lines: string[] = [];

  // With the CLI as shipped: default rate limits (per connection for anonymous clients).
  {
    const { db, cleanup } = tempDb('ingest-cli');
    const relay = await startRelay({ db, kind: 'cli' });
    try {
      const replicas = Array.from({ length: CONNS }, newReplicaId);
      const clients = await connectAll(relay.url, CONNS, (c, i) => c.hello(replicas[i]!));
      const queues = buildQueues(
        'cli',
        replicas,
        20,
        PER_PUSH,
        replicas.map(() => 0),
      );
      const run = await pushAll(() => relay.cpuMs(), clients, queues, IN_FLIGHT, 10_000);
      for (const c of clients) c.close();
      lines.push(
        `With the CLI's default limits (2,000 changes/s, burst 4,000 per connection; anonymous clients are limited per connection only): ` +
          `${fmt(run.changes)} changes accepted in ${fmt(run.ms)} ms` +
          (run.failure === undefined ? '.' : `, then ${run.failure}.`) +
          ` The figures below run the same CLI with a --config that lifts rateLimit and principalRateLimit.`,
        '',
      );
    } finally {
      await relay.stop();
      cleanup();
    }
  }

  const { db, cleanup } = tempDb('ingest');
  const relay = await startRelay({ db, kind: 'unlimited', profileDir: profileDir('ingest') });
  try {
    const replicas = Array.from({ length: CONNS }, newReplicaId);
    const writeNumbers = replicas.map(() => 0);
    const clients = await connectAll(relay.url, CONNS, (c, i) => c.hello(replicas[i]!));
    const warm = buildQueues('warm', replicas, 10, PER_PUSH, writeNumbers);
    const runs = Array.from({ length: RUNS }, (_, r) => buildQueues(`r${r}`, replicas, PUSHES, PER_PUSH, writeNumbers));
    await pushAll(() => relay.cpuMs(), clients, warm, IN_FLIGHT, 30_000);
    lines.push(
      `${CONNS} connections (distinct replica ids), pushes of ${PER_PUSH} blind writes to distinct keys, ${IN_FLIGHT} pushes in flight per connection, no subscribers; ` +
        `${fmt(CONNS * PUSHES * PER_PUSH)} changes per run after a warm-up of ${fmt(CONNS * 10 * PER_PUSH)}. SQLite file (WAL, synchronous=FULL). CPU: % of one core over the run.`,
      '',
      '| run | changes | ms | changes/s | ack p50 ms | ack p99 ms | first / last connection done ms | relay CPU | bench CPU | note |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const run = await pushAll(() => relay.cpuMs(), clients, runs[r]!, IN_FLIGHT, 30_000);
      const rate = run.changes / (run.ms / 1000);
      rates.push(rate);
      lines.push(
        `| ${r + 1} | ${fmt(run.changes)} | ${fmt(run.ms)} | ${fmt(rate)} | ${fmt(run.ackP50, 1)} | ${fmt(run.ackP99, 1)} | ${fmt(run.firstDoneMs)} / ${fmt(run.lastDoneMs)} | ${cpuPct(run.relayCpuMs, run.ms)} | ${cpuPct(run.benchCpuMs, run.ms)} | ${run.failure ?? (run.rejected > 0 ? `${run.rejected} rejected` : '')} |`,
      );
      if (run.failure !== undefined) break;
    }
    const m = median(rates);
    lines.push('', `- ingest: median ${fmt(m)} changes/s (target ≥ 50,000: ${m >= 50_000 ? 'met' : `MISSED by ${Math.round(100 * (1 - m / 50_000))}%`})`);
    for (const c of clients) c.close();
  } finally {
    await relay.stop();
    cleanup();
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// b. delivery latency

export interface RemoteSubscribers {
  summary(from: number, to?: number): Promise<DeliverySummary>;
  markCpu(): void;
}

export async function subscribersIn(where: 'child' | 'inproc', url: string, count: number, collection: string): Promise<RemoteSubscribers> {
  if (where === 'inproc') {
    const subs: Subscribers = await startSubscribers(url, count, collection);
    return {
      markCpu: () => subs.markCpu(),
      summary: async (from, to) => {
        const s = subs.summary(from, to);
        subs.close();
        return s;
      },
    };
  }
  const child: ChildProcess = fork(fileURLToPath(new URL('./subscribers-child.ts', import.meta.url)), [url, String(count), collection], {
    execArgv: ['--import', 'tsx'],
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: string, timeoutMs: number) =>
    new Promise<{ type: string; summary?: DeliverySummary }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscriber child: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (m: { type: string; summary?: DeliverySummary }) => {
        if (m.type !== type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`subscriber child exited with ${code}`));
      });
    });
  try {
    await next('ready', 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    markCpu: () => child.send({ type: 'mark' }),
    summary: async (from, to) => {
      const reply = next('summary', 20_000);
      child.send({ type: 'summary', from, to });
      try {
        return (await reply).summary!;
      } finally {
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }
    },
  };
}

interface DeliveryRun {
  readonly summary: DeliverySummary;
  readonly sent: number;
  /** Changes stamped at or after the start of the measured window. */
  readonly measured: number;
  readonly pushes: number;
  readonly acked: number;
  readonly relayCpuMs: number;
  readonly benchCpuMs: number;
  readonly wallMs: number;
  readonly notable: string[];
}

/** One writer at `rate` changes/s, a push every `tickMs` carrying the changes due; `count` subscribers. */
async function deliveryRun(tickMs: number, where: 'child' | 'inproc', scenario: string): Promise<DeliveryRun> {
  const SUBSCRIBERS = 100;
  const RATE = 1000;
  const WARM_MS = 1000;
  const MEASURE_MS = 5000;
  const collection = 'live';
  const { db, cleanup } = tempDb('delivery');
  const relay = await startRelay({ db, kind: 'cli', profileDir: profileDir(scenario) });
  try {
    const subs = await subscribersIn(where, relay.url, SUBSCRIBERS, collection);
    const writer = await WireClient.open(relay.url);
    const replica = newReplicaId();
    await writer.hello(replica);
    let acked = 0;
    let writerFailure: string | undefined;
    writer.onFrame = (text) => {
      const frame = JSON.parse(text) as Envelope;
      if (frame.type === 'ack') acked += frame.results!.length;
      else if (frame.type === 'error') writerFailure ??= `${frame.code}: ${frame.message}`;
    };
    let sent = 0;
    let measured = 0;
    let pushes = 0;
    let from = 0;
    let relayCpu0 = 0;
    let benchCpu0 = process.cpuUsage();
    const start = nowMs();
    const end = start + WARM_MS + MEASURE_MS;
    for (let now = nowMs(); now < end; now = nowMs()) {
      if (from === 0 && now - start >= WARM_MS) {
        from = now;
        relayCpu0 = relay.cpuMs();
        benchCpu0 = process.cpuUsage();
        subs.markCpu();
      }
      const due = Math.floor(((now - start) * RATE) / 1000) + 1 - sent;
      if (due > 0) {
        const changes = Array.from({ length: Math.min(due, 1000) }, () => {
          const n = ++sent;
          const at = nowMs();
          if (from !== 0) measured++;
          return blindChange(collection, `k${n}`, replica, n, encodeValue(cartValue(n, { [SENT_AT]: at })), Math.floor(at));
        });
        writer.send(pushText(`p${++pushes}`, changes));
      }
      await sleep(tickMs);
    }
    const wallMs = nowMs() - from;
    const relayCpuMs = relay.cpuMs() - relayCpu0;
    const bench = process.cpuUsage(benchCpu0);
    await sleep(1000); // stragglers
    const summary = await subs.summary(from);
    writer.close();
    if (writerFailure !== undefined) summary.errors.push(`writer: ${writerFailure}`);
    return { summary, sent, measured, pushes, acked, relayCpuMs, benchCpuMs: (bench.user + bench.system) / 1000, wallMs, notable: relay.notable.slice(0, 3) };
  } finally {
    await relay.stop();
    cleanup();
  }
}

async function delivery(): Promise<string> {
  const lines = [
    `100 subscribers (cursor null, live after catch-up of an empty collection) and 1 writer pushing blind writes to new keys at a fixed 1,000 changes/s: ` +
      `1 s warm-up, then 5 s measured. Latency = receive time at the subscriber − send time embedded in the value (same machine clock, sub-ms). ` +
      `The writer runs in the bench process; the subscribers run ${subsWhere === 'child' ? 'in one child process (bench/relay/subscribers-child.ts)' : 'in the bench process too (both CPU columns are then that one process)'}. ` +
      `Relay: the CLI, SQLite file. CPU: % of one core over the measured 5 s.`,
    '',
    '| pushes | deliveries (expected) | p50 ms | p99 ms | p99.9 ms | max ms | live frames | relay CPU | subscribers CPU | writer CPU | note |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const targets: string[] = [];
  for (const [tickMs, label] of [
    [1, 'one every ~1 ms (~1 change each)'],
    [10, 'one every ~10 ms (~10 changes each)'],
  ] as const) {
    const run = await deliveryRun(tickMs, subsWhere, `delivery-${tickMs}ms`);
    const s = run.summary;
    const note = [
      ...(s.closed > 0 ? [`${s.closed} subscribers closed`] : []),
      ...run.notable.map((line) => (JSON.parse(line) as { msg?: string }).msg ?? line),
      ...s.errors,
      ...(run.acked < run.sent ? [`${run.sent - run.acked} changes unacked at the end`] : []),
    ].join('; ');
    lines.push(
      `| ${label}, ${fmt(run.pushes)} pushes | ${fmt(s.count)} (${fmt(run.measured * s.subscribers)}) | ${fmt(s.p50, 1)} | ${fmt(s.p99, 1)} | ${fmt(s.p999, 1)} | ${fmt(s.max, 1)} | ${fmt(s.frames)} | ` +
        `${cpuPct(run.relayCpuMs, run.wallMs)} | ${cpuPct(s.cpuMs, s.wallMs)} | ${cpuPct(run.benchCpuMs, run.wallMs)} | ${note} |`,
    );
    targets.push(`${label}: p99 ${fmt(s.p99, 1)} ms (target ≤ 20 ms: ${s.p99 <= 20 ? 'met' : `MISSED by ${fmt(s.p99 - 20, 1)} ms`})`);
  }
  lines.push('', ...targets.map((t) => `- delivery, ${t}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// c. catch-up

async function seed(url: string, keys: number, collection: string): Promise<number> {
  const CONNS = 4;
  const PER_PUSH = 1000;
  const replicas = Array.from({ length: CONNS }, newReplicaId);
  const clients = await connectAll(url, CONNS, (c, i) => c.hello(replicas[i]!));
  const pushesPerConn = Math.ceil(keys / PER_PUSH / CONNS);
  const queues = replicas.map((replica, c) =>
    Array.from({ length: pushesPerConn }, (_, p) =>
      pushText(
        `p${p}`,
        Array.from({ length: PER_PUSH }, (_, j) => {
          const n = p * PER_PUSH + j + 1;
          return blindChange(collection, `cart-${c}-${String(n).padStart(6, '0')}`, replica, n, encodedCarts[n % encodedCarts.length]!);
        }),
      ),
    ),
  );
  const run = await pushAll(() => 0, clients, queues, 2, 60_000);
  for (const c of clients) c.close();
  if (run.failure !== undefined) throw new Error(`seeding failed: ${run.failure}`);
  return run.changes;
}

interface CatchupRun {
  readonly ms: number;
  readonly welcomeMs: number;
  readonly docs: number;
  readonly frames: number;
  readonly bytes: number;
  readonly rssBeforeKB: number;
  readonly peakSampledKB: number;
  readonly hwmKB: number;
  readonly relayCpuMs: number;
  readonly clientCpuMs: number;
}

async function catchupOnce(db: string, collection: string, expected: number, scenario: string): Promise<CatchupRun> {
  const relay = await startRelay({ db, kind: 'cli', profileDir: profileDir(scenario) });
  try {
    await sleep(300);
    const rssBeforeKB = relay.rssKB();
    const relayCpu0 = relay.cpuMs();
    const client = await WireClient.open(relay.url);
    const sampler = sampleRss(() => relay.rssKB(), 5);
    let docs = 0;
    let frames = 0;
    let bytes = 0;
    let failure: string | undefined;
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    const done = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`catch-up not done within 30 s (${docs} docs; ${failure ?? ''})`)), 30_000);
      client.onFrame = (text, at) => {
        frames++;
        bytes += text.length;
        const decoded = decodeRelayFrame(text, { maxFrameBytes: 64 * 1024 * 1024, maxChangesPerFrame: 100_000 });
        if (!decoded.ok) {
          failure = `invalid frame: ${decoded.error.message}`;
          return;
        }
        const frame = decoded.value;
        if (frame.type === 'error') failure = `${frame.code}: ${frame.message}`;
        if (frame.type !== 'changes') return;
        docs += frame.docs.length;
        // Applied: grant its size back, as a client does once the batch is stored.
        client.send(encodeFrame({ type: 'credit', collection, bytes: text.length }));
        if (frame.done === true) {
          clearTimeout(timer);
          resolve(at);
        }
      };
      void client.closed.then(({ code, reason }) => reject(new Error(`closed during catch-up (${code} ${reason}) after ${docs} docs`)));
    });
    const welcome = client.hello(newReplicaId(), [{ collection, cursor: null }]).then(() => nowMs());
    const [welcomeAt, doneAt] = await Promise.all([welcome, done]);
    const cpu = process.cpuUsage(cpu0);
    const { peakKB } = sampler.stop();
    const hwmKB = relay.hwmKB();
    const relayCpuMs = relay.cpuMs() - relayCpu0;
    client.close();
    if (docs !== expected) throw new Error(`catch-up delivered ${docs} docs, expected ${expected}`);
    return {
      ms: doneAt - t0,
      welcomeMs: welcomeAt - t0,
      docs,
      frames,
      bytes,
      rssBeforeKB,
      peakSampledKB: peakKB,
      hwmKB,
      relayCpuMs,
      clientCpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    await relay.stop();
  }
}

async function catchup(): Promise<string> {
  const KEYS = 100_000;
  const RUNS = 3;
  const collection = 'carts';
  const { db, cleanup } = tempDb('catchup');
  try {
    const seedRelay = await startRelay({ db, kind: 'unlimited' });
    const t0 = nowMs();
    let seeded: number;
    try {
      seeded = await seed(seedRelay.url, KEYS, collection);
    } finally {
      await seedRelay.stop();
    }
    const seedMs = nowMs() - t0;
    const lines = [
      `${fmt(seeded)} keys seeded with pushes of 1,000 changes (4 connections; rate limits lifted) in ${fmt(seedMs)} ms; ` +
        `then, ${RUNS} times, a fresh CLI relay process on that file and a fresh subscriber (cursor null) timed from sending hello to the \`done\` frame. ` +
        `The client validates every frame (decodeRelayFrame) and grants each frame's size back as credit. ` +
        `RSS: VmRSS before, peak sampled every 5 ms during catch-up, and VmHWM (peak over the process's life).`,
      '',
      '| run | hello → done ms | hello → welcome ms | keys/s | frames | MB sent | relay RSS before MB | peak RSS (sampled) MB | VmHWM MB | relay CPU | client CPU |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    const times: number[] = [];
    const peaks: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const run = await catchupOnce(db, collection, seeded, `catchup-${r + 1}`);
      times.push(run.ms);
      peaks.push(Math.max(run.hwmKB, run.peakSampledKB));
      lines.push(
        `| ${r + 1} | ${fmt(run.ms)} | ${fmt(run.welcomeMs, 1)} | ${fmt(run.docs / (run.ms / 1000))} | ${fmt(run.frames)} | ${mb(run.bytes / 1024)} | ${mb(run.rssBeforeKB)} | ${mb(run.peakSampledKB)} | ${mb(run.hwmKB)} | ` +
          `${cpuPct(run.relayCpuMs, run.ms)} | ${cpuPct(run.clientCpuMs, run.ms)} |`,
      );
    }
    const t = median(times);
    const p = median(peaks);
    lines.push(
      '',
      `- catch-up of ${fmt(KEYS)} keys: median ${fmt(t)} ms (target ≤ 2,000 ms: ${t <= 2000 ? 'met' : `MISSED by ${fmt(t - 2000)} ms`})`,
      `- relay peak RSS: median ${mb(p)} MB (target ≤ 300 MB: ${p <= 300 * 1024 ? 'met' : `MISSED by ${mb(p - 300 * 1024)} MB`})`,
    );
    return lines.join('\n');
  } finally {
    cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// d. idle memory per connection

/** Sessions the relay still holds open: each client got its welcome, so an open socket is a live session. */
function openSessions(clients: readonly WireClient[]): number {
  return clients.filter((c) => c.ws.readyState === c.ws.OPEN).length;
}

/** Median of a few RSS samples, `everyMs` apart. */
async function settledRss(relay: RelayChild, samples = 5, everyMs = 100): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    xs.push(relay.rssKB());
    await sleep(everyMs);
  }
  return median(xs);
}

async function idleOnce(subscribe: boolean): Promise<{ beforeKB: number; afterKB: number; open: number; connectMs: number }> {
  const N = 1000;
  const { db, cleanup } = tempDb('idle');
  const relay = await startRelay({ db, kind: 'cli', profileDir: profileDir(`idle-${subscribe ? 'sub' : 'nosub'}`) });
  const subs = subscribe ? [{ collection: 'carts', cursor: null }] : [];
  const hello = async (c: WireClient) => {
    const caughtUp = subscribe
      ? new Promise<void>((resolve) => {
          c.onFrame = (text) => {
            if ((JSON.parse(text) as Envelope).done === true) resolve();
          };
        })
      : Promise.resolve();
    await c.hello(newReplicaId(), subs);
    await withTimeout(caughtUp, 10_000, 'empty catch-up');
  };
  const clients: WireClient[] = [];
  try {
    // Warm-up: code paths compiled, ws and session machinery allocated once.
    const warm = await connectAll(relay.url, 20, hello);
    for (const c of warm) c.close();
    await sleep(1000);
    const beforeKB = await settledRss(relay);
    const t0 = nowMs();
    clients.push(...(await connectAll(relay.url, N, hello)));
    const connectMs = nowMs() - t0;
    await sleep(2000);
    const afterKB = await settledRss(relay);
    const open = openSessions(clients);
    return { beforeKB, afterKB, open, connectMs };
  } finally {
    for (const c of clients) c.close();
    await relay.stop();
    cleanup();
  }
}

async function idle(): Promise<string> {
  const lines = [
    `The CLI relay (fresh SQLite file); 20 connections opened and closed first (warm-up), RSS settled (median of 5 samples); then 1,000 connections ` +
      `opened (50 at a time), each through hello → welcome (and, with a subscription, its empty catch-up \`done\`); RSS after 2 s. Open sessions: clients whose socket the relay has not closed.`,
    '',
    '| connections | RSS before MB | RSS after MB | per connection KB | open sessions | connect ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const subscribe of [false, true]) {
    const r = await idleOnce(subscribe);
    lines.push(
      `| 1,000 × hello${subscribe ? ' + 1 subscription' : ', no subscription'} | ${mb(r.beforeKB)} | ${mb(r.afterKB)} | ${fmt((r.afterKB - r.beforeKB) / 1000, 1)} | ${fmt(r.open)} | ${fmt(r.connectMs)} |`,
    );
  }
  return lines.join('\n');
}

export async function runRelayBench(): Promise<string> {
  const scenarios: [string, string, () => Promise<string>][] = [
    ['ingest', 'a. ingest', ingest],
    ['delivery', 'b. delivery latency, 100 subscribers at 1,000 changes/s', delivery],
    ['catchup', 'c. catch-up of 100k keys', catchup],
    ['idle', 'd. idle memory per connection', idle],
  ];
  const out: string[] = [];
  for (const [name, title, run] of scenarios) {
    if (only !== undefined && !only.includes(name)) continue;
    const t0 = nowMs();
    out.push(`### ${title}`, '', await run(), '', `(${fmt((nowMs() - t0) / 1000, 1)} s)`, '');
  }
  return out.join('\n');
}
