import { describe, expect, it } from 'vitest';
import { accepted, refusal, type Wire } from '../testing/refusal.js';

const confirm = (): Wire => ({ type: 'confirm', id: 'p-20', level: 'quorum' });

describe('confirm', () => {
  it('decodes a later level of a push, with or without a code', () => {
    expect(accepted(confirm())).toEqual({ type: 'confirm', id: 'p-20', level: 'quorum' });
    expect(accepted({ ...confirm(), level: 'relay', code: 'quorum_unavailable' })).toEqual({
      type: 'confirm',
      id: 'p-20',
      level: 'relay',
      code: 'quorum_unavailable',
    });
    expect(accepted({ ...confirm(), code: 'ack_timeout' })).toMatchObject({ code: 'ack_timeout' });
  });

  const cases: [string, (w: Wire) => void, string][] = [
    ['id missing', (w) => delete w.id, 'confirm.id'],
    ['level local (a relay never confirms below its commit)', (w) => (w.level = 'local'), 'confirm.level'],
    ['level unknown', (w) => (w.level = 'majority'), 'confirm.level'],
    ['a code that is no shortfall', (w) => (w.code = 'forbidden'), 'confirm.code'],
  ];
  for (const [name, mutate, path] of cases) {
    it(`refuses ${name} (${path})`, () => {
      const wire = confirm();
      mutate(wire);
      expect(refusal(wire)).toMatchObject({ code: 'bad_message', path });
    });
  }
});
