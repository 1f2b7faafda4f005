import { ConvergeError, WRITE_CHAIN_ZERO, type Dot, type ReplicaId } from '@converge/conflict';
import { CHAIN_HASH_ZERO, chainHash } from './chain-hash.js';
import { newLineage } from './lineage.js';
import type { Decision, LogPosition, RelayStore, StoreStats, StoreTx, StoredDoc, WriteHead } from './relay-store.js';
import { checkNewDecision } from './store-arguments.js';
import { StoreLifecycle } from './store-lifecycle.js';

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

function decisionId(collection: string, key: string, dot: Dot): string {
  return JSON.stringify([collection, key, dot[0], dot[1]]);
}

/**
 * The store's data with reads and undoable writes. Writes apply at once and push their undo
 * onto the running transaction's log, so a failed transaction is rolled back by replaying it.
 */
class MemoryData implements StoreTx {
  readonly collectionsByName = new Map<string, MemoryCollection>();
  readonly decisions = new Map<string, Decision>();
  readonly writeHeads = new Map<ReplicaId, WriteHead>();
  readonly meta = new Map<string, string>();
  readonly owners = new Map<ReplicaId, string>();
  undo: (() => void)[] = [];

  get(collection: string, key: string): StoredDoc | undefined {
    const doc = this.collectionsByName.get(collection)?.docs.get(key);
    return doc === undefined ? undefined : { key, state: doc.state, seq: doc.seq };
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

  claimReplica(replicaId: ReplicaId, principalId: string): string {
    const owner = this.replicaOwner(replicaId);
    if (owner !== undefined) return owner;
    this.owners.set(replicaId, principalId);
    this.undo.push(() => this.owners.delete(replicaId));
    return principalId;
  }

  put(collection: string, key: string, state: string, dot: Dot): LogPosition {
    let log = this.collectionsByName.get(collection);
    if (log === undefined) {
      const created: MemoryCollection = { docs: new Map(), keyAtSeq: [], hashes: [] };
      this.collectionsByName.set(collection, created);
      this.undo.push(() => this.collectionsByName.delete(collection));
      log = created;
    }
    const { docs, keyAtSeq, hashes } = log;
    const hash = chainHash(hashes.at(-1) ?? CHAIN_HASH_ZERO, collection, key, dot);
    const seq = hashes.length + 1;
    const previous = docs.get(key);
    if (previous !== undefined) keyAtSeq[previous.seq - 1] = undefined;
    docs.set(key, { seq, state });
    keyAtSeq.push(key);
    hashes.push(hash);
    this.undo.push(() => {
      hashes.pop();
      keyAtSeq.pop();
      if (previous === undefined) {
        docs.delete(key);
      } else {
        docs.set(key, previous);
        keyAtSeq[previous.seq - 1] = key;
      }
    });
    return { seq, hash };
  }

  recordDecision(collection: string, key: string, dot: Dot, decision: Decision): void {
    const existing = this.decision(collection, key, dot);
    checkNewDecision(existing, decision, this.head(collection).seq);
    if (existing !== undefined) return;
    const id = decisionId(collection, key, dot);
    const content = decision.content === undefined ? {} : { content: decision.content };
    this.decisions.set(id, decision.status === 'accepted' ? { status: 'accepted', seq: decision.seq, ...content } : { status: 'rejected', ...content });
    this.undo.push(() => this.decisions.delete(id));
  }

  noteWrite(replicaId: ReplicaId, head: WriteHead): void {
    const previous = this.writeHeads.get(replicaId);
    if (previous !== undefined && previous.writeNumber >= head.writeNumber) return;
    this.writeHeads.set(replicaId, { writeNumber: head.writeNumber, chain: head.chain });
    this.undo.push(() => {
      if (previous === undefined) this.writeHeads.delete(replicaId);
      else this.writeHeads.set(replicaId, previous);
    });
  }

  setMeta(name: string, value: string | undefined): void {
    const previous = this.meta.get(name);
    if (value === undefined) this.meta.delete(name);
    else this.meta.set(name, value);
    this.undo.push(() => {
      if (previous === undefined) this.meta.delete(name);
      else this.meta.set(name, previous);
    });
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
  readonly #lifecycle = new StoreLifecycle('the memory relay store');

  constructor(options: MemoryStoreOptions = {}) {
    this.createdAt = (options.now ?? Date.now)();
  }

  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  transact<T>(fn: (tx: StoreTx) => T): T {
    return this.#lifecycle.transact(this.#data, fn, (body) => {
      this.#data.undo = [];
      try {
        return body();
      } catch (error) {
        for (const undo of this.#data.undo.reverse()) undo();
        throw error;
      } finally {
        this.#data.undo = [];
      }
    });
  }

  get(collection: string, key: string): StoredDoc | undefined {
    return this.#lifecycle.run('get', [collection, key], () => this.#data.get(collection, key));
  }

  head(collection: string): LogPosition {
    return this.#lifecycle.run('head', [collection], () => this.#data.head(collection));
  }

  decision(collection: string, key: string, dot: Dot): Decision | undefined {
    return this.#lifecycle.run('decision', [collection, key, dot], () => this.#data.decision(collection, key, dot));
  }

  writeHead(replicaId: ReplicaId): WriteHead {
    return this.#lifecycle.run('writeHead', [replicaId], () => this.#data.writeHead(replicaId));
  }

  getMeta(name: string): string | undefined {
    return this.#lifecycle.run('getMeta', [name], () => this.#data.getMeta(name));
  }

  setMeta(name: string, value: string | undefined): void {
    this.transact((tx) => tx.setMeta(name, value));
  }

  replicaOwner(replicaId: ReplicaId): string | undefined {
    return this.#lifecycle.run('replicaOwner', [replicaId], () => this.#data.replicaOwner(replicaId));
  }

  claimReplica(replicaId: ReplicaId, principalId: string): string {
    return this.transact((tx) => tx.claimReplica(replicaId, principalId));
  }

  scan(collection: string, afterSeq: number, limit: number, prefix?: string): StoredDoc[] {
    return this.#lifecycle.run('scan', [collection, afterSeq, limit, prefix], () => this.#scan(collection, afterSeq, limit, prefix));
  }

  #scan(collection: string, afterSeq: number, limit: number, prefix: string | undefined): StoredDoc[] {
    const log = this.#data.collectionsByName.get(collection);
    const out: StoredDoc[] = [];
    if (log === undefined) return out;
    for (let index = afterSeq; index < log.keyAtSeq.length && out.length < limit; index++) {
      const key = log.keyAtSeq[index];
      if (key === undefined || (prefix !== undefined && !key.startsWith(prefix))) continue;
      const doc = log.docs.get(key)!;
      out.push({ key, state: doc.state, seq: doc.seq });
    }
    return out;
  }

  hashAt(collection: string, seq: number): string | undefined {
    return this.#lifecycle.run('hashAt', [collection, seq], () =>
      seq === 0 ? CHAIN_HASH_ZERO : this.#data.collectionsByName.get(collection)?.hashes[seq - 1],
    );
  }

  collections(): string[] {
    this.#lifecycle.check('collections');
    return [...this.#data.collectionsByName.keys()].sort();
  }

  stats(): StoreStats {
    this.#lifecycle.check('stats');
    let chars = 0;
    const collections = this.collections().map((name) => {
      const log = this.#data.collectionsByName.get(name)!;
      for (const [key, doc] of log.docs) chars += key.length + doc.state.length;
      chars += log.hashes.length * CHAIN_HASH_ZERO.length;
      return { name, keys: log.docs.size, seq: log.hashes.length };
    });
    return { collections, bytes: chars * 2 };
  }

  backup(_destPath: string): Promise<void> {
    return Promise.reject(
      this.closed
        ? new ConvergeError('internal', 'the memory relay store is closed: backup() is no longer possible')
        : new ConvergeError('internal', 'the memory relay store keeps nothing on disk and cannot be backed up'),
    );
  }

  close(): void {
    this.#lifecycle.close(() => undefined);
  }
}
