// Follower reads, failover and fencing of relays over a real primary with two streaming standbys
// under `ANY 1 (s1, s2)` (issue 13 §4, §5). The tests run in order on one cluster, each from where
// the previous one left it: follower reads on the healthy cluster, then the primary s0 is killed
// under load and the most up-to-date standby promoted, then s0 comes back as it was (a second
// primary on the old timeline, listed first).
import type { ChangesFrame, Cursor, PushedChange } from '@converge/protocol';
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../store/postgres-store.js';
import { startPgCluster, type PgCluster, type PgNode } from '../testing/pg-cluster.js';
import { ProtocolClient } from '../testing/protocol-client.js';
import { startTestRelay, type TestRelay } from '../testing/test-relay.js';

const SCHEMA = 'failover';
const SECRET = 'failover-secret';

let cluster: PgCluster;
let old: PgNode;
/** Relay A: reads and writes on the primary. */
let a: TestRelay;
let storeA: PostgresStore;
/** Relay B: writes on the primary, reads from the standby s1. */
let b: TestRelay;
const clients: ProtocolClient[] = [];
let nextClient = 0;

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1' });
  old = cluster.primary;
  const url = cluster.multiHostUrl();
  storeA = await PostgresStore.open(url, { schema: SCHEMA, maxConnections: 4, replicationCheckMs: 200 });
  a = await startTestRelay({ store: storeA, cursorSecret: SECRET, ackTimeoutMs: 1_000 });
  const storeB = await PostgresStore.open(url, { schema: SCHEMA, maxConnections: 4, replicaUrl: cluster.standbys[0]!.url, replicationCheckMs: 200 });
  b = await startTestRelay({ store: storeB, cursorSecret: SECRET, replicaWaitMs: 300 });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await a?.close();
  await b?.close();
  await cluster?.stop();
});

function replicaId(): string {
  return `client${String(nextClient++).padStart(4, '0')}BBBBBBBBB`;
}

async function connect(relay: TestRelay, options: { id?: string; cursor?: Cursor | null; subscribe?: boolean } = {}): Promise<ProtocolClient> {
  const subscriptions = options.subscribe === false ? [] : [{ collection: 'notes', cursor: options.cursor ?? null }];
  const c = await ProtocolClient.connect(relay.url, { replicaId: options.id ?? replicaId(), subscriptions });
  clients.push(c);
  return c;
}

const notes = (c: ProtocolClient) => c.frames.filter((f): f is ChangesFrame => f.type === 'changes' && f.collection === 'notes');
const seqsSeen = (c: ProtocolClient) => notes(c).flatMap((f) => f.docs.map((doc) => doc.seq));

/** The keys of `notes` a node holds, read from it directly. */
async function keysOn(node: PgNode): Promise<Set<string>> {
  const sql = cluster.client(node);
  const rows = await sql<{ key: Buffer }[]>`SELECT key FROM failover.docs WHERE collection = ${Buffer.from('notes')}`;
  await sql.end();
  return new Set(rows.map((row) => row.key.toString('utf8')));
}

