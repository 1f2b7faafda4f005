/* eslint-disable import-x/no-nodejs-modules -- launches Chromium from Node (tests) */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

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

/**
 * Launches Debian's Chromium (CHROME_PATH, default /usr/bin/chromium) through playwright-core
 * with exactly `CHROMIUM_ARGS` and a fresh (or the given) `--user-data-dir`. Never downloads a
 * browser. The context is the profile's own (persistent), so IndexedDB lands on disk.
 */
export async function launchChromium(options: { readonly userDataDir?: string } = {}): Promise<ChromiumSession> {
  const userDataDir = options.userDataDir ?? mkdtempSync(join(tmpdir(), 'converge-chromium-'));
  const executablePath = process.env['CHROME_PATH'] ?? '/usr/bin/chromium';
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    ignoreDefaultArgs: true,
    args: [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`, '--remote-debugging-pipe', 'about:blank'],
  });
  const errors: string[] = [];
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
      await context.close().catch(() => undefined);
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
      return killed;
    },
    removeProfile() {
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
