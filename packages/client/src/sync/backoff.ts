export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * The wait before reconnect attempt `attempt` (0 = the first retry): exponential, capped, with
 * "equal jitter" — half fixed, half random — so clients that lost the relay together spread out
 * but none retries at once.
 */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions): number {
  const cap = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + random() * (cap / 2));
}
