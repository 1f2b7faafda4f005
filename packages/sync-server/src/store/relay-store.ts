import type { Dot, ReplicaId, WriteChain } from '@converge/conflict';

/** A document as the relay stores it: its merged state, opaque to the store, and the seq of its last change. */
export interface StoredDoc {
  readonly key: string;
  /** The encoded `DocState`. The store never parses it. */
  readonly state: string;
  /** The seq of the key's last change in its collection. */
  readonly seq: number;
}

/** A document as a scan of the log finds it: with the chain hash of the log through its seq. */
export interface LoggedDoc extends StoredDoc {
  readonly hash: string;
}

/** A point in a collection's log: a seq and the chain hash of the log through it. */
export interface LogPosition {
  readonly seq: number;
  readonly hash: string;
}

/**
 * The leader's decision on one write (one dot) in a leader-follower collection, recorded so
 * that a re-send is answered with the same decision. `content` fingerprints the decided write
 * (its sibling), so the same dot arriving with other content is recognised as a reused replica
 * id even after the write was superseded or refused; decisions recorded by an older relay may
 * lack it.
 */
export type Decision =
  { readonly status: 'accepted'; readonly seq: number; readonly content?: string } | { readonly status: 'rejected'; readonly content?: string };

/**
 * The latest write the relay has seen from a replica: the highest write number any of its
 * pushes carried, and the replica's write chain through it (`chainWrite` in
 * @converge/conflict). `{ writeNumber: 0, chain: WRITE_CHAIN_ZERO }` for a replica never seen.
 */
export interface WriteHead {
  readonly writeNumber: number;
  readonly chain: WriteChain;
}

export interface CollectionStats {
  readonly name: string;
  /** Keys held in the collection (each key counts once, however often it changed). */
  readonly keys: number;
  /** The head seq: how many changes the collection has committed. */
  readonly seq: number;
}

export interface StoreStats {
  /** One entry per collection with at least one change, ordered by name. */
  readonly collections: readonly CollectionStats[];
  /** Storage size in bytes: database pages for SQLite, an estimate of held strings in memory. */
  readonly bytes: number;
}

/** A leader decision a transaction will read (`StoreTx.decision`). */
export interface DecisionRef {
  readonly collection: string;
  readonly key: string;
  readonly dot: Dot;
}

/**
 * What a transaction is about to read, so a store fetches it together: SQLite with one
 * statement per collection instead of one per key, PostgreSQL in one round trip for the whole
 * group commit. Reads answer the same with or without it.
 */
export interface Prefetch {
  /** Per collection, keys whose docs `get` will be asked for. */
  readonly docs?: ReadonlyMap<string, readonly string[]>;
  /** Leader decisions `decision` will be asked for. */
  readonly decisions?: readonly DecisionRef[];
  /** Replicas whose latest writes `writeHead` will be asked for. */
  readonly writeHeads?: readonly ReplicaId[];
}

/** Reads available both on the store and inside a transaction. */
export interface StoreReads {
  /** The key's state and the seq of its last change, or `undefined` for a key never written. */
  get(collection: string, key: string): Promise<StoredDoc | undefined>;
  /** The last committed position of the collection's log; `{ seq: 0, hash: CHAIN_HASH_ZERO }` when it has none. */
  head(collection: string): Promise<LogPosition>;
  /** The decision recorded for this write, or `undefined` when none was recorded. */
  decision(collection: string, key: string, dot: Dot): Promise<Decision | undefined>;
  /** The replica's latest write as noted (`noteWrite`). */
  writeHead(replicaId: ReplicaId): Promise<WriteHead>;
  /** A small operational value (e.g. a recovery-window deadline), or `undefined`. */
  getMeta(name: string): Promise<string | undefined>;
  /** The principal id the replica id is bound to, or `undefined` while it has none. */
  replicaOwner(replicaId: ReplicaId): Promise<string | undefined>;
}

