import { canonical } from '../canonical.js';
import { fail, ok } from '../errors.js';
import type { CrdtType } from './crdt-type.js';
import { addEntry, dotFunFromJson, dotFunToJson, joinDotFun, jsonProblem, type DotFun } from './dot-fun.js';

export type OrSetOp = { readonly type: 'add'; readonly element: unknown } | { readonly type: 'remove'; readonly element: unknown };

/**
 * Add-wins observed-remove set. `add` replaces the entries of the element it has seen with
 * one under its own dot; `remove` drops the entries it has seen; a concurrent add survives.
 * Elements are plain JSON, equal when their canonical forms are.
 */
export const orSet: CrdtType<DotFun<unknown>, unknown[], OrSetOp> = {
  name: 'orSet',
  empty: () => [],
  isEmpty: (store) => store.length === 0,
  join: joinDotFun,
  apply(store, op, dot) {
    const key = canonical(op.element);
    const rest = store.filter((e) => canonical(e.value) !== key);
    return op.type === 'add' ? addEntry(rest, dot, op.element) : rest;
  },
  read(store) {
    const byKey = new Map<string, unknown>();
    for (const e of store) byKey.set(canonical(e.value), e.value);
    return [...byKey].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, v]) => v);
  },
  entries: (store) => store.map((e) => [e.dot, canonical(e.value)] as const),
  toJson: (store) => dotFunToJson(store, (v) => v),
  fromJson: (json, path) =>
    dotFunFromJson(json, path, (v, _dot, at) => {
      const problem = jsonProblem(v);
      return problem === undefined ? ok(v) : fail(at, problem);
    }),
  opProblem(op) {
    const { type, element } = (op ?? {}) as { type?: unknown; element?: unknown };
    if (type !== 'add' && type !== 'remove') return "orSet operations are {type: 'add' | 'remove', element}";
    return jsonProblem(element);
  },
};
