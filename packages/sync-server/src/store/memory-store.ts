import { ConvergeError, WRITE_CHAIN_ZERO, type Dot, type ReplicaId } from '@converge/conflict';
import { CHAIN_HASH_ZERO } from './chain-hash.js';
import { newLineage } from './lineage.js';
import type { Decision, LogPosition, LoggedDoc, RelayStore, StoreStats, StoreTx, StoredDoc, WriteHead } from './relay-store.js';
import { OverlayTx, type CommittedReads } from './overlay-tx.js';
import { StoreLifecycle } from './store-lifecycle.js';
import { decisionId, type TxWrites } from './tx-writes.js';

interface MemoryCollection {
  readonly docs: Map<string, { seq: number; state: string }>;
  /** Index seq − 1: the key whose last change is that seq, `undefined` once the key moved on. */
  readonly keyAtSeq: (string | undefined)[];
  /** Index seq − 1: the chain hash through that seq. */
  readonly hashes: string[];
}

export interface MemoryStoreOptions {
  /** The clock for `createdAt`; `Date.now` by default. */
  readonly now?: () => number;
}

const NO_WRITE: WriteHead = Object.freeze({ writeNumber: 0, chain: WRITE_CHAIN_ZERO });

/** The committed data, read at once; `apply` commits a transaction's writes in one step. */
class MemoryData implements CommittedReads {
  readonly collectionsByName = new Map<string, MemoryCollection>();
  readonly decisions = new Map<string, Decision>();
  readonly writeHeads = new Map<ReplicaId, WriteHead>();
  readonly meta = new Map<string, string>();
  readonly owners = new Map<ReplicaId, string>();

  get(collection: string, key: string): StoredDoc | undefined {
    const doc = this.collectionsByName.get(collection)?.docs.get(key);
    return doc === undefined ? undefined : { key, state: doc.state, seq: doc.seq };
  }

  *getMany(collection: string, keys: readonly string[]): Iterable<StoredDoc> {
    for (const key of keys) {
      const doc = this.get(collection, key);
      if (doc !== undefined) yield doc;
    }
  }

  has(collection: string, key: string): boolean {
    return this.collectionsByName.get(collection)?.docs.has(key) === true;
  }

  head(collection: string): LogPosition {
    const hashes = this.collectionsByName.get(collection)?.hashes ?? [];
    return { seq: hashes.length, hash: hashes.at(-1) ?? CHAIN_HASH_ZERO };
  }

  decision(collection: string, key: string, dot: Dot): Decision | undefined {
    return this.decisions.get(decisionId(collection, key, dot));
  }

  writeHead(replicaId: ReplicaId): WriteHead {
    return this.writeHeads.get(replicaId) ?? NO_WRITE;
  }

  getMeta(name: string): string | undefined {
    return this.meta.get(name);
  }

  replicaOwner(replicaId: ReplicaId): string | undefined {
    return this.owners.get(replicaId);
  }

  apply(writes: TxWrites): void {
    for (const { collection, seq, hash } of writes.chain) {
      let log = this.collectionsByName.get(collection);
      if (log === undefined) this.collectionsByName.set(collection, (log = { docs: new Map(), keyAtSeq: [], hashes: [] }));
      log.hashes[seq - 1] = hash;
      log.keyAtSeq[seq - 1] = undefined;
    }
    for (const [collection, docs] of writes.docs) {
      const log = this.collectionsByName.get(collection)!;
      for (const [key, doc] of docs) {
        const previous = log.docs.get(key);
        if (previous !== undefined) log.keyAtSeq[previous.seq - 1] = undefined;
        log.docs.set(key, { seq: doc.seq, state: doc.state });
        log.keyAtSeq[doc.seq - 1] = key;
      }
    }
    for (const [id, { decision }] of writes.decisions) this.decisions.set(id, decision);
    for (const [replicaId, head] of writes.writeHeads) this.writeHeads.set(replicaId, head);
    for (const [name, value] of writes.meta) {
      if (value === undefined) this.meta.delete(name);
      else this.meta.set(name, value);
    }
    for (const [replicaId, principal] of writes.owners) this.owners.set(replicaId, principal);
  }
}

/**
 * A `RelayStore` in plain Maps, for tests: the same contract as the SQLite store except that it
 * keeps nothing when the process ends ("durable" means committed in memory) and cannot back up.
 */
