import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { jwtAuth } from '../auth/auth.js';
import { memoryConnectionPair } from '../testing/memory-connection.js';
import type { ProtocolClientOptions } from '../testing/protocol-client.js';
import { logSink, relayHarness, says } from './harness.js';

const harness = relayHarness();
const client = (replicaId: string, extra: Partial<ProtocolClientOptions> = {}) => harness.client(replicaId, extra);

function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('error', () => undefined);
  });
}

describe('every limit triggers its code', () => {
  it('a frame above maxFrameBytes: payload_too_large, closed with 1009', async () => {
    await harness.start({ limits: { maxFrameBytes: 4096 } });
    const a = await client('replicaA');
    await a.next('welcome');
    a.sendRaw(JSON.stringify({ type: 'ping', t: 1, pad: 'x'.repeat(8000) }));
    expect(await a.next('error')).toMatchObject({ code: 'payload_too_large' });
    expect((await a.closed).code).toBe(1009);
  });

  it('frames sent while hello is being authenticated are bounded: past the bound, rate_limited and closed', async () => {
    let letIn: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (letIn = resolve));
    await harness.start({
      auth: {
        anonymous: false,
        authenticate: async () => {
          await slow;
          return { id: 'u1' };
        },
        authorize: () => true,
      },
    });
    const a = await client('replicaA', { token: 't' });
    // A client that does not wait for welcome may pipeline a few frames; a flood is refused.
    for (let t = 1; t <= 1000; t++) a.send({ type: 'ping', t });
    expect(await a.next('error')).toMatchObject({ code: 'rate_limited' });
    expect((await a.closed).code).toBe(1008);
    letIn();
    const b = await client('replicaB', { token: 't' });
    for (let t = 1; t <= 5; t++) b.send({ type: 'ping', t });
    await b.next('welcome');
    await b.next('pong', (f) => f.t === 5);
  });

  it('more changes in a frame than maxChangesPerFrame: payload_too_large', async () => {
    await harness.start({ limits: { maxChangesPerFrame: 3 } });
    const a = await client('replicaA');
    await a.next('welcome');
    a.send({ type: 'push', id: 'p', ack: 'relay', changes: [1, 2, 3, 4].map((i) => a.blind('notes', `k${i}`, i)) });
    expect(await a.next('error')).toMatchObject({ code: 'payload_too_large' });
    expect((await a.closed).code).toBe(1009);
  });

  it('pushing faster than the rate limit: rate_limited, then closed', async () => {
    await harness.start({ rateLimit: { changesPerSecond: 0.001, burst: 5 } });
    const a = await client('replicaA');
    await a.next('welcome');
    for (let i = 0; i < 5; i++) await a.push([a.blind('notes', `k${i}`, i)]);
    a.send({ type: 'push', id: 'over', ack: 'relay', changes: [a.blind('notes', 'k9', 9)] });
    expect(await a.next('error')).toMatchObject({ code: 'rate_limited' });
    expect((await a.closed).code).toBe(1008);
  });

  it('a connection closed for rate_limited first gets the acks of the pushes already committed', async () => {
    await harness.start({ rateLimit: { changesPerSecond: 0.001, burst: 5 } });
    const a = await client('replicaA');
    await a.next('welcome');
    // Both in one turn: the first is queued for the group commit when the second goes over the limit.
    a.send({ type: 'push', id: 'within', ack: 'relay', changes: [0, 1, 2, 3, 4].map((i) => a.blind('notes', `k${i}`, i)) });
    a.send({ type: 'push', id: 'over', ack: 'relay', changes: [a.blind('notes', 'k9', 9)] });
    await a.closed;
    const types = a.frames.map((f) => (f.type === 'ack' ? `ack ${f.id}` : f.type === 'error' ? `error ${f.code}` : f.type));
    expect(types.slice(types.indexOf('welcome') + 1).filter((t) => t !== 'changes')).toEqual(['ack within', 'error rate_limited']);
  });

  it('a binary frame is refused with bad_message and closed with 1003', async () => {
    await harness.start();
    const a = await client('replicaA');
    await a.next('welcome');
    a.sendRaw(Buffer.from(JSON.stringify({ type: 'ping', t: 1 })));
    expect(await a.next('error')).toMatchObject({ code: 'bad_message' });
    expect((await a.closed).code).toBe(1003);
    expect(a.frames.some((f) => f.type === 'pong')).toBe(false);
  });

  it('the per-principal rate limit counts across connections (anonymous clients: per connection only)', async () => {
    const secret = 'a-test-secret-of-sufficient-length';
    await harness.start({ auth: jwtAuth({ secret }), principalRateLimit: { changesPerSecond: 0.001, burst: 4 } });
    const jwt = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    const a = await client('replicaA', { token: jwt });
    const b = await client('replicaB', { token: jwt });
    await a.next('welcome');
    await b.next('welcome');
    for (let i = 0; i < 4; i++) await a.push([a.blind('notes', `k${i}`, i)]);
    b.send({ type: 'push', id: 'over', ack: 'relay', changes: [b.blind('notes', 'x', 1)] });
    expect(await b.next('error')).toMatchObject({ code: 'rate_limited' });
  });

  it('anonymous connections are limited per connection, never as one shared principal', async () => {
    await harness.start({ principalRateLimit: { changesPerSecond: 1, burst: 4 } });
    const a = await client('replicaA');
    const b = await client('replicaB');
    await a.next('welcome');
    await b.next('welcome');
    for (let i = 0; i < 4; i++) await a.push([a.blind('notes', `a${i}`, i)]);
    const ack = await b.push([b.blind('notes', 'b', 1)]);
    expect(ack.results[0]).toMatchObject({ status: 'accepted' });
  });

  it('maxConnections refuses the upgrade with 503, counting connections over any transport; a disallowed Origin gets 403', async () => {
    const relay = await harness.start({ maxConnections: 2, allowedOrigins: ['https://app.example'] });
    const a = await client('replicaA', { origin: 'https://app.example' });
    await a.next('welcome');
    // An in-process connection takes the second place.
    const { relayEnd, clientEnd } = memoryConnectionPair();
    relay.relay.accept(relayEnd);
    const released = new Promise((resolve) => clientEnd.onClose(resolve));
    expect(await upgradeStatus(relay.url, { origin: 'https://app.example' })).toBe(503);
    expect(await upgradeStatus(relay.url, { origin: 'https://evil.example' })).toBe(403);
    clientEnd.close();
    await released; // the relay's end heard the close first: its place is free
    expect(await upgradeStatus(relay.url)).toBe(101); // no Origin (not a browser) is accepted
  });

  it('subscriptions per connection are capped with rate_limited; the connection stays open', async () => {
    await harness.start({ maxSubscriptions: 2 });
    const c = await client('replicaA', { subscriptions: [] });
    await c.next('welcome');
    c.send({ type: 'subscribe', subscriptions: ['a', 'b', 'c'].map((collection) => ({ collection, cursor: null })) });
    expect(await c.next('error')).toMatchObject({ code: 'rate_limited', collection: 'c' });
    c.send({ type: 'ping', t: 7 });
    expect(await c.next('pong')).toMatchObject({ t: 7 });
  });

  it('maxConnections counts sockets that have not sent hello yet', async () => {
    const relay = await harness.start({ maxConnections: 1 });
    const silent = await client('silent', { noHello: true });
    expect(await upgradeStatus(relay.url)).toBe(503);
    silent.close();
  });

  it('maxConnectionsPerPrincipal refuses the extra connection with rate_limited', async () => {
    const secret = 'a-test-secret-of-sufficient-length';
    await harness.start({ auth: jwtAuth({ secret }), maxConnectionsPerPrincipal: 2 });
    const jwt = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
    const [a, b] = [await client('r1', { token: jwt }), await client('r2', { token: jwt })];
    await a.next('welcome');
    await b.next('welcome');
    const c = await client('r3', { token: jwt });
    expect(await c.next('error')).toMatchObject({ code: 'rate_limited' });
  });

  it('hello must come first, and within the deadline', async () => {
    await harness.start({ helloTimeoutMs: 100 });
    const silent = await client('replicaA', { noHello: true });
    expect(await silent.next('error', () => true, 2000)).toMatchObject({ code: 'bad_message' });
    expect((await silent.closed).code).toBe(1008);
    const rude = await client('replicaB', { noHello: true });
    rude.send({ type: 'ping', t: 1 });
    expect((await rude.next('error')).message).toMatch(/first frame must be hello/);
  });

  it('an idle connection is closed; a dead socket that answers no ping is dropped', async () => {
    const relay = await harness.start({ limits: { heartbeatMs: 50, idleTimeoutMs: 200 } });
    const idle = await client('replicaA');
    await idle.next('welcome');
    expect((await idle.closed).code).toBe(1001);
    expect(relay.relay.connections()).toBe(0);
  });

  it('a socket that answers no ping is cut within two heartbeats and counted as missed_pong', async () => {
    const log = logSink();
    const relay = await harness.start({ limits: { heartbeatMs: 50, idleTimeoutMs: 60_000 }, logger: log.logger });
    const deaf = await client('deaf');
    await deaf.next('welcome');
    // Not reading the socket: the relay's ping is never seen, so never answered.
    deaf.ws.pause();
    await log.next(says('closing session: no pong'));
    expect(relay.relay.connections()).toBe(0);
    expect(await relay.relay.metrics.registry.getSingleMetricAsString('converge_rejects_total')).toMatch(/code="missed_pong"\} 1/);
    deaf.ws.resume();
    expect((await deaf.closed).code).toBe(1006); // cut without a closing handshake
  });

  it('a slow consumer whose unsent bytes exceed the cap is disconnected with 1013', async () => {
    const relay = await harness.start({ maxBufferedBytes: 1 });
    const slow = await client('slow');
    await slow.next('changes', (f) => f.done === true);
    // Stop reading: the socket's receive buffer fills and the relay's send buffer grows.
    slow.ws.pause();
    const writer = await client('writer');
    await writer.next('welcome');
    let closed: { code: number } | undefined;
    void slow.closed.then((c) => (closed = c));
    // Bounded: at most 200 pushes of 200 kB (40 MB), far beyond the loopback socket buffers.
    for (let i = 0; i < 200 && relay.relay.connections() > 1; i++) await writer.push([writer.blind('notes', `k${i}`, 'x'.repeat(200_000))]);
    slow.ws.resume();
    await slow.closed;
    expect(closed?.code).toBe(1013);
  });
});
