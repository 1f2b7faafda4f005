import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, type ChromiumSession } from '@converge/client/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoPage, settled } from './demo-page.js';
import { startDemoServer, type DemoServer } from './demo-server.js';

/**
 * `npm start -- --cluster` end to end in Chromium: a real PostgreSQL primary and two synchronous
 * standbys (started by the script under its data directory), two relays, the page's devices on
 * either relay. Writes climb to `all`; "Kill primary" SIGKILLs the primary, a standby is
 * promoted, and every quorum-acknowledged write is found on the new primary. A screenshot of the
 * final state goes to demo-app/e2e-artifacts/.
 */
const ARTIFACTS = fileURLToPath(new URL('../../e2e-artifacts/', import.meta.url));
const DEVICES = ['phone', 'laptop', 'tablet'];
const LEVELS = ['local', 'relay', 'quorum', 'all'];

let dataDir: string;
let server: DemoServer | undefined;
let browser: ChromiumSession | undefined;
let demo: DemoPage;

/** Every status each chip showed, in order, as the page rendered it (a MutationObserver installed before the writes), keyed by device, row (counted from the oldest) and collection. */
async function chipHistories(): Promise<string[][]> {
  const all = await demo.page.evaluate(() => (window as unknown as { chipHistory: Record<string, string[]> }).chipHistory);
  return Object.entries(all)
    .filter(([id]) => !id.endsWith('/devices'))
    .map(([, seen]) => seen);
}

/** A device's outbox rows of cart edits (not the `register NAME` row of its first connection). */
const edits = async (name: string) => (await demo.writes(name)).filter((w) => !w.label.startsWith('register'));

const tally = () => demo.page.locator('[data-cluster] .tally');

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'converge-demo-cluster-'));
  chmodSync(dataDir, 0o755); // the PostgreSQL servers run as `postgres` when the tests run as root
  server = await startDemoServer({ dataDir, cluster: true });
  browser = await launchChromium();
  const page = await browser.page();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(server.url);
  demo = new DemoPage(page);
  for (const name of DEVICES) await demo.waitConnection(name, 'synced', 60_000);
}, 150_000);

afterAll(async () => {
  await browser?.close();
  browser?.removeProfile();
  const code = server === undefined ? 0 : await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  expect(code).toBe(0);
});

