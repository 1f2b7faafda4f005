// Test support (not built, not exported): valid frames of every type, built the way a client
// and a relay build them, so tests start from real states and real encoded values.
import {
  applyCrdtOp,
  cart,
  crdtStateToJson,
  emptyDocState,
  EMPTY_CONTEXT,
  nextDot,
  writeDoc,
  type CausalContext,
  type CrdtState,
  type DocState,
} from '@converge/conflict';
import type { Cursor } from '../cursor.js';
import type { Frame } from '../frame.js';
import type { RelayLimits } from '../limits.js';
import { encodeValue } from '../value-codec.js';
import type { CrdtValueJson, WireState } from '../wire-state.js';

export const A = 'replicaAAAAAAAAAAAAA';
export const B = 'replicaBBBBBBBBBBBBB';
export const WALL = 1_767_225_600_000;

/** A delta as a client's write sends it: read context plus one dot, one sibling holding an encoded value. */
export function registerDelta(replica: string, counter: number, value: unknown, readContext: CausalContext = EMPTY_CONTEXT): WireState {
  const hlc = { wall: WALL + counter, logical: 0, replica };
  return writeDoc<unknown>(emptyDocState(), { dot: [replica, counter], hlc, readContext, value: encodeValue(value) }).delta as WireState;
}

/** A full state with two concurrent siblings (A's value, B's delete): what a relay sends after merging. */
export function conflictedState(): WireState {
  const a = writeDoc<unknown>(emptyDocState(), {
    dot: [A, 1],
    hlc: { wall: WALL, logical: 0, replica: A },
    readContext: EMPTY_CONTEXT,
    value: encodeValue({ n: 1 }),
  });
  const b = writeDoc<unknown>(a.state, { dot: [B, 3], hlc: { wall: WALL, logical: 1, replica: B }, readContext: EMPTY_CONTEXT, deleted: true });
  return b.state as WireState;
}

/** A cart state whose sibling value is conflict's CRDT JSON `{s, c}`, carried opaque. */
export function cartState(): WireState {
  let state: DocState<CrdtState<unknown>> = emptyDocState();
  for (const [item, by] of [
    ['apple', 2],
    ['pear', 1],
  ] as const) {
    const dot = nextDot(state, A);
    state = applyCrdtOp(cart, state, {
      dot,
      hlc: { wall: WALL + dot[1], logical: 0, replica: A },
      op: { type: 'update', key: item, op: { type: 'increment', by } },
    }).state;
  }
  return {
    context: state.context,
    siblings: state.siblings.map((s) => (s.deleted === true ? s : { ...s, value: crdtStateToJson(cart, s.value) as CrdtValueJson })),
  };
}

export const CURSOR: Cursor = { lineage: 'L9f3kQ2mZx', seq: 42, hash: '9b1f0c2d3e4f5a6b', mac: 'c0deAbC_-09=' };

export const LIMITS: RelayLimits = {
  maxFrameBytes: 1_048_576,
  maxChangesPerFrame: 1000,
  maxValueBytes: 262_144,
  maxStateBytes: 516_096,
  maxClockSkewMs: 60_000,
  maxSiblingsPerKey: 100,
  catchupWindowBytes: 1_048_576,
  heartbeatMs: 15_000,
  idleTimeoutMs: 60_000,
};

/** Values whose types plain JSON loses: they must survive encodeValue → frame → decodeValue. */
export const RICH_VALUE = {
  at: new Date(Date.UTC(2026, 0, 1)),
  tags: new Set(['a', 'b']),
  byItem: new Map<string, unknown>([
    ['apple', 2],
    ['pear', { note: undefined }],
  ]),
  big: 2n ** 70n,
  missing: undefined,
  pattern: /ca+rt/giu,
  odd: [Number.NaN, -0, Number.POSITIVE_INFINITY],
};

