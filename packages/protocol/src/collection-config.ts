import { fail, ok, STRATEGY_NAMES, type Result, type StrategyName } from '@converge/conflict';
import { isJsonObject, oneOfProblem, safeIntegerProblem, tooLarge } from './field-checks.js';
import { collectionNameProblem } from './names.js';

export const COLLECTION_MODES = ['multi-leader', 'leader-follower'] as const;
/** Who accepts writes: every replica (`multi-leader`), or the relay alone (`leader-follower`). */
export type CollectionMode = (typeof COLLECTION_MODES)[number];

/** A client's declaration of a collection in `hello`; the relay's configuration is authoritative. */
export interface CollectionDeclaration {
  readonly mode: CollectionMode;
  readonly strategy: StrategyName;
}

/** A collection as the relay announces it in `welcome`: its configuration and head seq. */
export interface CollectionInfo extends CollectionDeclaration {
  /** The highest seq in the collection's log (0 when empty). */
  readonly head: number;
}

/**
 * Decodes a `{ [collection name]: entry }` map into an object with a null prototype, so no
 * name can reach `Object.prototype` and `collections['toString']` is `undefined`.
 */
export function decodeCollectionMap<T extends CollectionDeclaration>(
  json: unknown,
  path: string,
  maxItems: number,
  withHead: boolean,
): Result<Readonly<Record<string, T>>> {
  if (!isJsonObject(json)) return fail(path, 'must be an object of collection name → {mode, strategy}');
  const out: Record<string, T> = Object.create(null) as Record<string, T>;
  let count = 0;
  for (const name in json) {
    if (++count > maxItems) return tooLarge(path, `holds more than the limit of ${maxItems} collections`);
    const nameIssue = collectionNameProblem(name);
    if (nameIssue !== undefined) return fail(`${path}[${JSON.stringify(name)}]`, nameIssue);
    const at = `${path}.${name}`;
    const entry = json[name];
    if (!isJsonObject(entry)) return fail(at, 'must be {mode, strategy}');
    const { mode, strategy, head } = entry;
    let problem = oneOfProblem(mode, COLLECTION_MODES);
    if (problem !== undefined) return fail(`${at}.mode`, problem);
    problem = oneOfProblem(strategy, STRATEGY_NAMES);
    if (problem !== undefined) return fail(`${at}.strategy`, problem);
    if (withHead) {
      problem = safeIntegerProblem(head, 0);
      if (problem !== undefined) return fail(`${at}.head`, problem);
      out[name] = { mode, strategy, head } as unknown as T;
    } else {
      out[name] = { mode, strategy } as T;
    }
  }
  return ok(out);
}
