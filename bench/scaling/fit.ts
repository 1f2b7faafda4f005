// The exponent k of time ∝ N^k: a least-squares line through (log N, log time).

export function powerLawExponent(points: readonly (readonly [n: number, value: number])[]): number {
  const xs = points.map(([n]) => Math.log(n));
  const ys = points.map(([, v]) => Math.log(v));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}
