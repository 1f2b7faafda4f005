import type { AckFrame } from './frames/ack.js';
import type { ChangesFrame } from './frames/changes.js';
import type { ConfirmFrame } from './frames/confirm.js';
import type { CreditFrame } from './frames/credit.js';
import type { ErrorFrame } from './frames/error-frame.js';
import type { PingFrame, PongFrame } from './frames/heartbeat.js';
import type { HelloFrame } from './frames/hello.js';
import type { PushFrame } from './frames/push.js';
import type { ReadResultFrame } from './frames/read-result.js';
import type { ReadFrame } from './frames/read.js';
import type { SubscribeFrame } from './frames/subscribe.js';
import type { WelcomeFrame } from './frames/welcome.js';

/** Frames a client sends to a relay. */
export type ClientFrame = HelloFrame | SubscribeFrame | PushFrame | ReadFrame | CreditFrame | PingFrame | PongFrame;
/** Frames a relay sends to a client. */
export type RelayFrame = WelcomeFrame | ChangesFrame | AckFrame | ConfirmFrame | ReadResultFrame | ErrorFrame | PingFrame | PongFrame;
/** Every frame of the protocol, discriminated by `type`. */
export type Frame = ClientFrame | RelayFrame;
export type FrameType = Frame['type'];
/** The frame type named `T`. */
export type FrameOf<T extends FrameType> = Extract<Frame, { readonly type: T }>;

export const CLIENT_FRAME_TYPES = ['hello', 'subscribe', 'push', 'read', 'credit', 'ping', 'pong'] as const satisfies readonly ClientFrame['type'][];
export const RELAY_FRAME_TYPES = [
  'welcome',
  'changes',
  'ack',
  'confirm',
  'read-result',
  'error',
  'ping',
  'pong',
] as const satisfies readonly RelayFrame['type'][];
export const FRAME_TYPES = [
  'hello',
  'welcome',
  'subscribe',
  'push',
  'ack',
  'confirm',
  'read',
  'read-result',
  'changes',
  'credit',
  'ping',
  'pong',
  'error',
] as const satisfies readonly FrameType[];

// Marked pure: a bundle that never asks (a client) leaves the sets out.
const clientTypes: ReadonlySet<string> = /* @__PURE__ */ new Set(CLIENT_FRAME_TYPES);
const relayTypes: ReadonlySet<string> = /* @__PURE__ */ new Set(RELAY_FRAME_TYPES);

export function isClientFrame(frame: Frame): frame is ClientFrame {
  return clientTypes.has(frame.type);
}

export function isRelayFrame(frame: Frame): frame is RelayFrame {
  return relayTypes.has(frame.type);
}

/**
 * Narrows a decoded frame by its type.
 *
 * @example
 * ```ts
 * const decoded = decodeFrame('{"type":"ping","t":1}');
 * if (decoded.ok && isFrameOf(decoded.value, 'push')) decoded.value.changes; // PushFrame
 * ```
 */
export function isFrameOf<T extends FrameType>(frame: Frame, type: T): frame is FrameOf<T> {
  return frame.type === type;
}

export const isHelloFrame = (frame: Frame): frame is HelloFrame => frame.type === 'hello';
export const isWelcomeFrame = (frame: Frame): frame is WelcomeFrame => frame.type === 'welcome';
export const isSubscribeFrame = (frame: Frame): frame is SubscribeFrame => frame.type === 'subscribe';
export const isPushFrame = (frame: Frame): frame is PushFrame => frame.type === 'push';
export const isAckFrame = (frame: Frame): frame is AckFrame => frame.type === 'ack';
export const isReadFrame = (frame: Frame): frame is ReadFrame => frame.type === 'read';
export const isReadResultFrame = (frame: Frame): frame is ReadResultFrame => frame.type === 'read-result';
export const isChangesFrame = (frame: Frame): frame is ChangesFrame => frame.type === 'changes';
export const isCreditFrame = (frame: Frame): frame is CreditFrame => frame.type === 'credit';
export const isPingFrame = (frame: Frame): frame is PingFrame => frame.type === 'ping';
export const isPongFrame = (frame: Frame): frame is PongFrame => frame.type === 'pong';
export const isErrorFrame = (frame: Frame): frame is ErrorFrame => frame.type === 'error';
