// Ack levels end to end on a real primary with two streaming standbys under `ANY 1 (s1, s2)`
// (issue 13 §3): a relay over PostgresStore acknowledges at `relay` at once and confirms `quorum`
// and `all` as PostgreSQL confirms them. One cluster serves every test: a test that stops a
// standby or changes the setting puts it back (afterEach).
import type { AckLevel, ConfirmFrame } from '@converge/protocol';
import type { Sql } from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSynchronousStandbyNames } from '../store/pg-replication-setting.js';
import { readReplicationSetting } from '../store/pg-replication-status.js';
import { PostgresStore } from '../store/postgres-store.js';
import { startPgCluster, type PgCluster } from '../testing/pg-cluster.js';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';

const ACK_TIMEOUT_MS = 400;

let cluster: PgCluster;
let admin: Sql;
let store: PostgresStore;
let relay: TestRelay;
const clients: ProtocolClient[] = [];
let nextKey = 0;
let nextClient = 0;

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1' });
  admin = cluster.client(cluster.primary);
  store = await PostgresStore.open(cluster.primary.url, { schema: 'levels', maxConnections: 4, replicationCheckMs: 200 });
  relay = await startTestRelay({ store, cursorSecret: 'levels-secret', ackTimeoutMs: ACK_TIMEOUT_MS });
}, 90_000);

afterAll(async () => {
  await relay?.close();
  await cluster?.stop();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGCONT');
  await setSynchronous('ANY 1 (s1, s2)');
});

async function client(): Promise<ProtocolClient> {
  const c = await ProtocolClient.connect(relay.url, { replicaId: `writer${String(nextClient++).padStart(3, '0')}AAAAAAAAAA`, subscriptions: [] });
  clients.push(c);
  await c.next('welcome');
  return c;
}

/** Sends a one-change push asking for `ack` and resolves with its ack (the confirms come later). */
async function push(c: ProtocolClient, ack: AckLevel): Promise<{ id: string; level: string; accepted: boolean }> {
  const answer = await c.push([c.blind('notes', `k${nextKey++}`, nextKey)], ack);
  return { id: answer.id, level: answer.level, accepted: answer.results.every((r) => r.status === 'accepted') };
}

const confirms = (c: ProtocolClient, id: string) =>
  c.frames.filter((f): f is ConfirmFrame => f.type === 'confirm' && f.id === id).map((f) => (f.code === undefined ? f.level : `${f.level}:${f.code}`));

