import { describe, expect, it } from 'vitest';
import { applyEdit, type CartItems } from './cart.js';
import { naiveUnionSum } from './naive-cart.js';

describe('the naive union-and-sum cart (wrong on purpose)', () => {
  const base: CartItems = { eggs: 1, milk: 1 };
  const laptop = { items: applyEdit(applyEdit(base, { kind: 'add', item: 'milk', by: 1 }), { kind: 'add', item: 'milk', by: 1 }), by: 'laptop' };
  const phone = { items: applyEdit(applyEdit(base, { kind: 'add', item: 'milk', by: 1 }), { kind: 'remove', item: 'eggs' }), by: 'phone' };

  it("double-counts the common ancestor's milk and brings the removed eggs back (the issue's scenario: milk 5, eggs 1)", () => {
    expect(laptop.items).toEqual({ eggs: 1, milk: 3 });
    expect(phone.items).toEqual({ milk: 2 });
    expect(naiveUnionSum([laptop, phone])).toEqual({ items: { eggs: 1, milk: 5 }, by: 'laptop + phone' });
  });

  it('is order-independent (a valid merge function) yet not idempotent: merging a cart with itself doubles it', () => {
    expect(naiveUnionSum([phone, laptop])).toEqual(naiveUnionSum([laptop, phone]));
    expect(naiveUnionSum([phone, phone]).items).toEqual({ milk: 4 });
  });
});

describe('whole-cart edits', () => {
  it('an item at zero leaves the cart; items stay sorted', () => {
    expect(applyEdit({ milk: 1 }, { kind: 'add', item: 'milk', by: -1 })).toEqual({});
    expect(Object.keys(applyEdit({ milk: 1 }, { kind: 'add', item: 'bread', by: 2 }))).toEqual(['bread', 'milk']);
    expect(applyEdit({ milk: 3 }, { kind: 'remove', item: 'milk' })).toEqual({});
  });
});