/** One valid frame of every type, with optional fields both present and absent somewhere. */
export function sampleFrames(): Frame[] {
  const blind = registerDelta(A, 7, RICH_VALUE);
  const stale = registerDelta(A, 8, 'second tab', blind.context);
  return [
    { type: 'hello', protocol: 3, replicaId: A, subscriptions: [] },
    {
      type: 'hello',
      protocol: 3,
      replicaId: A,
      token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig',
      subscriptions: [
        { collection: 'carts', cursor: null },
        { collection: 'orders', cursor: CURSOR, filter: { prefix: 'user-7/' } },
      ],
      collections: { carts: { mode: 'multi-leader', strategy: 'cart' }, stock: { mode: 'leader-follower', strategy: 'lww' } },
    },
    {
      type: 'welcome',
      protocol: 3,
      relayId: 'relay-1',
      lineage: 'L9f3kQ2mZx',
      epoch: 0,
      now: WALL,
      writeNumber: 41,
      writeChain: '9c1e07b2f4a85d36',
      replication: { standbys: 2, quorum: 1 },
      limits: LIMITS,
      collections: { carts: { mode: 'multi-leader', strategy: 'cart', head: 1200 }, stock: { mode: 'leader-follower', strategy: 'lww', head: 0 } },
    },
    {
      type: 'welcome',
      protocol: 3,
      relayId: 'relay-1',
      lineage: 'Lnew',
      epoch: 3,
      now: WALL,
      writeNumber: 0,
      writeChain: '0',
      replication: { standbys: 0, quorum: 0 },
      recovery: true,
      limits: LIMITS,
      collections: {},
    },
    { type: 'subscribe', subscriptions: [{ collection: 'orders', cursor: null, filter: { prefix: 'user-7/' } }] },
    {
      type: 'push',
      id: 'p-17',
      ack: 'relay',
      changes: [
        { collection: 'notes', key: 'n-1', delta: blind, writeNumber: 57, chain: '39' },
        { collection: 'notes', key: 'n-1', delta: stale, writeNumber: 58, chain: '3a' },
        { collection: 'carts', key: 'cart-9', delta: cartState(), writeNumber: 59, chain: '3b', resync: true },
      ],
    },
    {
      type: 'ack',
      id: 'p-17',
      level: 'relay',
      results: [
        { collection: 'notes', key: 'n-1', dot: [A, 7], status: 'accepted', seq: 1201 },
        {
          collection: 'notes',
          key: 'n-1',
          dot: [A, 8],
          status: 'rejected',
          code: 'conflict_rejected',
          message: 'context misses dot replicaBBBBBBBBBBBBB:3',
          current: conflictedState(),
        },
        { collection: 'carts', key: 'cart-9', dot: [A, 2], status: 'rejected', code: 'too_many_siblings', message: 'the key would hold 101 siblings' },
      ],
    },
    { type: 'read', id: 'r-3', collection: 'stock', keys: ['sku-1', 'sku-2'], consistency: 'leader' },
    {
      type: 'read-result',
      id: 'r-3',
      collection: 'stock',
      docs: [
        { key: 'sku-1', seq: 88, state: conflictedState() },
        { key: 'sku-2', seq: 0, state: null },
      ],
    },
    {
      type: 'changes',
      collection: 'notes',
      phase: 'catchup',
      docs: [
        { key: 'n-1', seq: 40, state: conflictedState() },
        { key: 'n-2', seq: 42, state: blind },
      ],
      watermark: 42,
      cursor: CURSOR,
      done: true,
    },
    { type: 'changes', collection: 'carts', phase: 'live', docs: [{ key: 'cart-9', seq: 42, state: cartState() }], watermark: 42, cursor: CURSOR },
    { type: 'credit', bytes: 262_144 },
    { type: 'credit', collection: 'carts', bytes: 65_536 },
    { type: 'ping', t: WALL },
    { type: 'pong', t: WALL },
    { type: 'error', code: 'bad_message', message: 'push.changes[0].key: key must be a string of 1 to 1024 characters' },
    { type: 'error', code: 'forbidden', message: "no read access to collection 'payroll'", id: 'p-18', collection: 'payroll' },
    // One part of an answer split over several frames: more parts follow.
    { type: 'confirm', id: 'p-20', level: 'relay', code: 'quorum_unavailable' },
    { type: 'confirm', id: 'p-21', level: 'quorum' },
    { type: 'ack', id: 'p-19', level: 'relay', results: [{ collection: 'notes', key: 'n-2', dot: [B, 1], status: 'accepted', seq: 1202 }], more: true },
  ];
}
