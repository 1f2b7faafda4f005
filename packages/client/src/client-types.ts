import type { ErrorCode } from '@converge/conflict';
import type { AckLevel } from '@converge/protocol';
import type { CrdtOp } from './replica/apply-write.js';
import type { Version } from './replica/read-model.js';

/** A write once it reached the level asked for. */
export interface WriteReceipt {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly level: AckLevel;
}

/** A pending write, as `client.outbox()` lists it. */
export interface PendingWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  /** Every write in the outbox is committed locally and not yet held by the relay. */
  readonly status: 'local';
  /** The level its writer waits for. */
  readonly ack: AckLevel;
  readonly kind: 'put' | 'delete' | 'op';
  readonly value?: unknown;
  readonly op?: CrdtOp;
  readonly createdAt: number;
  /** Refused for its clock: it is written again with a corrected clock before the next push. */
  readonly skewed: boolean;
}

/** A write the relay refused for good, kept until the app retries or discards it. */
export interface RejectedWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly key: string;
  readonly status: 'rejected';
  readonly code: ErrorCode;
  readonly message: string;
  readonly kind: 'put' | 'delete' | 'op';
  /** The attempted value (`put`). */
  readonly value?: unknown;
  readonly op?: CrdtOp;
  readonly at: number;
  /** Writes the attempt again as a new write over the current state. */
  retry(options?: { readonly ack?: AckLevel }): Promise<WriteReceipt>;
  /** Forgets the attempt. */
  discard(): Promise<void>;
}

/** Collects the writes of `client.batch`: every method records one write. */
export interface BatchWriter {
  collection(name: string): BatchCollection;
}

export interface BatchCollection {
  put(key: string, value: unknown, options?: { readonly version?: Version }): void;
  delete(key: string): void;
  update(key: string, fn: (current: unknown) => unknown): void;
  increment(key: string, itemOrBy: string | number, by?: number): void;
  /** `add(key, element)` on an OR-set. */
  add(key: string, element: unknown): void;
  /** Removes an element (OR-set) or an item or field (cart, LWW map). */
  remove(key: string, elementOrItem: unknown): void;
  /** Sets one field of an LWW map. */
  set(key: string, field: string, value: unknown): void;
  /** Empties a CRDT value (what it has seen). */
  clear(key: string): void;
  apply(key: string, op: CrdtOp): void;
}
