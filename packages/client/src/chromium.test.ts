// The client in real Chromium (Debian's, through playwright-core): IndexedDB durability,
// multi-tab coordination and offline/online, against a relay served by the same Node server.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createRelay, MemoryStore, type Relay } from '@converge/sync-server';
import { pino } from 'pino';
import type { Page, WebSocketRoute } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Client } from './client.js';
import { webSocketTransport } from './sync/websocket-transport.js';
import { launchChromium, type ChromiumSession } from './testing/browser/chromium.js';
import type { BrowserApi } from './testing/browser/entry.js';
import { bundleBrowserEntry, modulePage, serveBrowserApp, type BrowserApp } from './testing/browser/serve.js';
import { clientSet, dbName } from './testing/client-set.js';
import { eventually } from './testing/eventually.js';

type Api = BrowserApi;
const call = <K extends keyof Api>(page: Page, method: K, ...args: Parameters<Api[K]>) =>
  page.evaluate(([m, a]) => (globalThis as unknown as { converge: Record<string, (...x: unknown[]) => unknown> }).converge[m]!(...a), [
    method,
    args,
  ] as const) as Promise<Awaited<ReturnType<Api[K]>>>;

let relay: Relay;
let app: BrowserApp;
let appFiles: Readonly<Record<string, readonly [string, string]>>;
let browser: ChromiumSession;
const nodeClients = clientSet(() => ({ transport: webSocketTransport(`${app.wsOrigin}/sync`, WebSocket) }));

