import { ok, type Result } from '@converge/conflict';
import { firstProblem, oneOfProblem, type JsonObject } from '../field-checks.js';
import { idProblem } from '../names.js';
import { RELAY_ACK_LEVELS, type RelayAckLevel } from './ack.js';

/** Why a `confirm` falls short of the level its push asked for. */
export const CONFIRM_CODES = ['quorum_unavailable', 'ack_timeout'] as const;
export type ConfirmCode = (typeof CONFIRM_CODES)[number];

/**
 * relay → client: a later level for the changes a push got accepted, after its `ack`. A push
 * that asks for `quorum` or `all` is answered by its `ack` once the relay committed it (`level`
 * `relay`), then by a `confirm` for each higher level the relay's database confirms, up to the
 * level asked for. `code` says the level asked for is not confirmed:
 * - `quorum_unavailable`: the store cannot provide it (no synchronous standby, or not every
 *   configured standby streaming for `all`); `level` is the level reached, and no further
 *   `confirm` of this push follows.
 * - `ack_timeout`: not confirmed within the relay's wait; `level` is the level reached so far,
 *   and the relay keeps checking: a later `confirm` may still raise it.
 *
 * A `relay` push gets no `confirm`. A `confirm` names no result: it is about every accepted
 * change of its push.
 *
 * @example
 * ```json
 * {"type":"confirm","id":"p-17","level":"quorum"}
 * ```
 */
export interface ConfirmFrame {
  readonly type: 'confirm';
  /** The push's id. */
  readonly id: string;
  /** The highest level now confirmed for the push's accepted changes. */
  readonly level: RelayAckLevel;
  readonly code?: ConfirmCode;
}

export function decodeConfirm(json: JsonObject): Result<ConfirmFrame> {
  const { id, level, code } = json;
  const refused = firstProblem<ConfirmFrame>('confirm', {
    id: idProblem(id),
    level: oneOfProblem(level, RELAY_ACK_LEVELS),
    code: code === undefined ? undefined : oneOfProblem(code, CONFIRM_CODES),
  });
  if (refused !== undefined) return refused;
  const frame: ConfirmFrame = { type: 'confirm', id: id as string, level: level as RelayAckLevel };
  return ok(code === undefined ? frame : { ...frame, code: code as ConfirmCode });
}
