import { decodeDocState, encodeDocState, type ContextJson, type DocState, type DocStateJson, type Result, type ValidateOptions } from '@converge/conflict';
import { isJsonObject } from './field-checks.js';
import { encodedValueProblem, type EncodedValue } from './value-codec.js';

/** A CRDT value on the wire: conflict's `crdtStateToJson` form, the dot-store and its seen-set. */
export interface CrdtValueJson {
  readonly s: unknown;
  readonly c: ContextJson;
}

/**
 * What a sibling's value slot carries on the wire, opaque to the envelope: a register value
 * serialized by its writer (`EncodedValue`), or a CRDT value (`CrdtValueJson`, plain JSON
 * that the relay validates structurally against the collection's type).
 */
export type WireValue = EncodedValue | CrdtValueJson;

/** A document state (or delta) as frames carry it once decoded: validated, canonical, values opaque. */
export type WireState = DocState<WireValue>;

/** Why a value slot holds neither `{json, meta?}` nor `{s, c}`, or `undefined`. */
export function wireValueProblem(value: unknown): string | undefined {
  if (!isJsonObject(value)) return 'value must be an encoded value {json, meta?} or a CRDT value {s, c}';
  if (Object.hasOwn(value, 'json')) return encodedValueProblem(value);
  let keys = 0;
  for (const key in value) {
    keys++;
    if (key !== 's' && key !== 'c') return `value has no field '${key}': expected {json, meta?} or {s, c}`;
  }
  return keys === 2 && isJsonObject(value['c']) ? undefined : 'a CRDT value is {s, c} with c a context';
}

const WIRE_OPTIONS: ValidateOptions = Object.freeze({ checkValue: (value: unknown) => wireValueProblem(value) });

/**
 * Validates an untrusted state in conflict's compact JSON form (every DocState invariant, HLC
 * bounds, value slots `{json, meta?}` or `{s, c}`): protocol 1's state form, which relays
 * stored before protocol 2. Frames use `stateFromJson`; stored text is `parseStoredState`.
 */
export function decodeWireState(json: unknown, path: string): Result<WireState> {
  return decodeDocState(json, WIRE_OPTIONS, path) as Result<WireState>;
}

/** Protocol 1's compact JSON form of a state (values as they are); protocol 2 writes `stateToJson`. */
export function encodeWireState(state: WireState): DocStateJson {
  return encodeDocState(state);
}
