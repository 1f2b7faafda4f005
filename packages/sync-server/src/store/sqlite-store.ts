import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConvergeError, type Dot, type ReplicaId } from '@converge/conflict';
import Database from 'better-sqlite3';
import type { Decision, LogPosition, RelayStore, StoreStats, StoreTx, StoredDoc, WriteHead } from './relay-store.js';
import { checkName } from './store-arguments.js';
import { StoreLifecycle } from './store-lifecycle.js';
import { SCHEMA_VERSION, openRelayDatabase } from './sqlite-schema.js';
import { SqliteQueries } from './sqlite-queries.js';

export interface SqliteStoreOptions {
  /** The clock for `createdAt` of a new database; `Date.now` by default. */
  readonly now?: () => number;
}

/** How the database is configured, for the relay's start-up log. */
export interface SqliteStoreInfo {
  readonly path: string;
  readonly journalMode: string;
  /** `PRAGMA synchronous`: 0 off, 1 normal, 2 full, 3 extra. */
  readonly synchronous: number;
  readonly schemaVersion: number;
}

/** SQLite's errors as `ConvergeError`s: a full disk is `storage_quota`, anything else `internal`. */
function translateSqliteError(error: unknown): unknown {
  if (!(error instanceof Database.SqliteError)) return error;
  const code = error.code === 'SQLITE_FULL' ? 'storage_quota' : 'internal';
  return new ConvergeError(code, `relay database: ${error.message} (${error.code})`, { cause: error });
}

/**
 * The embedded default `RelayStore`: one SQLite database (a file, or `':memory:'`) through
 * better-sqlite3, in WAL mode with `synchronous=FULL`, so a transaction is on disk when
 * `transact` returns; the WAL is checkpointed into the file every 10,000 pages (at most ~40 MB
 * of WAL on disk between checkpoints). Each `transact` is one `BEGIN IMMEDIATE` transaction. A
 * fresh file gets a new lineage; reopening it keeps it. A second connection to the same file
 * (a `backup` command beside a running relay) is safe: SQLite's write lock serializes
 * transactions and each reads the head afresh, but a writer waits for the lock synchronously
 * (up to 5 s).
 *
 * @example
 * ```ts
 * const store = new SqliteStore(':memory:'); // or a file: './data/converge.db'
 * const state = '{"v":{"B5kR2xq0fD1mWc7tNe4yZa":1},"s":[["B5kR2xq0fD1mWc7tNe4yZa",1,1767225600000,0,{"json":1}]]}';
 * const { seq } = store.transact((tx) => tx.put('carts', 'cart:1', state, ['B5kR2xq0fD1mWc7tNe4yZa', 1]));
 * seq; // → 1
 * store.close();
 * ```
 */
export class SqliteStore implements RelayStore {
  readonly path: string;
  readonly lineage: string;
  readonly createdAt: number;
  readonly #db: Database.Database;
  readonly #queries: SqliteQueries;
  readonly #atomically: Database.Transaction<(body: () => unknown) => unknown>;
  readonly #lifecycle = new StoreLifecycle('the SQLite relay store', translateSqliteError);

  constructor(path: string, options: SqliteStoreOptions = {}) {
    checkName('path', path);
    const opened = openRelayDatabase(path, options.now ?? Date.now);
    this.path = path;
    this.lineage = opened.lineage;
    this.createdAt = opened.createdAt;
    this.#db = opened.db;
    this.#queries = new SqliteQueries(this.#db);
    this.#atomically = this.#db.transaction((body: () => unknown) => body());
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  transact<T>(fn: (tx: StoreTx) => T): T {
    return this.#lifecycle.transact(this.#queries, fn, (body) => {
      try {
        return this.#atomically.immediate(() => {
          this.#queries.beginTransaction();
          const result = body();
          this.#queries.flushWrites();
          return result;
        }) as T;
      } finally {
        this.#queries.discardWrites();
      }
    });
  }

  get(collection: string, key: string): StoredDoc | undefined {
    return this.#lifecycle.run('get', [collection, key], () => this.#queries.get(collection, key));
  }

  head(collection: string): LogPosition {
    return this.#lifecycle.run('head', [collection], () => this.#queries.head(collection));
  }

  decision(collection: string, key: string, dot: Dot): Decision | undefined {
    return this.#lifecycle.run('decision', [collection, key, dot], () => this.#queries.decision(collection, key, dot));
  }

  writeHead(replicaId: ReplicaId): WriteHead {
    return this.#lifecycle.run('writeHead', [replicaId], () => this.#queries.writeHead(replicaId));
  }

  getMeta(name: string): string | undefined {
    return this.#lifecycle.run('getMeta', [name], () => this.#queries.getMeta(name));
  }

  setMeta(name: string, value: string | undefined): void {
    this.transact((tx) => tx.setMeta(name, value));
  }

  replicaOwner(replicaId: ReplicaId): string | undefined {
    return this.#lifecycle.run('replicaOwner', [replicaId], () => this.#queries.replicaOwner(replicaId));
  }

  claimReplica(replicaId: ReplicaId, principalId: string): string {
    return this.transact((tx) => tx.claimReplica(replicaId, principalId));
  }

  scan(collection: string, afterSeq: number, limit: number, prefix?: string): StoredDoc[] {
    return this.#lifecycle.run('scan', [collection, afterSeq, limit, prefix], () => this.#queries.scan(collection, afterSeq, limit, prefix));
  }

  hashAt(collection: string, seq: number): string | undefined {
    return this.#lifecycle.run('hashAt', [collection, seq], () => this.#queries.hashAt(collection, seq));
  }

  collections(): string[] {
    return this.#lifecycle.run('collections', [], () => this.#queries.collections());
  }

  stats(): StoreStats {
    return this.#lifecycle.run('stats', [], () => this.#queries.stats());
  }

  info(): SqliteStoreInfo {
    return this.#lifecycle.run('info', [], () => ({
      path: this.path,
      journalMode: this.#db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.#db.pragma('synchronous', { simple: true }) as number,
      schemaVersion: SCHEMA_VERSION,
    }));
  }

  /** SQLite's online backup: a consistent copy even while transactions continue. */
  async backup(destPath: string): Promise<void> {
    this.#lifecycle.check('backup');
    checkName('destPath', destPath);
    if (destPath === ':memory:' || destPath === '' || (this.path !== ':memory:' && resolve(destPath) === resolve(this.path))) {
      throw new ConvergeError('bad_message', 'a backup needs a file other than the database itself', { path: 'destPath' });
    }
    mkdirSync(dirname(destPath), { recursive: true });
    const existed = existsSync(destPath);
    try {
      await this.#db.backup(destPath);
    } catch (error) {
      // SQLite rolls the destination back; an empty new file would open as a fresh database.
      if (!existed) rmSync(destPath, { force: true });
      if (this.closed) throw new ConvergeError('internal', 'the SQLite relay store was closed during backup()', { cause: error });
      throw translateSqliteError(error);
    }
  }

  /** Closes the database; every commit is already durable, WAL contents are checkpointed into the file. */
  close(): void {
    this.#lifecycle.close(() => {
      this.#db.pragma('optimize');
      this.#db.close();
    });
  }
}
