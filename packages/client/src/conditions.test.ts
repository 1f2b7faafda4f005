// Ordinary conditions — offline, closed, no answer in time, no usable storage — raise the code
// docs/ERRORS.md gives each, never `internal` (a bug) or `not_leader` (reserved for clusters).
import type { ConvergeError } from '@converge/conflict';
import { AckTimeoutError } from '@converge/conflict';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client } from './client.js';
import { createMemoryStorage } from './storage/memory-storage.js';
import { dbName, relayClientSet } from './testing/client-set.js';
import { eventually } from './testing/eventually.js';
import { scriptedRelay } from './testing/scripted-relay.js';
import type { Transport } from './sync/transport.js';
import { codeOf } from './testing/code-of.js';

const opened: Client[] = [];
afterEach(async () => {
  for (const client of opened.splice(0)) await client.close();
  vi.useRealTimers();
});

async function open(options: Partial<Parameters<typeof createClient>[0]> = {}): Promise<Client> {
  const client = await createClient({ name: dbName('conditions'), storage: createMemoryStorage(), tabs: false, ...options });
  opened.push(client);
  return client;
}

describe('a closed client: closed', () => {
  it('writes, outbox reads and a write still waiting for the relay reject with closed; watchOutbox calls nothing and raises nothing', async () => {
    const unreachable: Transport = { open: (h) => (queueMicrotask(() => h.onClose(1006, 'refused')), { send: () => undefined, close: () => undefined }) };
    const client = await open({ transport: unreachable });
    const waiting = client.collection('notes').put('w', 1, { ack: 'relay' });
    await client.close();
    const error = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AckTimeoutError);
    expect(((error as AckTimeoutError).cause as ConvergeError).code).toBe('closed');
    expect(await codeOf(client.collection('notes').put('k', 1))).toBe('closed');
    expect(await codeOf(client.outbox())).toBe('closed');
    expect(await codeOf(client.collection('notes').get('k'))).toBe('closed');
    const calls: unknown[] = [];
    client.watchOutbox((writes) => calls.push(writes));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toEqual([]);
  });
});

describe('no connection to the relay: offline', () => {
  const clients = relayClientSet();

  it('a leader read without a relay, or while paused, rejects with offline', async () => {
    const local = await open();
    expect(await codeOf(local.collection('notes').get('k', { consistency: 'leader' }))).toBe('offline');
    await clients.startRelay({ store: 'memory' });
    const paused = await clients.open(dbName('paused'), { paused: true });
    expect(await codeOf(paused.collection('notes').get('k', { consistency: 'leader' }))).toBe('offline');
  });

  it('a relay that cannot be reached, or goes away, shows as offline in status.error', async () => {
    const unreachable: Transport = { open: (h) => (queueMicrotask(() => h.onClose(1006, 'refused')), { send: () => undefined, close: () => undefined }) };
    const lonely = await open({ transport: unreachable });
    await eventually(() => expect(lonely.status.get().error?.code).toBe('offline'));
    const relay = await clients.startRelay({ store: 'memory' });
    const client = await clients.open(dbName('gone'));
    await client.whenSynced({ timeoutMs: 5000 });
    await relay.stop();
    await eventually(() => expect(client.status.get()).toMatchObject({ connection: 'offline', error: { code: 'offline' } }));
  });
});

describe('no token: unauthorized', () => {
  const clients = relayClientSet();

  it("an auth function that throws (say, it could not fetch a token) shows as unauthorized, not as the client's bug", async () => {
    await clients.startRelay({ store: 'memory' });
    const client = await clients.open(dbName('auth'), {
      auth: () => {
        throw new Error('the token service is down');
      },
    });
    await eventually(() => expect(client.status.get().error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/token service is down/) }));
  });
});

describe('no answer in time: timeout', () => {
  it('whenSynced rejects with timeout', async () => {
    const client = await open();
    expect(await codeOf(client.whenSynced({ timeoutMs: 10 }))).toBe('timeout');
  });

  it('a relay that accepts the connection and never answers hello: timeout in status.error', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const silent: Transport = { open: (h) => (queueMicrotask(() => h.onOpen()), { send: () => undefined, close: () => undefined }) };
    const client = await open({ transport: silent });
    await vi.advanceTimersByTimeAsync(10_001);
    expect(client.status.get().error?.code).toBe('timeout');
  });

  it('a leader read the relay does not answer rejects with timeout after readTimeoutMs', async () => {
    const relay = scriptedRelay();
    const client = await open({ transport: relay.transport, collections: { notes: {} }, readTimeoutMs: 50 });
    await eventually(() => expect(relay.sent[0]?.type).toBe('hello'));
    relay.welcome({ notes: 0 });
    await eventually(() => expect(client.status.get().connection).not.toBe('connecting'));
    const read = client.collection('notes').get('k', { consistency: 'leader' });
    await eventually(() => expect(relay.sent.at(-1)).toMatchObject({ type: 'read', collection: 'notes', keys: ['k'] }));
    expect(await codeOf(read)).toBe('timeout');
  });
});
