// The two workloads of the peer benchmark (issue 7), the same data for every system.
//   W1 catch-up: replica A writes `records` records, then a fresh replica B catches up.
//   W2 concurrent offline edits: 2 replicas × `updates` updates to the same `keys` keys while
//   offline, then both connect; measured until both hold the same state.

/** A record as an app stores it: plain JSON, ~106 bytes (`JSON.stringify`). */
export interface RecordValue {
  readonly title: string;
  readonly done: boolean;
  readonly tags: readonly string[];
  readonly owner: string;
  readonly updatedAt: number;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** `key-00001` … : record keys, 1-based. */
export const recordKey = (i: number): string => `key-${pad(i, 5)}`;

export function recordValue(i: number): RecordValue {
  return { title: `Record ${pad(i, 5)}`, done: i % 3 === 0, tags: ['alpha', 'beta'], owner: `user-${pad(i % 1000, 3)}`, updatedAt: 1_767_225_600_000 + i };
}

/** The value replica `replica` (0 or 1) writes in its `update`-th W2 update (0-based). */
export function w2Value(replica: number, update: number): RecordValue {
  return {
    title: `Edit ${pad(update, 5)} by ${replica}`,
    done: update % 2 === 0,
    tags: ['alpha', 'beta'],
    owner: `user-${pad(replica, 3)}`,
    updatedAt: 1_767_225_600_000 + update,
  };
}

/** W2's keys: update `u` of either replica writes key `w2Key(u % keys)`. */
export const w2Key = (i: number): string => `key-${pad(i, 5)}`;

export interface W1Workload {
  readonly records: number;
}

export interface W2Workload {
  /** Updates per replica. */
  readonly updates: number;
  /** Distinct keys both replicas update. */
  readonly keys: number;
}

export const FULL_W1: W1Workload = { records: 10_000 };
export const FULL_W2: W2Workload = { updates: 1000, keys: 100 };

/** Bytes of the records' values as plain JSON: the floor for B's bytes on the wire. */
export function rawValueBytes(records: number): number {
  let bytes = 0;
  for (let i = 1; i <= records; i++) bytes += Buffer.byteLength(JSON.stringify(recordValue(i)));
  return bytes;
}

/** A cheap read of every field, as an app rendering a list would; returns a checksum. */
export function touch(value: unknown): number {
  const v = value as RecordValue;
  return v.title.length + (v.done ? 1 : 0) + v.tags.length + v.owner.length + (v.updatedAt % 1000);
}

/** The same checksum over the values written, for checking what B read. */
export function expectedChecksum(records: number): number {
  let sum = 0;
  for (let i = 1; i <= records; i++) sum += touch(recordValue(i));
  return sum;
}
