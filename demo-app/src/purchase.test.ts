import { describe, expect, it } from 'vitest';
import { explainRefusal, purchase, rebasePurchase } from './purchase.js';

describe('purchases against the leader-follower inventory', () => {
  it('sells one unit, and nothing when none is left', () => {
    expect(purchase({ stock: 1 }, 'phone')).toEqual({ stock: 0, lastBuyer: 'phone' });
    expect(purchase({ stock: 0, lastBuyer: 'laptop' }, 'phone')).toBeUndefined();
    expect(purchase(undefined, 'phone')).toBeUndefined();
  });

  it('onReject rebases a refused purchase on the current stock while units are left, and keeps it refused at zero', () => {
    expect(rebasePurchase({ stock: 1, lastBuyer: 'phone' }, { stock: 1, lastBuyer: 'laptop' })).toEqual({ stock: 0, lastBuyer: 'phone' });
    expect(rebasePurchase({ stock: 0, lastBuyer: 'phone' }, { stock: 0, lastBuyer: 'laptop' })).toBeUndefined();
  });

  it('explains a refused last-unit purchase by naming who got it', () => {
    expect(explainRefusal('mug', { stock: 0, lastBuyer: 'phone' }, { stock: 0, lastBuyer: 'laptop' }, 'conflict_rejected')).toBe(
      "phone's purchase of the last mug was refused by the relay: laptop bought it first. Rolled back: out of stock.",
    );
    expect(explainRefusal('mug', { stock: 0, lastBuyer: 'phone' }, { stock: 3 }, 'conflict_rejected')).toContain('the stock changed first (now 3)');
    expect(explainRefusal('mug', { stock: 0, lastBuyer: 'phone' }, undefined, 'forbidden')).toContain('(forbidden)');
  });
});
