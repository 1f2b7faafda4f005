import { hlcProblem, isErrorCode, replicaIdProblem, STRATEGY_NAMES, writeChainProblem } from '@converge/conflict';
import {
  ACK_LEVELS,
  COLLECTION_MODES,
  collectionNameProblem,
  decodeCursor,
  documentKeyProblem,
  keyPrefixProblem,
  RELAY_LIMIT_NAMES,
  type CollectionDeclaration,
} from '@converge/protocol';
import { array, checked, integer, object, oneOf, optional, refuse, string, valid } from '../json-checks.js';
import type { MetaValue, ReplicaRecord, WriteMark, WriteStatus } from '../storage/storage-adapter.js';
import { cursorKey, floorKey, floorsKey, META } from './meta-keys.js';

const name = (value: unknown, path: string) => checked<string>(value, collectionNameProblem(value), path);
const docKey = (value: unknown, path: string) => checked<string>(value, documentKeyProblem(value), path);
const chain = (value: unknown, path: string) => checked<string>(value, writeChainProblem(value), path);
const replicaId = (value: unknown, path: string) => checked<string>(value, replicaIdProblem(value), path);

export function decodeReplicaRecord(value: unknown, path: string): ReplicaRecord {
  const json = object(value, path);
  const id = replicaId(json['id'], `${path}.id`);
  return {
    id,
    writeNumber: integer(json['writeNumber'], `${path}.writeNumber`),
    ...optional(json, 'chain', path, chain),
    ...optional(json, 'clock', path, (clock, at) => {
      const { wall, logical } = object(clock, at);
      return checked({ wall, logical, replica: id }, hlcProblem({ wall, logical, replica: id }), at);
    }),
    ...optional(json, 'clockOffsetMs', path, (offset, at) => integer(offset, at, -Number.MAX_SAFE_INTEGER)),
    retired: array(json['retired'], `${path}.retired`).map((r, i) => replicaId(r, `${path}.retired[${i}]`)),
  };
}

/** A `{ [collection]: {mode, strategy} }` map, with a null prototype. */
export function decodeCollections(value: unknown, path: string): Readonly<Record<string, CollectionDeclaration>> {
  const json = object(value, path);
  const out = Object.create(null) as Record<string, CollectionDeclaration>;
  for (const collection of Object.keys(json)) {
    const at = `${path}.${name(collection, path)}`;
    const entry = object(json[collection], at);
    out[collection] = { mode: oneOf(entry['mode'], COLLECTION_MODES, `${at}.mode`), strategy: oneOf(entry['strategy'], STRATEGY_NAMES, `${at}.strategy`) };
  }
  return out;
}

function writeStatus(value: unknown, path: string): WriteStatus {
  const json = object(value, path);
  return {
    writeId: string(json['writeId'], `${path}.writeId`),
    collection: name(json['collection'], `${path}.collection`),
    key: docKey(json['key'], `${path}.key`),
    status: oneOf(json['status'], [...ACK_LEVELS, 'rejected'], `${path}.status`),
    at: integer(json['at'], `${path}.at`),
    ...optional(json, 'code', path, (code, at) => checked(code, isErrorCode(code) ? undefined : 'must be an error code', at)),
    ...optional(json, 'message', path, string),
  };
}

function writeMark(value: unknown, path: string): WriteMark {
  const json = object(value, path);
  return { writeNumber: integer(json['writeNumber'], `${path}.writeNumber`, 1), chain: chain(json['chain'], `${path}.chain`) };
}

/**
 * Checks one meta entry of an export: its key is one `meta-keys.ts` defines, and its value has
 * that key's shape. Returns the value to store (fresh objects, only the known fields).
 */
export function decodeMetaEntry(key: string, value: unknown, path: string): MetaValue {
  switch (key) {
    case META.replica:
      return decodeReplicaRecord(value, path);
    case META.limits: {
      const json = object(value, path);
      return Object.fromEntries(RELAY_LIMIT_NAMES.map((n) => [n, integer(json[n], `${path}.${n}`, n === 'maxClockSkewMs' ? 0 : 1)])) as unknown as MetaValue;
    }
    case META.collections:
      return decodeCollections(value, path);
    case META.recent:
      return array(value, path).map((s, i) => writeStatus(s, `${path}[${i}]`));
    case META.answered:
    case META.resyncWrite:
      return writeMark(value, path);
  }
  const [kind = '', collection = '', ...rest] = key.split('\u0000');
  const tail = rest.join('\u0000');
  if (!['floor', 'floors', 'cursor'].includes(kind)) refuse(`${path} (key)`, `no meta entry is named ${JSON.stringify(key)}`);
  name(collection, `${path} (key)`);
  if (key === floorsKey(collection)) return integer(value, path, 1);
  if (kind === 'floor' && key === floorKey(collection, tail)) {
    docKey(tail, `${path} (key)`);
    return integer(value, path);
  }
  if (kind === 'cursor' && key === cursorKey(collection, tail)) {
    if (tail !== '') checked(tail, keyPrefixProblem(tail), `${path} (key)`);
    return valid(decodeCursor(value, path));
  }
  return refuse(`${path} (key)`, `no meta entry is named ${JSON.stringify(key)}`);
}
