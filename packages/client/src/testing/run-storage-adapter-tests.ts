import { describe, it } from 'vitest';
import { storageAdapterChecks, type MakeStorage } from './storage-adapter-checks.js';

let databases = 0;

/**
 * Registers the StorageAdapter conformance suite with vitest. `make(name)` opens a handle on
 * database `name`; each check gets a fresh name.
 *
 * @example
 * ```ts
 * // in a *.test.ts file:
 * runStorageAdapterTests('memory', async (name) => createMemoryStorage(name));
 * ```
 */
export function runStorageAdapterTests(label: string, make: MakeStorage): void {
  describe(`StorageAdapter contract: ${label}`, () => {
    for (const check of storageAdapterChecks) {
      it(check.name, () => check.run(make, `conformance-${label}-${++databases}-${Date.now()}`));
    }
  });
}
