import { ConvergeError } from '@converge/conflict';
import { openIndexedDbStorage } from './storage/idb-storage.js';
import { createMemoryStorage } from './storage/memory-storage.js';
import type { StorageAdapter } from './storage/storage-adapter.js';

/** `indexeddb` (the default), `memory`, or an adapter of your own. */
export type StorageChoice = 'indexeddb' | 'memory' | StorageAdapter;

/**
 * Opens the client's storage. When IndexedDB cannot be opened (unavailable, private mode, a
 * broken profile) the client works in memory and says so once: `failure` is that error.
 */
export async function openStorage(name: string, choice: StorageChoice = 'indexeddb'): Promise<{ storage: StorageAdapter; failure?: ConvergeError }> {
  if (typeof choice === 'object') return { storage: choice };
  if (choice === 'memory') return { storage: createMemoryStorage(name) };
  try {
    return { storage: await openIndexedDbStorage(name) };
  } catch (error) {
    const failure = new ConvergeError(
      'storage_unavailable',
      `IndexedDB could not be opened (${(error as Error).message}); working in memory: nothing survives a reload`,
      {
        cause: error,
      },
    );
    return { storage: createMemoryStorage(), failure };
  }
}
