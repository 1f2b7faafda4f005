import { fail, ok, type Result } from '@converge/conflict';
import { firstProblem, isJsonObject, safeIntegerProblem } from './field-checks.js';
import { idProblem } from './names.js';

/**
 * A position in a relay's log for one subscription: the log's `lineage`, a `seq`, the chain
 * hash of the log at that seq, and the relay's MAC over the three. Only the relay that issued
 * it can check `hash` and `mac` (HMAC with a key from its configuration); the protocol checks
 * the shape. A client stores it as it came, per log id (lineage, collection, filter).
 */
export interface Cursor {
  readonly lineage: string;
  readonly seq: number;
  readonly hash: string;
  readonly mac: string;
}

const DIGEST = /^[A-Za-z0-9+/=_-]{1,256}$/;

/** Why `value` is not a digest (`hash`, `mac`): 1 to 256 characters of hex, base64 or base64url. */
function digestProblem(value: unknown): string | undefined {
  return typeof value === 'string' && DIGEST.test(value) ? undefined : 'must be 1 to 256 characters of hex, base64 or base64url';
}

/** Validates an untrusted cursor's shape; returns a fresh object holding only its four fields. */
export function decodeCursor(json: unknown, path: string): Result<Cursor> {
  if (!isJsonObject(json)) return fail(path, 'cursor must be {lineage, seq, hash, mac}');
  const { lineage, seq, hash, mac } = json;
  const refused = firstProblem<Cursor>(path, {
    lineage: idProblem(lineage),
    seq: safeIntegerProblem(seq, 0),
    hash: digestProblem(hash),
    mac: digestProblem(mac),
  });
  return refused ?? ok({ lineage: lineage as string, seq: seq as number, hash: hash as string, mac: mac as string });
}
