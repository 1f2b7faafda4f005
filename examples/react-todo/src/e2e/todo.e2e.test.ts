import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, type ChromiumSession } from '@converge/client/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const EXAMPLE = fileURLToPath(new URL('../..', import.meta.url));
const VITE = fileURLToPath(new URL('../../../../node_modules/vite/bin/vite.js', import.meta.url));

let work: string;
let server: ChildProcess | undefined;
let browser: ChromiumSession | undefined;

/** `node scripts/serve.mjs` on a free port, serving `dist`; resolves with the URL it printed. */
async function serve(dist: string): Promise<string> {
  const child = spawn(process.execPath, ['scripts/serve.mjs', '--port', '0', '--data', join(work, 'data'), '--dist', dist], { cwd: EXAMPLE });
  server = child;
  let output = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve.mjs printed no URL:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = /Converge todo: (http:\/\/\S+)/.exec(output);
      if (found === null) return;
      clearTimeout(timer);
      resolve(found[1]!);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`serve.mjs exited with ${code}:\n${output}`)));
  });
}

const items = (page: Page) => page.$$eval('[data-todo]', (rows) => rows.map((r) => `${r.getAttribute('data-todo')}:${r.getAttribute('data-done')}`));

/** The pages are tabs of one window: the one a person uses is in front (a background tab's frames are throttled). */
async function click(page: Page, selector: string): Promise<void> {
  await page.bringToFront();
  await page.click(selector);
}

async function add(page: Page, text: string): Promise<void> {
  await page.bringToFront();
  await page.fill('input[aria-label="new item"]', text);
  await page.click('button[type="submit"]');
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-react-todo-'));
});

afterAll(async () => {
  await browser?.close();
  browser?.removeProfile();
  if (server !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('the React todo example', () => {
  it('`vite build` output: two devices edit one list, offline too, resolve a conflict, and converge', async () => {
    const dist = join(work, 'dist');
    const built = spawnSync(process.execPath, [VITE, 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], { cwd: EXAMPLE, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    const url = await serve(dist);

    browser = await launchChromium();
    const laptop = await browser.page(`${url}?device=laptop`);
    const phone = await browser.page(`${url}?device=phone`);
    for (const page of [laptop, phone]) await page.waitForSelector('[data-connection="synced"]');

    // A write on one device shows on the other; its status climbs from local to relay.
    await add(laptop, 'buy milk');
    await phone.waitForSelector('[data-todo="buy milk"][data-done="false"]');
    await laptop.waitForSelector('[data-last-write="relay"]');
    await click(phone, '[data-todo="buy milk"] input[type="checkbox"]');
    await laptop.waitForSelector('[data-todo="buy milk"][data-done="true"]');

    // Offline, the laptop keeps working: its writes wait in the outbox, shown as pending.
    await click(laptop, 'text=Go offline');
    await laptop.waitForSelector('[data-connection="offline"]');
    await add(laptop, 'eggs');
    await click(laptop, '[data-todo="buy milk"] input[type="checkbox"]'); // done → open
    await laptop.waitForSelector('[data-outbox="2"]');
    await laptop.waitForSelector('[data-todo="eggs"].pending');
    // Meanwhile the phone adds an item and edits the same one (open, then done again).
    await add(phone, 'bread');
    await click(phone, '[data-todo="buy milk"] input[type="checkbox"]');
    await phone.waitForSelector('[data-todo="buy milk"][data-done="false"]');
    await click(phone, '[data-todo="buy milk"] input[type="checkbox"]');
    await phone.waitForSelector('[data-todo="buy milk"][data-done="true"]');

    // Back online: both devices hold every item, and the concurrent edits as a conflict to resolve.
    await click(laptop, 'text=Go online');
    await laptop.waitForSelector('[data-connection="synced"]');
    for (const page of [laptop, phone]) {
      await page.waitForFunction(() => document.querySelectorAll('[data-todo]').length === 3);
      await page.waitForSelector('[data-conflict] button:has-text("buy milk (open)")');
    }
    await laptop.waitForSelector('[data-todo="eggs"]:not(.pending)');
    await click(phone, '[data-conflict] button:has-text("buy milk (open)")');
    for (const page of [laptop, phone]) await page.waitForSelector('[data-conflict]', { state: 'detached' });
    await click(laptop, 'button[aria-label="delete eggs"]');
    await phone.waitForSelector('[data-todo="eggs"]', { state: 'detached' });

    expect(await items(laptop)).toEqual(['buy milk:false', 'bread:false']);
    await phone.waitForSelector('[data-todo="buy milk"][data-done="false"]');
    expect(await items(phone)).toEqual(await items(laptop));
    expect(browser.errors).toEqual([]);
  }, 60_000);
});
