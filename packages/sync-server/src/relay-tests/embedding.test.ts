import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createRelay, type Relay } from '../relay.js';
import type { RelayOptions } from '../relay-options.js';
import { MemoryStore } from '../store/memory-store.js';
import { ProtocolClient } from '../testing/protocol-client.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An Express-like app: async route handlers, the relay's endpoints mounted through `handleRequest`. */
function app(relay: Relay) {
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> = {
    '/api/cart': async (_req, res) => {
      await sleep(5); // a database call
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: 3 }));
    },
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    if (relay.handleRequest(req, res)) return;
    const route = routes[req.url ?? ''];
    if (route === undefined) {
      res.writeHead(404);
      res.end('app: not found');
      return;
    }
    route(req, res).catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  };
}

let open: { relay: Relay; server: Server; clients: ProtocolClient[] } | undefined;
afterEach(async () => {
  if (open === undefined) return;
  for (const c of open.clients) c.close();
  await open.relay.close();
  open.server.closeAllConnections();
  await new Promise((resolve) => open!.server.close(resolve));
  open = undefined;
});

async function embedded(options: Partial<RelayOptions> = {}, path = '/sync') {
  const relay = createRelay({ store: new MemoryStore(), logger: pino({ level: 'silent' }), cursorSecret: 'embedding-test', ...options });
  const server = createServer(app(relay));
  const detach = relay.attach(server, { path });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  open = { relay, server, clients: [] };
  const client = async (replicaId: string) => {
    const c = await ProtocolClient.connect(`ws://127.0.0.1:${port}${path}`, { replicaId, subscriptions: [{ collection: 'notes', cursor: null }] });
    open!.clients.push(c);
    return c;
  };
  return { relay, server, port, detach, client, base: `http://127.0.0.1:${port}` };
}

/** Sends a raw upgrade request and returns the whole response, read until the relay closes the socket. */
function rawUpgrade(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => undefined);
  });
}

const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout');

describe('embedding the relay in an app server', () => {
  it("leaves the app's requests alone: an async route keeps answering while clients sync", async () => {
    const { client, base } = await embedded();
    const [a, b] = [await client('replicaA'), await client('replicaB')];
    await b.next('changes', (f) => f.done === true);
    const requests = Array.from({ length: 20 }, () => fetch(`${base}/api/cart`).then(async (r) => [r.status, await r.text()] as const));
    for (let i = 0; i < 10; i++) await a.push([a.blind('notes', `k${i}`, i)]);
    await b.next('changes', (f) => f.watermark === 10);
    expect(await Promise.all(requests)).toEqual(Array(20).fill([200, '{"items":3}']));
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
    expect(await (await fetch(`${base}/elsewhere`)).text()).toBe('app: not found');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    // Metrics are not the app's public port's to serve unless asked: the request reaches the app.
    expect(await (await fetch(`${base}/metrics`)).text()).toBe('app: not found');
  });

  it('serves metrics on a listener of their own through handleMetricsRequest', async () => {
    const { relay, client } = await embedded();
    const a = await client('replicaA');
    await a.next('welcome');
    const metricsServer = createServer((req, res) => {
      if (relay.handleMetricsRequest(req, res)) return;
      res.writeHead(404);
      res.end('metrics listener: not found');
    });
    await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}`;
      const served = await fetch(`${base}/metrics`);
      expect(served.status).toBe(200);
      expect(await served.text()).toMatch(/converge_connections 1/);
      expect(await (await fetch(`${base}/healthz`)).text()).toBe('metrics listener: not found');
    } finally {
      await new Promise((resolve) => metricsServer.close(resolve));
    }
  });

  it('close() resolves once every session closed, queued pushes are acked and the store is closed, and leaves no handle open', async () => {
    const before = handles().length;
    const { relay, server, client } = await embedded();
    const a = await client('replicaA');
    await a.next('changes', (f) => f.done === true);
    a.send({ type: 'push', id: 'last', ack: 'relay', changes: [a.blind('notes', 'k', 1)] });
    // Until the relay has read the push (queued for the next group commit). Turns of the event
    // loop, not a fixed sleep: on a loaded machine one timer tick may come before the read.
    const pushRead = async () => (await relay.metrics.framesIn.get()).values.some((v) => v.labels['type'] === 'push' && v.value > 0);
    for (let turns = 0; turns < 10_000 && !(await pushRead()); turns++) await new Promise((resolve) => setImmediate(resolve));
    expect(relay.state).toBe('running');
    const closing = relay.close();
    expect(relay.state).toBe('closing');
    await closing;
    expect(relay.state).toBe('closed');
    expect(a.frames.find((f) => f.type === 'ack')).toMatchObject({ id: 'last', results: [{ status: 'accepted' }] });
    expect((await a.closed).code).toBe(1001);
    expect(relay.connections()).toBe(0);
    await new Promise((resolve) => server.close(resolve));
    open = undefined;
    expect(handles().length).toBeLessThanOrEqual(before);
  });

  it('an upgrade on another path is left to its own listener; with none, it is refused with 404, Content-Length and a closed socket', async () => {
    const { server, port } = await embedded();
    const response = await rawUpgrade(port, '/other');
    expect(response).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect(response).toMatch(/\r\nContent-Length: 10\r\n/);
    expect(response.endsWith('\r\n\r\nNot Found\n')).toBe(true);
    server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 418 I am a teapot\r\nContent-Length: 0\r\n\r\n'));
    expect(await rawUpgrade(port, '/other')).toMatch(/^HTTP\/1\.1 418 /);
  });

  it('verifyUpgrade decides before anything else: false is 401, a verdict brings its own status', async () => {
    const { port } = await embedded({
      verifyUpgrade: async (req) => {
        await sleep(1); // a session lookup
        const cookie = req.headers.cookie ?? '';
        return cookie.includes('session=ok') ? true : cookie.includes('session=banned') ? { status: 403, message: 'banned' } : false;
      },
    });
    const url = `ws://127.0.0.1:${port}/sync`;
    const status = (cookie?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, cookie === undefined ? {} : { headers: { cookie } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => undefined);
      });
    expect(await status()).toBe(401);
    expect(await status('session=banned')).toBe(403);
    expect(await status('session=ok')).toBe(101);
  });

  it('the detach function stops the relay from serving upgrades on that server', async () => {
    const { port, detach } = await embedded();
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/sync`)).toBe(101);
    detach();
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/sync`)).not.toBe(101);
  });
});
