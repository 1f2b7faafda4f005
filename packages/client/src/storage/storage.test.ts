import 'fake-indexeddb/auto';
import { runStorageAdapterTests } from '../testing/run-storage-adapter-tests.js';
import { openIndexedDbStorage } from './idb-storage.js';
import { createMemoryStorage } from './memory-storage.js';

runStorageAdapterTests('memory', async (name) => createMemoryStorage(name));
runStorageAdapterTests('indexeddb (fake-indexeddb)', (name) => openIndexedDbStorage(name));
