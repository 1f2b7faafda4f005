import type { CrdtEntry, InspectedSibling, Inspection } from '@converge/client';
import { describe, expect, it } from 'vitest';
import { cartEntries, quantities } from './cart-entries.js';
import { describeReconnect, naiveErrors } from './what-happened.js';

/** `milk:P:1` is 1 milk added by the write P:1; a leading `-` marks an entry the join drops. */
const entry = (text: string): CrdtEntry => {
  const dropped = text.startsWith('-');
  const [item, replica, counter, amount = '1'] = text.replace(/^-/, '').split(':') as [string, string, string, string?];
  return { dot: [replica, Number(counter)], key: item, value: Number(amount), kept: !dropped };
};

/** A cart as `inspect` returns it: its siblings with their typed entries (only what the demo reads is filled in). */
const cart = (...siblings: string[][]): Inspection => ({
  collection: 'cart',
  key: 'family-cart',
  strategy: 'cart',
  mode: 'multi-leader',
  rule: '',
  exists: true,
  context: { v: {} },
  seq: 0,
  pending: [],
  siblings: siblings.map((entries, i): InspectedSibling => ({
    dot: ['x', i + 1],
    hlc: { wall: 1, logical: 0, replica: 'x' },
    deleted: false,
    value: undefined,
    entries: entries.map(entry),
    confirmed: true,
    chosen: true,
  })),
});

// Base {milk 1 (phone:1), eggs 1 (phone:2)}; laptop adds 2 milk (laptop:1, laptop:2); phone adds 1 milk (phone:3) and removes eggs.
const base = cart(['eggs:P:2', 'milk:P:1']);
const merged = cart(['-eggs:P:2', 'milk:P:1', 'milk:L:1', 'milk:L:2'], ['milk:P:1', 'milk:P:3']);
const names = new Map([
  ['P', 'phone'],
  ['L', 'laptop'],
]);

describe('the correct cart read from its inspection', () => {
  it('counts each entry the join keeps once, however many siblings hold it, and none it drops: milk 4, no eggs', () => {
    expect(quantities(cartEntries(merged))).toEqual({ milk: 4 });
    expect(cartEntries(merged).map((e) => `${e.item}:${e.replica}:${e.counter}`)).toEqual(['milk:P:1', 'milk:L:1', 'milk:L:2', 'milk:P:3']);
    expect(quantities(cartEntries(cart(['milk:P:1:3', 'eggs:L:3'], ['-eggs:P:2'])))).toEqual({ milk: 3, eggs: 1 });
  });
});

describe('"what just happened" after a reconnect', () => {
  const facts = {
    device: 'laptop',
    before: cartEntries(base),
    after: cartEntries(merged),
    names,
    removedBy: new Map([['eggs', 'phone']]),
    naive: { eggs: 1, milk: 5 },
    lww: { winner: { items: { milk: 2 }, by: 'phone' }, losers: [{ items: { eggs: 1, milk: 3 }, by: 'laptop' }] },
    refusals: [],
  };

  it("names each device's additions, the merged result, the removal, and what the wrong carts did", () => {
    expect(describeReconnect(facts)).toBe(
      "laptop reconnected: laptop +2 milk, phone +1 milk merged → milk 4 · eggs removed by phone · naive cart: eggs 1 came back, milk 5 double-counted · LWW cart kept phone's, hides laptop's (eggs 1, milk 3)",
    );
  });

  it('says when the remover is not a device of this page', () => {
    expect(describeReconnect({ ...facts, removedBy: new Map() })).toContain('eggs removed on another device');
  });

  it('says when nothing changed, with the refusals that came back', () => {
    const line = describeReconnect({ ...facts, after: facts.before, refusals: ["phone's purchase of the last mug was refused by the relay"] });
    expect(line).toBe("laptop reconnected: the cart did not change · phone's purchase of the last mug was refused by the relay");
  });

  it('names unknown replicas by a short id', () => {
    expect(describeReconnect({ ...facts, names: new Map() })).toContain('L +2 milk, P +1 milk merged');
  });
});

describe('naive cart errors', () => {
  it('tells double counting, resurrection and loss apart', () => {
    expect(naiveErrors({ milk: 5, eggs: 1 }, { milk: 4 })).toEqual(['eggs 1 came back', 'milk 5 double-counted']);
    expect(naiveErrors({}, { bread: 1 })).toEqual(['bread lost']);
    expect(naiveErrors({ milk: 4 }, { milk: 4 })).toEqual([]);
  });
});