async function setSynchronous(names: string): Promise<void> {
  await admin.unsafe(`ALTER SYSTEM SET synchronous_standby_names = '${names}'`);
  await admin`SELECT pg_reload_conf()`;
  const wanted = parseSynchronousStandbyNames(names);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await readReplicationSetting(admin);
    const ranked = status.standbys.length === 2 && status.standbys.every((s) => (wanted === null ? s.syncState === 'async' : s.syncState !== 'async'));
    if (status.raw === names && ranked) return;
    if (Date.now() > deadline) throw new Error(`the setting did not become ${names}: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The transactions (`pid@xact_start`) waiting for synchronous replication, once there are `count` other than `except`. */
async function syncRepWaiters(count = 1, except: readonly string[] = []): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await admin<{ id: string }[]>`SELECT pid || '@' || xact_start AS id FROM pg_stat_activity WHERE wait_event = 'SyncRep'`;
    const ids = rows.map((row) => row.id).filter((id) => !except.includes(id));
    if (ids.length >= count) return ids;
    if (Date.now() > deadline) {
      const activity =
        await admin`SELECT pid, wait_event, state, application_name, left(query, 80) AS query FROM pg_stat_activity WHERE backend_type = 'client backend'`;
      throw new Error(`no commit is waiting for synchronous replication: ${JSON.stringify(activity)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits (bounded) until the relay's store reports `standbys` and `quorum`. */
async function replicationBecomes(standbys: number, quorum: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (store.replication().standbys !== standbys || store.replication().quorum !== quorum) {
    if (Date.now() > deadline) throw new Error(`replication stayed ${JSON.stringify(store.replication())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the relay over PostgreSQL with two synchronous standbys (ANY 1)', () => {
  it('welcome and metrics report N = 2 standbys, k = 1, the lag of each, the role and the timeline', async () => {
    const c = await client();
    expect((await c.next('welcome')).replication).toEqual({ standbys: 2, quorum: 1 });
    const metrics = await relay.relay.metricsText();
    expect(metrics).toMatch(/^converge_replication_standbys 2$/m);
    expect(metrics).toMatch(/^converge_replication_quorum 1$/m);
    expect(metrics).toMatch(/^converge_replication_lag_bytes\{standby="s1"\} \d+$/m);
    expect(metrics).toMatch(/^converge_replication_lag_bytes\{standby="s2"\} \d+$/m);
    expect(metrics).toMatch(/^converge_database_role\{role="primary"\} 1$/m);
    expect(metrics).toMatch(/^converge_database_timeline 1$/m);
  });

  it('a quorum push is acked at relay, then confirmed at quorum', async () => {
    const c = await client();
    const ack = await push(c, 'quorum');
    expect([ack.level, ack.accepted]).toEqual(['relay', true]);
    await c.next('confirm', (f) => f.id === ack.id);
    expect(confirms(c, ack.id)).toEqual(['quorum']);
  });

  it('an all push with both standbys streaming climbs relay → quorum → all', async () => {
    const c = await client();
    const ack = await push(c, 'all');
    expect(ack.level).toBe('relay');
    await c.next('confirm', (f) => f.id === ack.id && f.level === 'all');
    expect(confirms(c, ack.id)).toEqual(['quorum', 'all']);
  });

  it('all with s2 SIGSTOPped: quorum, then ack_timeout at quorum, and all once s2 runs again', async () => {
    await cluster.kill(cluster.standbys[1]!, 'SIGSTOP');
    const c = await client();
    const ack = await push(c, 'all');
    await c.next('confirm', (f) => f.id === ack.id && f.code === 'ack_timeout');
    expect(confirms(c, ack.id)).toEqual(['quorum', 'quorum:ack_timeout']);
    await cluster.kill(cluster.standbys[1]!, 'SIGCONT');
    await c.next('confirm', (f) => f.id === ack.id && f.level === 'all', 15_000);
    expect(confirms(c, ack.id)).toEqual(['quorum', 'quorum:ack_timeout', 'all']);
  });

  it('with both standbys SIGSTOPped a relay push is acked (it never waits on a standby) and a quorum push stays at relay until they run', async () => {
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
    const c = await client();
    const relayAck = await push(c, 'relay');
    expect([relayAck.level, relayAck.accepted]).toEqual(['relay', true]);
    const quorumAck = await push(c, 'quorum');
    expect(quorumAck.level).toBe('relay');
    // Another relay push while the barrier for the quorum one waits on the standbys.
    await syncRepWaiters();
    expect((await push(c, 'relay')).level).toBe('relay');
    await c.next('confirm', (f) => f.id === quorumAck.id && f.code === 'ack_timeout');
    expect(confirms(c, quorumAck.id)).toEqual(['relay:ack_timeout']);
    expect(confirms(c, relayAck.id)).toEqual([]);
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGCONT');
    await c.next('confirm', (f) => f.id === quorumAck.id && f.level === 'quorum', 15_000);
    expect(confirms(c, quorumAck.id)).toEqual(['relay:ack_timeout', 'quorum']);
  });

  it('a cancelled synchronous wait (pg_cancel_backend of the barrier) is never reported as quorum: the relay waits again', async () => {
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGSTOP');
    const c = await client();
    const ack = await push(c, 'quorum');
    const [barrier] = await syncRepWaiters();
    await admin`SELECT pg_cancel_backend(${Number(barrier!.split('@')[0])})`;
    // The cancelled barrier committed locally with a WARNING: the relay runs another, which waits too.
    const [again] = await syncRepWaiters(1, [barrier!]);
    expect(again).toBeDefined();
    expect(confirms(c, ack.id).filter((level) => level.startsWith('quorum'))).toEqual([]);
    for (const standby of cluster.standbys) await cluster.kill(standby, 'SIGCONT');
    await c.next('confirm', (f) => f.id === ack.id && f.level === 'quorum', 15_000);
    expect(confirms(c, ack.id).at(-1)).toBe('quorum');
  });

  it('without synchronous_standby_names: welcome says {0, 0} and a quorum push is stored at relay, confirmed quorum_unavailable', async () => {
    await setSynchronous('');
    await replicationBecomes(0, 0);
    const c = await client();
    expect((await c.next('welcome')).replication).toEqual({ standbys: 0, quorum: 0 });
    const ack = await push(c, 'quorum');
    expect([ack.level, ack.accepted]).toEqual(['relay', true]);
    await c.next('confirm', (f) => f.id === ack.id);
    expect(confirms(c, ack.id)).toEqual(['relay:quorum_unavailable']);
    const all = await push(c, 'all');
    await c.next('confirm', (f) => f.id === all.id);
    expect(confirms(c, all.id)).toEqual(['relay:quorum_unavailable']);
    // The write is there, at relay.
    expect((await store.head('notes')).seq).toBeGreaterThan(0);
  });
});
