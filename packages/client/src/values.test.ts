import { encodeValue, MAX_VALUE_DEPTH, type WireValue } from '@converge/protocol';
import { describe, expect, it } from 'vitest';
import { readAppValue } from './values.js';

const slot = (json: unknown): WireValue => ({ json }) as WireValue;

describe('readAppValue', () => {
  it('hands out plain JSON frozen in place, deep, and the same object on every read', () => {
    const stored = slot(JSON.parse('{"title":"a","n":1,"zero":0,"none":null,"tags":["x",{"deep":[true]}]}'));
    const first = readAppValue(stored) as { tags: [string, { deep: boolean[] }] };
    expect(first).toBe((stored as { json: unknown }).json);
    expect(Object.isFrozen(first) && Object.isFrozen(first.tags) && Object.isFrozen(first.tags[1]) && Object.isFrozen(first.tags[1].deep)).toBe(true);
    expect(readAppValue(stored)).toBe(first);
    expect(readAppValue(slot('text'))).toBe('text');
  });

  it('refuses what decodeValue refuses, freezing nothing above the fault', () => {
    for (const bad of [JSON.parse('{"ok":{"a":1},"__proto__":1}'), { a: -0 }, { a: Infinity }, { a: undefined }, [new Date(0)]]) {
      expect(() => readAppValue(slot(bad))).toThrow(expect.objectContaining({ code: 'bad_message' }));
      expect(Object.isFrozen(bad)).toBe(false);
    }
    let deep: unknown = 1;
    for (let i = 0; i < MAX_VALUE_DEPTH + 1; i++) deep = [deep];
    expect(() => readAppValue(slot(deep))).toThrow(expect.objectContaining({ code: 'bad_message' }));
    let fits: unknown = 1;
    for (let i = 0; i < MAX_VALUE_DEPTH; i++) fits = [fits];
    expect(readAppValue(slot(fits))).toBe(fits);
  });

  it('decodes a value with meta afresh on each read', () => {
    const stored = encodeValue({ at: new Date(5) });
    const first = readAppValue(stored) as { at: Date };
    expect(first.at).toBeInstanceOf(Date);
    expect(readAppValue(stored)).not.toBe(first);
    expect(Object.isFrozen(first)).toBe(false);
  });
});
