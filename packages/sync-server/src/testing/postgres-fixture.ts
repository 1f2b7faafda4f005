import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { PostgresStore, type PostgresStoreOptions } from '../store/postgres-store.js';

/**
 * The PostgreSQL the tests use: `CONVERGE_TEST_DATABASE_URL`, by default the local server
 * (`postgres://postgres@127.0.0.1:5432/test`). A test that cannot reach it fails saying so.
 */
export const TEST_DATABASE_URL = process.env['CONVERGE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Schemas made for tests, each under a fresh name; `dropAll` removes them. */
export class TestSchemas {
  readonly #made = new Set<string>();

  /** A schema name no other test uses (the store creates the schema when it opens). */
  name(label = 't'): string {
    const schema = `test_${label}_${randomBytes(6).toString('hex')}`;
    this.#made.add(schema);
    return schema;
  }

  /** Remembers `schema` to drop at the end. */
  keep(schema: string): string {
    this.#made.add(schema);
    return schema;
  }

  /** Opens a store on a fresh schema, or on `schema`. */
  open(schema = this.name(), options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    this.#made.add(schema);
    return PostgresStore.open(TEST_DATABASE_URL, { maxConnections: 4, ...options, schema });
  }

  async drop(schema: string): Promise<void> {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
    try {
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await sql.end({ timeout: 1 });
    }
    this.#made.delete(schema);
  }

  async dropAll(): Promise<void> {
    for (const schema of [...this.#made]) await this.drop(schema);
  }
}
