import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client } from './client.js';
import { resolveClientOptions } from './client-options.js';
import { createMemoryStorage } from './storage/memory-storage.js';
import type { StorageAdapter } from './storage/storage-adapter.js';
import { dbName } from './testing/client-set.js';
import { scriptedRelay } from './testing/scripted-relay.js';
import type { Transport } from './sync/transport.js';

const opened: Client[] = [];
afterEach(async () => {
  for (const client of opened.splice(0)) await client.close();
  vi.useRealTimers();
});

describe('client options', () => {
  it('every default, applied once', () => {
    const resolved = resolveClientOptions({ name: 'defaults' });
    expect(resolved).toMatchObject({
      storage: 'indexeddb',
      transport: undefined,
      collections: [],
      ackTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      readTimeoutMs: 10_000,
      paused: false,
      tabs: {},
      backoff: { baseMs: 500, maxMs: 30_000 },
    });
    expect(resolved.sync.preWelcome).toMatchObject({ maxValueBytes: 1024 * 1024, heartbeatMs: 15_000 });
    expect(resolveClientOptions({ name: 'solo', tabs: false }).tabs).toEqual({ locks: null, channel: null });
  });

  it('the connect timeout is settable: a relay that accepts the socket and never says welcome is given up on after connectTimeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const silent: Transport = { open: (h) => (queueMicrotask(() => h.onOpen()), { send: () => undefined, close: () => undefined }) };
    const client = await createClient({ name: dbName('connect'), storage: createMemoryStorage(), tabs: false, transport: silent, connectTimeoutMs: 300 });
    opened.push(client);
    await vi.advanceTimersByTimeAsync(299);
    expect(client.status.get().error).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(client.status.get().error).toMatchObject({ code: 'timeout', message: expect.stringContaining('300 ms') });
  });

  it('the read timeout is settable: a leader read the relay does not answer rejects after readTimeoutMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const relay = scriptedRelay();
    const client = await createClient({ name: dbName('read'), storage: createMemoryStorage(), tabs: false, transport: relay.transport, readTimeoutMs: 250 });
    opened.push(client);
    await vi.waitFor(() => expect(relay.sent[0]?.type).toBe('hello'));
    relay.welcome({ notes: 0 });
    await vi.waitFor(() => expect(client.status.get().connection).toBe('synced')); // welcomed, nothing to catch up
    let outcome = 'waiting';
    const read = client
      .collection('notes')
      .get('k', { consistency: 'leader' })
      .then(
        () => (outcome = 'resolved'),
        (e: { code: string }) => (outcome = e.code),
      );
    await vi.advanceTimersByTimeAsync(249);
    expect(outcome).toBe('waiting');
    await vi.advanceTimersByTimeAsync(1);
    await read;
    expect(outcome).toBe('timeout');
  });

  it('options that cannot work are refused with bad_message before the storage is touched', async () => {
    let touched = 0;
    const inner = createMemoryStorage();
    const storage: StorageAdapter = {
      kind: 'memory',
      name: 'watched',
      read: (run) => (touched++, inner.read(run)),
      write: (run, o) => (touched++, inner.write(run, o)),
      onFailure: (listener) => (touched++, inner.onFailure(listener)),
      close: () => void touched++,
      destroy: () => (touched++, inner.destroy()),
    };
    const refused = [
      { name: '' },
      { name: 'x', ackTimeoutMs: 0 },
      { name: 'x', connectTimeoutMs: Number.NaN },
      { name: 'x', readTimeoutMs: -5 },
      { name: 'x', backoff: { baseMs: 1000, maxMs: 10 } },
      { name: 'x', collections: { 'not a name!': {} } },
      { name: 'x', collections: { notes: { strategy: 'nope' as never } } },
    ];
    for (const options of refused) await expect(createClient({ ...options, storage }), JSON.stringify(options)).rejects.toMatchObject({ code: 'bad_message' });
    expect(touched).toBe(0);
  });
});
