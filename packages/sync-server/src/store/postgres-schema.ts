import { ConvergeError } from '@converge/conflict';
import type { Sql } from 'postgres';
import { newLineage } from './lineage.js';

/** The newest schema version this relay knows. */
export const POSTGRES_SCHEMA_VERSION = 1;

// Every string a client or the relay names (collections, keys, states, meta, principals,
// decision fingerprints) is stored as its UTF-8 bytes (bytea): PostgreSQL's text cannot hold
// U+0000, and bytes compare in code point order, the order prefix scans rely on. Replica ids,
// chain hashes and write chains are base64url or hex: text.
const MIGRATIONS: readonly string[] = [
  // Version 1, the layout of SQLite's schema 4: `docs` holds each key's state with the seq of
  // its last change and the chain hash through it (`docs_by_seq` is the log); `chain` keeps
  // every seq's hash; `collections` holds each log's head (its row is the lock that orders a
  // collection's commits) and key count.
  `
CREATE TABLE store_identity (
  id integer PRIMARY KEY CHECK (id = 1),
  lineage text NOT NULL,
  created_at bigint NOT NULL
);
CREATE TABLE collections (
  name bytea PRIMARY KEY,
  head_seq bigint NOT NULL,
  head_hash text NOT NULL,
  keys bigint NOT NULL
);
CREATE TABLE docs (
  collection bytea NOT NULL,
  key bytea NOT NULL,
  seq bigint NOT NULL,
  state bytea NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (collection, key)
);
CREATE UNIQUE INDEX docs_by_seq ON docs (collection, seq);
CREATE TABLE chain (
  collection bytea NOT NULL,
  seq bigint NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (collection, seq)
);
CREATE TABLE decisions (
  collection bytea NOT NULL,
  key bytea NOT NULL,
  replica text NOT NULL,
  counter bigint NOT NULL,
  seq bigint CHECK (seq IS NULL OR seq >= 1),
  content bytea,
  PRIMARY KEY (collection, key, replica, counter)
);
CREATE TABLE write_numbers (
  replica text PRIMARY KEY,
  n bigint NOT NULL,
  chain text NOT NULL
);
CREATE TABLE meta (
  name bytea PRIMARY KEY,
  value bytea NOT NULL
);
CREATE TABLE replica_owners (
  replica text PRIMARY KEY,
  principal bytea NOT NULL
);
`,
];

/** A schema name the relay accepts: a plain lower-case identifier, so it never needs quoting rules. */
export function checkSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,47}$/.test(schema)) {
    throw new ConvergeError('bad_message', `schema must be a lower-case identifier of at most 48 characters (letters, digits, _), not '${schema}'`, {
      path: 'schema',
    });
  }
}

export interface PostgresIdentity {
  readonly lineage: string;
  readonly createdAt: number;
  readonly schemaVersion: number;
}

/**
 * Creates the schema and brings it to `POSTGRES_SCHEMA_VERSION`: each migration runs once, in
 * one transaction under an advisory lock keyed by the schema name, so relays starting
 * together migrate once (the others wait, then find it done). A new schema also gets the
 * database's identity (a fresh lineage). Refuses a schema migrated by a newer relay.
 */
export async function migratePostgres(sql: Sql, schema: string, now: () => number): Promise<PostgresIdentity> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${`converge-migrate:${schema}`}))`;
    await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const [row] = await tx.unsafe<{ version: number | null }[]>(`SELECT max(version) AS version FROM ${schema}.schema_migrations`);
    const applied = row?.version ?? 0;
    if (applied > POSTGRES_SCHEMA_VERSION) {
      throw new ConvergeError(
        'internal',
        `PostgreSQL schema ${schema} is at version ${applied}, newer than this relay's ${POSTGRES_SCHEMA_VERSION}: upgrade the relay`,
      );
    }
    await tx.unsafe(`SET LOCAL search_path TO ${schema}`);
    for (let version = applied + 1; version <= POSTGRES_SCHEMA_VERSION; version++) {
      await tx.unsafe(MIGRATIONS[version - 1]!);
      await tx.unsafe(`INSERT INTO schema_migrations (version) VALUES (${version})`);
    }
    if (applied === 0) await tx`INSERT INTO store_identity (id, lineage, created_at) VALUES (1, ${newLineage()}, ${now()})`;
    const [identity] = await tx<{ lineage: string; created_at: number }[]>`SELECT lineage, created_at FROM store_identity WHERE id = 1`;
    if (identity === undefined) throw new ConvergeError('internal', `PostgreSQL schema ${schema} has lost its identity row`);
    return { lineage: identity.lineage, createdAt: Number(identity.created_at), schemaVersion: POSTGRES_SCHEMA_VERSION };
  });
}
