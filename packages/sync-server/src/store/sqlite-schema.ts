import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConvergeError } from '@converge/conflict';
import Database from 'better-sqlite3';
import { newLineage } from './lineage.js';

/** `PRAGMA user_version` of the schema below. */
export const SCHEMA_VERSION = 4;
/** WAL size, in pages, at which a commit also checkpoints the WAL into the database file. */
const WAL_CHECKPOINT_PAGES = 10_000;
/** The page cache of a connection, KiB (`PRAGMA cache_size` takes KiB as a negative number). */
export const PAGE_CACHE_KIB = 2048;
/** `PRAGMA application_id`: 'Cnvg', marks the file as a Converge relay database. */
export const APPLICATION_ID = 0x436e7667;

// Version 1. `docs` holds each key's merged state with the seq of its last change;
// `docs_by_seq` is the log. `chain` keeps the chain hash of every seq forever; `collections`
// holds each log's head and key count.
const SCHEMA_V1 = `
CREATE TABLE store_identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  lineage TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE collections (
  name TEXT PRIMARY KEY,
  head_seq INTEGER NOT NULL,
  head_hash TEXT NOT NULL,
  keys INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE docs (
  id INTEGER PRIMARY KEY,
  collection TEXT NOT NULL,
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX docs_by_key ON docs (collection, key);
CREATE UNIQUE INDEX docs_by_seq ON docs (collection, seq);
CREATE TABLE chain (
  collection TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (collection, seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE decisions (
  collection TEXT NOT NULL,
  key TEXT NOT NULL,
  replica TEXT NOT NULL,
  counter INTEGER NOT NULL,
  seq INTEGER CHECK (seq IS NULL OR seq >= 1),
  PRIMARY KEY (collection, key, replica, counter)
) STRICT, WITHOUT ROWID;
CREATE TABLE write_numbers (
  replica TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE meta (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
`;

// Version 2: a content fingerprint per leader decision (a reused dot with other content is
// recognised after its write was superseded or refused), and replica-id owners in a table of
// their own instead of `replica-owner:<id>` meta rows.
const SCHEMA_V2 = `
ALTER TABLE decisions ADD COLUMN content TEXT;
CREATE TABLE replica_owners (
  replica TEXT PRIMARY KEY,
  principal TEXT NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO replica_owners (replica, principal)
  SELECT substr(name, 15), value FROM meta WHERE substr(name, 1, 14) = 'replica-owner:';
DELETE FROM meta WHERE substr(name, 1, 14) = 'replica-owner:';
`;

// Version 3: each replica's latest write carries the replica's write chain through it (a
// database restored from an older copy shows as a different chain). Rows from before have
// none: '0', the chain of no write, which no client's chain at a write number ≥ 1 equals, so a
// client compares nothing against them (see `afterWelcome` in the client).
const SCHEMA_V3 = `
ALTER TABLE write_numbers ADD COLUMN chain TEXT NOT NULL DEFAULT '0';
`;

// Version 4: each doc carries the chain hash through its seq, so a scan of the log returns
// what cursors are signed with (no lookup in \`chain\` per frame).
const SCHEMA_V4 = `
ALTER TABLE docs ADD COLUMN hash TEXT NOT NULL DEFAULT '';
UPDATE docs SET hash = (SELECT chain.hash FROM chain WHERE chain.collection = docs.collection AND chain.seq = docs.seq);
`;

/** \`SCHEMA_STEPS[v]\` takes a database from version v to v + 1. */
export const SCHEMA_STEPS: readonly string[] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4];

export interface OpenedDatabase {
  readonly db: Database.Database;
  readonly lineage: string;
  readonly createdAt: number;
}

function storeError(path: string, message: string, cause?: unknown): ConvergeError {
  return new ConvergeError('internal', `relay database ${path}: ${message}`, { cause });
}

/**
 * Brings the database from `version` to `SCHEMA_VERSION` in one transaction; from version 0
 * (a new file) it also creates the database's identity.
 */
function migrate(db: Database.Database, path: string, version: number, now: () => number): void {
  db.transaction(() => {
    if (version === 0) {
      const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'`).get() as {
        n: number;
      };
      if (tables.n > 0) throw storeError(path, 'the file holds tables but is not a Converge relay database');
    }
    for (let step = version; step < SCHEMA_VERSION; step++) db.exec(SCHEMA_STEPS[step]!);
    if (version === 0) {
      db.prepare('INSERT INTO store_identity (id, lineage, created_at) VALUES (1, ?, ?)').run(newLineage(), now());
      db.pragma(`application_id = ${APPLICATION_ID}`);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * Opens (creating when needed, parent directories included) the relay database at `path`, or
 * an in-memory one for `':memory:'`: WAL, `synchronous=FULL`, schema at `SCHEMA_VERSION`.
 * Refuses files that are not Converge relay databases or carry a newer schema.
 */
export function openRelayDatabase(path: string, now: () => number): OpenedDatabase {
  if (path === '') throw new ConvergeError('bad_message', 'must name a file or be ":memory:"', { path: 'path' });
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 5000 });
  } catch (error) {
    throw storeError(path, 'cannot open', error);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // SQLite's own page cache, per connection (better-sqlite3's build allows 16 MB): a catch-up
    // streams pages through it once, and the OS caches the file anyway. 2 MiB kept the relay's
    // RSS 15 MB lower through a 100k-record catch-up and 20–30 MB lower through 1M, with catch-up
    // and ingest times unchanged (bench/RESULTS.md, "Scaling").
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    // Commits are durable in the WAL; a checkpoint (copying it into the database file, with two
    // more fsyncs) every 10,000 pages (~40 MB) instead of SQLite's 1,000 writes pages that many
    // commits touched once, not once per few commits: ~5% more changes/s at full load.
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (applicationId !== APPLICATION_ID && applicationId !== 0) {
      throw storeError(path, 'the file belongs to another application');
    }
    if (version > SCHEMA_VERSION) {
      const supported = `this relay supports ${SCHEMA_VERSION}`;
      throw storeError(path, `schema version ${version} is newer than ${supported}; upgrade the relay`);
    }
    if (version !== 0 && applicationId !== APPLICATION_ID) throw storeError(path, 'not a Converge relay database');
    if (version < SCHEMA_VERSION) migrate(db, path, version, now);
    const identity = db.prepare('SELECT lineage, created_at AS createdAt FROM store_identity WHERE id = 1').get() as
      { lineage: string; createdAt: number } | undefined;
    if (identity === undefined) throw storeError(path, 'the database has lost its identity row');
    return { db, lineage: identity.lineage, createdAt: identity.createdAt };
  } catch (error) {
    db.close();
    if (error instanceof ConvergeError) throw error;
    throw storeError(path, 'cannot open', error);
  }
}
