import { createHash } from 'node:crypto';
import type { Dot } from '@converge/conflict';

/** `h(0)`: the chain hash of an empty log, 32 zero bytes in base64url. */
export const CHAIN_HASH_ZERO = 'A'.repeat(43);

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
  const fields = [previous, collection, key, dot[0], String(dot[1])];
  let size = 0;
  for (const field of fields) size += 4 + Buffer.byteLength(field, 'utf8');
  const bytes = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const field of fields) {
    const length = bytes.write(field, offset + 4, 'utf8');
    bytes.writeUInt32BE(length, offset);
    offset += 4 + length;
  }
  return createHash('sha256').update(bytes).digest('base64url');
}
