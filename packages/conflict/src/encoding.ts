import type { CausalContext } from './causal-context.js';
import type { DocState } from './doc-state.js';
import { fail, ok, type Result } from './errors.js';
import { decodeIndexedEntry, indexedSiblings, isPlainObject } from './indexed-state.js';
import { checkDecodedDocState, validateContext, type ValidateOptions } from './validate.js';

/**
 * Compact JSON forms of contexts and states, for the wire and for storage.
 *
 * ```
 * context  {"v":{"<replica>":counter,…},"d":[["<replica>",counter],…]}      ("d" omitted when empty)
 * state    {"v":{…},"d":[…],"s":[["<replica>",counter,wall,logical,value],…]}
 *          a sibling of 4 elements is a tombstone; the HLC's replica is the dot's
 * batch    {"r":["<replica>",…],"s":[[[i,counter,…],[i,counter,…],[[i,counter,wall,logical,value],…]],…]}
 *          every replica id written once, referred to by index
 * ```
 */
export interface ContextJson {
  readonly v: Record<string, number>;
  readonly d?: readonly (readonly [string, number])[];
}

export type SiblingJson =
  | readonly [replica: string, counter: number, wall: number, logical: number]
  | readonly [replica: string, counter: number, wall: number, logical: number, value: unknown];

export interface DocStateJson extends ContextJson {
  readonly s: readonly SiblingJson[];
}

function isSorted(vv: ReadonlyMap<string, number>): boolean {
  let previous = '';
  let sorted = true;
  vv.forEach((_counter, replica) => {
    if (replica < previous) sorted = false;
    previous = replica;
  });
  return sorted;
}

/** The vector's entries sorted by replica id, so equal contexts encode to equal text. */
function sortedEntries(vv: ReadonlyMap<string, number>): Iterable<readonly [string, number]> {
  return isSorted(vv) ? vv : [...vv].sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

export function encodeContext(ctx: CausalContext): ContextJson {
  const v: Record<string, number> = {};
  for (const [replica, counter] of sortedEntries(ctx.vv)) v[replica] = counter;
  return ctx.cloud.length === 0 ? { v } : { v, d: ctx.cloud };
}

function rawContext(json: unknown, path: string): Result<{ vv: Map<unknown, unknown>; cloud: unknown }> {
  if (!isPlainObject(json)) return fail(path, 'context must be an object');
  const { v, d } = json;
  if (!isPlainObject(v)) return fail(`${path}.v`, 'version vector must be an object');
  // Object.keys sees an own "__proto__" key that JSON.parse created; validation refuses it.
  const vv = new Map<unknown, unknown>();
  for (const k of Object.keys(v)) vv.set(k, v[k]);
  if (d !== undefined && !Array.isArray(d)) return fail(`${path}.d`, 'cloud must be an array');
  // Fresh dots: the decoded state must not share arrays with the caller's input.
  return ok({ vv, cloud: d === undefined ? [] : d.map((dot: unknown) => (Array.isArray(dot) ? [...dot] : dot)) });
}

export function decodeContext(json: unknown, path = 'context'): Result<CausalContext> {
  const raw = rawContext(json, path);
  return raw.ok ? validateContext(raw.value, path) : raw;
}

export function encodeDocState<T>(state: DocState<T>, encodeValue: (value: T) => unknown = (v) => v): DocStateJson {
  const { v, d } = encodeContext(state.context);
  const s = state.siblings.map((s): SiblingJson =>
    s.deleted === true ? [s.dot[0], s.dot[1], s.hlc.wall, s.hlc.logical] : [s.dot[0], s.dot[1], s.hlc.wall, s.hlc.logical, encodeValue(s.value)],
  );
  return d === undefined ? { v, s } : { v, d, s };
}

function rawSibling(json: unknown, replicaOf: (ref: unknown) => unknown): unknown {
  if (!Array.isArray(json) || (json.length !== 4 && json.length !== 5)) return undefined;
  const replica = replicaOf(json[0]);
  const sibling: Record<string, unknown> = {
    dot: [replica, json[1]],
    hlc: { wall: json[2], logical: json[3], replica },
  };
  if (json.length === 4) sibling['deleted'] = true;
  else sibling['value'] = json[4];
  return sibling;
}

/** Decodes and validates an untrusted state; never throws. */
export function decodeDocState(json: unknown, options: ValidateOptions = {}, path = 'state'): Result<DocState<unknown>> {
  const context = rawContext(json, path);
  if (!context.ok) return context;
  const s = (json as { s?: unknown }).s;
  if (!Array.isArray(s)) return fail(`${path}.s`, 'siblings must be an array');
  const siblings: unknown[] = [];
  for (let i = 0; i < s.length; i++) {
    const sibling = rawSibling(s[i], (r) => r);
    if (sibling === undefined) return fail(`${path}.s[${i}]`, 'sibling must be [replica, counter, wall, logical, value?]');
    siblings.push(sibling);
  }
  return checkDecodedDocState({ context: context.value, siblings }, options, path);
}

export interface DocStateBatchJson {
  readonly r: readonly string[];
  readonly s: readonly (readonly [vector: readonly number[], cloud: readonly number[], siblings: readonly unknown[][]])[];
}

/** Encodes many states with each replica id written once (a catch-up batch, a multi-key push). */
export function encodeDocStateBatch<T>(states: readonly DocState<T>[], encodeValue: (value: T) => unknown = (v) => v): DocStateBatchJson {
  const ids: string[] = [];
  const index = new Map<string, number>();
  const ref = (replica: string): number => {
    let i = index.get(replica);
    if (i === undefined) {
      i = ids.push(replica) - 1;
      index.set(replica, i);
    }
    return i;
  };
  const s = new Array<readonly [number[], number[], unknown[][]]>(states.length);
  for (let k = 0; k < states.length; k++) {
    const { context, siblings } = states[k]!;
    const vector: number[] = [];
    if (isSorted(context.vv)) context.vv.forEach((counter, replica) => vector.push(ref(replica), counter));
    else for (const [replica, counter] of sortedEntries(context.vv)) vector.push(ref(replica), counter);
    const cloud: number[] = [];
    for (const dot of context.cloud) cloud.push(ref(dot[0]), dot[1]);
    s[k] = [vector, cloud, indexedSiblings(siblings, ref, encodeValue)];
  }
  return { r: ids, s };
}

export function decodeDocStateBatch(json: unknown, options: ValidateOptions = {}, path = 'batch'): Result<DocState<unknown>[]> {
  if (!isPlainObject(json) || !Array.isArray(json['r']) || !Array.isArray(json['s'])) {
    return fail(path, 'batch must be {r: [...], s: [...]}');
  }
  const ids = json['r'] as unknown[];
  const states: DocState<unknown>[] = [];
  const entries = json['s'] as unknown[];
  for (let k = 0; k < entries.length; k++) {
    const entry = entries[k];
    const at = `${path}.s[${k}]`;
    if (!Array.isArray(entry) || entry.length !== 3 || !Array.isArray(entry[2])) return fail(at, 'must be [vector, cloud, siblings]');
    const state = decodeIndexedEntry(ids, entry[0], entry[1], entry[2] as unknown[], options, at, [`${at}[0]`, `${at}[1]`, `${at}[2]`]);
    if (!state.ok) return state;
    states.push(state.value);
  }
  return ok(states);
}
