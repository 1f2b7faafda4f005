import { ConvergeError, validateDocState } from '@converge/conflict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeFrame, decodeRelayFrame, encodeFrame } from './codec.js';
import type { Frame } from './frame.js';
import { arbFrame, arbJunkFrameText, arbMutatedChangesText, arbMutatedFrameText } from './testing/arbitraries.js';
import { decodeValue } from './value-codec.js';
import type { WireState } from './wire-state.js';
import { propertyOptions } from '@converge/conflict/testing';

const prototypes = [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype, Map.prototype, Set.prototype];
const snapshot = (): string[][] => prototypes.map((p) => Object.getOwnPropertyNames(p).sort());

function statesOf(frame: Frame): WireState[] {
  switch (frame.type) {
    case 'push':
      return frame.changes.map((c) => c.delta);
    case 'changes':
      return frame.docs.map((d) => d.state);
    case 'read-result':
      return frame.docs.flatMap((d) => (d.state === null ? [] : [d.state]));
    case 'ack':
      return frame.results.flatMap((r) => (r.status === 'rejected' && r.current !== undefined ? [r.current] : []));
    default:
      return [];
  }
}

/** Decodes the text every way a peer would, then reads every value as an app would. Must never throw. */
function consume(text: string): void {
  for (const decode of [decodeFrame, decodeClientFrame, decodeRelayFrame]) {
    const result = decode(text);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(ConvergeError);
      expect(['bad_message', 'payload_too_large']).toContain(result.error.code);
      expect(typeof result.error.path).toBe('string');
      continue;
    }
    // Whatever is accepted is a valid frame: its states pass conflict's validation, and it
    // encodes and decodes to itself.
    for (const state of statesOf(result.value)) {
      expect(validateDocState(state).ok).toBe(true);
      for (const sibling of state.siblings) if (sibling.deleted !== true && 'json' in sibling.value) decodeValue(sibling.value);
    }
    const again = decode(encodeFrame(result.value));
    expect(again.ok && again.value).toEqual(result.value);
  }
}

describe('codec properties', () => {
  it('every valid frame survives encode → decode unchanged', () => {
    fc.assert(
      fc.property(arbFrame, (frame) => {
        const decoded = decodeFrame(encodeFrame(frame));
        if (!decoded.ok) throw decoded.error;
        expect(decoded.value).toEqual(frame);
      }),
      propertyOptions(),
    );
  });

  it('mutated frames (junk values, deep nesting, huge numbers, __proto__ keys, wrong types, missing fields) never throw and never pollute a prototype', () => {
    const before = snapshot();
    fc.assert(
      fc.property(arbMutatedFrameText, (text) => {
        consume(text);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      propertyOptions(),
    );
    expect(snapshot()).toEqual(before);
  });

  it('mutated changes frames (the lean decoder: simple and general docs, steps, table indices) never throw; a refusal is typed', () => {
    const before = snapshot();
    fc.assert(
      fc.property(arbMutatedChangesText, (text) => {
        consume(text);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      propertyOptions(),
    );
    expect(snapshot()).toEqual(before);
  });

  it('junk text never throws and never pollutes a prototype', () => {
    const before = snapshot();
    fc.assert(
      fc.property(arbJunkFrameText, (text) => {
        consume(text);
        expect(([] as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
      }),
      propertyOptions(),
    );
    expect(snapshot()).toEqual(before);
  });
});