export class MemoryStore implements RelayStore {
  readonly lineage: string = newLineage();
  readonly createdAt: number;
  readonly #data = new MemoryData();
  readonly #lifecycle = new StoreLifecycle('the memory relay store', { inProcess: true });

  constructor(options: MemoryStoreOptions = {}) {
    this.createdAt = (options.now ?? Date.now)();
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  transact<T>(fn: (tx: StoreTx) => Promise<T> | T): Promise<T> {
    return this.#lifecycle.transact(fn, async (body) => {
      const tx = new OverlayTx(this.#data, { prefetch: false });
      const result = await body(tx);
      this.#data.apply(tx.writes);
      return result;
    });
  }

  get(collection: string, key: string): Promise<StoredDoc | undefined> {
    return this.#lifecycle.run('get', [collection, key], () => this.#data.get(collection, key));
  }

  head(collection: string): Promise<LogPosition> {
    return this.#lifecycle.run('head', [collection], () => this.#data.head(collection));
  }

  decision(collection: string, key: string, dot: Dot): Promise<Decision | undefined> {
    return this.#lifecycle.run('decision', [collection, key, dot], () => this.#data.decision(collection, key, dot));
  }

  writeHead(replicaId: ReplicaId): Promise<WriteHead> {
    return this.#lifecycle.run('writeHead', [replicaId], () => this.#data.writeHead(replicaId));
  }

  getMeta(name: string): Promise<string | undefined> {
    return this.#lifecycle.run('getMeta', [name], () => this.#data.getMeta(name));
  }

  setMeta(name: string, value: string | undefined): Promise<void> {
    return this.transact((tx) => tx.setMeta(name, value));
  }

  replicaOwner(replicaId: ReplicaId): Promise<string | undefined> {
    return this.#lifecycle.run('replicaOwner', [replicaId], () => this.#data.replicaOwner(replicaId));
  }

  claimReplica(replicaId: ReplicaId, principalId: string): Promise<string> {
    return this.transact((tx) => tx.claimReplica(replicaId, principalId));
  }

  scan(collection: string, afterSeq: number, limit: number, prefix?: string): Promise<LoggedDoc[]> {
    return this.#lifecycle.run('scan', [collection, afterSeq, limit, prefix], () => this.#scan(collection, afterSeq, limit, prefix));
  }

  #scan(collection: string, afterSeq: number, limit: number, prefix: string | undefined): LoggedDoc[] {
    const log = this.#data.collectionsByName.get(collection);
    const out: LoggedDoc[] = [];
    if (log === undefined) return out;
    for (let index = afterSeq; index < log.keyAtSeq.length && out.length < limit; index++) {
      const key = log.keyAtSeq[index];
      if (key === undefined || (prefix !== undefined && !key.startsWith(prefix))) continue;
      const doc = log.docs.get(key)!;
      out.push({ key, state: doc.state, seq: doc.seq, hash: log.hashes[doc.seq - 1]! });
    }
    return out;
  }

  hashAt(collection: string, seq: number): Promise<string | undefined> {
    return this.#lifecycle.run('hashAt', [collection, seq], () =>
      seq === 0 ? CHAIN_HASH_ZERO : this.#data.collectionsByName.get(collection)?.hashes[seq - 1],
    );
  }

  collections(): Promise<string[]> {
    return this.#lifecycle.run('collections', [], () => this.#names());
  }

  #names(): string[] {
    return [...this.#data.collectionsByName.keys()].sort();
  }

  stats(): Promise<StoreStats> {
    return this.#lifecycle.run('stats', [], () => {
      let chars = 0;
      const collections = this.#names().map((name) => {
        const log = this.#data.collectionsByName.get(name)!;
        for (const [key, doc] of log.docs) chars += key.length + doc.state.length;
        chars += log.hashes.length * CHAIN_HASH_ZERO.length;
        return { name, keys: log.docs.size, seq: log.hashes.length };
      });
      return { collections, bytes: chars * 2 };
    });
  }

  backup(_destPath: string): Promise<void> {
    return Promise.reject(
      this.closed
        ? new ConvergeError('internal', 'the memory relay store is closed: backup() is no longer possible')
        : new ConvergeError('internal', 'the memory relay store keeps nothing on disk and cannot be backed up'),
    );
  }

  close(): Promise<void> {
    return this.#lifecycle.close(() => undefined);
  }
}
