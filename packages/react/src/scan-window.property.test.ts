import type { Doc, WatchEvent } from '@converge/client';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyToWindow } from './scan-window.js';

const doc = (key: string, value: number) => ({ key, value }) as unknown as Doc<number>;

/** The first `limit` documents of `model` in key order: what a fresh scan returns. */
const scanOf = (model: ReadonlyMap<string, Doc<number>>, limit: number) =>
  [...model.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, limit);

const key: fc.Arbitrary<string> = fc.constantFrom('a', 'b', 'ba', 'c', 'd', 'e', 'f', 'g');
const batch = fc.array(fc.tuple(key, fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined })), { minLength: 1, maxLength: 4 });

describe('applyToWindow', () => {
  it('equals a fresh scan after every batch of changes (reading again only when it says so), keeping unchanged documents', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.integer())), fc.array(batch, { maxLength: 12 }), fc.integer({ min: 0, max: 6 }), (initial, batches, limit) => {
        const model = new Map(initial.map(([k, v]) => [k, doc(k, v)]));
        let window: readonly Doc<number>[] = scanOf(model, limit);
        for (const changes of batches) {
          const events: WatchEvent<number>[] = changes.map(([k, v]) => ({ key: k, doc: v === undefined ? undefined : doc(k, v) }));
          for (const e of events) {
            if (e.doc === undefined) model.delete(e.key);
            else model.set(e.key, e.doc);
          }
          const before = new Map(window.map((d) => [d.key, d]));
          const next = applyToWindow(window, events, limit);
          window = next ?? scanOf(model, limit);
          expect(window).toEqual(scanOf(model, limit));
          if (next === undefined) continue;
          const changed = new Set(events.map((e) => e.key));
          for (const d of next) if (!changed.has(d.key)) expect(d).toBe(before.get(d.key));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads again only when a key leaves a full window', () => {
    const window = [doc('a', 1), doc('b', 2)];
    expect(applyToWindow(window, [{ key: 'a', doc: undefined }], 2)).toBeUndefined();
    expect(applyToWindow(window, [{ key: 'a', doc: undefined }], 3)).toEqual([doc('b', 2)]);
    expect(applyToWindow(window, [{ key: 'z', doc: undefined }], 2)).toEqual(window); // a key it never held
    expect(applyToWindow(window, [{ key: 'c', doc: doc('c', 3) }], 2)).toEqual(window); // beyond a full window
    expect(applyToWindow(window, [{ key: '0', doc: doc('0', 0) }], 2)).toEqual([doc('0', 0), doc('a', 1)]);
  });
});
