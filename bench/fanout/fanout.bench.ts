// `npm run bench -- fanout [options]` (W3): the relay's fan-out, and what one slow subscriber does
// to everyone else. The relay is the CLI (SQLite file, rate limits lifted: the load is the
// point), a fresh process and database for every run; the load generator, the subscribers and
// the slow subscriber each run in a process of their own.
//   --runs N          counted rounds after one warm-up round (default 5)
//   --only a,b        parts: ingest, delivery, slow-close, search (default all)
//   --subscribers N   subscribers (default 100); --rate N offered changes/s (default 1,000)
//   --measure-ms N    measured window of a delivery run (default 5,000; 1 s of warm-up before it)
//   --writers N --changes N   ingest: writers and changes per writer (default 10 × 10,000)
//   --slow-close-ms N  how long the slow subscriber is kept on at most (default 150,000)
//   --profile         one more baseline delivery run with the relay under V8's CPU profiler (\`node --cpu-prof\`)
// Writes the `fanout` entry of bench/results/latest.json and, for a full-size run, the
// generated section of bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, spread, pairRatios, type Spread } from '../peers/stats.js';
import { buildQueues, connectAll, pushAll, subscribersIn } from '../relay/relay.bench.js';
import { startRelay, tempDb, sampleRss } from '../relay/relay-process.js';
import type { DeliverySummary } from '../relay/subscribers.js';
import { newReplicaId, nowMs, sleep } from '../relay/wire.js';
import { summarize as summarizeProfile } from '../profile-summary.js';
import { factsLine, loadSuiteResults, RESULTS_DIR, rewriteSection, saveSuiteResults, startRun, type RunFacts } from '../results-store.js';
import { forkChild } from './child.js';
import type { LoadRun } from './load-child.js';
import type { SlowSummary } from './slow-subscriber.js';

const LOAD_CHILD = fileURLToPath(new URL('./load-child.ts', import.meta.url));
const SLOW_CHILD = fileURLToPath(new URL('./slow-subscriber.ts', import.meta.url));
const COLLECTION = 'live';
const PARTS = ['ingest', 'delivery', 'slow-close', 'search'] as const;
const log = (line: string) => console.error(`[fanout] ${line}`);

export interface IngestResult {
  readonly round: number;
  readonly changes: number;
  readonly ms: number;
  readonly perSecond: number;
  readonly relayCpuMs: number;
  readonly failure?: string;
}

export interface DeliveryResult {
  readonly condition: 'baseline' | 'slow';
  readonly round: number;
  readonly rate: number;
  /** Subscribers reading at full speed (the slow one not included). */
  readonly subscribers: number;
  readonly load: LoadRun;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Changes/s delivered to each full-speed subscriber over the measured window: min and median. */
  readonly perSubscriberMin: number;
  readonly perSubscriberMedian: number;
  /** Deliveries to the full-speed subscribers, and what they should have been. */
  readonly delivered: number;
  readonly expected: number;
  readonly closed: number;
  readonly errors: readonly string[];
  readonly relayStartKB: number;
  readonly relayPeakKB: number;
  readonly relayEndKB: number;
  readonly relayCpuMs: number;
  readonly wallMs: number;
  readonly slow?: SlowSummary;
  /** The relay's log lines about sessions it closed (the slow one's 1013). */
  readonly closings: readonly string[];
  /** Relay RSS every second from the start of the load, kB (slow-close runs). */
  readonly rssTimeline?: readonly number[];
  /**
   * Every second, the kernel's queues of the slow subscriber's connection, bytes (`ss`): unsent at
   * the relay's socket (Send-Q) and unread at the slow subscriber's (Recv-Q); slow-close runs.
   */
  readonly queueTimeline?: readonly { readonly relaySendQ: number; readonly slowRecvQ: number }[];
}

export interface FanoutResults extends RunFacts {
  readonly countedRuns: number;
  readonly options: { readonly subscribers: number; readonly rate: number; readonly measureMs: number; readonly writers: number; readonly changes: number };
  readonly ingest: readonly IngestResult[];
  readonly delivery: readonly DeliveryResult[];
  readonly slowClose?: DeliveryResult;
  readonly search?: { readonly probes: readonly DeliveryResult[]; readonly highestPassing: number | null; readonly lowestFailing: number | null };
  /** Markdown summary of the relay's CPU profile over one more baseline delivery run (`--profile`). */
  readonly profile?: string;
  /** When and under which load each part ran (a part run alone keeps the others' last results). */
  readonly partFacts?: Readonly<Partial<Record<(typeof PARTS)[number], RunFacts>>>;
}

