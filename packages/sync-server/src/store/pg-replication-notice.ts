import { channel, type Channel } from 'node:diagnostics_channel';
import type { Notice, NoticeEvent, TransactionTrace } from 'postgres';

/**
 * When a backend's wait for synchronous replication is cancelled (a statement cancel,
 * `pg_cancel_backend()`, a client-side timeout that cancels), PostgreSQL has already committed
 * the transaction locally: COMMIT returns success, with only this WARNING on the connection:
 * "canceling wait for synchronous replication due to user request", detail "The transaction has
 * already committed locally, but might not have been replicated to the standby." The routine
 * that raises it, `SyncRepWaitForLSN`, is not translated (the messages are, under `lc_messages`),
 * so it is what identifies the notice, with the English text as a second way.
 */
export function isCancelledWaitNotice(notice: Notice): boolean {
  if (notice['routine'] === 'SyncRepWaitForLSN') return true;
  const text = `${notice['message'] ?? ''} ${notice['detail'] ?? ''}`;
  return /canceling (the )?wait for synchronous replication/i.test(text) || /already committed locally/i.test(text);
}

/**
 * The notices that arrive on one transaction's connection while it runs, commit included.
 * postgres.js hands notices to a pool-wide `onnotice`, which cannot tell which transaction a
 * notice belongs to; its diagnostics channels can: `postgres:transaction` starts synchronously
 * inside `sql.begin()` with a context that is given the connection's id once leased, and every
 * `postgres:notice` names the connection it came on. The first statement after `begin` is sent
 * on the leased connection, so by the time the commit's answer arrives the context knows it.
 */
export class TransactionNotices {
  readonly notices: Notice[] = [];
  #context: TransactionTrace | undefined;

  /** Runs `begin` (which must call `sql.begin` synchronously) and watches that transaction's connection until it settles. */
  static async watch<T>(begin: () => Promise<T>): Promise<{ readonly value: T; readonly notices: readonly Notice[] }> {
    subscribe();
    const watch = new TransactionNotices();
    claiming = watch;
    let promise: Promise<T>;
    try {
      promise = begin();
    } finally {
      claiming = undefined;
    }
    if (watch.#context === undefined) {
      await promise.catch(() => undefined);
      throw new Error('TransactionNotices.watch: no transaction started; pass the pool (a postgres() instance), not a transaction or reserved connection');
    }
    watching.add(watch);
    try {
      return { value: await promise, notices: watch.notices };
    } finally {
      watching.delete(watch);
    }
  }

  static hear(event: NoticeEvent): void {
    for (const watch of watching) {
      const context = watch.#context;
      // Connection ids count from 1 in each copy of postgres.js loaded: host and port tell two copies apart.
      if (context?.connection === event.connection && context.host === event.host && context.port === event.port) watch.notices.push(event.notice);
    }
  }

  static claim(context: TransactionTrace): void {
    if (claiming && claiming.#context === undefined) claiming.#context = context;
  }
}

let claiming: TransactionNotices | undefined;
const watching = new Set<TransactionNotices>();
let subscribed = false;

function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  (channel('tracing:postgres:transaction:start') as Channel).subscribe((message) => TransactionNotices.claim(message as TransactionTrace));
  (channel('postgres:notice') as Channel).subscribe((message) => TransactionNotices.hear(message as NoticeEvent));
}
