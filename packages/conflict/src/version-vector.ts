import type { Dot } from './dot.js';
import type { ReplicaId } from './replica-id.js';

/**
 * `{ replica → counter }`: the replica's writes 1..counter have been seen. A `Map`, so no
 * replica id can reach an object prototype. Treated as immutable: every operation returns a
 * new vector.
 */
export type VersionVector = ReadonlyMap<ReplicaId, number>;

export type Ordering = 'equal' | 'before' | 'after' | 'concurrent';

export const EMPTY_VECTOR: VersionVector = new Map();

/**
 * Vectors made here keep their entries in replica-id order, so encoding never has to sort
 * (equal vectors encode to equal text). Lookups do not depend on the order.
 */
export function sortedVector(entries: Iterable<readonly [ReplicaId, number]>): Map<ReplicaId, number> {
  return new Map([...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

export function vectorFrom(entries: Record<string, number> | Iterable<readonly [ReplicaId, number]>): VersionVector {
  const pairs = Symbol.iterator in entries ? entries : Object.entries(entries);
  return sortedVector([...(pairs as Iterable<readonly [ReplicaId, number]>)].filter(([, counter]) => counter > 0));
}

/** Does the vector claim this write? */
export function covers(vv: VersionVector, dot: Dot): boolean {
  return (vv.get(dot[0]) ?? 0) >= dot[1];
}

/**
 * How `a` relates to `b` as sets of writes.
 *
 * @example
 * ```ts
 * compareVectors(vectorFrom({ A: 1 }), vectorFrom({ A: 2 })); // → 'before'
 * compareVectors(vectorFrom({ A: 1 }), vectorFrom({ B: 1 })); // → 'concurrent'
 * ```
 */
export function compareVectors(a: VersionVector, b: VersionVector): Ordering {
  let aAhead = false;
  let bAhead = false;
  for (const [replica, counter] of a) {
    const other = b.get(replica) ?? 0;
    if (counter > other) aAhead = true;
    else if (counter < other) bAhead = true;
  }
  for (const [replica, counter] of b) {
    if (!a.has(replica) && counter > 0) bAhead = true;
  }
  if (aAhead) return bAhead ? 'concurrent' : 'after';
  return bAhead ? 'before' : 'equal';
}

/** Pointwise maximum. Returns an input unchanged when it already dominates. */
export function mergeVectors(a: VersionVector, b: VersionVector): VersionVector {
  if (a === b || b.size === 0) return a;
  if (a.size === 0) return b;
  let out: Map<ReplicaId, number> | undefined;
  let added = false;
  for (const [replica, counter] of b) {
    const mine = a.get(replica);
    if (mine === undefined || counter > mine) {
      out ??= new Map(a);
      out.set(replica, counter);
      added ||= mine === undefined;
    }
  }
  // A replica new to `a` was appended at the end: restore replica-id order.
  return out === undefined ? a : added ? sortedVector(out) : out;
}
