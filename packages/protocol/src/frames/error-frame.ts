import { ok, type ErrorCode, type Result } from '@converge/conflict';
import { WIRE_ERROR_CODES } from '../error-codes.js';
import { firstProblem, oneOfProblem, stringProblem, type JsonObject } from '../field-checks.js';
import { collectionNameProblem, idProblem } from '../names.js';
import { MAX_MESSAGE_LENGTH } from './ack.js';

/**
 * relay → client: a refusal that is not one change's result: a malformed frame, failed auth,
 * a refused subscription, a limit. `id` names the frame it answers when it had one;
 * `collection` names the subscription it concerns.
 *
 * @example
 * ```json
 * {"type":"error","code":"forbidden","message":"no read access to collection 'payroll'","collection":"payroll"}
 * ```
 */
export interface ErrorFrame {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly message: string;
  readonly id?: string;
  readonly collection?: string;
}

export function decodeError(json: JsonObject): Result<ErrorFrame> {
  const { code, message, id, collection } = json;
  const refused = firstProblem<ErrorFrame>('error', {
    code: oneOfProblem(code, WIRE_ERROR_CODES),
    message: stringProblem(message, 0, MAX_MESSAGE_LENGTH),
    id: id === undefined ? undefined : idProblem(id),
    collection: collection === undefined ? undefined : collectionNameProblem(collection),
  });
  if (refused !== undefined) return refused;
  let frame: ErrorFrame = { type: 'error', code: code as ErrorCode, message: message as string };
  if (id !== undefined) frame = { ...frame, id: id as string };
  if (collection !== undefined) frame = { ...frame, collection: collection as string };
  return ok(frame);
}
