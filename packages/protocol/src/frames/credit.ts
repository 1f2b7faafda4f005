import { fail, ok, type Result } from '@converge/conflict';
import { safeIntegerProblem, type JsonObject } from '../field-checks.js';
import { collectionNameProblem } from '../names.js';

/**
 * client → relay: flow control for catch-up. A connection starts with
 * `limits.catchupWindowBytes` of credit, shared by all its subscriptions, and every catch-up
 * frame uses up its size. This frame gives `bytes` back to that window (never above
 * `catchupWindowBytes`); `collection` names the subscription whose frame it grants back. The
 * client grants a frame's size back once it has stored it.
 *
 * @example
 * ```json
 * {"type":"credit","collection":"carts","bytes":262144}
 * ```
 */
export interface CreditFrame {
  readonly type: 'credit';
  readonly collection?: string;
  readonly bytes: number;
}

export function decodeCredit(json: JsonObject): Result<CreditFrame> {
  const { collection, bytes } = json;
  const problem = safeIntegerProblem(bytes, 1);
  if (problem !== undefined) return fail('credit.bytes', problem);
  if (collection === undefined) return ok({ type: 'credit', bytes: bytes as number });
  const nameIssue = collectionNameProblem(collection);
  if (nameIssue !== undefined) return fail('credit.collection', nameIssue);
  return ok({ type: 'credit', collection: collection as string, bytes: bytes as number });
}
