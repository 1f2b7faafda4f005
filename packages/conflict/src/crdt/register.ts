import { canonical } from '../canonical.js';
import { fail, ok } from '../errors.js';
import { compareHlc, hlcProblem, type Hlc } from '../hlc.js';
import type { CrdtType } from './crdt-type.js';
import { dotFunFromJson, dotFunToJson, joinDotFun, jsonProblem, type DotFun } from './dot-fun.js';

export interface RegisterEntry {
  readonly hlc: Hlc;
  readonly value: unknown;
}

export interface SetOp {
  readonly type: 'set';
  readonly value: unknown;
}

/**
 * Multi-value register resolved by last writer: concurrent sets are all kept (so the join
 * stays a join) and the read picks the highest HLC. The field type of `lwwMap`.
 */
export const register: CrdtType<DotFun<RegisterEntry>, unknown, SetOp> = {
  name: 'register',
  empty: () => [],
  isEmpty: (store) => store.length === 0,
  join: joinDotFun,
  apply: (_store, op, dot, hlc) => [{ dot, value: { hlc, value: op.value } }],
  read(store) {
    let best: RegisterEntry | undefined;
    for (const e of store) if (best === undefined || compareHlc(e.value.hlc, best.hlc) >= 0) best = e.value; // sorted by dot: ties go to the higher dot
    return best?.value;
  },
  entries: (store) => store.map((e) => [e.dot, canonical([e.value.hlc.wall, e.value.hlc.logical, e.value.value])] as const),
  toJson: (store) => dotFunToJson(store, (v) => [v.hlc.wall, v.hlc.logical, v.value]),
  fromJson: (json, path) =>
    dotFunFromJson(json, path, (raw, dot, at) => {
      if (!Array.isArray(raw) || raw.length !== 3) return fail(at, 'register entry must be [wall, logical, value]');
      const hlc = { wall: raw[0] as number, logical: raw[1] as number, replica: dot[0] };
      const problem = hlcProblem(hlc) ?? jsonProblem(raw[2]);
      return problem === undefined ? ok({ hlc, value: raw[2] as unknown }) : fail(at, problem);
    }),
  opProblem(op) {
    const { type, value } = (op ?? {}) as Partial<SetOp>;
    if (type !== 'set') return "register operations are {type: 'set', value}";
    return jsonProblem(value);
  },
};
