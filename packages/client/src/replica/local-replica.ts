import {
  compareHlc,
  ConvergeError,
  createHlcClock,
  maxCounter,
  replicaIdFromBytes,
  WRITE_CHAIN_ZERO,
  type Dot,
  type HlcClock,
  type ReplicaId,
  type Sibling,
} from '@converge/conflict';
import type { CollectionDeclaration, Cursor, RelayAckLevel, RelayLimits, WireValue } from '@converge/protocol';
import { adoptedSpec, collectionSpec, type CollectionSpec } from '../collection-spec.js';
import {
  floorKey,
  floorsKey,
  META,
  type DocRecord,
  type OutboxEntry,
  type ReplicaRecord,
  type StorageAdapter,
  type StorageReader,
  type StorageWriter,
  type WriteMark,
} from '../storage/storage-adapter.js';
import { applyWrite, type WriteRequest } from './apply-write.js';
import { docId, loadRecords, type DocChange } from './doc-records.js';
import type { ReadMemory } from './read-model.js';
import { applyRemoteDocs, type RemoteApplied, type RemoteDoc } from './remote-apply.js';
import { rewriteEntries, type RewrittenWrite } from './rewrite.js';
import { recordSettled } from './recent-writes.js';
import { settlePush, type SettledChange, type Settlement } from './settle.js';
import { chainAfterResync, chainAfterWrite, relayHeadStanding } from './write-chain.js';

/** Before the first `welcome`, values up to 1 MiB are accepted locally. */
const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

export function newReplicaId(): ReplicaId {
  return replicaIdFromBytes(globalThis.crypto.getRandomValues(new Uint8Array(12)));
}

export interface CommittedWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly record: DocRecord;
  readonly discarded: readonly Sibling<WireValue>[];
  readonly memory: ReadMemory;
  readonly dot: Dot;
}

export interface ReplicaOptions {
  readonly now: () => number;
}

/**
 * This tab's handle on the replica in storage: every change to it is one storage transaction
 * here or in the modules it calls (remote changes, push results, identity). The replica id,
 * write number and clock are read inside each transaction, so tabs writing the same database
 * never allocate a dot twice.
 */
export class LocalReplica {
  private readonly specs = new Map<string, CollectionSpec>();
  private hlc: HlcClock | undefined;
  private id: ReplicaId | undefined;

  constructor(
    public storage: StorageAdapter,
    specs: Iterable<CollectionSpec>,
    readonly options: ReplicaOptions,
  ) {
    for (const spec of specs) this.specs.set(spec.name, spec);
  }

  /** The replica id as of the last transaction this tab ran. */
  get replicaId(): ReplicaId {
    if (this.id === undefined) throw new ConvergeError('internal', 'the replica is not open yet');
    return this.id;
  }

  spec(collection: string): CollectionSpec {
    let spec = this.specs.get(collection);
    if (spec === undefined) this.specs.set(collection, (spec = collectionSpec(collection, undefined)));
    return spec;
  }

  /** Follows the relay's configuration for the collections the app did not declare. */
  adopt(infos: Readonly<Record<string, CollectionDeclaration>>): void {
    for (const [name, info] of Object.entries(infos)) {
      const current = this.specs.get(name);
      if (current?.declared === true) continue;
      if (current !== undefined && current.mode === info.mode && current.strategy === (info.strategy === 'merge' ? 'siblings' : info.strategy)) continue;
      this.specs.set(name, adoptedSpec(name, info));
    }
  }

  collections(): CollectionSpec[] {
    return [...this.specs.values()];
  }

  /** Reads (creating on first use) the replica record. */
  async open(): Promise<ReplicaRecord> {
    return this.storage.write(async (tx) => {
      const known = await tx.getMeta<Record<string, CollectionDeclaration>>(META.collections);
      if (known !== undefined) this.adopt(known);
      return this.replica(tx);
    });
  }

  /** The replica record inside a write transaction, created when missing; syncs this tab's clock with it. */
  async replica(tx: StorageWriter): Promise<ReplicaRecord> {
    let record = await tx.getMeta<ReplicaRecord>(META.replica);
    if (record === undefined) {
      record = { id: newReplicaId(), writeNumber: 0, retired: [] };
      tx.putMeta(META.replica, record);
    }
    this.syncClock(record);
    return record;
  }

  /** This tab's clock, following the replica record (another tab may have changed the id, the offset or the last stamp). */
  clock(): HlcClock {
    if (this.hlc === undefined) throw new ConvergeError('internal', 'the replica is not open yet');
    return this.hlc;
  }

  syncClock(record: ReplicaRecord): void {
    this.id = record.id;
    const offsetMs = record.clockOffsetMs ?? this.hlc?.offsetMs() ?? 0;
    if (this.hlc === undefined || this.hlc.replica !== record.id) {
      this.hlc = createHlcClock({ replica: record.id, now: this.options.now, offsetMs, ...(record.clock === undefined ? {} : { last: record.clock }) });
      return;
    }
    if (this.hlc.offsetMs() !== offsetMs) this.hlc.setOffsetMs(offsetMs);
    if (record.clock !== undefined && compareHlc({ ...record.clock, replica: record.id }, this.hlc.last()) > 0) this.hlc.receive(record.clock);
  }

