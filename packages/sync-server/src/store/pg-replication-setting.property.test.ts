import fc from 'fast-check';
import { propertyOptions } from '@converge/conflict/testing';
import { describe, expect, it } from 'vitest';
import { formatSynchronousStandbyNames, parseSynchronousStandbyNames, type SynchronousSetting } from './pg-replication-setting.js';

const arbName = fc.oneof(
  fc.constantFrom('s1', 's2', '*', 'any', 'FIRST', '42', 'a b', 'x"y', 'é', '_a$1'),
  fc.string({ minLength: 1, maxLength: 8 }).filter((name) => !name.includes('\0')),
);
const arbSetting: fc.Arbitrary<SynchronousSetting> = fc.record({
  method: fc.constantFrom('ANY' as const, 'FIRST' as const),
  k: fc.integer({ min: 1, max: 5 }),
  names: fc.array(arbName, { minLength: 1, maxLength: 5 }),
});

describe('synchronous_standby_names text', () => {
  it('reads back every setting it writes', () => {
    fc.assert(
      fc.property(arbSetting, (setting) => {
        expect(parseSynchronousStandbyNames(formatSynchronousStandbyNames(setting))).toEqual(setting);
      }),
      propertyOptions(),
    );
  });
});
