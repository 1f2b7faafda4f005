import { ERROR_CODES, fail, ok, type ErrorCode, type Result } from '@converge/conflict';
import { isJsonObject, listProblem, oneOfProblem, refuseList, safeIntegerProblem, stringProblem, type JsonObject } from '../field-checks.js';
import { collectionNameProblem, documentKeyProblem, idProblem } from '../names.js';
import { stateFromJson, stateToJson } from '../state-json.js';
import type { WireState } from '../wire-state.js';

export const RELAY_ACK_LEVELS = ['relay', 'quorum', 'all'] as const;
/** The durability an `ack` reports: the relay never acknowledges below its own commit. */
export type RelayAckLevel = (typeof RELAY_ACK_LEVELS)[number];

/** Longest `message` of a rejected change or an `error` frame. */
export const MAX_MESSAGE_LENGTH = 4096;

export interface AcceptedChange {
  readonly collection: string;
  readonly key: string;
  readonly status: 'accepted';
  /** The seq the change got in the collection's log (a re-sent change: the seq it got first). */
  readonly seq: number;
}

export interface RejectedChange {
  readonly collection: string;
  readonly key: string;
  readonly status: 'rejected';
  readonly code: ErrorCode;
  readonly message: string;
  /** The relay's state of the key, when the client needs it to roll back or rebase (`conflict_rejected`). */
  readonly current?: WireState;
}

/** The relay's decision on one pushed change. */
export type ChangeResult = AcceptedChange | RejectedChange;

/**
 * relay → client: the answer to a `push`, sent once its accepted changes are committed at
 * `level`. `results[i]` is the decision on `changes[i]` of the push. (There is no separate
 * `reject` frame: one frame with a result per change keeps a partly refused push to one
 * answer, in push order.)
 *
 * @example
 * ```json
 * {"type":"ack","id":"p-17","level":"relay","results":[
 *  {"collection":"carts","key":"cart-9","status":"accepted","seq":1201},
 *  {"collection":"carts","key":"cart-3","status":"rejected","code":"too_many_siblings","message":"key holds 100 siblings"}]}
 * ```
 */
export interface AckFrame {
  readonly type: 'ack';
  readonly id: string;
  readonly level: RelayAckLevel;
  readonly results: readonly ChangeResult[];
}

function decodeResult(json: unknown, path: string): Result<ChangeResult> {
  if (!isJsonObject(json)) return fail(path, 'result must be {collection, key, status, …}');
  const { collection, key, status, seq, code, message, current } = json;
  let problem = collectionNameProblem(collection);
  if (problem !== undefined) return fail(`${path}.collection`, problem);
  problem = documentKeyProblem(key);
  if (problem !== undefined) return fail(`${path}.key`, problem);
  if (status === 'accepted') {
    problem = safeIntegerProblem(seq, 1);
    if (problem !== undefined) return fail(`${path}.seq`, problem);
    return ok({ collection: collection as string, key: key as string, status, seq: seq as number });
  }
  if (status !== 'rejected') return fail(`${path}.status`, "status must be 'accepted' or 'rejected'");
  problem = oneOfProblem(code, ERROR_CODES);
  if (problem !== undefined) return fail(`${path}.code`, problem);
  problem = stringProblem(message, 0, MAX_MESSAGE_LENGTH);
  if (problem !== undefined) return fail(`${path}.message`, problem);
  const rejected: RejectedChange = { collection: collection as string, key: key as string, status, code: code as ErrorCode, message: message as string };
  if (current === undefined) return ok(rejected);
  const state = stateFromJson(current, `${path}.current`);
  return state.ok ? ok({ ...rejected, current: state.value }) : state;
}

export function decodeAck(json: JsonObject, maxItems: number): Result<AckFrame> {
  const { id, level, results } = json;
  let problem = idProblem(id);
  if (problem !== undefined) return fail('ack.id', problem);
  problem = oneOfProblem(level, RELAY_ACK_LEVELS);
  if (problem !== undefined) return fail('ack.level', problem);
  const listIssue = listProblem(results, maxItems, 1);
  if (listIssue !== undefined) return refuseList('ack.results', listIssue);
  const list = results as unknown[];
  const out: ChangeResult[] = [];
  for (let i = 0; i < list.length; i++) {
    const result = decodeResult(list[i], `ack.results[${i}]`);
    if (!result.ok) return result;
    out.push(result.value);
  }
  return ok({ type: 'ack', id: id as string, level: level as RelayAckLevel, results: out });
}

type ChangeResultJson = AcceptedChange | (Omit<RejectedChange, 'current'> & { readonly current?: unknown });

export function ackToJson(frame: AckFrame): unknown {
  return {
    type: 'ack',
    id: frame.id,
    level: frame.level,
    results: frame.results.map((r): ChangeResultJson => {
      if (r.status === 'accepted') return r;
      const { current, ...rest } = r;
      return current === undefined ? rest : { ...rest, current: stateToJson(current) };
    }),
  };
}
