import type Database from 'better-sqlite3';
import type { ChainLink, PendingDoc } from './tx-writes.js';

/** Rows per multi-row statement: 64 docs are 320 bound values, far below SQLite's limit. */
const ROWS = 64;

/**
 * Writes a transaction's `docs` and `chain` rows with multi-row statements: one statement per
 * 64 rows instead of two statements per change.
 */
export class PendingWrites {
  readonly #upsertDoc;
  readonly #upsertDocs;
  readonly #insertChain;
  readonly #insertChains;

  constructor(db: Database.Database) {
    const upsert = (rows: number) =>
      db.prepare<unknown[]>(
        `INSERT INTO docs (collection, key, seq, state, hash) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (collection, key) DO UPDATE SET seq = excluded.seq, state = excluded.state, hash = excluded.hash`,
      );
    const chain = (rows: number) => db.prepare<unknown[]>(`INSERT INTO chain (collection, seq, hash) VALUES ${Array(rows).fill('(?, ?, ?)').join(', ')}`);
    this.#upsertDoc = upsert(1);
    this.#upsertDocs = upsert(ROWS);
    this.#insertChain = chain(1);
    this.#insertChains = chain(ROWS);
  }

  /** Writes the rows (inside the transaction, before it commits). */
  flush(docs: ReadonlyMap<string, ReadonlyMap<string, PendingDoc>>, chain: readonly ChainLink[]): void {
    const values: (string | number)[] = [];
    for (const [collection, byKey] of docs) {
      for (const [key, { seq, state, hash }] of byKey) {
        values.push(collection, key, seq, state, hash);
        if (values.length === 5 * ROWS) {
          this.#upsertDocs.run(values);
          values.length = 0;
        }
      }
    }
    for (let i = 0; i < values.length; i += 5) this.#upsertDoc.run(values.slice(i, i + 5));
    values.length = 0;
    for (const { collection, seq, hash } of chain) {
      values.push(collection, seq, hash);
      if (values.length === 3 * ROWS) {
        this.#insertChains.run(values);
        values.length = 0;
      }
    }
    for (let i = 0; i < values.length; i += 3) this.#insertChain.run(values.slice(i, i + 3));
  }
}
