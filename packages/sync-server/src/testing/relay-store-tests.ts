import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe } from 'vitest';
import type { RelayStore } from '../store/relay-store.js';
import { logTests } from './log-tests.js';
import { persistenceTests } from './persistence-tests.js';
import { chainTests, identityTests, recordTests } from './record-tests.js';
import type { StoreHarness } from './store-fixtures.js';
import { transactionTests } from './transaction-tests.js';

export interface RelayStoreSuiteOptions {
  /**
   * For stores that keep data: opens the store kept at `path` (for SQLite, a file in a
   * directory that exists), creating it when missing. Enables the reopen and wipe tests.
   */
  readonly openFile?: (path: string) => RelayStore | Promise<RelayStore>;
  /**
   * Deletes everything kept at `path` (its store is closed). Default: removes the path's
   * directory and makes it again (a file-backed store).
   */
  readonly wipe?: (path: string) => void | Promise<void>;
  /**
   * Whether `backup` makes copies that `openFile` opens. Default: true when `openFile` is
   * given. Without it, the suite expects `backup` to reject with a `ConvergeError`.
   */
  readonly backups?: boolean;
}

/**
 * The `RelayStore` contract as a vitest suite: seqs and the log, prefix scans, atomic and
 * isolated transactions, the chain hash, leader decisions, write numbers, meta, stats,
 * argument checks, `close()`, and — with `openFile` — reopening, wiping and backups. Every
 * store the suite opens is closed after each test; its files live in a temporary directory
 * removed at the end.
 *
 * @example
 * ```ts
 * import { runRelayStoreTests } from '@converge/sync-server/testing';
 * runRelayStoreTests('MemoryStore', () => new MemoryStore());
 * runRelayStoreTests('SqliteStore', () => new SqliteStore(':memory:'), { openFile: (path) => new SqliteStore(path) });
 * ```
 */
export function runRelayStoreTests(name: string, makeStore: () => RelayStore | Promise<RelayStore>, options: RelayStoreSuiteOptions = {}): void {
  describe(`RelayStore contract: ${name}`, () => {
    const opened: RelayStore[] = [];
    let root: string | undefined;
    let paths = 0;
    const track = async (making: RelayStore | Promise<RelayStore>): Promise<RelayStore> => {
      const store = await making;
      opened.push(store);
      return store;
    };
    const openFile = options.openFile;
    const harness: StoreHarness = {
      make: () => track(makeStore()),
      openFile: openFile === undefined ? undefined : (path) => track(openFile(path)),
      wipe: async (path) => {
        if (options.wipe !== undefined) return options.wipe(path);
        rmSync(dirname(path), { recursive: true, force: true });
        mkdirSync(dirname(path));
      },
      backups: options.backups ?? openFile !== undefined,
      tempPath: (file) => {
        root ??= mkdtempSync(join(tmpdir(), 'converge-store-'));
        const dir = join(root, String(++paths));
        mkdirSync(dir);
        return join(dir, file);
      },
    };

    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
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