/**
 * The writes of one transaction. Its reads see the transaction's own earlier writes. Any error
 * one of its methods rejects with dooms the transaction: `transact` rolls back and rejects
 * with that error even if the callback caught it. Using it after its transaction ended
 * rejects.
 */
export interface StoreTx extends StoreReads {
  /** Fetches what the transaction is about to read (see `Prefetch`). */
  prefetch(reads: Prefetch): Promise<void>;
  /**
   * Stores the key's new merged state as the collection's next change: assigns seq = head + 1,
   * moves the key to that seq in the by-seq index (it no longer appears at its old seq), and
   * extends the chain hash: `h(seq) = H(h(seq − 1), collection, key, dot)`, `dot` being the
   * write that caused the change. Every put is a change and consumes a seq; the caller skips
   * puts that change nothing.
   */
  put(collection: string, key: string, state: string, dot: Dot): Promise<LogPosition>;
  /**
   * Records the leader's decision on a write. Recording the same decision again is a no-op; a
   * different decision for a dot already decided, or an accepted seq beyond the head, rejects.
   */
  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): Promise<void>;
  /**
   * Keeps the replica's latest write: `head` replaces the noted one only when its write number
   * is higher (an equal or lower one changes nothing).
   */
  noteWrite(replicaId: ReplicaId, head: WriteHead): Promise<void>;
  /** Sets a meta value; `undefined` removes it. */
  setMeta(name: string, value: string | undefined): Promise<void>;
  /**
   * Binds the replica id to `principalId` unless it is bound already, and resolves to its
   * owner: `principalId`, or the principal it was bound to before (the binding never changes).
   */
  claimReplica(replicaId: ReplicaId, principalId: string): Promise<string>;
  /**
   * The same transaction answering at once, where the store runs in the relay's process
   * (`SqliteStore`, `MemoryStore`); `undefined` where answers cross a network
   * (`PostgresStore`). Its methods check their arguments and doom the transaction on error
   * exactly as the ones above do, but return their answer (or throw) instead of a promise, so a
   * caller judging many changes needs no promise per call. Valid only inside the callback too.
   */
  readonly direct?: DirectStoreTx | undefined;
}

