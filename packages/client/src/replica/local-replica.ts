import { ConvergeError, replicaIdFromBytes, type ReplicaId } from '@converge/conflict';
import type { CollectionDeclaration, Cursor, RelayAckLevel, RelayLimits } from '@converge/protocol';
import { adoptedSpec, collectionSpec, type CollectionSpec } from '../collection-spec.js';
import type {
  DocRecord,
  OutboxEntry,
  RejectedRecord,
  ReplicaRecord,
  ScanOptions,
  StorageAdapter,
  StorageReader,
  StorageWriter,
  WriteMark,
  WriteStatus,
} from '../storage/storage-adapter.js';
import type { WriteRequest } from './apply-write.js';
import { evictRecord, type DocChange } from './doc-records.js';
import { cursorKey, META } from './meta-keys.js';
import { readWriteStatuses, recordSettled } from './recent-writes.js';
import { applyRemoteDocs, type RemoteApplied, type RemoteDoc } from './remote-apply.js';
import { ReplicaClock } from './replica-clock.js';
import { rewritePending, type Rewrite } from './rewrite.js';
import { exportSnapshot, type ExportSnapshot } from './replica-export.js';
import { declarationProblem, importRecords, type ImportedData, type ImportResult } from './replica-import.js';
import { settlePush, type SettledChange, type Settlement } from './settle.js';
import { learnWelcome, type WelcomeFacts } from './welcome.js';
import { markResync } from './write-chain.js';
import { writeRequests, type CommittedWrite } from './write-requests.js';

export type { CommittedWrite } from './write-requests.js';

export function newReplicaId(): ReplicaId {
  return replicaIdFromBytes(globalThis.crypto.getRandomValues(new Uint8Array(12)));
}

/** A pending write as the outbox holds it (with its position). */
export type PendingEntry = OutboxEntry & { readonly id: number };

export interface ReplicaOptions {
  readonly now: () => number;
  /** The largest value accepted before the first `welcome` gives the relay's limit. */
  readonly preWelcomeMaxValueBytes: number;
}

/**
 * This tab's handle on the replica in storage, and the only owner of that storage: every
 * read and every change is one storage transaction here (or in the `replica/` modules it
 * calls); the rest of the client asks questions. The replica id, write number and clock are
 * read inside each transaction, so tabs writing the same database never allocate a dot twice;
 * what this tab keeps in memory (id, clock, adopted collections) follows a transaction only
 * once it has committed.
 */
export class LocalReplica {
  #storage: StorageAdapter;
  readonly #specs = new Map<string, CollectionSpec>();
  readonly #clock: ReplicaClock;
  readonly #failureListeners = new Set<(error: Error) => void>();
  #unwatch: () => void;

  constructor(
    storage: StorageAdapter,
    specs: Iterable<CollectionSpec>,
    private readonly options: ReplicaOptions,
  ) {
    this.#storage = storage;
    this.#unwatch = this.#watch(storage);
    this.#clock = new ReplicaClock(options.now);
    for (const spec of specs) this.#specs.set(spec.name, spec);
  }

  /** The replica id as of the last transaction this tab committed. */
  get replicaId(): ReplicaId {
    return this.#clock.id;
  }

  /** The database name (lock and channel names of tab coordination derive from it). */
  get name(): string {
    return this.#storage.name;
  }

  get storageKind(): StorageAdapter['kind'] {
    return this.#storage.kind;
  }

  // ── collections ──────────────────────────────────────────────────────────

  spec(collection: string): CollectionSpec {
    let spec = this.#specs.get(collection);
    if (spec === undefined) this.#specs.set(collection, (spec = collectionSpec(collection, undefined)));
    return spec;
  }

