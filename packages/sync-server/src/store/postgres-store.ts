import { randomBytes } from 'node:crypto';
import { ConvergeError, WRITE_CHAIN_ZERO, type Dot, type ReplicaId } from '@converge/conflict';
import postgres, { type Sql } from 'postgres';
import { CHAIN_HASH_ZERO } from './chain-hash.js';
import { prefixUpperBound } from './key-prefix.js';
import { checkSchemaName, migratePostgres, POSTGRES_SCHEMA_VERSION } from './postgres-schema.js';
import { PostgresTx, bytes, text } from './postgres-tx.js';
import { LevelConfirmer } from './pg-level-confirmer.js';
import { ReplicationWatch } from './pg-replication-watch.js';
import { timeline as timelineOf } from './pg-replication-timeline.js';
import { admitNode, FencedError, TimelineFence, type NodeRow } from './pg-timeline-fence.js';
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

export interface PostgresStoreOptions {
  /** The schema the relay's tables live in (created and migrated on open). Default `converge`. */
  readonly schema?: string;
  /** Connections in the pool. Default 10. */
  readonly maxConnections?: number;
  /**
   * Seconds to wait for a connection, per host. Default 5. A frozen node (SIGSTOP, a hung VM)
   * accepts TCP connections and never answers: this is what moves the pool on to the next host.
   */
  readonly connectTimeoutSeconds?: number;
  /** TCP keepalive of the pool's connections, seconds. Default 10. */
  readonly keepAliveSeconds?: number;
  /**
   * `statement_timeout` of the pool's connections, ms (0: none). Default 30,000. Bounds reads and
   * the statements of a write; never the synchronous wait of a commit (PostgreSQL does not apply
   * it there, and the barrier that waits for standbys turns it off in its own transaction). The
   * pool has no client-side query timeout: one would cancel a synchronous wait, which commits
   * locally all the same.
   */
  readonly statementTimeoutMs?: number;
  /**
   * A standby to read catch-up and live changes from (follower reads), e.g. the local replica of
   * a region; writes still go to the primary (`url`). Default: none, every read goes to the
   * primary.
   */
  readonly replicaUrl?: string;
  /** Connections in the pool reading from `replicaUrl`. Default 5. */
  readonly replicaConnections?: number;
  /** How often the primary's replication (`synchronous_standby_names`, standbys, lag) is re-read, ms. Default 5,000. */
  readonly replicationCheckMs?: number;
  /** `application_name` of its connections (what `pg_stat_activity` shows). Default `converge-relay`. */
  readonly applicationName?: string;
  /** The clock for `createdAt` of a new schema; `Date.now` by default. */
  readonly now?: () => number;
}

/** How the store is connected, for the relay's start-up log (no password). */
export interface PostgresStoreInfo {
  readonly hosts: readonly string[];
  readonly database: string;
  readonly schema: string;
  readonly schemaVersion: number;
  readonly serverVersion: string;
  /** The timeline writes go to (the highest the relay has seen). */
  readonly timeline: number;
  /** The hosts of `replicaUrl`, when reads go to a standby. */
  readonly replicaHosts?: readonly string[];
}

/** Connection failures: after one, nobody knows whether the commit in flight happened. */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
/** Conflicts PostgreSQL resolves by aborting one transaction: it is run again. */
const RETRY_CODES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 3;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * PostgreSQL's errors as `ConvergeError`s. A lost connection, a server shutting down or a
 * read-only server (a standby, after a failover) is `quorum_unavailable`: whatever was in
 * flight may or may not have committed, nothing is acknowledged, and the writer re-sends. A
 * full disk is `storage_quota`; anything else `internal`.
 */
