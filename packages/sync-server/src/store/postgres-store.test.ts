import { createHash } from 'node:crypto';
import { afterAll } from 'vitest';
import { runRelayStoreTests } from '../testing/index.js';
import { TestSchemas } from '../testing/postgres-fixture.js';

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
