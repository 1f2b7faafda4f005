import { simpleState } from '@converge/conflict';
import { decodeRelayFrame, type AckFrame, type ChangeResult } from '@converge/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ackFrames } from './ack-parts.js';

const current = simpleState({ dot: ['relay', 3], hlc: { wall: 1767225600000, logical: 0, replica: 'relay' }, value: { json: 'x'.repeat(2000) } });

const result = (i: number, keyLength: number, refused: boolean, messageLength = 30, withCurrent = false): ChangeResult => {
  const name = { collection: 'notes', key: `${i}-${'k'.repeat(keyLength)}`, dot: ['writer', i + 1] as const };
  if (!refused) return { ...name, status: 'accepted', seq: i + 1 };
  return { ...name, status: 'rejected', code: 'conflict_rejected', message: 'm'.repeat(messageLength), ...(withCurrent ? { current } : {}) };
};

/** Decodes the parts as a client does (limits enforced) and joins their results. */
function decoded(texts: readonly string[], maxFrameBytes: number): AckFrame[] {
  return texts.map((text) => {
    const frame = decodeRelayFrame(text, { maxFrameBytes, maxChangesPerFrame: 1000 });
    if (!frame.ok) throw frame.error;
    if (frame.value.type !== 'ack') throw new Error(`not an ack: ${frame.value.type}`);
    return frame.value;
  });
}

const names = (results: readonly ChangeResult[]) => results.map((r) => `${r.key}@${r.dot.join(':')}:${r.status}`);

describe('the answer to a push within maxFrameBytes', () => {
  it('one frame, states included, when it fits', () => {
    const ack: AckFrame = { type: 'ack', id: 'p1', level: 'relay', results: [result(0, 10, false), result(1, 10, true, 30, true)] };
    const [frame, ...rest] = decoded(ackFrames(ack, 64 * 1024), 64 * 1024);
    expect(rest).toEqual([]);
    expect(frame).toEqual(ack);
  });

  it('leaves the states out before it splits: one frame of bare results when they fit', () => {
    const ack: AckFrame = { type: 'ack', id: 'p1', level: 'relay', results: [0, 1, 2, 3].map((i) => result(i, 10, true, 30, true)) };
    const parts = decoded(ackFrames(ack, 8 * 1024), 8 * 1024);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.more).toBeUndefined();
    expect(parts[0]!.results.every((r) => !('current' in r))).toBe(true);
    expect(names(parts[0]!.results)).toEqual(names(ack.results));
  });

  it('shortens a message that would not let its result fit in a part of its own', () => {
    const ack: AckFrame = { type: 'ack', id: 'p1', level: 'relay', results: [result(0, 1000, true, 4096), result(1, 1000, false)] };
    const parts = decoded(ackFrames(ack, 2048), 2048);
    expect(parts.map((p) => p.more)).toEqual([true, undefined]);
    const first = parts[0]!.results[0]!;
    expect(first.status === 'rejected' && first.message.length).toBeLessThan(4096);
    expect(first.status === 'rejected' && first.message.length).toBeGreaterThan(0);
    expect(names(parts.flatMap((p) => p.results))).toEqual(names(ack.results));
  });

  it('property: every part decodes within the limit, each but the last says more, and together they hold every result once, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ keyLength: fc.nat(1000), refused: fc.boolean(), messageLength: fc.nat(600), withCurrent: fc.boolean() }), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.integer({ min: 8 * 1024, max: 64 * 1024 }),
        (specs, maxFrameBytes) => {
          const results = specs.map((s, i) => result(i, s.keyLength, s.refused, s.messageLength, s.withCurrent));
          const ack: AckFrame = { type: 'ack', id: 'p-1', level: 'quorum', results };
          const texts = ackFrames(ack, maxFrameBytes);
          for (const text of texts) expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxFrameBytes);
          const parts = decoded(texts, maxFrameBytes);
          expect(parts.map((p) => p.more === true)).toEqual(parts.map((_p, i) => i < parts.length - 1));
          expect(parts.every((p) => p.id === 'p-1' && p.level === 'quorum')).toBe(true);
          expect(names(parts.flatMap((p) => p.results))).toEqual(names(results));
        },
      ),
      { numRuns: 100 },
    );
  });
});
