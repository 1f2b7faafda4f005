import type { AckLevel } from '@converge/protocol';
import type { PendingWrite, RejectedWrite, WriteReceipt } from './client-types.js';
import type { WriteRequest } from './replica/apply-write.js';
import type { OutboxEntry, RejectedRecord } from './storage/storage-adapter.js';
import { decodeAppValue } from './values.js';

/** An outbox entry as the app sees it. */
export function pendingWriteOf(e: OutboxEntry): PendingWrite {
  return {
    writeId: e.writeId,
    collection: e.collection,
    key: e.key,
    status: 'local',
    ack: e.ack,
    kind: e.write.kind,
    ...(e.write.kind === 'put' ? { value: decodeAppValue(e.write.value) } : {}),
    ...(e.write.kind === 'op' ? { op: e.write.op } : {}),
    createdAt: e.createdAt,
    skewed: e.skewed === true,
  };
}

/** A refused write written again as a new write over the current state. */
function retryRequest(r: RejectedRecord, ack: AckLevel): WriteRequest {
  const base = { collection: r.collection, key: r.key, ack };
  const write = r.write;
  if (write.kind === 'op') return { ...base, kind: 'op', op: write.op };
  return write.kind === 'put' ? { ...base, kind: 'put', value: write.value, read: 'stored' } : { ...base, kind: 'delete', read: 'stored' };
}

/** A rejected record as the app sees it, with its `retry` and `discard`. */
export function rejectedWriteOf(
  r: RejectedRecord,
  actions: { retry(request: WriteRequest, ack: AckLevel): Promise<WriteReceipt>; discard(): Promise<void> },
): RejectedWrite {
  const write = r.write;
  return {
    writeId: r.writeId,
    collection: r.collection,
    key: r.key,
    status: 'rejected',
    code: r.code,
    message: r.message,
    kind: write.kind,
    ...(write.kind === 'put' ? { value: decodeAppValue(write.value) } : {}),
    ...(write.kind === 'op' ? { op: write.op } : {}),
    at: r.at,
    retry: (options = {}) => actions.retry(retryRequest(r, options.ack ?? 'local'), options.ack ?? 'local'),
    discard: () => actions.discard(),
  };
}
