import { propertyOptions } from '@converge/conflict/testing';
import fc from 'fast-check';
import { serialize, type SuperJSONValue } from 'superjson';
import { describe, expect, it } from 'vitest';
import { jsonShapeProblem } from './json-shape.js';
import { MAX_VALUE_DEPTH } from './limits.js';
import { encodeValue } from './value-codec.js';

/** What encodeValue wrote before it skipped superjson for plain JSON: superjson's result (meta left out when absent), or a refusal. */
function throughSuperjson(value: unknown): unknown {
  const result = serialize(value as SuperJSONValue);
  if (jsonShapeProblem(result, MAX_VALUE_DEPTH, 'value') !== undefined) return 'refused';
  return result.meta === undefined ? { json: result.json } : { json: result.json, meta: result.meta };
}

function attempt(encode: () => unknown): unknown {
  try {
    return encode();
  } catch {
    return 'refused';
  }
}

/** JSON with what superjson annotates mixed in (Date, undefined, -0, NaN, Map), shared objects and odd keys. */
const arbValue = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string(),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.date({ noInvalidDate: true }),
    fc.constant(-0),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('leaf'), tie('array'), tie('object'), tie('shared'), tie('map')),
  array: fc.array(tie('node'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('a.b', '', 'x/y', '0', '__proto__', 'constructor')), tie('node'), { maxKeys: 4 }),
  shared: tie('object').map((o) => ({ left: o, right: o })),
  map: fc.array(fc.tuple(fc.string(), tie('leaf')), { maxLength: 3 }).map((entries) => new Map(entries)),
}));

describe('encodeValue on plain JSON skips superjson and writes what superjson writes', () => {
  it('the same encoding as superjson for every value (plain or not), and a copy that shares nothing with the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), arbValue.node, arbValue.object), (value) => {
        const encoded = attempt(() => encodeValue(value));
        expect(encoded).toStrictEqual(attempt(() => throughSuperjson(value)));
        if (typeof value === 'object' && value !== null && encoded !== 'refused') expect((encoded as { json: unknown }).json).not.toBe(value);
      }),
      propertyOptions(),
    );
  });
});
