// Client cold open to the first `get` at growing database sizes, in Chromium: one database
// filled in stages (10k, then to 100k, then to 1M documents through client.batch, 10,000 per
// batch); at each size the page is reloaded (a cold start: new heap, the same IndexedDB) and
// createClient → first get of a middle key is timed, once as a warm-up and then `runs` times;
// then, after a reload each, IndexedDB's own count() of the outbox store (the database was
// filled without a relay, so every document is a pending write), `runs` times.
import { fileURLToPath } from 'node:url';
import { bundlePage, call, launchBenchBrowser, reload } from '../browser/harness.js';

export interface ColdOpenStage {
  readonly documents: number;
  readonly fillMs: number;
  /** Counted opens, ms (the warm-up open left out). */
  readonly opens: readonly number[];
  /** IndexedDB's count() of the outbox (every document is a pending write here: nothing synced), after a reload, ms per run. */
  readonly outboxCounts?: readonly number[];
  readonly usageBytes: number;
}

export async function runColdOpen(sizes: readonly number[], runs: number): Promise<ColdOpenStage[]> {
  const script = await bundlePage(fileURLToPath(new URL('./cold-open-page.ts', import.meta.url)));
  const browser = await launchBenchBrowser();
  const stages: ColdOpenStage[] = [];
  try {
    const { page } = await browser.open(script);
    const name = `cold-${Date.now()}`;
    let filled = 0;
    for (const documents of sizes) {
      const { ms: fillMs } = await call<{ ms: number }>(page, 'fillRange', name, filled, documents);
      filled = documents;
      console.error(`[scaling cold] filled to ${documents} in ${Math.round(fillMs)} ms`);
      const opens: number[] = [];
      const outboxCounts: number[] = [];
      for (let i = 0; i <= runs; i++) {
        await reload(page);
        const open = await call<{ ms: number; found: boolean }>(page, 'coldOpen', name, `k${Math.floor(documents / 2)}`);
        if (!open.found) throw new Error(`cold open at ${documents}: the document is missing`);
        if (i > 0) opens.push(open.ms);
      }
      for (let i = 0; i < runs; i++) {
        await reload(page);
        const counted = await call<{ ms: number; count: number }>(page, 'countOutbox', name);
        if (counted.count !== documents) throw new Error(`outbox at ${documents}: ${counted.count} pending writes`);
        outboxCounts.push(counted.ms);
      }
      console.error(`[scaling cold] ${documents}: opens ${opens.map((x) => x.toFixed(0)).join(' ')} ms`);
      stages.push({ documents, fillMs, opens, outboxCounts, usageBytes: await call<number>(page, 'usage') });
    }
    if (browser.session.errors.length > 0) throw new Error(`console errors: ${browser.session.errors.join('; ')}`);
  } finally {
    await browser.close();
  }
  return stages;
}
