import { ConvergeError, type ReplicaId } from '@converge/conflict';
import type { CollectionDeclaration, Cursor, RelayAckLevel } from '@converge/protocol';
import { collectionSpec, type CollectionSpec } from '../collection-spec.js';
import type { DocRecord, OutboxEntry, RejectedRecord, ReplicaRecord, ScanOptions, StorageAdapter, WriteStatus } from '../storage/storage-adapter.js';
import type { WriteRequest } from './apply-write.js';
import { adoptCollections, specForImport } from './collection-specs.js';
import { evictRecord, type DocChange } from './doc-records.js';
import { cursorKey, META } from './meta-keys.js';
import { readWriteStatuses, recordSettled } from './recent-writes.js';
import { applyRemoteDocs, type RemoteApplied, type RemoteDoc } from './remote-apply.js';
import { ReplicaClock } from './replica-clock.js';
import type { ExportSnapshot } from './replica-export.js';
import type { ImportedData, ImportResult } from './replica-import.js';
import { newReplicaId, replicaRecord } from './replica-record.js';
import { resyncStates, type ResyncStates } from './resync-states.js';
import { rewritePending, type Rewrite } from './rewrite.js';
import { settlePush, type SettledChange, type Settlement } from './settle.js';
import { StorageInUse } from './storage-in-use.js';
import { learnWelcome, type WelcomeFacts } from './welcome.js';
import { writeRequests, type CommittedWrite } from './write-requests.js';

export type { CommittedWrite } from './write-requests.js';

/** A pending write as the outbox holds it (with its position). */
export type PendingEntry = OutboxEntry & { readonly id: number };

