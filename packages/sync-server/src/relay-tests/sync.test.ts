import { resolveSiblings, type DocState } from '@converge/conflict';
import { decodeValue, type WireValue } from '@converge/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';

const values = (state: DocState<WireValue>) =>
  state.siblings.map((s) => (s.deleted === true ? 'deleted' : (decodeValue(s.value) as { ok: true; value: unknown }).value)).sort();

let relay: TestRelay;
const clients: ProtocolClient[] = [];
async function client(replicaId: string, extra: Partial<Parameters<typeof ProtocolClient.connect>[1]> = {}) {
  const c = await ProtocolClient.connect(relay.url, { replicaId, subscriptions: [{ collection: 'notes', cursor: null }], ...extra });
  clients.push(c);
  await c.next('welcome');
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await relay?.close();
});

describe('multi-leader sync over real WebSockets', () => {
  it('two replicas push concurrent writes; both receive the same merged state with siblings', async () => {
    relay = await startTestRelay();
    const a = await client('replicaA');
    const b = await client('replicaB');
    await a.next('changes', (f) => f.done === true);
    await b.next('changes', (f) => f.done === true);
    const [ackA, ackB] = await Promise.all([a.push([a.blind('notes', 'n1', 'from A')]), b.push([b.blind('notes', 'n1', 'from B')])]);
    expect(ackA.results[0]).toMatchObject({ status: 'accepted', collection: 'notes', key: 'n1' });
    expect(ackB.results[0]).toMatchObject({ status: 'accepted' });
    await a.next('changes', (f) => f.docs.some((d) => d.state.siblings.length === 2));
    await b.next('changes', (f) => f.docs.some((d) => d.state.siblings.length === 2));
    expect(values(a.state('notes', 'n1'))).toEqual(['from A', 'from B']);
    expect(a.state('notes', 'n1')).toEqual(b.state('notes', 'n1'));
    // A resolves the conflict with the context it read: one sibling everywhere.
    const from = b.frames.length;
    await a.push([a.write('notes', 'n1', 'merged', { readContext: resolveSiblings(a.state('notes', 'n1')).version })]);
    await b.next('changes', (f) => f.docs.some((d) => d.key === 'n1'), 5000, from);
    expect(values(b.state('notes', 'n1'))).toEqual(['merged']);
  });

  it('never claims a level its store did not confirm: a quorum or all push is acked at relay, then confirm quorum_unavailable; welcome says there are no standbys', async () => {
    relay = await startTestRelay();
    const a = await client('replicaA');
    expect(a.welcome!.replication).toEqual({ standbys: 0, quorum: 0 });
    for (const level of ['quorum', 'all'] as const) {
      const ack = await a.push([a.blind('notes', `k-${level}`, 1)], level);
      expect(ack).toMatchObject({ level: 'relay', results: [{ status: 'accepted' }] });
      expect(await a.next('confirm', (f) => f.id === ack.id)).toEqual({ type: 'confirm', id: ack.id, level: 'relay', code: 'quorum_unavailable' });
    }
    // A relay push gets no confirm; nor does a push whose every change was refused (here: another replica's dot).
    const relayOnly = await a.push([a.blind('notes', 'k-relay', 1)], 'relay');
    const b = await client('replicaB');
    const refused = await a.push([b.blind('notes', 'k-forged', 1)], 'quorum');
    expect(refused.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    await a.push([a.blind('notes', 'k-last', 1)], 'relay'); // frames arrive in order: any confirm of the two would be here by now
    expect(a.frames.filter((f) => f.type === 'confirm' && (f.id === relayOnly.id || f.id === refused.id))).toEqual([]);
  });

  it('a re-sent push is idempotent: same seq, nothing new in the log', async () => {
    relay = await startTestRelay();
    const a = await client('replicaA');
    const change = a.blind('notes', 'k', 1);
    const first = await a.push([change]);
    const again = await a.push([change]);
    expect(again.results[0]).toEqual(first.results[0]);
    expect(first.results[0]).toMatchObject({ status: 'accepted', seq: 1 });
    const head = (await client('replicaC')).welcome!.collections['notes']!.head;
    expect(head).toBe(1);
  });

  it('catches up from cursor 0 and from a middle cursor, in batches, then goes live', async () => {
    relay = await startTestRelay({ catchupBatchSize: 7 });
    const writer = await client('writer');
    for (let i = 0; i < 30; i++) await writer.push([writer.blind('notes', `k${i}`, i)]);
    const fresh = await client('fresh');
    const frames = [];
    for (let seen = 0; ;) {
      const f = await fresh.next('changes', () => true, 5000, seen);
      seen = fresh.frames.indexOf(f) + 1;
      frames.push(f);
      if (f.done === true) break;
    }
    expect(frames.length).toBeGreaterThan(4);
    expect(frames.flatMap((f) => f.docs.map((d) => d.key)).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `k${i}`).sort());
    const middle = frames[1]!.cursor;
    expect(middle.seq).toBe(14);

    const resumed = await client('resumed', { subscriptions: [{ collection: 'notes', cursor: middle }] });
    const done = await resumed.next('changes', (f) => f.done === true);
    const got = resumed.frames.flatMap((f) => (f.type === 'changes' ? f.docs.map((d) => d.seq) : []));
    expect(Math.min(...got)).toBe(15);
    expect(got).toHaveLength(16);
    expect(done.watermark).toBe(30);
    // Live: a new write reaches the resumed subscriber with a watermark past it.
    await writer.push([writer.blind('notes', 'live', 'x')]);
    const live = await resumed.next('changes', (f) => f.phase === 'live');
    expect(live.docs.map((d) => d.key)).toEqual(['live']);
    expect(live.watermark).toBe(31);
    expect(live.cursor.seq).toBe(31);
  });

  it('a subscribe frame after hello starts another catch-up', async () => {
    relay = await startTestRelay();
    const writer = await client('writer');
    await writer.push([writer.blind('tasks', 't1', 1)]);
    const c = await client('late', { subscriptions: [] });
    c.send({ type: 'subscribe', subscriptions: [{ collection: 'tasks', cursor: null }] });
    const done = await c.next('changes', (f) => f.collection === 'tasks' && f.done === true);
    expect(done.docs.map((d) => d.key)).toEqual(['t1']);
  });

  it('a key-prefix filter streams only matching keys, and the watermark still reaches the head', async () => {
    relay = await startTestRelay();
    const writer = await client('writer');
    await writer.push([writer.blind('notes', 'a/1', 1), writer.blind('notes', 'b/1', 2), writer.blind('notes', 'a/2', 3)]);
    const c = await client('reader', { subscriptions: [{ collection: 'notes', cursor: null, filter: { prefix: 'a/' } }] });
    const done = await c.next('changes', (f) => f.done === true);
    expect(c.frames.flatMap((f) => (f.type === 'changes' ? f.docs.map((d) => d.key) : [])).sort()).toEqual(['a/1', 'a/2']);
    expect(done.watermark).toBe(3);
  });

  it('serves /healthz (ok or unavailable, nothing about the store) to anyone, and no /metrics on the sync port by default', async () => {
    relay = await startTestRelay();
    const a = await client('replicaA');
    await a.push([a.blind('notes', 'k', 1)]);
    const health = await fetch(`http://127.0.0.1:${relay.port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const metrics = await fetch(`http://127.0.0.1:${relay.port}/metrics`);
    expect(metrics.status).toBe(404);
    expect(await metrics.text()).not.toMatch(/converge_/);
    // What an embedder serves on a listener of its own.
    const text = await relay.relay.metricsText();
    expect(text).toMatch(/converge_connections 1/);
    expect(text).toMatch(/converge_changes_total\{collection="notes",result="accepted"\} 1/);
    expect(text).toMatch(/converge_ack_latency_seconds_count 1/);
    expect(text).toMatch(/converge_log_head\{collection="notes"\} 1/);
  });

  it('with metricsToken, /metrics on the sync port answers only a request bearing the token', async () => {
    const token = 'a-metrics-token-for-this-test';
    relay = await startTestRelay({ metricsToken: token });
    const a = await client('replicaA');
    await a.push([a.blind('notes', 'k', 1)]);
    const url = `http://127.0.0.1:${relay.port}/metrics`;
    for (const authorization of [undefined, 'Bearer wrong-token', `Bearer ${token}x`, `Basic ${token}`, token]) {
      const refused = await fetch(url, authorization === undefined ? {} : { headers: { authorization } });
      expect(refused.status, String(authorization)).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await refused.text()).not.toMatch(/converge_/);
    }
    const served = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await served.text();
    expect(text).toMatch(/converge_connections 1/);
    expect(text).toMatch(/converge_store_keys\{collection="notes"\} 1/);
  });

  it('metric names carry the converge_ prefix once', async () => {
    relay = await startTestRelay();
    const names = (await relay.relay.metrics.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) {
      expect(name).toMatch(/^converge_/);
      expect(name, name).not.toMatch(/^converge_(\w+?)_\1_/);
    }
    expect(names).toEqual(
      expect.arrayContaining(['converge_process_cpu_user_seconds_total', 'converge_process_resident_memory_bytes', 'converge_nodejs_eventloop_lag_seconds']),
    );
    expect(names).toEqual(expect.arrayContaining(['converge_connections', 'converge_rejects_total', 'converge_log_head', 'converge_store_keys']));
  });
});
