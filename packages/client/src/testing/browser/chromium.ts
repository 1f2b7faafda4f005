/* eslint-disable import-x/no-nodejs-modules -- launches Chromium from Node (tests) */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

/** The exact Chromium flags of the browser tests (plus the profile dir and Playwright's pipe). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export interface ChromiumSession {
  readonly context: BrowserContext;
  /** The profile directory: relaunch with it to find the same IndexedDB. */
  readonly userDataDir: string;
  /** Console errors and uncaught page errors of every page opened through `page()`. */
  readonly errors: string[];
  page(url?: string): Promise<Page>;
  /** Closes the browser normally. */
  close(): Promise<void>;
  /** Kills the browser's processes (SIGKILL), as a crash would; resolves with how many were killed. */
  kill(): Promise<number>;
  /** Deletes the profile directory (after close or kill). */
  removeProfile(): void;
  /**
   * Moves a page through the Page Lifecycle (CDP `Page.setWebLifecycleState`): `frozen` hides
   * it, fires `freeze` and stops its tasks; `active` fires `resume`. Only a session launched
   * with `freezable: true` really freezes (Playwright's focus emulation keeps other pages visible).
   */
  setLifecycle(page: Page, state: 'frozen' | 'active'): Promise<void>;
  /**
   * Lowers the quota of the page's origin to its current usage plus `headroom` bytes (CDP
   * `Storage.overrideQuotaForOrigin` on a session of the page, kept attached: Chromium drops the
   * override when that session detaches); `undefined` restores the browser's own quota. Resolves
   * with the origin's usage and quota as Chromium then reports them. A commit that would go past
   * the quota aborts with `QuotaExceededError` — but Chromium's IndexedDB answers from the
   * origin's remaining space as it last asked for it, for up to ~30 s: lower the quota before
   * the origin's first write (a fresh origin), or a commit may still pass for that long.
   */
  overrideQuota(page: Page, headroom: number | undefined): Promise<{ readonly usage: number; readonly quota: number }>;
}

export interface LaunchOptions {
  /** Relaunch with this profile directory (to find the same IndexedDB). */
  readonly userDataDir?: string;
  /**
   * Pages can be frozen: Chromium is started on a debugging port (127.0.0.1, port 0) and
   * connected over CDP without Playwright's default overrides, whose focus emulation keeps
   * every page visible — and a visible page is never frozen.
   */
  readonly freezable?: boolean;
}

/** PIDs of the Chromium processes started with this profile (found by their command line). */
function processesOf(userDataDir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(`--user-data-dir=${userDataDir}`)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Waits (at most 5 s) until no process of the profile is left, so its directory can be removed. */
async function gone(userDataDir: string): Promise<void> {
  for (let i = 0; i < 100 && processesOf(userDataDir).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Starts Chromium on a debugging port and connects over CDP with no default overrides. */
async function connectFreezable(executablePath: string, userDataDir: string): Promise<{ context: BrowserContext; child: ChildProcess }> {
  const child = spawn(executablePath, [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`Chromium did not print its DevTools endpoint: ${seen}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`Chromium exited (${code}) before listening: ${seen}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      if (seen.length < 10_000) seen += chunk.toString();
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
      if (found !== null) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
  });
  const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, isLocal: true });
  return { context: browser.contexts()[0]!, child };
}

/**
 * Launches Debian's Chromium (CHROME_PATH, default /usr/bin/chromium) through playwright-core
 * with exactly `CHROMIUM_ARGS` and a fresh (or the given) `--user-data-dir`. Never downloads a
 * browser. The context is the profile's own (persistent), so IndexedDB lands on disk.
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<ChromiumSession> {
  const userDataDir = options.userDataDir ?? mkdtempSync(join(tmpdir(), 'converge-chromium-'));
  const executablePath = process.env['CHROME_PATH'] ?? '/usr/bin/chromium';
  let child: ChildProcess | undefined;
  let context: BrowserContext;
  if (options.freezable === true) {
    ({ context, child } = await connectFreezable(executablePath, userDataDir));
  } else {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      ignoreDefaultArgs: true,
      args: [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe', 'about:blank'],
    });
  }
  const exited = child === undefined || child.exitCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errors: string[] = [];
  const quotaSessions = new Map<Page, CDPSession>();
  const watch = (page: Page) => {
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  };
  for (const page of context.pages()) watch(page);
  context.on('page', watch);
  return {
    context,
    userDataDir,
    errors,
    async page(url) {
      const page = await context.newPage();
      if (url !== undefined) await page.goto(url);
      return page;
    },
    async close() {
      const browser = context.browser();
      if (child === undefined || browser === null) {
        await context.close().catch(() => undefined);
        return;
      }
      // Connected over CDP, `browser.close()` only disconnects: ask Chromium itself to quit.
      await (await browser.newBrowserCDPSession()).send('Browser.close').catch(() => undefined);
      await browser.close().catch(() => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      await gone(userDataDir);
    },
    async kill() {
      let killed = 0;
      for (const pid of processesOf(userDataDir)) {
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {
          // already gone
        }
      }
      await context.close().catch(() => undefined);
      await exited;
      await gone(userDataDir);
      return killed;
    },
    removeProfile() {
      rmSync(userDataDir, { recursive: true, force: true });
    },
    async setLifecycle(page, state) {
      const cdp = await context.newCDPSession(page);
      try {
        await cdp.send('Page.setWebLifecycleState', { state });
      } finally {
        await cdp.detach().catch(() => undefined);
      }
    },
    async overrideQuota(page, headroom) {
      // The override lasts as long as the CDP session that set it: keep it attached until lifted.
      const origin = new URL(page.url()).origin;
      let cdp = quotaSessions.get(page);
      if (cdp === undefined) quotaSessions.set(page, (cdp = await context.newCDPSession(page)));
      const before = await cdp.send('Storage.getUsageAndQuota', { origin });
      await cdp.send('Storage.overrideQuotaForOrigin', headroom === undefined ? { origin } : { origin, quotaSize: before.usage + headroom });
      const after = await cdp.send('Storage.getUsageAndQuota', { origin });
      if (headroom === undefined) {
        quotaSessions.delete(page);
        await cdp.detach().catch(() => undefined);
      }
      if (after.overrideActive !== (headroom !== undefined))
        throw new Error(`Chromium did not ${headroom === undefined ? 'lift' : 'apply'} the quota override of ${origin}`);
      return { usage: after.usage, quota: after.quota };
    },
  };
}
