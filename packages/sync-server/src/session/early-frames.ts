import type { ClientFrame, RelayLimits } from '@converge/protocol';

/** Frames a client may send before `welcome` (pipelined behind `hello`) that wait for it; more is a flood. */
const EARLY_FRAMES = 32;

/** A frame and its size in UTF-8 bytes. */
export interface EarlyFrame {
  readonly frame: ClientFrame;
  readonly bytes: number;
}

/** Frames received while `hello` is being authenticated, dispatched after `welcome`; bounded. */
export class EarlyFrames {
  private readonly frames: EarlyFrame[] = [];
  private bytes = 0;

  constructor(private readonly limits: Pick<RelayLimits, 'maxFrameBytes'>) {}

  /** Holds a frame until `welcome`; the refusal (`rate_limited`) when that would pass the bound. */
  hold(frame: ClientFrame, bytes: number): string | undefined {
    this.bytes += bytes;
    const maxBytes = 2 * this.limits.maxFrameBytes;
    if (this.frames.length >= EARLY_FRAMES || this.bytes > maxBytes)
      return `at most ${EARLY_FRAMES} frames (${maxBytes} bytes) may wait for welcome: wait for it`;
    this.frames.push({ frame, bytes });
    return undefined;
  }

  /** The frames held, in the order they came; none are held after. */
  release(): EarlyFrame[] {
    return this.frames.splice(0);
  }
}
