// @converge/client in Chromium (Debian's, through playwright-core, the test suite's launcher):
// 10k writes through client.batch vs raw idb writing the same stores, 10k awaited puts, cold
// open of a 100k-document database to the first get, JS heap after loading; and the bundle
// size of the client entry with its dependencies. Runs the built packages (dist/).
//
// Environment: BENCH_CLIENT_DOCS (default 100000) documents for the cold-open database;
// BENCH_CLIENT_PROFILE=dir writes a Chromium CPU profile of the 10k batch there.
import { fileURLToPath } from 'node:url';
import { launchChromium, modulePage, serveBrowserApp } from '@converge/client/testing';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import type { ClientBenchApi } from './browser-bench.js';
import { measureBundle } from './bundle-size.js';

const DOCS = Number(process.env['BENCH_CLIENT_DOCS'] ?? 100_000);
const fmt = (n: number, digits = 0) => n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kb = (bytes: number) => `${fmt(bytes / 1024, 1)} kB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function call<K extends keyof ClientBenchApi>(
  page: Page,
  method: K,
  ...args: Parameters<ClientBenchApi[K]>
): Promise<Awaited<ReturnType<ClientBenchApi[K]>>> {
  return page.evaluate(([m, a]) => (globalThis as unknown as { clientBench: Record<string, (...x: unknown[]) => unknown> }).clientBench[m]!(...a), [
    method,
    args,
  ] as const) as Promise<Awaited<ReturnType<ClientBenchApi[K]>>>;
}

async function heapUsed(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}

/** A CPU profile (Chrome DevTools format) of one 10k batch-vs-raw pair. */
async function profileBatch(page: Page, dir: string): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
  await call(page, 'batchVsRaw', 10_000);
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/client-batch.cpuprofile`, JSON.stringify(profile));
}

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 60_000 });
}

export async function runClientBench(): Promise<string> {
  const size = await measureBundle();
  const script = await build({
    entryPoints: [fileURLToPath(new URL('./browser-bench.ts', import.meta.url))],
    bundle: true,
    minify: process.env['BENCH_CLIENT_PROFILE'] === undefined, // readable names in a profile
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const app = await serveBrowserApp({ '/': ['text/html', modulePage()], '/app.js': ['text/javascript', script.outputFiles[0]!.text] });
  const browser = await launchChromium();
  const rows: string[] = [];
  try {
    const page = await browser.page(`${app.origin}/`);
    await ready(page);
    await call(page, 'batchVsRaw', 1000); // warm-up
    const profileDir = process.env['BENCH_CLIENT_PROFILE'];
    if (profileDir !== undefined) await profileBatch(page, profileDir);
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await call(page, 'batchVsRaw', 10_000));
    const clientMs = median(runs.map((r) => r.clientMs));
    const rawMs = median(runs.map((r) => r.rawMs));
    const ratio = median(runs.map((r) => r.clientMs / r.rawMs));
    const puts = await call(page, 'awaitedPuts', 10_000);

    const name = `bench-cold-${Date.now()}`;
    const fill = await call(page, 'fill', name, DOCS);
    const opens: number[] = [];
    let heapAfterOpen = 0;
    let scan = { ms: 0, count: 0 };
    let heapAfterScan = 0;
    for (let i = 0; i < 5; i++) {
      await page.reload();
      await ready(page);
      const open = await call(page, 'coldOpen', name, `k${Math.floor(DOCS / 2)}`);
      if (!open.found) throw new Error('cold open: the document is missing');
      opens.push(open.ms);
      if (i === 0) {
        heapAfterOpen = await heapUsed(page);
        scan = await call(page, 'scanAll');
        heapAfterScan = await heapUsed(page);
      }
    }
    if (browser.errors.length > 0) throw new Error(`console errors: ${browser.errors.join('; ')}`);
    rows.push(
      '| measure | result | target |',
      '| --- | --: | --- |',
      `| 10k writes, \`client.batch\` (ack local, strict) | ${fmt(clientMs)} ms (${fmt((10_000 / clientMs) * 1000)} writes/s) | — |`,
      `| 10k writes, raw idb, same stores, one strict transaction | ${fmt(rawMs)} ms | — |`,
      `| client.batch ÷ raw idb (median of 5 pairs) | ${fmt(ratio, 2)}× | ≤ 1.5× ${ratio <= 1.5 ? '(met)' : '(**missed**)'} |`,
      `| 10k awaited \`put\`s, one by one (ack local) | ${fmt(puts.ms)} ms (${fmt(puts.ms / 10_000, 2)} ms per put) | — |`,
      `| fill a ${fmt(DOCS)}-document database (batches of 10k) | ${fmt(fill.ms)} ms | — |`,
      `| cold open of the ${fmt(DOCS)}-document database to the first \`get\` (page reloaded; median of 5, range ${fmt(Math.min(...opens))}–${fmt(Math.max(...opens))} ms) | ${fmt(median(opens))} ms | ≤ 300 ms ${median(opens) <= 300 ? '(met)' : '(**missed**)'} |`,
      `| JS heap after that open and get (after GC) | ${kb(heapAfterOpen)} | — |`,
      `| \`scan()\` of all ${fmt(scan.count)} documents | ${fmt(scan.ms)} ms | — |`,
      `| JS heap holding the ${fmt(scan.count)} scanned documents (after GC) | ${kb(heapAfterScan)} | — |`,
    );
  } finally {
    await browser.close();
    browser.removeProfile();
    await app.close();
  }
  const shares = Object.entries(size.shares)
    .map(([pkg, bytes]) => `${pkg} ${kb(bytes)} gz`)
    .join(', ');
  const minShares = Object.entries(size.minShares)
    .sort((a, b) => b[1] - a[1])
    .map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`)
    .join(', ');
  rows.push(
    `| bundle: \`@converge/client\` entry with every dependency, minified + gzipped | ${kb(size.gzBytes)} (${kb(size.minBytes)} minified) | ≤ 20 kB gz ${size.gzBytes <= 20 * 1024 ? '(met)' : '(**missed**)'} |`,
    `| bundle shares (gz bytes each package adds) | ${shares} | — |`,
    `| bundle shares (minified bytes) | ${minShares} | — |`,
    `| the client's own code alone (every dependency left out), minified + gzipped | ${kb(size.ownGzBytes)} | — |`,
  );
  return rows.join('\n');
}
