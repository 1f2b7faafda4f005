// Test support: turn frames into editable wire objects and read back how a decoder refuses them.
import type { ConvergeError } from '@converge/conflict';
import { decodeFrame, encodeFrame } from '../codec.js';
import type { Frame } from '../frame.js';
import type { DecodeLimits } from '../limits.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Wire = any;

/** The frame as parsed JSON, ready to be broken by a test. */
export function wireOf(frame: Frame): Wire {
  return JSON.parse(encodeFrame(frame)) as Wire;
}

/** How `decodeFrame` refuses this wire object (or JSON text); fails the test when it is accepted. */
export function refusal(wire: unknown, limits?: Partial<DecodeLimits>): { code: ConvergeError['code']; path: string | undefined; message: string } {
  const text = typeof wire === 'string' ? wire : JSON.stringify(wire);
  const result = decodeFrame(text, limits);
  if (result.ok) throw new Error(`accepted: ${text.slice(0, 300)}`);
  return { code: result.error.code, path: result.error.path, message: result.error.message };
}

/** Decodes a wire object that must be accepted. */
export function accepted(wire: unknown, limits?: Partial<DecodeLimits>): Frame {
  const result = decodeFrame(JSON.stringify(wire), limits);
  if (!result.ok) throw result.error;
  return result.value;
}
