import { describe, expect, it } from 'vitest';
import { LOCAL_ERROR_CODES } from '../error-codes.js';
import { accepted, refusal } from '../testing/refusal.js';

describe('error', () => {
  it('carries a known code, a message, and optionally the frame id and collection it concerns', () => {
    expect(accepted({ type: 'error', code: 'unauthorized', message: 'token expired' })).toEqual({
      type: 'error',
      code: 'unauthorized',
      message: 'token expired',
    });
    expect(accepted({ type: 'error', code: 'rate_limited', message: '', id: 'p-1', collection: 'c' })).toMatchObject({ id: 'p-1', collection: 'c' });
  });
  it('refuses unknown codes, long messages, bad ids', () => {
    expect(refusal({ type: 'error', code: 'teapot', message: '' })).toMatchObject({ path: 'error.code' });
    expect(refusal({ type: 'error', code: 'internal', message: 'x'.repeat(4097) })).toMatchObject({ path: 'error.message' });
    expect(refusal({ type: 'error', code: 'internal', message: '', id: '' })).toMatchObject({ path: 'error.id' });
    expect(refusal({ type: 'error', code: 'internal', message: '', collection: '__proto__' })).toMatchObject({ path: 'error.collection' });
  });
  it('refuses the codes only a client raises for its own conditions: no relay sends them', () => {
    for (const code of LOCAL_ERROR_CODES) expect(refusal({ type: 'error', code, message: '' }), code).toMatchObject({ path: 'error.code' });
    expect(accepted({ type: 'error', code: 'storage_quota', message: 'disk full' })).toMatchObject({ code: 'storage_quota' });
  });
});
