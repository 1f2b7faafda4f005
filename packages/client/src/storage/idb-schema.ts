import type { DBSchema, IDBPDatabase } from 'idb';
import type { DocRecord, MetaValue, OutboxEntry, RejectedRecord } from './storage-adapter.js';

/** The IndexedDB layout of a client database (docs/CLIENT.md, "Storage layout"). */
export interface ConvergeDB extends DBSchema {
  /** One record per document, keyed by [collection, key]. */
  docs: { key: [string, string]; value: DocRecord };
  /** Pending writes in order (auto-increment id), indexed by document. */
  outbox: { key: number; value: OutboxEntry & { readonly id: number }; indexes: { byDoc: [string, string] } };
  /** Writes the relay refused for good, by write id, until the app retries or discards them. */
  rejected: { key: string; value: RejectedRecord };
  /** Replica identity and write number, counter floors, cursors, relay limits (out-of-line string keys). */
  meta: { key: string; value: MetaValue };
}

export const STORES = ['docs', 'outbox', 'rejected', 'meta'] as const;

/** The schema version `openDB` asks for; each version's step is in `upgradeSchema`. */
export const SCHEMA_VERSION = 2;

/** Runs inside `openDB`'s upgrade callback: one step per version, from `oldVersion` up. */
export function upgradeSchema(db: IDBPDatabase<ConvergeDB>, oldVersion: number): void {
  if (oldVersion < 1) {
    db.createObjectStore('docs', { keyPath: ['collection', 'key'] });
    const outbox = db.createObjectStore('outbox', { keyPath: 'id', autoIncrement: true });
    outbox.createIndex('byDoc', ['collection', 'key']);
    db.createObjectStore('rejected', { keyPath: 'writeId' });
    db.createObjectStore('meta');
  }
  // Version 2 keeps the outbox's size in meta (`pending`, counted once where it is absent): no
  // store changes, but the upgrade closes the connections of tabs running code that does not
  // keep it, so no write leaves the count behind.
}
