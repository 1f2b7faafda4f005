import {
  decodeIndexedState,
  encodeIndexedState,
  fail,
  isCounter,
  MAX_LOGICAL,
  MAX_WALL,
  ok,
  replicaIdProblem,
  simpleSibling,
  simpleState,
  type CausalContext,
  type Dot,
  type Result,
} from '@converge/conflict';
import { decodeCursor, type Cursor } from '../cursor.js';
import { listProblem, oneOfProblem, refuseList, safeIntegerProblem, type JsonObject } from '../field-checks.js';
import { jsonShapeProblem } from '../json-shape.js';
import { MAX_VALUE_DEPTH } from '../limits.js';
import { collectionNameProblem, documentKeyProblem } from '../names.js';
import { SLOT_OPTIONS } from '../state-json.js';
import { readSlot, slotDepthProblem, slotOf } from '../value-slot.js';
import type { WireState } from '../wire-state.js';

export const CHANGE_PHASES = ['catchup', 'live'] as const;
/** `catchup`: streaming what the cursor had not seen; `live`: changes as they are committed. */
export type ChangePhase = (typeof CHANGE_PHASES)[number];

/** One key's merged state at the relay and the seq of its last change. */
export interface ChangedDoc {
  readonly key: string;
  readonly seq: number;
  readonly state: WireState;
}

/**
 * relay → client: merged states of one subscription's keys. On the wire each doc is one array
 * (see `ChangesFrameBuilder`): a simple state as its sibling alone, with seq and wall written as
 * differences from the doc before and the HLC's logical left out when it is the one an HLC
 * would stamp next; any other state as `{r, v, d?, s}`; every replica id once in `replicas`.
 * Decoded, every doc carries its validated state.
 *
 * @example
 * ```json
 * {"type":"changes","collection":"carts","phase":"live","replicas":["q3JbX0f2LkH8aPzR"],
 *  "docs":[["cart-9",1203,{"s":[["apple",[["q3JbX0f2LkH8aPzR",1,2]]]],"c":{"v":{"q3JbX0f2LkH8aPzR":1}}},1767225600009]],
 *  "watermark":1203,"cursor":{"lineage":"L9f3kQ2mZxT0","seq":1203,"hash":"u2V9cYg1pE0Jm8QxZ4rKsA","mac":"Xb7Tq0Lw9ZcN3fHy6GmR1vEo"}}
 * ```
 */
export interface ChangesFrame {
  readonly type: 'changes';
  readonly collection: string;
  readonly phase: ChangePhase;
  readonly docs: readonly ChangedDoc[];
  /** "Complete through seq N" for this subscription: every change ≤ N the client may see has been sent. */
  readonly watermark: number;
  /** The relay-signed cursor at `watermark`; store it once everything up to the watermark is applied. */
  readonly cursor: Cursor;
  /** Marks the last frame of catch-up; live frames follow. */
  readonly done?: true;
  /**
   * On the first catch-up frame when the relay could not resume from the subscription's
   * cursor (another lineage, a bad MAC, beyond the head, or a chain hash that no longer
   * matches: the relay lost data). Catch-up restarts from seq 0; the client applies it and
   * re-pushes its states of the subscription's keys marked `resync`.
   */
  readonly resync?: true;
}

const DOC_SHAPE = 'doc must be [key, seq, state] or [key, seq, value, wall, counter?, replica?, logical?]';

/**
 * Decodes a `changes` frame in one pass over its docs. Every field is checked (a client never
 * trusts the relay blindly); a simple doc becomes its state directly, with no intermediate
 * objects and no second validation pass; values stay encoded.
 */
