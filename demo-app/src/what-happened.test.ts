import type { InspectedSibling } from '@converge/client';
import { describe, expect, it } from 'vitest';
import { joinedEntries, quantities } from './cart-entries.js';
import { describeReconnect, naiveErrors } from './what-happened.js';

const hlc = { wall: 1, logical: 0, replica: 'x' };
/** A cart sibling as `inspect` returns it: entries `[item, [[replica, counter, amount]]]` and the seen-set. */
const sibling = (entries: [string, [string, number, number][]][], seen: Record<string, number>, dot: [string, number]): InspectedSibling => ({
  dot,
  hlc,
  deleted: false,
  value: { s: entries, c: { v: seen } },
  confirmed: true,
  chosen: true,
});

// Base {milk 1 (phone:1), eggs 1 (phone:2)}; laptop adds 2 milk (laptop:1, laptop:2); phone adds 1 milk (phone:3) and removes eggs (phone:4).
const base = sibling(
  [
    ['eggs', [['P', 2, 1]]],
    ['milk', [['P', 1, 1]]],
  ],
  { P: 2 },
  ['P', 2],
);
const laptopSide = sibling(
  [
    ['eggs', [['P', 2, 1]]],
    [
      'milk',
      [
        ['P', 1, 1],
        ['L', 1, 1],
        ['L', 2, 1],
      ],
    ],
  ],
  { P: 2, L: 2 },
  ['L', 2],
);
const phoneSide = sibling(
  [
    [
      'milk',
      [
        ['P', 1, 1],
        ['P', 3, 1],
      ],
    ],
  ],
  { P: 4 },
  ['P', 4],
);
const names = new Map([
  ['P', 'phone'],
  ['L', 'laptop'],
]);

describe('the correct cart read from its siblings', () => {
  it('joins concurrent dot-stores: milk 4, and the eggs entry phone removed stays removed', () => {
    expect(quantities(joinedEntries([laptopSide, phoneSide]))).toEqual({ milk: 4 });
    expect(quantities(joinedEntries([phoneSide, laptopSide]))).toEqual({ milk: 4 });
  });

  it('keeps an entry the other sibling never saw (add wins over a concurrent remove)', () => {
    // laptop removed eggs (it saw phone:2) and added one again (laptop:3), concurrently with phone's edits
    const readdedByLaptop = sibling(
      [
        ['eggs', [['L', 3, 1]]],
        ['milk', [['P', 1, 1]]],
      ],
      { P: 2, L: 3 },
      ['L', 3],
    );
    expect(quantities(joinedEntries([readdedByLaptop, phoneSide]))).toEqual({ eggs: 1, milk: 2 });
  });
});

describe('"what just happened" after a reconnect', () => {
  const facts = {
    device: 'laptop',
    before: joinedEntries([base]),
    after: joinedEntries([laptopSide, phoneSide]),
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
