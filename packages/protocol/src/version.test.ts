import { describe, expect, it } from 'vitest';
import { negotiateProtocol, PROTOCOL_VERSION } from './version.js';

describe('negotiateProtocol', () => {
  it('picks the newest version both sides speak, or none', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(negotiateProtocol(1)).toBe(1);
    expect(negotiateProtocol(9)).toBe(1);
    expect(negotiateProtocol(0)).toBeUndefined();
  });
});
