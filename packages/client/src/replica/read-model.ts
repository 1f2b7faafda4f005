import {
  compareSiblings,
  encodeContext,
  resolve,
  sameDot,
  type CausalContext,
  type ContextJson,
  type DocState,
  type Dot,
  type Hlc,
  type Sibling,
  type Strategy,
} from '@converge/conflict';
import type { WireState } from '@converge/protocol';
import type { CollectionSpec } from '../collection-spec.js';
import type { DocRecord, OutboxEntry } from '../storage/storage-adapter.js';
import { crdtDoc, decodeAppValue, readAppValue } from '../values.js';
import { crdtEntries, type CrdtEntry } from './crdt-entries.js';

/** What this tab last returned to the app for a key: the default context of its next write. */
export interface ReadMemory {
  readonly context: CausalContext;
  readonly winner: Dot | undefined;
}

/**
 * The causal context of a value the app read: pass it as `version` to write over exactly what
 * was read. Opaque to the app.
 */
export type Version = CausalContext;

/** A concurrent version of a document the app may want to resolve. */
export interface Conflict<T> {
  readonly value: T | undefined;
  readonly deleted: boolean;
  readonly dot: Dot;
  readonly hlc: Hlc;
}

/** What `get`, `scan` and `watch` return for a document that exists. */
export interface Doc<T> {
  readonly key: string;
  readonly value: T;
  /** Concurrent versions (strategy `siblings`: every sibling but the value; `merge`: the merged ones); empty when there is nothing to resolve. */
  readonly conflicts: readonly Conflict<T>[];
  readonly version: Version;
  /** A local write to this key is not yet held by the relay. */
  readonly pending: boolean;
  /** The value shown is one the relay has acknowledged. */
  readonly confirmed: boolean;
}

export function strategyOf(spec: CollectionSpec): Strategy<unknown> {
  if (spec.crdt !== undefined) return { kind: 'crdt', type: spec.crdt };
  if (spec.merge !== undefined) return { kind: 'merge', merge: spec.merge };
  return spec.strategy === 'lww' ? { kind: 'lww' } : { kind: 'siblings' };
}

/**
 * A register state with its values decoded for the app: fresh copies, for a function of the app
 * that may change them (merge, `update`, `onReject`), or `frozen` as a read returns them.
 */
export function decodedState(state: WireState, frozen = false): DocState<unknown> {
  const decode = frozen ? readAppValue : decodeAppValue;
  return { context: state.context, siblings: state.siblings.map((s) => (s.deleted === true ? s : { dot: s.dot, hlc: s.hlc, value: decode(s.value) })) };
}

function conflictOf<T>(s: Sibling<unknown>): Conflict<T> {
  return s.deleted === true ? { value: undefined, deleted: true, dot: s.dot, hlc: s.hlc } : { value: s.value as T, deleted: false, dot: s.dot, hlc: s.hlc };
}

export interface ReadResult<T> {
  readonly doc: Doc<T> | undefined;
  /** What the tab now remembers having read for this key. */
  readonly memory: ReadMemory;
}

/** The `conflicts` of a document without any (one shared, frozen array). */
const NO_CONFLICTS: readonly never[] = Object.freeze([]);

/** True when every dot is one the relay holds (`base` absent: nothing is pending). */
function confirmed(record: DocRecord, dots: readonly Dot[]): boolean {
  const base = record.base;
  return base === undefined || dots.every((d) => base.siblings.some((s) => sameDot(s.dot, d)));
}

