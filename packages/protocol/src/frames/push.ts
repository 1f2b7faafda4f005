import { dotKey, fail, ok, writeChainProblem, type Result, type WriteChain } from '@converge/conflict';
import { isJsonObject, listProblem, oneOfProblem, refuseList, safeIntegerProblem, type JsonObject } from '../field-checks.js';
import { collectionNameProblem, documentKeyProblem, idProblem } from '../names.js';
import { stateFromJson, stateToJson } from '../state-json.js';
import type { WireState } from '../wire-state.js';

export const ACK_LEVELS = ['local', 'relay', 'quorum', 'all'] as const;
/** How durable a write must be before `put` resolves; see README "Client" (ack levels). */
export type AckLevel = (typeof ACK_LEVELS)[number];

/** One write in a push. */
export interface PushedChange {
  readonly collection: string;
  readonly key: string;
  /**
   * What the write sends: the writer's read context plus its own dot and the one new sibling;
   * with `resync`, the replica's full state of the key.
   */
  readonly delta: WireState;
  /** The replica-wide write number allocated with the write's dot (≥ 1); a squashed change carries its latest write's. */
  readonly writeNumber: number;
  /** The replica's write chain through `writeNumber` (see `chainWrite`): the relay keeps the latest per replica. */
  readonly chain: WriteChain;
  /** A full state re-pushed after the relay lost data (new lineage, head below the cursor, forked chain hash). */
  readonly resync?: true;
}

/**
 * client → relay: writes to store. Every change gets a result in the `ack` (one frame, or
 * several parts when the results outgrow one frame), named by collection, key and the dot of
 * the delta's last sibling; no two changes of a push share that name, and every delta carries
 * a sibling.
 *
 * @example
 * ```json
 * {"type":"push","id":"p-17","ack":"relay","changes":[{"collection":"carts","key":"cart-9",
 *  "delta":["q3JbX0f2LkH8aPzR",4,1767225600000,0,"hi"],"writeNumber":57,
 *  "chain":"9c1e07b2f4a85d36"}]}
 * ```
 */
export interface PushFrame {
  readonly type: 'push';
  readonly id: string;
  readonly ack: AckLevel;
  readonly changes: readonly PushedChange[];
}

interface PushedChangeJson {
  readonly collection: string;
  readonly key: string;
  readonly delta: unknown;
  readonly writeNumber: number;
  readonly chain: string;
  readonly resync?: true;
}

function decodeChange(json: unknown, path: string): Result<PushedChange> {
  if (!isJsonObject(json)) return fail(path, 'change must be {collection, key, delta, writeNumber, chain, resync?}');
  const { collection, key, delta, writeNumber, chain, resync } = json;
  let problem = collectionNameProblem(collection);
  if (problem !== undefined) return fail(`${path}.collection`, problem);
  problem = documentKeyProblem(key);
  if (problem !== undefined) return fail(`${path}.key`, problem);
  problem = safeIntegerProblem(writeNumber, 1);
  if (problem !== undefined) return fail(`${path}.writeNumber`, problem);
  problem = writeChainProblem(chain);
  if (problem !== undefined) return fail(`${path}.chain`, problem);
  if (resync !== undefined && resync !== true) return fail(`${path}.resync`, 'resync must be true when present');
  const state = stateFromJson(delta, `${path}.delta`);
  if (!state.ok) return state;
  // The ack names each change by its delta's last sibling (`settledDot`): a change carries one.
  if (state.value.siblings.length === 0) return fail(`${path}.delta.siblings`, 'a pushed change carries at least one sibling');
  const change: PushedChange = {
    collection: collection as string,
    key: key as string,
    delta: state.value,
    writeNumber: writeNumber as number,
    chain: chain as string,
  };
  return ok(resync === true ? { ...change, resync } : change);
}

export function decodePush(json: JsonObject, maxItems: number): Result<PushFrame> {
  const { id, ack, changes } = json;
  let problem = idProblem(id);
  if (problem !== undefined) return fail('push.id', problem);
  problem = oneOfProblem(ack, ACK_LEVELS);
  if (problem !== undefined) return fail('push.ack', problem);
  const listIssue = listProblem(changes, maxItems, 1);
  if (listIssue !== undefined) return refuseList('push.changes', listIssue);
  const list = changes as unknown[];
  const out: PushedChange[] = [];
  const names = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const change = decodeChange(list[i], `push.changes[${i}]`);
    if (!change.ok) return change;
    const { collection, key, delta } = change.value;
    // Results are matched to changes by name (collection, key, dot), so no two changes share one.
    const name = `${collection}\u0000${key}\u0000${dotKey(delta.siblings[delta.siblings.length - 1]!.dot)}`;
    if (names.has(name)) return fail(`push.changes[${i}]`, 'names the same write (collection, key and last dot) as an earlier change');
    names.add(name);
    out.push(change.value);
  }
  return ok({ type: 'push', id: id as string, ack: ack as AckLevel, changes: out });
}

export function pushToJson(frame: PushFrame): unknown {
  return {
    type: 'push',
    id: frame.id,
    ack: frame.ack,
    changes: frame.changes.map((c): PushedChangeJson =>
      c.resync === true
        ? { collection: c.collection, key: c.key, delta: stateToJson(c.delta), writeNumber: c.writeNumber, chain: c.chain, resync: true }
        : { collection: c.collection, key: c.key, delta: stateToJson(c.delta), writeNumber: c.writeNumber, chain: c.chain },
    ),
  };
}
