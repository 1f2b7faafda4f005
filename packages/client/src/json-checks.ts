import { ConvergeError, type Result } from '@converge/conflict';

/**
 * Checks of untrusted JSON (an export being imported): each returns the checked value or throws
 * `bad_message` naming the field's path and the problem.
 */

export function refuse(path: string, problem: string): never {
  throw new ConvergeError('bad_message', problem, { path });
}

/** The value of a decoder's `Result`, or its error thrown. */
export function valid<T>(result: Result<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** Throws when `problem` (a `…Problem` function's answer) is set; returns `value` otherwise. */
export function checked<T>(value: unknown, problem: string | undefined, path: string): T {
  if (problem !== undefined) refuse(path, problem);
  return value as T;
}

export type JsonRecord = Readonly<Record<string, unknown>>;

export function object(value: unknown, path: string): JsonRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) refuse(path, 'must be an object');
  return value as JsonRecord;
}

export function array(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) refuse(path, 'must be an array');
  return value;
}

export function string(value: unknown, path: string): string {
  if (typeof value !== 'string') refuse(path, 'must be a string');
  return value;
}

export function integer(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) refuse(path, `must be an integer ≥ ${min}`);
  return value;
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (!allowed.includes(value as T)) refuse(path, `must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** `{ [name]: read(value) }` for the fields present; absent (undefined) fields are left out. */
export function optional<T>(json: JsonRecord, name: string, path: string, read: (value: unknown, path: string) => T): { readonly [name: string]: T } {
  const value = json[name];
  return value === undefined ? {} : { [name]: read(value, `${path}.${name}`) };
}
