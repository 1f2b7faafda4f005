import { compareDots, type Dot } from './dot.js';
import type { ReplicaId } from './replica-id.js';
import { EMPTY_VECTOR, mergeVectors, sortedVector, type VersionVector } from './version-vector.js';

/**
 * A set of seen writes: a version vector (a gap-free prefix per replica) plus the `cloud`,
 * single dots seen beyond that prefix. Canonical form, kept by every function here: the
 * cloud is sorted by (replica, counter), holds no dot the vector covers and no dot that
 * would extend the vector (such dots are folded into it: "compaction").
 *
 * A bare vector cannot say "B2 seen but not B1"; encoding that as `{B: 2}` would make a
 * receiver drop B1 as already seen. The cloud says it exactly.
 */
export interface CausalContext {
  readonly vv: VersionVector;
  readonly cloud: readonly Dot[];
}

export const EMPTY_CONTEXT: CausalContext = Object.freeze({ vv: EMPTY_VECTOR, cloud: Object.freeze([]) as readonly Dot[] });

export function contextHas(ctx: CausalContext, dot: Dot): boolean {
  if ((ctx.vv.get(dot[0]) ?? 0) >= dot[1]) return true;
  for (const seen of ctx.cloud) {
    if (seen[0] === dot[0] && seen[1] === dot[1]) return true;
  }
  return false;
}

/** The highest counter of `replica` in the context, vector or cloud (0 when none). */
export function maxCounter(ctx: CausalContext, replica: ReplicaId): number {
  let max = ctx.vv.get(replica) ?? 0;
  for (const dot of ctx.cloud) {
    if (dot[0] === replica && dot[1] > max) max = dot[1];
  }
  return max;
}

/** Builds a canonical context from a vector and any dots (covered, duplicate or unsorted). */
export function compact(vv: VersionVector, dots: readonly Dot[]): CausalContext {
  if (dots.length === 0) return { vv, cloud: EMPTY_CONTEXT.cloud };
  const sorted = dots.length === 1 ? dots : [...dots].sort(compareDots);
  let vector: Map<ReplicaId, number> | undefined;
  let added = false;
  const cloud: Dot[] = [];
  for (const dot of sorted) {
    const [replica, counter] = dot;
    const prefix = (vector ?? vv).get(replica) ?? 0;
    if (counter <= prefix) continue;
    if (counter === prefix + 1) {
      vector ??= new Map(vv);
      added ||= prefix === 0;
      vector.set(replica, counter);
      continue;
    }
    const last = cloud[cloud.length - 1];
    if (last !== undefined && last[0] === replica && last[1] === counter) continue;
    cloud.push(dot);
  }
  // Sorted ascending per replica, so a dot kept in the cloud can never be reached later.
  const finalVv = vector === undefined ? vv : added ? sortedVector(vector) : vector;
  return { vv: finalVv, cloud: cloud.length === 0 ? EMPTY_CONTEXT.cloud : cloud };
}

export function contextFromDots(dots: readonly Dot[]): CausalContext {
  return compact(EMPTY_VECTOR, dots);
}

export function addDot(ctx: CausalContext, dot: Dot): CausalContext {
  if (contextHas(ctx, dot)) return ctx;
  return compact(ctx.vv, ctx.cloud.length === 0 ? [dot] : [...ctx.cloud, dot]);
}

/** The union of two sets of seen writes. */
export function unionContexts(a: CausalContext, b: CausalContext): CausalContext {
  if (a === b) return a;
  const vv = mergeVectors(a.vv, b.vv);
  if (a.cloud.length === 0 && b.cloud.length === 0) return vv === a.vv ? a : vv === b.vv ? b : { vv, cloud: EMPTY_CONTEXT.cloud };
  return compact(vv, a.cloud.length === 0 ? b.cloud : b.cloud.length === 0 ? a.cloud : [...a.cloud, ...b.cloud]);
}

/**
 * The first dot of `inner` that `outer` has not seen, or `undefined` when `outer` contains
 * all of `inner` — exact dot-set containment, never a comparison of maximum counters.
 */
export function firstUnseenDot(outer: CausalContext, inner: CausalContext): Dot | undefined {
  for (const [replica, counter] of inner.vv) {
    // outer is canonical: its cloud never holds outer.vv[r] + 1, so the vector alone decides.
    const prefix = outer.vv.get(replica) ?? 0;
    if (prefix < counter) return [replica, prefix + 1];
  }
  for (const dot of inner.cloud) {
    if (!contextHas(outer, dot)) return dot;
  }
  return undefined;
}

export function containsContext(outer: CausalContext, inner: CausalContext): boolean {
  return firstUnseenDot(outer, inner) === undefined;
}

export function contextsEqual(a: CausalContext, b: CausalContext): boolean {
  if (a === b) return true;
  if (a.vv.size !== b.vv.size || a.cloud.length !== b.cloud.length) return false;
  for (const [replica, counter] of a.vv) if (b.vv.get(replica) !== counter) return false;
  return a.cloud.every((dot, i) => {
    const other = b.cloud[i];
    return other !== undefined && other[0] === dot[0] && other[1] === dot[1];
  });
}

/** Number of writes in the context. */
export function contextSize(ctx: CausalContext): number {
  let size = ctx.cloud.length;
  for (const counter of ctx.vv.values()) size += counter;
  return size;
}

/**
 * The causal join of two dot-sorted lists of entries (DVV siblings, dot-store entries): an
 * entry survives if both sides have it, or the other side has not seen its dot. `same` picks
 * the entry when both sides hold one dot. Linear: one merge pass over the two sorted lists.
 */
export function joinByDot<E extends { readonly dot: Dot }>(
  a: readonly E[],
  aSeen: CausalContext,
  b: readonly E[],
  bSeen: CausalContext,
  same: (x: E, y: E) => E,
): E[] {
  const out: E[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    const order = x === undefined ? 1 : y === undefined ? -1 : compareDots(x.dot, y.dot);
    if (order < 0) {
      if (!contextHas(bSeen, x!.dot)) out.push(x!);
      i++;
    } else if (order > 0) {
      if (!contextHas(aSeen, y!.dot)) out.push(y!);
      j++;
    } else {
      out.push(same(x!, y!));
      i++;
      j++;
    }
  }
  return out;
}
