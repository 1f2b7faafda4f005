// @vitest-environment happy-dom
// A browser-like window (happy-dom): `online`/`offline` are window events.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client } from '../client.js';
import { createMemoryStorage } from '../storage/memory-storage.js';
import { dbName } from '../testing/client-set.js';
import { backoffDelay } from './backoff.js';
import type { Transport } from './transport.js';

/** A relay that is never there: every connection closes at once. */
function unreachable(): { transport: Transport; opens: number[] } {
  const opens: number[] = [];
  return {
    opens,
    transport: {
      open(handlers) {
        opens.push(Date.now());
        queueMicrotask(() => handlers.onClose(1006, 'connection refused'));
        return { send: () => undefined, close: () => undefined };
      },
    },
  };
}

describe('backoffDelay', () => {
  it('grows exponentially to a cap, half fixed and half random', () => {
    const options = { baseMs: 100, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, () => 0, options))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, () => 0.999999, options))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('reconnecting (fake timers)', () => {
  let client: Client | undefined;
  const events = globalThis as unknown as EventTarget;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    vi.useRealTimers();
  });

  it('retries with exponential backoff and jitter while the relay is unreachable', async () => {
    const relay = unreachable();
    const start = Date.now();
    client = await createClient({
      name: dbName('backoff'),
      storage: createMemoryStorage(),
      tabs: false,
      transport: relay.transport,
      random: () => 0,
      backoff: { baseMs: 100, maxMs: 1000 },
    });
    await vi.advanceTimersByTimeAsync(3000);
    const waits = relay.opens.map((t) => t - start);
    expect(waits.slice(0, 6)).toEqual([0, 50, 150, 350, 750, 1250]);
    expect(client.status.get().connection).toBe('offline');
  });

  it('the browser going offline stops retrying; coming online reconnects at once', async () => {
    const relay = unreachable();
    client = await createClient({
      name: dbName('online'),
      storage: createMemoryStorage(),
      tabs: false,
      transport: relay.transport,
      random: () => 0,
      backoff: { baseMs: 1000, maxMs: 60_000 },
    });
    await vi.advanceTimersByTimeAsync(10);
    events.dispatchEvent(new Event('offline'));
    await vi.advanceTimersByTimeAsync(20_000);
    const whileOffline = relay.opens.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(relay.opens.length).toBe(whileOffline);
    events.dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(1);
    expect(relay.opens.length).toBe(whileOffline + 1);
  });

  it('pause stops reconnecting; resume connects again', async () => {
    const relay = unreachable();
    client = await createClient({
      name: dbName('pause'),
      storage: createMemoryStorage(),
      tabs: false,
      transport: relay.transport,
      random: () => 0,
      backoff: { baseMs: 100, maxMs: 100 },
    });
    client.pause();
    const paused = relay.opens.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(relay.opens.length).toBe(paused);
    expect(client.status.get()).toMatchObject({ connection: 'offline', paused: true });
    client.resume();
    await vi.advanceTimersByTimeAsync(1);
    expect(relay.opens.length).toBe(paused + 1);
  });
});
