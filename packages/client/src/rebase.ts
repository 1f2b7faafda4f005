import { resolve } from '@converge/conflict';
import type { CollectionSpec } from './collection-spec.js';
import type { WriteRequest } from './replica/apply-write.js';
import { decodedState, strategyOf } from './replica/read-model.js';
import type { RejectedRecord } from './storage/storage-adapter.js';
import { decodeAppValue, encodeAppValue } from './values.js';
import { reportListenerError } from './listener-errors.js';

/**
 * A leader-follower write the relay refused (`conflict_rejected`), offered to the collection's
 * `onReject(attempted, current)`: the write of its answer over the current state, or undefined
 * (no hook, no answer, or a hook that threw — reported as a listener's error, the refusal stays listed).
 */
export function rebaseRequest(spec: CollectionSpec, record: RejectedRecord): WriteRequest | undefined {
  if (spec.onReject === undefined || record.code !== 'conflict_rejected' || record.write.kind !== 'put') return undefined;
  const attempted = decodeAppValue(record.write.value);
  const current = record.current === undefined ? undefined : resolve(decodedState(record.current), strategyOf(spec)).value;
  let rebased: unknown;
  try {
    rebased = spec.onReject(attempted, current);
  } catch (error) {
    reportListenerError(error);
    return undefined;
  }
  if (rebased === undefined) return undefined;
  return { collection: record.collection, key: record.key, ack: 'local', kind: 'put', value: encodeAppValue(rebased), read: 'stored' };
}
