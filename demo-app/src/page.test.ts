import { describe, expect, it } from 'vitest';
import type { KeyValue } from './edit-log.js';
import { Page } from './page.js';

const memoryKv = (): KeyValue => {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
};

const lastLine = (page: Page) => {
  let line: string | undefined;
  page.onHappened((l) => (line = l))();
  return line;
};

describe('"what just happened" of a page', () => {
  it("shows only its own devices' lines: a ?device=NAME window sharing localStorage with the page of three shows none of the other's", () => {
    const kv = memoryKv();
    const three = new Page(kv, ['phone', 'laptop', 'tablet']);
    three.happened('laptop', 'laptop reconnected: laptop +2 milk merged → milk 3', 1);
    const kitchen = new Page(kv, ['kitchen']);
    expect(lastLine(kitchen)).toBeUndefined();
    kitchen.happened('kitchen', 'kitchen reconnected: the cart did not change', 2);
    expect(lastLine(new Page(kv, ['phone', 'laptop', 'tablet']))).toBe('laptop reconnected: laptop +2 milk merged → milk 3');
    expect(lastLine(new Page(kv, ['kitchen']))).toBe('kitchen reconnected: the cart did not change');
  });

  it("after a reload shows the newest line of its devices; a ?device=NAME window of one of them shows that device's", () => {
    const kv = memoryKv();
    const page = new Page(kv, ['phone', 'laptop']);
    page.happened('phone', 'phone reconnected: phone +1 milk merged → milk 2', 5);
    page.happened('laptop', 'laptop reconnected: the cart did not change', 3);
    expect(lastLine(new Page(kv, ['phone', 'laptop']))).toBe('phone reconnected: phone +1 milk merged → milk 2');
    expect(lastLine(new Page(kv, ['laptop']))).toBe('laptop reconnected: the cart did not change');
  });
});
