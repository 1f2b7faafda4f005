import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { PostgresStore } from './store/postgres-store.js';
import { SqliteStore } from './store/sqlite-store.js';

/** The store `converge-relay` serves from: PostgreSQL at `databaseUrl` when given, else the SQLite file `db`. */
export async function openStore(
  db: string,
  databaseUrl: string | undefined,
  schema: string,
  replicaUrl: string | undefined,
): Promise<SqliteStore | PostgresStore> {
  return databaseUrl === undefined
    ? new SqliteStore(db)
    : await PostgresStore.open(databaseUrl, { schema, ...(replicaUrl === undefined ? {} : { replicaUrl }) });
}

/** The cursor MAC key: the one given, else a random one generated once and kept beside the database (`<db>.cursor-secret`; fresh each time for ':memory:'). */
export function cursorSecretFor(db: string, given: string | undefined): string | Buffer {
  if (given !== undefined && given.length > 0) return given;
  if (db === ':memory:') return randomBytes(32);
  const file = `${db}.cursor-secret`;
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return readFileSync(file, 'utf8').trim();
}

/** What the start-up log line says of the store. */
export function storeInfo(store: SqliteStore | PostgresStore, db: string) {
  return store instanceof SqliteStore
    ? { db, ...pick(store.info(), ['journalMode', 'synchronous', 'schemaVersion']) }
    : {
        store: 'postgres',
        ...pick(store.info(), ['hosts', 'database', 'schema', 'schemaVersion', 'serverVersion', 'timeline', 'replicaHosts']),
        replication: pick(store.replication(), ['standbys', 'quorum']),
      };
}

function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, value[key]])) as Pick<T, K>;
}
