import type { Dot, ReplicaId, WriteChain } from '@converge/conflict';

/** A document as the relay stores it: its merged state, opaque to the store, and the seq of its last change. */
export interface StoredDoc {
  readonly key: string;
  /** The encoded `DocState`. The store never parses it. */
  readonly state: string;
  /** The seq of the key's last change in its collection. */
  readonly seq: number;
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

/** Reads available both on the store and inside a transaction. */
export interface StoreReads {
  /** The key's state and the seq of its last change, or `undefined` for a key never written. */
  get(collection: string, key: string): StoredDoc | undefined;
  /** The last committed position of the collection's log; `{ seq: 0, hash: CHAIN_HASH_ZERO }` when it has none. */
  head(collection: string): LogPosition;
  /** The decision recorded for this write, or `undefined` when none was recorded. */
  decision(collection: string, key: string, dot: Dot): Decision | undefined;
  /** The replica's latest write as noted (`noteWrite`). */
  writeHead(replicaId: ReplicaId): WriteHead;
  /** A small operational value (e.g. a recovery-window deadline), or `undefined`. */
  getMeta(name: string): string | undefined;
  /** The principal id the replica id is bound to, or `undefined` while it has none. */
  replicaOwner(replicaId: ReplicaId): string | undefined;
}

/**
 * The writes of one transaction. Its reads see the transaction's own earlier writes. Any error
 * thrown by one of its methods dooms the transaction: `transact` rolls back and rethrows that
 * error even if the callback caught it. Using it after its transaction ended throws.
 */
export interface StoreTx extends StoreReads {
  /**
   * Stores the key's new merged state as the collection's next change: assigns seq = head + 1,
   * moves the key to that seq in the by-seq index (it no longer appears at its old seq), and
   * extends the chain hash: `h(seq) = H(h(seq − 1), collection, key, dot)`, `dot` being the
   * write that caused the change. Every put is a change and consumes a seq; the caller skips
   * puts that change nothing.
   */
  put(collection: string, key: string, state: string, dot: Dot): LogPosition;
  /**
   * A hint that `get` will be asked for these keys of the collection next: a store may read
   * them together now (SQLite: one statement instead of one per key). Optional; it changes
   * nothing that reads return.
   */
  prefetch?(collection: string, keys: readonly string[]): void;
  /**
   * Records the leader's decision on a write. Recording the same decision again is a no-op; a
   * different decision for a dot already decided, or an accepted seq beyond the head, throws.
   */
  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): void;
  /**
   * Keeps the replica's latest write: `head` replaces the noted one only when its write number
   * is higher (an equal or lower one changes nothing).
   */
  noteWrite(replicaId: ReplicaId, head: WriteHead): void;
  /** Sets a meta value; `undefined` removes it. */
  setMeta(name: string, value: string | undefined): void;
  /**
   * Binds the replica id to `principalId` unless it is bound already, and returns its owner:
   * `principalId`, or the principal it was bound to before (the binding never changes).
   */
  claimReplica(replicaId: ReplicaId, principalId: string): string;
}

/**
 * The relay's storage: per collection, the merged state of each key with the seq of its last
 * change; the by-seq index is the collection's log. Implementations: `SqliteStore` (embedded
 * default, a file or `:memory:`) and `MemoryStore` (tests). Every implementation runs
 * `runRelayStoreTests` from `@converge/sync-server/testing`.
 *
 * Contract:
 * - **Atomicity.** `transact(fn)` runs `fn` synchronously in one transaction: all of its
 *   writes are kept or none. If `fn` throws (or a `StoreTx` method threw, even if `fn` caught
 *   it), nothing is kept, no seq is consumed, and the error is rethrown as is. `fn` must not
 *   return a promise (refused). Transactions do not nest.
 * - **Ordering.** Seqs are per collection, start at 1, are gap-free and are assigned in commit
 *   order; a reader never sees seq n + 1 while n is pending (there is one writer and `transact`
 *   is synchronous). A key appears in the log once, at the seq of its last change.
 *   `hashAt` keeps the chain hash of every seq forever, also after its key moved on.
 * - **Durability.** When `transact` returns, its writes are durable (SQLite: WAL with
 *   `synchronous=FULL`) and visible to every later read. Only then may the relay acknowledge.
 * - **Isolation.** While `fn` runs, the store's own methods throw: read and write through
 *   the `StoreTx`. Outside a transaction, reads see every committed transaction.
 * - **Identity.** `lineage` is random (≥ 96 bits), created once with the database and kept
 *   in it: reopening the same database gives the same lineage, a new (wiped) database a new
 *   one, a restored backup the lineage of the database it copied.
 * - **Closing.** `close()` flushes what the engine still buffers (SQLite checkpoints its WAL;
 *   every commit is durable already), releases the database and is idempotent; afterwards
 *   every other method throws a `ConvergeError` (`internal`, "closed"). A backup still running
 *   fails and leaves no new file. `close()` inside `fn` throws and leaves the store open.
 *
 * Arguments are checked: collections, keys and prefixes must be well-formed UTF-16 strings,
 * dots valid, seqs and limits safe integers; otherwise a `ConvergeError('bad_message')`
 * naming the argument is thrown and nothing changes.
 */
export interface RelayStore extends StoreReads {
  /** This database's random id. */
  readonly lineage: string;
  /** When this database was created, in ms since the epoch. */
  readonly createdAt: number;
  readonly closed: boolean;
  /** Runs `fn` as one atomic, durable transaction and returns its result. */
  transact<T>(fn: (tx: StoreTx) => T): T;
  /**
   * Up to `limit` keys whose last change has seq > `afterSeq`, by seq ascending; with a
   * non-empty `prefix`, only keys starting with it (plain string prefix, no pattern characters).
   */
  scan(collection: string, afterSeq: number, limit: number, prefix?: string): StoredDoc[];
  /** The chain hash of the log through `seq` (`CHAIN_HASH_ZERO` for 0), `undefined` beyond the head. */
  hashAt(collection: string, seq: number): string | undefined;
  /** Collections with at least one change, ordered by name. */
  collections(): string[];
  /** Sets a meta value in a transaction of its own; `undefined` removes it. */
  setMeta(name: string, value: string | undefined): void;
  /** `StoreTx.claimReplica` in a transaction of its own. */
  claimReplica(replicaId: ReplicaId, principalId: string): string;
  /** Sizes for metrics. */
  stats(): StoreStats;
  /**
   * Writes a consistent copy of the database to `destPath` (overwritten), which a store of the
   * same kind opens with the same lineage and content. Writes may continue meanwhile. A store
   * that keeps nothing on disk rejects with a `ConvergeError`.
   */
  backup(destPath: string): Promise<void>;
  /** Releases the database; see "Closing" above. */
  close(): void;
}
