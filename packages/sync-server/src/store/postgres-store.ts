import { randomBytes } from 'node:crypto';
import { ConvergeError, type Dot, type ReplicaId } from '@converge/conflict';
import type { Sql } from 'postgres';
import { CommitNotices } from './pg-commit-notices.js';
import {
  connectionDropped,
  connectionInfo,
  openPool,
  retryable,
  translatePostgresError,
  type PostgresStoreInfo,
  type PostgresStoreOptions,
} from './pg-connection.js';
import { LevelConfirmer } from './pg-level-confirmer.js';
import { ReplicationWatch } from './pg-replication-watch.js';
import { replayed, replicaPosition } from './pg-standby-replay.js';
import { admitNode, FencedError, TimelineFence, type NodeRow } from './pg-timeline-fence.js';
import { checkSchemaName, migratePostgres, POSTGRES_SCHEMA_VERSION } from './postgres-schema.js';
import {
  readCollections,
  readDecision,
  readDoc,
  readHashAt,
  readHead,
  readMeta,
  readReplicaOwner,
  readStats,
  readWriteHead,
  scanLog,
} from './postgres-reads.js';
import { PostgresTx, bytes } from './postgres-tx.js';
import type {
  Decision,
  LevelProgress,
  LogPosition,
  LoggedDoc,
  RelayStore,
  RemoteCommit,
  ReplicaPosition,
  StoreReplication,
  StoreStats,
  StoreTx,
  StoredDoc,
  WriteHead,
} from './relay-store.js';
import { checkName } from './store-arguments.js';
import { StoreLifecycle } from './store-lifecycle.js';

export type { PostgresStoreInfo, PostgresStoreOptions } from './pg-connection.js';
export { translatePostgresError } from './pg-connection.js';

const MAX_ATTEMPTS = 3;

/**
 * A `RelayStore` in PostgreSQL, shared by any number of relay processes (behind any load
 * balancer): one pool per store through the `postgres` client; a connection string may name
 * several hosts with `target_session_attrs=primary`, so a relay finds the primary after a
 * failover. The relay creates and migrates its schema (`migratePostgres`).
 *
 * Seqs: a transaction locks each collection it reads or writes (its `collections` row) until
 * it commits, so a collection's commits are serialized across processes and its seqs become
 * visible in commit order, gap-free, each extending the chain hash. A group commit locks its
 * collections and reads its keys in one round trip and writes everything with its commit in
 * another. Each commit announces its collections' new heads (`pg_notify` in the committing
 * transaction), which other processes hear through `watchCommits`.
 *
 * A transaction that loses its connection rejects with `quorum_unavailable` (outcome
 * unknown); one PostgreSQL aborted to break a deadlock or a serialization conflict is run
 * again (up to 3 times). `backup()` is refused: use PostgreSQL's own backups.
 *
 * @example
 * ```ts
 * // In production, e.g. 'postgres://relay@db1,db2/converge?target_session_attrs=primary'.
 * const url = process.env.CONVERGE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
 * const store = await PostgresStore.open(url, { schema: 'converge_example' });
 * const relay = createRelay({ store, cursorSecret: 'the same secret on every relay' });
 * store.closed; // → false
 * await relay.close(); // the store is closed with it
 * store.closed; // → true
 * ```
 */
export class PostgresStore implements RelayStore {
  readonly lineage: string;
  readonly createdAt: number;
  readonly #sql: Sql;
  readonly #schema: string;
  readonly #info: PostgresStoreInfo;
  readonly #notice: { readonly channel: string; readonly instance: string };
  readonly #lifecycle = new StoreLifecycle('the PostgreSQL relay store', { translate: translatePostgresError });
  readonly #commits: CommitNotices;
  /** Where reads outside transactions go: the standby of `replicaUrl`, else the primary's pool. */
  readonly #reads: Sql;
  readonly #replica: Sql | undefined;
  readonly #fence: TimelineFence;
  readonly #confirmer: LevelConfirmer;
  readonly #replication: ReplicationWatch;
  readonly #maxConnections: number;
  /** The timeline of the last write transaction that committed. */
  #committedOn: number;