  /** Starts a fresh clock (after the relay refused a stamp as too far ahead). */
  resetClock(offsetMs: number): void {
    this.hlc = createHlcClock({ replica: this.replicaId, now: this.options.now, offsetMs });
  }

  async limits(tx: StorageReader): Promise<RelayLimits | undefined> {
    return tx.getMeta<RelayLimits>(META.limits);
  }

  /**
   * Commits writes in one transaction: reads the records, allocates a dot and a write number
   * per write, applies it (CRDT operations and `update` functions run on the stored state
   * here), stores the records and one outbox entry per write. `settledRejections`: rejected
   * writes these writes replace (a retry, a rebase), removed from the rejected list in the same
   * transaction.
   */
  async write(
    requests: readonly WriteRequest[],
    durability: 'strict' | 'relaxed' = 'strict',
    settledRejections: readonly string[] = [],
  ): Promise<CommittedWrite[]> {
    if (requests.length === 0 && settledRejections.length === 0) return [];
    return this.storage.write(
      async (tx) => {
        for (const writeId of settledRejections) tx.deleteRejected(writeId);
        const [rep, limits] = await Promise.all([this.replica(tx), this.limits(tx)]);
        const maxValueBytes = limits?.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
        const maxStateBytes = limits?.maxStateBytes ?? Infinity;
        const byCollection = new Map<string, string[]>();
        for (const r of requests) {
          const keys = byCollection.get(r.collection);
          if (keys === undefined) byCollection.set(r.collection, [r.key]);
          else keys.push(r.key);
        }
        const records = new Map<string, DocRecord>();
        await Promise.all(
          [...byCollection].map(async ([collection, keys]) => {
            for (const [key, record] of await loadRecords(tx, collection, keys)) records.set(docId(collection, key), record);
          }),
        );
        const clock = this.clock();
        let writeNumber = rep.writeNumber;
        let chain = rep.chain;
        const now = this.options.now();
        const out: CommittedWrite[] = [];
        for (const request of requests) {
          const spec = this.spec(request.collection);
          const id = docId(request.collection, request.key);
          const applied = applyWrite(spec, records.get(id)!, request, { replica: rep.id, hlc: clock.tick(), maxValueBytes, maxStateBytes });
          writeNumber++;
          chain = chainAfterWrite(chain, request.collection, request.key, applied.delta, applied.dot);
          const writeId = request.writeId ?? `${rep.id}:${writeNumber}`;
          tx.addOutbox({
            writeId,
            collection: request.collection,
            key: request.key,
            mode: spec.mode,
            replica: rep.id,
            writeNumber,
            chain,
            delta: applied.delta,
            write: applied.intent,
            ack: request.ack,
            createdAt: now,
          });
          records.set(id, applied.record);
          out.push({
            writeId,
            collection: request.collection,
            key: request.key,
            record: applied.record,
            discarded: applied.discarded,
            memory: applied.memory,
            dot: applied.dot,
          });
        }
        for (const id of new Set(requests.map((r) => docId(r.collection, r.key)))) tx.putDoc(records.get(id)!);
        tx.putMeta(META.replica, { ...rep, writeNumber, ...(chain === undefined ? {} : { chain }), clock: clock.last() });
        return out.map((w) => ({ ...w, record: records.get(docId(w.collection, w.key))! }));
      },
      { durability },
    );
  }

  /**
   * Drops the local copy of a document (not a delete: the relay and other replicas keep it).
   * Its counter floor is kept, so a later write to the key never reuses a counter.
   *
   * @throws ConvergeError `bad_message` while writes to the key are pending.
   */
  async evict(collection: string, key: string): Promise<DocChange | undefined> {
    return this.storage.write(async (tx) => {
      const [rep, record, floor] = await Promise.all([this.replica(tx), tx.getDoc(collection, key), tx.getMeta<number>(floorKey(collection, key))]);
      if (record === undefined) return undefined;
      if (record.base !== undefined)
        throw new ConvergeError('bad_message', `${collection}/${key} has pending writes: it cannot be evicted until the relay holds them`);
      const counter = Math.max(floor ?? 0, record.floor ?? 0, maxCounter(record.state.context, rep.id));
      if (counter > 0) {
        tx.putMeta(floorKey(collection, key), counter);
        tx.putMeta(floorsKey(collection), 1);
      }
      tx.deleteDoc(collection, key);
      return { collection, key, record: undefined };
    });
  }

  /** Merges states from the relay, storing the subscription's cursor in the same transaction. */
  async applyRemote(collection: string, docs: readonly RemoteDoc[], cursor?: { readonly key: string; readonly value: Cursor }): Promise<RemoteApplied> {
    return this.storage.write(async (tx) => applyRemoteDocs(tx, await this.replica(tx), collection, docs, cursor), { durability: 'relaxed' });
  }

