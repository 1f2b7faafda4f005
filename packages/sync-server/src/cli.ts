#!/usr/bin/env node
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConvergeError } from '@converge/conflict';
import { pino } from 'pino';
import { jwtAuth } from './auth/auth.js';
import { lockDatabase, lockHolder } from './database-lock.js';
import { parseDuration } from './duration.js';
import { relayRequestListener } from './http.js';
import { extendRecoveryWindow } from './recovery-window.js';
import { loadRelayConfig, RELAY_SETTING_NAMES } from './relay-config.js';
import { DEFAULT_RECOVERY_WINDOW_MS, MIN_METRICS_TOKEN_LENGTH, type RelaySettings } from './relay-options.js';
import { createRelay, type Relay } from './relay.js';
import { PostgresStore } from './store/postgres-store.js';
import { SqliteStore } from './store/sqlite-store.js';

const DEFAULT_DB = './data/converge.db';

const USAGE = `converge-relay — the Converge sync relay

  converge-relay [options]                   serve
  converge-relay backup <file> [--db PATH]   online backup of the database to <file> (beside a running relay)
  converge-relay restore <file> [--db PATH]  install a backup (relay stopped) and open the recovery window

options:
  --port N                 TCP port (default 8787; 0 picks a free one)
  --host ADDR              address to bind (default 127.0.0.1)
  --db PATH                SQLite database file (default ./data/converge.db; ':memory:' allowed)
  --store URL              PostgreSQL instead of SQLite: postgres://user@host[,host2…]/db[?target_session_attrs=primary]
                           (or env CONVERGE_DATABASE_URL); several relays may share it. Needs a cursor secret
  --schema NAME            the PostgreSQL schema of the relay's tables (default converge; created and migrated)
  --replica-url URL        with --store: a standby to serve catch-up and live changes from (follower reads;
                           or env CONVERGE_REPLICA_URL); writes still go to --store
  --ack-timeout D          a quorum/all push not confirmed within D (default 5s) gets confirm ack_timeout;
                           the relay keeps waiting and confirms later
  --config FILE            relay.config.json, or a .js/.mjs module exporting it as default; its keys:
                           ${RELAY_SETTING_NAMES.join(', ')}
  --jwt-secret S           verify HS256 JWTs sent in hello (or env CONVERGE_JWT_SECRET); none: anonymous
  --allowed-origins A,B    WebSocket Origins allowed (default: any; requests without Origin always)
  --tls-cert F --tls-key F serve wss:// directly
  --cursor-secret S        MAC key for cursors (or env CONVERGE_CURSOR_SECRET; default: generated once, kept beside the database)
  --metrics-port N         serve GET /metrics on a listener of its own (0 picks a free one); default: none
  --metrics-host ADDR      address of that listener (default 127.0.0.1)
  --metrics-token T        bearer token (≥ 16 characters, or env CONVERGE_METRICS_TOKEN) that GET /metrics
                           requires; with it the sync port serves /metrics too. Without a token or a
                           metrics port, no metrics are served
  --recovery-window D      open the recovery window now, for D (e.g. 90s, 30m, 24h): the relay lost
                           its data and its cursor secret; with restore, how long its window stays open
  --open-recovery-window   the same, for the default 24h
  -h, --help               this text
  --version                the relay's version

endpoints: WebSocket on /, GET /healthz ({"status":"ok"}), GET / (a page naming them),
           GET /metrics with --metrics-token or on --metrics-port`;

/** A mistake in how the relay was started: printed as one line, exit code 1. */
function usageError(message: string): ConvergeError {
  return new ConvergeError('bad_message', message);
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function portOf(text: string, option = '--port'): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) throw usageError(`${option} must be a number from 0 to 65535, not '${text}'`);
  return port;
}

function durationOf(text: string, option: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw usageError(`${option} must be a duration such as 90s, 30m or 24h, not '${text}'`);
  }
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw usageError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

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

/** Listens, or fails with one line saying why (port in use, not allowed); `option` names the flag to change. */
async function listen(server: Server, port: number, host: string, option = '--port'): Promise<number> {
  const hostOption = option === '--port' ? '--host' : '--metrics-host';
  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') fail(usageError(`port ${port} on ${host} is already in use: stop what runs there or pass another ${option}`));
      else if (error.code === 'EACCES') fail(usageError(`not allowed to listen on port ${port} (ports below 1024 need privileges): pass another ${option}`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') fail(usageError(`cannot listen on ${hostOption} ${host}: no such address here`));
      else fail(error);
    });
    server.listen(port, host, done);
  });
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : port;
}

type Values = Record<string, string | boolean | undefined>;

/**
 * Serves until SIGINT/SIGTERM. Everything that can be wrong with how it was started (options,
 * config file, TLS files, the port, a relay already on the database) is found before the
 * database is opened.
 */
