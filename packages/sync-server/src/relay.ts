import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { applyCrdtOp, ConvergeError, createHlcClock, nextDot, replicaIdFromBytes, replicaIdProblem, writeDoc, type ReplicaId } from '@converge/conflict';
import {
  collectionNameProblem,
  documentKeyProblem,
  encodeValue,
  type ChangeResult,
  type CollectionDeclaration,
  type RelayLimits,
  type WireState,
} from '@converge/protocol';
import { pino, type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { anonymousAuth, type Principal, type RelayAuth } from './auth/auth.js';
import { CollectionRegistry, crdtTypeOf } from './collections.js';
import { crdtDocFromWire, crdtDocToWire } from './crdt-wire.js';
import { RelayMetrics } from './metrics.js';
import { extendRecoveryWindow, recoveryWindowEnd } from './recovery-window.js';
import { resolveLimits } from './relay-limits.js';
import { ingestPushes, type CommittedChange, type PushOutcome, type PushRequest } from './push-ingest.js';
import { wsConnection, type RelayConnection } from './session/connection.js';
import { CLOSE, Session } from './session/session.js';
import type { SessionHost, SessionOptions } from './session/session-host.js';
import type { LiveRound } from './session/subscription.js';
import { TokenBucket } from './session/token-bucket.js';
import { parseStored, serializeState } from './stored-state.js';
import type { RelayStore } from './store/relay-store.js';

export interface RelayOptions {
  readonly store: RelayStore;
  /** Mode and strategy per collection: authoritative, announced in `welcome`. */
  readonly collections?: Readonly<Record<string, CollectionDeclaration>>;
  /** Default: anonymous, with a loud warning at start. */
  readonly auth?: RelayAuth;
  readonly limits?: Partial<RelayLimits>;
  /** MAC key for cursors, from configuration (never the database). Default: random per process, so cursors do not survive a restart. */
  readonly cursorSecret?: string | Buffer;
  readonly logger?: Logger;
  /** The relay's own replica id (server-side writes); default: random. */
  readonly relayId?: ReplicaId;
  /** Origins allowed to open a WebSocket; absent: any Origin, or none. */
  readonly allowedOrigins?: readonly string[];
  readonly maxConnections?: number;
  readonly maxConnectionsPerPrincipal?: number;
  /** Changes per second per connection, and per principal across its connections. */
  readonly rateLimit?: { readonly changesPerSecond: number; readonly burst: number };
  readonly principalRateLimit?: { readonly changesPerSecond: number; readonly burst: number };
  readonly helloTimeoutMs?: number;
  readonly maxBufferedBytes?: number;
  readonly catchupBatchSize?: number;
  /** Subscriptions per connection (default 256); more are refused with `rate_limited`. */
  readonly maxSubscriptions?: number;
  /** How long a recovery window stays open, ms (default 24 h). */
  readonly recoveryWindowMs?: number;
  /** Operator flag: open the recovery window now. */
  readonly openRecoveryWindow?: boolean;
  readonly now?: () => number;
}

/** A server-side write: a value (register collections), a CRDT operation, or a delete. */
export type RelayWrite =
  { readonly value: unknown } | { readonly op: { readonly type: string; readonly [field: string]: unknown } } | { readonly delete: true };

export interface Relay {
  readonly metrics: RelayMetrics;
  readonly relayId: ReplicaId;
  /** Serves `GET /healthz`, `GET /metrics` and WebSocket upgrades on `/` of this HTTP(S) server. */
  attach(server: Server): void;
  /** Runs a session over any connection (an in-memory transport in tests). */
  accept(connection: RelayConnection): void;
  /** Writes as the relay's own replica (seeding, server logic); stored, sequenced and fanned out. */
  write(collection: string, key: string, write: RelayWrite): number;
  /** Open sessions. */
  connections(): number;
  /** Stops accepting, closes every session (1001) and the store. */
  close(): Promise<void>;
}

export function createRelay(options: RelayOptions): Relay {
  const { store } = options;
  const now = options.now ?? Date.now;
  const log = options.logger ?? pino({ name: 'converge-relay' });
  const auth = options.auth ?? anonymousAuth;
  const limits = resolveLimits(options.limits);
  const collections = new CollectionRegistry(options.collections);
  const metrics = new RelayMetrics(store);
  const relayId = options.relayId ?? replicaIdFromBytes(randomBytes(12));
  const idProblem = replicaIdProblem(relayId);
  if (idProblem !== undefined) throw new ConvergeError('bad_message', `relayId: ${idProblem}`);
  const cursorSecret =
    options.cursorSecret === undefined ? randomBytes(32) : Buffer.isBuffer(options.cursorSecret) ? options.cursorSecret : Buffer.from(options.cursorSecret);
  if (options.cursorSecret === undefined) log.warn('no cursor secret configured: cursors will not survive a restart (clients then catch up from 0)');
  if (auth.anonymous) log.warn('NO AUTHENTICATION: every client is accepted as "anonymous"; limits apply per connection only');
  const windowMs = options.recoveryWindowMs ?? 24 * 60 * 60 * 1000;
  const clock = createHlcClock({ replica: relayId, now });
  const sessionOptions: SessionOptions = {
    helloTimeoutMs: options.helloTimeoutMs ?? 5000,
    maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
    catchupBatchSize: options.catchupBatchSize ?? 500,
    maxSubscriptions: options.maxSubscriptions ?? 256,
    rateLimit: options.rateLimit ?? { changesPerSecond: 2000, burst: 4000 },
  };
  const principalRate = options.principalRateLimit ?? { changesPerSecond: 5000, burst: 10000 };
  const sessions = new Set<Session>();
  const perPrincipal = new Map<string, number>();
  const principalBuckets = new Map<string, TokenBucket>();
  let closing = false;
  let pushes: { request: PushRequest; done: (outcome: ChangeResult[] | Error) => void }[] = [];

  const openRecoveryWindow = (reason: string, details: Record<string, unknown>) => {
    const until = extendRecoveryWindow(store, now() + windowMs);
    metrics.recoveryWindowOpens.inc({ reason });
    log.warn({ reason, ...details, until: new Date(until).toISOString() }, 'recovery window opened: the relay lost data and accepts re-pushed states');
  };
  if (options.openRecoveryWindow === true) openRecoveryWindow('operator_flag', {});
  // Only evidence opens a window: a new database opens none by itself (it has nothing to recover).
  const recoveryOpen = () => now() < recoveryWindowEnd(store);

  // Live fan-out in rounds: everything committed in one turn of the event loop goes out together.
  let live: CommittedChange[] = [];
  const deliverRound = () => {
    const round = live;
    live = [];
    const changes = new Map<string, CommittedChange[]>();
    for (const change of round) {
      const list = changes.get(change.collection);
      if (list === undefined) changes.set(change.collection, [change]);
      else list.push(change);
    }
    const heads = new Map<string, number>();
    const head = (collection: string) => {
      let seq = heads.get(collection);
      if (seq === undefined) heads.set(collection, (seq = store.head(collection).seq));
      return seq;
    };
    const frames: LiveRound['frames'] = new Map();
    for (const session of sessions) session.deliverLive({ changes, head, frames });
  };
  const fanOut = (committed: readonly CommittedChange[]) => {
    if (committed.length === 0) return;
    if (live.length === 0) setImmediate(deliverRound);
    live.push(...committed);
  };

  const host: SessionHost = {
    store,
    collections,
    auth,
    limits,
    options: sessionOptions,
    log,
    metrics,
    relayId,
    cursorSecret,
    now,
    recoveryOpen,
    openRecoveryWindow,
    register(session) {
      const id = session.principalId!;
      const count = perPrincipal.get(id) ?? 0;
      if (!auth.anonymous && count >= (options.maxConnectionsPerPrincipal ?? 50)) return false;
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
        bucket = new TokenBucket(principalRate.burst, principalRate.changesPerSecond, now);
        principalBuckets.set(id, bucket);
      }
      return bucket;
    },
    submit({ replicaId, principal, changes, frameBytes }, done) {
      pushes.push({ request: { ctx: { store, collections, replicaId, principal, auth, limits, now: 0, recoveryOpen: false, frameBytes }, changes }, done });
      if (pushes.length === 1) setImmediate(commitPushes);
    },
  };

  const record = (replicaId: ReplicaId, principal: Principal, outcome: PushOutcome) => {
    const { counts } = outcome;
    for (const result of outcome.results) {
      metrics.changes.inc({ collection: result.collection, result: result.status === 'rejected' ? 'rejected' : 'accepted' });
      if (result.status === 'rejected') metrics.rejects.inc({ code: result.code });
    }
    if (counts.siblingsCreated > 0) metrics.siblingsCreated.inc(counts.siblingsCreated);
    if (counts.siblingWarnings > 0) metrics.siblingWarnings.inc(counts.siblingWarnings);
    if (counts.repairs > 0) {
      metrics.recoveryRepairs.inc(counts.repairs);
      log.warn({ replicaId, principal: principal.id, repairs: counts.repairs }, "accepted re-pushed states carrying other replicas' dots (recovery window)");
    }
    fanOut(outcome.committed);
  };

  /** Group commit: every queued push in one transaction; if it fails, each push alone, so only the culprit fails. */
  function commitPushes(): void {
    const batch = pushes;
    pushes = [];
    const at = now();
    const open = recoveryOpen();
    const requests = batch.map(({ request }) => ({ ...request, ctx: { ...request.ctx, now: at, recoveryOpen: open } }));
    let outcomes: (PushOutcome | Error)[];
    try {
      outcomes = ingestPushes(store, requests);
    } catch (error) {
      outcomes = requests.map((request) => {
        if (requests.length === 1) return error as Error;
        try {
          return ingestPushes(store, [request])[0]!;
        } catch (single) {
          return single as Error;
        }
      });
    }
    outcomes.forEach((outcome, i) => {
      const { request, done } = batch[i]!;
      if (!(outcome instanceof Error)) record(request.ctx.replicaId, request.ctx.principal, outcome);
      done(outcome instanceof Error ? outcome : outcome.results);
    });
  }

  /** Every accepted connection, before and after hello (maxConnections counts them all). */
  let open = 0;
  const accept = (connection: RelayConnection) => {
    if (closing) {
      connection.close(CLOSE.goingAway, 'relay shutting down');
      return;
    }
    open++;
    connection.onClose(() => open--);
    new Session(host, connection);
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes + 64 * 1024, perMessageDeflate: false });
  const refuse = (socket: Duplex, status: number, message: string) => {
    socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${message}\n`);
  };

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const healthy = !store.closed && !closing;
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: healthy ? 'ok' : 'unavailable', lineage: store.lineage, connections: sessions.size }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  };

  return {
    metrics,
    relayId,
    attach(server) {
      server.on('request', (req, res) => {
        onRequest(req, res).catch((error: unknown) => {
          log.error({ err: error }, 'http request failed');
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
      });
      server.on('upgrade', (req, socket, head) => {
        const path = (req.url ?? '/').split('?')[0];
        if (path !== '/') return refuse(socket, 404, 'Not Found');
        const origin = req.headers.origin;
        if (options.allowedOrigins !== undefined && origin !== undefined && !options.allowedOrigins.includes(origin)) {
          metrics.rejects.inc({ code: 'origin' });
          return refuse(socket, 403, 'Forbidden');
        }
        if (closing || open >= (options.maxConnections ?? 10_000)) {
          metrics.rejects.inc({ code: 'max_connections' });
          return refuse(socket, 503, 'Service Unavailable');
        }
        wss.handleUpgrade(req, socket, head, (ws) => accept(wsConnection(ws)));
      });
    },
    accept,
    write(collection, key, write) {
      const problem = collectionNameProblem(collection) ?? documentKeyProblem(key);
      if (problem !== undefined) throw new ConvergeError('bad_message', `${collection}/${key}: ${problem}`);
      const type = crdtTypeOf(collections.get(collection).strategy);
      const committed = store.transact((tx) => {
        const stored = tx.get(collection, key);
        const current = parseStored(stored);
        const dot = nextDot(current, relayId);
        const hlc = clock.tick();
        let next: WireState;
        if (type !== undefined) {
          if ('value' in write) throw new ConvergeError('bad_message', `${collection} is a CRDT collection: write an operation`);
          const base = crdtDocFromWire(type, current, `stored ${key}`);
          if (!base.ok) throw new ConvergeError('internal', base.error.message);
          const op = 'delete' in write ? { type: 'clear' as const } : write.op;
          next = crdtDocToWire(type, applyCrdtOp(type, base.value, { dot, hlc, op }).state);
        } else {
          if ('op' in write) throw new ConvergeError('bad_message', `${collection} holds values, not CRDT operations`);
          next =
            'delete' in write
              ? writeDoc(current, { dot, hlc, readContext: current.context, deleted: true }).state
              : writeDoc(current, { dot, hlc, readContext: current.context, value: encodeValue(write.value) }).state;
        }
        const text = serializeState(next);
        const bytes = Buffer.byteLength(text);
        if (bytes > limits.maxStateBytes) {
          throw new ConvergeError(
            'payload_too_large',
            `${collection}/${key} would hold ${bytes} bytes of state; the limit is maxStateBytes = ${limits.maxStateBytes}`,
          );
        }
        const { seq } = tx.put(collection, key, text, dot);
        return { collection, key, seq, state: next, bytes };
      });
      fanOut([committed]);
      return committed.seq;
    },
    connections: () => sessions.size,
    async close() {
      closing = true;
      for (const session of [...sessions]) session.close(CLOSE.goingAway, 'relay shutting down');
      wss.close();
      store.close();
    },
  };
}
