import { ConvergeError, fail, type Result } from '@converge/conflict';

/**
 * Small checks of untrusted fields. Each returns why a value is refused, or `undefined`:
 * nothing is allocated on the success path, and the caller names the field only on failure.
 */

/** A parsed JSON object (after `jsonShapeProblem`, always a plain object). */
export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function safeIntegerProblem(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): string | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max ? undefined : `must be a safe integer in [${min}, ${max}]`;
}

export function stringProblem(value: unknown, minLength: number, maxLength: number): string | undefined {
  return typeof value === 'string' && value.length >= minLength && value.length <= maxLength
    ? undefined
    : `must be a string of ${minLength} to ${maxLength} characters`;
}

export function oneOfProblem(value: unknown, allowed: readonly string[]): string | undefined {
  return typeof value === 'string' && allowed.includes(value) ? undefined : `must be one of ${allowed.join(', ')}`;
}

/** A refusal with `code: 'payload_too_large'`: the frame is well formed but over a limit. */
export function tooLarge<T = never>(path: string, message: string): Result<T> {
  return { ok: false, error: new ConvergeError('payload_too_large', message, { path }) };
}

/** Why `value` is not a list the frame may carry (at most `maxItems`), with the code to refuse it by. */
export function listProblem(value: unknown, maxItems: number, minItems = 0): { code: 'bad_message' | 'payload_too_large'; message: string } | undefined {
  if (!Array.isArray(value)) return { code: 'bad_message', message: 'must be an array' };
  if (value.length > maxItems) return { code: 'payload_too_large', message: `holds ${value.length} items, more than the limit of ${maxItems}` };
  if (value.length < minItems) return { code: 'bad_message', message: `must hold at least ${minItems} item${minItems === 1 ? '' : 's'}` };
  return undefined;
}

/** `listProblem` as a refusal. */
export function refuseList<T = never>(path: string, problem: { code: 'bad_message' | 'payload_too_large'; message: string }): Result<T> {
  return { ok: false, error: new ConvergeError(problem.code, problem.message, { path }) };
}

/**
 * The first field of `checks` with a problem (fields in the order written, each with its
 * problem or undefined), refused with `bad_message` at `at.field`; undefined when none has one.
 * One call checks a frame's plain fields: `firstProblem('ack', { id: idProblem(id), level: … })`.
 */
export function firstProblem<T = never>(at: string, checks: Readonly<Record<string, string | undefined>>): Result<T> | undefined {
  for (const field in checks) {
    const problem = checks[field];
    if (problem !== undefined) return fail(`${at}.${field}`, problem);
  }
  return undefined;
}