// ---------------------------------------------------------------------------------------------

export async function ingestOnce(round: number, writers: number, perWriter: number): Promise<IngestResult> {
  const PER_PUSH = 100;
  const { db, cleanup } = tempDb('fanout-ingest');
  const relay = await startRelay({ db, kind: 'unlimited' });
  try {
    const replicas = Array.from({ length: writers }, newReplicaId);
    const writeNumbers = replicas.map(() => 0);
    const clients = await connectAll(relay.url, writers, (c, i) => c.hello(replicas[i]!));
    // Warm-up in the same process: code compiled, the database file grown a little.
    await pushAll(() => relay.cpuMs(), clients, buildQueues('warm', replicas, 10, PER_PUSH, writeNumbers), 4, 30_000);
    const queues = buildQueues('run', replicas, Math.ceil(perWriter / PER_PUSH), PER_PUSH, writeNumbers);
    const run = await pushAll(() => relay.cpuMs(), clients, queues, 4, 120_000);
    for (const c of clients) c.close();
    return {
      round,
      changes: run.changes,
      ms: run.ms,
      perSecond: run.changes / (run.ms / 1000),
      relayCpuMs: run.relayCpuMs,
      ...(run.failure === undefined ? {} : { failure: run.failure }),
    };
  } finally {
    await relay.stop();
    cleanup();
  }
}

export interface DeliveryOptions {
  readonly condition: 'baseline' | 'slow';
  readonly round: number;
  readonly rate: number;
  readonly subscribers: number;
  readonly warmMs: number;
  readonly measureMs: number;
  /** Keep the load on after the measured window until the slow subscriber's connection ends, at most this long (ms). */
  readonly untilSlowClosedMs?: number;
  /** Run the relay under V8's CPU profiler, writing its profile here. */
  readonly profileDir?: string;
}

export async function deliveryOnce(o: DeliveryOptions): Promise<DeliveryResult> {
  const { db, cleanup } = tempDb('fanout-delivery');
  const relay = await startRelay({ db, kind: 'unlimited', profileDir: o.profileDir });
  const children: { kill(): void }[] = [];
  const maxMs = String(o.warmMs + o.measureMs + (o.untilSlowClosedMs ?? 0) + 120_000);
  try {
    const full = o.condition === 'slow' ? o.subscribers - 1 : o.subscribers;
    process.env['BENCH_SUBSCRIBERS_MAX_MS'] = maxMs; // read by the subscribers child: its own bound
    const subs = await subscribersIn('child', relay.url, full, COLLECTION);
    const slow = o.condition === 'slow' ? await forkChild(SLOW_CHILD, [relay.url, COLLECTION, '2', '5'], { BENCH_SUBSCRIBERS_MAX_MS: maxMs }) : undefined;
    if (slow !== undefined) children.push(slow);
    const runMs = o.measureMs + (o.untilSlowClosedMs ?? 0);
    const load = await forkChild(LOAD_CHILD, [relay.url, COLLECTION, String(o.rate), String(o.warmMs), String(runMs), String(o.measureMs)]);
    children.push(load);
    const relayStartKB = relay.rssKB();
    const sampler = sampleRss(() => relay.rssKB(), 50);
    const timeline: number[] = [];
    const queues: { relaySendQ: number; slowRecvQ: number }[] = [];
    const slowPort = slow?.ready['port'] as number | undefined;
    const tick = setInterval(() => {
      timeline.push(relay.rssKB());
      if (slowPort !== undefined && o.untilSlowClosedMs !== undefined) queues.push(kernelQueues(slowPort));
    }, 1000);
    const cpu0 = relay.cpuMs();
    const t0 = nowMs();
    load.send({ type: 'start' });
    if (slow !== undefined && o.untilSlowClosedMs !== undefined) {
      // Once the measured window is over, the load stops as soon as the relay ended the slow one's connection.
      const windowOver = sleep(o.warmMs + o.measureMs);
      void slow.next<{ type: 'ended'; at: number }>('ended', o.warmMs + runMs + 10_000).then(
        async () => {
          await windowOver;
          load.send({ type: 'stop' });
        },
        () => undefined,
      );
    }
    const { run } = await load.next<{ type: 'done'; run: LoadRun }>('done', o.warmMs + runMs + 30_000);
    clearInterval(tick);
    const relayCpuMs = relay.cpuMs() - cpu0;
    const wallMs = nowMs() - t0;
    await sleep(1000); // the last deliveries to the full-speed subscribers
    const window = { from: run.from, to: run.from + o.measureMs };
    const summary: DeliverySummary = await subs.summary(window.from, window.to);
    let slowSummary: SlowSummary | undefined;
    if (slow !== undefined) {
      slow.send({ type: 'summary', ...window });
      slowSummary = (await slow.next<{ type: 'summary'; summary: SlowSummary }>('summary', 20_000)).summary;
    }
    const { peakKB } = sampler.stop();
    const seconds = o.measureMs / 1000;
    const perSub = summary.perSubscriber.map((n) => n / seconds);
    return {
      condition: o.condition,
      round: o.round,
      rate: o.rate,
      subscribers: full,
      load: run,
      p50: summary.p50,
      p99: summary.p99,
      p999: summary.p999,
      max: summary.max,
      perSubscriberMin: Math.min(...perSub),
      perSubscriberMedian: median(perSub),
      delivered: summary.count,
      expected: run.measured * full,
      closed: summary.closed,
      errors: summary.errors,
      relayStartKB,
      relayPeakKB: peakKB,
      relayEndKB: relay.rssKB(),
      relayCpuMs,
      wallMs,
      ...(slowSummary === undefined ? {} : { slow: slowSummary }),
      closings: relay.notable.filter((line) => line.includes('closing session')).slice(0, 5),
      ...(o.untilSlowClosedMs === undefined ? {} : { rssTimeline: timeline, queueTimeline: queues }),
    };
  } finally {
    for (const c of children) c.kill();
    await relay.stop();
    cleanup();
  }
}

