#!/usr/bin/env node
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { jwtAuth } from './auth/auth.js';
import { parseDuration } from './duration.js';
import { relayRequestListener } from './http.js';
import { loadRelayConfig } from './relay-config.js';
import type { RelaySettings } from './relay-options.js';
import { extendRecoveryWindow } from './recovery-window.js';
import { createRelay } from './relay.js';
import { SqliteStore } from './store/sqlite-store.js';

const USAGE = `converge-relay — the Converge sync relay

  converge-relay [options]                 serve
  converge-relay backup <file> [--db PATH]  online backup of the database to <file>
  converge-relay restore <file> [--db PATH] install a backup (relay stopped) and open the recovery window

options:
  --port N                 TCP port (default 8787; 0 picks a free one)
  --host ADDR              address to bind (default 127.0.0.1)
  --db PATH                SQLite database file (default ./data/converge.db; ':memory:' allowed)
  --config FILE            relay.config.json or .js: collections, limits, auth, origins
  --jwt-secret S           verify HS256 JWTs (or env CONVERGE_JWT_SECRET)
  --allowed-origins A,B    WebSocket Origins allowed (default: any, or none)
  --tls-cert F --tls-key F serve wss:// directly
  --cursor-secret S        MAC key for cursors (or env CONVERGE_CURSOR_SECRET; default: generated once, kept beside the database)
  --recovery-window D      length of a recovery window (default 24h)
  --open-recovery-window   open the recovery window now (operator's evidence of data loss)
  --help`;

function cursorSecretFor(db: string, given: string | undefined): string | Buffer {
  if (given !== undefined && given.length > 0) return given;
  if (db === ':memory:') return randomBytes(32);
  const file = `${db}.cursor-secret`;
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

async function serve(values: Record<string, string | boolean | undefined>): Promise<void> {
  const log = pino({ name: 'converge-relay' });
  const db = String(values['db']);
  const config: RelaySettings = values['config'] === undefined ? {} : await loadRelayConfig(String(values['config']));
  const store = new SqliteStore(db);
  const jwtSecret = (values['jwt-secret'] as string | undefined) ?? process.env['CONVERGE_JWT_SECRET'];
  const origins = (values['allowed-origins'] as string | undefined)
    ?.split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  const relay = createRelay({
    ...config,
    store,
    logger: log,
    ...(jwtSecret === undefined ? {} : { auth: jwtAuth({ secret: jwtSecret }) }),
    ...(origins === undefined ? {} : { allowedOrigins: origins }),
    cursorSecret: cursorSecretFor(db, (values['cursor-secret'] as string | undefined) ?? process.env['CONVERGE_CURSOR_SECRET']),
    recoveryWindowMs: parseDuration(String(values['recovery-window'])),
    openRecoveryWindow: values['open-recovery-window'] === true,
  });
  const cert = values['tls-cert'] as string | undefined;
  const key = values['tls-key'] as string | undefined;
  const listener = relayRequestListener(relay.handleRequest);
  const server: Server =
    cert !== undefined && key !== undefined ? createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, listener) : createHttpServer(listener);
  relay.attach(server);
  const host = String(values['host']);
  await new Promise<void>((done) => server.listen(Number(values['port']), host, done));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : Number(values['port']);
  log.info(
    { port, host, db, lineage: store.lineage, tls: cert !== undefined },
    `converge-relay listening on ${cert === undefined ? 'ws' : 'wss'}://${host}:${port}/`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: closing connections, flushing the store');
    server.close();
    void relay.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function backup(file: string, db: string): Promise<void> {
  const store = new SqliteStore(db);
  try {
    await store.backup(resolve(file));
    console.log(`backed up ${db} (lineage ${store.lineage}) to ${file}`);
  } finally {
    store.close();
  }
}

function restore(file: string, db: string, windowMs: number): void {
  if (!existsSync(file)) throw new Error(`no backup at ${file}`);
  mkdirSync(dirname(resolve(db)), { recursive: true });
  for (const suffix of ['-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
  copyFileSync(file, db);
  const store = new SqliteStore(db);
  try {
    const until = extendRecoveryWindow(store, Date.now() + windowMs);
    console.log(`restored ${file} into ${db} (lineage ${store.lineage}); recovery window open until ${new Date(until).toISOString()}`);
  } finally {
    store.close();
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      db: { type: 'string', default: './data/converge.db' },
      config: { type: 'string' },
      'jwt-secret': { type: 'string' },
      'allowed-origins': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'cursor-secret': { type: 'string' },
      'recovery-window': { type: 'string', default: '24h' },
      'open-recovery-window': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const [command, file] = positionals;
  const db = String(values.db);
  if (command === undefined) return serve(values);
  if ((command === 'backup' || command === 'restore') && file !== undefined) {
    return command === 'backup' ? backup(file, db) : restore(file, db, parseDuration(String(values['recovery-window'])));
  }
  throw new Error(`unknown command '${positionals.join(' ')}'\n\n${USAGE}`);
}

// Run when started as a program — also through the npm bin symlink (node_modules/.bin).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
