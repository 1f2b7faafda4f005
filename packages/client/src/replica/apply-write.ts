import {
  applyCrdtOp,
  ConvergeError,
  discardedByWrite,
  nextDot,
  resolve,
  resolveLww,
  writeDoc,
  type CausalContext,
  type Dot,
  type Hlc,
  type ReplicaId,
  type Sibling,
} from '@converge/conflict';
import type { AckLevel, WireState, WireValue } from '@converge/protocol';
import type { CollectionSpec } from '../collection-spec.js';
import type { DocRecord, WriteIntent } from '../storage/storage-adapter.js';
import { checkStateSize, checkValueSize, crdtDoc, crdtWire, encodeAppValue } from '../values.js';
import { intersectContexts } from './context-ops.js';
import { decodedState, strategyOf, type ReadMemory } from './read-model.js';

export type CrdtOp = { readonly type: string; readonly [field: string]: unknown };

interface RequestBase {
  readonly collection: string;
  readonly key: string;
  readonly ack: AckLevel;
  /** Kept when a write is applied again (clock correction, new replica id, retry). */
  readonly writeId?: string;
}

/**
 * One write the app asked for. `read: 'stored'` writes over everything the replica holds
 * (`update`, `resolve`, CRDT operations); otherwise `read` is what this tab had read (none: a
 * blind write).
 */
export type WriteRequest = RequestBase &
  (
    | { readonly kind: 'put'; readonly value: WireValue; readonly read: ReadMemory | 'stored' | undefined }
    | { readonly kind: 'delete'; readonly read: ReadMemory | 'stored' | undefined }
    | { readonly kind: 'update'; readonly fn: (current: unknown, exists: boolean) => unknown }
    | { readonly kind: 'op'; readonly op: CrdtOp }
  );

export interface AppliedWrite {
  readonly record: DocRecord;
  readonly delta: WireState;
  readonly dot: Dot;
  readonly intent: WriteIntent;
  /** LWW values this write removed that the app was not shown (reported to `onConflict`). */
  readonly discarded: readonly Sibling<WireValue>[];
  /** What the writing tab now knows of the key: its write and what the write was derived from. */
  readonly memory: ReadMemory;
}

export interface WriteEnv {
  readonly replica: ReplicaId;
  readonly hlc: Hlc;
  readonly maxValueBytes: number;
  /** The relay's `maxStateBytes` (Infinity before the first `welcome`). */
  readonly maxStateBytes: number;
}

/**
 * Applies one write to a document record at a freshly allocated dot (pure; the caller runs it
 * inside the transaction that reads the record and stores the result).
 */
export function applyWrite(spec: CollectionSpec, record: DocRecord, request: WriteRequest, env: WriteEnv): AppliedWrite {
  const state = record.state;
  const dot = nextDot(state, env.replica, record.floor ?? 0);
  const { hlc } = env;
  if (spec.crdt !== undefined) {
    const op: CrdtOp | undefined = request.kind === 'op' ? request.op : request.kind === 'delete' ? { type: 'clear' } : undefined;
    if (op === undefined) throw new ConvergeError('bad_message', `${spec.name} is a ${spec.strategy} collection: write it with its operations`);
    const written = applyCrdtOp(spec.crdt, crdtDoc(spec.crdt, state), { dot, hlc, op });
    const delta = crdtWire(spec.crdt, written.delta);
    const sibling = delta.siblings[0]!;
    if (sibling.deleted !== true) checkValueSize(sibling.value, env.maxValueBytes);
    const memory = { context: delta.context, winner: undefined };
    const next = crdtWire(spec.crdt, written.state);
    checkStateSize(next, state, env.maxStateBytes, `${spec.name}/${record.key}`);
    return { record: nextRecord(record, next), delta, dot, intent: { kind: 'op', op }, discarded: [], memory };
  }
  if (request.kind === 'op') throw new ConvergeError('bad_message', `${spec.name} is a ${spec.strategy} collection: operations need a CRDT strategy`);

  let readContext: CausalContext;
  let winner: Dot | undefined;
  let value: WireValue | undefined;
  if (request.kind === 'update') {
    const resolved = resolve(decodedState(state), strategyOf(spec));
    readContext = state.context;
    winner = resolveLww(state).winner;
    value = encodeAppValue(request.fn(resolved.value, resolved.exists));
  } else {
    const read = request.read;
    if (read === 'stored') {
      readContext = state.context;
      winner = resolveLww(state).winner;
    } else {
      readContext = read === undefined ? { vv: new Map(), cloud: [] } : intersectContexts(read.context, state.context);
      winner = read?.winner;
    }
    value = request.kind === 'put' ? request.value : undefined;
  }
  if (value !== undefined) checkValueSize(value, env.maxValueBytes);
  const written =
    value === undefined ? writeDoc<WireValue>(state, { dot, hlc, readContext, deleted: true }) : writeDoc<WireValue>(state, { dot, hlc, readContext, value });
  checkStateSize(written.state, state, env.maxStateBytes, `${spec.name}/${record.key}`);
  const intent: WriteIntent = value === undefined ? { kind: 'delete', readContext } : { kind: 'put', value, readContext };
  const discarded = spec.strategy === 'lww' ? discardedByWrite(written.superseded, winner).filter((s) => s.deleted !== true) : [];
  return { record: nextRecord(record, written.state), delta: written.delta, dot, intent, discarded, memory: { context: written.delta.context, winner: dot } };
}

/** The record after a local write: `base` keeps what the relay confirmed while writes are pending. */
function nextRecord(record: DocRecord, state: WireState): DocRecord {
  return { ...record, state, base: record.base ?? record.state };
}
