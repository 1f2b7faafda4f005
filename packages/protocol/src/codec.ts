import { fail, type Result } from '@converge/conflict';
import { tooLarge, type JsonObject } from './field-checks.js';
import { CLIENT_FRAME_TYPES, FRAME_TYPES, RELAY_FRAME_TYPES, type ClientFrame, type Frame, type FrameType, type RelayFrame } from './frame.js';
import { ackToJson, decodeAck } from './frames/ack.js';
import { changesToJson, decodeChanges } from './frames/changes.js';
import { decodeConfirm } from './frames/confirm.js';
import { decodeCredit } from './frames/credit.js';
import { decodeError } from './frames/error-frame.js';
import { decodeHeartbeat } from './frames/heartbeat.js';
import { decodeHello } from './frames/hello.js';
import { decodePush, pushToJson } from './frames/push.js';
import { decodeReadResult, readResultToJson } from './frames/read-result.js';
import { decodeRead } from './frames/read.js';
import { decodeSubscribe } from './frames/subscribe.js';
import { decodeWelcome } from './frames/welcome.js';
import { jsonShapeProblem } from './json-shape.js';
import { DEFAULT_DECODE_LIMITS, MAX_FRAME_DEPTH, type DecodeLimits } from './limits.js';
import { utf8ByteLength } from './utf8-length.js';

/**
 * Encodes a frame as JSON text (`PROTOCOL_VERSION`). The envelope is plain JSON in a compact shape; a
 * document state is written in its self-contained form (`stateToJson`), or, in a `changes`
 * frame, relative to the frame (`ChangesFrameBuilder`); values are carried as they are, a value
 * without superjson meta as its plain JSON. Trusts its input: it is a frame your own code built.
 *
 * @example
 * ```ts
 * encodeFrame({ type: 'ping', t: 1 }); // → '{"type":"ping","t":1}'
 * ```
 */
export function encodeFrame(frame: Frame): string {
  switch (frame.type) {
    case 'push':
      return JSON.stringify(pushToJson(frame));
    case 'ack':
      return JSON.stringify(ackToJson(frame));
    case 'changes':
      return JSON.stringify(changesToJson(frame));
    case 'read-result':
      return JSON.stringify(readResultToJson(frame));
    default:
      return JSON.stringify(frame);
  }
}

/**
 * `encodeFrame` for a client's own frames: the same text, without the encoders of frames only a
 * relay sends, so a client bundle leaves them out.
 */
export function encodeClientFrame(frame: ClientFrame): string {
  return JSON.stringify(frame.type === 'push' ? pushToJson(frame) : frame);
}

/**
 * The body decoders of the frames a relay sends, alone: `decodeRelayFrame` refuses every other
 * type before it decodes a body, so a client's bundle keeps none of the client frames' decoders.
 */
function decodeRelayBody(type: FrameType, json: JsonObject, maxItems: number): Result<Frame> {
  switch (type) {
    case 'welcome':
      return decodeWelcome(json, maxItems);
    case 'ack':
      return decodeAck(json, maxItems);
    case 'confirm':
      return decodeConfirm(json);
    case 'read-result':
      return decodeReadResult(json, maxItems);
    case 'changes':
      return decodeChanges(json, maxItems);
    case 'ping':
    case 'pong':
      return decodeHeartbeat(type, json);
    case 'error':
      return decodeError(json);
    default:
      return fail('frame.type', `'${type}' is not a frame a relay sends`);
  }
}

/** The body decoder of every frame: the frames only a client sends here, the others `decodeRelayBody`'s. */
function decodeBody(type: FrameType, json: JsonObject, maxItems: number): Result<Frame> {
  switch (type) {
    case 'hello':
      return decodeHello(json, maxItems);
    case 'subscribe':
      return decodeSubscribe(json, maxItems);
    case 'push':
      return decodePush(json, maxItems);
    case 'read':
      return decodeRead(json, maxItems);
    case 'credit':
      return decodeCredit(json);
    default:
      return decodeRelayBody(type, json, maxItems);
  }
}

// Marked pure: a bundle that decodes one side only (a client) leaves the other set out.
const frameTypes: ReadonlySet<string> = /* @__PURE__ */ new Set(FRAME_TYPES);
const fromClient: ReadonlySet<string> = /* @__PURE__ */ new Set(CLIENT_FRAME_TYPES);
const fromRelay: ReadonlySet<string> = /* @__PURE__ */ new Set(RELAY_FRAME_TYPES);

