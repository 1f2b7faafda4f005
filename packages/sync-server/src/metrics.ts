import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PushOutcome } from './push.js';
import type { RelayStore } from './store/relay-store.js';

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
