/**
 * @converge/client — an offline-first replica in IndexedDB that syncs with a Converge relay.
 * README "Client" is the guide; docs/CLIENT.md the storage layout, sync state machine and
 * multi-tab protocol.
 */
export { ConvergeError, AckTimeoutError, QuorumUnavailableError } from '@converge/conflict';
export type { ErrorCode, Hlc, Dot, ReplicaId } from '@converge/conflict';

export { createClient, Client } from './client.js';
export type { ClientOptions } from './client-options.js';
export type { PendingWrite, RejectedWrite, BatchWriter, BatchCollection, WriteReceipt } from './client-types.js';
export type { ClientEvents, WrittenEvent, ConflictEvent, RejectedEvent } from './client-events.js';
export { Collection } from './collection.js';
export type { ScanOptions } from './collection.js';
export type { WriteOptions } from './request-builder.js';
export { merge } from './collection-spec.js';
export type { CollectionOptions, MergeStrategy, CrdtStrategyName } from './collection-spec.js';
export type { Doc, Conflict, Version, Inspection, InspectedSibling } from './replica/read-model.js';
export type { CrdtOp } from './replica/apply-write.js';
export type { CrdtEntry } from './replica/crdt-entries.js';
export type { WatchEvent, WatchTarget } from './watchers.js';
export { StatusStore } from './status.js';
export type { ClientStatus, ConnectionState } from './status.js';
export type { StorageChoice } from './open-storage.js';
export { exportToText, exportToBlob } from './transfer/export-source.js';
export type { ExportSource } from './transfer/export-source.js';
export type { ImportSummary } from './transfer/data-transfer.js';

export type {
  StorageAdapter,
  StorageReader,
  StorageWriter,
  WriteOptions as StorageWriteOptions,
  DocRecord,
  OutboxEntry,
  RejectedRecord,
  ReplicaRecord,
  WriteIntent,
  WriteStatus,
  MetaValue,
  ScanOptions as StorageScanOptions,
} from './storage/storage-adapter.js';
export { IndexedDbStorage, openIndexedDbStorage } from './storage/idb-storage.js';
export { MemoryStorage, MemoryDatabase, createMemoryStorage } from './storage/memory-storage.js';

export type { Transport, TransportConnection, TransportHandlers } from './sync/transport.js';
export { webSocketTransport } from './sync/websocket-transport.js';
export type { WebSocketConstructor, WebSocketLike } from './sync/websocket-transport.js';
export { memoryTransport } from './sync/memory-transport.js';
export type { MemoryEndpoint } from './sync/memory-transport.js';
export type { BackoffOptions } from './sync/backoff.js';
export type { TabOptions, LockManagerLike, BroadcastChannelLike, LifecycleTarget } from './tabs/tab-coordinator.js';
