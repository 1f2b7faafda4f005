import { isJsonObject } from './field-checks.js';
import { nestsDeeperThan, type JsonValue } from './json-shape.js';
import { MAX_VALUE_DEPTH, VALUE_SLOT_DEPTH } from './limits.js';
import type { EncodedValue } from './value-codec.js';
import type { CrdtValueJson, WireValue } from './wire-state.js';

/**
 * A sibling's value slot on the wire (protocol 2). Three shapes, told apart by the slot alone
 * (no collection strategy needed):
 *
 * - an object whose own keys are exactly `json`, or `json` and `meta`: a register value in
 *   superjson's wrapper form `{json, meta?}` (`meta` an object);
 * - an object whose own keys are exactly `s` and `c`: a CRDT value (`c` an object);
 * - anything else: a register value without `meta`, written as its plain JSON.
 *
 * So a register value is written bare unless it has `meta`, or its JSON is itself an object of
 * one of the two reserved shapes (then it is wrapped: `{"json":{"s":1,"c":{}}}`).
 *
 * A slot nests at most `MAX_VALUE_DEPTH` levels in either form, so every state fits every
 * frame (the deepest slot position is level 7 of 64) whatever form it travels in later. Where a
 * slot sits at that deepest position the frame's own depth limit already enforces this; a slot
 * in a shallower position (a simple state) is checked with `slotDepthProblem`.
 */
const PLAIN = 0;
const WRAPPER = 1;
const CRDT = 2;

function shapeOf(value: object): typeof PLAIN | typeof WRAPPER | typeof CRDT {
  let keys = 0;
  let json = false;
  let meta = false;
  let s = false;
  let c = false;
  for (const key in value) {
    if (++keys > 2) return PLAIN;
    if (key === 'json') json = true;
    else if (key === 'meta') meta = true;
    else if (key === 's') s = true;
    else if (key === 'c') c = true;
    else return PLAIN;
  }
  if (json && (keys === 1 || meta)) return WRAPPER;
  return s && c ? CRDT : PLAIN;
}

/** What the slot holds for `value`: its plain JSON when that says everything, else the value as it is. */
export function slotOf(value: WireValue): unknown {
  const { json, meta } = value as Partial<EncodedValue>;
  // An encoded value's json is never undefined (superjson writes undefined as null plus meta).
  if (json === undefined || meta !== undefined) return value;
  return typeof json === 'object' && json !== null && !Array.isArray(json) && shapeOf(json) !== PLAIN ? value : json;
}

/**
 * The value an untrusted slot holds, or why it is refused (a string). Reuses the slot's
 * objects (the decoder owns them); a bare value gets its `{json}` wrapper back.
 */
export function readSlot(slot: unknown): WireValue | string {
  if (typeof slot !== 'object' || slot === null || Array.isArray(slot)) return { json: slot as JsonValue };
  // Without a `json` or an `s` it is neither reserved shape: plain, told without walking its keys.
  const { json, s } = slot as { json?: unknown; s?: unknown };
  if (json === undefined && s === undefined) return { json: slot as JsonValue };
  const shape = shapeOf(slot);
  if (shape === PLAIN) return { json: slot as JsonValue };
  if (shape === WRAPPER) {
    const { meta } = slot as { meta?: unknown };
    return meta === undefined || isJsonObject(meta) ? (slot as EncodedValue) : 'meta must be an object';
  }
  return isJsonObject((slot as { c?: unknown }).c) ? (slot as CrdtValueJson) : 'a CRDT value is {s, c} with c a context';
}

/**
 * Why a slot `level` levels deep in its frame nests deeper than a slot may, or `undefined`.
 * Only slots above the deepest slot position need the walk: there the frame's limit is looser.
 */
export function slotDepthProblem(slot: unknown, level: number): string | undefined {
  if (level > VALUE_SLOT_DEPTH || typeof slot !== 'object' || slot === null) return undefined;
  return nestsDeeperThan(slot, MAX_VALUE_DEPTH) ? `value nested deeper than ${MAX_VALUE_DEPTH} levels` : undefined;
}
