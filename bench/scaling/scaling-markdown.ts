// The scaling suite's Markdown: one table per part, the fitted exponents, and the targets.
import { factsLine } from '../results-store.js';
import { median, pairRatios, spread, type Spread } from '../peers/stats.js';
import { powerLawExponent } from './fit.js';
import type { ScalingResults } from './scaling-results.js';
import type { CurveResults, CurveRun } from './w1-curve.js';

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const sp = (s: Spread, digits = 0) => `${fmt(s.min, digits)} / **${fmt(s.median, digits)}** / ${fmt(s.max, digits)}`;
const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
const LABELS: Readonly<Record<string, string>> = {
  'converge-sqlite': 'Converge (relay CLI, SQLite)',
  yjs: 'Yjs (y-websocket server utils)',
  pouchdb: 'PouchDB (memory adapter, express-pouchdb)',
};
const isConverge = (s: string) => s.startsWith('converge');

function w1Section(r: NonNullable<ScalingResults['w1']>): string[] {
  const c: CurveResults = r.results;
  const counted = (system: string, records: number) =>
    c.runs.filter((x) => x.system === system && x.records === records && x.round > 0).sort((a, b) => a.round - b.round);
  const lines = [
    '### W1 catch-up at growing sizes',
    '',
    `${factsLine(r)} ${r.countedRuns} counted runs per system and size after one warm-up run; systems alternate run by run.`,
    '',
    "Records of ~106 B JSON (W1's). Each system and size is seeded once: Converge's relay stores A's writes in its SQLite file (A pushes them through the relay); " +
      "Yjs's relay starts from the document A would leave (A's one transaction per record, written to a file the relay loads at start, as a relay with persistence " +
      'loads a room). Every counted run is then a fresh relay process on that storage and a fresh replica B (its own process) that connects, applies everything ' +
      'and reads every record. PouchDB keeps memory only: A writes again before each of its runs, and it runs at the sizes where B finishes within 60 s. ' +
      'B time: connect → every record read. Relay peak RSS: VmHWM of the relay process after B is done (the relay started on stored records, so it is what serving ' +
      "B costs, plus, for Yjs, holding the document, and for PouchDB, A's writes). B's peak heap: V8's heap in use in B, sampled every 10 ms over the span; B's peak RSS: getrusage. " +
      "Ratio: B time ÷ the best peer's at that size (the peer with the lowest median), per run pair, median (min–max).",
    '',
    '| records | system | B ms, min / **median** / max | ÷ best peer, per run pair | B bytes received (per record) | relay peak RSS | B peak heap | B peak RSS |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const records of c.sizes) {
    const present = c.systems.filter((s) => counted(s, records).length > 0);
    const peers = present.filter((s) => !isConverge(s));
    const best = peers.sort((a, b) => median(counted(a, records).map((x) => x.ms)) - median(counted(b, records).map((x) => x.ms)))[0];
    for (const system of c.systems) {
      const runs = counted(system, records);
      if (runs.length === 0) {
        const skip = c.skipped.find((s) => s.system === system && s.records <= records);
        lines.push(
          `| ${fmt(records)} | ${LABELS[system] ?? system} | — (${skip === undefined ? 'not run' : skip.records === records ? 'see below' : `stopped at ${fmt(skip.records)}`}) | | | | | |`,
        );
        continue;
      }
      const ratio =
        best === undefined || system === best
          ? system === best
            ? '1'
            : '—'
          : (() => {
              const other = counted(best, records);
              const n = Math.min(runs.length, other.length);
              const p = pairRatios(
                runs.slice(0, n).map((x) => x.ms),
                other.slice(0, n).map((x) => x.ms),
              );
              return `**${fmt(p.median, 2)}×** (${fmt(p.min, 2)}–${fmt(p.max, 2)})`;
            })();
      const bytes = median(runs.map((x) => x.bytesIn));
      lines.push(
        `| ${fmt(records)} | ${LABELS[system] ?? system} | ${sp(spread(runs.map((x) => x.ms)))} | ${ratio} | ${mb(bytes)} (${fmt(bytes / records)} B) | ` +
          `${mb(median(runs.map((x) => x.relayHwmKB)) * 1024)} | ${mb(median(runs.map((x) => x.peakHeapBytes)))} | ${mb(median(runs.map((x) => x.maxRssKB)) * 1024)} |`,
      );
    }
  }
  lines.push('', 'Exponent k of B time ∝ N^k (least squares over the sizes each system finished; medians), and between consecutive sizes:', '');
  lines.push('| system | k, all sizes | k between consecutive sizes | relay peak RSS, smallest → largest size |', '| --- | ---: | --- | --- |');
  const fits: Record<string, { k: number; rss: [number, number] }> = {};
  for (const system of c.systems) {
    const points = c.sizes
      .map((n) => [n, counted(system, n)] as const)
      .filter(([, runs]) => runs.length > 0)
      .map(([n, runs]) => [n, median(runs.map((x: CurveRun) => x.ms)), median(runs.map((x: CurveRun) => x.relayHwmKB))] as const);
    if (points.length < 2) continue;
    const k = powerLawExponent(points.map(([n, ms]) => [n, ms]));
    const steps = points.slice(1).map(
      ([n, ms], i) =>
        `${fmt(points[i]![0])}→${fmt(n)}: ${fmt(
          powerLawExponent([
            [points[i]![0], points[i]![1]],
            [n, ms],
          ]),
          2,
        )}`,
    );
    fits[system] = { k, rss: [points[0]![2], points[points.length - 1]![2]] };
    lines.push(
      `| ${LABELS[system] ?? system} | **${fmt(k, 2)}** | ${steps.join('; ')} | ${mb(points[0]![2] * 1024)} → ${mb(points[points.length - 1]![2] * 1024)} |`,
    );
  }
  const conv = fits['converge-sqlite'];
  if (conv !== undefined) {
    lines.push(
      '',
      `- Converge: k = ${fmt(conv.k, 2)} (target ≤ 1.05: ${conv.k <= 1.05 ? 'met' : `**missed** by ${fmt(conv.k - 1.05, 2)}`}); relay peak RSS ${mb(conv.rss[0] * 1024)} at ${fmt(c.sizes[0]!)} records → ` +
        `${mb(conv.rss[1] * 1024)} at the largest size (target: does not grow with N: ${conv.rss[1] <= conv.rss[0] * 1.25 ? 'met' : `**missed** (+${mb((conv.rss[1] - conv.rss[0]) * 1024)})`}).`,
    );
  }
  for (const s of c.skipped) lines.push(`- ${LABELS[s.system] ?? s.system} at ${fmt(s.records)}: ${s.reason}`);
  if (c.profile !== undefined) lines.push('', "#### Where Converge's B spends its CPU at the largest size", '', c.profile);
  return lines;
}

