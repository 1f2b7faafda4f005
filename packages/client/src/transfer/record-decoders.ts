import { decodeContext, isErrorCode, replicaIdProblem, writeChainProblem } from '@converge/conflict';
import {
  ACK_LEVELS,
  COLLECTION_MODES,
  collectionNameProblem,
  documentKeyProblem,
  jsonShapeProblem,
  MAX_VALUE_DEPTH,
  stateFromJson,
  wireValueProblem,
  type WireState,
  type WireValue,
} from '@converge/protocol';
import { checked, integer, object, oneOf, optional, refuse, string, valid, type JsonRecord } from '../json-checks.js';
import type { DocRecord, OutboxEntry, RejectedRecord, WriteIntent } from '../storage/storage-adapter.js';

/**
 * Decoders of an export's record lines (`doc`, `pending`, `rejected`): each checks every field
 * as the wire's decoders do (states with every DocState invariant, contexts, names) and returns
 * a fresh record of the known fields, or throws `bad_message` naming the field.
 */

const name = (value: unknown, path: string) => checked<string>(value, collectionNameProblem(value), path);
const key = (value: unknown, path: string) => checked<string>(value, documentKeyProblem(value), path);
/** A state on its own in a line: the line is level 1, the state level 2. */
const state = (value: unknown, path: string): WireState => valid(stateFromJson(value, path, 2));
const writeId = (value: unknown, path: string) => checked<string>(value, typeof value === 'string' && value !== '' ? undefined : 'must be a write id', path);

function intent(value: unknown, path: string): WriteIntent {
  const json = object(value, path);
  const kind = oneOf(json['kind'], ['put', 'delete', 'op'], `${path}.kind`);
  if (kind === 'op') {
    const op = object(json['op'], `${path}.op`);
    string(op['type'], `${path}.op.type`);
    const shape = jsonShapeProblem(op, MAX_VALUE_DEPTH, `${path}.op`);
    if (shape !== undefined) refuse(shape.path, shape.message);
    return { kind, op: op as { readonly type: string } };
  }
  const readContext = valid(decodeContext(json['readContext'], `${path}.readContext`));
  if (kind === 'delete') return { kind, readContext };
  return { kind, value: checked<WireValue>(json['value'], wireValueProblem(json['value']), `${path}.value`), readContext };
}

export function decodeDoc(json: JsonRecord, path: string): DocRecord {
  return {
    collection: name(json['collection'], `${path}.collection`),
    key: key(json['key'], `${path}.key`),
    state: state(json['state'], `${path}.state`),
    ...optional(json, 'base', path, state),
    seq: integer(json['seq'], `${path}.seq`),
    ...optional(json, 'floor', path, integer),
  };
}

export function decodePending(json: JsonRecord, path: string): OutboxEntry {
  const delta = state(json['delta'], `${path}.delta`);
  if (delta.siblings.length === 0) refuse(`${path}.delta`, 'a pending write carries its own sibling');
  return {
    writeId: writeId(json['writeId'], `${path}.writeId`),
    collection: name(json['collection'], `${path}.collection`),
    key: key(json['key'], `${path}.key`),
    mode: oneOf(json['mode'], COLLECTION_MODES, `${path}.mode`),
    replica: checked(json['replica'], replicaIdProblem(json['replica']), `${path}.replica`),
    writeNumber: integer(json['writeNumber'], `${path}.writeNumber`, 1),
    ...optional(json, 'chain', path, (v, at) => checked<string>(v, writeChainProblem(v), at)),
    delta,
    write: intent(json['write'], `${path}.write`),
    ack: oneOf(json['ack'], ACK_LEVELS, `${path}.ack`),
    createdAt: integer(json['createdAt'], `${path}.createdAt`),
    ...(json['skewed'] === true ? { skewed: true as const } : {}),
  };
}

export function decodeRejected(json: JsonRecord, path: string): RejectedRecord {
  return {
    writeId: writeId(json['writeId'], `${path}.writeId`),
    collection: name(json['collection'], `${path}.collection`),
    key: key(json['key'], `${path}.key`),
    write: intent(json['write'], `${path}.write`),
    code: checked(json['code'], isErrorCode(json['code']) ? undefined : 'must be an error code', `${path}.code`),
    message: string(json['message'], `${path}.message`),
    ...optional(json, 'current', path, state),
    at: integer(json['at'], `${path}.at`),
  };
}
