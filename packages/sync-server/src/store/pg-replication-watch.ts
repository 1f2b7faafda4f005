import type { Sql } from 'postgres';
import { lsnDistance } from './pg-replication-lsn.js';
import { formatSynchronousStandbyNames, type SynchronousSetting } from './pg-replication-setting.js';
import { readReplicationSetting } from './pg-replication-status.js';
import type { TimelineFence } from './pg-timeline-fence.js';
import type { StoreReplication } from './relay-store.js';

/**
 * The primary's replication as the relay reports it (`welcome.replication`, metrics), re-read
 * every `intervalMs` and whenever a barrier meets a synchronous setting other than the one last
 * read. With a standby to read from (`replica`), also how far that standby trails the primary.
 */
export class ReplicationWatch {
  #current: StoreReplication;
  #raw: string | undefined;
  #reading: Promise<void> | undefined;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly sql: Sql,
    private readonly fence: TimelineFence,
    private readonly replica: Sql | undefined,
    intervalMs: number,
    private readonly failed: (error: unknown) => void,
  ) {
    this.#current = { standbys: 0, quorum: 0, role: 'primary', timeline: fence.highest, lag: [] };
    this.#timer = setInterval(() => void this.refresh(), intervalMs).unref();
  }

  current(): StoreReplication {
    return { ...this.#current, timeline: this.fence.highest };
  }

  /** Reads the replication now (one read at a time; a call while one runs waits for it). */
  refresh(): Promise<void> {
    this.#reading ??= this.#read().finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  /** A barrier ran under `setting`: re-read when it is not the one last read. */
  settingSeen(setting: SynchronousSetting | null): void {
    const raw = setting === null ? '' : formatSynchronousStandbyNames(setting);
    if (this.#raw !== undefined && raw !== this.#raw) void this.refresh();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #read(): Promise<void> {
    try {
      const [status, replica] = await Promise.all([
        readReplicationSetting(this.sql),
        this.replica === undefined
          ? undefined
          : this.replica<{ replay: string | null; seconds: number | null }[]>`SELECT pg_last_wal_replay_lsn()::text AS replay,
              extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS seconds`.then((rows) => rows[0]),
      ]);
      this.#raw = status.setting === null ? '' : formatSynchronousStandbyNames(status.setting);
      const replicaLag =
        replica === undefined
          ? {}
          : {
              readReplicaLagBytes:
                replica.replay === null || status.currentLsn === null ? undefined : Math.max(0, lsnDistance(status.currentLsn, replica.replay)),
              readReplicaLagSeconds: replica.seconds ?? undefined,
            };
      this.#current = {
        standbys: status.n,
        quorum: status.k,
        role: 'primary',
        timeline: this.fence.highest,
        lag: status.standbys.map((standby) => ({
          name: standby.name,
          state: standby.state,
          bytes: standby.flushLagBytes,
          seconds: standby.replayLagMs === null ? (standby.flushLagBytes === 0 ? 0 : null) : standby.replayLagMs / 1000,
        })),
        ...replicaLag,
      };
    } catch (error) {
      this.failed(error);
    }
  }
}