function idleSection(r: NonNullable<ScalingResults['idle']>): string[] {
  const counts = [...new Set(r.results.map((x) => x.connections))];
  const lines = [
    '### Relay memory per idle connection',
    '',
    `${factsLine(r)} ${r.countedRuns} counted runs per count after one warm-up round; counts alternate run by run.`,
    '',
    'The CLI relay, a fresh process and SQLite file per run; 20 connections opened and closed first (warm-up), RSS settled (median of 5 samples 100 ms apart); ' +
      'then n connections (50 at a time), each through hello → welcome and a subscription to one collection (its empty catch-up to `done`); RSS 2 s later. ' +
      'Per connection: (RSS after − RSS before) ÷ n, kB = 1,024 bytes.',
    '',
    '| connections | per connection kB, min / **median** / max | RSS before (median) | RSS after (median) | open sessions (metrics) | connect ms (median) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const per: number[] = [];
  for (const n of counts) {
    const runs = r.results.filter((x) => x.connections === n && x.round > 0);
    const s = spread(runs.map((x) => x.perConnectionKB));
    per.push(s.max);
    lines.push(
      `| ${fmt(n)} | ${sp(s, 1)} | ${mb(median(runs.map((x) => x.beforeKB)) * 1024)} | ${mb(median(runs.map((x) => x.afterKB)) * 1024)} | ${fmt(Math.min(...runs.map((x) => x.open)))} | ${fmt(median(runs.map((x) => x.connectMs)))} |`,
    );
  }
  const worst = Math.max(...per);
  lines.push('', `- per connection ≤ 50 kB at every count (target): worst run ${fmt(worst, 1)} kB (${worst <= 50 ? 'met' : '**missed**'}).`);
  return lines;
}

function offlineSection(r: NonNullable<ScalingResults['offline']>): string[] {
  const o = r.results;
  const rows = [...new Set(o.runs.map((x) => `${x.fromNull ? 'null' : 'k'}:${x.k}`))];
  const lines = [
    `### Catch-up after k changes offline, out of ${fmt(o.records)} records`,
    '',
    `${factsLine(r)} ${r.countedRuns} counted runs per row after one warm-up run.`,
    '',
    `${fmt(o.records)} records (~106 B JSON) written by one replica (seeded in ${fmt(o.seedMs / 1000, 1)} s); a subscriber catches up from cursor null and keeps its last ` +
      'cursor; then k of the records are overwritten (distinct keys, each a new version over the one read); a client holding that cursor reconnects. The stages ' +
      'grow k on the same file; every run is a fresh relay process and a fresh client process that validates every frame and grants credit, timed from sending ' +
      'hello to the `done` frame.',
    '',
    '| since | changed keys delivered | hello → done ms, min / **median** / max | µs per delivered key (median) | frames | MB received | relay peak RSS (median) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const medians: [number, number][] = [];
  let nullMs = NaN;
  for (const key of rows) {
    const runs = o.runs.filter((x) => `${x.fromNull ? 'null' : 'k'}:${x.k}` === key && x.round > 0);
    const first = runs[0];
    if (first === undefined) continue;
    const ms = spread(runs.map((x) => x.run.ms));
    if (first.fromNull) nullMs = ms.median;
    else medians.push([first.k, ms.median]);
    lines.push(
      `| ${first.fromNull ? 'cursor null (all records)' : `cursor before ${fmt(first.k)} changes`} | ${fmt(first.run.docs)} | ${sp(ms, 1)} | ${fmt((1000 * ms.median) / first.run.docs, 1)} | ` +
        `${fmt(median(runs.map((x) => x.run.frames)))} | ${fmt(median(runs.map((x) => x.run.bytes)) / 1e6, 2)} | ${mb(median(runs.map((x) => x.relayHwmKB)) * 1024)} |`,
    );
  }
  if (medians.length >= 2) {
    const upper = medians.filter(([k]) => k >= 1000);
    const fitted = upper.length >= 2 ? upper : medians;
    const k = powerLawExponent(fitted);
    const smallest = medians[0]!;
    lines.push(
      '',
      `- time ∝ k: exponent ${fmt(k, 2)} over k = ${fitted.map(([kk]) => fmt(kk)).join(', ')} (medians: ${medians.map(([kk, ms]) => `${fmt(kk)}: ${fmt(ms, 1)} ms`).join(', ')}); ` +
        `not ∝ N: k = ${fmt(smallest[0])} takes ${fmt(smallest[1], 1)} ms against ${fmt(nullMs)} ms for all ${fmt(o.records)} records from cursor null.`,
    );
  }
  return lines;
}

function coldSection(r: NonNullable<ScalingResults['cold']>): string[] {
  return [
    '### Client cold open to the first `get`, Chromium',
    '',
    `${factsLine(r)} ${r.countedRuns} counted opens per size after one warm-up open.`,
    '',
    'One client database (IndexedDB storage) filled in stages through `client.batch` (10,000 writes per batch, ack local, strict durability); at each size ' +
      "the page is reloaded (a new JavaScript heap, the same IndexedDB) and `createClient` → the first `get` of a middle key is timed. Debian's Chromium, headless, the test suite's flags.",
    '',
    '| documents | cold open to first get ms, min / **median** / max | IndexedDB count() of the outbox alone ms, min / **median** / max | filling this stage ms | origin usage (navigator.storage.estimate) |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...r.results.map(
      (s) =>
        `| ${fmt(s.documents)} | ${sp(spread(s.opens))} | ${s.outboxCounts === undefined ? '—' : sp(spread(s.outboxCounts))} | ${fmt(s.fillMs)} | ${mb(s.usageBytes)} |`,
    ),
    '',
    'The database is filled without a relay, so every document is also a pending write in the outbox. The client keeps the number of pending ' +
      'writes in meta (`status.pending` is one read), so the open does not walk the outbox; the second column is what IndexedDB `count()` over the ' +
      'outbox store, which walks every entry, would take (the client counted it at every open until 2026-12-08, and the first `get` waited for it).',
  ];
}

export function scalingMarkdown(r: ScalingResults): string {
  const lines = [
    '`npm run bench -- scaling [--runs N] [--only w1,idle,offline,cold]` (bench/scaling/scaling.bench.ts lists every option; the peers install into ' +
      '`bench/peers/node_modules` on first use). Each part records the run it comes from and the load average during it.',
  ];
  if (r.w1 !== undefined) lines.push('', ...w1Section(r.w1));
  if (r.idle !== undefined) lines.push('', ...idleSection(r.idle));
  if (r.offline !== undefined) lines.push('', ...offlineSection(r.offline));
  if (r.cold !== undefined) lines.push('', ...coldSection(r.cold));
  return lines.join('\n');
}
