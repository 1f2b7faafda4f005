import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createHlcClock, type ReplicaId } from '@converge/conflict';
import { CollectionRegistry } from './collections.js';
import { FanOut } from './fan-out.js';
import { handleHealthRequest, handleMetricsRequest, metricsTokenDigest, type HttpStatusSource } from './http.js';
import { Ingest } from './ingest.js';
import { LevelConfirmations } from './level-confirmations.js';
import { RelayMetrics } from './metrics.js';
import { RecoveryWindow } from './recovery-window.js';
import { resolveRelayOptions, type RelayOptions } from './relay-options.js';
import { writeAsRelay, type RelayWrite } from './relay-write.js';
import { CLOSE, type RelayConnection } from './session/connection.js';
import type { SessionHost } from './session/session-host.js';
import { SessionRegistry } from './session/session-registry.js';
import { Session } from './session/session.js';
import { UpgradeGate } from './upgrade-gate.js';

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

  // Opened before any session is welcomed when the operator asks (every push comes after a welcome, which waits for it).
  const recovery = new RecoveryWindow(store, options, metrics, log);
  const sessions = new SessionRegistry({ ...options, anonymous: auth.anonymous }, metrics);
  // The log under the relay was replaced (a failover lost commits already handed out, and the
  // new primary reuses their seqs): nothing may go on from the old positions. The fan-out starts
  // over and every session is closed at once, before anything of the new log reaches it; each
  // client comes back with its cursor, which no longer matches the log, catches up again and
  // re-pushes its states (resync), so writes the failover lost come back.
  const restartSessions = (why: string) => sessions.closeEvery(CLOSE.tryLater, `${why}: reconnect`);
  const fanOut = new FanOut(store, sessions.live, {
    batchSize: options.catchupBatchSize,
    headCheckMs: options.headCheckMs,
    log,
    onFork: () => restartSessions('the relay database lost commits'),
    readsLag: store.awaitReplica !== undefined,
  });
  const ingest = new Ingest(store, () => ({ collections, auth, limits, now: now() }), { metrics, fanOut, log });
  const levels = new LevelConfirmations(store, options, metrics);
  const host: SessionHost = { options, store, collections, auth, log, metrics, recovery, roster: sessions, ingest, fanOut, levels };
  // A failover: commits acknowledged only at `relay` before it may be lost, and their writers
  // still hold them. Open the recovery window, as after a restored backup, so their re-pushes
  // are accepted.
  const stopWatchingTimeline = store.watchTimeline?.((timeline, previous) => {
    log.warn({ timeline, previous }, `the database is on a new timeline (${previous} → ${timeline}): a failover; writes go to the new primary only`);
    fanOut.reset();
    restartSessions('the relay database failed over');
    recovery.open('timeline_changed', { timeline, previous }).catch((error: unknown) => log.error({ err: error }, 'opening the recovery window failed'));
  });

  const accept = (connection: RelayConnection) => {
    if (state !== 'running') {
      connection.close(CLOSE.goingAway, 'relay shutting down');
      return;
    }
    sessions.track(connection, new Session(host, connection));
  };
  const gate = new UpgradeGate(
    { ...options, maxPayload: limits.maxFrameBytes + 64 * 1024, log },
    { running: () => state === 'running', connections: () => sessions.sockets, accept },
    metrics,
  );

  // A summary line now and then, so an operator sees that the relay is doing something.
  let summaryFrom = now();
  let acceptedBefore = 0;
  const summary =
    options.summaryIntervalMs > 0
      ? setInterval(() => {
          const at = now();
          const changes = metrics.acceptedChanges();
          const changesPerSecond = Math.round(((changes - acceptedBefore) * 1000) / Math.max(1, at - summaryFrom));
          const connections = sessions.live.size;
          log.info({ connections, sockets: sessions.sockets, changesPerSecond }, `relay: ${connections} connections, ${changesPerSecond} changes/s`);
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
    stopWatchingTimeline?.();
    await recovery.ready.catch(() => undefined);
    await ingest.flush();
    await sessions.closeAll(CLOSE.goingAway, 'relay shutting down', options.closeTimeoutMs);
    gate.close();
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
    attach: (server, { path = '/' } = {}) => gate.attach(server, path),
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
    connections: () => sessions.live.size,
    close: () => (closing ??= close()),
  };
}
