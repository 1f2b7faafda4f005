import type { CausalContext, ErrorCode, Hlc, ReplicaId, WriteChain } from '@converge/conflict';
import type { AckLevel, CollectionDeclaration, CollectionMode, Cursor, RelayLimits, WireState, WireValue } from '@converge/protocol';

/**
 * One document as this replica holds it.
 *
 * `state` is what the app reads: what the relay has confirmed joined with this replica's
 * pending writes. `base` is what the relay has confirmed, kept only while writes to the key
 * are pending (absent: `base` equals `state`). A refused write is rolled back by recomputing
 * `state` from `base` and the writes still pending.
 */
export interface DocRecord {
  readonly collection: string;
  readonly key: string;
  readonly state: WireState;
  readonly base?: WireState;
  /** Seq of the last relay change merged in (0: none). */
  readonly seq: number;
  /** Counter floor of the replica for this key when the record was created (kept in meta while the key is evicted). */
  readonly floor?: number;
}

/** What a write did, kept in the outbox so it can be re-applied under a new replica id or a corrected clock. */
export type WriteIntent =
  | { readonly kind: 'put'; readonly value: WireValue; readonly readContext: CausalContext }
  | { readonly kind: 'delete'; readonly readContext: CausalContext }
  | { readonly kind: 'op'; readonly op: { readonly type: string; readonly [field: string]: unknown } };

/** A local write not yet held by the relay. One entry per write; squashing happens when pushing. */
export interface OutboxEntry {
  /** Assigned by `addOutbox` (ascending: outbox order). */
  readonly id?: number;
  /** Stable id of the write, kept when it is re-applied under a new dot. */
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly mode: CollectionMode;
  readonly replica: ReplicaId;
  /** The replica-wide write number allocated with the dot. */
  readonly writeNumber: number;
  /** The replica's write chain through this write (see `ReplicaRecord.chain`); absent in entries written before chains. */
  readonly chain?: WriteChain;
  /** The read context plus the write's dot, and the one new sibling. */
  readonly delta: WireState;
  readonly write: WriteIntent;
  /** The acknowledgement level the writer waits for. */
  readonly ack: AckLevel;
  readonly createdAt: number;
  /** The relay refused its clock (`clock_skew`): written again with a corrected clock before the next push. */
  readonly skewed?: true;
}

/** A write the relay refused for good, kept until the app retries or discards it. */
export interface RejectedRecord {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly write: WriteIntent;
  readonly code: ErrorCode;
  readonly message: string;
  /** The relay's state of the key when it refused (leader-follower `conflict_rejected`). */
  readonly current?: WireState;
  readonly at: number;
}

/**
 * Where a write stands. It only moves forward: `local` (committed here, in the outbox) →
 * `relay` → `quorum` → `all` (the level the relay's ack named), or `rejected` (with the code and
 * message). A write leaves the outbox at its first ack; the replica keeps the statuses of the
 * last writes that left it.
 */
export interface WriteStatus {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly status: AckLevel | 'rejected';
  /** When the write reached this status (ms since the epoch; `local`: when it was committed). */
  readonly at: number;
  /** `rejected`: the relay's code and message. */
  readonly code?: ErrorCode;
  readonly message?: string;
}

/** The replica's identity and clocks (one record in meta). */
export interface ReplicaRecord {
  readonly id: ReplicaId;
  /** Replica-wide write number: bumped in the transaction that allocates each dot. */
  readonly writeNumber: number;
  /**
   * The write chain through `writeNumber` (`chainWrite` of @converge/conflict over every write,
   * extended in the same transaction): tells this database's history from that of an older copy
   * of it. Absent in a database from before chains (nothing is compared then).
   */
  readonly chain?: WriteChain;
  /** The greatest HLC stamp issued by any tab, so the clock never goes back across tabs and restarts. */
  readonly clock?: Hlc;
  /** Offset from the relay's clock learned from `welcome.now`, ms. */
  readonly clockOffsetMs?: number;
  /** Earlier ids of this database (replaced after identity loss); never used again. */
  readonly retired: readonly ReplicaId[];
}

/** A write number with the write chain through it. */
export interface WriteMark {
  readonly writeNumber: number;
  readonly chain: WriteChain;
}

export type MetaValue = ReplicaRecord | RelayLimits | Cursor | number | Readonly<Record<string, CollectionDeclaration>> | readonly WriteStatus[] | WriteMark;

export interface ScanOptions {
  readonly prefix?: string;
  /** Only keys after this one (exclusive), for paging. */
  readonly after?: string;
  readonly limit?: number;
}

