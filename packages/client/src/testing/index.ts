export { runStorageAdapterTests } from './run-storage-adapter-tests.js';
export { storageAdapterChecks } from './storage-adapter-checks.js';
export type { MakeStorage, StorageCheck } from './storage-adapter-checks.js';