  collections(): CollectionSpec[] {
    return [...this.#specs.values()];
  }

  /** Follows the relay's configuration for the collections the app did not declare. */
  #adopt(infos: Readonly<Record<string, CollectionDeclaration>>): void {
    for (const [name, info] of Object.entries(infos)) {
      const current = this.#specs.get(name);
      if (current?.declared === true) continue;
      if (current !== undefined && current.mode === info.mode && current.strategy === (info.strategy === 'merge' ? 'siblings' : info.strategy)) continue;
      this.#specs.set(name, adoptedSpec(name, info));
    }
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────

  /** Reads (creating on first use) the replica record, and the collections the relay last announced. */
  async open(): Promise<ReplicaRecord> {
    const { rep, known } = await this.#storage.write(async (tx) => {
      const [rep, known] = await Promise.all([this.#replica(tx), tx.getMeta<Record<string, CollectionDeclaration>>(META.collections)]);
      return { rep, known };
    });
    if (known !== undefined) this.#adopt(known);
    this.#clock.follow(rep);
    return rep;
  }

  /** Calls `listener` when the storage in use goes away under the client (see `StorageAdapter.onFailure`). */
  onStorageFailure(listener: (error: Error) => void): () => void {
    this.#failureListeners.add(listener);
    return () => this.#failureListeners.delete(listener);
  }

  #watch(storage: StorageAdapter): () => void {
    return storage.onFailure((error) => {
      if (this.#storage !== storage) return;
      for (const listener of [...this.#failureListeners]) listener(error);
    });
  }

  /** Goes on in `storage` (IndexedDB went away): a new, empty replica there. */
  async replaceStorage(storage: StorageAdapter): Promise<ReplicaRecord> {
    this.#unwatch();
    this.#storage = storage;
    this.#unwatch = this.#watch(storage);
    return this.open();
  }

  close(): void {
    this.#unwatch();
    this.#storage.close();
  }

  /** Closes and deletes the database. */
  async destroy(): Promise<void> {
    const storage = this.#storage;
    this.close();
    await storage.destroy();
  }

  // ── transactions ─────────────────────────────────────────────────────────

  /** The replica record inside a write transaction, created when missing (memory follows only after the commit). */
  async #replica(tx: StorageWriter): Promise<ReplicaRecord> {
    let record = await tx.getMeta<ReplicaRecord>(META.replica);
    if (record === undefined) {
      record = { id: newReplicaId(), writeNumber: 0, retired: [] };
      tx.putMeta(META.replica, record);
    }
    return record;
  }

  /**
   * Commits writes in one transaction (`writeRequests`). `settledRejections`: rejected writes
   * these writes replace (a retry, a rebase), removed from the rejected list in the same
   * transaction.
   */
  async write(
    requests: readonly WriteRequest[],
    durability: 'strict' | 'relaxed' = 'strict',
    settledRejections: readonly string[] = [],
  ): Promise<CommittedWrite[]> {
    if (requests.length === 0 && settledRejections.length === 0) return [];
    const specs = new Map(requests.map((r) => [r.collection, this.spec(r.collection)]));
    const { written, rep, clock } = await this.#storage.write(
      async (tx) => {
        for (const writeId of settledRejections) tx.deleteRejected(writeId);
        const [rep, limits] = await Promise.all([this.#replica(tx), tx.getMeta<RelayLimits>(META.limits)]);
        const clock = this.#clock.forTransaction(rep);
        const context = {
          rep,
          clock,
          limits,
          preWelcomeMaxValueBytes: this.options.preWelcomeMaxValueBytes,
          specs,
          now: this.options.now(),
        };
        return { ...(await writeRequests(tx, requests, context)), clock };
      },
      { durability },
    );
    this.#clock.follow(rep, clock);
    return written;
  }

  /**
   * Drops the local copy of a document (not a delete: the relay and other replicas keep it).
   * Its counter floor is kept, so a later write to the key never reuses a counter.
   *
   * @throws ConvergeError `bad_message` while writes to the key are pending.
   */
  async evict(collection: string, key: string): Promise<DocChange | undefined> {
    return this.#storage.write(async (tx) => evictRecord(tx, await this.#replica(tx), collection, key));
  }

  /** Merges states from the relay, storing the subscription's `cursor` (when given) in the same transaction. */
  async applyRemote(collection: string, docs: readonly RemoteDoc[], cursor?: Cursor): Promise<RemoteApplied> {
    return this.#storage.write(
      async (tx) =>
        applyRemoteDocs(tx, await this.#replica(tx), collection, docs, cursor === undefined ? undefined : { key: cursorKey(collection), value: cursor }),
      { durability: 'relaxed' },
    );
  }

  /** Records that the relay confirmed `level` for writes it accepted earlier (their status climbs; it never goes back). */
  async raiseLevel(writes: readonly { readonly writeId: string; readonly collection: string; readonly key: string }[], level: RelayAckLevel): Promise<void> {
    const at = this.options.now();
    await this.#storage.write(
      (tx) =>
        recordSettled(
          tx,
          writes.map((w) => ({ ...w, status: level, at })),
        ),
      { durability: 'relaxed' },
    );
  }

  /** Applies the relay's results for a push, acknowledged at `level`. */
  async settle(settled: readonly SettledChange[], level: RelayAckLevel): Promise<Settlement> {
    return this.#storage.write((tx) => settlePush(tx, settled, this.options.now(), level), { durability: 'relaxed' });
  }

  /**
   * After `welcome`: learns the clock offset and the limits, follows the collections the relay
   * announced, and compares the relay's write number for this replica id with the stored one
   * (`learnWelcome`). Read here, after `welcome`, the comparison holds even when several tabs
   * sync on their own.
   */
  async afterWelcome(welcome: WelcomeFacts): Promise<'ok' | 'identity_lost' | 'id_changed'> {
    const learned = await this.#storage.write(async (tx) => learnWelcome(tx, await this.#replica(tx), welcome, this.#clock));
    if (learned.verdict === 'id_changed') return 'id_changed';
    this.#adopt(learned.collections);
    this.#clock.follow(learned.rep, learned.clock);
    return learned.verdict;
  }

  /**
   * Identity loss (a database restored from an old copy, or `replica_reset`): mints a new
   * replica id and writes every pending write again under it (`rewritePending`). Returns
   * undefined when another tab already replaced `expected`.
   */
  async resetIdentity(expected: ReplicaId): Promise<(Rewrite & { readonly id: ReplicaId }) | undefined> {
    const result = await this.#storage.write(async (tx) => {
      const rep = await this.#replica(tx);
      if (rep.id !== expected) return undefined;
      const next: ReplicaRecord = { ...rep, id: newReplicaId(), retired: [...rep.retired, rep.id] };
      const clock = this.#clock.forTransaction(next);
      return { clock, ...(await rewritePending(tx, next, { clock, spec: (c) => this.spec(c), fromBase: true })) };
    });
    if (result === undefined) return undefined;
    this.#clock.follow(result.rep, result.clock);
    return { id: result.rep.id, changes: result.changes, rewritten: result.rewritten };
  }

