import { canonical, deepEqual } from './canonical.js';
import { addDot, contextHas, EMPTY_CONTEXT, joinByDot, maxCounter, unionContexts, type CausalContext } from './causal-context.js';
import { compareDots, type Dot } from './dot.js';
import { ConvergeError } from './errors.js';
import { compareHlc, type Hlc } from './hlc.js';
import type { ReplicaId } from './replica-id.js';

export interface LiveSibling<T> {
  readonly dot: Dot;
  readonly hlc: Hlc;
  readonly value: T;
  readonly deleted?: never;
}

export interface Tombstone {
  readonly dot: Dot;
  readonly hlc: Hlc;
  readonly deleted: true;
}

/** One concurrent version of a document: a value or a delete, with the dot and HLC of its write. */
export type Sibling<T> = LiveSibling<T> | Tombstone;

/**
 * A document's state: a dotted version vector set. Every sibling's dot is in `context`;
 * `siblings` are sorted by dot and pairwise concurrent. A delta (what a write sends) has the
 * same shape: the writer's read context plus its one dot, and the one new sibling.
 */
export interface DocState<T> {
  readonly context: CausalContext;
  readonly siblings: readonly Sibling<T>[];
}

export function emptyDocState<T>(): DocState<T> {
  return { context: EMPTY_CONTEXT, siblings: [] };
}

export function isTombstone<T>(sibling: Sibling<T>): sibling is Tombstone {
  return sibling.deleted === true;
}

/** Total order of siblings: HLC, then dot counter (two tabs of one replica can share an HLC). */
export function compareSiblings<T>(a: Sibling<T>, b: Sibling<T>): number {
  return compareHlc(a.hlc, b.hlc) || compareDots(a.dot, b.dot);
}

/**
 * The dot a replica's next write to this key gets: one above both the replica's counter
 * floor for the key (kept after the document is evicted, deleted or collected) and every
 * counter of the replica in the state. Callers allocate it in the same transaction that
 * stores the write, so two tabs never share a counter.
 */
export function nextDot(state: DocState<unknown>, replica: ReplicaId, counterFloor = 0): Dot {
  const counter = Math.max(counterFloor, maxCounter(state.context, replica)) + 1;
  if (!Number.isSafeInteger(counter)) throw new ConvergeError('internal', `counter of replica ${replica} overflowed`);
  return [replica, counter];
}

export type WriteInput<T> = {
  readonly dot: Dot;
  readonly hlc: Hlc;
  /** What the written value was derived from; `EMPTY_CONTEXT` for a blind write. */
  readonly readContext: CausalContext;
} & ({ readonly value: T; readonly deleted?: never } | { readonly deleted: true; readonly value?: never });

export interface WriteResult<T> {
  readonly state: DocState<T>;
  /** What to send to other replicas: the read context plus the new dot, and the new sibling. */
  readonly delta: DocState<T>;
  readonly dot: Dot;
  /** Siblings this write replaced (their dots were in the read context). */
  readonly superseded: readonly Sibling<T>[];
}

/**
 * Applies a local write at an allocated dot. Keeps the siblings the read context has not
 * seen, adds the new one; the state's context gains the dot.
 *
 * @example
 * ```ts
 * const hlc = { wall: 1, logical: 0, replica: 'A' };
 * const s0 = emptyDocState<string>();
 * const w1 = writeDoc(s0, { dot: nextDot(s0, 'A'), hlc, readContext: EMPTY_CONTEXT, value: 'v1' });
 * const w2 = writeDoc(w1.state, { dot: nextDot(w1.state, 'A'), hlc: { ...hlc, wall: 2 }, readContext: w1.state.context, value: 'v2' });
 * // v1 was read, so v2 replaces it:
 * w2.state.siblings.map((s) => s.value); // → ['v2']
 * ```
 */
export function writeDoc<T>(state: DocState<T>, input: WriteInput<T>): WriteResult<T> {
  const { dot, hlc, readContext } = input;
  if (hlc.replica !== dot[0]) {
    throw new ConvergeError('internal', `hlc replica ${hlc.replica} differs from dot replica ${dot[0]}`);
  }
  if (contextHas(state.context, dot)) {
    throw new ConvergeError('replica_reset', `dot ${dot[0]}:${dot[1]} was already used for this key`);
  }
  const sibling: Sibling<T> = input.deleted === true ? { dot, hlc, deleted: true } : { dot, hlc, value: input.value as T };
  const delta: DocState<T> = { context: addDot(readContext, dot), siblings: [sibling] };
  const superseded = state.siblings.filter((s) => contextHas(readContext, s.dot));
  const { state: next } = mergeDocStates(state, delta);
  return { state: next, delta, dot, superseded };
}

