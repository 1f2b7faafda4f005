import { canonical, deepEqual } from '../canonical.js';
import { joinByDot, type CausalContext } from '../causal-context.js';
import { compareDots, dotProblem, type Dot } from '../dot.js';
import { fail, ok, type Result } from '../errors.js';

export interface DotEntry<X> {
  readonly dot: Dot;
  readonly value: X;
}

/** Entries keyed by dot, sorted by dot: the building block of every CRDT here. */
export type DotFun<X> = readonly DotEntry<X>[];

/**
 * The causal join: an entry survives if both sides have it, or the other side has not seen
 * its dot. Two entries with one dot and different content keep the larger fingerprint, so
 * the result does not depend on argument order.
 */
export function joinDotFun<X>(a: DotFun<X>, aSeen: CausalContext, b: DotFun<X>, bSeen: CausalContext): DotFun<X> {
  if (a === b) return a;
  return joinByDot(a, aSeen, b, bSeen, (x, y) => (deepEqual(x.value, y.value) || canonical(x.value) > canonical(y.value) ? x : y));
}

/** Adds an entry at a fresh dot (greater than any of its replica's, so appending per replica keeps order). */
export function addEntry<X>(fun: DotFun<X>, dot: Dot, value: X): DotFun<X> {
  const out = [...fun, { dot, value }];
  return out.sort((p, q) => compareDots(p.dot, q.dot));
}

export function dotFunToJson<X>(fun: DotFun<X>, valueToJson: (value: X, dot: Dot) => unknown): unknown[] {
  return fun.map((e) => [e.dot[0], e.dot[1], valueToJson(e.value, e.dot)]);
}

export function dotFunFromJson<X>(json: unknown, path: string, valueFromJson: (json: unknown, dot: Dot, path: string) => Result<X>): Result<DotFun<X>> {
  if (!Array.isArray(json)) return fail(path, 'entries must be an array');
  const out: DotEntry<X>[] = [];
  for (let i = 0; i < json.length; i++) {
    const at = `${path}[${i}]`;
    const raw: unknown = json[i];
    if (!Array.isArray(raw) || raw.length !== 3) return fail(at, 'entry must be [replica, counter, value]');
    const dot = [raw[0], raw[1]] as unknown;
    const problem = dotProblem(dot);
    if (problem !== undefined) return fail(at, problem);
    const value = valueFromJson(raw[2], dot as Dot, `${at}[2]`);
    if (!value.ok) return value;
    out.push({ dot: dot as Dot, value: value.value });
  }
  out.sort((p, q) => compareDots(p.dot, q.dot));
  for (let i = 1; i < out.length; i++) {
    if (compareDots(out[i - 1]!.dot, out[i]!.dot) === 0) return fail(path, 'two entries share a dot');
  }
  return ok(out);
}

/** Is `value` plain JSON (bounded depth)? CRDT contents must be, so the relay can check them. */
export function jsonProblem(value: unknown, depth = 0): string | undefined {
  if (depth > 64) return 'nested too deeply';
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'numbers must be finite';
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = jsonProblem(item, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return 'must be plain JSON';
    for (const key of Object.keys(value)) {
      if (key === '__proto__') return "'__proto__' is not allowed as a key";
      const problem = jsonProblem((value as Record<string, unknown>)[key], depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return 'must be plain JSON';
}
