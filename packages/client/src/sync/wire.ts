import type { Result } from '@converge/conflict';
import { DEFAULT_DECODE_LIMITS, decodeRelayFrame, PROTOCOL_VERSION, utf8ByteLength, type DecodeLimits, type RelayFrame } from '@converge/protocol';

export { encodeClientFrame } from '@converge/protocol';

/**
 * The client's one door to the wire format: frames out are encoded here, frames in are
 * validated here. Nothing else in the client touches frame text, so a new protocol version
 * changes this module (and `values.ts` for value slots) only.
 */
export const CLIENT_PROTOCOL = PROTOCOL_VERSION;

export interface Received {
  readonly frame: RelayFrame;
  /**
   * A catch-up frame's size in UTF-8 bytes: what it used of the subscription's credit. Only
   * catch-up frames are measured (other frames carry their text length; nothing counts it).
   */
  readonly bytes: number;
}

/** Decodes an untrusted relay frame within `limits` (the last `welcome`'s, or the defaults before it). */
export function decodeRelayText(text: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Result<Received> {
  const decoded = decodeRelayFrame(text, limits);
  if (!decoded.ok) return decoded;
  const bytes = decoded.value.type === 'changes' && decoded.value.phase === 'catchup' ? utf8ByteLength(text) : text.length;
  return { ok: true, value: { frame: decoded.value, bytes } };
}

/** The encoded size of an outgoing frame in UTF-8 bytes (checked against `maxFrameBytes`). */
export function encodedBytes(text: string): number {
  return utf8ByteLength(text);
}
