import { ConvergeError } from '@converge/conflict';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `90s`, `30m`, `24h`, `7d`, `1500ms` or a bare number of ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (match === null) throw new ConvergeError('bad_message', `'${text}' is not a duration (e.g. 90s, 30m, 24h, 7d)`);
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms']!);
}
