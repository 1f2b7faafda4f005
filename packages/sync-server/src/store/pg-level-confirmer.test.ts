// The sync barrier sends its row write together with the read of the node's timeline, before the
// fence has judged the node: on a fenced node nothing of it may commit, and the connection must
// still be dropped (so the pool opens its replacement at the next listed host) — on a node in
// recovery too, where the write fails first and leaves the transaction aborted.
import type { Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from '../testing/pg-cluster.js';
import { LevelConfirmer } from './pg-level-confirmer.js';
import { FencedError, TimelineFence } from './pg-timeline-fence.js';
import { PostgresStore } from './postgres-store.js';

const SCHEMA = 'confirmer_fence';
let cluster: PgCluster;

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 1, synchronous: null });
  const store = await PostgresStore.open(cluster.primary.url, { schema: SCHEMA, maxConnections: 1 });
  await store.close();
  const standby = cluster.client(cluster.standbys[0]!);
  for (let tries = 0; ; tries++) {
    const [row] = await standby<{ replayed: boolean }[]>`SELECT to_regclass(${`${SCHEMA}.meta`}) IS NOT NULL AS replayed`;
    if (row!.replayed) break;
    if (tries > 100) throw new Error('the standby did not replay the schema within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 90_000);

afterAll(() => cluster?.stop());

/** The fence's error, or the connection's end it caused (postgres.js may report that first). */
const fencedOrDropped = (error: unknown) => error instanceof FencedError || (error as { code?: string } | undefined)?.code === '57P01';

/** Runs one barrier on `sql` (one connection) behind `fence`: the error it failed with, and whether that connection was dropped. */
async function fencedBarrier(sql: Sql, fence: TimelineFence): Promise<{ error: unknown; dropped: boolean }> {
  const [before] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  const errors: unknown[] = [];
  const confirmer = new LevelConfirmer(sql, fence, Buffer.from('barrier:fenced'), {
    committedOn: () => fence.highest,
    settingSeen: () => undefined,
    failed: (error) => errors.push(error),
  });
  const heard: unknown[] = [];
  confirmer.confirm('quorum', (progress) => heard.push(progress));
  for (let tries = 0; errors.length === 0 && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
  confirmer.close();
  await confirmer.settled();
  expect(heard).toEqual([]);
  const [after] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  return { error: errors[0], dropped: after!.pid !== before!.pid };
}

describe('a sync barrier on a fenced node', () => {
  it('on a node in recovery: fenced, its connection dropped although its write failed first', async () => {
    const sql = cluster.client(cluster.standbys[0]!, { connection: { search_path: SCHEMA } });
    const { error, dropped } = await fencedBarrier(sql, new TimelineFence(1));
    expect(fencedOrDropped(error)).toBe(true);
    expect(dropped).toBe(true);
  });

  it('on a node below the highest timeline seen: fenced, its connection dropped, its row not committed', async () => {
    const sql = cluster.client(cluster.primary, { connection: { search_path: SCHEMA } });
    const { error, dropped } = await fencedBarrier(sql, new TimelineFence(2));
    expect(fencedOrDropped(error)).toBe(true);
    expect(dropped).toBe(true);
    const rows = await sql`SELECT 1 FROM meta WHERE name = ${Buffer.from('barrier:fenced')}`;
    expect(rows.length).toBe(0);
  });
});
