import { fail, ok, type Result } from '@converge/conflict';
import { listProblem, oneOfProblem, refuseList, type JsonObject } from '../field-checks.js';
import { collectionNameProblem, documentKeyProblem, idProblem } from '../names.js';

export const READ_CONSISTENCIES = ['leader', 'local'] as const;
/** `leader`: the leader answers after confirming its leadership; `local`: the relay node's own state. */
export type ReadConsistency = (typeof READ_CONSISTENCIES)[number];

/**
 * client → relay: read keys from the relay rather than from the local replica.
 *
 * @example
 * ```json
 * {"type":"read","id":"r-3","collection":"stock","keys":["sku-1","sku-2"],"consistency":"leader"}
 * ```
 */
export interface ReadFrame {
  readonly type: 'read';
  readonly id: string;
  readonly collection: string;
  readonly keys: readonly string[];
  readonly consistency: ReadConsistency;
}

export function decodeRead(json: JsonObject, maxItems: number): Result<ReadFrame> {
  const { id, collection, keys, consistency } = json;
  let problem = idProblem(id);
  if (problem !== undefined) return fail('read.id', problem);
  problem = collectionNameProblem(collection);
  if (problem !== undefined) return fail('read.collection', problem);
  const listIssue = listProblem(keys, maxItems, 1);
  if (listIssue !== undefined) return refuseList('read.keys', listIssue);
  const list = keys as unknown[];
  for (let i = 0; i < list.length; i++) {
    problem = documentKeyProblem(list[i]);
    if (problem !== undefined) return fail(`read.keys[${i}]`, problem);
  }
  problem = oneOfProblem(consistency, READ_CONSISTENCIES);
  if (problem !== undefined) return fail('read.consistency', problem);
  return ok({ type: 'read', id: id as string, collection: collection as string, keys: list as string[], consistency: consistency as ReadConsistency });
}