/**
 * The kernel's send and receive queues of the loopback connection whose client end is `port`
 * (`ss -tn`): Send-Q at the relay's end, Recv-Q at the client's. NaN where `ss` is missing.
 */
function kernelQueues(port: number): { relaySendQ: number; slowRecvQ: number } {
  const run = spawnSync('ss', ['-tnH', 'state', 'established'], { encoding: 'utf8' });
  let relaySendQ = NaN;
  let slowRecvQ = NaN;
  for (const line of (run.stdout ?? '').split('\n')) {
    const [recvQ, sendQ, local, peer] = line.trim().split(/\s+/);
    if (local === undefined || peer === undefined) continue;
    if (peer.endsWith(`:${port}`)) relaySendQ = Number(sendQ);
    if (local.endsWith(`:${port}`)) slowRecvQ = Number(recvQ);
  }
  return { relaySendQ, slowRecvQ };
}

/** A probe of the search passes when p99 ≤ 50 ms and every subscriber got ≥ 99% of the changes. */
const passes = (r: DeliveryResult) => r.p99 <= 50 && r.delivered >= 0.99 * r.expected && r.errors.length === 0 && r.closed === 0;

// ---------------------------------------------------------------------------------------------

function parseOptions(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '5' },
      only: { type: 'string', default: 'ingest,delivery,slow-close,search' },
      subscribers: { type: 'string', default: '100' },
      rate: { type: 'string', default: '1000' },
      'measure-ms': { type: 'string', default: '5000' },
      writers: { type: 'string', default: '10' },
      changes: { type: 'string', default: '10000' },
      profile: { type: 'boolean', default: false },
      'slow-close-ms': { type: 'string', default: '150000' },
    },
  });
  return {
    runs: Number(values.runs),
    only: new Set(values.only.split(',')),
    subscribers: Number(values.subscribers),
    rate: Number(values.rate),
    measureMs: Number(values['measure-ms']),
    writers: Number(values.writers),
    changes: Number(values.changes),
    profile: values.profile,
    slowCloseMs: Number(values['slow-close-ms']),
  };
}

