import { fail, ok, type Result } from '@converge/conflict';
import { decodeCursor, type Cursor } from './cursor.js';
import { isJsonObject, listProblem, refuseList } from './field-checks.js';
import { collectionNameProblem, keyPrefixProblem } from './names.js';

/** Keys a subscription is limited to. */
export interface KeyFilter {
  readonly prefix: string;
}

/**
 * One log a client follows: a collection, optionally filtered, from a cursor (`null`: from
 * the start). Each (lineage, collection, filter) is its own log id with its own cursor.
 */
export interface Subscription {
  readonly collection: string;
  readonly cursor: Cursor | null;
  readonly filter?: KeyFilter;
}

function decodeSubscription(json: unknown, path: string): Result<Subscription> {
  if (!isJsonObject(json)) return fail(path, 'subscription must be {collection, cursor, filter?}');
  const { collection, cursor, filter } = json;
  const nameIssue = collectionNameProblem(collection);
  if (nameIssue !== undefined) return fail(`${path}.collection`, nameIssue);
  let decodedCursor: Cursor | null = null;
  if (cursor !== null) {
    if (cursor === undefined) return fail(`${path}.cursor`, 'cursor is required: a cursor, or null to start from the beginning');
    const result = decodeCursor(cursor, `${path}.cursor`);
    if (!result.ok) return result;
    decodedCursor = result.value;
  }
  if (filter === undefined) return ok({ collection: collection as string, cursor: decodedCursor });
  if (!isJsonObject(filter)) return fail(`${path}.filter`, 'filter must be {prefix}');
  const prefixIssue = keyPrefixProblem(filter['prefix']);
  if (prefixIssue !== undefined) return fail(`${path}.filter.prefix`, prefixIssue);
  return ok({ collection: collection as string, cursor: decodedCursor, filter: { prefix: filter['prefix'] as string } });
}

export function decodeSubscriptions(json: unknown, path: string, maxItems: number, minItems: number): Result<Subscription[]> {
  const listIssue = listProblem(json, maxItems, minItems);
  if (listIssue !== undefined) return refuseList(path, listIssue);
  const list = json as unknown[];
  const out: Subscription[] = [];
  for (let i = 0; i < list.length; i++) {
    const sub = decodeSubscription(list[i], `${path}[${i}]`);
    if (!sub.ok) return sub;
    out.push(sub.value);
  }
  return ok(out);
}
