import { describe, expect, it } from 'vitest';
import { accepted, refusal } from '../testing/refusal.js';

describe('credit', () => {
  it('grants catch-up bytes for the connection or one collection', () => {
    expect(accepted({ type: 'credit', bytes: 65536 })).toEqual({ type: 'credit', bytes: 65536 });
    expect(accepted({ type: 'credit', collection: 'carts', bytes: 1 })).toEqual({ type: 'credit', collection: 'carts', bytes: 1 });
  });
  it('refuses zero, fractional or huge grants and bad collections', () => {
    for (const bytes of [0, -5, 1.5, 2 ** 53, '10', null])
      expect(refusal({ type: 'credit', bytes })).toMatchObject({ code: 'bad_message', path: 'credit.bytes' });
    expect(refusal({ type: 'credit', collection: '', bytes: 1 })).toMatchObject({ path: 'credit.collection' });
  });
});