export async function runFanoutBench(argv: readonly string[] = process.argv.slice(3)): Promise<string> {
  const o = parseOptions(argv);
  const run = startRun();
  const ingest: IngestResult[] = [];
  const delivery: DeliveryResult[] = [];
  let slowClose: DeliveryResult | undefined;
  let search: FanoutResults['search'];
  const partFacts: Partial<Record<(typeof PARTS)[number], RunFacts>> = {};
  const timed = async (part: (typeof PARTS)[number], body: () => Promise<void>) => {
    if (!o.only.has(part)) return;
    const facts = startRun();
    await body();
    partFacts[part] = facts.end();
  };
  await timed('ingest', async () => {
    for (let round = 0; round <= o.runs; round++) {
      const r = await ingestOnce(round, o.writers, o.changes);
      log(`ingest ${round === 0 ? 'warm-up' : `round ${round}`}: ${Math.round(r.perSecond)} changes/s${r.failure === undefined ? '' : ` (${r.failure})`}`);
      ingest.push(r);
    }
  });
  await timed('delivery', async () => {
    for (let round = 0; round <= o.runs; round++) {
      // The two conditions alternate which goes first, round by round.
      const order = round % 2 === 0 ? (['baseline', 'slow'] as const) : (['slow', 'baseline'] as const);
      for (const condition of order) {
        const r = await deliveryOnce({ condition, round, rate: o.rate, subscribers: o.subscribers, warmMs: 1000, measureMs: o.measureMs });
        log(
          `delivery ${round === 0 ? 'warm-up' : `round ${round}`} ${condition}: p50 ${r.p50.toFixed(1)} p99 ${r.p99.toFixed(1)} ms, ` +
            `${Math.round(r.perSubscriberMin)}–${Math.round(r.perSubscriberMedian)}/s per subscriber, relay peak ${Math.round(r.relayPeakKB / 1024)} MB` +
            (r.slow === undefined ? '' : `; slow one read ${r.slow.messages} messages, close ${r.slow.closeCode ?? 'none'}`),
        );
        delivery.push(r);
      }
    }
  });
  await timed('slow-close', async () => {
    slowClose = await deliveryOnce({
      condition: 'slow',
      round: 1,
      rate: o.rate,
      subscribers: o.subscribers,
      warmMs: 1000,
      measureMs: o.measureMs,
      untilSlowClosedMs: o.slowCloseMs,
    });
    log(
      `slow-close: ${slowClose.closings.length} sessions closed; slow one ended ${slowClose.slow?.endedAt === null ? 'never' : `${Math.round(slowClose.slow!.endedAt! - slowClose.load.from)} ms after the window`}`,
    );
  });
  await timed('search', async () => {
    const probes: DeliveryResult[] = [];
    const probe = async (rate: number) => {
      const r = await deliveryOnce({ condition: 'baseline', round: probes.length + 1, rate, subscribers: o.subscribers, warmMs: 1000, measureMs: 3000 });
      log(`search ${rate}/s: p99 ${r.p99.toFixed(1)} ms, delivered ${((100 * r.delivered) / r.expected).toFixed(1)}% → ${passes(r) ? 'pass' : 'fail'}`);
      probes.push(r);
      return passes(r);
    };
    let lo: number | null = null;
    let hi: number | null = null;
    // From the offered load of the delivery runs, doubling while probes pass (or halving while
    // they fail, down to 125/s), then halving the gap to within 10%: at most 12 probes.
    if (await probe(o.rate)) {
      lo = o.rate;
      for (let rate = o.rate * 2; rate <= 256_000 && probes.length < 12; rate *= 2) {
        if (await probe(rate)) lo = rate;
        else {
          hi = rate;
          break;
        }
      }
    } else {
      hi = o.rate;
      for (let rate = o.rate / 2; rate >= 125 && probes.length < 12; rate /= 2) {
        if (await probe(rate)) {
          lo = rate;
          break;
        }
        hi = rate;
      }
    }
    while (lo !== null && hi !== null && hi / lo > 1.1 && probes.length < 12) {
      // The geometric middle, rounded to two significant digits; stop once that is an end.
      const step = 10 ** (Math.floor(Math.log10(lo)) - 1);
      const mid = Math.round(Math.sqrt(lo * hi) / step) * step;
      if (mid <= lo || mid >= hi) break;
      if (await probe(mid)) lo = mid;
      else hi = mid;
    }
    search = { probes, highestPassing: lo, lowestFailing: hi };
  });
  let profile: string | undefined;
  if (o.profile) {
    const dir = join(RESULTS_DIR, 'fanout-relay-profile');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const r = await deliveryOnce({
      condition: 'baseline',
      round: -1,
      rate: o.rate,
      subscribers: o.subscribers,
      warmMs: 1000,
      measureMs: o.measureMs,
      profileDir: dir,
    });
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (file !== undefined) {
      profile =
        `One more baseline delivery run (not counted: p99 ${r.p99.toFixed(1)} ms with the profiler on; load average ${loadavg()[0]!.toFixed(2)} at its end), the relay under V8's CPU profiler (\`node --cpu-prof\`) ` +
        `over its whole life (bench/results/fanout-relay-profile/, not committed):\n\n${summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Parameters<typeof summarizeProfile>[0], 15)}`;
    }
  }
  // A part not run this time keeps its last results (and when and under which load they were taken).
  const previous = loadSuiteResults<FanoutResults>('fanout');
  const kept = (part: (typeof PARTS)[number]) => !o.only.has(part) && previous !== undefined;
  const previousFacts = (part: (typeof PARTS)[number]) => previous?.partFacts?.[part] ?? previous;
  const facts = run.end();
  const results: FanoutResults = {
    ...facts,
    countedRuns: o.runs,
    options: { subscribers: o.subscribers, rate: o.rate, measureMs: o.measureMs, writers: o.writers, changes: o.changes },
    ingest: kept('ingest') ? previous!.ingest : ingest,
    delivery: kept('delivery') ? previous!.delivery : delivery,
    ...((kept('slow-close') ? previous!.slowClose : slowClose) === undefined ? {} : { slowClose: kept('slow-close') ? previous!.slowClose! : slowClose! }),
    ...((kept('search') ? previous!.search : search) === undefined ? {} : { search: kept('search') ? previous!.search! : search! }),
    ...((profile ?? previous?.profile) === undefined ? {} : { profile: profile ?? previous!.profile! }),
    partFacts: Object.fromEntries(
      PARTS.flatMap((part) => {
        const f = o.only.has(part) ? partFacts[part] : previousFacts(part);
        return f === undefined ? [] : [[part, pickFacts(f)]];
      }),
    ),
  };
  saveSuiteResults('fanout', results);
  const markdown = fanoutMarkdown(results);
  const defaults = o.runs >= 5 && o.subscribers === 100 && o.rate === 1000 && o.writers === 10 && o.changes === 10_000;
  const full = defaults && results.ingest.length > 0 && results.delivery.length > 0 && results.slowClose !== undefined && results.search !== undefined;
  if (full) await rewriteSection('fanout', 'Fan-out and one slow subscriber (W3)', markdown);
  else log('not a full-size run of every part: bench/RESULTS.md left as it was');
  return markdown;
}

