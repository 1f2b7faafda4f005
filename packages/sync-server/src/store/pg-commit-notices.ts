import type { Sql } from 'postgres';
import type { RemoteCommit } from './relay-store.js';

/** A notice's payload above this is sent without the collection (listeners then check every head). */
const NOTIFY_MAX = 7900;

/** Where one store's commits are announced (`pg_notify` in the committing transaction). */
export interface CommitNotice {
  readonly channel: string;
  /** This store's random id: a listener skips its own store's notices. */
  readonly instance: string;
}

/** What one commit announces: per collection its new head. */
export function noticePayload(instance: string, collection: string, seq: number): string {
  const payload = JSON.stringify({ i: instance, c: collection, s: seq });
  return Buffer.byteLength(payload) <= NOTIFY_MAX ? payload : JSON.stringify({ i: instance, s: seq });
}

function parseNotice(payload: string): { instance: string; commit: RemoteCommit } | undefined {
  try {
    const { i, c, s } = JSON.parse(payload) as { i?: unknown; c?: unknown; s?: unknown };
    if (typeof i !== 'string' || typeof s !== 'number') return undefined;
    return { instance: i, commit: { collection: typeof c === 'string' ? c : undefined, seq: s } };
  } catch {
    return undefined;
  }
}

/**
 * The commit notices of the other stores on the same schema, heard on one connection of their
 * own (re-established by the client) and passed to every listener; after every (re)connect the
 * listeners hear `undefined`, since notices sent meanwhile are lost. `shown`, when reads go to
 * a standby (which cannot LISTEN), delays a notice until the standby shows its commit.
 */
export class CommitNotices {
  readonly #sql: Sql;
  readonly #notice: CommitNotice;
  readonly #shown: ((collection: string, seq: number) => Promise<unknown>) | undefined;
  readonly #listeners = new Set<(commit: RemoteCommit | undefined) => void>();
  #listening: Promise<{ unlisten(): Promise<void> } | undefined> | undefined;

  constructor(sql: Sql, notice: CommitNotice, shown?: (collection: string, seq: number) => Promise<unknown>) {
    this.#sql = sql;
    this.#notice = notice;
    this.#shown = shown;
  }

  watch(listener: (commit: RemoteCommit | undefined) => void): () => void {
    this.#listeners.add(listener);
    this.#listening ??= this.#sql
      .listen(
        this.#notice.channel,
        (payload) => {
          const notice = parseNotice(payload);
          if (notice === undefined || notice.instance === this.#notice.instance) return;
          const tell = () => {
            for (const each of this.#listeners) each(notice.commit);
          };
          const { collection, seq } = notice.commit;
          if (this.#shown === undefined || collection === undefined) tell();
          else void this.#shown(collection, seq).then(tell, tell);
        },
        () => {
          for (const each of this.#listeners) each(undefined);
        },
      )
      .then(
        (request) => request,
        () => undefined,
      );
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stops listening (the connection returns to the pool). */
  async stop(): Promise<void> {
    const listening = await this.#listening;
    await listening?.unlisten().catch(() => undefined);
  }
}
