import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe } from 'vitest';
import type { RelayStore } from '../store/relay-store.js';
import { logTests } from './log-tests.js';
import { persistenceTests } from './persistence-tests.js';
import { chainTests, identityTests, recordTests } from './record-tests.js';
import type { StoreHarness } from './store-fixtures.js';
import { transactionTests } from './transaction-tests.js';

export interface RelayStoreSuiteOptions {
  /**
   * For stores kept in a file: opens the store at `path`, creating it when missing (the
   * directory exists). Enables the reopen, wipe and backup tests. Without it, the suite
   * expects `backup` to reject with a `ConvergeError`.
   */
  readonly openFile?: (path: string) => RelayStore;
}

/**
 * The `RelayStore` contract as a vitest suite: seqs and the log, prefix scans, atomic
 * transactions, the chain hash, leader decisions, write numbers, meta, stats, argument checks,
 * `close()`, and — with `openFile` — reopening, wiping and backups. Every store the suite
 * opens is closed after each test; its files live in a temporary directory removed at the end.
 *
 * @example
 * ```ts
 * import { runRelayStoreTests } from '@converge/sync-server/testing';
 * runRelayStoreTests('MemoryStore', () => new MemoryStore());
 * runRelayStoreTests('SqliteStore', () => new SqliteStore(':memory:'), { openFile: (path) => new SqliteStore(path) });
 * ```
 */
export function runRelayStoreTests(name: string, makeStore: () => RelayStore, options: RelayStoreSuiteOptions = {}): void {
  describe(`RelayStore contract: ${name}`, () => {
    const opened: RelayStore[] = [];
    let root: string | undefined;
    let paths = 0;
    const track = (store: RelayStore): RelayStore => {
      opened.push(store);
      return store;
    };
    const openFile = options.openFile;
    const harness: StoreHarness = {
      make: () => track(makeStore()),
      openFile: openFile === undefined ? undefined : (path) => track(openFile(path)),
      tempPath: (file) => {
        root ??= mkdtempSync(join(tmpdir(), 'converge-store-'));
        const dir = join(root, String(++paths));
        mkdirSync(dir);
        return join(dir, file);
      },
    };

    afterEach(() => {
      for (const store of opened.splice(0)) store.close();
    });
    afterAll(() => {
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
    });

    identityTests(harness);
    logTests(harness);
    transactionTests(harness);
    chainTests(harness);
    recordTests(harness);
    persistenceTests(harness);
  });
}
