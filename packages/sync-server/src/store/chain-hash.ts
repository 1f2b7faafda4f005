import * as crypto from 'node:crypto';
import type { Dot } from '@converge/conflict';

/** `h(0)`: the chain hash of an empty log, 32 zero bytes in base64url. */
export const CHAIN_HASH_ZERO = 'A'.repeat(43);

// One-shot hashing (Node ≥ 20.12) costs half of createHash().update().digest(): no Hash object per link.
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'base64url') => string }).hash;
const sha256 =
  oneShot !== undefined
    ? (bytes: Buffer) => oneShot('sha256', bytes, 'base64url')
    : (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('base64url');

/**
 * One link of a collection's chain hash: `h(seq) = H(h(seq − 1), collection, key, dot)`.
 * SHA-256 over length-prefixed UTF-8 fields (4-byte big-endian byte length, then the bytes):
 * the previous hash, the collection, the key, the dot's replica id and its counter in decimal.
 * The result is base64url (43 characters). Deterministic: two logs holding the same changes in
 * the same order have the same hashes, and a log that forked differs from the fork on.
 *
 * @example
 * ```ts
 * const h1 = chainHash(CHAIN_HASH_ZERO, 'carts', 'cart:1', ['B5kR2xq0fD1mWc7tNe4yZa', 1]);
 * ```
 */
export function chainHash(previous: string, collection: string, key: string, dot: Dot): string {
  const counter = String(dot[1]);
  const size = 20 + Buffer.byteLength(previous) + Buffer.byteLength(collection) + Buffer.byteLength(key) + Buffer.byteLength(dot[0]) + counter.length;
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  const field = (text: string) => {
    const length = bytes.write(text, offset + 4, 'utf8');
    bytes.writeUInt32BE(length, offset);
    offset += 4 + length;
  };
  field(previous);
  field(collection);
  field(key);
  field(dot[0]);
  field(counter);
  return sha256(bytes);
}
