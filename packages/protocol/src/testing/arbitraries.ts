// Test support: random valid frames (for round trips) and random broken frame text (for fuzzing).
import { EMPTY_CONTEXT, emptyDocState, writeDoc, type CausalContext } from '@converge/conflict';
import fc from 'fast-check';
import { encodeFrame } from '../codec.js';
import type { Cursor } from '../cursor.js';
import type { Frame } from '../frame.js';
import { encodeValue } from '../value-codec.js';
import { PROTOCOL_VERSION } from '../version.js';
import type { WireState } from '../wire-state.js';
import { A, B, cartState, LIMITS } from './samples.js';

const REPLICAS = [A, B, 'replicaCCCCCCCCCCCCC'];

const arbCollection = fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/).filter((s) => !['__proto__', 'constructor', 'prototype'].includes(s));
export const arbKey = fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' }).filter((s) => !['__proto__', 'constructor', 'prototype'].includes(s));
const arbId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,16}$/).filter((s) => !['__proto__', 'constructor', 'prototype'].includes(s));
const arbDigest = fc.stringMatching(/^[A-Za-z0-9_-]{8,32}$/);
const arbSeq = fc.integer({ min: 1, max: 1_000_000 });
/** A write chain: 1–16 lowercase hex digits. */
const arbChain = fc.stringMatching(/^[0-9a-f]{1,16}$/);
const arbDot = fc.tuple(fc.constantFrom(A, B, 'replicaCCCCCCCCCCCCC'), arbSeq);

/** True when a key anywhere in the value is one the codec refuses (`__proto__`, `constructor`, `prototype`). */
function hasReservedKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Object.keys(value).some((k) => k === '__proto__' || k === 'constructor' || k === 'prototype' || hasReservedKey((value as Record<string, unknown>)[k]));
}

// fast-check biases strings towards troublemakers such as "__proto__": a valid value must not hold them as keys.
const arbValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).filter((v) => !hasReservedKey(v)),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  // Plain values shaped like the wire's reserved slot forms: they must travel wrapped.
  fc.constantFrom({ json: 1 }, { json: { json: 2 }, meta: {} }, { s: [], c: { v: {} } }, { s: 1, c: 2 }, { meta: {} }, { json: 1, x: 2 }),
  fc.date({ noInvalidDate: true }),
  fc.record({
    at: fc.date({ noInvalidDate: true }),
    n: fc.bigInt(),
    tags: fc.array(fc.string(), { maxLength: 3 }).map((t) => new Set(t)),
    gone: fc.constant(undefined),
  }),
);

/** A state as writes make it: a few writes by random replicas, some reading what came before, some deletes. */
export const arbWireState: fc.Arbitrary<WireState> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null).map(() => cartState()) },
  {
    // One replica writing a key on its own: the simple state, the common case on the wire.
    weight: 3,
    arbitrary: fc
      .record({
        replica: fc.constantFrom(...REPLICAS),
        writes: fc.integer({ min: 1, max: 5 }),
        value: arbValue,
        // Walls and logicals that often repeat, so frames hold bursts (wall steps of 0).
        wall: fc.oneof(fc.constant(1_767_225_600_000), fc.integer({ min: 0, max: 2 ** 45 })),
        logical: fc.oneof(fc.nat(3), fc.nat(0xffff)),
      })
      .map(({ replica, writes, value, wall, logical }) => {
        let state = emptyDocState<unknown>();
        for (let counter = 1; counter <= writes; counter++) {
          const hlc = { wall: wall + counter, logical: counter === writes ? logical : 0, replica };
          state = writeDoc(state, { dot: [replica, counter], hlc, readContext: state.context, value: encodeValue(value) }).state;
        }
        return state as WireState;
      }),
  },
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.record({
          replica: fc.constantFrom(...REPLICAS),
          reads: fc.boolean(),
          deleted: fc.boolean(),
          value: arbValue,
          wall: fc.integer({ min: 0, max: 2 ** 45 }),
        }),
        { minLength: 1, maxLength: 4 },
      )
      .map((writes) => {
        let state = emptyDocState<unknown>();
        const counters = new Map<string, number>();
        for (const w of writes) {
          const counter = (counters.get(w.replica) ?? 0) + 1;
          counters.set(w.replica, counter);
          const readContext: CausalContext = w.reads ? state.context : EMPTY_CONTEXT;
          const base = { dot: [w.replica, counter] as const, hlc: { wall: w.wall, logical: 0, replica: w.replica }, readContext };
          state = (w.deleted ? writeDoc(state, { ...base, deleted: true }) : writeDoc(state, { ...base, value: encodeValue(w.value) })).state;
        }
        return state as WireState;
      }),
  },
);

