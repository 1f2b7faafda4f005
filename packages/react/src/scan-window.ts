import type { Doc, WatchEvent } from '@converge/client';

/**
 * The first `limit` documents of a scan (in key order) after `events`, or undefined when they
 * cannot be known without reading again: a key left a full window, so the next key after it,
 * which the window never held, may now belong to it. Documents not changed keep their object.
 */
export function applyToWindow<T>(docs: readonly Doc<T>[], events: readonly WatchEvent<T>[], limit: number): readonly Doc<T>[] | undefined {
  const out = [...docs];
  for (const { key, doc } of events) {
    let at = 0;
    while (at < out.length && out[at]!.key < key) at++;
    const held = out[at]?.key === key;
    if (doc === undefined) {
      if (!held) continue;
      if (out.length >= limit) return undefined;
      out.splice(at, 1);
    } else if (held) {
      out[at] = doc;
    } else if (at < limit) {
      out.splice(at, 0, doc);
      if (out.length > limit) out.pop();
    }
  }
  return out;
}