export function translatePostgresError(error: unknown): unknown {
  if (error instanceof ConvergeError) return error;
  const code = codeOf(error);
  if (code === undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P') || code === '25006') {
    return new ConvergeError('quorum_unavailable', `relay database unreachable or not writable (${code}): ${message}; the outcome of the commit is unknown`, {
      cause: error,
    });
  }
  return new ConvergeError(code === '53100' ? 'storage_quota' : 'internal', `relay database: ${message} (${code})`, { cause: error });
}

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
  readonly #listeners = new Set<(commit: RemoteCommit | undefined) => void>();
  #listening: Promise<{ unlisten(): Promise<void> } | undefined> | undefined;
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
    this.#maxConnections = settings.maxConnections;
    this.#fence = new TimelineFence(info.timeline);
    this.awaitReplica =
      replica === undefined
        ? undefined
        : (collection, timeoutMs) =>
            this.#lifecycle.run('awaitReplica', [collection], async () => {
              const primarySeq = await headSeq(sql, collection);
              const replicaSeq = await this.#replayed(collection, primarySeq, Date.now() + timeoutMs);
              return { caughtUp: replicaSeq >= primarySeq, primarySeq, replicaSeq };
            });
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
    const pool = (target: string, max: number) =>
      postgres(target, {
        max,
        ...primaryForReadWrite(target),
        connect_timeout: options.connectTimeoutSeconds ?? 5,
        keep_alive: options.keepAliveSeconds ?? 10,
        idle_timeout: 60,
        onnotice: () => undefined,
        connection: {
          application_name: options.applicationName ?? 'converge-relay',
          search_path: schema,
          statement_timeout: options.statementTimeoutMs ?? 30_000,
        },
        // bigint columns as numbers: every seq, counter and write number is a safe integer.
        types: { bigint: { to: 20, from: [20], serialize: (value: number) => String(value), parse: (value: string) => Number(value) } },
      });
    const sql = pool(url, maxConnections);
    const replica = options.replicaUrl === undefined ? undefined : pool(options.replicaUrl, options.replicaConnections ?? 5);
    try {
      const identity = await migratePostgres(sql, schema, options.now ?? Date.now);
      const [[version], timeline] = await Promise.all([sql<{ server_version: string }[]>`SHOW server_version`, highestTimeline(url, sql)]);
      const { host, database } = sql.options;
      const info: PostgresStoreInfo = {
        hosts: host,
        database: database ?? '',
        schema,
        schemaVersion: POSTGRES_SCHEMA_VERSION,
        serverVersion: version?.server_version ?? '',
        timeline,
        ...(replica === undefined ? {} : { replicaHosts: replica.options.host }),
      };
      if (replica !== undefined) await replica`SELECT 1`;
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
          const dropped = CONNECTION_CODES.has(codeOf(error) ?? '') || (codeOf(error) ?? '').startsWith('57P');
          if (!committing && dropped && attempt <= this.#maxConnections + 1) continue;
          if (attempt >= MAX_ATTEMPTS || !RETRY_CODES.has(codeOf(error) ?? '')) throw error;
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

  /** Polls the standby until it shows `seq` of the collection or `deadline` passes; resolves to the seq it shows. */
  async #replayed(collection: string, seq: number, deadline: number): Promise<number> {
    let interval = 1;
    let shown = 0;
    for (;;) {
      // A frozen standby accepts the query and never answers: the deadline bounds the wait all the same.
      const left = Math.max(1, deadline - Date.now());
      let timer: ReturnType<typeof setTimeout> | undefined;
      const read = headSeq(this.#reads, collection).then((seen) => (shown = seen));
      read.catch(() => undefined);
      await Promise.race([read, new Promise((resolve) => (timer = setTimeout(resolve, left)))]).finally(() => clearTimeout(timer));
      if (shown >= seq || Date.now() >= deadline || this.closed) return shown;
      await new Promise((resolve) => setTimeout(resolve, Math.min(interval, Math.max(1, deadline - Date.now()))));
      interval = Math.min(interval * 2, 50);
    }
  }

  get(collection: string, key: string): Promise<StoredDoc | undefined> {
    return this.#lifecycle.run('get', [collection, key], async () => {
      const [row] = await this.#sql<
        { seq: number; state: Buffer }[]
      >`SELECT seq, state FROM docs WHERE collection = ${bytes(collection)} AND key = ${bytes(key)}`;
      return row === undefined ? undefined : { key, state: text(row.state), seq: row.seq };
    });
  }

  head(collection: string): Promise<LogPosition> {
    return this.#lifecycle.run('head', [collection], async () => {
      const [row] = await this.#reads<{ head_seq: number; head_hash: string }[]>`SELECT head_seq, head_hash FROM collections WHERE name = ${bytes(collection)}`;
      return row === undefined ? { seq: 0, hash: CHAIN_HASH_ZERO } : { seq: row.head_seq, hash: row.head_hash };
    });
  }

  decision(collection: string, key: string, dot: Dot): Promise<Decision | undefined> {
    return this.#lifecycle.run('decision', [collection, key, dot], async () => {
      const [row] = await this.#sql<{ seq: number | null; content: Buffer | null }[]>`SELECT seq, content FROM decisions
        WHERE collection = ${bytes(collection)} AND key = ${bytes(key)} AND replica = ${dot[0]} AND counter = ${dot[1]}`;
      if (row === undefined) return undefined;
      const content = row.content === null ? {} : { content: text(row.content) };
      return row.seq === null ? { status: 'rejected' as const, ...content } : { status: 'accepted' as const, seq: row.seq, ...content };
    });
  }

  writeHead(replicaId: ReplicaId): Promise<WriteHead> {
    return this.#lifecycle.run('writeHead', [replicaId], async () => {
      const [row] = await this.#sql<{ n: number; chain: string }[]>`SELECT n, chain FROM write_numbers WHERE replica = ${replicaId}`;
      return row === undefined ? { writeNumber: 0, chain: WRITE_CHAIN_ZERO } : { writeNumber: row.n, chain: row.chain };
    });
  }

  getMeta(name: string): Promise<string | undefined> {
    return this.#lifecycle.run('getMeta', [name], async () => {
      const [row] = await this.#sql<{ value: Buffer }[]>`SELECT value FROM meta WHERE name = ${bytes(name)}`;
      return row === undefined ? undefined : text(row.value);
    });
  }

  setMeta(name: string, value: string | undefined): Promise<void> {
    return this.transact((tx) => tx.setMeta(name, value));
  }

  replicaOwner(replicaId: ReplicaId): Promise<string | undefined> {
    return this.#lifecycle.run('replicaOwner', [replicaId], async () => {
      const [row] = await this.#sql<{ principal: Buffer }[]>`SELECT principal FROM replica_owners WHERE replica = ${replicaId}`;
      return row === undefined ? undefined : text(row.principal);
    });
  }

  claimReplica(replicaId: ReplicaId, principalId: string): Promise<string> {
    return this.transact((tx) => tx.claimReplica(replicaId, principalId));
  }

  scan(collection: string, afterSeq: number, limit: number, prefix?: string): Promise<LoggedDoc[]> {
    return this.#lifecycle.run('scan', [collection, afterSeq, limit, prefix], async () => {
      const sql = this.#reads;
      const name = bytes(collection);
      type Row = { key: Buffer; seq: number; state: Buffer; hash: string };
      let rows: Row[];
      if (prefix === undefined || prefix === '') {
        rows = await sql<Row[]>`SELECT key, seq, state, hash FROM docs WHERE collection = ${name} AND seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`;
      } else {
        // Keys are UTF-8 bytes, whose order is code point order: the prefix is a key range.
        const upper = prefixUpperBound(prefix);
        rows =
          upper === undefined
            ? await sql<Row[]>`SELECT key, seq, state, hash FROM docs WHERE collection = ${name} AND seq > ${afterSeq}
                AND key >= ${bytes(prefix)} ORDER BY seq LIMIT ${limit}`
            : await sql<Row[]>`SELECT key, seq, state, hash FROM docs WHERE collection = ${name} AND seq > ${afterSeq}
                AND key >= ${bytes(prefix)} AND key < ${bytes(upper)} ORDER BY seq LIMIT ${limit}`;
      }
      return rows.map((row) => ({ key: text(row.key), seq: row.seq, state: text(row.state), hash: row.hash }));
    });
  }

  hashAt(collection: string, seq: number): Promise<string | undefined> {
    return this.#lifecycle.run('hashAt', [collection, seq], async () => {
      if (seq === 0) return CHAIN_HASH_ZERO;
      const [row] = await this.#reads<{ hash: string }[]>`SELECT hash FROM chain WHERE collection = ${bytes(collection)} AND seq = ${seq}`;
      return row?.hash;
    });
  }

  collections(): Promise<string[]> {
    return this.#lifecycle.run('collections', [], async () => {
      const rows = await this.#sql<{ name: Buffer }[]>`SELECT name FROM collections WHERE head_seq > 0`;
      return rows.map((row) => text(row.name)).sort();
    });
  }

  stats(): Promise<StoreStats> {
    return this.#lifecycle.run('stats', [], async () => {
      const [rows, [size]] = await Promise.all([
        this.#sql<{ name: Buffer; keys: number; head_seq: number }[]>`SELECT name, keys, head_seq FROM collections WHERE head_seq > 0`,
        this.#sql<{ bytes: number }[]>`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::int8 AS bytes FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${this.#schema} AND c.relkind = 'r'`,
      ]);
      const collections = rows
        .map((row) => ({ name: text(row.name), keys: row.keys, seq: row.head_seq }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      return { collections, bytes: size?.bytes ?? 0 };
    });
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
    this.#listeners.add(listener);
    this.#listening ??= this.#sql
      .listen(
        this.#notice.channel,
        (payload) => {
          const notice = parseNotice(payload);
          if (notice === undefined || notice.instance === this.#notice.instance) return;
          const tell = () => {
            for (const each of this.#listeners) each(notice.commit);
          };
          // A hot standby cannot LISTEN: a relay reading from one hears the primary's notice and
          // passes it on once its standby shows the commit (or after a bounded wait: the head
          // check heals the rest).
          const { collection, seq } = notice.commit;
          if (this.#replica === undefined || collection === undefined) tell();
          else void this.#replayed(collection, seq, Date.now() + REPLAY_WAIT_MS).then(tell, tell);
        },
        () => {
          for (const each of this.#listeners) each(undefined);
        },
      )
      .then(
        (request) => request,
        () => undefined,
      );
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Waits for running transactions, stops listening and ends the pool. */
  close(): Promise<void> {
    return this.#lifecycle.close(async () => {
      this.#replication.stop();
      this.#confirmer.close();
      await this.#sql`DELETE FROM meta WHERE name = ${this.#barrierRow()}`.catch(() => undefined);
      const listening = await this.#listening;
      await listening?.unlisten().catch(() => undefined);
      await Promise.all([this.#sql.end({ timeout: 5 }), this.#replica?.end({ timeout: 5 })]);
    });
  }
}

/** How long a relay reading from a standby waits for it to show a commit the primary announced before passing the notice on. */
const REPLAY_WAIT_MS = 5_000;

async function headSeq(sql: Sql, collection: string): Promise<number> {
  const [row] = await sql<{ head_seq: number }[]>`SELECT head_seq FROM collections WHERE name = ${bytes(collection)}`;
  return row?.head_seq ?? 0;
}

/**
 * `target_session_attrs: 'primary'` when `url` asks for `read-write`. The client library judges
 * read-write by `default_transaction_read_only` alone, which a hot standby reports as off, so a
 * pool told read-write connects to a standby listed first (every write then fails as read-only,
 * and after a failover a pool on the standby that was not promoted stays there). `primary` (not
 * in hot standby) is what libpq means by read-write; an old primary back as it was passes
 * either, and the timeline fence keeps writes off it.
 */
function primaryForReadWrite(url: string): { target_session_attrs?: 'primary' } {
  const match = /[?&]target_session_attrs=([^&]*)/.exec(url);
  return match?.[1] === 'read-write' ? { target_session_attrs: 'primary' } : {};
}

/**
 * The highest timeline among the nodes `url` lists (each asked on its own, for at most 2 s;
 * nodes that do not answer are left out) and the node the pool reached: the fence a relay
 * starts with, so that a relay started while an old primary is back as it was (listed first)
 * still writes only to the new one, when that one answers.
 */
async function highestTimeline(url: string, sql: Sql): Promise<number> {
  const { host, port } = sql.options;
  const probes =
    host.length < 2
      ? []
      : host.map(async (name, i) => {
          const probe = postgres(url, { host: name, port: Number(port[i] ?? port[0]), max: 1, connect_timeout: 2, onnotice: () => undefined });
          try {
            return await timelineOf(probe);
          } catch {
            return 0;
          } finally {
            await probe.end({ timeout: 1 }).catch(() => undefined);
          }
        });
  const found = await Promise.all([timelineOf(sql), ...probes]);
  return Math.max(...found);
}

function parseNotice(payload: string): { instance: string; commit: RemoteCommit } | undefined {
  try {
    const { i, c, s } = JSON.parse(payload) as { i?: unknown; c?: unknown; s?: unknown };
    if (typeof i !== 'string' || typeof s !== 'number') return undefined;
    return { instance: i, commit: { collection: typeof c === 'string' ? c : undefined, seq: s } };
  } catch {
    return undefined;
  }
}
