import { describe, expect, it } from 'vitest';
import { collectionNameProblem, documentKeyProblem, idProblem, keyPrefixProblem } from './names.js';

describe('collection names', () => {
  it('accept 1 to 128 characters of A-Z a-z 0-9 _ . -', () => {
    for (const name of ['c', 'carts', 'app.v2_orders-eu', 'x'.repeat(128)]) expect(collectionNameProblem(name), name).toBeUndefined();
  });
  it('refuse empty, long, other characters, reserved names and non-strings', () => {
    for (const name of ['', 'x'.repeat(129), 'a b', 'a/b', 'é', '__proto__', 'constructor', 'prototype', 1, null]) {
      expect(collectionNameProblem(name), String(name)).toBeDefined();
    }
    expect(collectionNameProblem('__proto__')).toBe("'__proto__' is reserved");
  });
});

describe('document keys', () => {
  it('accept any string of 1 to 1024 characters', () => {
    for (const key of ['k', 'user 7/cart ☕', 'x'.repeat(1024), '\u0000', 'toString']) expect(documentKeyProblem(key)).toBeUndefined();
  });
  it('refuse empty, longer than 1024, reserved names and non-strings', () => {
    for (const key of ['', 'x'.repeat(1025), '__proto__', 'constructor', 'prototype', 7, undefined]) expect(documentKeyProblem(key)).toBeDefined();
  });
  it('a key prefix may be anything a key may start with', () => {
    expect(keyPrefixProblem('constructor')).toBeUndefined();
    expect(keyPrefixProblem('')).toBeDefined();
    expect(keyPrefixProblem('x'.repeat(1025))).toBeDefined();
  });
});

describe('ids', () => {
  it('accept 1 to 128 characters of A-Z a-z 0-9 _ . : -, never a reserved name', () => {
    for (const id of ['p-17', 'replica:42', 'a.b_c']) expect(idProblem(id)).toBeUndefined();
    for (const id of ['', 'x'.repeat(129), 'a b', '__proto__', 'prototype', 3]) expect(idProblem(id)).toBeDefined();
  });
});
