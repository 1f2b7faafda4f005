import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHlcClock, type ReplicaId } from '@converge/conflict';
import { WebSocketServer } from 'ws';
import { CollectionRegistry } from './collections.js';
import { FanOut } from './fan-out.js';
import { handleHealthRequest, handleMetricsRequest, metricsTokenDigest, pathOf, refuseUpgrade, type HttpStatusSource } from './http.js';
import { Ingest } from './ingest.js';
import { RelayMetrics } from './metrics.js';
import { extendRecoveryWindow, recoveryWindowEnd } from './recovery-window.js';
import { resolveRelayOptions, type RelayOptions } from './relay-options.js';
import { writeAsRelay, type RelayWrite } from './relay-write.js';
import { wsConnection, type RelayConnection } from './session/connection.js';
import type { HostedSession, SessionHost } from './session/session-host.js';
import { CLOSE, Session } from './session/session.js';
import { TokenBucket } from './session/token-bucket.js';

/** `running` until `close()` is called, `closing` while it runs, `closed` once it resolved. */
export type RelayState = 'running' | 'closing' | 'closed';

export interface AttachOptions {
  /** The path WebSocket upgrades are served on. Default `/`. */
  readonly path?: string;
}

export interface Relay {
  readonly metrics: RelayMetrics;
  readonly relayId: ReplicaId;
  readonly state: RelayState;
  /**
   * Serves WebSocket upgrades on `path` of an HTTP(S) server. Listens to `upgrade` only, so the
   * server's own requests stay the app's; upgrades on other paths are left to other listeners
   * (refused with 404 when there are none). Returns a function that detaches the relay again.
   */
  attach(server: Server, options?: AttachOptions): () => void;
  /**
   * Answers `GET /healthz` (`{"status":"ok"}`, public) and — only with `metricsToken`, and only
   * to requests bearing it — `GET /metrics`; returns false (and touches nothing) for any other
   * request, so an app mounts them in its own request handler.
   */
  handleRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /**
   * Answers `GET /metrics` (Prometheus text; with `metricsToken`, only to requests bearing it)
   * and returns false for anything else: mount it on a listener of its own that only the
   * operator reaches (the CLI's `--metrics-port`).
   */
  handleMetricsRequest(request: IncomingMessage, response: ServerResponse): boolean;
  /** The metrics in Prometheus text format (`relay.metrics.registry.contentType`), to serve your own way. */
  metricsText(): Promise<string>;
  /** Runs a session over any connection (an in-memory transport in tests). */
  accept(connection: RelayConnection): void;
  /** Writes as the relay's own replica (seeding, server logic); stored, sequenced and fanned out. Resolves to the seq. */
  write(collection: string, key: string, write: RelayWrite): Promise<number>;
  /** Sessions that have completed `hello`. */
  connections(): number;
  /**
   * Stops accepting, commits the pushes already queued (their acks go out), closes every
   * session (1001; a socket that does not finish the closing handshake within
   * `closeTimeoutMs` is cut), then closes the store. Resolves once all of that is done.
   */
  close(): Promise<void>;
}

/**
 * Creates a relay: sessions over WebSockets (`attach`) or any connection (`accept`), the group
 * commit of their pushes into the store, and live fan-out.
 *
 * @example
 * ```ts
 * const relay = createRelay({ store: new MemoryStore(), cursorSecret: 'a secret from your configuration' });
 * relay.state; // → 'running'
 * await relay.close(); // sessions, queued commits and the store are closed when it resolves
 * relay.state; // → 'closed'
 * ```
 */
