import { replicaIdFromBytes, type ReplicaId } from '@converge/conflict';
import type { ReplicaRecord, StorageWriter } from '../storage/storage-adapter.js';
import { META } from './meta-keys.js';

/** A fresh replica id: 12 random bytes. */
export function newReplicaId(): ReplicaId {
  return replicaIdFromBytes(globalThis.crypto.getRandomValues(new Uint8Array(12)));
}

/** The replica record inside a write transaction, created when missing (memory follows only after the commit). */
export async function replicaRecord(tx: StorageWriter): Promise<ReplicaRecord> {
  let record = await tx.getMeta<ReplicaRecord>(META.replica);
  if (record === undefined) {
    record = { id: newReplicaId(), writeNumber: 0, retired: [] };
    tx.putMeta(META.replica, record);
  }
  return record;
}
