import { fail, ok, type Result } from '@converge/conflict';
import { decodeCursor, type Cursor } from '../cursor.js';
import { listProblem, oneOfProblem, refuseList, safeIntegerProblem, type JsonObject } from '../field-checks.js';
import { collectionNameProblem, documentKeyProblem } from '../names.js';
import { decodeWireStateBatch, encodeWireStateBatch, type WireState } from '../wire-state.js';

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
 * relay → client: merged states of one subscription's keys. On the wire the states travel as
 * one `encodeDocStateBatch` (every replica id written once) beside `docs: [[key, seq], …]`.
 *
 * @example
 * ```json
 * {"type":"changes","collection":"carts","phase":"live","docs":[["cart-9",1203]],
 *  "states":{"r":["q3JbX0f2LkH8aPzR"],"s":[[[0,1],[],[[0,1,1767225600009,0,{"s":[["apple",[["q3JbX0f2LkH8aPzR",1,2]]]],"c":{"v":{"q3JbX0f2LkH8aPzR":1}}}]]]]},
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

export function decodeChanges(json: JsonObject, maxItems: number): Result<ChangesFrame> {
  const { collection, phase, docs, states, watermark, cursor, done, resync } = json;
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
  const listIssue = listProblem(docs, maxItems);
  if (listIssue !== undefined) return refuseList('changes.docs', listIssue);
  const list = docs as unknown[];
  const decodedStates = decodeWireStateBatch(states, 'changes.states');
  if (!decodedStates.ok) return decodedStates;
  if (decodedStates.value.length !== list.length) return fail('changes.states.s', 'must hold one state per doc');
  const out: ChangedDoc[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (!Array.isArray(entry) || entry.length !== 2) return fail(`changes.docs[${i}]`, 'doc must be [key, seq]');
    const [key, seq] = entry as [unknown, unknown];
    problem = documentKeyProblem(key);
    if (problem !== undefined) return fail(`changes.docs[${i}][0]`, problem);
    problem = safeIntegerProblem(seq, 1, mark);
    if (problem !== undefined) return fail(`changes.docs[${i}][1]`, `${problem}: a doc's seq is at most the watermark`);
    out.push({ key: key as string, seq: seq as number, state: decodedStates.value[i]! });
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

export function changesToJson(frame: ChangesFrame): unknown {
  const json = {
    type: 'changes',
    collection: frame.collection,
    phase: frame.phase,
    docs: frame.docs.map((d) => [d.key, d.seq] as const),
    states: encodeWireStateBatch(frame.docs.map((d) => d.state)),
    watermark: frame.watermark,
    cursor: frame.cursor,
  };
  if (frame.done !== true && frame.resync !== true) return json;
  return { ...json, ...(frame.done === true ? { done: true } : {}), ...(frame.resync === true ? { resync: true } : {}) };
}
