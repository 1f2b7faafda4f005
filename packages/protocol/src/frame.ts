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
