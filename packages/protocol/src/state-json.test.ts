import { emptyDocState, writeDoc } from '@converge/conflict';
import { describe, expect, it } from 'vitest';
import { parseStoredState, stateToJson, storedStateText } from './state-json.js';
import { A, cartState, conflictedState, registerDelta, WALL } from './testing/samples.js';
import type { WireState } from './wire-state.js';

describe('a state standing alone (push delta, ack current, read-result, stored text)', () => {
  it('a simple state is its sibling alone; a tombstone, siblings or a cloud take the general form', () => {
    const first = registerDelta(A, 1, 'v1');
    const second = registerDelta(A, 2, { n: 2 }, first.context);
    expect(stateToJson(second)).toEqual([A, 2, WALL + 2, 0, { n: 2 }]);
    const deleted = writeDoc(second, { dot: [A, 3], hlc: { wall: WALL + 3, logical: 0, replica: A }, readContext: second.context, deleted: true }).state;
    expect(stateToJson(deleted)).toEqual({ r: [A], v: [0, 3], s: [[0, 3, WALL + 3, 0]] });
    expect(stateToJson(emptyDocState() as WireState)).toEqual({ r: [], v: [], s: [] });
    expect(stateToJson(conflictedState())).toMatchObject({ r: [A, 'replicaBBBBBBBBBBBBB'] });
  });

  it('stored text round-trips every form, CRDT values included', () => {
    for (const state of [registerDelta(A, 7, 'blind'), conflictedState(), cartState(), emptyDocState() as WireState]) {
      const back = parseStoredState(storedStateText(state));
      expect(back.ok && back.value).toEqual(state);
    }
  });

  it('parseStoredState refuses text that is not a state without throwing', () => {
    for (const text of ['', '{', 'null', '[]', '["A",1,1,0]', '{"r":["A"],"v":[0,0],"s":[]}', '["__proto__",1,1,0,1]']) {
      const result = parseStoredState(text, 'stored k');
      expect(result.ok, text).toBe(false);
      expect(!result.ok && result.error.code).toBe('bad_message');
      expect(!result.ok && result.error.path?.startsWith('stored k')).toBe(true);
    }
  });
});
