import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, type ChromiumSession } from '@converge/client/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoPage } from './demo-page.js';
import { startDemoServer, type DemoServer } from './demo-server.js';

const DEMO = fileURLToPath(new URL('../..', import.meta.url));
const VITE = join(dirname(createRequire(join(DEMO, 'package.json')).resolve('vite/package.json')), 'bin', 'vite.js');

let work: string;
let server: DemoServer | undefined;
let browser: ChromiumSession | undefined;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'converge-demo-static-'));
});

afterAll(async () => {
  await browser?.close();
  browser?.removeProfile();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('the static build', () => {
  it('`vite build` output served by the relay (npm start -- --static) syncs its devices with no console error', async () => {
    const dist = join(work, 'dist');
    const built = spawnSync(process.execPath, [VITE, 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], { cwd: DEMO, encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    expect(existsSync(join(dist, 'index.html'))).toBe(true);

    server = await startDemoServer({ dataDir: join(work, 'data'), staticDir: dist });
    browser = await launchChromium();
    const page = await browser.page();
    await page.goto(server.url);
    const demo = new DemoPage(page);
    for (const name of ['phone', 'laptop', 'tablet']) await demo.waitConnection(name, 'synced');
    await demo.press('laptop', '+ cart: add coffee');
    await page.waitForFunction(() => document.querySelectorAll('[data-item="coffee"] [data-cart="cart"][data-qty="1"]').length === 3, undefined, {
      timeout: 20_000,
    });
    expect(browser.errors).toEqual([]);
  }, 180_000);
});
