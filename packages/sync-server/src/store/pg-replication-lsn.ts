/** A WAL position as PostgreSQL prints a `pg_lsn`: the high and low 32 bits in hex, `16/B374D848`. */
export type Lsn = string;

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** The byte position an LSN names; throws on anything that is not a `pg_lsn`. */
export function lsnPosition(lsn: Lsn): bigint {
  const match = LSN.exec(lsn);
  if (!match) throw new Error(`not a PostgreSQL LSN: ${JSON.stringify(lsn)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** Negative, zero or positive as `a` is before, at or after `b` in the WAL. */
export function compareLsn(a: Lsn, b: Lsn): number {
  const x = lsnPosition(a);
  const y = lsnPosition(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The later of the positions given, ignoring `null` (a standby that has not received or replayed anything); `null` if none. */
export function latestLsn(...lsns: readonly (Lsn | null)[]): Lsn | null {
  let best: Lsn | null = null;
  for (const lsn of lsns) if (lsn !== null && (best === null || compareLsn(lsn, best) > 0)) best = lsn;
  return best;
}

/** `a - b` in bytes (negative when `a` is behind `b`). */
export function lsnDistance(a: Lsn, b: Lsn): number {
  return Number(lsnPosition(a) - lsnPosition(b));
}
