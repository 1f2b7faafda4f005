#!/usr/bin/env node
// The example's server: a Converge relay on /sync (SQLite under --data, default ./data) and the
// built app (--dist, default dist/ from `npm run build`) on one port (--port, default 8790; 0: a
// free one). `--dev`: the relay alone, with Vite's dev server in front of it (Vite forwards
// /sync). Ctrl-C stops it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { URL } from 'node:url';
import { parseArgs } from 'node:util';
import { createRelay, SqliteStore } from '@converge/sync-server';
import { pino } from 'pino';

const ROOT = resolve(import.meta.dirname, '..');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** The cursor secret, kept in the data directory so clients' cursors survive a restart. */
function cursorSecret(dataDir) {
  const path = join(dataDir, 'cursor-secret');
  if (!existsSync(path)) writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}

async function serveFile(root, request, response) {
  const wanted = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  let path = resolve(root, `.${wanted}`);
  if (!path.startsWith(root + sep) || !existsSync(path) || extname(path) === '') path = join(root, 'index.html');
  try {
    const body = await readFile(path);
    response.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: run `npm run build` first\n');
  }
}

/**
 * Starts the relay (and, with `staticDir`, the built app) on 127.0.0.1:`port` (0: a free one).
 * @param {{ port: number, dataDir: string, staticDir?: string, logLevel?: string }} options
 */
export async function startTodoServer({ port, dataDir, staticDir, logLevel = 'warn' }) {
  mkdirSync(dataDir, { recursive: true });
  const relay = createRelay({
    store: new SqliteStore(join(dataDir, 'todo.db')),
    cursorSecret: cursorSecret(dataDir),
    logger: pino({ name: 'converge-relay', level: logLevel }),
  });
  const server = createServer((request, response) => {
    if (relay.handleRequest(request, response)) return;
    if (staticDir !== undefined) void serveFile(staticDir, request, response);
    else response.writeHead(404, { 'Content-Type': 'text/plain' }).end('this port is the relay: open the Vite dev server\n');
  });
  relay.attach(server, { path: '/sync' });
  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done(undefined));
  });
  const bound = server.address().port;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}/`,
    async close() {
      const closed = new Promise((done) => server.close(() => done(undefined)));
      await relay.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8790' },
      data: { type: 'string', default: join(ROOT, 'data') },
      dist: { type: 'string', default: join(ROOT, 'dist') },
      dev: { type: 'boolean', default: false },
    },
  });
  const staticDir = values.dev ? undefined : resolve(values.dist);
  if (staticDir !== undefined && !existsSync(join(staticDir, 'index.html'))) throw new Error('no build in dist/: run `npm run build` first');
  const server = await startTodoServer({ port: Number(values.port), dataDir: resolve(values.data), staticDir });
  let vite;
  let url = server.url;
  if (values.dev) {
    process.env.TODO_RELAY_PORT = String(server.port);
    const { createServer: createVite } = await import('vite');
    vite = await createVite({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), clearScreen: false });
    await vite.listen();
    url = vite.resolvedUrls?.local[0] ?? url;
  }
  console.log(`Converge todo: ${url}  (open ${url}?device=laptop and ${url}?device=phone side by side)`);
  const stop = async () => {
    await vite?.close();
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) await main();
