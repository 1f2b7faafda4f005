import { fail, ok, type Result } from '@converge/conflict';
import { safeIntegerProblem, type JsonObject } from '../field-checks.js';

/**
 * Either direction: an application-level heartbeat (browsers cannot send WebSocket pings).
 * The receiver answers with `pong` carrying the same `t`.
 *
 * @example
 * ```json
 * {"type":"ping","t":1767225600000}
 * ```
 */
export interface PingFrame {
  readonly type: 'ping';
  /** Chosen by the sender, echoed back: typically its clock in ms, for a round-trip time. */
  readonly t: number;
}

export interface PongFrame {
  readonly type: 'pong';
  readonly t: number;
}

export function decodeHeartbeat(type: 'ping' | 'pong', json: JsonObject): Result<PingFrame | PongFrame> {
  const problem = safeIntegerProblem(json['t'], 0);
  return problem === undefined ? ok({ type, t: json['t'] as number }) : fail(`${type}.t`, problem);
}
