/**
 * The writes a device made, as its outbox panel lists them: one row per user action (an edit
 * writes the three carts in one batch), each write with its status climbing local → relay, or
 * refused. Kept in localStorage so a reload still shows which writes are pending.
 */

export type WriteStatus = 'local' | 'relay' | 'refused' | 'rebased' | 'discarded';

export interface LoggedWrite {
  readonly writeId: string;
  readonly collection: string;
  readonly status: WriteStatus;
}

export interface EditRow {
  readonly id: string;
  readonly label: string;
  readonly at: number;
  readonly writes: readonly LoggedWrite[];
  /** Said under the row: why it was refused, what LWW dropped. */
  readonly note?: string;
}

/** The part of `Storage` the log uses (localStorage in the browser). */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const ORDER: Readonly<Record<WriteStatus, number>> = { local: 0, relay: 1, refused: 2, rebased: 3, discarded: 3 };

export class EditLog {
  private rows: EditRow[];

  constructor(
    private readonly key: string,
    private readonly store: KeyValue | undefined,
    private readonly limit = 30,
  ) {
    let saved: EditRow[] = [];
    try {
      saved = JSON.parse(store?.getItem(key) ?? '[]') as EditRow[];
    } catch {
      saved = [];
    }
    this.rows = Array.isArray(saved) ? saved : [];
  }

  /** Newest first. */
  list(): readonly EditRow[] {
    return this.rows;
  }

  has(writeId: string): boolean {
    return this.rows.some((r) => r.writes.some((w) => w.writeId === writeId));
  }

  add(row: EditRow): void {
    this.rows = [row, ...this.rows].slice(0, this.limit);
    this.save();
  }

  /** Moves writes forward (a status never goes back: a late `relay` cannot undo `refused`). */
  mark(writeIds: readonly string[], status: WriteStatus, note?: string): void {
    const ids = new Set(writeIds);
    let changed = false;
    this.rows = this.rows.map((row) => {
      if (!row.writes.some((w) => ids.has(w.writeId))) return row;
      const writes = row.writes.map((w) => (ids.has(w.writeId) && ORDER[status] > ORDER[w.status] ? { ...w, status } : w));
      changed = true;
      return { ...row, writes, ...(note === undefined ? {} : { note }) };
    });
    if (changed) this.save();
  }

  /** Writes still `local` that left the outbox were acknowledged by the relay (possibly in another tab or before a reload). */
  settle(inOutbox: ReadonlySet<string>, refused: ReadonlySet<string>): void {
    const gone = this.rows.flatMap((r) => r.writes).filter((w) => w.status === 'local' && !inOutbox.has(w.writeId));
    this.mark(
      gone.filter((w) => !refused.has(w.writeId)).map((w) => w.writeId),
      'relay',
    );
    this.mark(
      gone.filter((w) => refused.has(w.writeId)).map((w) => w.writeId),
      'refused',
    );
  }

  private save(): void {
    try {
      this.store?.setItem(this.key, JSON.stringify(this.rows));
    } catch {
      // storage full or unavailable: the log lives in memory only
    }
  }
}
