import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './client.js';
import { LiveStatus, type ClientStatus } from './live-status.js';
import { dbName, relayClientSet } from './testing/client-set.js';

const initial: ClientStatus = {
  connection: 'offline',
  pending: 0,
  positions: {},
  lastSyncedAt: undefined,
  error: undefined,
  storage: 'memory',
  storageFailed: false,
  role: 'solo',
  replicaId: 'r',
  paused: false,
};

/** Listener errors are reported through `reportError` (the browser's; stubbed here): collected instead. */
function collectReported(): unknown[] {
  const reported: unknown[] = [];
  vi.stubGlobal('reportError', (error: unknown) => reported.push(error));
  return reported;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('LiveStatus (client.status)', () => {
  it('a listener that throws is reported; the update goes through and later listeners hear it', () => {
    const reported = collectReported();
    const store = new LiveStatus(initial);
    const heard: string[] = [];
    store.subscribe((s) => {
      if (s.connection === 'syncing') throw new Error('listener bug');
    });
    store.subscribe((s) => heard.push(s.connection));
    expect(() => store.update({ connection: 'syncing' })).not.toThrow();
    expect(store.get().connection).toBe('syncing');
    expect(heard).toEqual(['offline', 'syncing']);
    expect(reported).toEqual([new Error('listener bug')]);
  });

  it('an update made by a listener is queued: every listener hears every status in order, and last the current one', () => {
    const store = new LiveStatus(initial);
    const first: string[] = [];
    const later: string[] = [];
    store.subscribe((s) => {
      first.push(s.connection);
      if (s.connection === 'synced') store.update({ connection: 'offline', paused: true }); // the app's pause() on synced
    });
    store.subscribe((s) => later.push(s.connection));
    store.update({ connection: 'synced' });
    expect(store.get().connection).toBe('offline');
    expect(first).toEqual(['offline', 'synced', 'offline']);
    expect(later).toEqual(['offline', 'synced', 'offline']);
  });
});

describe('status listeners and the sync session (real relay)', () => {
  const clients = relayClientSet();

  it('a status listener that throws does not make the session reconnect', async () => {
    const reported = collectReported();
    const relay = await clients.startRelay({ store: 'memory' });
    const client = await clients.open(dbName('throws'), { paused: true });
    client.status.subscribe((s) => {
      if (s.connection === 'syncing') throw new Error('listener bug');
    });
    client.resume();
    await client.whenSynced({ timeoutMs: 5000 });
    await client.collection('notes').put('k', 1, { ack: 'relay' });
    await client.whenSynced({ timeoutMs: 5000 });
    const hellos = (await relay.relay.metrics.framesIn.get()).values.find((v) => v.labels.type === 'hello')?.value;
    expect(hellos).toBe(1);
    expect(reported.length).toBeGreaterThan(0);
    expect(client.status.get().error).toBeUndefined();
  });

  it('a listener that pauses on synced: later listeners end on offline, as the status does', async () => {
    await clients.startRelay({ store: 'memory' });
    const client = await clients.open(dbName('pauses'));
    client.status.subscribe((s) => {
      if (s.connection === 'synced') client.pause();
    });
    const later: string[] = [];
    client.status.subscribe((s) => later.push(s.connection));
    await vi.waitFor(() => expect(later).toContain('synced'));
    expect(client.status.get().connection).toBe('offline');
    expect(later.at(-1)).toBe('offline');
  });
});

describe('outbox listeners', () => {
  it('a watchOutbox listener that throws is reported; the other listeners are still called, now and later', async () => {
    const reported = collectReported();
    const client = await createClient({ name: dbName('outbox-throws'), storage: 'memory', tabs: false });
    try {
      client.watchOutbox(() => {
        throw new Error('listener bug');
      });
      const keys: string[][] = [];
      client.watchOutbox((writes) => keys.push(writes.map((w) => w.key)));
      await vi.waitFor(() => expect(keys).toEqual([[]]));
      await client.collection('notes').put('k', 1);
      await vi.waitFor(() => expect(keys.at(-1)).toEqual(['k']));
      expect(reported.length).toBeGreaterThanOrEqual(2);
    } finally {
      await client.close();
    }
  });
});
