import type { Sql } from 'postgres';
import type { LevelProgress } from './relay-store.js';
import { allFlushed } from './pg-replication-all.js';
import { commitAt } from './pg-replication-commit.js';
import type { Lsn } from './pg-replication-lsn.js';
import { readReplicationSetting, type ReplicationStatus } from './pg-replication-status.js';
import type { SynchronousSetting } from './pg-replication-setting.js';
import { admitNode, timelineOfWalfile, type NodeRow, type TimelineFence } from './pg-timeline-fence.js';

/** One caller waiting for its commits to reach a level. */
interface Waiter {
  readonly level: 'quorum' | 'all';
  /** The timeline its commits were made on: a confirmation on another timeline says nothing of them. */
  readonly timeline: number;
  readonly progress: (progress: LevelProgress) => void;
  /** Past its commits once the barrier that confirmed `quorum` committed (`all` waits for every standby to flush it). */
  lsn?: Lsn;
  stopped: boolean;
}

/** What a barrier confirmed. */
interface Barrier {
  readonly reached: 'relay' | 'quorum';
  readonly shortfall: string | null;
  readonly setting: SynchronousSetting | null;
  readonly lsn: Lsn;
  readonly timeline: number;
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2_000;
const ALL_POLL_MIN_MS = 2;
const ALL_POLL_MAX_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Confirms the store's commits at `quorum` and `all` after they committed at
 * `synchronous_commit = local` (acknowledged at `relay` at once, so a `relay` push never waits
 * on a standby, and the per-collection lock is held for a local flush only).
 *
 * `quorum`: a **sync barrier**, a tiny transaction at `synchronous_commit = on` that writes
 * one row (its store's in `meta`: a transaction that writes no WAL skips the synchronous wait,
 * even with a transaction id), so its commit record lies in the WAL after every commit made
 * before it started, and PostgreSQL's own `ANY k` / `FIRST k` wait for it covers
 * them all (standbys flush WAL in order). One barrier serves every caller waiting when it
 * starts; barriers run back to back. A barrier's wait is never cancelled (its transaction
 * turns `statement_timeout` off, and the pool has no client-side timeout); a barrier that
 * PostgreSQL reports as not confirmed (a cancelled wait's WARNING, a setting cleared under it)
 * confirms nothing and the next one tries again; no synchronous setting is final
 * (`unavailable`). A barrier runs behind the same timeline fence as the writes, and confirms
 * only callers whose commits were made on its timeline: after a failover the earlier commits
 * are `unavailable` beyond `relay` (they may be lost).
 *
 * `all`: then every standby the primary lists as streaming has flushed past the barrier's
 * commit, and every configured standby streams (`allFlushed`): one poll of
 * `pg_stat_replication` serves every caller, repeated while any waits.
 */
export class LevelConfirmer {
  #waiting: Waiter[] = [];
  readonly #forAll = new Set<Waiter>();
  #barriers: Promise<void> | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly sql: Sql,
    private readonly fence: TimelineFence,
    /** The `meta` row this store's barriers write (bytes of its name). */
    private readonly barrierRow: Buffer,
    private readonly hooks: {
      /** The timeline of the commits a caller asks about (the last commit made). */
      readonly committedOn: () => number;
      /** A barrier saw a synchronous setting other than the one last read. */
      readonly settingSeen: (setting: SynchronousSetting | null) => void;
      readonly failed: (error: unknown) => void;
    },
  ) {}

  confirm(level: 'quorum' | 'all', progress: (progress: LevelProgress) => void): () => void {
    const waiter: Waiter = { level, timeline: this.hooks.committedOn(), progress, stopped: false };
    this.#waiting.push(waiter);
    this.#barriers ??= this.#runBarriers().finally(() => (this.#barriers = undefined));
    return () => {
      waiter.stopped = true;
      this.#forAll.delete(waiter);
    };
  }

  /** Stops: waiters hear nothing more. */
  close(): void {
    this.#closed = true;
    for (const waiter of [...this.#waiting, ...this.#forAll]) waiter.stopped = true;
    this.#waiting = [];
    this.#forAll.clear();
  }

  /** Awaits what runs now (tests, close). */
  async settled(): Promise<void> {
    await Promise.all([this.#barriers, this.#polling]);
  }

  async #runBarriers(): Promise<void> {
    let retryMs = RETRY_MIN_MS;
    while (!this.#closed) {
      const batch = this.#waiting.filter((waiter) => !waiter.stopped);
      this.#waiting = [];
      if (batch.length === 0) return;
      let barrier: Barrier;
      try {
        barrier = await this.#barrier();
        retryMs = RETRY_MIN_MS;
      } catch (error) {
        // The primary is gone, fenced or refused: the commits stay where they were; try again
        // (on whichever node the pool reaches next) and judge them by its timeline.
        this.hooks.failed(error);
        this.#waiting.unshift(...batch);
        await sleep(retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        continue;
      }
      this.hooks.settingSeen(barrier.setting);
      for (const waiter of batch) this.#judge(waiter, barrier);
    }
  }

  #judge(waiter: Waiter, barrier: Barrier): void {
    if (waiter.stopped) return;
    if (barrier.timeline !== waiter.timeline) {
      waiter.stopped = true;
      waiter.progress({ level: 'relay', final: true, unavailable: true });
      return;
    }
    if (barrier.reached !== 'quorum') {
      if (barrier.shortfall === 'no_synchronous_standby') {
        waiter.stopped = true;
        waiter.progress({ level: 'relay', final: true, unavailable: true });
      } else this.#waiting.push(waiter); // a cancelled wait or a setting changed under it: the next barrier decides
      return;
    }
    waiter.progress({ level: 'quorum', final: waiter.level === 'quorum' });
    if (waiter.level === 'quorum') {
      waiter.stopped = true;
      return;
    }
    waiter.lsn = barrier.lsn;
    this.#forAll.add(waiter);
    this.#polling ??= this.#pollAll().finally(() => (this.#polling = undefined));
  }

  /**
   * One barrier on the pool: its own transaction at `synchronous_commit = on`, behind the fence.
   * Its statements go out together (one round trip after BEGIN): the node's timeline, and the
   * row write behind a savepoint. The write is sent before the fence has judged the node, but
   * COMMIT only after: on a fenced node the connection is dropped and nothing commits. The
   * savepoint lets the drop run on a node in recovery too, where the write fails (read-only).
   */
  async #barrier(): Promise<Barrier> {
    let timeline = 0;
    const commit = await commitAt(this.sql, 'on', async (tx) => {
      const node = tx<NodeRow[]>`SELECT set_config('statement_timeout', '0', true),
        CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END AS walfile,
        coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port') AS node`.execute();
      // A transaction id alone is not enough: PostgreSQL skips the synchronous wait of a commit
      // whose transaction wrote no WAL of its own. One row per store, so barriers of two relays
      // never wait on each other's row lock (held through the wait).
      const savepoint = tx.unsafe('SAVEPOINT barrier_fence').execute();
      const write = tx`INSERT INTO meta (name, value) VALUES (${this.barrierRow}, ${Buffer.from(String(Date.now()))})
        ON CONFLICT (name) DO UPDATE SET value = excluded.value`.execute();
      for (const statement of [node, savepoint, write]) statement.catch(() => undefined);
      const [row] = await node;
      await savepoint;
      const written = await write.then(
        () => true,
        () => false,
      );
      // The write failed (a node in recovery refuses it): back to the savepoint, so the fence can drop the connection.
      if (!written && timelineOfWalfile(row!.walfile) === undefined) await tx.unsafe('ROLLBACK TO SAVEPOINT barrier_fence').catch(() => undefined);
      timeline = await admitNode(tx, this.fence, row!);
      await write;
    });
    return { reached: commit.reached, shortfall: commit.shortfall, setting: commit.setting, lsn: commit.lsn, timeline };
  }

  async #pollAll(): Promise<void> {
    let interval = ALL_POLL_MIN_MS;
    while (this.#forAll.size > 0 && !this.#closed) {
      let status: ReplicationStatus;
      let timeline: number | undefined;
      try {
        // Both reads on one connection (one node), sent together: one round trip.
        const reserved = await this.sql.reserve();
        try {
          const [read, [row]] = await Promise.all([
            readReplicationSetting(reserved),
            reserved<{ walfile: string | null }[]>`SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END AS walfile`,
          ]);
          [status, timeline] = [read, timelineOfWalfile(row!.walfile)];
        } finally {
          reserved.release();
        }
      } catch (error) {
        this.hooks.failed(error);
        await sleep(RETRY_MAX_MS);
        continue;
      }
      for (const waiter of [...this.#forAll]) {
        if (waiter.stopped) continue;
        const all = allFlushed(status, waiter.lsn!);
        if (timeline !== waiter.timeline || all.unavailable) {
          this.#forAll.delete(waiter);
          waiter.stopped = true;
          waiter.progress({ level: 'quorum', final: true, unavailable: true });
        } else if (all.reached) {
          this.#forAll.delete(waiter);
          waiter.stopped = true;
          waiter.progress({ level: 'all', final: true });
        }
      }
      if (this.#forAll.size === 0) return;
      await sleep(interval);
      interval = Math.min(interval * 2, ALL_POLL_MAX_MS);
    }
  }
}
