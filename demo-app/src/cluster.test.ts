import { describe, expect, it } from 'vitest';
import { clusterState, prefixedKv, relayFor, type ClusterState } from './cluster.js';
import { Device } from './device.js';
import type { KeyValue } from './edit-log.js';
import { Page } from './page.js';

const memoryKv = (): KeyValue & { keys(): string[] } => {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), keys: () => [...map.keys()] };
};

const STATE: ClusterState = {
  id: 'converge-pg-abc',
  nodes: [{ name: 's0', port: 1, role: 'primary' }],
  relays: [
    { name: 'A', path: '/sync' },
    { name: 'B', path: '/sync-b' },
  ],
  failovers: [],
  busy: false,
};

const respond =
  (body: string, type: string, status = 200) =>
  () =>
    Promise.resolve(new Response(body, { status, headers: { 'Content-Type': type } }));

describe('the cluster demo, page side', () => {
  it('the page is in cluster mode only when the control answers with JSON: the dev server’s page or a 404 means the SQLite demo', async () => {
    expect(await clusterState(respond(JSON.stringify(STATE), 'application/json'))).toEqual(STATE);
    expect(await clusterState(respond('<!doctype html>', 'text/html'))).toBeUndefined();
    expect(await clusterState(respond('not found', 'text/plain', 404))).toBeUndefined();
    expect(await clusterState(() => Promise.reject(new TypeError('offline')))).toBeUndefined();
  });

  it('devices take turns on the relays (phone A, laptop B, tablet A); a one-device window picks one by its name, always the same', () => {
    expect(['phone', 'laptop', 'tablet'].map((name, i) => relayFor(name, i, false, STATE.relays).name)).toEqual(['A', 'B', 'A']);
    expect(relayFor('kitchen', 0, true, STATE.relays)).toBe(relayFor('kitchen', 0, true, STATE.relays));
  });

  it('keeps the page’s storage under a prefix of its own', () => {
    const kv = memoryKv();
    prefixedKv(kv, 'cluster-x:').setItem('converge-demo:phone:writes', '[]');
    expect(kv.keys()).toEqual(['cluster-x:converge-demo:phone:writes']);
    expect(prefixedKv(kv, 'cluster-x:').getItem('converge-demo:phone:writes')).toBe('[]');
  });

  it('a device asking for `all` does not wait for it: its edit is listed at once, local, and nothing counts as quorum-acked yet', async () => {
    const kv = memoryKv();
    const page = new Page(kv, ['phone']);
    const phone = await Device.open({ name: `phone-${Math.random().toString(36).slice(2, 8)}`, storage: 'memory', page, kv, ack: 'all', relayName: 'A' });
    try {
      await phone.edit({ kind: 'add', item: 'milk', by: 1 }); // no relay: an edit that waited for `all` would hang here for ackTimeoutMs
      const [row] = phone.current.edits.filter((r) => !r.label.startsWith('register'));
      expect(row?.writes.map((w) => [w.collection, w.status])).toEqual([
        ['cart', 'local'],
        ['naive-cart', 'local'],
        ['lww-cart', 'local'],
      ]);
      expect(phone.quorumWrites()).toEqual([]);
      expect(phone.relayName).toBe('A');
    } finally {
      await phone.close();
    }
  });
});
