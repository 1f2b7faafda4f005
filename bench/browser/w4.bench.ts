// `npm run bench -- browser [options]` (W4): the three libraries side by side in Chromium
// (Debian's, the test suite's launcher and flags). Each counted round launches a fresh browser
// (a fresh profile); in it each system gets a fresh origin (so IndexedDB usage is its own):
// 10,000 records (W1's, ~106 B JSON) written through the library's IndexedDB persistence in its
// batch form, the bytes the origin then holds, a reload (a cold start) and the time to the first
// read. Systems alternate their order round by round. Converge's raw-idb baseline (the client
// bench's: the same stores and records written by hand in one strict transaction, right after
// the same batch through the client) runs on an origin of its own in the same round.
//   --runs N     counted rounds after one warm-up round (default 5)
//   --records N  records per write (default 10,000)
//   --systems a,b  converge, yjs, pouchdb (default all)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensurePeersInstalled } from '../peers/peers.bench.js';
import { median, pairRatios, spread, type Spread } from '../peers/stats.js';
import { expectedChecksum, recordKey, recordValue, touch } from '../peers/workload.js';
import { factsLine, rewriteSection, saveSuiteResults, startRun, type RunFacts } from '../results-store.js';
import { bundlePage, call, launchBenchBrowser, reload } from './harness.js';

const SYSTEMS = [
  { name: 'converge', label: 'Converge (`client.batch`, IndexedDB storage; ack local, strict durability)', page: './w4-converge-page.ts' },
  { name: 'yjs', label: 'Yjs (one transaction on a Y.Map, y-indexeddb)', page: './w4-yjs-page.mjs' },
  { name: 'pouchdb', label: "PouchDB (one bulkDocs, pouchdb-browser's idb adapter)", page: './w4-pouchdb-page.mjs' },
] as const;

export interface W4Run {
  readonly system: string;
  readonly round: number;
  readonly writeMs: number;
  readonly coldReadMs: number;
  /** navigator.storage.estimate().usage of the system's origin after the write, and after the cold read. */
  readonly usageAfterWrite: number;
  readonly usageAfterRead: number;
  /** Bytes of the origin's IndexedDB directory in the profile, after the cold read. */
  readonly diskBytes: number;
}

export interface RawRun {
  readonly round: number;
  readonly clientMs: number;
  readonly rawMs: number;
}

export interface W4Results extends RunFacts {
  readonly countedRuns: number;
  readonly records: number;
  readonly chromium: string;
  readonly runs: readonly W4Run[];
  readonly raw: readonly RawRun[];
}

/** Bytes under `dir`, files only. */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

/** The IndexedDB directories of `origin` (http://127.0.0.1:PORT) in a Chromium profile. */
function indexedDbBytes(userDataDir: string, origin: string): number {
  const port = new URL(origin).port;
  let total = 0;
  const walk = (dir: string, depth: number) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name.includes(`127.0.0.1_${port}`) && /indexeddb/i.test(path)) total += bytesUnder(path);
      else if (depth < 4) walk(path, depth + 1);
    }
  };
  walk(userDataDir, 0);
  return total;
}

export async function runW4Bench(argv: readonly string[] = process.argv.slice(3)): Promise<string> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string', default: '5' },
      records: { type: 'string', default: '10000' },
      systems: { type: 'string', default: 'converge,yjs,pouchdb' },
    },
  });
  const runs = Number(values.runs);
  const records = Number(values.records);
  const systems = values.systems.split(',');
  if (systems.some((s) => s !== 'converge')) ensurePeersInstalled();
  const run = startRun();
  const rounds = await runW4Rounds(systems, runs, records);
  const results: W4Results = { ...run.end(), countedRuns: runs, records, ...rounds };
  saveSuiteResults('browser', results);
  const markdown = w4Markdown(results);
  if (runs >= 5 && records === 10_000 && systems.length === SYSTEMS.length) await rewriteSection('browser', 'Browser side by side (W4)', markdown);
  else console.error('[browser] not a full-size run: bench/RESULTS.md left as it was');
  return markdown;
}