export const arbCursor: fc.Arbitrary<Cursor> = fc.record({ lineage: arbId, seq: fc.nat({ max: 1_000_000 }), hash: arbDigest, mac: arbDigest });
const arbSubscription = fc.record(
  { collection: arbCollection, cursor: fc.option(arbCursor, { nil: null }), filter: fc.record({ prefix: arbKey }) },
  { requiredKeys: ['collection', 'cursor'] },
);
const arbDeclaration = fc.record({
  mode: fc.constantFrom('multi-leader' as const, 'leader-follower' as const),
  strategy: fc.constantFrom('siblings' as const, 'lww' as const, 'cart' as const),
});

/** A valid `changes` frame of up to `maxDocs` docs (simple and general states mixed). */
function changesFrames(maxDocs: number): fc.Arbitrary<Frame> {
  return fc
    .record({
      collection: arbCollection,
      phase: fc.constantFrom('catchup' as const, 'live' as const),
      cursor: arbCursor,
      docs: fc.array(fc.record({ key: arbKey, state: arbWireState }), { maxLength: maxDocs }),
      done: fc.boolean(),
      resync: fc.boolean(),
    })
    .map(({ collection, phase, cursor, docs, done, resync }): Frame => {
      const frame = {
        type: 'changes' as const,
        collection,
        phase,
        docs: docs.map((d, i) => ({ ...d, seq: cursor.seq + i + 1 })),
        watermark: cursor.seq + docs.length,
        cursor: { ...cursor, seq: cursor.seq + docs.length },
      };
      if (phase === 'live') return frame;
      return { ...frame, ...(done ? { done: true as const } : {}), ...(resync ? { resync: true as const } : {}) };
    });
}

const arbChangesFrame = changesFrames(4);

/** Any valid frame. */
export const arbFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record(
    {
      type: fc.constant('hello' as const),
      protocol: fc.constant(PROTOCOL_VERSION),
      replicaId: fc.constantFrom(...REPLICAS),
      token: fc.string({ minLength: 1, maxLength: 40 }),
      subscriptions: fc.array(arbSubscription, { maxLength: 3 }),
      collections: fc.dictionary(arbCollection, arbDeclaration, { maxKeys: 3 }),
    },
    { requiredKeys: ['type', 'protocol', 'replicaId', 'subscriptions'] },
  ),
  fc.record({
    type: fc.constant('welcome' as const),
    protocol: fc.constant(PROTOCOL_VERSION),
    relayId: arbId,
    lineage: arbId,
    epoch: fc.nat(),
    now: fc.integer({ min: 0, max: 2 ** 45 }),
    writeNumber: fc.nat(),
    writeChain: arbChain,
    replication: fc.nat({ max: 5 }).chain((standbys) => fc.nat({ max: standbys }).map((quorum) => ({ standbys, quorum }))),
    limits: fc.constant(LIMITS),
    collections: fc.dictionary(
      arbCollection,
      arbDeclaration.chain((d) => fc.nat().map((head) => ({ ...d, head }))),
      { maxKeys: 3 },
    ),
  }),
  fc.record({ type: fc.constant('subscribe' as const), subscriptions: fc.array(arbSubscription, { minLength: 1, maxLength: 3 }) }),
  fc.record({
    type: fc.constant('push' as const),
    id: arbId,
    ack: fc.constantFrom('local' as const, 'relay' as const, 'quorum' as const, 'all' as const),
    // No two changes name the same write (collection, key, last sibling's dot): acks match results by it.
    changes: fc.uniqueArray(
      fc.record(
        { collection: arbCollection, key: arbKey, delta: arbWireState, writeNumber: arbSeq, chain: arbChain, resync: fc.constant(true as const) },
        { requiredKeys: ['collection', 'key', 'delta', 'writeNumber', 'chain'] },
      ),
      { minLength: 1, maxLength: 4, selector: (c) => `${c.collection}\u0000${c.key}\u0000${c.delta.siblings.at(-1)!.dot.join(':')}` },
    ),
  }),
  fc.record(
    {
      type: fc.constant('ack' as const),
      id: arbId,
      level: fc.constantFrom('relay' as const, 'quorum' as const, 'all' as const),
      results: fc.array(
        fc.oneof(
          fc.record(
            { collection: arbCollection, key: arbKey, dot: arbDot, status: fc.constant('accepted' as const), seq: arbSeq },
            { requiredKeys: ['collection', 'key', 'dot', 'status'] },
          ),
          fc.record(
            {
              collection: arbCollection,
              key: arbKey,
              dot: arbDot,
              status: fc.constant('rejected' as const),
              code: fc.constantFrom('conflict_rejected' as const, 'forbidden' as const, 'clock_skew' as const),
              message: fc.string({ maxLength: 40 }),
              current: arbWireState,
            },
            { requiredKeys: ['collection', 'key', 'dot', 'status', 'code', 'message'] },
          ),
        ),
        { minLength: 1, maxLength: 4 },
      ),
      more: fc.constant(true as const),
    },
    { requiredKeys: ['type', 'id', 'level', 'results'] },
  ),
  fc.record(
    {
      type: fc.constant('confirm' as const),
      id: arbId,
      level: fc.constantFrom('relay' as const, 'quorum' as const, 'all' as const),
      code: fc.constantFrom('quorum_unavailable' as const, 'ack_timeout' as const),
    },
    { requiredKeys: ['type', 'id', 'level'] },
  ),
  fc.record({
    type: fc.constant('read' as const),
    id: arbId,
    collection: arbCollection,
    keys: fc.array(arbKey, { minLength: 1, maxLength: 4 }),
    consistency: fc.constantFrom('leader' as const, 'local' as const),
  }),
  fc.record({
    type: fc.constant('read-result' as const),
    id: arbId,
    collection: arbCollection,
    docs: fc.array(fc.record({ key: arbKey, seq: fc.nat(), state: fc.option(arbWireState, { nil: null }) }), { maxLength: 3 }),
  }),
  arbChangesFrame,
  fc.record(
    { type: fc.constant('credit' as const), collection: arbCollection, bytes: fc.integer({ min: 1, max: 2 ** 30 }) },
    { requiredKeys: ['type', 'bytes'] },
  ),
  fc.record({ type: fc.constantFrom('ping' as const, 'pong' as const), t: fc.nat() }),
  fc.record(
    {
      type: fc.constant('error' as const),
      code: fc.constantFrom('bad_message' as const, 'unauthorized' as const, 'behind' as const),
      message: fc.string({ maxLength: 60 }),
      id: arbId,
      collection: arbCollection,
    },
    { requiredKeys: ['type', 'code', 'message'] },
  ),
);

