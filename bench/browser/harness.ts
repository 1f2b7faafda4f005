// Chromium for the bench's browser workloads: a page module bundled with esbuild (Converge from
// its built packages, the peers from bench/peers/node_modules), served from 127.0.0.1, driven
// through `window.bench` in Debian's Chromium with the test suite's launcher and flags.
import { launchChromium, modulePage, serveBrowserApp, type BrowserApp, type ChromiumSession } from '@converge/client/testing';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { PEERS_DIR } from '../peers/load-peer.js';

/** Bundles a page module (minified, as an app ships it); peers resolve from bench/peers/node_modules. */
export async function bundlePage(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    nodePaths: [`${PEERS_DIR}node_modules`],
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export interface BenchBrowser {
  readonly session: ChromiumSession;
  /** One origin per page script: IndexedDB (and its usage) is per origin. */
  open(script: string): Promise<{ page: Page; app: BrowserApp }>;
  close(): Promise<void>;
}

export async function launchBenchBrowser(): Promise<BenchBrowser> {
  const session = await launchChromium();
  const apps: BrowserApp[] = [];
  return {
    session,
    async open(script) {
      const app = await serveBrowserApp({ '/': ['text/html', modulePage('/app.js', 'bench')], '/app.js': ['text/javascript', script] });
      apps.push(app);
      const page = await session.page(`${app.origin}/`);
      await ready(page);
      return { page, app };
    },
    async close() {
      await session.close();
      session.removeProfile();
      for (const app of apps) await app.close();
    },
  };
}

/** Waits for the page module to say it is ready (`document.title = 'ready'`). */
export async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.title === 'ready', undefined, { timeout: 60_000 });
}

/** Reloads the page (a cold start of the app: a new JavaScript heap, the same IndexedDB). */
export async function reload(page: Page): Promise<void> {
  await page.reload();
  await ready(page);
}

/** Calls `window.bench[method](...args)` in the page. */
export async function call<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(([m, a]) => (globalThis as unknown as { bench: Record<string, (...x: unknown[]) => unknown> }).bench[m]!(...a), [
    method,
    args,
  ] as const) as Promise<T>;
}

/** The page's JS heap in use after a full garbage collection, bytes. */
export async function heapUsed(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}
