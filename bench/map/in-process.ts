// B3 as the crdt-benchmarks suite measures it, in one process: n writers each produce their one
// update, then one replica applies all n (time), with the updates' bytes and the size of the
// state it ends with. Converge: each writer's push frame (the change as a client sends it);
// the receiver decodes each frame and merges its delta (what a replica does with what the relay
// forwards), then reads. Yjs: each Y.Doc's update, applied to one Y.Doc in one transaction.
import {
  applyCrdtOp,
  crdtStateFromJson,
  crdtStateToJson,
  createHlcClock,
  EMPTY_CONTEXT,
  emptyDocState,
  lwwMap,
  mergeDocStates,
  nextDot,
  readCrdt,
  replicaIdFromBytes,
  resolve,
  writeDoc,
  type CrdtState,
  type DocState,
} from '@converge/conflict';
import {
  decodeFrame,
  decodeValue,
  encodeFrame,
  encodeValue,
  storedStateText,
  type CrdtValueJson,
  type PushedChange,
  type WireState,
  type WireValue,
} from '@converge/protocol';
import { randomBytes } from 'node:crypto';
import { loadPeer } from '../peers/load-peer.js';
import { caseValue, FIELD, MAP_KEY, type MapCase } from './map-cases.js';

export interface InProcessResult {
  readonly ms: number;
  readonly updateBytes: number;
  readonly docBytes: number;
  /** Concurrent values the merged state keeps (siblings; a Y.Map keeps one). */
  readonly kept: number;
  /** The value a read shows, as JSON (checked equal across systems' own replicas). */
  readonly shown: string;
}

const newReplica = () => replicaIdFromBytes(randomBytes(12));

function pushText(change: PushedChange): string {
  return encodeFrame({ type: 'push', id: 'p1', ack: 'relay', changes: [change] });
}

function received(text: string): WireState {
  const frame = decodeFrame(text);
  if (!frame.ok || frame.value.type !== 'push') throw new Error("B3: a writer's frame did not decode");
  return frame.value.changes[0]!.delta;
}

type LwwStore = Parameters<typeof lwwMap.read>[0];

export function convergeLwwMap(kind: MapCase, clients: number): InProcessResult {
  const updates: string[] = [];
  for (let i = 0; i < clients; i++) {
    const replica = newReplica();
    const clock = createHlcClock({ replica, now: Date.now });
    const empty = emptyDocState<CrdtState<LwwStore>>();
    const { delta } = applyCrdtOp(lwwMap, empty, {
      dot: nextDot(empty, replica),
      hlc: clock.tick(),
      op: { type: 'update', key: FIELD, op: { type: 'set', value: caseValue(kind, i, clients) } },
    });
    const wire: WireState = {
      ...delta,
      siblings: delta.siblings.map((s) => (s.deleted === true ? s : { ...s, value: crdtStateToJson(lwwMap, s.value) as CrdtValueJson })),
    } as WireState;
    updates.push(pushText({ collection: MAP_KEY, key: MAP_KEY, delta: wire, writeNumber: 1, chain: '1' }));
  }
  const t0 = performance.now();
  let state = emptyDocState<WireValue>();
  for (const text of updates) state = mergeDocStates(state, received(text)).state;
  const crdt = {
    ...state,
    siblings: state.siblings.map((s) => {
      if (s.deleted === true) return s;
      const value = crdtStateFromJson(lwwMap, s.value);
      if (!value.ok) throw value.error;
      return { ...s, value: value.value };
    }),
  } as DocState<CrdtState<LwwStore>>;
  const read = readCrdt(lwwMap, crdt);
  const ms = performance.now() - t0;
  const value = (read.value as ReadonlyMap<string, unknown>).get(FIELD);
  return {
    ms,
    updateBytes: updates.reduce((n, u) => n + Buffer.byteLength(u), 0),
    docBytes: Buffer.byteLength(storedStateText(state)),
    kept: state.siblings.length,
    shown: JSON.stringify(value),
  };
}

export function convergeSiblings(kind: MapCase, clients: number): InProcessResult {
  const updates: string[] = [];
  for (let i = 0; i < clients; i++) {
    const replica = newReplica();
    const clock = createHlcClock({ replica, now: Date.now });
    const empty = emptyDocState<WireValue>();
    const { delta } = writeDoc<WireValue>(empty, {
      dot: nextDot(empty, replica),
      hlc: clock.tick(),
      readContext: EMPTY_CONTEXT,
      value: encodeValue(caseValue(kind, i, clients)),
    });
    updates.push(pushText({ collection: MAP_KEY, key: FIELD, delta, writeNumber: 1, chain: '1' }));
  }
  const t0 = performance.now();
  let state = emptyDocState<WireValue>();
  for (const text of updates) state = mergeDocStates(state, received(text)).state;
  const read = resolve(state, { kind: 'siblings' });
  const shown = decodeValue(read.value as WireValue);
  const ms = performance.now() - t0;
  if (!shown.ok) throw shown.error;
  return {
    ms,
    updateBytes: updates.reduce((n, u) => n + Buffer.byteLength(u), 0),
    docBytes: Buffer.byteLength(storedStateText(state)),
    kept: state.siblings.length,
    shown: JSON.stringify(shown.value),
  };
}

interface YDoc {
  getMap(name: string): { set(key: string, value: unknown): void; get(key: string): unknown };
  on(event: 'update', f: (update: Uint8Array) => void): void;
  transact(f: () => void): void;
}
interface Yjs {
  Doc: new () => YDoc;
  applyUpdate(doc: YDoc, update: Uint8Array): void;
  encodeStateAsUpdate(doc: YDoc): Uint8Array;
}

export async function yjsMap(kind: MapCase, clients: number): Promise<InProcessResult> {
  const Y = await loadPeer<Yjs>('yjs');
  const updates: Uint8Array[] = [];
  for (let i = 0; i < clients; i++) {
    const doc = new Y.Doc();
    doc.on('update', (update) => updates.push(update));
    doc.getMap(MAP_KEY).set(FIELD, caseValue(kind, i, clients));
  }
  const t0 = performance.now();
  const target = new Y.Doc();
  target.transact(() => {
    for (const update of updates) Y.applyUpdate(target, update);
  });
  const shown = JSON.stringify(target.getMap(MAP_KEY).get(FIELD));
  const ms = performance.now() - t0;
  return { ms, updateBytes: updates.reduce((n, u) => n + u.length, 0), docBytes: Y.encodeStateAsUpdate(target).length, kept: 1, shown };
}
