/** Reads an environment variable where there is one (Node); these modules also load in browsers. */
export function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

/**
 * `CONVERGE_SEED`, the one seed variable of every seeded test (property tests, simulations), as
 * a number; undefined when it is not set.
 *
 * @throws Error when it is set to something that is not a safe integer.
 */
export function envSeed(): number | undefined {
  const text = env('CONVERGE_SEED');
  if (text === undefined || text === '') return undefined;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`CONVERGE_SEED must be an integer, got ${JSON.stringify(text)}`);
  return seed;
}

/**
 * The seeds a seeded test runs: `CONVERGE_SEED` alone when it is set (replaying a failure),
 * else `defaults`.
 *
 * @example
 * ```ts
 * import { seedsToRun } from '@converge/conflict/testing';
 * seedsToRun([9, 11]); // → [9, 11] (or [N] under CONVERGE_SEED=N)
 * ```
 */
export function seedsToRun(defaults: readonly number[]): readonly number[] {
  const seed = envSeed();
  return seed === undefined ? defaults : [seed];
}
