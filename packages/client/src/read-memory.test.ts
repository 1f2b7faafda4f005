import { EMPTY_CONTEXT, emptyDocState, writeDoc } from '@converge/conflict';
import type { WireValue } from '@converge/protocol';
import { describe, expect, it } from 'vitest';
import { collectionSpec } from './collection-spec.js';
import { ReadMemories } from './read-memory.js';

const hlc = (n: number) => ({ wall: n, logical: 0, replica: 'R' });
const twoSiblings = () => {
  const first = writeDoc<WireValue>(emptyDocState(), { dot: ['R', 1], hlc: hlc(1), readContext: EMPTY_CONTEXT, value: { json: 'first' } }).state;
  return writeDoc<WireValue>(first, { dot: ['R', 2], hlc: hlc(2), readContext: EMPTY_CONTEXT, value: { json: 'second' } }).state;
};

describe('ReadMemories', () => {
  it('what a read returned is remembered per collection and key: the context of the next write there, none before a read (a blind write)', () => {
    const memories = new ReadMemories();
    const spec = collectionSpec('notes', {});
    expect(memories.contextOf('notes', 'k', undefined)).toBeUndefined();
    const state = twoSiblings();
    const doc = memories.read(spec, { collection: 'notes', key: 'k', state, seq: 0 });
    expect(doc).toMatchObject({ value: 'second', conflicts: [{ value: 'first' }] });
    expect(memories.contextOf('notes', 'k', undefined)).toEqual({ context: state.context, winner: ['R', 2] });
    expect(memories.contextOf('other', 'k', undefined)).toBeUndefined();
  });

  it("a version the app passes wins over the remembered one; the winner is kept only when it is that version's", () => {
    const memories = new ReadMemories();
    const state = twoSiblings();
    memories.read(collectionSpec('notes', {}), { collection: 'notes', key: 'k', state, seq: 0 });
    expect(memories.contextOf('notes', 'k', state.context)).toEqual({ context: state.context, winner: ['R', 2] });
    expect(memories.contextOf('notes', 'k', EMPTY_CONTEXT)).toEqual({ context: EMPTY_CONTEXT, winner: undefined });
  });
});
