// The demo's relay: createRelay on SQLite under the data directory, with the demo's collection
// config (demo-app/relay.config.json), the inventory seeded server-side when a product has no
// stock yet, and — when asked — the static build (demo-app/dist) served from the same port.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { URL } from 'node:url';
import { replicaIdFromBytes } from '@converge/conflict';
import { createRelay, loadRelayConfig, SqliteStore } from '@converge/sync-server';
import { pino } from 'pino';

const DEMO = resolve(import.meta.dirname, '..');

/** Stock per product, written by the relay itself (`relay.write`) for every product that has none. */
export const SEED_STOCK = { bread: 6, coffee: 3, eggs: 12, milk: 24, mug: 1 };

/** The path the relay's WebSocket is served on, on the relay's port and through the Vite proxy alike. */
export const SYNC_PATH = '/sync';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/** A value kept in the data directory across restarts, made once by `make`. */
function kept(dataDir, file, make) {
  const path = join(dataDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  return value;
}

async function serveStatic(root, request, response) {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const wanted = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
  let path = resolve(root, wanted === '' ? 'index.html' : wanted);
  if (path !== root && !path.startsWith(root + sep)) path = join(root, 'index.html');
  if (!existsSync(path) || extname(path) === '') path = join(root, 'index.html');
  try {
    const body = await readFile(path);
    response.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream', 'Content-Length': body.length });
    response.end(body);
  } catch {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: run `npm run build -w demo-app` first\n');
  }
}

/**
 * Starts the relay on `port` (0: a free one). Returns its port and `close()`. By default it keeps
 * its data in SQLite under `dataDir`; `store` gives it another (the cluster's PostgreSQL), `name`
 * the file its relay id is kept in (one per relay over a shared store), and `handle` answers
 * requests of the demo's own before the static build (false: not one of its).
 * @param {{ port: number, host: string, dataDir: string, staticDir?: string, logLevel?: string,
 *   store?: import('@converge/sync-server').RelayStore, name?: string,
 *   handle?: (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => boolean }} options
 */
export async function startDemoRelay({ port, host, dataDir, staticDir, logLevel = 'error', store: given, name = 'demo', handle }) {
  mkdirSync(dataDir, { recursive: true });
  const config = await loadRelayConfig(join(DEMO, 'relay.config.json'));
  let relay;
  const server = createServer((request, response) => {
    if (relay?.handleRequest(request, response)) return;
    if (handle?.(request, response)) return;
    if (staticDir !== undefined) void serveStatic(staticDir, request, response);
    else response.writeHead(404, { 'Content-Type': 'text/plain' }).end('the demo is served by Vite; this port is the relay\n');
  });
  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done(undefined));
  });
  const store = given ?? new SqliteStore(join(dataDir, 'demo.db'));
  relay = createRelay({
    ...config,
    store,
    logger: pino({ name: 'converge-relay', level: logLevel }),
    cursorSecret: kept(dataDir, 'demo-cursor-secret', () => randomBytes(32).toString('hex')),
    relayId: kept(dataDir, `${name}-relay-id`, () => replicaIdFromBytes(randomBytes(12))),
  });
  relay.attach(server, { path: SYNC_PATH });
  if ((await store.get('devices', relay.relayId)) === undefined) await relay.write('devices', relay.relayId, { value: 'relay' });
  for (const [product, stock] of Object.entries(SEED_STOCK)) {
    if ((await store.get('inventory', product)) === undefined) await relay.write('inventory', product, { value: { stock } });
  }
  const bound = server.address().port;
  return {
    port: bound,
    relay,
    async close() {
      const closed = new Promise((done) => server.close(() => done(undefined)));
      await relay.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