  /** Writes again, with the corrected clock, every write the relay refused with `clock_skew`. */
  async rewriteSkewed(): Promise<Rewrite> {
    const result = await this.#storage.write(async (tx) => {
      const rep = await this.#replica(tx);
      const clock = this.#clock.forTransaction(rep);
      return { clock, ...(await rewritePending(tx, rep, { clock, spec: (c) => this.spec(c), fromBase: false })) };
    });
    this.#clock.follow(result.rep, result.clock);
    return { changes: result.changes, rewritten: result.rewritten };
  }

  /**
   * This replica's states of a collection's keys for a re-push after the relay lost data, with
   * one freshly allocated write number: the relay learns it as this replica's latest, so it is
   * kept (`META.resyncWrite`) for the check after `welcome`. Undefined when there is nothing.
   */
  async resyncStates(collection: string): Promise<{ readonly records: DocRecord[]; readonly mark: WriteMark } | undefined> {
    const records: DocRecord[] = [];
    for (let after: string | undefined; ;) {
      const page = await this.scan(collection, { limit: 500, ...(after === undefined ? {} : { after }) });
      records.push(...page.filter((r) => r.state.siblings.length > 0));
      if (page.length < 500) break;
      after = page[page.length - 1]!.key;
    }
    if (records.length === 0) return undefined;
    const mark = await this.#storage.write(async (tx) => markResync(tx, await this.#replica(tx)));
    return { records, mark };
  }

  // ── export and import ────────────────────────────────────────────────────

  /** Everything this replica stores, for an export (`exportSnapshot`); undefined before the replica was first opened. */
  exportSnapshot(): Promise<ExportSnapshot | undefined> {
    return exportSnapshot((run) => this.#read(run));
  }

  /**
   * Loads an export into this replica, which must be empty, under a new replica id, in one
   * transaction (`importRecords`). `collections`: each collection as the exporter ran it; those
   * the app did not declare are followed that way here too.
   *
   * @throws ConvergeError `bad_message` when the replica is not empty, or the app declares a
   * collection with another CRDT type than the export's (nothing is written).
   */
  async importData(data: ImportedData, collections: Readonly<Record<string, CollectionDeclaration>>): Promise<ImportResult> {
    const problem = declarationProblem(this.collections(), collections);
    if (problem !== undefined) throw new ConvergeError('bad_message', problem);
    const spec = (name: string) => {
      const own = this.#specs.get(name);
      const exported = collections[name];
      return own?.declared !== true && exported !== undefined ? adoptedSpec(name, exported) : (own ?? collectionSpec(name, undefined));
    };
    const result = await this.#storage.write((tx) => importRecords(tx, data, { clocks: this.#clock, spec, newId: newReplicaId, collections }));
    this.#adopt(collections);
    this.#clock.follow(result.rep, result.clock);
    return result;
  }

  // ── questions ─────────────────────────────────────────────────────────────

  #read<T>(run: (tx: StorageReader) => Promise<T>): Promise<T> {
    return this.#storage.read(run);
  }

  /** The replica record as stored (undefined before the replica was first opened). */
  record(): Promise<ReplicaRecord | undefined> {
    return this.#read((tx) => tx.getMeta<ReplicaRecord>(META.replica));
  }

  doc(collection: string, key: string): Promise<DocRecord | undefined> {
    return this.#read((tx) => tx.getDoc(collection, key));
  }

  docs(collection: string, keys: readonly string[]): Promise<(DocRecord | undefined)[]> {
    return this.#read((tx) => tx.getDocs(collection, keys));
  }

  scan(collection: string, options: ScanOptions): Promise<DocRecord[]> {
    return this.#read((tx) => tx.scanDocs(collection, options));
  }

  /** A key's record and its pending writes, read together. */
  docWithPending(collection: string, key: string): Promise<[DocRecord | undefined, OutboxEntry[]]> {
    return this.#read((tx) => Promise.all([tx.getDoc(collection, key), tx.outboxOf(collection, key)]));
  }

  /** Pending writes in outbox order (the first `limit`). */
  pendingWrites(limit?: number): Promise<PendingEntry[]> {
    return this.#read((tx) => tx.listOutbox(limit === undefined ? {} : { limit })) as Promise<PendingEntry[]>;
  }

  pendingCount(): Promise<number> {
    return this.#read((tx) => tx.countOutbox());
  }

  /** Where each write stands, in the order asked (`readWriteStatuses`). */
  writeStatuses(writeIds: readonly string[]): Promise<(WriteStatus | undefined)[]> {
    return this.#read((tx) => readWriteStatuses(tx, writeIds));
  }

  /** The pending writes and where each of `writeIds` stands, in one read. */
  pendingWithStatuses(writeIds: readonly string[]): Promise<{ readonly pending: OutboxEntry[]; readonly statuses: (WriteStatus | undefined)[] }> {
    return this.#read(async (tx) => {
      const pending = await tx.listOutbox();
      return { pending, statuses: await readWriteStatuses(tx, writeIds, pending) };
    });
  }

  rejectedWrites(): Promise<RejectedRecord[]> {
    return this.#read((tx) => tx.listRejected());
  }

  async discardRejected(writeId: string): Promise<void> {
    await this.#storage.write(async (tx) => tx.deleteRejected(writeId));
  }

  /** The stored cursor of each collection's subscription (null: none yet). */
  cursors(collections: readonly string[]): Promise<(Cursor | null)[]> {
    return this.#read(async (tx) => (await Promise.all(collections.map((c) => tx.getMeta<Cursor>(cursorKey(c))))).map((c) => c ?? null));
  }
}
