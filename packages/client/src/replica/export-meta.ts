import { hlcProblem, isErrorCode, replicaIdProblem, STRATEGY_NAMES, writeChainProblem } from '@converge/conflict';
import { ACK_LEVELS, COLLECTION_MODES, collectionNameProblem, decodeCursor, documentKeyProblem, keyPrefixProblem, RELAY_LIMIT_NAMES } from '@converge/protocol';
import { by, decoded, int, list, object, oneOf, opt, shape, str, type Check } from '../json-schema.js';
import { cursorKey, floorKey, floorsKey, META } from './meta-keys.js';

export const NAME = by(collectionNameProblem);
export const KEY = by(documentKeyProblem);
export const REPLICA = by(replicaIdProblem);
export const CHAIN = by(writeChainProblem);
export const WRITE_ID = by((v) => (typeof v === 'string' && v !== '' ? undefined : 'must be a write id'));
export const CODE = by((v) => (isErrorCode(v) ? undefined : 'must be an error code'));

/** A `{ [collection]: {mode, strategy} }` map, with a null prototype. */
export const COLLECTIONS: Check = (value, path) => {
  const json = object(value, path);
  const out = Object.create(null) as Record<string, unknown>;
  const entry = shape({ mode: oneOf(COLLECTION_MODES), strategy: oneOf(STRATEGY_NAMES) });
  for (const name of Object.keys(json)) out[NAME(name, path) as string] = entry(json[name], `${path}.${name}`);
  return out;
};

/** Each meta entry by its key (the keys `meta-keys.ts` defines), as an export carries it. */
const ENTRIES: Readonly<Record<string, Check>> = {
  [META.replica]: shape({
    id: REPLICA,
    writeNumber: int(),
    chain: opt(CHAIN),
    clock: opt(by(hlcProblem)),
    clockOffsetMs: opt(int(-Number.MAX_SAFE_INTEGER)),
    retired: list(REPLICA),
  }),
  [META.limits]: shape(Object.fromEntries(RELAY_LIMIT_NAMES.map((name) => [name, int(name === 'maxClockSkewMs' ? 0 : 1)]))),
  [META.collections]: COLLECTIONS,
  [META.recent]: list(
    shape({ writeId: WRITE_ID, collection: NAME, key: KEY, status: oneOf([...ACK_LEVELS, 'rejected']), at: int(), code: opt(CODE), message: opt(str) }),
  ),
  [META.answered]: shape({ writeNumber: int(1), chain: CHAIN }),
  [META.resyncWrite]: shape({ writeNumber: int(1), chain: CHAIN }),
  // Not exported (an import counts what it adds); accepted, and replaced, in an export that has it.
  [META.pending]: int(),
};

/** The check of the meta entry named `key`, or undefined when no module defines such a key. */
export function metaCheck(key: string): Check | undefined {
  if (Object.hasOwn(ENTRIES, key)) return ENTRIES[key];
  const [kind, collection = '', ...rest] = key.split('\u0000');
  const tail = rest.join('\u0000');
  if (collectionNameProblem(collection) !== undefined) return undefined;
  if (key === floorsKey(collection)) return int(1);
  if (kind === 'floor' && key === floorKey(collection, tail) && documentKeyProblem(tail) === undefined) return int();
  if (kind === 'cursor' && key === cursorKey(collection, tail) && (tail === '' || keyPrefixProblem(tail) === undefined)) return decoded(decodeCursor);
  return undefined;
}
