import { describe, expect, it } from 'vitest';
import { collectionNameProblem, documentKeyProblem, idProblem, keyPrefixProblem } from './names.js';

describe('collection names', () => {
  it('accept 1 to 128 characters of A-Z a-z 0-9 _ . -', () => {
    for (const name of ['c', 'carts', 'app.v2_orders-eu', 'x'.repeat(128)]) expect(collectionNameProblem(name), name).toBeUndefined();
  });
  it('refuse empty, long, other characters, reserved names and non-strings, each for its reason', () => {
    const shape = 'collection name must be 1 to 128 characters of A-Z a-z 0-9 _ . -';
    for (const name of ['', 'x'.repeat(129), 'a b', 'a/b', 'é', 1, null]) expect(collectionNameProblem(name), String(name)).toBe(shape);
    for (const name of ['__proto__', 'constructor', 'prototype']) expect(collectionNameProblem(name)).toBe(`'${name}' is reserved`);
  });
});

describe('document keys', () => {
  it('accept any string of 1 to 1024 characters', () => {
    for (const key of ['k', 'user 7/cart ☕', 'x'.repeat(1024), '\u0000', 'toString']) expect(documentKeyProblem(key)).toBeUndefined();
  });
  it('refuse empty, longer than 1024, reserved names and non-strings, each for its reason', () => {
    for (const key of ['', 'x'.repeat(1025), 7, undefined]) expect(documentKeyProblem(key), String(key)).toBe('key must be a string of 1 to 1024 characters');
    for (const key of ['__proto__', 'constructor', 'prototype']) expect(documentKeyProblem(key)).toBe(`'${key}' is reserved`);
  });
  it('a key prefix may be anything a key may start with', () => {
    expect(keyPrefixProblem('constructor')).toBeUndefined();
    for (const prefix of ['', 'x'.repeat(1025), 3]) expect(keyPrefixProblem(prefix)).toBe('prefix must be a string of 1 to 1024 characters');
  });
});

describe('ids', () => {
  it('accept 1 to 128 characters of A-Z a-z 0-9 _ . : -, never a reserved name', () => {
    for (const id of ['p-17', 'replica:42', 'a.b_c']) expect(idProblem(id)).toBeUndefined();
    for (const id of ['', 'x'.repeat(129), 'a b', 3]) expect(idProblem(id), String(id)).toBe('id must be 1 to 128 characters of A-Z a-z 0-9 _ . : -');
    for (const id of ['__proto__', 'prototype']) expect(idProblem(id)).toBe(`'${id}' is reserved`);
  });
});
