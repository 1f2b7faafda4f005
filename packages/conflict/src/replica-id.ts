/** A replica's stable id: a short URL-safe string, at least 96 random bits when generated. */
export type ReplicaId = string;

export const MAX_REPLICA_ID_LENGTH = 64;
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Names that must never become object keys: refused as replica ids and as document keys. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Ids already found valid. A frame names the same few replicas over and over; remembering
 * them keeps validation off the decoder's hot path. Bounded: cleared when full.
 */
const known = new Set<string>();
const KNOWN_MAX = 4096;

/** Why `value` is not a valid replica id, or `undefined` when it is. */
export function replicaIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'replica id must be a string';
  if (known.has(value)) return undefined;
  if (value.length === 0 || value.length > MAX_REPLICA_ID_LENGTH) {
    return `replica id must have 1 to ${MAX_REPLICA_ID_LENGTH} characters`;
  }
  if (!ID_PATTERN.test(value)) return 'replica id may hold only A-Z a-z 0-9 _ -';
  if (RESERVED_NAMES.has(value)) return `'${value}' is reserved`;
  if (known.size >= KNOWN_MAX) known.clear();
  known.add(value);
  return undefined;
}

export function isReplicaId(value: unknown): value is ReplicaId {
  return replicaIdProblem(value) === undefined;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * A replica id from caller-supplied random bytes (this package reads no global randomness).
 * Takes 12 or more bytes: 16 bytes give 128 bits in 22 characters.
 *
 * @example
 * ```ts
 * const id = replicaIdFromBytes(crypto.getRandomValues(new Uint8Array(16)));
 * ```
 */
export function replicaIdFromBytes(bytes: Uint8Array): ReplicaId {
  if (bytes.length < 12) throw new RangeError('a replica id needs at least 12 random bytes (96 bits)');
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += ALPHABET[(buffer >> bits) & 63];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (6 - bits)) & 63];
  return out.slice(0, MAX_REPLICA_ID_LENGTH);
}
