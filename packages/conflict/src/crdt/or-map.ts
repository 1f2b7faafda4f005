import type { CausalContext } from '../causal-context.js';
import { fail, ok, type Result } from '../errors.js';
import { RESERVED_NAMES } from '../replica-id.js';
import type { CrdtType } from './crdt-type.js';

export type OrMapOp<InnerOp> = { readonly type: 'update'; readonly key: string; readonly op: InnerOp } | { readonly type: 'remove'; readonly key: string };

/** Keys of an OR-map: non-empty strings up to 256 characters, never a reserved name. */
export function mapKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) return 'key must be a string of 1 to 256 characters';
  return RESERVED_NAMES.has(key) ? `'${key}' is reserved` : undefined;
}

/**
 * Observed-remove map of an inner CRDT, all sharing one seen-set. `update` applies an inner
 * operation; `remove` drops the key's entries it has seen, so a concurrent update survives
 * with only the updates the remove had not seen (add-wins, no resurrection).
 */
export function orMap<S, V, Op>(inner: CrdtType<S, V, Op>): CrdtType<ReadonlyMap<string, S>, Map<string, V>, OrMapOp<Op>> {
  const sorted = (m: Map<string, S>): ReadonlyMap<string, S> => new Map([...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  return {
    name: `orMap(${inner.name})`,
    empty: () => new Map(),
    isEmpty: (store) => store.size === 0,
    join(a: ReadonlyMap<string, S>, aSeen: CausalContext, b: ReadonlyMap<string, S>, bSeen: CausalContext) {
      if (a === b) return a;
      const out = new Map<string, S>();
      for (const key of new Set([...a.keys(), ...b.keys()])) {
        const joined = inner.join(a.get(key) ?? inner.empty(), aSeen, b.get(key) ?? inner.empty(), bSeen);
        if (!inner.isEmpty(joined)) out.set(key, joined);
      }
      return sorted(out);
    },
    apply(store, op, dot, hlc) {
      const out = new Map(store);
      if (op.type === 'remove') {
        out.delete(op.key);
        return out;
      }
      const next = inner.apply(store.get(op.key) ?? inner.empty(), op.op, dot, hlc);
      if (inner.isEmpty(next)) out.delete(op.key);
      else out.set(op.key, next);
      return sorted(out);
    },
    read(store) {
      const out = new Map<string, V>();
      for (const [key, s] of store) out.set(key, inner.read(s));
      return out;
    },
    *entries(store) {
      for (const [key, s] of store) {
        for (const [dot, content] of inner.entries(s)) yield [dot, `${JSON.stringify(key)}=${content}`] as const;
      }
    },
    toJson: (store) => [...store].map(([key, s]) => [key, inner.toJson(s)]),
    fromJson(json, path): Result<ReadonlyMap<string, S>> {
      if (!Array.isArray(json)) return fail(path, 'map must be an array of [key, value]');
      const out = new Map<string, S>();
      for (let i = 0; i < json.length; i++) {
        const raw: unknown = json[i];
        if (!Array.isArray(raw) || raw.length !== 2) return fail(`${path}[${i}]`, 'map entry must be [key, value]');
        const problem = mapKeyProblem(raw[0]);
        if (problem !== undefined) return fail(`${path}[${i}][0]`, problem);
        if (out.has(raw[0] as string)) return fail(`${path}[${i}][0]`, 'duplicate key');
        const value = inner.fromJson(raw[1], `${path}[${i}][1]`);
        if (!value.ok) return value;
        if (!inner.isEmpty(value.value)) out.set(raw[0] as string, value.value);
      }
      return ok(sorted(out));
    },
    opProblem(op) {
      const { type, key } = (op ?? {}) as { type?: unknown; key?: unknown };
      if (type !== 'update' && type !== 'remove') return "orMap operations are {type: 'update', key, op} or {type: 'remove', key}";
      return mapKeyProblem(key) ?? (type === 'update' ? inner.opProblem((op as { op?: unknown }).op) : undefined);
    },
  };
}
