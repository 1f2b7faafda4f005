import { ConvergeError } from '@converge/conflict';
import type { RelayLimits } from '@converge/protocol';

/** Bytes of a `changes` or `read-result` frame around its docs: type, ids, collection, watermark, cursor. */
export const FRAME_ENVELOPE_BYTES = 1024;

/** Room a frame needs around one key's state (its key, seq and the frame's envelope): at most 8 KiB, at most a quarter of the frame. */
function stateRoom(maxFrameBytes: number): number {
  return Math.min(8 * 1024, Math.floor(maxFrameBytes / 4));
}

/** The relay's default limits, announced in `welcome`. `maxStateBytes` is half a frame less the room around one state. */
export const DEFAULT_LIMITS: RelayLimits = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxChangesPerFrame: 1000,
  maxValueBytes: 256 * 1024,
  maxStateBytes: 512 * 1024 - 8 * 1024,
  maxClockSkewMs: 60_000,
  maxSiblingsPerKey: 100,
  catchupWindowBytes: 4 * 1024 * 1024,
  heartbeatMs: 15_000,
  idleTimeoutMs: 60_000,
});

/**
 * The defaults with `given` on top. Without a `maxStateBytes` of its own, a relay given a
 * `maxFrameBytes` gets half of it less the room around one state; a `maxStateBytes` that leaves
 * no such room is refused, since one key must always fit in one frame.
 */
export function resolveLimits(given: Partial<RelayLimits> = {}): RelayLimits {
  const maxFrameBytes = given.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes;
  const derived = given.maxFrameBytes === undefined ? DEFAULT_LIMITS.maxStateBytes : Math.floor(maxFrameBytes / 2) - stateRoom(maxFrameBytes);
  const limits: RelayLimits = { ...DEFAULT_LIMITS, ...given, maxStateBytes: given.maxStateBytes ?? derived };
  if (limits.maxStateBytes < 1 || limits.maxStateBytes > maxFrameBytes - stateRoom(maxFrameBytes)) {
    throw new ConvergeError(
      'bad_message',
      `limits.maxStateBytes (${limits.maxStateBytes}) must be between 1 and maxFrameBytes less ${stateRoom(maxFrameBytes)} bytes (${maxFrameBytes - stateRoom(maxFrameBytes)}), so that one key fits in one frame`,
    );
  }
  return Object.freeze(limits);
}
