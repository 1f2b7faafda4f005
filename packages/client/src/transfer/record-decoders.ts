import { decodeContext } from '@converge/conflict';
import { ACK_LEVELS, COLLECTION_MODES, jsonShapeProblem, MAX_VALUE_DEPTH, stateFromJson, wireValueProblem } from '@converge/protocol';
import { by, decoded, int, object, oneOf, opt, refuse, shape, str, type Check } from '../json-schema.js';
import { CHAIN, CODE, KEY, NAME, REPLICA, WRITE_ID } from '../replica/export-meta.js';

/**
 * The checks of an export's record lines (`doc`, `pending`, `rejected`): states with every
 * DocState invariant (`stateFromJson`; a line is level 1, its state level 2), contexts, names —
 * as the wire's decoders check them.
 */

const STATE = decoded((v, path) => stateFromJson(v, path, 2));
const CONTEXT = decoded(decodeContext);

const INTENT: Check = (value, path) => {
  const kind = oneOf(['put', 'delete', 'op'])(object(value, path)['kind'], `${path}.kind`);
  if (kind !== 'op') return shape({ kind: str, ...(kind === 'put' ? { value: by(wireValueProblem) } : {}), readContext: CONTEXT })(value, path);
  return shape({
    kind: str,
    op: (op, at) => {
      str(object(op, at)['type'], `${at}.type`);
      const problem = jsonShapeProblem(op, MAX_VALUE_DEPTH, at);
      return problem === undefined ? op : refuse(problem.path, problem.message);
    },
  })(value, path);
};

export const DOC = shape({ collection: NAME, key: KEY, state: STATE, base: opt(STATE), seq: int(), floor: opt(int()) });

export const PENDING = shape({
  writeId: WRITE_ID,
  collection: NAME,
  key: KEY,
  mode: oneOf(COLLECTION_MODES),
  replica: REPLICA,
  writeNumber: int(1),
  chain: opt(CHAIN),
  delta: (v, path) => {
    const delta = STATE(v, path) as { siblings: unknown[] };
    return delta.siblings.length > 0 ? delta : refuse(path, 'a pending write carries its own sibling');
  },
  write: INTENT,
  ack: oneOf(ACK_LEVELS),
  createdAt: int(),
  skewed: opt(oneOf([true])),
});

export const REJECTED = shape({ writeId: WRITE_ID, collection: NAME, key: KEY, write: INTENT, code: CODE, message: str, current: opt(STATE), at: int() });
