// Spread and per-pair ratios over the counted runs.

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export function spread(xs: readonly number[]): Spread {
  return { min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

/**
 * `xs[i] / ys[i]` for each run pair i (the two systems ran back to back in round i, under the
 * same load): a spread of ratios is fairer than a ratio of medians on a shared machine.
 */
export function pairRatios(xs: readonly number[], ys: readonly number[]): Spread {
  if (xs.length !== ys.length) throw new Error(`pairRatios: ${xs.length} runs against ${ys.length}`);
  return spread(xs.map((x, i) => x / ys[i]!));
}
