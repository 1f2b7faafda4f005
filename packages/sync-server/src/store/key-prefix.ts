/**
 * The exclusive upper bound of the keys that start with `prefix`, in SQLite's BINARY order
 * (UTF-8 bytes, which is code point order): `prefix ≤ key < bound` holds exactly for the keys
 * starting with `prefix`. `undefined` when there is no bound (the prefix is only U+10FFFF
 * characters). Range bounds instead of `LIKE`: no pattern characters to escape, and an index
 * can serve them. `prefix` must be well-formed UTF-16 and non-empty.
 *
 * @example
 * ```ts
 * prefixUpperBound('cart:'); // → 'cart;'
 * ```
 */
export function prefixUpperBound(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0) {
    // The last code point before `end` starts one unit back, or two for a surrogate pair.
    const start = end >= 2 && prefix.codePointAt(end - 2)! > 0xffff ? end - 2 : end - 1;
    const last = prefix.codePointAt(start)!;
    if (last < 0x10ffff) {
      // Surrogate code points never occur in well-formed strings: step over them.
      return prefix.slice(0, start) + String.fromCodePoint(last + 1 === 0xd800 ? 0xe000 : last + 1);
    }
    end = start;
  }
  return undefined;
}