export function createRelay(relayOptions: RelayOptions): Relay {
  const options = resolveRelayOptions(relayOptions);
  const { store, limits, auth, logger: log, now, relayId } = options;
  const collections = new CollectionRegistry(options.collections);
  const metrics = new RelayMetrics(store);
  if (!options.cursorSecretConfigured) log.warn('no cursor secret configured: cursors will not survive a restart (clients then catch up from 0)');
  if (auth.anonymous) log.warn('NO AUTHENTICATION: every client is accepted as "anonymous"; limits apply per connection only');
  const clock = createHlcClock({ replica: relayId, now });
  let state: RelayState = 'running';

  const openRecoveryWindow = async (reason: string, details: Record<string, unknown>) => {
    const until = await extendRecoveryWindow(store, now() + options.recoveryWindowMs);
    metrics.recoveryWindowOpens.inc({ reason });
    log.warn({ reason, ...details, until: new Date(until).toISOString() }, 'recovery window opened: the relay lost data and accepts re-pushed states');
  };
  // Open before any session is welcomed (every push comes after a welcome, which waits for it).
  const ready = options.openRecoveryWindow ? openRecoveryWindow('operator_flag', {}) : Promise.resolve();
  ready.catch((error: unknown) => log.error({ err: error }, 'opening the recovery window failed'));
  // Only evidence opens a window: a new database opens none by itself (it has nothing to recover).
  const recoveryOpen = async () => {
    await ready;
    return now() < (await recoveryWindowEnd(store));
  };

  /** Sessions past `hello`, and every accepted connection's session (before `hello` too). */
  const sessions = new Set<HostedSession>();
  const accepted = new Map<RelayConnection, Session>();
  const perPrincipal = new Map<string, number>();
  const principalBuckets = new Map<string, TokenBucket>();

  const fanOut = new FanOut(store, () => sessions, { batchSize: options.catchupBatchSize, headCheckMs: options.headCheckMs, log });
  const ingest = new Ingest(store, () => ({ collections, auth, limits, now: now() }), { metrics, fanOut, log });

  const host: SessionHost = {
    store,
    collections,
    auth,
    limits,
    options,
    log,
    metrics,
    relayId,
    cursorSecret: options.cursorSecret,
    now,
    recoveryOpen,
    openRecoveryWindow,
    goLive: (collection, seq) => fanOut.goLive(collection, seq),
    register(session) {
      const id = session.principalId!;
      const count = perPrincipal.get(id) ?? 0;
      if (!auth.anonymous && count >= options.maxConnectionsPerPrincipal) return false;
      perPrincipal.set(id, count + 1);
      sessions.add(session);
      metrics.connections.set(sessions.size);
      return true;
    },
    unregister(session) {
      if (!sessions.delete(session)) return;
      const id = session.principalId!;
      const count = (perPrincipal.get(id) ?? 1) - 1;
      if (count <= 0) perPrincipal.delete(id);
      else perPrincipal.set(id, count);
      metrics.connections.set(sessions.size);
    },
    principalBucket(id) {
      let bucket = principalBuckets.get(id);
      if (bucket === undefined) {
        bucket = new TokenBucket(options.principalRateLimit.burst, options.principalRateLimit.changesPerSecond, now);
        principalBuckets.set(id, bucket);
      }
      return bucket;
    },
    submit: (push, done) => ingest.submit(push, done),
  };

  let drained: (() => void) | undefined;
  const accept = (connection: RelayConnection) => {
    if (state !== 'running') {
      connection.close(CLOSE.goingAway, 'relay shutting down');
      return;
    }
    accepted.set(connection, new Session(host, connection));
    connection.onClose(() => {
      accepted.delete(connection);
      if (accepted.size === 0) drained?.();
    });
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes + 64 * 1024, perMessageDeflate: false });
  let upgrading = 0;
  /** Why an upgrade is refused (HTTP status, metric code), or undefined to let it through. */
  const refusalOf = (request: IncomingMessage): { status: number; code: string; message?: string } | undefined => {
    if (state !== 'running') return { status: 503, code: 'shutting_down' };
    const origin = request.headers.origin;
    if (options.allowedOrigins !== undefined && origin !== undefined && !options.allowedOrigins.includes(origin)) return { status: 403, code: 'origin' };
    if (accepted.size + upgrading >= options.maxConnections) return { status: 503, code: 'max_connections' };
    return undefined;
  };
  const upgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    let refusal = refusalOf(request);
    if (refusal === undefined && options.verifyUpgrade !== undefined) {
      upgrading++;
      try {
        const verdict = await options.verifyUpgrade(request);
        if (verdict !== true)
          refusal = {
            status: verdict === false ? 401 : verdict.status,
            code: 'verify_upgrade',
            ...(verdict === false || verdict.message === undefined ? {} : { message: verdict.message }),
          };
      } finally {
        upgrading--;
      }
      refusal ??= refusalOf(request);
    }
    if (refusal !== undefined) {
      metrics.rejects.inc({ code: refusal.code });
      refuseUpgrade(socket, refusal.status, refusal.message);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => accept(wsConnection(ws)));
  };

  // A summary line now and then, so an operator sees that the relay is doing something.
  let summaryFrom = now();
  let acceptedBefore = 0;
  const summary =
    options.summaryIntervalMs > 0
      ? setInterval(() => {
          const at = now();
          const changes = metrics.acceptedChanges();
          const changesPerSecond = Math.round(((changes - acceptedBefore) * 1000) / Math.max(1, at - summaryFrom));
          log.info(
            { connections: sessions.size, sockets: accepted.size, changesPerSecond },
            `relay: ${sessions.size} connections, ${changesPerSecond} changes/s`,
          );
          acceptedBefore = changes;
          summaryFrom = at;
        }, options.summaryIntervalMs).unref()
      : undefined;

  const status: HttpStatusSource = { metrics, log, healthy: () => state === 'running' && !store.closed };
  const metricsToken = options.metricsToken === undefined ? undefined : metricsTokenDigest(options.metricsToken);

  let closing: Promise<void> | undefined;
  const close = async () => {
    state = 'closing';
    clearInterval(summary);
    await ready.catch(() => undefined);
    await ingest.flush();
    for (const session of [...accepted.values()]) session.close(CLOSE.goingAway, 'relay shutting down');
    if (accepted.size > 0) {
      const timer = setTimeout(() => {
        for (const connection of accepted.keys()) connection.terminate?.();
      }, options.closeTimeoutMs);
      await new Promise<void>((resolve) => (drained = resolve));
      clearTimeout(timer);
    }
    wss.close();
    fanOut.close();
    await store.close();
    state = 'closed';
  };

  return {
    metrics,
    relayId,
    get state() {
      return state;
    },
    attach(server, { path = '/' } = {}) {
      const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        socket.on('error', () => socket.destroy());
        if (pathOf(request) !== path) {
          // Another listener may serve this path; alone on the server, the relay refuses it so the socket does not hang.
          if (server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404);
          return;
        }
        upgrade(request, socket, head).catch((error: unknown) => {
          log.error({ err: error }, 'upgrade failed');
          refuseUpgrade(socket, 500);
        });
      };
      server.on('upgrade', onUpgrade);
      return () => void server.off('upgrade', onUpgrade);
    },
    handleRequest: (request, response) =>
      handleHealthRequest(status, request, response) || (metricsToken !== undefined && handleMetricsRequest(status, metricsToken, request, response)),
    handleMetricsRequest: (request, response) => handleMetricsRequest(status, metricsToken, request, response),
    metricsText: () => metrics.registry.metrics(),
    accept,
    async write(collection, key, write) {
      const committed = await writeAsRelay({ store, collections, limits, relayId, clock }, collection, key, write);
      fanOut.add([committed]);
      return committed.seq;
    },
    connections: () => sessions.size,
    close: () => (closing ??= close()),
  };
}
