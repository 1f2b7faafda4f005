import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConvergeError, type Dot, type ReplicaId } from '@converge/conflict';
import Database from 'better-sqlite3';
import type { Decision, LogPosition, LoggedDoc, RelayStore, StoreStats, StoreTx, StoredDoc, WriteHead } from './relay-store.js';
import { checkName } from './store-arguments.js';
import { OverlayTx } from './overlay-tx.js';
import { StoreLifecycle } from './store-lifecycle.js';
import { SCHEMA_VERSION, openRelayDatabase } from './sqlite-schema.js';
import { SqliteQueries } from './sqlite-queries.js';
import type { TxWrites } from './tx-writes.js';

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
 * of WAL on disk between checkpoints). A transaction's callback reads committed rows and
 * keeps its writes in memory; its commit is one synchronous `BEGIN IMMEDIATE` transaction, so
 * nothing runs between its reads of the heads and its commit as long as this store is the
 * file's only writer (the CLI's lock file keeps one relay per file; a `backup` beside it only
 * reads). A fresh file gets a new lineage; reopening it keeps it. SQLite waits for another
 * connection's lock synchronously
 * (up to 5 s). Transactions run one at a time; the store's reads never wait for them.
 *
 * @example
 * ```ts
 * const store = new SqliteStore(':memory:'); // or a file: './data/converge.db'
 * const state = '{"v":{"B5kR2xq0fD1mWc7tNe4yZa":1},"s":[["B5kR2xq0fD1mWc7tNe4yZa",1,1767225600000,0,{"json":1}]]}';
 * const { seq } = await store.transact((tx) => tx.put('carts', 'cart:1', state, ['B5kR2xq0fD1mWc7tNe4yZa', 1]));
 * seq; // → 1
 * await store.close();
 * ```
 */
export class SqliteStore implements RelayStore {
  readonly path: string;
  readonly lineage: string;
  readonly createdAt: number;
  readonly #db: Database.Database;
  readonly #queries: SqliteQueries;
  readonly #commit: Database.Transaction<(writes: TxWrites) => void>;
  readonly #lifecycle = new StoreLifecycle('the SQLite relay store', { translate: translateSqliteError, inProcess: true });

  constructor(path: string, options: SqliteStoreOptions = {}) {
    checkName('path', path);
    const opened = openRelayDatabase(path, options.now ?? Date.now);
    this.path = path;
    this.lineage = opened.lineage;
    this.createdAt = opened.createdAt;
    this.#db = opened.db;
    this.#queries = new SqliteQueries(this.#db);
    this.#commit = this.#db.transaction((writes: TxWrites) => this.#queries.write(writes));
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /**
   * The callback reads committed rows and writes into memory; the commit is one synchronous
   * `BEGIN IMMEDIATE` … `COMMIT` (nothing else runs in between), skipped when nothing was written.
   */
  transact<T>(fn: (tx: StoreTx) => Promise<T> | T): Promise<T> {
    return this.#lifecycle.transact(fn, async (body) => {
      const tx = new OverlayTx(this.#queries, { prefetch: true });
      const result = await body(tx);
      if (!tx.writes.empty) this.#commit.immediate(tx.writes);
      return result;
    });
  }

  get(collection: string, key: string): Promise<StoredDoc | undefined> {
    return this.#lifecycle.run('get', [collection, key], () => this.#queries.get(collection, key));
  }

  head(collection: string): Promise<LogPosition> {
    return this.#lifecycle.run('head', [collection], () => this.#queries.head(collection));
  }

  decision(collection: string, key: string, dot: Dot): Promise<Decision | undefined> {
    return this.#lifecycle.run('decision', [collection, key, dot], () => this.#queries.decision(collection, key, dot));
  }

  writeHead(replicaId: ReplicaId): Promise<WriteHead> {
    return this.#lifecycle.run('writeHead', [replicaId], () => this.#queries.writeHead(replicaId));
  }

  getMeta(name: string): Promise<string | undefined> {
    return this.#lifecycle.run('getMeta', [name], () => this.#queries.getMeta(name));
  }

  setMeta(name: string, value: string | undefined): Promise<void> {
    return this.transact((tx) => tx.setMeta(name, value));
  }

  replicaOwner(replicaId: ReplicaId): Promise<string | undefined> {
    return this.#lifecycle.run('replicaOwner', [replicaId], () => this.#queries.replicaOwner(replicaId));
  }

  claimReplica(replicaId: ReplicaId, principalId: string): Promise<string> {
    return this.transact((tx) => tx.claimReplica(replicaId, principalId));
  }

  scan(collection: string, afterSeq: number, limit: number, prefix?: string): Promise<LoggedDoc[]> {
    return this.#lifecycle.run('scan', [collection, afterSeq, limit, prefix], () => this.#queries.scan(collection, afterSeq, limit, prefix));
  }

  hashAt(collection: string, seq: number): Promise<string | undefined> {
    return this.#lifecycle.run('hashAt', [collection, seq], () => this.#queries.hashAt(collection, seq));
  }

  collections(): Promise<string[]> {
    return this.#lifecycle.run('collections', [], () => this.#queries.collections());
  }

  stats(): Promise<StoreStats> {
    return this.#lifecycle.run('stats', [], () => this.#queries.stats());
  }

  info(): SqliteStoreInfo {
    this.#lifecycle.check('info');
    return {
      path: this.path,
      journalMode: this.#db.pragma('journal_mode', { simple: true }) as string,
      synchronous: this.#db.pragma('synchronous', { simple: true }) as number,
      schemaVersion: SCHEMA_VERSION,
    };
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
  close(): Promise<void> {
    return this.#lifecycle.close(() => {
      this.#db.pragma('optimize');
      this.#db.close();
    });
  }
}
