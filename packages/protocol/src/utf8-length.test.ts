import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8ByteLength } from './utf8-length.js';
import { propertyOptions } from '@converge/conflict/testing';

describe('utf8ByteLength', () => {
  it('counts what a WebSocket text frame carries, lone surrogates as their replacement character', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }),
        (text, surrogates) => {
          const mixed = text + surrogates + text;
          expect(utf8ByteLength(mixed)).toBe(encoder.encode(mixed).length);
        },
      ),
      propertyOptions(),
    );
  });

  it('stops counting past the bound', () => {
    expect(utf8ByteLength('é'.repeat(1000), 10)).toBeLessThanOrEqual(12);
    expect(utf8ByteLength('aé😀')).toBe(7);
  });
});