describe('npm start -- --cluster in Chromium', () => {
  it('devices on two relays: chips climb local → relay → quorum → all; kill primary promotes a standby, 0 of the quorum-acked writes are lost, and the devices converge', async () => {
    const { page } = demo;
    expect(server!.output()).toMatch(/PostgreSQL \d+: s0 :\d+, s1 :\d+, s2 :\d+/);
    expect(server!.output()).toContain(join(dataDir, 'pg'));
    expect(await demo.device('phone').locator('[data-relay]').getAttribute('data-relay')).toBe('A');
    expect(await demo.device('laptop').locator('[data-relay]').getAttribute('data-relay')).toBe('B');
    expect(await page.locator('[data-cluster]').getAttribute('data-primary')).toBe('s0');

    // Record every class each outbox chip takes, keyed by the row and the collection.
    await page.evaluate(() => {
      const history: Record<string, string[]> = {};
      (window as unknown as { chipHistory: Record<string, string[]> }).chipHistory = history;
      const record = () => {
        for (const chip of document.querySelectorAll('ol.writes li .chip')) {
          const row = chip.closest('li')!;
          const device = chip.closest('[data-device]')!.getAttribute('data-device');
          const rows = [...row.parentElement!.children];
          const id = `${device}/${rows.length - rows.indexOf(row)}/${chip.getAttribute('title')!.split(':')[0]}`; // rows are newest first
          const status = [...chip.classList].find((c) => c !== 'chip')!;
          const seen = (history[id] ??= []);
          if (seen.at(-1) !== status) seen.push(status);
        }
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    });

    // Writes through relay A (phone) and relay B (laptop).
    await demo.press('phone', '+ cart: add milk');
    await demo.press('laptop', '+ cart: add eggs');
    await demo.press('phone', '+1 milk');
    await demo.press('laptop', '+ cart: add coffee');
    for (const name of ['phone', 'laptop']) {
      await settled(async () => {
        const writes = await edits(name);
        expect(writes.length).toBe(2);
        for (const w of writes) expect(w.chips).toBe('cart all ✓naive all ✓lww all ✓');
      });
    }
    const histories = await chipHistories();
    expect(histories.length).toBe(12);
    for (const seen of histories) {
      expect(seen[0]).toBe('local');
      expect(seen.at(-1)).toBe('all');
      const ranks = seen.map((s) => LEVELS.indexOf(s));
      expect(ranks.every((r) => r >= 0)).toBe(true);
      expect([...ranks].sort((a, b) => a - b)).toEqual(ranks); // only ever climbs
    }
    const climbs = new Map<string, number>();
    for (const seen of histories) climbs.set(seen.join(' → '), (climbs.get(seen.join(' → ')) ?? 0) + 1);
    expect(climbs.get('local → relay → quorum → all') ?? 0).toBeGreaterThan(0); // a climb the page showed step by step (levels may also come together)
    console.info(`cluster demo: chips seen ${[...climbs].map(([climb, n]) => `${climb} (${n})`).join(', ')}`);
    await settled(async () => expect(await tally().getAttribute('data-quorum-acked')).toBe('12'));
    for (const name of DEVICES) await settled(async () => expect((await demo.carts(name)).cart).toEqual({ coffee: 1, eggs: 1, milk: 2 }));

    // Kill the primary: a standby is promoted, and every quorum-acked write is on it.
    const killedAt = Date.now();
    await page.getByRole('button', { name: 'Kill primary' }).click();
    await settled(async () => expect(await tally().getAttribute('data-lost')).toBe('0'), 60_000);
    const failoverMs = Date.now() - killedAt;
    expect(((await tally().textContent()) ?? '').replace(/\s+/g, ' ')).toMatch(/^12 quorum-acked, 0 lost \(12 checked on s[12] after the failover\)$/);
    const promoted = await page.locator('[data-failover]').getAttribute('data-failover');
    expect(['s1', 's2']).toContain(promoted);
    const failoverLine = ((await page.locator('[data-failover]').textContent()) ?? '').replace(/\s+/g, ' ').trim();
    expect(failoverLine).toMatch(new RegExp(`^s0 SIGKILLed → ${promoted} promoted after \\d+ ms; both relays writing on it after \\d+ ms\\.`));
    await settled(async () => expect(await page.locator('[data-cluster]').getAttribute('data-primary')).toBe(promoted));
    await settled(async () => expect(await page.locator('[data-failover]').getAttribute('data-rejoined')).toBe('true'), 60_000);
    expect(await page.locator('[data-node="s0"]').getAttribute('data-role')).toBe('standby');

    // The check can find a loss: a dot never written is reported lost.
    const fake = await page.evaluate(async () => {
      const response = await fetch('/cluster/verify', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ relay: 'B', writes: [{ collection: 'cart', key: 'cart', dot: ['neverwrittenAAAAAAAAAA', 1] }] }),
      });
      return (await response.json()) as { lost: unknown[] };
    });
    expect(fake.lost.length).toBe(1);

    // Both relays keep serving on the new primary: writes through each reach all again, and every device converges.
    await demo.press('phone', '+ cart: add bread');
    await demo.press('laptop', '+1 eggs');
    for (const name of ['phone', 'laptop']) {
      await settled(async () => {
        const [newest] = await edits(name);
        expect(newest!.chips).toBe('cart all ✓naive all ✓lww all ✓');
      }, 60_000);
    }
    for (const name of DEVICES) {
      await settled(async () => expect((await demo.carts(name)).cart).toEqual({ bread: 1, coffee: 1, eggs: 2, milk: 2 }), 30_000);
    }
    await settled(async () => expect(await tally().getAttribute('data-quorum-acked')).toBe('18'));
    await page.screenshot({ path: join(ARTIFACTS, 'cluster-after-failover.png'), fullPage: true });
    console.info(`cluster demo: ${failoverLine} (click to "0 lost" in the page: ${failoverMs} ms)`);
  }, 240_000);

  it('a second kill (the promoted primary, with the first one back as a standby) fails over again: 0 lost, and both relays serve on the next primary', async () => {
    const { page } = demo;
    const first = await page.locator('[data-cluster]').getAttribute('data-primary');
    await page.getByRole('button', { name: 'Kill primary' }).click();
    await settled(async () => expect(await page.locator('[data-failover]').getAttribute('data-failover')).not.toBe(first), 60_000);
    await settled(
      async () => expect(((await tally().textContent()) ?? '').replace(/\s+/g, ' ')).toMatch(/^18 quorum-acked, 0 lost \(18 checked on s\d after/),
      60_000,
    );
    await demo.press('tablet', '+1 bread');
    await demo.press('laptop', '+1 coffee');
    for (const name of ['tablet', 'laptop']) {
      await settled(async () => expect((await edits(name))[0]!.chips).toBe('cart all ✓naive all ✓lww all ✓'), 60_000);
    }
    for (const name of DEVICES) {
      await settled(async () => expect((await demo.carts(name)).cart).toEqual({ bread: 2, coffee: 2, eggs: 2, milk: 2 }), 30_000);
    }
  }, 180_000);
});
