import { fail, ok } from '../errors.js';
import type { CrdtType } from './crdt-type.js';
import { addEntry, dotFunFromJson, dotFunToJson, joinDotFun, type DotFun } from './dot-fun.js';

export interface IncrementOp {
  readonly type: 'increment';
  /** Any safe integer; negative decrements. */
  readonly by: number;
}

/**
 * PN-counter as a dot-store: every increment is one entry under its write's dot; the value is
 * the sum of the entries. A `clear` (remove) drops the increments it has seen, so a
 * concurrent increment survives it.
 */
export const counter: CrdtType<DotFun<number>, number, IncrementOp> = {
  name: 'counter',
  empty: () => [],
  isEmpty: (store) => store.length === 0,
  join: joinDotFun,
  apply: (store, op, dot) => addEntry(store, dot, op.by),
  read: (store) => store.reduce((sum, e) => sum + e.value, 0),
  entries: (store) => store.map((e) => [e.dot, String(e.value)] as const),
  toJson: (store) => dotFunToJson(store, (v) => v),
  fromJson: (json, path) =>
    dotFunFromJson(json, path, (v, _dot, at) => (typeof v === 'number' && Number.isSafeInteger(v) ? ok(v) : fail(at, 'amount must be a safe integer'))),
  opProblem(op) {
    const { type, by } = (op ?? {}) as Partial<IncrementOp>;
    if (type !== 'increment') return "counter operations are {type: 'increment', by}";
    return typeof by === 'number' && Number.isSafeInteger(by) ? undefined : 'by must be a safe integer';
  },
};
