export { runRelayStoreTests } from './relay-store-tests.js';
export type { RelayStoreSuiteOptions } from './relay-store-tests.js';
export { ProtocolClient } from './protocol-client.js';
export type { ProtocolClientOptions } from './protocol-client.js';
export { startTestRelay } from './test-relay.js';
export type { TestRelay } from './test-relay.js';
export { memoryConnectionPair } from './memory-connection.js';
export type { MemoryClientEnd } from './memory-connection.js';
