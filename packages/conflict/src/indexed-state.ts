import { compact, contextHas, EMPTY_CONTEXT, type CausalContext } from './causal-context.js';
import { compareDots, isCounter, type Dot } from './dot.js';
import type { DocState, Sibling } from './doc-state.js';
import { fail, ok, type Result } from './errors.js';
import { MAX_LOGICAL, MAX_WALL } from './hlc.js';
import { replicaIdProblem, type ReplicaId } from './replica-id.js';
import type { ValidateOptions } from './validate.js';

/**
 * A state with its own replica table, each replica id written once (protocol 2's general state
 * form, where `r` may hold what a frame maps replica ids to instead):
 *
 * ```
 * {"r":[ref,…],"v":[i,counter,…],"d":[i,counter,…],"s":[[i,counter,wall,logical,value?],…]}
 * ```
 * `i` indexes `r`; `d` is left out when the cloud is empty; a sibling of 4 elements is a tombstone.
 */
export interface IndexedStateJson {
  readonly r: readonly unknown[];
  readonly v: readonly number[];
  readonly d?: readonly number[];
  readonly s: readonly (readonly unknown[])[];
}

/** `refOf` says what `r` holds for a replica id (default: the id itself). */
export function encodeIndexedState<T>(
  state: DocState<T>,
  encodeValue: (value: T) => unknown = (v) => v,
  refOf: (replica: ReplicaId) => unknown = (replica) => replica,
): IndexedStateJson {
  const replicas: ReplicaId[] = [];
  const r: unknown[] = [];
  const ref = (replica: ReplicaId): number => {
    let i = replicas.indexOf(replica);
    if (i < 0) {
      i = replicas.push(replica) - 1;
      r.push(refOf(replica));
    }
    return i;
  };
  const { context, siblings } = state;
  const v: number[] = [];
  // Vectors made here keep replica-id order; one read from elsewhere may not (sorted then).
  let previous = '';
  let sorted = true;
  context.vv.forEach((counter, replica) => {
    if (replica < previous) sorted = false;
    previous = replica;
    v.push(ref(replica), counter);
  });
  if (!sorted) {
    v.length = 0;
    for (const [replica, counter] of [...context.vv].sort((a, b) => (a[0] < b[0] ? -1 : 1))) v.push(ref(replica), counter);
  }
  const d: number[] = [];
  for (const dot of context.cloud) d.push(ref(dot[0]), dot[1]);
  const s = indexedSiblings(siblings, ref, encodeValue);
  return d.length === 0 ? { r, v, s } : { r, v, d, s };
}

/**
 * Siblings as the indexed forms write them (here and in conflict's batch form):
 * `[replica index, counter, wall, logical, value]`, a tombstone without its value.
 */
export function indexedSiblings<T>(siblings: readonly Sibling<T>[], ref: (replica: ReplicaId) => number, encodeValue: (value: T) => unknown): unknown[][] {
  const s = new Array<unknown[]>(siblings.length);
  for (let i = 0; i < siblings.length; i++) {
    const x = siblings[i]!;
    s[i] =
      x.deleted === true ? [ref(x.dot[0]), x.dot[1], x.hlc.wall, x.hlc.logical] : [ref(x.dot[0]), x.dot[1], x.hlc.wall, x.hlc.logical, encodeValue(x.value)];
  }
  return s;
}

/** Paths of the wire fields, for a broken compact form: vector, cloud, siblings. */
export type IndexedPaths = readonly [vector: string, cloud: string, siblings: string];

const FLAT_PAIRS = 'must be a flat array of [replica index, counter] pairs';
const EMPTY: readonly unknown[] = Object.freeze([]);

/** An object a JSON parser could have made: no array, no prototype but `Object.prototype` or none. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Decodes and validates an untrusted state in the indexed form in one pass: every DocState
 * invariant is checked as the final objects are built (no intermediate objects, no second
 * validation pass). `resolve` turns an entry of `r` into a replica id (default: the entry is
 * one); what it returns is validated. Never throws.
 */
export function decodeIndexedState(
  json: unknown,
  options: ValidateOptions = {},
  path = 'state',
  resolve?: (ref: unknown) => unknown,
): Result<DocState<unknown>> {
  if (!isPlainObject(json)) return fail(path, 'state must be {r, v, d?, s}');
  const { r, v, d, s } = json;
  if (!Array.isArray(r)) return fail(`${path}.r`, 'replica table must be an array');
  if (!Array.isArray(s)) return fail(`${path}.s`, 'siblings must be an array');
  const ids = resolve === undefined ? r : r.map(resolve);
  return decodeIndexedEntry(ids, v, d ?? EMPTY, s, options, path, [`${path}.v`, `${path}.d`, `${path}.s`]);
}

/**
 * One state from flat (replica index, counter) pairs and siblings naming replicas by index into
 * `ids`. Error paths name the decoded fields (`context.vv`, `context.cloud[i]`, `siblings[i]`)
 * under `path`, or the wire field in `paths` where the compact form itself is broken.
 */
