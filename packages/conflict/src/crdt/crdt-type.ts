import type { CausalContext } from '../causal-context.js';
import type { Dot } from '../dot.js';
import type { Result } from '../errors.js';
import type { Hlc } from '../hlc.js';

/**
 * A CRDT as a causal dot-store: every entry is named by the DVV dot of the write that made
 * it, never by an id the CRDT mints per replica (two tabs of one replica would collide).
 * A join keeps an entry unless the other side has seen its dot and lacks the entry.
 */
export interface CrdtType<S, V, Op> {
  readonly name: string;
  empty(): S;
  isEmpty(store: S): boolean;
  /** The causal join of two stores, each with the set of dots it has seen. */
  join(a: S, aSeen: CausalContext, b: S, bSeen: CausalContext): S;
  /** Applies an operation made by the write at `dot` (stamped `hlc`) to the joined store. */
  apply(store: S, op: Op, dot: Dot, hlc: Hlc): S;
  /** What the app reads. */
  read(store: S): V;
  /** Every entry's dot with a fingerprint of its content, for validating untrusted writes. */
  entries(store: S): Iterable<readonly [Dot, string]>;
  toJson(store: S): unknown;
  fromJson(json: unknown, path: string): Result<S>;
  /** Why an operation from the app is malformed, or undefined. */
  opProblem(op: unknown): string | undefined;
}

/** A CRDT value as stored in one DVV sibling: the store plus the dots it has seen. */
export interface CrdtState<S> {
  readonly store: S;
  readonly seen: CausalContext;
}

/** The operation every type has: remove every entry seen (the CRDT's delete). */
export interface ClearOp {
  readonly type: 'clear';
}

export type AnyCrdtType = CrdtType<unknown, unknown, unknown>;
