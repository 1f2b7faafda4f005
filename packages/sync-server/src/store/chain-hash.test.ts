import { describe, expect, it } from 'vitest';
import { CHAIN_HASH_ZERO, chainHash } from './chain-hash.js';

const A = 'replicaAAAAAAAAAAAAAAA';

describe('chainHash', () => {
  it('keeps its exact format: stored cursors of every client depend on it', () => {
    // A changed formula would make every cursor in the field look like a forked log.
    expect(CHAIN_HASH_ZERO).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(chainHash(CHAIN_HASH_ZERO, 'carts', 'cart:1', [A, 1])).toBe('xL7IKxJqDlqEgUvdC-b8v5KXtAr8FI5do6Ph8UgaQ5c');
  });

  it('tells apart changes whose fields only concatenate alike', () => {
    const hashes = new Set([
      chainHash(CHAIN_HASH_ZERO, 'ab', 'c', [A, 1]),
      chainHash(CHAIN_HASH_ZERO, 'a', 'bc', [A, 1]),
      chainHash(CHAIN_HASH_ZERO, 'a', 'b', [A, 11]),
      chainHash(CHAIN_HASH_ZERO, 'a', 'b1', [A, 1]),
      chainHash(CHAIN_HASH_ZERO, 'a', 'b', [`${A}1`, 1]),
      chainHash(chainHash(CHAIN_HASH_ZERO, 'a', 'b', [A, 1]), 'a', 'b', [A, 1]),
    ]);
    expect(hashes.size).toBe(6);
  });
});
