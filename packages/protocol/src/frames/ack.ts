import { ConvergeError, dotProblem, fail, ok, type Dot, type ErrorCode, type Result } from '@converge/conflict';
import { firstProblem, isJsonObject, listProblem, oneOfProblem, refuseList, safeIntegerProblem, stringProblem, type JsonObject } from '../field-checks.js';
import { WIRE_ERROR_CODES } from '../error-codes.js';
import { collectionNameProblem, documentKeyProblem, idProblem } from '../names.js';
import { stateFromJson, stateToJson } from '../state-json.js';
import type { WireState } from '../wire-state.js';

export const RELAY_ACK_LEVELS = ['relay', 'quorum', 'all'] as const;
/** The durability an `ack` reports: the relay never acknowledges below its own commit. */
export type RelayAckLevel = (typeof RELAY_ACK_LEVELS)[number];

/** Longest `message` of a rejected change or an `error` frame. */
export const MAX_MESSAGE_LENGTH = 4096;

/**
 * What names a pushed change in its `ack` result: its collection, its key and `dot`, the dot of
 * the last sibling of its delta (siblings are sorted by dot). For a write, that is the write's
 * own dot; for squashed writes, the newest of their dots the delta still carries.
 */
export interface ChangeName {
  readonly collection: string;
  readonly key: string;
  readonly dot: Dot;
}

/**
 * The dot an `ack` result names for a pushed change with this delta: its last sibling's.
 * Every pushed delta carries a sibling (a push whose change has none is refused when decoded).
 *
 * @example
 * ```ts
 * const hlc = { wall: 1767225600000, logical: 0, replica: 'A' };
 * const delta = { context: { vv: new Map([['A', 2]]), cloud: [] }, siblings: [{ dot: ['A', 2] as const, hlc, value: { json: 1 } }] };
 * settledDot(delta); // → ['A', 2]
 * ```
 */
export function settledDot(delta: WireState): Dot {
  const last = delta.siblings[delta.siblings.length - 1];
  if (last === undefined) throw new ConvergeError('bad_message', 'a pushed change carries at least one sibling');
  return last.dot;
}

export interface AcceptedChange extends ChangeName {
  readonly status: 'accepted';
  /**
   * The seq the change got in the collection's log (a re-sent change: the seq it got first).
   * Absent for a principal that may not read the key: a seq is a position of the log.
   */
  readonly seq?: number;
}

export interface RejectedChange extends ChangeName {
  readonly status: 'rejected';
  readonly code: ErrorCode;
  /** For people: why (it does not repeat the collection or key, which the result names). */
  readonly message: string;
  /** The relay's state of the key, when the client needs it to roll back or rebase (`conflict_rejected`). */
  readonly current?: WireState;
}

/** The relay's decision on one pushed change, naming the change (collection, key, dot). */
export type ChangeResult = AcceptedChange | RejectedChange;

/**
 * relay → client: the answer to a `push`, sent once its accepted changes are committed at
 * `level`. Every result names the change it decides (collection, key, dot): a client matches
 * results by name, never by position. The answer to one push is one `ack`, or several when one
 * frame within `maxFrameBytes` cannot hold every result: each part but the last carries
 * `more: true`, and the parts together hold exactly one result per pushed change. (There is no
 * separate `reject` frame: a partly refused push gets one answer.)
 *
 * @example
 * ```json
 * {"type":"ack","id":"p-17","level":"relay","results":[
 *  {"collection":"carts","key":"cart-9","dot":["q3JbX0f2LkH8aPzR",4],"status":"accepted","seq":1201},
 *  {"collection":"carts","key":"cart-3","dot":["q3JbX0f2LkH8aPzR",2],"status":"rejected","code":"too_many_siblings","message":"the key would hold 101 siblings"}]}
 * ```
 */
export interface AckFrame {
  readonly type: 'ack';
  readonly id: string;
  readonly level: RelayAckLevel;
  readonly results: readonly ChangeResult[];
  /** More parts of this push's answer follow (absent on the last part, and on an answer in one frame). */
  readonly more?: true;
}

function decodeResult(json: unknown, path: string): Result<ChangeResult> {
  if (!isJsonObject(json)) return fail(path, 'result must be {collection, key, status, …}');
  const { collection, key, dot, status, seq, code, message, current } = json;
  const refused = firstProblem<ChangeResult>(path, { collection: collectionNameProblem(collection), key: documentKeyProblem(key), dot: dotProblem(dot) });
  if (refused !== undefined) return refused;
  const name = { collection: collection as string, key: key as string, dot: [(dot as Dot)[0], (dot as Dot)[1]] as const };
  if (status === 'accepted') {
    if (seq === undefined) return ok({ ...name, status });
    return firstProblem(path, { seq: safeIntegerProblem(seq, 1) }) ?? ok({ ...name, status, seq: seq as number });
  }
  if (status !== 'rejected') return fail(`${path}.status`, "status must be 'accepted' or 'rejected'");
  const bad = firstProblem<ChangeResult>(path, { code: oneOfProblem(code, WIRE_ERROR_CODES), message: stringProblem(message, 0, MAX_MESSAGE_LENGTH) });
  if (bad !== undefined) return bad;
  const rejected: RejectedChange = { ...name, status, code: code as ErrorCode, message: message as string };
  if (current === undefined) return ok(rejected);
  const state = stateFromJson(current, `${path}.current`);
  return state.ok ? ok({ ...rejected, current: state.value }) : state;
}

export function decodeAck(json: JsonObject, maxItems: number): Result<AckFrame> {
  const { id, level, results, more } = json;
  const refused = firstProblem<AckFrame>('ack', { id: idProblem(id), level: oneOfProblem(level, RELAY_ACK_LEVELS) });
  if (refused !== undefined) return refused;
  if (more !== undefined && more !== true) return fail('ack.more', 'more must be true when present');
  const listIssue = listProblem(results, maxItems, 1);
  if (listIssue !== undefined) return refuseList('ack.results', listIssue);
  const list = results as unknown[];
  const out: ChangeResult[] = [];
  for (let i = 0; i < list.length; i++) {
    const result = decodeResult(list[i], `ack.results[${i}]`);
    if (!result.ok) return result;
    out.push(result.value);
  }
  const frame: AckFrame = { type: 'ack', id: id as string, level: level as RelayAckLevel, results: out };
  return ok(more === true ? { ...frame, more } : frame);
}

type ChangeResultJson = AcceptedChange | (Omit<RejectedChange, 'current'> & { readonly current?: unknown });

/** One result as the wire writes it: its name first, then the decision. */
function resultToJson(r: ChangeResult): ChangeResultJson {
  const name = { collection: r.collection, key: r.key, dot: r.dot };
  if (r.status === 'accepted') return r.seq === undefined ? { ...name, status: r.status } : { ...name, status: r.status, seq: r.seq };
  const refusal = { ...name, status: r.status, code: r.code, message: r.message };
  return r.current === undefined ? refusal : { ...refusal, current: stateToJson(r.current) };
}

export function ackToJson(frame: AckFrame): unknown {
  const json = { type: 'ack', id: frame.id, level: frame.level, results: frame.results.map(resultToJson) };
  return frame.more === true ? { ...json, more: true } : json;
}
