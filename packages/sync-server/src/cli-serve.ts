import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pino } from 'pino';
import { jwtAuth } from './auth/auth.js';
import { databaseUrlOf, durationOf, portOf, readFile, usageError, type Values } from './cli-arguments.js';
import { cursorSecretFor, openStore, storeInfo } from './cli-store.js';
import { lockDatabase, lockHolder } from './database-lock.js';
import { relayRequestListener } from './http.js';
import { loadRelayConfig } from './relay-config.js';
import { MIN_METRICS_TOKEN_LENGTH, type RelaySettings } from './relay-options.js';
import { createRelay, type Relay } from './relay.js';
import type { PostgresStore } from './store/postgres-store.js';
import type { SqliteStore } from './store/sqlite-store.js';

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

/**
 * Serves until SIGINT/SIGTERM. Everything that can be wrong with how it was started (options,
 * config file, TLS files, the port, a relay already on the database) is found before the
 * database is opened.
 */
export async function serve(values: Values): Promise<void> {
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
    store = await openStore(db, databaseUrl, String(values['schema']), replicaUrl);
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
  log.info(
    {
      port: bound,
      host,
      ...(metricsBound === undefined ? {} : { metricsPort: metricsBound, metricsHost }),
      metrics: [...(metricsBound === undefined ? [] : ['own listener']), ...(metricsToken === undefined ? [] : ['bearer token'])].join(', ') || 'off',
      ...storeInfo(store, db),
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
