import type { CausalContext } from './causal-context.js';
import type { AnyCrdtType, CrdtState } from './crdt/crdt-type.js';
import { readCrdt } from './crdt/crdt-doc.js';
import { sameDot, type Dot } from './dot.js';
import { compareSiblings, type DocState, type LiveSibling, type Sibling } from './doc-state.js';

/** What the app reads for one key under a collection's strategy. */
export interface Resolved<T> {
  /** False when the key reads as absent (no value, or every live sibling is a delete). */
  readonly exists: boolean;
  readonly value: T | undefined;
  /** Concurrent versions the app should know of; empty when there is nothing to resolve. */
  readonly conflicts: readonly Sibling<T>[];
  /** The context to write with to supersede everything read here. */
  readonly version: CausalContext;
  /** The sibling whose value was returned, when one was. */
  readonly winner: Dot | undefined;
}

export interface MergeInfo<T> {
  /** The live siblings, in canonical (HLC) order, the same on every replica. */
  readonly siblings: readonly LiveSibling<T>[];
}

/** An application merge: deterministic and independent of the order of its inputs. */
export type MergeFn<T> = (values: readonly T[], info: MergeInfo<T>) => T;

export type Strategy<T = unknown> =
  | { readonly kind: 'siblings' }
  | { readonly kind: 'lww' }
  | { readonly kind: 'merge'; readonly merge: MergeFn<T> }
  | { readonly kind: 'crdt'; readonly type: AnyCrdtType };

function byHlcDescending<T>(siblings: readonly Sibling<T>[]): Sibling<T>[] {
  return [...siblings].sort((a, b) => compareSiblings(b, a));
}

/**
 * Default, as CouchDB and Riak: nothing lost. The value is the live sibling with the highest
 * HLC; every other sibling (a concurrent delete too) is a conflict until a write covers it.
 */
export function resolveSiblings<T>(state: DocState<T>): Resolved<T> {
  const ordered = byHlcDescending(state.siblings);
  const winner = ordered.find((s): s is LiveSibling<T> => s.deleted !== true);
  if (winner === undefined) return { exists: false, value: undefined, conflicts: [], version: state.context, winner: undefined };
  const conflicts = ordered.filter((s) => s !== winner);
  return { exists: true, value: winner.value, conflicts, version: state.context, winner: winner.dot };
}

/**
 * Last writer wins, chosen on read: the highest HLC (a delete too). Losers stay in the state,
 * hidden, until a write covers them; see `discardedByWrite`.
 */
export function resolveLww<T>(state: DocState<T>): Resolved<T> {
  const winner = byHlcDescending(state.siblings)[0];
  if (winner === undefined || winner.deleted === true) {
    return { exists: false, value: undefined, conflicts: [], version: state.context, winner: winner?.dot };
  }
  return { exists: true, value: winner.value, conflicts: [], version: state.context, winner: winner.dot };
}

/**
 * The values a write removed that the app never saw as the value (LWW losers): report each to
 * the app's conflict hook, never drop one silently.
 */
export function discardedByWrite<T>(superseded: readonly Sibling<T>[], readWinner: Dot | undefined): Sibling<T>[] {
  return superseded.filter((s) => readWinner === undefined || !sameDot(s.dot, readWinner));
}

/**
 * An application merge, computed on read and never written back by itself. The function sees
 * the live sibling values sorted canonically (by HLC), so the result does not depend on the
 * order siblings arrived in.
 */
export function resolveMerge<T>(state: DocState<T>, merge: MergeFn<T>): Resolved<T> {
  const live = state.siblings.filter((s): s is LiveSibling<T> => s.deleted !== true).sort(compareSiblings);
  const top = live[live.length - 1];
  if (top === undefined) return { exists: false, value: undefined, conflicts: [], version: state.context, winner: undefined };
  if (live.length === 1) return { exists: true, value: top.value, conflicts: [], version: state.context, winner: top.dot };
  const value = merge(
    live.map((s) => s.value),
    { siblings: live },
  );
  return { exists: true, value, conflicts: live, version: state.context, winner: undefined };
}

/** A CRDT type: the join of the siblings' dot-stores, read out. */
export function resolveCrdt(state: DocState<CrdtState<unknown>>, type: AnyCrdtType): Resolved<unknown> {
  const { exists, value } = readCrdt(type, state);
  return { exists, value: exists ? value : undefined, conflicts: [], version: state.context, winner: undefined };
}

export function resolve<T>(state: DocState<T>, strategy: Strategy<T>): Resolved<T> {
  switch (strategy.kind) {
    case 'siblings':
      return resolveSiblings(state);
    case 'lww':
      return resolveLww(state);
    case 'merge':
      return resolveMerge(state, strategy.merge);
    case 'crdt':
      return resolveCrdt(state as DocState<CrdtState<unknown>>, strategy.type) as Resolved<T>;
  }
}
