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
  healthy(): boolean;
  health(): Record<string, unknown>;
}

/**
 * Serves `GET /healthz` (JSON, 503 once the relay is closing) and `GET /metrics` (Prometheus
 * text). Returns false for any other request, which stays the caller's to answer.
 */
export function handleRelayRequest(source: HttpStatusSource, request: IncomingMessage, response: ServerResponse): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = pathOf(request);
  if (path === '/healthz') {
    const healthy = source.healthy();
    response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
    response.end(JSON.stringify(source.health()));
    return true;
  }
  if (path === '/metrics') {
    source.metrics.registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': source.metrics.registry.contentType });
        response.end(text);
      },
      (error: unknown) => {
        source.log.error({ err: error }, 'collecting metrics failed');
        if (!response.headersSent) response.writeHead(500);
        response.end();
      },
    );
    return true;
  }
  return false;
}

const INDEX = `converge-relay: a Converge sync relay.

  WebSocket   ws(s)://<this host>/        sync protocol (JSON text frames; hello first)
  GET /healthz                            health as JSON
  GET /metrics                            Prometheus metrics
`;

/**
 * The request listener of a server that belongs to the relay alone (the CLI's, the test
 * relay's): `/healthz`, `/metrics`, a short text page on `/` naming the endpoints, 404 for
 * anything else.
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