  private constructor(
    sql: Sql,
    replica: Sql | undefined,
    schema: string,
    identity: { lineage: string; createdAt: number },
    info: PostgresStoreInfo,
    settings: { readonly maxConnections: number; readonly replicationCheckMs: number },
  ) {
    this.#sql = sql;
    this.#replica = replica;
    this.#reads = replica ?? sql;
    this.#schema = schema;
    this.lineage = identity.lineage;
    this.createdAt = identity.createdAt;
    this.#info = info;
    this.#notice = { channel: `converge_${schema}`, instance: randomBytes(9).toString('base64url') };
    // A hot standby cannot LISTEN: a relay reading from one hears the primary's notice and passes
    // it on once its standby shows the commit (or after a bounded wait: the head check heals the rest).
    this.#commits = new CommitNotices(
      sql,
      this.#notice,
      replica === undefined ? undefined : (collection, seq) => replayed(replica, collection, seq, Date.now() + REPLAY_WAIT_MS, () => this.closed),
    );
    this.#maxConnections = settings.maxConnections;
    this.#fence = new TimelineFence(info.timeline);
    this.awaitReplica =
      replica === undefined
        ? undefined
        : (collection, timeoutMs) =>
            this.#lifecycle.run('awaitReplica', [collection], () => replicaPosition(sql, replica, collection, Date.now() + timeoutMs, () => this.closed));
    this.#committedOn = info.timeline;
    const ignore = () => undefined;
    this.#replication = new ReplicationWatch(sql, this.#fence, replica, settings.replicationCheckMs, ignore);
    this.#confirmer = new LevelConfirmer(sql, this.#fence, this.#barrierRow(), {
      committedOn: () => this.#committedOn,
      settingSeen: (setting) => this.#replication.settingSeen(setting),
      failed: ignore,
    });
  }

  /**
   * Connects (a pool of `maxConnections`), creates or migrates the schema (once, under an
   * advisory lock) and reads the database's identity. Rejects with a `ConvergeError` when the
   * server cannot be reached or the schema is newer than this relay.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    checkName('url', url);
    const schema = options.schema ?? 'converge';
    checkSchemaName(schema);
    if (options.replicaUrl !== undefined) checkName('replicaUrl', options.replicaUrl);
    const maxConnections = options.maxConnections ?? 10;
    const pool = (target: string, max: number) => openPool(target, max, schema, options);
    const sql = pool(url, maxConnections);
    const replica = options.replicaUrl === undefined ? undefined : pool(options.replicaUrl, options.replicaConnections ?? 5);
    try {
      const identity = await migratePostgres(sql, schema, options.now ?? Date.now);
      const info = await connectionInfo(url, sql, replica, schema, POSTGRES_SCHEMA_VERSION);
      const store = new PostgresStore(sql, replica, schema, identity, info, { maxConnections, replicationCheckMs: options.replicationCheckMs ?? 5_000 });
      await store.#replication.refresh();
      return store;
    } catch (error) {
      await sql.end({ timeout: 1 }).catch(() => undefined);
      await replica?.end({ timeout: 1 }).catch(() => undefined);
      const translated = translatePostgresError(error);
      if (translated instanceof ConvergeError) throw translated;
      throw new ConvergeError('internal', `relay database: cannot open: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  info(): PostgresStoreInfo {
    this.#lifecycle.check('info');
    return { ...this.#info, timeline: this.#fence.highest };
  }

  /**
   * Runs `fn` in a transaction that commits at `synchronous_commit = local` (the `relay` level:
   * the primary's own flush; `confirmLevel` confirms more after it). A statement pipelined
   * with its first reads the node's timeline: a node on a timeline below the highest seen (an
   * old primary back as it was) or in recovery gets no write — its connection is dropped, nothing
   * commits, and the transaction runs again on the pool's next connection (which opens at the
   * next listed host), up to `maxConnections + 1` times before it rejects `quorum_unavailable`.
   * So does one whose connection fails before COMMIT was sent (nothing of it committed); a
   * failure once COMMIT was sent leaves the outcome unknown and rejects `quorum_unavailable`.
   */
  transact<T>(fn: (tx: StoreTx) => Promise<T> | T): Promise<T> {
    return this.#lifecycle.transact(fn, async (body) => {
      for (let attempt = 1; ; attempt++) {
        let fenced: FencedError | undefined;
        /** Set once the callback returned: COMMIT is then sent, and a failure leaves the outcome unknown. */
        let committing = false;
        let timeline = 0;
        try {
          const result = (await this.#sql.begin(async (sql) => {
            const node = sql<NodeRow[]>`SELECT set_config('synchronous_commit', 'local', true),
              CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END AS walfile,
              coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port') AS node`.execute();
            node.catch(() => undefined);
            const tx = new PostgresTx(sql, this.#notice);
            const result = await body(tx);
            const [row] = await node;
            try {
              timeline = await admitNode(sql, this.#fence, row!);
            } catch (error) {
              if (error instanceof FencedError) fenced = error;
              throw error;
            }
            await tx.flush();
            committing = true;
            return result;
          })) as T;
          this.#committedOn = timeline;
          return result;
        } catch (error) {
          if (fenced !== undefined) {
            if (attempt <= this.#maxConnections + 1) continue;
            throw fenced;
          }
          // The connection failed before COMMIT was sent: nothing of the attempt committed (a
          // primary gone, a connection a fenced attempt just dropped, one cut under it), and it
          // runs again on another connection. A failure once COMMIT was sent leaves the outcome
          // unknown: it is not retried here (quorum_unavailable; the client re-sends, and pushes
          // are idempotent by dot).
          if (!committing && connectionDropped(error) && attempt <= this.#maxConnections + 1) continue;
          if (attempt >= MAX_ATTEMPTS || !retryable(error)) throw error;
        }
      }
    });
  }

  /** The primary's replication as last read (every `replicationCheckMs`, and when a barrier meets another setting). */
  replication(): StoreReplication {
    return this.#replication.current();
  }

  /** Confirms the commits made before the call at `quorum` or `all` (a sync barrier, then `pg_stat_replication`): see `LevelConfirmer`. */
  confirmLevel(level: 'quorum' | 'all', progress: (progress: LevelProgress) => void): () => void {
    if (this.closed) {
      progress({ level: 'relay', final: true, unavailable: true });
      return () => undefined;
    }
    return this.#confirmer.confirm(level, progress);
  }

  /** Hears the new timeline when a write or a barrier meets one above every one seen (a failover). */
  watchTimeline(listener: (timeline: number, previous: number) => void): () => void {
    return this.#fence.watch(listener);
  }

  /**
   * Only with `replicaUrl` (else `undefined`: reads are the primary's): waits (polling, at most
   * `timeoutMs`) until the standby shows the collection's head as the primary has it now.
   */
  readonly awaitReplica: ((collection: string, timeoutMs: number) => Promise<ReplicaPosition>) | undefined;

  /** The `meta` row this store's sync barriers write: one per store instance, removed at `close()`. */
  #barrierRow(): Buffer {
    return bytes(`sync_barrier:${this.#notice.instance}`);
  }

  get(collection: string, key: string): Promise<StoredDoc | undefined> {
    return this.#lifecycle.run('get', [collection, key], () => readDoc(this.#sql, collection, key));
  }

  head(collection: string): Promise<LogPosition> {
    return this.#lifecycle.run('head', [collection], () => readHead(this.#reads, collection));
  }

  decision(collection: string, key: string, dot: Dot): Promise<Decision | undefined> {
    return this.#lifecycle.run('decision', [collection, key, dot], () => readDecision(this.#sql, collection, key, dot));
  }

  writeHead(replicaId: ReplicaId): Promise<WriteHead> {
    return this.#lifecycle.run('writeHead', [replicaId], () => readWriteHead(this.#sql, replicaId));
  }

  getMeta(name: string): Promise<string | undefined> {
    return this.#lifecycle.run('getMeta', [name], () => readMeta(this.#sql, name));
  }

  setMeta(name: string, value: string | undefined): Promise<void> {
    return this.transact((tx) => tx.setMeta(name, value));
  }

  replicaOwner(replicaId: ReplicaId): Promise<string | undefined> {
    return this.#lifecycle.run('replicaOwner', [replicaId], () => readReplicaOwner(this.#sql, replicaId));
  }

  claimReplica(replicaId: ReplicaId, principalId: string): Promise<string> {
    return this.transact((tx) => tx.claimReplica(replicaId, principalId));
  }

  scan(collection: string, afterSeq: number, limit: number, prefix?: string): Promise<LoggedDoc[]> {
    return this.#lifecycle.run('scan', [collection, afterSeq, limit, prefix], () => scanLog(this.#reads, collection, afterSeq, limit, prefix));
  }

  hashAt(collection: string, seq: number): Promise<string | undefined> {
    return this.#lifecycle.run('hashAt', [collection, seq], () => readHashAt(this.#reads, collection, seq));
  }

  collections(): Promise<string[]> {
    return this.#lifecycle.run('collections', [], () => readCollections(this.#sql));
  }

  stats(): Promise<StoreStats> {
    return this.#lifecycle.run('stats', [], () => readStats(this.#sql, this.#schema));
  }

  /** Refused: back PostgreSQL up with its own tools (pg_dump, base backups, a provider's snapshots). */
  backup(_destPath: string): Promise<void> {
    return Promise.reject(
      this.closed
        ? new ConvergeError('internal', 'the PostgreSQL relay store is closed: backup() is no longer possible')
        : new ConvergeError(
            'internal',
            "the PostgreSQL relay store has no backup of its own: use PostgreSQL's backups (pg_dump, base backups with WAL archiving, your provider's snapshots)",
          ),
    );
  }

  /**
   * Listens (one connection of its own, re-established by the client) for the commit notices of
   * other stores on the same schema; after every (re)connect the listener hears `undefined`,
   * since notices sent meanwhile are lost.
   */
  watchCommits(listener: (commit: RemoteCommit | undefined) => void): () => void {
    return this.#commits.watch(listener);
  }

  /** Waits for running transactions, stops listening and ends the pool. */
  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      this.#replication.stop();
      this.#confirmer.close();
      await this.#sql`DELETE FROM meta WHERE name = ${this.#barrierRow()}`.catch(() => undefined);
      await this.#commits.stop();
      await Promise.all([this.#sql.end({ timeout: 5 }), this.#replica?.end({ timeout: 5 })]);
    });
  }
}

/** How long a relay reading from a standby waits for it to show a commit the primary announced before passing the notice on. */
const REPLAY_WAIT_MS = 5_000;