function validate(
  json: unknown,
  limits: Partial<DecodeLimits> | undefined,
  allowed: ReadonlySet<string> | undefined,
  sender: string,
  body: typeof decodeBody,
): Result<Frame> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('frame', 'a frame must be a JSON object');
  const proto: unknown = Object.getPrototypeOf(json);
  if (proto !== Object.prototype && proto !== null) return fail('frame', 'a frame must be a plain object');
  const type = (json as JsonObject)['type'];
  if (typeof type !== 'string') return fail('frame.type', 'type must be a string');
  if (!frameTypes.has(type)) return fail('frame.type', `unknown frame type ${JSON.stringify(type.slice(0, 32))}`);
  if (allowed !== undefined && !allowed.has(type)) return fail('frame.type', `'${type}' is not a frame ${sender} sends`);
  const shape = jsonShapeProblem(json, MAX_FRAME_DEPTH, type);
  if (shape !== undefined) return fail(shape.path, shape.message);
  return body(type as FrameType, json as JsonObject, limits?.maxChangesPerFrame ?? DEFAULT_DECODE_LIMITS.maxChangesPerFrame);
}

/**
 * Validates an already-parsed frame (e.g. one passed between tabs by structured clone) exactly
 * as `decodeFrame` does after parsing. Never throws.
 */
export function validateFrame(json: unknown, limits?: Partial<DecodeLimits>): Result<Frame> {
  return validate(json, limits, undefined, '', decodeBody);
}

function parse(text: unknown, limits: Partial<DecodeLimits> | undefined): Result<unknown> {
  if (typeof text !== 'string') return fail('frame', 'a frame is JSON text');
  const maxBytes = limits?.maxFrameBytes ?? DEFAULT_DECODE_LIMITS.maxFrameBytes;
  // Each UTF-16 unit is 1 to 3 UTF-8 bytes: count exactly only when the bounds disagree.
  if (text.length > maxBytes || (text.length * 3 > maxBytes && utf8ByteLength(text, maxBytes) > maxBytes)) {
    return tooLarge('frame', `frame exceeds the limit of ${maxBytes} bytes`);
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // SyntaxError for junk; some engines throw RangeError on very deep nesting.
    return fail('frame', 'frame is not valid JSON');
  }
}

/**
 * Decodes and validates an untrusted frame: byte size, JSON syntax, nesting depth (≤ 64,
 * values included), reserved keys, the shape and types of every field, string lengths, safe
 * integers, list sizes, every DocState invariant (via conflict's decoder) and value slots.
 * Never throws; never touches a prototype. Refusals are `bad_message`, or `payload_too_large`
 * for a frame over `maxFrameBytes` or a list over `maxChangesPerFrame`; `error.path` names
 * the field, e.g. `push.changes[2].delta.s[0]`.
 *
 * @example
 * ```ts
 * const result = decodeFrame('{"type":"ping","t":1}');
 * result.ok && result.value; // → { type: 'ping', t: 1 }
 * const bad = decodeFrame('{"type":"ping","t":-1}');
 * bad.ok || bad.error.path; // → 'ping.t'
 * ```
 */
export function decodeFrame(text: string, limits?: Partial<DecodeLimits>): Result<Frame> {
  const parsed = parse(text, limits);
  return parsed.ok ? validate(parsed.value, limits, undefined, '', decodeBody) : parsed;
}

/** `decodeFrame` for a relay reading a client: frames only a relay sends are refused (`bad_message`, path `frame.type`). */
export function decodeClientFrame(text: string, limits?: Partial<DecodeLimits>): Result<ClientFrame> {
  const parsed = parse(text, limits);
  return (parsed.ok ? validate(parsed.value, limits, fromClient, 'a client', decodeBody) : parsed) as Result<ClientFrame>;
}

/** `decodeFrame` for a client reading a relay: frames only a client sends are refused. */
export function decodeRelayFrame(text: string, limits?: Partial<DecodeLimits>): Result<RelayFrame> {
  const parsed = parse(text, limits);
  return (parsed.ok ? validate(parsed.value, limits, fromRelay, 'a relay', decodeRelayBody) : parsed) as Result<RelayFrame>;
}
