import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RelayMetrics } from './metrics.js';

/** The path of a request, without its query. */
export function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0]!;
}

/**
 * Refuses a WebSocket upgrade as an HTTP response with status text and `Content-Length`, then
 * destroys the socket once the response is written (ws's `abortHandshake` does the same).
 */
export function refuseUpgrade(socket: Duplex, status: number, message = STATUS_CODES[status] ?? 'Refused'): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** What the relay's HTTP endpoints report. */
export interface HttpStatusSource {
  readonly metrics: RelayMetrics;
  readonly log: Logger;
  /** True while the relay serves (ok), false once it is closing or its store is closed (unavailable). */
  healthy(): boolean;
}

/** The bearer token `/metrics` requires, as a digest (compared in constant time, whatever its length). */
export type MetricsToken = Buffer;

export function metricsTokenDigest(token: string): MetricsToken {
  return createHash('sha256').update(token).digest();
}

/** Whether a request carries `Authorization: Bearer <token>`; constant time in the token. */
function bears(request: IncomingMessage, token: MetricsToken): boolean {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  return match !== null && timingSafeEqual(metricsTokenDigest(match[1]!), token);
}

/**
 * Serves `GET /healthz`: `{"status":"ok"}`, or 503 with `{"status":"unavailable"}` once the
 * relay is closing. Public, so it says nothing else (no lineage, no counts). Returns false for
 * any other request, which stays the caller's to answer.
 */
export function handleHealthRequest(source: HttpStatusSource, request: IncomingMessage, response: ServerResponse): boolean {
  if ((request.method !== 'GET' && request.method !== 'HEAD') || pathOf(request) !== '/healthz') return false;
  const healthy = source.healthy();
  response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ status: healthy ? 'ok' : 'unavailable' }));
  return true;
}

/**
 * Serves `GET /metrics` (Prometheus text): with `token`, only to a request bearing it (else 401,
 * no metrics). Metrics name collections and carry their heads and key counts, so they are for
 * the operator's eyes only. Returns false for any other request.
 */
export function handleMetricsRequest(source: HttpStatusSource, token: MetricsToken | undefined, request: IncomingMessage, response: ServerResponse): boolean {
  if ((request.method !== 'GET' && request.method !== 'HEAD') || pathOf(request) !== '/metrics') return false;
  if (token !== undefined && !bears(request, token)) {
    response.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="converge-relay metrics"' });
    response.end('unauthorized: /metrics needs Authorization: Bearer <metrics token>\n');
    return true;
  }
  source.metrics.registry.metrics().then(
    (text) => {
      response.writeHead(200, { 'content-type': source.metrics.registry.contentType });
      response.end(request.method === 'HEAD' ? undefined : text);
    },
    (error: unknown) => {
      source.log.error({ err: error }, 'collecting metrics failed');
      if (!response.headersSent) response.writeHead(500);
      response.end();
    },
  );
  return true;
}

const INDEX = `converge-relay: a Converge sync relay.

  WebSocket   ws(s)://<this host>/        sync protocol (JSON text frames; hello first)
  GET /healthz                            health as JSON: {"status":"ok"}
  GET /metrics                            Prometheus metrics, with the operator's bearer token
                                          (or on the relay's own metrics port); 404 when neither
`;

/**
 * The request listener of a server that belongs to the relay alone (the CLI's, the test
 * relay's): `/healthz`, `/metrics` when the relay serves it there, a short text page on `/`
 * naming the endpoints, 404 for anything else.
 */
export function relayRequestListener(handleRequest: (request: IncomingMessage, response: ServerResponse) => boolean): RequestListener {
  return (request, response) => {
    if (handleRequest(request, response)) return;
    if (pathOf(request) === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(INDEX) });
      response.end(request.method === 'HEAD' ? undefined : INDEX);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('not found: see / for the endpoints\n');
  };
}
