import { ConvergeError, mergeDocStates } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeFrame, decodeRelayFrame, encodeFrame, validateFrame } from './codec.js';
import { FRAME_TYPES, type Frame, type FrameOf } from './frame.js';
import type { PushFrame } from './frames/push.js';
import { MAX_FRAME_DEPTH, MAX_VALUE_DEPTH } from './limits.js';
import { A, B, CURSOR, registerDelta, RICH_VALUE, sampleFrames, WALL } from './testing/samples.js';
import { decodeValue, encodeValue } from './value-codec.js';
import type { EncodedValue } from './value-codec.js';
import type { WireState } from './wire-state.js';

function decoded(text: string): Frame {
  const result = decodeFrame(text);
  if (!result.ok) throw result.error;
  return result.value;
}

function refusal(text: string, limits?: Parameters<typeof decodeFrame>[1]): ConvergeError {
  const result = decodeFrame(text, limits);
  if (result.ok) throw new Error(`expected a refusal of ${text.slice(0, 200)}`);
  expect(result.error).toBeInstanceOf(ConvergeError);
  return result.error;
}

describe('round trip', () => {
  it('every frame type decodes to the frame that was encoded', () => {
    const frames = sampleFrames();
    expect(new Set(frames.map((f) => f.type))).toEqual(new Set(FRAME_TYPES));
    for (const frame of frames) expect(decoded(encodeFrame(frame))).toEqual(frame);
  });

  it('a pushed value keeps Date, Map, Set, BigInt, undefined, RegExp, NaN and -0 end to end', () => {
    const push = sampleFrames().find((f): f is FrameOf<'push'> => f.type === 'push')!;
    const received = decoded(encodeFrame(push)) as PushFrame;
    const sibling = received.changes[0]!.delta.siblings[0]!;
    expect(sibling.deleted).toBeUndefined();
    const value = decodeValue((sibling as { value: unknown }).value);
    expect(value.ok && value.value).toStrictEqual(RICH_VALUE);
    const back = value.ok ? (value.value as typeof RICH_VALUE) : undefined;
    expect(back?.at).toBeInstanceOf(Date);
    expect(back?.big).toBe(2n ** 70n);
    expect(back?.pattern.flags).toBe('giu');
    expect(Object.is(back?.odd[1], -0)).toBe(true);
  });

  it('states arrive canonical and keep siblings, tombstones, clouds and write numbers', () => {
    const frames = sampleFrames();
    const text = encodeFrame(frames.find((f): f is FrameOf<'push'> => f.type === 'push')!);
    const push = decoded(text) as PushFrame;
    expect(push.changes.map((c) => c.writeNumber)).toEqual([57, 58, 59]);
    expect(push.changes.map((c) => c.resync)).toEqual([undefined, undefined, true]);
    // The write from a second tab read the blind write A:7 (no A:1..6): its delta claims exactly
    // A:7 and A:8 as single dots, never the prefix A:1..8 a bare vector would claim.
    expect(push.changes[1]!.delta.context.vv.size).toBe(0);
    expect(push.changes[1]!.delta.context.cloud).toEqual([
      [A, 7],
      [A, 8],
    ]);
  });

  it('a changes frame writes every replica id once, a simple state as its sibling alone with seq and wall as differences', () => {
    const frame = sampleFrames().find((f) => f.type === 'changes')!;
    const text = encodeFrame(frame);
    const wire = JSON.parse(text) as { replicas: string[]; docs: unknown[][] };
    expect(wire.replicas.sort()).toEqual(['replicaAAAAAAAAAAAAA', 'replicaBBBBBBBBBBBBB']);
    expect(text.split('replicaAAAAAAAAAAAAA').length - 1).toBe(1);
    expect(wire.docs.map((d) => d.slice(0, 2))).toEqual([
      ['n-1', 40],
      ['n-2', 2],
    ]);
    const simple = registerDelta(A, 1, { title: 'milk' });
    const live: Frame = { ...frame, docs: [{ key: 'k', seq: 7, state: simple }], watermark: 7, cursor: { ...CURSOR, seq: 7 } } as Frame;
    expect((JSON.parse(encodeFrame(live)) as { docs: unknown }).docs).toEqual([['k', 7, { title: 'milk' }, WALL + 1]]);
  });

  it("a changes frame's plain values arrive frozen, deep (a client hands them out as they are); other slots do not", () => {
    const frame = sampleFrames().find((f) => f.type === 'changes')!;
    const plain = registerDelta(A, 1, { title: 'milk', tags: ['a'] });
    const dated = registerDelta(B, 1, { at: new Date(5) });
    const text = encodeFrame({
      ...frame,
      docs: [
        { key: 'k', seq: 6, state: plain },
        { key: 'd', seq: 7, state: dated },
      ],
      watermark: 7,
      cursor: { ...CURSOR, seq: 7 },
    } as Frame);
    const docs = (decoded(text) as FrameOf<'changes'>).docs;
    const value = (docs[0]!.state.siblings[0] as { value: EncodedValue }).value.json as { tags: string[] };
    expect(value).toEqual({ title: 'milk', tags: ['a'] });
    expect(Object.isFrozen(value) && Object.isFrozen(value.tags)).toBe(true);
    expect(Object.isFrozen((docs[1]!.state.siblings[0] as { value: EncodedValue }).value)).toBe(false);
  });

  it('a value never passes through superjson at the frame level: the encoded form is carried byte for byte', () => {
    const value: EncodedValue = { json: { keep: 'as is' }, meta: { values: { x: ['Date'] }, v: 1 } };
    const delta = registerDelta(A, 1, null);
    const { dot, hlc } = delta.siblings[0]!;
    const frame: PushFrame = {
      type: 'push',
      id: 'p',
      ack: 'local',
      changes: [{ collection: 'c', key: 'k', writeNumber: 1, chain: '1', delta: { ...delta, siblings: [{ dot, hlc, value }] } }],
    };
    const text = encodeFrame(frame);
    expect(text).toContain(JSON.stringify(value));
    const sibling = (decoded(text) as PushFrame).changes[0]!.delta.siblings[0] as { value: unknown };
    expect(sibling.value).toEqual(value);
  });
});

