import { FRAME_ENVELOPE_BYTES } from '../relay-limits.js';

/** A frame packed from consecutive docs: its text and UTF-8 size, at most `maxFrameBytes`. */
export interface PackedFrame<D> {
  readonly docs: readonly D[];
  readonly text: string;
  readonly bytes: number;
}

/** A doc whose frame alone exceeds `maxFrameBytes` (a state stored before the limits were lowered). */
export interface OversizedDoc<D> {
  readonly oversized: D;
}

/** What one doc adds to a frame beyond its state: its key as JSON text, its seq and punctuation. */
export function docEnvelopeBytes(key: string): number {
  return Buffer.byteLength(JSON.stringify(key)) + 32;
}

/**
 * Packs `docs` into frames of at most `maxFrameBytes` and `maxDocs` docs, in order: consecutive
 * docs while their estimated sizes fit, a large doc alone. A frame whose encoding still exceeds the limit is
 * split in halves; a doc too large for any frame is handed back as `oversized`. Frames are
 * encoded lazily, one per step: `encode(docs, rest)` gets the frame's docs and how many docs
 * follow it, and returns the frame's text with its UTF-8 size.
 */
export function* packFrames<D>(
  docs: readonly D[],
  estimate: (doc: D) => number,
  encode: (docs: readonly D[], rest: number) => { readonly text: string; readonly bytes: number },
  maxFrameBytes: number,
  maxDocs: number,
): Generator<PackedFrame<D> | OversizedDoc<D>> {
  const budget = maxFrameBytes - FRAME_ENVELOPE_BYTES;
  let start = 0;
  while (start < docs.length) {
    let end = start;
    let bytes = 0;
    while (end < docs.length && end - start < maxDocs) {
      const cost = estimate(docs[end]!);
      if (end > start && bytes + cost > budget) break;
      bytes += cost;
      end++;
    }
    for (;;) {
      const slice = docs.slice(start, end);
      const { text, bytes: size } = encode(slice, docs.length - end);
      if (size <= maxFrameBytes) {
        yield { docs: slice, text, bytes: size };
        break;
      }
      if (end - start === 1) {
        yield { oversized: docs[start]! };
        break;
      }
      end = start + Math.ceil((end - start) / 2);
    }
    start = end;
  }
}
