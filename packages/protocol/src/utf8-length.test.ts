import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyOptions } from '@converge/conflict/testing';
import { utf8ByteLength } from './utf8-length.js';

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

  it('counts long text exactly across chunks, a surrogate pair or a lone surrogate on the chunk edge included', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(
        fc.integer({ min: 16_380, max: 16_390 }),
        fc.constantFrom('😀', '\ud83d', '\ude00', 'é', 'a'),
        fc.string({ unit: 'binary', maxLength: 40 }),
        (ascii, edge, tail) => {
          const text = 'x'.repeat(ascii) + edge + tail + 'y'.repeat(20_000) + edge;
          expect(utf8ByteLength(text)).toBe(encoder.encode(text).length);
        },
      ),
      propertyOptions({ share: 0.05 }),
    );
  });

  it('stops counting past the bound: the result exceeds the bound exactly when the text does', () => {
    expect(utf8ByteLength('é'.repeat(1000), 10)).toBeGreaterThan(10);
    expect(utf8ByteLength('é'.repeat(1000), 2000)).toBe(2000);
    expect(utf8ByteLength('é'.repeat(100), 10)).toBeLessThanOrEqual(12);
    expect(utf8ByteLength('aé😀')).toBe(7);
  });
});
