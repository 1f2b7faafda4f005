import { MemoryTables } from './memory-tables.js';

let tables: (db: MemoryDatabase) => MemoryTables;

/** The tables of a memory database (for the memory adapter's own modules). */
export function tablesOf(db: MemoryDatabase): MemoryTables {
  return tables(db);
}

/**
 * One in-memory database. Open several `createMemoryStorage(db)` handles on it to model tabs
 * sharing a database; `snapshot` and `restore` model a backup of a browser profile and its
 * restore (identity-loss scenarios).
 */
export class MemoryDatabase {
  readonly #tables = new MemoryTables();

  constructor(readonly name = 'converge') {}

  static {
    tables = (db) => db.#tables;
  }

  /** A copy of everything, as a new database (a "backup"). */
  snapshot(name = this.name): MemoryDatabase {
    const copy = new MemoryDatabase(name);
    copy.#tables.copyFrom(this.#tables);
    return copy;
  }

  /**
   * Replaces everything with the contents of `backup` (a `snapshot`): a restored backup. Close
   * the handles on this database first, as a browser is closed before its profile is restored.
   */
  restore(backup: MemoryDatabase): void {
    this.#tables.copyFrom(backup.#tables);
  }
}
