import { ConvergeError, type Result } from '@converge/conflict';

/**
 * Checks of untrusted JSON (an export being imported), written as data: a `Check` returns the
 * value it accepts (for `shape`, a fresh object of the known fields only) or throws
 * `bad_message` naming the field's path and the problem.
 */
export type Check = ((value: unknown, path: string) => unknown) & { readonly optional?: true };

export function refuse(path: string, problem: string): never {
  throw new ConvergeError('bad_message', problem, { path });
}

/** A check from a `…Problem` function (undefined: accepted). */
export const by =
  (problem: (value: unknown) => string | undefined): Check =>
  (value, path) => {
    const found = problem(value);
    return found === undefined ? value : refuse(path, found);
  };

/** A check from a decoder that returns a `Result`. */
export const decoded =
  (decode: (value: unknown, path: string) => Result<unknown>): Check =>
  (value, path) => {
    const result = decode(value, path);
    if (!result.ok) throw result.error;
    return result.value;
  };

export const int = (min = 0): Check => by((v) => (Number.isSafeInteger(v) && (v as number) >= min ? undefined : `must be an integer ≥ ${min}`));
export const str: Check = by((v) => (typeof v === 'string' ? undefined : 'must be a string'));
export const oneOf = (allowed: readonly unknown[]): Check => by((v) => (allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`));
/** The field may be absent (then it is left out). */
export const opt = (check: Check): Check => Object.assign((value: unknown, path: string) => check(value, path), { optional: true as const });

export function object(value: unknown, path: string): Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : refuse(path, 'must be an object');
}

/** An object of these fields (others are ignored): a fresh object of the checked values. */
export const shape =
  (fields: Readonly<Record<string, Check>>): Check =>
  (value, path) => {
    const json = object(value, path);
    const out: Record<string, unknown> = {};
    for (const name in fields) {
      const check = fields[name]!;
      if (json[name] !== undefined || check.optional !== true) out[name] = check(json[name], `${path}.${name}`);
    }
    return out;
  };

export const list =
  (check: Check): Check =>
  (value, path) =>
    Array.isArray(value) ? value.map((item, i) => check(item, `${path}[${i}]`)) : refuse(path, 'must be an array');
