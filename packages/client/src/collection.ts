import type { AckLevel } from '@converge/protocol';
import type { ChangeFeed } from './change-feed.js';
import type { WriteReceipt } from './client-types.js';
import type { CollectionSpec } from './collection-spec.js';
import { addOp, clearOp, incrementOp, removeOp, setOp } from './crdt-ops.js';
import type { LocalWrites } from './local-writes.js';
import type { ReadMemories } from './read-memory.js';
import type { RelayLink } from './relay-link.js';
import type { CrdtOp, WriteRequest } from './replica/apply-write.js';
import type { LocalReplica } from './replica/local-replica.js';
import { inspectRecord, type Conflict, type Doc, type Inspection } from './replica/read-model.js';
import { RequestBuilder, type WriteOptions } from './request-builder.js';
import type { WatchEvent, WatchTarget } from './watchers.js';

export interface ScanOptions {
  readonly prefix?: string;
  readonly limit?: number;
}

/** The parts of the client a collection uses. */
export interface CollectionCore {
  readonly replica: LocalReplica;
  readonly memories: ReadMemories;
  readonly writes: LocalWrites;
  readonly feed: ChangeFeed;
  readonly link: RelayLink;
}

let open: <T>(name: string, core: CollectionCore) => Collection<T>;

/** A collection over the client's parts (`client.collection(name)` is the way in). */
export function openCollection<T>(name: string, core: CollectionCore): Collection<T> {
  return open<T>(name, core);
}

/**
 * One collection of the replica. Reads are local (IndexedDB), writes commit locally first and
 * sync in the background. Values are anything superjson carries (plain objects, arrays, Date,
 * Map, Set, BigInt, undefined); CRDT collections hold their type's value.
 *
 * @example
 * ```ts
 * const client = await createClient({ name: 'example-notes', storage: 'memory' });
 * const notes = client.collection<{ text: string }>('notes');
 * await notes.put('n1', { text: 'buy milk' });
 * (await notes.get('n1'))?.value; // → { text: 'buy milk' }
 * await client.close();
 * ```
 */
export class Collection<T = unknown> {
  readonly #core: CollectionCore;
  readonly #build: RequestBuilder;

  private constructor(
    readonly name: string,
    core: CollectionCore,
  ) {
    this.#core = core;
    this.#build = new RequestBuilder(name, () => this.spec, core.memories);
  }

  static {
    open = <T>(name: string, core: CollectionCore) => new Collection<T>(name, core);
  }

  /** How the collection resolves and syncs: as declared, or as the relay's configuration says for an undeclared one. */
  get spec(): CollectionSpec {
    return this.#core.replica.spec(this.name);
  }

