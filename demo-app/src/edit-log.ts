import type { WriteStatus } from '@converge/client';

/**
 * The writes a device made, as its outbox panel lists them: one row per user action (an edit
 * writes the three carts in one batch), with what the client cannot know — the label, what LWW
 * dropped, why a write was refused, what became of it then — kept in localStorage so a reload
 * still shows them. Where each write stands (local, relay, refused) is the client's word
 * (`writeStatus`, `watchOutbox`), held in memory only.
 */

export interface LoggedWrite {
  readonly writeId: string;
  readonly collection: string;
  /** A refused write the collection's `onReject` wrote again, or that the user discarded or retried. */
  readonly outcome?: WriteOutcome;
}

export type WriteOutcome = 'rebased' | 'discarded';

export interface EditRow {
  readonly id: string;
  readonly label: string;
  readonly at: number;
  readonly writes: readonly LoggedWrite[];
  /** Said under the row: why it was refused, what LWW dropped. */
  readonly note?: string;
}

/** What an outbox chip says: the client's status of the write, what became of it once refused, or `unknown` (gone from the client's history). */
export type ShownStatus = WriteStatus['status'] | WriteOutcome | 'unknown';

/** A row as the panel shows it: each write with its status. */
export interface OutboxRow extends EditRow {
  readonly writes: readonly (LoggedWrite & { readonly status: ShownStatus })[];
}

/** The part of `Storage` the log uses (localStorage in the browser). */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export class EditLog {
  private rows: EditRow[];
  private readonly statuses = new Map<string, WriteStatus['status']>();

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

  /** Newest first, each write with its status. */
  list(): OutboxRow[] {
    const status = (w: LoggedWrite): ShownStatus => w.outcome ?? this.statuses.get(w.writeId) ?? 'unknown';
    return this.rows.map((row) => ({ ...row, writes: row.writes.map((w) => ({ ...w, status: status(w) })) }));
  }

  /**
   * How many edits the pending writes (the client's outbox) make: a row counts once however many
   * of its writes wait; a write no row lists (older than the rows the log keeps) counts alone.
   */
  pendingEdits(pending: readonly string[]): number {
    const rows = new Set<EditRow>();
    let unlisted = 0;
    for (const writeId of pending) {
      const row = this.rows.find((r) => r.writes.some((w) => w.writeId === writeId));
      if (row === undefined) unlisted++;
      else rows.add(row);
    }
    return rows.size + unlisted;
  }

  writeIds(): string[] {
    return this.rows.flatMap((row) => row.writes.map((w) => w.writeId));
  }

  has(writeId: string): boolean {
    return this.rows.some((r) => r.writes.some((w) => w.writeId === writeId));
  }

  /** Adds a row of writes just made (`local`); one listed earlier for any of them (labelled from the outbox alone) gives way to it, keeping its note. */
  add(row: EditRow): void {
    const ids = new Set(row.writes.map((w) => w.writeId));
    for (const id of ids) if (!this.statuses.has(id)) this.statuses.set(id, 'local');
    const replaced = this.rows.filter((r) => r.writes.some((w) => ids.has(w.writeId)));
    const note = row.note ?? replaced.find((r) => r.note !== undefined)?.note;
    const kept = this.rows.filter((r) => !replaced.includes(r));
    this.rows = [note === undefined ? row : { ...row, note }, ...kept].slice(0, this.limit);
    this.save();
  }

  /**
   * Takes the client's statuses: those `watchOutbox` reports as they change, or (`recalled`)
   * those read once with `writeStatus` after a reload, which do not replace a status reported
   * since (undefined: a write the client no longer knows).
   */
  learn(statuses: readonly (WriteStatus | undefined)[], recalled = false): void {
    for (const s of statuses) if (s !== undefined && (!recalled || !this.statuses.has(s.writeId))) this.statuses.set(s.writeId, s.status);
  }

  /** Notes what became of refused writes (and why), on their rows. */
  mark(writeIds: readonly string[], outcome: WriteOutcome | undefined, note: string): void {
    const ids = new Set(writeIds);
    const rows = this.rows.map((row) => {
      if (!row.writes.some((w) => ids.has(w.writeId))) return row;
      const writes = outcome === undefined ? row.writes : row.writes.map((w) => (ids.has(w.writeId) ? { ...w, outcome } : w));
      return { ...row, writes, note };
    });
    if (rows.some((row, i) => row !== this.rows[i])) {
      this.rows = rows;
      this.save();
    }
  }

  private save(): void {
    try {
      this.store?.setItem(this.key, JSON.stringify(this.rows));
    } catch {
      // storage full or unavailable: the log lives in memory only
    }
  }
}
