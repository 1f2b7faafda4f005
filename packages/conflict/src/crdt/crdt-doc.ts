import { addDot, containsContext, contextHas, firstUnseenDot, unionContexts } from '../causal-context.js';
import type { Dot } from '../dot.js';
import { writeDoc, type DocState, type WriteResult } from '../doc-state.js';
import { decodeContext, encodeContext } from '../encoding.js';
import { ConvergeError, fail, ok, type Result } from '../errors.js';
import type { Hlc } from '../hlc.js';
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
 * The relay's structural check of one untrusted CRDT write (a delta whose sibling values are
 * already decoded). Each sibling's seen-set must lie inside the delta's context, and a write
 * may add entries only under its writer's own dots: every entry under another replica's dot
 * must be one the relay holds with the same content, or one the relay has seen removed (the
 * join drops it anyway). Entries under the writer's own dots the relay has not seen are its
 * own earlier writes, squashed into this one. Anything else would let one collaborator forge
 * or suppress another's adds.
 */
export function checkCrdtWrite<S>(type: CrdtType<S, unknown, unknown>, delta: DocState<CrdtState<S>>, current: DocState<CrdtState<S>>): Result<true> {
  if (delta.siblings.length === 0) return fail('delta.siblings', 'a CRDT write carries a sibling');
  const held = new Map<string, string>();
  for (const [dot, content] of type.entries(joinSiblings(type, current).store)) held.set(`${dot[0]}:${dot[1]}`, content);
  for (const sibling of delta.siblings) {
    if (sibling.deleted === true) return fail('delta.siblings', 'CRDT collections have no tombstones: delete is clear');
    const { store, seen } = sibling.value;
    if (!containsContext(delta.context, seen)) {
      const dot = firstUnseenDot(delta.context, seen)!;
      return forbidden(`value's seen-set claims ${dot[0]}:${dot[1]} outside the write's context`);
    }
    const writer = sibling.dot[0];
    for (const [dot, content] of type.entries(store)) {
      const known = held.get(`${dot[0]}:${dot[1]}`);
      if (known !== undefined ? known === content : dot[0] === writer || contextHas(current.context, dot)) continue;
      return forbidden(`entry ${dot[0]}:${dot[1]} is not the writer's own and differs from what the relay holds`);
    }
  }
  return ok(true);
}

function forbidden(message: string): Result<true> {
  return { ok: false, error: new ConvergeError('forbidden', message, { path: 'delta.siblings[0].value' }) };
}
