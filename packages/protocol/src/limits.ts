/** Deepest nesting of arrays and objects in a frame, values included (the frame object is level 1). */
export const MAX_FRAME_DEPTH = 64;

/**
 * Levels above a value slot at its deepest position (a general state in a frame: `frame → list →
 * item → state → s → sibling`): a value slot sits at level 7, so a value may nest this much less.
 */
export const VALUE_SLOT_DEPTH = 6;

/**
 * Deepest a value slot may nest, in either form (`{json, meta}` or bare JSON), so that every
 * frame carrying it stays within `MAX_FRAME_DEPTH`; `encodeValue` refuses deeper values.
 */
export const MAX_VALUE_DEPTH = MAX_FRAME_DEPTH - VALUE_SLOT_DEPTH;

/** What `decodeFrame` enforces besides the shape of each frame. */
export interface DecodeLimits {
  /** Largest frame, in UTF-8 bytes; larger → `payload_too_large`. */
  readonly maxFrameBytes: number;
  /**
   * Most items in any one list or map of a frame: changes of a push, docs of a `changes` or
   * `read-result`, keys of a read, results of an ack, subscriptions, collections. More →
   * `payload_too_large`.
   */
  readonly maxChangesPerFrame: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxChangesPerFrame: 1000,
});

/**
 * The limits a relay announces in `welcome`. It is a `DecodeLimits`, so a client can pass
 * `welcome.limits` straight to `decodeFrame`.
 */
export interface RelayLimits extends DecodeLimits {
  /** Largest encoded value (one sibling's `{json, meta}` as JSON text), in UTF-8 bytes. */
  readonly maxValueBytes: number;
  /**
   * Largest merged state of one key (every sibling and its context, as the relay stores it), in
   * UTF-8 bytes; a push that would make a key's state larger is refused with `payload_too_large`.
   * Below `maxFrameBytes`, so that one key always fits in one frame.
   */
  readonly maxStateBytes: number;
  /** How far ahead of the relay's clock a pushed write's HLC wall time may be, in ms. */
  readonly maxClockSkewMs: number;
  /** Most siblings a key may reach through client pushes before a push is refused (`too_many_siblings`). */
  readonly maxSiblingsPerKey: number;
  /** Catch-up bytes the relay sends per connection (shared by its subscriptions) before it waits for the client's `credit`. */
  readonly catchupWindowBytes: number;
  /** How often a client should send `ping` when the connection is otherwise quiet, in ms. */
  readonly heartbeatMs: number;
  /** A connection silent this long (no frame at all) is closed by the relay, in ms. */
  readonly idleTimeoutMs: number;
}

export const RELAY_LIMIT_NAMES = [
  'maxFrameBytes',
  'maxChangesPerFrame',
  'maxValueBytes',
  'maxStateBytes',
  'maxClockSkewMs',
  'maxSiblingsPerKey',
  'catchupWindowBytes',
  'heartbeatMs',
  'idleTimeoutMs',
] as const satisfies readonly (keyof RelayLimits)[];