  async #one(request: () => WriteRequest, ack: AckLevel | undefined): Promise<WriteReceipt> {
    const [receipt] = await this.#core.writes.commit([request()], ack ?? 'local');
    return receipt!;
  }

  /**
   * The document as this replica holds it, or undefined when absent. `consistency: 'leader'`
   * first asks the relay (leader-follower collections: a read that is not behind the leader).
   */
  async get(key: string, options: { readonly consistency?: 'local' | 'leader' } = {}): Promise<Doc<T> | undefined> {
    if (options.consistency === 'leader') await this.#core.link.read(this.name, [key]);
    const record = await this.#core.replica.doc(this.name, key);
    return record === undefined ? undefined : this.#core.memories.read<T>(this.spec, record);
  }

  /** Documents in key order; absent (deleted) ones are skipped. */
  async scan(options: ScanOptions = {}): Promise<Doc<T>[]> {
    const limit = options.limit ?? Infinity;
    const out: Doc<T>[] = [];
    if (limit <= 0) return out;
    let after: string | undefined;
    for (;;) {
      const page = await this.#core.replica.scan(this.name, {
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
        ...(after === undefined ? {} : { after }),
        limit: 500,
      });
      for (const record of page) {
        const doc = this.#core.memories.read<T>(this.spec, record);
        if (doc !== undefined) out.push(doc);
        if (out.length >= limit) return out;
      }
      if (page.length < 500) return out;
      after = page[page.length - 1]!.key;
    }
  }

  /** Writes a value. Its context is `version`, or what this tab last read of the key (nothing read: a blind write). */
  put(key: string, value: T, options?: WriteOptions): Promise<WriteReceipt> {
    return this.#one(() => this.#build.put(key, value, options), options?.ack);
  }

  /** Deletes (a tombstone; on a CRDT collection, the type's observed-remove clear). */
  delete(key: string, options?: WriteOptions): Promise<WriteReceipt> {
    return this.#one(() => this.#build.delete(key, options), options?.ack);
  }

  /**
   * Read-modify-write in one transaction: `fn` gets the stored value and its result is written
   * over everything stored. `fn` must be synchronous (awaiting would commit IndexedDB early).
   *
   * @example
   * ```ts
   * const client = await createClient({ name: 'example-update', storage: 'memory' });
   * const visits = client.collection<number>('visits');
   * await Promise.all([visits.update('home', (n) => (n ?? 0) + 1), visits.update('home', (n) => (n ?? 0) + 1)]);
   * (await visits.get('home'))?.value; // → 2
   * await client.close();
   * ```
   */
  update(key: string, fn: (current: T | undefined) => T, options?: Omit<WriteOptions, 'version'>): Promise<WriteReceipt> {
    return this.#one(() => this.#build.update(key, (current) => fn(current as T | undefined), options), options?.ack);
  }

  /** Writes `value` over every sibling stored for the key (conflicts included): the app's resolution. */
  resolve(key: string, value: T, options?: Omit<WriteOptions, 'version'>): Promise<WriteReceipt> {
    return this.#one(() => this.#build.resolve(key, value, options), options?.ack);
  }

  /**
   * The concurrent versions of a key (empty when none).
   *
   * @example
   * ```ts
   * // Two tabs of one database (same name), each writing without having read the other's value:
   * const tab1 = await createClient({ name: 'example-conflicts', storage: 'memory', tabs: false });
   * const tab2 = await createClient({ name: 'example-conflicts', storage: 'memory', tabs: false });
   * await tab1.collection('notes').put('k', 'tea');
   * await tab2.collection('notes').put('k', 'coffee');
   * // 'coffee' has the higher HLC: it is the value, 'tea' the conflict.
   * (await tab1.collection('notes').conflicts('k')).map((c) => c.value); // → ['tea']
   * await tab1.collection('notes').resolve('k', 'tea and coffee');
   * (await tab2.collection('notes').get('k'))?.conflicts; // → []
   * (await tab2.collection('notes').get('k'))?.value; // → 'tea and coffee'
   * await tab1.close();
   * await tab2.close();
   * ```
   */
  async conflicts(key: string): Promise<readonly Conflict<T>[]> {
    return (await this.get(key))?.conflicts ?? [];
  }

  /** `increment(key, by)` on a counter; `increment(key, item, by = 1)` on a cart. */
  increment(key: string, itemOrBy: string | number, by?: number, options?: Omit<WriteOptions, 'version'>): Promise<WriteReceipt> {
    return this.#one(() => this.#build.op(key, incrementOp(this.spec, itemOrBy, by), options), options?.ack);
  }

  /** `add(key, element)` on an OR-set. */
  add(key: string, element: unknown, options?: Omit<WriteOptions, 'version'>): Promise<WriteReceipt> {
    return this.#one(() => this.#build.op(key, addOp(this.spec, element), options), options?.ack);
  }

  /** Removes an element (OR-set) or an item or field (cart, LWW map) — only what this replica has seen. */
  remove(key: string, elementOrItem: unknown, options?: Omit<WriteOptions, 'version'>): Promise<WriteReceipt> {
    return this.#one(() => this.#build.op(key, removeOp(this.spec, elementOrItem), options), options?.ack);
  }

  /** Sets one field of an LWW map. */
  set(key: string, field: string, value: unknown, options?: Omit<WriteOptions, 'version'>): Promise<WriteReceipt> {
    return this.#one(() => this.#build.op(key, setOp(this.spec, field, value), options), options?.ack);
  }

  /** Empties a CRDT value (what it has seen; concurrent additions survive). */
  clear(key: string, options?: Omit<WriteOptions, 'version'>): Promise<WriteReceipt> {
    return this.#one(() => this.#build.op(key, clearOp(this.spec), options), options?.ack);
  }

  /** Applies a raw operation of the collection's CRDT type. */
  apply(key: string, op: CrdtOp, options?: Omit<WriteOptions, 'version'>): Promise<WriteReceipt> {
    return this.#one(() => this.#build.op(key, op, options), options?.ack);
  }

  /**
   * Calls `listener` once per committed batch (local writes, remote changes, another tab's
   * writes, a refused write rolled back) that changed the key or a key under the prefix.
   * The relay acknowledging a local write changes no value and calls no listener: its
   * `pending` and `confirmed` move on quietly (follow `client.watchOutbox` or the `acked`
   * event for that). Returns the unsubscribe function.
   *
   * @example
   * ```ts
   * const client = await createClient({ name: 'example-watch', storage: 'memory' });
   * const seen: string[][] = [];
   * const stop = client.collection('notes').watch({ prefix: 'n-' }, (events) => seen.push(events.map((e) => e.key)));
   * await client.putMany('notes', [['n-1', 'a'], ['n-2', 'b'], ['x-1', 'c']]);
   * // One call for the batch, with the watched keys only:
   * seen; // → [['n-1', 'n-2']]
   * stop();
   * await client.close();
   * ```
   */
  watch(target: WatchTarget, listener: (events: WatchEvent<T>[]) => void): () => void {
    return this.#core.feed.watch(this.name, target, listener as (events: WatchEvent<unknown>[]) => void);
  }

  /** Siblings with their dots and HLCs, the causal context, the rule that chose the value, pending writes. */
  async inspect(key: string): Promise<Inspection> {
    const [record, pending] = await this.#core.replica.docWithPending(this.name, key);
    return inspectRecord(this.spec, record, key, pending);
  }

  /** Drops the local copy (not a delete); the key's counter floor is kept. Refused while writes to it are pending. */
  async evict(key: string): Promise<void> {
    await this.#core.replica.evict(this.name, key);
  }
}