describe('follower reads (--replica-url)', () => {
  it('a subscriber on a relay reading from a standby sees the commits made through another relay, in order', async () => {
    const watcher = await connect(b);
    await watcher.next('changes', (f) => f.done === true);
    const writer = await connect(a, { subscribe: false });
    await writer.next('welcome');
    for (let i = 0; i < 10; i++) {
      const ack = await writer.push([writer.blind('notes', `f${i}`, i)]);
      expect(ack.results.map((r) => r.status)).toEqual(['accepted']);
    }
    await watcher.next('changes', (f) => f.watermark >= 10, 20_000);
    expect(seqsSeen(watcher)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const watermarks = notes(watcher).map((f) => f.watermark);
    expect([...watermarks].sort((x, y) => x - y)).toEqual(watermarks);
  });

  it('a cursor beyond what the standby replayed gets a bounded wait, then behind; once it replays, the client sees its own write', async () => {
    const standby: Sql = cluster.client(cluster.standbys[0]!);
    const writer = await connect(a);
    await writer.next('changes', (f) => f.done === true);
    await standby`SELECT pg_wal_replay_pause()`;
    try {
      const ack = await writer.push([writer.blind('notes', 'mine', 'written through A')]);
      const seq = (ack.results[0] as { seq: number }).seq;
      const live = await writer.next('changes', (f) => f.watermark >= seq);
      const started = Date.now();
      const reader = await connect(b, { id: writer.replicaId, cursor: live.cursor });
      const behind = await reader.next('error');
      expect([behind.code, behind.collection]).toEqual(['behind', 'notes']);
      expect(Date.now() - started).toBeLessThan(5_000); // the bounded wait (300 ms), not a hang
      expect(reader.frames.some((f) => f.type === 'welcome')).toBe(false);
    } finally {
      await standby`SELECT pg_wal_replay_resume()`;
      await standby.end();
    }
    // A fresh client with no cursor, on the follower: it waits for the standby and sees the write.
    const fresh = await connect(b);
    await fresh.next('changes', (f) => f.done === true);
    expect(fresh.states.has('notes/mine')).toBe(true);
  });
});

describe('follower reads and the fan-out', () => {
  it("a relay's own commits go out live before its standby replays them: its head check does not take the standby's older head for a lost log", async () => {
    const standby: Sql = cluster.client(cluster.standbys[0]!);
    const watcher = await connect(b);
    await watcher.next('changes', (f) => f.done === true);
    await standby`SELECT pg_wal_replay_pause()`;
    try {
      const writer = await connect(b, { subscribe: false });
      await writer.next('welcome');
      const ack = await writer.push([writer.blind('notes', 'ahead-of-the-standby', 1)]);
      const seq = (ack.results[0] as { seq: number }).seq;
      await watcher.next('changes', (f) => f.watermark >= seq);
      // Several head checks (every second) while the standby is behind what went out.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(watcher.frames.filter((f) => f.type === 'error')).toEqual([]);
      const more = await writer.push([writer.blind('notes', 'still-live', 2)]);
      await watcher.next('changes', (f) => f.watermark >= (more.results[0] as { seq: number }).seq, 5_000);
    } finally {
      await standby`SELECT pg_wal_replay_resume()`;
      await standby.end();
    }
  });
});

describe('failover', () => {
  it('SIGKILL of the primary under quorum writes: every write confirmed at quorum survives on the promoted standby, writes in flight get a retryable answer and are re-sent, and the recovery window opens', async () => {
    const confirmed = new Set<string>();
    const resent: string[] = [];
    let killed = false;
    const writer = async (w: number) => {
      const id = replicaId();
      let c = await connect(a, { id, subscribe: false });
      await c.next('welcome');
      for (let i = 0; i < 400; i++) {
        const key = `w${w}-${i}`;
        const change: PushedChange = c.blind('notes', key, i);
        for (let attempt = 0; ; attempt++) {
          const id2 = `p${i}-${attempt}`;
          c.send({ type: 'push', id: id2, ack: 'quorum', changes: [change] });
          const answer = await Promise.race([
            c.next('ack', (f) => f.id === id2, 30_000).then((ack) => ({ ack })),
            c.next('error', () => true, 30_000).then((error) => ({ error })),
          ]).catch((error: Error) => ({ closed: error }));
          if ('ack' in answer) {
            expect(answer.ack.results.map((r) => r.status)).toEqual(['accepted']);
            const confirm = await c
              .next('confirm', (f) => f.id === id2 && (f.level === 'quorum' || f.code === 'quorum_unavailable'), 30_000)
              .catch((error: Error) => error);
            if (!(confirm instanceof Error)) {
              if (confirm.level === 'quorum') confirmed.add(key);
              break;
            }
            // The relay closed every session on seeing the new timeline before this confirm came: re-send.
            expect(confirm.message).toMatch(/^connection closed/);
          }
          // The database went away under the push: a retryable answer (or the connection closed); re-send the same change.
          if ('error' in answer) expect(answer.error.code).toBe('quorum_unavailable');
          if (attempt === 0) resent.push(key);
          const previous = c;
          previous.close();
          for (;;) {
            try {
              c = await connect(a, { id, subscribe: false });
              c.continueFrom(previous);
              await c.next('welcome', () => true, 10_000);
              break;
            } catch {
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        }
        if (killed && Date.now() > deadline) return;
      }
    };
    let deadline = Infinity;
    const writers = [0, 1, 2].map(writer);
    await new Promise((resolve) => setTimeout(resolve, 800));
    await cluster.kill(old, 'SIGKILL');
    killed = true;
    const promotion = await cluster.promoteMostUpToDate();
    deadline = Date.now() + 2_000;
    await Promise.all(writers);

    const onPromoted = await keysOn(promotion.node);
    expect(confirmed.size).toBeGreaterThan(0);
    expect([...confirmed].filter((key) => !onPromoted.has(key))).toEqual([]);
    expect(resent.length).toBeGreaterThan(0);
    expect(resent.filter((key) => !onPromoted.has(key))).toEqual([]);
    expect(storeA.info().timeline).toBe(2);
    expect(await a.relay.metricsText()).toMatch(/^converge_recovery_window_opens_total\{reason="timeline_changed"\} 1$/m);
    const after = await connect(a, { subscribe: false });
    expect((await after.next('welcome')).recovery).toBe(true);
    console.info(`failover: ${confirmed.size} writes confirmed at quorum, ${resent.length} re-sent after a retryable answer, promoted ${promotion.node.name}`);
  });

  it('the old primary restarted as it was (timeline 1, listed first, accepting writes) gets no write: the fence sends every write to the new primary', async () => {
    await cluster.restartAsItWas(old);
    // It does accept writes: a plain client connecting with target_session_attrs=primary lands on it.
    const plain = cluster.client(cluster.multiHostUrl());
    const [where] = await plain<{ port: string }[]>`SELECT current_setting('port') AS port`;
    expect(Number(where!.port)).toBe(old.port);
    await plain.end();

    // A relay started now: its pool connects to the old primary first (listed first, a primary).
    // It reads every listed node's timeline at start (2, from the new primary), and every write
    // transaction that lands on the old one is fenced: its connection dropped, the write run again
    // on the next listed host.
    const late = await PostgresStore.open(cluster.multiHostUrl(), { schema: SCHEMA, maxConnections: 2 });
    expect(late.info().timeline).toBe(2);
    const relay = await startTestRelay({ store: late, cursorSecret: SECRET });
    try {
      const writer = await connect(relay, { subscribe: false });
      await writer.next('welcome');
      const keys = Array.from({ length: 20 }, (_, i) => `fenced${i}`);
      for (const key of keys) expect((await writer.push([writer.blind('notes', key, key)])).results[0]!.status).toBe('accepted');
      const onOld = await keysOn(old);
      expect(keys.filter((key) => onOld.has(key))).toEqual([]);
      const onPrimary = await keysOn(cluster.primary);
      expect(keys.filter((key) => !onPrimary.has(key))).toEqual([]);
    } finally {
      await relay.close();
    }
  });
});