export function decodeChanges(json: JsonObject, maxItems: number): Result<ChangesFrame> {
  const { collection, phase, replicas, docs, watermark, cursor, done, resync } = json;
  let problem = collectionNameProblem(collection);
  if (problem !== undefined) return fail('changes.collection', problem);
  problem = oneOfProblem(phase, CHANGE_PHASES);
  if (problem !== undefined) return fail('changes.phase', problem);
  problem = safeIntegerProblem(watermark, 0);
  if (problem !== undefined) return fail('changes.watermark', problem);
  const mark = watermark as number;
  const decodedCursor = decodeCursor(cursor, 'changes.cursor');
  if (!decodedCursor.ok) return decodedCursor;
  if (decodedCursor.value.seq !== mark) return fail('changes.cursor.seq', 'the cursor must be at the watermark');
  if (done !== undefined && (done !== true || phase !== 'catchup')) return fail('changes.done', 'done must be true, and only on a catchup frame');
  if (resync !== undefined && (resync !== true || phase !== 'catchup')) return fail('changes.resync', 'resync must be true, and only on a catchup frame');
  if (!Array.isArray(replicas)) return fail('changes.replicas', 'must be an array of replica ids');
  const ids = replicas as unknown[];
  for (let i = 0; i < ids.length; i++) {
    problem = replicaIdProblem(ids[i]);
    if (problem !== undefined) return fail(`changes.replicas[${i}]`, problem);
  }
  const listIssue = listProblem(docs, maxItems);
  if (listIssue !== undefined) return refuseList('changes.docs', listIssue);
  const list = docs as unknown[];
  const resolve = (ref: unknown): unknown => (typeof ref === 'number' && Number.isInteger(ref) && ref >= 0 ? ids[ref] : undefined);
  const out = new Array<ChangedDoc>(list.length);
  const shared: Map<number, { readonly context: CausalContext; readonly dot: Dot }>[] = [];
  let seq = 0;
  let wall = 0;
  let logical = 0;
  // The path of a refusal is built only then: a doc that passes allocates nothing but its state.
  const at = (i: number, field = '') => `changes.docs[${i}]${field}`;
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (!Array.isArray(entry) || entry.length < 3 || entry.length > 7) return fail(at(i), DOC_SHAPE);
    const key = entry[0] as unknown;
    problem = documentKeyProblem(key);
    if (problem !== undefined) return fail(at(i, '[0]'), problem);
    const step = entry[1] as unknown;
    seq += typeof step === 'number' && Number.isSafeInteger(step) ? step : Number.NaN;
    if (!(seq >= 1 && seq <= mark))
      return fail(at(i, '[1]'), `seq (the previous doc's plus this) must be an integer in [1, ${mark}]: a doc's seq is at most the watermark`);
    let state: WireState;
    if (entry.length === 3) {
      const decoded = decodeIndexedState(entry[2], SLOT_OPTIONS, at(i, '[2]'), resolve);
      if (!decoded.ok) return decoded;
      state = decoded.value as WireState;
    } else {
      // A simple doc's slot sits at level 4 of the frame: deeper values are refused here. A plain
      // one (a register value without meta, the usual catch-up) is checked and frozen in one walk
      // (`jsonShapeProblem`'s freeze): a client reads it later as it is, without walking it again.
      const slot: unknown = entry[2];
      let value = readSlot(slot);
      if (typeof value === 'string' || (value as { json?: unknown }).json !== slot || jsonShapeProblem(slot, MAX_VALUE_DEPTH, '', true) !== undefined) {
        value = slotDepthProblem(slot, 4) ?? value;
      }
      if (typeof value === 'string') return fail(at(i, '[2]'), value);
      const wallStep = entry[3] as unknown;
      wall += typeof wallStep === 'number' && Number.isSafeInteger(wallStep) ? wallStep : Number.NaN;
      if (!(wall >= 0 && wall <= MAX_WALL)) return fail(at(i, '[3]'), `wall (the previous simple doc's plus this) must be an integer in [0, ${MAX_WALL}]`);
      const counter = entry.length > 4 ? (entry[4] as unknown) : 1;
      if (counter !== 1 && !isCounter(counter)) return fail(at(i, '[4]'), 'counter must be a safe integer ≥ 1');
      const index = entry.length > 5 ? (entry[5] as unknown) : 0;
      const replica = (index === 0 ? ids[0] : resolve(index)) as string | undefined;
      if (replica === undefined) return fail(at(i, '[5]'), 'replica must be an index into changes.replicas');
      // Left out, the logical is what an HLC stamps next: the previous one + 1 in the same millisecond, else 0.
      const stamped = entry.length > 6 ? (entry[6] as unknown) : wallStep === 0 ? logical + 1 : 0;
      if (typeof stamped !== 'number' || !Number.isInteger(stamped) || stamped < 0 || stamped > MAX_LOGICAL) {
        return fail(at(i, '[6]'), `logical must be an integer in [0, ${MAX_LOGICAL}]`);
      }
      logical = stamped;
      // Docs of one frame at the same write position share its (immutable) context and dot.
      const positions = (shared[index as number] ??= new Map());
      let position = positions.get(counter as number);
      if (position === undefined) {
        const first = simpleState({ dot: [replica, counter as number], hlc: { wall, logical, replica }, value });
        positions.set(counter as number, (position = { context: first.context, dot: first.siblings[0]!.dot }));
      }
      state = { context: position.context, siblings: [{ dot: position.dot, hlc: { wall, logical, replica }, value }] };
    }
    out[i] = { key: key as string, seq, state };
  }
  let frame: ChangesFrame = {
    type: 'changes',
    collection: collection as string,
    phase: phase as ChangePhase,
    docs: out,
    watermark: mark,
    cursor: decodedCursor.value,
  };
  if (done === true) frame = { ...frame, done };
  if (resync === true) frame = { ...frame, resync };
  return ok(frame);
}

/**
 * The frame's wire JSON, built from decoded states: the same text `ChangesFrameBuilder` writes
 * from stored state text, built as one structure for a single `JSON.stringify`.
 */
export function changesToJson(frame: ChangesFrame): unknown {
  const replicas: string[] = [];
  const index = new Map<string, number>();
  const ref = (replica: string): number => {
    let i = index.get(replica);
    if (i === undefined) {
      i = replicas.push(replica) - 1;
      index.set(replica, i);
    }
    return i;
  };
  let seq = 0;
  let wall = 0;
  let logical = 0;
  const docs = new Array<unknown[]>(frame.docs.length);
  for (let i = 0; i < frame.docs.length; i++) {
    const { key, seq: docSeq, state } = frame.docs[i]!;
    const step = docSeq - seq;
    seq = docSeq;
    const sibling = simpleSibling(state);
    if (sibling === undefined) {
      docs[i] = [key, step, encodeIndexedState(state, slotOf, ref)];
      continue;
    }
    const { dot, hlc } = sibling;
    const wallStep = hlc.wall - wall;
    const doc: unknown[] = [key, step, slotOf(sibling.value), wallStep];
    const predicted = wallStep === 0 ? logical + 1 : 0;
    wall = hlc.wall;
    logical = hlc.logical;
    const replica = ref(dot[0]);
    if (hlc.logical !== predicted) doc.push(dot[1], replica, hlc.logical);
    else if (replica !== 0) doc.push(dot[1], replica);
    else if (dot[1] !== 1) doc.push(dot[1]);
    docs[i] = doc;
  }
  const { collection, phase, watermark, cursor, done, resync } = frame;
  const json = {
    type: 'changes',
    collection,
    phase,
    replicas,
    docs,
    watermark,
    cursor: { lineage: cursor.lineage, seq: cursor.seq, hash: cursor.hash, mac: cursor.mac },
  };
  if (done !== true && resync !== true) return json;
  return { ...json, ...(done === true ? { done } : {}), ...(resync === true ? { resync } : {}) };
}
