/**
 * The UTF-8 byte length of `text` (what a WebSocket text frame carries), counted without
 * allocating. Stops counting once the length exceeds `stopAbove`. A lone surrogate counts
 * 3 bytes, as its replacement character would.
 */
export function utf8ByteLength(text: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
    if (bytes > stopAbove) return bytes;
  }
  return bytes;
}
