import fc from 'fast-check';
import { env, envSeed } from './seeds.js';

/** The test running now, as vitest's global `expect` knows it (absent outside vitest). */
interface TestIdentity {
  readonly name: string | undefined;
  readonly file: string | undefined;
}

function currentTest(): TestIdentity {
  const expect = (globalThis as Record<symbol, unknown>)[Symbol.for('expect-global')] as
    { getState?: () => { currentTestName?: string; testPath?: string } } | undefined;
  const state = expect?.getState?.();
  return { name: state?.currentTestName, file: state?.testPath };
}

const shellQuote = (text: string): string => "'" + text.replace(/'/g, "'\\''") + "'";
const regexEscape = (text: string): string => text.replace(/[.*+?^$(){}|[\]\\]/g, '\\$&');

/** The command that replays a failed property: the same seed, only this test. */
export function replayCommand(seed: number, test: TestIdentity = currentTest()): string {
  const file = test.file === undefined ? '<test file>' : test.file.replace(/^.*?\/(packages|bench)\//, '$1/');
  // vitest's -t matches a regex against the describe names and the test name joined by spaces.
  const filter = test.name === undefined ? '' : ` -t ${shellQuote(regexEscape(test.name.split(' > ').join(' ')))}`;
  return `CONVERGE_SEED=${seed} npx vitest run ${file}${filter}`;
}

export interface PropertyOptions<T> extends fc.Parameters<T> {
  /** This property's share of `CONVERGE_PROPERTY_RUNS` (a slow property runs fewer); default 1. */
  readonly share?: number;
}

/**
 * fast-check parameters for every property test here: one place sets runs and seed.
 * `CONVERGE_PROPERTY_RUNS` sets the number of runs (default 1000, times `share`);
 * `CONVERGE_SEED` fixes the seed (default: a fresh one per run). A failure throws fast-check's
 * report followed by the exact command that replays it, e.g.
 * `CONVERGE_SEED=1234 npx vitest run packages/conflict/src/doc-state.property.test.ts -t 'merge is commutative'`.
 * `overrides` win over both variables (a test that must always run with one seed says so).
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { propertyOptions } from '@converge/conflict/testing';
 * fc.assert(fc.property(fc.nat(), (n) => n >= 0), propertyOptions());
 * ```
 */
export function propertyOptions<T>(overrides: PropertyOptions<T> = {}): fc.Parameters<T> {
  const { share = 1, ...rest } = overrides;
  const runs = Number(env('CONVERGE_PROPERTY_RUNS') ?? 1000);
  const seed = envSeed();
  const params: fc.Parameters<T> = {
    numRuns: Math.max(1, Math.round(runs * share)),
    ...(seed === undefined ? {} : { seed }),
    reporter: (details) => {
      if (!details.failed) return;
      const report = fc.defaultReportMessage(details) ?? `property failed (seed ${details.seed})`;
      throw new Error(`${report}\n\nReplay with:\n  ${replayCommand(details.seed)}\n`, { cause: details.errorInstance });
    },
  };
  return { ...params, ...rest };
}