async function serve(values: Values): Promise<void> {
  const port = portOf(String(values['port']));
  const host = String(values['host']);
  const db = String(values['db']);
  const databaseUrl = databaseUrlOf(values);
  const replicaUrl = (values['replica-url'] as string | undefined) ?? (process.env['CONVERGE_REPLICA_URL'] || undefined);
  if (replicaUrl !== undefined && databaseUrl === undefined) throw usageError('--replica-url names a PostgreSQL standby: it goes with --store postgres://…');
  if (replicaUrl !== undefined && !/^postgres(ql)?:\/\//.test(replicaUrl)) throw usageError('--replica-url takes a postgres:// URL');
  const ackTimeout = values['ack-timeout'] as string | undefined;
  const ackTimeoutMs = ackTimeout === undefined ? undefined : durationOf(ackTimeout, '--ack-timeout');
  const recoveryWindow = values['recovery-window'] as string | undefined;
  const recoveryWindowMs = recoveryWindow === undefined ? undefined : durationOf(recoveryWindow, '--recovery-window');
  const config: RelaySettings = values['config'] === undefined ? {} : await loadRelayConfig(String(values['config']));
  const jwtSecret = (values['jwt-secret'] as string | undefined) ?? process.env['CONVERGE_JWT_SECRET'];
  const auth = jwtSecret === undefined ? undefined : jwtAuth({ secret: jwtSecret });
  const origins = (values['allowed-origins'] as string | undefined)
    ?.split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  const cert = values['tls-cert'] as string | undefined;
  const key = values['tls-key'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) throw usageError('--tls-cert and --tls-key go together');
  const tls = cert !== undefined && key !== undefined ? { cert: readFile(cert, 'the TLS certificate'), key: readFile(key, 'the TLS key') } : undefined;
  const metricsPort = values['metrics-port'] === undefined ? undefined : portOf(String(values['metrics-port']), '--metrics-port');
  const metricsHost = String(values['metrics-host']);
  const metricsToken = (values['metrics-token'] as string | undefined) ?? process.env['CONVERGE_METRICS_TOKEN'];
  if (metricsToken !== undefined && metricsToken.length < MIN_METRICS_TOKEN_LENGTH) {
    throw usageError(`--metrics-token must be at least ${MIN_METRICS_TOKEN_LENGTH} characters: it guards the relay's metrics`);
  }
  const cursorSecret = (values['cursor-secret'] as string | undefined) ?? process.env['CONVERGE_CURSOR_SECRET'];
  if (databaseUrl !== undefined && (cursorSecret === undefined || cursorSecret.length === 0)) {
    throw usageError('with --store postgres://… pass --cursor-secret (or CONVERGE_CURSOR_SECRET): every relay on the database must sign cursors alike');
  }
  const holder = databaseUrl === undefined ? lockHolder(db) : undefined;
  if (holder !== undefined) throw usageError(`${db} is open in another relay (pid ${holder}): stop it first, or pass another --db`);

  let relay: Relay | undefined;
  const listener = relayRequestListener((request: IncomingMessage, response: ServerResponse) => relay?.handleRequest(request, response) ?? false);
  const server: Server = tls === undefined ? createHttpServer(listener) : (await import('node:https')).createServer(tls, listener);
  const bound = await listen(server, port, host);
  // Metrics on a listener of their own, for the operator's network only: GET /metrics, 404 else.
  const metricsServer =
    metricsPort === undefined
      ? undefined
      : createHttpServer((request, response) => {
          if (relay?.handleMetricsRequest(request, response) === true) return;
          response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          response.end('not found: this listener serves GET /metrics only\n');
        });
  let metricsBound: number | undefined;
  try {
    if (metricsServer !== undefined) metricsBound = await listen(metricsServer, metricsPort!, metricsHost, '--metrics-port');
  } catch (error) {
    server.close();
    throw error;
  }

  const release = databaseUrl === undefined ? lockDatabase(db, 'serve it') : () => undefined;
  const log = pino({ name: 'converge-relay' });
  let store: SqliteStore | PostgresStore;
  try {
    store =
      databaseUrl === undefined
        ? new SqliteStore(db)
        : await PostgresStore.open(databaseUrl, { schema: String(values['schema']), ...(replicaUrl === undefined ? {} : { replicaUrl }) });
    relay = createRelay({
      ...config,
      store,
      logger: log,
      ...(auth === undefined ? {} : { auth }),
      ...(origins === undefined ? {} : { allowedOrigins: origins }),
      cursorSecret: cursorSecretFor(db, cursorSecret),
      ...(recoveryWindowMs === undefined ? {} : { recoveryWindowMs }),
      ...(metricsToken === undefined ? {} : { metricsToken }),
      ...(ackTimeoutMs === undefined ? {} : { ackTimeoutMs }),
      // The operator's evidence that the relay lost data: either flag opens the window.
      openRecoveryWindow: values['open-recovery-window'] === true || recoveryWindowMs !== undefined,
    });
  } catch (error) {
    release();
    server.close();
    metricsServer?.close();
    throw error;
  }
  relay.attach(server);
  const scheme = tls === undefined ? 'ws' : 'wss';
  const storeInfo =
    store instanceof SqliteStore
      ? { db, ...pick(store.info(), ['journalMode', 'synchronous', 'schemaVersion']) }
      : {
          store: 'postgres',
          ...pick(store.info(), ['hosts', 'database', 'schema', 'schemaVersion', 'serverVersion', 'timeline', 'replicaHosts']),
          replication: pick(store.replication(), ['standbys', 'quorum']),
        };
  log.info(
    {
      port: bound,
      host,
      ...(metricsBound === undefined ? {} : { metricsPort: metricsBound, metricsHost }),
      metrics: [...(metricsBound === undefined ? [] : ['own listener']), ...(metricsToken === undefined ? [] : ['bearer token'])].join(', ') || 'off',
      ...storeInfo,
      lineage: store.lineage,
      tls: tls !== undefined,
    },
    `converge-relay listening on ${scheme}://${host}:${bound}/` +
      (metricsBound === undefined ? '' : `, metrics on http://${metricsHost}:${metricsBound}/metrics`),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: closing connections, flushing the store');
    server.close();
    metricsServer?.close();
    void relay!.close().then(() => {
      release();
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Pick<T, K>;
}

/** The PostgreSQL URL to serve from (`--store`, else `CONVERGE_DATABASE_URL`), or undefined for SQLite. */
function databaseUrlOf(values: Values): string | undefined {
  const url = (values['store'] as string | undefined) ?? process.env['CONVERGE_DATABASE_URL'];
  if (url === undefined || url === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw usageError(`--store takes a postgres:// URL (for SQLite pass --db PATH), not '${url.split(':')[0]}:…'`);
  if (values['db'] !== undefined && values['db'] !== DEFAULT_DB) throw usageError('--store and --db name two databases: pass one');
  return url;
}

async function backup(file: string, db: string): Promise<void> {
  if (db !== ':memory:' && !existsSync(db)) throw usageError(`no database at ${db}: pass --db PATH`);
  const store = new SqliteStore(db);
  try {
    await store.backup(resolve(file));
    console.log(`backed up ${db} (lineage ${store.lineage}) to ${file}`);
  } finally {
    await store.close();
  }
}

async function restore(file: string, db: string, windowMs: number): Promise<void> {
  if (!existsSync(file)) throw usageError(`no backup at ${file}`);
  const release = lockDatabase(db, 'restore a backup into it');
  try {
    mkdirSync(dirname(resolve(db)), { recursive: true });
    for (const suffix of ['-wal', '-shm']) rmSync(`${db}${suffix}`, { force: true });
    copyFileSync(file, db);
    const store = new SqliteStore(db);
    try {
      const until = await extendRecoveryWindow(store, Date.now() + windowMs);
      console.log(`restored ${file} into ${db} (lineage ${store.lineage}); recovery window open until ${new Date(until).toISOString()}`);
    } finally {
      await store.close();
    }
  } finally {
    release();
  }
}

/** Runs the command line; rejects with a `ConvergeError` for a mistake in it. */
export async function main(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        port: { type: 'string', default: '8787' },
        host: { type: 'string', default: '127.0.0.1' },
        db: { type: 'string', default: DEFAULT_DB },
        store: { type: 'string' },
        schema: { type: 'string', default: 'converge' },
        'replica-url': { type: 'string' },
        'ack-timeout': { type: 'string' },
        config: { type: 'string' },
        'jwt-secret': { type: 'string' },
        'allowed-origins': { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'cursor-secret': { type: 'string' },
        'metrics-port': { type: 'string' },
        'metrics-host': { type: 'string', default: '127.0.0.1' },
        'metrics-token': { type: 'string' },
        'recovery-window': { type: 'string' },
        'open-recovery-window': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw usageError(`${(error as Error).message.split('. ')[0]!} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  if (values.version === true) {
    console.log(version());
    return;
  }
  const [command, file, ...extra] = positionals;
  const db = String(values.db);
  if (command === undefined) return serve(values);
  if (command !== 'backup' && command !== 'restore') throw usageError(`unknown command '${command}': the commands are backup and restore (see --help)`);
  if (databaseUrlOf(values) !== undefined) {
    throw usageError(`${command} is for SQLite: back PostgreSQL up with its own tools (pg_dump, base backups, your provider's snapshots)`);
  }
  if (file === undefined) throw usageError(`${command} needs a file: converge-relay ${command} <file> [--db PATH]`);
  if (extra.length > 0) throw usageError(`${command} takes one file, not '${positionals.slice(1).join(' ')}'`);
  if (command === 'backup') return backup(file, db);
  const recoveryWindow = values['recovery-window'];
  return restore(file, db, recoveryWindow === undefined ? DEFAULT_RECOVERY_WINDOW_MS : durationOf(recoveryWindow, '--recovery-window'));
}

/** Runs `main` as a program: any failure is one line on stderr and exit code 1, never a stack trace. */
export function runCli(argv: readonly string[]): void {
  main(argv).catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`converge-relay: ${message.split('\n')[0]}`);
    process.exit(1);
  });
}

// Run when started as a program — also through the npm bin symlink (node_modules/.bin).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) runCli(process.argv.slice(2));
