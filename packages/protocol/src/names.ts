import { RESERVED_NAMES } from '@converge/conflict';

/** Longest collection name: 128 characters of `[A-Za-z0-9_.-]`. */
export const MAX_COLLECTION_NAME_LENGTH = 128;
/** Longest document key (and key prefix), in UTF-16 code units. */
export const MAX_KEY_LENGTH = 1024;
/** Longest frame id, relay id or lineage id. */
export const MAX_ID_LENGTH = 128;

const COLLECTION_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Why `value` is not a collection name, or `undefined`. Names become object keys (the
 * `collections` maps of `hello`/`welcome`), so `__proto__`, `constructor`, `prototype` are refused.
 *
 * @example
 * ```ts
 * collectionNameProblem('carts'); // → undefined
 * collectionNameProblem('__proto__'); // → "'__proto__' is reserved"
 * ```
 */
export function collectionNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || !COLLECTION_NAME.test(value)) {
    return `collection name must be 1 to ${MAX_COLLECTION_NAME_LENGTH} characters of A-Z a-z 0-9 _ . -`;
  }
  return RESERVED_NAMES.has(value) ? `'${value}' is reserved` : undefined;
}

/** Why `value` is not a document key: 1 to 1024 characters, never a reserved name. */
export function documentKeyProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) {
    return `key must be a string of 1 to ${MAX_KEY_LENGTH} characters`;
  }
  return RESERVED_NAMES.has(value) ? `'${value}' is reserved` : undefined;
}

/** Why `value` is not a key prefix for a subscription filter: 1 to 1024 characters. */
export function keyPrefixProblem(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_KEY_LENGTH
    ? undefined
    : `prefix must be a string of 1 to ${MAX_KEY_LENGTH} characters`;
}

/**
 * Why `value` is not an id: a frame id (`push.id`, `read.id`), a relay id or a lineage id.
 * 1 to 128 characters of `[A-Za-z0-9_.:-]`, never a reserved name.
 */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || !ID.test(value)) return `id must be 1 to ${MAX_ID_LENGTH} characters of A-Z a-z 0-9 _ . : -`;
  return RESERVED_NAMES.has(value) ? `'${value}' is reserved` : undefined;
}
