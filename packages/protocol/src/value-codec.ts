import { ConvergeError, fail, ok, type Result } from '@converge/conflict';
import { deserialize, serialize, type SuperJSONResult, type SuperJSONValue } from 'superjson';
import { isJsonObject } from './field-checks.js';
import { jsonShapeProblem, type JsonValue } from './json-shape.js';
import { MAX_VALUE_DEPTH } from './limits.js';

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
  let result: SuperJSONResult;
  try {
    result = serialize(value as SuperJSONValue);
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
    return ok(deserialize({ json, meta } as SuperJSONResult));
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
