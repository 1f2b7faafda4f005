import { compact, contextHas, type CausalContext } from './causal-context.js';
import { compareDots, dotProblem, isCounter, type Dot } from './dot.js';
import type { DocState, Sibling } from './doc-state.js';
import { fail, ok, type Result } from './errors.js';
import { hlcProblem, type Hlc } from './hlc.js';
import { replicaIdProblem, type ReplicaId } from './replica-id.js';

/**
 * Checks an untrusted causal context (vector as a `Map`) and returns it in canonical form.
 * Refused: non-`Map` vectors, bad or reserved replica ids, counters that are not safe
 * integers ≥ 1, cloud dots the vector already covers, duplicate cloud dots.
 */
export function validateContext(input: unknown, path = 'context'): Result<CausalContext> {
  return checkContext(input, path, false);
}

/** `owned`: the input was built by a decoder here and nobody else holds it, so no copy is needed. */
function checkContext(input: unknown, path: string, owned: boolean): Result<CausalContext> {
  if (typeof input !== 'object' || input === null) return fail(path, 'context must be an object');
  const { vv, cloud } = input as { vv?: unknown; cloud?: unknown };
  if (!(vv instanceof Map)) return fail(`${path}.vv`, 'version vector must be a Map');
  for (const [replica, counter] of vv as Map<unknown, unknown>) {
    const problem = replicaIdProblem(replica);
    if (problem !== undefined) return fail(`${path}.vv`, problem);
    if (!isCounter(counter)) return fail(`${path}.vv.${String(replica)}`, 'counter must be a safe integer ≥ 1');
  }
  if (!Array.isArray(cloud)) return fail(`${path}.cloud`, 'cloud must be an array');
  const seen = new Set<string>();
  for (let i = 0; i < cloud.length; i++) {
    const dot: unknown = cloud[i];
    const problem = dotProblem(dot);
    if (problem !== undefined) return fail(`${path}.cloud[${i}]`, problem);
    const [replica, counter] = dot as Dot;
    if (((vv as Map<ReplicaId, number>).get(replica) ?? 0) >= counter) {
      return fail(`${path}.cloud[${i}]`, 'cloud dot is already covered by the vector');
    }
    const key = `${replica}:${counter}`;
    if (seen.has(key)) return fail(`${path}.cloud[${i}]`, 'duplicate cloud dot');
    seen.add(key);
  }
  const vector = owned ? (vv as Map<ReplicaId, number>) : new Map(vv as Map<ReplicaId, number>);
  const dots = owned ? (cloud as Dot[]) : (cloud as Dot[]).map((d) => [d[0], d[1]] as Dot);
  return ok(compact(vector, dots));
}

export interface ValidateOptions {
  /** Checks one sibling value; returns why it is refused, or undefined. */
  readonly checkValue?: (value: unknown, path: string) => string | undefined;
  /** Turns a value `checkValue` accepted into its decoded form (e.g. a wire slot into the value it stands for). */
  readonly mapValue?: (value: unknown) => unknown;
  /** Refuse tombstones (CRDT collections express delete as `clear`). */
  readonly noTombstones?: boolean;
}

/**
 * Checks every invariant of an untrusted document state (or delta) and returns it in
 * canonical form; a broken one gets a `bad_message` error naming the field. Never throws.
 */
export function validateDocState(input: unknown, options: ValidateOptions = {}, path = 'state'): Result<DocState<unknown>> {
  return checkDocState(input, options, path, false);
}

/** For decoders: `input` is freshly built (siblings as `{dot, hlc, value | deleted}`), so it is reused. */
export function checkDecodedDocState(input: unknown, options: ValidateOptions, path: string): Result<DocState<unknown>> {
  return checkDocState(input, options, path, true);
}

function checkDocState(input: unknown, options: ValidateOptions, path: string, owned: boolean): Result<DocState<unknown>> {
  if (typeof input !== 'object' || input === null) return fail(path, 'state must be an object');
  const { context: rawContext, siblings: rawSiblings } = input as { context?: unknown; siblings?: unknown };
  const context = checkContext(rawContext, `${path}.context`, owned);
  if (!context.ok) return context;
  if (!Array.isArray(rawSiblings)) return fail(`${path}.siblings`, 'siblings must be an array');
  const siblings: Sibling<unknown>[] = [];
  for (let i = 0; i < rawSiblings.length; i++) {
    const at = `${path}.siblings[${i}]`;
    const raw: unknown = rawSiblings[i];
    if (typeof raw !== 'object' || raw === null) return fail(at, 'sibling must be an object');
    const { dot, hlc, deleted } = raw as { dot?: unknown; hlc?: unknown; deleted?: unknown };
    const dotIssue = dotProblem(dot);
    if (dotIssue !== undefined) return fail(`${at}.dot`, dotIssue);
    const hlcIssue = hlcProblem(hlc);
    if (hlcIssue !== undefined) return fail(`${at}.hlc`, hlcIssue);
    const d = owned ? (dot as Dot) : ([(dot as Dot)[0], (dot as Dot)[1]] as Dot);
    const h = hlc as Hlc;
    if (h.replica !== d[0]) return fail(`${at}.hlc.replica`, 'hlc replica must be the dot replica');
    if (!contextHas(context.value, d)) return fail(`${at}.dot`, 'sibling dot is outside the context');
    const stamp: Hlc = owned ? h : { wall: h.wall, logical: h.logical, replica: h.replica };
    if (deleted !== undefined) {
      if (deleted !== true) return fail(`${at}.deleted`, 'deleted must be true when present');
      if ('value' in raw) return fail(at, 'a tombstone carries no value');
      if (options.noTombstones === true) return fail(at, 'this collection has no tombstones');
      siblings.push(owned ? (raw as Sibling<unknown>) : { dot: d, hlc: stamp, deleted: true });
    } else {
      if (!('value' in raw)) return fail(at, 'a sibling needs a value or deleted: true');
      const value = (raw as { value: unknown }).value;
      const valueIssue = options.checkValue?.(value, `${at}.value`);
      if (valueIssue !== undefined) return fail(`${at}.value`, valueIssue);
      const { mapValue } = options;
      if (mapValue !== undefined) siblings.push({ dot: d, hlc: stamp, value: mapValue(value) });
      else siblings.push(owned ? (raw as Sibling<unknown>) : { dot: d, hlc: stamp, value });
    }
  }
  let sorted = true;
  for (let i = 1; i < siblings.length && sorted; i++) sorted = compareDots(siblings[i - 1]!.dot, siblings[i]!.dot) < 0;
  if (!sorted) {
    siblings.sort((a, b) => compareDots(a.dot, b.dot));
    for (let i = 1; i < siblings.length; i++) {
      if (compareDots(siblings[i - 1]!.dot, siblings[i]!.dot) === 0) return fail(`${path}.siblings`, 'two siblings share a dot');
    }
  }
  return ok({ context: context.value, siblings });
}
