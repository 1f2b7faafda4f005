import { describe, expect, it } from 'vitest';
import { compareLsn, latestLsn, lsnDistance, lsnPosition } from './pg-replication-lsn.js';

describe('LSNs', () => {
  it('orders by the 64-bit position, not by the text', () => {
    expect(lsnPosition('16/B374D848')).toBe(0x16b374d848n);
    expect(compareLsn('0/9000000', '0/10000000')).toBeLessThan(0);
    expect(compareLsn('1/0', '0/FFFFFFFF')).toBeGreaterThan(0);
    expect(compareLsn('0/3A1C2D8', '0/3a1c2d8')).toBe(0);
    expect(lsnDistance('1/0', '0/FFFFFFFF')).toBe(1);
  });

  it('takes the latest of the known positions', () => {
    expect(latestLsn('0/3000000', null, '0/3A1C2D8')).toBe('0/3A1C2D8');
    expect(latestLsn(null, null)).toBeNull();
  });

  it('refuses what is not a pg_lsn', () => {
    expect(() => lsnPosition('3A1C2D8')).toThrow(/not a PostgreSQL LSN/);
    expect(() => lsnPosition('0/123456789')).toThrow(/not a PostgreSQL LSN/);
  });
});
