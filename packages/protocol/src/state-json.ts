import {
  decodeIndexedState,
  encodeIndexedState,
  fail,
  hlcProblem,
  isCounter,
  ok,
  replicaIdProblem,
  simpleSibling,
  simpleState,
  type Result,
  type ValidateOptions,
} from '@converge/conflict';
import { readSlot, slotDepthProblem, slotOf } from './value-slot.js';
import type { WireState } from './wire-state.js';

/**
 * One document state as protocol 2 writes it on its own (a push delta, an ack's `current`, a
 * read-result doc) and as a relay stores it: self-contained, every replica id spelled out.
 *
 * ```
 * simple   ["<replica>",counter,wall,logical,slot]
 *          the one live sibling of a state whose context is exactly its writer's writes 1..counter
 * general  {"r":["<replica>",…],"v":[i,counter,…],"d":[i,counter,…],"s":[[i,counter,wall,logical,slot?],…]}
 *          any other state; i indexes "r"; "d" left out when empty; a 4-element sibling is a tombstone
 * ```
 * A slot is a value as `value-slot.ts` writes it.
 */
export function stateToJson(state: WireState): unknown {
  const sibling = simpleSibling(state);
  if (sibling === undefined) return encodeIndexedState(state, slotOf);
  return [sibling.dot[0], sibling.dot[1], sibling.hlc.wall, sibling.hlc.logical, slotOf(sibling.value)];
}

const slotProblem = (slot: unknown): string | undefined => {
  const value = readSlot(slot);
  return typeof value === 'string' ? value : undefined;
};

/** Decoding options for states whose values are wire slots: checked, then turned into `WireValue`s. */
export const SLOT_OPTIONS: ValidateOptions = Object.freeze({ checkValue: slotProblem, mapValue: readSlot });

/** The simple form `[replica, counter, wall, logical, slot]`, validated. */
function simpleFromJson(json: readonly unknown[], path: string, level: number): Result<WireState> {
  if (json.length !== 5) return fail(path, 'a state is [replica, counter, wall, logical, value] or {r, v, d?, s}');
  const [replica, counter, wall, logical, slot] = json;
  const problem = replicaIdProblem(replica);
  if (problem !== undefined) return fail(`${path}.siblings[0].dot`, problem);
  if (!isCounter(counter)) return fail(`${path}.siblings[0].dot`, 'counter must be a safe integer ≥ 1');
  const hlc = { wall, logical, replica } as { wall: number; logical: number; replica: string };
  const hlcIssue = hlcProblem(hlc);
  if (hlcIssue !== undefined) return fail(`${path}.siblings[0].hlc`, hlcIssue);
  const value = slotDepthProblem(slot, level + 1) ?? readSlot(slot);
  if (typeof value === 'string') return fail(`${path}.siblings[0].value`, value);
  return ok(simpleState({ dot: [replica as string, counter], hlc, value }));
}

/**
 * Decodes and validates an untrusted state in either form (every DocState invariant, HLC
 * bounds, value slots). `level` is the state's nesting level in its frame (4 in every frame that
 * carries a state on its own), for the depth limit of a simple state's slot. Never throws.
 */
export function stateFromJson(json: unknown, path: string, level = 4): Result<WireState> {
  if (Array.isArray(json)) return simpleFromJson(json, path, level);
  return decodeIndexedState(json, SLOT_OPTIONS, path) as Result<WireState>;
}

/**
 * The text a relay stores for a key's merged state: the state's self-contained JSON (see
 * `stateToJson`). Written once, at ingest, from a validated state; `changesFrameText` builds
 * `changes` frames from it by string work alone.
 *
 * @example
 * ```ts
 * const state = parseStoredState('["q3JbX0f2LkH8aPzR",3,1767225600000,0,{"title":"milk"}]');
 * state.ok && storedStateText(state.value); // → '["q3JbX0f2LkH8aPzR",3,1767225600000,0,{"title":"milk"}]'
 * ```
 */
export function storedStateText(state: WireState): string {
  return JSON.stringify(stateToJson(state));
}

/**
 * Reads stored text back (for an ingest-time merge). Checks the structure and every DocState
 * invariant; never throws. The text is the relay's own: value contents (depth, reserved keys)
 * were checked when the frame that carried them was decoded.
 */
export function parseStoredState(text: string, path = 'stored state'): Result<WireState> {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    return fail(path, 'stored state is not valid JSON');
  }
  return stateFromJson(json, path, 1);
}