async function openPage(session: ChromiumSession = browser, origin = app.origin): Promise<Page> {
  const page = await session.page(`${origin}/`);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

beforeAll(async () => {
  const script = await bundleBrowserEntry(fileURLToPath(new URL('./testing/browser/entry.ts', import.meta.url)));
  relay = createRelay({
    store: new MemoryStore(),
    logger: pino({ level: 'silent' }),
    cursorSecret: 'chromium-test',
    collections: { carts: { mode: 'multi-leader', strategy: 'cart' } },
  });
  appFiles = { '/': ['text/html', modulePage()], '/app.js': ['text/javascript', script] };
  app = await serveBrowserApp(appFiles, (server) => relay.attach(server, { path: '/sync' }));
  browser = await launchChromium();
}, 60_000);

afterEach(async () => {
  await nodeClients.closeAll();
  for (const page of browser.context.pages()) await page.close();
  expect(browser.errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  browser?.removeProfile();
  await relay?.close();
  await app?.close();
});

describe('the client in Chromium', () => {
  it('passes the StorageAdapter conformance suite on real IndexedDB', async () => {
    const page = await openPage();
    const results = await call(page, 'runStorageChecks');
    expect(results.filter((r) => r.error !== undefined)).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(10);
  });

  it('a reload keeps the data; a write awaited at ack local survives an immediate reload', async () => {
    const name = dbName('reload');
    const page = await openPage();
    await call(page, 'open', name, { offline: true });
    await call(page, 'put', name, 'k', { n: 1 }, 'local');
    await page.reload(); // at once, no close
    await page.waitForFunction(() => document.title === 'ready');
    await call(page, 'open', name, { offline: true });
    expect(await call(page, 'get', name, 'k')).toEqual({ n: 1 });
    expect(await call(page, 'status', name)).toMatchObject({ storage: 'indexeddb', pending: 1 });
  });

  it("a write past the origin's quota (lowered through CDP) rejects with storage_quota and stores nothing; with the quota restored it stores and syncs", async () => {
    // An origin of its own (another port), its quota lowered before its first write: Chromium's
    // IndexedDB keeps an origin's remaining space cached for ~30 s after it last asked.
    const fresh = await serveBrowserApp(appFiles, (server) => relay.attach(server, { path: '/sync' }));
    const connections = relay.connections();
    try {
      const name = dbName('quota');
      const page = await openPage(browser, fresh.origin);
      const lowered = await browser.overrideQuota(page, 192 * 1024);
      expect(lowered.quota - lowered.usage).toBe(192 * 1024);
      await call(page, 'open', name);
      await call(page, 'put', name, 'k', 'before', 'relay');
      await call(page, 'whenSynced', name);
      call(page, 'pause', name);
      await call(page, 'put', name, 'queued', 'while paused');
      const outbox = await call(page, 'outbox', name);
      const writeNumber = await call(page, 'writeNumber', name);
      expect(outbox.map((w) => w.key)).toEqual(['queued']);
      // 240 kB of random base64: under the relay's maxValueBytes, incompressible (IndexedDB compresses values),
      // and stored twice (the document and the outbox entry).
      const big = randomBytes(180_000).toString('base64');
      try {
        expect(await call(page, 'tryPut', name, 'k', big, 'local')).toMatchObject({ code: 'storage_quota' });
        expect(await call(page, 'get', name, 'k')).toBe('before');
        expect(await call(page, 'outbox', name)).toEqual(outbox);
        expect(await call(page, 'writeNumber', name)).toBe(writeNumber);
      } finally {
        await browser.overrideQuota(page, undefined);
      }
      call(page, 'resume', name);
      expect(await call(page, 'tryPut', name, 'k', big, 'relay')).toEqual({ level: 'relay' });
      expect(await call(page, 'get', name, 'k')).toBe(big);
      await call(page, 'whenSynced', name);
      const observer = await nodeClients.open(dbName('observer'));
      await eventually(async () => {
        expect((await observer.collection('notes').get('k'))?.value).toBe(big);
        expect((await observer.collection('notes').get('queued'))?.value).toBe('while paused');
      });
      await call(page, 'close', name);
      await nodeClients.closeAll();
      await eventually(() => expect(relay.connections()).toBe(connections)); // the next test counts the relay's sockets
    } finally {
      await fresh.close();
    }
  });

  it("export and import: one origin's database exported as a Blob, imported into another origin's database under another name; after a reload the data is there under a new replica id, and its pending writes sync", async () => {
    const other = await serveBrowserApp(appFiles, (server) => relay.attach(server, { path: '/sync' }));
    const connections = relay.connections();
    try {
      const source = dbName('export-source');
      const page = await openPage();
      const sourceId = await call(page, 'open', source);
      await call(page, 'put', source, 'export-confirmed', { at: new Date(Date.UTC(2026, 0, 1)), n: 1 }, 'relay');
      await call(page, 'whenSynced', source);
      call(page, 'pause', source);
      await call(page, 'put', source, 'export-pending', 'written offline');
      await call(page, 'increment', source, 'export-cart', 'apple', 2);
      const pendingBefore = await call(page, 'outbox', source);
      const text = await call(page, 'exportBlobText', source);
      expect(text.split('\n')[0]).toMatch(/^\{"format":"converge-export","version":1,/);

      const target = dbName('export-target');
      const page2 = await openPage(browser, other.origin);
      const targetId = await call(page2, 'open', target, { paused: true });
      expect(await call(page2, 'importBlob', target, text)).toMatchObject({ pending: 2, rejected: 0 }); // documents: also those other tests left at the relay
      await page2.reload();
      await page2.waitForFunction(() => document.title === 'ready');
      const reopened = await call(page2, 'open', target, { paused: true });
      // The pending count follows the open (a count of the outbox is not waited for).
      await eventually(async () => expect(await call(page2, 'status', target)).toMatchObject({ storage: 'indexeddb', pending: 2 }));
      expect([sourceId, targetId]).not.toContain(reopened);
      expect(await call(page2, 'record', target)).toEqual({ id: reopened, retired: [sourceId, targetId] });
      expect(await call(page2, 'pendingReplicas', target)).toEqual([reopened, reopened]);
      expect(await call(page2, 'outbox', target)).toEqual(pendingBefore);
      expect(await call(page2, 'get', target, 'export-confirmed')).toEqual({ at: new Date(Date.UTC(2026, 0, 1)), n: 1 });
      expect(await call(page2, 'get', target, 'export-pending')).toBe('written offline');
      expect(await call(page2, 'cart', target, 'export-cart')).toEqual({ apple: 2 });

      call(page2, 'resume', target);
      await call(page2, 'whenSynced', target, 15_000);
      const observer = await nodeClients.open(dbName('observer'), { collections: { carts: { strategy: 'cart' } } });
      await eventually(async () => {
        const pending = await observer.collection('notes').inspect('export-pending');
        expect(pending.siblings.map((s) => [s.dot[0], s.value])).toEqual([[reopened, 'written offline']]);
        expect((await observer.collection('carts').get('export-cart'))?.value).toEqual(new Map([['apple', 2]]));
      });
      await call(page2, 'close', target);
      await call(page, 'close', source);
      await nodeClients.closeAll();
      await eventually(() => expect(relay.connections()).toBe(connections)); // the other origin's socket is gone before its server closes
    } finally {
      await other.close();
    }
  });

  it('two tabs share one socket; when the leader tab closes the other takes over and syncs a new remote change within seconds', async () => {
    const name = dbName('tabs');
    const before = relay.connections();
    const first = await openPage();
    await call(first, 'open', name);
    await call(first, 'whenSynced', name);
    const second = await openPage();
    await call(second, 'open', name);
    await eventually(async () => expect((await call(second, 'status', name)).role).toBe('follower'));
    expect((await call(first, 'status', name)).role).toBe('leader');
    await eventually(async () => expect((await call(second, 'status', name)).connection).toBe('synced'));
    expect(relay.connections() - before).toBe(1);

    await first.close();
    await eventually(async () => expect((await call(second, 'status', name)).role).toBe('leader'), 5000);
    const writer = await nodeClients.open(dbName('node-writer'));
    await writer.collection('notes').put('after-handover', 'remote', { ack: 'relay' });
    const started = Date.now();
    await eventually(async () => expect(await call(second, 'get', name, 'after-handover')).toBe('remote'), 5000);
    expect(Date.now() - started).toBeLessThan(5000);
    await eventually(() => expect(relay.connections() - before).toBe(2)); // the second tab's socket and the Node writer
  });

  it('offline edits (sockets cut with page.routeWebSocket) sync after reconnect', async () => {
    const name = dbName('offline');
    const page = await openPage();
    let online = true;
    const routes: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/sync$/, (ws) => {
      if (!online) {
        ws.close({ code: 1006, reason: 'offline' });
        return;
      }
      routes.push(ws);
      ws.connectToServer();
    });
    await call(page, 'open', name);
    await call(page, 'whenSynced', name);
    online = false;
    for (const ws of routes.splice(0)) await ws.close({ code: 1006, reason: 'network down' });
    await eventually(async () => expect((await call(page, 'status', name)).connection).not.toBe('synced'));
    await call(page, 'put', name, 'edited-offline', 'yes');
    await call(page, 'increment', name, 'cart', 'apple', 3);
    expect((await call(page, 'status', name)).pending).toBe(2);
    online = true;
    await call(page, 'whenSynced', name, 15_000);
    const observer: Client = await nodeClients.open(dbName('observer'), { collections: { carts: { strategy: 'cart' } } });
    await eventually(async () => {
      expect((await observer.collection('notes').get('edited-offline'))?.value).toBe('yes');
      expect((await observer.collection('carts').get('cart'))?.value).toEqual(new Map([['apple', 3]]));
    });
  });
});

describe('the client in Chromium, frozen', () => {
  it('a frozen leader tab steps down: the other tab syncs a new remote change within seconds; unfrozen, it follows and the relay sees one socket', async () => {
    const session = await launchChromium({ freezable: true });
    try {
      const name = dbName('frozen');
      const before = relay.connections();
      const first = await openPage(session);
      await call(first, 'open', name);
      await call(first, 'whenSynced', name);
      const second = await openPage(session);
      await call(second, 'open', name);
      await eventually(async () => expect((await call(second, 'status', name)).connection).toBe('synced'));
      expect((await call(second, 'status', name)).role).toBe('follower');
      expect(relay.connections() - before).toBe(1);

      await session.setLifecycle(first, 'frozen');
      await eventually(async () => expect((await call(second, 'status', name)).role).toBe('leader'), 5000);
      const writer = await nodeClients.open(dbName('node-writer'));
      await writer.collection('notes').put('while-frozen', 'remote', { ack: 'relay' });
      const started = Date.now();
      await eventually(async () => expect(await call(second, 'get', name, 'while-frozen')).toBe('remote'), 5000);
      expect(Date.now() - started).toBeLessThan(5000);
      await eventually(() => expect(relay.connections() - before).toBe(2)); // the frozen tab's socket is gone: the second tab's and the Node writer's

      await session.setLifecycle(first, 'active');
      await eventually(async () => expect(await call(first, 'status', name)).toMatchObject({ role: 'follower', connection: 'synced' }));
      expect(await call(first, 'get', name, 'while-frozen')).toBe('remote');
      expect((await call(second, 'status', name)).role).toBe('leader');
      expect(relay.connections() - before).toBe(2);
      expect(session.errors).toEqual([]);
    } finally {
      await session.close();
      session.removeProfile();
    }
  });
});

describe('the client in Chromium, killed', () => {
  it('a write awaited at ack local survives a killed browser process, and syncs after the relaunch', async () => {
    const name = dbName('killed');
    const session = await launchChromium();
    try {
      const page = await openPage(session);
      await call(page, 'open', name, { offline: true });
      await call(page, 'put', name, 'k', 'durable', 'local');
      expect(await session.kill()).toBeGreaterThan(0);
      const again = await launchChromium({ userDataDir: session.userDataDir });
      try {
        const page2 = await openPage(again);
        await call(page2, 'open', name);
        expect(await call(page2, 'get', name, 'k')).toBe('durable');
        await call(page2, 'whenSynced', name);
        const observer = await nodeClients.open(dbName('observer'));
        await eventually(async () => expect((await observer.collection('notes').get('k'))?.value).toBe('durable'));
        expect(again.errors).toEqual([]);
      } finally {
        await again.close();
      }
    } finally {
      session.removeProfile();
    }
  });
});
