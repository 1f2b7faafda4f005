import { createHash, randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { runRelayStoreTests } from '../testing/index.js';
import { TEST_DATABASE_URL, TestSchemas } from '../testing/postgres-fixture.js';

// Every store of the suite on a schema of its own in the test database, dropped at the end.
// Without a reachable PostgreSQL these tests fail (they never skip).
const schemas = new TestSchemas();
afterAll(() => schemas.dropAll());

/** A "path" of the suite names a schema: reopening the path reopens the schema. */
const schemaOf = (path: string) => `test_p_${createHash('sha256').update(path).digest('hex').slice(0, 20)}`;
runRelayStoreTests('PostgresStore', () => schemas.open(), {
  openFile: (path) => schemas.open(schemas.keep(schemaOf(path))),
  wipe: (path) => schemas.drop(schemaOf(path)),
  backups: false,
});

describe('PostgresStore when the connection drops', () => {
  const admin = () => postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });

  /** Terminates the store's backend that sits in its transaction (waits for it, bounded). */
  async function cutTransaction(applicationName: string): Promise<void> {
    const sql = admin();
    try {
      for (let i = 0; i < 100; i++) {
        const cut = await sql`SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
          WHERE application_name = ${applicationName} AND state = 'idle in transaction'`;
        if (cut.length > 0) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the transaction never showed up in pg_stat_activity');
    } finally {
      await sql.end({ timeout: 1 });
    }
  }

  it('a transaction whose connection is cut before anything of it was sent to commit runs again on a new connection: kept once, at the next seq', async () => {
    const applicationName = `converge-test-${randomBytes(4).toString('hex')}`;
    const store = await schemas.open(undefined, { applicationName });
    try {
      await store.transact((tx) => tx.put('carts', 'a', 'kept', ['replicaAAAAAAAAAAAAAAA', 1]));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const commit = store.transact(async (tx) => {
        await tx.put('carts', 'b', 'lost', ['replicaAAAAAAAAAAAAAAA', 2]);
        await held;
      });
      await cutTransaction(applicationName);
      release();
      // Its writes and COMMIT were not sent yet: nothing of the cut attempt committed, and it runs again.
      await commit;
      expect((await store.head('carts')).seq).toBe(2);
      expect(await store.get('carts', 'b')).toMatchObject({ state: 'lost', seq: 2 });
      expect((await store.transact((tx) => tx.put('carts', 'c', 'next', ['replicaAAAAAAAAAAAAAAA', 3]))).seq).toBe(3);
    } finally {
      await store.close();
    }
  });
});