/** `StoreTx` answering at once: each method returns (or throws) what `StoreTx`'s promises resolve to (or reject with). */
export type DirectStoreTx = {
  readonly [K in Exclude<keyof StoreTx, 'direct'>]-?: StoreTx[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

/** A commit another process made to a shared store: the collection and its new head seq. */
export interface RemoteCommit {
  /** `undefined` when the notice could not name it (every collection may have moved). */
  readonly collection: string | undefined;
  readonly seq: number;
}

/** One standby as the relay reports it in metrics: how far it trails the primary. */
export interface StandbyLag {
  readonly name: string;
  /** `streaming`, `catchup`, … as the primary lists it. */
  readonly state: string;
  /** WAL bytes the primary wrote that the standby has not flushed (`null`: unknown). */
  readonly bytes: number | null;
  /** PostgreSQL's replay lag in seconds (`null` when idle and caught up, or unknown). */
  readonly seconds: number | null;
}

/**
 * What a store's replication provides, as last read: `standbys` (N) database replicas and the
 * `quorum` (k) of them that must confirm a write for `quorum`. `{standbys: 0, quorum: 0}` for a
 * store without synchronous standbys (SQLite, memory, PostgreSQL without
 * `synchronous_standby_names`): `quorum` and `all` are unavailable.
 */
export interface StoreReplication {
  readonly standbys: number;
  readonly quorum: number;
  /** `primary` for the database the relay writes to; `embedded` for SQLite and memory. */
  readonly role: 'primary' | 'embedded';
  /** The PostgreSQL timeline the relay writes on (the highest seen); `undefined` for embedded stores. */
  readonly timeline: number | undefined;
  readonly lag: readonly StandbyLag[];
  /** A standby the relay reads from (`replicaUrl`): its lag behind the primary in bytes of WAL replayed; `undefined` without one. */
  readonly readReplicaLagBytes?: number | undefined;
  /** …and in seconds since the last transaction it replayed committed (high while the primary is idle). */
  readonly readReplicaLagSeconds?: number | undefined;
}

/** The replication of a store that has none. */
export const NO_REPLICATION: StoreReplication = Object.freeze({ standbys: 0, quorum: 0, role: 'embedded', timeline: undefined, lag: Object.freeze([]) });

/**
 * How far the commits a store made before a `confirmLevel` call got, reported as it learns it:
 * `level` is the highest level confirmed so far; `final` says nothing higher will come (the
 * level asked for was reached, or `unavailable`: the store cannot provide it — no synchronous
 * standby, the setting cleared, or a failover to a new timeline that the commits may not have
 * reached).
 */
export interface LevelProgress {
  readonly level: 'relay' | 'quorum' | 'all';
  readonly final: boolean;
  readonly unavailable?: boolean;
}

/**
 * Where a store that can read from a standby stands for one collection when a subscription
 * starts: `caughtUp` once the standby has replayed everything the primary had committed when
 * asked (so a client sees its own acknowledged writes, and nothing older than its cursor).
 */
export interface ReplicaPosition {
  readonly caughtUp: boolean;
  readonly primarySeq: number;
  readonly replicaSeq: number;
}

/**
 * The relay's storage: per collection, the merged state of each key with the seq of its last
 * change; the by-seq index is the collection's log. Implementations: `SqliteStore` (embedded
 * default, a file or `:memory:`), `PostgresStore` (several relay processes over one
 * database) and `MemoryStore` (tests). Every implementation runs `runRelayStoreTests` from
 * `@converge/sync-server/testing`.
 *
 * Every method is asynchronous, so a store may sit across a network. Contract:
 * - **Atomicity.** `transact(fn)` runs `fn` (which may await the `StoreTx`'s methods, and
 *   nothing else of the store) as one transaction: all of its writes are kept or none. If `fn`
 *   throws or rejects (or a `StoreTx` method rejected, even if `fn` caught it), nothing is
 *   kept, no seq is consumed, and `transact` rejects with that error as is.
 * - **Isolation.** A transaction's writes are invisible outside it until it commits: the
 *   store's own reads, made while a transaction runs, see committed data only. Inside `fn`,
 *   read and write through the `StoreTx` only: never call the store's own `transact` or
 *   `close` from inside `fn` (they may wait for `fn` and never resolve). Writes to one collection are serialized:
 *   a transaction that reads or writes a collection holds it until it commits (SQLite and
 *   memory run one transaction at a time; PostgreSQL locks the collection's head row), so a
 *   key's read-merge-write and a leader's compare-and-set see every earlier commit.
 * - **Ordering.** Seqs are per collection, start at 1, are gap-free and are assigned in
 *   commit order, also across processes sharing a database: a reader never sees seq n + 1
 *   while n is uncommitted. A key appears in the log once, at the seq of its last change.
 *   `hashAt` keeps the chain hash of every seq forever, also after its key moved on.
 * - **Durability.** When `transact` resolves, its writes are durable (SQLite: WAL with
 *   `synchronous=FULL`; PostgreSQL: committed) and visible to every later read. Only then may
 *   the relay acknowledge. When it rejects, nothing may be acknowledged. A store that loses its
 *   connection while committing cannot know whether the commit happened: it rejects with a
 *   `ConvergeError('quorum_unavailable')` (outcome unknown, nothing acknowledged; the writer
 *   re-sends, which is safe because pushes are idempotent by dot).
 * - **Identity.** `lineage` is random (≥ 96 bits), created once with the database and kept
 *   in it: reopening the same database gives the same lineage, a new (wiped) database a new
 *   one, a restored backup the lineage of the database it copied.
 * - **Closing.** `close()` waits for running transactions, flushes what the engine still
 *   buffers (SQLite checkpoints its WAL; every commit is durable already), releases the
 *   database and is idempotent; afterwards every other method rejects with a `ConvergeError`
 *   (`internal`, "closed"). A backup still running fails and leaves no new file.
 *
 * Arguments are checked: collections, keys and prefixes must be well-formed UTF-16 strings,
 * dots valid, seqs and limits safe integers; otherwise the call rejects with a
 * `ConvergeError('bad_message')` naming the argument and nothing changes.
 */
export interface RelayStore extends StoreReads {
  /** This database's random id. */
  readonly lineage: string;
  /** When this database was created, in ms since the epoch. */
  readonly createdAt: number;
  readonly closed: boolean;
  /** Runs `fn` as one atomic, durable transaction and resolves to its result. */
  transact<T>(fn: (tx: StoreTx) => Promise<T> | T): Promise<T>;
  /**
   * Up to `limit` keys whose last change has seq > `afterSeq`, by seq ascending, each with the
   * chain hash through its seq; with a
   * non-empty `prefix`, only keys starting with it (plain string prefix, no pattern characters).
   * One consistent read of the log: without a prefix, when fewer than `limit` keys come back,
   * the last one's seq was the head.
   */
  scan(collection: string, afterSeq: number, limit: number, prefix?: string): Promise<LoggedDoc[]>;
  /** The chain hash of the log through `seq` (`CHAIN_HASH_ZERO` for 0), `undefined` beyond the head. */
  hashAt(collection: string, seq: number): Promise<string | undefined>;
  /** Collections with at least one change, ordered by name. */
  collections(): Promise<string[]>;
  /** Sets a meta value in a transaction of its own; `undefined` removes it. */
  setMeta(name: string, value: string | undefined): Promise<void>;
  /** `StoreTx.claimReplica` in a transaction of its own. */
  claimReplica(replicaId: ReplicaId, principalId: string): Promise<string>;
  /** Sizes for metrics. */
  stats(): Promise<StoreStats>;
  /**
   * Writes a consistent copy of the database to `destPath` (overwritten), which a store of the
   * same kind opens with the same lineage and content. Writes may continue meanwhile. A store
   * that keeps nothing on disk, or whose engine has backups of its own (PostgreSQL), rejects
   * with a `ConvergeError`.
   */
  backup(destPath: string): Promise<void>;
  /**
   * Only stores shared by several relay processes (PostgreSQL): calls `listener` for commits
   * other processes made, as they are announced (a notice may be lost: a reader that must not
   * miss a change also checks heads now and then), and once with no commit whenever the
   * announcements may have lapsed (a reconnect). Returns a function that stops listening.
   */
  watchCommits?(listener: (commit: RemoteCommit | undefined) => void): () => void;
  /**
   * The store's replication as last read (PostgreSQL re-reads it every few seconds and after a
   * setting change it meets); absent: `NO_REPLICATION`.
   */
  replication?(): StoreReplication;
  /**
   * Only stores with synchronous standbys (PostgreSQL): confirms every commit this store made
   * before the call at `level`, calling `progress` each time the confirmed level rises and once
   * with `final`. It never cancels a synchronous wait and has no deadline of its own: a caller
   * that stops caring calls the returned function (the wait goes on for others). Confirmed
   * levels are PostgreSQL's: a cancelled wait, a setting cleared under it or a new timeline
   * never count as reached.
   */
  confirmLevel?(level: 'quorum' | 'all', progress: (progress: LevelProgress) => void): () => void;
  /**
   * Only stores whose timeline can change (PostgreSQL): `listener` hears the new timeline when
   * the store meets one higher than any it saw (a failover), after which commits acknowledged
   * only at `relay` before it may be lost. Returns a function that stops listening.
   */
  watchTimeline?(listener: (timeline: number, previous: number) => void): () => void;
  /**
   * Only stores that read from a standby: waits (at most `timeoutMs`) until the standby has
   * replayed the collection's commits through the primary's head as read now.
   */
  readonly awaitReplica?: ((collection: string, timeoutMs: number) => Promise<ReplicaPosition>) | undefined;
  /** Releases the database; see "Closing" above. */
  close(): Promise<void>;
}
