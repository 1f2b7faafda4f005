import { ConvergeError, fail, ok, RESERVED_NAMES, type Result } from '@converge/conflict';
import { isJsonObject } from './field-checks.js';
import { jsonShapeProblem, type JsonValue } from './json-shape.js';
import { MAX_VALUE_DEPTH } from './limits.js';
import { readSuperjson } from './superjson-read.js';
import { writeSuperjson } from './superjson-write.js';

/**
 * A register value as its writer serialized it, once, in superjson's form: `json` is plain
 * JSON, `meta` (absent when `json` says everything) records what JSON cannot: Date, Map, Set,
 * BigInt, undefined, RegExp, NaN, -0, shared references. Carried opaque through outbox,
 * relay, storage and catch-up; only `decodeValue`, where an app reads, looks inside.
 */
export interface EncodedValue {
  readonly json: JsonValue;
  readonly meta?: { readonly [key: string]: JsonValue };
}

/**
 * Serializes a value for the wire, once, at its writer.
 *
 * @throws ConvergeError `bad_message` when the value would not come back as it went in: a
 * function, a symbol, a class instance, a key named `__proto__`/`constructor`/`prototype`,
 * or nesting deeper than `MAX_VALUE_DEPTH`.
 *
 * @example
 * ```ts
 * const encoded = encodeValue({ at: new Date(0), tags: new Set(['a']) });
 * encoded; // → { json: { at: '1970-01-01T00:00:00.000Z', tags: ['a'] }, meta: { values: { at: ['Date'], tags: ['set'] }, v: 1 } }
 * const back = decodeValue(encoded);
 * back.ok && back.value; // → { at: new Date(0), tags: new Set(['a']) }
 * ```
 */
export function encodeValue(value: unknown): EncodedValue {
  // Plain JSON (most app values) is what superjson would write as it is: copied, no superjson pass.
  const plain = typeof value === 'object' && value !== null ? plainCopy(value, new Set(), MAX_VALUE_DEPTH - 1) : plainLeaf(value);
  if (plain !== NOT_PLAIN) return { json: plain };
  let result: ReturnType<typeof writeSuperjson>;
  try {
    result = writeSuperjson(value);
  } catch (cause) {
    throw new ConvergeError('bad_message', `value cannot be encoded: ${(cause as Error).message}`, { path: 'value', cause });
  }
  const problem = jsonShapeProblem(result, MAX_VALUE_DEPTH, 'value');
  if (problem !== undefined) {
    throw new ConvergeError('bad_message', `value cannot be encoded: ${problem.message}`, { path: problem.path });
  }
  const json = result.json as JsonValue;
  return result.meta === undefined ? { json } : { json, meta: result.meta as NonNullable<EncodedValue['meta']> };
}

/** What `plainCopy` returns for a value superjson would annotate, or that needs its checks. */
const NOT_PLAIN = Symbol('not plain JSON');

/** A leaf superjson writes as it is: strings, booleans, null, finite numbers but -0. */
function plainLeaf(value: unknown): JsonValue | typeof NOT_PLAIN {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !(value === 0 && 1 / value < 0) ? value : NOT_PLAIN;
    default:
      return value === null ? null : NOT_PLAIN;
  }
}

/**
 * A fresh copy of `node` when it is plain JSON that superjson would write unchanged and without
 * `meta` — plain objects and dense arrays of plain leaves, no object reached twice, no reserved
 * key, within `levels` levels — else NOT_PLAIN (superjson then decides, and its checks apply).
 */
function plainCopy(node: object, seen: Set<object>, levels: number): JsonValue | typeof NOT_PLAIN {
  if (levels === 0 || seen.has(node)) return NOT_PLAIN;
  seen.add(node);
  if (Array.isArray(node)) {
    if (Object.getPrototypeOf(node) !== Array.prototype) return NOT_PLAIN;
    const out = new Array<JsonValue>(node.length);
    for (let i = 0; i < node.length; i++) {
      if (!(i in node)) return NOT_PLAIN;
      const item: unknown = node[i];
      const copy = typeof item === 'object' && item !== null ? plainCopy(item, seen, levels - 1) : plainLeaf(item);
      if (copy === NOT_PLAIN) return NOT_PLAIN;
      out[i] = copy;
    }
    return out;
  }
  if (Object.getPrototypeOf(node) !== Object.prototype || Object.getOwnPropertySymbols(node).length > 0) return NOT_PLAIN;
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(node)) {
    if (RESERVED_NAMES.has(key)) return NOT_PLAIN;
    const item: unknown = (node as Record<string, unknown>)[key];
    const copy = typeof item === 'object' && item !== null ? plainCopy(item, seen, levels - 1) : plainLeaf(item);
    if (copy === NOT_PLAIN) return NOT_PLAIN;
    out[key] = copy;
  }
  return out;
}

/** A fresh copy of plain JSON data (already checked by `jsonShapeProblem`, so its depth is bounded). */
function copyJson(value: JsonValue): JsonValue {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i] as JsonValue);
    return out;
  }
  const out: Record<string, JsonValue> = {};
  for (const key in value) out[key] = copyJson((value as Record<string, JsonValue>)[key]!);
  return out;
}

/**
 * Turns an encoded value back into what its writer wrote. Never throws: the input comes from
 * other replicas, so a malformed one is refused with `bad_message`. The input is not changed,
 * and the result shares nothing with it: the app may mutate what it reads. A value without
 * `meta` (plain JSON said everything) skips superjson: it is checked and copied in one go.
 */
export function decodeValue(encoded: unknown): Result<unknown> {
  const problem = encodedValueProblem(encoded);
  if (problem !== undefined) return fail('value', problem);
  const { json, meta } = encoded as EncodedValue;
  if (meta === undefined) {
    // A slot without meta may carry json up to MAX_VALUE_DEPTH levels bare (encodeValue writes one less).
    const shape = jsonShapeProblem(json, MAX_VALUE_DEPTH, 'value.json');
    return shape === undefined ? ok(copyJson(json)) : fail(shape.path, shape.message);
  }
  const shape = jsonShapeProblem(encoded, MAX_VALUE_DEPTH, 'value');
  if (shape !== undefined) return fail(shape.path, shape.message);
  try {
    return ok(readSuperjson(copyJson(json), meta));
  } catch (cause) {
    return { ok: false, error: new ConvergeError('bad_message', `value cannot be decoded: ${(cause as Error).message}`, { path: 'value.meta', cause }) };
  }
}

/** Why `value` is not shaped `{json, meta?}` (contents unchecked), or `undefined`. */
export function encodedValueProblem(value: unknown): string | undefined {
  if (!isJsonObject(value) || !Object.hasOwn(value, 'json')) return 'an encoded value is {json, meta?}';
  let keys = 0;
  for (const key in value) {
    keys++;
    if (key !== 'json' && key !== 'meta') return `an encoded value has no field '${key}'`;
  }
  const { meta } = value;
  if (keys === 2 && !isJsonObject(meta)) return 'meta must be an object';
  return undefined;
}

export function isEncodedValue(value: unknown): value is EncodedValue {
  return encodedValueProblem(value) === undefined;
}
