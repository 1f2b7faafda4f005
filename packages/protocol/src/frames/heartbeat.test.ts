import { describe, expect, it } from 'vitest';
import { accepted, refusal } from '../testing/refusal.js';

describe('ping and pong', () => {
  it('echo t', () => {
    expect(accepted({ type: 'ping', t: 0 })).toEqual({ type: 'ping', t: 0 });
    expect(accepted({ type: 'pong', t: 17 })).toEqual({ type: 'pong', t: 17 });
  });
  it('refuse a missing or non-integer t', () => {
    expect(refusal({ type: 'ping' })).toMatchObject({ code: 'bad_message', path: 'ping.t' });
    expect(refusal({ type: 'pong', t: 0.5 })).toMatchObject({ path: 'pong.t' });
  });
});