/** How the transactions that record what the relay said are written (`WriteOptions.durability`). */
const RELAXED = { durability: 'relaxed' } as const;

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
  readonly #storage: StorageInUse;
  readonly #specs = new Map<string, CollectionSpec>();
  readonly #clock: ReplicaClock;
  readonly #options: ReplicaOptions;
  readonly #read: StorageInUse['read'] = (run) => this.#storage.read(run);

  constructor(storage: StorageAdapter, specs: Iterable<CollectionSpec>, options: ReplicaOptions) {
    this.#storage = new StorageInUse(storage);
    this.#clock = new ReplicaClock(options.now);
    for (const spec of specs) this.#specs.set(spec.name, spec);
    this.#options = options;
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

  // ── lifecycle ─────────────────────────────────────────────────────────────

  /** Reads (creating on first use) the replica record, and the collections the relay last announced. */
  async open(): Promise<ReplicaRecord> {
    const [rep, known] = await this.#storage.write(async (tx) =>
      Promise.all([replicaRecord(tx), tx.getMeta<Record<string, CollectionDeclaration>>(META.collections)]),
    );
    if (known !== undefined) adoptCollections(this.#specs, known);
    this.#clock.follow({ rep });
    return rep;
  }

  /** Calls `listener` when the storage in use goes away under the client (`StorageInUse.onFailure`). */
  onStorageFailure(listener: (error: Error) => void): () => void {
    return this.#storage.onFailure(listener);
  }

  /** Goes on in `storage` (IndexedDB went away): a new, empty replica there. */
  async replaceStorage(storage: StorageAdapter): Promise<ReplicaRecord> {
    this.#storage.replace(storage);
    return this.open();
  }

  close(): void {
    this.#storage.close();
  }

  /** Closes and deletes the database. */
  destroy(): Promise<void> {
    return this.#storage.destroy();
  }

  // ── transactions ─────────────────────────────────────────────────────────

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
    const committed = await this.#storage.write(
      async (tx) => {
        for (const writeId of settledRejections) tx.deleteRejected(writeId);
        return writeRequests(tx, requests, { ...this.#options, clocks: this.#clock, specs });
      },
      { durability },
    );
    this.#clock.follow(committed);
    return committed.written;
  }

  /**
   * Drops the local copy of a document (not a delete: the relay and other replicas keep it).
   * Its counter floor is kept, so a later write to the key never reuses a counter.
   *
   * @throws ConvergeError `bad_message` while writes to the key are pending.
   */
  async evict(collection: string, key: string): Promise<DocChange | undefined> {
    return this.#storage.write(async (tx) => evictRecord(tx, await replicaRecord(tx), collection, key));
  }

  /** Merges states from the relay, storing the subscription's `cursor` (when given) in the same transaction. */
  async applyRemote(collection: string, docs: readonly RemoteDoc[], cursor?: Cursor): Promise<RemoteApplied> {
    const stored = cursor === undefined ? undefined : { key: cursorKey(collection), value: cursor };
    return this.#storage.write(async (tx) => applyRemoteDocs(tx, await replicaRecord(tx), collection, docs, stored), RELAXED);
  }

  /** Records that the relay confirmed `level` for writes it accepted earlier (their status climbs; it never goes back). */
  async raiseLevel(writes: readonly { readonly writeId: string; readonly collection: string; readonly key: string }[], level: RelayAckLevel): Promise<void> {
    const at = this.#options.now();
    const statuses = writes.map((w) => ({ ...w, status: level, at }));
    await this.#storage.write((tx) => recordSettled(tx, statuses), RELAXED);
  }

  /** Applies the relay's results for a push, acknowledged at `level`. */
  async settle(settled: readonly SettledChange[], level: RelayAckLevel): Promise<Settlement> {
    return this.#storage.write((tx) => settlePush(tx, settled, this.#options.now(), level), RELAXED);
  }

  /**
   * After `welcome`: learns the clock offset and the limits, follows the collections the relay
   * announced, and compares the relay's write number for this replica id with the stored one
   * (`learnWelcome`). Read here, after `welcome`, the comparison holds even when several tabs
   * sync on their own.
   */
  async afterWelcome(welcome: WelcomeFacts): Promise<'ok' | 'identity_lost' | 'id_changed'> {
    const learned = await this.#storage.write(async (tx) => learnWelcome(tx, await replicaRecord(tx), welcome, this.#clock));
    if (learned.verdict === 'id_changed') return 'id_changed';
    adoptCollections(this.#specs, learned.collections);
    this.#clock.follow(learned);
    return learned.verdict;
  }

  /**
   * Identity loss (a database restored from an old copy, or `replica_reset`): mints a new
   * replica id and writes every pending write again under it (`rewritePending`). Returns
   * undefined when another tab already replaced `expected`.
   */
  async resetIdentity(expected: ReplicaId): Promise<(Rewrite & { readonly id: ReplicaId }) | undefined> {
    const result = await this.#storage.write(async (tx) => {
      const rep = await replicaRecord(tx);
      if (rep.id !== expected) return undefined;
      const next: ReplicaRecord = { ...rep, id: newReplicaId(), retired: [...rep.retired, rep.id] };
      return rewritePending(tx, next, { clocks: this.#clock, spec: (c) => this.spec(c), fromBase: true });
    });
    if (result === undefined) return undefined;
    this.#clock.follow(result);
    return { id: result.rep.id, changes: result.changes, rewritten: result.rewritten };
  }

  /** Writes again, with the corrected clock, every write the relay refused with `clock_skew`. */
  async rewriteSkewed(): Promise<Rewrite> {
    const result = await this.#storage.write(async (tx) =>
      rewritePending(tx, await replicaRecord(tx), { clocks: this.#clock, spec: (c) => this.spec(c), fromBase: false }),
    );
    this.#clock.follow(result);
    return { changes: result.changes, rewritten: result.rewritten };
  }

  /** A collection's states for a re-push after the relay lost data, with a write number of their own (`resyncStates`). */
  resyncStates(collection: string): Promise<ResyncStates | undefined> {
    return resyncStates(this.#storage, collection);
  }

  // ── export and import (their code loaded on first use, as the rest of export and import) ──

  /** Everything this replica stores, for an export (`exportSnapshot`); undefined before the replica was first opened. */
  async exportSnapshot(): Promise<ExportSnapshot | undefined> {
    const { exportSnapshot } = await import('./replica-export.js');
    return exportSnapshot(this.#storage);
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
    const { declarationProblem, importRecords } = await import('./replica-import.js');
    const problem = declarationProblem(this.collections(), collections);
    if (problem !== undefined) throw new ConvergeError('bad_message', problem);
    const spec = specForImport(this.#specs, collections);
    const result = await this.#storage.write((tx) => importRecords(tx, data, { clocks: this.#clock, spec, collections }));
    adoptCollections(this.#specs, collections);
    this.#clock.follow(result);
    return result;
  }

  // ── questions ─────────────────────────────────────────────────────────────

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

  /**
   * The outbox's size: the count kept in meta, read with the outbox's first entry. A database
   * written before it was kept is counted once, and kept from then on; so is one whose count
   * disagrees with its first entry (a count above 0 over an empty outbox, or 0 over a full one:
   * storage also written by code that does not keep it), so `whenSynced` never waits on a
   * wrong count.
   */
  async pendingCount(): Promise<number> {
    const [kept, first] = await this.#read((tx) => Promise.all([tx.getMeta<number>(META.pending), tx.listOutbox({ limit: 1 })]));
    if (kept !== undefined && kept > 0 === first.length > 0) return kept;
    return this.#storage.write(async (tx) => {
      const counted = await tx.countOutbox();
      tx.putMeta(META.pending, counted);
      return counted;
    }, RELAXED);
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
