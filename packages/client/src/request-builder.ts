import type { AckLevel } from '@converge/protocol';
import type { CollectionSpec } from './collection-spec.js';
import { clearOp } from './crdt-ops.js';
import type { ReadMemories } from './read-memory.js';
import type { CrdtOp, WriteRequest } from './replica/apply-write.js';
import type { Version } from './replica/read-model.js';
import { encodeAppValue } from './values.js';

export interface WriteOptions {
  /** Resolve when the write is durable at this level (default `local`: committed to IndexedDB). */
  readonly ack?: AckLevel;
  /** The version the value was derived from (default: what this tab last read for the key). */
  readonly version?: Version;
}

/**
 * Builds the write requests of one collection (shared by `Collection` and `client.batch`). The
 * collection's spec is asked for only where a request depends on it (CRDT operations, a delete).
 */
export class RequestBuilder {
  readonly #specOf: () => CollectionSpec;
  readonly #memories: ReadMemories;

  constructor(
    readonly collection: string,
    specOf: () => CollectionSpec,
    memories: ReadMemories,
  ) {
    this.#specOf = specOf;
    this.#memories = memories;
  }

  /** How the collection resolves (as declared, or as the relay announced it). */
  get spec(): CollectionSpec {
    return this.#specOf();
  }

  #base(key: string, options: WriteOptions | undefined) {
    return { collection: this.collection, key, ack: options?.ack ?? 'local' };
  }

  put(key: string, value: unknown, options?: WriteOptions): WriteRequest {
    const read = this.#memories.contextOf(this.collection, key, options?.version);
    return { ...this.#base(key, options), kind: 'put', value: encodeAppValue(value), read };
  }

  delete(key: string, options?: WriteOptions): WriteRequest {
    const spec = this.spec;
    if (spec.crdt !== undefined) return this.op(key, clearOp(spec), options);
    return { ...this.#base(key, options), kind: 'delete', read: this.#memories.contextOf(this.collection, key, options?.version) };
  }

  update(key: string, fn: (current: unknown, exists: boolean) => unknown, options?: WriteOptions): WriteRequest {
    return { ...this.#base(key, options), kind: 'update', fn };
  }

  resolve(key: string, value: unknown, options?: WriteOptions): WriteRequest {
    return { ...this.#base(key, options), kind: 'put', value: encodeAppValue(value), read: 'stored' };
  }

  op(key: string, op: CrdtOp, options?: WriteOptions): WriteRequest {
    return { ...this.#base(key, options), kind: 'op', op };
  }
}
