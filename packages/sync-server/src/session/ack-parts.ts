import { encodeFrame, WIRE_ERROR_CODES, type AckFrame, type ChangeResult, type PushedChange } from '@converge/protocol';

const bytes = (text: string) => Buffer.byteLength(text);

/**
 * Bytes one result can take at most without `current`, plus its part's envelope, when its
 * message is empty: a key of 1,024 code units JSON-escaped (6 bytes each at worst), a collection
 * name, a frame id and a replica id at their longest, the longest code and the fields' names.
 * At or above this `maxFrameBytes`, every change's result fits in a frame of its own.
 */
const BARE_RESULT_BOUND = 8 * 1024;

const LONGEST_CODE = WIRE_ERROR_CODES.reduce((a, b) => (b.length > a.length ? b : a));

/**
 * Why the answer to this push could not fit in frames of `maxFrameBytes`, or `undefined`: some
 * change's result alone (refused, with an empty message) would be larger than a frame. Only a
 * relay configured with frames smaller than `BARE_RESULT_BOUND` can meet this.
 */
export function ackRoomProblem(id: string, changes: readonly PushedChange[], maxFrameBytes: number): string | undefined {
  if (maxFrameBytes >= BARE_RESULT_BOUND) return undefined;
  for (const [i, { collection, key, delta }] of changes.entries()) {
    const dot = delta.siblings[delta.siblings.length - 1]!.dot;
    const result: ChangeResult = { collection, key, dot, status: 'rejected', code: LONGEST_CODE, message: '' };
    const size = bytes(encodeFrame({ type: 'ack', id, level: 'quorum', results: [result], more: true }));
    if (size > maxFrameBytes) {
      return `push ${id}: the answer to changes[${i}] takes ${size} bytes, more than maxFrameBytes = ${maxFrameBytes}: use shorter keys or a relay with larger frames`;
    }
  }
  return undefined;
}

/** `result` with its message cut until it takes at most `room` bytes in its part (`size`: its bytes now). */
function shortened(result: ChangeResult, size: number, room: number, measure: (r: ChangeResult) => number): ChangeResult {
  if (result.status !== 'rejected') return result;
  let message = result.message;
  let cut: ChangeResult = result;
  // Each character removed frees at least one byte; a surrogate pair goes whole.
  while (size > room && message.length > 0) {
    let end = Math.max(0, message.length - (size - room));
    if (end > 0 && /[\uD800-\uDBFF]/.test(message[end - 1]!)) end--;
    message = message.slice(0, end);
    cut = { ...result, message };
    size = measure(cut);
  }
  return cut;
}

/**
 * The answer to one push as `ack` frame texts, each within `maxFrameBytes`, together holding one
 * result per pushed change in push order. One frame when it fits; else the states refusals
 * carry (`current`) are left out (the subscription or a `read` brings them), so an answer
 * never grows by more than a bounded size per change; and when the results still do not fit,
 * they are split over parts, each but the last marked `more: true`. A result too large for a
 * part of its own (a long message) has its message shortened; `ackRoomProblem` refused, before
 * the commit, any push one of whose results would not fit even then.
 */
export function ackFrames(ack: AckFrame, maxFrameBytes: number): string[] {
  const whole = encodeFrame(ack);
  if (bytes(whole) <= maxFrameBytes) return [whole];
  const bare = ack.results.map((result): ChangeResult => {
    if (result.status !== 'rejected' || result.current === undefined) return result;
    const { current: _left, ...rest } = result;
    return rest;
  });
  const single = encodeFrame({ ...ack, results: bare });
  if (bytes(single) <= maxFrameBytes) return [single];

  // A part is its envelope and its results joined by commas; the envelope with `more` is the larger.
  const envelope = bytes(encodeFrame({ ...ack, results: [], more: true }));
  const room = maxFrameBytes - envelope;
  const measure = (r: ChangeResult) => bytes(encodeFrame({ ...ack, results: [r], more: true })) - envelope;
  const parts: ChangeResult[][] = [];
  let part: ChangeResult[] = [];
  let used = 0;
  for (const result of bare) {
    let size = measure(result);
    const fitted = size > room ? shortened(result, size, room, measure) : result;
    if (fitted !== result) size = measure(fitted);
    if (part.length > 0 && used + 1 + size > room) {
      parts.push(part);
      part = [];
      used = 0;
    }
    used += part.length === 0 ? size : size + 1;
    part.push(fitted);
  }
  parts.push(part);
  return parts.map((results, i) => encodeFrame(i < parts.length - 1 ? { ...ack, results, more: true } : { ...ack, results }));
}