/** Reads inside one transaction. Every method returns a promise settled by the storage itself. */
export interface StorageReader {
  getDoc(collection: string, key: string): Promise<DocRecord | undefined>;
  /** Several documents of one collection at once, in the order of `keys`. */
  getDocs(collection: string, keys: readonly string[]): Promise<(DocRecord | undefined)[]>;
  /** Documents of a collection in key order (UTF-16 code unit order). */
  scanDocs(collection: string, options?: ScanOptions): Promise<DocRecord[]>;
  getMeta<T extends MetaValue>(key: string): Promise<T | undefined>;
  /** Pending writes in outbox order, from `afterId` (exclusive). */
  listOutbox(options?: { readonly afterId?: number; readonly limit?: number }): Promise<OutboxEntry[]>;
  /** Pending writes to one key, in outbox order. */
  outboxOf(collection: string, key: string): Promise<OutboxEntry[]>;
  countOutbox(): Promise<number>;
  listRejected(): Promise<RejectedRecord[]>;
  getRejected(writeId: string): Promise<RejectedRecord | undefined>;
  /** Documents of every collection in (collection, key) order, from `after` (exclusive): how an export pages through them. */
  listDocs(options?: { readonly after?: readonly [collection: string, key: string]; readonly limit?: number }): Promise<DocRecord[]>;
  /** Every meta entry as `[key, value]`, in key order. */
  listMeta(): Promise<[string, MetaValue][]>;
}

/** Reads and writes inside one readwrite transaction. Writes are seen by later reads of the same transaction. */
export interface StorageWriter extends StorageReader {
  putDoc(record: DocRecord): void;
  deleteDoc(collection: string, key: string): void;
  putMeta(key: string, value: MetaValue): void;
  deleteMeta(key: string): void;
  /** Appends to the outbox (the entry's id is assigned at commit, ascending). */
  addOutbox(entry: OutboxEntry): void;
  putOutbox(entry: OutboxEntry & { readonly id: number }): void;
  deleteOutbox(id: number): void;
  putRejected(record: RejectedRecord): void;
  deleteRejected(writeId: string): void;
}

export interface WriteOptions {
  /** `strict`: the commit is on disk when the promise resolves (what `ack: 'local'` promises). Default `strict`. */
  readonly durability?: 'strict' | 'relaxed';
}

/**
 * Where a client keeps its replica: documents, outbox, rejected writes and meta.
 *
 * Contract every implementation keeps (`runStorageAdapterTests` checks it):
 * - **Atomicity.** `write(run)` is one transaction: if `run` throws or rejects, or the commit
 *   fails, nothing it wrote is kept, and the promise rejects. `storage_quota` (a full disk) is
 *   such a failure and leaves nothing half-written.
 * - **What `run` may await.** Only the promises of its own transaction's methods. Awaiting
 *   anything else (a fetch, a timer, another transaction) lets the transaction commit early
 *   (IndexedDB does; the memory adapter does the same); later calls then fail and the promise
 *   rejects. `run` is otherwise synchronous code: the app's `update` functions run inside it
 *   and must be synchronous.
 * - **Durability.** `strict` and `relaxed` writes are alike in atomicity, order and
 *   visibility to later transactions; they differ only in when the commit reaches the disk:
 *   with `strict` the promise resolves once it is durable.
 * - **Ordering and isolation.** Writes are serialized: two `write` transactions, from this
 *   adapter or another one open on the same database (another tab), never interleave, so
 *   a dot read and bumped in one transaction is never allocated twice. A `read` sees every write
 *   committed before it started and none of any transaction still running.
 * - **Values.** Records are stored as they are given (structured clone for IndexedDB, by
 *   reference in memory); callers never mutate a record after handing it over.
 * - **`close()`** ends this handle: later transactions reject; a transaction already running
 *   finishes. The data stays (another handle on the same name sees it).
 * - **`destroy()`** closes and deletes the whole database.
 * - **Failure.** When the storage goes away under the client (the browser terminated the
 *   connection, another tab deleted or upgraded the database), `onFailure` listeners are
 *   called once with the reason; every later transaction rejects.
 */
export interface StorageAdapter {
  readonly kind: 'indexeddb' | 'memory';
  /** The database name (lock and channel names of multi-tab coordination derive from it). */
  readonly name: string;
  read<T>(run: (tx: StorageReader) => Promise<T>): Promise<T>;
  write<T>(run: (tx: StorageWriter) => Promise<T>, options?: WriteOptions): Promise<T>;
  onFailure(listener: (error: Error) => void): () => void;
  close(): void;
  destroy(): Promise<void>;
}
