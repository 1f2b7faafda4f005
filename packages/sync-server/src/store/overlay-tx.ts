import type { Dot, ReplicaId } from '@converge/conflict';
import type { Decision, LogPosition, Prefetch, StoredDoc, WriteHead } from './relay-store.js';
import { checkNewDecision } from './store-arguments.js';
import { TxWrites, type EngineTx } from './tx-writes.js';

/** Committed data as an in-process engine (SQLite, memory) reads it: at once, never across a network. */
export interface CommittedReads {
  get(collection: string, key: string): StoredDoc | undefined;
  /** The docs of those keys that exist (one statement for SQLite). */
  getMany(collection: string, keys: readonly string[]): Iterable<StoredDoc>;
  /** Whether the key exists (cheaper than `get` where the engine can say so without the state). */
  has(collection: string, key: string): boolean;
  head(collection: string): LogPosition;
  decision(collection: string, key: string, dot: Dot): Decision | undefined;
  writeHead(replicaId: ReplicaId): WriteHead;
  getMeta(name: string): string | undefined;
  replicaOwner(replicaId: ReplicaId): string | undefined;
}

/**
 * One transaction of an in-process engine: reads answer at once from the transaction's own
 * writes, then from what it prefetched, then from committed data; writes go to `writes`, which
 * the engine commits in one synchronous step (so nothing else runs between its reads of the
 * heads and its commit: one transaction at a time per store).
 */
export class OverlayTx implements EngineTx {
  readonly writes = new TxWrites();
  readonly #committed: CommittedReads;
  /** Prefetched docs: the stored doc, or null for a key not stored. */
  readonly #prefetched = new Map<string, Map<string, StoredDoc | null>>();
  // What the latest `get` found committed, so a `put` right after it knows whether it adds a key.
  #lastCollection: string | undefined;
  #lastKey: string | undefined;
  #lastExisted = false;

  readonly #prefetches: boolean;

  /** `prefetch`: whether reading keys together is worth it (SQLite: yes; Maps: no). */
  constructor(committed: CommittedReads, options: { readonly prefetch: boolean }) {
    this.#committed = committed;
    this.#prefetches = options.prefetch;
  }

  prefetch({ docs }: Prefetch): void {
    if (docs === undefined || !this.#prefetches) return;
    for (const [collection, keys] of docs) {
      let known = this.#prefetched.get(collection);
      if (known === undefined) this.#prefetched.set(collection, (known = new Map()));
      const wanted = keys.filter((key) => !known.has(key));
      if (wanted.length === 0) continue;
      for (const key of wanted) known.set(key, null);
      for (const doc of this.#committed.getMany(collection, wanted)) known.set(doc.key, doc);
    }
  }

  get(collection: string, key: string): StoredDoc | undefined {
    const pending = this.writes.doc(collection, key);
    if (pending !== undefined) return { key, state: pending.state, seq: pending.seq };
    const prefetched = this.#prefetched.get(collection)?.get(key);
    if (prefetched !== undefined) return prefetched ?? undefined;
    const doc = this.#committed.get(collection, key);
    this.#lastCollection = collection;
    this.#lastKey = key;
    this.#lastExisted = doc !== undefined;
    return doc;
  }

  head(collection: string): LogPosition {
    const moved = this.writes.heads.get(collection);
    return moved === undefined ? this.#committed.head(collection) : { seq: moved.seq, hash: moved.hash };
  }

  put(collection: string, key: string, state: string, dot: Dot): LogPosition {
    const previous = this.writes.heads.get(collection) ?? this.#committed.head(collection);
    return this.writes.put(collection, key, state, dot, previous, !this.#holds(collection, key));
  }

  /** Whether the key exists, counting this transaction's writes. */
  #holds(collection: string, key: string): boolean {
    if (this.writes.doc(collection, key) !== undefined) return true;
    const prefetched = this.#prefetched.get(collection)?.get(key);
    if (prefetched !== undefined) return prefetched !== null;
    if (this.#lastKey === key && this.#lastCollection === collection) return this.#lastExisted;
    return this.#committed.has(collection, key);
  }

  decision(collection: string, key: string, dot: Dot): Decision | undefined {
    return this.writes.decision(collection, key, dot) ?? this.#committed.decision(collection, key, dot);
  }

  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): void {
    const existing = this.decision(collection, key, dot);
    checkNewDecision(existing, decision, this.head(collection).seq);
    if (existing === undefined) this.writes.recordDecision(collection, key, dot, decision);
  }

  writeHead(replicaId: ReplicaId): WriteHead {
    return this.writes.writeHeads.get(replicaId) ?? this.#committed.writeHead(replicaId);
  }

  noteWrite(replicaId: ReplicaId, head: WriteHead): void {
    if (head.writeNumber > this.writeHead(replicaId).writeNumber) {
      this.writes.writeHeads.set(replicaId, { writeNumber: head.writeNumber, chain: head.chain });
    }
  }

  getMeta(name: string): string | undefined {
    return this.writes.meta.has(name) ? this.writes.meta.get(name) : this.#committed.getMeta(name);
  }

  setMeta(name: string, value: string | undefined): void {
    this.writes.meta.set(name, value);
  }

  replicaOwner(replicaId: ReplicaId): string | undefined {
    return this.writes.owners.get(replicaId) ?? this.#committed.replicaOwner(replicaId);
  }

  claimReplica(replicaId: ReplicaId, principalId: string): string {
    const owner = this.replicaOwner(replicaId);
    if (owner !== undefined) return owner;
    this.writes.owners.set(replicaId, principalId);
    return principalId;
  }
}
