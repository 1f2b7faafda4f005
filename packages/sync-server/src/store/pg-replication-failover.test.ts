// Failover on a real primary with two standbys under `ANY 1`: what PostgreSQL keeps when the
// primary dies, and the traps of following the new primary. The tests run in order on one
// cluster and each starts from where the previous one left it: s0 killed under load, s1 or s2
// promoted, s0 restarted as it was (a second primary, on timeline 1), frozen, then rewound
// into a standby.
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster, type PgNode, type Promotion } from '../testing/pg-cluster.js';
import { commitAtLevel } from './pg-replication-commit.js';
import { timeline } from './pg-replication-timeline.js';

const WRITERS = 4;
const LOAD_MS = 1_500;
const MAX_WRITES = 20_000;

let cluster: PgCluster;
let old: PgNode;
let promotion: Promotion;
let promoted: Sql;
/** A write the old primary acknowledged at `relay` while it ran as a second primary on timeline 1. */
let strandedId: number;

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 2, synchronous: 'ANY 1' });
  old = cluster.primary;
  await cluster.client(old)`CREATE TABLE acked (id int PRIMARY KEY)`;
}, 90_000);

afterAll(() => cluster?.stop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('failover', () => {
  it('promoting the most up-to-date standby after SIGKILL of the primary loses no commit acknowledged at quorum', async () => {
    const pool = cluster.client(old, { max: WRITERS });
    const acked: number[] = [];
    let next = 1;
    let dead = false;
    const writer = async () => {
      while (!dead && next <= MAX_WRITES) {
        const id = next++;
        try {
          const commit = await commitAtLevel(pool, 'quorum', (tx) => tx`INSERT INTO acked VALUES (${id})`);
          if (commit.reached === 'quorum') acked.push(id);
        } catch {
          return; // the primary is gone: this write was never acknowledged
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, writer);
    await sleep(LOAD_MS);
    const killedAt = Date.now();
    await cluster.kill(old, 'SIGKILL'); // while the writers are in the middle of commits
    dead = true;
    await Promise.all(writers);

    promotion = await cluster.promoteMostUpToDate();
    const promotedAt = Date.now();
    expect(promotion.ranking.map((standby) => standby.name).sort()).toEqual(['s1', 's2']);
    expect(promotion.node.name).toBe(promotion.ranking[0]!.name);
    expect(cluster.primary).toBe(promotion.node);

    promoted = cluster.client(promotion.node, { max: 2 });
    const first = await commitAtLevel(promoted, 'quorum', (tx) => tx`INSERT INTO acked VALUES (0)`);
    const firstQuorumMs = Date.now() - killedAt;
    expect(first.reached).toBe('quorum'); // the other standby follows the new primary: ANY 1 holds again

    const present = new Set((await promoted<{ id: number }[]>`SELECT id FROM acked`).map((row) => row.id));
    const lost = acked.filter((id) => !present.has(id));
    expect(acked.length).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    console.info(
      `pg-failover: ${acked.length} quorum-acked writes by ${WRITERS} writers, ${lost.length} lost after SIGKILL; ` +
        `promotion of ${promotion.node.name} ${promotion.promoteMs} ms (+${promotion.followMs} ms until the other standby streamed), ` +
        `first quorum commit ${firstQuorumMs} ms after the kill (${promotedAt - killedAt} ms of it until the harness returned)`,
    );
  });

  it('timeline() reads 2 on the promoted primary as soon as the promotion ends, whatever pg_control_checkpoint() still says', async () => {
    expect(await timeline(promoted)).toBe(2);
    const [control] = await promoted<{ tli: number }[]>`SELECT timeline_id AS tli FROM pg_control_checkpoint()`;
    console.info(`pg-failover: pg_control_checkpoint().timeline_id right after promotion: ${control?.tli}`);
    await promoted`CHECKPOINT`;
    const [after] = await promoted<{ tli: number }[]>`SELECT timeline_id AS tli FROM pg_control_checkpoint()`;
    expect(after?.tli).toBe(2);
    expect(await timeline(promoted)).toBe(2);
  });

  it('the old primary restarted as it was accepts writes on timeline 1 while the new primary is on 2', async () => {
    await cluster.restartAsItWas(old);
    const stale = cluster.client(old);
    strandedId = 1_000_000;
    const commit = await commitAtLevel(stale, 'relay', (tx) => tx`INSERT INTO acked VALUES (${strandedId})`);
    expect(commit.reached).toBe('relay'); // it took the write: nothing in PostgreSQL stops it
    expect(await timeline(stale)).toBe(1);
    expect(await timeline(promoted)).toBe(2);
    const [row] = await stale<{ recovery: boolean }[]>`SELECT pg_is_in_recovery() AS recovery`;
    expect(row?.recovery).toBe(false);
  });

  it('target_session_attrs=primary (or read-write) connects to the old primary when it is listed first; only a timeline fence tells', async () => {
    const others = cluster.nodes.filter((node) => node !== old && node !== promotion.node);
    const oldFirst = cluster.client(cluster.multiHostUrl({ nodes: [old, promotion.node, ...others] }));
    const [picked] = await oldFirst<{ port: number }[]>`SELECT inet_server_port() AS port`;
    expect(picked?.port).toBe(old.port);
    expect(await timeline(oldFirst)).toBe(1);

    const newFirst = cluster.client(cluster.multiHostUrl({ nodes: [promotion.node, old, ...others] }));
    const [right] = await newFirst<{ port: number }[]>`SELECT inet_server_port() AS port`;
    expect(right?.port).toBe(promotion.node.port);
    expect(await timeline(newFirst)).toBe(2);
  });

  it('a SIGSTOPped node listed first: with no connect timeout the client hangs on it; with connect_timeout=2 it moves on to the new primary', async () => {
    await cluster.kill(old, 'SIGSTOP');
    const nodes = [old, promotion.node];

    const hanging = cluster.client(cluster.multiHostUrl({ nodes, connectTimeout: null }), { connect_timeout: 0 });
    let answered = false;
    const query = hanging`SELECT 1`.then(
      () => (answered = true),
      () => undefined,
    );
    await sleep(4_000); // twice what connect_timeout=2 needs below
    expect(answered).toBe(false);
    await hanging.end({ timeout: 0 });
    await query;

    const bounded = cluster.client(cluster.multiHostUrl({ nodes, connectTimeout: 2 }));
    const started = Date.now();
    const [row] = await bounded<{ port: number }[]>`SELECT inet_server_port() AS port`;
    const tookMs = Date.now() - started;
    expect(row?.port).toBe(promotion.node.port);
    expect(tookMs).toBeGreaterThanOrEqual(1_900); // it did wait on the frozen node first…
    expect(tookMs).toBeLessThan(30_000); // …for connect_timeout, not postgres.js's 30 s default
    console.info(`pg-failover: with connect_timeout=2 the client reached the new primary past a SIGSTOPped node in ${tookMs} ms`);
  });

  it('rejoinAsStandby rewinds the old primary (its timeline-1 write is gone) and it streams from the new primary', async () => {
    await cluster.kill(old, 'SIGKILL');
    await cluster.rejoinAsStandby(old);
    const rejoined = cluster.client(old);
    expect(await timeline(rejoined)).toBe(2);
    const [row] = await rejoined<{ recovery: boolean }[]>`SELECT pg_is_in_recovery() AS recovery`;
    expect(row?.recovery).toBe(true);
    // The write it took at `relay` on timeline 1 never reached the new timeline: a failover loses relay-only writes.
    expect(await promoted`SELECT 1 FROM acked WHERE id = ${strandedId}`).toHaveLength(0);
    expect(await rejoined`SELECT 1 FROM acked WHERE id = ${strandedId}`).toHaveLength(0);
    const commit = await commitAtLevel(promoted, 'quorum', (tx) => tx`INSERT INTO acked VALUES (-1)`);
    expect(commit.reached).toBe('quorum');
  });

  it('writes acknowledged only at relay are lost when the primary dies before its standbys have them; a quorum write is never acknowledged then', async () => {
    const primary = cluster.primary;
    const pool = cluster.client(primary, { max: 2 });
    // The standbys are down, not frozen: a SIGSTOPped standby's kernel still takes the WAL sent
    // to it into its socket buffer, and it has every write once it runs again.
    const standbys = cluster.standbys;
    for (const standby of standbys) await cluster.kill(standby, 'SIGKILL');
    const relayIds = [2_000_001, 2_000_002, 2_000_003];
    for (const id of relayIds) expect((await commitAtLevel(pool, 'relay', (tx) => tx`INSERT INTO acked VALUES (${id})`)).reached).toBe('relay');
    let quorumAcked = false;
    const quorum = commitAtLevel(pool, 'quorum', (tx) => tx`INSERT INTO acked VALUES (2000004)`).then(
      () => (quorumAcked = true),
      () => undefined,
    );
    await sleep(200);
    await cluster.kill(primary, 'SIGKILL');
    await quorum;
    expect(quorumAcked).toBe(false);
    for (const standby of standbys) await cluster.restartAsItWas(standby);
    const second = await cluster.promoteMostUpToDate();
    const now = cluster.client(second.node);
    expect(await timeline(now)).toBe(3);
    expect(await now`SELECT id FROM acked WHERE id >= 2000000`).toEqual([]);
  });
});