/** The run facts alone, out of a results object that holds them. */
const pickFacts = (f: RunFacts): RunFacts => ({ startedAt: f.startedAt, commit: f.commit, seconds: f.seconds, machine: f.machine, loadavg: f.loadavg });

// ---------------------------------------------------------------------------------------------

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const mb = (kb: number) => fmt(kb / 1024, 0);
const sp = (s: Spread, digits = 0) => `${fmt(s.min, digits)} / **${fmt(s.median, digits)}** / ${fmt(s.max, digits)}`;
const counted = <T extends { round: number }>(xs: readonly T[]) => xs.filter((x) => x.round > 0);

export function fanoutMarkdown(r: FanoutResults): string {
  const lines = [
    '`npm run bench -- fanout [--runs N] [--only ingest,delivery,slow-close,search]` (bench/fanout/). The relay is the CLI on a SQLite file (WAL, `synchronous=FULL`) ' +
      'with its rate limits lifted, a fresh process and database for every run. The load generator (one writer, bench/fanout/load-child.ts), the subscribers ' +
      '(bench/relay/subscribers-child.ts) and the slow subscriber (bench/fanout/slow-subscriber.ts) each run in a process of their own, all on the same 2 cores as the relay.',
  ];
  const partLine = (part: (typeof PARTS)[number]) => factsLine(r.partFacts?.[part] ?? r);
  const ingest = counted(r.ingest);
  if (ingest.length > 0) {
    const rates = spread(ingest.map((x) => x.perSecond));
    lines.push(
      '',
      `### Ingest: ${r.options.writers} writers × ${fmt(r.options.changes)} changes, no subscribers`,
      '',
      partLine('ingest'),
      '',
      `Each writer its own connection and replica id, pushes of 100 blind writes to new keys, 4 pushes in flight; a warm-up of 10 × 1,000 changes in the same relay ` +
        `process first. ${ingest.length} counted runs (and one warm-up run), each a fresh relay process and database.`,
      '',
      '| run | changes | ms | changes/s | relay CPU per change µs |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...ingest.map(
        (x) =>
          `| ${x.round} | ${fmt(x.changes)} | ${fmt(x.ms)} | ${fmt(x.perSecond)} | ${fmt((1000 * x.relayCpuMs) / x.changes, 1)} |${x.failure === undefined ? '' : ` ${x.failure}`}`,
      ),
      '',
      `- ingest: ${sp(rates)} changes/s (min / median / max; target ≥ 50,000: ${rates.median >= 50_000 ? 'met' : `**missed** by ${fmt(100 * (1 - rates.median / 50_000))}%`})`,
    );
  }
  const base = counted(r.delivery.filter((x) => x.condition === 'baseline'));
  const slow = counted(r.delivery.filter((x) => x.condition === 'slow'));
  if (base.length > 0 && slow.length === base.length) {
    const row = (label: string, xs: readonly DeliveryResult[]) =>
      `| ${label} | ${sp(spread(xs.map((x) => x.p50)), 1)} | ${sp(spread(xs.map((x) => x.p99)), 1)} | ${fmt(median(xs.map((x) => x.max)), 1)} | ` +
      `${sp(spread(xs.map((x) => x.perSubscriberMin)))} | ${fmt(median(xs.map((x) => x.delivered / x.expected)) * 100, 2)}% | ${fmt(median(xs.map((x) => x.relayPeakKB)) / 1024)} MB | ${fmt(median(xs.map((x) => (100 * x.relayCpuMs) / x.wallMs)))}% |`;
    const p99Ratio = pairRatios(
      slow.map((x) => x.p99),
      base.map((x) => x.p99),
    );
    const rateRatio = pairRatios(
      slow.map((x) => x.perSubscriberMin),
      base.map((x) => x.perSubscriberMin),
    );
    const basep99 = median(base.map((x) => x.p99));
    const slowOnes = slow.map((x) => x.slow!);
    lines.push(
      '',
      `### Delivery: ${r.options.subscribers} subscribers at ${fmt(r.options.rate)} changes/s, and with one slow subscriber`,
      '',
      partLine('delivery'),
      '',
      `The writer pushes blind writes to new keys at a fixed ${fmt(r.options.rate)} changes/s, one push every ~1 ms; 1 s of warm-up, then ${fmt(r.options.measureMs / 1000)} s measured. ` +
        `Latency: receive time at a subscriber − the send time in the value (one clock on one machine). Per-subscriber rate: changes sent in the window that each ` +
        `subscriber received, ÷ the window (the slowest full-speed subscriber's). **baseline**: ${r.options.subscribers} subscribers reading at full speed. ` +
        `**with one slow subscriber**: ${r.options.subscribers - 1} at full speed and one reading one message every 2–5 ms (a raw socket read at that pace, ` +
        `so its unread bytes back up through the kernel to the relay). The two conditions alternate run by run (${base.length} counted rounds after a warm-up round); ` +
        'min / **median** / max over the rounds.',
      '',
      '| condition | p50 ms | p99 ms | max ms (median) | changes/s per subscriber, slowest | delivered (median) | relay peak RSS (median) | relay CPU, % of a core (median) |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      row(`baseline: ${r.options.subscribers} subscribers`, base),
      row(`with one slow subscriber: the other ${r.options.subscribers - 1}`, slow),
      '',
      `| slow-subscriber isolation (per round pair) | with slow ÷ baseline: median (min–max) |`,
      '| --- | ---: |',
      `| p99 of the others | ${fmt(p99Ratio.median, 2)}× (${fmt(p99Ratio.min, 2)}–${fmt(p99Ratio.max, 2)}) |`,
      `| slowest other subscriber's rate | ${fmt(rateRatio.median, 2)}× (${fmt(rateRatio.min, 2)}–${fmt(rateRatio.max, 2)}) |`,
      '',
      `The slow subscriber itself, per round: messages read ${slowOnes.map((s) => fmt(s.messages)).join(', ')}; its lag at the end of the window ` +
        `(max latency of what it read) ${slowOnes.map((s) => `${fmt(s.max / 1000, 1)} s`).join(', ')}; closed by the relay within the run: ` +
        `${slowOnes.filter((s) => s.closeCode !== null || s.endedAt !== null).length} of ${slowOnes.length}.`,
      '',
      `- p99 ≤ 20 ms at ${fmt(r.options.rate)} changes/s to ${r.options.subscribers} subscribers: ${fmt(basep99, 1)} ms median (${basep99 <= 20 ? 'met' : `**missed** by ${fmt(basep99 - 20, 1)} ms`})`,
      `- no change to the others with the slow one present: p99 ${fmt(p99Ratio.median, 2)}×, rate ${fmt(rateRatio.median, 2)}× of the baseline, per round pair (median)`,
    );
  }
  if (r.slowClose !== undefined) {
    const s = r.slowClose;
    const ended = s.slow?.endedAt;
    lines.push(
      '',
      '### The slow subscriber kept on',
      '',
      partLine('slow-close'),
      '',
      `One more run with one slow subscriber, the load kept on for up to ${fmt((s.wallMs - 1000) / 1000)} s until the relay ends the slow one's connection. ` +
        `The relay closes a live subscriber whose unsent bytes pass \`maxBufferedBytes\` (8 MiB by default) with 1013 (try again later: reconnect and catch up from its cursor). ` +
        'It also pings every connection each `limits.heartbeatMs` (15 s) and terminates one whose pong has not come back by the next ping, without a close frame: ' +
        'a reader more than ~15 s behind reads the ping too late to answer it. Either way the client reconnects and catches up from its cursor.',
      '',
      `- the slow one: ${s.slow?.closeCode !== null && s.slow?.closeCode !== undefined ? `close frame ${s.slow.closeCode} (${s.slow.closeReason})` : 'no close frame read'}; ` +
        `connection ended ${ended === null || ended === undefined ? 'never, within the run' : `${fmt((ended - s.load.from) / 1000, 1)} s after the measured window began`}; ` +
        `the relay's log: ${s.closings.length === 0 ? 'no session closed' : s.closings.map((l) => `\`${(JSON.parse(l) as { msg?: string }).msg ?? l}\``).join('; ')}`,
      `- relay RSS every second from the start of the load, MB: ${(s.rssTimeline ?? []).map((kb) => mb(kb)).join(', ')} (peak ${mb(s.relayPeakKB)} MB)`,
      ...(s.queueTimeline === undefined || s.queueTimeline.length === 0
        ? []
        : [
            `- the slow connection's kernel queues every 10 s (\`ss\`), MB unsent at the relay + unread at the slow subscriber: ${s.queueTimeline
              .filter((_, i) => i % 10 === 9)
              .map((q) => `${fmt(q.relaySendQ / 1e6, 1)} + ${fmt(q.slowRecvQ / 1e6, 1)}`)
              .join(', ')}`,
          ]),
      `- the other ${s.subscribers} over the first ${fmt(r.options.measureMs / 1000)} s: p99 ${fmt(s.p99, 1)} ms, slowest ${fmt(s.perSubscriberMin)} changes/s`,
    );
  }
  if (r.search !== undefined) {
    lines.push(
      '',
      `### Highest offered load with p99 ≤ 50 ms (${r.options.subscribers} subscribers)`,
      '',
      partLine('search'),
      '',
      `Binary search over the offered load (from ${fmt(r.options.rate)} changes/s, doubling while probes pass or halving while they fail, then halving the gap to within 10%); each probe a fresh relay, ` +
        '1 s warm-up and 3 s measured; a probe passes when p99 ≤ 50 ms and every subscriber received ≥ 99% of the changes.',
      '',
      '| offered changes/s | p50 ms | p99 ms | delivered | slowest subscriber changes/s | relay CPU | verdict |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...r.search.probes.map(
        (p) =>
          `| ${fmt(p.rate)} | ${fmt(p.p50, 1)} | ${fmt(p.p99, 1)} | ${fmt((100 * p.delivered) / p.expected, 1)}% | ${fmt(p.perSubscriberMin)} | ${fmt((100 * p.relayCpuMs) / p.wallMs)}% | ${passes(p) ? 'pass' : 'fail'} |`,
      ),
      '',
      `- highest passing offered load: ${r.search.highestPassing === null ? 'none' : `${fmt(r.search.highestPassing)} changes/s`}` +
        (r.search.lowestFailing === null ? '' : ` (${fmt(r.search.lowestFailing)} failed)`),
    );
  }
  if (r.profile !== undefined) lines.push('', '### Where the relay spends its CPU at 1,000 changes/s to 100 subscribers', '', r.profile);
  return lines.join('\n');
}