/** The rounds of W4 for `systemNames` (of SYSTEMS), Converge's raw-idb baseline in each round. */
export async function runW4Rounds(systemNames: readonly string[], runs: number, records: number): Promise<Pick<W4Results, 'chromium' | 'runs' | 'raw'>> {
  const chosen = SYSTEMS.filter((s) => systemNames.includes(s.name));
  const scripts = Object.fromEntries(
    await Promise.all(
      [...new Set([...chosen, SYSTEMS[0]])].map(async (s) => [s.name, await bundlePage(fileURLToPath(new URL(s.page, import.meta.url)))] as const),
    ),
  );
  const out: W4Run[] = [];
  const raw: RawRun[] = [];
  const key = recordKey(Math.ceil(records / 2));
  const expected = touch(recordValue(Math.ceil(records / 2)));
  void expectedChecksum;
  let chromium = '';
  for (let round = 0; round <= runs; round++) {
    const browser = await launchBenchBrowser();
    try {
      chromium ||= browser.session.context.browser()?.version() ?? 'unknown';
      const order = chosen.map((_, i) => chosen[(i + round) % chosen.length]!);
      for (const system of order) {
        const { page, app } = await browser.open(scripts[system.name]!);
        const name = `w4-${system.name}`;
        const write = await call<{ ms: number }>(page, 'write', name, records);
        const usageAfterWrite = await call<number>(page, 'usage');
        await reload(page);
        const read = await call<{ ms: number; checksum: number }>(page, 'coldRead', name, key);
        if (read.checksum !== expected) throw new Error(`${system.name}: the cold read found ${read.checksum}, expected ${expected}`);
        const usageAfterRead = await call<number>(page, 'usage');
        await page.close();
        const diskBytes = indexedDbBytes(browser.session.userDataDir, app.origin);
        out.push({ system: system.name, round, writeMs: write.ms, coldReadMs: read.ms, usageAfterWrite, usageAfterRead, diskBytes });
        console.error(
          `[browser] ${round === 0 ? 'warm-up' : `round ${round}`} ${system.name}: write ${write.ms.toFixed(0)} ms, cold read ${read.ms.toFixed(1)} ms, ` +
            `usage ${(usageAfterWrite / 1e6).toFixed(2)} MB, disk ${(diskBytes / 1e6).toFixed(2)} MB`,
        );
      }
      const { page } = await browser.open(scripts['converge']!);
      const pair = await page.evaluate(
        (n) => (globalThis as unknown as { clientBench: { batchVsRaw(n: number): Promise<{ clientMs: number; rawMs: number }> } }).clientBench.batchVsRaw(n),
        records,
      );
      raw.push({ round, ...pair });
      console.error(`[browser] ${round === 0 ? 'warm-up' : `round ${round}`} raw idb: client ${pair.clientMs.toFixed(0)} ms, raw ${pair.rawMs.toFixed(0)} ms`);
      if (browser.session.errors.length > 0) throw new Error(`console errors: ${browser.session.errors.join('; ')}`);
    } finally {
      await browser.close();
    }
  }
  return { chromium, runs: out, raw };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const sp = (s: Spread, digits = 0) => `${fmt(s.min, digits)} / **${fmt(s.median, digits)}** / ${fmt(s.max, digits)}`;
const mb = (bytes: number) => `${fmt(bytes / 1e6, 2)} MB`;

export function w4Markdown(r: W4Results): string {
  const counted = (system: string) => r.runs.filter((x) => x.system === system && x.round > 0).sort((a, b) => a.round - b.round);
  const present = SYSTEMS.filter((s) => r.runs.some((x) => x.system === s.name));
  const best = (pick: (x: W4Run) => number) =>
    present.filter((s) => s.name !== 'converge').sort((a, b) => median(counted(a.name).map(pick)) - median(counted(b.name).map(pick)))[0]?.name;
  const toBest = (system: string, pick: (x: W4Run) => number) => {
    const peer = best(pick);
    if (peer === undefined) return '—';
    if (system === peer) return '1';
    const p = pairRatios(counted(system).map(pick), counted(peer).map(pick));
    return `**${fmt(p.median, 2)}×** (${fmt(p.min, 2)}–${fmt(p.max, 2)})`;
  };
  const rawRuns = r.raw.filter((x) => x.round > 0);
  const rawRatio = spread(rawRuns.map((x) => x.clientMs / x.rawMs));
  const cold = (system: string) => median(counted(system).map((x) => x.coldReadMs));
  const convergeCold = cold('converge');
  const peersCold = present.filter((s) => s.name !== 'converge').map((s) => [s.name, cold(s.name)] as const);
  return [
    '`npm run bench -- browser [--runs N]` (bench/browser/w4.bench.ts). ' +
      `${factsLine(r)} ${r.chromium}, headless, the test suite's flags. ${r.countedRuns} counted rounds after a warm-up round; each round a fresh browser and profile, ` +
      "each system on a fresh origin in it (IndexedDB usage is per origin), systems' order rotating round by round.",
    '',
    `Each system writes the same ${fmt(r.records)} records (W1's, ~106 B JSON, keys \`key-00001\` …) in its batch form: Converge one \`client.batch\` ` +
      "(ack local: IndexedDB committed with `durability: 'strict'`), Yjs one transaction on a Y.Map that y-indexeddb stores as one update (its own " +
      "transactions, the browser's default durability; the time runs until that transaction committed), PouchDB one `bulkDocs` (pouchdb-browser's idb adapter, its " +
      'default durability). Then the page is reloaded (a new JavaScript heap, the same IndexedDB) and the library opened cold to its first read of a middle ' +
      'key: Converge `createClient` → `get`; Yjs a new Y.Doc, IndexeddbPersistence to `whenSynced` (it loads the whole document) → `get`; PouchDB `new PouchDB` → `get`. ' +
      "Bytes: the origin's `navigator.storage.estimate().usage` after the write, and its IndexedDB directory in the profile after the cold read " +
      '(Yjs keeps all the records in one update value, and its small figure is what Chromium stores for that value; Converge and PouchDB keep a record per document, ' +
      'Converge an outbox entry per write too). ' +
      "Ratios: ÷ the best peer's at that measure, per round, median (min–max).",
    '',
    '| system | write ms, min / **median** / max | write ÷ best peer | cold reload → first read ms | cold read ÷ best peer | usage after write | IndexedDB on disk |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...present.map((s) => {
      const runs = counted(s.name);
      return (
        `| ${s.label} | ${sp(spread(runs.map((x) => x.writeMs)))} | ${toBest(s.name, (x) => x.writeMs)} | ${sp(spread(runs.map((x) => x.coldReadMs)), 1)} | ` +
        `${toBest(s.name, (x) => x.coldReadMs)} | ${mb(median(runs.map((x) => x.usageAfterWrite)))} | ${mb(median(runs.map((x) => x.diskBytes)))} |`
      );
    }),
    '',
    "Converge's raw-idb baseline (bench/client/browser-bench.ts `batchVsRaw`: the client's batch, then the same stores and record shapes written by hand in one " +
      `strict transaction, back to back on an origin of their own): client ${sp(spread(rawRuns.map((x) => x.clientMs)))} ms, raw idb ${sp(spread(rawRuns.map((x) => x.rawMs)))} ms, ` +
      `client ÷ raw per pair ${sp(rawRatio, 2)}×.`,
    '',
    `- Converge's batch within 1.2× of raw idb: ${fmt(rawRatio.median, 2)}× median (${rawRatio.median <= 1.2 ? 'met' : `**missed** by ${fmt(rawRatio.median - 1.2, 2)}×`}).`,
    `- Converge ahead of both peers on cold reload: ${fmt(convergeCold, 1)} ms against ${peersCold.map(([n, ms]) => `${n} ${fmt(ms, 1)} ms`).join(', ')} (` +
      `${peersCold.every(([, ms]) => convergeCold < ms) ? 'met' : '**missed**'}).`,
  ].join('\n');
}
