import { describe, expect, it } from 'vitest';
import { namesStandby, parseSynchronousStandbyNames } from './pg-replication-setting.js';

describe('parseSynchronousStandbyNames', () => {
  it.each([
    ['ANY 1 (s1, s2)', { method: 'ANY', k: 1, names: ['s1', 's2'] }],
    ['any 2 (s1,s2,s3)', { method: 'ANY', k: 2, names: ['s1', 's2', 's3'] }],
    ['FIRST 1 (s1, s2)', { method: 'FIRST', k: 1, names: ['s1', 's2'] }],
    ['First 2(s2 , s1)', { method: 'FIRST', k: 2, names: ['s2', 's1'] }],
    ['2 (s1, s2, s3)', { method: 'FIRST', k: 2, names: ['s1', 's2', 's3'] }],
    ['s1, s2', { method: 'FIRST', k: 1, names: ['s1', 's2'] }],
    ['s1', { method: 'FIRST', k: 1, names: ['s1'] }],
    ['*', { method: 'FIRST', k: 1, names: ['*'] }],
    ['ANY 1 (*)', { method: 'ANY', k: 1, names: ['*'] }],
    ['ANY 1 ("my standby", "a""b", "ANY", 42, _x$1)', { method: 'ANY', k: 1, names: ['my standby', 'a"b', 'ANY', '42', '_x$1'] }],
    ['\tANY\n1 ( s1 )  ', { method: 'ANY', k: 1, names: ['s1'] }],
  ])('reads %j as PostgreSQL does', (text, setting) => {
    expect(parseSynchronousStandbyNames(text)).toEqual(setting);
  });

  it("reads '' as no synchronous standby", () => {
    expect(parseSynchronousStandbyNames('')).toBeNull();
  });

  it.each([
    'ANY (s1)',
    'ANY 0 (s1)',
    'FIRST 0 (s1)',
    'ANY 1 (s1',
    'ANY 1 s1',
    's1 s2',
    'ANY 1 ()',
    'ANY 1 (s1) s2',
    '"unterminated',
    's1,',
    ', s1',
    'ANY',
    'any, s1',
    '   ',
    's-1',
  ])('refuses %j with a ConvergeError internal, as PostgreSQL refuses it', (text) => {
    expect(() => parseSynchronousStandbyNames(text)).toThrow(expect.objectContaining({ code: 'internal' }));
  });
});

describe('namesStandby', () => {
  it('matches application_name case-insensitively, and * matches any', () => {
    const setting = parseSynchronousStandbyNames('ANY 1 (S1, "s2")')!;
    expect(namesStandby(setting, 's1')).toBe(true);
    expect(namesStandby(setting, 'S2')).toBe(true);
    expect(namesStandby(setting, 's3')).toBe(false);
    expect(namesStandby(parseSynchronousStandbyNames('*')!, 'anything')).toBe(true);
  });
});
