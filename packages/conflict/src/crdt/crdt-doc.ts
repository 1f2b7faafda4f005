import { addDot, containsContext, contextHas, firstUnseenDot, joinByDot, unionContexts } from '../causal-context.js';
import type { Dot } from '../dot.js';
import { writeDoc, type DocState, type WriteResult } from '../doc-state.js';
import { decodeContext, encodeContext } from '../encoding.js';
import { ConvergeError, fail, ok, type Result } from '../errors.js';
import type { Hlc } from '../hlc.js';
import type { ReplicaId } from '../replica-id.js';
import type { ClearOp, CrdtState, CrdtType } from './crdt-type.js';

/**
 * CRDT values inside DVV siblings. Each sibling holds a whole dot-store with the dots it has
 * seen; reading joins the siblings; a write joins them, applies its operation under its own
 * dot and replaces them all (its context covers them).
 */
export function joinSiblings<S>(type: CrdtType<S, unknown, unknown>, state: DocState<CrdtState<S>>): CrdtState<S> {
  let joined: CrdtState<S> | undefined;
  for (const sibling of state.siblings) {
    if (sibling.deleted === true) continue;
    const next = sibling.value;
    joined = joined === undefined ? next : { store: type.join(joined.store, joined.seen, next.store, next.seen), seen: unionContexts(joined.seen, next.seen) };
  }
  return joined ?? { store: type.empty(), seen: state.context };
}

export interface CrdtRead<V> {
  /** False when the joined store is empty: the key reads as absent. */
  readonly exists: boolean;
  readonly value: V;
}

export function readCrdt<S, V>(type: CrdtType<S, V, unknown>, state: DocState<CrdtState<S>>): CrdtRead<V> {
  const { store } = joinSiblings(type, state);
  return { exists: !type.isEmpty(store), value: type.read(store) };
}

export interface CrdtWriteInput<Op extends { readonly type: string }> {
  readonly dot: Dot;
  readonly hlc: Hlc;
  readonly op: Op | ClearOp;
}

/**
 * Applies an operation to the stored state at an allocated dot — inside the same
 * transaction that allocated it, so the dot and the state it extends are found together.
 * The read context is the whole stored context: the result replaces every sibling.
 */
export function applyCrdtOp<S, Op extends { readonly type: string }>(
  type: CrdtType<S, unknown, Op>,
  state: DocState<CrdtState<S>>,
  input: CrdtWriteInput<Op>,
): WriteResult<CrdtState<S>> {
  const { dot, hlc, op } = input;
  if (op.type !== 'clear') {
    const problem = type.opProblem(op);
    if (problem !== undefined) throw new ConvergeError('bad_message', `${type.name}: ${problem}`);
  }
  const joined = joinSiblings(type, state);
  const store = op.type === 'clear' ? type.empty() : type.apply(joined.store, op as Op, dot, hlc);
  // The value has seen what the write has: the stored context plus its own dot.
  const value: CrdtState<S> = { store, seen: addDot(state.context, dot) };
  return writeDoc(state, { dot, hlc, readContext: state.context, value });
}

export function crdtStateToJson<S>(type: CrdtType<S, unknown, unknown>, state: CrdtState<S>): unknown {
  return { s: type.toJson(state.store), c: encodeContext(state.seen) };
}

export function crdtStateFromJson<S>(type: CrdtType<S, unknown, unknown>, json: unknown, path = 'value'): Result<CrdtState<S>> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail(path, `${type.name} value must be {s, c}`);
  const { s, c } = json as { s?: unknown; c?: unknown };
  const seen = decodeContext(c, `${path}.c`);
  if (!seen.ok) return seen;
  const store = type.fromJson(s, `${path}.s`);
  if (!store.ok) return store;
  for (const [dot] of type.entries(store.value)) {
    if (!contextHas(seen.value, dot)) return fail(`${path}.s`, `entry ${dot[0]}:${dot[1]} lies outside the value's seen-set`);
  }
  return ok({ store: store.value, seen: seen.value });
}

/**
 * The relay's check of one untrusted CRDT write (a delta whose sibling values are already
 * decoded) against the state it holds. Each sibling's seen-set must lie inside the delta's
 * context. Then the check judges the RESULT, not the pushed value alone: in the joined value of
 * the state the relay would store after merging the write, every entry must be one the relay's
 * current joined value holds with the same content, or a new entry under a dot of the writer
 * that the relay has not seen (its own write, or its own earlier writes squashed into this one).
 * A value may carry entries the relay has seen removed only while the remover's sibling
 * survives the merge (a stale tab), since the join then drops them; a write that supersedes
 * every sibling would otherwise re-create or inflate entries in another replica's name.
 *
 * `repair`: a full state re-pushed after the relay lost data (inside its recovery window). It
 * may also bring back entries under other replicas' dots, but only dots the relay has not seen
 * (what it lost): an entry under a dot the relay has seen is judged as above, so a re-push
 * cannot re-create what the relay saw removed.
 */
export function checkCrdtWrite<S>(
  type: CrdtType<S, unknown, unknown>,
  delta: DocState<CrdtState<S>>,
  current: DocState<CrdtState<S>>,
  writer: ReplicaId,
  options: { readonly repair?: boolean } = {},
): Result<true> {
  if (delta.siblings.length === 0) return fail('delta.siblings', 'a CRDT write carries a sibling');
  for (const sibling of delta.siblings) {
    if (sibling.deleted === true) return fail('delta.siblings', 'CRDT collections have no tombstones: delete is clear');
    const { seen } = sibling.value;
    if (!containsContext(delta.context, seen)) {
      const dot = firstUnseenDot(delta.context, seen)!;
      return forbidden(`value's seen-set claims ${dot[0]}:${dot[1]} outside the write's context`);
    }
  }
  const held = new Set<string>();
  for (const [dot, content] of type.entries(joinSiblings(type, current).store)) held.add(`${dot[0]}:${dot[1]}=${content}`);
  const result = joinByDot(current.siblings, current.context, delta.siblings, delta.context, (x) => x);
  const joined = joinSiblings(type, { context: unionContexts(current.context, delta.context), siblings: result });
  for (const [dot, content] of type.entries(joined.store)) {
    if (held.has(`${dot[0]}:${dot[1]}=${content}`)) continue;
    if ((dot[0] === writer || options.repair === true) && !contextHas(current.context, dot)) continue;
    return forbidden(
      options.repair === true
        ? `entry ${dot[0]}:${dot[1]} was seen by the relay and is not held with the same content: a re-push may bring back only what the relay lost`
        : `entry ${dot[0]}:${dot[1]} would not be the writer's own new entry, nor one the relay holds with the same content`,
    );
  }
  return ok(true);
}

function forbidden(message: string): Result<true> {
  return { ok: false, error: new ConvergeError('forbidden', message, { path: 'delta.siblings[0].value' }) };
}