  /** Records that the relay confirmed `level` for writes it accepted earlier (their status climbs; it never goes back). */
  async raiseLevel(writes: readonly { readonly writeId: string; readonly collection: string; readonly key: string }[], level: RelayAckLevel): Promise<void> {
    const at = this.options.now();
    await this.storage.write(
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
    return this.storage.write((tx) => settlePush(tx, settled, this.options.now(), level), { durability: 'relaxed' });
  }

  /**
   * After `welcome`: learns the clock offset (dropping a stored stamp that lies too far ahead,
   * so the next writes are not refused again), persists the relay's limits, and compares the
   * relay's write number for this replica id with the stored one. Read here, after `welcome`,
   * the comparison holds even when several tabs sync on their own.
   */
  async afterWelcome(welcome: {
    readonly replicaId: ReplicaId;
    readonly writeNumber: number;
    readonly writeChain: string;
    readonly now: number;
    readonly offsetMs: number;
    readonly limits: RelayLimits;
    readonly collections: Readonly<Record<string, CollectionDeclaration>>;
  }): Promise<'ok' | 'identity_lost' | 'id_changed'> {
    return this.storage.write(async (tx) => {
      const [rep, limits] = await Promise.all([this.replica(tx), this.limits(tx)]);
      if (rep.id !== welcome.replicaId) return 'id_changed';
      if (limits === undefined || JSON.stringify(limits) !== JSON.stringify(welcome.limits)) tx.putMeta(META.limits, welcome.limits);
      const collections = Object.fromEntries(Object.entries(welcome.collections).map(([name, c]) => [name, { mode: c.mode, strategy: c.strategy }]));
      tx.putMeta(META.collections, collections);
      this.adopt(collections);
      const ahead = rep.clock !== undefined && rep.clock.wall > welcome.now + welcome.limits.maxClockSkewMs / 2;
      const { clock: _clock, ...rest } = rep;
      const next: ReplicaRecord = ahead ? { ...rest, clockOffsetMs: welcome.offsetMs } : { ...rep, clockOffsetMs: welcome.offsetMs };
      tx.putMeta(META.replica, next);
      if (ahead || this.hlc === undefined) this.resetClock(welcome.offsetMs);
      this.syncClock(next);
      const standing = await relayHeadStanding(tx, rep, { writeNumber: welcome.writeNumber, chain: welcome.writeChain });
      return standing === 'other' ? 'identity_lost' : 'ok';
    });
  }

  /**
   * Identity loss (a database restored from an old copy, or `replica_reset`): mints a new
   * replica id and writes every pending write again under it — CRDT operations re-applied,
   * register values written anew — never re-sending the stored deltas, whose dots collide.
   * Returns undefined when another tab already replaced `expected`.
   */
  async resetIdentity(
    expected: ReplicaId,
  ): Promise<{ readonly id: ReplicaId; readonly changes: DocChange[]; readonly rewritten: RewrittenWrite[] } | undefined> {
    return this.storage.write(async (tx) => {
      const rep = await this.replica(tx);
      if (rep.id !== expected) return undefined;
      const id = newReplicaId();
      const next: ReplicaRecord = { ...rep, id, retired: [...rep.retired, rep.id] };
      this.syncClock(next);
      const entries = (await tx.listOutbox()) as (OutboxEntry & { id: number })[];
      // A new id starts a new chain: the relay has seen no write of it.
      const env = { replica: id, clock: this.clock(), spec: (c: string) => this.spec(c), writeNumber: rep.writeNumber, chain: WRITE_CHAIN_ZERO };
      const { changes, rewritten } = await rewriteEntries(tx, entries, env, true);
      tx.putMeta(META.replica, { ...next, writeNumber: env.writeNumber, chain: env.chain, clock: this.clock().last() });
      return { id, changes, rewritten };
    });
  }

  /** Writes again, with the corrected clock, every write the relay refused with `clock_skew`. */
  async rewriteSkewed(): Promise<{ readonly changes: DocChange[]; readonly rewritten: RewrittenWrite[] }> {
    return this.storage.write(async (tx) => {
      const rep = await this.replica(tx);
      const entries = (await tx.listOutbox()).filter((e) => e.skewed === true) as (OutboxEntry & { id: number })[];
      if (entries.length === 0) return { changes: [], rewritten: [] };
      const env = { replica: rep.id, clock: this.clock(), spec: (c: string) => this.spec(c), writeNumber: rep.writeNumber, chain: rep.chain };
      const rewrite = await rewriteEntries(tx, entries, env, false);
      tx.putMeta(META.replica, { ...rep, writeNumber: env.writeNumber, ...(env.chain === undefined ? {} : { chain: env.chain }), clock: this.clock().last() });
      return rewrite;
    });
  }

  /**
   * Allocates one write number for a re-push of full states (resync): the relay learns it as
   * this replica's latest, so it is kept (`META.resyncWrite`) for the check after `welcome`.
   */
  async allocateWriteNumber(): Promise<WriteMark> {
    return this.storage.write(async (tx) => {
      const rep = await this.replica(tx);
      const mark: WriteMark = { writeNumber: rep.writeNumber + 1, chain: chainAfterResync(rep.chain) };
      tx.putMeta(META.replica, { ...rep, ...mark });
      tx.putMeta(META.resyncWrite, mark);
      return mark;
    });
  }
}
