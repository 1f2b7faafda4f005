import { ConvergeError, crdtStateFromJson, crdtStateToJson, type AnyCrdtType, type CrdtState, type DocState } from '@converge/conflict';
import {
  decodeValue,
  encodeValue,
  jsonShapeProblem,
  MAX_VALUE_DEPTH,
  storedStateText,
  utf8ByteLength,
  type CrdtValueJson,
  type WireState,
  type WireValue,
} from '@converge/protocol';

/**
 * Everything the client does to a value slot, in one place: a register value is encoded once
 * by its writer and decoded only where the app reads; a CRDT value is its plain-JSON dot-store.
 */

/** Encodes an app value for storage and the wire. @throws ConvergeError `bad_message` for a value superjson cannot carry. */
export function encodeAppValue(value: unknown): WireValue {
  return encodeValue(value);
}

/** Decodes a stored register value for the app. @throws ConvergeError `bad_message` for a malformed one. */
export function decodeAppValue(slot: WireValue): unknown {
  const decoded = decodeValue(slot);
  if (!decoded.ok) throw decoded.error;
  return decoded.value;
}

/**
 * A stored register value as the app reads it. A value without `meta` (plain JSON) is checked
 * (as `decodeValue` checks it) and frozen in place, deep, the first time it is read, then handed
 * out as it is on every read: no copy, and nothing an app does to it reaches the replica. A
 * value with `meta` (Date, Map, Set, …) cannot be frozen that way: it is decoded afresh on each
 * read, and so is anything malformed (which `decodeValue` refuses).
 * @throws ConvergeError `bad_message` for a malformed one.
 */
export function readAppValue(slot: WireValue): unknown {
  const { json, meta } = slot as { json?: unknown; meta?: unknown };
  return meta === undefined && json !== undefined && jsonShapeProblem(json, MAX_VALUE_DEPTH, '', true) === undefined ? json : decodeAppValue(slot);
}

/** The encoded size the relay compares with `maxValueBytes`. */
function slotBytes(slot: WireValue): number {
  return utf8ByteLength(JSON.stringify(slot));
}

export function checkValueSize(slot: WireValue, maxValueBytes: number): void {
  const bytes = slotBytes(slot);
  if (bytes > maxValueBytes) {
    throw new ConvergeError('payload_too_large', `value has ${bytes} bytes encoded; the relay accepts at most ${maxValueBytes}`);
  }
}

/**
 * Refuses a write that would make the key's merged state larger than the relay stores, as the
 * relay measures it (its stored text, in UTF-8 bytes). Like the relay, it lets a state shrink,
 * so a key that grew past a lowered limit can still be resolved.
 */
export function checkStateSize(next: WireState, before: WireState, maxStateBytes: number, what: string): void {
  if (maxStateBytes === Infinity) return;
  const bytes = utf8ByteLength(storedStateText(next));
  if (bytes <= maxStateBytes || (before.siblings.length > 0 && bytes <= utf8ByteLength(storedStateText(before)))) return;
  throw new ConvergeError(
    'payload_too_large',
    `${what} would hold ${bytes} bytes of state; the relay accepts at most maxStateBytes = ${maxStateBytes}: resolve its siblings or write smaller values`,
  );
}

/** A stored CRDT document as dot-stores. */
export function crdtDoc(type: AnyCrdtType, state: WireState): DocState<CrdtState<unknown>> {
  return {
    context: state.context,
    siblings: state.siblings.map((s) => {
      if (s.deleted === true) return s;
      const value = crdtStateFromJson(type, s.value, 'value');
      if (!value.ok) throw value.error;
      return { ...s, value: value.value };
    }),
  };
}

export function crdtWire(type: AnyCrdtType, state: DocState<CrdtState<unknown>>): WireState {
  return {
    context: state.context,
    siblings: state.siblings.map((s) => (s.deleted === true ? s : { ...s, value: crdtStateToJson(type, s.value) as CrdtValueJson })),
  };
}