export function decodeIndexedEntry(
  ids: readonly unknown[],
  flatVv: unknown,
  flatCloud: unknown,
  rawSiblings: readonly unknown[],
  options: ValidateOptions,
  path: string,
  [vvPath, cloudPath, siblingsPath]: IndexedPaths,
): Result<DocState<unknown>> {
  if (!Array.isArray(flatVv) || flatVv.length % 2 !== 0) return fail(vvPath, FLAT_PAIRS);
  if (!Array.isArray(flatCloud) || flatCloud.length % 2 !== 0) return fail(cloudPath, FLAT_PAIRS);
  const replicaAt = (i: unknown): unknown => (typeof i === 'number' && Number.isInteger(i) ? ids[i] : undefined);

  const vv = new Map<ReplicaId, number>();
  let sorted = true;
  let previous = '';
  for (let i = 0; i < flatVv.length; i += 2) {
    const replica = replicaAt(flatVv[i]);
    const problem = replicaIdProblem(replica);
    if (problem !== undefined) return fail(`${path}.context.vv`, problem);
    const counter: unknown = flatVv[i + 1];
    if (!isCounter(counter)) return fail(`${path}.context.vv.${replica as string}`, 'counter must be a safe integer ≥ 1');
    if (vv.has(replica as string)) return fail(vvPath, 'replica listed twice in vector');
    if ((replica as string) < previous) sorted = false;
    previous = replica as string;
    vv.set(replica as string, counter);
  }
  const vector = sorted ? vv : new Map([...vv].sort((a, b) => (a[0] < b[0] ? -1 : 1)));

  let context: CausalContext = { vv: vector, cloud: EMPTY_CONTEXT.cloud };
  if (flatCloud.length > 0) {
    const cloud: Dot[] = [];
    for (let i = 0; i < flatCloud.length; i += 2) {
      const at = `${path}.context.cloud[${i / 2}]`;
      const replica = replicaAt(flatCloud[i]);
      const problem = replicaIdProblem(replica);
      if (problem !== undefined) return fail(at, problem);
      const counter: unknown = flatCloud[i + 1];
      if (!isCounter(counter)) return fail(at, 'counter must be a safe integer ≥ 1');
      if ((vector.get(replica as string) ?? 0) >= counter) return fail(at, 'cloud dot is already covered by the vector');
      for (const seen of cloud) if (seen[0] === replica && seen[1] === counter) return fail(at, 'duplicate cloud dot');
      cloud.push([replica as string, counter]);
    }
    context = compact(vector, cloud);
  }

  const { checkValue, mapValue, noTombstones } = options;
  const siblings = new Array<Sibling<unknown>>(rawSiblings.length);
  let inOrder = true;
  for (let i = 0; i < rawSiblings.length; i++) {
    const raw = rawSiblings[i];
    if (!Array.isArray(raw) || (raw.length !== 4 && raw.length !== 5)) {
      return fail(`${siblingsPath}[${i}]`, 'sibling must be [replica index, counter, wall, logical, value?]');
    }
    const at = `${path}.siblings[${i}]`;
    const replica = replicaAt(raw[0]);
    const problem = replicaIdProblem(replica);
    if (problem !== undefined) return fail(`${at}.dot`, problem);
    const counter: unknown = raw[1];
    if (!isCounter(counter)) return fail(`${at}.dot`, 'counter must be a safe integer ≥ 1');
    const [, , wall, logical] = raw as unknown[];
    if (typeof wall !== 'number' || !Number.isSafeInteger(wall) || wall < 0 || wall > MAX_WALL)
      return fail(`${at}.hlc`, `hlc wall must be an integer in [0, ${MAX_WALL}]`);
    if (typeof logical !== 'number' || !Number.isSafeInteger(logical) || logical < 0 || logical > MAX_LOGICAL) {
      return fail(`${at}.hlc`, `hlc logical must be an integer in [0, ${MAX_LOGICAL}]`);
    }
    const dot: Dot = [replica as string, counter];
    if (!contextHas(context, dot)) return fail(`${at}.dot`, 'sibling dot is outside the context');
    const hlc = { wall, logical, replica: replica as string };
    if (raw.length === 4) {
      if (noTombstones === true) return fail(at, 'this collection has no tombstones');
      siblings[i] = { dot, hlc, deleted: true };
    } else {
      const value: unknown = raw[4];
      const valueIssue = checkValue?.(value, `${at}.value`);
      if (valueIssue !== undefined) return fail(`${at}.value`, valueIssue);
      siblings[i] = { dot, hlc, value: mapValue === undefined ? value : mapValue(value) };
    }
    if (i > 0 && compareDots(siblings[i - 1]!.dot, dot) >= 0) inOrder = false;
  }
  if (!inOrder) {
    siblings.sort((a, b) => compareDots(a.dot, b.dot));
    for (let i = 1; i < siblings.length; i++) {
      if (compareDots(siblings[i - 1]!.dot, siblings[i]!.dot) === 0) return fail(`${path}.siblings`, 'two siblings share a dot');
    }
  }
  return ok({ context, siblings });
}
