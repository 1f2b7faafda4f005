import { ConvergeError } from '@converge/conflict';
import { openIndexedDbStorage } from './storage/idb-storage.js';
import type { StorageAdapter } from './storage/storage-adapter.js';

/**
 * A memory storage, loaded when first asked for: an app on IndexedDB ships the memory adapter
 * as a chunk of its own, fetched only if it chooses memory or IndexedDB fails.
 */
export async function memoryStorage(name?: string): Promise<StorageAdapter> {
  const { createMemoryStorage } = await import('./storage/memory-storage.js');
  return createMemoryStorage(name);
}

/** `indexeddb` (the default), `memory`, or an adapter of your own. */
export type StorageChoice = 'indexeddb' | 'memory' | StorageAdapter;

/**
 * Opens the client's storage. When IndexedDB cannot be opened (unavailable, private mode, a
 * broken profile) the client works in memory and says so once: `failure` is that error.
 */
export async function openStorage(name: string, choice: StorageChoice = 'indexeddb'): Promise<{ storage: StorageAdapter; failure?: ConvergeError }> {
  if (typeof choice === 'object') return { storage: choice };
  if (choice === 'memory') return { storage: await memoryStorage(name) };
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
    return { storage: await memoryStorage(), failure };
  }
}
