import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PushOutcome } from './push.js';
import { NO_REPLICATION, type RelayStore } from './store/relay-store.js';

/** The relay's Prometheus metrics, in a registry of its own (several relays can share a process). */
export class RelayMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({ name: 'converge_connections', help: 'Open client connections', registers: [this.registry] });
  readonly framesIn = new Counter({ name: 'converge_frames_in_total', help: 'Frames received, by type', labelNames: ['type'], registers: [this.registry] });
  readonly framesOut = new Counter({ name: 'converge_frames_out_total', help: 'Frames sent, by type', labelNames: ['type'], registers: [this.registry] });
  readonly changes = new Counter({
    name: 'converge_changes_total',
    help: 'Pushed changes, by collection and result (accepted, rejected)',
    labelNames: ['collection', 'result'],
    registers: [this.registry],
  });
  readonly rejects = new Counter({
    name: 'converge_rejects_total',
    help: 'Refused writes and closed sessions, by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly siblingsCreated = new Counter({
    name: 'converge_siblings_created_total',
    help: 'Changes that left a key with more than one live sibling',
    registers: [this.registry],
  });
  readonly siblingWarnings = new Counter({
    name: 'converge_sibling_warnings_total',
    help: 'Changes that left a key at or above the sibling warning level (25)',
    registers: [this.registry],
  });
  readonly recoveryRepairs = new Counter({
    name: 'converge_recovery_repairs_total',
    help: "Re-pushed states accepted with other replicas' unseen dots inside a recovery window",
    registers: [this.registry],
  });
  readonly recoveryWindowOpens = new Counter({
    name: 'converge_recovery_window_opens_total',
    help: 'Times a recovery window was opened, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly ackLatency = new Histogram({
    name: 'converge_ack_latency_seconds',
    help: 'Time from receiving a push to sending its ack (after commit)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly confirmLatency = new Histogram({
    name: 'converge_confirm_latency_seconds',
    help: 'Time from the ack of a push that asked for quorum or all to the confirm of each higher level, by level',
    labelNames: ['level'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly confirmOutcomes = new Counter({
    name: 'converge_confirm_outcomes_total',
    help: 'Pushes that asked for quorum or all, by level asked and outcome (confirmed, late: after an ack_timeout, timeout, unavailable)',
    labelNames: ['wanted', 'outcome'],
    registers: [this.registry],
  });
  readonly catchupDuration = new Histogram({
    name: 'converge_catchup_duration_seconds',
    help: 'Time to stream a subscription from its cursor to the head',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });

  /** Changes accepted since the relay started (the summary line's rate). */
  private accepted = 0;

  constructor(store: RelayStore) {
    // Node's own metrics: converge_process_cpu_user_seconds_total, converge_nodejs_heap_size_used_bytes, …
    collectDefaultMetrics({ register: this.registry, prefix: 'converge_' });
    new Gauge({
      name: 'converge_store_bytes',
      help: 'Size of the relay store',
      registers: [this.registry],
      async collect() {
        if (!store.closed) this.set((await store.stats()).bytes);
      },
    });
    new Gauge({
      name: 'converge_store_keys',
      help: 'Keys held, by collection',
      labelNames: ['collection'],
      registers: [this.registry],
      async collect() {
        if (store.closed) return;
        for (const c of (await store.stats()).collections) this.set({ collection: c.name }, c.keys);
      },
    });
    const replication = () => store.replication?.() ?? NO_REPLICATION;
    new Gauge({
      name: 'converge_replication_standbys',
      help: "Database standbys the relay's store names for synchronous replication (N; 0: none, quorum and all unavailable)",
      registers: [this.registry],
      collect() {
        this.set(replication().standbys);
      },
    });
    new Gauge({
      name: 'converge_replication_quorum',
      help: 'Standbys that must confirm a write for quorum (k of ANY k / FIRST k; 0: none)',
      registers: [this.registry],
      collect() {
        this.set(replication().quorum);
      },
    });
    new Gauge({
      name: 'converge_replication_lag_bytes',
      help: 'WAL bytes the primary wrote that each standby has not flushed; standby="read-replica": the standby this relay reads from, by replay',
      labelNames: ['standby'],
      registers: [this.registry],
      collect() {
        this.reset();
        const current = replication();
        for (const standby of current.lag) if (standby.bytes !== null) this.set({ standby: standby.name }, standby.bytes);
        if (current.readReplicaLagBytes !== undefined) this.set({ standby: 'read-replica' }, current.readReplicaLagBytes);
      },
    });
    new Gauge({
      name: 'converge_replication_lag_seconds',
      help: 'Each standby\'s replay lag as PostgreSQL measures it, seconds; standby="read-replica": since the last transaction the relay\'s read standby replayed',
      labelNames: ['standby'],
      registers: [this.registry],
      collect() {
        this.reset();
        const current = replication();
        for (const standby of current.lag) if (standby.seconds !== null) this.set({ standby: standby.name }, standby.seconds);
        if (current.readReplicaLagSeconds !== undefined) this.set({ standby: 'read-replica' }, current.readReplicaLagSeconds);
      },
    });
    new Gauge({
      name: 'converge_database_role',
      help: 'The role of the database the relay writes to (1 for the role it has: primary, or embedded for SQLite and memory)',
      labelNames: ['role'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.set({ role: replication().role }, 1);
      },
    });
    new Gauge({
      name: 'converge_database_timeline',
      help: 'The PostgreSQL timeline the relay writes on: the highest it has seen (0 for embedded stores)',
      registers: [this.registry],
      collect() {
        this.set(replication().timeline ?? 0);
      },
    });
    new Gauge({
      name: 'converge_log_head',
      help: 'Head seq of each collection log',
      labelNames: ['collection'],
      registers: [this.registry],
      async collect() {
        if (store.closed) return;
        for (const c of (await store.stats()).collections) this.set({ collection: c.name }, c.seq);
      },
    });
  }

  /** Changes accepted since the relay started. */
  acceptedChanges(): number {
    return this.accepted;
  }

  /**
   * Counts a committed push: its changes by collection and result (one counter update per run
   * of a collection's accepted changes, not per change), its refusals by code, the keys it left
   * with siblings, and the repairs it made inside a recovery window.
   */
  record({ results, counts }: PushOutcome): void {
    let accepted = 0;
    let collection: string | undefined;
    const flush = () => {
      if (accepted > 0) this.changes.inc({ collection: collection!, result: 'accepted' }, accepted);
      this.accepted += accepted;
      accepted = 0;
    };
    for (const result of results) {
      if (result.collection !== collection) flush();
      collection = result.collection;
      if (result.status === 'accepted') accepted++;
      else {
        this.changes.inc({ collection, result: result.status });
        this.rejects.inc({ code: result.code });
      }
    }
    flush();
    if (counts.siblingsCreated > 0) this.siblingsCreated.inc(counts.siblingsCreated);
    if (counts.siblingWarnings > 0) this.siblingWarnings.inc(counts.siblingWarnings);
    if (counts.repairs > 0) this.recoveryRepairs.inc(counts.repairs);
  }
}
