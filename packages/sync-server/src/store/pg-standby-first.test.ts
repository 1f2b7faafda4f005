// `target_session_attrs=read-write` with a hot standby listed before the primary. The `postgres`
// client decides "read-write" from `default_transaction_read_only` alone, which a hot standby
// reports as `off` (it is read-only through `in_hot_standby`): left to it, the pool's
// connections open on the standby and every write fails there with 25006 (read-only
// transaction), for as long as the connection lives. libpq counts a hot standby as not
// read-write; so must the store.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from '../testing/pg-cluster.js';
import { PostgresStore } from './postgres-store.js';

let cluster: PgCluster;

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 1, synchronous: null });
}, 90_000);

afterAll(() => cluster?.stop());

it('a multi-host URL listing a hot standby first: the store connects to the primary and writes there', async () => {
  const [standby] = cluster.standbys;
  const url = cluster.multiHostUrl({ nodes: [standby!, cluster.primary] });
  const store = await PostgresStore.open(url, { schema: 'standby_first', maxConnections: 3 });
  try {
    await Promise.all(Array.from({ length: 6 }, (_, i) => store.transact((tx) => tx.setMeta(`written${i}`, 'on the primary'))));
    const primary = cluster.client(cluster.primary);
    const rows = await primary<{ n: number }[]>`SELECT count(*)::int AS n FROM standby_first.meta WHERE convert_from(name, 'UTF8') LIKE 'written%'`;
    expect(rows[0]?.n).toBe(6);
  } finally {
    await store.close();
  }
});