/** Raw JSON text spliced into a frame: hostile shapes a parser or a decoder could trip on. */
const arbJunkText: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '["__proto__","constructor","prototype"]',
    '"__proto__"',
    '"constructor"',
    '1e400',
    '-1e400',
    '-0',
    '123456789012345678901234567890',
    '9007199254740993',
    '0.5',
    '-1',
    'true',
    'null',
    '""',
    '{}',
    '[]',
    `"${'x'.repeat(5000)}"`,
    '{"json":1,"meta":{"values":{"a.__proto__.polluted":["undefined"]},"v":1}}',
    '{"json":{},"meta":{"values":["class","Nope"],"v":1}}',
    '{"v":{"__proto__":1},"s":[]}',
    '{"r":["__proto__"],"s":[[[0,1],[],[]]]}',
  ),
  fc.integer({ min: 60, max: 3000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 30, max: 1500 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
);

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

function slots(node: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(node)) {
    node.forEach((child, i) => {
      out.push({ parent: node, key: i });
      slots(child, out);
    });
  } else if (typeof node === 'object' && node !== null) {
    for (const [key, child] of Object.entries(node)) {
      out.push({ parent: node as Record<string, unknown>, key });
      slots(child, out);
    }
  }
  return out;
}

const MARK = '@@junk@@';

/** A valid frame's text with one node replaced, removed, or given a hostile sibling key. */
function mutated(frames: fc.Arbitrary<Frame>): fc.Arbitrary<string> {
  return fc
    .record({
      frame: frames,
      pick: fc.nat(),
      how: fc.constantFrom('replace', 'delete', 'add-key'),
      junk: arbJunkText,
      key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'type', 'x'),
    })
    .map(({ frame, pick, how, junk, key }) => {
      const wire = JSON.parse(encodeFrame(frame)) as Record<string, unknown>;
      const all = slots(wire);
      const slot = all[pick % all.length]!;
      if (how === 'delete') {
        if (Array.isArray(slot.parent)) slot.parent.splice(slot.key as number, 1);
        else delete slot.parent[slot.key as string];
        return JSON.stringify(wire);
      }
      if (how === 'add-key' && !Array.isArray(slot.parent)) {
        const text = JSON.stringify(slot.parent);
        const marked = JSON.stringify(wire).replace(text, `{${JSON.stringify(key)}:${MARK},${text.slice(1)}`);
        return marked.replace(MARK, junk);
      }
      (slot.parent as Record<string | number, unknown>)[slot.key] = MARK;
      return JSON.stringify(wire).replace(JSON.stringify(MARK), junk);
    });
}

export const arbMutatedFrameText = mutated(arbFrame);

/** Mutated `changes` frames of up to 12 docs: the lean decoder's input, fuzzed on its own. */
export const arbMutatedChangesText = mutated(changesFrames(12));

/** Text that is mostly not a frame at all: junk, truncated frames, bare JSON. */
export const arbJunkFrameText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  arbJunkText,
  fc.tuple(arbFrame, fc.nat()).map(([frame, cut]) => {
    const text = encodeFrame(frame);
    return text.slice(0, cut % text.length);
  }),
  fc.jsonValue().map((v) => JSON.stringify({ type: 'push', ...(typeof v === 'object' && v !== null && !Array.isArray(v) ? v : { v }) })),
);