/** Resolves a record under its collection's strategy into what the app reads. */
export function readRecord<T>(spec: CollectionSpec, record: DocRecord): ReadResult<T> {
  const { state } = record;
  const pending = record.base !== undefined;
  if (spec.crdt !== undefined) {
    const resolved = resolve(crdtDoc(spec.crdt, state), { kind: 'crdt', type: spec.crdt });
    const memory = { context: state.context, winner: undefined };
    if (!resolved.exists) return { doc: undefined, memory };
    const live = state.siblings.filter((s) => s.deleted !== true).map((s) => s.dot);
    return {
      doc: { key: record.key, value: resolved.value as T, conflicts: NO_CONFLICTS, version: state.context, pending, confirmed: confirmed(record, live) },
      memory,
    };
  }
  const only = state.siblings.length === 1 ? state.siblings[0]! : undefined;
  if (only !== undefined && only.deleted !== true) {
    // One live sibling (the common case): it is the value under every register strategy.
    const value = readAppValue(only.value) as T;
    const doc: Doc<T> = {
      key: record.key,
      value,
      conflicts: NO_CONFLICTS,
      version: state.context,
      pending,
      confirmed: !pending || confirmed(record, [only.dot]),
    };
    return { doc, memory: { context: state.context, winner: only.dot } };
  }
  const resolved = resolve(decodedState(state, spec.merge === undefined), strategyOf(spec));
  const memory = { context: state.context, winner: resolved.winner };
  if (!resolved.exists) return { doc: undefined, memory };
  const shown = resolved.winner === undefined ? resolved.conflicts.map((c) => c.dot) : [resolved.winner];
  const doc: Doc<T> = {
    key: record.key,
    value: resolved.value as T,
    conflicts: resolved.conflicts.map((c) => conflictOf<T>(c)),
    version: state.context,
    pending,
    confirmed: confirmed(record, shown),
  };
  return { doc, memory };
}

/** One sibling as `inspect` shows it. */
export interface InspectedSibling {
  readonly dot: Dot;
  readonly hlc: Hlc;
  readonly deleted: boolean;
  /** The decoded value (register strategies) or the CRDT value's JSON. */
  readonly value: unknown;
  /** CRDT collections: the value's dot-store entries, typed, each saying whether the join of the siblings keeps it. */
  readonly entries?: readonly CrdtEntry[];
  /** The relay holds this sibling. */
  readonly confirmed: boolean;
  /** This sibling's value is what the app reads (or one of the values merged into it). */
  readonly chosen: boolean;
}

/** Everything the replica knows about one key, for tools and the demo. */
export interface Inspection {
  readonly collection: string;
  readonly key: string;
  readonly strategy: string;
  readonly mode: string;
  /** Which rule chose the value, in words. */
  readonly rule: string;
  readonly exists: boolean;
  readonly siblings: readonly InspectedSibling[];
  /** The causal context: `v` the version vector, `d` single dots seen beyond it. */
  readonly context: ContextJson;
  /** Seq of the last relay change merged in (0: none). */
  readonly seq: number;
  readonly pending: readonly { readonly writeId: string; readonly dot: Dot; readonly ack: string; readonly skewed: boolean }[];
}

const RULES: Record<string, string> = {
  siblings: 'siblings: the live sibling with the highest HLC is the value; the others are conflicts until a write covers them',
  lww: 'lww: the sibling with the highest HLC wins (a delete too); losers stay hidden until the next write removes them',
  merge: "merge: the collection's merge function combines the live siblings on read",
};

export function inspectRecord(spec: CollectionSpec, record: DocRecord | undefined, key: string, pending: readonly OutboxEntry[]): Inspection {
  const state = record?.state ?? { context: { vv: new Map(), cloud: [] }, siblings: [] };
  const read = record === undefined ? undefined : readRecord(spec, record);
  const winner = read?.memory.winner;
  const entries = spec.crdt === undefined ? undefined : crdtEntries(spec, state);
  const entriesOf = new Map(state.siblings.map((s, i) => [s, entries?.[i]]));
  const ordered = [...state.siblings].sort((a, b) => compareSiblings(b, a));
  const base = record?.base ?? state;
  const chosen = (s: Sibling<unknown>) => (winner !== undefined ? sameDot(s.dot, winner) : s.deleted !== true && read?.doc !== undefined);
  return {
    collection: spec.name,
    key,
    strategy: spec.strategy,
    mode: spec.mode,
    rule: RULES[spec.strategy] ?? `${spec.strategy}: the join of the siblings' dot-stores (a CRDT), read out`,
    exists: read?.doc !== undefined,
    siblings: ordered.map((s) => {
      const typed = entriesOf.get(s);
      return {
        dot: s.dot,
        hlc: s.hlc,
        deleted: s.deleted === true,
        value: s.deleted === true ? undefined : spec.crdt !== undefined ? s.value : decodeAppValue(s.value),
        ...(typed === undefined ? {} : { entries: typed }),
        confirmed: base.siblings.some((b) => sameDot(b.dot, s.dot)),
        chosen: chosen(s),
      };
    }),
    context: encodeContext(state.context),
    seq: record?.seq ?? 0,
    pending: pending.map((e) => ({ writeId: e.writeId, dot: e.delta.siblings[e.delta.siblings.length - 1]!.dot, ack: e.ack, skewed: e.skewed === true })),
  };
}