/** The same dot carried two different contents: a reused counter or a re-stamped write. */
export interface DotAnomaly<T> {
  readonly kind: 'same_dot_different_content';
  readonly dot: Dot;
  readonly kept: Sibling<T>;
  readonly dropped: Sibling<T>;
}

export interface MergeResult<T> {
  readonly state: DocState<T>;
  /** Callers raise `replica_reset` for these; merge itself never throws, so one key cannot block a batch. */
  readonly anomalies: readonly DotAnomaly<T>[];
}

function sameContent<T>(a: Sibling<T>, b: Sibling<T>): boolean {
  if (a === b) return true;
  if (compareHlc(a.hlc, b.hlc) !== 0 || a.deleted !== b.deleted) return false;
  return a.deleted === true || deepEqual(a.value, (b as LiveSibling<T>).value);
}

/** A content fingerprint of a sibling: equal for equal content, and totally ordered. */
export function siblingContent<T>(s: Sibling<T>): string {
  return canonical([s.hlc.wall, s.hlc.logical, s.hlc.replica, s.deleted === true ? 'deleted' : 'value', s.deleted === true ? null : s.value]);
}

/**
 * Joins two states: a sibling survives if the other side also has it or has not seen its
 * dot; contexts are united. Commutative, associative and idempotent. Both inputs must be
 * canonical (siblings sorted by dot), as every function here leaves them.
 */
export function mergeDocStates<T>(a: DocState<T>, b: DocState<T>): MergeResult<T> {
  if (a === b) return { state: a, anomalies: [] };
  let anomalies: DotAnomaly<T>[] | undefined;
  const siblings = joinByDot(a.siblings, a.context, b.siblings, b.context, (x, y) => {
    if (sameContent(x, y)) return x;
    const keepX = siblingContent(x) > siblingContent(y);
    const kept = keepX ? x : y;
    (anomalies ??= []).push({ kind: 'same_dot_different_content', dot: kept.dot, kept, dropped: keepX ? y : x });
    return kept;
  });
  return { state: { context: unionContexts(a.context, b.context), siblings }, anomalies: anomalies ?? [] };
}

/**
 * What a replica that receives `incoming` for a key holds afterwards: `incoming` itself when it
 * held nothing for the key (no merge: merging into the empty state changes nothing), else the
 * merge. `incoming` must be canonical, as every decoder here leaves it.
 *
 * @example
 * ```ts
 * const hlc = { wall: 1, logical: 0, replica: 'A' };
 * const { delta } = writeDoc(emptyDocState<string>(), { dot: ['A', 1], hlc, readContext: EMPTY_CONTEXT, value: 'v1' });
 * adoptOrMerge(undefined, delta).state === delta; // → true
 * ```
 */
export function adoptOrMerge<T>(local: DocState<T> | undefined, incoming: DocState<T>): MergeResult<T> {
  return local === undefined ? { state: incoming, anomalies: [] } : mergeDocStates(local, incoming);
}

/**
 * The one sibling of a *simple* state, or `undefined`: a simple state holds a single live
 * sibling and its context is exactly that sibling's writer's writes 1..counter (no other
 * replica, no cloud). Most documents are simple most of the time (one writer, or a write that
 * had seen every other); the wire writes them as the sibling alone.
 *
 * @example
 * ```ts
 * const hlc = { wall: 1, logical: 0, replica: 'A' };
 * const { state } = writeDoc(emptyDocState<string>(), { dot: ['A', 1], hlc, readContext: EMPTY_CONTEXT, value: 'v1' });
 * simpleSibling(state)?.value; // → 'v1'
 * ```
 */
export function simpleSibling<T>(state: DocState<T>): LiveSibling<T> | undefined {
  const { siblings, context } = state;
  if (siblings.length !== 1 || context.cloud.length !== 0 || context.vv.size !== 1) return undefined;
  const sibling = siblings[0]!;
  return sibling.deleted !== true && context.vv.get(sibling.dot[0]) === sibling.dot[1] ? sibling : undefined;
}

/** The simple state of one live sibling: its context is the sibling's writer's writes 1..counter. */
export function simpleState<T>(sibling: LiveSibling<T>): DocState<T> {
  const vv = new Map<ReplicaId, number>();
  vv.set(sibling.dot[0], sibling.dot[1]);
  return { context: { vv, cloud: EMPTY_CONTEXT.cloud }, siblings: [sibling] };
}

/** The siblings holding values (not deletes). A state with none reads as absent. */
export function liveSiblings<T>(state: DocState<T>): LiveSibling<T>[] {
  return state.siblings.filter((s): s is LiveSibling<T> => s.deleted !== true);
}
