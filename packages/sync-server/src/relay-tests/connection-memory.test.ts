import { describe, expect, it } from 'vitest';
import type { ProtocolClient } from '../testing/protocol-client.js';
import { logSink, relayHarness, says } from './harness.js';

const harness = relayHarness();

/** Catch-up bytes (UTF-8, as sent) a client has received, per collection. */
function countCatchupBytes(c: ProtocolClient): Map<string, number> {
  const bytes = new Map<string, number>();
  c.ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as { type: string; phase?: string; collection?: string };
    if (frame.type === 'changes' && frame.phase === 'catchup') bytes.set(frame.collection!, (bytes.get(frame.collection!) ?? 0) + data.length);
  });
  return bytes;
}

/** Resolves once no frame has arrived for `quietMs` (at most `timeoutMs` in all). */
async function quiet(c: ProtocolClient, quietMs = 300, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let seen = -1; seen !== c.frames.length && Date.now() < deadline;) {
    seen = c.frames.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('memory held for one connection is bounded per connection', () => {
  it('catch-up credit is shared by all subscriptions of a connection: without credit, one window in all, not one per subscription', async () => {
    const window = 300_000;
    const maxFrameBytes = 256 * 1024;
    const relay = await harness.start({ limits: { catchupWindowBytes: window, maxFrameBytes } });
    const collections = Array.from({ length: 8 }, (_, i) => `c${i}`);
    for (const collection of collections) {
      for (const key of ['a', 'b']) await relay.relay.write(collection, key, { value: 'x'.repeat(100_000) });
    }
    const c = await harness.client('reader', { subscriptions: collections.map((collection) => ({ collection, cursor: null })) });
    const received = countCatchupBytes(c);
    await c.next('welcome');
    await c.next('changes');
    await quiet(c);
    // Each subscription's catch-up is ~200 kB; with a window per subscription all 1.6 MB would come.
    expect(sum(received)).toBeGreaterThan(0);
    expect(sum(received)).toBeLessThanOrEqual(window + maxFrameBytes);
    expect(
      collections.filter((collection) => c.frames.some((f) => f.type === 'changes' && f.collection === collection && f.done === true)).length,
    ).toBeLessThan(collections.length);

    // A client that grants back each frame's bytes once stored (as @converge/client does) gets everything.
    c.send({ type: 'credit', bytes: sum(received) });
    c.ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; phase?: string; collection?: string };
      if (frame.type === 'changes' && frame.phase === 'catchup') c.send({ type: 'credit', collection: frame.collection!, bytes: data.length });
    });
    for (const collection of collections) await c.next('changes', (f) => f.collection === collection && f.done === true);
    expect([...c.states.keys()].sort()).toEqual(collections.flatMap((collection) => [`${collection}/a`, `${collection}/b`]).sort());
  });

  it('a credit frame never raises the shared window above catchupWindowBytes', async () => {
    const window = 300_000;
    const maxFrameBytes = 256 * 1024;
    const relay = await harness.start({ limits: { catchupWindowBytes: window, maxFrameBytes } });
    for (let i = 0; i < 16; i++) await relay.relay.write('notes', `k${i}`, { value: 'x'.repeat(100_000) });
    const c = await harness.client('greedy');
    const received = countCatchupBytes(c);
    await c.next('changes');
    await quiet(c);
    const before = sum(received);
    expect(before).toBeLessThanOrEqual(window + maxFrameBytes);
    // Credit for 100 MB never received: the relay sends one window more, not the whole 1.6 MB.
    c.send({ type: 'credit', bytes: 100_000_000 });
    await c.next('changes', () => true, 5000, c.frames.length);
    await quiet(c);
    expect(sum(received) - before).toBeLessThanOrEqual(window + maxFrameBytes);
    expect(c.frames.some((f) => f.type === 'changes' && f.done === true)).toBe(false);
  });

  it('subscriptions of one connection that select the same keys are refused with bad_message naming the collection; the connection stays open', async () => {
    const relay = await harness.start();
    await relay.relay.write('notes', 'ab1', { value: 1 });
    await relay.relay.write('notes', 'b1', { value: 2 });
    const c = await harness.client('overlapping', {
      subscriptions: [
        { collection: 'notes', cursor: null, filter: { prefix: 'a' } },
        { collection: 'notes', cursor: null, filter: { prefix: 'ab' } },
        { collection: 'notes', cursor: null },
        { collection: 'notes', cursor: null, filter: { prefix: 'b' } },
        { collection: 'other', cursor: null },
      ],
    });
    await c.next('welcome');
    await c.next('changes', (f) => f.collection === 'other' && f.done === true);
    await c.next('changes', (f) => f.collection === 'notes' && f.docs.some((d) => d.key === 'b1'));
    const refusals = c.frames.filter((f) => f.type === 'error');
    expect(refusals).toHaveLength(2);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ code: 'bad_message', collection: 'notes' });
      expect(refusal.message).toMatch(/overlaps/);
    }
    // Each key reaches this connection once.
    const sent = c.frames.flatMap((f) => (f.type === 'changes' ? f.docs.map((d) => d.key) : []));
    expect(sent.sort()).toEqual(['ab1', 'b1']);
    // A later subscribe frame is judged the same way; the connection stays open.
    c.send({ type: 'subscribe', subscriptions: [{ collection: 'notes', cursor: null, filter: { prefix: 'b1' } }] });
    expect(await c.next('error', (f) => f.message.includes("'b1'"))).toMatchObject({ code: 'bad_message', collection: 'notes' });
    c.send({ type: 'ping', t: 3 });
    expect(await c.next('pong')).toMatchObject({ t: 3 });
  });

  it('a connection that stops reading in catch-up is closed with 1013 once it holds maxBufferedBytes', async () => {
    const log = logSink();
    const relay = await harness.start({ maxBufferedBytes: 256 * 1024, limits: { catchupWindowBytes: 64 * 1024 * 1024 }, logger: log.logger });
    // 24 MB of catch-up: far beyond the loopback socket buffers.
    for (let i = 0; i < 120; i++) await relay.relay.write('notes', `k${i}`, { value: 'x'.repeat(200_000) });
    const c = await harness.client('stalled');
    await c.next('welcome');
    c.ws.pause();
    expect(relay.relay.connections()).toBe(1);
    await log.next(says('closing session: slow consumer'));
    expect(relay.relay.connections()).toBe(0);
    c.ws.resume();
    expect((await c.closed).code).toBe(1013);
    expect(await relay.relay.metrics.registry.getSingleMetricAsString('converge_rejects_total')).toMatch(/code="slow_consumer"\} 1/);
  }, 30_000);
});
