import { fail, ok, type Result } from '@converge/conflict';
import { firstProblem, isJsonObject, listProblem, refuseList, safeIntegerProblem, type JsonObject } from '../field-checks.js';
import { collectionNameProblem, documentKeyProblem, idProblem } from '../names.js';
import { stateFromJson, stateToJson } from '../state-json.js';
import type { WireState } from '../wire-state.js';

/** One key of a read: its state at the relay and the seq of its last change; `state: null, seq: 0` when the relay holds nothing. */
export interface ReadDoc {
  readonly key: string;
  readonly seq: number;
  readonly state: WireState | null;
}

/**
 * relay → client: the answer to `read`, one doc per requested key, in request order.
 *
 * @example
 * ```json
 * {"type":"read-result","id":"r-3","collection":"stock","docs":[
 *  {"key":"sku-1","seq":88,"state":["relay-1",12,1767225600000,0,7]},
 *  {"key":"sku-2","seq":0,"state":null}]}
 * ```
 */
export interface ReadResultFrame {
  readonly type: 'read-result';
  readonly id: string;
  readonly collection: string;
  readonly docs: readonly ReadDoc[];
}

function decodeDoc(json: unknown, path: string): Result<ReadDoc> {
  if (!isJsonObject(json)) return fail(path, 'doc must be {key, seq, state}');
  const { key, seq, state } = json;
  const refused = firstProblem<ReadDoc>(path, { key: documentKeyProblem(key), seq: safeIntegerProblem(seq, 0) });
  if (refused !== undefined) return refused;
  if (state === null) return ok({ key: key as string, seq: seq as number, state: null });
  const decoded = stateFromJson(state, `${path}.state`);
  return decoded.ok ? ok({ key: key as string, seq: seq as number, state: decoded.value }) : decoded;
}

export function decodeReadResult(json: JsonObject, maxItems: number): Result<ReadResultFrame> {
  const { id, collection, docs } = json;
  const refused = firstProblem<ReadResultFrame>('read-result', { id: idProblem(id), collection: collectionNameProblem(collection) });
  if (refused !== undefined) return refused;
  const listIssue = listProblem(docs, maxItems);
  if (listIssue !== undefined) return refuseList('read-result.docs', listIssue);
  const list = docs as unknown[];
  const out: ReadDoc[] = [];
  for (let i = 0; i < list.length; i++) {
    const doc = decodeDoc(list[i], `read-result.docs[${i}]`);
    if (!doc.ok) return doc;
    out.push(doc.value);
  }
  return ok({ type: 'read-result', id: id as string, collection: collection as string, docs: out });
}

export function readResultToJson(frame: ReadResultFrame): unknown {
  return {
    type: 'read-result',
    id: frame.id,
    collection: frame.collection,
    docs: frame.docs.map((d): { key: string; seq: number; state: unknown } => ({
      key: d.key,
      seq: d.seq,
      state: d.state === null ? null : stateToJson(d.state),
    })),
  };
}
