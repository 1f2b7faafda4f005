export { ConvergeError, ERROR_CODES, isErrorCode } from '@converge/protocol';
export type { ErrorCode } from '@converge/protocol';
export { createRelay } from './relay.js';
export type { AttachOptions, Relay, RelayState } from './relay.js';
export { resolveRelayOptions } from './relay-options.js';
export type { RateLimit, RelayOptions, RelaySettings, ResolvedRelayOptions, UpgradeVerdict } from './relay-options.js';
export { DEFAULT_LIMITS } from './relay-limits.js';
export type { RelayWrite } from './relay-write.js';
export { anonymousAuth, jwtAuth, authorizeByClaims } from './auth/auth.js';
export type { Access, Principal, RelayAuth, JwtAuthOptions } from './auth/auth.js';
export { wsConnection } from './session/connection.js';
export type { RelayConnection } from './session/connection.js';
export { CLOSE } from './session/connection.js';
export type { RelayMetrics } from './metrics.js';
export { checkRelayConfig, loadRelayConfig } from './relay-config.js';
export { SqliteStore } from './store/sqlite-store.js';
export type { SqliteStoreOptions, SqliteStoreInfo } from './store/sqlite-store.js';
export { PostgresStore } from './store/postgres-store.js';
export type { PostgresStoreOptions, PostgresStoreInfo } from './store/postgres-store.js';
export { MemoryStore } from './store/memory-store.js';
export type { MemoryStoreOptions } from './store/memory-store.js';
export { CHAIN_HASH_ZERO, chainHash } from './store/chain-hash.js';
export type {
  RelayStore,
  StoreTx,
  StoreReads,
  StoredDoc,
  LoggedDoc,
  LogPosition,
  Decision,
  DecisionRef,
  Prefetch,
  RemoteCommit,
  StoreStats,
  WriteHead,
  CollectionStats,
} from './store/relay-store.js';
