// `target_session_attrs=read-write` in the store's URL must never land the relay's pool on a hot
// standby. The `postgres` client library (4.x) judges read-write by `default_transaction_read_only`
// alone, which a hot standby reports as off, so it connects to the first listed node that
// answers, standby or not (libpq also requires `in_hot_standby` off). Listed first, a standby got
// every write of the relay (each failing "read-only transaction", the store not even opening);
// after a failover whose promoted node was not the one the pool had reached, the relay stayed on
// the remaining standby and never wrote again (found by `npm run bench -- postgres`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgCluster, type PgCluster } from '../testing/pg-cluster.js';
import { PostgresStore } from './postgres-store.js';

let cluster: PgCluster;

beforeAll(async () => {
  cluster = await startPgCluster({ standbys: 1, synchronous: null });
}, 90_000);

afterAll(() => cluster?.stop());

describe('a URL listing a standby before the primary, with target_session_attrs=read-write', () => {
  it('the client library alone connects to the standby (the trap the store works around)', async () => {
    const sql = cluster.client(cluster.multiHostUrl({ nodes: [cluster.standbys[0]!, cluster.primary], targetSessionAttrs: 'read-write' }));
    const [row] = await sql<{ recovery: boolean }[]>`SELECT pg_is_in_recovery() AS recovery`;
    expect(row!.recovery).toBe(true);
  });

  it('the store opens on the primary and its writes commit there', async () => {
    const store = await PostgresStore.open(cluster.multiHostUrl({ nodes: [cluster.standbys[0]!, cluster.primary], targetSessionAttrs: 'read-write' }), {
      schema: 'read_write_standby',
      maxConnections: 2,
    });
    try {
      await Promise.all(Array.from({ length: 4 }, (_, i) => store.transact((tx) => tx.setMeta(`m${i}`, `v${i}`))));
      const sql = cluster.client(cluster.primary);
      const rows = await sql<{ name: Buffer }[]>`SELECT name FROM read_write_standby.meta ORDER BY name`;
      expect(rows.map((r) => r.name.toString('utf8')).filter((name) => /^m\d$/.test(name))).toEqual(['m0', 'm1', 'm2', 'm3']);
    } finally {
      await store.close();
    }
  });
});