describe('frame-level refusals', () => {
  it('refuses junk text, non-objects and unknown types as bad_message on the frame', () => {
    for (const text of ['', 'nope', '{"type":"ping"', '[]', 'null', '42', '"ping"']) {
      const error = refusal(text);
      expect(error.code).toBe('bad_message');
      expect(error.path).toBe('frame');
    }
    expect(refusal('{"t":1}').path).toBe('frame.type');
    expect(refusal('{"type":"toString","t":1}').message).toContain('unknown frame type');
    expect(refusal('{"type":"__proto__"}').path).toBe('frame.type');
    expect(decodeFrame(42 as unknown as string).ok).toBe(false);
  });

  it('refuses a frame over maxFrameBytes as payload_too_large, counting UTF-8 bytes', () => {
    const frame = encodeFrame({ type: 'error', code: 'internal', message: 'é'.repeat(100) });
    const bytes = new TextEncoder().encode(frame).length;
    expect(decodeFrame(frame, { maxFrameBytes: bytes }).ok).toBe(true);
    const error = refusal(frame, { maxFrameBytes: bytes - 1 });
    expect(error.code).toBe('payload_too_large');
    expect(error.path).toBe('frame');
    expect(refusal('x'.repeat(2 * 1024 * 1024)).code).toBe('payload_too_large');
  });

  it('refuses more than maxChangesPerFrame items as payload_too_large, naming the list', () => {
    const delta = registerDelta(A, 1, 1);
    const changes = Array.from({ length: 4 }, (_, i) => ({ collection: 'c', key: `k${i}`, delta, writeNumber: i + 1, chain: (i + 1).toString(16) }));
    const text = encodeFrame({ type: 'push', id: 'p', ack: 'relay', changes });
    expect(decodeFrame(text, { maxChangesPerFrame: 4 }).ok).toBe(true);
    const error = refusal(text, { maxChangesPerFrame: 3 });
    expect(error.code).toBe('payload_too_large');
    expect(error.path).toBe('push.changes');
    const read = encodeFrame({ type: 'read', id: 'r', collection: 'c', keys: ['a', 'b'], consistency: 'local' });
    expect(refusal(read, { maxChangesPerFrame: 1 }).path).toBe('read.keys');
  });

  it('refuses nesting deeper than 64 anywhere, values included, without overflowing', () => {
    const deep = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
    expect(decodeFrame(`{"type":"ping","t":1,"x":${deep(MAX_FRAME_DEPTH - 1)}}`).ok).toBe(true);
    const error = refusal(`{"type":"ping","t":1,"x":${deep(MAX_FRAME_DEPTH)}}`);
    expect(error.code).toBe('bad_message');
    expect(error.path).toMatch(/^ping\.x(\[0\])+$/);
    expect(error.message).toContain('deeper than 64');
    const huge = refusal(`{"type":"ping","t":1,"x":${deep(200_000)}}`);
    expect(huge.code).toBe('bad_message');
  });

  it('carries a value of the deepest allowed nesting in every frame and state form, and no deeper at the deepest slot', () => {
    // A Date leaf keeps superjson's wrapper {json, meta}, the deepest form a slot takes.
    let nested: unknown = new Date(0);
    while (true) {
      const next = [nested];
      try {
        encodeValue(next);
      } catch {
        break;
      }
      nested = next;
    }
    const encoded = encodeValue(nested);
    const depthOf = (v: unknown): number =>
      Array.isArray(v) ? 1 + depthOf(v[0]) : typeof v === 'object' && v !== null ? 1 + depthOf((v as { json: unknown }).json) : 0;
    expect(depthOf(encoded)).toBe(MAX_VALUE_DEPTH);
    const simple = registerDelta(A, 1, nested);
    // Two concurrent siblings: the general form, whose slots sit deepest (level 7).
    const general = mergeDocStates(simple, registerDelta(B, 1, 'other')).state;
    const framesOf = (state: WireState): Frame[] => [
      { type: 'push', id: 'p', ack: 'relay', changes: [{ collection: 'c', key: 'k', delta: state, writeNumber: 1, chain: '1' }] },
      {
        type: 'ack',
        id: 'p',
        level: 'relay',
        results: [{ collection: 'c', key: 'k', dot: state.siblings[0]!.dot, status: 'rejected', code: 'conflict_rejected', message: '', current: state }],
      },
      { type: 'read-result', id: 'r', collection: 'c', docs: [{ key: 'k', seq: 1, state }] },
      { type: 'changes', collection: 'c', phase: 'live', docs: [{ key: 'k', seq: 1, state }], watermark: 1, cursor: { ...CURSOR, seq: 1 } },
    ];
    for (const frame of [...framesOf(simple), ...framesOf(general)]) {
      const back = decodeFrame(encodeFrame(frame));
      expect(back.ok && back.value, frame.type).toEqual(frame);
    }
    // One level deeper, written by hand past encodeValue, is refused in every form.
    const tooDeep = { json: [encoded.json], meta: encoded.meta };
    for (const frame of [...framesOf(simple), ...framesOf(general)]) {
      const text = encodeFrame(frame).replace(JSON.stringify(encoded), JSON.stringify(tooDeep));
      expect(text).not.toBe(encodeFrame(frame));
      expect(refusal(text).message, frame.type).toMatch(/deeper than (64|58)/);
    }
  });

  it('refuses numbers that would not survive JSON text: 1e400 and -0', () => {
    expect(refusal('{"type":"ping","t":1e400}').message).toContain('finite');
    expect(refusal('{"type":"ping","t":-0}').message).toContain('-0');
  });

  it('validateFrame refuses in-memory objects that are not JSON data', () => {
    expect(validateFrame({ type: 'ping', t: 1 }).ok).toBe(true);
    expect(validateFrame(new Map([['type', 'ping']])).ok).toBe(false);
    const withDate = validateFrame({ type: 'ping', t: 1, at: new Date() });
    expect(!withDate.ok && withDate.error.path).toBe('ping.at');
    const withBigint = validateFrame({ type: 'ping', t: 1, n: 1n });
    expect(!withBigint.ok && withBigint.error.message).toContain('bigint');
  });
});

describe('direction', () => {
  it('a relay refuses relay frames from a client, a client refuses client frames from a relay', () => {
    const welcome = encodeFrame(sampleFrames().find((f) => f.type === 'welcome')!);
    const push = encodeFrame(sampleFrames().find((f): f is FrameOf<'push'> => f.type === 'push')!);
    const fromClient = decodeClientFrame(welcome);
    expect(!fromClient.ok && fromClient.error.path).toBe('frame.type');
    expect(decodeClientFrame(push).ok).toBe(true);
    expect(decodeRelayFrame(welcome).ok).toBe(true);
    expect(decodeRelayFrame(push).ok).toBe(false);
    expect(decodeClientFrame('{"type":"ping","t":1}').ok).toBe(true);
    expect(decodeRelayFrame('{"type":"pong","t":1}').ok).toBe(true);
  });
});
